"""`sspbot import staff|pupils|classes`: MIS CSV exports into the roster, all or nothing.

Every import goes through the CLI, as a school would run it; the database is then read with a
fresh session. All names are synthetic.
"""

from __future__ import annotations

import codecs
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.services.csv_import import ImportRejected, Problem, squash
from bot.services.roster import (
    COLUMNS,
    ImportResult,
    is_valid_upn,
    upn_check_letter,
)
from models import (
    NeedCode,
    Pupil,
    SenStage,
    Staff,
    StaffRole,
    StaffRoleGrant,
    StaffScope,
    TeachingGroup,
    TeachingGroupPupil,
    TeachingGroupSupport,
    TeachingGroupTeacher,
)

SCHOOL = "Oakfield Academy"
ROSTER_TABLES = [
    Staff.__table__,
    StaffRoleGrant.__table__,
    Pupil.__table__,
    TeachingGroup.__table__,
    TeachingGroupTeacher.__table__,
    TeachingGroupPupil.__table__,
    StaffScope.__table__,
    TeachingGroupSupport.__table__,
]


# --- helpers --------------------------------------------------------------------------------


def upn(serial: int) -> str:
    """A valid synthetic UPN (LA 801, establishment 2000, year 25)."""
    tail = f"801200025{serial:03d}"
    return upn_check_letter(tail) + tail


def wrong_check_letter(valid: str) -> str:
    letter = "B" if valid[0] != "B" else "C"
    return letter + valid[1:]


def write_csv(
    directory: Path,
    name: str,
    *lines: str,
    bom: bool = False,
    crlf: bool = False,
    encoding: str = "utf-8",
) -> Path:
    """Writes the lines as a file, the way Excel or a MIS might: optional BOM and CRLF."""
    newline = "\r\n" if crlf else "\n"
    data = (newline.join(lines) + newline).encode(encoding)
    path = directory / name
    path.write_bytes((codecs.BOM_UTF8 if bom else b"") + data)
    return path


def snapshot(sessions: sessionmaker[Session]) -> dict[str, list[tuple]]:
    """Every roster row, column by column, to prove an import wrote nothing."""
    with sessions() as session:
        return {
            table.name: [
                tuple(row)
                for row in session.execute(select(table).order_by(*table.primary_key.columns)).all()
            ]
            for table in ROSTER_TABLES
        }


def staff_by_email(session: Session) -> dict[str, Staff]:
    return {member.email: member for member in session.scalars(select(Staff))}


def pupils_by_upn(session: Session) -> dict[str, Pupil]:
    return {pupil.upn: pupil for pupil in session.scalars(select(Pupil))}


def class_links(session: Session, code: str) -> tuple[dict[str, bool], dict[str, bool]]:
    """A class's teachers (email -> link active) and pupils (UPN -> link active)."""
    group = session.scalars(select(TeachingGroup).where(TeachingGroup.code == code)).one()
    return (
        {link.staff.email: link.is_active for link in group.teachers},
        {link.pupil.upn: link.is_active for link in group.members},
    )


def expect_rejected(result, *problems: str) -> None:
    """Exit 1 and every expected "line N: reason" in the message."""
    assert result.code == 1, result
    assert result.err.startswith("sspbot: "), result
    assert "was not imported" in result.err
    for problem in problems:
        assert f"  {problem}" in result.err, result


STAFF_HEADER = "email,first_name,last_name,title,staff_code,roles,department"
ALEX = "a.teacher@oakfield.example,Alex,Teacher,Mr,ATE,teacher,Maths"
BEA = "b.sendco@oakfield.example,Bea,Sendco,Ms,BSE,sendco;case_holder,Inclusion"
CAL = "c.assistant@oakfield.example,Cal,Assistant,,,teaching assistant,Inclusion"

PUPILS_HEADER = "upn,first_name,last_name,date_of_birth,year_group,sen_stage,primary_need"
PIP = f"{upn(1)},Pip,Apple,2013-09-01,7,K,SpLD"
QUIN = f"{upn(2)},Quin,Birch,2012-10-02,8,N,"
RUE = f"{upn(3)},Rue,Cedar,2014-01-03,6,E,ASD"

CLASSES_HEADER = "class_code,subject,year_group,teacher_emails,upn"
MATHS_PIP = f"7X/Ma1,Maths,7,a.teacher@oakfield.example,{upn(1)}"
MATHS_RUE = f"7X/Ma1,Maths,7,a.teacher@oakfield.example,{upn(3)}"
ENGLISH_QUIN = (
    f'8Y/En1,English,8,"a.teacher@oakfield.example, c.assistant@oakfield.example",{upn(2)}'
)


