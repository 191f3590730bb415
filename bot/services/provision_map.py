"""The school's provision map (`/ssp provision`): what each intervention costs and achieves, and
the same by year group and by area of need. Norfolk §3.4–3.5, §4.1: "what works well".

Every figure is an aggregate query over the whole school, so the map takes the same number of
statements (MAP_STATEMENTS) however many pupils, groups, sessions or interventions it covers.
The map holds figures only, no pupil: it is what the export gives governors and the local
authority. `intervention_pupils` is the one place pupils are named (the SENDCo's click on an
intervention), and its caller audits it as access to their plans.

How each figure is counted (README "The provision map" says the same to the SENDCo):
- pupils: distinct pupils who are members of one of its groups today;
- groups: its groups, running or ended;
- sessions planned / delivered: its groups' sessions due so far / logged as delivered, held in
  the period asked for (MapPeriod: this term, this school year — the default — or all time);
- not yet logged: sessions due so far that nobody has logged, per member of staff, however old
  (whatever the period);
- cost: sessions delivered in the period × cost per session + pupils × cost per pupil, in pence;
- progress: over the plan provision rows of that intervention with both an entry and an exit
  measure, per measure kind: how many (n measured) and the average of exit − entry;
- continue / adapt / stop: the decisions reviews recorded on its plan provision rows, and the
  average effectiveness they rated (1 not effective … 4 very effective), of the reviews held in
  the period (the meeting's date; else the day it was submitted; else the day it was begun);
- by year group and by area of need: pupils as above; sessions are pupil sessions (a session
  counts once for each pupil it was planned for, delivered when the pupil was there); cost is
  each delivered session's cost shared equally among the pupils it was planned for, plus each
  pupil's cost per pupil, so the rows add up to the interventions' total.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from sqlalchemy import Float, and_, case, cast, distinct, func, literal, or_, select
from sqlalchemy.orm import Session

from bot.services import impact
from bot.services.calendar import SchoolCalendar
from bot.services.delivery import Delivery, unlogged_by_staff
from models import (
    BroadArea,
    Effectiveness,
    GroupMember,
    InterventionGroup,
    InterventionSession,
    LibraryProvision,
    MeasureKind,
    Plan,
    PlanProvision,
    PlanStatus,
    ProvisionTier,
    Pupil,
    Review,
    ReviewProvisionDecision,
    SessionPupil,
    SessionStatus,
)
from models.reviews import ProvisionDecision

# Effectiveness as a number, for its average: 1 (not effective) to 4 (very effective).
EFFECTIVENESS_SCORE = {
    Effectiveness.NOT_EFFECTIVE: 1,
    Effectiveness.PARTLY: 2,
    Effectiveness.EFFECTIVE: 3,
    Effectiveness.VERY_EFFECTIVE: 4,
}
# The periods the map counts over, as `/ssp provision <period>` names them; the school year is
# the default (governors and the local authority ask about a year).
PERIODS = ("term", "year", "all")
DEFAULT_PERIOD = "year"


@dataclass(frozen=True)
class MapPeriod:
    """What the map counts: sessions held, and reviews' decisions made, from `start` (None: all
    time) up to the day the map is made."""

    key: str
    label: str
    start: date | None = None

    def describe(self, today: date) -> str:
        """ "This school year (1 September 2026 to 6 December 2026)", for the map and export."""
        if self.start is None:
            return f"{self.label} (every session and review, to {_day(today)})"
        return f"{self.label} ({_day(self.start)} to {_day(today)})"


def _day(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


ALL_TIME = MapPeriod("all", "All time")


def map_period(key: str, calendar: SchoolCalendar, today: date) -> MapPeriod:
    """The period `key` names, from the school's term dates (`sspbot import terms`); a school
    that has imported none counts from the usual starts of England's terms (1 September,
    1 January, the spring holiday taken as 1 April)."""
    if key == "all":
        return ALL_TIME
    year_start = date(today.year if today.month >= 8 else today.year - 1, 8, 1)
    started = [t for t in calendar.terms if t.start <= today]
    if key == "term":
        if started:
            term = max(started, key=lambda t: t.start)
            return MapPeriod("term", f"This term ({term.name})", term.start)
        usual = date(today.year, 9 if today.month >= 9 else 4 if today.month >= 4 else 1, 1)
        return MapPeriod("term", "This term", usual)
    this_year = [t for t in started if t.start >= year_start]
    start = min(t.start for t in this_year) if this_year else year_start.replace(month=9)
    return MapPeriod("year", "This school year", start)


# The statements `provision_map` issues, whatever the school's size (tests hold it to this).
MAP_STATEMENTS = 9


@dataclass(frozen=True)
class Progress:
    """Average exit − entry over the `measured` provision rows with both, in one measure kind."""

    kind: MeasureKind
    measured: int
    average: float

    def describe(self) -> str:
        unit = " months" if self.kind == MeasureKind.READING_AGE else ""
        unit = " points" if self.kind == MeasureKind.ATTENDANCE else unit
        return f"{self.kind.label} {self.average:+.1f}{unit} (n measured {self.measured})"


@dataclass(frozen=True)
class Decisions:
    """What reviews decided for an intervention's plan provision rows, and how they rated it."""

    continued: int = 0
    adapted: int = 0
    stopped: int = 0
    rated: int = 0
    effectiveness_total: int = 0

    @property
    def effectiveness(self) -> float | None:
        """The average rating, 1 (not effective) to 4 (very effective); None when none rated."""
        return self.effectiveness_total / self.rated if self.rated else None

    def describe_effectiveness(self) -> str:
        if self.effectiveness is None:
            return "not rated yet"
        nearest = min(
            EFFECTIVENESS_SCORE, key=lambda e: abs(EFFECTIVENESS_SCORE[e] - self.effectiveness)
        )
        return f"{self.effectiveness:.1f} of 4, about “{nearest.label}” ({self.rated} rated)"


