"""Observations between reviews, in Slack: `/ssp observe <pupil>`, the passport's "Add an
observation" button, and the message shortcut "Add an observation" (which fills "what happened"
with the message's words and asks which pupil first). The saving is bot.services.observations.

Who may add one is decided afresh from the signed user on every request; a button's value or a
form's metadata is only a pupil id to look up among the pupils that person may see. "Not yours"
and "no such pupil" read the same. A form whose saving fails stays open with what was typed
(toolkit.answer_error), and a field's problem is shown beside it.
"""

from __future__ import annotations

from datetime import date

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.access import Viewer
from bot.errors import UserError
from bot.render import escape_mrkdwn, render_json, uk_date
from bot.services import observations
from bot.services.pupils import find_pupils
from handlers.context import Ask, Runtime, Subcommand, Usage
from handlers.review_presenters import not_one_pupil
from handlers.toolkit import (
    NO_ACCESS,
    NO_SUCH_PUPIL,
    PupilButton,
    UsageError,
    as_int,
    as_typed,
    done_modal,
    find_one_pupil,
    meta_json,
    meta_of,
    open_modal,
    requires,
    requires_in_modal,
    selected_value,
    tell,
    text_value,
)
from models import Helped

OPEN_ACTION = "ssp_observe_open"
OBSERVE_PICK = PupilButton("ssp_observe_pick", "Add an observation")
SHORTCUT = "ssp_observe_message"
TITLE = "Add an observation"
VIA_COMMAND = "/ssp observe"
VIA_BUTTON = "Add an observation button"
VIA_SHORTCUT = "observation shortcut"
VIA_READ = "observation summary"
READ_ACTION = "ssp_observations_read"
VIAS = (VIA_COMMAND, VIA_BUTTON, VIA_SHORTCUT)  # the form's metadata names one for the audit
NOT_VISIBLE = "I couldn't find that pupil among the pupils you can see."
SAVED = (
    "Thank you: your observation about *{name}* is saved on their plan. Their case holder will "
    "see it in their daily summary and when they next review the plan."
)


def _allowed(viewer: Viewer) -> bool:
    return viewer.sees_anything


def register(app: App) -> None:
    sees = [requires(_allowed, NO_ACCESS)]
    app.action(OPEN_ACTION, middleware=sees)(open_from_button)
    app.action(OBSERVE_PICK.action_id, middleware=sees)(open_from_button)
    app.view("ssp_observe", middleware=sees)(save)
    app.view("ssp_observe_pupil", middleware=sees)(choose_pupil)
    app.action(READ_ACTION)(read_summary)
    # A shortcut has nowhere to answer but a modal of its own.
    app.shortcut(SHORTCUT, middleware=[requires_in_modal(_allowed, TITLE, NO_ACCESS)])(from_message)


def observe_command(ask: Ask) -> dict | None:
    if not ask.words:
        raise UsageError("Say which pupil: `/ssp observe <UPN or name>`.")
    query = " ".join(ask.words)
    choice = find_one_pupil(ask.runtime, ask.viewer, query, OBSERVE_PICK, via=VIA_COMMAND)
    if choice.pupil_id is None:
        return choice.choices
    view = _form(ask.runtime, ask.viewer, choice.pupil_id, ask.today, via=VIA_COMMAND)
    if view is None:
        raise UserError(NO_SUCH_PUPIL.format(query=escape_mrkdwn(as_typed(query)[:80])))
    open_modal(ask.client, ask.trigger_id, view)
    return None


def open_from_button(
    ack: Ack,
    action: dict,
    body: dict,
    client: WebClient,
    runtime: Runtime,
    viewer: Viewer,
    today: date,
) -> None:
    """ "Add an observation" on a passport (a message or a modal), or beside a pupil in a list."""
    view = _form(runtime, viewer, as_int(action.get("value")), today, via=VIA_BUTTON)
    if view is None:
        raise UserError(NOT_VISIBLE)
    shown_in = body.get("view") or {}
    open_modal(client, body["trigger_id"], view, push=shown_in.get("type") == "modal")


def from_message(ack: Ack, shortcut: dict, client: WebClient) -> None:
    """The message shortcut: the message's words as "what happened"; the pupil is asked next."""
    text = as_typed((shortcut.get("message") or {}).get("text") or "")
    view = render_json(
        "observation_modal.json.j2",
        pupil_name=None,
        meta="{}",
        what=text[: observations.WHAT_LENGTH],
        what_length=observations.WHAT_LENGTH,
    )
    open_modal(client, shortcut["trigger_id"], view)
    ack()


