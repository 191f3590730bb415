"""Every row the database holds about one pupil, found by following the schema.

Shared by retention (destroying them) and subject access (exporting them): starting from the
pupil's row, every row that refers to a row already found is about the pupil too (their plans,
everything in the plans, reviews, prompts about them, …), until nothing new is found. A table
added later is covered without being listed here. The audit log is the exception: its rows are
about who looked at a record, so they are found by `audit_rows`, never deleted with the pupil.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Table, or_, select, tuple_
from sqlalchemy.orm import Session

from models import AuditEvent, Base, Pupil

# Rows here are about the pupil but belong to the school's accountability: kept by retention
# (unlinked), exported by subject access as the log of who looked at the record.
NOT_FOLLOWED = {AuditEvent.__tablename__}
CHUNK = 500


def rows_about_pupil(session: Session, pupil_id: int) -> dict[str, set]:
    """The primary keys of every row about the pupil, by table name (a tuple for a link
    table's composite key). One query per table and reference per round, a few rounds."""
    owned: dict[str, set] = defaultdict(set)
    owned[Pupil.__tablename__].add(pupil_id)
    grew = True
    while grew:
        grew = False
        for table in Base.metadata.tables.values():
            if table.name in NOT_FOLLOWED:
                continue
            key = key_of(table)
            for column, target in references(table):
                ids = owned.get(target)
                if not ids:
                    continue
                found = _select_in(session, key, column, ids)
                if not found <= owned[table.name]:
                    owned[table.name] |= found
                    grew = True
    return {name: ids for name, ids in owned.items() if ids}


def rows_referring_to(session: Session, target: str, ids: set) -> dict[str, set]:
    """The primary keys of the rows that refer directly to these rows of `target`, by table
    name (one level, not followed further; the audit log left out)."""
    found: dict[str, set] = {}
    for table in Base.metadata.tables.values():
        if table.name in NOT_FOLLOWED:
            continue
        for column, refers_to in references(table):
            if refers_to == target:
                keys = _select_in(session, key_of(table), column, ids)
                if keys:
                    found.setdefault(table.name, set()).update(keys)
    return found


def audit_rows(session: Session, pupil_id: int, plan_ids: set[int]) -> list[AuditEvent]:
    """The audit log's rows about the pupil or their plans, oldest first."""
    condition = AuditEvent.pupil_id == pupil_id
    if plan_ids:
        condition = or_(condition, AuditEvent.plan_id.in_(list(plan_ids)))
    return list(
        session.scalars(
            select(AuditEvent).where(condition).order_by(AuditEvent.occurred_at, AuditEvent.id)
        )
    )


def key_of(table: Table):
    """The table's primary key as one expression (a tuple for a link table's pair of ids)."""
    columns = list(table.primary_key.columns)
    return columns[0] if len(columns) == 1 else tuple_(*columns)


def references(table: Table):
    """(column, name of the table it refers to) for each of the table's foreign keys."""
    for fk in table.foreign_keys:
        yield fk.parent, fk.column.table.name


def chunks(ids) -> list[list]:
    values = list(ids)
    return [values[start : start + CHUNK] for start in range(0, len(values), CHUNK)]


def _select_in(session: Session, key, column, ids: set) -> set:
    found: set = set()
    columns = key.clauses if hasattr(key, "clauses") else [key]
    for chunk in chunks(ids):
        found |= {
            row[0] if len(row) == 1 else tuple(row)
            for row in session.execute(select(*columns).where(column.in_(chunk)))
        }
    return found