@dataclass(frozen=True)
class Intervention:
    """One library item's line in the map."""

    library_id: int
    name: str
    area: BroadArea
    tier: ProvisionTier
    is_active: bool
    pupils: int
    groups: int
    sessions: Delivery
    cost_pence: int
    progress: tuple[Progress, ...]
    decisions: Decisions


@dataclass(frozen=True)
class Breakdown:
    """One year group's or area of need's line: pupils, pupil sessions, cost."""

    key: int | BroadArea
    label: str
    pupils: int
    sessions: Delivery
    cost_pence: int


@dataclass(frozen=True)
class ProvisionMap:
    today: date
    interventions: tuple[Intervention, ...]
    by_year: tuple[Breakdown, ...]
    by_area: tuple[Breakdown, ...]
    unused: int = 0
    """Library items with no group and no plan provision row: not listed."""
    school_name: str = ""
    period: MapPeriod = ALL_TIME
    unlogged: tuple[tuple, ...] = ()
    """Who has sessions not yet logged, however old: (staff id, name, Slack user id, how many,
    the oldest's day), most first (delivery.unlogged_by_staff). For the SENDCo's map in Slack,
    not the export (governors get figures, not names)."""

    @property
    def covers(self) -> str:
        """Which period the figures cover, in words (the map and every export say it)."""
        return self.period.describe(self.today)

    @property
    def groups(self) -> int:
        return sum(i.groups for i in self.interventions)

    @property
    def pupils(self) -> int:
        return sum(b.pupils for b in self.by_year)

    @property
    def cost_pence(self) -> int:
        return sum(i.cost_pence for i in self.interventions)

    @property
    def sessions(self) -> Delivery:
        return Delivery(
            sum(i.sessions.planned for i in self.interventions),
            sum(i.sessions.delivered for i in self.interventions),
            sum(i.sessions.awaiting for i in self.interventions),
        )


@dataclass(frozen=True)
class MapPupil:
    """A pupil in one intervention, for the SENDCo's click on it."""

    pupil_id: int
    plan_id: int | None
    name: str
    year_group: int
    groups: tuple[str, ...]
    delivery: Delivery
    progress: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class InterventionPupils:
    library_id: int
    name: str
    pupils: tuple[MapPupil, ...]


def pounds(pence: int) -> str:
    """£1,234.50, or £1,234 when whole."""
    return f"£{pence / 100:,.2f}".removesuffix(".00")


def _current(today: date):
    return and_(
        GroupMember.joined_on <= today,
        or_(GroupMember.left_on.is_(None), GroupMember.left_on > today),
    )


_DELIVERED_SESSION = case((InterventionSession.status == SessionStatus.DELIVERED, 1), else_=0)
_AWAITING_SESSION = case((InterventionSession.status == SessionStatus.AWAITING, 1), else_=0)
_DELIVERED_PLACE = case(
    (
        and_(
            InterventionSession.status == SessionStatus.DELIVERED,
            SessionPupil.absent.is_(False),
        ),
        1,
    ),
    else_=0,
)


def _held_in(period: MapPeriod):
    """Sessions held in the period (all of them for all time)."""
    if period.start is None:
        return literal(True)
    return InterventionSession.held_on >= period.start


