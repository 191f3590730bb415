"""How long the monitoring digest takes to queue and deliver, and the SQL it issues per digest.

    .venv/bin/python bench/bench_monitoring.py [--teachers 100] [--requests-per-teacher 30]
        [--pupils 600] [--growth 1,30,120] [--growth-teachers 20]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

The question: the digest sweep time for a school where 100 teachers each have 30 open
monitoring requests. One school (its slack_team_id the Slack emulator's team), --teachers
teachers (each a user of the emulator, with their Slack user id on their staff row), --pupils
pupils each with an ACTIVE plan (cycle 1) whose review date, 1 June 2027, is too far ahead for
anything else to be due: no review prompt, and no new monitoring request (that looks 120 days
ahead; there are no class lists anyway). Each teacher has --requests-per-teacher OPEN
monitoring requests, never notified, over those plans. NOW is Monday 23 November 2026, 10:00
UTC: no calendar is imported, so a school day, and in school hours (08:30-16:00 Europe/London).

Measured, on a temporary SQLite file and (with --postgres) in a database created on that
server for the purpose and dropped afterwards, with the SQL statements counted by a
`before_cursor_execute` listener (BEGIN and COMMIT are not statements; commits are counted on
their own) and the Slack API calls counted from `emulator.calls`:

1. queueing: `monitoring.create_due_digests` in one transaction (the commit included);
2. delivering: `handlers.sender.deliver_due(..., render=render_prompt, limit=10_000)`, cut into
   digests at each claim query, with the blocks of the messages posted;
3. the whole `handlers.scheduler.sweep` on a fresh copy of the school (built again), split into
   queueing and delivering at its call of `handlers.scheduler.deliver`;
4. an idle second run of each, with nothing due;
5. growth: the same school with --growth-teachers teachers and each number of requests per
   teacher in --growth, to see whether a digest's statements or time grow with its requests.

No assertions: the figures are printed. The defaults take well under a minute on SQLite.

The client is not paced (handlers.pacing): these are our own costs, not Slack's limits.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

# Run from a checkout without installing: the repository root holds `bot` and `models`.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, func, insert, select  # noqa: E402

import handlers.scheduler  # noqa: E402
from bench.common import (  # noqa: E402
    Phase,
    Recorder,
    Statement,
    SweepTiming,
    add_postgres_option,
    add_pupils_with_plans,
    api_calls,
    claims,
    databases,
    split_at_deliver,
    within,
)
from bot import db  # noqa: E402
from bot.demo.slack_emulator import SlackEmulator  # noqa: E402
from bot.services import monitoring, outbox  # noqa: E402
from handlers.messages import render_prompt  # noqa: E402
from handlers.sender import deliver_due  # noqa: E402
from handlers.slack_api import make_client  # noqa: E402
from models import (  # noqa: E402
    MonitoringRequest,
    MonitoringStatus,
    Prompt,
    PromptKind,
    PromptStatus,
    School,
    Staff,
    StaffRole,
)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday, in school hours (GMT in November)
START_DATE = date(2026, 9, 8)
REVIEW_DATE = date(2027, 6, 1)  # beyond every look-ahead: nothing but the digests is due
ASKED_AT = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # the requests' created_at
LIMIT = 10_000
MAX_BLOCKS = 50  # Slack's limit on a message's blocks
FIRST_NAMES = ["Amara", "Ben", "Chloe", "Dev", "Ella", "Finn", "Grace", "Hari", "Isla", "Jay"]
LAST_NAMES = ["Adams", "Begum", "Clarke", "Davies", "Evans", "Fraser", "Gill", "Hughes", "Iqbal"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teachers", type=int, default=100)
    parser.add_argument("--requests-per-teacher", type=int, default=30)
    parser.add_argument("--pupils", type=int, default=600)
    parser.add_argument(
        "--growth",
        default="1,30,120",
        help="requests per teacher to compare (comma-separated; empty to skip)",
    )
    parser.add_argument("--growth-teachers", type=int, default=20)
    add_postgres_option(parser)
    args = parser.parse_args(argv)
    if args.requests_per_teacher > args.pupils:
        parser.error("--requests-per-teacher cannot exceed --pupils (one request per plan)")
    growth = [int(n) for n in args.growth.split(",") if n.strip()]
    shape = Shape(args.teachers, args.requests_per_teacher, args.pupils)
    for label, database in databases(args.postgres):
        print(
            f"\n{label}: 1 school, {shape.teachers} teachers x {shape.per_teacher} open "
            f"monitoring requests = {shape.requests:,} requests over {shape.pupils} plans",
            flush=True,
        )
        with database() as engine:
            measure_parts(engine, shape)
        with database() as engine:
            measure_sweep(engine, shape)
        if growth:
            print(
                f"  growth: {args.growth_teachers} teachers with n open requests each; "
                "create_due_digests, then deliver_due (ms: medians per digest, claim to next "
                "claim; waiting: the count the digest shows)"
            )
            print(
                f"    {'n':>5} {'queue ms':>8} {'queue stmts':>11} {'stmts/digest':>12} "
                f"{'sent':>4} {'ms/digest':>9} {'render ms':>9} {'waiting':>7} {'blocks':>6}"
            )
            for n in growth:
                with database() as engine:
                    measure_growth(engine, Shape(args.growth_teachers, n, max(n, 60)))
    return 0


@dataclass(frozen=True)
class Shape:
    teachers: int
    per_teacher: int
    pupils: int

    @property
    def requests(self) -> int:
        return self.teachers * self.per_teacher


# --- counting -------------------------------------------------------------------------------


@dataclass
class DigestRecorder(Recorder):
    """The shared recorder, with the time of each digest's rendering too."""

    render_seconds: float = 0.0
    renders: list[float] = field(default_factory=list)
    rows_read: list[int] = field(default_factory=list)
    """How many requests each digest rendered says are waiting (read from its text)."""

    def render(self, session, prompt):
        """render_prompt, timed, with the number of requests the digest read."""
        started = time.perf_counter()
        content = render_prompt(session, prompt)
        seconds = time.perf_counter() - started
        self.render_seconds += seconds
        self.renders.append(seconds)
        # "Monitoring: 30 pupil(s) waiting for your feedback": every request is open here.
        waiting = re.match(r"Monitoring: (\d+) pupil", (content or {}).get("text") or "")
        self.rows_read.append(int(waiting.group(1)) if waiting else 0)
        return content


