"""Quality assurance: the SENDCo reviews plans with the automatic check, approves or returns."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import AuditEvent, Plan, PlanStatus, TimelineEntry
from tests.slack_harness import buttons_of, text_of


def awaiting_qa(session, ids: dict) -> dict:
    session.get(Plan, ids["ava_plan"]).status = PlanStatus.AWAITING_QA
    return {}


@pytest.fixture
def school_extras():
    return awaiting_qa


def status_of(slack) -> PlanStatus:
    with slack.sessions() as session:
        return session.get(Plan, slack.ids["ava_plan"]).status


def open_review(slack) -> dict:
    listing = slack.ask("U0SENDCO", "qa")
    assert "Ava Stone" in text_of(listing)
    review = next(b for b in buttons_of(listing) if b["action_id"] == "ssp_qa_open")
    opened = len(slack.emulator.calls_to("views.open"))
    slack.sender.button("U0SENDCO", "ssp_qa_open", review["value"])
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    return slack.emulator.open_views()[-1]


def decide(slack, modal: dict, decision: str, comments: str | None = None) -> dict:
    option = next(
        o
        for b in modal["blocks"]
        if b.get("block_id") == "decision"
        for o in b["element"]["options"]
        if o["value"] == decision
    )
    return slack.sender.submit(
        "U0SENDCO",
        modal,
        {
            "decision": {"type": "radio_buttons", "selected_option": option},
            "comments": {"type": "plain_text_input", "value": comments},
        },
    ).json()


def test_the_review_shows_the_automatic_check(slack):
    text = text_of({"blocks": open_review(slack)["blocks"]})
    assert "checks passed" in text
    assert "family" in text.lower() and ":warning:" in text  # no family views recorded yet


def test_returning_needs_comments_and_goes_back_to_the_case_holder(slack):
    modal = open_review(slack)
    assert decide(slack, modal, "return")["errors"] == {
        "comments": "Say what needs to change, so the case holder knows."
    }
    answer = decide(slack, modal, "return", "Please add the family's views")
    assert "gone back to its case holder" in text_of({"blocks": answer["view"]["blocks"]})
    assert status_of(slack) == PlanStatus.DRAFT
    with slack.sessions() as session:
        assert session.scalars(select(TimelineEntry.summary)).all()[-1] == (
            "returned by the SENDCo for changes: Please add the family's views"
        )


def test_the_case_holder_sends_the_draft_back_and_the_sendco_approves(slack):
    decide(slack, open_review(slack), "return", "Add the family's views")
    # Priya opens her plan and sends it for quality assurance again.
    opened = len(slack.emulator.calls_to("views.open"))
    slack.sender.command("U0PRIYA", "plan Ava Stone")
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    overview = slack.emulator.open_views()[-1]
    pushes = len(slack.emulator.calls_to("views.push"))
    slack.sender.view_button("U0PRIYA", overview, "plan_submit_qa", "qa")
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.push")) > pushes)
    assert status_of(slack) == PlanStatus.AWAITING_QA

    answer = decide(slack, open_review(slack), "approve")
    assert "approved and now active" in text_of({"blocks": answer["view"]["blocks"]})
    with slack.sessions() as session:
        plan = session.get(Plan, slack.ids["ava_plan"])
        assert plan.status == PlanStatus.ACTIVE and plan.approved_by_id == slack.ids["sendco"]


def test_a_decision_on_a_plan_that_changed_meanwhile_is_refused(slack):
    modal = open_review(slack)
    with slack.sessions.begin() as session:
        session.get(Plan, slack.ids["ava_plan"]).review_date = None  # someone else saves
    answer = decide(slack, modal, "approve")
    assert "changed this plan" in text_of({"blocks": answer["view"]["blocks"]})
    assert status_of(slack) == PlanStatus.AWAITING_QA


def test_only_the_sendco_does_quality_assurance(slack):
    assert "for the SENDCo" in text_of(slack.ask("U0PRIYA", "qa"))
    # Senior leaders see what is waiting (tests/test_qa_view.py), with nothing to decide it.
    listing = slack.ask("U0SLT", "qa")
    assert "Ava Stone" in text_of(listing) and buttons_of(listing) == []


@pytest.mark.parametrize(
    ("decision", "recorded"),
    [
        ("return", "returned by the SENDCo for changes"),
        ("approve", "approved after quality assurance"),
    ],
)
def test_a_long_comment_is_kept_in_full_and_never_copied_to_the_audit_log(
    slack, decision, recorded
):
    # The form allows 3,000 characters; the audit log's detail holds 500.
    comments = ("Please add the family's views on reading at home, and a target. " * 40)[:2000]
    answer = decide(slack, open_review(slack), decision, comments)
    assert "errors" not in answer
    assert status_of(slack) == (PlanStatus.DRAFT if decision == "return" else PlanStatus.ACTIVE)
    with slack.sessions() as session:
        timeline = session.scalars(select(TimelineEntry.summary)).all()
        assert timeline[-1] == f"{recorded}: {comments}"
        decided = session.scalars(
            select(AuditEvent).where(
                AuditEvent.plan_id == slack.ids["ava_plan"], AuditEvent.action == "update"
            )
        ).one()
        assert decided.detail == recorded
        details = session.scalars(select(AuditEvent.detail)).all()
    assert not any("family's views" in (detail or "") for detail in details)


def test_the_returned_message_carries_no_upn_and_its_button_opens_the_plan(slack):
    decide(slack, open_review(slack), "return", "Please add the family's views")
    slack.emulator.wait_for(lambda calls: slack.emulator.messages_to("U0PRIYA"))
    (message,) = slack.emulator.messages_to("U0PRIYA")
    assert "returned the plan for Ava Stone" in text_of(message)
    assert "A820123456001" not in str(message)  # the DM stays in Slack's history: no UPN
    (open_plan,) = buttons_of(message)
    assert open_plan["action_id"] == "ssp_open_plan"
    opened = len(slack.emulator.calls_to("views.open"))
    slack.sender.button("U0PRIYA", "ssp_open_plan", open_plan["value"], message=message)
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    assert "Ava Stone" in text_of({"blocks": slack.emulator.open_views()[-1]["blocks"]})


def test_in_initials_mode_the_returned_message_names_the_pupil_by_initials(slack):
    from models import PupilDisplay, School

    with slack.sessions.begin() as session:
        session.get(School, slack.ids["school"]).pupil_display = PupilDisplay.INITIALS
    decide(slack, open_review(slack), "return", "Please add the family's views")
    slack.emulator.wait_for(lambda calls: slack.emulator.messages_to("U0PRIYA"))
    text = text_of(slack.emulator.messages_to("U0PRIYA")[0])
    assert "returned the plan for AS (Year 9)" in text
    assert "Ava" not in text and "A820123456001" not in text
