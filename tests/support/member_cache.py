"""Waiting on the member cache (bot/actor_cache.py) by its own signals, never by a clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.actor_cache import ActorCache
from tests.support.harness import BotHarness


def cache_of(bot: BotHarness) -> ActorCache:
    """The application's member cache."""
    assert bot.app.state.actors is not None
    return bot.app.state.actors


async def until(cache: ActorCache, condition: Callable[[], bool]) -> None:
    """Wait until `condition` holds, looking again at every drop or change of listening."""
    changed = asyncio.Event()
    cache.watch(changed.set)
    while not condition():
        changed.clear()
        await asyncio.wait_for(changed.wait(), 30)


async def outage_noticed(bot: BotHarness) -> None:
    """PostgreSQL: the change listener found its connection gone, so members are loaded from
    the database again (and fail while it is down) rather than served from memory."""
    cache = cache_of(bot)
    await until(cache, lambda: not cache.serving)