@pytest.fixture
def school(run_cli) -> str:
    assert run_cli("school", "add", SCHOOL).code == 0
    return SCHOOL


@pytest.fixture
def roster(run_cli, tmp_path: Path, school: str) -> dict[str, Path]:
    """The school with three staff, three pupils and two classes imported."""
    files = {
        "staff": write_csv(tmp_path, "staff.csv", STAFF_HEADER, ALEX, BEA, CAL),
        "pupils": write_csv(tmp_path, "pupils.csv", PUPILS_HEADER, PIP, QUIN, RUE),
        "classes": write_csv(
            tmp_path, "classes.csv", CLASSES_HEADER, MATHS_PIP, MATHS_RUE, ENGLISH_QUIN
        ),
    }
    for kind, path in files.items():
        result = run_cli("import", kind, str(path))
        assert result.code == 0, result
    return files


# --- importing each kind --------------------------------------------------------------------


def test_staff_import_with_mis_headers_bom_and_crlf(run_cli, sessions, tmp_path, school):
    path = write_csv(
        tmp_path,
        "staff.csv",
        "Email Address,Legal Forename,Legal Surname,Title,Staff Code,Role,Dept,Slack ID,Phone",
        "A.Teacher@Oakfield.example , Alex ,Teacher,Mr,ATE,Teacher,Maths,U012AB3CD,0123",
        'b.sendco@oakfield.example,Bea,Sendco,Ms,BSE,"SENCO, SLT, case holder",Inclusion,,',
        "c.assistant@oakfield.example,Cal,Assistant,,,TA,,,",
        bom=True,
        crlf=True,
    )

    result = run_cli("import", "staff", str(path))

    assert result.code == 0, result
    assert result.out.strip() == (
        "Imported 3 staff into Oakfield Academy: 3 added, 0 updated, 0 unchanged, 0 marked as left."
    )
    with sessions() as session:
        staff = staff_by_email(session)
        assert set(staff) == {
            "a.teacher@oakfield.example",
            "b.sendco@oakfield.example",
            "c.assistant@oakfield.example",
        }
        alex = staff["a.teacher@oakfield.example"]
        assert (alex.first_name, alex.last_name, alex.title) == ("Alex", "Teacher", "Mr")
        assert (alex.staff_code, alex.department, alex.slack_user_id) == (
            "ATE",
            "Maths",
            "U012AB3CD",
        )
        assert alex.roles == {StaffRole.TEACHER}
        assert alex.is_active and alex.left_on is None
        assert staff["b.sendco@oakfield.example"].roles == {
            StaffRole.SENDCO,
            StaffRole.SENIOR_LEADER,
            StaffRole.CASE_HOLDER,
        }
        cal = staff["c.assistant@oakfield.example"]
        assert cal.roles == {StaffRole.TEACHING_ASSISTANT}
        assert (cal.title, cal.department, cal.slack_user_id) == (None, None, None)


def test_pupil_import_with_dfe_codes_aliases_and_uk_dates(run_cli, sessions, tmp_path, school):
    path = write_csv(
        tmp_path,
        "pupils.csv",
        "UPN,Legal Forename,Legal Surname,Preferred Forename,DOB,NC Year,Reg Group,House,"
        "SEN Provision,Primary Need,Secondary Need,EAL,PP,CLA,Young Carer,Medical,Other,"
        "Taught In Year Group",
        f"{upn(1).lower()},Pip,Apple,Pippa,01/09/2013,Year 7,7AB,Ash,SEN Support,spld,"
        "slcn,yes,Y,0,false,1,Uses a laptop,",
        "",
        f" {upn(2)} ,Quin,Birch,,2019-10-02,Reception,RA,,No SEN,,,,,,,,,no",
        f"{upn(3)},Rue,Cedar,,3/1/2012,Y8,8CD,,E,ASD,,n,n,yes,y,no,,",
        f"{upn(4)},Sol,Dune,,2012-05-06,8,8CD,,N,MLD,,,,,,,,",
        bom=True,
        crlf=True,
    )

    result = run_cli("import", "pupils", str(path))

    assert result.code == 0, result
    assert "4 pupils into Oakfield Academy: 4 added" in result.out
    with sessions() as session:
        pupils = pupils_by_upn(session)
        assert set(pupils) == {upn(1), upn(2), upn(3), upn(4)}
        pip = pupils[upn(1)]
        assert (pip.first_name, pip.last_name, pip.preferred_name) == ("Pip", "Apple", "Pippa")
        assert pip.date_of_birth == date(2013, 9, 1)
        assert (pip.year_group, pip.form, pip.house) == (7, "7AB", "Ash")
        assert pip.sen_stage is SenStage.SEN_SUPPORT
        assert (pip.primary_need, pip.secondary_need) == (NeedCode.SPLD, NeedCode.SLCN)
        assert (pip.eal, pip.pupil_premium, pip.child_in_care) == (True, True, False)
        assert (pip.young_carer, pip.medical_need) == (False, True)
        assert pip.other_information == "Uses a laptop"
        assert pip.taught_in_year_group is True  # empty means the default, yes

        quin = pupils[upn(2)]
        assert (quin.year_group, quin.sen_stage, quin.primary_need) == (0, SenStage.NONE, None)
        assert quin.taught_in_year_group is False
        assert quin.preferred_name is None and quin.house is None

        rue = pupils[upn(3)]
        assert rue.date_of_birth == date(2012, 1, 3)
        assert (rue.year_group, rue.sen_stage, rue.primary_need) == (
            8,
            SenStage.EHC_PLAN,
            NeedCode.ASD,
        )
        assert (rue.child_in_care, rue.young_carer) == (True, True)

        # Schools record needs for pupils on a monitoring list, before any SEN stage.
        sol = pupils[upn(4)]
        assert (sol.sen_stage, sol.primary_need) == (SenStage.NONE, NeedCode.MLD)


