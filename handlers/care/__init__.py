"""Care the committee starts itself (送温暖 / 重阳 visits): rounds of visits to people on the
roster, on Telegram or not, assigned, ticked off, with or without money (the money goes to the
aid desk as a committee-started case)."""

from __future__ import annotations

from bot.features import Audience, CommandSpec, Feature, MenuEntry
from handlers.care import rounds
from handlers.care.buttons import (
    CareAddPerson,
    CareAssignTo,
    CareRoundAction,
    CareVisitAction,
    CareVisitType,
)
from models.errors import N_

FEATURE = Feature(
    name="care",
    register=rounds.register,
    forms=rounds.forms,
    commands=(CommandSpec("care", N_("cmd.care"), Audience.COMMITTEE, order=26),),
    menu=(MenuEntry("care", N_("menu.care"), Audience.COMMITTEE, rounds.show_rounds, 14),),
)

__all__ = [
    "FEATURE",
    "CareAddPerson",
    "CareAssignTo",
    "CareRoundAction",
    "CareVisitAction",
    "CareVisitType",
]
