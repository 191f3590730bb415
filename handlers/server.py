"""Running the app: over HTTP with a production WSGI server, or over Socket Mode."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import json
import logging
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.builtin import SocketModeClient
from sqlalchemy.orm import Session, sessionmaker
from waitress.server import create_server

from bot import db
from bot.config import ConfigError
from bot.errors import UserError
from bot.services.schools import bind_workspace
from handlers.context import runtime_of
from handlers.slack_api import link_staff_accounts
from handlers.web import create_web_app

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Workspace:
    school_id: int
    school_name: str
    team_id: str
    team_name: str

    def describe(self) -> str:
        return (
            f"Connected to Slack workspace {self.team_name} ({self.team_id}) "
            f"for {self.school_name}."
        )


def link_workspace(app: App, sessions: sessionmaker[Session]) -> Workspace:
    """Asks Slack who the bot is (auth.test) and makes sure that workspace belongs to a school.

    When exactly one school has no workspace yet, it is linked to this one. Raises ConfigError
    if Slack refuses the token and UserError if no school can be linked.
    """
    try:
        identity = app.client.auth_test()
    except SlackApiError as error:
        raise ConfigError(
            f"Slack refused SLACK_BOT_TOKEN ({error.response.get('error')}): copy the Bot User "
            'OAuth Token again from your Slack app\'s "OAuth & Permissions" page.'
        ) from None
    team_id, team_name = identity["team_id"], identity.get("team") or identity["team_id"]
    with db.unit_of_work(sessions) as session:
        school = bind_workspace(session, team_id)
        if school is None:
            raise UserError(
                f"No school is linked to the Slack workspace {team_name} ({team_id}). Link one "
                f"with `sspbot school add NAME --slack-team {team_id}`, or add a school without "
                "a workspace and the bot will link it when it starts."
            )
        return Workspace(school.id, school.name, team_id, team_name)


def link_staff(app: App, sessions: sessionmaker[Session], workspace: Workspace) -> str:
    """Matches staff we have no Slack id for to Slack accounts by email; says how it went.

    No transaction is held while Slack is asked (handlers.slack_api.link_staff_accounts): the
    first sweep and people's commands go ahead meanwhile, and a run that stops keeps its
    matches and resumes next time."""
    matching = link_staff_accounts(sessions, app.client, workspace.school_id, datetime.now(UTC))
    if not matching.linked and not matching.missing and not matching.stopped:
        return "Every member of staff is already matched to a Slack account (or was asked lately)."
    said = matching.describe()
    return said[0].upper() + said[1:]


def link_staff_in_background(app: App, sessions: sessionmaker[Session], workspace: Workspace):
    """The same, on a thread: Slack's member list is paced to its rate limit (a page every few
    seconds), and the app answers people meanwhile."""

    def run() -> None:
        try:
            log.info(link_staff(app, sessions, workspace))
        except Exception:  # noqa: BLE001 - people are matched on their first request anyway
            log.exception("matching staff to Slack accounts failed")

    thread = threading.Thread(target=run, name="link-staff", daemon=True)
    thread.start()
    return thread


# Bolt's own pages in OAuth mode (the installer's browser, not signed by Slack).
SLACK_PAGES = frozenset({"/slack/install", "/slack/oauth_redirect"})
# Slack's payloads are small: a view submission of a full modal (100 blocks of 3,000-character
# inputs at most) is well under 1 MiB. Anything larger is not from Slack and is refused unread.
MAX_BODY_BYTES = 1024 * 1024
# Slack's own window: a request whose timestamp is further than this from now is refused, and
# a signature seen within it is a replay.
REQUEST_WINDOW_SECONDS = 5 * 60


class SeenRequests:
    """Signatures, bodies (hashed) and event ids of the signed requests acted on in the last
    five minutes. Events are also remembered in the database for a day (handlers.events).

    In the process, not the database: `sspbot serve` is one process (waitress threads share
    this), and a replay only has the five minutes the timestamp check allows, which a restart
    does not extend. Several processes behind one address would each need to see the replay;
    see the README before running more than one.
    """

    def __init__(self, window: float = REQUEST_WINDOW_SECONDS) -> None:
        self._window = window
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_time(self, *keys: str, now: float | None = None) -> bool:
        """Remembers these keys; True unless any of them was seen within the window."""
        now = time.time() if now is None else now
        with self._lock:
            for key, expires in list(self._seen.items()):
                if expires < now:
                    del self._seen[key]
            if any(key in self._seen for key in keys):
                return False
            for key in keys:
                self._seen[key] = now + self._window
            return True


def signed_by_slack(secret: str, body: bytes, timestamp: str, signature: str) -> bool:
    """Slack's v0 signature check, refusing what slack_sdk would crash on (a timestamp that is
    not a number: slack_sdk raises, and Bolt's error handler then answers the request)."""
    if not timestamp.isascii() or not timestamp.isdigit() or not signature.startswith("v0="):
        return False
    if abs(time.time() - int(timestamp)) > REQUEST_WINDOW_SECONDS:
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def _event_id(body: bytes) -> str | None:
    """The Events API's id for an event, which Slack's retries (X-Slack-Retry-Num) repeat."""
    try:
        envelope = json.loads(body)
    except ValueError:
        return None
    return envelope.get("event_id") if isinstance(envelope, dict) else None


