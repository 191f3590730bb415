"""The pupil passport (`/ssp passport`, the Passport buttons, the printable page) and a teacher's
class view (`/ssp class`, the App Home's "Your classes"), through the signed endpoint and the
emulator on SQLite and PostgreSQL.

Brookside High (tests/slack_harness.py): Lee Chan teaches 9A/En1 (Cara Lin, who has a plan held
by Tom Baker, and Dev Patel, who has none); he does not teach Ava Stone. Cara's plan is filled
here with everything a passport must show, and everything it must leave out, each marked so a
leak is easy to see.
"""

from __future__ import annotations

import io
import statistics
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import event, select

from bot.demo.school import create_demo_school
from bot.services.passport import _passport
from bot.services.passport_document import passport_html, passport_pdf
from models import (
    AdjustmentKind,
    AgencyReport,
    AuditEvent,
    BroadArea,
    NeedCode,
    Plan,
    PlanAdjustment,
    PlanNeed,
    PlanStatus,
    PlanTarget,
    PlanVoice,
    Pupil,
    Review,
    ReviewStatus,
    SenStage,
    TargetStatus,
    TeachingGroup,
    TeachingGroupPupil,
    TeachingGroupTeacher,
    TimelineEntry,
    TimelineKind,
)
from tests.slack_harness import NOW, TODAY, buttons_of, download_links, raw_mrkdwn_in, text_of
from tests.test_plan_editor import click, form_state, open_plan

SHOWN = {
    "liked": "LIKED Cara is kind to everyone",
    "important": "IMPORTANT my dog Biscuit",
    "support": "SUPPORT Give me time to answer. Say my name first.",
    "need": "NEED Finds noisy rooms hard",
    "area": "Communication and interaction",
    "adjustment": "Visual timetable on desk",
    "access": "ACCESS Rest breaks in exams",
    "target": "Ask for help using a help card",
    "holder": "Tom Baker",
}
LEFT_OUT = {
    "date of birth": ["2012", "4 Mar", "Born"],
    "census code": ["ASD", "Autistic"],
    "child in care": ["Child in care", "child in care"],
    "medical": ["Medical need", "medical need"],
    "MIS other information": ["MISOTHER"],
    "professional concerns": ["PROFCONCERN"],
    "reports": ["REPORTTITLE", "REPORTRECS"],
    "notes": ["NOTESECRET"],
    "reviews": ["REVIEWSECRET"],
    "earlier targets": ["OLDTARGET"],
    "provision": ["Weekly social skills group"],
    "SEN stage": ["SEN Support", "EHC"],
}


def fill_caras_plan(session, ids):
    cara = session.get(Pupil, ids["cara"])
    cara.child_in_care = True
    cara.medical_need = True
    cara.other_information = "MISOTHER safeguarding context"
    plan = session.scalar(select(Plan).where(Plan.pupil_id == cara.id))
    plan.voice = PlanVoice(
        liked_and_admired=SHOWN["liked"],
        important_to_me=SHOWN["important"],
        how_to_support_me=SHOWN["support"],
        professional_concerns="PROFCONCERN worries",
    )
    plan.needs = [
        PlanNeed(
            broad_area=BroadArea.COMMUNICATION_AND_INTERACTION,
            census_code=NeedCode.ASD,
            is_primary=True,
            description=SHOWN["need"],
        )
    ]
    plan.adjustments.append(
        PlanAdjustment(kind=AdjustmentKind.ACCESS_ARRANGEMENT, description=SHOWN["access"])
    )
    for target in plan.targets:
        target.cycle_number = plan.cycle_number
    plan.targets.append(
        PlanTarget(description="OLDTARGET met", cycle_number=1, status=TargetStatus.ACHIEVED)
    )
    plan.reports = [AgencyReport(title="REPORTTITLE", recommendations="REPORTRECS")]
    session.add(
        TimelineEntry(plan=plan, occurred_at=NOW, kind=TimelineKind.NOTE, summary="NOTESECRET")
    )
    session.add(
        Review(
            plan=plan,
            cycle_number=1,
            status=ReviewStatus.SUBMITTED,
            what_is_working="REVIEWSECRET",
        )
    )
    # Priya's class: Lee does not teach it.
    other = TeachingGroup(school_id=ids["school"], code="9B/Ma2", subject="Maths", year_group=9)
    other.teachers = [TeachingGroupTeacher(staff_id=ids["priya"])]
    other.members = [TeachingGroupPupil(pupil_id=ids["ava"])]
    session.add(other)
    session.flush()
    return {"cara_plan": plan.id, "priya_class": other.id}


