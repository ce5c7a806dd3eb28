"""The buttons of rationalization proposals (`ig:…`): filing, the panel's scoring, the
committee's desk (the year, an idea, a prize level, the panel)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.buttons import Button, Id

# ---- filing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IdeaConfirm(Button, prefix="ig:ok"):
    """Confirm or Cancel under the preview of an idea."""

    choice: Literal["yes", "cancel"]


# ---- the panel's scoring -----------------------------------------------------------------


@dataclass(frozen=True)
class ScorePage(Button, prefix="ig:sl"):
    """A page of the year's ideas for a panelist to score."""

    year: int
    offset: int


@dataclass(frozen=True)
class ScoreOpen(Button, prefix="ig:so"):
    """A panelist opens one idea to score it."""

    idea_id: Id


@dataclass(frozen=True)
class ScorePick(Button, prefix="ig:sp"):
    """A panelist's score (1-10) of one idea: starts the short scoring form."""

    idea_id: Id
    score: int


@dataclass(frozen=True)
class ScoreStep(Button, prefix="ig:ss"):
    """In the scoring form: no comment, confirm, or cancel."""

    choice: Literal["skip", "yes", "cancel"]


# ---- the committee's desk ----------------------------------------------------------------


@dataclass(frozen=True)
class IdeaDesk(Button, prefix="ig:d"):
    """The year's tools under /ideas."""

    action: Literal[
        "show",  # the year's figures and tools again
        "panel",  # the review panel, with remove buttons and 添加
        "padd",  # 添加评审组成员: a name is asked (a form)
        "prizes",  # 设置奖项: the counts are asked (a form)
        "rank",  # 按平均分拟定: provisional prizes by the ranking
        "awards",  # the provisional list
        "award",  # 确认颁奖: asks first
        "awardok",
        "pub",  # 公示获奖名单
        "xlsx",
    ]
    year: int


@dataclass(frozen=True)
class IdeaPage(Button, prefix="ig:pg"):
    """A page of the year's ideas for the committee, ranked."""

    year: int
    offset: int


@dataclass(frozen=True)
class IdeaItem(Button, prefix="ig:i"):
    """One idea on the desk: open it, adopt it (or take that back), move its prize."""

    action: Literal["open", "adopt", "unadopt", "move"]
    idea_id: Id


@dataclass(frozen=True)
class IdeaLevel(Button, prefix="ig:lv"):
    """A prize level for one idea (0: no prize)."""

    idea_id: Id
    level: int


@dataclass(frozen=True)
class PanelPick(Button, prefix="ig:pn"):
    """Put a member on the year's panel, or take them off."""

    action: Literal["add", "del"]
    year: int
    member_id: Id