def _reviews_in(period: MapPeriod):
    """The reviews held since the period began: by the meeting's date, else the day it was
    submitted, else (a draft) the day it was started."""
    if period.start is None:
        return literal(True)
    since = datetime.combine(period.start, time(), tzinfo=UTC)
    return ReviewProvisionDecision.review_id.in_(
        select(Review.id).where(
            or_(
                Review.meeting_date >= period.start,
                and_(Review.meeting_date.is_(None), Review.submitted_at >= since),
                and_(
                    Review.meeting_date.is_(None),
                    Review.submitted_at.is_(None),
                    Review.created_at >= since,
                ),
            )
        )
    )


def provision_map(
    session: Session, school_id: int, today: date, period: MapPeriod = ALL_TIME
) -> ProvisionMap:
    """The school's map as it is today, over `period`: MAP_STATEMENTS aggregate queries."""
    items = session.execute(
        select(
            LibraryProvision.id,
            LibraryProvision.name,
            LibraryProvision.area_of_need,
            LibraryProvision.tier,
            LibraryProvision.is_active,
            LibraryProvision.cost_per_session_pence,
            LibraryProvision.cost_per_pupil_pence,
        ).where(LibraryProvision.school_id == school_id)
    ).all()

    groups_and_pupils = {
        library_id: (groups, pupils)
        for library_id, groups, pupils in session.execute(
            select(
                InterventionGroup.library_id,
                func.count(distinct(InterventionGroup.id)),
                func.count(distinct(case((_current(today), GroupMember.pupil_id)))),
            )
            .outerjoin(GroupMember, GroupMember.group_id == InterventionGroup.id)
            .where(InterventionGroup.school_id == school_id)
            .group_by(InterventionGroup.library_id)
        )
    }

    sessions = {
        library_id: Delivery(planned, delivered or 0, awaiting or 0)
        for library_id, planned, delivered, awaiting in session.execute(
            select(
                InterventionGroup.library_id,
                func.count(InterventionSession.id),
                func.sum(_DELIVERED_SESSION),
                func.sum(_AWAITING_SESSION),
            )
            .join(InterventionGroup, InterventionGroup.id == InterventionSession.group_id)
            .where(InterventionSession.school_id == school_id, _held_in(period))
            .group_by(InterventionGroup.library_id)
        )
    }

    progress: dict[int, list[Progress]] = defaultdict(list)
    for library_id, kind, measured, average in session.execute(
        select(
            PlanProvision.library_id,
            PlanProvision.measure_kind,
            func.count(),
            func.avg(PlanProvision.exit_value - PlanProvision.entry_value),
        )
        .join(Plan, Plan.id == PlanProvision.plan_id)
        .where(
            Plan.school_id == school_id,
            PlanProvision.library_id.is_not(None),
            PlanProvision.measure_kind.is_not(None),
            PlanProvision.entry_value.is_not(None),
            PlanProvision.exit_value.is_not(None),
        )
        .group_by(PlanProvision.library_id, PlanProvision.measure_kind)
        .order_by(PlanProvision.library_id, PlanProvision.measure_kind)
    ):
        progress[library_id].append(Progress(MeasureKind(kind), measured, float(average)))

    # Plan provision rows of each library item (for "in use"), in the same statement as the
    # reviews' decisions on them: an outer join, grouped by item and decision.
    score = case(
        *((ReviewProvisionDecision.effectiveness == e, n) for e, n in EFFECTIVENESS_SCORE.items()),
        else_=None,
    )
    decided: dict[int, dict] = defaultdict(lambda: defaultdict(int))
    in_plans: set[int] = set()
    for library_id, decision, count, rated, total in session.execute(
        select(
            PlanProvision.library_id,
            ReviewProvisionDecision.decision,
            func.count(ReviewProvisionDecision.id),
            func.count(score),
            func.sum(score),
        )
        .join(Plan, Plan.id == PlanProvision.plan_id)
        .outerjoin(
            ReviewProvisionDecision,
            and_(
                ReviewProvisionDecision.provision_id == PlanProvision.id,
                _reviews_in(period),
            ),
        )
        .where(Plan.school_id == school_id, PlanProvision.library_id.is_not(None))
        .group_by(PlanProvision.library_id, ReviewProvisionDecision.decision)
    ):
        in_plans.add(library_id)
        if decision is not None:
            decided[library_id][ProvisionDecision(decision)] += count
        decided[library_id]["rated"] += rated or 0
        decided[library_id]["total"] += total or 0

    interventions = []
    unused = 0
    for library_id, name, area, tier, active, per_session, per_pupil in items:
        groups, pupils = groups_and_pupils.get(library_id, (0, 0))
        if not groups and library_id not in in_plans:
            unused += 1
            continue
        delivered = sessions.get(library_id, Delivery())
        counts = decided.get(library_id, {})
        interventions.append(
            Intervention(
                library_id=library_id,
                name=name,
                area=BroadArea(area),
                tier=ProvisionTier(tier),
                is_active=bool(active),
                pupils=pupils,
                groups=groups,
                sessions=delivered,
                cost_pence=delivered.delivered * (per_session or 0) + pupils * (per_pupil or 0),
                progress=tuple(progress.get(library_id, ())),
                decisions=Decisions(
                    continued=counts.get(ProvisionDecision.CONTINUE, 0),
                    adapted=counts.get(ProvisionDecision.ADAPT, 0),
                    stopped=counts.get(ProvisionDecision.STOP, 0),
                    rated=counts.get("rated", 0),
                    effectiveness_total=counts.get("total", 0),
                ),
            )
        )
    interventions.sort(key=lambda i: (-i.pupils, -i.sessions.planned, i.name.lower()))

    by_year = _pupils_by(session, school_id, today, Pupil.year_group)
    by_area = _pupils_by(session, school_id, today, LibraryProvision.area_of_need)
    _add_sessions(session, school_id, by_year, by_area, period)
    return ProvisionMap(
        today=today,
        interventions=tuple(interventions),
        by_year=tuple(
            Breakdown(key, _year(key), *figures) for key, figures in sorted(by_year.items())
        ),
        by_area=tuple(
            Breakdown(BroadArea(key), BroadArea(key).label, *figures)
            for key, figures in sorted(by_area.items(), key=lambda kv: BroadArea(kv[0]).label)
        ),
        unused=unused,
        period=period,
        unlogged=tuple(unlogged_by_staff(session, school_id, today)),
    )


