"""The review meeting and the family's agreement on the families' pages (issue 17): two more
purposes a link can have ("meeting", "agreement"), two prompt kinds (the family answered about
the meeting; the family agreed to the plan, or not), and the meeting's details and the family's
replies about it.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 01:10:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | Sequence[str] | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PURPOSES_BEFORE = ("family_views", "pupil_views")
PURPOSES_AFTER = (*PURPOSES_BEFORE, "meeting", "agreement")
# Every kind allowed after 0023 (0024 added none).
KINDS_BEFORE = (
    "assignment",
    "assignment_reminder",
    "review_due",
    "review_reminder",
    "review_escalation",
    "monitoring_request",
    "monitoring_digest",
    "qa_request",
    "sendco_digest",
    "assignment_declined",
    "assignment_ended",
    "qa_returned",
    "plan_request",
    "plan_request_declined",
    "qa_approved",
    "leavers",
    "review_forward",
    "review_forward_notice",
    "family_contribution",
    "invitation_locked",
)
KINDS_AFTER = (*KINDS_BEFORE, "meeting_reply", "plan_agreed")
JOIN_BY = ("in_person", "phone", "video")
# The purpose columns stay VARCHAR(12): "meeting" and "agreement" fit.
PURPOSE_CHECKS = (
    ("invitations", "invitation_purpose"),
    ("contributions", "contribution_purpose"),
)


def upgrade() -> None:
    _allow(KINDS_AFTER)
    for table, name in PURPOSE_CHECKS:
        _purposes(table, name, PURPOSES_AFTER)
    op.create_table(
        "review_meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("cycle_number", sa.Integer(), nullable=False),
        sa.Column("meeting_date", sa.Date(), nullable=False),
        sa.Column("meeting_time", sa.Time(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=True),
        sa.Column("call_link", sa.String(length=500), nullable=True),
        sa.Column("who_is_coming", sa.Text(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("set_by_id", sa.Integer(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_review_meetings_plan_id_plans"),
            ondelete="CASCADE",
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_review_meetings_school_id_schools")
        ),
        sa.ForeignKeyConstraint(
            ["set_by_id"], ["staff.id"], name=op.f("fk_review_meetings_set_by_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_meetings")),
        sa.UniqueConstraint(
            "plan_id", "cycle_number", name=op.f("uq_review_meetings_plan_id_cycle_number")
        ),
    )
    with op.batch_alter_table("review_meetings") as batch:
        for column in ("plan_id", "school_id"):
            batch.create_index(op.f(f"ix_review_meetings_{column}"), [column], unique=False)
    op.create_table(
        "meeting_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("cycle_number", sa.Integer(), nullable=False),
        sa.Column("meeting_revision", sa.Integer(), nullable=False),
        sa.Column("details_answered", sa.String(length=400), nullable=False),
        sa.Column("can_come", sa.Boolean(), nullable=False),
        sa.Column("other_times", sa.Text(), nullable=True),
        sa.Column(
            "join_by",
            sa.Enum(
                *JOIN_BY,
                name="meeting_join",
                native_enum=False,
                create_constraint=True,
                length=max(len(j) for j in JOIN_BY),
            ),
            nullable=True,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("contributor_name", sa.String(length=100), nullable=False),
        sa.Column("contributor_relationship", sa.String(length=100), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prompt_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitations.id"],
            name=op.f("fk_meeting_replies_invitation_id_invitations"),
            ondelete="CASCADE",
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["review_meetings.id"],
            name=op.f("fk_meeting_replies_meeting_id_review_meetings"),
            ondelete="CASCADE",
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_meeting_replies_plan_id_plans"),
            ondelete="CASCADE",
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["prompt_id"], ["prompts.id"], name=op.f("fk_meeting_replies_prompt_id_prompts")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_meeting_replies_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_replies")),
    )
    with op.batch_alter_table("meeting_replies") as batch:
        for column in ("invitation_id", "meeting_id", "plan_id", "prompt_id", "school_id"):
            batch.create_index(op.f(f"ix_meeting_replies_{column}"), [column], unique=False)


def downgrade() -> None:
    op.drop_table("meeting_replies")
    op.drop_table("review_meetings")
    # Rows of the new purposes and kinds cannot stay under the old CHECKs: they go, children
    # first (a contribution refers to its link and its prompt; a link to its lock prompt).
    old = _sql_list(PURPOSES_BEFORE)
    op.execute(f"DELETE FROM contributions WHERE purpose NOT IN {old}")
    op.execute(f"DELETE FROM invitations WHERE purpose NOT IN {old}")
    for table, name in PURPOSE_CHECKS:
        _purposes(table, name, PURPOSES_BEFORE)
    op.execute(f"DELETE FROM prompts WHERE kind NOT IN {_sql_list(KINDS_BEFORE)}")
    _allow(KINDS_BEFORE)


def _purposes(table: str, name: str, purposes: tuple[str, ...]) -> None:
    # As for the kinds: a CHECK listing the values; SQLite changes one by rebuilding the table.
    with op.batch_alter_table(table) as batch:
        batch.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
        batch.create_check_constraint(name, f"purpose IN {_sql_list(purposes)}")


def _allow(kinds: tuple[str, ...]) -> None:
    # As in 0018, 0021 and 0023: the kind is VARCHAR with a CHECK listing the kinds.
    with op.batch_alter_table("prompts") as batch:
        batch.drop_constraint(op.f("ck_prompts_prompt_kind"), type_="check")
        batch.alter_column(
            "kind",
            existing_type=sa.String(),
            type_=sa.String(max(len(kind) for kind in kinds)),
            existing_nullable=False,
        )
        batch.create_check_constraint("prompt_kind", f"kind IN {_sql_list(kinds)}")


def _sql_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{value}'" for value in values) + ")"
