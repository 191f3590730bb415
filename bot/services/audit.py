"""Writing the audit log: every read or change of a plan by a person leaves a row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from models import AuditEvent, Plan, Pupil, Staff


def record(
    session: Session,
    *,
    action: str,
    via: str,
    now: datetime,
    school_id: int | None,
    staff: Staff | None = None,
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
        actor_staff_id=staff.id if staff else None,
        actor=actor or (f"staff:{staff.id}" if staff else "system"),
        action=action,
        via=via,
        plan_id=plan.id if plan else None,
        pupil_id=pupil.id if pupil else (plan.pupil_id if plan else None),
        detail=detail,
    )
    session.add(event)
    return event
