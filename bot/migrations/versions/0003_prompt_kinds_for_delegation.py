"""Prompt kinds for delegation: a declined assignment, a handed-over plan, a returned plan.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 07:10:00

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = (
    "assignment",
    "assignment_reminder",
    "review_due",
    "review_reminder",
    "review_escalation",
    "monitoring_request",
    "monitoring_digest",
    "qa_request",
    "sendco_digest",
)
AFTER = (*BEFORE, "assignment_declined", "assignment_ended", "qa_returned")


def upgrade() -> None:
    _allow(AFTER)


def downgrade() -> None:
    op.execute(f"DELETE FROM prompts WHERE kind NOT IN {_sql_list(BEFORE)}")
    _allow(BEFORE)


def _allow(kinds: tuple[str, ...]) -> None:
    # The column is VARCHAR with a CHECK listing the kinds (portable enums); SQLite can only
    # change a CHECK by rebuilding the table, which batch mode does.
    with op.batch_alter_table("prompts") as batch:
        batch.drop_constraint(op.f("ck_prompts_prompt_kind"), type_="check")
        batch.create_check_constraint("prompt_kind", f"kind IN {_sql_list(kinds)}")


def _sql_list(kinds: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{kind}'" for kind in kinds) + ")"