def per_digest(statements: list[Statement]) -> tuple[list[int], list[float]]:
    """The statements and seconds of each delivered prompt: the run cut at each claim (the last
    claim found nothing). A prompt's seconds run from its claim to the next claim."""
    starts = claims(statements)
    pairs = list(zip(starts, starts[1:], strict=False))
    counts = [stop - start for start, stop in pairs]
    return counts, [statements[stop].at - statements[start].at for start, stop in pairs]


def _spread(counts: list[int]) -> str:
    return ", ".join(f"{n} x{c}" for n, c in sorted(Counter(counts).items())) or "none"


# --- the measurements -----------------------------------------------------------------------


def measure_parts(engine: Engine, shape: Shape) -> None:
    """1, 2 and 4: create_due_digests, then deliver_due, then both again with nothing due."""
    sessions = db.make_session_factory(engine)
    recorder = DigestRecorder()
    recorder.attach(engine)
    with SlackEmulator() as emulator:
        built = build_school(sessions, emulator, shape)
        client = recorder.timed(make_client(emulator.bot_token, emulator.api_url, paced=False))
        print(f"  (data built in {built:.1f} s)")
        for run in ("first run", "idle second run (nothing due)"):
            print(f"  monitoring.create_due_digests + sender.deliver_due: {run}")
            queued, queueing = queue(sessions, recorder)
            print(
                f"    queueing        {queueing.seconds:8.3f} s  {len(queueing.statements):,} "
                f"statements, {queueing.commits} commit(s), {queued} digests queued"
            )
            deliver(sessions, client, emulator, recorder)
    engine.dispose()


def queue(sessions, recorder: DigestRecorder) -> tuple[int, Phase]:
    """create_due_digests in one transaction, the school loaded before the clock starts."""
    with sessions() as session:
        school = session.scalar(select(School).where(School.slack_team_id.is_not(None)))
        with recorder.recording() as phase:
            queued = monitoring.create_due_digests(session, school, NOW)
            session.commit()
    return queued, phase


