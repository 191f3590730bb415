"""Intervention groups (`/ssp groups`, `/ssp group new`, a group's view, "Add to a group" on a
plan), through the signed endpoint and the emulator on SQLite and PostgreSQL.

Brookside High (tests/slack_harness.py) plus, here: a library with Lexia and Talkabout (and a
retired entry); "Lexia, Year 9" run by Sam Jones (TA) for Ava and Cara, from 1 September, with
Ava's plan's Lexia row linked; "Talkabout" run by Priya Shah for Ben; a group of the other
school. Sam is key adult to Ben and Dev, so those are the pupils a TA may add.
"""

from __future__ import annotations

import json
from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from bot.access import Viewer
from bot.services import delivery, groups
from bot.services.calendar import CalendarPeriod, SchoolCalendar
from models import (
    AuditEvent,
    BroadArea,
    GroupMember,
    InterventionGroup,
    KeyAdult,
    LibraryProvision,
    Plan,
    PlanProvision,
    ProvisionTier,
    SessionStatus,
    StaffRole,
    TimelineEntry,
)
from tests.slack_harness import TODAY, build_school, start_app, text_of
from tests.test_plan_editor import modal_text, open_plan

CALENDAR = SchoolCalendar(terms=(CalendarPeriod("Autumn", date(2026, 9, 1), date(2026, 12, 18)),))


@pytest.fixture
def school_extras():
    def extras(session, ids):
        def item(name, school=ids["school"], active=True):
            row = LibraryProvision(
                school_id=school,
                name=name,
                area_of_need=BroadArea.COGNITION_AND_LEARNING,
                tier=ProvisionTier.TARGETED,
                is_active=active,
            )
            session.add(row)
            session.flush()
            return row

        lexia, talkabout = item("Lexia"), item("Talkabout")
        item("Old scheme", active=False)
        other_school = session.scalar(select(Plan.school_id).where(Plan.pupil_id == ids["zed"]))
        theirs = item("Their scheme", school=other_school)
        ava_row = session.scalar(
            select(PlanProvision).where(PlanProvision.plan_id == ids["ava_plan"])
        )
        ava_row.library_id = lexia.id

        def group(name, item_, staff, school, *members):
            new = InterventionGroup(
                school_id=school,
                library_id=item_.id,
                staff_id=staff,
                name=name,
                weekdays="2,4",
                starts_at=time(8, 40),
                minutes=30,
                starts_on=date(2026, 9, 1),
            )
            new.members = [
                GroupMember(pupil_id=p, joined_on=date(2026, 9, 1), provision_id=link)
                for p, link in members
            ]
            session.add(new)
            session.flush()
            return new.id

        session.add_all(
            [
                KeyAdult(school_id=ids["school"], staff_id=ids["ta"], pupil_id=ids["ben"]),
                KeyAdult(school_id=ids["school"], staff_id=ids["ta"], pupil_id=ids["dev"]),
            ]
        )
        session.flush()
        return {
            "lexia": lexia.id,
            "talkabout": talkabout.id,
            "other_school": other_school,
            "lexia_group": group(
                "Lexia, Year 9",
                lexia,
                ids["ta"],
                ids["school"],
                (ids["ava"], ava_row.id),
                (ids["cara"], None),
            ),
            "talk_group": group(
                "Talkabout", talkabout, ids["priya"], ids["school"], (ids["ben"], None)
            ),
            "their_group": group(
                "Theirs", theirs, ids["other_sendco"], other_school, (ids["zed"], None)
            ),
        }

    return extras


# --- helpers ------------------------------------------------------------------------------------


def state(view: dict, **typed) -> dict:
    """The state Slack sends for the form `view`, as shown, changed by `typed` (block id →
    value: an option value, a list of them for checkboxes and multi-selects, a user id…)."""
    values = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element, block_id = block["element"], block["block_id"]
        kind, chosen = element["type"], typed.get(block["block_id"])
        if kind == "plain_text_input":
            values[block_id] = {"type": kind, "value": chosen if block_id in typed
                                else element.get("initial_value")}  # fmt: skip
        elif kind == "datepicker":
            values[block_id] = {"type": kind, "selected_date": chosen if block_id in typed
                                else element.get("initial_date")}  # fmt: skip
        elif kind == "timepicker":
            values[block_id] = {
                "type": kind,
                "selected_time": chosen or element.get("initial_time"),
            }
        elif kind == "users_select":
            values[block_id] = {
                "type": kind,
                "selected_user": chosen or element.get("initial_user"),
            }
        elif kind == "static_select":
            option = next((o for o in element["options"] if o["value"] == str(chosen)), None)
            values[block_id] = {
                "type": kind,
                "selected_option": option or element.get("initial_option"),
            }
        elif kind == "checkboxes":
            picked = [o for o in element["options"] if o["value"] in [str(c) for c in chosen or []]]
            values[block_id] = {"type": kind, "selected_options": picked if block_id in typed
                                else element.get("initial_options", [])}  # fmt: skip
        elif kind == "multi_external_select":
            values[block_id] = {
                "type": kind,
                "selected_options": [{"text": {"type": "plain_text", "text": "x"}, "value": str(c)}
                                     for c in chosen or []],
            }  # fmt: skip
    return values


def submit(slack, user: str, view: dict, **typed) -> dict | None:
    reply = slack.sender.submit(user, view, state(view, **typed))
    assert reply.status == 200, reply
    return reply.json() if reply.body else None


