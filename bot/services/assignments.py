"""Telling case holders about their assignments, and their answers: accept or "I can't take this".

Every message goes through the outbox (`bot.services.outbox`), so it is sent once, retried on
Slack's errors, and reported to the SENDCo when the person cannot be reached. Messages name the
pupil (or their initials, as the school chooses) and the ask, nothing more: needs and targets
are shown in the plan modal, which Slack does not keep (DESIGN.md §4).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from bot.access import Viewer
from bot.errors import UserError
from bot.services import audit, outbox
from bot.services.calendar import SchoolCalendar, load_calendar
from bot.services.review_schedule import sendcos
from models import (
    AssignmentStatus,
    CaseHolderAssignment,
    Plan,
    Prompt,
    PromptKind,
    PromptStatus,
    School,
    Staff,
    TimelineEntry,
    TimelineKind,
)

REMIND_AFTER_SCHOOL_DAYS = 2
# A new plan is expected to be drafted with the pupil and family within this many school days.
DRAFT_WITHIN_SCHOOL_DAYS = 20


@dataclass(frozen=True)
class Unanswered:
    """An assignment still unanswered after its reminder: the SENDCo should follow it up."""

    staff_name: str
    pupil_name: str
    assigned_on: date


class AlreadyAnswered(UserError):
    """The assignment was answered before this answer arrived (a double click, or a second
    device): what was done, by whom and when, for the person whose answer came second."""

    def __init__(self, assignment: CaseHolderAssignment, when: str | None) -> None:
        answered = {
            AssignmentStatus.ACCEPTED: "accepted",
            AssignmentStatus.DECLINED: "declined",
            AssignmentStatus.ENDED: "handed to someone else",
        }
        self.status = assignment.status
        self.pupil_id = assignment.plan.pupil_id if assignment.plan else None
        said = answered.get(assignment.status, "answered")
        if assignment.status in (AssignmentStatus.ACCEPTED, AssignmentStatus.DECLINED):
            # Only the person assigned answers: it was them, on another click or device.
            said += f" (by you{f', at {when}' if when else ''})"
        super().__init__(f"This assignment has already been {said}.")


def sending_time(session: Session, school_id: int, now: datetime) -> datetime:
    """When a message to someone other than the person acting may go: now in school hours on
    a school day, else the next opening. Nobody is messaged by SSP Bot at night."""
    school = session.get(School, school_id)
    return load_calendar(session, school_id).next_sending_time(
        now, school.timezone, school.school_day_starts, school.school_day_ends
    )


def when_told(session: Session, school_id: int, now: datetime, send_at: datetime) -> str | None:
    """None if a message queued now goes now; else when it will, as a person reads it:
    "at 08:30 tomorrow", "at 08:30 on Monday 30 November"."""
    if send_at <= now:
        return None
    zone = ZoneInfo(session.get(School, school_id).timezone)
    local, today = send_at.astimezone(zone), now.astimezone(zone).date()
    at = f"at {local:%H:%M}"
    if local.date() == today:
        return f"{at} today"
    if (local.date() - today).days == 1:
        return f"{at} tomorrow"
    return f"{at} on {local:%A} {local.day} {local:%B}"


def told_when(session: Session, school_id: int, now: datetime) -> str | None:
    """For a confirmation: when someone messaged now will be told, if not now."""
    return when_told(session, school_id, now, sending_time(session, school_id, now))


def local_time(session: Session, school_id: int, moment: datetime | None) -> str | None:
    """`moment` as the school's clock shows it (14:05), for saying when something was done."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return f"{moment.astimezone(ZoneInfo(session.get(School, school_id).timezone)):%H:%M}"


def notify_assigned(
    session: Session,
    assignment: CaseHolderAssignment,
    previous_holder_id: int | None,
    now: datetime,
) -> datetime:
    """Queues the new case holder's notification, and a thank-you to the previous one, for the
    next moment in school hours. Returns when the notification will go."""
    plan = assignment.plan
    send_at = sending_time(session, plan.school_id, now)
    recipients = {PromptKind.ASSIGNMENT: assignment.staff_id}
    if previous_holder_id and previous_holder_id != assignment.staff_id:
        recipients[PromptKind.ASSIGNMENT_ENDED] = previous_holder_id
    for kind, recipient_id in recipients.items():
        outbox.enqueue(
            session,
            school_id=plan.school_id,
            recipient_id=recipient_id,
            kind=kind,
            dedupe_key=f"{kind.value}:{assignment.id}",
            due_at=send_at,
            now=now,
            plan_id=plan.id,
            assignment_id=assignment.id,
        )
    return send_at


