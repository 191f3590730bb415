"""`sspbot sync m365`: the roster from Microsoft 365, with msal and Graph mocked by `responses`.

The token endpoint and Graph answer with the JSON shapes Microsoft documents (`value`,
`@odata.nextLink`, `@odata.deltaLink`, `@removed`, Graph's `{"error": {...}}`, Entra's AADSTS
errors). Every name, id and UPN here is synthetic.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from datetime import UTC, date, datetime, time

import pytest
import requests
import responses
from responses import matchers
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.config import ConfigError, Settings
from bot.services import m365
from bot.services.m365 import (
    GRAPH_URL,
    USER_SELECT,
    M365Error,
    NightlySync,
    SyncRejected,
    sync_is_due,
    sync_m365,
    sync_status,
)
from bot.services.roster import upn_check_letter
from handlers.slack_api import link_synced_staff
from models import (
    Pupil,
    School,
    SenChangeSource,
    SenHistory,
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

TENANT = "6f1c2a7e-0000-4000-8000-00000000c0de"
CLIENT_ID = "9b2d4e6f-0000-4000-8000-0000000a99c1"
SECRET = "Zq8~synthetic-secret-never-logged-0123"
LOGIN = f"https://login.microsoftonline.com/{TENANT}"
TOKEN_URL = f"{LOGIN}/oauth2/v2.0/token"
SCHOOL = "Oakfield Academy"
NOW = datetime(2026, 11, 24, 2, 30, tzinfo=UTC)
ROSTER_TABLES = [
    Staff.__table__,
    StaffRoleGrant.__table__,
    Pupil.__table__,
    TeachingGroup.__table__,
    TeachingGroupTeacher.__table__,
    TeachingGroupPupil.__table__,
]

USERS_FULL = f"{GRAPH_URL}/education/users/delta?$select={USER_SELECT}"
CLASSES_FULL = f"{GRAPH_URL}/education/classes/delta"
CLASS_IDS = f"{GRAPH_URL}/education/classes?$select=id"


def upn(serial: int) -> str:
    tail = f"801200025{serial:03d}"
    return upn_check_letter(tail) + tail


def users_delta(token: str, base: str = GRAPH_URL) -> str:
    return f"{base}/education/users/delta?$deltatoken={token}"


def classes_delta(token: str, base: str = GRAPH_URL) -> str:
    return f"{base}/education/classes/delta?$deltatoken={token}"


def teachers_url(class_id: str, base: str = GRAPH_URL) -> str:
    return f"{base}/education/classes/{class_id}/teachers?$select=id"


def members_url(class_id: str, base: str = GRAPH_URL) -> str:
    return f"{base}/education/classes/{class_id}/members?$select=id"


# --- Graph's documented shapes ---


def staff_user(user_id, given, surname, mail, role="teacher", **extra) -> dict:
    """An educationUser as `$select=id,primaryRole,accountEnabled,mail,givenName,surname,student`
    returns it."""
    return {
        "id": user_id,
        "primaryRole": role,
        "accountEnabled": True,
        "mail": mail,
        "givenName": given,
        "surname": surname,
        "student": None,
        **extra,
    }


def student_user(user_id, given, surname, *, external_id, number=None, grade, born, **extra):
    return {
        "id": user_id,
        "primaryRole": "student",
        "accountEnabled": True,
        "mail": f"{given.lower()}.{surname.lower()}@students.oakfield.example",
        "givenName": given,
        "surname": surname,
        "student": {
            "birthDate": born,
            "externalId": external_id,
            "gender": None,
            "grade": grade,
            "graduationYear": None,
            "studentNumber": number,
        },
        **extra,
    }


def education_class(class_id, code, subject, grade, source="sis") -> dict:
    return {
        "@odata.type": "#microsoft.graph.educationClass",
        "id": class_id,
        "displayName": f"{code} {subject}",
        "mailNickname": code.replace("/", "-").lower(),
        "description": f"{subject} for {code}",
        "classCode": code,
        "externalId": f"MIS-{class_id[:4]}",
        "externalName": f"{code} {subject}",
        "externalSource": source,
        "externalSourceDetail": "School Data Sync" if source == "sis" else None,
        "grade": grade,
        "term": None,
        "course": {
            "@odata.type": "#microsoft.graph.educationCourse",
            "courseNumber": None,
            "description": None,
            "displayName": subject,
            "externalId": None,
            "subject": subject,
        },
    }


def page(kind: str, items, *, next_link=None, delta_link=None) -> dict:
    body = {
        "@odata.context": f"https://graph.microsoft.com/v1.0/$metadata#Collection({kind})",
        "value": items,
    }
    if next_link:
        body["@odata.nextLink"] = next_link
    if delta_link:
        body["@odata.deltaLink"] = delta_link
    return body


def members_page(user_ids) -> dict:
    return page("microsoft.graph.educationUser", [{"id": i} for i in user_ids])


def graph_error(code: str, message: str) -> dict:
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": "2026-11-24T02:30:00",
                "request-id": "a2b4c6d8-0000-4000-8000-000000000001",
                "client-request-id": "a2b4c6d8-0000-4000-8000-000000000002",
            },
        }
    }


# The synthetic school in Microsoft 365.
ALEX = staff_user("u-alex", "Alex", "Teacher", "A.Teacher@oakfield.example")
BEA = staff_user("u-bea", "Bea", "Sendco", "b.sendco@oakfield.example")
CAL = staff_user("u-cal", "Cal", "Assistant", "c.assistant@oakfield.example", role="faculty")
ADMIN = staff_user("u-admin", "IT", "Admin", "it.admin@oakfield.example", role="none")
PIP = student_user("u-pip", "Pip", "Apple", external_id=upn(1), grade="7", born="2013-09-01")
QUIN = student_user(  # the MIS id is not a UPN; the student number is
    "u-quin",
    "Quin",
    "Birch",
    external_id="MIS-4411",
    number=upn(2),
    grade="Year 8",
    born="2012-10-02",
)
RUE = student_user("u-rue", "Rue", "Cedar", external_id=upn(3), grade="06", born="2014-01-03")
USERS = [ALEX, BEA, CAL, ADMIN, PIP, QUIN, RUE]
MATHS = education_class("c-maths-7x", "7X/Ma1", "Mathematics", "7")
ENGLISH = education_class("c-english-8y", "8Y/En1", "English", "8")
CLUB = education_class("c-club", "Chess club", "Chess", None, source="manual")
CLASSES = [MATHS, ENGLISH, CLUB]
# Teachers are members of their classes too, as Graph documents.
MEMBERSHIP = {
    MATHS["id"]: (["u-alex"], ["u-alex", "u-pip", "u-rue"]),
    ENGLISH["id"]: (["u-alex", "u-cal"], ["u-alex", "u-cal", "u-quin"]),
}


# --- fixtures ---


@pytest.fixture(autouse=True)
def fresh_sign_ins():
    m365.forget_sign_ins()
    yield
    m365.forget_sign_ins()


@pytest.fixture
def graph():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        mocked.add(
            responses.GET,
            f"{LOGIN}/v2.0/.well-known/openid-configuration",
            json={
                "token_endpoint": TOKEN_URL,
                "authorization_endpoint": f"{LOGIN}/oauth2/v2.0/authorize",
                "issuer": f"https://login.microsoftonline.com/{TENANT}/v2.0",
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "tenant_region_scope": "EU",
                "cloud_instance_name": "microsoftonline.com",
            },
        )
        yield mocked


def token_ok(graph, token="eyJ0eXAiOiJKV1QiLCJzeW50aGV0aWMiOnRydWV9.synthetic.token"):
    graph.add(
        responses.POST,
        TOKEN_URL,
        json={
            "token_type": "Bearer",
            "expires_in": 3599,
            "ext_expires_in": 3599,
            "access_token": token,
        },
    )


def serve_everything(
    graph,
    users=USERS,
    classes=CLASSES,
    membership=MEMBERSHIP,
    users_token="U1",
    classes_token="C1",
    base=GRAPH_URL,
):
    """A full read: users and classes by delta query with no token, then each class's lists."""
    graph.add(
        responses.GET,
        f"{base}/education/users/delta?$select={USER_SELECT}",
        json=page("educationUser", users, delta_link=users_delta(users_token, base)),
    )
    graph.add(
        responses.GET,
        f"{base}/education/classes/delta",
        json=page("educationClass", classes, delta_link=classes_delta(classes_token, base)),
        match=[matchers.query_param_matcher({})],
    )
    for class_id, (teachers, members) in membership.items():
        graph.add(responses.GET, teachers_url(class_id, base), json=members_page(teachers))
        graph.add(responses.GET, members_url(class_id, base), json=members_page(members))


