"""What a school sees when its database goes away or hangs, driven through the signed endpoint
with the app's PostgreSQL connection running through a proxy the test cuts or stalls
(tests/db_proxy.py).

A form submitted meanwhile stays open with what was typed and says nothing was saved; a command
is answered at once with a line; /healthz answers and /readyz says the database isn't; a CLI
command prints one line.
"""

from __future__ import annotations

import sqlite3
import urllib.error
import urllib.request
from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bot import cli, db
from bot.config import Settings
from models import CaseHolderAssignment, NeedCode, Pupil, Review, SenStage, TimelineEntry
from tests.db_proxy import DbProxy
from tests.slack_harness import build_school, start_app, text_of


def on_postgresql(test):
    """Runs the test on PostgreSQL only (the proxy stands in front of it); skipped as the
    suite's other PostgreSQL runs are when none answers."""
    return pytest.mark.postgresql(
        pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)(test)
    )


NOTHING_SAVED = "Nothing was saved"


@pytest.fixture
def proxy(db_url):
    """A proxy in front of the PostgreSQL server the test's database is on."""
    url = make_url(db_url)
    with DbProxy((url.host or "127.0.0.1", url.port or 5432)) as running:
        yield running


@pytest.fixture
def app(emulator, sessions, db_url, proxy, clock):
    """The app, as the `slack` fixture makes it, but reaching PostgreSQL through `proxy`; the
    school is built (and checked) over a direct connection."""
    emulator.reset()
    with sessions.begin() as session:
        ids = build_school(session, emulator)
        ids["eve"] = _pupil_without_a_plan(session, ids["school"])
    engine = db.make_engine(proxy.url(db_url))
    running = start_app(emulator, db.make_session_factory(engine), clock=clock)
    running.ids = ids
    running.direct = sessions
    yield running
    proxy.passes()
    running.server.stop()
    from handlers.context import wait_for_background_work
    from handlers.scheduler import wait_for_deliveries

    wait_for_background_work()
    wait_for_deliveries()
    engine.dispose()


def _pupil_without_a_plan(session, school_id: int) -> int:
    eve = Pupil(
        school_id=school_id,
        upn="A820123456010",
        first_name="Eve",
        last_name="Ray",
        date_of_birth=date(2012, 1, 1),
        year_group=9,
        form="9B",
        sen_stage=SenStage.EHC_PLAN,
        primary_need=NeedCode.SEMH,
    )
    session.add(eve)
    session.flush()
    return eve.id


def _open_by_command(app, user: str, command: str) -> dict:
    opened = len(app.emulator.calls_to("views.open"))
    assert app.sender.command(user, command).status == 200
    app.emulator.wait_for(lambda calls: len(app.emulator.calls_to("views.open")) > opened)
    return app.emulator.open_views(user)[-1]


def _first_input(view: dict) -> str:
    return next(b["block_id"] for b in view["blocks"] if b["type"] == "input")


def _kept_open(answer: dict, view: dict) -> str:
    """The form stays open (Slack shows an error under a field, and keeps what was typed):
    returns what it says."""
    assert answer["response_action"] == "errors", answer
    assert list(answer["errors"]) == [_first_input(view)]
    return answer["errors"][_first_input(view)]


def _count(app, model) -> int:
    return _count_in(app.direct, model)


def _count_in(sessions, model) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def _text(value: str) -> dict:
    return {"type": "plain_text_input", "value": value}


def _choose(value: str) -> dict:
    return {"type": "static_select", "selected_option": {"value": value}}


def _day(value: str) -> dict:
    return {"type": "datepicker", "selected_date": value}


# --- forms ------------------------------------------------------------------------------------


@on_postgresql
def test_review_notes_submitted_while_the_database_is_cut_stay_in_the_open_form(app, proxy):
    view = _open_by_command(app, "U0PRIYA", "review Ava")
    target = next(
        b["block_id"] for b in view["blocks"] if b.get("block_id", "").startswith("result:")
    )
    notes = {
        target: _choose("achieved"),
        target.replace("result:", "evidence:"): _text("Read 22 of 20 words on sight"),
        "what_is_working": _text("Daily Lexia sessions"),
        "what_is_not_working": _text("Homework reading logs"),
        "what_needs_to_change": _text("Move reading to registration"),
        "cyp_views": _text("Ava says the overlay helps"),
        "family_views": _text("Mum is pleased"),
        "next_steps": _text("New target on spelling"),
        "attendees": _text("Ava, mum, Priya Shah"),
        "meeting_date": _day("2026-11-20"),
        "next_review_date": _day("2027-03-01"),
        "new_outcomes_needed": _choose("no"),
        **{
            b["block_id"]: _choose("continue")
            for b in view["blocks"]
            if b.get("block_id", "").startswith("provision:")
        },
        **{
            b["block_id"]: _choose("effective")
            for b in view["blocks"]
            if b.get("block_id", "").startswith("effectiveness:")
        },
    }
    proxy.cut()
    reply = app.sender.submit("U0PRIYA", view, notes)
    assert reply.status == 200
    said = _kept_open(reply.json(), view)
    assert NOTHING_SAVED in said and "try again" in said
    proxy.passes()
    assert _count(app, Review) == 0
    # Once the database is back, the same form is saved.
    done = app.sender.submit("U0PRIYA", view, notes).json()
    assert done["response_action"] == "update", done
    assert "review is submitted" in text_of(done["view"])


