"""Families and young people give their views through a link (issue 17), driven as people
would: the case holder in Slack (signed requests, the emulator), the family in their browser
(plain HTTP here; tests/test_family_browser.py drives Chromium).

Brookside High (tests/slack_harness.py): Priya Shah holds Ava Stone's plan; Ava was born on
4 March 2012. PUBLIC_URL is the app's own address.
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from handlers.web import family as web_family
from models import AuditEvent, Contribution, Invitation, Plan, PlanVoice, TimelineEntry
from tests.family_harness import (
    Family,
    ask_form,
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
    """conftest's `slack`, with PUBLIC_URL set (the privacy check of history uses it too)."""
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


def read_button(message: dict) -> dict:
    return next(b for b in buttons_of(message) if b["action_id"] == "ssp_contribution_read")


def test_a_family_sends_views_and_the_case_holder_adds_them(slack, caplog):
    caplog.set_level(logging.DEBUG)
    link = make_link(slack)
    assert link.startswith(slack.public_url + "/f/")
    token = link.rsplit("/", 1)[1]
    with slack.sessions() as session:
        (stored,) = session.scalars(select(Invitation)).all()
        assert token not in stored.token_hash and len(stored.token_hash) == 64

    family = Family(link)
    first = family.open()
    assert first.status_code == 200
    assert "A form from Brookside High about your child" in first.text
    assert "Ava" not in without_secrets(first.text)  # nothing of the pupil before the date of birth
    for header, value in {
        "Referrer-Policy": "no-referrer",
        "X-Robots-Tag": "noindex, nofollow",
    }.items():
        assert first.headers[header] == value
    csp = first.headers["Content-Security-Policy"]
    for rule in ("default-src 'self'", "form-action 'self'", "frame-ancestors 'none'"):
        assert rule in csp
    assert '<meta name="robots" content="noindex, nofollow">' in first.text
    assert 'lang="en-GB"' in first.text

    wrong = family.birth_date("5", "3", "2012")
    assert wrong.status_code == 400
    assert "does not match our records. You have 2 tries left" in wrong.text
    assert 'href="#day"' in wrong.text  # the error summary links to the field

    form = family.birth_date("4", "3", "2012")
    assert form.status_code == 200
    assert "Tell us your views about Ava" in form.text
    cookie = next(c for c in family.http.cookies if c.name == "sspbot_session")
    assert cookie.has_nonstandard_attr("HttpOnly")

    too_long = family.post("/form", {
        "contributor_name": "Mrs Stone", "contributor_relationship": "mother",
        "q_working": "x" * 2001,
    })  # fmt: skip
    assert too_long.status_code == 400
    assert "Please keep this to 2,000 characters." in too_long.text
    nameless = family.post("/form", {"q_working": "Reading together"})
    assert "Enter your name." in nameless.text

    sent = family.post("/form", {
        "contributor_name": "Mrs Stone", "contributor_relationship": "mother",
        "q_working": "Reading together at bedtime", "q_not_working": "Homework ends in tears",
        "q_take_part": "phone",
    })  # fmt: skip
    assert sent.status_code == 200 and "your answers were sent" in sent.text

    dm = latest_dm(slack, "U0PRIYA", "sent their views")
    assert text_of(dm).startswith("The family sent their views on Ava Stone's plan.")
    assert "Reading" not in text_of(dm)

    opened = len(slack.emulator.calls_to("views.open"))
    assert slack.sender.button("U0PRIYA", "ssp_contribution_read", read_button(dm)["value"],
                               message=dm).status == 200  # fmt: skip
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    modal = slack.emulator.open_views("U0PRIYA")[-1]
    shown = text_of({"blocks": modal["blocks"]})
    assert "contributed by the family (Mrs Stone, mother) on 23 November" in shown
    assert "Homework ends in tears" in shown and "By phone" in shown

    with slack.sessions.begin() as session:
        plan = session.scalar(select(Plan).where(Plan.pupil_id == slack.ids["ava"]))
        plan.voice = plan.voice or PlanVoice()
        plan.voice.family_concerns = "Worried about the move to Year 10."
    reply = submit(slack, "U0PRIYA", modal)
    assert "Added to Ava Stone's plan" in text_of({"blocks": reply["view"]["blocks"]})
    with slack.sessions() as session:
        voice = session.get(PlanVoice, plan.id)
        assert voice.family_concerns.startswith("Worried about the move to Year 10.\n\n")
        assert voice.family_concerns.endswith(
            "Homework ends in tears (contributed by the family (Mrs Stone, mother) on 23 November)"
        )
        assert "Reading together at bedtime" in voice.family_hopes
        timeline = [t.summary for t in session.scalars(select(TimelineEntry))]
        assert any("added the views contributed by the family" in t for t in timeline)
        actions = [(a.action, a.via, a.detail) for a in session.scalars(select(AuditEvent))]
        assert ("create", "family page", "sent contribution 1") in actions
        assert any(a[0] == "read" and a[2] == "read contribution 1" for a in actions)

    # Adding twice changes nothing.
    again = submit(slack, "U0PRIYA", modal)
    assert "on Ava Stone's plan already" in text_of({"blocks": again["view"]["blocks"]})
    # The app's own records (the test's HTTP client, urllib3, logs the URLs it asks for).
    ours = [r for r in caplog.records if not r.name.startswith("urllib3")]
    assert ours and not [r for r in ours if token in r.getMessage()]


