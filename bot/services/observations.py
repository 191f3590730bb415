"""Observations between reviews: anyone who supports a pupil notes what happened on a day,
which of the plan's strategies they tried (or another), and whether it helped.

Who may add one: whoever may see the pupil on roll (`bot.access.visible_pupils`): the pupil's
teachers, teaching assistants, form tutor, head of year, pastoral staff, key adults, the case
holder and the SENDCo. Senior leaders see the whole school, so they may add one too: an
observation is what someone saw, and anyone who sees the pupil may have seen something worth
the case holder knowing. The pupil must have an open plan (it goes on that plan, in its current
APDR cycle). "Not allowed" and "no such pupil" are the same None, and every refusal is audited;
every observation added is audited as a change to the plan (never its words).

Observations are staff only: they are not part of the plan document, so never in the family's
copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.access import Viewer, visible_pupils
from bot.errors import UserError
from bot.services import audit
from bot.services.passport import _points
from models import AdjustmentKind, Helped, Observation, Plan, PlanAdjustment, PlanStatus, Pupil

WHAT_LENGTH = 2000  # characters of "what happened"
STRATEGY_LENGTH = 300  # characters of a strategy kept with the observation (the column's)
OTHER_LENGTH = 200  # characters of a strategy typed under "Other"
OTHER = "other"
OTHER_LABEL = "Other"
STRATEGIES_OFFERED = 40  # choices in the form (Slack allows 100 options)


class NoPlan(UserError):
    """The viewer may see the pupil, who has no open plan: nowhere to put an observation."""

    def __init__(self, pupil_name: str) -> None:
        super().__init__(
            f"{pupil_name} has no SEN Support Plan at the moment, so there is no plan to add an "
            "observation to."
        )


class FormError(UserError):
    """Something typed in the form that can't be saved: shown beside its field."""


@dataclass(frozen=True)
class Strategy:
    value: str  # the form's option value: "a<adjustment id>", "s<point>" or "other"
    text: str


@dataclass(frozen=True)
class Subject:
    """The pupil an observation is about, and the strategies their plan offers."""

    pupil_id: int
    plan_id: int
    name: str
    strategies: tuple[Strategy, ...]


@dataclass(frozen=True)
class Entry:
    """One observation, as the case holder reads it."""

    id: int
    pupil_name: str
    observed_on: date
    author: str
    what_happened: str
    strategy: str
    helped: Helped


def pupil_name(pupil: Pupil) -> str:
    return pupil.known_as


def _visible(session: Session, viewer: Viewer, pupil_id: int) -> Pupil | None:
    return session.scalar(
        select(Pupil).where(Pupil.id == pupil_id, Pupil.is_active.is_(True), visible_pupils(viewer))
    )


def _open_plan(session: Session, pupil: Pupil) -> Plan | None:
    return session.scalar(
        select(Plan).where(Plan.pupil_id == pupil.id, Plan.status != PlanStatus.CLOSED)
    )


def strategies_of(session: Session, plan: Plan) -> tuple[Strategy, ...]:
    """The plan's in-class adjustments, then the points of "how best to support me"."""
    adjustments = session.execute(
        select(PlanAdjustment.id, PlanAdjustment.description)
        .where(PlanAdjustment.plan_id == plan.id, PlanAdjustment.kind == AdjustmentKind.IN_CLASS)
        .order_by(PlanAdjustment.id)
    ).all()
    chosen = [Strategy(f"a{i}", _clip(text)) for i, text in adjustments if text and text.strip()]
    how = plan.voice.how_to_support_me if plan.voice else None
    if how:
        chosen += [Strategy(f"s{n}", _clip(point)) for n, point in enumerate(_points(how))]
    return tuple(chosen[:STRATEGIES_OFFERED])


def subject(
    session: Session, viewer: Viewer, pupil_id: int, *, via: str, now: datetime
) -> Subject | None:
    """The pupil and their plan's strategies, if the viewer may add an observation; None (and
    the refusal audited) when not. Raises NoPlan when they see the pupil but there is no plan."""
    pupil = _visible(session, viewer, pupil_id)
    if pupil is None:
        audit.record_refusal(
            session, viewer, via=via, now=now, pupil_id=pupil_id, detail="observation refused"
        )
        return None
    plan = _open_plan(session, pupil)
    if plan is None:
        raise NoPlan(pupil_name(pupil))
    return Subject(pupil.id, plan.id, pupil_name(pupil), strategies_of(session, plan))


def add(
    session: Session,
    viewer: Viewer,
    pupil_id: int,
    *,
    observed_on: date,
    what_happened: str,
    strategy: str | None,
    other: str | None,
    helped: str | None,
    via: str,
    now: datetime,
    today: date,
) -> Subject | None:
    """Saves an observation; None (refusal audited) when the viewer may not see the pupil.
    Raises FormError(block_id=…) for what the form must show beside a field."""
    pupil = _visible(session, viewer, pupil_id)
    if pupil is None:
        audit.record_refusal(
            session, viewer, via=via, now=now, pupil_id=pupil_id, detail="observation refused"
        )
        return None
    plan = _open_plan(session, pupil)
    if plan is None:
        raise NoPlan(pupil_name(pupil))
    offered = strategies_of(session, plan)
    text = (what_happened or "").strip()
    if not text:
        raise FormError("Say what happened.", block_id="what")
    if len(text) > WHAT_LENGTH:
        raise FormError(
            f"Please keep this to {WHAT_LENGTH:,} characters (it has {len(text):,}).",
            block_id="what",
        )
    if observed_on > today:
        raise FormError("The date can't be in the future.", block_id="date")
    if strategy == OTHER or strategy is None:
        words = (other or "").strip()
        if len(words) > OTHER_LENGTH:
            raise FormError(
                f"Please keep the strategy to {OTHER_LENGTH} characters.", block_id="other"
            )
        kept = f"{OTHER_LABEL}: {words}" if words else OTHER_LABEL
    else:
        match = next((s for s in offered if s.value == strategy), None)
        if match is None:  # the plan changed since the form opened
            raise FormError(
                "That strategy is no longer on the plan: please choose again.", block_id="strategy"
            )
        kept = match.text
    try:
        outcome = Helped(helped or "")
    except ValueError:
        raise FormError("Say whether it helped.", block_id="helped") from None
    session.add(
        Observation(
            school_id=viewer.school_id,
            plan_id=plan.id,
            pupil_id=pupil.id,
            cycle_number=plan.cycle_number,
            author_id=viewer.staff_id,
            observed_on=observed_on,
            what_happened=text,
            strategy=kept[:STRATEGY_LENGTH],
            helped=outcome,
            created_at=now,
        )
    )
    audit.record_by(
        session, viewer, action="create", via=via, now=now, plan=plan, detail="observation"
    )
    return Subject(pupil.id, plan.id, pupil_name(pupil), offered)


def _clip(text: str, limit: int = STRATEGY_LENGTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
