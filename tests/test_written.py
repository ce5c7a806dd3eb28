"""Dates, times, counts and money as people write them (models/written.py), with a fixed today:
Friday 4 December 2026, 10:00 in Asia/Shanghai."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from models import written
from scheduler.rule_text import parse_rule_text

ZONE = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 12, 4)  # a Friday
NOW = datetime(2026, 12, 4, 10, 0, tzinfo=ZONE)


def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A local moment in Asia/Shanghai."""
    return datetime(year, month, day, hour, minute, tzinfo=ZONE)


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("20", 20),
        ("２０", 20),
        ("十", 10),
        ("十五", 15),
        ("二十", 20),
        ("两千", 2000),
        ("一百零五", 105),
        ("廿三", 23),
        ("一千二", 1200),
        ("两万三", 23000),
        ("二〇二七", 2027),
        ("3千5百", 3500),
        ("20万", 200000),
        ("一万亿", 1_000_000_000_000),
    ],
)
def test_numbers(typed: str, value: int) -> None:
    assert written.number(typed) == value


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("20人", 20),
        ("二十人", 20),
        ("20个", 20),
        ("20名", 20),
        ("20位", 20),
        ("共20人", 20),
        ("２０個", 20),
        ("50岁", 50),
    ],
)
def test_counts(typed: str, value: int) -> None:
    assert written.count(typed, low=1, high=10000) == value


@pytest.mark.parametrize(
    ("typed", "fen"),
    [
        ("250", 25000),
        ("三千元", 300000),
        ("3千元", 300000),
        ("3000块", 300000),
        ("3000块钱", 300000),
        ("¥3,000", 300000),
        ("￥３０００", 300000),
        ("3000.50元", 300050),
        ("1.5万元", 1500000),
        ("两万元", 2000000),
        ("人民币500元", 50000),
        ("五百塊", 50000),
    ],
)
def test_money(typed: str, fen: int) -> None:
    assert written.money(typed) == fen


