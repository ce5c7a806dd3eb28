"""The buttons of district contests (`dc:…`) and of the district's 优秀提案 (`dx:…`). Ids only;
every id is checked again against the presser and the database at press time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.buttons import Button, Id
from models.district_contests import ContestKind


@dataclass(frozen=True)
class ContestNew(Button, prefix="dc:new"):
    """District staff start the creating form."""

    go: Literal["go"]


@dataclass(frozen=True)
class ContestKindChoice(Button, prefix="dc:kind"):
    """运动会 / 技能大赛 / other, in the creating form."""

    kind: ContestKind


@dataclass(frozen=True)
class ContestConfirm(Button, prefix="dc:ok"):
    """Confirm or Cancel under the preview."""

    choice: Literal["yes", "cancel"]


@dataclass(frozen=True)
class ContestDesk(Button, prefix="dc:d"):
    """The district's tools for one contest."""

    action: Literal["show", "publish", "xlsx"]
    contest_id: Id


@dataclass(frozen=True)
class ContestEnter(Button, prefix="dc:e"):
    """A school's chair enters (or changes) the school's team: starts the entry form."""

    contest_id: Id
    school_id: Id


@dataclass(frozen=True)
class ContestResult(Button, prefix="dc:r"):
    """District staff record one team's result: starts the short result form."""

    contest_id: Id
    team_id: Id


@dataclass(frozen=True)
class ExcellentOpen(Button, prefix="dx:open"):
    """District staff open the year's selection, with each school's quota."""

    year: int
    quota: int


@dataclass(frozen=True)
class ExcellentNominate(Button, prefix="dx:n"):
    """A school's chair nominates one of the school's excellent proposals."""

    round_id: Id
    school_id: Id
    proposal_id: Id


@dataclass(frozen=True)
class ExcellentDesk(Button, prefix="dx:d"):
    """The district's tools for one selection."""

    action: Literal["show", "publish"]
    round_id: Id


@dataclass(frozen=True)
class ExcellentPick(Button, prefix="dx:p"):
    """District staff select (or unselect) one nominated proposal."""

    choice: Literal["yes", "no"]
    nomination_id: Id


@dataclass(frozen=True)
class ExcellentWithdraw(Button, prefix="dx:w"):
    """A school's chair takes back one of the school's nominations."""

    school_id: Id
    nomination_id: Id
