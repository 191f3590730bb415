"""Reports and evidence attached to a plan: `attachments` (models.attachments), and download
links for them.

Each attached file is kept encrypted (Fernet, the ATTACHMENT_KEY setting) with its size and the
SHA-256 of its plain bytes. `download_links` gains `attachment_id`, its audience may be
"attachment" and its format "file". Downgrading drops the attached files and their links.

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-06 05:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0037"
down_revision: str | Sequence[str] | None = "0036"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AUDIENCES_BEFORE = ("staff", "family", "agency", "passport", "provision_map")
AUDIENCES = (*AUDIENCES_BEFORE, "attachment")
FORMATS_BEFORE = ("pdf", "html", "csv")
FORMATS = (*FORMATS_BEFORE, "file")


def upgrade() -> None:
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("slack_file_id", sa.String(length=32), nullable=True),
        sa.CheckConstraint("kind IN ('report', 'evidence')", name=op.f("ck_attachments_kind")),
        sa.CheckConstraint("size >= 0", name=op.f("ck_attachments_size")),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_attachments_plan_id_plans"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["pupil_id"],
            ["pupils.id"],
            name=op.f("fk_attachments_pupil_id_pupils"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["agency_reports.id"],
            name=op.f("fk_attachments_report_id_agency_reports"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_attachments_school_id_schools")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["staff.id"],
            name=op.f("fk_attachments_uploaded_by_id_staff"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
    )
    op.create_index(op.f("ix_attachments_plan_id"), "attachments", ["plan_id"])
    op.create_index(op.f("ix_attachments_pupil_id"), "attachments", ["pupil_id"])
    op.create_index(op.f("ix_attachments_school_id"), "attachments", ["school_id"])
    with op.batch_alter_table("download_links") as batch:
        batch.add_column(sa.Column("attachment_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_download_links_attachment_id_attachments"),
            "attachments",
            ["attachment_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index(op.f("ix_download_links_attachment_id"), ["attachment_id"], unique=False)
    _allow(AUDIENCES, FORMATS)


def downgrade() -> None:
    op.execute("DELETE FROM download_links WHERE audience = 'attachment'")
    _allow(AUDIENCES_BEFORE, FORMATS_BEFORE)
    with op.batch_alter_table("download_links") as batch:
        batch.drop_index(op.f("ix_download_links_attachment_id"))
        batch.drop_constraint(
            op.f("fk_download_links_attachment_id_attachments"), type_="foreignkey"
        )
        batch.drop_column("attachment_id")
    op.drop_index(op.f("ix_attachments_school_id"), table_name="attachments")
    op.drop_index(op.f("ix_attachments_pupil_id"), table_name="attachments")
    op.drop_index(op.f("ix_attachments_plan_id"), table_name="attachments")
    op.drop_table("attachments")


def _allow(audiences: tuple[str, ...], formats: tuple[str, ...]) -> None:
    # SQLite can only change a CHECK by rebuilding the table, which batch mode does.
    listed = ", ".join(f"'{audience}'" for audience in audiences)
    kinds = ", ".join(f"'{kind}'" for kind in formats)
    with op.batch_alter_table("download_links") as batch:
        batch.drop_constraint(op.f("ck_download_links_audience"), type_="check")
        batch.create_check_constraint("audience", f"audience IN ({listed})")
        batch.drop_constraint(op.f("ck_download_links_file_format"), type_="check")
        batch.create_check_constraint("file_format", f"file_format IN ({kinds})")
