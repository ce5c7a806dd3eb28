"""Telling the member cache (bot/actor_cache.py) that members or roles were written.

In this process: SQLAlchemy session events note any write to `member` or `member_role` (an
object flushed, an ORM bulk UPDATE/DELETE/INSERT, a text() statement) and drop the cache when
that session commits, before the writer's code goes on (so before it tells anyone).

From other processes (another copy, a CLI command, psql): the database's triggers (migration
0024). On PostgreSQL `ChangeListener` keeps one asyncpg connection LISTENing on their channel;
while it is not up the cache does not serve. SQLite needs no listener: the cache reads the
triggers' counter itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sqlite3
import uuid
from itertools import chain
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlalchemy.sql.elements import TextClause

from bot.actor_cache import ActorCache
from bot.db import SessionFactory
from models.member_snapshots import CHANGE_CHANNEL, VERSION_QUERY
from models.members import Member, MemberRole

if TYPE_CHECKING:  # asyncpg is imported where used: a SQLite deployment never loads it
    import asyncpg

logger = logging.getLogger(__name__)

CACHE_KEY = "actor_cache"  # in Session.info: the cache this session's writes drop
_CHANGED = "members_written"  # in Session.info: this transaction wrote members or roles
MEMBER_TABLES = frozenset({"member", "member_role"})
_RAW_WRITE = re.compile(
    r"^\s*(?:insert(?:\s+or\s+\w+)?\s+into|replace\s+into|update|delete\s+from)\s+"
    r"[\"`]?(member|member_role)[\"`]?(?:\s|\(|$)",
    re.IGNORECASE,
)

RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)  # between attempts to listen again (the last repeats)
PING_SECONDS = 5.0  # a connection that died silently is found within about twice this


def member_cache(url: str, factory: SessionFactory) -> tuple[ActorCache, SqliteVersion | None]:
    """The member cache for this database, dropped by the writes of `factory`'s sessions; on
    SQLite with the reader of the triggers' counter it checks (None on PostgreSQL, where
    `ChangeListener` keeps it informed, and for a private in-memory SQLite)."""
    parsed = make_url(url)
    version = None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        version = SqliteVersion(str(parsed.database))
    cache = ActorCache(factory, read_version=None if version is None else version.read)
    if parsed.get_backend_name() == "sqlite" and version is None:
        cache.set_listening(True)  # nobody else can write a private in-memory database
    watch_sessions(factory, cache)
    return cache, version


def watch_sessions(factory: SessionFactory, cache: ActorCache) -> None:
    """Sessions from `factory` drop `cache` when they commit a write to members or roles."""
    factory.configure(info={CACHE_KEY: cache})
    for name, listener in (
        ("after_flush", _after_flush),
        ("do_orm_execute", _orm_execute),
        ("after_commit", _after_commit),
    ):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    if CACHE_KEY in session.info and any(
        isinstance(item, Member | MemberRole)
        for item in chain(session.new, session.dirty, session.deleted)
    ):
        session.info[_CHANGED] = True


def _orm_execute(state: ORMExecuteState) -> None:
    info = state.session.info
    if CACHE_KEY not in info:
        return
    statement: Any = state.statement
    if state.is_insert or state.is_update or state.is_delete:
        written = getattr(statement.table, "name", None) in MEMBER_TABLES
    elif isinstance(statement, TextClause):
        written = _RAW_WRITE.search(statement.text) is not None
    else:
        return
    if written:
        info[_CHANGED] = True


def _after_commit(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        cache = session.info[CACHE_KEY]
        assert isinstance(cache, ActorCache)
        cache.invalidate()


def asyncpg_connect_args(url: URL) -> dict[str, Any]:
    """asyncpg.connect() arguments for the bot's DATABASE_URL (user, host, ssl, ...)."""
    args: dict[str, Any] = dict(url.translate_connect_args(username="user"))
    # prepared_statement_cache_size is SQLAlchemy's own option, not asyncpg's.
    args.update(
        (key, value) for key, value in url.query.items() if key != "prepared_statement_cache_size"
    )
    return args


