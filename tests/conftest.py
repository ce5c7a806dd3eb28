"""Fixtures: a migrated database (SQLite, or PostgreSQL via TEST_DATABASE_URL) and a bot."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel

import models  # noqa: F401  (registers the tables)
from bot.db import create_engine, is_sqlite, upgrade
from bot.settings import Settings
from tests.support.harness import BotHarness, make_settings, running_bot

# `make test` draws the same examples on every run, so a CI run cannot fail by the luck of the
# draw; HYPOTHESIS_PROFILE=explore draws new ones (run it by hand to look for new failures).
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
hypothesis_settings.register_profile("explore")
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def _late_aiosqlite_result(args: threading.ExceptHookArgs) -> bool:
    """aiosqlite's worker thread handing a result to a test's event loop after pytest-asyncio
    closed it: a query still in flight when its test ended (its task was cancelled at teardown,
    the thread finished the call anyway). Nothing of the next test is involved; the bot's own
    loop runs until the process ends, so this happens only between tests."""
    thread = args.thread
    return (
        args.exc_type is RuntimeError
        and str(args.exc_value) == "Event loop is closed"
        and thread is not None
        and thread.name.endswith("(_connection_worker_thread)")
    )


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """Wrap pytest's thread-exception hook so only the late aiosqlite result is let through
    (it once failed an unrelated test that happened to run when the thread woke up)."""
    collect = threading.excepthook

    def hook(args: threading.ExceptHookArgs) -> None:
        if not _late_aiosqlite_result(args):
            collect(args)

    threading.excepthook = hook


# A module that picks its database itself (processes it starts, copies of the bot) names
# TEST_DATABASE_URL, PostgreSQL or one of the helpers that read it.
_PICKS_ITS_DATABASE = re.compile(r"TEST_DATABASE_URL|postgres|e2e_stack|support\.copies", re.I)


def _touches_the_database(item: pytest.Item, sources: dict[str, str]) -> bool:
    if "database_url" in getattr(item, "fixturenames", ()):
        return True
    path = str(item.path)
    if path not in sources:
        sources[path] = item.path.read_text(encoding="utf-8")
    return _PICKS_ITS_DATABASE.search(sources[path]) is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The PostgreSQL pass runs the tests that touch a database; the others (texts, dates,
    settings, parsing) do exactly the same in both passes and run in the SQLite pass only."""
    if not os.environ.get("TEST_DATABASE_URL"):
        return
    sources: dict[str, str] = {}
    kept = [item for item in items if _touches_the_database(item, sources)]
    if len(kept) < len(items):
        chosen = set(kept)
        config.hook.pytest_deselected(items=[item for item in items if item not in chosen])
        items[:] = kept


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated from empty to head once per test session."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        _reset_postgres_schema(url)
    else:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'unionbot.db'}"
    upgrade(url)
    return url


def _reset_postgres_schema(url: str) -> None:
    import asyncio

    async def reset() -> None:
        engine = create_engine(url)
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
        await engine.dispose()

    asyncio.run(reset())


async def empty_tables(url: str) -> None:
    """Delete every row (keeping the schema and Alembic's version).

    The aid ledger refuses DELETE by a trigger. On SQLite the triggers are dropped for the
    delete and created again from their own stored SQL in the same transaction, so every test
    runs with exactly the production triggers; PostgreSQL's TRUNCATE fires no row trigger.
    """
    engine = create_engine(url)
    tables = [table.name for table in reversed(SQLModel.metadata.sorted_tables)]
    async with engine.begin() as connection:
        if is_sqlite(url):
            triggers = (
                await connection.execute(
                    text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
                )
            ).all()
            for name, _sql in triggers:
                await connection.execute(text(f'DROP TRIGGER "{name}"'))
            for name in tables:
                await connection.execute(text(f'DELETE FROM "{name}"'))
            for _name, sql in triggers:
                await connection.execute(text(sql))
        elif not await _empty_postgres(connection, tables):
            quoted = ", ".join(f'"{name}"' for name in tables)
            await connection.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
    await engine.dispose()


async def _empty_postgres(connection: AsyncConnection, tables: list[str]) -> bool:
    """Delete the rows of the tables that have any and restart the sequences that moved.

    TRUNCATE of all fifty tables cost most of a second per test on a busy machine (a new file
    per table); two reads and a DELETE per table used cost a few milliseconds. Triggers (the
    aid ledger's refusal, the foreign keys' checks) are off for this transaction only: the
    tables are emptied whole, in any order.
    """
    probes = " UNION ALL ".join(
        f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM \"{name}\")" for name in tables
    )
    filled = list((await connection.execute(text(probes))).scalars())
    moved = list(
        (
            await connection.execute(
                text(
                    "SELECT quote_ident(sequencename) FROM pg_sequences "
                    "WHERE schemaname = 'public' AND last_value IS NOT NULL"
                )
            )
        ).scalars()
    )
    role = await connection.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = user"))
    if not role.scalar():
        return False  # turning triggers off needs a superuser: TRUNCATE instead
    await connection.execute(text("SET LOCAL session_replication_role = replica"))
    for name in filled:
        await connection.execute(text(f'DELETE FROM "{name}"'))
    if moved:
        await connection.execute(
            text(
                "SELECT setval(CAST(name AS regclass), 1, false) "
                "FROM unnest(CAST(:names AS text[])) AS name"
            ),
            {"names": moved},
        )
    return True


@pytest.fixture
async def clean_database(database_url: str) -> str:
    """The test database, emptied for this test."""
    await empty_tables(database_url)
    return database_url


@pytest.fixture
def settings(clean_database: str, tmp_path: Path) -> Settings:
    """Settings for a bot on the clean test database."""
    return make_settings(clean_database, tmp_path)


@pytest.fixture
async def bot(settings: Settings) -> AsyncIterator[BotHarness]:
    """A started bot on the fake transport."""
    async with running_bot(settings) as harness:
        yield harness
