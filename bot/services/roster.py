"""The roster: staff, pupils and classes, imported from the CSV exports a school MIS produces.

An import is all or nothing. A file is first read into plain records (`StaffRecord`,
`PupilRecord`, `ClassRecord`) and every row checked; one bad row rejects the whole file with
`ImportRejected`, naming every bad line, before anything touches the session. Only then do
`apply_staff`, `apply_pupils` and `apply_classes` upsert by natural key (staff by email, pupils
by UPN, classes by class code) and mark whoever is missing from the file as left. A directory
sync (Microsoft Graph) builds the same records and calls the same apply functions.

Nothing here is ever deleted: history (plans, reviews, audit) must keep pointing at the
people it was about. Pupil names, dates of birth and needs never appear in messages; a bad
value is echoed only in the problem about that very field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Literal, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.errors import UserError
from bot.services import closure, groups, review_forward, sen_history
from bot.services.csv_import import (
    BadValue,
    Column,
    Problem,
    Row,
    RowCheck,
    optional_text,
    parse_date,
    read_csv,
    reject_if_any,
    required_text,
    squash,
)
from bot.services.sen_history import SenState
from bot.services.team import release_plans_of_leavers
from models import (
    NeedCode,
    Pupil,
    School,
    SenChangeSource,
    SenStage,
    Staff,
    StaffRole,
    StaffScope,
    TeachingGroup,
    TeachingGroupPupil,
    TeachingGroupSupport,
    TeachingGroupTeacher,
)

RosterKind = Literal["staff", "pupils", "classes"]


STAFF_COLUMNS: tuple[Column, ...] = (
    Column("email", required=True, aliases=("email address", "work email", "school email")),
    Column("first_name", required=True, aliases=("forename", "legal forename", "given name")),
    Column("last_name", required=True, aliases=("surname", "legal surname", "family name")),
    Column("title"),
    Column("staff_code", aliases=("teacher code",)),
    Column("roles", aliases=("role",)),
    Column("department", aliases=("dept", "faculty")),
    Column("slack_user_id", aliases=("slack id", "slack user", "slack member id")),
    # What a form tutor, head of year or pastoral member of staff looks after (bot.access).
    Column(
        "form_groups",
        aliases=("form group", "forms", "tutor group", "tutor groups", "registration groups"),
    ),
    Column("year_groups", aliases=("year group", "years")),
    Column("houses", aliases=("house",)),
)

PUPIL_COLUMNS: tuple[Column, ...] = (
    Column("upn", required=True, aliases=("unique pupil number",)),
    Column("first_name", required=True, aliases=("forename", "legal forename")),
    Column("last_name", required=True, aliases=("surname", "legal surname")),
    Column("preferred_name", aliases=("preferred forename", "known as")),
    Column("date_of_birth", required=True, aliases=("dob", "birth date")),
    Column("year_group", required=True, aliases=("year", "nc year", "national curriculum year")),
    Column("taught_in_year_group"),
    Column("form", aliases=("reg group", "registration group", "tutor group", "form group")),
    Column("house"),
    Column("sen_stage", aliases=("sen provision", "sen status")),
    Column("primary_need", aliases=("sen primary need",)),
    Column("secondary_need", aliases=("sen secondary need",)),
    Column("eal", aliases=("english as an additional language",)),
    Column("pupil_premium", aliases=("pp",)),
    Column("child_in_care", aliases=("cla", "looked after", "lac", "in care")),
    Column("young_carer"),
    Column("medical_need", aliases=("medical",)),
    Column("other_information", aliases=("other",)),
)

CLASS_COLUMNS: tuple[Column, ...] = (
    Column("class_code", required=True, aliases=("class", "group", "teaching group")),
    Column("subject"),
    Column("year_group", aliases=("year", "nc year")),
    Column("teacher_emails", required=True, aliases=("teacher email", "teacher", "teachers")),
    Column("upn", required=True, aliases=("unique pupil number",)),
    # Teaching assistants and other support staff in the class: they see its pupils as its
    # teachers do (bot.access), without being its teachers.
    Column(
        "support_staff_emails",
        aliases=("support staff", "support staff email", "teaching assistants", "ta emails"),
    ),
)

COLUMNS: dict[RosterKind, tuple[Column, ...]] = {
    "staff": STAFF_COLUMNS,
    "pupils": PUPIL_COLUMNS,
    "classes": CLASS_COLUMNS,
}

# Normalised spellings (see squash) of what schools write in a roles cell.
ROLE_NAMES: dict[str, StaffRole] = {
    "sendco": StaffRole.SENDCO,
    "senco": StaffRole.SENDCO,
    "seniorleader": StaffRole.SENIOR_LEADER,
    "slt": StaffRole.SENIOR_LEADER,
    "caseholder": StaffRole.CASE_HOLDER,
    "teacher": StaffRole.TEACHER,
    "teachingassistant": StaffRole.TEACHING_ASSISTANT,
    "ta": StaffRole.TEACHING_ASSISTANT,
    "formtutor": StaffRole.FORM_TUTOR,
    "tutor": StaffRole.FORM_TUTOR,
    "headofyear": StaffRole.HEAD_OF_YEAR,
    "hoy": StaffRole.HEAD_OF_YEAR,
    "pastoral": StaffRole.PASTORAL,
    "pastorallead": StaffRole.PASTORAL,
    "pastoralstaff": StaffRole.PASTORAL,
}

# Each role that looks after a part of the school, and the staff column that says which part:
# a row with the role must fill the column, and a row filling the column must have the role.
SCOPED_ROLES: dict[StaffRole, tuple[str, str]] = {
    StaffRole.FORM_TUTOR: ("form_groups", "the forms they tutor, e.g. 7K;7M"),
    StaffRole.HEAD_OF_YEAR: ("year_groups", "their year groups, e.g. 7;8"),
    StaffRole.PASTORAL: ("houses", "their houses, e.g. Brunel;Curie"),
}

# DfE SEN provision codes, and the words MIS exports use for them; empty means no SEN.
SEN_STAGE_NAMES: dict[str, SenStage] = {
    "": SenStage.NONE,
    "n": SenStage.NONE,
    "nosen": SenStage.NONE,
    "k": SenStage.SEN_SUPPORT,
    "sensupport": SenStage.SEN_SUPPORT,
    "e": SenStage.EHC_PLAN,
    "ehcp": SenStage.EHC_PLAN,
    "ehcplan": SenStage.EHC_PLAN,
    "educationhealthandcareplan": SenStage.EHC_PLAN,
}

YES = frozenset({"yes", "y", "true", "1"})
NO = frozenset({"no", "n", "false", "0", ""})
RECEPTION = frozenset({"r", "rec", "reception", "yr", "yearr", "yearreception"})

UPN_CHECK_ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ"


# --- records: what an import says the roster should be --------------------------------------


@dataclass(frozen=True, slots=True)
class StaffRecord:
    """A member of staff as a source (CSV file, directory) describes them.

    `email` is the natural key, lower case. `slack_user_id` None means "not known here":
    an import never clears a Slack id, because the bot finds those itself.
    """

    email: str
    first_name: str
    last_name: str
    title: str | None = None
    staff_code: str | None = None
    department: str | None = None
    roles: frozenset[StaffRole] = frozenset()
    slack_user_id: str | None = None
    # What a form tutor, head of year or pastoral member of staff looks after.
    form_groups: frozenset[str] = frozenset()
    year_groups: frozenset[int] = frozenset()
    houses: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class PupilRecord:
    """A pupil on roll as the MIS describes them. `upn` is the natural key, upper case."""

    upn: str
    first_name: str
    last_name: str
    date_of_birth: date
    year_group: int
    preferred_name: str | None = None
    taught_in_year_group: bool = True
    form: str | None = None
    house: str | None = None
    sen_stage: SenStage = SenStage.NONE
    primary_need: NeedCode | None = None
    secondary_need: NeedCode | None = None
    eal: bool = False
    pupil_premium: bool = False
    child_in_care: bool = False
    young_carer: bool = False
    medical_need: bool = False
    other_information: str | None = None


@dataclass(frozen=True, slots=True)
class ClassRecord:
    """A teaching group: its code (the natural key), teachers by email and pupils by UPN."""

    class_code: str
    teacher_emails: frozenset[str]
    upns: frozenset[str]
    subject: str | None = None
    year_group: int | None = None
    support_emails: frozenset[str] = frozenset()


@dataclass
class ImportResult:
    """What an import did. Every record is exactly one of created, updated, unchanged or
    reactivated; `left` counts rows of the school newly marked as left."""

    school_name: str
    kind: RosterKind
    total: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    reactivated: int = 0
    left: int = 0
    # Open plans whose case holder left: back on the priority list for the SENDCo.
    plans_released: int = 0
    # Pupils who left with an open plan: their prompts stopped; the SENDCo is asked to close it.
    leavers_with_plans: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.reactivated or self.left)

    def summary(self) -> str:
        """One sentence for the person who ran the import."""
        what = f"Imported {_count(self.total, self.kind)} into {self.school_name}"
        if not self.changed:
            return f"{what}: nothing changed."
        back, gone = (
            ("active again", "marked inactive")
            if self.kind == "classes"
            else ("back after leaving", "marked as left")
        )
        parts = [f"{self.created} added", f"{self.updated} updated", f"{self.unchanged} unchanged"]
        if self.reactivated:
            parts.append(f"{self.reactivated} {back}")
        parts.append(f"{self.left} {gone}")
        released = (
            f" {self.plans_released} plan{'s' if self.plans_released != 1 else ''} held by "
            "leavers are back on the priority list (`/ssp priority`)."
            if self.plans_released
            else ""
        )
        leavers = (
            f" {self.leavers_with_plans} pupil{'s' if self.leavers_with_plans != 1 else ''} "
            "who left had an open plan: their prompts have stopped and the SENDCo has been "
            "asked to close the plan."
            if self.leavers_with_plans
            else ""
        )
        return f"{what}: {', '.join(parts)}.{released}{leavers}"


# --- the entry point ------------------------------------------------------------------------


def import_csv(
    session: Session, school: School, kind: RosterKind, path: Path, *, today: date
) -> ImportResult:
    """Imports a staff, pupils or classes CSV into the school, upserting by natural key.

    Raises ImportRejected (a UserError) listing every bad line if any row is bad, and
    UserError if the file cannot be read or has no rows; in both cases the session has not
    been changed. On success the changes are in the session, flushed or pending; the caller
    commits.
    """
    if kind not in COLUMNS:
        raise ValueError(f"unknown roster kind {kind!r}")
    file = read_csv(path, COLUMNS[kind])
    if file.empty:
        raise UserError(
            f"{file.name} is empty: export it again from the MIS, with a header row "
            f"(see the README for the {kind} columns)."
        )
    if file.nothing_to_import:
        noun = {"staff": "staff", "pupils": "pupils", "classes": "class rows"}[kind]
        raise UserError(
            f"{file.name} has a header row but no {noun}, so nothing was imported "
            "(an import must list everyone, because anyone missing is marked as left)."
        )
    if kind == "staff":
        staff, row_problems = _staff_records(file.rows)
        reject_if_any(file.name, file.problems + row_problems)
        return apply_staff(session, school, staff, today, fields=file.columns)
    if kind == "pupils":
        pupils, row_problems = _pupil_records(file.rows, today)
        reject_if_any(file.name, file.problems + row_problems)
        return apply_pupils(session, school, pupils, today, fields=file.columns)
    classes, row_problems = _class_records(file.rows, session, school)
    reject_if_any(file.name, file.problems + row_problems)
    return apply_classes(session, school, classes, today, fields=file.columns)


# --- apply: one upsert path for every source ------------------------------------------------

STAFF_FIELDS = ("email", "first_name", "last_name", "title", "staff_code", "department")
SCOPE_FIELDS = ("form_groups", "year_groups", "houses")
# StaffScope's column for each staff CSV scope column.
SCOPE_COLUMN = {"form_groups": "form", "year_groups": "year_group", "houses": "house"}
PUPIL_FIELDS = (
    "first_name",
    "last_name",
    "preferred_name",
    "date_of_birth",
    "year_group",
    "taught_in_year_group",
    "form",
    "house",
    "sen_stage",
    "primary_need",
    "secondary_need",
    "eal",
    "pupil_premium",
    "child_in_care",
    "young_carer",
    "medical_need",
    "other_information",
)


def apply_staff(
    session: Session,
    school: School,
    records: Sequence[StaffRecord],
    today: date,
    *,
    fields: Collection[str] | None = None,
) -> ImportResult:
    """Makes the school's staff match `records`, which must hold every current member of staff.

    Staff are matched by email (any letter case; stored lower case). `fields` names the record
    fields the source actually supplies (None: all of them); on an existing member of staff
    the others are left as they are, so a file without a roles column keeps everyone's roles.
    Roles, when supplied, replace the member's roles. Forms, year groups and houses
    (StaffScope) are replaced when their column, or the roles, are supplied. A Slack id given
    for one member is taken from any other member of the school who had it. Staff not in
    `records` are marked as left (`is_active=False`, `left_on=today`); staff who come back are
    made active again. Runs two queries for the school's staff (them, and their scopes),
    whatever the number of records.
    """
    _check_unique((record.email for record in records), "staff email")
    supplied = _supplied(fields, (*STAFF_FIELDS, "roles", *SCOPE_FIELDS))
    scoped = frozenset(f for f in SCOPE_FIELDS if f in supplied)
    existing = {
        member.email.lower(): member
        for member in session.scalars(
            select(Staff).where(Staff.school_id == school.id).options(selectinload(Staff.scopes))
        )
    }
    result = ImportResult(school.name, "staff", total=len(records))
    changed: dict[int, bool] = {}
    returning: list[Staff] = []
    slack_ids: list[tuple[Staff, str]] = []
    for record in records:
        member = existing.get(record.email)
        if member is None:
            member = Staff(school_id=school.id, **_values(record, STAFF_FIELDS))
            member.set_roles(set(record.roles))
            member.scopes = _new_scopes(_scopes_of(record))
            session.add(member)
            result.created += 1
        else:
            differs = _assign(member, record, [f for f in STAFF_FIELDS if f in supplied])
            if "roles" in supplied and member.roles != record.roles:
                member.set_roles(set(record.roles))
                differs = True
            differs |= _replace_scopes(member, record, scoped, roles="roles" in supplied)
            changed[id(member)] = differs
            if not member.is_active:
                returning.append(member)
        if record.slack_user_id and member.slack_user_id != record.slack_user_id:
            slack_ids.append((member, record.slack_user_id))

    listed = {record.email for record in records}
    leavers = _mark_leavers(existing, listed, today, result)
    if leavers:
        result.plans_released = release_plans_of_leavers(session, school.id, leavers)
        # Their intervention groups have no runner until the SENDCo chooses one.
        groups.runners_left(session, school.id, leavers, today)

    if slack_ids:
        holders = {m.slack_user_id: m for m in existing.values() if m.slack_user_id}
        for member, slack_user_id in slack_ids:
            holder = holders.get(slack_user_id)
            if holder is not None and holder is not member:
                holder.slack_user_id = None
                changed[id(holder)] = True
        # Slack ids are unique per school and PostgreSQL checks that per statement: the old
        # holders must lose an id before its new holder is written.
        session.flush()
        for member, slack_user_id in slack_ids:
            member.slack_user_id = slack_user_id
            changed[id(member)] = True

    for member in returning:
        member.is_active, member.left_on = True, None
    _tally(result, existing, listed, changed, returning)
    return result


def apply_pupils(
    session: Session,
    school: School,
    records: Sequence[PupilRecord],
    today: date,
    *,
    fields: Collection[str] | None = None,
    source: SenChangeSource = SenChangeSource.CSV_IMPORT,
) -> ImportResult:
    """Makes the school's pupils match `records`, which must hold every pupil on roll.

    Pupils are matched by UPN. `fields` names the record fields the source supplies (None:
    all); on an existing pupil the others are left as they are. Pupils not in `records` are
    marked as left (`is_active=False`, `left_on=today`); pupils who come back are made active
    again. Runs one query for the school's pupils, whatever the number of records.
    """
    _check_unique((record.upn for record in records), "UPN")
    supplied = _supplied(fields, PUPIL_FIELDS)
    existing = {
        pupil.upn.upper(): pupil
        for pupil in session.scalars(select(Pupil).where(Pupil.school_id == school.id))
    }
    result = ImportResult(school.name, "pupils", total=len(records))
    changed: dict[int, bool] = {}
    returning: list[Pupil] = []
    no_longer_sen: list[Pupil] = []
    gained_needs: dict[int, list[NeedCode]] = {}
    sen_changes: list[tuple[Pupil, SenState | None]] = []
    for record in records:
        pupil = existing.get(record.upn)
        if pupil is None:
            pupil = Pupil(school_id=school.id, upn=record.upn, **_values(record, PUPIL_FIELDS))
            session.add(pupil)
            sen_changes.append((pupil, None))
            result.created += 1
            continue
        sen_changes.append((pupil, SenState.of(pupil)))
        stage_before = pupil.sen_stage
        needs_before = {pupil.primary_need, pupil.secondary_need}
        differs = _assign(pupil, record, [f for f in PUPIL_FIELDS if f in supplied])
        new_needs = [
            n for n in (pupil.primary_need, pupil.secondary_need) if n and n not in needs_before
        ]
        if new_needs and pupil.is_active:
            gained_needs[pupil.id] = new_needs
        if stage_before != SenStage.NONE and pupil.sen_stage == SenStage.NONE:
            no_longer_sen.append(pupil)
        if pupil.upn != record.upn:
            pupil.upn, differs = record.upn, True
        changed[id(pupil)] = differs
        if not pupil.is_active:
            returning.append(pupil)

    listed = {record.upn for record in records}
    leavers = _mark_leavers(existing, listed, today, result)
    groups.pupils_left(session, [p.id for p in leavers], today)
    if leavers or no_longer_sen:
        # Leavers' prompts stop now; the SENDCo is asked (one message) to close the plans of
        # leavers and of pupils whose SEN stage is now N. From the import's own day (what
        # `left_on` says), so the time is the caller's to set.
        left_at = datetime.combine(today, time.min, tzinfo=UTC)
        result.leavers_with_plans = closure.pupils_left(
            session, school.id, leavers, left_at, no_longer_sen=no_longer_sen
        )
    for pupil in returning:
        pupil.is_active, pupil.left_on = True, None
    # Reviews when things change: a pupil with an active plan whose roster shows a new need has
    # their case holder asked whether to bring the review forward (bot.services.review_forward).
    review_forward.roster_needs(
        session, school, gained_needs, datetime.combine(today, time.min, tzinfo=UTC)
    )
    # Kept, not overwritten: each change of stage or needs, with its day and source.
    sen_history.record(session, sen_changes, source=source, on=today)
    _tally(result, existing, listed, changed, returning)
    return result


def apply_classes(
    session: Session,
    school: School,
    records: Sequence[ClassRecord],
    today: date,
    *,
    fields: Collection[str] | None = None,
) -> ImportResult:
    """Makes the school's classes match `records`, which must hold every current class.

    Classes are matched by class code. Each class's teachers and pupils become exactly those
    in its record: links to anyone else are marked inactive, never deleted, and links that
    come back are made active again. Classes not in `records` are marked inactive, with all
    their links. `fields` works as for `apply_staff` (only `subject`, `year_group` and
    `support_staff_emails` are optional: without that column a class keeps its support
    staff). `today` is accepted for symmetry with the other kinds; classes keep no leaving
    date. Every email and UPN must belong to the school's staff and pupils, else UserError
    (`import_csv` checks that first, line by line). Runs a fixed number of queries.
    """
    _check_unique((record.class_code for record in records), "class code")
    supplied = _supplied(fields, ("subject", "year_group", "support_staff_emails"))
    staff_ids = {
        email.lower(): staff_id
        for staff_id, email in session.execute(
            select(Staff.id, Staff.email).where(Staff.school_id == school.id)
        )
    }
    pupil_ids = {
        upn.upper(): pupil_id
        for pupil_id, upn in session.execute(
            select(Pupil.id, Pupil.upn).where(Pupil.school_id == school.id)
        )
    }
    unknown = sorted(
        {e for r in records for e in r.teacher_emails | r.support_emails if e not in staff_ids}
        | {u for r in records for u in r.upns if u not in pupil_ids}
    )
    if unknown:
        raise UserError(
            f"Classes name {len(unknown)} people who are not in {school.name}'s roster; "
            "import staff and pupils first."
        )
    existing = {
        group.code: group
        for group in session.scalars(
            select(TeachingGroup)
            .where(TeachingGroup.school_id == school.id)
            .options(
                selectinload(TeachingGroup.teachers),
                selectinload(TeachingGroup.members),
                selectinload(TeachingGroup.support),
            )
        )
    }
    result = ImportResult(school.name, "classes", total=len(records))
    for record in records:
        teacher_ids = {staff_ids[email] for email in record.teacher_emails}
        support_ids = {staff_ids[email] for email in record.support_emails}
        member_ids = {pupil_ids[upn] for upn in record.upns}
        group = existing.get(record.class_code)
        if group is None:
            session.add(
                TeachingGroup(
                    school_id=school.id,
                    code=record.class_code,
                    subject=record.subject,
                    year_group=record.year_group,
                    teachers=[TeachingGroupTeacher(staff_id=i) for i in sorted(teacher_ids)],
                    members=[TeachingGroupPupil(pupil_id=i) for i in sorted(member_ids)],
                    support=[TeachingGroupSupport(staff_id=i) for i in sorted(support_ids)],
                )
            )
            result.created += 1
            continue
        differs = _assign(group, record, [f for f in ("subject", "year_group") if f in supplied])
        differs |= _sync_links(group.teachers, "staff_id", teacher_ids, TeachingGroupTeacher)
        differs |= _sync_links(group.members, "pupil_id", member_ids, TeachingGroupPupil)
        if "support_staff_emails" in supplied:
            differs |= _sync_links(group.support, "staff_id", support_ids, TeachingGroupSupport)
        if not group.is_active:
            group.is_active = True
            result.reactivated += 1
        elif differs:
            result.updated += 1
        else:
            result.unchanged += 1

    listed = {record.class_code for record in records}
    for code, group in existing.items():
        if code in listed:
            continue
        if group.is_active:
            group.is_active = False
            result.left += 1
        for link in [*group.teachers, *group.members, *group.support]:
            link.is_active = False
    return result


# --- apply helpers --------------------------------------------------------------------------

Person = TypeVar("Person", Staff, Pupil)


def _supplied(fields: Collection[str] | None, known: Sequence[str]) -> frozenset[str]:
    return frozenset(known) if fields is None else frozenset(fields)


def _values(record: StaffRecord | PupilRecord, names: Sequence[str]) -> dict[str, object]:
    return {name: getattr(record, name) for name in names}


def _assign(row: object, record: object, names: Iterable[str]) -> bool:
    """Copies the named fields that differ; True if any did. Equal values are not assigned,
    so an unchanged row is never written and keeps its updated_at."""
    differs = False
    for name in names:
        value = getattr(record, name)
        if getattr(row, name) != value:
            setattr(row, name, value)
            differs = True
    return differs


def _mark_leavers(
    existing: dict[str, Person], listed: set[str], today: date, result: ImportResult
) -> list[Person]:
    """Marks as left, from today, everyone active whose key is not listed; returns them."""
    leavers = [person for key, person in existing.items() if key not in listed and person.is_active]
    for person in leavers:
        person.is_active, person.left_on = False, today
    result.left += len(leavers)
    return leavers


def _tally(
    result: ImportResult,
    existing: dict[str, Person],
    listed: set[str],
    changed: dict[int, bool],
    returning: list[Person],
) -> None:
    """Counts each listed person who was already there as reactivated, updated or unchanged."""
    came_back = {id(person) for person in returning}
    for key, person in existing.items():
        if key not in listed:
            continue
        if id(person) in came_back:
            result.reactivated += 1
        elif changed.get(id(person)):
            result.updated += 1
        else:
            result.unchanged += 1


def _sync_links(links: list, key: str, wanted: set[int], make: type) -> bool:
    """Makes the active links exactly `wanted`, deactivating the rest. True if any changed."""
    differs = False
    have = {getattr(link, key): link for link in links}
    for link_id, link in have.items():
        active = link_id in wanted
        if link.is_active != active:
            link.is_active = active
            differs = True
    for link_id in sorted(wanted - have.keys()):
        links.append(make(**{key: link_id}))
        differs = True
    return differs


def _scopes_of(record: StaffRecord) -> set[tuple[str, object]]:
    """The record's forms, year groups and houses as (StaffScope column, value) pairs."""
    return {(SCOPE_COLUMN[name], value) for name in SCOPE_FIELDS for value in getattr(record, name)}