def serve_changes(
    graph, users=(), classes=(), class_ids=None, membership=None, old=("U1", "C1"), base=GRAPH_URL
):
    """A delta read: the changes since the last delta links, and the list of class ids."""
    graph.add(
        responses.GET,
        users_delta(old[0], base),
        json=page("educationUser", list(users), delta_link=users_delta(old[0] + "+", base)),
    )
    graph.add(
        responses.GET,
        classes_delta(old[1], base),
        json=page("educationClass", list(classes), delta_link=classes_delta(old[1] + "+", base)),
    )
    ids = class_ids if class_ids is not None else [c["id"] for c in CLASSES]
    graph.add(
        responses.GET,
        f"{base}/education/classes?$select=id",
        json=page("educationClass", [{"id": i} for i in ids]),
    )
    for class_id, (teachers, members) in (membership or {}).items():
        graph.add(responses.GET, teachers_url(class_id, base), json=members_page(teachers))
        graph.add(responses.GET, members_url(class_id, base), json=members_page(members))


def settings_for(db_url: str, **extra: str) -> Settings:
    environ = {
        "DATABASE_URL": db_url,
        "M365_TENANT_ID": TENANT,
        "M365_CLIENT_ID": CLIENT_ID,
        "M365_CLIENT_SECRET": SECRET,
        **extra,
    }
    return Settings.from_env(environ, env_file=None)


@pytest.fixture
def school(sessions) -> int:
    with sessions.begin() as session:
        row = School(name=SCHOOL)
        session.add(row)
        session.flush()
        return row.id


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def sync(sessions, db_url, *, dry_run=False, sleeps=None, now=NOW, **extra):
    """The sync as `sspbot sync m365` runs it: then staff are matched to Slack accounts."""
    settings = settings_for(db_url, **extra)
    result = sync_m365(
        sessions,
        settings,
        now=now,
        dry_run=dry_run,
        sleep=sleeps if sleeps is not None else Sleeps(),
    )
    link_synced_staff(sessions, settings, result, now)
    return result


