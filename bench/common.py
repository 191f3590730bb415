"""What the bench scripts share: fresh databases to measure in, and a recorder of the work done.

Every measurement gets a database of its own, migrated to the latest schema: a temporary SQLite
file, and with `--postgres URL` also a database created on that PostgreSQL server for the
purpose and dropped afterwards. The recorder notes each SQL statement, commit and Slack API call
while it is on, so a script can say what one piece of work cost.

The scripts put the repository root on `sys.path` before importing this, so they run from a
checkout without installing.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import date

from slack_sdk import WebClient
from sqlalchemy import Engine, event, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

import handlers.scheduler
from bot import db
from bot.config import Settings
from bot.demo.slack_emulator import SlackEmulator
from bot.demo.slack_sender import SlackSender
from handlers.app import create_app
from handlers.server import HttpServer, link_workspace
from models import Plan, PlanStatus, Pupil, SenStage

# A fresh, migrated database, disposed of (and dropped, on PostgreSQL) when the block ends.
Database = Callable[[], AbstractContextManager[Engine]]

# The claim in outbox.claim_next: one per prompt, so it marks where each prompt's work starts.
CLAIM_PREFIX = "SELECT prompts.id, prompts.attempts, prompts.next_attempt_at"


# --- the databases --------------------------------------------------------------------------

# The signing secret the benchmarks' bot and their Slack sender share.
SECRET = "bench-secret"


def serve_bot(engine: Engine, sessions, slack: SlackEmulator) -> tuple[HttpServer, SlackSender]:
    """The bot's HTTP app on the benchmark's database, calling the emulator `slack`, and a
    sender that signs requests to it as Slack would. The caller stops the server."""
    settings = Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        slack_bot_token=slack.bot_token,
        slack_signing_secret=SECRET,
        slack_api_url=slack.api_url,
    )
    app = create_app(settings, session_factory=sessions)
    link_workspace(app, sessions)
    server = HttpServer(app).start()
    return server, SlackSender(server.url, SECRET, slack)


def add_postgres_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--postgres", metavar="URL", help="also measure on this PostgreSQL server")


def databases(postgres_url: str | None) -> list[tuple[str, Database]]:
    """The databases to measure on, by name: SQLite always, PostgreSQL when given a server."""
    found: list[tuple[str, Database]] = [("SQLite", fresh_sqlite)]
    if postgres_url:
        found.append(("PostgreSQL", lambda: fresh_postgres(postgres_url)))
    return found


@contextmanager
def fresh_sqlite() -> Iterator[Engine]:
    folder = tempfile.mkdtemp(prefix="sspbot-bench-")
    engine = db.make_engine(f"sqlite:///{folder}/bench.db")
    try:
        db.upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def fresh_postgres(server_url: str) -> Iterator[Engine]:
    admin = db.make_engine(server_url)
    name = f"sspbot_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    engine = db.make_engine(url)
    try:
        db.upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- recording ------------------------------------------------------------------------------


@dataclass
class Statement:
    at: float
    sql: str
    parameters: int
    seconds: float = 0.0
    """From just before the driver executes it until just after (rows not yet fetched)."""


@dataclass
class Phase:
    first: int
    commits_before: int
    started: float
    seconds: float = 0.0
    statements: list[Statement] = field(default_factory=list)
    commits: int = 0


@dataclass
class Recorder:
    """Every statement and commit the engine runs while `on`, with when it started and took."""

    on: bool = False
    statements: list[Statement] = field(default_factory=list)
    commits: int = 0
    slack: list[tuple[float, float]] = field(default_factory=list)
    """(started, seconds) of every Slack API call made through a `timed` client."""
    commit_times: list[tuple[float, float]] = field(default_factory=list)
    """(started, seconds) of every COMMIT."""

    def attach(self, engine: Engine) -> None:
        @event.listens_for(engine, "before_cursor_execute")
        def statement(_conn, _cursor, sql, parameters, _context, executemany):
            if self.on:
                size = len(parameters) if parameters is not None and not executemany else 0
                self.statements.append(Statement(time.perf_counter(), sql.lstrip(), size))

        @event.listens_for(engine, "after_cursor_execute")
        def executed(*_args):
            if self.on and self.statements:
                last = self.statements[-1]
                last.seconds = time.perf_counter() - last.at

        do_commit = engine.dialect.do_commit

        def timed_commit(dbapi_connection):  # this engine's dialect only
            started = time.perf_counter()
            try:
                return do_commit(dbapi_connection)
            finally:
                if self.on:
                    self.commits += 1
                    self.commit_times.append((started, time.perf_counter() - started))

        engine.dialect.do_commit = timed_commit

    def timed(self, client: WebClient) -> WebClient:
        """The client, with the time of each API call (retries included) recorded."""
        api_call = client.api_call

        def timed_call(*args, **kwargs):
            started = time.perf_counter()
            try:
                return api_call(*args, **kwargs)
            finally:
                self.slack.append((started, time.perf_counter() - started))

        client.api_call = timed_call
        return client

    @contextmanager
    def recording(self) -> Iterator[Phase]:
        phase = Phase(len(self.statements), self.commits, time.perf_counter())
        self.on = True
        try:
            yield phase
        finally:
            phase.seconds = time.perf_counter() - phase.started
            self.on = False
            phase.statements = self.statements[phase.first :]
            phase.commits = self.commits - phase.commits_before


@dataclass
class SweepTiming:
    """The split of one sweep: set by the wrapper around handlers.scheduler.deliver."""

    deliver_started: float | None = None
    deliver_statement: int | None = None
    deliver_commit: int | None = None


@contextmanager
def split_at_deliver(recorder: Recorder, timing: SweepTiming) -> Iterator[None]:
    """Notes when the sweep moves from queueing to delivering; calls the real deliver."""
    original = handlers.scheduler.deliver

    def deliver(*args, **kwargs):
        timing.deliver_started = time.perf_counter()
        timing.deliver_statement = len(recorder.statements)
        timing.deliver_commit = recorder.commits
        return original(*args, **kwargs)

    handlers.scheduler.deliver = deliver
    try:
        yield
    finally:
        handlers.scheduler.deliver = original


def claims(statements: list[Statement]) -> list[int]:
    """Where each delivered prompt's work starts: the outbox's claim queries, in order.

    The last claim of a delivery run found nothing, so it ends the last prompt's work.
    """
    return [i for i, s in enumerate(statements) if s.sql.startswith(CLAIM_PREFIX)]


def within(spans: list[tuple[float, float]], begin: float, end: float) -> float:
    """The seconds of the (started, seconds) spans that started in [begin, end)."""
    return sum(seconds for at, seconds in spans if begin <= at < end)


def api_calls(calls: Counter) -> str:
    """Slack API calls by method, e.g. "chat.postMessage 5, conversations.open 5"."""
    return ", ".join(f"{method} {n:,}" for method, n in sorted(calls.items())) or "none"


# --- a school's pupils and plans --------------------------------------------------------------


def add_pupils_with_plans(
    session: Session,
    school_id: int,
    *,
    pupils: int,
    plans: int | None = None,
    case_holders: Sequence[int],
    start_date: date,
    review_date: date,
    upn: Callable[[int], str],
    name: Callable[[int], tuple[str, str]] = lambda p: ("Alex", f"Pupil{p}"),
) -> tuple[list[int], list[int]]:
    """Inserts `pupils` synthetic pupils on SEN support and an active plan for the first
    `plans` of them (all, by default), held by `case_holders` in turn; one statement each.
    Returns the pupils' ids and the plans' ids, in order."""
    pupil_ids = session.scalars(
        insert(Pupil).returning(Pupil.id, sort_by_parameter_order=True),
        [
            dict(
                school_id=school_id,
                upn=upn(p),
                first_name=name(p)[0],
                last_name=name(p)[1],
                date_of_birth=date(2013, 1 + p % 12, 1 + p % 28),
                year_group=7 + p % 5,
                sen_stage=SenStage.SEN_SUPPORT,
            )
            for p in range(pupils)
        ],
    ).all()
    plan_ids = session.scalars(
        insert(Plan).returning(Plan.id, sort_by_parameter_order=True),
        [
            dict(
                school_id=school_id,
                pupil_id=pupil_id,
                cycle_number=1,
                status=PlanStatus.ACTIVE,
                start_date=start_date,
                review_date=review_date,
                case_holder_id=case_holders[p % len(case_holders)],
                version=1,
            )
            for p, pupil_id in enumerate(pupil_ids[: pupils if plans is None else plans])
        ],
    ).all()
    return list(pupil_ids), list(plan_ids)
