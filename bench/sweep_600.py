"""The 08:30 sweep of 600 direct messages under Slack's rate limits, and how long a notice that
answers someone's action waits behind it.

    .venv/bin/python bench/sweep_600.py [--recipients 600] [--time-scale 2]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

One school in a fresh database (a temporary SQLite file; with --postgres also a database made on
that server and dropped afterwards): a SENDCo and --recipients case holders, each holding one
pupil's ACTIVE plan whose review (Tuesday 1 December 2026) makes its "review coming up" prompt due
at 08:30 on Monday 23 November. Every member of staff is a user of the Slack emulator, with their
Slack user id on their staff row; the emulator enforces Slack's documented tiers
(`enforce_tiers`: 429 with Retry-After past a method's limit, per workspace and method).

1. Monday 08:30: `handlers.scheduler.sweep`, as the scheduler runs it, with the client
   `handlers.slack_api.make_client` makes (paced). Once a sixth of the prompts are out, the
   SENDCo delegates another pupil's plan (`bot.services.team.assign`, in its own unit of work,
   then `handlers.scheduler.deliver_soon`, as the `/ssp assign` listener does); the bench times
   how long the assignee's notice took from then to reach Slack, and where it came among the
   messages posted.
2. Tuesday 08:30: a review reminder for each of the same people (queued directly), and the same
   sweep and notice: the DM channels are known by now (kept from Monday's answers).

`--time-scale N` runs Slack's clock N times faster in the pacer and the emulator together (the
default, 2, keeps a run under about four minutes); every figure is printed in real-Slack seconds
(measured seconds x N), which is what a school would see (the database's own time is scaled up
with them, which overstates it; it is small here). No assertions: the figures are printed.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, select  # noqa: E402

import handlers.scheduler  # noqa: E402
from bench.common import (  # noqa: E402
    add_postgres_option,
    add_pupils_with_plans,
    api_calls,
    databases,
)
from bot import db  # noqa: E402
from bot.access import Viewer  # noqa: E402
from bot.demo.slack_emulator import SlackEmulator  # noqa: E402
from bot.services import outbox  # noqa: E402
from bot.services import team as team_service  # noqa: E402
from handlers.pacing import Pacer  # noqa: E402
from handlers.slack_api import make_client  # noqa: E402
from models import (  # noqa: E402
    Prompt,
    PromptKind,
    PromptStatus,
    School,
    Staff,
    StaffRole,
)

MONDAY = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)  # school starts (GMT in November)
TUESDAY = MONDAY + timedelta(days=1)
REVIEW_DATE = date(2026, 12, 1)
START_DATE = date(2026, 9, 8)
ASSIGNEE = "U0ASSIGNEE"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=600)
    parser.add_argument(
        "--time-scale",
        type=float,
        default=2.0,
        help="run Slack's clock this many times faster (pacer and emulator together)",
    )
    add_postgres_option(parser)
    args = parser.parse_args(argv)
    for label, database in databases(args.postgres):
        with database() as engine:
            measure(label, engine, args.recipients, args.time_scale)
    return 0


def measure(label: str, engine: Engine, recipients: int, scale: float) -> None:
    sessions = db.make_session_factory(engine)
    with SlackEmulator() as emulator:
        ids = build_school(sessions, emulator, recipients)
        emulator.enforce_tiers(time_scale=scale)
        client = make_client(emulator.bot_token, emulator.api_url, pacer=Pacer(time_scale=scale))
        print(
            f"\n{label}: {recipients} case holders, each with a prompt due at 08:30; the emulator "
            f"enforces Slack's tiers; time scale {scale:g} (Slack's clock runs {scale:g}x: "
            f"seconds below are real-Slack seconds, measured x {scale:g})",
            flush=True,
        )
        morning(sessions, emulator, client, ids, scale, MONDAY, "Monday (no DM channel known)")
        queue_reminders(sessions, ids)
        morning(sessions, emulator, client, ids, scale, TUESDAY, "Tuesday (DM channels known)")
    engine.dispose()


def morning(sessions, emulator, client, ids, scale, now, title) -> None:
    calls_before = len(emulator.calls)
    posts_before = len(emulator.calls_to("chat.postMessage"))
    pupil = ids["spare_pupils"].pop()
    told = len(emulator.messages_to(ASSIGNEE)) + 1
    started = time.perf_counter()
    lines: list[str] = []
    sweep = threading.Thread(
        target=lambda: lines.extend(handlers.scheduler.sweep(sessions, client, now)), daemon=True
    )
    sweep.start()

    def clock() -> datetime:  # the school's time, moving as Slack's does
        return now + timedelta(seconds=(time.perf_counter() - started) * scale)

    while sweep.is_alive() and _posts(emulator) - posts_before < ids["recipients"] // 6:
        time.sleep(0.01)
    asked_at = time.perf_counter()
    before_notice = _posts(emulator) - posts_before
    with db.unit_of_work(sessions) as session:
        team_service.assign(
            session,
            ids["sendco_viewer"],
            pupil_id=pupil,
            staff_id=ids["assignee"],
            reason=None,
            now=clock(),
            today=now.date(),
        )
    handlers.scheduler.deliver_soon(sessions, client, clock)
    while len(emulator.messages_to(ASSIGNEE)) < told and time.perf_counter() - asked_at < 600:
        time.sleep(0.002)
    waited = time.perf_counter() - asked_at
    notice_position = _position_of_notice(emulator, posts_before)
    sweep.join()
    handlers.scheduler.wait_for_deliveries()
    seconds = time.perf_counter() - started

    calls = emulator.calls[calls_before:]
    refused = sum(1 for c in calls if c.http_status == 429)
    methods = Counter(c.method for c in calls if c.http_status == 200)
    sent = _count(sessions, now, PromptStatus.SENT)
    pending = _count(sessions, now, PromptStatus.PENDING)
    print(f"  {title}")
    print(
        f"    sweep:  {seconds * scale:7.1f} s for {sent:,} prompts sent"
        f"{f', {pending:,} still pending' if pending else ''} "
        f"({seconds:.1f} s measured); {refused} answered 429"
    )
    print(f"    Slack calls: {api_calls(methods)}")
    print(
        f"    notice: assigned after {before_notice} sweep messages; it reached Slack "
        f"{waited * scale:.2f} s later ({waited:.2f} s measured), posted "
        f"{notice_position} of the {len(emulator.calls_to('chat.postMessage')) - posts_before}"
    )
    for line in lines:
        if line.startswith(("Prompts:", "Stopped")):
            print(f"    report: {line}")


def _posts(emulator: SlackEmulator) -> int:
    return len(emulator.calls_to("chat.postMessage"))


def _position_of_notice(emulator: SlackEmulator, posts_before: int) -> str:
    posts = emulator.calls_to("chat.postMessage")[posts_before:]
    dm = emulator.dm_channel_id(ASSIGNEE)
    for n, call in enumerate(posts, 1):
        if call.ok and call.params.get("channel") in (ASSIGNEE, dm):
            return f"no. {n}"
    return "not yet"


def _count(sessions, now: datetime, status: PromptStatus) -> int:
    with sessions() as session:
        return len(
            session.scalars(
                select(Prompt.id).where(
                    Prompt.status == status,
                    Prompt.due_at <= now,
                    Prompt.due_at > now - timedelta(hours=12),
                )
            ).all()
        )


def queue_reminders(sessions, ids) -> None:
    """Tuesday's prompts: a review reminder for each case holder, due at 08:30."""
    with db.unit_of_work(sessions) as session:
        outbox.enqueue_many(
            session,
            [
                dict(
                    school_id=ids["school"],
                    recipient_id=holder,
                    kind=PromptKind.REVIEW_REMINDER,
                    dedupe_key=f"bench_reminder:plan={plan}",
                    due_at=TUESDAY,
                    plan_id=plan,
                    cycle_number=1,
                )
                for plan, holder in ids["plans"]
            ],
            now=TUESDAY - timedelta(hours=12),
        )


