"""The review notes of an APDR cycle: the form, its draft, submitting it, and the next cycle.

Submitting the notes closes the cycle: each target's status is set from its result, targets are
carried forward (copied into the new cycle) or closed, the plan number goes up by one, the new
review date is set and the plan goes to the SENDCo for quality assurance. Until the SENDCo
approves, the author may amend the notes; every amendment keeps what was there before.

The notes are the whole review record (Norfolk §3.7; One Planning "Record of my review"):
besides the targets' results, whether new outcomes are needed, whether each provision continues,
is adapted or stops (recorded here, with the provision's words copied; the provision itself is
changed in the plan), the recommendations, and the family's views or why they could not be
gathered. A draft may leave anything out; submitting needs them all.

When the review is due, and the prompts that say so, are bot.services.review_schedule's; a case
holder snoozing their prompt, and interim notes on the plan's timeline, are here.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from bot.access import Viewer, visible_pupils
from bot.errors import UserError
from bot.services import audit, delivery, impact, meeting, monitoring, observations, review_schedule
from bot.services.calendar import SchoolCalendar, load_calendar
from bot.services.delivery import Delivery
from bot.services.family import latest_views
from bot.services.plans import PlanChanged, edit_plan
from bot.services.qa_policy import review_needs_qa
from bot.services.review_schedule import REVIEWABLE
from models import (
    Effectiveness,
    GroupMember,
    Plan,
    PlanProvision,
    PlanStatus,
    PlanTarget,
    ProvisionDecision,
    Pupil,
    Review,
    ReviewProvisionDecision,
    ReviewRevision,
    ReviewStatus,
    ReviewTargetResult,
    School,
    Staff,
    TargetResult,
    TargetStatus,
    TimelineEntry,
    TimelineKind,
)

SNOOZE_CHOICES = (1, 3, 5)
# A form holds 100 rows (Slack's blocks in a modal). Each target takes four; everything else
# the form always asks takes FORM_ROWS (templates/review_modal.json.j2, counted at its fullest,
# the provisions' introduction included). Provisions take PROVISION_ROWS each when they fit
# (the decision, a line on how much was delivered, the effectiveness rating) and one more for
# the exit measure of one with an entry measure; otherwise they are asked as lists
# (LISTED_ROWS: "adapt" and "stop", the rest continue; and one list per effectiveness rating,
# the form's divider left out to make room), each list holding at most MAX_LISTED provisions.
FORM_LIMIT = 100
FORM_ROWS = 23
PROVISION_ROWS = 3
LISTED_ROWS = 2 + 4 - 1
MAX_TARGETS = 18
MAX_LISTED = 100
# Delivery below this share of the sessions planned is pointed out beside the rating.
FAIR_CHANCE = 0.7

RESULT_STATUS = {
    TargetResult.ACHIEVED: TargetStatus.ACHIEVED,
    TargetResult.PARTLY: TargetStatus.PARTLY_ACHIEVED,
    TargetResult.NOT_YET: TargetStatus.NOT_YET_ACHIEVED,
}
RESULT_LABELS = {
    TargetResult.ACHIEVED: "Achieved",
    TargetResult.PARTLY: "Partly achieved",
    TargetResult.NOT_YET: "Not yet achieved",
}

TEXT_FIELDS = (
    "what_is_working",
    "what_is_not_working",
    "what_needs_to_change",
    "next_steps",
    "new_outcomes",
    "recommendations",
    "cyp_views",
    "family_views",
    "family_views_missing_reason",
    "attendees",
)
REQUIRED_TEXTS = {
    "what_is_working": "Say what is working.",
    "what_is_not_working": "Say what is not working (or that nothing is).",
    "what_needs_to_change": "Say what needs to change (or that nothing does).",
    "next_steps": "Give the next steps.",
    "cyp_views": "Record the pupil's views: what they said, or how they took part.",
    "attendees": "Say who took part in the review.",
}
NO_FAMILY_VIEWS = (
    "Record the family's views, or say below why they could not be gathered for this review."
)
EFFECTIVENESS_LABELS = {e: e.label for e in Effectiveness}
# With the provisions asked as lists: one list per rating, by block id.
EFFECT_LISTS = tuple(f"effective_{e.value}" for e in Effectiveness)
DECISION_LABELS = {
    ProvisionDecision.CONTINUE: "Continue",
    ProvisionDecision.ADAPT: "Adapt",
    ProvisionDecision.STOP: "Stop",
}
NOTE_KINDS = {
    TimelineKind.NOTE: "Note",
    TimelineKind.MEETING: "Meeting",
    TimelineKind.PHONE_CALL: "Phone call",
    TimelineKind.EMAIL: "Email",
    TimelineKind.LETTER: "Letter",
}


class Mode(enum.StrEnum):
    NOTES = "notes"
    AMEND = "amend"


# --- the review notes -----------------------------------------------------------------------


@dataclass(frozen=True)
class TargetLine:
    target_id: int
    description: str
    measure: str | None
    baseline: str | None
    success_criteria: str | None
    end_date: date | None
    result: TargetResult | None
    evidence: str | None
    carry_forward: bool | None
    provided: tuple[tuple[str, Delivery | None], ...] = ()
    """The provision towards this target and how much of it was delivered this cycle (None:
    not run through an intervention group, so no sessions recorded)."""


@dataclass(frozen=True)
class ProvisionLine:
    """One provision and the decision about it so far. `key` is what the form answers with:
    the provision's id in the notes, the decision's own id when amending (the provision may
    have been taken out of the plan since)."""

    key: int
    what: str
    details: str | None
    decision: ProvisionDecision | None
    effectiveness: Effectiveness | None = None
    delivered: Delivery | None = None
    """Its sessions this cycle (None: not run through an intervention group)."""
    measure: impact.Progress | None = None
    """Its entry measure, asked for its exit measure (the notes only; None: no entry measure)."""
    exit_typed: str | None = None
    """The exit measure recorded this cycle, as the form shows it."""

    @property
    def rating_optional(self) -> bool:
        """Sessions were planned and none happened: there is nothing to rate."""
        return _all_missed(self.delivered)


@dataclass(frozen=True)
class NoteLine:
    occurred_at: datetime
    kind: str
    author: str | None
    text: str


@dataclass(frozen=True)
class ReviewForm:
    """What the modal shows: the plan's targets with anything already written, and the notes."""

    mode: Mode
    plan_id: int
    pupil_id: int
    pupil_name: str
    year_group: int
    cycle: int
    review_date: date | None
    review_version: int
    status: ReviewStatus | None
    targets: list[TargetLine]
    texts: dict[str, str | None]
    meeting_date: date | None
    next_review_date: date | None
    notes: list[NoteLine]
    author: str | None = None
    """Amending: who submitted the notes, when, and how often they have been amended."""
    submitted_at: datetime | None = None
    amendments: int = 0
    feedback: monitoring.Feedback | None = None
    # This cycle's observations between reviews (bot.services.observations), newest first.
    observations: tuple[observations.Entry, ...] = ()
    more_targets: int = 0
    """Open targets beyond the MAX_TARGETS a form can hold: they stay open into the next plan."""
    provisions: list[ProvisionLine] = field(default_factory=list)
    provisions_listed: bool = False
    """Too many provisions for a row each: asked as two lists, "adapt" and "stop"."""
    more_provisions: int = 0
    """Provisions beyond the MAX_LISTED a list can hold: they continue unchanged."""
    new_outcomes_needed: bool | None = None
    planned_meeting: meeting.Summary | None = None
    """The review meeting set with the family this cycle (bot.services.meeting), if any."""


