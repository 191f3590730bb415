"""The outbox under Slack's faults at a school's scale: prompts expected, delivered, duplicated,
lost.

    .venv/bin/python bench/delivery_faults.py [--prompts 600] [--staff 60] [--senders 2]
        [--seed 1] [--limit 20] [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

On PostgreSQL only (several senders at once need its row locks); if no server answers it says so
in one line and stops. One school in a fresh database made on that server (dropped afterwards),
--staff members of staff, each a user of the Slack emulator, and --prompts prompts due now,
spread over them. Then sweeps, one simulated minute apart (the outbox's `now`, and the emulator's
message timestamps, follow the simulated clock), each run by --senders senders at once (threads,
each with its own engine and the client `make_client` makes, each sending --limit prompts at
most), until every prompt is sent or failed, while the emulator injects:

- lost answers: at every sweep, the next few chat.postMessage calls are performed and their
  answers dropped (the connection closed without a word);
- a 429 with Retry-After 120 s at sweeps 3 and 20;
- an outage: every call answered 503 during sweeps 6 to 10;
- crashes: 1 % of recordings of a sent prompt die between the post and the record (an
  exception nothing catches, as if the process were killed there), ending that sender's run.

It prints what went where: prompts expected, delivered (a message in Slack), duplicated (extra
messages), lost (no message and not failed), failed (listed for the SENDCo), the history reads
made, the sweeps it took. No assertions: the figures are printed.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select  # noqa: E402

from bench.common import fresh_postgres  # noqa: E402
from bot import db  # noqa: E402
from bot.demo.slack_emulator import SlackEmulator  # noqa: E402
from bot.services import outbox  # noqa: E402
from handlers import pacing  # noqa: E402
from handlers.sender import deliver_due  # noqa: E402
from handlers.slack_api import make_client  # noqa: E402
from models import Prompt, PromptKind, PromptStatus, School, Staff, StaffRole  # noqa: E402

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
LOST_PER_SWEEP = 3
RATE_LIMITED_AT = (3, 20)
OUTAGE = range(6, 11)
CRASH_RATE = 0.01
MAX_SWEEPS = 400


class Crash(BaseException):
    """The sender dying between the post and the record."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=600)
    parser.add_argument("--staff", type=int, default=60)
    parser.add_argument("--senders", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--limit", type=int, default=20, help="prompts per sender per sweep (default 20)"
    )
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    args = parser.parse_args()
    try:
        engine = db.make_engine(args.postgres)
        with engine.connect():
            pass
        engine.dispose()
    except Exception as error:  # noqa: BLE001 - any failure means "no PostgreSQL"
        print(f"Skipped: no PostgreSQL answers at the URL given ({type(error).__name__}).")
        return
    random.seed(args.seed)
    pacing.configure(time_scale=1000)  # pacing is not what is measured here
    with SlackEmulator() as emulator, fresh_postgres(args.postgres) as engine:
        run(engine, emulator, args)


