"""`/ssp caseload` shows ten undelivered messages, says how many more there are, and pages
through every one of them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models import Prompt, PromptKind, PromptStatus
from tests.slack_harness import NOW, text_of


def undelivered(session, ids: dict) -> dict:
    for n in range(25):
        session.add(
            Prompt(
                school_id=ids["school"],
                recipient_id=ids["tom"] if n % 2 else ids["lee"],
                kind=PromptKind.REVIEW_DUE,
                dedupe_key=f"test-failed:{n}",
                status=PromptStatus.FAILED,
                due_at=NOW - timedelta(hours=n),
                attempts=5,
                created_at=NOW - timedelta(days=1),
                last_error=f"failure number {n:02d}",
            )
        )
    return {}


@pytest.fixture
def school_extras():
    return undelivered


def action_rows(message: dict) -> list[list[str]]:
    return [
        [e["action_id"] for e in b["elements"]] for b in message["blocks"] if b["type"] == "actions"
    ]


def button(message: dict, label_start: str) -> dict:
    return next(
        e
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["text"]["text"].startswith(label_start)
    )


def test_every_undelivered_message_can_be_paged_through(slack):
    caseload = slack.ask("U0SENDCO", "caseload")
    text = text_of(caseload)
    assert sum(f"failure number {n:02d}" in text for n in range(25)) == 10
    assert "…and 15 more messages that couldn't be delivered" in text
    for row in action_rows(caseload):
        assert len(row) == len(set(row)), row  # Slack refuses a block repeating an action_id
    see_all = button(caseload, "See all 25 undelivered")

    seen = set()
    page = slack.click("U0SENDCO", see_all["action_id"], see_all["value"])
    assert "25 messages couldn't be delivered" in text_of(page) and "Page 1 of 2" in text_of(page)
    seen |= {n for n in range(25) if f"failure number {n:02d}" in text_of(page)}
    assert len(seen) == 20
    after = button(page, "Next")
    page = slack.click("U0SENDCO", after["action_id"], after["value"])
    assert "Page 2 of 2" in text_of(page)
    last = {n for n in range(25) if f"failure number {n:02d}" in text_of(page)}
    assert len(last) == 5 and not last & seen
    back = button(page, "Previous")
    assert "Page 1 of 2" in text_of(slack.click("U0SENDCO", back["action_id"], back["value"]))
    by_command = slack.ask("U0SENDCO", "caseload failed")
    assert "Page 1 of 2" in text_of(by_command)


def test_undelivered_messages_are_for_those_who_see_the_whole_school(slack):
    assert "failure number" not in text_of(slack.ask("U0PRIYA", "caseload failed"))
