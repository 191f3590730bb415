"""How long one scheduler sweep takes for a trust of schools, and the SQL it issues per prompt.

    .venv/bin/python bench/bench_sweep.py [--schools 20] [--plans-per-school 150]
        [--link-by-email] [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

A synthetic trust in a fresh database (a temporary SQLite file; with --postgres also a database
created on that server for the purpose and dropped afterwards): each school has its own
slack_team_id, a SENDCo, 15 case holders and --plans-per-school pupils, each with an ACTIVE plan
whose review date (Tuesday 1 December 2026) makes its "review coming up" prompt due at NOW
(Monday 23 November 2026, 10:00 UTC: a school day, in school hours, with no calendar imported).
So a sweep owes 3,000 review prompts plus one weekly digest per SENDCo. Every member of staff is
a user of one Slack emulator, with their Slack user id already on their staff row (with
--link-by-email: found by email address, once each, during delivery).

Then, timed, with the SQL statements counted (a `before_cursor_execute` listener; BEGIN and
COMMIT are not statements, so commits are counted, and timed, on their own) and the Slack API
calls counted (`emulator.calls`) and timed:

1. one `handlers.scheduler.sweep`, exactly as the scheduler runs it, split into queueing and
   delivering (a wrapper around `handlers.scheduler.deliver` marks the split; it calls the
   original).
   Its delivery is cut into prompts at each claim query, to give the statements of each kind of
   prompt and to compare the first prompts delivered with the last: does anything grow as the
   run goes on?
2. only if that sweep left due prompts pending (`deliver_due` stops at the `limit` the
   scheduler gives it): the rest, sent by `handlers.sender.deliver_due(..., limit=10_000)` at
   once, with the same figures, and the two added up as one sweep that sent everything;
3. a second sweep straight after, with nothing new due.

The client is not paced (handlers.pacing): this measures our own cost per prompt, which Slack's
rate limits would hide; bench/sweep_600.py measures a sweep under them.

No assertions: the figures are printed. SQLite with the defaults takes about two minutes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

# Run from a checkout without installing: the repository root holds `bot` and `models`.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, func, select  # noqa: E402

import handlers.scheduler  # noqa: E402
from bench.common import (  # noqa: E402
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
from bot.services import outbox  # noqa: E402
from bot.services.outbox import DeliveryReport  # noqa: E402
from handlers.messages import render_prompt  # noqa: E402
from handlers.sender import deliver_due  # noqa: E402
from handlers.slack_api import make_client  # noqa: E402
from handlers.workspaces import GivenWorkspaces  # noqa: E402
from models import (  # noqa: E402
    Prompt,
    PromptKind,
    PromptStatus,
    School,
    Staff,
    StaffRole,
)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday, in school hours (GMT in November)
REVIEW_DATE = date(2026, 12, 1)  # 6 school days on: the "review coming up" prompt is due
START_DATE = date(2026, 9, 8)
CASE_HOLDERS = 15
BACKLOG_LIMIT = 10_000
WINDOW = 100  # prompts at the start and at the end of a delivery run compared


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=20)
    parser.add_argument("--plans-per-school", type=int, default=150)
    parser.add_argument(
        "--link-by-email",
        action="store_true",
        help="leave staff without a Slack user id: delivery finds each by email (once)",
    )
    add_postgres_option(parser)
    args = parser.parse_args(argv)
    for label, database in databases(args.postgres):
        with database() as engine:
            measure(label, engine, args.schools, args.plans_per_school, args.link_by_email)
    return 0


# --- the measurement ------------------------------------------------------------------------


@dataclass
class Result:
    sent: int
    queue_seconds: float = 0.0
    queue_statements: int = 0
    deliver_seconds: float = 0.0
    deliver_statements: int = 0


def measure(label: str, engine: Engine, schools: int, plans: int, by_email: bool) -> None:
    sessions = db.make_session_factory(engine)
    recorder = Recorder()
    recorder.attach(engine)
    with SlackEmulator() as emulator:
        started = time.perf_counter()
        build_trust(sessions, emulator, schools, plans, by_email)
        built = time.perf_counter() - started
        # Each school in its own workspace, with its own token, as a trust's are.
        client = GivenWorkspaces(
            {
                team_of(s): recorder.timed(make_client(token_of(s), emulator.api_url, paced=False))
                for s in range(1, schools + 1)
            }
        )
        linking = "found by email during delivery" if by_email else "on the staff rows"
        print(
            f"\n{label}: {schools} schools x {plans} plans = {schools * plans:,} review prompts "
            f"due, {schools} SENDCo digests; Slack ids {linking} (data built in {built:.1f} s)",
            flush=True,
        )
        first = sweep(recorder, sessions, client, emulator, "sweep 1 (handlers.scheduler.sweep)")
        pending = _pending(sessions)
        if pending:
            print(
                f"  NOTE: the sweep sent {first.sent:,} and left {len(pending):,} due prompts "
                "pending: handlers.sender.deliver_due stopped at the `limit` "
                "handlers.scheduler.deliver gives "
                f"it ({getattr(handlers.scheduler, 'SWEEP_LIMIT', 'default')})."
            )
            rest = backlog(recorder, sessions, client, emulator)
            sent = first.sent + rest.sent
            deliver_seconds = first.deliver_seconds + rest.deliver_seconds
            deliver_statements = first.deliver_statements + rest.deliver_statements
            print(
                f"  sweep 1 + backlog, i.e. one sweep sending everything: "
                f"{first.queue_seconds + deliver_seconds:.2f} s = queueing "
                f"{first.queue_seconds:.2f} s + delivering {deliver_seconds:.2f} s; "
                f"{first.queue_statements + deliver_statements:,} statements = queueing "
                f"{first.queue_statements:,} + delivering {deliver_statements:,} "
                f"({deliver_statements / max(1, sent):.2f} per prompt); {sent:,} prompts sent"
            )
        sweep(recorder, sessions, client, emulator, "sweep 2, straight after (nothing new due)")
        left = len(_pending(sessions))
        if left:
            print(f"  {left:,} due prompts still pending after sweep 2")
    engine.dispose()


def sweep(recorder, sessions, client, emulator, title: str) -> Result:
    """One handlers.scheduler.sweep at NOW; prints its figures and returns them."""
    timing = SweepTiming()
    calls_before = len(emulator.calls)
    queued_before = _count(sessions, None)
    settled_before = _settled(sessions)
    with split_at_deliver(recorder, timing), recorder.recording() as phase:
        lines = handlers.scheduler.sweep(sessions, client, NOW)
    queued = _count(sessions, None) - queued_before
    settled = _settled(sessions, after=settled_before)
    sent = sum(1 for _, _, status in settled if status == PromptStatus.SENT)
    calls = Counter(c.method for c in emulator.calls[calls_before:])
    split = _given(timing.deliver_statement, len(recorder.statements)) - phase.first
    queueing, delivering = phase.statements[:split], phase.statements[split:]
    queue_seconds = _given(timing.deliver_started, phase.started + phase.seconds) - phase.started
    deliver_seconds = phase.seconds - queue_seconds
    queue_commits = _given(timing.deliver_commit, recorder.commits) - phase.commits_before
    deliver_commits = phase.commits - queue_commits
    print(f"  {title}")
    print(f"    total           {phase.seconds:8.2f} s  {len(phase.statements):,} statements")
    print(
        f"    queueing        {queue_seconds:8.2f} s  {len(queueing):,} statements "
        f"({len(queueing) / max(1, _schools(sessions)):.1f} per school), "
        f"{queue_commits} commit(s), {queued:,} prompts queued"
    )
    print(
        f"    delivering      {deliver_seconds:8.2f} s  {len(delivering):,} statements, "
        f"{deliver_commits:,} commits, {sent:,} prompts sent"
    )
    for line in lines:
        if line.startswith("Prompts:") or line.startswith("No prompts"):
            print(f"    report: {line}")
    if sent:
        print(
            f"    per prompt      {len(delivering) / sent:8.2f} statements, "
            f"{deliver_commits / sent:.2f} commits, "
            f"{sum(calls.values()) / sent:.2f} Slack API calls ({api_calls(calls)}), "
            f"{deliver_seconds / sent * 1000:.1f} ms"
        )
        breakdown(delivering, recorder, settled)
    elif calls:
        print(f"    Slack API calls {sum(calls.values())} ({api_calls(calls)})")
    return Result(sent, queue_seconds, len(queueing), deliver_seconds, len(delivering))


def backlog(recorder, sessions, client, emulator) -> Result:
    """Delivers what the sweep left, in one deliver_due call; prints its figures."""
    calls_before = len(emulator.calls)
    settled_before = _settled(sessions)
    with sessions() as session:
        schools = session.execute(select(School.id, School.slack_team_id)).all()
    with recorder.recording() as phase:
        # Each school's through its own workspace's client, as the scheduler delivers.
        report = DeliveryReport()
        for school_id, team_id in schools:
            done = deliver_due(
                sessions,
                client.client_for(team_id),
                now=NOW,
                render=render_prompt,
                limit=BACKLOG_LIMIT,
                school_id=school_id,
            )
            for name in ("sent", "retried", "failed", "cancelled"):
                getattr(report, name).extend(getattr(done, name))
    calls = Counter(c.method for c in emulator.calls[calls_before:])
    sent = len(report.sent)
    print(
        f"  backlog: handlers.sender.deliver_due(limit={BACKLOG_LIMIT:_}) straight after the sweep"
    )
    print(
        f"    delivering      {phase.seconds:8.2f} s  {len(phase.statements):,} statements, "
        f"{phase.commits:,} commits, {sent:,} sent, {len(report.retried)} to retry, "
        f"{len(report.failed)} failed, {len(report.cancelled)} cancelled"
    )
    if sent:
        print(
            f"    per prompt      {len(phase.statements) / sent:8.2f} statements, "
            f"{phase.commits / sent:.2f} commits, {sum(calls.values()) / sent:.2f} Slack API "
            f"calls ({api_calls(calls)}), {phase.seconds / sent * 1000:.1f} ms"
        )
        breakdown(phase.statements, recorder, _settled(sessions, after=settled_before))
    return Result(sent, deliver_seconds=phase.seconds, deliver_statements=len(phase.statements))


def breakdown(
    statements: list[Statement],
    recorder: Recorder,
    settled: list[tuple[int, PromptKind, PromptStatus]],
) -> None:
    """Per kind of prompt, and the first prompts of the run against the last."""
    prompts = per_prompt(statements, recorder)
    if len(prompts) != len(settled):
        print(f"    ({len(prompts)} claims for {len(settled)} prompts settled: no breakdown)")
        return
    by_kind: dict[PromptKind, list[Work]] = {}
    for (_, kind, _), work in zip(settled, prompts, strict=True):
        by_kind.setdefault(kind, []).append(work)
    for kind, works in sorted(by_kind.items(), key=lambda item: -len(item[1])):
        counts = Counter(len(w.statements) for w in works)
        spread = ", ".join(f"{n} x{c:,}" for n, c in sorted(counts.items()))
        print(
            f"    {outbox.kind_label(kind) + ':':<15} {len(works):>5,} prompts, statements each: "
            f"{spread}; median {statistics.median(w.seconds for w in works) * 1000:.1f} ms"
        )
    window = min(WINDOW, len(prompts) // 2)
    if not window:
        return
    print(f"    first {window} vs last {window} prompts delivered, mean per prompt:")
    for name, value in [
        ("statements", lambda w: len(w.statements)),
        ("ms in all", lambda w: w.seconds * 1000),
        ("ms executing SQL", lambda w: w.sql_seconds * 1000),
        ("  of which claim", lambda w: w.claim_seconds * 1000),
        ("ms committing", lambda w: w.commit_seconds * 1000),
        ("ms in Slack calls", lambda w: w.slack_seconds * 1000),
        ("ms otherwise", lambda w: w.other_seconds * 1000),
        ("claim parameters", lambda w: w.claim_parameters),
    ]:
        head = _mean(value(w) for w in prompts[:window])
        tail = _mean(value(w) for w in prompts[-window:])
        print(f"      {name:<18} {head:9.2f} {tail:9.2f}")


@dataclass
class Work:
    statements: list[Statement]
    seconds: float
    claim_parameters: int
    claim_seconds: float
    commit_seconds: float
    slack_seconds: float

    @property
    def sql_seconds(self) -> float:
        return sum(s.seconds for s in self.statements)

    @property
    def other_seconds(self) -> float:
        """Python: the ORM, sessions, rendering, the Slack client (the emulator's own work is
        in the Slack calls' time, though it shares the interpreter)."""
        return self.seconds - self.sql_seconds - self.commit_seconds - self.slack_seconds


def per_prompt(statements: list[Statement], recorder: Recorder) -> list[Work]:
    """A delivery run's statements cut at each claim; the last claim (found nothing) ends it.

    A prompt's time runs from its claim to the next claim (Slack calls included); the claim's
    own time is the driver's execution of the claim query.
    """
    starts = claims(statements)
    works = []
    for n, start in enumerate(starts[:-1]):
        stop = starts[n + 1]
        chunk = statements[start:stop]
        begin, end = chunk[0].at, statements[stop].at
        works.append(
            Work(
                statements=chunk,
                seconds=end - begin,
                claim_parameters=chunk[0].parameters,
                claim_seconds=chunk[0].seconds,
                commit_seconds=within(recorder.commit_times, begin, end),
                slack_seconds=within(recorder.slack, begin, end),
            )
        )
    return works


# --- the trust ------------------------------------------------------------------------------


def team_of(s: int) -> str:
    return f"T{s:02d}BENCH"


def token_of(s: int) -> str:
    return f"xoxb-bench-school-{s:02d}"


def build_trust(sessions, emulator: SlackEmulator, schools: int, plans: int, by_email: bool):
    """The schools, staff (in the emulator too), pupils and plans: one transaction per school."""
    for s in range(1, schools + 1):
        with db.unit_of_work(sessions) as session:
            school = School(name=f"Bench School {s:02d}", slack_team_id=team_of(s))
            session.add(school)
            emulator.add_workspace(team_of(s), token_of(s))
            staff = []
            for n in range(CASE_HOLDERS + 1):
                role = StaffRole.SENDCO if n == 0 else StaffRole.CASE_HOLDER
                user_id = f"U{s:02d}{n:05d}"
                member = Staff(
                    school=school,
                    email=f"staff{n}@school{s:02d}.example.org",
                    first_name="Sendco" if n == 0 else "Case",
                    last_name=f"Holder{n}",
                    slack_user_id=None if by_email else user_id,
                )
                member.set_roles({role})
                staff.append(member)
                emulator.add_user(
                    user_id,
                    email=member.email,
                    real_name=f"{member.first_name} {member.last_name}",
                    team_id=team_of(s),
                )
            session.add_all(staff)
            session.flush()
            holders = [member.id for member in staff[1:]]
            add_pupils_with_plans(
                session,
                school.id,
                pupils=plans,
                case_holders=holders,
                start_date=START_DATE,
                review_date=REVIEW_DATE,
                upn=lambda p, s=s: f"B{s:02d}{p:010d}",
            )


def _pending(sessions) -> list[int]:
    """Due prompts still pending."""
    with sessions() as session:
        return list(
            session.scalars(
                select(Prompt.id).where(Prompt.status == PromptStatus.PENDING, Prompt.due_at <= NOW)
            )
        )


def _settled(sessions, after=None) -> list[tuple[int, PromptKind, PromptStatus]]:
    """Prompts no longer pending, in the order deliver_due claims them; those not in `after`."""
    done = {prompt_id for prompt_id, _, _ in after or []}
    with sessions() as session:
        rows = session.execute(
            select(Prompt.id, Prompt.kind, Prompt.status)
            .where(Prompt.status != PromptStatus.PENDING)
            .order_by(Prompt.due_at, Prompt.id)
        )
        return [(row.id, row.kind, row.status) for row in rows if row.id not in done]


def _count(sessions, status: PromptStatus | None) -> int:
    with sessions() as session:
        query = select(func.count()).select_from(Prompt)
        if status is not None:
            query = query.where(Prompt.status == status)
        return session.scalar(query)


def _schools(sessions) -> int:
    with sessions() as session:
        return session.scalar(
            select(func.count()).select_from(School).where(School.slack_team_id.is_not(None))
        )


def _given(value, otherwise):
    """`value`, or `otherwise` when the sweep never reached delivery."""
    return otherwise if value is None else value


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


if __name__ == "__main__":
    sys.exit(main())
