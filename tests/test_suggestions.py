"""The suggestion box through the real application: filing, anonymity, the desk, the thread."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import SQLModel, select

from bot.callback import pack
from models.members import Member, Role
from models.organizations import bind_committee_chat
from models.suggestions import (
    Suggestion,
    SuggestionCategory,
    SuggestionEntry,
    SuggestionStatus,
)
from tests.support.factories import make_member
from tests.support.fake_telegram import Call
from tests.support.harness import COMMITTEE_GROUP_ID, BotHarness
from tests.support.updates import Person, group_chat

AUTHOR = Person(2001, "Wang", "zh-hans")
COMMITTEE = Person(1002, "Liu", "zh-hans")
OTHER_COMMITTEE = Person(1003, "Chen", "zh-hans")
AUTHOR_NAME = "王芳芳"
AUTHOR_DEPARTMENT = "初二年级组"
GROUP = group_chat(COMMITTEE_GROUP_ID)


async def setup_school(bot: BotHarness) -> Member:
    """A bound committee group, two committee members and one teacher (the author)."""
    async with bot.db() as session:
        await bind_committee_chat(session, org_id=bot.org_id, chat_id=COMMITTEE_GROUP_ID)
    await make_member(
        bot.db, org_id=bot.org_id, person=COMMITTEE, name="刘委员", roles=[Role.COMMITTEE]
    )
    await make_member(
        bot.db, org_id=bot.org_id, person=OTHER_COMMITTEE, name="陈委员", roles=[Role.COMMITTEE]
    )
    return await make_member(
        bot.db, org_id=bot.org_id, person=AUTHOR, name=AUTHOR_NAME, department=AUTHOR_DEPARTMENT
    )


async def category_id(bot: BotHarness, code: str = "canteen") -> int:
    """The id of a default category (created on first /suggest)."""
    async with bot.db() as session:
        category = (
            await session.exec(select(SuggestionCategory).where(SuggestionCategory.code == code))
        ).one()
    assert category.id is not None
    return category.id


async def file_item(
    bot: BotHarness, *, body: str, anonymous: bool, person: Person = AUTHOR
) -> None:
    """Walk the whole filing conversation."""
    await bot.say(person, "/suggest")
    await bot.press(person, pack("sgf", "cat", await category_id(bot)))
    await bot.say(person, body)
    await bot.press(person, pack("sgf", "photos", "done"))
    await bot.press(person, pack("sgf", "anon", "anon" if anonymous else "named"))
    await bot.press(person, pack("sgf", "confirm", "yes"))


def group_calls(bot: BotHarness) -> list[Call]:
    """Every call that put text into the committee group."""
    return [
        call
        for call in bot.telegram.calls
        if call.chat_id == COMMITTEE_GROUP_ID and call.method in ("sendMessage", "editMessageText")
    ]


async def only_item(bot: BotHarness) -> Suggestion:
    """The one stored item."""
    async with bot.db() as session:
        return (await session.exec(select(Suggestion))).one()


async def test_named_item_reaches_the_desk_with_author_and_number(bot: BotHarness) -> None:
    author = await setup_school(bot)

    await file_item(bot, body="食堂晚餐太早，能否推迟到六点？", anonymous=False)

    item = await only_item(bot)
    assert item.author_member_id == author.id
    assert item.reply_token is None
    assert item.number.startswith("意-") and item.number.endswith("-0001")
    assert item.number in bot.telegram.last(AUTHOR.id).text
    card = bot.telegram.last(COMMITTEE_GROUP_ID)
    assert AUTHOR_NAME in card.text
    assert "食堂晚餐太早" in card.text
    assert [label for label, _ in card.buttons()] == ["✍️ 答复", "✅ 办结"]


async def test_anonymous_item_leaves_no_trace_of_its_author(bot: BotHarness) -> None:
    author = await setup_school(bot)

    await file_item(bot, body="某些领导经常迟到。", anonymous=True)

    item = await only_item(bot)
    assert item.anonymous is True
    assert item.author_member_id is None
    assert (item.answered_by_member_id, item.closed_by_member_id) == (None, None)
    assert item.reply_token is not None
    assert bot.app.state.seal.open(item.reply_token) == author.id
    # Random and time-stamped fields left out: a token or a microsecond may hold "2001".
    stored = " ".join(
        str(value)
        for name, value in item.model_dump().items()
        if name not in {"client_token", "reply_token"} and not isinstance(value, datetime)
    )
    for secret in (str(AUTHOR.id), AUTHOR_NAME, AUTHOR_DEPARTMENT):
        assert secret not in stored
    # The daily anonymous count is kept in memory only, under a keyed hash: no row per author.
    tally = bot.app.state.seal.tally
    assert author.id is not None
    today = datetime.now(bot.app.state.settings.zone).date()
    assert (tally.count(author.id, today), tally.count(author.id + 1, today)) == (1, 0)
    assert "anonymous_quota" not in SQLModel.metadata.tables
    for call in group_calls(bot):
        assert AUTHOR_NAME not in call.text
        assert AUTHOR_DEPARTMENT not in call.text
        assert str(AUTHOR.id) not in str(call.params)
    assert "匿名" in bot.telegram.last(COMMITTEE_GROUP_ID).text


async def test_reply_reaches_the_anonymous_author_and_the_card_is_edited(bot: BotHarness) -> None:
    await setup_school(bot)
    await file_item(bot, body="操场的灯坏了。", anonymous=True)
    item = await only_item(bot)
    card = bot.telegram.last(COMMITTEE_GROUP_ID)

    await bot.press(COMMITTEE, card.button_data("答复"), chat=GROUP)
    assert "操场的灯坏了" in bot.telegram.last(COMMITTEE.id).text
    await bot.write(COMMITTEE, "已报修，本周五前修好。")

    delivered = bot.telegram.last(AUTHOR.id)
    assert "已报修，本周五前修好。" in delivered.text
    assert "刘委员" not in delivered.text
    answered = await only_item(bot)
    assert answered.status == SuggestionStatus.ANSWERED
    edited = bot.telegram.last(COMMITTEE_GROUP_ID, method="editMessageText")
    assert "刘委员" in edited.text and item.number in edited.text
    assert "答复已送达" in bot.telegram.last(COMMITTEE.id).text


async def test_author_follow_up_reopens_and_appears_under_the_card(bot: BotHarness) -> None:
    await setup_school(bot)
    await file_item(bot, body="打印机总卡纸。", anonymous=True)
    item = await only_item(bot)
    card = bot.telegram.last(COMMITTEE_GROUP_ID)
    await bot.press(COMMITTEE, card.button_data("答复"), chat=GROUP)
    await bot.write(COMMITTEE, "已换新打印机。")
    reply = bot.telegram.last(AUTHOR.id)

    await bot.press(AUTHOR, reply.button_data("追问"))
    await bot.write(AUTHOR, "三楼的还没换。")

    reopened = await only_item(bot)
    assert reopened.status == SuggestionStatus.OPEN
    under = bot.telegram.last(COMMITTEE_GROUP_ID)
    assert "三楼的还没换。" in under.text
    assert under.params["reply_parameters"]["message_id"] > 0
    assert AUTHOR_NAME not in under.text
    async with bot.db() as session:
        kinds = [e.kind for e in (await session.exec(select(SuggestionEntry))).all()]
    assert kinds == ["reply", "followup"]
    assert item.number in bot.telegram.last(AUTHOR.id).text


async def test_resolved_closes_and_only_the_author_may_say_so(bot: BotHarness) -> None:
    await setup_school(bot)
    await file_item(bot, body="希望增加午休时间。", anonymous=False)
    item = await only_item(bot)
    card = bot.telegram.last(COMMITTEE_GROUP_ID)
    await bot.press(COMMITTEE, card.button_data("答复"), chat=GROUP)
    await bot.write(COMMITTEE, "下学期起延长十分钟。")
    stranger = Person(3001, "Zhao")
    await make_member(bot.db, org_id=bot.org_id, person=stranger, name="赵老师")

    await bot.press(stranger, pack("sga", "ok", item.id or 0))
    assert (await only_item(bot)).status == SuggestionStatus.ANSWERED
    assert "不是您提交" in bot.telegram.answers()[-1].text

    await bot.press(AUTHOR, pack("sga", "ok", item.id or 0))
    assert (await only_item(bot)).status == SuggestionStatus.CLOSED


async def test_double_close_and_reply_race_end_in_one_state(bot: BotHarness) -> None:
    await setup_school(bot)
    await file_item(bot, body="校车路线能否调整？", anonymous=False)
    card = bot.telegram.last(COMMITTEE_GROUP_ID)

    # Both press Reply; the first to send wins, the second is told and nothing is sent twice.
    await bot.press(COMMITTEE, card.button_data("答复"), chat=GROUP)
    await bot.press(OTHER_COMMITTEE, card.button_data("答复"), chat=GROUP)
    await bot.write(COMMITTEE, "会和交通公司商量。")
    await bot.write(OTHER_COMMITTEE, "不行。")
    assert "刚被别人处理过" in bot.telegram.answers()[-1].text  # the alert on Send
    replies = [t for t in bot.telegram.texts(AUTHOR.id) if "工会委员会对您的意见" in t]
    assert len(replies) == 1 and "会和交通公司商量。" in replies[0]

    await bot.press(COMMITTEE, card.button_data("办结"), chat=GROUP)
    await bot.press(OTHER_COMMITTEE, card.button_data("办结"), chat=GROUP)
    assert (await only_item(bot)).status == SuggestionStatus.CLOSED
    assert "刚被别人处理过" in bot.telegram.answers()[-1].text
    async with bot.db() as session:
        closes = [
            e for e in (await session.exec(select(SuggestionEntry))).all() if e.kind == "closed"
        ]
    assert len(closes) == 1


async def test_non_committee_press_is_refused(bot: BotHarness) -> None:
    await setup_school(bot)
    await file_item(bot, body="建议买新的投影仪。", anonymous=False)
    card = bot.telegram.last(COMMITTEE_GROUP_ID)

    await bot.press(AUTHOR, card.button_data("办结"), chat=GROUP)

    assert bot.telegram.answers()[-1].params["show_alert"] is True
    assert (await only_item(bot)).status == SuggestionStatus.OPEN


async def test_reply_by_someone_no_longer_committee_is_refused(bot: BotHarness) -> None:
    await setup_school(bot)
    await file_item(bot, body="希望组织体检。", anonymous=False)
    card = bot.telegram.last(COMMITTEE_GROUP_ID)
    await bot.press(COMMITTEE, card.button_data("答复"), chat=GROUP)
    async with bot.db() as session:
        from models.members import MemberRole

        for row in (await session.exec(select(MemberRole))).all():
            await session.delete(row)
        await session.commit()

    await bot.write(COMMITTEE, "好的。")

    assert "只有工会委员" in bot.telegram.last(COMMITTEE.id).text
    assert (await only_item(bot)).status == SuggestionStatus.OPEN
    assert not [t for t in bot.telegram.texts(AUTHOR.id) if "好的。" in t]


async def test_empty_and_over_long_text_are_refused_with_counts(bot: BotHarness) -> None:
    await setup_school(bot)
    await bot.say(AUTHOR, "/suggest")
    await bot.press(AUTHOR, pack("sgf", "cat", await category_id(bot)))

    await bot.say(AUTHOR, "\u200b \u200b")
    assert "空" in bot.telegram.last(AUTHOR.id).text
    await bot.say(AUTHOR, "长" * 2001)
    assert "2000" in bot.telegram.last(AUTHOR.id).text
    assert "2001" in bot.telegram.last(AUTHOR.id).text
    await bot.say(AUTHOR, "长" * 2000)
    assert "照片" in bot.telegram.last(AUTHOR.id).text
    async with bot.db() as session:
        assert (await session.exec(select(Suggestion))).all() == []


async def test_anonymous_daily_limit_keeps_the_draft(bot: BotHarness, settings: Any) -> None:
    await setup_school(bot)
    limit = bot.app.state.settings.anonymous_daily_limit
    for index in range(limit):
        await file_item(bot, body=f"第{index}条", anonymous=True)

    await bot.say(AUTHOR, "/suggest")
    await bot.press(AUTHOR, pack("sgf", "cat", await category_id(bot)))
    await bot.say(AUTHOR, "再来一条")
    await bot.press(AUTHOR, pack("sgf", "photos", "done"))
    await bot.press(AUTHOR, pack("sgf", "anon", "anon"))
    await bot.press(AUTHOR, pack("sgf", "confirm", "yes"))
    assert (
        "匿名次数已用完" in bot.telegram.answers()[-1].text
        or "匿名次数已用完" in bot.telegram.last(AUTHOR.id).text
    )

    await bot.press(AUTHOR, pack("sgf", "anon", "named"))
    await bot.press(AUTHOR, pack("sgf", "confirm", "yes"))
    async with bot.db() as session:
        items = (await session.exec(select(Suggestion))).all()
    assert len(items) == limit + 1
    assert [i.anonymous for i in items].count(False) == 1


async def test_mine_lists_anonymous_and_named_items_only_to_their_author(bot: BotHarness) -> None:
    await setup_school(bot)
    await file_item(bot, body="匿名的那条", anonymous=True)
    await file_item(bot, body="署名的那条", anonymous=False)
    other = Person(3002, "Sun")
    await make_member(bot.db, org_id=bot.org_id, person=other, name="孙老师")
    await file_item(bot, body="别人的那条", anonymous=True, person=other)

    await bot.say(AUTHOR, "/mine")

    mine = bot.telegram.last(AUTHOR.id).text
    assert "匿名的那条" in mine and "署名的那条" in mine
    assert "别人的那条" not in mine


async def test_same_confirmation_twice_stores_one_item(bot: BotHarness) -> None:
    from tests.support.updates import button

    await setup_school(bot)
    await bot.say(AUTHOR, "/suggest")
    await bot.press(AUTHOR, pack("sgf", "cat", await category_id(bot)))
    await bot.say(AUTHOR, "重复送达测试")
    await bot.press(AUTHOR, pack("sgf", "photos", "done"))
    await bot.press(AUTHOR, pack("sgf", "anon", "named"))
    confirm = button(AUTHOR, pack("sgf", "confirm", "yes"))
    await bot.feed(confirm)
    await bot.feed(confirm)

    async with bot.db() as session:
        assert len((await session.exec(select(Suggestion))).all()) == 1
    cards = [
        c for c in bot.telegram.sent("sendMessage", COMMITTEE_GROUP_ID) if "重复送达测试" in c.text
    ]
    assert len(cards) == 1


async def test_digest_lists_only_old_open_items(bot: BotHarness) -> None:
    from datetime import UTC, datetime, timedelta

    from models.suggestion_text import render_digest
    from models.suggestions import unanswered_for_days

    await setup_school(bot)
    for body in ("很久以前的", "昨天的", "已答复的"):
        await file_item(bot, body=body, anonymous=True)
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    async with bot.db() as session:
        items = {i.body: i for i in (await session.exec(select(Suggestion))).all()}
        items["很久以前的"].created_at = now - timedelta(days=10)
        items["昨天的"].created_at = now - timedelta(days=1)
        items["已答复的"].created_at = now - timedelta(days=12)
        items["已答复的"].status = SuggestionStatus.ANSWERED
        for item in items.values():
            session.add(item)
        await session.commit()
        overdue = await unanswered_for_days(session, org_id=bot.org_id, now=now, days=7)

    assert [i.body for i in overdue] == ["很久以前的"]
    text = render_digest(bot.app.state.i18n.get("zh-Hans"), overdue, days=7, now=now)
    assert text is not None
    assert overdue[0].number in text and "10 天" in text
    assert AUTHOR_NAME not in text
    assert render_digest(bot.app.state.i18n.get("en"), [], days=7, now=now) is None
