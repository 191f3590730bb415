"""The audit log: who read or changed which plan, when, and through which command."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, UTCDateTime, utcnow


class AuditEvent(Base):
    """One access to pupil data. Append-only: the ORM refuses to change or delete a row.

    `detail` is for what was done ("edited targets"), never for the pupil's details themselves.
    """

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_school_id_occurred_at", "school_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    # Who acted when there is no staff row: "cli", "scheduler", "slack:U0123".
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    via: Mapped[str] = mapped_column(String(100))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"), index=True)
    pupil_id: Mapped[int | None] = mapped_column(ForeignKey("pupils.id"), index=True)
    detail: Mapped[str | None] = mapped_column(String(500))


class AuditLogIsAppendOnly(Exception):
    pass


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, flush_context, instances) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditLogIsAppendOnly("audit events cannot be changed or deleted")
