"""/calendar, /broadcast and muting greetings, through the real application."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.callback import pack
from models.base import utcnow
from models.calendar import CalendarEntry
from models.members import Member, Role
from models.organizations import bind_committee_chat
from models.outbox import Broadcast, OutboxMessage, OutboxStatus
from scheduler.outbox import OutboxSender, Pace
from tests.support.factories import make_member
from tests.support.harness import COMMITTEE_GROUP_ID, BotHarness
from tests.support.updates import Person

COMMITTEE = Person(1002, "Liu", "zh-hans")
TEACHER = Person(2001, "Wang", "zh-hans")
COLLEAGUE = Person(2002, "Li", "en")


async def school(bot: BotHarness) -> None:
    """A committee member, two women teachers (one reads English) and one man."""
    async with bot.db() as session:
        await bind_committee_chat(session, org_id=bot.org_id, chat_id=COMMITTEE_GROUP_ID)
    await make_member(
        bot.db, org_id=bot.org_id, person=COMMITTEE, name="刘委员", roles=[Role.COMMITTEE]
    )
    await make_member(bot.db, org_id=bot.org_id, person=TEACHER, name="王芳", gender="female")
    await make_member(
        bot.db, org_id=bot.org_id, person=COLLEAGUE, name="李丽", gender="female", language="en"
    )
    await make_member(
        bot.db, org_id=bot.org_id, person=Person(2003, "Zhao"), name="赵强", gender="male"
    )


async def drain(bot: BotHarness) -> None:
    """Send what the outbox holds, quickly and outside quiet hours."""
    runtime = bot.app.state.runtime
    assert runtime is not None
    sender = OutboxSender(
        db=bot.db,
        bot=bot.app.bot,
        quiet=runtime.quiet,
        pace=Pace(per_second=1000, private_chat_interval=0, group_interval=0),
        # Tomorrow 12:00 in Shanghai: past any quiet-hours wait, whenever the test runs.
        now=lambda: (utcnow() + timedelta(days=1)).replace(hour=4),
    )
    await sender.drain()


async def test_broadcast_to_women_reaches_only_women_in_their_language(bot: BotHarness) -> None:
    await school(bot)

    await bot.say(COMMITTEE, "/broadcast")
    await bot.press(COMMITTEE, pack("bc", "aud", "women"))
    await bot.say(COMMITTEE, "{name}老师：周五下午妇科体检，请准时参加。")
    preview = bot.telegram.last(COMMITTEE.id)
    assert "共 2 人" in preview.text
    await bot.press(COMMITTEE, preview.button_data("确认"))
    await drain(bot)

    assert "周五下午妇科体检" in bot.telegram.last(TEACHER.id).text
    assert bot.telegram.last(TEACHER.id).text.startswith("王芳老师")
    assert bot.telegram.last(COLLEAGUE.id).text.startswith("李丽老师")
    assert bot.telegram.texts(2003) == []
    async with bot.db() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    assert sorted(row.chat_id for row in rows) == [TEACHER.id, COLLEAGUE.id]
    assert {row.status for row in rows} == {OutboxStatus.SENT}


async def test_broadcast_confirmed_twice_is_sent_once(bot: BotHarness) -> None:
    from tests.support.updates import button

    await school(bot)
    await bot.say(COMMITTEE, "/broadcast")
    await bot.press(COMMITTEE, pack("bc", "aud", "everyone"))
    await bot.say(COMMITTEE, "工会活动室本周六开放。")
    confirm = button(COMMITTEE, pack("bc", "confirm", "yes"))
    await bot.feed(confirm)
    await bot.feed(confirm)
    await bot.press(COMMITTEE, pack("bc", "confirm", "yes"))

    async with bot.db() as session:
        assert len((await session.exec(select(Broadcast))).all()) == 1


async def test_broadcast_is_committee_only(bot: BotHarness) -> None:
    await school(bot)

    await bot.say(TEACHER, "/broadcast")

    assert "只有工会委员" in bot.telegram.last(TEACHER.id).text
    async with bot.db() as session:
        assert (await session.exec(select(Broadcast))).all() == []


async def test_calendar_lists_upcoming_entries_and_edits_time(bot: BotHarness) -> None:
    await school(bot)

    await bot.say(COMMITTEE, "/calendar")
    listing = bot.telegram.last(COMMITTEE.id)
    assert "未来 60 天" in listing.text
    async with bot.db() as session:
        womens_day = (
            await session.exec(select(CalendarEntry).where(CalendarEntry.key == "womens_day"))
        ).one()
    await bot.press(COMMITTEE, pack("cal", "open", womens_day.id or 0))
    card = bot.telegram.last(COMMITTEE.id)
    assert "女教职工" in card.text and "08:30" in card.text

    await bot.press(COMMITTEE, card.button_data("改时间"))
    await bot.say(COMMITTEE, "25:00")
    assert "时间格式不对" in bot.telegram.last(COMMITTEE.id).text
    await bot.say(COMMITTEE, "9:15")

    async with bot.db() as session:
        stored = await session.get(CalendarEntry, womens_day.id)
    assert stored is not None and stored.time_of_day == "09:15"
    assert "09:15" in bot.telegram.last(COMMITTEE.id).text


async def test_calendar_switch_preview_and_test_to_self(bot: BotHarness) -> None:
    await school(bot)
    async with bot.db() as session:
        teachers_day = (
            await session.exec(select(CalendarEntry).where(CalendarEntry.key == "teachers_day"))
        ).one()
    entry_id = teachers_day.id or 0

    await bot.press(COMMITTEE, pack("cal", "toggle", entry_id))
    async with bot.db() as session:
        switched = await session.get(CalendarEntry, entry_id)
    assert switched is not None and switched.enabled is False

    await bot.press(COMMITTEE, pack("cal", "preview", entry_id))
    assert "刘委员老师，教师节快乐" in bot.telegram.last(COMMITTEE.id).text
    await bot.press(COMMITTEE, pack("cal", "test", entry_id))
    assert bot.telegram.last(COMMITTEE.id).text.startswith("【测试】")
    assert bot.telegram.texts(TEACHER.id) == []

    await bot.press(TEACHER, pack("cal", "toggle", entry_id))
    async with bot.db() as session:
        unchanged = await session.get(CalendarEntry, entry_id)
    assert unchanged is not None and unchanged.enabled is False


async def test_muted_member_gets_no_greeting_but_still_gets_notices(bot: BotHarness) -> None:
    from datetime import date

    from scheduler.calendar_jobs import fire

    await school(bot)
    await bot.say(TEACHER, "/me")
    await bot.press(TEACHER, bot.telegram.last(TEACHER.id).button_data("不再接收祝福"))
    async with bot.db() as session:
        teacher = (
            await session.exec(select(Member).where(Member.telegram_user_id == TEACHER.id))
        ).one()
        womens_day = (
            await session.exec(select(CalendarEntry).where(CalendarEntry.key == "womens_day"))
        ).one()
    assert teacher.mute_greetings is True
    runtime = bot.app.state.runtime
    assert runtime is not None

    await fire(runtime, womens_day, date(2027, 3, 8), now=utcnow())
    await drain(bot)

    assert not any("妇女节" in text for text in bot.telegram.texts(TEACHER.id))
    assert any("Women's Day" in text for text in bot.telegram.texts(COLLEAGUE.id))


async def test_committee_adds_a_lunar_entry_in_chat(bot: BotHarness) -> None:
    await school(bot)
    await bot.say(COMMITTEE, "/calendar")
    await bot.press(COMMITTEE, bot.telegram.last(COMMITTEE.id).button_data("新增项目"))
    await bot.press(COMMITTEE, pack("cal", "kind", "greeting"))
    await bot.press(COMMITTEE, pack("cal", "aud", "everyone"))
    await bot.say(COMMITTEE, "明天")
    assert "没看懂这个日期" in bot.telegram.last(COMMITTEE.id).text
    await bot.say(COMMITTEE, "农历8-15")
    await bot.say(COMMITTEE, "9:00")
    await bot.say(COMMITTEE, "中秋节祝福")
    await bot.say(COMMITTEE, "{name}老师，中秋快乐！")
    await bot.press(COMMITTEE, bot.telegram.last(COMMITTEE.id).button_data("其余语言都用"))
    preview = bot.telegram.last(COMMITTEE.id)
    assert "中秋节祝福" in preview.text
    await bot.press(COMMITTEE, preview.button_data("确认"))

    async with bot.db() as session:
        entries = (await session.exec(select(CalendarEntry))).all()
    added = [e for e in entries if e.key.startswith("custom_")]
    assert len(added) == 1
    assert added[0].rule == {"type": "lunar", "month": 8, "day": 15}
    assert added[0].time_of_day == "09:00"
    assert added[0].messages == {"zh-Hans": "{name}老师，中秋快乐！"}
    assert added[0].audience == {"type": "everyone"}


async def test_adding_an_entry_is_committee_only(bot: BotHarness) -> None:
    await school(bot)

    await bot.press(TEACHER, pack("cal", "add", 0))

    assert bot.telegram.answers()[-1].params["show_alert"] is True
    async with bot.db() as session:
        entries = (await session.exec(select(CalendarEntry))).all()
    assert not [e for e in entries if e.key.startswith("custom_")]
