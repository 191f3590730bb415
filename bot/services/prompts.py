"""What each kind of prompt is about, as plain facts for its message: whether it is still needed,
and what it may say. The Slack layer's messages module words the facts and lays them out; nothing
here knows Slack.

A prompt's facts come from its typed references (plan and review cycle, assignment, monitoring
request), never from its dedupe key. They name the pupil as the school chose (name or initials)
and no more of the plan than the ask needs: needs and targets are in the forms, which Slack does
not keep (DESIGN §4).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.services import assignments, monitoring, outbox, qa, review_forward, review_schedule
from bot.services.calendar import load_calendar
from models import (
    AssignmentStatus,
    CaseHolderAssignment,
    MonitoringRequest,
    MonitoringStatus,
    Plan,
    PlanRequest,
    Prompt,
    PromptKind,
    PromptStatus,
    Pupil,
    PupilDisplay,
    Review,
    ReviewStatus,
    School,
    Staff,
)


@dataclass(frozen=True)
class MessagePupil:
    """A pupil as a message names them: no UPN, date of birth or anything of the plan, as
    messages stay in Slack's history (DESIGN §4)."""

    id: int
    name: str
    """Their name or their initials, as the school chose."""
    year_group: int


@dataclass(frozen=True)
class AssignmentAsk:
    """An assignment notice or reminder: be this pupil's case holder, by when."""

    assignment_id: int
    pupil: MessagePupil
    assigned_by: str | None
    review_date: date | None
    draft_by: date | None
    """When there is no review date yet: the plan is to be drafted by then."""


@dataclass(frozen=True)
class Handover:
    """A plan's assignment, told to someone else: the SENDCo (declined) or the last holder."""

    pupil: MessagePupil
    case_holder: str
    """Who the plan was assigned to."""


@dataclass(frozen=True)
class PlanRequestAsk:
    """A case holder's request to hold a pupil's plan: put to the SENDCo, or its answer."""

    request_id: int
    pupil: MessagePupil
    case_holder: str
    """Who asked."""


@dataclass(frozen=True)
class ReviewAsk:
    """A review prompt or reminder: log the review notes."""

    plan_id: int
    pupil: MessagePupil
    review_date: date | None
    snoozed: bool
    """This is the reminder the case holder asked for by snoozing the prompt."""
    can_snooze: bool
    draft_saved: bool
    feedback: monitoring.Feedback
    today: date
    """The school's day when the message is written (delivered), which says whether the review
    is still to come or overdue, and by how long."""


@dataclass(frozen=True)
class MonitoringAsk:
    """One request for a teacher's feedback, made by a person with `/ssp feedback`."""

    request_id: int
    asked_by: str | None


@dataclass(frozen=True)
class SendcoDigest:
    """The SENDCo's week: reviews coming up, overdue and escalated, and what waits for them."""

    week_of: date
    notice: int
    escalate_after: int
    coming_up: int
    overdue: int
    escalated: int
    escalated_by: list[tuple[str, int]]
    """(case holder, how many of their reviews are escalated), by name."""
    awaiting_qa: int
    unreachable: list[str]
    """Staff whose prompts could not be delivered this past week."""
    feedback: monitoring.SchoolMonitoring


def plan_pupil(session: Session, prompt: Prompt) -> MessagePupil | None:
    """The pupil of the prompt's plan; None when there is no such plan."""
    plan = _plan(session, prompt)
    return _pupil(session, prompt, plan.pupil) if plan is not None else None


@dataclass(frozen=True)
class QaWaiting:
    """The SENDCo's daily summary: how many plans wait for quality assurance, and the one that
    has waited longest (its pupil, and since when)."""

    count: int
    oldest: MessagePupil
    oldest_since: date


def qa_waiting(session: Session, prompt: Prompt) -> QaWaiting | None:
    """None once nothing waits (the SENDCo has been through them since it was queued)."""
    waiting = qa.awaiting(session, prompt.school_id)
    if not waiting:
        return None
    oldest = waiting[0]
    school = session.get(School, prompt.school_id)
    return QaWaiting(
        len(waiting),
        message_pupil(session, prompt.school_id, session.get(Pupil, oldest.pupil_id)),
        school.local_date(oldest.waiting_since),
    )


@dataclass(frozen=True)
class QaApproval:
    """The case holder's plan was approved; `thread_ts` is the DM of its return in this round of
    quality assurance, to answer in its thread (None: there was none, or it is in another DM)."""

    pupil: MessagePupil
    thread_ts: str | None


