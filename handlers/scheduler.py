"""The sweep: the services queue what is due (prompts, reminders, digests), then the sender
delivers the outbox, each message written by its kind's renderer (handlers.messages). Run by
`sspbot tick`, by `sspbot serve` every minute (unless SSPBOT_SCHEDULER=off), and straight after
an action that owes someone a message, so it arrives at once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from slack_sdk import WebClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot import db
from bot.services import (
    assignments,
    closure,
    monitoring,
    observations,
    qa,
    review_schedule,
    session_log,
)
from bot.services.calendar import load_calendar
from handlers import sender
from handlers.messages import render_prompt
from handlers.workspaces import SingleWorkspace, Workspaces
from models import Prompt, PromptStatus, School

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 60
# Enough for a whole trust's Monday morning (review prompts and digests) in one sweep; the
# bound only stops a runaway sweep from never ending.
SWEEP_LIMIT = 10_000
# One full delivery at a time in this process: runs would only queue (SQLite has one writer).
_delivering = threading.Lock()
# Set by deliver_soon: a delivery run already under way by deliver_soon goes round again, with
# the clock's new time, for what was queued after it began.
_asked = threading.Event()
# deliver_soon beside a running delivery (a sweep can take minutes at Slack's pace): one at a
# time, sending only the prompts that answer someone's action; asked again while it runs.
_beside = threading.Lock()
_beside_asked = threading.Event()
_in_flight: set[threading.Thread] = set()
# Guards _in_flight, and keeps a thread's registering and starting together: a waiter that saw
# a registered thread before it started could not join it ("cannot join thread before it is
# started").
_in_flight_lock = threading.Lock()


def sweep(
    sessions: sessionmaker[Session], slack: Workspaces | WebClient, now: datetime
) -> list[str]:
    """One pass for every school with a Slack workspace. Returns lines saying what it did, and
    why any school was skipped."""
    done, skipped = sweep_report(sessions, slack, now)
    return done + skipped


def sweep_report(
    sessions: sessionmaker[Session], slack: Workspaces | WebClient, now: datetime
) -> tuple[list[str], list[str]]:
    """The sweep, with what it did and which schools it skipped (and why) apart.

    A school is swept only when its own workspace can be reached (handlers.workspaces): nothing
    is queued for it, and nothing sent, while it is not installed, so a school that comes back
    picks up from where its calendar then stands rather than from a pile of stale prompts.
    """
    workspaces = as_workspaces(slack)
    done: list[str] = []
    reachable: dict[int, WebClient] = {}
    with sessions() as session:
        teams = dict(
            session.execute(
                select(School.id, School.slack_team_id).where(School.slack_team_id.is_not(None))
            ).all()
        )
    # Outside the transaction: finding a client may ask Slack (auth.test, a token renewal).
    reaches = {school_id: workspaces.reach(team_id) for school_id, team_id in teams.items()}
    with db.unit_of_work(sessions) as session:
        schools = session.scalars(
            select(School).where(School.id.in_(reaches)).order_by(School.id)
        ).all()
        for school in schools:
            client = reaches[school.id].client
            if client is None:
                continue
            reachable[school.id] = client
            calendar = load_calendar(session, school.id)
            today = school.local_date(now)
            queued = assignments.create_due_reminders(session, school, today, now, calendar)
            if queued:
                done.append(f"{school.name}: {queued} assignment reminder(s) queued.")
            gone = closure.close_leavers_after_wait(session, school, today, now, calendar)
            if gone:
                done.append(f"{school.name}: {gone} leaver(s)' plan(s) closed.")
            due = review_schedule.create_due_prompts(session, school, now, calendar)
            done += due.lines(school.name)
            asked = monitoring.create_due_requests(session, school, now, calendar)
            digests = monitoring.create_due_digests(session, school, now, calendar)
            if asked or digests:
                done.append(
                    f"{school.name}: {asked} monitoring request(s) made, "
                    f"{digests} teacher digest(s) queued."
                )
            told = observations.create_due_summaries(session, school, now, calendar)
            if told:
                done.append(f"{school.name}: {told} observation summary(ies) queued.")
            logs = session_log.create_due_prompts(session, school, now, calendar)
            if logs:
                done.append(f"{school.name}: {logs} session log message(s) queued.")
            if qa.create_due_summaries(session, school, now, calendar):
                done.append(f"{school.name}: quality assurance summary queued.")
        skipped = [
            _skipped(session, school, reaches[school.id].why_not, now)
            for school in schools
            if school.id not in reachable
        ]
    # Looked up again per school (cheap: a token's workspace is remembered, an install is a
    # row): deliver is also what runs straight after an action.
    done += deliver(sessions, workspaces, now)
    return done, skipped


def deliver(
    sessions: sessionmaker[Session], slack: Workspaces | WebClient, now: datetime
) -> list[str]:
    """Sends what the outbox owes now, each school's through its own workspace's client."""
    with _delivering:
        return _deliver_owed(sessions, as_workspaces(slack), now)


def _deliver_owed(
    sessions: sessionmaker[Session],
    workspaces: Workspaces,
    now: datetime,
    *,
    only_prompted_by_action: bool = False,
) -> list[str]:
    with db.unit_of_work(sessions) as session:
        owed = session.scalars(
            select(School)
            .where(School.slack_team_id.is_not(None))
            .order_by(School.id)
            .where(
                select(Prompt.id)
                .where(
                    Prompt.school_id == School.id,
                    Prompt.status == PromptStatus.PENDING,
                    Prompt.due_at <= now,
                )
                .exists()
            )
        ).all()
        teams = {school.id: (school.name, school.slack_team_id) for school in owed}
    if not teams:
        return ["No prompts were due."]
    reachable = {}
    for school_id, (name, team_id) in teams.items():
        # A school that cannot be reached keeps its prompts; the sweep says why.
        client = workspaces.client_for(team_id)
        if client is not None:
            reachable[school_id] = (name, client)
    return _deliver_each(sessions, reachable, now, only_prompted_by_action)


def _deliver_each(
    sessions: sessionmaker[Session],
    clients: dict[int, tuple[str, WebClient]],
    now: datetime,
    only_prompted_by_action: bool,
) -> list[str]:
    lines = []
    for school_id, (name, client) in clients.items():
        try:
            report = sender.deliver_due(
                sessions,
                client,
                now=now,
                render=render_prompt,
                limit=SWEEP_LIMIT,
                school_id=school_id,
                only_prompted_by_action=only_prompted_by_action,
            )
        except sender.SlackTokenRefused as refused:
            # One workspace's revoked token must not stop the other schools' messages.
            lines += [f"{name}: {line}" for line in refused.report.summary()]
            lines.append(f"{name}: {refused}")
            continue
        lines += [f"{name}: {line}" for line in report.summary()]
    return lines


def _skipped(session: Session, school: School, why: str, now: datetime) -> str:
    waiting = session.scalar(
        select(func.count(Prompt.id)).where(
            Prompt.school_id == school.id,
            Prompt.status == PromptStatus.PENDING,
            Prompt.due_at <= now,
        )
    )
    held = f"; {waiting} message(s) wait until it can be" if waiting else ""
    return f"{school.name}: skipped, nothing queued or sent: {why}{held}."


def as_workspaces(slack: Workspaces | WebClient) -> Workspaces:
    """A bare client (tests, the demo, the benches) is one token: its own workspace only."""
    return slack if isinstance(slack, Workspaces) else SingleWorkspace(slack)


def deliver_soon(
    sessions: sessionmaker[Session],
    slack: Workspaces | WebClient,
    clock: Callable[[], datetime],
) -> None:
    """Delivers in the background, so the person who acted is answered without waiting.

    It never waits for a running delivery. When none is running it delivers everything due.
    When one is (the morning sweep of hundreds of DMs takes minutes at Slack's pace), it
    sends, beside it, only the prompts that answer someone's action (an assignment, a plan
    request, ...), so those go out now rather than after the sweep: claims are exclusive, so
    nothing is sent twice, and both share the workspace's pacer, so together they keep to
    Slack's limits. Anything else it queued (a monitoring request asked for now) goes with the
    next delivery run: straight after, if the running one is a deliver_soon, else the next sweep.
    """

    def run() -> None:
        try:
            workspaces = as_workspaces(slack)
            _asked.set()
            ran, lines = _deliver_while_asked(sessions, workspaces, clock)
            if not ran:
                lines += _deliver_beside(sessions, workspaces, clock)
            for line in lines:
                log.info(line)
        except Exception:  # noqa: BLE001 - the scheduler's next sweep will try again
            log.exception("delivering prompts failed; the next sweep will retry")
        finally:
            with _in_flight_lock:
                _in_flight.discard(threading.current_thread())

    thread = threading.Thread(target=run, name="deliver-soon", daemon=True)
    with _in_flight_lock:
        _in_flight.add(thread)
        thread.start()


def _deliver_while_asked(
    sessions: sessionmaker[Session], workspaces: Workspaces, clock: Callable[[], datetime]
) -> tuple[bool, list[str]]:
    """Full deliveries while deliver_soon keeps asking, if no other delivery is running.
    Returns whether it ran any. The outer loop closes the gap between a last look at `_asked`
    and the release, when a new ask finds the lock still held and leaves it to us."""
    ran, lines = False, []
    while _asked.is_set() and _delivering.acquire(blocking=False):
        try:
            while _asked.is_set():
                _asked.clear()
                ran = True
                lines += _deliver_owed(sessions, workspaces, clock())
        finally:
            _delivering.release()
    return ran, lines


def _deliver_beside(
    sessions: sessionmaker[Session], workspaces: Workspaces, clock: Callable[[], datetime]
) -> list[str]:
    """The prompts answering someone's action, sent beside a running delivery (see above)."""
    lines: list[str] = []
    _beside_asked.set()
    while _beside_asked.is_set() and _beside.acquire(blocking=False):
        try:
            while _beside_asked.is_set():
                _beside_asked.clear()
                lines += _deliver_owed(sessions, workspaces, clock(), only_prompted_by_action=True)
        finally:
            _beside.release()
    return lines