def deliver(sessions, client, emulator: SlackEmulator, recorder: DigestRecorder) -> None:
    calls_before, messages_before = len(emulator.calls), len(emulator.messages)
    recorder.render_seconds = 0.0
    recorder.renders.clear()
    recorder.rows_read.clear()
    with recorder.recording() as phase:
        report = deliver_due(sessions, client, now=NOW, render=recorder.render, limit=LIMIT)
    calls = Counter(c.method for c in emulator.calls[calls_before:])
    messages = emulator.messages[messages_before:]
    sent = len(report.sent)
    print(
        f"    delivering      {phase.seconds:8.3f} s  {len(phase.statements):,} statements, "
        f"{phase.commits:,} commits, {sent} sent, {len(report.retried)} to retry, "
        f"{len(report.failed)} failed, {len(report.cancelled)} cancelled"
    )
    if not sent:
        return
    digests, seconds = per_digest(phase.statements)
    print(
        f"    per digest      {len(phase.statements) / sent:8.2f} statements "
        f"({_spread(digests)}), {phase.commits / sent:.2f} commits, "
        f"{sum(calls.values()) / sent:.2f} Slack API calls ({api_calls(calls)})"
    )
    slack_seconds = within(recorder.slack, phase.started, phase.started + phase.seconds)
    other = phase.seconds - slack_seconds - recorder.render_seconds
    print(
        f"    ms per digest   {phase.seconds / sent * 1000:8.2f} = render "
        f"{recorder.render_seconds / sent * 1000:.2f} (median "
        f"{statistics.median(recorder.renders) * 1000:.2f}) + Slack calls "
        f"{slack_seconds / sent * 1000:.2f} + the rest (claim, prepare, record, commits) "
        f"{other / sent * 1000:.2f}"
    )
    if seconds:
        print(
            f"    ms per digest   median {statistics.median(seconds) * 1000:.2f}, first "
            f"{seconds[0] * 1000:.2f}, slowest {max(seconds) * 1000:.2f} (claim to next claim)"
        )
    blocks(messages)
    kinds = Counter(d.kind for d in report.sent)
    if set(kinds) != {PromptKind.MONITORING_DIGEST}:
        print(f"    NOTE: sent {dict(kinds)}, not only monitoring digests")


def blocks(messages: list[dict]) -> None:
    counts = [len(m.get("blocks") or []) for m in messages]
    if not counts:
        return
    sample = messages[0]
    over = sum(1 for n in counts if n > MAX_BLOCKS)
    print(
        f"    blocks          one digest: {counts[0]} "
        f"({'within' if counts[0] <= MAX_BLOCKS else 'OVER'} Slack's {MAX_BLOCKS}); "
        f"all digests: {_spread(counts)}" + (f"; {over} OVER {MAX_BLOCKS}" if over else "")
    )
    print(f"    text            {sample.get('text')!r}")


def measure_sweep(engine: Engine, shape: Shape) -> None:
    """3 and 4: handlers.scheduler.sweep on a fresh copy, then again with nothing due."""
    sessions = db.make_session_factory(engine)
    recorder = DigestRecorder()
    recorder.attach(engine)
    with SlackEmulator() as emulator:
        build_school(sessions, emulator, shape)
        client = recorder.timed(make_client(emulator.bot_token, emulator.api_url, paced=False))
        for run in ("first sweep (fresh copy of the school)", "idle second sweep (nothing due)"):
            print(f"  handlers.scheduler.sweep: {run}")
            sweep(sessions, client, emulator, recorder)
    engine.dispose()


def sweep(sessions, client, emulator: SlackEmulator, recorder: DigestRecorder) -> None:
    timing = SweepTiming()
    queued_before = _prompts(sessions)
    calls_before = len(emulator.calls)
    with split_at_deliver(recorder, timing), recorder.recording() as phase:
        lines = handlers.scheduler.sweep(sessions, client, NOW)
    calls = Counter(c.method for c in emulator.calls[calls_before:])
    queued = _prompts(sessions) - queued_before
    sent = _sent(sessions, since=NOW)
    print(
        f"    total           {phase.seconds:8.3f} s  {len(phase.statements):,} statements, "
        f"{phase.commits:,} commits, {sum(calls.values()):,} Slack API calls ({api_calls(calls)})"
    )
    if timing.deliver_started is not None:
        cut = timing.deliver_statement - phase.first
        queueing, delivering = phase.statements[:cut], phase.statements[cut:]
        queue_seconds = timing.deliver_started - phase.started
        queue_commits = timing.deliver_commit - phase.commits_before
        print(
            f"    queueing        {queue_seconds:8.3f} s  {len(queueing):,} statements, "
            f"{queue_commits} commit(s), {queued} prompts queued"
        )
        print(
            f"    delivering      {phase.seconds - queue_seconds:8.3f} s  {len(delivering):,} "
            f"statements, {phase.commits - queue_commits:,} commits"
        )
        digests, seconds = per_digest(delivering)
        if digests:
            print(
                f"    per digest      statements {_spread(digests)}; ms median "
                f"{statistics.median(seconds) * 1000:.2f}, mean "
                f"{(phase.seconds - queue_seconds) / len(digests) * 1000:.2f}"
            )
    else:
        print("    (the sweep never called handlers.scheduler.deliver: no split)")
    for line in lines:
        print(f"    report: {line}")
    if sent.get("total"):
        print(f"    prompts sent in all so far: {sent}")


