"""Monitoring of a plan by the staff who carry it out: one request per member of staff per APDR
cycle (its teachers, and support staff who deliver its provision)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, str_enum, utcnow
from models.codes import (
    Impact,
    MonitoringRole,
    MonitoringStatus,
    PupilResponse,
    SessionAsPlanned,
    StrategiesInPlace,
)
from models.people import Staff, TeachingGroup
from models.plans import Plan


class MonitoringRequest(Base):
    """A teacher asked: are the plan's strategies in place in your lessons, and what impact?

    One per (plan, cycle, teacher): asking again finds the same request. The answer can be
    changed until the cycle's review is submitted, which closes the request.
    """

    __tablename__ = "monitoring_requests"
    __table_args__ = (
        UniqueConstraint("plan_id", "cycle_number", "teacher_id"),
        Index("ix_monitoring_requests_teacher_id_status", "teacher_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    cycle_number: Mapped[int] = mapped_column(Integer)
    # Whoever is asked: a teacher, or (role "support") a member of support staff.
    teacher_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    # Teachers answer strategies and impact; support staff answer session and responding.
    role: Mapped[MonitoringRole] = mapped_column(
        str_enum(MonitoringRole, "monitoring_role"),
        default=MonitoringRole.TEACHER,
        server_default=MonitoringRole.TEACHER.value,
    )
    # The class in which the teacher teaches the pupil (the first, if several).
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("teaching_groups.id", ondelete="SET NULL")
    )
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    status: Mapped[MonitoringStatus] = mapped_column(
        str_enum(MonitoringStatus, "monitoring_status"), default=MonitoringStatus.OPEN
    )
    strategies: Mapped[StrategiesInPlace | None] = mapped_column(
        str_enum(StrategiesInPlace, "strategies_in_place")
    )
    impact: Mapped[Impact | None] = mapped_column(str_enum(Impact, "impact"))
    session_as_planned: Mapped[SessionAsPlanned | None] = mapped_column(
        str_enum(SessionAsPlanned, "session_as_planned")
    )
    responding: Mapped[PupilResponse | None] = mapped_column(
        str_enum(PupilResponse, "pupil_response")
    )
    comment: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)
    to_change: Mapped[str | None] = mapped_column(Text)
    withdrawn_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the teacher was first told (in a digest), and reminded: a reminder goes once.
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    plan: Mapped[Plan] = relationship()
    teacher: Mapped[Staff] = relationship(foreign_keys=[teacher_id])
    group: Mapped[TeachingGroup | None] = relationship()
