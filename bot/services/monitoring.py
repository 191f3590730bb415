"""Teachers' monitoring feedback: is the plan in place in your lessons, and what impact?

Before each review (15 school days before the review date, so the answers reach the case
holder's review prompt) every active teacher of the pupil, from the active teaching groups, gets
a request. A SENDCo or the case holder can ask at any time with `/ssp feedback`. Requests reach
teachers in one digest a day listing everything they have pending (a secondary teacher may teach
40 pupils with plans), with one reminder after 3 school days. Answers can be changed until the
review is submitted, which closes the requests.

Support staff are asked too: whoever delivers the pupil's provision, which here means a member of
staff named in the plan's People as delivering it (PlanPerson "delivers" with a staff link) and
the pupil's key adult (`/ssp support`, while the link is open). Support staff named on a class
(the classes CSV's `support_staff_emails`) support the class, not this pupil's provision, so
they are not asked. Their questions fit them: is the session happening as planned, and how is
the pupil responding. They are in the same daily digest as teachers' requests (one message a
day whatever the roles), and a teacher of the pupil who also delivers is asked once, as a
teacher. Support staff no longer linked (the plan's People changed, the key adult link ended,
they left) have their requests withdrawn by the next sweep, and are refused meanwhile.

Who sees answers: the SENDCo, senior leaders and the plan's case holder. A teacher sees only
their own.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, aliased, selectinload

from bot import db
from bot.access import Viewer, visible_pupils
from bot.errors import UserError
from bot.services import audit, outbox
from bot.services.calendar import SchoolCalendar, load_calendar
from bot.services.caseload import COUNTED_MONITORING
from bot.services.glossary import acronyms_in, explain, glossary
from bot.services.review_schedule import CURRENT_REVIEW
from models import (
    AdjustmentKind,
    Impact,
    KeyAdult,
    MonitoringRequest,
    MonitoringRole,
    MonitoringStatus,
    Plan,
    PlanPerson,
    PlanPersonRole,
    PlanStatus,
    Prompt,
    PromptKind,
    Pupil,
    PupilResponse,
    Review,
    ReviewStatus,
    School,
    SessionAsPlanned,
    Staff,
    StrategiesInPlace,
    TargetStatus,
    TeachingGroup,
    TeachingGroupPupil,
    TeachingGroupTeacher,
)

ASK_BEFORE_SCHOOL_DAYS = 15
REMIND_AFTER_SCHOOL_DAYS = 3
DIGEST_ROWS = 20  # a Slack message holds 50 blocks; each pupil takes two
PENDING = (MonitoringStatus.OPEN, MonitoringStatus.ANSWERED)
RUNNING = (PlanStatus.ACTIVE, PlanStatus.IN_REVIEW)
CLOSED_MESSAGE = "Thank you, but this review has closed: the case holder has submitted it."
NO_LONGER_LINKED = "no longer delivers the pupil's provision"
SUPPORT_SAYS_NOT = "support staff say they don't work with this pupil"


class MonitoringRefused(UserError):
    pass


def digest_key(staff_id: int, day: date) -> str:
    return f"monitoring_digest:staff={staff_id}:day={day.isoformat()}"


# --- asking ---------------------------------------------------------------------------------


def teachers_of(
    session: Session, school_id: int, pupil_ids: list[int]
) -> dict[int, list[tuple[int, int]]]:
    """Each pupil's current teachers as (staff id, group id), from active classes (one query)."""
    if not pupil_ids:
        return {}
    rows = session.execute(
        select(TeachingGroupPupil.pupil_id, TeachingGroupTeacher.staff_id, TeachingGroup.id)
        .join(TeachingGroup, TeachingGroup.id == TeachingGroupPupil.group_id)
        .join(TeachingGroupTeacher, TeachingGroupTeacher.group_id == TeachingGroup.id)
        .join(Staff, Staff.id == TeachingGroupTeacher.staff_id)
        .where(
            TeachingGroup.school_id == school_id,
            TeachingGroup.is_active.is_(True),
            TeachingGroupPupil.is_active.is_(True),
            TeachingGroupTeacher.is_active.is_(True),
            Staff.is_active.is_(True),
            TeachingGroupPupil.pupil_id.in_(pupil_ids),
        )
        .order_by(TeachingGroupPupil.pupil_id, TeachingGroupTeacher.staff_id, TeachingGroup.code)
    ).all()
    found: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for pupil_id, staff_id, group_id in rows:
        if all(staff_id != s for s, _ in found[pupil_id]):
            found[pupil_id].append((staff_id, group_id))
    return found


