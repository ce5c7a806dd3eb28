"""Broadcast benchmark: one announcement to N members through the outbox sender.

Enqueues one broadcast to N private chats in a fresh SQLite database, then times
`OutboxSender.drain()` until nothing is pending, over a fake transport that enforces Telegram's
limits (30 messages a second overall, 1 a second to one chat, 20 a minute to a group) and answers
429 with `retry_after` when they are exceeded. Prints messages per second against the 30/s
ceiling, the 429s, the most messages that reached the fake Telegram in any one second, and how
late requests arrived after the pacer started them ("lag") and how much closer together 31
consecutive requests arrived than they started ("squeeze": the margin the pacer needs), beside a
naive baseline: the first few hundred of the same messages sent by a plain `send_message` loop,
as fast as it goes. Not a test: nothing is asserted.

`--cpu-hog K` runs K processes that burn CPU beside the whole run (started before, stopped
after), like other jobs on a shared machine. The load average is printed before and after.

    .venv/bin/python -m bench.broadcast                    # 5,000 members at 29.4/s, ~4 minutes
    .venv/bin/python -m bench.broadcast --recipients 500   # a quick run
    .venv/bin/python -m bench.broadcast --recipients 2000 --cpu-hog 2 --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import tempfile
import time
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from pathlib import Path
from zoneinfo import ZoneInfo

from telegram import Bot
from telegram.error import RetryAfter

from bot.db import create_engine, create_session_factory, upgrade_async
from models.base import utcnow
from models.organizations import ensure_default_organization
from models.outbox import BroadcastKind, DeliveryCounts, Recipient, counts, enqueue
from scheduler.outbox import OutboxSender
from scheduler.pacing import Pace, Pacer
from scheduler.quiet import QuietHours
from tests.support.fake_telegram import TOKEN, FakeTelegram
from tests.support.limited_telegram import LimitedTelegram, TelegramLimits

CEILING = TelegramLimits().per_second
FIRST_CHAT_ID = 100_000_000
TEXT = "各位老师：本周五下午三点在学校礼堂召开工会会员大会，请准时参加。"
NAIVE_MESSAGES = 500
NAIVE_SECONDS = 20.0
TARGET = 28.5  # messages a second, with zero 429s


@dataclass
class Run:
    """What one way of sending achieved."""

    name: str
    attempted: int
    delivered: int
    failed: int
    refused: int  # 429s
    wall: float
    arrived_at: list[float] = field(default_factory=list)  # every send Telegram saw, sorted
    lags: list[float] = field(default_factory=list)  # arrival - start, in order of start

    @property
    def rate(self) -> float:
        """Delivered messages per second over the whole run."""
        return self.delivered / self.wall if self.wall else 0.0

    @property
    def ceiling_share(self) -> float:
        """The rate as a percentage of Telegram's 30/s."""
        return 100 * self.rate / CEILING

    def peak_second(self) -> int:
        """Most sends (accepted or refused) that reached Telegram in any one-second window."""
        times = self.arrived_at
        return max(
            (index - bisect_left(times, moment - 1.0) + 1 for index, moment in enumerate(times)),
            default=0,
        )

    def lag_ms(self, share: float) -> float | None:
        """The `share` quantile of start-to-arrival times, in milliseconds."""
        if not self.lags:
            return None
        ordered = sorted(self.lags)
        return 1000 * ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    def squeeze_ms(self) -> float | None:
        """How much closer together CEILING + 1 consecutive starts arrived than they started.

        A request arrives lag[k] after its start; the pacer keeps start[k] - start[k - 30] at
        1 s + margin, so Telegram sees 31 within a second only if lag[k - 30] - lag[k] exceeds
        the margin.
        """
        lags = self.lags
        if len(lags) <= CEILING:
            return None
        return 1000 * max(lags[k - CEILING] - lags[k] for k in range(CEILING, len(lags)))


@dataclass
class RecordingPacer(Pacer):
    """The sender's pacer, also noting when each request to each chat started."""

    starts: list[tuple[float, int]] = field(default_factory=list)

    async def wait(self, pace: Pace, chat_id: int) -> float:
        """Wait like the pacer; remember the start."""
        started = await super().wait(pace, chat_id)
        self.starts.append((started, chat_id))
        return started