def _new_scopes(pairs: Iterable[tuple[str, object]]) -> list[StaffScope]:
    return [StaffScope(**{column: value}) for column, value in sorted(pairs, key=str)]


def _replace_scopes(
    member: Staff, record: StaffRecord, scoped: frozenset[str], *, roles: bool
) -> bool:
    """Makes the member's scopes of the `scoped` kinds the record's, and, when the record's
    roles are supplied, drops the scopes of a role they no longer have (a scope goes with its
    role). A source with neither (the Microsoft 365 sync keeps roles granted here) leaves
    them. True if any changed."""
    columns = {SCOPE_COLUMN[name] for name in scoped}
    gone = {
        SCOPE_COLUMN[name]
        for role, (name, _) in SCOPED_ROLES.items()
        if roles and role not in record.roles
    }
    have = {_scope_pair(scope): scope for scope in member.scopes}
    want = {pair for pair in have if pair[0] not in columns | gone}
    want |= {pair for pair in _scopes_of(record) if pair[0] in columns}
    if want == set(have):
        return False
    member.scopes = [scope for pair, scope in have.items() if pair in want] + _new_scopes(
        want - have.keys()
    )
    return True


def _scope_pair(scope: StaffScope) -> tuple[str, object]:
    column = next(
        name for name in ("form", "year_group", "house") if getattr(scope, name) is not None
    )
    return column, getattr(scope, column)


