"""Several copies of `unionbot run` against one database, for the runner's tests.

- `own_database`: a fresh database of the test's own, named after the test database on
  PostgreSQL (two people's runs never meet; the shared e2e database is not used), or a SQLite
  file; migrated to head.
- `BotCopy`: `python -m bot run` (tests/support/emulator.py's BotProcess) that may also start as a
  standby (it then waits without polling) and whose exit status the test reads.
- `ThreadedProxy`: tests/support/tcp_proxy.py's relay on a loop of its own thread, so a bot
  process can be cut off from PostgreSQL while the test itself goes on synchronously.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.db import upgrade
from tests.support.emulator import Adapter, BotProcess, wait_until
from tests.support.tcp_proxy import TcpProxy

ON_POSTGRES = (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgresql")


async def _recreate(server_url: str, name: str) -> None:
    import asyncpg

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
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


def postgres_database(suffix: str, *, migrate: bool = True) -> str:
    """A fresh PostgreSQL database `<test database>_<suffix>` (skips outside the PG pass)."""
    server_url = os.environ.get("TEST_DATABASE_URL") or ""
    if not ON_POSTGRES:
        pytest.skip("several copies on one PostgreSQL run in the PostgreSQL pass (make test-pg)")
    url = make_url(server_url)
    name = f"{url.database}_{suffix}"
    asyncio.run(_recreate(server_url, name))
    direct = url.set(database=name).render_as_string(hide_password=False)
    if migrate:
        upgrade(direct)
    return direct


def own_database(tmp_path: Path, suffix: str) -> str:
    """PostgreSQL in the PG pass, else a SQLite file; migrated to head."""
    if ON_POSTGRES:
        return postgres_database(suffix)
    url = f"sqlite+aiosqlite:///{tmp_path / f'{suffix}.db'}"
    upgrade(url)
    return url


def through(url: str, port: int) -> str:
    """`url` with its host and port replaced by the relay's."""
    return make_url(url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


class BotCopy(BotProcess):
    """One copy of the bot, in its own folder (its own conversation store and log)."""

    def start_standby(self) -> None:
        """Start the copy and wait until it says it waits for the lease."""
        self.start_until("waiting for the lease")

    def start_until(self, log_line: str) -> None:
        """Start the copy and wait until its log says `log_line`."""
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until(lambda: log_line in self.log() or self._exited(), repr(log_line), 60)
        if self._exited():
            raise AssertionError(f"the copy exited at start-up:\n{self.log()}")

    def start_active(self, adapter: Adapter) -> None:
        """Start the copy and wait until it polls (BotProcess.start)."""
        self.start(adapter)

    def wait_exit(self, seconds: float) -> int:
        """The exit status, once the process ended by itself within `seconds`."""
        assert self._process is not None
        status = self._process.wait(timeout=seconds)
        self._process = None
        return status

    def interrupt(self, seconds: float = 30) -> int:
        """SIGINT (a clean stop, as systemd's SIGTERM); the exit status."""
        assert self._process is not None
        self._process.send_signal(signal.SIGINT)
        return self.wait_exit(seconds)

    @property
    def alive(self) -> bool:
        """True while the process runs."""
        return self._process is not None and self._process.poll() is None


def run_once(
    workdir: Path, env: dict[str, str], seconds: float = 60
) -> subprocess.CompletedProcess[str]:
    """`python -m bot run` to its end (a copy expected to refuse), its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=seconds,
        check=False,
    )


class ThreadedProxy:
    """A TcpProxy served by an event loop in a thread of its own."""

    def __init__(self, upstream_url: str) -> None:
        url = make_url(upstream_url)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
        self._call(self.proxy.start())

    def _call(self, work: object) -> None:
        assert asyncio.iscoroutine(work)
        asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout=10)

    @property
    def port(self) -> int:
        """Where the relay listens."""
        return self.proxy.port

    def stop(self) -> float:
        """Cut every connection and refuse new ones; returns the monotonic time of the cut."""
        self._call(self.proxy.stop())
        return time.monotonic()

    def close(self) -> None:
        """Stop relaying and end the thread."""
        self._call(self.proxy.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