def option_for(view: dict, block_id: str, label: str) -> str:
    block = next(b for b in view["blocks"] if b.get("block_id") == block_id)
    return next(o["value"] for o in block["element"]["options"] if o["text"]["text"] == label)


def members(slack, group_key: str) -> list[GroupMember]:
    with slack.sessions() as session:
        return list(
            session.scalars(
                select(GroupMember)
                .where(GroupMember.group_id == slack.ids[group_key])
                .order_by(GroupMember.id)
            )
        )


def provisions(slack, pupil_key: str) -> list[PlanProvision]:
    with slack.sessions() as session:
        return list(
            session.scalars(
                select(PlanProvision)
                .join(Plan, Plan.id == PlanProvision.plan_id)
                .where(Plan.pupil_id == slack.ids[pupil_key])
                .order_by(PlanProvision.id)
            )
        )


def open_group(slack, user: str, group_key: str) -> dict:
    opened = len(slack.emulator.calls_to("views.open"))
    reply = slack.sender.button(user, f"ssp_group_open_{slack.ids[group_key]}",
                                str(slack.ids[group_key]))  # fmt: skip
    assert reply.status == 200
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    return slack.emulator.open_views()[-1]


def press(slack, user: str, view: dict, action_id: str, value: str) -> None:
    before = len([c for c in slack.emulator.calls if c.method.startswith("views.")])
    assert slack.sender.view_button(user, view, action_id, value).status == 200
    slack.emulator.wait_for(
        lambda calls: len([c for c in calls if c.method.startswith("views.")]) > before
    )


def last_words_to(slack, user: str) -> str:
    return text_of(slack.emulator.responses_to(user)[-1])


def suggest(slack, user: str, view: dict, typed: str) -> list[str]:
    payload = slack.sender._interaction(
        "block_suggestion",
        user,
        None,
        slack.emulator.new_trigger_id(),
        container={"type": "view", "view_id": view["id"]},
        view=view,
        action_id="ssp_group_pupils_find",
        block_id="pupils",
        value=typed,
    )
    reply = slack.sender._post_interaction(payload)
    assert reply.status == 200
    return [o["text"]["text"] for o in reply.json()["options"]]


# --- the SENDCo sets up a group -----------------------------------------------------------------


def test_the_sendco_sets_up_a_group_and_bad_input_is_answered_beside_the_field(slack):
    form = open_plan(slack, "U0SENDCO", "group new")
    block = next(b for b in form["blocks"] if b["block_id"] == "library")
    assert [o["text"]["text"] for o in block["element"]["options"]] == ["Lexia", "Talkabout"]
    assert suggest(slack, "U0SENDCO", form, "Stone") == [
        "Ava Stone (Year 9, 9A)",
        "Ben Stone (Year 9, 9A)",
    ]
    good = dict(
        library=slack.ids["talkabout"],
        staff="U0TA",
        days=["1", "3"],
        time="13:10",
        minutes="45",
        location="Room 4",
        pupils=[slack.ids["ava"], slack.ids["dev"]],
    )
    for wrong, block_id, words in (
        ({"days": []}, "days", "at least one day"),
        ({"minutes": "2"}, "minutes", "from 5 to 240"),
        ({"minutes": "lots"}, "minutes", "from 5 to 240"),
        ({"library": None}, "library", "Choose the intervention"),
        ({"ends": TODAY.isoformat()}, "ends", "after the first"),
        ({"starts": (TODAY - timedelta(days=1)).isoformat()}, "starts", "can't be in the past"),
        ({"pupils": [slack.ids["zed"]]}, "pupils", "among the pupils you can see"),
    ):
        answer = submit(slack, "U0SENDCO", form, **{**good, **wrong})
        assert answer["response_action"] == "errors", wrong
        assert list(answer["errors"]) == [block_id]
        assert words in answer["errors"][block_id]
    answer = submit(slack, "U0SENDCO", form, **{**good, "staff": "U0STRANGER"})
    assert list(answer["errors"]) == ["staff"]
    with slack.sessions() as session:
        assert (
            session.scalar(select(InterventionGroup).where(InterventionGroup.location.is_not(None)))
            is None
        )

    answer = submit(slack, "U0SENDCO", form, **good)
    assert answer["response_action"] == "update"
    # The same group sent again (another form, the same answers) makes nothing new.
    again = submit(slack, "U0SENDCO", open_plan(slack, "U0SENDCO", "group new"), **good)
    assert "already set up" in again["errors"]["name"]
    assert "*Talkabout, Year 9* is set up, run by <@U0TA>" in json.dumps(answer["view"])
    with slack.sessions() as session:
        made = session.scalar(
            select(InterventionGroup).where(InterventionGroup.name == "Talkabout, Year 9")
        )
        assert (made.staff_id, made.weekdays, made.starts_at, made.minutes, made.location) == (
            slack.ids["ta"], "1,3", time(13, 10), 45, "Room 4")  # fmt: skip
        joined = {m.pupil_id: m for m in made.members}
    assert set(joined) == {slack.ids["ava"], slack.ids["dev"]}
    assert joined[slack.ids["dev"]].provision_id is None  # no plan
    # Ava's plan gets a Talkabout row (her Lexia row is another intervention).
    new_row = provisions(slack, "ava")[-1]
    assert (new_row.what, new_row.library_id, new_row.who, new_row.how_often) == (
        "Talkabout", slack.ids["talkabout"], "Sam Jones", "2 x 45 minutes a week")  # fmt: skip
    assert joined[slack.ids["ava"]].provision_id == new_row.id
    with slack.sessions() as session:
        audited = session.scalars(
            select(AuditEvent).where(AuditEvent.detail == "joined an intervention group")
        ).all()
        assert {(e.plan_id, e.pupil_id) for e in audited} == {
            (slack.ids["ava_plan"], slack.ids["ava"]), (None, slack.ids["dev"])}  # fmt: skip
        summary = "joined the intervention group Talkabout, Year 9"
        assert session.scalar(select(TimelineEntry).where(TimelineEntry.summary == summary))