def supporters_of(session: Session, school_id: int, plans: list) -> dict[int, list[int]]:
    """Each plan's support staff who deliver its provision (two queries): active staff named in
    the plan's People as delivering it, and the pupil's key adult. Not the plan's case holder,
    who writes the review the feedback is for. Plans are rows with an `id`."""
    if not plans:
        return {}
    ids = [p.id for p in plans]
    not_holder = or_(Plan.case_holder_id.is_(None), Plan.case_holder_id != Staff.id)
    named = session.execute(
        select(PlanPerson.plan_id, PlanPerson.staff_id)
        .join(Plan, Plan.id == PlanPerson.plan_id)
        .join(Staff, Staff.id == PlanPerson.staff_id)
        .where(
            PlanPerson.plan_id.in_(ids),
            PlanPerson.role == PlanPersonRole.DELIVERS,
            Staff.school_id == school_id,
            Staff.is_active.is_(True),
            not_holder,
        )
        .order_by(PlanPerson.plan_id, PlanPerson.staff_id)
    ).all()
    keys = session.execute(
        select(Plan.id, KeyAdult.staff_id)
        .join(KeyAdult, KeyAdult.pupil_id == Plan.pupil_id)
        .join(Staff, Staff.id == KeyAdult.staff_id)
        .where(
            Plan.id.in_(ids),
            KeyAdult.school_id == school_id,
            KeyAdult.ended_at.is_(None),
            Staff.is_active.is_(True),
            not_holder,
        )
        .order_by(Plan.id, KeyAdult.staff_id)
    ).all()
    found: dict[int, list[int]] = defaultdict(list)
    for plan_id, staff_id in [*named, *keys]:
        if staff_id not in found[plan_id]:
            found[plan_id].append(staff_id)
    return found


def _everyone(
    session: Session, school_id: int, plans: list
) -> dict[int, list[tuple[int, int | None, MonitoringRole]]]:
    """Whom each plan's monitoring asks, as (staff id, class, role): its pupil's teachers, then
    support staff who deliver it and do not also teach the pupil."""
    teachers = teachers_of(session, school_id, [p.pupil_id for p in plans])
    support = supporters_of(session, school_id, plans)
    asked: dict[int, list[tuple[int, int | None, MonitoringRole]]] = {}
    for plan in plans:
        theirs = [(s, g, MonitoringRole.TEACHER) for s, g in teachers.get(plan.pupil_id, [])]
        teaching = {s for s, _, _ in theirs}
        theirs += [(s, None, MonitoringRole.SUPPORT) for s in support.get(plan.id, [])]
        asked[plan.id] = [
            t for t in theirs if t[2] == MonitoringRole.TEACHER or t[0] not in teaching
        ]
    return asked


def create_due_requests(
    session: Session, school: School, now: datetime, calendar: SchoolCalendar | None = None
) -> int:
    """Asks every teacher of each pupil whose review is 15 school days off. Idempotent."""
    calendar = calendar or load_calendar(session, school.id)
    today = school.local_date(now)
    plans = session.execute(
        select(Plan.id, Plan.pupil_id, Plan.cycle_number, Plan.review_date)
        .outerjoin(Review, CURRENT_REVIEW)
        .where(
            Plan.school_id == school.id,
            Plan.status.in_(RUNNING),
            Plan.review_date.is_not(None),
            Plan.review_date <= _far_enough(today),
            (Review.id.is_(None)) | (Review.status == ReviewStatus.DRAFT),
        )
    ).all()
    due = [
        p
        for p in plans
        if today
        >= calendar.school_days_before(
            calendar.next_school_day(p.review_date), ASK_BEFORE_SCHOOL_DAYS
        )
    ]
    return _ask(session, school.id, due, now, requested_by=None)


