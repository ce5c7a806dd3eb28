"""The suggestion box beyond the basics: photos, the disclosure channel, /suggestions,
/categories, Reply edge cases, privacy of the logs, nothing dropped, and the committee digest.

Everything goes through the real application over the fake transport; assertions are on what
Telegram was asked to send and on what the database holds.
"""

from __future__ import annotations

import itertools
import logging
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from bot.callback import pack
from models.desk import DeskCard
from models.members import Member, Role
from models.organizations import Organization, bind_disclosure_chat
from models.suggestion_text import render_digest
from models.suggestions import (
    Suggestion,
    SuggestionCategory,
    SuggestionEntry,
    SuggestionPhoto,
    SuggestionStatus,
    ensure_default_categories,
    unanswered_for_days,
)
from tests.support.factories import make_member
from tests.support.fake_telegram import BOT_USERNAME, Call, Failure
from tests.support.harness import CHAIR, COMMITTEE_GROUP_ID, BotHarness
from tests.support.updates import Person, sticker, text, voice
from tests.test_suggestions import (
    AUTHOR,
    AUTHOR_DEPARTMENT,
    AUTHOR_NAME,
    COMMITTEE,
    GROUP,
    category_id,
    file_item,
    group_calls,
    only_item,
    setup_school,
)

CHANNEL_ID = -1009876543210
CHANNEL: dict[str, Any] = {"id": CHANNEL_ID, "type": "channel", "title": "校务公开栏"}
SHANGHAI = ZoneInfo("Asia/Shanghai")

# Texts as a zh-hans person sees them (bot/locales/zh_Hans/LC_MESSAGES/unionbot.po).
PHOTOS_ONLY = "这里只能附照片"
TEXT_EXPECTED = "这一步需要文字"
USE_BUTTONS = "请点击上面消息中的按钮"
ASK_ANONYMITY = "署名还是匿名？"
NOT_COMMITTEE = "只有工会委员可以处理这一项。"
CHAIR_ONLY = "只有工会主席可以绑定"
BAD_CODE = "验证码无效或已用过"
CHANNEL_BOUND = "本频道已设为校务公开栏"
PUBLISHED_ON_CARD = "在校务公开栏公示"
ALREADY_PUBLISHED = "已经公示过了"
PUBLISH_FAILED = "没能发到公开栏频道"
OPEN_PRIVATE_FIRST = "请先私聊我一次"
NOT_UNDERSTOOD = "我没看懂这条消息"
MENU_TITLE = "请选择要做的事："
APOLOGY = "抱歉"

_seq = itertools.count(1)


# ---- building updates and data ----------------------------------------------------------


def photo(person: Person, file_id: str) -> dict[str, Any]:
    """A photo message as Telegram sends it: one PhotoSize per resolution, largest last."""
    update = text(person, "")
    message = update["message"]
    del message["text"]
    message["photo"] = [
        {
            "file_id": f"{file_id}-thumb",
            "file_unique_id": f"{file_id}-t",
            "width": 90,
            "height": 67,
        },
        {"file_id": file_id, "file_unique_id": f"{file_id}-u", "width": 1280, "height": 960},
    ]
    return update


def document(person: Person) -> dict[str, Any]:
    """A PDF sent as a file."""
    update = text(person, "")
    message = update["message"]
    del message["text"]
    message["document"] = {
        "file_id": "BQACAgIAAxkBdocument",
        "file_unique_id": "AgADdocument",
        "file_name": "意见.pdf",
        "mime_type": "application/pdf",
        "file_size": 12345,
    }
    return update


def channel_post(body: str, chat: dict[str, Any] = CHANNEL) -> dict[str, Any]:
    """A post in a channel: no `from`, the channel itself is the sender."""
    update = text(CHAIR, body, chat=chat)
    message = update.pop("message")
    del message["from"]
    message["sender_chat"] = chat
    update["channel_post"] = message
    return update


async def to_photo_step(bot: BotHarness, body: str = "教学楼三楼的窗户坏了。") -> None:
    """/suggest, a category and the text: the bot now waits for photos."""
    await bot.say(AUTHOR, "/suggest")
    await bot.press(AUTHOR, pack("sgf", "cat", await category_id(bot)))
    await bot.say(AUTHOR, body)


async def stored_counts(bot: BotHarness) -> tuple[int, int]:
    """How many items and photos the database holds."""
    async with bot.db() as session:
        items = (await session.exec(select(Suggestion))).all()
        photos = (await session.exec(select(SuggestionPhoto))).all()
    return len(items), len(photos)


async def card_message_id(bot: BotHarness, item_id: int) -> int:
    """The message id of the item's card in the committee group, as the desk recorded it."""
    async with bot.db() as session:
        card = (
            await session.exec(
                select(DeskCard).where(
                    DeskCard.kind == "sug",
                    DeskCard.item_id == item_id,
                    DeskCard.chat_id == COMMITTEE_GROUP_ID,
                )
            )
        ).one()
    return card.message_id


async def answer_item(bot: BotHarness, reply: str, *, by: Person = COMMITTEE) -> Call:
    """Press Reply on the latest card and type `reply`; returns the card as edited after it."""
    card = [c for c in bot.telegram.sent("sendMessage", COMMITTEE_GROUP_ID) if c.buttons()][-1]
    await bot.press(by, card.button_data("答复"), chat=GROUP)
    await bot.write(by, reply)
    return bot.telegram.last(COMMITTEE_GROUP_ID, method="editMessageText")


async def bind_channel(bot: BotHarness) -> None:
    """The disclosure channel, bound directly (the /bindchannel flow has its own tests)."""
    async with bot.db() as session:
        await bind_disclosure_chat(session, org_id=bot.org_id, chat_id=CHANNEL_ID)


async def organization(bot: BotHarness) -> Organization:
    """The bot's organization as stored now."""
    async with bot.db() as session:
        org = await session.get(Organization, bot.org_id)
    assert org is not None
    return org


async def category_of(bot: BotHarness, code: str, *, org_id: int | None = None) -> int:
    """Id of a default category of one organization (the bot's unless told)."""
    async with bot.db() as session:
        await ensure_default_categories(session, org_id=org_id or bot.org_id)
        category = (
            await session.exec(
                select(SuggestionCategory).where(
                    SuggestionCategory.organization_id == (org_id or bot.org_id),
                    SuggestionCategory.code == code,
                )
            )
        ).one()
    assert category.id is not None
    return category.id


