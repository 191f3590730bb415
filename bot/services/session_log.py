"""Intervention sessions logged in one tap: the daily DM asking which happened, and the answers.

The sweep (`create_due_prompts`) makes each school's due sessions rows (delivery.materialise),
then queues ONE prompt per member of staff per day once the last of their sessions that day has
ended, sent in school hours on a school day. It lists every session of theirs not yet asked
about (today's and, catching up after days the bot did not run, earlier ones in the last
LOOKBACK_DAYS). The DM is written when it is sent, from the rows (`asked`); it names the group,
the time and the pupils (as the school names them), nothing of their needs (DESIGN §4).

Answers: delivered (everyone there, or with some pupils absent) or not delivered, with why.
Only the member of staff the session was due to be run by, or the SENDCo, may log it; who and
when are kept on the session (`logged_by_id`, `logged_at`). Identity and school come from the
verified request: a session id is only looked up among the viewer's school's sessions.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from bot.access import Viewer
from bot.errors import UserError
from bot.services import audit, delivery, groups, outbox
from bot.services.calendar import SchoolCalendar, load_calendar
from models import (
    InterventionGroup,
    InterventionSession,
    Prompt,
    PromptKind,
    PromptStatus,
    Pupil,
    School,
    SessionPupil,
    SessionStatus,
    Staff,
)

# How far back the daily DM catches up sessions not yet asked about. Older ones are not asked
# about again, but `/ssp sessions` lists every session not yet logged, however old, a page at a
# time (the SENDCo's map and `/ssp sessions @someone` say how many each person has).
LOOKBACK_DAYS = 28
# At most this many sessions in one message (two blocks each; Slack allows 50 blocks): a DM
# shows its latest SHOWN, `/ssp sessions` pages of SHOWN.
SHOWN = 20
OTHER_LENGTH = 200

REASONS = {
    "staff_absent": "Staff absent",
    "trip_or_exams": "Pupils on a trip or in exams",
    "room": "Room not available",
    "cover": "Cover or other duties",
    "other": "Other",
}
OTHER = "other"

NOT_YOURS = (
    "That session isn't one you run, so I can't log it for you. If it should be, ask your "
    "SENDCo to change who runs the group."
)


def prompt_key(staff_id: int, day: date) -> str:
    return f"sessions:{staff_id}:{day.isoformat()}"


def create_due_prompts(
    session: Session, school: School, now: datetime, calendar: SchoolCalendar | None = None
) -> int:
    """Makes today's due sessions rows, then queues one DM per member of staff whose sessions
    today have all ended (with any earlier ones not yet asked about). School days only.
    Bounded statements, however many staff and sessions: materialise's, three reads, one
    insert and one update."""
    calendar = calendar or load_calendar(session, school.id)
    today = school.local_date(now)
    # Who is in a group decides who sees its pupils (bot.access): a group past its last day
    # lets them go, whether or not it is a school day.
    groups.close_ended(session, school.id, today)
    if not calendar.is_school_day(today):
        return 0
    delivery.catch_up(session, school.id, calendar, today)
    rows = session.execute(
        select(
            InterventionSession.id,
            InterventionSession.staff_id,
            InterventionSession.held_on,
            InterventionSession.starts_at,
            InterventionSession.minutes,
            InterventionSession.status,
            InterventionSession.prompt_id,
        ).where(
            InterventionSession.school_id == school.id,
            InterventionSession.held_on >= today - timedelta(days=LOOKBACK_DAYS),
            InterventionSession.held_on <= today,
            # Today's (when does the last end?) and those not yet asked about.
            or_(
                InterventionSession.held_on == today,
                and_(
                    InterventionSession.status == SessionStatus.AWAITING,
                    InterventionSession.prompt_id.is_(None),
                ),
            ),
        )
    ).all()
    local_now = now.astimezone(ZoneInfo(school.timezone)).time()
    last_end: dict[int, time] = {}
    waiting: dict[int, list[int]] = defaultdict(list)
    for r in rows:
        if r.held_on == today:
            end = _ends_row(r)
            last_end[r.staff_id] = max(last_end.get(r.staff_id, time.min), end)
        if r.status == SessionStatus.AWAITING and r.prompt_id is None:
            waiting[r.staff_id].append(r.id)
    due = {s: ids for s, ids in waiting.items() if last_end.get(s, time.min) <= local_now}
    if not due:
        return 0
    keys = {staff_id: prompt_key(staff_id, today) for staff_id in due}
    send_at = calendar.next_sending_time(
        now, school.timezone, school.school_day_starts, school.school_day_ends
    )
    active = set(
        session.scalars(
            select(Staff.id).where(
                Staff.school_id == school.id, Staff.id.in_(list(due)), Staff.is_active.is_(True)
            )
        )
    )
    asked_already = set(
        session.scalars(
            select(Prompt.recipient_id).where(
                Prompt.school_id == school.id, Prompt.dedupe_key.in_(list(keys.values()))
            )
        )
    )
    queued = sorted(active - asked_already)
    outbox.enqueue_many(
        session,
        [
            dict(
                school_id=school.id,
                recipient_id=staff_id,
                kind=PromptKind.SESSION_LOG,
                dedupe_key=keys[staff_id],
                due_at=send_at,
            )
            for staff_id in queued
        ],
        now=now,
    )
    # Each session asked about points at its DM: one statement for every member of staff.
    theirs = (
        select(Prompt.id)
        .where(
            Prompt.school_id == school.id,
            Prompt.recipient_id == InterventionSession.staff_id,
            Prompt.dedupe_key.in_(list(keys.values())),
            # A DM already sent today can't show a session made since (a group added after
            # it): that one waits for the next school day's DM.
            Prompt.status == PromptStatus.PENDING,
        )
        .scalar_subquery()
    )
    session.execute(
        update(InterventionSession)
        .where(
            InterventionSession.id.in_([i for ids in due.values() for i in ids]),
            InterventionSession.prompt_id.is_(None),
        )
        .values(prompt_id=theirs)
        .execution_options(synchronize_session=False)
    )
    return len(queued)


def _ends_row(r) -> time:
    end = datetime.combine(r.held_on, r.starts_at) + timedelta(minutes=r.minutes)
    return end.time() if end.date() == r.held_on else time.max


# --------------------------------------------------------------------------- what a DM shows


@dataclass(frozen=True)
class Shown:
    """One session as a message shows it: the group, when, the pupils (as the school names
    them) and what was logged."""

    id: int
    group: str
    held_on: date
    starts_at: time
    pupils: tuple[tuple[int, str], ...]
    """(pupil id, name), in the group's order."""
    status: SessionStatus
    absent: tuple[str, ...]
    reason: str | None
    logged_by: str | None


