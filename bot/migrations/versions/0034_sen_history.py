"""A pupil's SEN stage and census needs over time: `pupil_sen_history` (models.history).

The roster import and the Microsoft 365 sync overwrite a pupil's stage and needs; from here on
each change is kept with its day and source. Every pupil with a stage other than N, or a census
need, starts with one row saying how their record stood when the history began, so the
history has a beginning. Downgrading drops the history.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-06 05:10:00

"""

from collections.abc import Sequence
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0034"
down_revision: str | Sequence[str] | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pupil_sen_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column("changed_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "history_began",
                "csv_import",
                "m365_sync",
                "staff",
                name="sen_change_source",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "sen_stage",
            sa.Enum(
                "N", "K", "E", name="history_sen_stage", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column(
            "primary_need",
            sa.Enum(
                "SpLD",
                "MLD",
                "SLD",
                "PMLD",
                "SEMH",
                "SLCN",
                "HI",
                "VI",
                "MSI",
                "PD",
                "ASD",
                "OTH",
                "NSA",
                name="history_primary_need",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column(
            "secondary_need",
            sa.Enum(
                "SpLD",
                "MLD",
                "SLD",
                "PMLD",
                "SEMH",
                "SLCN",
                "HI",
                "VI",
                "MSI",
                "PD",
                "ASD",
                "OTH",
                "NSA",
                name="history_secondary_need",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column(
            "previous_sen_stage",
            sa.Enum(
                "N",
                "K",
                "E",
                name="history_previous_sen_stage",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column(
            "previous_primary_need",
            sa.Enum(
                "SpLD",
                "MLD",
                "SLD",
                "PMLD",
                "SEMH",
                "SLCN",
                "HI",
                "VI",
                "MSI",
                "PD",
                "ASD",
                "OTH",
                "NSA",
                name="history_previous_primary_need",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column(
            "previous_secondary_need",
            sa.Enum(
                "SpLD",
                "MLD",
                "SLD",
                "PMLD",
                "SEMH",
                "SLCN",
                "HI",
                "VI",
                "MSI",
                "PD",
                "ASD",
                "OTH",
                "NSA",
                name="history_previous_secondary_need",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["changed_by_id"],
            ["staff.id"],
            name=op.f("fk_pupil_sen_history_changed_by_id_staff"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["pupil_id"],
            ["pupils.id"],
            name=op.f("fk_pupil_sen_history_pupil_id_pupils"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_pupil_sen_history_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pupil_sen_history")),
    )
    op.create_index(
        "ix_pupil_sen_history_pupil_id_changed_on", "pupil_sen_history", ["pupil_id", "changed_on"]
    )
    op.create_index(op.f("ix_pupil_sen_history_school_id"), "pupil_sen_history", ["school_id"])
    op.get_bind().execute(
        sa.text(
            "INSERT INTO pupil_sen_history (school_id, pupil_id, changed_on, recorded_at, source, "
            "sen_stage, primary_need, secondary_need) "
            "SELECT school_id, id, :today, :now, 'history_began', sen_stage, primary_need, "
            "secondary_need FROM pupils "
            "WHERE sen_stage <> 'N' OR primary_need IS NOT NULL OR secondary_need IS NOT NULL"
        ).bindparams(
            sa.bindparam("today", date.today(), type_=sa.Date()),
            sa.bindparam("now", datetime.now(UTC), type_=sa.DateTime(timezone=True)),
        )
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_pupil_sen_history_school_id"), table_name="pupil_sen_history")
    op.drop_index("ix_pupil_sen_history_pupil_id_changed_on", table_name="pupil_sen_history")
    op.drop_table("pupil_sen_history")
