"""Issues 19 and 20 at the size of a large school, against Slack's documented limits (the
emulator refuses what Slack would): a library of 150 entries, some with 200-character names
typed by the SENDCo; 60 intervention groups; a teaching assistant running 8 sessions in one
day; a map of 150 interventions over this term, this school year or all time.

Brookside High (tests/slack_harness.py) plus, here: terms "Autumn 1" (2 September to 23
October 2026) and "Autumn 2" (2 November to 18 December); "Summer" (13 April to 22 July 2026)
of the school year before. Library entries "Item 000" … "Item 149" (every tenth with a name of
200 characters); groups 0–59 of items 0–59, 8 of them Sam Jones's (TA) on Mondays at 08:00,
08:35, … ; plan provision rows of items 60–149 on 15 more pupils' plans (6 each).
Today is Monday 23 November 2026 (the clock fixture).
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, time

import pytest
from sqlalchemy import func, select

from bot.services import delivery
from bot.services.calendar import load_calendar
from models import (
    BroadArea,
    InterventionGroup,
    InterventionSession,
    LibraryProvision,
    PlanProvision,
    Review,
    ReviewProvisionDecision,
    School,
    SchoolCalendarEntry,
    SessionStatus,
    Staff,
)
from models.reviews import ProvisionDecision
from tests import factories
from tests.slack_harness import buttons_of, text_of
from tests.test_intervention_groups import state
from tests.test_plan_editor import open_plan

TODAY = date(2026, 11, 23)
LONG = "Precision teaching of high-frequency words with daily overlearning, " * 4
AREAS = list(BroadArea)
RUNNER_SLOTS = 8
LINK = re.compile(
    r"<(https?://[^\s|<>]+/download/[A-Za-z0-9_-]+)\|Download (?:the |it as a )?(\w+)"
)


def item_name(n: int) -> str:
    """Every tenth entry has the longest name the library takes (200 characters)."""
    name = f"Item {n:03d}"
    return (name + " " + LONG)[:200].strip() if n % 10 == 9 else name


@pytest.fixture
def school_extras():
    def extras(session, ids):
        from models import CalendarKind

        school = session.get(School, ids["school"])
        for name, start, end in (
            ("Summer", date(2026, 4, 13), date(2026, 7, 22)),
            ("Autumn 1", date(2026, 9, 2), date(2026, 10, 23)),
            ("Autumn 2", date(2026, 11, 2), date(2026, 12, 18)),
        ):
            session.add(
                SchoolCalendarEntry(
                    school_id=school.id,
                    kind=CalendarKind.TERM,
                    name=name,
                    start_date=start,
                    end_date=end,
                )  # fmt: skip
            )
        items = [
            factories.library_item(
                session, school, item_name(n), area_of_need=AREAS[n % len(AREAS)],
                cost_per_session_pence=1000, cost_per_pupil_pence=None,
            )
            for n in range(150)
        ]  # fmt: skip
        ta = session.get(Staff, ids["ta"])
        priya = session.get(Staff, ids["priya"])
        ava = session.get(factories.Pupil, ids["ava"])
        ben = session.get(factories.Pupil, ids["ben"])
        groups = []
        for n in range(60):
            runner = ta if n < RUNNER_SLOTS else priya
            minutes = 30
            groups.append(
                factories.group(
                    session, school, items[n], runner, ava, ben,
                    name=(f"Group {n:02d} " + LONG)[:200].strip() if n % 10 in (7, 9)
                    else f"Group {n:02d}",
                    weekdays="1", starts_at=time(8 + (n % RUNNER_SLOTS) * 35 // 60,
                                                 (n % RUNNER_SLOTS) * 35 % 60),
                    minutes=minutes, starts_on=date(2026, 6, 1),
                )
            )  # fmt: skip
        for p in range(15):
            pupil = factories.pupil(session, school, first_name=f"Pupil{p}", last_name="Many")
            plan = factories.plan(session, school, pupil)
            for k in range(6):
                item = items[60 + p * 6 + k]
                plan.provisions.append(PlanProvision(what=item.name, library_id=item.id))
        session.flush()
        return {"items": [i.id for i in items], "groups": [g.id for g in groups]}

    return extras


def sql_count(slack, statement):
    with slack.sessions() as session:
        return session.scalar(statement)


def next_page(slack, user: str, reply: dict) -> dict:
    [turn] = [b for b in buttons_of(reply) if b["text"]["text"] == "Next"]
    assert turn["action_id"] == "ssp_page_next"
    return slack.click(user, turn["action_id"], turn["value"])


def action_ids(reply: dict) -> list[str]:
    return [b["action_id"] for b in buttons_of(reply)]


# --- the library and the group form ------------------------------------------------------------


def test_a_library_of_150_pages_and_every_long_name_fits_slack(slack):
    first = slack.ask("U0SENDCO", "provision library")
    assert "150 entries the school offers · page 1 of 8" in text_of(first)
    texts = [text_of(first)]
    reply = first
    for _ in range(7):
        reply = next_page(slack, "U0SENDCO", reply)
        texts.append(text_of(reply))
    assert set(re.findall(r"Item \d{3}", " ".join(texts))) == {f"Item {n:03d}" for n in range(150)}
    assert item_name(9) in " ".join(texts)  # a section holds a 200-character name whole
    # A teacher reads it too, and pages it the same way.
    assert "page 1 of 8" in text_of(slack.ask("U0LEE", "provision library"))


def test_a_200_character_name_typed_by_the_sendco_is_kept_whole_and_shown_where_it_fits(slack):
    from tests.test_plan_editor import submit as submit_form
    from tests.test_provision_library import open_form

    typed = ("Speech & language <group> " + LONG)[:200]
    form = open_form(slack, "U0SENDCO", "provlib_add", "new")
    too_long = submit_form(slack, "U0SENDCO", form, name=typed + "!", area_of_need="semh",
                           tier="targeted")  # fmt: skip
    assert "200 characters" in too_long["errors"]["name"]
    done = submit_form(slack, "U0SENDCO", form, name=typed, area_of_need="semh", tier="targeted")
    assert done["response_action"] == "update"  # the confirmation, naming it, was taken
    with slack.sessions() as session:
        saved = session.scalar(select(LibraryProvision).where(LibraryProvision.name == typed))
    assert saved is not None
    # Its edit form shows it whole (within the input's 200), and Slack takes that.
    edit = open_form(slack, "U0SENDCO", "provlib_item", f"edit:{saved.id}", choose=True)
    name = next(b for b in edit["blocks"] if b.get("block_id") == "name")["element"]
    assert name["initial_value"] == typed and name["max_length"] == 200


def suggest_library(slack, user: str, view: dict, typed: str) -> list[dict]:
    payload = slack.sender._interaction(
        "block_suggestion", user, None, slack.emulator.new_trigger_id(),
        container={"type": "view", "view_id": view["id"]}, view=view,
        action_id="ssp_group_library_find", block_id="library", value=typed,
    )  # fmt: skip
    reply = slack.sender._post_interaction(payload)
    assert reply.status == 200
    return reply.json()["options"]


def test_the_group_form_searches_a_library_longer_than_a_menu_holds(slack):
    form = open_plan(slack, "U0SENDCO", "group new")
    menu = next(b for b in form["blocks"] if b["block_id"] == "library")
    # 150 entries: more than Slack's 100 options, so the menu is searched, and none is lost.
    assert menu["element"]["type"] == "external_select"
    assert "among 150" in menu["hint"]["text"]
    [last] = suggest_library(slack, "U0SENDCO", form, "item 149")
    assert last["value"] == str(slack.ids["items"][149])
    # Its 200-character name is cut at a word, with an ellipsis, inside the option's 75.
    shown = last["text"]["text"]
    assert len(shown) <= 75 and shown.endswith("…") and item_name(149).startswith(shown[:-1])
    assert len(suggest_library(slack, "U0SENDCO", form, "item")) == 100  # Slack's most
    assert suggest_library(slack, "U0SENDCO", form, "no such thing") == []
    # Only the SENDCo sets groups up: anyone else's search finds nothing.
    assert suggest_library(slack, "U0LEE", form, "item 149") == []

    typed = state(form, staff="U0TA", days=["2"], time="15:00", minutes="30")
    typed["library"] = {"type": "external_select", "selected_option": last}
    answer = slack.sender.submit("U0SENDCO", form, typed).json()
    assert answer["response_action"] == "update", answer
    with slack.sessions() as session:
        made = session.scalar(
            select(InterventionGroup).where(InterventionGroup.library_id == int(last["value"]))
        )
        assert made is not None and len(made.name) <= 200


def test_a_plan_picks_from_a_library_of_150_by_searching(slack):
    from tests.test_plan_editor import click
    from tests.test_slack_limits_flows import suggest

    overview = open_plan(slack, "U0PRIYA", "plan Ava")
    section = click(slack, "U0PRIYA", overview, "plan_open_section", "provision")
    form = click(slack, "U0PRIYA", section, "plan_add_item", "provision")
    menu = next(b for b in form["blocks"] if b.get("block_id") == "library_id")
    assert menu["element"]["type"] == "external_select"
    [found] = suggest(slack, "U0PRIYA", form, "library_id", "item 149").json()["options"]
    assert found["value"] == str(slack.ids["items"][149])
    assert len(found["text"]["text"]) <= 75 and found["text"]["text"].endswith("…")
    state = {"library_id": {"type": "external_select", "selected_option": found}}
    answer = slack.sender.submit("U0PRIYA", form, state)
    assert answer.status == 200 and not answer.body  # closed: saved
    with slack.sessions() as session:
        saved = session.scalar(
            select(PlanProvision).where(PlanProvision.library_id == slack.ids["items"][149])
        )
        # The plan keeps the whole name (the library's), not the menu's cut of it.
        assert saved is not None and saved.what == item_name(149)


def test_sixty_groups_page_and_all_can_be_joined_from_a_plan(slack):
    first = slack.ask("U0SENDCO", "groups")
    assert "60 groups · page 1 of 3" in text_of(first)
    second = next_page(slack, "U0SENDCO", first)
    third = next_page(slack, "U0SENDCO", second)
    opened = {a for reply in (first, second, third) for a in action_ids(reply)
              if a.startswith("ssp_group_open_")}  # fmt: skip
    assert opened == {f"ssp_group_open_{g}" for g in slack.ids["groups"]}
    assert "Next" not in [b["text"]["text"] for b in buttons_of(third)]
    # Sam runs eight of them: only those, on one page.
    assert len([a for a in action_ids(slack.ask("U0TA", "groups")) if "open" in a]) == 8


def join_form(slack, user: str, pupil_key: str) -> dict:
    from tests.test_intervention_groups import press

    overview = open_plan(slack, user, "plan Cara Lin" if pupil_key == "cara" else "plan Ava")
    press(slack, user, overview, "ssp_group_join_open", str(slack.ids[pupil_key]))
    return slack.emulator.open_views()[-1]


def test_add_to_a_group_offers_every_group_and_searches_past_100(slack):
    form = join_form(slack, "U0PRIYA", "ava")
    menu = next(b for b in form["blocks"] if b["block_id"] == "group")["element"]
    assert menu["type"] == "static_select" and len(menu["options"]) == 60
    # A 200-character name is cut so that when the group meets still shows.
    long_one = next(o["text"]["text"] for o in menu["options"] if o["text"]["text"].startswith(
        "Group 09"))  # fmt: skip
    assert len(long_one) <= 75 and "… · Mon " in long_one
    with slack.sessions.begin() as session:
        school = session.get(School, slack.ids["school"])
        item = session.get(LibraryProvision, slack.ids["items"][0])
        priya = session.get(Staff, slack.ids["priya"])
        for n in range(60, 130):
            factories.group(session, school, item, priya, name=f"Group {n:03d}", weekdays="3")
    form = join_form(slack, "U0PRIYA", "ava")
    block = next(b for b in form["blocks"] if b["block_id"] == "group")
    assert block["element"]["type"] == "external_select" and "among 130" in block["hint"]["text"]
    payload = slack.sender._interaction(
        "block_suggestion", "U0PRIYA", None, slack.emulator.new_trigger_id(),
        container={"type": "view", "view_id": form["id"]}, view=form,
        action_id="ssp_group_join_find", block_id="group", value="group 129",
    )  # fmt: skip
    [found] = slack.sender._post_interaction(payload).json()["options"]
    assert found["text"]["text"] == "Group 129 · Wed 08:40, 30 min"
    chosen = {"group": {"type": "external_select", "selected_option": found}}
    answer = slack.sender.submit("U0PRIYA", form, chosen).json()
    assert "*Ava Stone* is in *Group 129* from today" in json.dumps(answer["view"])


# --- the map --------------------------------------------------------------------------------


@pytest.fixture
def sessions_held(slack):
    """Every Monday's session of the 60 groups from 1 June 2026 to today, Summer's and Autumn
    1's delivered, Autumn 2's half; a review in July (last school year) and one in October
    deciding on Ava's provision rows."""
    with slack.sessions.begin() as session:
        calendar = load_calendar(session, slack.ids["school"])
        made = delivery.materialise(session, slack.ids["school"], calendar, TODAY)
        for sitting in made:
            if sitting.held_on < date(2026, 11, 2) or sitting.group_id % 2 == 0:
                sitting.status = SessionStatus.DELIVERED
        rows = session.scalars(
            select(PlanProvision).where(PlanProvision.plan_id == slack.ids["ava_plan"])
        ).all()
        linked = [r for r in rows if r.library_id == slack.ids["items"][0]]
        row = linked[0] if linked else rows[0]
        row.library_id = slack.ids["items"][0]
        decided = (
            (7, date(2026, 7, 10), ProvisionDecision.STOP),
            (8, date(2026, 10, 12), ProvisionDecision.CONTINUE),
        )
        for cycle, when, decision in decided:
            review = Review(plan_id=slack.ids["ava_plan"], cycle_number=cycle, meeting_date=when)
            review.provision_decisions = [
                ReviewProvisionDecision(
                    provision_id=row.id, provision_what=row.what, decision=decision
                )  # fmt: skip
            ]
            session.add(review)
    return made


