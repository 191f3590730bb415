"""The evidence pack: one document with everything a family and school bring to an EHC needs
assessment request, or a next school needs when a pupil moves on (the transfer pack).

Norfolk §2: records show the support given over the pupil's whole time in school and its impact.
The pack holds the pupil's details and SEN stage history, every reviewed APDR cycle of every plan
(targets and their results, provision and how much of it was delivered, what the review decided
and how well it worked, the teachers' monitoring, the family's and the pupil's views), the
professional reports with their recommendations and what the plan did after them, and the
attachments. Local authorities ask for at least two reviewed cycles: the first page says so
when there are fewer.

This module reads; who may have the pack, and auditing it, is the caller's (the export).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.access import Viewer
from bot.errors import UserError
from bot.render import render_html
from bot.services import attachments, closure, delivery, impact, sen_history
from bot.services.monitoring import feedback_for
from bot.services.plan_pdf import html_to_pdf
from models import (
    ClosureReason,
    Contribution,
    Plan,
    PlanProvision,
    PlanStatus,
    Pupil,
    Review,
    ReviewStatus,
    School,
)

MIN_CYCLES = 2
# The audiences of a download link to the pack (bot.services.download_links).
EVIDENCE, TRANSFER = "evidence", "transfer"
VIA = "/ssp export"
NO_PLAN = "{name} has never had a plan, so there is no record of SEN Support to put in a pack yet."
ONLY_SENDCO_TRANSFERS = (
    "Only the SENDCo makes a transfer record: it closes the plan. Ask them, or use "
    "`/ssp export <pupil> --evidence` for the evidence pack."
)
NOT_YOURS = (
    "The evidence pack is for the SENDCo, senior leaders and the pupil's case holder. "
    "`/ssp pupil` shows you what you need."
)
RESULT_WORDS = {"achieved": "Achieved", "partly": "Partly achieved", "not_yet": "Not yet achieved"}
DECISION_WORDS = {"continue": "Continue", "adapt": "Adapt", "stop": "Stop"}


@dataclass(frozen=True)
class TargetLine:
    description: str
    measure: str | None
    baseline: str | None
    success_criteria: str | None
    result: str | None
    evidence: str | None


@dataclass(frozen=True)
class ProvisionLine:
    what: str
    who: str | None
    how_often: str | None
    started_on: date | None
    ended_on: date | None
    decision: str | None
    effectiveness: str | None
    delivered: str
    measure: str | None


@dataclass(frozen=True)
class Cycle:
    plan_number: int
    started_on: date | None
    reviewed_on: date | None
    review_status: str
    targets: list[TargetLine]
    provision: list[ProvisionLine]
    monitoring: str
    monitoring_comments: list[str]
    what_is_working: str | None
    what_is_not_working: str | None
    what_needs_to_change: str | None
    next_steps: str | None
    cyp_views: str | None
    family_views: str | None
    family_contributions: list[str]


@dataclass(frozen=True)
class ReportLine:
    title: str
    author: str | None
    report_date: date | None
    recommendations: str | None
    after: list[str]


@dataclass
class EvidencePack:
    school: str
    pupil_name: str
    upn: str
    date_of_birth: date
    year_group: int
    sen_stage: str
    needs: str
    stage_history: list[str]
    cycles: list[Cycle]
    reports: list[ReportLine]
    generated_on: date
    transfer: bool = False
    attachments: list[str] = field(default_factory=list)

    @property
    def reviewed_cycles(self) -> int:
        return len(self.cycles)

    @property
    def too_few_cycles(self) -> str | None:
        """The first page's warning when the pack has fewer reviewed cycles than LAs ask for."""
        if self.reviewed_cycles >= MIN_CYCLES:
            return None
        return (
            f"This record holds {self.reviewed_cycles} reviewed cycle"
            f"{'' if self.reviewed_cycles == 1 else 's'} of the plan. Local authorities usually "
            f"ask for evidence of at least {MIN_CYCLES} reviewed cycles of SEN Support (Assess, "
            "Plan, Do, Review) before an EHC needs assessment."
        )

    @property
    def title(self) -> str:
        kind = "Transfer record" if self.transfer else "Evidence of SEN Support"
        return f"{kind}: {self.pupil_name}"


