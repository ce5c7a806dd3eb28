"""`unionbot run`: polling or a webhook, one active copy, a standby that takes over.

PTB's `run_polling` starts everything at once; a standby must wait for the lease first, so the
runner does what `run_polling` does itself, in this order:

1. the health server (bot/health.py) and a small engine of the runner's own for the lease and the
   probes (the application's pool may be busy; the lease must not wait behind it);
2. on PostgreSQL the lease (bot/lease.py): a standby waits; on SQLite the lock file was taken
   before the migrations and this copy is the only one;
3. once active: the application (initialize, post_init, the updater, start), polling or, with
   WEBHOOK_URL, the webhook behind the reverse proxy;
4. SIGINT/SIGTERM: a clean stop (handled update ids written, post_shutdown), then the lease is
   given back so a standby takes over at its next look;
5. the lease lost (not renewed in time, e.g. cut off from the database): updates and sending stop
   at once and the process exits with EXIT_LEASE_LOST, so its service manager starts it again,
   as a standby (within LEASE_LOST_EXIT_SECONDS even if the orderly stop hangs).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable
from typing import TypeVar
from urllib.parse import urlsplit

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram.error import InvalidToken, NetworkError

from bot.application import UnionApplication
from bot.db import create_engine, create_session_factory, is_sqlite, upgrade_async
from bot.exit_deadline import exit_by_deadline
from bot.health import start_health_server
from bot.lease import (
    LeaseKeeper,
    database_answers,
    hold_sqlite_lock,
    release_sqlite_lock,
    sqlite_lock_path,
)
from bot.run_status import Role, RunStatus
from bot.settings import Settings, SettingsError
from models.errors import N_
from models.outbox import pending_count
from scheduler.stopping import quiet_cancellations_at_stop

logger = logging.getLogger(__name__)

# The lease was lost: not an error of the code or the settings. Any non-zero status makes
# systemd (Restart=on-failure) start the copy again, and it comes back as a standby.
EXIT_LEASE_LOST = 75  # EX_TEMPFAIL
ALLOWED_UPDATES = ["message", "callback_query", "channel_post", "my_chat_member"]
# pg_advisory_lock key held around the migrations: two copies starting together migrate one
# after the other (the second finds nothing to do). Any constant; every copy uses this one.
MIGRATION_LOCK_KEY = 0x756E696F6E  # "union"
STOP_SECONDS = 2.0  # for each step of stepping down after the lease was lost
# The orderly steps after a lost lease are bounded (about 16 s at worst, usually well under
# one); past this the process ends regardless (bot/exit_deadline.py).
LEASE_LOST_EXIT_SECONDS = 20.0
START_RETRY_SECONDS = 5.0  # Telegram unreachable at start-up: the first wait, doubled up to...
START_RETRY_MAX_SECONDS = 60.0

T = TypeVar("T")


def run(settings: Settings) -> int:
    """`unionbot run`: migrate (one copy at a time), then serve until stopped."""
    settings.require_token()
    # Before anything else on SQLite: a second copy must not even migrate.
    lock = hold_sqlite_lock(settings.database_url)
    try:
        status = migrate_in_child(settings.database_url)
        return status if status != 0 else asyncio.run(serve(settings))
    finally:
        release_sqlite_lock(lock)


def migrate_in_child(url: str) -> int:
    """`unionbot db upgrade` in a child process, so alembic never stays in this one's memory
    (about 12 MB for as long as the bot runs). The child takes the PostgreSQL advisory lock
    itself; it never takes the SQLite lock file, which this process holds and keeps holding.
    The child says what went wrong in one sentence; its status is returned. A database in
    memory is migrated here: a child could not reach it."""
    if is_sqlite(url) and sqlite_lock_path(url) is None:
        asyncio.run(upgrade_async(url))
        return 0
    child = subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade"],
        env={**os.environ, "DATABASE_URL": url},
        stdout=subprocess.DEVNULL,  # "the database is up to date" at every start is noise
        check=False,
    )
    if child.returncode < 0:  # killed by a signal: nothing was said
        logger.error("The migration was stopped by signal %d", -child.returncode)
        return 128 - child.returncode
    return child.returncode


async def migrate(url: str) -> None:
    """Migrate to the latest schema; on PostgreSQL under an advisory lock, so copies started
    together never run the same migration at once."""
    if is_sqlite(url):
        await upgrade_async(url)
        return
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            locked = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await locked.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            try:
                await upgrade_async(url)
            finally:
                await locked.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
    finally:
        await engine.dispose()


async def serve(settings: Settings) -> int:
    """Run this copy until SIGINT/SIGTERM (0) or until it loses the lease (EXIT_LEASE_LOST)."""
    status = RunStatus(instance=settings.instance)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    control = create_engine(settings.database_url)

    async def database_ok() -> bool:
        return await database_answers(control)

    async def outbox_backlog() -> int | None:
        return await _backlog(control)

    status.database_ok = database_ok
    status.outbox_backlog = outbox_backlog
    health = await start_health_server(settings, status)
    keeper = None
    if not is_sqlite(settings.database_url):
        keeper = LeaseKeeper(
            control, holder=settings.instance, seconds=settings.lease_seconds, status=status
        )
    try:
        return await _serve(settings, status, keeper, stopping)
    finally:
        status.role = Role.STOPPING
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        if health is not None:
            await _bounded(health.stop(), 5)
        await _bounded(control.dispose(), 5)


async def _serve(
    settings: Settings, status: RunStatus, keeper: LeaseKeeper | None, stopping: asyncio.Event
) -> int:
    fence = None
    if keeper is not None:
        status.role = Role.STANDBY
        logger.info("Standby as %s: waiting for the lease", settings.instance)
        fence = await _unless_stopped(keeper.wait_until_held(), stopping)
        if fence is None:
            return 0
        status.holds_lease = keeper.holds
    from bot.app import build_application  # the handlers are imported only by a copy that runs

    try:
        application = build_application(settings, status=status)
    except BaseException:
        if keeper is not None:
            await keeper.release()  # the standby need not wait for it to run out
        raise
    application.state.lease = fence
    status.scheduler_running = lambda: _scheduler_running(application)
    stop = asyncio.create_task(stopping.wait(), name="stop-signal")
    watch = asyncio.create_task(keeper.keep(), name="lease") if keeper is not None else None
    # Start-up takes seconds (Telegram, the calendar); the lease is renewed meanwhile and may
    # be lost meanwhile.
    start = asyncio.create_task(_start(application, settings), name="start-up")
    lost: str | None = None
    try:
        waiting: set[asyncio.Task[object]] = {stop, start}
        if watch is not None:
            waiting.add(watch)
        done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        if start in done and (watch is None or watch not in done):
            start.result()  # a refusal at start-up (SECRET_KEY changed...) goes to the CLI
            status.role = Role.ACTIVE
            waiting.discard(start)
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        if watch is not None and watch in done:
            # The loss comes first, even if start-up ended (or failed) in the same moment.
            if start.done() and not start.cancelled() and start.exception() is not None:
                logger.warning("Start-up failed as the lease was lost")
            lost = watch.result()
            # Armed before anything below can wait: a start-up still running (a post_init
            # stuck on the database that went away) must not hold the process either.
            exit_by_deadline(EXIT_LEASE_LOST, LEASE_LOST_EXIT_SECONDS)
    finally:
        status.role = Role.STOPPING
        stop.cancel()
        if not start.done():
            start.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await start
        if lost is not None:
            logger.error("Lost the lease (%s): stopping at once, to come back as a standby", lost)
            await _halt(application)
        else:
            if watch is not None:
                watch.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watch
            await _stop(application)
            if keeper is not None:
                await keeper.release()
    return EXIT_LEASE_LOST if lost is not None else 0


async def _start(application: UnionApplication, settings: Settings) -> None:
    """What run_polling / run_webhook do before they idle."""
    await initialize_until_reachable(application)
    if application.post_init is not None:
        await application.post_init(application)
    updater = application.updater
    assert updater is not None
    if settings.webhook_url:
        host, port = settings.listen_address("webhook") or ("127.0.0.1", 8443)
        assert settings.webhook_secret is not None  # Settings refuses a webhook without it
        await updater.start_webhook(
            listen=host,
            port=port,
            url_path=urlsplit(settings.webhook_url).path.strip("/"),
            webhook_url=settings.webhook_url,
            # PTB answers 403 to any request without this X-Telegram-Bot-Api-Secret-Token.
            secret_token=settings.webhook_secret.get_secret_value(),
            allowed_updates=ALLOWED_UPDATES,
        )
        logger.info("Serving the webhook on %s:%s", host, port)
    else:
        await updater.start_polling(allowed_updates=ALLOWED_UPDATES)
        logger.info("Polling Telegram for updates")
    await application.start()
    # What start-up loaded (modules, catalogs, the ORM's mappings) stays for the process's
    # life: frozen, the collector stops walking it, and a full collection during a district's
    # 50,000-recipient broadcast holds updates for ~30 ms instead of ~130 ms (bench.district).
    gc.collect()
    gc.freeze()


async def initialize_until_reachable(
    application: UnionApplication, *, first_delay: float = START_RETRY_SECONDS
) -> None:
    """PTB's initialize (it asks Telegram who the bot is), tried again while Telegram or the
    proxy cannot be reached: a server that boots before its network, or a proxy that is down
    for a while, must not end in a crash loop. A token Telegram refuses stops with a sentence."""
    delay = first_delay
    while True:
        try:
            await application.initialize()
            return
        except InvalidToken:
            raise SettingsError(N_("settings.token_refused")) from None
        except NetworkError as exc:
            logger.warning(
                "Cannot reach Telegram at start-up (%s): trying again in %.0f s",
                type(exc).__name__,
                delay,
            )
        await asyncio.sleep(delay)
        delay = min(delay * 2, START_RETRY_MAX_SECONDS)


async def _stop(application: UnionApplication) -> None:
    """A clean stop, as run_polling's: updates in hand are finished, handled ids written,
    post_shutdown stops the calendar and the outbox and closes the database."""
    try:
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
    finally:
        if application.post_shutdown is not None:
            await application.post_shutdown(application)


async def _halt(application: UnionApplication) -> None:
    """The lease is gone: another copy may be active any moment. Send nothing more and take no
    more updates; skip everything that needs the database (it may be what went away)."""
    state = application.state
    if state.sender_task is not None:
        state.sender_task.cancel()
    runtime = state.runtime
    if runtime is not None and runtime.scheduler is not None and runtime.scheduler.running:
        # A job running now (the minute's ballot tick, say) is cancelled on purpose and planned
        # again at the next start: not an ERROR with a traceback in the log.
        quiet_cancellations_at_stop()
        runtime.scheduler.shutdown(wait=False)
    if state.member_listener is not None:
        # Its LISTEN connection and liveness pings end here, not when the loop closes.
        await _bounded(state.member_listener.stop(), STOP_SECONDS)
    if application.updater is not None and application.updater.running:
        # Fetched updates are confirmed to Telegram here: the copy taking over will not get
        # them again, so none is handled twice (one that was in hand when the database went
        # away got the "try again" answer).
        await _bounded(application.updater.stop(), STOP_SECONDS)


def _scheduler_running(application: UnionApplication) -> bool:
    """The calendar scheduler runs and the outbox sender is alive."""
    state = application.state
    scheduler = state.runtime.scheduler if state.runtime is not None else None
    sender = state.sender_task
    return bool(
        scheduler is not None and scheduler.running and sender is not None and not sender.done()
    )


async def _backlog(engine: AsyncEngine) -> int | None:
    """Outbox messages waiting to be sent (None when the database does not answer)."""
    try:
        async with asyncio.timeout(3), create_session_factory(engine)() as session:
            return await pending_count(session)
    except Exception:  # a probe reports, it does not raise
        return None


async def _unless_stopped(work: Awaitable[T], stopping: asyncio.Event) -> T | None:
    """`work`'s result, or None if a stop signal came first (then `work` is cancelled)."""
    task = asyncio.ensure_future(work)
    stop = asyncio.create_task(stopping.wait())
    try:
        done, _ = await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for pending in (task, stop):
            if not pending.done():
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pending
    return task.result() if task in done else None


async def _bounded(work: Awaitable[object], seconds: float) -> None:
    """Await `work` for at most `seconds`; a failure there is logged, not raised."""
    try:
        async with asyncio.timeout(seconds):
            await work
    except Exception as exc:  # stopping goes on regardless
        logger.warning("A step of stopping did not finish (%s)", type(exc).__name__)
