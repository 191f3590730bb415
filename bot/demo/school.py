"""A synthetic secondary school to demonstrate, test and benchmark SSP Bot on (`sspbot demo-data`).

Everything comes from random generators seeded with `seed` and from the `today` the caller
passes, never from the clock: the same seed, size and day always give the same school, row for
row (ids aside). Names come from made-up lists, so no row describes a real child.

The school is shaped to exercise the SSP team's work: caseloads spread over case holders, reviews
overdue and due in the next fortnight, plans awaiting quality assurance, pupils with SEN but no
plan and plans with no case holder (the priority list), and timetabled classes linking every
pupil to the teachers who would be asked how their plan is working.

This module is the entry point and the builder; the lists it draws from are in `names` and
`shape`, and `plan_writer` writes each plan's words from `need_text` and `plan_text`.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from bot.demo.intervention_groups import add_intervention_groups
from bot.demo.names import (
    HERITAGES,
    PREFERRED_NAMES,
    Heritage,
    make_upn,
    pick_heritage,
    slug,
    staff_code,
    unique_email,
)
from bot.demo.plan_writer import PlanWriter
from bot.demo.provision_library import LIBRARY
from bot.demo.shape import (
    AREA_EXAMPLES,
    ATTAINMENT_DROP,
    CYCLE,
    EHCP_NEEDS,
    HOUSES,
    KS3_FORM_SUBJECTS,
    LEARNING_SUPPORT_AREAS,
    MEDICAL_NOTES,
    OPTION_SUBJECTS,
    OTHER_INFORMATION,
    PHYSICAL_MEDICAL_NOTES,
    SECONDARY_NEEDS,
    SET_SUBJECTS,
    SUBJECT_DEPARTMENTS,
    SUPPORT_NEEDS,
    TEACHER_HOLDER_AREAS,
    TEACHING_DEPARTMENTS,
    apportion,
    split_evenly,
    tutor_groups,
)
from bot.demo.term_dates import demo_calendar
from bot.errors import UserError
from bot.services.caseload import DUE_SOON_DAYS, school_caseload
from bot.services.schools import add_school
from models import (
    AuditEvent,
    BroadArea,
    CalendarKind,
    KeyAdult,
    LibraryProvision,
    NeedCode,
    Plan,
    PlanStatus,
    Pupil,
    Review,
    School,
    SchoolCalendarEntry,
    SenStage,
    Staff,
    StaffRole,
    StaffScope,
    TeachingGroup,
    TeachingGroupPupil,
    TeachingGroupSupport,
    TeachingGroupTeacher,
)

DEFAULT_NAME = "Oakfield Academy (demo)"

MIN_PUPILS = 50

MAX_PUPILS = 5000

YEAR_GROUPS = (7, 8, 9, 10, 11)


@dataclass(frozen=True)
class DemoUser:
    """A member of staff with a Slack user id, to act as in a Slack demo."""

    role: str
    name: str
    slack_user_id: str


@dataclass(frozen=True)
class DemoSummary:
    """What `create_demo_school` made. Counts only: no pupil is named here.

    The counts of open plans, reviews, quality assurance, areas and case holders come from the
    same query as the SENDCo's `/ssp caseload` (bot.services.caseload.school_caseload), so the
    demo's first lines and the caseload it goes on to show always agree."""

    school_name: str
    seed: int
    pupils: int
    staff: int
    staff_left: int
    classes: int
    ehcp_pupils: int
    sen_support_pupils: int
    plans_by_status: dict[PlanStatus, int]
    # From `/ssp caseload`: open plans, by the broad area of the pupil's primary need (census
    # code), as it labels them, "Other or not yet assessed" (OTH, NSA) last.
    open_plans: int
    plans_by_area: list[tuple[str, int]]
    plans_without_case_holder: int
    # Running plans whose review date has passed, or falls in the next 14 days.
    reviews_overdue: int
    reviews_due_soon: int
    awaiting_qa: int
    # Pupils with SEN (SEN Support or an EHC plan) but no open plan: the priority list.
    pupils_needing_plan: int
    case_holders: int
    demo_users: tuple[DemoUser, ...] = ()

    @property
    def sendco(self) -> DemoUser | None:
        return next((user for user in self.demo_users if user.role == "SENDCo"), None)

    def render(self) -> str:
        """A few lines for the person who ran `sspbot demo-data`."""
        by_status = self.plans_by_status
        statuses = ", ".join(
            f"{by_status.get(status, 0):,} {status.label.lower()}"
            for status in (
                PlanStatus.ACTIVE,
                PlanStatus.DRAFT,
                PlanStatus.AWAITING_QA,
                PlanStatus.IN_REVIEW,
            )
        )
        closed = by_status.get(PlanStatus.CLOSED, 0)
        areas = ", ".join(f"{label.lower()} {n:,}" for label, n in self.plans_by_area)
        left = (
            f" (and {self.staff_left} who {'has' if self.staff_left == 1 else 'have'} left)"
            if self.staff_left
            else ""
        )
        lines = [
            f"Created {self.school_name}: {self.pupils:,} pupils in Years "
            f"{YEAR_GROUPS[0]}–{YEAR_GROUPS[-1]}, {self.staff:,} staff{left}, "
            f"{self.classes:,} classes.",
            f"{self.open_plans:,} pupils have an SEN Support Plan ({statuses}); "
            f"{_count(closed, 'older plan is', 'older plans are')} closed.",
            f"SEN register: {self.ehcp_pupils:,} pupils with an EHC plan and "
            f"{self.sen_support_pupils:,} on SEN Support; {self.pupils_needing_plan:,} of them "
            "have no plan yet (the priority list).",
            f"Plans by area of primary need: {areas}.",
            f"Reviews: {self.reviews_overdue:,} overdue, {self.reviews_due_soon:,} due in the "
            f"next {DUE_SOON_DAYS} days; {_count(self.awaiting_qa, 'plan')} awaiting quality "
            f"assurance. {_count(self.case_holders, 'case holder')}; "
            f"{_count(self.plans_without_case_holder, 'plan has', 'plans have')} no case holder.",
        ]
        if self.demo_users:
            lines.append("To try it in Slack, act as one of these staff (their Slack user ids):")
            lines += [f"  {u.role}: {u.name} ({u.slack_user_id})" for u in self.demo_users]
        lines.append(
            f"Everyone in it is made up. The same --seed ({self.seed}) makes the same school."
        )
        return "\n".join(lines)


