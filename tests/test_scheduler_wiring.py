"""The real scheduler and outbox sender start with the bot and stop with it."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import (
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    EVENT_SCHEDULER_PAUSED,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from apscheduler.triggers.cron import CronTrigger
from sqlmodel import col, select

from bot.db import is_sqlite
from bot.settings import Settings
from models.calendar import CalendarEntry
from scheduler.activity_jobs import ACTIVITY_JOB
from scheduler.aid_jobs import AID_JOB
from scheduler.backup_job import BACKUP_JOB
from scheduler.ballot_jobs import BALLOT_JOB
from scheduler.calendar_jobs import job_id
from scheduler.district_reminders import ASSESSMENT_REMINDER_JOB, CONTEST_REMINDER_JOB
from scheduler.district_task_jobs import DTASK_JOB
from scheduler.notice_jobs import NOTICE_JOB
from scheduler.proposal_jobs import PROPOSAL_JOB
from scheduler.setup import HOUSEKEEPING_JOB, build_scheduler, missed_run
from scheduler.stopping import RunningJobs, stop_gracefully
from scheduler.suggestion_jobs import DIGEST_JOB
from tests.support.harness import BotHarness, make_settings, running_bot


async def test_background_tasks_start_plan_every_entry_and_stop(
    clean_database: str, tmp_path: Path
) -> None:
    settings: Settings = make_settings(clean_database, tmp_path, background_tasks=True)
    async with running_bot(settings) as bot:
        runtime = bot.app.state.runtime
        assert runtime is not None and runtime.scheduler is not None
        assert runtime.scheduler.running
        assert bot.app.state.sender_task is not None and not bot.app.state.sender_task.done()
        async with bot.db() as session:
            entries = (
                await session.exec(select(CalendarEntry).where(col(CalendarEntry.enabled)))
            ).all()
        expected = {job_id(entry.id or 0) for entry in entries} | {
            DIGEST_JOB,
            HOUSEKEEPING_JOB,
            PROPOSAL_JOB,
            AID_JOB,
            ACTIVITY_JOB,
            BALLOT_JOB,
            NOTICE_JOB,
            DTASK_JOB,
            CONTEST_REMINDER_JOB,
            ASSESSMENT_REMINDER_JOB,
        }
        if is_sqlite(clean_database):  # PostgreSQL is backed up from cron, not by the bot
            expected.add(BACKUP_JOB)
        # An entry whose time passed today within its grace runs at start and is planned
        # again when it ends: wait for that rather than catch it in between.
        for _ in range(100):
            job_ids = {job.id for job in runtime.scheduler.get_jobs()}
            if job_ids == expected:
                break
            await asyncio.sleep(0.05)
        assert expected == job_ids
        sender_task = bot.app.state.sender_task
    assert not runtime.scheduler.running
    assert sender_task.done()


async def test_a_restart_plans_the_same_calendar_jobs_again(
    clean_database: str, tmp_path: Path
) -> None:
    settings: Settings = make_settings(clean_database, tmp_path, background_tasks=True)

    def calendar_jobs(bot: BotHarness) -> dict[str, object]:
        runtime = bot.app.state.runtime
        assert runtime is not None and runtime.scheduler is not None
        return {
            job.id: job.next_run_time
            for job in runtime.scheduler.get_jobs()
            if job.id.startswith("calendar:")
        }

    async def settled(bot: BotHarness) -> dict[str, object]:
        # A time passed today within its grace runs at start and is planned again when it
        # ends: compare the plans once no job is due or running.
        runtime = bot.app.state.runtime
        assert runtime is not None and runtime.scheduler is not None
        for _ in range(200):
            now = datetime.now(SHANGHAI)
            due = [j for j in runtime.scheduler.get_jobs() if j.next_run_time <= now]
            if not due and not runtime.running_jobs.ids():
                break
            await asyncio.sleep(0.02)
        return calendar_jobs(bot)

    async with running_bot(settings) as bot:
        first = await settled(bot)
    async with running_bot(settings) as bot:
        again = await settled(bot)
    assert again == first and first  # planned from our tables: same ids, same times


async def _started(scheduler: object, started: asyncio.Event) -> None:
    for _ in range(200):
        if started.is_set():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the job never started on {scheduler}")


async def test_stopping_lets_a_running_job_end_and_logs_no_error(
    clean_database: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings: Settings = make_settings(clean_database, tmp_path, background_tasks=True)
    started, release = asyncio.Event(), asyncio.Event()
    ended: list[str] = []

    async def slow_job() -> None:
        started.set()
        await release.wait()
        ended.append("ended")

    caplog.set_level(logging.INFO)
    async with running_bot(settings) as bot:
        runtime = bot.app.state.runtime
        assert runtime is not None and runtime.scheduler is not None
        scheduler = runtime.scheduler
        scheduler.add_job(slow_job, id="slow", next_run_time=datetime.now(SHANGHAI))
        await _started(scheduler, started)
        # The job may end once the bot is stopping: the scheduler is paused first.
        scheduler.add_listener(lambda _: release.set(), EVENT_SCHEDULER_PAUSED)

    assert ended == ["ended"]  # the bot stopped after the job ended, not in its middle
    assert not scheduler.running
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_a_job_still_running_after_the_grace_is_cancelled_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    scheduler = build_scheduler(SHANGHAI)
    running = RunningJobs()
    running.watch(scheduler)
    scheduler.start()
    started = asyncio.Event()
    cancelled: list[str] = []

    async def stuck_job() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append("cancelled")
            raise

    scheduler.add_job(stuck_job, id="stuck", next_run_time=datetime.now(SHANGHAI))
    await _started(scheduler, started)
    caplog.set_level(logging.INFO)

    cut_short = await stop_gracefully(scheduler, running, grace=0.2)
    for _ in range(10):  # the executor hears of the cancellation on the next loop turns
        await asyncio.sleep(0)

    assert cut_short == ["stuck"] and cancelled == ["cancelled"]
    loud = [(r.name, r.levelname, r.getMessage()) for r in caplog.records if r.levelno >= 30]
    assert loud == [
        (
            "scheduler.stopping",
            "WARNING",
            "Stopping: job(s) stuck still running after 0 s are cancelled; "
            "they are planned again at the next start",
        )
    ]


def test_running_jobs_counts_one_run_once_whatever_events_end_it() -> None:
    running = RunningJobs()
    at = datetime(2026, 12, 1, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
    running.on_event(JobSubmissionEvent(EVENT_JOB_SUBMITTED, "digest", "default", [at]))
    running.on_event(JobSubmissionEvent(EVENT_JOB_SUBMITTED, "tick", "default", [at]))
    assert running.ids() == ["digest", "tick"]

    # A run that missed one time and ran the next ends with two events.
    running.on_event(JobExecutionEvent(EVENT_JOB_MISSED, "digest", "default", at))
    running.on_event(JobExecutionEvent(EVENT_JOB_EXECUTED, "digest", "default", at))
    running.on_event(JobExecutionEvent(EVENT_JOB_EXECUTED, "never-submitted", "default", at))

    assert running.ids() == ["tick"]


SHANGHAI = ZoneInfo("Asia/Shanghai")


def sh(day: int, hour: int, minute: int = 0) -> datetime:
    """A time in December 2026, Shanghai."""
    return datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Down at 09:00, started at 10:30: the digest (grace 6 h) runs at once.
        (sh(1, 10, 30), sh(1, 9)),
        # Started at 08:30: not due yet today; it waits for 09:00.
        (sh(1, 8, 30), sh(1, 9)),
        # Started at 16:00: beyond the grace, yesterday's is not caught up; tomorrow's waits.
        (sh(1, 16), sh(2, 9)),
    ],
)
def test_a_fixed_job_missed_within_its_grace_runs_at_start(
    now: datetime, expected: datetime
) -> None:
    trigger = CronTrigger(hour=9, minute=0, timezone=SHANGHAI)

    planned = missed_run(trigger, now=now, grace_seconds=6 * 3600)

    assert planned == expected


def test_the_five_minute_tick_catches_up_its_latest_time_only() -> None:
    trigger = CronTrigger(minute="*/5", timezone=SHANGHAI)
    now = sh(1, 10, 7)

    assert missed_run(trigger, now=now, grace_seconds=3600) == now.replace(minute=5)


async def test_housekeeping_forgets_old_update_ids_only(bot: object) -> None:
    from datetime import timedelta

    from models.base import utcnow
    from models.updates import ProcessedUpdate
    from scheduler.setup import run_housekeeping
    from tests.support.harness import BotHarness

    assert isinstance(bot, BotHarness)
    async with bot.db() as session:
        session.add(ProcessedUpdate(update_id=1, processed_at=utcnow() - timedelta(days=8)))
        session.add(ProcessedUpdate(update_id=2, processed_at=utcnow() - timedelta(days=1)))
        await session.commit()

    assert bot.app.state.runtime is not None
    await run_housekeeping(bot.app.state.runtime)

    async with bot.db() as session:
        kept = (await session.exec(select(ProcessedUpdate.update_id))).all()
    assert list(kept) == [2]
