"""Whether planned provision happened: intervention sessions due, and delivery rates.

A session exists as a row from the day it was due (`materialise`): "planned" is a count of the
pupils' rows in due sessions, "delivered" the count of those whose session was logged as
delivered with the pupil there. Every figure here is one aggregate query, however many pupils,
groups or interventions it covers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, case, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from bot.services.calendar import SchoolCalendar
from models import (
    GroupMember,
    InterventionGroup,
    InterventionSession,
    SessionPupil,
    SessionStatus,
    Staff,
)


@dataclass(frozen=True)
class Delivery:
    """Sessions planned for a pupil (or a group, or an intervention), and what became of them.

    `awaiting`: due but not yet logged either way; they count as planned, not delivered.
    """

    planned: int = 0
    delivered: int = 0
    awaiting: int = 0

    @property
    def rate(self) -> float | None:
        """Delivered ÷ planned; None when nothing was planned yet."""
        return self.delivered / self.planned if self.planned else None

    def describe(self) -> str:
        """In words, for the person writing a review: "9 of 12 sessions delivered (75%)"."""
        if not self.planned:
            return "no sessions due yet"
        words = f"{self.delivered} of {self.planned} sessions delivered ({self.rate:.0%})"
        if self.awaiting:
            words += f", {self.awaiting} not yet logged"
        return words


# Per pupil row: delivered = the session delivered and the pupil there.
_DELIVERED = func.sum(
    case(
        (
            and_(
                InterventionSession.status == SessionStatus.DELIVERED,
                SessionPupil.absent.is_(False),
            ),
            1,
        ),
        else_=0,
    )
)
_AWAITING = func.sum(case((InterventionSession.status == SessionStatus.AWAITING, 1), else_=0))


def _pupil_rows(school_id: int, since: date | None, until: date | None):
    conditions = [InterventionSession.school_id == school_id]
    if since is not None:
        conditions.append(InterventionSession.held_on >= since)
    if until is not None:
        conditions.append(InterventionSession.held_on <= until)
    return conditions


def _figures(rows) -> dict:
    return {
        key: Delivery(planned, delivered or 0, awaiting or 0)
        for key, planned, delivered, awaiting in rows
    }


def _per_place(
    session: Session,
    school_id: int,
    key,
    *where,
    since: date | None,
    until: date | None,
) -> dict:
    """Pupil places in the school's due sessions, counted by `key` (one query): planned,
    delivered with the pupil there, and not yet logged."""
    query = (
        select(key, func.count(), _DELIVERED, _AWAITING)
        .select_from(SessionPupil)
        .join(InterventionSession, InterventionSession.id == SessionPupil.session_id)
        .where(*where, *_pupil_rows(school_id, since, until))
        .group_by(key)
    )
    if key.table is InterventionGroup.__table__:
        query = query.join(InterventionGroup, InterventionGroup.id == InterventionSession.group_id)
    return _figures(session.execute(query))


def _only(column, ids: Iterable[int] | None) -> tuple:
    return () if ids is None else (column.in_(list(ids)),)


def by_provision(
    session: Session,
    school_id: int,
    provision_ids: Iterable[int],
    *,
    since: date | None = None,
    until: date | None = None,
) -> dict[int, Delivery]:
    """Delivery of plan provision rows (a pupil's place in a group), by provision id."""
    ids = list(provision_ids)
    if not ids:
        return {}
    key = SessionPupil.provision_id
    return _per_place(session, school_id, key, key.in_(ids), since=since, until=until)


def by_pupil(
    session: Session,
    school_id: int,
    pupil_ids: Iterable[int] | None = None,
    *,
    since: date | None = None,
    until: date | None = None,
) -> dict[int, Delivery]:
    """Delivery to each pupil across every group they are in, by pupil id (all pupils: None)."""
    key = SessionPupil.pupil_id
    return _per_place(session, school_id, key, *_only(key, pupil_ids), since=since, until=until)


def by_group(
    session: Session,
    school_id: int,
    group_ids: Iterable[int] | None = None,
    *,
    since: date | None = None,
    until: date | None = None,
) -> dict[int, Delivery]:
    """Delivery per group, counted per pupil place (a session for 4 pupils plans 4)."""
    key = InterventionSession.group_id
    return _per_place(session, school_id, key, *_only(key, group_ids), since=since, until=until)


def by_library(
    session: Session,
    school_id: int,
    *,
    since: date | None = None,
    until: date | None = None,
) -> dict[int, Delivery]:
    """Delivery per library intervention, across all its groups, counted per pupil place."""
    return _per_place(session, school_id, InterventionGroup.library_id, since=since, until=until)


def session_counts(
    session: Session,
    school_id: int,
    group_ids: Iterable[int] | None = None,
    *,
    since: date | None = None,
    until: date | None = None,
) -> dict[int, Delivery]:
    """Sessions (not pupil places) per group: planned, delivered, awaiting. For costs."""
    query = (
        select(
            InterventionSession.group_id,
            func.count(),
            func.sum(case((InterventionSession.status == SessionStatus.DELIVERED, 1), else_=0)),
            _AWAITING,
        )
        .where(*_pupil_rows(school_id, since, until))
        .group_by(InterventionSession.group_id)
    )
    if group_ids is not None:
        query = query.where(InterventionSession.group_id.in_(list(group_ids)))
    return _figures(session.execute(query))


def due_days(
    group: InterventionGroup, calendar: SchoolCalendar, start: date, end: date
) -> list[date]:
    """The school days from `start` to `end` (inclusive) on which the group meets."""
    last = min(end, group.ends_on) if group.ends_on else end
    day, days, weekdays = max(start, group.starts_on), [], set(group.weekday_numbers)
    while day <= last:
        if day.isoweekday() in weekdays and calendar.counts_as_school_day(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def materialise(
    session: Session, school_id: int, calendar: SchoolCalendar, through: date
) -> list[InterventionSession]:
    """Every session due by `through` (inclusive) and not yet a row, made a row, with a pupil row
    for each member of the group that day. Returns the new sessions; idempotent.

    Catches up after days the bot did not run: a group's sessions start the day after its latest
    row (or its first day). Four queries and two inserts, however many groups and sessions.
    """
    groups = session.scalars(
        select(InterventionGroup)
        .where(
            InterventionGroup.school_id == school_id,
            InterventionGroup.starts_on <= through,
        )
        .options(selectinload(InterventionGroup.members))
    ).all()
    latest = dict(
        session.execute(
            select(InterventionSession.group_id, func.max(InterventionSession.held_on))
            .where(InterventionSession.school_id == school_id)
            .group_by(InterventionSession.group_id)
        ).all()
    )
    due: list[tuple[InterventionGroup, date]] = []
    for group in groups:
        start = latest[group.id] + timedelta(days=1) if group.id in latest else group.starts_on
        due += [(group, day) for day in due_days(group, calendar, start, through)]
    if not due:
        return []
    # Core inserts, each one statement however many rows (the ORM would insert the sessions
    # one by one on SQLite, to learn each id for its pupils): the sessions, their ids read back
    # by (group, day), then the pupils.
    session.execute(
        insert(InterventionSession),
        [
            dict(
                school_id=school_id,
                group_id=group.id,
                held_on=day,
                starts_at=group.starts_at,
                minutes=group.minutes,
                staff_id=group.staff_id,
                status=SessionStatus.AWAITING,
            )
            for group, day in due
        ],
    )
    first = min(day for _, day in due)
    ids = {
        (group_id, held_on): session_id
        for session_id, group_id, held_on in session.execute(
            select(
                InterventionSession.id, InterventionSession.group_id, InterventionSession.held_on
            ).where(
                InterventionSession.school_id == school_id,
                InterventionSession.group_id.in_({group.id for group, _ in due}),
                InterventionSession.held_on >= first,
            )
        )
    }
    pupils = [
        dict(
            session_id=ids[(group.id, day)],
            pupil_id=m.pupil_id,
            provision_id=m.provision_id,
            absent=False,
        )
        for group, day in due
        for m in group.members
        if _member_on(m, day)
    ]
    if pupils:
        session.execute(insert(SessionPupil), pupils)
    made = session.scalars(
        select(InterventionSession)
        .where(InterventionSession.id.in_([ids[(group.id, day)] for group, day in due]))
        .order_by(InterventionSession.group_id, InterventionSession.held_on)
    ).all()
    return list(made)


def catch_up(session: Session, school_id: int, calendar: SchoolCalendar, through: date) -> None:
    """`materialise`, safe beside a concurrent sweep or a second reader doing the same: their
    rows stand (the unique constraint on group and day), ours are undone, and what the caller
    reads next is theirs. For anyone about to count delivery (the sweep, the review notes), so
    the figures include every session due by `through` whether or not the sweep has run."""
    try:
        with session.begin_nested():
            materialise(session, school_id, calendar, through)
    except IntegrityError:
        pass


def _member_on(member: GroupMember, day: date) -> bool:
    return member.joined_on <= day and (member.left_on is None or day < member.left_on)


def by_group_pupil(
    session: Session,
    school_id: int,
    group_id: int,
    *,
    since: date | None = None,
    until: date | None = None,
) -> dict[int, Delivery]:
    """Delivery to each pupil in one group (their sessions of this group only), by pupil id."""
    return _per_place(
        session,
        school_id,
        SessionPupil.pupil_id,
        InterventionSession.group_id == group_id,
        since=since,
        until=until,
    )


def unlogged_by_staff(session: Session, school_id: int, today: date) -> list[tuple]:
    """Who has sessions not yet logged, however old (`/ssp sessions` lists them all; the DM
    stops asking after four weeks): (staff id, name, Slack user id, how many, the oldest's
    day), most first. One statement."""
    rows = session.execute(
        select(
            Staff.id,
            Staff.first_name + " " + Staff.last_name,
            Staff.slack_user_id,
            func.count(),
            func.min(InterventionSession.held_on),
        )
        .join(Staff, Staff.id == InterventionSession.staff_id)
        .where(
            InterventionSession.school_id == school_id,
            InterventionSession.status == SessionStatus.AWAITING,
            InterventionSession.held_on <= today,
        )
        .group_by(Staff.id, Staff.first_name, Staff.last_name, Staff.slack_user_id)
    ).all()
    return sorted((tuple(r) for r in rows), key=lambda r: (-r[3], r[1]))