class ChangeListener:
    """PostgreSQL: one connection LISTENing for the triggers' notifications; the cache serves
    only while it is up and is dropped whenever it comes up again."""

    def __init__(self, url: URL, cache: ActorCache, factory: SessionFactory) -> None:
        self._connect_args = asyncpg_connect_args(url)
        self._cache = cache
        self._factory = factory  # the bot's own sessions carry the liveness markers
        self._task: asyncio.Task[None] | None = None
        self._connection: asyncpg.Connection | None = None
        self._was_up = False
        self._marker = ""  # the liveness marker on its way, if any
        self._missing_said = False  # the missing triggers are said once, not every retry
        self._marker_back = asyncio.Event()
        self.last_payload = ""  # what the last notification carried (tests send markers)

    @property
    def server_pid(self) -> int | None:
        """The listening connection's backend process id (None while not connected)."""
        return None if self._connection is None else self._connection.get_server_pid()

    def start(self) -> None:
        """Begin listening (in the background; the cache serves once it is up)."""
        self._task = asyncio.create_task(self._keep_listening(), name="member-change-listener")

    async def stop(self) -> None:
        """Stop listening and close the connection."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _keep_listening(self) -> None:
        import asyncpg

        failures = 0
        while True:
            self._was_up = False
            try:
                await self._listen()
            except (
                OSError,
                asyncpg.PostgresError,
                asyncpg.InterfaceError,
                TimeoutError,
                SignalMissingError,
                SQLAlchemyError,  # the marker goes through the bot's own pool
            ) as exc:
                if isinstance(exc, SignalMissingError):
                    if not self._missing_said:
                        self._missing_said = True
                        logger.error(  # noqa: TRY400 (one sentence for the operator, no traceback)
                            "The member triggers of migration 0024 are missing: members are "
                            "loaded from the database for every update (run `unionbot db upgrade`)"
                        )
                elif self._was_up or failures == 0:
                    logger.warning(
                        "Not listening for member changes (%s): members are loaded from the "
                        "database for every update until it is back",
                        type(exc).__name__,
                    )
            except Exception:  # a bug, not an outage: said loudly; the cache stays off meanwhile
                logger.exception("The member change listener failed; starting it again")
            failures = 0 if self._was_up else failures + 1
            await asyncio.sleep(RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)])

    async def _listen(self) -> None:
        """Listen until the connection is lost (then raise); the cache serves meanwhile."""
        import asyncpg

        lost = asyncio.Event()
        connection = await asyncpg.connect(**self._connect_args, timeout=10)
        self._connection = connection
        try:
            connection.add_termination_listener(lambda *_: lost.set())
            await connection.add_listener(CHANGE_CHANNEL, self._notified)
            if not await _triggers_in_place(connection):
                raise SignalMissingError("the member triggers of migration 0024 are missing")
            # Up only once a notification sent from another connection came back: LISTEN
            # through a pooler in transaction mode, or on a node that no longer takes the
            # writes, accepts every statement and hears nothing.
            await self._marker_round_trip()
            self._cache.set_listening(True)
            self._was_up = True
            logger.info("Listening for member changes")
            while not lost.is_set():
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancel
                # that arrives as the wait ends, and this loop would then outlive the bot.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(PING_SECONDS):
                        await lost.wait()
                    break
                await self._marker_round_trip()
            raise ConnectionResetError("the listening connection was closed")
        finally:
            self._connection = None
            if self._was_up:
                self._cache.set_listening(False)
            connection.terminate()

    async def _marker_round_trip(self) -> None:
        """Send a marker through the bot's own sessions and wait for it to come back here;
        TimeoutError (the listener is not told of changes) if it does not within PING_SECONDS."""
        self._marker = f"alive:{uuid.uuid4().hex}"
        self._marker_back.clear()
        async with self._factory() as session:
            await session.exec(  # type: ignore[call-overload]
                text("SELECT pg_notify(:channel, :marker)"),
                params={"channel": CHANGE_CHANNEL, "marker": self._marker},
            )
            await session.commit()
        async with asyncio.timeout(PING_SECONDS):  # not wait_for (see _listen)
            await self._marker_back.wait()

    def _notified(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        self.last_payload = payload
        if self._marker and payload == self._marker:
            self._marker_back.set()  # our own liveness marker: nothing was written
            return
        self._cache.invalidate()


class SignalMissingError(RuntimeError):
    """The database does not signal member changes: the cache must not serve."""


async def _triggers_in_place(connection: asyncpg.Connection) -> bool:
    """PostgreSQL: both statement triggers of migration 0024 exist and are enabled (a restore
    with --disable-triggers, or a table rebuilt by a later migration, would lose them)."""
    found = await connection.fetchval(
        "SELECT count(*) FROM pg_trigger WHERE tgname = ANY($1::text[]) AND tgenabled <> 'D'",
        [f"{table}_changed_notify" for table in sorted(MEMBER_TABLES)],
    )
    return int(found or 0) == len(MEMBER_TABLES)


def _sqlite_triggers_in_place(connection: sqlite3.Connection) -> bool:
    """SQLite: the six row triggers of migration 0024 exist (a table rebuilt by a later
    migration would lose its triggers)."""
    names = [
        f"{table}_{event}_version"
        for table in sorted(MEMBER_TABLES)
        for event in ("insert", "update", "delete")
    ]
    marks = ", ".join("?" for _ in names)
    (found,) = connection.execute(
        f"SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN ({marks})", names
    ).fetchone()
    return int(found) == len(names)


class SqliteVersion:
    """SQLite: reads the triggers' `member_version` on a connection of its own, one worker
    thread hop a read (no session, no pool), for the cache's rounds of held accounts.

    A plain sqlite3 connection used from asyncio's worker threads, one read at a time (the
    cache runs one round at a time): unlike an aiosqlite connection it owns no thread, so one
    left open (an application never shut down) cannot keep the process from exiting. A
    SELECT outside a transaction: every read sees the last commit.
    """

    def __init__(self, path: str) -> None:
        self._path = path
        self._connection: sqlite3.Connection | None = None
        self._triggers_checked = False
        self._triggers_in_place = True
        self._untrusted = 0

    async def read(self) -> int | None:
        """The count of writes to members and roles (None before the first write)."""
        return await asyncio.to_thread(self._read)

    def _read(self) -> int | None:
        if self._connection is None:
            self._connection = sqlite3.connect(
                self._path,
                timeout=15,
                check_same_thread=False,
                uri=self._path.startswith("file:"),
            )
        try:
            if not self._triggers_checked:
                self._triggers_in_place = _sqlite_triggers_in_place(self._connection)
                self._triggers_checked = True
                if not self._triggers_in_place:
                    logger.error(
                        "The member triggers of migration 0024 are missing: members are "
                        "loaded from the database for every update (run `unionbot db upgrade`)"
                    )
            row = self._connection.execute(VERSION_QUERY).fetchone()
        except sqlite3.Error:
            self._close()  # opened again at the next read
            raise
        if not self._triggers_in_place:
            self._untrusted -= 1  # a new value every read: the cache drops what it held
            return self._untrusted
        return None if row is None else int(row[0])

    def _close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.close()

    async def close(self) -> None:
        """Close the connection (at shut-down)."""
        self._close()
