"""Each `/ssp` subcommand on the synthetic school, checked against the database itself."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select, text

from bot.db import make_session_factory
from bot.demo.school import create_demo_school
from bot.demo.slack_emulator import SlackEmulator
from handlers.context import DATABASE_DOWN
from models import Plan, PlanStatus, Pupil, Staff, StaffRole
from tests.slack_harness import TODAY, start_app, text_of

RUNNING = (PlanStatus.ACTIVE, PlanStatus.IN_REVIEW, PlanStatus.AWAITING_QA)


@pytest.fixture
def school(sessions):
    with SlackEmulator() as emulator:
        with sessions.begin() as session:
            create_demo_school(
                session, name="Oakfield Academy (demo)", seed=11, pupils=240, today=TODAY
            )
            session.execute(
                text("UPDATE schools SET slack_team_id = :team"), {"team": emulator.team_id}
            )
            sendco = next(s for s in session.scalars(select(Staff)) if StaffRole.SENDCO in s.roles)
            holder_id, held = session.execute(
                select(Plan.case_holder_id, func.count())
                .where(Plan.status != PlanStatus.CLOSED, Plan.case_holder_id != sendco.id)
                .group_by(Plan.case_holder_id)
                .order_by(func.count().desc())
                .limit(1)
            ).one()
            holder = session.get(Staff, holder_id)
            emulator.add_user(sendco.slack_user_id, email=sendco.email)
            unmatched = session.scalars(
                select(Staff.email)
                .where(Staff.slack_user_id.is_(None), Staff.is_active.is_(True))
                .order_by(Staff.id)
            ).first()
            emulator.add_user("U0LATE", email=unmatched)
            holder_slack = holder.slack_user_id or "U0HOLDER"
            emulator.add_user(holder_slack, email=holder.email)
            facts = {
                "sendco": sendco.slack_user_id,
                "holder_name": holder.display_name,
                "holder": holder_slack,
                "held": held,
                "open": session.scalar(
                    select(func.count()).where(Plan.status != PlanStatus.CLOSED)
                ),
                "overdue": session.scalar(
                    select(func.count()).where(Plan.status.in_(RUNNING), Plan.review_date < TODAY)
                ),
                "pupil": session.execute(
                    select(Pupil.first_name, Pupil.preferred_name, Pupil.last_name)
                    .join(Plan, Plan.pupil_id == Pupil.id)
                    .where(Plan.status == PlanStatus.ACTIVE)
                    .order_by(Pupil.id)
                    .limit(1)
                ).one(),
            }
        app = start_app(emulator, sessions)
        yield app, facts
        app.server.stop()


def test_caseload_totals_match_the_database(school):
    app, facts = school
    text_ = text_of(app.ask(facts["sendco"], "caseload"))
    assert f"{facts['open']} open" in text_
    assert f"{facts['overdue']} overdue ·" in text_
    assert facts["holder_name"] in text_ or "@" in text_


def test_overdue_lists_every_overdue_review(school):
    app, facts = school
    text_ = text_of(app.ask(facts["sendco"], "overdue"))
    assert f"{facts['overdue']} plans" in text_ or f"{facts['overdue']} plan " in text_
    days = [int(n) for n in re.findall(r"(\d+) days? overdue", text_)]
    assert days == sorted(days, reverse=True)  # oldest first


def test_mine_and_caseload_of_the_busiest_case_holder(school):
    app, facts = school
    mine = text_of(app.ask(facts["holder"], "mine"))
    assert f"{facts['held']} plans" in mine
    theirs = text_of(app.ask(facts["sendco"], f"caseload <@{facts['holder']}|holder>"))
    assert f"{facts['held']} plans" in theirs and facts["holder_name"] in theirs


def test_pupil_summary(school):
    app, facts = school
    first, preferred, last = facts["pupil"]
    text_ = text_of(app.ask(facts["sendco"], f"pupil {preferred or first} {last}"))
    assert f"{preferred or first} {last}" in text_
    assert "in the APDR cycle" in text_ and "Targets" in text_ and "Provision" in text_


def test_a_database_that_is_down_gets_a_polite_answer(school, db_url):
    app, facts = school
    from sqlalchemy import create_engine

    down = create_engine("postgresql+psycopg://nobody@127.0.0.1:9/none")
    broken = start_app(app.emulator, make_session_factory(down))
    try:
        message = broken.ask(facts["sendco"], "caseload")
        assert message["text"] == DATABASE_DOWN
    finally:
        broken.server.stop()


def test_a_slack_error_looking_someone_up_is_a_polite_refusal(school):
    app, facts = school
    app.emulator.fail_next("users.info", "user_not_found")
    message = app.ask("U0LATE", "help")
    assert "can't find you on your school's staff list" in message["text"]
    # Once Slack answers again, the same person is recognised by their email.
    assert "What `/ssp` can do for you" in text_of(app.ask("U0LATE", "help"))


def test_monitoring_figures_match_a_direct_count(school, sessions):
    """`/ssp monitoring` after a sweep's requests and some answers, against SQL counts."""
    from datetime import UTC, datetime

    from bot.services import monitoring
    from models import Impact, MonitoringRequest, MonitoringStatus, School, StrategiesInPlace

    app, facts = school
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    with sessions.begin() as session:
        demo = session.scalars(select(School)).one()
        assert monitoring.create_due_requests(session, demo, now) > 0
        ids = list(session.scalars(select(MonitoringRequest.id).order_by(MonitoringRequest.id)))
        for n, request_id in enumerate(ids):
            request = session.get(MonitoringRequest, request_id)
            if n % 3 == 0:  # a third answered, in a spread of answers
                request.strategies = list(StrategiesInPlace)[n % 3 if n % 2 else n % 2]
                request.impact = list(Impact)[n % 4]
                request.status, request.answered_at = MonitoringStatus.ANSWERED, now
            elif n % 7 == 0:
                request.status = MonitoringStatus.WITHDRAWN
    with sessions() as session:
        counted = dict(
            session.execute(
                select(MonitoringRequest.status, func.count()).group_by(MonitoringRequest.status)
            ).all()
        )
        concern = session.scalar(
            select(func.count()).where(
                MonitoringRequest.impact == Impact.CONCERN,
                MonitoringRequest.status != MonitoringStatus.WITHDRAWN,
            )
        )
        not_in_place = session.scalar(
            select(func.count()).where(
                MonitoringRequest.strategies == StrategiesInPlace.NO,
                MonitoringRequest.status != MonitoringStatus.WITHDRAWN,
            )
        )
    answered = counted.get(MonitoringStatus.ANSWERED, 0)
    asked = answered + counted.get(MonitoringStatus.OPEN, 0)
    shown = text_of(app.ask(facts["sendco"], "monitoring"))
    assert f"{answered} of {asked} requests answered ({round(100 * answered / asked)}%)" in shown
    assert f"Teachers report concern ({concern})" in shown
    assert f"Strategies not in place ({not_in_place})" in shown
    if counted.get(MonitoringStatus.WITHDRAWN):
        assert "Class lists to check" in shown
    departments = re.findall(r"• ([^:\n]+): (\d+) of (\d+) \(\d+%\)", shown.split("By teacher")[0])
    assert departments and sum(int(a) for _, _, a in departments) == asked


