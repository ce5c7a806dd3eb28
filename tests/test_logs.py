"""LOG_FORMAT: plain text (default) or one JSON object per line, with the same privacy rules."""

from __future__ import annotations

import http.server
import io
import json
import logging
import os
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.app import build_application
from bot.logs import NOISY_LOGGERS, configure_logging
from bot.settings import Settings
from tests.support.fake_telegram import TOKEN
from tests.support.harness import make_settings
from tests.support.proxies import BotApiServer

PASSWORD = "pr0xy-Pa55word-9f3e"
REPO = Path(__file__).resolve().parents[1]


class Process:
    """The root logger as a fresh `unionbot` process has it (no pytest handlers: pytest adds
    its own when each test phase starts, so they are set aside at configure time), writing to
    a buffer instead of stderr (pytest swaps sys.stderr between test phases)."""

    def __init__(self, buffer: io.StringIO) -> None:
        self.buffer = buffer
        self.set_aside: list[logging.Handler] = []

    def configure(self, settings: Settings | None = None) -> None:
        """configure_logging() as main() calls it, on a root without foreign handlers."""
        root = logging.getLogger()
        for handler in root.handlers[:]:
            if not getattr(handler, "unionbot", False):
                self.set_aside.append(handler)
                root.removeHandler(handler)
        added = configure_logging(settings)
        assert isinstance(added, logging.StreamHandler)
        assert added.stream is sys.stderr
        added.setStream(self.buffer)

    def lines(self) -> list[str]:
        """The lines written so far."""
        return [line for line in self.buffer.getvalue().splitlines() if line]


@pytest.fixture
def process() -> Iterator[Process]:
    """A Process whose logging is undone afterwards."""
    root = logging.getLogger()
    saved_level = root.level
    names = ("httpx", *NOISY_LOGGERS)
    saved_levels = {name: logging.getLogger(name).level for name in names}
    state = Process(io.StringIO())
    hooks = (sys.excepthook, threading.excepthook)
    try:
        yield state
    finally:
        sys.excepthook, threading.excepthook = hooks
        logging.captureWarnings(False)
        for handler in root.handlers[:]:
            if getattr(handler, "unionbot", False):
                root.removeHandler(handler)
        for handler in state.set_aside:
            if handler not in root.handlers:
                root.addHandler(handler)
        root.setLevel(saved_level)
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)


def json_settings(settings: Settings, **overrides: object) -> Settings:
    """The test settings with LOG_FORMAT=json, a named instance and a proxy with a password."""
    values: dict[str, object] = {
        "log_format": "json",
        "instance_name": "copy-a",
        "telegram_proxy_url": SecretStr(f"socks5://school:{PASSWORD}@127.0.0.1:1080"),
    }
    values.update(overrides)
    return make_settings(settings.database_url, settings.persistence_path.parent, **values)


def test_a_json_line_parses_and_carries_no_secret(settings: Settings, process: Process) -> None:
    """time, level, logger, message, instance, exception; the token and the proxy password are
    masked even where a careless line would hold them; Chinese stays readable."""
    process.configure(json_settings(settings))
    log = logging.getLogger("bot.example")
    log.info("连接 %s", f"https://api.telegram.org/bot{TOKEN}/getMe")
    refused = ConnectionError(f"proxy socks5://school:{PASSWORD}@127.0.0.1:1080 refused")
    log.error("Could not reach it", exc_info=refused)
    first, second = (json.loads(line) for line in process.lines())
    assert set(first) == {"time", "level", "logger", "message", "instance"}
    assert first["level"] == "INFO"
    assert first["logger"] == "bot.example"
    assert first["instance"] == "copy-a"
    assert first["message"] == "连接 https://api.telegram.org/bot***/getMe"
    assert "T" in first["time"] and first["time"].endswith("+00:00")
    assert second["level"] == "ERROR"
    assert "ConnectionError" in second["exception"]
    assert second["exception"] == "ConnectionError: proxy *** refused"
    assert TOKEN not in process.buffer.getvalue()
    assert PASSWORD not in process.buffer.getvalue()
    assert "连接" in process.buffer.getvalue()  # not \\u escapes


