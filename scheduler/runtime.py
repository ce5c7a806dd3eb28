"""What scheduled jobs reach: the parts of the running bot, handed to each job as its argument
(jobs live in memory and are planned again at every start, so they may hold objects)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

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
    # The district union of a district deployment: jobs then run once per organization.
    district_id: int | None = None
    scheduler: AsyncIOScheduler | None = None
    running_jobs: RunningJobs = field(default_factory=RunningJobs)

    def for_org(self, org_id: int) -> Runtime:
        """The same parts acting for another organization of the deployment (a school of the
        district); the scheduler, the sender and the running jobs are shared."""
        return self if org_id == self.org_id else replace(self, org_id=org_id)
