"""Reading date rules the way committee members type them."""

from __future__ import annotations

import pytest

from scheduler.dates import RuleError
from scheduler.rule_text import parse_rule_text


@pytest.mark.parametrize(
    ("typed", "rule"),
    [
        ("3-12", {"type": "solar", "month": 3, "day": 12}),
        ("3月12日", {"type": "solar", "month": 3, "day": 12}),
        (" 12 / 1 ", {"type": "solar", "month": 12, "day": 1}),
        ("农历8-15", {"type": "lunar", "month": 8, "day": 15}),
        ("農曆 8月15日", {"type": "lunar", "month": 8, "day": 15}),
        ("Lunar 9-9", {"type": "lunar", "month": 9, "day": 9}),
        ("春节-21", {"type": "offset", "base": "spring_festival", "days": -21}),
        ("春节 + 7 天", {"type": "offset", "base": "spring_festival", "days": 7}),
        ("重阳-3", {"type": "offset", "base": "double_ninth", "days": -3}),
        ("mid_autumn -1", {"type": "offset", "base": "mid_autumn", "days": -1}),
        ("每月1", {"type": "monthly", "day": 1}),
        ("每月15号", {"type": "monthly", "day": 15}),
        ("monthly 31", {"type": "monthly", "day": 31}),
        ("5月第2个周日", {"type": "nth_weekday", "month": 5, "weekday": 6, "n": 2}),
        ("11月最后一个星期五", {"type": "nth_weekday", "month": 11, "weekday": 4, "n": -1}),
        ("nth 9 2 mon", {"type": "nth_weekday", "month": 9, "weekday": 0, "n": 2}),
    ],
)
def test_typed_dates_become_rules(typed: str, rule: dict[str, object]) -> None:
    assert parse_rule_text(typed) == rule


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "明天",
        "13-1",
        "2-30",
        "农历13-1",
        "每月32",
        "圣诞节-1",
        "春节-400",
        "5月第6个周日",
        "3-8-1",
    ],
)
def test_unreadable_or_impossible_dates_are_refused(typed: str) -> None:
    with pytest.raises(RuleError):
        parse_rule_text(typed)
