"""Finding a pupil the viewer may see, and summarising their plan."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from bot.access import (
    Viewer,
    held_pupil_ids,
    taught_pupil_ids,
    visible_pupil_records,
    visible_pupils,
)
from bot.errors import UserError
from bot.services import audit, support
from bot.services.calendar import load_calendar
from bot.services.leavers import leaver_closes_on
from bot.services.plan_document import sharing_of
from models import (
    ClosureReason,
    Plan,
    PlanStatus,
    Pupil,
    SharingConsent,
    TargetStatus,
    TeachingGroupPupil,
)

UPN_SHAPE = re.compile(r"^[A-Za-z]\d{11}[0-9A-Za-z]$")
MAX_MATCHES = 25
# A name is a few words; these are far beyond any, and keep a search quick whatever is typed.
MAX_QUERY_WORDS = 10
MAX_QUERY_CHARACTERS = 200

# A pupil's name as the school uses it, in SQL: what `Pupil.known_as` says in Python (the
# preferred name, or the first name when it is blank, then the last name).
KNOWN_AS = (
    func.coalesce(func.nullif(Pupil.preferred_name, ""), Pupil.first_name) + " " + Pupil.last_name
)
# What a list of pupils shows of each: `PupilMatch`'s first four fields.
MATCH_COLUMNS = (Pupil.id, KNOWN_AS, Pupil.year_group, Pupil.form)


@dataclass(frozen=True)
class PupilMatch:
    pupil_id: int
    name: str
    year_group: int
    form: str | None
    has_plan: bool
    has_left: bool = False


@dataclass(frozen=True)
class PlanSummary:
    """What `/ssp pupil` shows. `teacher_view` is the cut-down view for someone who only teaches
    the pupil: what they need to teach them (year and form, adjustments, targets, how to
    support), not the record (birthday, SEN stage, needs, flags, MIS notes) nor the provision.
    `consent_withdrawn` is a withdrawal of consent to share the plan, in force today: part of the
    record, so never set in a teacher's view."""

    pupil: Pupil
    plan: Plan | None
    teacher_view: bool
    today: date
    consent_withdrawn: SharingConsent | None = None
    closed: tuple[str, ...] = ()
    """The pupil's closed plans, latest first ("Plan 2 · Closed 5 Dec 2026 — needs met")."""
    taught: bool = False
    """In a supporter's view: the viewer teaches the pupil (rather than tutoring their form,
    supporting their class, being their key adult…), so the view can say which."""
    key_adults: tuple[tuple[str | None, str], ...] = ()
    """The pupil's key adults (`/ssp support`): (Slack user id, name) of each."""
    closes_on: date | None = None
    """The pupil has left and their plan is still open: the day it closes by itself, unless the
    SENDCo closes it sooner (bot.services.closure)."""

    @property
    def has_left(self) -> bool:
        return not self.pupil.is_active

    @property
    def targets(self) -> list:
        """This cycle's targets: earlier cycles' results belong to their reviews."""
        if self.plan is None:
            return []
        return [
            t
            for t in self.plan.targets
            if t.cycle_number == self.plan.cycle_number or t.status == TargetStatus.OPEN
        ]


def find_pupils(session: Session, viewer: Viewer, query: str) -> list[PupilMatch]:
    """Pupils on roll the viewer may see whose UPN is `query` or whose names start with its words.

    Returns at most MAX_MATCHES + 1 matches, so callers can tell "too many to list".
    """
    return _find(session, query, Pupil.is_active.is_(True) & visible_pupils(viewer))


def find_pupil_records(session: Session, viewer: Viewer, query: str) -> list[PupilMatch]:
    """As `find_pupils`, and also pupils who have left whose record the viewer keeps
    (`bot.access.visible_pupil_records`: the SENDCo, senior leaders, the case holder of the
    plan still open; never a teacher). For `/ssp pupil` and `/ssp close`."""
    return _find(session, query, visible_pupil_records(viewer))


def _find(session: Session, query: str, visible: ColumnElement[bool]) -> list[PupilMatch]:
    if not query.split():
        return []
    if len(query) > MAX_QUERY_CHARACTERS or len(query.split()) > MAX_QUERY_WORDS:
        # Each word is a LIKE on three columns: an absurd query would hold a core for seconds.
        raise UserError(
            f"That is too long to search for: a pupil's UPN or up to {MAX_QUERY_WORDS} words "
            f"of their name ({MAX_QUERY_CHARACTERS} characters at most), e.g. `Ava Stone`."
        )
    matches_query = matching(query)
    open_plan = (
        select(Plan.id).where(Plan.pupil_id == Pupil.id, Plan.status != PlanStatus.CLOSED).exists()
    )
    rows = session.execute(
        select(*MATCH_COLUMNS, open_plan, Pupil.is_active)
        .where(visible, matches_query)
        .order_by(Pupil.last_name, Pupil.first_name)
        .limit(MAX_MATCHES + 1)
    ).all()
    return [
        PupilMatch(*match, has_plan=bool(has_plan), has_left=not on_roll)
        for *match, has_plan, on_roll in rows
    ]


