"""More of the people around the pupil (issue 18): the form tutor, head of year and pastoral
roles with the forms, year groups and houses they look after; support staff named on a class;
and key adults the SENDCo links to a pupil (`/ssp support`).

Revision ID: 0028
Revises: 0024 (written against main's head; the lead re-chains it at merge, after 0026)
Create Date: 2026-12-06 01:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | Sequence[str] | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES_BEFORE = ("sendco", "senior_leader", "case_holder", "teacher", "teaching_assistant")
ROLES_AFTER = (*ROLES_BEFORE, "form_tutor", "head_of_year", "pastoral")


def upgrade() -> None:
    _allow(ROLES_AFTER)
    op.create_table(
        "staff_scopes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("form", sa.String(length=20), nullable=True),
        sa.Column("year_group", sa.Integer(), nullable=True),
        sa.Column("house", sa.String(length=50), nullable=True),
        sa.CheckConstraint(
            "(CASE WHEN form IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN year_group IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN house IS NULL THEN 0 ELSE 1 END) = 1",
            name=op.f("ck_staff_scopes_one_scope"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_staff_scopes_staff_id_staff"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_scopes")),
    )
    op.create_index(op.f("ix_staff_scopes_staff_id"), "staff_scopes", ["staff_id"], unique=False)
    op.create_table(
        "teaching_group_support",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["teaching_groups.id"],
            name=op.f("fk_teaching_group_support_group_id_teaching_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_teaching_group_support_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("group_id", "staff_id", name=op.f("pk_teaching_group_support")),
    )
    op.create_index(
        op.f("ix_teaching_group_support_staff_id"),
        "teaching_group_support",
        ["staff_id"],
        unique=False,
    )
    op.create_table(
        "key_adults",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("linked_by_id", sa.Integer(), nullable=True),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["ended_by_id"], ["staff.id"], name=op.f("fk_key_adults_ended_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["linked_by_id"], ["staff.id"], name=op.f("fk_key_adults_linked_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["pupil_id"], ["pupils.id"], name=op.f("fk_key_adults_pupil_id_pupils")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_key_adults_school_id_schools")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_key_adults_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_adults")),
    )
    for column in ("pupil_id", "school_id", "staff_id"):
        op.create_index(op.f(f"ix_key_adults_{column}"), "key_adults", [column], unique=False)


def downgrade() -> None:
    op.drop_table("key_adults")
    op.drop_table("teaching_group_support")
    op.drop_table("staff_scopes")
    op.execute(f"DELETE FROM staff_roles WHERE role NOT IN {_sql_list(ROLES_BEFORE)}")
    _allow(ROLES_BEFORE)


def _allow(roles: tuple[str, ...]) -> None:
    # As 0023 does for prompt kinds: the role is VARCHAR with a CHECK listing the roles; SQLite
    # changes a CHECK only by rebuilding the table, which batch mode does. The longest role
    # (teaching_assistant) is unchanged, so the column keeps its length.
    with op.batch_alter_table("staff_roles") as batch:
        batch.drop_constraint(op.f("ck_staff_roles_staff_role"), type_="check")
        batch.create_check_constraint("staff_role", f"role IN {_sql_list(roles)}")


def _sql_list(roles: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{role}'" for role in roles) + ")"
