"""Families and young people take part (issue 17): the links they are sent (stored as a hash of
the token), what they send back, and the two prompt kinds (a contribution arrived; a link was
locked after three wrong dates of birth).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05 23:20:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | Sequence[str] | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PURPOSES = ("family_views", "pupil_views")
# Every kind allowed after 0021 (0022 added none). If a migration between re-chains with kinds of
# its own, add them here too.
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
)
KINDS_AFTER = (*KINDS_BEFORE, "family_contribution", "invitation_locked")


def _purpose(name: str) -> sa.Enum:
    return sa.Enum(
        *PURPOSES,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(p) for p in PURPOSES),
    )


def upgrade() -> None:
    # The kinds first: SQLite rebuilds `prompts` for its CHECK, before anything refers to it.
    _allow(KINDS_AFTER)
    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column("purpose", _purpose("invitation_purpose"), nullable=False),
        sa.Column("cycle_number", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("questions", sa.String(length=500), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("max_submissions", sa.Integer(), nullable=False),
        sa.Column("submissions", sa.Integer(), nullable=False),
        sa.Column("failed_checks", sa.Integer(), nullable=False),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.Column("lock_prompt_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["staff.id"], name=op.f("fk_invitations_created_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["lock_prompt_id"], ["prompts.id"], name=op.f("fk_invitations_lock_prompt_id_prompts")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_invitations_plan_id_plans"),
            ondelete="CASCADE",
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["pupil_id"], ["pupils.id"], name=op.f("fk_invitations_pupil_id_pupils")
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"], ["staff.id"], name=op.f("fk_invitations_revoked_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_invitations_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitations_token_hash")),
    )
    with op.batch_alter_table("invitations") as batch:
        for column in ("plan_id", "pupil_id", "school_id"):
            batch.create_index(op.f(f"ix_invitations_{column}"), [column], unique=False)
    op.create_table(
        "contributions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("purpose", _purpose("contribution_purpose"), nullable=False),
        sa.Column("cycle_number", sa.Integer(), nullable=False),
        sa.Column("contributor_name", sa.String(length=100), nullable=True),
        sa.Column("contributor_relationship", sa.String(length=100), nullable=True),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prompt_id", sa.Integer(), nullable=True),
        sa.Column("added_to_plan_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["added_by_id"], ["staff.id"], name=op.f("fk_contributions_added_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitations.id"],
            name=op.f("fk_contributions_invitation_id_invitations"),
            ondelete="CASCADE",
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_contributions_plan_id_plans"),
            ondelete="CASCADE",
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["prompt_id"], ["prompts.id"], name=op.f("fk_contributions_prompt_id_prompts")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_contributions_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contributions")),
    )
    with op.batch_alter_table("contributions") as batch:
        for column in ("invitation_id", "plan_id", "prompt_id", "school_id"):
            batch.create_index(op.f(f"ix_contributions_{column}"), [column], unique=False)


def downgrade() -> None:
    op.drop_table("contributions")
    op.drop_table("invitations")
    op.execute(f"DELETE FROM prompts WHERE kind NOT IN {_sql_list(KINDS_BEFORE)}")
    _allow(KINDS_BEFORE)


def _allow(kinds: tuple[str, ...]) -> None:
    # As in 0018 and 0021: the kind is VARCHAR with a CHECK listing the kinds; SQLite changes a
    # CHECK only by rebuilding the table, which batch mode does.
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
