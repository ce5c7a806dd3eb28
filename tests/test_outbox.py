"""The broadcast outbox and its sender: once per recipient, paced, quiet at night, exactly-once
across a crash, unreachable members dropped, large broadcasts reported to the committee.

The sender is driven by hand (the test bot runs no background tasks) with an injected clock.
Assertions are on the sendMessage calls the fake transport recorded and on the outbox rows.
Only the pacing and 429 tests use real time, and only as lower bounds on a rate limiter.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Bot
from telegram.error import TimedOut
from telegram.ext import ExtBot
from telegram.request import RequestData

from bot.db import SessionFactory, create_engine
from bot.rate_limiter import UnionRateLimiter
from models.audiences import audience_members
from models.base import utcnow
from models.calendar import AudienceType
from models.members import Member
from models.organizations import bind_committee_chat
from models.outbox import (
    ENQUEUE_CHUNK,
    MAX_ATTEMPTS,
    Broadcast,
    BroadcastKind,
    OutboxMessage,
    OutboxStatus,
    Recipient,
    claim,
    enqueue,
)
from scheduler.outbox import DrainResult, OutboxSender, Pace
from scheduler.quiet import QuietHours
from scheduler.runtime import Runtime
from scheduler.setup import write_report
from tests.support.factories import make_member
from tests.support.fake_telegram import TOKEN, Call, Failure, FakeTelegram
from tests.support.harness import COMMITTEE_GROUP_ID, BotHarness
from tests.support.updates import Person

SHANGHAI = ZoneInfo("Asia/Shanghai")
QUIET = QuietHours.parse("22:00-07:30", SHANGHAI)
# As fast as the event loop goes: for tests where pacing is not the point.
FAST = Pace(per_second=1000, private_chat_interval=0, group_interval=0)
# A Friday morning in Shanghai, well outside quiet hours.
MORNING = datetime(2027, 3, 5, 10, 0, tzinfo=SHANGHAI)
FIRST_CHAT = 50_000  # private chats of the bulk tests are FIRST_CHAT, FIRST_CHAT + 1, ...
LONG_AGO = datetime(2026, 1, 1, tzinfo=SHANGHAI)  # before any clock these tests use


def report_of(bot: BotHarness, broadcast: Broadcast, **figures: int) -> str:
    """The committee's report of a finished 51-recipient broadcast, as the bot writes it."""
    return runtime_of(bot).i18n.get("zh-Hans")(
        "outbox.report",
        when=broadcast.created_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
        total=51,
        **figures,
    )


# ---- an injected clock, and a transport that can time and "kill" the bot ------------------


@dataclass
class Clock:
    """`now` for the sender; the test moves it by hand."""

    moment: datetime

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, delta: timedelta) -> None:
        """Move time forward."""
        self.moment += delta


@dataclass
class Wire(FakeTelegram):
    """The recording fake, plus when each sendMessage arrived and a simulated process death.

    With `die_after` set, sendMessage calls beyond that number are recorded (the request left
    the bot, so Telegram may well have delivered it) and then never answered: the process is
    dead. The test cancels the hung tasks, as the end of the process would.
    """

    arrived: list[tuple[float, int]] = field(default_factory=list)  # (monotonic, chat id)
    die_after: int | None = None
    hung: list[asyncio.Task[Any]] = field(default_factory=list)
    all_hung: asyncio.Event = field(default_factory=asyncio.Event)
    hang_target: int = 1
    notify_after: int | None = None  # set `notified` once this many sendMessage were answered
    notified: asyncio.Event = field(default_factory=asyncio.Event)
    raise_on_send: BaseException | None = None  # raised (once) instead of answering
    hold: dict[int, asyncio.Event] = field(default_factory=dict)  # answer a chat once set

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = None,
        write_timeout: object = None,
        connect_timeout: object = None,
        pool_timeout: object = None,
    ) -> tuple[int, bytes]:
        """Time sendMessage calls; hang them after `die_after`."""
        if not url.endswith("/sendMessage"):
            return await super().do_request(url, method, request_data)
        params = dict(request_data.parameters) if request_data else {}
        held = self.hold.get(Call("sendMessage", params).chat_id or 0)
        if held is not None:
            await held.wait()
        if self.die_after is not None and len(self.sent()) >= self.die_after:
            self.calls.append(Call("sendMessage", params))
            task = asyncio.current_task()
            assert task is not None
            self.hung.append(task)
            if len(self.hung) >= self.hang_target:
                self.all_hung.set()
            await asyncio.Event().wait()  # no answer ever comes
        self.arrived.append((time.monotonic(), Call("sendMessage", params).chat_id or 0))
        if self.raise_on_send is not None:
            self.calls.append(Call("sendMessage", params))
            error, self.raise_on_send = self.raise_on_send, None
            raise error
        answer = await super().do_request(url, method, request_data)
        if self.notify_after is not None and len(self.sent()) >= self.notify_after:
            self.notified.set()
        return answer

    def arrivals(self, chat_id: int) -> list[float]:
        """When sendMessage calls to `chat_id` arrived."""
        return [moment for moment, chat in self.arrived if chat == chat_id]

    def per_chat(self) -> Counter[int]:
        """How many sendMessage calls each chat got."""
        return Counter(call.chat_id or 0 for call in self.sent())


@pytest.fixture
def wire() -> Wire:
    """A transport of the test's own."""
    return Wire()


@pytest.fixture
async def wire_bot(wire: Wire) -> AsyncIterator[Bot]:
    """A Bot talking over `wire`."""
    bot = Bot(TOKEN, request=wire, get_updates_request=wire)
    await bot.initialize()
    try:
        yield bot
    finally:
        await bot.shutdown()


# ---- helpers ------------------------------------------------------------------------------


def runtime_of(bot: BotHarness) -> Runtime:
    """The runtime start-up installed."""
    runtime = bot.app.state.runtime
    assert runtime is not None
    return runtime