@dataclass
class ReviewAnswers:
    """What the case holder typed; everything optional until they submit."""

    results: dict[int, TargetResult | None] = field(default_factory=dict)
    evidence: dict[int, str | None] = field(default_factory=dict)
    carry_forward: dict[int, bool] = field(default_factory=dict)
    texts: dict[str, str | None] = field(default_factory=dict)
    meeting_date: date | None = None
    next_review_date: date | None = None
    new_outcomes_needed: bool | None = None
    decisions: dict[int, ProvisionDecision] = field(default_factory=dict)
    """By ProvisionLine.key; with the lists, only the provisions picked to adapt or stop."""
    adapt_and_stop: set[int] = field(default_factory=set)
    """Keys picked in both lists (a provision can't be adapted and stopped)."""
    effectiveness: dict[int, Effectiveness] = field(default_factory=dict)
    """By ProvisionLine.key; with the lists, only the provisions picked in one."""
    rated_twice: set[int] = field(default_factory=set)
    """Keys picked in two effectiveness lists."""
    exits: dict[int, str | None] = field(default_factory=dict)
    """Exit measures as typed, by provision id (asked only for one with an entry measure)."""


class ReviewRefused(UserError):
    """The notes cannot be saved as asked; nothing was changed."""


class AlreadySubmitted(UserError):
    def __init__(self, review: Review) -> None:
        when = f" on {review.submitted_at:%-d %B %Y}" if review.submitted_at else ""
        super().__init__(
            f"These review notes were already submitted{when}; nothing was changed. "
            "To correct them, use `/ssp review` again to amend them."
        )


def open_review(
    session: Session, viewer: Viewer, plan_id: int, *, via: str, now: datetime, today: date
) -> ReviewForm:
    """The review modal's contents for a plan the viewer may review; audited as a read.

    Amend mode when the last cycle's review is submitted and not yet approved (the plan is with
    the SENDCo); otherwise the current cycle's notes, from the draft if there is one.
    Raises UserError (worded as "not found" when the viewer may not see the plan).
    """
    plan = _plan_for(session, viewer, plan_id)
    school = session.get(School, plan.school_id)
    previous = session.scalar(
        select(Review)
        .where(Review.plan_id == plan.id, Review.cycle_number == plan.cycle_number - 1)
        .options(
            selectinload(Review.target_results).selectinload(ReviewTargetResult.target),
            selectinload(Review.provision_decisions),
        )
    )
    if previous is not None and previous.status == ReviewStatus.SUBMITTED:
        form = _amend_form(session, plan, previous)
    elif plan.status not in REVIEWABLE:
        raise UserError(
            f"{plan.pupil.known_as}'s plan is {plan.status.label.lower()}: review notes are "
            "logged on an active plan."
        )
    else:
        form = _notes_form(session, school, plan, today)
    _log(session, viewer, plan, now, via=via, detail="review notes opened", action="read")
    return form


