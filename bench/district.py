"""A district-size run: 50,000 members, one broadcast enqueued to all of them, a rush of 5,000
presses, the forms of 50,000 people flushed, and `/report` on 10 years of data.

Each part prints its figures beside a same-run baseline:

- `enqueue`: one announcement to every member of a 50,000-member union written to the outbox
  (`models.outbox.enqueue`, one transaction), timed, with the longest event-loop stall a probe
  task saw meanwhile (what an update arriving then waits for) beside the loop stall of a bare
  `INSERT ... SELECT` of the same rows, which is the least any enqueue could cost;
- `rush`: bench.rush with 5,000 members pressing Sign up within one second (100 seats) beside
  the bare concurrent PTB floor;
- `flush`: bench.flush at 50,000 people (database store), beside the old pickle file;
- `report`: bench.report's large scale (50,000 members, 10 years), beside reading the rows.

On SQLite by default; `--database-url` runs the database parts on that PostgreSQL database
(emptied: give it one of its own). Not a test: nothing is asserted.

    make bench-district                      # every part on SQLite, then PostgreSQL (~25 min)
    .venv/bin/python -m bench.district --parts enqueue,rush
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import insert, text
from sqlmodel import select

from bench import flush as flush_bench
from bench import report as report_bench
from bench import rush as rush_bench
from bot.app import build_application
from bot.db import SessionFactory
from models.base import utcnow
from models.calendar import CalendarEntry
from models.members import Member, MemberStatus
from models.outbox import BroadcastKind, OutboxMessage, Recipient, enqueue
from scheduler.calendar_jobs import fire
from tests.support.fake_telegram import FakeTelegram
from tests.support.harness import make_settings

POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench_district"
MEMBERS = 50_000
RUSH = 5_000
TEXT = "各位老师：区教育工会定于本周五下午三点召开年度工作会议，请各校工会主席准时参加。"
PARTS = ("enqueue", "rush", "flush", "report")


@dataclass
class Stalls:
    """The longest gap a 1 ms probe saw, minus its own millisecond."""

    longest: float = 0.0


@contextlib.asynccontextmanager
async def probe() -> AsyncIterator[Stalls]:
    """Tick every millisecond and keep the longest late wake-up (the loop was busy)."""
    stalls = Stalls()

    async def tick() -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            stalls.longest = max(stalls.longest, now - last - 0.001)
            last = now

    task = asyncio.create_task(tick())
    await asyncio.sleep(0.002)
    try:
        yield stalls
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _members(db: SessionFactory, org_id: int, count: int) -> list[tuple[int, int]]:
    """`count` active members, written in bulk; their (member id, chat id)."""
    async with db() as session:
        now = utcnow()
        rows = [
            {
                "organization_id": org_id,
                "telegram_user_id": 500_000_000 + index,
                "real_name": f"老师{index}",
                "department": f"第{index % 50}校",
                "status": MemberStatus.ACTIVE.value,
                "language": "zh-Hans",
                "retired": False,
                "mute_greetings": False,
                "created_at": now,
                "updated_at": now,
            }
            for index in range(count)
        ]
        for start in range(0, count, 5_000):
            await session.exec(insert(Member), params=rows[start : start + 5_000])
        await session.commit()
        found = await session.exec(
            select(Member.id, Member.telegram_user_id).where(Member.organization_id == org_id)
        )
        return [(member_id or 0, chat_id or 0) for member_id, chat_id in found.all()]


async def _timed(step: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    """Wall seconds and the longest loop stall while `step` ran."""
    async with probe() as stalls:
        began = time.perf_counter()
        await step()
        wall = time.perf_counter() - began
    return wall, stalls.longest


async def enqueue_part(url: str, workdir: Path) -> None:
    """Teachers' Day to 50,000 members through the calendar's own path (audience, texts,
    enqueue), the enqueue alone, and a bare INSERT ... SELECT of the same rows (the floor)."""
    app = build_application(
        make_settings(url, workdir / "enqueue"),
        request=FakeTelegram(),
        use_default_rate_limiter=False,
    )
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    runtime = app.state.runtime
    assert runtime is not None
    # As bot/runner.py does once the bot has started: start-up objects leave the collector's
    # walk (undone at the end, so the later parts run as they would alone).
    gc.collect()
    gc.freeze()
    db, org_id = app.state.db, app.state.org_id
    try:
        people = await _members(db, org_id, MEMBERS)
        async with db() as session:
            teachers_day = (
                await session.exec(
                    select(CalendarEntry).where(
                        CalendarEntry.organization_id == org_id, CalendarEntry.key == "teachers_day"
                    )
                )
            ).one()

        async def calendar() -> None:
            made = await fire(runtime, teachers_day, date(2027, 9, 10), now=utcnow())
            assert made is not None and made.total == len(people)

        recipients = [
            Recipient(chat_id=chat_id, text=TEXT, member_id=member_id)
            for member_id, chat_id in people
        ]

        async def alone() -> None:
            async with db() as session:
                made = await enqueue(
                    session,
                    org_id=org_id,
                    key="district:bench",
                    kind=BroadcastKind.ANNOUNCEMENT,
                    recipients=recipients,
                    not_before=utcnow(),
                    quiet=True,
                )
                assert made is not None and made.total == len(people)

        async def bare() -> None:
            async with db() as session:
                broadcast_id = (
                    await session.exec(select(OutboxMessage.broadcast_id).limit(1))
                ).one()
                await session.exec(  # type: ignore[call-overload]
                    text(
                        "INSERT INTO outbox_message (broadcast_id, chat_id, member_id, text, "
                        "quiet, status, attempts, not_before) SELECT :b, chat_id + 1000000000, "
                        "member_id, text, quiet, status, attempts, not_before "
                        "FROM outbox_message WHERE broadcast_id = :b"
                    ),
                    params={"b": broadcast_id},
                )
                await session.rollback()

        floor_wall, floor_stall = 0.0, 0.0
        for name, step in (("Teachers' Day (calendar)", calendar), ("enqueue alone", alone)):
            wall, stall = await _timed(step)
            if not floor_wall:
                floor_wall, floor_stall = await _timed(bare)
                print(
                    f"  {'bare INSERT ... SELECT (floor)':<30} wall {floor_wall * 1000:8.0f} ms  "
                    f"loop stall {floor_stall * 1000:7.1f} ms",
                    flush=True,
                )
            print(
                f"  {name:<30} wall {wall * 1000:8.0f} ms  loop stall {stall * 1000:7.1f} ms  "
                f"({len(people):,} messages; {wall / floor_wall:.1f}x the floor's wall)",
                flush=True,
            )
    finally:
        gc.unfreeze()
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)


async def run(parts: list[str], database_url: str | None) -> None:
    """The chosen parts on SQLite, or on the given PostgreSQL database."""
    where = "PostgreSQL" if database_url else "SQLite"
    print(f"== district scale on {where}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-district-") as name:
        workdir = Path(name)
        if "enqueue" in parts:
            url = await rush_bench.fresh_database(database_url, workdir, "enqueue")
            await enqueue_part(url, workdir)
        if "rush" in parts:
            await rush_bench.main_async(RUSH, 100, False, database_url)
        if "flush" in parts:
            stores = ["database"] if database_url else ["pickle", "database"]
            await flush_bench.main_async([MEMBERS], 40, 5, database_url, stores)
        if "report" in parts:
            await report_bench.main_async(
                ["large"],
                database_url,
                sqlite=database_url is None,
                postgres=database_url is not None,
                keep=None,
                reuse=False,
            )


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", default=",".join(PARTS), help="enqueue,rush,flush,report")
    parser.add_argument(
        "--database-url",
        help="run on this PostgreSQL database (emptied) instead of a temporary SQLite file",
    )
    parser.add_argument(
        "--both", action="store_true", help=f"SQLite, then PostgreSQL at {POSTGRES}"
    )
    args = parser.parse_args()
    parts = [part for part in args.parts.split(",") if part]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown parts: {', '.join(unknown)}")
    if args.both:
        asyncio.run(run(parts, None))
        asyncio.run(_with_own_database(parts))
    else:
        asyncio.run(run(parts, args.database_url))


async def _with_own_database(parts: list[str]) -> None:
    """PostgreSQL on a database of its own, created here and dropped after."""
    admin = POSTGRES.rsplit("/", 1)[0] + "/postgres"
    if not await report_bench.postgres_answers(admin):
        print("PostgreSQL is not reachable on 127.0.0.1:5432: the PostgreSQL run is skipped.")
        return
    await report_bench._admin(admin, "DROP DATABASE IF EXISTS bench_district WITH (FORCE)")
    await report_bench._admin(admin, "CREATE DATABASE bench_district")
    try:
        await run(parts, POSTGRES)
    finally:
        await report_bench._admin(admin, "DROP DATABASE IF EXISTS bench_district WITH (FORCE)")


if __name__ == "__main__":
    main()
