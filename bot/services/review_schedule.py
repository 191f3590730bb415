"""When a review is due, and the prompts that say so: the review schedule of an APDR cycle.

Timings are in school days of the school's calendar (holidays and closures do not count):

- `notice` school days before the review date (the school's setting, default 10) the case
  holder is prompted: "review coming up", with a "Log review notes" button.
- On the review date, if no notes are submitted, a reminder.
- 5 school days after that the review is escalated: it is flagged in `/ssp overdue` and counted
  in the SENDCo's weekly digest.
- A case holder may snooze once, by 1, 3 or 5 school days, with a reason: the prompt comes back
  then, and the reminder and escalation move back by as many school days.

Logging the notes (bot.services.reviews) answers the cycle's prompts here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from bot.services import outbox
from bot.services.calendar import SchoolCalendar, load_calendar
from bot.services.caseload import CASE_HOLDER_NAME, plan_rows
from bot.services.pupils import KNOWN_AS
from models import (
    Plan,
    PlanStatus,
    Prompt,
    PromptKind,
    PromptStatus,
    Pupil,
    Review,
    ReviewStatus,
    School,
    Staff,
    StaffRole,
    StaffRoleGrant,
)

ESCALATE_AFTER_SCHOOL_DAYS = 5
# A review brought forward after a change is proposed for four school weeks after the change
# (bot.services.review_forward), never later than the review date already set.
FORWARD_SCHOOL_DAYS = 20
REVIEWABLE = (PlanStatus.ACTIVE, PlanStatus.IN_REVIEW)
# A plan's review of its current cycle, if one is started: a join condition from Plan.
CURRENT_REVIEW = and_(Review.plan_id == Plan.id, Review.cycle_number == Plan.cycle_number)


@dataclass(frozen=True)
class Schedule:
    """When a cycle's review prompts fall due, as school dates."""

    prompt_on: date
    remind_on: date
    escalate_on: date


def schedule(
    calendar: SchoolCalendar, review_date: date, notice: int, snoozed_days: int = 0
) -> Schedule:
    remind_on = calendar.school_days_after(calendar.next_school_day(review_date), snoozed_days)
    return Schedule(
        prompt_on=calendar.school_days_before(calendar.next_school_day(review_date), notice),
        remind_on=remind_on,
        escalate_on=calendar.school_days_after(remind_on, ESCALATE_AFTER_SCHOOL_DAYS),
    )


# --- review dates ---------------------------------------------------------------------------
# Every review date the bot proposes is a school day (SchoolCalendar.review_day: the school day
# before a weekend, holiday or closure day, so a plan is never reviewed later than planned).


def first_review_date(calendar: SchoolCalendar, start: date, interval: int) -> date:
    """A new plan's first review: `interval` school days after it starts."""
    return calendar.review_day(
        calendar.school_days_after(start, interval), earliest=start + timedelta(days=1)
    )


def next_review_date(
    calendar: SchoolCalendar, today: date, review_date: date | None, interval: int
) -> date:
    """The next cycle's review, proposed in the review notes: `interval` school days after this
    review (or after today, if the review is late); always after today."""
    start = max(today, review_date or today)
    return calendar.review_day(
        calendar.school_days_after(start, interval), earliest=today + timedelta(days=1)
    )


def forward_date(
    calendar: SchoolCalendar, changed_on: date, review_date: date | None, today: date
) -> date | None:
    """The date to propose for a review brought forward after a change on `changed_on`: four
    school weeks on, a school day after today and before the review date already set. None when
    there is nothing to bring forward: no review date, or the review comes within four school
    weeks anyway (it will weigh the change then)."""
    if review_date is None:
        return None
    proposed = calendar.school_days_after(changed_on, FORWARD_SCHOOL_DAYS)
    if calendar.review_day(review_date) <= proposed:
        return None
    proposed = calendar.review_day(proposed, earliest=today + timedelta(days=1))
    return proposed if proposed < review_date else None


@dataclass(frozen=True)
class ReviewState:
    """A running plan's review, as the SENDCo sees it: coming up, overdue or escalated."""

    plan_id: int
    cycle: int
    pupil_id: int
    pupil_name: str
    year_group: int
    case_holder: str | None
    case_holder_id: int | None
    review_date: date
    schedule: Schedule
    has_draft: bool
    snoozed: bool
    today: date

    @property
    def coming_up(self) -> bool:
        return self.schedule.prompt_on <= self.today < self.review_date

    @property
    def overdue(self) -> bool:
        return self.today > self.review_date

    @property
    def escalated(self) -> bool:
        return self.today >= self.schedule.escalate_on