def answer(
    session: Session,
    viewer: Viewer,
    assignment_id: int,
    *,
    accept: bool,
    reason: str | None,
    now: datetime,
) -> CaseHolderAssignment:
    """The case holder accepts, or declines with a reason that goes back to the SENDCo.

    Only the person assigned may answer, and only once; a declined plan loses its case holder
    and is back on the priority list. Raises UserError otherwise.
    """
    assignment = session.scalar(
        select(CaseHolderAssignment)
        .join(Plan, Plan.id == CaseHolderAssignment.plan_id)
        .where(CaseHolderAssignment.id == assignment_id, Plan.school_id == viewer.school_id)
        .options(selectinload(CaseHolderAssignment.plan).selectinload(Plan.pupil))
    )
    if assignment is None or assignment.staff_id != viewer.staff_id:
        raise UserError("That assignment isn't yours to answer.")
    if not accept and not (reason or "").strip():
        raise UserError("Please say why, so the SENDCo can find someone else.")
    # The database decides which of two answers at once counts: only an UPDATE that still
    # finds the assignment pending changes it (on PostgreSQL the second waits for the first
    # to commit, then finds nothing to change); the other is told what was done instead.
    status = AssignmentStatus.ACCEPTED if accept else AssignmentStatus.DECLINED
    claimed = session.execute(
        update(CaseHolderAssignment)
        .where(
            CaseHolderAssignment.id == assignment.id,
            CaseHolderAssignment.status == AssignmentStatus.PENDING,
        )
        .values(status=status, responded_at=now, response_reason=None if accept else reason)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(assignment)
    if claimed != 1:
        when = assignment.responded_at or assignment.ended_at
        raise AlreadyAnswered(assignment, local_time(session, assignment.plan.school_id, when))
    plan = assignment.plan
    send_at = sending_time(session, plan.school_id, now)
    if accept:
        summary = f"{viewer.name} accepted the plan"
    else:
        if plan.case_holder_id == viewer.staff_id:
            plan.case_holder_id = None
        summary = f"{viewer.name} couldn't take the plan: {reason}"
        for sendco_id in sendcos(session, plan.school_id):
            outbox.enqueue(
                session,
                school_id=plan.school_id,
                recipient_id=sendco_id,
                kind=PromptKind.ASSIGNMENT_DECLINED,
                dedupe_key=f"assignment_declined:{assignment.id}:{sendco_id}",
                due_at=send_at,
                now=now,
                plan_id=plan.id,
                assignment_id=assignment.id,
            )
    plan.timeline.append(
        TimelineEntry(
            occurred_at=now,
            kind=TimelineKind.ASSIGNMENT,
            summary=summary,
            author_id=viewer.staff_id,
        )
    )
    asked = select(Prompt.id).where(
        Prompt.school_id == plan.school_id,
        Prompt.assignment_id == assignment.id,
        Prompt.kind.in_((PromptKind.ASSIGNMENT, PromptKind.ASSIGNMENT_REMINDER)),
    )
    for prompt_id in session.scalars(asked).all():
        outbox.mark_answered(session, prompt_id, now)
    outbox.cancel(session, plan.school_id, f"assignment_reminder:{assignment.id}")
    audit.record_by(
        session,
        viewer,
        action="accept" if accept else "decline",
        via="assignment message",
        now=now,
        plan=plan,
        detail="accepted the assignment" if accept else "declined the assignment",
    )
    session.flush()
    return assignment


def create_due_reminders(
    session: Session,
    school: School,
    today: date,
    now: datetime,
    calendar: SchoolCalendar | None = None,
) -> int:
    """Queues one reminder for each assignment unanswered for two school days. Idempotent.

    The reminder goes in school hours, on a school day.
    """
    pending = session.scalars(
        select(CaseHolderAssignment)
        .join(Plan, Plan.id == CaseHolderAssignment.plan_id)
        .where(Plan.school_id == school.id, CaseHolderAssignment.status == AssignmentStatus.PENDING)
    ).all()
    calendar = calendar or load_calendar(session, school.id)
    send_at = calendar.next_sending_time(
        now, school.timezone, school.school_day_starts, school.school_day_ends
    )
    queued = 0
    for assignment in pending:
        sent_on = school.local_date(assignment.created_at)
        if calendar.school_days_after(sent_on, REMIND_AFTER_SCHOOL_DAYS) <= today:
            prompt = outbox.enqueue(
                session,
                school_id=school.id,
                recipient_id=assignment.staff_id,
                kind=PromptKind.ASSIGNMENT_REMINDER,
                dedupe_key=f"assignment_reminder:{assignment.id}",
                due_at=send_at,
                now=now,
                plan_id=assignment.plan_id,
                assignment_id=assignment.id,
            )
            queued += prompt.created_at == now and prompt.status == PromptStatus.PENDING
    return queued


def unanswered_after_reminder(session: Session, school_id: int) -> list[Unanswered]:
    """Assignments still pending although their reminder went: flagged in `/ssp caseload`."""
    reminded = select(Prompt.assignment_id).where(
        Prompt.school_id == school_id,
        Prompt.kind == PromptKind.ASSIGNMENT_REMINDER,
        Prompt.status == PromptStatus.SENT,
    )
    rows = session.execute(
        select(CaseHolderAssignment, Staff, Plan)
        .join(Staff, Staff.id == CaseHolderAssignment.staff_id)
        .join(Plan, Plan.id == CaseHolderAssignment.plan_id)
        .where(
            Plan.school_id == school_id,
            CaseHolderAssignment.status == AssignmentStatus.PENDING,
            CaseHolderAssignment.id.in_(reminded),
        )
        .options(selectinload(Plan.pupil))
        .order_by(CaseHolderAssignment.created_at)
    ).all()
    return [
        Unanswered(staff.display_name, plan.pupil.known_as, assignment.created_at.date())
        for assignment, staff, plan in rows
    ]
