"""Requests to one family link at the same moment: the count of wrong dates of birth and of
submissions is kept by the database, so sending several together gets no more tries and no more
answers than sending them one by one. Two sessions stand for two requests being served at once:
each reads the link before either writes."""

from __future__ import annotations

from datetime import date

import pytest

from bot.services import family
from handlers.web import family as web_family
from models import Invitation
from tests.family_harness import Family, make_link, start_public_app
from tests.slack_harness import build_school

WRONG = date(2011, 1, 1)


@pytest.fixture
def link(emulator, sessions, clock, monkeypatch):
    monkeypatch.setattr(web_family, "PER_LINK", web_family.RateLimit(30, 600))
    monkeypatch.setattr(web_family, "PER_ADDRESS", web_family.RateLimit(60, 600))
    emulator.reset()
    with sessions.begin() as session:
        build_school(session, emulator)
    running = start_public_app(emulator, sessions, clock)
    try:
        yield running, make_link(running)
    finally:
        running.server.stop()


def two_requests(sessions, token, clock):
    first, second = sessions(), sessions()
    return (first, family.usable(first, token, clock.now)), (
        second,
        family.usable(second, token, clock.now),
    )


def test_wrong_dates_sent_together_all_count_and_lock_the_link(link, sessions, clock):
    running, url = link
    token = url.rsplit("/", 1)[-1]
    Family(url).birth_date("1", "1", "2011")  # one wrong try, on its own
    (first, a), (second, b) = two_requests(sessions, token, clock)
    assert a is not None and b is not None
    assert family.check_birth_date(first, a, WRONG, clock.now) == 1
    first.commit()
    # The second request read the link when it had one wrong try: it still sees the third.
    assert family.check_birth_date(second, b, WRONG, clock.now) == 0
    second.commit()
    first.close(), second.close()
    with sessions() as session:
        stored = session.query(Invitation).one()
        assert stored.failed_checks == 3 and stored.locked_at is not None
    assert "This link does not work" in Family(url).open().text


def test_two_forms_sent_together_cannot_both_take_the_last_answer(link, sessions, clock):
    running, url = link
    token = url.rsplit("/", 1)[-1]
    with sessions.begin() as session:
        session.query(Invitation).update({"submissions": Invitation.max_submissions - 1})
    (first, a), (second, b) = two_requests(sessions, token, clock)
    answers = {"working": "Reading at bedtime."}
    family.submit(first, a, name="Mrs Stone", relationship="mother", answers=answers,
                  now=clock.now)  # fmt: skip
    first.commit()
    with pytest.raises(family.UsedUp):
        family.submit(second, b, name="Mr Stone", relationship="father", answers=answers,
                      now=clock.now)  # fmt: skip
    second.rollback()
    first.close(), second.close()
    with sessions() as session:
        stored = session.query(Invitation).one()
        assert stored.submissions == stored.max_submissions