def test_only_the_sendco_sets_groups_up_and_an_empty_library_is_explained(slack):
    assert "Only the SENDCo sets up" in text_of(slack.ask("U0SLT", "group new"))
    assert "Only the SENDCo sets up" in text_of(slack.ask("U0TA", "group new"))
    with slack.sessions.begin() as session:
        for row in session.scalars(select(LibraryProvision)):
            row.is_active = False
    words = text_of(slack.ask("U0SENDCO", "group new"))
    assert "no interventions yet" in words and "`/ssp provision library`" in words


# --- who sees which groups ----------------------------------------------------------------------


def test_the_sendco_and_senior_leaders_see_all_a_runner_their_own_a_teacher_none(slack):
    with slack.sessions.begin() as session:
        made = delivery.materialise(session, slack.ids["school"], CALENDAR, date(2026, 9, 3))
        lexia = [s for s in made if s.group_id == slack.ids["lexia_group"]]
        lexia[0].status = SessionStatus.DELIVERED  # 2 of the 4 pupil places delivered
    sendco = slack.ask("U0SENDCO", "groups")
    words = text_of(sendco)
    assert "Lexia, Year 9 · Lexia" in words and "Talkabout" in words
    assert "Tue, Thu 08:40, 30 min · @U0TA · 2 pupils" in words
    assert "Delivery: 2 of 4 sessions delivered (50%), 2 not yet logged" in words
    assert "Theirs" not in words
    actions = [
        e["action_id"]
        for b in sendco["blocks"]
        for e in b.get("elements", [b.get("accessory") or {}])
        if e.get("action_id")
    ]
    assert "ssp_group_new" in actions and len(actions) == len(set(actions))
    slt = slack.ask("U0SLT", "groups")
    assert "Lexia, Year 9" in text_of(slt) and "Talkabout" in text_of(slt)
    assert "New group" not in text_of(slt)
    ta = text_of(slack.ask("U0TA", "groups"))
    assert "Groups you run" in ta and "Lexia, Year 9" in ta and "Talkabout" not in ta
    lee = text_of(slack.ask("U0LEE", "groups"))
    assert lee == groups_handler_none_run()
    # Another school's SENDCo, in the service: their own group only.
    with slack.sessions() as session:
        theirs = groups.list_groups(
            session,
            Viewer(slack.ids["other_school"], slack.ids["other_sendco"], "Olly Other",
                   frozenset({StaffRole.SENDCO})),
            TODAY,
        )  # fmt: skip
    assert [line.name for line in theirs] == ["Theirs"]
    # …and through Slack, from their workspace, Brookside's group is not there to open.
    slack.sender.button("U0OTHER", f"ssp_group_open_{slack.ids['lexia_group']}",
                        str(slack.ids["lexia_group"]), team_id="T0OTHERSCH")  # fmt: skip
    assert not any("Lexia, Year 9" in json.dumps(v) for v in slack.emulator.open_views())


def groups_handler_none_run() -> str:
    from handlers.groups import NONE_RUN

    return NONE_RUN


# --- the runner changes who is in it -----------------------------------------------------------


