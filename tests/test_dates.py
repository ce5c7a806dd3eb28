"""Date rules of the union calendar: hand-checked holiday tables and pure date math."""

from __future__ import annotations

import calendar
import itertools
import json
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.dates import HOLIDAYS, RuleError, next_occurrence, occurrences, validate_rule

# Published dates, checked against lunar_python and two independent converters
# (sxtwl's astronomical computation and lunardate's table).
SPRING_FESTIVAL = {
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
    2031: date(2031, 1, 23),
    2032: date(2032, 2, 11),
    2033: date(2033, 1, 31),
    2034: date(2034, 2, 19),
    2035: date(2035, 2, 8),
}
DOUBLE_NINTH = {
    2025: date(2025, 10, 29),
    2026: date(2026, 10, 18),
    2027: date(2027, 10, 8),
    2028: date(2028, 10, 26),
    2029: date(2029, 10, 16),
    2030: date(2030, 10, 5),
    2031: date(2031, 10, 24),
    2032: date(2032, 10, 12),
    2033: date(2033, 10, 1),  # the same day as National Day
    2034: date(2034, 10, 20),
    2035: date(2035, 10, 9),
}
YEARS = sorted(SPRING_FESTIVAL)


def offset(base: str, days: int) -> dict[str, object]:
    """An offset rule."""
    return {"type": "offset", "base": base, "days": days}


def lunar(month: int, day: int, **extra: object) -> dict[str, object]:
    """A lunar rule."""
    return {"type": "lunar", "month": month, "day": day, **extra}


def nth_weekday(month: int, weekday: int, n: int) -> dict[str, object]:
    """An nth_weekday rule."""
    return {"type": "nth_weekday", "month": month, "weekday": weekday, "n": n}


# --- holidays ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("year", "expected"), SPRING_FESTIVAL.items())
def test_spring_festival(year: int, expected: date) -> None:
    assert occurrences(HOLIDAYS["spring_festival"], year) == [expected]
    assert occurrences(lunar(1, 1), year) == [expected]


@pytest.mark.parametrize(("year", "expected"), DOUBLE_NINTH.items())
def test_double_ninth(year: int, expected: date) -> None:
    assert occurrences(HOLIDAYS["double_ninth"], year) == [expected]
    assert occurrences(lunar(9, 9, leap=False), year) == [expected]


def test_holidays_are_the_union_year() -> None:
    assert set(HOLIDAYS) == {
        "womens_day",
        "labour_day",
        "childrens_day",
        "teachers_day",
        "national_day",
        "new_year",
        "spring_festival",
        "lantern_festival",
        "dragon_boat",
        "mid_autumn",
        "double_ninth",
    }
    for rule in HOLIDAYS.values():
        validate_rule(rule)

    found = {name: occurrences(rule, 2025) for name, rule in HOLIDAYS.items()}
    assert found == {
        "new_year": [date(2025, 1, 1)],
        "womens_day": [date(2025, 3, 8)],
        "labour_day": [date(2025, 5, 1)],
        "childrens_day": [date(2025, 6, 1)],
        "teachers_day": [date(2025, 9, 10)],
        "national_day": [date(2025, 10, 1)],
        "spring_festival": [date(2025, 1, 29)],
        "lantern_festival": [date(2025, 2, 12)],
        "dragon_boat": [date(2025, 5, 31)],
        "mid_autumn": [date(2025, 10, 6)],
        "double_ninth": [date(2025, 10, 29)],
    }


# --- lunar dates ------------------------------------------------------------------------------


def test_lunar_day_30_of_a_29_day_month_is_day_29() -> None:
    # The 2nd lunar month of 2025 has 29 days; the 2nd of 2033 has 30.
    assert occurrences(lunar(2, 30), 2025) == occurrences(lunar(2, 29), 2025) == [date(2025, 3, 28)]
    assert occurrences(lunar(2, 30), 2033) == [date(2033, 3, 30)]
    assert occurrences(lunar(2, 29), 2033) == [date(2033, 3, 29)]


def test_leap_month_only_when_asked_and_only_in_a_year_that_has_it() -> None:
    # Lunar 2025 has a leap 6th month (闰六月); 2026 has no leap month.
    assert occurrences(lunar(6, 1), 2025) == [date(2025, 6, 25)]
    assert occurrences(lunar(6, 1, leap=True), 2025) == [date(2025, 7, 25)]
    assert occurrences(lunar(6, 30, leap=True), 2025) == [date(2025, 8, 22)]  # 29 days
    assert occurrences(lunar(6, 1, leap=True), 2026) == []


def test_lunar_leap_11th_month_of_2033_runs_into_january_2034() -> None:
    assert occurrences(lunar(11, 1, leap=True), 2033) == [date(2033, 12, 22)]
    assert occurrences(lunar(11, 29, leap=True), 2033) == []
    assert occurrences(lunar(11, 29, leap=True), 2034) == [date(2034, 1, 19)]


