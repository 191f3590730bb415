"""The pupil passport and a teacher's class view: the plan as the people who teach and support a
pupil need it before a lesson, made from the plan itself (nothing is typed twice).

Who may have a pupil's passport: whoever may see the pupil on roll (`bot.access.visible_pupils`:
the SENDCo, senior leaders, the case holder, the pupil's teachers, and any role added there
later), while the pupil has an open plan. "Not allowed" and "no such pupil" are the same None.

What a passport holds, and nothing else (it is a plain dataclass, not the plan, so a template
cannot reach past it): what people like and admire about the pupil, what is important to them,
how best to support them, their needs in plain words (the broad area's name and the plan's own
description, never a census code), in-class adjustments and access arrangements, this cycle's
targets, and the case holder; at the top, what the case holder or SENDCo marked "must know"
(the plan's Must know section), including the record's medical-need and child-in-care flags only
when they ticked to show them. Never: the date of birth, the SEN stage, the MIS's "other
information", other flags, provision, professional reports, notes, reviews or the timeline.

Every passport shown, every class view and every list of classes is written to the audit log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session, selectinload

from bot.access import Viewer, visible_pupils
from bot.errors import UserError
from bot.services import audit, support
from bot.services.pupils import KNOWN_AS
from models import (
    AdjustmentKind,
    Plan,
    PlanAdjustment,
    PlanStatus,
    PlanVoice,
    Pupil,
    TargetStatus,
    TeachingGroup,
    TeachingGroupPupil,
    TeachingGroupSupport,
    TeachingGroupTeacher,
)

KEY_STRATEGIES = 3  # strategies per pupil in a class view: what a teacher reads before a lesson
STRATEGY_LENGTH = 160  # characters of each, in a class view; the passport has them whole


class NoPassport(UserError):
    """The viewer may see the pupil, who has no open plan, so no passport (yet)."""

    def __init__(self, pupil_name: str) -> None:
        super().__init__(
            f"{pupil_name} has no SEN Support Plan at the moment, so there is no pupil passport."
        )


@dataclass(frozen=True)
class Need:
    area: str  # the broad area, in words ("Cognition and learning")
    description: str  # the plan's own plain words


@dataclass(frozen=True)
class Target:
    description: str
    by: date | None


@dataclass(frozen=True)
class Passport:
    """One pupil's passport: exactly what it shows (see the module's docstring)."""

    pupil_id: int
    plan_id: int
    plan_version: int
    plan_number: int
    draft: bool  # not yet agreed: the plan is still being written or checked
    name: str
    initials: str
    year_group: int
    taught_in_year_group: bool
    form: str | None
    must_know: str | None
    must_know_flags: tuple[str, ...]
    liked_and_admired: str | None
    important_to_me: str | None
    how_to_support_me: str | None
    needs: tuple[Need, ...]
    adjustments: tuple[str, ...]
    access_arrangements: tuple[str, ...]
    targets: tuple[Target, ...]
    case_holder: str | None
    case_holder_slack_id: str | None
    # The pupil's key adults (`/ssp support`): (Slack id, name), one query with the plan's.
    key_adults: tuple[tuple[str | None, str], ...]
    review_date: date | None
    today: date


def load_passport(
    session: Session, viewer: Viewer, pupil_id: int, *, via: str, now: datetime, today: date
) -> Passport | None:
    """The pupil's passport if the viewer may see the pupil on roll; None otherwise (no such
    pupil, another school's, or not theirs: the same answer). Raises NoPassport when they may
    see the pupil but there is no open plan. The read, or the refusal, is audited."""
    passport = passport_for(session, viewer, pupil_id, today)
    if passport is None:
        audit.record_refusal(
            session, viewer, via=via, now=now, pupil_id=pupil_id, detail="pupil passport refused"
        )
        return None
    audit.record(
        session,
        action="read",
        via=via,
        now=now,
        school_id=viewer.school_id,
        staff_id=viewer.staff_id,
        plan=session.get(Plan, passport.plan_id),
        detail="pupil passport",
    )
    return passport


def passport_for(session: Session, viewer: Viewer, pupil_id: int, today: date) -> Passport | None:
    """`load_passport` without the audit, for a caller that audits what it does with it (a
    download, bot.services.download_links)."""
    pupil = session.scalar(
        select(Pupil).where(Pupil.id == pupil_id, Pupil.is_active.is_(True), visible_pupils(viewer))
    )
    if pupil is None:
        return None
    plan = session.scalar(
        select(Plan)
        .where(Plan.pupil_id == pupil.id, Plan.status != PlanStatus.CLOSED)
        .options(
            selectinload(Plan.voice),
            selectinload(Plan.needs),
            selectinload(Plan.adjustments),
            selectinload(Plan.targets),
            selectinload(Plan.case_holder),
        )
    )
    if plan is None:
        raise NoPassport(pupil.known_as)
    return _passport(session, pupil, plan, today)


def _passport(session: Session, pupil: Pupil, plan: Plan, today: date) -> Passport:
    voice = plan.voice or PlanVoice()
    flags = []
    if voice.must_know_medical and pupil.medical_need:
        flags.append("Medical need")
    if voice.must_know_in_care and pupil.child_in_care:
        flags.append("Child in care")
    holder = plan.case_holder
    return Passport(
        pupil_id=pupil.id,
        plan_id=plan.id,
        plan_version=plan.version,
        plan_number=plan.cycle_number,
        draft=plan.status in (PlanStatus.DRAFT, PlanStatus.AWAITING_QA),
        name=pupil.known_as,
        initials=pupil.initials,
        year_group=pupil.year_group,
        taught_in_year_group=pupil.taught_in_year_group,
        form=pupil.form,
        must_know=_text(voice.must_know),
        must_know_flags=tuple(flags),
        liked_and_admired=_text(voice.liked_and_admired),
        important_to_me=_text(voice.important_to_me),
        how_to_support_me=_text(voice.how_to_support_me),
        needs=tuple(Need(n.broad_area.label, n.description.strip()) for n in plan.needs),
        adjustments=tuple(
            a.description.strip() for a in plan.adjustments if a.kind == AdjustmentKind.IN_CLASS
        ),
        access_arrangements=tuple(
            a.description.strip()
            for a in plan.adjustments
            if a.kind == AdjustmentKind.ACCESS_ARRANGEMENT
        ),
        # This cycle's targets, and older ones still being worked on (as `/ssp pupil` shows).
        targets=tuple(
            Target(t.description.strip(), t.end_date)
            for t in plan.targets
            if t.cycle_number == plan.cycle_number or t.status == TargetStatus.OPEN
        ),
        case_holder=holder.display_name if holder else None,
        case_holder_slack_id=holder.slack_user_id if holder else None,
        key_adults=tuple(
            (adult.slack_user_id, adult.display_name)
            for adult in support.key_adults(session, [pupil.id])[pupil.id]
        ),
        review_date=plan.review_date,
        today=today,
    )


def _text(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


# --- a teacher's classes ---------------------------------------------------------------------


@dataclass(frozen=True)
class ClassCount:
    """One of the viewer's classes, with how many of its pupils (on roll) have an open plan."""

    group_id: int
    code: str
    subject: str | None
    year_group: int | None
    pupils: int
    with_plan: int


