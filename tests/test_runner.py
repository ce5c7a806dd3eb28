"""The runner's parts: the lease row, the fenced outbox claim, the lease keeper, the SQLite lock
and the migrations of copies started together.

The lease itself is PostgreSQL's (these run in the PG pass); the SQLite lock runs in the SQLite
pass. The two-process takeovers are in tests/test_takeover.py.
"""

from __future__ import annotations

import asyncio
import os
import stat
import time
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import func, text, update
from sqlmodel import col, select

from bot.db import (
    SessionFactory,
    alembic_config,
    create_engine,
    create_session_factory,
    is_sqlite,
)
from bot.lease import LeaseKeeper, hold_sqlite_lock, release_sqlite_lock, sqlite_lock_path
from bot.run_status import RunStatus
from bot.runner import migrate
from bot.settings import SettingsError
from models.lease import LeaseFence, RunLease, acquire, current, release, renew
from models.organizations import ensure_default_organization
from models.outbox import (
    BroadcastKind,
    OutboxMessage,
    OutboxStatus,
    Recipient,
    claim,
    enqueue,
    pending_count,
)
from tests.support.copies import (
    ON_POSTGRES,
    BotCopy,
    ThreadedProxy,
    postgres_database,
    run_once,
    through,
)
from tests.support.e2e_stack import skip_without_emulator
from tests.support.emulator import Adapter, Emulator, bot_environment

postgres_only = pytest.mark.skipif(
    not ON_POSTGRES, reason="the lease lives in PostgreSQL: it runs in the PostgreSQL pass"
)
sqlite_only = pytest.mark.skipif(ON_POSTGRES, reason="the SQLite lock runs in the SQLite pass")


