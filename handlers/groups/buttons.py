"""The buttons of union groups (`grp`): /groups, and ticking groups as an audience."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.buttons import Button


@dataclass(frozen=True)
class GroupOpen(Button, prefix="grp:open"):
    """A group on /groups: its members (the index into the list the presser was shown)."""

    index: int


@dataclass(frozen=True)
class GroupPick(Button, prefix="grp:pick"):
    """Tick a group as (part of) an audience, or done (the index into the list shown)."""

    action: Literal["tick", "done"]
    index: int