def test_the_runner_adds_and_removes_pupils_and_a_leaver_is_no_longer_planned_for(slack):
    view = open_group(slack, "U0TA", "lexia_group")
    words = modal_text(view)
    assert "Ava Stone" in words and "Cara Lin" in words and "Run by @U0TA" in words
    assert "End the group" not in words and "Edit" not in words  # the SENDCo's
    press(slack, "U0TA", view, "ssp_group_add", str(slack.ids["lexia_group"]))
    adding = slack.emulator.open_views()[-1]
    assert adding["callback_id"] == "ssp_group_add_form"
    # A TA finds only the pupils they may see (key adult to Ben and Dev, and the pupils of the
    # groups they run, Ava among them), never Zed.
    assert suggest(slack, "U0TA", adding, "Stone") == [
        "Ava Stone (Year 9, 9A)",
        "Ben Stone (Year 9, 9A)",
    ]
    refused = submit(slack, "U0TA", adding, pupils=[slack.ids["zed"]])
    assert list(refused["errors"]) == ["pupils"]
    assert submit(slack, "U0TA", adding, pupils=[slack.ids["ben"]]) is None  # closes
    slack.emulator.wait_for(
        lambda calls: "Ben Stone" in modal_text(slack.emulator.open_views()[-1])
    )
    ben = [m for m in members(slack, "lexia_group") if m.pupil_id == slack.ids["ben"]]
    assert ben[0].joined_on == TODAY and ben[0].provision_id == provisions(slack, "ben")[-1].id
    assert provisions(slack, "ben")[-1].what == "Lexia"

    view = slack.emulator.open_views()[-1]
    cara = next(m for m in members(slack, "lexia_group") if m.pupil_id == slack.ids["cara"])
    remove = next(
        b["accessory"]["action_id"]
        for b in view["blocks"]
        if b.get("block_id") == f"member-{cara.id}"
    )
    press(slack, "U0TA", view, remove, str(cara.id))
    assert "Cara Lin" not in modal_text(slack.emulator.open_views()[-1])
    cara = next(m for m in members(slack, "lexia_group") if m.pupil_id == slack.ids["cara"])
    assert cara.left_on == TODAY
    # Sessions from today on are not planned for Cara; Ava still is.
    with slack.sessions.begin() as session:
        made = delivery.materialise(
            session, slack.ids["school"], CALENDAR, TODAY + timedelta(days=3)
        )
        later = [s for s in made if s.group_id == slack.ids["lexia_group"] and s.held_on >= TODAY]
        assert later and all(slack.ids["cara"] not in {p.pupil_id for p in s.pupils} for s in later)
        assert all(slack.ids["ava"] in {p.pupil_id for p in s.pupils} for s in later)
    # Rejoining makes a new row.
    view = slack.emulator.open_views()[-1]
    press(slack, "U0TA", view, "ssp_group_add", str(slack.ids["lexia_group"]))
    # (Cara is not a pupil Sam may see: the SENDCo adds her back.)
    sendco_view = open_group(slack, "U0SENDCO", "lexia_group")
    press(slack, "U0SENDCO", sendco_view, "ssp_group_add", str(slack.ids["lexia_group"]))
    assert (
        submit(slack, "U0SENDCO", slack.emulator.open_views()[-1], pupils=[slack.ids["cara"]])
        is None
    )
    rows = [m for m in members(slack, "lexia_group") if m.pupil_id == slack.ids["cara"]]
    assert [(m.joined_on, m.left_on) for m in rows] == [(date(2026, 9, 1), TODAY), (TODAY, None)]


def test_the_sendco_ends_a_group(slack, clock):
    view = open_group(slack, "U0SENDCO", "talk_group")
    press(slack, "U0SENDCO", view, "ssp_group_end", str(slack.ids["talk_group"]))
    assert "This group has ended" in modal_text(slack.emulator.open_views()[-1])
    with slack.sessions() as session:
        assert session.get(InterventionGroup, slack.ids["talk_group"]).ends_on == TODAY
    assert "Add pupils" not in modal_text(slack.emulator.open_views()[-1])
    assert (
        "Talkabout\nTue, Thu 08:40, 30 min · @U0PRIYA · 1 pupil\n"
        "Delivery: no sessions due yet · ended today" in text_of(slack.ask("U0SENDCO", "groups"))
    )
    clock.now += timedelta(days=1)
    assert "Talkabout" not in text_of(slack.ask("U0SENDCO", "groups"))


def test_ending_a_group_ends_its_places_and_the_plan_rows_it_delivered(slack):
    view = open_group(slack, "U0SENDCO", "lexia_group")
    press(slack, "U0SENDCO", view, "ssp_group_end", str(slack.ids["lexia_group"]))
    slack.emulator.wait_for(
        lambda calls: "This group has ended" in modal_text(slack.emulator.open_views()[-1])
    )
    # Today was its last day: from tomorrow nobody is in it, and Ava's plan no longer says she
    # has Lexia (kept, ended, under "Tried before"); Cara has no plan row to end.
    assert [m.left_on for m in members(slack, "lexia_group")] == [TODAY + timedelta(days=1)] * 2
    [row] = [r for r in provisions(slack, "ava") if r.library_id == slack.ids["lexia"]]
    assert (row.ended_on, row.ended_reason) == (TODAY, "The group ended")
    with slack.sessions() as session:
        entries = session.scalars(
            select(TimelineEntry).where(TimelineEntry.plan_id == slack.ids["ava_plan"])
        ).all()
        assert any("left the intervention group Lexia, Year 9" in e.summary for e in entries)


def test_the_runner_sees_their_groups_pupils_until_they_leave_or_the_group_ends(slack, tick):
    # The TA's only link to Cara is the Lexia group they run: they see her passport, as the
    # people who support a pupil do, and no more once she has left the group.
    assert "Cara Lin: pupil passport" in text_of(slack.ask("U0TA", "passport Cara"))
    with slack.sessions.begin() as session:
        member = session.scalars(
            select(GroupMember).where(GroupMember.pupil_id == slack.ids["cara"])
        ).one()
        member.left_on = TODAY
    assert "I couldn't find" in text_of(slack.ask("U0TA", "passport Cara"))

    # A group whose last day has passed lets its pupils go at the next sweep, and the plan row
    # it delivered ends with it.
    with slack.sessions.begin() as session:
        lexia = session.get(InterventionGroup, slack.ids["lexia_group"])
        lexia.ends_on = date(2026, 11, 13)
    assert "Ava Stone: pupil passport" in text_of(slack.ask("U0TA", "passport Ava"))
    tick("2026-11-23T10:00:00+00:00")
    [ava] = [m for m in members(slack, "lexia_group") if m.pupil_id == slack.ids["ava"]]
    assert ava.left_on == date(2026, 11, 14)
    [row] = [r for r in provisions(slack, "ava") if r.id == ava.provision_id]
    assert (row.ended_on, row.ended_reason) == (date(2026, 11, 13), "The group ended")
    assert "I couldn't find" in text_of(slack.ask("U0TA", "passport Ava"))