def classes_of(session: Session, viewer: Viewer) -> list[ClassCount]:
    """The viewer's current classes (they teach them: TeachingGroupTeacher, both active), by
    code, each with its counts. One grouped query, however many classes and pupils."""
    taught = _taught_by(viewer)
    on_roll = (TeachingGroupPupil.group_id == TeachingGroup.id) & TeachingGroupPupil.is_active.is_(
        True
    )
    rows = session.execute(
        select(
            TeachingGroup.id,
            TeachingGroup.code,
            TeachingGroup.subject,
            TeachingGroup.year_group,
            func.count(distinct(Pupil.id)),
            func.count(distinct(Plan.pupil_id)),
        )
        .join(taught, taught.c.group_id == TeachingGroup.id)
        .outerjoin(TeachingGroupPupil, on_roll)
        .outerjoin(
            Pupil,
            (Pupil.id == TeachingGroupPupil.pupil_id)
            & Pupil.is_active.is_(True)
            & (Pupil.school_id == viewer.school_id),
        )
        .outerjoin(Plan, (Plan.pupil_id == Pupil.id) & (Plan.status != PlanStatus.CLOSED))
        .where(TeachingGroup.school_id == viewer.school_id, TeachingGroup.is_active.is_(True))
        .group_by(
            TeachingGroup.id, TeachingGroup.code, TeachingGroup.subject, TeachingGroup.year_group
        )
        .order_by(TeachingGroup.code)
    ).all()
    return [ClassCount(*row) for row in rows]


def _taught_by(viewer: Viewer):
    """The ids of the groups the viewer teaches now, or supports (a class row naming them as
    support staff: teaching assistants), as a subquery."""
    return (
        select(TeachingGroupTeacher.group_id)
        .where(
            TeachingGroupTeacher.staff_id == viewer.staff_id,
            TeachingGroupTeacher.is_active.is_(True),
        )
        .union(
            select(TeachingGroupSupport.group_id).where(
                TeachingGroupSupport.staff_id == viewer.staff_id,
                TeachingGroupSupport.is_active.is_(True),
            )
        )
        .subquery()
    )


def audit_classes(
    session: Session, viewer: Viewer, classes: list[ClassCount], *, via: str, now: datetime
) -> None:
    """The list of classes shows counts, not pupils: one row saying how many classes."""
    audit.record_by(
        session,
        viewer,
        action="list",
        via=via,
        now=now,
        detail=f"own classes with plan counts: {len(classes)} shown",
    )


@dataclass(frozen=True)
class ClassPupil:
    pupil_id: int
    plan_id: int
    name: str
    year_group: int
    form: str | None
    strategies: tuple[str, ...]  # the two or three to keep in mind in a lesson
    access_arrangements: tuple[str, ...]


@dataclass(frozen=True)
class ClassView:
    group_id: int
    code: str
    subject: str | None
    year_group: int | None
    pupils: tuple[ClassPupil, ...]  # those with an open plan, by surname
    without_plan: int  # pupils on roll in the class with no open plan (not listed)


