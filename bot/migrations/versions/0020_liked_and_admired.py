"""The one-page profile asks "What people like and admire about me" (One Planning) apart from the
pupil's own "What I like and what I am good at".

Until now the plan form asked only "What I like and what I am good at" and stored the answer in
`plan_voices.strengths_and_likes`, which the family document then printed under "What people
like and admire about me", a different question. Existing text stays where it is:
it was written as the pupil's likes and strengths, so it remains the answer to that question.
The new column `liked_and_admired` starts empty for every existing plan (nobody was asked it);
the case holder fills it in at the next review. Downgrading drops the new column and what was
written in it.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 22:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A nullable column needs no batch copy, even on SQLite.
    op.add_column("plan_voices", sa.Column("liked_and_admired", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plan_voices", schema=None) as batch_op:
        batch_op.drop_column("liked_and_admired")
