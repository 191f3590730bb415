"""Writing a plan section by section: what each section holds, and saving it safely.

Sections are described as data (fields, kinds, which are required) so the Slack forms, the
validation and the saving all follow one description. Saving goes through `edit_plan`, so two
people editing at once can never silently overwrite each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, object_session, selectinload

from bot.access import Viewer, visible_pupils
from bot.errors import UserError
from bot.services import audit, glossary, review_forward
from bot.services.calendar import SchoolCalendar, load_calendar
from bot.services.csv_import import BadValue
from bot.services.plans import edit_plan, new_draft_plan
from bot.services.provision_library import parse_measure, show_measure
from bot.services.pupils import MATCH_COLUMNS, MAX_MATCHES, PupilMatch, matching
from models import (
    AdjustmentKind,
    AgencyInvolvement,
    AgencyReport,
    AssignmentStatus,
    BroadArea,
    CaseHolderAssignment,
    CircleMember,
    LibraryProvision,
    LinkedPlan,
    LinkedPlanKind,
    MeasureKind,
    NeedCode,
    NeedSource,
    Plan,
    PlanAdjustment,
    PlanNeed,
    PlanOutcome,
    PlanPerson,
    PlanPersonRole,
    PlanProvision,
    PlanStatus,
    PlanTarget,
    PlanVoice,
    Pupil,
    Review,
    ReviewStatus,
    ReviewTargetResult,
    School,
    SharingConsent,
    Staff,
    TargetStatus,
    TimelineEntry,
    TimelineKind,
)

MAX_TEXT = 3000  # what one Slack text input holds; longer texts are split across inputs
SHORT_TEXT = 200


@dataclass(frozen=True)
class Field:
    """One thing a writer fills in. kind: text, long, date, select, checkbox."""

    name: str
    label: str
    kind: str = "text"
    required: bool = False
    # or "outcomes" / "targets" / "staff" (the school's active staff)
    choices: tuple[tuple[str, str], ...] | str | None = None
    hint: str | None = None
    max_length: int = SHORT_TEXT


@dataclass(frozen=True)
class Section:
    key: str
    title: str  # at most 24 characters: it is a modal title
    fields: tuple[Field, ...]
    collection: str | None = None  # the Plan relationship holding the items of a list section
    model: type | None = None
    summary: Callable[[Any], str] = field(default=lambda item: "")
    # Changes here to an approved plan need the SENDCo's quality assurance again.
    needs_qa: bool = False

    @property
    def is_list(self) -> bool:
        return self.collection is not None


def _choices(enum_labels: dict) -> tuple[tuple[str, str], ...]:
    return tuple((str(value), label) for value, label in enum_labels.items())


def _long(name: str, label: str, required: bool = False, hint: str | None = None) -> Field:
    return Field(name, label, "long", required, hint=hint, max_length=20_000)


RINGS = (
    ("1", "Closest: family and home"),
    ("2", "Friends"),
    ("3", "People at school"),
    ("4", "Professionals and services"),
)


TARGET_STATUS = {
    TargetStatus.OPEN: "Working on it",
    TargetStatus.ACHIEVED: "Achieved",
    TargetStatus.PARTLY_ACHIEVED: "Partly achieved",
    TargetStatus.NOT_YET_ACHIEVED: "Not yet achieved",
    TargetStatus.DISCONTINUED: "Stopped",
}

LINKED_PLAN_KINDS = (
    (LinkedPlanKind.HEALTH_CARE.value, "Individual health care plan"),
    (LinkedPlanKind.INTIMATE_CARE.value, "Intimate care plan"),
    (LinkedPlanKind.BEHAVIOUR_SUPPORT.value, "Positive behaviour support plan"),
    (LinkedPlanKind.RISK_ASSESSMENT.value, "Risk assessment"),
    (LinkedPlanKind.PERSONAL_EDUCATION.value, "Personal education plan (PEP)"),
    (LinkedPlanKind.FAMILY_NETWORKING.value, "Family networking"),
    (LinkedPlanKind.EARLY_HELP.value, "Early Help"),
    (LinkedPlanKind.EHC_PLAN.value, "EHC plan"),
    (LinkedPlanKind.OTHER.value, "Other"),
)


def linked_plan_summary(link: LinkedPlan) -> str:
    """The kind and what it is about, as typed: two "Other" plans must read apart."""
    kind = dict(LINKED_PLAN_KINDS).get(link.kind.value, link.kind.value)
    about = " ".join((link.description or "").split())
    return f"{kind}: {about}" if about else kind


def _consent_summary(consent: SharingConsent) -> str:
    """Who gave it and what it covers; a withdrawal first, where a clipped line still shows it."""
    withdrawn = f" (withdrawn {consent.withdrawn_on:%-d %B %Y})" if consent.withdrawn_on else ""
    return f"{consent.given_by}{withdrawn}: {consent.scope}"


SECTIONS: dict[str, Section] = {
    s.key: s
    for s in (
        Section(
            "details",
            "Plan dates",
            (
                Field("start_date", "Start date", "date"),
                Field(
                    "review_date",
                    "Next review date",
                    "date",
                    hint="When the plan will next be reviewed with the pupil and family.",
                ),
            ),
        ),
        Section(
            "voice",
            "My voice",
            (
                _long("aspirations", "My hopes and dreams for the future"),
                _long("important_to_me", "What and who is important to me"),
                _long("strengths_and_likes", "What I like and what I am good at"),
                _long(
                    "liked_and_admired",
                    "What people like and admire about me",
                    hint="What family, friends and staff say they like and admire about the "
                    "pupil: One Planning's question, printed under its own heading.",
                ),
                _long("difficulties", "What I find hard"),
                _long("how_to_support_me", "How I want to be supported"),
                _long("good_day", "A good day for me"),
                _long("bad_day", "A bad day for me"),
                _long("better_days", "What would make my days better"),
                _long("about_me", "Anything else I want people to know (my journey)"),
            ),
        ),
        # Shown first on the pupil passport (bot.services.passport), to everyone who supports
        # the pupil. Stored with the voice (a section of single answers, like it).
        Section(
            "must_know",
            "Must know",
            (
                _long(
                    "must_know",
                    "What every adult who supports me must know",
                    hint="Shown first on the pupil passport to all the pupil's teachers and "
                    "support staff: only what keeps the pupil safe and well in lessons, e.g. a "
                    "medical need and what to do.",
                ),
                Field(
                    "must_know_medical",
                    "Show 'medical need' on the passport (if the school's record has it)",
                    "checkbox",
                ),
                Field(
                    "must_know_in_care",
                    "Show 'child in care' on the passport (if the school's record has it)",
                    "checkbox",
                ),
            ),
        ),
        Section(
            "family",
            "Family hopes",
            (
                _long("family_hopes", "My family's hopes for the future"),
                _long("family_concerns", "My family's concerns"),
                _long(
                    "professional_concerns",
                    "Concerns from staff and professionals",
                    hint="Staff-only: left out of the family's copy of the plan.",
                ),
            ),
        ),
        Section(
            "circle",
            "Circle of support",
            (
                Field("name", "Name", required=True),
                Field("relationship_to_cyp", "Who they are to the pupil"),
                Field("ring", "How close", "select", True, RINGS),
            ),
            "circle_of_support",
            CircleMember,
            lambda m: (
                f"{m.name}" + (f" ({m.relationship_to_cyp})" if m.relationship_to_cyp else "")
            ),
        ),
        Section(
            "needs",
            "Needs",
            (
                Field(
                    "broad_area",
                    "Broad area of need",
                    "select",
                    True,
                    tuple((a.value, a.label) for a in BroadArea),
                ),
                Field(
                    "census_code",
                    "Type of need (census code)",
                    "select",
                    False,
                    tuple((c.value, f"{c.value}: {c.label}") for c in NeedCode),
                ),
                _long("description", "The need, in plain words", required=True),
                Field(
                    "source",
                    "Where this comes from",
                    "select",
                    False,
                    (
                        (NeedSource.ASSESSMENT.value, "Assessment"),
                        (NeedSource.OBSERVATION.value, "Observation"),
                        (NeedSource.REPORT.value, "Professional report"),
                        (NeedSource.INDES.value, "INDES"),
                        (NeedSource.EHCP.value, "EHC plan"),
                        (NeedSource.FAMILY.value, "Family"),
                    ),
                ),
                Field("is_primary", "Primary need", "checkbox"),
            ),
            "needs",
            PlanNeed,
            lambda n: f"{n.broad_area.label}: {n.description}",
        ),
        Section(
            "adjustments",
            "Adjustments",
            (
                Field(
                    "kind",
                    "Kind",
                    "select",
                    True,
                    (
                        (AdjustmentKind.IN_CLASS.value, "In-class reasonable adjustment"),
                        (AdjustmentKind.ACCESS_ARRANGEMENT.value, "Exam access arrangement"),
                    ),
                ),
                _long("description", "What the teacher does", required=True),
            ),
            "adjustments",
            PlanAdjustment,
            lambda a: a.description,
        ),
        Section(
            "outcomes",
            "Long-term outcomes",
            (
                _long("description", "The outcome", required=True),
                Field("timescale", "By when", hint="e.g. the end of Key Stage 3"),
                Field("from_ehcp", "From the EHC plan", "checkbox"),
            ),
            "outcomes",
            PlanOutcome,
            lambda o: o.description,
        ),
        Section(
            "targets",
            "SMART targets",
            (
                _long("description", "The target (specific)", required=True),
                Field("outcome_id", "Towards which outcome", "select", False, "outcomes"),
                _long("measure", "How progress is measured (measurable)"),
                _long("baseline", "Where the pupil is now (baseline)"),
                _long("success_criteria", "What success looks like"),
                Field("start_date", "Start", "date"),
                Field("end_date", "End (time-bound)", "date"),
                Field(
                    "status",
                    "Status",
                    "select",
                    True,
                    tuple((status.value, label) for status, label in TARGET_STATUS.items()),
                ),
            ),
            "targets",
            PlanTarget,
            lambda t: t.description,
            needs_qa=True,
        ),
        Section(
            "provision",
            "Provision",
            (
                Field(
                    "library_id",
                    "From the school's provision library",
                    "select",
                    False,
                    "library",
                    hint="Choose what the school offers, or leave it and describe the support "
                    "below. With one chosen, “What support” may stay empty: it takes the "
                    "library's name.",
                ),
                _long("what", "What support (additional to and different from)"),
                Field("who", "Who delivers it"),
                _long("how", "How"),
                Field("how_often", "How often", hint="e.g. 3 x 20 minutes a week"),
                Field("how_long", "For how long", hint="e.g. one term"),
                Field("start_date", "Start", "date"),
                Field("end_date", "End", "date"),
                Field("target_id", "Towards which target", "select", False, "targets"),
                Field(
                    "measure_kind",
                    "Impact measure: kind",
                    "select",
                    False,
                    tuple((kind.value, kind.label) for kind in MeasureKind),
                ),
                Field(
                    "measure_name",
                    "Impact measure: what",
                    hint="e.g. YARC reading accuracy, Boxall profile, attendance",
                ),
                Field(
                    "entry_value",
                    "Entry measure",
                    "measure",
                    hint="Before it starts. A reading age as years and months: 8y 6m or 8:6",
                ),
                Field("entry_on", "Entry measure taken on", "date"),
                Field("exit_value", "Exit measure", "measure", hint="When it ends or is reviewed"),
                Field("exit_on", "Exit measure taken on", "date"),
            ),
            "provisions",
            PlanProvision,
            lambda p: p.what,
            needs_qa=True,
        ),
        Section(
            "agencies",
            "External agencies",
            (
                Field(
                    "agency", "Agency or service", required=True, hint="e.g. Educational Psychology"
                ),
                Field("contact", "Contact", hint="Staff-only: left out of the family's copy."),
                _long("involvement", "What they do or advise"),
                Field("started_on", "Involved since", "date"),
                Field("ended_on", "Until", "date"),
            ),
            "agencies",
            AgencyInvolvement,
            lambda a: a.agency,
        ),
        Section(
            "reports",
            "Reports",
            (
                Field("title", "Report", required=True, max_length=300),
                Field("author", "Written by"),
                Field("report_date", "Date of the report", "date"),
                _long("recommendations", "Its recommendations"),
                Field("location", "Where the report is kept", max_length=500),
            ),
            "reports",
            AgencyReport,
            lambda r: r.title,
        ),
        Section(
            "links",
            "Linked plans",
            (
                Field("kind", "Kind of plan", "select", True, LINKED_PLAN_KINDS),
                _long("description", "About it"),
                Field("location", "Where it is kept", max_length=500),
            ),
            "linked_plans",
            LinkedPlan,
            lambda link: linked_plan_summary(link),
        ),
        Section(
            "people",
            "People",
            (
                Field(
                    "role",
                    "Their part",
                    "select",
                    True,
                    (
                        (PlanPersonRole.DELIVERS.value, "Agreed to deliver the plan"),
                        (PlanPersonRole.CONTRIBUTED.value, "Contributed to the plan"),
                        (PlanPersonRole.SENT_TO.value, "Is sent the plan"),
                    ),
                ),
                Field("name", "Name", required=True),
                Field(
                    "relationship_to_cyp", "Role or relationship", hint="e.g. Mum, maths teacher"
                ),
                # The staff link makes "delivers" mean something to the bot: that member of
                # staff sees the pupil (bot.access) and is asked for monitoring feedback.
                Field(
                    "staff_id",
                    "Member of staff",
                    "select",
                    False,
                    "staff",
                    hint="If they are on the staff list and deliver the plan: they can then see "
                    "the pupil and are asked for monitoring feedback",
                ),
            ),
            "people",
            PlanPerson,
            lambda p: p.name,
        ),
        Section(
            "consent",
            "Sharing consent",
            (
                Field("given_by", "Given by", required=True),
                Field("relationship_to_cyp", "Who they are", hint="e.g. the pupil, parent, carer"),
                _long("scope", "What may be shared, and with whom", required=True),
                # What `/ssp export --for agency` enforces (DESIGN §4).
                Field(
                    "outside_school", "May be sent to professionals outside the school", "checkbox"
                ),
                Field("given_on", "Date given", "date", required=True),
                Field("withdrawn_on", "Date withdrawn", "date"),
                _long("storage_notes", "How the plan is stored"),
            ),
            "consents",
            SharingConsent,
            _consent_summary,
        ),
    )
}

_MEASURE_KIND = next(f for f in SECTIONS["provision"].fields if f.name == "measure_kind")
MODELS_FOR_CHILD = {s.model: s for s in SECTIONS.values() if s.model}


class NotAllowedToEdit(UserError):
    def __init__(self) -> None:
        super().__init__(
            "Only the SENDCo and the plan's case holder can change a plan. "
            "`/ssp pupil` shows you what you need."
        )


@dataclass(frozen=True)
class SaveResult:
    plan: Plan
    unexplained_acronyms: list[str]
    sent_for_qa: bool


def can_edit(viewer: Viewer, plan: Plan) -> bool:
    return viewer.is_sendco or (viewer.is_case_holder and plan.case_holder_id == viewer.staff_id)


OPENED = "plan opened for editing"
REFUSED_EDIT = "plan open refused: may not change it"
REFUSED_UNSEEN = "plan open refused: no open plan the person may see"


def load_plan(
    session: Session,
    viewer: Viewer,
    pupil_id: int,
    *,
    via: str,
    now: datetime,
    audit_read=True,
    for_editing=False,
) -> Plan | None:
    """The open plan of a pupil the viewer may see, with every section loaded; None otherwise.

    Audited (unless `audit_read` is off, for a reload inside an open that was audited): a read
    when the plan is shown to the person — anyone who may edit it, or, unless `for_editing`,
    a whole-school reader — and a refusal otherwise, so the log never records a plan nobody saw
    as read.
    """
    plan = session.scalar(
        select(Plan)
        .join(Pupil, Pupil.id == Plan.pupil_id)
        .where(Plan.pupil_id == pupil_id, Plan.status != PlanStatus.CLOSED, visible_pupils(viewer))
        .options(*_whole_plan())
    )
    if audit_read:
        _audit_open(session, viewer, pupil_id, plan, via=via, now=now, for_editing=for_editing)
    return plan


def _audit_open(
    session: Session,
    viewer: Viewer,
    pupil_id: int,
    plan: Plan | None,
    *,
    via: str,
    now: datetime,
    for_editing: bool,
) -> None:
    """One audit row for an attempt to open a plan: "read" if it is shown, "refused" if not."""
    shown = plan is not None and (
        can_edit(viewer, plan) or (viewer.sees_whole_school and not for_editing)
    )
    if shown:
        audit.record_by(session, viewer, action="read", via=via, now=now, plan=plan, detail=OPENED)
    else:
        audit.record_refusal(
            session,
            viewer,
            via=via,
            now=now,
            plan=plan,
            pupil_id=pupil_id,
            detail=REFUSED_EDIT if plan is not None else REFUSED_UNSEEN,
        )


def items(plan: Plan, section: Section) -> list:
    """A list section's entries as the writer edits them: for provision, the current ones (an
    ended provision is kept, under "Tried before", and no longer edited)."""
    if section.key == "provision":
        return plan.current_provisions
    return list(getattr(plan, section.collection)) if section.collection else []


ENDED_BY_DEFAULT = "ended in the plan"


def current_values(plan: Plan, section: Section, item_id: int | None) -> dict[str, Any]:
    """The values a form starts with: the item's (or the plan's) current ones."""
    if section.key == "details":
        source = plan
    elif not section.is_list:
        source = plan.voice
    else:
        source = next((i for i in items(plan, section) if i.id == item_id), None)
    if source is None and section.key == "needs" and item_id is None:
        return _from_roster(plan)
    if source is None:
        return {"status": TargetStatus.OPEN.value} if section.key == "targets" else {}
    values = {}
    for f in section.fields:
        value = getattr(source, f.name)
        if hasattr(value, "value"):
            value = value.value
        if f.kind == "measure":
            value = show_measure(getattr(source, "measure_kind", None), value)
        values[f.name] = str(value) if f.kind == "select" and value is not None else value
    return values


# --- reading the plan -------------------------------------------------------------------------


@dataclass(frozen=True)
class CurrentTarget:
    """A target of the plan's current cycle (or an older one still being worked on). `carried`
    is how it stood at each review that carried it forward: (plan number, status), oldest
    first; empty for a target set in this cycle."""

    target: PlanTarget
    carried: tuple[tuple[int, TargetStatus], ...] = ()


@dataclass(frozen=True)
class EndedTarget:
    """A target of an earlier cycle that ended there, with its outcome in words."""

    target: PlanTarget
    outcome: str
    carried: tuple[tuple[int, TargetStatus], ...] = ()


@dataclass(frozen=True)
class TargetCycles:
    current: list[CurrentTarget]
    earlier: list[tuple[int, list[EndedTarget]]]  # by plan number, the latest first


def targets_by_cycle(plan: Plan) -> TargetCycles:
    """The plan's targets as a reader needs them after reviews: this cycle's, each once, and
    earlier cycles' under their plan number with their outcome.

    A review carries a target forward by copying it into the next cycle; the copy is shown
    (saying it was carried, and how the target stood at each review), the original is not shown
    again. The copy is recognised by its wording in the cycle after the review; one reworded
    since leaves the original under its cycle as "carried forward into plan N". A target ended at
    a review is listed under that review's plan number. One query (the submitted reviews'
    results), however many targets and cycles; `plan` is one loaded in the caller's unit of work
    (load_plan, load_plan_to_read).
    """
    reviewed: dict[int, tuple[int, bool | None]] = {
        target_id: (cycle, carried)
        for target_id, cycle, carried in object_session(plan).execute(
            select(
                ReviewTargetResult.target_id, Review.cycle_number, ReviewTargetResult.carry_forward
            )
            .join(Review, Review.id == ReviewTargetResult.review_id)
            .where(Review.plan_id == plan.id, Review.status != ReviewStatus.DRAFT)
        )
    }

    def ended_in(target: PlanTarget) -> int:
        return reviewed[target.id][0] if target.id in reviewed else target.cycle_number

    current = [t for t in plan.targets if _is_current(plan, t)]
    ended = sorted(
        (t for t in plan.targets if not _is_current(plan, t)),
        key=lambda t: (-ended_in(t), t.position, t.id),
    )
    carried_at: dict[tuple[int, str], list[PlanTarget]] = {}
    for target in ended:
        if target.id in reviewed and reviewed[target.id][1]:
            carried_at.setdefault((ended_in(target), _wording(target)), []).append(target)
    hidden: set[int] = set()

    def history(target: PlanTarget) -> tuple[tuple[int, TargetStatus], ...]:
        steps = []
        while True:
            sources = carried_at.get((target.cycle_number - 1, _wording(target)), [])
            source = next((s for s in sources if s.id not in hidden and s is not target), None)
            if source is None:
                return tuple(reversed(steps))
            hidden.add(source.id)
            steps.append((ended_in(source), source.status))
            target = source

    shown = [CurrentTarget(t, history(t)) for t in current]
    earlier: dict[int, list[EndedTarget]] = {}
    for target in ended:
        if target.id in hidden:
            continue
        cycle, carried = reviewed.get(target.id, (target.cycle_number, None))
        earlier.setdefault(cycle, []).append(
            EndedTarget(target, _outcome(target, cycle, carried), history(target))
        )
    return TargetCycles(shown, sorted(earlier.items(), key=lambda item: -item[0]))


def _is_current(plan: Plan, target: PlanTarget) -> bool:
    return target.cycle_number == plan.cycle_number or target.status == TargetStatus.OPEN


def _wording(target: PlanTarget) -> str:
    return " ".join(target.description.split()).casefold()


def _outcome(target: PlanTarget, cycle: int, carried: bool | None) -> str:
    words = TARGET_STATUS.get(target.status, str(target.status))
    if carried:
        return f"{words}; carried forward into plan {cycle + 1}"
    if carried is False:
        return f"{words}; closed at the review"
    return words


@dataclass(frozen=True)
class RosterNeed:
    """A need the school roster (the MIS's census codes) records for the pupil."""

    code: NeedCode
    primary: bool


def roster_needs(pupil: Pupil) -> list[RosterNeed]:
    """The pupil's primary and secondary need from the roster, primary first."""
    needs = [RosterNeed(pupil.primary_need, True)] if pupil.primary_need else []
    if pupil.secondary_need and pupil.secondary_need != pupil.primary_need:
        needs.append(RosterNeed(pupil.secondary_need, False))
    return needs


def suggested_need(plan: Plan) -> RosterNeed | None:
    """The first roster need the plan's needs section does not hold yet: what a new need's form
    starts with (nothing is saved until the writer presses Save)."""
    in_plan = {need.census_code for need in plan.needs}
    return next((need for need in roster_needs(plan.pupil) if need.code not in in_plan), None)


READ_WHOLE = "plan section read in full: {section}"
REFUSED_WHOLE = "plan section read refused: {section}"


def load_plan_to_read(
    session: Session,
    viewer: Viewer,
    plan_id: int,
    *,
    section_key: str,
    via: str,
    now: datetime,
) -> Plan | None:
    """The open plan `plan_id` with every section loaded, if the viewer may read all of it (the
    SENDCo, a senior leader, its case holder); None otherwise. The viewer is the verified
    request's, so a button's value can name a plan but never grant it. Audited either way: a
    read, or a refusal (a teacher, who sees only part of a plan, or a plan of another school).
    """
    plan = session.scalar(
        select(Plan)
        .join(Pupil, Pupil.id == Plan.pupil_id)
        .where(
            Plan.id == plan_id,
            Plan.school_id == viewer.school_id,
            Plan.status != PlanStatus.CLOSED,
            visible_pupils(viewer),
        )
        .options(*_whole_plan())
    )
    allowed = plan is not None and (viewer.sees_whole_school or can_edit(viewer, plan))
    if allowed:
        audit.record_by(
            session,
            viewer,
            action="read",
            via=via,
            now=now,
            plan=plan,
            detail=READ_WHOLE.format(section=section_key),
        )
        return plan
    audit.record_refusal(
        session,
        viewer,
        via=via,
        now=now,
        plan=plan,
        detail=REFUSED_WHOLE.format(section=section_key),
    )
    return None


def _whole_plan() -> list:
    return [
        selectinload(Plan.pupil),
        selectinload(Plan.case_holder),
        selectinload(Plan.voice),
        *(selectinload(getattr(Plan, s.collection)) for s in SECTIONS.values() if s.collection),
    ]


def _from_roster(plan: Plan) -> dict[str, Any]:
    """A new need's form, started from the roster's census code (the writer describes it)."""
    need = suggested_need(plan)
    if need is None:
        return {}
    area = need.code.broad_area
    return {
        "broad_area": area.value if area else None,
        "census_code": need.code.value,
        "is_primary": need.primary and not any(n.is_primary for n in plan.needs),
    }


def choices_for(plan: Plan, f: Field) -> tuple[tuple[str, str], ...]:
    if f.choices == "outcomes":
        return tuple((str(o.id), _short(o.description)) for o in plan.outcomes)
    if f.choices == "targets":
        return tuple((str(t.id), _short(t.description)) for t in plan.targets)
    if f.choices == "library":
        return _library_choices(plan)
    if f.choices == "staff":
        # The school's current staff, read with the plan's own session (one query).
        return tuple(
            (str(staff_id), f"{first} {last}")
            for staff_id, first, last in object_session(plan).execute(
                select(Staff.id, Staff.first_name, Staff.last_name)
                .where(Staff.school_id == plan.school_id, Staff.is_active.is_(True))
                .order_by(Staff.last_name, Staff.first_name, Staff.id)
            )
        )
    return f.choices or ()


def _library_choices(plan: Plan) -> tuple[tuple[str, str], ...]:
    """The school's active library entries, and any retired one this plan's provision still
    names (so editing that row keeps its link), read with the plan's own session (one query)."""
    linked = {p.library_id for p in plan.provisions if p.library_id is not None}
    rows = object_session(plan).execute(
        select(LibraryProvision.id, LibraryProvision.name, LibraryProvision.is_active)
        .where(
            LibraryProvision.school_id == plan.school_id,
            LibraryProvision.is_active.is_(True) | LibraryProvision.id.in_(linked or {-1}),
        )
        .order_by(LibraryProvision.name, LibraryProvision.id)
    )
    return tuple(
        (str(item_id), name if active else f"{name} (retired)") for item_id, name, active in rows
    )


def calendar_for(session: Session, plan: Plan, section: Section) -> SchoolCalendar | None:
    """The school's calendar, for `validate` of the section that sets the review date."""
    return load_calendar(session, plan.school_id) if section.key == "details" else None


def validate(
    section: Section,
    values: dict[str, Any],
    plan: Plan,
    calendar: SchoolCalendar | None = None,
) -> dict[str, str]:
    """Problems keyed by field name. `calendar` (see `calendar_for`) checks a review date set
    in the plan's details against the school's days."""
    """Problems with what was typed, by field name, in words for the writer."""
    problems: dict[str, str] = {}
    for f in section.fields:
        value = values.get(f.name)
        if f.required and (value is None or value == "" or value == []):
            problems[f.name] = f"Please fill in “{f.label}”."
        elif f.kind in ("text", "long") and value and len(value) > f.max_length:
            # A long field arrives in several boxes, so Slack's per-box limit doesn't hold it.
            problems[f.name] = (
                f"This is {len(value):,} characters: please keep it to {f.max_length:,} "
                "(nothing has been saved yet, and what you typed is still here)."
            )
        elif f.kind == "select" and value and value not in {v for v, _ in choices_for(plan, f)}:
            problems[f.name] = "Please choose again: that choice is no longer there."
    if section.key == "provision":
        if not values.get("what") and not values.get("library_id"):
            problems.setdefault(
                "what",
                "Please describe the support, or choose it from the school's provision library.",
            )
        kind = values.get("measure_kind")
        kind = MeasureKind(kind) if kind in {k.value for k in MeasureKind} else None
        for name in ("entry_value", "exit_value"):
            try:
                parse_measure(kind, values.get(name))
            except BadValue as bad:
                problems[name] = str(bad)
    for start, end in (
        ("start_date", "end_date"),
        ("entry_on", "exit_on"),
        ("started_on", "ended_on"),
        ("given_on", "withdrawn_on"),
    ):
        if values.get(start) and values.get(end) and values[end] < values[start]:
            problems[end] = (
                "This is before the entry measure was taken."
                if start == "entry_on"
                else "This is before the start date."
            )
    if (
        section.key == "details"
        and values.get("review_date")
        and values.get("start_date")
        and values["review_date"] < values["start_date"]
    ):
        problems["review_date"] = "The review can't be before the plan starts."
    elif calendar is not None and values.get("review_date"):
        chosen = values["review_date"]
        chosen = date.fromisoformat(chosen) if isinstance(chosen, str) else chosen
        # Only a date being set: a plan already reviewed on a Saturday (set before this rule)
        # must not block an edit of its other details.
        why_not = calendar.not_a_review_day(chosen) if chosen != plan.review_date else None
        if why_not is not None:
            problems["review_date"] = why_not
    return problems


def save(
    session: Session,
    viewer: Viewer,
    *,
    plan_id: int,
    expected_version: int,
    section_key: str,
    item_id: int | None,
    values: dict[str, Any] | None,
    via: str,
    now: datetime,
    ended_on: date | None = None,
    ended_reason: str | None = None,
) -> SaveResult:
    """Saves one section (or one item of a list section); `values` None removes the item, or,
    for provision, ends it (`ended_on`, default today; `ended_reason`, default "ended in the
    plan"): it is kept, shown under "Tried before".

    Raises PlanChanged when someone saved the plan since `expected_version` (nothing is
    applied), PlanNotFound or NotAllowedToEdit. A case holder changing targets or provision of
    an active plan sends it back to the SENDCo for quality assurance.
    """
    section = SECTIONS[section_key]
    school = session.get(School, viewer.school_id)
    editor = session.get(Staff, viewer.staff_id)
    sent_for_qa = False

    def apply(plan: Plan) -> str:
        nonlocal sent_for_qa
        plan_state_before = plan.status
        if not can_edit(viewer, plan):
            raise NotAllowedToEdit()
        if section.key == "details":
            target, verb = plan, "changed"
        elif not section.is_list:
            if plan.voice is None:
                plan.voice = PlanVoice()
            target, verb = plan.voice, "changed"
        elif item_id is None:
            target = section.model()
            if hasattr(target, "position"):
                target.position = len(getattr(plan, section.collection))
            getattr(plan, section.collection).append(target)
            verb = "added to"
        else:
            target = next((i for i in items(plan, section) if i.id == item_id), None)
            if target is None:
                raise UserError("That entry has been removed by someone else. Reload the plan.")
            verb = "changed"
        if values is None and section.key == "provision":
            # Ended, not deleted: "what has been tried" survives, under "Tried before".
            target.ended_on = ended_on or now.date()
            target.ended_reason = (ended_reason or "").strip()[:300] or ENDED_BY_DEFAULT
            verb = "ended"
        elif values is None:
            getattr(plan, section.collection).remove(target)
            verb = "removed from"
        else:
            for f in section.fields:
                if f.kind == "measure":  # in the unit its kind says (a reading age in months)
                    kind = _convert(type(target), _MEASURE_KIND, values.get("measure_kind"))
                    setattr(target, f.name, parse_measure(kind, values.get(f.name)))
                else:
                    setattr(target, f.name, _convert(type(target), f, values.get(f.name)))
            if section.key == "provision":
                _fill_from_library(session, plan, target)
            if section.key == "needs" and values.get("is_primary"):
                for other in plan.needs:
                    if other is not target:
                        other.is_primary = False
            if section.key == "targets" and target.cycle_number is None:
                target.cycle_number = plan.cycle_number
        if section.needs_qa and not viewer.is_sendco and plan_state_before == PlanStatus.ACTIVE:
            plan.status = PlanStatus.AWAITING_QA
            sent_for_qa = True
        change = "ended a provision" if verb == "ended" else f"{verb} {section.title.lower()}"
        return change + (" (sent for quality assurance)" if sent_for_qa else "")

    plan = edit_plan(
        session,
        school=school,
        plan_id=plan_id,
        expected_version=expected_version,
        editor=editor,
        edit=apply,
        via=via,
        now=now,
        may_edit=lambda plan: can_edit(viewer, plan),
    )
    if values is not None and item_id is None and section.is_list:
        # Reviews when things change: a report, need or access arrangement added to an active
        # plan asks its case holder whether to bring the review forward (review_forward).
        review_forward.item_added(
            session, plan, section.key, items(plan, section)[-1], editor_id=editor.id, now=now
        )
    texts = [
        v
        for f in section.fields
        if f.kind in ("text", "long")
        for v in [(values or {}).get(f.name)]
        if v
    ]
    return SaveResult(plan, glossary.unexplained(session, viewer.school_id, texts), sent_for_qa)


def find_pupils_for_new_plan(session: Session, viewer: Viewer, query: str) -> list[PupilMatch]:
    """Pupils on roll with no open plan, for the SENDCo starting one: nobody else may list them."""
    if not viewer.is_sendco:
        return []
    condition = matching(query)
    open_plan = exists().where(Plan.pupil_id == Pupil.id, Plan.status != PlanStatus.CLOSED)
    rows = session.execute(
        select(*MATCH_COLUMNS)
        .where(
            Pupil.school_id == viewer.school_id, Pupil.is_active.is_(True), condition, ~open_plan
        )
        .order_by(Pupil.last_name, Pupil.first_name)
        .limit(MAX_MATCHES + 1)
    ).all()
    return [PupilMatch(*match, has_plan=False) for match in rows]


def start_plan(
    session: Session, viewer: Viewer, pupil_id: int, *, now: datetime, today: date
) -> Plan:
    """A new draft plan for a pupil with no open plan, started by the SENDCo, who becomes its
    case holder (and may delegate it with `/ssp assign`). A case holder asks for a plan instead
    (`team.request_plan`): the SENDCo decides who holds each plan (guidance §4.3).

    The plan number carries on from the pupil's last closed plan (the APDR cycle continues).
    """
    if not viewer.is_sendco:
        raise NotAllowedToEdit()
    pupil = session.scalar(
        select(Pupil).where(Pupil.id == pupil_id, Pupil.school_id == viewer.school_id)
    )
    if pupil is None:
        raise UserError("I couldn't find that pupil.")
    if session.scalar(
        select(Plan.id).where(Plan.pupil_id == pupil.id, Plan.status != PlanStatus.CLOSED)
    ):
        raise UserError(f"{pupil.known_as} already has a plan: open it with `/ssp plan`.")
    plan = new_draft_plan(session, pupil, by_staff_id=viewer.staff_id, now=now, today=today)
    plan.case_holder_id = viewer.staff_id
    plan.assignments.append(
        CaseHolderAssignment(
            staff_id=viewer.staff_id,
            assigned_by_id=viewer.staff_id,
            reason="started the plan",
            status=AssignmentStatus.ACCEPTED,
            created_at=now,
            responded_at=now,
        )
    )
    plan.timeline.append(
        TimelineEntry(
            occurred_at=now,
            kind=TimelineKind.PLAN_CHANGE,
            summary="started the plan",
            author_id=viewer.staff_id,
        )
    )
    session.add(plan)
    session.flush()
    audit.record_by(
        session,
        viewer,
        action="create",
        via="/ssp plan new",
        now=now,
        plan=plan,
        detail="started a new plan",
    )
    return plan


def split_long(text: str | None) -> list[str]:
    """A long text as pieces that each fit one Slack text input, broken between words."""
    text = text or ""
    pieces = []
    while len(text) > MAX_TEXT:
        cut = max(text.rfind("\n", 0, MAX_TEXT), text.rfind(" ", 0, MAX_TEXT))
        cut = cut if cut > MAX_TEXT // 2 else MAX_TEXT
        pieces.append(text[:cut])
        text = text[cut:].lstrip(" ") if cut < MAX_TEXT else text[cut:]
    pieces.append(text)
    return pieces


def join_long(pieces: list[str | None]) -> str:
    """The pieces typed into a long text's inputs, put back together without losing a word."""
    text = ""
    for piece in (p for p in pieces if p):
        if text and not text[-1].isspace() and not piece[0].isspace():
            text += " "
        text += piece
    return text


def _convert(model: type, f: Field, value: Any) -> Any:
    """A form value as the column stores it: dates, ids and the column's own enum."""
    if f.kind == "checkbox":
        return bool(value)
    if value in (None, ""):
        return None
    if f.kind == "date":
        return value if isinstance(value, date) else date.fromisoformat(value)
    if f.kind == "select":
        enum_class = getattr(getattr(model, f.name).type, "enum_class", None)
        return enum_class(value) if enum_class else int(value)
    return value


def _fill_from_library(session: Session, plan: Plan, provision: PlanProvision) -> None:
    """A provision chosen from the library: "what" empty takes the library's name (so the plan
    reads the same whatever happens to the library later)."""
    if provision.library_id is not None:
        with session.no_autoflush:  # "what" may be empty until it is filled in here
            item = _library_item(session, plan, provision.library_id)
        if item is None:
            provision.library_id = None
        elif not (provision.what or "").strip():
            provision.what = item.name
    if not (provision.what or "").strip():
        raise UserError("Please describe the support, or choose it from the provision library.")


def _library_item(session: Session, plan: Plan, item_id: int) -> LibraryProvision | None:
    return session.scalar(
        select(LibraryProvision).where(
            LibraryProvision.id == item_id, LibraryProvision.school_id == plan.school_id
        )
    )


def _short(text: str) -> str:
    return text if len(text) <= 70 else text[:69] + "…"
