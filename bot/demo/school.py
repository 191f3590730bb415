"""A synthetic secondary school to demonstrate, test and benchmark SSP Bot on (`sspbot demo-data`).

Everything comes from random generators seeded with `seed` and from the `today` the caller
passes, never from the clock: the same seed, size and day always give the same school, row for
row (ids aside). Names come from made-up lists, so no row describes a real child.

The school is shaped to exercise the SSP team's work: caseloads spread over case holders, reviews
overdue and due in the next fortnight, plans awaiting quality assurance, pupils with SEN but no
plan and plans with no case holder (the priority list), and timetabled classes linking every
pupil to the teachers who would be asked how their plan is working.
"""

from __future__ import annotations

import math
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from bot.errors import UserError
from bot.services.schools import add_school
from models import (
    AdjustmentKind,
    AgencyInvolvement,
    AgencyReport,
    AssignmentStatus,
    AuditEvent,
    BroadArea,
    CaseHolderAssignment,
    CircleMember,
    LinkedPlan,
    LinkedPlanKind,
    NeedCode,
    NeedSource,
    Plan,
    PlanAdjustment,
    PlanNeed,
    PlanOutcome,
    PlanPerson,
    PlanPersonRole,
    PlanProvision,
    PlanStatus,
    PlanTarget,
    PlanVoice,
    Pupil,
    Review,
    ReviewStatus,
    ReviewTargetResult,
    School,
    SenStage,
    SharingConsent,
    Staff,
    StaffRole,
    TargetResult,
    TargetStatus,
    TeachingGroup,
    TeachingGroupPupil,
    TeachingGroupTeacher,
    TimelineEntry,
    TimelineKind,
)

DEFAULT_NAME = "Oakfield Academy (demo)"
MIN_PUPILS = 50
MAX_PUPILS = 5000
YEAR_GROUPS = (7, 8, 9, 10, 11)
# Reviews this close count as "due soon" (the window the SENDCo's reviews view looks ahead).
DUE_SOON_DAYS = 14
# Roughly a term: the length of one APDR cycle.
CYCLE = timedelta(weeks=13)

T = TypeVar("T")


@dataclass(frozen=True)
class DemoUser:
    """A member of staff with a Slack user id, to act as in a Slack demo."""

    role: str
    name: str
    slack_user_id: str


@dataclass(frozen=True)
class DemoSummary:
    """What `create_demo_school` made. Counts only: no pupil is named here."""

    school_name: str
    seed: int
    pupils: int
    staff: int
    staff_left: int
    classes: int
    ehcp_pupils: int
    sen_support_pupils: int
    plans_by_status: dict[PlanStatus, int]
    # Plans that are not closed, by the broad area of their primary need.
    plans_by_area: dict[BroadArea, int]
    plans_without_case_holder: int
    # Active and in-review plans whose review date has passed, or falls in the next 14 days.
    reviews_overdue: int
    reviews_due_soon: int
    # Pupils with SEN (SEN Support or an EHC plan) but no open plan: the priority list.
    pupils_needing_plan: int
    case_holders: int
    demo_users: tuple[DemoUser, ...] = ()

    @property
    def open_plans(self) -> int:
        return sum(n for status, n in self.plans_by_status.items() if status != PlanStatus.CLOSED)

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
        areas = ", ".join(
            f"{area.label.lower()} {self.plans_by_area.get(area, 0):,}" for area in BroadArea
        )
        left = f" (and {self.staff_left} who have left)" if self.staff_left else ""
        lines = [
            f"Created {self.school_name}: {self.pupils:,} pupils in Years "
            f"{YEAR_GROUPS[0]}–{YEAR_GROUPS[-1]}, {self.staff:,} staff{left}, "
            f"{self.classes:,} classes.",
            f"{self.open_plans:,} pupils have an SEN Support Plan ({statuses}); "
            f"{closed:,} older plans are closed.",
            f"SEN register: {self.ehcp_pupils:,} pupils with an EHC plan and "
            f"{self.sen_support_pupils:,} on SEN Support; {self.pupils_needing_plan:,} of them "
            "have no plan yet (the priority list).",
            f"Plans by area of primary need: {areas}.",
            f"Reviews: {self.reviews_overdue:,} overdue, {self.reviews_due_soon:,} due in the "
            f"next {DUE_SOON_DAYS} days. {self.case_holders:,} case holders; "
            f"{self.plans_without_case_holder:,} plans have no case holder.",
        ]
        if self.demo_users:
            lines.append("To try it in Slack, act as one of these staff (their Slack user ids):")
            lines += [f"  {u.role}: {u.name} ({u.slack_user_id})" for u in self.demo_users]
        lines.append(
            f"Everyone in it is made up. The same --seed ({self.seed}) makes the same school."
        )
        return "\n".join(lines)


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
    demo = _DemoSchool(school, seed=seed, pupil_count=pupils, today=today)
    demo.build(session)
    return demo.summary()


# --- the builder ----------------------------------------------------------------------------


@dataclass(eq=False)
class _Member:
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
class _Child:
    """A pupil and the facts the demo uses to place them in classes and write their plan."""

    index: int
    pupil: Pupil
    heritage: _Heritage
    attainment: dict[str, float]
    groups: list[_Group] = field(default_factory=list)
    has_plan: bool = False

    @property
    def name(self) -> str:
        return self.pupil.preferred_name or self.pupil.first_name


@dataclass(eq=False)
class _Group:
    group: TeachingGroup
    department: str
    members: list[_Child]
    teachers: list[_Member] = field(default_factory=list)


@dataclass(eq=False)
class _PlanSpec:
    """The shape of one plan, decided before its text is written."""

    child: _Child
    status: PlanStatus
    cycle: int = 1
    start: date | None = None
    review: date | None = None
    holder: _Member | None = None
    # Why an open plan has no case holder: "new" (not yet delegated), "pending" (offered,
    # no reply), "declined", or "left" (the case holder left the school).
    unassigned: str | None = None
    former_holder: _Member | None = None
    # The pupil's earlier plan was closed and this one started a cycle later.
    closed_predecessor: bool = False
    primary_area: BroadArea | None = None

    @property
    def first_cycle(self) -> int:
        return self.cycle - 1 if self.closed_predecessor else 1


class _DemoSchool:
    def __init__(self, school: School, *, seed: int, pupil_count: int, today: date) -> None:
        self.school = school
        self.seed = seed
        self.pupil_count = pupil_count
        self.today = today
        # The academic year starts on 1 September.
        self.academic_year = today.year if today.month >= 9 else today.year - 1
        self.domain = f"{_slug(school.name) or 'school'}.example.org"
        self.members: list[_Member] = []
        self.children: list[_Child] = []
        self.groups: list[_Group] = []
        self.specs: list[_PlanSpec] = []
        self.closed_specs: list[_PlanSpec] = []
        self.demo_users: list[DemoUser] = []

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
        self._choose_demo_users()
        session.add_all(member.staff for member in self.members)
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
        writer = _PlanWriter(self, self.rng("plan-text"))
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

    def summary(self) -> DemoSummary:
        statuses = Counter(spec.status for spec in self.specs + self.closed_specs)
        areas = Counter(spec.primary_area for spec in self.specs)
        reviewing = [s for s in self.specs if s.status in (PlanStatus.ACTIVE, PlanStatus.IN_REVIEW)]
        soon = self.today + timedelta(days=DUE_SOON_DAYS)
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
            plans_by_area={area: areas[area] for area in BroadArea},
            plans_without_case_holder=sum(1 for s in self.specs if s.holder is None),
            reviews_overdue=sum(1 for s in reviewing if s.review < self.today),
            reviews_due_soon=sum(1 for s in reviewing if self.today <= s.review <= soon),
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

        departments = _apportion(TEACHING_DEPARTMENTS, n_teachers, at_least_one=True)
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
            member.roles = frozenset({StaffRole.TEACHER, StaffRole.CASE_HOLDER})
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

        self.members = [sendco, *leaders, *support, *teachers[n_leaders:], *tas, *leavers]
        self.sendco, self.tas, self.leavers = sendco, tas, leavers
        emails: set[str] = set()
        codes: set[str] = set()
        for member in self.members:
            staff = member.staff
            staff.email = _unique_email(staff.first_name, staff.last_name, self.domain, emails)
            staff.staff_code = _staff_code(staff.first_name, staff.last_name, codes)
            staff.department = member.department
            staff.set_roles(set(member.roles))

    def _new_member(self, rng: random.Random, kind: str, department: str) -> _Member:
        heritage = _pick_heritage(rng, staff=True)
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
        return _Member(staff=staff, kind=kind, department=department)

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
            forms = _forms(year, count)
            born_from = date(self.academic_year - year - 5, 9, 1)
            born_days = (date(self.academic_year - year - 4, 8, 31) - born_from).days
            started_school = (self.academic_year - year) % 100
            for i in range(count):
                heritage = _pick_heritage(rng, staff=False)
                while True:
                    first = rng.choice(heritage.children)
                    # Mixed families: a first name from one list, a surname from another.
                    family = _pick_heritage(rng, staff=False) if rng.random() < 0.08 else heritage
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
                    upn = _upn(f"999{rng.choice(feeders)}{started_school:02d}{serial:03d}")
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
                self.children.append(_Child(len(self.children), pupil, heritage, attainment))

    def _assign_sen(self) -> None:
        rng = self.rng("sen")
        n = len(self.children)
        n_ehcp = max(2, round(n * 0.03))
        n_support = max(4, round(n * 0.13))
        chosen = rng.sample(self.children, n_ehcp + n_support)
        ehcp, support = chosen[:n_ehcp], chosen[n_ehcp:]
        ehcp_codes = _apportion(EHCP_NEEDS, n_ehcp)
        support_codes = _apportion(SUPPORT_NEEDS, n_support)
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
            forms = _forms(year, len(cohort))
            by_form = {form: [c for c in cohort if c.pupil.form == form] for form in forms}
            for subject, abbr in SET_SUBJECTS:
                ranked = sorted(cohort, key=lambda c, s=subject: (-c.attainment[s], c.index))
                for k, members in enumerate(_split(ranked, len(forms)), start=1):
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
        self, rng: random.Random, year: int, cohort: list[_Child], per_block: int
    ) -> None:
        """GCSE options: four blocks; each pupil takes one subject in each, all different."""
        blocks = "abcd"
        slots = Counter(
            _apportion([((s, a), share) for s, a, share in OPTION_SUBJECTS], per_block * 4)
        )
        placed: dict[str, list[tuple[str, str]]] = {block: [] for block in blocks}
        for option in sorted(slots, key=lambda o: (-slots[o], o[1])):
            for _ in range(slots[option]):
                free = [b for b in blocks if option not in placed[b]] or list(blocks)
                placed[min(free, key=lambda b: (len(placed[b]), b))].append(option)
        taking: dict[int, set[str]] = {child.index: set() for child in cohort}
        for block in blocks:
            numbers: Counter[str] = Counter()
            classes: list[tuple[str, str, list[_Child]]] = []
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

    def _add_group(self, code: str, subject: str, year: int, members: list[_Child]) -> None:
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
        entry = _Group(group, SUBJECT_DEPARTMENTS[subject], sorted(members, key=lambda c: c.index))
        self.groups.append(entry)
        for child in entry.members:
            child.groups.append(entry)

    def _assign_teachers(self, rng: random.Random) -> None:
        teachers = [m for m in self.members if m.staff.is_active and StaffRole.TEACHER in m.roles]
        by_department: dict[str, list[_Member]] = {}
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

    def _choose_demo_users(self) -> None:
        taught: Counter[int] = Counter()
        for entry in self.groups:
            with_plans = sum(1 for child in entry.members if child.has_plan)
            for teacher in entry.teachers:
                taught[id(teacher)] += with_plans

        def first(kind: str) -> _Member | None:
            return next((m for m in self.members if m.kind == kind), None)

        teachers = [m for m in self.members if m.kind == "teacher"]
        candidates = (
            ("SENDCo", self.sendco),
            ("Senior leader", first("senior_leader")),
            ("Case holder (Learning Support)", first("learning_support")),
            ("Head of year", first("head_of_year")),
            ("Teacher", max(teachers, key=lambda m: taught[id(m)], default=None)),
            ("Teaching assistant", first("ta")),
        )
        for role, member in candidates:
            if member is None:
                continue
            member.staff.slack_user_id = f"U0DEMO{len(self.demo_users) + 1:03d}"
            self.demo_users.append(DemoUser(role, member.full, member.staff.slack_user_id))

    # -- plans --

    def _make_plans(self, writer: _PlanWriter) -> tuple[list[Plan], list[Review]]:
        rng = self.rng("plans")
        self._plan_statuses(rng, [c for c in self.children if c.has_plan])
        self._plan_dates(rng)
        self._delegate(rng)
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

    def _plan_statuses(self, rng: random.Random, planned: list[_Child]) -> None:
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
        self.specs = [_PlanSpec(c, status) for c, status in zip(order, statuses, strict=True)]
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
            area = _area_of(pupil.primary_need)
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
            spec.primary_area = _area_of(spec.child.pupil.primary_need)
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

    def _closed_predecessor(self, rng: random.Random, spec: _PlanSpec) -> _PlanSpec:
        # The open plan began one cycle before its current one; the closed plan ended there.
        began = spec.start - CYCLE
        holders = [m for m in self.members if m.staff.is_active and m.caseload]
        return _PlanSpec(
            child=spec.child,
            status=PlanStatus.CLOSED,
            cycle=spec.cycle - 2,
            start=began - CYCLE,
            review=began,
            holder=spec.holder if rng.random() < 0.6 else rng.choice(holders),
            primary_area=spec.primary_area,
        )


