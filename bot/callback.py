"""Callback data codec: `feature:action:arg...`, ASCII ids only, at most 64 bytes."""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 64
MAX_ID = 2**31 - 1  # ids are PostgreSQL integers: a larger one cannot be ours
_TOKEN = re.compile(r"[a-z0-9_-]+")


class CallbackDataError(ValueError):
    """The callback data was not made by us (malformed, too long or forged)."""


@dataclass(frozen=True)
class CallbackData:
    """A parsed button payload."""

    feature: str
    action: str
    args: tuple[str, ...] = ()

    def arg(self, index: int = 0) -> str:
        """The argument at `index`, else CallbackDataError."""
        if index >= len(self.args):
            raise CallbackDataError("missing argument")
        return self.args[index]

    def int_arg(self, index: int = 0) -> int:
        """The argument at `index` as a positive integer, else CallbackDataError."""
        text = self.arg(index)
        if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= MAX_ID:
            raise CallbackDataError("bad argument")
        return int(text)


def pack(feature: str, action: str, *args: int | str) -> str:
    """Build callback data; refuses anything that is not a short ASCII token."""
    parts = [feature, action, *(str(arg) for arg in args)]
    for part in parts:
        if not _TOKEN.fullmatch(part):
            raise ValueError(f"callback part {part!r} is not a short ASCII token")
    data = ":".join(parts)
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data {data!r} is over {MAX_BYTES} bytes")
    return data


def unpack(data: str | None) -> CallbackData:
    """Parse callback data or raise CallbackDataError."""
    try:
        size = len(data.encode()) if data else 0
    except UnicodeEncodeError as exc:
        raise CallbackDataError("not text") from exc
    if not data or size > MAX_BYTES:
        raise CallbackDataError("missing or too long")
    parts = data.split(":")
    if len(parts) < 2 or not all(_TOKEN.fullmatch(part) for part in parts):
        raise CallbackDataError("malformed")
    return CallbackData(parts[0], parts[1], tuple(parts[2:]))


def pattern(feature: str, action: str | None = None) -> str:
    """A regex for CallbackQueryHandler matching one feature (and optionally one action)."""
    if action is None:
        return rf"^{re.escape(feature)}:"
    return rf"^{re.escape(feature)}:{re.escape(action)}(:|$)"
