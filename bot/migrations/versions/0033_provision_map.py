"""The school's provision map: a provision library, intervention groups, their sessions, impact.

Five tables (models.provision): `provision_library`, `intervention_groups`,
`intervention_group_members`, `intervention_sessions` (one row per session due, from the day it
was due) and `intervention_session_pupils` (who it was planned for, who was absent). Plan
provision rows gain a library reference, an end (ended, not deleted) and entry/exit measures;
review decisions about provision gain an effectiveness rating and the delivery figures the
reviewer saw. One prompt kind, "session_log" (the day's sessions asked about in one DM).
Downgrading drops the tables, the columns and the session prompts.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-06 04:20:16

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033"
down_revision: str | Sequence[str] | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every kind allowed after 0032 (0031 and 0032 added none to 0030's).
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
)
KINDS_AFTER = (*KINDS_BEFORE, "session_log")

# Added in place (ALTER TABLE … ADD COLUMN), not by copying the tables: rows elsewhere refer to
# plan_provisions and review_provision_decisions, and SQLite with foreign keys on would act on
# them when the old table is dropped. Each CHECK belongs to its column, so dropping the column
# drops it.
PROVISION_COLUMNS = {
    "library_id": "INTEGER",
    "ended_on": "DATE",
    "ended_reason": "VARCHAR(300)",
    "measure_kind": "VARCHAR(12) CONSTRAINT ck_plan_provisions_measure_kind CHECK (measure_kind IN "
    "('score', 'reading_age', 'standardised', 'attendance', 'scale'))",
    "measure_name": "VARCHAR(200)",
    "entry_value": "FLOAT",
    "entry_on": "DATE",
    "exit_value": "FLOAT",
    "exit_on": "DATE",
}
DECISION_COLUMNS = {
    "effectiveness": "VARCHAR(14) CONSTRAINT ck_review_provision_decisions_effectiveness CHECK "
    "(effectiveness IN ('not_effective', 'partly', 'effective', 'very_effective'))",
    "sessions_planned": "INTEGER",
    "sessions_delivered": "INTEGER",
}


def upgrade() -> None:
    _allow(KINDS_AFTER)
    op.create_table(
        "provision_library",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "area_of_need",
            sa.Enum(
                "cognition_learning",
                "communication_interaction",
                "semh",
                "sensory_physical",
                name="library_area_of_need",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "tier",
            sa.Enum(
                "ordinarily_available",
                "targeted",
                "specialist",
                name="provision_tier",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("group_size", sa.Integer(), nullable=True),
        sa.Column("sessions_per_week", sa.Integer(), nullable=True),
        sa.Column("session_minutes", sa.Integer(), nullable=True),
        sa.Column("weeks", sa.Integer(), nullable=True),
        sa.Column("staff_role", sa.String(length=200), nullable=True),
        sa.Column("cost_per_session_pence", sa.Integer(), nullable=True),
        sa.Column("cost_per_pupil_pence", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_provision_library_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provision_library")),
        sa.UniqueConstraint("school_id", "name", name=op.f("uq_provision_library_school_id_name")),
    )
    op.create_index(
        op.f("ix_provision_library_school_id"), "provision_library", ["school_id"], unique=False
    )

    op.create_table(
        "intervention_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("weekdays", sa.String(length=20), nullable=False),
        sa.Column("starts_at", sa.Time(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["staff.id"], name=op.f("fk_intervention_groups_created_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["library_id"],
            ["provision_library.id"],
            name=op.f("fk_intervention_groups_library_id_provision_library"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_intervention_groups_school_id_schools")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_intervention_groups_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intervention_groups")),
    )
    op.create_index(
        op.f("ix_intervention_groups_library_id"),
        "intervention_groups",
        ["library_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_intervention_groups_school_id"), "intervention_groups", ["school_id"], unique=False
    )
    op.create_index(
        op.f("ix_intervention_groups_staff_id"), "intervention_groups", ["staff_id"], unique=False
    )

    op.create_table(
        "intervention_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("starts_at", sa.Time(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "awaiting",
                "delivered",
                "not_delivered",
                name="session_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("not_delivered_reason", sa.String(length=300), nullable=True),
        sa.Column("logged_by_id", sa.Integer(), nullable=True),
        sa.Column("logged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("prompt_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["intervention_groups.id"],
            name=op.f("fk_intervention_sessions_group_id_intervention_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["logged_by_id"], ["staff.id"], name=op.f("fk_intervention_sessions_logged_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["prompt_id"], ["prompts.id"], name=op.f("fk_intervention_sessions_prompt_id_prompts")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_intervention_sessions_school_id_schools")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_intervention_sessions_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intervention_sessions")),
        sa.UniqueConstraint(
            "group_id", "held_on", name=op.f("uq_intervention_sessions_group_id_held_on")
        ),
    )
    op.create_index(
        op.f("ix_intervention_sessions_prompt_id"),
        "intervention_sessions",
        ["prompt_id"],
        unique=False,
    )
    op.create_index(
        "ix_intervention_sessions_school_id_held_on",
        "intervention_sessions",
        ["school_id", "held_on"],
        unique=False,
    )
    op.create_index(
        op.f("ix_intervention_sessions_staff_id"),
        "intervention_sessions",
        ["staff_id"],
        unique=False,
    )

    op.create_table(
        "intervention_group_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column("provision_id", sa.Integer(), nullable=True),
        sa.Column("joined_on", sa.Date(), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["intervention_groups.id"],
            name=op.f("fk_intervention_group_members_group_id_intervention_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["provision_id"],
            ["plan_provisions.id"],
            name=op.f("fk_intervention_group_members_provision_id_plan_provisions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["pupil_id"],
            ["pupils.id"],
            name=op.f("fk_intervention_group_members_pupil_id_pupils"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intervention_group_members")),
    )
    op.create_index(
        op.f("ix_intervention_group_members_group_id"),
        "intervention_group_members",
        ["group_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_intervention_group_members_provision_id"),
        "intervention_group_members",
        ["provision_id"],
        unique=False,
    )
    op.create_index(
        "ix_intervention_group_members_pupil_id",
        "intervention_group_members",
        ["pupil_id"],
        unique=False,
    )

    op.create_table(
        "intervention_session_pupils",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column("provision_id", sa.Integer(), nullable=True),
        sa.Column("absent", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["provision_id"],
            ["plan_provisions.id"],
            name=op.f("fk_intervention_session_pupils_provision_id_plan_provisions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["pupil_id"],
            ["pupils.id"],
            name=op.f("fk_intervention_session_pupils_pupil_id_pupils"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["intervention_sessions.id"],
            name=op.f("fk_intervention_session_pupils_session_id_intervention_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intervention_session_pupils")),
        sa.UniqueConstraint(
            "session_id",
            "pupil_id",
            name=op.f("uq_intervention_session_pupils_session_id_pupil_id"),
        ),
    )
    op.create_index(
        op.f("ix_intervention_session_pupils_provision_id"),
        "intervention_session_pupils",
        ["provision_id"],
        unique=False,
    )
    op.create_index(
        "ix_intervention_session_pupils_pupil_id",
        "intervention_session_pupils",
        ["pupil_id"],
        unique=False,
    )

    for name, definition in PROVISION_COLUMNS.items():
        op.execute(f"ALTER TABLE plan_provisions ADD COLUMN {name} {definition}")
    op.create_index("ix_plan_provisions_library_id", "plan_provisions", ["library_id"])
    for name, definition in DECISION_COLUMNS.items():
        op.execute(f"ALTER TABLE review_provision_decisions ADD COLUMN {name} {definition}")


def downgrade() -> None:
    for name in reversed(DECISION_COLUMNS):
        op.execute(f"ALTER TABLE review_provision_decisions DROP COLUMN {name}")
    op.drop_index("ix_plan_provisions_library_id", table_name="plan_provisions")
    for name in reversed(PROVISION_COLUMNS):
        op.execute(f"ALTER TABLE plan_provisions DROP COLUMN {name}")
    for table in (
        "intervention_session_pupils",
        "intervention_sessions",
        "intervention_group_members",
        "intervention_groups",
        "provision_library",
    ):
        op.drop_table(table)
    op.execute(f"DELETE FROM prompts WHERE kind NOT IN {_sql_list(KINDS_BEFORE)}")
    _allow(KINDS_BEFORE)


def _allow(kinds: tuple[str, ...]) -> None:
    # As in 0030: the kind is VARCHAR with a CHECK listing the kinds.
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
