"""Subject access: everything held about one pupil, or one member of staff, as one archive.

UK GDPR gives a school one calendar month to answer a subject access request. `sspbot sar`
writes a zip with a readable index (index.html), the same data machine-readable (data.json),
any stored files, and the list of passages naming other people, for the DPO to review before
anything is released (third parties' data is not the requester's to have).

A pupil's rows are found by following the schema from the pupil (bot.services.records), so a
table added later is included without being listed here; the audit log gives who looked at the
record and when. A member of staff's rows are those that refer to them directly, and the audit
log of what they did. What the Microsoft 365 sync keeps about a pupil in the school's saved
state (School.m365_sync_state, a JSON value, not rows) is added under its own heading.
"""

from __future__ import annotations

import enum
import json
import os
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from cryptography.fernet import InvalidToken
from sqlalchemy import Enum, LargeBinary, String, Text, select
from sqlalchemy.orm import Session

from bot.errors import UserError
from bot.render import render_html
from bot.services import attachments, audit, records
from bot.services.m365 import graph
from models import AuditEvent, Base, Pupil, School, Staff

Readers = dict[str, Callable[[dict[str, Any]], tuple[str, bytes]]]
EXCERPT = 160


@dataclass(frozen=True)
class Passage:
    """A stored text that names someone other than the subject."""

    table: str
    row: str
    column: str
    names: tuple[str, ...]
    kind: str  # "another pupil" or "a member of staff"
    excerpt: str


@dataclass
class SarResult:
    path: Path
    subject: str
    rows: dict[str, int] = field(default_factory=dict)
    access_events: int = 0
    files: int = 0
    to_review: list[Passage] = field(default_factory=list)
    unreadable: int = 0

    def lines(self) -> list[str]:
        total = sum(self.rows.values())
        return [
            f"Wrote {self.path}: everything held about {self.subject}.",
            f"{total} rows from {len(self.rows)} tables, {self.access_events} entries in the "
            f"log of who looked, {self.files} stored files.",
            (
                f"{len(self.to_review)} passages name other people: review them (index.html, "
                "'For the DPO') before releasing anything."
                if self.to_review
                else "No passage names another pupil or a member of staff."
            ),
            "The archive holds special category data about a child: keep it as securely as "
            "the records themselves, and delete it once the request is answered.",
        ] + (
            [
                f"{self.unreadable} attached file(s) could not be decrypted, so they are listed "
                "but not included: set ATTACHMENT_KEY (the key they were stored with) and run "
                "it again."
            ]
            if self.unreadable
            else []
        )


def pupil_archive(
    session: Session,
    school: School,
    upn: str,
    out: Path,
    *,
    now: datetime,
    attachment_key: str | None = None,
) -> SarResult:
    """The archive of everything held about the pupil with this UPN at the school."""
    pupil = session.scalar(
        select(Pupil).where(Pupil.school_id == school.id, Pupil.upn == upn.strip().upper())
    )
    if pupil is None:
        raise UserError(f"No pupil with UPN {upn.strip()} at {school.name}.")
    _check_out(out)
    owned = records.rows_about_pupil(session, pupil.id)
    tables = _load(session, owned)
    access = records.audit_rows(session, pupil.id, owned.get("plans", set()))
    others = _people(session, school, exclude_pupil=pupil.id)
    subject = f"{pupil.known_as} (UPN {pupil.upn})"
    result = _write(
        session,
        out,
        title=f"Subject access: {subject}",
        subject={"kind": "pupil", "upn": pupil.upn, "name": pupil.known_as},
        tables=tables,
        access=access,
        others=others,
        school=school,
        now=now,
        readers=_readers(attachment_key),
        sync_state=_sync_state(school, pupil.upn),
    )
    audit.record(
        session,
        school_id=school.id,
        actor="cli",
        action="export",
        via="sspbot sar",
        now=now,
        pupil=pupil,
        detail="subject access archive written",
    )
    result.subject = subject
    return result