class _PlanWriter:
    """Writes one plan's content from the template lists, in the voice schools use."""

    def __init__(self, demo: _DemoSchool, rng: random.Random) -> None:
        self.demo = demo
        self.rng = rng
        self.today = demo.today
        self.sendco = demo.sendco
        self.heads = {m.year_group: m for m in demo.members if m.kind == "head_of_year"}
        self.classmates: dict[str, list[_Child]] = {}
        for child in demo.children:
            self.classmates.setdefault(child.pupil.form, []).append(child)
        self.elsas = [m for m in demo.tas if m.is_elsa] or demo.tas
        # Reports wait for their plan's and involvement's ids: (plan, involvement, report).
        self.reports: list[tuple[Plan, AgencyInvolvement, AgencyReport]] = []

    def write(self, spec: _PlanSpec) -> tuple[Plan, list[Review]]:
        rng, demo = self.rng, self.demo
        child, pupil = spec.child, spec.child.pupil
        codes = [pupil.primary_need] + ([pupil.secondary_need] if pupil.secondary_need else [])
        keys = list(dict.fromkeys(CONTENT_KEYS[code] for code in codes))
        ta = rng.choice(demo.tas)
        holder = spec.holder or spec.former_holder
        key_adult = holder if holder and holder.kind in ("learning_support", "sendco") else ta
        fill = {
            "name": child.name,
            "year": pupil.year_group,
            "ta": ta.formal,
            "elsa": rng.choice(self.elsas).formal,
            "key_adult": key_adult.formal,
        }
        family = self._family(child)
        parent_relation = family[0][1]

        if spec.status in (PlanStatus.DRAFT, PlanStatus.AWAITING_QA):
            created = self.today - timedelta(days=rng.randint(5, 25))
        else:
            cycles_before = spec.cycle - spec.first_cycle
            created = spec.start - cycles_before * CYCLE - timedelta(days=rng.randint(3, 10))
        plan = Plan(
            school_id=demo.school.id,
            pupil=pupil,
            cycle_number=spec.cycle,
            status=spec.status,
            start_date=spec.start,
            review_date=spec.review,
            case_holder=spec.holder.staff if spec.holder else None,
            created_at=demo.at(created, 10),
        )
        if spec.status in (PlanStatus.ACTIVE, PlanStatus.IN_REVIEW, PlanStatus.CLOSED):
            plan.approved_at = demo.at(min(spec.start, self.today), 15, 30)
            plan.approved_by_id = self.sendco.staff.id
        if spec.status == PlanStatus.CLOSED:
            plan.closed_at = demo.at(spec.review, 16)

        plan.voice = self._voice(child, keys, fill, family)
        plan.circle_of_support = self._circle(child, family, key_adult)
        plan.needs = self._needs(child, codes)
        plan.adjustments = self._adjustments(pupil, keys, fill)
        outcomes = self._outcomes(pupil, keys, fill)
        plan.outcomes = [outcome for _, outcome in outcomes]

        targets, templates = self._targets(
            keys, outcomes, fill, spec.cycle, spec.start, spec.review, 0
        )
        previous: list[PlanTarget] = []
        reviews_previous = spec.cycle >= 2 and spec.status != PlanStatus.CLOSED
        if reviews_previous:
            previous, _ = self._targets(
                keys,
                outcomes,
                fill,
                spec.cycle - 1,
                spec.start - CYCLE,
                spec.start,
                len(targets),
                avoid=frozenset(templates),
            )
        plan.targets = targets + previous
        plan.provisions = self._provisions(targets, templates, fill, spec.start, spec.review)

        agencies = self._agencies(spec, keys, fill)
        plan.agencies = [involvement for involvement, _ in agencies]
        self.reports += [(plan, inv, report) for inv, report in agencies if report is not None]
        plan.linked_plans = self._linked_plans(pupil, keys)
        plan.people = self._people(child, holder, ta, family[0], agencies)
        plan.consents = [self._consent(spec, family[0], fill)]
        plan.assignments = self._assignments(spec)

        reviews: list[Review] = []
        if spec.status == PlanStatus.CLOSED:
            reviews.append(
                self._review(
                    plan, spec.cycle, targets, spec.review, holder, fill, family[0], ta, final=True
                )
            )
        elif reviews_previous:
            author = spec.former_holder if spec.unassigned == "left" else holder
            reviews.append(
                self._review(
                    plan,
                    spec.cycle - 1,
                    previous,
                    spec.start,
                    author,
                    fill,
                    family[0],
                    ta,
                    carried={target.description for target in targets},
                )
            )
        if spec.status == PlanStatus.IN_REVIEW:
            reviews.append(self._draft_review(plan, spec, targets, holder, fill))

        plan.timeline = self._timeline(spec, holder, fill, parent_relation, plan.assignments)
        plan.updated_at = max([e.occurred_at for e in plan.timeline] + [plan.created_at])
        plan.updated_by_id = holder.staff.id if holder and holder.staff.is_active else None
        return plan, reviews

    # -- sections of the plan --

    def _family(self, child: _Child) -> list[tuple[str, str]]:
        """The people at home, closest first, as (full name, relationship)."""
        rng, pupil, heritage = self.rng, child.pupil, child.heritage
        if pupil.child_in_care:
            relations: tuple[str, ...] = ("Foster carer", "Foster carer")
        else:
            relations = rng.choices([f for f, _ in FAMILIES], weights=[w for _, w in FAMILIES])[0]
        people = []
        for relation in relations:
            if relation in CHILD_RELATIONS:
                first = rng.choice(heritage.children)
            elif relation in MALE_RELATIONS:
                first = rng.choice(heritage.men)
            else:
                first = rng.choice(heritage.women)
            same_surname = relation not in ("Stepdad", "Foster carer", "Dad's partner")
            surname = pupil.last_name if same_surname else rng.choice(heritage.surnames)
            people.append((f"{first} {surname}", relation))
        return people

    def _voice(self, child: _Child, keys: list[str], fill: dict, family) -> PlanVoice:
        rng, pupil = self.rng, child.pupil
        content = CONTENT[keys[0]]
        if pupil.child_in_care:
            household = "foster carers"
        else:
            household = _join(
                r if r in ("Mum", "Dad", "Nan", "Grandad") else r.lower() for _, r in family
            )
        about = f"{{name}} is in Year {pupil.year_group} and lives with {household}. "
        about += rng.choice(ABOUT_ME)
        if pupil.young_carer:
            about += " {name} is a young carer and helps to look after someone at home."
        if pupil.eal:
            about += f" {{name}} speaks {rng.choice(child.heritage.languages)} at home as well "
            about += "as English."
        concerns = rng.choice(FAMILY_CONCERNS) if rng.random() < 0.6 else None
        return PlanVoice(
            aspirations=_fill(rng.choice(ASPIRATIONS), fill),
            important_to_me=_fill(rng.choice(IMPORTANT_TO_ME), fill),
            strengths_and_likes=_fill(rng.choice(STRENGTHS), fill),
            difficulties=_fill(rng.choice(content.difficulties), fill),
            how_to_support_me=_fill(rng.choice(content.support), fill),
            good_day=_fill(rng.choice(GOOD_DAYS), fill),
            bad_day=_fill(rng.choice(BAD_DAYS), fill),
            better_days=_fill(rng.choice(BETTER_DAYS), fill),
            about_me=_fill(about, fill),
            family_hopes=_fill(rng.choice(FAMILY_HOPES), fill),
            family_concerns=_fill(concerns, fill) if concerns else None,
            professional_concerns=_fill(rng.choice(content.concerns), fill),
        )

    def _circle(self, child: _Child, family, key_adult: _Member) -> list[CircleMember]:
        rng = self.rng
        members = [(name, relation, 1) for name, relation in family[:2]]
        classmates = [c for c in self.classmates[child.pupil.form] if c is not child]
        if classmates and rng.random() < 0.8:
            members.append((rng.choice(classmates).name, "Friend", 2))
        members.append((key_adult.formal, "Key adult at school", 3))
        if child.pupil.child_in_care:
            worker = f"{rng.choice(HERITAGES[0].women)} {rng.choice(HERITAGES[0].surnames)}"
            members.append((worker, "Social worker", 4))
        elif rng.random() < 0.4:
            members.append(rng.choice(COMMUNITY_CIRCLE))
        return [
            CircleMember(name=name, relationship_to_cyp=relation, ring=ring, position=i)
            for i, (name, relation, ring) in enumerate(members[:5])
        ]

    def _needs(self, child: _Child, codes: list[NeedCode]) -> list[PlanNeed]:
        rng, pupil = self.rng, child.pupil
        fill = {"name": child.name}
        needs = []
        for i, code in enumerate(codes):
            if i == 0 and pupil.sen_stage == SenStage.EHC_PLAN:
                source = NeedSource.EHCP
            else:
                source = rng.choice(NEED_SOURCES)
            needs.append(
                PlanNeed(
                    broad_area=_area_of(code),
                    census_code=code,
                    description=_fill(rng.choice(NEED_DESCRIPTIONS[code]), fill),
                    source=source,
                    is_primary=i == 0,
                    position=i,
                )
            )
        if rng.random() < 0.4:
            covered = {need.broad_area for need in needs}
            area, text = rng.choice([n for n in EXTRA_NEEDS if n[0] not in covered])
            needs.append(
                PlanNeed(
                    broad_area=area,
                    census_code=None,
                    description=_fill(text, fill),
                    source=NeedSource.OBSERVATION,
                    is_primary=False,
                    position=len(needs),
                )
            )
        return needs

    def _adjustments(self, pupil: Pupil, keys: list[str], fill: dict) -> list[PlanAdjustment]:
        rng = self.rng
        total = rng.randint(2, 4)
        # Exam access arrangements matter most as GCSEs approach.
        chance = {11: 0.9, 10: 0.8, 9: 0.5}.get(pupil.year_group, 0.2)
        if pupil.sen_stage == SenStage.EHC_PLAN:
            chance = max(chance, 0.7)
        n_access = (2 if total == 4 and rng.random() < 0.3 else 1) if rng.random() < chance else 0
        in_class = list(dict.fromkeys(a for key in keys for a in CONTENT[key].adjustments))
        access = list(dict.fromkeys(a for key in keys for a in CONTENT[key].access))
        rows = [(AdjustmentKind.IN_CLASS, t) for t in rng.sample(in_class, total - n_access)]
        rows += [(AdjustmentKind.ACCESS_ARRANGEMENT, t) for t in rng.sample(access, n_access)]
        return [
            PlanAdjustment(kind=kind, description=_fill(text, fill), position=i)
            for i, (kind, text) in enumerate(rows)
        ]

    def _outcomes(self, pupil: Pupil, keys: list[str], fill: dict) -> list[tuple[str, PlanOutcome]]:
        rng = self.rng
        count = 2 if len(keys) > 1 or rng.random() < 0.5 else 1
        outcomes: list[tuple[str, PlanOutcome]] = []
        used: set[str] = set()
        for i, key in enumerate((keys * 2)[:count]):
            text = rng.choice([o for o in CONTENT[key].outcomes if o not in used])
            used.add(text)
            outcome = PlanOutcome(
                description=_fill(text, fill),
                timescale=rng.choice(_timescales(pupil.year_group, self.demo.academic_year)),
                from_ehcp=pupil.sen_stage == SenStage.EHC_PLAN,
                position=i,
            )
            outcomes.append((key, outcome))
        return outcomes

    def _targets(self, keys, outcomes, fill, cycle, start, end, first_position, avoid=()):
        """2–4 SMART targets, mostly for the primary need, each towards one of the outcomes.

        Targets in `avoid` (another cycle's) are only used again when nothing else is left.
        """
        rng = self.rng
        count = rng.randint(2, 4)
        target_keys = [keys[0]] * count
        if len(keys) > 1:
            target_keys[-1] = keys[1]
        used: set[_TargetTemplate] = set()
        targets: list[PlanTarget] = []
        templates: list[_TargetTemplate] = []
        for i, key in enumerate(target_keys):
            fresh = [t for t in CONTENT[key].targets if t not in used]
            options = [t for t in fresh if t not in avoid] or fresh or list(CONTENT[key].targets)
            template = rng.choice(options)
            used.add(template)
            towards = [o for k, o in outcomes if k == key] or [o for _, o in outcomes]
            targets.append(
                PlanTarget(
                    outcome=towards[i % len(towards)],
                    description=_fill(template.description, fill),
                    measure=_fill(template.measure, fill),
                    baseline=_fill(template.baseline, fill),
                    success_criteria=_fill(template.success, fill),
                    start_date=start,
                    end_date=end,
                    status=TargetStatus.OPEN,
                    cycle_number=cycle,
                    position=first_position + i,
                )
            )
            templates.append(template)
        return targets, templates

    def _provisions(self, targets, templates, fill, start, end) -> list[PlanProvision]:
        rng = self.rng
        used: set[str] = set()
        provisions = []
        for target, template in zip(targets, templates, strict=True):
            options = [key for key in template.provisions if key not in used]
            if not options:
                continue
            key = rng.choice(options)
            used.add(key)
            what, who, how, how_often, how_long = PROVISIONS[key]
            provisions.append(
                PlanProvision(
                    target=target,
                    what=_fill(what, fill),
                    who=_fill(who, fill),
                    how=_fill(how, fill),
                    how_often=how_often,
                    how_long=how_long,
                    start_date=start,
                    end_date=end,
                    position=len(provisions),
                )
            )
        return provisions

    def _agencies(self, spec: _PlanSpec, keys: list[str], fill: dict):
        rng, pupil = self.rng, spec.child.pupil
        options = list(dict.fromkeys(a for key in keys for a in CONTENT[key].agencies))
        if pupil.sen_stage == SenStage.EHC_PLAN:
            chosen = rng.sample(options, min(len(options), rng.choice((1, 2))))
            if "ep" not in chosen:
                chosen.append("ep")  # EP advice is part of every EHC needs assessment
        elif keys[0] in SENSORY_KEYS or rng.random() < 0.4:
            chosen = [options[0] if keys[0] in SENSORY_KEYS else rng.choice(options)]
        else:
            chosen = []
        found = []
        for key in chosen:
            agency, role, involvement, title, recommendations = AGENCIES[key]
            heritage = _pick_heritage(rng, staff=True)
            person = f"{rng.choice(heritage.women + heritage.men)} {rng.choice(heritage.surnames)}"
            started = min(spec.start, self.today) - timedelta(days=rng.randint(60, 700))
            row = AgencyInvolvement(
                agency=agency,
                contact=f"{person}, {role}",
                involvement=_fill(involvement, fill),
                started_on=started,
            )
            report = None
            if title:
                report = AgencyReport(
                    title=title,
                    author=f"{person}, {role}",
                    report_date=started + timedelta(days=rng.randint(14, 50)),
                    recommendations=_fill(recommendations, fill),
                    location="SEND records system: pupil file, Reports folder",
                )
            found.append((row, report))
        return found

    def _linked_plans(self, pupil: Pupil, keys: list[str]) -> list[LinkedPlan]:
        rng = self.rng
        links = []
        if pupil.sen_stage == SenStage.EHC_PLAN:
            links.append(LINKED_PLANS[LinkedPlanKind.EHC_PLAN])
        if pupil.medical_need:
            links.append(LINKED_PLANS[LinkedPlanKind.HEALTH_CARE])
        if pupil.child_in_care:
            links.append(LINKED_PLANS[LinkedPlanKind.PERSONAL_EDUCATION])
        if pupil.young_carer:
            links.append(LINKED_PLANS[LinkedPlanKind.EARLY_HELP])
        if "semh" in keys and rng.random() < 0.25:
            links.append(LINKED_PLANS[LinkedPlanKind.BEHAVIOUR_SUPPORT])
        if "pd" in keys:
            links.append(LINKED_PLANS[LinkedPlanKind.RISK_ASSESSMENT])
            if rng.random() < 0.3:
                links.append(LINKED_PLANS[LinkedPlanKind.INTIMATE_CARE])
        return [
            LinkedPlan(kind=kind, description=description, location=location)
            for kind, description, location in links
        ]

    def _people(self, child, holder, ta, parent, agencies) -> list[PlanPerson]:
        rng = self.rng
        parent_name, parent_relation = parent
        people: list[tuple[PlanPersonRole, str, str, Staff | None]] = []
        if holder and holder.staff.is_active:
            people.append((PlanPersonRole.DELIVERS, holder.full, "Case holder", holder.staff))
        people.append((PlanPersonRole.DELIVERS, ta.full, "Teaching assistant", ta.staff))
        teachers = list(
            dict.fromkeys((entry.teachers[0], entry.group.subject) for entry in child.groups)
        )
        for teacher, subject in rng.sample(teachers, min(2, len(teachers))):
            people.append(
                (PlanPersonRole.DELIVERS, teacher.full, f"{subject} teacher", teacher.staff)
            )
        people.append((PlanPersonRole.CONTRIBUTED, child.name, "Young person", None))
        people.append((PlanPersonRole.CONTRIBUTED, parent_name, parent_relation, None))
        for involvement, _ in agencies[:1]:
            contact = involvement.contact.split(",")[0]
            people.append((PlanPersonRole.CONTRIBUTED, contact, involvement.agency, None))
        people.append((PlanPersonRole.SENT_TO, parent_name, parent_relation, None))
        people.append(
            (PlanPersonRole.SENT_TO, f"All staff who teach {child.name}", "Teachers", None)
        )
        head = self.heads.get(child.pupil.year_group)
        if head:
            role = f"Head of Year {child.pupil.year_group}"
            people.append((PlanPersonRole.SENT_TO, head.full, role, head.staff))
        return [
            PlanPerson(
                role=role,
                name=name,
                relationship_to_cyp=relation,
                staff_id=staff.id if staff else None,
            )
            for role, name, relation, staff in people
        ]

    def _consent(self, spec: _PlanSpec, parent, fill: dict) -> SharingConsent:
        rng = self.rng
        given_on = min(spec.start, self.today) - timedelta(days=rng.randint(1, 14))
        if spec.child.pupil.child_in_care:
            given_by = f"{rng.choice(HERITAGES[0].women)} {rng.choice(HERITAGES[0].surnames)}"
            relation = "Social worker (for the local authority)"
        else:
            given_by, relation = parent
        return SharingConsent(
            given_by=given_by,
            relationship_to_cyp=relation,
            scope=_fill(rng.choice(CONSENT_SCOPES), fill),
            storage_notes="Kept in the school's SEND records system; paper copies are shredded "
            "after the meeting.",
            given_on=given_on,
        )

    def _assignments(self, spec: _PlanSpec) -> list[CaseHolderAssignment]:
        demo, rng, today = self.demo, self.rng, self.today
        sendco = self.sendco.staff
        rows = []
        cycles_before = spec.cycle - spec.first_cycle
        delegated = spec.start - cycles_before * CYCLE - timedelta(days=rng.randint(5, 12))
        delegated = min(delegated, today - timedelta(days=2))
        if spec.former_holder is not None:
            if spec.unassigned == "left":
                ended, why = spec.former_holder.staff.left_on, "Case holder left the school"
            else:
                ended = min(spec.start, today) - timedelta(days=rng.randint(3, 20))
                why = "Caseloads rebalanced at the start of term"
            delegated = min(delegated, ended - timedelta(days=30))
            rows.append(
                CaseHolderAssignment(
                    staff=spec.former_holder.staff,
                    assigned_by=sendco,
                    reason=rng.choice(DELEGATION_REASONS),
                    status=AssignmentStatus.ENDED,
                    created_at=demo.at(delegated, 10),
                    responded_at=demo.at(delegated + timedelta(days=1), 12),
                    ended_at=demo.at(ended, 16),
                    response_reason=why,
                )
            )
            delegated = ended
        if spec.holder is not None:
            responded = min(delegated + timedelta(days=rng.randint(0, 3)), today)
            reason = (
                "EHC plan with complex needs: kept by the SENDCo"
                if spec.holder is self.sendco
                else rng.choice(DELEGATION_REASONS)
            )
            rows.append(
                CaseHolderAssignment(
                    staff=spec.holder.staff,
                    assigned_by=sendco,
                    reason=reason,
                    status=AssignmentStatus.ACCEPTED,
                    created_at=demo.at(delegated, 10, 30),
                    responded_at=demo.at(responded, 13),
                )
            )
        elif spec.unassigned in ("pending", "declined"):
            holders = [m for m in demo.members if m.caseload and m is not self.sendco]
            asked = rng.choice(holders)
            offered = today - timedelta(days=rng.randint(1, 4))
            declined = spec.unassigned == "declined"
            rows.append(
                CaseHolderAssignment(
                    staff=asked.staff,
                    assigned_by=sendco,
                    reason=rng.choice(DELEGATION_REASONS),
                    status=AssignmentStatus.DECLINED if declined else AssignmentStatus.PENDING,
                    created_at=demo.at(offered, 10),
                    responded_at=demo.at(offered + timedelta(days=1), 11) if declined else None,
                    response_reason=rng.choice(DECLINE_REASONS) if declined else None,
                )
            )
        return rows

    def _review(
        self, plan, cycle, targets, meeting, author, fill, parent, ta, final=False, carried=()
    ):
        """The submitted (usually approved) review of one finished cycle, target by target.

        `carried` holds the descriptions of targets set again for the next cycle.
        """
        rng, demo = self.rng, self.demo
        parent_name, parent_relation = parent
        author = author or self.sendco
        submitted = meeting + timedelta(days=1)
        approved = final or rng.random() < 0.8
        results = []
        for target in targets:
            result = rng.choices(tuple(TARGET_STATUS_FOR), weights=(40, 40, 20))[0]
            if target.description in carried:
                # Set again for the next cycle, so it cannot have been achieved.
                result = rng.choice((TargetResult.PARTLY, TargetResult.NOT_YET))
            target.status = TARGET_STATUS_FOR[result]
            evidence = _fill(rng.choice(EVIDENCE[result]), fill)
            results.append(ReviewTargetResult(target=target, result=result, evidence=evidence))
        last_change = submitted + timedelta(days=2) if approved else submitted
        return Review(
            plan=plan,
            cycle_number=cycle,
            status=ReviewStatus.APPROVED if approved else ReviewStatus.SUBMITTED,
            meeting_date=meeting,
            what_is_working=_fill(rng.choice(REVIEW_WORKING), fill),
            what_is_not_working=_fill(rng.choice(REVIEW_NOT_WORKING), fill),
            what_needs_to_change=_fill(rng.choice(REVIEW_CHANGES), fill),
            next_steps=_fill(rng.choice(FINAL_NEXT_STEPS if final else REVIEW_NEXT_STEPS), fill),
            recommendations=_fill(rng.choice(REVIEW_RECOMMENDATIONS), fill),
            cyp_views=_fill(rng.choice(CYP_VIEWS), fill),
            family_views=_fill(rng.choice(FAMILY_VIEWS), {**fill, "parent": parent_relation}),
            attendees=f"{fill['name']}; {parent_name} ({parent_relation}); "
            f"{author.full} (case holder); {ta.full} (teaching assistant)",
            author=author.staff,
            submitted_at=demo.at(submitted, 15, 30),
            approved_at=demo.at(submitted + timedelta(days=2), 9, 15) if approved else None,
            approved_by=self.sendco.staff if approved else None,
            created_at=demo.at(meeting, 9),
            updated_at=demo.at(last_change, 9, 15),
            target_results=results,
        )

    def _draft_review(self, plan, spec, targets, holder, fill) -> Review:
        """The review under way for a plan in review: started, results not yet recorded."""
        started = min(spec.review, self.today) - timedelta(days=self.rng.randint(1, 5))
        return Review(
            plan=plan,
            cycle_number=spec.cycle,
            status=ReviewStatus.DRAFT,
            meeting_date=spec.review,
            what_is_working=_fill(self.rng.choice(REVIEW_WORKING), fill),
            author=holder.staff if holder else None,
            created_at=self.demo.at(started, 14),
            updated_at=self.demo.at(started, 14),
            target_results=[ReviewTargetResult(target=target, result=None) for target in targets],
        )

    def _timeline(self, spec, holder, fill, parent_relation, assignments) -> list[TimelineEntry]:
        """Meetings, calls and delegations so far, oldest first; nothing after today."""
        rng, today, sendco = self.rng, self.today, self.sendco
        author = holder or sendco
        entries: list[tuple[date, int, TimelineKind, str, _Member]] = []

        def add(day: date, hour: int, kind: TimelineKind, summary: str, who=author) -> None:
            entries.append((day, hour, kind, summary, who))

        for row in assignments:
            who = f"{row.staff.title} {row.staff.last_name}"
            offered = row.created_at.date()
            add(offered, 10, TimelineKind.ASSIGNMENT, f"Plan offered to {who}.", sendco)
            if row.status == AssignmentStatus.PENDING:
                continue
            answered = row.responded_at.date()
            if row.status == AssignmentStatus.DECLINED:
                what = f"{who} declined: {row.response_reason}"
                add(answered, 11, TimelineKind.ASSIGNMENT, what, sendco)
                continue
            what = f"{who} accepted the plan as case holder."
            add(answered, 13, TimelineKind.ASSIGNMENT, what, sendco)
            if row.status == AssignmentStatus.ENDED:
                if spec.unassigned == "left":
                    what = f"{who} left the school; the plan needs a new case holder."
                else:
                    what = f"{who} handed the plan on: {row.response_reason.lower()}."
                add(row.ended_at.date(), 16, TimelineKind.ASSIGNMENT, what, sendco)

        if spec.status in (PlanStatus.DRAFT, PlanStatus.AWAITING_QA):
            started = today - timedelta(days=rng.randint(4, 12))
            what = "Draft plan started; {name}'s views gathered for the one-page profile."
            add(started, 11, TimelineKind.NOTE, what)
            what = (
                f"Phoned {parent_relation} to ask about {{name}}'s strengths and what the "
                "plan should achieve."
            )
            add(started + timedelta(days=2), 16, TimelineKind.PHONE_CALL, what)
            if spec.status == PlanStatus.AWAITING_QA:
                what = "Plan submitted to the SENDCo for quality assurance."
                add(today - timedelta(days=rng.randint(0, 2)), 15, TimelineKind.PLAN_CHANGE, what)
        else:
            meeting = spec.start - timedelta(days=rng.randint(0, 3))
            if spec.cycle > spec.first_cycle or spec.status == PlanStatus.CLOSED:
                what = (
                    f"Review meeting with {{name}} and {parent_relation}: targets reviewed and "
                    "the next cycle agreed."
                )
                add(meeting, 15, TimelineKind.REVIEW, what)
            else:
                what = (
                    f"Planning meeting with {{name}} and {parent_relation} to agree outcomes, "
                    "targets and support."
                )
                add(meeting, 15, TimelineKind.MEETING, what)
            what = "Emailed the plan's adjustments and strategies to all staff who teach {name}."
            add(spec.start + timedelta(days=rng.randint(1, 4)), 12, TimelineKind.EMAIL, what)
            if spec.child.groups:
                subject = rng.choice(spec.child.groups).group.subject
                what = f"Observed {{name}} in {subject}: {rng.choice(OBSERVATION_NOTES)}"
                add(spec.start + timedelta(days=rng.randint(14, 40)), 11, TimelineKind.NOTE, what)
            if rng.random() < 0.5:
                what = f"Call with {parent_relation}: {rng.choice(PHONE_NOTES)}"
                called = spec.start + timedelta(days=rng.randint(20, 60))
                add(called, 16, TimelineKind.PHONE_CALL, what)
            if spec.status == PlanStatus.IN_REVIEW:
                what = "Review started: teachers asked how the plan is working in their lessons."
                add(min(spec.review, today) - timedelta(days=1), 9, TimelineKind.NOTE, what)
            if spec.status == PlanStatus.CLOSED:
                what = "Plan closed; a new plan starts from this review."
                add(spec.review, 17, TimelineKind.PLAN_CHANGE, what)

        latest = spec.review if spec.status == PlanStatus.CLOSED else today
        rows = []
        for day, hour, kind, summary, who in sorted(entries, key=lambda e: (e[0], e[1])):
            if day > latest:
                continue
            if not who.active_on(day):
                who = sendco  # nothing is written by someone after they have left
            moment = self.demo.at(day, hour)
            rows.append(
                TimelineEntry(
                    occurred_at=moment,
                    kind=kind,
                    summary=_fill(summary, fill),
                    author=who.staff,
                    created_at=moment,
                )
            )
        return rows


