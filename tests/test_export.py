"""`/ssp export`: the plan as an HTML document, by a download link, checked by parsing what the
link gives (tests/test_export_links.py: the links themselves, and the PDF)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import event, select

from bot.access import Viewer
from bot.services.plan_document import load_plan_document
from models import (
    AgencyInvolvement,
    AgencyReport,
    AuditEvent,
    CircleMember,
    LinkedPlan,
    LinkedPlanKind,
    Plan,
    PlanOutcome,
    PlanPerson,
    PlanPersonRole,
    PlanProvision,
    PlanStatus,
    PlanTarget,
    PlanVoice,
    Pupil,
    PupilDisplay,
    Review,
    ReviewStatus,
    ReviewTargetResult,
    School,
    SharingConsent,
    StaffRole,
    TargetResult,
    TargetStatus,
    TimelineEntry,
    TimelineKind,
)
from tests.slack_harness import NOW, TODAY, buttons_of, download_links, text_of

SECTIONS = [
    ("personal-information", "Personal information"),
    ("one-page-profile", "My one-page profile"),
    ("circle-of-support", "My circle of support"),
    ("good-day-bad-day", "Good day, bad day"),
    ("my-journey", "My journey"),
    ("planning-to-meet-my-needs", "Planning to meet my needs"),
    ("my-outcomes", "My outcomes"),
    ("reviewing-my-outcomes", "Reviewing my outcomes"),
    ("record-of-my-review", "Record of my review"),
    ("recommendations", "Recommendations from my review"),
    ("people-who-helped", "People who helped to make my plan"),
    ("signatures-and-agreements", "Signatures and agreements"),
    ("timeline", "Timeline of meetings and communications"),
    ("acronyms", "Acronyms used in this plan"),
]
SCRIPT = "<script>alert(1)</script>"
# Staff-only notes in the fixture plan: each must be in the staff copy and not in the family's.
STAFF_ONLY = {
    "professional concerns": "Reported to the DSL after a worrying comment",
    "timeline note": "Staff-only note: Mum finds meetings at 3pm hard",
    "agency contact": "Dr Rowe, 01632 960123",
    "other information": "Older sibling also on the SEN register",
}


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def school_extras():
    return fill_avas_plan


def fill_avas_plan(session, ids: dict) -> dict:
    """Every One Planning section of Ava's plan (held by Priya), including staff-only notes."""
    plan = session.get(Plan, ids["ava_plan"])
    plan.pupil.other_information = STAFF_ONLY["other information"]
    plan.voice = PlanVoice(
        strengths_and_likes="Kind, funny and great at drawing dragons",
        important_to_me="My dog Biscuit & my Saturday art club",
        how_to_support_me="Give me time to think before I answer",
        good_day="I know what is happening and I sit with Jo",
        bad_day="Reading out loud in front of the class",
        better_days="A quiet start in the library",
        about_me=f"I like coding. {SCRIPT} is what I typed once!",
        aspirations="I want to design video games",
        family_hopes="That Ava feels confident about reading",
        family_concerns="Homework takes hours",
        professional_concerns=STAFF_ONLY["professional concerns"],
    )
    plan.circle_of_support = [
        CircleMember(name="Mum", relationship_to_cyp="My mum", ring=1, position=0),
        CircleMember(name="Jo", relationship_to_cyp="My best friend", ring=2, position=1),
    ]
    outcome = PlanOutcome(description="Ava reads a chapter book on her own", timescale="July 2027")
    plan.outcomes = [outcome]
    reading = PlanTarget(
        description="Read a page of a Year 5 book aloud to her ELSA with 95% accuracy",
        outcome=outcome,
        measure="Running record",
        baseline="80% accuracy in September",
        success_criteria="95% on three running records in a row",
        start_date=TODAY - timedelta(days=60),
        end_date=date(2026, 12, 3),
        cycle_number=2,
        position=1,
    )
    spelling = PlanTarget(
        description="Spell 10 taught words correctly in a dictation",
        status=TargetStatus.ACHIEVED,
        cycle_number=1,
        position=2,
    )
    plan.targets = [*plan.targets, reading, spelling]
    plan.provisions = [
        *plan.provisions,
        PlanProvision(
            what="ELSA sessions",
            who="Mrs Khan",
            how="One to one, using XQZT cards",
            how_often="Weekly",
            how_long="30 minutes",
            start_date=date(2026, 9, 14),
            end_date=date(2026, 12, 18),
            target=reading,
        ),
    ]
    agency = AgencyInvolvement(
        agency="Educational psychology service",
        contact=STAFF_ONLY["agency contact"],
        involvement="Assessed reading and memory",
        started_on=date(2026, 6, 1),
    )
    plan.agencies = [agency]
    plan.reports = [
        AgencyReport(
            title="Educational psychology report",
            author="Dr Rowe",
            report_date=date(2026, 7, 10),
            recommendations="Pre-teach key vocabulary",
        )
    ]
    plan.linked_plans = [
        LinkedPlan(kind=LinkedPlanKind.HEALTH_CARE, description="Asthma care plan")
    ]
    plan.people = [
        PlanPerson(role=PlanPersonRole.DELIVERS, name="Mrs Khan", relationship_to_cyp="ELSA"),
        PlanPerson(role=PlanPersonRole.CONTRIBUTED, name="Dr Rowe", relationship_to_cyp="EP"),
        PlanPerson(role=PlanPersonRole.SENT_TO, name="Ms Stone", relationship_to_cyp="Mum"),
    ]
    plan.consents = [
        SharingConsent(
            given_by="Ms Stone",
            relationship_to_cyp="Mum",
            scope="The plan may be shared with Ava's teachers and the EP",
            storage_notes="Kept in the school's SEN records",
            given_on=date(2026, 9, 20),
        )
    ]
    plan.timeline = [
        TimelineEntry(
            occurred_at=datetime(2026, 9, 20, 15, 0, tzinfo=UTC),
            kind=TimelineKind.MEETING,
            summary="Planning meeting with Ava and Mum",
            author_id=ids["slt"],
        ),
        TimelineEntry(
            occurred_at=datetime(2026, 10, 2, 9, 0, tzinfo=UTC),
            kind=TimelineKind.NOTE,
            summary=STAFF_ONLY["timeline note"],
        ),
    ]
    session.flush()
    review = Review(
        plan=plan,
        cycle_number=1,
        status=ReviewStatus.SUBMITTED,
        meeting_date=date(2026, 9, 18),
        what_is_working="Spelling practice at home",
        what_is_not_working="Reading aloud in class",
        what_needs_to_change="Reading aloud one to one first",
        next_steps="Start ELSA sessions",
        recommendations="Keep the spelling routine going",
        cyp_views="I like the spelling games",
        family_views="We can see progress",
        attendees="Ava, Ms Stone, Priya Shah",
    )
    review.target_results = [
        ReviewTargetResult(
            target=spelling, result=TargetResult.ACHIEVED, evidence="10 out of 10 twice"
        )
    ]
    session.add(review)
    session.add(
        Review(plan=plan, cycle_number=2, status=ReviewStatus.DRAFT, what_is_working="DRAFT-ONLY")
    )
    session.flush()
    return {"review": review.id}


