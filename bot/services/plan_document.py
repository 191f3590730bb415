"""The plan as a document families can read: everything in it, loaded once, for one audience.

Who may export a plan: the SENDCo and senior leaders (any pupil of their school) and the plan's
case holder. A teacher sees only part of a plan (DESIGN §4), so cannot export the whole of it.

A family copy leaves out the staff-only notes listed in STAFF_ONLY_FIELDS and
STAFF_ONLY_TIMELINE_KINDS; the document reads those through PlanDocument.staff_note and
PlanDocument.timeline, which apply the rule, and so does the list of acronyms the document
explains (an acronym used only in a staff note is not listed in the family copy either).
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
from bot.services import audit
from bot.services.glossary import acronyms_in, explain, glossary
from bot.services.quality import provision_texts, target_texts
from models import (
    AgencyInvolvement,
    AuditEvent,
    Plan,
    PlanStatus,
    PlanVoice,
    Pupil,
    Review,
    ReviewStatus,
    ReviewTargetResult,
    TargetStatus,
    TimelineEntry,
    TimelineKind,
)

# Staff-only notes: written by staff for staff, and left out of the family copy.
# - PlanVoice.professional_concerns: professionals' concerns, which the school shares with the
#   family in a conversation, not in a document handed over.
# - AgencyInvolvement.contact: a named professional's contact details.
# - Pupil.other_information: the MIS's free-text "other" (it can hold safeguarding context).
# - Timeline entries of kind "note": staff's own working notes on the plan's chronology.
# Everything else in the plan is written with and for the child and family.
STAFF_ONLY_FIELDS: frozenset[tuple[type, str]] = frozenset(
    {
        (PlanVoice, "professional_concerns"),
        (AgencyInvolvement, "contact"),
        (Pupil, "other_information"),
    }
)
STAFF_ONLY_TIMELINE_KINDS: frozenset[TimelineKind] = frozenset({TimelineKind.NOTE})

# Words the template prints itself that contain acronyms, so the acronyms box explains them
# (labels of codes, such as "Personal Education Plan (PEP)", are added where they are shown).
TEMPLATE_WORDS = ("SEN Support Plan", "Plan number in the APDR cycle", "EAL")


class Audience(enum.StrEnum):
    STAFF = "staff"
    FAMILY = "family"


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
    recipient_staff_id: int
    via: str
    sent_by: str
    now: datetime
    viewer_school_id: int
    viewer_staff_id: int
    acronyms: list[Acronym] = field(default_factory=list)

    @property
    def is_family_copy(self) -> bool:
        return self.audience == Audience.FAMILY

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
        """The chronology, without staff-only notes in a family copy."""
        return [
            entry
            for entry in self.plan.timeline
            if not (self.is_family_copy and entry.kind in STAFF_ONLY_TIMELINE_KINDS)
        ]

    def staff_note(self, row: object | None, name: str) -> str | None:
        """A staff-only field's text, or None in a family copy (or when the row is missing)."""
        if row is None:
            return None
        if (type(row), name) not in STAFF_ONLY_FIELDS:
            raise ValueError(f"{type(row).__name__}.{name} is not a staff-only field")
        return None if self.is_family_copy else getattr(row, name)

    def local_date(self, moment: datetime) -> date:
        """The date of a stored (UTC) moment where the school is."""
        return moment.astimezone(ZoneInfo(self.timezone)).date()

    @property
    def audit_detail(self) -> str:
        return f"{self.audience} copy sent to staff {self.recipient_staff_id} by {self.sent_by}"


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
    sent_by: str = "Slack DM",
) -> PlanDocument | None:
    """The pupil's open plan with everything in it, for `audience`, if the viewer may export it.

    Returns None when the pupil is not one the viewer can see (not found and not allowed look
    the same). Raises ExportNotAllowed when the viewer sees the pupil but may not read the
    whole plan (a teacher), and NoPlanToExport when there is no open plan. Loads the plan in a
    fixed number of queries however long it is. Writes nothing: call `record_export` once the
    document has reached its recipient, so the audit log never claims a send that failed.
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
        .options(
            selectinload(Plan.school),
            selectinload(Plan.case_holder),
            selectinload(Plan.voice),
            selectinload(Plan.circle_of_support),
            selectinload(Plan.needs),
            selectinload(Plan.adjustments),
            selectinload(Plan.outcomes),
            selectinload(Plan.targets),
            selectinload(Plan.provisions),
            selectinload(Plan.agencies),
            selectinload(Plan.reports),
            selectinload(Plan.linked_plans),
            selectinload(Plan.people),
            selectinload(Plan.consents),
            selectinload(Plan.timeline).selectinload(TimelineEntry.author),
        )
    )
    may_export = viewer.sees_whole_school or (
        plan is not None and plan.case_holder_id == viewer.staff_id
    )
    if not may_export:
        raise ExportNotAllowed()
    if plan is None:
        raise NoPlanToExport(pupil.known_as)
    # Finished reviews only: a draft is a case holder's work in progress, not a record.
    reviews = list(
        session.scalars(
            select(Review)
            .where(Review.plan_id == plan.id, Review.status != ReviewStatus.DRAFT)
            .options(selectinload(Review.target_results).selectinload(ReviewTargetResult.target))
            .order_by(Review.cycle_number)
        )
    )
    document = PlanDocument(
        pupil=pupil,
        plan=plan,
        school_name=plan.school.name,
        timezone=plan.school.timezone,
        audience=audience,
        reviews=reviews,
        today=today,
        recipient_staff_id=recipient_staff_id,
        via=via,
        sent_by=sent_by,
        now=now,
        viewer_school_id=viewer.school_id,
        viewer_staff_id=viewer.staff_id,
    )
    meanings = explain(glossary(session, viewer.school_id), acronyms_in(_texts(document)))
    # In alphabetical order, like a glossary, so a reader can look one up.
    acronyms = [Acronym(a, meanings[a]) for a in sorted(meanings, key=str.casefold)]
    return replace(document, acronyms=acronyms)


def record_export(session: Session, document: PlanDocument) -> AuditEvent:
    """Audits the export (one row: who, which plan, which copy, to whom). The caller commits."""
    return audit.record(
        session,
        action="export",
        via=document.via,
        now=document.now,
        school_id=document.viewer_school_id,
        staff_id=document.viewer_staff_id,
        plan=document.plan,
        pupil=document.pupil,
        detail=document.audit_detail,
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
            review.recommendations,
            review.cyp_views,
            review.family_views,
            review.attendees,
        )
        yield from (result.evidence for result in review.target_results)
    yield from (person.relationship_to_cyp for person in plan.people)
    for consent in plan.consents:
        yield from (consent.relationship_to_cyp, consent.scope, consent.storage_notes)
    yield from (entry.summary for entry in document.timeline)
