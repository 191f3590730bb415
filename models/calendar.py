"""A school's calendar: its terms, and the closure days (INSET, bank holidays) within them.

Days between terms are holidays. The calendar is replaced whole by each import.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, str_enum, utcnow
from models.codes import CalendarKind


class SchoolCalendarEntry(Base):
    """A term or a closure: `start_date` to `end_date`, both inclusive."""

    __tablename__ = "school_calendar_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    kind: Mapped[CalendarKind] = mapped_column(str_enum(CalendarKind, "calendar_kind"))
    name: Mapped[str] = mapped_column(String(100))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<SchoolCalendarEntry {self.id} {self.kind.value} {self.start_date}>"
