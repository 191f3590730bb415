"""What Slack keeps, and who is asking (DESIGN §4).

Messages stay in Slack's history, so they name the pupil the school's way (name or initials)
and carry no UPN, date of birth, need, target, note or feedback: checked here over the demo tour
and over the flows that post or redraw messages, with the school naming pupils by initials
(tests/history_scan.py; tests/conftest.py checks every other `slack` test the same way).

Tenancy and identity come only from the verified request: the school is the one the app is
installed for, and a user whose own workspace is another (a Slack Connect guest) is refused, and
never linked to a member of staff by email.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.demo import tour
from handlers.context import OTHER_WORKSPACE
from handlers.scheduler import wait_for_deliveries
from models import AuditEvent, Plan, PlanStatus, PupilDisplay, School, Staff
from tests.history_scan import leaks, secrets
from tests.slack_harness import buttons_of, text_of
from tests.test_monitoring import maths_class, request_of_row
from tests.test_team import more_pupils


def brookside_and_more(session, ids):
    """Brookside High with the priority list's pupils and the maths class, naming pupils by
    their initials in messages."""
    extra = more_pupils(session, ids)
    extra.update(maths_class(session, ids))
    session.get(Plan, ids["ava_plan"]).status = PlanStatus.AWAITING_QA
    session.get(School, ids["school"]).pupil_display = PupilDisplay.INITIALS
    return extra


@pytest.fixture
def school_extras():
    return brookside_and_more


def history_leaks(slack) -> list:
    wait_for_deliveries()
    with slack.sessions() as session:
        secret_list = secrets(session)
    return leaks(list(slack.emulator.messages), secret_list)


# --- what Slack's history holds ---------------------------------------------------------------


def test_the_demo_tour_leaves_no_pupil_data_in_slacks_history(monkeypatch):
    """The whole tour, with the demo school naming pupils by initials: its review prompts,
    teachers' digests and the SENDCo's digest hold no UPN, birthday, need, target or note."""
    seen = {}
    create = tour.create_demo_school

    def create_naming_by_initials(session, **kwargs):
        summary = create(session, **kwargs)
        for school in session.scalars(select(School)):
            school.pupil_display = PupilDisplay.INITIALS
        return summary

    sweep = tour._Tour.scheduler

    def scheduler_then_scan(self, sessions, clock):
        sweep(self, sessions, clock)
        with sessions() as session:
            seen["secrets"] = secrets(session)
        seen["messages"] = [dict(m) for m in self.sender.emulator.messages]

    monkeypatch.setattr(tour, "create_demo_school", create_naming_by_initials)
    monkeypatch.setattr(tour._Tour, "scheduler", scheduler_then_scan)
    clock = lambda: datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # noqa: E731 - a Monday in term
    assert tour.run_tour(io.StringIO(), pupils=150, clock=clock) == 0
    kinds = {s.what for s in seen["secrets"]}
    assert {"UPN", "date of birth", "plan_targets.description", "plan_needs.description"} <= kinds
    assert len(seen["messages"]) >= 3  # review prompts, teachers' digests, the SENDCo's digest
    found = leaks(seen["messages"], seen["secrets"])
    assert not found, "\n".join(map(str, found[:10]))


def test_the_flows_that_post_or_redraw_messages_leave_no_pupil_data_in_history(slack, run_cli):
    """Assigning, declining, returning from QA, the scheduler's prompts and digests, and a
    teacher answering in the message and in the form: every message Slack keeps names pupils by
    initials only, with no UPN or anything written about them."""
    slack.emulator.add_user("U0MATHS", email="mo.khan@brookside.example.org", real_name="Mo Khan")
    env = {"SLACK_BOT_TOKEN": slack.emulator.bot_token, "SLACK_API_URL": slack.emulator.api_url}
    assert run_cli("tick", "--now", "2026-11-23T10:00:00+00:00", env=env).code == 0
    # A teacher answers in the digest, says they don't teach a pupil, and comments in the form.
    (digest,) = slack.emulator.messages_to("U0MATHS")
    slack.sender.choose(
        "U0MATHS", "monitoring_impact", f"{request_of_row(digest)}:concern", message=digest
    )
    slack.emulator.wait_for(lambda calls: slack.emulator.responses_to("U0MATHS"))
    slack.sender.button(
        "U0MATHS", "monitoring_not_taught", request_of_row(digest, 1), message=digest
    )
    slack.emulator.wait_for(lambda calls: len(slack.emulator.responses_to("U0MATHS")) > 1)
    slack.sender.button("U0MATHS", "monitoring_open", request_of_row(digest), message=digest)
    slack.emulator.wait_for(lambda calls: slack.emulator.calls_to("views.open"))
    slack.sender.submit(
        "U0MATHS",
        slack.emulator.open_views()[-1],
        {
            "strategies": {"type": "radio_buttons", "selected_option": {"value": "no"}},
            "impact": {"type": "radio_buttons", "selected_option": {"value": "concern"}},
            "comment": {"type": "plain_text_input", "value": "Struggles to copy from the board"},
        },
    )
    # The SENDCo delegates Finn's plan; Priya declines it from the message, with a reason.
    slack.ask("U0SENDCO", "assign Finn Cole <@U0PRIYA|priya>")
    slack.emulator.wait_for(
        lambda calls: any("be case holder" in m["text"] for m in slack.emulator.messages)
    )
    (offer,) = [m for m in slack.emulator.messages_to("U0PRIYA") if "case holder" in m["text"]]
    opened = len(slack.emulator.calls_to("views.open"))
    decline = buttons_of(offer)[1]["value"]
    slack.sender.button("U0PRIYA", "ssp_assignment_decline", decline, message=offer)
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    reason = {"reason": {"type": "plain_text_input", "value": "Full caseload until February"}}
    slack.sender.submit("U0PRIYA", slack.emulator.open_views()[-1], reason)
    # The SENDCo returns Ava's plan from QA with comments.
    from tests.test_qa import decide, open_review

    decide(slack, open_review(slack), "return", "Please add the family's views on reading")
    slack.emulator.wait_for(
        lambda calls: any("returned the plan" in m["text"] for m in slack.emulator.messages)
    )
    wait_for_deliveries()

    posted = [text_of(m) for m in slack.emulator.messages]
    assert any("Saved." in text for text in posted)  # the digest was redrawn after the form
    assert any("Priya Shah can't take the plan for FC (Year 7)" in text for text in posted)
    assert any("returned the plan for AS (Year 9)" in text for text in posted)
    found = history_leaks(slack)
    assert not found, "\n".join(map(str, found[:10]))


# --- who is asking ----------------------------------------------------------------------------


@pytest.fixture
def guest(slack):
    """A Slack Connect guest from another workspace, with Tom Baker's email address."""
    tom = "tom.baker@brookside.example.org"
    slack.emulator.add_user("U0GUEST", email=tom, team_id="T0GUEST", connected=True)
    yield "U0GUEST"
    with slack.emulator._lock:
        slack.emulator.users.pop("U0GUEST", None)


