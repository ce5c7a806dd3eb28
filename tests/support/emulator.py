"""The bot as a separate process against an independent Bot API emulator (telegram-test-api).

Three pieces, all started by the tests themselves:

- `Emulator`: the npm package `telegram-test-api` (tests/e2e/package.json), run by node.
- `Adapter`: a small HTTP server between the bot and the emulator that bridges the emulator's
  known gaps, and nothing else (the bot is not changed for it):
  * `getMe` lacks `is_bot`: added.
  * `sendMessage` returns `date` in milliseconds: turned into seconds.
  * callback updates lack `chat_instance`: added (the emulator drops it even when sent).
  * `editMessageText`, `editMessageReplyMarkup`, `answerCallbackQuery` and `deleteMessage` return
    `null`: the edited message, or `true`, as Telegram does.
  * `getUpdates` ignores `offset` and `timeout` and forgets an update once fetched: the adapter
    keeps fetched updates until the bot confirms them with a higher `offset` (so an update fetched
    by a bot that was then killed is delivered again, as Telegram does) and waits up to `timeout`
    for new ones.
  * `sendPhoto`, `sendDocument` and `setMyCommands` are missing: photos and documents are stored in
    the emulator as a message holding their caption (so a test sees them in the chat), and
    `setMyCommands` is answered `true`.
  It also records every call (callback answers are not stored by the emulator), and a test can
  hold a call (`hold`) to kill the bot between receiving an update and answering it.
- `BotProcess`: `python -m bot run` with `TELEGRAM_API_BASE_URL` pointing at the adapter.

`EmulatorClient` plays the people: it sends messages and button presses through the emulator's
client API, and reads what the bot sent from the emulator's history.
"""

from __future__ import annotations

import email.parser
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.support.updates import Person

