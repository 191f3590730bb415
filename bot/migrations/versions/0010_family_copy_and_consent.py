"""What the family copy holds and what leaves the school: timeline entries staff chose to share
with the family, and sharing consent that covers professionals outside the school.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 01:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing rows get False: no entry is shared and no consent reaches outside the school
    # until someone says so.
    with op.batch_alter_table("timeline_entries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("shared_with_family", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("sharing_consents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("outside_school", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("sharing_consents", schema=None) as batch_op:
        batch_op.drop_column("outside_school")
    with op.batch_alter_table("timeline_entries", schema=None) as batch_op:
        batch_op.drop_column("shared_with_family")
