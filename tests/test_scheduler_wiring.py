"""The real scheduler and outbox sender start with the bot and stop with it."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from sqlmodel import col, select

from bot.settings import Settings
from models.calendar import CalendarEntry
from scheduler.activity_jobs import ACTIVITY_JOB
from scheduler.aid_jobs import AID_JOB
from scheduler.calendar_jobs import job_id
from scheduler.proposal_jobs import PROPOSAL_JOB
from scheduler.setup import DIGEST_JOB, HOUSEKEEPING_JOB, missed_run
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
        }
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

    async with running_bot(settings) as bot:
        first = calendar_jobs(bot)
    async with running_bot(settings) as bot:
        again = calendar_jobs(bot)
    assert again == first and first  # planned from our tables: same ids, same times


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

    await run_housekeeping()

    async with bot.db() as session:
        kept = (await session.exec(select(ProcessedUpdate.update_id))).all()
    assert list(kept) == [2]
