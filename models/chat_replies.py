"""Replies written to the bot in Slack, and where each was filed on a plan."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class ChatReply(Base):
    """A message a member of staff wrote in their DM with the bot, filed as their comment.

    Keyed by the Slack message (`channel`, `message_ts`) so that an edit or a deletion in Slack
    finds it, and Slack's retries file it once. Filed either as the teacher's comment on a
    monitoring request (`monitoring_request_id`; `text` is the part of the request's comment
    this reply wrote) or as a note on the plan's timeline (`timeline_entry_id`). Until the
    author says which pupil a reply outside a thread is about, neither is set: the text waits
    here (never in a button's value).
    """

    __tablename__ = "chat_replies"
    __table_args__ = (UniqueConstraint("school_id", "channel", "message_ts"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    message_ts: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    monitoring_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("monitoring_requests.id", ondelete="CASCADE")
    )
    timeline_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("timeline_entries.id", ondelete="SET NULL")
    )
    # "waiting" (which pupil?), "filed", or "removed" (undone, or deleted in Slack).
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    filed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
