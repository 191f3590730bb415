"""`/ssp qa`: the SENDCo's quality assurance of plans written or changed by case holders, and
the case holder's "Send for quality assurance" button in the plan form."""

from __future__ import annotations

import json
from datetime import date

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.access import Viewer
from bot.errors import UserError
from bot.render import escape_mrkdwn, render_json, uk_date
from bot.services import audit, qa, quality
from handlers.context import Ask, Runtime, Subcommand, Usage
from handlers.presenters import joined, plural, pupil_line
from handlers.toolkit import (
    as_int,
    done_modal,
    message,
    meta_of,
    open_modal,
    requires,
    selected_value,
    text_value,
)
from models import Plan

ONLY_SENDCO = "Quality assurance is for the SENDCo."
TITLE = "Quality assurance"
SHOWN = 45  # plans listed: inside Slack's 50 blocks a message


def register(app: App) -> None:
    sendco_only = [requires(lambda viewer: viewer.is_sendco, ONLY_SENDCO)]
    app.action("ssp_qa_open", middleware=sendco_only)(open_review)
    app.action("ssp_qa_list", middleware=sendco_only)(list_from_summary)
    app.view("ssp_qa_decide", middleware=sendco_only)(save_decision)
    app.action("plan_submit_qa")(send_for_qa)  # the service checks it is the plan's writer


def qa_command(ask: Ask) -> dict:
    return _listing(ask.runtime, ask.viewer)


def list_from_summary(ack: Ack, respond: Respond, runtime: Runtime, viewer: Viewer) -> None:
    """ "Open /ssp qa" on the SENDCo's daily summary: the list, as `/ssp qa` answers, seen only
    by them (the summary stays as it was)."""
    ack()
    respond(replace_original=False, **_listing(runtime, viewer))


def _listing(runtime: Runtime, viewer: Viewer) -> dict:
    with runtime.unit_of_work() as session:
        plans = qa.awaiting(session, viewer.school_id)
        audit.record_shown(
            session,
            viewer,
            via="/ssp qa",
            now=runtime.now(),
            what="plans awaiting quality assurance",
            pupils=[(p.plan_id, p.pupil_id) for p in plans[:SHOWN]],
            count=0,
        )
    return message(
        "qa_list.json.j2",
        summary=f"{len(plans)} plans awaiting quality assurance",
        about=(
            f"{plural(len(plans), 'plan')}, longest waiting first. "
            "*Review* shows an automatic check against the guidance, then approve or return "
            "with comments."
        ),
        plans=[
            (
                joined(
                    pupil_line(p.pupil_name, p.year_group),
                    f"case holder {escape_mrkdwn(p.case_holder) if p.case_holder else 'none'}",
                )
                + f"\nwaiting since {uk_date(p.waiting_since.date())}",
                p.plan_id,
            )
            for p in plans[:SHOWN]
        ],
    )


def open_review(
    ack: Ack,
    action: dict,
    body: dict,
    client: WebClient,
    runtime: Runtime,
    viewer: Viewer,
    today: date,
) -> None:
    """ "Review" beside a plan in `/ssp qa`: the automatic check, and the decision form."""
    plan_id = as_int(action.get("value"))
    with runtime.unit_of_work() as session:
        report = quality.check_plan_in_db(session, viewer.school_id, plan_id, today)
        plan = session.scalar(
            select(Plan)
            .where(Plan.id == plan_id, Plan.school_id == viewer.school_id)
            .options(selectinload(Plan.pupil), selectinload(Plan.case_holder))
        )
        if report is None or plan is None:
            audit.record_refusal(
                session, viewer, via="/ssp qa", now=runtime.now(), detail="review refused"
            )
            view = None
        else:
            view = _review_form(session, runtime, viewer, plan, report)
    # Raised once the unit of work is over: the refusal stays on the audit log.
    if view is None:
        raise UserError("That plan can't be found.")
    open_modal(client, body["trigger_id"], view, "the plan's review")
    ack()  # last: a refusal raised before it is answered by toolkit.answer_error


def _review_form(
    session: Session, runtime: Runtime, viewer: Viewer, plan: Plan, report: quality.QualityReport
) -> dict:
    """The decision form for a plan the SENDCo may review; its opening is audited as a read."""
    audit.record_by(
        session,
        viewer,
        action="read",
        via="/ssp qa",
        now=runtime.now(),
        plan=plan,
        detail="quality assurance review",
    )
    holder = plan.case_holder
    return render_json(
        "qa_modal.json.j2",
        pupil_name=plan.pupil.known_as,
        about=joined(
            f"Plan {plan.cycle_number}",
            f"case holder {escape_mrkdwn(holder.display_name) if holder else 'none'}",
            report.summary(),
        ),
        checks=[_check(check) for check in report.checks],
        meta=json.dumps({"plan_id": plan.id, "version": plan.version}),
    )


def save_decision(
    ack: Ack, view: dict, client: WebClient, runtime: Runtime, viewer: Viewer, today: date
) -> None:
    values = view["state"]["values"]
    decision = selected_value(values, "decision")
    comments = text_value(values, "comments")
    if decision not in ("approve", "return"):
        raise UserError("Please approve or return the plan.", block_id="decision")
    if decision == "return" and not comments:
        raise UserError("Say what needs to change, so the case holder knows.", block_id="comments")
    meta = meta_of(view)
    with runtime.unit_of_work() as session:
        plan = qa.decide(
            session,
            viewer,
            plan_id=meta.get("plan_id"),
            expected_version=meta.get("version"),
            approve=decision == "approve",
            comments=comments,
            now=runtime.now(),
            today=today,
        )
        name = escape_mrkdwn(plan.pupil.known_as)  # the notice below is mrkdwn
    ack(
        response_action="update",
        view=done_modal(
            TITLE,
            f"{name}'s plan is approved and now active."
            if decision == "approve"
            else f"{name}'s plan has gone back to its case holder with your comments.",
        ),
    )
    runtime.deliver_soon(client)


def send_for_qa(ack: Ack, body: dict, client: WebClient, runtime: Runtime, viewer: Viewer) -> None:
    """The case holder's "Send for quality assurance" button in the plan form."""
    meta = meta_of(body["view"])
    with runtime.unit_of_work() as session:
        qa.submit_for_qa(
            session,
            viewer,
            plan_id=meta.get("plan_id"),
            expected_version=meta.get("version"),
            now=runtime.now(),
        )
    open_modal(
        client,
        body["trigger_id"],
        done_modal(TITLE, "Sent to the SENDCo for quality assurance."),
        push=True,
    )
    ack()  # last, as above


def _check(check: quality.Check) -> str:
    mark = ":white_check_mark:" if check.passed else ":warning:"
    problems = "".join(f"\n• {escape_mrkdwn(problem)}" for problem in check.problems[:8])
    return f"{mark} *{check.title}*{problems}"


# --- /ssp subcommands answered here -----------------------------------------------------------

SUBCOMMANDS = (
    Subcommand(
        "qa",
        qa_command,
        help=(
            Usage(
                "`/ssp qa` — plans awaiting quality assurance, with an automatic check against "
                "the guidance; approve or return with comments",
                lambda viewer: viewer.is_sendco,
            ),
        ),
        allowed=lambda viewer: viewer.is_sendco,
        refusal=ONLY_SENDCO,
        takes_words=False,
    ),
)
