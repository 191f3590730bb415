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

from sqlalchemy import select, update
from sqlalchemy.orm import Session, aliased

from bot.access import Viewer, visible_pupils
from bot.errors import UserError
from bot.services import audit, outbox
from bot.services.calendar import SchoolCalendar, load_calendar
from bot.services.passport import points
from models import (
    AdjustmentKind,
    Helped,
    Observation,
    Plan,
    PlanAdjustment,
    PlanStatus,
    Prompt,
    PromptKind,
    Pupil,
    PupilDisplay,
    School,
    Staff,
    TimelineEntry,
    TimelineKind,
)
from models.observations import OWN_OBSERVATION

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
        chosen += [Strategy(f"s{n}", _clip(point)) for n, point in enumerate(points(how))]
    return tuple(chosen[:STRATEGIES_OFFERED])


def subject(
    session: Session, viewer: Viewer, pupil_id: int, *, via: str, now: datetime
) -> Subject | None:
    """The pupil and their plan's strategies, if the viewer may add an observation; None (and
    the refusal audited) when not. Raises NoPlan when they see the pupil but there is no plan."""
    found = _pupil_and_plan(session, viewer, pupil_id, via=via, now=now)
    if found is None:
        return None
    pupil, plan = found
    return Subject(pupil.id, plan.id, pupil_name(pupil), strategies_of(session, plan))


def _pupil_and_plan(
    session: Session, viewer: Viewer, pupil_id: int, *, via: str, now: datetime
) -> tuple[Pupil, Plan] | None:
    """The pupil and their open plan, if the viewer may see the pupil; None (the refusal
    audited) when not. Raises NoPlan when they see the pupil but there is no plan."""
    pupil = _visible(session, viewer, pupil_id)
    if pupil is None:
        audit.record_refusal(
            session, viewer, via=via, now=now, pupil_id=pupil_id, detail="observation refused"
        )
        return None
    plan = _open_plan(session, pupil)
    if plan is None:
        raise NoPlan(pupil_name(pupil))
    return pupil, plan


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
    found = _pupil_and_plan(session, viewer, pupil_id, via=via, now=now)
    if found is None:
        return None
    pupil, plan = found
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
    # On the plan's timeline too, for staff: the kind is not one the family's copy shows.
    session.add(
        TimelineEntry(
            plan_id=plan.id,
            occurred_at=now,
            kind=TimelineKind.OBSERVATION,
            summary=(
                f"Observation on {observed_on.strftime('%-d %B %Y')}: {text} "
                f"(strategy: {kept[:STRATEGY_LENGTH]}; did it help? {outcome.label.lower()})"
            ),
            author_id=viewer.staff_id,
            created_at=now,
        )
    )
    audit.record_by(
        session, viewer, action="create", via=via, now=now, plan=plan, detail="observation"
    )
    return Subject(pupil.id, plan.id, pupil_name(pupil), offered)


# --- the case holder's daily summary ------------------------------------------------------------

SUMMARY_SHOWN = 50  # observations in "Read them" (a modal holds 100 blocks; each takes two)
NOT_YOURS = "That summary isn't one of yours: only its case holder and the SENDCo can read it."


def summary_key(staff_id: int, day: date) -> str:
    return f"observation_summary:staff={staff_id}:day={day.isoformat()}"


def create_due_summaries(
    session: Session, school: School, now: datetime, calendar: SchoolCalendar | None = None
) -> int:
    """Queues one summary today for each case holder with observations on their plans that no
    summary has counted yet (never their own), sent in school hours on a school day. A case
    holder whose summary went today hears of later ones tomorrow. Bounded statements: two
    reads, one insert, and one update per case holder (never one per observation)."""
    calendar = calendar or load_calendar(session, school.id)
    today = school.local_date(now)
    if not calendar.is_school_day(today):
        return 0
    rows = session.execute(
        select(Observation.id, Observation.author_id, Plan.case_holder_id)
        .join(Plan, Plan.id == Observation.plan_id)
        .where(
            Observation.school_id == school.id,
            Observation.summary_key.is_(None),
            Plan.status != PlanStatus.CLOSED,
            Plan.case_holder_id.is_not(None),
        )
    ).all()
    if not rows:
        return 0
    holders = sorted({r.case_holder_id for r in rows if r.author_id != r.case_holder_id})
    keys = {h: summary_key(h, today) for h in holders}
    existing = (
        set(
            session.scalars(
                select(Prompt.dedupe_key).where(
                    Prompt.school_id == school.id, Prompt.dedupe_key.in_(list(keys.values()))
                )
            )
        )
        if keys
        else set()
    )
    queued = [h for h in holders if keys[h] not in existing]
    send_at = calendar.next_sending_time(
        now, school.timezone, school.school_day_starts, school.school_day_ends
    )
    outbox.enqueue_many(
        session,
        [
            dict(
                school_id=school.id,
                recipient_id=holder,
                kind=PromptKind.OBSERVATION_SUMMARY,
                dedupe_key=keys[holder],
                due_at=send_at,
            )
            for holder in queued
        ],
        now=now,
    )
    counted: dict[str, list[int]] = {}
    for r in rows:
        if r.author_id == r.case_holder_id:
            counted.setdefault(OWN_OBSERVATION, []).append(r.id)
        elif r.case_holder_id in queued:
            counted.setdefault(keys[r.case_holder_id], []).append(r.id)
    for key, ids in counted.items():
        session.execute(
            update(Observation)
            .where(Observation.id.in_(ids))
            .values(summary_key=key)
            .execution_options(synchronize_session=False)
        )
    return len(queued)


