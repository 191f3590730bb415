"""Observations between reviews (`/ssp observe`, the passport's "Add an observation", the
message shortcut), through the signed endpoint and the emulator on SQLite and PostgreSQL.

Brookside High (tests/slack_harness.py): Lee Chan teaches 9A/En1 (Cara Lin, plan held by Tom
Baker; Dev Patel, no plan) and not Ava Stone. Sam Jones, a teaching assistant, is made key adult
to Cara here.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from bot.services.observations import WHAT_LENGTH
from handlers.toolkit import NO_SUCH_PUPIL
from models import AuditEvent, Helped, KeyAdult, Observation, Plan
from tests.slack_harness import NOW, TODAY, build_school, buttons_of, start_app, text_of
from tests.test_plan_editor import form_state, modal_text, open_plan, submit


@pytest.fixture
def school_extras():
    def extras(session, ids):
        session.add(KeyAdult(school_id=ids["school"], staff_id=ids["ta"], pupil_id=ids["cara"]))
        session.flush()
        return {}

    return extras


def observations(slack) -> list[Observation]:
    with slack.sessions() as session:
        return list(session.scalars(select(Observation).order_by(Observation.id)))


def audit_rows(slack, **where) -> list[AuditEvent]:
    with slack.sessions() as session:
        query = select(AuditEvent).order_by(AuditEvent.id)
        for name, value in where.items():
            query = query.where(getattr(AuditEvent, name) == value)
        return list(session.scalars(query))


def option_value(view: dict, block_id: str, label: str) -> str:
    block = next(b for b in view["blocks"] if b.get("block_id") == block_id)
    return next(o["value"] for o in block["element"]["options"] if o["text"]["text"] == label)


def test_a_teacher_adds_an_observation_from_the_command(slack):
    form = open_plan(slack, "U0LEE", "observe Cara")
    assert "About Cara Lin:" in modal_text(form)
    timetable = option_value(form, "strategy", "Visual timetable on desk")
    answer = submit(
        slack,
        "U0LEE",
        form,
        what="Cara settled quickly after the bell",
        strategy=timetable,
        helped="yes",
        date=(TODAY - timedelta(days=1)).isoformat(),
    )
    assert answer["response_action"] == "update"
    assert "your observation about *Cara Lin* is saved" in json.dumps(answer["view"])
    [saved] = observations(slack)
    assert (saved.pupil_id, saved.author_id, saved.strategy, saved.helped) == (
        slack.ids["cara"],
        slack.ids["lee"],
        "Visual timetable on desk",
        Helped.YES,
    )
    assert saved.observed_on == TODAY - timedelta(days=1)
    assert saved.cycle_number == 2
    [row] = audit_rows(slack, action="create", via="/ssp observe")
    assert (row.actor_staff_id, row.pupil_id, row.detail) == (
        slack.ids["lee"],
        slack.ids["cara"],
        "observation",
    )
    assert "settled" not in (row.detail or "")
    assert not slack.emulator.messages  # nothing posted anywhere


def test_bad_input_is_answered_beside_the_field_and_nothing_is_saved(slack):
    form = open_plan(slack, "U0LEE", "observe Cara")
    future = submit(
        slack, "U0LEE", form, what="Fine", helped="no", date=(TODAY + timedelta(1)).isoformat()
    )
    assert future == {
        "response_action": "errors",
        "errors": {"date": "The date can't be in the future."},
    }
    long = submit(slack, "U0LEE", form, what="x" * (WHAT_LENGTH + 1), helped="no")
    assert list(long["errors"]) == ["what"]
    assert "2,000 characters" in long["errors"]["what"]
    unsure = submit(slack, "U0LEE", form, what="Fine")
    assert unsure["errors"] == {"helped": "Say whether it helped."}
    other = submit(slack, "U0LEE", form, what="Fine", helped="partly", other="y" * 201)
    assert list(other["errors"]) == ["other"]
    assert observations(slack) == []
    # "Other", with what they tried, is kept in their words.
    assert submit(slack, "U0LEE", form, what="Fine", helped="not_sure", strategy="other",
                  other="Sat her by the door")["response_action"] == "update"  # fmt: skip
    assert observations(slack)[0].strategy == "Other: Sat her by the door"


def test_a_teacher_not_teaching_the_pupil_gets_not_found(slack):
    opened = len(slack.emulator.calls_to("views.open"))
    reply = slack.ask("U0LEE", "observe Ava Stone")
    nobody = slack.ask("U0LEE", "observe Ava Stane")
    assert text_of(reply) == NO_SUCH_PUPIL.format(query="Ava Stone")
    assert text_of(nobody) == NO_SUCH_PUPIL.format(query="Ava Stane")
    # A hand-made click or form naming Ava is refused the same way, and audited.
    slack.sender.button("U0LEE", "ssp_observe_open", str(slack.ids["ava"]))
    cara_form = open_plan(slack, "U0LEE", "observe Cara")
    forged = dict(cara_form, private_metadata=json.dumps({"pupil_id": slack.ids["ava"]}))
    answer = submit(slack, "U0LEE", forged, what="Forged", helped="yes")
    assert "couldn't find that pupil" in json.dumps(answer)
    assert len(slack.emulator.calls_to("views.open")) == opened + 1  # Cara's form only
    assert observations(slack) == []
    refused = audit_rows(slack, action="refused", pupil_id=slack.ids["ava"])
    assert len(refused) >= 2


def test_another_schools_replayed_payloads_are_refused(slack):
    cara = str(slack.ids["cara"])
    slack.sender.button("U0OTHER", "ssp_observe_open", cara, team_id="T0OTHERSCH")
    form = open_plan(slack, "U0LEE", "observe Cara")
    payload = slack.sender._interaction(
        "view_submission",
        "U0OTHER",
        "T0OTHERSCH",
        slack.emulator.new_trigger_id(view_id=form["id"]),
        view=dict(form, state={"values": {}}),
        response_urls=[],
    )
    payload["view"]["state"] = {
        "values": {
            block: {"value": state}
            for block, state in form_state(form, {"what": "Replayed", "helped": "yes"}).items()
        }
    }
    reply = slack.sender._post_interaction(payload)
    assert reply.status == 200
    assert observations(slack) == []
    assert not [e for e in audit_rows(slack) if e.school_id != slack.ids["school"] and e.pupil_id]


def test_a_teaching_assistant_adds_one_for_a_pupil_they_support(slack):
    form = open_plan(slack, "U0TA", "observe Cara")
    assert (
        submit(slack, "U0TA", form, what="Used the card", helped="partly")["response_action"]
        == "update"
    )
    [saved] = observations(slack)
    assert (saved.author_id, saved.helped) == (slack.ids["ta"], Helped.PARTLY)
    assert saved.strategy == "Other"
    # Ava is not theirs.
    assert text_of(slack.ask("U0TA", "observe Ava Stone")) == NO_SUCH_PUPIL.format(
        query="Ava Stone"
    )


def test_the_passport_button_opens_the_form(slack):
    passport = slack.ask("U0LEE", "passport Cara")
    button = next(b for b in buttons_of(passport) if b["action_id"] == "ssp_observe_open")
    assert button["text"]["text"] == "Add an observation"
    opened = len(slack.emulator.calls_to("views.open"))
    slack.sender.button("U0LEE", "ssp_observe_open", button["value"])
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    form = slack.emulator.open_views()[-1]
    assert (
        submit(slack, "U0LEE", form, what="From the passport", helped="yes")["response_action"]
        == "update"
    )
    assert audit_rows(slack, action="create", via="Add an observation button")


def test_the_message_shortcut_prefills_what_happened_and_asks_the_pupil(slack):
    opened = len(slack.emulator.calls_to("views.open"))
    reply = slack.sender.message_shortcut(
        "U0LEE",
        "ssp_observe_message",
        {"type": "message", "text": "Cara read aloud", "ts": "1.000100"},
    )
    assert reply.status == 200
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    first = slack.emulator.open_views()[-1]
    unknown = submit(slack, "U0LEE", first, pupil="Ava Stone")
    assert list(unknown["errors"]) == ["pupil"]
    chosen = submit(slack, "U0LEE", first, pupil="Cara")
    assert chosen["response_action"] == "update"
    form = chosen["view"]
    form["id"] = first["id"]
    assert "About Cara Lin:" in modal_text(form)
    assert submit(slack, "U0LEE", form, helped="yes")["response_action"] == "update"
    [saved] = observations(slack)
    assert saved.what_happened == "Cara read aloud"
    assert audit_rows(slack, action="create", via="observation shortcut")


def test_observations_are_on_the_staff_timeline_and_never_in_the_family_copy(slack):
    form = open_plan(slack, "U0SENDCO", "observe Cara")
    submit(slack, "U0SENDCO", form, what="OBSERVATIONSECRET today", helped="yes")
    assert observations(slack)
    staff = slack.export("U0SENDCO", "Cara Lin")
    assert b"OBSERVATIONSECRET today" in staff.body
    family = slack.export("U0SENDCO", "Cara Lin --for family")
    assert family.status == 200
    assert b"OBSERVATIONSECRET" not in family.body


@pytest.mark.postgresql
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_when_the_database_is_down_the_form_stays_open(emulator, sessions, db_url):
    from sqlalchemy.engine import make_url

    from bot import db
    from handlers.context import wait_for_background_work
    from tests.db_proxy import DbProxy

    emulator.reset()
    with sessions.begin() as session:
        build_school(session, emulator)
    url = make_url(db_url)
    with DbProxy((url.host or "127.0.0.1", url.port or 5432)) as proxy:
        engine = db.make_engine(proxy.url(db_url))
        slack = start_app(emulator, db.make_session_factory(engine))
        try:
            form = open_plan(slack, "U0LEE", "observe Cara")
            proxy.cut()
            answer = submit(slack, "U0LEE", form, what="Kept", helped="yes")
            assert answer["response_action"] == "errors"
            assert "Nothing was saved" in answer["errors"]["what"]
        finally:
            proxy.passes()
            slack.server.stop()
            wait_for_background_work()
            engine.dispose()
    with sessions() as session:
        assert session.scalars(select(Observation)).all() == []


# --- the case holder's daily summary, and the review notes ------------------------------------


def add_as(slack, user: str, pupil: str, what: str, helped: str = "yes") -> None:
    form = open_plan(slack, user, f"observe {pupil}")
    assert submit(slack, user, form, what=what, helped=helped)["response_action"] == "update"


def summaries_to(slack, user: str) -> list[dict]:
    from handlers.scheduler import wait_for_deliveries

    wait_for_deliveries()
    return [m for m in slack.emulator.messages_to(user) if "new observation" in text_of(m)]


def test_the_case_holder_gets_one_summary_a_day_naming_only_the_pupils(slack, tick, clock):
    for pupil, what in (("Ava Stone", "AVA1 secret"), ("Ava Stone", "AVA2"), ("Ben Stone", "BEN")):
        add_as(slack, "U0SENDCO", pupil, what)
    tick("2026-11-23T11:00:00+00:00")
    [dm] = summaries_to(slack, "U0PRIYA")
    assert dm["text"] == "3 new observations on Ava Stone's and Ben Stone's plans"
    assert "secret" not in json.dumps(dm)
    # The same day again, and the next day with nothing new: no more messages.
    tick("2026-11-23T14:00:00+00:00")
    tick("2026-11-24T10:00:00+00:00")
    assert len(summaries_to(slack, "U0PRIYA")) == 1
    # Nobody else is told: not the SENDCo who wrote them.
    assert summaries_to(slack, "U0SENDCO") == []

    # "Read them": the case holder reads the three; a teacher clicking it is refused.
    [read] = [b for b in buttons_of(dm) if b["action_id"] == "ssp_observations_read"]
    opened = len(slack.emulator.calls_to("views.open"))
    refused = slack.click("U0LEE", "ssp_observations_read", read["value"])
    assert "isn't one of yours" in text_of(refused)
    assert len(slack.emulator.calls_to("views.open")) == opened
    # Another school's SENDCo replaying the button from their workspace: refused too.
    slack.sender.button("U0OTHER", "ssp_observations_read", read["value"], team_id="T0OTHERSCH")
    slack.emulator.wait_for(lambda calls: slack.emulator.responses_to("U0OTHER"))
    assert "isn't one of yours" in text_of(slack.emulator.responses_to("U0OTHER")[-1])
    assert len(slack.emulator.calls_to("views.open")) == opened
    slack.sender.button("U0PRIYA", "ssp_observations_read", read["value"])
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    assert len(slack.emulator.calls_to("views.open")) == opened + 1
    shown = modal_text(slack.emulator.open_views("U0PRIYA")[-1])
    for words in ("AVA1 secret", "AVA2", "BEN", "Morgan Reed", "Did it help? Yes"):
        assert words in shown
    assert audit_rows(slack, action="refused", actor_staff_id=slack.ids["lee"])
    assert len(audit_rows(slack, action="read", via="observation summary")) == 2  # two plans

    # A summary on a weekend waits for Monday.
    add_as(slack, "U0SENDCO", "Ben Stone", "Saturday")
    tick("2026-11-28T10:00:00+00:00")
    assert len(summaries_to(slack, "U0PRIYA")) == 1
    tick("2026-11-30T10:00:00+00:00")
    assert summaries_to(slack, "U0PRIYA")[-1]["text"] == "1 new observation on Ben Stone's plan"


def test_no_summary_when_there_are_none(slack, tick):
    tick("2026-11-23T11:00:00+00:00")
    assert summaries_to(slack, "U0PRIYA") == []
    # The case holder's own observations are not summarised back to them.
    add_as(slack, "U0PRIYA", "Ava Stone", "Mine")
    tick("2026-11-24T11:00:00+00:00")
    assert summaries_to(slack, "U0PRIYA") == []


def test_the_summary_takes_the_same_statements_for_one_observation_or_many(slack, engine):
    from bot.services import observations as service
    from handlers.messages import render_prompt
    from models import Prompt, School

    def statements(count: int) -> int:
        with slack.sessions.begin() as session:
            plan = session.get(Plan, slack.ids["ava_plan"])
            for n in range(count):
                session.add(
                    Observation(
                        school_id=plan.school_id, plan_id=plan.id, pupil_id=plan.pupil_id,
                        cycle_number=plan.cycle_number, author_id=slack.ids["sendco"],
                        observed_on=TODAY, what_happened=f"n{n}", strategy="Other",
                        helped=Helped.YES,
                    )
                )  # fmt: skip
        seen = []

        def counted(*args):
            seen.append(1)

        event.listen(engine, "before_cursor_execute", counted)
        try:
            with slack.sessions.begin() as session:
                school = session.get(School, slack.ids["school"])
                day = NOW + timedelta(days=1 if count == 1 else 2)  # Tuesday, Wednesday
                assert service.create_due_summaries(session, school, day) == 1
                prompt = session.scalars(select(Prompt).order_by(Prompt.id.desc())).first()
                assert f"{count} new observation" in json.dumps(render_prompt(session, prompt))
        finally:
            event.remove(engine, "before_cursor_execute", counted)
        return len(seen)

    assert statements(1) == statements(6)


def test_the_review_notes_show_this_cycles_observations(slack):
    add_as(slack, "U0SENDCO", "Ava Stone", "Read the page with the overlay", "partly")
    form = open_plan(slack, "U0PRIYA", "review Ava Stone")
    shown = modal_text(form)
    assert "Observations this cycle" in shown
    assert "Read the page with the overlay" in shown
    assert "helped: partly" in shown