# --- helpers --------------------------------------------------------------------------------


UPN_ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ"


def _upn(digits: str) -> str:
    """A UPN: the DfE check letter, then the 12 digits (LA, establishment, year, serial)."""
    total = sum(int(char) * weight for char, weight in zip(digits, range(2, 14), strict=True))
    return UPN_ALPHABET[total % 23] + digits


def _fill(template: str, values: dict) -> str:
    return template.format(**values)


def _join(words) -> str:
    """ "A", "A and B", "A, B and C"."""
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _area_of(code: NeedCode) -> BroadArea:
    return code.broad_area or FALLBACK_AREAS[code]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", _ascii(text)).strip("-")


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return folded.lower()


def _unique_email(first: str, last: str, domain: str, taken: set[str]) -> str:
    local = re.sub(r"[^a-z0-9.-]", "", f"{_ascii(first)}.{_ascii(last)}".replace(" ", "-"))
    email, n = f"{local}@{domain}", 1
    while email in taken:
        n += 1
        email = f"{local}{n}@{domain}"
    taken.add(email)
    return email


def _staff_code(first: str, last: str, taken: set[str]) -> str:
    f = re.sub(r"[^A-Z]", "", _ascii(first).upper()) or "X"
    s = re.sub(r"[^A-Z]", "", _ascii(last).upper()) or "X"
    candidates = [f[0] + s[:2], f[0] + s[0] + s[-1], f[:2] + s[0]]
    candidates += [f[0] + s[0] + c for c in s[1:]]
    candidates += [f"{f[0]}{s[0]}{n}" for n in range(1, 100)]
    for code in candidates:
        if len(code) == 3 and code not in taken:
            taken.add(code)
            return code
    raise AssertionError("ran out of staff codes")  # pragma: no cover - 100 per initials


