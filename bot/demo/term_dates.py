"""Term dates for the synthetic school: the usual shape of an English school year (six half
terms, a week at each half term, two weeks at Christmas and Easter, INSET days and the May bank
holidays), worked out for any year so the demo keeps working whenever it is run. Not any local
authority's published dates: a real school imports its own (`sspbot import terms`).
"""

from __future__ import annotations

from datetime import date, timedelta

from bot.services.calendar import CalendarPeriod, SchoolCalendar

MONDAY, FRIDAY = 0, 4


def demo_calendar(academic_year: int) -> SchoolCalendar:
    """The year before, this academic year (starting in September of `academic_year`) and the
    next: plans started last year and reviews set next year fall on school days too."""
    terms: list[CalendarPeriod] = []
    closures: list[CalendarPeriod] = []
    for year in (academic_year - 1, academic_year, academic_year + 1):
        year_terms, year_closures = _school_year(year)
        terms += year_terms
        closures += year_closures
    return SchoolCalendar(terms=tuple(terms), closures=tuple(closures))


def _school_year(year: int) -> tuple[list[CalendarPeriod], list[CalendarPeriod]]:
    autumn_start = _weekday_from(date(year, 9, 1))
    october_break = _last(date(year, 10, 31), MONDAY)
    autumn_end = _on_or_before(date(year, 12, 20), FRIDAY)
    spring_start = _on_or_after(date(year + 1, 1, 4), MONDAY)
    february_break = _on_or_after(date(year + 1, 2, 15), MONDAY)
    spring_end = _last(date(year + 1, 3, 31), FRIDAY)
    summer_start = spring_end + timedelta(days=17)  # two weeks' Easter holiday
    may_break = _last(date(year + 1, 5, 31), MONDAY)
    summer_end = _on_or_before(date(year + 1, 7, 23), FRIDAY)
    span = f"{year}/{str(year + 1)[-2:]}"

    def term(name: str, start: date, end: date) -> CalendarPeriod:
        return CalendarPeriod(f"{name} {span}", start, end)

    def day_off(name: str, day: date) -> CalendarPeriod:
        return CalendarPeriod(name, day, day)

    terms = [
        term("Autumn 1", autumn_start, october_break - timedelta(days=3)),
        term("Autumn 2", october_break + timedelta(days=7), autumn_end),
        term("Spring 1", spring_start, february_break - timedelta(days=3)),
        term("Spring 2", february_break + timedelta(days=7), spring_end),
        term("Summer 1", summer_start, may_break - timedelta(days=3)),
        term("Summer 2", may_break + timedelta(days=7), summer_end),
    ]
    closures = [
        day_off("INSET day", autumn_start),
        day_off("INSET day", october_break + timedelta(days=7)),
        day_off("INSET day", spring_start),
        day_off("Early May bank holiday", _on_or_after(date(year + 1, 5, 1), MONDAY)),
        day_off("INSET day", summer_end),
    ]
    return terms, closures


def _weekday_from(day: date) -> date:
    return day if day.weekday() < 5 else _on_or_after(day, MONDAY)


def _on_or_after(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _on_or_before(day: date, weekday: int) -> date:
    return day - timedelta(days=(day.weekday() - weekday) % 7)


def _last(month_end: date, weekday: int) -> date:
    """The last `weekday` of the month that `month_end` (its last day) ends."""
    return _on_or_before(month_end, weekday)
