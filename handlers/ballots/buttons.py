"""The ballots' buttons: creating (`blc`), voting (`blv`, `bla`, `blp`, `bls`, `blk`) and the
results in the committee group (`blr`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.buttons import Button, Id
from models.ballots import BallotKind, Electorate


@dataclass(frozen=True)
class BallotKindChoice(Button, prefix="blc:kind"):
    """民主评议 / 满意度测评 / 评优推荐选举 / 表决."""

    kind: BallotKind


@dataclass(frozen=True)
class BallotWho(Button, prefix="blc:who"):
    """Who may vote."""

    who: Electorate


@dataclass(frozen=True)
class BallotOpensNow(Button, prefix="blc:now"):
    """Open at once instead of typing an opening time."""

    now: Literal["now"] = "now"


@dataclass(frozen=True)
class BallotCreate(Button, prefix="blc:ok"):
    """Confirm or drop under the preview."""

    choice: Literal["yes", "cancel"]


@dataclass(frozen=True)
class BallotGo(Button, prefix="blv"):
    """开始投票 under the invitation (built by scheduler.ballot_jobs.vote_button)."""

    ballot_id: Id


@dataclass(frozen=True)
class BallotAnswer(Button, prefix="bla"):
    """A choice for item `item` (a grade, a satisfaction level, for/against/abstain)."""

    ballot_id: Id
    item: int
    choice: str


@dataclass(frozen=True)
class BallotPick(Button, prefix="blp"):
    """An election: toggle candidate `item`, or done."""

    ballot_id: Id
    action: Literal["t", "done"]
    item: int = 0


@dataclass(frozen=True)
class BallotSkip(Button, prefix="bls"):
    """No comment / leave a free-text question blank."""

    ballot_id: Id


@dataclass(frozen=True)
class BallotConfirm(Button, prefix="blk"):
    """Under the summary: cast it, start again, or leave without voting."""

    ballot_id: Id
    choice: Literal["send", "redo", "cancel"]


@dataclass(frozen=True)
class BallotResults(Button, prefix="blr"):
    """Under the results in the committee group: the chart, the workbook, publish."""

    action: Literal["png", "xlsx", "pub"]
    ballot_id: Id


@dataclass(frozen=True)
class BallotCancel(Button, prefix="blx"):
    """❌ 取消投票 in the committee's /ballots: ask, then yes or no."""

    action: Literal["ask", "yes", "no"]
    ballot_id: Id
