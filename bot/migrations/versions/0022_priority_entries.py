"""Pupils the SENDCo puts on the priority list by hand, with why, in the SENDCo's order.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 22:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | Sequence[str] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "priority_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by_id"], ["staff.id"], name=op.f("fk_priority_entries_added_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["pupil_id"],
            ["pupils.id"],
            name=op.f("fk_priority_entries_pupil_id_pupils"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_priority_entries_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_priority_entries")),
        sa.UniqueConstraint(
            "school_id", "pupil_id", name=op.f("uq_priority_entries_school_id_pupil_id")
        ),
    )
    with op.batch_alter_table("priority_entries") as batch:
        batch.create_index(op.f("ix_priority_entries_pupil_id"), ["pupil_id"], unique=False)
        batch.create_index(op.f("ix_priority_entries_school_id"), ["school_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("priority_entries") as batch:
        batch.drop_index(op.f("ix_priority_entries_school_id"))
        batch.drop_index(op.f("ix_priority_entries_pupil_id"))
    op.drop_table("priority_entries")