def _lags(starts: list[tuple[float, int]], arrivals: list[tuple[float, int]]) -> list[float]:
    """Start-to-arrival time of each request, in order of start (a chat's n-th with its n-th)."""
    arrived: dict[int, list[float]] = defaultdict(list)
    for moment, chat in arrivals:
        arrived[chat].append(moment)
    taken: dict[int, int] = defaultdict(int)
    lags = []
    for started, chat in sorted(starts):
        index = taken[chat]
        taken[chat] += 1
        if index < len(arrived[chat]):
            lags.append(arrived[chat][index] - started)
    return lags


def _recipients(count: int) -> list[Recipient]:
    return [Recipient(chat_id=FIRST_CHAT_ID + index, text=TEXT) for index in range(count)]


async def _bot(telegram: LimitedTelegram) -> Bot:
    bot = Bot(TOKEN, request=telegram, get_updates_request=FakeTelegram())
    await bot.initialize()  # getMe, answered by the fake
    return bot


async def run_sender(count: int, pace: Pace, latency: float, workdir: Path) -> Run:
    """The outbox sender on SQLite, from enqueue to nothing pending."""
    url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    await upgrade_async(url)
    engine = create_engine(url)
    db = create_session_factory(engine)
    async with db() as session:
        org = await ensure_default_organization(session, name="实验中学工会")
        assert org.id is not None
        broadcast = await enqueue(
            session,
            org_id=org.id,
            key="bench:announcement",
            kind=BroadcastKind.ANNOUNCEMENT,
            recipients=_recipients(count),
            not_before=utcnow(),
            quiet=True,  # like a real announcement; the quiet window below is empty
        )
    assert broadcast is not None and broadcast.id is not None
    telegram = LimitedTelegram(latency=latency)
    bot = await _bot(telegram)
    pacer = RecordingPacer()
    sender = OutboxSender(
        db=db,
        bot=bot,
        quiet=QuietHours.parse("00:00-00:00", ZoneInfo("Asia/Shanghai")),
        pace=pace,
        pacer=pacer,
    )
    try:
        started = time.perf_counter()
        while True:
            result = await sender.drain()
            async with db() as session:
                figures = await counts(session, broadcast_id=broadcast.id)
            if not figures.waiting:
                break
            if not result.sent:
                await asyncio.sleep(0.1)  # the rest waits out a retry_after
        wall = time.perf_counter() - started
    finally:
        await bot.shutdown()
        await engine.dispose()
    run = _sender_run(f"outbox sender @ {pace.per_second:g}/s", figures, telegram, wall)
    run.lags = _lags(pacer.starts, telegram.arrivals)
    return run


def _sender_run(name: str, figures: DeliveryCounts, telegram: LimitedTelegram, wall: float) -> Run:
    return Run(
        name=name,
        attempted=figures.total,
        delivered=figures.sent,
        failed=figures.failed + figures.unreachable + figures.uncertain,
        refused=telegram.refused,
        wall=wall,
        arrived_at=sorted(moment for moment, _ in telegram.arrivals),
    )


