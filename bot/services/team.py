"""The SSP team, the priority list, and delegating plans to case holders (guidance §4.3).

In a secondary school the SENDCo cannot write every plan: an SSP team of case holders does,
under the SENDCo's coordination. The SENDCo keeps a priority list of pupils who need a plan
(or whose plan has no case holder), and delegates each by primary area of need, year group or
house, or to a key adult, keeping caseloads balanced.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from bot.access import Viewer
from bot.errors import UserError
from bot.services import audit, outbox
from bot.services.assignments import local_time, notify_assigned, sending_time
from bot.services.plans import new_draft_plan
from bot.services.pupils import UPN_SHAPE
from bot.services.review_schedule import sendcos
from models import (
    AssignmentStatus,
    BroadArea,
    CaseHolderAssignment,
    CaseHolderProfile,
    NeedCode,
    Plan,
    PlanRequest,
    PlanStatus,
    PriorityEntry,
    Prompt,
    PromptKind,
    Pupil,
    SenStage,
    Staff,
    StaffRole,
    StaffRoleGrant,
    TeachingGroup,
    TeachingGroupPupil,
    TeachingGroupTeacher,
    TimelineEntry,
    TimelineKind,
)

AREA_WORDS = {
    BroadArea.COGNITION_AND_LEARNING: ("cl", "c&l", "cognition", "learning", "cognition-learning"),
    BroadArea.COMMUNICATION_AND_INTERACTION: (
        "ci",
        "c&i",
        "communication",
        "interaction",
        "slcn",
        "asd",
        "autism",
    ),
    BroadArea.SEMH: ("semh", "semh.", "social", "emotional", "wellbeing"),
    BroadArea.SENSORY_AND_PHYSICAL: ("sp", "s&p", "sensory", "physical"),
}
YEAR = re.compile(r"^(?:y|yr|year)?(\d{1,2})$")

# How much each reason to choose someone counts, and how much each plan they already hold
# counts against them: areas of need matter most, then knowing the pupil, then year and house.
AREA_POINTS, KEY_ADULT_POINTS, YEAR_POINTS, HOUSE_POINTS = 4, 3, 2, 2
LOAD_PENALTY_PER_PLAN = 0.25

# A case holder's `/ssp plan new` naming no single pupil. Whoever they name, the answer tells
# them nothing about whether the pupil has a plan (or an EHC plan).
NOT_ONE_PUPIL = (
    "I couldn't find exactly one pupil with that full name or UPN. Use their full name as the "
    "school has it, or their UPN."
)
NO_SENDCO = "There is no SENDCo on the staff list to ask. Please talk to your SENDCo."
NO_PUPIL_ON_ROLL = (
    "I couldn't find a pupil on roll with that full name or UPN. Use their full name as the "
    "school has it, or their UPN."
)
REASON_LENGTH = 300  # PriorityEntry.reason


class NotTheSendco(UserError):
    def __init__(self) -> None:
        super().__init__("Only the SENDCo manages the SSP team and delegates plans.")


class HandOverFirst(UserError):
    def __init__(self, name: str, pupils: list[str]) -> None:
        listed = ", ".join(pupils[:10]) + (
            f" and {len(pupils) - 10} more" if len(pupils) > 10 else ""
        )
        super().__init__(
            f"{name} still holds {len(pupils)} plan{'s' if len(pupils) != 1 else ''} "
            f"({listed}). Reassign them first with `/ssp assign <pupil> @someone`, then remove "
            f"{name} from the team."
        )


@dataclass(frozen=True)
class TeamMember:
    staff_id: int
    name: str
    slack_user_id: str | None
    plans: int
    areas: tuple[BroadArea, ...] = ()
    year_groups: tuple[int, ...] = ()
    house: str | None = None

    def describe(self) -> str:
        parts = [area.label for area in self.areas]
        if self.year_groups:
            parts.append(
                "Years " + ", ".join(str(y) for y in self.year_groups)
                if len(self.year_groups) > 1
                else f"Year {self.year_groups[0]}"
            )
        if self.house:
            parts.append(f"{self.house} house")
        return "; ".join(parts) or "any pupil"


@dataclass(frozen=True)
class Preferences:
    areas: tuple[BroadArea, ...] = ()
    year_groups: tuple[int, ...] = ()
    house: str | None = None


@dataclass(frozen=True)
class PriorityItem:
    pupil_id: int
    pupil_name: str
    year_group: int
    form: str | None
    house: str | None
    sen_stage: SenStage
    primary_area: BroadArea | None
    plan_id: int | None
    review_date: date | None
    reason: str
    rank: int  # 1 EHCP without a plan, 2 SEN Support without a plan, 3 overdue, 4 no holder
    # The plan's last assignment was declined: by whom, and why (for the SENDCo only).
    declined_by: str | None = None
    declined_reason: str | None = None
    # Put on the list by hand (rank 0): the entry, its place in the SENDCo's order, and why
    # (the why for the SENDCo only, as a decline's reason).
    entry_id: int | None = None
    position: int = 0
    added_because: str | None = None


@dataclass(frozen=True)
class MonitoredPupil:
    """A pupil with a recorded need but no SEN stage (N): on the school's monitoring list."""

    pupil_id: int
    pupil_name: str
    year_group: int
    form: str | None
    need: NeedCode