def test_class_import_links_teachers_and_pupils(run_cli, sessions, roster):
    with sessions() as session:
        groups = {g.code: g for g in session.scalars(select(TeachingGroup))}
        assert set(groups) == {"7X/Ma1", "8Y/En1"}
        assert (groups["7X/Ma1"].subject, groups["7X/Ma1"].year_group) == ("Maths", 7)
        assert class_links(session, "7X/Ma1") == (
            {"a.teacher@oakfield.example": True},
            {upn(1): True, upn(3): True},
        )
        assert class_links(session, "8Y/En1") == (
            {"a.teacher@oakfield.example": True, "c.assistant@oakfield.example": True},
            {upn(2): True},
        )


def test_class_import_accepts_mis_headers_and_any_email_case(run_cli, sessions, tmp_path, roster):
    path = write_csv(
        tmp_path,
        "class-list.csv",
        "Teaching Group,Subject,Year,Teachers,Unique Pupil Number",
        f"9Z/Sc1,Science,Year 9,A.Teacher@OAKFIELD.example;b.sendco@oakfield.example,{upn(2)}",
        f"9Z/Sc1,Science,Y9,b.sendco@oakfield.example;a.teacher@oakfield.example,{upn(1)}",
    )

    result = run_cli("import", "classes", str(path))

    assert result.code == 0, result
    assert "1 class into Oakfield Academy: 1 added" in result.out
    assert "2 marked inactive" in result.out
    with sessions() as session:
        assert class_links(session, "9Z/Sc1") == (
            {"a.teacher@oakfield.example": True, "b.sendco@oakfield.example": True},
            {upn(1): True, upn(2): True},
        )


# --- re-imports, updates, leavers -----------------------------------------------------------


def test_reimporting_the_same_files_changes_nothing(run_cli, sessions, roster):
    before = snapshot(sessions)

    for kind, noun in (("staff", "3 staff"), ("pupils", "3 pupils"), ("classes", "2 classes")):
        result = run_cli("import", kind, str(roster[kind]))
        assert result.code == 0, result
        assert result.out.strip() == f"Imported {noun} into Oakfield Academy: nothing changed."

    assert snapshot(sessions) == before  # not even updated_at moves


def test_staff_update_by_email_marks_leavers_and_welcomes_them_back(
    run_cli, sessions, tmp_path, roster
):
    changed = write_csv(
        tmp_path,
        "staff-spring.csv",
        STAFF_HEADER,
        "A.TEACHER@oakfield.example,Alex,Teacher-Jones,Mx,ATE,teacher;case_holder,Maths",
        BEA,
    )

    result = run_cli("import", "staff", str(changed))

    assert result.code == 0, result
    assert "2 staff into Oakfield Academy: 0 added, 1 updated, 1 unchanged, 1 marked as left" in (
        result.out
    )
    with sessions() as session:
        staff = staff_by_email(session)
        assert len(staff) == 3  # the leaver is kept, not deleted
        alex = staff["a.teacher@oakfield.example"]
        assert (alex.last_name, alex.title) == ("Teacher-Jones", "Mx")
        assert alex.roles == {StaffRole.TEACHER, StaffRole.CASE_HOLDER}
        cal = staff["c.assistant@oakfield.example"]
        assert (cal.is_active, cal.left_on) == (False, date.today())
        assert cal.roles == {StaffRole.TEACHING_ASSISTANT}

    result = run_cli("import", "staff", str(roster["staff"]))

    assert result.code == 0, result
    assert "1 updated, 1 unchanged, 1 back after leaving, 0 marked as left" in result.out
    with sessions() as session:
        cal = staff_by_email(session)["c.assistant@oakfield.example"]
        assert (cal.is_active, cal.left_on) == (True, None)


