"""The family's agreement to the plan (issue 17), driven as people would: the case holder in
Slack (signed requests, the emulator), the family in their browser (plain HTTP here;
tests/test_family_agreement_browser.py drives Chromium).

Brookside High (tests/slack_harness.py), with every section of Ava Stone's plan filled in and its
staff-only notes (tests/test_export.py fill_avas_plan). Priya Shah holds Ava's plan; Ava was born
on 4 March 2012; the clock says Monday 23 November 2026. PUBLIC_URL is the app's own address.
"""

from __future__ import annotations

import io
import json
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from handlers.web import family as web_family
from models import (
    AgreementDecision,
    AuditEvent,
    Invitation,
    Plan,
    PlanAgreement,
    SharingConsent,
)
from tests.family_harness import Family, ask_form, latest_dm, make_link, start_public_app
from tests.slack_harness import build_school, buttons_of, text_of
from tests.test_export import SCRIPT, STAFF_ONLY, fill_avas_plan
from tests.test_family_meeting import choose
from tests.test_plan_editor import click, modal_text, open_plan, submit

NOT_AVAILABLE = "This link does not work"
AGREED = "Agreed by Mrs Stone (mother) on 23 November 2026."
EARLIER = (
    "Agreed by Mrs Stone (mother) on 23 November 2026 to an earlier version; the plan has "
    "changed since."
)
AGENCY = "Educational psychology service"


@pytest.fixture
def slack(emulator, sessions, clock):
    from handlers.scheduler import wait_for_deliveries

    emulator.reset()
    with sessions.begin() as session:
        ids = build_school(session, emulator)
        ids.update(fill_avas_plan(session, ids))
    running = start_public_app(emulator, sessions, clock)
    running.ids = ids
    yield running
    running.server.stop()
    wait_for_deliveries()


@pytest.fixture(autouse=True)
def fresh_limits(monkeypatch):
    monkeypatch.setattr(web_family, "PER_LINK", web_family.RateLimit(60, 600))
    monkeypatch.setattr(web_family, "PER_ADDRESS", web_family.RateLimit(120, 600))


def agreement_link(slack, user: str = "U0PRIYA") -> str:
    """An "agreement" link made from Ava's plan in Slack, as the modal shows it."""
    form = choose(slack, user, ask_form(slack, user), "agreement")
    made = submit(slack, user, form)
    (block,) = [b for b in made["view"]["blocks"] if b.get("block_id") == "link"]
    return block["text"]["text"]


def confirmed(slack) -> Family:
    family = Family(agreement_link(slack))
    page = family.birth_date("4", "3", "2012")
    assert page.status_code == 200 and page.url.endswith("/agreement"), page.url
    return family


def agency_value(page_html: str) -> str:
    return re.search(r'name="agencies" value="(\d+)"', page_html).group(1)


def version_shown(page_html: str) -> str:
    return re.search(r'name="version" value="(\d+)"', page_html).group(1)


def agree(family: Family, **changes) -> object:
    page = family.open("/agreement")
    answer = {
        "version": version_shown(page.text),
        "decision": "agreed",
        "name": "Mrs Stone",
        "relationship": "mother",
        "day": "23",
        "month": "11",
        "year": "2026",
        "sharing": "named_agencies",
        "agencies": agency_value(page.text),
        "other_agencies": "Dr Patel, the family's GP",
    }
    answer.update(changes)
    return family.post("/agreement", {k: v for k, v in answer.items() if v is not None})


def pdf_text(body: bytes) -> str:
    reader = PdfReader(io.BytesIO(body))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def read_it(slack, user: str, dm: dict, **kwargs) -> None:
    read = next(b for b in buttons_of(dm) if b["action_id"] == "ssp_agreement_read")
    assert slack.sender.button(user, read["action_id"], read["value"], **kwargs).status == 200


def plan_version(slack) -> int:
    with slack.sessions() as session:
        return session.scalar(select(Plan.version).where(Plan.id == slack.ids["ava_plan"]))


