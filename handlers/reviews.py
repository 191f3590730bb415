"""Review notes, snoozing a review prompt, and interim notes on a plan's timeline.

Entry points: the "Log review notes" and "Snooze" buttons on review prompts, `/ssp review`,
`/ssp note`, and the message shortcut "Add to a pupil's plan". Targets and notes appear only in
modals (DESIGN.md §4); what the modals say is prepared in handlers.review_presenters.

Who may do what: every listener here is for the plans' writers (role middleware at
registration, refused in the words used for a plan that isn't theirs); which plan is decided by
the services from the signed request, never from ids in buttons or private_metadata.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.access import Viewer
from bot.errors import UserError
from bot.services import reviews
from bot.services.plan_editing import join_long
from bot.services.pupils import find_pupils
from handlers import review_presenters as present
from handlers.context import Ask, Runtime, Subcommand, Usage
from handlers.toolkit import (
    PupilButton,
    UsageError,
    as_int,
    as_typed,
    done_modal,
    element,
    find_one_pupil,
    meta_of,
    open_modal,
    requires,
    requires_in_modal,
    selected_value,
    text_value,
)
from models import Effectiveness, ProvisionDecision, Pupil, TargetResult, TimelineKind

log = logging.getLogger(__name__)

SHORTCUT = "ssp_add_to_plan"
NOTE_TITLE = "Add to a pupil's plan"
REVIEW_PICK = PupilButton("ssp_review_pick", "Review")
NOTE_PICK = PupilButton("ssp_note_pick", "Add note")


def register(app: App) -> None:
    writes = [requires(lambda viewer: viewer.writes_plans, reviews.NOT_YOURS)]
    app.action("ssp_review_open", middleware=writes)(open_from_button)
    app.action("ssp_review_pick", middleware=writes)(open_from_button)
    app.action("ssp_review_save_draft", middleware=writes)(save_draft)
    app.view("ssp_review", middleware=writes)(submit_review)
    app.action("ssp_review_snooze", middleware=writes)(open_snooze)
    app.view("ssp_review_snooze", middleware=writes)(submit_snooze)
    app.action("ssp_note_pick", middleware=writes)(note_from_button)
    app.view("ssp_note", middleware=writes)(submit_note)
    app.view("ssp_note_confirm", middleware=writes)(confirm_note)
    # A shortcut has nowhere to answer but a modal of its own.
    in_modal = requires_in_modal(lambda viewer: viewer.writes_plans, NOTE_TITLE, reviews.NOT_YOURS)
    app.shortcut(SHORTCUT, middleware=[in_modal])(note_from_message)


# --- review notes ---------------------------------------------------------------------------


def review_command(ask: Ask) -> dict | None:
    """`/ssp review <pupil>`: their plan's review notes in a modal (a draft, or an amendment)."""
    if not ask.words:
        raise UsageError("Say which pupil: `/ssp review <UPN or name>`.")
    choice = find_one_pupil(
        ask.runtime, ask.viewer, " ".join(ask.words), REVIEW_PICK, via="/ssp review"
    )
    if choice.pupil_id is None:
        return choice.choices
    with ask.runtime.unit_of_work() as session:
        plan_id = reviews.plan_of_pupil(session, ask.viewer, choice.pupil_id)
        view = _review_view(session, ask.runtime, ask.viewer, plan_id, ask.today, "/ssp review")
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
    value = as_int(action.get("value"))
    with runtime.unit_of_work() as session:
        if action["action_id"] == REVIEW_PICK.action_id:  # a pupil chosen from a list
            plan_id = reviews.plan_of_pupil(session, viewer, value)
        else:
            plan_id = value
        view = _review_view(session, runtime, viewer, plan_id, today, "review prompt")
    open_modal(client, body["trigger_id"], view)


