"""The family's agreement to the plan (issue 17): a parent or carer, through an "agreement" link
(bot.services.family), reads the family copy of the plan and says whether they agree (typed
name, relationship, date), what they disagree with, and who may see the plan.

What is kept (models.PlanAgreement): their answer, the plan version they were shown, and that
family copy exactly as HTML, rendered when they answered at the version they read (with their
answer on it), so what they agreed to stays on record and their PDF is that document.

On "Yes, I agree", their sharing consent goes into the plan's Sharing consent section (a
SharingConsent: `outside_school` only when they named services, the scope in their words) and a
timeline entry says who agreed. None of this is a change to what the plan says, so the plan's
version does not move on: the agreement reads "Agreed by Mrs Khan (mother) on 4 March 2026"
until someone changes the plan, then "… to an earlier version" (bot.services.agreement_status).
That is also why it is not saved through plan_editing.save, which moves the version on and
needs a member of staff as the editor; it is audited and put on the timeline here instead.

The case holder gets a DM naming only the pupil and the ask; what was said opens in a modal,
for the plan's case holder or a SENDCo only (the same rule as bot.services.family).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.access import Viewer
from bot.document import long_date, render_html
from bot.errors import UserError
from bot.services import audit, family
from bot.services.plan_document import load_family_copy
from bot.services.plan_pdf import html_to_pdf, plan_html
from models import (
    AgreementDecision,
    Invitation,
    Plan,
    PlanAgreement,
    Prompt,
    PromptKind,
    School,
    SharingChoice,
    SharingConsent,
    TimelineEntry,
    TimelineKind,
)

NAME_LENGTH = 100
DISAGREEMENT_LENGTH = 2000
OTHER_AGENCIES_LENGTH = 500
VIA_WEB = family.VIA_WEB
SHARING_WORDS = {
    SharingChoice.SCHOOL_STAFF: "School staff only",
    SharingChoice.NAMED_AGENCIES: "School staff and the services named",
}


@dataclass(frozen=True)
class Agency:
    value: str  # the AgencyInvolvement's id, as the form's checkbox carries it
    name: str


@dataclass(frozen=True)
class AgreementPage:
    """The agreement page after the date-of-birth check."""

    school_name: str
    first_name: str
    plan_version: int
    plan_body: str  # the family copy's content as HTML (escaped), for the page to include
    agencies: tuple[Agency, ...]
    today: date
    # This link's own "Yes, I agree" is on record: the page offers their PDF.
    agreed_here: bool
    # Submissions left on the link: none, and the page shows the plan and the download only.
    may_answer: bool


def page(session: Session, link: Invitation, now: datetime) -> AgreementPage | None:
    """What the agreement page shows; None when the plan is closed or gone. Audits the read."""
    school = session.get(School, link.school_id)
    today = school.local_date(now)
    document = load_family_copy(session, link.plan_id, via=VIA_WEB, now=now, today=today)
    if document is None:
        return None
    family.audit_page(session, link, now, "read", "read the family copy on the agreement page")
    return AgreementPage(
        school_name=school.name,
        first_name=link.pupil.preferred_name or link.pupil.first_name,
        plan_version=document.plan.version,
        plan_body=render_html("plan_document_body.html.j2", doc=document, embedded=True),
        agencies=_agencies(document.plan),
        today=today,
        agreed_here=agreed_by_link(session, link) is not None,
        may_answer=link.submissions < link.max_submissions,
    )


def _agencies(plan: Plan) -> tuple[Agency, ...]:
    seen: set[str] = set()
    shown = []
    for agency in sorted(plan.agencies, key=lambda a: a.id):
        key = agency.agency.strip().casefold()
        if key and key not in seen:
            seen.add(key)
            shown.append(Agency(str(agency.id), agency.agency.strip()))
    return tuple(shown)


class PlanMoved(UserError):
    """The plan changed while the family was reading it: nothing was saved."""

    def __init__(self) -> None:
        super().__init__(
            "The school changed the plan while you were reading it. Please read it again below, "
            "then send your answer."
        )


def submit(
    session: Session,
    link: Invitation,
    *,
    shown_version: int,
    decision: AgreementDecision,
    name: str,
    relationship: str,
    agreed_on: date,
    disagreement: str | None,
    sharing: SharingChoice,
    agency_values: list[str],
    other_agencies: str | None,
    now: datetime,
) -> PlanAgreement:
    """Records the answer, counts a submission on the link, queues the case holder's DM and,
    on agreement, records the sharing consent on the plan. The caller checked the link is usable
    and its date of birth confirmed, and the form (lengths, required answers). Raises PlanMoved
    when the plan is no longer the version they read (nothing is saved)."""
    school = session.get(School, link.school_id)
    today = school.local_date(now)
    plan = session.get(Plan, link.plan_id)
    if plan.version != shown_version:
        raise PlanMoved()
    named = [a.name for a in _agencies(plan) if a.value in set(agency_values)]
    other = (other_agencies or "").strip() or None
    if sharing == SharingChoice.SCHOOL_STAFF:
        named, other = [], None
    if not family.take_submission(session, link):
        raise family.UsedUp()
    agreement = PlanAgreement(
        school_id=link.school_id,
        plan_id=plan.id,
        invitation_id=link.id,
        cycle_number=plan.cycle_number,
        plan_version=plan.version,
        decision=decision,
        name=name.strip()[:NAME_LENGTH],
        relationship_to_cyp=relationship.strip()[:NAME_LENGTH],
        agreed_on=agreed_on,
        disagreement=(disagreement or "").strip() or None
        if decision == AgreementDecision.DISAGREED
        else None,
        sharing=sharing,
        agencies=json.dumps(named),
        other_agencies=other[:OTHER_AGENCIES_LENGTH] if other else None,
        submitted_at=now,
        family_copy="",
    )
    session.add(agreement)
    session.flush()
    who = f"{agreement.name} ({agreement.relationship_to_cyp})"
    if decision == AgreementDecision.AGREED:
        session.add(
            SharingConsent(
                plan_id=plan.id,
                given_by=agreement.name,
                relationship_to_cyp=agreement.relationship_to_cyp,
                scope=sharing_scope(agreement),
                given_on=agreed_on,
                outside_school=bool(named or other),
            )
        )
        summary = f"{who} agreed to the plan on the family page, and to who may see it"
    else:
        summary = f"{who} said on the family page that they disagree with parts of the plan"
    # The family's own word: theirs to see in their copy too.
    session.add(
        TimelineEntry(
            plan_id=plan.id,
            occurred_at=now,
            kind=TimelineKind.NOTE,
            summary=summary,
            shared_with_family=True,
        )
    )
    session.flush()
    session.expire(plan)  # the consent and timeline rows above, in the copy kept next
    # The copy they read, at the version they read, with their answer on it.
    document = load_family_copy(session, plan.id, via=VIA_WEB, now=now, today=today)
    agreement.family_copy = plan_html(document)
    prompt = family.tell(
        session, plan, plan.case_holder_id or link.created_by_id, PromptKind.PLAN_AGREED,
        f"plan_agreed:{agreement.id}", now,
    )  # fmt: skip
    agreement.prompt_id = prompt.id
    family.audit_page(
        session, link, now, "create",
        f"sent agreement {agreement.id} ({decision.value}, plan version {plan.version})"
        + ("; sharing consent recorded" if decision == AgreementDecision.AGREED else ""),
    )  # fmt: skip
    if plan.version != shown_version:  # nothing above may move the version on
        raise RuntimeError("recording an agreement changed the plan's version")
    return agreement


def sharing_scope(agreement: PlanAgreement) -> str:
    """Who may see the plan, in the words of the family's answer."""
    named = json.loads(agreement.agencies)
    if agreement.other_agencies:
        named.append(agreement.other_agencies)
    if agreement.sharing == SharingChoice.SCHOOL_STAFF or not named:
        return "School staff only (given on the family page)."
    return f"School staff, and: {'; '.join(named)} (given on the family page)."


