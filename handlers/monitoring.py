"""Monitoring feedback from teachers and support staff: one-click answers in the message,
details in a modal, `/ssp feedback` to ask now and `/ssp monitoring` for the school's picture.

Who may do what: a request is answered by the member of staff it was sent to, whatever their
roles, so the answering listeners have no role check of their own: the services find the request
only among the viewer's. Asking for feedback is for the plans' writers (role middleware), the
school's picture for the SENDCo and senior leaders (the `/ssp` table).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.access import Viewer
from bot.errors import UserError
from bot.render import escape_mrkdwn, render_json, year_label
from bot.services import audit, monitoring, prompts
from handlers.context import Ask, Runtime, Subcommand, Usage, after_the_ack
from handlers.messages import monitoring_message
from handlers.slack_api import staff_for_slack_user
from handlers.toolkit import (
    NOT_ON_STAFF_LIST,
    PupilButton,
    UsageError,
    as_int,
    done_modal,
    find_one_pupil,
    mentioned_user,
    message,
    meta_json,
    meta_of,
    notice,
    open_modal,
    requires,
    selected_value,
    text_value,
)
from models import (
    Impact,
    MonitoringRole,
    PromptKind,
    PupilResponse,
    School,
    SessionAsPlanned,
    StrategiesInPlace,
)

log = logging.getLogger(__name__)

WHOLE_SCHOOL_ONLY = (
    "`/ssp monitoring` is for the SENDCo and senior leaders. Case holders see their pupils' "
    "feedback in `/ssp pupil` and in the review notes."
)
NOT_YOURS_TO_ASK = (
    "I couldn't find an active plan for that pupil among the plans you hold. Feedback is "
    "requested by the plan's case holder or the SENDCo."
)
LIST_LIMIT = 15
MONITORING_MESSAGES = (PromptKind.MONITORING_DIGEST, PromptKind.MONITORING_REQUEST)
NOTES = ("comment", "evidence", "to_change")
# Each answer's select in the message: the question it answers (teachers' two, then support
# staff's two). The service refuses a question the request does not ask.
ANSWERS = {
    "monitoring_strategies": ("strategies", StrategiesInPlace),
    "monitoring_impact": ("impact", Impact),
    "monitoring_session": ("session_as_planned", SessionAsPlanned),
    "monitoring_responding": ("responding", PupilResponse),
}
ASK = PupilButton("monitoring_ask", "Ask")


def register(app: App) -> None:
    app.action("monitoring_strategies")(answer_in_message)
    app.action("monitoring_impact")(answer_in_message)
    app.action("monitoring_session")(answer_in_message)
    app.action("monitoring_responding")(answer_in_message)
    app.action("monitoring_not_taught")(not_taught)
    app.action("monitoring_open")(open_form)
    app.view("monitoring_answer")(save_form)
    writes = [requires(lambda viewer: viewer.writes_plans, NOT_YOURS_TO_ASK)]
    app.action("monitoring_ask", middleware=writes)(ask_from_button)


# --- /ssp feedback and /ssp monitoring --------------------------------------------------------


def feedback_command(ask: Ask) -> dict | None:
    """`/ssp feedback <pupil> [@teacher]`: asks the pupil's teachers (or that one) now."""
    words = ask.words
    teacher = mentioned_user(words[-1]) if words else None
    query = " ".join(words[:-1] if teacher else words)
    if not query:
        raise UsageError(
            "Say which pupil: `/ssp feedback <UPN or name>` asks all their teachers; add "
            "`@teacher` to ask one."
        )
    choice = find_one_pupil(ask.runtime, ask.viewer, query, ASK, via="/ssp feedback")
    if choice.pupil_id is None:
        return choice.choices
    teacher_id = None
    if teacher is not None:
        with ask.runtime.unit_of_work() as session:
            staff = staff_for_slack_user(session, ask.client, ask.viewer.school_id, teacher)
            if staff is None:
                raise UserError(f"{NOT_ON_STAFF_LIST}.")
            teacher_id = staff.id
    return _ask_teachers(ask.runtime, ask.client, ask.viewer, choice.pupil_id, teacher_id)


