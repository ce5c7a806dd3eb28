"""Date rules of the union calendar: a rule is JSON-able data, its dates are pure date math.

Rule shapes (the "type" key picks one):

- ``{"type": "solar", "month": 3, "day": 8}``: a fixed solar date; 29 February has no
  occurrence in a non-leap year.
- ``{"type": "lunar", "month": 9, "day": 9, "leap": false}``: a lunar date ("leap" is optional;
  true means the leap month of that number, and a year without that leap month has none).
  Day 30 in a 29-day lunar month means the month's last day, day 29.
- ``{"type": "offset", "base": "spring_festival", "days": -21}``: days before (negative) or after
  a holiday in `HOLIDAYS` or another calendar entry (``"base": "entry:<key>"``, looked up with
  the `resolve` callback; an entry it cannot find has no occurrences).
- ``{"type": "nth_weekday", "month": 5, "weekday": 6, "n": 2}``: the n-th weekday (0 = Monday)
  of a month, n = -1 for the last; a month without a 5th has none that year.
- ``{"type": "monthly", "day": 1}``: that day of every month; past a short month's end, its last
  day (day 31 gives 30 April and 28 or 29 February).
- ``{"type": "daily"}``: every day (birthdays: the audience is chosen per day).
- ``{"type": "term_start", "term": 1, "days": -7}``: days before (negative) or after the start
  of a school term (学期); without "term", of each term's start. The starts are not stored in
  the rule but come from the settings TERM1_START and TERM2_START (passed in as `Terms`), so an
  organization's term entries follow a change of those settings; without `terms` such a rule
  has no occurrences.

Nothing here reads the clock or the settings: callers pass the year or the day, and the terms.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from lunar_python import Lunar, LunarMonth, LunarYear

Rule = dict[str, object]
Resolve = Callable[[str], Rule | None]

ENTRY_PREFIX = "entry:"
MAX_DEPTH = 5
# Base dates are looked up in the year before, the year of, and the year after the one asked
# for; a shift of at most 365 days cannot reach beyond those.
MAX_OFFSET_DAYS = 365
SEARCH_YEARS = 3

HOLIDAYS: dict[str, Rule] = {
    "new_year": {"type": "solar", "month": 1, "day": 1},
    "womens_day": {"type": "solar", "month": 3, "day": 8},
    "labour_day": {"type": "solar", "month": 5, "day": 1},
    "childrens_day": {"type": "solar", "month": 6, "day": 1},
    "teachers_day": {"type": "solar", "month": 9, "day": 10},
    "national_day": {"type": "solar", "month": 10, "day": 1},
    "spring_festival": {"type": "lunar", "month": 1, "day": 1},
    "lantern_festival": {"type": "lunar", "month": 1, "day": 15},
    "dragon_boat": {"type": "lunar", "month": 5, "day": 5},
    "mid_autumn": {"type": "lunar", "month": 8, "day": 15},
    "double_ninth": {"type": "lunar", "month": 9, "day": 9},
}


class RuleError(ValueError):
    """A malformed date rule; the message names the problem."""


@dataclass(frozen=True)
class Terms:
    """The month and day each school term starts (term 1 in autumn, term 2 in spring)."""

    first: tuple[int, int]
    second: tuple[int, int]

    @classmethod
    def from_month_days(cls, term1_start: str, term2_start: str) -> Terms:
        """From the settings' "MM-DD" values (TERM1_START, TERM2_START)."""

        def month_day(text: str) -> tuple[int, int]:
            try:
                month, day = (int(part) for part in text.split("-"))
                date(2001, month, day)  # refuses 02-30, and 02-29 (not in every year)
            except ValueError as error:
                raise RuleError(
                    f"a term cannot start on {text!r}: not a day of every year"
                ) from error
            return month, day

        return cls(month_day(term1_start), month_day(term2_start))

    def start(self, term: int) -> tuple[int, int]:
        """The month and day term 1 or 2 starts."""
        return self.first if term == 1 else self.second


@dataclass(frozen=True)
class _Context:
    """What a rule may refer to besides the date: other entries, and the terms."""

    resolve: Resolve | None
    terms: Terms | None


@dataclass(frozen=True)
class _Solar:
    month: int
    day: int