def request_now(
    session: Session,
    viewer: Viewer,
    *,
    pupil_id: int,
    teacher_id: int | None,
    now: datetime,
) -> tuple[str, list[str]]:
    """`/ssp feedback`: asks the pupil's teachers (or one teacher) now. Returns the pupil's name
    and the names of the teachers asked. Only the SENDCo and the plan's case holder may ask."""
    plan = session.scalar(
        select(Plan)
        .join(Pupil, Pupil.id == Plan.pupil_id)
        .where(Plan.pupil_id == pupil_id, Plan.status.in_(RUNNING), visible_pupils(viewer))
        .options(selectinload(Plan.pupil))
    )
    if plan is None or not (viewer.is_sendco or plan.case_holder_id == viewer.staff_id):
        raise MonitoringRefused(
            "I couldn't find an active plan for that pupil among the plans you hold. Feedback "
            "is requested by the plan's case holder or the SENDCo."
        )
    row = _PlanRow(plan.id, plan.pupil_id, plan.cycle_number)
    teachers = _everyone(session, viewer.school_id, [row])[plan.id]
    if teacher_id is not None:
        teachers = [t for t in teachers if t[0] == teacher_id]
        if not teachers:
            raise MonitoringRefused(
                f"That member of staff doesn't teach {plan.pupil.known_as} in any current class "
                "or deliver their provision, so they can't be asked. Check the class lists "
                "(`sspbot import classes`) and the plan's People."
            )
    if not teachers:
        raise MonitoringRefused(
            f"No current class lists show who teaches {plan.pupil.known_as}, and nobody is "
            "named as delivering their plan. Import them with `sspbot import classes`."
        )
    # Two `/ssp feedback` for one pupil at once (a double Enter, or the SENDCo and the case
    # holder): the plan's row is taken for the rest of this transaction, so the second reads
    # what the first asked, once it has committed, and asks nobody again. A write, as SQLite
    # locks only for writes; it changes nothing (the plan's version stays).
    session.execute(
        update(Plan)
        .where(Plan.id == plan.id)
        .values(updated_at=Plan.updated_at)
        .execution_options(synchronize_session=False)
    )
    _ask(session, viewer.school_id, [row], now, requested_by=viewer.staff_id, only=teachers)
    requests = session.scalars(
        select(MonitoringRequest)
        .where(
            MonitoringRequest.plan_id == plan.id,
            MonitoringRequest.cycle_number == plan.cycle_number,
            MonitoringRequest.teacher_id.in_([t for t, _, _ in teachers]),
        )
        .options(selectinload(MonitoringRequest.teacher))
    ).all()
    school = session.get(School, viewer.school_id)
    calendar = load_calendar(session, school.id)
    send_at = calendar.next_sending_time(
        now, school.timezone, school.school_day_starts, school.school_day_ends
    )
    # One monitoring message a teacher a day at most: this shares the day's key with the digest,
    # so a teacher asked now gets no digest today, and one who had either today gets nothing
    # more (an unsent request waits for tomorrow's digest: notified_at stays empty).
    today = school.local_date(now)
    keys = {r.teacher_id: digest_key(r.teacher_id, today) for r in requests}
    messaged_today = set(
        session.scalars(
            select(Prompt.dedupe_key).where(
                Prompt.school_id == school.id, Prompt.dedupe_key.in_(list(keys.values()))
            )
        )
    )
    already = [r for r in requests if keys[r.teacher_id] in messaged_today]
    for request in requests:
        if request.status != MonitoringStatus.OPEN or request in already:
            continue
        outbox.enqueue(
            session,
            school_id=school.id,
            recipient_id=request.teacher_id,
            kind=PromptKind.MONITORING_REQUEST,
            dedupe_key=keys[request.teacher_id],
            due_at=send_at,
            now=now,
            plan_id=plan.id,
            monitoring_request_id=request.id,
        )
        request.notified_at = request.notified_at or now
    told = [r for r in requests if r not in already]
    # A new request to a teacher messaged today waits for tomorrow's digest; a repeat of one
    # already sent adds nothing, and when that is all there is the asker is told so.
    waiting = [r for r in already if r.notified_at is None]
    if not told and not waiting:
        names = [(r.teacher_id, r.teacher.display_name) for r in already]
        raise MonitoringRefused(
            f"{_names([name for _, name in names])} already had a message from me today about "
            f"monitoring feedback ({_asked_today(session, school, names, today)}), and teachers "
            "get one a day at most: nothing new was sent, and nobody was asked again."
        )
    audit.record_by(
        session,
        viewer,
        action="update",
        via="/ssp feedback",
        now=now,
        plan=plan,
        detail=f"monitoring feedback requested from {len(requests)} member(s) of staff",
    )
    session.flush()
    return plan.pupil.known_as, sorted(r.teacher.display_name for r in told) + sorted(
        f"{r.teacher.display_name} (in tomorrow's message: they had one from me today)"
        for r in waiting
    )


def _asked_today(
    session: Session, school: School, teachers: list[tuple[int, str]], today: date
) -> str:
    """What each teacher was already sent today about monitoring, and when: "Lee Chan and Mo
    Khan were asked at 10:00 by Morgan Reed." Read from the day's messages in the outbox."""
    prompts = {
        p.recipient_id: p
        for p in session.scalars(
            select(Prompt).where(
                Prompt.school_id == school.id,
                Prompt.dedupe_key.in_([digest_key(t, today) for t, _ in teachers]),
            )
        )
    }
    zone = ZoneInfo(school.timezone)
    said: dict[str, list[str]] = defaultdict(list)
    for teacher_id, name in teachers:
        prompt = prompts.get(teacher_id)
        if prompt is None:
            said["earlier today"].append(name)
            continue
        at = f"{prompt.created_at.astimezone(zone):%H:%M}"
        request = (
            session.get(MonitoringRequest, prompt.monitoring_request_id)
            if prompt.kind == PromptKind.MONITORING_REQUEST and prompt.monitoring_request_id
            else None
        )
        asker_id = request.requested_by_id if request is not None else None
        asker = session.get(Staff, asker_id) if asker_id else None
        how = f"asked at {at} by {asker.display_name}" if asker else f"today's digest at {at}"
        said[how].append(name)
    if len(said) == 1:
        return next(iter(said))
    return "; ".join(f"{_names(names)}: {how}" for how, names in said.items())