def test_late_lunar_dates_can_occur_twice_in_one_solar_year() -> None:
    # 腊月初一 of lunar 2026 falls in January 2027, that of lunar 2027 in December 2027,
    # and that of lunar 2028 in January 2029: solar 2028 has none.
    assert occurrences(lunar(12, 1), 2027) == [date(2027, 1, 8), date(2027, 12, 28)]
    assert occurrences(lunar(12, 1), 2028) == []
    assert occurrences(lunar(12, 1), 2029) == [date(2029, 1, 15)]


# --- offsets ----------------------------------------------------------------------------------


def test_21_days_before_spring_festival() -> None:
    assert occurrences(offset("spring_festival", -21), 2027) == [date(2027, 1, 16)]


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (2025, []),  # Spring Festival 2025 - 40 is 2024-12-20; 2026's is in 2026
        (2026, [date(2026, 1, 8), date(2026, 12, 28)]),  # for 2026 and for 2027
        (2027, [date(2027, 12, 17)]),  # for 2028
        (2028, []),  # 2029's lands on 2029-01-04
        (2029, [date(2029, 1, 4), date(2029, 12, 25)]),  # for 2029 and for 2030
    ],
)
def test_offsets_cross_the_year_boundary(year: int, expected: list[date]) -> None:
    assert occurrences(offset("spring_festival", -40), year) == expected


@pytest.mark.parametrize("year", YEARS)
def test_offset_after_a_holiday(year: int) -> None:
    # A lunar first month has at least 29 days, so 1/15 is always 1/1 + 14.
    lantern = occurrences(HOLIDAYS["lantern_festival"], year)
    assert occurrences(offset("spring_festival", 14), year) == lantern
    assert lantern == [SPRING_FESTIVAL[year] + timedelta(days=14)]


def test_offset_chains_through_entries() -> None:
    entries: dict[str, dict[str, object]] = {
        "aid_visits": offset("spring_festival", -14),
        "aid_reminder": offset("entry:aid_visits", -7),
    }
    rule = offset("entry:aid_reminder", -1)

    assert occurrences(rule, 2027, resolve=entries.get) == [date(2027, 1, 15)]
    assert next_occurrence(rule, date(2027, 1, 16), resolve=entries.get) == date(2028, 1, 4)


def test_offset_to_a_missing_entry_has_no_occurrences() -> None:
    def resolve(key: str) -> dict[str, object] | None:
        return None

    assert occurrences(offset("entry:gone", 3), 2027, resolve=resolve) == []
    assert next_occurrence(offset("entry:gone", 3), date(2027, 1, 1), resolve=resolve) is None
    assert occurrences(offset("entry:gone", 3), 2027) == []  # no resolver: no entries known


@pytest.mark.parametrize(
    "entries",
    [
        pytest.param({"a": offset("entry:a", 1)}, id="self"),
        pytest.param({"a": offset("entry:b", 1), "b": offset("entry:a", 1)}, id="two"),
        pytest.param(
            {"a": offset("entry:b", 1), "b": offset("entry:c", 1), "c": offset("entry:b", 1)},
            id="tail",
        ),
    ],
)
def test_offset_cycles_raise(entries: dict[str, dict[str, object]]) -> None:
    with pytest.raises(RuleError, match="cycle"):
        occurrences(offset("entry:a", 0), 2027, resolve=entries.get)
    with pytest.raises(RuleError, match="cycle"):
        next_occurrence(offset("entry:a", 0), date(2027, 1, 1), resolve=entries.get)


def test_offset_chains_stop_at_depth_5() -> None:
    entries = {f"e{n}": offset(f"entry:e{n + 1}", 1) for n in range(1, 5)}
    entries["e5"] = offset("spring_festival", 1)
    five = offset("entry:e2", 1)  # itself, e2, e3, e4, e5
    six = offset("entry:e1", 1)

    assert occurrences(five, 2027, resolve=entries.get) == [date(2027, 2, 11)]
    with pytest.raises(RuleError, match="deeper than 5"):
        occurrences(six, 2027, resolve=entries.get)


def test_a_malformed_entry_is_named() -> None:
    entries: dict[str, dict[str, object]] = {"bad": {"type": "solar", "month": 13, "day": 1}}
    with pytest.raises(RuleError, match=r"entry:bad: .*month must be 1\.\.12"):
        occurrences(offset("entry:bad", 1), 2027, resolve=entries.get)


