"""Closing a plan (Norfolk §3.7): the SENDCo closes it with a reason, or it closes itself some
time after the pupil left the school unless the SENDCo confirms sooner.

A closed plan is kept, read-only, and listed in the pupil's history; everything still owed about
it (review prompts and reminders, monitoring requests) is cancelled, and nothing counts it as
due, overdue or escalated any more (those all look at plans that are not closed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.access import Viewer, visible_pupils
from bot.errors import UserError
from bot.services import audit, monitoring, outbox, review_schedule
from bot.services.calendar import SchoolCalendar
from bot.services.leavers import LEAVER_CLOSE_SCHOOL_DAYS, leaver_closes_on  # noqa: F401 - re-exported
from bot.services.plans import PlanChanged, edit_plan
from models import (
    ClosureReason,
    MonitoringRequest,
    Plan,
    PlanStatus,
    Prompt,
    PromptKind,
    PromptStatus,
    Pupil,
    School,
    SenStage,
    Staff,
    TimelineEntry,
    TimelineKind,
)

ONLY_SENDCO = "Only the SENDCo can close a plan."
NOTE_LENGTH = 200


class ClosureRefused(UserError):
    """The plan was not closed; nothing was changed."""


@dataclass(frozen=True)
class OpenPlan:
    """What the closing form shows."""

    plan_id: int
    version: int
    pupil_name: str
    cycle: int
    status: PlanStatus


def plan_to_close(session: Session, viewer: Viewer, pupil_id: int) -> OpenPlan:
    """The pupil's open plan, for the SENDCo's closing form."""
    if not viewer.is_sendco:
        raise ClosureRefused(ONLY_SENDCO)
    plan = session.scalar(
        select(Plan)
        .join(Pupil, Pupil.id == Plan.pupil_id)
        .where(Plan.pupil_id == pupil_id, Plan.status != PlanStatus.CLOSED, visible_pupils(viewer))
    )
    if plan is None:
        raise ClosureRefused("That pupil has no open plan to close.")
    return OpenPlan(plan.id, plan.version, plan.pupil.known_as, plan.cycle_number, plan.status)


def close_plan(
    session: Session,
    viewer: Viewer,
    *,
    plan_id: int,
    expected_version: int | None,
    reason: ClosureReason,
    note: str | None,
    now: datetime,
    via: str,
) -> Plan:
    """The SENDCo closes the plan with a reason ("other" needs a few words). Audited; the
    plan's pending prompts are cancelled. Raises ClosureRefused (nothing changed) otherwise."""
    if not viewer.is_sendco:
        raise ClosureRefused(ONLY_SENDCO)
    note = (note or "").strip()[:NOTE_LENGTH] or None
    if reason == ClosureReason.OTHER and not note:
        raise ClosureRefused("Say in a few words why the plan is closing.")
    plan = session.get(Plan, plan_id)
    if plan is None or plan.school_id != viewer.school_id:
        raise ClosureRefused("That plan could not be found.")
    if plan.status == PlanStatus.CLOSED:
        raise ClosureRefused(f"{plan.pupil.known_as}'s plan is already closed.")
    try:
        plan = _close(
            session,
            plan,
            editor=session.get(Staff, viewer.staff_id),
            expected_version=plan.version if expected_version is None else expected_version,
            reason=reason,
            note=note if reason == ClosureReason.OTHER else None,
            now=now,
            via=via,
        )
    except PlanChanged as changed:
        raise ClosureRefused(f"{changed} The plan was not closed.") from None
    return plan


def close_for_leaver(
    session: Session, plan: Plan, *, editor: Staff | None, now: datetime, via: str
) -> Plan:
    """Closes a leaver's plan with "left the school": the SENDCo confirmed, or the wait ran out
    (`editor` None: the bot, recorded as such in the audit log)."""
    return _close(
        session,
        plan,
        editor=editor,
        expected_version=plan.version,
        reason=ClosureReason.LEFT_SCHOOL,
        note=None,
        now=now,
        via=via,
    )


def cancel_prompts(session: Session, plan: Plan, now: datetime) -> int:
    """Cancels everything still owed about the plan (reviews, reminders, monitoring); returns
    how many prompts were cancelled. Its open monitoring requests close too."""
    requests = select(MonitoringRequest.id).where(MonitoringRequest.plan_id == plan.id)
    keys = session.scalars(
        select(Prompt.dedupe_key).where(
            Prompt.school_id == plan.school_id,
            Prompt.status == PromptStatus.PENDING,
            or_(Prompt.plan_id == plan.id, Prompt.monitoring_request_id.in_(requests)),
        )
    ).all()
    cancelled = sum(outbox.cancel(session, plan.school_id, key) for key in keys)
    monitoring.close_for_review(session, plan.id, plan.cycle_number, now)
    return cancelled


