"""Replies in chat: a reply in the thread of a monitoring request or a review prompt is filed as
that person's comment on the pupil's plan, confirmed privately with Undo and Edit; edits and
deletions in Slack follow; Slack's retries file once; anyone else's reply files nothing.

Brookside High (tests/slack_harness.py): Lee Chan teaches Cara Lin and is asked for feedback on
her plan; Priya Shah holds Ava Stone's plan, whose review is overdue.
"""

from __future__ import annotations

import time
from datetime import date

from sqlalchemy import select

from models import (
    AuditEvent,
    ChatReply,
    MonitoringRequest,
    MonitoringStatus,
    Plan,
    PlanStatus,
    ProcessedEvent,
    Prompt,
    PromptKind,
    Staff,
    TeachingGroupTeacher,
    TimelineEntry,
)
from tests.slack_harness import buttons_of, text_of


def ask_lee(slack) -> dict:
    """The SENDCo asks Lee for feedback on Cara's plan; returns the request as posted."""
    slack.ask("U0SENDCO", "feedback Cara Lin")
    (request,) = slack.emulator.wait_for(lambda calls: slack.emulator.messages_to("U0LEE"))
    return request


def ephemerals_to(slack, user: str, count: int) -> list[dict]:
    slack.emulator.wait_for(
        lambda calls: len([e for e in slack.emulator.ephemerals if e["user"] == user]) >= count,
        timeout=20,  # the machine may be busy: what matters is that it comes
    )
    return [e for e in slack.emulator.ephemerals if e["user"] == user]


def comment(slack, pupil: str = "cara") -> str | None:
    """Lee's comment on his request about the pupil."""
    with slack.sessions() as session:
        request = session.scalar(
            select(MonitoringRequest)
            .join(Plan, Plan.id == MonitoringRequest.plan_id)
            .where(
                MonitoringRequest.teacher_id == slack.ids["lee"],
                Plan.pupil_id == slack.ids[pupil],
            )
        )
        return request.comment


def audited(slack, school: str = "school") -> list[tuple[str, str]]:
    """The audit log's "reply in chat" events of Brookside High (or, by the id of a person of
    Hillside School, that school's)."""
    with slack.sessions() as session:
        school_id = (
            slack.ids["school"]
            if school == "school"
            else session.get(Staff, slack.ids[school]).school_id
        )
        return [
            (e.action, e.detail)
            for e in session.scalars(
                select(AuditEvent)
                .where(AuditEvent.via == "reply in chat", AuditEvent.school_id == school_id)
                .order_by(AuditEvent.id)
            )
        ]


def settle(slack) -> None:
    """Gives the app time to act on events sent (Bolt runs listeners after the ack, on its own
    threads): for asserting that nothing happened. Where something does happen, tests wait for
    it instead."""
    from handlers.context import wait_for_background_work

    time.sleep(1.5)
    wait_for_background_work()


def until(slack, condition) -> None:
    slack.emulator.wait_for(lambda calls: condition(), timeout=20)


def events_seen(slack) -> int:
    with slack.sessions() as session:
        return len(session.scalars(select(ProcessedEvent)).all())


def reply_statuses(slack) -> list[str]:
    with slack.sessions() as session:
        return [r.status for r in session.scalars(select(ChatReply).order_by(ChatReply.id))]