def _is_url_verification(body: bytes) -> bool:
    if not body.startswith(b"{"):
        return False
    try:
        return json.loads(body).get("type") == "url_verification"
    except (ValueError, AttributeError):
        return False


def _read_body(environ) -> bytes | None:
    """The request body, or None if it is (or grows) larger than MAX_BODY_BYTES.

    Refused by Content-Length before anything is read; a body without one (chunked) is read
    only up to the cap. waitress refuses larger bodies itself (max_request_body_size); this is
    the same rule for any other WSGI server.
    """
    length = environ.get("CONTENT_LENGTH") or ""
    stream = environ.get("wsgi.input")
    if length:
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            return None
        return stream.read(int(length)) if stream else b""
    if stream is None:
        return b""
    body = stream.read(MAX_BODY_BYTES + 1)
    return None if len(body) > MAX_BODY_BYTES else body


def _answer(start_response, status: str, body: dict | None = None):
    payload = json.dumps(body).encode() if body is not None else b""
    start_response(
        status,
        [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
    )
    return [payload]


def wsgi_app(app: App, *, web_only: bool = False):
    """The WSGI application: Slack's endpoint at /slack/events, the web pages for families at
    every path not named here (handlers.web), and for monitors /healthz (the
    process answers) and /readyz (so does the database); in OAuth mode also the install pages,
    /slack/install and /slack/oauth_redirect, which Bolt serves to the installer's browser (not
    signed by Slack: Bolt's one-time state, tied to a cookie, protects them).

    Every request to /slack/events passes a gate before Bolt sees it: a body larger than Slack
    ever sends is refused (413) unread; a request not signed by Slack (bad signature, missing
    or non-numeric timestamp, older than five minutes) is refused (401) with nothing sent
    anywhere and nothing of it logged; a signed request replayed within five minutes, or an
    event Slack retries after we acted on it, is answered 200 and not acted on again.

    `web_only` (Socket Mode, where Slack's events come over the socket and there is no signing
    secret to check a request with): the pages and the health checks only; /slack/events and
    the install pages answer 404.
    """
    slack = SlackRequestHandler(app, path="/slack/events")
    # Every other path is the web pages' (handlers.web): the families' pages, never signed by
    # Slack, so the gate below is for /slack/events only.
    runtime = runtime_of(app)
    web = create_web_app(runtime).wsgi_app if runtime is not None else None
    # The secret Bolt verifies with (create_app gives it SLACK_SIGNING_SECRET); Bolt keeps its
    # own check behind ours, so the two can never disagree about which requests pass.
    signing_secret: str = app._signing_secret
    seen = SeenRequests()

    def application(environ, start_response):
        path = environ.get("PATH_INFO")
        if path == "/healthz":
            # Whether the process answers, never touching the database: a database outage must
            # not get the app restarted by its monitor.
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        if path == "/readyz":
            # Whether the database answers at once; the one line says no more than that.
            runtime = runtime_of(app)
            if runtime is not None and db.answers(runtime.sessions):
                start_response("200 OK", [("Content-Type", "text/plain")])
                return [b"ready"]
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"The database isn't answering."]
        if web_only and (path in SLACK_PAGES or path == "/slack/events" or web is None):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"Not found."]
        if path in SLACK_PAGES or (path != "/slack/events" and web is None):
            return slack(environ, start_response)
        if path != "/slack/events":
            return web(environ, start_response)
        body = _read_body(environ)
        if body is None:
            log.warning(
                "refused a request to /slack/events: body larger than %d bytes", MAX_BODY_BYTES
            )
            return _answer(
                start_response, "413 Request Entity Too Large", {"error": "request too large"}
            )
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
        signature = environ.get("HTTP_X_SLACK_SIGNATURE", "")
        if not signed_by_slack(signing_secret, body, timestamp, signature):
            # The fact only: the body of a forged request is nobody's business in our logs.
            log.warning("refused a request to /slack/events: not signed by Slack")
            return _answer(start_response, "401 Unauthorized", {"error": "invalid request"})
        # The body too: the same interaction re-signed (a new timestamp, so a new signature)
        # is still the same click or form; Slack never sends one body twice.
        keys = [f"signature:{signature}", f"body:{hashlib.sha256(body).hexdigest()}"]
        event_id = _event_id(body) if body.startswith(b"{") else None
        if event_id:
            keys.append(f"event:{event_id}")
        # Slack's URL check is answered every time: it has no effect to repeat.
        if not _is_url_verification(body) and not seen.first_time(*keys):
            retry = environ.get("HTTP_X_SLACK_RETRY_NUM")
            log.info(
                "ignored a repeated request to /slack/events (%s)",
                f"Slack's retry {retry}" if retry else "a replay of a signed request",
            )
            return _answer(start_response, "200 OK")
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return slack(environ, start_response)

    return application