def test_a_family_agrees_with_consent_and_downloads_the_plan_they_agreed_to(slack):
    version_before = plan_version(slack)
    family = confirmed(slack)
    page = family.open("/agreement")
    assert page.status_code == 200
    text = page.text
    assert "Ava Stone: SEN Support Plan" in text and "Family copy" in text
    assert "Kind, funny and great at drawing dragons" in text
    for staff_only in STAFF_ONLY.values():
        assert staff_only not in text
    assert SCRIPT not in text and "&lt;script&gt;" in text  # typed text is shown, never run
    assert "Do you agree with this plan?" in text and AGENCY in text
    assert "Download the plan" not in text  # nothing agreed yet
    assert family.open("/plan.pdf").status_code == 404

    sent = agree(family)
    assert sent.status_code == 200 and sent.url.endswith("/agreement/sent")
    assert "Thank you: your answer was sent" in sent.text
    assert "Download the plan (PDF)" in sent.text

    with slack.sessions() as session:
        (agreement,) = session.scalars(select(PlanAgreement)).all()
        assert agreement.decision == AgreementDecision.AGREED
        assert agreement.plan_version == version_before
        assert json.loads(agreement.agencies) == [AGENCY]
        assert "Kind, funny and great at drawing dragons" in agreement.family_copy
        assert not [s for s in STAFF_ONLY.values() if s in agreement.family_copy]
        consent = session.scalars(select(SharingConsent).order_by(SharingConsent.id.desc())).first()
        assert (consent.given_by, consent.relationship_to_cyp) == ("Mrs Stone", "mother")
        assert consent.outside_school is True
        assert AGENCY in consent.scope and "Dr Patel, the family's GP" in consent.scope
        (link,) = session.scalars(select(Invitation)).all()
        assert link.submissions == 1
        actions = [(a.action, a.detail) for a in session.scalars(select(AuditEvent))]
        assert any(a == "create" and d.startswith("sent agreement 1 (agreed") for a, d in actions)
        assert ("read", "read the family copy on the agreement page") in actions
    # Recording the agreement is not a change to the plan: it reads as agreed, not as stale.
    assert plan_version(slack) == version_before

    pdf = family.open("/plan.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.headers["Content-Disposition"].startswith("attachment; filename=")
    assert "Ava" not in pdf.headers["Content-Disposition"]
    assert pdf.headers["Cache-Control"] == "no-store"
    printed = pdf_text(pdf.content)
    assert "Ava Stone: SEN Support Plan" in printed and AGREED in printed
    assert not [s for s in STAFF_ONLY.values() if s in printed]
    with slack.sessions() as session:
        assert session.scalar(
            select(AuditEvent).where(AuditEvent.action == "export", AuditEvent.via == "family page")
        )

    # Back on the agreement page in the same session: the download is offered there too.
    assert "Download the plan (PDF)" in family.open("/agreement").text

    # The case holder's DM names the pupil and the ask; "Read it" shows the rest.
    dm = latest_dm(slack, "U0PRIYA", "agreed to")
    assert text_of(dm).startswith("The family agreed to Ava Stone's plan.")
    assert "Stone (mother)" not in text_of(dm) and AGENCY not in text_of(dm)
    opened = len(slack.emulator.calls_to("views.open"))
    read_it(slack, "U0PRIYA", dm, message=dm)
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    shown = " ".join(modal_text(slack.emulator.open_views("U0PRIYA")[-1]).split())
    assert "Mrs Stone (mother) answered about Ava Stone's plan, dated 23 November 2026" in shown
    assert "They agree with the plan." in shown
    assert AGENCY in shown and "the family's GP" in shown
    assert "The plan is still the version they read." in shown

    # Slack's plan overview says so, and after a change says it was an earlier version.
    overview = open_plan(slack, "U0PRIYA", "plan Ava Stone")
    assert AGREED in " ".join(modal_text(overview).split())
    form = click(slack, "U0PRIYA", overview, "plan_open_section", "voice")
    submit(slack, "U0PRIYA", form, **{"aspirations--0": "To run a games studio one day"})
    assert plan_version(slack) == version_before + 1
    overview = open_plan(slack, "U0PRIYA", "plan Ava Stone")
    assert EARLIER in " ".join(modal_text(overview).split())

    # The PDF is still the plan they agreed to, not the plan as it is now.
    again = pdf_text(family.open("/plan.pdf").content)
    assert "I want to design video games" in again and "games studio" not in again
    assert AGREED in again

    # The staff copy and a new family copy say the agreement was to an earlier version.
    reply = slack.ask("U0PRIYA", "export Ava Stone")
    from tests.slack_harness import download_links

    staff_copy = family.http.get(download_links(reply)["html"], timeout=10).text
    assert EARLIER in " ".join(staff_copy.split())


def test_the_download_works_until_the_link_expires_and_only_in_the_confirmed_session(slack, clock):
    from datetime import timedelta

    family = confirmed(slack)
    with slack.sessions.begin() as session:
        session.scalar(select(Invitation)).max_submissions = 1
    assert agree(family).status_code == 200
    # Its answers are used up: the link no longer opens for anyone, but the PDF still downloads
    # in the session that confirmed the date of birth, and the page shows no form.
    assert family.open("/plan.pdf").status_code == 200
    page = family.open("/agreement")
    assert "Download the plan (PDF)" in page.text and "Send my answer" not in page.text
    stranger = Family(family.link)
    for path in ("", "/agreement", "/plan.pdf"):
        refused = stranger.open(path)
        assert refused.status_code == 404 and NOT_AVAILABLE in refused.text
        assert "Ava" not in refused.text
    # A views link has no PDF, whatever its session.
    views = Family(make_link(slack))
    assert "Tell us your views" in views.birth_date("4", "3", "2012").text
    assert views.open("/plan.pdf").status_code == 404
    clock.now = clock.now + timedelta(days=15)
    expired = family.open("/plan.pdf")
    assert expired.status_code == 404 and NOT_AVAILABLE in expired.text
    with slack.sessions() as session:
        refusals = session.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == "refused")
        ).all()
        assert "plan PDF refused: date of birth not confirmed" in refusals


