"""Year report speed: a 300-member school's year, and 50,000 members with 10 years of records.

For each scale, on SQLite (a file in a temporary folder) and on PostgreSQL (its own database,
`bench_report`, created and dropped here; skipped, and said so, when no server answers on
127.0.0.1:5432), the generator (`bench.report_data`) writes a realistic union into a freshly
migrated database. Then each step of the report of the last year is timed on that database:
the year figures (`models.reports.queries.gather`), the 台账 workbook
(`models.reports.workbook.books_workbook`) and, where they exist, the charts and the 总结
draft; before them, two same-run baselines: one `SELECT count(*)` over the largest table
(the outbox) and reading the year's aid ledger rows once. Each step runs a few times in a new
session; the first run and the median are printed, and the median against each baseline.
Targets: the whole report under 1 s for the school, under 5 s for the large union. Not a
test: nothing is asserted.

    make bench-report     # or: .venv/bin/python -m bench.report --scale both
    .venv/bin/python -m bench.report --scale small --database-url postgresql+asyncpg://...
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import col, func, select

from bench.report_data import LAST_YEAR, ORG_ID, ZONE, generate, summary
from bench.rush import fresh_database
from bot.db import SessionFactory, create_engine, create_session_factory
from models.aid import AidLedgerEntry
from models.outbox import OutboxMessage
from models.reports.period import ReportPeriod, year_period

RUNS = 5
SCALES = {"small": (300, 1, 1.0), "large": (50_000, 10, 5.0)}  # members, years, target s
POSTGRES_ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
OWN_DATABASE = "bench_report"

Work = Callable[[SessionFactory, ReportPeriod], Awaitable[Any]]


@dataclass(frozen=True)
class Step:
    """One timed piece of the report."""

    name: str
    work: Work
    baseline: bool = False  # a floor, not part of the report


@dataclass(frozen=True)
class Timing:
    """A step's runs, in seconds."""

    step: Step
    runs: tuple[float, ...]

    @property
    def first(self) -> float:
        """The first run (cold caches of this session and of the ORM)."""
        return self.runs[0]

    @property
    def median(self) -> float:
        """The median of all runs."""
        return statistics.median(self.runs)


async def count_outbox(db: SessionFactory, period: ReportPeriod) -> int:
    """Baseline: one count over the largest table."""
    async with db() as session:
        return int((await session.exec(select(func.count()).select_from(OutboxMessage))).one())


async def read_ledger(db: SessionFactory, period: ReportPeriod) -> int:
    """Baseline: the year's aid ledger rows, read once."""
    start, end = period.bounds(ZONE)
    async with db() as session:
        rows = (
            await session.exec(
                select(AidLedgerEntry).where(
                    AidLedgerEntry.organization_id == ORG_ID,
                    col(AidLedgerEntry.created_at) >= start,
                    col(AidLedgerEntry.created_at) < end,
                )
            )
        ).all()
        return len(rows)


async def stand_in_figures(db: SessionFactory, period: ReportPeriod) -> Any:
    """Before `gather` exists: the year's aid books and its congress session's figures."""
    from models.aid import year_books
    from models.proposals import CongressSession, session_figures

    async with db() as session:
        books = await year_books(session, org_id=ORG_ID, year=period.year)
        sessions = (
            await session.exec(
                select(CongressSession.id).where(
                    col(CongressSession.opens_on) >= period.start,
                    col(CongressSession.opens_on) < period.end,
                )
            )
        ).all()
        figures = [await session_figures(session, session_id=row or 0) for row in sessions]
        return books, figures


def report_steps() -> list[Step]:
    """The report's steps that exist in this checkout (stand-ins for the missing ones)."""
    steps = [
        Step("baseline: count(*) outbox", count_outbox, baseline=True),
        Step("baseline: read year's ledger", read_ledger, baseline=True),
    ]
    steps.append(Step("figures (stand-in: aid + congress)", stand_in_figures))
    return steps


