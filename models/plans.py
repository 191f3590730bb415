"""The SEN Support Plan and everything it contains (Norfolk guidance §3; One Planning)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, str_enum, utcnow
from models.codes import (
    AdjustmentKind,
    AssignmentStatus,
    BroadArea,
    ClosureReason,
    LinkedPlanKind,
    MeasureKind,
    NeedCode,
    NeedSource,
    PlanPersonRole,
    PlanStatus,
    TargetStatus,
    TimelineKind,
)
from models.people import Pupil, School, Staff

if TYPE_CHECKING:
    from models.provision import LibraryProvision


class Plan(Base):
    """One pupil's SEN Support Plan: a live document that runs through APDR cycles.

    `cycle_number` is the plan number in the APDR cycle; a submitted review starts the next one.
    `version` is an optimistic lock: a save based on an older version fails instead of silently
    overwriting someone else's change (see services.plans.save_plan).
    """

    __tablename__ = "plans"
    __table_args__ = (
        # A pupil has at most one plan that is not closed.
        Index(
            "uq_plans_open_plan_per_pupil",
            "pupil_id",
            unique=True,
            postgresql_where=text("status <> 'closed'"),
            sqlite_where=text("status <> 'closed'"),
        ),
        Index("ix_plans_school_id_case_holder_id", "school_id", "case_holder_id"),
        Index("ix_plans_school_id_review_date", "school_id", "review_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    cycle_number: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[PlanStatus] = mapped_column(
        str_enum(PlanStatus, "plan_status"), default=PlanStatus.DRAFT
    )
    start_date: Mapped[date | None] = mapped_column(Date)
    review_date: Mapped[date | None] = mapped_column(Date)
    case_holder_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why a closed plan was closed; `closure_note` is the SENDCo's few words when the reason is
    # "other". Who closed it is on the plan's timeline and in the audit log.
    closure_reason: Mapped[ClosureReason | None] = mapped_column(
        str_enum(ClosureReason, "closure_reason")
    )
    closure_note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    school: Mapped[School] = relationship()
    pupil: Mapped[Pupil] = relationship()
    case_holder: Mapped[Staff | None] = relationship(foreign_keys=[case_holder_id])
    updated_by: Mapped[Staff | None] = relationship(foreign_keys=[updated_by_id])
    voice: Mapped[PlanVoice | None] = relationship(
        back_populates="plan", cascade="all, delete-orphan", uselist=False
    )
    circle_of_support: Mapped[list[CircleMember]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="CircleMember.position"
    )
    needs: Mapped[list[PlanNeed]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanNeed.position"
    )
    adjustments: Mapped[list[PlanAdjustment]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanAdjustment.position"
    )
    outcomes: Mapped[list[PlanOutcome]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanOutcome.position"
    )
    targets: Mapped[list[PlanTarget]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanTarget.position"
    )
    provisions: Mapped[list[PlanProvision]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanProvision.position"
    )
    agencies: Mapped[list[AgencyInvolvement]] = relationship(
        back_populates="plan", cascade="all, delete-orphan"
    )
    reports: Mapped[list[AgencyReport]] = relationship(
        back_populates="plan", cascade="all, delete-orphan"
    )
    linked_plans: Mapped[list[LinkedPlan]] = relationship(
        back_populates="plan", cascade="all, delete-orphan"
    )
    people: Mapped[list[PlanPerson]] = relationship(
        back_populates="plan", cascade="all, delete-orphan"
    )
    consents: Mapped[list[SharingConsent]] = relationship(
        back_populates="plan", cascade="all, delete-orphan"
    )
    assignments: Mapped[list[CaseHolderAssignment]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="CaseHolderAssignment.id"
    )
    timeline: Mapped[list[TimelineEntry]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="TimelineEntry.occurred_at"
    )

    @property
    def current_provisions(self) -> list[PlanProvision]:
        """The provision in place now: a provision that ends is kept ("tried before"), ended."""
        return [p for p in self.provisions if p.ended_on is None]

    @property
    def ended_provisions(self) -> list[PlanProvision]:
        """What has been tried before, the latest ended first."""
        ended = [p for p in self.provisions if p.ended_on is not None]
        return sorted(ended, key=lambda p: (p.ended_on, p.id), reverse=True)

    def __repr__(self) -> str:
        return f"<Plan {self.id} v{self.version} {self.status}>"


class PlanVoice(Base):
    """The voice of the CYP and family: the one-page profile, good day / bad day, my journey."""

    __tablename__ = "plan_voices"

    plan_id: Mapped[int] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True
    )
    aspirations: Mapped[str | None] = mapped_column(Text)
    important_to_me: Mapped[str | None] = mapped_column(Text)
    # Two questions of the one-page profile, asked separately: the pupil's own "What I like and
    # what I am good at", and One Planning's "What people like and admire about me" (others'
    # words about the pupil). Before migration 0020 there was one question, asked as the first.
    strengths_and_likes: Mapped[str | None] = mapped_column(Text)
    liked_and_admired: Mapped[str | None] = mapped_column(Text)
    difficulties: Mapped[str | None] = mapped_column(Text)
    how_to_support_me: Mapped[str | None] = mapped_column(Text)
    good_day: Mapped[str | None] = mapped_column(Text)
    bad_day: Mapped[str | None] = mapped_column(Text)
    better_days: Mapped[str | None] = mapped_column(Text)
    about_me: Mapped[str | None] = mapped_column(Text)
    family_hopes: Mapped[str | None] = mapped_column(Text)
    family_concerns: Mapped[str | None] = mapped_column(Text)
    professional_concerns: Mapped[str | None] = mapped_column(Text)
    # "Must know" (migration 0029): what the case holder or SENDCo chose to put at the top of the
    # pupil passport for everyone who supports the pupil. The record's medical and child-in-care
    # flags stay off the passport unless they tick to show them: the passport goes to every
    # teacher and teaching assistant of the pupil, the record does not.
    must_know: Mapped[str | None] = mapped_column(Text)
    must_know_medical: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    must_know_in_care: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    plan: Mapped[Plan] = relationship(back_populates="voice")


class CircleMember(Base):
    """Someone in the CYP's circle of support, as the CYP sees it."""

    __tablename__ = "circle_of_support"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    relationship_to_cyp: Mapped[str | None] = mapped_column(String(200))
    # 1 is closest (family), rising outwards (friends, school, professionals).
    ring: Mapped[int] = mapped_column(Integer, default=1)
    position: Mapped[int] = mapped_column(Integer, default=0)

    plan: Mapped[Plan] = relationship(back_populates="circle_of_support")