def save_draft(
    ack: Ack,
    body: dict,
    client: WebClient,
    runtime: Runtime,
    viewer: Viewer,
    today: date,
    school_timezone: str,
) -> None:
    """ "Save draft" inside the modal: keeps what was typed and says so in the modal."""
    ack()
    view = body["view"]
    meta = meta_of(view)
    plan_id = as_int(meta.get("plan_id"))
    # A button in a modal has no response_url: a refusal is shown in the modal itself.
    try:
        with runtime.unit_of_work() as session:
            saved = reviews.save_review(
                session,
                viewer,
                plan_id=plan_id,
                cycle=as_int(meta.get("cycle")),
                answers=_answers(view.get("state", {}).get("values", {})),
                submit=False,
                now=runtime.now(),
                today=today,
            )
        status = _draft_status(saved, runtime.now(), school_timezone)
        with runtime.unit_of_work() as session:
            new_view = _review_view(session, runtime, viewer, plan_id, today, status=status)
    except UserError as refusal:
        new_view = done_modal("Review notes", str(refusal))
    try:
        client.views_update(view_id=view["id"], hash=view.get("hash"), view=new_view)
    except SlackApiError as error:
        log.info("could not update the review modal: %s", error.response.get("error"))


def submit_review(
    ack: Ack, view: dict, client: WebClient, runtime: Runtime, viewer: Viewer, today: date
) -> None:
    meta = meta_of(view)
    amend = meta.get("mode") == reviews.Mode.AMEND
    ids = {"plan_id": as_int(meta.get("plan_id")), "cycle": as_int(meta.get("cycle"))}
    answers = _answers(view["state"]["values"])
    with runtime.unit_of_work() as session:
        if amend:
            saved = reviews.amend_review(
                session,
                viewer,
                **ids,
                expected_version=as_int(meta.get("version")),
                answers=answers,
                now=runtime.now(),
                today=today,
            )
        else:
            saved = reviews.save_review(
                session,
                viewer,
                **ids,
                answers=answers,
                submit=True,
                now=runtime.now(),
                today=today,
            )
    if isinstance(saved, dict):
        ack(response_action="errors", errors=_block_errors(saved, view))
        return
    if saved.changed and not amend:
        runtime.deliver_soon(client)
    ack(response_action="update", view=done_modal("Review notes", present.saved_text(saved, amend)))


# --- snooze ---------------------------------------------------------------------------------


def open_snooze(
    ack: Ack,
    action: dict,
    body: dict,
    client: WebClient,
    runtime: Runtime,
    viewer: Viewer,
    today: date,
) -> None:
    with runtime.unit_of_work() as session:
        form = reviews.open_review(
            session,
            viewer,
            as_int(action.get("value")),
            via="review prompt",
            now=runtime.now(),
            today=today,
        )
    open_modal(client, body["trigger_id"], present.snooze_view(form))


def submit_snooze(ack: Ack, view: dict, runtime: Runtime, viewer: Viewer) -> None:
    values = view["state"]["values"]
    days = selected_value(values, "days")
    reason = text_value(values, "reason")
    errors = {}
    if days is None:
        errors["days"] = "Choose how long to snooze for."
    if not reason:
        errors["reason"] = "Please give a reason, so the SENDCo knows."
    if errors:
        ack(response_action="errors", errors=errors)
        return
    with runtime.unit_of_work() as session:
        back_on = reviews.snooze(
            session,
            viewer,
            plan_id=as_int(meta_of(view).get("plan_id")),
            school_days=as_int(days),
            reason=reason,
            now=runtime.now(),
        )
    text = f"Snoozed. I'll remind you on {back_on:%A %-d %B}."
    ack(response_action="update", view=done_modal("Snooze review prompt", text))


# --- interim notes --------------------------------------------------------------------------


def note_command(ask: Ask) -> dict | None:
    """`/ssp note <pupil>`: a note for their plan's timeline, written in a modal."""
    if not ask.words:
        raise UsageError(
            "Say which pupil: `/ssp note <UPN or name>`. To file a message you already "
            "have, use the message shortcut *Add to a pupil's plan* on it."
        )
    choice = find_one_pupil(
        ask.runtime, ask.viewer, " ".join(ask.words), NOTE_PICK, via="/ssp note"
    )
    if choice.pupil_id is None:
        return choice.choices
    _open_note(ask.runtime, ask.client, ask.viewer, choice.pupil_id, ask.trigger_id)
    return None


def note_from_button(
    ack: Ack, action: dict, body: dict, client: WebClient, runtime: Runtime, viewer: Viewer
) -> None:
    _open_note(runtime, client, viewer, as_int(action.get("value")), body["trigger_id"])


