"""The Slack Web API client, and matching Slack users to staff."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot import db
from bot.config import Settings
from bot.errors import UserError
from handlers import pacing
from handlers.pacing import PacedWebClient, Pacer
from models import School, Staff

if TYPE_CHECKING:
    from bot.services.m365 import SyncResult
    from handlers.workspaces import Workspaces

log = logging.getLogger(__name__)

# Ask Slack again about an email it did not know after this long: new staff join Slack late.
LOOKUP_RETRY_AFTER = timedelta(days=7)


# The longest a client call may wait for a 429's Retry-After before giving the 429 to its
# caller: a listener must answer in seconds, and the outbox pauses the workspace instead.
MAX_CLIENT_WAIT = 5
# Posting a message is not idempotent: Slack may have posted it although its answer was lost
# (a 5xx, a reset, a timeout), so posting again could make a second message. Only the outbox
# decides whether to post again, after reconciling (bot.services.outbox).
NOT_IDEMPOTENT = frozenset({"chat.postMessage", "chat.postEphemeral", "chat.scheduleMessage"})


def _method_of(request: HttpRequest) -> str:
    return request.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


def never_reached_slack(error: Exception | None) -> bool:
    """The request was never sent: the connection was refused, or the name did not resolve."""
    reason = error.reason if isinstance(error, URLError) else error
    return isinstance(reason, ConnectionRefusedError | socket.gaierror)


class _ConnectionRetry(ConnectionErrorRetryHandler):
    """Retries a dropped connection, except a post that may have been made before it dropped."""

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:
        if _method_of(request) in NOT_IDEMPOTENT and not never_reached_slack(error):
            return False
        return super()._can_retry(state=state, request=request, response=response, error=error)


class _ServerErrorRetry(ServerErrorRetryHandler):
    """Retries a 5xx, except a post: Slack may have made it before failing to answer."""

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:
        if _method_of(request) in NOT_IDEMPOTENT:
            return False
        return super()._can_retry(state=state, request=request, response=response, error=error)


class _ShortRateLimitRetry(RateLimitErrorRetryHandler):
    """Waits out a 429 (never performed, so safe to repeat) only when Slack asks for a few
    seconds: a longer Retry-After goes to the caller, who must not sleep inside one call."""

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:
        if not super()._can_retry(state=state, request=request, response=response, error=error):
            return False
        return (retry_after_seconds(response.headers) or 0) <= MAX_CLIENT_WAIT


def retry_after_seconds(headers: Mapping[str, Any] | None) -> int | None:
    """A response's Retry-After in whole seconds, if it gave one."""
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            value = value[0] if isinstance(value, list) else value
            try:
                return max(int(value), 0)
            except (TypeError, ValueError):
                return None
    return None


def retry_handlers() -> list:
    """What a client retries within one call: never a post whose answer was lost, never a
    wait longer than MAX_CLIENT_WAIT."""
    return [
        _ConnectionRetry(max_retry_count=2),
        _ShortRateLimitRetry(max_retry_count=2),
        _ServerErrorRetry(max_retry_count=2),
    ]


def make_client(
    token: str | None, base_url: str, *, pacer: Pacer | None = None, paced: bool = True
) -> WebClient:
    """A WebClient that retries what Slack asks it to retry, paced to Slack's rate limits.

    slack_sdk retries only connection errors by default: a 429 (honouring Retry-After) or a 5xx
    would otherwise fail the user's request outright. A post is never retried by the client
    unless the request certainly never reached Slack (retry_handlers), and a Retry-After longer
    than MAX_CLIENT_WAIT is not waited out inside a call. Every call takes its slot from the
    workspace's pacer (handlers.pacing), which makes only the outbox's sender wait: a listener's
    call never waits there, so pacing never delays an ack. `pacer` gives one of the caller's
    own (a bench's time scale, a test's fake clock); `paced=False` none at all.
    """
    options = dict(token=token, base_url=base_url, timeout=10, retry_handlers=retry_handlers())
    if not paced:
        return WebClient(**options)
    return PacedWebClient(pacer=pacer or pacing.for_workspace(base_url, token), **options)


