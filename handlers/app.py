"""The Bolt app: built by a factory so tests and the demo can make as many as they like."""

from __future__ import annotations

import logging
import re
import weakref
from collections.abc import Callable
from datetime import UTC, datetime

from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy.orm import Session, sessionmaker

from bot import db
from bot.config import ConfigError, Settings
from handlers import (
    agreement,
    assignments,
    attachments,
    closure,
    commands,
    events,
    family,
    groups,
    meeting,
    monitoring,
    observations,
    pages,
    passport,
    plan_editor,
    provision_library,
    provision_map,
    qa,
    replies,
    review_forward,
    reviews,
    sessions,
    team,
)
from handlers.context import Runtime, identify, remember_runtime
from handlers.installs import oauth_flow
from handlers.slack_api import make_client
from handlers.toolkit import ack_first, answer_error, check_replies
from handlers.workspaces import InstalledWorkspaces, SingleWorkspace, Workspaces

# Slack's libraries log whole payloads: Bolt the request body when a signature fails (at INFO)
# and its answers (at DEBUG), slack_sdk every API call's JSON and response URL (at DEBUG). Those
# carry plan text and pupils' names, so they never reach our logs at any level.
_PAYLOAD_START = re.compile(r"\s*[:({\[]")
_workspaces: weakref.WeakKeyDictionary[App, Workspaces] = weakref.WeakKeyDictionary()


class WithoutPayloads(logging.Filter):
    """Lets a Slack library's warnings and errors through, each cut before its first
    parenthesis, brace, bracket or colon (where Bolt puts the body); drops its INFO and DEBUG
    records, which are about requests and their payloads."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return False
        message = record.getMessage()
        cut = _PAYLOAD_START.search(message)
        record.msg = (message[: cut.start()] if cut else message) + " (details withheld)"
        record.args = ()
        return True


def bolt_logger() -> logging.Logger:
    """The logger Bolt is given: every logger Bolt makes from it copies its level and filter."""
    logger = logging.getLogger("handlers.bolt")
    logger.setLevel(logging.WARNING)
    if not any(isinstance(f, WithoutPayloads) for f in logger.filters):
        logger.addFilter(WithoutPayloads())
    # slack_sdk (the Web API client, response URLs, Socket Mode) logs its payloads at DEBUG and
    # retried URLs at INFO; its own warnings are about connections, not content.
    logging.getLogger("slack_sdk").setLevel(logging.WARNING)
    # Bolt's adapters (Socket Mode) make their loggers without ours: the same level for them.
    logging.getLogger("slack_bolt").setLevel(logging.WARNING)
    return logger


def create_app(
    settings: Settings,
    *,
    client: WebClient | None = None,
    session_factory: sessionmaker[Session] | None = None,
    clock: Callable[[], datetime] | None = None,
    socket_mode: bool = False,
) -> App:
    """A Bolt app with every listener registered, pointed at settings.slack_api_url.

    One school: SLACK_BOT_TOKEN. A trust, one install per workspace: SLACK_CLIENT_ID and
    SLACK_CLIENT_SECRET (which win when both are set), over HTTP, where the app also serves
    /slack/install and /slack/oauth_redirect and each request gets its own workspace's client.
    SLACK_SIGNING_SECRET is needed unless running over Socket Mode (where Slack's own
    connection authenticates requests). Raises ConfigError naming what is missing.
    """
    if settings.oauth:
        if socket_mode:
            raise ConfigError(
                "Installing in several workspaces (SLACK_CLIENT_ID) needs HTTP, for Slack's "
                "install pages: run `sspbot serve` without --socket-mode, or use "
                "SLACK_BOT_TOKEN for one workspace."
            )
    else:
        settings.require("SLACK_BOT_TOKEN")
    if not socket_mode:
        settings.require("SLACK_SIGNING_SECRET")
    if session_factory is None:
        engine = db.make_engine(settings.database_url)
        db.upgrade(engine)
        session_factory = db.make_session_factory(engine)
    engine = session_factory.kw["bind"]
    logger = bolt_logger()
    common = dict(
        signing_secret=settings.slack_signing_secret or "socket-mode",
        request_verification_enabled=not socket_mode,
        raise_error_for_unhandled_request=False,
        logger=logger,
    )
    if settings.oauth:
        workspaces = InstalledWorkspaces(settings, engine)
        app = App(
            # No token: Bolt gives each request a copy of this client holding the token of the
            # workspace the request came from.
            client=client or make_client(None, settings.slack_api_url),
            oauth_flow=oauth_flow(settings, session_factory, engine, workspaces, logger),
            installation_store_bot_only=True,
            **common,
        )
    else:
        app = App(
            # The token travels in the client, which carries our retry handlers.
            client=client or make_client(settings.slack_bot_token, settings.slack_api_url),
            # The app's own auth.test happens in bind_workspace at start-up, with a clearer error.
            token_verification_enabled=False,
            **common,
        )
        workspaces = SingleWorkspace(app.client)
    runtime = Runtime(
        settings, session_factory, clock or (lambda: datetime.now(UTC)), workspaces=workspaces
    )
    app.use(check_replies)  # a reply Slack refuses is noticed, and the person told
    app.use(identify(runtime))
    app.use(ack_first)  # after identify: a refusal of who is asking is its own answer
    register_listeners(app)
    events.register_installs(app, workspaces)
    app.error(answer_error)
    _workspaces[app] = workspaces
    remember_runtime(app, runtime)
    return app


def workspaces_of(app: App) -> Workspaces:
    """The app's way to each school's workspace (what create_app gave its Runtime)."""
    return _workspaces[app]


def register_listeners(app: App) -> None:
    commands.register(app)
    pages.register(app)
    events.register(app)
    plan_editor.register(app)
    team.register(app)
    qa.register(app)
    assignments.register(app)
    reviews.register(app)
    review_forward.register(app)
    family.register(app)
    meeting.register(app)
    agreement.register(app)
    closure.register(app)
    monitoring.register(app)
    provision_map.register(app)
    passport.register(app)
    observations.register(app)
    groups.register(app)
    provision_library.register(app)
    sessions.register(app)
    attachments.register(app)
    replies.register(app)