def snapshot(sessions: sessionmaker[Session]) -> dict[str, list[tuple]]:
    with sessions() as session:
        return {
            table.name: [
                tuple(row)
                for row in session.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in ROSTER_TABLES
        }


def school_row(sessions) -> School:
    with sessions() as session:
        school = session.scalars(select(School)).one()
        _ = school.m365_sync_state  # deferred: load it before the session closes
        return school


def roster(sessions):
    """(staff email -> (names, roles, active)), (UPN -> pupil), (class code -> links)."""
    with sessions() as session:
        staff = {
            m.email: ((m.first_name, m.last_name), set(m.roles), m.is_active)
            for m in session.scalars(select(Staff))
        }
        pupils = {
            p.upn: (p.first_name, p.last_name, p.date_of_birth, p.year_group, p.is_active)
            for p in session.scalars(select(Pupil))
        }
        classes = {}
        for group in session.scalars(select(TeachingGroup)):
            classes[group.code] = (
                group.subject,
                group.year_group,
                group.is_active,
                {link.staff.email for link in group.teachers if link.is_active},
                {link.pupil.upn for link in group.members if link.is_active},
            )
        return staff, pupils, classes


def graph_calls(graph) -> list[str]:
    return [
        call.request.url.replace("%24", "$").replace("%2C", ",")
        for call in graph.calls
        if call.request.url.startswith(GRAPH_URL)
    ]


def token_calls(graph) -> int:
    return sum(1 for call in graph.calls if call.request.url == TOKEN_URL)


# --- a first sync ---


def test_first_sync_reads_everything_and_builds_the_roster(graph, sessions, db_url, school):
    token_ok(graph)
    serve_everything(graph)

    result = sync(sessions, db_url)

    staff, pupils, classes = roster(sessions)
    assert staff == {
        "a.teacher@oakfield.example": (("Alex", "Teacher"), {StaffRole.TEACHER}, True),
        "b.sendco@oakfield.example": (("Bea", "Sendco"), {StaffRole.TEACHER}, True),
        "c.assistant@oakfield.example": (("Cal", "Assistant"), set(), True),
    }
    assert pupils == {
        upn(1): ("Pip", "Apple", date(2013, 9, 1), 7, True),
        upn(2): ("Quin", "Birch", date(2012, 10, 2), 8, True),
        upn(3): ("Rue", "Cedar", date(2014, 1, 3), 6, True),
    }
    assert classes == {
        "7X/Ma1": ("Mathematics", 7, True, {"a.teacher@oakfield.example"}, {upn(1), upn(3)}),
        "8Y/En1": (
            "English",
            8,
            True,
            {"a.teacher@oakfield.example", "c.assistant@oakfield.example"},
            {upn(2)},
        ),
    }
    lines = "\n".join(result.lines())
    assert "Synced Oakfield Academy from Microsoft 365 (read everything, 6 Graph requests)" in lines
    assert "staff: 3 in Microsoft 365; 3 added, 0 updated, 0 unchanged, 0 marked as left" in lines
    assert "pupils: 3 in Microsoft 365; 3 added" in lines
    assert "classes: 2 in Microsoft 365; 2 added" in lines
    assert "1 account(s) that are neither staff nor students left out." in lines
    assert "1 class(es) made by hand in Teams" in lines
    assert "SLACK_BOT_TOKEN is not set" in lines
    # The manual class's lists are never read; the token is asked for once.
    assert not any("c-club" in url for url in graph_calls(graph))
    assert token_calls(graph) == 1
    saved = school_row(sessions)
    assert saved.roster_sync_ok is True
    assert saved.roster_synced_at == saved.roster_sync_attempted_at == NOW
    assert saved.roster_sync_result == "3 staff, 3 pupils, 2 classes; 8 changes"
    assert saved.m365_sync_state["users_delta"] == users_delta("U1")
    assert saved.m365_sync_state["classes_delta"] == classes_delta("C1")


def test_the_token_request_is_client_credentials_for_graph(graph, sessions, db_url, school):
    token_ok(graph)
    serve_everything(graph)
    sync(sessions, db_url)

    token_request = next(c.request for c in graph.calls if c.request.url == TOKEN_URL)
    body = requests.utils.unquote(token_request.body)
    assert "grant_type=client_credentials" in body
    assert "scope=https://graph.microsoft.com/.default" in body
    assert f"client_id={CLIENT_ID}" in body
    graph_request = next(c.request for c in graph.calls if c.request.url.startswith(GRAPH_URL))
    assert graph_request.headers["Authorization"].startswith("Bearer eyJ0eXAi")


def test_the_token_is_reused_from_one_sync_to_the_next(graph, sessions, db_url, school):
    token_ok(graph)
    serve_everything(graph)
    sync(sessions, db_url)
    serve_changes(graph)

    sync(sessions, db_url)

    assert token_calls(graph) == 1


# --- delta: a second sync reads only changes ---


def test_a_second_sync_reads_only_the_changes(graph, sessions, db_url, school):
    token_ok(graph)
    serve_everything(graph)
    sync(sessions, db_url)
    graph.calls.reset()
    sage = student_user("u-sage", "Sage", "Dune", external_id=upn(4), grade="7", born="2013-03-03")
    serve_changes(
        graph,
        users=[
            # An update carries the id and at least the properties that changed.
            {"id": "u-pip", "surname": "Apple-Tree"},
            sage,
            {"id": "u-rue", "@removed": {"reason": "deleted"}},
        ],
        classes=[{**MATHS, "grade": "7"}],
        membership={MATHS["id"]: (["u-bea"], ["u-bea", "u-pip", "u-sage"])},
    )

    result = sync(sessions, db_url)

    assert graph_calls(graph) == [
        users_delta("U1"),
        classes_delta("C1"),
        CLASS_IDS,
        teachers_url(MATHS["id"]),
        members_url(MATHS["id"]),
    ]
    staff, pupils, classes = roster(sessions)
    assert pupils[upn(1)] == ("Pip", "Apple-Tree", date(2013, 9, 1), 7, True)
    assert pupils[upn(4)] == ("Sage", "Dune", date(2013, 3, 3), 7, True)
    assert pupils[upn(3)][-1] is False  # gone from Graph: marked as left, not deleted
    assert classes["7X/Ma1"][3:] == ({"b.sendco@oakfield.example"}, {upn(1), upn(4)})
    assert classes["8Y/En1"][3:] == (
        {"a.teacher@oakfield.example", "c.assistant@oakfield.example"},
        {upn(2)},
    )
    lines = "\n".join(result.lines())
    assert "read only the changes since the last sync, 5 Graph requests" in lines
    assert "pupils: 3 in Microsoft 365; 1 added, 1 updated, 1 unchanged, 1 marked as left" in lines
    assert school_row(sessions).m365_sync_state["users_delta"] == users_delta("U1+")


def test_a_second_sync_gives_the_same_roster_as_reading_everything(graph, sessions, db_url, school):
    token_ok(graph)
    serve_everything(graph)
    sync(sessions, db_url)
    changed_pip = {**PIP, "surname": "Apple-Tree"}
    serve_changes(graph, users=[changed_pip])
    sync(sessions, db_url)
    by_delta = roster(sessions)

    # Graph forgets the delta link: 410 Gone, and everything is read again.
    graph.add(
        responses.GET,
        users_delta("U1+"),
        status=410,
        json=graph_error("syncStateNotFound", "The sync state is not found."),
    )
    serve_everything(graph, users=[ALEX, BEA, CAL, ADMIN, changed_pip, QUIN, RUE])
    before = snapshot(sessions)
    result = sync(sessions, db_url)

    assert roster(sessions) == by_delta
    assert snapshot(sessions) == before
    lines = "\n".join(result.lines())
    assert "no longer had the last sync's changes (410 syncStateNotFound)" in lines
    assert "read everything" in lines and "Nothing changed." in lines


def test_a_class_deleted_in_graph_is_marked_inactive(graph, sessions, db_url, school):
    """Graph's class delta leaves deleted classes out: the list of class ids finds them."""
    token_ok(graph)
    serve_everything(graph)
    sync(sessions, db_url)
    serve_changes(graph, class_ids=[MATHS["id"], CLUB["id"]])

    result = sync(sessions, db_url)

    _, _, classes = roster(sessions)
    assert classes["8Y/En1"][2] is False and classes["7X/Ma1"][2] is True
    assert "classes: 1 in Microsoft 365; 0 added, 0 updated, 1 unchanged, 1 marked inactive" in (
        "\n".join(result.lines())
    )


# --- paging and throttling ---


def test_every_page_is_read_to_the_end(graph, sessions, db_url, school):
    token_ok(graph)
    students = [
        student_user(
            f"u-s{n}", f"Kit{n}", "Paging", external_id=upn(10 + n), grade="9", born="2012-01-01"
        )
        for n in range(5)
    ]
    skip = f"{GRAPH_URL}/education/users/delta?$skiptoken=page"
    graph.add(
        responses.GET,
        USERS_FULL,
        json=page("educationUser", [ALEX, students[0]], next_link=skip + "2"),
    )
    graph.add(
        responses.GET,
        skip + "2",
        json=page("educationUser", students[1:3], next_link=skip + "3"),
    )
    graph.add(
        responses.GET,
        skip + "3",
        json=page("educationUser", students[3:], delta_link=users_delta("U1")),
    )
    graph.add(
        responses.GET,
        CLASSES_FULL,
        json=page("educationClass", [MATHS], delta_link=classes_delta("C1")),
        match=[matchers.query_param_matcher({})],
    )
    graph.add(responses.GET, teachers_url(MATHS["id"]), json=members_page(["u-alex"]))
    more_members = f"{GRAPH_URL}/education/classes/{MATHS['id']}/members?$skiptoken=m2"
    graph.add(
        responses.GET,
        members_url(MATHS["id"]),
        json={**members_page(["u-s0", "u-s1", "u-s2"]), "@odata.nextLink": more_members},
    )
    graph.add(responses.GET, more_members, json=members_page(["u-s3", "u-s4"]))

    sync(sessions, db_url)

    _, pupils, classes = roster(sessions)
    assert set(pupils) == {upn(10 + n) for n in range(5)}
    assert classes["7X/Ma1"][4] == {upn(10 + n) for n in range(5)}
    assert school_row(sessions).m365_sync_state["users_delta"] == users_delta("U1")


@pytest.mark.parametrize("status", [429, 503])
def test_throttling_is_waited_out_as_retry_after_asks(graph, sessions, db_url, school, status):
    token_ok(graph)
    graph.add(
        responses.GET,
        USERS_FULL,
        status=status,
        headers={"Retry-After": "7"},
        json=graph_error("TooManyRequests" if status == 429 else "ServiceUnavailable", "Wait."),
    )
    serve_everything(graph)
    sleeps = Sleeps()

    sync(sessions, db_url, sleeps=sleeps)

    assert sleeps == [7.0]
    assert len(roster(sessions)[1]) == 3
    assert graph_calls(graph)[:2] == [USERS_FULL, USERS_FULL]


def test_throttling_that_never_ends_fails_and_writes_nothing(graph, sessions, db_url, school):
    token_ok(graph)
    for _ in range(6):
        graph.add(
            responses.GET,
            USERS_FULL,
            status=429,
            headers={"Retry-After": "30"},
            json=graph_error("TooManyRequests", "Too many requests."),
        )
    sleeps = Sleeps()

    with pytest.raises(M365Error) as failed:
        sync(sessions, db_url, sleeps=sleeps)

    assert sleeps == [30.0] * 5
    assert "still busy after 6 tries at the education users (429 TooManyRequests" in str(
        failed.value
    )
    assert roster(sessions) == ({}, {}, {})


# --- failures: all or nothing ---


def test_a_401_half_way_writes_nothing_and_says_what_failed(graph, sessions, db_url, school):
    token_ok(graph)
    serve_everything(graph)
    sync(sessions, db_url)
    before = snapshot(sessions)
    state_before = school_row(sessions).m365_sync_state
    graph.add(
        responses.GET,
        users_delta("U1"),
        json=page("educationUser", [{"id": "u-pip", "surname": "Changed"}], delta_link="x"),
    )
    graph.add(
        responses.GET,
        classes_delta("C1"),
        status=401,
        json=graph_error(
            "InvalidAuthenticationToken", "Access token has expired or is not yet valid."
        ),
    )

    with pytest.raises(M365Error) as failed:
        sync(sessions, db_url, now=datetime(2026, 11, 25, 2, 30, tzinfo=UTC))

    message = str(failed.value)
    assert message == (
        "Microsoft Graph refused the sign-in while reading changes to the education classes "
        "(401 InvalidAuthenticationToken: Access token has expired or is not yet valid.); "
        "nothing was changed. Check M365_TENANT_ID and M365_CLIENT_ID, and that the app "
        "registration is in the school's tenant."
    )
    assert snapshot(sessions) == before
    saved = school_row(sessions)
    assert saved.m365_sync_state == state_before  # the next sync asks for the same changes
    assert saved.roster_sync_ok is False
    assert saved.roster_sync_attempted_at == datetime(2026, 11, 25, 2, 30, tzinfo=UTC)
    assert saved.roster_synced_at == NOW  # the last sync that worked
    assert saved.roster_sync_result == message


def test_a_network_failure_half_way_writes_nothing(graph, sessions, db_url, school):
    token_ok(graph)
    graph.add(responses.GET, USERS_FULL, json=page("educationUser", USERS, delta_link="x"))
    graph.add(
        responses.GET,
        CLASSES_FULL,
        json=page("educationClass", CLASSES, delta_link="y"),
        match=[matchers.query_param_matcher({})],
    )
    graph.add(responses.GET, teachers_url(MATHS["id"]), json=members_page(["u-alex"]))
    for _ in range(3):
        graph.add(
            responses.GET,
            members_url(MATHS["id"]),
            body=requests.ConnectionError("connection reset by peer"),
        )

    with pytest.raises(M365Error) as failed:
        sync(sessions, db_url)

    assert str(failed.value) == (
        "Could not reach Microsoft Graph while reading the members of class 7X/Ma1: "
        "ConnectionError. Nothing was changed; try again later."
    )
    assert roster(sessions) == ({}, {}, {})
    assert school_row(sessions).roster_sync_ok is False


def test_a_403_says_which_permission_is_missing(graph, sessions, db_url, school):
    token_ok(graph)
    graph.add(
        responses.GET,
        USERS_FULL,
        status=403,
        json=graph_error("Authorization_RequestDenied", "Insufficient privileges."),
    )

    with pytest.raises(M365Error) as failed:
        sync(sessions, db_url)

    assert "403 Authorization_RequestDenied: Insufficient privileges." in str(failed.value)
    assert "EduRoster.Read.All application permission" in str(failed.value)


def test_records_that_cannot_be_mapped_reject_the_whole_sync(graph, sessions, db_url, school):
    token_ok(graph)
    no_upn = student_user(
        "u-nou", "Nell", "Noupn", external_id="MIS-77", number="12345", grade="9", born="2012-02-02"
    )
    no_mail = staff_user("u-nomail", "Ned", "Nomail", None)
    bad_grade = student_user(
        "u-grade", "Gil", "Grade", external_id=upn(5), grade="Grade 9", born="2012-02-02"
    )
    twin = student_user("u-twin", "Tam", "Twin", external_id=upn(1), grade="7", born="2013-09-01")
    serve_everything(graph, users=[*USERS, no_upn, no_mail, bad_grade, twin])

    with pytest.raises(SyncRejected) as rejected:
        sync(sessions, db_url)

    message = str(rejected.value)
    assert message.startswith(
        "The roster was not synced from Microsoft 365 (4 records that SSP Bot cannot use; "
        "nothing was changed):"
    )
    assert (
        "education user u-nou (student) has no UPN: student.externalId 'MIS-77' and "
        "student.studentNumber '12345' are not UPNs"
    ) in message
    assert "education user u-nomail (teacher) has no mail address" in message
    assert "education user u-grade (student) student.grade 'Grade 9' is not a year group" in message
    assert f"education user u-twin (student) has the same UPN {upn(1)} as education user u-pip" in (
        message
    )
    for name in ("Nell", "Noupn", "Gil", "Tam"):  # pupils are named by Graph id, never by name
        assert name not in message
    assert roster(sessions) == ({}, {}, {})
    saved = school_row(sessions)
    assert saved.roster_sync_ok is False and saved.m365_sync_state is None
    assert saved.roster_sync_result.startswith("4 record(s) that cannot be used: education user")


def test_a_class_with_a_duplicate_code_is_rejected(graph, sessions, db_url, school):
    token_ok(graph)
    twin = education_class("c-twin", "7X/Ma1", "Maths again", "7")
    serve_everything(graph, classes=[MATHS, twin], membership={**MEMBERSHIP, "c-twin": ([], [])})

    with pytest.raises(SyncRejected) as rejected:
        sync(sessions, db_url)

    assert (
        "education class c-twin has the same classCode '7X/Ma1' as education class c-maths-7x"
    ) in str(rejected.value)


# --- dry run ---


def test_a_dry_run_says_what_would_change_and_writes_nothing(graph, sessions, db_url, school):
    token_ok(graph)
    serve_everything(graph)
    sync(sessions, db_url)
    before, state_before = snapshot(sessions), school_row(sessions).m365_sync_state
    sage = student_user("u-sage", "Sage", "Dune", external_id=upn(4), grade="7", born="2013-03-03")
    changes = dict(
        users=[
            {"id": "u-pip", "surname": "Apple-Tree"},
            sage,
            {"id": "u-bea", "@removed": {"reason": "deleted"}},
        ],
        classes=[MATHS],
        membership={MATHS["id"]: (["u-alex"], ["u-alex", "u-pip", "u-sage"])},
    )
    serve_changes(graph, **changes)

    result = sync(sessions, db_url, dry_run=True, now=datetime(2026, 11, 25, 2, 30, tzinfo=UTC))

    lines = result.lines()
    text = "\n".join(lines)
    assert lines[0].startswith(
        "Dry run: nothing was written. Syncing Oakfield Academy from Microsoft 365 (read only "
        "the changes since the last sync"
    )
    assert "staff: 2 in Microsoft 365; 0 added, 0 updated, 2 unchanged, 1 marked as left" in text
    assert "pupils: 4 in Microsoft 365; 1 added, 1 updated, 2 unchanged, 0 marked as left" in text
    assert "For example:" in text
    assert "  - mark as left: member of staff b.sendco@oakfield.example" in text
    assert f"  - update pupil {upn(1)} (last_name)" in text
    assert f"  - add pupil {upn(4)}" in text
    assert "  - class 7X/Ma1: pupils" in text
    assert "Sage" not in text and "Apple-Tree" not in text  # pupils by UPN, never by name
    assert snapshot(sessions) == before
    saved = school_row(sessions)
    assert saved.m365_sync_state == state_before
    assert saved.roster_sync_attempted_at == NOW  # not even the status is written

    # The real sync then makes exactly those changes, from the same delta link.
    serve_changes(graph, **changes)
    real = sync(sessions, db_url)
    assert real.changes == result.changes == 4


def test_a_dry_run_of_a_first_sync_writes_nothing(graph, sessions, db_url, school):
    token_ok(graph)
    serve_everything(graph)

    result = sync(sessions, db_url, dry_run=True)

    assert roster(sessions) == ({}, {}, {})
    saved = school_row(sessions)
    assert saved.roster_sync_attempted_at is None and saved.m365_sync_state is None
    assert "  - add member of staff a.teacher@oakfield.example" in result.lines()


# --- leavers, roles, idempotency ---


def test_leavers_are_marked_as_left_never_deleted(graph, sessions, db_url, school):
    token_ok(graph)
    serve_everything(graph)
    sync(sessions, db_url)
    serve_changes(
        graph,
        users=[
            {"id": "u-cal", "accountEnabled": False},  # a disabled account is a leaver
            {"id": "u-quin", "@removed": {"reason": "changed"}},
        ],
        class_ids=[MATHS["id"], CLUB["id"]],
    )

    result = sync(sessions, db_url)

    staff, pupils, classes = roster(sessions)
    assert staff["c.assistant@oakfield.example"][2] is False
    assert pupils[upn(2)][-1] is False
    assert classes["8Y/En1"][2] is False
    with sessions() as session:
        cal = session.scalars(select(Staff).where(Staff.first_name == "Cal")).one()
        assert cal.left_on == date(2026, 11, 24)
    text = "\n".join(result.lines())
    assert "staff: 2 in Microsoft 365; 0 added, 0 updated, 2 unchanged, 1 marked as left" in text
    assert "1 disabled account(s) left out (as leavers)." in text


def test_syncing_twice_changes_nothing_the_second_time(graph, sessions, db_url, school):
    token_ok(graph)
    serve_everything(graph)
    sync(sessions, db_url)
    before = snapshot(sessions)
    serve_changes(graph)

    result = sync(sessions, db_url)

    assert snapshot(sessions) == before
    assert result.changes == 0 and "Nothing changed." in result.lines()
    assert school_row(sessions).roster_sync_result == "3 staff, 3 pupils, 2 classes; no changes"


def test_roles_given_in_ssp_bot_are_kept(graph, sessions, db_url, school):
    token_ok(graph)
    serve_everything(graph)
    sync(sessions, db_url)
    with sessions.begin() as session:
        for member in session.scalars(select(Staff)):
            member.set_roles(member.roles | {StaffRole.CASE_HOLDER})
            if member.first_name == "Bea":
                member.set_roles(member.roles | {StaffRole.SENDCO})
    # Alex stops teaching (faculty); Cal starts.
    serve_changes(
        graph,
        users=[
            {"id": "u-alex", "primaryRole": "faculty"},
            {"id": "u-cal", "primaryRole": "teacher"},
        ],
    )

    sync(sessions, db_url)

    staff, _, _ = roster(sessions)
    assert staff["a.teacher@oakfield.example"][1] == {StaffRole.CASE_HOLDER}
    assert staff["b.sendco@oakfield.example"][1] == {
        StaffRole.SENDCO,
        StaffRole.CASE_HOLDER,
        StaffRole.TEACHER,
    }
    assert staff["c.assistant@oakfield.example"][1] == {StaffRole.CASE_HOLDER, StaffRole.TEACHER}


def test_the_csv_import_and_the_sync_share_one_roster(
    graph, sessions, db_url, school, run_cli, tmp_path
):
    """A pupil imported from the MIS's CSV is the same pupil the sync updates: the SEN fields
    Graph does not have stay as the CSV set them."""
    csv = tmp_path / "pupils.csv"
    csv.write_text(
        "upn,first_name,last_name,date_of_birth,year_group,sen_stage,primary_need,form\n"
        f"{upn(1)},Pip,Apple,2013-09-01,7,K,SpLD,7X\n"
    )
    assert run_cli("import", "pupils", str(csv)).code == 0
    token_ok(graph)
    serve_everything(graph, users=[ALEX, {**PIP, "givenName": "Pippa"}])

    sync(sessions, db_url)

    with sessions() as session:
        pip = session.scalars(select(Pupil)).one()
        assert (pip.upn, pip.first_name, pip.sen_stage, pip.form) == (
            upn(1),
            "Pippa",
            SenStage.SEN_SUPPORT,
            "7X",
        )
        assert pip.primary_need.value == "SpLD"
        # The SEN history keeps the CSV's record; the sync, which has no SEN fields, adds none
        # (nor for Alex, new from Graph with no SEN recorded).
        history = session.scalars(select(SenHistory)).all()
        assert [(h.pupil_id, h.source, h.sen_stage) for h in history] == [
            (pip.id, SenChangeSource.CSV_IMPORT, SenStage.SEN_SUPPORT)
        ]


# --- sign-in and settings ---


def test_a_wrong_client_secret_is_one_line_naming_the_setting(
    graph, run_cli, sessions, school, caplog
):
    caplog.set_level(logging.DEBUG)
    graph.add(
        responses.POST,
        TOKEN_URL,
        status=401,
        json={
            "error": "invalid_client",
            "error_description": (
                "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in "
                "the request is the client secret value, not the client secret ID, for a secret "
                f"added to app '{CLIENT_ID}'.\r\nTrace ID: 0f0e0d0c-0000-4000-8000-000000000001"
                "\r\nCorrelation ID: 0f0e0d0c-0000-4000-8000-000000000002\r\nTimestamp: "
                "2026-11-24 02:30:00Z"
            ),
            "error_codes": [7000215],
            "timestamp": "2026-11-24 02:30:00Z",
            "trace_id": "0f0e0d0c-0000-4000-8000-000000000001",
            "correlation_id": "0f0e0d0c-0000-4000-8000-000000000002",
            "error_uri": f"{LOGIN}/error?code=7000215",
        },
    )

    result = run_cli(
        "sync",
        "m365",
        env={"M365_TENANT_ID": TENANT, "M365_CLIENT_ID": CLIENT_ID, "M365_CLIENT_SECRET": SECRET},
    )

    assert result.code == 1, result
    assert result.err == (
        "sspbot: Microsoft 365 sign-in failed: check M365_CLIENT_SECRET. Microsoft said: "
        "invalid_client: AADSTS7000215: Invalid client secret provided. Ensure the secret being "
        "sent in the request is the client secret value, not the client secret ID, for a secret "
        f"added to app '{CLIENT_ID}'.\n"
    )
    assert "Traceback" not in result.err + result.out
    assert SECRET not in result.err + result.out + caplog.text
    assert not any(c.request.url.startswith(GRAPH_URL) for c in graph.calls)
    assert school_row(sessions).roster_sync_ok is False


def test_an_unknown_tenant_is_one_line(run_cli, school):
    with responses.RequestsMock() as mocked:
        mocked.add(
            responses.GET,
            f"{LOGIN}/v2.0/.well-known/openid-configuration",
            status=400,
            json={
                "error": "invalid_tenant",
                "error_description": f"AADSTS90002: Tenant '{TENANT}' not found.",
            },
        )
        result = run_cli(
            "sync",
            "m365",
            env={"M365_TENANT_ID": TENANT, "M365_CLIENT_ID": CLIENT_ID, "M365_CLIENT_SECRET": "x"},
        )

    assert result.code == 1
    assert result.err.startswith(f"sspbot: M365_TENANT_ID '{TENANT}' is not a tenant Microsoft")
    assert result.err.count("\n") == 1


def test_missing_settings_name_the_variable(run_cli, school):
    result = run_cli("sync", "m365", env={"M365_TENANT_ID": TENANT})
    assert result.code == 2
    assert result.err.startswith("sspbot: M365_CLIENT_ID is not set: it is the Application")

    result = run_cli("sync", "m365", env={"M365_TENANT_ID": TENANT, "M365_CLIENT_ID": CLIENT_ID})
    assert result.err.startswith(
        "sspbot: M365_CLIENT_SECRET is not set (nor M365_CERTIFICATE_PATH)"
    )


def test_a_certificate_signs_in_with_a_client_assertion(graph, sessions, db_url, school, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = tmp_path / "sspbot-m365.pem"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    thumbprint = hashlib.sha1(b"synthetic certificate").hexdigest().upper()
    token_ok(graph)
    serve_everything(graph)

    sync(
        sessions,
        db_url,
        M365_CLIENT_SECRET="",
        M365_CERTIFICATE_PATH=str(pem),
        M365_CERTIFICATE_THUMBPRINT=thumbprint,
    )

    body = requests.utils.unquote(
        next(c.request for c in graph.calls if c.request.url == TOKEN_URL).body
    )
    assert "client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer" in body
    assert "client_secret" not in body
    header = body.split("client_assertion=", 1)[1].split(".", 1)[0]
    jwt_header = base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)).decode()
    assert '"x5t"' in jwt_header  # the certificate's thumbprint goes to Entra, the key does not
    assert len(roster(sessions)[0]) == 3


def test_an_unreadable_certificate_is_one_line(run_cli, school, tmp_path):
    result = run_cli(
        "sync",
        "m365",
        env={
            "M365_TENANT_ID": TENANT,
            "M365_CLIENT_ID": CLIENT_ID,
            "M365_CERTIFICATE_PATH": str(tmp_path / "missing.pem"),
            "M365_CERTIFICATE_THUMBPRINT": "AB" * 20,
        },
    )
    assert result.code == 1
    assert result.err.startswith("sspbot: M365_CERTIFICATE_PATH: cannot read ")
    assert result.err.count("\n") == 1


def test_a_file_that_is_not_a_private_key_is_one_line(graph, run_cli, school, tmp_path):
    pem = tmp_path / "not-a-key.pem"
    pem.write_text("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n")
    token_ok(graph)

    result = run_cli(
        "sync",
        "m365",
        env={
            "M365_TENANT_ID": TENANT,
            "M365_CLIENT_ID": CLIENT_ID,
            "M365_CERTIFICATE_PATH": str(pem),
            "M365_CERTIFICATE_THUMBPRINT": "AB" * 20,
        },
    )

    assert result.code == 1
    assert result.err.startswith(
        f"sspbot: M365_CERTIFICATE_PATH: {pem} is not an unencrypted PEM private key"
    )
    assert result.err.count("\n") == 1 and "Traceback" not in result.err


