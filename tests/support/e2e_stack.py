"""One emulator, one adapter, one bot process and their database, for a test."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from bot.db import SessionFactory, create_engine, create_session_factory, is_sqlite, upgrade
from models.members import Role
from models.organizations import ensure_default_organization
from tests.support.emulator import (
    Adapter,
    BotProcess,
    Emulator,
    EmulatorClient,
    bot_environment,
    emulator_missing,
)
from tests.support.factories import make_member
from tests.support.updates import Person

GROUP_ID = -1009876543210
ORG_NAME = "实验中学工会"


def e2e_database(base: str) -> str:
    """The bot process's own database beside the test database: named after it, so two runs on
    one server (each with its own TEST_DATABASE_URL) never drop each other's."""
    return f"{make_url(base).database or 'unionbot'}_e2e"


def skip_without_emulator() -> None:
    """Skip (with the reason) where node or the emulator package is absent."""
    reason = emulator_missing()
    if reason is not None:
        pytest.skip(reason)


def database_url(tmp_path: Path) -> str:
    """An empty, migrated database for a bot process: SQLite, or PostgreSQL in the PG pass."""
    base = os.environ.get("TEST_DATABASE_URL", "")
    if base.startswith("postgresql"):
        url = base.rsplit("/", 1)[0] + f"/{e2e_database(base)}"
        asyncio.run(_fresh_postgres_database(base))
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}"
    upgrade(url)
    return url


async def _fresh_postgres_database(base: str) -> None:
    import asyncpg

    plain = base.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(plain)
    try:
        name = e2e_database(base)
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def _seed(
    url: str, people: Iterable[tuple[Person, str, tuple[Role, ...], str | None]]
) -> int:
    engine = create_engine(url)
    db = create_session_factory(engine)
    try:
        async with db() as session:
            org = await ensure_default_organization(
                session, name=ORG_NAME, committee_chat_id=GROUP_ID
            )
            assert org.id is not None
            org_id = org.id
        for person, name, roles, gender in people:
            language = {"en": "en", "zh-hant": "zh-Hant"}.get(person.language_code or "", "zh-Hans")
            await make_member(
                db,
                org_id=org_id,
                person=person,
                name=name,
                roles=roles,
                language=language,
                gender=gender,
            )
    finally:
        await engine.dispose()
    return org_id


def with_db(url: str, work: Callable[[SessionFactory], Awaitable[Any]]) -> Any:
    """Run `work` with a session factory on the bot's database, from a plain (sync) test."""

    async def run() -> Any:
        engine = create_engine(url)
        try:
            return await work(create_session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def seed(url: str, people: Iterable[tuple[Person, str, tuple[Role, ...], str | None]]) -> int:
    """Members bound to their Telegram ids, in the organization the bot will find."""
    return asyncio.run(_seed(url, people))


class Stack:
    """The emulator, the adapter, the people's client and the bot process."""

    def __init__(self, tmp_path: Path, url: str, owners: Iterable[int], **settings: str) -> None:
        self.url = url
        self.emulator = Emulator()
        self.emulator.start()
        self.adapter = Adapter(self.emulator.url)
        self.adapter.start()
        self.client = EmulatorClient(self.emulator)
        env = bot_environment(
            self.adapter,
            url,
            tmp_path,
            owner_ids=",".join(str(owner) for owner in owners),
            committee_chat_id=str(GROUP_ID),
            **settings,
        )
        self.bot = BotProcess(tmp_path, env)

    def close(self) -> None:
        """Stop the bot cleanly, then the adapter and the emulator."""
        try:
            self.bot.stop()
        finally:
            self.adapter.stop()
            self.emulator.stop()

    def assert_clean_log(self) -> None:
        """No unhandled error, no traceback in the bot's log."""
        log = self.bot.log()
        assert "Unhandled error" not in log, log[-4000:]
        assert "Traceback" not in log, log[-4000:]


@contextmanager
def running_stack(
    tmp_path: Path, url: str, owners: Iterable[int], **settings: str
) -> Iterator[Stack]:
    """A started stack, stopped afterwards (its log printed if the test failed)."""
    stack = Stack(tmp_path, url, owners, **settings)
    try:
        stack.bot.start(stack.adapter)
        yield stack
    except BaseException:
        print(stack.bot.log()[-6000:])
        raise
    finally:
        stack.close()


def sqlite_file(url: str) -> bool:
    """Whether the stack runs on SQLite."""
    return is_sqlite(url)