def test_staff_file_without_a_column_leaves_that_field_alone(run_cli, sessions, tmp_path, roster):
    path = write_csv(
        tmp_path,
        "staff-names-only.csv",
        "email,first_name,last_name",
        "a.teacher@oakfield.example,Alex,Teacher",
        "b.sendco@oakfield.example,Bea,Sendco",
        "c.assistant@oakfield.example,Cal,Assistant",
    )

    result = run_cli("import", "staff", str(path))

    assert "nothing changed" in result.out, result
    with sessions() as session:
        bea = staff_by_email(session)["b.sendco@oakfield.example"]
        assert bea.roles == {StaffRole.SENDCO, StaffRole.CASE_HOLDER}
        assert bea.department == "Inclusion"


def test_a_slack_id_given_to_someone_else_moves_to_them(run_cli, sessions, tmp_path, school):
    header = "email,first_name,last_name,slack_user_id"
    first = write_csv(
        tmp_path,
        "staff.csv",
        header,
        "a.teacher@oakfield.example,Alex,Teacher,U0AAAAAAA",
        "b.sendco@oakfield.example,Bea,Sendco,U0BBBBBBB",
    )
    swapped = write_csv(
        tmp_path,
        "staff-swapped.csv",
        header,
        "a.teacher@oakfield.example,Alex,Teacher,U0BBBBBBB",
        "b.sendco@oakfield.example,Bea,Sendco,U0AAAAAAA",
    )
    assert run_cli("import", "staff", str(first)).code == 0

    result = run_cli("import", "staff", str(swapped))

    assert result.code == 0, result
    assert "2 updated" in result.out
    with sessions() as session:
        staff = staff_by_email(session)
        assert staff["a.teacher@oakfield.example"].slack_user_id == "U0BBBBBBB"
        assert staff["b.sendco@oakfield.example"].slack_user_id == "U0AAAAAAA"


def test_pupil_update_by_upn_marks_leavers_and_welcomes_them_back(
    run_cli, sessions, tmp_path, roster
):
    changed = write_csv(
        tmp_path,
        "pupils-spring.csv",
        PUPILS_HEADER,
        f"{upn(1)},Pip,Apple,2013-09-01,7,E,SpLD",
        QUIN,
        f"{upn(4)},Sol,Dune,2012-05-06,8,K,MLD",
    )

    result = run_cli("import", "pupils", str(changed))

    assert result.code == 0, result
    assert "3 pupils into Oakfield Academy: 1 added, 1 updated, 1 unchanged, 1 marked as left" in (
        result.out
    )
    with sessions() as session:
        pupils = pupils_by_upn(session)
        assert pupils[upn(1)].sen_stage is SenStage.EHC_PLAN
        assert (pupils[upn(3)].is_active, pupils[upn(3)].left_on) == (False, date.today())
        assert pupils[upn(4)].is_active

    result = run_cli("import", "pupils", str(roster["pupils"]))

    assert result.code == 0, result
    assert "1 back after leaving, 1 marked as left" in result.out
    with sessions() as session:
        pupils = pupils_by_upn(session)
        assert (pupils[upn(3)].is_active, pupils[upn(3)].left_on) == (True, None)
        assert (pupils[upn(4)].is_active, pupils[upn(4)].left_on) == (False, date.today())


def test_class_update_deactivates_links_and_classes_never_deletes(
    run_cli, sessions, tmp_path, roster
):
    changed = write_csv(
        tmp_path,
        "classes-spring.csv",
        CLASSES_HEADER,
        f"7X/Ma1,Maths,7,b.sendco@oakfield.example;a.teacher@oakfield.example,{upn(1)}",
    )

    result = run_cli("import", "classes", str(changed))

    assert result.code == 0, result
    assert "1 class into Oakfield Academy: 0 added, 1 updated, 0 unchanged, 1 marked inactive" in (
        result.out
    )
    with sessions() as session:
        assert class_links(session, "7X/Ma1") == (
            {"a.teacher@oakfield.example": True, "b.sendco@oakfield.example": True},
            {upn(1): True, upn(3): False},
        )
        english = session.scalars(select(TeachingGroup).where(TeachingGroup.code == "8Y/En1"))
        assert english.one().is_active is False
        assert class_links(session, "8Y/En1") == (
            {"a.teacher@oakfield.example": False, "c.assistant@oakfield.example": False},
            {upn(2): False},
        )

    result = run_cli("import", "classes", str(roster["classes"]))

    assert result.code == 0, result
    assert "1 updated, 0 unchanged, 1 active again, 0 marked inactive" in result.out
    with sessions() as session:
        assert class_links(session, "7X/Ma1") == (
            {"a.teacher@oakfield.example": True, "b.sendco@oakfield.example": False},
            {upn(1): True, upn(3): True},
        )
        assert class_links(session, "8Y/En1") == (
            {"a.teacher@oakfield.example": True, "c.assistant@oakfield.example": True},
            {upn(2): True},
        )