async def _expire(url: str) -> None:
    """The holder let it run out (as if it stopped renewing LEASE_SECONDS ago)."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                update(RunLease).values(expires_at=func.now() - timedelta(seconds=1))
            )
    finally:
        await engine.dispose()


# ---- the lease row ------------------------------------------------------------------------


@postgres_only
async def test_one_holder_until_it_runs_out_then_the_next_with_a_new_epoch(
    clean_database: str,
) -> None:
    engine = create_engine(clean_database)
    db = create_session_factory(engine)
    async with db() as session:
        alpha = await acquire(session, holder="alpha", seconds=15)
        assert alpha == LeaseFence(holder="alpha", epoch=1)
        # Held and not run out: nobody else, not even alpha's own name again, takes it.
        assert await acquire(session, holder="beta", seconds=15) is None
        assert await acquire(session, holder="alpha", seconds=15) is None
        assert await renew(session, fence=alpha, seconds=15)
        view = await current(session)
        assert view is not None and (view.holder, view.epoch, view.live) == ("alpha", 1, True)

    await _expire(clean_database)
    async with db() as session:
        assert await current(session) is not None
        assert (await current(session)).holder is None  # type: ignore[union-attr]
        beta = await acquire(session, holder="beta", seconds=15)
        assert beta == LeaseFence(holder="beta", epoch=2)
        # The old holder cannot renew nor give back what is no longer its.
        assert not await renew(session, fence=alpha, seconds=15)
        assert not await release(session, fence=alpha)
        assert (await current(session)).holder == "beta"  # type: ignore[union-attr]
        # A clean stop frees it at once: the next copy takes it without waiting.
        assert await release(session, fence=beta)
        gamma = await acquire(session, holder="gamma", seconds=15)
        assert gamma == LeaseFence(holder="gamma", epoch=3)
    await engine.dispose()


@postgres_only
async def test_a_lease_that_ran_out_cannot_be_renewed(clean_database: str) -> None:
    engine = create_engine(clean_database)
    db = create_session_factory(engine)
    async with db() as session:
        alpha = await acquire(session, holder="alpha", seconds=15)
        assert alpha is not None
    await _expire(clean_database)
    async with db() as session:
        # Nobody took it yet, but it ran out: alpha stepped down on its own clock already.
        assert not await renew(session, fence=alpha, seconds=15)
    await engine.dispose()


@postgres_only
async def test_copies_asking_at_once_get_one_winner(clean_database: str) -> None:
    engine = create_engine(clean_database)
    db = create_session_factory(engine)

    async def ask(name: str) -> LeaseFence | None:
        async with db() as session:
            return await acquire(session, holder=name, seconds=15)

    won = [fence for fence in await asyncio.gather(*(ask(f"copy{n}") for n in range(8))) if fence]
    await engine.dispose()
    assert len(won) == 1 and won[0].epoch == 1


# ---- fencing: a copy that lost the lease claims nothing -----------------------------------


async def _one_pending_message(db: SessionFactory) -> int:
    async with db() as session:
        org = await ensure_default_organization(session, name="实验中学工会")
        assert org.id is not None
        broadcast = await enqueue(
            session,
            org_id=org.id,
            key="fence:1",
            kind=BroadcastKind.TASK,
            recipients=[Recipient(chat_id=-100123, text="例会")],
            not_before=org.created_at,
            quiet=False,
        )
        assert broadcast is not None
        message_id = (await session.exec(select(OutboxMessage.id))).one()
        assert message_id is not None
        return message_id


@postgres_only
async def test_only_the_lease_holder_claims_an_outbox_message(clean_database: str) -> None:
    engine = create_engine(clean_database)
    db = create_session_factory(engine)
    message_id = await _one_pending_message(db)
    async with db() as session:
        alpha = await acquire(session, holder="alpha", seconds=15)
        assert alpha is not None
    await _expire(clean_database)
    async with db() as session:
        # Ran out (nobody took over yet): alpha may not send any more.
        assert not await claim(session, message_id=message_id, fence=alpha)
        beta = await acquire(session, holder="beta", seconds=15)
        assert beta is not None
        # Taken over: alpha's fence (same name or not, an older epoch) is refused.
        assert not await claim(session, message_id=message_id, fence=alpha)
        stale_same_name = LeaseFence(holder="beta", epoch=beta.epoch - 1)
        assert not await claim(session, message_id=message_id, fence=stale_same_name)
        assert await pending_count(session) == 1
        assert await claim(session, message_id=message_id, fence=beta)
        row = (
            await session.exec(select(OutboxMessage).where(col(OutboxMessage.id) == message_id))
        ).one()
        assert (row.status, row.attempts) == (OutboxStatus.SENDING, 1)
        assert await pending_count(session) == 0
    await engine.dispose()


async def test_without_a_fence_the_claim_is_as_before(clean_database: str) -> None:
    """SQLite (one copy) and the existing callers pass no fence."""
    engine = create_engine(clean_database)
    db = create_session_factory(engine)
    message_id = await _one_pending_message(db)
    async with db() as session:
        assert await claim(session, message_id=message_id)
        assert not await claim(session, message_id=message_id)
    await engine.dispose()


# ---- the keeper: standby, renewals, stepping down ------------------------------------------


@postgres_only
async def test_a_standby_takes_over_at_its_next_look_after_a_clean_release(
    clean_database: str,
) -> None:
    engine = create_engine(clean_database)
    alpha_status, beta_status = RunStatus(instance="alpha"), RunStatus(instance="beta")
    alpha = LeaseKeeper(engine, holder="alpha", seconds=5, status=alpha_status)
    beta = LeaseKeeper(engine, holder="beta", seconds=5, status=beta_status, poll_seconds=0.1)
    await alpha.wait_until_held()
    keeping = asyncio.create_task(alpha.keep())
    waiting = asyncio.create_task(beta.wait_until_held())
    await asyncio.sleep(0.3)
    assert not waiting.done()
    assert beta_status.lease_holder == "alpha"  # the standby shows who is active
    keeping.cancel()
    await alpha.release()
    fence = await asyncio.wait_for(waiting, 5)
    assert fence == LeaseFence(holder="beta", epoch=2)
    assert (alpha_status.lease_holder, beta_status.lease_holder) == (None, "beta")
    await beta.release()
    await engine.dispose()


@postgres_only
async def test_the_active_copy_learns_it_was_taken_over(clean_database: str) -> None:
    engine = create_engine(clean_database)
    status = RunStatus(instance="alpha")
    alpha = LeaseKeeper(engine, holder="alpha", seconds=5, status=status)
    await alpha.wait_until_held()
    keeping = asyncio.create_task(alpha.keep())
    await _expire(clean_database)
    async with create_session_factory(engine)() as session:
        assert await acquire(session, holder="beta", seconds=5) is not None
    assert await asyncio.wait_for(keeping, 5) == "taken over or ran out"
    assert status.lease_holder is None
    await engine.dispose()


@postgres_only
async def test_cut_off_from_the_database_it_steps_down_before_the_lease_runs_out(
    clean_database: str,
) -> None:
    relay = ThreadedProxy(clean_database)
    engine = create_engine(through(clean_database, relay.port))
    direct = create_engine(clean_database)
    status = RunStatus(instance="alpha")
    alpha = LeaseKeeper(engine, holder="alpha", seconds=3, status=status)
    try:
        await alpha.wait_until_held()
        keeping = asyncio.create_task(alpha.keep())
        await asyncio.sleep(1.0)  # a renewal or two went through
        cut = relay.stop()
        why = await asyncio.wait_for(keeping, 10)
        stepped_down = time.monotonic() - cut
        async with create_session_factory(direct)() as session:
            view = await current(session)
        print(f"\nstepped down {stepped_down:.2f} s after the cut (LEASE_SECONDS=3)")
        assert why == "not renewed in time"
        # Stepped down while the row still says alpha: no other copy could have been active yet.
        assert view is not None and view.live and view.holder == "alpha"
    finally:
        relay.close()
        await engine.dispose()
        await direct.dispose()


# ---- migrations of copies started together -------------------------------------------------


@postgres_only
def test_two_copies_starting_together_migrate_one_after_the_other() -> None:
    """Without the advisory lock one of the two fails (tried: a UniqueViolation on the first
    CREATE TABLE, or Alembic's own KeyError)."""
    url = postgres_database("migrate", migrate=False)

    async def both() -> None:
        await asyncio.gather(migrate(url), migrate(url))
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                version = await connection.execute(text("SELECT version_num FROM alembic_version"))
                found = version.scalar_one()
        finally:
            await engine.dispose()
        assert found == ScriptDirectory.from_config(alembic_config(url)).get_current_head()

    started = time.monotonic()
    asyncio.run(both())
    print(f"\ntwo migrations from empty, serialized: {time.monotonic() - started:.1f} s")


# ---- SQLite: one copy only -----------------------------------------------------------------


def test_the_sqlite_lock_is_held_once(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'unionbot.db'}"
    assert sqlite_lock_path(url) == tmp_path / "data" / "unionbot.db.lock"
    first = hold_sqlite_lock(url)
    assert first is not None
    with pytest.raises(SettingsError) as refused:
        hold_sqlite_lock(url)
    assert refused.value.key == "settings.sqlite_in_use"
    release_sqlite_lock(first)
    again = hold_sqlite_lock(url)  # the first copy stopped: the next one starts
    release_sqlite_lock(again)
    assert hold_sqlite_lock("sqlite+aiosqlite:///:memory:") is None


@sqlite_only
def test_the_sqlite_lock_file_is_the_bots_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """0600 whatever the umask (another user who could open it could flock it and keep the bot
    from starting); an older, wider one is narrowed; a relative DATABASE_URL puts it beside
    the database, in the working folder."""
    previous = os.umask(0o022)
    try:
        url = f"sqlite+aiosqlite:///{tmp_path / 'unionbot.db'}"
        held = hold_sqlite_lock(url)
        assert stat.S_IMODE((tmp_path / "unionbot.db.lock").stat().st_mode) == 0o600
        release_sqlite_lock(held)
        (tmp_path / "unionbot.db.lock").chmod(0o644)
        release_sqlite_lock(hold_sqlite_lock(url))
        assert stat.S_IMODE((tmp_path / "unionbot.db.lock").stat().st_mode) == 0o600
        monkeypatch.chdir(tmp_path)
        relative = "sqlite+aiosqlite:///relative.db"
        assert sqlite_lock_path(relative) == Path("relative.db.lock")
        release_sqlite_lock(hold_sqlite_lock(relative))
        assert (tmp_path / "relative.db.lock").exists()
    finally:
        os.umask(previous)


@sqlite_only
def test_a_second_copy_on_sqlite_refuses_with_one_sentence(tmp_path: Path) -> None:
    skip_without_emulator()
    url = f"sqlite+aiosqlite:///{tmp_path / 'unionbot.db'}"
    assert is_sqlite(url)
    emulator = Emulator()
    emulator.start()
    adapter = Adapter(emulator.url)
    adapter.start()
    first_dir, second_dir = tmp_path / "first", tmp_path / "second"
    first_dir.mkdir()
    second_dir.mkdir()
    first = BotCopy(first_dir, bot_environment(adapter, url, first_dir, health_listen="off"))
    try:
        first.start_active(adapter)
        second = run_once(second_dir, bot_environment(adapter, url, second_dir))
        assert second.returncode == 2, second.stderr
        lines = second.stderr.strip().splitlines()
        # The deployment's language first, then English for whoever set up the server.
        assert lines == [
            "机器人没有启动：这个 SQLite 数据库已经有一个机器人副本在运行"
            "（同一令牌的两个副本会互相抢消息）；请先停掉另一个副本，"
            "或者改用 PostgreSQL 来运行主备两个副本（见运维指南）。",
            "The bot did not start: another copy of the bot is already running on this SQLite "
            "database (two copies with one token would fight over the messages); stop the other "
            "copy first, or move to PostgreSQL to run an active and a standby copy (see the "
            "operator's guide).",
        ]
        assert first.alive  # the running copy went on, untouched
    finally:
        first.stop()
        adapter.stop()
        emulator.stop()