def held(slack, since: date | None, delivered: bool = False) -> int:
    query = select(func.count(InterventionSession.id)).where(
        InterventionSession.school_id == slack.ids["school"]
    )
    if since is not None:
        query = query.where(InterventionSession.held_on >= since)
    if delivered:
        query = query.where(InterventionSession.status == SessionStatus.DELIVERED)
    return sql_count(slack, query)


def test_a_map_of_150_interventions_pages_with_distinct_action_ids(slack, sessions_held):
    first = slack.ask("U0SENDCO", "provision")
    assert "Interventions 1–20 of 150 · page 1 of 8" in text_of(first)
    pupils_buttons = set()
    reply = first
    for page in range(8):
        ids = action_ids(reply)
        assert len(ids) == len(set(ids))  # and the emulator took it: Slack would too
        pupils_buttons |= {a for a in ids if a.startswith("provision_pupils_")}
        assert {"provision_period_term", "provision_period_year", "provision_period_all"} <= set(
            ids
        )
        if page < 7:
            reply = next_page(slack, "U0SENDCO", reply)
    assert pupils_buttons == {f"provision_pupils_{i}" for i in slack.ids["items"]}
    # A long name's pupils: the answer fits Slack whatever the groups' names.
    long_one = slack.click("U0SENDCO", f"provision_pupils_{slack.ids['items'][9]}",
                           str(slack.ids["items"][9]))  # fmt: skip
    assert "Ava Stone" in text_of(long_one)


