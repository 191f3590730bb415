"""A review prompt's Snooze submitted twice at once snoozes once; the second is told it was."""

from __future__ import annotations

from sqlalchemy import func, select

from models import TimelineEntry
from tests.slack_harness import buttons_of, text_of
from tests.test_idempotent import WRONG, at_once, racing  # noqa: F401 - a fixture
from tests.test_reviews import choose, dms, review_modal, text


def test_snooze_submitted_twice_at_once_snoozes_once(slack, tick, racing):  # noqa: F811
    tick("2026-11-23T10:00:00+00:00")
    (prompt,) = dms(slack, "U0PRIYA", "Ben Stone")
    modal = review_modal(slack, "U0PRIYA", "ssp_review_snooze", buttons_of(prompt)[1]["value"])
    typed = {"days": choose("3"), "reason": text("Meeting moved")}
    racing()
    replies = at_once(
        lambda: slack.sender.submit("U0PRIYA", modal, typed),
        lambda: slack.sender.submit("U0PRIYA", modal, typed),
    )
    assert [r.status for r in replies] == [200, 200], replies
    said = [text_of(r.json()["view"]) for r in replies]
    assert not any(w in s for s in said for w in WRONG), said
    assert sum("Snoozed. I'll remind you on Thursday 26 November" in s for s in said) == 1, said
    assert sum("You already snoozed this review once, on 23 November" in s for s in said) == 1
    with slack.sessions() as session:
        snoozes = session.scalar(
            select(func.count(TimelineEntry.id)).where(TimelineEntry.summary.like("%snoozed%"))
        )
    assert snoozes == 1
