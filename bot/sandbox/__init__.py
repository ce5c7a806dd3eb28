"""The local sandbox: the real bot, handlers and database, served by an in-process Telegram,
with a terminal chat in which one person plays the teachers, the committee and the chair.

`unionbot sandbox` (or `make sandbox`) runs it on `data/sandbox.db`; `--fresh` starts over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.db import upgrade
from bot.sandbox.terminal import Sandbox, running_sandbox, sandbox_settings
from bot.settings import Settings

DEFAULT_DATABASE = Path("data/sandbox.db")
DISTRICT_DATABASE = Path("data/sandbox-district.db")  # `sandbox --district` keeps its own

__all__ = [
    "DEFAULT_DATABASE",
    "DISTRICT_DATABASE",
    "Sandbox",
    "logs_beside_the_chat",
    "run_terminal",
    "running_sandbox",
    "sandbox_settings",
]


def sandbox_files(database: Path) -> list[Path]:
    """The files one sandbox keeps: its SQLite database (with WAL files) and conversations."""
    return [
        database,
        database.with_name(database.name + "-wal"),
        database.with_name(database.name + "-shm"),
        database.with_suffix(".pickle"),
        database.with_suffix(".log"),
    ]


class LocalTimeFormatter(logging.Formatter):
    """Log lines stamped in the deployment's time zone (with its offset), not UTC."""

    def __init__(self, zone: ZoneInfo) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.zone = zone

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        """`2026-03-08 09:30:05+08:00`."""
        moment = datetime.fromtimestamp(record.created, self.zone)
        return moment.isoformat(sep=" ", timespec="seconds")


@contextlib.contextmanager
def logs_beside_the_chat(path: Path, zone: ZoneInfo) -> Iterator[None]:
    """While the sandbox runs, the terminal is the chat: log lines go to `path` (INFO and up),
    and only errors also reach the terminal, on stderr, in local time."""
    root = logging.getLogger()
    # The console handler `unionbot` set up writes beside the chat: set it aside meanwhile.
    console = [
        handler
        for handler in root.handlers
        if type(handler) is logging.StreamHandler
        and getattr(handler, "stream", None) in (sys.stderr, sys.stdout)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    to_file = logging.FileHandler(path, encoding="utf-8")
    to_file.setLevel(logging.INFO)
    errors = logging.StreamHandler(sys.stderr)
    errors.setLevel(logging.ERROR)
    for handler in (to_file, errors):
        handler.setFormatter(LocalTimeFormatter(zone))
    level = root.level
    for handler in console:
        root.removeHandler(handler)
    root.addHandler(to_file)
    root.addHandler(errors)
    root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(to_file)
        root.removeHandler(errors)
        to_file.close()
        for handler in console:
            root.addHandler(handler)
        root.setLevel(level)


def run_terminal(
    base: Settings,
    *,
    database: Path = DEFAULT_DATABASE,
    fresh: bool = False,
    district: bool = False,
) -> int:
    """Run the sandbox on the terminal until `:quit` or end of input."""
    if fresh:
        for path in sandbox_files(database):
            path.unlink(missing_ok=True)
    settings = sandbox_settings(
        base,
        database_url=f"sqlite+aiosqlite:///{database}",
        persistence_path=database.with_suffix(".pickle"),
    )
    log_path = database.with_suffix(".log")
    with logs_beside_the_chat(log_path, settings.zone):
        upgrade(settings.database_url)
        asyncio.run(_serve(settings, log_path, district))
    return 0


async def _serve(settings: Settings, log_path: Path, district: bool) -> None:
    async with running_sandbox(
        settings, sys.stdout, log_path=log_path, district=district
    ) as sandbox:
        interactive = sys.stdin.isatty()
        if interactive:
            with contextlib.suppress(ImportError):
                import readline  # noqa: F401  (line editing and history for input())
        lines = _typed(sandbox) if interactive else iter(sys.stdin)
        await sandbox.repl(lines, echo=not interactive)


def _typed(sandbox: Sandbox) -> Iterator[str]:
    """Lines typed at the prompt, until Ctrl-D or Ctrl-C."""
    while True:
        try:
            yield input(sandbox.prompt())
        except (EOFError, KeyboardInterrupt):
            sandbox.say("")
            return