def test_the_map_counts_this_term_this_year_or_all_time(slack, sessions_held):
    def totals(reply) -> str:
        return re.search(r"(\d+) of (\d+) sessions delivered", text_of(reply)).group(0)

    year = slack.ask("U0SENDCO", "provision")  # this school year by default
    assert "This school year (2 September 2026 to 23 November 2026)" in text_of(year)
    assert totals(year) == (
        f"{held(slack, date(2026, 9, 2), True)} of {held(slack, date(2026, 9, 2))} "
        "sessions delivered"
    )
    term = slack.click("U0SENDCO", "provision_period_term", "term")
    assert "This term (Autumn 2) (2 November 2026 to 23 November 2026)" in text_of(term)
    assert totals(term) == (
        f"{held(slack, date(2026, 11, 2), True)} of {held(slack, date(2026, 11, 2))} "
        "sessions delivered"
    )
    everything = slack.ask("U0SENDCO", "provision all")
    assert totals(everything) == (
        f"{held(slack, None, True)} of {held(slack, None)} sessions delivered"
    )
    assert held(slack, None) > held(slack, date(2026, 9, 2)) > held(slack, date(2026, 11, 2))
    # Cost follows the sessions: £10 a delivered session.
    assert f"cost £{held(slack, date(2026, 11, 2), True) * 10:,}" in text_of(term)
    # Decisions: July's "stop" was last school year; October's "continue" this one.
    assert "continue 1 · adapt 0 · stop 0" in text_of(year)
    assert "continue 1 · adapt 0 · stop 1" in text_of(everything)
    assert "Reviews: no decisions yet" in text_of(term).split("Item 000")[1].split("Item")[0]

    # Paging keeps the period; the export says which it covers.
    second = next_page(slack, "U0SENDCO", term)
    assert "This term (Autumn 2)" in text_of(second)
    [export] = [b for b in buttons_of(term) if b["action_id"] == "provision_export"]
    links = slack.click("U0SENDCO", export["action_id"], export["value"])
    assert "provision map for this term" in text_of(links)
    found = LINK.findall(json.dumps(links).replace("\\n", " "))
    url = next(u for u, kind in found if kind == "CSV")
    got = slack.get(url)
    assert "Provision-map-term-2026-11-23.csv" in got.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(got.body.decode("utf-8-sig"))))
    assert rows[0]["name"].startswith("This term (Autumn 2) (2 November 2026")
    assert rows[-1]["sessions_planned"] == str(held(slack, date(2026, 11, 2)))


