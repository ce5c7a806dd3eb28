"""Report periods: years, school terms and months as local days."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from bot.settings import Settings
from models.errors import DomainError
from models.reports.period import (
    PeriodKind,
    ReportPeriod,
    month_period,
    previous_month,
    term_of,
    term_period,
    year_period,
)

TERMS = {"term1_start": "09-01", "term2_start": "02-20"}


def test_a_year_runs_from_new_year_to_new_year() -> None:
    period = year_period(2026)
    assert (period.start, period.end, period.last_day) == (
        date(2026, 1, 1),
        date(2027, 1, 1),
        date(2026, 12, 31),
    )
    assert len(period.months()) == 12 and period.key == "2026"


def test_terms_cover_the_school_year_without_a_gap() -> None:
    first = term_period(2026, 1, **TERMS)
    second = term_period(2026, 2, **TERMS)
    assert (first.start, first.end) == (date(2026, 9, 1), date(2027, 2, 20))
    assert (second.start, second.end) == (date(2027, 2, 20), date(2027, 9, 1))
    assert first.kind == PeriodKind.TERM and second.key == "2026-T2"
    assert [month.month for month in first.months()] == [9, 10, 11, 12, 1, 2]


@pytest.mark.parametrize(
    ("day", "year", "term"),
    [(date(2026, 9, 1), 2026, 1), (date(2027, 1, 15), 2026, 1), (date(2027, 2, 20), 2026, 2),
     (date(2027, 8, 31), 2026, 2), (date(2026, 3, 1), 2025, 2)],
)  # fmt: skip
def test_the_term_a_day_falls_in(day: date, year: int, term: int) -> None:
    period = term_of(day, **TERMS)
    assert (period.year, period.number) == (year, term)
    assert period.start <= day < period.end


def test_months_and_the_month_before() -> None:
    assert month_period(2026, 12).end == date(2027, 1, 1)
    assert previous_month(date(2027, 1, 1)).key == "2026-12"
    assert previous_month(date(2026, 3, 31)).key == "2026-02"


@pytest.mark.parametrize(
    "bad",
    [
        lambda: month_period(2026, 13),
        lambda: term_period(2026, 3, **TERMS),
        lambda: year_period(1999),
    ],
)
def test_impossible_periods_are_refused(bad: Callable[[], ReportPeriod]) -> None:
    with pytest.raises(DomainError):
        bad()


def test_term_settings_are_checked() -> None:
    assert Settings(term1_start="08-25").term1_start == "08-25"
    for bad in ("13-01", "02-30", "02-29", "9-1"):
        with pytest.raises(ValueError, match=r"TERM1_START|29 February|String should match"):
            Settings(term1_start=bad)
