"""The synthetic school's intervention groups: about ten groups of its library's interventions,
run by its teaching assistants since the start of the autumn term, for pupils with open plans
(each linked to a provision row of their plan, as joining from Slack does).

The library entries are looked up by name (the names of bot.demo.provision_library) and made
when the school has none of that name, so this works whether or not the demo's library was made
first. Deterministic for a seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.demo.term_dates import demo_calendar
from bot.services import delivery, groups, session_log
from bot.services.calendar import load_calendar
from models import (
    BroadArea,
    InterventionGroup,
    LibraryProvision,
    MeasureKind,
    Plan,
    PlanStatus,
    ProvisionTier,
    School,
    SessionStatus,
    Staff,
    StaffRole,
)


@dataclass(frozen=True)
class Intervention:
    name: str
    area: BroadArea
    tier: ProvisionTier
    per_week: int
    minutes: int
    size: int
    description: str


INTERVENTIONS = (
    Intervention("Lexia reading programme", BroadArea.COGNITION_AND_LEARNING,
                 ProvisionTier.TARGETED, 3, 30, 6,
                 "Reading practice on a computer programme that adapts to each pupil."),
    Intervention("Toe by Toe", BroadArea.COGNITION_AND_LEARNING, ProvisionTier.TARGETED, 3, 20,
                 1, "A step-by-step phonics reading programme, one to one with an adult."),
    Intervention("Precision teaching", BroadArea.COGNITION_AND_LEARNING,
                 ProvisionTier.TARGETED, 5, 10, 1,
                 "Short daily practice of a few words or facts until they are fluent."),
    Intervention("Talkabout social communication group",
                 BroadArea.COMMUNICATION_AND_INTERACTION, ProvisionTier.TARGETED, 1, 45, 6,
                 "A small group that builds social and communication skills."),
    Intervention("ELSA sessions", BroadArea.SEMH, ProvisionTier.TARGETED, 1, 30, 1,
                 "Time with an Emotional Literacy Support Assistant to talk through feelings."),
    Intervention("Sensory circuits", BroadArea.SENSORY_AND_PHYSICAL, ProvisionTier.TARGETED, 5,
                 15, 6, "A short circuit of movement activities to start the day ready to learn."),
    Intervention("Catch Up Numeracy (with Numicon)", BroadArea.COGNITION_AND_LEARNING,
                 ProvisionTier.TARGETED, 2, 15, 1,
                 "Short one-to-one sessions on the number skills a pupil finds hard."),
    Intervention("Lego-based therapy", BroadArea.COMMUNICATION_AND_INTERACTION,
                 ProvisionTier.TARGETED, 1, 45, 3,
                 "Building together in roles, to practise turn-taking and talking with others."),
)  # fmt: skip

# (intervention, days, start): the groups the school runs.
GROUPS = (
    ("Lexia reading programme", (2, 4), time(8, 40)),
    ("Lexia reading programme", (1, 3), time(8, 40)),
    ("Toe by Toe", (1, 3, 5), time(8, 45)),
    ("Precision teaching", (1, 2, 3, 4, 5), time(8, 50)),
    ("Talkabout social communication group", (3,), time(13, 15)),
    ("ELSA sessions", (2,), time(10, 50)),
    ("Sensory circuits", (1, 2, 3, 4, 5), time(8, 35)),
    ("Catch Up Numeracy (with Numicon)", (2, 4), time(13, 20)),
    ("Lego-based therapy", (4,), time(13, 15)),
    ("Talkabout social communication group", (5,), time(13, 15)),
)
PLACES = ("Learning Support base", "Library", "Room S4", "The Hive", "Sports hall")


def library_items(session: Session, school: School) -> dict[str, LibraryProvision]:
    """The school's library entries of these names, made when missing."""
    have = {
        item.name: item
        for item in session.scalars(
            select(LibraryProvision).where(LibraryProvision.school_id == school.id)
        )
    }
    for spec in INTERVENTIONS:
        if spec.name not in have:
            item = LibraryProvision(
                school_id=school.id,
                name=spec.name,
                area_of_need=spec.area,
                tier=spec.tier,
                group_size=spec.size,
                sessions_per_week=spec.per_week,
                session_minutes=spec.minutes,
                weeks=12,
                staff_role="Teaching assistant",
                description=spec.description,
            )
            session.add(item)
            have[spec.name] = item
    session.flush()
    return have