def test_only_the_sendco_and_senior_leaders_choose_the_period(slack, sessions_held):
    for user in ("U0TA", "U0LEE"):
        refused = slack.click(user, "provision_period_all", "all")
        assert "for the SENDCo and senior leaders" in text_of(refused)
        assert "sessions delivered" not in text_of(refused)
    for typed in ("provision nonsense", "provision term all", "provision export please"):
        answer = text_of(slack.ask("U0SENDCO", typed))
        assert "this term, this school year (the default) or all time" in answer, typed
        assert "Provision map" not in answer


# --- the runner's day ----------------------------------------------------------------------


def test_eight_sessions_in_a_day_come_in_one_dm_slack_takes(slack, tick):
    from handlers.scheduler import wait_for_deliveries

    with slack.sessions.begin() as session:
        # Only today's sessions: the groups "started" today for this test.
        session.execute(InterventionGroup.__table__.update().values(starts_on=TODAY))
    tick("2026-11-23T15:30:00+00:00")
    wait_for_deliveries()
    dms = [m for m in slack.emulator.messages_to("U0TA") if "session" in m["text"].lower()]
    assert len(dms) == 1
    dm = dms[0]
    ids = action_ids(dm)
    assert len(ids) >= RUNNER_SLOTS and len(dm["blocks"]) <= 50
    with slack.sessions() as session:
        assert (
            session.scalar(
                select(func.count(InterventionSession.id)).where(
                    InterventionSession.held_on == TODAY,
                    InterventionSession.staff_id == slack.ids["ta"],
                )
            )
            == RUNNER_SLOTS
        )
    # The absent form of the last of them opens, and Slack takes it.
    absent = [b for b in buttons_of(dm) if "absent" in b["text"]["text"].lower()]
    assert absent
    before = len(slack.emulator.calls_to("views.open"))
    reply = slack.sender.button("U0TA", absent[-1]["action_id"], absent[-1]["value"], message=dm)
    assert reply.status == 200
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > before)


