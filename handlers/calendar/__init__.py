"""The union calendar (工会日历): greetings, reminders and tasks by date, edited in chat."""

from __future__ import annotations

from bot.features import Audience, CommandSpec, Feature, MenuEntry
from handlers.calendar import entries
from models.calendar import AudienceType, EntryKind
from models.errors import N_
from scheduler.calendar_defaults import DEFAULTS


def _keys() -> set[str]:
    return (
        {f"calendar.{entry.key}.{part}" for entry in DEFAULTS for part in ("title", "text")}
        | {f"calendar.kind.{value}" for value in EntryKind}
        | {f"calendar.audience.{value}" for value in AudienceType}
    )


FEATURE = Feature(
    name="calendar",
    register=entries.register,
    forms=entries.forms,
    commands=(CommandSpec("calendar", N_("cmd.calendar"), Audience.COMMITTEE, order=26),),
    catalog_keys=_keys,
    menu=(
        MenuEntry("calendar", N_("menu.calendar"), Audience.COMMITTEE, entries.show_calendar, 14),
    ),
)
