"""The school's provision library (`/ssp provision library`, `sspbot import provision`) and plan
provision rows chosen from it, ended rather than deleted, through the signed endpoint and the
emulator on SQLite and PostgreSQL.

Brookside High (tests/slack_harness.py): Morgan Reed is the SENDCo (U0SENDCO), Dana Fox a senior
leader (U0SLT), Priya Shah a case holder and teacher (U0PRIYA, holds Ava Stone's plan), Lee Chan a
teacher (U0LEE), Sam Jones a teaching assistant (U0TA); Olly Other is the SENDCo of another school
(U0OTHER).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.services import provision_library as library
from bot.services.csv_import import ImportRejected
from models import AuditEvent, BroadArea, LibraryProvision, MeasureKind, ProvisionTier, School
from tests.factories import library_item
from tests.slack_harness import build_school, start_app, text_of
from tests.test_plan_editor import click, form_state, modal_text, open_plan, submit


@pytest.fixture
def school_extras():
    def extras(session, ids):
        school = session.get(School, ids["school"])
        lexia = library_item(session, school, "Lexia")
        elsa = library_item(
            session,
            school,
            "ELSA",
            area_of_need=BroadArea.SEMH,
            tier=ProvisionTier.TARGETED,
            group_size=1,
            sessions_per_week=1,
            session_minutes=30,
            weeks=6,
            staff_role="ELSA",
            cost_per_session_pence=1800,
            description="Weekly time with a trained assistant to talk about feelings.",
        )
        old = library_item(session, school, "Old phonics scheme", is_active=False)
        return {"lexia": lexia.id, "elsa": elsa.id, "old": old.id}

    return extras


def entries(slack, school_id=None) -> list[LibraryProvision]:
    with slack.sessions() as session:
        return list(
            session.scalars(
                select(LibraryProvision)
                .where(LibraryProvision.school_id == (school_id or slack.ids["school"]))
                .order_by(LibraryProvision.id)
            )
        )


def by_name(slack, name: str) -> LibraryProvision:
    return next(e for e in entries(slack) if e.name == name)


def audit_rows(slack, via=library.VIA) -> list[AuditEvent]:
    with slack.sessions() as session:
        return list(
            session.scalars(select(AuditEvent).where(AuditEvent.via == via).order_by(AuditEvent.id))
        )


def open_form(slack, user: str, action_id: str, value: str, *, choose: bool = False) -> dict:
    opened = len(slack.emulator.calls_to("views.open"))
    if choose:
        reply = slack.sender.choose(user, action_id, value)
    else:
        reply = slack.sender.button(user, action_id, value)
    assert reply.status == 200
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    return slack.emulator.open_views()[-1]


def menu_of(reply: dict) -> dict[str, list[str]]:
    """Each entry's first line (its name in bold) and its overflow menu's values."""
    found = {}
    for block in reply["blocks"]:
        accessory = block.get("accessory") or {}
        if accessory.get("type") == "overflow":
            assert accessory["action_id"] == "provlib_item"
            name = block["text"]["text"].split("*")[1]
            found[name] = [o["value"] for o in accessory["options"]]
    return found


def add_button(reply: dict) -> dict | None:
    return next(
        (
            e
            for b in reply["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
            if e["action_id"] == "provlib_add"
        ),
        None,
    )


def choose_and_wait(slack, user: str, value: str) -> dict:
    before = len(slack.emulator.responses_to(user))
    assert slack.sender.choose(user, "provlib_item", value).status == 200
    slack.emulator.wait_for(lambda calls: len(slack.emulator.responses_to(user)) > before)
    return slack.emulator.responses_to(user)[-1]


# --- the library in Slack -----------------------------------------------------------------------


def test_the_sendco_sees_the_library_with_add_and_a_menu_per_entry(slack):
    reply = slack.ask("U0SENDCO", "provision library")
    text = text_of(reply)
    assert "ELSA" in text and "Lexia" in text
    assert "1 × 30 minutes a week for 6 weeks, one to one, by ELSA" in text
    assert "£18.00 a session" in text
    assert "Old phonics scheme" not in text
    assert "1 retired entry not shown" in text
    assert add_button(reply) is not None
    menus = menu_of(reply)
    assert menus["ELSA"] == [f"edit:{slack.ids['elsa']}", f"retire:{slack.ids['elsa']}"]
    everything = slack.ask("U0SENDCO", "provision library all")
    assert "Old phonics scheme (retired)" in text_of(everything)
    assert menu_of(everything)["Old phonics scheme"][1] == f"restore:{slack.ids['old']}"


@pytest.mark.parametrize("user", ["U0SLT", "U0PRIYA", "U0LEE", "U0TA"])
def test_other_staff_read_the_library_but_are_offered_no_changes(slack, user):
    reply = slack.ask(user, "provision library")
    assert "Lexia" in text_of(reply) and "ELSA" in text_of(reply)
    assert add_button(reply) is None
    assert menu_of(reply) == {}
    assert "only the SENDCo changes the library" in text_of(reply)


def test_the_sendco_adds_an_entry_and_bad_input_is_answered_beside_the_fields(slack):
    form = open_form(slack, "U0SENDCO", "provlib_add", "new")
    assert form["callback_id"] == "provlib_form"
    good = dict(
        name="Talkabout",
        area_of_need=BroadArea.COMMUNICATION_AND_INTERACTION.value,
        tier=ProvisionTier.TARGETED.value,
        group_size="6",
        sessions_per_week="1",
        session_minutes="45",
        weeks="10",
        staff_role="Teaching assistant",
        cost_per_session="12.50",
        cost_per_pupil="£3",
        description="A small group that practises talking and listening.",
    )
    bad = submit(
        slack,
        "U0SENDCO",
        form,
        **dict(good, name="elsa", group_size="0", weeks="two", cost_per_session="12.505"),
    )
    assert bad["response_action"] == "errors"
    assert set(bad["errors"]) == {"name", "group_size", "weeks", "cost_per_session"}
    assert "already has an entry with this name" in bad["errors"]["name"]
    assert "above 0" in bad["errors"]["group_size"]
    assert "pounds" in bad["errors"]["cost_per_session"]
    unnamed = submit(slack, "U0SENDCO", form, **dict(good, name=""))
    assert list(unnamed["errors"]) == ["name"]
    assert len(entries(slack)) == 3
    answer = submit(slack, "U0SENDCO", form, **good)
    assert answer["response_action"] == "update"
    assert "*Talkabout* is added to the school's provision library" in json.dumps(answer["view"])
    saved = by_name(slack, "Talkabout")
    assert (saved.cost_per_session_pence, saved.cost_per_pupil_pence) == (1250, 300)
    assert (saved.group_size, saved.session_minutes, saved.weeks) == (6, 45, 10)
    assert saved.area_of_need is BroadArea.COMMUNICATION_AND_INTERACTION and saved.is_active
    [row] = audit_rows(slack)
    assert (row.action, row.actor_staff_id, row.pupil_id, row.plan_id) == (
        "create",
        slack.ids["sendco"],
        None,
        None,
    )
    assert row.detail == "provision library: added Talkabout"


def test_the_sendco_edits_and_retires_an_entry_which_is_kept(slack):
    form = open_form(slack, "U0SENDCO", "provlib_item", f"edit:{slack.ids['elsa']}", choose=True)
    assert form["callback_id"] == "provlib_form"
    assert "Weekly time with a trained assistant" in json.dumps(form)
    shown = {b["block_id"]: b["element"] for b in form["blocks"] if b["type"] == "input"}
    assert shown["cost_per_session"]["initial_value"] == "18.00"
    assert shown["area_of_need"]["initial_option"]["value"] == "semh"
    answer = submit(slack, "U0SENDCO", form, cost_per_session="20", weeks="8")
    assert answer["response_action"] == "update"
    elsa = by_name(slack, "ELSA")
    assert (elsa.cost_per_session_pence, elsa.weeks) == (2000, 8)
    # Renaming it to its own name again is not a clash.
    assert submit(slack, "U0SENDCO", form, name="ELSA")["response_action"] == "update"

    reply = choose_and_wait(slack, "U0SENDCO", f"retire:{slack.ids['elsa']}")
    assert "ELSA is retired" in text_of(reply)
    assert "ELSA" not in text_of(reply).split("is retired")[1].split("retired entr")[0]
    assert "2 retired entries not shown" in text_of(reply)
    assert by_name(slack, "ELSA").is_active is False
    back = choose_and_wait(slack, "U0SENDCO", f"restore:{slack.ids['elsa']}")
    assert "ELSA is back in the library" in text_of(back)
    assert by_name(slack, "ELSA").is_active is True
    assert [r.detail for r in audit_rows(slack)] == [
        "provision library: changed ELSA",
        "provision library: changed ELSA",
        "provision library: retired ELSA",
        "provision library: brought back ELSA",
    ]


@pytest.mark.parametrize("user", ["U0SLT", "U0PRIYA", "U0LEE", "U0TA"])
def test_only_the_sendco_may_change_it_whatever_is_clicked_or_submitted(slack, user):
    before = [(e.name, e.is_active, e.weeks) for e in entries(slack)]
    opened = len(slack.emulator.calls_to("views.open"))
    for action_id, value in (("provlib_add", "new"),):
        assert slack.sender.button(user, action_id, value).status == 200
    for value in (f"edit:{slack.ids['elsa']}", f"retire:{slack.ids['elsa']}"):
        assert slack.sender.choose(user, "provlib_item", value).status == 200
    slack.emulator.wait_for(
        lambda calls: (
            len([r for r in slack.emulator.responses_to(user) if "Only the SENDCo" in str(r)]) >= 3
        )
    )
    assert len(slack.emulator.calls_to("views.open")) == opened  # no form opened
    # A form kept from the SENDCo's session, submitted by someone else: refused, not saved.
    form = open_form(slack, "U0SENDCO", "provlib_item", f"edit:{slack.ids['elsa']}", choose=True)
    answer = submit(slack, user, form, weeks="99")
    assert answer["response_action"] == "update"
    assert "Only the SENDCo changes the school's provision library" in json.dumps(answer["view"])
    assert [(e.name, e.is_active, e.weeks) for e in entries(slack)] == before
    assert audit_rows(slack) == []


def test_another_school_sees_nothing_of_ours_and_cannot_touch_it(slack):
    reply = slack.ask("U0OTHER", "provision library", team_id="T0OTHERSCH")
    assert "Lexia" not in text_of(reply) and "ELSA" not in text_of(reply)
    # Olly is a SENDCo, but of another school: our entry reads as not there.
    elsa = slack.ids["elsa"]
    slack.sender.choose("U0OTHER", "provlib_item", f"retire:{elsa}", user_team_id="T0OTHERSCH")
    form = open_form(slack, "U0SENDCO", "provlib_item", f"edit:{elsa}", choose=True)
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
            block: {"value": state} for block, state in form_state(form, {"weeks": "99"}).items()
        }
    }
    assert slack.sender._post_interaction(payload).status == 200
    assert by_name(slack, "ELSA").is_active and by_name(slack, "ELSA").weeks == 6
    assert audit_rows(slack) == []


def test_the_help_lists_it(slack):
    assert "/ssp provision library" in text_of(slack.ask("U0TA", "help"))


# --- the CSV import -----------------------------------------------------------------------------

GOOD_CSV = (
    "name,area_of_need,tier,group_size,sessions_per_week,session_minutes,weeks,staff_role,"
    "cost_per_session,cost_per_pupil,description,active\n"
    "Lexia,Cognition and learning,targeted,4,3,20,12,Teaching assistant,15.00,40.00,"
    "Reading practice on a computer.,yes\n"
    "Zones of Regulation,semh,Ordinarily available,30,1,60,,Class teacher,,,"
    "Learning to name feelings.,\n"
    "Sensory circuits,Sensory and physical,targeted,6,5,15,,Teaching assistant,5,,"
    '"Movement activities, before school.",no\n'
)


def test_a_csv_imports_and_reimporting_updates_by_name(sessions, tmp_path: Path):
    with sessions.begin() as session:
        school = School(name="Brookside High")
        session.add(school)
        session.flush()
        library_item(session, school, "lexia", weeks=6)
        school_id = school.id
    path = tmp_path / "provision.csv"
    path.write_text(GOOD_CSV)
    with sessions.begin() as session:
        result = library.import_provision_csv(
            session, session.get(School, school_id), path, today=None
        )
    assert (result.added, result.updated, result.retired) == (2, 1, 1)
    with sessions() as session:
        rows = {r.name: r for r in session.scalars(select(LibraryProvision))}
    assert set(rows) == {"Lexia", "Zones of Regulation", "Sensory circuits"}
    lexia = rows["Lexia"]
    assert (lexia.weeks, lexia.sessions_per_week, lexia.cost_per_pupil_pence) == (12, 3, 4000)
    assert rows["Zones of Regulation"].tier is ProvisionTier.ORDINARILY_AVAILABLE
    assert rows["Zones of Regulation"].weeks is None
    assert rows["Sensory circuits"].area_of_need is BroadArea.SENSORY_AND_PHYSICAL
    assert rows["Sensory circuits"].is_active is False
    path.write_text(GOOD_CSV.replace("12,Teaching assistant,15.00", "10,Teaching assistant,16.50"))
    with sessions.begin() as session:
        again = library.import_provision_csv(
            session, session.get(School, school_id), path, today=None
        )
    assert (again.added, again.updated) == (0, 3)
    with sessions() as session:
        lexia = session.scalar(select(LibraryProvision).where(LibraryProvision.name == "Lexia"))
        assert (lexia.weeks, lexia.cost_per_session_pence) == (10, 1650)
        assert session.query(LibraryProvision).count() == 3


def test_a_bad_row_rejects_the_whole_file_with_its_line_and_reason(sessions, tmp_path: Path):
    with sessions.begin() as session:
        school = School(name="Brookside High")
        session.add(school)
        session.flush()
        school_id = school.id
    bad = (
        GOOD_CSV
        + "Toe by Toe,literacy,targeted,1,5,10,,TA,,,,\n"
        + "Precision teaching,Cognition and learning,targeted,-2,5,10,,TA,ten,,,\n"
        + "lexia,cl,targeted,,,,,,,,,\n"
    )
    path = tmp_path / "provision.csv"
    path.write_text(bad)
    with sessions.begin() as session, pytest.raises(ImportRejected) as rejected:
        library.import_provision_csv(session, session.get(School, school_id), path, today=None)
    message = str(rejected.value)
    assert "nothing was changed" in message
    assert "line 5: area_of_need is not one of the four areas of need" in message
    assert "line 6: group_size must be a whole number above 0" in message
    assert "line 6: cost_per_session is not an amount in pounds" in message
    assert "line 7: names 'lexia' again (first on line 2)" in message
    with sessions() as session:
        assert session.scalars(select(LibraryProvision)).all() == []


def test_the_cli_imports_a_file_and_says_what_it_did(run_cli, sessions, tmp_path: Path):
    assert run_cli("school", "add", "Brookside High").code == 0
    path = tmp_path / "provision.csv"
    path.write_text(GOOD_CSV)
    result = run_cli("import", "provision", str(path), "--school", "Brookside High")
    assert result.code == 0, result
    assert "3 added and 0 updated (1 marked retired in the file)" in result.out
    path.write_text(GOOD_CSV + "Broken,nowhere,targeted,,,,,,,,,\n")
    rejected = run_cli("import", "provision", str(path))
    assert rejected.code != 0
    assert "line 5: area_of_need is not one of the four areas" in rejected.out + rejected.err
    with sessions() as session:
        assert session.query(LibraryProvision).count() == 3


# --- measures -----------------------------------------------------------------------------------


def test_reading_ages_are_typed_in_years_and_months_and_shown_back_so():
    for typed in ("8y 6m", "8:6", "8 years 6 months", "8y6m", "8.6"):
        assert library.parse_measure(MeasureKind.READING_AGE, typed) == 102, typed
    assert library.parse_measure(MeasureKind.READING_AGE, "9") == 108
    assert library.show_measure(MeasureKind.READING_AGE, 102) == "8y 6m"
    assert library.show_measure(MeasureKind.ATTENDANCE, 92.5) == "92.5%"
    assert library.show_measure(MeasureKind.STANDARDISED, 85.0) == "85"
    for bad in ("eight", "8y 13m"):
        with pytest.raises(Exception):  # noqa: B017 - BadValue, a reason for the form
            library.parse_measure(MeasureKind.READING_AGE, bad)
    with pytest.raises(Exception):  # noqa: B017
        library.parse_measure(MeasureKind.ATTENDANCE, "120")


# --- the synthetic school ---------------------------------------------------------------------


def test_the_demo_school_ships_a_library_across_areas_and_tiers(sessions):
    from datetime import date

    from bot.demo.provision_library import NAMES
    from bot.demo.school import create_demo_school

    with sessions.begin() as session:
        create_demo_school(session, name="Demo High", pupils=60, today=date(2026, 11, 23))
    with sessions() as session:
        rows = session.scalars(select(LibraryProvision)).all()
    assert len(rows) >= 15 and {r.name for r in rows} == set(NAMES)
    assert {r.area_of_need for r in rows} == set(BroadArea)
    assert {r.tier for r in rows} == set(ProvisionTier)
    assert all(r.description and r.is_active for r in rows)
    lexia = next(r for r in rows if r.name.startswith("Lexia"))
    assert lexia.cost_per_session_pence == 1000
    # Plans' provision that is one of the library's entries is linked to it.
    from models import PlanProvision

    with sessions() as session:
        linked = session.execute(
            select(PlanProvision.what, LibraryProvision.name).join(
                LibraryProvision, LibraryProvision.id == PlanProvision.library_id
            )
        ).all()
    assert linked and all(what.split()[0] in name for what, name in linked if "Lexia" in what)
    assert {name for _, name in linked} <= set(NAMES)


# --- plan provision from the library, ended rather than deleted -------------------------------


def provisions_of(slack, pupil: str = "ava") -> list:
    from models import Plan, PlanProvision

    with slack.sessions() as session:
        return list(
            session.scalars(
                select(PlanProvision)
                .join(Plan, Plan.id == PlanProvision.plan_id)
                .where(Plan.pupil_id == slack.ids[pupil])
                .order_by(PlanProvision.id)
            )
        )


def provision_section(slack, user: str = "U0SENDCO") -> tuple[dict, dict]:
    overview = open_plan(slack, user, "plan Ava Stone")
    return overview, click(slack, user, overview, "plan_open_section", "provision")


def test_a_plan_provision_is_chosen_from_the_library_with_its_measures(slack):
    _, listed = provision_section(slack)
    form = click(slack, "U0SENDCO", listed, "plan_add_item", "provision")
    menu = next(b for b in form["blocks"] if b.get("block_id") == "library_id")
    labels = [o["text"]["text"] for o in menu["element"]["options"]]
    assert labels == ["ELSA", "Lexia"]  # active entries only, by name
    bad = submit(
        slack,
        "U0SENDCO",
        form,
        library_id=str(slack.ids["elsa"]),
        measure_kind=MeasureKind.READING_AGE.value,
        entry_value="seven",
    )
    assert bad["response_action"] == "errors"
    assert bad["errors"] == {
        "entry_value": "Type a reading age as years and months, like 8y 6m or 8:6."
    }
    backwards = submit(
        slack,
        "U0SENDCO",
        form,
        library_id=str(slack.ids["elsa"]),
        entry_on="2026-11-02",
        exit_on="2026-10-01",
    )
    assert backwards["errors"] == {"exit_on": "This is before the entry measure was taken."}
    answer = submit(
        slack,
        "U0SENDCO",
        form,
        library_id=str(slack.ids["elsa"]),
        who="Mrs Patel (ELSA)",
        measure_kind=MeasureKind.READING_AGE.value,
        measure_name="YARC reading accuracy",
        entry_value="7y 2m",
        entry_on="2026-11-02",
    )
    assert answer is None or answer["response_action"] == "update"
    chosen = provisions_of(slack)[-1]
    assert (chosen.what, chosen.library_id, chosen.who) == (
        "ELSA",
        slack.ids["elsa"],
        "Mrs Patel (ELSA)",
    )
    assert (chosen.measure_kind, chosen.entry_value) == (MeasureKind.READING_AGE, 86.0)
    # Shown back as it was typed, in the form and in "Read all".
    _, listed = provision_section(slack)
    edit = click(slack, "U0SENDCO", listed, "plan_edit_item", str(chosen.id))
    shown = {b["block_id"]: b["element"] for b in edit["blocks"] if b["type"] == "input"}
    assert shown["entry_value"]["initial_value"] == "7y 2m"
    assert shown["library_id"]["initial_option"]["text"]["text"] == "ELSA"
    # Free text stays possible: no library entry, "what" typed.
    _, listed = provision_section(slack)
    free = click(slack, "U0SENDCO", listed, "plan_add_item", "provision")
    assert "library_id" not in json.dumps(free.get("state") or {})
    saved = submit(slack, "U0SENDCO", free, **{"what--0": "Lunchtime club"})
    assert saved is None or saved["response_action"] == "update"
    assert provisions_of(slack)[-1].what == "Lunchtime club"
    assert provisions_of(slack)[-1].library_id is None
    assert [p.what for p in provisions_of(slack)] == [
        "Lexia reading programme",
        "ELSA",
        "Lunchtime club",
    ]


def test_ending_a_provision_keeps_it_as_tried_before(slack):
    with slack.sessions.begin() as session:
        from models import MeasureKind as Kind

        lexia = provisions_of(slack)[0]
        row = session.get(type(lexia), lexia.id)
        row.library_id = slack.ids["lexia"]
        row.measure_kind = Kind.STANDARDISED
        row.measure_name = "NGRT"
        row.entry_value = 82
    [lexia] = provisions_of(slack)
    _, listed = provision_section(slack)
    form = click(slack, "U0SENDCO", listed, "plan_edit_item", str(lexia.id))
    assert "End this provision today" in json.dumps(form)
    answer = submit(
        slack, "U0SENDCO", form, remove=True, ended_reason="ENDEDSECRET moved to Toe by Toe"
    )
    assert answer is None or answer["response_action"] == "update"
    [kept] = provisions_of(slack)  # not deleted
    assert kept.ended_on is not None
    assert kept.ended_reason == "ENDEDSECRET moved to Toe by Toe"
    with slack.sessions() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.plan_id == slack.ids["ava_plan"])
        ).all()
    assert "ended a provision" in [e.detail for e in events]
    assert not any("ENDEDSECRET" in (e.detail or "") for e in events)

    overview = open_plan(slack, "U0SENDCO", "plan Ava Stone")
    text = modal_text(overview)
    current, _, tried = text.partition("Tried before")
    assert tried and "Lexia reading programme" in tried
    assert "Lexia reading programme" not in current.split("Provision", 1)[1]
    _, listed = provision_section(slack)
    assert "Nothing yet" in modal_text(listed)
    assert "1 ended, kept under “Tried before” on the plan" in modal_text(listed)

    staff = slack.export("U0SENDCO", "Ava Stone")
    assert staff.status == 200
    assert b"Tried before" in staff.body and b"ENDEDSECRET" in staff.body
    assert b"NGRT (standardised score): 82 on" not in staff.body  # no date: just the value
    assert b"NGRT (standardised score): 82 \xe2\x86\x92 not yet measured" in staff.body
    family = slack.export("U0SENDCO", "Ava Stone --for family")
    assert family.status == 200
    assert b"Tried before" in family.body and b"Lexia reading programme" in family.body
    assert b"ENDEDSECRET" not in family.body
    assert b"Reading practice on a computer programme" in family.body  # for families
    assert b"Reading practice on a computer programme" not in staff.body


def test_an_ended_provision_is_not_in_the_review_notes(slack):
    with slack.sessions.begin() as session:
        from datetime import date

        from models import PlanProvision

        for row in session.scalars(select(PlanProvision)):
            row.ended_on = date(2026, 11, 1)
            row.ended_reason = "ended in the plan"
    opened = len(slack.emulator.calls_to("views.open"))
    slack.sender.command("U0PRIYA", "review Ava")
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    review = slack.emulator.open_views()[-1]
    assert "Lexia reading programme" not in json.dumps(review)
    assert "Read 20 high-frequency words" in json.dumps(review)


@pytest.mark.postgresql
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_when_the_database_is_down_the_library_form_stays_open(emulator, sessions, db_url):
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
            form = open_form(slack, "U0SENDCO", "provlib_add", "new")
            proxy.cut()
            answer = submit(
                slack, "U0SENDCO", form, name="Kept", area_of_need="semh", tier="targeted"
            )
            assert answer["response_action"] == "errors"
            assert "Nothing was saved" in answer["errors"]["name"]
        finally:
            proxy.passes()
            slack.server.stop()
            wait_for_background_work()
            engine.dispose()
    with sessions() as session:
        assert session.scalars(select(LibraryProvision)).all() == []


def test_what_the_sendco_types_is_shown_as_typed_never_as_markup(slack):
    from tests.slack_harness import raw_mrkdwn_in

    form = open_form(slack, "U0SENDCO", "provlib_add", "new")
    answer = submit(
        slack,
        "U0SENDCO",
        form,
        name="<!channel> *Nurture* & <https://x.example|click>",
        area_of_need="semh",
        tier="specialist",
        staff_role="<@U0LEE>",
        description="_Calm_ space <!here>",
    )
    assert answer["response_action"] == "update"
    reply = slack.ask("U0SENDCO", "provision library")
    assert raw_mrkdwn_in(reply) == []
    shown = json.dumps(reply)
    assert "<!channel>" not in shown and "<!here>" not in shown and "<@U0LEE>" not in shown
    assert "&lt;!channel&gt;" in shown


def test_a_long_library_pages_twenty_at_a_time(slack):
    with slack.sessions.begin() as session:
        school = session.get(School, slack.ids["school"])
        for n in range(25):
            library_item(session, school, f"Group {n:02d}")
    first = slack.ask("U0LEE", "provision library")
    assert "27 entries the school offers · page 1 of 2" in text_of(first)
    [pager] = [
        e
        for b in first["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "ssp_page_next"
    ]
    second = slack.click("U0LEE", "ssp_page_next", pager["value"])
    assert "page 2 of 2" in text_of(second)
    assert len([b for b in second["blocks"] if b["type"] == "section"]) == 7
