"""Where the family stands on the plan: the latest answer from the agreement page, and whether
the plan is still the version they answered about (bot.services.agreements records answers).

Shown on the plan's overview in Slack and in every copy of the plan document:
"Agreed by Mrs Khan (mother) on 4 March 2026." while the plan is the version they were shown,
and "… to an earlier version; the plan has changed since." once anything in it has changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from bot.document import long_date
from models import AgreementDecision, Plan, PlanAgreement


@dataclass(frozen=True)
class AgreementStatus:
    name: str
    relationship: str
    on: date
    agreed: bool
    # The plan is still the version they were shown.
    current: bool

    @property
    def who(self) -> str:
        return f"{self.name} ({self.relationship})"

    @property
    def words(self) -> str:
        day = long_date(self.on)
        if self.agreed:
            if self.current:
                return f"Agreed by {self.who} on {day}."
            return (
                f"Agreed by {self.who} on {day} to an earlier version; the plan has changed since."
            )
        if self.current:
            return (
                f"Not agreed: {self.who} said on {day} that they disagree with parts of the plan."
            )
        return (
            f"Not agreed: {self.who} said on {day} that they disagree with parts of an earlier "
            "version; the plan has changed since."
        )


def latest(session: Session, plan: Plan) -> AgreementStatus | None:
    """The family's latest answer about this plan (any cycle), or None: one query."""
    answer = session.scalar(
        select(PlanAgreement)
        .where(PlanAgreement.plan_id == plan.id)
        .order_by(PlanAgreement.submitted_at.desc(), PlanAgreement.id.desc())
        .limit(1)
    )
    if answer is None:
        return None
    return AgreementStatus(
        answer.name,
        answer.relationship_to_cyp,
        answer.agreed_on,
        answer.decision == AgreementDecision.AGREED,
        answer.plan_version == plan.version,
    )


def of_plan(plan: Plan) -> AgreementStatus | None:
    """`latest` for a plan loaded in a session that is still open (the plan's overview)."""
    return latest(object_session(plan), plan)
