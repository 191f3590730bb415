"""A plan's life after it is written: "In review" while the review notes are being written, and
closure (by the SENDCo, or when the pupil leaves).

Brookside High (tests/slack_harness.py) on Monday 23 November 2026: Priya holds Ava (review
overdue) and Ben; Tom holds Cara.
"""

from __future__ import annotations

from sqlalchemy import select

from models import AuditEvent, Plan, PlanStatus
from tests.slack_harness import text_of
from tests.test_reviews import choose, full_notes, open_by_command, target_ids, text


def plan_status(slack, key: str = "ava_plan") -> PlanStatus:
    with slack.sessions() as session:
        return session.get(Plan, slack.ids[key]).status


# --- in review ------------------------------------------------------------------------------


def test_a_plan_is_in_review_from_the_first_draft_until_the_notes_are_submitted(slack):
    assert "In review" not in text_of(slack.ask("U0PRIYA", "mine"))
    view = open_by_command(slack, "U0PRIYA", "review Ava")
    # Opening the form alone starts nothing: a look is not a review.
    assert plan_status(slack) == PlanStatus.ACTIVE

    (target_id,) = target_ids(view)
    partial = {
        "what_is_working": text("Daily Lexia sessions"),
        f"result:{target_id}": choose("partly"),
    }
    updates = len(slack.emulator.calls_to("views.update"))
    slack.sender.view_button("U0PRIYA", view, "ssp_review_save_draft", "draft", values=partial)
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.update")) > updates)
    assert plan_status(slack) == PlanStatus.IN_REVIEW
    caseload = text_of(slack.ask("U0PRIYA", "mine"))
    assert "In review" in caseload
    assert "In review" in text_of(slack.ask("U0SENDCO", "pupil Ava"))
    with slack.sessions() as session:
        assert session.scalar(
            select(AuditEvent.id).where(AuditEvent.detail.like("%plan in review%"))
        )

    # A second draft keeps it in review; submitting sends it on to the SENDCo.
    reopened = open_by_command(slack, "U0PRIYA", "review Ava")
    done = slack.sender.submit("U0PRIYA", reopened, full_notes(reopened)).json()
    assert done["response_action"] == "update"
    assert plan_status(slack) == PlanStatus.AWAITING_QA
    assert "In review" not in text_of(slack.ask("U0PRIYA", "mine"))
