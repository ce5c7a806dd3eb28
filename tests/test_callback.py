"""The callback-data codec: `feature:action:arg...`, short ASCII tokens, at most 64 bytes."""

from __future__ import annotations

import contextlib
import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.callback import MAX_BYTES, CallbackData, CallbackDataError, pack, pattern, unpack

TOKENS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=12)


def test_pack_joins_parts_with_colons() -> None:
    assert pack("aid", "approve", 42) == "aid:approve:42"
    assert pack("menu", "help") == "menu:help"


def test_round_trip() -> None:
    data = unpack(pack("mem", "grant", 17, "committee"))

    assert data == CallbackData("mem", "grant", ("17", "committee"))
    assert data.int_arg() == 17
    assert data.args[1] == "committee"


@given(feature=TOKENS, action=TOKENS, args=st.lists(TOKENS | st.integers(0, 10**9), max_size=4))
def test_round_trip_property(feature: str, action: str, args: list[str | int]) -> None:
    try:
        data = pack(feature, action, *args)
    except ValueError:
        assert len(":".join([feature, action, *map(str, args)]).encode()) > MAX_BYTES
        return
    assert unpack(data) == CallbackData(feature, action, tuple(str(arg) for arg in args))


def test_pack_accepts_exactly_64_bytes_and_refuses_65() -> None:
    exactly = pack("x", "y", "z" * (MAX_BYTES - 4))
    assert len(exactly.encode()) == MAX_BYTES
    assert unpack(exactly).args == ("z" * (MAX_BYTES - 4),)

    with pytest.raises(ValueError, match="64 bytes"):
        pack("x", "y", "z" * (MAX_BYTES - 3))
    with pytest.raises(CallbackDataError):
        unpack("x:y:" + "z" * (MAX_BYTES - 3))


@pytest.mark.parametrize(
    ("feature", "action", "arg"),
    [
        pytest.param("mem", "view", "王", id="chinese"),  # three bytes, and text is not an id
        pytest.param("mem", "view", "é", id="accented"),
        pytest.param("mem", "view", "a:b", id="colon"),  # would add a part
        pytest.param("mem", "", 1, id="empty"),
        pytest.param("Mem", "view", 1, id="uppercase"),
        pytest.param("mem", "view", "with space", id="space"),
        pytest.param("mem", "view", "1\n", id="trailing-newline"),  # `$` lets it through
        pytest.param("mem", "view", -1.5, id="float"),
    ],
)
def test_pack_refuses_parts_that_are_not_ascii_tokens(
    feature: str, action: str, arg: object
) -> None:
    with pytest.raises(ValueError, match="token"):
        pack(feature, action, arg)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "mem",
        "mem:",
        ":view",
        "mem::1",
        "mem:view:",
        "mem:view:王",
        "MEM:view:1",
        "mem:view:1 ",
        "mem:view:1\n",
        "mem;view;1",
        "x" * (MAX_BYTES + 1),
        "a:" + "王" * 21,  # 65 bytes in 23 characters
    ],
)
def test_unpack_refuses_malformed_data(data: str | None) -> None:
    with pytest.raises(CallbackDataError):
        unpack(data)


@pytest.mark.parametrize("arg", ["abc", "0", "-1", "-", "1-2", "_"])
def test_int_arg_refuses_bad_values(arg: str) -> None:
    with pytest.raises(CallbackDataError):
        unpack(f"mem:view:{arg}").int_arg()


def test_int_arg_refuses_a_missing_argument() -> None:
    data = unpack("mem:view")
    with pytest.raises(CallbackDataError):
        data.int_arg()
    with pytest.raises(CallbackDataError):
        unpack("mem:grant:5").int_arg(1)


def test_callback_data_error_is_a_value_error() -> None:
    """Handlers that catch ValueError for bad buttons also catch forged data."""
    assert issubclass(CallbackDataError, ValueError)


@given(st.text(max_size=100))
@example("mem:view:1")
@example("mem:view:" + "9" * 80)
@example("a:" + "\U0001f600" * 16)
def test_unpack_never_raises_anything_but_callback_data_error(data: str) -> None:
    try:
        parsed = unpack(data)
    except CallbackDataError:
        return
    assert ":".join([parsed.feature, parsed.action, *parsed.args]) == data
    assert len(data.encode()) <= MAX_BYTES


@given(st.binary(max_size=80))
def test_unpack_copes_with_any_bytes_telegram_could_pass_on(raw: bytes) -> None:
    with contextlib.suppress(CallbackDataError):
        unpack(raw.decode("utf-8", errors="replace"))


def test_pattern_matches_one_feature_and_action() -> None:
    grant = re.compile(pattern("mem", "grant"))
    assert grant.match("mem:grant:5:committee")
    assert grant.match("mem:grant")
    assert not grant.match("mem:granted:5")
    assert not grant.match("member:grant:5")
    assert re.compile(pattern("mem")).match("mem:view:1")
    assert not re.compile(pattern("mem")).match("memo:view:1")