def ask_from_button(
    ack: Ack, action: dict, client: WebClient, respond: Respond, runtime: Runtime, viewer: Viewer
) -> None:
    """A pupil chosen from the list `/ssp feedback` offered when several matched."""
    asked = _ask_teachers(runtime, client, viewer, as_int(action.get("value")), None)
    respond(**asked)


def monitoring_command(ask: Ask) -> dict:
    """`/ssp monitoring`: response rates and what teachers flagged, across the school."""
    with ask.runtime.unit_of_work() as session:
        summary = monitoring.school_monitoring(session, ask.viewer.school_id)
        # The flags name pupils but carry no ids: one row says who looked, and how much showed.
        audit.record_shown(
            session,
            ask.viewer,
            via="/ssp monitoring",
            now=ask.runtime.now(),
            what="monitoring across the school: pupils flagged",
            count=sum(
                len(flags)
                for flags in (
                    summary.not_in_place,
                    summary.partly_in_place,
                    summary.concerns,
                    summary.not_taught,
                    summary.sessions_not_as_planned,
                    summary.sessions_sometimes,
                    summary.not_responding,
                    summary.support_to_check,
                )
            ),
        )
    return message("monitoring_school.json.j2", **_school_words(summary))


def _ask_teachers(runtime, client, viewer, pupil_id: int, teacher_id: int | None) -> dict:
    with runtime.unit_of_work() as session:
        name, asked = monitoring.request_now(
            session, viewer, pupil_id=pupil_id, teacher_id=teacher_id, now=runtime.now()
        )
    runtime.deliver_soon(client)
    # Names as typed into the MIS: words, not markup, in this mrkdwn reply.
    teachers = ", ".join(escape_mrkdwn(teacher) for teacher in asked)
    return notice(
        f"Asked {len(asked)} teacher(s) for feedback on {escape_mrkdwn(name)}'s plan: {teachers}. "
        "Their answers will be in the review notes and in `/ssp pupil`."
    )


# --- the teacher's answers ------------------------------------------------------------------


def answer_in_message(
    ack: Ack, action: dict, respond: Respond, runtime: Runtime, viewer: Viewer
) -> None:
    ack()
    request_id, _, value = ((action.get("selected_option") or {}).get("value") or "").partition(":")
    question, kind = ANSWERS[action["action_id"]]
    try:
        choice = {question: kind(value)}
    except ValueError:
        respond(**notice("That answer wasn't one I know; please choose again."))
        return
    # A refusal is said in the redrawn message, in place of the row it was about.
    try:
        with runtime.unit_of_work() as session:
            monitoring.answer(session, viewer, as_int(request_id), now=runtime.now(), **choice)
            # Said in the teacher's DM, which Slack keeps: the pupil as the school names them.
            said = f":white_check_mark: Saved for {_named(session, viewer, request_id)}. Thank you."
    except UserError as refusal:
        said = str(refusal)
        _audit_refusal(runtime, viewer, request_id, refusal)
    respond(replace_original=True, **_redrawn(runtime, viewer, said))


def not_taught(ack: Ack, action: dict, respond: Respond, runtime: Runtime, viewer: Viewer) -> None:
    ack()
    # A refusal is said in the redrawn message, in place of the row it was about.
    try:
        with runtime.unit_of_work() as session:
            _, support = monitoring.not_teaching(
                session, viewer, as_int(action.get("value")), runtime.now()
            )
            name = _named(session, viewer, action.get("value"))
            checked = "who delivers their plan" if support else "the class list"
        said = f"Removed {name}. The SENDCo will check {checked}. Thank you for saying."
    except UserError as refusal:
        said = str(refusal)
        _audit_refusal(runtime, viewer, action.get("value"), refusal)
    respond(replace_original=True, **_redrawn(runtime, viewer, said))