@dataclass(frozen=True)
class Summary:
    """A case holder's daily summary: how many, and on whose plans (the pupils' names only)."""

    prompt_id: int
    count: int
    pupils: tuple[str, ...]


def summary(session: Session, prompt: Prompt) -> Summary | None:
    """What the summary DM says: None when nothing it counted is still on a plan it holds."""
    rows = session.execute(
        select(Pupil.id, Pupil.first_name, Pupil.preferred_name, Pupil.last_name)
        .join(Observation, Observation.pupil_id == Pupil.id)
        .join(Plan, Plan.id == Observation.plan_id)
        .where(
            Observation.school_id == prompt.school_id,
            Observation.summary_key == prompt.dedupe_key,
            Plan.case_holder_id == prompt.recipient_id,
        )
        .order_by(Pupil.last_name, Pupil.first_name, Pupil.id)
    ).all()
    if not rows:
        return None
    initials = (
        session.scalar(select(School.pupil_display).where(School.id == prompt.school_id))
        == PupilDisplay.INITIALS
    )
    names: dict[int, str] = {}
    for r in rows:
        first = r.preferred_name or r.first_name
        names[r.id] = (
            f"{first[:1]}{r.last_name[:1]}".upper() if initials else f"{first} {r.last_name}"
        )
    return Summary(prompt.id, len(rows), tuple(dict.fromkeys(names.values())))


def read_summary(
    session: Session, viewer: Viewer, prompt_id: int, *, via: str, now: datetime
) -> tuple[Entry, ...] | None:
    """The observations a summary counted, for its case holder or the SENDCo of the school;
    None for anyone else (the refusal audited: the caller says NOT_YOURS once it is kept).
    Each plan read is audited."""
    prompt = session.scalar(
        select(Prompt).where(
            Prompt.id == prompt_id,
            Prompt.school_id == viewer.school_id,
            Prompt.kind == PromptKind.OBSERVATION_SUMMARY,
        )
    )
    if prompt is None or not (viewer.is_sendco or prompt.recipient_id == viewer.staff_id):
        audit.record_refusal(session, viewer, via=via, now=now, detail="observations refused")
        return None
    query = _entries().where(
        Observation.school_id == viewer.school_id, Observation.summary_key == prompt.dedupe_key
    )
    if not viewer.is_sendco:  # a plan handed on since: its new case holder reads it now
        query = query.where(Plan.case_holder_id == viewer.staff_id)
    rows = session.execute(query.limit(SUMMARY_SHOWN)).all()
    for plan_id in dict.fromkeys(r.plan_id for r in rows):
        audit.record(
            session,
            action="read",
            via=via,
            now=now,
            school_id=viewer.school_id,
            staff_id=viewer.staff_id,
            plan=session.get(Plan, plan_id),
            detail="observations",
        )
    return tuple(_entry(r) for r in rows)


def for_review(session: Session, plan: Plan) -> tuple[Entry, ...]:
    """This cycle's observations on the plan, newest first, for the review notes form."""
    rows = session.execute(
        _entries()
        .where(Observation.plan_id == plan.id, Observation.cycle_number == plan.cycle_number)
        .limit(SUMMARY_SHOWN)
    ).all()
    return tuple(_entry(r) for r in rows)


def _entries():
    author = aliased(Staff)
    return (
        select(
            Observation.id,
            Observation.plan_id,
            Observation.observed_on,
            Observation.what_happened,
            Observation.strategy,
            Observation.helped,
            Pupil.first_name,
            Pupil.preferred_name,
            Pupil.last_name,
            author.first_name.label("author_first"),
            author.last_name.label("author_last"),
        )
        .join(Plan, Plan.id == Observation.plan_id)
        .join(Pupil, Pupil.id == Observation.pupil_id)
        .outerjoin(author, author.id == Observation.author_id)
        .order_by(Observation.observed_on.desc(), Observation.id.desc())
    )


def _entry(r) -> Entry:
    who = f"{r.author_first} {r.author_last}" if r.author_first else "someone who has left"
    return Entry(
        id=r.id,
        pupil_name=f"{r.preferred_name or r.first_name} {r.last_name}",
        observed_on=r.observed_on,
        author=who,
        what_happened=r.what_happened,
        strategy=r.strategy,
        helped=r.helped,
    )


def _clip(text: str, limit: int = STRATEGY_LENGTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
