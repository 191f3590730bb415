"""Engines, sessions and schema upgrades for SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"


class DatabaseUnavailable(Exception):
    """The database cannot be reached. str() is one line fit to show the user."""


def make_engine(url: str) -> Engine:
    """An engine for the URL, with the per-connection settings each backend needs.

    Its errors never show the statement's parameters (search terms, plan text, names): a
    traceback in the log carries the SQL alone. And SQLAlchemy's own logger, which at INFO and
    DEBUG writes every parameter and every row read, stays at WARNING unless someone set it.
    """
    sql_log = logging.getLogger("sqlalchemy")
    if sql_log.level == logging.NOTSET:
        sql_log.setLevel(logging.WARNING)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits if the block succeeds and rolls back if it raises."""
    with factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


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
