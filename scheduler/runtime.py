"""What scheduled jobs reach: APScheduler stores jobs as a function path plus primitive
arguments, so the running application registers itself here when it starts."""

from __future__ import annotations

from dataclasses import dataclass, field

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.db import SessionFactory
from bot.i18n import I18n
from bot.settings import Settings
from scheduler.outbox import OutboxSender
from scheduler.quiet import QuietHours
from scheduler.stopping import RunningJobs


@dataclass
class Runtime:
    """The parts of the running bot that scheduled jobs use."""

    db: SessionFactory
    i18n: I18n
    settings: Settings
    sender: OutboxSender
    quiet: QuietHours
    org_id: int
    scheduler: AsyncIOScheduler | None = None
    running_jobs: RunningJobs = field(default_factory=RunningJobs)


_current: Runtime | None = None


def install(runtime: Runtime) -> None:
    """Make `runtime` the one jobs use (at application start)."""
    global _current
    _current = runtime


def current() -> Runtime:
    """The running bot's runtime; jobs fail loudly if the bot has not started."""
    if _current is None:
        raise RuntimeError("the union calendar ran before the bot started")
    return _current