def run(engine, emulator: SlackEmulator, args) -> None:
    sessions = db.make_session_factory(engine)
    start = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
    clock = {"now": start, "real": time.time()}

    def simulated_ts() -> str:
        # The emulator stamps messages on the simulated clock, as Slack's would run beside ours.
        seconds = clock["now"].timestamp() + (time.time() - clock["real"])
        micros = max(int(seconds * 1_000_000), emulator._last_ts_micros + 1)
        emulator._last_ts_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    emulator._next_ts = simulated_ts  # type: ignore[method-assign]
    dropped = Counter()
    real_take_failure = emulator._take_failure

    def take_failure(method):
        answer = real_take_failure(method)
        if answer is not None and answer.drop:
            dropped["answers"] += 1
        return answer

    emulator._take_failure = take_failure  # type: ignore[method-assign]
    school_id, ids = populate(sessions, emulator, args, start)

    real_record_sent = outbox._record_sent
    crashes = Counter()

    def record_sent_or_die(*a, **k):
        if random.random() < CRASH_RATE:
            crashes["crash"] += 1
            raise Crash
        return real_record_sent(*a, **k)

    outbox._record_sent = record_sent_or_die  # type: ignore[assignment]

    sweeps = 0
    began = time.monotonic()
    stopped = Counter()
    while sweeps < MAX_SWEEPS:
        now = start + timedelta(minutes=sweeps)
        clock["now"], clock["real"] = now, time.time()
        emulator.outage(503 if sweeps in OUTAGE else None)
        if sweeps in RATE_LIMITED_AT:
            emulator.fail_next("chat.postMessage", "ratelimited", retry_after=120)
        emulator.fail_next("chat.postMessage", "-", after_performing=True, times=LOST_PER_SWEEP)
        sweep(engine.url, emulator, args, now, school_id, stopped)
        emulator.outage(None)
        sweeps += 1
        with sessions() as session:
            open_ = session.scalar(
                select(func.count(Prompt.id)).where(Prompt.status == PromptStatus.PENDING)
            )
        if not open_:
            break
    elapsed = time.monotonic() - began
    outbox._record_sent = real_record_sent  # type: ignore[assignment]

    posted = Counter(m["metadata"]["event_payload"]["prompt_id"] for m in emulator.messages)
    with sessions() as session:
        status = dict(session.execute(select(Prompt.id, Prompt.status)).all())
    delivered = sum(1 for i in ids if posted[i] >= 1)
    duplicated = sum(posted[i] - 1 for i in ids if posted[i] > 1)
    failed = sum(1 for i in ids if status[i] == PromptStatus.FAILED and not posted[i])
    lost = sum(1 for i in ids if not posted[i] and status[i] != PromptStatus.FAILED)
    wrong = sum(1 for i in ids if posted[i] and status[i] != PromptStatus.SENT)
    history = len(emulator.calls_to("conversations.history"))
    lost_answers = dropped["answers"]
    print(f"{args.senders} senders, {args.staff} staff, seed {args.seed}, on PostgreSQL")
    print(f"  prompts expected:  {len(ids)}")
    print(f"  delivered:         {delivered}")
    print(f"  duplicated:        {duplicated}")
    print(f"  lost:              {lost}")
    print(f"  failed (listed):   {failed}")
    print(f"  sent in Slack but not recorded sent: {wrong}")
    print(
        f"  faults: {lost_answers} answers lost after posting, {crashes['crash']} crashes between "
        f"post and record, {len(RATE_LIMITED_AT)} Retry-After 120 s, 503 outage for "
        f"{len(OUTAGE)} sweeps"
    )
    print(
        f"  {sweeps} sweeps (simulated minutes), {history} history reads, "
        f"{len(emulator.calls_to('chat.postMessage'))} posts tried; runs stopped early: "
        + (", ".join(f"{n} {why}" for why, n in stopped.items()) or "none")
    )
    print(f"  {elapsed:.1f} s real time")


def populate(sessions, emulator: SlackEmulator, args, start: datetime) -> tuple[int, list[int]]:
    with sessions.begin() as session:
        school = School(name="Fault Bench High", slack_team_id=emulator.team_id)
        session.add(school)
        session.flush()
        staff = []
        for n in range(args.staff):
            user_id = f"U0B{n:05d}"
            email = f"teacher{n}@bench.example.org"
            member = Staff(
                school_id=school.id,
                email=email,
                first_name="Teacher",
                last_name=f"{n}",
                slack_user_id=user_id,
            )
            member.set_roles({StaffRole.TEACHER})
            session.add(member)
            emulator.add_user(user_id, email=email, real_name=f"Teacher {n}")
            staff.append(member)
        session.flush()
        rows = [
            {
                "school_id": school.id,
                "recipient_id": staff[i % len(staff)].id,
                "kind": PromptKind.REVIEW_DUE,
                "dedupe_key": f"bench-{i}",
                "due_at": start,
            }
            for i in range(args.prompts)
        ]
        outbox.enqueue_many(session, rows, now=start - timedelta(days=1))
        school_id = school.id
    with sessions() as session:
        ids = list(session.scalars(select(Prompt.id).order_by(Prompt.id)))
    return school_id, ids


def sweep(url, emulator, args, now: datetime, school_id: int, stopped: Counter) -> None:
    senders = args.senders
    barrier = threading.Barrier(senders)

    def sender() -> None:
        engine = db.make_engine(url.render_as_string(hide_password=False))
        try:
            client = make_client(emulator.bot_token, emulator.api_url)
            barrier.wait()
            report = deliver_due(
                db.make_session_factory(engine),
                client,
                now=now,
                render=render,
                limit=args.limit,
                school_id=school_id,
            )
            if report.stopped:
                stopped["rate limited" if "rate" in report.stopped else "Slack not answering"] += 1
        except Crash:
            stopped["crash"] += 1
        finally:
            engine.dispose()

    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def render(session, prompt: Prompt) -> dict:
    return {"text": "A review is coming up"}


if __name__ == "__main__":
    main()