def copy_client(
    client: WebClient, *, retry_handlers: list, timeout: float | None = None, paced: bool = True
) -> WebClient:
    """`client`'s workspace and token (and its pacer, unless `paced` is False) with other
    retry handlers and, if given, another timeout: each caller decides what a call may retry
    and how long it may wait, whatever client it was handed."""
    options = dict(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout if timeout is None else timeout,
        ssl=client.ssl,
        proxy=client.proxy,
        headers={k: v for k, v in client.headers.items() if k != "User-Agent"},
        team_id=client.default_params.get("team_id"),
        retry_handlers=retry_handlers,
    )
    if paced and isinstance(client, PacedWebClient):
        return PacedWebClient(pacer=client.pacer, **options)
    return WebClient(**options)


def sender_client(client: WebClient) -> WebClient:
    """`client` with retry_handlers() whatever it had: the outbox's sender posts through this,
    so a post is attempted once per delivery attempt even when it is given a client with
    slack_sdk's default (or any other) retries."""
    return copy_client(client, retry_handlers=retry_handlers())


# A call made before the ack runs inside Slack's three seconds, which also cover the request's
# journey and our own work: it waits this long for an answer at most, and is never retried.
QUICK_TIMEOUT = 1.5
# How long to leave Slack alone when it is rate limiting without saying for how long, or failing.
DEFAULT_RETRY_AFTER = 5.0


class SlackBusy(UserError):
    """Slack could not answer just now (rate limited, failing, or slower than we can wait).

    `retry_after`: seconds to wait before asking again (Slack's Retry-After, when it said).
    A UserError, so a listener that lets it through answers the person calmly.
    """

    def __init__(self, retry_after: float = DEFAULT_RETRY_AFTER) -> None:
        super().__init__(
            "Slack is busy just now, so I couldn't check who that is. Please try again in a minute."
        )
        self.retry_after = retry_after


def quick_client(client: WebClient) -> WebClient:
    """`client`'s workspace and token, for a call made before the ack (or with a trigger id,
    which lasts three seconds): one try and a short timeout, so a rate limit or a slow Slack
    is an error at once rather than a wait past Slack's three seconds."""
    return copy_client(client, retry_handlers=[], timeout=QUICK_TIMEOUT, paced=False)


def staff_for_slack_user(
    session: Session, client: WebClient, school_id: int, user_id: str
) -> Staff | None:
    """The active staff member behind a Slack user id, matching by email the first time.

    A match by email is remembered on the staff row, so Slack is asked once per person. Only a
    member of the school's own workspace is matched: a guest from another workspace (Slack
    Connect) may have any email address, and linking them would lock the real person out.

    Raises SlackBusy when Slack is rate limiting, failing (5xx) or does not answer in time:
    that says nothing about the person, so it must not be taken for "not on the staff list".
    """
    staff = linked_staff(session, school_id, user_id)
    if staff is not None:
        return staff if staff.is_active else None
    try:
        profile = client.users_info(user=user_id)["user"]
    except SlackApiError as error:
        status = error.response.status_code
        if status == 429 or status >= 500:
            log.info("users.info: Slack is busy (HTTP %s); asking again later", status)
            raise SlackBusy(_retry_after(error.response.headers)) from None
        log.warning("users.info failed for a user: %s", error.response.get("error"))
        return None
    except OSError as error:  # a timeout, a refused or dropped connection: Slack didn't answer
        log.info("users.info: Slack did not answer (%s); asking again later", type(error).__name__)
        raise SlackBusy() from None
    email = (profile.get("profile") or {}).get("email")
    if not email or profile.get("deleted") or profile.get("is_bot"):
        return None
    school = session.get(School, school_id)
    if school is None or not school.slack_team_id or profile.get("team_id") != school.slack_team_id:
        log.warning("users.info: a user of another workspace was not matched to staff")
        return None
    staff = session.scalar(
        select(Staff).where(
            Staff.school_id == school_id,
            func.lower(Staff.email) == email.lower(),
            # Or linked to this very account meanwhile, by a DM's lookup (slack_id_for).
            Staff.slack_user_id.is_(None) | (Staff.slack_user_id == user_id),
        )
    )
    if staff is None or not staff.is_active:
        return None
    staff.slack_user_id = user_id
    staff.slack_lookup_failed_at = None
    session.flush()
    return staff


