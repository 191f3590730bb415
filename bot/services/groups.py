"""Intervention groups: a library intervention run for several pupils by one member of staff at a
regular time (`/ssp groups`, `/ssp group new`, a group's view, "Add to a group" on a plan).

Who may do what (least privilege, decided from the verified viewer on every request):
- see a group: the SENDCo and senior leaders (every group of their school), the member of staff
  running it (their own groups); nobody else, and never another school's;
- create, change or end a group: the SENDCo;
- add or remove pupils: the SENDCo, and the member of staff running the group (only pupils they
  may already see, as `/ssp pupil` would find them);
- add a pupil to a group from their plan: the plan's case holder or the SENDCo.

Whoever is made to run a group (a new group, or a new runner by **Edit**) is told in one
message through the outbox (GROUP_RUNNER): the group's name, days, time and place, never its
pupils (Slack keeps DMs), with a button to open it that checks access afresh. When a runner
leaves the staff list (import or Microsoft 365 sync), their groups read "no runner" in
`/ssp groups`, the SENDCo is told (GROUP_RUNNER_LEFT), and their session DMs not yet sent are
cancelled; the next runner the SENDCo chooses takes over the sessions they left unlogged.

A pupil with an open plan is linked to a provision row of it (GroupMember.provision_id): an
existing current row of the same library intervention, or a new one, so the plan says what they
get and delivery is counted against it. Leaving ends that row ("what has been tried" survives).
Every membership change is audited against the plan (or the pupil, without one).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session, aliased, selectinload

from bot.access import Viewer, visible_pupils
from bot.errors import UserError
from bot.services import audit, delivery, outbox, review_schedule
from models import (
    GroupMember,
    InterventionGroup,
    InterventionSession,
    LibraryProvision,
    Plan,
    PlanProvision,
    PlanStatus,
    Prompt,
    PromptKind,
    PromptStatus,
    Pupil,
    SessionStatus,
    Staff,
    TimelineEntry,
    TimelineKind,
)

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
SCHOOL_DAYS = (1, 2, 3, 4, 5)
MIN_MINUTES, MAX_MINUTES = 5, 240
NAME_LENGTH = 200
LOCATION_LENGTH = 200
MAX_PUPILS = 30  # pupils added at once (a menu holds what Slack allows; groups are small)
LEFT_REASON = "Left the group"
ENDED_REASON = "The group ended"

NOT_FOUND = "I couldn't find that group among the groups you can see. `/ssp groups` lists them."
ONLY_SENDCO = "Only the SENDCo sets up, changes and ends intervention groups."
NOT_YOURS = "Only the SENDCo and the member of staff running this group can change who is in it."
ENDED = "That group has ended, so nobody can join it. `/ssp groups` lists the current ones."
EMPTY_LIBRARY = (
    "Your school's provision library has no interventions yet, so there is nothing to run a "
    "group of. Add them with `/ssp provision library`, then try again."
)


def schedule_text(weekdays: Iterable[int], starts_at: time, minutes: int) -> str:
    """ "Tue, Thu 08:40, 30 min"."""
    days = ", ".join(DAY_NAMES[d - 1] for d in sorted(weekdays) if 1 <= d <= 7)
    return f"{days} {starts_at.strftime('%H:%M')}, {minutes} min"


def how_often(weekdays: Sequence[int], minutes: int) -> str:
    """For the plan's provision row: "2 x 30 minutes a week"."""
    return f"{len(weekdays)} x {minutes} minutes a week"


@dataclass(frozen=True)
class GroupLine:
    group_id: int
    name: str
    intervention: str
    schedule: str
    staff_name: str
    staff_slack_user_id: str | None
    pupils: int
    delivery: delivery.Delivery
    ended: bool
    runner_left: bool = False
    """Its runner has left the staff list: it has no runner until the SENDCo chooses one."""


@dataclass(frozen=True)
class MemberLine:
    member_id: int
    pupil_id: int
    name: str
    year_group: int
    joined_on: date
    delivery: delivery.Delivery
    has_plan_link: bool


