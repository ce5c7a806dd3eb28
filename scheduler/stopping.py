"""Stopping the scheduler without cutting jobs short or logging false errors.

APScheduler's own shutdown of an asyncio scheduler cannot wait: it cancels every running job, and
its executor logs each cancellation as an ERROR with a traceback, so every ordinary restart looked
like a failure to an operator watching for errors. Here the scheduler is paused first (no new job
starts), running jobs get a few seconds to end, and only the jobs still running then are cancelled,
with one WARNING naming them. Every job is idempotent and planned again at the next start, so a
cancelled one runs again then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
)
from apscheduler.schedulers.asyncio import AsyncIOScheduler

logger = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 10.0
EXECUTOR_LOGGER = "apscheduler.executors.default"


class RunningJobs:
    """Which jobs are running now, from the scheduler's public job events."""

    def __init__(self) -> None:
        self._running: Counter[str] = Counter()
        self._idle = asyncio.Event()
        self._idle.set()

    def watch(self, scheduler: AsyncIOScheduler) -> None:
        """Follow `scheduler`'s job submissions and endings."""
        scheduler.add_listener(
            self.on_event,
            EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED,
        )

    def on_event(self, event: JobEvent) -> None:
        """Count a submission up and an ending down. One run may end with several events (a
        missed time and the run itself), so the count never goes below zero."""
        if event.code == EVENT_JOB_SUBMITTED:
            self._running[event.job_id] += 1
        elif self._running[event.job_id] > 1:
            self._running[event.job_id] -= 1
        else:
            self._running.pop(event.job_id, None)
        if self._running:
            self._idle.clear()
        else:
            self._idle.set()

    async def wait_idle(self, seconds: float) -> None:
        """Return once no job is running, or after `seconds`."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):  # not wait_for: it can swallow a cancel (3.11)
                await self._idle.wait()

    def ids(self) -> list[str]:
        """The ids of the jobs running now, sorted."""
        return sorted(self._running)


class CancelledAtStopFilter(logging.Filter):
    """Drops the executor's ERROR for a job cancelled at stop: `stop_gracefully` has already
    logged it once, as a WARNING."""

    def filter(self, record: logging.LogRecord) -> bool:
        """False for a record about a cancellation, True for anything else."""
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, asyncio.CancelledError)


def quiet_cancellations_at_stop() -> None:
    """Install CancelledAtStopFilter on APScheduler's executor logger (once per process)."""
    executor_logger = logging.getLogger(EXECUTOR_LOGGER)
    if not any(isinstance(f, CancelledAtStopFilter) for f in executor_logger.filters):
        executor_logger.addFilter(CancelledAtStopFilter())


async def stop_gracefully(
    scheduler: AsyncIOScheduler, running: RunningJobs, *, grace: float = STOP_GRACE_SECONDS
) -> list[str]:
    """Pause `scheduler`, give running jobs `grace` seconds to end, then shut it down; returns
    the ids of the jobs that had to be cancelled."""
    if not scheduler.running:
        return []
    scheduler.pause()
    await running.wait_idle(grace)
    cut_short = running.ids()
    if cut_short:
        logger.warning(
            "Stopping: job(s) %s still running after %.0f s are cancelled; "
            "they are planned again at the next start",
            ", ".join(cut_short),
            grace,
        )
        quiet_cancellations_at_stop()
    scheduler.shutdown(wait=False)
    return cut_short
