"""Teachers' monitoring feedback: one-click answers in the message, details in a modal,
`/ssp feedback` to ask now and `/ssp monitoring` for the school's picture."""

from __future__ import annotations

import json
import logging
import re

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.access import Viewer
from bot.errors import UserError
from bot.render import render_json
from bot.services import monitoring
from handlers import toolkit as forms
from handlers.context import Runtime, Subcommand, Usage, runtime_of, viewer_of
from handlers.messages import monitoring_message
from handlers.slack_api import staff_for_slack_user
from models import Impact, School, StrategiesInPlace

log = logging.getLogger(__name__)

MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
WHOLE_SCHOOL_ONLY = (
    "`/ssp monitoring` is for the SENDCo and senior leaders. Case holders see their pupils' "
    "feedback in `/ssp pupil` and in the review notes."
)
LIST_LIMIT = 15


def register(app: App) -> None:
    app.action("monitoring_strategies")(answer_in_message)
    app.action("monitoring_impact")(answer_in_message)
    app.action("monitoring_not_taught")(not_taught)
    app.action("monitoring_open")(open_modal)
    app.view("monitoring_answer")(save_modal)
    app.action("monitoring_ask")(ask_from_button)


# --- /ssp feedback and /ssp monitoring --------------------------------------------------------


def feedback_command(
    runtime: Runtime, client: WebClient, viewer: Viewer, rest: list[str], respond: Respond
) -> None:
    from handlers.reviews import _one_pupil

    mention = MENTION.match(rest[-1]) if rest else None
    query = " ".join(rest[:-1] if mention else rest)
    if not query:
        respond(
            **forms.notice(
                "Say which pupil: `/ssp feedback <UPN or name>` asks all their teachers; add "
                "`@teacher` to ask one."
            )
        )
        return
    pupil_id = _one_pupil(runtime, viewer, query, "monitoring_ask", "Ask", respond)
    if pupil_id is None:
        return
    try:
        with runtime.unit_of_work() as session:
            teacher_id = None
            if mention:
                teacher = staff_for_slack_user(session, client, viewer.school_id, mention.group(1))
                if teacher is None:
                    raise UserError("I can't find that person on your school's staff list.")
                teacher_id = teacher.id
            name, asked = monitoring.request_now(
                session, viewer, pupil_id=pupil_id, teacher_id=teacher_id, now=runtime.now()
            )
    except UserError as refusal:
        respond(**forms.notice(str(refusal)))
        return
    runtime.deliver_soon(client)
    respond(
        **forms.notice(
            f"Asked {len(asked)} teacher(s) for feedback on {name}'s plan: {', '.join(asked)}. "
            "Their answers will be in the review notes and in `/ssp pupil`."
        )
    )


def ask_from_button(
    ack: Ack, action: dict, client: WebClient, context: BoltContext, respond: Respond
) -> None:
    """A pupil chosen from the list `/ssp feedback` offered when several matched."""
    ack()
    runtime, viewer = runtime_of(context), viewer_of(context)
    try:
        with runtime.unit_of_work() as session:
            name, asked = monitoring.request_now(
                session,
                viewer,
                pupil_id=forms.as_int(action.get("value")),
                teacher_id=None,
                now=runtime.now(),
            )
    except UserError as refusal:
        respond(**forms.notice(str(refusal)))
        return
    runtime.deliver_soon(client)
    respond(
        **forms.notice(
            f"Asked {len(asked)} teacher(s) for feedback on {name}'s plan: {', '.join(asked)}."
        )
    )


def monitoring_command(runtime: Runtime, viewer: Viewer) -> dict:
    if not viewer.sees_whole_school:
        return forms.notice(WHOLE_SCHOOL_ONLY)
    with runtime.unit_of_work() as session:
        summary = monitoring.school_monitoring(session, viewer.school_id)
    return {
        "response_type": "ephemeral",
        **render_json("monitoring_school.json.j2", m=summary, limit=LIST_LIMIT),
    }


# --- the teacher's answers ------------------------------------------------------------------


def answer_in_message(ack: Ack, action: dict, context: BoltContext, respond: Respond) -> None:
    ack()
    runtime, viewer = runtime_of(context), viewer_of(context)
    request_id, _, value = ((action.get("selected_option") or {}).get("value") or "").partition(":")
    choice: dict = {}
    try:
        if action["action_id"] == "monitoring_strategies":
            choice["strategies"] = StrategiesInPlace(value)
        else:
            choice["impact"] = Impact(value)
    except ValueError:
        respond(**forms.notice("That answer wasn't one I know; please choose again."))
        return
    try:
        with runtime.unit_of_work() as session:
            request = monitoring.answer(
                session, viewer, forms.as_int(request_id), now=runtime.now(), **choice
            )
            name = request.plan.pupil.known_as
        notice = f":white_check_mark: Saved for {name}. Thank you."
    except UserError as refusal:
        notice = str(refusal)
    _refresh(runtime, viewer, respond, notice)


