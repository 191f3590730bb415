"""The school calendar: which days are school days, and when a prompt may go out.

A school imports its calendar as one CSV file of terms and closure days (`import_terms_csv`);
the file is the whole calendar, so each import replaces the last. Days between terms are
holidays. `load_calendar` reads it back as a `SchoolCalendar`, which answers school-day
questions without touching the database again.

A school that has imported no terms still works: every weekday is a school day. Beyond the last
term imported, the arithmetic (`next_school_day`, `school_days_after`, `school_days_between`,
`next_sending_time`) also counts every weekday, so prompts never stall because next year's dates
are not in yet; `is_school_day` answers from the calendar alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.errors import UserError
from bot.services.csv_import import (
    BadValue,
    Column,
    Problem,
    RowCheck,
    parse_date,
    read_csv,
    reject_if_any,
    required_text,
    squash,
)
from models import CalendarKind, School, SchoolCalendarEntry

TERM_COLUMNS: tuple[Column, ...] = (
    Column("kind", required=True, aliases=("type",)),
    Column("name", required=True, aliases=("description",)),
    Column("start_date", required=True, aliases=("start", "from", "first day")),
    Column("end_date", required=True, aliases=("end", "to", "last day")),
)

# How far ahead `next_school_day` looks for a school day before giving up on the calendar.
SEARCH_DAYS = 400


@dataclass(frozen=True, slots=True)
class CalendarPeriod:
    """A term or a closure: `start` to `end`, both days included."""

    name: str
    start: date
    end: date

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass
class TermsImportResult:
    """What a terms import did: the school's calendar is now exactly the file."""

    school_name: str
    terms: int
    closures: int
    replaced: bool
    last_day: date
    today: date

    def summary(self) -> str:
        """One sentence (two if the calendar is already over) for whoever ran the import."""
        what = (
            f"Imported {_plural(self.terms, 'term')} and {_plural(self.closures, 'closure')} "
            f"for {self.school_name}"
        )
        if self.replaced:
            what += " (the previous calendar was replaced)."
        else:
            what += " (the file is the school's whole calendar: import it all again to change it)."
        if self.last_day < self.today:
            what += (
                f" The last term ended on {short_date(self.last_day)}: until the next terms are "
                "imported, every weekday counts as a school day."
            )
        return what


# --- the import -----------------------------------------------------------------------------


def import_terms_csv(
    session: Session, school: School, path: Path, *, today: date
) -> TermsImportResult:
    """Replaces the school's calendar with the terms and closures in a CSV file.

    Columns `kind,name,start_date,end_date` (headers in any letter case); kind is `term` or
    `closure`; dates YYYY-MM-DD or DD/MM/YYYY, both days included. Raises ImportRejected (a
    UserError) listing every bad line, or UserError if the file cannot be read or has no rows;
    in both cases the session has not been changed. On success the old entries are deleted and
    the new ones added to the session; the caller commits.
    """
    file = read_csv(path, TERM_COLUMNS)
    if file.records == 0:
        raise UserError(
            f"{file.name} has no terms, so nothing was imported: it needs a header row "
            "`kind,name,start_date,end_date` and a row for every term and closure."
        )
    problems = file.problems
    terms: list[tuple[int, CalendarPeriod]] = []
    closures: list[tuple[int, CalendarPeriod]] = []
    for row in file.rows:
        check = RowCheck(row, problems)
        kind = check.get("kind", _kind, None)
        name = check.get("name", required_text(100), "")
        start = check.get("start_date", parse_date, None)
        end = check.get("end_date", parse_date, None)
        if start and end and end < start:
            check.problem(f"ends ({short_date(end)}) before it starts ({short_date(start)})")
        elif kind and start and end:
            # Kept even when the name is bad, so other rows are checked against it.
            (terms if kind is CalendarKind.TERM else closures).append(
                (row.line, CalendarPeriod(name, start, end))
            )
    problems += _overlapping_terms(terms) + _closures_outside_terms(closures, terms)
    reject_if_any(file.name, problems)

    replaced = session.scalar(
        select(SchoolCalendarEntry.id).where(SchoolCalendarEntry.school_id == school.id).limit(1)
    )
    session.execute(delete(SchoolCalendarEntry).where(SchoolCalendarEntry.school_id == school.id))
    for kind, periods in ((CalendarKind.TERM, terms), (CalendarKind.CLOSURE, closures)):
        session.add_all(
            SchoolCalendarEntry(
                school_id=school.id,
                kind=kind,
                name=period.name,
                start_date=period.start,
                end_date=period.end,
            )
            for _line, period in periods
        )
    session.flush()
    return TermsImportResult(
        school_name=school.name,
        terms=len(terms),
        closures=len(closures),
        replaced=replaced is not None,
        last_day=max((period.end for _line, period in terms), default=today),
        today=today,
    )


