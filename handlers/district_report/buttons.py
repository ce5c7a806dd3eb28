"""The buttons of /district (`rollup:…`): a period to roll up."""

from __future__ import annotations

from dataclasses import dataclass

from bot.buttons import Button
from handlers.reports.buttons import PeriodCode, ReportPick


@dataclass(frozen=True)
class DistrictPick(Button, prefix="rollup"):
    """One of 本年 / 去年, 本学期 / 上学期, 上月 / 本月: roll that period up."""

    kind: PeriodCode
    year: int
    number: int  # the term or the month; 0 for a year

    @classmethod
    def of(cls, pick: ReportPick) -> DistrictPick:
        """The same period as /report's button, for /district."""
        return cls(pick.kind, pick.year, pick.number)