def validate(
    answers: ReviewAnswers,
    target_ids: list[int],
    today: date,
    *,
    submitting: bool,
    provision_keys: Sequence[int] = (),
    listed: bool = False,
    calendar: SchoolCalendar | None = None,
    unrated: Sequence[int] = (),
) -> dict[str, str]:
    """Problems keyed by field ("result:12", "provision:7", "next_steps", "meeting_date", ...).

    `listed`: the provisions were asked as lists ("provisions_adapt", "provisions_stop"), so one
    not picked continues and is left unrated; asked a row each, every provision needs a decision
    and an effectiveness rating to submit, but for the `unrated` keys: provision whose sessions
    were all missed this cycle, where there is nothing to rate.
    """
    errors: dict[str, str] = {}
    if answers.meeting_date and answers.meeting_date > today:
        errors["meeting_date"] = "The review meeting can't be in the future."
    if answers.next_review_date and answers.next_review_date <= today:
        errors["next_review_date"] = "The next review must be after today."
    elif answers.next_review_date and calendar is not None:
        why_not = calendar.not_a_review_day(answers.next_review_date)
        if why_not is not None:
            errors["next_review_date"] = why_not
    if answers.adapt_and_stop & set(provision_keys):
        errors["provisions_stop"] = (
            "A provision can't be both adapted and stopped: take it out of one of the lists."
        )
    if answers.rated_twice & set(provision_keys):
        errors[EFFECT_LISTS[-1]] = (
            "A provision can have one effectiveness rating only: take it out of all lists but one."
        )
    if not submitting:
        return errors
    for target_id in target_ids:
        if answers.results.get(target_id) is None:
            errors[f"result:{target_id}"] = "Choose how far this target was met."
    if not listed:
        for key in provision_keys:
            if answers.decisions.get(key) is None:
                errors[f"provision:{key}"] = "Choose whether this continues, is adapted or stops."
            if key not in unrated and answers.effectiveness.get(key) is None:
                errors[f"effectiveness:{key}"] = "Choose how effective this provision was."
    for name, problem in REQUIRED_TEXTS.items():
        if not (answers.texts.get(name) or "").strip():
            errors[name] = problem
    if answers.new_outcomes_needed is None:
        errors["new_outcomes_needed"] = "Say whether new outcomes are needed."
    if not any(
        (answers.texts.get(name) or "").strip()
        for name in ("family_views", "family_views_missing_reason")
    ):
        errors["family_views"] = NO_FAMILY_VIEWS
    if answers.meeting_date is None:
        errors.setdefault("meeting_date", "Give the date of the review meeting.")
    if answers.next_review_date is None:
        errors.setdefault("next_review_date", "Give the date of the next review.")
    return errors


@dataclass(frozen=True)
class Saved:
    pupil_name: str
    submitted: bool
    new_cycle: int | None = None
    next_review_date: date | None = None
    carried: int = 0
    closed: int = 0
    changed: bool = True
    sent_for_qa: bool = True  # the school's setting may leave a review out (qa_policy)
    adapted: int = 0  # provisions the review decided to adapt, and to stop
    stopped: int = 0


def save_review(
    session: Session,
    viewer: Viewer,
    *,
    plan_id: int,
    cycle: int,
    answers: ReviewAnswers,
    submit: bool,
    now: datetime,
    today: date,
) -> Saved | dict[str, str]:
    """Saves the notes as a draft, or submits them and opens the next cycle.

    Returns the field errors instead when submitting notes that are incomplete (nothing is
    saved then: the modal stays open with what was typed). A second submission of the same
    cycle changes nothing and raises AlreadySubmitted; so does one that races the first.
    """
    plan = _plan_for(session, viewer, plan_id, lock=True)
    review = _review(session, plan.id, cycle)
    if review is not None and review.status != ReviewStatus.DRAFT:
        raise AlreadySubmitted(review)
    if plan.cycle_number != cycle or plan.status not in REVIEWABLE:
        raise ReviewRefused(
            "This plan has moved on since you opened the review notes; nothing was saved. "
            "Open them again with `/ssp review`."
        )
    targets = _open_targets(plan)
    provisions, listed, _ = _provisions_asked(plan.current_provisions, len(targets))
    since = cycle_start(session, plan)
    # The delivery the reviewer saw, recomputed now for the record: one query for all.
    delivered = _delivery(session, plan.school_id, provisions, since, today)
    errors = validate(
        answers,
        [t.id for t in targets],
        today,
        submitting=submit,
        provision_keys=[p.id for p in provisions],
        listed=listed,
        calendar=load_calendar(session, plan.school_id) if answers.next_review_date else None,
        unrated=[p.id for p in provisions if _all_missed(delivered.get(p.id))],
    )
    exits = {} if listed else _exit_measures(answers, provisions, errors)
    if errors:
        return errors
    if review is None:
        review = Review(plan_id=plan.id, cycle_number=cycle, status=ReviewStatus.DRAFT)
        session.add(review)
    _write(review, answers, targets)
    _write_decisions(review, answers, provisions, fill=submit and listed)
    _write_exits(provisions, exits, since, today)
    if submit:
        for row in review.provision_decisions:
            figures = delivered.get(row.provision_id)
            row.sessions_planned = figures.planned if figures else None
            row.sessions_delivered = figures.delivered if figures else None
    if not submit:
        detail = "review notes saved as a draft"
        if plan.status == PlanStatus.ACTIVE:
            # The review has begun: the plan reads "In review" in caseloads until the notes are
            # submitted (which sends it on to the SENDCo), so nobody starts a second one.
            plan.status = PlanStatus.IN_REVIEW
            plan.updated_at = now
            plan.updated_by_id = viewer.staff_id
            detail += "; plan in review"
        _flush_or_conflict(session)
        _log(session, viewer, plan, now, via="review notes", detail=detail)
        return Saved(plan.pupil.known_as, submitted=False)

    review.status = ReviewStatus.SUBMITTED
    review.submitted_at = now
    review.author_id = viewer.staff_id
    for result in review.target_results:
        if result.carry_forward is None:
            # Not chosen: an achieved target closes; the others go on into the next plan.
            result.carry_forward = result.result != TargetResult.ACHIEVED
    _flush_or_conflict(session)
    results = {r.target_id: r for r in review.target_results}
    carried = closed = 0
    next_cycle = cycle + 1
    counts = Counter(results[t.id].result for t in targets)
    school = session.get(School, viewer.school_id)
    to_qa = review_needs_qa(session, school, review, viewer.staff_id, today)
    if not to_qa:
        # The school's setting leaves this review out of quality assurance: it stands as written.
        review.status, review.approved_at = ReviewStatus.APPROVED, now

    def close_cycle(plan: Plan) -> str:
        nonlocal carried, closed
        position = max((t.position for t in plan.targets), default=0)
        for target in targets:
            result = results[target.id]
            target.status = RESULT_STATUS[result.result]
            if result.carry_forward:
                position += 1
                carried += 1
                copy = PlanTarget(
                    outcome_id=target.outcome_id,
                    description=target.description,
                    measure=target.measure,
                    baseline=result.evidence or target.baseline,
                    success_criteria=target.success_criteria,
                    start_date=today,
                    end_date=answers.next_review_date,
                    status=TargetStatus.OPEN,
                    cycle_number=next_cycle,
                    position=position,
                )
                plan.targets.append(copy)
                for provision in plan.current_provisions:
                    if provision.target_id == target.id:
                        provision.target = copy
            else:
                closed += 1
        stopped = _end_stopped(session, plan, review, cycle, today)
        plan.cycle_number = next_cycle
        plan.review_date = answers.next_review_date
        plan.status = PlanStatus.AWAITING_QA if to_qa else PlanStatus.ACTIVE
        return (
            f"review of plan {cycle} submitted; plan {next_cycle} started, review due "
            f"{answers.next_review_date:%-d %B %Y}, "
            + ("sent for quality assurance" if to_qa else "not sent for quality assurance")
            + (f"; {stopped} provision(s) ended" if stopped else "")
        )

    try:
        plan = edit_plan(
            session,
            school=school,
            plan_id=plan.id,
            expected_version=plan.version,
            editor=session.get(Staff, viewer.staff_id),
            edit=close_cycle,
            via="review notes",
            now=now,
        )
    except PlanChanged:
        raise ReviewRefused(
            "Someone changed this plan at the same moment; nothing was saved. Open the review "
            "notes again with `/ssp review`."
        ) from None
    summary = ", ".join(
        f"{counts[result]} {RESULT_LABELS[result].lower()}"
        for result in TargetResult
        if counts[result]
    )
    session.add(
        TimelineEntry(
            plan_id=plan.id,
            occurred_at=now,
            kind=TimelineKind.REVIEW,
            summary=(
                f"Review of plan {cycle} (meeting {answers.meeting_date:%-d %B %Y}) submitted by "
                f"{viewer.name}: {summary or 'no targets'}; {carried} target(s) carried forward, "
                f"{closed} closed."
            ),
            author_id=viewer.staff_id,
        )
    )
    review_schedule.answer_prompts(session, plan, cycle, now)
    monitoring.close_for_review(session, plan.id, cycle, now)
    session.flush()
    return Saved(
        plan.pupil.known_as,
        submitted=True,
        new_cycle=next_cycle,
        next_review_date=answers.next_review_date,
        carried=carried,
        closed=closed,
        sent_for_qa=to_qa,
        **_decided(review),
    )