async def store_item(
    bot: BotHarness,
    *,
    body: str,
    created_at: datetime,
    status: SuggestionStatus = SuggestionStatus.OPEN,
    code: str = "canteen",
    org_id: int | None = None,
    author_member_id: int | None = None,
) -> Suggestion:
    """An item written straight into the database (for listings and the digest)."""
    category = await category_of(bot, code, org_id=org_id)
    async with bot.db() as session:
        item = Suggestion(
            organization_id=org_id or bot.org_id,
            year=created_at.year,
            seq=next(_seq),
            category_id=category,
            body=body,
            anonymous=author_member_id is None,
            author_member_id=author_member_id,
            client_token=secrets.token_hex(8),
            status=status,
            created_at=created_at,
            updated_at=created_at,
            answered_at=created_at if status != SuggestionStatus.OPEN else None,
        )
        session.add(item)
        await session.commit()
        await session.refresh(item)
    return item


def show_buttons(call: Call) -> list[tuple[str, str]]:
    """The item buttons of a /suggestions listing, in order."""
    return [(label, data) for label, data in call.buttons() if data.startswith("sug:show:")]


def apologies(bot: BotHarness, chat_id: int) -> list[str]:
    """Error-handler apologies sent to a chat."""
    return [t for t in bot.telegram.texts(chat_id) if APOLOGY in t]


# ---- 1. photos ---------------------------------------------------------------------------


async def test_three_photos_go_to_the_desk_as_replies_to_the_card(bot: BotHarness) -> None:
    await setup_school(bot)
    await to_photo_step(bot)

    await bot.feed(photo(AUTHOR, "photo-one"))
    assert "已收到第 1 张照片" in bot.telegram.last(AUTHOR.id).text
    assert bot.telegram.last(AUTHOR.id).button_data("照片发完了") == "sgf:photos:done"
    await bot.feed(photo(AUTHOR, "photo-two"))
    assert "已收到第 2 张照片" in bot.telegram.last(AUTHOR.id).text
    await bot.feed(photo(AUTHOR, "photo-three"))

    # The third photo moves straight on: no "photo 3 received", the named/anonymous question.
    assert not [t for t in bot.telegram.texts(AUTHOR.id) if "第 3 张" in t]
    assert ASK_ANONYMITY in bot.telegram.last(AUTHOR.id).text
    # A fourth photo is not taken: the buttons are expected now.
    await bot.feed(photo(AUTHOR, "photo-four"))
    assert USE_BUTTONS in bot.telegram.last(AUTHOR.id).text
    assert await stored_counts(bot) == (0, 0)

    await bot.press(AUTHOR, pack("sgf", "anon", "named"))
    assert "照片：3 张" in bot.telegram.last(AUTHOR.id).text
    assert await stored_counts(bot) == (0, 0)
    await bot.press(AUTHOR, pack("sgf", "confirm", "yes"))

    item = await only_item(bot)
    async with bot.db() as session:
        photos = (
            await session.exec(select(SuggestionPhoto).order_by(col(SuggestionPhoto.position)))
        ).all()
    assert [(p.file_id, p.position, p.suggestion_id) for p in photos] == [
        ("photo-one", 0, item.id),
        ("photo-two", 1, item.id),
        ("photo-three", 2, item.id),
    ]
    to_group = [c for c in bot.telegram.calls if c.chat_id == COMMITTEE_GROUP_ID]
    assert [c.method for c in to_group] == ["sendMessage", "sendPhoto", "sendPhoto", "sendPhoto"]
    assert "教学楼三楼的窗户坏了" in to_group[0].text
    card_id = await card_message_id(bot, item.id or 0)
    assert [c.params["photo"] for c in to_group[1:]] == ["photo-one", "photo-two", "photo-three"]
    assert [c.params["reply_parameters"]["message_id"] for c in to_group[1:]] == [card_id] * 3
    assert item.number in bot.telegram.last(AUTHOR.id).text


async def test_one_photo_then_done_sends_one_photo(bot: BotHarness) -> None:
    await setup_school(bot)
    await to_photo_step(bot)
    await bot.feed(photo(AUTHOR, "only-photo"))
    await bot.press(AUTHOR, pack("sgf", "photos", "done"))
    await bot.press(AUTHOR, pack("sgf", "anon", "anon"))
    assert "照片：1 张" in bot.telegram.last(AUTHOR.id).text
    await bot.press(AUTHOR, pack("sgf", "confirm", "yes"))

    item = await only_item(bot)
    sent = bot.telegram.sent("sendPhoto", COMMITTEE_GROUP_ID)
    assert [c.params["photo"] for c in sent] == ["only-photo"]
    assert sent[0].params["reply_parameters"]["message_id"] == await card_message_id(
        bot, item.id or 0
    )
    assert await stored_counts(bot) == (1, 1)


@pytest.mark.parametrize("kind", ["document", "sticker", "voice"])
async def test_only_photos_are_taken_at_the_photo_step(bot: BotHarness, kind: str) -> None:
    await setup_school(bot)
    await to_photo_step(bot)
    updates = {"document": document, "sticker": sticker, "voice": voice}

    await bot.feed(updates[kind](AUTHOR))

    answer = bot.telegram.last(AUTHOR.id)
    assert PHOTOS_ONLY in answer.text and "3 张" in answer.text
    # No photo yet: the button keeps its label.
    assert answer.buttons() == [("不附照片，继续", "sgf:photos:done")]
    # Still at the photo step: a photo is taken now.
    await bot.feed(photo(AUTHOR, "after-the-refusal"))
    assert "已收到第 1 张照片" in bot.telegram.last(AUTHOR.id).text
    assert await stored_counts(bot) == (0, 0)


async def test_a_sticker_at_the_text_step_asks_for_text(bot: BotHarness) -> None:
    await setup_school(bot)
    await bot.say(AUTHOR, "/suggest")
    await bot.press(AUTHOR, pack("sgf", "cat", await category_id(bot)))

    await bot.feed(sticker(AUTHOR))

    assert TEXT_EXPECTED in bot.telegram.last(AUTHOR.id).text
    await bot.say(AUTHOR, "贴纸之后的正文")
    assert "可以附上最多 3 张照片" in bot.telegram.last(AUTHOR.id).text
    assert await stored_counts(bot) == (0, 0)


