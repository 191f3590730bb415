"""The prompt outbox: a prompt is a row first, and each row reaches Slack exactly once.

A feature that owes someone a message calls `enqueue` inside its own unit of work; the prompt
exists as soon as that commits, whatever happens to Slack or to this process afterwards. What it
is about is in typed columns (plan and review cycle, assignment, monitoring request); its
`dedupe_key` only makes `enqueue` idempotent. The Slack sender's `deliver_due` (the scheduler's
tick) sends what is due, each prompt in short transactions of its own:

1. Claim (`claim_next`). Take the next due row -- those answering someone's action now (an
   assignment, a plan request, a quality check: `priority` 0) before scheduled ones (reviews,
   reminders, digests), then in due order -- lock it (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so
   other senders pass it by), count the attempt, lease the row by pushing `next_attempt_at`
   into the future, and COMMIT. From here on a crash leaves a pending row with
   `attempts > 0`: "a message may already be in Slack".
2. Prepare (the sender). Find the recipient's Slack id (by email, once) and render the message
   with the caller's `render`; commit.
3. Post (the sender), once. First `mark_posting` commits `posting_at` (and the DM's channel, when
   it is known) on the row: "a post may be under way". Then ONE chat.postMessage, to the DM kept
   on the staff row or to the member's user id, tagged with the prompt's id in its metadata. The
   client never posts again inside the call (handlers.slack_api.retry_handlers): a post whose
   answer was lost may have been made, and only the outbox decides what comes next.
4. Record (`record`) what Slack's answer says, in a transaction of its own: sent (channel, ts,
   `sent_at`), or to retry / failed. `posting_at` is cleared when the answer settles the
   question -- posted, or certainly not posted: Slack answered 429 or 4xx or `ok: false`, or the
   request never reached Slack (connection refused, the name did not resolve). It stays set
   when the answer was lost (a timeout, the connection dropped mid-answer, a 5xx) or the sender
   died after step 3 began: the prompt is then *unsure*.

An unsure prompt is never posted blindly. Reconciliation (the sender's `_reconcile`, after the
run's due prompts, so it never holds up fresh ones) takes the recipients whose prompts have been
unsure longest (`claim_unsure`, leased like a claim) and, for each, makes ONE
conversations.history read of their DM over the window in which all of its unsure posts would lie
(from the earliest `posting_at` less CLOCK_SKEW to the latest plus CLOCK_SKEW and the client's
timeout), however many prompts are unsure there. A prompt whose tagged message is found is
recorded sent; one absent from a window read completely was not posted, and is due again at
once (`settle_unsure`, a compare-and-set on `attempts` and `posting_at`, so a read older than
another sender's attempt changes nothing). Slack allows apps outside the Marketplace one
history read a minute, of 15 messages: a run makes RECONCILE_READS reads (one), the rest wait
for later runs, and a read refused (429) or failing leaves them unsure for a later run. A
prompt that died before step 3 (a crash between claim and post) is not unsure and is posted
again without any read.

The guarantee. A prompt's message is in Slack at most once, except: an unsure prompt that no
history read has settled within POST_ANYWAY_AFTER (an hour; e.g. history unreadable for that
long, or more DMs unsure than a read a minute can settle in an hour) is posted again anyway, so
each such prompt may appear twice: at most one duplicate per lost answer or crash mid-post that
history could not settle within the hour. Every prompt is posted (sent), or failed and listed
for the SENDCo (`unreachable`); none is dropped silently.

Slack errors decide what happens next: a rate limit pauses the whole workspace
(`pause_school`: `schools.slack_paused_until`, honoured by every sender's claim, in every
process) for Retry-After and stops the run; a server or network error is retried with
exponential backoff up to MAX_ATTEMPTS, then the prompt fails, and three of them in a row stop
the run (an outage: the next sweep tries again); an unreachable recipient (no Slack account,
deactivated, ...) fails at once; a refused token stops the run with `SlackTokenRefused`,
leaving the rows as they were. Failed prompts are never dropped silently: `unreachable` lists
them for the SENDCo.

SQLite has no row locks (SQLAlchemy leaves `FOR UPDATE` out there). Every claim is also a
compare-and-set on `attempts`, so a second sender can never claim a row another has claimed, but
SQLite serialises all writers: run one sending process at a time on SQLite (the in-process
scheduler, whose deliver_soon may send notices beside its own sweep, or one cron `tick`), and
PostgreSQL to run several.

Messages and reports name staff and the kind of prompt, never pupils: what a message says is
the caller's `render`, which knows the school's rules (DESIGN §4).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot import db
from models import Plan, Prompt, PromptKind, PromptStatus, School, Staff
from models.outbox import PRIORITY_NOW, priority_of

MAX_ATTEMPTS = 6
# Retry after 1, 2, 4, 8, 16 minutes: half an hour of Slack trouble before a prompt fails.
FIRST_BACKOFF = timedelta(minutes=1)
# A claimed row is left alone by other senders for at least this long: longer than one
# delivery can take (a few Slack calls, each with a 10 s timeout, never retried minutes long).
CLAIM_LEASE = timedelta(minutes=5)
# When Slack rate limits us and gives no Retry-After.
DEFAULT_RETRY_AFTER = timedelta(minutes=1)
# An unsure prompt (its post's answer was lost) that history could not settle in this long is
# posted again anyway: at most one duplicate, rather than a message that never goes.
POST_ANYWAY_AFTER = timedelta(hours=1)
# A message's ts is Slack's clock; our times are ours. Allow this much between them.
CLOCK_SKEW = timedelta(minutes=5)

# One statement inserts every row, so every row names every reference, if only as None.
NO_REFERENCES = dict.fromkeys(
    ("plan_id", "cycle_number", "assignment_id", "monitoring_request_id", "plan_request_id")
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
    paused_until: datetime | None = None
    """Slack asked us to wait (a 429): nothing of this workspace is posted before then."""

    def summary(self) -> list[str]:
        """Lines for a person: counts, then every retry and failure with its reason."""
        if not (self.sent or self.retried or self.failed or self.cancelled or self.stopped):
            if self.paused_until:
                return [paused_line(self.paused_until)]
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
        if self.paused_until:
            lines.append(paused_line(self.paused_until))
        if self.stopped:
            lines.append(f"Stopped early: {self.stopped}")
        return lines


def paused_line(until: datetime) -> str:
    return (
        "Slack asked SSP Bot to wait: this school's messages wait until "
        f"{until.astimezone(UTC):%H:%M} UTC."
    )


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
    cycle_number: int | None = None,
    assignment_id: int | None = None,
    monitoring_request_id: int | None = None,
    plan_request_id: int | None = None,
    intervention_group_id: int | None = None,
) -> Prompt:
    """The prompt for (school, dedupe_key), creating it pending if there is none.

    The references say what the prompt is about, whichever its kind needs: the plan (and the
    review cycle), the assignment, the monitoring request. Its message reads them; nothing
    reads the key, which only makes this idempotent.

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
        cycle_number=cycle_number,
        assignment_id=assignment_id,
        monitoring_request_id=monitoring_request_id,
        plan_request_id=plan_request_id,
        intervention_group_id=intervention_group_id,
        dedupe_key=dedupe_key,
        status=PromptStatus.PENDING,
        priority=priority_of(kind),
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
    dedupe_key and due_at, and the references `enqueue` takes that its kind needs. Returns how
    many rows were asked for.
    """
    if not rows:
        return 0
    values = [
        {
            **NO_REFERENCES,
            **row,
            "priority": priority_of(row["kind"]),
            "status": PromptStatus.PENDING,
            "attempts": 0,
            "created_at": now,
        }
        for row in rows
    ]
    # A concurrent sweep may have made some of these keys since we looked: theirs stand.
    db.insert_skipping_existing(session, Prompt, values, ["school_id", "dedupe_key"])
    return len(rows)


def unreachable(
    session: Session, school_id: int, *, offset: int = 0, limit: int | None = None
) -> list[UnreachablePrompt]:
    """The school's failed prompts, newest (by due date) first, with who, what and why; from
    `offset`, `limit` of them (all, without one)."""
    rows = session.execute(
        select(Prompt, Staff)
        .join(Staff, Staff.id == Prompt.recipient_id)
        .where(Prompt.school_id == school_id, Prompt.status == PromptStatus.FAILED)
        .order_by(Prompt.due_at.desc(), Prompt.id.desc())
        .offset(max(0, offset))
        .limit(limit)
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


# --------------------------------------------------------------------------- the sender's steps
# Steps 1 and 4 of the delivery protocol (the module docstring), and the undoing of step 1 when
# the token is refused.


@dataclass(frozen=True)
class Claim:
    """A row this sender has claimed (step 1), and how it was before, to give it back."""

    prompt_id: int
    attempts_before: int
    next_attempt_before: datetime | None
    unsure_since: datetime | None = None
    """Set when an earlier post's answer was lost and history could not settle it within
    POST_ANYWAY_AFTER: this attempt posts anyway (see the module docstring)."""

    @property
    def attempts(self) -> int:
        return self.attempts_before + 1


@dataclass(frozen=True)
class Who:
    """The prompt being delivered and whom it is for, as a report names them (step 2)."""

    prompt_id: int
    school_id: int
    recipient: str
    kind: PromptKind
    due_at: datetime


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to, in the sender's words; `record` turns it into the row's state.

    `token` is never recorded: the sender gives the claim back (`release`) and stops.
    """

    kind: Literal["sent", "retry", "rate_limited", "unreachable", "cancelled", "token"]
    reason: str = ""
    channel: str | None = None
    ts: str | None = None
    reconciled: bool = False
    wait: timedelta | None = None
    needed: str | None = None
    not_posted: bool = False
    """Slack's answer to this attempt's post says it was not posted (or the request never
    reached Slack): the row is no longer unsure. Without it an unsure row stays unsure."""
    outage: bool = False
    """Slack did not answer, or answered 5xx: counts towards giving up the run."""


