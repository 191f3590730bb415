"""The plan as a document families can read: everything in it, loaded once, for one audience.

Who may export a plan: the SENDCo and senior leaders (any pupil of their school) and the plan's
case holder. A teacher sees only part of a plan (DESIGN §4), so cannot export the whole of it.

Three copies (DESIGN §4: "the family's copy holds only what is meant for the family"):
- the staff copy: everything, staff-only notes marked;
- the family copy: what is meant for the family, and nothing of staff workflow. It leaves out
  the staff-only fields in STAFF_ONLY_FIELDS and every timeline entry that is not meant for the
  family (FAMILY_TIMELINE_KINDS, or `shared_with_family`): why a plan was delegated or declined,
  QA comments and internal notes are all timeline entries of other kinds;
- the copy for professionals outside the school (agencies): what the family copy holds, and only
  when the plan's recorded sharing consent covers it (`sharing_of`).
The document reads staff-only parts through PlanDocument.staff_note and PlanDocument.timeline,
which apply the rule, and so does the list of acronyms the document explains (an acronym used
only in a staff note is not listed in an outside copy either).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.access import Viewer, visible_pupils
from bot.document import label
from bot.errors import UserError
from bot.services import audit, impact
from bot.services.agreement_status import AgreementStatus
from bot.services.agreement_status import latest as latest_agreement
from bot.services.glossary import acronyms_in, explain, glossary
from bot.services.provision_library import ended_summary, measure_summary
from bot.services.quality import provision_texts, target_texts
from models import (
    AgencyInvolvement,
    AuditEvent,
    Plan,
    PlanProvision,
    PlanStatus,
    PlanVoice,
    ProvisionDecision,
    Pupil,
    Review,
    ReviewProvisionDecision,
    ReviewStatus,
    ReviewTargetResult,
    SharingConsent,
    TargetStatus,
    TimelineEntry,
    TimelineKind,
)

# Staff-only notes: written by staff for staff, and left out of the family copy.
# - PlanVoice.professional_concerns: professionals' concerns, which the school shares with the
#   family in a conversation, not in a document handed over.
# - AgencyInvolvement.contact: a named professional's contact details.
# - Pupil.other_information: the MIS's free-text "other" (it can hold safeguarding context).
# - Review.family_views_missing_reason: why staff could not gather the family's views for a
#   review ("no answer to three calls"); the family's copy says only that they were not gathered.
# Everything else in the plan's sections is written with and for the child and family; the
# timeline is sorted by FAMILY_TIMELINE_KINDS below.
STAFF_ONLY_FIELDS: frozenset[tuple[type, str]] = frozenset(
    {
        (PlanVoice, "professional_concerns"),
        (AgencyInvolvement, "contact"),
        (Pupil, "other_information"),
        (Review, "family_views_missing_reason"),
        # Why a provision ended: written for colleagues ("TA left", "poor engagement").
        (PlanProvision, "ended_reason"),
    }
)
# The timeline entries meant for the family: meetings and communications with them, and reviews.
# Every other kind is staff workflow (notes, plan changes with their QA comments, delegations
# with their reasons, declines with a case holder's private reasons) and stays out of the
# family's copy unless someone marked the entry `shared_with_family`. A kind added later is
# staff-only until it is listed here, so nothing reaches the family by default.
FAMILY_TIMELINE_KINDS: frozenset[TimelineKind] = frozenset(
    {
        TimelineKind.MEETING,
        TimelineKind.PHONE_CALL,
        TimelineKind.EMAIL,
        TimelineKind.LETTER,
        TimelineKind.REVIEW,
    }
)

# A review's decision about one provision (bot.services.reviews asks "continue, adapt or stop").
DECISION_WORDS: dict[ProvisionDecision, str] = {
    ProvisionDecision.CONTINUE: "Continue",
    ProvisionDecision.ADAPT: "Change how it is done",
    ProvisionDecision.STOP: "Stop",
}

# Words the template prints itself that contain acronyms, so the acronyms box explains them
# (labels of codes, such as "Personal Education Plan (PEP)", are added where they are shown).
TEMPLATE_WORDS = ("SEN Support Plan", "Plan number in the APDR cycle", "EAL")


class Audience(enum.StrEnum):
    STAFF = "staff"
    FAMILY = "family"  # the child and family: the people who give consent to share
    AGENCY = "agency"  # professionals outside the school: only with the family's consent


# Copies that leave the school for someone other than the family, so need recorded consent.
NEEDS_CONSENT: frozenset[Audience] = frozenset({Audience.AGENCY})

COPY_NAMES = {
    Audience.STAFF: "staff copy",
    Audience.FAMILY: "family copy",
    Audience.AGENCY: "copy for professionals outside the school",
}


@dataclass(frozen=True)
class Sharing:
    """What the plan's recorded consent lets leave the school, on one day.

    `withdrawal` is a withdrawal in force: the latest consent withdrawn by then, with no consent
    given on or after that day. It stops every copy that needs consent, whoever gave the other
    consents: a withdrawal is the family's latest word.
    """

    in_force: tuple[SharingConsent, ...]
    withdrawal: SharingConsent | None

    @property
    def covers_outside_school(self) -> bool:
        return self.withdrawal is None and any(c.outside_school for c in self.in_force)


def sharing_of(consents: list[SharingConsent], today: date) -> Sharing:
    """The consent in force on `today`, from a plan's consent rows (in any order)."""

    def withdrawn(consent: SharingConsent) -> bool:
        return consent.withdrawn_on is not None and consent.withdrawn_on <= today

    in_force = tuple(c for c in consents if c.given_on <= today and not withdrawn(c))
    withdrawal = max(
        (c for c in consents if withdrawn(c)),
        key=lambda c: (c.withdrawn_on, c.id or 0),
        default=None,
    )
    if withdrawal is not None and any(c.given_on >= withdrawal.withdrawn_on for c in in_force):
        withdrawal = None  # consent was given again since
    return Sharing(in_force, withdrawal)