def _year(year: int) -> str:
    return "Reception" if year == 0 else f"Year {year}"


def _pupils_by(session: Session, school_id: int, today: date, column) -> dict:
    """{key: [pupils, pupil sessions (filled by _add_sessions), cost in pence]} by `column` (a
    pupil's year group, or the intervention's area of need), pupils and their cost per pupil
    only: one statement."""
    # Current memberships, one per (pupil, intervention), with the intervention's cost per pupil.
    places = (
        select(
            column.label("key"),
            GroupMember.pupil_id.label("pupil_id"),
            InterventionGroup.library_id.label("library_id"),
            func.max(func.coalesce(LibraryProvision.cost_per_pupil_pence, 0)).label("per_pupil"),
        )
        .select_from(GroupMember)
        .join(InterventionGroup, InterventionGroup.id == GroupMember.group_id)
        .join(LibraryProvision, LibraryProvision.id == InterventionGroup.library_id)
        .join(Pupil, Pupil.id == GroupMember.pupil_id)
        .where(InterventionGroup.school_id == school_id, _current(today))
        .group_by(column, GroupMember.pupil_id, InterventionGroup.library_id)
        .subquery()
    )
    figures: dict = defaultdict(lambda: [0, Delivery(), 0])
    for key, pupils, per_pupil in session.execute(
        select(
            places.c.key, func.count(distinct(places.c.pupil_id)), func.sum(places.c.per_pupil)
        ).group_by(places.c.key)
    ):
        figures[key][0] = pupils
        figures[key][2] += int(per_pupil or 0)
    return figures


def _add_sessions(
    session: Session, school_id: int, by_year: dict, by_area: dict, period: MapPeriod = ALL_TIME
) -> None:
    """Adds pupil sessions and each delivered session's cost, shared equally among the pupils it
    was planned for, to the year groups' and areas' figures: one statement, grouped by both (at
    most 15 years × 4 areas rows), summed each way here."""
    seats = (
        select(SessionPupil.session_id, func.count().label("seats"))
        .join(InterventionSession, InterventionSession.id == SessionPupil.session_id)
        .where(InterventionSession.school_id == school_id, _held_in(period))
        .group_by(SessionPupil.session_id)
        .subquery()
    )
    share = case(
        (
            InterventionSession.status == SessionStatus.DELIVERED,
            cast(func.coalesce(LibraryProvision.cost_per_session_pence, 0), Float) / seats.c.seats,
        ),
        else_=literal(0.0),
    )
    years: dict = defaultdict(lambda: [0, 0, 0, 0.0])
    areas: dict = defaultdict(lambda: [0, 0, 0, 0.0])
    for year, area, planned, delivered, awaiting, cost in session.execute(
        select(
            Pupil.year_group,
            LibraryProvision.area_of_need,
            func.count(),
            func.sum(_DELIVERED_PLACE),
            func.sum(_AWAITING_SESSION),
            func.sum(share),
        )
        .select_from(SessionPupil)
        .join(InterventionSession, InterventionSession.id == SessionPupil.session_id)
        .join(seats, seats.c.session_id == SessionPupil.session_id)
        .join(InterventionGroup, InterventionGroup.id == InterventionSession.group_id)
        .join(LibraryProvision, LibraryProvision.id == InterventionGroup.library_id)
        .join(Pupil, Pupil.id == SessionPupil.pupil_id)
        .where(InterventionSession.school_id == school_id, _held_in(period))
        .group_by(Pupil.year_group, LibraryProvision.area_of_need)
    ):
        for sums in (years[year], areas[area]):
            sums[0] += planned
            sums[1] += delivered or 0
            sums[2] += awaiting or 0
            sums[3] += cost or 0.0
    for figures, sums_by_key in ((by_year, years), (by_area, areas)):
        for key, (planned, delivered, awaiting, cost) in sums_by_key.items():
            figures[key][1] = Delivery(planned, delivered, awaiting)
            figures[key][2] += round(cost)


