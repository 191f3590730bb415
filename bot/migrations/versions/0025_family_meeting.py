"""The review meeting and the family's agreement on the families' pages (issue 17): two more
purposes a link can have ("meeting", "agreement"), and two prompt kinds (the family answered about
the meeting; the family agreed to the plan, or not).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 01:10:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | Sequence[str] | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PURPOSES_BEFORE = ("family_views", "pupil_views")
PURPOSES_AFTER = (*PURPOSES_BEFORE, "meeting", "agreement")
# Every kind allowed after 0023 (0024 added none).
KINDS_BEFORE = (
    "assignment",
    "assignment_reminder",
    "review_due",
    "review_reminder",
    "review_escalation",
    "monitoring_request",
    "monitoring_digest",
    "qa_request",
    "sendco_digest",
    "assignment_declined",
    "assignment_ended",
    "qa_returned",
    "plan_request",
    "plan_request_declined",
    "qa_approved",
    "leavers",
    "review_forward",
    "review_forward_notice",
    "family_contribution",
    "invitation_locked",
)
KINDS_AFTER = (*KINDS_BEFORE, "meeting_reply", "plan_agreed")
# The purpose columns stay VARCHAR(12): "meeting" and "agreement" fit.
PURPOSE_CHECKS = (
    ("invitations", "invitation_purpose"),
    ("contributions", "contribution_purpose"),
)


def upgrade() -> None:
    _allow(KINDS_AFTER)
    for table, name in PURPOSE_CHECKS:
        _purposes(table, name, PURPOSES_AFTER)


def downgrade() -> None:
    # Rows of the new purposes and kinds cannot stay under the old CHECKs: they go, children
    # first (a contribution refers to its link and its prompt; a link to its lock prompt).
    old = _sql_list(PURPOSES_BEFORE)
    op.execute(f"DELETE FROM contributions WHERE purpose NOT IN {old}")
    op.execute(f"DELETE FROM invitations WHERE purpose NOT IN {old}")
    for table, name in PURPOSE_CHECKS:
        _purposes(table, name, PURPOSES_BEFORE)
    op.execute(f"DELETE FROM prompts WHERE kind NOT IN {_sql_list(KINDS_BEFORE)}")
    _allow(KINDS_BEFORE)


def _purposes(table: str, name: str, purposes: tuple[str, ...]) -> None:
    # As for the kinds: a CHECK listing the values; SQLite changes one by rebuilding the table.
    with op.batch_alter_table(table) as batch:
        batch.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
        batch.create_check_constraint(name, f"purpose IN {_sql_list(purposes)}")


def _allow(kinds: tuple[str, ...]) -> None:
    # As in 0018, 0021 and 0023: the kind is VARCHAR with a CHECK listing the kinds.
    with op.batch_alter_table("prompts") as batch:
        batch.drop_constraint(op.f("ck_prompts_prompt_kind"), type_="check")
        batch.alter_column(
            "kind",
            existing_type=sa.String(),
            type_=sa.String(max(len(kind) for kind in kinds)),
            existing_nullable=False,
        )
        batch.create_check_constraint("prompt_kind", f"kind IN {_sql_list(kinds)}")


def _sql_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{value}'" for value in values) + ")"
