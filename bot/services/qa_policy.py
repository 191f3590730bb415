"""Which submitted reviews go back to the SENDCo for quality assurance: the school's setting
(`/ssp settings qa-reviews`). New plans always do; this decides only for reviews."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.services.calendar import load_calendar
from models import (
    CaseHolderAssignment,
    Plan,
    ProvisionDecision,
    QaReviews,
    Review,
    ReviewStatus,
    School,
)

SAMPLE_ONE_IN = 5
CHANGING = frozenset({ProvisionDecision.ADAPT, ProvisionDecision.STOP})
# Without a term on the calendar for the case holder's first plan: about a term, in school days.
FIRST_TERM_SCHOOL_DAYS = 65


def review_needs_qa(
    session: Session, school: School, review: Review, author_id: int | None, today: date
) -> bool:
    """Whether this submitted review (flushed, with its target results) goes to the SENDCo."""
    if school.qa_reviews == QaReviews.CHANGES:
        return changes_the_plan(review)
    if school.qa_reviews == QaReviews.SAMPLE:
        return in_first_term(session, school, author_id, today) or _sampled(session, school)
    return True


def changes_the_plan(review: Review) -> bool:
    """The review changes the targets or the provision: it closes a target rather than carrying
    it forward, says new outcomes are needed, or adapts or stops a provision.

    (Provision changes outside a review, like any change to the targets, already send an
    approved plan back for quality assurance. "What needs to change" is not a test: the form
    requires an answer, "nothing" included.)"""
    return (
        any(result.carry_forward is False for result in review.target_results)
        or bool(review.new_outcomes_needed)
        or any(d.decision in CHANGING for d in review.provision_decisions)
    )


def in_first_term(session: Session, school: School, staff_id: int | None, today: date) -> bool:
    """The case holder was first given a plan this term (or, with no term on the calendar for
    it, in the last FIRST_TERM_SCHOOL_DAYS school days)."""
    if staff_id is None:
        return False
    first: datetime | None = session.scalar(
        select(func.min(CaseHolderAssignment.created_at))
        .join(Plan, Plan.id == CaseHolderAssignment.plan_id)
        .where(CaseHolderAssignment.staff_id == staff_id, Plan.school_id == school.id)
    )
    if first is None:
        return True  # writing before any plan was delegated to them: new to it
    began = school.local_date(first)
    calendar = load_calendar(session, school.id)
    for term in calendar.terms:
        if term.contains(today):
            return term.contains(began)
    return calendar.school_days_between(began, today) < FIRST_TERM_SCHOOL_DAYS


def _sampled(session: Session, school: School) -> bool:
    """One in SAMPLE_ONE_IN of the school's submitted reviews, counting this one: the 1st, the
    6th, … (every review counts, sampled or not, so the share holds whatever the order)."""
    submitted = session.scalar(
        select(func.count(Review.id))
        .join(Plan, Plan.id == Review.plan_id)
        .where(Plan.school_id == school.id, Review.status != ReviewStatus.DRAFT)
    )
    return (submitted or 0) % SAMPLE_ONE_IN == 1
