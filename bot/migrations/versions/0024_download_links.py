"""Short-lived download links for plan documents (`/ssp export`), stored as token hashes.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05 23:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | Sequence[str] | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "download_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("plan_version", sa.Integer(), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("file_format", sa.String(length=8), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "file_format IN ('pdf', 'html')", name=op.f("ck_download_links_file_format")
        ),
        sa.CheckConstraint(
            "audience IN ('staff', 'family', 'agency')", name=op.f("ck_download_links_audience")
        ),
        sa.CheckConstraint("uses >= 0 AND uses <= max_uses", name=op.f("ck_download_links_uses")),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_download_links_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_download_links_school_id_schools")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_download_links_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_download_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_download_links_token_hash")),
    )
    with op.batch_alter_table("download_links") as batch:
        batch.create_index(op.f("ix_download_links_plan_id"), ["plan_id"], unique=False)
        batch.create_index(op.f("ix_download_links_school_id"), ["school_id"], unique=False)
        batch.create_index(op.f("ix_download_links_staff_id"), ["staff_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("download_links") as batch:
        batch.drop_index(op.f("ix_download_links_staff_id"))
        batch.drop_index(op.f("ix_download_links_school_id"))
        batch.drop_index(op.f("ix_download_links_plan_id"))
    op.drop_table("download_links")