def test_sync_time_setting(db_url):
    assert settings_for(db_url, M365_SYNC_AT="02:30").m365_sync_at == time(2, 30)
    assert settings_for(db_url).m365_sync_at is None
    shown = dict(settings_for(db_url, M365_SYNC_AT="2:05").describe())
    assert shown["M365_SYNC_AT"] == "02:05" and shown["M365_CLIENT_SECRET"] == "(set, hidden)"
    for bad in ("25:00", "2.30", "noon", "02:3"):
        with pytest.raises(ConfigError) as wrong:
            settings_for(db_url, M365_SYNC_AT=bad)
        assert str(wrong.value).startswith("M365_SYNC_AT must be a time of day as HH:MM")


# --- the command line ---


def test_the_command_syncs_and_a_dry_run_says_so(graph, run_cli, sessions, school):
    token_ok(graph)
    serve_everything(graph)
    env = {"M365_TENANT_ID": TENANT, "M365_CLIENT_ID": CLIENT_ID, "M365_CLIENT_SECRET": SECRET}

    dry = run_cli("sync", "m365", "--dry-run", "--school", SCHOOL, env=env)
    assert dry.code == 0, dry
    assert dry.out.startswith("Dry run: nothing was written.")
    assert roster(sessions) == ({}, {}, {})

    serve_everything(graph)
    done = run_cli("sync", "m365", env=env)
    assert done.code == 0, done
    assert done.out.startswith("Synced Oakfield Academy from Microsoft 365 (read everything")
    assert len(roster(sessions)[1]) == 3


