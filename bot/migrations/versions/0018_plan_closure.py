"""A plan's closure: why it was closed (needs met, left the school, moved to an EHC plan, other)
and the SENDCo's few words for "other"; and the SENDCo's message about an import's leavers.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 05:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REASONS = ("needs_met", "left_school", "ehc_plan", "other")
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
)
KINDS_AFTER = (*KINDS_BEFORE, "leavers")


def upgrade() -> None:
    # Plain ADD COLUMN, not a batch copy: on SQLite a batch rebuilds `plans`, which other
    # tables' rows refer to. SQLite cannot add a CHECK in place (Alembic would warn every
    # install), so there the model's enum alone refuses other values.
    in_place_check = op.get_bind().dialect.name != "sqlite"
    op.add_column(
        "plans",
        sa.Column(
            "closure_reason",
            sa.Enum(
                *REASONS,
                name="closure_reason",
                native_enum=False,
                create_constraint=in_place_check,
                length=11,
            ),
            nullable=True,
        ),
    )
    op.add_column("plans", sa.Column("closure_note", sa.String(length=200), nullable=True))
    _allow(KINDS_AFTER)


def downgrade() -> None:
    op.execute(f"DELETE FROM prompts WHERE kind NOT IN {_sql_list(KINDS_BEFORE)}")
    _allow(KINDS_BEFORE)
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_column("closure_note")
        batch_op.drop_column("closure_reason")


def _allow(kinds: tuple[str, ...]) -> None:
    # As in 0011: the kind is VARCHAR with a CHECK listing the kinds; SQLite changes a CHECK only
    # by rebuilding the table, which batch mode does (nothing refers to prompts).
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
