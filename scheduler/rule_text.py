"""Date rules typed the way committee members write dates, and shown the same way.

3-8 / 3月8日 / 三月八日   solar date          农历8-15 / 农历五月初五 / 腊月二十三   lunar date
端午节 / 除夕            a holiday by name (models.written.HOLIDAY_NAMES)
春节-21 / 春节+7         days from a holiday  spring_festival -21     (English holiday names)
每月1 / monthly 1       a day of every month
5月第2个周日 / nth 5 2 sun   the n-th weekday of a month ("最后一个" / "last" for the last)
开学-7 / 第一学期开学+3 / term start -7 / term 1 start   days from a term's start (settings)
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.i18n import Translator
from models.written import holiday_base, lunar_month_day, month_day
from scheduler.dates import ENTRY_PREFIX, HOLIDAYS, RuleError, validate_rule

_WEEKDAYS = {
    "一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6,
    "mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6,
}  # fmt: skip

_SOLAR = re.compile(r"^(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_LUNAR = re.compile(r"^(?:农历|農曆|lunar)\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$", re.IGNORECASE)
_OFFSET = re.compile(r"^(\S+?)\s*([+-])\s*(\d{1,3})\s*天?$")
_MONTHLY = re.compile(r"^(?:每月|monthly)\s*(\d{1,2})\s*[日号號]?$", re.IGNORECASE)
_NTH_ZH = re.compile(
    r"^(\d{1,2})\s*月\s*(?:第\s*(\d)\s*个|第\s*(\d)\s*個|(最后一个|最後一個))\s*(?:周|星期|週)([一二三四五六日天])$"
)
_TERM_ZH = re.compile(
    r"^(?:每\s*(?:学期|學期)|第\s*([一二12])\s*(?:学期|學期))?\s*(?:开学|開學)"
    r"\s*(?:([+-])\s*(\d{1,3})\s*天?)?$"
)
_TERM_EN = re.compile(r"^term\s*([12])?\s*start\s*(?:([+-])\s*(\d{1,3}))?$", re.IGNORECASE)
_NTH_EN = re.compile(r"^nth\s+(\d{1,2})\s+(-?\d)\s+(mon|tue|wed|thu|fri|sat|sun)$", re.IGNORECASE)


def parse_rule_text(text: str) -> dict[str, object]:
    """A date rule from what a person typed; RuleError if it cannot be read or is impossible."""
    value = " ".join(text.strip().split())
    rule = _parse(value)
    if rule is None:
        raise RuleError(f"cannot read {value!r}")
    validate_rule(rule)
    return rule


def _parse(value: str) -> dict[str, object] | None:
    if match := _LUNAR.match(value):
        return {"type": "lunar", "month": int(match[1]), "day": int(match[2])}
    if match := _SOLAR.match(value):
        return {"type": "solar", "month": int(match[1]), "day": int(match[2])}
    if base := holiday_base(value):  # 端午节: the holiday itself, every year
        return {"type": "offset", "base": base[0], "days": base[1]}
    if lunar := lunar_month_day(value):  # 农历五月初五, 腊月二十三, 闰四月初一
        month, day, leap = lunar
        return {"type": "lunar", "month": month, "day": day} | ({"leap": True} if leap else {})
    if (solar := month_day(value)) and solar[0] is None:  # 三月八日
        return {"type": "solar", "month": solar[1], "day": solar[2]}
    if match := _MONTHLY.match(value):
        return {"type": "monthly", "day": int(match[1])}
    if match := _NTH_ZH.match(value):
        n = -1 if match[4] else int(match[2] or match[3])
        return {
            "type": "nth_weekday",
            "month": int(match[1]),
            "weekday": _WEEKDAYS[match[5]],
            "n": n,
        }
    if match := _NTH_EN.match(value):
        weekday = _WEEKDAYS[match[3].lower()]
        return {
            "type": "nth_weekday",
            "month": int(match[1]),
            "weekday": weekday,
            "n": int(match[2]),
        }
    if match := _TERM_ZH.match(value) or _TERM_EN.match(value):
        days = int(match[3] or 0) * (-1 if match[2] == "-" else 1)
        term = {"一": 1, "二": 2, "1": 1, "2": 2}.get(match[1] or "")
        return {"type": "term_start", "days": days} | ({"term": term} if term else {})
    if match := _OFFSET.match(value):
        name = match[1]
        base = holiday_base(name) or ((name, 0) if name in HOLIDAYS else None)
        if base is None:
            return None
        days = int(match[3]) * (-1 if match[2] == "-" else 1)
        return {"type": "offset", "base": base[0], "days": base[1] + days}
    return None


# The name of each holiday in `HOLIDAYS` (an offset's base) and of each term's start.
HOLIDAY_KEYS = {
    "new_year": "calendar.holiday.new_year",
    "womens_day": "calendar.holiday.womens_day",
    "labour_day": "calendar.holiday.labour_day",
    "childrens_day": "calendar.holiday.childrens_day",
    "teachers_day": "calendar.holiday.teachers_day",
    "national_day": "calendar.holiday.national_day",
    "spring_festival": "calendar.holiday.spring_festival",
    "lantern_festival": "calendar.holiday.lantern_festival",
    "dragon_boat": "calendar.holiday.dragon_boat",
    "mid_autumn": "calendar.holiday.mid_autumn",
    "double_ninth": "calendar.holiday.double_ninth",
}
_TERM_KEYS = {
    0: "calendar.rule.term_start",  # each term
    1: "calendar.rule.term1_start",
    2: "calendar.rule.term2_start",
}


def describe_rule(
    tr: Translator,
    rule: dict[str, object],
    *,
    title_of: Callable[[str], str | None] = lambda key: None,
) -> str:
    """A rule as the reader writes it: 每年3月8日, 春节前21天, 第一学期开学前7天.

    `title_of` names another entry (an offset from ``entry:<key>``; its key when not given); a
    rule that cannot be read is shown as "—".
    """
    try:
        validate_rule(rule)
    except RuleError:
        return "—"
    number = {key: value for key, value in rule.items() if isinstance(value, int)}
    month, day = number.get("month", 1), number.get("day", 1)
    month_name = nth_name(tr, "calendar.rule.month_names", month)
    match rule["type"]:
        case "solar":
            return tr("calendar.rule.solar", month_name=month_name, day=day)
        case "lunar":
            key = "calendar.rule.lunar_leap" if rule.get("leap") else "calendar.rule.lunar"
            return tr(
                key,
                lunar_month=nth_name(tr, "calendar.rule.lunar_months", month),
                lunar_day=nth_name(tr, "calendar.rule.lunar_days", day),
            )
        case "monthly":
            return tr("calendar.rule.monthly", day=day)
        case "daily":
            return tr("calendar.rule.daily")
        case "nth_weekday":
            n = number["n"]
            weekday = nth_name(tr, "calendar.rule.weekdays", number["weekday"] + 1)
            if n == -1:
                return tr("calendar.rule.nth_last", month_name=month_name, weekday=weekday)
            nth = nth_name(tr, "calendar.rule.ordinals", n)
            return tr("calendar.rule.nth", month_name=month_name, nth=nth, weekday=weekday)
        case "term_start":
            base = tr(_TERM_KEYS[number.get("term", 0)])
        case _:  # offset
            name = str(rule["base"])
            if name.startswith(ENTRY_PREFIX):
                key = name.removeprefix(ENTRY_PREFIX)
                base = title_of(key) or key
            else:
                base = tr(HOLIDAY_KEYS[name])
    days = number["days"]
    if days == 0:
        return tr("calendar.rule.on", base=base)
    return tr(
        "calendar.rule.before" if days < 0 else "calendar.rule.after", base=base, days=abs(days)
    )


def nth_name(tr: Translator, key: str, number: int) -> str:
    """The `number`-th (from 1) of a catalog list written "a,b,c" (month names, weekdays)."""
    return tr(key).split(",")[number - 1].strip()