def amend_review(
    session: Session,
    viewer: Viewer,
    *,
    plan_id: int,
    cycle: int,
    expected_version: int,
    answers: ReviewAnswers,
    now: datetime,
    today: date,
) -> Saved | dict[str, str]:
    """The author corrects submitted notes before the SENDCo approves them; history is kept."""
    plan = _plan_for(session, viewer, plan_id, lock=True)
    review = _review(session, plan.id, cycle)
    if review is None or review.status == ReviewStatus.DRAFT:
        raise ReviewRefused("These review notes have not been submitted yet.")
    if review.status == ReviewStatus.APPROVED:
        raise ReviewRefused(
            "The SENDCo has approved this review, so it can no longer be amended. Ask them "
            "if something needs correcting."
        )
    if review.author_id != viewer.staff_id:
        raise ReviewRefused("Only the person who submitted these review notes can amend them.")
    if review.version != expected_version:
        raise ReviewRefused(
            "These review notes were amended after you opened them; nothing was saved. "
            "Open them again with `/ssp review` to see the latest."
        )
    target_ids = [r.target_id for r in review.target_results]
    decisions = review.provision_decisions
    listed = _listed(len(target_ids), PROVISION_ROWS * len(decisions))
    answers.next_review_date = None
    errors = validate(
        answers,
        target_ids,
        today,
        submitting=True,
        provision_keys=[d.id for d in decisions[:MAX_LISTED]],
        listed=listed,
        unrated=[d.id for d in decisions if _all_missed(_snapshot(d))],
    )
    errors.pop("next_review_date", None)
    if errors:
        return errors
    before = _content(review)
    targets = {r.target_id: r.target for r in review.target_results}
    _write(review, answers, list(targets.values()), keep_carry=True)
    for decision in decisions[:MAX_LISTED]:
        decision.decision = answers.decisions.get(decision.id) or (
            ProvisionDecision.CONTINUE if listed else decision.decision
        )
        decision.effectiveness = answers.effectiveness.get(decision.id)
    if _content(review) == before:
        return Saved(plan.pupil.known_as, submitted=True, changed=False)
    review.revisions.append(
        ReviewRevision(
            number=len(review.revisions) + 1,
            content=before,
            change=f"amended by {viewer.name}",
            saved_by_id=viewer.staff_id,
            saved_at=now,
        )
    )
    for result in review.target_results:
        if result.result is not None:
            targets[result.target_id].status = RESULT_STATUS[result.result]
    _log(
        session,
        viewer,
        plan,
        now,
        via="review notes",
        detail="submitted review notes amended",
        timeline=(TimelineKind.REVIEW, f"Review notes of plan {cycle} amended by {viewer.name}."),
    )
    _flush_or_conflict(session)
    return Saved(plan.pupil.known_as, submitted=True, **_decided(review))