@dataclass(frozen=True)
class _Lunar:
    month: int
    day: int
    leap: bool


@dataclass(frozen=True)
class _Offset:
    base: str
    days: int


@dataclass(frozen=True)
class _NthWeekday:
    month: int
    weekday: int
    n: int


@dataclass(frozen=True)
class _Monthly:
    day: int


@dataclass(frozen=True)
class _Daily:
    pass


@dataclass(frozen=True)
class _TermStart:
    terms: tuple[int, ...]
    days: int


_Spec = _Solar | _Lunar | _Offset | _NthWeekday | _Monthly | _Daily | _TermStart

# type -> (required keys, optional keys), besides "type" itself
_KEYS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "solar": (frozenset({"month", "day"}), frozenset()),
    "lunar": (frozenset({"month", "day"}), frozenset({"leap"})),
    "offset": (frozenset({"base", "days"}), frozenset()),
    "nth_weekday": (frozenset({"month", "weekday", "n"}), frozenset()),
    "monthly": (frozenset({"day"}), frozenset()),
    "daily": (frozenset(), frozenset()),
    "term_start": (frozenset({"days"}), frozenset({"term"})),
}


def validate_rule(rule: dict[str, object]) -> None:
    """Raise RuleError unless `rule` is a well-formed date rule."""
    _parse(rule)


def occurrences(
    rule: dict[str, object],
    year: int,
    *,
    resolve: Resolve | None = None,
    terms: Terms | None = None,
) -> list[date]:
    """The rule's dates that fall in solar `year`, sorted."""
    return _dates(_parse(rule), year, _Context(resolve, terms), ())


def next_occurrence(
    rule: dict[str, object],
    after: date,
    *,
    resolve: Resolve | None = None,
    terms: Terms | None = None,
) -> date | None:
    """The first occurrence on or after `after`, looking at most into the next two years."""
    spec = _parse(rule)
    context = _Context(resolve, terms)
    for year in range(after.year, after.year + SEARCH_YEARS):
        for day in _dates(spec, year, context, ()):
            if day >= after:
                return day
    return None


def _parse(rule: object) -> _Spec:
    if not isinstance(rule, dict):
        raise RuleError(f"a rule must be a dict, got {type(rule).__name__}")
    kind = rule.get("type")
    if not isinstance(kind, str) or kind not in _KEYS:
        raise RuleError(f"unknown rule type {kind!r}")
    required, optional = _KEYS[kind]
    if missing := sorted(required - rule.keys()):
        raise RuleError(f"{kind} rule is missing {', '.join(missing)}")
    # A misspelt key would otherwise be ignored silently and the rule mean something else.
    if unknown := sorted(map(str, rule.keys() - required - optional - {"type"})):
        raise RuleError(f"{kind} rule has unknown keys {', '.join(unknown)}")

    def number(key: str, low: int, high: int) -> int:
        value = rule[key]
        # bool is an int subclass, but {"day": true} is a mistake, not day 1
        if not isinstance(value, int) or isinstance(value, bool):
            raise RuleError(f"{kind} rule: {key} must be an integer, got {value!r}")
        if not low <= value <= high:
            raise RuleError(f"{kind} rule: {key} must be {low}..{high}, got {value}")
        return value

    match kind:
        case "solar":
            month = number("month", 1, 12)
            # 2000 is a leap year, so 29 February is allowed and 31 April is not
            return _Solar(month, number("day", 1, calendar.monthrange(2000, month)[1]))
        case "lunar":
            leap = rule.get("leap", False)
            if not isinstance(leap, bool):
                raise RuleError(f"lunar rule: leap must be true or false, got {leap!r}")
            return _Lunar(number("month", 1, 12), number("day", 1, 30), leap)
        case "offset":
            base = rule["base"]
            if not isinstance(base, str) or not (
                base in HOLIDAYS or (base.startswith(ENTRY_PREFIX) and base != ENTRY_PREFIX)
            ):
                raise RuleError(f"offset rule: base {base!r} is neither a holiday nor entry:<key>")
            return _Offset(base, number("days", -MAX_OFFSET_DAYS, MAX_OFFSET_DAYS))
        case "nth_weekday":
            month, weekday, n = number("month", 1, 12), number("weekday", 0, 6), number("n", -1, 5)
            if n == 0:
                raise RuleError("nth_weekday rule: n must be 1..5 or -1 (the last), got 0")
            return _NthWeekday(month, weekday, n)
        case "monthly":
            return _Monthly(number("day", 1, 31))
        case "term_start":
            terms = (number("term", 1, 2),) if "term" in rule else (1, 2)
            return _TermStart(terms, number("days", -MAX_OFFSET_DAYS, MAX_OFFSET_DAYS))
        case _:
            return _Daily()


