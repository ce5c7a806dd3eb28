"""Where log lines go and what they look like: plain text (default) or one JSON object a line.

The privacy rules are the same in both formats: httpx (which logs request URLs, and the URL
holds the bot token) only from WARNING, the libraries that log chat ids beside message texts or
SQL parameters never below INFO, and the token and the proxy password masked in any line that
would still carry them.
"""

from __future__ import annotations

import json
import logging
import sys
import urllib.parse
from datetime import UTC, datetime

from bot.settings import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MASK = "***"
# At DEBUG these log chat ids beside message texts, SQL parameters, or (httpcore) the proxy's
# user name and password during the SOCKS handshake.
NOISY_LOGGERS = ("telegram", "aiosqlite", "apscheduler", "httpcore")


def secrets_of(settings: Settings | None) -> tuple[str, ...]:
    """The strings no log line may contain: the bot token, the proxy URL and its password."""
    if settings is None:
        return ()
    found: list[str] = []
    if settings.telegram_bot_token is not None:
        found.append(settings.telegram_bot_token.get_secret_value().strip())
    if settings.telegram_proxy_url is not None:
        proxy = settings.telegram_proxy_url.get_secret_value()
        password = urllib.parse.urlsplit(proxy).password
        if password:
            found.extend([proxy, password, urllib.parse.unquote(password)])
    # Longest first, so a URL is masked whole before the password inside it.
    return tuple(sorted({s for s in found if len(s) >= 4}, key=len, reverse=True))


def mask(text: str, secrets: tuple[str, ...]) -> str:
    """`text` with every secret replaced by ***."""
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


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
    # httpx logs every request URL at INFO, and the URL contains the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.INFO)
    return handler
