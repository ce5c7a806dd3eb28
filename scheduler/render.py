"""Filling calendar messages: unknown placeholders stay as typed rather than failing."""

from __future__ import annotations

import string
from collections.abc import Mapping


class _Keep(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(template: str, values: Mapping[str, object]) -> str:
    """`template` with `{name}` placeholders filled; a committee typo never stops a greeting."""
    try:
        return string.Formatter().vformat(template, (), _Keep(values))
    except (ValueError, IndexError, AttributeError):
        return template  # an odd brace in a hand-written message: send it as written


def pick(messages: Mapping[str, str], language: str | None, default_language: str) -> str:
    """The message in the reader's language, else the default language, else any."""
    for candidate in (language, default_language):
        if candidate and messages.get(candidate):
            return messages[candidate]
    return next(iter(messages.values()), "")
