"""Working days in mainland China, as pure date math (the 公示期 of a public notice).

A working day is a Monday to Friday that is not an official public holiday. The holidays are
the days the State Council's rules (as revised in November 2024, in force from 2025) name:

- 元旦: 1 January;
- 春节: the lunar New Year's Eve (除夕, the last day of the twelfth lunar month) and lunar
  1-1 to 1-3 (four days);
- 清明节: the day of the solar term 清明 (4 or 5 April), computed with lunar_python;
- 劳动节: 1 and 2 May;
- 端午节: lunar 5-5;
- 中秋节: lunar 8-15;
- 国庆节: 1 to 3 October.

What cannot be computed: each year the State Council announces its make-up arrangements (调休):
weekdays added to a holiday (so 国庆 is usually seven days off, 春节 eight or nine) and weekend
days declared working days. Those are not here. When a period crosses such a week the committee
types the end date itself instead of a number of working days.

The day a notice is posted does not count: the period starts the next day (as the Civil Code,
article 201, counts a period in days), so a notice posted on a Friday afternoon gives the staff
five whole working days.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from lunar_python import Lunar

DEFAULT_WORKING_DAYS = 5
MAX_WORKING_DAYS = 30


def _lunar(year: int, month: int, day: int) -> date:
    solar = Lunar.fromYmd(year, month, day).getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def _new_years_eve(lunar_year: int) -> date:
    """The last day of the lunar year `lunar_year` (除夕: 12-29 in a short twelfth month)."""
    return _lunar(lunar_year + 1, 1, 1) - timedelta(days=1)


def _qingming(year: int) -> date:
    table = Lunar.fromYmd(year, 1, 1).getJieQiTable()
    solar = table["清明"]
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


@lru_cache(maxsize=256)
def holidays(year: int) -> dict[date, str]:
    """The official public holidays of a solar year: day -> its holiday's name (in Chinese)."""
    days: dict[date, str] = {date(year, 1, 1): "元旦"}
    # The lunar year that begins in this solar year, and the one before (its 除夕 may fall in
    # this January or February too).
    for lunar_year in (year - 1, year):
        eve = _new_years_eve(lunar_year)
        for offset in range(4):
            day = eve + timedelta(days=offset)
            if day.year == year:
                days[day] = "春节"
    days[_qingming(year)] = "清明节"
    days[date(year, 5, 1)] = days[date(year, 5, 2)] = "劳动节"
    days[_lunar(year, 5, 5)] = "端午节"
    days[_lunar(year, 8, 15)] = "中秋节"
    for day_number in (1, 2, 3):
        days[date(year, 10, day_number)] = "国庆节"
    return days


def holiday_name(day: date) -> str | None:
    """The holiday `day` is part of, or None."""
    return holidays(day.year).get(day)


def is_working_day(day: date) -> bool:
    """Monday to Friday, and not an official public holiday."""
    return day.weekday() < 5 and day not in holidays(day.year)


def add_working_days(start: date, days: int) -> date:
    """The last day of a period of `days` working days counted from the day after `start`."""
    if days < 1:
        raise ValueError("a period has at least one working day")
    day = start
    left = days
    while left:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def next_working_day(day: date) -> date:
    """The first working day after `day` (where a period posted on `day` starts)."""
    day += timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def working_days_between(first: date, last: date) -> int:
    """How many working days from `first` to `last`, both included."""
    count = 0
    day = first
    while day <= last:
        if is_working_day(day):
            count += 1
        day += timedelta(days=1)
    return count