# --- bad rows: the whole file is rejected and nothing is written ----------------------------

NEW_STAFF = "d.new@oakfield.example,Dee,Newton,,,teacher,"
ALEX_MOVED = "a.teacher@oakfield.example,Alex,Teacher,Mr,ATE,teacher,Science"
NEW_PUPIL = f"{upn(5)},Tam,Elm,2013-02-02,7,N,"
PIP_CHANGED = f"{upn(1)},Pip,Apple,2013-09-01,7,N,"
NEW_CLASS_ROW = f"9Z/Sc1,Science,9,b.sendco@oakfield.example,{upn(2)}"

# Each file keeps some rows, changes one, adds one, drops one and has one bad row: if any of
# that reached the database, the snapshot would differ.
BAD_FILES = [
    pytest.param(
        "staff",
        ["email,first_name,title,roles", "a.teacher@oakfield.example,Alex,Mr,teacher"],
        ["line 1: missing column 'last_name' (also accepted: surname, legal surname"],
        id="staff-missing-column",
    ),
    pytest.param(
        "staff",
        [STAFF_HEADER, ALEX_MOVED, NEW_STAFF, "e.blank@oakfield.example,,Blank,,,,"],
        ["line 4: first_name is empty"],
        id="staff-empty-required-field",
    ),
    pytest.param(
        "staff",
        [STAFF_HEADER, ALEX_MOVED, NEW_STAFF, "e.hoy@oakfield.example,Eli,Hoy,,,Caretaker,"],
        ["line 4: roles 'Caretaker' is not a role we know"],
        id="staff-unknown-role",
    ),
    pytest.param(
        "staff",
        [STAFF_HEADER, ALEX_MOVED, NEW_STAFF, "e.hoy at oakfield,Eli,Hoy,,,,"],
        ["line 4: email 'e.hoy at oakfield' is not an email address"],
        id="staff-bad-email",
    ),
    pytest.param(
        "staff",
        [STAFF_HEADER, ALEX_MOVED, NEW_STAFF, "A.Teacher@oakfield.example,Al,Teacher,,,,"],
        ["line 4: email a.teacher@oakfield.example appears more than once (first on line 2)"],
        id="staff-duplicate-email",
    ),
    pytest.param(
        "pupils",
        ["upn,first_name,last_name,year_group", f"{upn(1)},Pip,Apple,7"],
        ["line 1: missing column 'date_of_birth' (also accepted: dob, birth date)"],
        id="pupils-missing-column",
    ),
    pytest.param(
        "pupils",
        [PUPILS_HEADER, PIP_CHANGED, NEW_PUPIL, f"{upn(6)},Uma,Fir,,7,N,"],
        ["line 4: date_of_birth is empty"],
        id="pupils-empty-required-field",
    ),
    pytest.param(
        "pupils",
        [PUPILS_HEADER, PIP_CHANGED, NEW_PUPIL, f"{upn(6)},Uma,Fir,31/02/2012,7,N,"],
        [
            "line 4: date_of_birth '31/02/2012' is not a date (use YYYY-MM-DD or DD/MM/YYYY)",
        ],
        id="pupils-bad-date",
    ),
    pytest.param(
        "pupils",
        [PUPILS_HEADER, PIP_CHANGED, NEW_PUPIL, f"{upn(6)},Uma,Fir,2012-02-02,7,K,ADHD"],
        ["line 4: primary_need 'ADHD' is not a DfE need code (use one of SpLD, MLD"],
        id="pupils-unknown-need",
    ),
    pytest.param(
        "pupils",
        [PUPILS_HEADER, PIP_CHANGED, NEW_PUPIL, f"{upn(6)},Uma,Fir,2012-02-02,7,A,"],
        ["line 4: sen_stage 'A' is not a SEN stage (use the DfE codes N, K or E"],
        id="pupils-unknown-sen-stage",
    ),
    pytest.param(
        "pupils",
        [
            PUPILS_HEADER,
            PIP_CHANGED,
            NEW_PUPIL,
            f"{wrong_check_letter(upn(6))},Uma,Fir,2012-02-02,7,N,",
        ],
        [f"line 4: upn '{wrong_check_letter(upn(6))}' has the wrong check letter"],
        id="pupils-bad-upn-check-letter",
    ),
    pytest.param(
        "pupils",
        [PUPILS_HEADER, PIP_CHANGED, NEW_PUPIL, "A12345,Uma,Fir,2012-02-02,7,N,"],
        ["line 4: upn 'A12345' is not a UPN (13 characters"],
        id="pupils-malformed-upn",
    ),
    pytest.param(
        "pupils",
        [PUPILS_HEADER, PIP_CHANGED, NEW_PUPIL, f"{upn(5)},Tam,Elm,2013-02-02,7,N,"],
        [f"line 4: UPN {upn(5)} appears more than once (first on line 3)"],
        id="pupils-duplicate-upn",
    ),
    pytest.param(
        "pupils",
        [PUPILS_HEADER, PIP_CHANGED, NEW_PUPIL, f"{upn(6)},Uma,Fir,2012-02-02,Year 15,N,"],
        ["line 4: year_group 'Year 15' is not a year group"],
        id="pupils-bad-year-group",
    ),
    pytest.param(
        "pupils",
        [
            PUPILS_HEADER + ",secondary_need",
            PIP_CHANGED + ",",
            NEW_PUPIL + ",",
            f"{upn(6)},Uma,Fir,2012-02-02,7,K,,SEMH",
            f"{upn(7)},Val,Gum,2012-02-02,7,K,SEMH,semh",
        ],
        [
            "line 4: secondary_need is given without a primary need",
            "line 5: secondary_need is the same as the primary need",
        ],
        id="pupils-bad-secondary-need",
    ),
    pytest.param(
        "classes",
        ["class_code,subject,upn", f"7X/Ma1,Maths,{upn(1)}"],
        ["line 1: missing column 'teacher_emails'"],
        id="classes-missing-column",
    ),
    pytest.param(
        "classes",
        [
            CLASSES_HEADER,
            MATHS_PIP,
            NEW_CLASS_ROW,
            f"9Z/Sc2,Science,9,x.nobody@oakfield.example,{upn(1)}",
        ],
        [
            "line 4: no staff member with email x.nobody@oakfield.example in Oakfield Academy; "
            "import staff first"
        ],
        id="classes-unknown-teacher",
    ),
    pytest.param(
        "classes",
        [
            CLASSES_HEADER,
            MATHS_PIP,
            NEW_CLASS_ROW,
            f"9Z/Sc1,Science,9,b.sendco@oakfield.example,{upn(9)}",
        ],
        [f"line 4: no pupil with UPN {upn(9)} in Oakfield Academy; import pupils first"],
        id="classes-unknown-pupil",
    ),
    pytest.param(
        "classes",
        [
            CLASSES_HEADER,
            MATHS_PIP,
            NEW_CLASS_ROW,
            f"9Z/Sc1,Physics,9,b.sendco@oakfield.example,{upn(1)}",
        ],
        ["line 4: class 9Z/Sc1 has subject 'Physics' here but 'Science' on line 3"],
        id="classes-inconsistent-subject",
    ),
    pytest.param(
        "classes",
        [
            CLASSES_HEADER,
            MATHS_PIP,
            NEW_CLASS_ROW,
            f"9Z/Sc1,Science,9,a.teacher@oakfield.example,{upn(1)}",
        ],
        [
            "line 4: class 9Z/Sc1 has teachers a.teacher@oakfield.example here "
            "but b.sendco@oakfield.example on line 3"
        ],
        id="classes-inconsistent-teachers",
    ),
    pytest.param(
        "classes",
        [CLASSES_HEADER, MATHS_PIP, NEW_CLASS_ROW, NEW_CLASS_ROW],
        [f"line 4: UPN {upn(2)} is listed in class 9Z/Sc1 twice (first on line 3)"],
        id="classes-duplicate-pupil",
    ),
]