def _dates(spec: _Spec, year: int, context: _Context, chain: tuple[str, ...]) -> list[date]:
    match spec:
        case _Solar(month, day):
            if month == 2 and day == 29 and not calendar.isleap(year):
                return []
            return [date(year, month, day)]
        case _Lunar(month, day, leap):
            # A lunar year starts in late January or February, so lunar year-1 may still be
            # running in January: its 11th and 12th months can land in solar `year` too,
            # sometimes as a second occurrence besides lunar year's own in December.
            found = [
                _lunar_to_solar(lunar_year, month, day, leap) for lunar_year in (year - 1, year)
            ]
            return [solar for solar in found if solar is not None and solar.year == year]
        case _Offset(base, days):
            return _offset_dates(base, days, year, context, chain)
        case _NthWeekday(month, weekday, n):
            return _nth_weekday(year, month, weekday, n)
        case _Monthly(day):
            return [
                date(year, month, min(day, calendar.monthrange(year, month)[1]))
                for month in range(1, 13)
            ]
        case _Daily():
            start = date(year, 1, 1)
            return [start + timedelta(days=n) for n in range(366 if calendar.isleap(year) else 365)]
        case _TermStart(numbers, days):
            return _term_dates(numbers, days, year, context.terms)


def _term_dates(numbers: tuple[int, ...], days: int, year: int, terms: Terms | None) -> list[date]:
    if terms is None:  # the caller knows no terms: the same as an entry it cannot find
        return []
    shift = timedelta(days=days)
    shifted = (
        date(base_year, *terms.start(number)) + shift
        for number in numbers
        for base_year in (year - 1, year, year + 1)
    )
    return sorted(day for day in shifted if day.year == year)


def _offset_dates(
    base: str, days: int, year: int, context: _Context, chain: tuple[str, ...]
) -> list[date]:
    if base in chain:
        raise RuleError(f"offset cycle: {' -> '.join((*chain, base))}")
    if len(chain) >= MAX_DEPTH:
        raise RuleError(f"offset chain deeper than {MAX_DEPTH}: {' -> '.join((*chain, base))}")
    spec = _base_spec(base, context.resolve)
    if spec is None:
        return []
    shift = timedelta(days=days)
    shifted = (
        day + shift
        for base_year in (year - 1, year, year + 1)
        for day in _dates(spec, base_year, context, (*chain, base))
    )
    return sorted(day for day in shifted if day.year == year)


def _base_spec(base: str, resolve: Resolve | None) -> _Spec | None:
    if base in HOLIDAYS:
        return _parse(HOLIDAYS[base])
    # Without a resolver no entry is known: the same as an entry that was deleted.
    rule = resolve(base.removeprefix(ENTRY_PREFIX)) if resolve is not None else None
    if rule is None:
        return None
    try:
        return _parse(rule)
    except RuleError as error:
        raise RuleError(f"{base}: {error}") from error


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> list[date]:
    last = calendar.monthrange(year, month)[1]
    if n > 0:
        day = 1 + (weekday - date(year, month, 1).weekday()) % 7 + 7 * (n - 1)
    else:
        day = last - (date(year, month, last).weekday() - weekday) % 7
    return [date(year, month, day)] if day <= last else []


@lru_cache(maxsize=4096)
def _lunar_to_solar(lunar_year: int, month: int, day: int, leap: bool) -> date | None:
    if leap and LunarYear.fromYear(lunar_year).getLeapMonth() != month:
        return None
    signed = -month if leap else month  # lunar_python names a leap month by a negative number
    # lunar_python raises on day 30 of a 29-day month; the rule means the month's last day.
    last = LunarMonth.fromYm(lunar_year, signed).getDayCount()
    solar = Lunar.fromYmd(lunar_year, signed, min(day, last)).getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())
