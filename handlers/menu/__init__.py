"""The core commands every person has: /menu, /mine, /help and /cancel (/cancel is answered by
the form engine, bot/forms.py)."""

from __future__ import annotations

from bot.features import EVERYWHERE, Audience, CommandSpec, Feature, MenuEntry
from handlers.menu import commands, mine
from models.errors import N_

FEATURE = Feature(
    name="menu",
    register=commands.register,
    commands=(
        CommandSpec("menu", N_("cmd.menu"), Audience.MEMBER, order=1, places=EVERYWHERE),
        CommandSpec("mine", N_("cmd.mine"), Audience.MEMBER, order=7, places=EVERYWHERE),
        CommandSpec(
            "help", N_("cmd.help"), Audience.EVERYONE, False, True, order=10, places=EVERYWHERE
        ),
        CommandSpec("cancel", N_("cmd.cancel"), Audience.EVERYONE, order=11, places=EVERYWHERE),
    ),
    menu=(
        MenuEntry(
            "mine", N_("menu.mine"), Audience.MEMBER, mine.show_mine, order=4, places=EVERYWHERE
        ),
        MenuEntry(
            "help",
            N_("menu.help"),
            Audience.EVERYONE,
            commands.show_help,
            order=7,
            places=EVERYWHERE,
        ),
    ),
)