def test_a_pupil_the_roster_marks_as_left_leaves_their_groups(
    slack, run_cli, tmp_path, monkeypatch
):
    from tests.test_plan_life import Monday, import_pupils_without

    monkeypatch.setattr("bot.cli.date", Monday)
    assert "Cara Lin: pupil passport" in text_of(slack.ask("U0TA", "passport Cara"))
    import_pupils_without(slack, run_cli, tmp_path, "cara")
    [cara] = [m for m in members(slack, "lexia_group") if m.pupil_id == slack.ids["cara"]]
    assert cara.left_on == date(2026, 11, 23)  # the import's day
    with slack.sessions.begin() as session:
        made = delivery.materialise(
            session, slack.ids["school"], CALENDAR, TODAY + timedelta(days=3)
        )
        lexia = [s for s in made if s.group_id == slack.ids["lexia_group"]]
        before = [s for s in lexia if s.held_on < TODAY]
        after = [s for s in lexia if s.held_on >= TODAY]
        assert all(slack.ids["cara"] in {p.pupil_id for p in s.pupils} for s in before)
        assert after and all(slack.ids["cara"] not in {p.pupil_id for p in s.pupils} for s in after)
    assert "I couldn't find" in text_of(slack.ask("U0TA", "passport Cara"))


# --- refusals -----------------------------------------------------------------------------------


def test_a_teacher_who_does_not_run_it_is_refused_on_every_button_and_form(slack):
    lexia = str(slack.ids["lexia_group"])
    before = members(slack, "lexia_group")
    opened = len(slack.emulator.calls_to("views.open"))
    slack.sender.button("U0LEE", f"ssp_group_open_{lexia}", lexia)
    slack.emulator.wait_for(lambda calls: slack.emulator.responses_to("U0LEE"))
    assert "couldn't find that group" in last_words_to(slack, "U0LEE")
    for action_id in ("ssp_group_add", "ssp_group_end", "ssp_group_edit", "ssp_group_new"):
        count = len(slack.emulator.responses_to("U0LEE"))
        slack.sender.button("U0LEE", action_id, lexia)
        slack.emulator.wait_for(
            lambda calls, n=count: len(slack.emulator.responses_to("U0LEE")) > n
        )
        assert "couldn't find that group" in last_words_to(
            slack, "U0LEE"
        ) or "Only the SENDCo" in last_words_to(slack, "U0LEE")
    assert len(slack.emulator.calls_to("views.open")) == opened
    # Forged forms: a modal of Lee's own, dressed as each of the groups' forms.
    own = open_plan(slack, "U0LEE", "observe Cara")
    ava = members(slack, "lexia_group")[0]
    for callback_id, meta, typed in (
        ("ssp_group_add_form", {"group_id": int(lexia)}, {"pupils": [slack.ids["dev"]]}),
        ("ssp_group_join", {"pupil_id": slack.ids["ava"]}, {}),
        ("ssp_group_form", {}, {}),
        ("ssp_group_form", {"group_id": int(lexia)}, {}),
    ):
        forged = dict(own, callback_id=callback_id, private_metadata=json.dumps(meta))
        values = {k: {"type": "x", **v} for k, v in {
            "pupils": {"selected_options": [{"value": str(p)} for p in typed.get("pupils", [])]},
            "group": {"selected_option": {"value": lexia}},
            "staff": {"selected_user": "U0LEE"},
            "days": {"selected_options": [{"value": "1"}]},
            "library": {"selected_option": {"value": str(slack.ids["lexia"])}},
            "minutes": {"value": "30"},
            "time": {"selected_time": "09:00"},
            "starts": {"selected_date": TODAY.isoformat()},
        }.items()}  # fmt: skip
        reply = slack.sender.submit("U0LEE", forged, values)
        assert reply.status == 200
        said = json.dumps(reply.json())
        assert "couldn't find" in said or "Only the SENDCo" in said, callback_id
    # Remove and End from a forged group view.
    forged_view = dict(own, private_metadata=json.dumps({"group_id": int(lexia)}))
    for action_id, value in (("ssp_group_remove_0", str(ava.id)), ("ssp_group_end", lexia)):
        count = len(slack.emulator.calls)
        slack.sender.view_button("U0LEE", forged_view, action_id, value)
        slack.emulator.wait_for(lambda calls, n=count: len(calls) > n)
    assert [(m.id, m.left_on) for m in members(slack, "lexia_group")] == [
        (m.id, m.left_on) for m in before]  # fmt: skip
    with slack.sessions() as session:
        assert session.get(InterventionGroup, int(lexia)).ends_on is None
        assert len(session.scalars(select(InterventionGroup)).all()) == 3
    # The runner may not end or change the group either.
    view = open_group(slack, "U0TA", "lexia_group")
    slack.sender.view_button("U0TA", view, "ssp_group_end", lexia)
    slack.emulator.wait_for(lambda calls: len(slack.emulator.open_views()) > 1)
    assert "Only the SENDCo" in modal_text(slack.emulator.open_views()[-1])
    with slack.sessions() as session:
        assert session.get(InterventionGroup, int(lexia)).ends_on is None


# --- from a plan --------------------------------------------------------------------------------


