"""A fake Telegram transport that enforces Telegram's sending limits like the real server.

`FakeTelegram` answers everything at once; this one also refuses `sendMessage` beyond the limits
Telegram documents for bots (30 a second overall, 1 a second to one private chat, 20 a minute to
one group) with HTTP 429 and `parameters.retry_after`, and takes a little time per call like a
real network round trip. It counts accepted sends and 429s and records when each send arrived
and whether it was accepted, so a benchmark can tell how fast it really went and what Telegram
saw.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from telegram.request import RequestData

from tests.support.fake_telegram import FakeTelegram


@dataclass(frozen=True)
class TelegramLimits:
    """What Telegram lets one bot send (https://core.telegram.org/bots/faq)."""

    per_second: int = 30  # sendMessage overall, in any sliding second
    private_chat_interval: float = 1.0  # one message a second to one private chat
    group_per_minute: int = 20  # to one group (negative chat id), in any sliding minute


@dataclass
class LimitedTelegram(FakeTelegram):
    """A recording fake that answers 429 with `retry_after` when a limit is exceeded.

    The limits are checked when the request "reaches the server", half-way through `latency`
    (measured then, on `clock`, like Telegram counts arrivals); only accepted sends count toward
    them. On one machine the arrival is when the event loop resumes the request after that half:
    a loop or a process that is late adds to it, like a network whose delay varies.
    """

    latency: float = 0.030  # seconds per call, round trip
    limits: TelegramLimits = field(default_factory=TelegramLimits)
    clock: Callable[[], float] = time.monotonic
    accepted: int = 0
    refused: int = 0  # 429s answered
    accepted_at: list[float] = field(default_factory=list)  # clock() of each accepted send
    # Every sendMessage that reached the server, accepted or refused: (clock(), chat id).
    arrivals: list[tuple[float, int]] = field(default_factory=list)
    _recent: deque[float] = field(default_factory=deque)
    _last_private: dict[int, float] = field(default_factory=dict)
    _group_recent: dict[int, deque[float]] = field(default_factory=dict)

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = None,
        write_timeout: object = None,
        connect_timeout: object = None,
        pool_timeout: object = None,
    ) -> tuple[int, bytes]:
        """Travel, check the limits, travel back; answer 429 or like `FakeTelegram`."""
        await self._travel()
        if url.rsplit("/", 1)[-1] == "sendMessage":
            params = request_data.parameters if request_data else {}
            chat_id, now = int(str(params.get("chat_id", 0))), self.clock()
            self.arrivals.append((now, chat_id))
            wait = self._admit(chat_id, now)
            if wait > 0:
                self.refused += 1
                await self._travel()
                return 429, _too_many_requests(wait)
        answer = await super().do_request(url, method, request_data)
        await self._travel()
        return answer

    def _admit(self, chat_id: int, now: float) -> float:
        """Record an accepted send and return 0, or return the seconds until it is allowed."""
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        wait = 0.0
        if len(self._recent) >= self.limits.per_second:
            wait = self._recent[0] + 1.0 - now
        group: deque[float] | None = None
        if chat_id < 0:
            group = self._group_recent.setdefault(chat_id, deque())
            while group and now - group[0] >= 60.0:
                group.popleft()
            if len(group) >= self.limits.group_per_minute:
                wait = max(wait, group[0] + 60.0 - now)
        else:
            last = self._last_private.get(chat_id)
            if last is not None and now - last < self.limits.private_chat_interval:
                wait = max(wait, last + self.limits.private_chat_interval - now)
        if wait > 0:
            return wait
        self._recent.append(now)
        if group is not None:
            group.append(now)
        else:
            self._last_private[chat_id] = now
        self.accepted += 1
        self.accepted_at.append(now)
        return 0.0

    async def _travel(self) -> None:
        if self.latency > 0:
            await asyncio.sleep(self.latency / 2)


def _too_many_requests(wait: float) -> bytes:
    """Telegram's 429 body; `retry_after` is whole seconds, at least 1."""
    retry_after = max(1, math.ceil(wait))
    return json.dumps(
        {
            "ok": False,
            "error_code": 429,
            "description": f"Too Many Requests: retry after {retry_after}",
            "parameters": {"retry_after": retry_after},
        }
    ).encode()
