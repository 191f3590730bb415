"""What reaches the bot over HTTP and what it does with it: only Slack's signed requests are
acted on, once each; bodies larger than Slack sends are refused unread; answers are bounded;
and nothing of a request (pupils' names, plan text, response URLs) is written to the log."""

from __future__ import annotations

import logging
import socket
import time
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import func, select

from handlers.scheduler import wait_for_deliveries
from handlers.server import MAX_BODY_BYTES
from models import DownloadLink, Plan, PlanVoice, TimelineEntry
from tests.slack_harness import start_app, text_of


def _command_body(slack, text: str, user: str = "U0SENDCO") -> bytes:
    form = {
        "team_id": slack.emulator.team_id,
        "user_id": user,
        "command": "/ssp",
        "text": text,
        "api_app_id": slack.emulator.app_id,
        "response_url": slack.emulator.new_response_url(user_id=user, channel_id="C0GENERAL1"),
        "trigger_id": slack.emulator.new_trigger_id(),
    }
    return urlencode(form).encode()


def _everything_logged(caplog) -> str:
    """Every record's message and traceback, as a log handler would write them."""
    formatter = logging.Formatter()
    return "\n".join(
        record.getMessage()
        + ("\n" + formatter.formatException(record.exc_info) if record.exc_info else "")
        for record in caplog.records
    )


# --- verification ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "timestamp, signature",
    [
        ("not-a-number", "v0=0"),  # slack_sdk raised on this, and Bolt answered the response_url
        ("", ""),
        (" 12", "v0=0"),
        ("0", None),  # signed correctly, but long ago
    ],
)
def test_an_unverified_request_is_refused_and_nothing_leaves_the_bot(
    slack, caplog, timestamp, signature
):
    caplog.set_level(logging.DEBUG)
    body = _command_body(slack, "pupil Ava Stone")
    reply = slack.sender.post(
        body, "application/x-www-form-urlencoded", timestamp=timestamp, signature=signature
    )
    assert reply.status == 401, reply
    time.sleep(0.3)  # an answer on the response URL would be on its way by now
    assert slack.emulator.calls == []
    logged = _everything_logged(caplog)
    assert "refused a request to /slack/events: not signed by Slack" in logged
    assert "Ava Stone" not in logged and "response_url" not in logged
    assert "/response/" not in logged


def test_a_bad_signature_is_refused_and_its_body_not_logged(slack, caplog):
    # `sspbot serve --log-level DEBUG` sets the level before the app is made, and Bolt copies
    # the level it finds then: so here, too.
    caplog.set_level(logging.DEBUG)
    running = start_app(slack.emulator, slack.sessions)
    try:
        body = _command_body(slack, "note Ava Stone Mum says reading is harder this term")
        reply = running.sender.post(
            body, "application/x-www-form-urlencoded", signature="v0=" + "0" * 64
        )
    finally:
        running.server.stop()
    assert reply.status == 401
    assert slack.emulator.calls == []
    logged = _everything_logged(caplog)
    assert "reading is harder" not in logged and "Ava" not in logged


# --- bodies larger than Slack sends ---------------------------------------------------------


def _raw_request(slack, head: bytes, body_parts: list[bytes], timeout: float = 5.0) -> str:
    """Sends a hand-made HTTP request; returns the status line (or "" if none came in time)."""
    url = urlsplit(slack.sender.app_url)
    with socket.create_connection((url.hostname, url.port), timeout=timeout) as connection:
        connection.sendall(head)
        try:
            for part in body_parts:
                connection.sendall(part)
        except OSError:
            pass  # the server may close the connection once it has refused the body
        try:
            return connection.recv(200).decode(errors="replace").split("\r\n")[0]
        except OSError:
            return ""


def test_a_body_larger_than_slack_sends_is_refused_before_it_is_read(slack):
    head = (
        b"POST /slack/events HTTP/1.1\r\nHost: localhost\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"X-Slack-Request-Timestamp: 1\r\nX-Slack-Signature: v0=0\r\n"
        b"Content-Length: 104857600\r\n\r\n"
    )
    started = time.monotonic()
    status = _raw_request(slack, head, [b"payload="])  # 8 bytes of the 100 MB announced
    assert " 413 " in status, status
    assert time.monotonic() - started < 3
    assert slack.emulator.calls == []


