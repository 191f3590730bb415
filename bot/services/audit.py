"""Writing the audit log: every read or change of a plan by a person leaves a row."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bot.access import Viewer
from models import AuditEvent, Plan, Pupil

# The action of an attempt the bot turned away (a plan the person may not open, or that is not
# there): kept apart from "read", so the log never claims someone saw what they were refused.
REFUSED = "refused"
DETAIL_LENGTH = AuditEvent.__table__.c.detail.type.length


def _detail(detail: str | None) -> str | None:
    """The detail, clipped to its column: an audit row must never fail the change it records.

    Callers pass what was done ("returned for changes"), never personal content; the clip is a
    guard, not a licence to pass free text.
    """
    if detail is None or len(detail) <= DETAIL_LENGTH:
        return detail
    return detail[: DETAIL_LENGTH - 1] + "…"


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
        detail=_detail(detail),
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
    pupil: Pupil | None = None,
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
        pupil=pupil,
        detail=detail,
    )


def record_refusal(
    session: Session,
    viewer: Viewer,
    *,
    via: str,
    now: datetime,
    detail: str,
    pupil_id: int | None = None,
    plan: Plan | None = None,
) -> AuditEvent:
    """Records that the bot turned this person away from a pupil's data (action "refused").

    `pupil_id` comes from what they typed or clicked, so it is linked only when it names a
    pupil of their own school: another school's pupil never appears in this school's log.
    """
    pupil = (
        session.scalar(
            select(Pupil).where(Pupil.id == pupil_id, Pupil.school_id == viewer.school_id)
        )
        if plan is None and pupil_id is not None
        else None
    )
    return record_by(
        session, viewer, action=REFUSED, via=via, now=now, plan=plan, pupil=pupil, detail=detail
    )


def record_list(
    session: Session,
    *,
    via: str,
    now: datetime,
    school_id: int,
    staff_id: int,
    plans: Sequence[tuple[int | None, int]],
    detail: str,
) -> None:
    """Audits a list that showed several plans: one row per (plan id, pupil id), one statement.

    A pupil listed without a plan (the priority list's "needs a plan") has plan id None.
    """
    if not plans:
        return
    detail = _detail(detail)
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


def record_shown(
    session: Session,
    viewer: Viewer,
    *,
    via: str,
    now: datetime,
    what: str,
    pupils: Sequence[tuple[int | None, int]] = (),
    count: int | None = None,
) -> None:
    """Audits a list that reveals which pupils have SEN (priority list, QA list, pupil choices).

    With the pupils shown, one "list" row per (plan id or None, pupil id), as `record_list`.
    Without them (a list of names the service does not identify, or an empty list), one row
    saying what list it was and how many it showed: who looked, at what, when, is always kept.
    """
    if pupils:
        record_list(
            session,
            via=via,
            now=now,
            school_id=viewer.school_id,
            staff_id=viewer.staff_id,
            plans=pupils,
            detail=what,
        )
        return
    record_by(
        session,
        viewer,
        action="list",
        via=via,
        now=now,
        detail=what if count is None else f"{what}: {count} shown",
    )
