"""Slack events already acted on, so Slack's retries of one (and a restart between them) act
once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


class ProcessedEvent(Base):
    """One Events API delivery the app has acted on, by Slack's `event_id` (which its retries,
    sent with X-Slack-Retry-Num, repeat). Kept a day: Slack gives up retrying within the hour."""

    __tablename__ = "processed_events"
    __table_args__ = (Index("ix_processed_events_received_at", "received_at"),)

    event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    team_id: Mapped[str | None] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
