"""Retention: destroying a pupil's records when the school's retention schedule says so.

The rule (School.retention_years, default 31: the IRMS schools toolkit keeps SEN files, reviews
and plans until the pupil's date of birth + 31 years) applies to pupils who have left. A pupil
under legal hold is skipped and named. Destroying removes every row about the pupil from every
table — found by following the schema's foreign keys from the pupil, so a table added later is
covered without being listed here — except the audit log, whose rows stay (who looked, when)
with the pupil and plan unlinked; and the Graph users the Microsoft 365 sync keeps in each
school's saved state (School.m365_sync_state) go too. One DestructionRecord, with no personal
data, says it was done. Running it again finds nothing more to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.errors import UserError
from bot.services import records
from bot.services.m365 import graph
from bot.services.records import references
from models import AuditEvent, Base, DestructionRecord, Pupil, School

MIN_YEARS, MAX_YEARS = 1, 100
SYNC_STATE = "schools.m365_sync_state"  # the count of Graph users kept there, in a report's rows


@dataclass(frozen=True)
class DuePupil:
    pupil_id: int
    upn: str
    left_on: date | None
    due_on: date
    legal_hold: str | None = None


@dataclass
class RetentionReport:
    school: str
    rule: str
    due: list[DuePupil] = field(default_factory=list)
    held: list[DuePupil] = field(default_factory=list)
    rows: dict[int, dict[str, int]] = field(default_factory=dict)
    applied: bool = False

    def lines(self) -> list[str]:
        verb = "Destroyed" if self.applied else "Due for destruction"
        out = [f"{self.school}: {self.rule}."]
        if not self.due and not self.held:
            out.append("Nothing is due for destruction.")
        for pupil in self.due:
            counts = self.rows.get(pupil.pupil_id, {})
            tables = ", ".join(f"{table} {n}" for table, n in sorted(counts.items()))
            out.append(
                f"{verb}: record {pupil.pupil_id}, UPN {pupil.upn}, left "
                f"{_day(pupil.left_on)}, due {_day(pupil.due_on)}"
                + (f" ({sum(counts.values())} rows: {tables})" if counts else "")
            )
        for pupil in self.held:
            out.append(
                f"Kept under legal hold: record {pupil.pupil_id}, UPN {pupil.upn}, due "
                f"{_day(pupil.due_on)} — {pupil.legal_hold}"
            )
        if self.due and not self.applied:
            out.append("Nothing was destroyed: run again with --apply to destroy these records.")
        return out


def rule_of(school: School) -> str:
    return f"records are destroyed at date of birth + {school.retention_years} years, once left"


def due_on(date_of_birth: date, years: int) -> date:
    try:
        return date_of_birth.replace(year=date_of_birth.year + years)
    except ValueError:  # 29 February, in a year that has none
        return date(date_of_birth.year + years, 3, 1)


def review(session: Session, school: School, today: date) -> RetentionReport:
    """What is due (dry run): pupils who have left whose retention date has passed, and those
    held; with the rows each would lose, table by table. Changes nothing."""
    report = RetentionReport(school.name, rule_of(school))
    for pupil in session.scalars(
        select(Pupil)
        .where(Pupil.school_id == school.id, Pupil.is_active.is_(False))
        .order_by(Pupil.left_on, Pupil.id)
    ):
        when = due_on(pupil.date_of_birth, school.retention_years)
        if when > today:
            continue
        entry = DuePupil(pupil.id, pupil.upn, pupil.left_on, when, pupil.legal_hold_reason)
        (report.held if pupil.legal_hold_reason else report.due).append(entry)
    for pupil in report.due:
        owned = records.rows_about_pupil(session, pupil.pupil_id)
        report.rows[pupil.pupil_id] = {t: len(ids) for t, ids in owned.items() if ids}
        synced = _sync_state_entries(session, pupil.upn)
        if synced:
            report.rows[pupil.pupil_id][SYNC_STATE] = synced
    return report


def apply(
    session: Session, school: School, today: date, *, now: datetime, run_by: str
) -> RetentionReport:
    """Destroys what `review` lists, in the caller's transaction (all of it, or nothing)."""
    report = review(session, school, today)
    for pupil in report.due:
        owned = records.rows_about_pupil(session, pupil.pupil_id)
        _unlink_audit(session, owned)
        _delete(session, owned)
        _forget_in_sync_states(session, pupil.upn)
        session.add(
            DestructionRecord(
                school_id=school.id,
                record_number=pupil.pupil_id,
                destroyed_at=now,
                due_on=pupil.due_on,
                rule=report.rule,
                run_by=run_by[:100],
                rows=report.rows[pupil.pupil_id],
            )
        )
    session.flush()
    report.applied = True
    return report


