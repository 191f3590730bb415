"""What case holders receive when a plan is delegated to them, and how they answer."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from models import AssignmentStatus, CaseHolderAssignment, Plan, PlanStatus
from tests.slack_harness import buttons_of, text_of
from tests.test_team import more_pupils


@pytest.fixture
def school_extras():
    return more_pupils


def dms_to(slack, user: str, count: int = 1) -> list[dict]:
    slack.emulator.wait_for(lambda calls: len(slack.emulator.messages_to(user)) >= count)
    return slack.emulator.messages_to(user)


def about_finn(slack) -> list[dict]:
    """Priya's DMs about Finn: the scheduler also prompts her about her other pupils' reviews."""
    return [m for m in slack.emulator.messages_to("U0PRIYA") if "Finn Cole" in text_of(m)]


def assignment_of(slack, key: str) -> CaseHolderAssignment:
    with slack.sessions() as session:
        return session.scalars(
            select(CaseHolderAssignment)
            .join(Plan)
            .where(Plan.pupil_id == slack.ids[key])
            .order_by(CaseHolderAssignment.id)
        ).all()[-1]


def test_the_case_holder_is_told_by_dm_with_only_the_pupil_and_the_ask(slack):
    slack.ask("U0SENDCO", "assign Finn Cole <@U0PRIYA|priya>")
    (message,) = dms_to(slack, "U0PRIYA")
    text = text_of(message)
    assert "Morgan Reed has asked you to be the case holder" in text
    assert "Finn Cole (Year 7)" in text and "draft the plan" in text
    assert "SLCN" not in text and "Speech" not in text  # no needs in a message Slack keeps
    assert [b["text"]["text"] for b in buttons_of(message)] == [
        "Accept",
        "I can't take this",
        "Open plan",
    ]


def test_accepting(slack):
    slack.ask("U0SENDCO", "assign Finn Cole <@U0PRIYA|priya>")
    (message,) = dms_to(slack, "U0PRIYA")
    accept = buttons_of(message)[0]
    answer = slack.click("U0PRIYA", "ssp_assignment_accept", accept["value"])
    assert "You accepted this plan" in text_of(answer) and answer["replace_original"] is True
    assert assignment_of(slack, "finn").status == AssignmentStatus.ACCEPTED
    again = slack.click("U0PRIYA", "ssp_assignment_accept", accept["value"])
    assert "already been accepted" in text_of(again)
    assert "isn't yours" in text_of(slack.click("U0TOM", "ssp_assignment_accept", accept["value"]))


def test_declining_needs_a_reason_which_goes_back_to_the_sendco(slack):
    slack.ask("U0SENDCO", "assign Finn Cole <@U0PRIYA|priya>")
    (message,) = dms_to(slack, "U0PRIYA")
    opened = len(slack.emulator.calls_to("views.open"))
    slack.sender.button("U0PRIYA", "ssp_assignment_decline", buttons_of(message)[1]["value"])
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    modal = slack.emulator.open_views()[-1]
    empty = slack.sender.submit(
        "U0PRIYA", modal, {"reason": {"type": "plain_text_input", "value": None}}
    ).json()
    assert empty["response_action"] == "errors" and "reason" in empty["errors"]
    slack.sender.submit(
        "U0PRIYA",
        modal,
        {"reason": {"type": "plain_text_input", "value": "Full caseload this term"}},
    )
    assignment = assignment_of(slack, "finn")
    assert assignment.status == AssignmentStatus.DECLINED
    assert assignment.response_reason == "Full caseload this term"
    (told,) = dms_to(slack, "U0SENDCO")
    assert "Priya Shah can't take the plan for Finn Cole" in text_of(told)
    assert "Full caseload" not in text_of(told)  # the reason stays out of Slack's history
    assert "Finn Cole" in text_of(slack.ask("U0SENDCO", "priority"))


def test_reassigning_thanks_the_previous_case_holder(slack):
    slack.ask("U0SENDCO", "assign Ava Stone <@U0TOM|tom>")
    assert "handed to Tom Baker" in text_of(dms_to(slack, "U0PRIYA")[0])
    assert "case holder for the SEN Support Plan of Ava Stone" in text_of(
        dms_to(slack, "U0TOM")[0]
    )  # Tom is matched to his Slack account by email on the way


def test_returning_a_plan_tells_its_case_holder(slack):
    with slack.sessions.begin() as session:
        session.get(Plan, slack.ids["ava_plan"]).status = PlanStatus.AWAITING_QA
    from tests.test_qa import decide, open_review

    decide(slack, open_review(slack), "return", "Please add the family's views")
    (message,) = dms_to(slack, "U0PRIYA")
    assert "returned the plan for Ava Stone" in text_of(message)
    assert "family" not in text_of(message)  # the comments are in the plan, not the message


def test_a_reminder_after_two_school_days_then_the_sendco_is_told(slack, run_cli):
    env = {"SLACK_BOT_TOKEN": slack.emulator.bot_token, "SLACK_API_URL": slack.emulator.api_url}

    slack.ask("U0SENDCO", "assign Finn Cole <@U0PRIYA|priya>")  # Monday 23 November
    dms_to(slack, "U0PRIYA")
    run_cli("tick", "--now", "2026-11-24T10:00:00+00:00", env=env)  # one school day later
    assert len(about_finn(slack)) == 1
    ticked = run_cli("tick", "--now", "2026-11-25T10:00:00+00:00", env=env)
    assert ticked.code == 0 and "1 assignment reminder(s) queued" in ticked.out
    reminder = about_finn(slack)[-1]
    assert text_of(reminder).startswith("Reminder:")
    run_cli("tick", "--now", "2026-11-26T10:00:00+00:00", env=env)
    assert len(about_finn(slack)) == 2  # reminded once only
    text = text_of(slack.ask("U0SENDCO", "caseload"))
    assert "Priya Shah hasn't answered the assignment for Finn Cole" in text


def test_a_rate_limit_is_waited_out_and_the_message_still_arrives(slack):
    slack.emulator.fail_next("chat.postMessage", "ratelimited", retry_after=1)
    slack.ask("U0SENDCO", "assign Finn Cole <@U0PRIYA|priya>")
    slack.emulator.wait_for(lambda calls: slack.emulator.messages_to("U0PRIYA"), timeout=10)
    statuses = [c.http_status for c in slack.emulator.calls_to("chat.postMessage")]
    assert statuses == [429, 200]


def test_a_case_holder_slack_cannot_reach_is_reported_to_the_sendco(slack):
    # Tom has no Slack id on file and his account has been deactivated.
    slack.emulator.add_user("U0TOM", email="tom.baker@brookside.example.org", deleted=True)
    opened = len(slack.emulator.calls_to("views.open"))
    slack.sender.button("U0SENDCO", "ssp_assign_open", str(slack.ids["finn"]))
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    modal = slack.emulator.open_views()[-1]
    holder = next(b for b in modal["blocks"] if b.get("block_id") == "holder")
    tom = next(o for o in holder["element"]["options"] if o["text"]["text"].startswith("Tom"))
    slack.sender.submit(
        "U0SENDCO",
        modal,
        {
            "holder": {"type": "static_select", "selected_option": tom},
            "reason": {"type": "plain_text_input", "value": None},
        },
    )
    import time

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        text = text_of(slack.ask("U0SENDCO", "caseload"))
        if "Couldn't reach Tom Baker" in text:
            break
        time.sleep(0.2)
    assert "Couldn't reach Tom Baker (assignment notice)" in text


def test_a_school_can_name_pupils_by_initials_in_messages(slack, run_cli):
    result = run_cli("school", "set", "Brookside High", "--pupil-display", "initials")
    assert result.code == 0 and "by initials" in result.out
    slack.ask("U0SENDCO", "assign Finn Cole <@U0PRIYA|priya>")
    text = text_of(dms_to(slack, "U0PRIYA")[0])
    assert "FC (Year 7)" in text and "Finn" not in text


def test_the_reminder_counts_school_days_on_the_schools_calendar(slack, run_cli, tmp_path):
    terms = tmp_path / "terms.csv"
    terms.write_text(
        "kind,name,start_date,end_date\n"
        "term,Autumn 2,2026-11-02,2026-12-18\n"
        "closure,INSET days,2026-11-24,2026-11-25\n"
    )
    assert run_cli("import", "terms", str(terms), "--school", "Brookside High").code == 0
    env = {"SLACK_BOT_TOKEN": slack.emulator.bot_token, "SLACK_API_URL": slack.emulator.api_url}
    slack.ask("U0SENDCO", "assign Finn Cole <@U0PRIYA|priya>")  # Monday 23 November
    dms_to(slack, "U0PRIYA")
    run_cli("tick", "--now", "2026-11-26T10:00:00+00:00", env=env)  # only one school day later
    assert len(about_finn(slack)) == 1
    run_cli("tick", "--now", "2026-11-27T10:00:00+00:00", env=env)
    assert text_of(about_finn(slack)[-1]).startswith("Reminder:")


# --- the message an answer redraws ----------------------------------------------------------


def decline_form(slack, user: str, value: str, message: dict | None = None) -> dict:
    opened = len(slack.emulator.calls_to("views.open"))
    slack.sender.button(user, "ssp_assignment_decline", value, message=message)
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    return slack.emulator.open_views()[-1]


REASON = {"reason": {"type": "plain_text_input", "value": "Full caseload this term"}}


def test_declining_redraws_the_case_holders_own_message_without_its_buttons(slack):
    slack.ask("U0SENDCO", "assign Finn Cole <@U0PRIYA|priya>")
    (message,) = dms_to(slack, "U0PRIYA")
    modal = decline_form(slack, "U0PRIYA", buttons_of(message)[1]["value"], message)
    assert "channel" not in modal["private_metadata"]  # the target is not the form's to say
    slack.sender.submit("U0PRIYA", modal, REASON)
    slack.emulator.wait_for(lambda calls: slack.emulator.calls_to("chat.update"))
    (redrawn,) = slack.emulator.messages_to("U0PRIYA")
    assert "The SENDCo has been told" in text_of(redrawn)
    assert [b["action_id"] for b in buttons_of(redrawn)] == []


def test_a_forged_decline_form_changes_nobody_elses_message(slack):
    """Tom may not answer Priya's assignment; a form naming her DM must leave it alone, and his
    refused answer must not redraw anything."""
    slack.ask("U0SENDCO", "assign Finn Cole <@U0PRIYA|priya>")
    (message,) = dms_to(slack, "U0PRIYA")
    before = {key: message[key] for key in ("text", "blocks")}
    modal = decline_form(slack, "U0TOM", buttons_of(message)[1]["value"])
    forged = {
        **modal,
        "private_metadata": json.dumps(
            {
                "assignment_id": int(buttons_of(message)[1]["value"]),
                "channel": message["channel"],
                "ts": message["ts"],
            }
        ),
    }
    answer = slack.sender.submit("U0TOM", forged, REASON).json()
    assert "isn't yours" in text_of(answer["view"])
    with pytest.raises(TimeoutError):  # the listener goes on after its answer: give it time
        slack.emulator.wait_for(lambda calls: slack.emulator.calls_to("chat.update"), timeout=1)
    (after,) = slack.emulator.messages_to("U0PRIYA")
    assert {key: after[key] for key in ("text", "blocks")} == before
    assert assignment_of(slack, "finn").status == AssignmentStatus.PENDING