async def test_cancel_after_photos_stores_nothing_and_sends_nothing(bot: BotHarness) -> None:
    await setup_school(bot)
    await to_photo_step(bot)
    await bot.feed(photo(AUTHOR, "never-sent"))
    await bot.press(AUTHOR, pack("sgf", "photos", "done"))

    await bot.say(AUTHOR, "/cancel")

    assert "已取消，没有保存任何内容" in bot.telegram.last(AUTHOR.id).text
    assert await stored_counts(bot) == (0, 0)
    assert bot.telegram.sent("sendPhoto") == []
    assert group_calls(bot) == []


# ---- 2. the disclosure channel -----------------------------------------------------------


async def make_chair(bot: BotHarness) -> Member:
    """The owner as an active member holding the chair role."""
    return await make_member(
        bot.db, org_id=bot.org_id, person=CHAIR, name="张主席", roles=[Role.CHAIR]
    )


async def channel_code(bot: BotHarness) -> str:
    """The chair asks for a code privately; the one in the bot's answer."""
    await bot.say(CHAIR, "/bindchannel")
    answer = bot.telegram.last(CHAIR.id).text
    found = re.search(r"/bindchannel (\S+)", answer)
    assert found, answer
    return found.group(1)


async def test_chair_binds_the_disclosure_channel_with_a_one_time_code(bot: BotHarness) -> None:
    await make_chair(bot)
    code = await channel_code(bot)
    assert (await organization(bot)).disclosure_chat_id is None

    await bot.feed(channel_post(f"/bindchannel {code}"))

    assert (await organization(bot)).disclosure_chat_id == CHANNEL_ID
    assert CHANNEL_BOUND in bot.telegram.last(CHANNEL_ID).text

    # The code was for one use: posted again (here, or in another channel) it binds nothing.
    other = {"id": -1005555555555, "type": "channel", "title": "别的频道"}
    await bot.feed(channel_post(f"/bindchannel {code}", chat=other))
    assert BAD_CODE in bot.telegram.last(-1005555555555).text
    assert (await organization(bot)).disclosure_chat_id == CHANNEL_ID


async def test_a_wrong_code_binds_nothing_and_keeps_the_real_one(bot: BotHarness) -> None:
    await make_chair(bot)
    code = await channel_code(bot)

    await bot.feed(channel_post("/bindchannel 00000000"))

    assert BAD_CODE in bot.telegram.last(CHANNEL_ID).text
    assert (await organization(bot)).disclosure_chat_id is None
    await bot.feed(channel_post(f"/bindchannel@{BOT_USERNAME} {code}"))
    assert (await organization(bot)).disclosure_chat_id == CHANNEL_ID


@pytest.mark.parametrize("role", [Role.COMMITTEE, None])
async def test_only_the_chair_gets_a_channel_code(bot: BotHarness, role: Role | None) -> None:
    await make_chair(bot)
    person = Person(1005, "Zhou")
    await make_member(
        bot.db, org_id=bot.org_id, person=person, name="周老师", roles=[role] if role else []
    )

    await bot.say(person, "/bindchannel")

    answer = bot.telegram.last(person.id).text
    assert CHAIR_ONLY in answer
    assert "/bindchannel " not in answer
    assert bot.app.state.channel_codes == {}


async def test_publish_button_needs_a_bound_channel_and_an_answer(bot: BotHarness) -> None:
    await setup_school(bot)
    await file_item(bot, body="没有频道时的事项", anonymous=False)
    edited = await answer_item(bot, "已处理。")
    assert "公示" not in " ".join(label for label, _ in edited.buttons())

    await bind_channel(bot)
    await file_item(bot, body="有频道时的事项", anonymous=False)
    fresh = bot.telegram.last(COMMITTEE_GROUP_ID)
    assert "有频道时的事项" in fresh.text
    assert [label for label, _ in fresh.buttons()] == ["✍️ 答复", "✅ 办结"]  # not answered yet
    edited = await answer_item(bot, "也处理了。")
    assert edited.button_data("公示").startswith("sug:pub:")


@pytest.mark.parametrize("anonymous", [True, False])
async def test_publish_posts_question_and_answer_but_never_the_author(
    bot: BotHarness, anonymous: bool
) -> None:
    await setup_school(bot)
    await bind_channel(bot)
    await file_item(bot, body="食堂的菜太咸了。", anonymous=anonymous)
    edited = await answer_item(bot, "已请食堂减少用盐。")
    item = await only_item(bot)

    await bot.press(COMMITTEE, edited.button_data("公示"), chat=GROUP)

    posts = bot.telegram.sent("sendMessage", CHANNEL_ID)
    assert len(posts) == 1
    post = posts[0].text
    assert item.number in post
    assert "食堂" in post.splitlines()[0]  # the category
    assert "食堂的菜太咸了。" in post
    assert "已请食堂减少用盐。" in post
    for secret in (AUTHOR_NAME, AUTHOR_DEPARTMENT, str(AUTHOR.id)):
        assert secret not in str(posts[0].params)
    assert bot.telegram.answers()[-1].text == "已处理。"
    published = await only_item(bot)
    assert published.published_at is not None
    card = bot.telegram.last(COMMITTEE_GROUP_ID, method="editMessageText")
    assert PUBLISHED_ON_CARD in card.text
    assert "公示" not in " ".join(label for label, _ in card.buttons())


async def test_publishing_twice_posts_once(bot: BotHarness) -> None:
    await setup_school(bot)
    await bind_channel(bot)
    await file_item(bot, body="希望开放周末图书馆。", anonymous=True)
    publish = (await answer_item(bot, "周六上午开放。")).button_data("公示")
    await bot.press(COMMITTEE, publish, chat=GROUP)
    first = (await only_item(bot)).published_at

    await bot.press(COMMITTEE, publish, chat=GROUP)

    assert len(bot.telegram.sent("sendMessage", CHANNEL_ID)) == 1
    refusal = bot.telegram.answers()[-1]
    assert ALREADY_PUBLISHED in refusal.text and refusal.params["show_alert"] is True
    assert (await only_item(bot)).published_at == first