@dataclass(frozen=True)
class Suggestion:
    staff_id: int
    name: str
    score: float
    reasons: list[str] = field(default_factory=list)


def team(session: Session, school_id: int) -> list[TeamMember]:
    """Active case holders with their caseload size and what they are best placed to hold."""
    members = session.execute(
        select(Staff, CaseHolderProfile)
        .join(StaffRoleGrant, StaffRoleGrant.staff_id == Staff.id)
        .outerjoin(CaseHolderProfile, CaseHolderProfile.staff_id == Staff.id)
        .where(
            Staff.school_id == school_id,
            Staff.is_active.is_(True),
            StaffRoleGrant.role == StaffRole.CASE_HOLDER,
        )
        .order_by(Staff.last_name, Staff.first_name)
    ).all()
    loads = _caseloads(session, school_id)
    return [_member(staff, profile, loads.get(staff.id, 0)) for staff, profile in members]


def parse_preferences(session: Session, school_id: int, words: list[str]) -> Preferences:
    """Reads "semh y7 y8 house:Brunel" (or "SEMH, Year 7, Brunel") into preferences.

    Raises UserError naming any word it does not understand and what it accepts.
    """
    houses = {
        h.casefold(): h
        for h in session.scalars(
            select(Pupil.house)
            .where(Pupil.school_id == school_id, Pupil.house.is_not(None))
            .distinct()
        )
    }
    areas: list[BroadArea] = []
    years: list[int] = []
    house = None
    tokens = [t for t in re.split(r"[\s,]+", " ".join(words)) if t]
    skip = False
    for n, token in enumerate(tokens):
        if skip:
            skip = False
            continue
        word = token.casefold().strip(".;")
        if word in ("year", "yr") and n + 1 < len(tokens) and tokens[n + 1].isdigit():
            word, skip = tokens[n + 1], True
        area = next((a for a, names in AREA_WORDS.items() if word in names), None)
        year = YEAR.match(word)
        if area:
            areas.append(area) if area not in areas else None
        elif year and 0 <= int(year.group(1)) <= 14:
            years.append(int(year.group(1))) if int(year.group(1)) not in years else None
        elif word.startswith("house:") or word in houses:
            name = word.split(":", 1)[1] if word.startswith("house:") else word
            if name not in houses:
                raise UserError(
                    f"There is no house called “{name}”. Houses: "
                    f"{', '.join(sorted(houses.values())) or 'none on the roster'}."
                )
            house = houses[name]
        else:
            raise UserError(
                f"I didn't understand “{token}”. Say the areas of need (C&L, C&I, SEMH, "
                "sensory), year groups (Y7) or a house, e.g. `/ssp team add @name SEMH Y7 Y8`."
            )
    return Preferences(tuple(areas), tuple(sorted(years)), house)


def add_to_team(
    session: Session, viewer: Viewer, staff: Staff, preferences: Preferences, now: datetime
) -> tuple[TeamMember, bool]:
    """Makes a member of staff a case holder (or updates what they hold). Returns (member, new)."""
    if not viewer.is_sendco:
        raise NotTheSendco()
    if not staff.is_active:
        raise UserError(f"{staff.display_name} is marked as having left.")
    new = StaffRole.CASE_HOLDER not in staff.roles
    staff.set_roles(set(staff.roles) | {StaffRole.CASE_HOLDER})
    profile = session.get(CaseHolderProfile, staff.id)
    if profile is None:
        profile = CaseHolderProfile(staff_id=staff.id, added_by_id=viewer.staff_id, added_at=now)
        session.add(profile)
    profile.areas = [a.value for a in preferences.areas]
    profile.year_groups = list(preferences.year_groups)
    profile.house = preferences.house
    session.flush()
    audit.record_by(
        session,
        viewer,
        action="team_add",
        via="/ssp team add",
        now=now,
        detail=f"case holder staff:{staff.id}",
    )
    return _member(staff, profile, _caseloads(session, viewer.school_id).get(staff.id, 0)), new


def remove_from_team(session: Session, viewer: Viewer, staff: Staff, now: datetime) -> None:
    """Takes someone off the SSP team; refused while they still hold plans (which are named)."""
    if not viewer.is_sendco:
        raise NotTheSendco()
    held = session.scalars(
        select(Pupil)
        .join(Plan, Plan.pupil_id == Pupil.id)
        .where(Plan.case_holder_id == staff.id, Plan.status != PlanStatus.CLOSED)
        .order_by(Pupil.last_name)
    ).all()
    if held:
        raise HandOverFirst(staff.display_name, [p.known_as for p in held])
    staff.set_roles(set(staff.roles) - {StaffRole.CASE_HOLDER})
    session.flush()
    audit.record_by(
        session,
        viewer,
        action="team_remove",
        via="/ssp team remove",
        now=now,
        detail=f"case holder staff:{staff.id}",
    )


