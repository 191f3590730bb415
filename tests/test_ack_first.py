"""A click is acknowledged before its work (handlers.toolkit.ack_first): Slack gives three
seconds for the HTTP 200, and a listener that read the database or opened a modal first could
miss them under load, so Slack showed an error even when the work was done. Driven through the
signed endpoint: the work after the ack is made slow and then to fail, and the click is still
answered at once, and the person is told, politely, in the message they clicked in.

Brookside High (tests/slack_harness.py): Lee Chan is a teacher (the least-privileged person who
can press "Show") who does not teach Ava Stone; Priya Shah holds her plan.
"""

from __future__ import annotations

import time

import pytest

from bot import db
from handlers import pages
from handlers.toolkit import DATABASE_DOWN, SOMETHING_WENT_WRONG
from tests import test_db_faults as faults
from tests.slack_harness import text_of
from tests.test_db_faults import on_postgresql

# test_db_faults' fixtures: the app reaching PostgreSQL through a proxy the test can cut.
app = faults.app
proxy = faults.proxy

SLOWER_THAN_SLACK_WAITS = 3.5  # seconds: Slack gives an ack three


def slow_then(failure: Exception):
    def work(*args, **kwargs):
        time.sleep(SLOWER_THAN_SLACK_WAITS)
        raise failure

    return work


def told(slack, user: str, before: int) -> str:
    slack.emulator.wait_for(lambda calls: len(slack.emulator.responses_to(user)) > before)
    return text_of(slack.emulator.responses_to(user)[-1])


@pytest.mark.parametrize(
    ("failure", "said"),
    [
        (db.DatabaseUnavailable("the database went away"), DATABASE_DOWN),
        (RuntimeError("a bug"), SOMETHING_WENT_WRONG),
    ],
)
def test_a_click_is_answered_at_once_even_when_the_work_after_it_is_slow_and_fails(
    slack, monkeypatch, failure, said
):
    monkeypatch.setattr(pages, "_summary", slow_then(failure))
    before = len(slack.emulator.responses_to("U0LEE"))
    started = time.monotonic()
    reply = slack.sender.button("U0LEE", "ssp_show_pupil", str(slack.ids["ava"]))
    # Slack's "unhandled request" would be a 404 after three seconds; the ack is at once.
    assert reply.status == 200
    assert time.monotonic() - started < 2.0
    # The person is told in the message they clicked in, and nothing of the pupil is said.
    said_to_lee = told(slack, "U0LEE", before)
    assert said_to_lee == said
    assert "Ava" not in said_to_lee


def test_a_click_that_works_still_shows_its_answer(slack):
    shown = slack.click("U0PRIYA", "ssp_show_pupil", str(slack.ids["ava"]))
    assert "Ava Stone" in text_of(shown)


def test_a_refusal_after_the_ack_still_reaches_the_person(slack):
    """A pupil Lee may not see, her id typed into the button's value: refused in the message."""
    refused = slack.click("U0LEE", "ssp_show_pupil", str(slack.ids["ava"]))
    assert "couldn't find that pupil" in text_of(refused) and "Ava" not in text_of(refused)


@on_postgresql
def test_the_database_cut_after_the_ack_is_told_in_the_message(app, proxy, monkeypatch):
    """The database goes between the identity check and the work (PostgreSQL through a proxy
    the test cuts, as tests/test_db_faults.py does): the click is answered 200, and the person
    is told the database is away, not left with Slack's error."""
    summary = pages._summary

    def cut_then_summarise(*args, **kwargs):
        proxy.cut()
        return summary(*args, **kwargs)

    monkeypatch.setattr(pages, "_summary", cut_then_summarise)
    before = len(app.emulator.responses_to("U0PRIYA"))
    reply = app.sender.button("U0PRIYA", "ssp_show_pupil", str(app.ids["ava"]))
    assert reply.status == 200
    said = told(app, "U0PRIYA", before)
    assert said == DATABASE_DOWN and "Ava" not in said