# --- a pupil's long record ------------------------------------------------------------------


@pytest.fixture
def long_record(emulator, sessions, clock):
    """The app with an attachment key, and Ava's plan with 20 files attached (titles up to the
    300 characters a title takes) and 12 reviewed cycles."""
    from cryptography.fernet import Fernet

    from models import AgencyReport, Attachment, ReviewStatus
    from tests.slack_harness import build_school, start_app

    key = Fernet.generate_key().decode()
    emulator.reset()
    with sessions.begin() as session:
        ids = build_school(session, emulator)
        plan = session.get(factories.Plan, ids["ava_plan"])
        report = AgencyReport(plan_id=plan.id, title="EP assessment " + LONG[:150])
        session.add(report)
        session.flush()
        for n in range(20):
            data = b"%PDF-1.4\n" + str(n).encode() + b"\n%%EOF\n"
            session.add(
                Attachment(
                    school_id=plan.school_id, plan_id=plan.id, pupil_id=plan.pupil_id,
                    report_id=report.id if n % 2 else None,
                    kind="report" if n % 2 else "evidence",
                    title=(f"File {n:02d} " + LONG * 2)[:300] if n % 5 == 0 else f"File {n:02d}",
                    filename=f"file-{n:02d}.pdf", content_type="application/pdf",
                    size=len(data), sha256="0" * 64,
                    ciphertext=Fernet(key.encode()).encrypt(data),
                    uploaded_by_id=ids["priya"],
                )
            )  # fmt: skip
        for cycle in range(1, 13):
            session.add(
                Review(
                    plan_id=plan.id,
                    cycle_number=cycle,
                    status=ReviewStatus.APPROVED,
                    meeting_date=date(2024, 9, 1).replace(month=1 + cycle % 12),
                    what_is_working=f"Cycle {cycle}: " + LONG,
                )  # fmt: skip
            )
    running = start_app(emulator, sessions, clock=clock, env={"ATTACHMENT_KEY": key})
    running.ids = ids
    yield running
    running.server.stop()