async def test_failed_channel_post_leaves_the_item_unpublished(bot: BotHarness) -> None:
    await setup_school(bot)
    await bind_channel(bot)
    await file_item(bot, body="停车位不够。", anonymous=False)
    publish = (await answer_item(bot, "正在协调。")).button_data("公示")

    bot.telegram.failures.append(
        Failure("sendMessage", 403, "Forbidden: bot is not a member of the channel chat")
    )
    await bot.press(COMMITTEE, publish, chat=GROUP)

    assert (await only_item(bot)).published_at is None
    told = bot.telegram.answers()[-1]
    assert PUBLISH_FAILED in told.text and told.params["show_alert"] is True
    card = bot.telegram.last(COMMITTEE_GROUP_ID, method="editMessageText")
    assert card.button_data("公示") == publish
    assert PUBLISHED_ON_CARD not in card.text

    # Once the channel works, the same button publishes.
    await bot.press(COMMITTEE, publish, chat=GROUP)
    assert (await only_item(bot)).published_at is not None
    assert len(bot.telegram.sent("sendMessage", CHANNEL_ID)) == 2  # the failed try, then this


async def test_an_unanswered_item_cannot_be_published(bot: BotHarness) -> None:
    await setup_school(bot)
    await bind_channel(bot)
    await file_item(bot, body="还没答复的事项", anonymous=False)
    item = await only_item(bot)

    await bot.press(COMMITTEE, pack("sug", "pub", item.id or 0), chat=GROUP)

    assert "只有答复过的事项才能公示" in bot.telegram.answers()[-1].text
    assert bot.telegram.sent("sendMessage", CHANNEL_ID) == []
    assert (await only_item(bot)).published_at is None


# ---- 3. /suggestions ---------------------------------------------------------------------


async def test_listing_puts_open_first_then_answered_then_closed(bot: BotHarness) -> None:
    await setup_school(bot)
    now = datetime.now(UTC)
    await store_item(
        bot,
        body="已办结的旧事",
        created_at=now - timedelta(days=30),
        status=SuggestionStatus.CLOSED,
    )
    await store_item(bot, body="较新的待答复", created_at=now - timedelta(days=1))
    await store_item(
        bot, body="已答复的", created_at=now - timedelta(days=20), status=SuggestionStatus.ANSWERED
    )
    await store_item(bot, body="最早的待答复", created_at=now - timedelta(days=9))

    await bot.say(COMMITTEE, "/suggestions")

    listing = bot.telegram.last(COMMITTEE.id)
    assert "意见箱共 4 条" in listing.text
    labels = [label for label, _ in show_buttons(listing)]
    assert [label.split(" · ")[2] for label in labels] == [
        "最早的待答复",
        "较新的待答复",
        "已答复的",
        "已办结的旧事",
    ]
    assert [label.split(" · ")[1] for label in labels] == ["待答复", "待答复", "已答复", "已办结"]


async def test_status_and_category_filters(bot: BotHarness) -> None:
    await setup_school(bot)
    now = datetime.now(UTC)
    await store_item(bot, body="食堂待答复", created_at=now - timedelta(days=3))
    await store_item(bot, body="设施待答复", created_at=now - timedelta(days=2), code="facilities")
    await store_item(
        bot,
        body="食堂已答复",
        created_at=now - timedelta(days=1),
        status=SuggestionStatus.ANSWERED,
    )
    await bot.say(COMMITTEE, "/suggestions")
    listing = bot.telegram.last(COMMITTEE.id)

    def bodies() -> list[str]:
        return [label.split(" · ")[2] for label, _ in show_buttons(bot.telegram.last(COMMITTEE.id))]

    await bot.press(COMMITTEE, listing.button_data("已答复"))
    assert bodies() == ["食堂已答复"]
    assert "意见箱共 1 条" in bot.telegram.last(COMMITTEE.id).text

    await bot.press(COMMITTEE, listing.button_data("待答复"))
    assert bodies() == ["食堂待答复", "设施待答复"]
    await bot.press(COMMITTEE, listing.button_data("食堂"))
    assert bodies() == ["食堂待答复"]  # both filters apply

    await bot.press(COMMITTEE, listing.button_data("全部"))
    assert bodies() == ["食堂待答复", "食堂已答复"]  # status cleared, category kept

    await bot.press(COMMITTEE, listing.button_data("已办结"))
    assert bodies() == []
    assert "没有符合条件的事项" in bot.telegram.last(COMMITTEE.id).text


async def test_every_category_can_be_chosen_as_a_filter(bot: BotHarness) -> None:
    # Six default categories: the committee must be able to filter by "安全" and "其他" too.
    await setup_school(bot)
    await store_item(bot, body="安全隐患", created_at=datetime.now(UTC), code="safety")

    await bot.say(COMMITTEE, "/suggestions")

    listing = bot.telegram.last(COMMITTEE.id)
    filters = [label for label, data in listing.buttons() if data.startswith("sug:fcat:")]
    assert sorted(filters) == sorted(
        ["教育教学", "后勤与设施", "食堂", "工资福利", "安全", "其他", "全部类别"]
    )


async def test_fourteen_items_page_six_at_a_time(bot: BotHarness) -> None:
    await setup_school(bot)
    start = datetime.now(UTC) - timedelta(days=30)
    for index in range(1, 15):
        await store_item(bot, body=f"第{index:02d}条", created_at=start + timedelta(hours=index))

    def page() -> tuple[list[str], list[tuple[str, str]]]:
        listing = bot.telegram.last(COMMITTEE.id)
        bodies = [label.split(" · ")[2] for label, _ in show_buttons(listing)]
        paging = [(label, data) for label, data in listing.buttons() if "sug:page:" in data]
        return bodies, paging

    await bot.say(COMMITTEE, "/suggestions")
    assert "意见箱共 14 条" in bot.telegram.last(COMMITTEE.id).text
    assert page() == ([f"第{i:02d}条" for i in range(1, 7)], [("下一页 ›", "sug:page:6")])

    await bot.press(COMMITTEE, "sug:page:6")
    assert page() == (
        [f"第{i:02d}条" for i in range(7, 13)],
        [("‹ 上一页", "sug:page:0"), ("下一页 ›", "sug:page:12")],
    )

    await bot.press(COMMITTEE, "sug:page:12")
    assert page() == (["第13条", "第14条"], [("‹ 上一页", "sug:page:6")])

    await bot.press(COMMITTEE, "sug:page:0")
    assert page()[0] == [f"第{i:02d}条" for i in range(1, 7)]
    assert not apologies(bot, COMMITTEE.id)


