"""How long Slack waits for each main listener's acknowledgement, under concurrent clicks.

    .venv/bin/python bench/ack_latency.py [--pupils 1200] [--concurrency 8] [--rounds 10]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

The synthetic school (`sspbot demo-data`'s, 1,200 pupils by default) in a fresh database, the
app served over signed HTTP against the Slack emulator. For each listener, `--concurrency`
SENDCos' clicks (or commands) arrive together, `--rounds` times, each on another pupil or plan.
Printed per listener: the time from sending the request to its HTTP 200 (the ack), median, 95th
percentile and worst, and how many took longer than Slack's three seconds or were not answered
200. A click is acknowledged before its work (handlers.toolkit.ack_first), so a button's ack
should cost the identity lookup alone; a slash command's ack is its reply, and a form's carries
its errors, so those include the work.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

# Run from a checkout without installing: the repository root holds `bot` and `models`.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, select  # noqa: E402

from bench.common import add_postgres_option, databases, serve_bot  # noqa: E402
from bot import db  # noqa: E402
from bot.demo.school import create_demo_school  # noqa: E402
from bot.demo.slack_emulator import SlackEmulator  # noqa: E402
from models import Plan, PlanStatus, Staff, StaffRole, StaffRoleGrant  # noqa: E402

SLACK_WAITS_MS = 3000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=1200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=10)
    add_postgres_option(parser)
    args = parser.parse_args()
    print(
        f"{'database':<10} {'listener':<34} {'requests':>8} {'median ms':>10} {'p95 ms':>8} "
        f"{'worst ms':>9} {'> 3 s':>6} {'not 200':>8}"
    )
    for label, database in databases(args.postgres):
        with database() as engine:
            measure(label.lower(), engine, args.pupils, args.concurrency, args.rounds)


def measure(label: str, engine: Engine, pupils: int, concurrency: int, rounds: int) -> None:
    sessions = db.make_session_factory(engine)
    today = datetime.now(UTC).date()
    with db.unit_of_work(sessions) as session:
        create_demo_school(session, name="Bench Academy", seed=7, pupils=pupils, today=today)
    users = _sendcos(sessions, concurrency)
    with sessions() as session:
        open_plans = session.execute(
            select(Plan.id, Plan.pupil_id)
            .where(Plan.status != PlanStatus.CLOSED)
            .order_by(Plan.id)
            .limit(concurrency * rounds)
        ).all()
    plan_ids = [str(p.id) for p in open_plans]
    pupil_ids = [str(p.pupil_id) for p in open_plans]
    with SlackEmulator() as slack:
        for user, email in users:
            slack.add_user(user, email=email)
        server, sender = serve_bot(engine, sessions, slack)
        ids = [user for user, _ in users]

        def click(action_id: str, values: list[str]) -> Callable[[str, int], object]:
            return lambda user, i: sender.button(user, action_id, values[i])

        listeners: list[tuple[str, Callable[[str, int], object]]] = [
            ("show_pupil (Show)", click("ssp_show_pupil", pupil_ids)),
            ("open_from_button (Open plan)", click("ssp_open_plan", plan_ids)),
            ("reviews.open_from_button", click("ssp_review_open", plan_ids)),
            ("open_snooze (Snooze)", click("ssp_review_snooze", plan_ids)),
            ("ask_family (Ask the family)", click("ssp_ask_family", plan_ids)),
            ("/ssp mine (ack is the reply)", lambda user, i: sender.command(user, "mine")),
        ]
        # One of each first: caches and connections warm, as in a school's day.
        for _name, send in listeners:
            send(ids[0], 0)
        try:
            for name, send in listeners:
                # Each listener measured alone: the work still running after the last one's
                # acks would otherwise hold this one's (Bolt's listener threads are shared).
                _settle(slack)
                timings, refused = _load(send, ids, concurrency, rounds)
                timings.sort()
                p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
                late = sum(1 for t in timings if t > SLACK_WAITS_MS)
                print(
                    f"{label:<10} {name:<34} {len(timings):>8} {statistics.median(timings):>10.1f} "
                    f"{p95:>8.1f} {timings[-1]:>9.1f} {late:>6} {refused:>8}",
                    flush=True,
                )
        finally:
            _settle(slack)  # the work after the last acks, before the emulator goes
            server.stop()
            from handlers.context import wait_for_background_work
            from handlers.scheduler import wait_for_deliveries

            wait_for_background_work()
            wait_for_deliveries()


def _load(
    send: Callable[[str, int], object], users: list[str], concurrency: int, rounds: int
) -> tuple[list[float], int]:
    """Each round, `concurrency` requests at once (one per SENDCo, each on its own pupil or plan):
    the milliseconds each waited for its HTTP answer, and how many were not answered 200."""
    timings: list[float] = []
    refused = 0

    def one(index: int) -> tuple[float, int]:
        started = time.perf_counter()
        reply = send(users[index % len(users)], index)
        return (time.perf_counter() - started) * 1000, getattr(reply, "status", 0)

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for round_ in range(rounds):
            batch = range(round_ * concurrency, (round_ + 1) * concurrency)
            for took, status in pool.map(one, batch):
                timings.append(took)
                refused += status != 200
    return timings, refused


def _settle(slack: SlackEmulator, quiet: float = 1.0, longest: float = 60.0) -> None:
    """Waits until no Slack call has been made for `quiet` seconds."""
    deadline = time.monotonic() + longest
    seen = -1
    while time.monotonic() < deadline and len(slack.calls) != seen:
        seen = len(slack.calls)
        time.sleep(quiet)


def _sendcos(sessions, count: int) -> list[tuple[str, str]]:
    """`count` SENDCos with Slack ids (the demo school's, and more made so for the bench): the
    clicks come from several people, as in a school."""
    with sessions.begin() as session:
        staff = session.scalars(select(Staff).order_by(Staff.id).limit(count)).all()
        people = []
        for n, person in enumerate(staff):
            person.slack_user_id = person.slack_user_id or f"U0BENCH{n:03d}"
            if StaffRole.SENDCO not in person.roles:
                person.role_grants.append(StaffRoleGrant(role=StaffRole.SENDCO))
            people.append((person.slack_user_id, person.email))
    return people


if __name__ == "__main__":
    main()
