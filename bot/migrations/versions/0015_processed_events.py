"""Slack events already acted on: a retry of one (X-Slack-Retry-Num, the same event_id) is
acted on once, even across a restart.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 04:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_processed_events")),
    )
    op.create_index(
        "ix_processed_events_received_at", "processed_events", ["received_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_processed_events_received_at", table_name="processed_events")
    op.drop_table("processed_events")