async def test_show_sends_the_card_privately_with_its_buttons(bot: BotHarness) -> None:
    await setup_school(bot)
    await file_item(bot, body="办公室空调不制冷。", anonymous=True)
    item = await only_item(bot)
    await bot.say(COMMITTEE, "/suggestions")
    (_, show), *_ = show_buttons(bot.telegram.last(COMMITTEE.id))
    assert show == f"sug:show:{item.id}"
    cards_before = len(group_calls(bot))

    await bot.press(COMMITTEE, show)

    card = bot.telegram.last(COMMITTEE.id)
    assert item.number in card.text and "办公室空调不制冷。" in card.text
    assert "提出人：匿名" in card.text
    assert card.buttons() == [
        ("✍️ 答复", f"sug:reply:{item.id}"),
        ("✅ 办结", f"sug:close:{item.id}"),
    ]
    assert len(group_calls(bot)) == cards_before  # nothing new in the group

    # The private card's Reply works like the group's.
    await bot.press(COMMITTEE, card.button_data("答复"))
    await bot.write(COMMITTEE, "下周修。")
    assert (await only_item(bot)).status == SuggestionStatus.ANSWERED
    assert "下周修。" in bot.telegram.last(AUTHOR.id).text


async def test_plain_member_is_refused_the_listing(bot: BotHarness) -> None:
    await setup_school(bot)
    await file_item(bot, body="普通会员看不到列表", anonymous=False)
    item = await only_item(bot)

    await bot.say(AUTHOR, "/suggestions")
    assert bot.telegram.last(AUTHOR.id).text == NOT_COMMITTEE

    # Forged listing buttons are refused too, and show nothing.
    await bot.press(AUTHOR, pack("sug", "show", item.id or 0))
    refusal = bot.telegram.answers()[-1]
    assert refusal.text == NOT_COMMITTEE and refusal.params["show_alert"] is True
    assert "普通会员看不到列表" not in " ".join(bot.telegram.texts(AUTHOR.id)[-2:])


async def test_listing_in_the_group_points_to_the_private_chat(bot: BotHarness) -> None:
    await setup_school(bot)
    await file_item(bot, body="群里不列出", anonymous=False)
    bot.telegram.clear()

    await bot.say(COMMITTEE, "/suggestions", chat=GROUP)

    answer = bot.telegram.last(COMMITTEE_GROUP_ID)
    assert answer.text == "这个命令请私聊我使用，以保护个人信息。"
    assert answer.buttons() == [("私聊工会助手", f"https://t.me/{BOT_USERNAME}")]
    assert bot.telegram.sent("sendMessage", COMMITTEE.id) == []
    assert "群里不列出" not in " ".join(bot.telegram.texts())


async def test_listing_from_the_menu_button(bot: BotHarness) -> None:
    await setup_school(bot)
    await file_item(bot, body="从菜单打开列表", anonymous=False)
    await bot.say(COMMITTEE, "/menu")
    menu = bot.telegram.last(COMMITTEE.id)

    answered_before = len(bot.telegram.answers())
    await bot.press(COMMITTEE, menu.button_data("意见箱事项"))

    assert not apologies(bot, COMMITTEE.id)
    listing = bot.telegram.last(COMMITTEE.id)
    assert "意见箱共 1 条" in listing.text
    assert "从菜单打开列表" in show_buttons(listing)[0][0]
    assert len(bot.telegram.answers()) == answered_before + 1  # one answer for this press


# ---- 4. /categories ----------------------------------------------------------------------


def category_buttons(call: Call) -> list[str]:
    """Labels of the category buttons of a /suggest or /categories message."""
    return [label for label, data in call.buttons() if data.startswith(("sgf:cat:", "sgc:"))]


async def test_defaults_exist_after_the_first_suggest(bot: BotHarness) -> None:
    await setup_school(bot)
    await bot.say(AUTHOR, "/suggest")
    assert category_buttons(bot.telegram.last(AUTHOR.id)) == [
        "教育教学",
        "后勤与设施",
        "食堂",
        "工资福利",
        "安全",
        "其他",
    ]

    await bot.say(COMMITTEE, "/categories")

    assert category_buttons(bot.telegram.last(COMMITTEE.id)) == [
        "✓ 教育教学",
        "✓ 后勤与设施",
        "✓ 食堂",
        "✓ 工资福利",
        "✓ 安全",
        "✓ 其他",
    ]


async def test_added_category_is_offered_and_kept_on_the_card(bot: BotHarness) -> None:
    await setup_school(bot)
    await bot.say(AUTHOR, "/suggest")
    await bot.say(AUTHOR, "/cancel")

    await bot.say(COMMITTEE, "/categories add 宿舍")

    assert "✓ 宿舍" in category_buttons(bot.telegram.last(COMMITTEE.id))
    async with bot.db() as session:
        added = (
            await session.exec(select(SuggestionCategory).where(SuggestionCategory.name == "宿舍"))
        ).one()
    assert added.code is None and added.active
    await bot.say(AUTHOR, "/suggest")
    offered = bot.telegram.last(AUTHOR.id)
    assert category_buttons(offered)[-1] == "宿舍"
    await bot.press(AUTHOR, offered.button_data("宿舍"))
    await bot.say(AUTHOR, "宿舍热水不稳定。")
    await bot.press(AUTHOR, pack("sgf", "photos", "done"))
    await bot.press(AUTHOR, pack("sgf", "anon", "named"))
    await bot.press(AUTHOR, pack("sgf", "confirm", "yes"))
    assert (await only_item(bot)).category_id == added.id
    assert "· 宿舍" in bot.telegram.last(COMMITTEE_GROUP_ID).text.splitlines()[0]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/categories add", "内容是空的"),
        ("/categories add    ", "内容是空的"),
        ("/categories add " + "类" * 21, "最多 20 个字，您输入了 21 个"),
    ],
)
async def test_empty_or_over_long_category_name_is_refused(
    bot: BotHarness, command: str, expected: str
) -> None:
    await setup_school(bot)
    await bot.say(AUTHOR, "/suggest")

    await bot.say(COMMITTEE, command)

    assert expected in bot.telegram.last(COMMITTEE.id).text
    async with bot.db() as session:
        names = [c.name for c in (await session.exec(select(SuggestionCategory))).all()]
    assert names == [None] * 6


