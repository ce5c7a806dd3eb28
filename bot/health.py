"""/healthz, /readyz and /metrics on HEALTH_LISTEN, for a service manager and a reverse proxy.

A few lines of HTTP/1.1 over asyncio streams: GET (and HEAD) only, one request per connection,
no settings, tokens or chat texts in any answer. It only reads RunStatus.

It shares the event loop (and, through the probes, the database pool) with the bot, so whatever
a client does costs the bot little: at most MAX_CONNECTIONS sockets at once, at most one probe of
each kind running however many clients ask, and no answer waits longer than PROBE_SECONDS.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.run_status import Role, RunStatus
from bot.settings import Settings

logger = logging.getLogger(__name__)

PROBE_SECONDS = 2.0  # a database probe slower than this counts as "unreachable"
READ_SECONDS = 5.0  # a client that has not sent its request line and headers by then is dropped
MAX_HEAD_BYTES = 8192
# Sockets held at once. Each open socket is a file descriptor the bot needs for Telegram and the
# database (systemd's default limit is 1024); a client that opens thousands must not take them.
MAX_CONNECTIONS = 16
CLOSE_SECONDS = 1.0  # a client that does not take its (small) answer is cut off after this

T = TypeVar("T")
PLAIN = "text/plain; charset=utf-8"
PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True)
class Answer:
    """One HTTP response."""

    status: int
    body: str
    content_type: str = PLAIN


_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    431: "Request Header Fields Too Large",
    503: "Service Unavailable",
}


class Connections:
    """The open sockets, and which of them are still sending their request head."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.reading: dict[asyncio.StreamWriter, bool] = {}  # insertion order: oldest first

    def admit(self, writer: asyncio.StreamWriter) -> bool:
        """Make room for a new connection; False when every open one is being answered.

        The oldest connection still sending its head gives way: a slow or silent client (a
        slowloris) cannot keep the service manager's probe out for more than a moment.
        """
        if len(self.reading) >= self.limit:
            oldest = next((w for w, reading in self.reading.items() if reading), None)
            if oldest is None:
                return False
            oldest.transport.abort()
            del self.reading[oldest]
        self.reading[writer] = True
        return True

    def answering(self, writer: asyncio.StreamWriter) -> None:
        """The head of `writer`'s request is in: it no longer gives way to newcomers."""
        if writer in self.reading:
            self.reading[writer] = False

    def forget(self, writer: asyncio.StreamWriter) -> None:
        """`writer` is closed."""
        self.reading.pop(writer, None)

    def abort_all(self) -> None:
        """Drop every open connection (at shut-down)."""
        for writer in list(self.reading):
            writer.transport.abort()
        self.reading.clear()


class HealthServer:
    """The listening server; `port` is the bound port (useful when HEALTH_LISTEN asks for 0)."""

    def __init__(
        self, server: asyncio.Server, status: RunStatus, connections: Connections | None = None
    ) -> None:
        self._server = server
        self.status = status
        self.connections = connections or Connections(MAX_CONNECTIONS)
        self.host, self.port = server.sockets[0].getsockname()[:2]

    async def stop(self) -> None:
        """Stop listening and drop the connections still open."""
        self._server.close()
        self.connections.abort_all()
        await self._server.wait_closed()


async def start_health_server(settings: Settings, status: RunStatus) -> HealthServer | None:
    """Listen on HEALTH_LISTEN; None when it is "off" or the address cannot be taken (logged:
    the bot itself keeps working, only its health answers are missing)."""
    address = settings.listen_address("health")
    if address is None:
        return None
    host, port = address
    connections = Connections(MAX_CONNECTIONS)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not connections.admit(writer):
            writer.transport.abort()
            return
        try:
            await _serve(reader, writer, status, connections)
        except asyncio.CancelledError:
            # The loop is ending with this client still connected. Python 3.11's stream server
            # would log a traceback for each such connection; there is nothing to say.
            writer.transport.abort()
        finally:
            connections.forget(writer)

    try:
        server = await asyncio.start_server(serve, host, port, limit=MAX_HEAD_BYTES)
    except OSError as error:
        logger.error(  # noqa: TRY400 (one line for the operator, not a traceback)
            "Cannot listen on %s:%s for /healthz, /readyz and /metrics (%s); set HEALTH_LISTEN "
            "to a free address or to off",
            host,
            port,
            error.strerror or type(error).__name__,
        )
        return None
    health = HealthServer(server, status, connections)
    logger.info("Health and metrics on http://%s:%s/", health.host, health.port)
    return health


async def _serve(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    status: RunStatus,
    connections: Connections,
) -> None:
    head_only = False
    try:
        try:
            request_line = await asyncio.wait_for(_read_head(reader), READ_SECONDS)
        except asyncio.LimitOverrunError:
            answer = Answer(431, "request head too large\n")
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
            return
        else:
            connections.answering(writer)
            head_only, answer = await _answer(request_line, status)
        await _write(writer, answer, head_only=head_only)
    except Exception:
        # Whatever a client sends, the server stays up; the request itself is never logged.
        logger.warning("A health request failed")
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer.wait_closed(), CLOSE_SECONDS)
        writer.transport.abort()


async def _read_head(reader: asyncio.StreamReader) -> bytes:
    """The request line, once the whole head (up to its empty line) is in. Lines may end in
    LF alone (HTTP/1.1 allows it; some probes send it); more than MAX_HEAD_BYTES is refused."""
    request_line = b""
    size = 0
    while True:
        line = await reader.readuntil(b"\n")
        size += len(line)
        if size > MAX_HEAD_BYTES:
            raise asyncio.LimitOverrunError("request head too large", size)
        if line in (b"\r\n", b"\n"):
            return request_line
        if not request_line:
            request_line = line.rstrip(b"\r\n")


