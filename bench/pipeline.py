"""Pipeline benchmark: a realistic mix of updates through the real application, beside two floors.

One run prints three columns over the same number of updates, each fed one at a time over the
recording fake transport (which answers at once):

- echo floor: a bare PTB application that echoes plain text, what the framework itself costs;
- mix-replay floor: a bare PTB application that, for each update of the mix, makes exactly the
  Bot API calls our handlers made for it (recorded in the Union Desk run, replayed in order
  through the same fake and `Bot._post`), with no database and no logic: what the same mix of
  updates and replies costs at the least;
- union desk: the application built by `bot.app.build_application`, on SQLite (a temporary
  file) or the PostgreSQL database given with `--database-url` (it is emptied).

The mix: members opening menus, help and profiles, switching language, typing free text, a
committee member listing join requests, strangers registering in eight steps. Then, per update
kind and on average over the mix, what the Union Desk run did:

- SQL statements: SQLAlchemy's `before_cursor_execute` event, listened to on the Engine class
  (every engine of the process, so also a store with its own engine). An `executemany` is one
  statement; BEGIN, COMMIT and ROLLBACK are not statements (they are round trips, below).
- database round trips, counted at the driver. aiosqlite runs each connection in its own
  thread and every operation (cursor, execute, fetch, close, commit, rollback) is one
  `Connection._execute`, a hop to that thread and back: we count calls of it. asyncpg: each
  call of `Connection.execute`/`executemany`/`prepare`/`fetch`/`fetchrow`/`fetchval`,
  `PreparedStatement.fetch`/`fetchrow`/`fetchval`/`executemany` and `Cursor.fetch` is one
  request and its answer from the server; SQLAlchemy's adapter issues BEGIN/COMMIT/ROLLBACK
  and the pool's pre-ping through these, and a statement it has not prepared on that
  connection yet costs a `prepare` as well. Type introspection when a connection first meets
  a type and opening connections are not counted. Both are counted for everything that runs
  while one update is processed (updates go one at a time), background work included.

Nothing is asserted: on a shared machine wall-clock figures move, the ratios of one run less.

    make bench            # or: .venv/bin/python -m bench.pipeline --updates 2000
    .venv/bin/python -m bench.pipeline --database-url postgresql+asyncpg://USER@HOST/DB
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg
import asyncpg.cursor
import asyncpg.prepared_stmt
from sqlalchemy import event
from sqlalchemy.engine import Engine
from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bench.rush import fresh_database
from handlers.members.buttons import (
    LanguageChoice,
    RegistrationBirthday,
    RegistrationConfirm,
    RegistrationGender,
    RegistrationLanguage,
    RegistrationRetired,
)
from handlers.menu.buttons import MenuButton
from models.members import Role
from models.organizations import bind_committee_chat
from tests.support.factories import make_member
from tests.support.fake_telegram import TOKEN, FakeTelegram
from tests.support.harness import COMMITTEE_GROUP_ID, BotHarness, make_settings, running_bot
from tests.support.updates import Person, button, text

Kinded = tuple[str, dict[str, Any]]  # (update kind, update JSON)
Recorded = list[tuple[str, dict[str, Any]]]  # the Bot API calls made for one update
MESSAGE_METHODS = frozenset({"sendMessage", "editMessageText", "sendPhoto", "sendDocument"})


@dataclass
class Result:
    """Latencies of one run."""

    name: str
    latencies: list[float]
    wall: float
    api_calls: int = 0

    @property
    def rate(self) -> float:
        """Updates per second over the whole run."""
        return len(self.latencies) / self.wall

    def percentile(self, fraction: float) -> float:
        """Latency at this fraction, in milliseconds."""
        return _percentile(self.latencies, fraction) * 1000


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@dataclass
class Counts:
    """SQL statements and database round trips, as the driver hooks count them."""

    statements: int = 0
    round_trips: int = 0


@dataclass
class KindFigures:
    """What the updates of one kind cost in the Union Desk run."""

    updates: int = 0
    statements: int = 0
    round_trips: int = 0
    api_calls: int = 0
    latencies: list[float] = field(default_factory=list)


@contextmanager
def counting(counts: Counts) -> Iterator[None]:
    """Count statements (SQLAlchemy) and round trips (aiosqlite, asyncpg) while inside."""

    def statement(*_args: Any) -> None:
        counts.statements += 1

    patched: list[tuple[Any, str, Any]] = []

    def wrap(owner: Any, name: str) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        async def counted(*args: Any, **kwargs: Any) -> Any:
            counts.round_trips += 1
            return await original(*args, **kwargs)

        patched.append((owner, name, original))
        setattr(owner, name, counted)

    wrap(aiosqlite.Connection, "_execute")
    for name in ("execute", "executemany", "prepare", "fetch", "fetchrow", "fetchval"):
        wrap(asyncpg.Connection, name)
    for name in ("fetch", "fetchrow", "fetchval", "executemany"):
        wrap(asyncpg.prepared_stmt.PreparedStatement, name)
    wrap(asyncpg.cursor.Cursor, "fetch")
    event.listen(Engine, "before_cursor_execute", statement)
    try:
        yield
    finally:
        event.remove(Engine, "before_cursor_execute", statement)
        for owner, name, original in reversed(patched):
            setattr(owner, name, original)


def _mix(members: list[Person], committee: Person, count: int) -> list[Kinded]:
    """The realistic mix: mostly members using menus, some strangers joining."""
    updates: list[Kinded] = []
    stranger_id = 900_000
    step = 0
    while len(updates) < count:
        member = members[step % len(members)]
        kind = step % 10
        if kind in (0, 1):
            updates.append(("/menu", text(member, "/menu")))
        elif kind == 2:
            updates.append(("menu:me", button(member, MenuButton("me").pack())))
        elif kind == 3:
            updates.append(("/help", text(member, "/help")))
        elif kind == 4:
            updates.append(("free text", text(member, "你好，请问怎么报名？")))
        elif kind == 5:
            updates.append(("lang:set", button(member, LanguageChoice("zhs").pack())))
        elif kind == 6:
            updates.append(("/joins", text(committee, "/joins")))
        else:
            stranger = Person(stranger_id, "新老师")
            stranger_id += 1
            updates.extend(
                [
                    ("reg:/start", text(stranger, "/start")),
                    ("reg:language", button(stranger, RegistrationLanguage("zhs").pack())),
                    ("reg:name", text(stranger, "新老师")),
                    ("reg:department", text(stranger, "数学组")),
                    ("reg:gender", button(stranger, RegistrationGender("skip").pack())),
                    ("reg:birthday", button(stranger, RegistrationBirthday("skip").pack())),
                    ("reg:retired", button(stranger, RegistrationRetired("no").pack())),
                    ("reg:confirm", button(stranger, RegistrationConfirm("yes").pack())),
                ]
            )
        step += 1
    return updates[:count]


async def _seed(harness: BotHarness) -> tuple[list[Person], Person]:
    async with harness.db() as session:
        await bind_committee_chat(session, org_id=harness.org_id, chat_id=COMMITTEE_GROUP_ID)
    committee = Person(500, "刘委员")
    await make_member(harness.db, org_id=harness.org_id, person=committee, roles=[Role.COMMITTEE])
    members = [Person(10_000 + index, f"老师{index}") for index in range(50)]
    for person in members:
        await make_member(harness.db, org_id=harness.org_id, person=person, name=person.first_name)
    return members, committee


@dataclass
class UnionRun:
    """The Union Desk run: its timing, the mix it was fed, the calls it made per update, and
    its costs per update kind."""

    result: Result
    mix: list[Kinded]
    recorded: list[Recorded]
    kinds: dict[str, KindFigures]


async def run_union_desk(count: int, workdir: Path, database_url: str | None) -> UnionRun:
    """The real application, fed the mix one update at a time, recording what it sent."""
    url = await fresh_database(database_url, workdir, "pipeline")
    settings = make_settings(url, workdir)
    async with running_bot(settings) as harness:
        members, committee = await _seed(harness)
        mix = _mix(members, committee, count)
        calls = harness.telegram.calls
        recorded: list[Recorded] = []
        kinds: dict[str, KindFigures] = defaultdict(KindFigures)
        counts = Counts()
        latencies: list[float] = []
        with counting(counts):
            started = time.perf_counter()
            for kind, data in mix:
                sent_before, statements, trips = len(calls), counts.statements, counts.round_trips
                before = time.perf_counter()
                await harness.app.process_update(Update.de_json(data, harness.app.bot))
                latency = time.perf_counter() - before
                latencies.append(latency)
                made = [(call.method, call.params) for call in calls[sent_before:]]
                recorded.append(made)
                figures = kinds[kind]
                figures.updates += 1
                figures.statements += counts.statements - statements
                figures.round_trips += counts.round_trips - trips
                figures.api_calls += len(made)
                figures.latencies.append(latency)
            wall = time.perf_counter() - started
        result = Result("union desk", latencies, wall, sum(len(made) for made in recorded))
        return UnionRun(result, mix, recorded, dict(kinds))


async def _bare(
    name: str,
    handler: Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]],
    updates: list[dict[str, Any]],
    *,
    text_only: bool = False,
) -> Result:
    """Feed `updates` one at a time to a bare PTB application with one handler."""
    telegram = FakeTelegram()
    application: Application[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder().token(TOKEN).request(telegram).build()
    )
    application.add_handler(
        MessageHandler(filters.TEXT, handler) if text_only else TypeHandler(Update, handler)
    )
    await application.initialize()
    sent_before = len(telegram.calls)  # getMe
    latencies = []
    try:
        started = time.perf_counter()
        for data in updates:
            before = time.perf_counter()
            await application.process_update(Update.de_json(data, application.bot))
            latencies.append(time.perf_counter() - before)
        wall = time.perf_counter() - started
    finally:
        await application.shutdown()
    return Result(name, latencies, wall, len(telegram.calls) - sent_before)


async def run_echo_floor(count: int) -> Result:
    """A bare PTB application that echoes text: what the framework itself costs."""

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None and update.effective_message is not None
        await context.bot.send_message(
            update.effective_chat.id, update.effective_message.text or ""
        )

    person = Person(1, "echo")
    updates = [text(person, f"message {index}") for index in range(count)]
    return await _bare("echo floor", echo, updates, text_only=True)


async def run_replay_floor(mix: list[Kinded], recorded: list[Recorded]) -> Result:
    """A bare PTB application making, for each update, the calls Union Desk made for it."""
    pending = iter(recorded)

    async def replay(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        for method, params in next(pending):
            try:
                # Bot._post: what every Bot method goes through (defaults, request, JSON);
                # do_api_request would warn for a method Bot has, on every call.
                result = await context.bot._post(method, api_kwargs=dict(params))
            except TelegramError:
                continue  # Telegram refused it in the recorded run too
            if method in MESSAGE_METHODS and isinstance(result, dict):
                Message.de_json(result, context.bot)

    return await _bare("mix-replay floor", replay, [data for _, data in mix])


def _report(
    echo: Result, replay: Result, union: Result, kinds: dict[str, KindFigures], driver: str
) -> list[str]:
    columns = (echo, replay, union)
    lines = [
        f"{'':<26}" + "".join(f"{result.name:>18}" for result in columns),
        f"{'updates':<26}" + "".join(f"{len(r.latencies):>18}" for r in columns),
        f"{'Bot API calls':<26}" + "".join(f"{r.api_calls:>18}" for r in columns),
        f"{'updates/s':<26}" + "".join(f"{r.rate:>18.1f}" for r in columns),
        f"{'p50 ms':<26}" + "".join(f"{r.percentile(0.5):>18.2f}" for r in columns),
        f"{'p99 ms':<26}" + "".join(f"{r.percentile(0.99):>18.2f}" for r in columns),
        "",
        f"union desk / mix-replay floor: {union.rate / replay.rate:6.1%} of the throughput, "
        f"p50 {union.percentile(0.5) / replay.percentile(0.5):.1f}x",
        f"union desk / echo floor:       {union.rate / echo.rate:6.1%} of the throughput, "
        f"p50 {union.percentile(0.5) / echo.percentile(0.5):.1f}x",
        f"mix-replay floor / echo floor: {replay.rate / echo.rate:6.1%} of the throughput",
        "",
        f"per update kind (union desk; round trips = {driver})",
        f"{'kind':<16}{'updates':>8}{'statements':>12}{'round trips':>13}"
        f"{'API calls':>11}{'p50 ms':>9}{'p99 ms':>9}",
    ]
    total = KindFigures()
    for figures in kinds.values():
        total.updates += figures.updates
        total.statements += figures.statements
        total.round_trips += figures.round_trips
        total.api_calls += figures.api_calls
        total.latencies.extend(figures.latencies)
    for kind, figures in [*kinds.items(), ("all (mean)", total)]:
        n = figures.updates
        lines.append(
            f"{kind:<16}{n:>8}{figures.statements / n:>12.2f}{figures.round_trips / n:>13.2f}"
            f"{figures.api_calls / n:>11.2f}{_percentile(figures.latencies, 0.5) * 1000:>9.2f}"
            f"{_percentile(figures.latencies, 0.99) * 1000:>9.2f}"
        )
    return lines


async def main_async(count: int, database_url: str | None) -> None:
    """Run the three and print the comparison."""
    with tempfile.TemporaryDirectory() as workdir:
        union = await run_union_desk(count, Path(workdir), database_url)
    replay = await run_replay_floor(union.mix, union.recorded)
    echo = await run_echo_floor(count)
    database = "PostgreSQL" if database_url else "SQLite"
    driver = "asyncpg requests" if database_url else "aiosqlite thread hops"
    print(
        f"Pipeline: {count} updates of the mix, one at a time, {database}; "
        "the fake Telegram answers at once"
    )
    print("\n".join(_report(echo, replay, union.result, union.kinds, driver)))


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL database to empty and use (default: a temporary SQLite file)",
    )
    args = parser.parse_args()
    asyncio.run(main_async(args.updates, args.database_url))


if __name__ == "__main__":
    main()