class HttpServer:
    """waitress serving the app, in the foreground or on a thread (tests and the demo)."""

    def __init__(
        self,
        app: App,
        host: str = "127.0.0.1",
        port: int = 0,
        threads: int = 8,
        *,
        web_only: bool = False,
    ):
        self.app = app
        runtime = runtime_of(app)
        hops = runtime.settings.trusted_proxy_hops if runtime is not None else 0
        # Behind the school's reverse proxy every request comes from the proxy: with
        # TRUSTED_PROXY_HOPS waitress takes the browser's address from the last `hops` entries
        # of X-Forwarded-For (the families' pages limit requests per address). Without it
        # waitress drops the header, which anyone could forge.
        proxy = (
            {
                "trusted_proxy": "*",
                "trusted_proxy_count": hops,
                "trusted_proxy_headers": {"x-forwarded-for"},
            }
            if hops
            else {}
        )
        self._server = create_server(
            wsgi_app(app, web_only=web_only),
            host=host,
            port=port,
            threads=threads,
            # waitress's own limit (1 GiB by default) refuses larger bodies, chunked or not,
            # before the app is called.
            max_request_body_size=MAX_BODY_BYTES,
            **proxy,
        )
        self.port = self._server.effective_port
        self.url = f"http://{host}:{self.port}/slack/events"
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> HttpServer:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def run_forever(self) -> None:
        self._server.run()

    def stop(self) -> None:
        # The loop must have stopped polling before its sockets close, or select() fails.
        self._stopping.set()
        if self._thread:
            self._thread.join(timeout=5)
        self._server.close()
        self._server.task_dispatcher.shutdown()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._server.asyncore.loop(timeout=0.05, map=self._server._map, count=1)


