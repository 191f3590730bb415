"""The APDR review cycle driven from Slack: prompts, the review notes, reminders and the next cycle.

Brookside High (tests/slack_harness.py) on Monday 23 November 2026 at 10:00: Priya holds Ava
(review on 14 November: overdue) and Ben (review on Saturday 28 November); Tom holds Cara. Time
moves with `tick --now` for the scheduler and with the `clock` fixture for the app.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from models import (
    AuditEvent,
    Plan,
    PlanStatus,
    PlanTarget,
    Prompt,
    PromptKind,
    PromptStatus,
    Review,
    ReviewRevision,
    ReviewStatus,
    TargetStatus,
    TimelineEntry,
    TimelineKind,
)
from tests.slack_harness import buttons_of, text_of


def set_review_date(slack, pupil: str, day: date) -> None:
    with slack.sessions.begin() as session:
        plan = session.scalar(select(Plan).where(Plan.pupil_id == slack.ids[pupil]))
        plan.review_date = day


def dms(slack, user: str, containing: str) -> list[dict]:
    return [m for m in slack.emulator.messages_to(user) if containing in text_of(m)]


def review_modal(slack, user: str, action: str, value: str) -> dict:
    opened = len(slack.emulator.calls_to("views.open"))
    reply = slack.sender.button(user, action, value)
    assert reply.status == 200
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    return slack.emulator.open_views(user)[-1]


def ava_plan(slack) -> Plan:
    with slack.sessions() as session:
        plan = session.get(Plan, slack.ids["ava_plan"])
        session.expunge(plan)
        return plan


def target_ids(view: dict) -> list[int]:
    return [
        int(b["block_id"].split(":")[1])
        for b in view["blocks"]
        if b.get("block_id", "").startswith("result:")
    ]


def choose(value: str | None) -> dict:
    return {"type": "static_select", "selected_option": {"value": value}}


def text(value: str | None) -> dict:
    return {"type": "plain_text_input", "value": value}


def day(value: str | None) -> dict:
    return {"type": "datepicker", "selected_date": value}


def full_notes(view: dict, **overrides) -> dict:
    values = {}
    for target_id in target_ids(view):
        values[f"result:{target_id}"] = choose("achieved")
        values[f"evidence:{target_id}"] = text("Read 22 of 20 words on sight")
    for block in view["blocks"]:  # every provision continues, no new outcomes: no change
        if block.get("block_id", "").startswith("provision:"):
            values[block["block_id"]] = choose("continue")
        if block.get("block_id", "").startswith("effectiveness:"):
            values[block["block_id"]] = choose("effective")
    values.update(
        new_outcomes_needed=choose("no"),
        what_is_working=text("Daily Lexia sessions"),
        what_is_not_working=text("Homework reading logs"),
        what_needs_to_change=text("Move reading to registration"),
        next_steps=text("New target on spelling"),
        cyp_views=text("Ava says the overlay helps"),
        family_views=text("Mum is pleased"),
        attendees=text("Ava, mum, Priya Shah"),
        meeting_date=day("2026-11-20"),
        next_review_date=day("2027-03-01"),
    )
    values.update(overrides)
    return values


# --- the scheduler ------------------------------------------------------------------------


def test_the_prompt_comes_ten_school_days_before_in_school_hours(slack, tick, terms):
    # Friday 15 January 2027: ten school days before is Thursday 17 December (the Christmas
    # holiday does not count).
    set_review_date(slack, "ben", date(2027, 1, 15))
    set_review_date(slack, "ava", date(2027, 3, 1))
    tick("2026-12-16T10:00:00+00:00")
    assert dms(slack, "U0PRIYA", "Ben Stone") == []
    early = tick("2026-12-17T07:00:00+00:00")  # before school starts at 8:30
    assert "review prompt(s) queued" in early and dms(slack, "U0PRIYA", "Ben Stone") == []
    tick("2026-12-17T08:31:00+00:00")
    (message,) = dms(slack, "U0PRIYA", "Ben Stone")
    assert "The review of Ben Stone (Year 9)'s SEN Support Plan is due on Friday 15 January" in (
        text_of(message)
    )
    assert [b["text"]["text"] for b in buttons_of(message)] == [
        "Log review notes",
        "Snooze",
        "Ask the family",
        "Ask the pupil",
    ]
    assert "Emotional" not in text_of(message)  # no needs in a message Slack keeps
    tick("2026-12-17T09:00:00+00:00")
    assert len(dms(slack, "U0PRIYA", "Ben Stone")) == 1  # once only
    with slack.sessions() as session:
        prompt = session.scalar(select_prompt(slack, "ben", PromptKind.REVIEW_DUE))
        assert prompt.status == PromptStatus.SENT
        assert (prompt.slack_channel, prompt.slack_ts) == (message["channel"], message["ts"])


def test_a_prompt_due_in_a_holiday_goes_on_the_first_school_day_after(slack, tick, terms):
    set_review_date(slack, "ben", date(2027, 1, 8))
    set_review_date(slack, "ava", date(2027, 3, 1))
    queued = tick("2026-12-28T10:00:00+00:00")  # the Christmas holiday
    assert "review prompt(s) queued" in queued and dms(slack, "U0PRIYA", "Ben Stone") == []
    tick("2027-01-04T10:00:00+00:00")  # a Monday, but the term starts on Tuesday
    assert dms(slack, "U0PRIYA", "Ben Stone") == []
    tick("2027-01-05T08:30:00+00:00")
    assert len(dms(slack, "U0PRIYA", "Ben Stone")) == 1


def test_a_reminder_on_the_review_date_then_escalation_in_overdue(slack, tick, clock):
    set_review_date(slack, "ben", date(2027, 3, 1))
    tick("2026-11-23T10:00:00+00:00")  # Ava's review was on 14 November: prompted now
    (prompt,) = dms(slack, "U0PRIYA", "Ava Stone")
    assert "due on Saturday 14 November" in text_of(prompt)
    tick("2026-11-23T14:00:00+00:00")
    assert len(dms(slack, "U0PRIYA", "Ava Stone")) == 1  # no reminder on the same day
    tick("2026-11-24T10:00:00+00:00")
    reminder = dms(slack, "U0PRIYA", "Ava Stone")[-1]
    assert text_of(reminder).startswith("Reminder:")
    assert "no review notes have been submitted yet" in text_of(reminder)
    tick("2026-11-25T10:00:00+00:00")
    assert len(dms(slack, "U0PRIYA", "Ava Stone")) == 2  # reminded once

    overdue = text_of(slack.ask("U0SENDCO", "overdue"))
    assert "Ava Stone" in overdue and "escalated" in overdue.lower()


def test_the_weekly_digest_gives_counts_and_staff_names_only(slack, tick):
    tick("2026-11-23T10:00:00+00:00")
    (digest,) = dms(slack, "U0SENDCO", "SSP week of")
    body = text_of(digest)
    assert "Overdue" in body and "Escalated" in body and "Priya Shah (1)" in body
    assert "Ava" not in body and "Ben" not in body  # no pupils in a message Slack keeps
    tick("2026-11-24T10:00:00+00:00")
    assert len(dms(slack, "U0SENDCO", "SSP week of")) == 1  # weekly
    tick("2026-11-30T10:00:00+00:00")
    assert len(dms(slack, "U0SENDCO", "SSP week of")) == 2


# --- the review notes -----------------------------------------------------------------------


def test_the_whole_cycle_from_prompt_to_the_next_plan(slack, tick):
    tick("2026-11-23T10:00:00+00:00")
    (prompt,) = dms(slack, "U0PRIYA", "Ava Stone")
    view = review_modal(slack, "U0PRIYA", "ssp_review_open", buttons_of(prompt)[0]["value"])
    shown = text_of({"blocks": view["blocks"]})
    assert "Read 20 high-frequency words on sight" in shown
    (target_id,) = target_ids(view)

    # Missing fields: inline errors, nothing saved.
    empty = slack.sender.submit("U0PRIYA", view, {f"result:{target_id}": choose(None)}).json()
    assert empty["response_action"] == "errors"
    assert {f"result:{target_id}", "next_steps", "meeting_date", "attendees"} <= set(
        empty["errors"]
    )
    with slack.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Review)) == 0

    # A draft, then finished later from /ssp review.
    partial = {
        "what_is_working": text("Daily Lexia sessions"),
        f"result:{target_id}": choose("partly"),
    }
    slack.sender.view_button("U0PRIYA", view, "ssp_review_save_draft", "draft", values=partial)
    slack.emulator.wait_for(lambda calls: calls_named(slack, "views.update"))
    with slack.sessions() as session:
        draft = session.scalar(select(Review))
        assert (draft.status, draft.what_is_working) == (ReviewStatus.DRAFT, "Daily Lexia sessions")
    reopened = open_by_command(slack, "U0PRIYA", "review Ava")
    again = text_of({"blocks": reopened["blocks"]})
    assert "You have a draft" in again
    working = next(b for b in reopened["blocks"] if b.get("block_id") == "what_is_working")
    assert working["element"]["initial_value"] == "Daily Lexia sessions"

    notes = full_notes(reopened, **{f"carry:{target_id}": choose("carry")})
    done = slack.sender.submit("U0PRIYA", reopened, notes).json()
    assert done["response_action"] == "update"
    assert "review is submitted. Plan 3 has started" in text_of(done["view"])

    with slack.sessions() as session:
        plan = session.get(Plan, slack.ids["ava_plan"])
        assert (plan.cycle_number, plan.status) == (3, PlanStatus.AWAITING_QA)
        assert plan.review_date == date(2027, 3, 1)
        targets = session.scalars(
            select(PlanTarget).where(PlanTarget.plan_id == plan.id).order_by(PlanTarget.id)
        ).all()
        assert [(t.status, t.cycle_number) for t in targets] == [
            (TargetStatus.ACHIEVED, 1),
            (TargetStatus.OPEN, 3),
        ]
        assert targets[1].baseline == "Read 22 of 20 words on sight"
        review = session.scalar(select(Review))
        assert review.status == ReviewStatus.SUBMITTED and review.cycle_number == 2
        timeline = session.scalars(
            select(TimelineEntry.summary).where(TimelineEntry.kind == TimelineKind.REVIEW)
        ).all()
        assert timeline == [
            "Review of plan 2 (meeting 20 November 2026) submitted by Priya Shah: 1 achieved; "
            "1 target(s) carried forward, 0 closed."
        ]
        prompt_row = session.scalar(select_prompt(slack, "ava", PromptKind.REVIEW_DUE))
        assert prompt_row.answered_at is not None
        assert session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.via == "review notes")
        )

    # The same submission again (a double click, a retry): nothing changes.
    twice = slack.sender.submit("U0PRIYA", reopened, notes).json()
    assert "already submitted" in text_of(twice["view"])
    with slack.sessions() as session:
        assert session.get(Plan, slack.ids["ava_plan"]).cycle_number == 3
        assert (
            session.scalar(
                select(func.count())
                .select_from(PlanTarget)
                .where(PlanTarget.plan_id == slack.ids["ava_plan"])
            )
            == 2
        )

    # The SENDCo sees it in /ssp qa.
    assert "Ava Stone" in text_of(slack.ask("U0SENDCO", "qa"))
    # No reminder for a review that is done.
    tick("2026-11-24T10:00:00+00:00")
    assert len(dms(slack, "U0PRIYA", "Ava Stone")) == 1


def test_amending_keeps_history_until_the_sendco_approves(slack):
    view = open_by_command(slack, "U0PRIYA", "review Ava")
    slack.sender.submit("U0PRIYA", view, full_notes(view))
    amend = open_by_command(slack, "U0PRIYA", "review Ava")
    assert amend["title"]["text"] == "Amend review notes"
    # Only the author may amend.
    assert "Only the person who submitted" in text_of(
        slack.sender.submit("U0SENDCO", amend, full_notes(amend)).json()["view"]
    )
    same = slack.sender.submit("U0PRIYA", amend, full_notes(amend)).json()
    assert "Nothing was changed" in text_of(same["view"])
    amend = open_by_command(slack, "U0PRIYA", "review Ava")
    changed = full_notes(amend, next_steps=text("New targets on spelling and handwriting"))
    saved = slack.sender.submit("U0PRIYA", amend, changed).json()
    assert "amendment" in text_of(saved["view"])
    with slack.sessions() as session:
        review = session.scalar(select(Review))
        assert review.next_steps == "New targets on spelling and handwriting"
        (revision,) = session.scalars(select(ReviewRevision)).all()
        assert revision.content["next_steps"] == "New target on spelling"

    from tests.test_qa import decide, open_review

    decide(slack, open_review(slack), "approve", "")
    with slack.sessions() as session:
        assert session.scalar(select(Review)).status == ReviewStatus.APPROVED
    late = open_by_command(slack, "U0PRIYA", "review Ava")
    assert late["title"]["text"] == "Review notes"  # the next cycle's, not an amendment


def test_dates_are_checked(slack):
    view = open_by_command(slack, "U0PRIYA", "review Ava")
    answer = slack.sender.submit(
        "U0PRIYA",
        view,
        full_notes(view, meeting_date=day("2026-12-01"), next_review_date=day("2026-11-01")),
    ).json()
    assert answer["errors"]["meeting_date"] == "The review meeting can't be in the future."
    assert answer["errors"]["next_review_date"] == "The next review must be after today."


def test_only_the_case_holder_or_the_sendco_logs_a_review(slack):
    for user in ("U0LEE", "U0SLT", "U0TA"):
        answer = slack.ask(user, "review Ava")
        assert "modal" not in answer and "couldn't find" in text_of(answer).lower()
    assert slack.sender.button("U0LEE", "ssp_review_open", str(slack.ids["ava_plan"])).status == 200
    refused = slack.emulator.wait_for(lambda calls: slack.emulator.responses_to("U0LEE"))
    assert "couldn't find" in text_of(refused[-1]).lower()
    with slack.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Review)) == 0


# --- snooze ---------------------------------------------------------------------------------


def test_snooze_once_with_a_reason(slack, tick):
    tick("2026-11-23T10:00:00+00:00")
    (prompt,) = dms(slack, "U0PRIYA", "Ben Stone")
    modal = review_modal(slack, "U0PRIYA", "ssp_review_snooze", buttons_of(prompt)[1]["value"])
    no_reason = slack.sender.submit("U0PRIYA", modal, {"days": choose("3")}).json()
    assert no_reason["errors"] == {"reason": "Please give a reason, so the SENDCo knows."}
    done = slack.sender.submit(
        "U0PRIYA", modal, {"days": choose("3"), "reason": text("Meeting moved")}
    ).json()
    # Three school days on from Monday 23 November: Thursday 26 November.
    assert "I'll remind you on Thursday 26 November" in text_of(done["view"])
    again = review_modal(slack, "U0PRIYA", "ssp_review_snooze", buttons_of(prompt)[1]["value"])
    refused = slack.sender.submit(
        "U0PRIYA", again, {"days": choose("1"), "reason": text("Still busy")}
    ).json()
    assert "already snoozed this review once" in text_of(refused["view"])

    tick("2026-11-25T10:00:00+00:00")
    assert len(dms(slack, "U0PRIYA", "Ben Stone")) == 1
    tick("2026-11-26T10:00:00+00:00")
    back = dms(slack, "U0PRIYA", "Ben Stone")[-1]
    assert "As you asked" in text_of(back)
    assert [b["text"]["text"] for b in buttons_of(back)] == [
        "Log review notes",
        "Ask the family",
        "Ask the pupil",
    ]
    with slack.sessions() as session:
        review = session.scalar(select(Review))
        assert (review.snooze_school_days, review.snooze_reason) == (3, "Meeting moved")


# --- interim notes --------------------------------------------------------------------------


def test_a_note_from_the_command_lands_on_the_timeline_and_in_the_review(slack):
    modal = open_by_command(slack, "U0PRIYA", "note Ava")
    assert "Ava Stone" in text_of({"blocks": modal["blocks"]})
    empty = slack.sender.submit("U0PRIYA", modal, {"kind": choose("phone_call")}).json()
    assert empty["errors"] == {"text--0": "Write the note first."}
    done = slack.sender.submit(
        "U0PRIYA", modal, {"kind": choose("phone_call"), "text--0": text("Mum called re reading")}
    ).json()
    assert "Filed on Ava Stone's plan" in text_of(done["view"])
    view = open_by_command(slack, "U0PRIYA", "review Ava")
    assert "Phone call · Priya Shah: Mum called re reading" in text_of({"blocks": view["blocks"]})


def test_the_message_shortcut_confirms_the_pupil_before_filing(slack):
    message = {"type": "message", "text": "Ava read &lt;20&gt; words today", "ts": "1.000100"}
    opened = len(slack.emulator.calls_to("views.open"))
    assert slack.sender.message_shortcut("U0PRIYA", "ssp_add_to_plan", message).status == 200
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    modal = slack.emulator.open_views("U0PRIYA")[-1]
    box = next(b for b in modal["blocks"] if b.get("block_id") == "text--0")
    assert box["element"]["initial_value"] == "Ava read <20> words today"
    typed = {"text--0": text("Ava read <20> words today"), "kind": choose("note")}
    both = slack.sender.submit("U0PRIYA", modal, {**typed, "pupil": text("Stone")}).json()
    assert "2 pupils match: Ava Stone" in both["errors"]["pupil"]
    nobody = slack.sender.submit("U0PRIYA", modal, {**typed, "pupil": text("Cara")}).json()
    assert "No pupil matching" in nobody["errors"]["pupil"]  # not Priya's pupil
    confirm = slack.sender.submit("U0PRIYA", modal, {**typed, "pupil": text("Ava")}).json()
    assert confirm["response_action"] == "update"
    assert "File this on the plan of Ava Stone" in text_of({"blocks": confirm["view"]["blocks"]})
    confirm_view = slack.emulator.open_views("U0PRIYA")[-1]
    filed = slack.sender.submit("U0PRIYA", confirm_view, typed).json()
    assert "Filed on Ava Stone's plan" in text_of(filed["view"])
    with slack.sessions() as session:
        entry = session.scalar(select(TimelineEntry).where(TimelineEntry.kind == TimelineKind.NOTE))
        assert entry.summary == "Ava read <20> words today"


def test_a_teacher_cannot_file_notes(slack):
    message = {"type": "message", "text": "something", "ts": "1.000200"}
    opened = len(slack.emulator.calls_to("views.open"))
    slack.sender.message_shortcut("U0LEE", "ssp_add_to_plan", message)
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    refusal = slack.emulator.open_views("U0LEE")[-1]
    assert "written by the plan's case holder or the SENDCo" in text_of(
        {"blocks": refusal["blocks"]}
    )


# --- helpers --------------------------------------------------------------------------------


def select_prompt(slack, pupil: str, kind: PromptKind):
    return (
        select(Prompt)
        .join(Plan, Plan.id == Prompt.plan_id)
        .where(Plan.pupil_id == slack.ids[pupil], Prompt.kind == kind)
    )


def calls_named(slack, method: str):
    return slack.emulator.calls_to(method)


def open_by_command(slack, user: str, command: str) -> dict:
    opened = len(slack.emulator.calls_to("views.open"))
    reply = slack.sender.command(user, command)
    assert reply.status == 200
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    return slack.emulator.open_views(user)[-1]


# --- crashes and concurrency ------------------------------------------------------------------


def test_a_crash_between_creating_and_sending_loses_nothing(slack, tick):
    """The sweep commits the prompts it creates before sending: a crash then loses nothing."""
    from bot import db
    from bot.services import review_schedule
    from models import School

    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    with db.unit_of_work(slack.sessions) as session:  # created, then the process dies
        school = session.get(School, slack.ids["school"])
        assert review_schedule.create_due_prompts(session, school, now).due == 2  # Ava and Ben
    assert dms(slack, "U0PRIYA", "Stone") == []
    tick("2026-11-23T10:05:00+00:00")
    assert len(dms(slack, "U0PRIYA", "Ava Stone")) == len(dms(slack, "U0PRIYA", "Ben Stone")) == 1


def test_two_sweeps_at_once_on_postgresql_send_each_review_prompt_once(slack, db_url):
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite runs one sender at a time (bot.services.outbox)")
    from bot import db
    from handlers.scheduler import sweep
    from handlers.slack_api import make_client
    from models import Pupil

    with slack.sessions.begin() as session:
        for n in range(30):
            pupil = Pupil(
                school_id=slack.ids["school"],
                upn=f"B82012345{n:04d}",
                first_name=f"Pupil{n}",
                last_name="Many",
                date_of_birth=date(2012, 1, 1),
                year_group=8,
            )
            session.add(pupil)
            session.add(
                Plan(
                    school_id=slack.ids["school"],
                    pupil=pupil,
                    case_holder_id=slack.ids["priya" if n % 2 else "tom"],
                    status=PlanStatus.ACTIVE,
                    review_date=date(2026, 11, 30),
                )
            )
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        engine = db.make_engine(db_url)
        try:
            client = make_client(slack.emulator.bot_token, slack.emulator.api_url)
            barrier.wait()
            sweep(db.make_session_factory(engine), client, now)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with slack.sessions() as session:
        prompts = session.scalars(select(Prompt).where(Prompt.kind == PromptKind.REVIEW_DUE)).all()
    # Ava, Ben and the 30 new plans; Cara's review is weeks away. Not Zed at Hillside, whose
    # workspace this token is not (handlers.workspaces).
    assert len(prompts) == 32
    assert all(p.status == PromptStatus.SENT for p in prompts)
    tagged = [
        m["metadata"]["event_payload"]["prompt_id"]
        for m in slack.emulator.messages
        if m.get("metadata")
    ]
    assert sorted(tagged) == sorted(set(tagged))  # nobody got anything twice
    assert {p.id for p in prompts} <= set(tagged)


def test_a_message_written_to_the_bot_is_answered_privately_with_how_to_file_it(slack):
    assert slack.sender.direct_message("U0PRIYA", "Ava read 22 words today").status == 200
    (hint,) = slack.emulator.wait_for(lambda calls: slack.emulator.ephemerals)
    assert hint["user"] == "U0PRIYA" and hint["channel"] == slack.emulator.dm_channel_id("U0PRIYA")
    assert "choose *Add to a pupil's plan*" in hint["text"]
    slack.sender.direct_message("U0LEE", "hello?")
    slack.emulator.wait_for(lambda calls: len(slack.emulator.ephemerals) == 2)
    assert "Type `/ssp help`" in slack.emulator.ephemerals[1]["text"]  # a teacher files nothing
    assert slack.emulator.messages == []  # nothing kept in Slack's history


def test_a_plan_with_more_targets_than_a_form_holds_says_so(slack):
    with slack.sessions.begin() as session:
        plan = session.get(Plan, slack.ids["ava_plan"])
        plan.targets += [PlanTarget(description=f"Target {n}", position=n) for n in range(22)]
    view = open_by_command(slack, "U0PRIYA", "review Ava")
    assert len(target_ids(view)) == 18 and len(view["blocks"]) <= 100
    assert "5 more open targets than one form can hold" in text_of({"blocks": view["blocks"]})
