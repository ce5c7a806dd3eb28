"""The buttons of care rounds (`cw`): a round's list, one visit, assigning, adding a person."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.buttons import Button, Id
from models.aid import AidType


@dataclass(frozen=True)
class CareRoundAction(Button, prefix="cw"):
    """On a round's list: show it, fill it from the hardship files or the retirees, switch the
    suggested money on or off (the wanted state is in the button, so a stale or repeated press
    cannot flip it back), add someone by name, assign the unassigned, close the round, my list."""

    action: Literal[
        "show", "files", "retirees", "money_on", "money_off", "add", "assign", "close", "mine"
    ]
    round_id: Id


@dataclass(frozen=True)
class CareVisitAction(Button, prefix="cw:v"):
    """On one visit: open it, ✅ without money, ✅ with the standard, ✅ another amount, a note,
    assign it, take it off the list, choose what its money is booked as, say the visit's day."""

    action: Literal["open", "none", "std", "amt", "note", "assign", "remove", "type", "day"]
    visit_id: Id
    round_id: Id  # checked against the visit: a button never acts on another round's visit


@dataclass(frozen=True)
class CareAssignTo(Button, prefix="cw:to"):
    """Give a visit (or, with visit 0, every unassigned visit of the round) to a committee
    member."""

    round_id: Id
    visit_id: int
    member_id: Id


@dataclass(frozen=True)
class CareAddPerson(Button, prefix="cw:add"):
    """Put the person found by name on the round."""

    round_id: Id
    member_id: Id


@dataclass(frozen=True)
class CareVisitType(Button, prefix="cw:ty"):
    """What the visit's money is booked as (an aid type), chosen before it is recorded."""

    visit_id: Id
    aid_type: AidType