async def test_twenty_character_name_is_accepted(bot: BotHarness) -> None:
    await setup_school(bot)
    await bot.say(COMMITTEE, "/categories add " + "类" * 20)
    assert "✓ " + "类" * 20 in category_buttons(bot.telegram.last(COMMITTEE.id))


async def test_hidden_category_leaves_suggest_but_stays_on_filed_cards(bot: BotHarness) -> None:
    await setup_school(bot)
    await file_item(bot, body="食堂排队太久。", anonymous=False)
    item = await only_item(bot)
    canteen = await category_id(bot)

    await bot.press(COMMITTEE, pack("sgc", "toggle", canteen))

    assert bot.telegram.answers()[-1].text == "已处理。"
    assert "✗ 食堂" in category_buttons(bot.telegram.last(COMMITTEE.id))
    async with bot.db() as session:
        hidden = await session.get(SuggestionCategory, canteen)
    assert hidden is not None and hidden.active is False
    await bot.say(AUTHOR, "/suggest")
    assert "食堂" not in category_buttons(bot.telegram.last(AUTHOR.id))
    # A forged press on the hidden category does not let a new item in.
    await bot.press(AUTHOR, pack("sgf", "cat", canteen))
    await bot.say(AUTHOR, "藏起来的类别")
    await bot.press(AUTHOR, pack("sgf", "photos", "done"))
    await bot.press(AUTHOR, pack("sgf", "anon", "named"))
    await bot.press(AUTHOR, pack("sgf", "confirm", "yes"))
    assert await stored_counts(bot) == (1, 0)

    # The filed item keeps its category: on the edited card and on the private "show" card.
    await bot.press(COMMITTEE, pack("sug", "close", item.id or 0), chat=GROUP)
    edited = bot.telegram.last(COMMITTEE_GROUP_ID, method="editMessageText")
    assert f"{item.number} · 食堂" in edited.text
    await bot.press(COMMITTEE, pack("sug", "show", item.id or 0))
    assert f"{item.number} · 食堂" in bot.telegram.last(COMMITTEE.id).text

    await bot.press(COMMITTEE, pack("sgc", "toggle", canteen))
    await bot.say(AUTHOR, "/suggest")
    assert "食堂" in category_buttons(bot.telegram.last(AUTHOR.id))


