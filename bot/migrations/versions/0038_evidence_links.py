"""Download links to a pupil's evidence pack or transfer record (bot.services.evidence): two more
audiences for `download_links`. Downgrading deletes such links.

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-06 05:10:00

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0038"
down_revision: str | Sequence[str] | None = "0037"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AUDIENCES_BEFORE = ("staff", "family", "agency", "passport", "provision_map", "attachment")
AUDIENCES = (*AUDIENCES_BEFORE, "evidence", "transfer")


def upgrade() -> None:
    _allow(AUDIENCES)


def downgrade() -> None:
    op.execute("DELETE FROM download_links WHERE audience IN ('evidence', 'transfer')")
    _allow(AUDIENCES_BEFORE)


def _allow(audiences: tuple[str, ...]) -> None:
    # SQLite can only change a CHECK by rebuilding the table, which batch mode does (as 0037).
    listed = ", ".join(f"'{audience}'" for audience in audiences)
    with op.batch_alter_table("download_links") as batch:
        batch.drop_constraint(op.f("ck_download_links_audience"), type_="check")
        batch.create_check_constraint("audience", f"audience IN ({listed})")