def test_text_stays_the_default(settings: Settings, process: Process) -> None:
    """Without LOG_FORMAT the line is `time LEVEL logger: message`, secrets masked too."""
    process.configure(json_settings(settings, log_format="text"))
    logging.getLogger("bot.example").warning("token %s", TOKEN)
    (line,) = process.lines()
    assert line.endswith(" WARNING bot.example: token ***")
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def test_calling_it_again_replaces_its_handler(settings: Settings, process: Process) -> None:
    """main() configures plain text first (the settings may fail), then LOG_FORMAT: one line per
    record, not two."""
    process.configure()
    process.configure(json_settings(settings))
    logging.getLogger("bot.example").info("once")
    assert len(process.lines()) == 1
    assert json.loads(process.lines()[0])["message"] == "once"


def test_the_levels_that_keep_tokens_and_texts_out(settings: Settings, process: Process) -> None:
    """The privacy tests' assumptions: httpx (URLs with the token) only from WARNING; the
    libraries that log chat texts, SQL parameters or the SOCKS password never below INFO."""
    process.configure(json_settings(settings))
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
    for name in NOISY_LOGGERS:
        assert logging.getLogger(name).getEffectiveLevel() == logging.INFO
    assert "httpcore" in NOISY_LOGGERS


async def test_real_calls_to_telegram_leave_json_lines_without_the_token(
    settings: Settings, process: Process, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The production transport against a local Bot API with LOG_FORMAT=json: every line the
    process wrote parses, and none holds the token (httpx would log it at INFO)."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    api = BotApiServer()
    await api.start()
    config = json_settings(settings, telegram_proxy_url=None, telegram_api_base_url=api.base_url)
    process.configure(config)
    application = build_application(config)
    try:
        await application.initialize()
        assert application.post_init is not None
        await application.post_init(application)
        await application.bot.send_message(4242, "您好")
    finally:
        await application.shutdown()
        assert application.post_shutdown is not None
        await application.post_shutdown(application)
        await api.stop()
    assert "sendMessage" in api.methods()
    lines = process.lines()
    assert lines, "the start-up logs at least its ready line"
    for line in lines:
        entry = json.loads(line)
        assert entry["instance"] == "copy-a"
    assert TOKEN not in process.buffer.getvalue()
    print(f"{len(lines)} JSON lines, e.g. {lines[-1]}")


def test_unionbot_writes_json_lines(tmp_path: Path) -> None:
    """`unionbot db upgrade` with LOG_FORMAT=json: each stderr line is one JSON object."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "LOG_FORMAT": "json",
        "INSTANCE_NAME": "copy-b",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line]
    assert lines
    for line in lines:
        entry = json.loads(line)
        assert entry["instance"] == "copy-b"
        assert entry["level"] in {"INFO", "WARNING"}
    assert TOKEN not in done.stderr + done.stdout


def test_every_form_of_a_secret_is_masked(
    settings: Settings, process: Process, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The token percent-encoded or its secret half alone, a proxy password with special
    characters as written in the URL and decoded, a proxy taken from HTTPS_PROXY, the database
    password, the webhook secret, and the values PostgreSQL quotes in a constraint error."""
    monkeypatch.setenv("HTTPS_PROXY", "http://env-user:Env%2FPass-77@10.0.0.9:3128")
    raw = "p@ss:w/rd#1"
    quoted = urllib.parse.quote(raw, safe="")
    config = json_settings(
        settings,
        telegram_proxy_url=SecretStr(f"http://school:{quoted}@127.0.0.1:3128"),
        webhook_secret=SecretStr("Webhook_Secret_0123456789"),
    ).model_copy(
        update={"database_url": f"postgresql+asyncpg://unionbot:{quoted}-db@127.0.0.1/unionbot"}
    )
    process.configure(config)
    log = logging.getLogger("bot.example")
    half = TOKEN.partition(":")[2]
    log.warning("encoded %s", urllib.parse.quote(TOKEN, safe=""))
    log.warning("half %s", half)
    log.warning("proxy %s and %s", quoted, raw)
    log.warning("env proxy %s %s", "Env%2FPass-77", "Env/Pass-77")
    log.warning("db %s-db %s", raw, quoted)
    log.warning("webhook Webhook_Secret_0123456789")
    log.error(
        'duplicate key value violates unique constraint "uq_member"\n'
        "DETAIL:  Key (organization_id, roster_key)=(1, 张三|语文组) already exists."
    )
    log.error(
        'new row violates check constraint "ck"\nDETAIL:  Failing row contains (7, 我的私事).'
    )
    written = process.buffer.getvalue()
    for secret in (TOKEN, half, raw, quoted, "Env/Pass-77", "Env%2FPass-77", "Webhook_Secret"):
        assert secret not in written
    assert "张三" not in written and "我的私事" not in written
    assert 'unique constraint \\"uq_member\\"' in written  # what failed is still said
    assert "Key (organization_id, roster_key)=(***) already exists" in written
    print(written)


class RejectingBotApi(http.server.BaseHTTPRequestHandler):
    """A Bot API that refuses every token, as Telegram does a revoked one."""

    def do_POST(self) -> None:
        """401 Unauthorized."""
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b'{"ok": false, "error_code": 401, "description": "Unauthorized"}'
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_a_rejected_token_stops_unionbot_without_printing_it(
    tmp_path: Path, log_format: str
) -> None:
    """`unionbot run` with a token Telegram refuses (PTB's InvalidToken names the token): it
    stops (not 0) with the sentence for the operator, in LOG_FORMAT (JSON: every line parses,
    that sentence too), the token nowhere."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RejectingBotApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {
        **unionbot_environment(tmp_path, log_format),
        "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{server.server_port}/bot",
    }
    try:
        done = run_unionbot(["run"], tmp_path, env)
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode != 0
    assert TOKEN not in done.stderr + done.stdout
    assert TOKEN.partition(":")[2] not in done.stderr + done.stdout
    assert "BotFather" in done.stderr
    if log_format == "json":
        entries = [json.loads(line) for line in done.stderr.splitlines() if line]
        assert entries[-1]["level"] == "ERROR"
        assert "BotFather" in entries[-1]["message"]


def test_an_exception_nobody_catches_is_one_masked_json_line(tmp_path: Path) -> None:
    """Whatever escapes main() (here an error quoting a Bot API URL) is logged through the
    formatter, not printed as a bare traceback: one JSON object, the token masked."""
    script = (
        "from bot.logs import configure_logging\n"
        "from bot.settings import Settings\n"
        "configure_logging(Settings())\n"
        "import os\n"
        "raise RuntimeError('calling https://api.telegram.org/bot' + os.environ["
        "'TELEGRAM_BOT_TOKEN'] + '/getMe failed\\nsecond line')\n"
    )
    done = run_unionbot(["-c", script], tmp_path, unionbot_environment(tmp_path, "json"))
    assert done.returncode == 1
    assert TOKEN not in done.stderr
    (line,) = [line for line in done.stderr.splitlines() if line]
    entry = json.loads(line)
    assert entry["level"] == "CRITICAL"
    assert (
        "RuntimeError: calling https://api.telegram.org/bot***/getMe failed" in entry["exception"]
    )


def unionbot_environment(folder: Path, log_format: str) -> dict[str, str]:
    """A clean environment for a `unionbot` process in `folder`."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(folder),
        "PYTHONPATH": str(REPO),
        "DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'bot.db'}",
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "LOG_FORMAT": log_format,
        "HEALTH_LISTEN": "off",
        "INSTANCE_NAME": "copy-c",
    }


def run_unionbot(
    arguments: list[str], folder: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGUMENTS` (or `python -c` code) in `folder`."""
    command = (
        [sys.executable, *arguments]
        if arguments[0] == "-c"
        else [sys.executable, "-m", "bot", *arguments]
    )
    return subprocess.run(
        command, cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False
    )
