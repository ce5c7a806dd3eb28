"""One flush of the forms in progress, with N people holding one: what it costs the event loop.

For N = 500, 5,000 and 50,000 people, each in one of the bot's real forms (a conversation state
plus the active-form record and a small draft dict in their user_data), the store is filled
once; then a few dozen people move on a step and ONE round is timed: the application's own
`update_persistence` (PTB's hand-over of what changed plus the store's write), as the periodic
writer runs it every PERSISTENCE_SECONDS. Stores measured:

- `pickle`: PTB's PicklePersistence as SQLite deployments used it before (on_flush=True: the
  whole file rewritten once per round);
- `database`: bot/db_persistence.py on the SQLite file (what SQLite deployments use now), and on
  PostgreSQL when --database-url is given (that database is emptied: give it one of its own).

Three figures per round: `loop` is the CPU time the event loop's thread spent during the round
(time.thread_time: encoding, pickling, SQLAlchemy; the database's own work in aiosqlite's thread
or in the PostgreSQL server is not on the loop), `stall` the longest gap seen by a probe task
ticking every millisecond, minus that millisecond (what another update would have waited for),
and `wall` the round's duration. Medians of --rounds rounds. Not a test: nothing is asserted,
and on a shared machine the figures are noisy; compare within one run.

    make bench-flush     # or: .venv/bin/python -m bench.flush --people 500,5000,50000
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram.ext import BasePersistence, PicklePersistence

from bench.rush import fresh_database
from bot.app import PERSISTENCE_SECONDS, build_application
from bot.application import UnionApplication
from bot.db_persistence import STORED, DatabasePersistence
from bot.forms import ACTIVE
from tests.support.fake_telegram import FakeTelegram
from tests.support.harness import make_settings

FIRST_ID = 10_000_000
BODY = "教学楼三楼东侧的饮水机已经坏了两周，老师们只能去一楼打水，希望尽快维修或者更换。"


@dataclass
class Round:
    """One timed flush round."""

    loop: float
    stall: float
    wall: float


@dataclass
class Result:
    """The figures of one store at one N."""

    store: str
    people: int
    fill: float  # seconds: the first round, writing everyone
    rounds: list[Round]

    def median(self, attribute: str) -> float:
        """The median of one figure over the timed rounds, in milliseconds."""
        return statistics.median(getattr(r, attribute) for r in self.rounds) * 1000


def _draft(user_id: int, step: int) -> dict[str, Any]:
    """A suggestion's draft as handlers keep it: ids, text, a flag, a token."""
    return {
        "category_id": 1 + user_id % 7,
        "body": BODY[: 20 + user_id % 40],
        "anonymous": bool(user_id % 2),
        "photos": [f"AgACAgUAAxkBAAI{user_id:012d}"] if user_id % 5 == 0 else [],
        "client_token": f"{user_id:x}-{step}",
    }


def _fill(app: UnionApplication, people: int) -> list[tuple[str, int]]:
    """Put `people` people into the forms, as the handlers would have; their (form, id)."""
    forms = app.state.forms
    assert forms is not None
    names = sorted(forms.forms)
    conversations = app._conversation_handler_conversations
    placed = []
    for index in range(people):
        user_id = FIRST_ID + index
        name = names[index % len(names)]
        key = (user_id, user_id)  # per chat and user, in the private chat
        conversations[name][key] = 1 + index % 3
        app.user_data[user_id].update(
            {
                ACTIVE: {"name": name, "key": list(key), "chat": user_id, "at": time.time()},
                "suggestion": _draft(user_id, 0),
            }
        )
        placed.append((name, user_id))
    app.mark_data_for_update_persistence(user_ids=[user_id for _, user_id in placed])
    return placed


