"""What the review, snooze and note modals say, prepared so that their templates only lay it out.

Every string here that Slack shows as mrkdwn is escaped here (bot.render.escape_mrkdwn); the
templates place them with `|tojson`. Used by handlers.reviews.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.render import escape_mrkdwn, render_json, uk_date, year_label
from bot.services import impact, reviews
from bot.services.plan_editing import MAX_TEXT, split_long
from bot.services.pupils import PupilMatch

MAX_NOTE_BOXES = 10
RESULTS = tuple((label, result.value) for result, label in reviews.RESULT_LABELS.items())
CARRY, CLOSE = ("Carry forward", "carry"), ("Close this target", "close")
DECISIONS = tuple((label, decision.value) for decision, label in reviews.DECISION_LABELS.items())
RATINGS = tuple((label, rating.value) for rating, label in reviews.EFFECTIVENESS_LABELS.items())
NO_SESSIONS = "Not run through an intervention group: no sessions recorded."
SECTION_TEXT = 2900  # what ui.section keeps of a text (Slack holds 3,000)
YES, NO = ("Yes", "yes"), ("No", "no")
# A provision's row is labelled with what it is; a long one is cut so the form stays readable.
PROVISION_LABEL = 300
NOTE_KINDS = tuple((label, kind.value) for kind, label in reviews.NOTE_KINDS.items())


@dataclass(frozen=True)
class TargetRow:
    """One target in the review modal: what it is, and what has been said about it so far."""

    target_id: int
    text: str
    result: tuple[str, str] | None  # (label, value) of the result chosen so far
    evidence: str | None
    carry: tuple[str, str] | None  # (label, value) of "carry forward" or "close", if chosen
    carried: str  # for an amendment, where the target went


@dataclass(frozen=True)
class ProvisionRow:
    """One provision in the review modal: its label and the decision so far (label, value)."""

    key: int
    label: str
    option: str  # the shorter words for the lists (Slack cuts an option at 75 characters)
    decision: tuple[str, str] | None
    delivered: str = ""  # how much was delivered this cycle (mrkdwn), and a flag if little
    effectiveness: tuple[str, str] | None = None
    rating_hint: str = ""
    rating_optional: bool = False
    exit_label: str | None = None  # asked only with an entry measure
    exit_hint: str = ""
    exit_value: str | None = None


# --- the review notes -----------------------------------------------------------------------


def review_view(form: reviews.ReviewForm, status: str | None = None) -> dict:
    amend = form.mode == reviews.Mode.AMEND
    if status is None and form.status is not None and form.mode == reviews.Mode.NOTES:
        status = "You have a draft of these notes: carry on where you left off."
    meta = {
        "plan_id": form.plan_id,
        "cycle": form.cycle,
        "mode": form.mode.value,
        "version": form.review_version,
    }
    return render_json(
        "review_modal.json.j2",
        form=form,
        amend=amend,
        meta=json.dumps(meta),
        heading=_heading(form),
        context_line=_amending(form) if amend else status,
        feedback=_feedback(form),
        observed=_observed(form),
        notes=_notes(form),
        targets=[_target(number, t) for number, t in enumerate(form.targets, start=1)],
        results=RESULTS,
        carry=CARRY,
        close=CLOSE,
        more_targets=_more_targets(form.more_targets),
        provisions=[_provision(n, p) for n, p in enumerate(form.provisions, start=1)],
        provisions_intro=_provisions_intro(form),
        listed=form.provisions_listed,
        decisions=DECISIONS,
        ratings=RATINGS,
        effect_lists=[
            (block_id, f"Rated {label.lower()}", _rated(form, rating))
            for block_id, (label, rating) in zip(reviews.EFFECT_LISTS, RATINGS, strict=True)
        ],
        adapt_chosen=_chosen(form, reviews.ProvisionDecision.ADAPT),
        stop_chosen=_chosen(form, reviews.ProvisionDecision.STOP),
        yes=YES,
        no=NO,
        meeting_hint=_planned_meeting(form.planned_meeting),
        new_outcomes=(
            None if form.new_outcomes_needed is None else (YES if form.new_outcomes_needed else NO)
        ),
        draft_help=(
            f"*Save draft* keeps what you have written to finish later. *Submit review* closes "
            f"plan {form.cycle}: each target's status is set, plan {form.cycle + 1} starts, and "
            "the plan goes to the SENDCo for quality assurance."
        ),
    )


def _planned_meeting(summary) -> str:
    """The meeting set with the family, under the meeting's date (a hint is plain text)."""
    if summary is None:
        return ""
    return f"Set with the family for {summary.details.said}. {summary.answer}."[:300]


