"""The fence outside the database: a copy whose lease time ran out on its own monotonic clock
handles no update and calls Telegram for nothing, even before its step-down has run (a process
frozen past its lease and woken). The two-process version is tests/test_stale_copy.py.
"""

from __future__ import annotations

import pytest
from sqlmodel import select
from telegram.request import RequestData

from bot.db import create_engine, create_session_factory
from bot.health import not_ready_reason
from bot.lease import LeaseKeeper
from bot.run_status import Role, RunStatus
from bot.telegram_request import LeaseLostError, TelegramRequest
from models.lease import RunLease
from models.updates import was_processed
from tests.support.copies import ON_POSTGRES
from tests.support.fake_telegram import TOKEN, FakeTelegram
from tests.support.harness import BotHarness
from tests.support.updates import Person, text

TEACHER = Person(84001, "Wang", "en")


class Clock:
    """A monotonic clock the test moves: a frozen process sees time jump when it wakes."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_past_its_lease_a_copy_handles_no_update_and_sends_nothing(bot: BotHarness) -> None:
    """The update is left for the active copy: not answered, not marked handled; the same
    update is handled normally by a copy that holds the lease."""
    status = bot.app.state.status
    assert status is not None
    update = text(TEACHER, "/help")
    bot.telegram.clear()
    status.holds_lease = lambda: False
    await bot.feed(update)
    assert bot.telegram.calls == []
    async with bot.db() as session:
        assert not await was_processed(session, update_id=update["update_id"])

    status.holds_lease = lambda: True
    await bot.feed(update)
    assert bot.telegram.sent("sendMessage", TEACHER.id)


async def test_the_transport_refuses_every_call_past_the_lease() -> None:
    """getUpdates (it would take updates from the active copy, or confirm ones never handled),
    setWebhook/deleteWebhook and any reply are refused before they leave."""
    fake = FakeTelegram()
    status = RunStatus(instance="alpha")
    wire = TelegramRequest(fake, status)
    status.holds_lease = lambda: False
    for method in ("getUpdates", "setWebhook", "deleteWebhook", "sendMessage"):
        with pytest.raises(LeaseLostError):
            await wire.post(f"https://api.telegram.org/bot{TOKEN}/{method}", RequestData())
    assert fake.calls == []


async def test_readyz_says_lease_lost_before_the_step_down() -> None:
    """Woken past its lease, still marked active: the reverse proxy must not pick it."""
    status = RunStatus(instance="alpha", role=Role.ACTIVE)

    async def database_ok() -> bool:
        return True

    status.database_ok = database_ok
    status.scheduler_running = lambda: True
    assert await not_ready_reason(status) is None
    status.holds_lease = lambda: False
    assert await not_ready_reason(status) == "lease lost"


@pytest.mark.skipif(not ON_POSTGRES, reason="the lease lives in PostgreSQL: the PG pass")
async def test_a_keeper_woken_past_its_lease_steps_down_at_once(clean_database: str) -> None:
    """The clock jumped past LEASE_SECONDS (the process was frozen): holds() is False at once,
    and keep() returns without trying a renewal that could no longer be trusted."""
    engine = create_engine(clean_database)
    clock = Clock()
    status = RunStatus(instance="alpha")
    keeper = LeaseKeeper(engine, holder="alpha", seconds=5, status=status, clock=clock)
    try:
        await keeper.wait_until_held()
        assert keeper.holds()
        clock.now += 4.9  # past the step-down point, not yet past the lease
        assert keeper.holds()
        async with create_session_factory(engine)() as session:
            renewed = (await session.exec(select(RunLease.renewed_at))).one()
        clock.now += 0.2
        assert not keeper.holds()
        assert await keeper.keep() == "not renewed in time"
        async with create_session_factory(engine)() as session:
            assert (await session.exec(select(RunLease.renewed_at))).one() == renewed
        assert status.lease_holder is None
    finally:
        await engine.dispose()