# --- another cloud, or a local Graph stand-in (M365_AUTHORITY_URL, M365_GRAPH_URL) ---

US_LOGIN_HOST = "https://login.microsoftonline.us"
US_GRAPH_HOST = "https://graph.microsoft.us"
STAND_IN_GRAPH_HOST = "http://127.0.0.1:8765"


CLOUD_TOKEN = "eyJ0eXAiOiJKV1QiLCJjbG91ZCI6dHJ1ZX0.synthetic.token"


def sign_in_at(mocked, host: str, token=CLOUD_TOKEN):
    """Entra at `host`: the tenant's OpenID configuration (which msal reads first) naming a
    token endpoint there, and that endpoint. Returns the token endpoint."""
    login = f"{host}/{TENANT}"
    token_url = f"{login}/oauth2/v2.0/token"
    mocked.add(
        responses.GET,
        f"{login}/v2.0/.well-known/openid-configuration",
        json={
            "token_endpoint": token_url,
            "authorization_endpoint": f"{login}/oauth2/v2.0/authorize",
            "issuer": f"{login}/v2.0",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
            "cloud_instance_name": host.removeprefix("https://login."),
        },
    )
    mocked.add(
        responses.POST,
        token_url,
        json={"token_type": "Bearer", "expires_in": 3599, "access_token": token},
    )
    return token_url


