"""After "change time or place", the announcement already sent is edited in place (issue 16,
item 7): editMessageText for messages sent in the last 48 hours, a new text for those not sent
yet, and the change notice for readers whose announcement cannot be edited (older, deleted)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import col, select

from bot.callback import pack
from models.activities import Activity
from models.base import utcnow
from models.members import Member, MemberStatus
from models.organizations import Organization
from models.outbox import Broadcast, OutboxMessage, OutboxStatus
from tests.support.fake_telegram import Failure
from tests.support.harness import BotHarness
from tests.test_activity_rules import (
    COMMITTEE,
    add_committee,
    add_members,
    create,
    local,
)
from tests.test_calendar_chat import drain

CHANNEL = -1001234567890


async def _rows(bot: BotHarness, prefix: str) -> list[OutboxMessage]:
    async with bot.db() as session:
        statement = (
            select(OutboxMessage)
            .join(Broadcast, col(Broadcast.id) == col(OutboxMessage.broadcast_id))
            .where(col(Broadcast.key).startswith(prefix))
            .order_by(col(OutboxMessage.id))
        )
        return list((await session.exec(statement)).all())


async def _move(bot: BotHarness, aid: int, when: str, place: str) -> str:
    await bot.press(COMMITTEE, pack("ag", "move", aid))
    await bot.say(COMMITTEE, when)
    await bot.say(COMMITTEE, place)
    return bot.telegram.last(COMMITTEE.id).text


async def test_the_sent_announcement_is_edited_and_the_rest_are_told(bot: BotHarness) -> None:
    await add_committee(bot)
    async with bot.db() as session:
        org = await session.get(Organization, bot.org_id)
        assert org is not None
        org.disclosure_chat_id = CHANNEL
        session.add(org)
        await session.commit()
    signed, fresh, old = await add_members(bot, 3)
    activity = await create(bot, capacity="5")
    aid = activity.id or 0
    await drain(bot)
    announced = await _rows(bot, f"activity:{aid}:announce")
    assert {r.chat_id for r in announced} >= {signed.id, fresh.id, old.id, CHANNEL}
    sent_ids = {r.chat_id: r.telegram_message_id for r in announced}
    # The id Telegram gave each message is stored.
    for call in bot.telegram.sent("sendMessage"):
        if call.chat_id in sent_ids and "体育馆" in call.text:
            assert sent_ids[call.chat_id] is not None
    await bot.press(signed, pack("av", "su", aid))
    # One announcement is three days old: Telegram's edit window is over.
    async with bot.db() as session:
        await session.exec(
            update(OutboxMessage)
            .where(col(OutboxMessage.chat_id) == old.id)
            .values(sent_at=utcnow() - timedelta(hours=49))
        )
        await session.commit()
    # And one was deleted by its reader: Telegram refuses the first edit.
    bot.telegram.failures.append(
        Failure("editMessageText", 400, "Bad Request: message to edit not found")
    )

    new_start = activity.starts_at + timedelta(days=1)
    reply = await _move(bot, aid, local(bot, new_start), "学校礼堂")

    edits = bot.telegram.sent("editMessageText")
    refused, done = edits[0], edits[1:]
    assert old.id not in {e.chat_id for e in edits}
    assert {e.chat_id for e in edits} == {r.chat_id for r in announced} - {old.id}
    for edit in done:
        assert edit.params["message_id"] == sent_ids[edit.chat_id or 0]
        assert "学校礼堂" in edit.text and local(bot, new_start) in edit.text
        assert "时间或地点已更改" in edit.text
        if edit.chat_id == CHANNEL:
            assert edit.buttons() == [] and "/activities" in edit.text
        else:
            assert any(data == pack("av", "su", aid) for _, data in edit.buttons())
    assert f"{len(done)} 条活动通知已改为新的时间和地点" in reply

    # The change notice: everyone signed up, plus the readers whose announcement stays old.
    notices = await _rows(bot, f"activity:{aid}:move:")
    assert {n.chat_id for n in notices} == {signed.id, old.id, refused.chat_id}
    assert all("有变动" in n.text and "学校礼堂" in n.text for n in notices)
    assert fresh.id not in {n.chat_id for n in notices} or refused.chat_id == fresh.id
    assert (await _activity_place(bot, aid)) == "学校礼堂"


async def _activity_place(bot: BotHarness, aid: int) -> str:
    async with bot.db() as session:
        activity = await session.get(Activity, aid, populate_existing=True)
    assert activity is not None
    return activity.place


async def test_an_announcement_not_sent_yet_goes_out_with_the_new_details(
    bot: BotHarness,
) -> None:
    await add_committee(bot)
    (member,) = await add_members(bot, 1)
    activity = await create(bot, capacity="5")
    aid = activity.id or 0
    waiting = await _rows(bot, f"activity:{aid}:announce")
    assert member.id in {row.chat_id for row in waiting}
    assert {row.status for row in waiting} == {OutboxStatus.PENDING}  # not sent yet

    reply = await _move(bot, aid, "-", "学校礼堂")
    assert f"{len(waiting)} 条活动通知已改为新的时间和地点" in reply
    assert bot.telegram.sent("editMessageText") == []
    assert await _rows(bot, f"activity:{aid}:move:") == []  # nobody signed up, nobody stale

    await drain(bot)
    received = bot.telegram.last(member.id)
    assert "学校礼堂" in received.text and "体育馆" not in received.text
    assert any(data == pack("av", "su", aid) for _, data in received.buttons())


async def _leave(bot: BotHarness, user_id: int) -> None:
    async with bot.db() as session:
        await session.exec(
            update(Member)
            .where(col(Member.telegram_user_id) == user_id)
            .values(status=MemberStatus.INACTIVE)
        )
        await session.commit()


async def test_a_member_who_left_is_neither_edited_nor_told_of_a_move(bot: BotHarness) -> None:
    await add_committee(bot)
    old, recent = await add_members(bot, 2)
    activity = await create(bot, capacity="5")
    aid = activity.id or 0
    await drain(bot)
    async with bot.db() as session:  # one announcement too old to edit, one still editable
        await session.exec(
            update(OutboxMessage)
            .where(col(OutboxMessage.chat_id) == old.id)
            .values(sent_at=utcnow() - timedelta(hours=49))
        )
        await session.commit()
    await _leave(bot, old.id)
    await _leave(bot, recent.id)
    before = len(bot.telegram.calls)

    await _move(bot, aid, local(bot, activity.starts_at + timedelta(days=1)), "学校礼堂")
    await drain(bot)

    touched = {call.chat_id for call in bot.telegram.calls[before:]}
    assert old.id not in touched and recent.id not in touched
    assert old.id not in {row.chat_id for row in await _rows(bot, f"activity:{aid}:move:")}


async def test_a_message_queued_before_a_member_left_is_withheld_at_delivery(
    bot: BotHarness,
) -> None:
    await add_committee(bot)
    (gone,) = await add_members(bot, 1)
    activity = await create(bot, capacity="5")
    await _leave(bot, gone.id)  # after the announcement was queued, before it went out

    await drain(bot)

    assert gone.id not in {call.chat_id for call in bot.telegram.sent("sendMessage")}
    rows = await _rows(bot, f"activity:{activity.id}:announce")
    [row] = [r for r in rows if r.chat_id == gone.id]
    assert row.status == OutboxStatus.WITHHELD
