"""Monitoring includes support staff: a request may ask a teaching assistant or key adult.

`monitoring_requests.role` says whom a request asks ("teacher", as every existing request did,
or "support"), and support staff's two answers have their own columns: `session_as_planned`
(is the session happening as planned?) and `responding` (how is the pupil responding?).
Downgrading deletes support staff's requests (and their messages' links), then the columns.

Revision ID: 0032
Revises: 0029
Create Date: 2026-12-06 02:10:00

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0032"
# Chained after 0029 on its branch; the lead re-chains it when merging.
down_revision: str | Sequence[str] | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


COLUMNS = {
    # column: (the CHECK's name as the models name it, its values, NOT NULL default)
    "role": ("monitoring_role", ("teacher", "support"), "teacher"),
    "session_as_planned": ("session_as_planned", ("yes", "sometimes", "no"), None),
    "responding": ("pupil_response", ("well", "mixed", "not_well", "too_early"), None),
}


def upgrade() -> None:
    # Added in place, not by rebuilding the table (batch mode): the outbox's prompts refer to
    # monitoring_requests, and SQLite may not drop a table something refers to. Both databases
    # take a column with its own named CHECK this way.
    for name, (check, values, default) in COLUMNS.items():
        listed = ", ".join(f"'{value}'" for value in values)
        length = max(len(value) for value in values)
        not_null = f" DEFAULT '{default}' NOT NULL" if default else ""
        op.execute(
            f"ALTER TABLE monitoring_requests ADD COLUMN {name} VARCHAR({length}){not_null} "
            f"CONSTRAINT ck_monitoring_requests_{check} CHECK ({name} IN ({listed}))"
        )


def downgrade() -> None:
    support = "SELECT id FROM monitoring_requests WHERE role = 'support'"
    op.execute(
        "UPDATE prompts SET monitoring_request_id = NULL "
        f"WHERE monitoring_request_id IN ({support})"
    )
    op.execute("DELETE FROM monitoring_requests WHERE role = 'support'")
    # Each CHECK belongs to its column, so dropping the column drops it (SQLite too).
    for name in reversed(COLUMNS):
        op.execute(f"ALTER TABLE monitoring_requests DROP COLUMN {name}")