@pytest.fixture
def school_extras():
    return fill_caras_plan


def said(message: dict) -> str:
    return " ".join(text_of(message).split())


def audit_rows(slack, **where) -> list[AuditEvent]:
    with slack.sessions() as session:
        query = select(AuditEvent).order_by(AuditEvent.id)
        for name, value in where.items():
            query = query.where(getattr(AuditEvent, name) == value)
        return list(session.scalars(query))


def assert_passport(text: str) -> None:
    for what, words in SHOWN.items():
        assert words in text, what
    assert_left_out(text)


def assert_left_out(text: str) -> None:
    text = text.replace("SEN Support Plan", "the plan")  # the stage is "SEN Support" alone
    for what, words in LEFT_OUT.items():
        for word in words:
            assert word not in text, f"{what} on the passport: {word!r}"


# --- the passport in Slack --------------------------------------------------------------------


def test_a_teacher_gets_the_passport_privately_with_what_helps_and_nothing_else(slack):
    reply = slack.ask("U0LEE", "passport Cara")
    assert reply["response_type"] == "ephemeral"
    text = said(reply)
    assert "Cara Lin: pupil passport" in text
    assert_passport(text)
    assert not raw_mrkdwn_in(reply)
    # The notification names the pupil and no more.
    assert reply["text"] == "Pupil passport: Cara Lin"
    assert not slack.emulator.messages  # nothing posted to a channel or DM
    read = audit_rows(slack, action="read", via="/ssp passport")
    assert [(r.actor_staff_id, r.pupil_id, r.plan_id, r.detail) for r in read] == [
        (slack.ids["lee"], slack.ids["cara"], slack.ids["cara_plan"], "pupil passport")
    ]


def test_the_passport_button_on_ssp_pupil_and_on_several_matches(slack):
    summary = slack.ask("U0LEE", "pupil Cara")
    passport = next(b for b in buttons_of(summary) if b["action_id"] == "ssp_passport")
    shown = slack.click("U0LEE", "ssp_passport", passport["value"])
    assert_passport(said(shown))
    assert audit_rows(slack, action="read", via="Passport button")
    # A pupil without a plan has no passport button; asking says so plainly.
    assert "ssp_passport" not in [
        b["action_id"] for b in buttons_of(slack.ask("U0LEE", "pupil Dev"))
    ]
    assert "Dev Patel has no SEN Support Plan at the moment" in said(
        slack.ask("U0LEE", "passport Dev")
    )
    # Several matches: a Passport button beside each.
    several = slack.ask("U0SENDCO", "passport stone")
    assert {b["action_id"] for b in buttons_of(several)} == {"ssp_passport"}
    assert {b["value"] for b in buttons_of(several)} == {
        str(slack.ids["ava"]),
        str(slack.ids["ben"]),
    }


def test_must_know_is_marked_on_the_plan_and_shows_the_flags_only_when_ticked(slack):
    assert_passport(said(slack.ask("U0LEE", "passport Cara")))  # nothing marked yet
    overview = open_plan(slack, "U0SENDCO", "plan Cara Lin")
    form = click(slack, "U0SENDCO", overview, "plan_open_section", "must_know")
    assert form["title"]["text"] == "Must know"
    typed = {
        "must_know--0": "Carries an inhaler: let her go to the office",
        "must_know_medical": True,
    }
    answer = slack.sender.submit("U0SENDCO", form, form_state(form, typed))
    assert answer.status == 200
    text = said(slack.ask("U0LEE", "passport Cara"))
    assert "Must know" in text and "Carries an inhaler: let her go to the office" in text
    assert "Medical need" in text
    assert "Child in care" not in text  # not ticked: still left out
    # The plan's own document has it too (the staff copy, here).
    links = download_links(slack.ask("U0SENDCO", "export Cara Lin"))
    document = slack.get(links["html"]).body.decode()
    assert "Must know (on the pupil passport)" in document
    assert "Carries an inhaler: let her go to the office" in document
    # Ticking a flag the school's record doesn't have shows nothing.
    with slack.sessions.begin() as session:
        session.get(Pupil, slack.ids["cara"]).medical_need = False
    assert "Medical need" not in said(slack.ask("U0LEE", "passport Cara"))


