"""How fast the outbox starts requests: an even grid, a sliding window, per-chat spacing.

Telegram counts a bot's messages when they arrive: at most 30 in any second overall, one a second
to a private chat, 20 a minute to a group. The sender only knows when it starts a request, and
the time from start to arrival varies with the load of the machine (an event loop that wakes
late, a process that waits for a CPU). So the starts are kept apart by Telegram's limits plus a
margin for that variation (bench/broadcast.py measures it as "squeeze"):

- the grid: starts follow an even grid of 1/per_second, and the grid keeps its step when a sleep
  wakes late or a batch boundary leaves a short gap, so a busy machine does not cost throughput;
- the window: the k-th start never comes before start[k - 30] + 1 s + margin, measured on the
  actual starts, whatever the grid says;
- catching up after a stall goes at twice the pace at most (half a step between starts), so the
  requests a stall held back leave one after another, never as one burst;
- per chat: a start never comes before the chat's previous start + its spacing + margin;
- a 429 holds every start until its `retry_after` has passed; the grid starts afresh after it.

Every rule is checked at the moment of the start, after each sleep, with no await between the
check and the record: a sleep that wakes late can delay a start, never crowd one.

A stall can also catch requests that have started but not yet left the process (or, in the
benchmark's fake, not yet "arrived"): they leave late, closer to the ones after them. So each
start is watched for `lookback`: a watch that wakes more than STALL_SECONDS late shows that the
process stood still meanwhile, and the starts made within `lookback` before the stall began then
count as made at its end (the stall's beginning is unknown, so every start since `lookback` before
the watched one does), and the window keeps 30 of them apart as Telegram will see them.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

# A gap in the grid shorter than this (the next batch being read, a slow claim) is made up by
# catching up; after a longer idle the grid starts afresh from the first new request.
CATCH_UP_SECONDS = 0.25
# A sleep that wakes this much later than asked means the process stood still meanwhile.
STALL_SECONDS = 0.01


@dataclass(frozen=True)
class Pace:
    """How fast to send."""

    per_second: float = 29.4  # the grid; the window below keeps it under Telegram's 30
    private_chat_interval: float = 1.0
    group_interval: float = 3.0  # 20 a minute
    ceiling: int = 30  # Telegram's: messages in any `window`
    window: float = 1.0
    # Added to the window and to the chat spacings: how much closer together two requests may
    # arrive than they started (measured by bench/broadcast.py, see the README).
    margin: float = 0.02
    # How long a started request may still be inside this process (PTB, the transport; the
    # benchmark's fake takes half its latency to "arrive"): a stall then delays its arrival.
    lookback: float = 0.02
    # Enough concurrent requests to keep the pace over a slow network (29/s at ~1 s latency).
    in_flight: int = 32
    report_over: int = 50  # broadcasts with more recipients report when done

    @property
    def interval(self) -> float:
        """Seconds between two steps of the grid."""
        return 1.0 / self.per_second

    @property
    def window_limit(self) -> int:
        """Starts allowed in any window: Telegram's ceiling, or more for a pace above it (tests)."""
        return max(self.ceiling, math.ceil(self.per_second * self.window))

    def chat_spacing(self, chat_id: int) -> float:
        """Seconds between two starts to one chat (groups have negative ids)."""
        spacing = self.group_interval if chat_id < 0 else self.private_chat_interval
        return spacing + self.margin if spacing > 0 else 0.0


@dataclass
class Pacer:
    """The sender's record of its starts; `wait` grants each request its moment."""

    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    paused_until: float = 0.0
    _next_slot: float = -math.inf
    _starts: deque[float] = field(default_factory=deque)  # the last `window_limit` starts
    _chat_started: dict[int, float] = field(default_factory=dict)
    _watches: set[asyncio.Task[None]] = field(default_factory=set)

    def pause_for(self, seconds: float) -> None:
        """Telegram said 429: no request starts for `seconds` from now."""
        self.paused_until = max(self.paused_until, self.clock() + seconds)

    async def wait(self, pace: Pace, chat_id: int) -> float:
        """Wait until a request to `chat_id` may start; record the start and return it."""
        slot = self._reserve(pace, self.clock())
        while True:
            now = self.clock()
            if slot < self.paused_until:
                # A 429 came while this request waited: its place is on the grid after the pause.
                slot = self._reserve(pace, now)
            earliest = max(slot, self._free_from(pace, chat_id))
            if earliest <= now:
                self._record(pace, chat_id, now)
                return now
            await self.sleep(earliest - now)

    def forget_idle(self, pace: Pace) -> None:
        """Drop chats whose spacing has run out (keeps the per-chat record small)."""
        now = self.clock()
        self._chat_started = {
            chat: started
            for chat, started in self._chat_started.items()
            if started + pace.chat_spacing(chat) > now
        }

    async def _watch(self, pace: Pace, started: float) -> None:
        """Look for a stall while the request started at `started` may still be in the process."""
        await self.sleep(pace.lookback)
        now = self.clock()
        if now - (started + pace.lookback) <= STALL_SECONDS or not self._starts:
            return
        # The stall began after `started` (the process ran then) and ended by now: a request
        # started up to `lookback` before its beginning may have left late.
        cutoff = started - pace.lookback
        for index in range(len(self._starts) - 1, -1, -1):
            if self._starts[index] < cutoff:
                break
            self._starts[index] = max(self._starts[index], now)

    def _reserve(self, pace: Pace, now: float) -> float:
        """This request's step on the grid (taken before any sleep, so each gets its own)."""
        slot = self._next_slot if self._next_slot >= now - CATCH_UP_SECONDS else now
        slot = max(slot, self.paused_until)
        self._next_slot = slot + pace.interval
        return slot

    def _free_from(self, pace: Pace, chat_id: int) -> float:
        """The earliest start the window, the catch-up gap, the chat and a pause allow."""
        earliest = self.paused_until
        limit = pace.window_limit
        if len(self._starts) >= limit:
            earliest = max(earliest, self._starts[-limit] + pace.window + pace.margin)
        if self._starts:
            earliest = max(earliest, self._starts[-1] + pace.interval / 2)
        previous = self._chat_started.get(chat_id)
        if previous is not None:
            earliest = max(earliest, previous + pace.chat_spacing(chat_id))
        return earliest

    def _record(self, pace: Pace, chat_id: int, now: float) -> None:
        self._starts.append(now)
        while len(self._starts) > pace.window_limit:
            self._starts.popleft()
        self._chat_started[chat_id] = now
        if pace.lookback > 0:
            watch = asyncio.get_running_loop().create_task(self._watch(pace, now))
            self._watches.add(watch)  # a reference, so it is not collected half-way
            watch.add_done_callback(self._watches.discard)