def _forms(year: int, count: int) -> list[str]:
    """Tutor groups of about 30: "7A", "7B", …; very large years go on to "7A2", "7B2", …"""
    n = max(1, round(count / 30))
    letters = len(FORM_LETTERS)
    return [
        f"{year}{FORM_LETTERS[i % letters]}{i // letters + 1 if i >= letters else ''}"
        for i in range(n)
    ]


def _split(items: list[T], parts: int) -> list[list[T]]:
    size, extra = divmod(len(items), parts)
    chunks, start = [], 0
    for i in range(parts):
        end = start + size + (1 if i < extra else 0)
        chunks.append(items[start:end])
        start = end
    return chunks


def _apportion(
    weights: Sequence[tuple[T, float]], total: int, at_least_one: bool = False
) -> list[T]:
    """`total` items shared by weight (largest remainder), in the order given."""
    if at_least_one and total >= len(weights):
        base = [1] * len(weights)
        rest = total - len(weights)
    else:
        base = [0] * len(weights)
        rest = total
    whole = sum(w for _, w in weights)
    exact = [rest * w / whole for _, w in weights]
    counts = [b + int(x) for b, x in zip(base, exact, strict=True)]
    short = total - sum(counts)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - int(exact[i])), i))
    for i in order[:short]:
        counts[i] += 1
    return [item for (item, _), n in zip(weights, counts, strict=True) for _ in range(n)]


def _timescales(year: int, academic_year: int) -> list[str]:
    key_stage_end = 9 if year <= 9 else 11
    return [
        f"By the end of Year {year} (July {academic_year + 1})",
        f"By the end of Key Stage {3 if year <= 9 else 4} (July "
        f"{academic_year + 1 + key_stage_end - year})",
        "Within 12 months",
    ]


def _pick_heritage(rng: random.Random, *, staff: bool) -> _Heritage:
    weights = [h.staff_weight if staff else h.pupil_weight for h in HERITAGES]
    return rng.choices(HERITAGES, weights=weights)[0]


# --- the lists the demo draws from ----------------------------------------------------------
# Everything below is invented for the demo. First names and surnames are common ones, combined
# at random, so no combination is meant to describe anyone.


@dataclass(frozen=True)
class _Heritage:
    """Names that go together in a British school community, and how often EAL goes with them."""

    label: str
    pupil_weight: float
    staff_weight: float
    eal_rate: float
    languages: tuple[str, ...]
    children: tuple[str, ...]
    women: tuple[str, ...]
    men: tuple[str, ...]
    surnames: tuple[str, ...]


@dataclass(frozen=True)
class _TargetTemplate:
    description: str
    measure: str
    baseline: str
    success: str
    provisions: tuple[str, ...]


@dataclass(frozen=True)
class _Content:
    """Plan text for one kind of need."""

    outcomes: tuple[str, ...]
    targets: tuple[_TargetTemplate, ...]
    adjustments: tuple[str, ...]
    access: tuple[str, ...]
    difficulties: tuple[str, ...]
    support: tuple[str, ...]
    concerns: tuple[str, ...]
    agencies: tuple[str, ...]


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


HERITAGES: tuple[_Heritage, ...] = (
    _Heritage(
        label="british",
        pupil_weight=0.62,
        staff_weight=0.8,
        eal_rate=0.01,
        languages=("Welsh",),
        children=_names(
            "Oliver Amelia Jack Isla Harry Olivia Noah Ava Leo Mia Oscar Freya Arthur Lily George "
            "Sophie Theo Grace Alfie Evie Archie Ella Charlie Poppy Jacob Isabella Freddie Emily "
            "Henry Ruby Thomas Daisy Joshua Phoebe William Sienna Finley Millie Ethan Maisie "
            "Mason Hannah Riley Chloe Reuben Erin Rhys Cerys Callum Eilidh Niamh Cian Connor Orla "
            "Kyle Megan Dylan Jade Bethany Lewis Caitlin Ellis Toby Alexander Samuel Matthew "
            "Benjamin Elizabeth Abigail Katherine Jessica Daniel Nathaniel Frederick Theodore "
            "Zachary Lucas Harvey Imogen Scarlett Rosie Elsie Florence Jenson Logan Tilly Harriet "
            "Seren Ffion Iwan Morgan Alex Sam Jamie Ashton"
        ),
        women=_names(
            "Sarah Emma Rachel Claire Laura Helen Nicola Gemma Kate Rebecca Lucy Joanne Amy "
            "Victoria Hannah Siobhan Fiona Rhiannon Katie Louise Jennifer Alison Charlotte "
            "Natalie Stephanie Catherine Eleanor Zoe Ruth Megan Kerry Lisa"
        ),
        men=_names(
            "David James Mark Paul Andrew Richard Simon Stephen Daniel Michael Chris Gareth "
            "Jonathan Ben Matthew Ciaran Alistair Owain Tom Neil Adam Robert Craig Liam Peter Ian "
            "Stuart Sean Rory Lee"
        ),
        surnames=_names(
            "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson "
            "Evans Walker White Roberts Green Hall Wood Jackson Clarke Murphy Kelly O'Brien "
            "McCarthy O'Connor Doyle Byrne Campbell Stewart MacDonald Fraser Reid Morgan Hughes "
            "Price Lewis Jenkins Owen Griffiths Edwards Moore Harris Martin Cooper King Lee Baker "
            "Hill Turner Mitchell Phillips Parker Bennett Carter Collins Cook Morris Rogers Ward "
            "Bailey Bell Marshall Ellis Fletcher Hart Knight Lloyd Mason Palmer Pearce Shaw "
            "Simpson Webb Young Holmes Barnes Chapman Dixon Hunt Kennedy Lawrence Mills Powell "
            "Russell Watson Sutton Armstrong Gallagher Quinn Hamilton-Price Ashworth"
        ),
    ),
    _Heritage(
        label="south_asian_muslim",
        pupil_weight=0.08,
        staff_weight=0.04,
        eal_rate=0.55,
        languages=("Urdu", "Bengali", "Punjabi"),
        children=_names(
            "Muhammad Aisha Ibrahim Maryam Yusuf Fatima Ayaan Hafsa Hamza Amira Bilal Safiya Zain "
            "Inaya Rayyan Aleena Zakariya Eshal Musa Noor Idris Anaya Umar Zara Haroon Sumaya "
            "Adam Hana Ismail Mariam Abdullah Khadija Tahmid Nusrat Rahim Jannat"
        ),
        women=_names("Nadia Farah Yasmin Samina Rubina Shazia Saima Nasreen Ayesha Sadia"),
        men=_names("Imran Tariq Asif Faisal Khalid Shahid Nadeem Kamran Rizwan Sajid"),
        surnames=_names(
            "Khan Hussain Ali Ahmed Rahman Islam Uddin Miah Akhtar Iqbal Mahmood Qureshi "
            "Chowdhury Malik Hassan Rashid Aziz Butt"
        ),
    ),
    _Heritage(
        label="south_asian_indian",
        pupil_weight=0.06,
        staff_weight=0.05,
        eal_rate=0.45,
        languages=("Gujarati", "Punjabi", "Tamil", "Hindi"),
        children=_names(
            "Arjun Priya Rohan Anika Dev Simran Aarav Ishaan Diya Veer Jasleen Harleen Karan Riya "
            "Anvi Kabir Meera Sai Tara Navdeep Jaspreet Aryan Nikhil Shreya Vihaan Saanvi Krish "
            "Isha"
        ),
        women=_names("Anjali Sunita Pooja Kiran Manpreet Neha Rupinder Deepa Harjit Seema"),
        men=_names("Rajesh Sanjay Vikram Amit Harjinder Sunil Rakesh Jaswinder Arun Deepak"),
        surnames=_names(
            "Patel Singh Sharma Gill Sandhu Shah Mistry Gupta Kumar Dhillon Bains Chauhan Joshi "
            "Parmar Mehta Rai Sidhu Thakkar"
        ),
    ),
    _Heritage(
        label="black_african",
        pupil_weight=0.06,
        staff_weight=0.04,
        eal_rate=0.5,
        languages=("Yoruba", "Igbo", "Twi", "Somali"),
        children=_names(
            "Kofi Ama Chidi Adaeze Tobi Ife Precious Kwame Abena Emeka Chiamaka Oluwaseun Favour "
            "David Blessing Daniel Esther Samuel Divine Tolu Yaw Akosua Segun Zainab Nnamdi Amara "
            "Kemi Obinna Efua Jedidiah Deborah"
        ),
        women=_names("Funmi Grace Ngozi Abimbola Akua Nkechi Folake Adwoa Joy Comfort"),
        men=_names("Kwame Olu Chinedu Kofi Emmanuel Babatunde Femi Kwabena Uche Tunde"),
        surnames=_names(
            "Okafor Adeyemi Mensah Osei Okoro Balogun Asante Boateng Adebayo Owusu Nwosu Obi Eze "
            "Appiah Danso Bello Afolabi Agyeman Ogunleye"
        ),
    ),
    _Heritage(
        label="black_caribbean",
        pupil_weight=0.04,
        staff_weight=0.03,
        eal_rate=0.0,
        languages=("Jamaican Patois",),
        children=_names(
            "Malachi Tiana Josiah Kiara Marcus Keira Jayden Nia Tyler Aaliyah Isaiah Kai Imani "
            "Elijah Naomi Leon Jada Reggie Amani Tyrese Destiny Micah Zion"
        ),
        women=_names("Marcia Sonia Donna Michelle Paulette Janelle Andrea Beverley"),
        men=_names("Delroy Leon Trevor Winston Andre Clive Marlon Dwayne"),
        surnames=_names(
            "Campbell Brown Francis Grant Clarke Henry Thomas Richards Williams Gordon Reid "
            "Morgan Edwards Bailey Stewart Samuels Powell Lewis James Anderson"
        ),
    ),
    _Heritage(
        label="eastern_european",
        pupil_weight=0.07,
        staff_weight=0.02,
        eal_rate=0.85,
        languages=("Polish", "Romanian", "Lithuanian", "Slovak"),
        children=_names(
            "Jakub Zuzanna Kacper Lena Mateusz Oliwia Szymon Maja Filip Julia Antoni Hanna Andrei "
            "Ioana Maria Alexandru Elena Stefan Bianca Lukas Emilija Matas Dominik Natalia Milan "
            "Viktoria Tomas Karolina Nikola Daria"
        ),
        women=_names("Marta Agnieszka Katarzyna Monika Ana Elena Ruta Ewa"),
        men=_names("Piotr Tomasz Marek Adrian Bogdan Mihai Darius Pawel"),
        surnames=_names(
            "Nowak Wójcik Kowalczyk Mazur Krawczyk Zając Król Wieczorek Dudek Kaczmarek Pawlak "
            "Michalak Sikora Baran Popescu Ionescu Popa Dumitru Stan Munteanu Constantin"
        ),
    ),
    _Heritage(
        label="east_asian",
        pupil_weight=0.02,
        staff_weight=0.01,
        eal_rate=0.6,
        languages=("Mandarin", "Cantonese", "Vietnamese"),
        children=_names(
            "Wei Mei Jun Yu Hao Xin Ethan Chloe Ryan Grace Minh Linh Anh Bao Jia Kai Hana Yuki"
        ),
        women=_names("Mei Ling Hui Yan Thuy"),
        men=_names("Wei Jian Ming Hoang Tuan"),
        surnames=_names("Chen Wong Li Zhang Nguyen Tran Liu Wang Lam Huang Le Pham Yang Ho"),
    ),
    _Heritage(
        label="turkish_kurdish_arab",
        pupil_weight=0.03,
        staff_weight=0.01,
        eal_rate=0.7,
        languages=("Turkish", "Kurdish", "Arabic"),
        children=_names(
            "Elif Emre Yusuf Zeynep Mehmet Ayla Deniz Kerem Lina Omar Sara Karim Layla Rami Nour "
            "Ali Jana Ahmad Hiba Sami"
        ),
        women=_names("Ayse Leyla Rania Dilan Huda"),
        men=_names("Mustafa Hasan Ahmed Serkan Yasin"),
        surnames=_names(
            "Yilmaz Demir Kaya Sahin Celik Ozturk Aydin Arslan Haddad Mansour Saleh Abdullah "
            "Hamid Ibrahim Karim"
        ),
    ),
    _Heritage(
        label="southern_european_latin",
        pupil_weight=0.02,
        staff_weight=0.01,
        eal_rate=0.6,
        languages=("Portuguese", "Spanish", "Italian"),
        children=_names(
            "Luca Sofia Mateo Giulia Tomás Inês Diego Lucía Gabriel Beatriz Rafael Chiara "
            "Leonardo Marta Santiago Valentina"
        ),
        women=_names("Ana Francesca Carmen Rita Lucia"),
        men=_names("Marco Luis João Javier Paolo"),
        surnames=_names(
            "Rossi Silva Santos Ferreira Costa Garcia Fernandes Romano Martinez Lopez Oliveira "
            "Pereira Esposito Russo"
        ),
    ),
)