# Event days look back (an aid event already happened); start days look forward.
@pytest.mark.parametrize(
    ("typed", "past", "future"),
    [
        ("今天", date(2026, 12, 4), date(2026, 12, 4)),
        ("明天", date(2026, 12, 5), date(2026, 12, 5)),
        ("后天", date(2026, 12, 6), date(2026, 12, 6)),
        ("後天", date(2026, 12, 6), date(2026, 12, 6)),
        ("昨天", date(2026, 12, 3), date(2026, 12, 3)),
        ("前天", date(2026, 12, 2), date(2026, 12, 2)),
        ("大前天", date(2026, 12, 1), date(2026, 12, 1)),
        ("下周五", date(2026, 12, 11), date(2026, 12, 11)),
        ("下週五", date(2026, 12, 11), date(2026, 12, 11)),
        ("本周五", date(2026, 12, 4), date(2026, 12, 4)),
        ("这周一", date(2026, 11, 30), date(2026, 11, 30)),
        ("上周三", date(2026, 11, 25), date(2026, 11, 25)),
        ("周一", date(2026, 11, 30), date(2026, 12, 7)),
        ("星期五", date(2026, 12, 4), date(2026, 12, 4)),
        ("礼拜天", date(2026, 11, 29), date(2026, 12, 6)),
        ("禮拜五", date(2026, 12, 4), date(2026, 12, 4)),
        ("下个月5号", date(2027, 1, 5), date(2027, 1, 5)),
        ("5号", date(2026, 11, 5), date(2026, 12, 5)),
        ("3日", date(2026, 12, 3), date(2027, 1, 3)),
        ("2027年3月1日", date(2027, 3, 1), date(2027, 3, 1)),
        ("2027-03-01", date(2027, 3, 1), date(2027, 3, 1)),
        ("2027/3/1", date(2027, 3, 1), date(2027, 3, 1)),
        ("3/1", date(2026, 3, 1), date(2027, 3, 1)),
        ("3月1号", date(2026, 3, 1), date(2027, 3, 1)),
        ("三月一日", date(2026, 3, 1), date(2027, 3, 1)),
        ("十二月五日", date(2025, 12, 5), date(2026, 12, 5)),
        ("11-28", date(2026, 11, 28), date(2027, 11, 28)),
        ("二〇二七年三月一日", date(2027, 3, 1), date(2027, 3, 1)),
        ("端午节", date(2026, 6, 19), date(2027, 6, 9)),
        ("端午", date(2026, 6, 19), date(2027, 6, 9)),
        ("中秋节", date(2026, 9, 25), date(2027, 9, 15)),
        ("重阳节", date(2026, 10, 18), date(2027, 10, 8)),
        ("春节", date(2026, 2, 17), date(2027, 2, 6)),
        ("除夕", date(2026, 2, 16), date(2027, 2, 5)),
        ("元宵节", date(2026, 3, 3), date(2027, 2, 20)),
        ("元旦", date(2026, 1, 1), date(2027, 1, 1)),
        ("国庆节", date(2026, 10, 1), date(2027, 10, 1)),
        ("國慶", date(2026, 10, 1), date(2027, 10, 1)),
        ("教师节", date(2026, 9, 10), date(2027, 9, 10)),
        ("三八节", date(2026, 3, 8), date(2027, 3, 8)),
        ("妇女节", date(2026, 3, 8), date(2027, 3, 8)),
        ("劳动节", date(2026, 5, 1), date(2027, 5, 1)),
        ("五一", date(2026, 5, 1), date(2027, 5, 1)),
        ("儿童节", date(2026, 6, 1), date(2027, 6, 1)),
        ("2027年端午节", date(2027, 6, 9), date(2027, 6, 9)),
        ("农历五月初五", date(2026, 6, 19), date(2027, 6, 9)),
        ("農曆八月十五", date(2026, 9, 25), date(2027, 9, 15)),
        ("农历八月十五", date(2026, 9, 25), date(2027, 9, 15)),
        ("腊月二十三", date(2026, 2, 10), date(2027, 1, 30)),
        ("臘月二十三", date(2026, 2, 10), date(2027, 1, 30)),
        ("正月十五", date(2026, 3, 3), date(2027, 2, 20)),
        ("农历十月初一", date(2026, 11, 9), date(2027, 10, 29)),
        ("tomorrow", date(2026, 12, 5), date(2026, 12, 5)),
        ("yesterday", date(2026, 12, 3), date(2026, 12, 3)),
        ("next friday", date(2026, 12, 11), date(2026, 12, 11)),
        ("Dec 25", date(2025, 12, 25), date(2026, 12, 25)),
    ],
)
def test_days(typed: str, past: date, future: date) -> None:
    assert written.day(typed, today=TODAY, direction="past") == past
    assert written.day(typed, today=TODAY, direction="future") == future


@pytest.mark.parametrize(
    ("typed", "at"),
    [
        ("14:30", time(14, 30)),
        ("８:３０", time(8, 30)),
        ("早上8点", time(8)),
        ("上午九点", time(9)),
        ("下午三点半", time(15, 30)),
        ("下午三點半", time(15, 30)),
        ("晚上7点一刻", time(19, 15)),
        ("中午12点", time(12)),
        ("中午1点", time(13)),
        ("14点30分", time(14, 30)),
        ("十点十五", time(10, 15)),
        ("八点整", time(8)),
        ("2:30pm", time(14, 30)),
        ("3 pm", time(15)),
        ("下午3:30", time(15, 30)),
        ("凌晨5点", time(5)),
    ],
)
def test_times(typed: str, at: time) -> None:
    assert written.time_of_day(typed) == at


@pytest.mark.parametrize(
    ("typed", "moment"),
    [
        ("下周五下午三点半", at(2026, 12, 11, 15, 30)),
        ("下周五 下午三点半", at(2026, 12, 11, 15, 30)),
        ("12月5日14点", at(2026, 12, 5, 14)),
        ("12月5日 14:00", at(2026, 12, 5, 14)),
        ("2026-12-05 14:00", at(2026, 12, 5, 14)),
        ("明天上午9点", at(2026, 12, 5, 9)),
        ("12-11 4:00", at(2026, 12, 11, 4)),
        ("周二十点", at(2026, 12, 8, 10)),
        ("端午节上午9点", at(2027, 6, 9, 9)),
        ("next friday 3pm", at(2026, 12, 11, 15)),
        ("下午3点", at(2026, 12, 4, 15)),
        # a month and day without a year, earlier today: next year's (as before)
        ("12-4 9:00", at(2027, 12, 4, 9)),
    ],
)
def test_moments(typed: str, moment: datetime) -> None:
    assert written.moment(typed, now=NOW, zone=ZONE) == moment