def test_a_guest_from_another_workspace_is_not_linked_to_staff_by_email(slack, guest):
    refused = slack.ask(guest, "mine")
    assert "can't find you on your school's staff list" in refused["text"]
    with slack.sessions() as session:
        assert session.get(Staff, slack.ids["tom"]).slack_user_id is None
    # The real Tom, in the school's workspace, is matched as ever and sees his plan.
    assert "Cara Lin" in text_of(slack.ask("U0TOM", "mine"))
    assert "can't find you" in slack.ask(guest, "mine")["text"]


def test_a_member_of_staff_acting_from_another_team_is_refused(slack):
    """The request is for the school's workspace, but the person acting belongs to another:
    refused before anything is read, for a button, a form and the Home tab."""
    before = len(slack.emulator.responses_to("U0SENDCO"))
    slack.sender.button("U0SENDCO", "ssp_show_pupil", str(slack.ids["ava"]), user_team_id="T0GUEST")
    slack.emulator.wait_for(lambda calls: len(slack.emulator.responses_to("U0SENDCO")) > before)
    answer = slack.emulator.responses_to("U0SENDCO")[-1]
    assert answer["text"] == OTHER_WORKSPACE and "Ava" not in str(answer)

    from tests.test_qa import open_review

    modal = open_review(slack)
    approve = {"decision": {"type": "radio_buttons", "selected_option": {"value": "approve"}}}
    reply = slack.sender.submit("U0SENDCO", modal, approve, user_team_id="T0GUEST").json()
    assert OTHER_WORKSPACE in text_of(reply["view"])

    slack.sender.app_home_opened("U0SENDCO", user_team_id="T0GUEST")
    with pytest.raises(TimeoutError):
        slack.emulator.wait_for(lambda calls: slack.emulator.calls_to("views.publish"), timeout=1)
    with slack.sessions() as session:
        events = session.execute(select(AuditEvent.action, AuditEvent.detail)).all()
        # Opening the QA list and the form, before the refusal; no decision recorded.
        assert events[-1].detail == "quality assurance review"
        assert not [event for event in events if event.action == "update"]
        assert session.get(Plan, slack.ids["ava_plan"]).status == PlanStatus.AWAITING_QA
