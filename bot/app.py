"""The Bolt app: built by a factory so tests and the demo can make as many as they like."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot import db
from bot.access import Viewer
from bot.config import Settings
from bot.slack import make_client, staff_for_slack_user
from models import School

log = logging.getLogger(__name__)

NOT_SET_UP = (
    "SSP Bot isn't set up for this Slack workspace. If your school uses SSP Bot, ask your "
    "SENDCo or IT lead to link it to this workspace."
)
UNKNOWN_USER = (
    "Sorry, I can't find you on your school's staff list, so I can't show you anything. "
    "If you should have access, ask your SENDCo to check that your email address in Slack "
    "matches the one the school holds for you."
)
SOMETHING_WENT_WRONG = (
    "Sorry, something went wrong on our side and nothing was changed. Please try again in a "
    "minute; if it keeps happening, let your SENDCo know."
)
DATABASE_DOWN = (
    "Sorry, SSP Bot can't reach its database just now, so nothing was read or changed. "
    "Please try again in a few minutes."
)


@dataclass(frozen=True)
class Runtime:
    """What every listener needs beyond the Slack request: the database and the clock."""

    settings: Settings
    sessions: sessionmaker[Session]
    clock: Callable[[], datetime]

    def now(self) -> datetime:
        return self.clock()

    def today(self, timezone: str) -> date:
        """Today's date where the school is, which is what "overdue" means to staff."""
        return self.clock().astimezone(ZoneInfo(timezone)).date()

    def unit_of_work(self):
        return db.unit_of_work(self.sessions)

    def deliver_soon(self, client: WebClient) -> None:
        """Sends what the outbox owes now, in the background (messages queued by an action)."""
        from bot.scheduler import deliver_soon

        deliver_soon(self.sessions, client, self.clock)


def create_app(
    settings: Settings,
    *,
    client: WebClient | None = None,
    session_factory: sessionmaker[Session] | None = None,
    clock: Callable[[], datetime] | None = None,
    socket_mode: bool = False,
) -> App:
    """A Bolt app with every listener registered, pointed at settings.slack_api_url.

    Requires SLACK_BOT_TOKEN, and SLACK_SIGNING_SECRET unless running over Socket Mode (where
    Slack's own connection authenticates requests). Raises ConfigError naming what is missing.
    """
    settings.require("SLACK_BOT_TOKEN")
    if not socket_mode:
        settings.require("SLACK_SIGNING_SECRET")
    if session_factory is None:
        engine = db.make_engine(settings.database_url)
        db.upgrade(engine)
        session_factory = db.make_session_factory(engine)
    runtime = Runtime(settings, session_factory, clock or (lambda: datetime.now(UTC)))
    app = App(
        # The token travels in the client, which carries our retry handlers.
        client=client or make_client(settings.slack_bot_token, settings.slack_api_url),
        signing_secret=settings.slack_signing_secret or "socket-mode",
        request_verification_enabled=not socket_mode,
        # The app's own auth.test happens in bind_workspace at start-up, with a clearer error.
        token_verification_enabled=False,
        raise_error_for_unhandled_request=False,
    )
    app.use(_identify(runtime))
    from handlers import register_listeners

    register_listeners(app)
    app.error(_on_error)
    return app


def runtime_of(context: BoltContext) -> Runtime:
    return context["ssp"]


def viewer_of(context: BoltContext) -> Viewer:
    return context["viewer"]


def school_timezone(context: BoltContext) -> str:
    return context["school_timezone"]


def _identify(runtime: Runtime):
    """Global middleware: the verified team and user become a school and a Viewer, or a refusal.

    Identity comes only from the signed request (team id, user id), never from a button value.
    """

    def identify(context: BoltContext, body: dict, client: WebClient, next) -> BoltResponse | None:
        context["ssp"] = runtime
        if context.user_id is None or _is_self_event(body):
            return next()
        try:
            with runtime.unit_of_work() as session:
                school = session.scalar(
                    select(School).where(School.slack_team_id == context.team_id)
                )
                if school is None:
                    return _refuse(context, body, client, NOT_SET_UP, publish_home=False)
                staff = staff_for_slack_user(session, client, school.id, context.user_id)
                if staff is None:
                    return _refuse(context, body, client, UNKNOWN_USER, publish_home=True)
                context["school_timezone"] = school.timezone
                context["viewer"] = Viewer(
                    school_id=school.id,
                    staff_id=staff.id,
                    name=staff.display_name,
                    roles=staff.roles,
                    slack_user_id=staff.slack_user_id,
                )
        except (OperationalError, db.DatabaseUnavailable):
            log.exception("database unavailable while identifying a request")
            return _refuse(context, body, client, DATABASE_DOWN, publish_home=False)
        return next()

    return identify


def _refuse(
    context: BoltContext, body: dict, client: WebClient, message: str, *, publish_home: bool
) -> BoltResponse:
    """Answers politely in whatever way this kind of request allows, then stops it."""
    if body.get("command"):
        return BoltResponse(
            status=200,
            body=json.dumps({"response_type": "ephemeral", "text": message}),
            headers={"content-type": "application/json;charset=utf-8"},
        )
    event = body.get("event") or {}
    if publish_home and event.get("type") == "app_home_opened":
        from bot.render import render_json

        try:
            client.views_publish(
                user_id=context.user_id, view=render_json("home_refused.json.j2", message=message)
            )
        except Exception:  # noqa: BLE001 - a refusal must never turn into an error page
            log.warning("could not publish the refusal home view")
    elif context.response_url:
        try:
            context.respond(text=message, response_type="ephemeral", replace_original=False)
        except Exception:  # noqa: BLE001
            log.warning("could not send a refusal to the response_url")
    return BoltResponse(status=200, body="")


def _is_self_event(body: dict) -> bool:
    event = body.get("event") or {}
    return bool(event.get("bot_id"))


def _on_error(error: Exception, body: dict, context: BoltContext, logger: logging.Logger) -> None:
    # Log the kind of failure, never the payload: it may hold a pupil's name.
    logger.error("listener failed: %s", type(error).__name__, exc_info=error)
    message = DATABASE_DOWN if isinstance(error, OperationalError) else SOMETHING_WENT_WRONG
    if context.response_url:
        try:
            context.respond(text=message, response_type="ephemeral", replace_original=False)
        except Exception:  # noqa: BLE001
            logger.warning("could not tell the user about the failure")
