"""How long a leaver's open plan waits to be closed: one rule for the scheduler that closes it
(bot.services.closure) and the lists that say when it will close (bot.services.caseload)."""

from __future__ import annotations

from datetime import date

from bot.services.calendar import SchoolCalendar

# A leaver's plan closes by itself this many school days after the pupil left, if the SENDCo has
# not confirmed sooner: time for a return that was an MIS mistake to come back in an import.
LEAVER_CLOSE_SCHOOL_DAYS = 20


def leaver_closes_on(calendar: SchoolCalendar, left_on: date | None, today: date) -> date:
    """The day a leaver's open plan closes by itself (the scheduler's first sweep that day),
    unless the SENDCo closes it sooner. With no leaving date recorded, counted from today."""
    closes = calendar.school_days_after(left_on or today, LEAVER_CLOSE_SCHOOL_DAYS)
    return max(closes, today)
