"""The school calendar: `sspbot import terms`, all or nothing, and school-day arithmetic.

Imports go through the CLI, as a school would run them. The arithmetic tests build a
`SchoolCalendar` in memory (no database). Dates are the 2026-27 year of a made-up school.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.services.calendar import CalendarPeriod, SchoolCalendar, load_calendar
from models import CalendarKind, School, SchoolCalendarEntry

SCHOOL = "Oakfield Academy"
HEADER = "kind,name,start_date,end_date"
YEAR = """\
kind,name,start_date,end_date
term,Autumn 1,2026-09-02,2026-10-23
term,Autumn 2,2026-11-02,2026-12-18
closure,INSET day,2026-11-02,2026-11-02
term,Spring 1,2027-01-05,2027-02-12
term,Spring 2,2027-02-22,2027-03-26
term,Summer 1,2027-04-12,2027-05-28
closure,May Day bank holiday,2027-05-03,2027-05-03
term,Summer 2,2027-06-07,2027-07-21
closure,INSET days,2027-07-20,2027-07-21
"""

AUTUMN = CalendarPeriod("Autumn 1", date(2026, 9, 2), date(2026, 10, 23))
AUTUMN_2 = CalendarPeriod("Autumn 2", date(2026, 11, 2), date(2026, 12, 18))
INSET = CalendarPeriod("INSET day", date(2026, 11, 2), date(2026, 11, 2))
CALENDAR = SchoolCalendar(terms=(AUTUMN, AUTUMN_2), closures=(INSET,))
LONDON = "Europe/London"
STARTS, ENDS = time(8, 30), time(16, 0)


# --- helpers --------------------------------------------------------------------------------


def write(tmp_path: Path, text: str, name: str = "terms.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def entries(sessions: sessionmaker[Session], school: str = SCHOOL) -> list[tuple]:
    with sessions() as session:
        return [
            (e.kind, e.name, e.start_date, e.end_date)
            for e in session.scalars(
                select(SchoolCalendarEntry)
                .join(School, School.id == SchoolCalendarEntry.school_id)
                .where(School.name == school)
                .order_by(SchoolCalendarEntry.start_date, SchoolCalendarEntry.id)
            )
        ]


@pytest.fixture
def school(run_cli):
    assert run_cli("school", "add", SCHOOL).code == 0


# --- the import, through the CLI ------------------------------------------------------------


def test_a_good_file_becomes_the_schools_calendar(run_cli, school, sessions, tmp_path):
    result = run_cli("import", "terms", str(write(tmp_path, YEAR)))

    assert result.code == 0, result
    assert result.out.startswith(
        "Imported 6 terms and 3 closures for Oakfield Academy (the file is the school's whole "
        "calendar"
    )
    saved = entries(sessions)
    assert len(saved) == 9
    assert saved[0] == (CalendarKind.TERM, "Autumn 1", date(2026, 9, 2), date(2026, 10, 23))
    assert (CalendarKind.CLOSURE, "INSET days", date(2027, 7, 20), date(2027, 7, 21)) in saved
    with sessions() as session:
        school_id = session.scalar(select(School.id).where(School.name == SCHOOL))
        calendar = load_calendar(session, school_id)
    assert calendar.is_school_day(date(2026, 11, 3))
    assert not calendar.is_school_day(date(2026, 11, 2))  # INSET
    assert calendar.describe()[:3] == [
        "Autumn 1: Wed 2 Sep 2026 to Fri 23 Oct 2026",
        "Autumn 2: Mon 2 Nov 2026 to Fri 18 Dec 2026",
        "  closed: INSET day, Mon 2 Nov 2026",
    ]


def test_reimporting_replaces_the_whole_calendar(run_cli, school, sessions, tmp_path):
    run_cli("import", "terms", str(write(tmp_path, YEAR)))

    text = f"{HEADER}\nterm,Autumn,2027-09-01,2027-12-17\n"
    result = run_cli("import", "terms", str(write(tmp_path, text, "next.csv")))

    assert result.code == 0, result
    assert result.out.strip() == (
        "Imported 1 term and 0 closures for Oakfield Academy (the previous calendar was replaced)."
    )
    assert entries(sessions) == [
        (CalendarKind.TERM, "Autumn", date(2027, 9, 1), date(2027, 12, 17))
    ]


def test_a_calendar_that_is_over_says_weekdays_will_count(run_cli, school, tmp_path):
    text = f"{HEADER}\nterm,Autumn,2020-09-02,2020-12-18\n"
    result = run_cli("import", "terms", str(write(tmp_path, text)))

    assert result.code == 0, result
    assert "The last term ended on Fri 18 Dec 2020: until the next terms" in result.out


def test_headers_in_any_case_and_uk_dates(run_cli, school, sessions, tmp_path):
    text = "Kind,NAME,Start Date,end_date\nTerm,Autumn,02/09/2026,23/10/2026\n"
    assert run_cli("import", "terms", str(write(tmp_path, text))).code == 0
    assert entries(sessions) == [
        (CalendarKind.TERM, "Autumn", date(2026, 9, 2), date(2026, 10, 23))
    ]


def test_every_bad_line_is_reported_and_nothing_is_written(run_cli, school, sessions, tmp_path):
    run_cli("import", "terms", str(write(tmp_path, YEAR)))
    before = entries(sessions)
    text = (
        f"{HEADER}\n"
        "term,Autumn 1,2026-09-02,2026-10-23\n"  # 2: good
        "holiday,Half term,2026-10-26,2026-10-30\n"  # 3: unknown kind
        "term,Autumn 2,2026-11-02,2026-13-18\n"  # 4: bad date
        "term,Spring 1,2027-02-12,2027-01-05\n"  # 5: ends before it starts
        "term,Overlap,2026-10-19,2026-10-30\n"  # 6: overlaps line 2
        "closure,Strike day,2026-12-23,2026-12-23\n"  # 7: in the Christmas holiday
        "term,,2027-04-12,2027-05-28\n"  # 8: no name
    )
    result = run_cli("import", "terms", str(write(tmp_path, text, "bad.csv")))

    assert result.code == 1
    assert result.err.splitlines() == [
        "sspbot: bad.csv was not imported (6 problems; nothing was changed):",
        "  line 3: kind 'holiday' is not a kind of calendar entry (use term or closure)",
        "  line 4: end_date '2026-13-18' is not a date (use YYYY-MM-DD or DD/MM/YYYY)",
        "  line 5: ends (Tue 5 Jan 2027) before it starts (Fri 12 Feb 2027)",
        "  line 6: term overlaps the term on line 2 (Autumn 1)",
        "  line 7: closure (Wed 23 Dec 2026) is not within a term "
        "(days between terms are holidays already)",
        "  line 8: name is empty",
    ]
    assert entries(sessions) == before


def test_a_missing_column_is_reported_on_the_header(run_cli, school, sessions, tmp_path):
    text = "kind,name,start_date\nterm,Autumn,2026-09-02\n"
    result = run_cli("import", "terms", str(write(tmp_path, text)))

    assert result.code == 1
    assert "line 1: missing column 'end_date'" in result.err
    assert entries(sessions) == []


def test_a_file_with_no_rows_changes_nothing(run_cli, school, sessions, tmp_path):
    run_cli("import", "terms", str(write(tmp_path, YEAR)))
    result = run_cli("import", "terms", str(write(tmp_path, HEADER + "\n", "empty.csv")))

    assert result.code == 1
    assert "empty.csv has no terms, so nothing was imported" in result.err
    assert len(entries(sessions)) == 9


def test_school_picks_the_school_and_leaves_the_others(run_cli, school, sessions, tmp_path):
    run_cli("school", "add", "Brookside High")
    path = write(tmp_path, YEAR)

    assert "--school" in run_cli("import", "terms", str(path)).err
    result = run_cli("import", "terms", str(path), "--school", "brookside high")

    assert result.code == 0, result
    assert "for Brookside High" in result.out
    assert len(entries(sessions, "Brookside High")) == 9
    assert entries(sessions) == []


def test_a_new_school_has_the_usual_hours(run_cli, school, sessions):
    with sessions() as session:
        saved = session.scalars(select(School)).one()
        assert (saved.school_day_starts, saved.school_day_ends) == (time(8, 30), time(16, 0))


# --- school days ----------------------------------------------------------------------------


def test_weekdays_in_a_term_are_school_days_and_weekends_are_not():
    assert CALENDAR.is_school_day(date(2026, 9, 2))  # first day, a Wednesday
    assert CALENDAR.is_school_day(date(2026, 10, 23))  # last day of the half term
    assert not CALENDAR.is_school_day(date(2026, 9, 5))  # Saturday
    assert not CALENDAR.is_school_day(date(2026, 9, 6))  # Sunday


def test_holidays_between_terms_and_closures_are_not_school_days():
    assert not CALENDAR.is_school_day(date(2026, 9, 1))  # before the first term
    assert not CALENDAR.is_school_day(date(2026, 10, 27))  # half term
    assert not CALENDAR.is_school_day(date(2026, 11, 2))  # INSET day
    assert not CALENDAR.is_school_day(date(2026, 12, 21))  # Christmas holiday


def test_with_no_terms_every_weekday_is_a_school_day():
    empty = SchoolCalendar()
    assert empty.is_school_day(date(2026, 8, 10))
    assert not empty.is_school_day(date(2026, 8, 15))
    assert empty.next_school_day(date(2026, 8, 15)) == date(2026, 8, 17)
    assert empty.school_days_after(date(2026, 8, 14), 2) == date(2026, 8, 18)
    assert empty.describe()[0].startswith("No term dates imported")


def test_next_school_day_skips_the_half_term_and_the_inset_day():
    assert CALENDAR.next_school_day(date(2026, 10, 22)) == date(2026, 10, 22)
    assert CALENDAR.next_school_day(date(2026, 10, 24)) == date(2026, 11, 3)


def test_after_the_last_term_weekdays_count_and_nothing_loops_forever():
    assert CALENDAR.next_school_day(date(2026, 12, 19)) == date(2026, 12, 21)
    assert CALENDAR.next_school_day(date(2030, 1, 5)) == date(2030, 1, 7)
    every_day_closed = SchoolCalendar(
        terms=(CalendarPeriod("Long", date(2026, 1, 1), date(2028, 12, 29)),),
        closures=(CalendarPeriod("Closed", date(2026, 1, 1), date(2028, 12, 29)),),
    )
    assert every_day_closed.next_school_day(date(2026, 1, 1)) == date(2029, 1, 1)


def test_school_days_after_and_between_across_the_half_term():
    # Thursday 22 Oct + 2: Friday 23 Oct, then (half term, INSET day Monday) Tuesday 3 Nov.
    assert CALENDAR.school_days_after(date(2026, 10, 22), 2) == date(2026, 11, 3)
    assert CALENDAR.school_days_after(date(2026, 10, 22), 0) == date(2026, 10, 22)
    assert CALENDAR.school_days_between(date(2026, 10, 22), date(2026, 11, 3)) == 2
    assert CALENDAR.school_days_between(date(2026, 11, 3), date(2026, 10, 22)) == -2
    start = date(2026, 9, 14)
    for n in (1, 5, 20, 40):
        assert CALENDAR.school_days_between(start, CALENDAR.school_days_after(start, n)) == n


# --- when a prompt may go out ---------------------------------------------------------------


def sending(when: datetime, calendar: SchoolCalendar = CALENDAR) -> datetime:
    return calendar.next_sending_time(when, LONDON, STARTS, ENDS)


def test_in_school_hours_a_prompt_goes_now():
    now = datetime(2026, 9, 14, 10, 0, tzinfo=UTC)  # 11:00 BST
    assert sending(now) == now


def test_before_and_after_school_hours_it_waits_for_the_start_of_the_day():
    # 08:00 BST is 07:00 UTC: wait until 08:30 BST the same day.
    assert sending(datetime(2026, 9, 14, 7, 0, tzinfo=UTC)) == datetime(
        2026, 9, 14, 7, 30, tzinfo=UTC
    )
    # 15:30 UTC is 16:30 BST, after school: 08:30 BST next day.
    assert sending(datetime(2026, 9, 14, 15, 30, tzinfo=UTC)) == datetime(
        2026, 9, 15, 7, 30, tzinfo=UTC
    )
    # 15:30 UTC on a Friday: Monday morning.
    assert sending(datetime(2026, 9, 18, 15, 30, tzinfo=UTC)) == datetime(
        2026, 9, 21, 7, 30, tzinfo=UTC
    )


def test_across_the_october_clock_change_school_hours_follow_the_clocks():
    # Clocks go back at 02:00 BST on Sunday 25 October 2026.
    empty = SchoolCalendar()
    friday = datetime(2026, 10, 23, 7, 45, tzinfo=UTC)  # 08:45 BST: in school hours
    assert sending(friday, empty) == friday
    monday = datetime(2026, 10, 26, 7, 45, tzinfo=UTC)  # 07:45 GMT: not yet
    assert sending(monday, empty) == datetime(2026, 10, 26, 8, 30, tzinfo=UTC)
    # Friday after school (16:30 BST) waits until Monday 08:30 GMT, not 07:30 UTC.
    evening = datetime(2026, 10, 23, 15, 30, tzinfo=UTC)
    assert sending(evening, empty) == datetime(2026, 10, 26, 8, 30, tzinfo=UTC)


def test_in_a_holiday_it_waits_for_the_first_school_day():
    half_term = datetime(2026, 10, 28, 11, 0, tzinfo=UTC)
    # INSET on Monday 2 November: Tuesday at 08:30 GMT.
    assert sending(half_term) == datetime(2026, 11, 3, 8, 30, tzinfo=UTC)


def test_a_naive_time_is_refused():
    with pytest.raises(ValueError):
        sending(datetime(2026, 9, 14, 10, 0))