def _check_unique(keys: Iterable[str], what: str) -> None:
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            raise ValueError(f"{what} {key!r} appears in two records")
        seen.add(key)


def _staff_records(rows: list[Row]) -> tuple[list[StaffRecord], list[Problem]]:
    problems: list[Problem] = []
    records: list[StaffRecord] = []
    first_line_of_email: dict[str, int] = {}
    first_line_of_slack_id: dict[str, int] = {}
    for row in rows:
        check = RowCheck(row, problems)
        email = check.get("email", _email, "")
        record = StaffRecord(
            email=email,
            first_name=check.get("first_name", required_text(100), ""),
            last_name=check.get("last_name", required_text(100), ""),
            title=check.get("title", optional_text(20), None),
            staff_code=check.get("staff_code", optional_text(20), None),
            department=check.get("department", optional_text(100), None),
            roles=check.get("roles", _roles, frozenset()),
            slack_user_id=check.get("slack_user_id", _slack_user_id, None),
            form_groups=check.get("form_groups", _names(20, "form"), frozenset()),
            year_groups=check.get("year_groups", _year_groups, frozenset()),
            houses=check.get("houses", _names(50, "house"), frozenset()),
        )
        _check_scopes(check, record)
        if email:
            _once(check, first_line_of_email, email, f"email {email} appears more than once")
        if record.slack_user_id:
            _once(
                check,
                first_line_of_slack_id,
                record.slack_user_id,
                f"Slack id {record.slack_user_id} is given to two people",
            )
        if check.ok:
            records.append(record)
    return records, problems