def review_states(
    session: Session, school: School, today: date, calendar: SchoolCalendar | None = None
) -> list[ReviewState]:
    """Every running plan with a review date whose review is not yet submitted (one query)."""
    calendar = calendar or load_calendar(session, school.id)
    rows = session.execute(
        plan_rows(
            Plan.id,
            Plan.cycle_number,
            Plan.review_date,
            Plan.case_holder_id,
            Pupil.id,
            KNOWN_AS,
            Pupil.year_group,
            CASE_HOLDER_NAME,
            Review.status,
            Review.snooze_school_days,
        )
        .outerjoin(Review, CURRENT_REVIEW)
        .where(
            Plan.school_id == school.id,
            Plan.status.in_(REVIEWABLE),
            Plan.review_date.is_not(None),
            # A leaver's plan waits to be closed (bot.services.closure): nothing more is asked.
            Pupil.is_active.is_(True),
        )
        .order_by(Plan.review_date, Pupil.last_name, Pupil.first_name)
    ).all()
    states = []
    for row in rows:
        (plan_id, cycle, review_date, holder_id, pupil_id, name, year) = row[:7]
        holder_name, status, snoozed_days = row[7:]
        if status in (ReviewStatus.SUBMITTED, ReviewStatus.APPROVED):
            continue
        states.append(
            ReviewState(
                plan_id=plan_id,
                cycle=cycle,
                pupil_id=pupil_id,
                pupil_name=name,
                year_group=year,
                case_holder=holder_name,
                case_holder_id=holder_id,
                review_date=review_date,
                schedule=schedule(
                    calendar, review_date, school.review_notice_school_days, snoozed_days or 0
                ),
                has_draft=status == ReviewStatus.DRAFT,
                snoozed=bool(snoozed_days),
                today=today,
            )
        )
    return states


@dataclass
class SweepCounts:
    due: int = 0
    reminders: int = 0
    digests: int = 0

    def lines(self, school_name: str) -> list[str]:
        parts = []
        if self.due:
            parts.append(f"{self.due} review prompt(s)")
        if self.reminders:
            parts.append(f"{self.reminders} review reminder(s)")
        if self.digests:
            parts.append(f"{self.digests} SENDCo digest(s)")
        return [f"{school_name}: {', '.join(parts)} queued."] if parts else []


def create_due_prompts(
    session: Session, school: School, now: datetime, calendar: SchoolCalendar | None = None
) -> SweepCounts:
    """Queues the review prompts, reminders and weekly digests that are due. Idempotent.

    A bounded number of statements however many plans: the plans, the prompts already made,
    the SENDCos, and one insert.
    """
    calendar = calendar or load_calendar(session, school.id)
    today = school.local_date(now)
    send_at = calendar.next_sending_time(
        now, school.timezone, school.school_day_starts, school.school_day_ends
    )
    states = [s for s in review_states(session, school, today, calendar) if s.case_holder_id]
    sendco_ids = sendcos(session, school.id)
    keys = [_digest_key(staff_id, today) for staff_id in sendco_ids]
    for state in states:
        keys += [_due_key(state.plan_id, state.cycle), _reminder_key(state.plan_id, state.cycle)]
    existing = {
        key: (status, sent_at)
        for key, status, sent_at in session.execute(
            select(Prompt.dedupe_key, Prompt.status, Prompt.sent_at).where(
                Prompt.school_id == school.id, Prompt.dedupe_key.in_(keys)
            )
        )
    }
    active_holders = set(
        session.scalars(
            select(Staff.id).where(
                Staff.id.in_({s.case_holder_id for s in states}), Staff.is_active.is_(True)
            )
        )
    )
    counts = SweepCounts()
    rows: list[dict[str, Any]] = []

    def queue(state: ReviewState, kind: PromptKind, key: str) -> None:
        rows.append(
            dict(
                school_id=school.id,
                recipient_id=state.case_holder_id,
                kind=kind,
                plan_id=state.plan_id,
                cycle_number=state.cycle,
                dedupe_key=key,
                due_at=send_at,
            )
        )

    for state in states:
        if state.case_holder_id not in active_holders:
            continue  # a leaver's plans are released; the priority list shows them
        cycle = state.cycle
        due = _due_key(state.plan_id, cycle)
        if today >= state.schedule.prompt_on and due not in existing:
            queue(state, PromptKind.REVIEW_DUE, due)
            counts.due += 1
        status, sent_at = existing.get(due, (None, None))
        sent_before_today = (
            status == PromptStatus.SENT
            and sent_at is not None
            and school.local_date(sent_at) < today
        )
        reminder = _reminder_key(state.plan_id, cycle)
        if today >= state.schedule.remind_on and sent_before_today and reminder not in existing:
            queue(state, PromptKind.REVIEW_REMINDER, reminder)
            counts.reminders += 1

    # Weekly, on the first school day of the week the sweep runs: the key is the week.
    if calendar.is_school_day(today):
        for sendco_id in sendco_ids:
            key = _digest_key(sendco_id, today)
            if key not in existing:
                rows.append(
                    dict(
                        school_id=school.id,
                        recipient_id=sendco_id,
                        kind=PromptKind.SENDCO_DIGEST,
                        dedupe_key=key,
                        due_at=send_at,
                    )
                )
                counts.digests += 1
    outbox.enqueue_many(session, rows, now=now)
    return counts


