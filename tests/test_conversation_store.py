"""Forms in progress kept in the database (bot/db_persistence.py), on PostgreSQL and SQLite: a
standby that takes over (PostgreSQL) or the restarted bot continues them.

- A member halfway through a form in one application finishes it in a SECOND application
  built on the same database (after a clean stop, or after the first was dropped without a
  word once a flush had happened), and the item is stored once.
- The conversation file of the earlier version is imported once and deleted.
- One flush is one transaction with only the rows that changed; ended forms leave the table;
  a failed write is retried; rows are JSON that builds only built-in values.
- A flush of 1,000 changed conversations is measured (printed, not asserted).
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel, select
from telegram.ext import PicklePersistence

from bot.app import build_application
from bot.callback import pack
from bot.db import create_engine, create_session_factory
from bot.db_persistence import (
    STORED,
    DatabasePersistence,
    UnstorableValueError,
    decode,
    encode,
)
from bot.settings import Settings
from models.conversation_state import ConversationState, StateKind
from models.suggestions import Suggestion
from tests.support.conversation_store import stored_rows, stored_user_data
from tests.support.fake_telegram import FakeTelegram
from tests.support.forms import start_app, stop_app
from tests.support.harness import BotHarness, make_settings
from tests.test_suggestions import AUTHOR, category_id, setup_school

BODY = "匿名：体育组的器材经费去向不明，请委员会查一查。"
CONFIRM = pack("sgf", "confirm", "yes")
FILING = "suggestion_filing"


async def halfway(bot: BotHarness) -> None:
    """The author's anonymous suggestion, up to the question "anonymous or named?"."""
    await setup_school(bot)
    await bot.say(AUTHOR, "/suggest")
    await bot.press(AUTHOR, pack("sgf", "cat", await category_id(bot)))
    await bot.say(AUTHOR, BODY)
    await bot.press(AUTHOR, pack("sgf", "photos", "done"))


async def finish(bot: BotHarness) -> None:
    """The rest of the same form: anonymous, then Confirm."""
    await bot.press(AUTHOR, pack("sgf", "anon", "anon"))
    assert BODY in bot.telegram.last(AUTHOR.id).text  # the preview, from the stored draft
    await bot.press(AUTHOR, CONFIRM)


async def items(bot: BotHarness) -> list[Suggestion]:
    """Every stored suggestion."""
    async with bot.db() as session:
        return list((await session.exec(select(Suggestion))).all())


# ---- a second application continues the form ---------------------------------------------------


@pytest.mark.parametrize("first_ends", ["shut down", "dropped after a flush"])
async def test_a_second_application_on_the_same_database_continues_the_form(
    settings: Settings, caplog: pytest.LogCaptureFixture, first_ends: str
) -> None:
    caplog.set_level(logging.INFO)  # PTB's own DEBUG lines carry every text sent, by design
    caplog.set_level(logging.DEBUG, logger="bot.db_persistence")
    first = await start_app(settings)
    assert isinstance(first.app.persistence, DatabasePersistence)
    await halfway(first)
    await first.app.update_persistence()  # the periodic write (every 10 s in service)
    if first_ends == "shut down":
        await stop_app(first, flush=False)
    else:
        # A step after the last flush is lost with the process (SIGKILL, a dead machine):
        # the second copy continues from the flushed step.
        await first.press(AUTHOR, pack("sgf", "anon", "named"))
        await first.app.flush_processed()  # its writer of handled ids holds no connection now
        await first.app.state.engine.dispose()
    assert not settings.persistence_path.exists()  # nothing on this machine's disk
    held = await stored_user_data(settings, AUTHOR.id)
    assert held["_active_form"]["name"] == FILING and held["suggestion"]["body"] == BODY

    second = await start_app(settings)  # another machine: a new application, same database
    try:
        await finish(second)
        stored = await items(second)
        assert [(item.body, item.author_member_id) for item in stored] == [(BODY, None)]
        assert stored[0].number in second.telegram.last(AUTHOR.id).text  # the receipt
        # The author's draft and the conversation left the table at once (not in 10 s).
        assert await stored_rows(settings.database_url) == []
        await second.press(AUTHOR, CONFIRM)  # a second press files nothing again
        assert len(await items(second)) == 1
    finally:
        await stop_app(second)
    assert BODY not in caplog.text


