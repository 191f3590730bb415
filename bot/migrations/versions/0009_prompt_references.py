"""Prompts carry typed references (assignment, monitoring request, review cycle), filled in once
from the dedupe keys that used to be parsed for them; from here on the key is only an
idempotency key.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 01:00:00

"""

from collections.abc import Iterator, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The keys as the services wrote them up to revision 0008:
#   assignment:<assignment id>, assignment_reminder:<id>, assignment_ended:<id>,
#   assignment_declined:<id>:<sendco id>, monitoring_request:<request id>:asked=<time>,
#   review_due:plan=<plan id>:cycle=<n> (also review_reminder:..., review_snoozed:...).
ASSIGNMENT_KINDS = ("assignment", "assignment_reminder", "assignment_ended", "assignment_declined")
REVIEW_KINDS = ("review_due", "review_reminder")
BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("prompts") as batch:
        batch.add_column(sa.Column("cycle_number", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("assignment_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("monitoring_request_id", sa.Integer(), nullable=True))
        batch.create_index(op.f("ix_prompts_assignment_id"), ["assignment_id"], unique=False)
        batch.create_index(
            op.f("ix_prompts_monitoring_request_id"), ["monitoring_request_id"], unique=False
        )
        batch.create_foreign_key(
            op.f("fk_prompts_assignment_id_case_holder_assignments"),
            "case_holder_assignments",
            ["assignment_id"],
            ["id"],
        )
        batch.create_foreign_key(
            op.f("fk_prompts_monitoring_request_id_monitoring_requests"),
            "monitoring_requests",
            ["monitoring_request_id"],
            ["id"],
        )
    _fill_references()


def downgrade() -> None:
    with op.batch_alter_table("prompts") as batch:
        batch.drop_constraint(
            op.f("fk_prompts_monitoring_request_id_monitoring_requests"), type_="foreignkey"
        )
        batch.drop_constraint(
            op.f("fk_prompts_assignment_id_case_holder_assignments"), type_="foreignkey"
        )
        batch.drop_index(op.f("ix_prompts_monitoring_request_id"))
        batch.drop_index(op.f("ix_prompts_assignment_id"))
        batch.drop_column("monitoring_request_id")
        batch.drop_column("assignment_id")
        batch.drop_column("cycle_number")


def _fill_references() -> None:
    """Parses every existing key once. A key that does not parse, or names a row that no longer
    exists, leaves the column empty: the prompt's message then finds nothing to say, as the
    old parsers did."""
    connection = op.get_bind()
    prompts = sa.table(
        "prompts",
        sa.column("id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("dedupe_key", sa.String),
        sa.column("plan_id", sa.Integer),
        sa.column("cycle_number", sa.Integer),
        sa.column("assignment_id", sa.Integer),
        sa.column("monitoring_request_id", sa.Integer),
    )
    assignments = _ids(connection, "case_holder_assignments")
    requests = _ids(connection, "monitoring_requests")
    plans = _ids(connection, "plans")
    rows = connection.execute(
        sa.select(prompts.c.id, prompts.c.kind, prompts.c.dedupe_key, prompts.c.plan_id).where(
            prompts.c.kind.in_((*ASSIGNMENT_KINDS, *REVIEW_KINDS, "monitoring_request"))
        )
    ).all()
    updates = []
    for prompt_id, kind, key, plan_id in rows:
        values = _references(kind, key)
        if values.get("assignment_id") not in assignments:
            values.pop("assignment_id", None)
        if values.get("monitoring_request_id") not in requests:
            values.pop("monitoring_request_id", None)
        if plan_id is not None or values.get("plan_id") not in plans:
            values.pop("plan_id", None)
        if values:
            updates.append({"prompt_id": prompt_id, **values})
    for column in ("plan_id", "cycle_number", "assignment_id", "monitoring_request_id"):
        for chunk in _chunks([u for u in updates if column in u], BATCH):
            connection.execute(
                prompts.update()
                .where(prompts.c.id == sa.bindparam("prompt_id"))
                .values({column: sa.bindparam("value")}),
                [{"prompt_id": u["prompt_id"], "value": u[column]} for u in chunk],
            )


def _references(kind: str, key: str) -> dict[str, int]:
    """What a key of this kind names, as the parsers of revision 0008 read it."""
    parts = key.split(":")
    if kind in ASSIGNMENT_KINDS:
        return {"assignment_id": int(parts[1])} if _number(parts, 1) else {}
    if kind == "monitoring_request":
        return {"monitoring_request_id": int(parts[1])} if _number(parts, 1) else {}
    values = {}
    for part in parts[1:]:
        name, _, number = part.partition("=")
        if name in ("plan", "cycle") and number.isdigit():
            values["plan_id" if name == "plan" else "cycle_number"] = int(number)
    return values


def _number(parts: list[str], index: int) -> bool:
    return len(parts) > index and parts[index].isdigit()


def _ids(connection: sa.Connection, table: str) -> set[int]:
    return set(connection.execute(sa.select(sa.table(table, sa.column("id")).c.id)).scalars())


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
