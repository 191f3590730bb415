"""The people around the pupil (issue 18): teaching assistants, form tutors, heads of year and
pastoral staff each see exactly the pupils they support, as a teacher does (not the whole
plan); "not yours" reads exactly as "nobody"; the SENDCo links key adults with `/ssp support`.
Everything through the signed endpoint and the emulator."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event, func, select

from models import (
    AuditEvent,
    KeyAdult,
    PlanPerson,
    PlanPersonRole,
    Pupil,
    Staff,
    StaffRole,
    StaffScope,
    TeachingGroup,
    TeachingGroupPupil,
    TeachingGroupSupport,
)
from tests.slack_harness import text_of

# Everyone in Brookside High (and Zed, in another school) by the name `/ssp pupil` is asked.
PUPILS = (
    "Ava Stone",  # Year 9, 9A; plan delivered by Sam Jones (the TA)
    "Ben Stone",  # Year 9, 9A
    "Cara Lin",  # Year 9, 9A; in 9A/En1 (Lee Chan teaches)
    "Dev Patel",  # Year 9, 9A; in 9A/En1
    "Eli Moss",  # Year 7, 7K, Brunel
    "Fay North",  # Year 8, 8M, Curie; in 8M/Sc1, which Sam Jones supports
    "Gil West",  # Year 10, 10B, brunel (the MIS's spelling)
    "Hal Gone",  # Year 7, 7K, Brunel, in 8M/Sc1: has left the school
    "Zed Other",  # another school
)

SEES = {
    "U0TA": {"Ava Stone", "Fay North"},
    "U0TUTOR": {"Eli Moss"},
    "U0HOY": {"Fay North", "Gil West"},
    "U0PASTORAL": {"Eli Moss", "Gil West"},
    "U0LEE": {"Cara Lin", "Dev Patel"},  # a teacher, as before
}


@pytest.fixture
def school_extras():
    def extras(session, ids):
        school = ids["school"]

        def person(first, last, slack_id, role, **scope):
            member = Staff(
                school_id=school,
                email=f"{first}.{last}@brookside.example.org".lower(),
                first_name=first,
                last_name=last,
                slack_user_id=slack_id,
            )
            member.set_roles({role})
            member.scopes = [StaffScope(**{k: v}) for k, vs in scope.items() for v in vs]
            session.add(member)
            return member

        tutor = person("Tia", "Tutor", "U0TUTOR", StaffRole.FORM_TUTOR, form=["7k"])
        hoy = person("Hugo", "Year", "U0HOY", StaffRole.HEAD_OF_YEAR, year_group=[8, 10])
        pastoral = person("Pat", "Care", "U0PASTORAL", StaffRole.PASTORAL, house=["Brunel"])

        def child(first, last, serial, year, form, house, on_roll=True):
            pupil = Pupil(
                school_id=school,
                upn=f"A82012345{serial:04d}",
                first_name=first,
                last_name=last,
                date_of_birth=date(2013, 5, 6),
                year_group=year,
                form=form,
                house=house,
                is_active=on_roll,
                left_on=None if on_roll else date(2026, 10, 1),
            )
            session.add(pupil)
            return pupil

        eli = child("Eli", "Moss", 101, 7, "7K", "Brunel")
        fay = child("Fay", "North", 102, 8, "8M", "Curie")
        gil = child("Gil", "West", 103, 10, "10B", "brunel")
        hal = child("Hal", "Gone", 104, 7, "7K", "Brunel", on_roll=False)
        science = TeachingGroup(school_id=school, code="8M/Sc1", subject="Science", year_group=8)
        science.members = [TeachingGroupPupil(pupil=fay), TeachingGroupPupil(pupil=hal)]
        science.support = [TeachingGroupSupport(staff_id=ids["ta"])]
        session.add(science)
        session.add(
            PlanPerson(
                plan_id=ids["ava_plan"],
                role=PlanPersonRole.DELIVERS,
                name="Sam Jones",
                relationship_to_cyp="Teaching assistant",
                staff_id=ids["ta"],
            )
        )
        session.flush()
        return {
            "tutor": tutor.id,
            "hoy": hoy.id,
            "pastoral": pastoral.id,
            "eli": eli.id,
            "fay": fay.id,
            "gil": gil.id,
            "hal": hal.id,
            "science": science.id,
        }

    return extras


@pytest.fixture
def people(slack):
    for slack_id, name in (
        ("U0TUTOR", "Tia Tutor"),
        ("U0HOY", "Hugo Year"),
        ("U0PASTORAL", "Pat Care"),
    ):
        first, last = name.split()
        slack.emulator.add_user(
            slack_id, email=f"{first}.{last}@brookside.example.org".lower(), real_name=name
        )
    return slack


def not_found(slack, user: str, name: str) -> bool:
    """True when `/ssp pupil NAME` reads exactly as it does for a pupil who does not exist."""
    asked = text_of(slack.ask(user, f"pupil {name}"))
    nobody = text_of(slack.ask(user, "pupil Nobody Atall"))
    return asked.replace(name, "X") == nobody.replace("Nobody Atall", "X")


@pytest.mark.parametrize("user", sorted(SEES))
def test_each_role_sees_exactly_the_pupils_it_supports(people, user):
    slack = people
    for name in PUPILS:
        text = text_of(slack.ask(user, f"pupil {name}"))
        if name in SEES[user]:
            assert name in text and "couldn't find" not in text, (user, name, text)
            # A supporter's view, not the record: no date of birth, no SEN stage.
            assert "2013" not in text and "2012" not in text
            assert "the SENDCo and case holder see the whole plan" in text or "No SEN" in text
        else:
            assert not_found(slack, user, name), (user, name)


def test_a_supporter_sees_what_a_teacher_sees_of_the_plan_and_no_more(slack):
    text = text_of(slack.ask("U0TA", "pupil Ava Stone"))
    assert "Coloured overlay for reading" in text and "Read 20 high-frequency words" in text
    # The needs, the provision and the date of birth are the record's, not a supporter's.
    assert "Slow reading speed" not in text and "Lexia" not in text and "2012" not in text
    assert "As one of the staff who support them" in text
    # A teacher is still told they see it as a teacher.
    assert "As one of their teachers" in text_of(slack.ask("U0LEE", "pupil Cara Lin"))
    # And the whole plan stays closed to them.
    assert "Only the SENDCo, senior leaders and the plan's case holder" in text_of(
        slack.ask("U0TA", "export Ava Stone")
    )


def test_a_pupil_who_left_is_gone_from_their_class_support_and_form(people):
    slack = people
    for user in ("U0TA", "U0TUTOR", "U0PASTORAL"):
        assert not_found(slack, user, "Hal Gone")


def key_adults(slack) -> list[tuple[int, int, bool]]:
    with slack.sessions() as session:
        return [
            (row.pupil_id, row.staff_id, row.ended_at is None)
            for row in session.scalars(select(KeyAdult).order_by(KeyAdult.id))
        ]


def audited(slack, action: str) -> int:
    with slack.sessions() as session:
        return session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
        )


def test_the_sendco_links_a_key_adult_and_ending_it_takes_the_pupil_away(slack):
    assert not_found(slack, "U0TA", "Gil West")

    done = text_of(slack.ask("U0SENDCO", "support <@U0TA|sam> Gil West"))
    assert "is now Gil West's key adult" in done
    assert key_adults(slack) == [(slack.ids["gil"], slack.ids["ta"], True)]
    assert audited(slack, "key_adult_link") == 1

    seen = text_of(slack.ask("U0TA", "pupil Gil West"))
    assert "Gil West" in seen and "Key adult" in seen
    # Shown as key adult to the SENDCo too, where the pupil is shown.
    assert "Key adult: @U0TA" in text_of(slack.ask("U0SENDCO", "pupil Gil West"))
    again = text_of(slack.ask("U0SENDCO", "support <@U0TA|sam> Gil West"))
    assert "already Gil West's key adult" in again and len(key_adults(slack)) == 1

    ended = text_of(slack.ask("U0SENDCO", "support <@U0TA|sam> Gil West remove"))
    assert "no longer Gil West's key adult" in ended
    assert key_adults(slack) == [(slack.ids["gil"], slack.ids["ta"], False)]
    assert audited(slack, "key_adult_end") == 1
    assert not_found(slack, "U0TA", "Gil West")
    assert "Key adult" not in text_of(slack.ask("U0SENDCO", "pupil Gil West"))


@pytest.mark.parametrize("user", ["U0LEE", "U0TA", "U0SLT", "U0PRIYA"])
def test_only_the_sendco_links_key_adults(slack, user):
    refused_before = audited(slack, "refused")
    for typed in ("support <@U0TA|sam> Gil West", "support <@U0TA|sam> Ava Stone remove"):
        assert "Only the SENDCo links key adults" in text_of(slack.ask(user, typed))
    assert key_adults(slack) == []
    assert audited(slack, "refused") == refused_before + 2
    assert not_found(slack, "U0TA", "Gil West")


def test_a_key_adult_must_be_someone_who_supports_pupils(slack):
    said = text_of(slack.ask("U0SENDCO", "support <@U0SLT|dana> Gil West"))
    assert "isn't a teaching assistant" in said and key_adults(slack) == []
    assert "Use `/ssp support @name" in text_of(slack.ask("U0SENDCO", "support Gil West"))
    stranger = text_of(slack.ask("U0SENDCO", "support <@U0STRANGER|x> Gil West"))
    assert "can't find that person" in stranger and key_adults(slack) == []
    # Another school's pupil is nobody here.
    assert "couldn't find a pupil" in text_of(slack.ask("U0SENDCO", "support <@U0TA|s> Zed"))


def test_help_lists_support_for_the_sendco_only(slack):
    assert "/ssp support @name" in text_of(slack.ask("U0SENDCO", "help"))
    assert "/ssp support" not in text_of(slack.ask("U0TA", "help"))
    assert "/ssp pupil" in text_of(slack.ask("U0TA", "help"))


def test_finding_supported_pupils_takes_the_same_queries_however_many_there_are(slack, engine):
    def selects() -> int:
        statements: list[str] = []

        def count(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        try:
            text = text_of(slack.ask("U0TA", "pupil Many"))
            assert "Several pupils match" in text
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len([s for s in statements if s.lstrip().upper().startswith("SELECT")])

    def add(count: int, start: int) -> None:
        with slack.sessions.begin() as session:
            group = session.get(TeachingGroup, slack.ids["science"])
            for n in range(start, start + count):
                pupil = Pupil(
                    school_id=slack.ids["school"],
                    upn=f"A82012346{n:04d}",
                    first_name="Many",
                    last_name=f"Pupil{n:02d}",
                    date_of_birth=date(2013, 1, 1),
                    year_group=8,
                )
                session.add(pupil)
                session.flush()
                if n % 2:
                    group.members.append(TeachingGroupPupil(pupil_id=pupil.id))
                else:
                    session.add(
                        KeyAdult(
                            school_id=pupil.school_id, pupil_id=pupil.id, staff_id=slack.ids["ta"]
                        )
                    )

    add(2, 0)
    few = selects()
    add(16, 2)
    assert selects() == few
