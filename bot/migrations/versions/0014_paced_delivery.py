"""Paced, fair delivery: each member of staff's DM channel is kept (with the Slack account it is
with), and prompts carry a priority, those answering someone's action first, which the
sender's claim index orders by.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 04:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# models.outbox.PROMPTED_BY_ACTION, as it was when this was written.
PROMPTED_BY_ACTION = (
    "assignment",
    "assignment_declined",
    "assignment_ended",
    "qa_request",
    "qa_returned",
    "plan_request",
    "plan_request_declined",
)


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("slack_dm_channel", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("slack_dm_user_id", sa.String(length=32), nullable=True))
    with op.batch_alter_table("prompts") as batch:
        batch.add_column(sa.Column("priority", sa.Integer(), server_default="1", nullable=False))
    prompts = sa.table("prompts", sa.column("kind", sa.String), sa.column("priority", sa.Integer))
    op.execute(prompts.update().where(prompts.c.kind.in_(PROMPTED_BY_ACTION)).values(priority=0))
    with op.batch_alter_table("prompts") as batch:
        batch.drop_index("ix_prompts_status_due_at_id")
        batch.create_index(
            "ix_prompts_status_priority_due_at_id",
            ["status", "priority", "due_at", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("prompts") as batch:
        batch.drop_index("ix_prompts_status_priority_due_at_id")
        batch.create_index("ix_prompts_status_due_at_id", ["status", "due_at", "id"], unique=False)
        batch.drop_column("priority")
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("slack_dm_user_id")
        batch.drop_column("slack_dm_channel")
