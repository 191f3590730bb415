"""Messages to other people wait for school hours on school days: an assignment made at 23:05
reaches the case holder at the next opening, and the SENDCo is told when that will be. Replies
to the person acting are immediate."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from handlers.scheduler import wait_for_deliveries
from tests.slack_harness import text_of
from tests.test_team import more_pupils, plan_request_to_sendco


@pytest.fixture
def school_extras():
    return more_pupils


@pytest.fixture
def tick(slack, run_cli):
    env = {"SLACK_BOT_TOKEN": slack.emulator.bot_token, "SLACK_API_URL": slack.emulator.api_url}

    def run(when: str) -> str:
        result = run_cli("tick", "--now", when, env=env)
        assert result.code == 0, result
        return result.out

    return run


def about(slack, user: str, pupil: str) -> list[dict]:
    return [m for m in slack.emulator.messages_to(user) if pupil in text_of(m)]


def test_an_assignment_made_at_night_is_told_at_the_next_opening(slack, clock, tick):
    clock.now = datetime(2026, 11, 23, 23, 5, tzinfo=UTC)  # Monday night (GMT)
    said = text_of(slack.ask("U0SENDCO", "assign Finn Cole <@U0PRIYA|priya>"))
    assert "Finn Cole → Priya Shah" in said
    assert "Priya Shah will be told at 08:30 tomorrow and asked to accept it" in said
    wait_for_deliveries()
    tick("2026-11-23T23:10:00+00:00")
    tick("2026-11-24T08:29:00+00:00")
    assert about(slack, "U0PRIYA", "Finn Cole") == []
    tick("2026-11-24T08:30:00+00:00")
    (notice,) = about(slack, "U0PRIYA", "Finn Cole")
    assert "asked you to be the case holder" in text_of(notice)


def test_on_friday_evening_the_notice_waits_for_monday(slack, clock, tick):
    clock.now = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)  # Friday, after school
    said = text_of(slack.ask("U0SENDCO", "assign Finn Cole <@U0PRIYA|priya>"))
    assert "will be told at 08:30 on Monday 30 November" in said
    tick("2026-11-28T10:00:00+00:00")  # Saturday
    assert about(slack, "U0PRIYA", "Finn Cole") == []
    tick("2026-11-30T08:30:00+00:00")
    assert len(about(slack, "U0PRIYA", "Finn Cole")) == 1


def test_in_school_hours_the_notice_goes_at_once(slack):
    said = text_of(slack.ask("U0SENDCO", "assign Finn Cole <@U0PRIYA|priya>"))
    assert "They'll be asked to accept it." in said and "will be told at" not in said
    slack.emulator.wait_for(lambda calls: about(slack, "U0PRIYA", "Finn Cole"))


def test_a_request_declined_at_night_is_told_in_the_morning(slack, clock, tick):
    slack.ask("U0PRIYA", "plan new A820123456011")  # Finn Cole, in school hours
    decline = plan_request_to_sendco(slack)["blocks"]
    button = next(
        e
        for b in decline
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "ssp_plan_request_decline"
    )
    clock.now = datetime(2026, 11, 23, 21, 0, tzinfo=UTC)
    done = slack.click("U0SENDCO", "ssp_plan_request_decline", button["value"])
    assert "Priya Shah will be told at 08:30 tomorrow that they won't hold the plan" in text_of(
        done
    )
    wait_for_deliveries()
    tick("2026-11-23T21:05:00+00:00")
    told = [m for m in about(slack, "U0PRIYA", "Finn Cole") if "hasn't given you" in text_of(m)]
    assert told == []
    tick("2026-11-24T08:30:00+00:00")
    told = [m for m in about(slack, "U0PRIYA", "Finn Cole") if "hasn't given you" in text_of(m)]
    assert len(told) == 1


def test_a_decline_at_night_tells_the_sendco_in_the_morning_and_says_so(slack, clock, tick):
    slack.ask("U0SENDCO", "assign Finn Cole <@U0PRIYA|priya>")  # in school hours
    slack.emulator.wait_for(lambda calls: about(slack, "U0PRIYA", "Finn Cole"))
    (notice,) = about(slack, "U0PRIYA", "Finn Cole")
    decline = next(
        e
        for b in notice["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "ssp_assignment_decline"
    )
    clock.now = datetime(2026, 11, 23, 19, 30, tzinfo=UTC)
    opened = len(slack.emulator.calls_to("views.open"))
    slack.sender.button("U0PRIYA", "ssp_assignment_decline", decline["value"])
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    modal = slack.emulator.open_views()[-1]
    done = slack.sender.submit(
        "U0PRIYA", modal, {"reason": {"type": "plain_text_input", "value": "Full caseload"}}
    ).json()
    assert "The SENDCo will be told at 08:30 tomorrow" in text_of(
        {"blocks": done["view"]["blocks"]}
    )
    wait_for_deliveries()
    tick("2026-11-23T19:35:00+00:00")
    declined = [m for m in about(slack, "U0SENDCO", "Finn Cole") if "can't take" in text_of(m)]
    assert declined == []
    tick("2026-11-24T08:30:00+00:00")
    declined = [m for m in about(slack, "U0SENDCO", "Finn Cole") if "can't take" in text_of(m)]
    assert len(declined) == 1