# --- weekdays, months, days -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "year", "expected"),
    [
        pytest.param(nth_weekday(5, 6, 2), 2025, [date(2025, 5, 11)], id="mothers-day-2025"),
        pytest.param(nth_weekday(5, 6, 2), 2026, [date(2026, 5, 10)], id="mothers-day-2026"),
        pytest.param(nth_weekday(1, 2, 1), 2025, [date(2025, 1, 1)], id="first-is-the-1st"),
        pytest.param(nth_weekday(1, 4, -1), 2025, [date(2025, 1, 31)], id="last-is-the-31st"),
        pytest.param(nth_weekday(5, 0, -1), 2025, [date(2025, 5, 26)], id="last-monday"),
        pytest.param(nth_weekday(2, 6, 5), 2032, [date(2032, 2, 29)], id="fifth-on-29-feb"),
        pytest.param(nth_weekday(2, 0, 5), 2025, [], id="no-fifth-monday"),
        pytest.param(nth_weekday(2, 6, 5), 2033, [], id="no-fifth-sunday"),
    ],
)
def test_nth_weekday(rule: dict[str, object], year: int, expected: list[date]) -> None:
    assert occurrences(rule, year) == expected


def test_monthly_31_is_the_last_day_of_short_months() -> None:
    found = occurrences({"type": "monthly", "day": 31}, 2025)
    assert found == [date(2025, m, calendar.monthrange(2025, m)[1]) for m in range(1, 13)]
    assert found[1] == date(2025, 2, 28)
    assert found[3] == date(2025, 4, 30)
    assert occurrences({"type": "monthly", "day": 31}, 2028)[1] == date(2028, 2, 29)
    assert occurrences({"type": "monthly", "day": 1}, 2025) == [
        date(2025, m, 1) for m in range(1, 13)
    ]


@pytest.mark.parametrize(
    ("year", "expected"),
    [(2028, [date(2028, 2, 29)]), (2025, []), (2100, []), (2000, [date(2000, 2, 29)])],
)
def test_solar_29_february(year: int, expected: list[date]) -> None:
    assert occurrences({"type": "solar", "month": 2, "day": 29}, year) == expected


@pytest.mark.parametrize(("year", "count"), [(2025, 365), (2028, 366), (2100, 365)])
def test_daily(year: int, count: int) -> None:
    found = occurrences({"type": "daily"}, year)
    assert len(found) == len(set(found)) == count
    assert found[0] == date(year, 1, 1)
    assert found[-1] == date(year, 12, 31)
    assert found == sorted(found)


# --- next occurrence --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "after", "expected"),
    [
        pytest.param(HOLIDAYS["spring_festival"], date(2025, 12, 31), date(2026, 2, 17), id="sf"),
        pytest.param(HOLIDAYS["spring_festival"], date(2026, 2, 17), date(2026, 2, 17), id="same"),
        pytest.param(HOLIDAYS["spring_festival"], date(2026, 2, 18), date(2027, 2, 6), id="day"),
        pytest.param(HOLIDAYS["new_year"], date(2025, 12, 31), date(2026, 1, 1), id="new-year"),
        pytest.param(
            offset("spring_festival", -40), date(2027, 12, 18), date(2029, 1, 4), id="skip-2028"
        ),
        pytest.param({"type": "daily"}, date(2025, 12, 31), date(2025, 12, 31), id="daily"),
        pytest.param(
            {"type": "monthly", "day": 31}, date(2025, 12, 31), date(2025, 12, 31), id="monthly"
        ),
        pytest.param(
            {"type": "solar", "month": 2, "day": 29}, date(2026, 1, 1), date(2028, 2, 29), id="29"
        ),
        # The search covers the year of `after` and the next two: 2025, 2026, 2027.
        pytest.param({"type": "solar", "month": 2, "day": 29}, date(2025, 3, 1), None, id="none"),
    ],
)
def test_next_occurrence(rule: dict[str, object], after: date, expected: date | None) -> None:
    assert next_occurrence(rule, after) == expected


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        pytest.param({"type": "weekly", "day": 1}, "unknown rule type 'weekly'", id="type"),
        pytest.param({"month": 3, "day": 8}, "unknown rule type None", id="no-type"),
        pytest.param({"type": "solar", "month": 13, "day": 1}, "month must be 1..12", id="m13"),
        pytest.param({"type": "solar", "month": 3, "day": 0}, "day must be 1..31", id="day0"),
        pytest.param({"type": "solar", "month": 4, "day": 31}, "day must be 1..30", id="apr31"),
        pytest.param({"type": "solar", "month": 2, "day": 30}, "day must be 1..29", id="feb30"),
        pytest.param(lunar(1, 31), "day must be 1..30", id="lunar-day31"),
        pytest.param(lunar(0, 1), "month must be 1..12", id="lunar-m0"),
        pytest.param(lunar(1, 1, leap="no"), "leap must be true or false", id="leap"),
        pytest.param(nth_weekday(5, 7, 1), "weekday must be 0..6", id="weekday7"),
        pytest.param(nth_weekday(5, 6, 0), "n must be 1..5 or -1", id="n0"),
        pytest.param(nth_weekday(5, 6, 6), "n must be -1..5", id="n6"),
        pytest.param(nth_weekday(5, 6, -2), "n must be -1..5", id="n-2"),
        pytest.param({"type": "monthly", "day": 32}, "day must be 1..31", id="monthly32"),
        pytest.param({"type": "monthly", "day": 0}, "day must be 1..31", id="monthly0"),
        pytest.param({"type": "solar", "month": "3", "day": 8}, "integer, got '3'", id="str"),
        pytest.param({"type": "solar", "month": 3.0, "day": 8}, "integer, got 3.0", id="float"),
        pytest.param({"type": "monthly", "day": True}, "integer, got True", id="bool"),
        pytest.param({"type": "solar", "month": 3}, "solar rule is missing day", id="missing"),
        pytest.param({"type": "offset", "days": 1}, "missing base", id="missing-base"),
        pytest.param({"type": "daily", "day": 1}, "unknown keys day", id="extra-key"),
        pytest.param({"type": "solar", "month": 3, "dya": 8}, "missing day", id="misspelt-key"),
        pytest.param(offset("easter", 1), "base 'easter'", id="unknown-holiday"),
        pytest.param(offset("entry:", 1), "base 'entry:'", id="empty-entry"),
        pytest.param(offset("spring_festival", 366), "days must be -365..365", id="far"),
        pytest.param(
            {"type": "offset", "base": "spring_festival", "days": 1.5},
            "days must be an integer",
            id="frac",
        ),
    ],
)
def test_validate_rule_rejects(rule: dict[str, object], message: str) -> None:
    with pytest.raises(RuleError, match=message.replace(".", r"\.")):
        validate_rule(rule)
    with pytest.raises(RuleError):
        occurrences(rule, 2027)


