"""The outbox's pacer on a virtual clock: sleeps that wake late and stalls of the whole process
never let Telegram see more than 30 messages in a second, a 429 holds every start, one chat's
messages stay apart, and the grid keeps its pace.

Time is a `VirtualTime`: the pacer's clock and sleep, and the "network" a started request crosses
before Telegram counts it. Each step wakes every sleeper that is due, late by a random amount or
by a stall (the process stood still), all at the same moment, like an event loop that resumes
after a pause. Nothing here reads the wall clock.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from telegram import Bot

from models.outbox import OutboxStatus
from scheduler.outbox import OutboxSender
from scheduler.pacing import Pace, Pacer
from tests.support.fake_telegram import TOKEN, Failure, FakeTelegram
from tests.support.harness import COMMITTEE_GROUP_ID, BotHarness
from tests.test_outbox import MORNING, QUIET, Clock, chats, put, statuses

TELEGRAM_PER_SECOND = 30
PATH = 0.016  # from the start of a request to its arrival at Telegram, when nothing stalls
PACE = Pace()  # the production defaults


@dataclass
class VirtualTime:
    """A monotonic clock and a sleep that only move when `step` moves them."""

    lateness: Callable[[], float] = lambda: 0.0
    now: float = 1000.0
    _sleepers: list[tuple[float, int, asyncio.Future[None]]] = field(default_factory=list)
    _order: itertools.count[int] = field(default_factory=itertools.count)

    def clock(self) -> float:
        """The virtual now."""
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Wait until `step` reaches now + seconds (or later)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(seconds, 0.0), next(self._order), future))
        await future

    async def step(self) -> bool:
        """Let ready tasks run, then wake everyone due at the next wake time plus a lateness."""
        for _ in range(20):
            await asyncio.sleep(0)
        if not self._sleepers:
            return False
        self.now = max(self.now, self._sleepers[0][0]) + self.lateness()
        while self._sleepers and self._sleepers[0][0] <= self.now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)
        return True


def busy_machine(seed: int, *, stalls: bool = True) -> Callable[[], float]:
    """Wakes a little late as a rule, often 5-30 ms late, now and then a stall of 0.05-1.5 s."""
    rng = random.Random(seed)

    def lateness() -> float:
        roll = rng.random()
        if roll < 0.02 and stalls:
            return rng.uniform(0.05, 1.5)
        if roll < 0.2:
            return rng.uniform(0.005, 0.03)
        return rng.uniform(0.0, 0.002)

    return lateness


@dataclass
class Traffic:
    """Requests through the pacer, each crossing PATH of virtual network to Telegram."""

    time: VirtualTime
    pace: Pace = PACE
    pacer: Pacer = field(init=False)
    starts: list[float] = field(default_factory=list)
    arrivals: list[tuple[float, int]] = field(default_factory=list)  # (moment, chat id)
    started_to: dict[int, list[float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.pacer = Pacer(clock=self.time.clock, sleep=self.time.sleep)

    async def request(self, chat_id: int) -> None:
        """Wait for the pacer, then travel to Telegram (late if the process stalls meanwhile)."""
        started = await self.pacer.wait(self.pace, chat_id)
        self.starts.append(started)
        self.started_to.setdefault(chat_id, []).append(started)
        await self.time.sleep(PATH)
        self.arrivals.append((self.time.now, chat_id))

    async def send(self, chat_ids: list[int], in_flight: int = 32) -> None:
        """Send to each chat with `in_flight` requests at a time; step time until all are done."""
        queue = list(reversed(chat_ids))

        async def worker() -> None:
            while queue:
                await self.request(queue.pop())

        workers = [asyncio.create_task(worker()) for _ in range(in_flight)]
        while not all(task.done() for task in workers):
            await self.time.step()
        await asyncio.gather(*workers)

    def arrival_times(self) -> list[float]:
        """When requests reached Telegram, in order."""
        return sorted(moment for moment, _ in self.arrivals)


def most_in_one_second(moments: list[float]) -> int:
    """Most moments in any window [t - 1 s, t] (Telegram's count)."""
    return max(
        (k - bisect_left(moments, moment - 1.0) + 1 for k, moment in enumerate(moments)),
        default=0,
    )


def most_in_a_window(starts: list[float], pace: Pace) -> int:
    """Most starts in any half-open window of `window + margin`."""
    ordered = sorted(starts)
    span = pace.window + pace.margin
    return max(
        (k - bisect_left(ordered, moment - span + 1e-9) + 1 for k, moment in enumerate(ordered)),
        default=0,
    )


def shortest_gap(moments: list[float]) -> float:
    """The shortest time between two neighbouring moments."""
    ordered = sorted(moments)
    return min(later - earlier for earlier, later in itertools.pairwise(ordered))


# ---- the window and the grid ----------------------------------------------------------------


async def test_on_a_quiet_machine_the_grid_keeps_its_pace() -> None:
    traffic = Traffic(VirtualTime())

    await traffic.send(chats(300))

    starts = sorted(traffic.starts)
    assert len(starts) == 300
    rate = (len(starts) - 1) / (starts[-1] - starts[0])
    assert abs(rate - PACE.per_second) < 0.01
    assert shortest_gap(starts) >= PACE.interval - 1e-9
    assert most_in_one_second(traffic.arrival_times()) <= TELEGRAM_PER_SECOND


async def test_late_wakes_and_stalls_never_crowd_telegram_s_second() -> None:
    """Thousands of requests on a machine that stalls: never 31 arrivals within one second."""
    for seed in range(5):
        traffic = Traffic(VirtualTime(lateness=busy_machine(seed)))

        await traffic.send(chats(1500))

        assert len(traffic.arrivals) == 1500
        assert most_in_one_second(traffic.arrival_times()) <= TELEGRAM_PER_SECOND, seed
        assert most_in_a_window(traffic.starts, PACE) <= PACE.ceiling, seed
        # A stall does not turn into a burst: the requests it held back leave at most at twice
        # the pace.
        assert shortest_gap(traffic.starts) >= PACE.interval / 2 - 1e-9, seed


async def test_a_stall_while_a_request_is_on_its_way_delays_the_thirty_after_it() -> None:
    """The request caught by the stall arrives late; the 30th after it waits for that."""
    stalled = False

    def one_stall() -> float:
        nonlocal stalled
        # The first wake after the 40th start: the process stands still for 0.3 s.
        if len(traffic.starts) == 40 and not stalled:
            stalled = True
            return 0.3
        return 0.0

    traffic = Traffic(VirtualTime(lateness=one_stall))

    await traffic.send(chats(200))

    assert stalled
    caught = traffic.starts[39]  # on its way when the stall began
    arrived = {chat: moment for moment, chat in traffic.arrivals}[chats(40)[-1]]
    assert arrived - caught >= 0.3
    after = sorted(traffic.starts)
    thirtieth_after = after[after.index(caught) + PACE.ceiling]
    assert thirtieth_after >= arrived - PATH + PACE.window + PACE.margin - 1e-9
    assert most_in_one_second(traffic.arrival_times()) <= TELEGRAM_PER_SECOND


async def test_a_pace_above_telegram_s_is_still_held_to_its_window() -> None:
    """OUTBOX_PER_SECOND=30 (the most the settings take) is safe: the window holds it."""
    pace = Pace(per_second=30)
    traffic = Traffic(VirtualTime(lateness=busy_machine(7)), pace=pace)

    await traffic.send(chats(600))

    assert most_in_a_window(traffic.starts, pace) <= pace.ceiling
    assert most_in_one_second(traffic.arrival_times()) <= TELEGRAM_PER_SECOND


# ---- a 429 --------------------------------------------------------------------------------


async def test_a_429_holds_every_start_until_retry_after_then_the_grid_starts_afresh() -> None:
    # Late wakes but no stall, so that a burst after the pause would show.
    time = VirtualTime(lateness=busy_machine(3, stalls=False))
    traffic = Traffic(time)
    sending = asyncio.create_task(traffic.send(chats(400)))
    while len(traffic.starts) < 100:
        await time.step()
    paused_at = time.now
    traffic.pacer.pause_for(2.0)  # what the sender does when Telegram answers 429

    await sending

    during = [moment for moment in traffic.starts if paused_at < moment < paused_at + 2.0]
    assert during == []
    after = sorted(moment for moment in traffic.starts if moment >= paused_at + 2.0)
    assert len(after) == 300
    # No catch-up burst for the time the pause took: the first half second after it holds what
    # the grid gives it (plus the request or two that a late wake lets through together).
    first_half_second = [moment for moment in after if moment < after[0] + 0.5]
    assert len(first_half_second) <= 0.5 * PACE.per_second + 2
    assert most_in_one_second(traffic.arrival_times()) <= TELEGRAM_PER_SECOND


# ---- one chat -----------------------------------------------------------------------------


async def test_one_chat_s_messages_stay_apart_even_when_queued_behind_a_pause() -> None:
    """Three messages to one private chat and three to a group among many others."""
    private, group = 4242, COMMITTEE_GROUP_ID
    time = VirtualTime(lateness=busy_machine(11))
    traffic = Traffic(time)
    traffic.pacer.pause_for(1.0)  # everything queues behind a pause, then starts together
    targets = [*chats(60)]
    for position in (5, 6, 30):
        targets.insert(position, private)
        targets.insert(position, group)

    await traffic.send(targets)

    for chat in (private, group):
        starts = traffic.started_to[chat]
        assert len(starts) == 3
        assert shortest_gap(starts) >= PACE.chat_spacing(chat) - 1e-9
    assert PACE.chat_spacing(group) * 20 >= 60.0  # 20 a minute to a group


# ---- the sender on the virtual clock ------------------------------------------------------


@dataclass
class CountingTelegram(FakeTelegram):
    """The recording fake, noting when (virtual time) each sendMessage arrived."""

    time: VirtualTime = field(default_factory=VirtualTime)
    arrived: list[tuple[float, int]] = field(default_factory=list)

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: object = None,
        read_timeout: object = None,
        write_timeout: object = None,
        connect_timeout: object = None,
        pool_timeout: object = None,
    ) -> tuple[int, bytes]:
        """Travel PATH of virtual time, note the arrival, answer like the fake."""
        if url.endswith("/sendMessage"):
            await self.time.sleep(PATH)
            params = getattr(request_data, "parameters", {}) or {}
            self.arrived.append((self.time.now, int(str(params.get("chat_id", 0)))))
        return await super().do_request(url, method, request_data)  # type: ignore[arg-type]


