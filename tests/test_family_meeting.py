"""Asking the family for the review meeting (issue 17), driven as people would: the case holder
in Slack (signed requests, the emulator), the family in their browser (plain HTTP here;
tests/test_family_meeting_browser.py drives Chromium).

Brookside High (tests/slack_harness.py): Priya Shah holds Ava Stone's plan; Ava was born on
4 March 2012; the clock says Monday 23 November 2026. PUBLIC_URL is the app's own address.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from handlers.web import family as web_family
from models import AuditEvent, Invitation, InvitationPurpose
from tests.family_harness import Family, ask_form, make_link, start_public_app
from tests.slack_harness import build_school
from tests.test_plan_editor import modal_text, submit

NOT_AVAILABLE = "This link does not work"


@pytest.fixture
def slack(emulator, sessions, school_extras, clock):
    """conftest's `slack`, with PUBLIC_URL set (as tests/test_family_pages.py)."""
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


def choose(slack, user: str, view: dict, purpose: str) -> dict:
    """Chooses what to ask for in the open "Ask the family" form; the form as redrawn."""
    before = len(slack.emulator.calls_to("views.update"))
    assert slack.sender.view_choose(user, view, "ssp_family_ask_for", purpose).status == 200
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.update")) > before)
    return slack.emulator.open_views(user)[-1]


def block_ids(view: dict) -> list[str]:
    return [b.get("block_id") for b in view["blocks"] if b.get("type") == "input"]


# --- what to ask for ---------------------------------------------------------------------------


def test_choosing_what_to_ask_for_redraws_the_form(slack):
    form = ask_form(slack, "U0PRIYA")
    (ask_for,) = [b for b in form["blocks"] if b.get("block_id") == "ask_for"]
    assert ask_for["dispatch_action"] is True
    assert [o["text"]["text"] for o in ask_for["element"]["options"]] == [
        "Their views", "The review meeting", "Their agreement to the plan",
    ]  # fmt: skip
    assert ask_for["element"]["initial_option"]["value"] == "family_views"
    assert block_ids(form) == ["ask_for", "questions"]

    agreement = choose(slack, "U0PRIYA", form, "agreement")
    assert "can agree to it, or tell you what they disagree with" in modal_text(agreement)
    assert "questions" not in block_ids(agreement)
    assert '"purpose": "agreement"' in agreement["private_metadata"]

    views = choose(slack, "U0PRIYA", agreement, "family_views")
    assert block_ids(views) == ["ask_for", "questions"]

    made = submit(slack, "U0PRIYA", choose(slack, "U0PRIYA", views, "agreement"))
    assert made["response_action"] == "update"
    with slack.sessions() as session:
        (link,) = session.scalars(select(Invitation)).all()
        assert (link.purpose, link.questions) == (InvitationPurpose.AGREEMENT, "")


def test_ask_the_pupil_asks_only_for_their_views(slack):
    form = ask_form(slack, "U0PRIYA", purpose="pupil")
    assert block_ids(form) == ["questions"]


def test_a_meeting_link_goes_to_the_meeting_page_after_the_date_of_birth(slack):
    link = make_link_for(slack, "meeting")
    family = Family(link)
    assert "Ava" not in family.open().text
    page = family.birth_date("4", "3", "2012")
    assert page.url.endswith("/meeting")
    assert "The review meeting for Ava" in page.text
    # The views form is not this link's page.
    assert family.open("/form").url.endswith("/meeting")


@pytest.mark.parametrize("user", ["U0LEE", "U0TA", "U0SLT"])
def test_only_writers_may_choose_what_to_ask_for(slack, user):
    """A teacher, a TA or a senior leader replaying the case holder's form: refused at the door,
    and the form is not redrawn."""
    form = ask_form(slack, "U0PRIYA")
    updates = len(slack.emulator.calls_to("views.update"))
    pushed = len(slack.emulator.calls_to("views.push"))
    assert slack.sender.view_choose(user, form, "ssp_family_ask_for", "meeting").status == 200
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.push")) > pushed)
    told = slack.emulator.calls_to("views.push")[-1]
    assert "Only the pupil's case holder or the SENDCo" in str(told.params)
    assert len(slack.emulator.calls_to("views.update")) == updates
    with slack.sessions() as session:
        assert session.scalars(select(Invitation)).all() == []


def test_another_case_holder_choosing_is_refused_and_audited(slack):
    form = ask_form(slack, "U0PRIYA")
    updates = len(slack.emulator.calls_to("views.update"))
    pushed = len(slack.emulator.calls_to("views.push"))
    assert slack.sender.view_choose("U0TOM", form, "ssp_family_ask_for", "meeting").status == 200
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.push")) > pushed)
    told = slack.emulator.calls_to("views.push")[-1]
    assert "Only the pupil's case holder or the SENDCo" in str(told.params)
    assert len(slack.emulator.calls_to("views.update")) == updates
    with slack.sessions() as session:
        refusals = session.scalars(select(AuditEvent).where(AuditEvent.action == "refused")).all()
        assert [r.detail for r in refusals] == [
            "ask form refused: not the plan's case holder or a SENDCo"
        ]


def make_link_for(slack, purpose: str, user: str = "U0PRIYA", **typed) -> str:
    form = choose(slack, user, ask_form(slack, user), purpose)
    reply = submit(slack, user, form, **typed)
    assert reply["response_action"] == "update", reply
    (block,) = [b for b in reply["view"]["blocks"] if b.get("block_id") == "link"]
    return block["text"]["text"]


def test_a_views_link_still_asks_its_questions(slack):
    family = Family(make_link(slack))
    assert "Tell us your views about Ava" in family.birth_date("4", "3", "2012").text
