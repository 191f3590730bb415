"""How fast a teacher's class view answers, and how many SQL statements it takes.

    .venv/bin/python bench/class_view.py [--pupils 1200] [--runs 20]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

The synthetic school (`sspbot demo-data`'s, 1,200 pupils by default) in a fresh database; the
teacher whose classes hold the most pupils with a plan types `/ssp class` (their classes, with
counts) and `/ssp class <code>` (their class with the most pupils with a plan: key strategies,
access arrangements) over signed HTTP against the running app and the Slack emulator. Printed:
the time until the answer reaches the response URL (median and 95th percentile), and the SQL
statements one answer issues, which must not grow with the class or the school (no query per
pupil).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

# Run from a checkout without installing: the repository root holds `bot` and `models`.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, event, func, select  # noqa: E402

from bench.common import add_postgres_option, databases, serve_bot  # noqa: E402
from bot import db  # noqa: E402
from bot.demo.school import create_demo_school  # noqa: E402
from bot.demo.slack_emulator import SlackEmulator  # noqa: E402
from models import (  # noqa: E402
    Plan,
    PlanStatus,
    Staff,
    TeachingGroup,
    TeachingGroupPupil,
    TeachingGroupTeacher,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=1200)
    parser.add_argument("--runs", type=int, default=20)
    add_postgres_option(parser)
    args = parser.parse_args()
    print(
        f"{'database':<10} {'pupils':>7} {'command':<24} {'listed':>6} {'statements':>10} "
        f"{'median ms':>10} {'p95 ms':>8}"
    )
    for label, database in databases(args.postgres):
        with database() as engine:
            measure(label.lower(), engine, args.pupils, args.runs)


def measure(label: str, engine: Engine, pupils: int, runs: int) -> None:
    sessions = db.make_session_factory(engine)
    today = datetime.now(UTC).date()
    with db.unit_of_work(sessions) as session:
        create_demo_school(session, name="Bench Academy", seed=7, pupils=pupils, today=today)
    with sessions() as session:
        teacher_id, code, with_plan = _busiest_class(session)
        teacher = session.get(Staff, teacher_id)
        teacher.slack_user_id = teacher.slack_user_id or "U0BENCHTEACHER"
        user, email = teacher.slack_user_id, teacher.email
        session.commit()
    with SlackEmulator() as slack:
        slack.add_user(user, email=email)
        server, sender = serve_bot(engine, sessions, slack)
        for typed, listed in (("class", "-"), (f"class {code}", str(with_plan))):
            statements, timings = _time(engine, slack, sender, user, typed, runs)
            timings.sort()
            p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
            print(
                f"{label:<10} {pupils:>7} {'/ssp ' + typed:<24} {listed:>6} {statements:>10} "
                f"{statistics.median(timings):>10.1f} {p95:>8.1f}",
                flush=True,
            )
        server.stop()


def _busiest_class(session) -> tuple[int, str, int]:
    """(teacher id, class code, pupils with a plan) for the class with the most plans."""
    row = session.execute(
        select(
            TeachingGroupTeacher.staff_id,
            TeachingGroup.code,
            func.count(Plan.id),
        )
        .join(TeachingGroup, TeachingGroup.id == TeachingGroupTeacher.group_id)
        .join(TeachingGroupPupil, TeachingGroupPupil.group_id == TeachingGroup.id)
        .join(
            Plan,
            (Plan.pupil_id == TeachingGroupPupil.pupil_id) & (Plan.status != PlanStatus.CLOSED),
        )
        .where(TeachingGroupTeacher.is_active.is_(True), TeachingGroup.is_active.is_(True))
        .group_by(TeachingGroupTeacher.staff_id, TeachingGroup.code)
        .order_by(func.count(Plan.id).desc(), TeachingGroup.code)
        .limit(1)
    ).one()
    return row[0], row[1], row[2]


def _time(engine, slack, sender, user: str, typed: str, runs: int) -> tuple[int, list[float]]:
    statements = []
    counting = {"on": False}

    def count(*_args):
        if counting["on"]:
            statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    timings = []
    try:
        for run in range(runs + 1):
            before = len(slack.responses)
            counting["on"] = run == 0
            started = time.perf_counter()
            sender.command(user, typed)
            slack.wait_for(lambda calls, before=before: len(slack.responses) > before, timeout=30)
            if run:  # the first answer warms caches; it is the one whose statements are counted
                timings.append((time.perf_counter() - started) * 1000)
            counting["on"] = False
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements), timings


if __name__ == "__main__":
    main()
