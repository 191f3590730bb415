"""The glossary's history: every change to a school's acronym meanings, with who made it and
when, so a rewording that reaches family documents can be traced and reverted by the SENDCo.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 02:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "glossary_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("acronym", sa.String(length=30), nullable=False),
        sa.Column("old_meaning", sa.Text(), nullable=True),
        sa.Column("new_meaning", sa.Text(), nullable=True),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reverts_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_glossary_changes_school_id_schools")
        ),
        sa.ForeignKeyConstraint(
            ["changed_by_id"], ["staff.id"], name=op.f("fk_glossary_changes_changed_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["reverts_id"],
            ["glossary_changes.id"],
            name=op.f("fk_glossary_changes_reverts_id_glossary_changes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_glossary_changes")),
    )
    with op.batch_alter_table("glossary_changes") as batch:
        batch.create_index(
            "ix_glossary_changes_school_id_acronym", ["school_id", "acronym"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("glossary_changes") as batch:
        batch.drop_index("ix_glossary_changes_school_id_acronym")
    op.drop_table("glossary_changes")