def qa_approval(session: Session, prompt: Prompt) -> QaApproval | None:
    """None when the plan is gone."""
    plan = _plan(session, prompt)
    if plan is None:
        return None
    # The last word on this plan to this case holder before the approval: a return (answered in
    # its thread) or an earlier approval (this round had no return: a message of its own).
    before = session.scalar(
        select(Prompt)
        .where(
            Prompt.school_id == prompt.school_id,
            Prompt.plan_id == plan.id,
            Prompt.recipient_id == prompt.recipient_id,
            Prompt.kind.in_((PromptKind.QA_RETURNED, PromptKind.QA_APPROVED)),
            Prompt.id < prompt.id,
        )
        .order_by(Prompt.id.desc())
        .limit(1)
    )
    thread_ts = None
    if (
        before is not None
        and before.kind == PromptKind.QA_RETURNED
        and before.status == PromptStatus.SENT
        and before.slack_ts
    ):
        staff = session.get(Staff, prompt.recipient_id)
        # A thread lives in one DM: the return's, if it is still the one the sender posts to.
        if staff is not None and before.slack_channel in (None, staff.dm_channel):
            thread_ts = before.slack_ts
    return QaApproval(_pupil(session, prompt, plan.pupil), thread_ts)


def assignment_ask(session: Session, prompt: Prompt) -> AssignmentAsk | None:
    """None once the assignment is answered or handed on: nothing to ask any more."""
    plan, assignment = _plan(session, prompt), _assignment(session, prompt)
    if plan is None or assignment is None or assignment.status != AssignmentStatus.PENDING:
        return None
    draft_by = None
    if plan.review_date is None:
        draft_by = load_calendar(session, prompt.school_id).school_days_after(
            prompt.due_at.date(), assignments.DRAFT_WITHIN_SCHOOL_DAYS
        )
    by = session.get(Staff, assignment.assigned_by_id) if assignment.assigned_by_id else None
    return AssignmentAsk(
        assignment_id=assignment.id,
        pupil=_pupil(session, prompt, plan.pupil),
        assigned_by=by.display_name if by else None,
        review_date=plan.review_date,
        draft_by=draft_by,
    )


def handover(session: Session, prompt: Prompt) -> Handover | None:
    plan, assignment = _plan(session, prompt), _assignment(session, prompt)
    if plan is None or assignment is None:
        return None
    return Handover(_pupil(session, prompt, plan.pupil), assignment.staff.display_name)


def plan_request_ask(session: Session, prompt: Prompt) -> PlanRequestAsk | None:
    """For the SENDCo's question, None once the request is answered: nothing left to ask."""
    request_id = prompt.plan_request_id
    request = session.get(PlanRequest, request_id) if request_id else None
    if request is None or request.school_id != prompt.school_id:
        return None
    if prompt.recipient_id != request.staff_id and request.approved is not None:
        return None
    return PlanRequestAsk(
        request.id, _pupil(session, prompt, request.pupil), request.staff.display_name
    )


def review_ask(session: Session, prompt: Prompt) -> ReviewAsk | None:
    """None once the review is logged, the plan closed or handed on: no need to ask."""
    plan = _plan(session, prompt)
    cycle = prompt.cycle_number
    if (
        plan is None
        or plan.cycle_number != cycle
        or plan.status not in review_schedule.REVIEWABLE
        or plan.case_holder_id != prompt.recipient_id
    ):
        return None
    review = session.scalar(
        select(Review).where(Review.plan_id == plan.id, Review.cycle_number == cycle)
    )
    if review is not None and review.status != ReviewStatus.DRAFT:
        return None
    snoozed = review_schedule.is_snoozed_reminder(prompt)
    return ReviewAsk(
        plan_id=plan.id,
        pupil=_pupil(session, prompt, plan.pupil),
        review_date=plan.review_date,
        snoozed=snoozed,
        can_snooze=not snoozed and (review is None or review.snoozed_at is None),
        draft_saved=review is not None and bool(review.what_is_working or review.target_results),
        feedback=monitoring.feedback_for(session, plan.id, cycle),
        today=delivery_day(session, prompt),
    )


def delivery_day(session: Session, prompt: Prompt) -> date:
    """The school's today as the prompt's message is written: the sender puts the moment of
    delivery in `session.info["now"]` (a prompt may go days after it was due: a holiday, Slack
    down); otherwise the day it was due."""
    now = session.info.get("now")
    school = session.get(School, prompt.school_id)
    return school.local_date(now if isinstance(now, datetime) else prompt.due_at)


@dataclass(frozen=True)
class ForwardAsk:
    """A case holder asked whether to bring a plan's review forward: the pupil and the dates,
    never what changed (that is in the "What changed" modal)."""

    prompt_id: int
    pupil: MessagePupil
    review_date: date
    proposed: date


def forward_ask(session: Session, prompt: Prompt) -> ForwardAsk | None:
    """None once answered, or when there is nothing left to bring forward."""
    ask = review_forward.open_ask(session, prompt, delivery_day(session, prompt))
    if ask is None:
        return None
    pupil = _pupil(session, prompt, ask.plan.pupil)
    return ForwardAsk(ask.prompt_id, pupil, ask.review_date, ask.proposed)


