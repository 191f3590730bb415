"""Caseload summaries for `/ssp` and the App Home.

Each function issues a fixed number of SQL statements whatever the size of the school: counts
are aggregated in the database, and lists are fetched with their joins in one query.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import Session, aliased

from bot.access import Viewer
from bot.services import outbox
from bot.services.calendar import SchoolCalendar, load_calendar
from bot.services.leavers import leaver_closes_on
from bot.services.outbox import UnreachablePrompt
from bot.services.pupils import KNOWN_AS
from models import (
    BroadArea,
    MonitoringRequest,
    MonitoringStatus,
    NeedCode,
    Plan,
    PlanStatus,
    Prompt,
    PromptKind,
    PromptStatus,
    Pupil,
    Staff,
    StaffRole,
    StaffRoleGrant,
)

DUE_SOON_DAYS = 14
# Plans being delivered: their review dates are live. A draft has not started yet.
RUNNING = (PlanStatus.ACTIVE, PlanStatus.IN_REVIEW, PlanStatus.AWAITING_QA)
OPEN_PROMPT = (PromptStatus.PENDING, PromptStatus.SENT)
# Prompts that ask for an answer (digests and notices only inform; monitoring is counted by
# its requests).
ASKING = (
    PromptKind.ASSIGNMENT,
    PromptKind.ASSIGNMENT_REMINDER,
    PromptKind.REVIEW_DUE,
    PromptKind.REVIEW_REMINDER,
)
OTHER_AREA = "Other or not yet assessed"

# A pupil on roll. A leaver's open plan waits to be closed (bot.services.closure): it is not
# counted as due, overdue or awaiting anything, and is listed as closing instead.
ON_ROLL = Pupil.is_active.is_(True)

# A plan's case holder, in `plan_rows`, and their name: NULL when the plan has none.
CASE_HOLDER = aliased(Staff, name="case_holder")
CASE_HOLDER_NAME = CASE_HOLDER.first_name + " " + CASE_HOLDER.last_name
# A teacher's monitoring request that counts for its plan now: one of the plan's current
# cycle, not withdrawn. A join condition between MonitoringRequest and Plan, either way round.
COUNTED_MONITORING = and_(
    MonitoringRequest.plan_id == Plan.id,
    MonitoringRequest.cycle_number == Plan.cycle_number,
    MonitoringRequest.status != MonitoringStatus.WITHDRAWN,
)


@dataclass(frozen=True)
class HolderLine:
    """One case holder's row in the school caseload. staff_id None means "no case holder"."""

    staff_id: int | None
    name: str
    slack_user_id: str | None
    plans: int = 0
    due_soon: int = 0
    overdue: int = 0
    awaiting_qa: int = 0
    open_monitoring: int = 0
    monitoring_asked: int = 0
    monitoring_answered: int = 0


@dataclass(frozen=True)
class SchoolCaseload:
    """The school's open plans of pupils on roll, counted; `leavers` is how many pupils who
    have left still have an open plan (counted nowhere else), and `leavers_close_by` the day
    the last of those plans closes by itself, unless the SENDCo closes them sooner."""

    today: date
    holders: list[HolderLine]
    by_area: list[tuple[str, int]]
    by_year: list[tuple[int, int]]
    totals: HolderLine = field(
        default_factory=lambda: HolderLine(staff_id=None, name="Total", slack_user_id=None)
    )
    leavers: int = 0
    leavers_close_by: date | None = None


@dataclass(frozen=True)
class PlanLine:
    """A plan in a list: whose it is, when it is reviewed, and who holds it."""

    plan_id: int
    pupil_id: int
    pupil_name: str
    year_group: int
    form: str | None
    status: PlanStatus
    review_date: date | None
    case_holder: str | None
    case_holder_slack_id: str | None
    today: date
    left_on: date | None = None
    """The pupil has left the school (on this day): the plan waits to be closed."""
    closes_on: date | None = None
    """For a leaver's plan: the day it closes by itself unless the SENDCo closes it sooner."""
    has_left: bool = False

    @property
    def days_overdue(self) -> int:
        if self.has_left or self.review_date is None or self.status not in RUNNING:
            return 0
        return max(0, (self.today - self.review_date).days)