@dataclass(frozen=True)
class ExportRefused:
    """Why a copy may not leave the school: `detail` for the audit log (no pupil data),
    `message` for the asker."""

    detail: str
    message: str


class NoPlanToExport(UserError):
    """The viewer may see the pupil, but the pupil has no open plan to export."""

    def __init__(self, pupil_name: str) -> None:
        super().__init__(f"{pupil_name} has no SEN Support Plan to export yet.")


class ExportNotAllowed(UserError):
    """The viewer may see the pupil (they teach them) but not the whole plan."""

    def __init__(self) -> None:
        super().__init__(
            "Only the SENDCo, senior leaders and the plan's case holder can export a plan. "
            "`/ssp pupil` shows you what you need to teach this pupil."
        )


@dataclass(frozen=True)
class Acronym:
    acronym: str
    meaning: str | None  # None: not yet in the school's glossary


@dataclass(frozen=True)
class PlanDocument:
    """Everything the plan document shows, for one audience.

    Read staff-only notes through `staff_note(...)` and the chronology through `timeline`:
    both leave the staff-only parts out of a family copy.
    """

    pupil: Pupil
    plan: Plan
    school_name: str
    timezone: str
    audience: Audience
    reviews: list[Review]
    today: date
    # None for the family's own copy on their agreement page: no member of staff asked.
    recipient_staff_id: int | None
    via: str
    now: datetime
    viewer_school_id: int
    viewer_staff_id: int | None
    sharing: Sharing
    acronyms: list[Acronym] = field(default_factory=list)
    # The family's latest answer on the agreement page ("Agreed by Mrs Khan (mother) on …").
    agreement: AgreementStatus | None = None
    # Files attached to the plan (title, kind, who, when): the staff copy only.
    attached: list = field(default_factory=list)  # bot.services.attachments.Listed

    @property
    def is_staff_copy(self) -> bool:
        return self.audience == Audience.STAFF

    @property
    def is_family_copy(self) -> bool:
        return self.audience == Audience.FAMILY

    @property
    def copy_name(self) -> str:
        return COPY_NAMES[self.audience]

    @property
    def refused(self) -> ExportRefused | None:
        """Why this copy may not be sent, or None: copies for anyone outside the school other
        than the family follow the recorded consent (DESIGN §4)."""
        if self.audience not in NEEDS_CONSENT or self.sharing.covers_outside_school:
            return None
        name, withdrawal = self.pupil.known_as, self.sharing.withdrawal
        detail = f"{self.audience} copy refused: "
        if withdrawal is not None:
            return ExportRefused(
                detail + "sharing consent withdrawn",
                f"{withdrawal.given_by} withdrew consent to share {name}'s plan on "
                f"{withdrawal.withdrawn_on:%-d %B %Y}, so I can't make a copy for anyone outside "
                "the school. You can still export the staff copy, and the family's own copy "
                "with `--for family`. If consent is given again, record it in the plan's "
                "Sharing consent section (`/ssp plan`) first.",
            )
        if not self.sharing.in_force:
            return ExportRefused(
                detail + "no sharing consent recorded",
                f"No sharing consent is recorded for {name}'s plan, so I can't make a copy for "
                "anyone outside the school. When the family agrees, record it in the plan's "
                "Sharing consent section (`/ssp plan`), ticking “May be sent to professionals "
                "outside the school”.",
            )
        return ExportRefused(
            detail + "consent does not cover sharing outside",
            f"The sharing consent recorded for {name}'s plan doesn't cover professionals "
            "outside the school, so I can't make a copy for them. If the family agrees, record "
            "it in the plan's Sharing consent section (`/ssp plan`), ticking “May be sent to "
            "professionals outside the school”.",
        )

    @property
    def current_targets(self) -> list:
        """This cycle's targets, and older ones still open: earlier results are in reviews."""
        return [
            t
            for t in self.plan.targets
            if t.cycle_number == self.plan.cycle_number or t.status == TargetStatus.OPEN
        ]

    @property
    def timeline(self) -> list[TimelineEntry]:
        """The chronology: in a copy for anyone but staff, only the entries meant for the
        family."""
        return [
            entry for entry in self.plan.timeline if self.is_staff_copy or not is_staff_only(entry)
        ]

    def is_staff_only(self, entry: TimelineEntry) -> bool:
        """Whether a timeline entry is staff workflow (marked so in the staff copy)."""
        return is_staff_only(entry)

    def staff_note(self, row: object | None, name: str) -> str | None:
        """A staff-only field's text, or None in a copy for anyone but staff (or when the row
        is missing)."""
        if row is None:
            return None
        if (type(row), name) not in STAFF_ONLY_FIELDS:
            raise ValueError(f"{type(row).__name__}.{name} is not a staff-only field")
        return getattr(row, name) if self.is_staff_copy else None

    def measure(self, provision: PlanProvision) -> str | None:
        """A provision's impact measure, entry to exit, in words."""
        return measure_summary(provision)

    def ran(self, provision: PlanProvision) -> str:
        """When an ended provision ran."""
        return ended_summary(provision)

    def for_families(self, provision: PlanProvision) -> str | None:
        """The library's description of a provision, written for families: in the family's
        (and an agency's) copy, where staff shorthand would not be understood."""
        if self.is_staff_copy or provision.library is None:
            return None
        return provision.library.description

    def decision_words(self, decision: ProvisionDecision | None) -> str | None:
        """What a review decided about a provision, in the family's words."""
        return DECISION_WORDS.get(decision) if decision else None

    def decision_rating(self, decision: ReviewProvisionDecision) -> str | None:
        """How effective the review found a provision ("Partly effective")."""
        return decision.effectiveness.label if decision.effectiveness else None

    def decision_delivery(self, decision: ReviewProvisionDecision) -> str:
        """How much of it was delivered in the cycle the review judged, as the review saw it."""
        planned, delivered = decision.sessions_planned, decision.sessions_delivered or 0
        if planned is None:
            return "No sessions recorded"
        if not planned:
            return "No sessions due"
        return f"{delivered} of {planned} sessions ({delivered / planned:.0%})"

    def decision_progress(self, decision: ReviewProvisionDecision) -> str | None:
        """The provision's entry and exit measures and the change, e.g. "Reading age 8y 2m →
        8y 9m (+7 months)" (None: no measure, or the provision is no longer in the plan)."""
        provision = next((p for p in self.plan.provisions if p.id == decision.provision_id), None)
        measured = impact.of_provision(provision) if provision is not None else None
        return measured.describe() if measured else None

    def local_date(self, moment: datetime) -> date:
        """The date of a stored (UTC) moment where the school is."""
        return moment.astimezone(ZoneInfo(self.timezone)).date()


