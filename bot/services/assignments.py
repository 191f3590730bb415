"""Telling case holders about their assignments, and their answers: accept or "I can't take this".

Every message goes through the outbox (`bot.services.outbox`), so it is sent once, retried on
Slack's errors, and reported to the SENDCo when the person cannot be reached. Messages name the
pupil (or their initials, as the school chooses) and the ask, nothing more: needs and targets
are shown in the plan modal, which Slack does not keep (DESIGN.md §4).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.access import Viewer
from bot.errors import UserError
from bot.render import escape_mrkdwn, render_json
from bot.services import audit, outbox
from bot.services.calendar import SchoolCalendar, load_calendar
from models import (
    AssignmentStatus,
    CaseHolderAssignment,
    Plan,
    Prompt,
    PromptKind,
    PromptStatus,
    PupilDisplay,
    School,
    Staff,
    StaffRole,
    StaffRoleGrant,
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


def notify_assigned(
    session: Session,
    assignment: CaseHolderAssignment,
    previous_holder_id: int | None,
    now: datetime,
) -> None:
    """Queues the new case holder's notification, and a thank-you to the previous one."""
    plan = assignment.plan
    outbox.enqueue(
        session,
        school_id=plan.school_id,
        recipient_id=assignment.staff_id,
        kind=PromptKind.ASSIGNMENT,
        dedupe_key=f"assignment:{assignment.id}",
        due_at=now,
        now=now,
        plan_id=plan.id,
    )
    if previous_holder_id and previous_holder_id != assignment.staff_id:
        outbox.enqueue(
            session,
            school_id=plan.school_id,
            recipient_id=previous_holder_id,
            kind=PromptKind.ASSIGNMENT_ENDED,
            dedupe_key=f"assignment_ended:{assignment.id}",
            due_at=now,
            now=now,
            plan_id=plan.id,
        )


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
    if assignment.status != AssignmentStatus.PENDING:
        answered = {
            AssignmentStatus.ACCEPTED: "accepted",
            AssignmentStatus.DECLINED: "declined",
            AssignmentStatus.ENDED: "handed to someone else",
        }
        raise UserError(
            f"This assignment has already been {answered.get(assignment.status, 'answered')}."
        )
    if not accept and not (reason or "").strip():
        raise UserError("Please say why, so the SENDCo can find someone else.")
    plan = assignment.plan
    assignment.responded_at = now
    if accept:
        assignment.status = AssignmentStatus.ACCEPTED
        summary = f"{viewer.name} accepted the plan"
    else:
        assignment.status, assignment.response_reason = AssignmentStatus.DECLINED, reason
        if plan.case_holder_id == viewer.staff_id:
            plan.case_holder_id = None
        summary = f"{viewer.name} couldn't take the plan: {reason}"
        for sendco_id in _sendcos(session, plan.school_id):
            outbox.enqueue(
                session,
                school_id=plan.school_id,
                recipient_id=sendco_id,
                kind=PromptKind.ASSIGNMENT_DECLINED,
                dedupe_key=f"assignment_declined:{assignment.id}:{sendco_id}",
                due_at=now,
                now=now,
                plan_id=plan.id,
            )
    plan.timeline.append(
        TimelineEntry(
            occurred_at=now,
            kind=TimelineKind.ASSIGNMENT,
            summary=summary,
            author_id=viewer.staff_id,
        )
    )
    for key in (f"assignment:{assignment.id}", f"assignment_reminder:{assignment.id}"):
        prompt = session.scalar(
            select(Prompt).where(Prompt.school_id == plan.school_id, Prompt.dedupe_key == key)
        )
        if prompt is not None:
            outbox.mark_answered(session, prompt.id, now)
    outbox.cancel(session, plan.school_id, f"assignment_reminder:{assignment.id}")
    audit.record(
        session,
        action="accept" if accept else "decline",
        via="assignment message",
        now=now,
        school_id=viewer.school_id,
        staff_id=viewer.staff_id,
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
            )
            queued += prompt.created_at == now and prompt.status == PromptStatus.PENDING
    return queued


