"""A plan's closure: why it was closed (needs met, left the school, moved to an EHC plan, other)
and the SENDCo's few words for "other".

Revision ID: 0018
Revises: 0015
Create Date: 2026-12-05 05:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REASONS = ("needs_met", "left_school", "ehc_plan", "other")


def upgrade() -> None:
    # Plain ADD COLUMN, not a batch copy: on SQLite a batch rebuilds `plans`, which other
    # tables' rows refer to.
    op.add_column(
        "plans",
        sa.Column(
            "closure_reason",
            sa.Enum(
                *REASONS,
                name="closure_reason",
                native_enum=False,
                create_constraint=True,
                length=11,
            ),
            nullable=True,
        ),
    )
    op.add_column("plans", sa.Column("closure_note", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_column("closure_note")
        batch_op.drop_column("closure_reason")
