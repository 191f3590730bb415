"""The SSP team: what each case holder is best placed to hold (areas, year groups, house).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 06:50:45.893532

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""

    op.create_table(
        "case_holder_profiles",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("areas", sa.JSON(), nullable=False),
        sa.Column("year_groups", sa.JSON(), nullable=False),
        sa.Column("house", sa.String(length=50), nullable=True),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by_id"], ["staff.id"], name=op.f("fk_case_holder_profiles_added_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_case_holder_profiles_staff_id_staff"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("staff_id", name=op.f("pk_case_holder_profiles")),
    )


def downgrade() -> None:
    """Downgrade schema."""

    op.drop_table("case_holder_profiles")
