"""Intervention groups' runners told: a member of staff made to run a group gets one message
("group_runner", naming the group through `prompts.intervention_group_id`), and the SENDCo is
told when a group's runner has left the staff list ("group_runner_left"). Downgrading deletes
those prompts and drops the column.

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-06 07:20:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0039"
down_revision: str | Sequence[str] | None = "0038"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every kind allowed after 0033 (0034–0038 added none).
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
    "meeting_reply",
    "plan_agreed",
    "observation_summary",
    "session_log",
)
KINDS_AFTER = (*KINDS_BEFORE, "group_runner", "group_runner_left")


def upgrade() -> None:
    with op.batch_alter_table("prompts") as batch:
        batch.add_column(sa.Column("intervention_group_id", sa.Integer(), nullable=True))
        batch.create_index(
            op.f("ix_prompts_intervention_group_id"), ["intervention_group_id"], unique=False
        )
        batch.create_foreign_key(
            op.f("fk_prompts_intervention_group_id_intervention_groups"),
            "intervention_groups",
            ["intervention_group_id"],
            ["id"],
        )
    _allow(KINDS_AFTER)


def downgrade() -> None:
    op.execute(f"DELETE FROM prompts WHERE kind NOT IN {_sql_list(KINDS_BEFORE)}")
    _allow(KINDS_BEFORE)
    with op.batch_alter_table("prompts") as batch:
        batch.drop_constraint(
            op.f("fk_prompts_intervention_group_id_intervention_groups"), type_="foreignkey"
        )
        batch.drop_index(op.f("ix_prompts_intervention_group_id"))
        batch.drop_column("intervention_group_id")


def _allow(kinds: tuple[str, ...]) -> None:
    # As in 0033: the kind is VARCHAR with a CHECK listing the kinds; SQLite can only change a
    # CHECK by rebuilding the table, which batch mode does.
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
