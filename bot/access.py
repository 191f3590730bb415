"""Who may see which pupils (DESIGN.md §4). Every rule is a SQL predicate, so lists stay one query.

SENDCos and senior leaders see the whole school; a case holder sees the pupils whose plans they
hold. The people around the pupil see the pupils they support, and only what they need to
support them (a teacher's view, not the whole plan):
- a teacher: the pupils in their classes;
- a form tutor: their forms (Pupil.form); a head of year: their year groups; pastoral staff:
  their houses (Pupil.house); the forms, years and houses come from the staff CSV (StaffScope);
- anyone in one of those roles or a teaching assistant: the pupils in classes they support
  (classes CSV `support_staff_emails`), the pupils whose open plan names them as delivering it
  (PlanPerson "delivers" with their staff link; provision itself names people only in free
  text), the pupils the SENDCo linked them to as key adult (`/ssp support`), and the pupils in
  the intervention groups they run (`/ssp groups`), while on roll.
Anyone else sees nothing. A person with several roles sees the union. "Not allowed" and "not
found" must look the same to the asker.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, false, func, or_, select

from models import (
    GroupMember,
    InterventionGroup,
    KeyAdult,
    Plan,
    PlanPerson,
    PlanPersonRole,
    PlanStatus,
    Pupil,
    Staff,
    StaffRole,
    StaffScope,
    TeachingGroup,
    TeachingGroupPupil,
    TeachingGroupSupport,
    TeachingGroupTeacher,
)

# The roles of the people around the pupil: each sees the pupils they support, as a teacher
# sees the pupils they teach, and no more of the plan than a teacher does.
SUPPORTING_ROLES = frozenset(
    {
        StaffRole.TEACHER,
        StaffRole.TEACHING_ASSISTANT,
        StaffRole.FORM_TUTOR,
        StaffRole.HEAD_OF_YEAR,
        StaffRole.PASTORAL,
    }
)


@dataclass(frozen=True)
class Viewer:
    """The member of staff behind a verified Slack request, in their school."""

    school_id: int
    staff_id: int
    name: str
    roles: frozenset[StaffRole]
    slack_user_id: str | None = None

    @classmethod
    def of(cls, staff: Staff) -> Viewer:
        """The member of staff as they are in the database now, in their school."""
        return cls(
            school_id=staff.school_id,
            staff_id=staff.id,
            name=staff.display_name,
            roles=staff.roles,
            slack_user_id=staff.slack_user_id,
        )

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
    def supports_pupils(self) -> bool:
        """A teacher, teaching assistant, form tutor, head of year or pastoral member of staff."""
        return bool(self.roles & SUPPORTING_ROLES)

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
        return self.sees_whole_school or self.is_case_holder or self.supports_pupils

    def teaches_only(self, pupil_id: int, held_pupil_ids: set[int]) -> bool:
        """True when the viewer's only reason to see this pupil is supporting them (teaching
        them, supporting their class, tutoring their form, their year or house, key adult).

        They see what they need to support the pupil (adjustments and targets), not the whole
        plan: that is for the SENDCo, senior leaders and the case holder.
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
    if viewer.supports_pupils:
        reasons.append(supports(viewer))
    if not reasons:
        return false()
    return in_school & or_(*reasons)