def test_the_case_holder_adds_a_pupil_to_a_group_from_their_plan(slack):
    overview = open_plan(slack, "U0PRIYA", "plan Ava")
    press(slack, "U0PRIYA", overview, "ssp_group_join_open", str(slack.ids["ava"]))
    form = slack.emulator.open_views()[-1]
    assert form["callback_id"] == "ssp_group_join"
    talk = option_for(form, "group", "Talkabout · Tue, Thu 08:40, 30 min")
    already = option_for(form, "group", "Lexia, Year 9 · Tue, Thu 08:40, 30 min")
    assert (
        "already in this group" in submit(slack, "U0PRIYA", form, group=already)["errors"]["group"]
    )
    before = len(provisions(slack, "ava"))
    answer = submit(slack, "U0PRIYA", form, group=talk)
    assert "*Ava Stone* is in *Talkabout* from today" in json.dumps(answer["view"])
    rows = provisions(slack, "ava")
    assert len(rows) == before + 1 and rows[-1].library_id == slack.ids["talkabout"]
    assert rows[-1].who == "Priya Shah"
    [joined] = [m for m in members(slack, "talk_group") if m.pupil_id == slack.ids["ava"]]
    assert joined.provision_id == rows[-1].id
    # Her Lexia row is reused when she rejoins Lexia after leaving... (the existing row)
    with slack.sessions() as session:
        via = "Add to a group button"
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.via == via, AuditEvent.action == "change")
        ).one()
        assert (event.plan_id, event.actor_staff_id) == (slack.ids["ava_plan"], slack.ids["priya"])


def test_joining_reuses_the_plans_current_row_of_that_intervention(slack):
    # Ben's plan gets a Lexia row first; joining Lexia from the group then reuses it.
    with slack.sessions.begin() as session:
        plan = session.scalar(select(Plan).where(Plan.pupil_id == slack.ids["ben"]))
        session.add(PlanProvision(plan_id=plan.id, what="Lexia", library_id=slack.ids["lexia"]))
    [existing] = provisions(slack, "ben")
    overview = open_plan(slack, "U0SENDCO", "plan Ben")
    press(slack, "U0SENDCO", overview, "ssp_group_join_open", str(slack.ids["ben"]))
    form = slack.emulator.open_views()[-1]
    lexia = option_for(form, "group", "Lexia, Year 9 · Tue, Thu 08:40, 30 min")
    assert submit(slack, "U0SENDCO", form, group=lexia)["response_action"] == "update"
    assert [r.id for r in provisions(slack, "ben")] == [existing.id]
    [joined] = [m for m in members(slack, "lexia_group") if m.pupil_id == slack.ids["ben"]]
    assert joined.provision_id == existing.id


# --- the database down --------------------------------------------------------------------------


@pytest.mark.postgresql
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_when_the_database_is_down_the_new_group_form_stays_open(emulator, sessions, db_url):
    from sqlalchemy.engine import make_url

    from bot import db
    from handlers.context import wait_for_background_work
    from tests.db_proxy import DbProxy

    emulator.reset()
    with sessions.begin() as session:
        ids = build_school(session, emulator)
        session.add(
            LibraryProvision(
                school_id=ids["school"],
                name="Lexia",
                area_of_need=BroadArea.COGNITION_AND_LEARNING,
                tier=ProvisionTier.TARGETED,
            )
        )
    url = make_url(db_url)
    with DbProxy((url.host or "127.0.0.1", url.port or 5432)) as proxy:
        engine = db.make_engine(proxy.url(db_url))
        slack = start_app(emulator, db.make_session_factory(engine))
        try:
            form = open_plan(slack, "U0SENDCO", "group new")
            lexia = form["blocks"][0]["element"]["options"][0]["value"]
            proxy.cut()
            answer = submit(slack, "U0SENDCO", form, library=lexia, staff="U0TA", days=["2"])
            assert answer["response_action"] == "errors"
            assert "Nothing was saved" in answer["errors"]["library"]
        finally:
            proxy.passes()
            slack.server.stop()
            wait_for_background_work()
            engine.dispose()
    with sessions() as session:
        assert session.scalars(select(InterventionGroup)).all() == []
        # Nor is the runner told of a group that was not made.
        from models import Prompt, PromptKind

        assert (
            session.scalars(select(Prompt).where(Prompt.kind == PromptKind.GROUP_RUNNER)).all()
            == []
        )


def test_the_sendco_changes_a_group_from_its_view(slack):
    view = open_group(slack, "U0SENDCO", "lexia_group")
    press(slack, "U0SENDCO", view, "ssp_group_edit", str(slack.ids["lexia_group"]))
    form = slack.emulator.open_views()[-1]
    assert form["callback_id"] == "ssp_group_form"
    assert "pupils" not in [b.get("block_id") for b in form["blocks"]]  # changed from the view
    wrong = submit(slack, "U0SENDCO", form, minutes="241")
    assert list(wrong["errors"]) == ["minutes"]
    assert submit(slack, "U0SENDCO", form, minutes="40", staff="U0PRIYA", days=["1"]) is None
    slack.emulator.wait_for(
        lambda calls: "Mon 08:40, 40 min" in modal_text(slack.emulator.open_views()[-1])
    )
    with slack.sessions() as session:
        group = session.get(InterventionGroup, slack.ids["lexia_group"])
        assert (group.minutes, group.weekdays, group.staff_id, group.name) == (
            40, "1", slack.ids["priya"], "Lexia, Year 9")  # fmt: skip
    # Sam no longer runs it, so no longer sees it.
    assert text_of(slack.ask("U0TA", "groups")) == groups_handler_none_run()


