"""Presses of Sign up on the same activity are written together.

While one batch is being written, the presses that arrive wait in a queue; the next batch takes
them all, in arrival order, in one transaction. A rush of a thousand presses becomes a few dozen
transactions instead of a thousand queueing on the activity's row, and the waitlist follows the
order in which presses reached the bot.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from bot.db import SessionFactory
from models.activities import Place, SignupRequest, sign_up_many
from models.errors import N_, DomainError

logger = logging.getLogger(__name__)

MAX_BATCH = 500

Pending = tuple[SignupRequest, datetime, "asyncio.Future[Place | DomainError]"]


class SignupBatcher:
    """One writer per activity; callers await their own place."""

    def __init__(self, db: SessionFactory) -> None:
        self._db = db
        self._queues: dict[int, list[Pending]] = {}
        self._writers: dict[int, asyncio.Task[None]] = {}

    async def sign_up(
        self, *, org_id: int, activity_id: int, request: SignupRequest, now: datetime
    ) -> Place:
        """Queue a press and wait for its place (or the reason it was refused)."""
        future: asyncio.Future[Place | DomainError] = asyncio.get_running_loop().create_future()
        self._queues.setdefault(activity_id, []).append((request, now, future))
        if activity_id not in self._writers:
            self._writers[activity_id] = asyncio.create_task(self._write(org_id, activity_id))
        result = await future
        if isinstance(result, DomainError):
            raise result
        return result

    async def _write(self, org_id: int, activity_id: int) -> None:
        try:
            while self._queues.get(activity_id):
                queue = self._queues[activity_id]
                batch, self._queues[activity_id] = queue[:MAX_BATCH], queue[MAX_BATCH:]
                # Presses overtake each other by a few milliseconds on the way here; within a
                # batch, places follow the order in which they reached Telegram.
                batch.sort(key=lambda pending: pending[0].arrival)
                await self._write_batch(org_id, activity_id, batch)
        finally:
            # No await between the empty check above and this line: nothing can be stranded.
            self._writers.pop(activity_id, None)
            self._queues.pop(activity_id, None)

    async def _write_batch(self, org_id: int, activity_id: int, batch: list[Pending]) -> None:
        try:
            async with self._db() as session:
                results = await sign_up_many(
                    session,
                    org_id=org_id,
                    activity_id=activity_id,
                    requests=[request for request, _, _ in batch],
                    now=max(now for _, now, _ in batch),
                )
        except IntegrityError:
            # Another process signed one of them up at this moment: one by one instead.
            results = [await self._one(org_id, activity_id, r, now) for r, now, _ in batch]
        except Exception as exc:  # the database is down: every waiting press hears it
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, _, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    async def _one(
        self, org_id: int, activity_id: int, request: SignupRequest, now: datetime
    ) -> Place | DomainError:
        """A press on its own (the batch it came in was rolled back)."""
        try:
            async with self._db() as session:
                (result,) = await sign_up_many(
                    session, org_id=org_id, activity_id=activity_id, requests=[request], now=now
                )
        except IntegrityError:
            return DomainError(N_("activity.signed_up_already"))
        return result