def approve_submitted_review(session: Session, plan: Plan, staff_id: int, now: datetime) -> None:
    """Quality assurance approved the plan: the review that opened this cycle is approved too."""
    review = _review(session, plan.id, plan.cycle_number - 1)
    if review is not None and review.status == ReviewStatus.SUBMITTED:
        review.status = ReviewStatus.APPROVED
        review.approved_at, review.approved_by_id = now, staff_id


def snooze(
    session: Session,
    viewer: Viewer,
    *,
    plan_id: int,
    school_days: int,
    reason: str | None,
    now: datetime,
) -> date:
    """Pushes the review prompt back once; returns the school day it comes back on."""
    if school_days not in SNOOZE_CHOICES:
        raise ReviewRefused("Choose 1, 3 or 5 school days.")
    if not (reason or "").strip():
        raise ReviewRefused("Please give a reason, so the SENDCo knows.")
    plan = _plan_for(session, viewer, plan_id, lock=True)
    cycle = plan.cycle_number
    if plan.case_holder_id != viewer.staff_id:
        raise ReviewRefused("Only the plan's case holder can snooze its review prompt.")
    if plan.status not in REVIEWABLE:
        raise ReviewRefused("This plan's review has already been logged.")
    review = _review(session, plan.id, plan.cycle_number)
    if review is not None and review.status != ReviewStatus.DRAFT:
        raise AlreadySubmitted(review)
    if review is not None and review.snoozed_at is not None:
        raise _snoozed_already(review)
    if review is None:
        review = Review(plan_id=plan.id, cycle_number=plan.cycle_number, status=ReviewStatus.DRAFT)
        session.add(review)
        try:
            session.flush()
        except IntegrityError:
            # The same snooze sent twice at once on SQLite (no row lock there): the other one
            # made the review, and snoozed it.
            session.rollback()
            review = _review(session, plan_id, cycle)
            if review is not None and review.snoozed_at is not None:
                raise _snoozed_already(review) from None
            raise
    review.snoozed_at, review.snooze_school_days = now, school_days
    review.snooze_reason = reason.strip()
    back_on = review_schedule.snooze_prompts(session, plan, viewer.staff_id, school_days, now)
    _log(
        session,
        viewer,
        plan,
        now,
        via="review prompt",
        detail=f"review prompt snoozed by {school_days} school day(s)",
        timeline=(
            TimelineKind.NOTE,
            f"{viewer.name} snoozed the review prompt by {school_days} school day(s): "
            f"{review.snooze_reason}",
        ),
    )
    _flush_or_conflict(session)
    return back_on


def _snoozed_already(review: Review) -> ReviewRefused:
    return ReviewRefused(
        f"You already snoozed this review once, on {review.snoozed_at:%-d %B}; it can't be "
        "snoozed again. Log the notes, or talk to the SENDCo."
    )


def add_note(
    session: Session,
    viewer: Viewer,
    *,
    pupil_id: int,
    kind: TimelineKind,
    text: str,
    via: str,
    now: datetime,
    shared_with_family: bool = False,
) -> str:
    """Files an interim note on the pupil's open plan; returns the pupil's name.

    The note is staff-only unless `shared_with_family`: then it is in the family's copy too.
    """
    if kind not in NOTE_KINDS:
        raise ReviewRefused("Choose what kind of note this is.")
    if not text.strip():
        raise ReviewRefused("The note is empty.")
    plan = _plan_for(session, viewer, pupil_id=pupil_id)
    _log(
        session,
        viewer,
        plan,
        now,
        via=via,
        detail=f"{NOTE_KINDS[kind].lower()} added to the timeline"
        + (", shared with the family" if shared_with_family else ""),
        timeline=(kind, text.strip()),
        shared_with_family=shared_with_family,
    )
    session.flush()
    return plan.pupil.known_as


def plan_of_pupil(session: Session, viewer: Viewer, pupil_id: int) -> int:
    """The id of the pupil's open plan, if the viewer may review it."""
    return _plan_for(session, viewer, pupil_id=pupil_id).id


NOT_YOURS = (
    "I couldn't find an open plan for that pupil among the plans you hold. Notes and reviews are "
    "written by the plan's case holder or the SENDCo."
)


# --- helpers --------------------------------------------------------------------------------


def _may_review(viewer: Viewer, plan: Plan) -> bool:
    return viewer.is_sendco or plan.case_holder_id == viewer.staff_id


def _plan_for(
    session: Session,
    viewer: Viewer,
    plan_id: int | None = None,
    *,
    pupil_id: int | None = None,
    lock: bool = False,
) -> Plan:
    """The open plan (by its id or its pupil's) if the viewer may review it; else ReviewRefused,
    worded the same whether the plan is missing or not theirs."""
    query = (
        select(Plan)
        .join(Pupil, Pupil.id == Plan.pupil_id)
        .where(Plan.status != PlanStatus.CLOSED, visible_pupils(viewer))
        .options(
            selectinload(Plan.pupil), selectinload(Plan.targets), selectinload(Plan.provisions)
        )
    )
    if plan_id is not None:
        query = query.where(Plan.id == plan_id)
    if pupil_id is not None:
        query = query.where(Plan.pupil_id == pupil_id)
    if lock:
        # Two submissions of one review (a double click, Slack's retry) queue here on
        # PostgreSQL; the second then finds the review submitted. SQLite has one writer.
        query = query.with_for_update(of=Plan)
    plan = session.scalar(query)
    if plan is None or not _may_review(viewer, plan):
        raise ReviewRefused(NOT_YOURS)
    return plan