@dataclass
class NotingPacer(Pacer):
    """The pacer, also noting each start and its chat."""

    started: list[tuple[float, int]] = field(default_factory=list)

    async def wait(self, pace: Pace, chat_id: int) -> float:
        """Wait like the pacer; note the start."""
        moment = await super().wait(pace, chat_id)
        self.started.append((moment, chat_id))
        return moment


async def test_the_sender_on_a_stalling_machine_a_429_holds_everything_and_chats_stay_apart(
    bot: BotHarness,
) -> None:
    """The real sender and database; the pacer's clock and the network are virtual."""
    time = VirtualTime(lateness=busy_machine(5))
    telegram = CountingTelegram(time=time)
    telegram.failures.append(
        Failure("sendMessage", 429, "Too Many Requests: retry after 2", retry_after=2)
    )
    transport = Bot(TOKEN, request=telegram, get_updates_request=FakeTelegram())
    await transport.initialize()
    twice = chats(90)[0]
    await put(bot, key="news", to=chats(90))
    await put(bot, key="task", to=[COMMITTEE_GROUP_ID, twice])
    pacer = NotingPacer(clock=time.clock, sleep=time.sleep)
    now = Clock(MORNING)
    sender = OutboxSender(db=bot.db, bot=transport, quiet=QUIET, pace=PACE, pacer=pacer, now=now)
    try:
        for _ in range(10):
            passing = asyncio.create_task(sender.drain())
            while not passing.done():
                if not await time.step():
                    await asyncio.sleep(0.001)  # only the database is working (real I/O)
            await passing
            if not (await statuses(bot))[OutboxStatus.PENDING]:
                break
            # What waits (the 429'd message, the second to one chat) becomes due.
            now.advance(timedelta(seconds=5))
            time.now += 5.0
    finally:
        await transport.shutdown()

    assert await statuses(bot) == Counter({OutboxStatus.SENT: 92})
    refused_chat = telegram.arrived[0][1]
    assert Counter(chat for _, chat in telegram.arrived) == Counter(
        [*chats(90), COMMITTEE_GROUP_ID, twice, refused_chat]
    )
    assert most_in_one_second(sorted(m for m, _ in telegram.arrived)) <= TELEGRAM_PER_SECOND
    paused_from = pacer.paused_until - 2.0
    assert paused_from > 0
    assert not [m for m, _ in pacer.started if paused_from <= m < pacer.paused_until]
    to_twice = [m for m, chat in pacer.started if chat == twice]
    assert len(to_twice) == 2 + (refused_chat == twice)
    assert shortest_gap(to_twice) >= PACE.chat_spacing(twice)
