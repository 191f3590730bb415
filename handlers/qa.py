"""`/ssp qa`: the SENDCo's quality assurance of plans written or changed by case holders."""

from __future__ import annotations

import json

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.access import Viewer
from bot.errors import UserError
from bot.render import render_json
from bot.services import audit, qa, quality
from bot.services.plans import PlanChanged
from handlers.context import Runtime, Subcommand, Usage, runtime_of, school_timezone, viewer_of
from models import Plan

ONLY_SENDCO = "Quality assurance is for the SENDCo."


def register(app: App) -> None:
    app.action("ssp_qa_open")(open_review)
    app.view("ssp_qa_decide")(save_decision)
    app.action("plan_submit_qa")(send_for_qa)


def qa_command(runtime: Runtime, viewer: Viewer) -> dict:
    if not viewer.is_sendco:
        return _notice(ONLY_SENDCO)
    with runtime.unit_of_work() as session:
        plans = qa.awaiting(session, viewer.school_id)
    return {"response_type": "ephemeral", **render_json("qa_list.json.j2", plans=plans)}


def open_review(
    ack: Ack, action: dict, body: dict, client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    runtime, viewer = runtime_of(context), viewer_of(context)
    if not viewer.is_sendco or not action["value"].isdigit():
        respond(**_notice(ONLY_SENDCO))
        return
    today = runtime.today(school_timezone(context))
    with runtime.unit_of_work() as session:
        report = quality.check_plan_in_db(session, viewer.school_id, int(action["value"]), today)
        plan = session.scalar(
            select(Plan)
            .where(Plan.id == int(action["value"]), Plan.school_id == viewer.school_id)
            .options(selectinload(Plan.pupil), selectinload(Plan.case_holder))
        )
        if report is None or plan is None:
            respond(**_notice("That plan can't be found."))
            return
        audit.record(
            session,
            action="read",
            via="/ssp qa",
            now=runtime.now(),
            school_id=viewer.school_id,
            staff_id=viewer.staff_id,
            plan=plan,
            detail="quality assurance review",
        )
        view = render_json(
            "qa_modal.json.j2",
            plan=plan,
            pupil_name=plan.pupil.known_as,
            report=report,
            meta=json.dumps({"plan_id": plan.id, "version": plan.version}),
        )
    client.views_open(trigger_id=body["trigger_id"], view=view)


def save_decision(ack: Ack, view: dict, context: BoltContext, client: WebClient) -> None:
    runtime, viewer = runtime_of(context), viewer_of(context)
    values = view["state"]["values"]
    decision = (
        ((values.get("decision") or {}).get("value") or {}).get("selected_option") or {}
    ).get("value")
    comments = ((values.get("comments") or {}).get("value") or {}).get("value")
    if decision not in ("approve", "return"):
        ack(response_action="errors", errors={"decision": "Please approve or return the plan."})
        return
    if decision == "return" and not (comments or "").strip():
        ack(
            response_action="errors",
            errors={"comments": "Say what needs to change, so the case holder knows."},
        )
        return
    meta = json.loads(view.get("private_metadata") or "{}")
    try:
        with runtime.unit_of_work() as session:
            plan = qa.decide(
                session,
                viewer,
                plan_id=meta.get("plan_id"),
                expected_version=meta.get("version"),
                approve=decision == "approve",
                comments=comments,
                now=runtime.now(),
                today=runtime.today(school_timezone(context)),
            )
            name = plan.pupil.known_as
    except (PlanChanged, UserError) as refusal:
        ack(response_action="update", view=_notice_modal(str(refusal)))
        return
    runtime.deliver_soon(client)
    ack(
        response_action="update",
        view=_notice_modal(
            f"{name}'s plan is approved and now active."
            if decision == "approve"
            else f"{name}'s plan has gone back to its case holder with your comments."
        ),
    )


def send_for_qa(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    """The case holder's "Send for quality assurance" button in the plan modal."""
    ack()
    runtime, viewer = runtime_of(context), viewer_of(context)
    meta = json.loads(body["view"].get("private_metadata") or "{}")
    try:
        with runtime.unit_of_work() as session:
            qa.submit_for_qa(
                session,
                viewer,
                plan_id=meta.get("plan_id"),
                expected_version=meta.get("version"),
                now=runtime.now(),
            )
            text = "Sent to the SENDCo for quality assurance."
    except (PlanChanged, UserError) as refusal:
        text = str(refusal)
    client.views_push(trigger_id=body["trigger_id"], view=_notice_modal(text))


def _notice_modal(text: str) -> dict:
    return render_json(
        "plan_notice_modal.json.j2",
        title="Quality assurance",
        paragraphs=[text],
        reload=False,
        meta="{}",
    )


def _notice(text: str) -> dict:
    return {"response_type": "ephemeral", **render_json("notice.json.j2", text=text)}


# --- /ssp subcommands answered here -----------------------------------------------------------

SUBCOMMANDS = (
    Subcommand(
        "qa",
        lambda ask: qa_command(ask.runtime, ask.viewer),
        help=(
            Usage(
                "`/ssp qa` — plans awaiting quality assurance, with an automatic check against "
                "the guidance; approve or return with comments",
                lambda viewer: viewer.is_sendco,
            ),
        ),
        takes_words=False,
    ),
)
