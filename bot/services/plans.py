"""Changing a plan safely when several people may be editing it at once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from bot.errors import UserError
from bot.services import audit
from models import (
    Plan,
    PlanStatus,
    PlanVoice,
    Pupil,
    School,
    Staff,
    TimelineEntry,
    TimelineKind,
)


class PlanNotFound(UserError):
    def __init__(self) -> None:
        super().__init__("That plan could not be found.")


class PlanChanged(UserError):
    """Someone saved the plan after the editor loaded it; the editor's save was refused."""

    def __init__(self, plan: Plan) -> None:
        self.plan_id = plan.id
        self.current_version = plan.version
        self.changed_by = plan.updated_by.display_name if plan.updated_by else "someone else"
        self.changed_at = plan.updated_at
        super().__init__(
            f"{self.changed_by} changed this plan at {self.changed_at:%H:%M on %d %B %Y} (UTC), "
            "after you opened it. Your changes were not saved over theirs: reload the plan "
            "to see the latest version, then make your changes again."
        )


class PlanClosed(UserError):
    """A closed plan is kept as it was: read-only."""

    def __init__(self) -> None:
        super().__init__("This plan is closed, so it can't be changed; nothing was saved.")


def new_draft_plan(
    session: Session, pupil: Pupil, *, by_staff_id: int, now: datetime, today: date
) -> Plan:
    """A draft plan for a pupil with none open. The plan number carries on from the pupil's
    last closed plan: the APDR cycle continues rather than starting again."""
    last_cycle = session.scalar(
        select(func.max(Plan.cycle_number)).where(Plan.pupil_id == pupil.id)
    )
    plan = Plan(
        school_id=pupil.school_id,
        pupil=pupil,
        status=PlanStatus.DRAFT,
        cycle_number=(last_cycle or 0) + 1,
        start_date=today,
        created_at=now,
        updated_at=now,
        updated_by_id=by_staff_id,
    )
    plan.voice = PlanVoice()
    session.add(plan)
    return plan


def edit_plan(
    session: Session,
    *,
    school: School,
    plan_id: int,
    expected_version: int,
    editor: Staff,
    edit: Callable[[Plan], str],
    via: str,
    now: datetime,
    may_edit: Callable[[Plan], bool] | None = None,
    audit_detail: str | None = None,
) -> Plan:
    """Applies `edit` to the plan if nobody has saved it since the editor loaded `expected_version`.

    `edit` mutates the plan (any section) and returns a short description of the change for
    the plan's timeline and the audit log ("changed targets"). On success the plan's version
    goes up by one. Raises PlanChanged (the editor's change is not applied) when the plan has
    moved on, including when another session commits between our read and our write; raises
    PlanNotFound for a plan of another school, or one `may_edit` says the editor may not change,
    and PlanClosed for a closed plan.
    The caller commits.

    `may_edit` is asked before the version is compared: PlanChanged names who last saved the
    plan and when, which only the plan's writers may learn. When the description carries
    someone's own words (the SENDCo's QA comments), `audit_detail` says what was done instead:
    the audit log records actions, never personal content.
    """
    plan = session.scalar(select(Plan).where(Plan.id == plan_id, Plan.school_id == school.id))
    if plan is None or (may_edit is not None and not may_edit(plan)):
        raise PlanNotFound()
    if plan.status == PlanStatus.CLOSED:
        raise PlanClosed()
    if plan.version != expected_version:
        raise PlanChanged(plan)
    description = edit(plan)
    # Touch the plan row even when only a section changed, so the version always moves on.
    plan.updated_at = now
    plan.updated_by_id = editor.id
    session.add(
        TimelineEntry(
            plan=plan,
            occurred_at=now,
            kind=TimelineKind.PLAN_CHANGE,
            summary=description,
            author_id=editor.id,
        )
    )
    audit.record(
        session,
        action="update",
        via=via,
        now=now,
        school_id=school.id,
        staff_id=editor.id,
        plan=plan,
        detail=audit_detail or description,
    )
    try:
        session.flush()
    except StaleDataError:
        # Another transaction saved between our read and our write: report theirs, keep ours out.
        session.rollback()
        current = session.scalar(select(Plan).where(Plan.id == plan_id))
        session.refresh(current)
        raise PlanChanged(current) from None
    return plan