def school_caseload(session: Session, school_id: int, today: date) -> SchoolCaseload:
    """The whole school: per case holder counts, and totals by broad area and year group."""
    soon = today + timedelta(days=DUE_SOON_DAYS)
    running = Plan.status.in_(RUNNING)
    per_holder = session.execute(
        select(
            Plan.case_holder_id,
            func.count(),
            func.sum(case((and_(running, Plan.review_date.between(today, soon)), 1), else_=0)),
            func.sum(case((and_(running, Plan.review_date < today), 1), else_=0)),
            func.sum(case((Plan.status == PlanStatus.AWAITING_QA, 1), else_=0)),
        )
        .join(Pupil, Pupil.id == Plan.pupil_id)
        .where(Plan.school_id == school_id, Plan.status != PlanStatus.CLOSED, ON_ROLL)
        .group_by(Plan.case_holder_id)
    ).all()
    # Teachers' monitoring requests of each plan's current cycle: (asked, answered).
    monitoring = {
        holder: (int(asked), int(answered))
        for holder, asked, answered in session.execute(
            select(Plan.case_holder_id, func.count(), func.count(MonitoringRequest.answered_at))
            .join(MonitoringRequest, COUNTED_MONITORING)
            .join(Pupil, Pupil.id == Plan.pupil_id)
            .where(Plan.school_id == school_id, Plan.status != PlanStatus.CLOSED, ON_ROLL)
            .group_by(Plan.case_holder_id)
        ).all()
    }
    counts = {row[0]: tuple(int(n or 0) for n in row[1:]) for row in per_holder}
    # Case holders with no plans yet still belong in the list: they have room for more.
    staff = session.execute(
        select(Staff.id, Staff.first_name, Staff.last_name, Staff.slack_user_id).where(
            Staff.school_id == school_id,
            (
                Staff.id.in_([k for k in counts if k is not None])
                | (
                    Staff.is_active.is_(True)
                    & Staff.id.in_(
                        select(StaffRoleGrant.staff_id).where(
                            StaffRoleGrant.role == StaffRole.CASE_HOLDER
                        )
                    )
                )
            ),
        )
    ).all()
    holders = [
        HolderLine(
            staff_id=staff_id,
            name=f"{first} {last}",
            slack_user_id=slack_id,
            plans=counts.get(staff_id, (0, 0, 0, 0))[0],
            due_soon=counts.get(staff_id, (0, 0, 0, 0))[1],
            overdue=counts.get(staff_id, (0, 0, 0, 0))[2],
            awaiting_qa=counts.get(staff_id, (0, 0, 0, 0))[3],
            open_monitoring=_open(monitoring.get(staff_id)),
            monitoring_asked=monitoring.get(staff_id, (0, 0))[0],
            monitoring_answered=monitoring.get(staff_id, (0, 0))[1],
        )
        for staff_id, first, last, slack_id in staff
    ]
    holders.sort(key=lambda h: (-h.plans, h.name))
    if None in counts:
        plans, due_soon, overdue, awaiting_qa = counts[None]
        holders.append(
            HolderLine(
                None,
                "No case holder",
                None,
                plans,
                due_soon,
                overdue,
                awaiting_qa,
                _open(monitoring.get(None)),
                monitoring.get(None, (0, 0))[0],
                monitoring.get(None, (0, 0))[1],
            )
        )
    totals = HolderLine(
        staff_id=None,
        name="Total",
        slack_user_id=None,
        plans=sum(h.plans for h in holders),
        due_soon=sum(h.due_soon for h in holders),
        overdue=sum(h.overdue for h in holders),
        awaiting_qa=sum(h.awaiting_qa for h in holders),
        open_monitoring=sum(h.open_monitoring for h in holders),
        monitoring_asked=sum(h.monitoring_asked for h in holders),
        monitoring_answered=sum(h.monitoring_answered for h in holders),
    )

    open_plans = (
        select(Pupil.primary_need, Pupil.year_group, func.count())
        .join(Plan, Plan.pupil_id == Pupil.id)
        .where(Plan.school_id == school_id, Plan.status != PlanStatus.CLOSED, ON_ROLL)
        .group_by(Pupil.primary_need, Pupil.year_group)
    )
    by_area: Counter[str] = Counter()
    by_year: Counter[int] = Counter()
    for need, year, count in session.execute(open_plans):
        by_area[_area_label(need)] += count
        by_year[year] += count
    area_order = [area.label for area in BroadArea] + [OTHER_AREA]
    left = session.execute(
        select(Pupil.left_on, func.count())
        .join(Plan, Plan.pupil_id == Pupil.id)
        .where(Plan.school_id == school_id, Plan.status != PlanStatus.CLOSED, ~ON_ROLL)
        .group_by(Pupil.left_on)
    ).all()
    calendar = load_calendar(session, school_id) if left else None
    return SchoolCaseload(
        today=today,
        holders=holders,
        by_area=[(label, by_area[label]) for label in area_order if by_area[label]],
        by_year=sorted(by_year.items()),
        totals=totals,
        leavers=sum(int(n) for _, n in left),
        leavers_close_by=max(
            (leaver_closes_on(calendar, left_on, today) for left_on, _ in left), default=None
        ),
    )


