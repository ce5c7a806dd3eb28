"""What scheduled jobs reach: the parts of the running bot, handed to each job as its argument
(jobs live in memory and are planned again at every start, so they may hold objects)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.db import SessionFactory
from bot.i18n import I18n
from bot.settings import Settings
from models.organizations import Organization
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

    async def org_name(self, language: str | None) -> str:
        """The union's name as members see it: the settings' (in `language`) for a single
        school, else this organization's own (a school of the district, or the district)."""
        if self.district_id is None:
            return self.settings.organization_name_for(language)
        async with self.db() as session:
            org = await session.get(Organization, self.org_id)
        return org.name if org is not None else self.settings.organization_name_for(language)

    def for_org(self, org_id: int) -> Runtime:
        """The same parts acting for another organization of the deployment (a school of the
        district); the scheduler, the sender and the running jobs are shared."""
        return self if org_id == self.org_id else replace(self, org_id=org_id)