async def test_category_hidden_while_a_draft_uses_it_lets_the_author_choose_again(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    await bot.say(AUTHOR, "/suggest")
    await bot.press(AUTHOR, pack("sgf", "cat", await category_id(bot)))
    await bot.say(AUTHOR, "写了很久的一条意见")
    await bot.press(AUTHOR, pack("sgf", "photos", "done"))
    await bot.press(AUTHOR, pack("sgf", "anon", "named"))
    await bot.press(COMMITTEE, pack("sgc", "toggle", await category_id(bot)))

    await bot.press(AUTHOR, pack("sgf", "confirm", "yes"))

    told = bot.telegram.texts(AUTHOR.id)
    assert any("这个类别已不可用，请重新选择" in t for t in told)
    assert await stored_counts(bot) == (0, 0)
    # "Please choose again" must come with something to choose from (not a dead end).
    offered = bot.telegram.last(AUTHOR.id)
    assert category_buttons(offered), offered.text
    assert "食堂" not in category_buttons(offered)


async def test_non_committee_toggle_is_refused(bot: BotHarness) -> None:
    await setup_school(bot)
    await bot.say(AUTHOR, "/suggest")
    canteen = await category_id(bot)

    await bot.press(AUTHOR, pack("sgc", "toggle", canteen))

    refusal = bot.telegram.answers()[-1]
    assert refusal.text == NOT_COMMITTEE and refusal.params["show_alert"] is True
    async with bot.db() as session:
        category = await session.get(SuggestionCategory, canteen)
    assert category is not None and category.active is True

    await bot.say(AUTHOR, "/categories add 宿舍")
    assert bot.telegram.last(AUTHOR.id).text == NOT_COMMITTEE
    async with bot.db() as session:
        assert len((await session.exec(select(SuggestionCategory))).all()) == 6


# ---- 5. Reply edge cases -----------------------------------------------------------------


async def replies_stored(bot: BotHarness) -> list[SuggestionEntry]:
    """Committee replies in the database."""
    async with bot.db() as session:
        return list(
            (
                await session.exec(select(SuggestionEntry).where(SuggestionEntry.kind == "reply"))
            ).all()
        )


async def test_reply_on_a_closed_item_is_refused_without_a_conversation(bot: BotHarness) -> None:
    await setup_school(bot)
    await file_item(bot, body="已经办结的事项", anonymous=False)
    item = await only_item(bot)
    card = bot.telegram.last(COMMITTEE_GROUP_ID)
    await bot.press(COMMITTEE, card.button_data("办结"), chat=GROUP)

    await bot.press(COMMITTEE, card.button_data("答复"), chat=GROUP)

    refusal = bot.telegram.answers()[-1]
    assert refusal.params["show_alert"] is True
    assert refusal.text == f"{item.number} 已办结。如需答复，请先点“重新打开”。"
    assert not [t for t in bot.telegram.texts(COMMITTEE.id) if "请写下对" in t]
    edited = bot.telegram.last(COMMITTEE_GROUP_ID, method="editMessageText")
    assert [label for label, _ in edited.buttons()] == ["↩️ 重新打开"]

    await bot.say(COMMITTEE, "这句不是答复。")
    assert NOT_UNDERSTOOD in bot.telegram.texts(COMMITTEE.id)[-2]
    assert await replies_stored(bot) == []
    assert (await only_item(bot)).status == SuggestionStatus.CLOSED
    assert not [t for t in bot.telegram.texts(AUTHOR.id) if "这句不是答复。" in t]


async def test_reply_without_a_private_chat_asks_to_open_one(bot: BotHarness) -> None:
    await setup_school(bot)
    await file_item(bot, body="需要私聊才能答复", anonymous=True)
    card = bot.telegram.last(COMMITTEE_GROUP_ID)

    bot.telegram.failures.append(
        Failure("sendMessage", 403, "Forbidden: bot can't initiate conversation with a user")
    )
    await bot.press(COMMITTEE, card.button_data("答复"), chat=GROUP)

    refusal = bot.telegram.answers()[-1]
    assert OPEN_PRIVATE_FIRST in refusal.text and refusal.params["show_alert"] is True
    assert not apologies(bot, COMMITTEE_GROUP_ID)
    assert not bot.telegram.texts(CHAIR.id)  # no owner alert: nothing went wrong on our side

    # No conversation was started: the first private message is not taken as a reply.
    await bot.say(COMMITTEE, "/start")
    await bot.say(COMMITTEE, "随便说一句")
    assert await replies_stored(bot) == []
    assert (await only_item(bot)).status == SuggestionStatus.OPEN
    # After opening the chat, Reply works.
    await bot.press(COMMITTEE, card.button_data("答复"), chat=GROUP)
    await bot.write(COMMITTEE, "现在可以答复了。")
    assert len(await replies_stored(bot)) == 1


async def test_cancel_while_writing_a_reply_stores_nothing(bot: BotHarness) -> None:
    await setup_school(bot)
    await file_item(bot, body="取消答复的事项", anonymous=False)
    card = bot.telegram.last(COMMITTEE_GROUP_ID)
    await bot.press(COMMITTEE, card.button_data("答复"), chat=GROUP)

    await bot.say(COMMITTEE, "/cancel")

    assert bot.telegram.last(COMMITTEE.id).text == "好的，没有发送答复。"
    item = await only_item(bot)
    assert item.status == SuggestionStatus.OPEN and item.answered_at is None
    assert await replies_stored(bot) == []
    await bot.say(COMMITTEE, "取消之后打的字")
    assert await replies_stored(bot) == []
    assert not [t for t in bot.telegram.texts(AUTHOR.id) if "取消之后打的字" in t]


async def test_sticker_instead_of_reply_text_keeps_waiting(bot: BotHarness) -> None:
    await setup_school(bot)
    await file_item(bot, body="贴纸答复的事项", anonymous=False)
    card = bot.telegram.last(COMMITTEE_GROUP_ID)
    await bot.press(COMMITTEE, card.button_data("答复"), chat=GROUP)

    await bot.feed(sticker(COMMITTEE))

    assert TEXT_EXPECTED in bot.telegram.last(COMMITTEE.id).text
    assert await replies_stored(bot) == []
    await bot.write(COMMITTEE, "文字答复。")
    assert [e.body for e in await replies_stored(bot)] == ["文字答复。"]
    assert "文字答复。" in bot.telegram.last(AUTHOR.id).text


async def test_over_long_reply_is_refused_with_counts_and_keeps_waiting(bot: BotHarness) -> None:
    await setup_school(bot)
    await file_item(bot, body="长答复的事项", anonymous=True)
    card = bot.telegram.last(COMMITTEE_GROUP_ID)
    await bot.press(COMMITTEE, card.button_data("答复"), chat=GROUP)

    await bot.write(COMMITTEE, "答" * 2001)

    refusal = bot.telegram.answers()[-1]  # the alert on Send
    assert "最多 2000 个字，您输入了 2001 个" in refusal.text
    assert refusal.params.get("show_alert") is True
    assert await replies_stored(bot) == []
    assert (await only_item(bot)).status == SuggestionStatus.OPEN
    await bot.write(COMMITTEE, "答" * 2000)
    assert [len(e.body or "") for e in await replies_stored(bot)] == [2000]
    assert (await only_item(bot)).status == SuggestionStatus.ANSWERED


# ---- 6. privacy of the logs --------------------------------------------------------------


OUR_PACKAGES = ("bot", "handlers", "models", "scheduler")


def operator_reads(record: logging.LogRecord) -> bool:
    """Records an operator can see: ours at any level, anyone's at INFO and above.

    Libraries' DEBUG records are left out on purpose: PTB logs every API call's parameters and
    conversation keys, aiosqlite every SQL parameter, and production (bot/cli.py) logs at INFO.
    """
    return record.name.split(".")[0] in OUR_PACKAGES or record.levelno >= logging.INFO


async def test_anonymous_flow_logs_nothing_that_names_the_author(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger: every logger that does not set its own
    author = await setup_school(bot)
    async with bot.db() as session:
        committee_ids = {
            m.id for m in (await session.exec(select(Member))).all() if m.id != author.id
        }
    assert author.id not in committee_ids  # so "member <author id>" can only mean the author
    caplog.clear()

    await file_item(bot, body="匿名反映的问题。", anonymous=True)
    await answer_item(bot, "第一次答复。")
    await bot.press(AUTHOR, bot.telegram.last(AUTHOR.id).button_data("追问"))
    await bot.write(AUTHOR, "还有一点补充。")
    await answer_item(bot, "第二次答复。")
    await bot.press(AUTHOR, bot.telegram.last(AUTHOR.id).button_data("问题已解决"))

    item = await only_item(bot)
    assert item.status == SuggestionStatus.CLOSED  # the whole flow really ran
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("handlers.")]
    assert any(m.startswith(f"Suggestion {item.id} filed") for m in ours)  # and was logged
    assert sum("answered by member" in message for message in ours) == 2
    member_ref = re.compile(rf"\bmember\W{{0,3}}{author.id}\b", re.IGNORECASE)
    for record in filter(operator_reads, caplog.records):
        message = record.getMessage()
        for secret in (AUTHOR_NAME, AUTHOR_DEPARTMENT, str(AUTHOR.id)):
            assert secret not in message, (record.name, message)
        assert not member_ref.search(message), (record.name, message)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert bot.telegram.texts(CHAIR.id) == []  # no owner alert (or anything else)


# ---- 7. nothing dropped ------------------------------------------------------------------


async def test_free_text_outside_a_conversation_gets_an_answer_and_the_menu(
    bot: BotHarness,
) -> None:
    await setup_school(bot)

    await bot.say(AUTHOR, "你好，我想问个问题")

    *_, answer, menu = bot.telegram.sent("sendMessage", AUTHOR.id)
    assert answer.text.startswith(NOT_UNDERSTOOD)
    assert menu.text == MENU_TITLE
    assert menu.button_data("意见箱") == "menu:suggest"
    assert menu.button_data("我的事项") == "menu:mine"


async def test_my_items_from_the_menu_button(bot: BotHarness) -> None:
    await setup_school(bot)
    await file_item(bot, body="从菜单看我的事项", anonymous=True)
    await bot.say(AUTHOR, "/menu")
    answered_before = len(bot.telegram.answers())

    await bot.press(AUTHOR, bot.telegram.last(AUTHOR.id).button_data("我的事项"))

    assert not apologies(bot, AUTHOR.id)
    assert "从菜单看我的事项" in bot.telegram.last(AUTHOR.id).text
    assert len(bot.telegram.answers()) == answered_before + 1  # one answer for this press


async def test_follow_up_after_the_item_was_closed_reopens_it(bot: BotHarness) -> None:
    await setup_school(bot)
    await file_item(bot, body="宿舍楼门禁坏了。", anonymous=True)
    item = await only_item(bot)
    card = bot.telegram.last(COMMITTEE_GROUP_ID)
    await answer_item(bot, "已报修。")
    reply = bot.telegram.last(AUTHOR.id)
    await bot.press(COMMITTEE, card.button_data("办结"), chat=GROUP)
    assert (await only_item(bot)).status == SuggestionStatus.CLOSED

    await bot.press(AUTHOR, reply.button_data("追问"))
    await bot.write(AUTHOR, "还是坏的。")

    reopened = await only_item(bot)
    assert reopened.status == SuggestionStatus.OPEN
    assert reopened.closed_at is None and reopened.closed_by_member_id is None
    under = bot.telegram.last(COMMITTEE_GROUP_ID)
    assert "还是坏的。" in under.text and item.number in under.text
    assert under.params["reply_parameters"]["message_id"] == await card_message_id(
        bot, item.id or 0
    )
    edited = bot.telegram.last(COMMITTEE_GROUP_ID, method="editMessageText")
    assert "状态：待答复" in edited.text
    assert [label for label, _ in edited.buttons()] == ["✍️ 答复", "✅ 办结"]
    assert f"追问已转给委员会，{item.number} 已重新打开" in bot.telegram.last(AUTHOR.id).text
    async with bot.db() as session:
        kinds = [e.kind for e in (await session.exec(select(SuggestionEntry))).all()]
    assert kinds == ["reply", "closed", "followup"]


# ---- 8. the committee digest -------------------------------------------------------------


NOW = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)