def test_a_chunked_body_is_refused_once_it_passes_the_limit(slack):
    head = (
        b"POST /slack/events HTTP/1.1\r\nHost: localhost\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"X-Slack-Request-Timestamp: 1\r\nX-Slack-Signature: v0=0\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"x" * 65536
    parts = [b"%x\r\n" % len(chunk) + chunk + b"\r\n"] * (MAX_BODY_BYTES // len(chunk) + 2)
    status = _raw_request(slack, head, parts + [b"0\r\n\r\n"])
    assert " 413 " in status, status


# --- replays --------------------------------------------------------------------------------


def test_a_replayed_export_makes_one_set_of_links(slack):
    slack.ask("U0SENDCO", "export Ava Stone")
    assert slack.sender.replay().status == 200
    retried = slack.sender.replay({"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "timeout"})
    assert retried.status == 200
    time.sleep(0.5)
    wait_for_deliveries()
    assert len(slack.emulator.responses_to("U0SENDCO")) == 1
    with slack.sessions() as session:
        assert session.scalar(select(func.count()).select_from(DownloadLink)) == 2  # PDF, HTML


def test_a_replayed_note_is_filed_once(slack):
    opened = len(slack.emulator.calls_to("views.open"))
    assert slack.sender.command("U0PRIYA", "note Ava").status == 200
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    modal = slack.emulator.open_views("U0PRIYA")[-1]
    typed = {
        "kind": {"type": "static_select", "selected_option": {"value": "phone_call"}},
        "text--0": {"type": "plain_text_input", "value": "Mum called re reading"},
    }
    done = slack.sender.submit("U0PRIYA", modal, typed).json()
    assert "Filed on Ava Stone's plan" in text_of(done["view"])
    assert slack.sender.replay().status == 200
    with slack.sessions() as session:
        notes = session.scalar(
            select(func.count(TimelineEntry.id)).where(
                TimelineEntry.summary == "Mum called re reading"
            )
        )
    assert notes == 1


# --- limits ---------------------------------------------------------------------------------


def test_a_long_plan_field_over_the_limit_is_refused_beside_the_field(slack):
    opened = len(slack.emulator.calls_to("views.open"))
    assert slack.sender.command("U0PRIYA", "plan Ava Stone").status == 200
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    plan_view = slack.emulator.open_views("U0PRIYA")[-1]
    before = len([c for c in slack.emulator.calls if c.method.startswith("views.")])
    assert slack.sender.view_button("U0PRIYA", plan_view, "plan_open_section", "family").status
    slack.emulator.wait_for(
        lambda calls: len([c for c in calls if c.method.startswith("views.")]) > before
    )
    form = slack.emulator.open_views()[-1]
    boxes = {
        f"family_hopes--{n}": {"type": "plain_text_input", "value": "w" * 2999 + " "}
        for n in range(60)
    }  # 180,000 characters in boxes of Slack's size
    reply = slack.sender.submit("U0PRIYA", form, boxes)
    assert reply.status == 200
    answer = reply.json()
    assert answer["response_action"] == "errors"
    assert "please keep it to 20,000" in answer["errors"]["family_hopes--0"]
    with slack.sessions() as session:
        voice = session.scalar(
            select(PlanVoice).join(Plan).where(Plan.pupil_id == slack.ids["ava"])
        )
        assert voice is None or len(voice.family_hopes or "") <= 20_000


def test_an_absurd_pupil_search_is_answered_at_once(slack):
    started = time.monotonic()
    answer = slack.ask("U0SENDCO", "pupil " + " ".join("a" * 20_000))
    assert time.monotonic() - started < 2
    assert "too long to search for" in text_of(answer)
    assert "Ava Stone" in text_of(slack.ask("U0SENDCO", "pupil Ava Stone"))


# --- repeats --------------------------------------------------------------------------------


def test_feedback_asked_again_the_same_day_sends_nothing_new(slack):
    first = slack.ask("U0SENDCO", "feedback Cara Lin")
    assert "Asked 1 teacher(s) for feedback on Cara Lin's plan: Lee Chan" in text_of(first)
    slack.emulator.wait_for(lambda calls: slack.emulator.messages_to("U0LEE"))
    again = slack.ask("U0SENDCO", "feedback Cara Lin")
    assert "Lee Chan already had a message from me today" in text_of(again)
    assert "nothing new was sent" in text_of(again)
    time.sleep(0.3)
    wait_for_deliveries()
    assert len(slack.emulator.messages_to("U0LEE")) == 1


# --- logs -----------------------------------------------------------------------------------


def test_nothing_of_a_request_or_its_answers_is_logged_at_debug(slack, caplog):
    caplog.set_level(logging.DEBUG)
    shown = text_of(slack.ask("U0SENDCO", "pupil Ava Stone"))
    assert "Ava Stone" in shown and "Coloured overlay" in shown
    assert slack.export("U0SENDCO", "Ava Stone", "pdf").status == 200
    logged = _everything_logged(caplog)
    for secret in ("Ava", "Coloured overlay", "/response/", slack.emulator.bot_token):
        assert secret not in logged


def test_a_database_error_in_a_listener_logs_no_parameters(slack, caplog, monkeypatch):
    """A traceback names the failing statement but not what was searched for."""
    import handlers.pages

    def failing(session, viewer, query):
        session.execute(select(func.not_a_function(query)))  # fails in the database

    # `/ssp pupil` searches pupils on roll and leavers whose record the asker keeps.
    monkeypatch.setattr(handlers.pages, "find_pupil_records", failing)
    caplog.set_level(logging.DEBUG)
    assert slack.sender.command("U0SENDCO", "pupil Zebedee Quixote").status == 200
    slack.emulator.wait_for(lambda calls: slack.emulator.responses_to("U0SENDCO"))
    logged = _everything_logged(caplog)
    assert "not_a_function" in logged  # the statement is there to debug with
    assert "Zebedee" not in logged


# --- the log scan of the whole run ----------------------------------------------------------


def test_the_log_scan_catches_a_pupil_named_in_any_log_record(request, slack):
    """The run's log scan (tests/log_scan.py) has noted the harness's pupils as they were
    written, and finds them in a DEBUG record of any logger; the findings are taken back so this
    run passes."""
    collector = request.config.pluginmanager.get_plugin("pupil-log-scan").collector
    before = len(collector.found)
    try:
        logging.getLogger("some.library").debug("looked up %s", "Ava Stone")
        assert len(collector.found) == before + 1
        try:
            raise ValueError("no plan for A820123456001")
        except ValueError:
            # The traceback says where and what type, not the message (bot.cli.PrivateFormatter)
            logging.getLogger("handlers.x").exception("failed")
            assert len(collector.found) == before + 1
            logging.getLogger("handlers.x").exception("failed for %s", "A820123456001")
        assert len(collector.found) == before + 2
        logging.getLogger("handlers.x").info("Avalon Stoneley is not a pupil")
        assert len(collector.found) == before + 2
    finally:
        del collector.found[before:]


class _Unreadable:
    def read(self, *args):
        raise AssertionError("the body was read")


def _call(application, environ: dict) -> str:
    statuses = []
    application(
        {"PATH_INFO": "/slack/events", "REQUEST_METHOD": "POST", **environ},
        lambda status, headers: statuses.append(status),
    )
    return statuses[0]


def test_behind_any_wsgi_server_a_large_body_is_refused_unread(slack):
    """waitress refuses large bodies itself; the app refuses them too, for any other server."""
    import io

    from handlers.server import wsgi_app

    application = wsgi_app(slack.server.app)
    announced = {"CONTENT_LENGTH": str(100 * 1024 * 1024), "wsgi.input": _Unreadable()}
    assert _call(application, announced).startswith("413")
    unannounced = {"wsgi.input": io.BytesIO(b"x" * (MAX_BODY_BYTES + 1))}
    assert _call(application, unannounced).startswith("413")
    small = {"CONTENT_LENGTH": "9", "wsgi.input": io.BytesIO(b"payload=x")}
    assert _call(application, small).startswith("401")