@dataclass(frozen=True)
class ForwardNotice:
    """The SENDCo told that a plan changed and its case holder was asked about the review."""

    pupil: MessagePupil
    case_holder: str


def forward_notice(session: Session, prompt: Prompt) -> ForwardNotice | None:
    plan = _plan(session, prompt)
    if plan is None or plan.status not in review_schedule.REVIEWABLE or plan.case_holder is None:
        return None
    return ForwardNotice(_pupil(session, prompt, plan.pupil), plan.case_holder.display_name)


def monitoring_ask(session: Session, prompt: Prompt) -> MonitoringAsk | None:
    """None once the request is answered, withdrawn or closed."""
    request_id = prompt.monitoring_request_id
    request = session.get(MonitoringRequest, request_id) if request_id else None
    if request is None or request.status != MonitoringStatus.OPEN:
        return None
    asker = session.get(Staff, request.requested_by_id) if request.requested_by_id else None
    return MonitoringAsk(request.id, asker.display_name if asker else None)


def sendco_digest(session: Session, prompt: Prompt) -> SendcoDigest | None:
    """None when there is nothing to say this week: no message."""
    school = session.get(School, prompt.school_id)
    today = school.local_date(prompt.due_at)
    calendar = load_calendar(session, school.id)
    states = review_schedule.review_states(session, school, today, calendar)
    escalated = [s for s in states if s.escalated]
    overdue = sum(1 for s in states if s.overdue)
    coming_up = sum(1 for s in states if s.coming_up)
    awaiting = len(qa.awaiting(session, school.id))
    unreachable = sorted(
        {u.recipient for u in outbox.unreachable(session, school.id) if _recent(u.due_at, prompt)}
    )
    if not (escalated or overdue or coming_up or awaiting or unreachable):
        return None
    by_holder = Counter(s.case_holder or "no case holder" for s in escalated)
    return SendcoDigest(
        week_of=today,
        notice=school.review_notice_school_days,
        escalate_after=review_schedule.ESCALATE_AFTER_SCHOOL_DAYS,
        coming_up=coming_up,
        overdue=overdue,
        escalated=len(escalated),
        escalated_by=sorted(by_holder.items()),
        awaiting_qa=awaiting,
        unreachable=unreachable,
        feedback=monitoring.school_monitoring(session, school.id),
    )


def message_pupil(session: Session, school_id: int, pupil: Pupil) -> MessagePupil:
    """`pupil` as a message kept in Slack's history names them: their name, or their initials
    if the school chose that."""
    school = session.get(School, school_id)
    initials = school.pupil_display == PupilDisplay.INITIALS
    return MessagePupil(pupil.id, pupil.initials if initials else pupil.known_as, pupil.year_group)


def request_pupil(session: Session, school_id: int, request_id: int) -> MessagePupil | None:
    """The pupil of a monitoring request, as a message names them."""
    request = session.get(MonitoringRequest, request_id)
    if request is None or request.school_id != school_id:
        return None
    return message_pupil(session, school_id, request.plan.pupil)


def own_messages(
    session: Session,
    recipient_id: int,
    kinds: tuple[PromptKind, ...],
    *,
    assignment_id: int | None = None,
) -> list[tuple[str, str]]:
    """(channel, ts) of the messages posted to `recipient_id` for these kinds of prompt (for one
    assignment, if given), newest first: the messages an answer of theirs may redraw. Taken
    from the outbox, never from a form's metadata, so nobody can aim a redraw at another
    person's message."""
    query = select(Prompt.slack_channel, Prompt.slack_ts).where(
        Prompt.recipient_id == recipient_id,
        Prompt.kind.in_(kinds),
        Prompt.slack_channel.is_not(None),
        Prompt.slack_ts.is_not(None),
    )
    if assignment_id is not None:
        query = query.where(Prompt.assignment_id == assignment_id)
    rows = session.execute(query.order_by(Prompt.id.desc()))
    return [(row.slack_channel, row.slack_ts) for row in rows]


def _pupil(session: Session, prompt: Prompt, pupil: Pupil) -> MessagePupil:
    return message_pupil(session, prompt.school_id, pupil)


def _plan(session: Session, prompt: Prompt) -> Plan | None:
    return session.scalar(
        select(Plan).where(Plan.id == prompt.plan_id).options(selectinload(Plan.pupil))
    )


def _assignment(session: Session, prompt: Prompt) -> CaseHolderAssignment | None:
    assignment_id = prompt.assignment_id
    return session.get(CaseHolderAssignment, assignment_id) if assignment_id else None


def _recent(due_at: datetime, digest: Prompt) -> bool:
    return (digest.due_at - due_at).days <= 7
