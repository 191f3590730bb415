"""Two people editing one plan: the second save is refused, never silently lost."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.services.plans import PlanChanged, PlanNotFound, edit_plan
from models import (
    AuditEvent,
    AuditLogIsAppendOnly,
    Plan,
    PlanTarget,
    StaffRole,
    TimelineEntry,
)
from tests import factories

NOW = datetime(2026, 11, 23, 10, 42, tzinfo=UTC)


@pytest.fixture
def plan_ids(sessions):
    with sessions.begin() as session:
        school = factories.school(session)
        holder = factories.staff(session, school, StaffRole.CASE_HOLDER, first="Priya")
        sendco = factories.staff(session, school, StaffRole.SENDCO, first="Morgan")
        plan = factories.plan(session, school, factories.pupil(session, school), holder)
        return {"school": school.id, "plan": plan.id, "holder": holder.id, "sendco": sendco.id}


def add_target(text: str):
    def edit(plan: Plan) -> str:
        plan.targets.append(PlanTarget(description=text))
        return "added a target"

    return edit


def edit_as(session, ids, staff_key, version, edit, now=NOW):
    from models import School, Staff

    return edit_plan(
        session,
        school=session.get(School, ids["school"]),
        plan_id=ids["plan"],
        expected_version=version,
        editor=session.get(Staff, ids[staff_key]),
        edit=edit,
        via="test",
        now=now,
    )


def test_a_save_moves_the_version_on_and_is_on_the_timeline_and_audit_log(sessions, plan_ids):
    with sessions.begin() as session:
        plan = edit_as(session, plan_ids, "holder", 1, add_target("Read 20 new words a week"))
        assert plan.version == 2

    with sessions() as session:
        plan = session.get(Plan, plan_ids["plan"])
        assert plan.version == 2
        assert [t.description for t in plan.targets] == ["Read 20 new words a week"]
        assert [e.summary for e in plan.timeline] == ["added a target"]
        event = session.scalars(select(AuditEvent)).one()
        assert (event.action, event.plan_id, event.actor_staff_id) == (
            "update",
            plan_ids["plan"],
            plan_ids["holder"],
        )


def test_a_save_based_on_an_old_version_is_refused_with_who_changed_it(sessions, plan_ids):
    with sessions.begin() as session:
        edit_as(session, plan_ids, "sendco", 1, add_target("SENDCo's target"))

    with sessions() as session, pytest.raises(PlanChanged) as refused:
        edit_as(session, plan_ids, "holder", 1, add_target("Case holder's target"))

    assert "Morgan" in str(refused.value) and "reload" in str(refused.value)
    assert refused.value.current_version == 2
    with sessions() as session:
        plan = session.get(Plan, plan_ids["plan"])
        assert [t.description for t in plan.targets] == ["SENDCo's target"]
        assert plan.version == 2


def test_two_saves_racing_from_open_sessions_cannot_overwrite_each_other(sessions, plan_ids):
    first, second = sessions(), sessions()
    try:
        # Both load version 1 before either saves.
        assert first.get(Plan, plan_ids["plan"]).version == 1
        assert second.get(Plan, plan_ids["plan"]).version == 1

        edit_as(first, plan_ids, "sendco", 1, add_target("First"))
        first.commit()

        with pytest.raises(PlanChanged) as refused:
            edit_as(second, plan_ids, "holder", 1, add_target("Second"))
        second.rollback()
        assert refused.value.current_version == 2
    finally:
        first.close()
        second.close()

    with sessions() as session:
        plan = session.get(Plan, plan_ids["plan"])
        assert [t.description for t in plan.targets] == ["First"]
        assert len(session.scalars(select(TimelineEntry)).all()) == 1


def test_a_plan_of_another_school_is_not_found(sessions, plan_ids):
    with sessions.begin() as session:
        other = factories.school(session, "Other School")
        plan_ids = {**plan_ids, "school": other.id}
    with sessions() as session, pytest.raises(PlanNotFound):
        edit_as(session, plan_ids, "holder", 1, add_target("x"))


def test_audit_events_cannot_be_changed_or_deleted(sessions, plan_ids):
    with sessions.begin() as session:
        edit_as(session, plan_ids, "holder", 1, add_target("x"))
    with sessions() as session:
        event = session.scalars(select(AuditEvent)).one()
        event.detail = "tampered"
        with pytest.raises(AuditLogIsAppendOnly):
            session.flush()
        session.rollback()
        session.delete(session.scalars(select(AuditEvent)).one())
        with pytest.raises(AuditLogIsAppendOnly):
            session.flush()
