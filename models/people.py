"""Schools (tenants), their staff, pupils and teaching groups: the roster."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, str_enum, utcnow
from models.codes import BroadArea, NeedCode, PupilDisplay, QaReviews, SenStage, StaffRole


class School(Base):
    """A school: the tenant every other row belongs to. A trust runs several in one database."""

    __tablename__ = "schools"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    slack_team_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    pupil_display: Mapped[PupilDisplay] = mapped_column(
        str_enum(PupilDisplay, "pupil_display"), default=PupilDisplay.NAME
    )
    # School hours, local time in `timezone`: prompts go out between these on school days.
    school_day_starts: Mapped[time] = mapped_column(
        Time, default=time(8, 30), server_default="08:30:00"
    )
    school_day_ends: Mapped[time] = mapped_column(
        Time, default=time(16, 0), server_default="16:00:00"
    )
    # The review cycle's timings, in school days (holidays and closures do not count).
    review_notice_school_days: Mapped[int] = mapped_column(Integer, default=10, server_default="10")
    review_interval_school_days: Mapped[int] = mapped_column(
        Integer, default=60, server_default="60"
    )
    # Which submitted reviews go back to the SENDCo for quality assurance.
    qa_reviews: Mapped[QaReviews] = mapped_column(
        str_enum(QaReviews, "qa_reviews"), default=QaReviews.EVERY, server_default="every"
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Slack asked us to wait (a 429's Retry-After): the workspace's prompts are not posted
    # before this, by any sender or process (`sspbot tick` from cron included). Read only by the
    # outbox's own queries.
    slack_paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime, deferred=True)
    # The roster sync from Microsoft 365 (`sspbot sync m365`): when it last ran, whether it
    # worked and what it said (shown at the foot of `/ssp caseload`), and when it last worked.
    roster_sync_attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    roster_sync_ok: Mapped[bool | None] = mapped_column(Boolean)
    roster_sync_result: Mapped[str | None] = mapped_column(String(500))
    roster_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What Microsoft Graph last said (its delta links, and the ids and fields of the users and
    # classes it listed), so the next sync reads only changes. Loaded only by the sync.
    m365_sync_state: Mapped[dict | None] = mapped_column(JSON, deferred=True)
    # Retention (bot.services.retention): a pupil's SEN records are destroyed this many years
    # after their date of birth, once they have left (the IRMS schools toolkit: DOB + 31 years).
    retention_years: Mapped[int] = mapped_column(Integer, default=31, server_default="31")

    staff: Mapped[list[Staff]] = relationship(back_populates="school")
    pupils: Mapped[list[Pupil]] = relationship(back_populates="school")

    def local_date(self, moment: datetime) -> date:
        """The date at the school at this moment (its time zone, British Summer Time included)."""
        return moment.astimezone(ZoneInfo(self.timezone)).date()

    def at_school_start(self, day: date) -> datetime:
        """The start of the school day on `day`, as an aware datetime."""
        return datetime.combine(day, self.school_day_starts, tzinfo=ZoneInfo(self.timezone))

    def __repr__(self) -> str:
        return f"<School {self.id} {self.name!r}>"


class Staff(Base):
    """A member of staff. Never deleted: a leaver is marked inactive so history keeps its author."""

    __tablename__ = "staff"
    __table_args__ = (
        UniqueConstraint("school_id", "email"),
        UniqueConstraint("school_id", "slack_user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(String(20))
    staff_code: Mapped[str | None] = mapped_column(String(20))
    department: Mapped[str | None] = mapped_column(String(100))
    slack_user_id: Mapped[str | None] = mapped_column(String(32))
    # When users.lookupByEmail last failed to find them, so it is not asked on every request.
    slack_lookup_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The bot's DM with them (D…), from the answer to the first message posted to their user
    # id, so reconciling a retry can read its history without conversations.open. Valid only
    # while slack_dm_user_id is still slack_user_id: a relinked account never gets the old DM.
    slack_dm_channel: Mapped[str | None] = mapped_column(String(32))
    slack_dm_user_id: Mapped[str | None] = mapped_column(String(32))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    left_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    school: Mapped[School] = relationship(back_populates="staff")
    role_grants: Mapped[list[StaffRoleGrant]] = relationship(
        back_populates="staff", cascade="all, delete-orphan", lazy="selectin"
    )
    # The forms, year groups and houses they look after (form tutor, head of year, pastoral).
    scopes: Mapped[list[StaffScope]] = relationship(
        back_populates="staff", cascade="all, delete-orphan"
    )

    @property
    def roles(self) -> frozenset[StaffRole]:
        return frozenset(grant.role for grant in self.role_grants)

    def set_roles(self, roles: set[StaffRole]) -> None:
        kept = [grant for grant in self.role_grants if grant.role in roles]
        have = {grant.role for grant in kept}
        self.role_grants = kept + [StaffRoleGrant(role=role) for role in sorted(roles - have)]

    @property
    def dm_channel(self) -> str | None:
        """The DM channel with the bot, if known for their current Slack account."""
        if self.slack_user_id and self.slack_dm_user_id == self.slack_user_id:
            return self.slack_dm_channel
        return None

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def __repr__(self) -> str:
        return f"<Staff {self.id}>"


class CaseHolderProfile(Base):
    """A member of the SSP team: what they are best placed to hold (guidance §4.3).

    Case holders are matched to pupils by primary area of need, year group or house.
    """

    __tablename__ = "case_holder_profiles"

    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True
    )
    # Broad areas of need (BroadArea values) and year groups they know best; empty: any.
    areas: Mapped[list[str]] = mapped_column(JSON, default=list)
    year_groups: Mapped[list[int]] = mapped_column(JSON, default=list)
    house: Mapped[str | None] = mapped_column(String(50))
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    staff: Mapped[Staff] = relationship(foreign_keys=[staff_id])


class StaffRoleGrant(Base):
    __tablename__ = "staff_roles"

    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[StaffRole] = mapped_column(str_enum(StaffRole, "staff_role"), primary_key=True)

    staff: Mapped[Staff] = relationship(back_populates="role_grants")


class StaffScope(Base):
    """One form, year group or house a member of staff looks after, from the staff CSV.

    Exactly one of the three is set. A form tutor sees the pupils of their forms, a head of
    year their year groups and pastoral staff their houses (bot.access); forms and houses are
    matched in any letter case, as MIS exports spell them differently.
    """

    __tablename__ = "staff_scopes"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN form IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN year_group IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN house IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_scope",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    form: Mapped[str | None] = mapped_column(String(20))
    year_group: Mapped[int | None] = mapped_column(Integer)
    house: Mapped[str | None] = mapped_column(String(50))

    staff: Mapped[Staff] = relationship(back_populates="scopes")


class Pupil(Base):
    """A child or young person on roll, with the must-know information the MIS holds."""

    __tablename__ = "pupils"
    __table_args__ = (
        UniqueConstraint("school_id", "upn"),
        Index("ix_pupils_school_id_last_name", "school_id", "last_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    upn: Mapped[str] = mapped_column(String(13))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    preferred_name: Mapped[str | None] = mapped_column(String(100))
    date_of_birth: Mapped[date] = mapped_column(Date)
    # National curriculum year: 0 is Reception, 1..13 Years 1 to 13.
    year_group: Mapped[int] = mapped_column(Integer)
    taught_in_year_group: Mapped[bool] = mapped_column(Boolean, default=True)
    form: Mapped[str | None] = mapped_column(String(20))
    house: Mapped[str | None] = mapped_column(String(50))
    sen_stage: Mapped[SenStage] = mapped_column(
        str_enum(SenStage, "sen_stage"), default=SenStage.NONE
    )
    primary_need: Mapped[NeedCode | None] = mapped_column(str_enum(NeedCode, "primary_need"))
    secondary_need: Mapped[NeedCode | None] = mapped_column(str_enum(NeedCode, "secondary_need"))
    eal: Mapped[bool] = mapped_column(Boolean, default=False)
    pupil_premium: Mapped[bool] = mapped_column(Boolean, default=False)
    child_in_care: Mapped[bool] = mapped_column(Boolean, default=False)
    young_carer: Mapped[bool] = mapped_column(Boolean, default=False)
    medical_need: Mapped[bool] = mapped_column(Boolean, default=False)
    other_information: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    left_on: Mapped[date | None] = mapped_column(Date)
    # A legal hold keeps the pupil's records past their retention date (litigation, an
    # inquiry, a safeguarding review): `sspbot retention hold`.
    legal_hold_reason: Mapped[str | None] = mapped_column(String(300))
    legal_hold_since: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    school: Mapped[School] = relationship(back_populates="pupils")

    @property
    def known_as(self) -> str:
        return f"{self.preferred_name or self.first_name} {self.last_name}"

    @property
    def initials(self) -> str:
        return f"{(self.preferred_name or self.first_name)[:1]}{self.last_name[:1]}".upper()

    @property
    def primary_area(self) -> BroadArea | None:
        return self.primary_need.broad_area if self.primary_need else None

    def __repr__(self) -> str:
        # Deliberately no name: reprs end up in logs.
        return f"<Pupil {self.id}>"


class TeachingGroup(Base):
    """A class or teaching set from the timetable, linking pupils to the staff who teach them."""

    __tablename__ = "teaching_groups"
    __table_args__ = (UniqueConstraint("school_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    code: Mapped[str] = mapped_column(String(50))
    subject: Mapped[str | None] = mapped_column(String(100))
    year_group: Mapped[int | None] = mapped_column(Integer)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    school: Mapped[School] = relationship()
    teachers: Mapped[list[TeachingGroupTeacher]] = relationship(
        back_populates="group", cascade="all, delete-orphan"
    )
    members: Mapped[list[TeachingGroupPupil]] = relationship(
        back_populates="group", cascade="all, delete-orphan"
    )
    # Teaching assistants and other support staff in the class (classes CSV
    # `support_staff_emails`): they see its pupils as its teachers do, but are not its teachers
    # (no monitoring requests, not "the pupil's teachers").
    support: Mapped[list[TeachingGroupSupport]] = relationship(
        back_populates="group", cascade="all, delete-orphan"
    )


class TeachingGroupTeacher(Base):
    __tablename__ = "teaching_group_teachers"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("teaching_groups.id", ondelete="CASCADE"), primary_key=True
    )
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), primary_key=True, index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    group: Mapped[TeachingGroup] = relationship(back_populates="teachers")
    staff: Mapped[Staff] = relationship()


class TeachingGroupSupport(Base):
    __tablename__ = "teaching_group_support"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("teaching_groups.id", ondelete="CASCADE"), primary_key=True
    )
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), primary_key=True, index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    group: Mapped[TeachingGroup] = relationship(back_populates="support")
    staff: Mapped[Staff] = relationship()


class KeyAdult(Base):
    """A member of staff the SENDCo linked to a pupil as their key adult (`/ssp support`).

    Never deleted: ending a link sets `ended_at`, so who supported the pupil when stays on
    record. While open it lets them see the pupil as a teacher does (bot.access).
    """

    __tablename__ = "key_adults"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))

    pupil: Mapped[Pupil] = relationship()
    staff: Mapped[Staff] = relationship(foreign_keys=[staff_id])


class TeachingGroupPupil(Base):
    __tablename__ = "teaching_group_pupils"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("teaching_groups.id", ondelete="CASCADE"), primary_key=True
    )
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), primary_key=True, index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    group: Mapped[TeachingGroup] = relationship(back_populates="members")
    pupil: Mapped[Pupil] = relationship()


class GlossaryTerm(Base):
    """An acronym a school uses, explained in plain language for families."""

    __tablename__ = "glossary_terms"
    __table_args__ = (UniqueConstraint("school_id", "acronym"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    acronym: Mapped[str] = mapped_column(String(30))
    meaning: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GlossaryChange(Base):
    """One change to a school's glossary: who changed which acronym, from what, to what, when.

    Rows are only ever added: they are the term's history, and what the SENDCo reverts from.
    A meaning of None is "not the school's own": the built-in meaning (or, for an acronym we do
    not explain, not in the glossary at all).
    """

    __tablename__ = "glossary_changes"
    __table_args__ = (Index("ix_glossary_changes_school_id_acronym", "school_id", "acronym"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    acronym: Mapped[str] = mapped_column(String(30))
    old_meaning: Mapped[str | None] = mapped_column(Text)
    new_meaning: Mapped[str | None] = mapped_column(Text)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The change this one undid, when the SENDCo reverted it; a reverted change is not undone
    # twice, so reverting again steps further back through the history.
    reverts_id: Mapped[int | None] = mapped_column(ForeignKey("glossary_changes.id"))

    changed_by: Mapped[Staff | None] = relationship()