def _move(app: UnionApplication, placed: list[tuple[str, int]], changed: int, step: int) -> None:
    """`changed` people, spread over everyone, move on a step of their form."""
    every = max(1, len(placed) // changed)
    ids = []
    for name, user_id in placed[step % every :: every][:changed]:
        app._conversation_handler_conversations[name][(user_id, user_id)] = 1 + step % 3
        app.user_data[user_id]["suggestion"] = _draft(user_id, step)
        app.user_data[user_id][ACTIVE]["at"] = time.time()
        ids.append(user_id)
    app.mark_data_for_update_persistence(user_ids=ids)


async def _timed(app: UnionApplication) -> Round:
    """One round of the application's persistence update, timed three ways."""
    stall = 0.0
    stop = asyncio.Event()

    async def probe() -> None:
        nonlocal stall
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            stall = max(stall, now - last - 0.001)
            last = now

    prober = asyncio.create_task(probe())
    await asyncio.sleep(0.005)  # the probe is ticking
    cpu, wall = time.thread_time(), time.perf_counter()
    await app.update_persistence()
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    stop.set()
    await prober
    return Round(loop=cpu, stall=max(stall, 0.0), wall=wall)


def _store(kind: str, app: UnionApplication, folder: Path) -> BasePersistence[Any, Any, Any]:
    if kind == "pickle":
        return PicklePersistence(
            folder / "conversations.pickle",
            store_data=STORED,
            on_flush=True,
            update_interval=PERSISTENCE_SECONDS,
        )
    return DatabasePersistence(app.state.db, update_interval=PERSISTENCE_SECONDS)


async def measure(
    kind: str, url: str, folder: Path, *, people: int, changed: int, rounds: int
) -> Result:
    """Fill the store with `people` forms, then time `rounds` rounds of `changed` changes."""
    settings = make_settings(url, folder)
    app = build_application(settings, request=FakeTelegram(), use_default_rate_limiter=False)
    store = _store(kind, app, folder)
    store.set_bot(app.bot)
    app.persistence = store
    await app.initialize()
    try:
        placed = _fill(app, people)
        started = time.perf_counter()
        await app.update_persistence()
        fill = time.perf_counter() - started
        timed = []
        for step in range(1, rounds + 1):
            _move(app, placed, changed, step)
            timed.append(await _timed(app))
        where = "SQLite" if "sqlite" in url else "PostgreSQL"
        return Result(f"{kind} ({where})", people, fill, timed)
    finally:
        app.persistence = None  # shutdown would flush once more; nothing is left to write
        await app.shutdown()
        await app.state.engine.dispose()


def _line(result: Result) -> str:
    return (
        f"{result.store:<24} {result.people:>7,} "
        f"{result.median('loop'):>9.1f} {result.median('stall'):>9.1f} "
        f"{result.median('wall'):>9.1f} {result.fill:>9.1f}"
    )


async def main_async(
    people: list[int], changed: int, rounds: int, database_url: str | None, stores: list[str]
) -> None:
    """Every store at every N, printed as one table."""
    print(f"{changed} people change per round; median of {rounds} rounds; milliseconds")
    heads = ("people", "loop ms", "stall ms", "wall ms", "fill s")
    print(f"{'store':<24} {heads[0]:>7} " + " ".join(f"{head:>9}" for head in heads[1:]))
    with tempfile.TemporaryDirectory(prefix="bench-flush-") as name:
        workdir = Path(name)
        for count in people:
            plans: list[tuple[str, str | None]] = [(kind, None) for kind in stores]
            if database_url is not None and "database" in stores:
                plans.append(("database", database_url))
            for kind, target in plans:
                folder = workdir / f"{kind}-{count}-{'pg' if target else 'sqlite'}"
                folder.mkdir()
                url = await fresh_database(target, folder, "flush")
                result = await measure(
                    kind, url, folder, people=count, changed=changed, rounds=rounds
                )
                print(_line(result), flush=True)


def main() -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", default="500,5000,50000", help="comma-separated N")
    parser.add_argument("--changed", type=int, default=40, help="people changing per round")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--stores", default="pickle,database", help="pickle, database or both")
    parser.add_argument(
        "--database-url", default=None, help="also the database store on this PostgreSQL (emptied)"
    )
    arguments = parser.parse_args()
    asyncio.run(
        main_async(
            [int(n) for n in arguments.people.split(",")],
            arguments.changed,
            arguments.rounds,
            arguments.database_url,
            arguments.stores.split(","),
        )
    )


if __name__ == "__main__":
    main()