async def _answer(request_line: bytes, status: RunStatus) -> tuple[bool, Answer]:
    """(HEAD?, the answer) for a request line."""
    parts = request_line.decode("latin-1").split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        return False, Answer(400, "bad request\n")
    method, target, _ = parts
    path = target.split("?", 1)[0]
    if path not in ROUTES:
        return method == "HEAD", Answer(404, "not found\n")
    if method not in ("GET", "HEAD"):
        return False, Answer(405, "only GET\n")
    return method == "HEAD", await ROUTES[path](status)


async def _write(writer: asyncio.StreamWriter, answer: Answer, *, head_only: bool) -> None:
    body = answer.body.encode()
    head = (
        f"HTTP/1.1 {answer.status} {_REASONS.get(answer.status, 'Error')}\r\n"
        f"Content-Type: {answer.content_type}\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Cache-Control: no-store\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    writer.write(head if head_only else head + body)
    await writer.drain()


async def healthz(status: RunStatus) -> Answer:
    """Alive: this answer itself proves the event loop runs (a standby too)."""
    return Answer(200, f"ok {status.role.value}\n")


async def readyz(status: RunStatus) -> Answer:
    """Ready to take updates: active, database reachable, scheduler running."""
    reason = await not_ready_reason(status)
    return Answer(503, reason + "\n") if reason else Answer(200, "ready\n")


async def not_ready_reason(status: RunStatus) -> str | None:
    """Why this copy should not get the webhook now (one short line), or None when it should."""
    if status.role != Role.ACTIVE:
        return status.role.value  # "standby": the reverse proxy sends updates to the other copy
    if not status.holds_lease():
        return "lease lost"  # woken after its lease ran out, not yet stepped down
    if not await _probe_database(status):
        return "database unreachable"
    if not status.scheduler_running():
        return "scheduler not running"
    return None


async def _probe_database(status: RunStatus) -> bool:
    return bool(await shared_probe(status.database_ok, False))


# The probes running now, by probe function: clients asking at the same time share one run.
_RUNNING: dict[Callable[[], Awaitable[Any]], asyncio.Future[Any]] = {}


async def shared_probe(probe: Callable[[], Awaitable[T]], default: T) -> T:
    """`probe()`'s answer, or `default` when it fails or takes more than PROBE_SECONDS.

    A hundred clients asking /readyz at once start one probe, not a hundred: each probe takes
    a connection from a pool the bot (and the lease) needs. The answer never waits for a slow
    probe to finish cancelling (asyncio.wait_for would): the probe is cancelled behind it.
    """
    running = _RUNNING.get(probe)
    if running is None:
        running = asyncio.ensure_future(probe())
        _RUNNING[probe] = running
        running.add_done_callback(functools.partial(_probe_done, probe))
    done, _ = await asyncio.wait({running}, timeout=PROBE_SECONDS)
    if not done:
        running.cancel()
        return default
    if running.cancelled() or running.exception() is not None:
        return default
    return running.result()


def _probe_done(probe: Callable[[], Awaitable[Any]], running: asyncio.Future[Any]) -> None:
    if _RUNNING.get(probe) is running:
        del _RUNNING[probe]
    if not running.cancelled():
        running.exception()  # taken: a failing probe is a "no", not an asyncio error log


async def metrics(status: RunStatus) -> Answer:
    """Prometheus text format: counters, the outbox backlog, the role, the lease holder."""
    lines: list[str] = []

    def metric(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        lines.extend(f"{name}{labels} {_number(value)}" for labels, value in samples)

    metric(
        "unionbot_updates_handled_total",
        "counter",
        "Telegram updates handled (redeliveries skipped are not counted).",
        [("", status.updates_handled)],
    )
    metric(
        "unionbot_errors_total",
        "counter",
        "Unhandled errors reported to the owners.",
        [("", status.errors)],
    )
    metric(
        "unionbot_telegram_429_total",
        "counter",
        "429 Too Many Requests answers from Telegram.",
        [("", status.rate_limited)],
    )
    backlog = await _backlog(status)
    metric(
        "unionbot_outbox_backlog",
        "gauge",
        "Messages waiting in the outbox (absent when unknown, e.g. on a standby).",
        [] if backlog is None else [("", backlog)],
    )
    metric(
        "unionbot_role",
        "gauge",
        "1 for this copy's current role.",
        [(_labels(role=role.value), 1 if status.role == role else 0) for role in Role],
    )
    metric(
        "unionbot_lease_info",
        "gauge",
        "The instance holding the lease (holder is empty when nobody does).",
        [(_labels(holder=status.lease_holder or "", instance_name=status.instance), 1)],
    )
    metric(
        "unionbot_uptime_seconds",
        "gauge",
        "Seconds since this process started.",
        [("", max(0.0, time.time() - status.started_at))],
    )
    return Answer(200, "\n".join(lines) + "\n", PROMETHEUS)


async def _backlog(status: RunStatus) -> int | None:
    return await shared_probe(status.outbox_backlog, None)


def _labels(**labels: str) -> str:
    def escape(value: str) -> str:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    return "{" + ",".join(f'{key}="{escape(value)}"' for key, value in labels.items()) + "}"


def _number(value: float) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


ROUTES = {"/healthz": healthz, "/readyz": readyz, "/metrics": metrics}