def choose_pupil(ack: Ack, view: dict, runtime: Runtime, viewer: Viewer, today: date) -> None:
    """The shortcut's first step: one pupil among those the person may see, then the form."""
    values = view["state"]["values"]
    query = as_typed(text_value(values, "pupil") or "")
    what = text_value(values, "what") or ""
    with runtime.unit_of_work() as session:
        matches = find_pupils(session, viewer, query) if query else []
    if not query:
        raise UserError("Say which pupil: their name or UPN.", block_id="pupil")
    if len(matches) != 1:
        raise UserError(not_one_pupil(query, matches), block_id="pupil")
    form = _form(runtime, viewer, matches[0].pupil_id, today, via=VIA_SHORTCUT, what=what)
    if form is None:  # no longer theirs since the search: as if never found
        raise UserError(not_one_pupil(query, []), block_id="pupil")
    ack(response_action="update", view=form)


def save(ack: Ack, view: dict, runtime: Runtime, viewer: Viewer, today: date) -> None:
    values = view["state"]["values"]
    meta = meta_of(view)
    chosen = ((values.get("date") or {}).get("value") or {}).get("selected_date")
    try:
        observed_on = date.fromisoformat(chosen) if chosen else today
    except ValueError:
        raise UserError("Choose a date.", block_id="date") from None
    with runtime.unit_of_work() as session:
        saved = observations.add(
            session,
            viewer,
            as_int(meta.get("pupil_id")),
            observed_on=observed_on,
            what_happened=text_value(values, "what") or "",
            strategy=selected_value(values, "strategy"),
            other=text_value(values, "other"),
            helped=selected_value(values, "helped"),
            via=meta.get("via") if meta.get("via") in VIAS else VIA_BUTTON,
            now=runtime.now(),
            today=today,
        )
    if saved is None:
        raise UserError(NOT_VISIBLE)
    done = done_modal(TITLE, SAVED.format(name=escape_mrkdwn(saved.name)))
    ack(response_action="update", view=done)


def read_summary(
    ack: Ack, action: dict, body: dict, client: WebClient, context, runtime: Runtime, viewer: Viewer
) -> None:
    """ "Read them" on a daily summary: for its case holder or the SENDCo (the service checks,
    from the signed user; the button's value is only which summary)."""
    with runtime.unit_of_work() as session:
        entries = observations.read_summary(
            session, viewer, as_int(action.get("value")), via=VIA_READ, now=runtime.now()
        )
    if entries is None:  # refused after the unit of work, so the refusal's audit row is kept
        ack()
        tell(body, context, observations.NOT_YOURS)
        return
    view = observations_view(
        entries,
        "New observations on the plans you hold, newest first. Only staff see these.",
    )
    open_modal(client, body["trigger_id"], view)
    ack()


def entry_text(entry: observations.Entry, *, pupil: bool = True) -> str:
    """One observation in mrkdwn: whose, when, by whom, the strategy, whether it helped."""
    head = f"*{escape_mrkdwn(entry.pupil_name)}* · " if pupil else ""
    text = entry.what_happened
    if len(text) > 1500:  # a section holds 3,000 characters; the form allows 2,000
        text = text[:1499].rstrip() + "…"
    return (
        f"{head}{uk_date(entry.observed_on)} · {escape_mrkdwn(entry.author)}\n"
        f"{escape_mrkdwn(text)}\n"
        f"_Strategy:_ {escape_mrkdwn(entry.strategy)} · _Did it help?_ {entry.helped.label}"
    )


def observations_view(entries, intro: str) -> dict:
    return render_json(
        "observations_modal.json.j2",
        intro=intro,
        entries=[entry_text(e) for e in entries],
        empty=None
        if entries
        else "_Nothing to read: these observations are no longer on plans you hold._",
    )


def _form(
    runtime: Runtime, viewer: Viewer, pupil_id: int, today: date, *, via: str, what: str = ""
) -> dict | None:
    with runtime.unit_of_work() as session:
        found = observations.subject(session, viewer, pupil_id, via=via, now=runtime.now())
    if found is None:
        return None
    return render_json(
        "observation_modal.json.j2",
        pupil_name=found.name,
        about=f"About *{escape_mrkdwn(found.name)}*: what did you see, what did you try, and "
        "did it help?",
        meta=meta_json(pupil_id=found.pupil_id, via=via),
        what=what[: observations.WHAT_LENGTH],
        what_length=observations.WHAT_LENGTH,
        other_length=observations.OTHER_LENGTH,
        strategies=[(s.text, s.value) for s in found.strategies]
        + [(observations.OTHER_LABEL, observations.OTHER)],
        helped=[(h.label, h.value) for h in Helped],
        today=today.isoformat(),
    )


SUBCOMMANDS = (
    Subcommand(
        "observe",
        observe_command,
        help=(
            Usage(
                "`/ssp observe <UPN or name>` — note what happened with a pupil you support, "
                "which strategy you tried and whether it helped (for their case holder)",
                _allowed,
            ),
        ),
        allowed=_allowed,
        refusal=NO_ACCESS,
    ),
)