async def other_organization(bot: BotHarness) -> int:
    """A second school on the same deployment."""
    async with bot.db() as session:
        other = Organization(name="隔壁学校工会")
        session.add(other)
        await session.commit()
        await session.refresh(other)
    assert other.id is not None
    return other.id


async def test_unanswered_for_days_lists_old_open_items_oldest_first(bot: BotHarness) -> None:
    author = await setup_school(bot)
    other_org = await other_organization(bot)
    # Stored out of order, so the order of the result is the query's own.
    eight = await store_item(bot, body="八天", created_at=NOW - timedelta(days=8))
    await store_item(
        bot, body="差一小时满七天", created_at=NOW - timedelta(days=7) + timedelta(hours=1)
    )
    await store_item(
        bot, body="已答复", created_at=NOW - timedelta(days=20), status=SuggestionStatus.ANSWERED
    )
    ten = await store_item(
        bot, body="十天", created_at=NOW - timedelta(days=10), author_member_id=author.id
    )
    await store_item(
        bot, body="已办结", created_at=NOW - timedelta(days=30), status=SuggestionStatus.CLOSED
    )
    just = await store_item(
        bot, body="刚满七天", created_at=NOW - timedelta(days=7, minutes=1), code="safety"
    )
    await store_item(bot, body="别的学校", created_at=NOW - timedelta(days=15), org_id=other_org)

    async with bot.db() as session:
        overdue = await unanswered_for_days(session, org_id=bot.org_id, now=NOW, days=7)
        other = await unanswered_for_days(session, org_id=other_org, now=NOW, days=7)
        recent = await unanswered_for_days(session, org_id=bot.org_id, now=NOW, days=9)

    assert [i.id for i in overdue] == [ten.id, eight.id, just.id]
    assert [i.body for i in other] == ["别的学校"]
    assert [i.body for i in recent] == ["十天"]


async def test_digest_text_names_numbers_ages_and_snippets_never_authors(
    bot: BotHarness,
) -> None:
    author = await setup_school(bot)
    long_body = "一" * 29 + "二" * 11
    items = [
        await store_item(
            bot, body="署名的事项", created_at=NOW - timedelta(days=10), author_member_id=author.id
        ),
        await store_item(bot, body=long_body, created_at=NOW - timedelta(days=7, hours=2)),
    ]
    zh = bot.app.state.i18n.get("zh-Hans")

    digest = render_digest(zh, items, days=7, now=NOW)

    assert digest is not None
    lines = digest.splitlines()
    assert lines[0] == "⏰ 意见箱提醒：有 2 条事项超过 7 天未答复："
    assert lines[1] == f"· {items[0].number}（10 天）署名的事项"
    assert lines[2] == f"· {items[1].number}（7 天）" + "一" * 29 + "…"
    assert lines[-1] == "私聊我发送 /suggestions 查看并答复。"
    for secret in (AUTHOR_NAME, AUTHOR_DEPARTMENT, str(AUTHOR.id)):
        assert secret not in digest
    english = render_digest(bot.app.state.i18n.get("en"), items[:1], days=7, now=NOW)
    assert english is not None and f"{items[0].number} (10 days)" in english
    assert render_digest(zh, [], days=7, now=NOW) is None


async def test_digest_keeps_one_line_per_item_for_multiline_texts(bot: BotHarness) -> None:
    await setup_school(bot)
    items = [
        await store_item(bot, body="第一行\n第二行\n第三行", created_at=NOW - timedelta(days=9)),
        await store_item(bot, body="另一条", created_at=NOW - timedelta(days=8)),
    ]

    digest = render_digest(bot.app.state.i18n.get("zh-Hans"), items, days=7, now=NOW)

    assert digest is not None
    lines = digest.splitlines()
    assert len(lines) == len(items) + 2, lines  # title, one line per item, hint
    assert lines[1].startswith(f"· {items[0].number}") and "第一行" in lines[1]
    assert lines[2].startswith(f"· {items[1].number}")