def _log(
    session: Session,
    viewer: Viewer,
    plan: Plan,
    now: datetime,
    *,
    via: str,
    detail: str,
    timeline: tuple[TimelineKind, str] | None = None,
    action: str = "update",
    shared_with_family: bool = False,
) -> None:
    """The audit event, and the entry on the plan's timeline when there is one."""
    if timeline is not None:
        kind, summary = timeline
        session.add(
            TimelineEntry(
                plan_id=plan.id,
                occurred_at=now,
                kind=kind,
                summary=summary,
                author_id=viewer.staff_id,
                shared_with_family=shared_with_family,
            )
        )
    audit.record_by(session, viewer, action=action, via=via, now=now, plan=plan, detail=detail)


def _review(session: Session, plan_id: int, cycle: int) -> Review | None:
    return session.scalar(
        select(Review)
        .where(Review.plan_id == plan_id, Review.cycle_number == cycle)
        .options(
            selectinload(Review.target_results).selectinload(ReviewTargetResult.target),
            selectinload(Review.revisions),
            selectinload(Review.provision_decisions),
        )
    )


def _open_targets(plan: Plan) -> list[PlanTarget]:
    return sorted(
        (t for t in plan.targets if t.status == TargetStatus.OPEN),
        key=lambda t: (t.position, t.id),
    )[:MAX_TARGETS]


def _listed(targets: int, rows: int) -> bool:
    """Whether the provisions are asked as lists: `rows`, a row each, would overfill the form."""
    return FORM_ROWS + 4 * targets + rows > FORM_LIMIT


def _provisions_asked(
    provisions: list[PlanProvision], targets: int
) -> tuple[list[PlanProvision], bool, int]:
    """The provisions the form asks about (those still running), whether as lists, and how
    many it leaves out."""
    ordered = sorted(
        (p for p in provisions if p.ended_on is None), key=lambda p: (p.position, p.id)
    )
    if not _listed(targets, sum(_rows(p) for p in ordered)):
        return ordered, False, 0
    return ordered[:MAX_LISTED], True, max(0, len(ordered) - MAX_LISTED)


def _write_decisions(
    review: Review, answers: ReviewAnswers, provisions: list[PlanProvision], *, fill: bool
) -> None:
    """The decisions about the plan's provisions as they are now (a draft's decision about a
    provision since taken out of the plan goes). `fill`: one not picked from the lists
    continues."""
    existing = {d.provision_id: d for d in review.provision_decisions}
    asked = {p.id for p in provisions}
    for stale in [d for d in review.provision_decisions if d.provision_id not in asked]:
        review.provision_decisions.remove(stale)
    for position, provision in enumerate(provisions):
        row = existing.get(provision.id)
        if row is None:
            row = ReviewProvisionDecision(provision_id=provision.id, provision=provision)
            review.provision_decisions.append(row)
        # The words are copied so the record reads the same if the provision is removed later.
        row.provision_what, row.position = provision.what, position
        row.decision = answers.decisions.get(provision.id) or (
            ProvisionDecision.CONTINUE if fill else None
        )
        row.effectiveness = answers.effectiveness.get(provision.id)


def cycle_start(session: Session, plan: Plan) -> date | None:
    """The first day of the plan's current cycle: the day after its last review was submitted,
    or the plan's start date before its first review (None: not known, so since the start)."""
    last = session.scalar(
        select(Review.submitted_at)
        .where(
            Review.plan_id == plan.id,
            Review.cycle_number < plan.cycle_number,
            Review.submitted_at.is_not(None),
        )
        .order_by(Review.cycle_number.desc())
        .limit(1)
    )
    if last is not None:
        return last.date() + timedelta(days=1)
    return plan.start_date


def _delivery(
    session: Session,
    school_id: int,
    provisions: list[PlanProvision],
    since: date | None,
    today: date,
) -> dict[int, Delivery]:
    """Each provision's delivery this cycle, by id, for those run through an intervention group
    (one with no session yet this cycle: nothing planned). Every session due by today counts,
    whether or not the morning sweep has made it a row yet (a review written at 10:00 after an
    08:40 session, a school whose sweep has not run): they are made rows first, as the sweep
    would. Bounded queries, however many provisions, pupils or groups."""
    ids = [p.id for p in provisions]
    if not ids:
        return {}
    grouped = set(
        session.scalars(
            select(GroupMember.provision_id).where(GroupMember.provision_id.in_(ids)).distinct()
        )
    )
    if grouped:
        delivery.catch_up(session, school_id, load_calendar(session, school_id), today)
    figures = delivery.by_provision(session, school_id, ids, since=since, until=today)
    return {key: figures.get(key, Delivery()) for key in {*figures, *grouped}}


def _all_missed(figures: Delivery | None) -> bool:
    """Sessions were planned this cycle and none was delivered: nothing there to rate."""
    return figures is not None and figures.planned > 0 and figures.delivered == 0


def _has_entry(provision: PlanProvision) -> bool:
    return provision.measure_kind is not None and provision.entry_value is not None


def _rows(provision: PlanProvision) -> int:
    return PROVISION_ROWS + (1 if _has_entry(provision) else 0)


def _exit_measures(
    answers: ReviewAnswers, provisions: list[PlanProvision], errors: dict[str, str]
) -> dict[int, float | None]:
    """The exit measures typed for provisions with an entry measure, read as numbers (an empty
    box: None); what can't be read is added to `errors`."""
    read: dict[int, float | None] = {}
    for provision in provisions:
        if not _has_entry(provision) or provision.id not in answers.exits:
            continue
        typed = (answers.exits[provision.id] or "").strip()
        try:
            read[provision.id] = impact.parse(provision.measure_kind, typed) if typed else None
        except impact.MeasureError as problem:
            errors[f"exit:{provision.id}"] = str(problem)
    return read


