"""The pupil passport: "must know" on the plan, and download links for the printable passport.

`plan_voices` gains what the case holder or SENDCo marks as must-know for everyone who supports
the pupil: a few words (`must_know`), and whether the passport shows the record's medical need
and child-in-care flags (`must_know_medical`, `must_know_in_care`; off for every existing plan,
so nothing new reaches teachers until someone chooses it). `download_links.audience` may be
"passport" (the printable passport, bot.services.passport). Downgrading drops the columns and
what was written in them, and the passport links.

Revision ID: 0029
Revises: 0024
Create Date: 2026-12-06 01:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
# Chained after 0024 on its branch; the lead re-chains it after 0028 when merging.
down_revision: str | Sequence[str] | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AUDIENCES_BEFORE = ("staff", "family", "agency")
AUDIENCES = (*AUDIENCES_BEFORE, "passport")


def upgrade() -> None:
    with op.batch_alter_table("plan_voices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("must_know", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("must_know_medical", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("must_know_in_care", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    _allow(AUDIENCES)


def downgrade() -> None:
    op.execute("DELETE FROM download_links WHERE audience = 'passport'")
    _allow(AUDIENCES_BEFORE)
    with op.batch_alter_table("plan_voices", schema=None) as batch_op:
        batch_op.drop_column("must_know_in_care")
        batch_op.drop_column("must_know_medical")
        batch_op.drop_column("must_know")


def _allow(audiences: tuple[str, ...]) -> None:
    # SQLite can only change a CHECK by rebuilding the table, which batch mode does.
    listed = ", ".join(f"'{audience}'" for audience in audiences)
    with op.batch_alter_table("download_links") as batch:
        batch.drop_constraint(op.f("ck_download_links_audience"), type_="check")
        batch.create_check_constraint("audience", f"audience IN ({listed})")
