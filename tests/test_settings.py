"""`/ssp settings` and `sspbot school set`: school hours, review timings and the calendar."""

from __future__ import annotations

import json
from datetime import date, time

from sqlalchemy import select

from models import AuditEvent, CalendarKind, School, SchoolCalendarEntry
from tests.slack_harness import text_of


def brookside(slack) -> tuple[int, int, time, time]:
    """Brookside High's notice, interval, and school hours, as stored."""
    with slack.sessions() as session:
        school = session.scalars(select(School).where(School.name == "Brookside High")).one()
        return (
            school.review_notice_school_days,
            school.review_interval_school_days,
            school.school_day_starts,
            school.school_day_ends,
        )


def settings_changes(slack) -> list[tuple[str, str, str]]:
    with slack.sessions() as session:
        return [
            (event.actor, event.via, event.detail)
            for event in session.scalars(
                select(AuditEvent).where(AuditEvent.action == "update").order_by(AuditEvent.id)
            )
        ]


def add_calendar(slack, *entries: tuple[CalendarKind, str, date, date]) -> None:
    with slack.sessions.begin() as session:
        school_id = session.scalar(select(School.id).where(School.name == "Brookside High"))
        session.add_all(
            SchoolCalendarEntry(
                school_id=school_id, kind=kind, name=name, start_date=start, end_date=end
            )
            for kind, name, start, end in entries
        )


AUTUMN = [
    (CalendarKind.TERM, "Autumn 1", date(2026, 9, 2), date(2026, 10, 23)),
    (CalendarKind.TERM, "Autumn 2", date(2026, 11, 2), date(2026, 12, 18)),
    (CalendarKind.CLOSURE, "INSET day", date(2026, 11, 2), date(2026, 11, 2)),
]


def test_the_sendco_sees_school_hours_review_timings_and_the_calendar(slack):
    add_calendar(slack, *AUTUMN)
    message = slack.ask("U0SENDCO", "settings")
    text = text_of(message)
    assert "Time zone: Europe/London" in text
    assert "School hours: 8:30 to 16:00, Europe/London" in text
    assert "Pupils in Slack messages: named in full" in text
    assert "The case holder is prompted 10 school days before a plan's review date" in text
    assert "a reminder goes on the review date" in text
    assert "Still none 5 school days after that: it is escalated to the SENDCo" in text
    assert "snooze a prompt once, by 1, 3 or 5 school days" in text
    assert "weekly digest on the first school day of each week" in text
    assert "the next one is proposed 60 school days later" in text
    assert "Autumn 1: Wed 2 Sep 2026 to Fri 23 Oct 2026" in text
    assert "Autumn 2: Mon 2 Nov 2026 to Fri 18 Dec 2026" in text
    assert "closed: INSET day, Mon 2 Nov 2026" in text
    # The clock says Monday 23 November 2026, 10:00 in London.
    assert "Today (Mon 23 Nov 2026) is a school day: prompts can go out now, until 16:00." in text
    assert "/ssp settings review-notice N" in text  # the SENDCo is told how to change them


def test_a_closure_today_says_when_prompts_can_go_out_next(slack):
    add_calendar(
        slack,
        (CalendarKind.TERM, "Autumn 2", date(2026, 11, 2), date(2026, 12, 18)),
        (CalendarKind.CLOSURE, "Staff training", date(2026, 11, 23), date(2026, 11, 23)),
    )
    text = text_of(slack.ask("U0SENDCO", "settings"))
    assert (
        "Today (Mon 23 Nov 2026) is not a school day: the next prompts can go out on "
        "Tue 24 Nov 2026 at 8:30." in text
    )


def test_without_term_dates_it_says_every_weekday_counts(slack):
    text = text_of(slack.ask("U0SENDCO", "settings"))
    assert "No term dates imported: every weekday counts as a school day" in text
    assert "sspbot import terms FILE" in text


def test_names_in_the_calendar_cannot_ping_or_break_the_message(slack):
    add_calendar(
        slack,
        (CalendarKind.TERM, "Autumn <!channel> & co", date(2026, 11, 2), date(2026, 12, 18)),
    )
    message = slack.ask("U0SENDCO", "settings")
    assert "<!channel>" not in json.dumps(message["blocks"])
    assert "Autumn <!channel> & co: Mon 2 Nov 2026 to Fri 18 Dec 2026" in text_of(message)


def test_a_senior_leader_sees_the_settings_but_cannot_change_them(slack):
    text = text_of(slack.ask("U0SLT", "settings"))
    assert "prompted 10 school days before" in text
    assert "Only the SENDCo can change these settings." in text
    assert "/ssp settings review-notice N" not in text

    refused = text_of(slack.ask("U0SLT", "settings review-notice 5"))
    assert "Only the SENDCo can change the school's settings" in refused
    assert brookside(slack)[0] == 10
    assert settings_changes(slack) == []


