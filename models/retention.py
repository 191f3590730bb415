"""What retention destroyed: one record per pupil whose records were destroyed, with no
personal data in it (bot.services.retention)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class DestructionRecord(Base):
    """That a pupil's records were destroyed, when, under which rule, and how many rows of each
    table went. `record_number` is the pupil's former internal id: it names nobody once the
    pupil's rows are gone, and lets a DPO answer "was record N destroyed?"."""

    __tablename__ = "destruction_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    record_number: Mapped[int] = mapped_column(Integer)
    destroyed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The day the rule made the records due (date of birth + the school's years).
    due_on: Mapped[date] = mapped_column(Date)
    rule: Mapped[str] = mapped_column(String(200))
    # Who ran it ("cli" and the operating-system user, if known).
    run_by: Mapped[str] = mapped_column(String(100))
    # {table name: rows deleted}; audit events are kept with the pupil and plan unlinked.
    rows: Mapped[dict] = mapped_column(JSON)