def test_class_view_statements_do_not_grow_with_the_class(school, engine, sessions):
    """`/ssp class <code>` for the synthetic school's teacher whose classes hold the most and
    the fewest plans: the same statements either way (no query per pupil), and the counts
    `/ssp class` shows are the database's."""
    from sqlalchemy import event

    from models import TeachingGroup, TeachingGroupPupil, TeachingGroupTeacher

    app, _ = school
    with sessions() as session:
        plans = (
            select(
                TeachingGroupTeacher.staff_id,
                TeachingGroup.code,
                func.count(Plan.id).label("plans"),
            )
            .join(TeachingGroup, TeachingGroup.id == TeachingGroupTeacher.group_id)
            .join(TeachingGroupPupil, TeachingGroupPupil.group_id == TeachingGroup.id)
            .join(
                Plan,
                (Plan.pupil_id == TeachingGroupPupil.pupil_id) & (Plan.status != PlanStatus.CLOSED),
            )
            .group_by(TeachingGroupTeacher.staff_id, TeachingGroup.code)
            .order_by(func.count(Plan.id).desc(), TeachingGroup.code)
        )
        rows = session.execute(plans).all()
        teacher_id = rows[0].staff_id
        theirs = [r for r in rows if r.staff_id == teacher_id]
        teacher = session.get(Staff, teacher_id)
    assert len(theirs) >= 2 and theirs[0].plans > theirs[-1].plans
    slack_id = teacher.slack_user_id or "U0TEACHER"
    app.emulator.add_user(slack_id, email=teacher.email)

    def statements(typed: str) -> tuple[int, str]:
        seen: list[str] = []

        def count(conn, cursor, statement, *args):
            seen.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        try:
            reply = app.ask(slack_id, typed)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen), text_of(reply)

    app.ask(slack_id, "class")  # the first request links the Slack user: not counted
    biggest, big_text = statements(f"class {theirs[0].code}")
    smallest, _ = statements(f"class {theirs[-1].code}")
    assert biggest == smallest and biggest <= 12, (biggest, smallest)
    counted, listing = statements("class")
    assert counted <= 8
    assert f"{theirs[0].plans} pupils with a SEN Support Plan" in big_text
    assert f"{theirs[0].code} · " in listing
    assert f"{theirs[0].plans} of " in listing.split(f"{theirs[0].code} · ", 1)[1].split("\n")[1]
