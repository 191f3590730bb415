"""The quality loop as the case holder and the SENDCo notice it (issue 16): why a plan came
back, that it was approved, why an assignment was declined, and what waits for QA."""

from __future__ import annotations

import pytest

from models import PlanStatus
from tests.slack_harness import text_of
from tests.test_qa import decide, open_review, status_of


@pytest.fixture
def school_extras():
    from tests.test_qa import awaiting_qa

    return awaiting_qa


def open_plan(slack, user: str) -> dict:
    opened = len(slack.emulator.calls_to("views.open"))
    slack.sender.command(user, "plan Ava Stone")
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    return slack.emulator.open_views()[-1]


def section_notes(modal: dict) -> dict[str, str]:
    """Each section's block id, and the context line under it (if any)."""
    notes, blocks = {}, modal["blocks"]
    for block, after in zip(blocks, blocks[1:] + [{}], strict=True):
        if str(block.get("block_id", "")).startswith("section-"):
            notes[block["block_id"][8:]] = (
                text_of({"blocks": [after]}) if after.get("type") == "context" else ""
            )
    return notes


RETURNED = "Please add the family's views, and make the reading target measurable."


def test_the_case_holder_sees_the_comments_at_the_top_and_in_the_sections_they_concern(slack):
    decide(slack, open_review(slack), "return", RETURNED)
    modal = open_plan(slack, "U0PRIYA")
    top = text_of({"blocks": modal["blocks"][:6]})
    assert "returned this plan with comments" in top
    assert "make the reading target measurable" in top
    notes = section_notes(modal)
    about = "comments above are about this section"
    assert about in notes["family"] and about in notes["targets"]
    assert about not in notes["needs"] and about not in notes["provision"]


def test_a_senior_leader_reading_the_plan_sees_the_comments_too(slack):
    decide(slack, open_review(slack), "return", RETURNED)
    assert "make the reading target measurable" in text_of(
        {"blocks": open_plan(slack, "U0SLT")["blocks"]}
    )


def test_a_teacher_without_the_plan_sees_no_comments(slack):
    decide(slack, open_review(slack), "return", RETURNED)
    answer = slack.ask("U0LEE", "plan Ava Stone")
    assert "measurable" not in str(answer)
    assert not any("measurable" in str(call) for call in slack.emulator.calls_to("views.open"))


def test_once_sent_back_for_quality_assurance_the_comments_are_no_longer_shown(slack):
    decide(slack, open_review(slack), "return", RETURNED)
    overview = open_plan(slack, "U0PRIYA")
    pushes = len(slack.emulator.calls_to("views.push"))
    slack.sender.view_button("U0PRIYA", overview, "plan_submit_qa", "qa")
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.push")) > pushes)
    assert status_of(slack) == PlanStatus.AWAITING_QA
    text = text_of({"blocks": open_plan(slack, "U0PRIYA")["blocks"]})
    assert "returned this plan" not in text and "measurable" not in text


def test_a_plan_never_returned_shows_no_comments(slack):
    text = text_of({"blocks": open_plan(slack, "U0PRIYA")["blocks"]})
    assert "returned this plan" not in text