def _close(
    session: Session,
    plan: Plan,
    *,
    editor: Staff | None,
    expected_version: int,
    reason: ClosureReason,
    note: str | None,
    now: datetime,
    via: str,
) -> Plan:
    def close(plan: Plan) -> str:
        plan.status = PlanStatus.CLOSED
        plan.closed_at = now
        plan.closure_reason = reason
        plan.closure_note = note
        return f"plan closed: {reason.label}"

    school = session.get(School, plan.school_id)
    if editor is None:
        # Nobody clicked: the leaver's wait ran out. The timeline and audit log say so.
        plan.status, plan.closed_at = PlanStatus.CLOSED, now
        plan.closure_reason, plan.closure_note = reason, None
        plan.updated_at = now
        audit.record(
            session,
            action="update",
            via=via,
            now=now,
            school_id=school.id,
            actor="ssp-bot",
            plan=plan,
            detail=f"plan closed: {reason.label} (not confirmed in time)",
        )
        session.add(
            TimelineEntry(
                plan=plan,
                occurred_at=now,
                kind=TimelineKind.PLAN_CHANGE,
                summary=f"plan closed: {reason.label} (the SENDCo had not confirmed in time)",
            )
        )
        session.flush()
    else:
        plan = edit_plan(
            session,
            school=school,
            plan_id=plan.id,
            expected_version=expected_version,
            editor=editor,
            edit=close,
            via=via,
            now=now,
        )
    cancel_prompts(session, plan, now)
    session.flush()
    return plan


# --- leavers ----------------------------------------------------------------------------------


def pupils_left(
    session: Session,
    school_id: int,
    pupils: list[Pupil],
    now: datetime,
    *,
    no_longer_sen: list[Pupil] = (),
) -> int:
    """Pupils an import (or the Microsoft 365 sync) has just marked as left: everything still
    owed about their open plans stops at once, and each SENDCo gets one message naming those with
    a plan. The plans stay open until the SENDCo confirms, or LEAVER_CLOSE_SCHOOL_DAYS pass.
    Pupils whose SEN stage the import dropped to N are named in the same message, with the
    question whether to close their plan (theirs carry on meanwhile).

    The message names this import's pupils only, not earlier imports' leavers still waiting:
    each plan it concerns gets a timeline entry stamped with the message's `due_at`, which is
    unique to the import (`_import_stamp`).
    Returns how many leavers' open plans that concerns."""
    plans = _open_plans(session, school_id, pupils)
    not_sen = _open_plans(session, school_id, no_longer_sen)
    for plan in plans:
        cancel_prompts(session, plan, now)
    if plans or not_sen:
        stamp = _import_stamp(session, school_id, now)
        for plan, summary in [(p, LEFT_ENTRY) for p in plans] + [
            (p, NO_SEN_ENTRY) for p in not_sen
        ]:
            session.add(
                TimelineEntry(
                    plan=plan, occurred_at=stamp, kind=TimelineKind.PLAN_CHANGE, summary=summary
                )
            )
        for sendco_id in review_schedule.sendcos(session, school_id):
            outbox.enqueue(
                session,
                school_id=school_id,
                recipient_id=sendco_id,
                kind=PromptKind.LEAVERS,
                dedupe_key=f"leavers:staff={sendco_id}:on={stamp.isoformat()}",
                due_at=stamp,
                now=now,
            )
    session.flush()
    return len(plans)


# The timeline entries that tie a plan to the import that named it (staff-only: plan changes).
LEFT_ENTRY = "the roster shows the pupil as having left the school: prompts stopped"
NO_SEN_ENTRY = "the roster now gives SEN stage N (no SEN): the SENDCo was asked about closing"


def _import_stamp(session: Session, school_id: int, now: datetime) -> datetime:
    """`now`, or just after the school's latest leavers message if that is not earlier: an
    import's time is its day (roster.apply_pupils), so two imports on one day would otherwise
    share a message and each name the other's pupils."""
    latest = session.scalar(
        select(func.max(Prompt.due_at)).where(
            Prompt.school_id == school_id, Prompt.kind == PromptKind.LEAVERS
        )
    )
    if latest is not None and latest >= now:
        return latest + timedelta(seconds=1)
    return now


