"""Placeholders in broadcasts and calendar texts: only `{name}` and the other named ones, with no
format width, conversion or attribute, are filled; anything else stays as typed, and the
committee is told when it saves the text (a `{name:>50000000}` once built 50 million characters
for every recipient)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from bot.callback import pack
from models.calendar import CalendarEntry
from models.outbox import Broadcast, OutboxMessage
from scheduler.calendar_jobs import recipients_for
from scheduler.render import MEMBER_PLACEHOLDERS, TASK_PLACEHOLDERS, fill, unknown_placeholders
from tests.support.harness import BotHarness
from tests.test_calendar_chat import COLLEAGUE, COMMITTEE, TEACHER, drain, school

HUGE = "{name:>50000000}"


def refusal(bot: BotHarness, found: str, allowed: tuple[str, ...], language: str) -> str:
    """The committee's refusal, in its language."""
    named = " ".join("{" + name + "}" for name in allowed)
    return bot.app.state.i18n.get(language)("placeholder.unknown", found=found, allowed=named)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{name}老师好", "王芳老师好"),
        ("{name}，{org}祝您快乐", "王芳，实验中学工会祝您快乐"),
        (HUGE, HUGE),
        ("{name!r}", "{name!r}"),
        ("{name:}", "{name:}"),
        ("{name.__class__}", "{name.__class__}"),
        ("{name[0]}", "{name[0]}"),
        ("{0}", "{0}"),
        ("{}", "{}"),
        ("{unknown}", "{unknown}"),
        ("{name:{org}}", "{name:实验中学工会}"),
        ("{{name}} 写法", "{name} 写法"),
        ("{name}老师 :-{", "王芳老师 :-{"),  # a stray brace no longer stops the whole text
        ("} {name} {", "} 王芳 {"),
    ],
)
def test_only_named_placeholders_are_filled(template: str, expected: str) -> None:
    assert fill(template, {"name": "王芳", "org": "实验中学工会"}) == expected


def test_unknown_placeholders_are_listed_as_typed() -> None:
    text = "{name} {name:>9} {org} {org!s} {members} {{ok}} {name:>9}"
    assert unknown_placeholders(text, MEMBER_PLACEHOLDERS) == ["{name:>9}", "{org!s}", "{members}"]
    assert unknown_placeholders("{members}人，{date}", TASK_PLACEHOLDERS) == []
    # January's summary is of the year just ended.
    assert unknown_placeholders("{last_year} 年度工作总结", TASK_PLACEHOLDERS) == []
    assert unknown_placeholders("{name}", TASK_PLACEHOLDERS) == ["{name}"]


async def test_broadcast_with_a_format_width_is_refused_when_written(bot: BotHarness) -> None:
    await school(bot)
    await bot.say(COMMITTEE, "/broadcast")
    await bot.press(COMMITTEE, pack("bc", "aud", "everyone"))

    await bot.say(COMMITTEE, f"{HUGE}老师：周五开会。")

    assert bot.telegram.last(COMMITTEE.id).text == refusal(
        bot, HUGE, MEMBER_PLACEHOLDERS, "zh-Hans"
    )
    assert bot.telegram.last(COMMITTEE.id).buttons() == []  # no preview, nothing to confirm
    # Still writing: the corrected text goes on to the preview and out.
    await bot.say(COMMITTEE, "{name}老师：周五开会。{{注意}}")
    preview = bot.telegram.last(COMMITTEE.id)
    await bot.press(COMMITTEE, preview.button_data("确认"))
    await drain(bot)

    assert bot.telegram.last(TEACHER.id).text == "王芳老师：周五开会。{注意}"
    assert bot.telegram.last(COLLEAGUE.id).text == "李丽老师：周五开会。{注意}"
    async with bot.db() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
        assert len((await session.exec(select(Broadcast))).all()) == 1
    assert max(len(row.text) for row in rows) < 100


async def test_calendar_text_with_a_conversion_is_refused_and_not_saved(bot: BotHarness) -> None:
    await school(bot)
    async with bot.db() as session:
        teachers_day = (
            await session.exec(select(CalendarEntry).where(CalendarEntry.key == "teachers_day"))
        ).one()
    before = dict(teachers_day.messages)
    entry_id = teachers_day.id or 0

    await bot.press(COMMITTEE, pack("cal", "text", entry_id))
    await bot.say(COMMITTEE, "{name!r}老师，节日快乐！{name.__class__}")

    assert bot.telegram.last(COMMITTEE.id).text == refusal(
        bot, "{name!r} {name.__class__}", MEMBER_PLACEHOLDERS, "zh-Hans"
    )
    async with bot.db() as session:
        unchanged = await session.get(CalendarEntry, entry_id)
    assert unchanged is not None and unchanged.messages == before

    await bot.say(COMMITTEE, "{name}老师，节日快乐！")  # asked again: the corrected text is saved
    async with bot.db() as session:
        saved = await session.get(CalendarEntry, entry_id)
    assert saved is not None and saved.messages["zh-Hans"] == "{name}老师，节日快乐！"


async def test_a_task_may_quote_only_the_figures(bot: BotHarness) -> None:
    await school(bot)
    await bot.say(COMMITTEE, "/calendar")
    await bot.press(COMMITTEE, bot.telegram.last(COMMITTEE.id).button_data("新增项目"))
    await bot.press(COMMITTEE, pack("cal", "kind", "task"))
    await bot.say(COMMITTEE, "3-1")
    await bot.say(COMMITTEE, "9:00")
    await bot.say(COMMITTEE, "会员统计")

    await bot.say(COMMITTEE, "{name}：会员 {members:>30} 人")

    assert bot.telegram.last(COMMITTEE.id).text == refusal(
        bot, "{name} {members:>30}", TASK_PLACEHOLDERS, "zh-Hans"
    )
    await bot.say(COMMITTEE, "会员 {members} 人，女教职工 {women} 人（{date}）")
    await bot.press(COMMITTEE, bot.telegram.last(COMMITTEE.id).button_data("确认"))
    async with bot.db() as session:
        added = [
            entry
            for entry in (await session.exec(select(CalendarEntry))).all()
            if entry.key.startswith("custom_")
        ]
    assert [entry.messages for entry in added] == [
        {"zh-Hans": "会员 {members} 人，女教职工 {women} 人（{date}）"}
    ]


async def test_a_width_stored_before_the_check_is_sent_as_typed(bot: BotHarness) -> None:
    """A text saved by an older version (or written into the database) is not expanded."""
    await school(bot)
    async with bot.db() as session:
        entry = (
            await session.exec(select(CalendarEntry).where(CalendarEntry.key == "new_year"))
        ).one()
        entry.messages = {"zh-Hans": f"{HUGE}新年好", "en": "{name!r:^90000000}"}
        session.add(entry)
        await session.commit()
    runtime = bot.app.state.runtime
    assert runtime is not None

    recipients = await recipients_for(runtime, entry, date(2027, 1, 1))

    texts = {recipient.text for recipient in recipients}
    assert texts == {f"{HUGE}新年好", "{name!r:^90000000}"}