def note_from_message(ack: Ack, shortcut: dict, client: WebClient) -> None:
    """The message shortcut: file a message's text on a plan, after choosing the pupil."""
    text = as_typed((shortcut.get("message") or {}).get("text") or "")
    open_modal(client, shortcut["trigger_id"], present.note_to_place(text))


def submit_note(ack: Ack, view: dict, runtime: Runtime, viewer: Viewer) -> None:
    """A note's form: with a pupil already chosen it is filed; otherwise the pupil is confirmed."""
    values = view["state"]["values"]
    meta = meta_of(view)
    text = _note_text(values)
    kind = selected_value(values, "kind") or "note"
    shared = _shared(values)
    errors = {} if text else {"text--0": "Write the note first."}
    if "pupil_id" in meta:
        if errors:
            ack(response_action="errors", errors=errors)
            return
        pupil_id = as_int(meta["pupil_id"])
        _file_note(ack, runtime, viewer, pupil_id, kind, text, shared, "/ssp note")
        return
    query = text_value(values, "pupil") or ""
    with runtime.unit_of_work() as session:
        matches = find_pupils(session, viewer, query) if query else []
    if not query:
        errors["pupil"] = "Say which pupil: their name or UPN."
    elif len(matches) != 1:
        errors["pupil"] = present.not_one_pupil(query, matches)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    view = present.note_to_confirm(matches[0], kind, text, shared)
    ack(response_action="update", view=view)


def confirm_note(ack: Ack, view: dict, runtime: Runtime, viewer: Viewer) -> None:
    values = view["state"]["values"]
    text = _note_text(values)
    if not text:
        ack(response_action="errors", errors={"text--0": "Write the note first."})
        return
    pupil_id = as_int(meta_of(view).get("pupil_id"))
    kind = selected_value(values, "kind") or "note"
    _file_note(ack, runtime, viewer, pupil_id, kind, text, _shared(values), "message shortcut")


def _file_note(
    ack, runtime, viewer, pupil_id: int, kind: str, text: str, shared: bool, via: str
) -> None:
    if kind not in _NOTE_KINDS:  # not a choice the form offers: a hand-made request
        raise UserError(reviews.NOT_YOURS)
    with runtime.unit_of_work() as session:
        name = reviews.add_note(
            session,
            viewer,
            pupil_id=pupil_id,
            kind=TimelineKind(kind),
            text=text,
            shared_with_family=shared,
            via=via,
            now=runtime.now(),
        )
    answer = f"Filed on {name}'s plan. It will be in front of you when you log the review."
    ack(response_action="update", view=done_modal(NOTE_TITLE, answer))


def _open_note(runtime: Runtime, client, viewer: Viewer, pupil_id: int, trigger_id) -> None:
    with runtime.unit_of_work() as session:
        reviews.plan_of_pupil(session, viewer, pupil_id)
        pupil = session.get(Pupil, pupil_id)
        name = pupil.known_as if pupil else "the pupil"
    open_modal(client, trigger_id, present.note_for(pupil_id, name))


_NOTE_KINDS = {kind.value for kind in TimelineKind}


# --- reading the forms ----------------------------------------------------------------------


def _review_view(
    session,
    runtime: Runtime,
    viewer: Viewer,
    plan_id: int,
    today: date,
    via: str = "review notes",
    *,
    status: str | None = None,
) -> dict:
    form = reviews.open_review(session, viewer, plan_id, via=via, now=runtime.now(), today=today)
    return present.review_view(form, status)


def _draft_status(saved, now: datetime, timezone: str) -> str:
    """The line at the top of the modal after "Save draft"."""
    if isinstance(saved, dict):  # a date that can't be right: say so, keep the modal
        return f":warning: Not saved: {' '.join(saved.values())}"
    local = now.astimezone(ZoneInfo(timezone))
    return f":floppy_disk: Draft saved at {local:%H:%M}. Finish it any time."