class PlanNeed(Base):
    """One identified need: all needs, not only the primary one (guidance §3.3)."""

    __tablename__ = "plan_needs"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    broad_area: Mapped[BroadArea] = mapped_column(str_enum(BroadArea, "broad_area"))
    census_code: Mapped[NeedCode | None] = mapped_column(str_enum(NeedCode, "census_code"))
    description: Mapped[str] = mapped_column(Text)
    source: Mapped[NeedSource | None] = mapped_column(str_enum(NeedSource, "need_source"))
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)

    plan: Mapped[Plan] = relationship(back_populates="needs")


class PlanAdjustment(Base):
    """An in-class reasonable adjustment or exam access arrangement, led by the teacher."""

    __tablename__ = "plan_adjustments"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    kind: Mapped[AdjustmentKind] = mapped_column(str_enum(AdjustmentKind, "adjustment_kind"))
    description: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)

    plan: Mapped[Plan] = relationship(back_populates="adjustments")


class PlanOutcome(Base):
    """A long-term outcome; targets are the small steps towards it."""

    __tablename__ = "plan_outcomes"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(Text)
    timescale: Mapped[str | None] = mapped_column(String(200))
    from_ehcp: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)

    plan: Mapped[Plan] = relationship(back_populates="outcomes")


class PlanTarget(Base):
    """A SMART target: specific, measurable (measure, baseline, success criteria), time-bound."""

    __tablename__ = "plan_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    outcome_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_outcomes.id", ondelete="SET NULL")
    )
    description: Mapped[str] = mapped_column(Text)
    measure: Mapped[str | None] = mapped_column(Text)
    baseline: Mapped[str | None] = mapped_column(Text)
    success_criteria: Mapped[str | None] = mapped_column(Text)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[TargetStatus] = mapped_column(
        str_enum(TargetStatus, "target_status"), default=TargetStatus.OPEN
    )
    # The APDR cycle in which the target was set.
    cycle_number: Mapped[int] = mapped_column(Integer, default=1)
    position: Mapped[int] = mapped_column(Integer, default=0)

    plan: Mapped[Plan] = relationship(back_populates="targets")
    outcome: Mapped[PlanOutcome | None] = relationship()