def wait_for_deliveries(timeout: float = 10.0) -> None:
    """Waits for background deliveries to finish (shutting down, or between tests)."""
    with _in_flight_lock:
        threads = list(_in_flight)
    for thread in threads:
        thread.join(timeout)


def run_every_minute(
    sessions: sessionmaker[Session],
    slack: Workspaces | WebClient,
    clock: Callable[[], datetime],
    stop: threading.Event,
    nightly: Callable[[datetime], object] | None = None,
) -> threading.Thread:
    """Sweeps every minute until `stop` is set. `nightly`, when given (the Microsoft 365 roster
    sync, when M365_SYNC_AT is set), is called each minute too and decides itself whether it
    is due; it must not block."""

    said: set[str] = set()

    def loop() -> None:
        nonlocal said
        while not stop.is_set():
            try:
                done, skipped = sweep_report(sessions, slack, clock())
                for line in done:
                    log.info(line)
                # A school left out is said once, and again only when the reason changes.
                for line in skipped:
                    if line not in said:
                        log.warning(line)
                said = set(skipped)
            except Exception:  # noqa: BLE001 - keep sweeping; the error is logged
                log.exception("the scheduled sweep failed")
            if nightly is not None:
                try:
                    nightly(clock())
                except Exception:  # noqa: BLE001 - the sweep goes on; the error is logged
                    log.exception("the nightly roster sync could not start")
            stop.wait(INTERVAL_SECONDS)

    thread = threading.Thread(target=loop, name="scheduler", daemon=True)
    thread.start()
    return thread
