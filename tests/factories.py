"""Small builders for synthetic rows. Names here are made up; no real child's data."""

from __future__ import annotations

from datetime import date
from itertools import count

from sqlalchemy.orm import Session

from models import Plan, PlanStatus, Pupil, School, SenStage, Staff, StaffRole

_serial = count(1)


def school(session: Session, name: str = "Brookside High") -> School:
    school = School(name=name)
    session.add(school)
    session.flush()
    return school


def staff(session: Session, school: School, *roles: StaffRole, first: str = "Sam") -> Staff:
    n = next(_serial)
    member = Staff(
        school=school,
        email=f"{first.lower()}.{n}@brookside.example.org",
        first_name=first,
        last_name=f"Teacher{n}",
    )
    member.set_roles(set(roles))
    session.add(member)
    session.flush()
    return member


def pupil(session: Session, school: School, *, upn: str | None = None, **fields) -> Pupil:
    n = next(_serial)
    values = dict(
        first_name="Alex",
        last_name=f"Pupil{n}",
        date_of_birth=date(2012, 5, 17),
        year_group=9,
        sen_stage=SenStage.SEN_SUPPORT,
    )
    values.update(fields)
    child = Pupil(school=school, upn=upn or f"X{n:012d}", **values)
    session.add(child)
    session.flush()
    return child


def plan(session: Session, school: School, child: Pupil, holder: Staff | None = None) -> Plan:
    new_plan = Plan(
        school=school,
        pupil=child,
        case_holder=holder,
        status=PlanStatus.ACTIVE,
        start_date=date(2026, 9, 8),
        review_date=date(2026, 12, 10),
    )
    session.add(new_plan)
    session.flush()
    return new_plan