def hold(session: Session, school: School, upn: str, reason: str, today: date) -> Pupil:
    pupil = _pupil(session, school, upn)
    if not reason.strip():
        raise UserError("Say why the records are held (--reason), for the destruction review.")
    pupil.legal_hold_reason, pupil.legal_hold_since = reason.strip()[:300], today
    return pupil


def release(session: Session, school: School, upn: str) -> Pupil:
    pupil = _pupil(session, school, upn)
    pupil.legal_hold_reason = pupil.legal_hold_since = None
    return pupil


def set_years(school: School, years: int) -> None:
    if not MIN_YEARS <= years <= MAX_YEARS:
        raise UserError(f"--retention-years must be between {MIN_YEARS} and {MAX_YEARS}.")
    school.retention_years = years


def _pupil(session: Session, school: School, upn: str) -> Pupil:
    pupil = session.scalar(
        select(Pupil).where(Pupil.school_id == school.id, Pupil.upn == upn.strip().upper())
    )
    if pupil is None:
        raise UserError(f"No pupil with UPN {upn.strip()} at {school.name}.")
    return pupil


def _unlink_audit(session: Session, owned: dict[str, set]) -> None:
    # The audit log's ORM guard refuses changes to its rows; retention is the one sanctioned
    # change, made in SQL: the access stays recorded, the pupil it was about does not.
    audit = AuditEvent.__table__
    for column, target in references(audit):
        ids = owned.get(target)
        if ids and target in (Pupil.__tablename__, "plans"):
            for chunk in records.chunks(ids):
                session.execute(update(audit).where(column.in_(chunk)).values({column.name: None}))


def _delete(session: Session, owned: dict[str, set]) -> None:
    tables = Base.metadata.tables
    # Links between rows being deleted are cut first, so the order of deletion can't trip over
    # a cycle (a prompt and the invitation that locked it).
    for name, ids in owned.items():
        table = tables[name]
        key = records.key_of(table)
        for column, target in references(table):
            if column.nullable and owned.get(target):
                for chunk in records.chunks(ids):
                    session.execute(update(table).where(key.in_(chunk)).values({column.name: None}))
    for table in reversed(Base.metadata.sorted_tables):
        ids = owned.get(table.name)
        if not ids:
            continue
        key = records.key_of(table)
        for chunk in records.chunks(ids):
            session.execute(delete(table).where(key.in_(chunk)))


def _states(session: Session) -> list[School]:
    return list(session.scalars(select(School).where(School.m365_sync_state.is_not(None))))


def _sync_state_entries(session: Session, upn: str) -> int:
    """How many Graph users the schools' saved Microsoft 365 sync states keep for this pupil."""
    return sum(len(graph.pupil_users(s.m365_sync_state, upn)) for s in _states(session))


def _forget_in_sync_states(session: Session, upn: str) -> None:
    # The Microsoft 365 sync keeps Graph's fields of each user between syncs (their names, date
    # of birth, UPN: bot.services.m365.graph), in every school whose roster held them (a pupil
    # may have moved school), outside any table's rows: taken out here, so nothing of the pupil
    # is left.
    for school in _states(session):
        kept = graph.without_pupil(school.m365_sync_state, upn)
        if kept is not school.m365_sync_state:
            school.m365_sync_state = kept  # a new value: the JSON column sees the change


def _day(day: date | None) -> str:
    return f"{day:%-d %B %Y}" if day else "(date not recorded)"