ROOT = Path(__file__).resolve().parents[2]
E2E_DIR = ROOT / "tests" / "e2e"
TOKEN = "5550001111:AAE2eEmulatorTokenOnlyForTests_0123456"
WAIT_SECONDS = 20.0


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def emulator_missing() -> str | None:
    """Why the emulator cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed: the end-to-end tests against telegram-test-api are skipped"
    if not (E2E_DIR / "node_modules" / "telegram-test-api").is_dir():
        return "telegram-test-api is not installed: run `make e2e-deps` (make test does it)"
    return None


def _post(url: str, payload: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def wait_until(check: Callable[[], Any], what: str, seconds: float = WAIT_SECONDS) -> Any:
    """Poll `check` until it returns something truthy; fail with `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Emulator:
    """telegram-test-api in a node process."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        """Start node and wait for the emulator to listen."""
        self._process = subprocess.Popen(
            ["node", str(E2E_DIR / "emulator.js"), str(self.port)],
            cwd=E2E_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"the emulator did not start: {line!r}")

    def stop(self) -> None:
        """Stop node."""
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            if self._process.stdout is not None:
                self._process.stdout.close()


@dataclass
class Held:
    """A call the adapter holds back until released (or forever, if the bot is killed)."""

    method: str
    chat_id: int
    reached: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    drop: bool = False  # answer with an error instead of forwarding when released


@dataclass
class Recorded:
    """One call the bot made."""

    method: str
    params: dict[str, Any]
    caller: str = ""  # the copy's name when it came through `url_for(name)`


class Adapter:
    """Bridges the emulator's gaps (see the module docstring); records every call."""

    def __init__(self, emulator_url: str) -> None:
        self.emulator_url = emulator_url
        self.calls: list[Recorded] = []
        self.holds: list[Held] = []
        self._pending: list[dict[str, Any]] = []
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._updates_lock = threading.Lock()
        adapter = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                adapter._serve(self)

            def log_message(self, *args: Any) -> None:
                """Quiet: the test output is for failures."""

        self._server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/bot"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving; release anything held."""
        for held in self.holds:
            held.drop = True
            held.released.set()
        self._server.shutdown()
        self._server.server_close()

    def url_for(self, caller: str) -> str:
        """A base URL for one copy of the bot: its calls are recorded under `caller`."""
        return self.base_url.removesuffix("/bot") + f"/as/{caller}/bot"

    def hold(self, method: str, chat_id: int, *, drop: bool = True) -> Held:
        """Hold the next `method` call to `chat_id` (0: any), answered with an error once
        released: the bot may be killed while it waits."""
        held = Held(method, chat_id, drop=drop)
        with self._lock:
            self.holds.append(held)
        return held

    def count(self, method: str, chat_id: int | None = None, *, caller: str | None = None) -> int:
        """How many `method` calls (to one chat; by one caller) the bot made."""
        with self._lock:
            return sum(
                1
                for call in self.calls
                if call.method == method
                and (chat_id is None or str(call.params.get("chat_id")) == str(chat_id))
                and (caller is None or call.caller == caller)
            )

    def calls_by(self, caller: str) -> int:
        """How many calls of any kind came from `caller`."""
        with self._lock:
            return sum(1 for call in self.calls if call.caller == caller)

    def unconfirmed(self) -> int:
        """Updates fetched by the bot that it has not confirmed (with a higher offset) yet."""
        with self._updates_lock:
            return len(self._pending)

    def answers(self) -> list[dict[str, Any]]:
        """Parameters of every answerCallbackQuery."""
        with self._lock:
            return [call.params for call in self.calls if call.method == "answerCallbackQuery"]

    # ---- serving -------------------------------------------------------------------------

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        path, caller = handler.path, ""
        if path.startswith("/as/"):
            caller, _, rest = path.removeprefix("/as/").partition("/")
            path = "/" + rest
        method = path.rstrip("/").rsplit("/", 1)[-1]
        size = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(size) if size else b""
        params = _parse(handler.headers.get("Content-Type", ""), body)
        with self._lock:
            self.calls.append(Recorded(method, params, caller))
        if not self._wait_if_held(method, params):
            _reply(handler, {"ok": False, "error_code": 502, "description": "Bad Gateway"}, 502)
            return
        try:
            answer = self._answer(path, method, params)
        except (urllib.error.URLError, OSError) as error:
            answer = {"ok": False, "error_code": 502, "description": f"Bad Gateway: {error}"}
        _reply(handler, answer, 200 if answer.get("ok") else int(answer.get("error_code", 500)))

    def _wait_if_held(self, method: str, params: dict[str, Any]) -> bool:
        with self._lock:
            held = next(
                (
                    h
                    for h in self.holds
                    if not h.reached.is_set()
                    and h.method == method
                    and (h.chat_id == 0 or str(params.get("chat_id")) == str(h.chat_id))
                ),
                None,
            )
            if held is not None:
                held.reached.set()
        if held is None:
            return True
        held.released.wait()
        return not held.drop

    def _answer(self, path: str, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "getUpdates":
            return {"ok": True, "result": self._updates(params)}
        # setWebhook too: the emulator would then try to post updates to the (public) address.
        if method in ("setMyCommands", "deleteMyCommands", "setChatMenuButton", "setWebhook"):
            return {"ok": True, "result": True}
        if method in ("sendPhoto", "sendDocument"):
            return self._media(path, method, params)
        if method == "editMessageText" and "reply_markup" not in params:
            # Telegram drops the keyboard of an edited message unless it is sent again; the
            # emulator would keep the old buttons in its history.
            params = {**params, "reply_markup": {"inline_keyboard": []}}
        answer = self._forward(path, params)
        result = answer.get("result")
        if method == "getMe" and isinstance(result, dict):
            result.setdefault("is_bot", True)
        elif method == "sendMessage" and isinstance(result, dict):
            self._remember(result)
        elif method in ("editMessageText", "editMessageReplyMarkup") and answer.get("ok"):
            answer["result"] = self._edited(params)
        elif result is None and answer.get("ok"):
            answer["result"] = True
        return answer

    def _forward(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        body = {
            key: json.dumps(value) if isinstance(value, dict | list) else value
            for key, value in params.items()
        }
        request = urllib.request.Request(
            self.emulator_url + path,
            data=urllib.parse.urlencode(body).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return dict(json.loads(response.read()))
        except urllib.error.HTTPError as error:
            return {"ok": False, "error_code": error.code, "description": error.read().decode()}

    def _remember(self, message: dict[str, Any]) -> None:
        if message.get("date", 0) > 10**11:
            message["date"] //= 1000
        chat = message["chat"]
        if int(chat["id"]) < 0:
            chat.update(type="supergroup", title="group")
        with self._lock:
            self._messages[(int(chat["id"]), int(message["message_id"]))] = message

    def _edited(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        key = (int(params.get("chat_id") or 0), int(params.get("message_id") or 0))
        with self._lock:
            message = self._messages.get(key)
            if message is None:
                return True
            if "text" in params:
                message["text"] = params["text"]
            if "reply_markup" in params:
                message["reply_markup"] = params["reply_markup"]
            else:
                message.pop("reply_markup", None)
            return dict(message)

    def _media(self, path: str, method: str, params: dict[str, Any]) -> dict[str, Any]:
        kind = "photo" if method == "sendPhoto" else "document"
        text = str(params.get("caption") or f"[{kind}]")
        as_text = {"chat_id": params.get("chat_id"), "text": text}
        if "reply_markup" in params:
            as_text["reply_markup"] = params["reply_markup"]
        answer = self._forward(path.rsplit("/", 1)[0] + "/sendMessage", as_text)
        result = answer.get("result")
        if isinstance(result, dict):
            self._remember(result)
            result.pop("text", None)
            result["caption"] = text
            if kind == "photo":
                result["photo"] = [
                    {"file_id": "emulated-photo", "file_unique_id": "p1", "width": 1, "height": 1}
                ]
            else:
                result["document"] = {"file_id": "emulated-document", "file_unique_id": "d1"}
        return answer

    def _updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        while True:
            with self._updates_lock:
                self._pending = [u for u in self._pending if u["update_id"] >= offset]
                fresh = self._forward(f"/bot{TOKEN}/getUpdates", {}).get("result") or []
                self._pending.extend(_with_chat_instance(update) for update in fresh)
                if self._pending or time.monotonic() >= deadline:
                    return self._pending[:limit]
            time.sleep(0.05)


def _with_chat_instance(update: dict[str, Any]) -> dict[str, Any]:
    query = update.get("callback_query")
    if query is not None and "chat_instance" not in query:
        query["chat_instance"] = str(query.get("message", {}).get("chat", {}).get("id", 0))
    return update


def _parse(content_type: str, body: bytes) -> dict[str, Any]:
    """PTB sends form fields (JSON inside for objects), or multipart when it uploads a file."""
    if not body:
        return {}
    if content_type.startswith("multipart/"):
        message = email.parser.BytesParser().parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        fields: dict[str, Any] = {}
        for part in message.walk():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if part.get_filename() is None and isinstance(name, str) and isinstance(payload, bytes):
                fields[name] = _value(payload.decode())
        return fields
    if content_type.startswith("application/json"):
        return dict(json.loads(body))
    return {
        key: _value(values[-1])
        for key, values in urllib.parse.parse_qs(body.decode(), keep_blank_values=True).items()
    }


def _value(raw: str) -> Any:
    if raw[:1] in "{[":
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def _reply(handler: BaseHTTPRequestHandler, answer: dict[str, Any], status: int) -> None:
    body = json.dumps(answer).encode()
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
    except OSError:
        pass  # the bot was killed while we answered


class BotProcess:
    """`python -m bot run` against the adapter, in its own working directory."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.env = env
        self.log_path = workdir / "bot.log"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, adapter: Adapter) -> None:
        """Start the bot and wait until it polls."""
        polls = adapter.count("getUpdates")
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until(
            lambda: adapter.count("getUpdates") > polls or self._exited(),
            "the bot to start polling",
            60,
        )
        if self._exited():
            raise AssertionError(f"the bot exited at start-up:\n{self.log()}")

    def _exited(self) -> bool:
        return self._process is not None and self._process.poll() is not None

    def kill(self) -> None:
        """SIGKILL: no clean-up, no flush, as a power cut or an OOM kill."""
        if self._process is not None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait(timeout=10)
            self._process = None

    def stop(self) -> None:
        """A clean stop (SIGINT, as Ctrl-C)."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGINT)
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self._process = None

    def log(self) -> str:
        """Everything the bot logged."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def bot_environment(
    adapter: Adapter, database_url: str, workdir: Path, **settings: str
) -> dict[str, str]:
    """The environment of a bot process: the adapter as Telegram, its own files."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(workdir)),
        "PYTHONPATH": str(ROOT),
        "PTB_TIMEDELTA": "1",
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": adapter.base_url,
        "DATABASE_URL": database_url,
        "PERSISTENCE_PATH": str(workdir / "conversations.pickle"),
        "SECRET_KEY": "e2e-secret-key-0123456789abcdef",
        "ORGANIZATION_NAME": "实验中学工会",
        "QUIET_HOURS": "00:00-00:00",
        # On PostgreSQL a restarted bot (a new instance name) waits for the lease of the one
        # killed to run out: the shortest lease keeps the restarts short.
        "LEASE_SECONDS": "5",
    }
    env.update({key.upper(): value for key, value in settings.items()})
    return env


@dataclass
class Seen:
    """A message the bot sent, as the emulator stored it (edits applied)."""

    message_id: int
    chat_id: int
    text: str
    buttons: list[tuple[str, str]]

    def button(self, label_part: str) -> str:
        """Callback data of the first button whose label contains `label_part`."""
        for label, data in self.buttons:
            if label_part in label:
                return data
        raise AssertionError(f"no button with {label_part!r} in {self.buttons}")


class EmulatorClient:
    """The people: they write and press buttons through the emulator's client API."""

    def __init__(self, emulator: Emulator) -> None:
        self.url = emulator.url
        self._cursor: dict[int, int] = {}
        self._taps: set[tuple[int, str]] = set()

    def say(self, person: Person, body: str, *, chat_id: int | None = None) -> None:
        """`person` sends a text (or a command) in private, or in the group `chat_id`."""
        message: dict[str, Any] = {
            "botToken": TOKEN,
            "from": person.as_user(),
            "chat": _chat(person, chat_id),
            "date": int(time.time()),
            "text": body,
        }
        if body.startswith("/"):
            command = body.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        _post(f"{self.url}/sendMessage", message)

    def write(self, person: Person, body: str) -> Seen:
        """`person` types a text meant for someone else, waits for it to be shown back, and
        presses Send under it; returns the shown-back message."""
        self.say(person, body)
        return self.tap(person, "form:out:send")

    def press(self, person: Person, seen: Seen, label_part: str) -> None:
        """`person` presses the button labelled `label_part` under `seen`."""
        self.press_data(person, seen, seen.button(label_part))

    def press_data(self, person: Person, seen: Seen, data: str) -> None:
        """`person` presses a button carrying `data` under the message `seen`."""
        chat = _chat(person, seen.chat_id if seen.chat_id < 0 else None)
        _post(
            f"{self.url}/sendCallback",
            {
                "botToken": TOKEN,
                "from": person.as_user(),
                "data": data,
                "message": {
                    "message_id": seen.message_id,
                    "date": int(time.time()),
                    "chat": chat,
                    "text": seen.text,
                },
            },
        )

    def tap(self, person: Person, data_prefix: str, *, chat_id: int | None = None) -> Seen:
        """Wait for a button whose callback data starts with `data_prefix` in `person`'s chat
        (or the group `chat_id`) that was not pressed yet, and press it."""
        where = person.id if chat_id is None else chat_id

        def find() -> tuple[Seen, str] | None:
            for seen in reversed(self.messages(where)):
                for _, data in seen.buttons:
                    if data.startswith(data_prefix) and (seen.message_id, data) not in self._taps:
                        return seen, data
            return None

        seen, data = wait_until(find, f"a {data_prefix!r} button in chat {where}")
        self._taps.add((seen.message_id, data))
        self.press_data(person, seen, data)
        return seen

    def messages(self, chat_id: int) -> list[Seen]:
        """What the bot sent to `chat_id`, oldest first, with edits applied."""
        return [seen for seen in self.everything() if seen.chat_id == chat_id]

    def everything(self) -> list[Seen]:
        """Every message the bot sent."""
        history = _post(f"{self.url}/getUpdatesHistory", {"token": TOKEN})["result"]
        return [_seen(item) for item in history if "chat_id" in item.get("message", {})]

    def wait_for(self, chat_id: int, text_part: str, seconds: float = WAIT_SECONDS) -> Seen:
        """The next message to `chat_id` containing `text_part`, newer than the one found last."""
        after = self._cursor.get(chat_id, 0)

        def found() -> Seen | None:
            return next(
                (s for s in self.messages(chat_id) if s.message_id > after and text_part in s.text),
                None,
            )

        try:
            seen: Seen = wait_until(found, f"{text_part!r} in chat {chat_id}", seconds)
        except AssertionError as error:
            latest = [s.text[:200] for s in self.messages(chat_id)[-3:]]
            raise AssertionError(f"{error}; the chat's latest messages: {latest}") from None
        self._cursor[chat_id] = seen.message_id
        return seen

    def wait_for_edit(self, seen: Seen, text_part: str, seconds: float = WAIT_SECONDS) -> Seen:
        """The message `seen` once an edit made it contain `text_part`."""

        def edited() -> Seen | None:
            return next(
                (
                    s
                    for s in self.messages(seen.chat_id)
                    if s.message_id == seen.message_id and text_part in s.text
                ),
                None,
            )

        now: Seen = wait_until(edited, f"{text_part!r} in message {seen.message_id}", seconds)
        return now

    def texts(self, chat_id: int) -> Iterator[str]:
        """Texts sent to `chat_id`."""
        return (seen.text for seen in self.messages(chat_id))


def _chat(person: Person, group_id: int | None) -> dict[str, Any]:
    if group_id is not None:
        return {"id": group_id, "type": "supergroup", "title": "工会委员会"}
    return {"id": person.id, "type": "private", "first_name": person.first_name}


def _seen(item: dict[str, Any]) -> Seen:
    message = item["message"]
    markup = message.get("reply_markup") or {}
    if isinstance(markup, str):
        markup = json.loads(markup)
    buttons = [
        (button["text"], button.get("callback_data") or button.get("url", ""))
        for row in markup.get("inline_keyboard", [])
        for button in row
    ]
    return Seen(
        message_id=int(item["messageId"]),
        chat_id=int(message["chat_id"]),
        text=str(message.get("text") or ""),
        buttons=buttons,
    )