def linked_staff(session: Session, school_id: int, user_id: str) -> Staff | None:
    """The staff row already linked to this Slack user id (active or not), without asking Slack."""
    return session.scalar(
        select(Staff).where(Staff.school_id == school_id, Staff.slack_user_id == user_id)
    )


def _retry_after(headers: dict | None) -> float:
    """Slack's Retry-After in seconds, or the default."""
    seconds = retry_after_seconds(headers)
    return DEFAULT_RETRY_AFTER if seconds is None else float(seconds)


def slack_id_for(session: Session, client: WebClient, staff: Staff, now: datetime) -> str | None:
    """The staff member's Slack user id, looking them up by email once if we do not know it.

    Returns None when Slack has no such user (remembered, and asked again after a week).
    """
    if staff.slack_user_id:
        return staff.slack_user_id
    if staff.slack_lookup_failed_at and now - staff.slack_lookup_failed_at < LOOKUP_RETRY_AFTER:
        return None
    try:
        user = client.users_lookupByEmail(email=staff.email)["user"]
    except SlackApiError as error:
        if error.response.get("error") in {"users_not_found", "user_not_found"}:
            staff.slack_lookup_failed_at = now
            session.flush()
            return None
        raise
    # Not this row itself: a command may have linked it meanwhile (`/ssp assign @them`).
    holder = session.scalar(
        select(Staff).where(
            Staff.school_id == staff.school_id,
            Staff.slack_user_id == user["id"],
            Staff.id != staff.id,
        )
    )
    if holder is not None and holder.is_active:
        # Two active staff rows for one Slack account: leave it for a person to sort out.
        log.warning("Slack account already linked to another active member of staff")
        return None
    if holder is not None:
        # A leaver's old row (e.g. after an email change) gives up the account.
        holder.slack_user_id = None
        session.flush()
    staff.slack_user_id = user["id"]
    staff.slack_lookup_failed_at = None
    session.flush()
    return staff.slack_user_id


# Matching a school's staff to Slack accounts in bulk. Slack is read a page at a time with no
# transaction open (a slow or rate-limited Slack must never hold a row lock that the sender or a
# person's command is waiting for), and each page's matches are written in their own short
# transaction, so a failure keeps what was matched and the next run carries on from there.
USERS_PAGE = 200  # Slack's pagination guide: "no more than 200 results at a time"
# A Retry-After up to this long is waited out between pages (no transaction is open then);
# longer, and the run stops, keeping its matches, and the next one resumes.
WAIT_OUT_RETRY_AFTER = 10.0
PAGE_TRIES = 3


@dataclass
class Matching:
    """How a matching run went: `linked` now, `missing` (no Slack account of the school's
    workspace with their email: asked again in a week), and `stopped`, why it stopped early
    (None if it finished). A run that stopped kept its matches; the next one resumes."""

    linked: int = 0
    missing: int = 0
    stopped: str | None = None
    pages: int = 0

    def describe(self) -> str:
        """The tail of a line about it: what was matched, and why it stopped if it did."""
        said = f"matched {self.linked} more staff to their Slack accounts by email"
        if self.stopped:  # who is missing is not known until the whole list is read
            return (
                f"{said}, then stopped early after {self.pages} page(s) of Slack's member "
                f"list: {self.stopped}; the matches made are kept and matching resumes next time."
            )
        return f"{said}; {self.missing} have no Slack account with their school email yet."