def add_intervention_groups(
    session: Session, school: School, *, today: date, seed: int = 2026
) -> list[InterventionGroup]:
    """About ten groups run by the school's teaching assistants from the first day of the
    autumn term, each with pupils whose open plan's needs fit it."""
    rng = random.Random(f"sspbot-demo:{seed}:intervention-groups")
    library = library_items(session, school)
    tas = [
        s
        for s in session.scalars(
            select(Staff)
            .where(Staff.school_id == school.id, Staff.is_active.is_(True))
            .order_by(Staff.id)
        )
        if StaffRole.TEACHING_ASSISTANT in s.roles
    ]
    if not tas:
        return []
    plans = session.scalars(
        select(Plan)
        .where(Plan.school_id == school.id, Plan.status != PlanStatus.CLOSED)
        .options(selectinload(Plan.pupil), selectinload(Plan.needs), selectinload(Plan.targets))
        .order_by(Plan.id)
    ).all()
    by_area: dict[BroadArea, list] = {}
    for plan in plans:
        if not plan.pupil.is_active:
            continue
        areas = {need.broad_area for need in plan.needs} or {BroadArea.COGNITION_AND_LEARNING}
        for area in areas:
            by_area.setdefault(area, []).append(plan.pupil)
    start = _autumn_start(today)
    made, used = [], set()
    for number, (name, days, starts_at) in enumerate(GROUPS):
        item = library[name]
        spec = next(s for s in INTERVENTIONS if s.name == name)
        candidates = [p for p in by_area.get(item.area_of_need, []) if p.id not in used]
        if not candidates:
            continue
        year = rng.choice(sorted({p.year_group for p in candidates}))
        same_year = [p for p in candidates if p.year_group == year]
        size = max(2, min(spec.size, 6)) if spec.size > 1 else rng.randint(2, 3)
        pupils = rng.sample(same_year, min(size, len(same_year)))
        used.update(p.id for p in pupils)
        runner = tas[number % len(tas)]
        group = InterventionGroup(
            school_id=school.id,
            library_id=item.id,
            staff_id=runner.id,
            name=f"{name}, Year {year}",
            weekdays=",".join(str(d) for d in days),
            starts_at=starts_at,
            minutes=spec.minutes,
            location=PLACES[number % len(PLACES)],
            starts_on=start,
        )
        group.provision, group.staff = item, runner
        session.add(group)
        session.flush()
        for pupil, plan in groups.place(session, group, pupils, on=start):
            _towards_a_target(plan, group)
            _measured(plan, group, pupil, start, today, rng)
        made.append(group)
    if made:
        _log_history(session, school, today, rng)
    return made


def _log_history(session: Session, school: School, today: date, rng: random.Random) -> None:
    """The sessions due before today, logged as a school's staff would have: most delivered,
    a pupil absent now and then, a few not delivered (and why), so the map and the review
    notes have a term's record to show. Today's sessions are left for the tour to log."""
    through = today - timedelta(days=1)
    reasons = [why for key, why in session_log.REASONS.items() if key != session_log.OTHER]
    for sitting in delivery.materialise(
        session, school.id, load_calendar(session, school.id), through
    ):
        sitting.logged_by_id = sitting.staff_id
        sitting.logged_at = datetime.combine(sitting.held_on, time(12, 0), tzinfo=UTC)
        if rng.random() < 0.9:
            sitting.status = SessionStatus.DELIVERED
            for place in sitting.pupils:
                place.absent = rng.random() < 0.06
        else:
            sitting.status = SessionStatus.NOT_DELIVERED
            sitting.not_delivered_reason = rng.choice(reasons)
    session.flush()


# How the demo's interventions measure progress: (kind, what is measured, entry range, change
# range). A reading age is in months, from the pupil's age: below it, as a pupil in a reading
# intervention would be.
MEASURES = {
    "Lexia reading programme": (MeasureKind.READING_AGE, "Reading age (NGRT)", (-30, -14), (2, 9)),
    "Toe by Toe": (MeasureKind.READING_AGE, "Reading age (Salford)", (-36, -18), (3, 10)),
    "Precision teaching": (MeasureKind.SCORE, "Words read fluently", (8, 20), (4, 15)),
    "Catch Up Numeracy (with Numicon)": (
        MeasureKind.STANDARDISED,
        "Standardised maths score",
        (76, 86),
        (0, 8),
    ),
    "ELSA sessions": (MeasureKind.SCALE, "How I feel about school (1 to 10)", (2, 5), (0, 3)),
    "Talkabout social communication group": (
        MeasureKind.SCALE,
        "Talkabout assessment (1 to 10)",
        (2, 5),
        (0, 3),
    ),
}


def _measured(plan, group, pupil, start: date, today: date, rng: random.Random) -> None:
    """An entry measure on the plan's row of the intervention, taken when the pupil started, and
    for about half of them an exit measure taken since: the map's progress, and the review's."""
    spec = MEASURES.get(group.provision.name)
    row = next(
        (r for r in (plan.provisions if plan else []) if r.library_id == group.library_id), None
    )
    if spec is None or row is None:
        return
    kind, name, (low, high), (gain_low, gain_high) = spec
    entry = rng.randint(low, high)
    if kind == MeasureKind.READING_AGE:
        months_old = (start.year - pupil.date_of_birth.year) * 12 + start.month
        entry += months_old - pupil.date_of_birth.month
    row.measure_kind, row.measure_name, row.entry_value, row.entry_on = kind, name, entry, start
    if rng.random() < 0.5 and (today - start).days > 28:
        row.exit_value = entry + rng.randint(gain_low, gain_high)
        row.exit_on = today - timedelta(days=rng.randint(1, 14))


def _towards_a_target(plan: Plan | None, group: InterventionGroup) -> None:
    """The plan's row of this intervention works towards one of its current targets, as every
    provision in the demo's plans does."""
    if plan is None:
        return
    current = [t for t in plan.targets if t.cycle_number == plan.cycle_number]
    for row in plan.provisions:
        if row.library_id == group.library_id and row.target_id is None and current:
            row.target = current[0]


def _autumn_start(today: date) -> date:
    year = today.year if today.month >= 9 else today.year - 1
    autumn = [
        t.start for t in demo_calendar(year).terms if t.start.year == year and t.start.month == 9
    ]
    return min(autumn[0], today) if autumn else today
