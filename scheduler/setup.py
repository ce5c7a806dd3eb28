"""One APScheduler beside PTB: started in post_init, stopped in post_shutdown.

Jobs are held in memory and planned again from our own tables at every start: each calendar
entry from its rule and the broadcasts already sent (calendar_jobs.reconcile), each fixed job from
its cron time, run at once if its latest time fell within its grace while the bot was down. Every
job is idempotent (its broadcasts have a key per day), so a catch-up run after a restart never
sends twice.

APScheduler's SQLAlchemyJobStore is not used: it is synchronous, so each job-store write blocked
the event loop, and on SQLite a write waiting for a lock held by one of our own async
transactions (which needs that loop to commit) could only time out: a restart after a crash once
failed so with "database is locked" (tests/test_crash_restart.py). Its old table
`apscheduler_jobs` is left alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from models.base import utcnow
from models.organizations import all_organizations, get_organization
from models.outbox import Broadcast, BroadcastKind, DeliveryCounts, OutboxNeed, Recipient, enqueue
from models.updates import forget_processed_before
from scheduler.backup_job import backup_jobs
from scheduler.calendar_defaults import seed_defaults
from scheduler.calendar_jobs import reconcile
from scheduler.jobs import FixedJob
from scheduler.runtime import Runtime
from scheduler.stopping import stop_gracefully

logger = logging.getLogger(__name__)

HOUSEKEEPING_JOB = "housekeeping"


def build_scheduler(zone: object) -> AsyncIOScheduler:
    """The scheduler with safe defaults."""
    return AsyncIOScheduler(
        jobstores={"default": MemoryJobStore()},
        # APScheduler's default grace of 1 s would drop anything due while the bot restarted.
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        timezone=zone,
    )


async def organizations(runtime: Runtime) -> list[Runtime]:
    """The runtime for each organization the jobs serve: the home one, or in a district the
    district union and every school (read at each run: a school added later is served)."""
    if runtime.district_id is None:
        return [runtime]
    async with runtime.db() as session:
        orgs = await all_organizations(session)
    return [runtime.for_org(org.id) for org in orgs if org.id is not None]


def each_organization(
    run: Callable[[Runtime], Awaitable[object]],
) -> Callable[[Runtime], Awaitable[None]]:
    """A job run for every organization in turn; one school's failure does not stop the
    others' (it is logged with the school's id)."""

    async def run_each(runtime: Runtime) -> None:
        for scoped in await organizations(runtime):
            try:
                await run(scoped)
            except Exception:
                logger.exception("A scheduled job failed for organization %s", scoped.org_id)

    return run_each


async def seed_default_calendar(runtime: Runtime) -> int:
    """Give each organization the default calendar once (entries keep their keys)."""
    seeded = 0
    for scoped in await organizations(runtime):
        async with runtime.db() as session:
            seeded += await seed_defaults(session, org_id=scoped.org_id, i18n=runtime.i18n)
    return seeded


async def start(
    runtime: Runtime, jobs: Sequence[FixedJob], *, now: datetime | None = None
) -> AsyncIOScheduler:
    """Start the scheduler, plan every calendar entry, and schedule the fixed jobs (the
    features' and the core's)."""
    scheduler = build_scheduler(runtime.settings.zone)
    runtime.scheduler = scheduler
    runtime.running_jobs.watch(scheduler)
    scheduler.start()
    for scoped in await organizations(runtime):
        await reconcile(scoped, scheduler)
    now = now or utcnow()
    for job in (*CORE_JOBS, *backup_jobs(runtime.settings), *jobs):
        trigger = CronTrigger(timezone=runtime.settings.zone, **job.when)
        scoped_run = job.run
        if job.per_school and runtime.district_id is not None:
            scoped_run = each_organization(job.run)
        scheduler.add_job(
            scoped_run,
            trigger=trigger,
            args=[runtime],
            id=job.id,
            replace_existing=True,
            misfire_grace_time=job.grace_seconds,
            coalesce=True,
            next_run_time=missed_run(trigger, now=now, grace_seconds=job.grace_seconds),
        )
    return scheduler


def missed_run(trigger: CronTrigger, *, now: datetime, grace_seconds: int) -> datetime:
    """The latest time the trigger fired within the grace before `now` (the bot may have been
    down then: run it at once), else its next time."""
    window_start = now - timedelta(seconds=grace_seconds)
    latest: datetime | None = None
    moment = trigger.get_next_fire_time(None, window_start)
    while moment is not None and moment <= now:
        latest = moment
        moment = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
    if latest is not None:
        return latest
    upcoming = trigger.get_next_fire_time(None, now)
    assert upcoming is not None  # cron times repeat for ever
    return upcoming


async def run_housekeeping(runtime: Runtime) -> None:
    """The nightly job: forget handled update ids older than a week."""
    async with runtime.db() as session:
        forgotten = await forget_processed_before(session, days=7)
    logger.info("Housekeeping: forgot %s handled update ids", forgotten)


async def stop(runtime: Runtime) -> None:
    """Stop the scheduler, letting running jobs end first (scheduler/stopping.py)."""
    if runtime.scheduler is not None:
        await stop_gracefully(runtime.scheduler, runtime.running_jobs)


async def write_report(runtime: Runtime, broadcast: Broadcast, figures: DeliveryCounts) -> None:
    """The outbox's report hook (bound to the runtime): figures of a finished large broadcast,
    to the committee group bound now (the one bound when it was queued may have been replaced
    since: the figures are the committee's, wherever it meets); none if no group is bound."""
    async with runtime.db() as session:
        org = await get_organization(session, broadcast.organization_id)
    if org.committee_chat_id is None:
        logger.info("Broadcast %s finished: no committee group to report to", broadcast.id)
        return
    tr = runtime.i18n.get(runtime.settings.default_language)
    zone = runtime.settings.zone
    text = tr(
        "outbox.report",
        when=broadcast.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        total=figures.total,
        sent=figures.sent,
        unreachable=figures.unreachable,
        failed=figures.failed + figures.uncertain,
    )
    async with runtime.db() as session:
        await enqueue(
            session,
            org_id=broadcast.organization_id,
            key=f"report:{broadcast.id}",
            kind=BroadcastKind.REPORT,
            recipients=[
                Recipient(
                    chat_id=org.committee_chat_id,
                    text=text,
                    needs=OutboxNeed.COMMITTEE_CHAT,
                )
            ],
            not_before=utcnow(),
            quiet=False,
        )
    runtime.sender.wake()


def start_sender(runtime: Runtime) -> asyncio.Task[None]:
    """Run the outbox sender in the background."""
    return asyncio.create_task(runtime.sender.run(), name="outbox-sender")


# The core's own jobs, whatever features the bot has.
CORE_JOBS = (
    FixedJob(
        HOUSEKEEPING_JOB, run_housekeeping, {"hour": 3, "minute": 30}, 12 * 3600, per_school=False
    ),
)
