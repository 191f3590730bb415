"""Review dates as people read them: an overdue review's prompt says it was due and how long
ago (as of the day it is delivered), and the review dates the bot proposes fall on school days.

Brookside High (tests/slack_harness.py) on Monday 23 November 2026: Priya holds Ava (review on
Saturday 14 November: overdue) and Ben. The test calendar has an INSET day on Friday 27 November
and the Christmas holiday from 19 December to 4 January.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from bot.demo.school import create_demo_school
from bot.services import review_schedule
from bot.services.calendar import CalendarPeriod, SchoolCalendar, load_calendar
from models import Plan, PlanStatus, Prompt, PromptKind, PromptStatus, School
from tests.slack_harness import text_of
from tests.test_plan_editor import click, open_plan, plan_of, submit
from tests.test_reviews import day, dms, full_notes, review_modal, set_review_date

CALENDAR = SchoolCalendar(
    terms=(
        CalendarPeriod("Autumn 2026", date(2026, 9, 2), date(2026, 12, 18)),
        CalendarPeriod("Spring 2027", date(2027, 1, 5), date(2027, 3, 26)),
    ),
    closures=(CalendarPeriod("INSET day", date(2026, 11, 27), date(2026, 11, 27)),),
)


# --- overdue prompts ---------------------------------------------------------------------------


def test_an_overdue_review_prompt_says_it_was_due_and_how_long_ago(slack, tick):
    set_review_date(slack, "ben", date(2027, 3, 1))
    set_review_date(slack, "ava", date(2026, 11, 3))  # a Tuesday, twenty days ago
    tick("2026-11-23T10:00:00+00:00")
    (prompt,) = dms(slack, "U0PRIYA", "Ava Stone")
    body = text_of(prompt)
    assert "The review of Ava Stone (Year 9)'s SEN Support Plan was due on Tuesday 3 " \
        "November, 3 weeks ago." in body  # fmt: skip
    assert "is due" not in body
    assert "If the review meeting has happened, please log the review notes" in body
    assert prompt["text"] == "Review overdue: Ava Stone (Year 9)"
    # The reminder the next day counts from its own day.
    tick("2026-11-24T10:00:00+00:00")
    reminder = dms(slack, "U0PRIYA", "Ava Stone")[-1]
    assert "was due on Tuesday 3 November, 3 weeks ago, and no review notes" in text_of(reminder)


def test_a_prompt_delivered_late_is_worded_for_the_day_it_goes(slack, tick, terms):
    # Queued on Monday 23 November for Ben's review on Wednesday 25th; Slack refuses the post.
    set_review_date(slack, "ava", date(2027, 3, 1))
    set_review_date(slack, "ben", date(2026, 11, 25))
    slack.emulator.fail_next("chat.postMessage", "internal_error")
    tick("2026-11-23T10:00:00+00:00")
    assert dms(slack, "U0PRIYA", "Ben Stone") == []
    with slack.sessions() as session:
        (due,) = session.scalars(select(Prompt).where(Prompt.kind == PromptKind.REVIEW_DUE))
        assert (due.status, due.attempts) == (PromptStatus.PENDING, 1)  # tried, not sent
    tick("2026-11-30T10:00:00+00:00")  # the next Monday: the review date has passed
    (prompt,) = dms(slack, "U0PRIYA", "Ben Stone")
    assert "was due on Wednesday 25 November, 5 days ago" in text_of(prompt)


def test_a_review_due_today_says_today(slack, tick):
    set_review_date(slack, "ava", date(2027, 3, 1))
    set_review_date(slack, "ben", date(2026, 11, 23))
    tick("2026-11-23T10:00:00+00:00")
    (prompt,) = dms(slack, "U0PRIYA", "Ben Stone")
    assert "is due today (Monday 23 November)" in text_of(prompt)


# --- review dates on school days ---------------------------------------------------------------


def test_a_date_on_a_saturday_or_a_closure_day_moves_to_the_school_day_before():
    assert CALENDAR.review_day(date(2026, 11, 21)) == date(2026, 11, 20)  # Saturday → Friday
    assert CALENDAR.review_day(date(2026, 11, 27)) == date(2026, 11, 26)  # INSET → Thursday
    assert CALENDAR.review_day(date(2026, 11, 29)) == date(2026, 11, 26)  # Sunday, after INSET
    assert CALENDAR.review_day(date(2026, 12, 23)) == date(2026, 12, 18)  # holiday → term's end
    assert CALENDAR.review_day(date(2026, 11, 24)) == date(2026, 11, 24)  # a school day stays
    # Never before the earliest allowed day: then the first school day from it.
    assert CALENDAR.review_day(date(2026, 11, 28), earliest=date(2026, 11, 28)) == date(
        2026, 11, 30
    )
    # Beyond the imported terms every weekday counts, and weekends still do not.
    assert CALENDAR.review_day(date(2027, 5, 1)) == date(2027, 4, 30)


def test_proposed_review_dates_are_school_days():
    # A first review twelve weeks of school days after a plan starts on Monday 23 November.
    first = review_schedule.first_review_date(CALENDAR, date(2026, 11, 23), 60)
    assert CALENDAR.is_school_day(first)
    # The next cycle's review, from a review held late, is after today and on a school day.
    after = review_schedule.next_review_date(CALENDAR, date(2026, 11, 23), date(2026, 11, 14), 5)
    assert after == date(2026, 12, 1)  # the INSET day does not count
    # A review brought forward whose review date is a Saturday: the proposal stays before it.
    proposal = review_schedule.forward_date(
        CALENDAR, date(2026, 11, 2), date(2026, 12, 5), date(2026, 11, 2)
    )
    assert proposal == date(2026, 12, 1) and CALENDAR.is_school_day(proposal)
    # A review already within four school weeks is not brought forward.
    assert (
        review_schedule.forward_date(
            CALENDAR, date(2026, 11, 23), date(2026, 12, 12), date(2026, 11, 23)
        )
        is None
    )


def test_the_review_notes_form_proposes_a_school_day(slack, terms):
    with slack.sessions.begin() as session:
        from models import School

        school = session.get(School, slack.ids["school"])
        school.review_interval_school_days = 4  # Tue, Wed, Thu, (INSET), Mon 30 November
    opened = len(slack.emulator.calls_to("views.open"))
    reply = slack.sender.command("U0PRIYA", "review Ava Stone")
    assert reply.status == 200
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    form = slack.emulator.open_views()[-1]
    (block,) = [b for b in form["blocks"] if b.get("block_id") == "next_review_date"]
    assert block["element"]["initial_date"] == "2026-11-30"


def test_the_demo_school_has_no_review_on_a_weekend_or_in_a_holiday(db_url, session):
    saturday = date(2026, 11, 21)
    summary = create_demo_school(session, pupils=120, seed=7, today=saturday)
    session.commit()
    reviews = session.scalars(
        select(Plan.review_date).where(Plan.status != PlanStatus.CLOSED)
    ).all()
    assert reviews and all(day.weekday() < 5 for day in reviews if day)
    # The demo school has term dates, as a school that imported them: Christmas is a holiday.
    calendar = load_calendar(session, session.scalar(select(School.id)))
    assert not calendar.is_school_day(date(2026, 12, 25))
    assert not calendar.is_school_day(date(2026, 10, 28))  # the October half term
    assert calendar.is_school_day(date(2026, 12, 18)) and summary.school_name
    assert all(calendar.is_school_day(day) for day in reviews if day)
    # Moving a date never carried it across today: nothing in the future became overdue.
    assert any(day > saturday for day in reviews) and any(day < saturday for day in reviews)


@pytest.mark.parametrize("days", [1, 5, 13, 14, 20, 45, 90])
def test_how_long_ago_reads_naturally(days):
    from handlers.messages import _ago

    assert (
        _ago(days)
        == {
            1: "yesterday",
            5: "5 days ago",
            13: "13 days ago",
            14: "2 weeks ago",
            20: "3 weeks ago",
            45: "6 weeks ago",
            90: "3 months ago",
        }[days]
    )


# --- dates people choose -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("2027-01-16", "Saturday 16 January 2027 is a Saturday: choose a school day."),
        ("2026-11-27", "The school is closed on Friday 27 November 2026 (INSET day)"),
        ("2026-12-22", "Tuesday 22 December 2026 is in the school holiday"),
    ],
)
def test_a_review_date_set_on_the_plan_must_be_a_school_day(slack, terms, typed, said):
    overview = open_plan(slack, "U0SENDCO", "plan Ben Stone")
    form = click(slack, "U0SENDCO", overview, "plan_open_section", "details")
    version = plan_of(slack, "ben").version
    refused = submit(slack, "U0SENDCO", form, review_date=typed)
    assert refused["response_action"] == "errors"
    assert said in refused["errors"]["review_date"]
    assert plan_of(slack, "ben").version == version  # nothing saved
    assert submit(slack, "U0SENDCO", form, review_date="2027-01-15") is None  # a Friday
    assert plan_of(slack, "ben").review_date == date(2027, 1, 15)


def test_a_review_date_already_on_a_weekend_does_not_block_other_changes(slack, terms):
    # Ava's review was set for Saturday 14 November before dates were checked.
    overview = open_plan(slack, "U0SENDCO", "plan Ava Stone")
    form = click(slack, "U0SENDCO", overview, "plan_open_section", "details")
    version = plan_of(slack, "ava").version
    assert submit(slack, "U0SENDCO", form, start_date="2026-09-07") is None
    plan = plan_of(slack, "ava")
    assert (plan.version, plan.review_date) == (version + 1, date(2026, 11, 14))


def test_the_next_review_date_in_the_review_notes_must_be_a_school_day(slack, terms):
    set_review_date(slack, "ava", date(2026, 11, 20))
    view = review_modal(slack, "U0PRIYA", "ssp_review_open", str(slack.ids["ava_plan"]))
    refused = slack.sender.submit(
        "U0PRIYA", view, full_notes(view, next_review_date=day("2027-02-20"))
    ).json()
    assert refused["response_action"] == "errors"
    assert refused["errors"]["next_review_date"] == (
        "Saturday 20 February 2027 is a Saturday: choose a school day."
    )
    with slack.sessions() as session:
        assert session.get(Plan, slack.ids["ava_plan"]).status == PlanStatus.ACTIVE
    done = slack.sender.submit("U0PRIYA", view, full_notes(view))
    assert done.status == 200 and "errors" not in (done.json() or {})
