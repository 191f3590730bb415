"""Retention: each school's rule, legal holds on pupils, and a record of what was destroyed.

`schools.retention_years` (default 31: the IRMS schools toolkit's date of birth + 31 years for
SEN files), `pupils.legal_hold_reason` and `legal_hold_since`, and `destruction_records` (no
personal data: the former record number, when, under which rule, rows per table). Columns are
added in place (ALTER TABLE … ADD COLUMN): nearly every table refers to schools and pupils, and
SQLite with foreign keys on would act on those rows if the tables were copied.

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-06 05:40:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0035"
down_revision: str | Sequence[str] | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE schools ADD COLUMN retention_years INTEGER DEFAULT '31' NOT NULL")
    op.execute("ALTER TABLE pupils ADD COLUMN legal_hold_reason VARCHAR(300)")
    op.execute("ALTER TABLE pupils ADD COLUMN legal_hold_since DATE")
    op.create_table(
        "destruction_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("record_number", sa.Integer(), nullable=False),
        sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("rule", sa.String(length=200), nullable=False),
        sa.Column("run_by", sa.String(length=100), nullable=False),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_destruction_records_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_destruction_records")),
    )
    op.create_index(op.f("ix_destruction_records_school_id"), "destruction_records", ["school_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_destruction_records_school_id"), table_name="destruction_records")
    op.drop_table("destruction_records")
    op.execute("ALTER TABLE pupils DROP COLUMN legal_hold_since")
    op.execute("ALTER TABLE pupils DROP COLUMN legal_hold_reason")
    op.execute("ALTER TABLE schools DROP COLUMN retention_years")
