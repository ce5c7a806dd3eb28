"""Filling calendar messages and broadcasts: only the named placeholders are filled.

A placeholder is a name in braces, exactly: `{name}`. Anything else in braces (a format width
like `{name:>50}`, a conversion `{name!r}`, an attribute `{name.x}`, an unknown name) stays as
typed, and the committee is told so when it saves the text (`unknown_placeholders`).
`{{` and `}}` are a brace itself.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

from models.errors import N_, InputError

# The placeholders the committee may use, by what they are filled with.
MEMBER_PLACEHOLDERS = ("name", "org")  # a broadcast, a greeting or an announcement
# A committee task; {last_year} is the year before the occurrence (a summary in January).
TASK_PLACEHOLDERS = ("members", "women", "retirees", "hardship", "date", "last_year")

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


def fill(template: str, values: Mapping[str, object]) -> str:
    """`template` with its `{name}` placeholders filled; anything else stays as typed, so a
    committee typo never stops a greeting (and never builds a huge text)."""

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        name = match.group(1)
        return str(values[name]) if name in values else token

    return _TOKEN.sub(replace, template)


def unknown_placeholders(template: str, allowed: Collection[str]) -> list[str]:
    """What is written in braces but is not one of `allowed` exactly, as typed, once each."""
    found: list[str] = []
    for match in _TOKEN.finditer(template):
        token = match.group(0)
        if token not in ("{{", "}}") and match.group(1) not in allowed and token not in found:
            found.append(token)
    return found


def check_placeholders(template: str, allowed: Collection[str]) -> None:
    """Refuse a text with anything in braces but the allowed placeholders (InputError: the
    committee writes it again)."""
    found = unknown_placeholders(template, allowed)
    if found:
        raise InputError(
            N_("placeholder.unknown"),
            found=" ".join(found),
            allowed=" ".join("{" + name + "}" for name in allowed),
        )


def pick(messages: Mapping[str, str], language: str | None, default_language: str) -> str:
    """The message in the reader's language, else the default language, else any."""
    chosen = picked_language(messages, language, default_language)
    return messages[chosen] if chosen is not None else ""


def picked_language(
    messages: Mapping[str, str], language: str | None, default_language: str
) -> str | None:
    """The language of the message `pick` returns (None when there is none): the union's name
    in a text is the one of the text's language."""
    for candidate in (language, default_language):
        if candidate and messages.get(candidate):
            return candidate
    return next(iter(messages), None)
