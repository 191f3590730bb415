"""The prompt outbox: a prompt is a row first, and each row reaches Slack exactly once.

A feature that owes someone a message calls `enqueue` inside its own unit of work; the prompt
exists as soon as that commits, whatever happens to Slack or to this process afterwards.
`deliver_due` (the scheduler's tick) sends what is due, each prompt in short transactions of its
own:

1. Claim. Lock the row (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so other senders pass it by),
   count the attempt, lease the row by pushing `next_attempt_at` into the future, and COMMIT.
   From here on a crash leaves a pending row with `attempts > 0`: "a message may already be
   in Slack".
2. Prepare. Find the recipient's Slack id (by email, once) and render the message with the
   caller's `render`; commit.
3. Slack. Open the DM. On a retry, first look in the DM's history for a message carrying this
   prompt's id in its metadata (every message is tagged) and take that one instead of posting
   again. Otherwise post.
4. Record channel, ts, `sent_at` and status sent, in a transaction of its own.

Slack errors decide what happens next: a rate limit waits for Retry-After and stops the run;
a server or network error is retried with exponential backoff up to MAX_ATTEMPTS, then the
prompt fails; an unreachable recipient (no Slack account, deactivated, ...) fails at once; a
refused token stops the run with `SlackTokenRefused`, leaving the rows as they were. Failed
prompts are never dropped silently: `unreachable` lists them for the SENDCo.

SQLite has no row locks (SQLAlchemy leaves `FOR UPDATE` out there). Every claim is also a
compare-and-set on `attempts`, so a second sender can never claim a row another has claimed, but
SQLite serialises all writers: run one sender at a time on SQLite (the in-process scheduler or
one cron `tick`), and PostgreSQL to run several.

Messages and reports name staff and the kind of prompt, never pupils: what a message says is
the caller's `render`, which knows the school's rules (DESIGN §4).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot import db
from bot.errors import UserError
from handlers.slack_api import slack_id_for
from models import Plan, Prompt, PromptKind, PromptStatus, Staff

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
# Retry after 1, 2, 4, 8, 16 minutes: half an hour of Slack trouble before a prompt fails.
FIRST_BACKOFF = timedelta(minutes=1)
# A claimed row is left alone by other senders for at least this long: longer than one
# delivery can take (a few Slack calls, each with a 10 s timeout and the client's own retries).
CLAIM_LEASE = timedelta(minutes=5)
# When Slack rate limits us and gives no Retry-After.
DEFAULT_RETRY_AFTER = timedelta(minutes=1)
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

KIND_LABELS: dict[PromptKind, str] = {
    PromptKind.ASSIGNMENT: "assignment notice",
    PromptKind.ASSIGNMENT_REMINDER: "assignment reminder",
    PromptKind.REVIEW_DUE: "review due",
    PromptKind.REVIEW_REMINDER: "review reminder",
    PromptKind.REVIEW_ESCALATION: "review escalation",
    PromptKind.MONITORING_REQUEST: "monitoring request",
    PromptKind.MONITORING_DIGEST: "monitoring digest",
    PromptKind.QA_REQUEST: "quality assurance request",
    PromptKind.SENDCO_DIGEST: "SENDCo digest",
}

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
            fix = "add it in the app's settings, reinstall the app, and update SLACK_BOT_TOKEN"
        else:
            problem = f"Slack refused the bot token ({error})"
            fix = "check SLACK_BOT_TOKEN"
        super().__init__(
            f"{problem[0].upper()}{problem[1:]}; {fix}. {len(report.sent)} prompt(s) were sent "
            "before this; the rest are still waiting and will go on the next run."
        )


@dataclass(frozen=True)
class Delivery:
    """What happened to one prompt in a run. Names the member of staff, never a pupil."""

    prompt_id: int
    school_id: int
    recipient: str
    kind: PromptKind
    reason: str | None = None
    """Why it is to be retried, failed or cancelled."""
    next_attempt_at: datetime | None = None
    reconciled: bool = False
    """Sent: found already in Slack, posted by a run that was interrupted before recording."""


@dataclass
class DeliveryReport:
    """What one `deliver_due` run did, fit to print from `sspbot tick` or to log."""

    sent: list[Delivery] = field(default_factory=list)
    retried: list[Delivery] = field(default_factory=list)
    """Still pending: tried and will be tried again at `next_attempt_at`."""
    failed: list[Delivery] = field(default_factory=list)
    cancelled: list[Delivery] = field(default_factory=list)
    """No longer needed (the caller's `render` said so, or it was cancelled meanwhile)."""
    stopped: str | None = None
    """Why the run stopped before everything due was tried (Slack asked us to slow down)."""

    def summary(self) -> list[str]:
        """Lines for a person: counts, then every retry and failure with its reason."""
        if not (self.sent or self.retried or self.failed or self.cancelled or self.stopped):
            return ["No prompts were due."]
        counts = f"Prompts: {len(self.sent)} sent, {len(self.retried)} to retry, "
        counts += f"{len(self.failed)} failed"
        if self.cancelled:
            counts += f", {len(self.cancelled)} no longer needed"
        lines = [counts + "."]
        reconciled = sum(1 for d in self.sent if d.reconciled)
        if reconciled:
            lines.append(
                f"  {reconciled} of those sent had already reached Slack in an interrupted "
                "run, and were recorded without sending again."
            )
        for d in self.retried:
            when = f"{d.next_attempt_at:%Y-%m-%d %H:%M} UTC" if d.next_attempt_at else "later"
            lines.append(f"  retry at {when}: {d.recipient}, {kind_label(d.kind)}: {d.reason}")
        for d in self.failed:
            lines.append(f"  failed: {d.recipient}, {kind_label(d.kind)}: {d.reason}")
        if self.stopped:
            lines.append(f"Stopped early: {self.stopped}")
        return lines


@dataclass(frozen=True)
class UnreachablePrompt:
    """A prompt that could not be delivered, for the SENDCo to follow up by hand."""

    prompt_id: int
    recipient_id: int
    recipient: str
    kind: PromptKind
    plan_id: int | None
    due_at: datetime
    attempts: int
    reason: str


def enqueue(
    session: Session,
    *,
    school_id: int,
    recipient_id: int,
    kind: PromptKind,
    dedupe_key: str,
    due_at: datetime,
    now: datetime,
    plan_id: int | None = None,
) -> Prompt:
    """The prompt for (school, dedupe_key), creating it pending if there is none.

    Idempotent: when the key exists (in any status, even cancelled or sent) the existing row is
    returned unchanged, so a scheduler may enqueue as often as it likes. Safe against a
    concurrent enqueue of the same key: the loser's insert fails on the unique constraint inside
    a SAVEPOINT, and the winner's row is returned; the caller's transaction is unharmed.
    Nothing is committed: the prompt exists when the caller's unit of work commits.
    Raises ValueError if the recipient or plan belongs to another school.
    """
    existing = _existing(session, school_id, dedupe_key)
    if existing is not None:
        return existing
    recipient = session.get(Staff, recipient_id)
    if recipient is None or recipient.school_id != school_id:
        raise ValueError(f"staff {recipient_id} is not in school {school_id}")
    if plan_id is not None:
        plan = session.get(Plan, plan_id)
        if plan is None or plan.school_id != school_id:
            raise ValueError(f"plan {plan_id} is not in school {school_id}")
    prompt = Prompt(
        school_id=school_id,
        recipient_id=recipient_id,
        kind=kind,
        plan_id=plan_id,
        dedupe_key=dedupe_key,
        status=PromptStatus.PENDING,
        due_at=due_at,
        attempts=0,
        created_at=now,
    )
    try:
        with _savepoint(session):
            session.add(prompt)
    except IntegrityError:
        existing = _existing(session, school_id, dedupe_key)
        if existing is None:
            raise
        return existing
    return prompt


def enqueue_many(session: Session, rows: list[dict[str, Any]], *, now: datetime) -> int:
    """Creates many pending prompts in one statement; keys that exist already are skipped.

    For the scheduler's sweep, which has already read which keys exist and checked that each
    recipient and plan belongs to the school. Each row gives school_id, recipient_id, kind,
    plan_id, dedupe_key and due_at. Returns how many rows were asked for.
    """
    if not rows:
        return 0
    values = [
        {**row, "status": PromptStatus.PENDING, "attempts": 0, "created_at": now} for row in rows
    ]
    # A concurrent sweep may have made some of these keys since we looked: theirs stand.
    db.insert_skipping_existing(session, Prompt, values, ["school_id", "dedupe_key"])
    return len(rows)


def deliver_due(
    sessions: sessionmaker[Session],
    client: WebClient,
    *,
    now: datetime,
    render: Render,
    limit: int = 100,
    school_id: int | None = None,
) -> DeliveryReport:
    """Sends every prompt due at `now` (up to `limit`), each at most once, and reports.

    Due: pending, `due_at <= now`, and `next_attempt_at` unset or `<= now`. Each prompt is
    delivered in its own short transactions (see the module docstring), so a crash at any point
    loses nothing and sends nothing twice: the next run after the lease reconciles with the DM's
    history before posting again. `school_id` limits the run to one school (one workspace: the
    client's token is that workspace's). Raises SlackTokenRefused if Slack refuses the token.
    Any other exception (a database error, or `render` raising something other than an
    Exception) propagates, leaving the prompt leased and pending.
    """
    report = DeliveryReport()
    passed: set[int] = set()
    # Rows another sender claimed under our feet (SQLite); every row we tried is out of the
    # due query anyway (leased, retried later, or no longer pending), so only these need naming.
    taken: set[int] = set()
    channels: dict[str, str] = {}
    while len(passed) < limit:
        claim = _claim_next(sessions, now, taken, school_id)
        if claim is None:
            break
        passed.add(claim.prompt_id)
        who, outcome = _attempt(sessions, client, claim, now, render, channels)
        if outcome.kind == "token":
            _release(sessions, claim)
            raise SlackTokenRefused(outcome.reason, report, needed=outcome.needed)
        _record(sessions, claim, who, outcome, now, report)
        if outcome.kind == "rate_limited":
            report.stopped = (
                "Slack is rate limiting the bot; the remaining prompts wait for the next run."
            )
            break
    return report


def unreachable(session: Session, school_id: int) -> list[UnreachablePrompt]:
    """The school's failed prompts, newest (by due date) first, with who, what and why."""
    rows = session.execute(
        select(Prompt, Staff)
        .join(Staff, Staff.id == Prompt.recipient_id)
        .where(Prompt.school_id == school_id, Prompt.status == PromptStatus.FAILED)
        .order_by(Prompt.due_at.desc(), Prompt.id.desc())
    ).all()
    return [
        UnreachablePrompt(
            prompt_id=prompt.id,
            recipient_id=staff.id,
            recipient=staff.display_name,
            kind=prompt.kind,
            plan_id=prompt.plan_id,
            due_at=prompt.due_at,
            attempts=prompt.attempts,
            reason=prompt.last_error or "unknown",
        )
        for prompt, staff in rows
    ]


def cancel(session: Session, school_id: int, dedupe_key: str) -> bool:
    """Cancels the prompt if it is still pending; True if it was. Sent or failed: unchanged.

    A prompt a sender is posting at this very moment may still arrive; it is then recorded as
    sent, because it was.
    """
    result = session.execute(
        update(Prompt)
        .where(
            Prompt.school_id == school_id,
            Prompt.dedupe_key == dedupe_key,
            Prompt.status == PromptStatus.PENDING,
        )
        .values(status=PromptStatus.CANCELLED, next_attempt_at=None)
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount == 1


def mark_answered(
    session: Session, prompt_id: int, now: datetime, *, school_id: int | None = None
) -> Prompt | None:
    """Records that the recipient answered; the first answer's time is kept.

    Pass `school_id` (from the verified Slack request) whenever the prompt id came from a
    button or a modal: a prompt of another school is then treated as not found (None).
    """
    prompt = session.get(Prompt, prompt_id)
    if prompt is None or (school_id is not None and prompt.school_id != school_id):
        return None
    if prompt.answered_at is None:
        prompt.answered_at = now
        session.flush()
    return prompt


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th attempt failed: 1, 2, 4, 8, 16... minutes."""
    return FIRST_BACKOFF * 2 ** max(attempts - 1, 0)


def kind_label(kind: PromptKind) -> str:
    return KIND_LABELS.get(kind, kind.value.replace("_", " "))


# --------------------------------------------------------------------------- the steps


@dataclass(frozen=True)
class _Claim:
    prompt_id: int
    attempts_before: int
    next_attempt_before: datetime | None

    @property
    def attempts(self) -> int:
        return self.attempts_before + 1


@dataclass(frozen=True)
class _Who:
    prompt_id: int
    school_id: int
    recipient: str
    kind: PromptKind
    due_at: datetime


@dataclass(frozen=True)
class _Outcome:
    kind: Literal["sent", "retry", "rate_limited", "unreachable", "cancelled", "token"]
    reason: str = ""
    channel: str | None = None
    ts: str | None = None
    reconciled: bool = False
    wait: timedelta | None = None
    needed: str | None = None


@dataclass(frozen=True)
class _Message:
    user_id: str
    text: str
    blocks: list[Any] | None


def _claim_next(
    sessions: sessionmaker[Session], now: datetime, taken: set[int], school_id: int | None
) -> _Claim | None:
    """Claims the next due prompt: the attempt is counted and the row leased, committed."""
    while True:
        with sessions.begin() as session:
            query = (
                select(Prompt.id, Prompt.attempts, Prompt.next_attempt_at)
                .where(
                    Prompt.status == PromptStatus.PENDING,
                    Prompt.due_at <= now,
                    or_(Prompt.next_attempt_at.is_(None), Prompt.next_attempt_at <= now),
                )
                .order_by(Prompt.due_at, Prompt.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if taken:
                query = query.where(Prompt.id.not_in(taken))
            if school_id is not None:
                query = query.where(Prompt.school_id == school_id)
            row = session.execute(query).first()
            if row is None:
                return None
            attempts = row.attempts + 1
            # Compare-and-set: on SQLite (no row locks) another sender may have claimed it
            # since we read it; then the update matches nothing and we pass it by.
            claimed = session.execute(
                update(Prompt)
                .where(
                    Prompt.id == row.id,
                    Prompt.status == PromptStatus.PENDING,
                    Prompt.attempts == row.attempts,
                )
                .values(
                    attempts=attempts, next_attempt_at=now + max(backoff(attempts), CLAIM_LEASE)
                )
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount == 1:
                return _Claim(row.id, row.attempts, row.next_attempt_at)
        taken.add(row.id)


def _attempt(
    sessions: sessionmaker[Session],
    client: WebClient,
    claim: _Claim,
    now: datetime,
    render: Render,
    channels: dict[str, str],
) -> tuple[_Who, _Outcome]:
    """Everything between claiming and recording: prepare, then talk to Slack.

    `channels` remembers each person's DM channel for the run: one conversations.open each.
    """
    who, prepared = _prepare(sessions, client, claim, now, render)
    if isinstance(prepared, _Outcome):
        return who, prepared
    try:
        channel = channels.get(prepared.user_id)
        if channel is None:
            channel = client.conversations_open(users=prepared.user_id)["channel"]["id"]
            channels[prepared.user_id] = channel
        if claim.attempts_before > 0:
            ts = _find_posted(client, channel, claim.prompt_id, oldest=who.due_at - CLOCK_SKEW)
            if ts is not None:
                return who, _Outcome("sent", channel=channel, ts=ts, reconciled=True)
        posted = client.chat_postMessage(
            channel=channel,
            text=prepared.text,
            blocks=prepared.blocks,
            metadata={
                "event_type": METADATA_EVENT_TYPE,
                "event_payload": {"prompt_id": claim.prompt_id},
            },
        )
        return who, _Outcome("sent", channel=posted["channel"], ts=posted["ts"])
    except SlackApiError as error:
        return who, _slack_outcome(error)
    except OSError as error:  # connection refused, reset, timed out (after the client's retries)
        return who, _Outcome("retry", f"could not reach Slack ({type(error).__name__})")
    except SlackClientError as error:
        return who, _Outcome("retry", f"Slack client error ({type(error).__name__})")


def _prepare(
    sessions: sessionmaker[Session],
    client: WebClient,
    claim: _Claim,
    now: datetime,
    render: Render,
) -> tuple[_Who, _Message | _Outcome]:
    """Who it is for, and their Slack id and the rendered message; or why there is nothing to
    post. One transaction; a Slack error looking the person up is the attempt's outcome."""
    with sessions.begin() as session:
        prompt = session.get(Prompt, claim.prompt_id)
        assert prompt is not None  # claimed rows are never deleted
        staff = prompt.recipient
        who = _Who(prompt.id, prompt.school_id, staff.display_name, prompt.kind, prompt.due_at)
        if prompt.status != PromptStatus.PENDING:
            return who, _Outcome("cancelled", "cancelled while it was being sent")
        if not staff.is_active:
            return who, _Outcome(
                "unreachable", f"{staff.display_name} is no longer on the staff list"
            )
        try:
            user_id = slack_id_for(session, client, staff, now)
        except SlackApiError as error:
            return who, _slack_outcome(error)
        except OSError as error:
            return who, _Outcome("retry", f"could not reach Slack ({type(error).__name__})")
        except SlackClientError as error:
            return who, _Outcome("retry", f"Slack client error ({type(error).__name__})")
        if user_id is None:
            return who, _Outcome(
                "unreachable",
                f"no Slack account found for {staff.display_name} (matched by email address)",
            )
        try:
            content = render(session, prompt)
        except Exception as error:  # a bug in one message must not stop the others
            log.exception("Rendering prompt %s (%s) failed", prompt.id, prompt.kind.value)
            return who, _Outcome(
                "retry", f"the message could not be written ({type(error).__name__})"
            )
        if content is None:
            return who, _Outcome("cancelled", "no longer needed")
        text = content.get("text")
        if not isinstance(text, str) or not text.strip():
            return who, _Outcome("retry", "the message has no text")
        return who, _Message(user_id, text, content.get("blocks"))


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


def _slack_outcome(error: SlackApiError) -> _Outcome:
    response = error.response
    data = response.data if isinstance(response.data, dict) else {}
    code = str(data.get("error") or "")
    status = response.status_code
    if code in TOKEN_ERRORS:
        return _Outcome("token", code, needed=data.get("needed"))
    if status == 429 or code == "ratelimited":
        wait = _retry_after(response.headers) or DEFAULT_RETRY_AFTER
        return _Outcome("rate_limited", "Slack rate limited the bot", wait=wait)
    if code in UNREACHABLE_ERRORS:
        return _Outcome("unreachable", f"{UNREACHABLE_ERRORS[code]} (Slack: {code})")
    if status >= 500:
        return _Outcome("retry", f"Slack server error (HTTP {status}{', ' + code if code else ''})")
    return _Outcome("retry", f"Slack refused the message ({code or f'HTTP {status}'})")


def _retry_after(headers: Mapping[str, Any] | None) -> timedelta | None:
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            value = value[0] if isinstance(value, list) else value
            try:
                return timedelta(seconds=max(int(value), 1))
            except (TypeError, ValueError):
                return None
    return None


def _record(
    sessions: sessionmaker[Session],
    claim: _Claim,
    who: _Who,
    outcome: _Outcome,
    now: datetime,
    report: DeliveryReport,
) -> None:
    def delivery(**extra: Any) -> Delivery:
        return Delivery(who.prompt_id, who.school_id, who.recipient, who.kind, **extra)

    if outcome.kind == "sent":
        sent_at = _ts_time(outcome.ts) if outcome.reconciled else now
        with sessions.begin() as session:
            _record_sent(session, claim.prompt_id, outcome.channel, outcome.ts, sent_at)
        report.sent.append(delivery(reconciled=outcome.reconciled))
        return
    if outcome.kind == "cancelled":
        _update_if_pending(
            sessions, claim, status=PromptStatus.CANCELLED, next_attempt_at=None, last_error=None
        )
        report.cancelled.append(delivery(reason=outcome.reason))
        return
    if outcome.kind == "unreachable":
        reason = f"unreachable: {outcome.reason}"
        _update_if_pending(
            sessions, claim, status=PromptStatus.FAILED, next_attempt_at=None, last_error=reason
        )
        report.failed.append(delivery(reason=reason))
        return
    if outcome.kind == "rate_limited":
        # Not the prompt's fault: never fails it, however often it happens.
        retry_at = now + (outcome.wait or DEFAULT_RETRY_AFTER)
        _update_if_pending(sessions, claim, next_attempt_at=retry_at, last_error=outcome.reason)
        report.retried.append(delivery(reason=outcome.reason, next_attempt_at=retry_at))
        return
    if claim.attempts >= MAX_ATTEMPTS:
        reason = f"gave up after {claim.attempts} attempts: {outcome.reason}"
        _update_if_pending(
            sessions, claim, status=PromptStatus.FAILED, next_attempt_at=None, last_error=reason
        )
        report.failed.append(delivery(reason=reason))
        return
    retry_at = now + backoff(claim.attempts)
    _update_if_pending(sessions, claim, next_attempt_at=retry_at, last_error=outcome.reason)
    report.retried.append(delivery(reason=outcome.reason, next_attempt_at=retry_at))


def _record_sent(
    session: Session, prompt_id: int, channel: str | None, ts: str | None, sent_at: datetime
) -> None:
    """Marks the prompt sent. A cancel that raced the post loses: the message did go."""
    session.execute(
        update(Prompt)
        .where(Prompt.id == prompt_id, Prompt.status != PromptStatus.SENT)
        .values(
            status=PromptStatus.SENT,
            slack_channel=channel,
            slack_ts=ts,
            sent_at=sent_at,
            next_attempt_at=None,
            last_error=None,
        )
        .execution_options(synchronize_session=False)
    )


def _update_if_pending(sessions: sessionmaker[Session], claim: _Claim, **values: Any) -> None:
    """Records an attempt's outcome, unless the prompt was cancelled (or sent) meanwhile."""
    with sessions.begin() as session:
        session.execute(
            update(Prompt)
            .where(Prompt.id == claim.prompt_id, Prompt.status == PromptStatus.PENDING)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def _release(sessions: sessionmaker[Session], claim: _Claim) -> None:
    """Undoes a claim that never reached Slack (the token was refused): as if never tried."""
    with sessions.begin() as session:
        session.execute(
            update(Prompt)
            .where(Prompt.id == claim.prompt_id, Prompt.attempts == claim.attempts)
            .values(attempts=claim.attempts_before, next_attempt_at=claim.next_attempt_before)
            .execution_options(synchronize_session=False)
        )


# --------------------------------------------------------------------------- helpers


def _existing(session: Session, school_id: int, dedupe_key: str) -> Prompt | None:
    return session.scalar(
        select(Prompt).where(Prompt.school_id == school_id, Prompt.dedupe_key == dedupe_key)
    )


def _savepoint(session: Session):
    """`session.begin_nested()`, made safe on SQLite.

    Python's sqlite3 driver opens its transaction lazily, at the first INSERT/UPDATE/DELETE. A
    SAVEPOINT issued before then becomes the outermost transaction, and releasing it COMMITS:
    the caller's later rollback would not undo the prompt. Opening the transaction first keeps
    the savepoint nested, as on PostgreSQL.
    """
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        dbapi_connection = connection.connection.dbapi_connection
        if dbapi_connection is not None and not dbapi_connection.in_transaction:
            connection.exec_driver_sql("BEGIN")
    return session.begin_nested()


def _ts_time(ts: str | None) -> datetime:
    return datetime.fromtimestamp(float(ts or 0), UTC)
