"""Reviews when things change (Norfolk §3.6, §4.1): the reports, needs and access arrangements
added to an active plan, tied to the ask its case holder is sent about bringing the review
forward, and the two prompt kinds (the ask, and the SENDCo's notice).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 22:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REASONS = ("report", "need", "access_arrangement")
# The kinds allowed after 0018. If 0019 or 0020 add kinds of their own, add them here too.
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
)
KINDS_AFTER = (*KINDS_BEFORE, "review_forward", "review_forward_notice")


def upgrade() -> None:
    # The kinds first: SQLite rebuilds `prompts` for its CHECK, before anything refers to it.
    _allow(KINDS_AFTER)
    op.create_table(
        "review_forward_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("prompt_id", sa.Integer(), nullable=False),
        sa.Column(
            "reason",
            sa.Enum(
                *REASONS,
                name="forward_reason",
                native_enum=False,
                create_constraint=True,
                length=max(len(reason) for reason in REASONS),
            ),
            nullable=False,
        ),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_review_forward_changes_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["prompt_id"], ["prompts.id"], name=op.f("fk_review_forward_changes_prompt_id_prompts")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_review_forward_changes_school_id_schools")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_review_forward_changes_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_forward_changes")),
    )
    with op.batch_alter_table("review_forward_changes") as batch:
        for column in ("plan_id", "prompt_id", "school_id"):
            batch.create_index(op.f(f"ix_review_forward_changes_{column}"), [column], unique=False)


def downgrade() -> None:
    op.drop_table("review_forward_changes")
    op.execute(f"DELETE FROM prompts WHERE kind NOT IN {_sql_list(KINDS_BEFORE)}")
    _allow(KINDS_BEFORE)


def _allow(kinds: tuple[str, ...]) -> None:
    # As in 0018: the kind is VARCHAR with a CHECK listing the kinds; SQLite changes a CHECK only
    # by rebuilding the table, which batch mode does (review_forward_changes refers to prompts:
    # on upgrade it is created after, and on downgrade dropped before).
    with op.batch_alter_table("prompts") as batch:
        batch.drop_constraint(op.f("ck_prompts_prompt_kind"), type_="check")
        batch.alter_column(
            "kind",
            existing_type=sa.String(),
            type_=sa.String(max(len(kind) for kind in kinds)),
            existing_nullable=False,
        )
        batch.create_check_constraint("prompt_kind", f"kind IN {_sql_list(kinds)}")


def _sql_list(kinds: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{kind}'" for kind in kinds) + ")"
