"""The real scheduler and outbox sender start with the bot and stop with it."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import col, select

from bot.settings import Settings
from models.calendar import CalendarEntry
from scheduler.activity_jobs import ACTIVITY_JOB
from scheduler.aid_jobs import AID_JOB
from scheduler.calendar_jobs import job_id
from scheduler.proposal_jobs import PROPOSAL_JOB
from scheduler.setup import DIGEST_JOB, HOUSEKEEPING_JOB
from tests.support.harness import make_settings, running_bot


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
        job_ids = {job.id for job in runtime.scheduler.get_jobs()}
        expected = {job_id(entry.id or 0) for entry in entries} | {
            DIGEST_JOB,
            HOUSEKEEPING_JOB,
            PROPOSAL_JOB,
            AID_JOB,
            ACTIVITY_JOB,
        }
        assert expected == job_ids
        sender_task = bot.app.state.sender_task
    assert not runtime.scheduler.running
    assert sender_task.done()


async def test_jobs_survive_a_restart_in_the_database_job_store(
    clean_database: str, tmp_path: Path
) -> None:
    settings: Settings = make_settings(clean_database, tmp_path, background_tasks=True)
    async with running_bot(settings) as bot:
        assert bot.app.state.runtime is not None and bot.app.state.runtime.scheduler is not None
        first = {job.id: job.next_run_time for job in bot.app.state.runtime.scheduler.get_jobs()}
    async with running_bot(settings) as bot:
        assert bot.app.state.runtime is not None and bot.app.state.runtime.scheduler is not None
        again = {job.id: job.next_run_time for job in bot.app.state.runtime.scheduler.get_jobs()}
    assert again == first  # same ids, same times: reconciled, not duplicated


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
