"""What one running copy of the bot is doing, for /healthz, /readyz and /metrics.

The runner (bot/runner.py) owns it and sets the role and the lease holder; the application
counts updates, errors and 429s into it; the health server (bot/health.py) only reads it.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


class Role(enum.StrEnum):
    """Where this copy is in its life."""

    STARTING = "starting"
    STANDBY = "standby"  # waiting for the lease: takes no updates, sends nothing
    ACTIVE = "active"  # holds the lease: takes updates, runs the calendar and the outbox
    STOPPING = "stopping"


async def _unknown_async() -> bool:
    return False


async def _no_backlog() -> int | None:
    return None


def _not_running() -> bool:
    return False


def _always() -> bool:
    return True


@dataclass
class RunStatus:
    """Counters and probes of one process; plain attributes, read by the health server."""

    instance: str
    role: Role = Role.STARTING
    # The instance name the lease row names (None: nobody holds it, or no lease on SQLite).
    lease_holder: str | None = None
    started_at: float = field(default_factory=time.time)
    updates_handled: int = 0
    errors: int = 0
    rate_limited: int = 0  # 429 answers from Telegram
    # Probes: set by the runner once it has an engine and, when active, an application.
    database_ok: Callable[[], Awaitable[bool]] = _unknown_async
    scheduler_running: Callable[[], bool] = _not_running
    outbox_backlog: Callable[[], Awaitable[int | None]] = _no_backlog
    # The fence on everything this copy does besides the database: False once no other copy
    # can be sure this one stopped (the lease's time ran out on this copy's monotonic clock).
    # Checked before each call to Telegram and each update handled, so a copy frozen past its
    # lease (SIGSTOP, a paused VM) and woken does nothing more, even before its step-down runs.
    # Always True on SQLite (one copy only, no lease).
    holds_lease: Callable[[], bool] = _always