def test_leaving_ends_the_plan_row_and_a_name_is_shown_as_typed(slack):
    from tests.slack_harness import raw_mrkdwn_in

    form = open_plan(slack, "U0SENDCO", "group new")
    typed = "<!channel> *Lexia* & <https://x.example|friends>"
    answer = submit(slack, "U0SENDCO", form, library=slack.ids["lexia"], staff="U0TA",
                    days=["5"], name=typed, pupils=[slack.ids["ben"]])  # fmt: skip
    assert answer["response_action"] == "update"
    listed = slack.ask("U0SENDCO", "groups")
    assert "<!channel> Lexia & <https://x.example|friends>" in text_of(listed)
    assert raw_mrkdwn_in(listed) == []
    [row] = provisions(slack, "ben")
    assert (row.what, row.ended_on) == ("Lexia", None)
    with slack.sessions() as session:
        group_id = session.scalar(
            select(InterventionGroup.id).where(InterventionGroup.name == typed)
        )
    slack.ids["new_group"] = group_id
    view = open_group(slack, "U0SENDCO", "new_group")
    member = next(b for b in view["blocks"] if (b.get("block_id") or "").startswith("member-"))
    press(slack, "U0SENDCO", view, member["accessory"]["action_id"], member["accessory"]["value"])
    [row] = provisions(slack, "ben")
    assert (row.ended_on, row.ended_reason) == (TODAY, "Left the group")


# --- the runner told; a runner who leaves ---------------------------------------------------------


def runner_messages(slack, user: str) -> list[dict]:
    from handlers.scheduler import wait_for_deliveries

    wait_for_deliveries()
    return [m for m in slack.emulator.messages_to(user) if "now run" in m["text"]]


def runner_prompts(slack, kind=None) -> list:
    from models import Prompt, PromptKind

    with slack.sessions() as session:
        return list(
            session.scalars(
                select(Prompt)
                .where(Prompt.kind == (kind or PromptKind.GROUP_RUNNER))
                .order_by(Prompt.id)
            )
        )


NEW_GROUP = dict(staff="U0TA", days=["1", "3"], time="13:10", minutes="45", location="Room 4")


def test_the_runner_is_told_once_which_group_they_now_run_and_when_never_its_pupils(slack):
    form = open_plan(slack, "U0SENDCO", "group new")
    good = dict(NEW_GROUP, library=slack.ids["talkabout"],
                pupils=[slack.ids["ava"], slack.ids["dev"]])  # fmt: skip
    assert submit(slack, "U0SENDCO", form, **good)["response_action"] == "update"
    [told] = runner_messages(slack, "U0TA")
    said = text_of(told)
    assert "You now run the intervention group Talkabout, Year 9: Mon, Wed 13:10, 45 min, " in said
    assert "45 min, first session Mon 23 Nov 2026, in Room 4." in said
    # Slack keeps the DM: no pupil, nothing of their needs.
    for name in ("Ava", "Dev", "Stone", "Ray"):
        assert name not in json.dumps(told)
    [open_button] = [b for b in told["blocks"][1]["elements"]]
    assert open_button["text"]["text"] == "Open the group"
    # The same form sent again makes nothing new, and tells nobody twice.
    submit(slack, "U0SENDCO", open_plan(slack, "U0SENDCO", "group new"), **good)
    assert len(runner_messages(slack, "U0TA")) == 1 and len(runner_prompts(slack)) == 1

    # Sam opens the group from the message; a teacher who does not run it, clicking the same
    # button (the payload forwarded), is told it can't be found and sees no pupil.
    opened = len(slack.emulator.calls_to("views.open"))
    reply = slack.sender.button("U0TA", open_button["action_id"], open_button["value"],
                                message=told)  # fmt: skip
    assert reply.status == 200
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    assert "Ava Stone" in modal_text(slack.emulator.open_views()[-1])
    before = len(slack.emulator.calls_to("views.open"))
    refused = slack.sender.button("U0LEE", open_button["action_id"], open_button["value"],
                                  message=told)  # fmt: skip
    assert refused.status == 200  # acknowledged at once; the refusal follows, to Lee alone
    answered = slack.emulator.wait_for(
        lambda _: [r for r in slack.emulator.responses_to("U0LEE")
                   if "couldn't find that group" in json.dumps(r)]
    )  # fmt: skip
    assert len(slack.emulator.calls_to("views.open")) == before
    assert "Ava" not in json.dumps(answered)


def edit_form(slack) -> dict:
    view = open_group(slack, "U0SENDCO", "lexia_group")
    press(slack, "U0SENDCO", view, "ssp_group_edit", str(slack.ids["lexia_group"]))
    return slack.emulator.open_views()[-1]


def test_a_new_runner_chosen_by_edit_is_told_once(slack):
    form = edit_form(slack)
    assert submit(slack, "U0SENDCO", form, minutes="40") is None  # the same runner: no message
    assert runner_messages(slack, "U0TA") == []
    form = edit_form(slack)
    assert submit(slack, "U0SENDCO", form, staff="U0PRIYA") is None
    # Changed again to the same runner (the form opened twice): she is told once.
    assert submit(slack, "U0SENDCO", edit_form(slack), staff="U0PRIYA") is None
    [told] = runner_messages(slack, "U0PRIYA")
    said = text_of(told)
    assert "You now run the intervention group Lexia, Year 9: Tue, Thu 08:40, 40 min." in said
    assert "Ava" not in json.dumps(told) and "Cara" not in json.dumps(told)
    assert runner_messages(slack, "U0TA") == []


