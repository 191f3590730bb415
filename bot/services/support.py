"""Key adults: the SENDCo links a member of staff to a pupil they support (`/ssp support`).

A key adult sees the pupil as a teacher does (bot.access.key_adult_pupil_ids), for as long as
the link is open; ending it takes the pupil away again. Links are never deleted, so who was the
pupil's key adult when stays on record, and every link and end is audited.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.access import SUPPORTING_ROLES, Viewer
from bot.errors import UserError
from bot.services import audit
from models import KeyAdult, Pupil, Staff

ONLY_SENDCO = "Only the SENDCo links key adults to pupils."
VIA = "/ssp support"


@dataclass(frozen=True)
class KeyAdultChange:
    """What `/ssp support` did, for the reply."""

    pupil_name: str
    staff_name: str
    staff_slack_user_id: str | None
    changed: bool  # False: it was already so (linked already, or not linked to end)


def link(
    session: Session, viewer: Viewer, *, pupil_id: int, staff_id: int, now: datetime
) -> KeyAdultChange:
    """Makes `staff_id` a key adult of the pupil. The SENDCo only; the member of staff must be
    active in the school and in a supporting role (teaching assistant, teacher, form tutor, head
    of year, pastoral): the link gives them a teacher's view, which those roles are for."""
    pupil, staff = _pupil_and_staff(session, viewer, pupil_id, staff_id, now)
    if not staff.roles & SUPPORTING_ROLES:
        raise UserError(
            f"{staff.display_name} isn't a teaching assistant, teacher, form tutor, head of year "
            "or pastoral member of staff in SSP Bot, so can't be a key adult yet. The staff "
            "CSV's roles column gives them a role."
        )
    if _open_link(session, pupil.id, staff.id) is not None:
        return KeyAdultChange(pupil.known_as, staff.display_name, staff.slack_user_id, False)
    session.add(
        KeyAdult(
            school_id=viewer.school_id,
            pupil_id=pupil.id,
            staff_id=staff.id,
            linked_by_id=viewer.staff_id,
            linked_at=now,
        )
    )
    audit.record_by(
        session,
        viewer,
        action="key_adult_link",
        via=VIA,
        now=now,
        pupil=pupil,
        detail="key adult linked",
    )
    return KeyAdultChange(pupil.known_as, staff.display_name, staff.slack_user_id, True)


def end(
    session: Session, viewer: Viewer, *, pupil_id: int, staff_id: int, now: datetime
) -> KeyAdultChange:
    """Ends the member of staff's key adult link to the pupil (the SENDCo only)."""
    pupil, staff = _pupil_and_staff(session, viewer, pupil_id, staff_id, now, active=False)
    open_link = _open_link(session, pupil.id, staff.id)
    if open_link is None:
        return KeyAdultChange(pupil.known_as, staff.display_name, staff.slack_user_id, False)
    open_link.ended_at, open_link.ended_by_id = now, viewer.staff_id
    audit.record_by(
        session,
        viewer,
        action="key_adult_end",
        via=VIA,
        now=now,
        pupil=pupil,
        detail="key adult ended",
    )
    return KeyAdultChange(pupil.known_as, staff.display_name, staff.slack_user_id, True)


def key_adults(session: Session, pupil_ids: Iterable[int]) -> dict[int, list[Staff]]:
    """Each pupil's key adults now (open links, active staff), by name: one query for them all."""
    ids = sorted(set(pupil_ids))
    found: dict[int, list[Staff]] = defaultdict(list)
    if not ids:
        return found
    rows = session.execute(
        select(KeyAdult.pupil_id, Staff)
        .join(Staff, Staff.id == KeyAdult.staff_id)
        .where(
            KeyAdult.pupil_id.in_(ids),
            KeyAdult.ended_at.is_(None),
            Staff.is_active.is_(True),
        )
        .order_by(Staff.last_name, Staff.first_name, Staff.id)
    )
    for pupil_id, staff in rows:
        found[pupil_id].append(staff)
    return found


def refuse(session: Session, viewer: Viewer, *, now: datetime) -> None:
    """Audits someone other than the SENDCo trying `/ssp support`; the caller says no."""
    audit.record_refusal(session, viewer, via=VIA, now=now, detail="key adult: not the SENDCo")


def _pupil_and_staff(
    session: Session,
    viewer: Viewer,
    pupil_id: int,
    staff_id: int,
    now: datetime,
    *,
    active: bool = True,
) -> tuple[Pupil, Staff]:
    if not viewer.is_sendco:
        refuse(session, viewer, now=now)
        raise UserError(ONLY_SENDCO)
    pupil = session.scalar(
        select(Pupil).where(
            Pupil.id == pupil_id, Pupil.school_id == viewer.school_id, Pupil.is_active.is_(True)
        )
    )
    staff = session.scalar(
        select(Staff).where(Staff.id == staff_id, Staff.school_id == viewer.school_id)
    )
    if pupil is None:
        raise UserError("I couldn't find that pupil on roll.")
    if staff is None or (active and not staff.is_active):
        raise UserError("I can't find that person on your school's staff list.")
    return pupil, staff


def _open_link(session: Session, pupil_id: int, staff_id: int) -> KeyAdult | None:
    return session.scalar(
        select(KeyAdult).where(
            KeyAdult.pupil_id == pupil_id,
            KeyAdult.staff_id == staff_id,
            KeyAdult.ended_at.is_(None),
        )
    )