def _check_scopes(check: RowCheck, record: StaffRecord) -> None:
    """A form tutor, head of year or pastoral member of staff says what they look after, and
    only they do: each problem names the column to fill or the role to add."""
    if "roles" in check.bad_columns:
        return
    for role, (column, what) in SCOPED_ROLES.items():
        if column in check.bad_columns:
            continue
        given = bool(getattr(record, column))
        header = check.row.headers.get(column, column)
        if role in record.roles and not given:
            check.problem(f"{role.value} needs {what} in the {header} column")
        elif given and role not in record.roles:
            roles = check.row.headers.get("roles", "roles")
            check.problem(f"{header} is only for a {role.value}: add {role.value} to {roles}")


def _pupil_records(rows: list[Row], today: date) -> tuple[list[PupilRecord], list[Problem]]:
    problems: list[Problem] = []
    records: list[PupilRecord] = []
    first_line_of_upn: dict[str, int] = {}
    for row in rows:
        check = RowCheck(row, problems)
        upn = check.get("upn", _upn, "")
        date_of_birth = check.get("date_of_birth", parse_date, None)
        if date_of_birth is not None and date_of_birth > today:
            label = row.headers["date_of_birth"]
            check.problem(f"{label} {row.cells['date_of_birth']!r} is in the future")
        primary_need = check.get("primary_need", _need, None)
        secondary_need = check.get("secondary_need", _need, None)
        if secondary_need is not None and "primary_need" not in check.bad_columns:
            if primary_need is None:
                check.problem(f"{row.headers['secondary_need']} is given without a primary need")
            elif secondary_need == primary_need:
                check.problem(f"{row.headers['secondary_need']} is the same as the primary need")
        record = PupilRecord(
            upn=upn,
            first_name=check.get("first_name", required_text(100), ""),
            last_name=check.get("last_name", required_text(100), ""),
            preferred_name=check.get("preferred_name", optional_text(100), None),
            date_of_birth=date_of_birth or date.min,
            year_group=check.get("year_group", parse_year_group, 0),
            taught_in_year_group=check.get("taught_in_year_group", _yes_no(default=True), True),
            form=check.get("form", optional_text(20), None),
            house=check.get("house", optional_text(50), None),
            sen_stage=check.get("sen_stage", _sen_stage, SenStage.NONE),
            primary_need=primary_need,
            secondary_need=secondary_need,
            eal=check.get("eal", _yes_no(), False),
            pupil_premium=check.get("pupil_premium", _yes_no(), False),
            child_in_care=check.get("child_in_care", _yes_no(), False),
            young_carer=check.get("young_carer", _yes_no(), False),
            medical_need=check.get("medical_need", _yes_no(), False),
            other_information=check.get("other_information", optional_text(None), None),
        )
        if upn:
            _once(check, first_line_of_upn, upn, f"UPN {upn} appears more than once")
        if check.ok:
            records.append(record)
    return records, problems


