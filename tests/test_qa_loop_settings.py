"""The school's choice of which submitted reviews go back to the SENDCo for quality assurance
(`/ssp settings qa-reviews every|changes|sample`), as the case holder and the SENDCo see it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from models import CaseHolderAssignment, Plan, PlanStatus, Review, ReviewStatus
from tests.slack_harness import text_of
from tests.test_reviews import choose, full_notes, open_by_command, target_ids


def set_qa_reviews(slack, choice: str) -> str:
    return text_of(slack.ask("U0SENDCO", f"settings qa-reviews {choice}"))


def submit_ava(slack, result: str) -> str:
    view = open_by_command(slack, "U0PRIYA", "review Ava")
    overrides = {f"result:{t}": choose(result) for t in target_ids(view)}
    answer = slack.sender.submit("U0PRIYA", view, full_notes(view, **overrides)).json()
    return text_of(answer["view"])


def ava(slack) -> tuple[PlanStatus, ReviewStatus]:
    with slack.sessions() as session:
        plan = session.get(Plan, slack.ids["ava_plan"])
        review = session.scalar(select(Review).where(Review.plan_id == plan.id))
        return plan.status, review.status


def in_qa_list(slack) -> bool:
    return "Ava Stone" in text_of(slack.ask("U0SENDCO", "qa"))


def test_every_review_by_default_and_the_sendco_changes_it(slack):
    assert "quality assurance: every review" in text_of(slack.ask("U0SENDCO", "settings"))
    changed = set_qa_reviews(slack, "changes")
    assert "only reviews that close a target" in changed
    assert "only reviews that close a target" in text_of(slack.ask("U0SLT", "settings"))
    assert "one review in five" in set_qa_reviews(slack, "sample")
    assert "`/ssp settings qa-reviews every`" in set_qa_reviews(slack, "sometimes")


def test_a_senior_leader_cannot_change_it(slack):
    assert "Only the SENDCo can change" in text_of(slack.ask("U0SLT", "settings qa-reviews sample"))
    assert "quality assurance: every review" in text_of(slack.ask("U0SENDCO", "settings"))


def test_by_default_a_review_that_carries_every_target_goes_to_qa(slack):
    assert "gone to the SENDCo for quality assurance" in submit_ava(slack, "not_yet")
    assert ava(slack) == (PlanStatus.AWAITING_QA, ReviewStatus.SUBMITTED)
    assert in_qa_list(slack)


def test_only_changes_a_review_carrying_every_target_is_active_at_once(slack):
    set_qa_reviews(slack, "changes")
    answer = submit_ava(slack, "not_yet")
    assert "does not send this review for quality assurance" in answer
    assert ava(slack) == (PlanStatus.ACTIVE, ReviewStatus.APPROVED)
    assert not in_qa_list(slack)
    # The next cycle's notes open, not an amendment of these.
    assert open_by_command(slack, "U0PRIYA", "review Ava")["title"]["text"] == "Review notes"


def test_only_changes_a_review_closing_a_target_goes_to_qa(slack):
    set_qa_reviews(slack, "changes")
    assert "gone to the SENDCo" in submit_ava(slack, "achieved")  # achieved targets close
    assert ava(slack) == (PlanStatus.AWAITING_QA, ReviewStatus.SUBMITTED)
    assert in_qa_list(slack)


def experienced(slack, since: datetime) -> None:
    """Priya was first given a plan at `since`; one review was submitted before Ava's."""
    with slack.sessions.begin() as session:
        cara = session.scalar(select(Plan).where(Plan.pupil_id == slack.ids["cara"]))
        session.add(
            CaseHolderAssignment(
                plan_id=slack.ids["ava_plan"],
                staff_id=slack.ids["priya"],
                created_at=since,
            )
        )
        session.add(Review(plan_id=cara.id, cycle_number=0, status=ReviewStatus.APPROVED))


def test_a_sample_leaves_out_an_experienced_case_holders_unsampled_review(slack):
    set_qa_reviews(slack, "sample")
    experienced(slack, datetime(2025, 1, 10, tzinfo=UTC))  # the 2nd review: not sampled
    assert "does not send" in submit_ava(slack, "achieved")
    assert ava(slack) == (PlanStatus.ACTIVE, ReviewStatus.APPROVED)


def test_a_sample_takes_every_review_of_a_case_holder_in_their_first_term(slack):
    set_qa_reviews(slack, "sample")
    experienced(slack, datetime(2026, 11, 2, tzinfo=UTC))
    assert "gone to the SENDCo" in submit_ava(slack, "not_yet")
    assert ava(slack) == (PlanStatus.AWAITING_QA, ReviewStatus.SUBMITTED)


@pytest.mark.parametrize("sampled", [True, False])
def test_a_sample_takes_one_review_in_five(slack, sampled):
    set_qa_reviews(slack, "sample")
    experienced(slack, datetime(2025, 1, 10, tzinfo=UTC))
    with slack.sessions.begin() as session:
        cara = session.scalar(select(Plan).where(Plan.pupil_id == slack.ids["cara"]))
        # 1 before (from `experienced`) + 4 more: Ava's is the 6th, sampled; or + 2: the 4th.
        for cycle in range(-4 if sampled else -2, 0):
            session.add(Review(plan_id=cara.id, cycle_number=cycle, status=ReviewStatus.APPROVED))
    submit_ava(slack, "not_yet")
    assert ava(slack)[0] == (PlanStatus.AWAITING_QA if sampled else PlanStatus.ACTIVE)