def staff_archive(
    session: Session,
    school: School,
    email: str,
    out: Path,
    *,
    now: datetime,
    attachment_key: str | None = None,
) -> SarResult:
    """The archive of everything held about the member of staff with this email."""
    member = session.scalar(
        select(Staff).where(Staff.school_id == school.id, Staff.email == email.strip().lower())
    )
    if member is None:
        raise UserError(f"No member of staff with email {email.strip()} at {school.name}.")
    _check_out(out)
    owned = {
        Staff.__tablename__: {member.id},
        **records.rows_referring_to(session, Staff.__tablename__, {member.id}),
    }
    tables = _load(session, owned)
    access = list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.actor_staff_id == member.id)
            .order_by(AuditEvent.occurred_at, AuditEvent.id)
        )
    )
    others = _people(session, school, exclude_staff=member.id)
    subject = f"{member.first_name} {member.last_name} ({member.email})"
    result = _write(
        session,
        out,
        title=f"Subject access: {subject}",
        subject={"kind": "staff", "email": member.email, "name": subject},
        tables=tables,
        access=access,
        others=others,
        school=school,
        now=now,
        access_heading="What they did with pupils' records (the audit log)",
        readers=_readers(attachment_key),
    )
    result.subject = subject
    return result


# --- reading ------------------------------------------------------------------------------


def _load(session: Session, owned: dict[str, set]) -> dict[str, list[dict[str, Any]]]:
    tables: dict[str, list[dict[str, Any]]] = {}
    for table in Base.metadata.sorted_tables:
        ids = owned.get(table.name)
        if not ids:
            continue
        key = records.key_of(table)
        rows = []
        for chunk in records.chunks(ids):
            rows += [
                dict(row._mapping) for row in session.execute(select(table).where(key.in_(chunk)))
            ]
        order = [c.name for c in table.primary_key.columns]
        tables[table.name] = sorted(rows, key=lambda r: tuple(r[c] for c in order))
    return tables


def _people(
    session: Session, school: School, *, exclude_pupil: int | None = None, exclude_staff=None
) -> list[tuple[re.Pattern, str, str]]:
    """Other people of the school, as (pattern, name, kind): every pupil's and member of
    staff's full name (and a pupil's preferred name with their surname)."""
    people = []
    for pupil_id, first, preferred, last in session.execute(
        select(Pupil.id, Pupil.first_name, Pupil.preferred_name, Pupil.last_name).where(
            Pupil.school_id == school.id
        )
    ):
        if pupil_id == exclude_pupil:
            continue
        for given in {first, preferred} - {None}:
            people.append((_pattern(f"{given} {last}"), f"{given} {last}", "another pupil"))
    for staff_id, first, last in session.execute(
        select(Staff.id, Staff.first_name, Staff.last_name).where(Staff.school_id == school.id)
    ):
        if staff_id != exclude_staff:
            people.append((_pattern(f"{first} {last}"), f"{first} {last}", "a member of staff"))
    return people


def _pattern(name: str) -> re.Pattern:
    return re.compile(r"\b" + r"\s+".join(map(re.escape, name.split())) + r"\b", re.IGNORECASE)


def _passages(
    tables: dict[str, list[dict[str, Any]]], people: list[tuple[re.Pattern, str, str]]
) -> list[Passage]:
    metadata = Base.metadata.tables
    found = []
    for name, rows in tables.items():
        texts = [
            c.name
            for c in metadata[name].columns
            if isinstance(c.type, (String, Text)) and not isinstance(c.type, Enum)
        ]
        key = [c.name for c in metadata[name].primary_key.columns]
        for row in rows:
            for column in texts:
                value = row.get(column)
                if not value or " " not in value:
                    continue
                for kind in ("another pupil", "a member of staff"):
                    names = tuple(
                        sorted(
                            {
                                who
                                for pattern, who, k in people
                                if k == kind and pattern.search(value)
                            }
                        )
                    )
                    if names:
                        found.append(
                            Passage(
                                name,
                                "/".join(str(row[k]) for k in key),
                                column,
                                names,
                                kind,
                                _excerpt(value),
                            )
                        )
    return found


# --- writing ------------------------------------------------------------------------------


def _check_out(out: Path) -> None:
    if out.exists():
        raise UserError(f"{out} already exists: choose a new file name (nothing was written).")
    if not out.parent.exists():
        raise UserError(f"There is no folder {out.parent} to write {out.name} into.")