def _write_exits(
    provisions: list[PlanProvision], exits: dict[int, float | None], since: date | None, today: date
) -> None:
    """An exit measure typed is recorded on the provision, dated today; a box emptied takes
    away one recorded this cycle (one from an earlier cycle stays)."""
    for provision in provisions:
        if provision.id not in exits:
            continue
        value = exits[provision.id]
        if value is not None:
            if value != provision.exit_value:
                provision.exit_value, provision.exit_on = value, today
        elif provision.exit_on is not None and (since is None or provision.exit_on >= since):
            provision.exit_value = provision.exit_on = None


def _end_stopped(session: Session, plan: Plan, review: Review, cycle: int, today: date) -> int:
    """A provision the review stopped is ended (kept, not deleted: what has been tried), and the
    pupil leaves the intervention groups that delivered it. Returns how many ended."""
    stopped = {
        d.provision_id
        for d in review.provision_decisions
        if d.decision == ProvisionDecision.STOP and d.provision_id is not None
    }
    ended = 0
    for provision in plan.provisions:
        if provision.id in stopped and provision.ended_on is None:
            provision.ended_on = today
            provision.ended_reason = f"stopped at the review of plan {cycle}"
            ended += 1
    if stopped:
        session.execute(
            update(GroupMember)
            .where(GroupMember.provision_id.in_(stopped), GroupMember.left_on.is_(None))
            .values(left_on=today)
            .execution_options(synchronize_session=False)
        )
    return ended


def _decided(review: Review) -> dict[str, int]:
    counts = Counter(d.decision for d in review.provision_decisions)
    return {"adapted": counts[ProvisionDecision.ADAPT], "stopped": counts[ProvisionDecision.STOP]}


def _write(
    review: Review, answers: ReviewAnswers, targets: list[PlanTarget], keep_carry: bool = False
) -> None:
    for name in TEXT_FIELDS:
        value = (answers.texts.get(name) or "").strip()
        setattr(review, name, value or None)
    if answers.new_outcomes_needed is False:
        review.new_outcomes = None  # which new outcomes belongs to a "yes"
    review.new_outcomes_needed = answers.new_outcomes_needed
    review.meeting_date = answers.meeting_date
    if not keep_carry:
        review.next_review_date = answers.next_review_date
    existing = {r.target_id: r for r in review.target_results}
    for target in targets:
        result = existing.get(target.id)
        if result is None:
            result = ReviewTargetResult(target_id=target.id, target=target)
            review.target_results.append(result)
        result.result = answers.results.get(target.id)
        result.evidence = (answers.evidence.get(target.id) or "").strip() or None
        if not keep_carry:
            result.carry_forward = answers.carry_forward.get(target.id)


def _content(review: Review) -> dict[str, Any]:
    return {
        **{name: getattr(review, name) for name in TEXT_FIELDS},
        "meeting_date": review.meeting_date.isoformat() if review.meeting_date else None,
        "new_outcomes_needed": review.new_outcomes_needed,
        "provisions": {
            str(d.id): [
                d.provision_what,
                d.decision.value if d.decision else None,
                d.effectiveness.value if d.effectiveness else None,
            ]
            for d in review.provision_decisions
        },
        "targets": {
            str(r.target_id): {
                "result": r.result.value if r.result else None,
                "evidence": r.evidence,
            }
            for r in sorted(review.target_results, key=lambda r: r.target_id)
        },
    }


def _flush_or_conflict(session: Session) -> None:
    try:
        session.flush()
    except (StaleDataError, IntegrityError):
        session.rollback()
        raise ReviewRefused(
            "Someone saved these review notes at the same moment; nothing more was changed. "
            "Open them again with `/ssp review` to see what was saved."
        ) from None


def _notes_form(session: Session, school: School, plan: Plan, today: date) -> ReviewForm:
    review = _review(session, plan.id, plan.cycle_number)
    targets = _open_targets(plan)
    saved = {r.target_id: r for r in review.target_results} if review else {}
    provisions, listed, more = _provisions_asked(plan.current_provisions, len(targets))
    decided = {d.provision_id: d for d in review.provision_decisions} if review else {}
    since = cycle_start(session, plan)
    running = plan.current_provisions
    # How much of each was delivered this cycle: one query for every provision of the plan.
    delivered = _delivery(session, plan.school_id, running, since, today)
    calendar = load_calendar(session, school.id)
    proposed = review_schedule.next_review_date(
        calendar, today, plan.review_date, school.review_interval_school_days
    )
    return _form(
        Mode.NOTES,
        plan,
        cycle=plan.cycle_number,
        review_date=plan.review_date,
        review_version=review.version if review else 0,
        status=review.status if review else None,
        targets=[
            _target_line(t, saved.get(t.id), _towards(t, running, delivered)) for t in targets
        ],
        texts=_with_contributions(
            session,
            plan,
            {name: getattr(review, name) if review else None for name in TEXT_FIELDS},
        ),
        meeting_date=review.meeting_date if review else None,
        next_review_date=(review.next_review_date if review else None) or proposed,
        notes=_notes_since(session, plan),
        feedback=monitoring.feedback_for(session, plan.id, plan.cycle_number),
        observations=observations.for_review(session, plan),
        more_targets=sum(1 for t in plan.targets if t.status == TargetStatus.OPEN) - len(targets),
        provisions=[
            _provision_line(p, decided.get(p.id), delivered.get(p.id), since, listed)
            for p in provisions
        ],
        provisions_listed=listed,
        more_provisions=more,
        new_outcomes_needed=review.new_outcomes_needed if review else None,
        planned_meeting=meeting.summary_for_holder(session, plan),
    )


