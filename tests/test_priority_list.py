"""The priority list's monitoring section and the pupils the SENDCo adds by hand, through signed
requests and the emulator."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from models import (
    AuditEvent,
    NeedCode,
    Plan,
    PlanStatus,
    PriorityEntry,
    Pupil,
    SenStage,
)
from tests import test_db_faults
from tests.slack_harness import buttons_of, raw_mrkdwn_in, text_of
from tests.test_db_faults import NOTHING_SAVED, _kept_open, on_postgresql
from tests.test_team import more_pupils

WHY = "Mum worried about <reading> & refusing school"
MONITORING = "Monitoring: need recorded, no SEN stage"

# The app behind a proxy the test can cut, as tests/test_db_faults.py makes it.
app, proxy = test_db_faults.app, test_db_faults.proxy


def with_monitoring(session, ids: dict) -> dict:
    """The four pupils of test_team, plus two on the monitoring list (need, stage N), one who
    left, and another school's pupil with a need and stage N."""
    extra = more_pupils(session, ids)

    def child(first, last, upn, need, *, active=True, school=ids["school"], year=8):
        pupil = Pupil(
            school_id=school,
            upn=upn,
            first_name=first,
            last_name=last,
            date_of_birth=date(2013, 5, 6),
            year_group=year,
            form=f"{year}C",
            sen_stage=SenStage.NONE,
            primary_need=need,
            is_active=active,
        )
        session.add(pupil)
        return pupil

    mia = child("Mia", "Ward", "A820123456020", NeedCode.SLCN)
    noah = child("Noah", "Lake", "A820123456021", NeedCode.SEMH, year=10)
    child("Otto", "Gone", "A820123456022", NeedCode.MLD, active=False)
    other = session.scalar(select(Pupil.school_id).where(Pupil.upn == "A820123456005"))
    child("Pia", "Elsewhere", "A820123456023", NeedCode.HI, school=other)
    session.flush()
    return {**extra, "mia": mia.id, "noah": noah.id}


@pytest.fixture
def school_extras():
    return with_monitoring


def entries(slack) -> list[tuple[str, str, int]]:
    with slack.sessions() as session:
        rows = session.execute(
            select(Pupil.first_name, PriorityEntry.reason, PriorityEntry.position)
            .join(Pupil, Pupil.id == PriorityEntry.pupil_id)
            .order_by(PriorityEntry.position)
        ).all()
    return [tuple(row) for row in rows]


def audited(slack, action: str) -> list[AuditEvent]:
    with slack.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def open_add_form(slack, user: str = "U0SENDCO", value: str = "add") -> dict:
    opened = len(slack.emulator.calls_to("views.open"))
    reply = slack.sender.button(user, "ssp_priority_add", value)
    assert reply.status == 200
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    return slack.emulator.open_views()[-1]


def submit_add(slack, modal: dict, pupil: str | None, reason: str | None, place=None, user=None):
    values = {
        "pupil": {"type": "plain_text_input", "value": pupil},
        "reason": {"type": "plain_text_input", "value": reason},
    }
    if place is not None:
        block = next(b for b in modal["blocks"] if b.get("block_id") == "position")
        option = next(o for o in block["element"]["options"] if o["value"] == str(place))
        values["position"] = {"type": "static_select", "selected_option": option}
    return slack.sender.submit(user or "U0SENDCO", modal, values).json()


def add(slack, pupil: str, reason: str, place=None) -> dict:
    answer = submit_add(slack, open_add_form(slack), pupil, reason, place)
    assert "is on the priority list" in text_of({"blocks": answer["view"]["blocks"]}), answer
    return answer


def section_of(listing: dict, heading: str) -> str:
    """The text of one part of the list: from its heading to the next heading."""
    text = text_of(listing)
    start = text.index(heading)
    ends = [
        text.find(h, start + 1)
        for h in ("Added by the SENDCo", "Need a plan or a case holder", MONITORING)
    ]
    ends = [e for e in ends if e > start]
    return text[start : min(ends) if ends else len(text)]


def button(listing: dict, action_id: str, value: str | None = None) -> dict:
    return next(
        b
        for b in buttons_of(listing)
        if b["action_id"] == action_id and (value is None or b["value"] == value)
    )


# --- the monitoring list ----------------------------------------------------------------------


@pytest.mark.parametrize("user", ["U0SENDCO", "U0SLT"])
def test_pupils_with_a_need_but_no_sen_stage_are_listed_in_their_own_section(slack, user):
    listing = slack.ask(user, "priority")
    monitoring = section_of(listing, MONITORING)
    assert "2 pupils" in monitoring
    assert "Mia Ward" in monitoring and "Speech, language and communication" in monitoring
    assert "Noah Lake" in monitoring and "Social, emotional and mental health" in monitoring
    for absent in ("Dev Patel", "Otto Gone", "Pia Elsewhere"):  # no need; left; other school
        assert absent not in text_of(listing)
    # The pupils the data says need a plan are in their own part, not among the monitored.
    assert "Eve Ray" in section_of(listing, "Need a plan or a case holder")
    assert "Eve Ray" not in monitoring
    assert raw_mrkdwn_in(listing) == []


