"""The plan store: schools, roster, plans, reviews, outbox and audit log.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-23 05:29:31.861891

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""

    op.create_table(
        "schools",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("slack_team_id", sa.String(length=32), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column(
            "pupil_display",
            sa.Enum(
                "name", "initials", name="pupil_display", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schools")),
        sa.UniqueConstraint("name", name=op.f("uq_schools_name")),
        sa.UniqueConstraint("slack_team_id", name=op.f("uq_schools_slack_team_id")),
    )
    op.create_table(
        "glossary_terms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("acronym", sa.String(length=30), nullable=False),
        sa.Column("meaning", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_glossary_terms_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_glossary_terms")),
        sa.UniqueConstraint(
            "school_id", "acronym", name=op.f("uq_glossary_terms_school_id_acronym")
        ),
    )
    with op.batch_alter_table("glossary_terms", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_glossary_terms_school_id"), ["school_id"], unique=False
        )

    op.create_table(
        "pupils",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("upn", sa.String(length=13), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("preferred_name", sa.String(length=100), nullable=True),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("year_group", sa.Integer(), nullable=False),
        sa.Column("taught_in_year_group", sa.Boolean(), nullable=False),
        sa.Column("form", sa.String(length=20), nullable=True),
        sa.Column("house", sa.String(length=50), nullable=True),
        sa.Column(
            "sen_stage",
            sa.Enum("N", "K", "E", name="sen_stage", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column(
            "primary_need",
            sa.Enum(
                "SpLD",
                "MLD",
                "SLD",
                "PMLD",
                "SEMH",
                "SLCN",
                "HI",
                "VI",
                "MSI",
                "PD",
                "ASD",
                "OTH",
                "NSA",
                name="primary_need",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column(
            "secondary_need",
            sa.Enum(
                "SpLD",
                "MLD",
                "SLD",
                "PMLD",
                "SEMH",
                "SLCN",
                "HI",
                "VI",
                "MSI",
                "PD",
                "ASD",
                "OTH",
                "NSA",
                name="secondary_need",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column("eal", sa.Boolean(), nullable=False),
        sa.Column("pupil_premium", sa.Boolean(), nullable=False),
        sa.Column("child_in_care", sa.Boolean(), nullable=False),
        sa.Column("young_carer", sa.Boolean(), nullable=False),
        sa.Column("medical_need", sa.Boolean(), nullable=False),
        sa.Column("other_information", sa.Text(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_pupils_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pupils")),
        sa.UniqueConstraint("school_id", "upn", name=op.f("uq_pupils_school_id_upn")),
    )
    with op.batch_alter_table("pupils", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pupils_school_id"), ["school_id"], unique=False)
        batch_op.create_index(
            "ix_pupils_school_id_last_name", ["school_id", "last_name"], unique=False
        )

    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=20), nullable=True),
        sa.Column("staff_code", sa.String(length=20), nullable=True),
        sa.Column("department", sa.String(length=100), nullable=True),
        sa.Column("slack_user_id", sa.String(length=32), nullable=True),
        sa.Column("slack_lookup_failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_staff_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint("school_id", "email", name=op.f("uq_staff_school_id_email")),
        sa.UniqueConstraint(
            "school_id", "slack_user_id", name=op.f("uq_staff_school_id_slack_user_id")
        ),
    )
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_school_id"), ["school_id"], unique=False)

    op.create_table(
        "teaching_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=True),
        sa.Column("year_group", sa.Integer(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_teaching_groups_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teaching_groups")),
        sa.UniqueConstraint("school_id", "code", name=op.f("uq_teaching_groups_school_id_code")),
    )
    with op.batch_alter_table("teaching_groups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_teaching_groups_school_id"), ["school_id"], unique=False
        )

    op.create_table(
        "plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column("cycle_number", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "awaiting_qa",
                "active",
                "in_review",
                "closed",
                name="plan_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("review_date", sa.Date(), nullable=True),
        sa.Column("case_holder_id", sa.Integer(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["approved_by_id"], ["staff.id"], name=op.f("fk_plans_approved_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["case_holder_id"], ["staff.id"], name=op.f("fk_plans_case_holder_id_staff")
        ),
        sa.ForeignKeyConstraint(["pupil_id"], ["pupils.id"], name=op.f("fk_plans_pupil_id_pupils")),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_plans_school_id_schools")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["staff.id"], name=op.f("fk_plans_updated_by_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
    )
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plans_pupil_id"), ["pupil_id"], unique=False)
        batch_op.create_index(
            "ix_plans_school_id_case_holder_id", ["school_id", "case_holder_id"], unique=False
        )
        batch_op.create_index(
            "ix_plans_school_id_review_date", ["school_id", "review_date"], unique=False
        )
        batch_op.create_index(
            "uq_plans_open_plan_per_pupil",
            ["pupil_id"],
            unique=True,
            postgresql_where=sa.text("status <> 'closed'"),
            sqlite_where=sa.text("status <> 'closed'"),
        )

    op.create_table(
        "staff_roles",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "sendco",
                "senior_leader",
                "case_holder",
                "teacher",
                "teaching_assistant",
                name="staff_role",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_staff_roles_staff_id_staff"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("staff_id", "role", name=op.f("pk_staff_roles")),
    )
    op.create_table(
        "teaching_group_pupils",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["teaching_groups.id"],
            name=op.f("fk_teaching_group_pupils_group_id_teaching_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["pupil_id"], ["pupils.id"], name=op.f("fk_teaching_group_pupils_pupil_id_pupils")
        ),
        sa.PrimaryKeyConstraint("group_id", "pupil_id", name=op.f("pk_teaching_group_pupils")),
    )
    with op.batch_alter_table("teaching_group_pupils", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_teaching_group_pupils_pupil_id"), ["pupil_id"], unique=False
        )

    op.create_table(
        "teaching_group_teachers",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["teaching_groups.id"],
            name=op.f("fk_teaching_group_teachers_group_id_teaching_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_teaching_group_teachers_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("group_id", "staff_id", name=op.f("pk_teaching_group_teachers")),
    )
    with op.batch_alter_table("teaching_group_teachers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_teaching_group_teachers_staff_id"), ["staff_id"], unique=False
        )

    op.create_table(
        "agency_involvements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("agency", sa.String(length=200), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=True),
        sa.Column("involvement", sa.Text(), nullable=True),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_agency_involvements_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_involvements")),
    )
    with op.batch_alter_table("agency_involvements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agency_involvements_plan_id"), ["plan_id"], unique=False
        )

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_staff_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("via", sa.String(length=100), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("pupil_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_staff_id"], ["staff.id"], name=op.f("fk_audit_events_actor_staff_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_audit_events_plan_id_plans")
        ),
        sa.ForeignKeyConstraint(
            ["pupil_id"], ["pupils.id"], name=op.f("fk_audit_events_pupil_id_pupils")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_audit_events_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_pupil_id"), ["pupil_id"], unique=False)
        batch_op.create_index(
            "ix_audit_events_school_id_occurred_at", ["school_id", "occurred_at"], unique=False
        )

    op.create_table(
        "case_holder_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("assigned_by_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "proposed",
                "pending",
                "accepted",
                "declined",
                "ended",
                name="assignment_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("response_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["assigned_by_id"],
            ["staff.id"],
            name=op.f("fk_case_holder_assignments_assigned_by_id_staff"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_case_holder_assignments_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_case_holder_assignments_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_holder_assignments")),
    )
    with op.batch_alter_table("case_holder_assignments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_holder_assignments_plan_id"), ["plan_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_case_holder_assignments_staff_id"), ["staff_id"], unique=False
        )

    op.create_table(
        "circle_of_support",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("relationship_to_cyp", sa.String(length=200), nullable=True),
        sa.Column("ring", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_circle_of_support_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_circle_of_support")),
    )
    with op.batch_alter_table("circle_of_support", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_circle_of_support_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "linked_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "health_care",
                "intimate_care",
                "behaviour_support",
                "risk_assessment",
                "personal_education",
                "family_networking",
                "early_help",
                "ehc_plan",
                "other",
                name="linked_plan_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("location", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_linked_plans_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linked_plans")),
    )
    with op.batch_alter_table("linked_plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_linked_plans_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "plan_adjustments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "in_class",
                "access_arrangement",
                name="adjustment_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_plan_adjustments_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_adjustments")),
    )
    with op.batch_alter_table("plan_adjustments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_adjustments_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "plan_needs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column(
            "broad_area",
            sa.Enum(
                "cognition_learning",
                "communication_interaction",
                "semh",
                "sensory_physical",
                name="broad_area",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "census_code",
            sa.Enum(
                "SpLD",
                "MLD",
                "SLD",
                "PMLD",
                "SEMH",
                "SLCN",
                "HI",
                "VI",
                "MSI",
                "PD",
                "ASD",
                "OTH",
                "NSA",
                name="census_code",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "assessment",
                "observation",
                "report",
                "indes",
                "ehcp",
                "family",
                name="need_source",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_plan_needs_plan_id_plans"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_needs")),
    )
    with op.batch_alter_table("plan_needs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_needs_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "plan_outcomes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("timescale", sa.String(length=200), nullable=True),
        sa.Column("from_ehcp", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_plan_outcomes_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_outcomes")),
    )
    with op.batch_alter_table("plan_outcomes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_outcomes_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "plan_people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "delivers",
                "contributed",
                "sent_to",
                name="plan_person_role",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("relationship_to_cyp", sa.String(length=200), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_plan_people_plan_id_plans"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_plan_people_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_people")),
    )
    with op.batch_alter_table("plan_people", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_people_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "plan_voices",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("aspirations", sa.Text(), nullable=True),
        sa.Column("important_to_me", sa.Text(), nullable=True),
        sa.Column("strengths_and_likes", sa.Text(), nullable=True),
        sa.Column("difficulties", sa.Text(), nullable=True),
        sa.Column("how_to_support_me", sa.Text(), nullable=True),
        sa.Column("good_day", sa.Text(), nullable=True),
        sa.Column("bad_day", sa.Text(), nullable=True),
        sa.Column("better_days", sa.Text(), nullable=True),
        sa.Column("about_me", sa.Text(), nullable=True),
        sa.Column("family_hopes", sa.Text(), nullable=True),
        sa.Column("family_concerns", sa.Text(), nullable=True),
        sa.Column("professional_concerns", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_plan_voices_plan_id_plans"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("plan_id", name=op.f("pk_plan_voices")),
    )
    op.create_table(
        "prompts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "assignment",
                "assignment_reminder",
                "review_due",
                "review_reminder",
                "review_escalation",
                "monitoring_request",
                "monitoring_digest",
                "qa_request",
                "sendco_digest",
                name="prompt_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sent",
                "failed",
                "cancelled",
                name="prompt_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("slack_channel", sa.String(length=32), nullable=True),
        sa.Column("slack_ts", sa.String(length=32), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], name=op.f("fk_prompts_plan_id_plans")),
        sa.ForeignKeyConstraint(
            ["recipient_id"], ["staff.id"], name=op.f("fk_prompts_recipient_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_prompts_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prompts")),
        sa.UniqueConstraint(
            "school_id", "dedupe_key", name=op.f("uq_prompts_school_id_dedupe_key")
        ),
    )
    with op.batch_alter_table("prompts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_prompts_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_prompts_recipient_id"), ["recipient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_prompts_school_id"), ["school_id"], unique=False)
        batch_op.create_index("ix_prompts_status_due_at", ["status", "due_at"], unique=False)

    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("cycle_number", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "submitted",
                "approved",
                name="review_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("meeting_date", sa.Date(), nullable=True),
        sa.Column("what_is_working", sa.Text(), nullable=True),
        sa.Column("what_is_not_working", sa.Text(), nullable=True),
        sa.Column("what_needs_to_change", sa.Text(), nullable=True),
        sa.Column("next_steps", sa.Text(), nullable=True),
        sa.Column("recommendations", sa.Text(), nullable=True),
        sa.Column("cyp_views", sa.Text(), nullable=True),
        sa.Column("family_views", sa.Text(), nullable=True),
        sa.Column("attendees", sa.Text(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["approved_by_id"], ["staff.id"], name=op.f("fk_reviews_approved_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["staff.id"], name=op.f("fk_reviews_author_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_reviews_plan_id_plans"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.UniqueConstraint(
            "plan_id", "cycle_number", name=op.f("uq_reviews_plan_id_cycle_number")
        ),
    )
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reviews_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "sharing_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("given_by", sa.String(length=200), nullable=False),
        sa.Column("relationship_to_cyp", sa.String(length=200), nullable=True),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("storage_notes", sa.Text(), nullable=True),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("withdrawn_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_sharing_consents_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_consents")),
    )
    with op.batch_alter_table("sharing_consents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sharing_consents_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "timeline_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "meeting",
                "phone_call",
                "email",
                "letter",
                "note",
                "plan_change",
                "review",
                "assignment",
                name="timeline_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["staff.id"], name=op.f("fk_timeline_entries_author_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_timeline_entries_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timeline_entries")),
    )
    with op.batch_alter_table("timeline_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_timeline_entries_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "agency_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("agency_involvement_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=True),
        sa.Column("report_date", sa.Date(), nullable=True),
        sa.Column("recommendations", sa.Text(), nullable=True),
        sa.Column("location", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_involvement_id"],
            ["agency_involvements.id"],
            name=op.f("fk_agency_reports_agency_involvement_id_agency_involvements"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_agency_reports_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_reports")),
    )
    with op.batch_alter_table("agency_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agency_reports_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "plan_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("outcome_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("measure", sa.Text(), nullable=True),
        sa.Column("baseline", sa.Text(), nullable=True),
        sa.Column("success_criteria", sa.Text(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "achieved",
                "partly_achieved",
                "not_yet_achieved",
                "discontinued",
                name="target_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("cycle_number", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outcome_id"],
            ["plan_outcomes.id"],
            name=op.f("fk_plan_targets_outcome_id_plan_outcomes"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_plan_targets_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_targets")),
    )
    with op.batch_alter_table("plan_targets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_targets_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "plan_provisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("who", sa.String(length=200), nullable=True),
        sa.Column("how", sa.Text(), nullable=True),
        sa.Column("how_often", sa.String(length=200), nullable=True),
        sa.Column("how_long", sa.String(length=200), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_plan_provisions_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["plan_targets.id"],
            name=op.f("fk_plan_provisions_target_id_plan_targets"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_provisions")),
    )
    with op.batch_alter_table("plan_provisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_provisions_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "review_target_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column(
            "result",
            sa.Enum(
                "achieved",
                "partly",
                "not_yet",
                name="target_result",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["reviews.id"],
            name=op.f("fk_review_target_results_review_id_reviews"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["plan_targets.id"],
            name=op.f("fk_review_target_results_target_id_plan_targets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_target_results")),
        sa.UniqueConstraint(
            "review_id", "target_id", name=op.f("uq_review_target_results_review_id_target_id")
        ),
    )
    with op.batch_alter_table("review_target_results", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_review_target_results_target_id"), ["target_id"], unique=False
        )


def downgrade() -> None:
    """Downgrade schema."""

    with op.batch_alter_table("review_target_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_target_results_target_id"))

    op.drop_table("review_target_results")
    with op.batch_alter_table("plan_provisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_provisions_plan_id"))

    op.drop_table("plan_provisions")
    with op.batch_alter_table("plan_targets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_targets_plan_id"))

    op.drop_table("plan_targets")
    with op.batch_alter_table("agency_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agency_reports_plan_id"))

    op.drop_table("agency_reports")
    with op.batch_alter_table("timeline_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_timeline_entries_plan_id"))

    op.drop_table("timeline_entries")
    with op.batch_alter_table("sharing_consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sharing_consents_plan_id"))

    op.drop_table("sharing_consents")
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reviews_plan_id"))

    op.drop_table("reviews")
    with op.batch_alter_table("prompts", schema=None) as batch_op:
        batch_op.drop_index("ix_prompts_status_due_at")
        batch_op.drop_index(batch_op.f("ix_prompts_school_id"))
        batch_op.drop_index(batch_op.f("ix_prompts_recipient_id"))
        batch_op.drop_index(batch_op.f("ix_prompts_plan_id"))

    op.drop_table("prompts")
    op.drop_table("plan_voices")
    with op.batch_alter_table("plan_people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_people_plan_id"))

    op.drop_table("plan_people")
    with op.batch_alter_table("plan_outcomes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_outcomes_plan_id"))

    op.drop_table("plan_outcomes")
    with op.batch_alter_table("plan_needs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_needs_plan_id"))

    op.drop_table("plan_needs")
    with op.batch_alter_table("plan_adjustments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_adjustments_plan_id"))

    op.drop_table("plan_adjustments")
    with op.batch_alter_table("linked_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_linked_plans_plan_id"))

    op.drop_table("linked_plans")
    with op.batch_alter_table("circle_of_support", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_circle_of_support_plan_id"))

    op.drop_table("circle_of_support")
    with op.batch_alter_table("case_holder_assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_holder_assignments_staff_id"))
        batch_op.drop_index(batch_op.f("ix_case_holder_assignments_plan_id"))

    op.drop_table("case_holder_assignments")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_school_id_occurred_at")
        batch_op.drop_index(batch_op.f("ix_audit_events_pupil_id"))
        batch_op.drop_index(batch_op.f("ix_audit_events_plan_id"))

    op.drop_table("audit_events")
    with op.batch_alter_table("agency_involvements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agency_involvements_plan_id"))

    op.drop_table("agency_involvements")
    with op.batch_alter_table("teaching_group_teachers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_teaching_group_teachers_staff_id"))

    op.drop_table("teaching_group_teachers")
    with op.batch_alter_table("teaching_group_pupils", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_teaching_group_pupils_pupil_id"))

    op.drop_table("teaching_group_pupils")
    op.drop_table("staff_roles")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_plans_open_plan_per_pupil",
            postgresql_where=sa.text("status <> 'closed'"),
            sqlite_where=sa.text("status <> 'closed'"),
        )
        batch_op.drop_index("ix_plans_school_id_review_date")
        batch_op.drop_index("ix_plans_school_id_case_holder_id")
        batch_op.drop_index(batch_op.f("ix_plans_pupil_id"))

    op.drop_table("plans")
    with op.batch_alter_table("teaching_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_teaching_groups_school_id"))

    op.drop_table("teaching_groups")
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_school_id"))

    op.drop_table("staff")
    with op.batch_alter_table("pupils", schema=None) as batch_op:
        batch_op.drop_index("ix_pupils_school_id_last_name")
        batch_op.drop_index(batch_op.f("ix_pupils_school_id"))

    op.drop_table("pupils")
    with op.batch_alter_table("glossary_terms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_glossary_terms_school_id"))

    op.drop_table("glossary_terms")
    op.drop_table("schools")
