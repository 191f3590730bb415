"""The school's provision library: what it offers, kept by the SENDCo (issue 19).

Each entry is an intervention or ordinarily available provision with its area of need, tier,
usual group size, frequency and duration, staff role, costs (in pence, so sums are exact) and a
description a family can read. Entries are retired, never deleted: plans that used one keep its
name. Everyone who may see pupils reads the library (it is the school's offer); only the SENDCo
changes it, checked here from the Viewer of the verified request. Changes are audited with no
pupil.

Also here: the impact measures' units, a reading age typed as "8y 6m" or "8:6" and kept in
months, shown back the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.access import Viewer
from bot.errors import UserError
from bot.services import audit
from bot.services.csv_import import (
    BadValue,
    Column,
    RowCheck,
    optional_text,
    read_csv,
    reject_if_any,
    required_text,
    squash,
)
from models import BroadArea, LibraryProvision, MeasureKind, ProvisionTier, School

VIA = "/ssp provision library"
VIA_IMPORT = "sspbot import provision"
NAME_LENGTH = 200
ROLE_LENGTH = 200
DESCRIPTION_LENGTH = 2000
MAX_COUNT = 1000  # a group size, sessions a week, minutes or weeks beyond this is a typo
MAX_PENCE = 10_000_000  # £100,000
ONLY_SENDCO = (
    "Only the SENDCo changes the school's provision library; `/ssp provision library` shows it."
)
GONE = "That entry isn't in your school's provision library any more."

# The form's and the CSV's fields, in order: what LibraryProvision holds.
FIELDS = (
    "name",
    "area_of_need",
    "tier",
    "group_size",
    "sessions_per_week",
    "session_minutes",
    "weeks",
    "staff_role",
    "cost_per_session",
    "cost_per_pupil",
    "description",
)
COUNTS = ("group_size", "sessions_per_week", "session_minutes", "weeks")
MONEY = ("cost_per_session", "cost_per_pupil")


def may_change(viewer: Viewer) -> bool:
    return viewer.is_sendco


def may_read(viewer: Viewer) -> bool:
    return viewer.sees_anything


# --- parsing ---------------------------------------------------------------------------------

MONEY_PATTERN = re.compile(r"£?\s*([0-9]{1,6})(?:\.([0-9]{1,2}))?")


def parse_money(text: str | None) -> int | None:
    """Pounds as typed ("15", "15.00", "£7.5") in pence; None when empty. BadValue otherwise."""
    text = (text or "").strip().replace(",", "")
    if not text:
        return None
    match = MONEY_PATTERN.fullmatch(text)
    if match is None:
        raise BadValue("is not an amount in pounds, like 15.00")
    pence = int(match[1]) * 100 + int((match[2] or "0").ljust(2, "0"))
    if pence > MAX_PENCE:
        raise BadValue("is more than £100,000")
    return pence


def parse_count(text: str | None) -> int | None:
    """A whole number above nought, or None when empty. BadValue otherwise."""
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) <= 0:
        raise BadValue("must be a whole number above 0")
    if int(text) > MAX_COUNT:
        raise BadValue(f"must be at most {MAX_COUNT}")
    return int(text)


def parse_area(text: str | None) -> BroadArea:
    """One of the four broad areas, by code ("semh") or label ("Social, emotional and mental
    health"), in any letter case; a few everyday short forms too."""
    wanted = squash(text or "")
    for area in BroadArea:
        if wanted in (squash(area.value), squash(area.label), squash(area.name)):
            return area
    short = {
        "cl": BroadArea.COGNITION_AND_LEARNING,
        "ci": BroadArea.COMMUNICATION_AND_INTERACTION,
        "sp": BroadArea.SENSORY_AND_PHYSICAL,
        "sensoryandorphysical": BroadArea.SENSORY_AND_PHYSICAL,
    }
    if wanted in short:
        return short[wanted]
    raise BadValue(
        "is not one of the four areas of need: "
        + ", ".join(f"{a.label} ({a.value})" for a in BroadArea)
    )


def parse_tier(text: str | None) -> ProvisionTier:
    wanted = squash(text or "")
    for tier in ProvisionTier:
        if wanted in (squash(tier.value), squash(tier.label)):
            return tier
    if wanted in ("universal", "oa", "ordinary"):
        return ProvisionTier.ORDINARILY_AVAILABLE
    raise BadValue("is not a tier: ordinarily available, targeted or specialist")


def pounds(pence: int | None) -> str:
    """Pence as pounds for a form or a CSV: 1500 -> "15.00"."""
    return "" if pence is None else f"{pence // 100}.{pence % 100:02d}"


def money(pence: int | None) -> str | None:
    """Pence as people read it: "£15.00"."""
    return None if pence is None else f"£{pence // 100:,}.{pence % 100:02d}"


# --- what one entry says ----------------------------------------------------------------------


def frequency(item: LibraryProvision) -> str | None:
    """ "3 × 20 minutes a week for 10 weeks", as much of it as is known."""
    parts = []
    if item.sessions_per_week and item.session_minutes:
        parts.append(f"{item.sessions_per_week} × {item.session_minutes} minutes a week")
    elif item.sessions_per_week:
        parts.append(f"{item.sessions_per_week} a week")
    elif item.session_minutes:
        parts.append(f"{item.session_minutes}-minute sessions")
    if item.weeks:
        parts.append(f"for {item.weeks} week{'s' if item.weeks != 1 else ''}")
    return " ".join(parts) or None


def group(item: LibraryProvision) -> str | None:
    if not item.group_size:
        return None
    return "one to one" if item.group_size == 1 else f"groups of up to {item.group_size}"


def costs(item: LibraryProvision) -> str | None:
    parts = []
    if item.cost_per_session_pence is not None:
        parts.append(f"{money(item.cost_per_session_pence)} a session")
    if item.cost_per_pupil_pence is not None:
        parts.append(f"{money(item.cost_per_pupil_pence)} a pupil")
    return ", ".join(parts) or None


# --- reading ----------------------------------------------------------------------------------


def entries(session: Session, school_id: int) -> list[LibraryProvision]:
    """Every entry of the school's library, active first, then by area and name (one query)."""
    return list(
        session.scalars(
            select(LibraryProvision)
            .where(LibraryProvision.school_id == school_id)
            .order_by(
                LibraryProvision.is_active.desc(),
                LibraryProvision.area_of_need,
                func.lower(LibraryProvision.name),
                LibraryProvision.id,
            )
        )
    )


def active_choices(session: Session, school_id: int) -> list[tuple[int, str]]:
    """(id, name) of the school's active entries, by name: what a plan's provision picks from."""
    return list(
        session.execute(
            select(LibraryProvision.id, LibraryProvision.name)
            .where(LibraryProvision.school_id == school_id, LibraryProvision.is_active.is_(True))
            .order_by(func.lower(LibraryProvision.name), LibraryProvision.id)
        ).tuples()
    )


def entry(session: Session, school_id: int, item_id: int) -> LibraryProvision | None:
    """The school's entry `item_id`; None for another school's or none (they read the same)."""
    return session.scalar(
        select(LibraryProvision).where(
            LibraryProvision.id == item_id, LibraryProvision.school_id == school_id
        )
    )


def form_values(item: LibraryProvision | None) -> dict[str, str | None]:
    """What the form starts with: the entry's values as typed, or nothing for a new one."""
    if item is None:
        return dict.fromkeys(FIELDS)
    return {
        "name": item.name,
        "area_of_need": item.area_of_need.value,
        "tier": item.tier.value,
        "group_size": _text(item.group_size),
        "sessions_per_week": _text(item.sessions_per_week),
        "session_minutes": _text(item.session_minutes),
        "weeks": _text(item.weeks),
        "staff_role": item.staff_role,
        "cost_per_session": pounds(item.cost_per_session_pence) or None,
        "cost_per_pupil": pounds(item.cost_per_pupil_pence) or None,
        "description": item.description,
    }


def _text(number: int | None) -> str | None:
    return None if number is None else str(number)


# --- changing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    """A form's values, parsed (`values`, by LibraryProvision column), or what is wrong with
    them by field (`problems`)."""

    values: dict[str, Any]
    problems: dict[str, str]


LABELS = {
    "name": "Name",
    "area_of_need": "Area of need",
    "tier": "Tier",
    "group_size": "Group size",
    "sessions_per_week": "Sessions a week",
    "session_minutes": "Minutes a session",
    "weeks": "Weeks",
    "staff_role": "Staff role",
    "cost_per_session": "Cost a session",
    "cost_per_pupil": "Cost a pupil",
    "description": "Description",
}


def check(
    session: Session, school_id: int, typed: dict[str, str | None], item_id: int | None
) -> Checked:
    """The form's typed values checked: a name unique in the school, positive whole numbers,
    money in pounds. Problems are sentences for beside the field."""
    problems: dict[str, str] = {}
    values: dict[str, Any] = {}
    name = " ".join((typed.get("name") or "").split())
    if not name:
        problems["name"] = "Give it a name, e.g. “Lexia reading programme”."
    elif len(name) > NAME_LENGTH:
        problems["name"] = f"Please keep the name to {NAME_LENGTH} characters."
    elif _name_taken(session, school_id, name, item_id):
        problems["name"] = (
            "Your library already has an entry with this name (perhaps retired): "
            "edit that one, or choose another name."
        )
    values["name"] = name
    for field, parse in (("area_of_need", parse_area), ("tier", parse_tier)):
        if not typed.get(field):
            problems[field] = f"Choose the {LABELS[field].lower()}."
            continue
        try:
            values[field] = parse(typed[field])
        except BadValue:
            problems[field] = "Please choose again: that choice is no longer there."
    for field in COUNTS:
        try:
            values[field] = parse_count(typed.get(field))
        except BadValue as bad:
            problems[field] = f"{LABELS[field]} {bad}, or leave it empty."
    for field in MONEY:
        try:
            values[f"{field}_pence"] = parse_money(typed.get(field))
        except BadValue as bad:
            problems[field] = f"This {bad}, or leave it empty."
    role = (typed.get("staff_role") or "").strip()
    if len(role) > ROLE_LENGTH:
        problems["staff_role"] = f"Please keep this to {ROLE_LENGTH} characters."
    values["staff_role"] = role or None
    description = (typed.get("description") or "").strip()
    if len(description) > DESCRIPTION_LENGTH:
        problems["description"] = f"Please keep this to {DESCRIPTION_LENGTH:,} characters."
    values["description"] = description or None
    return Checked(values, problems)


def _name_taken(session: Session, school_id: int, name: str, item_id: int | None) -> bool:
    query = select(LibraryProvision.id).where(
        LibraryProvision.school_id == school_id,
        func.lower(LibraryProvision.name) == name.lower(),
    )
    if item_id is not None:
        query = query.where(LibraryProvision.id != item_id)
    return session.scalar(query.limit(1)) is not None


def save(
    session: Session,
    viewer: Viewer,
    item_id: int | None,
    values: dict[str, Any],
    *,
    now: datetime,
) -> LibraryProvision:
    """Adds an entry (`item_id` None) or changes one, from `check`'s values; audited."""
    if not may_change(viewer):
        raise UserError(ONLY_SENDCO)
    if item_id is None:
        item = LibraryProvision(school_id=viewer.school_id, is_active=True, created_at=now)
        session.add(item)
        action, verb = "create", "added"
    else:
        item = entry(session, viewer.school_id, item_id)
        if item is None:
            raise UserError(GONE)
        action, verb = "update", "changed"
    for name, value in values.items():
        setattr(item, name, value)
    item.updated_at = now
    session.flush()
    _audit(session, viewer, action, f"{verb} {item.name}", now)
    return item


def set_active(
    session: Session, viewer: Viewer, item_id: int, active: bool, *, now: datetime
) -> LibraryProvision:
    """Retires an entry (plans and groups keep its name) or brings it back; audited."""
    if not may_change(viewer):
        raise UserError(ONLY_SENDCO)
    item = entry(session, viewer.school_id, item_id)
    if item is None:
        raise UserError(GONE)
    if item.is_active != active:
        item.is_active = active
        item.updated_at = now
        _audit(
            session,
            viewer,
            "update",
            f"{'brought back' if active else 'retired'} {item.name}",
            now,
        )
    return item


def _audit(session: Session, viewer: Viewer, action: str, what: str, now: datetime) -> None:
    audit.record_by(
        session, viewer, action=action, via=VIA, now=now, detail=f"provision library: {what}"
    )


# --- the CSV import ---------------------------------------------------------------------------

COLUMNS: tuple[Column, ...] = (
    Column("name", required=True, aliases=("provision", "intervention")),
    Column("area_of_need", required=True, aliases=("area", "broad area", "area of need")),
    Column("tier", required=True),
    Column("group_size", aliases=("group",)),
    Column("sessions_per_week", aliases=("sessions", "per week")),
    Column("session_minutes", aliases=("minutes", "minutes per session")),
    Column(
        "weeks",
    ),
    Column("staff_role", aliases=("staff", "delivered by")),
    Column("cost_per_session", aliases=("cost session",)),
    Column("cost_per_pupil", aliases=("cost pupil",)),
    Column("description", aliases=("for families", "family description")),
    Column("active", aliases=("is_active",)),
)


def _active(value: str) -> bool:
    wanted = squash(value)
    if wanted in ("", "yes", "y", "true", "1", "active"):
        return True
    if wanted in ("no", "n", "false", "0", "retired", "inactive"):
        return False
    raise BadValue("is not yes or no")


def _count(value: str) -> int | None:
    return parse_count(value)


@dataclass(frozen=True)
class ProvisionImportResult:
    school_name: str
    added: int
    updated: int
    retired: int

    def summary(self) -> str:
        return (
            f"{self.school_name}: provision library imported, {self.added} added and "
            f"{self.updated} updated ({self.retired} marked retired in the file). Entries not "
            "in the file are left as they were."
        )


def import_provision_csv(
    session: Session, school: School, path: Path, *, today: date
) -> ProvisionImportResult:
    """Adds or updates the school's library from a CSV file, matching entries by name (in any
    letter case). All or nothing: a bad line rejects the whole file (ImportRejected, every line
    and reason) and the session is left unchanged. Entries not in the file are kept."""
    file = read_csv(path, COLUMNS)
    if file.records == 0:
        raise UserError(
            f"{file.name} has no provision, so nothing was imported: it needs a header row "
            "`name,area_of_need,tier,...` and a row for every entry."
        )
    problems = file.problems
    parsed: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for row in file.rows:
        row_check = RowCheck(row, problems)
        name = " ".join(row_check.get("name", required_text(NAME_LENGTH), "").split())
        values = {
            "name": name,
            "area_of_need": row_check.get("area_of_need", parse_area, None),
            "tier": row_check.get("tier", parse_tier, None),
            **{field: row_check.get(field, _count, None) for field in COUNTS},
            "staff_role": row_check.get("staff_role", optional_text(ROLE_LENGTH), None),
            "cost_per_session_pence": row_check.get("cost_per_session", parse_money, None),
            "cost_per_pupil_pence": row_check.get("cost_per_pupil", parse_money, None),
            "description": row_check.get("description", optional_text(DESCRIPTION_LENGTH), None),
            "is_active": row_check.get("active", _active, True),
        }
        if name and name.lower() in seen:
            row_check.problem(f"names {name!r} again (first on line {seen[name.lower()]})")
        elif name:
            seen[name.lower()] = row.line
        if row_check.ok:
            parsed.append(values)
    reject_if_any(file.name, problems)

    existing = {
        item.name.lower(): item
        for item in session.scalars(
            select(LibraryProvision).where(LibraryProvision.school_id == school.id)
        )
    }
    added = updated = 0
    for values in parsed:
        item = existing.get(values["name"].lower())
        if item is None:
            item = LibraryProvision(school_id=school.id)
            session.add(item)
            added += 1
        else:
            updated += 1
        for name, value in values.items():
            setattr(item, name, value)
    session.flush()
    return ProvisionImportResult(
        school.name, added, updated, sum(1 for v in parsed if not v["is_active"])
    )


# --- impact measures --------------------------------------------------------------------------

READING_AGE = re.compile(
    r"\s*([0-9]{1,2})\s*(?:(?:y(?:ears?|rs?)?|:|\.|\s)\s*(?:([0-9]{1,2})\s*(?:m(?:onths?)?)?)?)?\s*",
    re.IGNORECASE,
)


def parse_measure(kind: MeasureKind | None, text: str | None) -> float | None:
    """A measure as typed, in the unit `kind` stores: a reading age ("8y 6m", "8:6", "8") in
    months, anything else a number. None when empty; BadValue when it can't be read."""
    text = (text or "").strip()
    if not text:
        return None
    if kind is MeasureKind.READING_AGE:
        match = READING_AGE.fullmatch(text)
        if match is None or int(match[2] or 0) > 11:
            raise BadValue("Type a reading age as years and months, like 8y 6m or 8:6.")
        return float(int(match[1]) * 12 + int(match[2] or 0))
    try:
        value = float(text.rstrip("%").strip())
    except ValueError:
        raise BadValue("Type a number, like 85 or 92.5.") from None
    if value < 0 or value > 100_000:
        raise BadValue("Type a number from 0 upwards.")
    if kind is MeasureKind.ATTENDANCE and value > 100:
        raise BadValue("Attendance is a percentage: at most 100.")
    return value


def show_measure(kind: MeasureKind | None, value: float | None) -> str | None:
    """A stored measure as people type it: "8y 6m", "92%", "85"."""
    if value is None:
        return None
    if kind is MeasureKind.READING_AGE:
        months = int(round(value))
        return f"{months // 12}y {months % 12}m"
    number = f"{value:g}"
    return f"{number}%" if kind is MeasureKind.ATTENDANCE else number


def measure_summary(provision: Any) -> str | None:
    """A plan provision's impact measure in words: "YARC reading accuracy (reading age): 7y 2m
    on 3 Sep 2026 → 8y 6m on 2 Dec 2026"; None when it has none."""
    kind = provision.measure_kind
    entry_shown = show_measure(kind, provision.entry_value)
    exit_shown = show_measure(kind, provision.exit_value)
    if not (provision.measure_name or kind or entry_shown or exit_shown):
        return None
    name = provision.measure_name or (kind.label if kind else "Measure")
    if kind and provision.measure_name:
        name += f" ({kind.label.lower()})"

    def at(shown: str | None, on: date | None) -> str:
        if shown is None:
            return "not yet measured"
        return f"{shown} on {on:%-d %b %Y}" if on else shown

    return f"{name}: {at(entry_shown, provision.entry_on)} → {at(exit_shown, provision.exit_on)}"


def ended_summary(provision: Any) -> str:
    """When a plan provision ran and ended: "3 Sep 2026 to 20 Nov 2026"."""
    start = f"{provision.start_date:%-d %b %Y}" if provision.start_date else "start not recorded"
    return f"{start} to {provision.ended_on:%-d %b %Y}"