@dataclass(frozen=True)
class GroupDetails:
    line: GroupLine
    location: str | None
    starts_on: date
    ends_on: date | None
    members: list[MemberLine]
    may_change_members: bool
    may_manage: bool


@dataclass(frozen=True)
class GroupInput:
    """What the form said, as typed; checked by `create`/`update`."""

    library_id: int | None
    name: str | None
    staff_id: int | None
    weekdays: Sequence[int]
    starts_at: time | None
    minutes: str | None
    location: str | None
    starts_on: date | None
    ends_on: date | None
    pupil_ids: Sequence[int] = ()


# --- who may see what --------------------------------------------------------------------------


def _visible(viewer: Viewer):
    conditions = [InterventionGroup.school_id == viewer.school_id]
    if not viewer.sees_whole_school:
        conditions.append(InterventionGroup.staff_id == viewer.staff_id)
    return conditions


def may_change_members(viewer: Viewer, group: InterventionGroup) -> bool:
    return viewer.is_sendco or group.staff_id == viewer.staff_id


def _running_on(day: date):
    """In SQL: the group's last day, if it has one, is `day` or later."""
    return or_(InterventionGroup.ends_on.is_(None), InterventionGroup.ends_on >= day)


def current(group: InterventionGroup, today: date) -> bool:
    """Still open to change: not ended (a group ended today has had its last day)."""
    return group.ends_on is None or group.ends_on > today


def _in_group(member: GroupMember, today: date) -> bool:
    return member.left_on is None or member.left_on > today


def load(session: Session, viewer: Viewer, group_id: int) -> InterventionGroup | None:
    """The group, if this viewer may see it (else None: "not allowed" reads as "not found")."""
    return session.scalar(
        select(InterventionGroup)
        .where(InterventionGroup.id == group_id, *_visible(viewer))
        .options(
            selectinload(InterventionGroup.members).selectinload(GroupMember.pupil),
            selectinload(InterventionGroup.provision),
            selectinload(InterventionGroup.staff),
        )
    )


# --- lists -------------------------------------------------------------------------------------


def list_groups(session: Session, viewer: Viewer, today: date) -> list[GroupLine]:
    """The current groups this viewer may see, by name: three queries however many groups."""
    rows = session.execute(
        select(InterventionGroup, LibraryProvision.name, Staff)
        .join(LibraryProvision, LibraryProvision.id == InterventionGroup.library_id)
        .join(Staff, Staff.id == InterventionGroup.staff_id)
        .where(
            *_visible(viewer),
            # Ended today: still listed (today was its last day), marked as ended.
            _running_on(today),
        )
        .order_by(InterventionGroup.name, InterventionGroup.id)
    ).all()
    ids = [group.id for group, _, _ in rows]
    counts = (
        dict(
            session.execute(
                select(GroupMember.group_id, func.count())
                .where(
                    GroupMember.group_id.in_(ids),
                    or_(GroupMember.left_on.is_(None), GroupMember.left_on > today),
                )
                .group_by(GroupMember.group_id)
            ).all()
        )
        if ids
        else {}
    )
    figures = delivery.by_group(session, viewer.school_id, ids) if ids else {}
    return [
        _line(group, name, staff, counts.get(group.id, 0), figures, today)
        for group, name, staff in rows
    ]


def _line(group, intervention: str, staff: Staff, pupils: int, figures, today) -> GroupLine:
    return GroupLine(
        group_id=group.id,
        name=group.name,
        intervention=intervention,
        schedule=schedule_text(group.weekday_numbers, group.starts_at, group.minutes),
        staff_name=staff.display_name,
        staff_slack_user_id=staff.slack_user_id,
        pupils=pupils,
        delivery=figures.get(group.id, delivery.Delivery()),
        ended=not current(group, today),
        runner_left=not staff.is_active,
    )


