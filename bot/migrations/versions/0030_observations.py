"""Observations between reviews: what happened, which strategy, whether it helped, on a day.

One table, `observations` (bot.services.observations), staff only; one prompt kind, the case
holder's daily summary ("observation_summary"); and one timeline kind, "observation" (staff
only: not one of the kinds the family's copy shows). Downgrading drops the table, every
observation in it, their timeline entries and the summaries.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06 02:20:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | Sequence[str] | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Every kind allowed after 0029 (0026 to 0029 added none to 0025's).
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
)
KINDS_AFTER = (*KINDS_BEFORE, "observation_summary")
TIMELINE_BEFORE = (
    "meeting",
    "phone_call",
    "email",
    "letter",
    "note",
    "plan_change",
    "review",
    "assignment",
)
# "observation" fits the column's VARCHAR(11).
TIMELINE_AFTER = (*TIMELINE_BEFORE, "observation")


def upgrade() -> None:
    _allow(KINDS_AFTER)
    _timeline(TIMELINE_AFTER)
    op.create_table(
        "observations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column("cycle_number", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("observed_on", sa.Date(), nullable=False),
        sa.Column("what_happened", sa.Text(), nullable=False),
        sa.Column("strategy", sa.String(length=300), nullable=False),
        sa.Column(
            "helped",
            sa.Enum(
                "yes",
                "partly",
                "no",
                "not_sure",
                name="observation_helped",
                native_enum=False,
                create_constraint=True,
                length=8,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("summary_key", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["staff.id"],
            name=op.f("fk_observations_author_id_staff"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_observations_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["pupil_id"],
            ["pupils.id"],
            name=op.f("fk_observations_pupil_id_pupils"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_observations_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observations")),
    )
    op.create_index(op.f("ix_observations_plan_id"), "observations", ["plan_id"], unique=False)
    op.create_index(
        "ix_observations_school_id_summary_key",
        "observations",
        ["school_id", "summary_key"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_observations_school_id_summary_key", table_name="observations")
    op.drop_index(op.f("ix_observations_plan_id"), table_name="observations")
    op.drop_table("observations")
    op.execute(f"DELETE FROM prompts WHERE kind NOT IN {_sql_list(KINDS_BEFORE)}")
    _allow(KINDS_BEFORE)
    op.execute(f"DELETE FROM timeline_entries WHERE kind NOT IN {_sql_list(TIMELINE_BEFORE)}")
    _timeline(TIMELINE_BEFORE)


def _timeline(kinds: tuple[str, ...]) -> None:
    with op.batch_alter_table("timeline_entries") as batch:
        batch.drop_constraint(op.f("ck_timeline_entries_timeline_kind"), type_="check")
        batch.create_check_constraint("timeline_kind", f"kind IN {_sql_list(kinds)}")


def _allow(kinds: tuple[str, ...]) -> None:
    # As in 0025: the kind is VARCHAR with a CHECK listing the kinds.
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
