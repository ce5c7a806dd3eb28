"""The district roll-up at district size: 50 schools x 1,000 members with 5 years of records.

`bench.report_data.generate(..., schools=50)` writes a district union and its schools (each
one a school of `bench.report_data`, with its own seed). Then, for one year and for the whole
5-year term (届), it times:

- the roll-up (`models.reports.district.district_rollup`: each area in a few
  `GROUP BY organization_id` queries for every school at once);
- the same-run baselines: `gather` (the school report's figures) once per school, 50 times,
  which is what the roll-up would cost built from the school report; and the roll-up of one
  school alone;
- the workbook and the charts of the roll-up.

It also checks that both ways give the same figures for every school (members, roster,
suggestions, proposals, aid, hardship files, activities, ballots) and that the total is the
sum of the schools. On SQLite in a temporary file, then on a PostgreSQL database of its own
(`bench_rollup`, created here and dropped at the end). Not a test: nothing about time is
asserted.

    make bench-district-report                 # SQLite, then PostgreSQL
    .venv/bin/python -m bench.district_report --schools 5 --members 300 --only sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench.report import POSTGRES_ADMIN, _admin, postgres_answers
from bench.report_data import LAST_YEAR, ZONE, generate, summary
from bench.rush import fresh_database
from bot.db import create_engine, create_session_factory
from bot.i18n import I18n
from models.district import schools_of, the_district
from models.organizations import Organization
from models.reports.district import DistrictRollup, SchoolRollup, district_rollup
from models.reports.district_files import rollup_charts, rollup_workbook
from models.reports.period import PeriodKind, ReportPeriod, year_period
from models.reports.queries import gather

OWN_DATABASE = "bench_rollup"
RUNS = 3
ANSWER_DAYS = 7


def term_of_office(first_year: int, last_year: int) -> ReportPeriod:
    """The years of a union's term (届) as one period (the benchmark's, not a /district choice)."""
    return ReportPeriod(
        PeriodKind.YEAR, first_year, None, date(first_year, 1, 1), date(last_year + 1, 1, 1)
    )


async def _timed(runs: int, step: Callable[[], Awaitable[Any]]) -> tuple[float, float, Any]:
    """(first, median) in seconds, and the last result."""
    took, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = await step()
        took.append(time.perf_counter() - started)
    return took[0], statistics.median(took), result


def _from_gather(figures: Any, school: Organization) -> SchoolRollup:
    """A school's roll-up row built from `gather`'s figures (the baseline's way)."""
    from models.reports.district import _summed_rates

    return SchoolRollup(
        school_id=school.id,
        name=school.name,
        members=figures.members.total,
        roster=figures.members.roster,
        suggestions=figures.suggestions.received,
        answered=figures.suggestions.answered,
        answered_in_time=figures.suggestions.answered_in_time,
        proposals=_summed_rates([congress.rates for congress in figures.congresses]),
        aid=figures.aid.lines,
        hardship_on_file=figures.hardship.on_file,
        activities=figures.activities.held,
        participants=figures.activities.participants,
        eligible=sum(line.eligible for line in figures.activities.lines),
        ballots=figures.democracy.ballots,
        sessions=len(figures.congresses),
    )


def _differences(rollup: DistrictRollup, baseline: list[SchoolRollup]) -> list[str]:
    """What differs between the two ways (empty: every school agrees and the total is the
    sum of the schools)."""
    by_id = {row.school_id: row for row in rollup.schools}
    found = [row.name for row in baseline if by_id.get(row.school_id) != row]
    if rollup.total.members != sum(row.members for row in rollup.schools):
        found.append("total members")
    if rollup.total.aid_paid != sum(row.aid_paid for row in rollup.schools):
        found.append("total aid")
    return found


async def measure(url: str, *, schools: int, members: int, years: int) -> None:
    """Generate the district into `url`, then time and check the roll-ups."""
    made = await generate(url, members=members, years=years, schools=schools, checked=False)
    print(f"  data: {schools} schools, {summary(made)}")
    engine = create_engine(url)
    db = create_session_factory(engine)
    tr = I18n("zh-Hans").get("zh-Hans")
    try:
        async with db() as session:
            district = await the_district(session)
            assert district is not None and district.id is not None
            found = await schools_of(session, district_id=district.id)
        first_year = LAST_YEAR - years + 1
        for label, period in (
            (f"one year ({LAST_YEAR})", year_period(LAST_YEAR)),
            (f"the {years}-year term", term_of_office(first_year, LAST_YEAR)),
        ):

            async def grouped(period: ReportPeriod = period) -> DistrictRollup:
                async with db() as session:
                    return await district_rollup(
                        session,
                        district=district.name,
                        schools=found,
                        period=period,
                        zone=ZONE,
                        answer_days=ANSWER_DAYS,
                    )

            async def one_school(period: ReportPeriod = period) -> DistrictRollup:
                async with db() as session:
                    return await district_rollup(
                        session,
                        district=district.name,
                        schools=found[:1],
                        period=period,
                        zone=ZONE,
                        answer_days=ANSWER_DAYS,
                    )

            async def each_gather(period: ReportPeriod = period) -> list[SchoolRollup]:
                rows = []
                async with db() as session:
                    for school in found:
                        figures = await gather(
                            session,
                            org_id=school.id or 0,
                            period=period,
                            zone=ZONE,
                            organization=school.name,
                            answer_days=ANSWER_DAYS,
                        )
                        rows.append(_from_gather(figures, school))
                return rows

            first, median, rollup = await _timed(RUNS, grouped)
            _, alone, _ = await _timed(RUNS, one_school)
            _, baseline, rows = await _timed(RUNS, each_gather)

            async def files(rollup: DistrictRollup = rollup) -> None:
                made_at = datetime.now(ZONE).replace(tzinfo=None)
                await asyncio.to_thread(rollup_workbook, tr, rollup, made=made_at)
                await asyncio.to_thread(rollup_charts, tr, rollup)

            _, drawn, _ = await _timed(RUNS, files)
            print(f"  {label}")
            print(
                f"    roll-up, GROUP BY        first {first * 1000:8.1f} ms  median "
                f"{median * 1000:8.1f} ms"
            )
            print(
                f"    baseline {len(found)} x gather()  median {baseline * 1000:8.1f} ms  "
                f"= {baseline / median:5.1f}x the roll-up"
            )
            print(
                f"    baseline one school      median {alone * 1000:8.1f} ms  "
                f"(the roll-up of {len(found)} = {median / alone:5.1f}x one school)"
            )
            print(f"    workbook + charts        median {drawn * 1000:8.1f} ms")
            differing = _differences(rollup, rows)
            verdict = "yes" if not differing else "NO: " + ", ".join(differing[:5])
            print(f"    same figures as gather() for every school, total = sum: {verdict}")
    finally:
        await engine.dispose()


async def on_postgres(*, schools: int, members: int, years: int) -> None:
    """The run on a database of its own, dropped at the end."""
    admin = POSTGRES_ADMIN
    if not await postgres_answers(admin):
        print("PostgreSQL is not reachable on 127.0.0.1:5432: the PostgreSQL run is skipped.")
        return
    print("PostgreSQL")
    own = str(make_url(admin).set(database=OWN_DATABASE))
    await _admin(admin, f"DROP DATABASE IF EXISTS {OWN_DATABASE}")
    await _admin(admin, f"CREATE DATABASE {OWN_DATABASE}")
    try:
        url = await fresh_database(own, Path(), "rollup")
        await measure(url, schools=schools, members=members, years=years)
    finally:
        await _admin(admin, f"DROP DATABASE IF EXISTS {OWN_DATABASE} WITH (FORCE)")


async def main_async(args: argparse.Namespace) -> None:
    """SQLite in a temporary folder, then PostgreSQL."""
    size = {"schools": args.schools, "members": args.members, "years": args.years}
    if args.only in (None, "sqlite"):
        print("SQLite")
        with tempfile.TemporaryDirectory() as workdir:
            url = await fresh_database(None, Path(workdir), "rollup")
            await measure(url, **size)
    if args.only in (None, "postgres"):
        await on_postgres(**size)


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--schools", type=int, default=50)
    parser.add_argument("--members", type=int, default=1_000, help="members per school")
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
