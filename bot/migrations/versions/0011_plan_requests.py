"""A case holder asks the SENDCo for a plan rather than taking it: the requests, the prompts that
carry them (the SENDCo's question, and the answer when declined), and those prompts' kinds.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 01:05:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
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
    "assignment_declined",
    "assignment_ended",
    "qa_returned",
)
AFTER = (*BEFORE, "plan_request", "plan_request_declined")


def upgrade() -> None:
    op.create_table(
        "plan_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=True),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["answered_by_id"], ["staff.id"], name=op.f("fk_plan_requests_answered_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["pupil_id"], ["pupils.id"], name=op.f("fk_plan_requests_pupil_id_pupils")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_plan_requests_school_id_schools")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_plan_requests_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_requests")),
    )
    with op.batch_alter_table("plan_requests") as batch:
        batch.create_index(op.f("ix_plan_requests_pupil_id"), ["pupil_id"], unique=False)
        batch.create_index(op.f("ix_plan_requests_school_id"), ["school_id"], unique=False)
        batch.create_index(op.f("ix_plan_requests_staff_id"), ["staff_id"], unique=False)
    with op.batch_alter_table("prompts") as batch:
        batch.add_column(sa.Column("plan_request_id", sa.Integer(), nullable=True))
        batch.create_index(op.f("ix_prompts_plan_request_id"), ["plan_request_id"], unique=False)
        batch.create_foreign_key(
            op.f("fk_prompts_plan_request_id_plan_requests"),
            "plan_requests",
            ["plan_request_id"],
            ["id"],
        )
    _allow(AFTER)


def downgrade() -> None:
    op.execute(f"DELETE FROM prompts WHERE kind NOT IN {_sql_list(BEFORE)}")
    _allow(BEFORE)
    with op.batch_alter_table("prompts") as batch:
        batch.drop_constraint(op.f("fk_prompts_plan_request_id_plan_requests"), type_="foreignkey")
        batch.drop_index(op.f("ix_prompts_plan_request_id"))
        batch.drop_column("plan_request_id")
    with op.batch_alter_table("plan_requests") as batch:
        batch.drop_index(op.f("ix_plan_requests_staff_id"))
        batch.drop_index(op.f("ix_plan_requests_school_id"))
        batch.drop_index(op.f("ix_plan_requests_pupil_id"))
    op.drop_table("plan_requests")


def _allow(kinds: tuple[str, ...]) -> None:
    # The column is VARCHAR with a CHECK listing the kinds (portable enums), as long as the
    # longest kind; SQLite can only change a CHECK by rebuilding the table, which batch mode does.
    with op.batch_alter_table("prompts") as batch:
        batch.drop_constraint(op.f("ck_prompts_prompt_kind"), type_="check")
        batch.alter_column(
            "kind",
            existing_type=sa.String(),
            type_=sa.String(max(len(kind) for kind in kinds)),
            existing_nullable=False,
        )
        batch.create_check_constraint("prompt_kind", f"kind IN {_sql_list(kinds)}")


def _sql_list(kinds: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{kind}'" for kind in kinds) + ")"
