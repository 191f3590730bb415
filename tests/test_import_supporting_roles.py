"""The staff CSV's form_groups, year_groups and houses columns and the new roles, and the classes
CSV's support_staff_emails, through `sspbot import` as a school runs it: all or nothing, every
bad line named."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Staff, StaffRole, TeachingGroup
from tests.test_import import (
    CLASSES_HEADER,
    PIP,
    PUPILS_HEADER,
    QUIN,
    RUE,
    SCHOOL,
    expect_rejected,
    snapshot,
    upn,
    write_csv,
)

HEADER = "Email,First Name,Last Name,Roles,Tutor Group,Years,House"
TUTOR = "t.tutor@oakfield.example,Tia,Tutor,Form tutor,7K;7m,,"
HOY = "h.year@oakfield.example,Hugo,Year,teacher;head of year,,Year 7; 8,"
PASTORAL = "p.care@oakfield.example,Pat,Care,pastoral,,,Brunel;Curie"
TA = "s.jones@oakfield.example,Sam,Jones,TA,,,"


@pytest.fixture
def school(run_cli) -> str:
    assert run_cli("school", "add", SCHOOL).code == 0
    return SCHOOL


def scopes(sessions) -> dict[str, tuple[set[StaffRole], set]]:
    with sessions() as session:
        return {
            member.email: (
                set(member.roles),
                {s.form or s.year_group or s.house for s in member.scopes},
            )
            for member in session.scalars(select(Staff))
        }


def test_form_tutors_heads_of_year_and_pastoral_staff_are_imported(
    run_cli, sessions, tmp_path, school
):
    path = write_csv(tmp_path, "staff.csv", HEADER, TUTOR, HOY, PASTORAL, TA)
    result = run_cli("import", "staff", str(path))
    assert result.code == 0, result
    assert scopes(sessions) == {
        "t.tutor@oakfield.example": ({StaffRole.FORM_TUTOR}, {"7K", "7m"}),
        "h.year@oakfield.example": ({StaffRole.TEACHER, StaffRole.HEAD_OF_YEAR}, {7, 8}),
        "p.care@oakfield.example": ({StaffRole.PASTORAL}, {"Brunel", "Curie"}),
        "s.jones@oakfield.example": ({StaffRole.TEACHING_ASSISTANT}, set()),
    }
    # The same file again changes nothing; a new year group is an update of one person.
    again = run_cli("import", "staff", str(path))
    assert "nothing changed" in again.out, again
    moved = HOY.replace("Year 7; 8", "9")
    path = write_csv(tmp_path, "staff.csv", HEADER, TUTOR, moved, PASTORAL, TA)
    changed = run_cli("import", "staff", str(path))
    assert "0 added, 1 updated, 3 unchanged" in changed.out, changed
    assert scopes(sessions)["h.year@oakfield.example"][1] == {9}
    # No longer a head of year: the year groups go with the role.
    path = write_csv(
        tmp_path,
        "staff.csv",
        HEADER,
        TUTOR,
        HOY.replace("head of year", "").replace("Year 7; 8", ""),
        PASTORAL,
        TA,
    )
    assert run_cli("import", "staff", str(path)).code == 0
    assert scopes(sessions)["h.year@oakfield.example"] == ({StaffRole.TEACHER}, set())


def test_bad_roles_and_scopes_reject_the_whole_file_naming_each_line(
    run_cli, sessions, tmp_path, school
):
    good = write_csv(tmp_path, "staff.csv", HEADER, TUTOR, HOY, PASTORAL, TA)
    assert run_cli("import", "staff", str(good)).code == 0
    before = snapshot(sessions)
    path = write_csv(
        tmp_path,
        "staff.csv",
        HEADER,
        TUTOR.replace("7K;7m", ""),  # line 2: a tutor with no form
        HOY.replace("Year 7; 8", "Year 20"),  # line 3: not a year group
        PASTORAL.replace("pastoral", "teacher"),  # line 4: houses without the role
        TA.replace(",,,", ",,8,"),  # line 5: year groups for a TA
        "x.long@oakfield.example,Xa,Long,form tutor," + "7" * 21 + ",,",  # line 6: too long
    )
    result = run_cli("import", "staff", str(path))
    expect_rejected(
        result,
        "line 2: form_tutor needs the forms they tutor, e.g. 7K;7M in the Tutor Group column",
        "line 3: Years 'Year 20' is not a year group (use R or Reception, or 1 to 14)",
        "line 4: House is only for a pastoral: add pastoral to Roles",
        "line 5: Years is only for a head_of_year: add head_of_year to Roles",
        "line 6: Tutor Group",
    )
    assert snapshot(sessions) == before


def test_a_class_names_its_support_staff(run_cli, sessions, tmp_path, school):
    staff = write_csv(
        tmp_path,
        "staff.csv",
        "email,first_name,last_name,roles",
        "a.teacher@oakfield.example,Alex,Teacher,teacher",
        "s.jones@oakfield.example,Sam,Jones,teaching assistant",
        "l.gone@oakfield.example,Lou,Gone,teaching assistant",
    )
    pupils = write_csv(tmp_path, "pupils.csv", PUPILS_HEADER, PIP, QUIN, RUE)
    for kind, path in (("staff", staff), ("pupils", pupils)):
        assert run_cli("import", kind, str(path)).code == 0
    header = CLASSES_HEADER + ",Support Staff"
    teacher = "a.teacher@oakfield.example"
    path = write_csv(
        tmp_path,
        "classes.csv",
        header,
        f"7X/Ma1,Maths,7,{teacher},{upn(1)},s.jones@oakfield.example",
        f"7X/Ma1,Maths,7,{teacher},{upn(3)},S.Jones@oakfield.example",
        f"8Y/En1,English,8,{teacher},{upn(2)},",
    )
    result = run_cli("import", "classes", str(path))
    assert result.code == 0, result

    def support() -> dict[str, dict[str, bool]]:
        with sessions() as session:
            return {
                group.code: {link.staff.email: link.is_active for link in group.support}
                for group in session.scalars(select(TeachingGroup))
            }

    assert support() == {"7X/Ma1": {"s.jones@oakfield.example": True}, "8Y/En1": {}}
    before = snapshot(sessions)
    bad = write_csv(
        tmp_path,
        "classes.csv",
        header,
        f"7X/Ma1,Maths,7,{teacher},{upn(1)},s.jones@oakfield.example",
        f"7X/Ma1,Maths,7,{teacher},{upn(3)},",  # line 3: not what line 2 says
        f"8Y/En1,English,8,{teacher},{upn(2)},nobody@oakfield.example",  # line 4: unknown
        f"8Y/En2,English,8,{teacher},{upn(2)},not-an-email",  # line 5
    )
    expect_rejected(
        run_cli("import", "classes", str(bad)),
        "line 3: class 7X/Ma1 has support staff (none) here but s.jones@oakfield.example on line 2",
        "line 4: no staff member with email nobody@oakfield.example in Oakfield Academy",
        "line 5: Support Staff 'not-an-email' is not an email address",
    )
    assert snapshot(sessions) == before
    # A file without the column keeps each class's support staff; with it, they follow it.
    plain = write_csv(
        tmp_path,
        "classes.csv",
        CLASSES_HEADER,
        f"7X/Ma1,Maths,7,{teacher},{upn(1)}",
        f"8Y/En1,English,8,{teacher},{upn(2)}",
    )
    assert run_cli("import", "classes", str(plain)).code == 0
    assert support()["7X/Ma1"] == {"s.jones@oakfield.example": True}
    moved = write_csv(
        tmp_path,
        "classes.csv",
        header,
        f"7X/Ma1,Maths,7,{teacher},{upn(1)},",
        f"8Y/En1,English,8,{teacher},{upn(2)},s.jones@oakfield.example;l.gone@oakfield.example",
    )
    assert run_cli("import", "classes", str(moved)).code == 0
    assert support() == {
        "7X/Ma1": {"s.jones@oakfield.example": False},
        "8Y/En1": {"s.jones@oakfield.example": True, "l.gone@oakfield.example": True},
    }
