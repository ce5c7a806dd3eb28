"""Every call to Telegram: through TELEGRAM_PROXY_URL when set, 429s counted, outages said once.

`TelegramRequest` wraps the transport PTB would use (its HTTPXRequest in production, a recording
fake in tests) so the counting and the one-line outage notice are the same code in both.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http import HTTPStatus

import httpx
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import Conflict, NetworkError, TelegramError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from bot.run_status import RunStatus
from bot.settings import Settings

logger = logging.getLogger(__name__)

UPDATER_LOGGER = "telegram.ext.Updater"
# The failures that mean "no connection to Telegram (or to the proxy) at all", as opposed to one
# slow or broken answer.
_UNREACHABLE = (httpx.ConnectError, httpx.ConnectTimeout, httpx.ProxyError)


@dataclass(frozen=True)
class Timeouts:
    """Seconds httpx waits for each step of a call to Telegram."""

    connect: float
    read: float
    write: float
    pool: float


TIMEOUTS = Timeouts(connect=5.0, read=5.0, write=5.0, pool=1.0)  # PTB's own defaults
# A call that has taken all its timeouts together and this much more is cut. httpx's timeouts
# only bound each step: httpcore reads the SOCKS handshake with none at all
# (encode/httpcore#1015), so a proxy that accepts and then says nothing would hold the call,
# and with it getUpdates, for ever.
DEADLINE_MARGIN = 1.0


def proxy_label(url: str) -> str:
    """`socks5://host:port` of a proxy URL: never its user name or password."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or "?"
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def is_unreachable(error: BaseException) -> bool:
    """True for a NetworkError caused by a refused or timed-out connection to Telegram or the
    proxy (what a proxy that is down looks like), False for any other failure."""
    return isinstance(error, NetworkError) and isinstance(error.__cause__, _UNREACHABLE)


class LeaseLostError(TelegramError):
    """Refused before it left: this copy's lease ran out, another copy may be active."""

    def __init__(self) -> None:
        super().__init__("not sent: this copy no longer holds the lease")


class Route:
    """How this process reaches Telegram, and whether it can right now; shared by the transport
    for ordinary calls and the one for getUpdates, so an outage is one line, not two."""

    def __init__(self, label: str = "directly") -> None:
        self.label = label  # "directly" or the proxy without its credentials
        self.unreachable = False
        self.failures = 0  # connection failures so far (tests watch the retries with it)

    def lost(self, error: NetworkError) -> None:
        """A connection failed: say so once per outage."""
        self.failures += 1
        if self.unreachable:
            return
        self.unreachable = True
        # Only the exception's class: its text comes from the network stack, and the label
        # names the proxy without its credentials.
        logger.warning(
            "Cannot reach Telegram (%s): %s; retrying until it answers",
            self.label,
            type(error.__cause__).__name__,
        )

    def answered(self) -> None:
        """A call got an answer: say so if it ends an outage."""
        if self.unreachable:
            self.unreachable = False
            logger.info("Telegram is reachable again (%s)", self.label)


