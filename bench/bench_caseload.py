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
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot import db  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.demo.school import create_demo_school  # noqa: E402
from bot.demo.slack_emulator import SlackEmulator  # noqa: E402
from bot.demo.slack_sender import SlackSender  # noqa: E402
from handlers.app import create_app  # noqa: E402
from handlers.server import HttpServer, link_workspace  # noqa: E402
from models import Staff, StaffRole  # noqa: E402

SECRET = "bench-secret"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="300,1200,2400")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--postgres", metavar="URL", help="also measure on this PostgreSQL server")
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    print(
        f"{'database':<10} {'pupils':>7} {'plans':>6} {'statements':>10} "
        f"{'median ms':>10} {'p95 ms':>8}"
    )
    for size in sizes:
        with tempfile.TemporaryDirectory() as folder:
            measure("sqlite", f"sqlite:///{folder}/bench.db", size, args.runs)
    if args.postgres:
        for size in sizes:
            with postgres_database(args.postgres) as url:
                measure("postgresql", url, size, args.runs)


def measure(label: str, url: str, pupils: int, runs: int) -> None:
    engine = db.make_engine(url)
    db.upgrade(engine)
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
        settings = Settings(
            database_url=url,
            slack_bot_token=slack.bot_token,
            slack_signing_secret=SECRET,
            slack_api_url=slack.api_url,
        )
        app = create_app(settings, session_factory=sessions)
        link_workspace(app, sessions)
        server = HttpServer(app).start()
        sender = SlackSender(server.url, SECRET, slack)
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
    engine.dispose()


def summary_plans(summary) -> list[int]:
    by_status = getattr(summary, "plans_by_status", None)
    return list(by_status.values()) if isinstance(by_status, dict) else [0]


class postgres_database:
    def __init__(self, server_url: str) -> None:
        self.admin = db.make_engine(server_url)
        self.name = f"sspbot_bench_{uuid.uuid4().hex[:8]}"
        self.url = (
            make_url(server_url).set(database=self.name).render_as_string(hide_password=False)
        )

    def __enter__(self) -> str:
        with self.admin.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text(f'CREATE DATABASE "{self.name}"'))
        return self.url

    def __exit__(self, *exc) -> None:
        with self.admin.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


if __name__ == "__main__":
    main()