def test_not_taught_reads_exactly_as_no_such_pupil(slack):
    not_taught = said(slack.ask("U0LEE", "passport Ava Stone"))
    nobody = said(slack.ask("U0LEE", "passport Nobody Atall"))
    assert "couldn't find a pupil" in nobody
    assert not_taught.replace("Ava Stone", "X") == nobody.replace("Nobody Atall", "X")
    # The buttons too: a pupil he doesn't teach, one of another school, and none at all.
    answers = [
        said(slack.click("U0LEE", "ssp_passport", str(pupil_id)))
        for pupil_id in (slack.ids["ava"], slack.ids["zed"], 99999999, "nonsense")
    ]
    assert len(set(answers)) == 1 and "couldn't find that pupil" in answers[0]
    refused = audit_rows(slack, action="refused", via="Passport button")
    assert len(refused) == 4 and all(r.actor_staff_id == slack.ids["lee"] for r in refused)
    # Another school's pupil never appears in this school's log.
    assert [r.pupil_id for r in refused] == [slack.ids["ava"], None, None, None]
    assert not audit_rows(slack, action="read")


def test_another_schools_replayed_payload_is_refused(slack):
    reply = slack.sender.button(
        "U0OTHER", "ssp_passport", str(slack.ids["cara"]), team_id="T0OTHERSCH"
    )
    assert reply.status == 200
    slack.emulator.wait_for(lambda calls: slack.emulator.responses_to("U0OTHER"))
    assert "couldn't find that pupil" in said(slack.emulator.responses_to("U0OTHER")[-1])
    printed = slack.sender.button(
        "U0OTHER", "ssp_passport_print", str(slack.ids["cara"]), team_id="T0OTHERSCH"
    )
    assert printed.status == 200
    slack.emulator.wait_for(lambda calls: len(slack.emulator.responses_to("U0OTHER")) > 1)
    assert "couldn't find that pupil" in said(slack.emulator.responses_to("U0OTHER")[-1])
    (lees_class,) = _groups(slack, "9A/En1")
    shown = slack.sender.button("U0OTHER", "ssp_class_show", str(lees_class), team_id="T0OTHERSCH")
    assert shown.status == 200
    slack.emulator.wait_for(lambda calls: len(slack.emulator.responses_to("U0OTHER")) > 2)
    assert "couldn't find that class" in said(slack.emulator.responses_to("U0OTHER")[-1])
    with slack.sessions() as session:
        assert not session.scalars(select(AuditEvent).where(AuditEvent.action == "list")).all()
        assert not session.scalars(select(AuditEvent).where(AuditEvent.action == "read")).all()
        assert not session.scalars(
            select(AuditEvent).where(AuditEvent.action == "export_link")
        ).all()


def test_a_teaching_assistant_sees_no_passport_of_a_pupil_they_do_not_support(slack):
    # Sam Jones supports no class of Cara's and is not her key adult: as for nobody at all.
    asked = said(slack.ask("U0TA", "passport Cara"))
    nobody = said(slack.ask("U0TA", "passport Nobody"))
    assert asked.replace("Cara", "X") == nobody.replace("Nobody", "X")
    assert "Cara" in asked and "Cara Lin" not in asked


def test_a_passport_with_very_long_texts_stays_inside_slacks_limits(slack):
    long = "word " * 4000
    with slack.sessions.begin() as session:
        plan = session.get(Plan, slack.ids["cara_plan"])
        plan.voice.how_to_support_me = long + "&<>"
        plan.voice.must_know = long
        plan.adjustments += [
            PlanAdjustment(kind=AdjustmentKind.IN_CLASS, description=f"Adjustment {n} " + long)
            for n in range(30)
        ]
        plan.adjustments += [
            PlanAdjustment(
                kind=AdjustmentKind.ACCESS_ARRANGEMENT, description=f"Access {n} " + long
            )
            for n in range(30)
        ]
    reply = slack.ask("U0LEE", "passport Cara")  # the emulator refuses what Slack would
    assert "How best to support me" in said(reply)
    assert "the printable copy has them all" in said(reply)
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in reply["blocks"])
    assert not raw_mrkdwn_in(reply)
    view = slack.ask("U0LEE", "class 9A/En1")
    assert "Cara Lin" in said(view) and "(and 28 more)" in said(view)
    assert not raw_mrkdwn_in(view)


# --- the printable passport -------------------------------------------------------------------


def print_link(slack, user: str, pupil: str) -> str:
    reply = slack.ask(user, f"passport {pupil}")
    button = next(b for b in buttons_of(reply) if b["action_id"] == "ssp_passport_print")
    links = download_links(slack.click(user, "ssp_passport_print", button["value"]))
    assert set(links) == {"pdf"}
    return links["pdf"]


def pdf_pages(body: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(body)).pages]


