"""What a pupil's SEN record said, and when: a row for every change of SEN stage or census needs.

Norfolk §2: records must show the support given over the pupil's whole time in school. The
roster import and the Microsoft 365 sync overwrite `pupils.sen_stage` and the needs; this keeps
each state with the day it changed and where the change came from, never overwritten.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, str_enum, utcnow
from models.codes import NeedCode, SenChangeSource, SenStage
from models.people import Pupil


class SenHistory(Base):
    """The pupil's SEN stage and census needs from `changed_on`, and what they were before."""

    __tablename__ = "pupil_sen_history"
    __table_args__ = (Index("ix_pupil_sen_history_pupil_id_changed_on", "pupil_id", "changed_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id", ondelete="CASCADE"))
    changed_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    source: Mapped[SenChangeSource] = mapped_column(str_enum(SenChangeSource, "sen_change_source"))
    # The member of staff, when the change was theirs.
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    sen_stage: Mapped[SenStage] = mapped_column(str_enum(SenStage, "history_sen_stage"))
    primary_need: Mapped[NeedCode | None] = mapped_column(
        str_enum(NeedCode, "history_primary_need")
    )
    secondary_need: Mapped[NeedCode | None] = mapped_column(
        str_enum(NeedCode, "history_secondary_need")
    )
    # None on the first row of a pupil new to the roster.
    previous_sen_stage: Mapped[SenStage | None] = mapped_column(
        str_enum(SenStage, "history_previous_sen_stage")
    )
    previous_primary_need: Mapped[NeedCode | None] = mapped_column(
        str_enum(NeedCode, "history_previous_primary_need")
    )
    previous_secondary_need: Mapped[NeedCode | None] = mapped_column(
        str_enum(NeedCode, "history_previous_secondary_need")
    )

    pupil: Mapped[Pupil] = relationship()
