"""The buttons of /report (`rp:…`): a period to show, and a file of that period to send."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.buttons import Button

PeriodCode = Literal["y", "t", "m"]  # a year, a term, a month


@dataclass(frozen=True)
class ReportPick(Button, prefix="rp:p"):
    """One of 本年 / 去年, 本学期 / 上学期, 上月 / 本月: show that period's figures."""

    kind: PeriodCode
    year: int
    number: int  # the term or the month; 0 for a year


@dataclass(frozen=True)
class ReportFile(Button, prefix="rp:f"):
    """📊 图表, 📒 台账 or 📝 工作总结 of a period, sent privately to whoever pressed."""

    what: Literal["charts", "books", "summary"]
    kind: PeriodCode
    year: int
    number: int
