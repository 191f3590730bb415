"""A complete review record (Norfolk §3.7; One Planning "Record of my review"): whether new
outcomes are needed, why the family's views could not be gathered, and per provision whether it
continues, is adapted or stops.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 22:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (nullable, no CHECK), as 0018 does: a batch copy of `reviews` on SQLite
    # would rebuild a table other rows refer to.
    op.add_column("reviews", sa.Column("new_outcomes_needed", sa.Boolean(), nullable=True))
    op.add_column("reviews", sa.Column("new_outcomes", sa.Text(), nullable=True))
    op.add_column("reviews", sa.Column("family_views_missing_reason", sa.Text(), nullable=True))
    op.create_table(
        "review_provision_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("provision_id", sa.Integer(), nullable=True),
        sa.Column("provision_what", sa.Text(), nullable=False),
        sa.Column(
            "decision",
            sa.Enum(
                "continue",
                "adapt",
                "stop",
                name="provision_decision",
                native_enum=False,
                create_constraint=True,
                length=8,
            ),
            nullable=True,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["reviews.id"],
            name=op.f("fk_review_provision_decisions_review_id_reviews"),
            ondelete="CASCADE",
        ),
        # A provision taken out of the plan later keeps its decision (and its copied words).
        sa.ForeignKeyConstraint(
            ["provision_id"],
            ["plan_provisions.id"],
            name=op.f("fk_review_provision_decisions_provision_id_plan_provisions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_provision_decisions")),
        sa.UniqueConstraint(
            "review_id",
            "provision_id",
            name=op.f("uq_review_provision_decisions_review_id_provision_id"),
        ),
    )
    with op.batch_alter_table("review_provision_decisions") as batch:
        batch.create_index(
            op.f("ix_review_provision_decisions_provision_id"), ["provision_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("review_provision_decisions") as batch:
        batch.drop_index(op.f("ix_review_provision_decisions_provision_id"))
    op.drop_table("review_provision_decisions")
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_column("family_views_missing_reason")
        batch_op.drop_column("new_outcomes")
        batch_op.drop_column("new_outcomes_needed")
