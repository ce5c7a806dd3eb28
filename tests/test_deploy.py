"""deploy/: the systemd units, the container image and compose file, and the install script.

What this machine can check is checked for real: `systemd-analyze verify` on the units, the
container's health check against a real HTTP server, and deploy/install-debian.sh end to end in
a throw-away folder against the local PostgreSQL (a database and a role of its own, dropped
after). A container build needs a running engine and the base image already present (Docker Hub
is not reachable from here); it is skipped, with the reason, where either is missing.
"""

from __future__ import annotations

import asyncio
import http.server
import json
import os
import re
import secrets
import shutil
import stat
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from bot.db import alembic_config
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = ("unionbot.service", "unionbot-backup.service", "unionbot-backup.timer")
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")


# ---- systemd ---------------------------------------------------------------------------------


def _unit(name: str) -> dict[str, dict[str, list[str]]]:
    """A unit file as {section: {key: [values]}} (keys may repeat, as systemd allows)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in (DEPLOY / "systemd" / name).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def test_the_service_runs_the_bot_as_its_own_user_and_writes_only_its_data_folder() -> None:
    service = _unit("unionbot.service")["Service"]
    home = service["WorkingDirectory"][0]
    assert service["User"] == ["unionbot"]
    assert home in ("/opt/unionbot", "/srv/unionbot")
    assert service["EnvironmentFile"] == [f"{home}/.env"]
    assert service["ExecStart"] == [f"{home}/.venv/bin/unionbot run"]
    assert service["Restart"] == ["on-failure"]
    assert 1 <= int(service["RestartSec"][0]) <= 60
    # A lost lease or a database outage must not exhaust systemd's start limit.
    assert _unit("unionbot.service")["Unit"]["StartLimitIntervalSec"] == ["0"]
    assert service["ReadWritePaths"] == [f"{home}/data"]
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "PrivateTmp": "yes",
        "ProtectHome": "yes",
        "StandardOutput": "journal",
    }.items():
        assert service[key] == [value], key
    backup = _unit("unionbot-backup.service")["Service"]
    assert backup["User"] == ["unionbot"]
    assert backup["Type"] == ["oneshot"]
    assert "unionbot backup" in backup["ExecStart"][0]
    assert backup["ReadWritePaths"] == [f"{home}/data"]
    assert _unit("unionbot-backup.timer")["Timer"]["Persistent"] == ["true"]


def test_systemd_analyze_verifies_the_units(tmp_path: Path) -> None:
    """The units name /opt/unionbot, which does not exist here: the copies verified point at
    this checkout instead (its .venv/bin/unionbot is a real executable). The user `unionbot`
    need not exist: verify does not look users up."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed on this machine")
    if not (ROOT / ".venv" / "bin" / "unionbot").exists():
        pytest.skip("no .venv/bin/unionbot in this checkout (run make setup)")
    for name in UNITS:
        text = (DEPLOY / "systemd" / name).read_text(encoding="utf-8")
        (tmp_path / name).write_text(text.replace("/opt/unionbot", str(ROOT)), encoding="utf-8")
    result = subprocess.run(
        [analyze, "verify", *(str(tmp_path / name) for name in UNITS)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # Unknown keys and bad values are warnings with status 0: any output is a failure.
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr
    assert result.stdout.strip() == "", result.stdout


# ---- the container ---------------------------------------------------------------------------


def test_the_dockerfile_builds_a_non_root_image_that_runs_the_bot() -> None:
    lines = [
        line.strip()
        for line in (DEPLOY / "docker" / "Dockerfile").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert lines[0] == "FROM python:3.11-slim"
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert any(line.startswith("RUN pip install /src") for line in lines)
    assert 'VOLUME ["/app/data"]' in lines
    assert 'CMD ["unionbot", "run"]' in lines
    healthcheck = next(i for i, line in enumerate(lines) if line.startswith("HEALTHCHECK"))
    assert "unionbot-healthcheck" in " ".join(lines[healthcheck : healthcheck + 2])


def test_the_dockerignore_keeps_secrets_and_local_environments_out() -> None:
    patterns = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for kept_out in (".venv", "data", ".env", "**/node_modules", ".git"):
        assert kept_out in patterns, kept_out
    # pip install needs these in the build context.
    for needed in ("pyproject.toml", "README.md", "bot", "handlers", "models", "scheduler"):
        assert needed not in patterns


class _Health(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        """Answer /healthz with the class's status."""
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()
        self.wfile.write(b"ok\n")

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""


@pytest.fixture
def health_server() -> Iterator[http.server.HTTPServer]:
    """A real /healthz on a free local port."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _healthcheck(listen: str) -> int:
    env = {**os.environ, "HEALTH_LISTEN": listen}
    return subprocess.run(
        [sys.executable, str(DEPLOY / "docker" / "healthcheck.py")],
        env=env,
        timeout=30,
        check=False,
    ).returncode


def test_the_container_health_check_asks_healthz_where_the_bot_listens(
    health_server: http.server.HTTPServer,
) -> None:
    port = health_server.server_address[1]
    assert _healthcheck(f"127.0.0.1:{port}") == 0
    # A bot told to listen on every interface is asked on the loopback.
    assert _healthcheck(f"0.0.0.0:{port}") == 0
    _Health.status = 503
    try:
        assert _healthcheck(f"127.0.0.1:{port}") == 1
    finally:
        _Health.status = 200
    health_server.shutdown()
    health_server.server_close()
    assert _healthcheck(f"127.0.0.1:{port}") == 1
    assert _healthcheck("off") == 0


def _engine() -> str | None:
    for engine in ("docker", "podman"):
        path = shutil.which(engine)
        if (
            path
            and subprocess.run(
                [path, "info"], capture_output=True, timeout=30, check=False
            ).returncode
            == 0
        ):
            return path
    return None


def test_the_image_builds_and_its_bot_answers() -> None:
    engine = _engine()
    if engine is None:
        pytest.skip("no running container engine (docker or podman) on this machine")
    base = subprocess.run(
        [engine, "image", "inspect", "python:3.11-slim"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    if base.returncode != 0:
        pytest.skip("the base image python:3.11-slim is not present locally (no Docker Hub here)")
    tag = f"unionbot-test:{secrets.token_hex(4)}"
    started = time.monotonic()
    subprocess.run(
        [engine, "build", "-f", str(DEPLOY / "docker" / "Dockerfile"), "-t", tag, str(ROOT)],
        check=True,
        timeout=900,
    )
    print(f"image built in {time.monotonic() - started:.1f} s")
    try:
        whoami = subprocess.run(
            [engine, "run", "--rm", tag, "id", "-u"],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        assert whoami.stdout.strip() != "0"
        calendar = subprocess.run(
            [engine, "run", "--rm", tag, "unionbot", "calendar", "show", "--year", "2027"],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        assert "2027-02-06" in calendar.stdout  # Spring Festival 2027
    finally:
        subprocess.run([engine, "image", "rm", "-f", tag], capture_output=True, check=False)


# ---- compose ---------------------------------------------------------------------------------


def _scalar(text: str) -> Any:
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        return [_scalar(part) for part in text[1:-1].split(",") if part.strip()]
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


def _block(lines: list[tuple[int, str]], start: int, indent: int) -> tuple[Any, int]:
    """Parse the block YAML subset compose.yaml is written in: mappings, lists of scalars,
    flow lists of scalars, quoted scalars, full-line comments."""
    if lines[start][1].startswith("- "):
        items: list[Any] = []
        while start < len(lines) and lines[start][0] == indent:
            assert lines[start][1].startswith("- "), lines[start]
            items.append(_scalar(lines[start][1][2:]))
            start += 1
        return items, start
    mapping: dict[str, Any] = {}
    while start < len(lines) and lines[start][0] == indent:
        key, sep, rest = lines[start][1].partition(":")
        assert sep, lines[start]
        start += 1
        if rest.strip():
            mapping[key] = _scalar(rest)
        elif start < len(lines) and lines[start][0] > indent:
            mapping[key], start = _block(lines, start, lines[start][0])
        else:
            mapping[key] = None
    return mapping, start


def _compose() -> dict[str, Any]:
    """compose.yaml as data: `docker compose config` where the plugin is installed, else
    PyYAML if it is, else the small parser above."""
    path = DEPLOY / "docker" / "compose.yaml"
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run(
            [docker, "compose", "version"], capture_output=True, timeout=30, check=False
        ).returncode
        == 0
    ):
        result = subprocess.run(
            [
                docker,
                "compose",
                "-f",
                str(path),
                "--env-file",
                os.devnull,
                "--profile",
                "standby",
                "config",
                "--format",
                "json",
                "--no-interpolate",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        loaded: dict[str, Any] = json.loads(result.stdout)
        return loaded
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError:
        lines = [
            (len(raw) - len(raw.lstrip(" ")), raw.strip())
            for raw in path.read_text(encoding="utf-8").splitlines()
            if raw.strip() and not raw.lstrip().startswith("#")
        ]
        parsed, end = _block(lines, 0, 0)
        assert end == len(lines)
        return dict(parsed)
    return dict(yaml.safe_load(path.read_text(encoding="utf-8")))


def _listed(value: Any) -> list[str]:
    """env_file and volumes in either compose spelling (a string, a list, or long form)."""
    values = value if isinstance(value, list) else [value]
    return [
        item["path"]
        if isinstance(item, dict) and "path" in item
        else f"{item['source']}:{item['target']}"
        if isinstance(item, dict)
        else str(item)
        for item in values
    ]


def test_the_compose_file_runs_the_bot_beside_postgresql() -> None:
    compose = _compose()
    services = compose["services"]
    postgres, bot, standby = services["postgres"], services["bot"], services["bot-standby"]
    assert postgres["image"] == "postgres:15"
    assert "pgdata:/var/lib/postgresql/data" in _listed(postgres["volumes"])
    assert postgres["environment"]["POSTGRES_DB"] == "unionbot"
    for service in (postgres, bot, standby):
        assert service["restart"] == "unless-stopped"
    dockerfile = (DEPLOY / "docker" / bot["build"]["context"]).resolve() / bot["build"][
        "dockerfile"
    ]
    assert dockerfile == DEPLOY / "docker" / "Dockerfile"
    for service in (bot, standby):
        assert any(Path(env).name == ".env" for env in _listed(service["env_file"]))
        url = service["environment"]["DATABASE_URL"]
        assert url.startswith("postgresql+asyncpg://unionbot:")
        assert url.endswith("@postgres:5432/unionbot")
    assert "botdata:/app/data" in _listed(bot["volumes"])
    assert bot["environment"]["INSTANCE_NAME"] != standby["environment"]["INSTANCE_NAME"]
    assert standby["profiles"] == ["standby"]
    assert {"pgdata", "botdata"} <= set(compose["volumes"])


# ---- the install script ----------------------------------------------------------------------


def test_the_install_script_follows_the_guide_step_by_step() -> None:
    """docs/deploy.zh-Hans.md section 四 and deploy/install-debian.sh name the same steps in
    the same order, and the script runs the guide's commands (with its own variables)."""
    guide = (ROOT / "docs" / "deploy.zh-Hans.md").read_text(encoding="utf-8")
    script = (DEPLOY / "install-debian.sh").read_text(encoding="utf-8")
    guide_steps = re.findall(r"^### 第 (\d+) 步 ([a-z]+)：", guide, flags=re.MULTILINE)
    declared = re.search(r"^ALL_STEPS=\(([a-z ]+)\)$", script, flags=re.MULTILINE)
    assert declared is not None
    assert [name for _, name in guide_steps] == declared.group(1).split()
    assert [int(number) for number, _ in guide_steps] == list(range(1, len(guide_steps) + 1))
    for name in declared.group(1).split():
        assert f"step_{name}() {{" in script, name
    for command in (
        "apt-get install -y",
        "python3 python3-venv git ca-certificates",
        "postgresql postgresql-client",
        "useradd --system --user-group --home-dir",
        "--shell /usr/sbin/nologin",
        "-m venv",
        "rm -rf build",
        "compile --use-fuzzy -D unionbot",
        "psql",
        "LOGIN PASSWORD",
        "createdb --owner=",
        "--encoding=UTF8 --locale=C.UTF-8",
        "--template=template0",
        "secrets.token_urlsafe(32)",
        "secrets.token_hex(24)",
        "db upgrade",
        "calendar show --year",
        'backup "data/backups/install-$(date +%Y-%m-%d-%H%M%S).tar.gz"',
        "systemctl daemon-reload",
        "systemctl enable --now unionbot-backup.timer",
    ):
        assert command in guide, command
        assert command in script, command


def _has_backup_command() -> bool:
    from bot.cli import _parser

    commands = next(action for action in _parser()._actions if action.dest == "command").choices
    return commands is not None and "backup" in commands


async def _admin(url: str, *statements: str) -> list[Any]:
    import asyncpg

    server = make_url(url)
    connection = await asyncpg.connect(
        host=server.host,
        port=server.port or 5432,
        user=server.username,
        password=server.password,
        database=server.database,
    )
    try:
        answers = []
        for statement in statements:
            answers.append(await connection.fetch(statement))
        return answers
    finally:
        await connection.close()


def _env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key] = value
    return values


def _run_install(env: dict[str, str], *steps: str) -> float:
    started = time.monotonic()
    result = subprocess.run(
        ["bash", str(DEPLOY / "install-debian.sh"), *steps],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return elapsed


def _archived_bytes(archive: Path) -> bytes:
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tar:
            return b"".join(
                extracted.read()
                for member in tar.getmembers()
                if member.isfile() and (extracted := tar.extractfile(member)) is not None
            )
    return archive.read_bytes()


@pytest.mark.skipif(
    not TEST_DATABASE_URL.startswith("postgresql"),
    reason="the install script sets up PostgreSQL: it runs in the PostgreSQL pass only "
    "(TEST_DATABASE_URL=postgresql+asyncpg://...)",
)
def test_the_install_script_goes_from_nothing_to_a_migrated_backed_up_bot(
    tmp_path: Path,
) -> None:
    """The guide's commands (deploy/install-debian.sh) without the root-only steps: the code
    copied, a venv, the role and the database made by psql and createdb as the postgres
    superuser, .env written, the schema migrated, the calendar printed, a first backup; then
    the script again (an upgrade in place), which keeps .env as it is."""
    server = make_url(TEST_DATABASE_URL)
    name = f"w_deploy_t{os.getpid()}_{secrets.token_hex(3)}"
    install = tmp_path / "unionbot"
    # Settings the test run may have in its environment would override the new .env.
    env = {
        key: value for key, value in os.environ.items() if key.lower() not in Settings.model_fields
    }
    env.update(
        UNIONBOT_DIR=str(install),
        UNIONBOT_SOURCE=str(ROOT),
        UNIONBOT_PYTHON=sys.executable,
        UNIONBOT_SKIP_SYSTEM="1",
        UNIONBOT_DB="postgresql",
        UNIONBOT_DB_NAME=name,
        UNIONBOT_DB_USER=name,
        UNIONBOT_DB_HOST=server.host or "127.0.0.1",
        UNIONBOT_DB_PORT=str(server.port or 5432),
        UNIONBOT_PGADMIN_HOST=server.host or "127.0.0.1",
        UNIONBOT_PGADMIN_USER=server.username or "postgres",
        PGPORT=str(server.port or 5432),
    )
    if server.password:
        env["PGPASSWORD"] = server.password
    steps = ["packages", "user", "code", "venv", "database", "env", "upgrade", "check"]
    with_backup = _has_backup_command()
    steps += ["backup", "service"] if with_backup else ["service"]
    try:
        first = _run_install(env, *steps)
        print(f"\ninstall-debian.sh {' '.join(steps)}: {first:.1f} s")

        settings = _env_file(install / ".env")
        assert stat.S_IMODE((install / ".env").stat().st_mode) == 0o600
        assert settings.get("TELEGRAM_BOT_TOKEN", "") == ""
        # A bot token stands on its own; the lookbehind keeps the database URL's
        # "user:password" from matching when the random user name ends in six digits.
        assert not re.search(
            r"(?<![\w.-])\d{6,}:[A-Za-z0-9_-]{30,}", (install / ".env").read_text()
        )
        assert len(settings["SECRET_KEY"]) >= 32
        database_url = settings["DATABASE_URL"]
        assert make_url(database_url).database == name
        assert make_url(database_url).username == name

        head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
        ((row,),) = asyncio.run(_admin(database_url, "SELECT version_num FROM alembic_version"))
        assert row["version_num"] == head
        (owner,) = asyncio.run(
            _admin(
                TEST_DATABASE_URL,
                f"SELECT pg_get_userbyid(datdba) AS owner, pg_encoding_to_char(encoding) AS enc "
                f"FROM pg_database WHERE datname = '{name}'",
            )
        )
        assert (owner[0]["owner"], owner[0]["enc"]) == (name, "UTF8")

        again = _run_install(env, "database", "env", "upgrade", "check")
        print(f"install-debian.sh again (database env upgrade check): {again:.1f} s")
        assert _env_file(install / ".env") == settings

        if not with_backup:
            pytest.skip(
                "everything but the backup step checked: this tree has no `unionbot backup`"
            )
        (archive,) = (install / "data" / "backups").glob("install-*")
        assert stat.S_IMODE(archive.stat().st_mode) == 0o600
        content = _archived_bytes(archive)
        assert content
        secret = settings["SECRET_KEY"].encode()
        password = (make_url(database_url).password or "").encode()
        assert secret not in content
        assert password not in content
    finally:
        asyncio.run(
            _admin(
                TEST_DATABASE_URL,
                f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                f'DROP ROLE IF EXISTS "{name}"',
            )
        )
