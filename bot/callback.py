"""Callback data codec: `feature:action:arg...`, ASCII ids only, at most 64 bytes."""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 64
_TOKEN = re.compile(r"^[a-z0-9_-]+$")


class CallbackDataError(ValueError):
    """The callback data was not made by us (malformed, too long or forged)."""


@dataclass(frozen=True)
class CallbackData:
    """A parsed button payload."""

    feature: str
    action: str
    args: tuple[str, ...] = ()

    def int_arg(self, index: int = 0) -> int:
        """The argument at `index` as a positive integer, else CallbackDataError."""
        try:
            value = int(self.args[index])
        except (IndexError, ValueError) as exc:
            raise CallbackDataError("bad argument") from exc
        if value <= 0:
            raise CallbackDataError("bad argument")
        return value


def pack(feature: str, action: str, *args: int | str) -> str:
    """Build callback data; refuses anything that is not a short ASCII token."""
    parts = [feature, action, *(str(arg) for arg in args)]
    for part in parts:
        if not _TOKEN.match(part):
            raise ValueError(f"callback part {part!r} is not a short ASCII token")
    data = ":".join(parts)
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data {data!r} is over {MAX_BYTES} bytes")
    return data


def unpack(data: str | None) -> CallbackData:
    """Parse callback data or raise CallbackDataError."""
    if not data or len(data.encode()) > MAX_BYTES:
        raise CallbackDataError("missing or too long")
    parts = data.split(":")
    if len(parts) < 2 or not all(_TOKEN.match(part) for part in parts):
        raise CallbackDataError("malformed")
    return CallbackData(parts[0], parts[1], tuple(parts[2:]))


def pattern(feature: str, action: str | None = None) -> str:
    """A regex for CallbackQueryHandler matching one feature (and optionally one action)."""
    if action is None:
        return rf"^{re.escape(feature)}:"
    return rf"^{re.escape(feature)}:{re.escape(action)}(:|$)"