def test_a_reply_in_a_monitoring_requests_thread_is_the_teachers_comment(slack):
    request = ask_lee(slack)
    assert "stays in Slack's history" in text_of(request)  # said once, in the request
    reply = slack.sender.direct_message(
        "U0LEE", "Using the visual timetable daily; calmer starts.", thread_ts=request["ts"]
    )
    assert reply.status == 200
    (said,) = ephemerals_to(slack, "U0LEE", 1)
    assert said["thread_ts"] == request["ts"] and said["channel"] == request["channel"]
    assert said["text"] == "Filed as your comment on Cara Lin's plan."
    assert [b["text"]["text"] for b in buttons_of(said)] == ["Undo", "Edit"]
    assert comment(slack) == "Using the visual timetable daily; calmer starts."
    assert audited(slack) == [("update", "reply in chat filed as monitoring feedback comment")]

    # Slack's retry of the same event: filed once, nothing said twice.
    assert slack.sender.replay({"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    # The same message delivered again under a new event id (a redelivery): still once.
    slack.sender.direct_message(
        "U0LEE",
        "Using the visual timetable daily; calmer starts.",
        thread_ts=request["ts"],
        ts=slack.sender.last_ts,
    )
    until(slack, lambda: events_seen(slack) >= 2)  # the first, and the redelivery
    settle(slack)
    assert comment(slack) == "Using the visual timetable daily; calmer starts."
    assert len(ephemerals_to(slack, "U0LEE", 1)) == 1
    with slack.sessions() as session:
        assert len(session.scalars(select(ChatReply)).all()) == 1

    # Lee edits the message in Slack, then deletes it: the comment follows.
    ts = slack.sender.last_ts
    slack.sender.message_changed(
        "U0LEE", ts, "Visual timetable used daily.", thread_ts=request["ts"]
    )
    slack.emulator.wait_for(lambda calls: comment(slack) == "Visual timetable used daily.")
    slack.sender.message_deleted("U0LEE", ts)
    slack.emulator.wait_for(lambda calls: comment(slack) is None)
    assert [d for _, d in audited(slack)][-2:] == [
        "reply in chat edited",
        "reply in chat removed (deleted in Slack)",
    ]


def test_undo_and_edit_are_for_the_author_only(slack):
    request = ask_lee(slack)
    slack.sender.direct_message("U0LEE", "Good focus this week.", thread_ts=request["ts"])
    (said,) = ephemerals_to(slack, "U0LEE", 1)
    reply_id = buttons_of(said)[0]["value"]
    assert reply_id.isdigit()  # ids only in a button

    # The SENDCo, replaying Lee's buttons: refused, nothing changed, refusal audited.
    refused = slack.click("U0SENDCO", "chat_reply_undo", reply_id)
    assert "isn't yours" in text_of(refused)
    refused = slack.click("U0SENDCO", "chat_reply_edit", reply_id)
    assert "isn't yours" in text_of(refused)
    assert slack.emulator.open_views("U0SENDCO") == []
    assert comment(slack) == "Good focus this week."
    assert [a for a in audited(slack) if a[0] == "refused"] == [
        ("refused", "tried to undo someone else's reply in chat"),
        ("refused", "tried to edit someone else's reply in chat"),
    ]

    # Lee edits it in the form, prefilled with what he wrote; an empty one is refused beside
    # the field, and nothing is lost.
    assert slack.sender.button("U0LEE", "chat_reply_edit", reply_id).status == 200
    (form,) = slack.emulator.wait_for(lambda calls: slack.emulator.open_views("U0LEE"))
    field = next(b for b in form["blocks"] if b["type"] == "input")
    assert field["element"]["initial_value"] == "Good focus this week."
    empty = slack.sender.submit(
        "U0LEE", form, {"reply_text": {"type": "plain_text_input", "value": " "}}
    )
    assert empty.json()["response_action"] == "errors"
    assert "empty" in empty.json()["errors"]["reply_text"]
    assert comment(slack) == "Good focus this week."
    saved = slack.sender.submit(
        "U0LEE",
        form,
        {"reply_text": {"type": "plain_text_input", "value": "Good focus, 4/5 lessons."}},
    )
    assert saved.status == 200 and saved.body == ""
    assert comment(slack) == "Good focus, 4/5 lessons."

    undone = slack.click("U0LEE", "chat_reply_undo", reply_id)
    assert text_of(undone) == "Removed from Cara Lin's plan."
    assert comment(slack) is None
    late = slack.click("U0LEE", "chat_reply_edit", reply_id)  # an Edit kept from before
    assert "was removed, so there is nothing to edit" in text_of(late)


def test_a_reply_keeps_what_the_form_said(slack):
    request = ask_lee(slack)
    with slack.sessions.begin() as session:
        row = session.scalar(
            select(MonitoringRequest).where(MonitoringRequest.teacher_id == slack.ids["lee"])
        )
        row.comment = "From the form."
    slack.sender.direct_message("U0LEE", "From chat.", thread_ts=request["ts"])
    (said,) = ephemerals_to(slack, "U0LEE", 1)
    assert comment(slack) == "From the form.\n\nFrom chat."
    # Once the review has closed the request, what it used stays as it was.
    with slack.sessions.begin() as session:
        row = session.scalar(
            select(MonitoringRequest).where(MonitoringRequest.teacher_id == slack.ids["lee"])
        )
        row.status = MonitoringStatus.CLOSED
    closed = slack.click("U0LEE", "chat_reply_undo", buttons_of(said)[0]["value"])
    assert "can't be changed now" in text_of(closed)
    slack.sender.message_deleted("U0LEE", slack.sender.last_ts)
    refused = ("refused", "reply in chat no longer open to change")
    until(slack, lambda: audited(slack)[-2:] == [refused] * 2)
    assert comment(slack) == "From the form.\n\nFrom chat."
    with slack.sessions.begin() as session:
        session.get(MonitoringRequest, row.id).status = MonitoringStatus.OPEN
    slack.click("U0LEE", "chat_reply_undo", buttons_of(said)[0]["value"])
    assert comment(slack) == "From the form."


def test_a_reply_to_a_review_prompt_is_a_note_on_the_plans_timeline(slack, tick):
    tick("2026-11-23T10:00:00+00:00")
    with slack.sessions() as session:
        prompt = session.scalar(
            select(Prompt).where(
                Prompt.kind == PromptKind.REVIEW_DUE, Prompt.plan_id == slack.ids["ava_plan"]
            )
        )
        thread = prompt.slack_ts
    (message,) = [m for m in slack.emulator.messages_to("U0PRIYA") if m["ts"] == thread]
    assert "stays in Slack's history" in text_of(message)
    slack.sender.direct_message("U0PRIYA", "Meeting moved to Thursday.", thread_ts=thread)
    (said,) = ephemerals_to(slack, "U0PRIYA", 1)
    assert said["text"] == "Filed as your comment on Ava Stone's plan."

    def notes():
        with slack.sessions() as session:
            return [
                (e.summary, e.author_id, e.shared_with_family)
                for e in session.scalars(
                    select(TimelineEntry).where(
                        TimelineEntry.plan_id == slack.ids["ava_plan"],
                        TimelineEntry.summary.like("Meeting%"),
                    )
                )
            ]

    assert notes() == [("Meeting moved to Thursday.", slack.ids["priya"], False)]  # staff only
    assert audited(slack) == [("update", "reply in chat filed as a note on the timeline")]
    reply_id = buttons_of(said)[0]["value"]
    # Lee is not Priya: her Undo does nothing for him.
    assert "isn't yours" in text_of(slack.click("U0LEE", "chat_reply_undo", reply_id))
    assert notes() != []
    slack.click("U0PRIYA", "chat_reply_undo", reply_id)
    assert notes() == []


def test_a_message_outside_a_thread_asks_which_pupil(slack, tick):
    tick("2026-11-23T10:00:00+00:00")
    slack.sender.direct_message("U0PRIYA", "Spoke to mum today, all fine.")
    (asked,) = ephemerals_to(slack, "U0PRIYA", 1)
    assert "Which pupil is this about?" in text_of(asked)
    choices = {b["text"]["text"]: b["value"] for b in buttons_of(asked)}
    assert set(choices) == {"Ava Stone", "Ben Stone"}  # her pupils with review prompts
    assert all("mum" not in value for value in choices.values())  # the text stays with us
    # Lee clicking Priya's choice: refused, nothing filed.
    assert "isn't yours" in text_of(
        slack.click("U0LEE", "chat_reply_pupil_0", choices["Ben Stone"])
    )
    filed = slack.click("U0PRIYA", "chat_reply_pupil_1", choices["Ben Stone"])
    assert text_of(filed).startswith("Filed as your comment on Ben Stone's plan.")
    with slack.sessions() as session:
        (entry,) = session.scalars(
            select(TimelineEntry).where(TimelineEntry.summary == "Spoke to mum today, all fine.")
        )
        assert session.get(Plan, entry.plan_id).pupil_id == slack.ids["ben"]
    # Chosen once: a second click files nothing more.
    again = slack.click("U0PRIYA", "chat_reply_pupil_0", choices["Ava Stone"])
    assert "already filed" in text_of(again)

    # A message deleted before its pupil is chosen: nothing to file.
    slack.sender.direct_message("U0PRIYA", "Wrong window, sorry.")
    (_, second) = ephemerals_to(slack, "U0PRIYA", 2)
    slack.sender.message_deleted("U0PRIYA", slack.sender.last_ts)
    until(slack, lambda: reply_statuses(slack)[-1] == "removed")
    late = slack.click("U0PRIYA", "chat_reply_pupil_0", buttons_of(second)[0]["value"])
    assert "You deleted that message" in text_of(late)
    with slack.sessions() as session:
        assert (
            session.scalars(
                select(TimelineEntry).where(TimelineEntry.summary.like("Wrong window%"))
            ).all()
            == []
        )

    # Someone with no open requests gets the usual hint.
    slack.sender.direct_message("U0LEE", "hello?")
    (hint,) = ephemerals_to(slack, "U0LEE", 1)
    assert "Type `/ssp help`" in hint["text"]


def test_a_reply_in_someone_elses_thread_files_nothing(slack):
    request = ask_lee(slack)
    # Forged: the SENDCo's event naming Lee's DM and request thread.
    slack.sender.direct_message(
        "U0SENDCO", "Overwrite", thread_ts=request["ts"], channel=request["channel"]
    )
    # Forged: another school's workspace.
    slack.sender.direct_message(
        "U0OTHER",
        "Overwrite",
        thread_ts=request["ts"],
        channel=request["channel"],
        team_id="T0OTHERSCH",
    )
    until(slack, lambda: audited(slack, "other_sendco") and audited(slack))
    assert comment(slack) is None
    with slack.sessions() as session:
        assert session.scalars(select(ChatReply)).all() == []
    (said,) = ephemerals_to(slack, "U0SENDCO", 1)
    assert said["text"].startswith("I couldn't file that")
    assert audited(slack) == [("refused", "reply in a thread not filed")]  # the SENDCo's
    assert audited(slack, "other_sendco") == [("refused", "reply in a thread not filed")]


def test_a_teacher_who_no_longer_teaches_the_pupil_is_told_without_details(slack):
    request = ask_lee(slack)
    with slack.sessions.begin() as session:
        for link in session.scalars(
            select(TeachingGroupTeacher).where(TeachingGroupTeacher.staff_id == slack.ids["lee"])
        ):
            link.is_active = False
    slack.sender.direct_message("U0LEE", "Still in my class?", thread_ts=request["ts"])
    (said,) = ephemerals_to(slack, "U0LEE", 1)
    assert said["text"].startswith("I couldn't file that") and "Cara" not in said["text"]
    assert comment(slack) is None
    assert audited(slack) == [("refused", "reply in a thread not filed")]


def test_a_reply_to_the_daily_monitoring_message_asks_which_pupil(slack, tick):
    # Cara's and Dev's reviews are on Tuesday 1 December: Lee is asked about both in one
    # message on Monday 23 November.
    with slack.sessions.begin() as session:
        cara = session.scalar(select(Plan).where(Plan.pupil_id == slack.ids["cara"]))
        cara.review_date = date(2026, 12, 1)
        session.add(
            Plan(
                school_id=slack.ids["school"],
                pupil_id=slack.ids["dev"],
                case_holder_id=slack.ids["tom"],
                status=PlanStatus.ACTIVE,
                cycle_number=1,
                review_date=date(2026, 12, 1),
            )
        )
    tick("2026-11-23T10:00:00+00:00")
    (digest,) = [m for m in slack.emulator.messages_to("U0LEE") if "Cara Lin" in text_of(m)]
    assert "Dev Patel" in text_of(digest)
    assert text_of(digest).count("stays in Slack's history") == 1
    slack.sender.direct_message(
        "U0LEE", "Dev settles well with a seat by the door.", thread_ts=digest["ts"]
    )
    (asked,) = ephemerals_to(slack, "U0LEE", 1)
    assert asked["thread_ts"] == digest["ts"] and "Which pupil" in text_of(asked)
    choices = {b["text"]["text"]: b for b in buttons_of(asked)}
    assert set(choices) == {"Cara Lin", "Dev Patel"}
    assert comment(slack, "dev") is None  # nothing filed until Lee chooses
    dev = choices["Dev Patel"]
    filed = slack.click("U0LEE", dev["action_id"], dev["value"])
    assert text_of(filed).startswith("Filed as your comment on Dev Patel's plan.")
    assert comment(slack, "dev") == "Dev settles well with a seat by the door."
    assert comment(slack, "cara") is None


def test_the_bots_own_messages_and_other_subtypes_are_ignored(slack):
    request = ask_lee(slack)
    channel = request["channel"]
    for event in (
        # The bot's own message in the thread (Slack sends it to message.im too).
        {"bot_id": slack.emulator.bot_id, "user": slack.emulator.bot_user_id, "text": "Hi"},
        {"subtype": "bot_message", "bot_id": "B0OTHER", "text": "Hi"},
        {"subtype": "channel_join", "user": "U0LEE", "text": "joined"},
        {"subtype": "thread_broadcast", "user": "U0LEE", "text": "Also to the channel"},
    ):
        now = f"{time.time():.6f}"
        assert (
            slack.sender._event(
                {
                    "type": "message",
                    "channel": channel,
                    "ts": now,
                    "event_ts": now,
                    "thread_ts": request["ts"],
                    "channel_type": "im",
                    **event,
                }
            ).status
            == 200
        )
    settle(slack)
    assert slack.emulator.ephemerals == []
    assert comment(slack) is None


def test_an_edit_saved_while_the_database_is_down_stays_in_the_open_form(slack, monkeypatch):
    from bot import db
    from bot.services import chat_replies

    request = ask_lee(slack)
    slack.sender.direct_message("U0LEE", "Settled.", thread_ts=request["ts"])
    (said,) = ephemerals_to(slack, "U0LEE", 1)
    slack.sender.button("U0LEE", "chat_reply_edit", buttons_of(said)[0]["value"])
    (form,) = slack.emulator.wait_for(lambda calls: slack.emulator.open_views("U0LEE"))

    def down(*args, **kwargs):
        raise db.DatabaseUnavailable("no answer")

    monkeypatch.setattr(chat_replies, "edit", down)
    typed = {"reply_text": {"type": "plain_text_input", "value": "Settled, mostly."}}
    answer = slack.sender.submit("U0LEE", form, typed).json()
    assert answer["response_action"] == "errors"
    assert "Nothing was saved" in answer["errors"]["reply_text"]
    assert comment(slack) == "Settled."


def test_a_reply_to_the_observation_summary_asks_which_pupil_and_is_a_note(slack, tick):
    from tests.test_observations import add_as, summaries_to

    add_as(slack, "U0SENDCO", "Ava Stone", "Calmer after the movement break.")
    add_as(slack, "U0SENDCO", "Ben Stone", "Used the word bank unprompted.")
    tick("2026-11-23T11:00:00+00:00")
    [summary] = summaries_to(slack, "U0PRIYA")
    slack.sender.direct_message(
        "U0PRIYA", "Will add the break to the plan.", thread_ts=summary["ts"]
    )
    (asked,) = ephemerals_to(slack, "U0PRIYA", 1)
    choices = {b["text"]["text"]: b for b in buttons_of(asked)}
    assert set(choices) == {"Ava Stone", "Ben Stone"}
    ava = choices["Ava Stone"]
    # Lee may not choose for Priya's reply.
    assert "isn't yours" in text_of(slack.click("U0LEE", ava["action_id"], ava["value"]))
    filed = slack.click("U0PRIYA", ava["action_id"], ava["value"])
    assert text_of(filed).startswith("Filed as your comment on Ava Stone's plan.")
    with slack.sessions() as session:
        notes = session.scalars(
            select(TimelineEntry.plan_id).where(
                TimelineEntry.summary == "Will add the break to the plan."
            )
        ).all()
    assert notes == [slack.ids["ava_plan"]]