def priority_list(
    session: Session, school_id: int, today: date, *, with_declines: bool = False
) -> list[PriorityItem]:
    """Pupils who need a plan and have none, then plans with no case holder, in priority order:
    the pupils the SENDCo added by hand (rank 0, in the SENDCo's order), EHCP without a support
    plan, SEN Support without a plan, overdue reviews, the rest. A pupil added by hand is listed
    once, as added; once their plan has a case holder they are off the list.

    `with_declines` (the SENDCo's list only: a reason is written to the SENDCo) adds who
    declined a plan whose last assignment was declined, and their reason, and why the SENDCo
    added a pupil by hand."""
    open_plan = (
        select(Plan.id).where(Plan.pupil_id == Pupil.id, Plan.status != PlanStatus.CLOSED).exists()
    )
    without_plan = session.scalars(
        select(Pupil).where(
            Pupil.school_id == school_id,
            Pupil.is_active.is_(True),
            Pupil.sen_stage.in_([SenStage.EHC_PLAN, SenStage.SEN_SUPPORT]),
            ~open_plan,
        )
    ).all()
    unheld = session.execute(
        select(Pupil, Plan)
        .join(Plan, Plan.pupil_id == Pupil.id)
        .where(
            Plan.school_id == school_id,
            Plan.status != PlanStatus.CLOSED,
            Plan.case_holder_id.is_(None),
            Pupil.is_active.is_(True),
        )
    ).all()
    entries = session.execute(
        select(PriorityEntry, Pupil, Plan)
        .join(Pupil, Pupil.id == PriorityEntry.pupil_id)
        .outerjoin(Plan, (Plan.pupil_id == Pupil.id) & (Plan.status != PlanStatus.CLOSED))
        .where(PriorityEntry.school_id == school_id, Pupil.is_active.is_(True))
    ).all()
    # An entry whose pupil's plan has a case holder (given one some other way) has done its job.
    entries = [row for row in entries if row[2] is None or row[2].case_holder_id is None]
    added = {pupil.id for _, pupil, _ in entries}
    without_plan = [pupil for pupil in without_plan if pupil.id not in added]
    unheld = [(pupil, plan) for pupil, plan in unheld if pupil.id not in added]
    items = [
        replace(
            _item(pupil, plan, 0, _why_on_list(pupil, plan, today)),
            entry_id=entry.id,
            position=entry.position,
            added_because=entry.reason if with_declines else None,
        )
        for entry, pupil, plan in entries
    ]
    items += [
        _item(
            pupil,
            None,
            1 if pupil.sen_stage == SenStage.EHC_PLAN else 2,
            "EHC plan but no support plan"
            if pupil.sen_stage == SenStage.EHC_PLAN
            else "SEN Support but no plan",
        )
        for pupil in without_plan
    ]
    plan_ids = [plan.id for _, plan in unheld] + [plan.id for _, _, plan in entries if plan]
    declined = _declined(session, plan_ids) if with_declines else {}
    items = [
        replace(
            item, declined_by=declined[item.plan_id][0], declined_reason=declined[item.plan_id][1]
        )
        if item.plan_id in declined
        else item
        for item in items
    ]
    for pupil, plan in unheld:
        overdue = plan.review_date is not None and plan.review_date < today
        item = _item(
            pupil,
            plan,
            3 if overdue else 4,
            "review overdue and no case holder" if overdue else "no case holder",
        )
        if plan.id in declined:
            by, why = declined[plan.id]
            item = replace(item, declined_by=by, declined_reason=why)
        items.append(item)
    return sorted(
        items,
        key=lambda i: (
            i.rank,
            i.position,
            i.entry_id or 0,
            i.review_date or date.max,
            i.pupil_name,
        ),
    )


def monitoring_list(session: Session, school_id: int) -> list[MonitoredPupil]:
    """Pupils on roll with a recorded need but SEN stage N and no plan (the school's monitoring
    list), by year group and name, leaving out those the SENDCo put on the priority list (they
    are listed there). One query."""
    open_plan = (
        select(Plan.id).where(Plan.pupil_id == Pupil.id, Plan.status != PlanStatus.CLOSED).exists()
    )
    on_list = (
        select(PriorityEntry.id)
        .where(PriorityEntry.pupil_id == Pupil.id, PriorityEntry.school_id == school_id)
        .exists()
    )
    pupils = session.scalars(
        select(Pupil)
        .where(
            Pupil.school_id == school_id,
            Pupil.is_active.is_(True),
            Pupil.sen_stage == SenStage.NONE,
            Pupil.primary_need.is_not(None),
            ~open_plan,
            ~on_list,
        )
        .order_by(Pupil.year_group, Pupil.last_name, Pupil.first_name, Pupil.id)
    ).all()
    return [MonitoredPupil(p.id, p.known_as, p.year_group, p.form, p.primary_need) for p in pupils]


