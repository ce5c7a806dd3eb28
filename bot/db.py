"""Database engine, session factory and migrations."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import PoolResetState
from sqlalchemy.util import await_
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


def _driver_in_transaction(driver: Any) -> bool:
    """Whether the driver's connection has a transaction open (asked of the driver itself, no
    round trip: aiosqlite reads SQLite's autocommit flag, asyncpg the server's last status)."""
    # Duck-typed: importing asyncpg on SQLite (or aiosqlite on PostgreSQL) costs idle memory.
    asks_asyncpg = getattr(driver, "is_in_transaction", None)
    if asks_asyncpg is not None:
        return bool(asks_asyncpg())
    if hasattr(driver, "in_transaction"):  # aiosqlite
        return bool(driver.in_transaction)
    return True  # a driver we do not know: roll back, as the pool would


def _rollback_if_open(dbapi_connection: Any, record: Any, state: PoolResetState) -> None:
    """The pool's reset on return, only when a transaction is still open.

    A session ends its own transaction (commit, or rollback when it closes), and then the
    pool's reset-on-return rolled back once more: on aiosqlite one more hop to the
    connection's thread for every session. With `pool_reset_on_return=None` this listener is
    the reset: a connection returned with its transaction open (a raw `engine.connect()` left
    mid-way, a failed commit) is still rolled back before anyone else gets it.
    """
    if state.terminate_only or not state.asyncio_safe or state.transaction_was_reset:
        return
    driver = record.driver_connection
    if _driver_in_transaction(driver):
        dbapi_connection.rollback()
        if hasattr(driver, "is_in_transaction") and driver.is_in_transaction():
            # asyncpg: a transaction its adapter did not open (the driver used directly); the
            # adapter's rollback only ends its own.
            await_(driver.execute("ROLLBACK"))


def _refuse_closed(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """A pooled asyncpg connection the server has closed (a restart, an outage) is replaced
    at checkout: asyncpg saw the socket close while the connection sat in the pool."""
    is_closed = getattr(record.driver_connection, "is_closed", None)
    if is_closed is not None and is_closed():
        raise DisconnectionError("the server closed this pooled connection")


def create_engine(url: str, *, pool_size: int = 5, max_overflow: int = 10) -> AsyncEngine:
    """Build the async engine; SQLite gets WAL, a busy timeout and foreign keys."""
    # hide_parameters: SQL errors must never carry aid texts or names into logs and alerts.
    # pool_reset_on_return=None: _rollback_if_open is the reset (no second rollback).
    if is_sqlite(url):
        from bot.sqlite_driver import one_hop_dbapi  # aiosqlite is imported only for SQLite

        _ensure_sqlite_dir(url)
        database = make_url(url).database
        # A private in-memory database lives in its one connection (SQLAlchemy's StaticPool).
        sizes = (
            {"pool_size": pool_size, "max_overflow": max_overflow}
            if database not in (None, "", ":memory:")
            else {}
        )
        # check_same_thread=False: the reset reads SQLite's in_transaction flag from the event
        # loop's thread; every statement still runs in aiosqlite's own thread, one at a time.
        # module: statements in one hop to aiosqlite's thread (bot/sqlite_driver.py).
        engine = create_async_engine(
            url,
            hide_parameters=True,
            pool_reset_on_return=None,
            connect_args={"check_same_thread": False},
            module=one_hop_dbapi(),
            **sizes,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    else:
        # No pool_pre_ping: on asyncpg it costs three round trips (BEGIN, a ping, ROLLBACK) at
        # every checkout. A connection the server closed is seen at checkout without asking
        # the server (_refuse_closed); one that dies silently fails its statement, and
        # SQLAlchemy then drops every pooled connection opened before (a disconnect error).
        engine = create_async_engine(
            url,
            hide_parameters=True,
            pool_reset_on_return=None,
            pool_size=pool_size,
            max_overflow=max_overflow,
        )
        event.listen(engine.sync_engine, "checkout", _refuse_closed)
    event.listen(engine.sync_engine, "reset", _rollback_if_open)
    return engine


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    """One factory per application; each task opens its own session."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


def create_single_statement_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions for work of ONE statement: a read, or one write that is atomic on its own
    (the handled update ids' INSERT ... ON CONFLICT). On PostgreSQL they run in autocommit,
    so the statement is the only round trip: no BEGIN before it, no COMMIT or ROLLBACK after.
    Never for two statements that must agree or commit together: each would stand alone.
    On SQLite they are ordinary sessions: a statement is one hop already, a read-only session
    ends without one (bot/sqlite_driver.py), and switching aiosqlite's mode would cost two."""
    if engine.dialect.name != "postgresql":
        return create_session_factory(engine)
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    return async_sessionmaker(autocommit, class_=AsyncSession, expire_on_commit=False)


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
