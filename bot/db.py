"""Database engine, session factory and migrations."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.files import narrow, private_file

if TYPE_CHECKING:  # alembic is imported only where a migration runs (bot/runner.py: a child)
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

SessionFactory = async_sessionmaker[AsyncSession]


def is_sqlite(url: str) -> bool:
    """True when the URL points at SQLite."""
    return make_url(url).get_backend_name() == "sqlite"


def _ensure_sqlite_dir(url: str) -> None:
    """The SQLite file is created 0600 (in a 0700 folder) before SQLite opens it: SQLite gives
    its -wal, -shm and -journal files the database file's permissions."""
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database)
        private_file(path)
        for suffix in ("-wal", "-shm", "-journal"):
            narrow(path.with_name(path.name + suffix))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # 15 s: on a starved machine a writer (the outbox recording a 2,000-message broadcast
    # beside the updates) can hold the lock for seconds; waiting is better than a lost write.
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_engine(url: str, *, pool_size: int = 5, max_overflow: int = 10) -> AsyncEngine:
    """Build the async engine; SQLite gets WAL, a busy timeout and foreign keys."""
    # hide_parameters: SQL errors must never carry aid texts or names into logs and alerts.
    if is_sqlite(url):
        _ensure_sqlite_dir(url)
        database = make_url(url).database
        # A private in-memory database lives in its one connection (SQLAlchemy's StaticPool).
        sizes = (
            {"pool_size": pool_size, "max_overflow": max_overflow}
            if database not in (None, "", ":memory:")
            else {}
        )
        engine = create_async_engine(url, hide_parameters=True, **sizes)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url,
        hide_parameters=True,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=max_overflow,
    )


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    """One factory per application; each task opens its own session."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at our migrations and the given database."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database to `revision` (synchronous; call outside a running loop)."""
    from alembic import command

    if is_sqlite(url):
        _ensure_sqlite_dir(url)
    command.upgrade(alembic_config(url), revision)


async def upgrade_async(url: str, revision: str = "head") -> None:
    """Migrate from inside an event loop (Alembic's env runs its own loop in a thread)."""
    await asyncio.to_thread(upgrade, url, revision)


def make_revision(url: str, message: str) -> None:
    """Autogenerate a migration (numbered 0001, 0002, ...) from models versus the database."""
    numbers = [
        int(path.name[:4])
        for path in (MIGRATIONS_DIR / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")
    ]
    rev_id = f"{max(numbers, default=0) + 1:04d}"
    from alembic import command

    command.revision(alembic_config(url), message=message, autogenerate=True, rev_id=rev_id)
