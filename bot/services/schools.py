"""Schools: the tenants. A trust can run several schools in one database."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.errors import UserError
from bot.services import audit
from bot.services.calendar import load_calendar, short_date
from bot.services.review_schedule import ESCALATE_AFTER_SCHOOL_DAYS
from bot.services.reviews import SNOOZE_CHOICES
from models import PupilDisplay, QaReviews, School

# The review cycle's timings, in school days. Each school sets the notice and the interval
# (`/ssp settings`, `sspbot school set`); the rest are the same for every school (reviews.py).
REVIEW_NOTICE_DAYS = range(1, 61)  # the "review coming up" prompt, before the review date
REVIEW_INTERVAL_DAYS = range(5, 196)  # the gap proposed between one review and the next

_CLOCK_TIME = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")


def add_school(
    session: Session,
    name: str,
    *,
    slack_team_id: str | None = None,
    timezone: str = "Europe/London",
) -> School:
    """Creates a school. Raises UserError if the name or Slack team is already taken."""
    name = " ".join(name.split())
    if not name:
        raise UserError("A school needs a name.")
    _check_timezone(timezone)
    if session.scalar(select(School).where(func.lower(School.name) == name.lower())):
        raise UserError(f"There is already a school called {name!r}.")
    if slack_team_id:
        owner = session.scalar(select(School).where(School.slack_team_id == slack_team_id))
        if owner:
            raise UserError(f"Slack workspace {slack_team_id} already belongs to {owner.name!r}.")
    school = School(name=name, slack_team_id=slack_team_id or None, timezone=timezone)
    session.add(school)
    session.flush()
    return school


def update_school(
    session: Session,
    school: School,
    *,
    timezone: str | None = None,
    slack_team_id: str | None = None,
    pupil_display: str | None = None,
    review_notice_school_days: int | None = None,
    review_interval_school_days: int | None = None,
    school_day_starts: time | None = None,
    school_day_ends: time | None = None,
) -> School:
    """Changes a school's settings; raises UserError for a bad value or a taken workspace.

    Review timings are whole numbers of school days (REVIEW_NOTICE_DAYS, REVIEW_INTERVAL_DAYS);
    school hours are local times in the school's time zone, and the day must start before it
    ends (either end may be changed alone). The caller's unit of work rolls back on a refusal.
    """
    if timezone is not None:
        _check_timezone(timezone)
        school.timezone = timezone
    if slack_team_id is not None:
        owner = session.scalar(select(School).where(School.slack_team_id == slack_team_id))
        if owner is not None and owner.id != school.id:
            raise UserError(f"Slack workspace {slack_team_id} already belongs to {owner.name!r}.")
        school.slack_team_id = slack_team_id
    if pupil_display is not None:
        try:
            school.pupil_display = PupilDisplay(pupil_display)
        except ValueError:
            raise UserError("--pupil-display is `name` or `initials`.") from None
    if review_notice_school_days is not None:
        _check_school_days(review_notice_school_days, REVIEW_NOTICE_DAYS, "The review notice")
        school.review_notice_school_days = review_notice_school_days
    if review_interval_school_days is not None:
        _check_school_days(review_interval_school_days, REVIEW_INTERVAL_DAYS, "The review interval")
        school.review_interval_school_days = review_interval_school_days
    if school_day_starts is not None or school_day_ends is not None:
        starts = school_day_starts if school_day_starts is not None else school.school_day_starts
        ends = school_day_ends if school_day_ends is not None else school.school_day_ends
        if not starts < ends:
            raise UserError(
                f"The school day must start before it ends: {clock(starts)} is not before "
                f"{clock(ends)}."
            )
        school.school_day_starts, school.school_day_ends = starts, ends
    session.flush()
    return school


def parse_school_hours(text: str) -> tuple[time, time]:
    """School hours as typed: "08:40 15:30", "08:40-15:30" or "8:40 to 15:30" (24-hour clock).

    Raises UserError saying the accepted form. Whether the day starts before it ends is
    update_school's check.
    """
    words = [word for word in re.split(r"\s+|-|\bto\b", text.strip().lower()) if word]
    matches = [_CLOCK_TIME.match(word) for word in words]
    if len(matches) != 2 or not all(matches):
        raise UserError(
            "School hours are a start and an end time on the 24-hour clock, "
            "like 08:40-15:30 or 08:40 15:30."
        )
    starts, ends = (time(int(m.group(1)), int(m.group(2))) for m in matches if m)
    return starts, ends


def clock(value: time) -> str:
    """8:30, 16:00: a time of day as staff write it."""
    return f"{value.hour}:{value.minute:02d}"


@dataclass(frozen=True)
class SchoolSettings:
    """What `/ssp settings` shows: a school's hours, review timings and calendar, and today."""

    name: str
    timezone: str
    school_day_starts: time
    school_day_ends: time
    pupil_display: PupilDisplay
    review_notice_school_days: int
    review_interval_school_days: int
    qa_reviews: QaReviews
    calendar_lines: list[str]
    today: date
    today_is_school_day: bool  # on the calendar as imported
    today_counts: bool  # prompts may go out today (weekdays beyond the last term count)
    next_prompts: datetime  # the first moment from now that prompts may go out, local time
    now: datetime  # local time

    escalation_after_school_days: int = ESCALATE_AFTER_SCHOOL_DAYS
    snooze_choices: tuple[int, ...] = SNOOZE_CHOICES

    @property
    def hours(self) -> str:
        return f"{clock(self.school_day_starts)} to {clock(self.school_day_ends)}"

    def describe_today(self) -> str:
        """Whether today is a school day, and when the next prompts can go out."""
        day = short_date(self.today)
        if self.today_is_school_day:
            what = f"Today ({day}) is a school day"
        elif self.today_counts:
            what = (
                f"Today ({day}) is after the last term imported, so it counts as a school day "
                "until the next term dates are imported"
            )
        else:
            what = f"Today ({day}) is not a school day"
        if self.next_prompts <= self.now:
            return f"{what}: prompts can go out now, until {clock(self.school_day_ends)}."
        at = clock(self.next_prompts.time())
        if self.next_prompts.date() == self.today:
            return f"{what}: the next prompts can go out today at {at}."
        next_day = short_date(self.next_prompts.date())
        return f"{what}: the next prompts can go out on {next_day} at {at}."


