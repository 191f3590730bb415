"""Intervention sessions logged in one tap: the buttons of the daily DM (handlers.messages'
session renderer) and of `/ssp sessions`, and the two small forms ("Delivered, someone absent",
"Not delivered").

Who may log a session is decided afresh from the signed user on every request (the member of
staff it was due to be run by, or the SENDCo, in the request's school): a button's value is
only which session and which list to redraw, looked up among the viewer's school's sessions. A
forwarded button clicked by anyone else is refused, politely and in an ephemeral reply, and the
refusal is audited. A form whose saving fails stays open (toolkit.answer_error).
"""

from __future__ import annotations

import logging
import re
from datetime import date

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.access import Viewer
from bot.errors import UserError
from bot.render import escape_mrkdwn, render_json
from bot.services import session_log
from handlers.context import Ask, Runtime, Subcommand, Usage, after_the_ack
from handlers.messages import (
    SESSION_ABSENT,
    SESSION_CHANGE,
    SESSION_DELIVERED,
    SESSION_NOT_DELIVERED,
    SESSIONS_NEWER,
    SESSIONS_OLDER,
    session_message,
)
from handlers.toolkit import (
    as_int,
    done_modal,
    element,
    mentioned_user,
    meta_json,
    meta_of,
    notice,
    open_modal,
    selected_value,
    tell,
    text_value,
)

log = logging.getLogger(__name__)

VIA_BUTTON = "session log message"
VIA_COMMAND = "/ssp sessions"
ABSENT_VIEW = "ssp_session_absent"
NOT_DELIVERED_VIEW = "ssp_session_not_delivered"
TITLE = "Log a session"
NOTHING = (
    "Nothing to log: every session of yours is logged (or you run no intervention groups). "
    "Thank you."
)
ONLY_SENDCO = "Only the SENDCo can log someone else's sessions. Try `/ssp sessions` for your own."


def _pattern(prefix: str) -> re.Pattern:
    return re.compile(rf"^{re.escape(prefix)}:\d+$")


def register(app: App) -> None:
    app.action(_pattern(SESSION_DELIVERED))(delivered)
    app.action(_pattern(SESSION_CHANGE))(change)
    app.action(_pattern(SESSION_ABSENT))(open_absent)
    app.action(_pattern(SESSION_NOT_DELIVERED))(open_not_delivered)
    app.action(SESSIONS_OLDER)(turn_page)
    app.action(SESSIONS_NEWER)(turn_page)
    app.view(ABSENT_VIEW)(save_absent)
    app.view(NOT_DELIVERED_VIEW)(save_not_delivered)


def _parse(value: str | None, body: dict) -> tuple[int, str]:
    """(session id, surface) from a button's value "12:p34"; surface "p<prompt id>" (the DM)
    or "s<staff id>.<page>" (`/ssp sessions`). Only hints: every id is checked against the
    viewer, and the surface against the message the button is in, as Slack reports it, since
    the `/ssp sessions` list names pupils and may only ever replace an ephemeral message (a
    forged "s…" in a button of the DM, which Slack keeps, must not write names into it)."""
    session_id, _, surface = (value or "").partition(":")
    if not _SURFACE.fullmatch(surface or ""):
        surface = ""
    ephemeral = bool((body.get("container") or {}).get("is_ephemeral"))
    if surface.startswith("s") != ephemeral:
        surface = ""
    return as_int(session_id), surface


_SURFACE = re.compile(r"p\d+|s\d+(?:\.\d{1,4})?")


def _redrawn(
    runtime: Runtime,
    viewer: Viewer,
    today: date,
    surface: str,
    *,
    editing: frozenset[int] = frozenset(),
    said: str | None = None,
) -> dict | None:
    """The list the button was in, as it stands now (None: not the viewer's to see)."""
    with runtime.unit_of_work() as session:
        if surface.startswith("p"):
            facts = session_log.in_prompt(session, viewer, as_int(surface[1:]), today)
        elif surface.startswith("s"):
            staff, _, page = surface[1:].partition(".")
            facts = session_log.to_log(
                session, viewer, as_int(staff), today, also_logged_today=True,
                page=as_int(page) if page else 0,
            )  # fmt: skip
        else:
            facts = None
    if facts is None:
        return None
    return session_message(facts, surface, editing=editing, notice=said)


