"""The birthday in registration and /me: real buttons for what the text offers (跳过 where it
is optional, 清除生日 where one is set), and a cleared birthday is stored as NULL and gets no
greeting."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.callback import pack
from handlers.members.buttons import ProfileBirthday, ProfileEdit
from models.members import Member
from scheduler.calendar_jobs import recipients_for
from tests.support.factories import make_member
from tests.support.harness import BotHarness
from tests.support.updates import Person
from tests.test_bad_input import ASK_RETIRED, BIRTHDAY_FORMAT, to_birthday_step
from tests.test_bad_input import TEACHER as NEWCOMER
from tests.test_calendar import entry, runtime_of

TEACHER = Person(2101, "Wang", "zh-hans")
ASK = "请输入您的生日"
CLEAR = "清除生日"
TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()


async def teacher(bot: BotHarness, *, birthday: bool) -> Member:
    """A registered teacher, born today (some year) if `birthday`."""
    member = await make_member(bot.db, org_id=bot.org_id, person=TEACHER, name="王芳")
    if birthday:
        async with bot.db() as session:
            member.birth_year, member.birth_month, member.birth_day = 1985, TODAY.month, TODAY.day
            session.add(member)
            await session.commit()
    return member


async def stored(bot: BotHarness, member: Member) -> Member:
    """The member row as stored now."""
    async with bot.db() as session:
        row = await session.get(Member, member.id)
    assert row is not None
    return row


async def greeted_today(bot: BotHarness) -> list[int]:
    """Who today's birthday greeting goes to."""
    birthdays = await entry(bot, "birthdays")
    return [item.chat_id for item in await recipients_for(runtime_of(bot), birthdays, TODAY)]


async def test_clearing_the_birthday_in_me_stores_null_and_stops_the_greeting(
    bot: BotHarness,
) -> None:
    member = await teacher(bot, birthday=True)
    assert await greeted_today(bot) == [TEACHER.id]

    await bot.press(TEACHER, ProfileEdit("birthday").pack())
    asked = bot.telegram.last(TEACHER.id)
    assert asked.text.startswith(ASK)
    assert "跳过" not in asked.text
    assert [label for label, _ in asked.buttons()] == ["🗑 清除生日"]
    await bot.press(TEACHER, asked.button_data(CLEAR))

    row = await stored(bot, member)
    assert (row.birth_year, row.birth_month, row.birth_day) == (None, None, None)
    said = bot.telegram.texts(TEACHER.id)
    assert "生日已清除，今后不会再收到生日祝福。" in said
    assert "生日：未填" in said[-1]  # /me shown again
    assert await greeted_today(bot) == []


async def test_no_clear_button_when_no_birthday_is_set(bot: BotHarness) -> None:
    await teacher(bot, birthday=False)

    await bot.press(TEACHER, ProfileEdit("birthday").pack())

    asked = bot.telegram.last(TEACHER.id)
    assert asked.text.startswith(ASK)
    assert "跳过" not in asked.text
    assert asked.buttons() == []


async def test_a_refused_birthday_in_me_keeps_the_clear_button(bot: BotHarness) -> None:
    member = await teacher(bot, birthday=True)
    await bot.press(TEACHER, ProfileEdit("birthday").pack())

    await bot.say(TEACHER, "13-40")

    refusal = bot.telegram.last(TEACHER.id)
    assert refusal.text == "没看懂这个日期。请按 03-08 或 1985-03-08 的格式输入。"
    await bot.press(TEACHER, refusal.button_data(CLEAR))
    assert (await stored(bot, member)).birth_month is None


async def test_a_new_birthday_in_me_is_saved(bot: BotHarness) -> None:
    member = await teacher(bot, birthday=True)
    await bot.press(TEACHER, ProfileEdit("birthday").pack())

    await bot.say(TEACHER, "1980-03-08")

    row = await stored(bot, member)
    assert (row.birth_year, row.birth_month, row.birth_day) == (1980, 3, 8)


async def test_the_clear_button_is_a_stale_button_outside_the_edit(bot: BotHarness) -> None:
    member = await teacher(bot, birthday=True)

    await bot.press(TEACHER, ProfileBirthday("clear").pack())

    assert (await stored(bot, member)).birth_month == TODAY.month


async def test_registration_refusal_offers_the_skip_button_it_mentions(bot: BotHarness) -> None:
    await to_birthday_step(bot, NEWCOMER)

    await bot.say(NEWCOMER, "abc")

    refusal = bot.telegram.last(NEWCOMER.id)
    assert refusal.text.startswith(BIRTHDAY_FORMAT)
    assert "Skip" not in refusal.text
    assert refusal.buttons() == [("Skip", pack("reg", "birthday", "skip"))]
    await bot.press(NEWCOMER, refusal.button_data("Skip"))
    assert ASK_RETIRED in bot.telegram.last(NEWCOMER.id).text