def test_a_case_holder_is_refused_politely(slack):
    for asked in ("settings", "settings review-notice 5"):
        text = text_of(slack.ask("U0PRIYA", asked))
        assert "The school's settings are for the SENDCo and senior leaders." in text
        assert "Review timings" not in text
    assert brookside(slack)[0] == 10


def test_the_sendco_changes_the_review_notice_and_interval(slack):
    text = text_of(slack.ask("U0SENDCO", "settings review-notice 8"))
    assert "Review notice set to 8 school days." in text
    assert "The case holder is prompted 8 school days before a plan's review date" in text

    text = text_of(slack.ask("U0SENDCO", "settings review-interval 90"))
    assert "Review interval set to 90 school days." in text
    assert "the next one is proposed 90 school days later" in text

    assert brookside(slack)[:2] == (8, 90)
    sendco = settings_changes(slack)[0][0]
    assert settings_changes(slack) == [
        (sendco, "/ssp settings", "review notice set to 8 school days"),
        (sendco, "/ssp settings", "review interval set to 90 school days"),
    ]
    # Anyone who looks afterwards sees the new timings.
    assert "prompted 8 school days before" in text_of(slack.ask("U0SLT", "settings"))


def test_the_sendco_changes_the_school_hours(slack):
    text = text_of(slack.ask("U0SENDCO", "settings school-hours 08:40 15:30"))
    assert "School hours set to 8:40 to 15:30." in text
    assert "School hours: 8:40 to 15:30, Europe/London" in text
    assert "prompts can go out now, until 15:30." in text
    assert brookside(slack)[2:] == (time(8, 40), time(15, 30))
    assert settings_changes(slack)[-1][2] == "school hours set to 8:40 to 15:30"


def test_bad_values_are_answered_with_the_accepted_form_and_change_nothing(slack):
    answers = {
        "settings review-notice 0": "The review notice is a whole number of school days "
        "from 1 to 60; 0 is not.",
        "settings review-notice 61": "from 1 to 60; 61 is not.",
        "settings review-notice ten": "`/ssp settings review-notice N`: N is a whole number "
        "of school days from 1 to 60.",
        "settings review-notice": "`/ssp settings review-notice N`",
        "settings review-interval 4": "The review interval is a whole number of school days "
        "from 5 to 195; 4 is not.",
        "settings review-interval 2.5": "`/ssp settings review-interval N`: N is a whole "
        "number of school days from 5 to 195.",
        "settings school-hours 15:30 08:40": "The school day must start before it ends: "
        "15:30 is not before 8:40.",
        "settings school-hours 8am 4pm": "`/ssp settings school-hours 08:40 15:30`",
        "settings school-hours 25:00 26:00": "`/ssp settings school-hours 08:40 15:30`",
        "settings colour blue": "To change a setting: `/ssp settings review-notice N`",
    }
    for asked, expected in answers.items():
        message = slack.ask("U0SENDCO", asked)
        assert expected in text_of(message), (asked, text_of(message))
        assert "\n" not in text_of(message), asked  # one line, not the whole settings page
    assert brookside(slack) == (10, 60, time(8, 30), time(16, 0))
    assert settings_changes(slack) == []


def test_the_cli_sets_review_timings_and_school_hours(run_cli, sessions):
    run_cli("school", "add", "Oakfield Academy")
    changed = run_cli(
        "school",
        "set",
        "Oakfield Academy",
        "--review-notice-days",
        "15",
        "--review-interval-days",
        "90",
        "--school-hours",
        "08:40-15:30",
    )
    assert changed.code == 0, changed
    assert "School hours 8:40 to 15:30" in changed.out
    assert "review prompt 15 school days before the review date" in changed.out
    assert "next review proposed 90 school days after a review" in changed.out
    with sessions() as session:
        school = session.scalars(select(School)).one()
        assert (school.review_notice_school_days, school.review_interval_school_days) == (15, 90)
        assert (school.school_day_starts, school.school_day_ends) == (time(8, 40), time(15, 30))

    for args, expected in (
        (("--review-notice-days", "0"), "from 1 to 60; 0 is not"),
        (("--review-interval-days", "400"), "from 5 to 195; 400 is not"),
        (("--school-hours", "15:30-08:40"), "must start before it ends"),
        (("--school-hours", "half eight"), "like 08:40-15:30"),
    ):
        bad = run_cli("school", "set", "Oakfield Academy", *args)
        assert bad.code == 1 and expected in bad.err, bad
    with sessions() as session:
        school = session.scalars(select(School)).one()
        assert (school.review_notice_school_days, school.review_interval_school_days) == (15, 90)
        assert (school.school_day_starts, school.school_day_ends) == (time(8, 40), time(15, 30))