def holder_caseload(session: Session, school_id: int, staff_id: int, today: date) -> list[PlanLine]:
    """The open plans one case holder holds, soonest review first."""
    return _plan_lines(
        session,
        today,
        (Plan.school_id == school_id)
        & (Plan.case_holder_id == staff_id)
        & (Plan.status != PlanStatus.CLOSED),
        order_by=(Plan.review_date.is_(None), Plan.review_date, Pupil.last_name),
    )


def overdue_reviews(session: Session, school_id: int, today: date) -> list[PlanLine]:
    """Running plans whose review date has passed, oldest first, with the case holder to chase."""
    return _plan_lines(
        session,
        today,
        # A leaver's plan waits for the SENDCo to close it (bot.services.closure): not chased.
        (Plan.school_id == school_id)
        & Plan.status.in_(RUNNING)
        & (Plan.review_date < today)
        & ON_ROLL,
        order_by=(Plan.review_date, Pupil.last_name),
    )


def viewer_home(session: Session, viewer: Viewer, today: date) -> tuple[list[PlanLine], int]:
    """What the App Home shows a viewer: the plans they hold, and how much awaits their answer:
    prompts that ask something of them, and pupils waiting for their monitoring feedback."""
    plans = holder_caseload(session, viewer.school_id, viewer.staff_id, today)
    waiting = session.scalar(
        select(func.count()).where(
            Prompt.school_id == viewer.school_id,
            Prompt.recipient_id == viewer.staff_id,
            Prompt.status == PromptStatus.SENT,
            Prompt.answered_at.is_(None),
            Prompt.kind.in_(ASKING),
        )
    )
    feedback = session.scalar(
        select(func.count()).where(
            MonitoringRequest.school_id == viewer.school_id,
            MonitoringRequest.teacher_id == viewer.staff_id,
            MonitoringRequest.status == MonitoringStatus.OPEN,
            MonitoringRequest.notified_at.is_not(None),
        )
    )
    return plans, int(waiting or 0) + int(feedback or 0)


def plan_rows(*columns) -> Select:
    """A select of `columns` from plans, joined to each plan's pupil and, where it has one, to
    its case holder (`CASE_HOLDER`): a list of plans in one query."""
    return (
        select(*columns)
        .select_from(Plan)
        .join(Pupil, Pupil.id == Plan.pupil_id)
        .outerjoin(CASE_HOLDER, CASE_HOLDER.id == Plan.case_holder_id)
    )


def _open(counts: tuple[int, int] | None) -> int:
    return counts[0] - counts[1] if counts else 0


def _area_label(need: NeedCode | None) -> str:
    area = need.broad_area if need else None
    return area.label if area else OTHER_AREA


def _plan_lines(session: Session, today: date, where, order_by) -> list[PlanLine]:
    rows = session.execute(
        plan_rows(  # in PlanLine's order
            Plan.id,
            Pupil.id,
            KNOWN_AS,
            Pupil.year_group,
            Pupil.form,
            Plan.status,
            Plan.review_date,
            CASE_HOLDER_NAME,
            CASE_HOLDER.slack_user_id,
            Pupil.is_active,
            Pupil.left_on,
        )
        .where(where)
        .order_by(*order_by)
    ).all()
    # Read only when a leaver is listed: one query, whatever the list's length.
    calendar: SchoolCalendar | None = None
    lines = []
    for *columns, on_roll, left_on in rows:
        if on_roll:
            lines.append(PlanLine(*columns, today=today))
            continue
        if calendar is None:
            calendar = load_calendar(session, session.get(Plan, columns[0]).school_id)
        lines.append(
            PlanLine(
                *columns,
                today=today,
                left_on=left_on,
                closes_on=leaver_closes_on(calendar, left_on, today),
                has_left=True,
            )
        )
    return lines


def failed_prompts(
    session: Session, school_id: int, *, offset: int = 0, limit: int = 10
) -> tuple[list[UnreachablePrompt], int]:
    """One page of the school's messages that could not be delivered (newest first), and how
    many there are in all: the SENDCo follows each up by hand, so none may go unlisted."""
    failed = (Prompt.school_id == school_id) & (Prompt.status == PromptStatus.FAILED)
    total = session.scalar(select(func.count(Prompt.id)).where(failed)) or 0
    return outbox.unreachable(session, school_id, offset=offset, limit=limit), int(total)