@pytest.mark.parametrize(
    ("typed", "first", "last"),
    [
        ("2027年3月1日到3月15日", date(2027, 3, 1), date(2027, 3, 15)),
        ("3月1日-3月15日", date(2027, 3, 1), date(2027, 3, 15)),
        ("3月1日至15日", date(2027, 3, 1), date(2027, 3, 15)),
        ("2027-03-01 ~ 2027-03-15", date(2027, 3, 1), date(2027, 3, 15)),
        ("2027-03-01-2027-03-15", date(2027, 3, 1), date(2027, 3, 15)),
        ("12月20日至1月10日", date(2026, 12, 20), date(2027, 1, 10)),
        ("3-1 to 3-15", date(2027, 3, 1), date(2027, 3, 15)),
    ],
)
def test_windows(typed: str, first: date, last: date) -> None:
    assert written.window(typed, today=TODAY) == (first, last)


@pytest.mark.parametrize(
    ("typed", "rule"),
    [
        ("端午节", {"type": "offset", "base": "dragon_boat", "days": 0}),
        ("除夕", {"type": "offset", "base": "spring_festival", "days": -1}),
        ("除夕-1", {"type": "offset", "base": "spring_festival", "days": -2}),
        ("农历五月初五", {"type": "lunar", "month": 5, "day": 5}),
        ("腊月二十三", {"type": "lunar", "month": 12, "day": 23}),
        ("三月八日", {"type": "solar", "month": 3, "day": 8}),
    ],
)
def test_yearly_rules_read_holidays_and_lunar_dates_in_characters(
    typed: str, rule: dict[str, object]
) -> None:
    assert parse_rule_text(typed) == rule


@pytest.mark.parametrize(
    "typed", ["", "abc", "2月30日", "13月1日", "农历十三月初一", "周八", "32号"]
)
def test_unreadable_or_impossible_days_are_refused(typed: str) -> None:
    assert written.day(typed, today=TODAY, direction="past") is None


@pytest.mark.parametrize("typed", ["25点", "24:00", "14:60", "上午15点", "晚上12点", "abc", "9"])
def test_impossible_times_are_refused(typed: str) -> None:
    assert written.time_of_day(typed) is None


@pytest.mark.parametrize("typed", ["明天", "2月30日 14:00", "下周五25点", "abc"])
def test_a_moment_needs_a_real_day_and_time(typed: str) -> None:
    assert written.moment(typed, now=NOW, zone=ZONE) is None


@pytest.mark.parametrize(
    "typed",
    [
        *("-5", "负100元", "一万亿元", "99999999999999", "1.234", "abc", "①", "5²", "元"),
        *("2,5", "30,00", "2 50", "1234,567"),  # commas between thousands only; no split digits
    ],
)
def test_nonsense_negative_and_overflowing_money_is_refused(typed: str) -> None:
    assert written.money(typed) is None


@pytest.mark.parametrize(
    "typed", ["0人", "10001", "-3", "二十一万人", "十百", "abc", "", "20 30", "一" * 4301]
)
def test_counts_outside_the_range_are_refused(typed: str) -> None:
    assert written.count(typed, low=1, high=10000) is None


@pytest.mark.parametrize("typed", ["2027-01-03", "3月1日", "abc", "2027-03-01 至 2027-02-30"])
def test_a_window_needs_two_real_days(typed: str) -> None:
    assert written.window(typed, today=TODAY) is None


@pytest.mark.parametrize("typed", ["3,000", "1,234,567", "¥3,000", "3,000.50元"])
def test_thousands_commas_are_read(typed: str) -> None:
    assert written.money(typed) == int(typed.strip("¥元").replace(",", "").replace(".", "")) * (
        1 if "." in typed else 100
    )