def link_staff_accounts(
    sessions: sessionmaker[Session],
    client: WebClient,
    school_id: int,
    now: datetime,
    *,
    page_size: int = USERS_PAGE,
) -> Matching:
    """Finds the Slack account of every active member of staff we have no Slack id for, from
    the school workspace's member list (users.list, a page of `page_size` at a time: a school
    of 1,500 in a handful of calls, where one users.lookupByEmail each took half an hour).

    Only a member of the school's own workspace is matched (not deleted, not a bot: the rules of
    staff_for_slack_user). Nobody already matched, and nobody Slack did not know within the
    week, is looked for again. Each page's matches are committed on their own; Slack is never
    called inside a transaction.
    """
    with sessions() as session:  # read, and let go, before asking Slack anything
        team_id = session.scalar(select(School.slack_team_id).where(School.id == school_id))
        waiting = {
            email.lower(): staff_id
            for staff_id, email in session.execute(
                select(Staff.id, Staff.email).where(
                    Staff.school_id == school_id,
                    Staff.is_active.is_(True),
                    Staff.slack_user_id.is_(None),
                    (Staff.slack_lookup_failed_at.is_(None))
                    | (Staff.slack_lookup_failed_at < now - LOOKUP_RETRY_AFTER),
                )
            )
            if email
        }
    result = Matching()
    if not waiting:
        return result
    if not team_id:
        result.stopped = "the school has no Slack workspace yet"
        return result
    lister = _listing_client(client)
    cursor = ""
    while True:
        page = _users_page(lister, cursor, page_size)
        if isinstance(page, str):
            result.stopped = page  # nobody is marked missing on a partial list
            return result
        result.pages += 1
        found: dict[int, str] = {}  # staff id -> Slack user id
        for member in page.get("members") or []:
            email = _matchable_email(member, team_id)
            if email and email in waiting:
                found[waiting.pop(email)] = member["id"]
        if found:
            try:
                result.linked += _save_matches(sessions, school_id, found)
            except DBAPIError as error:
                result.stopped = f"the database did not save a page ({type(error.orig).__name__})"
                return result
        cursor = ((page.get("response_metadata") or {}).get("next_cursor")) or ""
        if not cursor or not waiting:
            break
    if waiting and not cursor:  # the whole list was read: those left are not in Slack yet
        with db.unit_of_work(sessions) as session:
            for staff in session.scalars(
                select(Staff).where(
                    Staff.id.in_(list(waiting.values())), Staff.slack_user_id.is_(None)
                )
            ):
                staff.slack_lookup_failed_at = now
        result.missing = len(waiting)
    return result


def _matchable_email(member: dict, team_id: str) -> str | None:
    """The member's email (lower case) if they may be matched to staff: a person of the school's
    own workspace (a Slack Connect guest may have any address), not deleted, not a bot."""
    if member.get("deleted") or member.get("is_bot") or member.get("id") == "USLACKBOT":
        return None
    if member.get("team_id") != team_id:
        return None
    email = (member.get("profile") or {}).get("email")
    return email.lower() if email else None


def _save_matches(sessions: sessionmaker[Session], school_id: int, found: dict[int, str]) -> int:
    """One page's matches in one short transaction; tried once more, afresh, if someone else
    linked one of these accounts between our read and our write (a unique constraint), or
    PostgreSQL chose this transaction to end a deadlock with the sender's."""
    for attempt in range(2):
        try:
            with db.unit_of_work(sessions) as session:
                return _write_matches(session, school_id, found)
        except (IntegrityError, OperationalError):
            if attempt:
                raise
    return 0


def _write_matches(session: Session, school_id: int, found: dict[int, str]) -> int:
    """Links each staff row (id) to its Slack user id, unless a command linked it meanwhile or
    an active colleague already holds that account; returns how many were linked."""
    holders = {
        staff.slack_user_id: staff
        for staff in session.scalars(
            select(Staff).where(
                Staff.school_id == school_id, Staff.slack_user_id.in_(list(found.values()))
            )
        )
    }
    linked = 0
    # Rows are read, and the flush updates (so locks) them, in primary-key order: a writer
    # that locks staff rows in the same order cannot deadlock with this page.
    for staff in session.scalars(select(Staff).where(Staff.id.in_(list(found))).order_by(Staff.id)):
        user_id = found[staff.id]
        if staff.slack_user_id is not None or not staff.is_active:
            continue  # linked (or left) since we read the list
        holder = holders.get(user_id)
        if holder is not None and holder.is_active:
            log.warning("Slack account already linked to another active member of staff")
            continue
        if holder is not None:  # a leaver's old row (e.g. after an email change) gives it up
            holder.slack_user_id = None
            session.flush()
        staff.slack_user_id = user_id
        staff.slack_lookup_failed_at = None
        holders[user_id] = staff
        linked += 1
    session.flush()
    return linked