def turn_page(
    ack: Ack,
    action: dict,
    body: dict,
    context: BoltContext,
    respond: Respond,
    runtime: Runtime,
    viewer: Viewer,
    today: date,
) -> None:
    """ "Older sessions" / "Newer sessions" under `/ssp sessions`: the same list, another page,
    for whoever may see it (the value names whose and which page: checked like any other)."""
    ack()
    surface = action.get("value") or ""
    redrawn = (
        _redrawn(runtime, viewer, today, surface)
        if re.fullmatch(r"s\d+\.\d{1,4}", surface)
        and (body.get("container") or {}).get("is_ephemeral")
        else None
    )
    if redrawn is None:
        tell(body, context, ONLY_SENDCO)
        return
    respond(replace_original=True, **redrawn)


def _refuse(body: dict, context: BoltContext) -> None:
    # Ephemeral, to the clicker only: a forwarded message's buttons never change the original.
    tell(body, context, session_log.NOT_YOURS)


def delivered(
    ack: Ack,
    action: dict,
    body: dict,
    context: BoltContext,
    respond: Respond,
    runtime: Runtime,
    viewer: Viewer,
    today: date,
) -> None:
    """One tap: delivered, everyone there."""
    ack()
    session_id, surface = _parse(action.get("value"), body)
    with runtime.unit_of_work() as session:
        sitting = session_log.log_delivered(
            session, viewer, session_id, via=VIA_BUTTON, now=runtime.now()
        )
    if sitting is None:
        _refuse(body, context)
        return
    redrawn = _redrawn(runtime, viewer, today, surface)
    if redrawn is not None:
        respond(replace_original=True, **redrawn)


def change(
    ack: Ack,
    action: dict,
    body: dict,
    context: BoltContext,
    respond: Respond,
    runtime: Runtime,
    viewer: Viewer,
    today: date,
) -> None:
    """Shows a logged session's buttons again; nothing changes until one is tapped."""
    ack()
    session_id, surface = _parse(action.get("value"), body)
    with runtime.unit_of_work() as session:
        sitting = session_log.session_for(
            session, viewer, session_id, via=VIA_BUTTON, now=runtime.now()
        )
    if sitting is None:
        _refuse(body, context)
        return
    redrawn = _redrawn(runtime, viewer, today, surface, editing=frozenset({session_id}))
    if redrawn is not None:
        respond(replace_original=True, **redrawn)


def open_absent(
    ack: Ack,
    action: dict,
    body: dict,
    client: WebClient,
    context: BoltContext,
    runtime: Runtime,
    viewer: Viewer,
) -> None:
    """ "Delivered, someone absent": a small form ticking who was away."""
    session_id, surface = _parse(action.get("value"), body)
    with runtime.unit_of_work() as session:
        sitting = session_log.session_for(
            session, viewer, session_id, via=VIA_BUTTON, now=runtime.now()
        )
        if sitting is not None:
            pupils = session_log.pupil_choices(session, viewer.school_id, sitting)
            about = _about(sitting)
    if sitting is None:
        ack()
        _refuse(body, context)
        return
    view = render_json(
        "session_absent_modal.json.j2",
        meta=meta_json(session_id=session_id, surface=surface),
        about=about,
        pupils=pupils,
        many=len(pupils) > 10,
    )
    open_modal(client, body["trigger_id"], view)
    ack()


def open_not_delivered(
    ack: Ack,
    action: dict,
    body: dict,
    client: WebClient,
    context: BoltContext,
    runtime: Runtime,
    viewer: Viewer,
) -> None:
    """ "Not delivered": why, from a short list (other: in a few words)."""
    session_id, surface = _parse(action.get("value"), body)
    with runtime.unit_of_work() as session:
        sitting = session_log.session_for(
            session, viewer, session_id, via=VIA_BUTTON, now=runtime.now()
        )
        about = _about(sitting) if sitting is not None else ""
    if sitting is None:
        ack()
        _refuse(body, context)
        return
    view = render_json(
        "session_not_delivered_modal.json.j2",
        meta=meta_json(session_id=session_id, surface=surface),
        about=about,
        reasons=list(session_log.REASONS.items()),
        other_length=session_log.OTHER_LENGTH,
    )
    open_modal(client, body["trigger_id"], view)
    ack()