@pytest.mark.parametrize(("kind", "lines", "problems"), BAD_FILES)
def test_a_bad_row_rejects_the_whole_file(
    run_cli, sessions, tmp_path, roster, kind, lines, problems
):
    before = snapshot(sessions)
    path = write_csv(tmp_path, f"{kind}-new.csv", *lines)

    result = run_cli("import", kind, str(path))

    expect_rejected(result, *problems)
    count = len(problems)
    assert f"{kind}-new.csv was not imported ({count} problem{'s' if count > 1 else ''};" in (
        result.err
    )
    assert snapshot(sessions) == before


def test_classes_cannot_name_someone_who_has_left(run_cli, sessions, tmp_path, roster):
    without_cal = write_csv(tmp_path, "staff-spring.csv", STAFF_HEADER, ALEX, BEA)
    assert run_cli("import", "staff", str(without_cal)).code == 0
    before = snapshot(sessions)

    result = run_cli("import", "classes", str(roster["classes"]))

    expect_rejected(
        result,
        "line 4: c.assistant@oakfield.example is marked as left in Oakfield Academy; "
        "import an up-to-date staff file first",
    )
    assert snapshot(sessions) == before


def test_every_bad_line_is_listed_in_one_message(run_cli, sessions, tmp_path, school):
    path = write_csv(
        tmp_path,
        "pupils.csv",
        PUPILS_HEADER,
        PIP,
        f"{upn(2)},Quin,Birch,31/02/2012,8,N,",
        "",
        f"{upn(3)},Rue,Cedar,2014-01-03,6,E,XYZ",
        QUIN,
        f"{upn(4)},,Dune,2012-05-06,8,N,",
    )

    result = run_cli("import", "pupils", str(path))

    assert result.code == 1
    assert result.err == (
        "sspbot: pupils.csv was not imported (4 problems; nothing was changed):\n"
        "  line 3: date_of_birth '31/02/2012' is not a date (use YYYY-MM-DD or DD/MM/YYYY)\n"
        "  line 5: primary_need 'XYZ' is not a DfE need code (use one of SpLD, MLD, SLD, PMLD, "
        "SEMH, SLCN, HI, VI, MSI, PD, ASD, OTH, NSA)\n"
        f"  line 6: UPN {upn(2)} appears more than once (first on line 3)\n"
        "  line 7: first_name is empty\n"
    )
    assert snapshot(sessions) == {table.name: [] for table in ROSTER_TABLES}