def named_in(session: Session, prompt: Prompt) -> tuple[list[Plan], list[Plan]]:
    """The plans a leavers message is about, still open, by pupil name: (leavers' plans,
    plans of pupils now at SEN stage N). Only that import's pupils: a leaver who has come back
    since, or whose plan is closed, is no longer named."""
    return (
        _open_plans_of(
            session, prompt.school_id, Pupil.is_active.is_(False), _stamped(prompt, LEFT_ENTRY)
        ),
        _open_plans_of(
            session,
            prompt.school_id,
            Pupil.is_active.is_(True),
            Pupil.sen_stage == SenStage.NONE,
            _stamped(prompt, NO_SEN_ENTRY),
        ),
    )


def _stamped(prompt: Prompt, summary: str):
    return Plan.id.in_(
        select(TimelineEntry.plan_id).where(
            TimelineEntry.occurred_at == prompt.due_at,
            TimelineEntry.kind == TimelineKind.PLAN_CHANGE,
            TimelineEntry.summary == summary,
        )
    )


def _open_plans(session: Session, school_id: int, pupils) -> list[Plan]:
    ids = [p.id for p in pupils if p.id is not None]
    if not ids:
        return []
    return list(
        session.scalars(
            select(Plan).where(
                Plan.school_id == school_id,
                Plan.pupil_id.in_(ids),
                Plan.status != PlanStatus.CLOSED,
            )
        ).all()
    )


def leavers_plans(session: Session, school_id: int) -> list[Plan]:
    """Open plans of pupils who have left, waiting to be closed, by pupil name."""
    return _open_plans_of(session, school_id, Pupil.is_active.is_(False))


def _open_plans_of(session: Session, school_id: int, *pupils_where) -> list[Plan]:
    """The school's open plans of the pupils `pupils_where` picks, by pupil name."""
    return list(
        session.scalars(
            select(Plan)
            .join(Pupil, Pupil.id == Plan.pupil_id)
            .where(Plan.school_id == school_id, Plan.status != PlanStatus.CLOSED, *pupils_where)
            .order_by(Pupil.last_name, Pupil.first_name, Pupil.id)
        ).all()
    )


def confirm_leavers(
    session: Session, viewer: Viewer, prompt_id: int, *, now: datetime
) -> list[str]:
    """The SENDCo confirms the leavers' message: their plans close ("left the school").
    Returns the pupils' names; raises ClosureRefused if the message is not theirs."""
    prompt, plans = leavers_of(session, viewer, prompt_id)
    editor = session.get(Staff, viewer.staff_id)
    names = []
    for plan in plans:
        close_for_leaver(session, plan, editor=editor, now=now, via="leavers message")
        names.append(plan.pupil.known_as)
    outbox.mark_answered(session, prompt.id, now, school_id=viewer.school_id)
    return names


def leavers_of(session: Session, viewer: Viewer, prompt_id: int) -> tuple[Prompt, list[Plan]]:
    """The SENDCo's leavers message and the open plans of the leavers it named (a later
    import's leavers have their own message); ClosureRefused if the message is not theirs."""
    if not viewer.is_sendco:
        raise ClosureRefused(ONLY_SENDCO)
    prompt = session.get(Prompt, prompt_id)
    if prompt is None or prompt.school_id != viewer.school_id or prompt.kind != PromptKind.LEAVERS:
        raise ClosureRefused("That message could not be found.")
    return prompt, named_in(session, prompt)[0]


def close_leavers_after_wait(
    session: Session, school: School, today: date, now: datetime, calendar: SchoolCalendar
) -> int:
    """Closes the plans of pupils who left LEAVER_CLOSE_SCHOOL_DAYS school days ago or more
    and whose closure the SENDCo has not confirmed. Returns how many closed."""
    plans = session.scalars(
        select(Plan)
        .join(Pupil, Pupil.id == Plan.pupil_id)
        .where(
            Plan.school_id == school.id,
            Plan.status != PlanStatus.CLOSED,
            Pupil.is_active.is_(False),
            Pupil.left_on.is_not(None),
        )
    ).all()
    closed = 0
    for plan in plans:
        if leaver_closes_on(calendar, plan.pupil.left_on, today) <= today:
            close_for_leaver(session, plan, editor=None, now=now, via="scheduler")
            closed += 1
    return closed