def agreed_by_link(session: Session, link: Invitation) -> PlanAgreement | None:
    """This link's latest "Yes, I agree", if any."""
    return session.scalar(
        select(PlanAgreement)
        .where(
            PlanAgreement.invitation_id == link.id,
            PlanAgreement.decision == AgreementDecision.AGREED,
        )
        .order_by(PlanAgreement.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class FamilyPdf:
    body: bytes
    filename: str


def family_pdf(session: Session, link: Invitation, now: datetime) -> FamilyPdf | None:
    """The plan they agreed to, as a PDF printed from the copy kept when they agreed (never the
    plan as it is now); None when this link has no agreement. Audited."""
    agreement = agreed_by_link(session, link)
    if agreement is None:
        family.audit_page(session, link, now, audit.REFUSED, "plan PDF refused: not agreed")
        return None
    family.audit_page(
        session, link, now, "export",
        f"family copy PDF of agreement {agreement.id} downloaded from the family page",
    )  # fmt: skip
    body = html_to_pdf(
        agreement.family_copy, f"Family copy, as agreed on {long_date(agreement.agreed_on)}"
    )
    initials = "".join(c for c in link.pupil.initials if c.isalnum()) or "pupil"
    return FamilyPdf(body, f"SSP-{initials}-plan-agreed-{agreement.agreed_on.isoformat()}.pdf")


# --- back in Slack: the DM and reading it -----------------------------------------------------


@dataclass(frozen=True)
class Arrived:
    agreement_id: int
    pupil_name: str
    agreed: bool


def arrived(session: Session, prompt: Prompt) -> Arrived | None:
    agreement = session.scalar(select(PlanAgreement).where(PlanAgreement.prompt_id == prompt.id))
    if agreement is None:
        return None
    plan = session.get(Plan, agreement.plan_id)
    return Arrived(
        agreement.id,
        family.message_name(session, plan),
        agreement.decision == AgreementDecision.AGREED,
    )


@dataclass(frozen=True)
class Reading:
    pupil_name: str
    who: str
    agreed: bool
    on: date
    submitted_on: date
    disagreement: str | None
    sharing: str
    current: bool


def read(session: Session, viewer: Viewer, agreement_id: int, now: datetime) -> Reading:
    """The family's answer, for the plan's case holder or a SENDCo (audited; anyone else is
    refused with NotAllowed, audited too, and another school's id is not found)."""
    agreement, plan = family.answer_for(
        session, viewer, PlanAgreement, agreement_id, now, "read agreement"
    )
    school = session.get(School, plan.school_id)
    audit.record_by(
        session, viewer, action="read", via=family.VIA_SLACK, now=now, plan=plan,
        detail=f"read agreement {agreement.id}",
    )  # fmt: skip
    return Reading(
        pupil_name=plan.pupil.known_as,
        who=f"{agreement.name} ({agreement.relationship_to_cyp})",
        agreed=agreement.decision == AgreementDecision.AGREED,
        on=agreement.agreed_on,
        submitted_on=school.local_date(agreement.submitted_at),
        disagreement=agreement.disagreement,
        sharing=sharing_scope(agreement),
        current=agreement.plan_version == plan.version,
    )
