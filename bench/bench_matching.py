"""How long matching a large school's staff to Slack accounts takes under Slack's rate limits.

    .venv/bin/python bench/bench_matching.py [--staff 1500] [--time-scale 10]

A school of --staff members of staff in a fresh SQLite database, every one a member of the
emulator's workspace with their school email. The emulator enforces Slack's tiers
(users.list Tier 2: 20 a minute) and the client is paced to them, both at --time-scale (10: a
minute's allowance every 6 seconds), so the figures are scaled back to Slack's real time.
Matched with `handlers.slack_api.link_staff_accounts` (users.list, 200 a page), then compared
with what one users.lookupByEmail per person (Tier 3: 50 a minute) would take.

No assertions: the figures are printed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot import db  # noqa: E402
from bot.demo.slack_emulator import SlackEmulator  # noqa: E402
from handlers import pacing  # noqa: E402
from handlers.slack_api import link_staff_accounts, make_client  # noqa: E402
from models import Base, School, Staff  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--staff", type=int, default=1500)
    parser.add_argument("--time-scale", type=float, default=10.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder, SlackEmulator() as emulator:
        engine = db.make_engine(f"sqlite:///{folder}/bench.db")
        Base.metadata.create_all(engine)  # a throwaway database: the models are enough
        sessions = db.make_session_factory(engine)
        with sessions.begin() as session:
            school = School(name="Big School", slack_team_id=emulator.team_id)
            session.add(school)
            session.flush()
            school_id = school.id
            for n in range(args.staff):
                email = f"staff{n:05d}@big.example.org"
                session.add(
                    Staff(school_id=school_id, email=email, first_name="S", last_name=str(n))
                )
                emulator.add_user(f"U0B{n:05d}", email=email)
        emulator.enforce_tiers(time_scale=args.time_scale)
        pacing.configure(time_scale=args.time_scale)
        client = make_client(emulator.bot_token, emulator.api_url)

        started = time.perf_counter()
        matching = link_staff_accounts(sessions, client, school_id, datetime.now(UTC))
        seconds = time.perf_counter() - started
        engine.dispose()

    pages = emulator.calls_to("users.list")
    refused = sum(1 for call in pages if call.http_status == 429)
    print(
        f"staff: {args.staff}; matched {matching.linked}, missing {matching.missing}, "
        f"stopped: {matching.stopped or 'no'}"
    )
    print(
        f"users.list calls: {len(pages)} ({refused} answered 429); users.lookupByEmail calls: "
        f"{len(emulator.calls_to('users.lookupByEmail'))}"
    )
    print(
        f"took {seconds:.2f} s at time scale {args.time_scale:g}: about "
        f"{seconds * args.time_scale:.0f} s of Slack's real time"
    )
    print(
        f"one users.lookupByEmail each (Tier 3, 50 a minute) would take about "
        f"{args.staff / 50:.0f} minutes"
    )


if __name__ == "__main__":
    main()