def _users_page(client: WebClient, cursor: str, limit: int) -> dict | str:
    """One page of users.list, or why not (a sentence): a short Retry-After is waited out (no
    transaction is open), a long one, or Slack failing or not answering, ends the run."""
    for attempt in range(PAGE_TRIES):
        try:
            with pacing.patient():  # a background run: wait for Tier 2's slot, not a 429
                return client.users_list(limit=limit, **({"cursor": cursor} if cursor else {}))
        except SlackApiError as error:
            status = error.response.status_code
            if status == 429:
                wait = _retry_after(error.response.headers)
                if wait > WAIT_OUT_RETRY_AFTER or attempt == PAGE_TRIES - 1:
                    return f"Slack is rate limiting users.list (asked to wait {wait:.0f} s)"
                time.sleep(wait)
                continue
            return f"Slack refused users.list ({error.response.get('error') or status})"
        except OSError as error:
            return f"Slack did not answer users.list ({type(error).__name__})"
    return "Slack is busy"


def _listing_client(client: WebClient) -> WebClient:
    """`client`'s workspace and token, paced alike, but whose rate limits come back to us: the
    run decides between waiting and stopping, rather than the client sleeping inside a call."""
    return copy_client(
        client,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def link_synced_staff(
    sessions: sessionmaker[Session],
    settings: Settings,
    result: SyncResult,
    now: datetime,
    client: WebClient | None = None,
    workspaces: Workspaces | None = None,
) -> None:
    """After a roster sync from Microsoft 365 that wrote (not a dry run), matches the school's
    staff to Slack accounts by email and says how it went in `result.slack`.

    Only through the school's own workspace (handlers.workspaces): its install in OAuth mode,
    or SLACK_BOT_TOKEN when that token's workspace is the school's. The roster is synced by
    then, so a Slack failure is only reported: matching is tried again next time. Without
    `workspaces` (or a `client`, taken as one workspace's token), they are made from the
    settings.
    """
    if not result.dry_run:
        result.slack = _link_after_sync(
            sessions, settings, result.school_id, now, client, workspaces
        )


def _link_after_sync(
    sessions: sessionmaker[Session],
    settings: Settings,
    school_id: int,
    now: datetime,
    client: WebClient | None,
    workspaces: Workspaces | None,
) -> str:
    from handlers.workspaces import SingleWorkspace, school_reach, workspaces_for

    if workspaces is None and client is not None:
        workspaces = SingleWorkspace(client)
    if workspaces is None:
        if not settings.slack_bot_token and not settings.oauth:
            return (
                "Slack: SLACK_BOT_TOKEN is not set, so staff were not matched to Slack accounts "
                "now (the bot does it by email when it starts)."
            )
        workspaces = workspaces_for(settings, sessions.kw["bind"])
    with db.unit_of_work(sessions) as session:
        reach = school_reach(session, workspaces, school_id)
    if reach.client is None:
        return (
            f"Slack: staff were not matched to Slack accounts: {reach.why_not} (the "
            "bot matches them by email when it can reach the school's workspace)."
        )
    matching = link_staff_accounts(sessions, reach.client, school_id, now)
    if matching.stopped:
        return (
            f"Slack: {matching.linked} member(s) of staff matched to Slack accounts by email, "
            f"then matching stopped after {matching.pages} page(s) of Slack's member list: "
            f"{matching.stopped}. The roster was synced and the matches made are kept; "
            "matching resumes next time."
        )
    if not matching.linked and not matching.missing:
        return "Slack: every current member of staff is matched to a Slack account."
    return (
        f"Slack: {matching.linked} member(s) of staff matched to Slack accounts by email; "
        f"{matching.missing} not found in Slack (asked again in a week)."
    )
