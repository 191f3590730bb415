"""A pupil the Microsoft 365 sync marks as left: their plan's prompts stop and the SENDCo is
asked to close it (tests/test_m365.py drives the Graph stand-in)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from bot.services.closure import leavers_plans
from models import Plan, PlanStatus, Prompt, PromptKind, PromptStatus, Pupil, Staff, StaffRole
from tests import test_m365
from tests.test_m365 import CLUB, MATHS, NOW, serve_changes, serve_everything, sync, token_ok, upn

# test_m365's fixtures: the Graph stand-in, a fresh sign-in per test, the school.
graph = test_m365.graph
fresh_sign_ins = test_m365.fresh_sign_ins
school = test_m365.school


def test_a_leaver_from_the_sync_stops_their_prompts_and_the_sendco_is_asked(
    graph, sessions, db_url, school
):
    token_ok(graph)
    serve_everything(graph)
    sync(sessions, db_url)
    with sessions.begin() as session:
        bea = session.scalars(select(Staff).where(Staff.first_name == "Bea")).one()
        bea.set_roles({StaffRole.SENDCO})
        quin = session.scalars(select(Pupil).where(Pupil.upn == upn(2))).one()
        plan = Plan(
            school_id=school,
            pupil=quin,
            status=PlanStatus.ACTIVE,
            cycle_number=1,
            review_date=date(2026, 11, 20),
            case_holder_id=bea.id,
        )
        session.add(plan)
        session.flush()
        session.add(
            Prompt(
                school_id=school,
                recipient_id=bea.id,
                kind=PromptKind.REVIEW_REMINDER,
                plan_id=plan.id,
                cycle_number=1,
                dedupe_key="review_reminder:quin",
                due_at=datetime(2026, 11, 25, 9, tzinfo=NOW.tzinfo),
            )
        )
        ids = {"plan": plan.id, "bea": bea.id}

    token_ok(graph)
    serve_changes(
        graph,
        users=[{"id": "u-quin", "@removed": {"reason": "changed"}}],
        class_ids=[MATHS["id"], CLUB["id"]],
    )
    sync(sessions, db_url)

    with sessions() as session:
        reminder = session.scalars(
            select(Prompt).where(Prompt.dedupe_key == "review_reminder:quin")
        )
        assert reminder.one().status == PromptStatus.CANCELLED
        (asked,) = session.scalars(select(Prompt).where(Prompt.kind == PromptKind.LEAVERS)).all()
        assert (asked.recipient_id, asked.status) == (ids["bea"], PromptStatus.PENDING)
        # The plan waits for the SENDCo, and is the one the message names.
        assert session.get(Plan, ids["plan"]).status == PlanStatus.ACTIVE
        assert [p.id for p in leavers_plans(session, school)] == [ids["plan"]]


def test_a_group_runner_the_sync_marks_as_left_leaves_the_group_flagged_to_the_sendco(
    graph, sessions, db_url, school
):
    from bot.access import Viewer
    from bot.services import groups
    from models import InterventionGroup, School
    from tests import factories

    token_ok(graph)
    serve_everything(graph)
    sync(sessions, db_url)
    with sessions.begin() as session:
        bea = session.scalars(select(Staff).where(Staff.first_name == "Bea")).one()
        bea.set_roles({StaffRole.SENDCO})
        cal = session.scalars(select(Staff).where(Staff.first_name == "Cal")).one()
        home = session.get(School, school)
        item = factories.library_item(session, home, "Lexia")
        factories.group(session, home, item, cal, name="Lexia, Year 7", weekdays="2,4")
        ids = {"bea": bea.id, "cal": cal.id}

    token_ok(graph)
    serve_changes(
        graph,
        users=[{"id": "u-cal", "accountEnabled": False}],  # a disabled account is a leaver
        class_ids=[MATHS["id"], CLUB["id"]],
    )
    sync(sessions, db_url)

    with sessions() as session:
        (told,) = session.scalars(
            select(Prompt).where(Prompt.kind == PromptKind.GROUP_RUNNER_LEFT)
        ).all()
        assert (told.recipient_id, told.status) == (ids["bea"], PromptStatus.PENDING)
        viewer = Viewer.of(session.get(Staff, ids["bea"]))
        [line] = groups.list_groups(session, viewer, NOW.date())
        assert (line.name, line.runner_left, line.staff_name) == (
            "Lexia, Year 7",
            True,
            "Cal Assistant",
        )
        assert session.scalar(select(InterventionGroup.staff_id)) == ids["cal"]