def test_the_printable_passport_is_one_a4_page_and_access_is_checked_at_download(slack):
    url = print_link(slack, "U0LEE", "Cara")
    fetched = slack.get(url)
    assert fetched.status == 200
    assert fetched.headers["Content-Type"] == "application/pdf"
    assert fetched.headers["Cache-Control"] == "no-store"
    disposition = fetched.headers["Content-Disposition"]
    assert "Passport-CL-ref" in disposition and "Cara" not in disposition
    pages = pdf_pages(fetched.body)
    assert len(pages) == 1
    assert_passport(pages[0])
    box = PdfReader(io.BytesIO(fetched.body)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    made = audit_rows(slack, action="export_link")
    sent = audit_rows(slack, action="export")
    assert [r.actor_staff_id for r in made + sent] == [slack.ids["lee"]] * 2
    assert "pupil passport" in sent[0].detail and sent[0].plan_id == slack.ids["cara_plan"]

    # Lee stops teaching the class: the same link no longer works, and the refusal is audited.
    with slack.sessions.begin() as session:
        for link in session.scalars(
            select(TeachingGroupTeacher).where(TeachingGroupTeacher.staff_id == slack.ids["lee"])
        ):
            link.is_active = False
    again = slack.get(url)
    assert again.status == 410 and b"Cara" not in again.body
    assert audit_rows(slack, action="refused", via="download link")


def test_a_changed_plan_needs_a_new_printable_copy(slack):
    url = print_link(slack, "U0LEE", "Cara")
    with slack.sessions.begin() as session:
        session.get(Plan, slack.ids["cara_plan"]).voice.important_to_me = "Changed"
        session.get(Plan, slack.ids["cara_plan"]).review_date = TODAY + timedelta(days=50)
    assert slack.get(url).status == 410


def test_the_synthetic_schools_typical_passport_fits_one_page(session):
    create_demo_school(session, name="Passport Academy", seed=7, pupils=300, today=TODAY)
    session.flush()
    plans = session.scalars(select(Plan).where(Plan.status != PlanStatus.CLOSED)).all()
    passports = sorted(
        (_passport(session, plan.pupil, plan, TODAY) for plan in plans),
        key=lambda p: len(passport_html(p)),
    )
    assert len(passports) > 20
    typical = passports[len(passports) // 2]
    longer = passports[int(len(passports) * 0.9)]
    for passport in (typical, longer):
        pages = pdf_pages(passport_pdf(passport))
        assert len(pages) == 1, passport.name
        assert passport.name in pages[0]
    assert statistics.median(len(p.targets) for p in passports) >= 1


# --- the class view ---------------------------------------------------------------------------


def test_ssp_class_lists_the_teachers_classes_with_counts(slack):
    reply = slack.ask("U0LEE", "class")
    text = said(reply)
    assert "Your classes" in text and "9A/En1 · English · Year 9" in text
    assert "1 of 2 pupils with a SEN Support Plan" in text
    assert "9B/Ma2" not in text  # Priya's
    assert [(b["action_id"], b["value"]) for b in buttons_of(reply)] == [
        ("ssp_class_show", str(next(iter(_groups(slack, "9A/En1")))))
    ]
    assert audit_rows(slack, action="list", via="/ssp class")
    # Someone with no classes is told where classes come from.
    assert "don't have any classes" in said(slack.ask("U0SENDCO", "class"))


def _groups(slack, code):
    with slack.sessions() as session:
        return set(session.scalars(select(TeachingGroup.id).where(TeachingGroup.code == code)))


def test_ssp_class_code_shows_key_strategies_and_access_arrangements(slack):
    reply = slack.ask("U0LEE", "class 9a/en1")  # any letter case
    text = said(reply)
    assert "9A/En1 · English" in text
    assert "1 pupil with a SEN Support Plan · 1 pupil without a plan not listed" in text
    assert "Cara Lin" in text and "Dev Patel" not in text
    assert "Visual timetable on desk" in text  # the in-class adjustment first
    assert "Give me time to answer." in text and "Say my name first." in text  # then how to support
    assert "Access arrangements: ACCESS Rest breaks in exams" in text
    assert_left_out(text)
    assert [(b["action_id"], b["value"]) for b in buttons_of(reply)] == [
        ("ssp_passport", str(slack.ids["cara"]))
    ]
    listed = audit_rows(slack, action="list", via="/ssp class")
    assert [(r.pupil_id, r.plan_id, r.detail) for r in listed] == [
        (slack.ids["cara"], slack.ids["cara_plan"], "class view of 9A/En1")
    ]
    # Its Passport button opens the passport under the list.
    shown = slack.click("U0LEE", "ssp_passport", str(slack.ids["cara"]))
    assert_passport(said(shown))


def test_an_unknown_class_and_someone_elses_read_the_same(slack):
    theirs = said(slack.ask("U0LEE", "class 9B/Ma2"))
    unknown = said(slack.ask("U0LEE", "class 7Z/Zz9"))
    assert "couldn't find a class" in unknown
    assert theirs.replace("9B/Ma2", "X") == unknown.replace("7Z/Zz9", "X")
    clicked = said(slack.click("U0LEE", "ssp_class_show", str(slack.ids["priya_class"])))
    assert "couldn't find that class" in clicked and "Ava" not in clicked
    assert len(audit_rows(slack, action="refused")) == 3
    assert not audit_rows(slack, action="list", via="/ssp class")


def test_a_big_class_pages_and_takes_the_same_statements_as_a_small_one(slack, engine):
    def statements(typed: str) -> tuple[int, dict]:
        seen: list[str] = []

        def count(conn, cursor, statement, *args):
            seen.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        try:
            reply = slack.ask("U0LEE", typed)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen), reply

    small, _ = statements("class 9A/En1")
    with slack.sessions.begin() as session:
        group = session.scalar(select(TeachingGroup).where(TeachingGroup.code == "9A/En1"))
        for n in range(40):
            pupil = Pupil(
                school_id=slack.ids["school"],
                upn=f"A8201234{n + 700:05d}",
                first_name="Class",
                last_name=f"Pupil{n:02d}",
                date_of_birth=date(2012, 1, 1),
                year_group=9,
                sen_stage=SenStage.SEN_SUPPORT,
            )
            plan = Plan(
                school_id=slack.ids["school"],
                pupil=pupil,
                status=PlanStatus.ACTIVE,
                case_holder_id=slack.ids["priya"],
            )
            plan.voice = PlanVoice(how_to_support_me=f"Strategy for pupil {n}.")
            plan.adjustments = [
                PlanAdjustment(kind=AdjustmentKind.IN_CLASS, description=f"Seat {n} at the front"),
                PlanAdjustment(kind=AdjustmentKind.ACCESS_ARRANGEMENT, description="Reader"),
            ]
            session.add_all([pupil, plan, TeachingGroupPupil(group=group, pupil=pupil)])
    big, reply = statements("class 9A/En1")
    assert big == small, (small, big)
    assert big <= 12
    text = said(reply)
    assert "41 pupils with a SEN Support Plan" in text and "page 1 of 3" in text
    assert len(reply["blocks"]) <= 50
    assert {b["action_id"] for b in buttons_of(reply)} == {
        "ssp_passport",
        "ssp_page_next",
    }
    following = slack.click(
        "U0LEE",
        "ssp_page_next",
        next(b["value"] for b in buttons_of(reply) if "next" in b["action_id"]),
    )
    assert "page 2 of 3" in said(following)
    counted, _ = statements("class")
    assert counted <= 8


def test_the_app_home_shows_your_classes_and_opens_a_class_and_a_passport(slack):
    slack.sender.app_home_opened("U0LEE")
    slack.emulator.wait_for(lambda calls: "U0LEE" in slack.emulator.home_views)
    home = slack.emulator.home_views["U0LEE"]
    text = said(home)
    assert "Your classes (1)" in text and "1 of 2 pupils with a SEN Support Plan" in text
    show = next(b for b in buttons_of(home) if b["action_id"] == "ssp_class_show")
    assert audit_rows(slack, action="list", via="App Home")

    view = click(slack, "U0LEE", home, "ssp_class_show", show["value"])
    assert view["callback_id"] == "class_view"
    assert "Cara Lin" in said(view) and "Visual timetable on desk" in said(view)
    passport = click(slack, "U0LEE", view, "ssp_passport", str(slack.ids["cara"]))
    assert passport["callback_id"] == "passport"
    assert_passport(said(passport))
    assert len(slack.emulator.open_views()) == 2  # pushed over the class

    printable = click(slack, "U0LEE", passport, "ssp_passport_print", str(slack.ids["cara"]))
    url = download_links(printable)["pdf"]
    assert len(pdf_pages(slack.get(url).body)) == 1

    # A case holder who teaches no class sees no "Your classes".
    slack.sender.app_home_opened("U0SLT")
    slack.emulator.wait_for(lambda calls: "U0SLT" in slack.emulator.home_views)
    assert "Your classes" not in said(slack.emulator.home_views["U0SLT"])


def test_help_lists_passport_and_class(slack):
    text = said(slack.ask("U0LEE", "help"))
    assert "/ssp passport <UPN or name>" in text and "/ssp class <class code>" in text