def _count(n: int, one: str, many: str | None = None) -> str:
    """ "1 plan", "1,234 plans"."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def create_demo_school(
    session: Session,
    *,
    name: str = DEFAULT_NAME,
    seed: int = 2026,
    pupils: int = 1200,
    today: date,
) -> DemoSummary:
    """Creates a synthetic secondary school (Years 7–11) with staff, classes and SEN plans.

    About one member of staff per 12 pupils; ~16% of pupils have SEN and ~15% have a plan.
    The same `seed`, `pupils` and `today` give the same rows every time; only ids, the school's
    `created_at` and the audit event's time differ. Adds to the session and flushes; the
    caller commits. Raises UserError if `pupils` is outside 50–5,000 or a school with this
    name already exists (which is left untouched).
    """
    if not MIN_PUPILS <= pupils <= MAX_PUPILS:
        raise UserError(
            f"A demo school needs between {MIN_PUPILS} and {MAX_PUPILS:,} pupils "
            f"(asked for {pupils:,}); try --pupils 1200."
        )
    cleaned = " ".join(name.split())
    if cleaned and session.scalar(
        select(School.id).where(func.lower(School.name) == cleaned.lower())
    ):
        raise UserError(
            f"There is already a school called {cleaned!r}, so no demo data was added and it "
            "was left as it is. To make another demo school, give it a different name with "
            "--school, e.g. --school 'Riverside High (demo)'."
        )
    school = add_school(session, cleaned, timezone="Europe/London")
    demo = DemoSchool(school, seed=seed, pupil_count=pupils, today=today)
    demo.build(session)
    add_intervention_groups(session, school, today=today, seed=seed)
    return demo.summary(session)


# --- the builder ----------------------------------------------------------------------------


@dataclass(eq=False)
class Member:
    """A member of staff and what the demo needs to know about their job."""

    staff: Staff
    kind: str  # sendco, senior_leader, learning_support, head_of_year, teacher, ta, leaver
    department: str
    roles: frozenset[StaffRole] = frozenset({StaffRole.TEACHER})
    areas: tuple[BroadArea, ...] = ()
    year_group: int | None = None
    load_factor: float = 1.0
    load: int = 0
    caseload: int = 0
    ehcp_preference: bool = False
    is_elsa: bool = False

    @property
    def formal(self) -> str:
        return f"{self.staff.title} {self.staff.last_name}"

    @property
    def full(self) -> str:
        return f"{self.staff.title} {self.staff.first_name} {self.staff.last_name}"

    def active_on(self, day: date) -> bool:
        return self.staff.is_active or (self.staff.left_on is not None and day < self.staff.left_on)


@dataclass(eq=False)
class Child:
    """A pupil and the facts the demo uses to place them in classes and write their plan."""

    index: int
    pupil: Pupil
    heritage: Heritage
    attainment: dict[str, float]
    groups: list[Group] = field(default_factory=list)
    has_plan: bool = False

    @property
    def name(self) -> str:
        return self.pupil.preferred_name or self.pupil.first_name


@dataclass(eq=False)
class Group:
    group: TeachingGroup
    department: str
    members: list[Child]
    teachers: list[Member] = field(default_factory=list)


@dataclass(eq=False)
class PlanSpec:
    """The shape of one plan, decided before its text is written."""

    child: Child
    status: PlanStatus
    cycle: int = 1
    start: date | None = None
    review: date | None = None
    holder: Member | None = None
    # Why an open plan has no case holder: "new" (not yet delegated), "pending" (offered,
    # no reply), "declined", or "left" (the case holder left the school).
    unassigned: str | None = None
    former_holder: Member | None = None
    # The pupil's earlier plan was closed and this one started a cycle later.
    closed_predecessor: bool = False

    @property
    def first_cycle(self) -> int:
        return self.cycle - 1 if self.closed_predecessor else 1


# Needs a school most often watches before deciding on SEN Support.
MONITORED_NEEDS = (NeedCode.SEMH, NeedCode.SLCN, NeedCode.SPLD, NeedCode.MLD)


class DemoSchool:
    """Builds the school phase by phase: staff, pupils, SEN, classes, then plans.

    The lists it draws from are in `names` and `shape`; `PlanWriter` writes each plan's words.
    """

    def __init__(self, school: School, *, seed: int, pupil_count: int, today: date) -> None:
        self.school = school
        self.seed = seed
        self.pupil_count = pupil_count
        self.today = today
        # The academic year starts on 1 September.
        self.academic_year = today.year if today.month >= 9 else today.year - 1
        self.calendar = demo_calendar(self.academic_year)
        self.domain = f"{slug(school.name) or 'school'}.example.org"
        self.members: list[Member] = []
        self.children: list[Child] = []
        self.groups: list[Group] = []
        self.specs: list[PlanSpec] = []
        self.closed_specs: list[PlanSpec] = []
        self.demo_users: list[DemoUser] = []
        # The provision library's ids by name, once it is in the database (plans link to it).
        self.library_ids: dict[str, int] = {}

    def rng(self, phase: str) -> random.Random:
        # One stream per phase, so changing how staff are made does not reshuffle the pupils.
        return random.Random(f"sspbot-demo:{self.seed}:{phase}")

    def at(self, day: date, hour: int = 9, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=UTC)

    # -- the phases, in order --

    def build(self, session: Session) -> None:
        self._make_staff()
        self._make_pupils()
        self._assign_sen()
        self._make_classes()
        self._make_tutors_and_class_support()
        self._choose_demo_users()
        session.add_all(member.staff for member in self.members)
        session.add_all(
            SchoolCalendarEntry(
                school_id=self.school.id,
                kind=kind,
                name=period.name,
                start_date=period.start,
                end_date=period.end,
                created_at=self.at(self.today, 8),  # as every demo row: the same each run
            )
            for kind, periods in (
                (CalendarKind.TERM, self.calendar.terms),
                (CalendarKind.CLOSURE, self.calendar.closures),
            )
            for period in periods
        )
        session.flush()
        session.add_all(child.pupil for child in self.children)
        session.add_all(entry.group for entry in self.groups)
        session.flush()
        # The biggest table by far: one bulk INSERT of plain rows, no ORM objects.
        session.execute(
            insert(TeachingGroupPupil),
            [
                {"group_id": entry.group.id, "pupil_id": child.pupil.id, "is_active": True}
                for entry in self.groups
                for child in entry.members
            ],
        )
        session.add_all(self._key_adults())
        # The school's offer (bot.demo.provision_library), which plans and groups choose from.
        session.add_all(
            LibraryProvision(
                school_id=self.school.id,
                name=entry.name,
                area_of_need=entry.area_of_need,
                tier=entry.tier,
                group_size=entry.group_size,
                sessions_per_week=entry.sessions_per_week,
                session_minutes=entry.session_minutes,
                weeks=entry.weeks,
                staff_role=entry.staff_role,
                cost_per_session_pence=entry.cost_per_session_pence,
                cost_per_pupil_pence=entry.cost_per_pupil_pence,
                description=entry.description,
                is_active=True,
                created_at=self.at(self.today, 8),
                updated_at=self.at(self.today, 8),
            )
            for entry in LIBRARY
        )
        session.flush()
        self.library_ids = {
            name: item_id
            for name, item_id in session.execute(
                select(LibraryProvision.name, LibraryProvision.id).where(
                    LibraryProvision.school_id == self.school.id
                )
            )
        }
        writer = PlanWriter(self, self.rng("plan-text"))
        plans, reviews = self._make_plans(writer)
        session.add_all(plans)
        session.add_all(reviews)
        session.flush()
        # A report names the involvement it came from, which needs the involvement's id.
        for plan, involvement, report in writer.reports:
            report.plan_id, report.agency_involvement_id = plan.id, involvement.id
        session.add_all(report for _, _, report in writer.reports)
        session.add(
            AuditEvent(
                school_id=self.school.id,
                actor="cli",
                action="create",
                via="sspbot demo-data",
                detail="created synthetic demo school",
            )
        )
        session.flush()

    def summary(self, session: Session) -> DemoSummary:
        """What was made; the plans' counts as `/ssp caseload` gives them, read back."""
        caseload = school_caseload(session, self.school.id, self.today)
        totals = caseload.totals
        statuses = Counter(spec.status for spec in self.specs + self.closed_specs)
        sen = [c for c in self.children if c.pupil.sen_stage != SenStage.NONE]
        return DemoSummary(
            school_name=self.school.name,
            seed=self.seed,
            pupils=len(self.children),
            staff=sum(1 for m in self.members if m.staff.is_active),
            staff_left=sum(1 for m in self.members if not m.staff.is_active),
            classes=len(self.groups),
            ehcp_pupils=sum(1 for c in sen if c.pupil.sen_stage == SenStage.EHC_PLAN),
            sen_support_pupils=sum(1 for c in sen if c.pupil.sen_stage == SenStage.SEN_SUPPORT),
            plans_by_status={status: statuses[status] for status in PlanStatus},
            open_plans=totals.plans,
            plans_by_area=caseload.by_area,
            plans_without_case_holder=sum(h.plans for h in caseload.holders if h.staff_id is None),
            reviews_overdue=totals.overdue,
            reviews_due_soon=totals.due_soon,
            awaiting_qa=totals.awaiting_qa,
            pupils_needing_plan=sum(1 for c in sen if not c.has_plan),
            case_holders=sum(
                1 for m in self.members if m.staff.is_active and StaffRole.CASE_HOLDER in m.roles
            ),
            demo_users=tuple(self.demo_users),
        )

    # -- staff --

    def _make_staff(self) -> None:
        rng = self.rng("staff")
        n = self.pupil_count
        n_tas = max(2, round(n / 120))
        n_holders = max(2, round(n / 92))  # case holders besides the SENDCo
        n_learning_support = max(1, round(n_holders * 0.4))
        n_heads_of_year = min(len(YEAR_GROUPS), round(n_holders * 0.38))
        n_teacher_holders = max(0, n_holders - n_learning_support - n_heads_of_year)
        n_leaders = 2 if n < 600 else 3
        n_left = 1 if n < 200 else 2
        n_teachers = max(
            n_leaders + n_heads_of_year + n_teacher_holders + 2,
            max(12, round(n / 12)) - n_tas - 1 - n_learning_support - n_left,
        )

        departments = apportion(TEACHING_DEPARTMENTS, n_teachers, at_least_one=True)
        rng.shuffle(departments)
        teachers = [self._new_member(rng, "teacher", dept) for dept in departments]
        leaders = teachers[:n_leaders]
        heads = teachers[n_leaders : n_leaders + n_heads_of_year]
        holders = teachers[n_leaders + n_heads_of_year :][:n_teacher_holders]
        for member in leaders:
            member.kind, member.load_factor = "senior_leader", 3.0
            member.roles = frozenset({StaffRole.SENIOR_LEADER, StaffRole.TEACHER})
        for year, member in zip(YEAR_GROUPS, heads, strict=False):
            member.kind, member.year_group, member.load_factor = "head_of_year", year, 1.5
            member.roles = frozenset(
                {StaffRole.TEACHER, StaffRole.CASE_HOLDER, StaffRole.HEAD_OF_YEAR}
            )
            member.staff.scopes = [StaffScope(year_group=year)]
            member.areas = (BroadArea.SEMH,)
        for member in holders:
            member.roles = frozenset({StaffRole.TEACHER, StaffRole.CASE_HOLDER})
            member.year_group = rng.choice(YEAR_GROUPS)
            member.areas = (TEACHER_HOLDER_AREAS.get(member.department, BroadArea.SEMH),)
            member.load_factor = 1.3

        sendco = self._new_member(rng, "sendco", "Learning Support")
        sendco.roles = frozenset({StaffRole.SENDCO, StaffRole.CASE_HOLDER})
        sendco.areas = tuple(BroadArea)
        support = []
        for i in range(n_learning_support):
            member = self._new_member(rng, "learning_support", "Learning Support")
            member.roles = frozenset({StaffRole.CASE_HOLDER})
            member.areas = LEARNING_SUPPORT_AREAS[i % len(LEARNING_SUPPORT_AREAS)]
            member.ehcp_preference = i == 0  # the assistant SENDCo
            support.append(member)
        tas = []
        for i in range(n_tas):
            member = self._new_member(rng, "ta", "Learning Support")
            member.roles = frozenset({StaffRole.TEACHING_ASSISTANT})
            member.is_elsa = i < max(1, n_tas // 5)
            tas.append(member)
        leavers = []
        for _ in range(n_left):
            member = self._new_member(rng, "leaver", rng.choice(TEACHING_DEPARTMENTS)[0])
            member.staff.is_active = False
            member.staff.left_on = self.today - timedelta(days=rng.randint(20, 120))
            leavers.append(member)

        # Its own random stream, so everyone else is as they were before there was one.
        pastoral = self._new_member(self.rng("pastoral"), "pastoral", "Pastoral")
        pastoral.roles = frozenset({StaffRole.PASTORAL})
        pastoral.staff.scopes = [StaffScope(house=HOUSES[0])]

        self.members = [
            sendco,
            *leaders,
            *support,
            *teachers[n_leaders:],
            *tas,
            *leavers,
            pastoral,
        ]
        self.sendco, self.tas, self.leavers, self.pastoral = sendco, tas, leavers, pastoral
        emails: set[str] = set()
        codes: set[str] = set()
        for member in self.members:
            staff = member.staff
            staff.email = unique_email(staff.first_name, staff.last_name, self.domain, emails)
            staff.staff_code = staff_code(staff.first_name, staff.last_name, codes)
            staff.department = member.department
            staff.set_roles(set(member.roles))

    def _new_member(self, rng: random.Random, kind: str, department: str) -> Member:
        heritage = pick_heritage(rng, staff=True)
        woman = rng.random() < 0.66
        first = rng.choice(heritage.women if woman else heritage.men)
        # Some marry into, or were born with, a surname from another list.
        surnames = HERITAGES[0].surnames if rng.random() < 0.1 else heritage.surnames
        last = rng.choice(surnames)
        roll = rng.random()
        if roll < 0.03:
            title = "Dr"
        elif roll < 0.04:
            title = "Mx"
        elif woman:
            title = rng.choices(("Ms", "Mrs", "Miss"), weights=(45, 40, 15))[0]
        else:
            title = "Mr"
        joined = self.at(self.today - timedelta(days=rng.randint(60, 4000)), 8)
        staff = Staff(
            school_id=self.school.id,
            first_name=first,
            last_name=last,
            title=title,
            is_active=True,
            created_at=joined,
            updated_at=joined,
        )
        return Member(staff=staff, kind=kind, department=department)

    # -- pupils --

    def _make_pupils(self) -> None:
        rng = self.rng("pupils")
        staff_names = {(m.staff.first_name, m.staff.last_name) for m in self.members}
        per_year = [self.pupil_count // len(YEAR_GROUPS)] * len(YEAR_GROUPS)
        for i in range(self.pupil_count % len(YEAR_GROUPS)):
            per_year[i] += 1
        on_roll = self.at(date(self.academic_year, 9, 1), 7)
        # UPNs are issued by the primary school a pupil started at. The made-up local
        # authority code 999 keeps them clear of real ones.
        feeders = rng.sample(range(2000, 3000), 14)
        upns: set[str] = set()
        for year, count in zip(YEAR_GROUPS, per_year, strict=True):
            forms = tutor_groups(year, count)
            born_from = date(self.academic_year - year - 5, 9, 1)
            born_days = (date(self.academic_year - year - 4, 8, 31) - born_from).days
            started_school = (self.academic_year - year) % 100
            for i in range(count):
                heritage = pick_heritage(rng, staff=False)
                while True:
                    first = rng.choice(heritage.children)
                    # Mixed families: a first name from one list, a surname from another.
                    family = pick_heritage(rng, staff=False) if rng.random() < 0.08 else heritage
                    last = rng.choice(family.surnames)
                    if (first, last) not in staff_names:
                        break
                preferred = None
                if first in PREFERRED_NAMES and rng.random() < 0.6:
                    preferred = PREFERRED_NAMES[first]
                elif rng.random() < 0.01:
                    other = rng.choice(HERITAGES[0].children)
                    preferred = other if other != first else None
                while True:
                    serial = rng.randint(1, 999)
                    upn = make_upn(f"999{rng.choice(feeders)}{started_school:02d}{serial:03d}")
                    if upn not in upns:
                        upns.add(upn)
                        break
                form_index = i % len(forms)
                pupil = Pupil(
                    school_id=self.school.id,
                    upn=upn,
                    first_name=first,
                    last_name=last,
                    preferred_name=preferred,
                    date_of_birth=born_from + timedelta(days=rng.randint(0, born_days)),
                    year_group=year,
                    taught_in_year_group=True,
                    form=forms[form_index],
                    # Each tutor group belongs to a house; small years still use all four.
                    house=HOUSES[(form_index + year) % len(HOUSES)],
                    sen_stage=SenStage.NONE,
                    eal=rng.random() < heritage.eal_rate,
                    created_at=on_roll,
                    updated_at=on_roll,
                )
                latent = rng.gauss(0, 1)
                attainment = {
                    "English": latent + rng.gauss(0, 0.5) - (0.6 if pupil.eal else 0),
                    "Maths": latent + rng.gauss(0, 0.5),
                }
                attainment["Science"] = (
                    attainment["English"] + attainment["Maths"]
                ) / 2 + rng.gauss(0, 0.4)
                self.children.append(Child(len(self.children), pupil, heritage, attainment))

    def _assign_sen(self) -> None:
        rng = self.rng("sen")
        n = len(self.children)
        n_ehcp = max(2, round(n * 0.03))
        n_support = max(4, round(n * 0.13))
        chosen = rng.sample(self.children, n_ehcp + n_support)
        ehcp, support = chosen[:n_ehcp], chosen[n_ehcp:]
        ehcp_codes = apportion(EHCP_NEEDS, n_ehcp)
        support_codes = apportion(SUPPORT_NEEDS, n_support)
        rng.shuffle(ehcp_codes)
        rng.shuffle(support_codes)
        for stage, group, codes in (
            (SenStage.EHC_PLAN, ehcp, ehcp_codes),
            (SenStage.SEN_SUPPORT, support, support_codes),
        ):
            for child, code in zip(group, codes, strict=True):
                child.pupil.sen_stage = stage
                child.pupil.primary_need = code

        # A handful of pupils with SEN have no plan yet: EHCP pupils who have just arrived,
        # and pupils recently added to SEN Support (first those not yet assessed).
        common = {
            BroadArea.COGNITION_AND_LEARNING,
            BroadArea.COMMUNICATION_AND_INTERACTION,
            BroadArea.SEMH,
            None,
        }
        new_arrivals = rng.sample(
            [c for c in ehcp if c.pupil.primary_need.broad_area in common],
            max(1, round(n_ehcp * 0.1)),
        )
        unassessed = [c for c in support if c.pupil.primary_need == NeedCode.NSA]
        others = [
            c
            for c in support
            if c.pupil.primary_need != NeedCode.NSA and c.pupil.primary_need.broad_area in common
        ]
        rng.shuffle(unassessed)
        rng.shuffle(others)
        waiting = {
            id(c) for c in new_arrivals + (unassessed + others)[: max(2, round(n_support * 0.1))]
        }
        for child in ehcp + support:
            child.has_plan = id(child) not in waiting
        self._ensure_every_area_has_plans(rng)

        for child in ehcp + support:
            pupil = child.pupil
            options = SECONDARY_NEEDS.get(pupil.primary_need, ())
            if options and rng.random() < 0.3:
                pupil.secondary_need = rng.choice(options)
            # Needs show in attainment, so lower sets hold more pupils with plans.
            if pupil.primary_need.broad_area == BroadArea.COGNITION_AND_LEARNING:
                drop = ATTAINMENT_DROP.get(pupil.primary_need, 1.0)
                for subject in child.attainment:
                    child.attainment[subject] -= drop
                if pupil.primary_need == NeedCode.SPLD:
                    child.attainment["English"] -= 0.7
            elif pupil.primary_need.broad_area == BroadArea.COMMUNICATION_AND_INTERACTION:
                child.attainment["English"] -= 0.6

        # The SENDCo's monitoring list: a need noted (a concern, a diagnosis awaited) but no SEN
        # stage yet. Its own stream, so the rest of the school is as it was without it.
        watch = self.rng("monitoring")
        not_sen = [c for c in self.children if c.pupil.sen_stage == SenStage.NONE]
        for child in watch.sample(not_sen, max(2, round(n * 0.015))):
            child.pupil.primary_need = watch.choice(MONITORED_NEEDS)

        flags = self.rng("flags")
        for child in self.children:
            pupil = child.pupil
            has_sen = pupil.sen_stage != SenStage.NONE
            physical = pupil.primary_need in (NeedCode.PD, NeedCode.HI, NeedCode.VI, NeedCode.MSI)
            pupil.pupil_premium = flags.random() < (0.38 if has_sen else 0.22)
            pupil.child_in_care = flags.random() < (0.035 if has_sen else 0.005)
            pupil.young_carer = flags.random() < 0.02
            pupil.medical_need = flags.random() < (0.5 if physical else 0.045)
            if pupil.medical_need:
                notes = PHYSICAL_MEDICAL_NOTES if physical else MEDICAL_NOTES
                pupil.other_information = flags.choice(notes)
            elif flags.random() < 0.03:
                pupil.other_information = flags.choice(OTHER_INFORMATION)

    def _ensure_every_area_has_plans(self, rng: random.Random) -> None:
        """Small schools can miss a rare area by chance; the demo must show all four."""
        planned = [c for c in self.children if c.has_plan]
        for area, code in AREA_EXAMPLES.items():
            counts = Counter(c.pupil.primary_need.broad_area for c in planned)
            if counts[area]:
                continue
            biggest = max((a for a in counts if a is not None), key=lambda a: (counts[a], a.value))
            donor = rng.choice([c for c in planned if c.pupil.primary_need.broad_area == biggest])
            donor.pupil.primary_need = code

    # -- classes --

    def _make_classes(self) -> None:
        rng = self.rng("classes")
        for year in YEAR_GROUPS:
            cohort = [c for c in self.children if c.pupil.year_group == year]
            forms = tutor_groups(year, len(cohort))
            by_form = {form: [c for c in cohort if c.pupil.form == form] for form in forms}
            for subject, abbr in SET_SUBJECTS:
                ranked = sorted(cohort, key=lambda c, s=subject: (-c.attainment[s], c.index))
                for k, members in enumerate(split_evenly(ranked, len(forms)), start=1):
                    self._add_group(f"{year}x/{abbr}{k}", subject, year, members)
            if year <= 9:
                for i, form in enumerate(forms):
                    for subject, abbr in KS3_FORM_SUBJECTS:
                        if subject == "Languages":
                            subject, abbr = ("French", "Fr") if i % 2 == 0 else ("Spanish", "Sp")
                        self._add_group(f"{form}/{abbr}", subject, year, by_form[form])
            else:
                for form in forms:
                    self._add_group(f"{form}/PE", "PE", year, by_form[form])
                self._make_option_blocks(rng, year, cohort, len(forms))
        self._assign_teachers(rng)

    def _make_option_blocks(
        self, rng: random.Random, year: int, cohort: list[Child], per_block: int
    ) -> None:
        """GCSE options: four blocks; each pupil takes one subject in each, all different."""
        blocks = "abcd"
        slots = Counter(
            apportion([((s, a), share) for s, a, share in OPTION_SUBJECTS], per_block * 4)
        )
        placed: dict[str, list[tuple[str, str]]] = {block: [] for block in blocks}
        for option in sorted(slots, key=lambda o: (-slots[o], o[1])):
            for _ in range(slots[option]):
                free = [b for b in blocks if option not in placed[b]] or list(blocks)
                placed[min(free, key=lambda b: (len(placed[b]), b))].append(option)
        taking: dict[int, set[str]] = {child.index: set() for child in cohort}
        for block in blocks:
            numbers: Counter[str] = Counter()
            classes: list[tuple[str, str, list[Child]]] = []
            for subject, abbr in placed[block]:
                numbers[abbr] += 1
                classes.append((f"{year}{block}/{abbr}{numbers[abbr]}", subject, []))
            if not classes:
                continue
            capacity = math.ceil(len(cohort) / len(classes)) + 3
            order = list(cohort)
            rng.shuffle(order)
            for child in order:
                allowed = [c for c in classes if c[1] not in taking[child.index]]
                if not allowed:
                    continue
                roomy = [c for c in allowed if len(c[2]) < capacity] or allowed
                code, subject, members = min(roomy, key=lambda c: (len(c[2]), rng.random()))
                members.append(child)
                taking[child.index].add(subject)
            for code, subject, members in classes:
                if members:
                    self._add_group(code, subject, year, members)

    def _add_group(self, code: str, subject: str, year: int, members: list[Child]) -> None:
        timetabled = self.at(date(self.academic_year, 9, 1), 7)
        group = TeachingGroup(
            school_id=self.school.id,
            code=code,
            subject=subject,
            year_group=year,
            is_active=True,
            created_at=timetabled,
            updated_at=timetabled,
        )
        entry = Group(group, SUBJECT_DEPARTMENTS[subject], sorted(members, key=lambda c: c.index))
        self.groups.append(entry)
        for child in entry.members:
            child.groups.append(entry)

    def _assign_teachers(self, rng: random.Random) -> None:
        teachers = [m for m in self.members if m.staff.is_active and StaffRole.TEACHER in m.roles]
        by_department: dict[str, list[Member]] = {}
        for member in teachers:
            by_department.setdefault(member.department, []).append(member)
        for entry in self.groups:
            pool = by_department.get(entry.department) or teachers
            # Occasionally a class is shared (a job share, or a second teacher for a set).
            count = 2 if len(pool) > 1 and rng.random() < 0.05 else 1
            for _ in range(count):
                candidates = [m for m in pool if m not in entry.teachers]
                chosen = min(candidates, key=lambda m: (m.load * m.load_factor, rng.random()))
                chosen.load += 1
                entry.teachers.append(chosen)
                entry.group.teachers.append(
                    TeachingGroupTeacher(staff=chosen.staff, is_active=True)
                )

    def _make_tutors_and_class_support(self) -> None:
        """A form tutor for every form (teachers in turn), and each teaching assistant in the
        three classes with the most pupils with a plan that no other assistant has taken."""
        year_of = {c.pupil.form: c.pupil.year_group for c in self.children if c.pupil.form}
        forms = sorted(year_of, key=lambda form: (year_of[form], form))
        teachers = [m for m in self.members if m.kind == "teacher" and m.staff.is_active]
        # Tutors who hold no plans, so the tour shows a tutor's view, not a case holder's.
        tutors = [m for m in teachers if StaffRole.CASE_HOLDER not in m.roles] or teachers
        for i, form in enumerate(forms):
            if not tutors:
                break
            tutor = tutors[i % len(tutors)]
            tutor.roles = tutor.roles | {StaffRole.FORM_TUTOR}
            tutor.staff.set_roles(set(tutor.roles))
            tutor.staff.scopes.append(StaffScope(form=form))
        ranked = sorted(
            self.groups,
            key=lambda entry: (-sum(1 for c in entry.members if c.has_plan), entry.group.code),
        )
        for i, entry in enumerate(ranked[: 3 * len(self.tas)]):
            assistant = self.tas[i % len(self.tas)]
            entry.group.support.append(TeachingGroupSupport(staff=assistant.staff, is_active=True))

    def _key_adults(self) -> list[KeyAdult]:
        """Each pupil with an EHC plan has a key adult: one of the ELSAs (teaching assistants
        trained in emotional literacy), linked by the SENDCo at the start of the year."""
        elsas = [m for m in self.tas if m.is_elsa] or self.tas
        pupils = [
            c.pupil
            for c in self.children
            if c.pupil.sen_stage == SenStage.EHC_PLAN and c.pupil.is_active
        ]
        linked_at = self.at(date(self.academic_year, 9, 8))
        return [
            KeyAdult(
                school_id=self.school.id,
                pupil_id=pupil.id,
                staff_id=elsas[i % len(elsas)].staff.id,
                linked_by_id=self.sendco.staff.id,
                linked_at=linked_at,
            )
            for i, pupil in enumerate(pupils)
        ]

    def _choose_demo_users(self) -> None:
        taught: Counter[int] = Counter()
        for entry in self.groups:
            with_plans = sum(1 for child in entry.members if child.has_plan)
            for teacher in entry.teachers:
                taught[id(teacher)] += with_plans

        def first(kind: str) -> Member | None:
            return next((m for m in self.members if m.kind == kind), None)

        teachers = [m for m in self.members if m.kind == "teacher"]
        candidates = (
            ("SENDCo", self.sendco),
            ("Senior leader", first("senior_leader")),
            ("Case holder (Learning Support)", first("learning_support")),
            ("Head of year", first("head_of_year")),
            ("Teacher", max(teachers, key=lambda m: taught[id(m)], default=None)),
            ("Teaching assistant", first("ta")),
            (
                "Form tutor",
                next((m for m in self.members if StaffRole.FORM_TUTOR in m.roles), None),
            ),
            ("Pastoral lead", self.pastoral),
        )
        for role, member in candidates:
            if member is None:
                continue
            member.staff.slack_user_id = f"U0DEMO{len(self.demo_users) + 1:03d}"
            self.demo_users.append(DemoUser(role, member.full, member.staff.slack_user_id))

    # -- plans --

    def _make_plans(self, writer: PlanWriter) -> tuple[list[Plan], list[Review]]:
        rng = self.rng("plans")
        self._plan_statuses(rng, [c for c in self.children if c.has_plan])
        self._plan_dates(rng)
        self._delegate(rng)
        self._reviews_on_school_days()
        plans: list[Plan] = []
        reviews: list[Review] = []
        for spec in sorted(self.specs, key=lambda s: s.child.index):
            if spec.closed_predecessor:
                closed = self._closed_predecessor(rng, spec)
                self.closed_specs.append(closed)
                plan, plan_reviews = writer.write(closed)
                plans.append(plan)
                reviews += plan_reviews
            plan, plan_reviews = writer.write(spec)
            plans.append(plan)
            reviews += plan_reviews
        return plans, reviews

    def _plan_statuses(self, rng: random.Random, planned: list[Child]) -> None:
        n = len(planned)
        order = list(planned)
        rng.shuffle(order)
        n_unassigned = max(2, round(n * 0.055))
        n_holder_left = min(len(self.leavers), 2 if n_unassigned >= 6 else 1)
        n_new = n_unassigned - n_holder_left
        n_draft = max(n_new + (1 if n >= 20 else 0), round(n * 0.09))
        n_qa = max(1, round(n * 0.08))
        n_review = max(1, round(n * 0.07))
        statuses = (
            [PlanStatus.DRAFT] * n_draft
            + [PlanStatus.AWAITING_QA] * n_qa
            + [PlanStatus.IN_REVIEW] * n_review
        )
        statuses += [PlanStatus.ACTIVE] * (n - len(statuses))
        self.specs = [PlanSpec(c, status) for c, status in zip(order, statuses, strict=True)]
        drafts = [s for s in self.specs if s.status == PlanStatus.DRAFT]
        for i, spec in enumerate(drafts[:n_new]):
            spec.unassigned = "declined" if i == 0 else "pending" if i in (1, 2) else "new"
        actives = [s for s in self.specs if s.status == PlanStatus.ACTIVE]
        for spec in actives[:n_holder_left]:
            spec.unassigned = "left"
        for spec in self.specs:
            if spec.status in (PlanStatus.ACTIVE, PlanStatus.IN_REVIEW):
                spec.cycle = rng.choices((1, 2, 3, 4), weights=(35, 30, 22, 13))[0]
                if spec.child.pupil.year_group == YEAR_GROUPS[0]:
                    spec.cycle = min(spec.cycle, 2)  # Year 7 joined this September
                if spec.unassigned == "left":
                    spec.cycle = max(2, spec.cycle)  # the leaver held it through a review
        # Some pupils' earlier plan was closed and a new one started (after a change of SEN
        # stage, or a fresh start in Key Stage 4); the new plan carries on the numbering.
        n_closed = max(1, round(n * 0.06))
        candidates = [s for s in self.specs if s.cycle >= 3 and s.unassigned is None]
        for spec in self.specs:
            if len(candidates) >= n_closed:
                break
            if spec.cycle == 2 and spec.unassigned is None:
                spec.cycle = 3
                candidates.append(spec)
        for spec in rng.sample(candidates, min(n_closed, len(candidates))):
            spec.closed_predecessor = True

    def _plan_dates(self, rng: random.Random) -> None:
        today = self.today
        reviewing = [s for s in self.specs if s.status in (PlanStatus.ACTIVE, PlanStatus.IN_REVIEW)]
        for spec in reviewing:
            if spec.status == PlanStatus.IN_REVIEW:
                spec.review = today + timedelta(days=rng.choice((-9, -6, -4, -2, 2, 3, 5, 8)))
        n_overdue = max(1, round(len(self.specs) * 0.10))
        n_soon = max(1, round(len(self.specs) * 0.12))
        n_overdue -= sum(1 for s in reviewing if s.review and s.review < today)
        n_soon -= sum(1 for s in reviewing if s.review and s.review >= today)
        actives = [s for s in reviewing if s.review is None]
        rng.shuffle(actives)
        for i, spec in enumerate(actives):
            if i < n_overdue:
                offset = -rng.randint(3, 42)
            elif i < n_overdue + max(0, n_soon):
                offset = rng.randint(1, DUE_SOON_DAYS - 1)
            else:
                offset = rng.randint(DUE_SOON_DAYS + 2, 112)
            spec.review = today + timedelta(days=offset)
        for spec in reviewing:
            length = timedelta(weeks=rng.choice((10, 12, 12, 14)))
            spec.start = min(spec.review - length, today - timedelta(days=rng.randint(7, 28)))
        for spec in self.specs:
            if spec.status == PlanStatus.AWAITING_QA:
                spec.start = today + timedelta(days=rng.randint(3, 14))
            elif spec.status == PlanStatus.DRAFT:
                spec.start = today + timedelta(days=rng.randint(7, 21))
            if spec.review is None:
                spec.review = spec.start + timedelta(weeks=12)

    def _reviews_on_school_days(self) -> None:
        """No review falls on a weekend, a closure or in a holiday of the demo's term dates:
        moved as the bot moves any review date (SchoolCalendar.review_day), and never across
        today, so what is overdue stays overdue and what is not, is not."""
        for spec in self.specs:
            if spec.review is not None:
                earliest = self.today if spec.review >= self.today else None
                spec.review = self.calendar.review_day(spec.review, earliest=earliest)

    def _delegate(self, rng: random.Random) -> None:
        """Gives plans to case holders: the SENDCo a few EHCPs, the rest by area and year."""
        holders = [
            m
            for m in self.members
            if m.staff.is_active and StaffRole.CASE_HOLDER in m.roles and m is not self.sendco
        ]
        to_assign = [s for s in self.specs if s.unassigned is None]
        rng.shuffle(to_assign)
        ehcp = [s for s in to_assign if s.child.pupil.sen_stage == SenStage.EHC_PLAN]
        for spec in ehcp[: max(1, round(len(ehcp) * 0.15))]:
            spec.holder = self.sendco
            self.sendco.caseload += 1
        rest = [s for s in to_assign if s.holder is None]
        average = len(rest) / len(holders)
        cap = max(5, math.ceil(average * 1.6))
        if average >= 5:
            cap = min(cap, 20)
        for spec in rest:
            pupil = spec.child.pupil
            area = pupil.primary_need.broad_area  # None for OTH, NSA: no specialist fits
            available = [m for m in holders if m.caseload < cap] or holders
            weights = [
                1
                + (6 if area in m.areas else 0)
                + (5 if m.year_group == pupil.year_group else 0)
                + (4 if m.ehcp_preference and pupil.sen_stage == SenStage.EHC_PLAN else 0)
                for m in available
            ]
            spec.holder = rng.choices(available, weights=weights)[0]
            spec.holder.caseload += 1
        # Nobody holds fewer than five, when there are enough plans to go round.
        if average >= 5:
            for member in holders:
                while member.caseload < 5:
                    donor = max(holders, key=lambda m: m.caseload)
                    spec = next(s for s in rest if s.holder is donor)
                    spec.holder = member
                    donor.caseload -= 1
                    member.caseload += 1
        for spec in self.specs:
            if spec.unassigned == "left":
                leaver = rng.choice(self.leavers)
                spec.former_holder = leaver
                # The leaver held the last review, so this cycle began before they left.
                left_on = leaver.staff.left_on
                spec.start = min(spec.start, left_on - timedelta(days=rng.randint(5, 20)))
                spec.review = min(spec.review, spec.start + timedelta(weeks=14))
            elif spec.holder is not None and spec.cycle >= 2 and rng.random() < 0.15:
                others = [m for m in holders if m is not spec.holder]
                spec.former_holder = rng.choice(others) if others else None

    def _closed_predecessor(self, rng: random.Random, spec: PlanSpec) -> PlanSpec:
        # The open plan began one cycle before its current one; the closed plan ended there.
        began = spec.start - CYCLE
        holders = [m for m in self.members if m.staff.is_active and m.caseload]
        return PlanSpec(
            child=spec.child,
            status=PlanStatus.CLOSED,
            cycle=spec.cycle - 2,
            start=began - CYCLE,
            review=began,
            holder=spec.holder if rng.random() < 0.6 else rng.choice(holders),
        )
