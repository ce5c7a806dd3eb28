"""The aid buttons: asking for aid (`ad`), the committee's desk (`ak`), the public notice
(`an`) and the hardship files (`hf`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.buttons import Button, Id
from models.aid import AidType
from models.hardship import HardshipLevel

# ---- asking for aid (handlers/aid/asking.py) ---------------------------------------------


@dataclass(frozen=True)
class AidFor(Button, prefix="ad:who"):
    """Whom the request is for: the asker, or a colleague they report."""

    choice: Literal["me", "other"]


@dataclass(frozen=True)
class AidColleague(Button, prefix="ad:subj"):
    """The colleague a report is about, picked from the matching members."""

    member_id: Id


@dataclass(frozen=True)
class AidTypeChoice(Button, prefix="ad:type"):
    """The type of aid asked for."""

    aid_type: AidType


@dataclass(frozen=True)
class AidStandardAmount(Button, prefix="ad:amt"):
    """Ask for the type's standard amount instead of typing one."""

    choice: Literal["std"]


@dataclass(frozen=True)
class AidEvidenceDone(Button, prefix="ad:ev"):
    """No more evidence: show the preview."""

    choice: Literal["done"]


@dataclass(frozen=True)
class AidConfirm(Button, prefix="ad:ok"):
    """Confirm or cancel the request under its preview."""

    choice: Literal["yes", "cancel"]


@dataclass(frozen=True)
class AidAnswer(Button, prefix="ad:info"):
    """The requester answers the committee's question about their case."""

    case_id: Id


@dataclass(frozen=True)
class AidWithdraw(Button, prefix="ad:wd"):
    """The requester withdraws an undecided case (in /mine)."""

    case_id: Id


# ---- the committee's desk (handlers/aid/desk.py, books.py) -------------------------------


@dataclass(frozen=True)
class AidDeskCard(Button, prefix="ak"):
    """A case card's buttons: open it privately, another amount, ask, reject, record payment."""

    action: Literal["open", "amt", "ask", "no", "pay"]
    case_id: Id


@dataclass(frozen=True)
class AidApproval(Button, prefix="ak:yes"):
    """Approve a case for the amount the card offers."""

    case_id: Id
    amount: int


@dataclass(frozen=True)
class AidCorrectionDecision(Button, prefix="ak:fix"):
    """Agree to (ok) or drop (no) a correction above the single-approval limit, on its card."""

    action: Literal["ok", "no"]
    case_id: Id
    entry_id: Id


@dataclass(frozen=True)
class AidNoticePublish(Button, prefix="an:pub"):
    """Post a year's public notice (公示) to the disclosure channel."""

    year: int


# ---- hardship files (handlers/aid/hardship.py) --------------------------------------------


@dataclass(frozen=True)
class HardshipFileButton(Button, prefix="hf"):
    """A file in /hardship: reviewed (still in need), or closed (撤档)."""

    action: Literal["rev", "close"]
    file_id: Id


@dataclass(frozen=True)
class HardshipNew(Button, prefix="hf:new"):
    """Put a family on file (建档)."""


@dataclass(frozen=True)
class HardshipMember(Button, prefix="hf:who"):
    """The member whose family goes on file, picked from the matching members."""

    member_id: Id


@dataclass(frozen=True)
class HardshipLevelChoice(Button, prefix="hf:lvl"):
    """How hard things are for the family."""

    level: HardshipLevel
