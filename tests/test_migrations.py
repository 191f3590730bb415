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


def test_prompts_get_their_references_from_the_keys_they_had_before_0009(empty_db_url):
    from datetime import UTC, date, datetime

    from sqlalchemy import Boolean, Date, Integer, String, column, insert, select, table
    from sqlalchemy.orm import Session, defer

    engine = db.make_engine(empty_db_url)
    command.upgrade(db.alembic_config(engine), "0008")
    now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    with Session(engine) as session, session.begin():
        # Tables the models describe as they were at 0008, but for prompts and staff (0014 gave
        # staff its DM channel): a member of staff is inserted with the columns of 0008.
        # The school too, with the columns of 0008 (0017 gave schools their QA setting, 0035
        # their retention rule).
        old_schools = table(
            "schools",
            *(column(name, String) for name in ("name", "timezone", "pupil_display")),
            column("created_at", models.UTCDateTime),
        )
        school_id = session.execute(
            insert(old_schools)
            .values(
                name="Old Keys School",
                timezone="Europe/London",
                pupil_display="name",
                created_at=now,
            )
            .returning(column("id", Integer))
        ).scalar_one()
        school = session.get(
            models.School,
            school_id,
            options=[defer(models.School.qa_reviews), defer(models.School.retention_years)],
        )
        old_staff = table(
            "staff",
            column("school_id", Integer),
            *(column(name, String) for name in ("email", "first_name", "last_name")),
            column("is_active", Boolean),
            *(column(name, models.UTCDateTime) for name in ("created_at", "updated_at")),
        )
        staff = models.Staff(
            id=session.execute(
                insert(old_staff)
                .values(
                    school_id=school.id,
                    email="o@example.org",
                    first_name="O",
                    last_name="K",
                    is_active=True,
                    created_at=now,
                    updated_at=now,
                )
                .returning(column("id", Integer))
            ).scalar_one()
        )
        # The pupil with the columns of 0008 (0035 gave pupils their legal hold).
        old_pupils = table(
            "pupils",
            column("school_id", Integer),
            *(column(name, String) for name in ("upn", "first_name", "last_name", "sen_stage")),
            column("date_of_birth", Date),
            column("year_group", Integer),
            *(
                column(name, Boolean)
                for name in (
                    "taught_in_year_group",
                    "eal",
                    "pupil_premium",
                    "child_in_care",
                    "young_carer",
                    "medical_need",
                    "is_active",
                )
            ),
            *(column(name, models.UTCDateTime) for name in ("created_at", "updated_at")),
        )
        pupil = models.Pupil(
            id=session.execute(
                insert(old_pupils)
                .values(
                    school_id=school.id,
                    upn="A123456789013",
                    first_name="Ava",
                    last_name="Stone",
                    sen_stage="K",
                    date_of_birth=date(2012, 1, 1),
                    year_group=7,
                    taught_in_year_group=True,
                    eal=False,
                    pupil_premium=False,
                    child_in_care=False,
                    young_carer=False,
                    medical_need=False,
                    is_active=True,
                    created_at=now,
                    updated_at=now,
                )
                .returning(column("id", Integer))
            ).scalar_one()
        )
        # Plans too are inserted with the columns of 0008 (0018 gave them their closure).
        old_plans = table(
            "plans",
            *(column(name, Integer) for name in ("school_id", "pupil_id", "cycle_number")),
            *(column(name, Integer) for name in ("version",)),
            column("status", String),
            *(column(name, models.UTCDateTime) for name in ("created_at", "updated_at")),
        )
        plan = models.Plan(
            id=session.execute(
                insert(old_plans)
                .values(
                    school_id=school.id,
                    pupil_id=pupil.id,
                    cycle_number=1,
                    version=1,
                    status="active",
                    created_at=now,
                    updated_at=now,
                )
                .returning(column("id", Integer))
            ).scalar_one()
        )
        assignment = models.CaseHolderAssignment(plan_id=plan.id, staff_id=staff.id)
        session.add(assignment)
        session.flush()
        # A monitoring request with the columns of 0008 (0032 added its role and answers).
        old_requests = table(
            "monitoring_requests",
            *(
                column(name, Integer)
                for name in ("id", "school_id", "plan_id", "cycle_number", "teacher_id")
            ),
            column("status", String),
            column("created_at", models.UTCDateTime),
        )
        request_id = session.execute(
            insert(old_requests)
            .values(
                school_id=school.id,
                plan_id=plan.id,
                cycle_number=1,
                teacher_id=staff.id,
                status="open",
                created_at=now,
            )
            .returning(column("id", Integer))
        ).scalar_one()
        ids = (school.id, staff.id, plan.id, assignment.id, request_id)
    school_id, staff_id, plan_id, assignment_id, request_id = ids
    old_prompts = table(
        "prompts",
        *(column(name, Integer) for name in ("id", "school_id", "recipient_id", "plan_id")),
        *(column(name, String) for name in ("kind", "dedupe_key", "status")),
        column("due_at", models.UTCDateTime),
        column("created_at", models.UTCDateTime),
        column("attempts", Integer),
    )
    keys = {
        "assignment": f"assignment:{assignment_id}",
        "assignment_reminder": f"assignment_reminder:{assignment_id}",
        "assignment_declined": f"assignment_declined:{assignment_id}:{staff_id}",
        "assignment_ended": f"assignment_ended:{assignment_id}",
        "review_due": f"review_due:plan={plan_id}:cycle=2",
        "review_reminder": f"review_snoozed:plan={plan_id}:cycle=3",
        "monitoring_request": f"monitoring_request:{request_id}:asked=202611230900",
        "monitoring_digest": f"monitoring_digest:staff={staff_id}:day=2026-11-23",
        "qa_returned": f"qa_returned:{plan_id}:v4",
    }
    malformed = {
        "assignment:twelve": "assignment",
        f"assignment:{assignment_id + 99}": "assignment",
    }
    with engine.begin() as connection:
        for key, kind in [*((key, kind) for kind, key in keys.items()), *malformed.items()]:
            connection.execute(
                insert(old_prompts).values(
                    school_id=school_id,
                    recipient_id=staff_id,
                    plan_id=plan_id if kind.startswith(("review", "qa")) else None,
                    kind=kind,
                    dedupe_key=key,
                    status="sent",
                    due_at=now,
                    created_at=now,
                    attempts=1,
                )
            )

    db.upgrade(engine)

    with Session(engine) as session:
        found = {
            p.dedupe_key: (p.plan_id, p.cycle_number, p.assignment_id, p.monitoring_request_id)
            for p in session.scalars(select(models.Prompt))
        }
    assert found == {
        keys["assignment"]: (None, None, assignment_id, None),
        keys["assignment_reminder"]: (None, None, assignment_id, None),
        keys["assignment_declined"]: (None, None, assignment_id, None),
        keys["assignment_ended"]: (None, None, assignment_id, None),
        keys["review_due"]: (plan_id, 2, None, None),
        keys["review_reminder"]: (plan_id, 3, None, None),
        keys["monitoring_request"]: (None, None, None, request_id),
        keys["monitoring_digest"]: (None, None, None, None),
        keys["qa_returned"]: (plan_id, None, None, None),
        # A key that does not parse, or names a row long gone, leaves the reference empty.
        "assignment:twelve": (None, None, None, None),
        f"assignment:{assignment_id + 99}": (None, None, None, None),
    }
    assert schema_differences(engine) == []
    engine.dispose()


