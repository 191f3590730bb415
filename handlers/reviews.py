"""Review notes, snoozing a review prompt, and interim notes on a plan's timeline.

Entry points: the "Log review notes" and "Snooze" buttons on review prompts, `/ssp review`,
`/ssp note`, and the message shortcut "Add to a pupil's plan". Targets and notes appear only in
modals (DESIGN.md §4); who may do what comes from the signed request, and ids in buttons and
private_metadata are checked against it by the services.
"""

from __future__ import annotations

import json
import logging
from datetime import date

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.access import Viewer
from bot.errors import UserError
from bot.render import escape_mrkdwn, render_json, year_label
from bot.services import reviews
from bot.services.plan_editing import join_long, split_long
from bot.services.pupils import MAX_MATCHES, find_pupils
from handlers import toolkit as forms
from handlers.context import Runtime, Subcommand, Usage, runtime_of, school_timezone, viewer_of
from models import TargetResult, TimelineKind

log = logging.getLogger(__name__)

SHORTCUT = "ssp_add_to_plan"
MAX_NOTE_BOXES = 10


def register(app: App) -> None:
    app.action("ssp_review_open")(open_from_button)
    app.action("ssp_review_pick")(open_from_button)
    app.action("ssp_review_save_draft")(save_draft)
    app.view("ssp_review")(submit_review)
    app.action("ssp_review_snooze")(open_snooze)
    app.view("ssp_review_snooze")(submit_snooze)
    app.action("ssp_note_pick")(note_from_button)
    app.view("ssp_note")(submit_note)
    app.shortcut(SHORTCUT)(note_from_message)
    app.view("ssp_note_confirm")(confirm_note)


# --- review notes ---------------------------------------------------------------------------


def review_command(
    runtime: Runtime,
    client: WebClient,
    viewer: Viewer,
    rest: list[str],
    trigger_id: str,
    respond: Respond,
    today: date,
) -> None:
    if not rest:
        respond(**forms.notice("Say which pupil: `/ssp review <UPN or name>`."))
        return
    pupil_id = _one_pupil(runtime, viewer, " ".join(rest), "ssp_review_pick", "Review", respond)
    if pupil_id is None:
        return
    try:
        with runtime.unit_of_work() as session:
            plan_id = reviews.plan_of_pupil(session, viewer, pupil_id)
            view = _review_view(session, runtime, viewer, plan_id, today, via="/ssp review")
    except UserError as refusal:
        respond(**forms.notice(str(refusal)))
        return
    _open(client, trigger_id, view, respond)