# --- the calendar ---------------------------------------------------------------------------


def load_calendar(session: Session, school_id: int) -> SchoolCalendar:
    """The school's calendar, read in one query."""
    entries = session.scalars(
        select(SchoolCalendarEntry)
        .where(SchoolCalendarEntry.school_id == school_id)
        .order_by(SchoolCalendarEntry.start_date, SchoolCalendarEntry.id)
    ).all()
    return SchoolCalendar(
        terms=tuple(_period(e) for e in entries if e.kind is CalendarKind.TERM),
        closures=tuple(_period(e) for e in entries if e.kind is CalendarKind.CLOSURE),
    )


@dataclass(frozen=True)
class SchoolCalendar:
    """A school's terms and closures, and the school-day arithmetic built on them."""

    terms: Sequence[CalendarPeriod] = ()
    closures: Sequence[CalendarPeriod] = ()

    def is_school_day(self, day: date) -> bool:
        """Monday to Friday, inside a term and not closed. With no terms at all: any weekday."""
        if day.weekday() >= 5 or any(closure.contains(day) for closure in self.closures):
            return False
        return not self.terms or any(term.contains(day) for term in self.terms)

    def next_school_day(self, day: date) -> date:
        """`day` itself if it counts as a school day, else the first day after that does.

        Weekdays after the last term count (the next year's dates may not be imported yet).
        If no school day is found within SEARCH_DAYS, the first weekday after the last term.
        """
        for offset in range(SEARCH_DAYS):
            candidate = day + timedelta(days=offset)
            if self._counts(candidate):
                return candidate
        return _weekday_from(max(day, self._last_day() + timedelta(days=1)))

    def school_days_after(self, start: date, n: int) -> date:
        """The n-th school day after `start` (`start` itself for n = 0)."""
        if n < 0:
            raise ValueError("n must not be negative")
        current = start
        for _ in range(n):
            current = self.next_school_day(current + timedelta(days=1))
        return current

    def school_days_before(self, day: date, n: int) -> date:
        """The n-th school day before `day` (`day` itself for n = 0): a prompt's lead time."""
        if n < 0:
            raise ValueError("n must not be negative")
        current = day
        for _ in range(n):
            current -= timedelta(days=1)
            for _ in range(SEARCH_DAYS):
                if self._counts(current):
                    break
                current -= timedelta(days=1)
        return current

    def counts_as_school_day(self, day: date) -> bool:
        """Whether the arithmetic counts `day` as a school day: `is_school_day`, and beyond the
        imported terms any weekday (a date next year may be chosen before its terms are in)."""
        return self._counts(day)

    def not_a_review_day(self, day: date) -> str | None:
        """Why a review cannot be held on `day`, for the form that chose it; None for a school
        day. Reviews are meetings with the family: never on a weekend, a closure or a holiday."""
        said = long_day(day)
        if day.weekday() >= 5:
            return f"{said} is a {day:%A}: choose a school day."
        closure = self.closure_on(day)
        if closure is not None:
            return f"The school is closed on {said} ({closure.name}): choose a school day."
        if not self.counts_as_school_day(day):
            return f"{said} is in the school holiday: choose a school day."
        return None

    def closure_on(self, day: date) -> CalendarPeriod | None:
        """The closure (INSET day, bank holiday) that `day` falls in, if any."""
        return next((closure for closure in self.closures if closure.contains(day)), None)

    def previous_school_day(self, day: date) -> date:
        """`day` itself if it counts as a school day, else the last day before it that does."""
        for offset in range(SEARCH_DAYS):
            candidate = day - timedelta(days=offset)
            if self._counts(candidate):
                return candidate
        return _weekday_before(day)

    def review_day(self, day: date, *, earliest: date | None = None) -> date:
        """The school day a review proposed for `day` is held on: `day` if it is one, else the
        school day before it, unless that is before `earliest`: then the first school day from
        `earliest` (or from `day`, if later).

        Before rather than after: a review date is the day the plan is reviewed *by*, so moving
        it earlier never leaves a plan running past its review, nor makes it overdue, and a date
        brought forward stays before the review it brings forward.
        """
        before = self.previous_school_day(day)
        if earliest is None or before >= earliest:
            return before
        return self.next_school_day(max(day, earliest))

    def first_school_day_of_week(self, day: date) -> date | None:
        """The first school day in `day`'s Monday-to-Friday week, or None if it has none."""
        monday = day - timedelta(days=day.weekday())
        return next(
            (
                monday + timedelta(days=i)
                for i in range(5)
                if self._counts(monday + timedelta(days=i))
            ),
            None,
        )

    def school_days_between(self, a: date, b: date) -> int:
        """School days after `a` up to and including `b`; negative when `b` is before `a`.

        `school_days_between(a, school_days_after(a, n)) == n`.
        """
        if b < a:
            return -self.school_days_between(b, a)
        return sum(
            1 for offset in range(1, (b - a).days + 1) if self._counts(a + timedelta(days=offset))
        )

    def next_sending_time(
        self, when: datetime, timezone: str, starts: time, ends: time
    ) -> datetime:
        """The first moment from `when` inside school hours on a school day, in UTC.

        `when` itself if it already is; else `starts` (local time in `timezone`) on the next
        school day. Local times follow the clocks, British Summer Time included.
        """
        if when.tzinfo is None:
            raise ValueError("naive datetime given; pass an aware datetime")
        zone = ZoneInfo(timezone)
        local = when.astimezone(zone)
        today = local.date()
        if self._counts(today) and starts <= local.time() < ends:
            return when.astimezone(UTC)
        if self._counts(today) and local.time() < starts:
            day = today
        else:
            day = self.next_school_day(today + timedelta(days=1))
        return datetime.combine(day, starts, tzinfo=zone).astimezone(UTC)

    def describe(self) -> list[str]:
        """Lines for a person: each term with its closures beneath it, in date order."""
        if not self.terms:
            return [
                "No term dates imported: every weekday counts as a school day "
                "(import them with `sspbot import terms FILE`)."
            ]
        lines = []
        for term in sorted(self.terms, key=lambda period: period.start):
            lines.append(f"{term.name}: {_span(term)}")
            lines.extend(
                f"  closed: {closure.name}, {_span(closure)}"
                for closure in sorted(self.closures, key=lambda period: period.start)
                if term.contains(closure.start)
            )
        return lines

    def _counts(self, day: date) -> bool:
        """A school day for the arithmetic: the calendar's, or any weekday outside its span."""
        if self.terms and not (self._first_day() <= day <= self._last_day()):
            return day.weekday() < 5
        return self.is_school_day(day)

    def _first_day(self) -> date:
        return min((term.start for term in self.terms), default=date.max)

    def _last_day(self) -> date:
        return max((term.end for term in self.terms), default=date.min)