class TelegramRequest(BaseRequest):
    """A Bot API transport around another one: counts 429 answers into RunStatus and logs one
    line when Telegram becomes unreachable and one when it is back (not one per retry)."""

    def __init__(
        self,
        inner: BaseRequest,
        status: RunStatus,
        route: Route | None = None,
        timeouts: Timeouts | None = None,
    ) -> None:
        self.inner = inner
        self.status = status
        self.route = route or Route()
        self.timeouts = timeouts  # the inner transport's defaults; None: no overall deadline

    @property
    def read_timeout(self) -> float | None:
        """The wrapped transport's default read timeout."""
        return self.inner.read_timeout

    async def initialize(self) -> None:
        """Open the wrapped transport."""
        await self.inner.initialize()

    async def shutdown(self) -> None:
        """Close the wrapped transport."""
        await self.inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """One round trip through the wrapped transport; BaseRequest turns the answer into a
        result or an exception (RetryAfter for a 429) afterwards."""
        # Telegram has no fencing of its own: a copy that lost the lease (or slept through it)
        # must not poll (it would steal updates from the active copy, or confirm ones it never
        # handled), answer anyone, or touch the webhook.
        if not self.status.holds_lease():
            raise LeaseLostError()
        deadline = self._deadline(
            request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        try:
            async with asyncio.timeout(deadline) as scope:
                code, payload = await self.inner.do_request(
                    url=url,
                    method=method,
                    request_data=request_data,
                    read_timeout=read_timeout,
                    write_timeout=write_timeout,
                    connect_timeout=connect_timeout,
                    pool_timeout=pool_timeout,
                )
        except TimeoutError:
            if not scope.expired():
                raise
            cut = TimedOut(f"No answer from Telegram within {deadline:.0f} s")
            cut.__cause__ = httpx.ConnectTimeout("no answer within the call's timeouts")
            self.route.lost(cut)
            raise cut from cut.__cause__
        except NetworkError as error:
            if is_unreachable(error):
                self.route.lost(error)
            raise
        self.route.answered()
        # Counted here, on the wire: the rate limiter's retries and the outbox's own handling of
        # RetryAfter both sit above this layer, so each 429 answer counts exactly once.
        if code == HTTPStatus.TOO_MANY_REQUESTS:
            self.status.rate_limited += 1
        elif code == HTTPStatus.CONFLICT:
            # PTB retries with a growing pause and logs a traceback each time; one plain line
            # says what it means.
            logger.warning(
                "Telegram answered 409 Conflict to %s: another process uses this bot's token "
                "(a second copy outside this database's lease, or a webhook set elsewhere)",
                url.rsplit("/", 1)[-1],
            )
        return code, payload

    def _deadline(
        self,
        request_data: RequestData | None,
        *steps: ODVInput[float],
    ) -> float | None:
        """All of a call's timeouts (read, write, connect, pool) plus a margin; None for an
        upload (httpx's write timeout is per chunk: a large file may rightly take longer) or a
        call that asked to wait without limit."""
        if self.timeouts is None or (request_data is not None and request_data.contains_files):
            return None
        defaults = (
            self.timeouts.read,
            self.timeouts.write,
            self.timeouts.connect,
            self.timeouts.pool,
        )
        seconds = [
            d if isinstance(s, DefaultValue) else s for s, d in zip(steps, defaults, strict=True)
        ]
        if any(value is None for value in seconds):
            return None
        return sum(value for value in seconds if value is not None) + DEADLINE_MARGIN


class ReportedOutageFilter(logging.Filter):
    """Drops PTB's traceback per failed getUpdates when Telegram is unreachable: TelegramRequest
    already said so in one line, and a proxy that is down for an hour would otherwise fill the
    log with hundreds of identical tracebacks."""

    def filter(self, record: logging.LogRecord) -> bool:
        """False for a polling error already said in one line (Telegram unreachable, a 409
        Conflict) or expected (the lease lost: the runner says so), True for anything else."""
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, LeaseLostError | Conflict):
            return False
        return error is None or not is_unreachable(error)


def quiet_repeated_outages() -> None:
    """Install ReportedOutageFilter on PTB's updater logger (once per process)."""
    updater_logger = logging.getLogger(UPDATER_LOGGER)
    if not any(isinstance(f, ReportedOutageFilter) for f in updater_logger.filters):
        updater_logger.addFilter(ReportedOutageFilter())


def environment_route(settings: Settings) -> str:
    """How httpx reaches Telegram without TELEGRAM_PROXY_URL: it honours HTTPS_PROXY, HTTP_PROXY,
    ALL_PROXY and NO_PROXY (as curl does; a server that needs a proxy for everything may rely on
    it), so an outage line must not say "directly" when one of them is in effect."""
    target = urllib.parse.urlsplit(settings.telegram_api_base_url or "https://api.telegram.org")
    found = urllib.request.getproxies_environment()
    # NO_PROXY as the standard library reads it (undeclared in typeshed, present since 3.x).
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
    if not found or bypass(target.hostname or "", found):
        return "directly"
    proxy = found.get(target.scheme) or found.get("all")
    return f"through the proxy {proxy_label(proxy)} (from the environment)" if proxy else "directly"


def telegram_requests(
    settings: Settings, status: RunStatus
) -> tuple[TelegramRequest, TelegramRequest]:
    """The transports for ordinary calls and for getUpdates, both through the proxy if set."""
    proxy = settings.telegram_proxy_url.get_secret_value() if settings.telegram_proxy_url else None
    route = Route(
        f"through the proxy {proxy_label(proxy)}" if proxy else environment_route(settings)
    )
    timeouts = TIMEOUTS

    def transport(pool_size: int) -> HTTPXRequest:
        return HTTPXRequest(
            connection_pool_size=pool_size,
            proxy=proxy,
            connect_timeout=timeouts.connect,
            read_timeout=timeouts.read,
            write_timeout=timeouts.write,
            pool_timeout=timeouts.pool,
        )

    # PTB's own defaults: a large pool for ordinary calls, one connection for the long poll.
    calls, polling = transport(256), transport(1)
    quiet_repeated_outages()
    return (
        TelegramRequest(calls, status, route, timeouts),
        TelegramRequest(polling, status, route, timeouts),
    )