def open_form(
    ack: Ack, action: dict, body: dict, client: WebClient, runtime: Runtime, viewer: Viewer
) -> None:
    try:
        with runtime.unit_of_work() as session:
            request, shown = monitoring.request_for_modal(
                session, viewer, as_int(action.get("value")), runtime.now()
            )
            view = _answer_view(request, shown, body.get("container") or {})
    except UserError as refusal:
        _audit_refusal(runtime, viewer, action.get("value"), refusal)
        raise
    open_modal(client, body["trigger_id"], view)


def save_form(ack: Ack, view: dict, client: WebClient, runtime: Runtime, viewer: Viewer) -> None:
    values = view["state"]["values"]
    # Support staff's form asks its own two questions (the service refuses a mismatch).
    support = any(block.get("block_id") == "session" for block in view.get("blocks") or [])
    strategies = _choice(values, "strategies", StrategiesInPlace)
    impact = _choice(values, "impact", Impact)
    planned = _choice(values, "session", SessionAsPlanned)
    responding = _choice(values, "responding", PupilResponse)
    notes = {name: text_value(values, name) for name in NOTES}
    errors = {}
    if impact == Impact.CONCERN and not notes["comment"]:
        errors["comment"] = "Say what concerns you, so the case holder can act on it."
    if responding == PupilResponse.NOT_WELL and not notes["comment"]:
        errors["comment"] = "Say what you're seeing, so the case holder can act on it."
    if support and planned is None and responding is None and not notes["comment"]:
        errors["session"] = "Choose an answer, or write a comment."
    if not support and strategies is None and impact is None and not any(notes.values()):
        errors["strategies"] = "Choose an answer, or write a comment."
    if errors:
        ack(response_action="errors", errors=errors)
        return
    meta = meta_of(view)
    try:
        with runtime.unit_of_work() as session:
            request = monitoring.answer(
                session,
                viewer,
                as_int(meta.get("request_id")),
                now=runtime.now(),
                strategies=strategies,
                impact=impact,
                session_as_planned=planned,
                responding=responding,
                notes=notes,
            )
            name = escape_mrkdwn(request.plan.pupil.known_as)  # the notice below is mrkdwn
    except UserError as refusal:
        _audit_refusal(runtime, viewer, meta.get("request_id"), refusal)
        # Said in place of the form by toolkit.answer_error; the teacher's message is redrawn
        # all the same, as a refusal can mean its row has gone (the review closed). After the
        # answer: chat.update may wait out a rate limit, and the form must be answered in 3 s.
        after_the_ack(lambda: _redraw(runtime, viewer, client, meta), "redraw-monitoring")
        raise
    text = (
        f"Thank you: your feedback on {name}'s plan is saved. You can change it until the review."
    )
    ack(response_action="update", view=done_modal("Monitoring", text))
    # On a thread of its own: a listener that fails after acknowledging loses its
    # acknowledgement in Bolt, and the saved form would go unanswered.
    after_the_ack(lambda: _redraw(runtime, viewer, client, meta), "redraw-monitoring")


# --- views ------------------------------------------------------------------------------------


