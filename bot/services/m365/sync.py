"""The sync: Graph's roster, mapped, applied through the CSV import's upsert path
(`roster.apply_staff`, `apply_pupils`, `apply_classes`), with a dry run, the state kept for
the next sync, the status the SENDCo sees, and the nightly run.

A sync is all or nothing. Everything is read from Graph first; a record that cannot be mapped
(a student with no UPN, a teacher with no mail, …) rejects the whole sync naming the record by
its Graph id (never a pupil's name); a network failure, a refusal or throttling that does not
end writes nothing either. Only then is the roster changed, in one transaction, with what Graph
said saved on the school (`School.m365_sync_state`: the delta links, and the few fields of each
user and class that the mapping reads), so the next sync asks Graph only for changes.

Matching staff to Slack accounts is not done here: `SyncResult.school_id` tells the caller
(the `sspbot sync m365` command, the nightly run's `after_sync`) whose staff to match.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as time_of_day
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event, select
from sqlalchemy import inspect as inspect_row
from sqlalchemy.orm import Session, sessionmaker

from bot import db
from bot.config import ConfigError, Settings
from bot.errors import UserError
from bot.services.m365.errors import SyncRejected, first_line
from bot.services.m365.graph import GRAPH_VERSION, Graph, GraphRoster, read_roster
from bot.services.m365.mapping import MappedRoster, map_roster
from bot.services.m365.sign_in import Credentials, TokenSource
from bot.services.roster import (
    ImportResult,
    StaffRecord,
    apply_classes,
    apply_pupils,
    apply_staff,
)
from bot.services.schools import find_school
from models import (
    Pupil,
    School,
    SenChangeSource,
    Staff,
    StaffRole,
    StaffRoleGrant,
    TeachingGroup,
    TeachingGroupPupil,
    TeachingGroupTeacher,
)

log = logging.getLogger(__name__)

STAFF_SYNCED = ("email", "first_name", "last_name", "roles")
PUPILS_SYNCED = ("first_name", "last_name", "date_of_birth", "year_group")
CLASSES_SYNCED = ("subject", "year_group")

RESULT_LENGTH = 500  # School.roster_sync_result


@dataclass
class SyncResult:
    """What a sync did (or, in a dry run, would do).

    After a sync that wrote (not a dry run), the caller matches the staff of `school_id` who
    have no Slack account yet, and may say how that went in `slack`, the result's last line.
    """

    school_id: int
    school_name: str
    dry_run: bool
    full: bool
    requests: int
    staff: ImportResult
    pupils: ImportResult
    classes: ImportResult
    notes: list[str] = field(default_factory=list)
    sample: list[str] = field(default_factory=list)
    more: int = 0  # changed rows beyond the sample
    slack: str | None = None
    why_full: str | None = None

    @property
    def changes(self) -> int:
        return sum(
            r.created + r.updated + r.reactivated + r.left
            for r in (self.staff, self.pupils, self.classes)
        )

    def lines(self) -> list[str]:
        how = (
            "read everything" if self.full else "read only the changes since the last sync"
        ) + f", {self.requests} Graph request{'s' if self.requests != 1 else ''}"
        if self.dry_run:
            head = (
                f"Dry run: nothing was written. Syncing {self.school_name} from Microsoft 365 "
                f"({how}) would change:"
            )
        else:
            head = f"Synced {self.school_name} from Microsoft 365 ({how}):"
        lines = [head]
        if self.why_full:
            lines.append(f"  ({self.why_full}, so everything was read again.)")
        for label, result, gone in (
            ("staff", self.staff, "marked as left"),
            ("pupils", self.pupils, "marked as left"),
            ("classes", self.classes, "marked inactive"),
        ):
            parts = [
                f"{result.created} added",
                f"{result.updated} updated",
                f"{result.unchanged} unchanged",
            ]
            if result.reactivated:
                parts.append(f"{result.reactivated} back")
            parts.append(f"{result.left} {gone}")
            lines.append(f"  {label}: {result.total} in Microsoft 365; {', '.join(parts)}")
        if self.staff.plans_released:
            n = self.staff.plans_released
            lines.append(
                f"  {n} plan{'s' if n != 1 else ''} held by leavers "
                f"{'are' if n != 1 else 'is'} back on the priority list (`/ssp priority`)."
            )
        lines += [f"  {note}" for note in self.notes]
        if self.dry_run:
            if self.sample:
                lines.append("For example:")
                lines += [f"  - {line}" for line in self.sample]
                if self.more:
                    lines.append(f"  … and {self.more} more")
            else:
                lines.append("Nothing would change.")
        elif not self.changes:
            lines.append("Nothing changed.")
        if self.slack:
            lines.append(self.slack)
        return lines

    def status(self) -> str:
        """The line the SENDCo sees at the foot of `/ssp caseload`."""
        counts = (
            f"{self.staff.total} staff, {self.pupils.total} pupils, {self.classes.total} classes"
        )
        changed = (
            f"{self.changes} change{'s' if self.changes != 1 else ''}"
            if self.changes
            else "no changes"
        )
        return f"{counts}; {changed}"


def sync_m365(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    now: datetime,
    school_name: str | None = None,
    dry_run: bool = False,
    graph: Graph | None = None,
    sleep: Callable[[float], None] = time.sleep,
    sample_size: int = 10,
) -> SyncResult:
    """Syncs one school's roster from Microsoft 365, all or nothing.

    Reads Graph (only changes, when the last sync's delta links still work), maps and applies
    everything in one transaction, and saves Graph's state and the result on the school. A
    failure raises M365Error (or ConfigError) and changes nothing but the school's sync status
    (so the SENDCo sees it). A dry run writes nothing at all. Matching staff to Slack
    accounts is the caller's part (see SyncResult).
    """
    with sessions() as session:
        school = find_school(session, school_name or settings.m365_school)
        school_id, name, state = school.id, school.name, school.m365_sync_state
        today = school.local_date(now)
    try:
        credentials = Credentials.from_settings(settings)
        graph = graph or Graph(
            TokenSource(credentials, graph_url=settings.m365_graph_url),
            base_url=f"{settings.m365_graph_url}/{GRAPH_VERSION}",
            sleep=sleep,
        )
        roster = read_roster(graph, state, credentials.tenant_id)
        sample: list[str] = []
        with sessions() as session:
            school = session.get(School, school_id)
            try:
                staff, pupils, classes, mapped = apply_roster(
                    session,
                    school,
                    roster,
                    state,
                    today=today,
                    sample=sample if dry_run else None,
                )
                result = SyncResult(
                    school_id=school_id,
                    school_name=name,
                    dry_run=dry_run,
                    full=roster.full,
                    requests=roster.requests,
                    staff=staff,
                    pupils=pupils,
                    classes=classes,
                    notes=_notes(mapped),
                    sample=sorted(sample)[:sample_size],
                    more=max(0, len(sample) - sample_size),
                    why_full=roster.why_full,
                )
                if dry_run:
                    session.rollback()
                    return result
                school.m365_sync_state = roster.state(credentials.tenant_id)
                school.roster_sync_attempted_at = school.roster_synced_at = now
                school.roster_sync_ok = True
                school.roster_sync_result = result.status()[:RESULT_LENGTH]
                session.commit()
            except BaseException:
                session.rollback()
                raise
    except (ConfigError, UserError) as error:
        if not dry_run:
            reason = error.one_line if isinstance(error, SyncRejected) else str(error)
            _record_failure(sessions, school_id, now, reason)
        raise
    except Exception:
        if not dry_run:
            _record_failure(sessions, school_id, now, "an unexpected error (see the bot's log).")
        raise
    return result


def apply_roster(
    session: Session,
    school: School,
    roster: GraphRoster,
    previous: dict[str, Any] | None,
    *,
    today: date,
    sample: list[str] | None = None,
) -> tuple[ImportResult, ImportResult, ImportResult, MappedRoster]:
    """Maps Graph's roster and upserts it into the session through the CSV import's path.

    Raises SyncRejected before touching the session if any record cannot be mapped. When
    `sample` is a list, a description of each row that changes is appended to it.
    """
    mapped = map_roster(roster, today)
    if mapped.problems:
        raise SyncRejected(mapped.problems)
    staff_records = _with_roles(session, school, mapped, _teachers_before(previous))
    if sample is not None:
        event.listen(session, "before_flush", _describe_changes(sample))
    staff = apply_staff(session, school, staff_records, today, fields=STAFF_SYNCED)
    pupils = apply_pupils(
        session,
        school,
        mapped.pupils,
        today,
        fields=PUPILS_SYNCED,
        source=SenChangeSource.M365_SYNC,
    )
    session.flush()
    classes = apply_classes(session, school, mapped.classes, today, fields=CLASSES_SYNCED)
    session.flush()
    return staff, pupils, classes, mapped


# --- what the SENDCo sees, and the nightly run ----------------------------------------------------


@dataclass(frozen=True)
class SyncStatus:
    """The last sync, for the foot of `/ssp caseload`: times in the school's time zone."""

    attempted_at: datetime
    ok: bool
    result: str
    last_success: datetime | None


def sync_status(session: Session, school_id: int) -> SyncStatus | None:
    """The school's last roster sync, or None if it has never synced from Microsoft 365."""
    row = session.execute(
        select(
            School.timezone,
            School.roster_sync_attempted_at,
            School.roster_sync_ok,
            School.roster_sync_result,
            School.roster_synced_at,
        ).where(School.id == school_id)
    ).one_or_none()
    if row is None or row.roster_sync_attempted_at is None:
        return None
    zone = ZoneInfo(row.timezone)
    return SyncStatus(
        attempted_at=row.roster_sync_attempted_at.astimezone(zone),
        ok=bool(row.roster_sync_ok),
        result=row.roster_sync_result or "",
        last_success=row.roster_synced_at.astimezone(zone) if row.roster_synced_at else None,
    )


def sync_is_due(school: School, now: datetime, at: time_of_day) -> bool:
    """True once today's sync time has passed at the school and no sync has run since then."""
    zone = ZoneInfo(school.timezone)
    due = datetime.combine(now.astimezone(zone).date(), at, tzinfo=zone)
    last = school.roster_sync_attempted_at
    return now >= due and (last is None or last < due)


class NightlySync:
    """The scheduler's nightly hook: once a day at M365_SYNC_AT (school time), syncs the roster
    in a background thread, so prompts keep going out while Graph is read. `after_sync`, when
    given, is called with each sync's result and `now` before the result is logged (the
    server matches staff to Slack accounts there)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        *,
        after_sync: Callable[[SyncResult, datetime], None] | None = None,
        start: Callable[[Callable[[], None]], None] | None = None,
    ) -> None:
        if settings.m365_sync_at is None:
            raise ValueError("M365_SYNC_AT is not set")
        self.sessions = sessions
        self.settings = settings
        self.after_sync = after_sync
        self._start = start or _in_thread
        self._running = threading.Lock()
        self._warned = False

    def __call__(self, now: datetime) -> bool:
        """Starts a sync if one is due and none is running. True if it started one."""
        if not self._running.acquire(blocking=False):
            return False
        try:
            with self.sessions() as session:
                school = find_school(session, self.settings.m365_school)
                due = sync_is_due(school, now, self.settings.m365_sync_at)
        except UserError as error:
            self._running.release()
            if not self._warned:
                log.warning("nightly Microsoft 365 sync: %s", error)
                self._warned = True
            return False
        if not due:
            self._running.release()
            return False

        def run() -> None:
            try:
                result = sync_m365(self.sessions, self.settings, now=now)
                if self.after_sync is not None:
                    self.after_sync(result, now)
                for line in result.lines():
                    log.info(line)
            except (ConfigError, UserError) as error:
                log.warning("nightly Microsoft 365 sync failed: %s", first_line(str(error)))
            except Exception:  # noqa: BLE001 - logged; tomorrow's run tries again
                log.exception("nightly Microsoft 365 sync failed")
            finally:
                self._running.release()

        self._start(run)
        return True


# --- helpers -------------------------------------------------------------------------------------


def _notes(mapped: MappedRoster) -> list[str]:
    notes = []
    if mapped.left_out_users:
        notes.append(
            f"{mapped.left_out_users} account(s) that are neither staff nor students left out."
        )
    if mapped.disabled_users:
        notes.append(f"{mapped.disabled_users} disabled account(s) left out (as leavers).")
    if mapped.left_out_classes:
        notes.append(
            f"{mapped.left_out_classes} class(es) made by hand in Teams (not from the MIS) "
            "left out."
        )
    return notes


def _record_failure(
    sessions: sessionmaker[Session], school_id: int, now: datetime, reason: str
) -> None:
    """Notes the failed attempt on the school; the roster and Graph's state stay as they were."""
    try:
        with db.unit_of_work(sessions) as session:
            school = session.get(School, school_id)
            school.roster_sync_attempted_at = now
            school.roster_sync_ok = False
            school.roster_sync_result = first_line(reason, RESULT_LENGTH)
    except Exception:  # noqa: BLE001 - the sync's own failure is the one to report
        log.exception("could not record the failed roster sync")


def _teachers_before(previous: dict[str, Any] | None) -> set[str]:
    users = (previous or {}).get("users") or {}
    return {
        str(user.get("mail") or "").strip().lower()
        for user in users.values()
        if str(user.get("primaryRole") or "").lower() == "teacher" and user.get("mail")
    }


def _with_roles(
    session: Session, school: School, mapped: MappedRoster, teachers_before: set[str]
) -> list[StaffRecord]:
    """Each record with the member's roles: those granted in SSP Bot kept, the teacher role
    added for Graph's teachers, and taken away only from someone Graph called a teacher last
    time and not now."""
    have: dict[str, set[StaffRole]] = {}
    for email, role in session.execute(
        select(Staff.email, StaffRoleGrant.role)
        .join(StaffRoleGrant, StaffRoleGrant.staff_id == Staff.id)
        .where(Staff.school_id == school.id)
    ):
        have.setdefault(email.lower(), set()).add(role)
    records = []
    for record in mapped.staff:
        roles = set(have.get(record.email, set()))
        if record.email in mapped.teachers:
            roles.add(StaffRole.TEACHER)
        elif record.email in teachers_before:
            roles.discard(StaffRole.TEACHER)
        records.append(
            StaffRecord(
                email=record.email,
                first_name=record.first_name,
                last_name=record.last_name,
                roles=frozenset(roles),
            )
        )
    return records


def _describe_changes(sample: list[str]) -> Callable[..., None]:
    """A before_flush listener that says, for a dry run, which rows are about to change:
    staff by email, pupils by UPN (never by name), classes by code."""

    def describe(session: Session, _context, _instances) -> None:
        for row in session.new:
            _note(sample, _describe(row, "new"))
        for row in session.dirty:
            if session.is_modified(row):
                _note(sample, _describe(row, "changed"))
        for row in session.deleted:
            _note(sample, _describe(row, "removed"))

    return describe


def _describe(row: object, how: str) -> str | None:
    changed = (
        sorted(
            attr.key
            for attr in inspect_row(row).attrs
            if attr.history.has_changes() and attr.key not in ("updated_at", "role_grants")
        )
        if how == "changed"
        else []
    )
    if isinstance(row, Staff):
        who = f"member of staff {row.email}"
    elif isinstance(row, Pupil):
        who = f"pupil {row.upn}"
    elif isinstance(row, TeachingGroup):
        who = f"class {row.code}"
    elif isinstance(row, StaffRoleGrant):
        staff = row.staff
        return f"roles of {staff.email}" if staff is not None else None
    elif isinstance(row, TeachingGroupTeacher | TeachingGroupPupil):
        group = row.group
        kind = "teachers" if isinstance(row, TeachingGroupTeacher) else "pupils"
        return f"class {group.code}: {kind}" if group is not None else None
    else:
        return None
    if how == "new":
        return f"add {who}"
    if "is_active" in changed:
        active = row.is_active
        gone = "mark as inactive" if isinstance(row, TeachingGroup) else "mark as left"
        return f"{'bring back' if active else gone}: {who}"
    fields = [name for name in changed if name not in ("is_active", "left_on")]
    return f"update {who} ({', '.join(fields)})" if fields else None


def _note(sample: list[str], line: str | None) -> None:
    if line and line not in sample:
        sample.append(line)


def _in_thread(run: Callable[[], None]) -> None:
    threading.Thread(target=run, name="m365-sync", daemon=True).start()
