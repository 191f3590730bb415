"""On the synthetic school (`sspbot demo-data`): its teaching assistant, form tutor, head of year
and pastoral lead each see exactly the pupils the school's own records say they support,
worked out here in Python from the rows, not with bot.access's SQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from bot.access import Viewer, supported_pupil_ids
from bot.demo.school import create_demo_school
from bot.demo.slack_emulator import SlackEmulator
from models import (
    InterventionGroup,
    KeyAdult,
    Plan,
    PlanPerson,
    PlanPersonRole,
    PlanStatus,
    Pupil,
    Staff,
    StaffRole,
    TeachingGroup,
)
from tests.slack_harness import TODAY, start_app, text_of

ROLES = {
    "Teaching assistant": StaffRole.TEACHING_ASSISTANT,
    "Form tutor": StaffRole.FORM_TUTOR,
    "Head of year": StaffRole.HEAD_OF_YEAR,
    "Pastoral lead": StaffRole.PASTORAL,
}


def expected(session, member: Staff) -> set[int]:
    """The pupils on roll this member of staff supports, from the rows themselves."""
    pupils = [p for p in session.scalars(select(Pupil)) if p.is_active]
    found: set[int] = set()
    for group in session.scalars(select(TeachingGroup).where(TeachingGroup.is_active)):
        teaches = any(t.staff_id == member.id and t.is_active for t in group.teachers)
        supports = any(s.staff_id == member.id and s.is_active for s in group.support)
        if (teaches and StaffRole.TEACHER in member.roles) or supports:
            found |= {m.pupil_id for m in group.members if m.is_active}
    for person in session.scalars(select(PlanPerson).where(PlanPerson.staff_id == member.id)):
        plan = session.get(Plan, person.plan_id)
        if person.role == PlanPersonRole.DELIVERS and plan.status != PlanStatus.CLOSED:
            found.add(plan.pupil_id)
    for link in session.scalars(select(KeyAdult).where(KeyAdult.staff_id == member.id)):
        if link.ended_at is None:
            found.add(link.pupil_id)
    # The intervention groups they run: their pupils until they leave (or the group ends).
    for group in session.scalars(
        select(InterventionGroup).where(InterventionGroup.staff_id == member.id)
    ):
        found |= {m.pupil_id for m in group.members if m.left_on is None}
    forms = {s.form.lower() for s in member.scopes if s.form}
    years = {s.year_group for s in member.scopes if s.year_group is not None}
    houses = {s.house.lower() for s in member.scopes if s.house}
    for pupil in pupils:
        if (
            (StaffRole.FORM_TUTOR in member.roles and (pupil.form or "").lower() in forms)
            or (StaffRole.HEAD_OF_YEAR in member.roles and pupil.year_group in years)
            or (StaffRole.PASTORAL in member.roles and (pupil.house or "").lower() in houses)
        ):
            found.add(pupil.id)
    on_roll = {p.id for p in pupils}
    # A teacher's classes may still list a pupil who left; they see none of those either.
    return found & on_roll


@pytest.fixture
def demo(sessions):
    with SlackEmulator() as emulator:
        with sessions.begin() as session:
            summary = create_demo_school(
                session, name="Oakfield Academy (demo)", seed=11, pupils=240, today=TODAY
            )
            session.execute(
                text("UPDATE schools SET slack_team_id = :team"), {"team": emulator.team_id}
            )
            users = {u.role: u.slack_user_id for u in summary.demo_users}
            for slack_id in users.values():
                member = session.scalar(select(Staff).where(Staff.slack_user_id == slack_id))
                emulator.add_user(slack_id, email=member.email)
        app = start_app(emulator, sessions)
        yield app, users
        app.server.stop()


@pytest.mark.parametrize("role", sorted(ROLES))
def test_the_demo_school_supporter_sees_exactly_their_pupils(demo, role):
    app, users = demo
    with app.sessions() as session:
        member = session.scalar(select(Staff).where(Staff.slack_user_id == users[role]))
        assert ROLES[role] in member.roles
        viewer = Viewer(member.school_id, member.id, member.display_name, member.roles)
        theirs = expected(session, member)
        assert theirs, f"the demo's {role} supports nobody"
        assert set(session.scalars(supported_pupil_ids(viewer))) == theirs
        # Pupils with a plan someone else holds: this member of staff only supports them.
        with_plans = list(
            session.execute(
                select(Pupil.id, Pupil.upn)
                .join(Plan, Plan.pupil_id == Pupil.id)
                .where(
                    Plan.status == PlanStatus.ACTIVE,
                    Plan.case_holder_id != member.id,
                    Pupil.is_active,
                )
                .order_by(Pupil.id)
            )
        )
    seen = next(upn for pupil_id, upn in with_plans if pupil_id in theirs)
    unseen = next(upn for pupil_id, upn in with_plans if pupil_id not in theirs)
    shown = text_of(app.ask(users[role], f"pupil {seen}"))
    assert "the SENDCo and case holder see the whole plan" in shown
    refused = text_of(app.ask(users[role], f"pupil {unseen}"))
    nobody = text_of(app.ask(users[role], "pupil A999999999999"))
    assert refused.replace(unseen, "X") == nobody.replace("A999999999999", "X")