def class_view(
    session: Session,
    viewer: Viewer,
    *,
    code: str | None = None,
    group_id: int | None = None,
    via: str,
    now: datetime,
) -> ClassView | None:
    """One of the viewer's classes, by code (any letter case) or id, with each pupil who has an
    open plan and their key strategies and access arrangements; None when the viewer teaches
    no such class (unknown, another teacher's, another school's: the same answer, audited).

    Three reads however big the class (the class, its pupils with their plans, their
    adjustments); the caller audits the pupils it shows (`audit_class_view`)."""
    taught = _taught_by(viewer)
    which = (
        func.lower(TeachingGroup.code) == (code or "").strip().lower()
        if group_id is None
        else TeachingGroup.id == group_id
    )
    group = session.execute(
        select(
            TeachingGroup.id, TeachingGroup.code, TeachingGroup.subject, TeachingGroup.year_group
        )
        .join(taught, taught.c.group_id == TeachingGroup.id)
        .where(
            TeachingGroup.school_id == viewer.school_id,
            TeachingGroup.is_active.is_(True),
            which,
        )
    ).first()
    if group is None:
        audit.record_refusal(
            session, viewer, via=via, now=now, detail="class view refused: not one of theirs"
        )
        return None
    rows = session.execute(
        select(
            Pupil.id,
            KNOWN_AS,
            Pupil.year_group,
            Pupil.form,
            Plan.id,
            PlanVoice.how_to_support_me,
        )
        .join(TeachingGroupPupil, TeachingGroupPupil.pupil_id == Pupil.id)
        .outerjoin(Plan, (Plan.pupil_id == Pupil.id) & (Plan.status != PlanStatus.CLOSED))
        .outerjoin(PlanVoice, PlanVoice.plan_id == Plan.id)
        .where(
            TeachingGroupPupil.group_id == group.id,
            TeachingGroupPupil.is_active.is_(True),
            Pupil.is_active.is_(True),
            Pupil.school_id == viewer.school_id,
        )
        .order_by(Pupil.last_name, Pupil.first_name, Pupil.id)
    ).all()
    with_plan = [row for row in rows if row[4] is not None]
    adjustments: dict[int, list[tuple[AdjustmentKind, str]]] = {}
    if with_plan:
        for plan_id, kind, description in session.execute(
            select(PlanAdjustment.plan_id, PlanAdjustment.kind, PlanAdjustment.description)
            .where(PlanAdjustment.plan_id.in_([row[4] for row in with_plan]))
            .order_by(PlanAdjustment.plan_id, PlanAdjustment.position, PlanAdjustment.id)
        ):
            adjustments.setdefault(plan_id, []).append((kind, description))
    pupils = tuple(
        ClassPupil(
            pupil_id=pupil_id,
            plan_id=plan_id,
            name=name,
            year_group=year_group,
            form=form,
            strategies=key_strategies(adjustments.get(plan_id, []), how_to_support),
            access_arrangements=tuple(
                _clip(text)
                for kind, text in adjustments.get(plan_id, [])
                if kind == AdjustmentKind.ACCESS_ARRANGEMENT and text.strip()
            ),
        )
        for pupil_id, name, year_group, form, plan_id, how_to_support in with_plan
    )
    return ClassView(
        group_id=group.id,
        code=group.code,
        subject=group.subject,
        year_group=group.year_group,
        pupils=pupils,
        without_plan=len(rows) - len(with_plan),
    )


def audit_class_view(
    session: Session,
    viewer: Viewer,
    view: ClassView,
    shown: list[ClassPupil],
    *,
    via: str,
    now: datetime,
) -> None:
    """One "list" row per pupil shown (one statement), or one row for a class with none."""
    audit.record_shown(
        session,
        viewer,
        via=via,
        now=now,
        what=f"class view of {view.code}"[: audit.DETAIL_LENGTH],
        pupils=[(p.plan_id, p.pupil_id) for p in shown],
        count=0,
    )


def key_strategies(
    adjustments: list[tuple[AdjustmentKind, str]], how_to_support: str | None
) -> tuple[str, ...]:
    """Two or three things to do in the lesson: the plan's in-class adjustments first, then the
    first points of "how best to support me" (a line or a sentence each)."""
    chosen = [
        _clip(text)
        for kind, text in adjustments
        if kind == AdjustmentKind.IN_CLASS and text.strip()
    ][:KEY_STRATEGIES]
    if len(chosen) < KEY_STRATEGIES and how_to_support:
        for point in points(how_to_support):
            if len(chosen) >= KEY_STRATEGIES:
                break
            chosen.append(_clip(point))
    return tuple(chosen)


_BULLET = re.compile(r"^\s*(?:[-•*]|\d+[.)])\s*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def points(text: str) -> list[str]:
    """A free text as points: its lines (without bullets), or its sentences when it is one line."""
    lines = [_BULLET.sub("", line).strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    if len(lines) > 1:
        return lines
    return [s.strip() for s in _SENTENCE_END.split(lines[0]) if s.strip()] if lines else []


def _clip(text: str, limit: int = STRATEGY_LENGTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