def long_day(day: date) -> str:
    """A day as a sentence names it: Friday 18 December 2026."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def short_date(day: date) -> str:
    """A day as messages about the calendar show it: Tue 3 Dec 2026."""
    return f"{day:%a} {day.day} {day:%b %Y}"


# --- helpers --------------------------------------------------------------------------------


def _kind(value: str) -> CalendarKind:
    for kind in CalendarKind:
        if squash(value) == kind.value:
            return kind
    raise BadValue(f"{value!r} is not a kind of calendar entry (use term or closure)")


def _overlapping_terms(terms: list[tuple[int, CalendarPeriod]]) -> list[Problem]:
    problems = []
    for index, (line, term) in enumerate(terms):
        for other_line, other in terms[:index]:
            if term.start <= other.end and other.start <= term.end:
                problems.append(
                    Problem(line, f"term overlaps the term on line {other_line} ({other.name})")
                )
                break
    return problems


def _closures_outside_terms(
    closures: list[tuple[int, CalendarPeriod]], terms: list[tuple[int, CalendarPeriod]]
) -> list[Problem]:
    return [
        Problem(
            line,
            f"closure ({_span(closure)}) is not within a term "
            "(days between terms are holidays already)",
        )
        for line, closure in closures
        if not any(
            term.contains(closure.start) and term.contains(closure.end) for _l, term in terms
        )
    ]


def _period(entry: SchoolCalendarEntry) -> CalendarPeriod:
    return CalendarPeriod(entry.name, entry.start_date, entry.end_date)


def _weekday_from(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _weekday_before(day: date) -> date:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _span(period: CalendarPeriod) -> str:
    if period.start == period.end:
        return short_date(period.start)
    return f"{short_date(period.start)} to {short_date(period.end)}"


def _plural(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' if number != 1 else ''}"
