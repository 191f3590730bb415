"""The automatic quality check a SENDCo sees when quality-assuring a plan.

Each check is one question from the Norfolk SSP guidance (§3, what a robust plan contains, and
the §5 reflection checklist), answered from the plan alone. A failed check says exactly what to
fix, naming a target or provision by a short quote (at most 60 characters) of the writer's own
words. Messages never repeat the pupil's needs or views: they quote only a target's or a
provision's text, and name the part of the plan to fill in.

`check_plan` is pure: it runs no queries, so the caller loads the plan's sections first (or calls
`check_plan_in_db`, which does).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.document import long_date
from bot.services.glossary import acronyms_in, explain, glossary
from models import Plan, PlanProvision, PlanStatus, PlanTarget, TargetStatus

QUOTE_LENGTH = 60  # characters of a target's or provision's text quoted in a problem

# The pupil's views (guidance §3.1): each is one thing the writer can record in "My voice".
# A good day and a bad day are one view, written as a pair.
PUPIL_VIEWS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("their hopes and dreams", ("aspirations",)),
    ("what and who is important to them", ("important_to_me",)),
    ("how they want to be supported", ("how_to_support_me",)),
    ("a good day or a bad day", ("good_day", "bad_day")),
    ("what they find hard", ("difficulties",)),
)
ENOUGH_PUPIL_VIEWS = 2

VOICE_TEXTS = (
    "aspirations",
    "important_to_me",
    "strengths_and_likes",
    "liked_and_admired",
    "difficulties",
    "how_to_support_me",
    "good_day",
    "bad_day",
    "better_days",
    "about_me",
    "family_hopes",
    "family_concerns",
    "professional_concerns",
)


@dataclass(frozen=True)
class Check:
    """One question asked of the plan. `problems` is empty exactly when `passed`."""

    key: str
    title: str
    passed: bool
    problems: list[str]


@dataclass(frozen=True)
class QualityReport:
    """The checks, in the order the guidance asks them."""

    checks: list[Check]

    @property
    def passed_count(self) -> int:
        return sum(1 for check in self.checks if check.passed)

    @property
    def total(self) -> int:
        return len(self.checks)

    @property
    def all_passed(self) -> bool:
        return self.passed_count == self.total

    def summary(self) -> str:
        """E.g. "5 of 7 checks passed"."""
        return f"{self.passed_count} of {self.total} checks passed"

    def check(self, key: str) -> Check:
        """The check with this key; raises KeyError for an unknown key."""
        for check in self.checks:
            if check.key == key:
                return check
        raise KeyError(key)


def check_plan(plan: Plan, glossary_terms: dict[str, str], today: date) -> QualityReport:
    """Checks the plan against the guidance. Runs no queries and changes nothing.

    The caller loads the plan's voice, needs, adjustments, outcomes, targets and provisions
    (a provision's target is recognised by `target_id`, so targets need not be loaded twice), and
    passes the school's glossary (`glossary.glossary(session, school_id)`). Always returns the
    same checks in the same order, whatever the plan holds.
    """
    checks = [
        # §3.5: small-step SMART targets, with success criteria, and start and end dates.
        _check("targets_smart", "Every target is SMART", _targets_smart(plan)),
        # §3.5: quantifiable provision (who, how often, how long, start and end dates),
        # linked to the pupil's SMART targets.
        _check(
            "provision_quantified",
            "Every provision is quantified and linked to a target",
            _provision_quantified(plan),
        ),
        # §3.3 and §5 "Content of the plan": strengths and likes as well as needs.
        _check("strengths_and_needs", "Strengths are recorded as well as needs", _strengths(plan)),
        # §3.1: the pupil's aspirations, what is important to them, how they want support.
        _check("pupil_views", "The pupil's views are recorded", _pupil_views(plan)),
        # §3.1 and §5 "Supporting coproduction": the family takes part in the plan.
        _check("family_views", "The family's views are recorded", _family_views(plan)),
        # §3.1 and §5: "Are any acronyms used in the plan (eg ELSA, THRIVE, WellComm) explained?"
        _check(
            "acronyms_explained",
            "Every acronym is explained",
            _acronyms(plan, glossary_terms),
        ),
        # §3.2 (start and review date) and §3.5 (time-bound, with a review built in).
        _check("review_date", "The review date is set", _review_date(plan, today)),
    ]
    return QualityReport(checks)


def check_plan_in_db(
    session: Session, school_id: int, plan_id: int, today: date
) -> QualityReport | None:
    """`check_plan` for a plan of this school, loaded in a fixed number of queries.

    Returns None when the school has no plan with this id (another school's plan looks the same
    as a missing one). Access control is the caller's: this checks any plan of the school.
    """
    plan = session.scalar(
        select(Plan)
        .where(Plan.id == plan_id, Plan.school_id == school_id)
        .options(
            selectinload(Plan.voice),
            selectinload(Plan.needs),
            selectinload(Plan.adjustments),
            selectinload(Plan.outcomes),
            selectinload(Plan.targets),
            selectinload(Plan.provisions),
        )
    )
    if plan is None:
        return None
    return check_plan(plan, glossary(session, school_id), today)


def target_texts(target: PlanTarget) -> tuple[str | None, ...]:
    """What a writer typed into a target (its description, measure, baseline and success
    criteria): texts where an acronym may need explaining."""
    return (target.description, target.measure, target.baseline, target.success_criteria)


def provision_texts(provision: PlanProvision) -> tuple[str | None, ...]:
    """What a writer typed into a provision: what, who, how, how often and how long."""
    return (
        provision.what,
        provision.who,
        provision.how,
        provision.how_often,
        provision.how_long,
    )


# --- the checks: each returns its problems, kindly worded; none means the check passed ---------


def _check(key: str, title: str, problems: list[str]) -> Check:
    return Check(key=key, title=title, passed=not problems, problems=problems)


def _targets_smart(plan: Plan) -> list[str]:
    targets = _current_targets(plan)
    if not targets:
        return ["There are no targets yet: add at least one small-step SMART target."]
    problems = []
    for number, target in enumerate(targets, 1):
        name = _name("Target", target.description, number)
        if _blank(target.description):
            problems.append(f"{name} does not say what the pupil will work towards.")
        if _blank(target.measure):
            problems.append(f"{name} has no measure: say how progress will be measured.")
        if _blank(target.baseline) and _blank(target.success_criteria):
            problems.append(
                f"{name} has no baseline or success criteria: say where the pupil is now, "
                "or what success will look like."
            )
        if target.end_date is None:
            problems.append(f"{name} has no end date.")
        elif target.start_date is not None and target.end_date < target.start_date:
            problems.append(
                f"{name} ends ({long_date(target.end_date)}) before it starts "
                f"({long_date(target.start_date)})."
            )
    return problems


def _provision_quantified(plan: Plan) -> list[str]:
    if not plan.current_provisions:
        return [
            "There is no provision yet: add the support that is additional to and different "
            "from what the class has."
        ]
    problems = []
    for number, provision in enumerate(plan.current_provisions, 1):
        name = _name("Provision", provision.what, number)
        missing = [
            words
            for words, given in (
                ("who delivers it", not _blank(provision.who)),
                ("how often", not _blank(provision.how_often)),
                ("for how long", not _blank(provision.how_long)),
                ("when it starts", provision.start_date is not None),
                ("when it ends", provision.end_date is not None),
            )
            if not given
        ]
        if missing:
            problems.append(f"{name} does not say {_or_list(missing)}.")
        if (
            provision.start_date is not None
            and provision.end_date is not None
            and provision.end_date < provision.start_date
        ):
            problems.append(
                f"{name} ends ({long_date(provision.end_date)}) before it starts "
                f"({long_date(provision.start_date)})."
            )
        if not _linked(provision):
            problems.append(
                f"{name} is not linked to a target: choose the target it works towards."
            )
    return problems


def _strengths(plan: Plan) -> list[str]:
    problems = []
    if plan.voice is None or _blank(plan.voice.strengths_and_likes):
        problems.append(
            "The pupil's strengths are not recorded: fill in “What I like and what I am good at”."
        )
    if not any(not _blank(need.description) for need in plan.needs):
        problems.append(
            "No needs are recorded: add every identified need, not only the primary one."
        )
    return problems


def _pupil_views(plan: Plan) -> list[str]:
    voice = plan.voice
    missing = [
        words
        for words, fields in PUPIL_VIEWS
        if voice is None or all(_blank(getattr(voice, name)) for name in fields)
    ]
    if len(PUPIL_VIEWS) - len(missing) >= ENOUGH_PUPIL_VIEWS:
        return []
    return [
        f"Record at least {ENOUGH_PUPIL_VIEWS} of the pupil's views in “My voice”. "
        f"Not recorded yet: {_and_list(missing)}."
    ]


def _family_views(plan: Plan) -> list[str]:
    voice = plan.voice
    if voice is not None and not (_blank(voice.family_hopes) and _blank(voice.family_concerns)):
        return []
    return [
        "The family's views are not recorded: add their hopes for the future or their "
        "concerns in “Family hopes”."
    ]


def _acronyms(plan: Plan, glossary_terms: dict[str, str]) -> list[str]:
    meanings = explain(glossary_terms, acronyms_in(_texts(plan)))
    return [
        f"{acronym} is not explained in the school's glossary: add it with "
        f'/ssp glossary add {acronym} "what it means".'
        for acronym, meaning in meanings.items()
        if _blank(meaning)
    ]


def _review_date(plan: Plan, today: date) -> list[str]:
    review = plan.review_date
    if review is None:
        return ["There is no review date: set when the plan will next be reviewed."]
    problems = []
    if plan.start_date is not None and review < plan.start_date:
        problems.append(
            f"The review date ({long_date(review)}) is before the plan starts "
            f"({long_date(plan.start_date)})."
        )
    if review < today:
        # A plan being reviewed, or closed, is past its review date by design.
        if plan.status == PlanStatus.ACTIVE:
            problems.append(
                f"The review date ({long_date(review)}) has passed: the review is overdue."
            )
        elif plan.status in (PlanStatus.DRAFT, PlanStatus.AWAITING_QA):
            problems.append(
                f"The review date ({long_date(review)}) is in the past: "
                "choose a date still to come."
            )
    return problems


# --- helpers ------------------------------------------------------------------------------------


def _current_targets(plan: Plan) -> list[PlanTarget]:
    """This cycle's targets, and older ones still open (as the plan document shows them)."""
    return [
        target
        for target in plan.targets
        if target.cycle_number == plan.cycle_number or target.status == TargetStatus.OPEN
    ]


def _texts(plan: Plan) -> Iterator[str | None]:
    """Every text a writer typed into the plan's voice, needs, adjustments, outcomes, targets
    and provision: where an acronym may need explaining."""
    if plan.voice is not None:
        yield from (getattr(plan.voice, name) for name in VOICE_TEXTS)
    yield from (need.description for need in plan.needs)
    yield from (adjustment.description for adjustment in plan.adjustments)
    for outcome in plan.outcomes:
        yield from (outcome.description, outcome.timescale)
    for target in plan.targets:
        yield from target_texts(target)
    for provision in plan.provisions:
        yield from provision_texts(provision)


def _linked(provision: PlanProvision) -> bool:
    # target_id first: a loaded plan needs no query; a provision built in memory (not yet
    # flushed) has only the relationship set.
    return provision.target_id is not None or provision.target is not None


def _name(kind: str, text: str | None, number: int) -> str:
    """Target “Read 20 words on sight”; or Target 2, when the writer left the text blank."""
    if _blank(text):
        return f"{kind} {number}"
    return f"{kind} {_quote(text)}"


def _quote(text: str) -> str:
    words = " ".join(text.split())
    if len(words) > QUOTE_LENGTH:
        words = words[: QUOTE_LENGTH - 1].rstrip() + "…"
    return f"“{words}”"


def _blank(text: str | None) -> bool:
    return text is None or not text.strip()


def _and_list(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _or_list(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