def sender_for(
    bot: BotHarness,
    *,
    transport: Bot | None = None,
    pace: Pace = FAST,
    now: Clock | None = None,
    report: bool = False,
) -> OutboxSender:
    """A sender on the bot's database (as after a restart: nothing remembered in memory)."""
    return OutboxSender(
        db=bot.db,
        bot=transport or bot.app.bot,
        quiet=QUIET,
        pace=pace,
        report=functools.partial(write_report, runtime_of(bot)) if report else None,
        now=now or Clock(MORNING),
    )


def chats(count: int, first: int = FIRST_CHAT) -> list[int]:
    """`count` private chat ids."""
    return list(range(first, first + count))


async def put(
    bot: BotHarness,
    *,
    key: str,
    to: Sequence[int],
    quiet: bool = False,
    not_before: datetime = LONG_AGO,
    kind: BroadcastKind = BroadcastKind.ANNOUNCEMENT,
    report_chat_id: int | None = None,
    member_ids: dict[int, int] | None = None,
) -> Broadcast:
    """Enqueue one broadcast to `to` (text: `msg <chat id>`)."""
    recipients = [
        Recipient(chat_id=chat, text=f"msg {chat}", member_id=(member_ids or {}).get(chat))
        for chat in to
    ]
    async with bot.db() as session:
        broadcast = await enqueue(
            session,
            org_id=bot.org_id,
            key=key,
            kind=kind,
            recipients=recipients,
            not_before=not_before,
            quiet=quiet,
            report_chat_id=report_chat_id,
        )
    assert broadcast is not None
    return broadcast


async def rows(bot: BotHarness, broadcast: Broadcast | None = None) -> list[OutboxMessage]:
    """Outbox rows (of one broadcast), in id order."""
    statement = select(OutboxMessage).order_by(col(OutboxMessage.id))
    if broadcast is not None:
        statement = statement.where(OutboxMessage.broadcast_id == broadcast.id)
    async with bot.db() as session:
        return list((await session.exec(statement)).all())


async def row_to(bot: BotHarness, chat_id: int) -> OutboxMessage:
    """The only outbox row to `chat_id`."""
    found = [row for row in await rows(bot) if row.chat_id == chat_id]
    assert len(found) == 1, found
    return found[0]


async def statuses(bot: BotHarness) -> Counter[str]:
    """How many rows are in each status."""
    return Counter(row.status for row in await rows(bot))


def send_tasks() -> set[asyncio.Task[Any]]:
    """The sender's per-message tasks still alive."""
    return {
        task
        for task in asyncio.all_tasks()
        if getattr(task.get_coro(), "__qualname__", "") == "OutboxSender._send"
    }


