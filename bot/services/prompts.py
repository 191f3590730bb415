"""Writing each kind of prompt's message: the outbox's `render`, for every feature."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.render import escape_mrkdwn, render_json
from bot.services import assignments, monitoring, outbox, qa, reviews
from bot.services.calendar import load_calendar
from models import (
    MonitoringRequest,
    MonitoringStatus,
    Plan,
    Prompt,
    PromptKind,
    PupilDisplay,
    Review,
    ReviewStatus,
    School,
    Staff,
)


def render_prompt(session: Session, prompt: Prompt) -> dict[str, Any] | None:
    """The message for any prompt, or None when it is no longer needed."""
    if prompt.kind in (PromptKind.REVIEW_DUE, PromptKind.REVIEW_REMINDER):
        return _review_prompt(session, prompt)
    if prompt.kind == PromptKind.SENDCO_DIGEST:
        return _sendco_digest(session, prompt)
    if prompt.kind in (PromptKind.MONITORING_DIGEST, PromptKind.MONITORING_REQUEST):
        return _monitoring(session, prompt)
    return assignments.render_prompt(session, prompt)


def monitoring_message(
    session: Session,
    school: School,
    teacher_id: int,
    *,
    request_id: int | None = None,
    notice: str | None = None,
    asked_by: str | None = None,
) -> dict[str, Any] | None:
    """A teacher's monitoring requests as a message (the digest, one request, or the digest
    again after an answer); None when nothing is left to answer or change."""
    if request_id is not None:
        rows = monitoring.requests_for(session, school.id, teacher_id, request_id)
        waiting, total = sum(1 for r in rows if not r.answered), len(rows)
    else:
        rows = monitoring.requests_for(session, school.id, teacher_id, limit=monitoring.DIGEST_ROWS)
        waiting, total = monitoring.request_counts(session, school.id, teacher_id)
    if not rows or (notice is None and not waiting):
        return None
    if asked_by and request_id is not None:
        intro = f"{escape_mrkdwn(asked_by)} would like your feedback on this pupil's plan."
        fallback = "A request for your feedback on a pupil's plan"
    elif waiting:
        intro = (
            f"*How are these plans going in your lessons?* {waiting} "
            f"{'pupil is' if waiting == 1 else 'pupils are'} waiting for your feedback."
        )
        fallback = f"Monitoring: {waiting} pupil(s) waiting for your feedback"
    else:
        intro = "*All answered, thank you.* You can change an answer until the review."
        fallback = "Monitoring: all answered"
    return render_json(
        "monitoring_message.json.j2",
        rows=rows,
        total=total,
        limit=monitoring.DIGEST_ROWS,
        initials=school.pupil_display == PupilDisplay.INITIALS,
        intro=intro,
        fallback=fallback,
        notice=notice,
    )


def _monitoring(session: Session, prompt: Prompt) -> dict[str, Any] | None:
    school = session.get(School, prompt.school_id)
    if prompt.kind == PromptKind.MONITORING_REQUEST:
        request_id = _number_after(prompt.dedupe_key, "monitoring_request:")
        request = session.get(MonitoringRequest, request_id) if request_id else None
        if request is None or request.status != MonitoringStatus.OPEN:
            return None
        asker = session.get(Staff, request.requested_by_id) if request.requested_by_id else None
        return monitoring_message(
            session,
            school,
            prompt.recipient_id,
            request_id=request.id,
            asked_by=asker.display_name if asker else "The SENDCo",
        )
    return monitoring_message(session, school, prompt.recipient_id)


def _number_after(key: str, prefix: str) -> int | None:
    rest = key[len(prefix) :].split(":")[0] if key.startswith(prefix) else ""
    return int(rest) if rest.isdigit() else None


def pupil_in_message(school: School, pupil) -> str:
    """The pupil as a message names them: name or initials, as the school chose, and year."""
    who = pupil.initials if school.pupil_display == PupilDisplay.INITIALS else pupil.known_as
    year = "Reception" if pupil.year_group == 0 else f"Year {pupil.year_group}"
    return f"{escape_mrkdwn(who)} ({year})"


def _review_prompt(session: Session, prompt: Prompt) -> dict[str, Any] | None:
    plan = session.scalar(
        select(Plan).where(Plan.id == prompt.plan_id).options(selectinload(Plan.pupil))
    )
    cycle = _cycle_in(prompt.dedupe_key)
    if (
        plan is None
        or plan.cycle_number != cycle
        or plan.status not in reviews.REVIEWABLE
        or plan.case_holder_id != prompt.recipient_id
    ):
        return None  # reviewed, closed or handed on meanwhile
    review = session.scalar(
        select(Review).where(Review.plan_id == plan.id, Review.cycle_number == cycle)
    )
    if review is not None and review.status != ReviewStatus.DRAFT:
        return None
    school = session.get(School, prompt.school_id)
    name = pupil_in_message(school, plan.pupil)
    when = f"{plan.review_date:%A %-d %B}" if plan.review_date else "soon"
    snoozed = prompt.dedupe_key.startswith("review_snoozed:")
    if prompt.kind == PromptKind.REVIEW_DUE:
        ask = (
            f"The review of *{name}*'s SEN Support Plan is due on {when}. After the review "
            "meeting, please log the review notes here."
        )
        fallback = f"Review coming up: {name}"
    elif snoozed:
        ask = (
            f"*As you asked:* the review of *{name}*'s SEN Support Plan is due on {when}. "
            "Please log the review notes when you can."
        )
        fallback = f"Review reminder: {name}"
    else:
        ask = (
            f"*Reminder:* the review of *{name}*'s SEN Support Plan was due on {when}, and no "
            "review notes have been submitted yet. Please log them, or snooze this if the "
            "meeting has moved."
        )
        fallback = f"Review notes overdue: {name}"
    if review is not None and (review.what_is_working or review.target_results):
        ask += " Your draft is saved."
    feedback = monitoring.feedback_for(session, plan.id, cycle)
    if feedback.asked:
        # How many answered, not what they said: the answers belong in the form, not in Slack's
        # message history.
        ask += (
            f" {feedback.answered} of {feedback.asked} teachers have sent feedback; it is in "
            "the review notes form."
        )
    return render_json(
        "review_prompt.json.j2",
        ask=ask,
        fallback=fallback,
        plan_id=plan.id,
        can_snooze=not snoozed and (review is None or review.snoozed_at is None),
    )


def _sendco_digest(session: Session, prompt: Prompt) -> dict[str, Any] | None:
    school = session.get(School, prompt.school_id)
    today = school.local_date(prompt.due_at)
    states = reviews.review_states(session, school, today, load_calendar(session, school.id))
    escalated = [s for s in states if s.escalated]
    overdue = sum(1 for s in states if s.overdue)
    coming_up = sum(1 for s in states if s.coming_up)
    awaiting = len(qa.awaiting(session, school.id))
    unreachable = sorted(
        {u.recipient for u in outbox.unreachable(session, school.id) if _recent(u.due_at, prompt)}
    )
    if not (escalated or overdue or coming_up or awaiting or unreachable):
        return None  # nothing to say this week: no message
    by_holder = Counter(s.case_holder or "no case holder" for s in escalated)
    feedback = monitoring.school_monitoring(session, school.id)
    return render_json(
        "sendco_digest.json.j2",
        week_of=today,
        notice=school.review_notice_school_days,
        escalate_after=reviews.ESCALATE_AFTER_SCHOOL_DAYS,
        coming_up=coming_up,
        overdue=overdue,
        escalated=len(escalated),
        escalated_by=[f"{escape_mrkdwn(name)} ({n})" for name, n in sorted(by_holder.items())],
        awaiting_qa=awaiting,
        unreachable=[escape_mrkdwn(name) for name in unreachable],
        feedback=feedback,
    )


def _recent(due_at: datetime, digest: Prompt) -> bool:
    return (digest.due_at - due_at).days <= 7


def _cycle_in(key: str) -> int | None:
    for part in key.split(":"):
        if part.startswith("cycle=") and part[6:].isdigit():
            return int(part[6:])
    return None
