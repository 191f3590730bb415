"""`/ssp provision`: the school's provision map, its pupils button and its export, through the
signed endpoint and the emulator, against direct SQL counts.

Brookside High (tests/slack_harness) with three interventions run by Sam Jones (TA):
- Lexia (£15 a session): "Lexia A" for Ava (Year 9) and Pia (Year 7), "Lexia B" for Omar
  (Year 8); Ava's and Pia's plan provision rows carry reading ages, Omar's only an entry score;
- Talkabout (£20 a session + £5 a pupil): Ava, Ben and Rhys (Year 7, who left on 9 September);
- a library item whose name is a spreadsheet formula (£20 a pupil): Cara;
- "Unused", in the library but nowhere else; and Hillside's own Lexia group, with Zed.
Sessions are the groups' Tuesdays and Thursdays from 1 to 17 September (6 each).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import event, select, text

from bot.services import delivery
from bot.services.calendar import CalendarPeriod, SchoolCalendar
from bot.services.download_links import MAX_DOWNLOADS
from bot.services.provision_map import MAP_STATEMENTS, provision_map
from models import (
    AuditEvent,
    BroadArea,
    DownloadLink,
    Effectiveness,
    MeasureKind,
    Plan,
    PlanProvision,
    Pupil,
    Review,
    ReviewProvisionDecision,
    School,
    SessionStatus,
    Staff,
    StaffRole,
)
from models.reviews import ProvisionDecision
from tests import factories
from tests.slack_harness import NOW, TODAY, text_of

CALENDAR = SchoolCalendar(
    terms=(CalendarPeriod("Autumn", date(2026, 9, 1), date(2026, 12, 18)),),
    closures=(CalendarPeriod("Half term", date(2026, 10, 26), date(2026, 10, 30)),),
)
FORMULA = '=HYPERLINK("http://evil.example/","Click me")'
LINK = re.compile(
    r"<(https?://[^\s|<>]+/download/[A-Za-z0-9_-]+)\|Download (?:the |it as a )?(\w+)"
)


def provision(plan: Plan, item, kind=None, entry=None, exit_=None) -> PlanProvision:
    row = PlanProvision(
        what=item.name,
        library_id=item.id,
        measure_kind=kind,
        entry_value=entry,
        exit_value=exit_,
    )
    plan.provisions.append(row)
    return row


def map_school(session, ids):
    school = session.get(School, ids["school"])
    other = session.scalar(select(School).where(School.name == "Hillside School"))
    ta = session.get(Staff, ids["ta"])
    ava_plan = session.get(Plan, ids["ava_plan"])
    ava = ava_plan.pupil
    ben = session.get(Pupil, ids["ben"])
    cara = session.get(Pupil, ids["cara"])
    pia = factories.pupil(session, school, first_name="Pia", last_name="Quill", year_group=7)
    rhys = factories.pupil(session, school, first_name="Rhys", last_name="Vance", year_group=7)
    omar = factories.pupil(session, school, first_name="Omar", last_name="Wells", year_group=8)
    pia_plan = factories.plan(session, school, pia)
    omar_plan = factories.plan(session, school, omar)

    lexia = factories.library_item(session, school, "Lexia", cost_per_session_pence=1500)
    talk = factories.library_item(
        session,
        school,
        "Talkabout",
        area_of_need=BroadArea.COMMUNICATION_AND_INTERACTION,
        cost_per_session_pence=2000,
        cost_per_pupil_pence=500,
    )
    formula = factories.library_item(
        session,
        school,
        FORMULA,
        area_of_need=BroadArea.SEMH,
        cost_per_session_pence=None,
        cost_per_pupil_pence=2000,
    )
    factories.library_item(session, school, "Unused")
    lexia_a = factories.group(session, school, lexia, ta, ava, pia, name="Lexia A")
    lexia_b = factories.group(session, school, lexia, ta, omar, name="Lexia B")
    talkabout = factories.group(session, school, talk, ta, ava, ben, rhys, name="Talkabout")
    talkabout.members[2].left_on = date(2026, 9, 9)
    factories.group(session, school, formula, ta, cara, name="Calm club")

    hillside_lexia = factories.library_item(session, other, "Hillside Lexia")
    hillside_ta = session.get(Staff, ids["other_sendco"])
    zed = session.get(Pupil, ids["zed"])
    factories.group(session, other, hillside_lexia, hillside_ta, zed, name="Hillside group")

    made = delivery.materialise(session, school.id, CALENDAR, date(2026, 9, 17))
    made += delivery.materialise(session, other.id, CALENDAR, date(2026, 9, 17))
    by_group: dict[int, list] = {}
    for sitting in made:
        by_group.setdefault(sitting.group_id, []).append(sitting)
    for sitting in made:
        if sitting.school_id == other.id:
            sitting.status = SessionStatus.DELIVERED
    a = by_group[lexia_a.id]
    for sitting in a[:4]:
        sitting.status = SessionStatus.DELIVERED
    a[4].status = SessionStatus.NOT_DELIVERED
    a[1].pupils[0].absent = True  # Ava absent once
    for sitting in by_group[lexia_b.id]:
        sitting.status = SessionStatus.DELIVERED
    for sitting in by_group[talkabout.id][:3]:
        sitting.status = SessionStatus.DELIVERED

    ava_lexia = provision(ava_plan, lexia, MeasureKind.READING_AGE, 100, 106)
    pia_lexia = provision(pia_plan, lexia, MeasureKind.READING_AGE, 90, 99)
    provision(omar_plan, lexia, MeasureKind.SCORE, 10, None)
    ava_talk = provision(ava_plan, talk, MeasureKind.SCALE, 3, 6)
    session.flush()
    for member in lexia_a.members:
        member.provision_id = {ava.id: ava_lexia.id, pia.id: pia_lexia.id}[member.pupil_id]
    review = Review(plan_id=ava_plan.id, cycle_number=1)
    review.provision_decisions = [
        ReviewProvisionDecision(
            provision_id=ava_lexia.id,
            provision_what="Lexia",
            decision=ProvisionDecision.CONTINUE,
            effectiveness=Effectiveness.EFFECTIVE,
        ),
        ReviewProvisionDecision(
            provision_id=ava_talk.id,
            provision_what="Talkabout",
            decision=ProvisionDecision.STOP,
            effectiveness=Effectiveness.NOT_EFFECTIVE,
        ),
    ]
    pia_review = Review(plan_id=pia_plan.id, cycle_number=1)
    pia_review.provision_decisions = [
        ReviewProvisionDecision(
            provision_id=pia_lexia.id,
            provision_what="Lexia",
            decision=ProvisionDecision.CONTINUE,
            effectiveness=Effectiveness.VERY_EFFECTIVE,
        )
    ]
    session.add_all([review, pia_review])
    session.flush()
    return {
        "lexia": lexia.id,
        "talk": talk.id,
        "formula": formula.id,
        "hillside_lexia": hillside_lexia.id,
        "pia": pia.id,
        "omar": omar.id,
        "pia_plan": pia_plan.id,
        "omar_plan": omar_plan.id,
    }


@pytest.fixture
def school_extras():
    return map_school


def sql(slack, query: str, **params):
    with slack.sessions() as session:
        return session.execute(text(query), params).all()


def direct_sessions(slack, library_id: int) -> tuple[int, int]:
    ((planned, delivered),) = sql(
        slack,
        "SELECT COUNT(*), SUM(CASE WHEN s.status = 'delivered' THEN 1 ELSE 0 END) "
        "FROM intervention_sessions s JOIN intervention_groups g ON g.id = s.group_id "
        "WHERE g.library_id = :library",
        library=library_id,
    )
    return planned, delivered or 0


def direct_pupils(slack, library_id: int) -> int:
    ((pupils,),) = sql(
        slack,
        "SELECT COUNT(DISTINCT m.pupil_id) FROM intervention_group_members m "
        "JOIN intervention_groups g ON g.id = m.group_id "
        "WHERE g.library_id = :library AND m.joined_on <= :today "
        "AND (m.left_on IS NULL OR m.left_on > :today)",
        library=library_id,
        today=TODAY,
    )
    return pupils


def direct_decisions(slack, library_id: int) -> dict[str, int]:
    return dict(
        sql(
            slack,
            "SELECT d.decision, COUNT(*) FROM review_provision_decisions d "
            "JOIN plan_provisions p ON p.id = d.provision_id "
            "WHERE p.library_id = :library GROUP BY d.decision",
            library=library_id,
        )
    )


def test_the_sendcos_map_matches_the_databases_counts(slack):
    ids = slack.ids
    shown = text_of(slack.ask("U0SENDCO", "provision"))

    lexia_planned, lexia_delivered = direct_sessions(slack, ids["lexia"])
    assert (lexia_planned, lexia_delivered) == (12, 10)
    assert direct_pupils(slack, ids["lexia"]) == 3
    assert (
        f"3 pupils · 2 groups · {lexia_delivered} of {lexia_planned} sessions delivered (83%), "
        f"1 not yet logged · cost £{lexia_delivered * 15}"
    ) in shown
    # Average progress over the rows with both measures, per kind: (6 + 9) / 2 reading age.
    ((average, measured),) = sql(
        slack,
        "SELECT AVG(exit_value - entry_value), COUNT(*) FROM plan_provisions "
        "WHERE library_id = :library AND entry_value IS NOT NULL AND exit_value IS NOT NULL",
        library=ids["lexia"],
    )
    assert (average, measured) == (7.5, 2)
    assert "Progress: Reading age +7.5 months (n measured 2)" in shown
    assert direct_decisions(slack, ids["lexia"]) == {"continue": 2}
    assert "continue 2 · adapt 0 · stop 0 · effectiveness 3.5 of 4" in shown

    # Talkabout: Rhys left on 9 September: 2 pupils now; 6 sessions, 3 delivered.
    assert direct_sessions(slack, ids["talk"]) == (6, 3)
    assert direct_pupils(slack, ids["talk"]) == 2
    assert (
        "2 pupils · 1 group · 3 of 6 sessions delivered (50%), 3 not yet logged · cost £70" in shown
    )
    assert direct_decisions(slack, ids["talk"]) == {"stop": 1}
    assert "continue 0 · adapt 0 · stop 1 · effectiveness 1.0 of 4" in shown
    assert "Progress: Scale (1 to 10) +3.0 (n measured 1)" in shown

    # The formula-named item is shown as text, cost per pupil only.
    assert (
        "1 pupil · 1 group · 0 of 6 sessions delivered (0%), 6 not yet logged · cost £20" in shown
    )
    assert "Unused" not in shown
    assert "1 library items not in use are not listed" in shown

    # By year group: pupils now, and pupil sessions (Year 7: Pia in 6 Lexia, Rhys in 3 Talkabout).
    year7 = sql(
        slack,
        "SELECT COUNT(*), SUM(CASE WHEN s.status = 'delivered' AND NOT sp.absent THEN 1 ELSE 0 END)"
        " FROM intervention_session_pupils sp JOIN intervention_sessions s ON s.id = sp.session_id"
        " JOIN pupils p ON p.id = sp.pupil_id WHERE p.year_group = 7 AND s.school_id = :school",
        school=ids["school"],
    )
    assert year7 == [(9, 7)]
    assert "• Year 7: 1 pupil · 7 of 9 pupil sessions delivered" in shown
    assert "• Year 8: 1 pupil · 6 of 6 pupil sessions delivered · cost £90" in shown
    # Area of need: the formula item's SEMH line carries its cost per pupil.
    assert "• Social, emotional and mental health: 1 pupil · 0 of 6 pupil sessions" in shown

    # The totals add up: the years' costs equal the interventions'.
    with slack.sessions() as session:
        found = provision_map(session, ids["school"], TODAY)
    assert sum(b.cost_pence for b in found.by_year) == found.cost_pence == 150_00 + 70_00 + 20_00
    assert sum(b.cost_pence for b in found.by_area) == found.cost_pence
    # Nothing from Hillside.
    assert "Hillside" not in shown
    assert found.sessions.planned == 6 * 4


def test_the_pupils_button_names_the_interventions_pupils_and_audits_each_plan(slack):
    ids = slack.ids
    reply = slack.ask("U0SENDCO", "provision")
    buttons = [
        e
        for b in reply["blocks"]
        if b.get("accessory")
        for e in [b["accessory"]]
        if e["type"] == "button"
    ]
    action_ids = [b["action_id"] for b in buttons]
    assert len(action_ids) == len(set(action_ids)) == 3
    lexia_button = next(b for b in buttons if b["value"] == str(ids["lexia"]))

    shown = text_of(slack.click("U0SENDCO", lexia_button["action_id"], lexia_button["value"]))
    assert "Lexia: 3 pupils in its groups" in shown
    assert (
        "Ava Stone · Year 9 · Lexia A · 3 of 6 sessions (50%) · "
        "Reading age 8y 4m → 8y 10m (+6 months)" in shown
    )
    assert (
        "Pia Quill · Year 7 · Lexia A · 4 of 6 sessions (67%) · "
        "Reading age 7y 6m → 8y 3m (+9 months)" in (shown)
    )
    assert (
        "Omar Wells · Year 8 · Lexia B · 6 of 6 sessions (100%) · Score 10 → not yet measured"
        in shown
    )
    assert "Ben Stone" not in shown
    with slack.sessions() as session:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.via == "provision map: pupils")
        ).all()
    assert {(r.plan_id, r.pupil_id, r.actor_staff_id) for r in rows} == {
        (ids["ava_plan"], ids["ava"], ids["sendco"]),
        (ids["pia_plan"], ids["pia"], ids["sendco"]),
        (ids["omar_plan"], ids["omar"], ids["sendco"]),
    }

    # Another school's intervention id in the value: not found, and nothing of it shown.
    refused = text_of(slack.click("U0SENDCO", "provision_pupils_1", str(ids["hillside_lexia"])))
    assert "couldn't find that intervention" in refused
    assert "Zed" not in refused


@pytest.mark.parametrize("user", ["U0LEE", "U0TA", "U0PRIYA"])
def test_teachers_tas_and_case_holders_are_refused_the_map_its_pupils_and_its_export(slack, user):
    ids = slack.ids
    for typed in ("provision", "provision export"):
        refused = slack.ask(user, typed)
        assert "is for the SENDCo and senior leaders" in text_of(refused)
        assert "Lexia" not in text_of(refused)
    refused = text_of(slack.click(user, f"provision_pupils_{ids['lexia']}", str(ids["lexia"])))
    assert "is for the SENDCo and senior leaders" in refused and "Ava" not in refused
    refused = text_of(slack.click(user, "provision_export", "map"))
    assert "is for the SENDCo and senior leaders" in refused and "download" not in refused
    with slack.sessions() as session:
        assert session.scalar(select(DownloadLink.id)) is None


def test_a_senior_leader_sees_the_map_and_help_lists_it_for_them_only(slack):
    assert "Provision map" in text_of(slack.ask("U0SLT", "provision"))
    usage = "/ssp provision [term|year|all] [export]"
    assert usage in text_of(slack.ask("U0SLT", "help"))
    # A teacher is offered the library (the school's offer), not the map.
    teachers = text_of(slack.ask("U0LEE", "help"))
    assert usage not in teachers and "/ssp provision library" in teachers
    library = text_of(slack.ask("U0SENDCO", "provision library"))
    assert "provision library" in library and "Provision map" not in library


def export_links(slack, user: str = "U0SENDCO", click: bool = False) -> dict[str, str]:
    if click:
        reply = slack.click(user, "provision_export", "map")
    else:
        reply = slack.ask(user, "provision export")
    assert reply["response_type"] == "ephemeral"
    texts = " ".join(b["text"]["text"] for b in reply["blocks"] if b.get("text"))
    return {kind.lower(): url for url, kind in LINK.findall(texts)}


def test_the_export_csv_neutralises_formulas_and_names_no_pupil(slack):
    links = export_links(slack)
    assert set(links) == {"csv", "pdf", "web"}
    got = slack.get(links["csv"])
    assert got.status == 200
    assert got.headers["Content-Type"].startswith("text/csv")
    assert "Provision-map-year-2026-11-23.csv" in got.headers["Content-Disposition"]
    body = got.body.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    # The export says which period it covers: by default, this school year.
    assert (rows[0]["section"], rows[0]["name"]) == (
        "period",
        "This school year (1 September 2026 to 23 November 2026)",
    )
    names = [r["name"] for r in rows if r["section"] == "intervention"]
    assert "'" + FORMULA in names
    assert FORMULA not in names
    lexia = next(r for r in rows if r["name"] == "Lexia")
    assert (lexia["pupils"], lexia["sessions_planned"], lexia["sessions_delivered"]) == (
        "3",
        "12",
        "10",
    )
    assert (lexia["cost_pounds"], lexia["reviews_continue"], lexia["reviews_stop"]) == (
        "150.00",
        "2",
        "0",
    )
    assert lexia["progress"] == "Reading age +7.5 months (n measured 2)"
    assert {r["name"] for r in rows if r["section"] == "year_group"} == {
        "Year 7",
        "Year 8",
        "Year 9",
    }
    assert rows[-1]["section"] == "total" and rows[-1]["cost_pounds"] == "240.00"
    for cell in (c for r in rows for c in r.values()):
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    for name in ("Ava", "Ben", "Pia", "Omar", "Cara", "Rhys", "Hillside"):
        assert name not in body

    html = slack.get(links["web"])
    assert html.status == 200 and b"Provision map: Brookside High" in html.body
    assert b"<script" not in html.body and b"Ava" not in html.body
    assert b"=HYPERLINK(&#34;http" in html.body or b"=HYPERLINK(&quot;" in html.body
    pdf = slack.get(links["pdf"])
    assert pdf.status == 200 and pdf.body.startswith(b"%PDF")

    with slack.sessions() as session:
        exports = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "export", AuditEvent.plan_id.is_(None))
        ).all()
    assert len(exports) == 3 and all(e.actor_staff_id == slack.ids["sendco"] for e in exports)


def test_an_export_link_is_checked_again_at_download_and_runs_out(slack, clock):
    links = export_links(slack, click=True)
    for _ in range(MAX_DOWNLOADS):
        assert slack.get(links["csv"]).status == 200
    assert slack.get(links["csv"]).status == 410  # used up

    # No longer SENDCo: the next link is refused, and the refusal is audited.
    with slack.sessions.begin() as session:
        sendco = session.get(Staff, slack.ids["sendco"])
        sendco.set_roles({StaffRole.TEACHER})
    refused = slack.get(links["web"])
    assert refused.status == 410 and b"Lexia" not in refused.body
    with slack.sessions.begin() as session:
        session.get(Staff, slack.ids["sendco"]).set_roles({StaffRole.SENDCO})
    # Expired.
    clock.now = NOW + timedelta(minutes=16)
    assert slack.get(links["pdf"]).status == 410
    # Another school's SENDCo's token is not ours, nor is a made-up one.
    assert slack.get(links["csv"].rsplit("/", 1)[0] + "/" + "x" * 43).status == 404
    with slack.sessions() as session:
        refusals = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "refused", AuditEvent.via == "download link"
            )
        ).all()
    assert sorted(r.detail for r in refusals) == [
        "provision_map copy CSV refused: link used up",
        "provision_map copy HTML refused: no longer the SENDCo or a senior leader (provision map)",
        "provision_map copy PDF refused: link expired",
    ]


def test_the_map_takes_the_same_statements_for_a_bigger_school(slack, engine):
    def statements() -> tuple[int, str]:
        seen: list[str] = []

        def count(conn, cursor, statement, *args):
            seen.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        try:
            shown = text_of(slack.ask("U0SENDCO", "provision"))
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen), shown

    few, _ = statements()
    with slack.sessions.begin() as session:
        school = session.get(School, slack.ids["school"])
        ta = session.get(Staff, slack.ids["ta"])
        for n in range(8):
            item = factories.library_item(session, school, f"Intervention {n}")
            pupils = [
                factories.pupil(session, school, first_name=f"Kid{n}{k}", year_group=7 + k % 5)
                for k in range(6)
            ]
            plans = [factories.plan(session, school, p) for p in pupils]
            for p in plans:
                provision(p, item, MeasureKind.STANDARDISED, 85, 92)
            factories.group(session, school, item, ta, *pupils, name=f"Group {n}")
        delivery.materialise(session, school.id, CALENDAR, date(2026, 10, 1))
    many, shown = statements()
    assert "Intervention 7" in shown
    assert many == few
    # The service itself: a fixed number of statements.
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    with slack.sessions() as session:
        event.listen(engine, "before_cursor_execute", count)
        try:
            provision_map(session, slack.ids["school"], TODAY)
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert len([s for s in seen if s.lstrip().upper().startswith("SELECT")]) == MAP_STATEMENTS


@pytest.mark.postgresql
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_when_the_database_is_down_the_map_and_its_export_say_so(emulator, sessions, db_url):
    from sqlalchemy.engine import make_url

    from bot import db
    from handlers.context import wait_for_background_work
    from tests.db_proxy import DbProxy
    from tests.slack_harness import build_school, start_app

    emulator.reset()
    with sessions.begin() as session:
        ids = build_school(session, emulator)
        ids.update(map_school(session, ids))
    url = make_url(db_url)
    with DbProxy((url.host or "127.0.0.1", url.port or 5432)) as proxy:
        engine = db.make_engine(proxy.url(db_url))
        slack = start_app(emulator, db.make_session_factory(engine))
        try:
            assert "Lexia" in text_of(slack.ask("U0SENDCO", "provision"))
            proxy.cut()
            for typed in ("provision", "provision export", "provision all"):
                answer = text_of(slack.ask("U0SENDCO", typed))
                assert "can't reach its database" in answer and "download" not in answer
            # The period buttons and the pager, pressed while it is cut, say so too.
            for action_id, value in (
                ("provision_period_term", "term"),
                ("ssp_page_next", "provision year|2"),
                ("provision_export", "all"),
            ):
                answer = text_of(slack.click("U0SENDCO", action_id, value))
                assert "can't reach its database" in answer, action_id
        finally:
            proxy.passes()
            slack.server.stop()
            wait_for_background_work()
            engine.dispose()
    with sessions() as session:
        assert session.scalar(select(DownloadLink.id)) is None