def _write(
    session: Session,
    out: Path,
    *,
    title: str,
    subject: dict[str, str],
    tables: dict[str, list[dict[str, Any]]],
    access: list[AuditEvent],
    others,
    school: School,
    now: datetime,
    access_heading: str = "Who looked at the record, and when (the audit log)",
    readers: Readers,
    sync_state: list[dict[str, Any]] | None = None,
) -> SarResult:
    binary = {
        name: [
            c.name for c in Base.metadata.tables[name].columns if isinstance(c.type, LargeBinary)
        ]
        for name in tables
    }
    files: list[tuple[str, bytes]] = []
    unreadable = 0
    for name, rows in tables.items():
        for row in rows:
            if name in readers:
                try:
                    file_name, content = readers[name](row)
                except (UserError, InvalidToken):
                    unreadable += 1
                    for column in binary[name]:
                        row[column] = {"file": None, "not_included": "could not be decrypted"}
                    continue
                path = f"files/{name}-{row.get('id')}-{_safe(file_name)}"
                files.append((path, content))
                for column in binary[name]:
                    row[column] = {"file": path}
                continue
            for column in binary[name]:
                if row.get(column) is not None:
                    path = f"files/{name}-{row.get('id')}-{column}.bin"
                    files.append((path, bytes(row[column])))
                    row[column] = {"file": path}
    actors = {event.actor_staff_id for event in access if event.actor_staff_id}
    staff_names = {
        staff_id: f"{first} {last}"
        for staff_id, first, last in session.execute(
            select(Staff.id, Staff.first_name, Staff.last_name).where(Staff.id.in_(actors))
        )
    }
    log = [
        {
            "when": event.occurred_at,
            "who": staff_names.get(event.actor_staff_id, event.actor),
            "action": event.action,
            "via": event.via,
            "detail": event.detail,
        }
        for event in access
    ]
    passages = _passages(tables, others)
    data = {
        "subject": subject,
        "school": school.name,
        "generated_at": now,
        "tables": tables,
        "access_log": log,
        "for_review": [passage.__dict__ for passage in passages],
    }
    if sync_state:
        data["microsoft_365_sync_state"] = sync_state
    index = render_html(
        "sar_index.html.j2",
        title=title,
        school=school.name,
        generated=now,
        subject=subject,
        tables=[(_title(name), rows) for name, rows in tables.items()],
        log=log,
        access_heading=access_heading,
        passages=passages,
        files=[path for path, _ in files],
        sync_state=sync_state or [],
        show=_show,
    )
    # Written to a temporary name and renamed: a half-written archive is never left as FILE.
    partial = out.with_name(out.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with (
            os.fdopen(descriptor, "wb") as raw,
            zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive,
        ):
            archive.writestr("index.html", index)
            archive.writestr(
                "data.json", json.dumps(data, default=_json, indent=2, ensure_ascii=False)
            )
            for path, content in files:
                archive.writestr(path, content)
        partial.rename(out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return SarResult(
        out,
        subject["name"],
        rows={name: len(rows) for name, rows in tables.items()},
        access_events=len(log),
        files=len(files),
        to_review=passages,
        unreadable=unreadable,
    )


def _sync_state(school: School, upn: str) -> list[dict[str, Any]]:
    """What the school's saved Microsoft 365 sync state keeps about the pupil (it is a JSON
    value on the school, not rows about the pupil): each Graph user that is them, with the
    fields kept and the classes they are a member of."""
    state = school.m365_sync_state
    classes = (state or {}).get("classes") or {}
    return [
        {
            "graph_user_id": user_id,
            **kept,
            "classes": sorted(
                str(c.get("classCode") or c.get("displayName") or class_id)
                for class_id, c in classes.items()
                if isinstance(c, dict) and user_id in (c.get("members") or [])
            ),
        }
        for user_id, kept in graph.pupil_users(state, upn).items()
    ]


def _readers(key: str | None) -> Readers:
    """Attached files are stored encrypted: the archive holds them as they were attached."""
    return {
        "attachments": lambda row: (row["filename"], attachments.decrypt(key, row["ciphertext"]))
    }


def _json(value: Any) -> Any:
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return None
    raise TypeError(type(value).__name__)


def _show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict) and "file" in value:
        if value["file"] is None:
            return "(a stored file that could not be decrypted: not included)"
        return f"(stored file: {value['file']})"
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=_json, ensure_ascii=False)
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return f"{value:%-d %B %Y %H:%M} UTC"
    if isinstance(value, date):
        return f"{value:%-d %B %Y}"
    return str(value)


def _title(table: str) -> str:
    return table.replace("_", " ").capitalize()


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:80] or "file"