def is_staff_only(entry: TimelineEntry) -> bool:
    """Staff workflow, left out of every copy but the staff's."""
    return entry.kind not in FAMILY_TIMELINE_KINDS and not entry.shared_with_family


def load_plan_document(
    session: Session,
    viewer: Viewer,
    pupil_id: int,
    *,
    audience: Audience | str,
    recipient_staff_id: int,
    via: str,
    now: datetime,
    today: date,
) -> PlanDocument | None:
    """The pupil's open plan with everything in it, for `audience`, if the viewer may export it.

    Returns None when the pupil is not one the viewer can see (not found and not allowed look
    the same). Raises ExportNotAllowed when the viewer sees the pupil but may not read the
    whole plan (a teacher), and NoPlanToExport when there is no open plan. Loads the plan in a
    fixed number of queries however long it is. Writes nothing: check `document.refused` (and
    `record_refusal` when it is set); the document is audited as sent when its download link is
    used (bot.services.download_links), so the audit log never claims a send that failed.
    """
    audience = Audience(audience)
    pupil = session.scalar(select(Pupil).where(Pupil.id == pupil_id, visible_pupils(viewer)))
    if pupil is None:
        return None
    plan = session.scalar(
        select(Plan)
        .where(
            Plan.pupil_id == pupil.id,
            Plan.school_id == viewer.school_id,
            Plan.status != PlanStatus.CLOSED,
        )
        .options(*_WHOLE_DOCUMENT)
    )
    may_export = viewer.sees_whole_school or (
        plan is not None and plan.case_holder_id == viewer.staff_id
    )
    if not may_export:
        raise ExportNotAllowed()
    if plan is None:
        raise NoPlanToExport(pupil.known_as)
    return _document(
        session,
        plan,
        audience=audience,
        recipient_staff_id=recipient_staff_id,
        via=via,
        now=now,
        today=today,
        viewer_staff_id=viewer.staff_id,
    )


