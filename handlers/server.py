"""Running the app: over HTTP with a production WSGI server, or over Socket Mode."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session, sessionmaker
from waitress.server import create_server

from bot import db
from bot.config import ConfigError
from bot.errors import UserError
from bot.services.schools import bind_workspace
from handlers.slack_api import link_staff_accounts

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
    """Matches staff we have no Slack id for to Slack accounts by email; says how it went."""
    with db.unit_of_work(sessions) as session:
        linked, missing = link_staff_accounts(
            session, app.client, workspace.school_id, datetime.now(UTC)
        )
    if not linked and not missing:
        return "Every member of staff is already matched to a Slack account (or was asked lately)."
    return (
        f"Matched {linked} more staff to their Slack accounts by email; "
        f"{missing} have no Slack account with their school email yet."
    )


def link_staff_in_background(app: App, sessions: sessionmaker[Session], workspace: Workspace):
    """The same, on a thread: a large school's lookups are rate limited and take minutes."""

    def run() -> None:
        try:
            log.info(link_staff(app, sessions, workspace))
        except Exception:  # noqa: BLE001 - people are matched on their first request anyway
            log.exception("matching staff to Slack accounts failed")

    thread = threading.Thread(target=run, name="link-staff", daemon=True)
    thread.start()
    return thread


def wsgi_app(app: App):
    """The WSGI application: Slack's endpoint at /slack/events, and /healthz for monitors."""
    slack = SlackRequestHandler(app, path="/slack/events")

    def application(environ, start_response):
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        return slack(environ, start_response)

    return application


class HttpServer:
    """waitress serving the app, in the foreground or on a thread (tests and the demo)."""

    def __init__(self, app: App, host: str = "127.0.0.1", port: int = 0, threads: int = 8):
        self._server = create_server(wsgi_app(app), host=host, port=port, threads=threads)
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


def socket_mode_handler(app: App, app_token: str) -> SocketModeHandler:
    return SocketModeHandler(app, app_token)