def claim_next(
    sessions: sessionmaker[Session],
    now: datetime,
    taken: set[int],
    school_id: int | None,
    *,
    only_prompted_by_action: bool = False,
) -> Claim | None:
    """Claims the next due prompt: the attempt is counted and the row leased, committed.

    Prompts answering someone's action (models.outbox.PROMPTED_BY_ACTION) come first, then the
    rest in due order: a notice queued while a sweep is sending goes out at the sweep's next
    claim. `only_prompted_by_action` claims those alone (a sender working beside a sweep).
    """
    while True:
        with sessions.begin() as session:
            query = (
                select(Prompt.id, Prompt.attempts, Prompt.next_attempt_at, Prompt.posting_at)
                .where(
                    Prompt.status == PromptStatus.PENDING,
                    Prompt.due_at <= now,
                    or_(Prompt.next_attempt_at.is_(None), Prompt.next_attempt_at <= now),
                    # An unsure row waits for reconciliation, for POST_ANYWAY_AFTER at most.
                    or_(Prompt.posting_at.is_(None), Prompt.posting_at <= now - POST_ANYWAY_AFTER),
                    Prompt.school_id.not_in(_paused_schools(now)),
                )
                .order_by(Prompt.priority, Prompt.due_at, Prompt.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if taken:
                query = query.where(Prompt.id.not_in(taken))
            if school_id is not None:
                query = query.where(Prompt.school_id == school_id)
            if only_prompted_by_action:
                query = query.where(Prompt.priority == PRIORITY_NOW)
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
                return Claim(row.id, row.attempts, row.next_attempt_at, row.posting_at)
        taken.add(row.id)


def record(
    sessions: sessionmaker[Session],
    claim: Claim,
    who: Who,
    outcome: Outcome,
    now: datetime,
    report: DeliveryReport,
) -> None:
    """Records what an attempt came to on the claimed row, each in a transaction of its own,
    and adds it to the run's report: sent (with its channel and ts); cancelled; failed (an
    unreachable recipient, or MAX_ATTEMPTS reached); or to be retried, after Retry-After or
    the backoff. A row cancelled meanwhile stays cancelled, unless the message did go."""

    def delivery(**extra: Any) -> Delivery:
        return Delivery(who.prompt_id, who.school_id, who.recipient, who.kind, **extra)

    settled = {"posting_at": None} if outcome.not_posted else {}

    if outcome.kind == "sent":
        sent_at = _ts_time(outcome.ts) if outcome.reconciled else now
        with sessions.begin() as session:
            _record_sent(session, claim.prompt_id, outcome.channel, outcome.ts, sent_at)
        report.sent.append(delivery(reconciled=outcome.reconciled))
        return
    if outcome.kind == "cancelled":
        _update_if_pending(
            sessions,
            claim,
            status=PromptStatus.CANCELLED,
            next_attempt_at=None,
            last_error=None,
            **settled,
        )
        report.cancelled.append(delivery(reason=outcome.reason))
        return
    if outcome.kind == "unreachable":
        reason = f"unreachable: {outcome.reason}"
        _update_if_pending(
            sessions,
            claim,
            status=PromptStatus.FAILED,
            next_attempt_at=None,
            last_error=reason,
            **settled,
        )
        report.failed.append(delivery(reason=reason))
        return
    if outcome.kind == "rate_limited":
        # Not the prompt's fault: never fails it, however often it happens.
        retry_at = now + (outcome.wait or DEFAULT_RETRY_AFTER)
        _update_if_pending(
            sessions, claim, next_attempt_at=retry_at, last_error=outcome.reason, **settled
        )
        report.retried.append(delivery(reason=outcome.reason, next_attempt_at=retry_at))
        return
    if claim.attempts >= MAX_ATTEMPTS:
        reason = f"gave up after {claim.attempts} attempts: {outcome.reason}"
        _update_if_pending(
            sessions,
            claim,
            status=PromptStatus.FAILED,
            next_attempt_at=None,
            last_error=reason,
            **settled,
        )
        report.failed.append(delivery(reason=reason))
        return
    retry_at = now + backoff(claim.attempts)
    _update_if_pending(
        sessions, claim, next_attempt_at=retry_at, last_error=outcome.reason, **settled
    )
    report.retried.append(delivery(reason=outcome.reason, next_attempt_at=retry_at))


def mark_posting(sessions: sessionmaker[Session], claim: Claim, channel: str | None, now: datetime):
    """Step 3's first half: the row says "a post may be under way" (and where, when the DM is
    known) before the post is made, in a transaction of its own. Until Slack's answer clears it
    (`record`), a crash or a lost answer leaves the row unsure."""
    with sessions.begin() as session:
        session.execute(
            update(Prompt)
            .where(Prompt.id == claim.prompt_id, Prompt.attempts == claim.attempts)
            .values(posting_at=now, slack_channel=channel)
            .execution_options(synchronize_session=False)
        )


def pause_school(sessions: sessionmaker[Session], school_id: int, until: datetime) -> None:
    """Slack asked us to wait: no prompt of this workspace is claimed before `until`."""
    with sessions.begin() as session:
        session.execute(
            update(School)
            .where(
                School.id == school_id,
                or_(School.slack_paused_until.is_(None), School.slack_paused_until < until),
            )
            .values(slack_paused_until=until)
            .execution_options(synchronize_session=False)
        )


def paused_until(session: Session, school_id: int, now: datetime) -> datetime | None:
    """When the school's sending may go on, if Slack has paused it past `now`."""
    until = session.scalar(select(School.slack_paused_until).where(School.id == school_id))
    return until if until is not None and until > now else None


def _paused_schools(now: datetime):
    return select(School.id).where(School.slack_paused_until > now).scalar_subquery()


@dataclass(frozen=True)
class Unsure:
    """A prompt whose post may or may not be in Slack, claimed for reconciliation."""

    prompt_id: int
    school_id: int
    recipient: str
    kind: PromptKind
    posting_at: datetime
    attempts: int
    channel: str | None
    """Where it was posted, if the DM was known then."""


@dataclass(frozen=True)
class UnsureDM:
    """One recipient's unsure prompts, all settled by one read of their DM's history."""

    staff_id: int
    user_id: str | None
    dm_channel: str | None
    prompts: list[Unsure]

    @property
    def channel(self) -> str | None:
        return next((p.channel for p in self.prompts if p.channel), None) or self.dm_channel


def claim_unsure(
    sessions: sessionmaker[Session], now: datetime, school_id: int | None, *, dms: int
) -> list[UnsureDM]:
    """Leases the unsure prompts of up to `dms` recipients, those unsure longest first, for
    reconciliation; other senders pass them by. Committed."""
    due = (
        Prompt.status == PromptStatus.PENDING,
        Prompt.posting_at.is_not(None),
        or_(Prompt.next_attempt_at.is_(None), Prompt.next_attempt_at <= now),
        Prompt.school_id.not_in(_paused_schools(now)),
    )
    if school_id is not None:
        due += (Prompt.school_id == school_id,)
    with sessions.begin() as session:
        recipients = session.scalars(
            select(Prompt.recipient_id)
            .where(*due)
            .group_by(Prompt.recipient_id)
            .order_by(func.min(Prompt.posting_at))
            .limit(dms)
        ).all()
        if not recipients:
            return []
        rows = session.execute(
            select(Prompt, Staff)
            .join(Staff, Staff.id == Prompt.recipient_id)
            .where(*due, Prompt.recipient_id.in_(recipients))
            .order_by(Prompt.posting_at, Prompt.id)
            .with_for_update(of=Prompt, skip_locked=True)
        ).all()
        found: dict[int, UnsureDM] = {}
        for prompt, staff in rows:
            prompt.next_attempt_at = now + CLAIM_LEASE
            dm = found.setdefault(
                staff.id, UnsureDM(staff.id, staff.slack_user_id, staff.dm_channel, [])
            )
            dm.prompts.append(
                Unsure(
                    prompt.id,
                    prompt.school_id,
                    staff.display_name,
                    prompt.kind,
                    prompt.posting_at,
                    prompt.attempts,
                    prompt.slack_channel,
                )
            )
        return list(found.values())


def settle_unsure(
    sessions: sessionmaker[Session],
    dm: UnsureDM,
    channel: str | None,
    posted: dict[int, str],
    read_from: datetime | None,
    now: datetime,
    report: DeliveryReport,
) -> int:
    """What one history read says: a prompt whose message `posted` names is sent (reconciled);
    one whose post would lie in the part of history read (from `read_from`, or all of it when
    None) and is absent was not posted, and is due again now; the rest stay unsure, for a
    later read. Returns how many are due again. A row another sender changed meanwhile (its
    attempts or posting_at moved on) is left as that sender left it."""
    again = 0
    for unsure in dm.prompts:
        who = Delivery(unsure.prompt_id, unsure.school_id, unsure.recipient, unsure.kind)
        ts = posted.get(unsure.prompt_id)
        with sessions.begin() as session:
            if ts is not None:
                _record_sent(session, unsure.prompt_id, channel, ts, _ts_time(ts))
                report.sent.append(replace(who, reconciled=True))
                continue
            covered = read_from is None or unsure.posting_at - CLOCK_SKEW >= read_from
            values: dict[str, Any] = {"next_attempt_at": now}
            if covered:
                values["posting_at"] = None
            result = session.execute(
                update(Prompt)
                .where(
                    Prompt.id == unsure.prompt_id,
                    Prompt.status == PromptStatus.PENDING,
                    Prompt.attempts == unsure.attempts,
                    Prompt.posting_at == unsure.posting_at,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            again += int(covered and result.rowcount == 1)
    return again


def give_back_unsure(
    sessions: sessionmaker[Session], dm: UnsureDM, retry_at: datetime, reason: str | None = None
) -> None:
    """History could not be read: the prompts stay unsure, reconciled again from `retry_at`."""
    with sessions.begin() as session:
        session.execute(
            update(Prompt)
            .where(
                Prompt.id.in_([p.prompt_id for p in dm.prompts]),
                Prompt.status == PromptStatus.PENDING,
                Prompt.posting_at.is_not(None),
            )
            .values(next_attempt_at=retry_at)
            .execution_options(synchronize_session=False)
        )


def fail_unsure(
    sessions: sessionmaker[Session], dm: UnsureDM, reason: str, report: DeliveryReport
) -> None:
    """Slack says the person cannot be messaged (their DM cannot be opened): nothing was posted
    to them, and nothing can be; the prompts fail, for the SENDCo to follow up."""
    with sessions.begin() as session:
        session.execute(
            update(Prompt)
            .where(
                Prompt.id.in_([p.prompt_id for p in dm.prompts]),
                Prompt.status == PromptStatus.PENDING,
            )
            .values(
                status=PromptStatus.FAILED, next_attempt_at=None, posting_at=None, last_error=reason
            )
            .execution_options(synchronize_session=False)
        )
    for p in dm.prompts:
        report.failed.append(Delivery(p.prompt_id, p.school_id, p.recipient, p.kind, reason))


def release(sessions: sessionmaker[Session], claim: Claim, *, not_posted: bool = False) -> None:
    """Undoes a claim that never reached Slack (the token was refused): as if never tried.
    `not_posted`: the refusal answered this attempt's post, so the row is not unsure."""
    settled = {"posting_at": None} if not_posted else {}
    with sessions.begin() as session:
        session.execute(
            update(Prompt)
            .where(Prompt.id == claim.prompt_id, Prompt.attempts == claim.attempts)
            .values(
                attempts=claim.attempts_before,
                next_attempt_at=claim.next_attempt_before,
                **settled,
            )
            .execution_options(synchronize_session=False)
        )


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
            posting_at=None,
        )
        .execution_options(synchronize_session=False)
    )


def _update_if_pending(sessions: sessionmaker[Session], claim: Claim, **values: Any) -> None:
    """Records an attempt's outcome, unless the prompt was cancelled (or sent) meanwhile."""
    with sessions.begin() as session:
        session.execute(
            update(Prompt)
            .where(Prompt.id == claim.prompt_id, Prompt.status == PromptStatus.PENDING)
            .values(**values)
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
