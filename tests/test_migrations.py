"""The migrations, run from an empty database, produce exactly the schema the models describe."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

import models
from bot import db
from tests.conftest import POSTGRES_URL


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def empty_db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    request.getfixturevalue("postgres_server_url")  # skips (or fails in CI) without PostgreSQL
    admin = db.make_engine(POSTGRES_URL)
    name = f"sspbot_empty_{uuid.uuid4().hex[:10]}"
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def schema_differences(engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return compare_metadata(context, models.Base.metadata)


def test_upgrade_from_empty_matches_the_models(empty_db_url):
    engine = db.make_engine(empty_db_url)
    assert db.current_revision(engine) is None

    assert db.upgrade(engine) is True

    assert db.current_revision(engine) == db.head_revision()
    assert schema_differences(engine) == []
    tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert tables == set(models.Base.metadata.tables)
    engine.dispose()


def test_upgrade_twice_changes_nothing(empty_db_url):
    engine = db.make_engine(empty_db_url)
    db.upgrade(engine)
    assert db.upgrade(engine) is False
    engine.dispose()


def test_downgrade_to_empty_and_back(empty_db_url):
    engine = db.make_engine(empty_db_url)
    db.upgrade(engine)
    command.downgrade(db.alembic_config(engine), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    db.upgrade(engine)
    assert schema_differences(engine) == []
    engine.dispose()


def test_one_open_plan_per_pupil_is_enforced_by_the_schema(session):
    from datetime import date

    from sqlalchemy.exc import IntegrityError

    school = models.School(name="Schema School")
    pupil = models.Pupil(
        school=school,
        upn="A123456789012",
        first_name="Test",
        last_name="Pupil",
        date_of_birth=date(2012, 1, 1),
        year_group=9,
    )
    session.add_all(
        [
            models.Plan(school=school, pupil=pupil, status=models.PlanStatus.CLOSED),
            models.Plan(school=school, pupil=pupil, status=models.PlanStatus.ACTIVE),
        ]
    )
    session.flush()  # a closed plan and an open one may coexist
    session.add(models.Plan(school=school, pupil=pupil, status=models.PlanStatus.DRAFT))
    with pytest.raises(IntegrityError):
        session.flush()


def test_every_prompt_kind_the_models_know_is_allowed_by_the_migrated_schema(session):
    from datetime import UTC, datetime

    school = models.School(name="Kinds School")
    staff = models.Staff(school=school, email="k@example.org", first_name="K", last_name="K")
    session.add_all([school, staff])
    session.flush()
    now = datetime(2026, 11, 23, tzinfo=UTC)
    for kind in models.PromptKind:
        session.add(
            models.Prompt(
                school_id=school.id,
                recipient_id=staff.id,
                kind=kind,
                dedupe_key=f"kind:{kind.value}",
                due_at=now,
            )
        )
    session.flush()  # a CHECK that lags behind the enum would fail here
