"""Teachers' monitoring requests: strategies in place, impact, comments, per plan cycle.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 08:45:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "monitoring_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("cycle_number", sa.Integer(), nullable=False),
        sa.Column("teacher_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "answered",
                "closed",
                "withdrawn",
                name="monitoring_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "strategies",
            sa.Enum(
                "yes",
                "partly",
                "no",
                name="strategies_in_place",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column(
            "impact",
            sa.Enum(
                "good_progress",
                "some_progress",
                "no_change",
                "concern",
                name="impact",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("to_change", sa.Text(), nullable=True),
        sa.Column("withdrawn_reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["teaching_groups.id"],
            name=op.f("fk_monitoring_requests_group_id_teaching_groups"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_monitoring_requests_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["staff.id"],
            name=op.f("fk_monitoring_requests_requested_by_id_staff"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_monitoring_requests_school_id_schools")
        ),
        sa.ForeignKeyConstraint(
            ["teacher_id"], ["staff.id"], name=op.f("fk_monitoring_requests_teacher_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_requests")),
        sa.UniqueConstraint(
            "plan_id",
            "cycle_number",
            "teacher_id",
            name=op.f("uq_monitoring_requests_plan_id_cycle_number_teacher_id"),
        ),
    )
    with op.batch_alter_table("monitoring_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_monitoring_requests_plan_id"), ["plan_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_monitoring_requests_school_id"), ["school_id"], unique=False
        )
        batch_op.create_index(
            "ix_monitoring_requests_teacher_id_status", ["teacher_id", "status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("monitoring_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_monitoring_requests_teacher_id_status")
        batch_op.drop_index(batch_op.f("ix_monitoring_requests_school_id"))
        batch_op.drop_index(batch_op.f("ix_monitoring_requests_plan_id"))

    op.drop_table("monitoring_requests")