# What every row of a class must repeat: column name -> how messages call it.
CLASS_WIDE = {
    "subject": "subject",
    "year_group": "year group",
    "teacher_emails": "teachers",
    "support_staff_emails": "support staff",
}


@dataclass
class _ClassSoFar:
    """A class as its rows so far describe it: each class-wide value with the line it came
    from, and the line of each pupil."""

    values: dict[str, tuple[object, int]] = field(default_factory=dict)
    upns: dict[str, int] = field(default_factory=dict)


def _class_records(
    rows: list[Row], session: Session, school: School
) -> tuple[list[ClassRecord], list[Problem]]:
    """Class rows (one per pupil in a class) gathered into one record per class.

    Reads the school's staff and pupils (one query each) to check every email and UPN.
    """
    staff_active = {
        email.lower(): active
        for email, active in session.execute(
            select(Staff.email, Staff.is_active).where(Staff.school_id == school.id)
        )
    }
    pupil_active = {
        upn.upper(): active
        for upn, active in session.execute(
            select(Pupil.upn, Pupil.is_active).where(Pupil.school_id == school.id)
        )
    }
    problems: list[Problem] = []
    classes: dict[str, _ClassSoFar] = {}
    for row in rows:
        check = RowCheck(row, problems)
        code = check.get("class_code", required_text(50), "")
        teacher_emails = check.get("teacher_emails", _emails, frozenset())
        support_emails = check.get("support_staff_emails", _optional_emails, frozenset())
        here: dict[str, object] = {
            "subject": check.get("subject", optional_text(100), None),
            "year_group": check.get("year_group", _optional_year_group, None),
            "teacher_emails": teacher_emails,
            "support_staff_emails": support_emails,
        }
        upn = check.get("upn", _upn, "")
        for email in sorted(teacher_emails | support_emails):
            if email not in staff_active:
                check.problem(
                    f"no staff member with email {email} in {school.name}; import staff first"
                )
            elif not staff_active[email]:
                check.problem(
                    f"{email} is marked as left in {school.name}; "
                    "import an up-to-date staff file first"
                )
        if upn and upn not in pupil_active:
            check.problem(f"no pupil with UPN {upn} in {school.name}; import pupils first")
        elif upn and not pupil_active[upn]:
            check.problem(
                f"the pupil with UPN {upn} is marked as left in {school.name}; "
                "import an up-to-date pupils file first"
            )
        if not code:
            continue
        so_far = classes.setdefault(code, _ClassSoFar())
        for name, what in CLASS_WIDE.items():
            # A value already reported as bad would only add a second, misleading problem.
            if name in check.bad_columns or not row.has(name):
                continue
            if name not in so_far.values:
                so_far.values[name] = (here[name], row.line)
                continue
            value, line = so_far.values[name]
            if value != here[name]:
                check.problem(
                    f"class {code} has {what} {_shown(here[name])} here "
                    f"but {_shown(value)} on line {line}"
                )
        if upn in so_far.upns:
            check.problem(
                f"UPN {upn} is listed in class {code} twice (first on line {so_far.upns[upn]})"
            )
        elif upn:
            so_far.upns[upn] = row.line
    records = []
    for code, so_far in classes.items():
        values = {name: value for name, (value, _line) in so_far.values.items()}
        records.append(
            ClassRecord(
                class_code=code,
                teacher_emails=values.get("teacher_emails", frozenset()),
                upns=frozenset(so_far.upns),
                subject=values.get("subject"),
                year_group=values.get("year_group"),
                support_emails=values.get("support_staff_emails", frozenset()),
            )
        )
    return records, problems


