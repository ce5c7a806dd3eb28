"""Dates, times, counts and money as people write them in a chat.

Pure functions: nothing here reads the clock (callers pass `today` or `now` and the zone),
touches the database or knows Telegram. Every reader returns None for text it cannot read
and for what cannot exist (2月30日, 25点, a negative sum); the caller turns None into its
own refusal, which names forms that work.

What is read (Simplified or Traditional characters, full-width or ASCII digits):

- numbers: 20, ２０, 二十, 两千, 一百零五, 廿三, 二〇二七, 3千5百, 1.5万 (money only)
- counts: 20人, 二十人, 20个, 20名, 20位
- money: 250, 250.5元, ¥3,000, 3000块, 三千元, 3千元, 1.5万元 (into fen)
- days: 今天, 明天, 后天, 昨天, 前天, 大前天, 下周五, 本周五, 周五, 星期五, 礼拜五, 下个月5号,
  5号, 2027年3月1日, 2027-03-01, 3/1, 3月1号, 三月一日, 端午节, 中秋, 除夕, 农历五月初五,
  腊月二十三, 正月十五, tomorrow, next friday
- times: 14:30, 早上8点, 上午九点, 下午三点半, 晚上7点一刻, 中午12点, 14点30分, 2:30pm
- moments: a day and a time, with or without a space (下周五下午三点半, 12月5日14点)
- windows: two days (2027年3月1日到3月15日, 3月1日-3月15日, 3月1日至15日)

A day written without a year is placed by the caller's `direction`: "past" (the latest one
not after today: the day something happened) or "future" (the next one from today: the day
something will happen).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Literal

# scheduler.dates is pure date math (it imports only the standard library and lunar_python,
# never handlers/ or Telegram), so a model may use it: the holidays and lunar dates then have
# one definition for the calendar and for what people type.
from scheduler.dates import occurrences

Direction = Literal["past", "future"]

# The largest sum of money read: 1亿元. More is a slip of the keyboard, and it would not fit
# the 32-bit fen columns anyway.
MAX_FEN = 100_000_000 * 100
_MAX_DIGITS = 12

_WIDTH = str.maketrans(
    "０１２３４５６７８９：－／．～，＋　￥（）",
    "0123456789:-/.~,+ ¥()",
)
# Traditional characters that appear in dates, times and amounts, read as Simplified ones.
_TRADITIONAL = str.maketrans(
    "農曆臘點週禮後國慶節號兩個萬塊陽師婦勞動兒時這閏陰錢圓裡來過誕億歲",
    "农历腊点周礼后国庆节号两个万块阳师妇劳动儿时这闰阴钱圆里来过诞亿岁",
)

_DIGIT = {
    "零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
_UNIT = {"十": 10, "百": 100, "千": 1000}
_BIG = {"万": 10_000, "亿": 100_000_000}
_CN = "零〇一二两三四五六七八九十百千万亿廿卅"


def clean(text: str) -> str:
    """Full-width digits and signs as ASCII, Traditional characters as Simplified, lower case,
    runs of spaces as one. (Not NFKC: that would read ① and ² as digits.)"""
    return " ".join(text.translate(_WIDTH).translate(_TRADITIONAL).lower().split())


def number(text: str) -> int | None:
    """A whole number: 20, ２０, 二十, 两千, 一百零五, 廿三, 一千二 (1200), 二〇二七, 3千5百."""
    cleaned = clean(text)
    if _SPLIT_DIGITS.search(cleaned):  # "20 30" is two numbers, not 2030
        return None
    value = cleaned.replace(" ", "").replace("廿", "二十").replace("卅", "三十")
    if not value or len(value) > _MAX_DIGITS * 2:
        return None
    if value.isascii() and value.isdigit():
        return int(value) if len(value) <= _MAX_DIGITS else None
    if all(char in _DIGIT for char in value):  # digit by digit: 二〇二七
        if len(value) > _MAX_DIGITS:
            return None
        return int("".join(str(_DIGIT[char]) for char in value))
    return _with_units(value)


def _with_units(value: str) -> int | None:
    total = section = 0
    current: int | None = None
    last_unit = 1
    after_unit = after_zero = False
    for token in re.findall(r"\d+|.", value):
        if (token.isascii() and token.isdigit()) or token in _DIGIT:
            if current is not None or len(token) > _MAX_DIGITS:
                return None
            digit = int(token) if token.isascii() else _DIGIT[token]
            if token in ("零", "〇"):
                after_zero = True
                continue
            current, after_unit = digit, False
        elif token in _UNIT:
            unit = _UNIT[token]
            if after_unit or (section and unit >= last_unit and last_unit < 10_000):
                return None
            section += (1 if current is None else current) * unit
            current, last_unit, after_unit, after_zero = None, unit, True, False
        elif token in _BIG:
            part = section + (current or 0)
            if token == "亿":  # 一万亿: everything before is counted in 亿
                if total + part == 0:
                    return None
                total = (total + part) * _BIG[token]
            else:
                if part == 0:
                    return None
                total += part * _BIG[token]
            section, current, last_unit, after_unit, after_zero = 0, None, _BIG[token], True, False
        else:
            return None
    if current is not None:
        # 一千二 is 1200 and 两万三 is 23000: a digit right after a unit counts in the next
        # lower place, unless a 零 came between (一千零二 is 1002).
        if last_unit > 1 and not after_zero and current < 10:
            current *= last_unit // 10
        section += current
    return total + section


def count(text: str, *, low: int, high: int) -> int | None:
    """A number of people or things: 20, 20人, 二十人, 20个, 20名, 20位, 共20人; None outside
    [low, high]."""
    cleaned = clean(text)
    if _SPLIT_DIGITS.search(cleaned):
        return None
    value = cleaned.replace(" ", "").removeprefix("共").removeprefix("约")
    value = re.sub(r"(?:个人|人|个|名|位|份|张|户|岁|次)$", "", value)
    found = number(value) if value else None
    return found if found is not None and low <= found <= high else None


_MONEY_PREFIX = re.compile(r"^(?:¥|rmb|cny|人民币)")
_MONEY_SUFFIX = re.compile(r"(?:元整|块钱|元|块|圆|yuan|rmb|cny)$")
_DECIMAL = re.compile(r"([0-9]+)(?:\.([0-9]{1,2}))?")
_SPLIT_DIGITS = re.compile(r"\d\s+\d")
# A comma only between groups of three digits (3,000 or 1,234,567), never 2,5 or 30,00.
_BAD_COMMA = re.compile(r"(?:^|[^\d,])\d{4,},|,(?!\d{3}(?:\D|$))")
_SCALED = re.compile(r"([0-9]+(?:\.[0-9]+)?)([万千百])")


def money(text: str) -> int | None:
    """Yuan as people write them into fen: 250, 250.5, ¥3,000, 3000块, 三千元, 3千元, 1.5万元.
    None for anything negative, unreadable, finer than a fen, or above 1亿元."""
    cleaned = clean(text)
    if _SPLIT_DIGITS.search(cleaned) or _BAD_COMMA.search(cleaned):
        return None  # "2 50" or "2,5" is not 250
    value = cleaned.replace(" ", "").replace(",", "")
    value = _MONEY_SUFFIX.sub("", _MONEY_PREFIX.sub("", value))
    fen: int | None = None
    if match := _DECIMAL.fullmatch(value):
        if len(match[1]) > _MAX_DIGITS:
            return None
        fen = int(match[1]) * 100 + int((match[2] or "").ljust(2, "0"))
    elif match := _SCALED.fullmatch(value):
        try:
            amount = Decimal(match[1]) * _UNIT.get(match[2], _BIG.get(match[2], 1)) * 100
        except InvalidOperation:
            return None
        if amount != amount.to_integral_value():
            return None
        fen = int(amount)
    elif value and value[0] in _CN + "0123456789":
        whole = number(value)
        fen = None if whole is None else whole * 100
    return fen if fen is not None and fen <= MAX_FEN else None


# ---- days ------------------------------------------------------------------------------------

_RELATIVE = {
    "今天": 0, "今日": 0, "today": 0, "明天": 1, "明日": 1, "tomorrow": 1, "后天": 2,
    "大后天": 3, "昨天": -1, "昨日": -1, "yesterday": -1, "前天": -2, "大前天": -3,
}  # fmt: skip
_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_EN_WEEKDAY = {
    "mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6,
}  # fmt: skip
_EN_MONTH = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_WEEK_SHIFT = {"上上": -2, "上": -1, "本": 0, "这": 0, "下": 1, "下下": 2}
_MONTH_SHIFT = {"上": -1, "本": 0, "这": 0, "下": 1}

# Holidays by the names people use: (a base in scheduler.dates.HOLIDAYS, days from it).
HOLIDAY_NAMES: dict[str, tuple[str, int]] = {
    "元旦": ("new_year", 0), "元旦节": ("new_year", 0), "new year's day": ("new_year", 0),
    "春节": ("spring_festival", 0), "过年": ("spring_festival", 0),
    "大年初一": ("spring_festival", 0), "spring festival": ("spring_festival", 0),
    "除夕": ("spring_festival", -1), "大年三十": ("spring_festival", -1),
    "元宵": ("lantern_festival", 0), "元宵节": ("lantern_festival", 0),
    "妇女节": ("womens_day", 0), "三八": ("womens_day", 0), "三八节": ("womens_day", 0),
    "三八妇女节": ("womens_day", 0),
    "劳动节": ("labour_day", 0), "五一": ("labour_day", 0), "五一节": ("labour_day", 0),
    "五一劳动节": ("labour_day", 0),
    "儿童节": ("childrens_day", 0), "六一": ("childrens_day", 0),
    "六一儿童节": ("childrens_day", 0),
    "端午": ("dragon_boat", 0), "端午节": ("dragon_boat", 0), "端阳节": ("dragon_boat", 0),
    "教师节": ("teachers_day", 0), "teachers' day": ("teachers_day", 0),
    "中秋": ("mid_autumn", 0), "中秋节": ("mid_autumn", 0),
    "国庆": ("national_day", 0), "国庆节": ("national_day", 0), "national day": ("national_day", 0),
    "重阳": ("double_ninth", 0), "重阳节": ("double_ninth", 0),
}  # fmt: skip
_HOLIDAY_LOOKUP = {name.replace(" ", ""): base for name, base in HOLIDAY_NAMES.items()}

_NUM = rf"(?:\d{{1,2}}|[{_CN}]{{1,3}})"
_YEAR = r"(?:\d{4}|[〇零一二三四五六七八九]{4})"
_SOLAR = re.compile(rf"(?:(?P<y>{_YEAR})[年\-/.])?(?P<m>{_NUM})[月\-/.](?P<d>{_NUM})[日号]?")
_EN_DATE = re.compile(r"(?P<m>[a-z]{3})[a-z]*\.?(?P<d>\d{1,2})(?:st|nd|rd|th)?(?:,?(?P<y>\d{4}))?")
_LUNAR = re.compile(
    rf"(?P<mark>农历|阴历|lunar)?(?P<leap>闰)?"
    rf"(?P<m>正|冬|腊|{_NUM})[月\-/.](?P<d>初[一二三四五六七八九十]|{_NUM})[日号]?"
)
_WEEK = re.compile(r"(?P<shift>上上|下下|上|下|本|这)?个?(?:周|星期|礼拜)(?P<w>[一二三四五六日天])")
_EN_WEEK = re.compile(r"(?P<shift>next|last|this)?(?P<w>mon|tue|wed|thu|fri|sat|sun)[a-z]*")
_MONTH_DAY = re.compile(rf"(?:(?P<shift>上|本|这|下)个?月)?(?P<d>{_NUM})[日号]")
_WITH_YEAR = re.compile(rf"(?P<y>{_YEAR})年(?P<rest>.+)")


def day(text: str, *, today: date, direction: Direction) -> date | None:
    """A day as people write it; one without a year is placed by `direction`."""
    found = _day(_squeeze(text), today, direction)
    return found[0] if found else None


def _squeeze(text: str) -> str:
    return clean(text).replace(" ", "").replace(",", "")


def _day(value: str, today: date, direction: Direction) -> tuple[date, bool] | None:
    """The day and whether it was a month and day without a year (its year was guessed)."""
    if value in _RELATIVE:
        return today + timedelta(days=_RELATIVE[value]), False
    if match := _WEEK.fullmatch(value):
        return _weekday(today, _WEEKDAY[match["w"]], match["shift"], direction), False
    if match := _EN_WEEK.fullmatch(value):
        return _en_weekday(today, _EN_WEEKDAY[match["w"]], match["shift"], direction), False
    if match := _MONTH_DAY.fullmatch(value):
        found = _in_month(today, match["shift"], number(match["d"]), direction)
        return (found, False) if found else None
    if match := _WITH_YEAR.fullmatch(value):  # 2027年端午节, 2027年农历五月初五
        year = number(match["y"])
        for read in (_holiday, _lunar):
            if year is not None and (found := read(match["rest"], today, direction, year)):
                return found, False
    for read in (_holiday, _lunar):
        if found := read(value, today, direction, None):
            return found, False
    return _solar(value, today, direction)


def _weekday(today: date, weekday: int, shift: str | None, direction: Direction) -> date:
    if shift is None:
        if direction == "future":
            return today + timedelta(days=(weekday - today.weekday()) % 7)
        return today - timedelta(days=(today.weekday() - weekday) % 7)
    monday = today - timedelta(days=today.weekday())
    return monday + timedelta(days=7 * _WEEK_SHIFT[shift] + weekday)


def _en_weekday(today: date, weekday: int, shift: str | None, direction: Direction) -> date:
    if shift == "next":  # next friday: the first one after today
        return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)
    if shift == "last":
        return today - timedelta(days=(today.weekday() - weekday - 1) % 7 + 1)
    return _weekday(today, weekday, "本" if shift == "this" else None, direction)


def _in_month(
    today: date, shift: str | None, day_number: int | None, direction: Direction
) -> date | None:
    if day_number is None:
        return None
    if shift is not None:
        return _month_day(today, _MONTH_SHIFT[shift], day_number)
    # 5号 alone: this month's, else the next (or, looking back, the last) month's.
    here = _month_day(today, 0, day_number)
    if here is not None and (here >= today if direction == "future" else here <= today):
        return here
    return _month_day(today, 1 if direction == "future" else -1, day_number)


def _month_day(today: date, months: int, day_number: int) -> date | None:
    year, month = divmod(today.year * 12 + today.month - 1 + months, 12)
    return _date(year, month + 1, day_number)


def _date(year: int | None, month: int | None, day_number: int | None) -> date | None:
    if year is None or month is None or day_number is None:
        return None
    try:
        return date(year, month, day_number)
    except ValueError:
        return None


def _pick(candidates: list[date], today: date, direction: Direction) -> date | None:
    if direction == "future":
        later = [found for found in candidates if found >= today]
        return min(later) if later else None
    earlier = [found for found in candidates if found <= today]
    return max(earlier) if earlier else None


def _rule_dates(
    rule: dict[str, object], today: date, direction: Direction, year: int | None
) -> date | None:
    if year is not None:
        found = occurrences(rule, year)
        return found[0] if found else None
    years = range(today.year - 1, today.year + 2)
    return _pick([found for y in years for found in occurrences(rule, y)], today, direction)


def holiday_base(name: str) -> tuple[str, int] | None:
    """A holiday by name (端午节, 中秋, 除夕, 國慶): its base in scheduler.dates.HOLIDAYS and
    the days from that base."""
    return _HOLIDAY_LOOKUP.get(clean(name).replace(" ", ""))


def _holiday(value: str, today: date, direction: Direction, year: int | None) -> date | None:
    base = _HOLIDAY_LOOKUP.get(value)
    if base is None:
        return None
    rule: dict[str, object] = {"type": "offset", "base": base[0], "days": base[1]}
    return _rule_dates(rule, today, direction, year)


def lunar_month_day(text: str) -> tuple[int, int, bool] | None:
    """A lunar month and day (农历五月初五, 腊月二十三, 正月十五, 农历8-15, 闰四月初一) as
    (month, day, leap); None when the text is not marked as lunar or cannot exist."""
    match = _LUNAR.fullmatch(_squeeze(text))
    if match is None:
        return None
    month_text, day_text = match["m"], match["d"]
    marked = match["mark"] or match["leap"] or month_text in "正冬腊" or day_text[0] in "初廿"
    if not marked:
        return None
    month = {"正": 1, "冬": 11, "腊": 12}.get(month_text) or number(month_text)
    day_number = number(day_text.removeprefix("初"))
    if month is None or day_number is None or not (1 <= month <= 12 and 1 <= day_number <= 30):
        return None
    return month, day_number, bool(match["leap"])


def _lunar(value: str, today: date, direction: Direction, year: int | None) -> date | None:
    found = lunar_month_day(value)
    if found is None:
        return None
    month, day_number, leap = found
    rule: dict[str, object] = {"type": "lunar", "month": month, "day": day_number, "leap": leap}
    return _rule_dates(rule, today, direction, year)


def month_day(text: str) -> tuple[int | None, int, int] | None:
    """A solar (year, month, day) as written (2027年3月1日, 3-1, 三月一日, dec 5); the year is
    None when it is not written. Not checked against the calendar."""
    value = _squeeze(text)
    match = _SOLAR.fullmatch(value) or _EN_DATE.fullmatch(value)
    if match is None:
        return None
    month_text = match["m"]
    month = _EN_MONTH.get(month_text) if month_text.isalpha() and month_text.isascii() else None
    month = month or number(month_text)
    day_number = number(match["d"])
    year = number(match["y"]) if match["y"] else None
    if month is None or day_number is None or (match["y"] and year is None):
        return None
    return year, month, day_number


def _solar(value: str, today: date, direction: Direction) -> tuple[date, bool] | None:
    written = month_day(value)
    if written is None:
        return None
    year, month, day_number = written
    if year is not None:
        found = _date(year, month, day_number)
        return (found, False) if found else None
    # The nearest years first; 29 February may be four years away.
    years = range(today.year - 4, today.year + 5)
    candidates = [found for y in years if (found := _date(y, month, day_number))]
    picked = _pick(candidates, today, direction)
    return (picked, True) if picked else None


# ---- times -----------------------------------------------------------------------------------

_HOUR_CN = r"(?:二十[一二三四]?|十[一二三四五六七八九]?|[零〇一二两三四五六七八九])"
_MINUTE_CN = r"(?:[一二三四五]?十[一二三四五六七八九]?|零?[一二三四五六七八九])"
_AMPM = r"(?:am|pm|a\.m\.|p\.m\.)"
_TIME = re.compile(
    r"(?P<period>凌晨|早上|早晨|清晨|上午|中午|下午|午后|傍晚|晚上|夜里|夜间|早|晚)?\s?"
    rf"(?P<hour>\d{{1,2}}|{_HOUR_CN})"
    r"(?:"
    r"\s?:\s?(?P<mm>\d{2})"
    rf"|(?:点|时)(?:(?P<half>半)|(?P<quarter>[一三])刻|(?P<minute>\d{{1,2}}|{_MINUTE_CN})分?|整)?"
    rf"|(?=\s?{_AMPM})"
    r")"
    rf"\s?(?P<ampm>{_AMPM})?"
)
_MORNING = {"凌晨", "早上", "早晨", "清晨", "上午", "早"}
_EVENING = {"下午", "午后", "傍晚", "晚上", "夜里", "夜间", "晚"}


def time_of_day(text: str) -> time | None:
    """A time: 14:30, 早上8点, 上午九点, 下午三点半, 晚上7点一刻, 中午12点, 14点30分, 2:30pm."""
    return _time(clean(text))


def _time(value: str) -> time | None:
    match = _TIME.fullmatch(value)
    if match is None:
        return None
    hour = number(match["hour"])
    if match["mm"]:
        minute: int | None = int(match["mm"])
    elif match["half"]:
        minute = 30
    elif match["quarter"]:
        minute = 15 * int(_DIGIT[match["quarter"]])
    else:
        minute = number(match["minute"]) if match["minute"] else 0
    if hour is None or minute is None or hour > 23 or minute > 59:
        return None
    period, ampm = match["period"], (match["ampm"] or "").replace(".", "")
    if (period in _MORNING or ampm) and hour > 12:
        return None  # 上午15点, 15pm
    if ampm == "am" or period == "凌晨":
        hour %= 12
    elif ampm == "pm" or period in _EVENING:
        if period in {"晚上", "夜里", "夜间", "晚"} and hour == 12:
            return None  # midnight belongs to the next day: ask for 0点
        if hour < 12:
            hour += 12
    elif period == "中午" and hour < 6:
        hour += 12
    return time(hour, minute)


def moment(
    text: str, *, now: datetime, zone: tzinfo, direction: Direction = "future"
) -> datetime | None:
    """A day and a time, with or without a space (下周五下午三点半, 12月5日14点, 2026-12-05 14:00,
    明天上午9点); a time alone is today. Local time in `zone`. A month and day without a year
    give, looking forward, the next such moment (12月4日 10:00 at 21:00 on 4 December is
    next year's)."""
    value = clean(text)
    local_now = now.astimezone(zone)
    for start in range(len(value)):
        at = _time(value[start:].strip())
        if at is None:
            continue
        head = value[:start].replace(" ", "").replace(",", "")
        if not head:
            return datetime.combine(local_now.date(), at, tzinfo=zone)
        found = _day(head, local_now.date(), direction)
        if found is None:
            continue
        on, guessed_year = found
        result = datetime.combine(on, at, tzinfo=zone)
        if guessed_year and direction == "future" and result < local_now:
            later = _date(on.year + 1, on.month, on.day)
            if later is None:
                continue
            result = datetime.combine(later, at, tzinfo=zone)
        return result
    return None


# ---- windows ---------------------------------------------------------------------------------

_BETWEEN = re.compile(r"到|至|~|—+|–|-|\bto\b")
_DAY_ONLY = re.compile(rf"(?P<d>{_NUM})[日号]?")


def window(text: str, *, today: date) -> tuple[date, date] | None:
    """Two days (2027年3月1日到3月15日, 3月1日-3月15日, 3月1日至15日, 2027-03-01 ~ 2027-03-15).
    The first one without a year is the next one from today; the second without a year or
    month follows the first. Not checked for order: the caller says which is wrong."""
    value = clean(text)
    for between in _BETWEEN.finditer(value):
        first_text = _squeeze(value[: between.start()])
        second_text = _squeeze(value[between.end() :])
        if not first_text or not second_text:
            continue
        first = _day(first_text, today, "future")
        if first is None:
            continue
        second = _second(second_text, first[0], today)
        if second is not None:
            return first[0], second
    return None


def _second(value: str, first: date, today: date) -> date | None:
    if match := _DAY_ONLY.fullmatch(value):  # 3月1日至15日
        day_number = number(match["d"])
        if day_number is None:
            return None
        found = _date(first.year, first.month, day_number)
        if found is not None and found < first:
            found = _month_day(first, 1, day_number)
        return found
    written = month_day(value)
    if written is not None and written[0] is None:  # 12月20日至1月10日: the next January
        _, month, day_number = written
        found = _date(first.year, month, day_number)
        if found is not None and found < first:
            found = _date(first.year + 1, month, day_number)
        return found
    found_day = _day(value, today, "future")
    return found_day[0] if found_day else None