def measure_growth(engine: Engine, shape: Shape) -> None:
    """One row of the growth table: a digest's cost against its number of requests."""
    sessions = db.make_session_factory(engine)
    recorder = DigestRecorder()
    recorder.attach(engine)
    with SlackEmulator() as emulator:
        build_school(sessions, emulator, shape)
        client = make_client(emulator.bot_token, emulator.api_url, paced=False)
        _, queueing = queue(sessions, recorder)
        recorder.renders.clear()
        recorder.rows_read.clear()
        with recorder.recording() as phase:
            report = deliver_due(sessions, client, now=NOW, render=recorder.render, limit=LIMIT)
        digests, seconds = per_digest(phase.statements)
        counts = [len(m.get("blocks") or []) for m in emulator.messages]
        print(
            f"    {shape.per_teacher:>5} {queueing.seconds * 1000:>8.1f} "
            f"{len(queueing.statements):>11} {_spread(digests):>12} {len(report.sent):>4} "
            f"{statistics.median(seconds or [0]) * 1000:>9.2f} "
            f"{statistics.median(recorder.renders) * 1000:>9.2f} "
            f"{statistics.median(recorder.rows_read or [0]):>7.0f} "
            f"{max(counts or [0]):>6}",
            flush=True,
        )
    engine.dispose()


def _prompts(sessions) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Prompt))


def _sent(sessions, since: datetime) -> dict[str, int]:
    with sessions() as session:
        rows = session.execute(
            select(Prompt.kind, func.count())
            .where(Prompt.status == PromptStatus.SENT, Prompt.sent_at >= since)
            .group_by(Prompt.kind)
        ).all()
    found = {outbox.kind_label(kind): n for kind, n in rows}
    return {**found, "total": sum(found.values())} if found else {}


# --- the school -----------------------------------------------------------------------------


def build_school(sessions, emulator: SlackEmulator, shape: Shape) -> float:
    """The school, its teachers (in the emulator too), pupils, plans and open requests; one
    transaction, bulk inserts. Teacher t is asked about plans t*n .. t*n+n-1 (mod pupils), so
    each pupil has about teachers*n/pupils teachers asked. Returns the seconds it took."""
    started = time.perf_counter()
    with db.unit_of_work(sessions) as session:
        school = School(name="Bench Monitoring Academy", slack_team_id=emulator.team_id)
        session.add(school)
        teachers = []
        for t in range(shape.teachers):
            user_id = f"U{t:07d}"
            teacher = Staff(
                school=school,
                email=f"teacher{t}@monitoring.example.org",
                first_name=FIRST_NAMES[t % len(FIRST_NAMES)],
                last_name=f"Teacher{t:03d}",
                slack_user_id=user_id,
            )
            teacher.set_roles({StaffRole.TEACHER})
            teachers.append(teacher)
            emulator.add_user(
                user_id, email=teacher.email, real_name=f"{teacher.first_name} {teacher.last_name}"
            )
        session.add_all(teachers)
        session.flush()
        _, plan_ids = add_pupils_with_plans(
            session,
            school.id,
            pupils=shape.pupils,
            case_holders=[teacher.id for teacher in teachers],
            start_date=START_DATE,
            review_date=REVIEW_DATE,
            upn=lambda p: f"M{p:012d}",
            name=lambda p: (
                FIRST_NAMES[p % len(FIRST_NAMES)],
                f"{LAST_NAMES[p % len(LAST_NAMES)]}{p:04d}",
            ),
        )
        session.execute(
            insert(MonitoringRequest),
            [
                dict(
                    school_id=school.id,
                    plan_id=plan_ids[(t * shape.per_teacher + k) % shape.pupils],
                    cycle_number=1,
                    teacher_id=teacher.id,
                    status=MonitoringStatus.OPEN,
                    created_at=ASKED_AT,
                    notified_at=None,
                )
                for t, teacher in enumerate(teachers)
                for k in range(shape.per_teacher)
            ],
        )
    return time.perf_counter() - started


if __name__ == "__main__":
    sys.exit(main())
