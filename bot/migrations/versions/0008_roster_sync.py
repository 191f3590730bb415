"""Roster sync from Microsoft 365: each school's last sync (when, result) and Graph's delta state.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 09:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("roster_sync_attempted_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("roster_sync_ok", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("roster_sync_result", sa.String(length=500), nullable=True))
        batch_op.add_column(
            sa.Column("roster_synced_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("m365_sync_state", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.drop_column("m365_sync_state")
        batch_op.drop_column("roster_synced_at")
        batch_op.drop_column("roster_sync_result")
        batch_op.drop_column("roster_sync_ok")
        batch_op.drop_column("roster_sync_attempted_at")
