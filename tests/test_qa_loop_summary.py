"""The SENDCo's daily summary of plans waiting for quality assurance: one a school day, in
school hours, from the sweep; its button opens `/ssp qa` for the SENDCo only."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from bot.render import uk_date
from handlers.scheduler import wait_for_deliveries
from models import Plan, PlanStatus, School
from tests.slack_harness import buttons_of, text_of

WAITING = "waiting for quality assurance"


def two_awaiting_qa(session, ids: dict) -> dict:
    ava = session.get(Plan, ids["ava_plan"])
    cara = session.scalar(select(Plan).where(Plan.pupil_id == ids["cara"]))
    ava.status = cara.status = PlanStatus.AWAITING_QA
    ava.updated_at = datetime(2026, 11, 16, 11, 0, tzinfo=UTC)  # the longest waiting
    cara.updated_at = datetime(2026, 11, 20, 11, 0, tzinfo=UTC)
    return {}


@pytest.fixture
def school_extras():
    return two_awaiting_qa


@pytest.fixture
def tick(slack, run_cli):
    env = {"SLACK_BOT_TOKEN": slack.emulator.bot_token, "SLACK_API_URL": slack.emulator.api_url}

    def run(when: str) -> str:
        wait_for_deliveries()
        result = run_cli("tick", "--now", when, env=env)
        assert result.code == 0, result
        return result.out

    return run


def summaries(slack) -> list[dict]:
    wait_for_deliveries()
    return [m for m in slack.emulator.messages_to("U0SENDCO") if WAITING in text_of(m)]


def test_one_summary_a_school_day_with_the_count_and_the_longest_waiting(slack, tick):
    tick("2026-11-23T10:00:00+00:00")  # Monday
    tick("2026-11-23T13:00:00+00:00")  # the same day again: nothing more
    (summary,) = summaries(slack)
    text = text_of(summary)
    assert "2 plans are waiting for quality assurance" in text
    assert f"the plan for Ava Stone (Year 9), since {uk_date(date(2026, 11, 16))}" in text
    assert "Cara" not in text  # the longest waiting only: the rest are in the list
    assert [b["action_id"] for b in buttons_of(summary)] == ["ssp_qa_list"]
    assert not any(WAITING in text_of(m) for m in slack.emulator.messages_to("U0PRIYA"))
    tick("2026-11-24T10:00:00+00:00")  # Tuesday: the next
    assert len(summaries(slack)) == 2


def test_a_sweep_before_school_sends_it_when_school_opens_and_not_twice(slack, tick):
    tick("2026-11-23T06:00:00+00:00")  # Monday before 08:30
    assert summaries(slack) == []
    tick("2026-11-23T08:45:00+00:00")
    assert len(summaries(slack)) == 1


def test_no_summary_at_the_weekend(slack, tick):
    tick("2026-11-28T10:00:00+00:00")  # Saturday
    tick("2026-11-29T10:00:00+00:00")  # Sunday
    assert summaries(slack) == []


def test_no_summary_when_nothing_waits(slack, tick):
    with slack.sessions.begin() as session:
        for plan in session.scalars(select(Plan).where(Plan.status == PlanStatus.AWAITING_QA)):
            plan.status = PlanStatus.ACTIVE
    tick("2026-11-23T10:00:00+00:00")
    assert summaries(slack) == []


def test_in_initials_mode_the_summary_names_the_pupil_by_initials(slack, tick):
    from models import PupilDisplay

    with slack.sessions.begin() as session:
        session.get(School, slack.ids["school"]).pupil_display = PupilDisplay.INITIALS
    tick("2026-11-23T10:00:00+00:00")
    (summary,) = summaries(slack)
    assert "AS (Year 9)" in text_of(summary) and "Ava" not in text_of(summary)


def test_the_button_opens_the_qa_list_for_the_sendco(slack, tick):
    tick("2026-11-23T10:00:00+00:00")
    (summary,) = summaries(slack)
    (button,) = buttons_of(summary)
    listing = slack.click("U0SENDCO", "ssp_qa_list", button["value"])
    text = text_of(listing)
    assert "2 plans, longest waiting first" in text
    assert text.index("Ava Stone") < text.index("Cara")
    assert listing.get("replace_original") is False
    assert listing.get("response_type") == "ephemeral"


@pytest.mark.parametrize("user", ["U0PRIYA", "U0SLT"])
def test_the_button_shows_nobody_else_the_list(slack, user):
    answer = slack.click(user, "ssp_qa_list", "qa")
    assert "for the SENDCo" in text_of(answer)
    assert "Ava" not in str(answer) and "Cara" not in str(answer)
