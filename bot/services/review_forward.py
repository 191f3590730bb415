"""Reviews when things change (Norfolk guidance §3.6, §4.1): a plan is reviewed when something
significant changes, not only on its date.

When a professional report, a new need or an exam access arrangement is added to an active
plan (`item_added`, called by bot.services.plan_editing), its case holder is asked whether to
bring the review forward, to a proposed date (review_schedule.forward_date: four school weeks on,
on a school day, before the review date set), and each SENDCo is told, except one who made the
change. One ask a plan a day, however many changes that day: the prompt's idempotency key is the
plan and the day, and each change is a ReviewForwardChange row tied to it.

Whoever made the change, the case holder is asked by DM, even when they made it themselves: the
DM carries the answer buttons whatever form the change was made in, and a confirmation in the
plan's form would be gone with the form.

Only the plan's case holder or a SENDCo may answer (`answer`): bringing the review forward sets
the plan's review date (timeline and audit by plans.edit_plan), and the review schedule follows
it, as it follows any review date: the sweep (review_schedule.create_due_prompts, and
monitoring.create_due_requests) works out each plan's prompts from its review date every time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.access import Viewer
from bot.errors import UserError
from bot.services import audit, outbox, review_schedule
from bot.services.calendar import SchoolCalendar, load_calendar, long_day
from bot.services.plans import edit_plan
from models import (
    AdjustmentKind,
    AgencyReport,
    ForwardReason,
    NeedCode,
    Plan,
    PlanAdjustment,
    PlanNeed,
    PlanStatus,
    Prompt,
    PromptKind,
    PupilDisplay,
    ReviewForwardChange,
    School,
    Staff,
    TimelineEntry,
    TimelineKind,
)

NOT_YOURS = "Only the pupil's case holder or the SENDCo can answer this, so nothing was changed."
GONE = "That question is no longer there, so nothing was changed."
VIA = "review forward ask"


def item_added(
    session: Session, plan: Plan, section_key: str, item: object, *, editor_id: int, now: datetime
) -> Prompt | None:
    """An item was just added to a section of `plan` (flushed, so it has its id). If it is a
    report, a need or an access arrangement and the plan is active with a review far enough off
    to bring forward, queues the ask (or adds to today's) and the SENDCos' notices; returns the
    ask."""
    reason = _reason(section_key, item)
    if reason is None or plan.status != PlanStatus.ACTIVE or plan.case_holder_id is None:
        return None
    holder = session.get(Staff, plan.case_holder_id)
    if holder is None or not holder.is_active:
        return None  # a leaver's plans wait for a new case holder (the priority list)
    school = session.get(School, plan.school_id)
    calendar = load_calendar(session, school.id)
    today = school.local_date(now)
    if review_schedule.forward_date(calendar, today, plan.review_date, today) is None:
        return None
    due_at = calendar.next_sending_time(
        now, school.timezone, school.school_day_starts, school.school_day_ends
    )
    ask = outbox.enqueue(
        session,
        school_id=school.id,
        recipient_id=holder.id,
        kind=PromptKind.REVIEW_FORWARD,
        dedupe_key=_ask_key(plan.id, today),
        due_at=due_at,
        now=now,
        plan_id=plan.id,
        cycle_number=plan.cycle_number,
    )
    session.flush()
    session.add(
        ReviewForwardChange(
            school_id=school.id,
            plan_id=plan.id,
            prompt_id=ask.id,
            reason=reason,
            item_id=getattr(item, "id", None),
            staff_id=editor_id,
            occurred_at=now,
        )
    )
    for sendco_id in review_schedule.sendcos(session, school.id):
        if sendco_id in (editor_id, holder.id):
            continue  # they made the change, or they are the one asked
        outbox.enqueue(
            session,
            school_id=school.id,
            recipient_id=sendco_id,
            kind=PromptKind.REVIEW_FORWARD_NOTICE,
            dedupe_key=_notice_key(plan.id, today, sendco_id),
            due_at=due_at,
            now=now,
            plan_id=plan.id,
            cycle_number=plan.cycle_number,
        )
    return ask


def roster_needs(
    session: Session, school: School, gained: dict[int, list[NeedCode]], now: datetime
) -> int:
    """Pupils (by id) whose roster need codes gained these in an import or the Microsoft 365
    sync: each with an active plan is asked about as a need added in Slack would be. A bounded
    number of statements however many pupils (the plans, the SENDCos, one insert of prompts,
    their ids, one insert of changes). Returns how many plans were asked about."""
    if not gained:
        return 0
    calendar = load_calendar(session, school.id)
    today = school.local_date(now)
    plans = [
        plan
        for plan in session.execute(
            select(Plan.id, Plan.pupil_id, Plan.case_holder_id, Plan.cycle_number, Plan.review_date)
            .join(Staff, Staff.id == Plan.case_holder_id)
            .where(
                Plan.school_id == school.id,
                Plan.pupil_id.in_(gained),
                Plan.status == PlanStatus.ACTIVE,
                Staff.is_active.is_(True),
            )
        )
        if review_schedule.forward_date(calendar, today, plan.review_date, today) is not None
    ]
    if not plans:
        return 0
    due_at = calendar.next_sending_time(
        now, school.timezone, school.school_day_starts, school.school_day_ends
    )
    sendco_ids = review_schedule.sendcos(session, school.id)
    rows = []
    for plan in plans:
        about = dict(
            school_id=school.id, due_at=due_at, plan_id=plan.id, cycle_number=plan.cycle_number
        )
        rows.append(
            dict(
                about,
                recipient_id=plan.case_holder_id,
                kind=PromptKind.REVIEW_FORWARD,
                dedupe_key=_ask_key(plan.id, today),
            )
        )
        rows += [
            dict(
                about,
                recipient_id=sendco_id,
                kind=PromptKind.REVIEW_FORWARD_NOTICE,
                dedupe_key=_notice_key(plan.id, today, sendco_id),
            )
            for sendco_id in sendco_ids
            if sendco_id != plan.case_holder_id
        ]
    outbox.enqueue_many(session, rows, now=now)
    asks = dict(
        session.execute(
            select(Prompt.plan_id, Prompt.id).where(
                Prompt.school_id == school.id,
                Prompt.dedupe_key.in_([_ask_key(plan.id, today) for plan in plans]),
            )
        ).all()
    )
    session.add_all(
        ReviewForwardChange(
            school_id=school.id,
            plan_id=plan.id,
            prompt_id=asks[plan.id],
            reason=ForwardReason.NEED,
            note="on the roster: "
            + ", ".join(f"{code.value} ({code.label})" for code in gained[plan.pupil_id]),
            occurred_at=now,
        )
        for plan in plans
    )
    return len(plans)


def _ask_key(plan_id: int, day: date) -> str:
    return f"review_forward:plan={plan_id}:day={day.isoformat()}"


def _notice_key(plan_id: int, day: date, staff_id: int) -> str:
    return f"review_forward_notice:plan={plan_id}:day={day.isoformat()}:staff={staff_id}"


# --- the ask ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ask:
    """A case holder's ask, as its message needs it (no word of what changed)."""

    prompt_id: int
    plan: Plan
    review_date: date
    proposed: date


def open_ask(session: Session, prompt: Prompt, today: date) -> Ask | None:
    """The ask behind a REVIEW_FORWARD prompt, worked out for `today` (the day it is delivered);
    None once it is answered, the plan is no longer active, its case holder changed, or there
    is nothing left to bring forward (the review is now close, or already brought forward)."""
    plan = session.get(Plan, prompt.plan_id) if prompt.plan_id else None
    if (
        prompt.answered_at is not None
        or plan is None
        or plan.status != PlanStatus.ACTIVE
        or plan.case_holder_id != prompt.recipient_id
    ):
        return None
    school = session.get(School, prompt.school_id)
    calendar = load_calendar(session, school.id)
    proposed = review_schedule.forward_date(
        calendar, school.local_date(prompt.created_at), plan.review_date, today
    )
    if proposed is None:
        return None
    return Ask(prompt.id, plan, plan.review_date, proposed)


@dataclass(frozen=True)
class Answer:
    """What became of a click: `text` for the person (and for the DM, when `done`)."""

    text: str
    done: bool
    channel: str | None = None
    ts: str | None = None
    """The ask's DM, to redraw with `text` when it was answered from a modal."""


@dataclass(frozen=True)
class Choice:
    """What the "Choose another date" form starts from."""

    prompt_id: int
    pupil_name: str
    review_date: date
    proposed: date | None


def choice(session: Session, viewer: Viewer, prompt_id: int, now: datetime) -> Choice | Answer:
    """The date form's starting point, or why it cannot open (refused, or answered already)."""
    found = _ask_for(session, viewer, prompt_id, now, "opened the date form")
    if isinstance(found, Answer):
        return found
    prompt, plan, school, calendar = found
    audit.record_by(
        session, viewer, action="read", via=VIA, now=now, plan=plan,
        detail="opened the form to bring the review forward",
    )  # fmt: skip
    today = school.local_date(now)
    proposed = review_schedule.forward_date(
        calendar, school.local_date(prompt.created_at), plan.review_date, today
    )
    return Choice(prompt.id, plan.pupil.known_as, plan.review_date, proposed)


def answer(
    session: Session,
    viewer: Viewer,
    prompt_id: int,
    *,
    new_date: date | None,
    now: datetime,
    via: str = VIA,
) -> Answer:
    """Brings the review forward to `new_date`, or keeps it (`new_date` None).

    A refusal is an Answer (audited, so the caller commits it); a date that cannot be a review
    date raises UserError beside the form's `review_date` field.
    """
    found = _ask_for(session, viewer, prompt_id, now, "answered")
    if isinstance(found, Answer):
        return found
    prompt, plan, school, calendar = found
    today = school.local_date(now)
    # The answer replaces the DM, kept in Slack's history: the pupil as the school's messages
    # name them (their name, or their initials).
    initials = school.pupil_display == PupilDisplay.INITIALS
    name = plan.pupil.initials if initials else plan.pupil.known_as
    old = plan.review_date
    editor = session.get(Staff, viewer.staff_id)
    if new_date is None:
        session.add(
            TimelineEntry(
                plan_id=plan.id,
                occurred_at=now,
                kind=TimelineKind.NOTE,
                summary=f"{viewer.name} kept the review date ({long_day(old)}) after the plan "
                "changed",
                author_id=viewer.staff_id,
            )
        )
        audit.record_by(
            session, viewer, action="update", via=via, now=now, plan=plan,
            detail="review date kept after a change to the plan",
        )  # fmt: skip
        outbox.mark_answered(session, prompt.id, now)
        return Answer(
            f"Kept: the review of {name}'s plan stays on {long_day(old)}.",
            True,
            prompt.slack_channel,
            prompt.slack_ts,
        )
    check_date(calendar, new_date, today, old)
    description = (
        f"brought the review forward from {long_day(old)} to {long_day(new_date)} after the "
        "plan changed"
    )

    def bring_forward(plan: Plan) -> str:
        plan.review_date = new_date
        return description

    edit_plan(
        session,
        school=school,
        plan_id=plan.id,
        expected_version=plan.version,
        editor=editor,
        edit=bring_forward,
        via=via,
        now=now,
    )
    outbox.mark_answered(session, prompt.id, now)
    when = review_schedule.schedule(calendar, new_date, school.review_notice_school_days).prompt_on
    return Answer(
        f"Brought forward: the review of {name}'s plan is now on {long_day(new_date)}. "
        f"The review prompt comes on {long_day(max(when, today))}.",
        True,
        prompt.slack_channel,
        prompt.slack_ts,
    )


def check_date(calendar: SchoolCalendar, day: date, today: date, review_date: date) -> None:
    """Raises UserError (beside the form's `review_date`) unless `day` can be the review brought
    forward: a school day, not past, and before the review date set."""

    def refuse(why: str) -> None:
        raise UserError(why, block_id="review_date")

    if day < today:
        refuse("That date has passed: choose a school day from today.")
    why_not = calendar.not_a_review_day(day)
    if why_not is not None:
        refuse(why_not)
    if day >= review_date:
        refuse(
            f"The review is on {long_day(review_date)} already: choose a date before it, or "
            "keep it."
        )


# --- what changed ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Changes:
    pupil_name: str
    lines: list[str]


def changes(session: Session, viewer: Viewer, prompt_id: int, now: datetime) -> Changes | Answer:
    """What was added to the plan that the ask is about, for its case holder or a SENDCo
    (audited as a read of the plan); an Answer when refused."""
    prompt = _prompt(session, viewer, prompt_id)
    plan = session.get(Plan, prompt.plan_id) if prompt and prompt.plan_id else None
    if prompt is None or plan is None:
        return Answer(GONE, False)
    if not _may_answer(viewer, plan):
        audit.record_refusal(
            session, viewer, via=VIA, now=now, plan=plan, detail="what changed refused"
        )
        return Answer(NOT_YOURS, False)
    audit.record_by(
        session, viewer, action="read", via=VIA, now=now, plan=plan,
        detail="read what changed before a review brought forward",
    )  # fmt: skip
    rows = session.scalars(
        select(ReviewForwardChange)
        .where(ReviewForwardChange.prompt_id == prompt.id)
        .order_by(ReviewForwardChange.occurred_at, ReviewForwardChange.id)
    ).all()
    items = _items(session, plan.id, rows)
    school = session.get(School, plan.school_id)
    people = {
        s.id: s.display_name
        for s in session.scalars(
            select(Staff).where(Staff.id.in_({r.staff_id for r in rows if r.staff_id}))
        )
    }
    lines = []
    for row in rows:
        what = row.note or items.get((row.reason, row.item_id))
        added = f"{row.reason.label.capitalize()}"
        added += f": {what}" if what else " (since removed from the plan)"
        by = people.get(row.staff_id, "someone") if row.staff_id else "the roster import"
        lines.append(f"{added} — added by {by}, {long_day(school.local_date(row.occurred_at))}")
    return Changes(plan.pupil.known_as, lines)


# --- helpers ---------------------------------------------------------------------------------


def _reason(section_key: str, item: object) -> ForwardReason | None:
    if section_key == "reports":
        return ForwardReason.REPORT
    if section_key == "needs":
        return ForwardReason.NEED
    if section_key == "adjustments" and item.kind == AdjustmentKind.ACCESS_ARRANGEMENT:
        return ForwardReason.ACCESS_ARRANGEMENT
    return None


def _prompt(session: Session, viewer: Viewer, prompt_id: int) -> Prompt | None:
    # The school is the verified request's: an id from another school is not found.
    return session.scalar(
        select(Prompt).where(
            Prompt.id == prompt_id,
            Prompt.school_id == viewer.school_id,
            Prompt.kind == PromptKind.REVIEW_FORWARD,
        )
    )


def _may_answer(viewer: Viewer, plan: Plan) -> bool:
    return viewer.is_sendco or plan.case_holder_id == viewer.staff_id


def _ask_for(
    session: Session, viewer: Viewer, prompt_id: int, now: datetime, doing: str
) -> tuple[Prompt, Plan, School, SchoolCalendar] | Answer:
    prompt = _prompt(session, viewer, prompt_id)
    plan = session.get(Plan, prompt.plan_id) if prompt and prompt.plan_id else None
    if prompt is None or plan is None:
        return Answer(GONE, False)
    if not _may_answer(viewer, plan):
        audit.record_refusal(
            session, viewer, via=VIA, now=now, plan=plan, detail=f"review forward ask {doing}: "
            "refused, not the plan's case holder",
        )  # fmt: skip
        return Answer(NOT_YOURS, False)
    if plan.status != PlanStatus.ACTIVE:
        return Answer(
            f"{plan.pupil.known_as}'s plan is {plan.status.label.lower()} now, so its review "
            "date was not changed.",
            False,
        )
    if prompt.answered_at is not None:
        return Answer(
            f"This was answered already: the review of {plan.pupil.known_as}'s plan is on "
            f"{long_day(plan.review_date)}.",
            False,
        )
    school = session.get(School, plan.school_id)
    return prompt, plan, school, load_calendar(session, school.id)


def _items(
    session: Session, plan_id: int, rows: list[ReviewForwardChange]
) -> dict[tuple[ForwardReason, int], str]:
    """The added items still on the plan, worded: one query for each kind of change."""
    wanted = {reason: [r.item_id for r in rows if r.reason == reason] for reason in ForwardReason}
    found: dict[tuple[ForwardReason, int], str] = {}
    if wanted[ForwardReason.REPORT]:
        for report in session.scalars(
            select(AgencyReport).where(
                AgencyReport.plan_id == plan_id, AgencyReport.id.in_(wanted[ForwardReason.REPORT])
            )
        ):
            by = f", {report.author}" if report.author else ""
            on = f", {report.report_date:%-d %B %Y}" if report.report_date else ""
            found[(ForwardReason.REPORT, report.id)] = f"“{report.title}”{by}{on}"
    if wanted[ForwardReason.NEED]:
        for need in session.scalars(
            select(PlanNeed).where(
                PlanNeed.plan_id == plan_id, PlanNeed.id.in_(wanted[ForwardReason.NEED])
            )
        ):
            found[(ForwardReason.NEED, need.id)] = need.description
    if wanted[ForwardReason.ACCESS_ARRANGEMENT]:
        for adjustment in session.scalars(
            select(PlanAdjustment).where(
                PlanAdjustment.plan_id == plan_id,
                PlanAdjustment.id.in_(wanted[ForwardReason.ACCESS_ARRANGEMENT]),
            )
        ):
            found[(ForwardReason.ACCESS_ARRANGEMENT, adjustment.id)] = adjustment.description
    return found
