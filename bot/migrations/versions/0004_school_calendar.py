"""The school calendar: terms and closure days, and each school's hours.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 07:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "school_calendar_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "term", "closure", name="calendar_kind", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_school_calendar_entries_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_calendar_entries")),
    )
    with op.batch_alter_table("school_calendar_entries") as batch:
        batch.create_index(
            batch.f("ix_school_calendar_entries_school_id"), ["school_id"], unique=False
        )

    # Existing schools get the usual hours; the server defaults fill their rows.
    with op.batch_alter_table("schools") as batch:
        batch.add_column(
            sa.Column("school_day_starts", sa.Time(), server_default="08:30:00", nullable=False)
        )
        batch.add_column(
            sa.Column("school_day_ends", sa.Time(), server_default="16:00:00", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("schools") as batch:
        batch.drop_column("school_day_ends")
        batch.drop_column("school_day_starts")
    with op.batch_alter_table("school_calendar_entries") as batch:
        batch.drop_index(batch.f("ix_school_calendar_entries_school_id"))
    op.drop_table("school_calendar_entries")
