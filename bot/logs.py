"""Where log lines go and what they look like: plain text (default) or one JSON object a line.

The privacy rules are the same in both formats: httpx (which logs request URLs, and the URL
holds the bot token) only from WARNING, the libraries that log chat ids beside message texts or
SQL parameters never below INFO, and the secrets (the token, the proxy and database passwords,
the webhook secret) masked in any line that would still carry them, as do the values PostgreSQL
quotes in a constraint error. An exception nobody caught goes through the same formatter: one
masked line (one JSON object), not a bare traceback holding, say, the rejected token.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
import urllib.parse
from datetime import UTC, datetime
from types import TracebackType

from sqlalchemy.engine import make_url

from bot.settings import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MASK = "***"
# At DEBUG these log chat ids beside message texts, SQL parameters, or (httpcore) the proxy's
# user name and password during the SOCKS handshake.
NOISY_LOGGERS = ("telegram", "aiosqlite", "apscheduler", "httpcore")
# httpx takes these when TELEGRAM_PROXY_URL is not set; their passwords are secrets too.
PROXY_VARIABLES = (
    "HTTPS_PROXY",
    "ALL_PROXY",
    "HTTP_PROXY",
    "https_proxy",
    "all_proxy",
    "http_proxy",
)
# PostgreSQL quotes the row or the key values in a constraint error (asyncpg puts that DETAIL
# in the exception's text): a name, an aid text. The values go; the constraint's name stays.
_CONSTRAINT_VALUES = re.compile(
    r"(Key \([^)\n]*\)=\().*?(\) (?:already exists|is not present|is still referenced|conflicts))"
    r"|(Failing row contains \().*"
)


def _constraint_values_masked(match: re.Match[str]) -> str:
    if match.group(3):
        return f"{match.group(3)}{MASK})"
    return f"{match.group(1)}{MASK}{match.group(2)}"


def _password_forms(url: str) -> list[str]:
    """A URL's password as written (percent-encoded or not) and decoded, and the URL itself."""
    password = urllib.parse.urlsplit(url).password
    if not password:
        return []
    return [url, password, urllib.parse.unquote(password)]


def secrets_of(settings: Settings | None) -> tuple[str, ...]:
    """The strings no log line may contain: the bot token (also percent-encoded, and its secret
    half alone), the proxy URL and its password, the database password, the webhook secret."""
    if settings is None:
        return ()
    found: list[str] = []
    if settings.telegram_bot_token is not None:
        token = settings.telegram_bot_token.get_secret_value().strip()
        # The part after the colon is the secret; the bot's id before it is public.
        found += [token, urllib.parse.quote(token, safe=""), token.partition(":")[2]]
    if settings.telegram_proxy_url is not None:
        found += _password_forms(settings.telegram_proxy_url.get_secret_value())
    found += [
        form for name in PROXY_VARIABLES for form in _password_forms(os.environ.get(name, ""))
    ]
    if settings.webhook_secret is not None:
        found.append(settings.webhook_secret.get_secret_value())
    try:
        database_password = make_url(settings.database_url).password
    except Exception:  # an unreadable URL is refused elsewhere; nothing to mask here
        database_password = None
    if database_password:
        password = str(database_password)
        found += [password, urllib.parse.quote(password, safe="")]
    # Longest first, so a URL is masked whole before the password inside it.
    return tuple(sorted({s for s in found if len(s) >= 4}, key=len, reverse=True))


def mask(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with every secret, and the values of a PostgreSQL constraint error, replaced."""
    for secret in secrets:
        text = text.replace(secret, MASK)
    return _CONSTRAINT_VALUES.sub(_constraint_values_masked, text)


class TextFormatter(logging.Formatter):
    """The usual `time LEVEL logger: message` line, secrets masked."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        super().__init__(TEXT_FORMAT)
        self.secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        """The line, then masked."""
        return mask(super().format(record), self.secrets)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, instance, exception."""

    def __init__(self, instance: str, secrets: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.instance = instance
        self.secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON (non-ASCII kept readable)."""
        entry: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": mask(record.getMessage(), self.secrets),
            "instance": self.instance,
        }
        if record.exc_info:
            entry["exception"] = mask(self.formatException(record.exc_info), self.secrets)
        if record.stack_info:
            entry["stack"] = mask(self.formatStack(record.stack_info), self.secrets)
        return json.dumps(entry, ensure_ascii=False)


def formatter_for(settings: Settings | None) -> logging.Formatter:
    """LOG_FORMAT's formatter (text without settings), masking this deployment's secrets."""
    secrets = secrets_of(settings)
    if settings is not None and settings.log_format == "json":
        return JsonFormatter(settings.instance, secrets)
    return TextFormatter(secrets)


def configure_logging(settings: Settings | None = None) -> logging.Handler | None:
    """Set up the root logger for this process (again, if called again): INFO to stderr in
    LOG_FORMAT, and the levels that keep tokens and chat contents out of the log.

    Like logging.basicConfig, it adds no handler where the root logger already has one it did
    not add (pytest's, or a program that embeds the bot): that owner decides the output. The
    levels are set in every case. Returns the handler added, if any.
    """
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, "unionbot", False)]
    for old in ours:
        root.removeHandler(old)
    handler: logging.Handler | None = None
    if not root.handlers:
        # A plain StreamHandler on stderr: the sandbox recognises it and sets it aside while
        # the terminal is the chat.
        handler = logging.StreamHandler(sys.stderr)
        handler.unionbot = True  # type: ignore[attr-defined]
        handler.setFormatter(formatter_for(settings))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        # Warnings and uncaught exceptions would otherwise be written around the formatter:
        # not JSON, not masked.
        logging.captureWarnings(True)
        sys.excepthook = _log_uncaught
        threading.excepthook = _log_uncaught_in_thread
    # httpx logs every request URL at INFO, and the URL contains the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.INFO)
    return handler


def _log_uncaught(
    kind: type[BaseException], error: BaseException, trace: TracebackType | None
) -> None:
    """sys.excepthook: the exception that stops the process, as one masked log record."""
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, trace)
        return
    logging.getLogger("unionbot").critical("Stopped by an error", exc_info=(kind, error, trace))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    """threading.excepthook: the same for a thread."""
    if args.exc_value is None or issubclass(args.exc_type, SystemExit):
        return
    logging.getLogger("unionbot").critical(
        "A thread stopped by an error", exc_info=(args.exc_type, args.exc_value, args.exc_traceback)
    )
