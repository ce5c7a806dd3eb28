"""One active copy: the lease on PostgreSQL, an exclusive lock file on SQLite.

On PostgreSQL several copies may run; the one holding the lease row (models/lease.py) is
active, the others wait as standbys and look every STANDBY_POLL_SECONDS. The active copy renews
every LEASE_SECONDS/4. It keeps its own deadline on its own monotonic clock, counted from the
START of its last successful renewal: the database set the expiry to its `now()` (no earlier
than that start) plus LEASE_SECONDS, so stepping down MARGIN before start + LEASE_SECONDS means
stepping down before any standby can see the lease run out, however slow the answer came back.

On SQLite only one copy may run at all: it holds an exclusive flock on `<database>.lock` for
its whole life, and a second copy refuses to start.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import create_session_factory, is_sqlite
from bot.files import private_file
from bot.run_status import RunStatus
from bot.settings import SettingsError
from models.errors import N_
from models.lease import LeaseFence, acquire, current, release, renew

logger = logging.getLogger(__name__)

STANDBY_POLL_SECONDS = 2.0
RETRY_SECONDS = 0.5  # after a failed renewal, while the deadline still allows


def margin(seconds: float) -> float:
    """How long before the lease could run out the active copy steps down."""
    return max(1.0, seconds / 5)


@dataclass
class LeaseKeeper:
    """Takes the lease (as a standby, waiting), renews it (as the active copy), gives it back."""

    engine: AsyncEngine
    holder: str
    seconds: float
    status: RunStatus
    poll_seconds: float = STANDBY_POLL_SECONDS
    clock: Callable[[], float] = time.monotonic
    fence: LeaseFence | None = None
    deadline: float = 0.0  # on `clock`: step down at this moment unless renewed before
    # On `clock`: the earliest moment another copy may take the lease (the start of the last
    # successful renewal plus LEASE_SECONDS). Past it this copy must not act at all: holds().
    expires_by: float = 0.0

    def __post_init__(self) -> None:
        self._db = create_session_factory(self.engine)

    async def wait_until_held(self) -> LeaseFence:
        """Look every `poll_seconds` until the lease is free or ran out, then take it."""
        unreachable = False
        while True:
            started = self.clock()
            try:
                async with asyncio.timeout(max(1.0, self.seconds / 2)):
                    async with self._db() as session:
                        fence = await acquire(session, holder=self.holder, seconds=self.seconds)
                        if fence is None:
                            view = await current(session)
                            self.status.lease_holder = view.holder if view else None
                if unreachable:
                    logger.info("The database answers again")
                unreachable = False
            except Exception as exc:  # the standby waits out any outage
                if not unreachable:
                    logger.warning(
                        "The lease cannot be read (%s); still waiting", type(exc).__name__
                    )
                unreachable = True
                fence = None
            if fence is not None:
                self.fence = fence
                self._renewed(started)
                self.status.lease_holder = self.holder
                logger.info("Took the lease as %s (takeover %s)", self.holder, fence.epoch)
                return fence
            await asyncio.sleep(self.poll_seconds)

    async def keep(self) -> str:
        """Renew until the lease is lost; then return why (it never returns otherwise)."""
        assert self.fence is not None, "wait_until_held first"
        interval = self.seconds / 4
        next_renewal = self.clock() + interval
        while True:
            now = self.clock()
            if now >= self.deadline:
                return self._lost("not renewed in time")
            await asyncio.sleep(max(0.0, min(next_renewal, self.deadline) - now))
            started = self.clock()
            if started >= self.deadline:
                return self._lost("not renewed in time")
            try:
                async with asyncio.timeout(self.deadline - started):
                    async with self._db() as session:
                        kept = await renew(session, fence=self.fence, seconds=self.seconds)
            except TimeoutError:
                return self._lost("not renewed in time")
            except Exception as exc:  # retried until the deadline
                logger.warning(
                    "Could not renew the lease (%s); %.1f s left",
                    type(exc).__name__,
                    self.deadline - self.clock(),
                )
                next_renewal = self.clock() + RETRY_SECONDS
                continue
            if not kept:
                self.expires_by = self.clock()  # someone else may be active already
                return self._lost("taken over or ran out")
            self._renewed(started)
            next_renewal = started + interval

    def _renewed(self, started: float) -> None:
        self.deadline = started + self.seconds - margin(self.seconds)
        self.expires_by = started + self.seconds

    def holds(self) -> bool:
        """True while no other copy can have taken the lease: read on the monotonic clock, so
        it is right the moment a frozen process wakes, before its event loop runs anything."""
        return self.fence is not None and self.clock() < self.expires_by

    def _lost(self, why: str) -> str:
        self.status.lease_holder = None
        return why

    async def release(self) -> None:
        """Give the lease back (clean stop): a standby takes over at its next look."""
        if self.fence is None:
            return
        fence, self.fence = self.fence, None
        try:
            async with asyncio.timeout(5):
                async with self._db() as session:
                    await release(session, fence=fence)
        except Exception as exc:  # the lease then simply runs out
            logger.warning("Could not give the lease back (%s)", type(exc).__name__)
            return
        self.status.lease_holder = None
        logger.info("Gave the lease back")


async def database_answers(engine: AsyncEngine, seconds: float = 3.0) -> bool:
    """True when the database answers a trivial query within `seconds`."""
    try:
        async with asyncio.timeout(seconds), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:  # a probe reports, it does not raise
        return False
    return True


def sqlite_lock_path(url: str) -> Path | None:
    """`<database file>.lock`, or None for a database that is not a file."""
    if not is_sqlite(url):
        return None
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = Path(database)
    return path.with_name(path.name + ".lock")


def hold_sqlite_lock(url: str) -> IO[str] | None:
    """Lock the SQLite database for this process's life (keep the returned file open).

    Raises SettingsError (one sentence for the operator) when another copy holds it. The lock
    is the kernel's: it goes with the process, however that ends, and never goes stale.
    """
    path = sqlite_lock_path(url)
    if path is None:
        return None
    # 0600 whatever the umask: another user who could open it could also flock it.
    handle = private_file(path).open("a", encoding="utf-8")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise SettingsError(N_("settings.sqlite_in_use")) from None
    return handle


def release_sqlite_lock(handle: IO[str] | None) -> None:
    """Let the lock go (tests; a process simply ends)."""
    if handle is not None:
        with contextlib.suppress(OSError):
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()
