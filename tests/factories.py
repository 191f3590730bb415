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


def library_item(session: Session, school: School, name: str = "Lexia", **fields):
    """A provision in the school's library (an intervention, by default)."""
    from models import BroadArea, LibraryProvision, ProvisionTier

    values = dict(
        area_of_need=BroadArea.COGNITION_AND_LEARNING,
        tier=ProvisionTier.TARGETED,
        group_size=4,
        sessions_per_week=2,
        session_minutes=30,
        weeks=12,
        staff_role="Teaching assistant",
        cost_per_session_pence=1500,
        description="Reading practice on a computer programme, in a small group.",
    )
    values.update(fields)
    item = LibraryProvision(school_id=school.id, name=name, **values)
    session.add(item)
    session.flush()
    return item


def group(session: Session, school: School, item, runner: Staff, *pupils: Pupil, **fields):
    """An intervention group of `item` run by `runner` (Tue/Thu 08:40 from 1 September 2026),
    each pupil a member from its first day."""
    from datetime import time

    from models import GroupMember, InterventionGroup

    values = dict(
        name=f"{item.name}, Year 7",
        weekdays="2,4",
        starts_at=time(8, 40),
        minutes=30,
        starts_on=date(2026, 9, 1),
    )
    values.update(fields)
    new_group = InterventionGroup(
        school_id=school.id, library_id=item.id, staff_id=runner.id, **values
    )
    new_group.members = [GroupMember(pupil_id=p.id, joined_on=new_group.starts_on) for p in pupils]
    session.add(new_group)
    session.flush()
    return new_group