PREFERRED_NAMES = {
    "Alexander": "Alex",
    "Samuel": "Sam",
    "Thomas": "Tom",
    "William": "Will",
    "Joshua": "Josh",
    "Nathaniel": "Nate",
    "Isabella": "Bella",
    "Elizabeth": "Lizzie",
    "Abigail": "Abi",
    "Matthew": "Matt",
    "Benjamin": "Ben",
    "Katherine": "Katie",
    "Jessica": "Jess",
    "Daniel": "Danny",
    "Frederick": "Freddie",
    "Theodore": "Theo",
    "Zachary": "Zach",
    "Muhammad": "Mo",
    "Oluwaseun": "Seun",
    "Adaeze": "Ada",
    "Zuzanna": "Zuzia",
    "Alexandru": "Alex",
    "Abdullah": "Abdul",
    "Zakariya": "Zak",
    "Gabriel": "Gabe",
    "Santiago": "Santi",
    "Leonardo": "Leo",
    "Jedidiah": "Jed",
    "Harriet": "Hattie",
    "Florence": "Flo",
    "Valentina": "Tina",
    "Ishaan": "Ish",
}

FORM_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
HOUSES = ("Brunel", "Fry", "Seacole", "Turing")

# Teaching departments and their share of the teachers.
TEACHING_DEPARTMENTS: tuple[tuple[str, float], ...] = (
    ("English", 12),
    ("Maths", 12),
    ("Science", 13),
    ("Humanities", 11),
    ("Languages", 7),
    ("Arts", 8),
    ("PE", 7),
    ("Computing", 4),
    ("Technology", 6),
)
# A teacher who is also a case holder usually takes the plans closest to their subject.
TEACHER_HOLDER_AREAS = {
    "English": BroadArea.COMMUNICATION_AND_INTERACTION,
    "Maths": BroadArea.COGNITION_AND_LEARNING,
    "Science": BroadArea.COGNITION_AND_LEARNING,
    "Humanities": BroadArea.COGNITION_AND_LEARNING,
    "Languages": BroadArea.COMMUNICATION_AND_INTERACTION,
    "PE": BroadArea.SENSORY_AND_PHYSICAL,
}
# Learning Support case holders' specialisms; the first is the assistant SENDCo.
LEARNING_SUPPORT_AREAS: tuple[tuple[BroadArea, ...], ...] = (
    (BroadArea.COGNITION_AND_LEARNING, BroadArea.SENSORY_AND_PHYSICAL),
    (BroadArea.SEMH,),
    (BroadArea.COMMUNICATION_AND_INTERACTION,),
    (BroadArea.COGNITION_AND_LEARNING,),
    (BroadArea.SEMH, BroadArea.COMMUNICATION_AND_INTERACTION),
)

SET_SUBJECTS = (("English", "En"), ("Maths", "Ma"), ("Science", "Sc"))
KS3_FORM_SUBJECTS = (
    ("History", "Hi"),
    ("Geography", "Gg"),
    ("Languages", "MFL"),
    ("Art", "Ar"),
    ("PE", "PE"),
    ("Computing", "Co"),
    ("Design and Technology", "Dt"),
)
# GCSE options: (subject, code, share of the year taking it). Shares add up to 4 choices.
OPTION_SUBJECTS = (
    ("Geography", "Gg", 0.45),
    ("History", "Hi", 0.45),
    ("French", "Fr", 0.3),
    ("Spanish", "Sp", 0.2),
    ("Art and Design", "Ar", 0.3),
    ("Music", "Mu", 0.1),
    ("Drama", "Dr", 0.15),
    ("Computer Science", "Cs", 0.3),
    ("Design and Technology", "Dt", 0.25),
    ("Food Preparation and Nutrition", "Fd", 0.3),
    ("Business", "Bs", 0.35),
    ("Religious Studies", "Rs", 0.3),
    ("Physical Education (GCSE)", "Pe", 0.3),
    ("Sociology", "So", 0.25),
)
SUBJECT_DEPARTMENTS = {
    "English": "English",
    "Maths": "Maths",
    "Science": "Science",
    "History": "Humanities",
    "Geography": "Humanities",
    "Religious Studies": "Humanities",
    "Business": "Humanities",
    "Sociology": "Humanities",
    "French": "Languages",
    "Spanish": "Languages",
    "Art": "Arts",
    "Art and Design": "Arts",
    "Music": "Arts",
    "Drama": "Arts",
    "PE": "PE",
    "Physical Education (GCSE)": "PE",
    "Computing": "Computing",
    "Computer Science": "Computing",
    "Design and Technology": "Technology",
    "Food Preparation and Nutrition": "Technology",
}

# Primary need by SEN stage, roughly as the school census reports them for secondary schools.
EHCP_NEEDS: tuple[tuple[NeedCode, float], ...] = (
    (NeedCode.ASD, 38),
    (NeedCode.SEMH, 16),
    (NeedCode.SLCN, 12),
    (NeedCode.MLD, 9),
    (NeedCode.PD, 6),
    (NeedCode.SPLD, 5),
    (NeedCode.HI, 4),
    (NeedCode.OTH, 4),
    (NeedCode.SLD, 3),
    (NeedCode.VI, 2),
    (NeedCode.MSI, 1),
)
SUPPORT_NEEDS: tuple[tuple[NeedCode, float], ...] = (
    (NeedCode.SEMH, 23),
    (NeedCode.SPLD, 21),
    (NeedCode.MLD, 15),
    (NeedCode.SLCN, 14),
    (NeedCode.ASD, 10),
    (NeedCode.OTH, 5),
    (NeedCode.NSA, 4),
    (NeedCode.HI, 2.5),
    (NeedCode.PD, 2.5),
    (NeedCode.VI, 1.5),
    (NeedCode.MSI, 0.5),
)
SECONDARY_NEEDS = {
    NeedCode.ASD: (NeedCode.SEMH, NeedCode.SLCN, NeedCode.SPLD),
    NeedCode.SEMH: (NeedCode.SLCN, NeedCode.SPLD, NeedCode.MLD),
    NeedCode.SLCN: (NeedCode.SEMH, NeedCode.MLD, NeedCode.SPLD),
    NeedCode.SPLD: (NeedCode.SEMH, NeedCode.SLCN),
    NeedCode.MLD: (NeedCode.SLCN, NeedCode.SEMH),
    NeedCode.SLD: (NeedCode.SLCN, NeedCode.PD),
    NeedCode.HI: (NeedCode.SLCN,),
    NeedCode.VI: (NeedCode.PD,),
    NeedCode.PD: (NeedCode.SPLD, NeedCode.SEMH),
    NeedCode.OTH: (NeedCode.SEMH,),
}
# The census code to give a pupil when a small demo has no plan in an area.
AREA_EXAMPLES = {
    BroadArea.COGNITION_AND_LEARNING: NeedCode.SPLD,
    BroadArea.COMMUNICATION_AND_INTERACTION: NeedCode.SLCN,
    BroadArea.SEMH: NeedCode.SEMH,
    BroadArea.SENSORY_AND_PHYSICAL: NeedCode.HI,
}
# OTH and NSA belong to no broad area; a plan still describes the need under one.
FALLBACK_AREAS = {
    NeedCode.OTH: BroadArea.SEMH,
    NeedCode.NSA: BroadArea.COGNITION_AND_LEARNING,
}

MEDICAL_NOTES = (
    "Asthma: inhaler kept in the medical room and carried for PE.",
    "Severe nut allergy: two adrenaline auto-injectors (one carried, one in the medical room).",
    "Type 1 diabetes: individual healthcare plan; may eat in lessons and leave for checks.",
    "Epilepsy: see the individual healthcare plan for the seizure protocol.",
    "Migraines: may rest in the medical room; water bottle allowed in lessons.",
    "Eczema: emollient cream kept in the medical room.",
)
PHYSICAL_MEDICAL_NOTES = (
    "Physiotherapy and OT appointments most half terms; see the healthcare plan.",
    "Regular audiology appointments at the hospital.",
    "Uses a lift pass; personal emergency evacuation plan (PEEP) in place.",
    "Regular eye clinic appointments; wears glasses at all times.",
)
OTHER_INFORMATION = (
    "Attends breakfast club.",
    "Joined the school in Year 9 from another county.",
    "Has a sibling in the school.",
    "Part of the school's young leaders programme.",
)

NEED_DESCRIPTIONS: dict[NeedCode, tuple[str, ...]] = {
    NeedCode.SPLD: (
        "Dyslexia (specialist assessment in Year 5): slow reading speed and difficulty with "
        "spelling and phonological processing; verbal reasoning is a real strength.",
        "Dyscalculia indicators: difficulty recalling number facts and understanding place "
        "value, which affects Maths and Science.",
        "Slow processing speed and weak working memory: finds it hard to hold instructions in "
        "mind and to organise written work.",
        "Dyspraxia (developmental coordination disorder): handwriting is slow and tiring, and "
        "organising equipment and homework is hard.",
    ),
    NeedCode.MLD: (
        "Attainment well below age-related expectations in most subjects; {name} needs new "
        "ideas broken into small steps with plenty of repetition.",
        "Reading age around 8 years (standardised score 72); finds it hard to retain new "
        "vocabulary and to apply learning in new situations.",
        "Difficulties with working memory and abstract ideas; learns best through practical, "
        "concrete examples.",
    ),
    NeedCode.SLD: (
        "Severe learning difficulty: working well below the level of peers and needing a "
        "personalised curriculum with a high level of adult support.",
    ),
    NeedCode.PMLD: (
        "Profound and multiple learning difficulties: needs a sensory-based curriculum and "
        "support with all personal care.",
    ),
    NeedCode.SEMH: (
        "Anxiety, particularly around tests, crowds and unstructured times, which has led to "
        "periods of missed school.",
        "Difficulties regulating emotions: {name} can become angry quickly when feeling "
        "misunderstood, and needs time and space to calm.",
        "Low self-esteem and difficulty making and keeping friendships.",
        "ADHD (diagnosed by the community paediatrician): difficulties with attention, "
        "impulsivity and organisation.",
        "Low mood following a family bereavement; {name} is supported by CAMHS.",
    ),
    NeedCode.SLCN: (
        "Developmental language disorder (DLD): difficulty understanding complex sentences and "
        "subject vocabulary.",
        "Expressive language difficulties: finds it hard to organise ideas when speaking and "
        "writing.",
        "Speech sound difficulties: {name} can be hard to understand when anxious, which "
        "affects confidence to speak in class.",
        "Stammer: speaking in front of the class is a source of worry.",
    ),
    NeedCode.ASD: (
        "Autistic (diagnosed in Year 4): changes to routine, unstructured times and busy "
        "places are hard for {name}.",
        "Autistic, with sensory sensitivity to noise and smells, particularly in the canteen "
        "and corridors.",
        "Autistic: understands language literally and finds group work and social "
        "interaction tiring.",
        "Autistic: {name} often masks at school and can be very distressed at home afterwards.",
    ),
    NeedCode.HI: (
        "Moderate hearing loss in both ears: wears hearing aids and uses a radio aid in lessons.",
        "Mild hearing loss in one ear: misses information in noisy rooms and group work.",
        "Severe hearing loss: cochlear implant; uses a radio aid and relies on subtitles.",
    ),
    NeedCode.VI: (
        "Visual impairment (nystagmus): needs enlarged print (N18) and a seat near the front.",
        "Reduced visual acuity: uses a magnifier and a tablet to access text and the board.",
    ),
    NeedCode.MSI: (
        "Multi-sensory impairment (hearing and vision): supported by the Sensory Support "
        "Service, with adapted resources and a radio aid.",
    ),
    NeedCode.PD: (
        "Cerebral palsy affecting fine and gross motor skills: uses a laptop for extended "
        "writing and needs extra time to move around the site.",
        "Hypermobility: fatigue and pain in hands and knees after writing or walking far.",
        "Juvenile arthritis: flare-ups affect attendance and writing stamina.",
    ),
    NeedCode.OTH: (
        "Tourette's syndrome: vocal and motor tics that increase with stress or tiredness.",
        "ADHD and sleep difficulties: concentration is best in the morning.",
    ),
    NeedCode.NSA: (
        "Emerging difficulties with reading and spelling noticed by teachers; a specialist "
        "assessment has been requested.",
        "Teachers and family have raised concerns about processing and memory; assessment is "
        "planned for this term.",
    ),
}
EXTRA_NEEDS: tuple[tuple[BroadArea, str], ...] = (
    (
        BroadArea.SENSORY_AND_PHYSICAL,
        "Sensory processing differences: seeks movement and "
        "finds long periods of sitting still hard.",
    ),
    (
        BroadArea.COGNITION_AND_LEARNING,
        "Difficulties with organisation and planning "
        "(executive function): forgets equipment and homework.",
    ),
    (
        BroadArea.SEMH,
        "Low confidence as a learner: {name} is reluctant to try new tasks in "
        "case of getting them wrong.",
    ),
    (
        BroadArea.COMMUNICATION_AND_INTERACTION,
        "Finds it hard to ask for help or to say when they have not understood.",
    ),
)

NEED_SOURCES = (
    NeedSource.ASSESSMENT,
    NeedSource.REPORT,
    NeedSource.OBSERVATION,
    NeedSource.INDES,
    NeedSource.FAMILY,
)
# How far a cognition and learning need pulls attainment down (in standard deviations).
ATTAINMENT_DROP = {NeedCode.MLD: 1.5, NeedCode.SLD: 2.5, NeedCode.PMLD: 3.0, NeedCode.SPLD: 0.7}

# What each census code's plan text is drawn from.
CONTENT_KEYS = {
    NeedCode.SPLD: "spld",
    NeedCode.MLD: "mld",
    NeedCode.SLD: "mld",
    NeedCode.PMLD: "mld",
    NeedCode.SEMH: "semh",
    NeedCode.OTH: "semh",
    NeedCode.NSA: "spld",
    NeedCode.SLCN: "slcn",
    NeedCode.ASD: "asd",
    NeedCode.HI: "hi",
    NeedCode.MSI: "hi",
    NeedCode.VI: "vi",
    NeedCode.PD: "pd",
}