class PlanProvision(Base):
    """Provision additional to and different from adaptive teaching: what, who, how, how often."""

    __tablename__ = "plan_provisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    target_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_targets.id", ondelete="SET NULL")
    )
    what: Mapped[str] = mapped_column(Text)
    who: Mapped[str | None] = mapped_column(String(200))
    how: Mapped[str | None] = mapped_column(Text)
    how_often: Mapped[str | None] = mapped_column(String(200))
    how_long: Mapped[str | None] = mapped_column(String(200))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # From the school's provision library (None: written in free text).
    # No foreign key in the schema: SQLite adds a column with one only by copying the table,
    # which the rows referring to plan_provisions would not survive. Library entries are retired,
    # never deleted, so the reference cannot dangle.
    library_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # A provision that ends is ended, not deleted: "what has been tried" survives.
    ended_on: Mapped[date | None] = mapped_column(Date)
    ended_reason: Mapped[str | None] = mapped_column(String(300))
    # Impact: an entry and an exit measure, in the unit `measure_kind` says (reading age: months).
    measure_kind: Mapped[MeasureKind | None] = mapped_column(str_enum(MeasureKind, "measure_kind"))
    measure_name: Mapped[str | None] = mapped_column(String(200))
    entry_value: Mapped[float | None] = mapped_column(Float)
    entry_on: Mapped[date | None] = mapped_column(Date)
    exit_value: Mapped[float | None] = mapped_column(Float)
    exit_on: Mapped[date | None] = mapped_column(Date)

    plan: Mapped[Plan] = relationship(back_populates="provisions")
    target: Mapped[PlanTarget | None] = relationship()
    library: Mapped[LibraryProvision | None] = relationship(
        primaryjoin="foreign(PlanProvision.library_id) == LibraryProvision.id", viewonly=True
    )


class AgencyInvolvement(Base):
    """An external agency involved with the CYP (EP, SALT, OT, CAMHS, …)."""

    __tablename__ = "agency_involvements"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    agency: Mapped[str] = mapped_column(String(200))
    contact: Mapped[str | None] = mapped_column(String(200))
    involvement: Mapped[str | None] = mapped_column(Text)
    started_on: Mapped[date | None] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)

    plan: Mapped[Plan] = relationship(back_populates="agencies")


class AgencyReport(Base):
    """A professional report that informed the plan; its recommendations belong in the plan."""

    __tablename__ = "agency_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    agency_involvement_id: Mapped[int | None] = mapped_column(
        ForeignKey("agency_involvements.id", ondelete="SET NULL")
    )
    title: Mapped[str] = mapped_column(String(300))
    author: Mapped[str | None] = mapped_column(String(200))
    report_date: Mapped[date | None] = mapped_column(Date)
    recommendations: Mapped[str | None] = mapped_column(Text)
    # Where the report itself is kept (the school's records system); never the file.
    location: Mapped[str | None] = mapped_column(String(500))

    plan: Mapped[Plan] = relationship(back_populates="reports")


