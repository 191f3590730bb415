"""Engines, sessions and schema upgrades for SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger(__name__)


class DatabaseUnavailable(Exception):
    """The database cannot be reached. str() is one line fit to show the user."""


@dataclass(frozen=True)
class Limits:
    """How long the app waits on the database before giving up and saying so.

    PostgreSQL enforces `statement` and `lock` itself, cancelling the statement and keeping the
    connection. It can't when it hangs, or when the network to it silently drops packets: then
    `answer` is how long this side waits for any reply on a connection before closing it.
    `connect` is libpq's connect_timeout (whole seconds, at least 2). SQLite has no network:
    `busy` is how long it waits for another writer to finish.
    """

    connect: int
    statement: float
    lock: float
    answer: float
    busy: float


# Handling a Slack request: Slack wants an answer within 3 seconds, and a stalled database
# must be noticed, and said, inside them. Worst case: a pooled connection's pre-ping waits
# `answer` (2 s), after which nothing more is tried in that unit of work; or a new connection
# waits `connect` (2 s). The app's own statements take milliseconds, so 1.5 s is a fault.
FOR_REQUESTS = Limits(connect=2, statement=1.5, lock=1.0, answer=2.0, busy=1.5)
# Everything else (the scheduler's sweeps, imports, the roster sync, `sspbot` commands): nobody
# is waiting on a 3-second clock, and an import of a large school may run long statements;
# but a hung database must still end a sweep or a cron job rather than hold it for ever.
FOR_BATCH = Limits(connect=10, statement=300.0, lock=30.0, answer=330.0, busy=30.0)
# /readyz: does the database answer SELECT 1 at once?
FOR_READINESS = Limits(connect=2, statement=1.0, lock=1.0, answer=1.5, busy=1.0)

# The limits of the unit of work running on this thread (None: the engine's own), and whether
# the database has already failed to answer inside it.
_local = threading.local()


def make_engine(url: str, limits: Limits = FOR_BATCH) -> Engine:
    """An engine for the URL, with the per-connection settings each backend needs.

    `limits` apply to work outside `unit_of_work(..., limits=...)`, which sets its own for its
    block (the app's request handling passes FOR_REQUESTS). For PostgreSQL a connect_timeout or
    `options` in the URL's query wins over the defaults here.

    Its errors never show the statement's parameters (search terms, plan text, names): a
    traceback in the log carries the SQL alone. And SQLAlchemy's own logger, which at INFO and
    DEBUG writes every parameter and every row read, stays at WARNING unless someone set it.
    """
    sql_log = logging.getLogger("sqlalchemy")
    if sql_log.level == logging.NOTSET:
        sql_log.setLevel(logging.WARNING)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": limits.busy}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "checkout", _sqlite_busy_timeout(limits))
        return engine
    # Pre-ping: a connection the server or network dropped while it sat in the pool is
    # replaced before use, not discovered by a failed statement.
    engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)
    event.listen(engine, "do_connect", _postgresql_connect(limits))
    return engine


def answers(factory: sessionmaker[Session], limits: Limits = FOR_READINESS) -> bool:
    """Whether the database answers a trivial query within `limits` (for /readyz)."""
    try:
        with _limited(limits), factory() as session:
            connection = session.connection()
            if connection.dialect.name == "postgresql":
                _set_local_limits(connection, limits)
            connection.execute(text("SELECT 1"))
        return True
    except (DBAPIError, PoolTimeout):
        return False


def is_unavailable(error: BaseException) -> bool:
    """Whether `error` means the database could not be reached, went away, or did not answer in
    time (rather than a mistake in a statement): what a person is told to try again later."""
    if isinstance(error, DatabaseUnavailable | InterfaceError | PoolTimeout):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    original = error.orig
    sqlite_name = getattr(original, "sqlite_errorname", None)
    if sqlite_name is not None:
        return sqlite_name.startswith(_SQLITE_UNAVAILABLE)
    if not isinstance(error, OperationalError):
        return False
    state = getattr(original, "sqlstate", None)
    # No SQLSTATE: psycopg's own connection errors (refused, closed, timed out, no answer).
    return state is None or state.startswith(_POSTGRESQL_UNAVAILABLE)


def is_busy(error: BaseException) -> bool:
    """Whether `error` is a lock another transaction held past our lock timeout (someone else
    changing the same rows), rather than the database being away: one of is_unavailable's."""
    original = getattr(error, "orig", None)
    if getattr(original, "sqlite_errorname", None) in ("SQLITE_BUSY", "SQLITE_LOCKED"):
        return True
    return getattr(original, "sqlstate", None) == "55P03"


# SQLSTATE classes and codes: connection exception, operator intervention (a cancelled
# statement, a shutdown), insufficient resources, a lock not available.
_POSTGRESQL_UNAVAILABLE = ("08", "57", "53", "55P03")
_SQLITE_UNAVAILABLE = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CANTOPEN", "SQLITE_IOERR")


def unavailable_reason(error: BaseException) -> str:
    """The first line of what the driver said, without the statement: fit for one line."""
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    return lines[0] if lines else type(original).__name__


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session], limits: Limits | None = None) -> Iterator[Session]:
    """A session that commits if the block succeeds and rolls back if it raises.

    With `limits`, every wait on the database inside the block (connecting, the pool's
    pre-ping, each statement, the commit) is bounded by them instead of the engine's.
    """
    with _limited(limits), factory() as session:
        if limits is not None:
            event.listen(session, "after_begin", _apply_limits(limits))
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def _limited(limits: Limits | None) -> Iterator[None]:
    saved = getattr(_local, "limits", None), getattr(_local, "stalled", False)
    _local.limits, _local.stalled = limits, False
    try:
        yield
    finally:
        _local.limits, _local.stalled = saved


