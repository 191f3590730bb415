"""`/ssp qa`: the SENDCo's quality assurance of plans written or changed by case holders, and
the case holder's "Send for quality assurance" button in the plan form. Senior leaders see the
same list, read only (how long each plan has waited, how often it was returned); deciding is the
SENDCo's alone, however the button or form was reached."""

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
from models import Plan, School

ONLY_SENDCO = "Quality assurance is for the SENDCo."
ONLY_SENDCO_DECIDES = (
    "Quality assurance is for the SENDCo: only they approve or return plans. What is waiting "
    "is in `/ssp qa`."
)
SENDCO_AND_SENIOR_LEADERS = (
    "Quality assurance is for the SENDCo; senior leaders can see what is waiting for it."
)
TITLE = "Quality assurance"
SHOWN = 45  # plans listed: inside Slack's 50 blocks a message


def register(app: App) -> None:
    sendco_only = [requires(lambda viewer: viewer.is_sendco, ONLY_SENDCO)]
    # A senior leader's list has no Review buttons; one reached another way decides nothing.
    decides = [requires(lambda viewer: viewer.is_sendco, ONLY_SENDCO_DECIDES)]
    app.action("ssp_qa_open", middleware=decides)(open_review)
    app.action("ssp_qa_list", middleware=sendco_only)(list_from_summary)
    app.view("ssp_qa_decide", middleware=decides)(save_decision)
    app.action("plan_submit_qa")(send_for_qa)  # the service checks it is the plan's writer


def qa_command(ask: Ask) -> dict:
    return _listing(ask.runtime, ask.viewer)


def list_from_summary(ack: Ack, respond: Respond, runtime: Runtime, viewer: Viewer) -> None:
    """ "Open /ssp qa" on the SENDCo's daily summary: the list, as `/ssp qa` answers, seen only
    by them (the summary stays as it was)."""
    ack()
    respond(replace_original=False, **_listing(runtime, viewer))


def _listing(runtime: Runtime, viewer: Viewer) -> dict:
    """The plans waiting for quality assurance. The SENDCo's has a Review button beside each;
    a senior leader's is the same list to read (the quality loop, watched), with none."""
    with runtime.unit_of_work() as session:
        school = session.get(School, viewer.school_id)
        queued = qa.queue(session, viewer.school_id, runtime.today(school.timezone))
        audit.record_shown(
            session,
            viewer,
            via="/ssp qa",
            now=runtime.now(),
            what="plans awaiting quality assurance",
            pupils=[(q.waiting.plan_id, q.waiting.pupil_id) for q in queued[:SHOWN]],
            count=0,
        )
    decides = viewer.is_sendco
    returned = sum(1 for q in queued if q.returned)
    longest = queued[0] if queued else None
    return message(
        "qa_list.json.j2",
        summary=f"{plural(len(queued), 'plan')} awaiting quality assurance",
        about=(
            f"{plural(len(queued), 'plan')}, longest waiting first"
            + (f" (the longest for {_waited(longest)})" if longest else "")
            + (
                f"; {plural(returned, 'plan has', 'plans have')} been returned for changes before"
                if returned
                else ""
            )
            + ". "
            + (
                "*Review* shows an automatic check against the guidance, then approve or "
                "return with comments."
                if decides
                else "Read only: the SENDCo approves or returns each plan."
            )
            + (f" Showing the first {SHOWN}." if len(queued) > SHOWN else "")
        ),
        plans=[
            (
                joined(
                    pupil_line(q.waiting.pupil_name, q.waiting.year_group),
                    "case holder "
                    + (escape_mrkdwn(q.waiting.case_holder) if q.waiting.case_holder else "none"),
                )
                + f"\nwaiting {_waited(q)}, since {uk_date(q.waiting.waiting_since.date())}"
                + f" · {_returned(q.returned)}",
                q.waiting.plan_id,
            )
            for q in queued[:SHOWN]
        ],
        can_decide=decides,
    )


def _waited(queued: qa.QueuedPlan) -> str:
    """ "4 school days (6 days)", or "less than a school day" for a plan sent today."""
    if queued.days == 0:
        return "less than a day"
    school = plural(queued.school_days, "school day")
    return (
        school if queued.school_days == queued.days else f"{school} ({plural(queued.days, 'day')})"
    )


def _returned(times: int) -> str:
    if times == 0:
        return "not returned before"
    return "returned once before" if times == 1 else f"returned {times} times before"


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
            Usage(
                "`/ssp qa` — plans waiting for quality assurance: how long, and how often each "
                "was returned (read only)",
                lambda viewer: viewer.sees_whole_school and not viewer.is_sendco,
            ),
        ),
        allowed=lambda viewer: viewer.sees_whole_school,
        refusal=SENDCO_AND_SENIOR_LEADERS,
        takes_words=False,
    ),
)