def _answer_view(request, shown: dict, container: dict) -> dict:
    """The modal a teacher answers in: the plan's strategies, then their answers so far."""
    about = [f"*{escape_mrkdwn(shown['pupil_name'])}*", year_label(shown["year_group"])]
    if shown["group"]:
        about.append(escape_mrkdwn(shown["group"]))
    name = escape_mrkdwn(shown["pupil_name"])
    acronyms = " · ".join(f"{short}: {long}" for short, long in shown["acronyms"].items())
    # Which message the form came from, so that one is redrawn; it is only a hint: the message
    # redrawn is always one of the teacher's own, as the outbox records them (_redraw).
    meta = meta_json(
        request_id=request.id,
        channel=container.get("channel_id"),
        ts=container.get("message_ts"),
    )
    return render_json(
        "monitoring_modal.json.j2",
        about=" · ".join(about),
        support=(
            f"*How {name} likes to be supported*\n{escape_mrkdwn(shown['support'])}"
            if shown["support"]
            else None
        ),
        adjustments="*In-class adjustments and strategies*\n"
        + (_bullets(shown["adjustments"]) or "_None recorded._"),
        arrangements=(
            f"*Access arrangements*\n{_bullets(shown['arrangements'])}"
            if shown["arrangements"]
            else None
        ),
        targets="*Targets*\n"
        + (escape_mrkdwn("\n".join(t[0] for t in shown["targets"])) or "_None open._"),
        acronyms=escape_mrkdwn(acronyms) if acronyms else None,
        support_staff=request.role == MonitoringRole.SUPPORT,
        strategies=_options(StrategiesInPlace, request.strategies),
        impact=_options(Impact, request.impact),
        session=_options(SessionAsPlanned, request.session_as_planned),
        responding=_options(PupilResponse, request.responding),
        notes={name: getattr(request, name) for name in NOTES},
        meta=meta,
    )


def _school_words(m: monitoring.SchoolMonitoring) -> dict:
    """`/ssp monitoring`: the lists are cut at LIST_LIMIT, saying how many more there are."""
    not_in_place = f"*Strategies not in place* ({len(m.not_in_place)})\n" + (
        _flags(m.not_in_place) or "_None reported._"
    )
    if m.partly_in_place:
        not_in_place += f"\n_Partly in place: {len(m.partly_in_place)}_"
    return dict(
        summary=f"Monitoring: {m.answered} of {m.asked} requests answered",
        rate=(
            f"*Staff feedback this cycle:* {m.answered} of {m.asked} requests answered "
            f"({m.percent}%)"
        ),
        sections=[
            *(
                [
                    "*By department* (lowest response first)\n" + _rates(m.by_department),
                    "*By teacher* (lowest response first)\n" + _rates(m.by_teacher),
                ]
                if m.asked
                else []
            ),
            not_in_place,
            f"*Teachers report concern* ({len(m.concerns)})\n"
            + (_flags(m.concerns) or "_None reported._"),
            *(
                [
                    "*Class lists to check* (teachers say they don't teach the pupil)\n"
                    + _flags(m.not_taught)
                ]
                if m.not_taught
                else []
            ),
            *_support_words(m),
        ],
    )


def _support_words(m: monitoring.SchoolMonitoring) -> list[str]:
    """What support staff said: only when some were asked or said something."""
    said = [
        m.sessions_not_as_planned,
        m.sessions_sometimes,
        m.not_responding,
        m.support_to_check,
    ]
    if not any(said) and not any(r.name.endswith("(support staff)") for r in m.by_teacher):
        return []
    sessions = (
        f"*Support sessions not happening as planned* ({len(m.sessions_not_as_planned)})\n"
        + (_flags(m.sessions_not_as_planned) or "_None reported._")
    )
    if m.sessions_sometimes:
        sessions += f"\n_Happening sometimes: {len(m.sessions_sometimes)}_"
    words = [
        sessions,
        f"*Support staff say the pupil is not responding well* ({len(m.not_responding)})\n"
        + (_flags(m.not_responding) or "_None reported._"),
    ]
    if m.support_to_check:
        words.append(
            "*Who delivers the plan, to check* (support staff say they don't work with the "
            "pupil)\n" + _flags(m.support_to_check)
        )
    return words


@dataclass(frozen=True)
class Options:
    """A question's answers as (label, value) pairs, and the one given so far."""

    choices: list[tuple[str, str]]
    chosen: tuple[str, str] | None


def _options(kind, current) -> Options:
    return Options(
        [(c.label, c.value) for c in kind], (current.label, current.value) if current else None
    )


def _bullets(items) -> str:
    return "\n".join(f"• {escape_mrkdwn(item)}" for item in items)