def supports(viewer: Viewer) -> ColumnElement[bool]:
    """A WHERE clause on Pupil: the pupils this viewer supports, for every reason their roles
    give (see the module's docstring); false for someone in none of the supporting roles. Not
    limited to the viewer's school on its own: use with `Pupil.school_id` (as
    `visible_pupils` and `supported_pupil_ids` do)."""
    reasons: list[ColumnElement[bool]] = []
    if viewer.is_teacher:
        reasons.append(Pupil.id.in_(taught_pupil_ids(viewer)))
    if viewer.supports_pupils:
        linked = or_(
            Pupil.id.in_(supported_class_pupil_ids(viewer)),
            Pupil.id.in_(delivered_pupil_ids(viewer)),
            Pupil.id.in_(key_adult_pupil_ids(viewer)),
            Pupil.id.in_(group_pupil_ids(viewer)),
        )
        reasons.append(Pupil.is_active.is_(True) & linked)
    if StaffRole.FORM_TUTOR in viewer.roles:
        forms = _scopes(viewer, func.lower(StaffScope.form), StaffScope.form)
        reasons.append(Pupil.is_active.is_(True) & func.lower(Pupil.form).in_(forms))
    if StaffRole.HEAD_OF_YEAR in viewer.roles:
        years = _scopes(viewer, StaffScope.year_group, StaffScope.year_group)
        reasons.append(Pupil.is_active.is_(True) & Pupil.year_group.in_(years))
    if StaffRole.PASTORAL in viewer.roles:
        houses = _scopes(viewer, func.lower(StaffScope.house), StaffScope.house)
        reasons.append(Pupil.is_active.is_(True) & func.lower(Pupil.house).in_(houses))
    return or_(*reasons) if reasons else false()


def supported_pupil_ids(viewer: Viewer) -> Select:
    """The ids of the pupils this viewer supports, for every reason (taught, a class they
    support, a plan they deliver, key adult, their form, year group or house): one SELECT, to
    use as a subquery. Whole-school roles do not count here: a SENDCo who teaches gets the
    pupils they teach, not the school."""
    return select(Pupil.id).where(Pupil.school_id == viewer.school_id, supports(viewer))


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


def supported_class_pupil_ids(viewer: Viewer) -> Select:
    """Pupils in the current classes the viewer supports (named as support staff on a class)."""
    return (
        select(TeachingGroupPupil.pupil_id)
        .join(TeachingGroup, TeachingGroup.id == TeachingGroupPupil.group_id)
        .join(TeachingGroupSupport, TeachingGroupSupport.group_id == TeachingGroup.id)
        .where(
            TeachingGroup.school_id == viewer.school_id,
            TeachingGroup.is_active.is_(True),
            TeachingGroupPupil.is_active.is_(True),
            TeachingGroupSupport.is_active.is_(True),
            TeachingGroupSupport.staff_id == viewer.staff_id,
        )
    )


def delivered_pupil_ids(viewer: Viewer) -> Select:
    """Pupils whose open plan names the viewer (their staff record) among those delivering it."""
    return (
        select(Plan.pupil_id)
        .join(PlanPerson, PlanPerson.plan_id == Plan.id)
        .where(
            Plan.school_id == viewer.school_id,
            Plan.status != PlanStatus.CLOSED,
            PlanPerson.role == PlanPersonRole.DELIVERS,
            PlanPerson.staff_id == viewer.staff_id,
        )
    )


def group_pupil_ids(viewer: Viewer) -> Select:
    """Pupils in the intervention groups the viewer runs, until they leave: removing a pupil, or
    the group's end (by the SENDCo, or its last day passing: bot.services.groups.close_ended),
    sets `left_on`."""
    return (
        select(GroupMember.pupil_id)
        .join(InterventionGroup, InterventionGroup.id == GroupMember.group_id)
        .where(
            InterventionGroup.school_id == viewer.school_id,
            InterventionGroup.staff_id == viewer.staff_id,
            GroupMember.left_on.is_(None),
        )
    )


def key_adult_pupil_ids(viewer: Viewer) -> Select:
    """Pupils the viewer is key adult to (`/ssp support`), while the link is open."""
    return select(KeyAdult.pupil_id).where(
        KeyAdult.school_id == viewer.school_id,
        KeyAdult.staff_id == viewer.staff_id,
        KeyAdult.ended_at.is_(None),
    )


def _scopes(viewer: Viewer, value, column) -> Select:
    """One kind of the viewer's forms, year groups or houses (StaffScope), as a subquery."""
    return select(value).where(StaffScope.staff_id == viewer.staff_id, column.is_not(None))