def add_to_priority_list(
    session: Session,
    viewer: Viewer,
    query: str,
    *,
    reason: str,
    position: int | None,
    now: datetime,
) -> PriorityEntry:
    """The SENDCo puts the pupil named by `query` (UPN, or full name exactly) on the priority
    list, with why, at `position` (1 is the top; None or past the end: the bottom).

    Raises NotTheSendco; UserError for no pupil or several, a pupil whose plan already has a
    case holder (or who is being added twice), or no reason.
    """
    if not viewer.is_sendco:
        raise NotTheSendco()
    reason = " ".join((reason or "").split())
    if not reason:
        raise UserError("Say why this pupil needs to be on the priority list.")
    if len(reason) > REASON_LENGTH:
        raise UserError(f"Please keep the reason under {REASON_LENGTH} characters.")
    pupil, plan, entries = addable(session, viewer, query)
    at = len(entries) if position is None else min(max(position, 1) - 1, len(entries))
    for n, entry in enumerate(entries):  # renumbered 1.., leaving a gap at `at`
        entry.position = n + 1 + (n >= at)
    entry = PriorityEntry(
        school_id=viewer.school_id,
        pupil_id=pupil.id,
        reason=reason,
        position=at + 1,
        added_by_id=viewer.staff_id,
        added_at=now,
    )
    try:
        with _savepoint(session):
            session.add(entry)
            session.flush()
    except IntegrityError:
        # The same pupil added at the same moment (a form sent twice): the first stands.
        session.expire_all()
        raise UserError(f"{pupil.known_as} is already on the priority list.") from None
    audit.record_by(
        session,
        viewer,
        action="priority_add",
        via="/ssp priority",
        now=now,
        plan=plan,
        pupil=pupil,
        detail=f"added to the priority list at {at + 1}",
    )
    return entry


def addable(
    session: Session, viewer: Viewer, query: str
) -> tuple[Pupil, Plan | None, list[PriorityEntry]]:
    """The pupil `query` names (UPN, or full name exactly), if the SENDCo may add them to the
    priority list: on roll, one of them, not there already, and their plan (if any) without a
    case holder. Returns the pupil, their open plan, and the school's entries in order.
    Raises UserError saying which of these is not so."""
    if not viewer.is_sendco:
        raise NotTheSendco()
    query = " ".join((query or "").split())
    pupils = (
        session.scalars(
            select(Pupil).where(
                Pupil.school_id == viewer.school_id,
                Pupil.is_active.is_(True),
                named_exactly(query),
            )
        ).all()
        if query
        else []
    )
    if not pupils:
        raise UserError(NO_PUPIL_ON_ROLL)
    if len(pupils) > 1:
        raise UserError(
            f"{len(pupils)} pupils on roll are called that. Use the pupil's UPN to say which."
        )
    pupil = pupils[0]
    plan = session.scalar(
        select(Plan).where(Plan.pupil_id == pupil.id, Plan.status != PlanStatus.CLOSED)
    )
    if plan is not None and plan.case_holder_id is not None:
        holder = session.get(Staff, plan.case_holder_id)
        raise UserError(
            f"{pupil.known_as} already has a plan ({plan.status.label.lower()}, held by "
            f"{holder.display_name}): the priority list is for pupils who need a plan or a "
            "case holder. Open it with `/ssp plan`."
        )
    entries = list(
        session.scalars(
            select(PriorityEntry)
            .where(PriorityEntry.school_id == viewer.school_id)
            .order_by(PriorityEntry.position, PriorityEntry.id)
        )
    )
    if any(entry.pupil_id == pupil.id for entry in entries):
        raise UserError(_already_added(session, viewer, pupil, entries))
    return pupil, plan, entries


def hand_added_count(session: Session, school_id: int) -> int:
    return session.scalar(
        select(func.count(PriorityEntry.id)).where(PriorityEntry.school_id == school_id)
    )


def move_on_priority_list(
    session: Session, viewer: Viewer, entry_id: int, *, up: bool, now: datetime
) -> PriorityEntry:
    """Swaps a hand-added pupil with the one above (or below) them in the SENDCo's order.

    The entry is looked for in the viewer's school only: an id from elsewhere is not found.
    At the top (or bottom) already, nothing changes."""
    entry = _entry(session, viewer, entry_id)
    entries = list(
        session.scalars(
            select(PriorityEntry)
            .where(PriorityEntry.school_id == viewer.school_id)
            .order_by(PriorityEntry.position, PriorityEntry.id)
        )
    )
    for n, each in enumerate(entries):
        each.position = n + 1
    at = entries.index(entry)
    other = at - 1 if up else at + 1
    if 0 <= other < len(entries):
        entry.position, entries[other].position = entries[other].position, entry.position
    session.flush()
    audit.record_by(
        session,
        viewer,
        action="priority_move",
        via="/ssp priority",
        now=now,
        pupil=entry.pupil,
        detail=f"moved to {entry.position} on the priority list",
    )
    return entry


def remove_from_priority_list(
    session: Session, viewer: Viewer, entry_id: int, *, now: datetime
) -> Pupil:
    """Takes a hand-added pupil off the priority list (their place in any list the school's
    data puts them on is unaffected). Returns the pupil."""
    entry = _entry(session, viewer, entry_id)
    pupil = entry.pupil
    session.delete(entry)
    session.flush()
    audit.record_by(
        session,
        viewer,
        action="priority_remove",
        via="/ssp priority",
        now=now,
        pupil=pupil,
        detail="taken off the priority list",
    )
    return pupil