def saved_text(result, amend: bool) -> str:
    """What the modal says once the notes are submitted or amended."""
    if not result.changed:
        return "Nothing was changed: the notes are as they were."
    if amend:
        return (
            f"Your amendment to {escape_mrkdwn(result.pupil_name)}'s review notes is saved; "
            "the earlier "
            "version is kept in the plan's history."
        )
    started = (
        f"{escape_mrkdwn(result.pupil_name)}'s review is submitted. Plan {result.new_cycle} "
        "has started with "
        f"{result.carried} target(s) carried forward and {result.closed} closed; its review "
        f"is on {result.next_review_date:%-d %B %Y}."
    )
    started += _to_change(result)
    if not result.sent_for_qa:
        return f"{started} The school's setting does not send this review for quality assurance."
    return (
        f"{started} It has gone to the SENDCo for quality "
        "assurance. You can amend the notes with `/ssp review` until the SENDCo approves."
    )


def _to_change(result) -> str:
    """The provision the review decided to change: a stopped one is ended now (kept in the
    plan's record, its intervention group places ended); an adapted one is changed in
    `/ssp plan`."""
    parts = []
    if result.adapted:
        parts.append(f"{_count(result.adapted, 'provision')} to adapt")
    if result.stopped:
        parts.append(f"{_count(result.stopped, 'provision')} to stop")
    if not parts:
        return ""
    said = f" You decided {' and '.join(parts)}."
    if result.stopped:
        said += (
            " What you stopped has ended today: it stays in the plan's record as tried, and "
            "the pupil has left its intervention group."
        )
    if result.adapted:
        said += " Change what you adapt in the plan's provision with `/ssp plan`."
    return said


def _heading(form) -> str:
    heading = f"*{escape_mrkdwn(form.pupil_name)}* · {year_label(form.year_group)} · "
    heading += f"review of plan {form.cycle}"
    if form.review_date:
        heading += f" · review date {uk_date(form.review_date)}"
    return heading


def _amending(form) -> str:
    earlier = ""
    if form.amendments:
        earlier = f" ({_count(form.amendments, 'earlier version')})"
    return (
        f"Submitted by {escape_mrkdwn(form.author or 'someone')} on {uk_date(form.submitted_at)}."
        " You can amend these notes until the SENDCo approves the plan; what they said before "
        f"is kept{earlier}."
    )


def _feedback(form) -> str | None:
    if form.feedback is None:
        return None
    lines = [escape_mrkdwn(form.feedback.summary)]
    for teacher, subject, text in form.feedback.comments:
        who = escape_mrkdwn(teacher) + (f" ({escape_mrkdwn(subject)})" if subject else "")
        lines.append(f"• {who}: {escape_mrkdwn(_clip(text, 300))}")
    return "*Teachers' feedback this cycle*\n" + "\n".join(lines)


OBSERVATIONS_SHOWN = 8  # in the review form: one section of 3,000 characters holds them