def open_from_button(
    ack: Ack, action: dict, body: dict, client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    runtime, viewer = runtime_of(context), viewer_of(context)
    value = str(action.get("value") or "")
    today = runtime.today(school_timezone(context))
    try:
        with runtime.unit_of_work() as session:
            if action["action_id"] == "ssp_review_pick":  # a pupil chosen from a list
                plan_id = reviews.plan_of_pupil(session, viewer, forms.as_int(value))
            else:
                plan_id = forms.as_int(value)
            view = _review_view(session, runtime, viewer, plan_id, today, via="review prompt")
    except UserError as refusal:
        respond(**forms.notice(str(refusal)))
        return
    _open(client, body["trigger_id"], view, respond)


def save_draft(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    """ "Save draft" inside the modal: keeps what was typed and says so in the modal."""
    ack()
    runtime, viewer = runtime_of(context), viewer_of(context)
    view = body["view"]
    meta = forms.meta_of(view)
    today = runtime.today(school_timezone(context))
    answers = _answers(view.get("state", {}).get("values", {}))
    try:
        with runtime.unit_of_work() as session:
            saved = reviews.save_review(
                session,
                viewer,
                plan_id=forms.as_int(meta.get("plan_id")),
                cycle=forms.as_int(meta.get("cycle")),
                answers=answers,
                submit=False,
                now=runtime.now(),
                today=today,
            )
        if isinstance(saved, dict):  # a date that can't be right: say so, keep the modal
            problem = " ".join(saved.values())
            status = f":warning: Not saved: {problem}"
            with runtime.unit_of_work() as session:
                new_view = _review_view(session, runtime, viewer, meta["plan_id"], today, status)
        else:
            local = runtime.now().astimezone(_zone(context))
            status = f":floppy_disk: Draft saved at {local:%H:%M}. Finish it any time."
            with runtime.unit_of_work() as session:
                new_view = _review_view(session, runtime, viewer, meta["plan_id"], today, status)
    except UserError as refusal:
        new_view = forms.done_modal("Review notes", str(refusal))
    try:
        client.views_update(view_id=view["id"], hash=view.get("hash"), view=new_view)
    except SlackApiError as error:
        log.info("could not update the review modal: %s", error.response.get("error"))


def submit_review(ack: Ack, view: dict, context: BoltContext, client: WebClient) -> None:
    runtime, viewer = runtime_of(context), viewer_of(context)
    meta = forms.meta_of(view)
    today = runtime.today(school_timezone(context))
    answers = _answers(view["state"]["values"])
    try:
        with runtime.unit_of_work() as session:
            if meta.get("mode") == reviews.Mode.AMEND:
                saved = reviews.amend_review(
                    session,
                    viewer,
                    plan_id=forms.as_int(meta.get("plan_id")),
                    cycle=forms.as_int(meta.get("cycle")),
                    expected_version=forms.as_int(meta.get("version")),
                    answers=answers,
                    now=runtime.now(),
                    today=today,
                )
            else:
                saved = reviews.save_review(
                    session,
                    viewer,
                    plan_id=forms.as_int(meta.get("plan_id")),
                    cycle=forms.as_int(meta.get("cycle")),
                    answers=answers,
                    submit=True,
                    now=runtime.now(),
                    today=today,
                )
    except UserError as refusal:
        ack(response_action="update", view=forms.done_modal("Review notes", str(refusal)))
        return
    if isinstance(saved, dict):
        ack(response_action="errors", errors=_block_errors(saved, view))
        return
    if not saved.changed:
        text = "Nothing was changed: the notes are as they were."
    elif meta.get("mode") == reviews.Mode.AMEND:
        text = (
            f"Your amendment to {saved.pupil_name}'s review notes is saved; the earlier version "
            "is kept in the plan's history."
        )
    else:
        runtime.deliver_soon(client)
        text = (
            f"{saved.pupil_name}'s review is submitted. Plan {saved.new_cycle} has started with "
            f"{saved.carried} target(s) carried forward and {saved.closed} closed; its review "
            f"is on {saved.next_review_date:%-d %B %Y}. It has gone to the SENDCo for quality "
            "assurance. You can amend the notes with `/ssp review` until the SENDCo approves."
        )
    ack(response_action="update", view=forms.done_modal("Review notes", text))


# --- snooze ---------------------------------------------------------------------------------


def open_snooze(
    ack: Ack, action: dict, body: dict, client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    runtime, viewer = runtime_of(context), viewer_of(context)
    try:
        with runtime.unit_of_work() as session:
            form = reviews.open_review(
                session,
                viewer,
                forms.as_int(action.get("value")),
                via="review prompt",
                now=runtime.now(),
                today=runtime.today(school_timezone(context)),
            )
    except UserError as refusal:
        respond(**forms.notice(str(refusal)))
        return
    view = render_json(
        "snooze_modal.json.j2",
        pupil_name=form.pupil_name,
        choices=reviews.SNOOZE_CHOICES,
        meta=json.dumps({"plan_id": form.plan_id}),
    )
    _open(client, body["trigger_id"], view, respond)


def submit_snooze(ack: Ack, view: dict, context: BoltContext) -> None:
    runtime, viewer = runtime_of(context), viewer_of(context)
    values = view["state"]["values"]
    days = forms.selected_value(values, "days")
    reason = forms.text_value(values, "reason")
    errors = {}
    if days is None:
        errors["days"] = "Choose how long to snooze for."
    if not reason:
        errors["reason"] = "Please give a reason, so the SENDCo knows."
    if errors:
        ack(response_action="errors", errors=errors)
        return
    try:
        with runtime.unit_of_work() as session:
            back_on = reviews.snooze(
                session,
                viewer,
                plan_id=forms.as_int(forms.meta_of(view).get("plan_id")),
                school_days=forms.as_int(days),
                reason=reason,
                now=runtime.now(),
            )
        text = f"Snoozed. I'll remind you on {back_on:%A %-d %B}."
    except UserError as refusal:
        text = str(refusal)
    ack(response_action="update", view=forms.done_modal("Snooze review prompt", text))


# --- interim notes --------------------------------------------------------------------------


def note_command(
    runtime: Runtime, client: WebClient, viewer: Viewer, rest: list[str], trigger_id, respond
) -> None:
    if not rest:
        respond(
            **forms.notice(
                "Say which pupil: `/ssp note <UPN or name>`. To file a message you already "
                "have, use the message shortcut *Add to a pupil's plan* on it."
            )
        )
        return
    pupil_id = _one_pupil(runtime, viewer, " ".join(rest), "ssp_note_pick", "Add note", respond)
    if pupil_id is not None:
        _open_note(runtime, client, viewer, pupil_id, trigger_id, respond)


def note_from_button(
    ack: Ack, action: dict, body: dict, client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    runtime, viewer = runtime_of(context), viewer_of(context)
    _open_note(
        runtime, client, viewer, forms.as_int(action.get("value")), body["trigger_id"], respond
    )


def note_from_message(ack: Ack, shortcut: dict, client: WebClient, context: BoltContext) -> None:
    """The message shortcut: file a message's text on a plan, after choosing the pupil."""
    ack()
    viewer = viewer_of(context)
    if not (viewer.is_sendco or viewer.is_case_holder):
        client.views_open(
            trigger_id=shortcut["trigger_id"],
            view=forms.done_modal("Add to a pupil's plan", reviews.NOT_YOURS),
        )
        return
    text = (shortcut.get("message") or {}).get("text") or ""
    view = render_json(
        "note_modal.json.j2",
        callback_id="ssp_note",
        submit="Next",
        meta="{}",
        pupil_line=None,
        pupil_query=None,
        kind="note",
        pieces=_pieces(_unescape(text)),
    )
    client.views_open(trigger_id=shortcut["trigger_id"], view=view)


def submit_note(ack: Ack, view: dict, context: BoltContext) -> None:
    """A note's form: with a pupil already chosen it is filed; otherwise the pupil is confirmed."""
    runtime, viewer = runtime_of(context), viewer_of(context)
    values = view["state"]["values"]
    meta = forms.meta_of(view)
    text = _note_text(values)
    kind = forms.selected_value(values, "kind") or "note"
    errors = {} if text else {"text--0": "Write the note first."}
    if "pupil_id" in meta:
        if errors:
            ack(response_action="errors", errors=errors)
            return
        _file_note(ack, runtime, viewer, forms.as_int(meta["pupil_id"]), kind, text, "/ssp note")
        return
    query = forms.text_value(values, "pupil") or ""
    with runtime.unit_of_work() as session:
        matches = find_pupils(session, viewer, query) if query else []
    if not query:
        errors["pupil"] = "Say which pupil: their name or UPN."
    elif not matches:
        errors["pupil"] = f"No pupil matching “{query[:60]}” among the pupils you can see."
    elif len(matches) > 1:
        shown = "; ".join(
            f"{m.name} ({year_label(m.year_group)}{', ' + m.form if m.form else ''})"
            for m in matches[:5]
        )
        more = "" if len(matches) <= 5 else f" and {len(matches) - 5} more"
        errors["pupil"] = (
            f"{len(matches)} pupils match: {shown}{more}. Type more of the name, or the UPN."
        )
    if errors:
        ack(response_action="errors", errors=errors)
        return
    pupil = matches[0]
    where = year_label(pupil.year_group) + (f", {escape_mrkdwn(pupil.form)}" if pupil.form else "")
    confirm = render_json(
        "note_modal.json.j2",
        callback_id="ssp_note_confirm",
        submit="File note",
        meta=json.dumps({"pupil_id": pupil.pupil_id}),
        pupil_line=f"File this on the plan of *{escape_mrkdwn(pupil.name)}* ({where})?",
        pupil_query=None,
        kind=kind,
        pieces=_pieces(text),
    )
    ack(response_action="update", view=confirm)


def confirm_note(ack: Ack, view: dict, context: BoltContext) -> None:
    runtime, viewer = runtime_of(context), viewer_of(context)
    values = view["state"]["values"]
    text = _note_text(values)
    if not text:
        ack(response_action="errors", errors={"text--0": "Write the note first."})
        return
    pupil_id = forms.as_int(forms.meta_of(view).get("pupil_id"))
    kind = forms.selected_value(values, "kind") or "note"
    _file_note(ack, runtime, viewer, pupil_id, kind, text, "message shortcut")


def _file_note(ack, runtime, viewer, pupil_id: int, kind: str, text: str, via: str) -> None:
    try:
        with runtime.unit_of_work() as session:
            name = reviews.add_note(
                session,
                viewer,
                pupil_id=pupil_id,
                kind=TimelineKind(kind),
                text=text,
                via=via,
                now=runtime.now(),
            )
        answer = f"Filed on {name}'s plan. It will be in front of you when you log the review."
    except (UserError, ValueError) as refusal:
        answer = str(refusal) if isinstance(refusal, UserError) else reviews.NOT_YOURS
    ack(response_action="update", view=forms.done_modal("Add to a pupil's plan", answer))


def _open_note(runtime, client, viewer, pupil_id: int, trigger_id: str, respond) -> None:
    try:
        with runtime.unit_of_work() as session:
            reviews.plan_of_pupil(session, viewer, pupil_id)
            name = _pupil_name(session, pupil_id)
    except UserError as refusal:
        respond(**forms.notice(str(refusal)))
        return
    view = render_json(
        "note_modal.json.j2",
        callback_id="ssp_note",
        submit="File note",
        meta=json.dumps({"pupil_id": pupil_id}),
        pupil_line=f"A note for the plan of *{escape_mrkdwn(name)}*.",
        pupil_query=None,
        kind="note",
        pieces=[""],
    )
    _open(client, trigger_id, view, respond)


# --- helpers --------------------------------------------------------------------------------


def _review_view(
    session,
    runtime: Runtime,
    viewer: Viewer,
    plan_id: int,
    today: date,
    status_line: str | None = None,
    *,
    via: str = "review notes",
) -> dict:
    form = reviews.open_review(session, viewer, plan_id, via=via, now=runtime.now(), today=today)
    if status_line is None and form.status is not None and form.mode == reviews.Mode.NOTES:
        status_line = "You have a draft of these notes: carry on where you left off."
    target_texts = []
    for number, t in enumerate(form.targets, start=1):
        details = [
            f"Measure: {t.measure}" if t.measure else None,
            f"Baseline: {t.baseline}" if t.baseline else None,
            f"Success looks like: {t.success_criteria}" if t.success_criteria else None,
            f"By {t.end_date:%-d %B %Y}" if t.end_date else None,
        ]
        body = "\n".join(escape_mrkdwn(d) for d in details if d)
        target_texts.append(
            f"*Target {number}:* {escape_mrkdwn(t.description)}" + (f"\n{body}" if body else "")
        )
    note_lines = [
        f"• {n.occurred_at:%-d %b} · {n.kind}{' · ' + escape_mrkdwn(n.author) if n.author else ''}:"
        f" {escape_mrkdwn(_clip(n.text))}"
        for n in form.notes
    ]
    feedback_lines = []
    if form.feedback is not None:
        feedback_lines.append(escape_mrkdwn(form.feedback.summary))
        feedback_lines += [
            f"• {escape_mrkdwn(teacher)}{' (' + escape_mrkdwn(subject) + ')' if subject else ''}:"
            f" {escape_mrkdwn(_clip(text, 300))}"
            for teacher, subject, text in form.feedback.comments
        ]
    meta = {
        "plan_id": form.plan_id,
        "cycle": form.cycle,
        "mode": form.mode.value,
        "version": form.review_version,
    }
    return render_json(
        "review_modal.json.j2",
        form=form,
        meta=json.dumps(meta),
        status_line=status_line,
        note_lines=note_lines,
        feedback_lines=feedback_lines,
        target_texts=target_texts,
    )


def _answers(values: dict) -> reviews.ReviewAnswers:
    answers = reviews.ReviewAnswers()
    for block_id in values:
        kind, _, target = block_id.partition(":")
        if not target.isdigit():
            continue
        target_id = int(target)
        if kind == "result":
            chosen = forms.selected_value(values, block_id)
            answers.results[target_id] = TargetResult(chosen) if chosen in _RESULTS else None
        elif kind == "evidence":
            answers.evidence[target_id] = forms.text_value(values, block_id)
        elif kind == "carry":
            chosen = forms.selected_value(values, block_id)
            if chosen in ("carry", "close"):
                answers.carry_forward[target_id] = chosen == "carry"
    answers.texts = {name: forms.text_value(values, name) for name in reviews.TEXT_FIELDS}
    answers.meeting_date = _date(values, "meeting_date")
    answers.next_review_date = _date(values, "next_review_date")
    return answers


_RESULTS = {r.value for r in TargetResult}


def _block_errors(errors: dict[str, str], view: dict) -> dict[str, str]:
    """Errors for blocks that are in the view (Slack refuses an error for a missing block)."""
    present = {b.get("block_id") for b in view.get("blocks", [])}
    shown = {key: problem for key, problem in errors.items() if key in present}
    return shown or {"meeting_date": " ".join(errors.values())[:300]}


def _date(values: dict, block_id: str) -> date | None:
    value = forms.element(values, block_id).get("selected_date")
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _note_text(values: dict) -> str:
    blocks = sorted(
        (b for b in values if b.startswith("text--")), key=lambda b: int(b.rsplit("--", 1)[1])
    )
    return join_long([forms.element(values, b).get("value") for b in blocks]).strip()


def _pieces(text: str) -> list[str]:
    pieces = split_long(text)
    if len(pieces) > MAX_NOTE_BOXES:  # a message of over 30,000 characters: keep it all
        pieces = pieces[: MAX_NOTE_BOXES - 1] + [join_long(pieces[MAX_NOTE_BOXES - 1 :])]
    return pieces


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _clip(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _one_pupil(runtime, viewer, query: str, action_id: str, label: str, respond) -> int | None:
    from handlers.plan_editor import NOT_FOUND, _choices

    with runtime.unit_of_work() as session:
        matches = find_pupils(session, viewer, query)
    if not matches:
        respond(**forms.notice(NOT_FOUND.format(query[:80])))
    elif len(matches) > MAX_MATCHES:
        respond(
            **forms.notice(
                f"More than {MAX_MATCHES} pupils match; add more of the name or use the UPN."
            )
        )
    elif len(matches) > 1:
        respond(**_choices(query, matches, action_id, label))
    else:
        return matches[0].pupil_id
    return None


def _pupil_name(session, pupil_id: int) -> str:
    from models import Pupil

    pupil = session.get(Pupil, pupil_id)
    return pupil.known_as if pupil else "the pupil"


def _open(client: WebClient, trigger_id: str, view: dict, respond) -> None:
    try:
        client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as error:
        log.warning("opening a review modal failed: %s", error.response.get("error"))
        respond(
            **forms.notice(
                "Slack wouldn't open the form just then (it gives me three seconds). "
                "Please try again."
            )
        )


def _zone(context: BoltContext):
    from zoneinfo import ZoneInfo

    return ZoneInfo(school_timezone(context))


# --- /ssp subcommands answered here -----------------------------------------------------------

SUBCOMMANDS = (
    Subcommand(
        "review",
        lambda ask: review_command(
            ask.runtime, ask.client, ask.viewer, ask.words, ask.trigger_id, ask.respond, ask.today
        ),
        help=(
            Usage(
                "`/ssp review <UPN or name>` — log review notes for a plan (or amend ones you "
                "submitted), drafts kept until you submit",
                lambda viewer: viewer.writes_plans,
            ),
        ),
    ),
    Subcommand(
        "note",
        lambda ask: note_command(
            ask.runtime, ask.client, ask.viewer, ask.words, ask.trigger_id, ask.respond
        ),
        help=(
            Usage(
                "`/ssp note <UPN or name>` — add a note to a pupil's plan (a meeting, a call, an "
                "observation); or use the message shortcut *Add to a pupil's plan* on a message",
                lambda viewer: viewer.writes_plans,
            ),
        ),
    ),
)
