"""A declined assignment's reason reaches the SENDCo in `/ssp priority`, and nobody else."""

from __future__ import annotations

import pytest

from tests.slack_harness import buttons_of, text_of
from tests.test_assignment_messages import decline_form, dms_to
from tests.test_team import more_pupils

WHY = "Full caseload this term <b>& two new EHC plans</b>"


@pytest.fixture
def school_extras():
    return more_pupils


def priya_declines_finn(slack) -> None:
    slack.ask("U0SENDCO", "assign Finn Cole <@U0PRIYA|priya>")
    (message,) = dms_to(slack, "U0PRIYA")
    modal = decline_form(slack, "U0PRIYA", buttons_of(message)[1]["value"], message)
    slack.sender.submit("U0PRIYA", modal, {"reason": {"type": "plain_text_input", "value": WHY}})
    slack.emulator.wait_for(
        lambda calls: any(
            "can't take the plan" in text_of(m) for m in slack.emulator.messages_to("U0SENDCO")
        )
    )


def finn_line(listing: dict) -> str:
    return next(
        b["text"]["text"]
        for b in listing["blocks"]
        if b.get("type") == "section" and "Finn Cole" in b["text"]["text"]
    )


def test_the_sendco_sees_who_declined_and_why_beside_the_pupil(slack):
    priya_declines_finn(slack)
    line = finn_line(slack.ask("U0SENDCO", "priority"))
    assert "declined by Priya Shah" in line
    assert "Full caseload this term &lt;b&gt;&amp; two new EHC plans&lt;/b&gt;" in line


def test_a_senior_leader_sees_the_pupil_but_not_the_reason(slack):
    priya_declines_finn(slack)
    listing = slack.ask("U0SLT", "priority")
    assert "Finn Cole" in finn_line(listing)
    assert "declined" not in text_of(listing) and "caseload" not in str(listing)


@pytest.mark.parametrize("user", ["U0PRIYA", "U0LEE"])
def test_a_case_holder_or_teacher_asking_sees_no_reasons(slack, user):
    priya_declines_finn(slack)
    answer = slack.ask(user, "priority")
    assert "caseload" not in str(answer) and "declined" not in text_of(answer)