def test_three_wrong_dates_lock_the_link_and_tell_the_case_holder(slack):
    link = make_link(slack)
    family = Family(link)
    assert family.birth_date("1", "1", "2012").status_code == 400
    assert family.birth_date("2", "1", "2012").status_code == 400
    locked = family.birth_date("3", "1", "2012")
    assert locked.status_code == 404 and NOT_AVAILABLE in locked.text
    # Even the right date does not open it now.
    assert NOT_AVAILABLE in family.open().text
    dm = latest_dm(slack, "U0PRIYA", "locked after three wrong dates of birth")
    assert "Ava Stone" in text_of(dm)


def test_every_link_that_does_not_work_gets_the_same_page(slack, clock):
    from datetime import timedelta

    guessed = Family(slack.public_url + "/f/not-a-real-token")
    revoked_link = make_link(slack)
    expired_link = make_link(slack)
    used_link = make_link(slack)
    with slack.sessions.begin() as session:
        links = session.scalars(select(Invitation).order_by(Invitation.id)).all()
        links[0].revoked_at = clock.now
        links[1].expires_at = clock.now - timedelta(seconds=1)
        links[2].submissions = links[2].max_submissions
    pages = [guessed.open(), Family(revoked_link).open(), Family(expired_link).open(),
             Family(used_link).open()]  # fmt: skip
    assert {p.status_code for p in pages} == {404}
    assert len({p.text for p in pages}) == 1
    assert "contact your child's school" in pages[0].text
    shown = without_secrets(pages[0].text)
    assert "Ava" not in shown and "Brookside" not in shown


def test_revoke_link_from_slack(slack):
    link = make_link(slack)
    form = ask_form(slack, "U0PRIYA")
    (row,) = [b for b in form["blocks"] if b.get("block_id", "").startswith("link-")]
    before = len(slack.emulator.calls_to("views.update"))
    assert slack.sender.view_button("U0PRIYA", form, "ssp_link_revoke",
                                    row["accessory"]["value"]).status == 200  # fmt: skip
    slack.emulator.wait_for(lambda c: len(slack.emulator.calls_to("views.update")) > before)
    assert NOT_AVAILABLE in Family(link).open().text


@pytest.mark.parametrize("user", ["U0LEE", "U0SLT", "U0TOM"])
def test_only_the_case_holder_or_sendco_may_ask(slack, user):
    """A teacher and a senior leader are stopped at the door; another case holder by the plan."""
    with slack.sessions() as session:
        plan_id = session.scalar(select(Plan.id).where(Plan.pupil_id == slack.ids["ava"]))
    before = len(slack.emulator.responses_to(user))
    assert slack.sender.button(user, "ssp_ask_family", str(plan_id)).status == 200
    slack.emulator.wait_for(lambda calls: len(slack.emulator.responses_to(user)) > before)
    said = text_of(slack.emulator.responses_to(user)[-1])
    assert said.startswith("Only")
    assert not slack.emulator.calls_to("views.open")
    with slack.sessions() as session:
        assert session.scalars(select(Invitation)).all() == []


def test_the_sendco_may_ask_the_pupil(slack):
    link = make_link(slack, "U0SENDCO", purpose="pupil")
    family = Family(link)
    form = family.birth_date("04", "03", "2012")
    assert "Hello Ava: tell us what you think" in form.text
    sent = family.post("/form", {"contributor_name": "Ms Reed", "q_hard": "Maths tests"})
    assert "your answers were sent" in sent.text
    with slack.sessions() as session:
        (contribution,) = session.scalars(select(Contribution)).all()
        assert contribution.contributor_name == "Ms Reed"


def test_forms_without_csrf_are_refused(slack):
    family = Family(make_link(slack))
    refused = family.post("", {"day": "4", "month": "3", "year": "2012"}, csrf=False)
    assert refused.status_code == 400 and "timed out" in refused.text
    with slack.sessions() as session:
        assert session.scalar(select(Invitation)).failed_checks == 0


def test_the_form_needs_the_date_of_birth_first(slack):
    family = Family(make_link(slack))
    page = family.open("/form")
    assert "What is your child's date of birth?" in page.text


def test_rate_limits_per_link_and_per_address(slack, monkeypatch):
    monkeypatch.setattr(web_family, "PER_LINK", web_family.RateLimit(3, 600))
    family = Family(make_link(slack))
    assert [family.open().status_code for _ in range(4)] == [200, 200, 200, 429]
    monkeypatch.setattr(web_family, "PER_ADDRESS", web_family.RateLimit(2, 600))
    other = Family(slack.public_url + "/f/another")
    assert [other.open().status_code for _ in range(3)] == [404, 404, 429]