def _observed(form) -> str | None:
    """This cycle's observations between reviews, newest first, each cut to a few lines."""
    if not form.observations:
        return None
    lines = []
    for entry in form.observations[:OBSERVATIONS_SHOWN]:
        lines.append(
            f"• {uk_date(entry.observed_on)}, {escape_mrkdwn(entry.author)}: "
            f"{escape_mrkdwn(_clip(entry.what_happened, 200))} "
            f"_({escape_mrkdwn(_clip(entry.strategy, 80))}; helped: {entry.helped.label.lower()})_"
        )
    more = len(form.observations) - OBSERVATIONS_SHOWN
    if more > 0:
        lines.append(f"…and {more} more.")
    return "*Observations this cycle*\n" + "\n".join(lines)


def _notes(form) -> str | None:
    if not form.notes:
        return None
    lines = []
    for note in form.notes:
        about = [f"{note.occurred_at:%-d %b}", note.kind]
        if note.author:
            about.append(escape_mrkdwn(note.author))
        lines.append(f"• {' · '.join(about)}: {escape_mrkdwn(_clip(note.text))}")
    return "*Notes logged this cycle*\n" + "\n".join(lines)


def _target(number: int, t: reviews.TargetLine) -> TargetRow:
    details = [
        f"Measure: {t.measure}" if t.measure else None,
        f"Baseline: {t.baseline}" if t.baseline else None,
        f"Success looks like: {t.success_criteria}" if t.success_criteria else None,
        f"By {t.end_date:%-d %B %Y}" if t.end_date else None,
    ]
    text = "\n".join(
        [f"*Target {number}:* {escape_mrkdwn(t.description)}"]
        + [escape_mrkdwn(d) for d in details if d]
    )
    if t.provided:
        # Was the provision towards it delivered, before its result is judged?
        lines = [
            f"• {escape_mrkdwn(_clip(what, 120))}: {delivered_words(figures)}"
            for what, figures in t.provided
        ]
        text += "\n_Provision towards this target, this cycle:_\n" + "\n".join(lines)
    text = _clip_lines(text, SECTION_TEXT)
    carry = None
    if t.carry_forward is not None:
        carry = CARRY if t.carry_forward else CLOSE
    return TargetRow(
        target_id=t.target_id,
        text=text,
        result=(reviews.RESULT_LABELS[t.result], t.result.value) if t.result else None,
        evidence=t.evidence,
        carry=carry,
        carried=(
            "Carried forward into the next plan" if t.carry_forward else "Closed at this review"
        ),
    )


def delivered_words(figures, *, flag: bool = False) -> str:
    """How much of a provision was delivered, for the person judging it (mrkdwn):
    "Delivered: 9 of 12 sessions (75%)", with a calm flag below FAIR_CHANCE when `flag`."""
    if figures is None:
        return NO_SESSIONS
    if not figures.planned:
        return "Delivered: no sessions were due yet."
    words = f"Delivered: {figures.delivered} of {figures.planned} sessions ({figures.rate:.0%})"
    if figures.awaiting:
        words += f", {figures.awaiting} not yet logged"
    words += "."
    if flag and figures.rate < reviews.FAIR_CHANCE:
        words += (
            f" Only {figures.delivered} of {figures.planned} sessions happened: consider "
            "whether it had a fair chance."
        )
    return words


def _provision(number: int, line: reviews.ProvisionLine) -> ProvisionRow:
    words = " ".join(line.what.split())
    label = f"{number}. {words}" + (f" ({line.details})" if line.details else "")
    exit_label = exit_hint = None
    if line.measure is not None:
        kind = line.measure.kind
        exit_label = _clip(f"Exit measure: {line.measure.name or kind.label}", 150)
        entry = impact.describe(kind, line.measure.entry)
        exit_hint = f"At the start: {entry}. Type {impact.EXAMPLES[kind]}."
    return ProvisionRow(
        key=line.key,
        label=_clip(label, PROVISION_LABEL),
        option=_clip(f"{number}. {words}", 75),
        decision=(reviews.DECISION_LABELS[line.decision], line.decision.value)
        if line.decision
        else None,
        delivered=delivered_words(line.delivered, flag=True),
        effectiveness=(
            (reviews.EFFECTIVENESS_LABELS[line.effectiveness], line.effectiveness.value)
            if line.effectiveness
            else None
        ),
        rating_optional=line.rating_optional,
        rating_hint=(
            "None of its sessions happened this cycle: rate it only if you can."
            if line.rating_optional
            else "Judge it beside how much of it was delivered."
        ),
        exit_label=exit_label,
        exit_hint=exit_hint or "",
        exit_value=line.exit_typed,
    )


