"""Delivery faults: a workspace paused by a long Retry-After (schools.slack_paused_until), and
a prompt's post whose answer is not yet known (prompts.posting_at), reconciled with one history
read per DM rather than one per prompt.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 05:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("schools") as batch:
        batch.add_column(sa.Column("slack_paused_until", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("prompts") as batch:
        batch.add_column(sa.Column("posting_at", sa.DateTime(timezone=True), nullable=True))
    # A retried row under the old protocol may have been posted by a run that died: mark it
    # unsure, so it is reconciled with the DM's history before it is posted again.
    prompts = sa.table(
        "prompts",
        sa.column("status", sa.String),
        sa.column("attempts", sa.Integer),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("posting_at", sa.DateTime(timezone=True)),
    )
    op.execute(
        prompts.update()
        .where(prompts.c.status == "pending", prompts.c.attempts > 0)
        .values(posting_at=prompts.c.created_at)
    )


def downgrade() -> None:
    with op.batch_alter_table("prompts") as batch:
        batch.drop_column("posting_at")
    with op.batch_alter_table("schools") as batch:
        batch.drop_column("slack_paused_until")
