"""Monitoring includes support staff: teaching assistants and key adults who deliver a pupil's
provision are asked their own two questions, in the same daily digest as teachers.

Brookside High with test_monitoring's maths class (Mo Khan teaches Kit00..Kit23, reviews on
1 December, so everyone is asked at the tick of 23 November). Sam Jones, a teaching assistant
(U0TA), is named in the People of Kit00's and Kit01's plans as delivering them, and is Kit02's
key adult. Mo also delivers Nia Able's plan, a pupil he doesn't teach, and Kit00's, whom he
does: he is asked once per pupil, in one digest.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event, select

from models import (
    AuditEvent,
    KeyAdult,
    MonitoringRequest,
    MonitoringRole,
    MonitoringStatus,
    Plan,
    PlanPerson,
    PlanPersonRole,
    PlanStatus,
    Pupil,
    PupilResponse,
    SenStage,
    SessionAsPlanned,
    Staff,
)
from tests.slack_harness import buttons_of, text_of
from tests.test_monitoring import maths_class, request_of_row, requests
from tests.test_supporting_roles_demo import demo  # noqa: F401 (the demo school fixture)


def support_school(session, ids):
    found = maths_class(session, ids)
    plans = {
        p.pupil.first_name: p
        for p in session.scalars(select(Plan).where(Plan.school_id == ids["school"]))
    }
    for name in ("Kit00", "Kit01"):
        plans[name].people.append(
            PlanPerson(role=PlanPersonRole.DELIVERS, name="Sam Jones", staff_id=ids["ta"])
        )
    plans["Kit00"].people.append(
        PlanPerson(role=PlanPersonRole.DELIVERS, name="Mo Khan", staff_id=found["mo"])
    )
    # The case holder delivers Kit01's plan too: not asked (they write the review).
    plans["Kit01"].people.append(
        PlanPerson(role=PlanPersonRole.DELIVERS, name="Priya Shah", staff_id=ids["priya"])
    )
    # Named without a staff link: not asked (nobody to ask).
    plans["Kit03"].people.append(PlanPerson(role=PlanPersonRole.DELIVERS, name="Visiting SALT"))
    session.add(
        KeyAdult(school_id=ids["school"], pupil_id=plans["Kit02"].pupil_id, staff_id=ids["ta"])
    )
    nia = Pupil(
        school_id=ids["school"],
        upn="C820123459999",
        first_name="Nia",
        last_name="Able",
        date_of_birth=date(2012, 5, 6),
        year_group=9,
        sen_stage=SenStage.SEN_SUPPORT,
    )
    plan = Plan(
        school_id=ids["school"],
        pupil=nia,
        case_holder_id=ids["priya"],
        status=PlanStatus.ACTIVE,
        cycle_number=1,
        review_date=date(2026, 12, 1),
    )
    plan.people = [PlanPerson(role=PlanPersonRole.DELIVERS, name="Mo Khan", staff_id=found["mo"])]
    session.add_all([nia, plan])
    session.flush()
    return {**found, "kit02": plans["Kit02"].pupil_id, "kit01_plan": plans["Kit01"].id}


@pytest.fixture
def school_extras():
    return support_school


@pytest.fixture
def tick(slack, run_cli):
    slack.emulator.add_user("U0MATHS", email="mo.khan@brookside.example.org", real_name="Mo Khan")
    env = {"SLACK_BOT_TOKEN": slack.emulator.bot_token, "SLACK_API_URL": slack.emulator.api_url}

    def run(when: str) -> None:
        result = run_cli("tick", "--now", when, env=env)
        assert result.code == 0, result

    return run


def digests(slack, tick) -> tuple[dict, dict]:
    tick("2026-11-23T10:00:00+00:00")
    (to_sam,) = slack.emulator.messages_to("U0TA")
    (to_mo,) = slack.emulator.messages_to("U0MATHS")
    return to_sam, to_mo


def selects_of(message: dict) -> list[str]:
    return [
        e["action_id"]
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "static_select"
    ]


def audit_rows(slack, **where) -> list[AuditEvent]:
    with slack.sessions() as session:
        query = select(AuditEvent).order_by(AuditEvent.id)
        for name, value in where.items():
            query = query.where(getattr(AuditEvent, name) == value)
        return list(session.scalars(query))


def open_form(slack, user: str, request_id: str) -> dict:
    opened = len(slack.emulator.calls_to("views.open"))
    slack.sender.button(user, "monitoring_open", request_id)
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    return slack.emulator.open_views(user)[-1]


def said_to(slack, user: str, before: int) -> dict:
    return slack.emulator.wait_for(
        lambda calls: (
            len(slack.emulator.responses_to(user)) > before and slack.emulator.responses_to(user)
        )
    )[-1]


# --- who is asked, and the digest -------------------------------------------------------------


def test_support_staff_who_deliver_are_asked_in_the_same_daily_digest(slack, tick):
    to_sam, to_mo = digests(slack, tick)
    support = requests(slack, role=MonitoringRole.SUPPORT)
    assert sorted((r.teacher_id, r.group_id) for r in support) == sorted(
        [(slack.ids["ta"], None)] * 3 + [(slack.ids["mo"], None)]
    )
    # Mo teaches Kit00 and delivers it too: asked once, as a teacher. Priya holds Kit01's plan.
    assert not requests(slack, teacher_id=slack.ids["priya"])
    assert len(requests(slack, teacher_id=slack.ids["mo"])) == 25

    sam = text_of(to_sam)
    assert "3 pupils are waiting for your feedback" in sam
    assert "How are these plans going?" in sam
    for name in ("Kit00 Moss", "Kit01 Moss", "Kit02 Moss"):
        assert f"{name} (Year 9) · your support" in sam
    assert "Kit03" not in sam  # a person with no staff link is asked nothing
    assert set(selects_of(to_sam)) == {"monitoring_session", "monitoring_responding"}
    assert "is the session happening as planned" in sam and "strategies in place" not in sam
    assert {b["text"]["text"] for b in buttons_of(to_sam)} == {
        "See the plan",
        "I don't work with this pupil",
    }
    placeholders = {
        e["placeholder"]["text"]
        for b in to_sam["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "static_select"
    }
    assert placeholders == {"Session happening as planned?", "How is the pupil responding?"}

    # A teacher who also delivers a plan: one digest, with both kinds of row.
    mo = text_of(to_mo)
    assert "25 pupils are waiting for your feedback" in mo
    assert "Nia Able (Year 9) · your support" in mo
    assert {"monitoring_strategies", "monitoring_session"} <= set(selects_of(to_mo))
    tick("2026-11-23T14:00:00+00:00")
    assert len(slack.emulator.messages_to("U0TA")) == 1
    assert len(slack.emulator.messages_to("U0MATHS")) == 1


def test_feedback_now_asks_support_staff_too(slack, tick):
    answer = text_of(slack.ask("U0PRIYA", "feedback Kit01"))
    assert "Asked 2" in answer and "Mo Khan" in answer and "Sam Jones" in answer
    (message,) = slack.emulator.wait_for(lambda calls: slack.emulator.messages_to("U0TA"))
    assert "Priya Shah would like your feedback" in text_of(message)
    assert set(selects_of(message)) == {"monitoring_session", "monitoring_responding"}
    one = text_of(slack.ask("U0SENDCO", "feedback Kit02 <@U0TA|sam>"))
    assert "Sam Jones" in one


# --- answering ----------------------------------------------------------------------------------


def test_two_clicks_then_the_case_holder_reads_it_beside_the_teachers(slack, tick, engine):
    to_sam, _ = digests(slack, tick)
    request_id = request_of_row(to_sam)  # Kit00: unanswered rows first, by name
    before = len(slack.emulator.responses_to("U0TA"))
    slack.sender.choose("U0TA", "monitoring_session", f"{request_id}:sometimes", message=to_sam)
    first = said_to(slack, "U0TA", before)
    assert "Saved for Kit00 Moss" in text_of(first)
    (row,) = requests(slack, id=int(request_id))
    assert (row.session_as_planned, row.status) == (SessionAsPlanned.SOMETIMES, "open")
    before = len(slack.emulator.responses_to("U0TA"))
    slack.sender.choose("U0TA", "monitoring_responding", f"{request_id}:well")
    redrawn = said_to(slack, "U0TA", before)
    (row,) = requests(slack, id=int(request_id))
    assert (row.responding, row.status) == (PupilResponse.WELL, MonitoringStatus.ANSWERED)
    assert "2 pupils are waiting" in text_of(redrawn)

    # The form: support staff's questions and an optional comment, no teacher's questions.
    modal = open_form(slack, "U0TA", request_id)
    shown = json.dumps(modal["blocks"])
    assert "Is the session happening as planned?" in shown
    assert "How is the pupil responding?" in shown
    assert "Evidence" not in shown and "in place in your lessons" not in shown
    not_well = {"responding": {"type": "radio_buttons", "selected_option": {"value": "not_well"}}}
    refused = slack.sender.submit("U0TA", modal, not_well).json()
    assert refused["errors"] == {
        "comment": "Say what you're seeing, so the case holder can act on it."
    }
    saved = slack.sender.submit(
        "U0TA",
        modal,
        {**not_well, "comment": {"type": "plain_text_input", "value": "Sessions cut short"}},
    ).json()
    assert "feedback on Kit00 Moss's plan is saved" in text_of(saved["view"])
    (row,) = requests(slack, id=int(request_id))
    assert (row.responding, row.session_as_planned, row.comment) == (
        PupilResponse.NOT_WELL,
        SessionAsPlanned.SOMETIMES,
        "Sessions cut short",
    )

    # The review notes form: with the teachers' feedback, marked as from support staff.
    from tests.test_reviews import open_by_command

    view = open_by_command(slack, "U0PRIYA", "review Kit00")
    shown = text_of({"blocks": view["blocks"]})
    assert "0 of 1 teachers answered" in shown
    assert "support staff: 1 of 1 answered" in shown
    assert "sessions as planned: 1 sometimes; pupil responding: 1 not well" in shown
    assert "Sam Jones (support staff): Sessions cut short" in shown

    # The SENDCo's picture counts them, in a bounded number of statements.
    def statements() -> tuple[int, str]:
        seen: list[str] = []

        def count(conn, cursor, statement, *args):
            seen.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        try:
            reply = text_of(slack.ask("U0SENDCO", "monitoring"))
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen), reply

    few, school = statements()
    assert "Staff feedback this cycle: 1 of 28 requests answered" in school
    assert "Sam Jones (support staff): 1 of 3" in school
    assert "Support sessions not happening as planned (0)" in school
    assert "Happening sometimes: 1" in school
    assert "not responding well (1)\n• Kit00 Moss · Sam Jones (support staff)" in school
    slack.ask("U0SENDCO", "feedback Kit01")  # more rows: the same statements
    with slack.sessions.begin() as session:
        for n in range(4, 12):
            plan = session.scalar(select(Plan).join(Pupil).where(Pupil.first_name == f"Kit{n:02d}"))
            session.add(
                MonitoringRequest(
                    school_id=slack.ids["school"],
                    plan_id=plan.id,
                    cycle_number=plan.cycle_number,
                    teacher_id=slack.ids["ta"],
                    role=MonitoringRole.SUPPORT,
                    session_as_planned=SessionAsPlanned.NO,
                    responding=PupilResponse.MIXED,
                    answered_at=datetime(2026, 11, 23, 11, tzinfo=UTC),
                    status=MonitoringStatus.ANSWERED,
                )
            )
    many, school = statements()
    assert many == few
    assert "Support sessions not happening as planned (8)" in school


def test_i_dont_work_with_this_pupil_flags_who_delivers_the_plan(slack, tick):
    to_sam, _ = digests(slack, tick)
    request_id = request_of_row(to_sam)
    before = len(slack.emulator.responses_to("U0TA"))
    slack.sender.button("U0TA", "monitoring_not_taught", request_id)
    answer = said_to(slack, "U0TA", before)
    assert "Removed Kit00 Moss. The SENDCo will check who delivers their plan" in text_of(answer)
    school = text_of(slack.ask("U0SENDCO", "monitoring"))
    assert "Who delivers the plan, to check" in school
    assert "Kit00 Moss · Sam Jones (support staff)" in school
    assert "Class lists to check" not in school


# --- least privilege ----------------------------------------------------------------------------


def test_only_the_support_staff_asked_answer_and_refusals_are_audited(slack, tick):
    to_sam, _ = digests(slack, tick)
    request_id = request_of_row(to_sam)
    for user, action, value in (
        ("U0LEE", "monitoring_session", "no"),  # another teacher
        ("U0MATHS", "monitoring_responding", "not_well"),  # the pupil's own teacher
    ):
        before = len(slack.emulator.responses_to(user))
        slack.sender.choose(user, action, f"{request_id}:{value}")
        assert "isn't yours to answer" in text_of(said_to(slack, user, before))
    # Sam's own request, with a teacher's question: refused too.
    before = len(slack.emulator.responses_to("U0TA"))
    slack.sender.choose("U0TA", "monitoring_strategies", f"{request_id}:no")
    assert "isn't one this request asks" in text_of(said_to(slack, "U0TA", before))
    before = len(slack.emulator.responses_to("U0LEE"))
    slack.sender.button("U0LEE", "monitoring_not_taught", request_id)
    assert "isn't yours to answer" in text_of(said_to(slack, "U0LEE", before))
    (row,) = requests(slack, id=int(request_id))
    assert (row.session_as_planned, row.responding, row.strategies, row.status) == (
        None,
        None,
        None,
        MonitoringStatus.OPEN,
    )
    refused = audit_rows(slack, action="refused", via="monitoring request")
    assert [r.actor_staff_id for r in refused] == [
        slack.ids["lee"],
        slack.ids["mo"],
        slack.ids["ta"],
        slack.ids["lee"],
    ]
    assert all(r.plan_id == row.plan_id for r in refused)
    assert not audit_rows(slack, action="update", via="monitoring request")


def test_support_staff_no_longer_linked_are_refused_then_withdrawn(slack, tick):
    to_sam, _ = digests(slack, tick)
    rows = {
        r.plan_id: r
        for r in requests(slack, role=MonitoringRole.SUPPORT, teacher_id=slack.ids["ta"])
    }
    with slack.sessions.begin() as session:
        # Kit01's plan no longer names Sam; Sam's key adult link to Kit02 ends.
        for person in session.scalars(
            select(PlanPerson).where(PlanPerson.plan_id == slack.ids["kit01_plan"])
        ):
            session.delete(person)
        link = session.scalar(select(KeyAdult).where(KeyAdult.pupil_id == slack.ids["kit02"]))
        link.ended_at = datetime(2026, 11, 23, 12, tzinfo=UTC)
    kit01 = rows[slack.ids["kit01_plan"]]
    before = len(slack.emulator.responses_to("U0TA"))
    slack.sender.choose("U0TA", "monitoring_session", f"{kit01.id}:yes")
    assert "no longer named as delivering" in text_of(said_to(slack, "U0TA", before))
    assert requests(slack, id=kit01.id)[0].session_as_planned is None
    assert audit_rows(slack, action="refused", via="monitoring request")

    tick("2026-11-24T10:00:00+00:00")  # the sweep withdraws both
    statuses = {
        r.plan_id: r.status
        for r in requests(slack, role=MonitoringRole.SUPPORT, teacher_id=slack.ids["ta"])
    }
    assert sorted(statuses.values()) == sorted(
        [MonitoringStatus.OPEN, MonitoringStatus.WITHDRAWN, MonitoringStatus.WITHDRAWN]
    )
    school = text_of(slack.ask("U0SENDCO", "monitoring"))
    assert "to check" not in school  # withdrawn by the sweep: nothing for the SENDCo to do


# --- the plan's People: linking a person to the staff list --------------------------------------


def test_the_plan_editor_links_a_person_who_delivers_to_a_member_of_staff(slack):
    from tests.test_plan_editor import click, form_state, open_plan, submit

    overview = open_plan(slack, "U0PRIYA", "plan Kit05")
    entries = click(slack, "U0PRIYA", overview, "plan_open_section", "people")
    form = click(slack, "U0PRIYA", entries, "plan_add_item", "people")
    block = next(b for b in form["blocks"] if b.get("block_id") == "staff_id")
    options = {o["text"]["text"]: o["value"] for o in block["element"]["options"]}
    assert options["Sam Jones"] == str(slack.ids["ta"])
    assert "Old Teacher" not in options  # staff who have left are not offered
    assert block["optional"] is True
    # A staff id not offered (another school's, or someone who left): refused beside the field.
    state = form_state(form, {"role": "delivers", "name": "Sam Jones"})
    state["staff_id"] = {
        "type": "static_select",
        "selected_option": {"text": {"type": "plain_text", "text": "X"}, "value": "999999"},
    }
    forged = slack.sender.submit("U0PRIYA", form, state).json()
    assert forged["errors"] == {"staff_id": "Please choose again: that choice is no longer there."}
    saved = submit(
        slack,
        "U0PRIYA",
        form,
        role="delivers",
        name="Sam Jones",
        relationship_to_cyp="Teaching assistant",
        staff_id=str(slack.ids["ta"]),
    )
    assert saved is None or saved["response_action"] == "update"
    with slack.sessions() as session:
        (person,) = session.scalars(
            select(PlanPerson).join(Plan).join(Pupil).where(Pupil.first_name == "Kit05")
        )
        assert (person.role, person.staff_id) == (PlanPersonRole.DELIVERS, slack.ids["ta"])
    asked = text_of(slack.ask("U0PRIYA", "feedback Kit05"))
    assert "Sam Jones" in asked


# --- the synthetic school --------------------------------------------------------------------


def test_the_demo_schools_teaching_assistant_is_asked_about_the_plans_they_deliver(demo):  # noqa: F811
    app, users = demo
    with app.sessions() as session:
        ta = session.scalar(select(Staff).where(Staff.slack_user_id == users["Teaching assistant"]))
        upn = session.scalar(
            select(Pupil.upn)
            .join(Plan, Plan.pupil_id == Pupil.id)
            .join(PlanPerson, PlanPerson.plan_id == Plan.id)
            .where(
                PlanPerson.staff_id == ta.id,
                PlanPerson.role == PlanPersonRole.DELIVERS,
                Plan.status == PlanStatus.ACTIVE,
                Pupil.is_active,
            )
            .order_by(Pupil.id)
            .limit(1)
        )
    asked = text_of(app.ask(users["SENDCo"], f"feedback {upn}"))
    assert ta.display_name in asked
    (message,) = app.emulator.wait_for(
        lambda calls: app.emulator.messages_to(users["Teaching assistant"])
    )
    assert set(selects_of(message)) == {"monitoring_session", "monitoring_responding"}
