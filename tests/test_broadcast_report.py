"""/broadcast says what will follow for this broadcast: the figures in the committee group only
above the outbox's report threshold, and none without a committee group."""

from __future__ import annotations

import functools
from datetime import timedelta

from sqlmodel import select

from bot.callback import pack
from models.base import utcnow
from models.members import Role
from models.organizations import bind_committee_chat
from models.outbox import Broadcast
from scheduler.outbox import OutboxSender, Pace
from scheduler.setup import write_report
from tests.support.factories import make_member
from tests.support.harness import COMMITTEE_GROUP_ID, BotHarness
from tests.support.updates import Person

COMMITTEE = Person(1002, "Liu", "zh-hans")


async def committee_and_teachers(bot: BotHarness, teachers: int, *, group: bool = True) -> None:
    """A committee member and `teachers` teachers; the committee group bound if `group`."""
    if group:
        async with bot.db() as session:
            await bind_committee_chat(session, org_id=bot.org_id, chat_id=COMMITTEE_GROUP_ID)
    await make_member(
        bot.db, org_id=bot.org_id, person=COMMITTEE, name="刘委员", roles=[Role.COMMITTEE]
    )
    for number in range(teachers):
        await make_member(
            bot.db, org_id=bot.org_id, person=Person(3000 + number, "T"), name=f"教师{number}"
        )


async def broadcast_to_everyone(bot: BotHarness) -> str:
    """Write and confirm a broadcast to everyone; the confirmation text."""
    await bot.say(COMMITTEE, "/broadcast")
    await bot.press(COMMITTEE, pack("bc", "aud", "everyone"))
    await bot.say(COMMITTEE, "工会活动室本周六开放。")
    await bot.press(COMMITTEE, pack("bc", "confirm", "yes"))
    return bot.telegram.last(COMMITTEE.id).text


async def drain_with_reports(bot: BotHarness) -> None:
    """Send everything with the running bot's report hook and threshold, outside quiet hours."""
    runtime = bot.app.state.runtime
    assert runtime is not None
    sender = OutboxSender(
        db=bot.db,
        bot=bot.app.bot,
        quiet=runtime.quiet,
        pace=Pace(per_second=1000, private_chat_interval=0, group_interval=0),
        now=lambda: (utcnow() + timedelta(days=1)).replace(hour=4),
    )
    sender.report = functools.partial(write_report, runtime)
    await sender.drain()  # the broadcast, then its report queued
    await sender.drain()  # the report itself


async def test_small_broadcast_says_no_report_follows_and_none_does(bot: BotHarness) -> None:
    await committee_and_teachers(bot, 11)

    told = await broadcast_to_everyone(bot)
    await drain_with_reports(bot)

    assert told == (
        "已排队发送给 12 人。超过 50 人的群发才会在委员会群汇报送达统计，这次发完不另行汇报。"
    )
    assert bot.telegram.texts(COMMITTEE_GROUP_ID) == []
    async with bot.db() as session:
        (broadcast,) = (await session.exec(select(Broadcast))).all()
    assert broadcast.total == 12
    assert broadcast.reported_at is None


async def test_large_broadcast_promises_the_report_and_it_comes(bot: BotHarness) -> None:
    await committee_and_teachers(bot, 50)

    told = await broadcast_to_everyone(bot)
    await drain_with_reports(bot)

    assert told == (
        "已排队发送给 51 人。发完后委员会群会收到送达统计（送达、无法送达、失败各多少人）。"
    )
    (report,) = bot.telegram.texts(COMMITTEE_GROUP_ID)
    assert "共 51 人，送达 51" in report


async def test_threshold_is_exactly_the_senders(bot: BotHarness) -> None:
    """50 recipients is not over 50: no promise and no report."""
    await committee_and_teachers(bot, 49)

    told = await broadcast_to_everyone(bot)
    await drain_with_reports(bot)

    assert "已排队发送给 50 人" in told
    assert "这次发完不另行汇报" in told
    assert bot.telegram.texts(COMMITTEE_GROUP_ID) == []


async def test_without_a_committee_group_no_report_is_promised(bot: BotHarness) -> None:
    await committee_and_teachers(bot, 50, group=False)

    told = await broadcast_to_everyone(bot)
    await drain_with_reports(bot)

    assert told == "已排队发送给 51 人。委员会群尚未绑定，发完后不会汇报送达统计。"
    async with bot.db() as session:
        (broadcast,) = (await session.exec(select(Broadcast))).all()
    assert broadcast.report_chat_id is None
    assert broadcast.reported_at is None
