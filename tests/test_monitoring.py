"""Teachers' monitoring feedback through Slack: who is asked, the digest, answers, the roll-up.

Brookside High (tests/slack_harness.py) plus a maths class, 9A/Ma1, taught by Mo Khan (U0MATHS)
and by a teacher who has left: Cara and 24 more pupils, each with a plan held by Priya whose
review is on Tuesday 1 December, so their teachers are asked now (15 school days before).
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from models import (
    Impact,
    MonitoringRequest,
    MonitoringStatus,
    Plan,
    PlanStatus,
    PlanTarget,
    Pupil,
    School,
    SenStage,
    Staff,
    StaffRole,
    StrategiesInPlace,
    TeachingGroup,
    TeachingGroupPupil,
    TeachingGroupTeacher,
)
from tests.slack_harness import buttons_of, text_of


def maths_class(session, ids):
    school = session.get(School, ids["school"])
    mo = Staff(
        school=school,
        email="mo.khan@brookside.example.org",
        first_name="Mo",
        last_name="Khan",
        slack_user_id="U0MATHS",
        department="Maths",
    )
    mo.set_roles({StaffRole.TEACHER})
    gone = Staff(
        school=school,
        email="old.teacher@brookside.example.org",
        first_name="Old",
        last_name="Teacher",
        is_active=False,
        left_on=date(2026, 10, 1),
    )
    gone.set_roles({StaffRole.TEACHER})
    group = TeachingGroup(school=school, code="9A/Ma1", subject="Maths", year_group=9)
    group.teachers = [TeachingGroupTeacher(staff=mo), TeachingGroupTeacher(staff=gone)]
    cara = session.get(Pupil, ids["cara"])
    members = [TeachingGroupPupil(pupil=cara)]
    for n in range(24):
        pupil = Pupil(
            school=school,
            upn=f"C82012345{n:04d}",
            first_name=f"Kit{n:02d}",
            last_name="Moss",
            date_of_birth=date(2012, 5, 6),
            year_group=9,
            form="9A",
            sen_stage=SenStage.SEN_SUPPORT,
        )
        plan = Plan(
            school=school,
            pupil=pupil,
            case_holder_id=ids["priya"],
            status=PlanStatus.ACTIVE,
            cycle_number=1,
            review_date=date(2026, 12, 1),
        )
        plan.targets = [PlanTarget(description="Use a number line for subtraction")]
        session.add_all([pupil, plan])
        members.append(TeachingGroupPupil(pupil=pupil))
    group.members = members
    session.add(group)
    session.flush()
    return {"mo": mo.id, "gone": gone.id}


@pytest.fixture
def school_extras():
    return maths_class


@pytest.fixture
def tick(slack, run_cli):
    slack.emulator.add_user("U0MATHS", email="mo.khan@brookside.example.org", real_name="Mo Khan")
    env = {"SLACK_BOT_TOKEN": slack.emulator.bot_token, "SLACK_API_URL": slack.emulator.api_url}

    def run(when: str) -> str:
        result = run_cli("tick", "--now", when, env=env)
        assert result.code == 0, result
        return result.out

    return run


def requests(slack, **where) -> list[MonitoringRequest]:
    with slack.sessions() as session:
        query = select(MonitoringRequest).order_by(MonitoringRequest.id)
        for name, value in where.items():
            query = query.where(getattr(MonitoringRequest, name) == value)
        return list(session.scalars(query))


def rows_of(message: dict) -> list[str]:
    return [
        b["text"]["text"]
        for b in message["blocks"]
        if b["type"] == "section" and b["text"]["text"].startswith("*Kit")
    ]


def request_of_row(message: dict, index: int = 0) -> str:
    actions = [b for b in message["blocks"] if b.get("block_id", "").startswith("request:")]
    return actions[index]["block_id"].split(":")[1]


def digest(slack, tick) -> dict:
    tick("2026-11-23T10:00:00+00:00")
    (message,) = slack.emulator.messages_to("U0MATHS")
    return message


# --- who is asked, and the digest -----------------------------------------------------------


def test_every_teacher_of_the_pupil_is_asked_in_one_digest(slack, tick):
    message = digest(slack, tick)
    asked = requests(slack)
    assert len(asked) == 24 and {r.teacher_id for r in asked} == {slack.ids["mo"]}
    assert {r.group_id for r in asked} == {asked[0].group_id}
    text = text_of(message)
    assert "24 pupils are waiting for your feedback" in text
    assert len(rows_of(message)) == 20 and "…and 4 more" in text  # Slack's 50-block limit
    assert "Kit00 Moss (Year 9) · 9A/Ma1 Maths" in text
    assert "number line" not in text  # targets are in the modal, not in Slack's history
    labels = {b["text"]["text"] for b in buttons_of(message)}
    assert labels == {"See the plan's strategies", "I don't teach this pupil"}
    tick("2026-11-23T14:00:00+00:00")
    assert len(slack.emulator.messages_to("U0MATHS")) == 1  # one digest a day
    assert slack.emulator.messages_to("U0LEE") == []  # Lee teaches none of these pupils
    (weekly,) = [m for m in slack.emulator.messages_to("U0SENDCO") if "SSP week" in text_of(m)]
    assert (
        "Staff monitoring feedback (teachers and support staff): 0 of 24 requests answered (0%)"
        in text_of(weekly)
    )


def test_feedback_now_asks_current_teachers_only(slack, tick):
    answer = slack.ask("U0SENDCO", "feedback Cara Lin")
    assert "Asked 2 teacher(s) for feedback on Cara Lin's plan: Lee Chan, Mo Khan" in text_of(
        answer
    )
    slack.emulator.wait_for(lambda calls: slack.emulator.messages_to("U0LEE"))
    (to_lee,) = slack.emulator.messages_to("U0LEE")
    assert "Morgan Reed would like your feedback" in text_of(to_lee)
    assert "Cara Lin (Year 9) · 9A/En1 English" in text_of(to_lee)
    assert {r.teacher_id for r in requests(slack, plan_id=cara_plan(slack))} == {
        slack.ids["lee"],
        slack.ids["mo"],
    }  # not the teacher who left
    one = slack.ask("U0PRIYA", "feedback Cara Lin")  # not Priya's pupil
    assert "couldn't find a pupil matching" in text_of(one)
    not_theirs = slack.ask("U0SENDCO", "feedback Ava Stone <@U0LEE|lee>")
    assert "doesn't teach Ava Stone" in text_of(not_theirs)


def test_one_reminder_in_the_digest_after_three_school_days(slack, tick):
    digest(slack, tick)
    for day in ("24", "25"):
        tick(f"2026-11-{day}T10:00:00+00:00")
    assert len(slack.emulator.messages_to("U0MATHS")) == 1
    tick("2026-11-26T10:00:00+00:00")
    assert len(slack.emulator.messages_to("U0MATHS")) == 2
    for day in ("27", "30"):
        tick(f"2026-11-{day}T10:00:00+00:00")
    assert len(slack.emulator.messages_to("U0MATHS")) == 2


# --- answering --------------------------------------------------------------------------------


def test_two_clicks_answer_and_the_answer_can_change(slack, tick):
    message = digest(slack, tick)
    request_id = request_of_row(message)
    slack.sender.choose("U0MATHS", "monitoring_strategies", f"{request_id}:yes", message=message)
    first = slack.emulator.wait_for(lambda calls: slack.emulator.responses_to("U0MATHS"))[-1]
    assert "Saved for Kit00 Moss" in text_of(first) and first["replace_original"] is True
    (row,) = requests(slack, id=int(request_id))
    assert (row.strategies, row.status) == (StrategiesInPlace.YES, MonitoringStatus.OPEN)
    slack.sender.choose("U0MATHS", "monitoring_impact", f"{request_id}:some_progress")
    slack.emulator.wait_for(lambda calls: len(slack.emulator.responses_to("U0MATHS")) > 1)
    (row,) = requests(slack, id=int(request_id))
    assert (row.impact, row.status) == (Impact.SOME_PROGRESS, MonitoringStatus.ANSWERED)
    redrawn = slack.emulator.responses_to("U0MATHS")[-1]
    assert "23 pupils are waiting" in text_of(redrawn)
    assert "Some progress" not in text_of(redrawn)  # the answer is not kept in Slack

    # Changing it in the modal, with the plan's strategies shown.
    opened = len(slack.emulator.calls_to("views.open"))
    slack.sender.button("U0MATHS", "monitoring_open", request_id)
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    modal = slack.emulator.open_views("U0MATHS")[-1]
    assert "Use a number line for subtraction" in text_of({"blocks": modal["blocks"]})
    concern = {"impact": {"type": "radio_buttons", "selected_option": {"value": "concern"}}}
    refused = slack.sender.submit("U0MATHS", modal, concern).json()
    assert refused["errors"] == {
        "comment": "Say what concerns you, so the case holder can act on it."
    }
    saved = slack.sender.submit(
        "U0MATHS",
        modal,
        {**concern, "comment": {"type": "plain_text_input", "value": "Stuck on negatives"}},
    ).json()
    assert "feedback on Kit00 Moss's plan is saved" in text_of(saved["view"])
    (row,) = requests(slack, id=int(request_id))
    assert (row.impact, row.strategies, row.comment) == (
        Impact.CONCERN,
        StrategiesInPlace.YES,
        "Stuck on negatives",
    )


def test_i_dont_teach_this_pupil_removes_it_and_flags_the_class(slack, tick):
    message = digest(slack, tick)
    request_id = request_of_row(message)
    slack.sender.button("U0MATHS", "monitoring_not_taught", request_id)
    answer = slack.emulator.wait_for(lambda calls: slack.emulator.responses_to("U0MATHS"))[-1]
    assert "Removed Kit00 Moss. The SENDCo will check the class list" in text_of(answer)
    (row,) = requests(slack, id=int(request_id))
    assert row.status == MonitoringStatus.WITHDRAWN
    school = text_of(slack.ask("U0SENDCO", "monitoring"))
    assert "Class lists to check" in school and "Kit00 Moss · Mo Khan (9A/Ma1 Maths)" in school


def test_a_late_answer_after_the_review_is_politely_refused(slack, tick):
    from tests.test_reviews import full_notes, open_by_command

    message = digest(slack, tick)
    request_id = request_of_row(message)
    view = open_by_command(slack, "U0PRIYA", "review Kit00")
    assert slack.sender.submit("U0PRIYA", view, full_notes(view)).json()["response_action"] == (
        "update"
    )
    assert requests(slack, id=int(request_id))[0].status == MonitoringStatus.CLOSED
    slack.sender.choose("U0MATHS", "monitoring_impact", f"{request_id}:concern")
    late = slack.emulator.wait_for(lambda calls: slack.emulator.responses_to("U0MATHS"))[-1]
    assert "this review has closed" in text_of(late)
    assert requests(slack, id=int(request_id))[0].impact is None


def test_only_the_teacher_answers_and_only_staff_who_may_see_read_the_answers(slack, tick):
    message = digest(slack, tick)
    request_id = request_of_row(message)
    slack.sender.choose("U0LEE", "monitoring_impact", f"{request_id}:concern")
    refused = slack.emulator.wait_for(lambda calls: slack.emulator.responses_to("U0LEE"))[-1]
    assert "isn't yours to answer" in text_of(refused)
    assert requests(slack, id=int(request_id))[0].impact is None

    answer_with_comment(slack, request_id, "Uses the number line every lesson")
    # The case holder and the SENDCo see it; another teacher of the pupil does not.
    for user in ("U0PRIYA", "U0SENDCO", "U0SLT"):
        shown = text_of(slack.ask(user, "pupil Kit00"))
        assert "1 of 1 teachers answered" in shown
        assert "Mo Khan (Maths): Uses the number line every lesson" in shown
    slack.ask("U0SENDCO", "feedback Cara Lin")
    lee_view = text_of(slack.ask("U0LEE", "pupil Cara Lin"))
    assert "teachers answered" not in lee_view and "Mo Khan" not in lee_view


def test_the_feedback_rolls_up_into_the_review(slack, tick):
    asked = slack.ask("U0PRIYA", "feedback Kit00")
    assert "Asked 1 teacher(s) for feedback on Kit00 Moss's plan: Mo Khan" in text_of(asked)
    (message,) = slack.emulator.wait_for(lambda calls: slack.emulator.messages_to("U0MATHS"))
    assert "Priya Shah would like your feedback" in text_of(message)
    answer_with_comment(slack, request_of_row(message), "Uses the number line every lesson")
    tick("2026-11-23T10:00:00+00:00")
    prompt = next(m for m in slack.emulator.messages_to("U0PRIYA") if "Kit00" in text_of(m))
    assert "1 of 1 teachers have sent feedback" in text_of(prompt)
    assert "number line" not in text_of(prompt)  # the comment stays out of the DM

    from tests.test_reviews import open_by_command

    view = open_by_command(slack, "U0PRIYA", "review Kit00")
    shown = text_of({"blocks": view["blocks"]})
    assert "Teachers' feedback this cycle" in shown
    assert "1 of 1 teachers answered; strategies in place: 1 yes; impact: 1 good progress" in shown
    assert "Mo Khan (Maths): Uses the number line every lesson" in shown
    caseload = text_of(slack.ask("U0SENDCO", "caseload"))
    assert "(1/24 answered)" in caseload


def test_monitoring_is_for_whole_school_staff(slack):
    for user in ("U0PRIYA", "U0LEE", "U0TA"):
        assert "for the SENDCo and senior leaders" in text_of(slack.ask(user, "monitoring"))


# --- helpers --------------------------------------------------------------------------------


def cara_plan(slack) -> int:
    with slack.sessions() as session:
        return session.scalar(select(Plan.id).where(Plan.pupil_id == slack.ids["cara"]))


def answer_with_comment(slack, request_id: str, comment: str) -> None:
    opened = len(slack.emulator.calls_to("views.open"))
    slack.sender.button("U0MATHS", "monitoring_open", request_id)
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    modal = slack.emulator.open_views("U0MATHS")[-1]
    slack.sender.submit(
        "U0MATHS",
        modal,
        {
            "strategies": {"type": "radio_buttons", "selected_option": {"value": "yes"}},
            "impact": {"type": "radio_buttons", "selected_option": {"value": "good_progress"}},
            "comment": {"type": "plain_text_input", "value": comment},
        },
    )


def test_every_one_click_answer_is_recorded(slack, tick):
    message = digest(slack, tick)
    choices = [("monitoring_strategies", s.value) for s in StrategiesInPlace] + [
        ("monitoring_impact", i.value) for i in Impact
    ]
    for index, (action, value) in enumerate(choices):
        request_id = request_of_row(message, index)
        before = len(slack.emulator.responses_to("U0MATHS"))
        slack.sender.choose("U0MATHS", action, f"{request_id}:{value}")
        slack.emulator.wait_for(
            lambda calls, before=before: len(slack.emulator.responses_to("U0MATHS")) > before
        )
        (row,) = requests(slack, id=int(request_id))
        field = "strategies" if action == "monitoring_strategies" else "impact"
        assert getattr(row, field).value == value


def test_a_request_made_after_todays_digest_waits_for_tomorrows(slack, tick):
    digest(slack, tick)
    with slack.sessions.begin() as session:
        group = session.scalar(select(TeachingGroup).where(TeachingGroup.code == "9A/Ma1"))
        pupil = Pupil(
            school_id=slack.ids["school"],
            upn="D820123450001",
            first_name="Late",
            last_name="Joiner",
            date_of_birth=date(2012, 5, 6),
            year_group=9,
        )
        session.add(
            Plan(
                school_id=slack.ids["school"],
                pupil=pupil,
                case_holder_id=slack.ids["priya"],
                status=PlanStatus.ACTIVE,
                review_date=date(2026, 12, 1),
            )
        )
        session.add(TeachingGroupPupil(group=group, pupil=pupil))
    tick("2026-11-23T14:00:00+00:00")
    assert len(requests(slack)) == 25
    assert len(slack.emulator.messages_to("U0MATHS")) == 1  # one digest a day
    tick("2026-11-24T10:00:00+00:00")
    second = slack.emulator.messages_to("U0MATHS")[-1]
    assert len(slack.emulator.messages_to("U0MATHS")) == 2
    assert "25 pupils are waiting" in text_of(second)


# --- what the redrawn message says, and which message it is ---------------------------------


def test_in_initials_mode_an_answer_redraws_the_message_with_initials(slack, tick):
    from models import PupilDisplay

    with slack.sessions.begin() as session:
        session.get(School, slack.ids["school"]).pupil_display = PupilDisplay.INITIALS
    message = digest(slack, tick)
    assert "Kit00" not in text_of(message)
    slack.sender.choose(
        "U0MATHS", "monitoring_strategies", f"{request_of_row(message)}:yes", message=message
    )
    saved = slack.emulator.wait_for(lambda calls: slack.emulator.responses_to("U0MATHS"))[-1]
    assert "Saved for KM. Thank you." in text_of(saved) and "Kit00" not in text_of(saved)
    slack.sender.button(
        "U0MATHS", "monitoring_not_taught", request_of_row(message, 1), message=message
    )
    slack.emulator.wait_for(lambda calls: len(slack.emulator.responses_to("U0MATHS")) > 1)
    removed = slack.emulator.responses_to("U0MATHS")[-1]
    assert "Removed KM." in text_of(removed) and "Kit01" not in text_of(removed)
    (kept,) = slack.emulator.messages_to("U0MATHS")  # as Slack's history now holds it
    assert "Removed KM." in text_of(kept) and "Kit0" not in text_of(kept)


def test_a_forged_form_cannot_redraw_someone_elses_message(slack, tick):
    """The monitoring form names the message it came from; a form naming Priya's DM must not
    put Mo's requests in it. Mo's own digest is redrawn instead."""
    message = digest(slack, tick)
    victim = slack.emulator.messages_to("U0PRIYA")[0]  # her review prompt, from the same tick
    before = {key: victim[key] for key in ("text", "blocks")}
    request_id = request_of_row(message)
    opened = len(slack.emulator.calls_to("views.open"))
    slack.sender.button("U0MATHS", "monitoring_open", request_id, message=message)
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    modal = slack.emulator.open_views("U0MATHS")[-1]
    forged = {
        **modal,
        "private_metadata": json.dumps(
            {"request_id": int(request_id), "channel": victim["channel"], "ts": victim["ts"]}
        ),
    }
    answer = {
        "strategies": {"type": "radio_buttons", "selected_option": {"value": "yes"}},
        "impact": {"type": "radio_buttons", "selected_option": {"value": "good_progress"}},
    }
    assert slack.sender.submit("U0MATHS", forged, answer).json()["response_action"] == "update"
    updated = slack.emulator.wait_for(lambda calls: slack.emulator.calls_to("chat.update"))
    assert [call.params["channel"] for call in updated] == [message["channel"]]
    (after,) = [m for m in slack.emulator.messages if m["ts"] == victim["ts"]]
    assert {key: after[key] for key in ("text", "blocks")} == before
    (mine,) = slack.emulator.messages_to("U0MATHS")
    assert "Saved." in text_of(mine) and "23 pupils are waiting" in text_of(mine)
