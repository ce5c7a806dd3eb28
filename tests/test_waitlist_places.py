"""One waitlist numbering everywhere (issue 16, item 3).

A place on the waitlist is the person's current position among those waiting, in queue order
(models.activities.waitlist_places). It is the number the sign-up alert gives; the committee's
名单 and the xlsx export number only the seats and show the waiting by that place; /mine and
/activities show it too. When someone ahead cancels or is seated, everyone behind moves up.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook

from bot.callback import pack
from tests.support.harness import BotHarness
from tests.support.updates import Person
from tests.test_activity_rules import (
    COMMITTEE,
    add_committee,
    add_members,
    create,
    last_alert,
)


def _list_text(bot: BotHarness) -> str:
    return bot.telegram.last(COMMITTEE.id).text


async def _export(bot: BotHarness, aid: int, monkeypatch: pytest.MonkeyPatch) -> list[list[Any]]:
    """Press 导出 and read the workbook that was uploaded."""
    files: list[bytes] = []
    recorded = bot.telegram.do_request

    async def keeping_files(url: str, method: str, request_data: Any = None, **kwargs: Any) -> Any:
        if request_data is not None:
            for value in (request_data.multipart_data or {}).values():
                files.append(bytes(value[1]))
        return await recorded(url, method, request_data, **kwargs)

    monkeypatch.setattr(bot.telegram, "do_request", keeping_files)
    await bot.press(COMMITTEE, pack("ag", "xlsx", aid))
    monkeypatch.setattr(bot.telegram, "do_request", recorded)
    (content,) = files
    sheet = load_workbook(io.BytesIO(content)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)][1:]


async def _mine(bot: BotHarness, person: Person) -> str:
    await bot.say(person, "/mine")
    sent = bot.telegram.sent("sendMessage", person.id)
    found = [c.text for c in sent if "我报名的活动" in c.text]
    assert found, "no activities section in /mine"
    return found[-1]


async def _agree(
    bot: BotHarness,
    aid: int,
    monkeypatch: pytest.MonkeyPatch,
    seated: list[str],
    waiting: list[tuple[Person, str]],
) -> None:
    """名单, export, /mine and /activities all give these seats and waitlist places."""
    await bot.press(COMMITTEE, pack("ag", "list", aid))
    lines = _list_text(bot).splitlines()[1:]
    expected = [f"{n}. {name} · 语文组 · 已报名" for n, name in enumerate(seated, start=1)]
    expected += [
        f"候补第 {place} 位：{name} · 语文组" for place, (_, name) in enumerate(waiting, start=1)
    ]
    assert lines == expected
    rows = await _export(bot, aid, monkeypatch)
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (n, f"{name} · 语文组", "已报名") for n, name in enumerate(seated, start=1)
    ] + [
        (None, f"{name} · 语文组", f"候补第 {place} 位")
        for place, (_, name) in enumerate(waiting, start=1)
    ]
    for place, (person, _) in enumerate(waiting, start=1):
        assert f"候补第 {place} 位" in await _mine(bot, person)
        await bot.say(person, "/activities")
        assert f"候补第 {place} 位" in bot.telegram.last(person.id).text


async def test_the_place_told_is_the_place_everywhere_after_a_cancel_and_a_promotion(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await add_committee(bot)
    a, b, c, d = await add_members(bot, 4)
    aid = (await create(bot, capacity="1")).id or 0
    await bot.press(a, pack("av", "su", aid))
    told = []
    for person in (b, c, d):
        await bot.press(person, pack("av", "su", aid))
        told.append(last_alert(bot))
    assert all(f"候补第 {place} 位" in text for place, text in enumerate(told, start=1))
    await _agree(bot, aid, monkeypatch, ["老师0"], [(b, "老师1"), (c, "老师2"), (d, "老师3")])

    # Someone ahead leaves the waitlist: everyone behind moves up one place.
    await bot.press(b, pack("av", "cx", aid))
    await _agree(bot, aid, monkeypatch, ["老师0"], [(c, "老师2"), (d, "老师3")])

    # The seated one cancels: the first waiting is seated, the next is now first.
    await bot.press(a, pack("av", "cx", aid))
    await _agree(bot, aid, monkeypatch, ["老师2"], [(d, "老师3")])
    assert "候补第 1 位" in await _mine(bot, d)
    assert "已报名" in await _mine(bot, c)