def _about(sitting) -> str:
    return (
        f"*{escape_mrkdwn(sitting.group.name)}*, {sitting.held_on:%A %-d %B} at "
        f"{sitting.starts_at:%H:%M}"
    )


def save_absent(
    ack: Ack, view: dict, client: WebClient, runtime: Runtime, viewer: Viewer, today: date
) -> None:
    values = view["state"]["values"]
    chosen = element(values, "absent").get("selected_options") or []
    absent = {as_int(option.get("value")) for option in chosen}
    if not absent:
        raise UserError("Tick who was absent (or use “Delivered” if everyone was there).",
                        block_id="absent")  # fmt: skip
    meta = meta_of(view)
    with runtime.unit_of_work() as session:
        sitting = session_log.log_delivered(
            session,
            viewer,
            as_int(meta.get("session_id")),
            absent=absent,
            via=VIA_BUTTON,
            now=runtime.now(),
        )
        dm = session_log.posted(session, viewer, sitting) if sitting is not None else None
    if sitting is None:
        raise UserError(session_log.NOT_YOURS)
    ack(response_action="update", view=done_modal(TITLE, "Logged: delivered. Thank you."))
    after_the_ack(lambda: _redraw_dm(runtime, viewer, client, today, dm), "redraw-sessions")


def save_not_delivered(
    ack: Ack, view: dict, client: WebClient, runtime: Runtime, viewer: Viewer, today: date
) -> None:
    values = view["state"]["values"]
    meta = meta_of(view)
    with runtime.unit_of_work() as session:
        sitting = session_log.log_not_delivered(
            session,
            viewer,
            as_int(meta.get("session_id")),
            reason=selected_value(values, "reason"),
            other=text_value(values, "other"),
            via=VIA_BUTTON,
            now=runtime.now(),
        )
        dm = session_log.posted(session, viewer, sitting) if sitting is not None else None
    if sitting is None:
        raise UserError(session_log.NOT_YOURS)
    ack(response_action="update", view=done_modal(TITLE, "Logged: not delivered. Thank you."))
    after_the_ack(lambda: _redraw_dm(runtime, viewer, client, today, dm), "redraw-sessions")


def _redraw_dm(runtime: Runtime, viewer: Viewer, client: WebClient, today: date, dm) -> None:
    """Redraws the DM that asked about the session, as the outbox records it (never a message
    a form's metadata names)."""
    if dm is None:
        return
    channel, ts, prompt_id = dm
    redrawn = _redrawn(runtime, viewer, today, f"p{prompt_id}")
    if redrawn is None:
        return
    try:
        client.chat_update(channel=channel, ts=ts, **redrawn)
    except SlackApiError as error:  # a deleted message: nothing to redraw
        log.info("could not redraw a session message: %s", error.response.get("error"))


def sessions_command(ask: Ask) -> dict:
    """`/ssp sessions`, or the SENDCo's `/ssp sessions @someone`."""
    viewer, staff_id = ask.viewer, ask.viewer.staff_id
    if ask.words:
        user_id = mentioned_user(ask.words[0])
        if user_id is None or len(ask.words) > 1:
            raise UserError("Type `/ssp sessions`, or (SENDCo) `/ssp sessions @someone`.")
        if not viewer.is_sendco and user_id != viewer.slack_user_id:
            raise UserError(ONLY_SENDCO)
        with ask.runtime.unit_of_work() as session:
            found = session_log.staff_by_slack_id(session, viewer, user_id)
        if found is None:
            raise UserError("I can't find that person on your school's staff list.")
        staff_id = found
    with ask.runtime.unit_of_work() as session:
        facts = session_log.to_log(session, viewer, staff_id, ask.today)
    if facts is None:
        raise UserError(ONLY_SENDCO)
    if not facts.shown:
        return notice(NOTHING)
    return {"response_type": "ephemeral", **session_message(facts, f"s{staff_id}.0")}


SUBCOMMANDS = (
    Subcommand(
        "sessions",
        sessions_command,
        help=(
            Usage(
                "`/ssp sessions` — the intervention sessions you run that are not yet logged "
                "(however old, newest first): tap Delivered or Not delivered"
            ),
            Usage(
                "`/ssp sessions @someone` — how many of a colleague's sessions are not yet "
                "logged, and log them for them",
                lambda viewer: viewer.is_sendco,
            ),
        ),
    ),
)