def details(
    session: Session, viewer: Viewer, group_id: int, today: date, *, via: str, now: datetime
) -> GroupDetails | None:
    """A group with its current members and what each has had of it, or None if not theirs."""
    group = load(session, viewer, group_id)
    if group is None:
        return None
    members = [m for m in group.members if _in_group(m, today)]
    figures = delivery.by_group_pupil(session, viewer.school_id, group.id)
    audit.record_shown(
        session,
        viewer,
        via=via,
        now=now,
        what="an intervention group's pupils",
        pupils=[(None, m.pupil_id) for m in members],
    )
    lines = sorted(
        (
            MemberLine(
                member_id=m.id,
                pupil_id=m.pupil_id,
                name=m.pupil.known_as,
                year_group=m.pupil.year_group,
                joined_on=m.joined_on,
                delivery=figures.get(m.pupil_id, delivery.Delivery()),
                has_plan_link=m.provision_id is not None,
            )
            for m in members
        ),
        key=lambda line: (line.name.split()[-1], line.name),
    )
    total = delivery.by_group(session, viewer.school_id, [group.id])
    return GroupDetails(
        line=_line(group, group.provision.name, group.staff, len(members), total, today),
        location=group.location,
        starts_on=group.starts_on,
        ends_on=group.ends_on,
        members=lines,
        may_change_members=may_change_members(viewer, group) and current(group, today),
        may_manage=viewer.is_sendco and current(group, today),
    )


# --- the form's choices ------------------------------------------------------------------------


def library_choices(session: Session, school_id: int) -> list[tuple[int, str]]:
    return list(
        session.execute(
            select(LibraryProvision.id, LibraryProvision.name)
            .where(LibraryProvision.school_id == school_id, LibraryProvision.is_active.is_(True))
            .order_by(LibraryProvision.name)
        ).all()
    )


def current_groups(session: Session, school_id: int, today: date) -> list[tuple[int, str, str]]:
    """Every current group of the school: id, name and schedule (for "Add to a group")."""
    groups = session.scalars(
        select(InterventionGroup)
        .where(
            InterventionGroup.school_id == school_id,
            or_(InterventionGroup.ends_on.is_(None), InterventionGroup.ends_on > today),
        )
        .order_by(InterventionGroup.name)
    ).all()
    return [
        (g.id, g.name, schedule_text(g.weekday_numbers, g.starts_at, g.minutes)) for g in groups
    ]


# --- creating and changing ---------------------------------------------------------------------


def _checked(session: Session, viewer: Viewer, form: GroupInput) -> dict:
    """The form's values, checked; a problem is a UserError beside its field."""
    library = (
        session.scalar(
            select(LibraryProvision).where(
                LibraryProvision.id == form.library_id,
                LibraryProvision.school_id == viewer.school_id,
                LibraryProvision.is_active.is_(True),
            )
        )
        if form.library_id is not None
        else None
    )
    if library is None:
        raise UserError("Choose the intervention from your school's library.", block_id="library")
    staff = (
        session.scalar(
            select(Staff).where(
                Staff.id == form.staff_id,
                Staff.school_id == viewer.school_id,
                Staff.is_active.is_(True),
            )
        )
        if form.staff_id is not None
        else None
    )
    if staff is None:
        raise UserError(
            "Choose who runs it: someone on your school's staff list.", block_id="staff"
        )
    days = sorted({d for d in form.weekdays if d in SCHOOL_DAYS})
    if not days:
        raise UserError("Tick at least one day the group meets.", block_id="days")
    if form.starts_at is None:
        raise UserError("Choose the time it starts.", block_id="time")
    try:
        minutes = int((form.minutes or "").strip())
    except ValueError:
        minutes = -1
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise UserError(
            f"Say how long each session is, in minutes: from {MIN_MINUTES} to {MAX_MINUTES}.",
            block_id="minutes",
        )
    if form.starts_on is None:
        raise UserError("Choose the date of its first session.", block_id="starts")
    if form.ends_on is not None and form.ends_on <= form.starts_on:
        raise UserError("The last day must be after the first.", block_id="ends")
    location = (form.location or "").strip() or None
    if location and len(location) > LOCATION_LENGTH:
        raise UserError(f"Keep the place to {LOCATION_LENGTH} characters.", block_id="location")
    name = " ".join((form.name or "").split())
    if len(name) > NAME_LENGTH:
        raise UserError(f"Keep the name to {NAME_LENGTH} characters.", block_id="name")
    return dict(
        library=library,
        staff=staff,
        weekdays=",".join(str(d) for d in days),
        starts_at=form.starts_at,
        minutes=minutes,
        location=location,
        starts_on=form.starts_on,
        ends_on=form.ends_on,
        name=name,
    )