def _answers(values: dict) -> reviews.ReviewAnswers:
    answers = reviews.ReviewAnswers()
    for block_id in values:
        kind, _, target = block_id.partition(":")
        if not target.isdigit():
            continue
        target_id = int(target)
        if kind == "provision":  # a provision's row: its key, not a target's id
            chosen = selected_value(values, block_id)
            if chosen in _DECISIONS:
                answers.decisions[target_id] = ProvisionDecision(chosen)
        elif kind == "effectiveness":  # a provision's rating, by its key
            chosen = selected_value(values, block_id)
            if chosen in _EFFECTIVENESS:
                answers.effectiveness[target_id] = Effectiveness(chosen)
        elif kind == "exit":  # a provision's exit measure, by its id
            answers.exits[target_id] = text_value(values, block_id)
        elif kind == "result":
            chosen = selected_value(values, block_id)
            answers.results[target_id] = TargetResult(chosen) if chosen in _RESULTS else None
        elif kind == "evidence":
            answers.evidence[target_id] = text_value(values, block_id)
        elif kind == "carry":
            chosen = selected_value(values, block_id)
            if chosen in ("carry", "close"):
                answers.carry_forward[target_id] = chosen == "carry"
    # Too many provisions for a row each: two lists, and a provision in neither continues.
    adapt = _picked(values, "provisions_adapt")
    stop = _picked(values, "provisions_stop")
    for key in adapt:
        answers.decisions[key] = ProvisionDecision.ADAPT
    for key in stop:
        answers.decisions[key] = ProvisionDecision.STOP
    answers.adapt_and_stop = adapt & stop
    # And one list per effectiveness rating: a provision in none is left unrated.
    seen: set[int] = set()
    for block_id, rating in zip(reviews.EFFECT_LISTS, Effectiveness, strict=True):
        for key in _picked(values, block_id):
            if key in seen:
                answers.rated_twice.add(key)
            seen.add(key)
            answers.effectiveness[key] = rating
    needed = selected_value(values, "new_outcomes_needed")
    answers.new_outcomes_needed = {"yes": True, "no": False}.get(needed or "")
    answers.texts = {name: text_value(values, name) for name in reviews.TEXT_FIELDS}
    answers.meeting_date = _date(values, "meeting_date")
    answers.next_review_date = _date(values, "next_review_date")
    return answers


_RESULTS = {r.value for r in TargetResult}
_DECISIONS = {d.value for d in ProvisionDecision}
_EFFECTIVENESS = {e.value for e in Effectiveness}


def _picked(values: dict, block_id: str) -> set[int]:
    """The keys chosen in a multi-select of provisions (anything else is ignored)."""
    chosen = element(values, block_id).get("selected_options") or []
    return {
        int(o["value"])
        for o in chosen
        if isinstance(o, dict) and isinstance(o.get("value"), str) and o["value"].isdigit()
    }


def _block_errors(errors: dict[str, str], view: dict) -> dict[str, str]:
    """Errors for blocks that are in the view (Slack refuses an error for a missing block)."""
    present_blocks = {b.get("block_id") for b in view.get("blocks", [])}
    shown = {key: problem for key, problem in errors.items() if key in present_blocks}
    return shown or {"meeting_date": " ".join(errors.values())[:300]}


def _date(values: dict, block_id: str) -> date | None:
    value = element(values, block_id).get("selected_date")
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _note_text(values: dict) -> str:
    blocks = sorted(
        (b for b in values if b.startswith("text--")), key=lambda b: int(b.rsplit("--", 1)[1])
    )
    return join_long([element(values, b).get("value") for b in blocks]).strip()


def _shared(values: dict) -> bool:
    """The note form's "Share with the family" box: ticked only if its one option was chosen."""
    chosen = element(values, "share").get("selected_options") or []
    return any(isinstance(o, dict) and o.get("value") == "yes" for o in chosen)


# --- /ssp subcommands answered here -----------------------------------------------------------

SUBCOMMANDS = (
    Subcommand(
        "review",
        review_command,
        help=(
            Usage(
                "`/ssp review <UPN or name>` — log review notes for a plan (or amend ones you "
                "submitted), drafts kept until you submit",
                lambda viewer: viewer.writes_plans,
            ),
        ),
        allowed=lambda viewer: viewer.writes_plans,
        refusal=reviews.NOT_YOURS,
    ),
    Subcommand(
        "note",
        note_command,
        help=(
            Usage(
                "`/ssp note <UPN or name>` — add a note to a pupil's plan (a meeting, a call, an "
                "observation); or use the message shortcut *Add to a pupil's plan* on a message",
                lambda viewer: viewer.writes_plans,
            ),
        ),
        allowed=lambda viewer: viewer.writes_plans,
        refusal=reviews.NOT_YOURS,
    ),
)