def sendcos(session: Session, school_id: int) -> list[int]:
    """The school's active SENDCos, by id: who hears what concerns the whole school."""
    return list(
        session.scalars(
            select(Staff.id)
            .join(StaffRoleGrant, StaffRoleGrant.staff_id == Staff.id)
            .where(
                Staff.school_id == school_id,
                Staff.is_active.is_(True),
                StaffRoleGrant.role == StaffRole.SENDCO,
            )
            .order_by(Staff.id)
        )
    )


def snooze_prompts(
    session: Session, plan: Plan, staff_id: int, school_days: int, now: datetime
) -> date:
    """The case holder snoozed the review prompt: it comes back `school_days` school days from
    today, and the prompt and reminder already sent count as answered. Returns that day."""
    school = session.get(School, plan.school_id)
    calendar = load_calendar(session, school.id)
    back_on = calendar.school_days_after(school.local_date(now), school_days)
    outbox.enqueue(
        session,
        school_id=school.id,
        recipient_id=staff_id,
        kind=PromptKind.REVIEW_REMINDER,
        dedupe_key=_snoozed_key(plan.id, plan.cycle_number),
        due_at=calendar.next_sending_time(
            school.at_school_start(back_on),
            school.timezone,
            school.school_day_starts,
            school.school_day_ends,
        ),
        now=now,
        plan_id=plan.id,
        cycle_number=plan.cycle_number,
    )
    _answer(session, plan, plan.cycle_number, now, [_due_key, _reminder_key])
    return back_on


def answer_prompts(session: Session, plan: Plan, cycle: int, now: datetime) -> None:
    """The cycle's review notes are in: its prompts count as answered, and none still waiting
    will go."""
    _answer(session, plan, cycle, now, [_due_key, _reminder_key, _snoozed_key], cancel=True)


def is_snoozed_reminder(prompt: Prompt) -> bool:
    """Whether this is the reminder the case holder asked for by snoozing: the prompt that
    `snooze_prompts` made (the same idempotency key), not the schedule's own reminder."""
    return prompt.cycle_number is not None and prompt.dedupe_key == _snoozed_key(
        prompt.plan_id, prompt.cycle_number
    )


# --- helpers --------------------------------------------------------------------------------


def _due_key(plan_id: int, cycle: int) -> str:
    return f"review_due:plan={plan_id}:cycle={cycle}"


def _reminder_key(plan_id: int, cycle: int) -> str:
    return f"review_reminder:plan={plan_id}:cycle={cycle}"


def _snoozed_key(plan_id: int, cycle: int) -> str:
    return f"review_snoozed:plan={plan_id}:cycle={cycle}"


def _digest_key(staff_id: int, day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"sendco_digest:staff={staff_id}:week={year}-W{week:02d}"


def _answer(
    session: Session,
    plan: Plan,
    cycle: int,
    now: datetime,
    keys: list[Callable[[int, int], str]],
    *,
    cancel: bool = False,
) -> None:
    for key in (make(plan.id, cycle) for make in keys):
        prompt = session.scalar(
            select(Prompt).where(Prompt.school_id == plan.school_id, Prompt.dedupe_key == key)
        )
        if prompt is not None:
            outbox.mark_answered(session, prompt.id, now)
        if cancel:
            outbox.cancel(session, plan.school_id, key)
