"""The review meeting, as the case holder set it for a plan's cycle, and the family's replies
from their page (issue 17).

A reply has its own table rather than a row of `contributions` with its answers as JSON: its
answers are few and fixed (can they come, how they will join), the plan's overview and the
review notes read the latest one by those columns, and a reply is never "added to the plan" as
views are.
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, str_enum, utcnow
from models.codes import MeetingJoin
from models.family import Invitation


class ReviewMeeting(Base):
    """When and where a plan's review meeting is, one per plan and cycle, changed in place."""

    __tablename__ = "review_meetings"
    __table_args__ = (UniqueConstraint("plan_id", "cycle_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    cycle_number: Mapped[int] = mapped_column(Integer)
    meeting_date: Mapped[date] = mapped_column(Date)
    # The school's local time of day (the date is a school day there).
    meeting_time: Mapped[time] = mapped_column(Time)
    place: Mapped[str | None] = mapped_column(String(200))
    call_link: Mapped[str | None] = mapped_column(String(500))
    who_is_coming: Mapped[str | None] = mapped_column(Text)
    # Counts changes to the details: a reply answered the details of the revision it names.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    set_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MeetingReply(Base):
    """What a family said about the meeting through their link."""

    __tablename__ = "meeting_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("review_meetings.id", ondelete="CASCADE"), index=True
    )
    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("invitations.id", ondelete="CASCADE"), index=True
    )
    cycle_number: Mapped[int] = mapped_column(Integer)
    meeting_revision: Mapped[int] = mapped_column(Integer)
    # The details as the family saw them ("Tuesday 1 December 2026 at 3:30pm, Room 4"): kept, as
    # the meeting may be changed after they replied.
    details_answered: Mapped[str] = mapped_column(String(400))
    can_come: Mapped[bool] = mapped_column(Boolean)
    # "I need another time": the days and times that would suit them.
    other_times: Mapped[str | None] = mapped_column(Text)
    join_by: Mapped[MeetingJoin | None] = mapped_column(str_enum(MeetingJoin, "meeting_join"))
    note: Mapped[str | None] = mapped_column(Text)
    contributor_name: Mapped[str] = mapped_column(String(100))
    contributor_relationship: Mapped[str] = mapped_column(String(100))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The case holder's DM about it ("The family replied about Ava's review meeting").
    prompt_id: Mapped[int | None] = mapped_column(ForeignKey("prompts.id"), index=True)

    meeting: Mapped[ReviewMeeting] = relationship()
    invitation: Mapped[Invitation] = relationship()
