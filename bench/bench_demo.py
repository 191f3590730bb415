"""How long `sspbot demo-data` takes, and how many rows it writes.

    .venv/bin/python bench/bench_demo.py [--pupils 1200] [--seed 2026] [--repeat 3]
                                         [--postgres postgresql+psycopg://postgres@127.0.0.1/postgres]

Each run creates the demo school in a fresh, migrated database (migrations are not timed):
always a temporary SQLite file, and with --postgres also a database created on that server for
the purpose and dropped afterwards. The time is create_demo_school plus the commit, as the CLI
runs it. Reports the best of --repeat runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

# Run from a checkout without installing: the repository root holds `bot` and `models`.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, func, select  # noqa: E402

import models  # noqa: E402
from bench.common import add_postgres_option, databases  # noqa: E402
from bot import db  # noqa: E402
from bot.demo.school import DEFAULT_NAME, DemoSummary, create_demo_school  # noqa: E402

TODAY = date(2026, 3, 10)  # fixed, so every run builds the same school


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=1, help="runs per database (best kept)")
    add_postgres_option(parser)
    args = parser.parse_args(argv)

    for label, database in databases(args.postgres):
        times = []
        for _ in range(max(1, args.repeat)):
            with database() as engine:
                seconds, summary = _run(engine, args.pupils, args.seed)
                times.append(seconds)
                counts = _row_counts(engine)
        print(f"{label}: {args.pupils:,} pupils in {min(times):.2f} s", end="")
        print(f" (runs: {', '.join(f'{t:.2f}' for t in times)})" if len(times) > 1 else "")
        print(f"  {sum(counts.values()):,} rows in {len(counts)} tables:")
        width = max(len(name) for name in counts)
        for name, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            print(f"    {name.ljust(width)} {count:>7,}")
    print()
    print(summary.render())
    return 0


def _run(engine: Engine, pupils: int, seed: int) -> tuple[float, DemoSummary]:
    sessions = db.make_session_factory(engine)
    started = time.perf_counter()
    with db.unit_of_work(sessions) as session:
        summary = create_demo_school(
            session, name=DEFAULT_NAME, seed=seed, pupils=pupils, today=TODAY
        )
    return time.perf_counter() - started, summary


def _row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        counts = {
            table.name: connection.scalar(select(func.count()).select_from(table))
            for table in models.Base.metadata.sorted_tables
        }
    return {name: count for name, count in counts.items() if count}


if __name__ == "__main__":
    sys.exit(main())
