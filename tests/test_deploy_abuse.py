"""The install script run again, and watched (issue 19, review):

- an upgrade over an existing install leaves no file of the earlier release behind (a renamed
  migration left in place would give Alembic two heads and stop `db upgrade`);
- the database password never appears on a command line (every user of the server can read
  command lines in `ps`), only on psql's standard input.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.test_deploy import DEPLOY, TEST_DATABASE_URL, _admin


def install(env: dict[str, str], *steps: str) -> subprocess.CompletedProcess[str]:
    """deploy/install-debian.sh with these steps, without the root-only ones."""
    return subprocess.run(
        ["bash", str(DEPLOY / "install-debian.sh"), *steps],
        env={**os.environ, "UNIONBOT_SKIP_SYSTEM": "1", **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_an_upgrade_in_place_leaves_no_file_of_the_earlier_release(tmp_path: Path) -> None:
    release = tmp_path / "release"
    versions = release / "bot" / "migrations" / "versions"
    versions.mkdir(parents=True)
    (versions / "0023_conversation_state.py").write_text("# the first name\n")
    (release / "pyproject.toml").write_text("# a release\n")
    target = tmp_path / "opt" / "unionbot"
    env = {"UNIONBOT_DIR": str(target), "UNIONBOT_SOURCE": str(release)}

    assert install(env, "code").returncode == 0
    (target / ".env").write_text("TELEGRAM_BOT_TOKEN=kept\n")
    (target / "data" / "unionbot.db").write_text("kept")
    (versions / "0023_conversation_state.py").rename(versions / "0023_conversation_store.py")
    result = install(env, "code")

    assert result.returncode == 0, result.stderr
    installed = sorted(p.name for p in (target / "bot" / "migrations" / "versions").iterdir())
    assert installed == ["0023_conversation_store.py"]
    assert (target / ".env").read_text() == "TELEGRAM_BOT_TOKEN=kept\n"
    assert (target / "data" / "unionbot.db").read_text() == "kept"


@pytest.mark.skipif(
    not TEST_DATABASE_URL.startswith("postgresql"),
    reason="the database step talks to PostgreSQL: PG pass only (TEST_DATABASE_URL)",
)
def test_the_database_password_is_never_on_a_command_line(tmp_path: Path) -> None:
    real = shutil.which("psql")
    assert real is not None
    shims = tmp_path / "bin"
    shims.mkdir()
    seen = tmp_path / "command-lines"
    for tool in ("psql", "createdb"):
        (shims / tool).write_text(
            f'#!/bin/sh\nprintf "%s\\n" "$0 $*" >>"{seen}"\nexec {shutil.which(tool)} "$@"\n'
        )
        (shims / tool).chmod(0o755)
    server = make_url(TEST_DATABASE_URL)
    name = f"w_r1_pw{os.getpid()}"
    password = f"pw-{secrets.token_hex(8)}"
    env = {
        "PATH": f"{shims}:{os.environ['PATH']}",
        "UNIONBOT_DIR": str(tmp_path / "unionbot"),
        "UNIONBOT_DB_NAME": name,
        "UNIONBOT_DB_USER": name,
        "UNIONBOT_DB_PASSWORD": password,
        "UNIONBOT_PGADMIN_HOST": server.host or "127.0.0.1",
        "UNIONBOT_PGADMIN_USER": server.username or "postgres",
        "PGPORT": str(server.port or 5432),
    }
    try:
        result = install(env, "database")
        assert result.returncode == 0, result.stdout + result.stderr
        lines = seen.read_text()
        assert "CREATE ROLE" in lines or "pg_roles" in lines
        assert password not in lines
        assert password not in result.stdout + result.stderr
        ((role,),) = asyncio.run(
            _admin(TEST_DATABASE_URL, f"SELECT rolcanlogin FROM pg_roles WHERE rolname = '{name}'")
        )
        assert role["rolcanlogin"] is True
    finally:
        asyncio.run(
            _admin(
                TEST_DATABASE_URL,
                f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                f'DROP ROLE IF EXISTS "{name}"',
            )
        )
