"""A morning's intervention-session sweep for a trust of schools: its time and SQL statements.

    .venv/bin/python bench/session_sweep.py [--schools 20] [--groups-per-school 40]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

A synthetic trust in a fresh database (a temporary SQLite file; with --postgres also a database
created on that server and dropped afterwards): each school has its own workspace, a SENDCo, 15
members of staff who run groups, 160 pupils, and --groups-per-school intervention groups of 4
pupils (Monday to Friday, at 08:40, 09:30 or 10:20, 30 minutes), each run by one of the 15, made
here (not in bench/common.py). No calendar is imported, so every weekday is a school day; no
plan has a review due, so the sweep owes only the sessions' DMs.

Timed, with the SQL statements counted (bench.common.Recorder), each a whole
`handlers.scheduler.sweep` as the scheduler runs it (queueing, then delivering the DMs through
the emulator, unpaced), and the queueing part alone (`session_log.create_due_prompts` for every
school, split at the delivery as bench/bench_sweep.py does):

1. Monday 23 November 11:00, the groups having started on Monday 9 November: the first sweep
   catches up two weeks of sessions (rows made, one DM per member of staff);
2. straight after: nothing new;
3. Tuesday 11:00: a normal morning (the day's sessions made, one DM each).

No assertions: the figures are printed.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime
from datetime import time as clock
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select  # noqa: E402

import handlers.scheduler  # noqa: E402
from bench.common import (  # noqa: E402
    Recorder,
    SweepTiming,
    add_postgres_option,
    add_pupils_with_plans,
    api_calls,
    databases,
    split_at_deliver,
)
from bot import db  # noqa: E402
from bot.demo.slack_emulator import SlackEmulator  # noqa: E402
from handlers.slack_api import make_client  # noqa: E402
from handlers.workspaces import GivenWorkspaces  # noqa: E402
from models import (  # noqa: E402
    BroadArea,
    GroupMember,
    InterventionGroup,
    InterventionSession,
    LibraryProvision,
    Prompt,
    PromptKind,
    ProvisionTier,
    School,
    Staff,
    StaffRole,
)

STARTED = date(2026, 11, 9)  # the groups' first day: two weeks before the first sweep
MONDAY = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)  # GMT in November: 11:00 at school
TUESDAY = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
RUNNERS = 15
PUPILS = 160
GROUP_SIZE = 4
TIMES = (clock(8, 40), clock(9, 30), clock(10, 20))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=20)
    parser.add_argument("--groups-per-school", type=int, default=40)
    add_postgres_option(parser)
    args = parser.parse_args(argv)
    for label, database in databases(args.postgres):
        with database() as engine:
            measure(label, engine, args.schools, args.groups_per_school)
    return 0


def measure(label: str, engine, schools: int, groups: int) -> None:
    sessions = db.make_session_factory(engine)
    recorder = Recorder()
    recorder.attach(engine)
    with SlackEmulator() as emulator:
        started = time.perf_counter()
        build_trust(sessions, emulator, schools, groups)
        client = GivenWorkspaces(
            {
                team_of(s): make_client(token_of(s), emulator.api_url, paced=False)
                for s in range(1, schools + 1)
            }
        )
        print(
            f"\n{label}: {schools} schools x {groups} groups of {GROUP_SIZE} pupils, run by "
            f"{RUNNERS} staff each (data built in {time.perf_counter() - started:.1f} s)",
            flush=True,
        )
        for title, now in (
            ("Monday 11:00, first sweep: two weeks to catch up", MONDAY),
            ("Monday 11:00 again, straight after: nothing new", MONDAY),
            ("Tuesday 11:00: a normal morning", TUESDAY),
        ):
            sweep(recorder, sessions, client, emulator, title, now)
    engine.dispose()


def sweep(recorder, sessions, client, emulator, title: str, now: datetime) -> None:
    timing = SweepTiming()
    calls_before = len(emulator.calls)
    rows_before, prompts_before = _counts(sessions)
    with split_at_deliver(recorder, timing), recorder.recording() as phase:
        handlers.scheduler.sweep(sessions, client, now)
    rows, prompts = _counts(sessions)
    split = (timing.deliver_statement or len(recorder.statements)) - phase.first
    queue_seconds = (timing.deliver_started or phase.started + phase.seconds) - phase.started
    calls = Counter(c.method for c in emulator.calls[calls_before:])
    print(f"  {title}")
    print(
        f"    whole sweep     {phase.seconds:8.2f} s  {len(phase.statements):,} statements, "
        f"{phase.commits} commits"
    )
    print(
        f"    queueing        {queue_seconds:8.2f} s  {split:,} statements: "
        f"{rows - rows_before:,} sessions made, {prompts - prompts_before:,} DMs queued"
    )
    print(
        f"    delivering      {phase.seconds - queue_seconds:8.2f} s  "
        f"{len(phase.statements) - split:,} statements, Slack: {api_calls(calls) or 'none'}"
    )


def _counts(sessions) -> tuple[int, int]:
    with sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(InterventionSession)),
            session.scalar(
                select(func.count())
                .select_from(Prompt)
                .where(Prompt.kind == PromptKind.SESSION_LOG)
            ),
        )


def team_of(s: int) -> str:
    return f"T{s:02d}SESS"


def token_of(s: int) -> str:
    return f"xoxb-sessions-school-{s:02d}"


def build_trust(sessions, emulator: SlackEmulator, schools: int, groups: int) -> None:
    """Schools, staff (in the emulator too), pupils, a small library and the groups."""
    for s in range(1, schools + 1):
        with db.unit_of_work(sessions) as session:
            school = School(name=f"Bench School {s:02d}", slack_team_id=team_of(s))
            session.add(school)
            emulator.add_workspace(team_of(s), token_of(s))
            staff = []
            for n in range(RUNNERS + 1):
                role = StaffRole.SENDCO if n == 0 else StaffRole.TEACHING_ASSISTANT
                user_id = f"U{s:02d}{n:05d}"
                member = Staff(
                    school=school,
                    email=f"staff{n}@school{s:02d}.example.org",
                    first_name="Sendco" if n == 0 else "Assistant",
                    last_name=f"Number{n}",
                    slack_user_id=user_id,
                )
                member.set_roles({role})
                staff.append(member)
                emulator.add_user(
                    user_id, email=member.email, real_name=member.last_name, team_id=team_of(s)
                )
            session.add_all(staff)
            session.flush()
            pupil_ids, _ = add_pupils_with_plans(
                session,
                school.id,
                pupils=PUPILS,
                plans=1,  # one plan, its review months away: nothing else is due
                case_holders=[staff[0].id],
                start_date=STARTED,
                review_date=date(2027, 3, 1),
                upn=lambda p, s=s: f"S{s:02d}{p:010d}",
            )
            library = [
                LibraryProvision(
                    school_id=school.id,
                    name=name,
                    area_of_need=BroadArea.COGNITION_AND_LEARNING,
                    tier=ProvisionTier.TARGETED,
                    group_size=GROUP_SIZE,
                    session_minutes=30,
                )
                for name in ("Lexia", "Toe by Toe", "Numicon")
            ]
            session.add_all(library)
            session.flush()
            group_ids = session.scalars(
                insert(InterventionGroup).returning(
                    InterventionGroup.id, sort_by_parameter_order=True
                ),
                [
                    dict(
                        school_id=school.id,
                        library_id=library[g % len(library)].id,
                        name=f"{library[g % len(library)].name} {g}",
                        staff_id=staff[1 + g % RUNNERS].id,
                        weekdays="1,2,3,4,5",
                        starts_at=TIMES[g % len(TIMES)],
                        minutes=30,
                        starts_on=STARTED,
                    )
                    for g in range(groups)
                ],
            ).all()
            session.execute(
                insert(GroupMember),
                [
                    dict(
                        group_id=group_id,
                        pupil_id=pupil_ids[(g * GROUP_SIZE + m) % len(pupil_ids)],
                        joined_on=STARTED,
                    )
                    for g, group_id in enumerate(group_ids)
                    for m in range(GROUP_SIZE)
                ],
            )


if __name__ == "__main__":
    sys.exit(main())
