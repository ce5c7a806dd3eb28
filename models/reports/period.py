"""The period a report covers: a calendar year, a school term (学期) or a month.

Dates are local days in the deployment's time zone; `end` is exclusive. A term belongs to the
school year that starts in `year`: term 1 (第一学期, autumn) starts on TERM1_START of `year`,
term 2 (第二学期, spring) on TERM2_START of `year + 1`; each runs to the day before the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from enum import StrEnum

from models.errors import N_, DomainError


class PeriodKind(StrEnum):
    """What a report covers."""

    YEAR = "year"
    TERM = "term"
    MONTH = "month"


def month_day(text: str, year: int) -> date:
    """A "MM-DD" setting on a given year."""
    month, day = (int(part) for part in text.split("-"))
    return date(year, month, day)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


@dataclass(frozen=True)
class ReportPeriod:
    """[start, end) in local days, with what it is called."""

    kind: PeriodKind
    year: int  # the calendar year; for a term, the year its school year starts
    number: int | None  # the term (1 or 2) or the month (1-12); None for a year
    start: date
    end: date  # exclusive

    def bounds(self, zone: tzinfo) -> tuple[datetime, datetime]:
        """The period as aware datetimes (local midnight to local midnight) for timestamps."""
        return (
            datetime.combine(self.start, time(), tzinfo=zone),
            datetime.combine(self.end, time(), tzinfo=zone),
        )

    def months(self) -> list[date]:
        """The first day of each month the period touches, in order (for charts by month)."""
        first = self.start.replace(day=1)
        result = []
        while first < self.end:
            result.append(first)
            first = _next_month(first)
        return result

    @property
    def last_day(self) -> date:
        """The period's last day (inclusive), as reports print it."""
        return date.fromordinal(self.end.toordinal() - 1)

    @property
    def key(self) -> str:
        """A short stable name for file names: 2026, 2026-T1, 2026-03."""
        if self.kind == PeriodKind.YEAR:
            return str(self.year)
        if self.kind == PeriodKind.TERM:
            return f"{self.year}-T{self.number}"
        return f"{self.year}-{self.number:02d}"


def year_period(year: int) -> ReportPeriod:
    """A calendar year."""
    _check_year(year)
    return ReportPeriod(PeriodKind.YEAR, year, None, date(year, 1, 1), date(year + 1, 1, 1))


def month_period(year: int, month: int) -> ReportPeriod:
    """A calendar month."""
    _check_year(year)
    if not 1 <= month <= 12:
        raise DomainError(N_("report.bad_month"))
    start = date(year, month, 1)
    return ReportPeriod(PeriodKind.MONTH, year, month, start, _next_month(start))


def term_period(year: int, term: int, *, term1_start: str, term2_start: str) -> ReportPeriod:
    """A school term of the school year starting in `year` (see the module docstring)."""
    _check_year(year)
    if term == 1:
        start, end = month_day(term1_start, year), month_day(term2_start, year + 1)
    elif term == 2:
        start, end = month_day(term2_start, year + 1), month_day(term1_start, year + 1)
    else:
        raise DomainError(N_("report.bad_term"))
    return ReportPeriod(PeriodKind.TERM, year, term, start, end)


def term_of(day: date, *, term1_start: str, term2_start: str) -> ReportPeriod:
    """The term a day falls in."""
    if day >= month_day(term1_start, day.year):
        return term_period(day.year, 1, term1_start=term1_start, term2_start=term2_start)
    if day >= month_day(term2_start, day.year):
        return term_period(day.year - 1, 2, term1_start=term1_start, term2_start=term2_start)
    return term_period(day.year - 1, 1, term1_start=term1_start, term2_start=term2_start)


def previous_month(today: date) -> ReportPeriod:
    """The month before `today`'s month (the monthly 月报 covers it)."""
    first = today.replace(day=1)
    last_of_previous = date.fromordinal(first.toordinal() - 1)
    return month_period(last_of_previous.year, last_of_previous.month)


def _check_year(year: int) -> None:
    if not 2000 <= year <= 2100:
        raise DomainError(N_("report.bad_year"))


def likely_period(
    period: ReportPeriod, today: date, *, term1_start: str, term2_start: str
) -> ReportPeriod | None:
    """For a period that starts after today (no figures yet: a typo, or the wrong year), the
    period of the same kind that holds today, the one the person most likely meant; None for a
    period already begun."""
    if period.start <= today:
        return None
    if period.kind == PeriodKind.YEAR:
        return year_period(today.year)
    if period.kind == PeriodKind.TERM:
        return term_of(today, term1_start=term1_start, term2_start=term2_start)
    return month_period(today.year, today.month)