def school_settings(session: Session, school_id: int, now: datetime) -> SchoolSettings:
    """A school's settings and calendar, and what today means for prompts."""
    school = session.get_one(School, school_id)
    calendar = load_calendar(session, school_id)
    zone = ZoneInfo(school.timezone)
    local_now = now.astimezone(zone)
    today = local_now.date()
    next_prompts = calendar.next_sending_time(
        now, school.timezone, school.school_day_starts, school.school_day_ends
    ).astimezone(zone)
    return SchoolSettings(
        name=school.name,
        timezone=school.timezone,
        school_day_starts=school.school_day_starts,
        school_day_ends=school.school_day_ends,
        pupil_display=school.pupil_display,
        review_notice_school_days=school.review_notice_school_days,
        review_interval_school_days=school.review_interval_school_days,
        qa_reviews=school.qa_reviews,
        calendar_lines=calendar.describe(),
        today=today,
        today_is_school_day=calendar.is_school_day(today),
        today_counts=calendar.next_school_day(today) == today,
        next_prompts=next_prompts,
        now=local_now,
    )


def change_settings(
    session: Session,
    school_id: int,
    *,
    staff_id: int,
    now: datetime,
    via: str,
    review_notice_school_days: int | None = None,
    review_interval_school_days: int | None = None,
    school_hours: tuple[time, time] | None = None,
    qa_reviews: QaReviews | None = None,
) -> list[str]:
    """Changes a school's review timings or hours for a member of staff, and audits each change.

    Returns what was changed, in words ("review notice set to 8 school days"). Raises UserError
    for a bad value (the caller's unit of work then rolls back, so nothing is changed).
    """
    school = session.get_one(School, school_id)
    starts, ends = school_hours or (None, None)
    update_school(
        session,
        school,
        review_notice_school_days=review_notice_school_days,
        review_interval_school_days=review_interval_school_days,
        school_day_starts=starts,
        school_day_ends=ends,
    )
    changes = []
    if review_notice_school_days is not None:
        changes.append(f"review notice set to {_school_days(review_notice_school_days)}")
    if review_interval_school_days is not None:
        changes.append(f"review interval set to {_school_days(review_interval_school_days)}")
    if school_hours is not None:
        changes.append(f"school hours set to {clock(starts)} to {clock(ends)}")
    if qa_reviews is not None:
        school.qa_reviews = qa_reviews
        changes.append(f"reviews sent for quality assurance: {qa_reviews.label}")
    for change in changes:
        audit.record(
            session,
            action="update",
            via=via,
            now=now,
            school_id=school_id,
            staff_id=staff_id,
            detail=change,
        )
    return changes


def list_schools(session: Session) -> list[School]:
    return list(session.scalars(select(School).order_by(School.name)))


def find_school(session: Session, name: str | None) -> School:
    """The school named (any letter case), or the only school when no name is given.

    Raises UserError saying which schools exist when the choice is missing or ambiguous.
    """
    schools = list_schools(session)
    if not schools:
        raise UserError(
            "There is no school yet: add one with `sspbot school add NAME` "
            "(or try `sspbot demo-data` for a synthetic one)."
        )
    if name is None:
        if len(schools) == 1:
            return schools[0]
        names = ", ".join(repr(s.name) for s in schools)
        raise UserError(
            f"There are {len(schools)} schools ({names}): say which with --school NAME."
        )
    wanted = " ".join(name.split()).lower()
    for school in schools:
        if school.name.lower() == wanted:
            return school
    names = ", ".join(repr(s.name) for s in schools)
    raise UserError(f"There is no school called {name!r}. Schools: {names}.")


def bind_workspace(session: Session, team_id: str) -> School | None:
    """The school for a Slack workspace, binding it if exactly one school has no workspace yet.

    A single-school install then needs no team id: the bot's own workspace (from `auth.test`)
    claims the one unbound school the first time the bot starts. Returns None when the
    workspace belongs to no school and cannot claim one.
    """
    school = session.scalar(select(School).where(School.slack_team_id == team_id))
    if school is not None:
        return school
    unbound = list(session.scalars(select(School).where(School.slack_team_id.is_(None)).limit(2)))
    if len(unbound) != 1:
        return None
    unbound[0].slack_team_id = team_id
    session.flush()
    return unbound[0]


def _check_school_days(value: int | None, allowed: range, what: str) -> None:
    if value is not None and value not in allowed:
        raise UserError(
            f"{what} is a whole number of school days from {allowed.start} to "
            f"{allowed.stop - 1}; {value} is not."
        )


def _school_days(n: int) -> str:
    return f"{n} school day{'' if n == 1 else 's'}"


def _check_timezone(timezone: str) -> None:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(
            f"{timezone!r} is not a time zone name: use one like Europe/London."
        ) from None
