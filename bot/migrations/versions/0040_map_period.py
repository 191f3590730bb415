"""The provision map counts over a period (this term, this school year, all time): a map's
download link keeps the period it was asked for, so the export covers what the map showed.
Downgrading drops it (such links then export all time, as before).

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-06 07:20:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0040"
down_revision: str | Sequence[str] | None = "0039"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("download_links") as batch:
        batch.add_column(sa.Column("map_period", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("download_links") as batch:
        batch.drop_column("map_period")
