"""The families' pages while the database is away or hangs (the app reaches PostgreSQL through a
proxy the test cuts or stalls, as tests/test_db_faults.py does): every page answers within
seconds with the same calm "Sorry, something went wrong ... Nothing was sent" page, an answer
sent meanwhile saves nothing (no contribution, reply or agreement, the link's answers not used),
and sending it again once the database is back works.

Brookside High (tests/slack_harness.py): Priya Shah holds Ava Stone's plan; Ava was born on
4 March 2012.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from handlers.web import family as web_family
from models import Contribution, Invitation, MeetingReply, PlanAgreement
from tests.db_proxy import DbProxy
from tests.family_harness import Family, csrf_of, make_link, start_public_app
from tests.slack_harness import build_school
from tests.test_db_faults import on_postgresql
from tests.test_family_agreement import agreement_link, version_shown
from tests.test_family_meeting import FAMILY, meeting_link

PROBLEM = "Sorry, something went wrong"
NOTHING_SENT = "Nothing was sent. Please try again later"
# FOR_REQUESTS: a pre-ping waits 2 s, a new connection 2 s; anything past this is a hang.
PROMPTLY = 8.0


@pytest.fixture(autouse=True)
def fresh_limits(monkeypatch):
    monkeypatch.setattr(web_family, "PER_LINK", web_family.RateLimit(60, 600))
    monkeypatch.setattr(web_family, "PER_ADDRESS", web_family.RateLimit(200, 600))


@pytest.fixture
def app(emulator, sessions, db_url, school_extras, clock):
    from bot import db
    from handlers.context import wait_for_background_work
    from handlers.scheduler import wait_for_deliveries

    url = make_url(db_url)
    with DbProxy((url.host or "127.0.0.1", url.port or 5432)) as proxy:
        emulator.reset()
        with sessions.begin() as session:
            ids = build_school(session, emulator)
        engine = db.make_engine(proxy.url(db_url))
        running = start_public_app(emulator, db.make_session_factory(engine), clock)
        running.ids, running.proxy, running.direct = ids, proxy, sessions
        try:
            yield running
        finally:
            proxy.passes()
            running.server.stop()
            wait_for_background_work()
            wait_for_deliveries()
            engine.dispose()


def views_answer(page_html: str) -> dict:
    return {"contributor_name": "Mrs Stone", "contributor_relationship": "mother",
            "q_working": "Reading together at bedtime"}  # fmt: skip


def meeting_answer(page_html: str) -> dict:
    return {**FAMILY, "can_come": "yes", "join_by": "video"}


def agreement_answer(page_html: str) -> dict:
    return {
        "version": version_shown(page_html), "decision": "agreed", "name": "Mrs Stone",
        "relationship": "mother", "day": "23", "month": "11", "year": "2026",
        "sharing": "school_staff",
    }  # fmt: skip


PURPOSES = {
    # purpose: (make the link, the page, the answer, what is kept, where a sent answer lands)
    "views": (make_link, "/form", views_answer, Contribution, "/sent"),
    "meeting": (meeting_link, "/meeting", meeting_answer, MeetingReply, "/meeting/sent"),
    "agreement": (agreement_link, "/agreement", agreement_answer, PlanAgreement, "/agreement/sent"),
}


def away(app, mode: str) -> None:
    getattr(app.proxy, mode)()


def calm(answer, started: float) -> None:
    """The calm page, promptly, saying the database is away for now."""
    assert time.monotonic() - started < PROMPTLY
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "120"
    assert PROBLEM in answer.text and NOTHING_SENT in answer.text
    assert "Ava" not in answer.text


def kept(app, model) -> tuple[int, int]:
    """(rows kept of the answer's kind, answers used on the links)."""
    with app.direct() as session:
        rows = session.scalar(select(func.count()).select_from(model))
        used = session.scalar(select(func.coalesce(func.sum(Invitation.submissions), 0)))
    return rows, used


@on_postgresql
@pytest.mark.parametrize("mode", ["cut", "stall"])
@pytest.mark.parametrize("purpose", list(PURPOSES))
def test_an_answer_sent_while_the_database_is_away_saves_nothing_and_sending_again_works(
    app, purpose, mode
):
    make, path, answer_of, model, thanks = PURPOSES[purpose]
    family = Family(make(app))
    assert family.birth_date("4", "3", "2012").url.endswith(path)
    page = family.open(path)
    answer = {"csrf_token": csrf_of(page.text), **answer_of(page.text)}

    away(app, mode)
    started = time.monotonic()
    refused = family.http.post(family.link + path, data=answer, timeout=30)
    calm(refused, started)
    # Nothing of it is kept: nothing half-saved, no answer of the link used, no thanks page.
    app.proxy.passes()
    assert kept(app, model) == (0, 0)
    assert family.open(thanks).status_code == 404

    # Told to try again: the same browser sends the same answer once the database is back.
    again = family.post(path, {k: v for k, v in answer.items() if k != "csrf_token"})
    assert again.status_code == 200 and again.url.endswith(thanks), again.url
    assert kept(app, model) == (1, 1)


@on_postgresql
@pytest.mark.parametrize("mode", ["cut", "stall"])
def test_every_family_page_answers_calmly_while_the_database_is_away(app, mode):
    views, meeting, agreement = (Family(make(app)) for make, *_ in PURPOSES.values())
    for family in (meeting, agreement):
        family.birth_date("4", "3", "2012")
    stranger = Family(views.link)
    away(app, mode)
    pages = [
        (stranger, ""),  # the date-of-birth check
        (stranger, "/letter"),
        (views, "/form"),
        (meeting, "/meeting"),
        (agreement, "/agreement"),
        (agreement, "/agreement/sent"),
        (agreement, "/plan.pdf"),
    ]
    for family, path in pages:
        started = time.monotonic()
        calm(family.http.get(family.link + path, timeout=30), started)
    # A date of birth typed meanwhile is not counted against the link.
    started = time.monotonic()
    typed = {"csrf_token": "x", "day": "1", "month": "1", "year": "2000"}
    refused = stranger.http.post(stranger.link, data=typed, timeout=30)
    assert refused.status_code in (400, 503)  # the CSRF token is checked before the database
    app.proxy.passes()
    with app.direct() as session:
        assert session.scalar(select(func.sum(Invitation.failed_checks))) == 0
