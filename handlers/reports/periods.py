"""The periods /report reads: typed (/report 2026, /report 2025 第二学期, /report 2026-03) or
chosen with a button, and the buttons for the periods around today."""

from __future__ import annotations

import re
from datetime import date

from handlers.reports.buttons import PeriodCode, ReportPick
from models.errors import N_, DomainError
from models.reports.period import (
    PeriodKind,
    ReportPeriod,
    month_period,
    previous_month,
    term_of,
    term_period,
    year_period,
)

_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_YEAR = r"(?P<year>\d{4})(?:\s*[-—–~至到]\s*(?P<until>\d{4}))?\s*(?:年|学年|學年)?"
_TERM = re.compile(
    _YEAR + r"\s*-?\s*(?:第\s*(?P<zh>[一二三四1-9])\s*(?:学期|學期)|(?:term|t)\s*(?P<en>\d+))"
)
_MONTH = re.compile(
    r"(?P<year>\d{4})\s*(?:年|-|/|\.|\s|month)\s*(?:month\s*)?(?P<month>\d{1,2})\s*(?:月)?"
)
_ONLY_YEAR = re.compile(r"(?P<year>\d{4})\s*年?")
_AMBIGUOUS = re.compile(r"上学期|下学期|上學期|下學期")
_CHINESE_NUMBER = {"一": 1, "二": 2, "三": 3, "四": 4}


def parse_period(text: str, *, term1_start: str, term2_start: str) -> ReportPeriod:
    """The period a person typed after /report; DomainError with an example when unclear."""
    cleaned = text.translate(_DIGITS).strip().lower()
    if _AMBIGUOUS.search(cleaned):
        raise DomainError(N_("report.ambiguous_term"))
    if match := _ONLY_YEAR.fullmatch(cleaned):
        return year_period(int(match["year"]))
    if match := _TERM.fullmatch(cleaned):
        year = int(match["year"])
        if match["until"] is not None and int(match["until"]) != year + 1:
            raise DomainError(N_("report.usage"))
        number = _CHINESE_NUMBER.get(match["zh"] or "", 0) or int(match["zh"] or match["en"])
        return term_period(year, number, term1_start=term1_start, term2_start=term2_start)
    if match := _MONTH.fullmatch(cleaned):
        return month_period(int(match["year"]), int(match["month"]))
    raise DomainError(N_("report.usage"))


_TERM_WORDS = {1: "第一学期", 2: "第二学期"}


def typed_period(period: ReportPeriod) -> str:
    """A period as a person types it after /report: 2026, 2025 第二学期, 2026-03."""
    if period.kind == PeriodKind.YEAR:
        return str(period.year)
    if period.kind == PeriodKind.TERM:
        return f"{period.year} {_TERM_WORDS.get(period.number or 0, '')}"
    return f"{period.year}-{period.number:02d}"


def period_of(kind: PeriodCode, year: int, number: int, *, terms: tuple[str, str]) -> ReportPeriod:
    """The period a button carries (DomainError for a forged one)."""
    if kind == "y":
        return year_period(year)
    if kind == "t":
        return term_period(year, number, term1_start=terms[0], term2_start=terms[1])
    return month_period(year, number)


def code_of(period: ReportPeriod) -> tuple[PeriodCode, int, int]:
    """A period as a button's fields."""
    code: PeriodCode = (
        "y" if period.kind == PeriodKind.YEAR else "t" if period.kind == PeriodKind.TERM else "m"
    )
    return code, period.year, period.number or 0


def _pick(period: ReportPeriod) -> ReportPick:
    return ReportPick(*code_of(period))


def choices(today: date, *, terms: tuple[str, str]) -> list[list[tuple[str, ReportPick]]]:
    """本年 / 去年, 本学期 / 上学期, 上月 / 本月 as (label key, button) rows."""
    this_term = term_of(today, term1_start=terms[0], term2_start=terms[1])
    before = date.fromordinal(this_term.start.toordinal() - 1)
    last_term = term_of(before, term1_start=terms[0], term2_start=terms[1])
    return [
        [
            ("report.pick.this_year", _pick(year_period(today.year))),
            ("report.pick.last_year", _pick(year_period(today.year - 1))),
        ],
        [
            ("report.pick.this_term", _pick(this_term)),
            ("report.pick.last_term", _pick(last_term)),
        ],
        [
            ("report.pick.last_month", _pick(previous_month(today))),
            ("report.pick.this_month", _pick(month_period(today.year, today.month))),
        ],
    ]
