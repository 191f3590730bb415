"""The quality loop: the case holder is told when the SENDCo approves their plan (the prompt
kind that carries it), and the school chooses which reviews go back to quality assurance.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 04:55:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = (
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
)
AFTER = (*BEFORE, "qa_approved")


def upgrade() -> None:
    _allow(AFTER)
    # Added in place, not by rebuilding the table: SQLite cannot drop a table other rows point
    # at. Its CHECK is added where the database can add one to a table in place (PostgreSQL);
    # on SQLite the model's enum refuses any other value.
    op.add_column(
        "schools",
        sa.Column("qa_reviews", sa.String(7), server_default="every", nullable=False),
    )
    if op.get_bind().dialect.name != "sqlite":
        op.create_check_constraint(
            "qa_reviews", "schools", "qa_reviews IN ('every', 'changes', 'sample')"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_schools_qa_reviews"), "schools", type_="check")
    op.drop_column("schools", "qa_reviews")
    op.execute(f"DELETE FROM prompts WHERE kind NOT IN {_sql_list(BEFORE)}")
    _allow(BEFORE)


def _allow(kinds: tuple[str, ...]) -> None:
    # As in 0011: a VARCHAR with a CHECK listing the kinds, as wide as the longest kind (the new
    # kind is shorter, so the width stays); SQLite changes a CHECK by rebuilding the table.
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