def _shown(value: object) -> str:
    if value is None or value == frozenset():
        return "(none)"
    if isinstance(value, frozenset):
        return "; ".join(sorted(value))
    return repr(value) if isinstance(value, str) else str(value)


def _once(check: RowCheck, first_lines: dict[str, int], key: str, reason: str) -> None:
    if key in first_lines:
        check.problem(f"{reason} (first on line {first_lines[key]})")
    else:
        first_lines[key] = check.row.line


# --- cell parsers: each returns a value or raises BadValue ----------------------------------

EMAIL = re.compile(r"[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\"]+")
SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,31}")
YEAR_GROUP = re.compile(r"(?:year|yr|y)?([0-9]{1,2})")


def _email(value: str) -> str:
    if not value:
        raise BadValue("is empty")
    if not EMAIL.fullmatch(value) or len(value) > 254:
        raise BadValue(f"{value!r} is not an email address")
    return value.lower()


def _emails(value: str) -> frozenset[str]:
    """One or more emails separated by ';' or ','."""
    parts = [part.strip() for part in re.split(r"[;,]", value) if part.strip()]
    if not parts:
        raise BadValue("is empty")
    bad = [part for part in parts if not EMAIL.fullmatch(part)]
    if bad:
        raise BadValue(f"{bad[0]!r} is not an email address")
    return frozenset(part.lower() for part in parts)


