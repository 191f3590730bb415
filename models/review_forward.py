"""What was added to an active plan that may bring its review forward (Norfolk §3.6, §4.1).

Each change is a row, tied to the ask its case holder was sent (one ask per plan per day, however
many changes): the ask's message names only the pupil, and "What changed" reads these rows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, str_enum, utcnow
from models.codes import ForwardReason
from models.outbox import Prompt


class ReviewForwardChange(Base):
    """One report, need or access arrangement added to an active plan."""

    __tablename__ = "review_forward_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    # The case holder's ask this change is part of (the REVIEW_FORWARD prompt).
    prompt_id: Mapped[int] = mapped_column(ForeignKey("prompts.id"), index=True)
    reason: Mapped[ForwardReason] = mapped_column(str_enum(ForwardReason, "forward_reason"))
    # The added item's id in its own table (agency_reports, plan_needs, plan_adjustments); it
    # may since have been removed, and then the change is shown without it.
    item_id: Mapped[int | None] = mapped_column(Integer)
    # Who added it in Slack; None when a roster import (or the Microsoft 365 sync) brought it.
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    # A need from the roster has no item on the plan: the need codes it gained, in words.
    note: Mapped[str | None] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    prompt: Mapped[Prompt] = relationship()