def _entry(session: Session, viewer: Viewer, entry_id: int) -> PriorityEntry:
    if not viewer.is_sendco:
        raise NotTheSendco()
    entry = session.scalar(
        select(PriorityEntry).where(
            PriorityEntry.id == entry_id, PriorityEntry.school_id == viewer.school_id
        )
    )
    if entry is None:
        raise UserError(
            "That pupil is no longer on the priority list (taken off, or given a plan). "
            "Look again at `/ssp priority`."
        )
    return entry


def _already_added(
    session: Session, viewer: Viewer, pupil: Pupil, entries: list[PriorityEntry]
) -> str:
    entry = next(e for e in entries if e.pupil_id == pupil.id)
    by = (
        "you"
        if entry.added_by_id == viewer.staff_id
        else (session.get(Staff, entry.added_by_id).display_name if entry.added_by_id else None)
    )
    place = [e.id for e in entries].index(entry.id) + 1
    return (
        f"{pupil.known_as} is already on the priority list (number {place}"
        + (f", added by {by}" if by else "")
        + f" because: {entry.reason}). Use Move up or Move down to change their place."
    )


def suggest(
    session: Session, school_id: int, pupil_id: int, extra_load: Counter | None = None
) -> list[Suggestion]:
    """Case holders ranked for this pupil: area of need, knowing the pupil, year group, house,
    and how many plans they already hold (so work is shared fairly). Best first."""
    pupil = session.get(Pupil, pupil_id)
    if pupil is None or pupil.school_id != school_id:
        return []
    members = team(session, school_id)
    teachers = _key_adults(session, [pupil_id])
    return rank(members, pupil, teachers.get(pupil_id, set()), extra_load or Counter())


def rank(
    members: list[TeamMember], pupil: Pupil, key_adults: set[int], extra_load: Counter
) -> list[Suggestion]:
    suggestions = []
    for member in members:
        score, reasons = 0.0, []
        if pupil.primary_area and pupil.primary_area in member.areas:
            score += AREA_POINTS
            reasons.append(pupil.primary_area.label)
        if member.staff_id in key_adults:
            score += KEY_ADULT_POINTS
            reasons.append("teaches the pupil")
        if pupil.year_group in member.year_groups:
            score += YEAR_POINTS
            reasons.append(f"Year {pupil.year_group}")
        if pupil.house and member.house == pupil.house:
            score += HOUSE_POINTS
            reasons.append(f"{pupil.house} house")
        load = member.plans + extra_load[member.staff_id]
        score -= LOAD_PENALTY_PER_PLAN * load
        reasons.append(f"{load} plan{'s' if load != 1 else ''}")
        suggestions.append(Suggestion(member.staff_id, member.name, score, reasons))
    return sorted(suggestions, key=lambda s: (-s.score, s.name))


def propose_all(
    session: Session, school_id: int, today: date
) -> list[tuple[PriorityItem, Suggestion]]:
    """A balanced assignment of the whole priority list, for the SENDCo to review. Writes nothing.

    Greedy in priority order: each pupil goes to their best-ranked case holder, counting the
    plans already proposed, so caseloads stay even.
    """
    items = priority_list(session, school_id, today)
    members = team(session, school_id)
    ids = [item.pupil_id for item in items]
    pupils = {p.id: p for p in session.scalars(select(Pupil).where(Pupil.id.in_(ids)))}
    teachers = _key_adults(session, ids)
    proposed: Counter = Counter()
    pairs = []
    for item in items:
        ranked = rank(members, pupils[item.pupil_id], teachers.get(item.pupil_id, set()), proposed)
        best = ranked[0] if ranked else None
        if best is not None:
            proposed[best.staff_id] += 1
            pairs.append((item, best))
    return pairs


