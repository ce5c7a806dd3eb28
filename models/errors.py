"""Domain errors carry a message key and parameters; handlers localize them."""

from __future__ import annotations


class DomainError(Exception):
    """A rule said no. `key` is a catalog key, `params` fill its placeholders."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def N_(key: str) -> str:  # noqa: N802 - gettext's conventional "mark, don't translate"
    """Mark a message key for the catalog check without translating it here."""
    return key
