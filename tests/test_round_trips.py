"""What an update costs the database, counted where it is paid (bench/pipeline.py prints it).

On SQLite and PostgreSQL alike:
- a read-only press commits nothing and rolls back at most once (the pool's reset on return
  no longer rolls back a second time; on SQLite a session that only read ends without a hop);
- choosing the language one already has writes nothing;
- the handled update ids are one statement (on PostgreSQL its only round trip);
- a connection returned with a transaction still open (the driver used directly) is rolled
  back before anyone else gets it, though the pool's own reset is off;
- a flush of the forms in progress writes only the people who changed, as they were when
  handed over, and a value the store refuses goes to the error handler, not the others.

Transaction control is recorded at the driver (aiosqlite's commit and rollback, asyncpg's
BEGIN/COMMIT/ROLLBACK), and only for calls made by the test's own task and the tasks it starts
while recording: the bot's background tasks (the outbox sender) are not part of it.
"""

from __future__ import annotations

import contextvars
import functools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import aiosqlite
import asyncpg
import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from bot.db_persistence import DatabasePersistence
from handlers.members.buttons import LanguageChoice
from handlers.menu.buttons import MenuButton
from models.conversation_state import ConversationState, StateKind
from models.desk import cards_for, record_card
from models.members import Member
from models.updates import ProcessedUpdate, mark_processed_many
from tests.support.factories import make_member
from tests.support.harness import BotHarness
from tests.support.updates import Person

TEACHER = Person(4242, "王老师")
CONTROL = ("BEGIN", "COMMIT", "ROLLBACK")


@dataclass
class Recorded:
    """What reached the database from the test's task."""

    control: list[str] = field(default_factory=list)  # BEGIN / COMMIT / ROLLBACK, as sent
    statements: list[str] = field(default_factory=list)  # SQL, as SQLAlchemy sent it
    active: bool = True

    def clear(self) -> None:
        """Forget what was recorded so far."""
        self.control.clear()
        self.statements.clear()

    def writes(self) -> list[str]:
        """The statements that change rows."""
        return [s for s in self.statements if s.split()[0] in ("INSERT", "UPDATE", "DELETE")]


RECORDING: contextvars.ContextVar[Recorded | None] = contextvars.ContextVar("recording")