def unanswered_after_reminder(session: Session, school_id: int) -> list[Unanswered]:
    """Assignments still pending although their reminder went: flagged in `/ssp caseload`."""
    reminded = {
        _id_in(key)
        for key in session.scalars(
            select(Prompt.dedupe_key).where(
                Prompt.school_id == school_id,
                Prompt.kind == PromptKind.ASSIGNMENT_REMINDER,
                Prompt.status == PromptStatus.SENT,
            )
        )
    }
    rows = session.execute(
        select(CaseHolderAssignment, Staff, Plan)
        .join(Staff, Staff.id == CaseHolderAssignment.staff_id)
        .join(Plan, Plan.id == CaseHolderAssignment.plan_id)
        .where(
            Plan.school_id == school_id,
            CaseHolderAssignment.status == AssignmentStatus.PENDING,
            CaseHolderAssignment.id.in_([i for i in reminded if i is not None]),
        )
        .options(selectinload(Plan.pupil))
        .order_by(CaseHolderAssignment.created_at)
    ).all()
    return [
        Unanswered(staff.display_name, plan.pupil.known_as, assignment.created_at.date())
        for assignment, staff, plan in rows
    ]


def render_prompt(session: Session, prompt: Prompt) -> dict[str, Any] | None:
    """The message for one of delegation's prompts, or None when it is no longer needed."""
    plan = session.scalar(
        select(Plan).where(Plan.id == prompt.plan_id).options(selectinload(Plan.pupil))
    )
    if plan is None:
        return None
    school = session.get(School, prompt.school_id)
    pupil = plan.pupil
    who = pupil.initials if school.pupil_display == PupilDisplay.INITIALS else pupil.known_as
    year = "Reception" if pupil.year_group == 0 else f"Year {pupil.year_group}"
    name = f"{escape_mrkdwn(who)} ({year})"
    assignment_id = _id_in(prompt.dedupe_key)
    assignment = session.get(CaseHolderAssignment, assignment_id) if assignment_id else None
    if prompt.kind in (PromptKind.ASSIGNMENT, PromptKind.ASSIGNMENT_REMINDER):
        if assignment is None or assignment.status != AssignmentStatus.PENDING:
            return None  # answered or handed on meanwhile: nothing to ask any more
        by = session.get(Staff, assignment.assigned_by_id) if assignment.assigned_by_id else None
        if plan.review_date:
            expected = (
                f"Please read the plan and meet with the pupil and family before its "
                f"review on {plan.review_date:%-d %B %Y}."
            )
        else:
            due = load_calendar(session, prompt.school_id).school_days_after(
                prompt.due_at.date(), DRAFT_WITHIN_SCHOOL_DAYS
            )
            expected = (
                f"Please draft the plan with the pupil and their family by "
                f"{due:%-d %B %Y}, then send it for quality assurance."
            )
        return render_json(
            "assignment_message.json.j2",
            reminder=prompt.kind == PromptKind.ASSIGNMENT_REMINDER,
            assigned_by=by.display_name if by else "The SENDCo",
            pupil=name,
            expected=expected,
            assignment_id=assignment.id,
            pupil_id=pupil.id,
        )
    if prompt.kind == PromptKind.ASSIGNMENT_DECLINED and assignment is not None:
        text = (
            f"{escape_mrkdwn(assignment.staff.display_name)} can't take the plan for "
            f"{name}. Their reason, and the pupil, are in `/ssp priority`."
        )
    elif prompt.kind == PromptKind.ASSIGNMENT_ENDED and assignment is not None:
        text = (
            f"The plan for {name} has been handed to "
            f"{escape_mrkdwn(assignment.staff.display_name)}. Thank you for your work on it."
        )
    elif prompt.kind == PromptKind.QA_RETURNED:
        text = (
            f"The SENDCo has returned the plan for {name} with comments. Open it with "
            f"`/ssp plan {pupil.upn}` to see them."
        )
    else:
        return None
    return render_json("notice.json.j2", text=text)


def _sendcos(session: Session, school_id: int) -> list[int]:
    return list(
        session.scalars(
            select(Staff.id)
            .join(StaffRoleGrant, StaffRoleGrant.staff_id == Staff.id)
            .where(
                Staff.school_id == school_id,
                Staff.is_active.is_(True),
                StaffRoleGrant.role == StaffRole.SENDCO,
            )
        )
    )


def _id_in(dedupe_key: str) -> int | None:
    parts = dedupe_key.split(":")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