def build(
    session: Session, school: School, pupil_id: int, today: date, *, transfer: bool = False
) -> EvidencePack | None:
    """The pack for a pupil of the school (None: no such pupil). Reads every plan the pupil has
    had, open or closed."""
    pupil = session.scalar(select(Pupil).where(Pupil.id == pupil_id, Pupil.school_id == school.id))
    if pupil is None:
        return None
    plans = session.scalars(
        select(Plan)
        .where(Plan.pupil_id == pupil.id)
        .order_by(Plan.cycle_number, Plan.id)
        .options(
            selectinload(Plan.targets),
            selectinload(Plan.provisions).selectinload(PlanProvision.library),
            selectinload(Plan.reports),
        )
    ).all()
    plan_ids = [plan.id for plan in plans]
    reviews = session.scalars(
        select(Review)
        .where(Review.plan_id.in_(plan_ids), Review.status != ReviewStatus.DRAFT)
        .order_by(Review.plan_id, Review.cycle_number)
        .options(selectinload(Review.target_results), selectinload(Review.provision_decisions))
    ).all()
    contributions = session.scalars(
        select(Contribution)
        .where(Contribution.plan_id.in_(plan_ids))
        .order_by(Contribution.submitted_at)
    ).all()
    cycles = []
    for plan in plans:
        started = plan.start_date
        for review in (r for r in reviews if r.plan_id == plan.id):
            cycles.append(_cycle(session, school, plan, review, started, contributions))
            started = review.meeting_date or started
    needs = ", ".join(
        f"{need.label} ({need.value})"
        for need in (pupil.primary_need, pupil.secondary_need)
        if need
    )
    return EvidencePack(
        school=school.name,
        pupil_name=pupil.known_as,
        upn=pupil.upn,
        date_of_birth=pupil.date_of_birth,
        year_group=pupil.year_group,
        sen_stage=pupil.sen_stage.label,
        needs=needs or "None recorded",
        stage_history=[
            sen_history.describe(row) for row in sen_history.history_of(session, pupil.id)
        ],
        cycles=cycles,
        reports=[_report(plan, report) for plan in plans for report in plan.reports],
        generated_on=today,
        transfer=transfer,
        attachments=[
            f"{a.title} ({a.kind_label.lower()}"
            + (f", with the report “{a.report_title}”" if a.report_title else "")
            + f"), attached by {a.by} on {a.uploaded_at:%-d %B %Y}"
            for plan in plans
            for a in attachments.listed(session, plan.id)
        ],
    )


def _cycle(
    session: Session,
    school: School,
    plan: Plan,
    review: Review,
    started: date | None,
    contributions: list[Contribution],
) -> Cycle:
    results = {r.target_id: r for r in review.target_results}
    targets = [
        TargetLine(
            t.description,
            t.measure,
            t.baseline,
            t.success_criteria,
            _result(results.get(t.id)),
            results[t.id].evidence if results.get(t.id) else None,
        )
        for t in sorted(plan.targets, key=lambda t: (t.position, t.id))
        if t.cycle_number == review.cycle_number
    ]
    ended = review.meeting_date
    decided = {d.provision_id: d for d in review.provision_decisions if d.provision_id}
    running = [
        p
        for p in sorted(plan.provisions, key=lambda p: (p.position, p.id))
        if p.id in decided
        or (
            (p.start_date is None or ended is None or p.start_date <= ended)
            and (p.ended_on is None or started is None or p.ended_on >= started)
        )
    ]
    figures = delivery.by_provision(
        session, school.id, [p.id for p in running], since=started, until=ended
    )
    provision = [_provision(p, decided.get(p.id), figures.get(p.id)) for p in running]
    # Decisions about provision removed since: their words were copied into the review.
    provision += [
        ProvisionLine(
            d.provision_what,
            None,
            None,
            None,
            None,
            _decision(d),
            d.effectiveness.label if d.effectiveness else None,
            _snapshot(d) or "not recorded",
            None,
        )
        for d in review.provision_decisions
        if d.provision_id is None
    ]
    feedback = feedback_for(session, plan.id, review.cycle_number)
    return Cycle(
        plan_number=review.cycle_number,
        started_on=started,
        reviewed_on=review.meeting_date,
        review_status="approved" if review.status == ReviewStatus.APPROVED else "submitted",
        targets=targets,
        provision=provision,
        monitoring=feedback.summary,
        monitoring_comments=[
            f"{who}{f' ({subject})' if subject else ''}: {text}"
            for who, subject, text in feedback.comments
        ],
        what_is_working=review.what_is_working,
        what_is_not_working=review.what_is_not_working,
        what_needs_to_change=review.what_needs_to_change,
        next_steps=review.next_steps,
        cyp_views=review.cyp_views,
        family_views=review.family_views,
        family_contributions=[
            f"{c.submitted_at:%-d %B %Y}, {c.contributor_name or 'the family'}"
            f"{f' ({c.contributor_relationship})' if c.contributor_relationship else ''}: "
            f"{c.answers}"
            for c in contributions
            if c.plan_id == plan.id and c.cycle_number == review.cycle_number
        ],
    )


def _result(result) -> str | None:
    return RESULT_WORDS.get(result.result.value) if result and result.result else None