# --- reading the uploaded document --------------------------------------------------------------

VOID = {"meta", "br", "hr", "img", "input", "link", "col", "wbr", "area", "base", "source"}


@dataclass
class Element:
    tag: str
    attrs: dict
    text: str = ""


class Document(HTMLParser):
    """The parts of an HTML document the tests look at, and whether its tags balance."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.open: list[Element] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        for element in self.open:
            element.text += " "  # a new element starts a new word
        element = Element(tag, dict(attrs))
        self.elements.append(element)
        if tag not in VOID:
            self.open.append(element)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1].tag != tag:
            self.problems.append(f"</{tag}> closes {self.open[-1].tag if self.open else None}")
            return
        self.open.pop()

    def handle_data(self, data: str) -> None:
        for element in self.open:
            element.text += data

    def all(self, tag: str, **attrs) -> list[Element]:
        return [
            e
            for e in self.elements
            if e.tag == tag and all(e.attrs.get(k.rstrip("_")) == v for k, v in attrs.items())
        ]

    def section(self, section_id: str) -> str:
        (found,) = self.all("section", id=section_id)
        return " ".join(found.text.split())

    @property
    def text(self) -> str:
        (body,) = self.all("body")
        return " ".join(body.text.split())

    def acronyms(self) -> dict[str, str]:
        """Each <dt> in the acronyms box with the text of the <dd> after it."""
        (box,) = self.all("dl", class_="acronyms")
        start = self.elements.index(box)
        found, term = {}, None
        for element in self.elements[start + 1 :]:
            if element.tag == "dt":
                term = element.text.strip()
            elif element.tag == "dd" and term:
                found[term] = " ".join(element.text.split())
                term = None
            elif element.tag == "section":
                break
        return found


def parse(html: bytes) -> Document:
    document = Document()
    document.feed(html.decode("utf-8"))
    document.close()
    return document


def said(message: dict) -> str:
    """What the person reads, on one line (text_of wraps long lines)."""
    return " ".join(text_of(message).split())


def fetch(slack, user: str, typed: str) -> bytes:
    """`/ssp TYPED` as this user; the HTML document through the link it gave (tests/
    test_export_links.py checks the links themselves, and the PDF)."""
    fetched = slack.export(user, typed.removeprefix("export "), "html")
    assert fetched.status == 200, fetched
    return fetched.body


def fetched_name(slack, user: str, typed: str) -> str:
    """The file name the HTML document downloads as."""
    fetched = slack.export(user, typed.removeprefix("export "), "html")
    assert fetched.status == 200, fetched
    return fetched.headers["Content-Disposition"].split('filename="')[1].rstrip('"')


def audit_rows(sessions, action="export") -> list[AuditEvent]:
    with sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# --- the document -------------------------------------------------------------------------------


def test_the_sendco_gets_the_staff_copy_by_link_with_every_section_in_order(slack):
    reply = slack.ask("U0SENDCO", "export Ava Stone")
    answer = said(reply)
    assert "Ava Stone's plan (staff copy, with staff-only notes) is ready" in answer
    assert "Only you can see this message" in answer
    assert reply["response_type"] == "ephemeral"
    # Nothing is left in Slack: no file, no DM (tests/test_export_links.py has the rest).
    assert slack.emulator.files == [] and slack.emulator.calls_to("conversations.open") == []

    fetched = slack.get(download_links(reply)["html"])
    assert fetched.headers["Content-Disposition"] == (
        f'attachment; filename="SSP-AS-ref{slack.ids["ava_plan"]}-2026-11-23.html"'
    )
    html = fetched.body
    assert html.startswith(b"<!DOCTYPE html>")
    doc = parse(html)
    assert doc.problems == [] and [e.tag for e in doc.open] == []
    assert doc.all("html")[0].attrs["lang"] == "en-GB"
    assert "Ava Stone" in doc.all("title")[0].text
    (h1,) = doc.all("h1")
    assert "Ava Stone" in h1.text and "SEN Support Plan" in h1.text
    assert [s.attrs["id"] for s in doc.all("section")] == [sid for sid, _ in SECTIONS]
    assert [" ".join(h.text.split()) for h in doc.all("h2")] == [h for _, h in SECTIONS]
    assert "Staff copy — contains staff-only notes" in doc.text
    # Self-contained: styles inline, nothing fetched, nothing run.
    assert doc.all("style") and not doc.all("link") and not doc.all("img")
    assert "@page" in doc.all("style")[0].text and "A4" in doc.all("style")[0].text
    assert "@media print" in doc.all("style")[0].text


def test_every_section_shows_the_plan_in_plain_words_and_uk_dates(slack):
    doc = parse(fetch(slack, "U0SLT", "export Ava Stone"))

    personal = doc.section("personal-information")
    for expected in (
        "Brookside High",
        "4 March 2012",
        "Year 9 (taught in this year group)",
        "9A",
        "SEN Support",
        "Plan 2",
        "24 September 2026",  # started
        "14 November 2026",  # next review
        "Priya Shah",
        "Health care plan: Asthma care plan",
    ):
        assert expected in personal, expected
    assert "(EAL) Yes" in personal and "Pupil premium No" in personal
    assert "Kind, funny and great at drawing dragons" in doc.section("one-page-profile")
    assert "My dog Biscuit & my Saturday art club" in doc.section("one-page-profile")
    assert "Mum My mum 1" in doc.section("circle-of-support")
    assert "Reading out loud in front of the class" in doc.section("good-day-bad-day")
    assert "I want to design video games" in doc.section("my-journey")

    planning = doc.section("planning-to-meet-my-needs")
    assert "Homework takes hours" in planning and "Slow reading speed" in planning
    assert "Pre-teach key vocabulary" in planning and "Assessed reading and memory" in planning
    provision_heads = [" ".join(th.text.split()) for th in doc.all("th", scope="col")]
    for column in ("What", "Who", "How", "How often", "How long", "Dates", "Linked target"):
        assert column in provision_heads, column
    elsa_row = next(tr for tr in doc.all("tr") if "ELSA sessions" in tr.text)
    assert "Weekly" in elsa_row.text and "14 September 2026 to 18 December 2026" in elsa_row.text
    assert "Read a page of a Year 5 book" in elsa_row.text  # the linked target

    outcomes = doc.section("my-outcomes")
    assert "Ava reads a chapter book on her own" in outcomes and "July 2027" in outcomes
    for column in ("How it is measured", "Starting point", "Success looks like", "Progress"):
        assert column in provision_heads, column
    target_row = next(tr for tr in doc.all("tr") if "Running record" in tr.text)
    assert "80% accuracy in September" in target_row.text
    assert "95% on three running records" in target_row.text
    assert "3 December 2026" in target_row.text
    assert "In progress" in target_row.text

    reviewing = doc.section("reviewing-my-outcomes")
    assert "held on 18 September 2026" in reviewing
    assert "Spell 10 taught words" in reviewing and "Achieved" in reviewing
    assert "10 out of 10 twice" in reviewing
    record = doc.section("record-of-my-review")
    for expected in ("Spelling practice at home", "Reading aloud in class", "We can see progress"):
        assert expected in record
    assert "DRAFT-ONLY" not in doc.text  # a draft review is not a record yet
    assert "Keep the spelling routine going" in doc.section("recommendations")
    people = doc.section("people-who-helped")
    assert "Mrs Khan (ELSA)" in people and "Dr Rowe (EP)" in people and "Ms Stone (Mum)" in people
    signatures = doc.section("signatures-and-agreements")
    assert "shared with Ava's teachers" in signatures and "20 September 2026" in signatures
    meeting = next(tr for tr in doc.all("tr") if "Planning meeting" in tr.text)
    assert "20 September 2026" in meeting.text and "Meeting" in meeting.text
    assert "Dana Fox" in meeting.text
    assert len(doc.all("th", scope="row")) > 20  # row headers make tables readable aloud


def test_plan_text_is_escaped_and_never_runs(slack):
    html = fetch(slack, "U0SENDCO", "export Ava Stone")
    doc = parse(html)
    assert doc.all("script") == []
    assert SCRIPT in doc.section("my-journey")  # shown as text
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert b"Biscuit &amp; my" in html


def test_the_acronyms_box_explains_each_acronym_from_the_glossary(slack):
    acronyms = parse(fetch(slack, "U0SENDCO", "export Ava Stone")).acronyms()
    assert acronyms["ELSA"].startswith("Emotional Literacy Support Assistant")
    assert acronyms["EP"] == "Educational psychologist."
    assert acronyms["SEN"] == "Special educational needs."
    assert acronyms["SpLD"].startswith("Specific learning difficulty")
    assert "not yet in the school's glossary" in acronyms["XQZT"].lower()
    assert "DSL" in acronyms  # only in the professional concerns: a staff copy explains it
    assert list(acronyms) == sorted(acronyms, key=str.casefold)  # looked up like a glossary


def exported(slack, user: str, typed: str, copy: str) -> tuple[str, Document]:
    """Asks for Ava's plan; checks it came by a link, named for its copy; returns what the
    asker was told and the document."""
    reply = slack.ask(user, f"export {typed}")
    fetched = slack.get(download_links(reply)["html"])
    assert fetched.headers["Content-Disposition"].endswith(f'-2026-11-23-{copy}.html"')
    doc = parse(fetched.body)
    assert doc.problems == [] and [e.tag for e in doc.open] == []
    return said(reply), doc


def test_the_family_copy_leaves_out_staff_only_notes(slack):
    answer, doc = exported(slack, "U0PRIYA", "Ava Stone --for family", "family")
    assert "Ava Stone's plan (family copy) is ready" in answer
    assert "Family copy" in doc.text and "Staff copy" not in doc.text
    assert "Staff only" not in doc.text
    for name, note in STAFF_ONLY.items():
        assert note not in doc.text, name
    assert "Professionals' concerns" not in doc.text
    assert "Planning meeting with Ava and Mum" in doc.section("timeline")
    assert "Educational psychology service" in doc.section("planning-to-meet-my-needs")
    # An acronym used only in a staff-only note is not listed either: it would hint at the note.
    assert "DSL" not in doc.acronyms() and "ELSA" in doc.acronyms()
    assert [s.attrs["id"] for s in doc.all("section")] == [sid for sid, _ in SECTIONS]

    staff = parse(fetch(slack, "U0PRIYA", "export Ava Stone"))
    for name, note in STAFF_ONLY.items():
        assert note in staff.text, name


@pytest.mark.parametrize("typed", ["--family Ava Stone", "Ava —for family", "Ava --FOR Family"])
def test_other_ways_of_asking_for_the_family_copy(slack, typed):
    assert fetched_name(slack, "U0SENDCO", f"export {typed}").endswith("-family.html")


def test_each_export_is_audited_with_its_audience_and_recipient(slack):
    fetch(slack, "U0SENDCO", "export Ava Stone --for family")
    fetch(slack, "U0SLT", "export A820123456001")
    made = audit_rows(slack.sessions, action="export_link")
    assert [(r.actor_staff_id, r.via) for r in made] == [
        (slack.ids["sendco"], "/ssp export"),
        (slack.ids["slt"], "/ssp export"),
    ]
    rows = audit_rows(slack.sessions)
    assert [(r.actor_staff_id, r.detail) for r in rows] == [
        (
            slack.ids["sendco"],
            f"family copy sent to staff {slack.ids['sendco']} as HTML by download link (1 of 3)",
        ),
        (
            slack.ids["slt"],
            f"staff copy sent to staff {slack.ids['slt']} as HTML by download link (1 of 3)",
        ),
    ]
    assert all(r.via == "download link" for r in rows)  # audited when the plan left, not before
    assert {(r.plan_id, r.pupil_id) for r in rows + made} == {
        (slack.ids["ava_plan"], slack.ids["ava"])
    }
    assert all("Ava" not in r.detail for r in rows + made)


def test_an_empty_plan_says_so_kindly_in_every_section(slack):
    doc = parse(fetch(slack, "U0SENDCO", "export Ben Stone"))
    assert [s.attrs["id"] for s in doc.all("section")] == [sid for sid, _ in SECTIONS]
    for section_id, _ in SECTIONS[1:-1]:
        assert "Nothing recorded yet." in doc.section(section_id), section_id
    assert "Education, Health and Care plan (EHCP)" in doc.section("personal-information")
    assert doc.acronyms()["EHCP"].startswith("Education, Health and Care Plan")


def test_a_school_that_names_pupils_by_initials_gets_initials_in_the_file_name(slack):
    with slack.sessions.begin() as session:
        session.get(School, slack.ids["school"]).pupil_display = PupilDisplay.INITIALS
    fetched = slack.export("U0SENDCO", "Ava Stone")
    assert "Ava" not in fetched.headers["Content-Disposition"]
    assert b"Ava Stone" in fetched.body  # the document itself is the whole plan


# --- refusals -----------------------------------------------------------------------------------

NOT_FOUND = "couldn't find a pupil"


@pytest.mark.parametrize(
    ("user", "typed", "expected"),
    [
        # Lee teaches Cara: he knows she exists, so he is told why, politely.
        ("U0LEE", "export Cara Lin", "Only the SENDCo, senior leaders and the plan's case holder"),
        ("U0LEE", "export Ava Stone", NOT_FOUND),  # not his pupil: looks like nobody
        ("U0TA", "export Cara Lin", NOT_FOUND),  # supports nobody yet: sees no pupil
        ("U0PRIYA", "export Cara Lin", NOT_FOUND),  # Tom holds Cara's plan
        ("U0TOM", "export Ava Stone --for family", NOT_FOUND),
        ("U0SENDCO", "export Zed Other", NOT_FOUND),  # another school's pupil
        ("U0STRANGER", "export Ava Stone", "can't find you on your school's staff list"),
    ],
)
def test_people_who_may_not_export_the_plan_are_refused(slack, user, typed, expected):
    assert expected in said(slack.ask(user, typed))
    assert slack.emulator.files == [] and slack.emulator.calls_to("conversations.open") == []
    assert audit_rows(slack.sessions, action="export") == []


def test_not_allowed_reads_the_same_as_not_found(slack):
    not_taught = said(slack.ask("U0LEE", "export Ava Stone"))
    nobody = said(slack.ask("U0LEE", "export Nobody Atall"))
    assert not_taught.replace("Ava Stone", "X") == nobody.replace("Nobody Atall", "X")


def test_someone_from_another_workspace_is_refused(slack):
    message = slack.ask("U0SENDCO", "export Ava Stone", team_id="T0UNKNOWN")
    assert "isn't set up for this Slack workspace" in message["text"]
    other = slack.ask("U0OTHER", "export Ava Stone", team_id="T0OTHERSCH")
    assert NOT_FOUND in said(other)
    assert slack.emulator.files == [] and audit_rows(slack.sessions) == []


def test_a_pupil_without_a_plan_gets_a_clear_answer(slack):
    answer = said(slack.ask("U0SENDCO", "export Dev Patel"))
    assert "Dev Patel has no SEN Support Plan to export yet." in answer
    assert slack.emulator.files == [] and audit_rows(slack.sessions) == []


def test_several_matches_are_listed_and_nothing_is_sent(slack):
    answer = said(slack.ask("U0SENDCO", "export stone"))
    assert "Several pupils match" in answer and "Ava Stone" in answer and "Ben Stone" in answer
    assert "UPN" in answer
    assert slack.emulator.files == [] and audit_rows(slack.sessions) == []


@pytest.mark.parametrize(
    "typed", ["export --for family", "export Ava --for staff", "export Ava --bogus"]
)
def test_unknown_options_get_the_usage(slack, typed):
    answer = said(slack.ask("U0SENDCO", typed))
    assert "/ssp export <UPN or name>" in answer and "--for family" in answer
    assert slack.emulator.files == []


# --- the service --------------------------------------------------------------------------------


def test_the_plan_loads_in_a_fixed_number_of_queries(slack, engine):
    viewer = Viewer(
        school_id=slack.ids["school"],
        staff_id=slack.ids["sendco"],
        name="Morgan Reed",
        roles=frozenset({StaffRole.SENDCO}),
    )

    def queries() -> int:
        statements = []

        def count(*args, **kwargs):
            statements.append(args[2])

        event.listen(engine, "before_cursor_execute", count)
        try:
            with slack.sessions() as session:
                document = load_plan_document(
                    session,
                    viewer,
                    slack.ids["ava"],
                    audience="family",
                    recipient_staff_id=viewer.staff_id,
                    via="test",
                    now=NOW,
                    today=TODAY,
                )
                from bot.document import render_html

                render_html("plan_document.html.j2", doc=document)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    before = queries()
    with slack.sessions.begin() as session:
        plan = session.get(Plan, slack.ids["ava_plan"])
        for n in range(5):
            target = PlanTarget(description=f"Extra target {n}", cycle_number=2)
            plan.targets.append(target)
            plan.provisions.append(PlanProvision(what=f"Extra provision {n}", target=target))
            plan.timeline.append(
                TimelineEntry(
                    occurred_at=NOW,
                    kind=TimelineKind.EMAIL,
                    summary=f"Email {n}",
                    author_id=slack.ids["priya"] if n % 2 else slack.ids["slt"],
                )
            )
            plan.circle_of_support.append(CircleMember(name=f"Friend {n}", ring=2))
        session.flush()
        review = session.scalar(select(Review).where(Review.id == slack.ids["review"]))
        review.target_results.extend(
            ReviewTargetResult(target=t, result=TargetResult.PARTLY) for t in plan.targets[-5:]
        )
    assert queries() == before
    assert before <= 26  # 25, and one for the family's latest agreement


def test_a_pupil_who_has_left_is_not_found(slack):
    with slack.sessions.begin() as session:
        session.get(Pupil, slack.ids["ava"]).is_active = False
    assert NOT_FOUND in said(slack.ask("U0SENDCO", "export Ava Stone"))
    assert slack.emulator.files == []


# --- what the family is given ---------------------------------------------------------------------

# Staff workflow written in Slack the way it happens: none of it is meant for the family.
WORKFLOW = {
    "QA return comment": "Targets too vague for XQZQ moderation, rewrite them",
    "delegation reason": "Tom taught her brother and knows the family situation",
    "decline reason": "I am on long-term sick leave from January",
}


def declines(slack, user: str, reason: str) -> None:
    """The case holder answers the assignment DM with "I can't take this" and a reason."""
    slack.emulator.wait_for(lambda calls: slack.emulator.messages_to(user))
    (message,) = slack.emulator.messages_to(user)
    button = next(b for b in buttons_of(message) if b["action_id"] == "ssp_assignment_decline")
    opened = len(slack.emulator.calls_to("views.open"))
    slack.sender.button(user, "ssp_assignment_decline", button["value"])
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    modal = slack.emulator.open_views()[-1]
    slack.sender.submit(user, modal, {"reason": {"type": "plain_text_input", "value": reason}})


def test_staff_workflow_written_in_slack_never_reaches_the_family_copy(slack):
    from tests.test_qa import decide, open_review

    with slack.sessions.begin() as session:
        session.get(Plan, slack.ids["ava_plan"]).status = PlanStatus.AWAITING_QA
    decide(slack, open_review(slack), "return", WORKFLOW["QA return comment"])
    slack.ask("U0SENDCO", f"assign Ava Stone <@U0TOM|tom> {WORKFLOW['delegation reason']}")
    declines(slack, "U0TOM", WORKFLOW["decline reason"])

    staff = parse(fetch(slack, "U0SENDCO", "export Ava Stone"))
    for name, words in WORKFLOW.items():
        assert words in staff.section("timeline"), name  # written, and kept for staff

    family = parse(fetch(slack, "U0SENDCO", "export Ava Stone --for family"))
    assert "Family copy" in family.text
    for name, words in WORKFLOW.items():
        assert words not in family.text, name
    for workflow in ("returned by the SENDCo", "reassigned to", "couldn't take the plan"):
        assert workflow not in family.text, workflow
    assert "XQZQ" not in family.acronyms()  # an acronym only in a QA comment would hint at it
    assert "Planning meeting with Ava and Mum" in family.section("timeline")


def test_the_family_copy_holds_their_meetings_communications_reviews_and_what_was_shared(slack):
    def entry(day: int, kind: TimelineKind, summary: str, **shared) -> TimelineEntry:
        at = datetime(2026, 10, day, 12, 0, tzinfo=UTC)
        return TimelineEntry(occurred_at=at, kind=kind, summary=summary, **shared)

    with slack.sessions.begin() as session:
        plan = session.get(Plan, slack.ids["ava_plan"])
        plan.timeline.extend(
            [
                entry(5, TimelineKind.PHONE_CALL, "Phoned Mum about the new timetable"),
                entry(6, TimelineKind.EMAIL, "Emailed Mum the reading list"),
                entry(7, TimelineKind.LETTER, "Letter home about the review meeting"),
                entry(8, TimelineKind.REVIEW, "Review of plan 1 submitted"),
                entry(9, TimelineKind.PLAN_CHANGE, "changed the targets"),
                entry(10, TimelineKind.ASSIGNMENT, "assigned to Priya Shah: caseload balance"),
                entry(
                    11,
                    TimelineKind.NOTE,
                    "Ava chose her own reading book and is proud of it",
                    shared_with_family=True,
                ),
            ]
        )

    timeline = parse(fetch(slack, "U0PRIYA", "export Ava Stone --for family")).section("timeline")
    for shown in (
        "Planning meeting with Ava and Mum",
        "Phoned Mum about the new timetable",
        "Emailed Mum the reading list",
        "Letter home about the review meeting",
        "Review of plan 1 submitted",
        "Ava chose her own reading book",  # a staff note someone chose to share
    ):
        assert shown in timeline, shown
    for hidden in ("changed the targets", "caseload balance", STAFF_ONLY["timeline note"]):
        assert hidden not in timeline, hidden

    staff = parse(fetch(slack, "U0PRIYA", "export Ava Stone"))
    tagged = [tr.text for tr in staff.all("tr") if "Staff only" in tr.text]
    assert any("changed the targets" in row for row in tagged)
    assert any("caseload balance" in row for row in tagged)
    assert not any("reading book" in row or "Phoned Mum" in row for row in tagged)


# --- what leaves the school ---------------------------------------------------------------------

REFUSED = "export_refused"


def record_consent(slack, **changes) -> None:
    """Changes Ava's one recorded consent (Ms Stone's, given on 20 September 2026)."""
    with slack.sessions.begin() as session:
        (consent,) = session.get(Plan, slack.ids["ava_plan"]).consents
        for name, value in changes.items():
            setattr(consent, name, value)


def test_a_copy_for_professionals_outside_the_school_follows_the_recorded_consent(slack):
    # Ms Stone agreed to sharing "with Ava's teachers and the EP" without ticking outside
    # professionals: the consent recorded does not cover them.
    answer = said(slack.ask("U0SENDCO", "export Ava Stone --for agency"))
    assert "doesn't cover professionals outside the school" in answer
    assert "Sharing consent" in answer  # where to record it if the family agrees
    assert slack.emulator.files == [] and audit_rows(slack.sessions) == []
    (refusal,) = audit_rows(slack.sessions, action=REFUSED)
    assert (refusal.actor_staff_id, refusal.via, refusal.plan_id) == (
        slack.ids["sendco"],
        "/ssp export",
        slack.ids["ava_plan"],
    )
    assert refusal.detail == "agency copy refused: consent does not cover sharing outside"
    assert "Ava" not in refusal.detail

    record_consent(slack, outside_school=True)
    answer, doc = exported(slack, "U0PRIYA", "Ava Stone --for agency", "agency")
    assert "(copy for professionals outside the school) is ready" in answer
    assert "Copy for professionals outside the school" in doc.text
    assert "Staff copy" not in doc.text and "Staff only" not in doc.text
    for name, note in STAFF_ONLY.items():
        assert note not in doc.text, name
    consents = doc.section("signatures-and-agreements")
    assert "Professionals outside the school may be sent this plan" in consents
    (sent,) = audit_rows(slack.sessions)
    assert (
        sent.detail
        == f"agency copy sent to staff {slack.ids['priya']} as HTML by download link (1 of 3)"
    )


def test_without_any_recorded_consent_nothing_goes_outside_the_school(slack):
    with slack.sessions.begin() as session:
        session.get(Plan, slack.ids["ava_plan"]).consents = []
    answer = said(slack.ask("U0SENDCO", "export Ava Stone --for agency"))
    assert "No sharing consent is recorded for Ava Stone's plan" in answer
    assert slack.emulator.files == []
    (refusal,) = audit_rows(slack.sessions, action=REFUSED)
    assert refusal.detail == "agency copy refused: no sharing consent recorded"
    # The family's own copy is theirs: it needs no consent to share.
    assert fetched_name(slack, "U0SENDCO", "export Ava Stone --for family").endswith("-family.html")


def test_a_withdrawn_consent_stops_outside_copies_and_shows_on_the_plan(slack):
    record_consent(slack, outside_school=True, withdrawn_on=date(2026, 11, 2))
    answer = said(slack.ask("U0SENDCO", "export Ava Stone --for agency"))
    assert "Ms Stone withdrew consent to share Ava Stone's plan on 2 November 2026" in answer
    assert "can't make a copy for anyone outside the school" in answer
    assert slack.emulator.files == [] and audit_rows(slack.sessions) == []
    (refusal,) = audit_rows(slack.sessions, action=REFUSED)
    assert refusal.detail == "agency copy refused: sharing consent withdrawn"

    # The plan shows the withdrawal, in the staff copy and in the family's.
    for typed in ("export Ava Stone", "export Ava Stone --for family"):
        doc = parse(fetch(slack, "U0SENDCO", typed))
        assert doc.problems == [] and [e.tag for e in doc.open] == []
        (header,) = doc.all("header")
        banner = " ".join(header.text.split())
        assert "Consent to share this plan was withdrawn on 2 November 2026 (Ms Stone)" in banner
        assert "not be sent to anyone outside the school" in banner
        assert "withdrawn 2 November 2026" in doc.section("signatures-and-agreements")
    assert len(audit_rows(slack.sessions)) == 2


def test_consent_given_again_after_a_withdrawal_lets_outside_copies_go_again(slack):
    record_consent(slack, outside_school=True, withdrawn_on=date(2026, 11, 2))
    with slack.sessions.begin() as session:
        plan = session.get(Plan, slack.ids["ava_plan"])
        plan.consents.append(
            SharingConsent(
                given_by="Ms Stone",
                relationship_to_cyp="Mum",
                scope="The EP may have the plan again",
                given_on=date(2026, 11, 20),
                outside_school=True,
            )
        )
    doc = parse(fetch(slack, "U0SENDCO", "export Ava Stone --for agency"))
    assert "Consent to share this plan was withdrawn" not in " ".join(
        doc.all("header")[0].text.split()
    )
    assert audit_rows(slack.sessions, action=REFUSED) == []


def test_the_sendco_records_consent_for_outside_professionals_in_the_plan_editor(slack):
    from tests.test_plan_editor import click, open_plan, submit

    overview = open_plan(slack, "U0SENDCO", "plan Ava Stone")
    entries = click(slack, "U0SENDCO", overview, "plan_open_section", "consent")
    form = click(slack, "U0SENDCO", entries, "plan_add_item", "consent")
    answer = submit(
        slack,
        "U0SENDCO",
        form,
        given_by="Ava Stone",
        relationship_to_cyp="The pupil",
        given_on="2026-11-23",
        outside_school=True,
        **{"scope--0": "My plan can go to the EP and the speech therapist"},
    )
    assert answer is None or answer["response_action"] == "update"
    assert fetched_name(slack, "U0SENDCO", "export Ava Stone --for agency").endswith("-agency.html")


@pytest.mark.parametrize("typed", ["Ava Stone --for agency", "--for=agency Ava", "Ava —agency"])
def test_ways_of_asking_for_the_outside_copy(slack, typed):
    record_consent(slack, outside_school=True)
    assert fetched_name(slack, "U0SENDCO", f"export {typed}").endswith("-agency.html")