# Plans whose primary need always involves the specialist service (listed first).
SENSORY_KEYS = frozenset({"hi", "vi", "pd"})

# (what, who, how, how often, how long). "{ta}" and friends are filled per plan.
PROVISIONS: dict[str, tuple[str, str, str, str, str]] = {
    "lexia": (
        "Lexia PowerUp Literacy (adaptive online reading programme)",
        "{ta}, Learning Support",
        "Independent work on a laptop in the Learning Support base, with a check-in on "
        "progress each session",
        "3 × 20 minutes a week (tutor time)",
        "12 weeks",
    ),
    "fresh_start": (
        "Read Write Inc. Fresh Start phonics group",
        "{ta}, Learning Support",
        "Small group of four following the Fresh Start modules",
        "4 × 30 minutes a week",
        "One term",
    ),
    "precision_spelling": (
        "Precision teaching of key subject spellings",
        "{ta}",
        "1:1 one-minute probes on ten target words; words change when fluent",
        "Daily, 10 minutes",
        "6 weeks",
    ),
    "touch_typing": (
        "Touch-typing course (Nessy Fingers)",
        "{ta}",
        "Independent practice in lunchtime club with TA support",
        "2 × 20 minutes a week",
        "10 weeks",
    ),
    "reading_mentor": (
        "Paired reading with a trained Year 10 reading mentor",
        "Year 10 reading mentor, overseen by {ta}",
        "Reading aloud together using the paired reading method",
        "2 × 15 minutes a week (tutor time)",
        "8 weeks",
    ),
    "reciprocal": (
        "Reciprocal reading group",
        "{ta}",
        "Small group of five: predict, clarify, question, summarise",
        "Weekly, 40 minutes",
        "10 weeks",
    ),
    "catch_up_numeracy": (
        "Catch Up Numeracy",
        "{ta}",
        "1:1 structured sessions based on the Catch Up assessment",
        "2 × 15 minutes a week",
        "One term",
    ),
    "numeracy_group": (
        "Numeracy small group with concrete resources (Numicon, place-value counters)",
        "{ta}",
        "Group of four during Maths lessons",
        "2 × 30 minutes a week",
        "10 weeks",
    ),
    "vocab_preteach": (
        "Pre-teaching of subject vocabulary (Word Aware approach)",
        "{ta}",
        "Small group: new words for the coming topic taught before the lesson",
        "Weekly, 30 minutes",
        "Half a term, then reviewed",
    ),
    "homework_club": (
        "Homework club with TA support",
        "Learning Support team",
        "Quiet room in the library with help to plan and start homework",
        "Twice a week after school",
        "Ongoing",
    ),
    "organisation": (
        "Organisation check-in: planner, equipment and homework",
        "{key_adult}",
        "Quick 1:1 check at the start of the day using a checklist",
        "Daily, 5 minutes",
        "One term",
    ),
    "wellcomm": (
        "WellComm language group",
        "{ta}, trained by the Speech and Language Therapy service",
        "Small group of four working on the language gaps identified by the WellComm assessment",
        "2 × 30 minutes a week",
        "10 weeks",
    ),
    "salt_programme": (
        "Speech and language programme set by the SALT",
        "{ta}",
        "1:1 activities from the therapist's programme; progress shared with "
        "the SALT each half term",
        "2 × 20 minutes a week",
        "One term",
    ),
    "colourful_semantics": (
        "Colourful Semantics for building sentences in writing",
        "{ta}",
        "Small group: colour-coded sentence parts used to plan answers",
        "Weekly, 30 minutes",
        "8 weeks",
    ),
    "language_for_thinking": (
        "Language for Thinking group",
        "{ta}",
        "Small group working on inference and verbal reasoning",
        "Weekly, 40 minutes",
        "10 weeks",
    ),
    "lego": (
        "LEGO®-based therapy group (Brick-by-Brick)",
        "{ta} and a trained colleague",
        "Group of three taking turns as engineer, supplier and builder",
        "Weekly, 45 minutes",
        "10 weeks",
    ),
    "social_stories": (
        "Social Stories™ and Comic Strip Conversations",
        "{key_adult}",
        "1:1, written with {name} before new or difficult situations",
        "At least weekly, and before changes",
        "Ongoing",
    ),
    "transition_prep": (
        "Preparing for changes: visual timetable and warning of cover lessons",
        "{key_adult}",
        "Timetable checked each morning; {name} is told about changes early",
        "Daily, 5 minutes",
        "Ongoing",
    ),
    "zones": (
        "Zones of Regulation sessions",
        "{ta}",
        "1:1, learning to notice feelings and choose a calming strategy",
        "Weekly, 30 minutes",
        "8 weeks",
    ),
    "elsa": (
        "ELSA sessions",
        "{elsa}, ELSA",
        "1:1 emotional literacy work on feelings and coping strategies",
        "Weekly, 45 minutes",
        "8 weeks",
    ),
    "thrive": (
        "THRIVE sessions",
        "{key_adult}, licensed Thrive practitioner",
        "1:1 activities from {name}'s Thrive action plan",
        "Weekly, 40 minutes",
        "One term",
    ),
    "check_in": (
        "Check-in and check-out with a key adult",
        "{key_adult}",
        "Short chat at the start and end of the day using a 1–5 scale",
        "Daily, 5 minutes each",
        "Half a term, then reviewed",
    ),
    "counselling": (
        "School counselling",
        "School counsellor",
        "1:1 in a private room",
        "Weekly, 50 minutes",
        "12 sessions",
    ),
    "mhst": (
        "Mental Health Support Team (MHST) sessions on managing worry",
        "MHST education mental health practitioner",
        "1:1 guided self-help based on CBT",
        "Weekly, 30 minutes",
        "6–8 sessions",
    ),
    "friends": (
        "FRIENDS resilience group",
        "{ta}",
        "Small group of six working through the FRIENDS programme",
        "Weekly, 50 minutes",
        "10 weeks",
    ),
    "lunch_club": (
        "Lunchtime club in the Learning Support base",
        "Learning Support team",
        "A calm space with games and a supervising adult",
        "Daily at lunchtime",
        "Ongoing",
    ),
    "drawing_talking": (
        "Drawing and Talking",
        "{ta}, trained practitioner",
        "1:1 sessions using drawing as a gentle way to talk about feelings",
        "Weekly, 30 minutes",
        "12 weeks",
    ),
    "mentor": (
        "Mentoring with a member of staff",
        "{key_adult}",
        "1:1 mentoring on goals, attendance and friendships",
        "Fortnightly, 30 minutes",
        "One term",
    ),
    "radio_aid": (
        "Radio aid checks and daily listening check",
        "{ta}",
        "Equipment checked at registration; faults reported to the Sensory Support Service",
        "Daily, 5 minutes",
        "Ongoing",
    ),
    "tod_visit": (
        "Teacher of the Deaf (QTOD) advisory visits",
        "QTOD, Sensory Support Service",
        "Observation in lessons, advice to staff and direct work with {name}",
        "Twice a term",
        "Ongoing",
    ),
    "preteach_hi": (
        "Pre-teaching of key vocabulary and concepts",
        "{ta}",
        "1:1 or in a pair, before new topics in Science and Humanities",
        "Weekly, 30 minutes",
        "Ongoing, reviewed each term",
    ),
    "qtvi": (
        "QTVI advisory visits and habilitation (mobility) training",
        "QTVI and habilitation specialist, Sensory Support Service",
        "Route training around the site; advice on resources",
        "Every half term",
        "Ongoing",
    ),
    "modified_resources": (
        "Modified resources: enlarged print (Arial 18, A3) and accessible digital copies",
        "{ta}",
        "Prepared in advance from teachers' slides",
        "Every lesson",
        "Ongoing",
    ),
    "keyboard_skills": (
        "Assistive technology skills (screen magnifier, text-to-speech)",
        "{ta}",
        "1:1 practice on {name}'s laptop",
        "Weekly, 30 minutes",
        "One term",
    ),
    "physio": (
        "Physiotherapy programme",
        "{ta}, trained by the NHS physiotherapist",
        "Exercises from the physio programme in the Learning Support base",
        "3 × 15 minutes a week",
        "Ongoing; reviewed by the physiotherapist each term",
    ),
    "speed_up": (
        "Speed Up! handwriting programme",
        "{ta}",
        "Small group, kinaesthetic handwriting programme",
        "2 × 30 minutes a week",
        "10 weeks",
    ),
    "ot_programme": (
        "OT fine motor and organisation programme",
        "{ta}, following the OT's advice",
        "1:1 activities from the OT report",
        "3 × 15 minutes a week",
        "One term",
    ),
    "sensory_circuit": (
        "Sensory circuit",
        "{ta}",
        "Short sequence of alerting, organising and calming activities",
        "Daily before period 1, 10 minutes",
        "Half a term, then reviewed",
    ),
}

# (agency, contact's role, involvement, report title or "", report recommendations)
AGENCIES: dict[str, tuple[str, str, str, str, str]] = {
    "ep": (
        "Educational Psychology Service (EP)",
        "educational psychologist",
        "Consultation with the SENDCo and family, and an assessment of {name}'s learning",
        "Educational psychology assessment report",
        "Pre-teach vocabulary; reduce copying from the board; use visual supports; build "
        "self-esteem through {name}'s strengths; assess for exam access arrangements.",
    ),
    "literacy_outreach": (
        "Specialist Learning Difficulties Team",
        "specialist teacher",
        "Specialist literacy assessment and advice to staff",
        "Specialist teacher assessment (literacy)",
        "A structured literacy programme three times a week; 25% extra time "
        "and a reader in exams; learn to touch-type.",
    ),
    "salt": (
        "NHS Speech and Language Therapy (SALT)",
        "speech and language therapist",
        "Assessment, a programme for school to deliver, and a review each term",
        "Speech and language therapy report",
        "Give thinking time; use visuals; pre-teach vocabulary; deliver the language "
        "programme twice a week.",
    ),
    "autism_outreach": (
        "Autism Outreach Team",
        "specialist teacher",
        "Advice to staff, staff training and observations of {name} in lessons",
        "Autism outreach advice",
        "Visual timetable; a safe space; warning of changes; clear, literal "
        "language; a sensory check of classrooms.",
    ),
    "camhs": (
        "CAMHS",
        "CAMHS clinician",
        "Assessment and therapeutic support for {name}",
        "CAMHS letter to school",
        "A consistent key adult; share {name}'s coping strategies with staff; a graded "
        "approach to situations that cause anxiety.",
    ),
    "mhst": (
        "Mental Health Support Team (MHST)",
        "education mental health practitioner",
        "Guided self-help sessions in school",
        "MHST summary",
        "Keep practising worry time and the breathing strategy; praise brave behaviour.",
    ),
    "early_help": (
        "Early Help (family support)",
        "family support worker",
        "Support for the family with routines and attendance",
        "Early Help assessment summary",
        "A morning routine plan; regular contact between school and home.",
    ),
    "sensory_hi": (
        "Sensory Support Service (hearing)",
        "Teacher of the Deaf (QTOD)",
        "Visits each term, equipment checks and advice to staff",
        "Teacher of the Deaf visit report",
        "Radio aid in all lessons; subtitles; seat near the front; pre-teach "
        "vocabulary; a quiet room for exams.",
    ),
    "sensory_vi": (
        "Sensory Support Service (vision)",
        "qualified teacher of vision impairment (QTVI)",
        "Visits each term, habilitation training and advice on resources",
        "QTVI visit report",
        "Enlarged print (N18); high-contrast materials; modified exam papers; "
        "mobility training on new routes.",
    ),
    "ot": (
        "NHS Occupational Therapy (OT)",
        "occupational therapist",
        "Assessment and a programme for school",
        "Occupational therapy report",
        "Sloping writing board; laptop for extended work; fine motor programme; rest breaks.",
    ),
    "physio": (
        "NHS Physiotherapy",
        "physiotherapist",
        "Exercise programme and a review each term",
        "",
        "",
    ),
}


def _t(description, measure, baseline, success, *provisions) -> _TargetTemplate:
    return _TargetTemplate(description, measure, baseline, success, provisions)


