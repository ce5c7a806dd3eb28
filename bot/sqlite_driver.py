"""SQLite through aiosqlite, one hop to its thread per statement.

aiosqlite runs each connection in a thread of its own, and every call (make a cursor, execute,
fetch the rows, close the cursor, commit, roll back) is one hop there and back. SQLAlchemy's
adapter makes four of them for a SELECT and three for an INSERT, then one to end the
transaction, even after a session that only read, when SQLite has nothing to end. Measured with
bench/pipeline.py, the hops were most of an update's database cost.

Here a statement is one hop: the thread makes a sqlite3 cursor, executes, fetches every row and
closes the cursor, and hands back the rows with the description, rowcount and lastrowid that
SQLAlchemy reads afterwards. A commit or rollback is a hop only when SQLite has a transaction
open (`in_transaction`, read in the event loop's thread: the engine opens connections with
`check_same_thread=False`, and no statement of that connection runs meanwhile, since its
session waits for each one). Server-side cursors (`stream_results`) keep SQLAlchemy's own.

Used through `create_async_engine(..., module=one_hop_dbapi())` (bot/db.py): the dialect is
SQLAlchemy's aiosqlite one; only the connection and cursor it gets differ.
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT, await_

Outcome = tuple[Any, list[Any], int, int | None]  # description, rows, rowcount, lastrowid


def _run(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> Outcome:
    """In aiosqlite's thread: the whole statement, its rows fetched, its cursor closed."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor whose execute is one hop; its results are held in memory (as SQLAlchemy's
    adapter holds them too, for a cursor that is not server-side)."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_dbapi_connection) -> None:
        # No aiosqlite cursor is made here (that is a hop): each execute makes its own.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        """The last statement's column description (None for one without rows)."""
        return self._description

    @property
    def rowcount(self) -> int:
        """Rows the last statement changed (-1 for a SELECT, as sqlite3 says)."""
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        """The rowid of the last row inserted."""
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        """fetchmany's default size."""
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        """Ignored: the rows are all in memory already."""

    async def _async_soft_close(self) -> None:
        """Nothing to close: the cursor was closed in the thread."""

    def close(self) -> None:
        """Drop the rows held (no hop)."""
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        """Run one statement in one hop."""
        try:
            await_(self._one_hop(operation, parameters, many=False))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        """Run one statement for many parameter sets in one hop."""
        try:
            await_(self._one_hop(operation, seq_of_parameters, many=True))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _one_hop(self, operation: str, parameters: Any, *, many: bool) -> None:
        driver: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        async with self._adapt_connection._execute_mutex:
            outcome: Outcome = await driver._execute(
                _run, driver._conn, operation, parameters, many
            )
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows)

    def nextset(self) -> None:
        """sqlite3 has no second result set."""

    def setinputsizes(self, *inputsizes: Any) -> None:
        """Nothing to set for sqlite3."""


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    """SQLAlchemy's aiosqlite connection with one-hop cursors, and no hop to commit or roll
    back when SQLite has no transaction open (a session that only read)."""

    __slots__ = ()
    _cursor_cls = OneHopCursor

    def _in_transaction(self) -> bool:
        driver: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        try:
            return bool(driver.in_transaction)
        except (ValueError, sqlite3.Error):  # closed: let SQLAlchemy's own path say so
            return True

    def rollback(self) -> None:
        """Roll back, if a transaction is open."""
        if self._in_transaction():
            super().rollback()

    def commit(self) -> None:
        """Commit, if a transaction is open."""
        if self._in_transaction():
            super().commit()


class OneHopDbapi(AsyncAdapt_aiosqlite_dbapi):
    """SQLAlchemy's aiosqlite DBAPI module, handing out OneHopConnections."""

    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        """Open a connection as SQLAlchemy does, wrapped in a OneHopConnection."""
        adapted = super().connect(*arg, **kw)
        return OneHopConnection(self, adapted._connection)


def one_hop_dbapi() -> OneHopDbapi:
    """The module to pass as `create_async_engine(..., module=...)` for SQLite."""
    return OneHopDbapi(aiosqlite, sqlite3)
