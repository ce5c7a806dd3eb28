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
test: nothing is asserted. Writing the large union takes most of the run (4 to 5 minutes per
database on a quiet 2-core machine); `--keep DIR` keeps the databases and `--reuse` times the
report on them again without writing them anew (to look into a slow step).

    make bench-report     # or: .venv/bin/python -m bench.report --scale both
    .venv/bin/python -m bench.report --scale small --database-url postgresql+asyncpg://...
    .venv/bin/python -m bench.report --scale large --keep data/bench --reuse
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select as wide_select
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import col, func, select

from bench.report_data import LAST_YEAR, ORG_ID, ZONE, generate, summary
from bench.rush import fresh_database
from bot.db import SessionFactory, create_engine, create_session_factory
from bot.i18n import Translator
from models.aid import AidLedgerEntry
from models.outbox import OutboxMessage
from models.reports.period import ReportPeriod, year_period

# members, years, target (s), runs of each step
SCALES = {"small": (300, 1, 1.0, 5), "large": (50_000, 10, 5.0, 3)}
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
    """Baseline: the year's aid ledger rows (every column, as rows), read once."""
    start, end = period.bounds(ZONE)
    ledger = AidLedgerEntry.__table__  # type: ignore[attr-defined]
    async with db() as session:
        connection = await session.connection()
        rows = (
            await connection.execute(
                wide_select(ledger).where(
                    ledger.c.organization_id == ORG_ID,
                    ledger.c.created_at >= start,
                    ledger.c.created_at < end,
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


ORGANIZATION = "实验中学工会"
ANSWER_DAYS = 7  # the SUGGESTION_ANSWER_DAYS default


async def figures(db: SessionFactory, period: ReportPeriod) -> Any:
    """The year figures, as /report reads them."""
    gather = _part("models.reports.queries", "gather")
    async with db() as session:
        return await gather(
            session,
            org_id=ORG_ID,
            period=period,
            zone=ZONE,
            organization=ORGANIZATION,
            answer_days=ANSWER_DAYS,
        )


async def workbook(db: SessionFactory, period: ReportPeriod) -> bytes:
    """The 台账 workbook (all six books) in zh-Hans."""
    books_workbook = _part("models.reports.workbook", "books_workbook")
    async with db() as session:
        return bytes(
            await books_workbook(
                session,
                org_id=ORG_ID,
                period=period,
                tr=Translator("zh-Hans"),
                zone=ZONE,
                organization=ORGANIZATION,
            )
        )


def _exists(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _part(module: str, name: str) -> Any:
    """A function of the report, looked up when it runs: the bench also runs (with a
    stand-in) in a checkout that does not have every part yet."""
    return getattr(importlib.import_module(module), name)


async def report_steps(db: SessionFactory, period: ReportPeriod) -> list[Step]:
    """The report's steps that exist in this checkout (a stand-in for missing figures).

    The charts and the docx are drawn from the figures (read once here, outside the timing);
    they touch no database."""
    steps = [
        Step("baseline: count(*) outbox", count_outbox, baseline=True),
        Step("baseline: read year's ledger", read_ledger, baseline=True),
    ]
    if not _exists("models.reports.queries"):
        return [*steps, Step("figures (stand-in: aid + congress)", stand_in_figures)]
    steps.append(Step("figures (gather)", figures))
    if _exists("models.reports.workbook"):
        steps.append(Step("workbook (books_workbook)", workbook))
    if _exists("models.reports.charts"):
        report_charts = _part("models.reports.charts", "report_charts")
        tr = Translator("zh-Hans")
        read = await figures(db, period)

        async def charts(_db: SessionFactory, _period: ReportPeriod) -> Any:
            return await asyncio.to_thread(report_charts, read, tr)

        steps.append(Step("charts (report_charts)", charts))
        if _exists("models.reports.summary"):
            summary_docx = _part("models.reports.summary", "summary_docx")
            drawn = report_charts(read, tr)

            async def docx(_db: SessionFactory, _period: ReportPeriod) -> Any:
                return await asyncio.to_thread(summary_docx, read, drawn, tr)

            steps.append(Step("docx (summary_docx)", docx))
    return steps


async def time_steps(
    db: SessionFactory, period: ReportPeriod, steps: list[Step], runs: int
) -> list[Timing]:
    """Each step `runs` times, one after the other."""
    timings = []
    for step in steps:
        took = []
        for _run in range(runs):
            started = time.perf_counter()
            await step.work(db, period)
            took.append(time.perf_counter() - started)
        timings.append(Timing(step, tuple(took)))
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
            f"  {timing.step.name:<36} first {timing.first * 1000:9.1f} ms  "
            f"median {timing.median * 1000:9.1f} ms{ratios}"
        )
    report = [t for t in timings if not t.step.baseline]
    total = sum(t.median for t in report)
    first = sum(t.first for t in report)
    verdict = "met" if total < target else "MISSED"
    out.append(
        f"  {'the report (sum of its steps)':<36} first {first * 1000:9.1f} ms  "
        f"median {total * 1000:9.1f} ms  target {target:.0f} s: {verdict}"
        + "".join(f"; {total / f.median:.0f}x {f.step.name.split(': ')[1]}" for f in floors)
    )
    return out


async def measure(url: str, scale: str, *, fill: bool = True) -> None:
    """Generate one scale into the (migrated, empty) database, unless it was filled before,
    and time the report on it."""
    members, years, target, runs = SCALES[scale]
    if fill:
        made = await generate(url, members=members, years=years, checked=False)
        print(f"  data: {summary(made)}")
    else:
        print(f"  data: as generated before in {make_url(url).database}")
    engine = create_engine(url)
    try:
        db, period = create_session_factory(engine), year_period(LAST_YEAR)
        async with db() as session:  # the pool's first connection, outside the timing
            await session.exec(select(1))
        timings = await time_steps(db, period, await report_steps(db, period), runs)
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


async def _database_exists(admin: str, name: str) -> bool:
    engine = create_engine(admin)
    try:
        async with engine.connect() as connection:
            found = await connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            return found.first() is not None
    finally:
        await engine.dispose()


async def on_postgres(scale: str, url: str | None, keep: Path | None, reuse: bool) -> None:
    """The scale on the given database, or on its own one created here (and dropped unless
    it is kept)."""
    admin = POSTGRES_ADMIN if url is None else str(make_url(url).set(database="postgres"))
    if not await postgres_answers(admin):
        print("PostgreSQL is not reachable on 127.0.0.1:5432: the PostgreSQL run is skipped.")
        return
    print(f"{scale} on PostgreSQL")
    if url is not None:
        await measure(await fresh_database(url, Path(), "report"), scale)
        return
    name = OWN_DATABASE if keep is None else f"{OWN_DATABASE}_{scale}"
    own = str(make_url(admin).set(database=name))
    if reuse and await _database_exists(admin, name):
        await measure(own, scale, fill=False)
        return
    await _admin(admin, f"DROP DATABASE IF EXISTS {name}")
    await _admin(admin, f"CREATE DATABASE {name}")
    try:
        await measure(await fresh_database(own, Path(), "report"), scale)
    finally:
        if keep is None:
            await _admin(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        else:
            print(f"  kept: {own}")


def _empty_folder(folder: Path, pattern: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob(pattern):
        old.unlink()


async def on_sqlite(scale: str, keep: Path | None, reuse: bool) -> None:
    """The scale on a new SQLite file (in a temporary folder, or kept in `keep`)."""
    print(f"{scale} on SQLite")
    if keep is not None and reuse and (keep / f"report-{scale}.db").exists():
        await measure(f"sqlite+aiosqlite:///{keep / f'report-{scale}.db'}", scale, fill=False)
        return
    if keep is not None:
        _empty_folder(keep, f"report-{scale}.db*")
        await measure(await fresh_database(None, keep, f"report-{scale}"), scale)
        print(f"  kept: {keep / f'report-{scale}.db'}")
        return
    with tempfile.TemporaryDirectory() as workdir:
        await measure(await fresh_database(None, Path(workdir), "report"), scale)


async def main_async(
    scales: list[str],
    url: str | None,
    *,
    sqlite: bool,
    postgres: bool,
    keep: Path | None,
    reuse: bool,
) -> None:
    """Every scale on SQLite, then on PostgreSQL."""
    print(f"the {LAST_YEAR} report of generated unions; each step run a few times")
    for scale in scales:
        if sqlite:
            await on_sqlite(scale, keep, reuse)
        if postgres:
            await on_postgres(scale, url, keep, reuse)


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", choices=("small", "large", "both"), default="both")
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL database to empty and use (default: bench_report, created and dropped)",
    )
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument(
        "--keep",
        type=Path,
        help="keep the databases (SQLite files in this folder, PostgreSQL bench_report_<scale>)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --keep: time the report on the databases kept before (no new data)",
    )
    args = parser.parse_args()
    scales = ["small", "large"] if args.scale == "both" else [args.scale]
    asyncio.run(
        main_async(
            scales,
            args.database_url,
            sqlite=not args.no_sqlite,
            postgres=not args.no_postgres,
            keep=args.keep,
            reuse=args.reuse,
        )
    )


if __name__ == "__main__":
    main()