async def run_naive(count: int, latency: float) -> Run:
    """`send_message` for each recipient in turn, no pacing; a 429 loses that message."""
    telegram = LimitedTelegram(latency=latency)
    bot = await _bot(telegram)
    attempted = 0
    try:
        started = time.perf_counter()
        for recipient in _recipients(count):
            if attempted >= NAIVE_MESSAGES or time.perf_counter() - started >= NAIVE_SECONDS:
                break
            attempted += 1
            # A 429 is counted by the transport; a naive loop just moves on.
            with contextlib.suppress(RetryAfter):
                await bot.send_message(recipient.chat_id, recipient.text)
        wall = time.perf_counter() - started
    finally:
        await bot.shutdown()
    return Run(
        name="naive send loop",
        attempted=attempted,
        delivered=telegram.accepted,
        failed=attempted - telegram.accepted,
        refused=telegram.refused,
        wall=wall,
        arrived_at=sorted(moment for moment, _ in telegram.arrivals),
    )


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _table(runs: list[Run]) -> str:
    header = (
        f"{'':<24} {'sent to':>7} {'delivered':>9} {'lost':>5} {'429s':>5} {'time s':>7} "
        f"{'msg/s':>6} {'of 30/s':>7} {'peak 1s':>7} {'lag p50':>7} {'lag p99':>7} "
        f"{'lag max':>7} {'squeeze':>7}"
    )
    lines = [header, "-" * len(header)]
    for run in runs:
        lines.append(
            f"{run.name:<24} {run.attempted:>7} {run.delivered:>9} {run.failed:>5} "
            f"{run.refused:>5} {run.wall:>7.1f} {run.rate:>6.2f} {run.ceiling_share:>6.1f}% "
            f"{run.peak_second():>7} {_ms(run.lag_ms(0.5)):>7} {_ms(run.lag_ms(0.99)):>7} "
            f"{_ms(run.lag_ms(1.0)):>7} {_ms(run.squeeze_ms()):>7}"
        )
    return "\n".join(lines)


def _burn() -> None:
    """Use one CPU until terminated."""
    while True:
        sum(range(10_000))


@contextlib.contextmanager
def cpu_hogs(count: int) -> Iterator[None]:
    """`count` processes burning CPU beside what runs inside the block."""
    hogs: list[BaseProcess] = [
        multiprocessing.get_context("spawn").Process(target=_burn, daemon=True)
        for _ in range(count)
    ]
    for hog in hogs:
        hog.start()
    try:
        yield
    finally:
        for hog in hogs:
            hog.terminate()
        for hog in hogs:
            hog.join()


def _load() -> str:
    return "load average " + ", ".join(f"{value:.2f}" for value in os.getloadavg())


async def main_async(count: int, pace: Pace, latency: float, runs: int) -> None:
    """Run the sender (`runs` times) and the naive baseline, print the comparison."""
    print(
        f"{count} recipients, pace {pace.per_second:g}/s (interval {1000 * pace.interval:.1f} ms,"
        f" at most {pace.ceiling} starts in {pace.window:g} s + {1000 * pace.margin:.0f} ms, "
        f"{pace.in_flight} in flight), transport latency {latency * 1000:.0f} ms, "
        f"Telegram ceiling {CEILING}/s"
    )
    results = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as workdir:
            results.append(await run_sender(count, pace, latency, Path(workdir)))
    naive = await run_naive(count, latency)
    print(_table([*results, naive]))
    met = sum(run.rate >= TARGET and run.refused == 0 for run in results)
    print(
        f"target (>= {TARGET:g}/s, {100 * TARGET / CEILING:.0f}% of {CEILING}/s, with zero 429s): "
        f"met in {met} of {len(results)} runs; the naive loop sent {naive.attempted} messages "
        f"(capped at {NAIVE_MESSAGES} or {NAIVE_SECONDS:.0f} s) and lost {naive.failed} to 429s"
    )


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--recipients", type=int, default=5000)
    parser.add_argument(
        "--rate", type=float, default=Pace().per_second, help="the sender's grid, messages/s"
    )
    parser.add_argument(
        "--margin-ms", type=float, default=1000 * Pace().margin, help="the pacer's margin"
    )
    parser.add_argument(
        "--lookback-ms", type=float, default=1000 * Pace().lookback, help="0: no stall watch"
    )
    parser.add_argument("--latency-ms", type=float, default=30.0, help="per Bot API call")
    parser.add_argument("--runs", type=int, default=1, help="sender runs (one baseline)")
    parser.add_argument(
        "--cpu-hog", type=int, default=0, metavar="K", help="processes burning CPU beside it"
    )
    args = parser.parse_args()
    pace = Pace(
        per_second=args.rate, margin=args.margin_ms / 1000, lookback=args.lookback_ms / 1000
    )
    print(f"cpu hogs: {args.cpu_hog}; before: {_load()}")
    with cpu_hogs(args.cpu_hog):
        asyncio.run(main_async(args.recipients, pace, args.latency_ms / 1000, args.runs))
    print(f"after: {_load()}")


if __name__ == "__main__":
    main()