def load_family_copy(
    session: Session, plan_id: int, *, via: str, now: datetime, today: date
) -> PlanDocument | None:
    """The family copy of an open plan, for the family's own page (bot.services.agreements),
    where no member of staff is asking: the caller has checked the family's link and the pupil's
    date of birth. None when the plan is closed or gone. Writes nothing; the caller audits."""
    plan = session.scalar(
        select(Plan)
        .where(Plan.id == plan_id, Plan.status != PlanStatus.CLOSED)
        .options(selectinload(Plan.pupil), *_WHOLE_DOCUMENT)
    )
    if plan is None:
        return None
    return _document(
        session,
        plan,
        audience=Audience.FAMILY,
        recipient_staff_id=None,
        via=via,
        now=now,
        today=today,
        viewer_staff_id=None,
    )


_WHOLE_DOCUMENT = (
    selectinload(Plan.school),
    selectinload(Plan.case_holder),
    selectinload(Plan.voice),
    selectinload(Plan.circle_of_support),
    selectinload(Plan.needs),
    selectinload(Plan.adjustments),
    selectinload(Plan.outcomes),
    selectinload(Plan.targets),
    selectinload(Plan.provisions).selectinload(PlanProvision.library),
    selectinload(Plan.agencies),
    selectinload(Plan.reports),
    selectinload(Plan.linked_plans),
    selectinload(Plan.people),
    selectinload(Plan.consents),
    selectinload(Plan.timeline).selectinload(TimelineEntry.author),
)


def _document(
    session: Session,
    plan: Plan,
    *,
    audience: Audience,
    recipient_staff_id: int | None,
    via: str,
    now: datetime,
    today: date,
    viewer_staff_id: int | None,
) -> PlanDocument:
    # Finished reviews only: a draft is a case holder's work in progress, not a record.
    reviews = list(
        session.scalars(
            select(Review)
            .where(Review.plan_id == plan.id, Review.status != ReviewStatus.DRAFT)
            .options(
                selectinload(Review.target_results).selectinload(ReviewTargetResult.target),
                selectinload(Review.provision_decisions),
            )
            .order_by(Review.cycle_number)
        )
    )
    document = PlanDocument(
        pupil=plan.pupil,
        plan=plan,
        school_name=plan.school.name,
        timezone=plan.school.timezone,
        audience=audience,
        reviews=reviews,
        today=today,
        recipient_staff_id=recipient_staff_id,
        via=via,
        now=now,
        viewer_school_id=plan.school_id,
        viewer_staff_id=viewer_staff_id,
        sharing=sharing_of(plan.consents, today),
        agreement=latest_agreement(session, plan),
        attached=_attached(session, plan) if audience == Audience.STAFF else [],
    )
    meanings = explain(glossary(session, plan.school_id), acronyms_in(_texts(document)))
    # In alphabetical order, like a glossary, so a reader can look one up.
    acronyms = [Acronym(a, meanings[a]) for a in sorted(meanings, key=str.casefold)]
    return replace(document, acronyms=acronyms)


