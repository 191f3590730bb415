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
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot import db
from bot.services import assignments, monitoring, review_schedule
from bot.services.calendar import load_calendar
from handlers import sender
from handlers.messages import render_prompt
from models import School

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 60
# Enough for a whole trust's Monday morning (review prompts and digests) in one sweep; the
# bound only stops a runaway sweep from never ending.
SWEEP_LIMIT = 10_000
_delivering = threading.Lock()
_in_flight: set[threading.Thread] = set()


def sweep(sessions: sessionmaker[Session], client: WebClient, now: datetime) -> list[str]:
    """One pass for every school with a Slack workspace. Returns lines saying what it did."""
    lines = []
    with db.unit_of_work(sessions) as session:
        schools = session.scalars(select(School).where(School.slack_team_id.is_not(None))).all()
        for school in schools:
            calendar = load_calendar(session, school.id)
            today = school.local_date(now)
            queued = assignments.create_due_reminders(session, school, today, now, calendar)
            if queued:
                lines.append(f"{school.name}: {queued} assignment reminder(s) queued.")
            due = review_schedule.create_due_prompts(session, school, now, calendar)
            lines += due.lines(school.name)
            asked = monitoring.create_due_requests(session, school, now, calendar)
            digests = monitoring.create_due_digests(session, school, now, calendar)
            if asked or digests:
                lines.append(
                    f"{school.name}: {asked} monitoring request(s) made, "
                    f"{digests} teacher digest(s) queued."
                )
    lines += deliver(sessions, client, now)
    return lines


def deliver(sessions: sessionmaker[Session], client: WebClient, now: datetime) -> list[str]:
    # One delivery at a time in this process: SQLite has one writer, and runs would only queue.
    with _delivering:
        report = sender.deliver_due(
            sessions, client, now=now, render=render_prompt, limit=SWEEP_LIMIT
        )
    return report.summary()


def deliver_soon(
    sessions: sessionmaker[Session], client: WebClient, clock: Callable[[], datetime]
) -> None:
    """Delivers in the background, so the person who acted is answered without waiting."""

    def run() -> None:
        try:
            for line in deliver(sessions, client, clock()):
                log.info(line)
        except Exception:  # noqa: BLE001 - the scheduler's next sweep will try again
            log.exception("delivering prompts failed; the next sweep will retry")
        finally:
            _in_flight.discard(threading.current_thread())

    thread = threading.Thread(target=run, name="deliver-soon", daemon=True)
    _in_flight.add(thread)
    thread.start()


def wait_for_deliveries(timeout: float = 10.0) -> None:
    """Waits for background deliveries to finish (shutting down, or between tests)."""
    for thread in list(_in_flight):
        thread.join(timeout)


def run_every_minute(
    sessions: sessionmaker[Session],
    client: WebClient,
    clock: Callable[[], datetime],
    stop: threading.Event,
    nightly: Callable[[datetime], object] | None = None,
) -> threading.Thread:
    """Sweeps every minute until `stop` is set. `nightly`, when given (the Microsoft 365 roster
    sync, when M365_SYNC_AT is set), is called each minute too and decides itself whether it
    is due; it must not block."""

    def loop() -> None:
        while not stop.is_set():
            try:
                for line in sweep(sessions, client, clock()):
                    log.info(line)
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
