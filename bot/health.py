"""/healthz, /readyz and /metrics on HEALTH_LISTEN, for a service manager and a reverse proxy.

A few lines of HTTP/1.1 over asyncio streams: GET (and HEAD) only, one request per connection,
no settings, tokens or chat texts in any answer. It only reads RunStatus.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from dataclasses import dataclass

from bot.run_status import Role, RunStatus
from bot.settings import Settings

logger = logging.getLogger(__name__)

PROBE_SECONDS = 2.0  # a database probe slower than this counts as "unreachable"
READ_SECONDS = 5.0  # a client that has not sent its request line and headers by then is dropped
MAX_HEAD_BYTES = 8192
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


class HealthServer:
    """The listening server; `port` is the bound port (useful when HEALTH_LISTEN asks for 0)."""

    def __init__(self, server: asyncio.Server, status: RunStatus) -> None:
        self._server = server
        self.status = status
        self.host, self.port = server.sockets[0].getsockname()[:2]

    async def stop(self) -> None:
        """Stop listening (a request being answered finishes: each takes a moment at most)."""
        self._server.close()
        await self._server.wait_closed()


async def start_health_server(settings: Settings, status: RunStatus) -> HealthServer | None:
    """Listen on HEALTH_LISTEN; None when it is "off" or the address cannot be taken (logged:
    the bot itself keeps working, only its health answers are missing)."""
    address = settings.listen_address("health")
    if address is None:
        return None
    host, port = address

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _serve(reader, writer, status)

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
    health = HealthServer(server, status)
    logger.info("Health and metrics on http://%s:%s/", health.host, health.port)
    return health


async def _serve(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, status: RunStatus
) -> None:
    head_only = False
    try:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_SECONDS)
        except asyncio.LimitOverrunError:
            answer = Answer(431, "request head too large\n")
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
            return
        else:
            head_only, answer = await _answer(head, status)
        await _write(writer, answer, head_only=head_only)
    except Exception:
        # Whatever a client sends, the server stays up; the request itself is never logged.
        logger.warning("A health request failed")
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def _answer(head: bytes, status: RunStatus) -> tuple[bool, Answer]:
    """(HEAD?, the answer) for a request head."""
    request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = request_line.split(" ")
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
    try:
        return bool(await asyncio.wait_for(status.database_ok(), PROBE_SECONDS))
    except Exception:
        return False


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
    try:
        return await asyncio.wait_for(status.outbox_backlog(), PROBE_SECONDS)
    except Exception:
        return None


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