def _rates(rates: list[monitoring.Rate]) -> str:
    return _at_most(
        [f"• {escape_mrkdwn(r.name)}: {r.answered} of {r.asked} ({r.percent}%)" for r in rates]
    )


def _flags(flags: list[monitoring.Flag]) -> str:
    lines = []
    for f in flags:
        line = f"• *{escape_mrkdwn(f.pupil_name)}* · {escape_mrkdwn(f.teacher)}"
        lines.append(line + (f" ({escape_mrkdwn(f.group)})" if f.group else ""))
    return _at_most(lines)


def _at_most(lines: list[str]) -> str:
    more = [f"…and {len(lines) - LIST_LIMIT} more"] if len(lines) > LIST_LIMIT else []
    return "\n".join(lines[:LIST_LIMIT] + more)


# --- helpers --------------------------------------------------------------------------------


def _redrawn(runtime: Runtime, viewer: Viewer, said: str) -> dict:
    """The teacher's monitoring message as it is now, saying `said`; just `said` if nothing is
    left to answer."""
    return _current(runtime, viewer, said) or render_json("notice.json.j2", text=said)


def _redraw(runtime: Runtime, viewer: Viewer, client: WebClient, meta: dict) -> None:
    """Redraws one of the teacher's own monitoring messages (digest or request), as the outbox
    records them: the one the form was opened from if it is theirs, else their latest. A form's
    metadata can name any message, so it only ever picks among theirs.
    """
    with runtime.unit_of_work() as session:
        posted = prompts.own_messages(session, viewer.staff_id, MONITORING_MESSAGES)
    if not posted:
        return
    named = (meta.get("channel"), meta.get("ts"))
    channel, ts = named if named in posted else posted[0]
    redrawn = _current(runtime, viewer, "Saved.") or {"text": "All answered."}
    try:
        client.chat_update(channel=channel, ts=ts, **redrawn)
    except SlackApiError as error:  # a deleted message: nothing to redraw
        log.info("could not redraw a monitoring message: %s", error.response.get("error"))


def _audit_refusal(runtime: Runtime, viewer: Viewer, request_id, refusal: UserError) -> None:
    with runtime.unit_of_work() as session:
        monitoring.record_refusal(session, viewer, as_int(request_id), runtime.now(), str(refusal))


def _named(session, viewer: Viewer, request_id) -> str:
    """The pupil of the viewer's request as a message names them (name or initials)."""
    pupil = prompts.request_pupil(session, viewer.school_id, as_int(request_id))
    return escape_mrkdwn(pupil.name) if pupil else "the pupil"


def _current(runtime: Runtime, viewer: Viewer, said: str) -> dict | None:
    with runtime.unit_of_work() as session:
        school = session.get(School, viewer.school_id)
        return monitoring_message(session, school, viewer.staff_id, notice=said)


def _choice(values: dict, block_id: str, kind):
    chosen = selected_value(values, block_id)
    try:
        return kind(chosen) if chosen else None
    except ValueError:
        return None


# --- /ssp subcommands answered here -----------------------------------------------------------

SUBCOMMANDS = (
    Subcommand(
        "monitoring",
        monitoring_command,
        help=(
            Usage(
                "`/ssp monitoring` — how plans are implemented: staff's response rates by "
                "department and teacher, strategies not in place, concerns, class lists to check, "
                "support sessions not as planned",
                lambda viewer: viewer.sees_whole_school,
            ),
        ),
        allowed=lambda viewer: viewer.sees_whole_school,
        refusal=WHOLE_SCHOOL_ONLY,
        takes_words=False,
    ),
    Subcommand(
        "feedback",
        feedback_command,
        help=(
            Usage(
                "`/ssp feedback <UPN or name> [@teacher]` — ask the pupil's teachers and the "
                "support staff who deliver their plan (or one of them) for monitoring feedback now",
                lambda viewer: viewer.writes_plans,
            ),
        ),
        allowed=lambda viewer: viewer.writes_plans,
        refusal=NOT_YOURS_TO_ASK,
    ),
)
