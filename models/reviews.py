"""Reviews: the R of APDR, recorded per target, and the start of the next cycle."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, str_enum, utcnow
from models.codes import Effectiveness, ReviewStatus, TargetResult
from models.people import Staff
from models.plans import Plan, PlanProvision, PlanTarget


class ProvisionDecision(enum.StrEnum):
    """What a review decided for one provision (Norfolk §3.7: "Does the support need to continue
    or does something different need to be tried?")."""

    CONTINUE = "continue"
    ADAPT = "adapt"
    STOP = "stop"


class Review(Base):
    """The review of one APDR cycle of a plan (One Planning: "Record of my review")."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("plan_id", "cycle_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    cycle_number: Mapped[int] = mapped_column(Integer)
    status: Mapped[ReviewStatus] = mapped_column(
        str_enum(ReviewStatus, "review_status"), default=ReviewStatus.DRAFT
    )
    meeting_date: Mapped[date | None] = mapped_column(Date)
    what_is_working: Mapped[str | None] = mapped_column(Text)
    what_is_not_working: Mapped[str | None] = mapped_column(Text)
    what_needs_to_change: Mapped[str | None] = mapped_column(Text)
    next_steps: Mapped[str | None] = mapped_column(Text)
    recommendations: Mapped[str | None] = mapped_column(Text)
    # Norfolk §3.7 "Do new outcomes need to be identified?", and which, in a line.
    new_outcomes_needed: Mapped[bool | None] = mapped_column(Boolean)
    new_outcomes: Mapped[str | None] = mapped_column(Text)
    cyp_views: Mapped[str | None] = mapped_column(Text)
    family_views: Mapped[str | None] = mapped_column(Text)
    # Submitting needs the family's views or this: why they could not be gathered (staff-only).
    family_views_missing_reason: Mapped[str | None] = mapped_column(Text)
    attendees: Mapped[str | None] = mapped_column(Text)
    # Proposed while drafting; becomes the plan's review date when the review is submitted.
    next_review_date: Mapped[date | None] = mapped_column(Date)
    # A case holder may push the review prompt back once, by a few school days, with a reason.
    snoozed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    snooze_school_days: Mapped[int | None] = mapped_column(Integer)
    snooze_reason: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    plan: Mapped[Plan] = relationship()
    author: Mapped[Staff | None] = relationship(foreign_keys=[author_id])
    approved_by: Mapped[Staff | None] = relationship(foreign_keys=[approved_by_id])
    target_results: Mapped[list[ReviewTargetResult]] = relationship(
        back_populates="review", cascade="all, delete-orphan"
    )
    revisions: Mapped[list[ReviewRevision]] = relationship(
        back_populates="review", cascade="all, delete-orphan", order_by="ReviewRevision.number"
    )
    provision_decisions: Mapped[list[ReviewProvisionDecision]] = relationship(
        back_populates="review",
        cascade="all, delete-orphan",
        order_by="ReviewProvisionDecision.position",
    )


class ReviewTargetResult(Base):
    """How far one target was met at a review, with the evidence (a score, an observation)."""

    __tablename__ = "review_target_results"
    __table_args__ = (UniqueConstraint("review_id", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(
        ForeignKey("plan_targets.id", ondelete="CASCADE"), index=True
    )
    # Empty while the review is a draft.
    result: Mapped[TargetResult | None] = mapped_column(str_enum(TargetResult, "target_result"))
    evidence: Mapped[str | None] = mapped_column(Text)
    # Whether the target goes on into the next cycle (a copy is made) or is closed.
    carry_forward: Mapped[bool | None] = mapped_column(Boolean)

    review: Mapped[Review] = relationship(back_populates="target_results")
    target: Mapped[PlanTarget] = relationship()


class ReviewProvisionDecision(Base):
    """Whether one provision continues, is adapted or stops, as decided at a review.

    The provision's words are copied here: a provision removed from the plan later leaves its
    decision in the review record (`provision_id` becomes NULL, the copy stays).
    """

    __tablename__ = "review_provision_decisions"
    __table_args__ = (UniqueConstraint("review_id", "provision_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    provision_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_provisions.id", ondelete="SET NULL"), index=True
    )
    provision_what: Mapped[str] = mapped_column(Text)
    # Empty in a draft until chosen; every provision has one once the review is submitted.
    decision: Mapped[ProvisionDecision | None] = mapped_column(
        str_enum(ProvisionDecision, "provision_decision")
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    # How well it worked, as the review rated it (issue 19: impact).
    effectiveness: Mapped[Effectiveness | None] = mapped_column(
        str_enum(Effectiveness, "effectiveness")
    )
    # How much of it was delivered this cycle, as the reviewer saw it: kept with the decision so
    # the record still says what the review was judging when later sessions are logged.
    sessions_planned: Mapped[int | None] = mapped_column(Integer)
    sessions_delivered: Mapped[int | None] = mapped_column(Integer)

    review: Mapped[Review] = relationship(back_populates="provision_decisions")
    provision: Mapped[PlanProvision | None] = relationship()


class ReviewRevision(Base):
    """What a submitted review said before an amendment: the history the SENDCo can check."""

    __tablename__ = "review_revisions"
    __table_args__ = (UniqueConstraint("review_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    # The review's notes and target results as they stood, before the amendment.
    content: Mapped[dict] = mapped_column(JSON)
    change: Mapped[str] = mapped_column(String(500))
    saved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    review: Mapped[Review] = relationship(back_populates="revisions")
