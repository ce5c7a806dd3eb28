"""The buttons of /calendar: the entries and their cards, and the steps of adding one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.buttons import Button
from models.calendar import AudienceType, EntryKind


@dataclass(frozen=True)
class CalendarEntryButton(Button, prefix="cal"):
    """An entry on /calendar and its card's actions (`add` carries 0: there is no entry yet)."""

    action: Literal["open", "toggle", "preview", "time", "text", "test", "add"]
    entry_id: int


@dataclass(frozen=True)
class EntryKindChoice(Button, prefix="cal:kind"):
    """What a new entry sends."""

    kind: EntryKind


@dataclass(frozen=True)
class EntryAudienceChoice(Button, prefix="cal:aud"):
    """Who receives a new entry (one of the choices offered, see entries.AUDIENCE_CHOICES)."""

    audience: AudienceType


@dataclass(frozen=True)
class NewEntryConfirm(Button, prefix="cal:new"):
    """Confirm or cancel under a new entry's preview."""

    choice: Literal["yes", "no"]


@dataclass(frozen=True)
class EntryTextChoice(Button, prefix="cal:txt"):
    """At a new entry's text in another language: that language (`same`) or every language
    still to come (`rest`) uses the text in the main language."""

    choice: Literal["same", "rest"]
