"""Mapping Graph's education users and classes to roster records (`StaffRecord`,
`PupilRecord`, `ClassRecord`), the same records a CSV import builds.

How Graph's fields become SSP Bot's (see also the README):

- `primaryRole` "teacher": a member of staff with the teacher role; "faculty": a member of staff
  with no role added. Staff are keyed by `mail` (lower case); `givenName` and `surname` are
  their names. Roles granted in SSP Bot (SENDCo, case holder, …) are never taken away; the
  teacher role is taken away only from someone Graph called a teacher last time and not now.
- `primaryRole` "student": a pupil, keyed by UPN: the first of `student.externalId` and
  `student.studentNumber` that is a valid UPN (13 characters with the right check letter).
  `student.birthDate` is the date of birth, `student.grade` the year group ("9", "Year 9",
  "Y9", "R"). The MIS's other fields (SEN stage, needs, form, house, …) are not in Graph and
  are left as a CSV import set them.
- Any other role, and accounts that are disabled (`accountEnabled` false), are left out: staff
  and pupils who are left out, or gone from Graph, are marked as left.
- A class is keyed by `classCode` (or its `displayName` when it has no code); its subject is
  `course.subject`, its year group `grade` (left empty when that is not a year group). Its
  teachers come from `/teachers`, its pupils from `/members`. Classes made by hand in Teams
  (`externalSource` "manual") are not the timetable and are left out.

A record that cannot be mapped is named by its Graph id (and a member of staff by their mail),
never by a pupil's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.services.csv_import import BadValue
from bot.services.m365.graph import GraphRoster, made_by_hand
from bot.services.roster import (
    EMAIL,
    ClassRecord,
    PupilRecord,
    StaffRecord,
    is_valid_upn,
    parse_year_group,
)


@dataclass
class MappedRoster:
    staff: list[StaffRecord] = field(default_factory=list)
    pupils: list[PupilRecord] = field(default_factory=list)
    classes: list[ClassRecord] = field(default_factory=list)
    teachers: set[str] = field(default_factory=set)  # emails of staff Graph calls teachers
    left_out_users: int = 0
    disabled_users: int = 0
    left_out_classes: int = 0
    problems: list[str] = field(default_factory=list)


def map_roster(roster: GraphRoster, today: date) -> MappedRoster:
    """Graph's users and classes as roster records; `problems` names each one that cannot be
    mapped (by Graph id, and for staff their mail: never a pupil's name)."""
    mapped = MappedRoster()
    staff_of: dict[str, str] = {}  # Graph user id -> email
    pupil_of: dict[str, str] = {}  # Graph user id -> UPN
    first_email: dict[str, str] = {}
    first_upn: dict[str, str] = {}
    for user_id in sorted(roster.users):
        user = roster.users[user_id]
        role = str(user.get("primaryRole") or "").lower()
        if role not in ("teacher", "faculty", "student"):
            mapped.left_out_users += 1
            continue
        if user.get("accountEnabled") is False:
            mapped.disabled_users += 1
            continue
        problems: list[str] = []
        if role == "student":
            record = _pupil(user, today, problems)
            if record is not None and record.upn in first_upn:
                problems.append(
                    f"has the same UPN {record.upn} as education user {first_upn[record.upn]}"
                )
        else:
            record = _staff(user, problems)
            if record is not None and record.email in first_email:
                problems.append(
                    f"has the same mail {record.email} as education user "
                    f"{first_email[record.email]}"
                )
        if problems:
            mapped.problems += [f"education user {user_id} ({role}) {p}" for p in problems]
            continue
        if isinstance(record, PupilRecord):
            mapped.pupils.append(record)
            pupil_of[user_id] = record.upn
            first_upn[record.upn] = user_id
        elif isinstance(record, StaffRecord):
            mapped.staff.append(record)
            staff_of[user_id] = record.email
            first_email[record.email] = user_id
            if role == "teacher":
                mapped.teachers.add(record.email)

    first_code: dict[str, str] = {}
    for class_id in sorted(roster.classes):
        group = roster.classes[class_id]
        if made_by_hand(group):
            mapped.left_out_classes += 1
            continue
        code = str(group.get("classCode") or group.get("displayName") or "").strip()
        subject = str(group.get("subject") or "").strip() or None
        problem = None
        if not code:
            problem = "has neither a classCode nor a displayName"
        elif len(code) > 50:
            problem = f"has a classCode longer than 50 characters ({code[:50]!r}…)"
        elif code in first_code:
            problem = f"has the same classCode {code!r} as education class {first_code[code]}"
        elif subject and len(subject) > 100:
            problem = "has a course subject longer than 100 characters"
        if problem:
            mapped.problems.append(f"education class {class_id} {problem}")
            continue
        first_code[code] = class_id
        mapped.classes.append(
            ClassRecord(
                class_code=code,
                teacher_emails=frozenset(
                    staff_of[t] for t in group.get("teachers", []) if t in staff_of
                ),
                upns=frozenset(pupil_of[m] for m in group.get("members", []) if m in pupil_of),
                subject=subject,
                year_group=_class_year(group.get("grade")),
            )
        )
    return mapped


def _staff(user: dict[str, Any], problems: list[str]) -> StaffRecord | None:
    mail = str(user.get("mail") or "").strip()
    if not mail:
        problems.append("has no mail address (staff are matched to Slack by email)")
    elif not EMAIL.fullmatch(mail) or len(mail) > 254:
        problems.append(f"has a mail {mail!r} that is not an email address")
    first = _name(user, "givenName", problems)
    last = _name(user, "surname", problems)
    if problems:
        return None
    return StaffRecord(email=mail.lower(), first_name=first, last_name=last)


def _pupil(user: dict[str, Any], today: date, problems: list[str]) -> PupilRecord | None:
    student = user.get("student") or {}
    candidates = [
        str(student.get(name) or "").strip().upper() for name in ("externalId", "studentNumber")
    ]
    upn = next((c for c in candidates if is_valid_upn(c)), None)
    if upn is None:
        shown = " and ".join(
            f"student.{name} {student.get(name)!r}" for name in ("externalId", "studentNumber")
        )
        problems.append(f"has no UPN: {shown} are not UPNs")
    born = _birth_date(student.get("birthDate"), today, problems)
    try:
        year = parse_year_group(str(student.get("grade") or "").strip())
    except BadValue as bad:
        year = None
        problems.append(f"student.grade {bad}")
    first = _name(user, "givenName", problems)
    last = _name(user, "surname", problems)
    if problems or upn is None or born is None or year is None:
        return None
    return PupilRecord(
        upn=upn, first_name=first, last_name=last, date_of_birth=born, year_group=year
    )


def _name(user: dict[str, Any], key: str, problems: list[str]) -> str:
    value = " ".join(str(user.get(key) or "").split())
    if not value:
        problems.append(f"has no {key}")
    elif len(value) > 100:
        problems.append(f"has a {key} longer than 100 characters")
    return value


def _birth_date(value: Any, today: date, problems: list[str]) -> date | None:
    # Documented as a Date ("2012-05-14"); some tenants return a DateTimeOffset.
    text = str(value or "").strip()
    try:
        born = date.fromisoformat(text[:10]) if text else None
    except ValueError:
        born = None
    if born is None:
        problems.append(
            "has no student.birthDate" if not text else "has a student.birthDate that is not a date"
        )
    elif born > today:
        problems.append("has a student.birthDate in the future")
        return None
    return born


def _class_year(value: Any) -> int | None:
    try:
        return parse_year_group(str(value or "").strip()) if value else None
    except BadValue:
        return None