@dataclass(frozen=True)
class Sessions:
    """A message's sessions: the staff member's, newest day last; `more` left out."""

    staff_id: int
    staff_name: str
    today: date
    shown: tuple[Shown, ...]
    more: int = 0
    unlogged: int = 0
    """`/ssp sessions`: every session of theirs not yet logged, up to today, however old."""
    oldest: date | None = None
    """The day of the oldest of those."""
    page: int = 0
    """`/ssp sessions`: 0 is the newest SHOWN, 1 the SHOWN before them, and so on."""
    pages: int = 1
    for_someone_else: bool = False
    """The SENDCo looking at a colleague's sessions."""


def asked(session: Session, prompt: Prompt, today: date) -> Sessions | None:
    """The sessions a SESSION_LOG prompt asks about, as they stand; None once every one of them
    has been logged (by `/ssp sessions`, or the SENDCo) or is gone: nothing to ask."""
    sittings = _load(
        session,
        select(InterventionSession).where(
            InterventionSession.school_id == prompt.school_id,
            InterventionSession.prompt_id == prompt.id,
        ),
    )
    if not any(s.status == SessionStatus.AWAITING for s in sittings):
        return None
    return _sessions(session, prompt.school_id, prompt.recipient_id, today, sittings)


def in_prompt(session: Session, viewer: Viewer, prompt_id: int, today: date) -> Sessions | None:
    """A DM's sessions redrawn after an answer, for its recipient or the SENDCo."""
    prompt = session.scalar(
        select(Prompt).where(
            Prompt.id == prompt_id,
            Prompt.school_id == viewer.school_id,
            Prompt.kind == PromptKind.SESSION_LOG,
        )
    )
    if prompt is None or not (viewer.is_sendco or prompt.recipient_id == viewer.staff_id):
        return None
    sittings = _load(
        session,
        select(InterventionSession).where(
            InterventionSession.school_id == viewer.school_id,
            InterventionSession.prompt_id == prompt.id,
        ),
    )
    return _sessions(session, viewer.school_id, prompt.recipient_id, today, sittings)