# Socket Mode: how soon a dead connection is noticed and replaced. slack_sdk's built-in client
# (Bolt's default) pings every 10 s and gives a connection up only after four intervals without a
# pong, then asks for a new URL through the app's client, which retries with a 10 s timeout: after
# a network drop the app stayed away about a minute. A connection the server closed without a
# close frame it reads as "nothing yet", spinning, until a ping fails.
SOCKET_PING_INTERVAL = 2.0  # seconds between pings, and between checks of the connection
SOCKET_PONG_TIMEOUT = 5.0  # no pong for this long: the connection is dead, and replaced at once
SOCKET_URL_TIMEOUT = 5.0  # apps.connections.open; if it fails, the next check tries again


class WatchfulSocketModeClient(SocketModeClient):
    """slack_sdk's built-in Socket Mode client, quick to notice a dead connection.

    Every `ping_interval` it pings Slack, as the library does, and also: a connection that has
    not answered a ping for `pong_timeout` seconds (a half-open TCP connection, where nothing
    arrives and nothing says so) is shut and replaced in the same check; a connection the
    server ends without a close frame is dropped at the first read that finds it ended, and
    replaced at the next check. Each replacement asks Slack for a new URL (one quick try).
    """

    def __init__(self, *args: Any, pong_timeout: float, **kwargs: Any) -> None:
        self.pong_timeout = pong_timeout
        self._connected_at = time.time()
        super().__init__(*args, **kwargs)

    def connect(self) -> None:
        super().connect()
        self._connected_at = time.time()
        session = self.current_session
        if session is not None and session.sock is not None:
            session.sock = _EndIsAnError(session.sock)

    def _monitor_current_session(self) -> None:
        session = self.current_session
        if self.current_app_monitor_started and session is not None and session.is_active():
            # When the last ping Slack answered was sent (the library's own bookkeeping).
            heard = session.last_ping_pong_time or self._connected_at
            silent_for = time.time() - max(heard, self._connected_at)
            if silent_for > self.pong_timeout:
                log.warning("Socket Mode: no pong for %.0f s; replacing the connection", silent_for)
                sock = session.sock
                if sock is not None:
                    with contextlib.suppress(OSError):
                        # Wakes the thread reading it, which holds the lock disconnect() needs.
                        sock.shutdown(socket.SHUT_RDWR)
                session.disconnect()
        super()._monitor_current_session()


class _EndIsAnError:
    """A connected socket whose recv raises at the end of the stream, where the library would
    read b"" forever: its reader then drops the connection, and the monitor replaces it."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def recv(self, size: int, *flags: int) -> bytes:
        data = self._sock.recv(size, *flags)
        if not data and size:
            raise ConnectionAbortedError("the Socket Mode connection was closed by the server")
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class WatchfulSocketModeHandler(SocketModeHandler):
    """Bolt's Socket Mode adapter, on WatchfulSocketModeClient."""

    def __init__(
        self, app: App, app_token: str, *, ping_interval: float, pong_timeout: float
    ) -> None:
        self.app = app
        self.app_token = app_token
        self.client = WatchfulSocketModeClient(
            app_token=app_token,
            logger=app.logger,
            # Only for apps.connections.open (and its TLS settings): one short try, since the
            # monitor asks again at its next check; the library waits out a rate limit itself.
            web_client=WebClient(
                base_url=app.client.base_url,
                timeout=SOCKET_URL_TIMEOUT,
                ssl=app.client.ssl,
                proxy=app.client.proxy,
                retry_handlers=[],
            ),
            proxy=app.client.proxy,
            ping_interval=ping_interval,
            pong_timeout=pong_timeout,
        )
        self.client.socket_mode_request_listeners.append(self.handle)


def socket_mode_handler(
    app: App,
    app_token: str,
    *,
    ping_interval: float = SOCKET_PING_INTERVAL,
    pong_timeout: float = SOCKET_PONG_TIMEOUT,
) -> SocketModeHandler:
    """Serves `app` over Socket Mode; a dropped connection is replaced within seconds."""
    return WatchfulSocketModeHandler(
        app, app_token, ping_interval=ping_interval, pong_timeout=pong_timeout
    )