def _pupils(session: Session, viewer: Viewer, pupil_ids: Iterable[int]) -> list[Pupil]:
    """The pupils named that this viewer may see and who are on roll; others are refused."""
    wanted = {int(p) for p in pupil_ids}
    if len(wanted) > MAX_PUPILS:
        raise UserError(f"Add up to {MAX_PUPILS} pupils at a time.", block_id="pupils")
    if not wanted:
        return []
    found = list(
        session.scalars(
            select(Pupil).where(
                Pupil.id.in_(wanted), Pupil.is_active.is_(True), visible_pupils(viewer)
            )
        )
    )
    if len(found) != len(wanted):
        raise UserError(
            "I couldn't find one of those pupils among the pupils you can see. "
            "Choose them again from the list.",
            block_id="pupils",
        )
    return found


def create(
    session: Session, viewer: Viewer, form: GroupInput, *, via: str, now: datetime, today: date
) -> InterventionGroup:
    """A new group (the SENDCo only) with its first pupils, each linked to their plan."""
    if not viewer.is_sendco:
        raise UserError(ONLY_SENDCO)
    values = _checked(session, viewer, form)
    if values["starts_on"] < today:
        # Sessions are planned from a group's first day: one set up today starts today or later.
        raise UserError(
            "A new group's first session can't be in the past: choose today or a later day.",
            block_id="starts",
        )
    pupils = _pupils(session, viewer, form.pupil_ids)
    library, staff = values.pop("library"), values.pop("staff")
    name = values.pop("name")
    if not name:
        years = sorted({p.year_group for p in pupils})
        name = f"{library.name}, Year {years[0]}" if len(years) == 1 else library.name
    name = name[:NAME_LENGTH]
    twin = session.scalar(
        select(InterventionGroup.id).where(
            InterventionGroup.school_id == viewer.school_id,
            InterventionGroup.name == name,
            InterventionGroup.staff_id == staff.id,
            InterventionGroup.weekdays == values["weekdays"],
            InterventionGroup.starts_at == values["starts_at"],
            or_(InterventionGroup.ends_on.is_(None), InterventionGroup.ends_on > today),
        )
    )
    if twin is not None:
        # The same group twice (a form sent again): nothing new is made.
        raise UserError(
            "That group is already set up, with the same name, staff, days and time: "
            "`/ssp groups` shows it.",
            block_id="name",
        )
    group = InterventionGroup(
        school_id=viewer.school_id,
        library_id=library.id,
        staff_id=staff.id,
        name=name,
        created_by_id=viewer.staff_id,
        **values,
    )
    group.provision, group.staff = library, staff
    session.add(group)
    session.flush()
    audit.record_by(session, viewer, action="create", via=via, now=now, detail="intervention group")
    _join(session, viewer, group, pupils, on=max(today, group.starts_on), via=via, now=now)
    _tell_runner(session, group, staff, now=now, today=today)
    return group