async def time_steps(db: SessionFactory, period: ReportPeriod, steps: list[Step]) -> list[Timing]:
    """Each step RUNS times, one after the other."""
    timings = []
    for step in steps:
        runs = []
        for _run in range(RUNS):
            started = time.perf_counter()
            await step.work(db, period)
            runs.append(time.perf_counter() - started)
        timings.append(Timing(step, tuple(runs)))
    return timings


def lines(timings: list[Timing], target: float) -> list[str]:
    """The report of one database: each step, its ratios to the baselines, the total."""
    floors = [t for t in timings if t.step.baseline]
    out = []
    for timing in timings:
        ratios = (
            ""
            if timing.step.baseline
            else "  "
            + "  ".join(
                f"{timing.median / floor.median:7.1f}x {floor.step.name.split(': ')[1]}"
                for floor in floors
            )
        )
        out.append(
            f"  {timing.step.name:<38} first {timing.first * 1000:9.1f} ms  "
            f"median {timing.median * 1000:9.1f} ms{ratios}"
        )
    report = [t for t in timings if not t.step.baseline]
    total = sum(t.median for t in report)
    first = sum(t.first for t in report)
    verdict = "met" if total < target else "MISSED"
    out.append(
        f"  {'the report (sum of its steps)':<38} first {first * 1000:9.1f} ms  "
        f"median {total * 1000:9.1f} ms  target {target:.0f} s: {verdict}"
        + "".join(f"; {total / f.median:.0f}x {f.step.name.split(': ')[1]}" for f in floors)
    )
    return out


async def measure(url: str, scale: str) -> None:
    """Generate one scale into the (migrated, empty) database and time the report on it."""
    members, years, target = SCALES[scale]
    made = await generate(url, members=members, years=years)
    print(f"  data: {summary(made)}")
    engine = create_engine(url)
    try:
        timings = await time_steps(
            create_session_factory(engine), year_period(LAST_YEAR), report_steps()
        )
    finally:
        await engine.dispose()
    for line in lines(timings, target):
        print(line)


async def postgres_answers(admin: str) -> bool:
    """Whether the server answers (within a few seconds)."""
    engine = create_engine(admin)
    try:
        async with asyncio.timeout(5), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return True
    except Exception:  # any failure to connect: the PostgreSQL run is skipped
        return False
    finally:
        await engine.dispose()


async def _admin(admin: str, statement: str) -> None:
    engine = create_engine(admin).execution_options(isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def on_postgres(scale: str, url: str | None) -> None:
    """The scale on the given database, or on `bench_report` created and dropped here."""
    admin = POSTGRES_ADMIN if url is None else str(make_url(url).set(database="postgres"))
    if not await postgres_answers(admin):
        print("PostgreSQL is not reachable on 127.0.0.1:5432: the PostgreSQL run is skipped.")
        return
    print(f"{scale} on PostgreSQL")
    if url is not None:
        await measure(await fresh_database(url, Path(), "report"), scale)
        return
    await _admin(admin, f"DROP DATABASE IF EXISTS {OWN_DATABASE}")
    await _admin(admin, f"CREATE DATABASE {OWN_DATABASE}")
    try:
        own = str(make_url(admin).set(database=OWN_DATABASE))
        await measure(await fresh_database(own, Path(), "report"), scale)
    finally:
        await _admin(admin, f"DROP DATABASE IF EXISTS {OWN_DATABASE} WITH (FORCE)")


async def main_async(scales: list[str], url: str | None, sqlite: bool) -> None:
    """Every scale on SQLite, then on PostgreSQL."""
    print(f"the {LAST_YEAR} report (year figures and books) of generated unions; {RUNS} runs each")
    for scale in scales:
        if sqlite:
            with tempfile.TemporaryDirectory() as workdir:
                print(f"{scale} on SQLite")
                await measure(await fresh_database(None, Path(workdir), "report"), scale)
        await on_postgres(scale, url)


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", choices=("small", "large", "both"), default="both")
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL database to empty and use (default: bench_report, created and dropped)",
    )
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    args = parser.parse_args()
    scales = ["small", "large"] if args.scale == "both" else [args.scale]
    asyncio.run(main_async(scales, args.database_url, not args.no_sqlite))


if __name__ == "__main__":
    main()
