"""Dates, counts and money as people write them, accepted end to end through the real
application; and refusals that name the forms that work."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from bot.callback import pack
from models.base import utcnow
from tests.support.harness import BotHarness
from tests.test_activity_rules import COMMITTEE, add_committee, latest_activity, local
from tests.test_aid_flows import (
    ASK_EVIDENCE,
    MEMBER,
    STORY,
    WRITE_AMOUNT,
    WRITE_DAY,
    latest_case,
    replies,
    setup_school,
    today,
)


def next_friday_half_past_three(bot: BotHarness) -> datetime:
    """下周五下午三点半 worked out by hand: the Friday of next week (weeks start on Monday)."""
    zone = bot.app.state.settings.zone
    day = utcnow().astimezone(zone).date()
    friday = day - timedelta(days=day.weekday()) + timedelta(days=7 + 4)
    return datetime.combine(friday, time(15, 30), tzinfo=zone)


async def test_newactivity_reads_next_friday_afternoon_and_twenty_people(bot: BotHarness) -> None:
    await add_committee(bot)
    await bot.say(COMMITTEE, "/newactivity")
    await bot.say(COMMITTEE, "教职工插花")
    await bot.press(COMMITTEE, pack("ag", "cat", "culture"))

    await bot.say(COMMITTEE, "下个礼拜八")
    refusal = bot.telegram.last(COMMITTEE.id).text
    assert "没看懂时间" in refusal and "下周五下午三点半" in refusal and "明天上午9点" in refusal

    await bot.say(COMMITTEE, "下周五下午三点半")
    assert "地点" in bot.telegram.last(COMMITTEE.id).text
    await bot.say(COMMITTEE, "工会活动室")
    await bot.say(COMMITTEE, "两万人")
    refusal = bot.telegram.last(COMMITTEE.id).text
    assert "1 到 10000" in refusal and "二十人" in refusal
    await bot.say(COMMITTEE, "20人")
    assert "报名截止时间" in bot.telegram.last(COMMITTEE.id).text
    await bot.press(COMMITTEE, pack("ag", "dl", "start"))
    await bot.press(COMMITTEE, pack("ag", "who", "everyone"))
    await bot.press(COMMITTEE, pack("ag", "ch", "none"))
    await bot.press(COMMITTEE, pack("ag", "fam", "0"))
    await bot.press(COMMITTEE, pack("ag", "mode", "first_come"))
    await bot.press(COMMITTEE, pack("ag", "desc", "none"))
    await bot.press(COMMITTEE, pack("ag", "ok", "yes"))
    assert "已发布" in bot.telegram.last(COMMITTEE.id).text

    activity = await latest_activity(bot)
    assert activity is not None
    assert activity.capacity == 20
    assert activity.starts_at == next_friday_half_past_three(bot)
    assert local(bot, activity.starts_at).endswith("15:30")


async def test_an_aid_event_day_written_as_the_day_before_yesterday(bot: BotHarness) -> None:
    await setup_school(bot)
    await bot.say(MEMBER, "/aid")
    await bot.press(MEMBER, pack("ad", "who", "me"))
    await bot.press(MEMBER, pack("ad", "type", "hospital"))
    assert WRITE_DAY in await replies(bot, MEMBER, STORY)

    said = await replies(bot, MEMBER, "上上上周")
    assert "没看懂日期" in said and "前天" in said and "端午节" in said
    assert WRITE_AMOUNT in await replies(bot, MEMBER, "前天")

    said = await replies(bot, MEMBER, "-300")
    assert "金额要写成正数" in said and "三千元" in said
    assert ASK_EVIDENCE in await replies(bot, MEMBER, "三百元")
    await bot.press(MEMBER, pack("ad", "ev", "done"))
    await bot.press(MEMBER, pack("ad", "ok", "yes"))

    case = await latest_case(bot)
    assert case.happened_on == today(bot) - timedelta(days=2)
    assert case.amount_asked == 30000