@on_postgresql
def test_a_note_submitted_while_the_database_is_cut_stays_in_the_open_form(app, proxy):
    view = _open_by_command(app, "U0PRIYA", "note Ava")
    typed = {"kind": _choose("phone_call"), "text--0": _text("Mum called re reading")}
    before = _count(app, TimelineEntry)
    proxy.cut()
    said = _kept_open(app.sender.submit("U0PRIYA", view, typed).json(), view)
    assert NOTHING_SAVED in said
    proxy.passes()
    assert _count(app, TimelineEntry) == before


@on_postgresql
def test_an_assignment_submitted_while_the_database_is_cut_stays_in_the_open_form(app, proxy):
    opened = len(app.emulator.calls_to("views.open"))
    app.sender.button("U0SENDCO", "ssp_assign_open", str(app.ids["eve"]))
    app.emulator.wait_for(lambda calls: len(app.emulator.calls_to("views.open")) > opened)
    view = app.emulator.open_views("U0SENDCO")[-1]
    holder = next(b for b in view["blocks"] if b.get("block_id") == "holder")
    typed = {
        "holder": {"type": "static_select", "selected_option": holder["element"]["initial_option"]},
        "reason": _text("SEMH specialist"),
    }
    proxy.cut()
    said = _kept_open(app.sender.submit("U0SENDCO", view, typed).json(), view)
    assert NOTHING_SAVED in said
    proxy.passes()
    assert _count(app, CaseHolderAssignment) == 0


@on_postgresql
def test_a_form_whose_database_fails_after_the_identity_check_stays_open(app, proxy, monkeypatch):
    """The database goes while the form's own listener is working, after the middleware found
    the person: the listener's error keeps the form open all the same."""
    from bot.services import reviews

    def cut_then_add(*args, **kwargs):
        proxy.cut()
        return add_note(*args, **kwargs)

    add_note = reviews.add_note
    monkeypatch.setattr(reviews, "add_note", cut_then_add)
    view = _open_by_command(app, "U0PRIYA", "note Ava")
    typed = {"kind": _choose("note"), "text--0": _text("Mum called re reading")}
    before = _count(app, TimelineEntry)
    said = _kept_open(app.sender.submit("U0PRIYA", view, typed).json(), view)
    assert NOTHING_SAVED in said
    proxy.passes()
    assert _count(app, TimelineEntry) == before


