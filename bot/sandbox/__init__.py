"""The local sandbox: the real bot, handlers and database, served by an in-process Telegram,
with a terminal chat in which one person plays the teachers, the committee and the chair.

`unionbot sandbox` (or `make sandbox`) runs it on `data/sandbox.db`; `--fresh` starts over.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

from bot.db import upgrade
from bot.sandbox.terminal import Sandbox, running_sandbox, sandbox_settings
from bot.settings import Settings

DEFAULT_DATABASE = Path("data/sandbox.db")

__all__ = ["DEFAULT_DATABASE", "Sandbox", "run_terminal", "running_sandbox", "sandbox_settings"]


def sandbox_files(database: Path) -> list[Path]:
    """The files one sandbox keeps: its SQLite database (with WAL files) and conversations."""
    return [
        database,
        database.with_name(database.name + "-wal"),
        database.with_name(database.name + "-shm"),
        database.with_suffix(".pickle"),
    ]


def run_terminal(base: Settings, *, database: Path = DEFAULT_DATABASE, fresh: bool = False) -> int:
    """Run the sandbox on the terminal until `:quit` or end of input."""
    if fresh:
        for path in sandbox_files(database):
            path.unlink(missing_ok=True)
    settings = sandbox_settings(
        base,
        database_url=f"sqlite+aiosqlite:///{database}",
        persistence_path=database.with_suffix(".pickle"),
    )
    upgrade(settings.database_url)
    asyncio.run(_serve(settings))
    return 0


async def _serve(settings: Settings) -> None:
    async with running_sandbox(settings, sys.stdout) as sandbox:
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