@pytest.mark.parametrize(
    ("login_host", "graph_host"),
    [(US_LOGIN_HOST, US_GRAPH_HOST), ("https://login.stand-in.test", STAND_IN_GRAPH_HOST)],
    ids=["us-government", "local-stand-in"],
)
def test_a_sync_signs_in_and_reads_graph_where_the_settings_say(
    sessions, db_url, school, login_host, graph_host
):
    base = f"{graph_host}/v1.0"
    hosts = {"M365_AUTHORITY_URL": login_host, "M365_GRAPH_URL": graph_host + "/"}
    # Only the configured hosts are mocked: a request to Microsoft's global service fails.
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mocked:
        token_url = sign_in_at(mocked, login_host)
        serve_everything(mocked, base=base)
        first = sync(sessions, db_url, **hosts)
        serve_changes(mocked, base=base, users=[staff_user("u-dan", "Dan", "New", "d@oak.example")])
        second = sync(sessions, db_url, **hosts)
        calls = [call.request for call in mocked.calls]

    assert first.full and not second.full  # the delta links, on that Graph, were followed
    staff, pupils, classes = roster(sessions)
    assert set(staff) == {
        "a.teacher@oakfield.example",
        "b.sendco@oakfield.example",
        "c.assistant@oakfield.example",
        "d@oak.example",
    }
    assert len(pupils) == 3 and set(classes) == {"7X/Ma1", "8Y/En1"}
    assert school_row(sessions).m365_sync_state["users_delta"] == users_delta("U1+", base)
    assert all(r.url.startswith((login_host + "/", base + "/")) for r in calls), calls
    # The token is for that Graph: its scope follows M365_GRAPH_URL.
    (token_request,) = [r for r in calls if r.url == token_url]
    assert f"scope={graph_host}/.default" in requests.utils.unquote(token_request.body)
    graph_requests = [r for r in calls if r.url.startswith(base)]
    assert graph_requests
    assert all(r.headers["Authorization"] == f"Bearer {CLOUD_TOKEN}" for r in graph_requests)


def test_pages_are_followed_on_the_configured_graph(sessions, db_url, school):
    base = f"{STAND_IN_GRAPH_HOST}/v1.0"
    next_page = f"{base}/education/users/delta?$skiptoken=page2"
    with responses.RequestsMock() as mocked:
        sign_in_at(mocked, US_LOGIN_HOST)
        serve_everything(mocked, users=[], base=base)
        mocked.replace(
            responses.GET,
            f"{base}/education/users/delta?$select={USER_SELECT}",
            json=page("educationUser", USERS[:3], next_link=next_page),
        )
        mocked.add(
            responses.GET,
            next_page,
            json=page("educationUser", USERS[3:], delta_link=users_delta("U1", base)),
        )
        sync(
            sessions,
            db_url,
            M365_AUTHORITY_URL=US_LOGIN_HOST,
            M365_GRAPH_URL=STAND_IN_GRAPH_HOST,
        )

    assert len(roster(sessions)[1]) == 3


def test_the_token_goes_only_to_the_configured_graph(sessions, db_url, school):
    base = f"{STAND_IN_GRAPH_HOST}/v1.0"
    before = snapshot(sessions)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        sign_in_at(mocked, US_LOGIN_HOST)
        serve_everything(mocked, base=base)
        # A nextLink to Microsoft's global Graph (or anywhere else) is not followed.
        mocked.replace(
            responses.GET,
            f"{base}/education/users/delta?$select={USER_SELECT}",
            json=page("educationUser", USERS, next_link=f"{GRAPH_URL}/education/users/delta"),
        )
        with pytest.raises(M365Error, match="a link to somewhere other than Graph"):
            sync(
                sessions,
                db_url,
                M365_AUTHORITY_URL=US_LOGIN_HOST,
                M365_GRAPH_URL=STAND_IN_GRAPH_HOST,
            )
        assert not any(c.request.url.startswith(GRAPH_URL) for c in mocked.calls)
    assert snapshot(sessions) == before


def test_after_moving_to_another_graph_the_sync_reads_everything_there(
    graph, sessions, db_url, school
):
    token_ok(graph)
    serve_everything(graph)
    sync(sessions, db_url)  # the global Graph's delta links are saved

    base = f"{US_GRAPH_HOST}/v1.0"
    with responses.RequestsMock() as mocked:
        sign_in_at(mocked, US_LOGIN_HOST)
        serve_everything(mocked, base=base, users_token="US1", classes_token="USC1")
        result = sync(
            sessions, db_url, M365_AUTHORITY_URL=US_LOGIN_HOST, M365_GRAPH_URL=US_GRAPH_HOST
        )

    assert result.full
    assert school_row(sessions).m365_sync_state["users_delta"] == users_delta("US1", base)
    assert school_row(sessions).roster_sync_ok is True


def test_an_unknown_tenant_at_another_cloud_names_the_host(run_cli, school):
    # Entra at that host does not know the tenant (it lives in another cloud).
    discovery = f"{US_LOGIN_HOST}/{TENANT}/v2.0/.well-known/openid-configuration"
    unknown = {"error": "invalid_tenant", "error_description": "AADSTS90002: not found."}
    env = {"M365_TENANT_ID": TENANT, "M365_CLIENT_ID": CLIENT_ID, "M365_CLIENT_SECRET": SECRET}
    with responses.RequestsMock() as mocked:
        mocked.add(responses.GET, discovery, status=400, json=unknown)
        result = run_cli("sync", "m365", env={**env, "M365_AUTHORITY_URL": US_LOGIN_HOST})

    assert result.code == 1
    assert result.err.startswith(
        f"sspbot: M365_TENANT_ID '{TENANT}' is not a tenant Microsoft knows at "
        "login.microsoftonline.us (M365_AUTHORITY_URL)"
    )
    assert result.err.count("\n") == 1


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("M365_GRAPH_URL", "http://graph.microsoft.us"),
        ("M365_AUTHORITY_URL", "login.microsoftonline.us"),
    ],
)
def test_a_bad_endpoint_url_stops_the_sync_with_one_line(run_cli, school, name, value):
    env = {"M365_TENANT_ID": TENANT, "M365_CLIENT_ID": CLIENT_ID, "M365_CLIENT_SECRET": SECRET}
    with responses.RequestsMock() as mocked:  # nothing is asked of anyone
        result = run_cli("sync", "m365", env={**env, name: value})
        assert not mocked.calls

    assert result.code == 2, result
    assert result.err.startswith(f"sspbot: {name} {value!r} must start with https://")
    assert result.err.count("\n") == 1


# --- Slack accounts ---


def test_staff_are_matched_to_slack_by_email(graph, emulator, sessions, db_url, school):
    emulator.reset()
    emulator.add_user("U0ALEXT", email="a.teacher@oakfield.example")
    token_ok(graph)
    serve_everything(graph)

    result = sync(
        sessions,
        db_url,
        SLACK_BOT_TOKEN=emulator.bot_token,
        SLACK_API_URL=emulator.api_url,
    )

    with sessions() as session:
        ids = {m.email: m.slack_user_id for m in session.scalars(select(Staff))}
    assert ids["a.teacher@oakfield.example"] == "U0ALEXT"
    assert ids["b.sendco@oakfield.example"] is None
    assert result.slack == (
        "Slack: 1 member(s) of staff matched to Slack accounts by email; 2 not found in Slack "
        "(asked again in a week)."
    )
    # One page of the workspace's member list, rather than a lookup per person.
    assert len(emulator.calls_to("users.list")) == 1
    assert emulator.calls_to("users.lookupByEmail") == []


# --- what the SENDCo sees, and the nightly run ---