def test_slack_paths_are_unchanged(slack):
    import requests

    assert requests.get(slack.public_url + "/healthz", timeout=5).text == "ok"
    refused = requests.post(slack.public_url + "/slack/events", data=b"{}", timeout=5)
    assert refused.status_code == 401
    unknown = requests.get(slack.public_url + "/nothing-here", timeout=5)
    assert unknown.status_code == 404 and unknown.headers["Referrer-Policy"] == "no-referrer"


def test_the_review_notes_start_from_what_the_family_sent(slack):
    from tests.test_reviews import review_modal

    family = Family(make_link(slack))
    family.birth_date("4", "3", "2012")
    family.post("/form", {
        "contributor_name": "Mrs Stone", "contributor_relationship": "mother",
        "q_hopes": "To enjoy school again",
    })  # fmt: skip
    with slack.sessions() as session:
        plan_id = session.scalar(select(Plan.id).where(Plan.pupil_id == slack.ids["ava"]))
    modal = review_modal(slack, "U0PRIYA", "ssp_review_open", str(plan_id))
    (block,) = [b for b in modal["blocks"] if b.get("block_id") == "family_views"]
    started = block["element"]["initial_value"]
    assert "To enjoy school again" in started
    assert "contributed by the family (Mrs Stone, mother) on 23 November" in started


def test_cookies_are_secure_behind_https_and_every_response_has_the_headers(sessions):
    from bot.config import Settings
    from handlers.context import Runtime
    from handlers.web import create_web_app
    from tests.slack_harness import Clock

    settings = Settings.from_env(
        {"SLACK_SIGNING_SECRET": "s", "PUBLIC_URL": "https://ssp.oakfield.example"}, env_file=None
    )
    app = create_web_app(Runtime(settings, sessions, Clock()))
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Strict"
    client = app.test_client()
    css = client.get("/static/site.css")
    assert css.status_code == 200 and css.headers["X-Robots-Tag"].startswith("noindex")
    guessed = client.post("/f/guessed", data={"day": "1", "month": "1", "year": "2012"})
    assert guessed.status_code == 400  # no CSRF token: refused before the link is looked up
    assert "timed out" in guessed.get_data(as_text=True)


def test_ask_the_family_from_a_review_prompt(slack, run_cli):
    from tests.test_reviews import dms

    env = {"SLACK_BOT_TOKEN": slack.emulator.bot_token, "SLACK_API_URL": slack.emulator.api_url}
    assert run_cli("tick", "--now", "2026-11-23T10:00:00+00:00", env=env).code == 0
    (prompt,) = dms(slack, "U0PRIYA", "Ava Stone")
    ask = next(b for b in buttons_of(prompt) if b["action_id"] == "ssp_ask_family")
    opened = len(slack.emulator.calls_to("views.open"))
    reply = slack.sender.button("U0PRIYA", "ssp_ask_family", ask["value"], message=prompt)
    assert reply.status == 200
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    form = slack.emulator.open_views("U0PRIYA")[-1]
    made = submit(slack, "U0PRIYA", form)
    (block,) = [b for b in made["view"]["blocks"] if b.get("block_id") == "link"]
    link = block["text"]["text"]
    assert "It works until Monday 7 December 2026" in text_of({"blocks": made["view"]["blocks"]})
    assert Family(link).open().status_code == 200
    # The link is shown in the modal only: never in a message Slack keeps.
    assert not [m for m in slack.emulator.messages if "/f/" in str(m)]


def test_a_form_with_no_question_ticked_is_refused_beside_the_field(slack):
    form = ask_form(slack, "U0PRIYA")
    reply = submit(slack, "U0PRIYA", form, questions=False)
    assert reply == {
        "response_action": "errors",
        "errors": {"questions": "Choose at least one question."},
    }


@pytest.mark.parametrize("user", ["U0TOM", "U0LEE"])
def test_only_the_case_holder_or_sendco_may_read_what_a_family_sent(slack, user):
    family = Family(make_link(slack))
    family.birth_date("4", "3", "2012")
    family.post("/form", {
        "contributor_name": "Mrs Stone", "contributor_relationship": "mother",
        "q_hopes": "To enjoy school again",
    })  # fmt: skip
    latest_dm(slack, "U0PRIYA", "sent their views")
    before = len(slack.emulator.responses_to(user))
    opened = len(slack.emulator.calls_to("views.open"))
    assert slack.sender.button(user, "ssp_contribution_read", "1").status == 200
    slack.emulator.wait_for(lambda calls: len(slack.emulator.responses_to(user)) > before)
    said = text_of(slack.emulator.responses_to(user)[-1])
    assert said.startswith("Only") and "To enjoy" not in said
    assert len(slack.emulator.calls_to("views.open")) == opened
