"""Checks shared by the features that publish a 公示 notice (ballot results, prize winners,
handling results): the stored notice, the channel post with its 提出异议 link, and an objection
that reaches the committee group as a card."""

from __future__ import annotations

from sqlmodel import col, select

from bot.callback import pack
from models.notices import Notice, NoticeKind, NoticeStatus
from models.workdays import DEFAULT_WORKING_DAYS, add_working_days, next_working_day
from tests.support.fake_telegram import Call
from tests.support.harness import COMMITTEE_GROUP_ID, BotHarness
from tests.support.updates import Person

SEND = pack("form", "out", "send")


async def latest_notice(bot: BotHarness) -> Notice:
    """The notice stored last."""
    async with bot.db() as session:
        notice = (await session.exec(select(Notice).order_by(col(Notice.id).desc()))).first()
    assert notice is not None
    return notice


async def check_published_notice(
    bot: BotHarness, *, kind: NoticeKind, channel_id: int, audience: str
) -> tuple[Notice, Call]:
    """The notice just published: its kind, the default period of working days as /notice
    gives, open; the channel's post carries it, with the 提出异议 link under its last part."""
    notice = await latest_notice(bot)
    today = bot.app.state.clock().astimezone(bot.app.state.settings.zone).date()
    assert (notice.kind, notice.status, notice.audience) == (kind, NoticeStatus.OPEN, audience)
    assert notice.starts_on == next_working_day(today)
    assert notice.ends_on == add_working_days(today, DEFAULT_WORKING_DAYS)
    heading = f"📋 公示：{notice.title}（{notice.number}）"
    assert any(c.text.startswith(heading) for c in bot.telegram.sent(chat_id=channel_id))
    post = bot.telegram.last(channel_id)  # the last (or only) part, with the link
    assert "公示期自" in post.text
    link = f"https://t.me/union_desk_test_bot?start=objection-{notice.id}"
    assert post.buttons() == [("提出异议", link)]
    return notice, post


async def object_through_the_link(
    bot: BotHarness, person: Person, notice: Notice, text: str
) -> Call:
    """A member follows the channel's link, objects with their name, checks and sends; the
    card the committee group got is returned."""
    await bot.say(person, f"/start objection-{notice.id}")
    await bot.press(person, pack("nto", "go", "named", notice.id or 0))
    await bot.say(person, text)
    await bot.press(person, SEND)
    assert f"{notice.number}-1" in bot.telegram.last(person.id).text
    card = bot.telegram.last(COMMITTEE_GROUP_ID)
    assert text in card.text and notice.number in card.text
    assert card.button_data("答复").startswith("ntc:reply:")
    return card