def _optional_emails(value: str) -> frozenset[str]:
    return _emails(value) if value.strip(" ;,") else frozenset()


def _names(max_length: int, what: str) -> Callable[[str], frozenset[str]]:
    """Forms or houses separated by ';' or ',': none, one or several, as the MIS spells them."""

    def parse(value: str) -> frozenset[str]:
        names: dict[str, str] = {}
        for part in re.split(r"[;,]", value):
            name = part.strip()
            if len(name) > max_length:
                raise BadValue(f"{name[:max_length]!r}… is longer than a {what} ({max_length})")
            if name:
                names.setdefault(name.casefold(), name)  # 7k and 7K are the same form
        return frozenset(names.values())

    return parse


def _year_groups(value: str) -> frozenset[int]:
    """Year groups separated by ';' or ',' (R or Reception, 1 to 14, "Year 7")."""
    return frozenset(
        parse_year_group(part.strip()) for part in re.split(r"[;,]", value) if part.strip()
    )


def _roles(value: str) -> frozenset[StaffRole]:
    roles = set()
    for part in re.split(r"[;,]", value):
        if not part.strip():
            continue
        role = ROLE_NAMES.get(squash(part))
        if role is None:
            raise BadValue(
                f"{part.strip()!r} is not a role we know "
                "(use sendco, senior_leader, case_holder, teacher, teaching_assistant, "
                "form_tutor, head_of_year or pastoral)"
            )
        roles.add(role)
    return frozenset(roles)


