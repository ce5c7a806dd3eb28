"""Broadcasts (群发通知) from the committee to chosen members, through the outbox."""

from __future__ import annotations

from bot.features import Audience, CommandSpec, Feature, MenuEntry
from handlers.broadcast import compose
from models.errors import N_

FEATURE = Feature(
    name="broadcast",
    register=compose.register,
    forms=compose.forms,
    commands=(CommandSpec("broadcast", N_("cmd.broadcast"), Audience.COMMITTEE, order=27),),
    menu=(MenuEntry("broadcast", N_("menu.broadcast"), Audience.COMMITTEE, order=15),),
)
