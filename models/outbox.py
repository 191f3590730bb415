"""The prompt outbox: every message the bot sends on its own initiative is a row here first."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, str_enum, utcnow
from models.codes import PromptKind, PromptStatus
from models.people import Staff

# Prompts that answer someone's action now (an assignment, its decline or end, a plan request
# and its answer, a quality check's outcome): the sender claims these before due scheduled
# prompts (review prompts, reminders, digests, the daily QA summary, monitoring requests), so
# one queued during a morning sweep goes out next, not last.
PROMPTED_BY_ACTION = frozenset(
    {
        PromptKind.ASSIGNMENT,
        PromptKind.ASSIGNMENT_DECLINED,
        PromptKind.ASSIGNMENT_ENDED,
        PromptKind.QA_RETURNED,
        PromptKind.QA_APPROVED,
        PromptKind.PLAN_REQUEST,
        PromptKind.PLAN_REQUEST_DECLINED,
        PromptKind.FAMILY_CONTRIBUTION,
        PromptKind.INVITATION_LOCKED,
        PromptKind.MEETING_REPLY,
        PromptKind.GROUP_RUNNER,
        PromptKind.GROUP_RUNNER_LEFT,
    }
)
PRIORITY_NOW = 0
PRIORITY_SCHEDULED = 1


def priority_of(kind: PromptKind | str) -> int:
    return PRIORITY_NOW if PromptKind(kind) in PROMPTED_BY_ACTION else PRIORITY_SCHEDULED


def _default_priority(context) -> int:
    return priority_of(context.get_current_parameters()["kind"])


class Prompt(Base):
    """A message owed to a member of staff, and what became of it.

    What the prompt is about is in typed columns, whichever its kind needs: the plan
    (`plan_id`, and `cycle_number` for a review), the assignment (`assignment_id`), the
    monitoring request (`monitoring_request_id`) or the request to hold a plan
    (`plan_request_id`). `dedupe_key` is only an idempotency key (e.g.
    "review_due:plan=7:cycle=2"): the scheduler can create a prompt as often as it likes and
    only one row ever exists. Nothing reads meaning out of it.
    """

    __tablename__ = "prompts"
    __table_args__ = (
        UniqueConstraint("school_id", "dedupe_key"),
        # The sender's claim query: pending rows, those answering an action first, then in due
        # order, ties by id, without a sort.
        Index("ix_prompts_status_priority_due_at_id", "status", "priority", "due_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    kind: Mapped[PromptKind] = mapped_column(str_enum(PromptKind, "prompt_kind"))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"), index=True)
    # The review cycle a review prompt is about (review due, reminder): with plan_id.
    cycle_number: Mapped[int | None] = mapped_column(Integer)
    assignment_id: Mapped[int | None] = mapped_column(
        ForeignKey("case_holder_assignments.id"), index=True
    )
    monitoring_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("monitoring_requests.id"), index=True
    )
    # A case holder's request to hold a plan (the SENDCo's question, the case holder's answer).
    plan_request_id: Mapped[int | None] = mapped_column(ForeignKey("plan_requests.id"), index=True)
    # The intervention group a GROUP_RUNNER message is about (its new runner told).
    intervention_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("intervention_groups.id"), index=True
    )
    dedupe_key: Mapped[str] = mapped_column(String(200))
    status: Mapped[PromptStatus] = mapped_column(
        str_enum(PromptStatus, "prompt_status"), default=PromptStatus.PENDING
    )
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # PRIORITY_NOW for a kind in PROMPTED_BY_ACTION, else PRIORITY_SCHEDULED: set from the kind.
    priority: Mapped[int] = mapped_column(
        Integer, default=_default_priority, server_default=str(PRIORITY_SCHEDULED)
    )
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    slack_channel: Mapped[str | None] = mapped_column(String(32))
    slack_ts: Mapped[str | None] = mapped_column(String(32))
    # Set just before a post, cleared when Slack's answer says whether it was posted: while set,
    # the message may or may not be in Slack (its answer was lost, or the sender died), and
    # the outbox reconciles it with the DM's history before posting again (bot.services.outbox).
    posting_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recipient: Mapped[Staff] = relationship()
