"""Observations between reviews: anyone who supports a pupil notes, on a given day, what
happened, which strategy of the plan they tried, and whether it helped (bot.services.observations).
Staff only: never in the family's copy of the plan."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, str_enum, utcnow
from models.people import Pupil, Staff
from models.plans import Plan


class Helped(enum.StrEnum):
    YES = "yes"
    PARTLY = "partly"
    NO = "no"
    NOT_SURE = "not_sure"

    @property
    def label(self) -> str:
        return {
            Helped.YES: "Yes",
            Helped.PARTLY: "Partly",
            Helped.NO: "No",
            Helped.NOT_SURE: "Not sure",
        }[self]


OWN_OBSERVATION = "own"


class Observation(Base):
    """One dated observation on a pupil's plan, in the plan's APDR cycle at the time."""

    __tablename__ = "observations"
    __table_args__ = (
        # The case holder's daily summary finds what is not yet summarised, school by school,
        # and its "Read them" what it counted.
        Index("ix_observations_school_id_summary_key", "school_id", "summary_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id", ondelete="CASCADE"))
    cycle_number: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    observed_on: Mapped[date] = mapped_column(Date)
    what_happened: Mapped[str] = mapped_column(Text)
    # The strategy's words as the plan had them that day ("Other" when none of the plan's).
    strategy: Mapped[str] = mapped_column(String(300))
    helped: Mapped[Helped] = mapped_column(str_enum(Helped, "observation_helped"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The dedupe key of the case holder's daily summary that counted it (None: not yet;
    # OWN_OBSERVATION: the case holder's own, which they need not be told of).
    summary_key: Mapped[str | None] = mapped_column(String(80))

    plan: Mapped[Plan] = relationship()
    pupil: Mapped[Pupil] = relationship()
    author: Mapped[Staff | None] = relationship()
