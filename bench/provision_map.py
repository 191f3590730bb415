"""How long the provision map takes for each school of a trust, and how many SQL statements.

    .venv/bin/python bench/provision_map.py [--schools 20] [--pupils-per-school 300] [--runs 5]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

A synthetic trust in a fresh database (bench/common.py): each school has a SENDCo, six teaching
assistants and --pupils-per-school pupils with an active plan (Years 7 to 11); a library of 15
items across the four areas of need (cost per session, and per pupil for some); one
intervention group per five pupils (Tuesdays and Thursdays from 1 September 2026, run by a
teaching assistant); every session due from then to 20 November 2026 made a row
(bot.services.delivery.materialise), four in five delivered, one in nine pupils absent; each
pupil's plan provision row linked to their group's intervention, with a reading age at entry
and, for half of them, at exit; and a review deciding continue, adapt or stop for two in three.

Then, for every school in turn, `bot.services.provision_map.provision_map` (what `/ssp
provision` and its export show) and `intervention_pupils` for its largest intervention (the
"Pupils" button), each --runs times: the median and 95th percentile time, and the statements
one call issues, which must not grow with the school or the trust. No assertions: printed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date
from datetime import time as clock_time
from pathlib import Path

# Run from a checkout without installing: the repository root holds `bot` and `models`.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, case, insert, select, text, update  # noqa: E402

from bench.common import (  # noqa: E402
    Recorder,
    add_postgres_option,
    add_pupils_with_plans,
    databases,
)
from bot import db  # noqa: E402
from bot.services import delivery  # noqa: E402
from bot.services.calendar import CalendarPeriod, SchoolCalendar  # noqa: E402
from bot.services.provision_map import intervention_pupils, provision_map  # noqa: E402
from models import (  # noqa: E402
    BroadArea,
    Effectiveness,
    GroupMember,
    InterventionGroup,
    InterventionSession,
    LibraryProvision,
    MeasureKind,
    PlanProvision,
    ProvisionTier,
    Review,
    ReviewProvisionDecision,
    School,
    SessionPupil,
    SessionStatus,
    Staff,
    StaffRole,
)
from models.reviews import ProvisionDecision  # noqa: E402

TODAY = date(2026, 11, 23)
THROUGH = date(2026, 11, 20)
CALENDAR = SchoolCalendar(
    terms=(CalendarPeriod("Autumn", date(2026, 9, 1), date(2026, 12, 18)),),
    closures=(CalendarPeriod("Half term", date(2026, 10, 26), date(2026, 10, 30)),),
)
ITEMS = 15
GROUP_SIZE = 5
AREAS = list(BroadArea)
DECISIONS = [ProvisionDecision.CONTINUE, ProvisionDecision.ADAPT, ProvisionDecision.STOP]
RATINGS = list(Effectiveness)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=20)
    parser.add_argument("--pupils-per-school", type=int, default=300)
    parser.add_argument("--runs", type=int, default=5)
    add_postgres_option(parser)
    args = parser.parse_args()
    for label, database in databases(args.postgres):
        with database() as engine:
            measure(label, engine, args.schools, args.pupils_per_school, args.runs)


def measure(label: str, engine: Engine, schools: int, pupils: int, runs: int) -> None:
    sessions = db.make_session_factory(engine)
    started = time.perf_counter()
    school_ids = [build_school(sessions, s, pupils) for s in range(1, schools + 1)]
    if engine.dialect.name == "postgresql":
        # What autovacuum does soon after a bulk load in production: the planner's statistics.
        with engine.connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.commit()
    print(
        f"{label}: built {schools} schools × {pupils} pupils with groups, sessions and reviews "
        f"in {time.perf_counter() - started:.1f} s"
    )
    recorder = Recorder()
    recorder.attach(engine)
    timings: dict[str, list[float]] = {"map": [], "pupils": []}
    statements: dict[str, set[int]] = {"map": set(), "pupils": set()}
    shown = None
    for school_id in school_ids:
        for _ in range(runs):
            with sessions() as session, recorder.recording() as phase:
                found = provision_map(session, school_id, TODAY)
            timings["map"].append(phase.seconds)
            statements["map"].add(len(phase.statements))
            shown = shown or found
            largest = max(found.interventions, key=lambda i: i.pupils)
            with sessions() as session, recorder.recording() as phase:
                pupils_found = intervention_pupils(session, school_id, largest.library_id, TODAY)
            timings["pupils"].append(phase.seconds)
            statements["pupils"].add(len(phase.statements))
    print(
        f"{'database':<11}{'what':<34}{'calls':>6}{'statements':>11}{'median ms':>10}{'p95 ms':>8}"
    )
    for key, what in (
        ("map", "provision map (one school)"),
        ("pupils", "pupils of its largest intervention"),
    ):
        values = sorted(timings[key])
        p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
        print(
            f"{label:<11}{what:<34}{len(values):>6}"
            f"{'/'.join(str(n) for n in sorted(statements[key])):>11}"
            f"{statistics.median(values) * 1000:>10.1f}{p95 * 1000:>8.1f}"
        )
    assert shown is not None
    print(
        f"{label:<11}one school's map: {len(shown.interventions)} interventions, {shown.groups} "
        f"groups, {shown.pupils} pupils, {shown.sessions.planned} sessions planned, "
        f"{len(pupils_found.pupils) if pupils_found else 0} pupils in its largest intervention"
    )


def build_school(sessions, s: int, pupils: int) -> int:
    """One school of the trust, in one transaction. Returns its id."""
    with db.unit_of_work(sessions) as session:
        school = School(name=f"Bench School {s:02d}", slack_team_id=f"T{s:02d}MAP")
        session.add(school)
        staff = []
        for n in range(7):
            member = Staff(
                school=school,
                email=f"staff{n}@school{s:02d}.example.org",
                first_name="Sendco" if n == 0 else "Assistant",
                last_name=f"Staff{n}",
            )
            member.set_roles({StaffRole.SENDCO if n == 0 else StaffRole.TEACHING_ASSISTANT})
            staff.append(member)
        session.add_all(staff)
        session.flush()
        assistants = [member.id for member in staff[1:]]
        pupil_ids, plan_ids = add_pupils_with_plans(
            session,
            school.id,
            pupils=pupils,
            case_holders=[staff[0].id],
            start_date=date(2026, 9, 1),
            review_date=date(2026, 12, 1),
            upn=lambda p, s=s: f"M{s:02d}{p:010d}",
        )
        items = session.scalars(
            insert(LibraryProvision).returning(LibraryProvision.id, sort_by_parameter_order=True),
            [
                dict(
                    school_id=school.id,
                    name=f"Intervention {i:02d}",
                    area_of_need=AREAS[i % len(AREAS)],
                    tier=ProvisionTier.TARGETED,
                    group_size=GROUP_SIZE,
                    sessions_per_week=2,
                    session_minutes=30,
                    cost_per_session_pence=1200 + 100 * i,
                    cost_per_pupil_pence=2500 if i % 3 == 0 else None,
                    is_active=True,
                )
                for i in range(ITEMS)
            ],
        ).all()
        groups = pupils // GROUP_SIZE
        group_ids = session.scalars(
            insert(InterventionGroup).returning(InterventionGroup.id, sort_by_parameter_order=True),
            [
                dict(
                    school_id=school.id,
                    library_id=items[g % ITEMS],
                    name=f"Group {g:03d}",
                    staff_id=assistants[g % len(assistants)],
                    weekdays="2,4",
                    starts_at=clock_time(8, 40),
                    minutes=30,
                    starts_on=date(2026, 9, 1),
                )
                for g in range(groups)
            ],
        ).all()
        provision_ids = session.scalars(
            insert(PlanProvision).returning(PlanProvision.id, sort_by_parameter_order=True),
            [
                dict(
                    plan_id=plan_id,
                    what=f"Intervention {(p // GROUP_SIZE) % ITEMS:02d}",
                    position=0,
                    library_id=items[(p // GROUP_SIZE) % ITEMS],
                    measure_kind=MeasureKind.READING_AGE,
                    entry_value=100 + p % 20,
                    exit_value=106 + p % 25 if p % 2 == 0 else None,
                )
                for p, plan_id in enumerate(plan_ids[: groups * GROUP_SIZE])
            ],
        ).all()
        session.execute(
            insert(GroupMember),
            [
                dict(
                    group_id=group_ids[p // GROUP_SIZE],
                    pupil_id=pupil_ids[p],
                    provision_id=provision_ids[p],
                    joined_on=date(2026, 9, 1),
                )
                for p in range(groups * GROUP_SIZE)
            ],
        )
        delivery.materialise(session, school.id, CALENDAR, THROUGH)
        session.execute(
            update(InterventionSession)
            .where(InterventionSession.school_id == school.id)
            .values(
                status=case(
                    (InterventionSession.id % 5 == 0, SessionStatus.NOT_DELIVERED.value),
                    else_=SessionStatus.DELIVERED.value,
                )
            )
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(SessionPupil)
            .where(
                SessionPupil.id % 9 == 0,
                SessionPupil.session_id.in_(
                    select(InterventionSession.id).where(InterventionSession.school_id == school.id)
                ),
            )
            .values(absent=True)
            .execution_options(synchronize_session=False)
        )
        reviewed = [(p, plan_ids[p]) for p in range(len(provision_ids)) if p % 3 != 2]
        review_ids = session.scalars(
            insert(Review).returning(Review.id, sort_by_parameter_order=True),
            [dict(plan_id=plan_id, cycle_number=1) for _, plan_id in reviewed],
        ).all()
        session.execute(
            insert(ReviewProvisionDecision),
            [
                dict(
                    review_id=review_id,
                    provision_id=provision_ids[p],
                    provision_what="Intervention",
                    position=0,
                    decision=DECISIONS[p % 3],
                    effectiveness=RATINGS[p % 4],
                )
                for (p, _), review_id in zip(reviewed, review_ids, strict=True)
            ],
        )
        return school.id


if __name__ == "__main__":
    sys.exit(main())
