"""Families and young people taking part (issue 17): the links they are sent, and what they send.

A link's token is never stored: only its SHA-256 hash, so the database alone opens no page.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, str_enum, utcnow
from models.codes import AgreementDecision, InvitationPurpose, SharingChoice
from models.outbox import Prompt
from models.people import Pupil


class Invitation(Base):
    """A link for one pupil, one purpose and one plan cycle."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    purpose: Mapped[InvitationPurpose] = mapped_column(
        str_enum(InvitationPurpose, "invitation_purpose")
    )
    cycle_number: Mapped[int] = mapped_column(Integer)
    # hex SHA-256 of the token; the token itself is shown once, to the member of staff.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The questions asked, as their keys separated by spaces (bot.services.family).
    questions: Mapped[str] = mapped_column(String(500))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    max_submissions: Mapped[int] = mapped_column(Integer, default=3)
    submissions: Mapped[int] = mapped_column(Integer, default=0)
    failed_checks: Mapped[int] = mapped_column(Integer, default=0)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    # The case holder's DM saying the link was locked after three wrong dates of birth.
    lock_prompt_id: Mapped[int | None] = mapped_column(ForeignKey("prompts.id"))

    pupil: Mapped[Pupil] = relationship()


class Contribution(Base):
    """What a family or pupil sent through a link: their answers, and who filled it in."""

    __tablename__ = "contributions"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("invitations.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[InvitationPurpose] = mapped_column(
        str_enum(InvitationPurpose, "contribution_purpose")
    )
    cycle_number: Mapped[int] = mapped_column(Integer)
    # "Mrs Khan", "mother"; for a pupil, the adult they filled it in with (optional).
    contributor_name: Mapped[str | None] = mapped_column(String(100))
    contributor_relationship: Mapped[str | None] = mapped_column(String(100))
    # The answers as JSON: {question key: text}.
    answers: Mapped[str] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The case holder's DM about it ("The family sent their views on Amara's plan").
    prompt_id: Mapped[int | None] = mapped_column(ForeignKey("prompts.id"), index=True)
    added_to_plan_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))

    invitation: Mapped[Invitation] = relationship()
    prompt: Mapped[Prompt | None] = relationship(foreign_keys=[prompt_id])


class PlanAgreement(Base):
    """A parent's or carer's answer on the agreement page: whether they agree with the plan as
    they were shown it (`plan_version`, and `family_copy`, that document exactly), what they
    disagree with, and who they agreed may see the plan.

    Recording it changes nothing of the plan's content, so it does not move `Plan.version` on:
    the agreement reads as current until the plan itself changes (bot.services.agreements).
    """

    __tablename__ = "plan_agreements"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("invitations.id", ondelete="CASCADE"), index=True
    )
    cycle_number: Mapped[int] = mapped_column(Integer)
    # The plan's version when they read it: a later change shows "agreed to an earlier version".
    plan_version: Mapped[int] = mapped_column(Integer)
    decision: Mapped[AgreementDecision] = mapped_column(
        str_enum(AgreementDecision, "agreement_decision")
    )
    name: Mapped[str] = mapped_column(String(100))
    relationship_to_cyp: Mapped[str] = mapped_column(String(100))
    # The date they typed on the form (today by default, never in the future).
    agreed_on: Mapped[date] = mapped_column(Date)
    # What they disagree with, in their words (required when they disagree).
    disagreement: Mapped[str | None] = mapped_column(Text)
    sharing: Mapped[SharingChoice] = mapped_column(str_enum(SharingChoice, "sharing_choice"))
    # The plan's services they ticked, by name as shown (JSON list), and anyone else they named.
    agencies: Mapped[str] = mapped_column(Text, default="[]")
    other_agencies: Mapped[str | None] = mapped_column(String(500))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The case holder's DM ("The family agreed to Amara's plan").
    prompt_id: Mapped[int | None] = mapped_column(ForeignKey("prompts.id"), index=True)
    # The family copy of the plan as they were shown it (HTML): what their PDF is printed from.
    family_copy: Mapped[str] = mapped_column(Text)

    invitation: Mapped[Invitation] = relationship()