def _listed_delivery(form: reviews.ReviewForm) -> str:
    """With the provisions asked as lists: how much of each was delivered, in one section's
    worth of lines (those run through intervention groups; the rest are counted)."""
    lines, untracked = [], 0
    for number, line in enumerate(form.provisions, start=1):
        if line.delivered is None:
            untracked += 1
            continue
        what = escape_mrkdwn(_clip(" ".join(line.what.split()), 60))
        lines.append(f"• {number}. {what}: {delivered_words(line.delivered, flag=True)}")
    if untracked:
        lines.append(f"• {_count(untracked, 'other')}: {NO_SESSIONS}")
    return "\n".join(lines)


def _clip_lines(text: str, limit: int) -> str:
    """Text cut at a line's end to fit `limit` characters, saying how many lines were left out."""
    if len(text) <= limit:
        return text
    lines = text.split("\n")
    kept: list[str] = []
    for n, line in enumerate(lines):
        more = f"\n…and {len(lines) - n} more."
        if len("\n".join([*kept, line])) + len(more) + 20 > limit:
            return "\n".join(kept) + more
        kept.append(line)
    return "\n".join(kept)


def _provisions_intro(form: reviews.ReviewForm) -> str | None:
    if not form.provisions:
        return None
    intro = (
        "*Provision:* does each support continue, or does something different need to be "
        "tried? Choose continue, adapt or stop for each."
    )
    if form.provisions_listed:
        total = _count(len(form.provisions) + form.more_provisions, "provision")
        intro = (
            f"*Provision:* this plan has {total}, "
            "more than this form can ask about one by one. Choose the ones to adapt and the ones "
            "to stop; every provision you don't choose continues."
        )
    if form.more_provisions:
        intro += (
            f" The lists hold the first {len(form.provisions)}: the other "
            f"{form.more_provisions} continue unchanged (change them in `/ssp plan`)."
        )
    if form.provisions_listed:
        intro += (
            " Rate how effective each was in the lists below it (optional with this many)."
            "\n*Delivered this cycle*\n" + _listed_delivery(form)
        )
        intro = _clip_lines(intro, SECTION_TEXT)
    return intro


def _rated(form: reviews.ReviewForm, rating: str) -> list[tuple[str, str]]:
    """The options already chosen in one effectiveness list (a reopened draft, an amendment)."""
    return [
        (_provision(n, p).option, str(p.key))
        for n, p in enumerate(form.provisions, start=1)
        if p.effectiveness is not None and p.effectiveness.value == rating
    ]


def _chosen(form: reviews.ReviewForm, decision) -> list[tuple[str, str]]:
    """The options already chosen in one of the lists (a reopened draft, an amendment)."""
    rows = [_provision(n, p) for n, p in enumerate(form.provisions, start=1)]
    return [
        (row.option, str(row.key))
        for row, line in zip(rows, form.provisions, strict=True)
        if line.decision == decision
    ]


def _more_targets(more: int) -> str | None:
    if not more:
        return None
    return (
        f"This plan has {_count(more, 'more open target')} than one form can hold. They stay "
        "open into the next plan: review them there, or close them in `/ssp plan`."
    )


# --- snooze ---------------------------------------------------------------------------------


def snooze_view(form: reviews.ReviewForm) -> dict:
    return render_json(
        "snooze_modal.json.j2",
        intro=(
            f"Push the prompt for *{escape_mrkdwn(form.pupil_name)}*'s review back. You can do "
            "this once; the SENDCo sees the reason."
        ),
        choices=[(_count(n, "school day"), n) for n in reviews.SNOOZE_CHOICES],
        meta=json.dumps({"plan_id": form.plan_id}),
    )