def _attached(session: Session, plan: Plan) -> list:
    # Imported here: attachments checks who may edit a plan (plan_editing), which reaches this
    # module through the pupils' lookups.
    from bot.services import attachments

    return attachments.listed(session, plan.id)


def record_refusal(session: Session, document: PlanDocument) -> AuditEvent:
    """Audits a copy refused because consent does not let it leave the school (one row: who,
    which plan, which copy, why). The caller commits."""
    if document.refused is None:
        raise ValueError("this copy was not refused")
    return _audit(session, document, "export_refused", document.refused.detail)


def _audit(session: Session, document: PlanDocument, action: str, detail: str) -> AuditEvent:
    return audit.record(
        session,
        action=action,
        via=document.via,
        now=document.now,
        school_id=document.viewer_school_id,
        staff_id=document.viewer_staff_id,
        plan=document.plan,
        pupil=document.pupil,
        detail=detail,
    )


def _texts(document: PlanDocument) -> Iterator[str | None]:
    """Every text the document shows this audience that may use an acronym.

    People's names are left out: "McDonald" is a name, not an acronym to explain.
    """
    pupil, plan = document.pupil, document.plan
    yield from TEMPLATE_WORDS
    yield label(pupil.sen_stage)
    yield from (need.value for need in (pupil.primary_need, pupil.secondary_need) if need)
    yield document.staff_note(pupil, "other_information")
    for linked in plan.linked_plans:
        yield label(linked.kind)
        yield linked.description
        yield linked.location
    voice = plan.voice
    if voice is not None:
        yield from (
            voice.aspirations,
            voice.important_to_me,
            voice.strengths_and_likes,
            voice.liked_and_admired,
            voice.difficulties,
            voice.how_to_support_me,
            voice.good_day,
            voice.bad_day,
            voice.better_days,
            voice.about_me,
            voice.family_hopes,
            voice.family_concerns,
            document.staff_note(voice, "professional_concerns"),
        )
    yield from (member.relationship_to_cyp for member in plan.circle_of_support)
    for need in plan.needs:
        yield need.census_code.value if need.census_code else None
        yield label(need.source) if need.source else None
        yield need.description
    yield from (adjustment.description for adjustment in plan.adjustments)
    for outcome in plan.outcomes:
        yield outcome.description
        yield outcome.timescale
        yield "EHCP" if outcome.from_ehcp else None
    for target in plan.targets:
        yield from target_texts(target)
    for provision in plan.provisions:
        yield from provision_texts(provision)
        yield document.for_families(provision)
        yield provision.measure_name
        if provision.ended_on is not None:
            yield document.staff_note(provision, "ended_reason")
    for agency in plan.agencies:
        yield agency.agency
        yield agency.involvement
    for report in plan.reports:
        yield from (report.title, report.recommendations, report.location)
    for review in document.reviews:
        yield from (
            review.what_is_working,
            review.what_is_not_working,
            review.what_needs_to_change,
            review.next_steps,
            review.new_outcomes,
            review.recommendations,
            review.cyp_views,
            review.family_views,
            document.staff_note(review, "family_views_missing_reason"),
            review.attendees,
        )
        yield from (result.evidence for result in review.target_results)
        yield from (decision.provision_what for decision in review.provision_decisions)
    yield from (person.relationship_to_cyp for person in plan.people)
    for consent in plan.consents:
        yield from (consent.relationship_to_cyp, consent.scope, consent.storage_notes)
    yield from (entry.summary for entry in document.timeline)
