"""Replies in chat: what staff write to the bot, filed as their comment on a pupil's plan.

`chat_replies` holds each reply by its Slack message (so an edit or a deletion in Slack, and
Slack's retries, find the one row) and where it was filed: a monitoring request's comment or a
note on the plan's timeline. Downgrading drops the table; what was filed stays on the plans.

Revision ID: 0031
Revises: 0029
Create Date: 2026-12-06 02:20:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031"
# Chained after 0029 on its branch; the lead re-chains it when merging.
down_revision: str | Sequence[str] | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chat_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("message_ts", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("monitoring_request_id", sa.Integer(), nullable=True),
        sa.Column("timeline_entry_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"], ["staff.id"], name=op.f("fk_chat_replies_author_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["monitoring_request_id"],
            ["monitoring_requests.id"],
            name=op.f("fk_chat_replies_monitoring_request_id_monitoring_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_chat_replies_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_chat_replies_school_id_schools")
        ),
        sa.ForeignKeyConstraint(
            ["timeline_entry_id"],
            ["timeline_entries.id"],
            name=op.f("fk_chat_replies_timeline_entry_id_timeline_entries"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_replies")),
        sa.UniqueConstraint(
            "school_id",
            "channel",
            "message_ts",
            name=op.f("uq_chat_replies_school_id_channel_message_ts"),
        ),
    )
    op.create_index(op.f("ix_chat_replies_author_id"), "chat_replies", ["author_id"], unique=False)
    op.create_index(op.f("ix_chat_replies_school_id"), "chat_replies", ["school_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_chat_replies_school_id"), table_name="chat_replies")
    op.drop_index(op.f("ix_chat_replies_author_id"), table_name="chat_replies")
    op.drop_table("chat_replies")