def to_log(
    session: Session,
    viewer: Viewer,
    staff_id: int,
    today: date,
    *,
    also_logged_today: bool = False,
    page: int = 0,
) -> Sessions | None:
    """`/ssp sessions`: the sessions of `staff_id` not yet logged, however old, up to those
    already over today, a page of SHOWN at a time (page 0: the newest), oldest first within the
    page; with how many are unlogged in all and the oldest's day. With `also_logged_today`,
    those logged today too (the list redrawn after an answer keeps what was just logged, with
    "Change", and so keeps its pages). None when the viewer may not see them (someone else's,
    unless the viewer is the SENDCo). The same few statements, however many sessions."""
    if staff_id != viewer.staff_id and not viewer.is_sendco:
        return None
    staff = session.get(Staff, staff_id)
    if staff is None or staff.school_id != viewer.school_id:
        return None
    awaiting = InterventionSession.status == SessionStatus.AWAITING
    open_ = awaiting
    if also_logged_today:
        school = session.get(School, viewer.school_id)
        since = datetime.combine(today, time.min, tzinfo=ZoneInfo(school.timezone)).astimezone(UTC)
        open_ = open_ | (InterventionSession.logged_at >= since)
    theirs = (
        InterventionSession.school_id == viewer.school_id,
        InterventionSession.staff_id == staff_id,
        InterventionSession.held_on <= today,
    )
    listed, unlogged, oldest = session.execute(
        select(
            func.count(),
            func.sum(case((awaiting, 1), else_=0)),
            func.min(case((awaiting, InterventionSession.held_on))),
        ).where(*theirs, open_)
    ).one()
    pages = max(1, -(-listed // SHOWN))
    page = min(max(page, 0), pages - 1)
    newest_first = (
        select(InterventionSession)
        .where(*theirs, open_)
        .order_by(
            InterventionSession.held_on.desc(),
            InterventionSession.starts_at.desc(),
            InterventionSession.id.desc(),
        )
        .offset(page * SHOWN)
        .limit(SHOWN)
    )
    sittings = _load(session, newest_first, ordered=False)[::-1]
    found = _sessions(session, viewer.school_id, staff_id, today, sittings)
    return replace(
        found,
        unlogged=unlogged or 0,
        oldest=oldest,
        page=page,
        pages=pages,
        for_someone_else=staff_id != viewer.staff_id,
    )


def _load(session: Session, query, *, ordered: bool = True) -> list[InterventionSession]:
    query = query.options(
        selectinload(InterventionSession.group),
        selectinload(InterventionSession.pupils).selectinload(SessionPupil.pupil),
    )
    if ordered:
        query = query.order_by(
            InterventionSession.held_on, InterventionSession.starts_at, InterventionSession.id
        )
    return list(session.scalars(query))


def _sessions(session: Session, school_id: int, staff_id: int, today: date, sittings) -> Sessions:
    staff = session.get(Staff, staff_id)
    loggers = {s.logged_by_id for s in sittings if s.logged_by_id}
    names = (
        dict(
            session.execute(
                select(Staff.id, Staff.first_name + " " + Staff.last_name).where(
                    Staff.id.in_(loggers)
                )
            ).all()
        )
        if loggers
        else {}
    )

    # Named in full: only what Slack does not keep shows names (the reply to `/ssp sessions`
    # and the forms); the DM counts pupils (handlers.messages).
    def named(pupil: Pupil) -> str:
        return pupil.known_as

    # The latest SHOWN: older ones are in `/ssp sessions` once these are logged.
    kept = sittings[-SHOWN:]
    shown = tuple(
        Shown(
            id=s.id,
            group=s.group.name,
            held_on=s.held_on,
            starts_at=s.starts_at,
            pupils=tuple((p.pupil_id, named(p.pupil)) for p in s.pupils),
            status=s.status,
            absent=tuple(named(p.pupil) for p in s.pupils if p.absent),
            reason=s.not_delivered_reason,
            logged_by=names.get(s.logged_by_id)
            if s.logged_by_id and s.logged_by_id != staff_id
            else None,
        )
        for s in kept
    )
    return Sessions(
        staff_id, staff.display_name if staff else "", today, shown, len(sittings) - len(kept)
    )


# --------------------------------------------------------------------------- answering


def _theirs(session: Session, viewer: Viewer, session_id: int, via: str, now: datetime):
    sitting = session.scalar(
        select(InterventionSession)
        .where(
            InterventionSession.id == session_id,
            InterventionSession.school_id == viewer.school_id,
        )
        .options(selectinload(InterventionSession.pupils).selectinload(SessionPupil.pupil))
    )
    if sitting is None or not (viewer.is_sendco or sitting.staff_id == viewer.staff_id):
        audit.record_refusal(session, viewer, via=via, now=now, detail="session refused")
        return None
    return sitting


def session_for(
    session: Session, viewer: Viewer, session_id: int, *, via: str, now: datetime
) -> InterventionSession | None:
    """The session, if the viewer runs it (or is the SENDCo); None (the refusal audited)."""
    return _theirs(session, viewer, session_id, via, now)


def pupil_choices(
    session: Session, school_id: int, sitting: InterventionSession
) -> list[tuple[str, str, bool]]:
    """(name, pupil id, marked absent) of each pupil the session was for: for the form, which
    Slack does not keep."""
    return [(p.pupil.known_as, str(p.pupil_id), p.absent) for p in sitting.pupils]


def log_delivered(
    session: Session,
    viewer: Viewer,
    session_id: int,
    *,
    absent: set[int] | None = None,
    via: str,
    now: datetime,
) -> InterventionSession | None:
    """Delivered, with the pupils in `absent` away (none: everyone there). Changing an earlier
    answer is allowed; the latest stands. None when refused."""
    sitting = _theirs(session, viewer, session_id, via, now)
    if sitting is None:
        return None
    absent = absent or set()
    if sitting.status == SessionStatus.DELIVERED and absent == {
        p.pupil_id for p in sitting.pupils if p.absent
    }:
        return sitting  # a double tap, or Slack's retry: already so, nothing to change
    sitting.status = SessionStatus.DELIVERED
    sitting.not_delivered_reason = None
    for pupil in sitting.pupils:
        pupil.absent = pupil.pupil_id in absent
    _logged(session, viewer, sitting, via, now, "session logged: delivered")
    return sitting


def log_not_delivered(
    session: Session,
    viewer: Viewer,
    session_id: int,
    *,
    reason: str | None,
    other: str | None,
    via: str,
    now: datetime,
) -> InterventionSession | None:
    """Not delivered, and why (one of REASONS; "other" needs words). UserError (with the field)
    for a missing reason; None when refused."""
    if reason not in REASONS:
        raise UserError("Choose why it didn't happen.", block_id="reason")
    other = " ".join((other or "").split())
    if reason == OTHER and not other:
        raise UserError("Say why it didn't happen.", block_id="other")
    if len(other) > OTHER_LENGTH:
        raise UserError(f"Keep it under {OTHER_LENGTH} characters.", block_id="other")
    sitting = _theirs(session, viewer, session_id, via, now)
    if sitting is None:
        return None
    why = f"Other: {other}" if reason == OTHER else REASONS[reason]
    if sitting.status == SessionStatus.NOT_DELIVERED and sitting.not_delivered_reason == why:
        return sitting  # submitted twice: already so
    sitting.status = SessionStatus.NOT_DELIVERED
    sitting.not_delivered_reason = why
    for pupil in sitting.pupils:
        pupil.absent = False
    _logged(session, viewer, sitting, via, now, "session logged: not delivered")
    return sitting


def _logged(
    session: Session, viewer: Viewer, sitting: InterventionSession, via: str, now: datetime, what
) -> None:
    sitting.logged_by_id = viewer.staff_id
    sitting.logged_at = now
    if sitting.prompt_id is not None:
        outbox.mark_answered(session, sitting.prompt_id, now, school_id=viewer.school_id)
    # Who logged a group's session and when; no pupil is named (the rows say who was there).
    audit.record(
        session,
        action="update",
        via=via,
        now=now,
        school_id=viewer.school_id,
        staff_id=viewer.staff_id,
        detail=what,
    )
    session.flush()


def posted(session: Session, viewer: Viewer, sitting: InterventionSession) -> tuple | None:
    """(channel, ts, prompt id) of the DM that asked about the session, from the outbox, so an
    answer given elsewhere (a form, `/ssp sessions`) redraws it. None if it was never sent."""
    if sitting.prompt_id is None:
        return None
    prompt = session.get(Prompt, sitting.prompt_id)
    if (
        prompt is None
        or prompt.school_id != viewer.school_id
        or prompt.recipient_id != sitting.staff_id
        or not (prompt.slack_channel and prompt.slack_ts)
    ):
        return None
    return prompt.slack_channel, prompt.slack_ts, prompt.id


def staff_by_slack_id(session: Session, viewer: Viewer, slack_user_id: str) -> int | None:
    return session.scalar(
        select(Staff.id).where(
            Staff.school_id == viewer.school_id, Staff.slack_user_id == slack_user_id
        )
    )


def groups_run_by(session: Session, school_id: int, staff_id: int) -> list[InterventionGroup]:
    return list(
        session.scalars(
            select(InterventionGroup).where(
                InterventionGroup.school_id == school_id, InterventionGroup.staff_id == staff_id
            )
        )
    )
