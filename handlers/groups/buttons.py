"""The buttons of union groups (`grp`): /groups, and ticking groups as an audience.

Each button carries the index into the list its message showed and that list's `nonce` (a short
number saved with the list): a press on an older message, whose list has since been replaced,
is answered as stale instead of meaning another group."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Literal

from bot.buttons import Button

PAGE = 20  # groups per page of buttons


def new_nonce() -> int:
    """A short number saved with a list of groups and carried by its buttons."""
    return secrets.randbelow(999_999) + 1


@dataclass(frozen=True)
class GroupOpen(Button, prefix="grp:open"):
    """A group on /groups (open: its members; page: another page of the list)."""

    action: Literal["open", "page"]
    nonce: int
    index: int


@dataclass(frozen=True)
class GroupPick(Button, prefix="grp:pick"):
    """Tick a group as (part of) an audience, turn the page, or done."""

    action: Literal["tick", "done", "page"]
    nonce: int
    index: int
