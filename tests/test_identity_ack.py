"""A first-time user's identity lookup (users.info) never holds up the ack.

Slack gives the app three seconds to answer a slash command or event. The identity middleware
asks Slack who a new person is before any listener runs; when Slack is rate limiting or slow,
the person is answered at once and matched in the background, honouring Retry-After.
"""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import select

from handlers.context import STILL_MATCHING, wait_for_background_work
from handlers.slack_api import SlackBusy, quick_client, staff_for_slack_user
from models import Staff
from tests.slack_harness import text_of

HELP = "What `/ssp` can do for you"


@pytest.fixture(autouse=True)
def no_lookups_left_behind():
    yield
    wait_for_background_work()


def users_info_statuses(slack) -> list[int]:
    return [call.http_status for call in slack.emulator.calls_to("users.info")]


def tom_slack_id(slack) -> str | None:
    with slack.sessions() as session:
        return session.scalar(select(Staff.slack_user_id).where(Staff.id == slack.ids["tom"]))


def test_a_rate_limited_lookup_is_answered_at_once_and_finished_in_the_background(slack):
    # Tom is on the staff list but has never used the bot: the app must ask Slack who U0TOM is.
    slack.emulator.fail_next("users.info", "ratelimited", retry_after=2)

    reply = slack.sender.command("U0TOM", "help")

    assert reply.status == 200
    # Answered without waiting out the rate limit: Slack was asked once, and not again yet.
    assert users_info_statuses(slack) == [429]
    assert reply.json() == {"response_type": "ephemeral", "text": STILL_MATCHING}
    assert slack.emulator.responses_to("U0TOM") == []  # nothing else was said to him

    wait_for_background_work()
    # The background lookup waited as Slack asked, then matched Tom by email and remembered it.
    assert users_info_statuses(slack) == [429, 200]
    assert tom_slack_id(slack) == "U0TOM"
    assert HELP in text_of(slack.ask("U0TOM", "help"))
    assert users_info_statuses(slack) == [429, 200]  # the match was remembered: Slack not asked


def test_asking_again_while_slack_is_resting_does_not_ask_slack(slack):
    slack.emulator.fail_next("users.info", "ratelimited", retry_after=2)
    slack.sender.command("U0TOM", "help")

    again = slack.sender.command("U0TOM", "caseload")
    other = slack.sender.command("U0STRANGER", "help")

    assert again.json()["text"] == STILL_MATCHING
    assert other.json()["text"] == STILL_MATCHING
    assert users_info_statuses(slack) == [429]  # Retry-After is honoured for the workspace
    wait_for_background_work()
    # One background lookup for each person, after the wait; the stranger is still refused.
    assert sorted(c.params["user"] for c in slack.emulator.calls_to("users.info")[1:]) == [
        "U0STRANGER",
        "U0TOM",
    ]
    assert HELP in text_of(slack.ask("U0TOM", "help"))
    assert "can't find you" in slack.ask("U0STRANGER", "help")["text"]


def test_a_slack_server_error_is_not_taken_for_a_stranger(slack):
    slack.emulator.fail_next("users.info", "internal_error", status=503)

    reply = slack.sender.command("U0TOM", "help")

    assert reply.json()["text"] == STILL_MATCHING  # not "I can't find you on the staff list"
    assert users_info_statuses(slack) == [503]


def test_opening_the_app_home_while_slack_is_rate_limiting_breaks_nothing(slack):
    slack.emulator.fail_next("users.info", "ratelimited", retry_after=1)

    reply = slack.sender.app_home_opened("U0TOM")

    assert reply.status == 200
    assert users_info_statuses(slack) == [429]
    wait_for_background_work()
    # No "you're not on the staff list" home was published for someone who is on it.
    assert "U0TOM" not in slack.emulator.home_views
    slack.sender.app_home_opened("U0TOM")
    slack.emulator.wait_for(lambda calls: "U0TOM" in slack.emulator.home_views)
    assert "staff list" not in text_of(slack.emulator.home_views["U0TOM"])
    assert users_info_statuses(slack) == [429, 200]


def test_the_refusal_home_for_a_stranger_is_published_after_the_ack(slack):
    slack.emulator.fail_next("views.publish", "ratelimited", retry_after=1)

    reply = slack.sender.app_home_opened("U0STRANGER")

    assert reply.status == 200
    wait_for_background_work()
    # Published in the background, once Slack's Retry-After had passed.
    assert [c.http_status for c in slack.emulator.calls_to("views.publish")] == [429, 200]
    assert "staff list" in text_of(slack.emulator.home_views["U0STRANGER"])


@pytest.mark.parametrize(
    ("error", "status"), [("ratelimited", 429), ("internal_error", 500), ("fatal_error", 502)]
)
def test_opening_a_modal_never_waits_out_a_rate_limit(slack, error, status):
    """A listener opening its modal (after the click's ack, inside the trigger's three
    seconds): one try, then a calm line."""
    slack.emulator.fail_next("views.open", error, status=status)

    reply = slack.sender.button("U0PRIYA", "ssp_open_plan", str(slack.ids["ava"]))

    assert reply.status == 200
    slack.emulator.wait_for(lambda calls: slack.emulator.responses_to("U0PRIYA"))
    assert [c.http_status for c in slack.emulator.calls_to("views.open")] == [status]
    assert "Slack wouldn't open the plan" in slack.emulator.responses_to("U0PRIYA")[-1]["text"]


def test_slack_not_answering_in_time_is_busy_not_a_stranger(session):
    """users.info that never answers: the quick client gives up, and says Slack was busy."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # connections are queued, never answered
    try:
        from slack_sdk import WebClient

        patient = WebClient(
            token="xoxb-test", base_url=f"http://127.0.0.1:{silent.getsockname()[1]}/api/"
        )
        with pytest.raises(SlackBusy):
            staff_for_slack_user(session, quick_client(patient), 1, "U0NEW")
    finally:
        silent.close()
