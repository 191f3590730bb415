"""What the app knows about a request before any listener runs, and how listeners receive it.

The global middleware `identify` turns the verified team and user into a school and a Viewer (or
a polite refusal) and puts them in Bolt's context under these keys; Bolt then injects each into a
listener that names it as an argument:

- `runtime`: the database and the clock (Runtime);
- `viewer`: who is asking, with their school and roles (bot.access.Viewer);
- `today`: the date where the school is, which is what "overdue" means to staff;
- `school_timezone`: the school's time zone name, for a listener that shows a time of day.

Identity comes only from the signed request (team id, user id), never from a button value.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from slack_bolt import BoltContext, BoltResponse, Respond
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot import db
from bot.access import Viewer
from bot.config import Settings
from bot.render import render_json
from handlers.scheduler import deliver_soon
from handlers.slack_api import staff_for_slack_user
from handlers.toolkit import DATABASE_DOWN, answer
from handlers.workspaces import Workspaces
from models import School

log = logging.getLogger(__name__)

NOT_SET_UP = (
    "SSP Bot isn't set up for this Slack workspace. If your school uses SSP Bot, ask your "
    "SENDCo or IT lead to link it to this workspace."
)
OTHER_WORKSPACE = (
    "Sorry, SSP Bot only answers members of your school's own Slack workspace, and you are "
    "signed in to another one. If you work at the school, use your account in its workspace."
)
UNKNOWN_USER = (
    "Sorry, I can't find you on your school's staff list, so I can't show you anything. "
    "If you should have access, ask your SENDCo to check that your email address in Slack "
    "matches the one the school holds for you."
)


@dataclass(frozen=True)
class Runtime:
    """What every listener needs beyond the Slack request: the database and the clock."""

    settings: Settings
    sessions: sessionmaker[Session]
    clock: Callable[[], datetime]
    # Each school's own Slack client (handlers.workspaces); None: the request's client only.
    workspaces: Workspaces | None = None

    def now(self) -> datetime:
        return self.clock()

    def today(self, timezone: str) -> date:
        """Today's date where the school is, which is what "overdue" means to staff."""
        return self.clock().astimezone(ZoneInfo(timezone)).date()

    def unit_of_work(self):
        return db.unit_of_work(self.sessions)

    def deliver_soon(self, client: WebClient) -> None:
        """Sends what the outbox owes now, in the background (messages queued by an action):
        every school's through its own workspace's client, never through this request's."""
        deliver_soon(self.sessions, self.workspaces or client, self.clock)


@dataclass(frozen=True)
class Ask:
    """One use of `/ssp <subcommand> …`, or a Previous/Next button routed back to it."""

    runtime: Runtime
    viewer: Viewer
    today: date
    client: WebClient
    respond: Respond
    words: list[str]  # what follows the subcommand, split on spaces
    text: str  # what follows the subcommand, as typed
    trigger_id: str | None = None  # None when a button re-asks: no modal can open then
    page: int = 1


@dataclass(frozen=True)
class Usage:
    """One line of `/ssp help`, shown to the people `who` accepts."""

    text: str
    who: Callable[[Viewer], bool] = lambda viewer: True


@dataclass(frozen=True)
class Subcommand:
    """An entry in `/ssp`'s table: its name, its help lines, and what runs it.

    `run` returns the reply (keyword arguments for `respond`), or None when it answered by
    itself (a modal, a file). `allowed`, when given, is checked before `run` and answered with
    `refusal`. `takes_words` False: anything after the name is a mistake. `pages`: its
    Previous/Next buttons come back to it with Ask.page set.
    """

    name: str
    run: Callable[[Ask], dict | None]
    help: tuple[Usage, ...] = ()
    allowed: Callable[[Viewer], bool] | None = None
    refusal: str = ""
    takes_words: bool = True
    pages: bool = False


def identify(runtime: Runtime):
    """Global middleware: the verified team and user become a school and a Viewer, or a refusal.

    Identity comes only from the signed request (team id, user id), never from a button value.
    The school is the one linked to the workspace the app is installed in (Bolt's
    `context.team_id`: the installation's team, from `authorizations` for events); a person whose
    own team, where the request says it, is another workspace (a Slack Connect guest) is refused.
    """

    def identify(context: BoltContext, body: dict, client: WebClient, next) -> BoltResponse | None:
        context["runtime"] = runtime
        if context.user_id is None or _is_self_event(body):
            return next()
        try:
            with runtime.unit_of_work() as session:
                school = session.scalar(
                    select(School).where(School.slack_team_id == context.team_id)
                )
                if school is None:
                    return _refuse(context, body, client, NOT_SET_UP, publish_home=False)
                user_team = _user_team(body)
                if user_team is not None and user_team != school.slack_team_id:
                    return _refuse(context, body, client, OTHER_WORKSPACE, publish_home=False)
                staff = staff_for_slack_user(session, client, school.id, context.user_id)
                if staff is None:
                    return _refuse(context, body, client, UNKNOWN_USER, publish_home=True)
                context["school_timezone"] = school.timezone
                context["today"] = runtime.today(school.timezone)
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
    event = body.get("event") or {}
    if publish_home and event.get("type") == "app_home_opened":
        try:
            client.views_publish(
                user_id=context.user_id, view=render_json("home_refused.json.j2", message=message)
            )
        except Exception:  # noqa: BLE001 - a refusal must never turn into an error page
            log.warning("could not publish the refusal home view")
        return BoltResponse(status=200, body="")
    return answer(body, context, message)


def _user_team(body: dict) -> str | None:
    """The acting user's own team, where the request says it: an interaction's `user.team_id`,
    an event's `user_team` (Slack Connect). A slash command does not say it: a guest who has
    never been linked is refused by staff_for_slack_user, which asks Slack for their team."""
    user = body.get("user")
    if isinstance(user, dict) and user.get("team_id"):
        return user["team_id"]
    event = body.get("event")
    if isinstance(event, dict) and event.get("user_team"):
        return event["user_team"]
    return None


def _is_self_event(body: dict) -> bool:
    event = body.get("event") or {}
    return bool(event.get("bot_id"))