class LinkedPlan(Base):
    """A link to another plan for the CYP or family (health care, PEP, Early Help, …)."""

    __tablename__ = "linked_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    kind: Mapped[LinkedPlanKind] = mapped_column(str_enum(LinkedPlanKind, "linked_plan_kind"))
    description: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(500))

    plan: Mapped[Plan] = relationship(back_populates="linked_plans")


class PlanPerson(Base):
    """Who agreed to deliver the plan, who contributed, and who it is sent to."""

    __tablename__ = "plan_people"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    role: Mapped[PlanPersonRole] = mapped_column(str_enum(PlanPersonRole, "plan_person_role"))
    name: Mapped[str] = mapped_column(String(200))
    relationship_to_cyp: Mapped[str | None] = mapped_column(String(200))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))

    plan: Mapped[Plan] = relationship(back_populates="people")


class SharingConsent(Base):
    """What the CYP or parent/carer agreed may be shared, with whom, and how it is stored."""

    __tablename__ = "sharing_consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    given_by: Mapped[str] = mapped_column(String(200))
    relationship_to_cyp: Mapped[str | None] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(Text)
    storage_notes: Mapped[str | None] = mapped_column(Text)
    given_on: Mapped[date] = mapped_column(Date)
    withdrawn_on: Mapped[date | None] = mapped_column(Date)
    # The part of the scope SSP Bot enforces: may the plan be sent to professionals outside the
    # school (the services working with the child)? `scope` says who, in the family's words.
    # Unticked unless someone records it, so nothing leaves the school on a guess.
    outside_school: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    plan: Mapped[Plan] = relationship(back_populates="consents")


class CaseHolderAssignment(Base):
    """One delegation of a plan to a case holder: who decided, why, and how it was answered.

    The plan's `case_holder_id` is the current holder; these rows are the history.
    """

    __tablename__ = "case_holder_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[AssignmentStatus] = mapped_column(
        str_enum(AssignmentStatus, "assignment_status"), default=AssignmentStatus.PENDING
    )
    response_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    plan: Mapped[Plan] = relationship(back_populates="assignments")
    staff: Mapped[Staff] = relationship(foreign_keys=[staff_id])
    assigned_by: Mapped[Staff | None] = relationship(foreign_keys=[assigned_by_id])


class PlanRequest(Base):
    """A case holder asking the SENDCo to hold a pupil's plan (guidance §4.3: the SENDCo decides
    who holds each plan). Nothing changes until the SENDCo approves: approving delegates the plan
    as `/ssp assign` does; declining leaves everything as it was.

    `approved` is None while the SENDCo has not answered.
    """

    __tablename__ = "plan_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved: Mapped[bool | None] = mapped_column(Boolean)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    pupil: Mapped[Pupil] = relationship()
    staff: Mapped[Staff] = relationship(foreign_keys=[staff_id])


class PriorityEntry(Base):
    """A pupil the SENDCo put on the priority list by hand (guidance §4.3: the SENDCo keeps the
    list), with why, in the SENDCo's order (`position`, lowest first; gaps are allowed).

    The entry goes when the pupil's plan is assigned. `reason` is staff workflow, shown to the
    SENDCo only.
    """

    __tablename__ = "priority_entries"
    __table_args__ = (UniqueConstraint("school_id", "pupil_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    pupil: Mapped[Pupil] = relationship()


class TimelineEntry(Base):
    """The plan's chronology of meetings and communications, and of changes made in Slack."""

    __tablename__ = "timeline_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[TimelineKind] = mapped_column(str_enum(TimelineKind, "timeline_kind"))
    summary: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Someone chose to show this entry to the family although its kind is staff workflow (a
    # note, a plan change): see bot.services.plan_document.FAMILY_TIMELINE_KINDS.
    shared_with_family: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    plan: Mapped[Plan] = relationship(back_populates="timeline")
    author: Mapped[Staff | None] = relationship()
