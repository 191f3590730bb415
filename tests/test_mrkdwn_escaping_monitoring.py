"""Monitoring messages and the notice after an answer, with a pupil whose name and a teacher's
comment would be read by Slack as markup if sent raw (tests.test_mrkdwn_escaping)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Pupil
from tests.slack_harness import raw_mrkdwn, raw_mrkdwn_in, text_of
from tests.test_monitoring import digest, maths_class, request_of_row, tick  # noqa: F401

NASTY = "<script>&x"


@pytest.fixture
def school_extras():
    def extras(session, ids):
        made = maths_class(session, ids)
        kit = session.scalar(select(Pupil).where(Pupil.first_name == "Kit00"))
        kit.last_name = NASTY
        return made

    return extras


def test_a_monitoring_request_and_the_saved_notice_show_names_and_comments_as_words(
    slack,
    tick,  # noqa: F811
):
    message = digest(slack, tick)
    assert "Kit00 <script>&x (Year 9)" in text_of(message)
    request_id = request_of_row(message)
    opened = len(slack.emulator.calls_to("views.open"))
    slack.sender.button("U0MATHS", "monitoring_open", request_id)
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    modal = slack.emulator.open_views("U0MATHS")[-1]
    concern = {"impact": {"type": "radio_buttons", "selected_option": {"value": "concern"}}}
    typed = {"type": "plain_text_input", "value": "<!here> & <@U0SLT>"}
    saved = slack.sender.submit("U0MATHS", modal, {**concern, "comment": typed}).json()
    assert "feedback on Kit00 <script>&x's plan is saved" in text_of(saved["view"])
    assert raw_mrkdwn_in(saved["view"]) == []
    assert raw_mrkdwn(slack.emulator.calls) == []