# A Slack text box holds 3,000 characters: a longer contribution is cut (whole in "Read them").
CONTRIBUTION_START = 2900


def _with_contributions(session: Session, plan: Plan, texts: dict[str, Any]) -> dict[str, Any]:
    """The notes' views of the family and the pupil start from what they sent this cycle
    through their links (bot.services.family), when nothing is written there yet."""
    sent = latest_views(session, plan.id, plan.cycle_number)
    for name, purpose in (("family_views", "family_views"), ("cyp_views", "pupil_views")):
        if not texts.get(name) and purpose in sent:
            texts[name] = sent[purpose][:CONTRIBUTION_START]
    return texts


def _amend_form(session: Session, plan: Plan, review: Review) -> ReviewForm:
    results = sorted(review.target_results, key=lambda r: (r.target.position, r.target_id))
    author = session.get(Staff, review.author_id) if review.author_id else None
    return _form(
        Mode.AMEND,
        plan,
        cycle=review.cycle_number,
        review_date=None,
        review_version=review.version,
        status=review.status,
        targets=[_target_line(r.target, r) for r in results],
        texts={name: getattr(review, name) for name in TEXT_FIELDS},
        meeting_date=review.meeting_date,
        next_review_date=None,
        notes=[],
        author=author.display_name if author else None,
        submitted_at=review.submitted_at,
        amendments=len(review.revisions),
        provisions=[
            ProvisionLine(
                d.id,
                d.provision_what,
                None,
                d.decision,
                effectiveness=d.effectiveness,
                delivered=_snapshot(d),
            )
            for d in review.provision_decisions[:MAX_LISTED]
        ],
        provisions_listed=_listed(len(results), PROVISION_ROWS * len(review.provision_decisions)),
        more_provisions=max(0, len(review.provision_decisions) - MAX_LISTED),
        new_outcomes_needed=review.new_outcomes_needed,
    )


def _form(mode: Mode, plan: Plan, **fields: Any) -> ReviewForm:
    """The form of this plan's review; `fields` are what the mode shows of it."""
    return ReviewForm(
        mode=mode,
        plan_id=plan.id,
        pupil_id=plan.pupil_id,
        pupil_name=plan.pupil.known_as,
        year_group=plan.pupil.year_group,
        **fields,
    )


def _details(provision: PlanProvision) -> str | None:
    """Who gives the provision and how often: enough to tell two alike apart."""
    parts = [provision.who, provision.how_often, provision.how_long]
    return " · ".join(p for p in parts if p) or None


def _snapshot(decision: ReviewProvisionDecision) -> Delivery | None:
    """The delivery a submitted review recorded for a provision (None: no sessions recorded)."""
    if decision.sessions_planned is None:
        return None
    return Delivery(decision.sessions_planned, decision.sessions_delivered or 0)


def _provision_line(
    provision: PlanProvision,
    decided: ReviewProvisionDecision | None,
    delivered: Delivery | None,
    since: date | None,
    listed: bool,
) -> ProvisionLine:
    measure = None if listed or not _has_entry(provision) else impact.of_provision(provision)
    recent = provision.exit_value is not None and (
        since is None or (provision.exit_on is not None and provision.exit_on >= since)
    )
    return ProvisionLine(
        provision.id,
        provision.what,
        _details(provision),
        decided.decision if decided else None,
        effectiveness=decided.effectiveness if decided else None,
        delivered=delivered,
        measure=measure,
        exit_typed=(
            impact.describe(provision.measure_kind, provision.exit_value)
            if measure is not None and recent
            else None
        ),
    )


def _towards(
    target: PlanTarget, provisions: list[PlanProvision], delivered: dict[int, Delivery]
) -> tuple[tuple[str, Delivery | None], ...]:
    return tuple(
        (p.what, delivered.get(p.id))
        for p in sorted(provisions, key=lambda p: (p.position, p.id))
        if p.target_id == target.id
    )


def _target_line(
    target: PlanTarget,
    saved: ReviewTargetResult | None,
    provided: tuple[tuple[str, Delivery | None], ...] = (),
) -> TargetLine:
    return TargetLine(
        provided=provided,
        target_id=target.id,
        description=target.description,
        measure=target.measure,
        baseline=target.baseline,
        success_criteria=target.success_criteria,
        end_date=target.end_date,
        result=saved.result if saved else None,
        evidence=saved.evidence if saved else None,
        carry_forward=saved.carry_forward if saved else None,
    )


def _notes_since(session: Session, plan: Plan, limit: int = 10) -> list[NoteLine]:
    """The cycle's interim notes (newest first): what the case holder has gathered."""
    last_review = session.scalar(
        select(TimelineEntry.occurred_at)
        .where(TimelineEntry.plan_id == plan.id, TimelineEntry.kind == TimelineKind.REVIEW)
        .order_by(TimelineEntry.occurred_at.desc())
        .limit(1)
    )
    query = (
        select(TimelineEntry)
        .where(TimelineEntry.plan_id == plan.id, TimelineEntry.kind.in_(list(NOTE_KINDS)))
        .options(selectinload(TimelineEntry.author))
        .order_by(TimelineEntry.occurred_at.desc(), TimelineEntry.id.desc())
        .limit(limit)
    )
    if last_review is not None:
        query = query.where(TimelineEntry.occurred_at > last_review)
    return [
        NoteLine(
            e.occurred_at,
            NOTE_KINDS[e.kind],
            e.author.display_name if e.author else None,
            e.summary,
        )
        for e in session.scalars(query)
    ]