def test_only_the_sendco_gets_buttons_to_add_a_monitored_pupil(slack):
    sendco = slack.ask("U0SENDCO", "priority")
    assert button(sendco, "ssp_priority_add", str(slack.ids["mia"]))
    slt = slack.ask("U0SLT", "priority")
    assert not [b for b in buttons_of(slt) if b["action_id"].startswith("ssp_priority")]


def test_a_long_monitoring_list_is_paged_within_slacks_limits(slack):
    with slack.sessions.begin() as session:
        school = session.get(Pupil, slack.ids["mia"]).school_id
        session.add_all(
            Pupil(
                school_id=school,
                upn=f"A8201234{n:05d}",
                first_name="Pupil",
                last_name=f"Number{n:02d}",
                date_of_birth=date(2013, 1, 1),
                year_group=11,
                sen_stage=SenStage.NONE,
                primary_need=NeedCode.SPLD,
            )
            for n in range(100, 160)
        )
    first = slack.ask("U0SENDCO", "priority")
    assert "Page 1 of 5" in text_of(first)
    assert len(first["blocks"]) <= 50
    last = first
    for _ in range(4):
        last = slack.click("U0SENDCO", "ssp_page_next", button(last, "ssp_page_next")["value"])
        assert len(last["blocks"]) <= 50
    assert "Page 5 of 5" in text_of(last)
    assert "62 with a recorded need but no SEN stage" in text_of(last)
    assert MONITORING in text_of(last)  # the part's heading again on its own page
    assert "Number159" in text_of(last)


# --- adding a pupil by hand -------------------------------------------------------------------


def test_the_sendco_adds_a_pupil_by_command_with_a_reason(slack):
    opened = len(slack.emulator.calls_to("views.open"))
    reply = slack.sender.command("U0SENDCO", "priority add Mia Ward")
    assert reply.status == 200
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    modal = slack.emulator.open_views()[-1]
    pupil = next(b for b in modal["blocks"] if b.get("block_id") == "pupil")
    assert pupil["element"]["initial_value"] == "Mia Ward"

    answer = submit_add(slack, modal, "Mia Ward", WHY)
    assert "Mia Ward is on the priority list at number 1" in text_of(
        {"blocks": answer["view"]["blocks"]}
    )
    assert entries(slack) == [("Mia", WHY, 1)]
    (event,) = audited(slack, "priority_add")
    assert event.pupil_id == slack.ids["mia"] and event.actor_staff_id == slack.ids["sendco"]
    assert "reading" not in (event.detail or "")  # the reason is not copied into the log

    listing = slack.ask("U0SENDCO", "priority")
    added = section_of(listing, "Added by the SENDCo")
    assert "1. *Mia Ward*" in added or "1. Mia Ward" in added
    assert "Mum worried about &lt;reading&gt; &amp; refusing school" in str(listing)
    assert "Mia Ward" not in section_of(listing, MONITORING)  # listed once
    assert raw_mrkdwn_in(listing) == []


def test_a_senior_leader_sees_the_added_pupil_but_not_why_and_no_buttons(slack):
    add(slack, "Mia Ward", WHY)
    listing = slack.ask("U0SLT", "priority")
    assert "Mia Ward" in section_of(listing, "Added by the SENDCo")
    assert "worried" not in str(listing) and "reading" not in str(listing)
    assert all(b["action_id"].startswith("ssp_page") for b in buttons_of(listing))


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("Nobody Atall", "couldn't find a pupil on roll"),
        ("Otto Gone", "couldn't find a pupil on roll"),  # left the school
        ("Pia Elsewhere", "couldn't find a pupil on roll"),  # another school's
        ("Ava Stone", "already has a plan (active, held by Priya Shah)"),
    ],
)
def test_a_pupil_who_cannot_be_added_is_explained_by_the_command(slack, typed, said):
    opened = len(slack.emulator.calls_to("views.open"))
    answer = slack.ask("U0SENDCO", f"priority add {typed}")
    assert said in text_of(answer)
    assert len(slack.emulator.calls_to("views.open")) == opened
    assert entries(slack) == []