def test_a_disagreement_needs_what_they_disagree_with_and_is_not_a_consent(slack):
    family = confirmed(slack)
    consents_before = _consents(slack)
    missing = agree(family, decision="disagreed", disagreement="")
    assert missing.status_code == 400
    assert "Tell us what you disagree with." in missing.text
    assert 'href="#disagreement"' in missing.text
    sent = agree(
        family, decision="disagreed", disagreement="The reading target is too hard",
        sharing="school_staff", agencies=None, other_agencies="",
    )  # fmt: skip
    assert sent.status_code == 200 and "Download the plan" not in sent.text
    assert family.open("/plan.pdf").status_code == 404
    assert _consents(slack) == consents_before
    with slack.sessions() as session:
        (agreement,) = session.scalars(select(PlanAgreement)).all()
        assert agreement.decision == AgreementDecision.DISAGREED
        assert agreement.disagreement == "The reading target is too hard"
    dm = latest_dm(slack, "U0PRIYA", "replied about")
    assert text_of(dm).startswith("The family replied about Ava Stone's plan.")
    assert "reading target" not in text_of(dm)
    opened = len(slack.emulator.calls_to("views.open"))
    read_it(slack, "U0SENDCO", dm)
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    shown = " ".join(modal_text(slack.emulator.open_views("U0SENDCO")[-1]).split())
    assert "They disagree with parts of the plan." in shown
    assert "The reading target is too hard" in shown and "School staff only" in shown
    overview = " ".join(modal_text(open_plan(slack, "U0PRIYA", "plan Ava Stone")).split())
    assert "Not agreed: Mrs Stone (mother) said on 23 November 2026 that they disagree" in overview


def _consents(slack) -> int:
    with slack.sessions() as session:
        return len(session.scalars(select(SharingConsent)).all())


@pytest.mark.parametrize(
    "changes, message, anchor",
    [
        ({"decision": None}, "Choose whether you agree with the plan.", "decision-agreed"),
        ({"name": ""}, "Enter your full name.", "name"),
        ({"name": "x" * 101}, "Please keep your name to 100 characters.", "name"),
        ({"relationship": ""}, "Enter your relationship to the child.", "relationship"),
        ({"day": "31", "month": "2"}, "Enter a real date, for example 23 11 2026.", "day"),
        ({"day": ""}, "Enter the day of the date.", "day"),
        ({"year": "26"}, "Enter the year as four numbers, for example 2026.", "day"),
        ({"day": "24"}, "The date cannot be in the future.", "day"),
        ({"sharing": None}, "Choose who may see the plan.", "sharing-school_staff"),
        (
            {"agencies": None, "other_agencies": ""},
            "Choose the services who may see the plan, or name them",
            "agencies-",
        ),
        ({"other_agencies": "x" * 501}, "Please keep this to 500 characters.", "other_agencies"),
        (
            {"decision": "disagreed", "disagreement": "x" * 2001},
            "Please keep this to 2,000 characters.",
            "disagreement",
        ),
    ],
)
def test_bad_answers_are_shown_beside_their_fields_and_nothing_is_saved(
    slack, changes, message, anchor
):
    family = confirmed(slack)
    refused = agree(family, **changes)
    assert refused.status_code == 400
    assert "There is a problem" in refused.text and message in refused.text
    assert f'href="#{anchor}' in refused.text
    # What they typed is kept.
    if "relationship" not in changes:
        assert 'value="mother"' in refused.text
    with slack.sessions() as session:
        assert session.scalars(select(PlanAgreement)).all() == []
        assert session.scalar(select(Invitation)).submissions == 0


