"""How fast `/ssp caseload` answers, and how many SQL statements it takes, as the school grows.

    .venv/bin/python bench/bench_caseload.py [--sizes 300,1200,2400] [--runs 20]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

For each school size: a synthetic school in a fresh database, then `/ssp caseload` typed by the
SENDCo over signed HTTP against the running app and the Slack emulator (time until the answer
reaches the response URL), and the SQL statements one answer issues. The statement count must
not grow with the number of pupils.
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

from sqlalchemy import Engine, event, select  # noqa: E402

from bench.common import add_postgres_option, databases, serve_bot  # noqa: E402
from bot import db  # noqa: E402
from bot.demo.school import create_demo_school  # noqa: E402
from bot.demo.slack_emulator import SlackEmulator  # noqa: E402
from models import Staff, StaffRole  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="300,1200,2400")
    parser.add_argument("--runs", type=int, default=20)
    add_postgres_option(parser)
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    print(
        f"{'database':<10} {'pupils':>7} {'plans':>6} {'statements':>10} "
        f"{'median ms':>10} {'p95 ms':>8}"
    )
    for label, database in databases(args.postgres):
        for size in sizes:
            with database() as engine:
                measure(label.lower(), engine, size, args.runs)


def measure(label: str, engine: Engine, pupils: int, runs: int) -> None:
    sessions = db.make_session_factory(engine)
    today = datetime.now(UTC).date()
    with db.unit_of_work(sessions) as session:
        summary = create_demo_school(
            session, name="Bench Academy", seed=7, pupils=pupils, today=today
        )
    with sessions() as session:
        sendco = next(s for s in session.scalars(select(Staff)) if StaffRole.SENDCO in s.roles)
        sendco_slack = sendco.slack_user_id or "U0BENCHSENDCO"
        sendco.slack_user_id = sendco_slack
        session.commit()
        email = sendco.email
    statements = []
    with SlackEmulator() as slack:
        slack.add_user(sendco_slack, email=email)
        server, sender = serve_bot(engine, sessions, slack)
        timings = []
        counting = {"on": False}

        @event.listens_for(engine, "before_cursor_execute")
        def count(*_args):
            if counting["on"]:
                statements.append(1)

        for run in range(runs + 1):
            before = len(slack.responses)
            counting["on"] = run == 0
            started = time.perf_counter()
            sender.command(sendco_slack, "caseload")
            slack.wait_for(lambda calls, before=before: len(slack.responses) > before, timeout=30)
            if run:  # the first answer warms caches; it is the one whose statements are counted
                timings.append((time.perf_counter() - started) * 1000)
            counting["on"] = False
        server.stop()
    plans = sum(summary_plans(summary))
    timings.sort()
    p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
    print(
        f"{label:<10} {pupils:>7} {plans:>6} {len(statements):>10} "
        f"{statistics.median(timings):>10.1f} {p95:>8.1f}",
        flush=True,
    )


def summary_plans(summary) -> list[int]:
    by_status = getattr(summary, "plans_by_status", None)
    return list(by_status.values()) if isinstance(by_status, dict) else [0]


if __name__ == "__main__":
    main()