def test_a_missing_column_is_reported_once_against_the_header(run_cli, tmp_path, school):
    path = write_csv(
        tmp_path,
        "pupils.csv",
        "Legal Forename,Legal Surname,DOB,Year",
        "Pip,Apple,2013-09-01,7",
        "Quin,Birch,2012-10-02,8",
    )

    result = run_cli("import", "pupils", str(path))

    assert result.code == 1
    assert result.err.count("line ") == 1
    assert "(1 problem; nothing was changed)" in result.err
    assert "line 1: missing column 'upn'" in result.err


def test_messages_never_show_pupil_names(run_cli, tmp_path, school):
    path = write_csv(
        tmp_path,
        "pupils.csv",
        PUPILS_HEADER,
        f"{upn(1)},Zephyrine,Quillfeather,2013-13-01,7,K,ADHD",
    )

    result = run_cli("import", "pupils", str(path))

    assert result.code == 1
    assert "Zephyrine" not in result.err and "Quillfeather" not in result.err


# --- files and schools ----------------------------------------------------------------------


def test_school_is_needed_only_when_there_are_several(run_cli, sessions, tmp_path, school):
    path = write_csv(tmp_path, "staff.csv", STAFF_HEADER, ALEX)
    assert run_cli("school", "add", "Birchwood Primary").code == 0

    ambiguous = run_cli("import", "staff", str(path))
    chosen = run_cli("import", "staff", str(path), "--school", "birchwood primary")

    assert ambiguous.code == 1
    assert "say which with --school NAME" in ambiguous.err
    assert chosen.code == 0, chosen
    assert "Imported 1 staff into Birchwood Primary: 1 added" in chosen.out
    with sessions() as session:
        assert [m.school.name for m in session.scalars(select(Staff))] == ["Birchwood Primary"]


def test_with_one_school_no_school_option_is_needed(run_cli, tmp_path, school):
    path = write_csv(tmp_path, "staff.csv", STAFF_HEADER, ALEX)

    result = run_cli("import", "staff", str(path))

    assert result.code == 0, result
    assert "into Oakfield Academy" in result.out


