"""The quality loop as the case holder and the SENDCo notice it (issue 16): why a plan came
back, that it was approved, why an assignment was declined, and what waits for QA."""

from __future__ import annotations

import pytest

from models import Plan, PlanStatus
from tests.slack_harness import buttons_of, text_of
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


# --- the case holder hears of the approval ---------------------------------------------------


def send_back(slack) -> None:
    overview = open_plan(slack, "U0PRIYA")
    pushes = len(slack.emulator.calls_to("views.push"))
    slack.sender.view_button("U0PRIYA", overview, "plan_submit_qa", "qa")
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.push")) > pushes)


def dms_to_priya(slack, count: int) -> list[dict]:
    slack.emulator.wait_for(lambda calls: len(slack.emulator.messages_to("U0PRIYA")) >= count)
    return slack.emulator.messages_to("U0PRIYA")


def test_the_approval_is_told_in_the_thread_of_the_return(slack):
    decide(slack, open_review(slack), "return", RETURNED)
    (returned,) = dms_to_priya(slack, 1)
    send_back(slack)
    decide(slack, open_review(slack), "approve")
    returned, approved = dms_to_priya(slack, 2)
    assert "approved the plan for Ava Stone" in text_of(approved)
    assert "now active" in text_of(approved)
    assert approved.get("thread_ts") == returned["ts"]
    assert approved["channel"] == returned["channel"]
    # It names the pupil and the ask, nothing the SENDCo wrote.
    assert "measurable" not in str(approved)
    (button,) = buttons_of(approved)
    assert button["action_id"] == "ssp_open_plan"


def test_an_approval_without_a_return_is_a_message_of_its_own(slack):
    decide(slack, open_review(slack), "approve")
    (approved,) = dms_to_priya(slack, 1)
    assert "approved the plan for Ava Stone" in text_of(approved)
    assert not approved.get("thread_ts")


def test_a_later_approval_does_not_answer_an_earlier_rounds_return(slack):
    decide(slack, open_review(slack), "return", RETURNED)
    dms_to_priya(slack, 1)
    send_back(slack)
    decide(slack, open_review(slack), "approve")
    dms_to_priya(slack, 2)
    # Later the plan comes back to QA (say, after a review) and is approved straight away.
    with slack.sessions.begin() as session:
        session.get(Plan, slack.ids["ava_plan"]).status = PlanStatus.AWAITING_QA
    decide(slack, open_review(slack), "approve")
    *_, latest = dms_to_priya(slack, 3)
    assert "approved the plan" in text_of(latest) and not latest.get("thread_ts")


def test_the_sendco_approving_their_own_plan_is_not_messaged(slack):
    with slack.sessions.begin() as session:
        session.get(Plan, slack.ids["ava_plan"]).case_holder_id = slack.ids["sendco"]
    answer = decide(slack, open_review(slack), "approve")
    assert "approved and now active" in text_of({"blocks": answer["view"]["blocks"]})
    from handlers.scheduler import wait_for_deliveries

    wait_for_deliveries()
    assert not any(
        "approved the plan" in text_of(m) for m in slack.emulator.messages_to("U0SENDCO")
    )