async def drain_until_settled(sender: OutboxSender, bot: BotHarness, limit: float) -> None:
    """Drain again and again (real time) until nothing is pending, for at most `limit` s."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        await sender.drain()
        if not (await statuses(bot))[OutboxStatus.PENDING]:
            return
        await asyncio.sleep(0.02)


# ---- enqueue ------------------------------------------------------------------------------


async def test_enqueue_adds_one_row_per_recipient_and_collapses_duplicate_chats(
    bot: BotHarness,
) -> None:
    async with bot.db() as session:
        broadcast = await enqueue(
            session,
            org_id=bot.org_id,
            key="cal:1:2027-03-08",
            kind=BroadcastKind.GREETING,
            recipients=[
                Recipient(chat_id=501, text="给 501"),
                Recipient(chat_id=502, text="给 502"),
                Recipient(chat_id=501, text="给 501（又一次）"),
                Recipient(chat_id=503, text="给 503"),
            ],
            not_before=MORNING,
            quiet=True,
            report_chat_id=COMMITTEE_GROUP_ID,
        )
    assert broadcast is not None
    assert broadcast.total == 3
    stored = await rows(bot, broadcast)
    assert sorted(row.chat_id for row in stored) == [501, 502, 503]
    assert all(row.status == OutboxStatus.PENDING for row in stored)
    assert all(row.quiet and row.attempts == 0 and row.sent_at is None for row in stored)
    assert all(row.not_before == MORNING for row in stored)


async def test_the_same_key_twice_adds_nothing(bot: BotHarness) -> None:
    """A second scheduler run (or a restart) enqueuing the same occurrence never sends twice."""
    first = await put(bot, key="cal:7:2027-05-01", to=chats(3))
    async with bot.db() as session:
        again = await enqueue(
            session,
            org_id=bot.org_id,
            key="cal:7:2027-05-01",
            kind=BroadcastKind.GREETING,
            recipients=[Recipient(chat_id=chat, text="又一次") for chat in chats(5)],
            not_before=MORNING,
            quiet=True,
        )
        broadcasts = (await session.exec(select(func.count()).select_from(Broadcast))).one()
    assert again is None
    assert broadcasts == 1
    stored = await rows(bot)
    assert [row.broadcast_id for row in stored] == [first.id] * 3
    assert all(row.text.startswith("msg ") for row in stored)

    await sender_for(bot).drain()
    assert sorted(call.chat_id or 0 for call in bot.telegram.sent()) == chats(3)


async def test_a_broadcast_larger_than_one_insert_is_stored_whole_with_its_buttons(
    bot: BotHarness,
) -> None:
    """Rows go in by chunks of ENQUEUE_CHUNK: every recipient once, the buttons intact."""
    many = ENQUEUE_CHUNK * 2 + 7
    signup = ((("报名", "act:su:1"),),)
    async with bot.db() as session:
        broadcast = await enqueue(
            session,
            org_id=bot.org_id,
            key="announce:big",
            kind=BroadcastKind.ANNOUNCEMENT,
            recipients=[
                Recipient(chat_id=10_000 + n, text=f"给 {n}", buttons=signup if n % 2 else ())
                for n in range(many)
            ],
            not_before=MORNING,
            quiet=True,
        )
    assert broadcast is not None and broadcast.total == many
    stored = await rows(bot, broadcast)
    assert sorted(row.chat_id for row in stored) == [10_000 + n for n in range(many)]
    assert {row.chat_id - 10_000: row.text for row in stored} == {n: f"给 {n}" for n in range(many)}
    with_buttons = {row.chat_id - 10_000 for row in stored if row.buttons}
    assert with_buttons == {n for n in range(many) if n % 2}
    assert {row.buttons for row in stored if row.buttons} == {'[[["报名", "act:su:1"]]]'}
    assert all(row.status == OutboxStatus.PENDING and row.attempts == 0 for row in stored)


async def test_a_broadcast_that_fails_in_a_later_chunk_leaves_nothing(bot: BotHarness) -> None:
    """One transaction: a row refused after the first chunks were written takes them back."""
    recipients = [Recipient(chat_id=20_000 + n, text="通知") for n in range(ENQUEUE_CHUNK + 5)]
    recipients.append(Recipient(chat_id=29_999, text="通知", member_id=987_654))  # no such member
    with pytest.raises(IntegrityError):
        async with bot.db() as session:
            await enqueue(
                session,
                org_id=bot.org_id,
                key="announce:broken",
                kind=BroadcastKind.ANNOUNCEMENT,
                recipients=recipients,
                not_before=MORNING,
                quiet=True,
            )
    async with bot.db() as session:
        messages = (await session.exec(select(func.count()).select_from(OutboxMessage))).one()
        broadcasts = (await session.exec(select(func.count()).select_from(Broadcast))).one()
    assert (messages, broadcasts) == (0, 0)


# ---- draining -----------------------------------------------------------------------------


async def test_drain_delivers_each_pending_message_once(bot: BotHarness) -> None:
    broadcast = await put(bot, key="announce:1", to=chats(12))
    before = utcnow()

    result = await sender_for(bot).drain()

    assert result.sent == 12
    sent = bot.telegram.sent()
    assert sorted(call.chat_id or 0 for call in sent) == chats(12)
    assert {call.chat_id: call.text for call in sent} == {chat: f"msg {chat}" for chat in chats(12)}
    for row in await rows(bot, broadcast):
        assert row.status == OutboxStatus.SENT
        assert row.attempts == 1
        assert row.error is None
        assert row.sent_at is not None and row.sent_at >= before - timedelta(seconds=1)

    again = await sender_for(bot).drain()
    assert again == DrainResult()
    assert len(bot.telegram.sent()) == 12


async def test_messages_wait_for_their_not_before(bot: BotHarness) -> None:
    await put(bot, key="later", to=[601], not_before=MORNING + timedelta(hours=2))
    clock = Clock(MORNING)
    sender = sender_for(bot, now=clock)

    await sender.drain()
    assert bot.telegram.sent() == []

    clock.advance(timedelta(hours=2))
    await sender.drain()
    assert [call.chat_id for call in bot.telegram.sent()] == [601]


# ---- quiet hours --------------------------------------------------------------------------


async def test_member_messages_wait_out_quiet_hours_committee_tasks_do_not(
    bot: BotHarness,
) -> None:
    late_evening = datetime(2027, 3, 7, 23, 0, tzinfo=SHANGHAI)
    await put(
        bot,
        key="greeting",
        to=[701, 702],
        quiet=True,
        kind=BroadcastKind.GREETING,
        not_before=late_evening - timedelta(hours=2),
    )
    await put(
        bot,
        key="task",
        to=[COMMITTEE_GROUP_ID],
        quiet=False,
        kind=BroadcastKind.TASK,
        not_before=late_evening - timedelta(hours=2),
    )
    clock = Clock(late_evening)
    sender = sender_for(bot, now=clock)

    await sender.drain()
    assert [call.chat_id for call in bot.telegram.sent()] == [COMMITTEE_GROUP_ID]
    assert (await row_to(bot, 701)).status == OutboxStatus.PENDING

    clock.moment = datetime(2027, 3, 8, 7, 29, tzinfo=SHANGHAI)
    await sender.drain()
    assert len(bot.telegram.sent()) == 1

    clock.moment = datetime(2027, 3, 8, 7, 30, tzinfo=SHANGHAI)
    await sender.drain()
    assert sorted(call.chat_id or 0 for call in bot.telegram.sent()) == [
        COMMITTEE_GROUP_ID,
        701,
        702,
    ]
    assert (await row_to(bot, 702)).status == OutboxStatus.SENT


def at(hour: int, minute: int = 0, day: int = 8) -> datetime:
    """A moment in March 2027, Shanghai time."""
    return datetime(2027, 3, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (at(21, 59), False),
        (at(22, 0), True),
        (at(23, 59), True),
        (at(0, 0), True),
        (at(3, 0), True),
        (at(7, 29), True),
        (at(7, 30), False),
        (at(12, 0), False),
        # The same instants seen from UTC: the window is Shanghai's, not the server's.
        (datetime(2027, 3, 8, 14, 0, tzinfo=UTC), True),  # 22:00 in Shanghai
        (datetime(2027, 3, 8, 13, 59, tzinfo=UTC), False),
        (datetime(2027, 3, 7, 23, 30, tzinfo=UTC), False),  # 07:30 on the 8th
    ],
)
def test_quiet_window_across_midnight(moment: datetime, inside: bool) -> None:
    assert QUIET.contains(moment) is inside


def test_quiet_hours_parse_normalizes_and_refuses() -> None:
    window = QuietHours.parse(" 7:05-9:30 ", SHANGHAI)
    assert (window.start, window.end) == (clock_time(7, 5), clock_time(9, 30))
    for bad in ("22:00", "22-07", "22:00-07:3", "晚上十点-早上七点", ""):
        with pytest.raises(ValueError, match="quiet hours"):
            QuietHours.parse(bad, SHANGHAI)


def test_next_allowed_is_the_end_of_the_window() -> None:
    next_morning = datetime(2027, 3, 9, 7, 30, tzinfo=SHANGHAI)
    assert QUIET.next_allowed(at(23, 0)) == datetime(2027, 3, 8, 23, 30, tzinfo=UTC)
    assert QUIET.next_allowed(at(23, 0)) == next_morning
    assert QUIET.next_allowed(at(22, 0)) == next_morning
    assert QUIET.next_allowed(at(3, 0, day=9)) == next_morning
    assert QUIET.next_allowed(at(7, 29, day=9)) == next_morning
    # Outside the window: the moment itself.
    assert QUIET.next_allowed(at(12, 0)) == at(12, 0)
    assert QUIET.next_allowed(at(7, 30)) == at(7, 30)


def test_a_window_within_one_day() -> None:
    lunch = QuietHours.parse("12:00-13:30", SHANGHAI)
    assert lunch.contains(at(12, 0))
    assert lunch.contains(at(13, 29))
    assert not lunch.contains(at(13, 30))
    assert not lunch.contains(at(11, 59))
    assert not lunch.contains(at(0, 0))
    assert lunch.next_allowed(at(12, 45)) == at(13, 30)


def test_an_empty_window_means_no_quiet_hours() -> None:
    never = QuietHours.parse("00:00-00:00", SHANGHAI)
    for hour in range(24):
        assert not never.contains(at(hour, 0))
        assert never.next_allowed(at(hour, 0)) == at(hour, 0)


# ---- failures -----------------------------------------------------------------------------


async def test_a_member_who_blocked_the_bot_becomes_unreachable_and_leaves_audiences(
    bot: BotHarness,
) -> None:
    blocker = await make_member(
        bot.db, org_id=bot.org_id, person=Person(801, "屏蔽"), name="周老师"
    )
    reader = await make_member(bot.db, org_id=bot.org_id, person=Person(802, "读者"), name="吴老师")
    assert blocker.id is not None and reader.id is not None
    bot.telegram.failures.append(
        Failure("sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=801)
    )
    await put(bot, key="news", to=[801, 802], member_ids={801: blocker.id, 802: reader.id})

    result = await sender_for(bot).drain()

    assert (result.sent, result.unreachable) == (1, 1)
    blocked = await row_to(bot, 801)
    assert (blocked.status, blocked.error, blocked.sent_at) == (
        OutboxStatus.UNREACHABLE,
        "forbidden",
        None,
    )
    assert (await row_to(bot, 802)).status == OutboxStatus.SENT
    async with bot.db() as session:
        stored = await session.get(Member, blocker.id)
        assert stored is not None and stored.unreachable_since is not None
        everyone = await audience_members(
            session,
            org_id=bot.org_id,
            audience={"type": AudienceType.EVERYONE},
            today=MORNING.date(),
            respect_mute=True,
        )
    assert [member.id for member in everyone] == [reader.id]

    # Not tried again.
    await sender_for(bot).drain()
    assert len(bot.telegram.sent(chat_id=801)) == 1


async def test_chat_not_found_is_unreachable_other_bad_requests_fail_at_once(
    bot: BotHarness,
) -> None:
    bot.telegram.failures += [
        Failure("sendMessage", 400, "Bad Request: chat not found"),
        Failure("sendMessage", 400, "Bad Request: message is too long"),
    ]
    await put(bot, key="news", to=[811, 812, 813])
    clock = Clock(MORNING)

    result = await sender_for(bot, now=clock, pace=replace(FAST, in_flight=1)).drain()

    assert (result.sent, result.unreachable, result.failed) == (1, 1, 1)
    gone, refused, fine = [await row_to(bot, chat) for chat in (811, 812, 813)]
    assert (gone.status, gone.error) == (OutboxStatus.UNREACHABLE, "chat_not_found")
    assert (refused.status, refused.error) == (OutboxStatus.FAILED, "bad_request")
    assert fine.status == OutboxStatus.SENT
    clock.advance(timedelta(days=1))
    await sender_for(bot, now=clock).drain()
    assert len(bot.telegram.sent()) == 3


async def test_a_server_error_is_retried_with_back_off_then_fails(bot: BotHarness) -> None:
    bot.telegram.failures.append(
        Failure("sendMessage", 500, "Internal Server Error", times=MAX_ATTEMPTS)
    )
    await put(bot, key="news", to=[821])
    clock = Clock(MORNING)
    sender = sender_for(bot, now=clock)

    for attempt in range(1, MAX_ATTEMPTS):
        result = await sender.drain()
        assert result.retried == 1
        row = await row_to(bot, 821)
        assert (row.status, row.attempts, row.error) == (OutboxStatus.PENDING, attempt, "network")
        delay = timedelta(seconds=10 * 2 ** (attempt - 1))
        assert row.not_before == clock.moment + delay
        # Not before its time...
        clock.moment = row.not_before - timedelta(seconds=1)
        await sender.drain()
        assert len(bot.telegram.sent()) == attempt
        # ...then again.
        clock.moment = row.not_before

    result = await sender.drain()
    assert result.failed == 1
    row = await row_to(bot, 821)
    assert (row.status, row.attempts, row.error) == (OutboxStatus.FAILED, MAX_ATTEMPTS, "network")
    clock.advance(timedelta(days=1))
    await sender.drain()
    assert len(bot.telegram.sent()) == MAX_ATTEMPTS


async def test_a_transient_error_then_success(bot: BotHarness) -> None:
    bot.telegram.failures.append(Failure("sendMessage", 502, "Bad Gateway"))
    await put(bot, key="news", to=[831])
    clock = Clock(MORNING)
    sender = sender_for(bot, now=clock)

    await sender.drain()
    clock.advance(timedelta(seconds=10))
    await sender.drain()

    row = await row_to(bot, 831)
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 2)
    assert [call.text for call in bot.telegram.sent()] == ["msg 831", "msg 831"]


async def test_a_timed_out_send_is_not_sent_again(
    bot: BotHarness, wire: Wire, wire_bot: Bot
) -> None:
    """A read timeout means the request may have reached Telegram, like a crash mid-send: the
    outbox's own rule for that case is `uncertain`, never sent again."""
    await put(bot, key="news", to=[841])
    wire.raise_on_send = TimedOut()
    clock = Clock(MORNING)
    sender = sender_for(bot, transport=wire_bot, now=clock)

    await sender.drain()
    clock.advance(timedelta(minutes=10))
    await sender.drain()

    assert wire.per_chat()[841] == 1
    assert (await row_to(bot, 841)).status != OutboxStatus.SENT