def _provision(p: PlanProvision, decision, figures: delivery.Delivery | None) -> ProvisionLine:
    if decision is not None and decision.sessions_planned is not None:
        delivered = _snapshot(decision)
    elif figures is not None:
        delivered = figures.describe()
    else:
        delivered = "not run through an intervention group: no sessions recorded"
    return ProvisionLine(
        what=p.what,
        who=p.who,
        how_often=p.how_often,
        started_on=p.start_date,
        ended_on=p.ended_on,
        decision=_decision(decision),
        effectiveness=decision.effectiveness.label if decision and decision.effectiveness else None,
        delivered=delivered,
        measure=_measure(p),
    )


def _decision(decision) -> str | None:
    return DECISION_WORDS.get(decision.decision.value) if decision and decision.decision else None


def _snapshot(decision) -> str | None:
    if decision.sessions_planned is None:
        return None
    return delivery.Delivery(decision.sessions_planned, decision.sessions_delivered or 0).describe()


def _measure(p: PlanProvision) -> str | None:
    found = impact.of_provision(p)
    return found.describe() if found is not None else None


def _report(plan: Plan, report) -> ReportLine:
    after = []
    if report.report_date is not None:
        after = [
            f"Provision from {p.start_date:%-d %B %Y}: {p.what}"
            for p in plan.provisions
            if p.start_date is not None and p.start_date >= report.report_date
        ] + [
            f"Target set from {t.start_date:%-d %B %Y}: {t.description}"
            for t in plan.targets
            if t.start_date is not None and t.start_date >= report.report_date
        ]
    return ReportLine(
        report.title, report.author, report.report_date, report.recommendations, after
    )


TEMPLATE = "evidence_pack.html.j2"


def pack_html(pack: EvidencePack) -> str:
    return render_html(TEMPLATE, pack=pack)


def pack_pdf(pack: EvidencePack) -> bytes:
    footer = "Transfer record" if pack.transfer else "Evidence of SEN Support"
    return html_to_pdf(pack_html(pack), footer)


def may_have(viewer: Viewer, plan: Plan, *, transfer: bool) -> bool:
    """The evidence pack: the SENDCo, senior leaders, and the case holder of the open plan. The
    transfer record: the SENDCo, who closes the plan."""
    if plan.school_id != viewer.school_id:
        return False
    if transfer:
        return viewer.is_sendco
    return viewer.sees_whole_school or (
        viewer.is_case_holder
        and plan.case_holder_id == viewer.staff_id
        and plan.status != PlanStatus.CLOSED
    )


def latest_plan(session: Session, school_id: int, pupil_id: int) -> Plan | None:
    """The pupil's open plan, or else their latest closed one."""
    return session.scalars(
        select(Plan)
        .where(Plan.school_id == school_id, Plan.pupil_id == pupil_id)
        .order_by(
            (Plan.status == PlanStatus.CLOSED).asc(), Plan.cycle_number.desc(), Plan.id.desc()
        )
    ).first()


def prepare(
    session: Session, viewer: Viewer, pupil_id: int, *, transfer: bool, now, via: str = VIA
) -> tuple[Plan, bool]:
    """The plan a pack is made for, once the viewer may have it; for a transfer record of a
    pupil who has left, their open plan is closed ("left the school") first. Returns the plan
    and whether it was closed now. UserError (nothing changed) otherwise."""
    plan = latest_plan(session, viewer.school_id, pupil_id)
    refusal = ONLY_SENDCO_TRANSFERS if transfer else NOT_YOURS
    if plan is None:
        # Only those who see every pupil's SEN record hear that there is none: to anyone else
        # "never had a plan" beside "not yours" for a pupil who has one would say who has SEN.
        if not (viewer.is_sendco if transfer else viewer.sees_whole_school):
            raise UserError(refusal)
        pupil = session.scalar(
            select(Pupil).where(Pupil.id == pupil_id, Pupil.school_id == viewer.school_id)
        )
        raise UserError(NO_PLAN.format(name=pupil.known_as if pupil else "That pupil"))
    if not may_have(viewer, plan, transfer=transfer):
        raise UserError(refusal)
    closed = False
    if transfer and plan.status != PlanStatus.CLOSED and not plan.pupil.is_active:
        plan = closure.close_plan(
            session,
            viewer,
            plan_id=plan.id,
            expected_version=None,
            reason=ClosureReason.LEFT_SCHOOL,
            note=None,
            now=now,
            via=via,
        )
        closed = True
    return plan, closed


def filename(pack: EvidencePack, initials: str, plan_id: int, file_format: str) -> str:
    """As the plan's file names: initials and the plan's reference, never the pupil's name."""
    kind = "Transfer-record" if pack.transfer else "SEN-evidence"
    letters = "".join(c for c in initials if c.isalnum()) or "pupil"
    return f"{kind}-{letters}-ref{plan_id}-{pack.generated_on.isoformat()}.{file_format}"