CONTENT: dict[str, _Content] = {
    "spld": _Content(
        outcomes=(
            "{name} will be a confident reader who can read the texts used in all subjects "
            "independently.",
            "{name} will be able to show what they know in writing, using a laptop where it helps.",
            "{name} will sit tests and exams with the access arrangements they need, so results "
            "reflect what they know.",
        ),
        targets=(
            _t(
                "{name} will read an unseen passage at their level aloud with fewer errors, "
                "using decoding strategies for unfamiliar words.",
                "Timed reading of an unseen passage (words correct per minute)",
                "62 words correct per minute; reading age 9 years 4 months",
                "80 words correct per minute with 95% accuracy",
                "lexia",
                "fresh_start",
                "reading_mentor",
            ),
            _t(
                "{name} will spell 15 key subject words correctly in independent writing.",
                "Spelling check of the 15 words in extended writing, by the class teacher",
                "6 of 15 spelled correctly",
                "13 of 15 spelled correctly in two pieces of work",
                "precision_spelling",
            ),
            _t(
                "{name} will plan an extended answer with a writing frame before starting to "
                "write.",
                "Plans seen in English, History and Science books",
                "Rarely plans; answers are short and unstructured",
                "A plan used for 4 of 5 extended tasks",
                "vocab_preteach",
                "homework_club",
            ),
            _t(
                "{name} will touch-type at 20 words per minute, so a laptop can be used for "
                "extended writing.",
                "Nessy Fingers speed test",
                "8 words per minute",
                "20 words per minute with 90% accuracy",
                "touch_typing",
            ),
            _t(
                "{name} will use a checklist or visual prompt to remember instructions with "
                "several steps.",
                "Teacher observation in three lessons",
                "Needs instructions repeated 1:1 in most lessons",
                "Starts tasks independently in 3 of 4 observed lessons",
                "organisation",
            ),
        ),
        adjustments=(
            "Printed copy of slides and notes instead of copying from the board",
            "Coloured overlay (blue) and cream paper for handouts",
            "Key words displayed and shared before the lesson",
            "Instructions given one at a time and written on the board",
            "Not asked to read aloud unless {name} volunteers",
            "Marking focuses on content, not spelling",
        ),
        access=(
            "25% extra time in tests and exams",
            "Reader (or computer reader) in exams",
            "Word processor in exams (spell check off)",
            "Coloured overlay in exams",
        ),
        difficulties=(
            "Reading long texts and copying from the board. Spelling makes me worried about "
            "writing anything down.",
            "Remembering lots of instructions at once, and getting my ideas down on paper.",
            "Maths when there are lots of steps, and times tables.",
        ),
        support=(
            "Give me instructions one at a time and check I've understood. Let me use my "
            "overlay and give me printed notes instead of copying from the board.",
            "Don't ask me to read out loud in front of everyone. Let me type longer pieces of "
            "work.",
        ),
        concerns=(
            "Reading age is well below {name}'s age, which limits access to text-heavy subjects.",
            "Written work does not show what {name} knows and can say.",
        ),
        agencies=("ep", "literacy_outreach"),
    ),
    "mld": _Content(
        outcomes=(
            "{name} will develop the reading and number skills needed for everyday life and "
            "college.",
            "{name} will become a more independent learner who knows how to get help.",
        ),
        targets=(
            _t(
                "{name} will know and use 20 key words from the current Science and Geography "
                "topics.",
                "Vocabulary quiz and use of the words in written answers",
                "Knows 5 of the 20 words",
                "Explains 16 of 20 words and uses them in writing",
                "vocab_preteach",
            ),
            _t(
                "{name} will recall multiplication facts to 10 × 10 fluently.",
                "Times-tables check (60 questions in 5 minutes)",
                "24 correct",
                "50 correct",
                "catch_up_numeracy",
                "numeracy_group",
            ),
            _t(
                "{name} will read a short non-fiction text and answer literal and simple "
                "inference questions.",
                "Comprehension questions after reading",
                "Answers 3 of 10 correctly",
                "Answers 7 of 10 correctly",
                "reciprocal",
                "reading_mentor",
            ),
            _t(
                "{name} will hand in homework on time, using the homework planner.",
                "Homework completion recorded by teachers",
                "35% handed in",
                "80% handed in over a half term",
                "homework_club",
                "organisation",
            ),
            _t(
                "{name} will solve two-step word problems using a bar model.",
                "Questions from the end-of-unit Maths assessment",
                "Solves 1 of 6",
                "Solves 4 of 6 using the bar model",
                "numeracy_group",
            ),
        ),
        adjustments=(
            "Tasks broken into small steps with a checklist",
            "Word mat of key vocabulary for each topic",
            "Seated near the front with a supportive partner",
            "Check understanding by asking {name} to repeat instructions in their own words",
            "Concrete resources and worked examples available in Maths",
        ),
        access=(
            "25% extra time in tests and exams",
            "Reader (or computer reader) in exams",
            "Separate invigilation in a smaller room",
        ),
        difficulties=(
            "Lessons go too fast and I get lost, then I don't want to ask.",
            "Remembering what we did last lesson, and long words in Science.",
        ),
        support=(
            "Show me an example first and break the work into small steps. Check on me "
            "early in the lesson.",
            "Give me a word mat and let me use cubes or counters in Maths.",
        ),
        concerns=(
            "{name} is working well below age-related expectations in English and Maths.",
            "Progress is slow despite good effort; {name} needs a lot of repetition.",
        ),
        agencies=("ep",),
    ),
    "semh": _Content(
        outcomes=(
            "{name} will feel safe and settled in school and attend regularly.",
            "{name} will be able to manage strong feelings and get back to learning quickly.",
            "{name} will have positive friendships and take part in school life.",
        ),
        targets=(
            _t(
                "{name} will notice when they are becoming anxious and use a calming strategy "
                "from their toolkit.",
                "Self-rating and the key adult's log",
                "Leaves lessons without permission about three times a week",
                "Uses the time-out card and returns within 10 minutes, 4 times out of 5",
                "elsa",
                "zones",
                "check_in",
            ),
            _t(
                "{name} will arrive at school on time every day.",
                "Attendance and punctuality data",
                "Attendance 86%; late 9 times this half term",
                "Attendance above 94% and no more than 2 lates in a half term",
                "check_in",
                "mentor",
            ),
            _t(
                "{name} will name three adults in school to go to when worried, and go to them.",
                "Conversation with the key adult and the ELSA log",
                "Cannot name anyone apart from the form tutor",
                "Names three adults and has asked one for help at least twice",
                "elsa",
                "thrive",
            ),
            _t(
                "{name} will join a lunchtime club or activity at least twice a week.",
                "Club register",
                "Spends lunchtimes alone or in the corridors",
                "Attends twice a week for 6 weeks",
                "lunch_club",
            ),
            _t(
                "{name} will use the agreed exit plan instead of leaving lessons in anger.",
                "Behaviour log on the MIS",
                "11 incidents last half term",
                "Fewer than 4 incidents in a half term",
                "thrive",
                "mentor",
                "zones",
            ),
            _t(
                "{name} will use a worry scale and a breathing strategy before tests.",
                "Session notes and {name}'s own rating",
                "Rates worry 9 out of 10 before tests",
                "Rates worry 6 out of 10 or lower and uses the strategy",
                "mhst",
                "friends",
                "counselling",
                "drawing_talking",
            ),
            _t(
                "{name} will stay on task for 15 minutes, using a task checklist and a planned "
                "movement break.",
                "On-task sampling in lessons by the TA",
                "On task for about 5 minutes at a time",
                "15 minutes in 3 of 4 observed lessons",
                "organisation",
                "sensory_circuit",
            ),
        ),
        adjustments=(
            "Time-out card: {name} may go to the Learning Support base for 5 minutes",
            "Seat near the door; not moved without warning",
            "Praise quietly and privately; avoid public reprimands",
            "Warn {name} early about cover teachers and room changes",
            "Meet and greet at the classroom door",
            "A starter task ready so {name} can settle quickly",
        ),
        access=(
            "Rest breaks in exams",
            "Separate invigilation in a smaller room",
            "Prompter to help {name} stay focused in exams",
        ),
        difficulties=(
            "When I get angry I find it hard to calm down, and then I get into trouble.",
            "I worry a lot, especially about tests and being late.",
            "Making friends and keeping them. Lunchtimes can be lonely.",
            "Lessons with a supply teacher, and being shouted at.",
        ),
        support=(
            "If I put my time-out card on the desk, let me go to the base for five minutes. "
            "Talk to me quietly, not in front of the class.",
            "Tell me what's happening before it happens. Check in with me in the morning.",
            "Notice when I'm doing well and tell me privately.",
        ),
        concerns=(
            "Attendance has dropped to 88% this term, with most absences on Mondays.",
            "Staff have noticed {name} is withdrawn and often alone at unstructured times.",
            "There have been several incidents of dysregulation in lessons this half term.",
        ),
        agencies=("camhs", "mhst", "early_help", "ep"),
    ),
    "slcn": _Content(
        outcomes=(
            "{name} will understand what is said in lessons and be able to ask when they do not.",
            "{name} will express their ideas clearly in speech and writing.",
        ),
        targets=(
            _t(
                "{name} will follow two-part instructions in lessons without needing them "
                "repeated.",
                "Teacher observation",
                "Follows the first part only",
                "Follows both parts in 4 of 5 observations",
                "wellcomm",
                "salt_programme",
            ),
            _t(
                "{name} will use subject vocabulary when answering questions in class.",
                "Vocabulary log: words used correctly in speech",
                "Uses 2 of 10 topic words",
                "Uses 8 of 10 topic words",
                "vocab_preteach",
                "language_for_thinking",
            ),
            _t(
                "{name} will write a paragraph with a clear topic sentence and two supporting "
                "sentences.",
                "Written work in English",
                "Writes single sentences without linking them",
                "A linked paragraph in 3 of 4 pieces of work",
                "colourful_semantics",
            ),
            _t(
                "{name} will ask for help, using an agreed phrase or card, when they have not "
                "understood.",
                "Teacher and TA observation",
                "Does not ask for help; sits quietly",
                "Asks for help at least once in most lessons",
                "salt_programme",
                "language_for_thinking",
            ),
            _t(
                "{name} will answer 'why' and 'how' questions about a text.",
                "Language for Thinking assessment",
                "Answers literal questions only",
                "Answers inference questions in 3 of 5 sessions",
                "language_for_thinking",
                "wellcomm",
            ),
        ),
        adjustments=(
            "Say {name}'s name before giving an instruction",
            "Give extra thinking time (about 10 seconds) before expecting an answer",
            "Visual supports: key words with pictures, and modelled answers",
            "Check understanding with closed questions",
            "Sentence starters for spoken and written answers",
        ),
        access=("25% extra time in tests and exams", "Reader (or computer reader) in exams"),
        difficulties=(
            "Understanding what people mean when they talk fast or use long words.",
            "Explaining my ideas out loud in front of the class.",
            "Finding the right words when someone asks me a question quickly.",
        ),
        support=(
            "Give me time to think before I answer, and show me what a good answer looks like.",
            "Say my name first, then tell me what to do. Write the key words on the board.",
        ),
        concerns=(
            "Understanding of subject vocabulary is well below that of peers.",
            "{name} rarely contributes in class and can become frustrated when not understood.",
        ),
        agencies=("salt", "ep"),
    ),
    "asd": _Content(
        outcomes=(
            "{name} will cope with change and busy places, so they can stay in lessons and learn.",
            "{name} will feel confident working and socialising with other students.",
        ),
        targets=(
            _t(
                "{name} will manage changes to the timetable, such as cover lessons, with a "
                "visual timetable.",
                "Key adult's log of changes and how they went",
                "Becomes distressed and leaves the lesson most times",
                "Stays in the lesson for 4 of 5 changes",
                "transition_prep",
                "social_stories",
            ),
            _t(
                "{name} will take part in paired or group work for part of the lesson, with a "
                "clear role.",
                "Teacher observation",
                "Works alone in all group tasks",
                "Takes a role in group work in three subjects",
                "lego",
            ),
            _t(
                "{name} will use the break pass when a room becomes overwhelming, and return "
                "to learning.",
                "Break pass log",
                "Leaves without telling anyone",
                "Uses the pass and returns within 10 minutes on 8 of 10 occasions",
                "sensory_circuit",
                "check_in",
            ),
            _t(
                "{name} will spend break and lunch in a chosen calm space.",
                "Key adult observation",
                "Walks the corridors alone at lunch",
                "Goes to lunch club at least four days a week",
                "lunch_club",
            ),
            _t(
                "{name} will explain a social situation from another person's point of view.",
                "Comic Strip Conversation sessions with the key adult",
                "Finds it hard to say how others felt",
                "Identifies others' feelings in 3 of 4 situations",
                "social_stories",
            ),
        ),
        adjustments=(
            "Same seat in every lesson, at the end of a row near the door",
            "Warning of changes to routine; visual timetable in the planner",
            "Clear, literal language; avoid sarcasm and idioms",
            "May leave lessons 2 minutes early to avoid busy corridors",
            "Ear defenders available in noisy practical lessons",
            "A clear role and written instructions for group work",
        ),
        access=(
            "Separate invigilation in a smaller room",
            "Rest breaks in exams",
            "25% extra time in tests and exams",
        ),
        difficulties=(
            "Noisy corridors and the canteen. Changes to my timetable.",
            "Group work, because people don't listen to my ideas.",
            "Understanding jokes and what people really mean.",
        ),
        support=(
            "Tell me about changes before they happen, and let me leave a bit early to miss "
            "the crowds.",
            "Give me clear instructions written down. Don't make me work in a group without a "
            "job to do.",
        ),
        concerns=(
            "{name} masks at school; family report distress at home after busy days.",
            "Unstructured times are difficult and have led to conflict with peers.",
        ),
        agencies=("autism_outreach", "salt", "camhs"),
    ),
    "hi": _Content(
        outcomes=(
            "{name} will access all spoken teaching and class discussion.",
            "{name} will manage their own hearing equipment and speak up for what they need.",
        ),
        targets=(
            _t(
                "{name} will ask for repetition or clarification when they have not heard.",
                "Teacher observation",
                "Rarely asks; nods and copies others",
                "Asks when needed in most lessons",
                "tod_visit",
                "radio_aid",
            ),
            _t(
                "{name} will check the radio aid and report faults independently at registration.",
                "TA's equipment log",
                "Equipment checked by the TA each day",
                "{name} checks and reports independently every day for 4 weeks",
                "radio_aid",
            ),
            _t(
                "{name} will understand and use 15 key words for each new Science topic.",
                "Vocabulary check at the start and end of the topic",
                "Knows 4 of 15",
                "Knows 12 of 15",
                "preteach_hi",
            ),
            _t(
                "{name} will follow class discussions using the agreed strategies.",
                "Summary of the discussion given to the teacher",
                "Misses much of class discussion",
                "Summarises the main points in 3 of 4 lessons",
                "tod_visit",
                "preteach_hi",
            ),
        ),
        adjustments=(
            "Seat at the front, to the side, with a clear view of the teacher's face",
            "Wear the radio aid transmitter; mute it for private conversations",
            "Subtitles on all videos",
            "Repeat other students' answers before responding",
            "Keep background noise down: door closed, one speaker at a time",
        ),
        access=(
            "Separate invigilation in a quiet room",
            "Live speaker for listening tests",
            "25% extra time in tests and exams",
        ),
        difficulties=(
            "Hearing the teacher when the class is noisy or when they turn to the board.",
            "Group discussions, because I can't tell who is talking.",
        ),
        support=(
            "Sit me near the front, face me when you talk, and check my radio aid is on.",
            "Put subtitles on videos and write homework on the board.",
        ),
        concerns=(
            "{name} is missing information in lessons, particularly in group work.",
            "Fatigue from listening is affecting concentration in the afternoons.",
        ),
        agencies=("sensory_hi",),
    ),
    "vi": _Content(
        outcomes=(
            "{name} will access all lesson materials independently.",
            "{name} will move around school and the local area safely and independently.",
        ),
        targets=(
            _t(
                "{name} will use a screen magnifier and text-to-speech to read lesson "
                "materials independently.",
                "Teacher observation",
                "Relies on the TA to read materials",
                "Uses digital resources independently in 4 of 5 lessons",
                "keyboard_skills",
                "modified_resources",
            ),
            _t(
                "{name} will travel independently between lessons on the agreed routes.",
                "Habilitation specialist's checklist",
                "Escorted between all lessons",
                "Travels independently on three routes",
                "qtvi",
            ),
            _t(
                "{name} will touch-type at 25 words per minute.",
                "Typing speed test",
                "10 words per minute",
                "25 words per minute with 90% accuracy",
                "touch_typing",
                "keyboard_skills",
            ),
            _t(
                "{name} will ask for enlarged or digital copies when they are not provided.",
                "TA and teacher observation",
                "Waits without saying anything",
                "Asks for adapted copies in all lessons where needed",
                "modified_resources",
                "qtvi",
            ),
        ),
        adjustments=(
            "Enlarged resources (Arial 18, A3) or digital copies on {name}'s tablet",
            "Seat near the front, away from glare from the windows",
            "Describe what is on the board and in videos",
            "High-contrast pens on the whiteboard",
            "Extra time to find information in texts",
        ),
        access=(
            "Modified enlarged papers (A3, 18 point)",
            "25% extra time in tests and exams",
            "Reader (or computer reader) in exams",
        ),
        difficulties=(
            "Reading small print and seeing the board from the back.",
            "Busy corridors and stairs, especially when it's dark in winter.",
        ),
        support=(
            "Give me enlarged worksheets (A3) or send them to my tablet so I can zoom in.",
            "Tell me what's on the board, and don't move my seat.",
        ),
        concerns=(
            "{name} tires quickly when resources are not adapted.",
            "Independence around the site needs developing before Key Stage 4.",
        ),
        agencies=("sensory_vi",),
    ),
    "pd": _Content(
        outcomes=(
            "{name} will take part fully in school life, including practical subjects and trips.",
            "{name} will record work efficiently without pain or tiredness.",
        ),
        targets=(
            _t(
                "{name} will write legibly for 15 minutes with planned rest breaks.",
                "Handwriting sample",
                "Writing legible for about 5 minutes before pain",
                "15 minutes legible with two rest breaks",
                "speed_up",
                "ot_programme",
            ),
            _t(
                "{name} will complete the physiotherapy exercises with few prompts.",
                "TA's programme record",
                "Needs prompts for every exercise",
                "Completes the programme with one prompt or fewer",
                "physio",
            ),
            _t(
                "{name} will use a laptop for extended writing in at least three subjects.",
                "Work saved on the laptop",
                "Uses the laptop in English only",
                "Uses the laptop in three subjects for 4 weeks",
                "touch_typing",
                "keyboard_skills",
            ),
            _t(
                "{name} will move safely around the site using the lift pass and early release.",
                "Key adult's log",
                "Often late to lessons and tired",
                "On time to 9 of 10 lessons",
                "physio",
                "ot_programme",
            ),
            _t(
                "{name} will organise their equipment for the day using a checklist.",
                "Daily checklist",
                "Forgets equipment most days",
                "Has the right equipment 4 days out of 5",
                "ot_programme",
                "organisation",
            ),
        ),
        adjustments=(
            "Use of a laptop for extended writing",
            "Leaves lessons 5 minutes early; lift pass",
            "Rest breaks during long written tasks",
            "Adapted equipment in Technology and PE, following the department's risk assessment",
            "Books kept in a locker so {name} does not carry a heavy bag",
        ),
        access=(
            "Word processor in exams",
            "Rest breaks in exams",
            "Scribe in exams",
            "25% extra time in tests and exams",
        ),
        difficulties=(
            "Carrying my bag between lessons and getting through busy corridors.",
            "Getting tired and sore by the end of the day, especially after writing a lot.",
        ),
        support=(
            "Let me leave lessons five minutes early and use my laptop for long writing.",
            "Let me take a short break when my hands hurt.",
        ),
        concerns=(
            "Fatigue and pain are affecting the amount {name} can record in lessons.",
            "{name} has missed lessons for hospital appointments this term.",
        ),
        agencies=("ot", "physio"),
    ),
}

