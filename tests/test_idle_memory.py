"""Idle memory (issue 20): the running bot holds no alembic, openpyxl, matplotlib or
python-docx, and `unionbot run` migrates in a child process (`python -m bot db upgrade`).

The memory itself is measured by `make bench-memory` (bench/idle_memory.py), never here.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from bot.db import alembic_config, create_engine
from bot.lease import hold_sqlite_lock, release_sqlite_lock
from bot.runner import migrate_in_child
from tests.test_backup import operator, sqlite_url

ROOT = Path(__file__).resolve().parents[1]
HEAVY = {"alembic", "mako", "openpyxl", "matplotlib", "numpy", "docx", "lxml", "PIL"}


def test_the_running_bot_imports_no_heavy_library() -> None:
    """What `unionbot run` imports (the CLI, the runner, the application with every handler)."""
    code = (
        "import sys, bot.cli, bot.runner, bot.app; "
        "print(' '.join({name.split('.')[0] for name in sys.modules}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert set(done.stdout.split()) & HEAVY == set()


async def version(url: str) -> str:
    """The database's Alembic revision."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            found = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return str(found.scalar_one())
    finally:
        await engine.dispose()


def test_the_child_migrates_while_the_bot_holds_the_sqlite_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    url = sqlite_url(tmp_path / "data" / "unionbot.db")
    operator(monkeypatch, tmp_path / "server", url)
    lock = hold_sqlite_lock(url)  # as `unionbot run` does before migrating
    try:
        assert migrate_in_child(url) == 0  # the child never asks for the lock file
    finally:
        release_sqlite_lock(lock)
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert asyncio.run(version(url)) == head
    captured = capfd.readouterr()
    assert captured.out == ""  # "the database is up to date" at every start would be noise
    assert "Traceback" not in captured.err


def test_a_failed_migration_is_one_sentence_and_its_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    url = "postgresql+asyncpg://postgres@127.0.0.1:1/nothing"  # nothing listens on port 1
    operator(monkeypatch, tmp_path, url)
    assert migrate_in_child(url) == 1
    lines = capfd.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("The database was not brought up to date: ")
    assert lines[0].endswith("Check DATABASE_URL and that the database is running, then try again.")