def build_school(sessions, emulator: SlackEmulator, recipients: int) -> dict:
    with db.unit_of_work(sessions) as session:
        school = School(name="Bench Academy", slack_team_id=emulator.team_id)
        session.add(school)
        sendco = Staff(
            school=school,
            email="sendco@bench.example.org",
            first_name="Sam",
            last_name="Sendco",
            slack_user_id="U0SENDCO",
        )
        sendco.set_roles({StaffRole.SENDCO, StaffRole.CASE_HOLDER})
        emulator.add_user("U0SENDCO", email=sendco.email, real_name="Sam Sendco")
        assignee = Staff(
            school=school,
            email="assignee@bench.example.org",
            first_name="Ash",
            last_name="Assignee",
            slack_user_id=ASSIGNEE,
        )
        assignee.set_roles({StaffRole.CASE_HOLDER})
        emulator.add_user(ASSIGNEE, email=assignee.email, real_name="Ash Assignee")
        holders = []
        for n in range(recipients):
            member = Staff(
                school=school,
                email=f"holder{n}@bench.example.org",
                first_name="Case",
                last_name=f"Holder{n}",
                slack_user_id=f"U{n:08d}",
            )
            member.set_roles({StaffRole.CASE_HOLDER})
            holders.append(member)
            emulator.add_user(member.slack_user_id, email=member.email, real_name=f"Holder {n}")
        session.add_all([sendco, assignee, *holders])
        session.flush()
        pupil_ids, plan_ids = add_pupils_with_plans(
            session,
            school.id,
            pupils=recipients + 2,  # two without a plan, to be assigned
            plans=recipients,
            case_holders=[holder.id for holder in holders],
            start_date=START_DATE,
            review_date=REVIEW_DATE,
            upn=lambda p: f"B{p:012d}",
        )
        viewer = Viewer(
            school_id=school.id,
            staff_id=sendco.id,
            name=sendco.display_name,
            roles=sendco.roles,
            slack_user_id=sendco.slack_user_id,
        )
        return {
            "school": school.id,
            "recipients": recipients,
            "assignee": assignee.id,
            "sendco_viewer": viewer,
            "spare_pupils": list(pupil_ids[recipients:]),
            "plans": [(plan, holders[p].id) for p, plan in enumerate(plan_ids)],
        }


if __name__ == "__main__":
    sys.exit(main())