LINKED_PLANS: dict[LinkedPlanKind, tuple[LinkedPlanKind, str, str]] = {
    LinkedPlanKind.EHC_PLAN: (
        LinkedPlanKind.EHC_PLAN,
        "EHC plan issued by the local authority; annual review each spring term.",
        "SEND records system: EHCP folder",
    ),
    LinkedPlanKind.HEALTH_CARE: (
        LinkedPlanKind.HEALTH_CARE,
        "Individual healthcare plan, written with the school nurse and family.",
        "Medical room and the MIS medical tab",
    ),
    LinkedPlanKind.PERSONAL_EDUCATION: (
        LinkedPlanKind.PERSONAL_EDUCATION,
        "Personal Education Plan (PEP) with the Virtual School; reviewed each term.",
        "Designated teacher's PEP records",
    ),
    LinkedPlanKind.EARLY_HELP: (
        LinkedPlanKind.EARLY_HELP,
        "Early Help assessment; the young carers' service is involved.",
        "Safeguarding records (DSL)",
    ),
    LinkedPlanKind.BEHAVIOUR_SUPPORT: (
        LinkedPlanKind.BEHAVIOUR_SUPPORT,
        "Behaviour support plan: agreed exit route and calm space.",
        "Pastoral team shared drive",
    ),
    LinkedPlanKind.RISK_ASSESSMENT: (
        LinkedPlanKind.RISK_ASSESSMENT,
        "Personal emergency evacuation plan (PEEP) and moving-around-site risk assessment.",
        "Site office and SEND records system",
    ),
    LinkedPlanKind.INTIMATE_CARE: (
        LinkedPlanKind.INTIMATE_CARE,
        "Intimate care plan agreed with the family.",
        "SEND records system (restricted)",
    ),
}

FAMILIES: tuple[tuple[tuple[str, ...], float], ...] = (
    (("Mum", "Dad"), 35),
    (("Mum",), 22),
    (("Mum", "Younger brother"), 8),
    (("Dad",), 6),
    (("Mum", "Stepdad"), 8),
    (("Nan", "Grandad"), 4),
    (("Mum", "Dad", "Older sister"), 8),
    (("Dad", "Dad's partner"), 4),
    (("Mum", "Nan"), 5),
)
CHILD_RELATIONS = frozenset({"Younger brother", "Older sister"})
MALE_RELATIONS = frozenset({"Dad", "Stepdad", "Grandad", "Younger brother"})

ASPIRATIONS = (
    "I want to be a vet because I love animals.",
    "I'd like to be a mechanic like my uncle.",
    "I want to pass my GCSEs and go to college to study art.",
    "I want to be a football coach.",
    "I'd like to work with computers, maybe making games.",
    "I want to be a nurse and help people.",
    "I'd like to be a chef and have my own restaurant one day.",
    "I want to be a hairdresser or do make-up for films.",
    "I'd like to work outdoors, maybe as a gardener or a park ranger.",
    "I don't know yet, but I want a job where I can help people.",
    "I want to be an electrician.",
    "I'd like to be a paramedic.",
    "I want to be a builder and build my own house.",
    "I want to be a teaching assistant like the ones who helped me.",
)
IMPORTANT_TO_ME = (
    "My family, my dog and playing Minecraft with my cousins.",
    "My friends, youth club on Fridays and my nan.",
    "Football at the weekend and my little brother.",
    "Having my own space at home and time to draw.",
    "My cat, my Xbox and my best friend.",
    "Knowing what is happening each day.",
    "Swimming club and my coach.",
    "Cooking with my mum and going to the park.",
    "Music: I play the keyboard and listen to music to calm down.",
)
STRENGTHS = (
    "{name} is kind and notices when other people are upset. Brilliant at drawing and loves anime.",
    "{name} has a great sense of humour and is a loyal friend. Loves football and cooking.",
    "{name} is creative, great with technology and knows a lot about space.",
    "{name} works hard in practical subjects and takes pride in their Technology work.",
    "{name} is caring and helpful, especially with younger children.",
    "{name} is determined and does not give up easily in PE.",
    "{name} is polite, curious and asks brilliant questions in Science.",
    "{name} is a talented musician and enjoys performing.",
)
GOOD_DAYS = (
    "A good day is when I know what's happening, I sit with my friends at lunch and I have PE.",
    "A good day is when I have art and nobody rushes me.",
    "A good day is when I get a positive phone call home.",
    "A good day is when I've had breakfast, I've got all my equipment and my teachers say hello.",
    "A good day is when lessons are calm and I understand the work.",
)
BAD_DAYS = (
    "A bad day is when there's a cover teacher and the lesson is different.",
    "A bad day is when I forget my PE kit and get a detention.",
    "A bad day is when it's really noisy at lunch and I can't find my friends.",
    "A bad day is when I haven't slept well and get told off for something that wasn't me.",
    "A bad day is when I have lots of tests and feel like I'm going to fail.",
)
BETTER_DAYS = (
    "Check in with me at the start of the day. Let me go to the library at lunch if it's busy.",
    "Give me a job to do in the lesson so I feel useful.",
    "Remind me quietly, not in front of everyone.",
    "Let me know about changes the day before.",
)
ABOUT_ME = (
    "{name} joined us in Year 7 from one of our partner primary schools.",
    "{name} enjoys after-school clubs and has a close group of friends.",
    "{name} likes to be busy and is always happy to help in lessons.",
    "{name} is quiet at first but chatty once they know you.",
)
FAMILY_HOPES = (
    "We'd like {name} to feel confident and happy in school and to leave with qualifications "
    "for college.",
    "We hope {name} can make friends and enjoy coming to school.",
    "We want {name} to be more independent with homework and organisation.",
    "We hope {name} gets the right support to reach their potential.",
)
FAMILY_CONCERNS = (
    "We worry that {name} hides how they feel at school and it all comes out at home.",
    "Homework causes arguments at home.",
    "We're worried about the move to GCSE courses.",
    "We'd like more notice when things change at school.",
)
COMMUNITY_CIRCLE = (
    ("Football coach", "Coach at the local club", 4),
    ("Youth club leader", "Youth worker", 4),
    ("Swimming coach", "Coach", 4),
    ("Family friend", "Family friend", 2),
)
CONSENT_SCOPES = (
    "This plan may be shared with all staff who teach {name} and with the professionals named "
    "in it.",
    "This plan may be shared with school staff, the school nurse and the agencies involved; "
    "not with anyone else without asking first.",
)
DELEGATION_REASONS = (
    "Matches the case holder's area of expertise",
    "Case holder knows the pupil well from their year group",
    "Case holder is the key adult for this pupil",
    "Balances caseloads across the SSP team",
)
DECLINE_REASONS = (
    "My caseload is full until after the Year 11 mocks; could this go to the Learning Support "
    "team?",
    "I don't know this pupil: could someone who teaches them take it?",
)
TARGET_STATUS_FOR = {
    TargetResult.ACHIEVED: TargetStatus.ACHIEVED,
    TargetResult.PARTLY: TargetStatus.PARTLY_ACHIEVED,
    TargetResult.NOT_YET: TargetStatus.NOT_YET_ACHIEVED,
}
EVIDENCE = {
    TargetResult.ACHIEVED: (
        "Met in 4 of 5 observations; staff agree this is now secure.",
        "Reassessment shows the success criteria were met.",
        "Met consistently over the last four weeks.",
    ),
    TargetResult.PARTLY: (
        "Good progress in small-group sessions, but not yet seen consistently in lessons.",
        "Improvement from the baseline, but short of the success criteria.",
        "Met in some subjects (English, Humanities) but not yet in others.",
    ),
    TargetResult.NOT_YET: (
        "Sessions were disrupted by absence, so this target continues.",
        "Little change from the baseline; the approach will change.",
        "Not yet: {name} needs more time with this step.",
    ),
}
REVIEW_WORKING = (
    "{name} has used the time-out card sensibly and returns to lessons more quickly.",
    "Intervention sessions have been well attended and {name} has moved up two levels.",
    "Printed notes mean {name} can focus on listening in lessons.",
    "Staff report {name} is asking for help more often.",
    "The morning check-in has helped {name} start the day calmly.",
)
REVIEW_NOT_WORKING = (
    "Homework is still rarely handed in.",
    "Sessions were often missed because they clashed with PE.",
    "Cover lessons are still very hard for {name}, and there have been several this term.",
    "Group work remains difficult.",
    "Strategies are not used consistently in every subject.",
)
REVIEW_CHANGES = (
    "Move sessions to tutor time so no lessons are missed.",
    "Share the one-page profile with all new staff, including cover supervisors.",
    "Focus the next targets on independence rather than adult support.",
    "Add a target on organising homework.",
)
REVIEW_NEXT_STEPS = (
    "New targets set for the next cycle; ELSA continues for another six weeks.",
    "Refer to the Educational Psychology Service for further advice.",
    "Assess for exam access arrangements.",
    "Continue the current provision and check attendance again in six weeks.",
)
FINAL_NEXT_STEPS = (
    "This plan closes; a new plan starts with the targets agreed today.",
    "Close this plan and start a new one to reflect {name}'s change of SEN stage.",
)
REVIEW_RECOMMENDATIONS = (
    "Continue at SEN Support.",
    "Consider a request for an EHC needs assessment if progress remains limited.",
    "Keep the plan; reduce adult support gradually.",
    "Continue; share successful strategies with all staff.",
)
CYP_VIEWS = (
    "I like my sessions and I think my reading is getting better.",
    "I still don't like cover lessons, but the card helps.",
    "I want to keep going to lunch club.",
    "I feel better about coming to school now.",
)
FAMILY_VIEWS = (
    "{parent} is pleased with the progress and says {name} is happier coming to school.",
    "{parent} feels homework is still a struggle at home.",
    "{parent} would like more notice of changes and was glad to talk it through.",
)
OBSERVATION_NOTES = (
    "adjustments in place and {name} settled well.",
    "printed notes provided; {name} answered a question in front of the class.",
    "seating plan followed; {name} needed two reminders to start the task.",
    "{name} used the time-out card once and came back after five minutes.",
)
PHONE_NOTES = (
    "things are going well at home; no changes needed.",
    "agreed to try a homework timetable at home.",
    "shared good news about {name}'s effort this week.",
)