def not_taught(ack: Ack, action: dict, context: BoltContext, respond: Respond) -> None:
    ack()
    runtime, viewer = runtime_of(context), viewer_of(context)
    try:
        with runtime.unit_of_work() as session:
            name = monitoring.not_teaching(
                session, viewer, forms.as_int(action.get("value")), runtime.now()
            )
        notice = f"Removed {name}. The SENDCo will check the class list. Thank you for saying."
    except UserError as refusal:
        notice = str(refusal)
    _refresh(runtime, viewer, respond, notice)


def open_modal(
    ack: Ack, action: dict, body: dict, client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    runtime, viewer = runtime_of(context), viewer_of(context)
    try:
        with runtime.unit_of_work() as session:
            request, shown = monitoring.request_for_modal(
                session, viewer, forms.as_int(action.get("value")), runtime.now()
            )
            current = {
                "strategies": request.strategies.value if request.strategies else None,
                "impact": request.impact.value if request.impact else None,
                "comment": request.comment,
                "evidence": request.evidence,
                "to_change": request.to_change,
            }
            request_id = request.id
    except UserError as refusal:
        respond(**forms.notice(str(refusal)))
        return
    container = body.get("container") or {}
    meta = {
        "request_id": request_id,
        "channel": container.get("channel_id"),
        "ts": container.get("message_ts"),
    }
    view = render_json("monitoring_modal.json.j2", **shown, current=current, meta=json.dumps(meta))
    try:
        client.views_open(trigger_id=body["trigger_id"], view=view)
    except SlackApiError as error:
        log.warning("opening the monitoring modal failed: %s", error.response.get("error"))
        respond(**forms.notice("Slack wouldn't open the form just then. Please try again."))


def save_modal(ack: Ack, view: dict, context: BoltContext, client: WebClient) -> None:
    runtime, viewer = runtime_of(context), viewer_of(context)
    values = view["state"]["values"]
    strategies = _choice(values, "strategies", StrategiesInPlace)
    impact = _choice(values, "impact", Impact)
    notes = {name: forms.text_value(values, name) for name in ("comment", "evidence", "to_change")}
    errors = {}
    if impact == Impact.CONCERN and not notes["comment"]:
        errors["comment"] = "Say what concerns you, so the case holder can act on it."
    if strategies is None and impact is None and not any(notes.values()):
        errors["strategies"] = "Choose an answer, or write a comment."
    if errors:
        ack(response_action="errors", errors=errors)
        return
    meta = forms.meta_of(view)
    try:
        with runtime.unit_of_work() as session:
            request = monitoring.answer(
                session,
                viewer,
                forms.as_int(meta.get("request_id")),
                now=runtime.now(),
                strategies=strategies,
                impact=impact,
                notes=notes,
            )
            name = request.plan.pupil.known_as
        text = (
            f"Thank you: your feedback on {name}'s plan is saved. "
            "You can change it until the review."
        )
    except UserError as refusal:
        text = str(refusal)
    ack(
        response_action="update",
        view=render_json(
            "plan_notice_modal.json.j2",
            title="Monitoring",
            paragraphs=[text],
            reload=False,
            meta="{}",
        ),
    )
    if meta.get("channel") and meta.get("ts"):
        _update_message(runtime, viewer, client, meta["channel"], meta["ts"])


# --- helpers --------------------------------------------------------------------------------


def _refresh(runtime: Runtime, viewer: Viewer, respond: Respond, notice: str) -> None:
    """Redraws the message the teacher answered in, with what is still to answer."""
    with runtime.unit_of_work() as session:
        school = session.get(School, viewer.school_id)
        message = monitoring_message(session, school, viewer.staff_id, notice=notice)
    if message is None:
        message = render_json("notice.json.j2", text=notice)
    respond(replace_original=True, **message)


def _update_message(runtime, viewer, client: WebClient, channel: str, ts: str) -> None:
    with runtime.unit_of_work() as session:
        school = session.get(School, viewer.school_id)
        message = monitoring_message(session, school, viewer.staff_id, notice="Saved.")
    try:
        client.chat_update(channel=channel, ts=ts, **(message or {"text": "All answered."}))
    except SlackApiError as error:  # an ephemeral or deleted message: nothing to redraw
        log.info("could not redraw a monitoring message: %s", error.response.get("error"))


def _choice(values: dict, block_id: str, kind):
    chosen = ((values.get(block_id) or {}).get("value") or {}).get("selected_option") or {}
    try:
        return kind(chosen.get("value")) if chosen.get("value") else None
    except ValueError:
        return None


# --- /ssp subcommands answered here -----------------------------------------------------------

SUBCOMMANDS = (
    Subcommand(
        "monitoring",
        lambda ask: monitoring_command(ask.runtime, ask.viewer),
        help=(
            Usage(
                "`/ssp monitoring` — how plans are implemented: teachers' response rates by "
                "department and teacher, strategies not in place, concerns, class lists to check",
                lambda viewer: viewer.sees_whole_school,
            ),
        ),
        takes_words=False,
    ),
    Subcommand(
        "feedback",
        lambda ask: feedback_command(ask.runtime, ask.client, ask.viewer, ask.words, ask.respond),
        help=(
            Usage(
                "`/ssp feedback <UPN or name> [@teacher]` — ask the pupil's teachers (or one of "
                "them) for monitoring feedback now",
                lambda viewer: viewer.writes_plans,
            ),
        ),
    ),
)
