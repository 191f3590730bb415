"""The printable letter with a QR code (/f/<token>/letter), and the pupil's emoji scales, over
real HTTP from a link made in Slack (issue 17). tests/test_family_letter_browser.py runs both in
Chromium with axe-core.

Brookside High (tests/slack_harness.py): Priya Shah holds Ava Stone's plan; Ava was born on
4 March 2012; the clock says Monday 23 November 2026.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import requests
import segno
from sqlalchemy import select

from handlers.web import family as web_family
from models import AuditEvent, Invitation, Plan, PlanVoice
from tests.family_harness import (
    Family,
    latest_dm,
    make_link,
    start_public_app,
    without_secrets,
)
from tests.slack_harness import build_school, buttons_of, text_of
from tests.test_plan_editor import submit

NOT_AVAILABLE = "This link does not work"


@pytest.fixture
def slack(emulator, sessions, school_extras, clock):
    from handlers.scheduler import wait_for_deliveries

    emulator.reset()
    with sessions.begin() as session:
        ids = build_school(session, emulator)
    running = start_public_app(emulator, sessions, clock)
    running.ids = ids
    yield running
    running.server.stop()
    wait_for_deliveries()


@pytest.fixture(autouse=True)
def fresh_limits(monkeypatch):
    monkeypatch.setattr(web_family, "PER_LINK", web_family.RateLimit(30, 600))
    monkeypatch.setattr(web_family, "PER_ADDRESS", web_family.RateLimit(60, 600))


def svg_of(page: str) -> str:
    return re.search(r"<svg.*?</svg>", page, re.S).group(0)


def test_the_letter_has_the_link_its_qr_code_and_nothing_of_the_plan(slack):
    link = make_link(slack)
    page = requests.get(link + "/letter", timeout=10)
    assert page.status_code == 200
    html = page.text
    assert "For a parent or carer</h1>" in html
    assert "Brookside High" in html
    assert "Brookside High would like to hear your views about your child&#39;s support" in html
    assert f'<p class="letter-link">{link}</p>' in html
    assert "You will be asked for your child's date of birth first" in html
    assert "The link works until Monday 7 December 2026." in html
    # Whoever has the link can open the letter: nothing of the pupil is on it.
    assert "Ava" not in without_secrets(html) and "Stone" not in without_secrets(html)
    # The QR code is the link's: segno makes the same symbol from the link, and a different
    # one from any other text.
    drawn = svg_of(html)
    assert drawn == segno.make(link, error="m").svg_inline(omitsize=True, svgclass="qr-code")
    assert drawn != segno.make(link + "x", error="m").svg_inline(omitsize=True, svgclass="qr-code")
    assert 'role="img" aria-label="QR code of the link below"' in html
    # The strict CSP holds: no inline style, script or data: image on the page.
    assert page.headers["Content-Security-Policy"].startswith(
        "default-src 'self'; script-src 'none'"
    )
    assert not re.search(r"\sstyle=|<style|<script|data:", html)
    assert page.headers["Referrer-Policy"] == "no-referrer"

    with slack.sessions() as session:
        link_row = session.scalar(select(Invitation))
        assert link_row.submissions == 0 and link_row.failed_checks == 0
        events = [(a.action, a.via, a.detail) for a in session.scalars(select(AuditEvent))]
    assert ("open", "family page", "letter opened") in events
    # Opening the letter is not a submission: the family's page still opens.
    assert Family(link).open().status_code == 200


@pytest.mark.parametrize("purpose", ["family", "pupil", "meeting", "agreement"])
def test_a_forwarded_link_reveals_nothing_of_the_pupil_before_the_date_of_birth(slack, purpose):
    """Someone the link was forwarded to opens every page under it without the date of birth:
    the letter, the check, the pages of each purpose; none names the pupil (first name, surname,
    preferred name) or shows their date of birth, and the pages past the check send them back
    to it or say the link does not work."""
    from tests.test_family_agreement import agreement_link
    from tests.test_family_meeting import meeting_link

    makers = {"meeting": meeting_link, "agreement": agreement_link}
    link = makers.get(purpose, lambda s: make_link(s, purpose=purpose))(slack)
    stranger = Family(link)
    paths = ["", "/letter", "/form", "/sent", "/meeting", "/meeting/sent", "/agreement",
             "/agreement/sent", "/plan.pdf"]  # fmt: skip
    for path in paths:
        page = stranger.open(path)
        shown = without_secrets(page.text)
        for word in ("Ava", "Stone", "4 March 2012", "4 3 2012", "04/03/2012", "2012-03-04"):
            assert word not in shown, (path, word)
        assert page.status_code in (200, 404), path
        if page.status_code == 200 and path != "/letter":
            assert "What is your child's date of birth?" in shown, path


def test_a_link_that_does_not_work_has_no_letter(slack, clock):
    revoked, expired = make_link(slack), make_link(slack)
    with slack.sessions.begin() as session:
        links = session.scalars(select(Invitation).order_by(Invitation.id)).all()
        links[0].revoked_at = clock.now
        links[1].expires_at = clock.now - timedelta(seconds=1)
    plain = requests.get(slack.public_url + "/f/guessed", timeout=10)
    pages = [requests.get(u + "/letter", timeout=10) for u in (revoked, expired)]
    pages.append(requests.get(slack.public_url + "/f/guessed/letter", timeout=10))
    assert {p.status_code for p in pages} == {404}
    assert {p.text for p in pages} == {plain.text}
    assert NOT_AVAILABLE in plain.text and "<svg" not in plain.text


def test_the_letter_is_rate_limited_like_the_page(slack, monkeypatch):
    monkeypatch.setattr(web_family, "PER_LINK", web_family.RateLimit(2, 600))
    link = make_link(slack)
    codes = [requests.get(link + "/letter", timeout=10).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


# --- the pupil's emoji scales ----------------------------------------------------------------


def test_the_pupil_answers_the_emoji_scales(slack):
    link = make_link(slack, purpose="pupil")
    pupil = Family(link)
    form = pupil.birth_date("4", "3", "2012")
    html = form.text
    # An accessible radio group: the question is the legend, the emoji hidden, the words read.
    assert '<legend class="label">How do I feel about school?</legend>' in html
    assert (
        '<label for="q_feel_school-really_good"><span class="emoji" aria-hidden="true">😀</span> '
        "Really good</label>" in html
    )
    for words in ("Good", "OK", "Not good", "Really not good"):
        assert f"</span> {words}</label>" in html
    assert "How do I feel about break and lunchtimes?" in html

    sent = pupil.post("/form", {
        "q_hard": "Maths tests", "q_feel_school": "good", "q_feel_breaks": "really_not_good",
    })  # fmt: skip
    assert "your answers were sent" in sent.text
    dm = latest_dm(slack, "U0PRIYA", "sent their own views")
    read = next(b for b in buttons_of(dm) if b["action_id"] == "ssp_contribution_read")
    opened = len(slack.emulator.calls_to("views.open"))
    reply = slack.sender.button("U0PRIYA", read["action_id"], read["value"], message=dm)
    assert reply.status == 200, reply
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    modal = slack.emulator.open_views("U0PRIYA")[-1]
    shown = text_of({"blocks": modal["blocks"]})
    assert "How do I feel about school?\nGood" in shown
    assert "How do I feel about break and lunchtimes?\nReally not good" in shown
    assert "lessons" not in shown  # not answered: not shown

    submit(slack, "U0PRIYA", modal)
    with slack.sessions() as session:
        plan = session.scalar(select(Plan).where(Plan.pupil_id == slack.ids["ava"]))
        voice = session.get(PlanVoice, plan.id)
        assert "Maths tests" in voice.difficulties
        copied = " ".join(str(getattr(voice, c.name) or "") for c in PlanVoice.__table__.columns)
        assert "Really not good" not in copied and "Good" not in copied


def test_a_scale_answer_that_is_not_a_choice_is_refused_beside_it(slack):
    pupil = Family(make_link(slack, purpose="pupil"))
    pupil.birth_date("4", "3", "2012")
    refused = pupil.post("/form", {"q_feel_school": "brilliant"})
    assert refused.status_code == 400
    assert 'id="q_feel_school"' in refused.text and "There is a problem" in refused.text
    with slack.sessions() as session:
        assert session.scalar(select(Invitation)).submissions == 0


def test_the_review_notes_start_from_the_scales_words(slack):
    from tests.test_reviews import review_modal

    pupil = Family(make_link(slack, purpose="pupil"))
    pupil.birth_date("4", "3", "2012")
    pupil.post("/form", {"q_feel_lessons": "ok", "q_achieve": "Pass my exams"})
    with slack.sessions() as session:
        plan_id = session.scalar(select(Plan.id).where(Plan.pupil_id == slack.ids["ava"]))
    modal = review_modal(slack, "U0PRIYA", "ssp_review_open", str(plan_id))
    (block,) = [b for b in modal["blocks"] if b.get("block_id") == "cyp_views"]
    started = block["element"]["initial_value"]
    assert "How do I feel about my lessons? OK" in started
    assert "Pass my exams" in started
