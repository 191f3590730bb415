"""`/ssp feedback` asked again the same day (a minute later, or twice at once) asks nobody again,
and tells the asker who was already asked today, when, and by whom."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handlers.scheduler import wait_for_deliveries
from tests.slack_harness import text_of
from tests.test_idempotent import at_once, racing  # noqa: F401 - a fixture
from tests.test_monitoring import maths_class


@pytest.fixture
def school_extras():
    return maths_class


@pytest.fixture
def teachers(slack):
    slack.emulator.add_user("U0MATHS", email="mo.khan@brookside.example.org", real_name="Mo Khan")


def dms(slack) -> tuple[int, int]:
    wait_for_deliveries()
    return len(slack.emulator.messages_to("U0LEE")), len(slack.emulator.messages_to("U0MATHS"))


def test_feedback_asked_again_a_minute_later_asks_nobody_and_says_when(slack, clock, teachers):
    first = text_of(slack.ask("U0SENDCO", "feedback Cara Lin"))
    assert "Asked 2 teacher(s) for feedback on Cara Lin's plan: Lee Chan, Mo Khan" in first
    slack.emulator.wait_for(lambda calls: dms(slack) == (1, 1))
    clock.now += timedelta(minutes=1)
    again = text_of(slack.ask("U0SENDCO", "feedback Cara Lin"))
    assert "Lee Chan and Mo Khan already had a message from me today" in again
    assert "(asked at 10:00 by Morgan Reed)" in again and "nobody was asked again" in again
    clock.now += timedelta(hours=3)
    slack.ask("U0TA", "help")  # something else, so the sender has had its chance
    assert dms(slack) == (1, 1)


def test_feedback_asked_twice_at_once_asks_each_teacher_once(slack, racing, teachers):  # noqa: F811
    before = len(slack.emulator.responses_to("U0SENDCO"))
    racing()
    replies = at_once(
        lambda: slack.sender.command("U0SENDCO", "feedback Cara Lin"),
        lambda: slack.sender.command("U0SENDCO", "feedback Cara Lin"),
    )
    assert [r.status for r in replies] == [200, 200]
    slack.emulator.wait_for(
        lambda calls: len(slack.emulator.responses_to("U0SENDCO")) >= before + 2, 15
    )
    said = [text_of(r) for r in slack.emulator.responses_to("U0SENDCO")[before:]]
    assert sum("Asked 2 teacher(s)" in s for s in said) == 1, said
    assert sum("(asked at 10:00 by Morgan Reed)" in s for s in said) == 1, said
    slack.emulator.wait_for(lambda calls: dms(slack) == (1, 1))
    assert dms(slack) == (1, 1)
