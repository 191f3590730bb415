"""The school's provision map: what it offers (the library), the intervention groups that run
it, every session they were due to hold and whether it happened, for whom.

Norfolk §3.4–3.5, §4.1: provision is chosen from what the school ordinarily offers and from
additional interventions, and monitoring and review feed "what works well". A session is a row
from the moment it was due (bot.services.delivery.materialise), so "planned" is a count of rows
and "delivered" a count of those logged as delivered with the pupil there: delivery rates are SQL
counts, never recomputed from a timetable that may have changed since.
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, str_enum, utcnow
from models.codes import BroadArea, ProvisionTier, SessionStatus
from models.people import Pupil, Staff


class LibraryProvision(Base):
    """One provision the school offers: an intervention or ordinarily available provision.

    Retired rather than deleted (`is_active` off): plans and groups that used it keep its name.
    """

    __tablename__ = "provision_library"
    __table_args__ = (UniqueConstraint("school_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    area_of_need: Mapped[BroadArea] = mapped_column(str_enum(BroadArea, "library_area_of_need"))
    tier: Mapped[ProvisionTier] = mapped_column(str_enum(ProvisionTier, "provision_tier"))
    group_size: Mapped[int | None] = mapped_column(Integer)
    sessions_per_week: Mapped[int | None] = mapped_column(Integer)
    session_minutes: Mapped[int | None] = mapped_column(Integer)
    weeks: Mapped[int | None] = mapped_column(Integer)
    staff_role: Mapped[str | None] = mapped_column(String(200))
    # In pence, so sums are exact.
    cost_per_session_pence: Mapped[int | None] = mapped_column(Integer)
    cost_per_pupil_pence: Mapped[int | None] = mapped_column(Integer)
    # Written for families: the family's copy of the plan may show it.
    description: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    groups: Mapped[list[InterventionGroup]] = relationship(back_populates="provision")


class InterventionGroup(Base):
    """A library intervention run for several pupils by one member of staff at a regular time,
    e.g. "Lexia, Year 7", Tuesdays and Thursdays 08:40, Mr Ferreira."""

    __tablename__ = "intervention_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("provision_library.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    # ISO weekdays the group meets on, e.g. "2,4" for Tuesday and Thursday.
    weekdays: Mapped[str] = mapped_column(String(20))
    starts_at: Mapped[time] = mapped_column(Time)
    minutes: Mapped[int] = mapped_column(Integer)
    location: Mapped[str | None] = mapped_column(String(200))
    starts_on: Mapped[date] = mapped_column(Date)
    # The last day it runs (None: until ended). Sessions are due on school days in between.
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    provision: Mapped[LibraryProvision] = relationship(back_populates="groups")
    staff: Mapped[Staff] = relationship(foreign_keys=[staff_id])
    members: Mapped[list[GroupMember]] = relationship(
        back_populates="group", cascade="all, delete-orphan", order_by="GroupMember.id"
    )

    @property
    def weekday_numbers(self) -> tuple[int, ...]:
        return tuple(int(day) for day in self.weekdays.split(",") if day)


class GroupMember(Base):
    """A pupil in a group from `joined_on` until `left_on`, the first day without them (None:
    still in it). Leaving ends the row; joining again starts a new one, so planned sessions
    follow the dates."""

    __tablename__ = "intervention_group_members"
    __table_args__ = (Index("ix_intervention_group_members_pupil_id", "pupil_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("intervention_groups.id", ondelete="CASCADE"), index=True
    )
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id", ondelete="CASCADE"))
    # The plan's provision row this membership delivers, when the pupil has a plan.
    provision_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_provisions.id", ondelete="SET NULL"), index=True
    )
    joined_on: Mapped[date] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)

    group: Mapped[InterventionGroup] = relationship(back_populates="members")
    pupil: Mapped[Pupil] = relationship()


class InterventionSession(Base):
    """One session a group was due to hold on a school day, and what the member of staff said."""

    __tablename__ = "intervention_sessions"
    __table_args__ = (
        UniqueConstraint("group_id", "held_on"),
        Index("ix_intervention_sessions_school_id_held_on", "school_id", "held_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    group_id: Mapped[int] = mapped_column(ForeignKey("intervention_groups.id", ondelete="CASCADE"))
    held_on: Mapped[date] = mapped_column(Date)
    starts_at: Mapped[time] = mapped_column(Time)
    minutes: Mapped[int] = mapped_column(Integer)
    # Who was due to run it that day (the group's member of staff at the time).
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    status: Mapped[SessionStatus] = mapped_column(
        str_enum(SessionStatus, "session_status"), default=SessionStatus.AWAITING
    )
    not_delivered_reason: Mapped[str | None] = mapped_column(String(300))
    logged_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    logged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The DM that asked about it (one per member of staff per day, listing all their sessions).
    prompt_id: Mapped[int | None] = mapped_column(ForeignKey("prompts.id"), index=True)

    group: Mapped[InterventionGroup] = relationship()
    pupils: Mapped[list[SessionPupil]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="SessionPupil.id"
    )


class SessionPupil(Base):
    """A pupil a session was planned for (a member of the group that day), and whether they
    were absent. Delivered to the pupil = the session delivered and the pupil not absent."""

    __tablename__ = "intervention_session_pupils"
    __table_args__ = (
        UniqueConstraint("session_id", "pupil_id"),
        Index("ix_intervention_session_pupils_pupil_id", "pupil_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("intervention_sessions.id", ondelete="CASCADE")
    )
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id", ondelete="CASCADE"))
    provision_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_provisions.id", ondelete="SET NULL"), index=True
    )
    absent: Mapped[bool] = mapped_column(Boolean, default=False)

    session: Mapped[InterventionSession] = relationship(back_populates="pupils")
    pupil: Mapped[Pupil] = relationship()