def _apply_limits(limits: Limits):
    def after_begin(session, transaction, connection) -> None:
        if connection.dialect.name == "postgresql":
            _set_local_limits(connection, limits)

    return after_begin


def _set_local_limits(connection, limits: Limits) -> None:
    # For this transaction only: the pool's connections are shared with the scheduler, whose
    # limits are the engine's.
    connection.exec_driver_sql(
        "SELECT set_config('statement_timeout', %(statement)s, true), "
        "set_config('lock_timeout', %(lock)s, true)",
        {"statement": _ms(limits.statement), "lock": _ms(limits.lock)},
    )


def _ms(seconds: float) -> str:
    return f"{round(seconds * 1000)}ms"


def _current(default: Limits) -> Limits:
    return getattr(_local, "limits", None) or default


def _postgresql_connect(default: Limits):
    """Connects with psycopg's Connection replaced by the guarded one, with the limits of
    the unit of work running (or the engine's)."""

    def connect(dialect, record, cargs, cparams):
        limits = _current(default)
        if getattr(_local, "limits", None) is not None and getattr(_local, "stalled", False):
            # The database has already failed to answer in this unit of work: trying a new
            # connection would only spend the rest of the time Slack gives us.
            from psycopg import OperationalError as DriverError

            raise DriverError("the database did not answer; not trying again just now")
        if getattr(_local, "limits", None) is not None:
            cparams["connect_timeout"] = limits.connect
        else:
            cparams.setdefault("connect_timeout", limits.connect)
        # The connection outlives this unit of work: its own settings are the engine's.
        cparams.setdefault(
            "options",
            f"-c statement_timeout={_ms(default.statement)} -c lock_timeout={_ms(default.lock)}",
        )
        connection = _guarded_connection_class().connect(*cargs, **cparams)
        connection.default_limits = default
        return connection

    return connect


_guarded: type | None = None


def _guarded_connection_class() -> type:
    """psycopg's Connection, whose every wait for the server (a statement, a fetch, a commit,
    the pool's pre-ping) gives up after the current limits' `answer` seconds, closing the
    connection: a server that hangs, or a network that drops packets, can't hold a thread."""
    global _guarded
    if _guarded is not None:
        return _guarded
    import inspect

    import psycopg
    from psycopg import errors

    if "timeout" not in inspect.signature(psycopg.Connection.wait).parameters:
        # psycopg before 3.3 can't bound a wait (pyproject asks for 3.3): statement and connect
        # timeouts still apply, but a hung server or network holds the thread.
        log.warning(
            "psycopg %s can't time out a wait: upgrade to 3.3 or later", psycopg.__version__
        )
        _guarded = psycopg.Connection
        return _guarded
    wait_timeout = getattr(errors, "_WaitTimeout", errors.OperationalError)

    class GuardedConnection(psycopg.Connection):
        default_limits: Limits = FOR_BATCH

        def wait(self, gen, *args, **kwargs):
            limit = kwargs.get("timeout")
            if len(args) < 2 and limit is None:
                limit = kwargs["timeout"] = _current(self.default_limits).answer
            try:
                return super().wait(gen, *args, **kwargs)
            except wait_timeout as error:
                if self.closed:
                    raise
                # The server is in an unknown state half-way through our request: the only
                # safe thing is to drop the connection, which the pool then replaces.
                self.pgconn.finish()
                if getattr(_local, "limits", None) is not None:
                    _local.stalled = True
                raise psycopg.OperationalError(
                    f"the database did not answer within {limit:g} s"
                ) from error

    _guarded = GuardedConnection
    return _guarded


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with _connect(engine) as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> bool:
    """Brings the schema to head. Returns True if anything was applied."""
    if current_revision(engine) == head_revision():
        return False
    command.upgrade(alembic_config(engine), "head")
    return True


def describe(engine: Engine) -> str:
    """The engine's URL, safe to print."""
    return engine.url.render_as_string(hide_password=True)


@contextmanager
def _connect(engine: Engine):
    try:
        connection = engine.connect()
    except DBAPIError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else "unknown error"
        raise DatabaseUnavailable(
            f"Cannot reach the database at {describe(engine)}: {reason}. "
            "Check that it is running and that DATABASE_URL is right."
        ) from None
    with connection:
        yield connection


def _sqlite_busy_timeout(default: Limits):
    """SQLite waits for another writer's lock up to its busy timeout: the current limits'."""

    def checkout(dbapi_connection, record, proxy) -> None:
        wanted = round(_current(default).busy * 1000)
        if record.info.get("busy_timeout") != wanted:
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout = {wanted}")
            cursor.close()
            record.info["busy_timeout"] = wanted

    return checkout


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # SQLite ignores foreign keys unless asked; WAL lets readers work while the scheduler writes.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def insert_skipping_existing(session, model, rows: list[dict], key: list[str]) -> None:
    """Inserts `rows` in one statement; a row whose `key` (a unique constraint) is already
    taken is skipped, so a concurrent writer's row stands. PostgreSQL and SQLite both say it
    with ON CONFLICT DO NOTHING."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    session.execute(insert(model).on_conflict_do_nothing(index_elements=key), rows)
