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
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from slack_bolt import App, BoltContext, BoltResponse, Respond
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot import db
from bot.access import Viewer
from bot.config import Settings
from bot.render import render_json
from handlers.scheduler import deliver_soon
from handlers.slack_api import SlackBusy, linked_staff, quick_client, staff_for_slack_user
from handlers.toolkit import DATABASE_DOWN, NOT_SAVED_DATABASE, answer, keep_form_open
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
STILL_MATCHING = (
    "One moment: I'm still matching your Slack account to the staff list. "
    "Please try again in a minute."
)
# When Slack stays busy, the background lookup asks this many times before leaving it to the
# person's next request.
LOOKUP_ATTEMPTS = 3


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
        # Slack's three seconds: a database that hangs is given up on, and said, within them.
        return db.unit_of_work(self.sessions, db.FOR_REQUESTS)

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
                try:
                    staff = _staff_now(session, client, school.id, context.user_id)
                except SlackBusy as busy:
                    _look_up_later(runtime, client, school.id, context.user_id, busy.retry_after)
                    if body.get("type") == "view_submission":
                        return keep_form_open(body, STILL_MATCHING)  # what was typed stays
                    return answer(body, context, STILL_MATCHING)
                if staff is None:
                    return _refuse(context, body, client, UNKNOWN_USER, publish_home=True)
                context["school_timezone"] = school.timezone
                context["today"] = runtime.today(school.timezone)
                context["viewer"] = Viewer.of(staff)
        except Exception as error:
            if not db.is_unavailable(error):
                raise
            # Expected while the database is down or hanging: a line, not a traceback a request.
            log.warning(
                "database unavailable while identifying a request: %s",
                db.unavailable_reason(error),
            )
            if body.get("type") == "view_submission":
                # An empty or "update" answer would close the form, and what was typed with it.
                return keep_form_open(body, NOT_SAVED_DATABASE)
            return _refuse(context, body, client, DATABASE_DOWN, publish_home=False)
        return next()

    return identify


# Each app's Runtime, set by handlers.app.create_app; weak, so tests' apps are let go.
_runtimes: weakref.WeakKeyDictionary[App, Runtime] = weakref.WeakKeyDictionary()


def remember_runtime(app: App, runtime: Runtime) -> None:
    _runtimes[app] = runtime


def runtime_of(app: App) -> Runtime | None:
    """The Runtime an app was made with (for /readyz), or None."""
    return _runtimes.get(app)


def _staff_now(session: Session, client: WebClient, school_id: int, user_id: str):
    """staff_for_slack_user, within Slack's three seconds: Slack is asked once, briefly, and
    not at all while it has asked us to wait or this person is being looked up already.
    Raises SlackBusy when the answer has to come from the background."""
    wait = _waiting(school_id, user_id)
    if wait is not None:
        staff = linked_staff(session, school_id, user_id)
        if staff is None:
            raise SlackBusy(wait)
        return staff if staff.is_active else None
    try:
        return staff_for_slack_user(session, quick_client(client), school_id, user_id)
    except SlackBusy as busy:
        with _background_lock:
            _resting_until[school_id] = time.monotonic() + busy.retry_after
        raise


def _refuse(
    context: BoltContext, body: dict, client: WebClient, message: str, *, publish_home: bool
) -> BoltResponse:
    """Answers politely in whatever way this kind of request allows, then stops it."""
    event = body.get("event") or {}
    if publish_home and event.get("type") == "app_home_opened":
        user_id = context.user_id

        def publish() -> None:
            try:
                client.views_publish(
                    user_id=user_id, view=render_json("home_refused.json.j2", message=message)
                )
            except Exception:  # noqa: BLE001 - a refusal must never turn into an error page
                log.warning("could not publish the refusal home view")

        # After the ack: the event is answered at once, and the publish may wait out a rate limit.
        after_the_ack(publish, "publish-refusal")
        return BoltResponse(status=200, body="")
    return answer(body, context, message)


# Background work the identity middleware started: a user id (with its school) being looked up.
_lookups: set[tuple[int, str]] = set()
# Per school (so per workspace): when Slack's Retry-After for users.info runs out.
_resting_until: dict[int, float] = {}
_threads: set[threading.Thread] = set()
_background_lock = threading.Lock()


def _waiting(school_id: int, user_id: str) -> float | None:
    """Seconds to leave Slack alone before asking about this person, or None to ask now."""
    with _background_lock:
        left = _resting_until.get(school_id, 0.0) - time.monotonic()
        if left > 0:
            return left
        _resting_until.pop(school_id, None)
        return 0.0 if (school_id, user_id) in _lookups else None


def _look_up_later(
    runtime: Runtime, client: WebClient, school_id: int, user_id: str, wait: float
) -> None:
    """Matches the person to staff in the background, after `wait` seconds (Slack's
    Retry-After), with `client`, which waits out further rate limits itself; the match is
    remembered, so their next request is served. One lookup per person at a time."""
    key = (school_id, user_id)
    with _background_lock:
        if key in _lookups:
            return
        _lookups.add(key)

    def look_up() -> None:
        delay = wait
        try:
            for _ in range(LOOKUP_ATTEMPTS):
                time.sleep(delay)
                try:
                    with runtime.unit_of_work() as session:
                        staff_for_slack_user(session, client, school_id, user_id)
                    return
                except SlackBusy as busy:
                    delay = busy.retry_after
            log.warning("Slack stayed busy: a new user is matched to staff on their next request")
        except Exception:  # noqa: BLE001 - the person is looked up again on their next request
            log.exception("matching a new user to staff failed")
        finally:
            with _background_lock:
                _lookups.discard(key)

    after_the_ack(look_up, "identity-lookup")


def after_the_ack(work: Callable[[], None], name: str = "after-the-ack") -> None:
    """Runs `work` on a thread, so that a Slack call which may wait out a rate limit never
    holds up an answer Slack expects within three seconds. Its failure is logged."""

    def run() -> None:
        try:
            work()
        except Exception:  # noqa: BLE001 - nobody is waiting for it: say so in the log
            log.exception("background work (%s) failed", name)
        finally:
            with _background_lock:
                _threads.discard(threading.current_thread())

    thread = threading.Thread(target=run, name=name, daemon=True)
    # Started under the lock: wait_for_background_work must never see (and join) a thread
    # that has not started yet, which raises.
    with _background_lock:
        _threads.add(thread)
        thread.start()


def wait_for_background_work(timeout: float = 30.0) -> None:
    """Waits for what after_the_ack (and the middleware's lookups) left running (tests)."""
    deadline = time.monotonic() + timeout
    while True:
        with _background_lock:
            running = list(_threads)
        if not running or time.monotonic() >= deadline:
            return
        running[0].join(max(0.0, deadline - time.monotonic()))


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