async def test_retry_after_pauses_sending_and_the_message_goes_later(
    bot: BotHarness, wire: Wire, wire_bot: Bot
) -> None:
    """Real time (about one second): Telegram's 429 asks for a pause of `retry_after` = 1 s."""
    wire.failures.append(
        Failure("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    )
    await put(bot, key="news", to=[851, 852])
    # One message at a time; the rate slot is granted at once, so the second message waits only
    # for the first to finish (the in-flight limit), and then for the pause the 429 asked for.
    pace = Pace(per_second=1_000_000, private_chat_interval=0, group_interval=0, in_flight=1)
    sender = OutboxSender(db=bot.db, bot=wire_bot, quiet=QUIET, pace=pace)  # real clock

    await drain_until_settled(sender, bot, limit=3.0)

    first, second = await row_to(bot, 851), await row_to(bot, 852)
    assert (first.status, first.attempts) == (OutboxStatus.SENT, 2)
    assert second.status == OutboxStatus.SENT
    assert wire.per_chat() == Counter({851: 2, 852: 1})
    refused_at, delivered_at = wire.arrivals(851)
    assert delivered_at - refused_at >= 0.9
    # Everything pauses, not just the refused message: 852 was still waiting when the 429 came.
    assert wire.arrivals(852)[0] - refused_at >= 0.9


async def test_through_the_rate_limiter_a_429_reaches_the_sender_at_once(
    bot: BotHarness, wire: Wire
) -> None:
    """The application's bot has PTB's rate limiter, which retries a 429 itself. The outbox's
    sends are never retried there: the sender hears the 429 at once, records it, and its
    pacer holds every start for `retry_after` (else sends queued in the limiter would all
    leave together when the pause ended)."""
    wire.failures.append(
        Failure("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    )
    limited = ExtBot(
        TOKEN, request=wire, get_updates_request=wire, rate_limiter=UnionRateLimiter(max_retries=3)
    )
    await limited.initialize()
    try:
        await put(bot, key="news", to=[861, 862])
        pace = Pace(per_second=1_000_000, private_chat_interval=0, group_interval=0, in_flight=1)
        sender = OutboxSender(db=bot.db, bot=limited, quiet=QUIET, pace=pace)

        first_pass = await sender.drain()
        assert first_pass.retried == 1  # the 429 came back to the sender, not into a retry
        assert wire.per_chat()[861] == 1
        await drain_until_settled(sender, bot, limit=3.0)
    finally:
        await limited.shutdown()

    first = await row_to(bot, 861)
    assert (first.status, first.attempts) == (OutboxStatus.SENT, 2)
    assert (await row_to(bot, 862)).status == OutboxStatus.SENT
    refused_at, delivered_at = wire.arrivals(861)
    assert delivered_at - refused_at >= 0.9
    assert wire.arrivals(862)[0] - refused_at >= 0.9


async def test_two_senders_draining_at_once_send_each_message_once(
    bot: BotHarness, wire: Wire, wire_bot: Bot
) -> None:
    """Each message is claimed in the database before it is sent (UPDATE ... WHERE pending)."""
    await put(bot, key="busy", to=chats(40))
    one, other = sender_for(bot, transport=wire_bot), sender_for(bot, transport=wire_bot)

    first, second = await asyncio.gather(one.drain(), other.drain())

    assert first.sent + second.sent == 40
    assert wire.per_chat() == Counter(chats(40))
    assert await statuses(bot) == Counter({OutboxStatus.SENT: 40})


# ---- exactly once across a crash ----------------------------------------------------------


async def test_a_crash_with_messages_in_flight_never_sends_anything_twice(
    bot: BotHarness, wire: Wire, wire_bot: Bot
) -> None:
    total, before_crash = 200, 100
    await put(bot, key="big", to=chats(total), quiet=False)
    wire.die_after = before_crash
    wire.hang_target = FAST.in_flight  # every slot stuck in a send: the process is frozen
    first_life = sender_for(bot, transport=wire_bot)

    draining = asyncio.create_task(first_life.drain())
    await asyncio.wait_for(wire.all_hung.wait(), timeout=10)
    # The process dies: everything it was doing stops.
    stuck = send_tasks()
    assert len(stuck) == FAST.in_flight
    for task in (draining, *stuck):
        task.cancel()
    await asyncio.gather(draining, *stuck, return_exceptions=True)
    assert (await statuses(bot))[OutboxStatus.SENT] == before_crash

    # Restart: a fresh sender, a working network.
    wire.die_after = None
    second_life = sender_for(bot, transport=wire_bot)
    uncertain = await second_life.recover()
    result = await second_life.drain()

    counts = await statuses(bot)
    assert 0 < uncertain <= FAST.in_flight
    assert counts == Counter(
        {OutboxStatus.SENT: total - uncertain, OutboxStatus.UNCERTAIN: uncertain}
    )
    assert result.sent == total - before_crash - uncertain
    per_chat = wire.per_chat()
    assert max(per_chat.values()) == 1, "a message went out twice"
    assert sorted(per_chat) == chats(total)  # the uncertain ones were tried exactly once
    for row in await rows(bot):
        assert row.status in (OutboxStatus.SENT, OutboxStatus.UNCERTAIN)
        assert per_chat[row.chat_id] == 1


async def test_a_crash_between_two_sends_loses_nothing_and_sends_nothing_twice(
    bot: BotHarness, wire: Wire, wire_bot: Bot
) -> None:
    total, before_crash = 150, 60
    await put(bot, key="big", to=chats(total), quiet=False)
    wire.notify_after = before_crash
    one_at_a_time = Pace(per_second=1000, private_chat_interval=0, group_interval=0, in_flight=1)
    first_life = sender_for(bot, transport=wire_bot, pace=one_at_a_time)

    draining = asyncio.create_task(first_life.drain())
    await asyncio.wait_for(wire.notified.wait(), timeout=10)
    draining.cancel()  # stopped while waiting for the next slot
    await asyncio.gather(draining, return_exceptions=True)
    # The message in hand when it stopped is finished, nothing else is started.
    await asyncio.gather(*send_tasks())
    sent_before = (await statuses(bot))[OutboxStatus.SENT]
    assert before_crash <= sent_before < total

    wire.notify_after = None
    second_life = sender_for(bot, transport=wire_bot)
    assert await second_life.recover() == 0
    result = await second_life.drain()

    assert result.sent == total - sent_before
    assert await statuses(bot) == Counter({OutboxStatus.SENT: total})
    assert wire.per_chat() == Counter(chats(total))


# ---- the database away for a while (the process goes on) ---------------------------------


@dataclass
class FlakyDatabase:
    """The sender's own engine on the test database, which "goes away" when the test says.

    The faults are injected where the driver meets the server: a statement refused before it
    runs (the server is gone), or a commit that takes effect whose answer never comes back.
    The bot's engine is untouched, so the test reads and writes the rows as usual.
    """

    url: str
    down: bool = False  # every statement is refused
    refused: int = 0  # statements refused so far
    fired: asyncio.Event = field(default_factory=asyncio.Event)  # a fault was injected
    _fail_next: re.Pattern[str] | None = None
    _lose_next_commit: bool = False
    _engine: Any = None
    db: SessionFactory = field(init=False)

    def __post_init__(self) -> None:
        self._engine = create_engine(self.url)
        event.listen(self._engine.sync_engine, "before_cursor_execute", self._before_execute)
        sync_maker = sessionmaker(class_=Session)
        event.listen(sync_maker, "after_commit", self._after_commit)
        self.db = async_sessionmaker(
            self._engine,
            class_=AsyncSession,
            sync_session_class=cast(Any, sync_maker),
            expire_on_commit=False,
        )

    def fail_next(self, pattern: str) -> None:
        """The next statement whose SQL matches `pattern` is refused (once)."""
        self._fail_next = re.compile(pattern)

    def lose_next_commit_answer(self) -> None:
        """The next commit takes effect; then the connection breaks before the answer."""
        self._lose_next_commit = True

    async def close(self) -> None:
        """Release the engine's connections."""
        await self._engine.dispose()

    def _gone(self, statement: str) -> OperationalError:
        self.refused += 1
        self.fired.set()
        return OperationalError(statement, None, ConnectionResetError("server closed"))

    def _before_execute(self, _conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        if self.down:
            raise self._gone(statement)
        if self._fail_next is not None and self._fail_next.search(statement):
            self._fail_next = None
            raise self._gone(statement)

    def _after_commit(self, _session: Session) -> None:
        if self._lose_next_commit:
            self._lose_next_commit = False
            raise self._gone("COMMIT")


@pytest.fixture
async def flaky(bot: BotHarness) -> AsyncIterator[FlakyDatabase]:
    """A breakable way to the bot's database, for the sender under test."""
    database = FlakyDatabase(bot.app.state.settings.database_url)
    yield database
    await database.close()


def flaky_sender(
    bot: BotHarness, flaky: FlakyDatabase, *, transport: Bot | None = None, **kwargs: Any
) -> OutboxSender:
    """A sender reaching the database through `flaky`."""
    return replace(sender_for(bot, transport=transport, **kwargs), db=flaky.db)


ONE_AT_A_TIME = Pace(per_second=1000, private_chat_interval=0, group_interval=0, in_flight=1)
# The UPDATE that records a delivered message (the only statement that sets sent_at).
RECORD_SENT = r"^UPDATE outbox_message SET .*sent_at"


async def wait_until(condition: Callable[[], bool | Awaitable[bool]], what: str) -> None:
    """Let other tasks run until `condition()` holds (a generous bound against hangs)."""
    for _ in range(400):
        holds = condition()
        if holds if isinstance(holds, bool) else await holds:
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"timed out waiting for {what}")


async def test_an_answer_the_database_missed_is_recorded_next_pass_and_reported(
    bot: BotHarness, flaky: FlakyDatabase
) -> None:
    """Telegram took the message, the database was away: the row does not wait for a restart."""
    await bind_group(bot)
    recipients = chats(51)
    broadcast = await put(
        bot,
        key="cal:9:2027-03-08",
        to=recipients,
        report_chat_id=COMMITTEE_GROUP_ID,
        not_before=utcnow() - timedelta(minutes=1),
    )
    sender = flaky_sender(bot, flaky, now=daytime_clock(), report=True)
    flaky.fail_next(RECORD_SENT)

    with pytest.raises(OperationalError):
        await sender.drain()

    first_pass = bot.telegram.sent()
    after_outage = await statuses(bot)
    assert send_tasks() == set()  # the pass ended every send it started before raising
    assert after_outage[OutboxStatus.SENDING] == 1
    assert after_outage[OutboxStatus.SENT] == len(first_pass) - 1
    # Nothing new started after the failure: at most the sends already in flight went out.
    assert 0 < len(first_pass) <= FAST.in_flight
    assert report_texts(bot) == []

    result = await sender.drain()  # the database is back
    await sender.drain()  # the report goes out

    assert result.sent == 51 - after_outage[OutboxStatus.SENT]  # the missed one counts here
    assert await statuses(bot) == Counter({OutboxStatus.SENT: 52})  # 51 and the report
    assert Counter(call.chat_id for call in bot.telegram.sent() if call.chat_id in recipients) == (
        Counter(recipients)
    )
    expected = report_of(bot, broadcast, sent=51, unreachable=0, failed=0)
    assert report_texts(bot) == [expected]


async def test_an_answer_is_kept_until_the_database_takes_it(
    bot: BotHarness, flaky: FlakyDatabase
) -> None:
    """A pass that starts while the database is still away fails, and forgets nothing."""
    await put(bot, key="kept", to=[811, 812])
    sender = flaky_sender(bot, flaky, pace=ONE_AT_A_TIME)
    flaky.fail_next(RECORD_SENT)
    with pytest.raises(OperationalError):
        await sender.drain()

    flaky.down = True
    with pytest.raises(OperationalError):
        await sender.drain()
    assert [call.chat_id for call in bot.telegram.sent()] == [811]  # nothing new meanwhile
    assert (await row_to(bot, 811)).status == OutboxStatus.SENDING
    flaky.down = False
    result = await sender.drain()

    assert result.sent == 2
    assert sorted(call.chat_id or 0 for call in bot.telegram.sent()) == [811, 812]
    for chat in (811, 812):
        row = await row_to(bot, chat)
        assert (row.status, row.attempts) == (OutboxStatus.SENT, 1)
        assert row.sent_at is not None


async def test_a_claim_that_took_effect_unheard_is_sent_next_pass(
    bot: BotHarness, flaky: FlakyDatabase
) -> None:
    """The claim committed but the sender saw an error: Telegram was never asked, so it is."""
    await put(bot, key="unheard", to=[821, 822, 823])
    sender = flaky_sender(bot, flaky, pace=ONE_AT_A_TIME)
    flaky.lose_next_commit_answer()  # the first claim

    with pytest.raises(OperationalError):
        await sender.drain()

    assert bot.telegram.sent() == []
    first = await row_to(bot, 821)
    assert (first.status, first.attempts) == (OutboxStatus.SENDING, 1)  # it did take effect
    assert (await statuses(bot))[OutboxStatus.PENDING] == 2  # nothing new after the failure

    result = await sender.drain()

    assert result.sent == 3
    assert sorted(call.chat_id or 0 for call in bot.telegram.sent()) == [821, 822, 823]
    for row in await rows(bot):
        # The attempt the lost claim counted was given back: Telegram was asked once.
        assert (row.status, row.attempts) == (OutboxStatus.SENT, 1)


async def test_a_claim_refused_before_it_ran_is_simply_sent_next_pass(
    bot: BotHarness, flaky: FlakyDatabase
) -> None:
    """A claim that never reached the database leaves its row pending, attempts untouched."""
    await put(bot, key="refused", to=[826])
    sender = flaky_sender(bot, flaky)
    flaky.fail_next(r"^UPDATE outbox_message SET status=\S+, attempts=")

    with pytest.raises(OperationalError):
        await sender.drain()
    untouched = await row_to(bot, 826)
    assert (untouched.status, untouched.attempts) == (OutboxStatus.PENDING, 0)
    await sender.drain()

    sent = await row_to(bot, 826)
    assert (sent.status, sent.attempts) == (OutboxStatus.SENT, 1)
    assert [call.chat_id for call in bot.telegram.sent()] == [826]


async def test_a_failed_pass_waits_for_its_other_sends_before_raising(
    bot: BotHarness, flaky: FlakyDatabase, wire: Wire, wire_bot: Bot
) -> None:
    """No send runs on unwatched after its pass has failed."""
    await put(bot, key="two", to=[831, 832])
    answer_832 = asyncio.Event()
    wire.hold[832] = answer_832  # Telegram is slow to answer 832
    sender = flaky_sender(bot, flaky, transport=wire_bot)
    flaky.fail_next(RECORD_SENT)  # 831 is answered first; recording it fails

    draining = asyncio.create_task(sender.drain())
    await asyncio.wait_for(flaky.fired.wait(), timeout=10)
    answer_832.set()
    with pytest.raises(OperationalError):
        await draining

    assert send_tasks() == set()
    assert (await row_to(bot, 832)).status == OutboxStatus.SENT  # recorded before the raise
    assert (await row_to(bot, 831)).status == OutboxStatus.SENDING  # recorded next pass
    await sender.drain()
    assert (await row_to(bot, 831)).status == OutboxStatus.SENT
    assert wire.per_chat() == Counter({831: 1, 832: 1})


async def test_the_sender_starts_while_the_database_is_away(
    bot: BotHarness, flaky: FlakyDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    """Recovery is retried until the database answers; only then does sending begin."""
    caplog.set_level(logging.WARNING)
    await put(bot, key="start", to=[841, 842])
    left_mid_send = (await row_to(bot, 841)).id
    assert left_mid_send is not None
    async with bot.db() as session:
        assert await claim(session, message_id=left_mid_send)  # as a stopped bot left it
    sender = flaky_sender(bot, flaky)
    flaky.down = True

    runner = asyncio.create_task(sender.run(poll_seconds=0.01))
    try:
        await wait_until(lambda: flaky.refused >= 3, "three refused recoveries")
        assert not runner.done()
        assert bot.telegram.sent() == []
        flaky.down = False

        async def recorded() -> bool:
            return (await row_to(bot, 842)).status == OutboxStatus.SENT

        await wait_until(recorded, "a message sent and recorded")
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)

    assert [call.chat_id for call in bot.telegram.sent()] == [842]
    assert (await row_to(bot, 841)).status == OutboxStatus.UNCERTAIN  # never sent twice
    assert any("Outbox recovery failed" in record.getMessage() for record in caplog.records)


# ---- reports ------------------------------------------------------------------------------


def daytime_clock() -> Clock:
    """A fixed moment an hour or more after the real now, outside quiet hours.

    The report is enqueued at the real time (scheduler.setup.write_report), so the sender's
    clock must not be behind it.
    """
    return Clock(QUIET.next_allowed(utcnow() + timedelta(hours=1)))


def report_texts(bot: BotHarness) -> list[str]:
    """Reports the committee group received."""
    return [text for text in bot.telegram.texts(COMMITTEE_GROUP_ID) if "📊" in text]


async def test_a_large_broadcast_reports_once_when_done(bot: BotHarness) -> None:
    await bind_group(bot)
    recipients = chats(51)
    broadcast = await put(
        bot,
        key="cal:3:2027-03-08",
        to=recipients,
        quiet=True,
        kind=BroadcastKind.GREETING,
        report_chat_id=COMMITTEE_GROUP_ID,
        not_before=utcnow() - timedelta(minutes=1),
    )
    bot.telegram.failures += [
        Failure("sendMessage", 500, "Internal Server Error"),
        Failure("sendMessage", 403, "Forbidden: bot was blocked by the user"),
        Failure("sendMessage", 400, "Bad Request: message is too long"),
    ]
    clock = daytime_clock()
    one_at_a_time = Pace(per_second=1000, private_chat_interval=0, group_interval=0, in_flight=1)
    sender = sender_for(bot, pace=one_at_a_time, now=clock, report=True)

    await sender.drain()
    # One message waits for its retry: the broadcast is not done, no report yet.
    assert (await row_to(bot, recipients[0])).status == OutboxStatus.PENDING
    await sender.drain()
    assert report_texts(bot) == []

    clock.advance(timedelta(seconds=10))
    await sender.drain()  # the retry goes out; the broadcast is done and its report enqueued
    await sender.drain()  # the report goes out
    expected = report_of(bot, broadcast, sent=49, unreachable=1, failed=1)
    assert report_texts(bot) == [expected]
    assert "送达 49" in expected and "未送达 1" in expected and "失败 1" in expected
    async with bot.db() as session:
        stored = await session.get(Broadcast, broadcast.id)
        assert stored is not None and stored.reported_at is not None

    clock.advance(timedelta(hours=1))
    await sender.drain()
    await sender_for(bot, now=clock, report=True).drain()
    assert len(report_texts(bot)) == 1


async def test_fifty_recipients_or_no_report_chat_means_no_report(bot: BotHarness) -> None:
    await bind_group(bot)
    await put(bot, key="fifty", to=chats(50), report_chat_id=COMMITTEE_GROUP_ID)
    await put(bot, key="no-chat", to=chats(60, first=70_000), report_chat_id=None)
    sender = sender_for(bot, now=daytime_clock(), report=True)

    await sender.drain()
    await sender.drain()

    assert len(bot.telegram.sent()) == 110
    assert bot.telegram.sent(chat_id=COMMITTEE_GROUP_ID) == []
    async with bot.db() as session:
        reported = (
            await session.exec(select(Broadcast).where(col(Broadcast.reported_at).is_not(None)))
        ).all()
    assert reported == []


async def bind_group(bot: BotHarness) -> None:
    """Bind the committee group to the organization."""
    async with bot.db() as session:
        await bind_committee_chat(session, org_id=bot.org_id, chat_id=COMMITTEE_GROUP_ID)


# ---- pacing (real time, lower bounds only) ------------------------------------------------

JITTER = 0.1  # how late a send may reach the wire after its slot on a busy machine


async def test_the_overall_rate_is_kept(bot: BotHarness, wire: Wire, wire_bot: Bot) -> None:
    await put(bot, key="thirty", to=chats(30))
    sender = sender_for(
        bot, transport=wire_bot, pace=Pace(per_second=20, private_chat_interval=0, group_interval=0)
    )

    started = time.monotonic()
    result = await sender.drain()
    elapsed = time.monotonic() - started

    assert result.sent == 30
    assert elapsed >= 1.3  # 29 gaps of 1/20 s
    moments = [moment for moment, _ in wire.arrived]
    assert all(
        later - earlier >= 1.0 - 2 * JITTER
        for earlier, later in zip(moments, moments[20:], strict=False)
    )


async def test_one_chat_gets_its_messages_spaced(
    bot: BotHarness, wire: Wire, wire_bot: Bot
) -> None:
    """Two broadcasts reach the same group and the same private chat: each pair is spaced."""
    private = 861
    await put(bot, key="digest", to=[COMMITTEE_GROUP_ID, private])
    await put(bot, key="task", to=[COMMITTEE_GROUP_ID, private])
    pace = Pace(per_second=1000, private_chat_interval=0.5, group_interval=0.8)
    sender = sender_for(bot, transport=wire_bot, pace=pace)

    await drain_until_settled(sender, bot, limit=3.0)

    assert wire.per_chat() == Counter({COMMITTEE_GROUP_ID: 2, private: 2})
    # Slots are kept on the sender's clock; the arrival of the first message may lag its slot
    # on a loaded machine (seen: more than 0.1 s at a load of 6), so the intervals are long and
    # 0.3 s of lag is allowed: without pacing the gap would be ~0.
    first, second = wire.arrivals(COMMITTEE_GROUP_ID)
    assert second - first >= 0.8 - 0.3
    first, second = wire.arrivals(private)
    assert second - first >= 0.5 - 0.3