def update(
    session: Session,
    viewer: Viewer,
    group_id: int,
    form: GroupInput,
    *,
    via: str,
    now: datetime,
    today: date,
) -> InterventionGroup:
    """The SENDCo changes a group's intervention, name, staff, days, time, place or dates."""
    if not viewer.is_sendco:
        raise UserError(ONLY_SENDCO)
    group = load(session, viewer, group_id)
    if group is None:
        raise UserError(NOT_FOUND)
    values = _checked(session, viewer, form)
    library, staff = values.pop("library"), values.pop("staff")
    before = group.staff
    group.name = values.pop("name") or group.name
    group.library_id, group.staff_id = library.id, staff.id
    for key, value in values.items():
        setattr(group, key, value)
    audit.record_by(session, viewer, action="change", via=via, now=now, detail="intervention group")
    session.flush()
    if staff.id != before.id:
        if not before.is_active:
            # The runner who left can't log them: their sessions not yet logged pass to the
            # new runner, to be asked about in their next DM (or found in `/ssp sessions`).
            session.execute(
                sql_update(InterventionSession)
                .where(
                    InterventionSession.school_id == viewer.school_id,
                    InterventionSession.group_id == group.id,
                    InterventionSession.staff_id == before.id,
                    InterventionSession.status == SessionStatus.AWAITING,
                )
                .values(staff_id=staff.id, prompt_id=None)
                .execution_options(synchronize_session=False)
            )
        _tell_runner(session, group, staff, now=now, today=today)
    return group


def end(
    session: Session, viewer: Viewer, group_id: int, *, via: str, now: datetime, today: date
) -> InterventionGroup:
    """The SENDCo ends a group: today is its last day; its members' sessions stop after it."""
    if not viewer.is_sendco:
        raise UserError(ONLY_SENDCO)
    group = load(session, viewer, group_id)
    if group is None:
        raise UserError(NOT_FOUND)
    if current(group, today):
        group.ends_on = max(today, group.starts_on)
        # Its pupils leave after its last day, and the plan rows it delivered end with it: a
        # plan must not go on saying the pupil has an intervention that no longer runs.
        staying = [m for m in group.members if _in_group(m, group.ends_on)]
        plans = _open_plans(session, viewer.school_id, [m.pupil_id for m in staying])
        for member in staying:
            member.left_on = group.ends_on + timedelta(days=1)
            plan = plans.get(member.pupil_id)
            row = next(
                (p for p in (plan.provisions if plan else []) if p.id == member.provision_id),
                None,
            )
            if row is not None and row.ended_on is None:
                row.ended_on, row.ended_reason = group.ends_on, ENDED_REASON
            _record(session, viewer, plan, member.pupil, group, joined=False, via=via, now=now)
        audit.record_by(
            session, viewer, action="change", via=via, now=now, detail="ended intervention group"
        )
        session.flush()
    return group


def close_ended(session: Session, school_id: int, today: date) -> int:
    """Groups whose last day has passed (an end date set when they were made): their pupils
    leave after it and the plan rows they delivered end, as when the SENDCo ends a group.
    Run by each sweep; two reads however many groups. Returns the places closed."""
    open_places = session.execute(
        select(GroupMember, InterventionGroup.ends_on)
        .join(InterventionGroup, InterventionGroup.id == GroupMember.group_id)
        .where(
            InterventionGroup.school_id == school_id,
            InterventionGroup.ends_on < today,
            GroupMember.left_on.is_(None),
        )
    ).all()
    rows = {
        row.id: row
        for row in session.scalars(
            select(PlanProvision).where(
                PlanProvision.id.in_([m.provision_id for m, _ in open_places if m.provision_id]),
                PlanProvision.ended_on.is_(None),
            )
        )
    }
    for member, last_day in open_places:
        member.left_on = last_day + timedelta(days=1)
        row = rows.get(member.provision_id)
        if row is not None:
            row.ended_on, row.ended_reason = last_day, ENDED_REASON
    session.flush()
    return len(open_places)


def pupils_left(session: Session, pupil_ids: Iterable[int], day: date) -> int:
    """Pupils the roster has marked as left leave their groups that day: no session is planned
    for them after it, and whoever runs the group no longer sees them. One statement."""
    ids = list(pupil_ids)
    if not ids:
        return 0
    result = session.execute(
        sql_update(GroupMember)
        .where(GroupMember.pupil_id.in_(ids), GroupMember.left_on.is_(None))
        .values(left_on=day)
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount


def runners_left(session: Session, school_id: int, leavers: Iterable[Staff], day: date) -> int:
    """Staff the roster has marked as left who run current groups: those groups read "no
    runner" in `/ssp groups` (GroupLine.runner_left), each active SENDCo is told in one message
    (GROUP_RUNNER_LEFT), and the leavers' session DMs not yet sent are cancelled (the sender
    would not send them to someone who has left either). Returns the groups left without a
    runner. Three statements, however many leavers."""
    ids = sorted(member.id for member in leavers if member.id is not None)
    if not ids:
        return 0
    session.execute(
        sql_update(Prompt)
        .where(
            Prompt.school_id == school_id,
            Prompt.recipient_id.in_(ids),
            Prompt.kind == PromptKind.SESSION_LOG,
            Prompt.status == PromptStatus.PENDING,
        )
        .values(status=PromptStatus.CANCELLED, next_attempt_at=None)
        .execution_options(synchronize_session=False)
    )
    runners = sorted(
        set(
            session.scalars(
                select(InterventionGroup.staff_id).where(
                    InterventionGroup.school_id == school_id,
                    InterventionGroup.staff_id.in_(ids),
                    _running_on(day),
                )
            )
        )
    )
    if not runners:
        return 0
    at = datetime.combine(day, time.min, tzinfo=UTC)
    for sendco_id in review_schedule.sendcos(session, school_id):
        outbox.enqueue(
            session,
            school_id=school_id,
            recipient_id=sendco_id,
            kind=PromptKind.GROUP_RUNNER_LEFT,
            # One message per import that leaves groups without a runner.
            dedupe_key=f"group_runner_left:staff={sendco_id}:on={day.isoformat()}:"
            f"first={runners[0]}:n={len(runners)}",
            due_at=at,
            now=at,
        )
    return session.scalar(
        select(func.count()).where(
            InterventionGroup.school_id == school_id,
            InterventionGroup.staff_id.in_(runners),
            _running_on(day),
        )
    )


@dataclass(frozen=True)
class RunnerNews:
    """What a new runner is told: the group's name, days and time, place and dates."""

    group_id: int
    name: str
    schedule: str
    location: str | None
    starts_on: date
    ends_on: date | None


def runner_news(session: Session, prompt: Prompt, today: date) -> RunnerNews | None:
    """A GROUP_RUNNER message's group, as it stands; None once the recipient no longer runs it
    (changed again before the message went) or it has ended: nothing to say."""
    group = session.scalar(
        select(InterventionGroup).where(
            InterventionGroup.id == prompt.intervention_group_id,
            InterventionGroup.school_id == prompt.school_id,
        )
    )
    if group is None or group.staff_id != prompt.recipient_id or not current(group, today):
        return None
    return RunnerNews(
        group_id=group.id,
        name=group.name,
        schedule=schedule_text(group.weekday_numbers, group.starts_at, group.minutes),
        location=group.location,
        starts_on=group.starts_on,
        ends_on=group.ends_on,
    )


def without_runner(
    session: Session, school_id: int, today: date
) -> list[tuple[int, str, str, str]]:
    """The school's current groups whose runner has left: (group id, name, schedule, the
    runner's name). One statement."""
    runner = aliased(Staff)
    rows = session.execute(
        select(InterventionGroup, runner.first_name + " " + runner.last_name)
        .join(runner, runner.id == InterventionGroup.staff_id)
        .where(
            InterventionGroup.school_id == school_id,
            runner.is_active.is_(False),
            _running_on(today),
        )
        .order_by(InterventionGroup.name, InterventionGroup.id)
    ).all()
    return [
        (g.id, g.name, schedule_text(g.weekday_numbers, g.starts_at, g.minutes), name)
        for g, name in rows
    ]


def _tell_runner(
    session: Session, group: InterventionGroup, staff: Staff, *, now: datetime, today: date
) -> None:
    """One message to the member of staff now running the group (its renderer names the group
    and when, never its pupils). Once per group, runner and day: a form sent twice tells once."""
    outbox.enqueue(
        session,
        school_id=group.school_id,
        recipient_id=staff.id,
        kind=PromptKind.GROUP_RUNNER,
        dedupe_key=f"group_runner:group={group.id}:staff={staff.id}:on={today.isoformat()}",
        due_at=now,
        now=now,
        intervention_group_id=group.id,
    )


# --- membership --------------------------------------------------------------------------------


def add_pupils(
    session: Session,
    viewer: Viewer,
    group_id: int,
    pupil_ids: Iterable[int],
    *,
    via: str,
    now: datetime,
    today: date,
) -> tuple[InterventionGroup, list[Pupil]]:
    """Adds pupils (the SENDCo, or the group's member of staff: pupils they may see)."""
    group = load(session, viewer, group_id)
    if group is None:
        raise UserError(NOT_FOUND)
    if not may_change_members(viewer, group):
        raise UserError(NOT_YOURS)
    if not current(group, today):
        raise UserError(ENDED)
    pupils = _pupils(session, viewer, pupil_ids)
    if not pupils:
        raise UserError("Choose at least one pupil.", block_id="pupils")
    added = _join(session, viewer, group, pupils, on=max(today, group.starts_on), via=via, now=now)
    return group, added


def remove_pupil(
    session: Session,
    viewer: Viewer,
    group_id: int,
    member_id: int,
    *,
    via: str,
    now: datetime,
    today: date,
) -> GroupMember | None:
    """The pupil leaves the group today (left_on: the first day without them). None: nothing to
    remove (already gone)."""
    group = load(session, viewer, group_id)
    if group is None:
        raise UserError(NOT_FOUND)
    if not may_change_members(viewer, group):
        raise UserError(NOT_YOURS)
    if not current(group, today):  # a view left open since: its places ended with the group
        raise UserError(ENDED)
    member = next((m for m in group.members if m.id == member_id and _in_group(m, today)), None)
    if member is None:
        return None
    member.left_on = max(today, member.joined_on)
    plan = _open_plans(session, viewer.school_id, [member.pupil_id]).get(member.pupil_id)
    if plan is not None and member.provision_id is not None:
        row = next((p for p in plan.provisions if p.id == member.provision_id), None)
        still = any(
            m.provision_id == member.provision_id and m is not member and _in_group(m, today)
            for m in group.members
        )
        if row is not None and row.ended_on is None and not still:
            row.ended_on, row.ended_reason = today, LEFT_REASON
    _record(session, viewer, plan, member.pupil, group, joined=False, via=via, now=now)
    session.flush()
    return member


def join_from_plan(
    session: Session,
    viewer: Viewer,
    pupil_id: int,
    group_id: int,
    *,
    via: str,
    now: datetime,
    today: date,
) -> tuple[InterventionGroup, Pupil]:
    """ "Add to a group" on a plan: its case holder or the SENDCo puts the pupil in any current
    group of the school."""
    plan = _open_plans(session, viewer.school_id, [pupil_id]).get(pupil_id)
    if plan is None or not (viewer.is_sendco or plan.case_holder_id == viewer.staff_id):
        raise UserError("I couldn't find that plan among the plans you hold.")
    group = session.scalar(
        select(InterventionGroup)
        .where(InterventionGroup.id == group_id, InterventionGroup.school_id == viewer.school_id)
        .options(
            selectinload(InterventionGroup.members),
            selectinload(InterventionGroup.provision),
            selectinload(InterventionGroup.staff),
        )
    )
    if group is None:
        raise UserError("Choose one of the groups in the list.", block_id="group")
    if not current(group, today):
        raise UserError(ENDED, block_id="group")
    if any(m.pupil_id == pupil_id and _in_group(m, today) for m in group.members):
        raise UserError(f"{plan.pupil.known_as} is already in this group.", block_id="group")
    _join(session, viewer, group, [plan.pupil], on=max(today, group.starts_on), via=via, now=now)
    return group, plan.pupil


def _open_plans(session: Session, school_id: int, pupil_ids: Iterable[int]) -> dict[int, Plan]:
    ids = list(pupil_ids)
    if not ids:
        return {}
    plans = session.scalars(
        select(Plan)
        .where(
            Plan.school_id == school_id,
            Plan.pupil_id.in_(ids),
            Plan.status != PlanStatus.CLOSED,
        )
        .options(selectinload(Plan.provisions), selectinload(Plan.pupil))
    ).all()
    return {plan.pupil_id: plan for plan in plans}


def _join(
    session: Session,
    viewer: Viewer,
    group: InterventionGroup,
    pupils: Sequence[Pupil],
    *,
    on: date,
    via: str,
    now: datetime,
) -> list[Pupil]:
    """Each pupil not already in the group joins it `on` that day (`place`), audited against
    their plan, with a line on its timeline."""
    placed = place(session, group, pupils, on=on)
    for pupil, plan in placed:
        _record(session, viewer, plan, pupil, group, joined=True, via=via, now=now)
    session.flush()
    return [pupil for pupil, _ in placed]


def place(
    session: Session, group: InterventionGroup, pupils: Sequence[Pupil], *, on: date
) -> list[tuple[Pupil, Plan | None]]:
    """Each pupil not already in the group joins it `on` that day, linked to their open plan's
    provision row of this intervention (made when there is none). Two queries for them all.
    Not audited: for the callers above and the synthetic school."""
    inside = {m.pupil_id for m in group.members if _in_group(m, on)}
    joining = [p for p in pupils if p.id not in inside]
    plans = _open_plans(session, group.school_id, [p.id for p in joining])
    rows = {
        pupil.id: _provision_row(plans[pupil.id], group, on)
        for pupil in joining
        if pupil.id in plans
    }
    session.flush()  # the new provision rows get their ids
    placed = []
    for pupil in joining:
        row = rows.get(pupil.id)
        member = GroupMember(pupil_id=pupil.id, provision_id=row.id if row else None, joined_on=on)
        member.pupil = pupil
        group.members.append(member)
        placed.append((pupil, plans.get(pupil.id)))
    session.flush()
    return placed


def _provision_row(plan: Plan, group: InterventionGroup, on: date) -> PlanProvision:
    """The plan's current provision row of the group's intervention, or a new one."""
    for row in plan.provisions:
        if row.library_id == group.library_id and row.ended_on is None:
            return row
    row = PlanProvision(
        what=group.provision.name,
        library_id=group.library_id,
        who=group.staff.display_name,
        how_often=how_often(group.weekday_numbers, group.minutes),
        start_date=on,
        end_date=group.ends_on,
        position=max((p.position for p in plan.provisions), default=-1) + 1,
    )
    plan.provisions.append(row)
    return row


def _record(session, viewer, plan, pupil, group, *, joined: bool, via: str, now) -> None:
    what = "joined" if joined else "left"
    audit.record_by(
        session,
        viewer,
        action="change",
        via=via,
        now=now,
        plan=plan,
        pupil=None if plan is not None else pupil,
        detail=f"{what} an intervention group",
    )
    if plan is not None:
        session.add(
            TimelineEntry(
                plan_id=plan.id,
                occurred_at=now,
                kind=TimelineKind.PLAN_CHANGE,
                summary=f"{what} the intervention group {group.name}",
                author_id=viewer.staff_id,
            )
        )


def plan_pupil_name(session: Session, viewer: Viewer, pupil_id: int) -> str | None:
    """The pupil's name when this viewer may add them to a group from their open plan (its
    case holder or the SENDCo), else None."""
    plan = _open_plans(session, viewer.school_id, [pupil_id]).get(pupil_id)
    if plan is None or not (viewer.is_sendco or plan.case_holder_id == viewer.staff_id):
        return None
    return plan.pupil.known_as