@contextmanager
def recording(engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorded]:
    """Record transaction control at the driver and statements, made by the current task and
    the tasks it starts meanwhile (SQLAlchemy closes connections in a shielded task of its
    own), never by the bot's background tasks started before."""
    recorded = Recorded()
    token = RECORDING.set(recorded)

    def ours() -> bool:
        return RECORDING.get(None) is recorded and recorded.active

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if ours():
            recorded.statements.append(" ".join(sql.split()).upper())

    with monkeypatch.context() as patch:
        for name in ("commit", "rollback"):
            original = getattr(aiosqlite.Connection, name)

            @functools.wraps(original)
            async def control(self: Any, *, _name: str = name, _original: Any = original) -> Any:
                if ours():
                    recorded.control.append(_name.upper())
                return await _original(self)

            patch.setattr(aiosqlite.Connection, name, control)
        execute = asyncpg.Connection.execute

        @functools.wraps(execute)
        async def asyncpg_execute(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            word = query.strip().rstrip(";").split()[0].upper() if query.strip() else ""
            if ours() and word in CONTROL:
                recorded.control.append(word)
            return await execute(self, query, *args, **kwargs)

        patch.setattr(asyncpg.Connection, "execute", asyncpg_execute)
        event.listen(engine.sync_engine, "before_cursor_execute", statement)
        try:
            yield recorded
        finally:
            recorded.active = False  # a task that inherited the mark and runs later: not counted
            RECORDING.reset(token)
            event.remove(engine.sync_engine, "before_cursor_execute", statement)


async def a_member(bot: BotHarness) -> Member:
    """A registered teacher who reads Simplified Chinese."""
    return await make_member(bot.db, org_id=bot.org_id, person=TEACHER, name=TEACHER.first_name)


async def test_a_read_only_press_commits_nothing_and_rolls_back_at_most_once(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await a_member(bot)
    with recording(bot.app.state.engine, monkeypatch) as recorded:
        await bot.press(TEACHER, MenuButton("me").pack())

    assert "👤 我的资料" in bot.telegram.last(TEACHER.id).text  # the profile was shown
    assert recorded.statements and recorded.writes() == []
    assert "COMMIT" not in recorded.control
    assert recorded.control.count("ROLLBACK") <= 1, recorded.control


async def test_choosing_the_language_already_chosen_writes_nothing(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    member = await a_member(bot)
    with recording(bot.app.state.engine, monkeypatch) as recorded:
        await bot.press(TEACHER, LanguageChoice("zhs").pack())

    assert bot.telegram.last(TEACHER.id).text == "好的，以后我用简体中文和您交流。"
    assert recorded.writes() == []
    assert "COMMIT" not in recorded.control
    async with bot.db() as session:
        stored = await session.get(Member, member.id)
        assert stored is not None and stored.updated_at == member.updated_at

    # Another language is still written, once.
    with recording(bot.app.state.engine, monkeypatch) as recorded:
        await bot.press(TEACHER, LanguageChoice("en").pack())
    assert [w.split(" SET")[0] for w in recorded.writes()] == ["UPDATE MEMBER"]
    assert recorded.control.count("COMMIT") == 1
    async with bot.db() as session:
        stored = await session.get(Member, member.id)
        assert stored is not None and stored.language == "en"


async def test_the_handled_update_ids_are_one_statement(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await a_member(bot)
    with recording(bot.app.state.engine, monkeypatch) as recorded:
        await bot.say(TEACHER, "/help")
        writer = bot.app._writer  # started as the update ended; it has not run yet
        assert writer is not None and not writer.done()
        recorded.clear()  # the update's own statements
        await writer
    on_postgres = bot.app.state.engine.dialect.name == "postgresql"

    async with bot.db() as session:
        stored = list((await session.exec(select(ProcessedUpdate.update_id))).all())
    assert len(stored) == 1
    [insert] = recorded.statements
    assert insert.startswith("INSERT INTO PROCESSED_UPDATE") and "ON CONFLICT" in insert
    # PostgreSQL: autocommit, the INSERT is the only round trip. SQLite: the INSERT and COMMIT.
    assert recorded.control == ([] if on_postgres else ["COMMIT"])

    # An id written before (another copy, an earlier flush) is skipped, not an error.
    async with bot.app.state.single_statement() as session:
        await mark_processed_many(session, update_ids=[*stored, 10**12])
    async with bot.db() as session:
        assert len((await session.exec(select(ProcessedUpdate.update_id))).all()) == 2


async def test_a_desk_card_is_recorded_in_one_statement_and_a_repeat_keeps_the_newest(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_postgres = bot.app.state.engine.dialect.name == "postgresql"

    async def record(message_id: int) -> None:
        async with bot.app.state.single_statement() as session:
            await record_card(
                session,
                org_id=bot.org_id,
                kind="join",
                item_id=5,
                chat_id=-100123,
                message_id=message_id,
            )

    with recording(bot.app.state.engine, monkeypatch) as recorded:
        await record(10)
    assert len(recorded.statements) == 1
    assert recorded.control == ([] if on_postgres else ["COMMIT"])

    await record(11)  # posted again: the newest is kept
    async with bot.db() as session:
        [stored] = await cards_for(session, kind="join", item_id=5)
    assert (stored.chat_id, stored.message_id) == (-100123, 11)


async def test_a_connection_returned_with_a_transaction_open_is_rolled_back(
    bot: BotHarness,
) -> None:
    engine = bot.app.state.engine
    on_postgres = engine.dialect.name == "postgresql"
    insert = "INSERT INTO processed_update (update_id, processed_at) VALUES (77, CURRENT_TIMESTAMP)"
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        # The driver used directly: SQLAlchemy does not know a transaction is open.
        if on_postgres:
            await driver.execute(f"BEGIN; {insert}")
            assert driver.is_in_transaction()
        else:
            await driver.execute(insert)
            assert driver.in_transaction

    for _ in range(engine.pool.size()):  # type: ignore[attr-defined]
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            open_ = driver.is_in_transaction() if on_postgres else driver.in_transaction
            assert not open_
            found = await connection.execute(text("SELECT count(*) FROM processed_update"))
            assert found.scalar_one() == 0


# ---- the flush of forms in progress, through the application ---------------------------------


async def stored_people(bot: BotHarness) -> dict[str, ConversationState]:
    """The stored user_data rows, by Telegram id."""
    async with bot.db() as session:
        rows = (await session.exec(select(ConversationState))).all()
    return {row.key: row for row in rows if row.kind == StateKind.USER}


async def test_a_flush_writes_only_the_people_who_changed_as_they_were_handed_over(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    app = bot.app
    assert isinstance(app.persistence, DatabasePersistence)
    app.user_data[1]["draft"] = {"body": "第一位"}
    app.user_data[2]["draft"] = {"body": "第二位"}
    app.mark_data_for_update_persistence(user_ids=[1, 2])
    await app.update_persistence()
    first = await stored_people(bot)
    assert {key: row.value for key, row in first.items()} == {
        "1": '{"draft":{"body":"第一位"}}',
        "2": '{"draft":{"body":"第二位"}}',
    }

    # Both handed over again, only one changed: the other row is not written at all.
    app.user_data[2]["draft"]["body"] = "改过"
    app.mark_data_for_update_persistence(user_ids=[1, 2])
    await app.update_persistence()
    app.user_data[2]["draft"]["body"] = "没有交出的改动"  # not handed over: not stored
    await app.persistence.flush()
    second = await stored_people(bot)
    assert second["1"].updated_at == first["1"].updated_at
    assert second["2"].value == '{"draft":{"body":"改过"}}'

    # A value the store refuses: to the error handler (its type only), the others still kept.
    caplog.set_level(logging.ERROR)
    app.user_data[3]["draft"] = {"when": object()}
    app.user_data[4]["draft"] = {"body": "第四位"}
    app.mark_data_for_update_persistence(user_ids=[3, 4])
    await app.update_persistence()
    third = await stored_people(bot)
    assert "3" not in third and third["4"].value == '{"draft":{"body":"第四位"}}'
    [error] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "UnstorableValueError" in error.getMessage()