def test_0039_keeps_a_schools_sessions_and_their_prompts_and_foreign_keys_stay_on(empty_db_url):
    # 0039 rebuilds `prompts` on SQLite (batch mode): a school's sessions refer to their
    # prompts, and with foreign keys enforced the rebuild used to fail on the DROP.
    engine = db.make_engine(empty_db_url)
    command.upgrade(db.alembic_config(engine), "0038")
    stamp = "'2026-11-23 09:00:00'"
    with engine.begin() as connection:
        for statement in (
            "INSERT INTO schools (id, name, timezone, pupil_display, created_at, "
            "school_day_starts, school_day_ends, review_notice_school_days, "
            "review_interval_school_days, qa_reviews, retention_years) VALUES (1, 'S', "
            f"'Europe/London', 'name', {stamp}, '08:00', '16:00', 10, 60, 'every', 31)",
            "INSERT INTO staff (id, school_id, email, first_name, last_name, is_active, "
            f"created_at, updated_at) VALUES (1, 1, 'a@example.org', 'A', 'B', true, {stamp}, "
            f"{stamp})",
            "INSERT INTO provision_library (id, school_id, name, area_of_need, tier, is_active, "
            f"created_at, updated_at) VALUES (1, 1, 'L', 'semh', 'targeted', true, {stamp}, "
            f"{stamp})",
            "INSERT INTO intervention_groups (id, school_id, library_id, name, staff_id, "
            "weekdays, starts_at, minutes, starts_on, created_at) VALUES (1, 1, 1, 'G', 1, '1', "
            f"'08:40:00', 30, '2026-11-23', {stamp})",
            "INSERT INTO prompts (id, school_id, recipient_id, kind, dedupe_key, status, due_at, "
            "attempts, created_at, priority) VALUES (1, 1, 1, 'session_log', 'k', 'sent', "
            f"{stamp}, 1, {stamp}, 1)",
            "INSERT INTO intervention_sessions (id, school_id, group_id, held_on, starts_at, "
            "minutes, staff_id, status, prompt_id) VALUES (1, 1, 1, '2026-11-23', '08:40:00', "
            "30, 1, 'awaiting', 1)",
        ):
            connection.exec_driver_sql(statement)
    command.upgrade(db.alembic_config(engine), "head")
    with engine.connect() as connection:
        assert connection.exec_driver_sql(
            "SELECT id, prompt_id FROM intervention_sessions"
        ).all() == [(1, 1)]
        assert connection.exec_driver_sql("SELECT id, kind FROM prompts").all() == [
            (1, "session_log")
        ]
    command.downgrade(db.alembic_config(engine), "0038")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT prompt_id FROM intervention_sessions").all() == [
            (1,)
        ]
    if engine.dialect.name == "sqlite":
        # The app's connections still enforce foreign keys.
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()
