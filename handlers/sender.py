"""The outbox's Slack sender: delivers due prompts by the protocol in bot/services/outbox.py's
docstring. The queue there claims a row (step 1) and records what came of it (step 4); here each
claimed prompt is prepared (step 2: the recipient's Slack id, found by email once, and the
message, written by the caller's `render`) and posted once (step 3), through a client that never
re-posts inside a call (`sender_client`). Slack's errors become the attempt's outcome, saying
whether the post certainly did not happen: a rate limit (which pauses the workspace), a server or
network error to retry (three in a row stop the run), an unreachable recipient, or a refused
token, which stops the run with `SlackTokenRefused`. After the due prompts, unsure ones (a lost
answer, a crash mid-post) are reconciled with one history read per DM (`_reconcile`).

The DM. A message is posted to the member's user id the first time, which Slack documents as
opening the bot's DM with them if need be; its answer names the DM (D…), which is kept on the
staff row (`Staff.slack_dm_channel`, with the account it is with) and used from then on. So a
morning sweep makes no conversations.open at all; only reconciling an unsure prompt for someone
whose DM we do not know yet opens it, to read its history. A kept channel Slack no longer knows
(`channel_not_found`) is forgotten and the post made to the user id instead, in the same
attempt: a post refused for its channel was not posted, so nothing is sent twice.

Pacing. A run is `pacing.patient()`: its calls wait for their slot in the workspace's pacer (a
client made by handlers.slack_api.make_client), so a sweep of hundreds of DMs keeps to Slack's
limits instead of being answered 429.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from bot.errors import UserError
from bot.services import outbox
from bot.services.outbox import (
    CLOCK_SKEW,
    DEFAULT_RETRY_AFTER,
    Claim,
    DeliveryReport,
    Outcome,
    Who,
)
from handlers import pacing
from handlers.slack_api import never_reached_slack, retry_after_seconds, sender_client, slack_id_for
from models import Prompt, PromptStatus, Staff

log = logging.getLogger(__name__)

# Slack now answers conversations.history with 15 messages at most, once a minute, for apps
# distributed outside the Marketplace: one read per run is as much as a sweep a minute may make.
HISTORY_PAGE = 15
RECONCILE_READS = 1
# Attempts in a row that Slack does not answer (or answers 5xx) before a run gives up.
OUTAGE_STOP_AFTER = 3

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
    reconcile_reads: int = RECONCILE_READS,
) -> DeliveryReport:
    """Sends every prompt due at `now` (up to `limit`), each at most once, and reports.

    Due: pending, `due_at <= now`, `next_attempt_at` unset or `<= now`, not unsure, and the
    school not paused by Slack. Each prompt is delivered in its own short transactions (see the
    outbox's docstring), so a crash at any point loses nothing; a prompt left unsure is
    reconciled with up to `reconcile_reads` history reads (one per DM) after the due prompts.
    `school_id` limits the run to one school (one workspace: the
    client's token is that workspace's). Prompts answering someone's action are claimed first;
    `only_prompted_by_action` sends only those (deliver_soon beside a running sweep). Raises
    SlackTokenRefused if Slack refuses the token.
    Any other exception (a database error, or `render` raising something other than an
    Exception) propagates, leaving the prompt leased and pending.
    """
    report = DeliveryReport()
    # Posts are attempted once per delivery attempt, whatever retries `client` was made with.
    client = sender_client(client)
    run = _Run(sessions, client, now, render, report, limit, school_id, only_prompted_by_action)
    with pacing.patient():
        # Fresh prompts first; then settle what lost answers left unsure, and post those
        # history says never arrived.
        if (
            run.post_due()
            and not only_prompted_by_action
            and _reconcile(sessions, client, now, school_id, report, reads=reconcile_reads)
        ):
            run.post_due()
    if school_id is not None and report.paused_until is None:
        with sessions() as session:
            report.paused_until = outbox.paused_until(session, school_id, now)
    return report


@dataclass
class _Run:
    sessions: sessionmaker[Session]
    client: WebClient
    now: datetime
    render: Render
    report: DeliveryReport
    limit: int
    school_id: int | None
    only_prompted_by_action: bool
    passed: set[int] = field(default_factory=set)
    # Rows another sender claimed under our feet (SQLite); every row we tried is out of the
    # due query anyway (leased, retried later, or no longer pending), so only these need naming.
    taken: set[int] = field(default_factory=set)
    outages: int = 0
    """Attempts in a row that Slack did not answer, or answered 5xx."""

    def post_due(self) -> bool:
        """Claims and delivers due prompts; False when the run must stop."""
        while len(self.passed) < self.limit:
            claim = outbox.claim_next(  # 1. Claim
                self.sessions,
                self.now,
                self.taken,
                self.school_id,
                only_prompted_by_action=self.only_prompted_by_action,
            )
            if claim is None:
                return True
            self.passed.add(claim.prompt_id)
            if not self.deliver_one(claim):
                return False
        return True

    def deliver_one(self, claim: Claim) -> bool:
        """Steps 2 to 4 for one claimed prompt; False when the run must stop."""
        sessions, now, report = self.sessions, self.now, self.report
        who, outcome = _attempt(sessions, self.client, claim, now, self.render)  # 2. and 3.
        if outcome.kind == "token":
            outbox.release(sessions, claim, not_posted=outcome.not_posted)
            raise SlackTokenRefused(outcome.reason, report, needed=outcome.needed)
        outbox.record(sessions, claim, who, outcome, now, report)  # 4. Record
        if outcome.kind == "rate_limited":
            # Slack counts per workspace: every prompt of this school waits, in every process.
            until = now + (outcome.wait or DEFAULT_RETRY_AFTER)
            outbox.pause_school(sessions, who.school_id, until)
            report.paused_until = max(until, report.paused_until or until)
            report.stopped = (
                "Slack is rate limiting the bot; the remaining prompts wait for the next run."
            )
            return False
        self.outages = self.outages + 1 if outcome.outage else 0
        if self.outages >= OUTAGE_STOP_AFTER:
            report.stopped = (
                f"Slack did not answer {self.outages} times in a row; the remaining prompts "
                "wait for the next run."
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
    if claim.unsure_since is not None:
        log.warning(
            "Prompt %s: an earlier post's answer was lost and its DM's history could not be "
            "read since %s; posting again (at most one duplicate)",
            claim.prompt_id,
            claim.unsure_since,
        )
    outbox.mark_posting(sessions, claim, prepared.dm_channel, now)  # 3. Slack
    try:
        return who, _send(sessions, client, claim, prepared)
    except SlackApiError as error:
        # Slack answered: a 429 or 4xx was not performed; a 5xx may have been.
        return who, replace(_slack_outcome(error), not_posted=error.response.status_code < 500)
    except OSError as error:  # refused, reset, timed out: never retried by the client
        sure = never_reached_slack(error)
        why = "could not reach Slack" if sure else "Slack's answer was lost"
        reason = f"{why} ({type(_reason_of(error)).__name__})"
        return who, Outcome("retry", reason, not_posted=sure, outage=True)
    except SlackClientError as error:
        return who, Outcome(
            "retry", f"Slack client error ({type(error).__name__})", not_posted=True
        )


def _reason_of(error: OSError) -> BaseException:
    reason = getattr(error, "reason", None)
    return reason if isinstance(reason, BaseException) else error


def _send(
    sessions: sessionmaker[Session], client: WebClient, claim: Claim, message: _Message
) -> Outcome:
    """Step 3: post, once. Slack errors propagate (the caller says whether it was posted)."""
    kept = message.dm_channel
    try:
        posted = _post(client, kept or message.user_id, claim, message)
    except SlackApiError as error:
        if kept is None or _error_code(error) != "channel_not_found":
            raise
        # The kept DM is gone; a post refused for its channel was not posted: post afresh.
        _forget_dm(sessions, message.staff_id, kept)
        posted = _post(client, message.user_id, claim, message)
    _remember_dm(sessions, message.staff_id, message.user_id, message.dm_channel, posted["channel"])
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


def _open_dm(
    sessions: sessionmaker[Session], client: WebClient, staff_id: int, user_id: str
) -> str:
    channel = client.conversations_open(users=user_id)["channel"]["id"]
    _remember_dm(sessions, staff_id, user_id, None, channel)
    return channel


def _remember_dm(
    sessions: sessionmaker[Session],
    staff_id: int,
    user_id: str,
    kept: str | None,
    channel: str | None,
) -> None:
    """Keeps the DM's id on the staff row, unless it is kept already or their account changed
    meanwhile (a DM is only ever used for the account it is with)."""
    if not channel or not channel.startswith("D") or channel == kept:
        return
    with sessions.begin() as session:
        session.execute(
            update(Staff)
            .where(Staff.id == staff_id, Staff.slack_user_id == user_id)
            .values(slack_dm_channel=channel, slack_dm_user_id=user_id)
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
            return who, Outcome(
                "retry", f"could not reach Slack ({type(error).__name__})", outage=True
            )
        except SlackClientError as error:
            return who, Outcome("retry", f"Slack client error ({type(error).__name__})")
        if user_id is None:
            return who, Outcome(
                "unreachable",
                f"no Slack account found for {staff.display_name} (matched by email address)",
            )
        # The moment of delivery, for a message worded relative to today (an overdue review).
        session.info["now"] = now
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


def _reconcile(
    sessions: sessionmaker[Session],
    client: WebClient,
    now: datetime,
    school_id: int | None,
    report: DeliveryReport,
    *,
    reads: int,
) -> int:
    """Settles unsure prompts with at most `reads` history reads, one per DM, covering every
    unsure prompt in it (those unsure longest first). Returns how many are due again (absent
    from history). A read Slack refuses leaves them unsure for a later run."""
    again = 0
    for dm in outbox.claim_unsure(sessions, now, school_id, dms=reads):
        try:
            channel, posted, read_from = _read_dm(sessions, client, dm)
        except (SlackApiError, OSError, SlackClientError) as error:
            outcome = (
                _slack_outcome(error)
                if isinstance(error, SlackApiError)
                else Outcome("retry", f"could not reach Slack ({type(error).__name__})")
            )
            if outcome.kind == "unreachable":
                outbox.fail_unsure(sessions, dm, f"unreachable: {outcome.reason}", report)
                continue
            outbox.give_back_unsure(sessions, dm, now + (outcome.wait or timedelta(0)))
            log.info("Reading a DM's history to reconcile failed (%s); later", outcome.reason)
            break
        again += outbox.settle_unsure(sessions, dm, channel, posted, read_from, now, report)
    return again


def _read_dm(
    sessions: sessionmaker[Session], client: WebClient, dm: outbox.UnsureDM
) -> tuple[str | None, dict[int, str], datetime | None]:
    """ONE conversations.history call over the window in which the DM's unsure posts would lie:
    the channel, the prompt ids found there with their ts, and from when the read is complete
    (None: all of the window)."""
    earliest = min(p.posting_at for p in dm.prompts) - CLOCK_SKEW
    # A post's ts is no later than its answer, which came within the client's timeout.
    latest = max(p.posting_at for p in dm.prompts) + CLOCK_SKEW + timedelta(minutes=1)
    window = {
        "oldest": f"{earliest.timestamp():.6f}",
        "latest": f"{latest.timestamp():.6f}",
        "inclusive": True,
        "include_all_metadata": True,
        "limit": HISTORY_PAGE,
    }
    channel = dm.channel
    if dm.user_id is None:  # never posted: a post needs their Slack id
        return None, {}, None
    if channel is None:
        channel = _open_dm(sessions, client, dm.staff_id, dm.user_id)
    try:
        page = client.conversations_history(channel=channel, **window)
    except SlackApiError as error:
        if _error_code(error) != "channel_not_found":
            raise
        # A DM Slack no longer knows: the post, refused there, went to the user id instead.
        _forget_dm(sessions, dm.staff_id, channel)
        channel = _open_dm(sessions, client, dm.staff_id, dm.user_id)
        page = client.conversations_history(channel=channel, **window)
    posted: dict[int, str] = {}
    stamps = []
    for message in page.get("messages") or []:
        stamps.append(float(message["ts"]))
        metadata = message.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        if metadata.get("event_type") == METADATA_EVENT_TYPE:
            try:
                posted.setdefault(int(payload.get("prompt_id")), message["ts"])
            except (TypeError, ValueError):
                continue
    # Newest first: with more to come, only what lies after the oldest message read is known.
    read_from = None
    if page.get("has_more") and stamps:
        read_from = datetime.fromtimestamp(min(stamps), UTC)
    return channel, posted, read_from


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
        return Outcome(
            "retry", f"Slack server error (HTTP {status}{', ' + code if code else ''})", outage=True
        )
    return Outcome("retry", f"Slack refused the message ({code or f'HTTP {status}'})")


def _retry_after(headers: Mapping[str, Any] | None) -> timedelta | None:
    seconds = retry_after_seconds(headers)
    return None if seconds is None else timedelta(seconds=max(seconds, 1))