def intervention_pupils(
    session: Session, school_id: int, library_id: int, today: date
) -> InterventionPupils | None:
    """The pupils in one intervention's groups today (None: no such item in this school), with
    their groups, delivery of this intervention to them and their measures. Four statements."""
    item = session.execute(
        select(LibraryProvision.id, LibraryProvision.name).where(
            LibraryProvision.id == library_id, LibraryProvision.school_id == school_id
        )
    ).first()
    if item is None:
        return None
    rows = session.execute(
        select(
            Pupil.id,
            Pupil.preferred_name,
            Pupil.first_name,
            Pupil.last_name,
            Pupil.year_group,
            InterventionGroup.name,
            Plan.id,
        )
        .select_from(GroupMember)
        .join(InterventionGroup, InterventionGroup.id == GroupMember.group_id)
        .join(Pupil, and_(Pupil.id == GroupMember.pupil_id, Pupil.school_id == school_id))
        .outerjoin(Plan, and_(Plan.pupil_id == Pupil.id, Plan.status != PlanStatus.CLOSED))
        .where(
            InterventionGroup.library_id == library_id,
            InterventionGroup.school_id == school_id,
            _current(today),
        )
        .order_by(Pupil.year_group, Pupil.last_name, Pupil.first_name, InterventionGroup.name)
    ).all()
    delivery = {
        pupil_id: Delivery(planned, delivered or 0, awaiting or 0)
        for pupil_id, planned, delivered, awaiting in session.execute(
            select(
                SessionPupil.pupil_id,
                func.count(),
                func.sum(_DELIVERED_PLACE),
                func.sum(_AWAITING_SESSION),
            )
            .join(InterventionSession, InterventionSession.id == SessionPupil.session_id)
            .join(InterventionGroup, InterventionGroup.id == InterventionSession.group_id)
            .where(
                InterventionSession.school_id == school_id,
                InterventionGroup.library_id == library_id,
            )
            .group_by(SessionPupil.pupil_id)
        )
    }
    measures: dict[int, list[str]] = defaultdict(list)
    for pupil_id, kind, entry, exit_ in session.execute(
        select(
            Plan.pupil_id,
            PlanProvision.measure_kind,
            PlanProvision.entry_value,
            PlanProvision.exit_value,
        )
        .join(Plan, Plan.id == PlanProvision.plan_id)
        .where(
            Plan.school_id == school_id,
            PlanProvision.library_id == library_id,
            PlanProvision.measure_kind.is_not(None),
            PlanProvision.entry_value.is_not(None),
        )
        .order_by(Plan.pupil_id, PlanProvision.id)
    ):
        measures[pupil_id].append(_measure(MeasureKind(kind), entry, exit_))

    pupils: dict[int, dict] = {}
    for pupil_id, preferred, first, last, year, group_name, plan_id in rows:
        found = pupils.setdefault(
            pupil_id,
            dict(
                pupil_id=pupil_id,
                plan_id=plan_id,
                name=f"{preferred or first} {last}",
                year_group=year,
                groups=[],
            ),
        )
        if group_name not in found["groups"]:
            found["groups"].append(group_name)
    return InterventionPupils(
        library_id=item.id,
        name=item.name,
        pupils=tuple(
            MapPupil(
                **{**values, "groups": tuple(values["groups"])},
                delivery=delivery.get(pupil_id, Delivery()),
                progress=tuple(measures.get(pupil_id, ())),
            )
            for pupil_id, values in pupils.items()
        ),
    )


def _measure(kind: MeasureKind, entry: float, exit_: float | None) -> str:
    return impact.progress(kind, entry, exit_).describe()
