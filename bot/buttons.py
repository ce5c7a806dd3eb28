"""Typed callback data: one small frozen dataclass per button family.

    @dataclass(frozen=True)
    class SuggestionCard(Button, prefix="sug"):
        action: Literal["reply", "close", "reopen", "pub"]
        item_id: int

    SuggestionCard("reply", 7).pack() == "sug:reply:7"
    SuggestionCard.unpack("sug:reply:7") == SuggestionCard("reply", 7)

The wire format is the one bot/callback.py has always used (`feature:action:arg...`, short
ASCII tokens, at most 64 bytes), so buttons already sent keep working. Parsing is strict: the
prefix, the number of parts and each field's type (a positive database id, a token, one of a
Literal's values, an enum's value) must all match, or `CallbackDataError`. IDs only, never text.

Handlers take them through `ButtonHandler`, which puts the parsed object on `context.button`.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import typing
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, ClassVar, Literal, Self, get_args, get_origin

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler

from bot.callback import MAX_BYTES, MAX_ID, CallbackDataError

_TOKEN = re.compile(r"[a-z0-9_-]+")
_PREFIX = re.compile(r"[a-z0-9_-]+(:[a-z0-9_-]+)?")
_PREFIXES: dict[str, type[Button]] = {}
_FIELDS: dict[type[Button], tuple[tuple[str, Any], ...]] = {}  # each family's (name, type)


class _DatabaseId:
    """Marks an int field as a database id: 1 or more (0 and negatives are never ours)."""


Id = Annotated[int, _DatabaseId]  # a field that carries a row's id; plain `int` allows 0


def _decode(kind: Any, text: str) -> object:
    """One field from its text, by its annotation; ValueError if it does not fit."""
    if get_origin(kind) is Annotated:
        base, *marks = get_args(kind)
        value = _decode(base, text)
        if _DatabaseId in marks and value == 0:
            raise ValueError("not an id")
        return value
    if kind is int:
        if not (text.isascii() and text.isdigit()) or not 0 <= int(text) <= MAX_ID:
            raise ValueError("not an id")
        return int(text)
    if kind is str:
        return text
    if get_origin(kind) is Literal:
        if text not in get_args(kind):
            raise ValueError("not one of the choices")
        return text
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind(text)
    raise TypeError(f"a button field cannot be {kind!r}")


def _encode(value: object) -> str:
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"a button carries ids and short tokens, not {value!r}")
    return str(value)


class Button:
    """Base of every button family (subclass as a frozen dataclass with a `prefix`)."""

    prefix: ClassVar[str]

    def __init_subclass__(cls, *, prefix: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not _PREFIX.fullmatch(prefix):
            raise ValueError(f"button prefix {prefix!r} is not one or two short ASCII tokens")
        if prefix in _PREFIXES:
            raise ValueError(f"two button families use the prefix {prefix!r}")
        _PREFIXES[prefix] = cls
        cls.prefix = prefix

    @classmethod
    def _fields(cls) -> tuple[tuple[str, Any], ...]:
        # Read once per family: get_type_hints evaluates every annotation (compiling the
        # strings that `from __future__ import annotations` leaves), and pack and unpack ran it
        # for every button drawn and every press (bench/pipeline.py: a tenth of an update).
        fields = _FIELDS.get(cls)
        if fields is None:
            hints = typing.get_type_hints(cls, include_extras=True)
            fields = tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls))  # type: ignore[arg-type]
            _FIELDS[cls] = fields
        return fields

    def pack(self) -> str:
        """The callback data; ValueError for anything that is not a short ASCII token or over
        64 bytes (a Chinese character is 3 bytes: text never goes into a button)."""
        parts = [self.prefix] + [_encode(getattr(self, name)) for name, _ in self._fields()]
        for part in parts[1:]:
            if not _TOKEN.fullmatch(part):
                raise ValueError(f"callback part {part!r} is not a short ASCII token")
        data = ":".join(parts)
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data {data!r} is over {MAX_BYTES} bytes")
        return data

    @classmethod
    def unpack(cls, data: str | None) -> Self:
        """Parse callback data made by `pack`, else CallbackDataError (forged, stale, foreign)."""
        if not data or len(data.encode("utf-8", "replace")) > MAX_BYTES:
            raise CallbackDataError("missing or too long")
        head = cls.prefix + ":"
        fields = cls._fields()
        if not data.startswith(head) and not (data == cls.prefix and not fields):
            raise CallbackDataError("another family")
        rest = data[len(head) :].split(":") if data != cls.prefix else []
        if len(rest) != len(fields) or not all(_TOKEN.fullmatch(part) for part in rest):
            raise CallbackDataError("malformed")
        try:
            values = [_decode(kind, text) for (_, kind), text in zip(fields, rest, strict=True)]
        except ValueError as exc:
            raise CallbackDataError(str(exc)) from None
        return cls(*values)

    @classmethod
    def pattern(cls, first: str | None = None) -> str:
        """A regex for this family (and optionally one value of its first field)."""
        head = re.escape(cls.prefix)
        if first is None:
            return rf"^{head}(:|$)"
        return rf"^{head}:{re.escape(first)}(:|$)"


ButtonCallback = Callable[[Update, Any], Coroutine[Any, Any, Any]]


class ButtonHandler(CallbackQueryHandler[Any, Any]):
    """A CallbackQueryHandler for one family (optionally one value of its first field): data
    that does not parse is not claimed (the stale-button answer takes it), and the parsed
    object is on `context.button` for the callback."""

    def __init__(self, family: type[Button], callback: ButtonCallback, first: str | None = None):
        super().__init__(callback, pattern=family.pattern(first))
        self.family = family

    def check_update(self, update: object) -> object | None:
        """Claim a press of this family whose data parses."""
        matched = super().check_update(update)
        if matched is None or matched is False:
            return None
        assert isinstance(update, Update) and update.callback_query is not None
        try:
            return self.family.unpack(update.callback_query.data)
        except CallbackDataError:
            return None

    def collect_additional_context(
        self,
        context: Any,
        update: Update,
        application: Application[Any, Any, Any, Any, Any, Any],
        check_result: object,
    ) -> None:
        """Hand the parsed button to the callback."""
        context.button = check_result
