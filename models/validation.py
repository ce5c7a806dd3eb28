"""Cleaning and checking what people type, before anything is stored."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from models.errors import N_, InputError

# Zero-width and bidi controls are invisible and let people forge look-alike text; the Hangul
# fillers are invisible too, yet letters to Unicode, so "ㅤ" alone would pass for words.
_INVISIBLE = {
    *("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"),
    *("\u3164", "\u115f", "\u1160", "\uffa0"),
}
_KEEP_CONTROLS = {"\n", "\t"}
_NONCHARACTERS = {"\ufffe", "\uffff"}


def clean_text(
    value: str | None, *, limit: int, multiline: bool = False, needs_words: bool = False
) -> str:
    """Normalize, drop control and zero-width characters, trim; refuse empty or too long.

    With `needs_words` (free-text bodies: a suggestion, a proposal, an aid request, an answer)
    a text without a single letter, CJK character or digit ("👍👍", "🙏", "？？") is refused.
    """
    if value is None:
        raise InputError(N_("input.empty"))
    text = unicodedata.normalize("NFC", value)
    kept = []
    for char in text:
        if char in _INVISIBLE:
            continue
        category = unicodedata.category(char)
        if category == "Cs" or char in _NONCHARACTERS:
            continue  # lone surrogates, U+FFFE/U+FFFF: no file (xlsx, docx) may hold them
        if category in ("Cc", "Cf") and char not in _KEEP_CONTROLS:
            continue
        kept.append(char)
    text = "".join(kept)
    if not multiline:
        text = re.sub(r"\s+", " ", text)
    text = re.sub(r"[ \t]+\n", "\n", text).strip()
    if not text:
        raise InputError(N_("input.empty"))
    if len(text) > limit:
        raise InputError(N_("input.too_long"), limit=limit, count=len(text))
    if needs_words and not has_words(text):
        raise InputError(N_("input.needs_words"))
    return text


def has_words(text: str) -> bool:
    """Whether `text` holds a letter (CJK included) or a digit, not only emoji and symbols."""
    return any(unicodedata.category(char)[0] in "LN" for char in text)


def only_symbols(text: str) -> bool:
    """Something visible was typed, but no letter or digit: "👍", "🙏🙏", "？？"."""
    visible = [char for char in text if unicodedata.category(char)[0] not in "CZ"]
    return bool(visible) and not has_words(text)


@dataclass(frozen=True)
class Birthday:
    """A birthday; the year is optional because many people prefer not to give it."""

    month: int
    day: int
    year: int | None = None

    @classmethod
    def parse_stored(cls, value: str) -> Birthday:
        """Read back the `YYYY-MM-DD` or `MM-DD` form that `str()` writes."""
        parts = [int(part) for part in value.split("-")]
        if len(parts) == 3:
            return cls(year=parts[0], month=parts[1], day=parts[2])
        return cls(month=parts[0], day=parts[1])

    def __str__(self) -> str:
        if self.year:
            return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
        return f"{self.month:02d}-{self.day:02d}"


_BIRTHDAY_PATTERNS = (
    re.compile(r"^(?P<y>\d{4})[-/.年](?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})日?$"),
    re.compile(r"^(?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})日?$"),
)


def parse_birthday(value: str, *, today: date) -> Birthday:
    """Parse `1985-03-08`, `03-08`, `1985年3月8日` or `3月8日`; refuse impossible dates."""
    text = clean_text(value, limit=20).replace(" ", "")
    for pattern in _BIRTHDAY_PATTERNS:
        match = pattern.match(text)
        if not match:
            continue
        groups = match.groupdict()
        year = int(groups["y"]) if groups.get("y") else None
        month, day = int(groups["m"]), int(groups["d"])
        try:
            # 2000 is a leap year, so 29 February is accepted when no year is given.
            date(year or 2000, month, day)
        except ValueError:
            break
        if year is not None and not (today.year - 100 <= year <= today.year - 16):
            raise InputError(N_("input.birthday_year"), min=today.year - 100, max=today.year - 16)
        return Birthday(month=month, day=day, year=year)
    raise InputError(N_("input.birthday_format"))


def ascii_number(text: str, *, low: int, high: int) -> int | None:
    """A whole number typed with ASCII digits within [low, high], else None. `str.isdigit`
    alone accepts "²" and other digits `int` refuses, and an unbounded number may not fit a
    database integer."""
    text = text.strip()
    if not text or not text.isascii() or not text.isdigit() or len(text) > 12:
        return None
    value = int(text)
    return value if low <= value <= high else None
