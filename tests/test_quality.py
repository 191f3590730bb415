"""The automatic quality check of a plan against the Norfolk SSP guidance (§3, §5).

Each pure test starts from a plan that passes every check and changes one thing. Plans here are
built in memory (no database); the last tests load a plan from the database.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event

from bot.services.glossary import DEFAULT_GLOSSARY, glossary
from bot.services.quality import Check, QualityReport, check_plan, check_plan_in_db
from models import (
    AdjustmentKind,
    BroadArea,
    GlossaryTerm,
    Plan,
    PlanAdjustment,
    PlanNeed,
    PlanOutcome,
    PlanProvision,
    PlanStatus,
    PlanTarget,
    PlanVoice,
    TargetStatus,
)
from tests import factories

TODAY = date(2026, 10, 5)
TERMS = dict(DEFAULT_GLOSSARY)
KEYS = [
    "targets_smart",
    "provision_quantified",
    "strengths_and_needs",
    "pupil_views",
    "family_views",
    "acronyms_explained",
    "review_date",
]


def good_plan(plan: Plan | None = None) -> Plan:
    """A made-up plan that does everything the guidance asks (filling in `plan` if given)."""
    if plan is None:
        plan = Plan(status=PlanStatus.ACTIVE)
    plan.cycle_number = 2
    plan.start_date, plan.review_date = date(2026, 9, 8), date(2026, 12, 10)
    plan.voice = PlanVoice(
        aspirations="To be a vet.",
        important_to_me="My dog Biscuit and my nan.",
        strengths_and_likes="Drawing, football, being kind to younger pupils.",
        how_to_support_me="Show me, then let me try.",
        family_hopes="That Alex enjoys reading at home.",
    )
    plan.needs = [
        PlanNeed(
            broad_area=BroadArea.COGNITION_AND_LEARNING, description="Reading is slow.", position=0
        )
    ]
    plan.adjustments = [
        PlanAdjustment(kind=AdjustmentKind.IN_CLASS, description="Seat near the TA.", position=0)
    ]
    plan.outcomes = [PlanOutcome(description="Read for pleasure.", position=0)]
    reading = PlanTarget(
        description="Read 20 words on sight",
        measure="Word cards checked each Friday",
        baseline="Reads 8 words on sight",
        start_date=date(2026, 9, 8),
        end_date=date(2026, 12, 4),
        status=TargetStatus.OPEN,
        cycle_number=2,
        position=0,
    )
    plan.targets = [reading]
    plan.provisions = [
        PlanProvision(
            what="ELSA sessions on feeling calm before reading aloud",
            who="Mrs Hill (ELSA)",
            how_often="Weekly",
            how_long="30 minutes",
            start_date=date(2026, 9, 14),
            end_date=date(2026, 12, 4),
            target=reading,
            position=0,
        )
    ]
    return plan


def failing(plan: Plan, terms: dict[str, str] = TERMS) -> dict[str, list[str]]:
    """The problems of each failed check, by key."""
    report = check_plan(plan, terms, TODAY)
    return {check.key: check.problems for check in report.checks if not check.passed}


# --- a good plan --------------------------------------------------------------------------------


def test_a_good_plan_passes_every_check():
    report = check_plan(good_plan(), TERMS, TODAY)
    assert [check.key for check in report.checks] == KEYS
    assert report.all_passed and report.passed_count == report.total == 7
    assert all(check.problems == [] for check in report.checks)
    assert report.summary() == "7 of 7 checks passed"


def test_checks_say_what_was_checked_in_school_staff_words():
    titles = [check.title for check in check_plan(good_plan(), TERMS, TODAY).checks]
    assert titles == [
        "Every target is SMART",
        "Every provision is quantified and linked to a target",
        "Strengths are recorded as well as needs",
        "The pupil's views are recorded",
        "The family's views are recorded",
        "Every acronym is explained",
        "The review date is set",
    ]


# --- 1. SMART targets ---------------------------------------------------------------------------


def test_a_target_without_an_end_date_is_not_time_bound():
    plan = good_plan()
    plan.targets[0].end_date = None
    assert failing(plan) == {"targets_smart": ["Target “Read 20 words on sight” has no end date."]}


def test_a_target_needs_a_measure_and_a_baseline_or_success_criteria():
    plan = good_plan()
    plan.targets[0].measure = "   "
    plan.targets[0].baseline = None
    assert failing(plan) == {
        "targets_smart": [
            "Target “Read 20 words on sight” has no measure: say how progress will be measured.",
            "Target “Read 20 words on sight” has no baseline or success criteria: say where the "
            "pupil is now, or what success will look like.",
        ]
    }
    plan.targets[0].measure = "Word cards"
    plan.targets[0].success_criteria = "Reads all 20 cards on two Fridays running"
    assert failing(plan) == {}


def test_a_target_cannot_end_before_it_starts():
    plan = good_plan()
    plan.targets[0].end_date = date(2026, 9, 1)
    assert failing(plan) == {
        "targets_smart": [
            "Target “Read 20 words on sight” ends (1 September 2026) before it starts "
            "(8 September 2026)."
        ]
    }


def test_a_plan_needs_at_least_one_current_target():
    plan = good_plan()
    # Achieved last cycle: it was checked then, and is not part of this cycle's plan.
    old = plan.targets[0]
    old.cycle_number, old.status, old.measure, old.end_date = 1, TargetStatus.ACHIEVED, None, None
    assert failing(plan)["targets_smart"] == [
        "There are no targets yet: add at least one small-step SMART target."
    ]


def test_an_open_target_from_an_earlier_cycle_is_still_checked():
    plan = good_plan()
    plan.targets[0].cycle_number = 1
    plan.targets[0].end_date = None
    assert failing(plan)["targets_smart"] == ["Target “Read 20 words on sight” has no end date."]


def test_a_long_target_is_quoted_short_and_a_blank_one_by_its_number():
    plan = good_plan()
    plan.targets[0].end_date = None
    plan.targets[
        0
    ].description = (
        "Read   twenty high-frequency words on sight, in and out of order, in class and at home"
    )
    blank = PlanTarget(
        description=" ",
        measure="Checklist",
        baseline="None yet",
        end_date=date(2026, 12, 4),
        status=TargetStatus.OPEN,
        cycle_number=2,
    )
    plan.targets.append(blank)
    problems = failing(plan)["targets_smart"]
    quote = "“Read twenty high-frequency words on sight, in and out of or…”"
    assert problems == [
        f"Target {quote} has no end date.",
        "Target 2 does not say what the pupil will work towards.",
    ]
    assert len(quote) - 2 == 60


# --- 2. quantified provision --------------------------------------------------------------------


def test_provision_says_who_how_often_how_long_and_when():
    plan = good_plan()
    plan.provisions[0].how_often = ""
    plan.provisions[0].end_date = None
    assert failing(plan) == {
        "provision_quantified": [
            "Provision “ELSA sessions on feeling calm before reading aloud” does not say "
            "how often or when it ends."
        ]
    }


def test_provision_is_linked_to_a_target():
    plan = good_plan()
    plan.provisions[0].target = None
    assert failing(plan) == {
        "provision_quantified": [
            "Provision “ELSA sessions on feeling calm before reading aloud” is not linked to a "
            "target: choose the target it works towards."
        ]
    }
    plan.provisions[0].target_id = 7  # as a plan loaded from the database links it
    assert failing(plan) == {}


def test_a_plan_without_provision_fails():
    plan = good_plan()
    plan.provisions = []
    assert list(failing(plan)) == ["provision_quantified"]


# --- 3. strengths as well as needs --------------------------------------------------------------


def test_strengths_are_recorded_as_well_as_needs():
    plan = good_plan()
    plan.voice.strengths_and_likes = " \n "
    assert failing(plan) == {
        "strengths_and_needs": [
            "The pupil's strengths are not recorded: fill in “What I like and what I am good at”."
        ]
    }


def test_needs_are_recorded_as_well_as_strengths():
    plan = good_plan()
    plan.needs = []
    assert failing(plan) == {
        "strengths_and_needs": [
            "No needs are recorded: add every identified need, not only the primary one."
        ]
    }


# --- 4. the pupil's views -----------------------------------------------------------------------


def test_the_pupil_s_views_need_two_of_them_and_say_which_are_missing():
    plan = good_plan()
    voice = plan.voice
    voice.aspirations = voice.important_to_me = voice.how_to_support_me = None
    # A good day and a bad day together are one view.
    voice.good_day, voice.bad_day = "Football at lunch.", "Wet play."
    assert failing(plan) == {
        "pupil_views": [
            "Record at least 2 of the pupil's views in “My voice”. Not recorded yet: their hopes "
            "and dreams, what and who is important to them, how they want to be supported and "
            "what they find hard."
        ]
    }
    voice.difficulties = "Reading aloud."
    assert failing(plan) == {}


# --- 5. the family's views ----------------------------------------------------------------------


def test_the_family_s_views_are_recorded():
    plan = good_plan()
    plan.voice.family_hopes = "  "
    assert failing(plan) == {
        "family_views": [
            "The family's views are not recorded: add their hopes for the future or their "
            "concerns in “Family hopes”."
        ]
    }
    plan.voice.family_concerns = "Homework causes upset."
    assert failing(plan) == {}


def test_a_plan_with_no_voice_at_all_fails_every_voice_check():
    plan = good_plan()
    plan.voice = None
    assert set(failing(plan)) == {"strengths_and_needs", "pupil_views", "family_views"}


# --- 6. acronyms --------------------------------------------------------------------------------


def test_acronyms_the_glossary_does_not_explain_are_listed_once():
    plan = good_plan()
    plan.provisions[0].how = "Uses RWI sound cards, as the ELSA showed"
    plan.voice.about_me = "I like RWI."
    plan.outcomes[0].timescale = "By the end of KS2"  # letters and digits: not an acronym
    assert failing(plan) == {
        "acronyms_explained": [
            "RWI is not explained in the school's glossary: add it with "
            '/ssp glossary add RWI "what it means".'
        ]
    }


def test_the_school_s_own_glossary_explains_acronyms_whatever_their_case():
    plan = good_plan()
    plan.needs[0].description = "Finds RWI phonics hard."
    assert "acronyms_explained" in failing(plan)
    assert failing(plan, {**TERMS, "Rwi": "Read Write Inc.: a phonics programme."}) == {}
    # With an empty glossary, every acronym the plan uses is listed once, in order of use.
    problems = failing(plan, {})["acronyms_explained"]
    assert [problem.split()[0] for problem in problems] == ["RWI", "TA", "ELSA"]


# --- 7. review date -----------------------------------------------------------------------------


def test_a_plan_has_a_review_date():
    plan = good_plan()
    plan.review_date = None
    assert failing(plan) == {
        "review_date": ["There is no review date: set when the plan will next be reviewed."]
    }


def test_an_active_plan_past_its_review_date_is_overdue():
    plan = good_plan()
    plan.review_date = date(2026, 10, 1)
    assert failing(plan) == {
        "review_date": ["The review date (1 October 2026) has passed: the review is overdue."]
    }
    plan.review_date = TODAY  # due today is not overdue
    assert failing(plan) == {}


@pytest.mark.parametrize(
    ("status", "problems"),
    [
        (PlanStatus.IN_REVIEW, []),
        (
            PlanStatus.AWAITING_QA,
            ["The review date (1 October 2026) is in the past: choose a date still to come."],
        ),
    ],
)
def test_a_past_review_date_depends_on_where_the_plan_is(status, problems):
    plan = good_plan()
    plan.status, plan.review_date = status, date(2026, 10, 1)
    assert failing(plan).get("review_date", []) == problems


def test_a_review_date_before_the_plan_starts_is_a_problem():
    plan = good_plan()
    plan.start_date = date(2027, 1, 4)
    assert failing(plan) == {
        "review_date": [
            "The review date (10 December 2026) is before the plan starts (4 January 2027)."
        ]
    }


# --- the report ---------------------------------------------------------------------------------


def test_the_summary_counts_the_checks_passed():
    plan = good_plan()
    plan.review_date = None
    plan.voice.family_hopes = None
    report = check_plan(plan, TERMS, TODAY)
    assert report.summary() == "5 of 7 checks passed"
    assert (report.passed_count, report.total, report.all_passed) == (5, 7, False)
    assert report.check("family_views").passed is False
    with pytest.raises(KeyError):
        report.check("nonsense")


def test_checks_are_frozen():
    check = check_plan(good_plan(), TERMS, TODAY).checks[0]
    assert isinstance(check, Check)
    with pytest.raises(AttributeError):
        check.passed = False  # type: ignore[misc]
    assert QualityReport([check]).summary() == "1 of 1 checks passed"


# --- from the database --------------------------------------------------------------------------


def build_plan_in_db(session, *, extra_targets: int = 0) -> Plan:
    school = factories.school(session)
    holder = factories.staff(session, school)
    plan = factories.plan(session, school, factories.pupil(session, school), holder)
    session.add(GlossaryTerm(school_id=school.id, acronym="RWI", meaning="Read Write Inc."))
    good_plan(plan)
    plan.targets[0].description = "Read 20 RWI words on sight"
    plan.provisions[0].how_long = None
    for n in range(extra_targets):
        target = PlanTarget(description=f"Extra target {n}", status=TargetStatus.OPEN)
        plan.targets.append(target)
        plan.provisions.append(PlanProvision(what=f"Extra provision {n}", target=target))
    session.commit()
    return plan


def test_check_plan_in_db_loads_the_plan_and_matches_check_plan(session, sessions):
    plan = build_plan_in_db(session, extra_targets=3)
    expected = check_plan(plan, glossary(session, plan.school_id), TODAY)
    engine = session.get_bind()
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    with sessions() as fresh:
        event.listen(engine, "before_cursor_execute", count)
        try:
            report = check_plan_in_db(fresh, plan.school_id, plan.id, TODAY)
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert report == expected
    # The plan, its six sections and the glossary: however many targets and provision it has.
    assert len(statements) <= 8
    problems = {check.key: check.problems for check in report.checks if not check.passed}
    assert problems["provision_quantified"][0] == (
        "Provision “ELSA sessions on feeling calm before reading aloud” does not say for how long."
    )
    assert "acronyms_explained" not in problems  # the school's own glossary explains RWI
    assert problems["targets_smart"][0] == (
        "Target “Extra target 0” has no measure: say how progress will be measured."
    )


def test_check_plan_in_db_finds_only_the_school_s_own_plans(session):
    plan = build_plan_in_db(session)
    other = factories.school(session, "Riverside Primary")
    assert check_plan_in_db(session, other.id, plan.id, TODAY) is None
    assert check_plan_in_db(session, plan.school_id, plan.id + 1000, TODAY) is None
