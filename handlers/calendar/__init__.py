"""The union calendar (工会日历): greetings, reminders and tasks by date, edited in chat."""

from __future__ import annotations

from bot.features import Audience, CommandSpec, Feature, MenuEntry
from handlers.calendar import entries
from models.errors import N_

FEATURE = Feature(
    name="calendar",
    register=entries.register,
    forms=entries.forms,
    commands=(CommandSpec("calendar", N_("cmd.calendar"), Audience.COMMITTEE, order=26),),
    menu=(
        MenuEntry("calendar", N_("menu.calendar"), Audience.COMMITTEE, entries.show_calendar, 14),
    ),
)
