"""Observations between reviews: what happened, which strategy, whether it helped, on a day.

One table, `observations` (bot.services.observations), staff only. Downgrading drops it and
every observation in it.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06 02:20:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | Sequence[str] | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "observations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column("cycle_number", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("observed_on", sa.Date(), nullable=False),
        sa.Column("what_happened", sa.Text(), nullable=False),
        sa.Column("strategy", sa.String(length=300), nullable=False),
        sa.Column(
            "helped",
            sa.Enum(
                "yes",
                "partly",
                "no",
                "not_sure",
                name="observation_helped",
                native_enum=False,
                create_constraint=True,
                length=8,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("summarised_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["staff.id"],
            name=op.f("fk_observations_author_id_staff"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_observations_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["pupil_id"],
            ["pupils.id"],
            name=op.f("fk_observations_pupil_id_pupils"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_observations_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observations")),
    )
    op.create_index(op.f("ix_observations_plan_id"), "observations", ["plan_id"], unique=False)
    op.create_index(
        "ix_observations_school_id_summarised_at",
        "observations",
        ["school_id", "summarised_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_observations_school_id_summarised_at", table_name="observations")
    op.drop_index(op.f("ix_observations_plan_id"), table_name="observations")
    op.drop_table("observations")
