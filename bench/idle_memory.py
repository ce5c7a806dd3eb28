"""Idle memory: the resident size of `python -m bot run` once it polls, and what it imported.

The real bot process starts against a tiny fake Bot API in this script (getMe, getUpdates with
its long-poll timeout, and `true` for anything else) on a fresh SQLite database, as a first start
in production does (the migrations run first). Once it has polled and settled, VmRSS and VmHWM are
read from /proc/<pid>/status, then a SIGUSR1 makes it write the names of the modules it holds
(`sys.modules`), so the heavy libraries among them (alembic, openpyxl, matplotlib, numpy, docx,
lxml, PIL) are named. The migrations' child process (`python -m bot db upgrade`) is not counted:
it has ended by then.

Two runs side by side, on the same machine, one after the other:
- `as built`: the bot as it is;
- `heavy at start`: the same bot with alembic, openpyxl, matplotlib and python-docx imported
  before it starts, which is about what importing them at module level used to cost (the
  in-process migration cost a few MB more).

    .venv/bin/python -m bench.idle_memory [--settle 5] [--runs 1] [--database-url URL]

Figures on a shared machine move by a megabyte or two; compare the two columns of one run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "5550001111:AAIdleMemoryBenchTokenOnly_0123456789ab"
HEAVY = ("alembic", "openpyxl", "matplotlib", "numpy", "docx", "lxml", "PIL", "mako")
# The bot's own `python -m bot`, plus a SIGUSR1 handler that writes the names of the modules it
# holds (the migration's child process is a separate `python -m bot db upgrade`, not counted).
WATCH = (
    "import signal, sys, runpy, os; "
    "signal.signal(signal.SIGUSR1, lambda *_: open(os.environ['BENCH_MODULES'], 'w')"
    ".write(' '.join(sorted(sys.modules)))); "
)
AS_BUILT = WATCH + "runpy.run_module('bot', run_name='__main__', alter_sys=True)"
PRELOAD = (
    WATCH + "import alembic.command, alembic.config, openpyxl, matplotlib.figure, "
    "matplotlib.backends.backend_agg, docx; "
    "runpy.run_module('bot', run_name='__main__', alter_sys=True)"
)


class FakeBotApi:
    """Just enough of the Bot API for a bot to start and poll: getMe, getUpdates, true."""

    def __init__(self) -> None:
        self.polls = 0
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                method = self.path.rsplit("/", 1)[-1]
                result = fake.answer(method, body)
                data = json.dumps({"ok": True, "result": result}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                with contextlib.suppress(OSError):  # the bot stopped while a poll was open
                    self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/bot"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def answer(self, method: str, body: bytes) -> Any:
        """The result of one call."""
        if method == "getMe":
            return {
                "id": 5550001111,
                "is_bot": True,
                "first_name": "Union Desk",
                "username": "idle_memory_bot",
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if method == "getUpdates":
            with self._lock:
                self.polls += 1
            time.sleep(min(_timeout(body), 2.0))  # a long poll with nothing new
            return []
        return True

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()


def _timeout(body: bytes) -> float:
    """The long-poll timeout of a getUpdates request (JSON or form-encoded)."""
    text = body.decode(errors="replace")
    match = re.search(r'"?timeout"?\s*[:=]\s*"?(\d+(?:\.\d+)?)', text)
    return float(match.group(1)) if match else 0.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in kB."""
    figures: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            figures[key] = int(value.split()[0])
    return figures


def _held(modules: str) -> tuple[list[str], int]:
    """The heavy top-level packages among the module names, and how many modules there are."""
    names = modules.split()
    tops = {name.split(".")[0] for name in names}
    return [top for top in HEAVY if top in tops], len(names)


def measure(command: list[str], settle: float, database_url: str | None = None) -> dict[str, Any]:
    """Start `command` (the bot) on a fresh database; its memory once it has polled and settled."""
    api = FakeBotApi()
    with tempfile.TemporaryDirectory(prefix="idle-memory-") as workdir:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": workdir,
            "PYTHONPATH": str(ROOT),
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "DATABASE_URL": database_url or f"sqlite+aiosqlite:///{workdir}/union.db",
            "PERSISTENCE_PATH": f"{workdir}/conversations.pickle",
            "SECRET_KEY": "idle-memory-secret-key-0123456789abcdef",
            "ORGANIZATION_NAME": "实验中学工会",
            "HEALTH_LISTEN": f"127.0.0.1:{_free_port()}",
        }
        modules_path = Path(workdir) / "modules.txt"
        env["BENCH_MODULES"] = str(modules_path)
        log_path = Path(workdir) / "bot.log"
        started = time.monotonic()
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            while api.polls == 0:
                if process.poll() is not None:
                    raise SystemExit(f"the bot exited at start-up:\n{log_path.read_text()}")
                if time.monotonic() - started > 120:
                    raise SystemExit("the bot did not poll within 120 s")
                time.sleep(0.05)
            polling = time.monotonic() - started
            time.sleep(settle)
            figures = _status(process.pid)
            process.send_signal(signal.SIGUSR1)
            while not modules_path.exists() or not modules_path.stat().st_size:
                if time.monotonic() - started > 180:
                    raise SystemExit("the bot did not write its modules")
                time.sleep(0.05)
            time.sleep(0.2)  # the write is one call; let it finish
            heavy, count = _held(modules_path.read_text())
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            api.close()
        return {
            "rss": figures["VmRSS"] / 1024,
            "hwm": figures["VmHWM"] / 1024,
            "polling": polling,
            "heavy": heavy,
            "modules": count,
            "exit": process.returncode,
        }


def main() -> None:
    """Measure both runs and print them side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after the first poll")
    parser.add_argument(
        "--database-url", help="a PostgreSQL database instead of a fresh SQLite file"
    )
    parser.add_argument("--runs", type=int, default=1, help="pairs of runs (the median is kept)")
    args = parser.parse_args()
    commands = {
        "as built": [sys.executable, "-c", AS_BUILT, "run"],
        "heavy at start": [sys.executable, "-c", PRELOAD, "run"],
    }
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, command in commands.items():
            results[name].append(measure(command, args.settle, args.database_url))
    where = "PostgreSQL" if args.database_url else "a fresh SQLite database"
    print(f"Idle memory of `python -m bot run` on {where}, {args.settle:.0f} s")
    print(f"after its first poll ({args.runs} run(s) each; a shared machine moves it by ~1-2 MB).")
    print()
    head = f"{'VmRSS MB':>9} {'VmHWM MB':>9} {'polls after s':>14} {'modules':>8}"
    print(f"{'':16} {head}  heavy held")
    chosen: dict[str, dict[str, Any]] = {}
    for name, runs in results.items():
        runs.sort(key=lambda run: float(run["rss"]))
        run = chosen[name] = runs[len(runs) // 2]
        heavy = ", ".join(run["heavy"]) or "none"
        figures = f"{run['rss']:9.1f} {run['hwm']:9.1f} {run['polling']:14.1f} {run['modules']:8}"
        print(f"{name:16} {figures}  {heavy}")
    saved = chosen["heavy at start"]["rss"] - chosen["as built"]["rss"]
    print()
    print(f"Not importing them at start saves {saved:.1f} MB (target: at most 90 MB as built).")


if __name__ == "__main__":
    main()
