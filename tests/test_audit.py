"""The audit log: every list that shows who has SEN, and every plan open, leaves a row saying
who, what and when; a refused open is recorded as a refusal, never as a read."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.services import audit
from models import AuditEvent, NeedCode, Plan, PlanStatus, Pupil, SenStage
from tests.slack_harness import NOW, text_of


def lists_with_pupils(session, ids: dict) -> dict:
    """Eve has SEN Support and no plan; Ben's plan has lost its case holder; Ava's awaits QA."""
    eve = Pupil(
        school_id=ids["school"],
        upn="A820123456009",
        first_name="Eve",
        last_name="Hart",
        date_of_birth=NOW.date().replace(year=2013),
        year_group=8,
        sen_stage=SenStage.SEN_SUPPORT,
        primary_need=NeedCode.SLCN,
    )
    session.add(eve)
    ben_plan = session.scalar(select(Plan).where(Plan.pupil_id == ids["ben"]))
    ben_plan.case_holder_id = None
    session.get(Plan, ids["ava_plan"]).status = PlanStatus.AWAITING_QA
    session.flush()
    return {"eve": eve.id, "ben_plan": ben_plan.id}


@pytest.fixture
def school_extras():
    return lists_with_pupils


def rows(sessions, **where) -> list[AuditEvent]:
    with sessions() as session:
        query = select(AuditEvent).order_by(AuditEvent.id)
        for name, value in where.items():
            query = query.where(getattr(AuditEvent, name) == value)
        return list(session.scalars(query))


# --- plan opens ---------------------------------------------------------------------------------


def test_a_plan_a_teacher_may_not_open_is_recorded_as_refused_not_read(slack):
    # Lee teaches Cara, so finds her, but only her case holder and the SENDCo open her plan.
    assert "`/ssp pupil` shows you what you need" in text_of(slack.ask("U0LEE", "plan Cara Lin"))
    lee = slack.ids["lee"]
    assert rows(slack.sessions, actor_staff_id=lee, action="read") == []
    (refused,) = rows(slack.sessions, actor_staff_id=lee, action=audit.REFUSED)
    assert refused.pupil_id == slack.ids["cara"] and refused.via == "/ssp plan"
    assert refused.plan_id is not None and refused.occurred_at == NOW


def test_an_open_plan_button_for_a_pupil_out_of_sight_is_recorded_as_refused(slack):
    # A button value changed to a pupil Priya can't see, then to a pupil of another school.
    slack.sender.button("U0PRIYA", "ssp_open_plan", str(slack.ids["cara"]))
    slack.sender.button("U0PRIYA", "ssp_open_plan", str(slack.ids["zed"]))
    slack.emulator.wait_for(lambda calls: len(slack.emulator.responses_to("U0PRIYA")) >= 2)
    assert slack.emulator.calls_to("views.open") == []
    refused = rows(slack.sessions, actor_staff_id=slack.ids["priya"])
    assert [(r.action, r.pupil_id, r.plan_id) for r in refused] == [
        (audit.REFUSED, slack.ids["cara"], None),
        # Another school's pupil is not linked to this school's log: the attempt still is.
        (audit.REFUSED, None, None),
    ]
    assert {r.school_id for r in refused} == {slack.ids["school"]}


def test_a_show_button_for_a_pupil_out_of_sight_is_recorded_as_refused(slack):
    assert "couldn't find that pupil" in text_of(
        slack.click("U0LEE", "ssp_show_pupil", str(slack.ids["ava"]))
    )
    (refused,) = rows(slack.sessions, actor_staff_id=slack.ids["lee"])
    assert (refused.action, refused.pupil_id, refused.via) == (
        audit.REFUSED,
        slack.ids["ava"],
        "/ssp pupil",
    )


def test_a_qa_review_of_another_schools_plan_is_recorded_as_refused(slack):
    with slack.sessions() as session:
        zed_plan = session.scalar(select(Plan.id).where(Plan.pupil_id == slack.ids["zed"]))
    slack.sender.button("U0SENDCO", "ssp_qa_open", str(zed_plan))
    slack.emulator.wait_for(lambda calls: slack.emulator.responses_to("U0SENDCO"))
    assert slack.emulator.calls_to("views.open") == []
    (refused,) = rows(slack.sessions, actor_staff_id=slack.ids["sendco"])
    assert (refused.action, refused.plan_id, refused.pupil_id) == (audit.REFUSED, None, None)


def test_a_plan_shown_is_a_read_and_only_that(slack):
    slack.sender.command("U0PRIYA", "plan Ava Stone")
    slack.emulator.wait_for(lambda calls: slack.emulator.calls_to("views.open"))
    assert [r.action for r in rows(slack.sessions, actor_staff_id=slack.ids["priya"])] == ["read"]


# --- lists that show who has SEN ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "asked", "via", "what"),
    [
        ("U0SLT", "priority", "/ssp priority", "priority list"),
        ("U0SENDCO", "assign auto", "/ssp assign auto", "proposed case holders"),
        ("U0SENDCO", "qa", "/ssp qa", "plans awaiting quality assurance"),
        ("U0SLT", "monitoring", "/ssp monitoring", "monitoring across the school"),
        ("U0SLT", "pupil Stone", "/ssp pupil", "pupils matching a search"),
    ],
)
def test_each_list_that_shows_who_has_sen_is_audited(slack, user, asked, via, what):
    slack.ask(user, asked)
    listed = rows(slack.sessions, via=via)
    assert listed, f"/ssp {asked} left no audit row"
    assert {(r.action, r.actor_staff_id) for r in listed} == {("list", slack.ids[user_key(user)])}
    assert all(r.detail.startswith(what) for r in listed)


def user_key(slack_id: str) -> str:
    return {"U0SLT": "slt", "U0SENDCO": "sendco", "U0PRIYA": "priya"}[slack_id]


def test_the_priority_list_and_proposals_audit_each_pupil_they_show(slack):
    assert "Eve Hart" in text_of(slack.ask("U0SLT", "priority"))
    expected = {(None, slack.ids["eve"]), (slack.ids["ben_plan"], slack.ids["ben"])}
    shown = {(r.plan_id, r.pupil_id) for r in rows(slack.sessions, via="/ssp priority")}
    assert shown == expected
    assert "Eve Hart" in text_of(slack.ask("U0SENDCO", "assign auto"))
    shown = {(r.plan_id, r.pupil_id) for r in rows(slack.sessions, via="/ssp assign auto")}
    assert shown == expected


def test_the_qa_list_audits_each_plan_it_shows(slack):
    slack.ask("U0SENDCO", "qa")
    assert [(r.plan_id, r.pupil_id) for r in rows(slack.sessions, via="/ssp qa")] == [
        (slack.ids["ava_plan"], slack.ids["ava"])
    ]


def test_an_empty_list_still_records_who_looked(slack):
    (row,) = rows(slack.sessions, via="/ssp monitoring") or [None]
    assert row is None
    slack.ask("U0SLT", "monitoring")
    (row,) = rows(slack.sessions, via="/ssp monitoring")
    assert row.detail == "monitoring across the school: pupils flagged: 0 shown"
    assert row.pupil_id is None and row.actor_staff_id == slack.ids["slt"]


def test_the_pupils_named_in_a_refusal_to_choose_are_audited(slack):
    # `/ssp export` has no buttons to choose with, so it names the pupils who match.
    answer = text_of(slack.ask("U0SENDCO", "export Stone"))
    assert "Several pupils match" in answer
    listed = rows(slack.sessions, via="/ssp export")
    assert {(r.action, r.pupil_id) for r in listed} == {
        ("list", slack.ids["ava"]),
        ("list", slack.ids["ben"]),
    }


# --- the detail column ----------------------------------------------------------------------


def test_an_over_long_detail_is_clipped_and_never_fails_what_it_records(sessions):
    with sessions.begin() as session:
        audit.record(
            session, action="update", via="test", now=NOW, school_id=None, detail="x" * 2000
        )
    (row,) = rows(sessions)
    assert len(row.detail) == 500 and row.detail.endswith("…")