def test_the_agreement_form_needs_its_csrf_token_and_the_date_of_birth(slack):
    link = agreement_link(slack)
    stranger = Family(link)
    page = stranger.open("/agreement")
    assert "What is your child's date of birth?" in page.text and "Ava" not in page.text
    family = confirmed(slack)
    refused = family.post("/agreement", {"decision": "agreed", "name": "Mrs Stone"}, csrf=False)
    assert refused.status_code == 400 and "timed out" in refused.text
    with slack.sessions() as session:
        assert session.scalars(select(PlanAgreement)).all() == []


def test_a_plan_changed_while_they_read_it_is_shown_again(slack):
    family = confirmed(slack)
    page = family.open("/agreement")
    with slack.sessions.begin() as session:
        session.get(Plan, slack.ids["ava_plan"]).review_date = None  # someone saves a change
    from tests.family_harness import csrf_of

    stale = version_shown(page.text)
    answer = {
        "csrf_token": csrf_of(page.text), "version": stale, "decision": "agreed",
        "name": "Mrs Stone", "relationship": "mother", "day": "23", "month": "11",
        "year": "2026", "sharing": "school_staff",
    }  # fmt: skip
    moved = family.http.post(family.link + "/agreement", data=answer, timeout=10)
    assert moved.status_code == 400
    assert "The school changed the plan while you were reading it" in moved.text
    assert 'value="Mrs Stone"' in moved.text
    tampered = family.http.post(
        family.link + "/agreement", data={**answer, "version": "'; DROP"}, timeout=10
    )
    assert tampered.status_code == 400
    assert "The school changed the plan while you were reading it" in tampered.text
    with slack.sessions() as session:
        assert session.scalars(select(PlanAgreement)).all() == []
    assert agree(family, sharing="school_staff").status_code == 200


@pytest.mark.parametrize("user", ["U0TOM", "U0LEE", "U0TA", "U0SLT"])
def test_only_the_case_holder_or_sendco_may_read_the_answer(slack, user):
    family = confirmed(slack)
    agree(family, decision="disagreed", disagreement="Secret worry about the target")
    dm = latest_dm(slack, "U0PRIYA", "replied about")
    before = len(slack.emulator.responses_to(user))
    opened = len(slack.emulator.calls_to("views.open"))
    read_it(slack, user, dm)
    slack.emulator.wait_for(lambda calls: len(slack.emulator.responses_to(user)) > before)
    said = text_of(slack.emulator.responses_to(user)[-1])
    assert said.startswith("Only") and "Secret worry" not in said
    assert len(slack.emulator.calls_to("views.open")) == opened
    with slack.sessions() as session:
        details = session.scalars(select(AuditEvent.detail)).all()
        assert "read agreement 1" not in details
        if user == "U0TOM":  # a writer of plans, stopped by the plan: the refusal is audited
            assert any(d.startswith("read agreement refused") for d in details)


def test_another_schools_replayed_click_finds_nothing(slack):
    family = confirmed(slack)
    agree(family, decision="disagreed", disagreement="Secret worry about the target")
    dm = latest_dm(slack, "U0PRIYA", "replied about")
    before = len(slack.emulator.responses_to("U0OTHER"))
    read_it(slack, "U0OTHER", dm, team_id="T0OTHERSCH")
    slack.emulator.wait_for(lambda calls: len(slack.emulator.responses_to("U0OTHER")) > before)
    said = text_of(slack.emulator.responses_to("U0OTHER")[-1])
    assert "can't be found" in said and "Secret worry" not in said