# --- interim notes --------------------------------------------------------------------------


def note_for(pupil_id: int, name: str) -> dict:
    """`/ssp note`: the pupil is chosen, the note is still to write."""
    return _note_modal(
        "ssp_note",
        "File note",
        {"pupil_id": pupil_id},
        pupil_line=f"A note for the plan of *{escape_mrkdwn(name)}*.",
        kind="note",
        pieces=[""],
    )


def note_to_place(text: str) -> dict:
    """The message shortcut: the message is the note; which pupil is still to say."""
    return _note_modal(
        "ssp_note", "Next", {}, pupil_line=None, kind="note", pieces=_pieces(text), cut=_cut(text)
    )


def note_to_confirm(pupil: PupilMatch, kind: str, text: str, shared: bool) -> dict:
    """The pupil found from what was typed, to confirm before anything is filed (with the
    family-copy box as it was left)."""
    return _note_modal(
        "ssp_note_confirm",
        "File note",
        {"pupil_id": pupil.pupil_id},
        pupil_line=f"File this on the plan of *{escape_mrkdwn(pupil.name)}* ({_where(pupil)})?",
        kind=kind,
        pieces=_pieces(text),
        shared=shared,
        cut=_cut(text),
    )


def not_one_pupil(query: str, matches: list[PupilMatch]) -> str:
    """Beside the "Which pupil?" box: nobody, or several pupils, match what was typed."""
    if not matches:
        return f"No pupil matching “{query[:60]}” among the pupils you can see."
    shown = "; ".join(f"{m.name} ({_where(m, plain=True)})" for m in matches[:5])
    more = "" if len(matches) <= 5 else f" and {len(matches) - 5} more"
    return f"{len(matches)} pupils match: {shown}{more}. Type more of the name, or the UPN."


# Beside the note form's checkbox (Slack cuts an option's text at 75 characters).
SHARE_NOTE = "Share with the family (it will appear in the family's copy of the plan)"


def _note_modal(
    callback_id, submit, meta, *, pupil_line, kind, pieces, shared=False, cut=None
) -> dict:
    return render_json(
        "note_modal.json.j2",
        callback_id=callback_id,
        submit=submit,
        meta=json.dumps(meta),
        pupil_line=pupil_line,
        kinds=NOTE_KINDS,
        kind=next((c for c in NOTE_KINDS if c[1] == kind), NOTE_KINDS[0]),
        pieces=pieces,
        share_label=SHARE_NOTE,
        shared=shared,
        cut=cut,
    )


def _where(pupil: PupilMatch, *, plain: bool = False) -> str:
    """Year and form: "Year 9, 9A" (mrkdwn-escaped unless `plain`, for a plain-text error)."""
    form = pupil.form if plain else escape_mrkdwn(pupil.form or "")
    return year_label(pupil.year_group) + (f", {form}" if pupil.form else "")


def _pieces(text: str) -> list[str]:
    """The note in boxes of Slack's 3,000 characters each, at most MAX_NOTE_BOXES of them: a box
    prefilled past its max_length is a form Slack refuses (bot.slack_limits)."""
    return split_long(text)[:MAX_NOTE_BOXES]


def _cut(text: str) -> str | None:
    """What the form says when the message is longer than its boxes hold (over 30,000
    characters): the rest is not lost from Slack, only from this note."""
    pieces = split_long(text)
    if len(pieces) <= MAX_NOTE_BOXES:
        return None
    kept = sum(len(piece) for piece in pieces[:MAX_NOTE_BOXES])
    return (
        f"This message is {len(text):,} characters: the form holds its first {kept:,} "
        f"({MAX_NOTE_BOXES} boxes of {MAX_TEXT:,}). To keep the rest, file it as another note."
    )


# --- helpers --------------------------------------------------------------------------------


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}" + ("" if n == 1 else "s")


def _clip(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
