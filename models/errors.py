"""Domain errors carry a message key and parameters; handlers localize them."""

from __future__ import annotations


class DomainError(Exception):
    """A rule said no. `key` is a catalog key, `params` fill its placeholders."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class InputError(DomainError):
    """What was typed cannot be used (empty, too long, not a date or an amount): a form asks
    for it again. Any other DomainError is a rule refusal, which ends the form."""


def N_(key: str) -> str:  # noqa: N802 - gettext's conventional "mark, don't translate"
    """Mark a message key for the catalog check without translating it here."""
    return key