def test_the_form_answers_beside_the_field_and_adds_nothing(slack):
    modal = open_add_form(slack)
    assert submit_add(slack, modal, "Mia Ward", None)["errors"] == {
        "reason": "Say why this pupil needs to be on the priority list."
    }
    assert "pupil" in submit_add(slack, modal, None, WHY)["errors"]
    unknown = submit_add(slack, modal, "Nobody Atall", WHY)["errors"]["pupil"]
    assert "couldn't find a pupil on roll" in unknown
    held = submit_add(slack, modal, "A820123456001", WHY)["errors"]["pupil"]  # Ava's UPN
    assert "Ava Stone already has a plan" in held
    assert entries(slack) == [] and audited(slack, "priority_add") == []


def test_a_pupil_added_twice_is_explained(slack):
    add(slack, "Mia Ward", "First reason")
    again = submit_add(slack, open_add_form(slack), "mia ward", "Second reason")
    assert (
        "already on the priority list (number 1, added by you because: First reason)"
        in (again["errors"]["pupil"])
    )
    answer = slack.ask("U0SENDCO", "priority add Mia Ward")
    assert "already on the priority list" in text_of(answer)
    assert entries(slack) == [("Mia", "First reason", 1)]


def test_a_pupil_with_a_plan_but_no_case_holder_can_be_added_and_is_listed_once(slack):
    add(slack, "Gus Hill", "Overdue and the family have asked twice")  # plan, no holder
    listing = slack.ask("U0SENDCO", "priority")
    assert "Gus Hill" in section_of(listing, "Added by the SENDCo")
    assert "Gus Hill" not in section_of(listing, "Need a plan or a case holder")


def test_the_monitored_pupils_add_button_fills_in_the_pupil(slack):
    modal = open_add_form(slack, value=str(slack.ids["noah"]))
    pupil = next(b for b in modal["blocks"] if b.get("block_id") == "pupil")
    assert pupil["element"]["initial_value"] == "A820123456021"
    submit_add(slack, modal, pupil["element"]["initial_value"], "Exclusions rising")
    assert entries(slack) == [("Noah", "Exclusions rising", 1)]


# --- ordering and removing --------------------------------------------------------------------


def order_shown(slack) -> list[str]:
    added = section_of(slack.ask("U0SENDCO", "priority"), "Added by the SENDCo")
    names = ("Mia Ward", "Noah Lake", "Eve Ray", "Finn Cole")
    return sorted((n for n in names if n in added), key=added.index)


def test_the_sendco_orders_the_added_pupils(slack):
    add(slack, "Mia Ward", "one")
    add(slack, "Noah Lake", "two")
    add(slack, "Eve Ray", "goes first", place=1)
    assert order_shown(slack) == ["Eve Ray", "Mia Ward", "Noah Lake"]

    listing = slack.ask("U0SENDCO", "priority")
    noah = _entry_id(slack, "noah")
    eve = _entry_id(slack, "eve")
    ups = [b["value"] for b in buttons_of(listing) if b["action_id"] == "ssp_priority_up"]
    downs = [b["value"] for b in buttons_of(listing) if b["action_id"] == "ssp_priority_down"]
    assert str(eve) not in ups and str(noah) not in downs  # top can't go up, bottom down

    moved = slack.click("U0SENDCO", "ssp_priority_up", str(noah))
    assert "Noah Lake" in text_of(moved)
    assert order_shown(slack) == ["Eve Ray", "Noah Lake", "Mia Ward"]
    slack.click("U0SENDCO", "ssp_priority_down", str(eve))
    assert order_shown(slack) == ["Noah Lake", "Eve Ray", "Mia Ward"]
    assert len(audited(slack, "priority_move")) == 2


def test_the_sendco_removes_an_added_pupil(slack):
    add(slack, "Mia Ward", "one")
    answer = slack.click("U0SENDCO", "ssp_priority_remove", str(_entry_id(slack, "mia")))
    assert "Mia Ward is off the priority list" in text_of(answer)
    assert entries(slack) == []
    assert "Mia Ward" in section_of(answer, MONITORING)  # back where the school's data puts her
    (event,) = audited(slack, "priority_remove")
    assert event.pupil_id == slack.ids["mia"]
    again = slack.click("U0SENDCO", "ssp_priority_remove", "999999")
    assert "no longer on the priority list" in text_of(again)


def _entry_id(slack, key: str) -> int:
    with slack.sessions() as session:
        return session.scalar(
            select(PriorityEntry.id).where(PriorityEntry.pupil_id == slack.ids[key])
        )


# --- nobody but the SENDCo --------------------------------------------------------------------


