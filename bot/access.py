"""Who may see which pupils (DESIGN.md §4). Every rule is a SQL predicate, so lists stay one query.

SENDCos and senior leaders see the whole school; a case holder sees the pupils whose plans they
hold; a teacher sees the pupils they teach; anyone else sees nothing. A person with several
roles sees the union. "Not allowed" and "not found" must look the same to the asker.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, or_, select

from models import (
    Plan,
    PlanStatus,
    Pupil,
    StaffRole,
    TeachingGroup,
    TeachingGroupPupil,
    TeachingGroupTeacher,
)


@dataclass(frozen=True)
class Viewer:
    """The member of staff behind a verified Slack request, in their school."""

    school_id: int
    staff_id: int
    name: str
    roles: frozenset[StaffRole]
    slack_user_id: str | None = None

    @property
    def sees_whole_school(self) -> bool:
        return bool(self.roles & {StaffRole.SENDCO, StaffRole.SENIOR_LEADER})

    @property
    def is_sendco(self) -> bool:
        return StaffRole.SENDCO in self.roles

    @property
    def is_case_holder(self) -> bool:
        return StaffRole.CASE_HOLDER in self.roles

    @property
    def is_teacher(self) -> bool:
        return StaffRole.TEACHER in self.roles

    @property
    def writes_plans(self) -> bool:
        """The SENDCo and case holders write plans, reviews and notes."""
        return self.is_sendco or self.is_case_holder

    @property
    def opens_plans(self) -> bool:
        """Who may open a whole plan: its writers, and senior leaders to read."""
        return self.writes_plans or self.sees_whole_school

    @property
    def sees_anything(self) -> bool:
        return self.sees_whole_school or self.is_case_holder or self.is_teacher

    def teaches_only(self, pupil_id: int, held_pupil_ids: set[int]) -> bool:
        """True when the viewer's only reason to see this pupil is teaching them.

        Teachers see what they need to teach the pupil (adjustments and targets), not the
        whole plan.
        """
        return not self.sees_whole_school and pupil_id not in held_pupil_ids


def visible_pupils(viewer: Viewer) -> ColumnElement[bool]:
    """A WHERE clause on Pupil selecting exactly the pupils this viewer may see."""
    in_school = Pupil.school_id == viewer.school_id
    if viewer.sees_whole_school:
        return in_school
    reasons = []
    if viewer.is_case_holder:
        reasons.append(Pupil.id.in_(held_pupil_ids(viewer)))
    if viewer.is_teacher:
        reasons.append(Pupil.id.in_(taught_pupil_ids(viewer)))
    if not reasons:
        return false()
    return in_school & or_(*reasons)


def visible_pupil_records(viewer: Viewer) -> ColumnElement[bool]:
    """A WHERE clause on Pupil: the pupils on roll this viewer may see (`visible_pupils`), and
    the pupils who have left whose record they still keep: the SENDCo and senior leaders, and
    the case holder of the pupil's plan while it is open (until it closes). A teacher no longer
    teaches a pupil who has left, so sees none, whatever the class lists still say. For looking
    a pupil up (`/ssp pupil`), not for lists of pupils to act on."""
    on_roll = Pupil.is_active.is_(True) & visible_pupils(viewer)
    left = (Pupil.school_id == viewer.school_id) & Pupil.is_active.is_(False)
    if viewer.sees_whole_school:
        return on_roll | left
    if viewer.is_case_holder:
        return on_roll | (left & Pupil.id.in_(held_pupil_ids(viewer)))
    return on_roll


def held_pupil_ids(viewer: Viewer):
    """Pupils whose open plan this viewer holds."""
    return select(Plan.pupil_id).where(
        Plan.school_id == viewer.school_id,
        Plan.case_holder_id == viewer.staff_id,
        Plan.status != PlanStatus.CLOSED,
    )


def taught_pupil_ids(viewer: Viewer):
    """Pupils in the viewer's current classes."""
    return (
        select(TeachingGroupPupil.pupil_id)
        .join(TeachingGroup, TeachingGroup.id == TeachingGroupPupil.group_id)
        .join(TeachingGroupTeacher, TeachingGroupTeacher.group_id == TeachingGroup.id)
        .where(
            TeachingGroup.school_id == viewer.school_id,
            TeachingGroup.is_active.is_(True),
            TeachingGroupPupil.is_active.is_(True),
            TeachingGroupTeacher.is_active.is_(True),
            TeachingGroupTeacher.staff_id == viewer.staff_id,
        )
    )