def plan_summary(
    session: Session, viewer: Viewer, pupil_id: int, *, via: str, now: datetime, today: date
) -> PlanSummary | None:
    """The pupil and their open plan, if the viewer may see them; None otherwise. A pupil who
    has left is shown to those who keep their record (`bot.access.visible_pupil_records`).

    None covers both "no such pupil" and "not yours to see", so nobody can probe who has a
    plan. The read is written to the audit log.
    """
    pupil = session.scalar(select(Pupil).where(Pupil.id == pupil_id, visible_pupil_records(viewer)))
    if pupil is None:
        audit.record_refusal(
            session, viewer, via=via, now=now, pupil_id=pupil_id, detail="plan summary refused"
        )
        return None
    plan = session.scalar(
        select(Plan)
        .where(Plan.pupil_id == pupil.id, Plan.status != PlanStatus.CLOSED)
        .options(
            selectinload(Plan.case_holder),
            selectinload(Plan.needs),
            selectinload(Plan.adjustments),
            selectinload(Plan.targets),
            selectinload(Plan.provisions),
            selectinload(Plan.linked_plans),
            selectinload(Plan.voice),
            selectinload(Plan.consents),
        )
    )
    held = set(session.scalars(held_pupil_ids(viewer))) if not viewer.sees_whole_school else set()
    teacher_view = viewer.teaches_only(pupil.id, held)
    audit.record_by(
        session,
        viewer,
        action="read",
        via=via,
        now=now,
        plan=plan,
        pupil=pupil,
        detail="teacher view of plan summary" if teacher_view else "plan summary",
    )
    session.flush()
    withdrawal = (
        sharing_of(plan.consents, today).withdrawal
        if plan is not None and not teacher_view
        else None
    )
    return PlanSummary(
        pupil=pupil,
        plan=plan,
        teacher_view=teacher_view,
        today=today,
        taught=teacher_view and _teaches(session, viewer, pupil.id),
        key_adults=tuple(
            (adult.slack_user_id, adult.display_name)
            for adult in support.key_adults(session, [pupil.id])[pupil.id]
        ),
        consent_withdrawn=withdrawal,
        closed=tuple(c.line for c in closed_plans(session, pupil.id)) if not teacher_view else (),
        closes_on=(
            leaver_closes_on(load_calendar(session, pupil.school_id), pupil.left_on, today)
            if plan is not None and not pupil.is_active
            else None
        ),
    )


def _teaches(session: Session, viewer: Viewer, pupil_id: int) -> bool:
    """Whether the viewer teaches the pupil (one of their current classes)."""
    if not viewer.is_teacher:
        return False
    taught = taught_pupil_ids(viewer).where(TeachingGroupPupil.pupil_id == pupil_id)
    return bool(session.scalar(select(taught.exists())))


def matching(query: str) -> ColumnElement[bool]:
    """Pupils whose UPN is the query, or whose names start with each of its words.

    "ava", "stone" and "ava st" all find Ava Stone; so does her preferred name.
    """
    words = query.split()
    if len(words) == 1 and UPN_SHAPE.match(words[0]):
        return Pupil.upn == words[0].upper()
    return and_(
        *(
            or_(
                func.lower(Pupil.first_name).like(_like_prefix(word), escape="\\"),
                func.lower(Pupil.preferred_name).like(_like_prefix(word), escape="\\"),
                func.lower(Pupil.last_name).like(_like_prefix(word), escape="\\"),
            )
            for word in words
        )
    )


def _like_prefix(word: str) -> str:
    escaped = word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


# --- closed plans ------------------------------------------------------------------------


@dataclass(frozen=True)
class ClosedPlan:
    """A closed plan in a pupil's history."""

    cycle: int
    closed_on: date | None
    reason: ClosureReason | None
    note: str | None

    @property
    def line(self) -> str:
        """ "Plan 3 · Closed 5 Dec 2026 — needs met"."""
        when = f" {self.closed_on:%-d %b %Y}" if self.closed_on else ""
        why = self.note if self.reason == ClosureReason.OTHER and self.note else None
        why = why or (self.reason.label if self.reason else None)
        return f"Plan {self.cycle} · Closed{when}" + (f" — {why}" if why else "")


def closed_plans(session: Session, pupil_id: int) -> list[ClosedPlan]:
    """The pupil's closed plans, latest first (the caller has checked the pupil is visible)."""
    rows = session.scalars(
        select(Plan)
        .where(Plan.pupil_id == pupil_id, Plan.status == PlanStatus.CLOSED)
        .order_by(Plan.closed_at.desc(), Plan.id.desc())
    ).all()
    return [
        ClosedPlan(
            p.cycle_number,
            p.closed_at.date() if p.closed_at else None,
            p.closure_reason,
            p.closure_note,
        )
        for p in rows
    ]
