"""The passport for the people around the pupil (issue 18): a teaching assistant, form tutor,
head of year or pastoral member of staff gets the passport of exactly the pupils they support,
with the pupil's key adult on it; anyone else's reads as a pupil who does not exist."""

from __future__ import annotations

import pytest

import tests.test_supporting_roles as supporting_roles
from tests.slack_harness import text_of

# The school of tests/test_supporting_roles.py: its tutor, head of year and pastoral lead.
school_extras = supporting_roles.school_extras
people = supporting_roles.people


def passport_not_found(slack, user: str, name: str) -> bool:
    asked = text_of(slack.ask(user, f"passport {name}"))
    nobody = text_of(slack.ask(user, "passport Nobody Atall"))
    return asked.replace(name, "X") == nobody.replace("Nobody Atall", "X")


def test_the_key_adult_is_on_the_passport_for_the_people_who_support_the_pupil(people):
    slack = people
    before = text_of(slack.ask("U0TA", "passport Ava Stone"))
    assert "Ava Stone" in before and "key adult" not in before
    assert "is now Ava Stone's key adult" in text_of(
        slack.ask("U0SENDCO", "support <@U0TA|sam> Ava Stone")
    )
    for user in ("U0TA", "U0SENDCO", "U0PRIYA"):
        assert "key adult @U0TA" in text_of(slack.ask(user, "passport Ava Stone")), user


@pytest.mark.parametrize(
    ("user", "theirs", "not_theirs"),
    [
        ("U0HOY", "Fay North", "Ava Stone"),
        ("U0TUTOR", "Eli Moss", "Fay North"),
        ("U0PASTORAL", "Gil West", "Fay North"),
    ],
)
def test_each_supporting_role_gets_only_its_pupils_passports(people, user, theirs, not_theirs):
    seen = text_of(people.ask(user, f"passport {theirs}"))
    # Their pupils have no plan here: the passport says so, which a stranger is never told.
    assert not passport_not_found(people, user, theirs), seen
    assert passport_not_found(people, user, not_theirs)


def test_a_teaching_assistant_sees_the_classes_they_support(people):
    theirs = text_of(people.ask("U0TA", "class"))
    assert "8M/Sc1" in theirs, theirs
    assert "Fay North" not in theirs  # counts only: nobody in it has a plan
    assert "8M/Sc1" in text_of(people.ask("U0TA", "class 8M/Sc1"))
    # A teacher of other classes gets the same answer as for a class that doesn't exist.
    other = text_of(people.ask("U0LEE", "class 8M/Sc1"))
    nothing = text_of(people.ask("U0LEE", "class ZZ/Zz9"))
    assert other.replace("8M/Sc1", "X") == nothing.replace("ZZ/Zz9", "X")
