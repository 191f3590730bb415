"""Quality assurance: the SENDCo approves plans written by case holders, or returns them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from bot.access import Viewer
from bot.errors import UserError
from bot.services import outbox, reviews
from bot.services.caseload import CASE_HOLDER_NAME, plan_rows
from bot.services.plans import edit_plan
from bot.services.pupils import KNOWN_AS
from models import Plan, PlanStatus, PromptKind, Pupil, School, Staff


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
            return "approved after quality assurance" + (f": {comments}" if comments else "")
        plan.status = PlanStatus.DRAFT
        return f"returned by the SENDCo for changes: {comments}"

    plan = _edit(
        session,
        viewer,
        plan_id,
        expected_version,
        apply,
        via="/ssp qa",
        now=now,
        audit_detail=(
            "approved after quality assurance" if approve else "returned by the SENDCo for changes"
        ),
    )
    if not approve and plan.case_holder_id and plan.case_holder_id != viewer.staff_id:
        outbox.enqueue(
            session,
            school_id=plan.school_id,
            recipient_id=plan.case_holder_id,
            kind=PromptKind.QA_RETURNED,
            dedupe_key=f"qa_returned:{plan.id}:v{plan.version}",
            due_at=now,
            now=now,
            plan_id=plan.id,
        )
    return plan


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
        return "sent for quality assurance"

    return _edit(session, viewer, plan_id, expected_version, apply, via="/ssp plan", now=now)


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