def test_the_last_sync_is_at_the_foot_of_the_caseload(slack):
    from tests.slack_harness import text_of

    with slack.sessions.begin() as session:
        school = session.scalars(select(School).where(School.name == "Brookside High")).one()
        school.roster_sync_attempted_at = school.roster_synced_at = datetime(
            2026, 11, 23, 2, 30, tzinfo=UTC
        )
        school.roster_sync_ok = True
        school.roster_sync_result = "98 staff, 1200 pupils, 310 classes; 4 changes"

    text = text_of(slack.ask("U0SENDCO", "caseload"))
    assert (
        "Roster last synced from Microsoft 365 on 23 Nov 2026 at 02:30: "
        "98 staff, 1200 pupils, 310 classes; 4 changes."
    ) in text

    with slack.sessions.begin() as session:
        school = session.scalars(select(School).where(School.name == "Brookside High")).one()
        school.roster_sync_attempted_at = datetime(2026, 11, 24, 2, 30, tzinfo=UTC)
        school.roster_sync_ok = False
        school.roster_sync_result = "Microsoft 365 sign-in failed: check M365_CLIENT_SECRET."

    text = text_of(slack.ask("U0SENDCO", "caseload"))
    assert (
        "Roster sync from Microsoft 365 failed on 24 Nov 2026 at 02:30: Microsoft 365 sign-in "
        "failed: check M365_CLIENT_SECRET. Last successful sync: 23 Nov 2026 at 02:30."
    ) in text


def test_the_caseload_says_nothing_of_syncing_when_there_is_none(slack):
    from tests.slack_harness import text_of

    assert "Microsoft 365" not in text_of(slack.ask("U0SENDCO", "caseload"))


def test_sync_status_is_in_the_schools_time(sessions, school):
    with sessions.begin() as session:
        row = session.get(School, school)
        assert sync_status(session, school) is None
        row.roster_sync_attempted_at = datetime(2026, 7, 1, 1, 30, tzinfo=UTC)
        row.roster_sync_ok, row.roster_sync_result = True, "no changes"
    with sessions() as session:
        status = sync_status(session, school)
    assert status.attempted_at.hour == 2  # British Summer Time
    assert status.ok and status.last_success is None


def test_the_nightly_sync_is_due_once_a_day_after_its_time(sessions, school):
    at = time(2, 30)
    with sessions() as session:
        row = session.get(School, school)
        assert not sync_is_due(row, datetime(2026, 11, 24, 2, 29, tzinfo=UTC), at)
        assert sync_is_due(row, datetime(2026, 11, 24, 2, 30, tzinfo=UTC), at)
        row.roster_sync_attempted_at = datetime(2026, 11, 24, 2, 31, tzinfo=UTC)
        assert not sync_is_due(row, datetime(2026, 11, 24, 23, 0, tzinfo=UTC), at)
        assert sync_is_due(row, datetime(2026, 11, 25, 2, 30, tzinfo=UTC), at)
        # In summer 02:30 at the school is 01:30 UTC.
        row.roster_sync_attempted_at = datetime(2026, 6, 30, 1, 30, tzinfo=UTC)
        assert sync_is_due(row, datetime(2026, 7, 1, 1, 30, tzinfo=UTC), at)


def test_the_nightly_hook_runs_the_sync_when_due(graph, sessions, db_url, school):
    token_ok(graph)
    serve_everything(graph)
    started = []
    nightly = NightlySync(
        sessions,
        settings_for(db_url, M365_SYNC_AT="02:30"),
        start=lambda run: (started.append(run), run()),
    )

    assert nightly(datetime(2026, 11, 24, 2, 0, tzinfo=UTC)) is False
    assert nightly(NOW) is True
    assert nightly(datetime(2026, 11, 24, 2, 31, tzinfo=UTC)) is False  # done for today

    assert len(started) == 1
    assert len(roster(sessions)[1]) == 3
    assert school_row(sessions).roster_sync_ok is True


def test_a_failed_nightly_sync_is_not_retried_until_the_next_night(graph, sessions, db_url, school):
    graph.add(
        responses.POST,
        TOKEN_URL,
        status=401,
        json={"error": "invalid_client", "error_description": "AADSTS7000222: expired secret."},
    )
    nightly = NightlySync(
        sessions, settings_for(db_url, M365_SYNC_AT="02:30"), start=lambda run: run()
    )

    assert nightly(NOW) is True
    assert nightly(datetime(2026, 11, 24, 3, 0, tzinfo=UTC)) is False
    saved = school_row(sessions)
    assert saved.roster_sync_ok is False
    assert "check M365_CLIENT_SECRET" in saved.roster_sync_result


def test_the_nightly_hook_needs_to_know_the_school_when_there_are_several(
    sessions, db_url, school, caplog
):
    with sessions.begin() as session:
        session.add(School(name="Hillside School"))
    nightly = NightlySync(sessions, settings_for(db_url, M365_SYNC_AT="02:30"), start=lambda r: r())

    assert nightly(NOW) is False
    assert nightly(NOW) is False
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "say which with --school NAME" in warnings[0]

    named = NightlySync(
        sessions,
        settings_for(db_url, M365_SYNC_AT="02:30", M365_SCHOOL="hillside school"),
        start=lambda run: None,
    )
    assert named(NOW) is True


def test_the_scheduler_loop_calls_the_nightly_hook(sessions):
    import threading

    from handlers.scheduler import run_every_minute

    stop = threading.Event()
    seen = []

    def nightly(now):
        seen.append(now)
        stop.set()

    run_every_minute(sessions, None, lambda: NOW, stop, nightly=nightly).join(10)

    assert seen == [NOW]


def test_a_sync_keeps_tutors_forms_and_a_class_s_support_staff(graph, sessions, db_url, school):
    # Microsoft 365 knows nothing of forms tutored or support staff: the staff and classes
    # CSVs give them, and a sync (delta or full) leaves them as they are.
    token_ok(graph)
    serve_everything(graph)
    sync(sessions, db_url)
    with sessions.begin() as session:
        cal = session.scalar(select(Staff).where(Staff.email == "c.assistant@oakfield.example"))
        cal.set_roles({StaffRole.TEACHING_ASSISTANT, StaffRole.FORM_TUTOR})
        cal.scopes = [StaffScope(form="7K")]
        bea = session.scalar(select(Staff).where(Staff.email == "b.sendco@oakfield.example"))
        english = session.scalar(select(TeachingGroup).where(TeachingGroup.code == "8Y/En1"))
        english.support = [TeachingGroupSupport(staff_id=bea.id)]
    graph.calls.reset()
    serve_changes(
        graph,
        users=[{"id": "u-pip", "surname": "Apple-Tree"}],
        membership={MATHS["id"]: (["u-bea"], ["u-bea", "u-pip"])},
        classes=[{**MATHS, "grade": "7"}],
    )

    sync(sessions, db_url)

    with sessions() as session:
        cal = session.scalar(select(Staff).where(Staff.email == "c.assistant@oakfield.example"))
        assert StaffRole.FORM_TUTOR in cal.roles and [s.form for s in cal.scopes] == ["7K"]
        english = session.scalar(select(TeachingGroup).where(TeachingGroup.code == "8Y/En1"))
        assert [(s.staff.email, s.is_active) for s in english.support] == [
            ("b.sendco@oakfield.example", True)
        ]
