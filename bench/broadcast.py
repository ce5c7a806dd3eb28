"""Broadcast benchmark: one announcement to N members through the outbox sender.

Enqueues one broadcast to N private chats in a fresh SQLite database, then times
`OutboxSender.drain()` until nothing is pending, over a fake transport that enforces Telegram's
limits (30 messages a second overall, 1 a second to one chat, 20 a minute to a group) and answers
429 with `retry_after` when they are exceeded. Prints messages per second against the 30/s
ceiling, the 429s and the total time, beside a naive baseline: the first few hundred of the same
messages sent by a plain `send_message` loop, as fast as it goes. Not a test: nothing is asserted.

    .venv/bin/python -m bench.broadcast                    # 5,000 members at 28/s, ~3 minutes
    .venv/bin/python -m bench.broadcast --recipients 500   # a quick run
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import statistics
import tempfile
import time
from bisect import bisect_left
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from telegram import Bot
from telegram.error import RetryAfter

from bot.db import create_engine, create_session_factory, upgrade_async
from models.base import utcnow
from models.organizations import ensure_default_organization
from models.outbox import BroadcastKind, DeliveryCounts, Recipient, counts, enqueue
from scheduler.outbox import OutboxSender, Pace
from scheduler.quiet import QuietHours
from tests.support.fake_telegram import TOKEN, FakeTelegram
from tests.support.limited_telegram import LimitedTelegram, TelegramLimits

CEILING = TelegramLimits().per_second
FIRST_CHAT_ID = 100_000_000
TEXT = "各位老师：本周五下午三点在学校礼堂召开工会会员大会，请准时参加。"
NAIVE_MESSAGES = 500
NAIVE_SECONDS = 20.0


@dataclass
class Run:
    """What one way of sending achieved."""

    name: str
    attempted: int
    delivered: int
    failed: int
    refused: int  # 429s
    wall: float
    accepted_at: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Delivered messages per second over the whole run."""
        return self.delivered / self.wall if self.wall else 0.0

    @property
    def ceiling_share(self) -> float:
        """The rate as a percentage of Telegram's 30/s."""
        return 100 * self.rate / CEILING

    def peak_second(self) -> int:
        """Most sends Telegram accepted in any one-second window."""
        times = self.accepted_at
        return max(
            (index - bisect_left(times, moment - 1.0) + 1 for index, moment in enumerate(times)),
            default=0,
        )

    def gaps_ms(self) -> tuple[float, float]:
        """Mean and p99 time between accepted sends, in milliseconds."""
        times = self.accepted_at
        gaps = sorted((later - earlier) * 1000 for earlier, later in itertools.pairwise(times))
        if not gaps:
            return 0.0, 0.0
        return statistics.fmean(gaps), gaps[min(len(gaps) - 1, int(0.99 * len(gaps)))]


def _recipients(count: int) -> list[Recipient]:
    return [Recipient(chat_id=FIRST_CHAT_ID + index, text=TEXT) for index in range(count)]


async def _bot(telegram: LimitedTelegram) -> Bot:
    bot = Bot(TOKEN, request=telegram, get_updates_request=FakeTelegram())
    await bot.initialize()  # getMe, answered by the fake
    return bot


async def run_sender(count: int, rate: float, latency: float, workdir: Path) -> Run:
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
    sender = OutboxSender(
        db=db,
        bot=bot,
        quiet=QuietHours.parse("00:00-00:00", ZoneInfo("Asia/Shanghai")),
        pace=Pace(per_second=rate),
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
    return _sender_run(f"outbox sender @ {rate:g}/s", figures, telegram, wall)


def _sender_run(name: str, figures: DeliveryCounts, telegram: LimitedTelegram, wall: float) -> Run:
    return Run(
        name=name,
        attempted=figures.total,
        delivered=figures.sent,
        failed=figures.failed + figures.unreachable + figures.uncertain,
        refused=telegram.refused,
        wall=wall,
        accepted_at=telegram.accepted_at,
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
        accepted_at=telegram.accepted_at,
    )


def _table(runs: list[Run]) -> str:
    header = (
        f"{'':<24} {'sent to':>7} {'delivered':>9} {'lost':>5} {'429s':>5} {'time s':>8} "
        f"{'msg/s':>6} {'of 30/s':>7} {'peak 1s':>7} {'gap ms':>6} {'p99 gap':>7}"
    )
    lines = [header, "-" * len(header)]
    for run in runs:
        mean_gap, p99_gap = run.gaps_ms()
        lines.append(
            f"{run.name:<24} {run.attempted:>7} {run.delivered:>9} {run.failed:>5} "
            f"{run.refused:>5} {run.wall:>8.1f} {run.rate:>6.1f} {run.ceiling_share:>6.0f}% "
            f"{run.peak_second():>7} {mean_gap:>6.1f} {p99_gap:>7.1f}"
        )
    return "\n".join(lines)


async def main_async(count: int, rate: float, latency: float) -> None:
    """Run the sender and the naive baseline, print the comparison."""
    print(
        f"{count} recipients, pace {rate:g}/s (interval {1000 / rate:.1f} ms, "
        f"{Pace().in_flight} in flight), transport latency {latency * 1000:.0f} ms, "
        f"Telegram ceiling {CEILING}/s"
    )
    with tempfile.TemporaryDirectory() as workdir:
        sender = await run_sender(count, rate, latency, Path(workdir))
    naive = await run_naive(count, latency)
    print(_table([sender, naive]))
    target = 0.9 * CEILING
    verdict = "met" if sender.rate >= target and sender.refused == 0 else "NOT met"
    print(
        f"target (>= {target:.0f}/s, i.e. 90% of {CEILING}/s, with zero 429s): {verdict}; "
        f"the naive loop sent {naive.attempted} messages (capped at {NAIVE_MESSAGES} or "
        f"{NAIVE_SECONDS:.0f} s) and lost {naive.failed} to 429s"
    )


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--recipients", type=int, default=5000)
    parser.add_argument(
        "--rate", type=float, default=Pace().per_second, help="the sender's pace, messages/s"
    )
    parser.add_argument("--latency-ms", type=float, default=30.0, help="per Bot API call")
    args = parser.parse_args()
    asyncio.run(main_async(args.recipients, args.rate, args.latency_ms / 1000))


if __name__ == "__main__":
    main()