@pytest.mark.parametrize("user", ["U0SLT", "U0PRIYA", "U0LEE"])
def test_nobody_but_the_sendco_adds_orders_or_removes(slack, user):
    add(slack, "Mia Ward", "one")
    add(slack, "Noah Lake", "two")
    mia = str(_entry_id(slack, "mia"))
    before = entries(slack)
    for action_id in ("ssp_priority_up", "ssp_priority_down", "ssp_priority_remove"):
        for value in (mia, str(_entry_id(slack, "noah"))):
            answer = slack.click(user, action_id, value)
            assert "Only the SENDCo" in text_of(answer), text_of(answer)
            assert "Mia" not in text_of(answer) and "Noah" not in text_of(answer)
    answer = slack.click(user, "ssp_priority_add", str(slack.ids["eve"]))
    assert "Only the SENDCo" in text_of(answer)
    # A SENDCo's form, replayed as this person: refused, nothing added.
    modal = open_add_form(slack)
    reply = submit_add(slack, modal, "Eve Ray", "sneaked in", user=user)
    assert "Only the SENDCo" in str(reply)
    assert "Only the SENDCo" in text_of(slack.ask(user, "priority add Eve Ray")) or (
        "for the SENDCo and senior leaders" in text_of(slack.ask(user, "priority add Eve Ray"))
    )
    assert entries(slack) == before
    assert audited(slack, "priority_remove") == [] and audited(slack, "priority_move") == []


def test_another_schools_sendco_cannot_touch_this_schools_list(slack):
    add(slack, "Mia Ward", "one")
    mia = str(_entry_id(slack, "mia"))
    for action_id in ("ssp_priority_remove", "ssp_priority_up"):
        before = len(slack.emulator.responses_to("U0OTHER"))
        reply = slack.sender.button("U0OTHER", action_id, mia, team_id="T0OTHERSCH")
        assert reply.status == 200
        slack.emulator.wait_for(
            lambda calls, before=before: len(slack.emulator.responses_to("U0OTHER")) > before
        )
        answer = slack.emulator.responses_to("U0OTHER")[-1]
        assert "no longer on the priority list" in text_of(answer)
        assert "Mia" not in str(answer)
    assert entries(slack) == [("Mia", "one", 1)]


# --- assigning a hand-added pupil -------------------------------------------------------------


def test_assigning_an_added_pupil_takes_them_off_the_list(slack):
    slack.ask("U0SENDCO", "team add <@U0LEE|lee> SLCN")
    add(slack, "Mia Ward", "one")
    listing = slack.ask("U0SENDCO", "priority")
    assign = button(listing, "ssp_assign_open", str(slack.ids["mia"]))
    opened = len(slack.emulator.calls_to("views.open"))
    slack.sender.button("U0SENDCO", "ssp_assign_open", assign["value"])
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    modal = slack.emulator.open_views()[-1]
    holder = next(b for b in modal["blocks"] if b.get("block_id") == "holder")
    answer = slack.sender.submit(
        "U0SENDCO",
        modal,
        {"holder": {"type": "static_select", "selected_option": holder["element"]["options"][0]}},
    ).json()
    assert "Mia Ward →" in text_of({"blocks": answer["view"]["blocks"]})
    assert entries(slack) == []
    with slack.sessions() as session:
        plan = session.scalar(select(Plan).where(Plan.pupil_id == slack.ids["mia"]))
        assert plan.status == PlanStatus.DRAFT and plan.case_holder_id is not None
    listing = slack.ask("U0SENDCO", "priority")
    assert "Mia Ward" not in text_of(listing)
    assert [e.via for e in audited(slack, "priority_remove")] == ["/ssp assign"]


def test_assign_auto_proposes_added_pupils_first(slack):
    slack.ask("U0SENDCO", "team add <@U0LEE|lee>")
    add(slack, "Noah Lake", "two")
    proposal = text_of(slack.ask("U0SENDCO", "assign auto"))
    assert proposal.index("Noah Lake") < proposal.index("Eve Ray")


# --- the database gone ------------------------------------------------------------------------


@on_postgresql
def test_a_pupil_added_while_the_database_is_cut_stays_in_the_open_form(app, proxy):
    opened = len(app.emulator.calls_to("views.open"))
    app.sender.button("U0SENDCO", "ssp_priority_add", "add")
    app.emulator.wait_for(lambda calls: len(app.emulator.calls_to("views.open")) > opened)
    view = app.emulator.open_views("U0SENDCO")[-1]
    typed = {
        "pupil": {"type": "plain_text_input", "value": "Eve Ray"},
        "reason": {"type": "plain_text_input", "value": WHY},
    }
    proxy.cut()
    said = _kept_open(app.sender.submit("U0SENDCO", view, typed).json(), view)
    assert NOTHING_SAVED in said
    proxy.passes()
    with app.direct() as session:
        assert session.scalar(select(func.count(PriorityEntry.id))) == 0


def test_help_names_adding_to_the_list_to_the_sendco_only(slack):
    assert "/ssp priority add [UPN or full name]" in text_of(slack.ask("U0SENDCO", "help"))
    slt = text_of(slack.ask("U0SLT", "help"))
    assert "monitoring list" in slt and "/ssp priority add" not in slt
    assert "Use `/ssp priority`" in text_of(slack.ask("U0SENDCO", "priority shuffle"))