def _names(names: list[str]) -> str:
    names = sorted(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def create_due_digests(
    session: Session, school: School, now: datetime, calendar: SchoolCalendar | None = None
) -> int:
    """Queues one digest today for each teacher with new requests, or with requests unanswered
    for 3 school days (the one reminder). Bounded statements: two reads, two updates, one
    insert."""
    calendar = calendar or load_calendar(session, school.id)
    today = school.local_date(now)
    if not calendar.is_school_day(today):
        return 0
    remind_before = school.at_school_start(
        calendar.school_days_before(today, REMIND_AFTER_SCHOOL_DAYS - 1)
    )
    withdraw_unlinked(session, school.id, now)
    rows = session.execute(
        select(
            MonitoringRequest.id, MonitoringRequest.teacher_id, MonitoringRequest.notified_at
        ).where(
            MonitoringRequest.school_id == school.id,
            MonitoringRequest.status == MonitoringStatus.OPEN,
            (MonitoringRequest.notified_at.is_(None))
            | (
                (MonitoringRequest.reminded_at.is_(None))
                & (MonitoringRequest.notified_at < remind_before)
            ),
        )
    ).all()
    if not rows:
        return 0
    teachers = sorted({r.teacher_id for r in rows})
    keys = {t: digest_key(t, today) for t in teachers}
    existing = set(
        session.scalars(
            select(Prompt.dedupe_key).where(
                Prompt.school_id == school.id, Prompt.dedupe_key.in_(list(keys.values()))
            )
        )
    )
    # A teacher whose digest has gone today hears of later requests in tomorrow's.
    queued = [t for t in teachers if keys[t] not in existing]
    send_at = calendar.next_sending_time(
        now, school.timezone, school.school_day_starts, school.school_day_ends
    )
    outbox.enqueue_many(
        session,
        [
            dict(
                school_id=school.id,
                recipient_id=teacher_id,
                kind=PromptKind.MONITORING_DIGEST,
                dedupe_key=keys[teacher_id],
                due_at=send_at,
            )
            for teacher_id in queued
        ],
        now=now,
    )
    told = set(queued)
    new = [r.id for r in rows if r.teacher_id in told and r.notified_at is None]
    reminders = [r.id for r in rows if r.teacher_id in told and r.notified_at is not None]
    for ids, column in ((new, "notified_at"), (reminders, "reminded_at")):
        if ids:
            session.execute(
                update(MonitoringRequest)
                .where(MonitoringRequest.id.in_(ids))
                .values({column: now})
                .execution_options(synchronize_session=False)
            )
    return len(queued)


def withdraw_unlinked(session: Session, school_id: int, now: datetime) -> int:
    """Support staff's pending requests whose member of staff no longer delivers the plan (the
    People changed, the key adult link ended, they left) are withdrawn (bounded: four
    statements)."""
    pending = session.execute(
        select(MonitoringRequest.id, MonitoringRequest.teacher_id, Plan.id, Plan.pupil_id)
        .join(Plan, Plan.id == MonitoringRequest.plan_id)
        .where(
            MonitoringRequest.school_id == school_id,
            MonitoringRequest.role == MonitoringRole.SUPPORT,
            MonitoringRequest.status.in_(PENDING),
        )
    ).all()
    if not pending:
        return 0
    plans = {_PlanRow(plan_id, pupil_id, 0) for _, _, plan_id, pupil_id in pending}
    linked = supporters_of(session, school_id, list(plans))
    gone = [r for r, staff_id, plan_id, _ in pending if staff_id not in linked.get(plan_id, [])]
    if gone:
        session.execute(
            update(MonitoringRequest)
            .where(MonitoringRequest.id.in_(gone), MonitoringRequest.status.in_(PENDING))
            .values(
                status=MonitoringStatus.WITHDRAWN, withdrawn_reason=NO_LONGER_LINKED, closed_at=now
            )
            .execution_options(synchronize_session=False)
        )
    return len(gone)


# --- answering ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestRow:
    request_id: int
    pupil_id: int
    pupil_name: str
    initials: str
    year_group: int
    group: str | None
    answered: bool
    strategies_answered: bool
    impact_answered: bool
    role: MonitoringRole = MonitoringRole.TEACHER


def requests_for(
    session: Session,
    school_id: int,
    teacher_id: int,
    request_id: int | None = None,
    limit: int | None = None,
) -> list[RequestRow]:
    """A teacher's requests still open to answer or to change, unanswered first (one query);
    the first `limit` of them: a message shows 20."""
    query = (
        select(MonitoringRequest, Pupil, TeachingGroup)
        .join(Plan, Plan.id == MonitoringRequest.plan_id)
        .join(Pupil, Pupil.id == Plan.pupil_id)
        .outerjoin(TeachingGroup, TeachingGroup.id == MonitoringRequest.group_id)
        .where(
            MonitoringRequest.school_id == school_id,
            MonitoringRequest.teacher_id == teacher_id,
            MonitoringRequest.status.in_(PENDING),
        )
        .order_by(
            MonitoringRequest.status != MonitoringStatus.OPEN,
            Pupil.last_name,
            Pupil.first_name,
            MonitoringRequest.id,
        )
    )
    if request_id is not None:
        query = query.where(MonitoringRequest.id == request_id)
    if limit is not None:
        query = query.limit(limit)
    return [
        RequestRow(
            request_id=request.id,
            pupil_id=pupil.id,
            pupil_name=pupil.known_as,
            initials=pupil.initials,
            year_group=pupil.year_group,
            group=_group_name(group),
            answered=request.status == MonitoringStatus.ANSWERED,
            strategies_answered=(
                request.session_as_planned
                if request.role == MonitoringRole.SUPPORT
                else request.strategies
            )
            is not None,
            impact_answered=(
                request.responding if request.role == MonitoringRole.SUPPORT else request.impact
            )
            is not None,
            role=request.role,
        )
        for request, pupil, group in session.execute(query).all()
    ]


def request_counts(session: Session, school_id: int, teacher_id: int) -> tuple[int, int]:
    """(waiting for an answer, open to answer or change) for a teacher (one query)."""
    waiting, total = session.execute(
        select(
            func.count(MonitoringRequest.id).filter(
                MonitoringRequest.status == MonitoringStatus.OPEN
            ),
            func.count(MonitoringRequest.id),
        ).where(
            MonitoringRequest.school_id == school_id,
            MonitoringRequest.teacher_id == teacher_id,
            MonitoringRequest.status.in_(PENDING),
        )
    ).one()
    return int(waiting), int(total)


def answer(
    session: Session,
    viewer: Viewer,
    request_id: int,
    *,
    now: datetime,
    strategies: StrategiesInPlace | None = None,
    impact: Impact | None = None,
    notes: dict[str, str | None] | None = None,
    session_as_planned: SessionAsPlanned | None = None,
    responding: PupilResponse | None = None,
) -> MonitoringRequest:
    """Records (or changes) the answer of the teacher or support staff asked. Only their own
    request, while it is open, and only the questions their role is asked."""
    request = _own_request(session, viewer, request_id)
    support = request.role == MonitoringRole.SUPPORT
    if (support and (strategies or impact)) or (not support and (session_as_planned or responding)):
        raise MonitoringRefused("That question isn't one this request asks; please choose again.")
    if strategies is not None:
        request.strategies = strategies
    if impact is not None:
        request.impact = impact
    if session_as_planned is not None:
        request.session_as_planned = session_as_planned
    if responding is not None:
        request.responding = responding
    if notes is not None:
        for name in ("comment", "evidence", "to_change"):
            value = (notes.get(name) or "").strip()
            setattr(request, name, value or None)
    session.flush()
    # Answered once both questions are: decided by the database, as the two may be clicked
    # 10 ms apart, each in its own transaction seeing only its own half (on PostgreSQL this
    # UPDATE waits for the other click's commit, then reads both).
    session.execute(
        update(MonitoringRequest)
        .where(
            MonitoringRequest.id == request.id,
            MonitoringRequest.status.in_(PENDING),
            (MonitoringRequest.strategies.is_not(None) & MonitoringRequest.impact.is_not(None))
            | (
                MonitoringRequest.session_as_planned.is_not(None)
                & MonitoringRequest.responding.is_not(None)
            ),
        )
        .values(status=MonitoringStatus.ANSWERED, answered_at=now)
        .execution_options(synchronize_session=False)
    )
    session.refresh(request)
    _audit_answer(session, viewer, request, now, "monitoring feedback given")
    return request


def not_teaching(
    session: Session, viewer: Viewer, request_id: int, now: datetime
) -> tuple[str, bool]:
    """ "I don't teach this pupil" (support staff: "I don't work with this pupil"): the request
    goes, and the class list (or who delivers the plan) is flagged to the SENDCo in
    `/ssp monitoring`. Returns the pupil's name, and whether they were asked as support staff."""
    request = _own_request(session, viewer, request_id)
    # Once, whatever the clicks: the second finds it withdrawn and is told so.
    claimed = session.execute(
        update(MonitoringRequest)
        .where(MonitoringRequest.id == request.id, MonitoringRequest.status.in_(PENDING))
        .values(
            status=MonitoringStatus.WITHDRAWN,
            withdrawn_reason=(
                SUPPORT_SAYS_NOT
                if request.role == MonitoringRole.SUPPORT
                else "the teacher says they don't teach this pupil"
            ),
            closed_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(request)
    if claimed != 1:
        _own_request(session, viewer, request_id)  # says what became of it
        raise MonitoringRefused("This request has already been answered or closed.")
    _audit_answer(
        session,
        viewer,
        request,
        now,
        "support staff say they don't work with the pupil"
        if request.role == MonitoringRole.SUPPORT
        else "teacher says they don't teach the pupil",
    )
    return request.plan.pupil.known_as, request.role == MonitoringRole.SUPPORT


def request_for_modal(
    session: Session, viewer: Viewer, request_id: int, now: datetime
) -> tuple[MonitoringRequest, dict[str, Any]]:
    """The request and what a teacher needs to teach the pupil: in-class adjustments, access
    arrangements, how the pupil likes to be supported and the open targets. Audited."""
    request = _own_request(session, viewer, request_id)
    plan = session.scalar(
        select(Plan)
        .where(Plan.id == request.plan_id)
        .options(
            selectinload(Plan.pupil),
            selectinload(Plan.adjustments),
            selectinload(Plan.targets),
            selectinload(Plan.voice),
        )
    )

    adjustments = [a.description for a in plan.adjustments if a.kind == AdjustmentKind.IN_CLASS]
    arrangements = [a.description for a in plan.adjustments if a.kind != AdjustmentKind.IN_CLASS]
    targets = [
        (t.description, t.success_criteria)
        for t in sorted(plan.targets, key=lambda t: (t.position, t.id))
        if t.status == TargetStatus.OPEN
    ]
    support = plan.voice.how_to_support_me if plan.voice else None
    texts = [
        *adjustments,
        *arrangements,
        support,
        *(d for d, _ in targets),
        *(c for _, c in targets),
    ]
    explained = explain(glossary(session, plan.school_id), acronyms_in(texts))
    audit.record_by(
        session,
        viewer,
        action="read",
        via="monitoring request",
        now=now,
        plan=plan,
        detail="classroom strategies read",
    )
    return request, {
        "pupil_name": plan.pupil.known_as,
        "year_group": plan.pupil.year_group,
        "group": _group_name(request.group),
        "adjustments": adjustments,
        "arrangements": arrangements,
        "support": support,
        "targets": targets,
        "acronyms": {k: v for k, v in explained.items() if v},
    }


def close_for_review(session: Session, plan_id: int, cycle: int, now: datetime) -> int:
    """The review is submitted: the cycle's requests close; late answers are politely refused."""
    result = session.execute(
        update(MonitoringRequest)
        .where(
            MonitoringRequest.plan_id == plan_id,
            MonitoringRequest.cycle_number == cycle,
            MonitoringRequest.status.in_(PENDING),
        )
        .values(status=MonitoringStatus.CLOSED, closed_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


# --- what the answers add up to ---------------------------------------------------------------


@dataclass
class Feedback:
    """A plan's feedback this cycle, for the case holder, the SENDCo and senior leaders."""

    asked: int = 0
    answered: int = 0
    strategies: Counter = field(default_factory=Counter)
    impact: Counter = field(default_factory=Counter)
    comments: list[tuple[str, str | None, str]] = field(default_factory=list)
    """(teacher, subject, what they wrote); support staff's subject is "support staff"."""
    support_asked: int = 0
    support_answered: int = 0
    sessions: Counter = field(default_factory=Counter)
    responding: Counter = field(default_factory=Counter)

    @property
    def summary(self) -> str:
        if not self.asked and not self.support_asked:
            return "No teachers asked yet."
        parts = [f"{self.answered} of {self.asked} teachers answered"] if self.asked else []
        if self.strategies:
            parts.append(
                "strategies in place: "
                + ", ".join(
                    f"{self.strategies[s]} {s.label.lower()}"
                    for s in StrategiesInPlace
                    if self.strategies[s]
                )
            )
        if self.impact:
            parts.append(
                "impact: "
                + ", ".join(f"{self.impact[i]} {i.label.lower()}" for i in Impact if self.impact[i])
            )
        if self.support_asked:
            parts.append(f"support staff: {self.support_answered} of {self.support_asked} answered")
        if self.sessions:
            parts.append(
                "sessions as planned: "
                + ", ".join(
                    f"{self.sessions[s]} {s.label.lower()}"
                    for s in SessionAsPlanned
                    if self.sessions[s]
                )
            )
        if self.responding:
            parts.append(
                "pupil responding: "
                + ", ".join(
                    f"{self.responding[r]} {r.label.lower()}"
                    for r in PupilResponse
                    if self.responding[r]
                )
            )
        return "; ".join(parts) + "."


def feedback_for(session: Session, plan_id: int, cycle: int) -> Feedback:
    rows = session.execute(
        select(MonitoringRequest, Staff, TeachingGroup)
        .join(Staff, Staff.id == MonitoringRequest.teacher_id)
        .outerjoin(TeachingGroup, TeachingGroup.id == MonitoringRequest.group_id)
        .where(
            MonitoringRequest.plan_id == plan_id,
            MonitoringRequest.cycle_number == cycle,
            MonitoringRequest.status != MonitoringStatus.WITHDRAWN,
        )
        .order_by(Staff.last_name, Staff.first_name)
    ).all()
    feedback = Feedback()
    for request, teacher, group in rows:
        if request.role == MonitoringRole.SUPPORT:
            feedback.support_asked += 1
            if request.session_as_planned is not None or request.responding is not None:
                feedback.support_answered += 1
            if request.session_as_planned is not None:
                feedback.sessions[request.session_as_planned] += 1
            if request.responding is not None:
                feedback.responding[request.responding] += 1
            if request.comment:
                feedback.comments.append((teacher.display_name, "support staff", request.comment))
            continue
        feedback.asked += 1
        if request.strategies is not None or request.impact is not None:
            feedback.answered += 1
        if request.strategies is not None:
            feedback.strategies[request.strategies] += 1
        if request.impact is not None:
            feedback.impact[request.impact] += 1
        written = [
            text
            for label, text in (
                ("", request.comment),
                ("Evidence: ", request.evidence),
                ("To change: ", request.to_change),
            )
            for text in ([label + text] if text else [])
        ]
        if written:
            subject = group.subject if group is not None else None
            feedback.comments.append((teacher.display_name, subject, " ".join(written)))
    return feedback


def response_rates(session: Session, plan_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(answered, asked) this cycle for each plan (one query)."""
    if not plan_ids:
        return {}
    rows = session.execute(
        select(
            MonitoringRequest.plan_id,
            func.count(),
            func.count(MonitoringRequest.answered_at),
        )
        .join(Plan, COUNTED_MONITORING)
        .where(MonitoringRequest.plan_id.in_(plan_ids))
        .group_by(MonitoringRequest.plan_id)
    ).all()
    return {plan_id: (answered, asked) for plan_id, asked, answered in rows}


@dataclass(frozen=True)
class Rate:
    name: str
    asked: int
    answered: int

    @property
    def percent(self) -> int:
        return round(100 * self.answered / self.asked) if self.asked else 0


@dataclass(frozen=True)
class Flag:
    pupil_name: str
    teacher: str
    group: str | None


@dataclass
class SchoolMonitoring:
    asked: int = 0
    answered: int = 0
    by_department: list[Rate] = field(default_factory=list)
    by_teacher: list[Rate] = field(default_factory=list)
    not_in_place: list[Flag] = field(default_factory=list)
    partly_in_place: list[Flag] = field(default_factory=list)
    concerns: list[Flag] = field(default_factory=list)
    not_taught: list[Flag] = field(default_factory=list)
    # Support staff's answers: sessions not happening as planned (and sometimes), pupils not
    # responding well, and support staff who say they don't work with the pupil.
    sessions_not_as_planned: list[Flag] = field(default_factory=list)
    sessions_sometimes: list[Flag] = field(default_factory=list)
    not_responding: list[Flag] = field(default_factory=list)
    support_to_check: list[Flag] = field(default_factory=list)

    @property
    def percent(self) -> int:
        return round(100 * self.answered / self.asked) if self.asked else 0


def school_monitoring(session: Session, school_id: int) -> SchoolMonitoring:
    """Implementation across the school, this cycle of each running plan (one query)."""
    teacher = aliased(Staff)
    rows = session.execute(
        select(
            MonitoringRequest.status,
            MonitoringRequest.strategies,
            MonitoringRequest.impact,
            MonitoringRequest.answered_at,
            MonitoringRequest.role,
            MonitoringRequest.session_as_planned,
            MonitoringRequest.responding,
            MonitoringRequest.withdrawn_reason,
            teacher.first_name,
            teacher.last_name,
            teacher.department,
            Pupil.preferred_name,
            Pupil.first_name,
            Pupil.last_name,
            TeachingGroup.code,
            TeachingGroup.subject,
        )
        .join(
            Plan,
            and_(
                Plan.id == MonitoringRequest.plan_id,
                Plan.cycle_number == MonitoringRequest.cycle_number,
            ),
        )
        .join(Pupil, Pupil.id == Plan.pupil_id)
        .join(teacher, teacher.id == MonitoringRequest.teacher_id)
        .outerjoin(TeachingGroup, TeachingGroup.id == MonitoringRequest.group_id)
        .where(MonitoringRequest.school_id == school_id, Plan.status != PlanStatus.CLOSED)
        .order_by(Pupil.last_name, Pupil.first_name, teacher.last_name)
    ).all()
    result = SchoolMonitoring()
    departments: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    teachers: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        (status, strategies, impact, answered_at, role, planned, responding, reason) = row[:8]
        (t_first, t_last, department, p_pref, p_first, p_last, code, subject) = row[8:]
        name = f"{t_first} {t_last}"
        support = role == MonitoringRole.SUPPORT
        if support:
            name += " (support staff)"
            department = "Support staff"
        flag = Flag(f"{p_pref or p_first} {p_last}", name, _group_label(code, subject))
        if status == MonitoringStatus.WITHDRAWN:
            if reason == SUPPORT_SAYS_NOT:
                result.support_to_check.append(flag)
            elif not support:
                result.not_taught.append(flag)
            continue
        answered = answered_at is not None
        result.asked += 1
        result.answered += answered
        for tally in (departments[department or "No department"], teachers[name]):
            tally[0] += 1
            tally[1] += answered
        if strategies == StrategiesInPlace.NO:
            result.not_in_place.append(flag)
        elif strategies == StrategiesInPlace.PARTLY:
            result.partly_in_place.append(flag)
        if impact == Impact.CONCERN:
            result.concerns.append(flag)
        if planned == SessionAsPlanned.NO:
            result.sessions_not_as_planned.append(flag)
        elif planned == SessionAsPlanned.SOMETIMES:
            result.sessions_sometimes.append(flag)
        if responding == PupilResponse.NOT_WELL:
            result.not_responding.append(flag)
    result.by_department = sorted(
        (Rate(name, a, b) for name, (a, b) in departments.items()),
        key=lambda r: (r.percent, r.name),
    )
    result.by_teacher = sorted(
        (Rate(name, a, b) for name, (a, b) in teachers.items()),
        key=lambda r: (r.percent, r.name),
    )
    return result


# --- helpers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PlanRow:
    id: int
    pupil_id: int
    cycle_number: int


def _ask(
    session: Session,
    school_id: int,
    plans: list,
    now: datetime,
    *,
    requested_by: int | None,
    only: list[tuple[int, int | None, MonitoringRole]] | None = None,
) -> int:
    if not plans:
        return 0
    asked = _everyone(session, school_id, plans) if only is None else {}
    existing = set(
        session.execute(
            select(MonitoringRequest.plan_id, MonitoringRequest.teacher_id).where(
                MonitoringRequest.plan_id.in_([p.id for p in plans]),
                MonitoringRequest.cycle_number.in_({p.cycle_number for p in plans}),
            )
        ).all()
    )
    cycles = {p.id: p.cycle_number for p in plans}
    rows = []
    for plan in plans:
        for staff_id, group_id, role in only if only is not None else asked[plan.id]:
            if (plan.id, staff_id) in existing:
                continue
            rows.append(
                dict(
                    school_id=school_id,
                    plan_id=plan.id,
                    cycle_number=cycles[plan.id],
                    teacher_id=staff_id,
                    role=role,
                    group_id=group_id,
                    requested_by_id=requested_by,
                    status=MonitoringStatus.OPEN,
                    created_at=now,
                )
            )
    if rows:
        # A concurrent sweep may have asked the same teacher since we looked: theirs stands.
        db.insert_skipping_existing(
            session, MonitoringRequest, rows, ["plan_id", "cycle_number", "teacher_id"]
        )
    return len(rows)


def _own_request(session: Session, viewer: Viewer, request_id: int) -> MonitoringRequest:
    request = session.scalar(
        select(MonitoringRequest)
        .where(
            MonitoringRequest.id == request_id,
            MonitoringRequest.school_id == viewer.school_id,
            MonitoringRequest.teacher_id == viewer.staff_id,
        )
        .options(
            selectinload(MonitoringRequest.plan).selectinload(Plan.pupil),
            selectinload(MonitoringRequest.group),
        )
    )
    if request is None:
        raise MonitoringRefused("That request isn't yours to answer.")
    if request.status == MonitoringStatus.CLOSED:
        raise MonitoringRefused(CLOSED_MESSAGE)
    if request.status == MonitoringStatus.WITHDRAWN:
        if request.withdrawn_reason == NO_LONGER_LINKED:
            raise MonitoringRefused(_NOT_LINKED)
        if request.role == MonitoringRole.SUPPORT:
            raise MonitoringRefused(
                "You told us you don't work with this pupil, so this request was removed; the "
                "SENDCo is checking who delivers their plan."
            )
        raise MonitoringRefused(
            "You told us you don't teach this pupil, so this request was removed; the SENDCo "
            "is checking the class list."
        )
    if request.role == MonitoringRole.SUPPORT and viewer.staff_id not in supporters_of(
        session, viewer.school_id, [request.plan]
    ).get(request.plan_id, []):
        # Linked when asked, not now: refused at once; the next sweep withdraws the request.
        raise MonitoringRefused(_NOT_LINKED)
    return request


_NOT_LINKED = (
    "You're no longer named as delivering this pupil's plan, so this request was withdrawn "
    "and your answer isn't needed. Thank you."
)


def record_refusal(
    session: Session, viewer: Viewer, request_id: int | None, now: datetime, why: str
) -> None:
    """A click or form on a monitoring request that was refused (someone else's request, one
    withdrawn or closed): audited in its own transaction, as the refused one rolled back. The
    plan is linked only when the request is in the viewer's school."""
    plan_id = (
        session.scalar(
            select(MonitoringRequest.plan_id).where(
                MonitoringRequest.id == request_id,
                MonitoringRequest.school_id == viewer.school_id,
            )
        )
        if request_id is not None
        else None
    )
    audit.record_refusal(
        session,
        viewer,
        via="monitoring request",
        now=now,
        plan=session.get(Plan, plan_id) if plan_id else None,
        detail=f"monitoring answer refused: {why}"[:200],
    )


def _audit_answer(
    session: Session, viewer: Viewer, request: MonitoringRequest, now: datetime, detail: str
) -> None:
    audit.record_by(
        session,
        viewer,
        action="update",
        via="monitoring request",
        now=now,
        plan=request.plan,
        detail=detail,
    )
    session.flush()


def _group_name(group: TeachingGroup | None) -> str | None:
    return _group_label(group.code, group.subject) if group is not None else None


def _group_label(code: str | None, subject: str | None) -> str | None:
    if code is None:
        return None
    return f"{code} {subject}" if subject else code


def _far_enough(today: date) -> date:
    """Review dates worth looking at: at most this far ahead (15 school days, with holidays)."""
    from datetime import timedelta

    return today + timedelta(days=120)