async def test_the_conversation_file_of_the_earlier_version_is_imported_once_and_deleted(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    first = await start_app(settings)
    await halfway(first)
    await first.app.update_persistence()
    await stop_app(first, flush=False)
    # What the earlier version would have written: the same forms, in its pickle file.
    rows = await stored_rows(settings.database_url)
    old = PicklePersistence(settings.persistence_path, store_data=STORED, on_flush=True)
    for row in rows:
        if row.kind == StateKind.USER:
            await old.update_user_data(int(row.key), decode(row.value))
        else:
            await old.update_conversation(row.name, tuple(decode(row.key)), decode(row.value))
    await old.flush()
    await empty_store(settings.database_url)
    caplog.set_level(logging.INFO)

    second = await start_app(settings)
    try:
        assert not settings.persistence_path.exists()  # imported, then deleted
        assert "Imported 2 row(s)" in caplog.text
        await finish(second)
        assert [item.body for item in await items(second)] == [BODY]
    finally:
        await stop_app(second)

    # A file found beside rows already kept is stale: left alone, said once, not read.
    settings.persistence_path.write_bytes(b"not even a pickle")
    third = await start_app(settings)
    await third.say(AUTHOR, "/suggest")
    await third.app.update_persistence()
    await stop_app(third)
    fourth = await start_app(settings)
    await stop_app(fourth)
    assert settings.persistence_path.read_bytes() == b"not even a pickle"
    assert "could not be read; it is ignored" in caplog.text  # the first start: nothing kept
    assert "is ignored: the database already keeps the forms in progress" in caplog.text
    assert BODY not in caplog.text


async def empty_store(url: str) -> None:
    """Delete every row of the conversation store."""
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM conversation_state"))
    await engine.dispose()


# ---- the store itself (any database: the class does not care which) ---------------------------


def count_statements(engine: AsyncEngine) -> dict[str, int]:
    """Counts of writes and commits on this engine, from now on."""
    counts = {"write": 0, "commit": 0}

    def statement(*args: Any) -> None:
        sql = str(args[2]).lstrip().upper()
        if sql.startswith(("INSERT", "UPDATE", "DELETE")):
            counts["write"] += 1

    def commit(*args: Any) -> None:
        counts["commit"] += 1

    event.listen(engine.sync_engine, "before_cursor_execute", statement)
    event.listen(engine.sync_engine, "commit", commit)
    return counts


async def test_one_flush_is_one_transaction_of_the_rows_that_changed(
    clean_database: str,
) -> None:
    engine = create_engine(clean_database)
    store = DatabasePersistence(create_session_factory(engine), update_interval=10)
    try:
        counts = count_statements(engine)
        for user_id in range(1, 301):
            await store.update_user_data(user_id, {"draft": {"body": f"正文{user_id}"}})
            await store.update_conversation("form", (user_id, user_id), 1)
        await store.flush()
        assert counts == {"write": 1, "commit": 1}  # one upsert of 600 rows, one transaction

        await store.flush()  # nothing changed since
        for user_id in range(1, 301):  # handed over again, unchanged (PTB does every round)
            await store.update_user_data(user_id, {"draft": {"body": f"正文{user_id}"}})
        await store.flush()
        assert counts == {"write": 1, "commit": 1}

        await store.update_user_data(7, {"draft": {"body": "改过的正文"}})
        await store.update_user_data(8, {})  # the draft dropped: the row goes
        await store.update_conversation("form", (8, 8), None)  # the form ended
        await store.drop_user_data(9)
        await store.flush()
        assert counts == {"write": 2 + 1, "commit": 2}  # one delete, one upsert

        again = DatabasePersistence(create_session_factory(engine), update_interval=10)
        people = await again.get_user_data()
        assert len(people) == 298 and 8 not in people and 9 not in people
        assert people[7] == {"draft": {"body": "改过的正文"}}
        states = await again.get_conversations("form")
        assert len(states) == 299 and (8, 8) not in states and states[(7, 7)] == 1
        assert await again.get_conversations("another") == {}
    finally:
        await engine.dispose()


class Colour(enum.StrEnum):
    """An enum a handler might store by mistake."""

    RED = "red"


def test_values_come_back_as_they_were_and_only_as_built_in_types() -> None:
    value = {
        "ids": [1, 2, 3],
        "key": (-100123, 456),
        "ticked": {3, 1, 2},
        "by_id": {7: "甲", (1, 2): "乙"},
        "day": dt.date(2026, 9, 10),
        "at": dt.datetime(2026, 9, 10, 8, 30, tzinfo=dt.UTC),
        "time": dt.time(7, 45),
        "looks_tagged": {"$t": "tuple", "v": [1]},
        "text": "您好 👍",
        "none": None,
        "yes": True,
        "ratio": 0.5,
    }
    assert decode(encode(value)) == value
    assert encode({"ticked": {3, 1, 2}}) == encode({"ticked": {2, 3, 1}})  # same set, same text
    assert decode(encode({"colour": Colour.RED})) == {"colour": "red"}
    with pytest.raises(UnstorableValueError, match="keeps no PosixPath") as refused:
        encode({"file": Path("/srv/secret-name")})
    assert "secret-name" not in str(refused.value)
    for forged in ('{"$t": "os.system", "v": "rm -rf /"}', "\x80\x04K\x01.", '{"$t": "dict"}'):
        with pytest.raises(ValueError, match="not a stored conversation value"):
            decode(forged)


async def test_a_row_it_did_not_write_is_skipped_and_the_rest_is_read(
    clean_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = create_engine(clean_database)
    store = DatabasePersistence(create_session_factory(engine), update_interval=10)
    try:
        await store.update_user_data(1, {"draft": {"body": "留下的"}})
        await store.flush()
        async with create_session_factory(engine)() as session:
            for key, value in (("2", '{"$t": "os.system", "v": "id"}'), ("x", "{}")):
                session.add(ConversationState(kind=StateKind.USER, name="", key=key, value=value))
            await session.commit()
        again = DatabasePersistence(create_session_factory(engine), update_interval=10)
        assert await again.get_user_data() == {1: {"draft": {"body": "留下的"}}}
        assert "Skipped 2 unreadable row(s)" in caplog.text
    finally:
        await engine.dispose()


async def test_malformed_rows_are_skipped_at_start_never_a_crash(
    clean_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Rows this version would never write, but a bug, an older or newer version may: nested
    # past Python's recursion limit, or a state PTB cannot look up (a list is unhashable and
    # would fail every update of that person's conversation instead of the start).
    deep = "[" * 100_000 + "]" * 100_000
    engine = create_engine(clean_database)
    try:
        async with create_session_factory(engine)() as session:
            for kind, name, key, value in (
                (StateKind.USER, "", "1", '{"draft": {"body": "留下的"}}'),
                (StateKind.USER, "", "2", deep),
                (StateKind.CONVERSATION, FILING, "[3, 3]", deep),
                (StateKind.CONVERSATION, FILING, "[4, 4]", "[1, 2]"),
                (StateKind.CONVERSATION, FILING, "[5, 5]", "2"),
            ):
                session.add(ConversationState(kind=kind, name=name, key=key, value=value))
            await session.commit()
        store = DatabasePersistence(create_session_factory(engine), update_interval=10)
        assert await store.get_user_data() == {1: {"draft": {"body": "留下的"}}}
        assert await store.get_conversations(FILING) == {(5, 5): 2}
        assert "Skipped 3 unreadable row(s)" in caplog.text
        assert "留下的" not in caplog.text
    finally:
        await engine.dispose()


async def test_a_failed_write_is_logged_without_values_and_retried(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'no-table-yet.db'}")
    store = DatabasePersistence(create_session_factory(engine), update_interval=10)
    try:
        await store.update_user_data(1, {"aid": {"description": "我父亲住院"}})
        await store.flush()  # no table: must not raise (PTB's periodic writer would stop)
        assert "Could not write 1 change(s) to the conversation store" in caplog.text
        assert "住院" not in caplog.text
        async with engine.begin() as connection:
            table = SQLModel.metadata.tables["conversation_state"]
            await connection.run_sync(SQLModel.metadata.create_all, tables=[table])
        await store.flush()
        again = DatabasePersistence(create_session_factory(engine), update_interval=10)
        assert await again.get_user_data() == {1: {"aid": {"description": "我父亲住院"}}}
    finally:
        await engine.dispose()


async def test_a_flush_of_1000_changed_conversations(clean_database: str) -> None:
    """Not a check: how long one flush of a rush takes (`pytest -s`)."""
    engine = create_engine(clean_database)
    store = DatabasePersistence(create_session_factory(engine), update_interval=10)
    try:
        for round_ in range(2):
            for user_id in range(1, 1001):
                draft = {"suggestion": {"body": f"第{round_}轮 意见正文 {user_id} " * 8}}
                await store.update_user_data(user_id, {**draft, "_active_form": {"at": 1.0}})
                await store.update_conversation(FILING, (user_id, user_id), round_ + 1)
            started = time.perf_counter()
            await store.flush()
            took = time.perf_counter() - started
            print(f"\nflush of 1,000 people (2,000 rows), round {round_ + 1}: {took:.3f} s")
    finally:
        await engine.dispose()


def test_sqlite_keeps_the_forms_in_its_database_too(tmp_path: Path) -> None:
    # Not the pickle file of earlier versions: that was rewritten whole every round, on the
    # event loop (bench/flush.py).
    url = f"sqlite+aiosqlite:///{tmp_path / 'one-copy.db'}"
    application = build_application(make_settings(url, tmp_path), request=FakeTelegram())
    assert isinstance(application.persistence, DatabasePersistence)
