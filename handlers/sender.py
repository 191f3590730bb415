"""The outbox's Slack sender: delivers due prompts, each exactly once, by the protocol in
bot/services/outbox.py's docstring. The queue there claims a row (step 1) and records what came
of it (step 4); here each claimed prompt is prepared (step 2: the recipient's Slack id, found by
email once, and the message, written by the caller's `render`) and sent (step 3: on a retry,
first look in the DM's history for a message tagged with the prompt's id, and take that one
instead of posting again; otherwise post). Slack's errors become the attempt's outcome: a rate
limit, a server or network error to retry, an unreachable recipient, or a refused token, which
stops the run with `SlackTokenRefused`.

The DM. A message is posted to the member's user id the first time, which Slack documents as
opening the bot's DM with them if need be; its answer names the DM (D…), which is kept on the
staff row (`Staff.slack_dm_channel`, with the account it is with) and used from then on. So a
morning sweep makes no conversations.open at all; only reconciling a retry for someone whose DM
we do not know yet opens it, to read its history. A kept channel Slack no longer knows
(`channel_not_found`) is forgotten and the post made to the user id instead, in the same
attempt: a post refused for its channel was not posted, so nothing is sent twice.

Pacing. A run is `pacing.patient()`: its calls wait for their slot in the workspace's pacer (a
client made by handlers.slack_api.make_client), so a sweep of hundreds of DMs keeps to Slack's
limits instead of being answered 429.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from bot.errors import UserError
from bot.services import outbox
from bot.services.outbox import DEFAULT_RETRY_AFTER, Claim, DeliveryReport, Outcome, Who
from handlers import pacing
from handlers.slack_api import slack_id_for
from models import Prompt, PromptStatus, Staff

log = logging.getLogger(__name__)

# A message's ts is Slack's clock; a prompt's due_at is ours. Look this far before due_at.
CLOCK_SKEW = timedelta(minutes=5)
HISTORY_PAGE = 200
HISTORY_PAGES = 10

METADATA_EVENT_TYPE = "ssp_prompt"

# Slack errors meaning this person cannot be messaged: retrying will not help, a person must.
UNREACHABLE_ERRORS: dict[str, str] = {
    "user_not_found": "Slack does not know their account",
    "users_not_found": "Slack does not know their account",
    "account_inactive": "their Slack account is deactivated",
    "user_disabled": "their Slack account is deactivated",
    "channel_not_found": "Slack cannot find the direct message with them",
    "cannot_dm_bot": "the Slack account linked to them is a bot",
}
# Slack errors meaning nothing at all can be sent until someone fixes the app's configuration.
TOKEN_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "token_revoked", "token_expired", "missing_scope"}
)

Render = Callable[[Session, Prompt], Mapping[str, Any] | None]
"""Writes a prompt's message: `{"text": ..., "blocks": [...]}` (text required: it is the
notification and the screen-reader fallback), or None when the prompt is no longer needed
(it is then cancelled, not sent). Called inside a transaction; it may read what it likes."""


class SlackTokenRefused(UserError):
    """Slack refused the bot token (or its scopes): nothing can be sent until it is fixed.

    The run stops at once; the prompt being delivered is left exactly as it was before the
    run, and everything not yet delivered stays pending. `report` says what was done before.
    """

    def __init__(self, error: str, report: DeliveryReport, needed: str | None = None) -> None:
        self.error = error
        self.report = report
        if error == "missing_scope":
            problem = "the Slack app is missing a permission (scope) it needs"
            if needed:
                problem += f": {needed}"
            fix = (
                "add it in the app's settings and reinstall the app (then update "
                "SLACK_BOT_TOKEN, if the school uses one)"
            )
        else:
            problem = f"Slack refused the bot token ({error})"
            # Either way of installing (README, "Installing SSP Bot") can be the one in use.
            fix = (
                "check SLACK_BOT_TOKEN, or, for a workspace installed from /slack/install, "
                "install SSP Bot there again"
            )
        super().__init__(
            f"{problem[0].upper()}{problem[1:]}; {fix}. {len(report.sent)} prompt(s) were sent "
            "before this; the rest are still waiting and will go on the next run."
        )


def deliver_due(
    sessions: sessionmaker[Session],
    client: WebClient,
    *,
    now: datetime,
    render: Render,
    limit: int = 100,
    school_id: int | None = None,
    only_prompted_by_action: bool = False,
) -> DeliveryReport:
    """Sends every prompt due at `now` (up to `limit`), each at most once, and reports.

    Due: pending, `due_at <= now`, and `next_attempt_at` unset or `<= now`. Each prompt is
    delivered in its own short transactions (see the outbox's docstring), so a crash at any point
    loses nothing and sends nothing twice: the next run after the lease reconciles with the DM's
    history before posting again. `school_id` limits the run to one school (one workspace: the
    client's token is that workspace's). Prompts answering someone's action are claimed first;
    `only_prompted_by_action` sends only those (deliver_soon beside a running sweep). Raises
    SlackTokenRefused if Slack refuses the token.
    Any other exception (a database error, or `render` raising something other than an
    Exception) propagates, leaving the prompt leased and pending.
    """
    report = DeliveryReport()
    passed: set[int] = set()
    # Rows another sender claimed under our feet (SQLite); every row we tried is out of the
    # due query anyway (leased, retried later, or no longer pending), so only these need naming.
    taken: set[int] = set()
    with pacing.patient():
        while len(passed) < limit:
            claim = outbox.claim_next(  # 1. Claim
                sessions, now, taken, school_id, only_prompted_by_action=only_prompted_by_action
            )
            if claim is None:
                break
            passed.add(claim.prompt_id)
            if not _deliver_one(sessions, client, claim, now, render, report):
                break
    return report


def _deliver_one(
    sessions: sessionmaker[Session],
    client: WebClient,
    claim: Claim,
    now: datetime,
    render: Render,
    report: DeliveryReport,
) -> bool:
    """Steps 2 to 4 for one claimed prompt; False when the run must stop (a rate limit)."""
    who, outcome = _attempt(sessions, client, claim, now, render)  # 2. and 3.
    if outcome.kind == "token":
        outbox.release(sessions, claim)
        raise SlackTokenRefused(outcome.reason, report, needed=outcome.needed)
    outbox.record(sessions, claim, who, outcome, now, report)  # 4. Record
    if outcome.kind == "rate_limited":
        report.stopped = (
            "Slack is rate limiting the bot; the remaining prompts wait for the next run."
        )
        return False
    return True


@dataclass(frozen=True)
class _Message:
    staff_id: int
    user_id: str
    dm_channel: str | None
    """The DM with them as kept on their staff row, if it is with this account."""
    text: str
    blocks: list[Any] | None
    thread_ts: str | None = None
    """A reply in this thread of the DM (a message's renderer may ask for one)."""


def _attempt(
    sessions: sessionmaker[Session],
    client: WebClient,
    claim: Claim,
    now: datetime,
    render: Render,
) -> tuple[Who, Outcome]:
    """Everything between claiming and recording: prepare (2), then talk to Slack (3)."""
    who, prepared = _prepare(sessions, client, claim, now, render)
    if isinstance(prepared, Outcome):
        return who, prepared
    try:
        return who, _send(sessions, client, claim, who, prepared)
    except SlackApiError as error:
        return who, _slack_outcome(error)
    except OSError as error:  # connection refused, reset, timed out (after the client's retries)
        return who, Outcome("retry", f"could not reach Slack ({type(error).__name__})")
    except SlackClientError as error:
        return who, Outcome("retry", f"Slack client error ({type(error).__name__})")


def _send(
    sessions: sessionmaker[Session],
    client: WebClient,
    claim: Claim,
    who: Who,
    message: _Message,
) -> Outcome:
    """Step 3: reconcile a retry with the DM's history, else post. Slack errors propagate."""
    kept = message.dm_channel
    if claim.attempts_before > 0:
        # An earlier attempt may have posted before it died: look before posting again.
        channel = kept or _open_dm(client, message.user_id)
        try:
            ts = _find_posted(client, channel, claim.prompt_id, oldest=who.due_at - CLOCK_SKEW)
        except SlackApiError as error:
            if kept is None or _error_code(error) != "channel_not_found":
                raise
            _forget_dm(sessions, message.staff_id, kept)
            kept = None
            channel = _open_dm(client, message.user_id)
            ts = _find_posted(client, channel, claim.prompt_id, oldest=who.due_at - CLOCK_SKEW)
        if ts is not None:
            _remember_dm(sessions, message, channel)
            return Outcome("sent", channel=channel, ts=ts, reconciled=True)
    try:
        posted = _post(client, kept or message.user_id, claim, message)
    except SlackApiError as error:
        if kept is None or _error_code(error) != "channel_not_found":
            raise
        # The kept DM is gone; a post refused for its channel was not posted: post afresh.
        _forget_dm(sessions, message.staff_id, kept)
        posted = _post(client, message.user_id, claim, message)
    _remember_dm(sessions, message, posted["channel"])
    return Outcome("sent", channel=posted["channel"], ts=posted["ts"])


def _post(client: WebClient, channel: str, claim: Claim, message: _Message):
    return client.chat_postMessage(
        channel=channel,
        text=message.text,
        blocks=message.blocks,
        thread_ts=message.thread_ts,
        metadata={
            "event_type": METADATA_EVENT_TYPE,
            "event_payload": {"prompt_id": claim.prompt_id},
        },
    )


def _open_dm(client: WebClient, user_id: str) -> str:
    return client.conversations_open(users=user_id)["channel"]["id"]


def _remember_dm(sessions: sessionmaker[Session], message: _Message, channel: str | None) -> None:
    """Keeps the DM's id on the staff row, unless it is kept already or their account changed
    meanwhile (a DM is only ever used for the account it is with)."""
    if not channel or not channel.startswith("D") or channel == message.dm_channel:
        return
    with sessions.begin() as session:
        session.execute(
            update(Staff)
            .where(Staff.id == message.staff_id, Staff.slack_user_id == message.user_id)
            .values(slack_dm_channel=channel, slack_dm_user_id=message.user_id)
            .execution_options(synchronize_session=False)
        )


def _forget_dm(sessions: sessionmaker[Session], staff_id: int, channel: str) -> None:
    log.info("A kept DM channel is no longer known to Slack; posting to the user id instead")
    with sessions.begin() as session:
        session.execute(
            update(Staff)
            .where(Staff.id == staff_id, Staff.slack_dm_channel == channel)
            .values(slack_dm_channel=None, slack_dm_user_id=None)
            .execution_options(synchronize_session=False)
        )


def _error_code(error: SlackApiError) -> str:
    data = error.response.data if isinstance(error.response.data, dict) else {}
    return str(data.get("error") or "")


def _prepare(
    sessions: sessionmaker[Session],
    client: WebClient,
    claim: Claim,
    now: datetime,
    render: Render,
) -> tuple[Who, _Message | Outcome]:
    """Who it is for, and their Slack id and the rendered message; or why there is nothing to
    post. One transaction; a Slack error looking the person up is the attempt's outcome."""
    with sessions.begin() as session:
        prompt = session.get(Prompt, claim.prompt_id)
        assert prompt is not None  # claimed rows are never deleted
        staff = prompt.recipient
        who = Who(prompt.id, prompt.school_id, staff.display_name, prompt.kind, prompt.due_at)
        if prompt.status != PromptStatus.PENDING:
            return who, Outcome("cancelled", "cancelled while it was being sent")
        if not staff.is_active:
            return who, Outcome(
                "unreachable", f"{staff.display_name} is no longer on the staff list"
            )
        try:
            user_id = slack_id_for(session, client, staff, now)
        except SlackApiError as error:
            return who, _slack_outcome(error)
        except OSError as error:
            return who, Outcome("retry", f"could not reach Slack ({type(error).__name__})")
        except SlackClientError as error:
            return who, Outcome("retry", f"Slack client error ({type(error).__name__})")
        if user_id is None:
            return who, Outcome(
                "unreachable",
                f"no Slack account found for {staff.display_name} (matched by email address)",
            )
        try:
            content = render(session, prompt)
        except Exception as error:  # a bug in one message must not stop the others
            log.exception("Rendering prompt %s (%s) failed", prompt.id, prompt.kind.value)
            return who, Outcome(
                "retry", f"the message could not be written ({type(error).__name__})"
            )
        if content is None:
            return who, Outcome("cancelled", "no longer needed")
        text = content.get("text")
        if not isinstance(text, str) or not text.strip():
            return who, Outcome("retry", "the message has no text")
        dm_channel = staff.dm_channel if staff.slack_user_id == user_id else None
        return who, _Message(
            staff.id, user_id, dm_channel, text, content.get("blocks"), content.get("thread_ts")
        )


def _find_posted(
    client: WebClient, channel: str, prompt_id: int, *, oldest: datetime
) -> str | None:
    """The ts of a message in the DM tagged with this prompt's id, if an earlier run posted it."""
    cursor = None
    for _ in range(HISTORY_PAGES):
        page = client.conversations_history(
            channel=channel,
            oldest=f"{oldest.timestamp():.6f}",
            include_all_metadata=True,
            limit=HISTORY_PAGE,
            cursor=cursor,
        )
        for message in page.get("messages") or []:
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == METADATA_EVENT_TYPE and str(
                payload.get("prompt_id")
            ) == str(prompt_id):
                return message["ts"]
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not page.get("has_more") or not cursor:
            return None
    log.warning("Prompt %s: DM history too long to search fully; posting", prompt_id)
    return None


def _slack_outcome(error: SlackApiError) -> Outcome:
    response = error.response
    data = response.data if isinstance(response.data, dict) else {}
    code = str(data.get("error") or "")
    status = response.status_code
    if code in TOKEN_ERRORS:
        return Outcome("token", code, needed=data.get("needed"))
    if status == 429 or code == "ratelimited":
        wait = _retry_after(response.headers) or DEFAULT_RETRY_AFTER
        return Outcome("rate_limited", "Slack rate limited the bot", wait=wait)
    if code in UNREACHABLE_ERRORS:
        return Outcome("unreachable", f"{UNREACHABLE_ERRORS[code]} (Slack: {code})")
    if status >= 500:
        return Outcome("retry", f"Slack server error (HTTP {status}{', ' + code if code else ''})")
    return Outcome("retry", f"Slack refused the message ({code or f'HTTP {status}'})")


def _retry_after(headers: Mapping[str, Any] | None) -> timedelta | None:
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            value = value[0] if isinstance(value, list) else value
            try:
                return timedelta(seconds=max(int(value), 1))
            except (TypeError, ValueError):
                return None
    return None
