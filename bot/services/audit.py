"""Writing the audit log: every read or change of a plan by a person leaves a row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session

from bot.access import Viewer
from models import AuditEvent, Plan, Pupil


def record(
    session: Session,
    *,
    action: str,
    via: str,
    now: datetime,
    school_id: int | None,
    staff_id: int | None = None,
    actor: str | None = None,
    plan: Plan | None = None,
    pupil: Pupil | None = None,
    detail: str | None = None,
) -> AuditEvent:
    """Adds one audit event to the session (committed with the caller's unit of work).

    `detail` says what was done ("changed targets"); it must never hold the pupil's details.
    """
    event = AuditEvent(
        school_id=school_id,
        occurred_at=now,
        actor_staff_id=staff_id,
        actor=actor or (f"staff:{staff_id}" if staff_id else "system"),
        action=action,
        via=via,
        plan_id=plan.id if plan else None,
        pupil_id=pupil.id if pupil else (plan.pupil_id if plan else None),
        detail=detail,
    )
    session.add(event)
    return event


def record_by(
    session: Session,
    viewer: Viewer,
    *,
    action: str,
    via: str,
    now: datetime,
    plan: Plan | None = None,
    detail: str | None = None,
) -> AuditEvent:
    """`record` for a member of staff acting through the bot: their school and id are the
    viewer's."""
    return record(
        session,
        action=action,
        via=via,
        now=now,
        school_id=viewer.school_id,
        staff_id=viewer.staff_id,
        plan=plan,
        detail=detail,
    )


def record_list(
    session: Session,
    *,
    via: str,
    now: datetime,
    school_id: int,
    staff_id: int,
    plans: list[tuple[int, int]],
    detail: str,
) -> None:
    """Audits a list that showed several plans: one row per (plan id, pupil id), one statement."""
    if not plans:
        return
    session.execute(
        insert(AuditEvent),
        [
            {
                "school_id": school_id,
                "occurred_at": now,
                "actor_staff_id": staff_id,
                "actor": f"staff:{staff_id}",
                "action": "list",
                "via": via,
                "plan_id": plan_id,
                "pupil_id": pupil_id,
                "detail": detail,
            }
            for plan_id, pupil_id in plans
        ],
    )