def test_twenty_files_and_twelve_cycles_fit_the_reports_section_and_the_evidence_pack(
    long_record,
):
    from tests.test_plan_editor import click

    app = long_record
    plan = open_plan(app, "U0PRIYA", "plan Ava Stone")
    reports = click(app, "U0PRIYA", plan, "plan_open_section", "reports")
    shown = json.dumps(reports)
    assert len(reports["blocks"]) <= 100
    for n in range(20):
        assert f"File {n:02d}" in shown  # every file is there to download
    ids = [e["action_id"] for b in reports["blocks"] for e in b.get("elements", [])
           if "action_id" in e]  # fmt: skip
    assert len(ids) == len(set(ids))

    reply = app.ask("U0PRIYA", "export Ava Stone --evidence")
    links = dict((kind, url) for url, kind in LINK.findall(json.dumps(reply).replace("\\n", " ")))
    web = next(url for kind, url in links.items() if kind.lower() != "pdf")
    page = app.get(web)
    assert page.status == 200
    body = page.body.decode("utf-8", "replace")
    assert "too-few-cycles" not in body
    for cycle in (1, 12):
        assert f"Cycle {cycle}:" in body
    for n in (0, 19):
        assert f"File {n:02d}" in body


def test_a_runners_weeks_of_unlogged_sessions_list_within_a_message(slack, sessions_held):
    # None of Sam's 8 groups' sessions of Autumn 2 (4 Mondays) is logged yet: 32.
    with slack.sessions.begin() as session:
        session.execute(
            InterventionSession.__table__.update()
            .where(
                InterventionSession.staff_id == slack.ids["ta"],
                InterventionSession.held_on >= date(2026, 11, 2),
            )
            .values(status=SessionStatus.AWAITING)
        )
    assert held(slack, date(2026, 11, 2)) - held(slack, date(2026, 11, 2), True) >= 32
    reply = slack.ask("U0TA", "sessions")
    assert len(reply["blocks"]) <= 50  # and the emulator took it
    assert "You have 32 sessions not yet logged" in text_of(reply)  # 20 shown, then a page
    assert "Older sessions" in [b["text"]["text"] for b in buttons_of(reply)]
    ids = action_ids(reply)
    assert ids and len(ids) == len(set(ids))
