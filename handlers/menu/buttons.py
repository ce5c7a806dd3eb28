"""The main menu's buttons."""

from __future__ import annotations

from dataclasses import dataclass

from bot.buttons import Button


@dataclass(frozen=True)
class MenuButton(Button, prefix="menu"):
    """A main-menu entry: `menu:<action>` (features declare the actions, bot/features.py)."""

    action: str
