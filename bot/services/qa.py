"""Quality assurance: the SENDCo approves plans written by case holders, or returns them."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from bot.access import Viewer
from bot.errors import UserError
from bot.services import outbox, reviews
from bot.services.assignments import local_time, sending_time
from bot.services.calendar import SchoolCalendar, load_calendar
from bot.services.caseload import CASE_HOLDER_NAME, plan_rows
from bot.services.plans import PlanChanged, edit_plan
from bot.services.pupils import KNOWN_AS
from bot.services.review_schedule import sendcos
from models import (
    Plan,
    PlanStatus,
    Prompt,
    PromptKind,
    Pupil,
    School,
    Staff,
    TimelineEntry,
    TimelineKind,
)

# The plan's timeline entries for its quality assurance (their summaries begin so): the
# timeline is where the SENDCo's comments are kept in full, so it is also where they are read.
SENT = "sent for quality assurance"
RETURNED = "returned by the SENDCo for changes"
APPROVED = "approved after quality assurance"


def open_comments(plan: Plan) -> str | None:
    """The SENDCo's comments from returning the plan, while they are still to be acted on: the
    plan is a draft again and has not been sent back (or approved) since. None otherwise."""
    if plan.status != PlanStatus.DRAFT:
        return None
    for entry in sorted(plan.timeline, key=lambda e: (e.occurred_at, e.id or 0), reverse=True):
        if entry.kind != TimelineKind.PLAN_CHANGE:
            continue
        if entry.summary.startswith(RETURNED + ": "):
            return entry.summary[len(RETURNED) + 2 :]
        if entry.summary == SENT or entry.summary.startswith(APPROVED):
            return None
    return None


# Words a SENDCo's comment uses for each of the plan's sections (by the section's key in
# bot.services.plan_editing): the comments are one free text, so a section is marked as
# concerned when the comment names it, and the case holder finds the comment where they work.
SECTION_WORDS: dict[str, tuple[str, ...]] = {
    "details": ("review date", "start date", "plan dates"),
    "voice": ("voice", "pupil's views", "child's views", "profile", "good day", "bad day"),
    "family": ("family", "parent", "carer", "hopes"),
    "circle": ("circle of support",),
    "needs": ("need",),
    "adjustments": ("adjustment", "strateg"),
    "outcomes": ("outcome",),
    "targets": ("target", "smart"),
    "provision": ("provision", "intervention"),
    "agencies": ("agenc", "professional"),
    "reports": ("report",),
    "links": ("linked plan",),
    "people": ("people", "staff involved"),
    "consent": ("consent", "sharing"),
}


def sections_concerned(comments: str | None) -> frozenset[str]:
    """The keys of the sections the comments name (see SECTION_WORDS)."""
    if not comments:
        return frozenset()
    text = comments.lower().replace("\u2019", "'")
    return frozenset(
        key
        for key, words in SECTION_WORDS.items()
        if any(re.search(r"\b" + re.escape(word), text) for word in words)
    )


@dataclass(frozen=True)
class AwaitingQa:
    plan_id: int
    pupil_id: int
    pupil_name: str
    year_group: int
    case_holder: str | None
    waiting_since: datetime


def awaiting(session: Session, school_id: int) -> list[AwaitingQa]:
    """Plans awaiting quality assurance, longest waiting first (one query)."""
    rows = session.execute(
        plan_rows(Plan.id, Pupil.id, KNOWN_AS, Pupil.year_group, CASE_HOLDER_NAME, Plan.updated_at)
        .where(Plan.school_id == school_id, Plan.status == PlanStatus.AWAITING_QA)
        .order_by(Plan.updated_at, Plan.id)
    ).all()
    return [AwaitingQa(*row) for row in rows]


@dataclass(frozen=True)
class QueuedPlan:
    """A plan awaiting quality assurance, with how long it has waited and how often it has been
    returned before (the quality loop, as senior leaders watch it)."""

    waiting: AwaitingQa
    school_days: int  # school days since it was sent, by the school's calendar
    days: int  # calendar days since it was sent
    returned: int  # times the SENDCo has returned it for changes, over the plan's life


def queue(session: Session, school_id: int, today: date) -> list[QueuedPlan]:
    """`awaiting`, with how long each plan has waited (school days and days, to `today`) and how
    often each has been returned. Four queries however many plans wait: the plans, the school,
    its calendar, and the returns of all of them counted together."""
    plans = awaiting(session, school_id)
    if not plans:
        return []
    school = session.get(School, school_id)
    calendar = load_calendar(session, school_id)
    returned = dict(
        session.execute(
            select(TimelineEntry.plan_id, func.count(TimelineEntry.id))
            .where(
                TimelineEntry.plan_id.in_([p.plan_id for p in plans]),
                TimelineEntry.kind == TimelineKind.PLAN_CHANGE,
                TimelineEntry.summary.startswith(RETURNED, autoescape=True),
            )
            .group_by(TimelineEntry.plan_id)
        ).all()
    )
    queued = []
    for plan in plans:
        since = school.local_date(plan.waiting_since)
        queued.append(
            QueuedPlan(
                waiting=plan,
                school_days=max(0, calendar.school_days_between(since, today)),
                days=max(0, (today - since).days),
                returned=returned.get(plan.plan_id, 0),
            )
        )
    return queued


def create_due_summaries(
    session: Session, school: School, now: datetime, calendar: SchoolCalendar | None = None
) -> int:
    """Queues the SENDCo's daily summary of the plans waiting for quality assurance (one a
    school day, in school hours, while any wait: not a message per plan). Returns how many
    were queued. What it says is read when it is sent (prompts.qa_waiting)."""
    calendar = calendar or load_calendar(session, school.id)
    if not calendar.is_school_day(school.local_date(now)):
        return 0
    waiting = session.scalar(
        select(func.count(Plan.id)).where(
            Plan.school_id == school.id, Plan.status == PlanStatus.AWAITING_QA
        )
    )
    if not waiting:
        return 0
    send_at = calendar.next_sending_time(
        now, school.timezone, school.school_day_starts, school.school_day_ends
    )
    # Keyed by the day it goes, so a sweep after school hours and the next morning's make one.
    day = school.local_date(send_at).isoformat()
    keys = {sendco_id: f"qa_request:{sendco_id}:{day}" for sendco_id in sendcos(session, school.id)}
    existing = set(
        session.scalars(
            select(Prompt.dedupe_key).where(
                Prompt.school_id == school.id, Prompt.dedupe_key.in_(list(keys.values()))
            )
        )
    )
    rows = [
        dict(
            school_id=school.id,
            recipient_id=sendco_id,
            kind=PromptKind.QA_REQUEST,
            dedupe_key=key,
            due_at=send_at,
        )
        for sendco_id, key in keys.items()
        if key not in existing
    ]
    outbox.enqueue_many(session, rows, now=now)
    return len(rows)


def decide(
    session: Session,
    viewer: Viewer,
    *,
    plan_id: int,
    expected_version: int,
    approve: bool,
    comments: str | None,
    now: datetime,
    today: date,
) -> Plan:
    """Approves the plan (it becomes active) or returns it to its case holder as a draft.

    Returning needs comments, which go in full on the plan's timeline for the case holder (the
    timeline is staff-only, and its summary has no length limit). The audit log records only
    the decision, never the comments. Raises PlanChanged if the plan moved on since the SENDCo
    opened it, UserError otherwise.
    """
    if not viewer.is_sendco:
        raise UserError("Only the SENDCo quality-assures plans.")
    if not approve and not (comments or "").strip():
        raise UserError("Say what needs to change, so the case holder knows.")

    def apply(plan: Plan) -> str:
        if plan.status != PlanStatus.AWAITING_QA:
            raise UserError("This plan is no longer awaiting quality assurance.")
        if approve:
            plan.status = PlanStatus.ACTIVE
            plan.approved_at, plan.approved_by_id = now, viewer.staff_id
            if plan.start_date is None:
                plan.start_date = today
            reviews.approve_submitted_review(session, plan, viewer.staff_id, now)
            return APPROVED + (f": {comments}" if comments else "")
        plan.status = PlanStatus.DRAFT
        return f"{RETURNED}: {comments}"

    decided = _decided(session, viewer, plan_id)
    if decided:
        raise UserError(decided)
    try:
        plan = _edit(
            session,
            viewer,
            plan_id,
            expected_version,
            apply,
            via="/ssp qa",
            now=now,
            audit_detail=(
                "approved after quality assurance"
                if approve
                else "returned by the SENDCo for changes"
            ),
        )
    except (PlanChanged, StaleDataError):
        # Lost a race with another decision (a double click, or two SENDCos): theirs stands,
        # and this SENDCo is told what it was rather than that nothing changed. (The stale
        # write may surface in an autoflush inside the edit, not only in edit_plan's flush.)
        session.rollback()
        decided = _decided(session, viewer, plan_id)
        if decided:
            raise UserError(decided) from None
        raise
    if plan.case_holder_id and plan.case_holder_id != viewer.staff_id:
        # Returned or approved, the case holder hears of it (the approval in the thread of the
        # return, if there was one: see prompts.qa_approval).
        kind = PromptKind.QA_APPROVED if approve else PromptKind.QA_RETURNED
        outbox.enqueue(
            session,
            school_id=plan.school_id,
            recipient_id=plan.case_holder_id,
            kind=kind,
            dedupe_key=f"{kind}:{plan.id}:v{plan.version}",
            due_at=sending_time(session, plan.school_id, now),
            now=now,
            plan_id=plan.id,
        )
    return plan


def _decided(session: Session, viewer: Viewer, plan_id: int) -> str | None:
    """What became of a plan no longer awaiting quality assurance, if a SENDCo decided it:
    who approved or returned it, and when. None while it still awaits a decision."""
    plan = session.scalar(
        select(Plan)
        .where(Plan.id == plan_id, Plan.school_id == viewer.school_id)
        .execution_options(populate_existing=True)
    )
    if plan is None or plan.status == PlanStatus.AWAITING_QA:
        return None

    def who(staff_id: int | None) -> str:
        if staff_id == viewer.staff_id:
            return "you"
        staff = session.get(Staff, staff_id) if staff_id else None
        return staff.display_name if staff else "someone else"

    if plan.status == PlanStatus.ACTIVE and plan.approved_at is not None:
        at = local_time(session, plan.school_id, plan.approved_at)
        by = who(plan.approved_by_id)
        return f"This plan was already approved by {by} at {at}: it is active."
    if plan.status == PlanStatus.DRAFT:
        at = local_time(session, plan.school_id, plan.updated_at)
        return (
            "This plan was already returned to its case holder: it is a draft again (last "
            f"changed by {who(plan.updated_by_id)} at {at})."
        )
    return "This plan is no longer awaiting quality assurance."


def submit_for_qa(
    session: Session, viewer: Viewer, *, plan_id: int, expected_version: int, now: datetime
) -> Plan:
    """A case holder sends their draft plan to the SENDCo for quality assurance."""

    def apply(plan: Plan) -> str:
        if plan.case_holder_id != viewer.staff_id and not viewer.is_sendco:
            raise UserError("Only the plan's case holder can send it for quality assurance.")
        if plan.status != PlanStatus.DRAFT:
            raise UserError("Only a draft plan can be sent for quality assurance.")
        plan.status = PlanStatus.AWAITING_QA
        return SENT

    sent = _sent_already(session, viewer, plan_id)
    if sent:
        raise UserError(sent)
    try:
        return _edit(session, viewer, plan_id, expected_version, apply, via="/ssp plan", now=now)
    except (PlanChanged, StaleDataError):
        # A second click (or a second device) lost the race: say it went, not that it didn't.
        session.rollback()
        sent = _sent_already(session, viewer, plan_id)
        if sent:
            raise UserError(sent) from None
        raise


def _sent_already(session: Session, viewer: Viewer, plan_id: int) -> str | None:
    """Who sent the plan for quality assurance, and when, if it awaits it: only for its writers
    (as PlanChanged), anyone else learns nothing here."""
    plan = session.scalar(
        select(Plan)
        .where(Plan.id == plan_id, Plan.school_id == viewer.school_id)
        .execution_options(populate_existing=True)
    )
    if plan is None or plan.status != PlanStatus.AWAITING_QA:
        return None
    if plan.case_holder_id != viewer.staff_id and not viewer.is_sendco:
        return None
    by = plan.updated_by_id
    who = "you" if by == viewer.staff_id else (session.get(Staff, by).display_name if by else None)
    at = local_time(session, plan.school_id, plan.updated_at)
    return "This plan was already sent for quality assurance" + (
        f" by {who} at {at}." if who else f" at {at}."
    )


def _edit(
    session: Session,
    viewer: Viewer,
    plan_id: int,
    expected_version: int,
    apply: Callable[[Plan], str],
    *,
    via: str,
    now: datetime,
    audit_detail: str | None = None,
) -> Plan:
    """`edit_plan` by the viewer, in their school."""
    return edit_plan(
        session,
        school=session.get(School, viewer.school_id),
        plan_id=plan_id,
        expected_version=expected_version,
        editor=session.get(Staff, viewer.staff_id),
        edit=apply,
        via=via,
        now=now,
        audit_detail=audit_detail,
    )