def assign(
    session: Session,
    viewer: Viewer,
    *,
    pupil_id: int,
    staff_id: int,
    reason: str | None,
    now: datetime,
    today: date,
) -> CaseHolderAssignment:
    """Delegates the pupil's plan to a case holder (starting a draft plan if there is none).

    A reassignment ends the previous holder's assignment; history is kept. Raises UserError
    for anything that cannot be done, and NotTheSendco for anyone but the SENDCo.
    """
    if not viewer.is_sendco:
        raise NotTheSendco()
    pupil = session.scalar(
        select(Pupil).where(Pupil.id == pupil_id, Pupil.school_id == viewer.school_id)
    )
    holder = session.scalar(
        select(Staff).where(Staff.id == staff_id, Staff.school_id == viewer.school_id)
    )
    if pupil is None or holder is None:
        raise UserError("I couldn't find that pupil or member of staff.")
    if not holder.is_active or StaffRole.CASE_HOLDER not in holder.roles:
        raise UserError(
            f"{holder.display_name} isn't on the SSP team. Add them first with "
            "`/ssp team add @name`."
        )
    open_plan = select(Plan).where(Plan.pupil_id == pupil.id, Plan.status != PlanStatus.CLOSED)
    plan = session.scalar(open_plan)
    if plan is None:
        try:
            with _savepoint(session):
                plan = new_draft_plan(
                    session, pupil, by_staff_id=viewer.staff_id, now=now, today=today
                )
                session.flush()
        except IntegrityError:
            # Another assignment made the pupil's plan at the same moment (one open plan per
            # pupil): carry on with theirs, and the claim below decides between the two.
            plan = session.scalar(open_plan.execution_options(populate_existing=True))
            if plan is None:
                raise
    if plan.case_holder_id == holder.id:
        raise UserError(_holds_already(session, viewer, holder, pupil, plan))
    # Two assignments of one plan at once (a double click on Confirm, a form sent twice): only
    # the UPDATE that still finds the case holder this one read changes it; on PostgreSQL the
    # second waits for the first to commit, then finds nothing to change.
    claimed = session.execute(
        update(Plan)
        .where(Plan.id == plan.id, Plan.case_holder_id.is_not_distinct_from(plan.case_holder_id))
        .values(case_holder_id=holder.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        session.refresh(plan)
        if plan.case_holder_id == holder.id:
            raise UserError(_holds_already(session, viewer, holder, pupil, plan))
        if plan.case_holder_id is None:
            raise UserError(
                f"{pupil.known_as}'s plan lost its case holder just now (they couldn't take "
                "it); nothing was assigned. Assign it again."
            )
        now_holder = session.get(Staff, plan.case_holder_id)
        raise UserError(
            f"{pupil.known_as}'s plan was given to {now_holder.display_name} just now; nothing "
            "was assigned. Look again at `/ssp priority`."
        )
    for earlier in plan.assignments:
        if earlier.status in (AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED):
            earlier.status, earlier.ended_at = AssignmentStatus.ENDED, now
    assignment = CaseHolderAssignment(
        staff_id=holder.id,
        assigned_by_id=viewer.staff_id,
        reason=reason,
        status=AssignmentStatus.PENDING,
        created_at=now,
    )
    plan.assignments.append(assignment)
    previous = plan.case_holder_id
    plan.case_holder_id = holder.id
    plan.updated_at, plan.updated_by_id = now, viewer.staff_id
    plan.timeline.append(
        TimelineEntry(
            occurred_at=now,
            kind=TimelineKind.ASSIGNMENT,
            author_id=viewer.staff_id,
            summary=(
                f"reassigned to {holder.display_name}"
                if previous
                else f"assigned to {holder.display_name}"
            )
            + (f": {reason}" if reason else ""),
        )
    )
    session.flush()
    notify_assigned(session, assignment, previous, now)
    # A pupil the SENDCo put on the priority list by hand leaves it once their plan is held.
    left_list = session.execute(
        delete(PriorityEntry).where(
            PriorityEntry.school_id == viewer.school_id, PriorityEntry.pupil_id == pupil.id
        )
    ).rowcount
    if left_list:
        audit.record_by(
            session,
            viewer,
            action="priority_remove",
            via="/ssp assign",
            now=now,
            plan=plan,
            detail="off the priority list: the plan is assigned",
        )
    audit.record_by(
        session,
        viewer,
        action="assign",
        via="/ssp assign",
        now=now,
        plan=plan,
        detail=f"case holder staff:{holder.id}" + (f", was staff:{previous}" if previous else ""),
    )
    return assignment


def _holds_already(
    session: Session, viewer: Viewer, holder: Staff, pupil: Pupil, plan: Plan
) -> str:
    """For an assignment made a second time: who made the first, and when."""
    latest = session.scalar(
        select(CaseHolderAssignment)
        .where(
            CaseHolderAssignment.plan_id == plan.id,
            CaseHolderAssignment.staff_id == holder.id,
        )
        .order_by(CaseHolderAssignment.id.desc())
        .limit(1)
    )
    said = f"{holder.display_name} already holds {pupil.known_as}'s plan"
    if latest is None or latest.assigned_by_id is None:
        return said + "."
    by = (
        "you"
        if latest.assigned_by_id == viewer.staff_id
        else session.get(Staff, latest.assigned_by_id).display_name
    )
    return f"{said} (assigned by {by} at {local_time(session, plan.school_id, latest.created_at)})."


def _savepoint(session: Session):
    """`session.begin_nested()`, nested on SQLite too: Python's sqlite3 driver opens its
    transaction at the first write, and a SAVEPOINT before then would commit on release. The
    transaction is opened IMMEDIATE, taking the write lock (waiting for a writer at the same
    moment): a read inside a deferred one could not later become a write once the other
    commits ("database is locked", at once)."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        dbapi_connection = connection.connection.dbapi_connection
        if dbapi_connection is not None and not dbapi_connection.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
    return session.begin_nested()


def request_plan(session: Session, viewer: Viewer, query: str, *, now: datetime) -> PlanRequest:
    """A case holder asks the SENDCo to hold the plan of the pupil named by `query`: their UPN,
    or their full name exactly (never a prefix, so nothing can be listed or guessed at).

    The SENDCo decides who holds each plan (guidance §4.3), so nothing changes yet: each SENDCo
    is asked in a message with Approve and Decline. The request is made whether or not the
    pupil has a plan, and the same request twice asks once. Raises UserError (NOT_ONE_PUPIL)
    unless exactly one pupil on roll matches, whoever they are.
    """
    if not viewer.is_case_holder:
        raise UserError("Only case holders can ask for a plan.")
    asked = [sendco for sendco in sendcos(session, viewer.school_id) if sendco != viewer.staff_id]
    if not asked:
        raise UserError(NO_SENDCO)
    pupil_ids = session.scalars(
        select(Pupil.id).where(
            Pupil.school_id == viewer.school_id, Pupil.is_active.is_(True), named_exactly(query)
        )
    ).all()
    if len(pupil_ids) != 1:
        raise UserError(NOT_ONE_PUPIL)
    request = session.scalar(
        select(PlanRequest).where(
            PlanRequest.school_id == viewer.school_id,
            PlanRequest.pupil_id == pupil_ids[0],
            PlanRequest.staff_id == viewer.staff_id,
            PlanRequest.approved.is_(None),
        )
    )
    if request is None:
        request = PlanRequest(
            school_id=viewer.school_id,
            pupil_id=pupil_ids[0],
            staff_id=viewer.staff_id,
            created_at=now,
        )
        session.add(request)
        session.flush()
        audit.record_by(
            session,
            viewer,
            action="request",
            via="/ssp plan new",
            now=now,
            pupil=request.pupil,
            detail="asked the SENDCo to hold the plan",
        )
    for sendco_id in asked:
        _tell(session, request, sendco_id, PromptKind.PLAN_REQUEST, now)
    return request


def answer_plan_request(
    session: Session,
    viewer: Viewer,
    request_id: int,
    *,
    approve: bool,
    now: datetime,
    today: date,
) -> PlanRequest:
    """The SENDCo approves a case holder's request (the plan is delegated to them exactly as
    `/ssp assign` does: they are asked to accept it) or declines it (they are told).

    Who answers is the verified viewer; which pupil and which case holder come from the stored
    request, never from the button. Raises NotTheSendco, or UserError for a request of another
    school, one already answered, or one that `assign` refuses.
    """
    if not viewer.is_sendco:
        raise NotTheSendco()
    request = session.scalar(
        select(PlanRequest).where(
            PlanRequest.id == request_id, PlanRequest.school_id == viewer.school_id
        )
    )
    if request is None:
        raise UserError("That request can't be found.")
    # Two answers at once (a double click, or two SENDCos): the database decides. Only an
    # UPDATE that still finds the request unanswered counts; the other is told whose answer
    # stands, and when.
    claimed = session.execute(
        update(PlanRequest)
        .where(PlanRequest.id == request.id, PlanRequest.approved.is_(None))
        .values(approved=approve, answered_by_id=viewer.staff_id, answered_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(request)
    if claimed != 1:
        raise UserError(_already_answered(session, viewer, request))
    if approve:
        assign(
            session,
            viewer,
            pupil_id=request.pupil_id,
            staff_id=request.staff_id,
            reason="they asked to hold the plan",
            now=now,
            today=today,
        )
    else:
        _tell(session, request, request.staff_id, PromptKind.PLAN_REQUEST_DECLINED, now)
        audit.record_by(
            session,
            viewer,
            action="decline",
            via="plan request message",
            now=now,
            pupil=request.pupil,
            detail=f"declined staff:{request.staff_id}'s request to hold the plan",
        )
    asked = select(Prompt.id).where(
        Prompt.school_id == viewer.school_id,
        Prompt.plan_request_id == request.id,
        Prompt.kind == PromptKind.PLAN_REQUEST,
    )
    for prompt_id in session.scalars(asked).all():
        outbox.mark_answered(session, prompt_id, now)
    session.flush()
    return request


def _already_answered(session: Session, viewer: Viewer, request: PlanRequest) -> str:
    """What became of a request someone answered first, for the SENDCo whose answer came second."""
    done = "approved" if request.approved else "declined"
    if request.answered_by_id == viewer.staff_id:
        by = "you"
    else:
        answerer = session.get(Staff, request.answered_by_id) if request.answered_by_id else None
        by = answerer.display_name if answerer else "someone else"
    at = local_time(session, request.school_id, request.answered_at)
    return f"This request has already been {done} by {by}" + (f" at {at}." if at else ".")


def _tell(
    session: Session, request: PlanRequest, recipient_id: int, kind: PromptKind, now: datetime
) -> None:
    """Queues a message about the request: to a SENDCo (the question) or to who asked, in
    school hours."""
    outbox.enqueue(
        session,
        school_id=request.school_id,
        recipient_id=recipient_id,
        kind=kind,
        dedupe_key=f"{kind.value}:{request.id}:{recipient_id}",
        due_at=sending_time(session, request.school_id, now),
        now=now,
        plan_request_id=request.id,
    )


def named_exactly(query: str):
    """Pupils whose UPN is the query, or whose full name (first or preferred, then last) is."""
    words = query.split()
    if len(words) == 1 and UPN_SHAPE.match(words[0]):
        return Pupil.upn == words[0].upper()
    name = " ".join(words).lower()
    return or_(
        func.lower(Pupil.first_name + " " + Pupil.last_name) == name,
        func.lower(Pupil.preferred_name + " " + Pupil.last_name) == name,
    )


def release_plans_of_leavers(
    session: Session, school_id: int, leavers: list[Staff], now: datetime | None = None
) -> int:
    """Plans held by staff who have left lose their case holder and go back on the priority
    list; their assignments end and the timeline says why. Returns how many plans moved."""
    from datetime import UTC

    now = now or datetime.now(UTC)
    by_id = {member.id: member for member in leavers if member.id is not None}
    plans = session.scalars(
        select(Plan).where(
            Plan.school_id == school_id,
            Plan.status != PlanStatus.CLOSED,
            Plan.case_holder_id.in_(list(by_id)),
        )
    ).all()
    for plan in plans:
        leaver = by_id[plan.case_holder_id]
        for assignment in plan.assignments:
            if assignment.status in (AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED):
                assignment.status, assignment.ended_at = AssignmentStatus.ENDED, now
        plan.case_holder_id = None
        plan.timeline.append(
            TimelineEntry(
                occurred_at=now,
                kind=TimelineKind.ASSIGNMENT,
                summary=f"{leaver.display_name} left the school; the plan needs a new case holder",
            )
        )
    session.flush()
    return len(plans)


def _key_adults(session: Session, pupil_ids: list[int]) -> dict[int, set[int]]:
    """For each pupil, the staff who teach them now (one query for all the pupils)."""
    found: dict[int, set[int]] = {}
    rows = session.execute(
        select(TeachingGroupPupil.pupil_id, TeachingGroupTeacher.staff_id)
        .join(TeachingGroup, TeachingGroup.id == TeachingGroupPupil.group_id)
        .join(TeachingGroupTeacher, TeachingGroupTeacher.group_id == TeachingGroup.id)
        .where(
            TeachingGroupPupil.pupil_id.in_(pupil_ids),
            TeachingGroupPupil.is_active.is_(True),
            TeachingGroupTeacher.is_active.is_(True),
            TeachingGroup.is_active.is_(True),
        )
    )
    for pupil_id, staff_id in rows:
        found.setdefault(pupil_id, set()).add(staff_id)
    return found


def _caseloads(session: Session, school_id: int) -> dict[int, int]:
    return dict(
        session.execute(
            select(Plan.case_holder_id, func.count())
            .where(
                Plan.school_id == school_id,
                Plan.status != PlanStatus.CLOSED,
                Plan.case_holder_id.is_not(None),
            )
            .group_by(Plan.case_holder_id)
        ).all()
    )


def _member(staff: Staff, profile: CaseHolderProfile | None, plans: int) -> TeamMember:
    return TeamMember(
        staff_id=staff.id,
        name=staff.display_name,
        slack_user_id=staff.slack_user_id,
        plans=plans,
        areas=tuple(BroadArea(a) for a in (profile.areas if profile else [])),
        year_groups=tuple(profile.year_groups if profile else ()),
        house=profile.house if profile else None,
    )


def _declined(session: Session, plan_ids: list[int]) -> dict[int, tuple[str, str | None]]:
    """For each plan whose last assignment was declined: who declined it, and their reason."""
    if not plan_ids:
        return {}
    last: dict[int, CaseHolderAssignment] = {}
    for assignment in session.scalars(
        select(CaseHolderAssignment)
        .where(CaseHolderAssignment.plan_id.in_(plan_ids))
        .options(selectinload(CaseHolderAssignment.staff))
        .order_by(CaseHolderAssignment.id)
    ):
        last[assignment.plan_id] = assignment
    return {
        plan_id: (a.staff.display_name, a.response_reason)
        for plan_id, a in last.items()
        if a.status == AssignmentStatus.DECLINED
    }


def _why_on_list(pupil: Pupil, plan: Plan | None, today: date) -> str:
    """What the school's data says of a pupil the SENDCo added by hand (the SENDCo's own reason
    is shown beside it)."""
    if plan is not None:
        overdue = plan.review_date is not None and plan.review_date < today
        return "review overdue and no case holder" if overdue else "no case holder"
    if pupil.sen_stage == SenStage.EHC_PLAN:
        return "EHC plan but no support plan"
    if pupil.sen_stage == SenStage.SEN_SUPPORT:
        return "SEN Support but no plan"
    return "no plan, and no SEN stage on the roster"


def _item(pupil: Pupil, plan: Plan | None, rank_: int, reason: str) -> PriorityItem:
    return PriorityItem(
        pupil_id=pupil.id,
        pupil_name=pupil.known_as,
        year_group=pupil.year_group,
        form=pupil.form,
        house=pupil.house,
        sen_stage=pupil.sen_stage,
        primary_area=pupil.primary_area,
        plan_id=plan.id if plan else None,
        review_date=plan.review_date if plan else None,
        reason=reason,
        rank=rank_,
    )