def test_a_missing_file_is_one_clear_line(run_cli, tmp_path, school):
    result = run_cli("import", "pupils", str(tmp_path / "nowhere.csv"))

    assert result.code == 1
    assert result.err == f"sspbot: There is no file at {tmp_path / 'nowhere.csv'}.\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b"", "pupils.csv is empty", id="empty"),
        pytest.param(b"\r\n \r\n", "pupils.csv is empty", id="blank-lines-only"),
        pytest.param(
            codecs.BOM_UTF8 + PUPILS_HEADER.encode() + b"\r\n",
            "pupils.csv has a header row but no pupils, so nothing was imported",
            id="header-only",
        ),
        pytest.param(
            b"PK\x03\x04\x14\x00\x06\x00", "pupils.csv is an Excel workbook, not a CSV", id="xlsx"
        ),
        pytest.param(
            b"upn,first_name\n\x81\x8d\x8f,\x90\x9d\n",
            "pupils.csv is not a readable CSV file",
            id="not-text",
        ),
    ],
)
def test_unusable_files_are_clear_errors(run_cli, sessions, tmp_path, school, content, message):
    path = tmp_path / "pupils.csv"
    path.write_bytes(content)

    result = run_cli("import", "pupils", str(path))

    assert result.code == 1
    assert result.err.startswith(f"sspbot: {message}"), result
    assert result.err.count("\n") == 1
    assert snapshot(sessions)["pupils"] == []


def test_a_windows_1252_file_is_read(run_cli, sessions, tmp_path, school):
    path = write_csv(
        tmp_path,
        "staff.csv",
        "email,first_name,last_name",
        "z.lefevre@oakfield.example,Zoë,Lefèvre",
        encoding="cp1252",
    )

    result = run_cli("import", "staff", str(path))

    assert result.code == 0, result
    with sessions() as session:
        zoe = staff_by_email(session)["z.lefevre@oakfield.example"]
        assert (zoe.first_name, zoe.last_name) == ("Zoë", "Lefèvre")


def test_a_semicolon_separated_export_is_read(run_cli, sessions, tmp_path, school):
    path = write_csv(
        tmp_path,
        "staff.csv",
        "email;first_name;last_name;roles",
        "a.teacher@oakfield.example;Alex;Teacher;teacher",
    )

    result = run_cli("import", "staff", str(path))

    assert result.code == 0, result
    with sessions() as session:
        assert staff_by_email(session)["a.teacher@oakfield.example"].roles == {StaffRole.TEACHER}


def test_an_unquoted_comma_is_a_bad_row_not_a_shifted_one(run_cli, tmp_path, roster):
    path = write_csv(
        tmp_path,
        "classes.csv",
        CLASSES_HEADER,
        MATHS_PIP,
        f"8Y/En1,English,8,a.teacher@oakfield.example, c.assistant@oakfield.example,{upn(2)}",
    )

    result = run_cli("import", "classes", str(path))

    expect_rejected(
        result,
        "line 3: has 6 values but the header has 5 columns "
        "(put quotes around a value that contains a comma)",
    )


# --- the parts that need no database --------------------------------------------------------


def test_upn_check_letter_follows_the_dfe_algorithm():
    # The example published with python-stdnum's gb.upn module.
    assert upn_check_letter("801200005001") == "B"
    # By hand: 8×2 + 1×4 + 2×5 + 1×8 + 5×10 + 1×13 = 101; 101 mod 23 = 9; letter 9 is K.
    assert upn_check_letter("801200105001") == "K"
    assert is_valid_upn("B801200005001")
    assert is_valid_upn("b801200005001")
    assert not is_valid_upn("A801200005001")
    assert not is_valid_upn("B80120000500")
    # Temporary UPNs end in a letter, which counts as its place in the check alphabet.
    temporary = "80120000501A"
    assert is_valid_upn(upn_check_letter(temporary) + temporary)
    for bad in ("80120000501I", "8012000050", "8012000050X1", "80120000501²"):
        with pytest.raises(ValueError):
            upn_check_letter(bad)


def test_summary_says_what_changed():
    result = ImportResult(SCHOOL, "staff", total=12, created=10, updated=2, left=1)
    assert result.summary() == (
        "Imported 12 staff into Oakfield Academy: 10 added, 2 updated, 0 unchanged, "
        "1 marked as left."
    )
    unchanged = ImportResult(SCHOOL, "pupils", total=1, unchanged=1)
    assert unchanged.summary() == "Imported 1 pupil into Oakfield Academy: nothing changed."


def test_rejection_lists_problems_by_line():
    error = ImportRejected("staff.csv", [Problem(5, "b"), Problem(1, "a")])
    assert str(error) == (
        "staff.csv was not imported (2 problems; nothing was changed):\n  line 1: a\n  line 5: b"
    )
    assert error.problems == [(1, "a"), (5, "b")]


@pytest.mark.parametrize("kind", sorted(COLUMNS))
def test_no_header_could_mean_two_columns(kind):
    keys = [
        key
        for column in COLUMNS[kind]
        for key in {squash(spelling) for spelling in (column.name, *column.aliases)}
    ]
    assert len(keys) == len(set(keys))