def test_a_slack_error_on_the_runners_message_is_retried_and_it_goes_once(slack, tick):
    from models import PromptStatus

    slack.emulator.fail_next("chat.postMessage", "internal_error", status=503)
    form = open_plan(slack, "U0SENDCO", "group new")
    submit(slack, "U0SENDCO", form, **dict(NEW_GROUP, library=slack.ids["talkabout"]))
    assert runner_messages(slack, "U0TA") == []
    [queued] = runner_prompts(slack)
    assert (queued.status, queued.attempts) == (PromptStatus.PENDING, 1)
    tick("2026-11-23T10:10:00+00:00")
    tick("2026-11-23T11:10:00+00:00")
    assert len(runner_messages(slack, "U0TA")) == 1
    assert [p.status for p in runner_prompts(slack)] == [PromptStatus.SENT]


def import_staff_without(slack, run_cli, tmp_path, *leaving: str) -> None:
    from models import Staff

    with slack.sessions() as session:
        staying = session.scalars(
            select(Staff).where(
                Staff.school_id == slack.ids["school"],
                Staff.id.not_in([slack.ids[key] for key in leaving]),
            )
        ).all()
        rows = [f"{s.email},{s.first_name},{s.last_name}" for s in staying]
    path = tmp_path / "staff.csv"
    path.write_text("Email,First Name,Last Name\n" + "\n".join(rows) + "\n")
    result = run_cli("import", "staff", str(path), "--school", "Brookside High")
    assert result.code == 0, result


def test_when_a_runner_leaves_the_sendco_is_told_and_no_session_message_goes_to_them(
    slack, tick, run_cli, tmp_path, monkeypatch
):
    from datetime import UTC, datetime

    from bot.services import session_log
    from handlers.scheduler import wait_for_deliveries
    from models import InterventionSession, Prompt, PromptKind, PromptStatus, School
    from tests.test_plan_life import Monday

    # Tuesday 09:30: the sweep has queued Sam's session DM; it has not gone yet.
    with slack.sessions.begin() as session:
        school = session.get(School, slack.ids["school"])
        session_log.create_due_prompts(session, school, datetime(2026, 11, 24, 9, 30, tzinfo=UTC))
    [pending] = [
        p
        for p in runner_prompts(slack, PromptKind.SESSION_LOG)
        if p.recipient_id == slack.ids["ta"]
    ]
    assert pending.status == PromptStatus.PENDING
    # The roster import that day no longer lists Sam.
    monkeypatch.setattr("bot.cli.date", Monday)
    import_staff_without(slack, run_cli, tmp_path, "ta")

    listed = text_of(slack.ask("U0SENDCO", "groups"))
    assert "no runner: Sam Jones has left" in listed
    assert "Talkabout" in listed and listed.count("has left") == 1
    tick("2026-11-24T10:00:00+00:00")
    tick("2026-11-26T10:00:00+00:00")  # Thursday's session too
    wait_for_deliveries()
    # No session message to someone who has left; the one pending is cancelled, not sent.
    assert [m for m in slack.emulator.messages_to("U0TA") if "sessions" in m["text"].lower()] == []
    with slack.sessions() as session:
        assert session.get(Prompt, pending.id).status == PromptStatus.CANCELLED
    # The SENDCo is told once: the group, when, who left; no pupil.
    told = [
        m for m in slack.emulator.messages_to("U0SENDCO") if "no longer has a runner" in m["text"]
    ]
    assert len(told) == 1
    said = text_of(told[0])
    assert "Lexia, Year 9 · Tue, Thu 08:40, 30 min" in said
    assert "No runner: Sam Jones has left" in said
    assert "Ava" not in json.dumps(told[0]) and "Cara" not in json.dumps(told[0])
    assert told[0]["blocks"][1]["accessory"]["text"]["text"] == "Open"

    # The SENDCo chooses Priya: she is told, takes Sam's sessions not yet logged, and the flag
    # goes.
    view = open_group(slack, "U0SENDCO", "lexia_group")
    press(slack, "U0SENDCO", view, "ssp_group_edit", str(slack.ids["lexia_group"]))
    form = slack.emulator.open_views()[-1]
    assert submit(slack, "U0SENDCO", form, staff="U0PRIYA") is None
    assert len(runner_messages(slack, "U0PRIYA")) == 1
    with slack.sessions() as session:
        owners = set(
            session.scalars(
                select(InterventionSession.staff_id).where(
                    InterventionSession.group_id == slack.ids["lexia_group"],
                    InterventionSession.status == SessionStatus.AWAITING,
                )
            )
        )
        assert owners == {slack.ids["priya"]}
        assert (
            session.scalar(select(Prompt).where(Prompt.kind == PromptKind.GROUP_RUNNER_LEFT)).status
            == PromptStatus.SENT
        )
    assert "has left" not in text_of(slack.ask("U0SENDCO", "groups"))
    assert "Lexia, Year 9" in text_of(slack.ask("U0PRIYA", "sessions"))