def test_a_bug_after_a_submission_keeps_the_form_open(slack, monkeypatch):
    from bot.services import reviews

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(reviews, "add_note", broken)
    view = _open_by_command(slack, "U0PRIYA", "note Ava")
    typed = {"kind": _choose("note"), "text--0": _text("Mum called re reading")}
    said = _kept_open(slack.sender.submit("U0PRIYA", view, typed).json(), view)
    assert "something went wrong" in said and "Your form is still here" in said


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_form_submitted_while_another_writer_holds_sqlite_stays_open(slack, db_url):
    """SQLite waits for another writer only briefly while Slack waits for the answer."""
    view = _open_by_command(slack, "U0PRIYA", "note Ava")
    typed = {"kind": _choose("note"), "text--0": _text("Mum called re reading")}
    before = _count_in(slack.sessions, TimelineEntry)
    writer = sqlite3.connect(make_url(db_url).database, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # holds the write lock, as a long import would
        reply = slack.sender.submit("U0PRIYA", view, typed)
        said = _kept_open(reply.json(), view)
        assert NOTHING_SAVED in said
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert _count_in(slack.sessions, TimelineEntry) == before


# --- commands and monitors while the database hangs -------------------------------------------


@on_postgresql
def test_a_command_is_answered_while_the_database_stalls(app, proxy):
    assert "Ava Stone" in text_of(app.ask("U0PRIYA", "mine"))  # connections in the pool
    proxy.stall()
    # The sender gives up after 10 s: an answer at all means the app did not wait for the stall.
    reply = app.sender.command("U0PRIYA", "mine")
    assert reply.status == 200
    assert "can't reach its database just now" in reply.json()["text"]
    proxy.passes()
    assert "Ava Stone" in text_of(app.ask("U0PRIYA", "mine"))


@on_postgresql
def test_a_new_connection_to_a_stalled_database_is_given_up(app, proxy):
    proxy.stall()  # before the app has any connection: connecting itself hangs
    reply = app.sender.command("U0PRIYA", "mine")
    assert "can't reach its database just now" in reply.json()["text"]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@on_postgresql
def test_healthz_answers_and_readyz_says_whether_the_database_does(app, proxy, db_url):
    base = app.server.url.rsplit("/slack/events", 1)[0]
    assert _get(base + "/readyz") == (200, "ready")
    proxy.stall()
    assert _get(base + "/healthz") == (200, "ok")
    status, said = _get(base + "/readyz")
    assert status == 503
    assert said == "The database isn't answering."
    assert "127.0.0.1" not in said and str(proxy.port) not in said
    proxy.passes()
    assert _get(base + "/readyz") == (200, "ready")
    proxy.cut()
    assert _get(base + "/readyz")[0] == 503


# --- the command line -------------------------------------------------------------------------


class _CutAfterUpgrade(cli.Context):
    """The database is there when the command starts, and gone once it has checked the schema:
    a dropped connection in the middle of a command."""

    def __init__(self, settings, proxy: DbProxy) -> None:
        super().__init__(lambda: settings)
        self._proxy = proxy

    @property
    def sessions(self):
        sessions = super().sessions
        self._proxy.cut()
        return sessions


@on_postgresql
def test_a_command_line_run_that_loses_the_database_prints_one_line(
    app, proxy, db_url, emulator, capsys
):
    settings = Settings.from_env(
        {
            "DATABASE_URL": proxy.url(db_url),
            "SLACK_BOT_TOKEN": emulator.bot_token,
            "SLACK_API_URL": emulator.api_url,
        },
        env_file=None,
    )
    for command in (["tick"], ["school", "list"]):
        proxy.passes()
        context = _CutAfterUpgrade(settings, proxy)
        capsys.readouterr()
        try:
            code = cli.main(command, context)
        finally:
            context.engine.dispose()
        out, err = capsys.readouterr()
        assert code == 1, (command, out, err)
        assert len(err.strip().splitlines()) == 1, err
        assert err.startswith("sspbot: ") and "database" in err
        assert "Traceback" not in err


# --- the limits themselves --------------------------------------------------------------------


@on_postgresql
def test_a_statement_on_a_connection_that_stalls_gives_up(db_url, proxy):
    engine = db.make_engine(proxy.url(db_url))
    sessions = db.make_session_factory(engine)
    try:
        with (
            pytest.raises(OperationalError) as raised,
            db.unit_of_work(sessions, db.FOR_REQUESTS) as session,
        ):
            session.execute(text("SELECT 1"))  # the connection is checked out and answers
            proxy.stall()
            session.execute(text("SELECT 1"))
        assert "did not answer" in str(raised.value)
        assert db.is_unavailable(raised.value)
        proxy.passes()
        # The connection that hung was dropped; the pool makes a new one.
        with db.unit_of_work(sessions, db.FOR_REQUESTS) as session:
            assert session.scalar(text("SELECT 1")) == 1
    finally:
        proxy.passes()
        engine.dispose()


@on_postgresql
def test_a_slow_statement_is_cancelled_for_a_request_but_not_for_the_scheduler(engine):
    sessions = db.make_session_factory(engine)
    with (
        pytest.raises(OperationalError) as raised,
        db.unit_of_work(sessions, db.FOR_REQUESTS) as session,
    ):
        session.execute(text("SELECT pg_sleep(2)"))
    assert "statement timeout" in str(raised.value)
    assert db.is_unavailable(raised.value)
    # The same pooled connection, outside a request: the statement runs to its end.
    with db.unit_of_work(sessions) as session:
        session.execute(text("SELECT pg_sleep(2)"))
        assert session.scalar(text("SHOW statement_timeout")) == "5min"


def test_a_mistake_in_a_statement_is_not_mistaken_for_an_outage(engine):
    sessions = db.make_session_factory(engine)
    with (
        pytest.raises(Exception) as raised,  # noqa: B017 - which kind is for the backend to say
        db.unit_of_work(sessions, db.FOR_REQUESTS) as session,
    ):
        session.execute(select(func.not_a_function(1)))
    assert not db.is_unavailable(raised.value)
