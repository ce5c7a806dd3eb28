"""The outbox sender: drains pending messages at a pace Telegram accepts.

Defaults stay under Telegram's limits (scheduler/pacing.py): 29.4 messages a second on an even
grid, never 30 starts within a second and a margin, at most one a second to one private chat, and
20 a minute to a group. A 429 pauses everything for `retry_after`; a member who blocked the bot
is marked unreachable; transient errors are retried with back-off.
Each message is claimed just before it is sent and marked just after, so a crash leaves at most
the messages in flight `uncertain` (never re-sent) and everything else to send after restart.

When the database goes away for a while (the process goes on), what Telegram answered is kept in
memory and recorded at the start of the next pass, and a claim that failed (it may have committed,
its answer lost) is put back to `pending` then: Telegram was never asked for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import ExtBot

from bot.db import SessionFactory
from bot.rate_limiter import NO_RETRY
from models.base import utcnow
from models.lease import LeaseFence
from models.outbox import (
    MAX_ATTEMPTS,
    Broadcast,
    DeliveryCounts,
    OutboxMessage,
    OutboxStatus,
    backoff,
    claim,
    counts,
    due_messages,
    finish,
    finished_unreported,
    follow_chat_migration,
    mark_member_unreachable,
    mark_reported,
    recover_after_crash,
    release_claims,
)
from scheduler.pacing import Pace, Pacer
from scheduler.quiet import QuietHours

logger = logging.getLogger(__name__)

ReportWriter = Callable[[Broadcast, DeliveryCounts], Awaitable[None]]


@dataclass
class DrainResult:
    """What one pass over the outbox did."""

    sent: int = 0
    unreachable: int = 0
    failed: int = 0
    retried: int = 0
    deferred: int = 0


@dataclass(frozen=True)
class _Outcome:
    """What Telegram answered for one message, to record in its row."""

    status: OutboxStatus
    error: str | None
    retry_at: datetime | None
    member_id: int | None
    telegram_message_id: int | None = None  # kept so the message can be edited later


@dataclass
class OutboxSender:
    """Sends what the outbox holds; one per application."""

    db: SessionFactory
    bot: Bot
    quiet: QuietHours
    pace: Pace = field(default_factory=Pace)
    report: ReportWriter | None = None
    now: Callable[[], datetime] = utcnow
    # The lease this copy holds (several copies on PostgreSQL): every claim is checked against
    # it in the database, so a copy that lost the lease sends nothing more. None: one copy.
    fence: LeaseFence | None = None
    # When each request may start (its clock and sleep are what a test replaces).
    pacer: Pacer = field(default_factory=Pacer)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    # Chats with a message of this pass in hand: a second one waits for a later pass.
    _next_for_chat: dict[int, float] = field(default_factory=dict)
    # Outcomes Telegram gave that the database did not take (it was away): recorded next pass.
    _unrecorded: dict[int, _Outcome] = field(default_factory=dict)
    # Messages whose claim failed: maybe committed, never sent; back to pending next pass.
    _doubtful_claims: set[int] = field(default_factory=set)

    def wake(self) -> None:
        """Something was enqueued: drain now rather than at the next poll."""
        self._wake.set()

    async def recover(self) -> int:
        """At start-up: messages left mid-send by a stopped bot become `uncertain`."""
        async with self.db() as session:
            stuck = await recover_after_crash(session)
        if stuck:
            logger.warning("%s outbox messages were being sent when the bot stopped", stuck)
        return stuck

    async def run(self, poll_seconds: float = 5.0) -> None:
        """Drain forever (a background task started with the application)."""
        # No pass before recovery: it would turn this process's own sends `uncertain`.
        while True:
            try:
                await self.recover()
                break
            except Exception:
                logger.exception("Outbox recovery failed; trying again shortly")
            await asyncio.sleep(poll_seconds)
        while True:
            try:
                result = await self.drain()
            except Exception:
                logger.exception("Outbox pass failed; trying again shortly")
                result = DrainResult()
            if result.sent or result.retried:
                continue
            self._wake.clear()
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancel that
            # arrives as the wait ends, and a sender that survives its cancel keeps a stopping
            # copy (one that lost its lease) from exiting.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(poll_seconds):
                    await self._wake.wait()

    async def drain(self, batch: int = 200) -> DrainResult:
        """Send everything due now (respecting quiet hours and pace); report finished ones.

        Raises the first database error a send met, once every send of the pass has ended; no
        new send starts after it.
        """
        result = DrainResult()
        await self._settle_earlier_failures(result)
        failures: list[Exception] = []
        semaphore = asyncio.Semaphore(self.pace.in_flight)
        moment = self.pacer.clock()
        self._next_for_chat = {c: t for c, t in self._next_for_chat.items() if t > moment}
        self.pacer.forget_idle(self.pace)
        tasks: set[asyncio.Task[None]] = set()
        while True:
            now = self.now()
            async with self.db() as session:
                due = await due_messages(
                    session, now=now, include_quiet=not self.quiet.contains(now), limit=batch
                )
            started = 0
            result.deferred = 0
            try:
                for message in due:
                    # Re-checked per message: a batch may hold several for one chat (a group).
                    if not self._chat_ready(message.chat_id):
                        result.deferred += 1
                        continue
                    await semaphore.acquire()
                    if failures:  # the database is likely away: leave the rest pending
                        semaphore.release()
                        break
                    self._reserve_chat(message.chat_id)
                    task = asyncio.create_task(self._send(message, result, semaphore, failures))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                    started += 1
                if tasks:
                    await asyncio.gather(*tasks)
            except asyncio.CancelledError:
                # Stopping: start nothing new, let the sends in hand finish (marking them sent),
                # and cut off only what hangs, so nothing runs on after the engine is closed.
                if tasks:
                    await asyncio.wait(tasks, timeout=5)
                for task in tasks:
                    task.cancel()
                raise
            if failures:
                raise failures[0]
            if started == 0 or len(due) < batch:
                break
        await self._report_finished()
        return result

    def _chat_ready(self, chat_id: int) -> bool:
        return self._next_for_chat.get(chat_id, 0.0) <= self.pacer.clock()

    def _reserve_chat(self, chat_id: int) -> None:
        # The pacer spaces the actual starts; this only keeps a pass from queuing a chat twice.
        self._next_for_chat[chat_id] = self.pacer.clock() + self.pace.chat_spacing(chat_id)

    async def _send(
        self,
        message: OutboxMessage,
        result: DrainResult,
        semaphore: asyncio.Semaphore,
        failures: list[Exception],
    ) -> None:
        """Claim, deliver and record one message; a database error goes to `failures`."""
        try:
            assert message.id is not None
            try:
                async with self.db() as session:
                    claimed = await claim(
                        session,
                        message_id=message.id,
                        fence=self.fence,
                        chat_id=message.chat_id,
                    )
            except BaseException:
                # The COMMIT may have taken effect with its answer lost: the row would stay
                # `sending` though Telegram was never asked.
                self._doubtful_claims.add(message.id)
                raise
            if not claimed:
                return
            # Paced right before the request: a slow commit above cannot become a burst.
            await self.pacer.wait(self.pace, message.chat_id)
            status, error, retry_at = await self._deliver(message)
            outcome = _Outcome(
                status, error, retry_at, message.member_id, message.telegram_message_id
            )
            try:
                await self._record(message.id, outcome)
            except BaseException:
                self._unrecorded[message.id] = outcome
                raise
            self._count(result, status, retry_at)
        except Exception as exc:
            failures.append(exc)
        finally:
            semaphore.release()

    async def _record(self, message_id: int, outcome: _Outcome) -> None:
        """Store what Telegram answered (a no-op if it was stored already)."""
        async with self.db() as session:
            await finish(
                session,
                message_id=message_id,
                status=outcome.status,
                error=outcome.error,
                retry_at=outcome.retry_at,
                telegram_message_id=outcome.telegram_message_id,
            )
            if outcome.status == OutboxStatus.UNREACHABLE and outcome.member_id is not None:
                await mark_member_unreachable(session, member_id=outcome.member_id)

    async def _settle_earlier_failures(self, result: DrainResult) -> None:
        """Record outcomes an earlier pass could not store; release its doubtful claims.

        Raises while the database is still away, keeping what is left for the next pass.
        """
        for message_id, outcome in list(self._unrecorded.items()):
            await self._record(message_id, outcome)
            del self._unrecorded[message_id]
            self._count(result, outcome.status, outcome.retry_at)
        if self._doubtful_claims:
            doubtful = sorted(self._doubtful_claims)
            async with self.db() as session:
                released = await release_claims(session, message_ids=doubtful)
            self._doubtful_claims.difference_update(doubtful)
            if released:
                logger.warning(
                    "%s outbox messages claimed but never sent are pending again", released
                )

    async def _send_message(self, message: OutboxMessage) -> Message:
        """sendMessage; through PTB's rate limiter with no retry of its own, so a 429 comes to
        this sender at once and its pacer pauses everything, rather than the limiter retrying
        quietly while the pacer went on granting starts (bot/rate_limiter.py)."""
        bot, markup = self.bot, _markup(message.buttons)
        if isinstance(bot, ExtBot) and bot.rate_limiter is not None:
            return await bot.send_message(
                message.chat_id, message.text, reply_markup=markup, rate_limit_args=NO_RETRY
            )
        return await bot.send_message(message.chat_id, message.text, reply_markup=markup)

    async def _deliver(
        self, message: OutboxMessage
    ) -> tuple[OutboxStatus, str | None, datetime | None]:
        try:
            sent = await self._send_message(message)
            message.telegram_message_id = sent.message_id
        except RetryAfter as exc:
            pause = _seconds(exc.retry_after)
            self.pacer.pause_for(pause)
            logger.warning("Telegram asked to slow down for %.0f s", pause)
            return OutboxStatus.PENDING, "retry_after", self.now() + timedelta(seconds=pause)
        except Forbidden:
            return OutboxStatus.UNREACHABLE, "forbidden", None
        except ChatMigrated as exc:
            return await self._follow(message, exc.new_chat_id)
        except TimedOut as exc:
            if "pool timeout" in str(exc).lower():
                # PTB never sent it (no free connection): safe to try again.
                return (
                    OutboxStatus.PENDING,
                    "pool_timeout",
                    backoff(message.attempts + 1, self.now()),
                )
            # Telegram may have delivered it: like a crash mid-send, never send it twice.
            return OutboxStatus.UNCERTAIN, "timed_out", None
        except BadRequest as exc:
            if "chat not found" in str(exc).lower():
                return OutboxStatus.UNREACHABLE, "chat_not_found", None
            logger.warning("Outbox message %s refused by Telegram", message.id)
            return OutboxStatus.FAILED, "bad_request", None
        except (NetworkError, TelegramError):
            if message.attempts + 1 >= MAX_ATTEMPTS:
                return OutboxStatus.FAILED, "network", None
            return OutboxStatus.PENDING, "network", backoff(message.attempts + 1, self.now())
        return OutboxStatus.SENT, None, None

    async def _follow(
        self, message: OutboxMessage, new_chat_id: int
    ) -> tuple[OutboxStatus, str | None, datetime | None]:
        """The group became a supergroup: its organization and its waiting messages take the
        new id, and this message goes again, there (nothing reached the old id)."""
        try:
            async with self.db() as session:
                await follow_chat_migration(session, old=message.chat_id, new=new_chat_id)
        except Exception:  # the database is away: asked again, and followed, next time
            logger.warning("Chat %s became a supergroup; not followed yet", message.chat_id)
            return OutboxStatus.PENDING, "chat_migrated", backoff(message.attempts + 1, self.now())
        logger.info("Chat %s became supergroup %s: followed", message.chat_id, new_chat_id)
        return OutboxStatus.PENDING, "chat_migrated", self.now()

    @staticmethod
    def _count(result: DrainResult, status: OutboxStatus, retry_at: datetime | None) -> None:
        if status == OutboxStatus.SENT:
            result.sent += 1
        elif status == OutboxStatus.UNREACHABLE:
            result.unreachable += 1
        elif status == OutboxStatus.FAILED:
            result.failed += 1
        elif retry_at is not None:
            result.retried += 1

    async def _report_finished(self) -> None:
        if self.report is None:
            return
        async with self.db() as session:
            done = await finished_unreported(session, minimum_total=self.pace.report_over)
        for broadcast in done:
            async with self.db() as session:
                if not await mark_reported(session, broadcast_id=broadcast.id or 0):
                    continue
                figures = await counts(session, broadcast_id=broadcast.id or 0)
            await self.report(broadcast, figures)


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _markup(buttons: str | None) -> InlineKeyboardMarkup | None:
    """Inline buttons stored with a message (JSON rows of [label, callback data])."""
    if not buttons:
        return None
    rows = json.loads(buttons)
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )
