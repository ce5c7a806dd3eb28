"""The database goes away for a while and comes back, and the bot is never restarted.

PostgreSQL (PostgreSQL pass only): the bot reaches the server through a TCP relay
(tests/support/tcp_proxy.py) that the tests stop and start, which is what a stopped server looks
like from the bot: open connections cut, new ones refused. Rows are checked over a direct
connection, so "nothing stored" is read while the bot's way to the server is still cut.

SQLite (SQLite pass only): another connection holds the write lock longer than the busy timeout.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel, select
from telegram import Bot

from bot.callback import pack
from bot.db import SessionFactory, create_engine, create_session_factory, is_sqlite, upgrade
from models.desk import DeskCard
from models.members import Member, Role
from models.organizations import bind_committee_chat
from models.outbox import BroadcastKind, OutboxMessage, OutboxStatus, Recipient, enqueue
from models.suggestions import (
    Suggestion,
    SuggestionEntry,
    SuggestionPhoto,
    SuggestionStatus,
)
from scheduler.outbox import OutboxSender, Pace
from scheduler.quiet import QuietHours
from tests.conftest import empty_tables
from tests.support.factories import make_member
from tests.support.fake_telegram import TOKEN, Call, FakeTelegram
from tests.support.harness import (
    CHAIR,
    COMMITTEE_GROUP_ID,
    BotHarness,
    make_settings,
    running_bot,
)
from tests.support.member_cache import outage_noticed
from tests.support.tcp_proxy import TcpProxy
from tests.support.updates import Person, button, group_chat, text
from tests.test_errors import DB_UNAVAILABLE, DB_UNAVAILABLE_ZH, logged, reference_in
from tests.test_suggestions import category_id

ON_POSTGRES = not is_sqlite(os.environ.get("TEST_DATABASE_URL") or "sqlite://")
postgres_only = pytest.mark.skipif(
    not ON_POSTGRES,
    reason="stopping and starting PostgreSQL runs in the PostgreSQL pass (make test-pg)",
)
sqlite_only = pytest.mark.skipif(
    ON_POSTGRES, reason="the SQLite write lock runs in the SQLite pass"
)

# The member chose English and writes from an English Telegram app.
TEACHER = Person(2101, "Wang", "en")
TEACHER_NAME = "王秀英"
COMMITTEE = Person(1102, "刘", "zh-hans")
GROUP = group_chat(COMMITTEE_GROUP_ID)
# What the member typed: it may reach the database and the committee, never a log line.
BODY = "Xiuying: the lock on the third-floor staff toilet has been broken since May."
CONFIRM = pack("sgf", "confirm", "yes")
RECEIPT = "Received, number "
MINE_EMPTY = "You have not sent any suggestions yet."
# SQLAlchemy's marker in an error whose parameters were hidden (bot/db.py hide_parameters).
HIDDEN = "SQL parameters hidden"

_photo_ids = itertools.count(1)


# ---- PostgreSQL behind a relay ------------------------------------------------------------


async def _create_database(server_url: str, name: str) -> None:
    url = make_url(server_url)
    connection = await asyncpg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        database=url.database,
        timeout=5,
    )
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    except asyncpg.DuplicateDatabaseError:
        pass
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def outage_database() -> str:
    """A database of this file's own (next to the test database), migrated to head."""
    server_url = os.environ.get("TEST_DATABASE_URL") or ""
    if not ON_POSTGRES:
        pytest.skip("stopping and starting PostgreSQL runs in the PostgreSQL pass")
    url = make_url(server_url)
    # Named after the test database, so two people's runs (two test databases) never meet.
    name = f"{url.database}_outage"
    try:
        asyncio.run(_create_database(server_url, name))
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        pytest.skip(f"no PostgreSQL server answers at {url.host}:{url.port}: {type(exc).__name__}")
    direct = url.set(database=name).render_as_string(hide_password=False)
    upgrade(direct)
    return direct


@pytest.fixture
async def proxy(outage_database: str) -> AsyncIterator[TcpProxy]:
    """A running relay to the PostgreSQL server."""
    url = make_url(outage_database)
    relay = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await relay.start()
    yield relay
    await relay.stop()


@pytest.fixture
async def direct(outage_database: str) -> AsyncIterator[SessionFactory]:
    """Sessions straight to the server, to read what is stored while the relay is stopped."""
    await empty_tables(outage_database)
    engine = create_engine(outage_database)
    yield create_session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def pg_bot(
    outage_database: str, proxy: TcpProxy, direct: SessionFactory, tmp_path: Path
) -> AsyncIterator[BotHarness]:
    """The bot, with its database URL pointing at the relay."""
    via_proxy = (
        make_url(outage_database)
        .set(host=proxy.host, port=proxy.port)
        .render_as_string(hide_password=False)
    )
    async with running_bot(make_settings(via_proxy, tmp_path)) as harness:
        yield harness
        await proxy.start()  # shut down with the server there, whatever the test left


# ---- helpers ------------------------------------------------------------------------------


async def count(db: SessionFactory, model: type[SQLModel]) -> int:
    """How many rows of `model` are stored."""
    async with db() as session:
        return len((await session.exec(select(model))).all())


async def setup_school(bot: BotHarness) -> None:
    """A bound committee group, one committee member, one English-speaking teacher."""
    async with bot.db() as session:
        await bind_committee_chat(session, org_id=bot.org_id, chat_id=COMMITTEE_GROUP_ID)
    await make_member(
        bot.db, org_id=bot.org_id, person=COMMITTEE, name="刘委员", roles=[Role.COMMITTEE]
    )
    await make_member(bot.db, org_id=bot.org_id, person=TEACHER, name=TEACHER_NAME, language="en")


async def anonymous_today(bot: BotHarness) -> int:
    """The teacher's anonymous items today, as the bot counts them (in memory, keyed)."""
    async with bot.db() as session:
        teacher = (
            await session.exec(select(Member).where(Member.telegram_user_id == TEACHER.id))
        ).one()
    today = datetime.now(bot.app.state.settings.zone).date()
    return bot.app.state.seal.tally.count(teacher.id or 0, today)


def photo(person: Person) -> dict[str, Any]:
    """A photo message, largest size last, as Telegram sends it."""
    file_id = f"AgACAgIAAxkBphoto{next(_photo_ids)}"
    update = text(person, "")
    message = update["message"]
    del message["text"]
    message["photo"] = [
        {"file_id": f"{file_id}-t", "file_unique_id": f"{file_id}t", "width": 90, "height": 67},
        {"file_id": file_id, "file_unique_id": f"{file_id}u", "width": 1280, "height": 960},
    ]
    return update


async def to_preview(bot: BotHarness, *, anonymous: bool = False, photos: int = 0) -> None:
    """/suggest through to the preview with its Confirm button."""
    await bot.say(TEACHER, "/suggest")
    await bot.press(TEACHER, pack("sgf", "cat", await category_id(bot)))
    await bot.say(TEACHER, BODY)
    for _ in range(photos):
        await bot.feed(photo(TEACHER))
    await bot.press(TEACHER, pack("sgf", "photos", "done"))
    await bot.press(TEACHER, pack("sgf", "anon", "anon" if anonymous else "named"))
    preview = bot.telegram.last(TEACHER.id)
    assert CONFIRM in [data for _, data in preview.buttons()], preview.text


def answers_to(bot: BotHarness, update: dict[str, Any]) -> list[Call]:
    """The answers to one button press."""
    query_id = update["callback_query"]["id"]
    return [c for c in bot.telegram.answers() if c.params.get("callback_query_id") == query_id]


def receipts(bot: BotHarness) -> list[str]:
    """Receipts the teacher got (a number to quote)."""
    return [t for t in bot.telegram.texts(TEACHER.id) if RECEIPT in t]


def told_unavailable(bot: BotHarness) -> list[str]:
    """Database-unavailable apologies the teacher got as chat messages."""
    return [message for message in bot.telegram.texts(TEACHER.id) if DB_UNAVAILABLE in message]


def desk_cards(bot: BotHarness) -> list[Call]:
    """Suggestion cards posted to the committee group."""
    return [c for c in bot.telegram.sent("sendMessage", COMMITTEE_GROUP_ID) if BODY in c.text]


def owner_alerts(bot: BotHarness) -> list[str]:
    """Alerts the owner received."""
    return bot.telegram.texts(CHAIR.id)


def assert_clean_log(caplog: pytest.LogCaptureFixture) -> str:
    """What the operator reads names nobody, quotes no text typed, and no SQL parameter."""
    log = logged(caplog)
    for secret in (BODY, "Xiuying", TEACHER_NAME, "刘委员"):
        assert secret not in log
    # Every SQL error that reached the log had its parameters hidden.
    for record in caplog.records:
        if record.exc_text and "[SQL:" in record.exc_text:
            assert HIDDEN in record.exc_text, record.exc_text
    return log


# ---- PostgreSQL stopped and started -------------------------------------------------------


@postgres_only
async def test_confirm_while_stopped_is_refused_then_stored_once_after_start(
    pg_bot: BotHarness,
    proxy: TcpProxy,
    direct: SessionFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    await setup_school(pg_bot)
    await to_preview(pg_bot)
    pg_bot.telegram.clear()
    await proxy.stop()
    # Until the bot notices, the member behind the press still comes from its cache and the
    # failure comes later, in the Confirm itself (after it answered the press).
    await outage_noticed(pg_bot)

    press = button(TEACHER, CONFIRM)
    await pg_bot.feed(press)

    # One answer on the button, in the member's language, and nothing else to them.
    [answer] = answers_to(pg_bot, press)
    assert answer.params.get("show_alert") is True
    assert DB_UNAVAILABLE in answer.text, answer.text
    ref = reference_in(answer.text)
    assert receipts(pg_bot) == []
    assert await count(direct, Suggestion) == 0
    assert desk_cards(pg_bot) == []
    [alert] = owner_alerts(pg_bot)
    assert ref in alert

    await proxy.start()
    await pg_bot.press(TEACHER, CONFIRM)  # the same Confirm: the draft was kept

    [receipt] = receipts(pg_bot)
    async with direct() as session:
        [item] = (await session.exec(select(Suggestion))).all()
    assert item.number in receipt
    assert item.body == BODY
    assert len(desk_cards(pg_bot)) == 1

    await pg_bot.press(TEACHER, CONFIRM)  # pressed once more: the filing is over

    assert await count(direct, Suggestion) == 1
    assert len(receipts(pg_bot)) == 1
    assert len(desk_cards(pg_bot)) == 1
    log = assert_clean_log(caplog)
    assert ref in log


@postgres_only
async def test_dead_pooled_connections_are_not_reused_after_start(
    pg_bot: BotHarness, proxy: TcpProxy, caplog: pytest.LogCaptureFixture
) -> None:
    await setup_school(pg_bot)

    async def hold_a_connection() -> None:
        async with pg_bot.db() as session:
            await session.exec(select(Suggestion))
            await asyncio.sleep(0.05)

    # Several connections in the pool, as after a busy moment; then the server restarts
    # while nobody is using the bot.
    await asyncio.gather(*(hold_a_connection() for _ in range(4)))
    pool = pg_bot.app.state.engine.pool
    assert pool.checkedin() >= 4  # type: ignore[attr-defined]
    before = proxy.connections
    await proxy.stop()
    await proxy.start()
    caplog.set_level(logging.WARNING)
    pg_bot.telegram.clear()

    await pg_bot.say(TEACHER, "/mine")  # the first update after the restart

    [reply] = pg_bot.telegram.texts(TEACHER.id)
    assert MINE_EMPTY in reply, reply
    assert proxy.connections > before  # a new connection replaced a dead one

    await asyncio.gather(*(hold_a_connection() for _ in range(4)))  # every pooled one works
    await pg_bot.say(TEACHER, "/mine")
    assert [MINE_EMPTY in reply for reply in pg_bot.telegram.texts(TEACHER.id)] == [True, True]
    assert owner_alerts(pg_bot) == []
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


@postgres_only
async def test_committee_decision_while_stopped_then_once_after_start(
    pg_bot: BotHarness, proxy: TcpProxy, direct: SessionFactory
) -> None:
    await setup_school(pg_bot)
    await to_preview(pg_bot)
    await pg_bot.press(TEACHER, CONFIRM)
    [card] = desk_cards(pg_bot)
    close = card.button_data("办结")
    pg_bot.telegram.clear()
    await proxy.stop()

    press = button(COMMITTEE, close, chat=GROUP)
    await pg_bot.feed(press)

    [answer] = answers_to(pg_bot, press)
    assert answer.params.get("show_alert") is True
    assert DB_UNAVAILABLE_ZH in answer.text, answer.text
    async with direct() as session:
        item = (await session.exec(select(Suggestion))).one()
        entries = (await session.exec(select(SuggestionEntry))).all()
    assert item.status == SuggestionStatus.OPEN
    assert entries == []

    await proxy.start()
    await pg_bot.press(COMMITTEE, close, chat=GROUP)
    await pg_bot.press(COMMITTEE, close, chat=GROUP)  # pressed twice after start

    async with direct() as session:
        closed = (await session.exec(select(Suggestion))).one()
        entries = (await session.exec(select(SuggestionEntry))).all()
    assert closed.status == SuggestionStatus.CLOSED
    assert closed.closed_by_member_id is not None
    assert [entry.kind for entry in entries] == ["closed"]
    edits = pg_bot.telegram.sent("editMessageText", COMMITTEE_GROUP_ID)
    assert edits, "the card was not edited"
    assert all("办结" not in label for label, _ in edits[-1].buttons())


@postgres_only
async def test_cut_in_the_middle_of_the_transaction_stores_nothing_half(
    pg_bot: BotHarness, proxy: TcpProxy, direct: SessionFactory
) -> None:
    await setup_school(pg_bot)
    await to_preview(pg_bot, anonymous=True, photos=1)
    pg_bot.telegram.clear()
    # The item is inserted, the photo not yet: then the server goes away.
    await pg_bot.app.finish_processed()  # no id write in flight: the cut is this update's
    proxy.cut_before(b"INSERT INTO suggestion_photo")

    press = button(TEACHER, CONFIRM)
    await pg_bot.feed(press)

    assert proxy.cuts == 1
    # The handler had answered the button already, so the apology comes as a chat message.
    [apology] = told_unavailable(pg_bot)
    reference_in(apology)
    for model in (Suggestion, SuggestionPhoto):
        assert await count(direct, model) == 0, model.__name__
    assert receipts(pg_bot) == []

    await proxy.start()
    await pg_bot.press(TEACHER, CONFIRM)

    assert len(receipts(pg_bot)) == 1
    async with direct() as session:
        [item] = (await session.exec(select(Suggestion))).all()
    assert item.anonymous and item.author_member_id is None
    assert await count(direct, SuggestionPhoto) == 1
    assert await anonymous_today(pg_bot) == 1  # the failed attempt used none of the quota


@postgres_only
async def test_cut_right_after_the_commit_keeps_the_item_and_its_card(
    pg_bot: BotHarness, proxy: TcpProxy, direct: SessionFactory
) -> None:
    await setup_school(pg_bot)
    await to_preview(pg_bot)
    pg_bot.telegram.clear()
    # The item is committed; the server goes away before the desk card is rendered.
    await pg_bot.app.finish_processed()  # no id write in flight: the cut is this update's
    # "COMMIT;": the statement asyncpg sends, not "BEGIN ISOLATION LEVEL READ COMMITTED;"
    # (a pooled connection's BEGIN after a one-statement session reset its isolation level).
    proxy.cut_after(b"COMMIT;")

    await pg_bot.press(TEACHER, CONFIRM)

    assert proxy.cuts == 1
    assert await count(direct, Suggestion) == 1  # the confirmed item is not lost
    await proxy.start()

    await pg_bot.press(TEACHER, CONFIRM)  # told to try again, the member does

    async with direct() as session:
        item = (await session.exec(select(Suggestion))).one()
        cards = (await session.exec(select(DeskCard))).all()
    told = " ".join(pg_bot.telegram.texts(TEACHER.id) + [a.text for a in pg_bot.telegram.answers()])
    assert item.number in told  # the member learns the number, by receipt or "already sent"
    assert len(desk_cards(pg_bot)) == 1  # and the committee sees the item once
    assert len(cards) == 1


# ---- the outbox sender --------------------------------------------------------------------

NOON = datetime(2026, 3, 9, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai: outside quiet hours
CHATS = (3001, 3002, 3003)


@dataclass
class Clock:
    """The sender's "now", moved by the test."""

    now: datetime = NOON
    readings: int = 0  # the sender reads the time once per pass

    def __call__(self) -> datetime:
        """The current moment."""
        self.readings += 1
        return self.now


@dataclass
class HookedTelegram(FakeTelegram):
    """The fake transport, calling `on_send` after each message Telegram accepted."""

    on_send: list[Callable[[], None]] = field(default_factory=list)

    async def do_request(self, url: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """Answer like Telegram, then run (once) what the test asked for."""
        answer = await super().do_request(url, method, *args, **kwargs)
        if url.endswith("/sendMessage") and self.on_send:
            self.on_send.pop(0)()
        return answer


async def enqueue_notice(bot: BotHarness, *, due: datetime) -> None:
    """Three messages to three chats, due at `due`."""
    async with bot.db() as session:
        broadcast = await enqueue(
            session,
            org_id=bot.org_id,
            key="outage:notice",
            kind=BroadcastKind.ANNOUNCEMENT,
            recipients=[Recipient(chat_id=chat, text=f"教代会通知 {chat}") for chat in CHATS],
            not_before=due,
            quiet=True,
        )
    assert broadcast is not None


async def statuses(db: SessionFactory) -> dict[int, str]:
    """Outbox status per chat."""
    async with db() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    return {row.chat_id: row.status for row in rows}


async def wait_for(condition: Callable[[], bool], what: str, seconds: float = 10) -> None:
    """Let other tasks run until `condition` holds (a generous bound against hangs)."""
    for _ in range(int(seconds / 0.025)):
        if condition():
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"timed out waiting for {what}")


@postgres_only
async def test_outbox_sender_survives_the_outage_and_delivers_each_once(
    pg_bot: BotHarness,
    proxy: TcpProxy,
    direct: SessionFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    clock = Clock()
    await enqueue_notice(pg_bot, due=NOON + timedelta(hours=1))
    settings = pg_bot.app.state.settings
    sender = OutboxSender(
        db=pg_bot.db,
        bot=pg_bot.app.bot,
        quiet=QuietHours.parse(settings.quiet_hours, settings.zone),
        now=clock,
    )
    runner = asyncio.create_task(sender.run(poll_seconds=0.02))
    try:
        await wait_for(lambda: clock.readings >= 2, "the sender's first passes")
        await proxy.stop()
        clock.now = NOON + timedelta(hours=2)  # the messages fall due during the outage

        await wait_for(
            lambda: sum("Outbox pass failed" in r.getMessage() for r in caplog.records) >= 3,
            "three failed passes",
        )

        assert not runner.done()  # the loop keeps going
        assert pg_bot.telegram.sent("sendMessage") == []
        assert set((await statuses(direct)).values()) == {OutboxStatus.PENDING}

        await proxy.start()
        sender.wake()
        await wait_for(lambda: len(pg_bot.telegram.sent("sendMessage")) >= 3, "three messages")
        passes = clock.readings
        await wait_for(lambda: clock.readings >= passes + 3, "more passes, which send nothing")
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)

    sent = pg_bot.telegram.sent("sendMessage")
    assert sorted(call.chat_id or 0 for call in sent) == list(CHATS)
    assert set((await statuses(direct)).values()) == {OutboxStatus.SENT}
    log = assert_clean_log(caplog)
    assert "教代会通知" not in log


async def drain_through_an_outage(
    bot: BotHarness,
    proxy: TcpProxy,
    direct: SessionFactory,
    telegram: FakeTelegram,
    arm: Callable[[], None] = lambda: None,
) -> dict[int, str]:
    """One pass that the outage breaks, start, three more passes; the outbox status per chat.

    One message at a time (in_flight=1), so the outage meets the same message every run;
    `arm` sets the outage up once the messages are enqueued.
    """
    await enqueue_notice(bot, due=NOON)
    arm()
    telegram_bot = Bot(TOKEN, request=telegram, get_updates_request=telegram)
    await telegram_bot.initialize()
    settings = bot.app.state.settings
    sender = OutboxSender(
        db=bot.db,
        bot=telegram_bot,
        quiet=QuietHours.parse(settings.quiet_hours, settings.zone),
        pace=Pace(private_chat_interval=0.0, in_flight=1),
        now=Clock(),
    )
    try:
        with pytest.raises((DBAPIError, OSError)):  # this pass fails (run() logs, goes on)
            await sender.drain()
        assert not proxy.running
        await proxy.start()
        for _ in range(3):
            await sender.drain()
    finally:
        await telegram_bot.shutdown()
    return await statuses(direct)


def stop_after_first_send(proxy: TcpProxy) -> HookedTelegram:
    """Telegram accepts the first message; the server stops before the sender records it."""
    telegram = HookedTelegram()
    telegram.on_send.append(proxy.cut)
    return telegram


def recipients(telegram: FakeTelegram) -> list[int]:
    """Chats the sender wrote to, one entry per message."""
    return sorted(call.chat_id or 0 for call in telegram.sent("sendMessage"))


@postgres_only
async def test_message_in_flight_when_the_server_stops_is_sent_once(
    pg_bot: BotHarness, proxy: TcpProxy, direct: SessionFactory
) -> None:
    telegram = stop_after_first_send(proxy)

    final = await drain_through_an_outage(pg_bot, proxy, direct, telegram)

    assert recipients(telegram) == list(CHATS)  # each chat once, the one in flight included
    assert final[CHATS[0]] != OutboxStatus.PENDING  # so it is never sent again
    assert final[CHATS[1]] == final[CHATS[2]] == OutboxStatus.SENT


@postgres_only
async def test_message_in_flight_is_recorded_as_sent_once_the_server_is_back(
    pg_bot: BotHarness, proxy: TcpProxy, direct: SessionFactory
) -> None:
    telegram = stop_after_first_send(proxy)

    final = await drain_through_an_outage(pg_bot, proxy, direct, telegram)

    assert final == dict.fromkeys(CHATS, OutboxStatus.SENT)


@postgres_only
async def test_claim_with_a_lost_commit_answer_is_still_delivered(
    pg_bot: BotHarness, proxy: TcpProxy, direct: SessionFactory
) -> None:
    telegram = HookedTelegram()

    # The first claim commits on the server; the sender only sees the connection break.
    final = await drain_through_an_outage(
        pg_bot,
        proxy,
        direct,
        telegram,
        arm=lambda: proxy.cut_after(b"COMMIT;", forward_reply=False),
    )

    assert proxy.cuts == 1
    assert recipients(telegram) == list(CHATS)
    assert final == dict.fromkeys(CHATS, OutboxStatus.SENT)


# ---- SQLite locked ------------------------------------------------------------------------


@sqlite_only
async def test_sqlite_locked_longer_than_the_busy_timeout_then_released(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await setup_school(bot)
    await to_preview(bot, anonymous=True, photos=1)
    bot.telegram.clear()
    path = make_url(bot.app.state.settings.database_url).database
    assert path is not None
    # The holder waits its turn if one of the bot's own writes is under way, in a thread: a
    # wait on this loop's thread would stop the loop that has to finish that write (a
    # transaction spans several awaits), and both would wait until sqlite3 gave up.
    holder = sqlite3.connect(path, isolation_level=None, timeout=60, check_same_thread=False)
    await asyncio.to_thread(holder.execute, "BEGIN EXCLUSIVE")
    press = button(TEACHER, CONFIRM)

    # bot/db.py waits 15 s (busy_timeout=15000) for the lock, then gives up. Reads go on (WAL).
    pressing = asyncio.create_task(bot.feed(press))
    try:
        await wait_for(lambda: bool(told_unavailable(bot)), "the apology", seconds=60)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    await pressing

    # The handler had answered the button already, so the apology comes as a chat message.
    [apology] = told_unavailable(bot)
    ref = reference_in(apology)
    for model in (Suggestion, SuggestionPhoto):
        assert await count(bot.db, model) == 0, model.__name__
    assert receipts(bot) == []
    [alert] = owner_alerts(bot)
    assert ref in alert

    await bot.press(TEACHER, CONFIRM)  # the same application, the same Confirm

    [receipt] = receipts(bot)
    async with bot.db() as session:
        [item] = (await session.exec(select(Suggestion))).all()
    assert item.number in receipt
    assert await count(bot.db, SuggestionPhoto) == 1
    assert await anonymous_today(bot) == 1
    assert len(desk_cards(bot)) == 1
    log = assert_clean_log(caplog)
    assert ref in log
