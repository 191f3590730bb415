"""The provision map's export: download links with no plan, in CSV as well.

`download_links` may hold a link to the school's provision map (`audience` "provision_map",
bot.services.provision_map): it is for no one plan, so `plan_id` and `plan_version` may be
empty, and it may be a CSV file (`file_format` "csv") as well as PDF or HTML. Downgrading
deletes those links (they last 15 minutes anyway) and restores the constraints.

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-06 05:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0036"
# Chained after 0033 on its branch; the lead re-chains it when merging.
down_revision: str | Sequence[str] | None = "0035"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AUDIENCES_BEFORE = ("staff", "family", "agency", "passport")
AUDIENCES = (*AUDIENCES_BEFORE, "provision_map")
FORMATS_BEFORE = ("pdf", "html")
FORMATS = (*FORMATS_BEFORE, "csv")


def upgrade() -> None:
    _rebuild(AUDIENCES, FORMATS, nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM download_links WHERE audience = 'provision_map' OR plan_id IS NULL")
    _rebuild(AUDIENCES_BEFORE, FORMATS_BEFORE, nullable=False)


def _rebuild(audiences: tuple[str, ...], formats: tuple[str, ...], *, nullable: bool) -> None:
    # SQLite can only change a CHECK or a NOT NULL by rebuilding the table, which batch mode does.
    with op.batch_alter_table("download_links") as batch:
        batch.drop_constraint(op.f("ck_download_links_audience"), type_="check")
        batch.drop_constraint(op.f("ck_download_links_file_format"), type_="check")
        batch.alter_column("plan_id", existing_type=sa.Integer(), nullable=nullable)
        batch.alter_column("plan_version", existing_type=sa.Integer(), nullable=nullable)
        batch.create_check_constraint("audience", _in("audience", audiences))
        batch.create_check_constraint("file_format", _in("file_format", formats))


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"
