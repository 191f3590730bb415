"""The review cycle: each school's review timings, drafts, snoozes, carry-forward, amendments.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 08:15:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "review_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("change", sa.String(length=500), nullable=False),
        sa.Column("saved_by_id", sa.Integer(), nullable=True),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["reviews.id"],
            name=op.f("fk_review_revisions_review_id_reviews"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["saved_by_id"], ["staff.id"], name=op.f("fk_review_revisions_saved_by_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_revisions")),
        sa.UniqueConstraint(
            "review_id", "number", name=op.f("uq_review_revisions_review_id_number")
        ),
    )
    with op.batch_alter_table("review_target_results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("carry_forward", sa.Boolean(), nullable=True))

    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_review_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("snoozed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("snooze_school_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("snooze_reason", sa.Text(), nullable=True))

    with op.batch_alter_table("schools", schema=None) as batch_op:
        # Existing schools get the defaults through the server defaults.
        batch_op.add_column(
            sa.Column(
                "review_notice_school_days", sa.Integer(), server_default="10", nullable=False
            )
        )
        batch_op.add_column(
            sa.Column(
                "review_interval_school_days", sa.Integer(), server_default="60", nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.drop_column("review_interval_school_days")
        batch_op.drop_column("review_notice_school_days")

    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_column("snooze_reason")
        batch_op.drop_column("snooze_school_days")
        batch_op.drop_column("snoozed_at")
        batch_op.drop_column("next_review_date")

    with op.batch_alter_table("review_target_results", schema=None) as batch_op:
        batch_op.drop_column("carry_forward")

    op.drop_table("review_revisions")
