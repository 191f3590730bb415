"""The family's agreement to the plan (issue 17): what a parent or carer said on the agreement
page, the plan version and the family copy they were shown, and who they agreed may see it.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 01:05:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | Sequence[str] | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(
        *values,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(v) for v in values),
    )


def upgrade() -> None:
    op.create_table(
        "plan_agreements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("cycle_number", sa.Integer(), nullable=False),
        sa.Column("plan_version", sa.Integer(), nullable=False),
        sa.Column("decision", _enum("agreement_decision", "agreed", "disagreed"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("relationship_to_cyp", sa.String(length=100), nullable=False),
        sa.Column("agreed_on", sa.Date(), nullable=False),
        sa.Column("disagreement", sa.Text(), nullable=True),
        sa.Column(
            "sharing", _enum("sharing_choice", "school_staff", "named_agencies"), nullable=False
        ),
        sa.Column("agencies", sa.Text(), nullable=False),
        sa.Column("other_agencies", sa.String(length=500), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prompt_id", sa.Integer(), nullable=True),
        sa.Column("family_copy", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitations.id"],
            name=op.f("fk_plan_agreements_invitation_id_invitations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_plan_agreements_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["prompt_id"], ["prompts.id"], name=op.f("fk_plan_agreements_prompt_id_prompts")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_plan_agreements_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_agreements")),
    )
    with op.batch_alter_table("plan_agreements") as batch:
        for column in ("invitation_id", "plan_id", "prompt_id", "school_id"):
            batch.create_index(op.f(f"ix_plan_agreements_{column}"), [column], unique=False)


def downgrade() -> None:
    op.drop_table("plan_agreements")
