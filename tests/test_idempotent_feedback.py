"""`/ssp feedback` asked again the same day (a minute later, or twice at once) asks nobody again,
and tells the asker who was already asked today, when, and by whom."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from handlers.scheduler import wait_for_deliveries
from models import AuditEvent, Impact, MonitoringStatus, StrategiesInPlace
from tests.slack_harness import text_of
from tests.test_idempotent import at_once, racing  # noqa: F401 - a fixture
from tests.test_monitoring import digest, maths_class, request_of_row, requests, tick  # noqa: F401


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


# --- a teacher's answers, clicked in quick succession -----------------------------------------


def test_both_answers_clicked_at_once_make_the_request_answered(slack, tick, racing):  # noqa: F811
    message = digest(slack, tick)
    request_id = request_of_row(message)
    racing()
    replies = at_once(
        lambda: slack.sender.choose(
            "U0MATHS", "monitoring_strategies", f"{request_id}:yes", message=message
        ),
        lambda: slack.sender.choose(
            "U0MATHS", "monitoring_impact", f"{request_id}:some_progress", message=message
        ),
    )
    assert [r.status for r in replies] == [200, 200]
    slack.emulator.wait_for(lambda calls: len(slack.emulator.responses_to("U0MATHS")) >= 2, 15)
    (row,) = requests(slack, id=int(request_id))
    assert (row.strategies, row.impact) == (StrategiesInPlace.YES, Impact.SOME_PROGRESS)
    assert row.status == MonitoringStatus.ANSWERED and row.answered_at is not None


def test_i_dont_teach_this_pupil_twice_at_once_withdraws_once(slack, tick, racing):  # noqa: F811
    message = digest(slack, tick)
    request_id = request_of_row(message)
    racing()
    at_once(
        lambda: slack.sender.button("U0MATHS", "monitoring_not_taught", request_id),
        lambda: slack.sender.button("U0MATHS", "monitoring_not_taught", request_id),
    )
    slack.emulator.wait_for(lambda calls: len(slack.emulator.responses_to("U0MATHS")) >= 2, 15)
    said = [text_of(r) for r in slack.emulator.responses_to("U0MATHS")]
    assert sum("Removed Kit00 Moss" in s for s in said) == 1, said
    assert sum("You told us you don't teach this pupil" in s for s in said) == 1, said
    with slack.sessions() as session:
        withdrawn = session.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.detail == "teacher says they don't teach the pupil"
            )
        )
    assert withdrawn == 1