def test_validate_rule_rejects_what_is_not_a_dict() -> None:
    not_a_rule: Any = ["solar", 3, 8]
    with pytest.raises(RuleError, match="must be a dict"):
        validate_rule(not_a_rule)


def test_validate_rule_accepts_json_round_trips() -> None:
    for rule in [
        {"type": "solar", "month": 2, "day": 29},
        lunar(9, 9, leap=False),
        offset("entry:aid_visits", -365),
        nth_weekday(5, 6, -1),
        {"type": "monthly", "day": 31},
        {"type": "daily"},
    ]:
        validate_rule(json.loads(json.dumps(rule)))


# --- properties -------------------------------------------------------------------------------

SOLAR_RULES = st.integers(1, 12).flatmap(
    lambda month: st.fixed_dictionaries(
        {
            "type": st.just("solar"),
            "month": st.just(month),
            "day": st.integers(1, calendar.monthrange(2000, month)[1]),
        }
    )
)
LUNAR_RULES = st.fixed_dictionaries(
    {"type": st.just("lunar"), "month": st.integers(1, 12), "day": st.integers(1, 30)},
    optional={"leap": st.booleans()},
)
NTH_WEEKDAY_RULES = st.fixed_dictionaries(
    {
        "type": st.just("nth_weekday"),
        "month": st.integers(1, 12),
        "weekday": st.integers(0, 6),
        "n": st.sampled_from([-1, 1, 2, 3, 4, 5]),
    }
)
MONTHLY_RULES = st.fixed_dictionaries({"type": st.just("monthly"), "day": st.integers(1, 31)})
OFFSET_RULES = st.fixed_dictionaries(
    {
        "type": st.just("offset"),
        "base": st.sampled_from(sorted(HOLIDAYS)),
        "days": st.integers(-365, 365),
    }
)
RULES = st.one_of(SOLAR_RULES, LUNAR_RULES, NTH_WEEKDAY_RULES, MONTHLY_RULES, OFFSET_RULES)


@settings(deadline=None)  # timing is not under test; the first lunar conversions are slower
@given(rule=RULES, year=st.integers(2025, 2035))
def test_occurrences_lie_in_their_year_and_are_their_own_next(
    rule: dict[str, object], year: int
) -> None:
    validate_rule(rule)
    found = occurrences(rule, year)

    assert found == sorted(set(found))
    assert all(day.year == year for day in found)
    for day in found:
        assert next_occurrence(rule, day) == day
    # nothing is skipped between one occurrence and the next, nor after the last
    for earlier, later in itertools.pairwise(found):
        assert next_occurrence(rule, earlier + timedelta(days=1)) == later
    if found:
        beyond = next_occurrence(rule, found[-1] + timedelta(days=1))
        assert beyond is None or beyond.year > year