def _slack_user_id(value: str) -> str | None:
    if not value:
        return None
    if not SLACK_USER_ID.fullmatch(value.upper()):
        raise BadValue(f"{value!r} is not a Slack member id (U… or W…)")
    return value.upper()


def _upn(value: str) -> str:
    if not value:
        raise BadValue("is empty")
    upn = value.upper()
    if not _UPN_SHAPE.fullmatch(upn):
        raise BadValue(
            f"{value!r} is not a UPN (13 characters: a check letter, 11 digits, "
            "then a digit or letter)"
        )
    if not is_valid_upn(upn):
        raise BadValue(f"{value!r} has the wrong check letter for its digits (a typing error?)")
    return upn


def parse_year_group(value: str) -> int:
    if not value:
        raise BadValue("is empty")
    squashed = squash(value)
    if squashed in RECEPTION:
        return 0
    match = YEAR_GROUP.fullmatch(squashed)
    if match is None or not 0 <= int(match[1]) <= 14:
        raise BadValue(f"{value!r} is not a year group (use R or Reception, or 1 to 14)")
    return int(match[1])


def _optional_year_group(value: str) -> int | None:
    return parse_year_group(value) if value else None


def _yes_no(*, default: bool = False) -> Callable[[str], bool]:
    def parse(value: str) -> bool:
        answer = value.casefold()
        if not answer:
            return default
        if answer in YES:
            return True
        if answer in NO:
            return False
        raise BadValue(f"{value!r} is not yes or no (use yes/no, y/n, true/false or 1/0)")

    return parse


def _sen_stage(value: str) -> SenStage:
    stage = SEN_STAGE_NAMES.get(squash(value))
    if stage is None:
        raise BadValue(
            f"{value!r} is not a SEN stage (use the DfE codes N, K or E, "
            "or No SEN, SEN Support, EHCP)"
        )
    return stage


def _need(value: str) -> NeedCode | None:
    if not value:
        return None
    try:
        return NeedCode.parse(value)
    except ValueError:
        codes = ", ".join(code.value for code in NeedCode)
        raise BadValue(f"{value!r} is not a DfE need code (use one of {codes})") from None


# --- UPNs -----------------------------------------------------------------------------------

# Check letter, 11 digits, then a digit (permanent UPN) or a letter (temporary UPN).
_UPN_SHAPE = re.compile(rf"[{UPN_CHECK_ALPHABET}][0-9]{{11}}[0-9{UPN_CHECK_ALPHABET}]")
_UPN_TAIL = re.compile(rf"[0-9]{{11}}[0-9{UPN_CHECK_ALPHABET}]")


def upn_check_letter(twelve_chars: str) -> str:
    """The check letter that goes before these 12 UPN characters (DfE algorithm).

    `twelve_chars` is 11 digits then a digit (a permanent UPN) or a letter from the check
    alphabet, which has no I, O or S (a temporary UPN). Raises ValueError otherwise.
    """
    chars = twelve_chars.upper()
    if not _UPN_TAIL.fullmatch(chars):
        raise ValueError(f"not the 12 characters after a UPN check letter: {twelve_chars!r}")
    total = sum(
        weight * (int(char) if char.isdigit() else UPN_CHECK_ALPHABET.index(char))
        for weight, char in enumerate(chars, start=2)
    )
    return UPN_CHECK_ALPHABET[total % 23]


def is_valid_upn(upn: str) -> bool:
    """True if `upn` (any letter case) is 13 characters with the right check letter."""
    candidate = upn.upper()
    if not _UPN_SHAPE.fullmatch(candidate):
        return False
    return upn_check_letter(candidate[1:]) == candidate[0]


def _count(number: int, kind: RosterKind) -> str:
    if kind == "staff":
        return f"{number} staff"
    singular = {"pupils": "pupil", "classes": "class"}[kind]
    return f"{number} {singular if number == 1 else kind}"
