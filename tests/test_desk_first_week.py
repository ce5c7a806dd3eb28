"""Issue 16, the suggestions and proposals desk: no silent close, no false promise of
anonymity, a confirmed 立案 / 转为意见建议 with who and when on the card, co-signers told every
step, and our own deep links understood when pasted as text.

Everything goes through the real application over the fake transport; assertions are on what
Telegram was asked to send and on what the database holds.
"""

from __future__ import annotations

from sqlmodel import col, select

from bot.callback import pack
from models.suggestions import EntryKind, Suggestion, SuggestionEntry, SuggestionStatus
from tests.support.harness import COMMITTEE_GROUP_ID, BotHarness
from tests.test_suggestions import (
    AUTHOR,
    AUTHOR_NAME,
    COMMITTEE,
    GROUP,
    file_item,
    only_item,
    setup_school,
)

FOLLOW_UP = "二楼的也坏了，能一起修吗？"
CLOSING_NOTE = "二楼的灯已列入下周维修计划，本事项先办结。"


def t(bot: BotHarness, key: str, **params: object) -> str:
    """A catalog text as a zh-Hans reader sees it."""
    return bot.app.state.i18n.get("zh-Hans")(key, **params)


async def answered_then_followed_up(bot: BotHarness, *, anonymous: bool) -> Suggestion:
    """An item answered by the committee, then followed up by its author."""
    await setup_school(bot)
    await file_item(bot, body="一楼走廊的灯坏了。", anonymous=anonymous)
    item = await only_item(bot)
    await bot.press(COMMITTEE, pack("sug", "reply", item.id or 0), chat=GROUP)
    await bot.write(COMMITTEE, "已报修，本周五前修好。")
    await bot.press(AUTHOR, pack("sga", "more", item.id or 0))
    await bot.write(AUTHOR, FOLLOW_UP)
    return await only_item(bot)


async def entries(bot: BotHarness, item_id: int | None) -> list[SuggestionEntry]:
    """The item's thread, oldest first."""
    async with bot.db() as session:
        rows = await session.exec(
            select(SuggestionEntry)
            .where(SuggestionEntry.suggestion_id == item_id)
            .order_by(col(SuggestionEntry.id))
        )
        return list(rows.all())


# ---- 1. closing an item with an open follow-up --------------------------------------------


async def test_closing_after_an_unanswered_follow_up_asks_for_a_note_first(
    bot: BotHarness,
) -> None:
    item = await answered_then_followed_up(bot, anonymous=False)
    assert item.status == SuggestionStatus.OPEN
    bot.telegram.clear()

    await bot.press(COMMITTEE, pack("sug", "close", item.id or 0), chat=GROUP)

    # Not closed: the presser is told why, and asked for the note in private.
    assert (await only_item(bot)).status == SuggestionStatus.OPEN
    alert = bot.telegram.answers()[-1]
    assert alert.params["text"] == t(bot, "suggestion.close_note_in_private", number=item.number)
    prompt = bot.telegram.last(COMMITTEE.id).text
    assert t(bot, "suggestion.write_closing_note", number=item.number) in prompt
    assert FOLLOW_UP in prompt  # the question the note answers
    assert bot.telegram.texts(AUTHOR.id) == []

    # The note is shown back before it leaves (Send / Edit / Cancel), then sent.
    await bot.say(COMMITTEE, CLOSING_NOTE)
    shown = bot.telegram.last(COMMITTEE.id)
    assert CLOSING_NOTE in shown.text and len(shown.buttons()) == 3
    assert bot.telegram.texts(AUTHOR.id) == []
    await bot.press(COMMITTEE, pack("form", "out", "send"))

    closed = await only_item(bot)
    assert closed.status == SuggestionStatus.CLOSED
    last = (await entries(bot, item.id))[-1]
    assert (last.kind, last.body) == (EntryKind.CLOSED, CLOSING_NOTE)
    told = bot.telegram.last(AUTHOR.id)
    assert told.text == (
        t(bot, "suggestion.closed_to_author_note", number=item.number) + "\n\n" + CLOSING_NOTE
    )
    assert "刘委员" not in told.text
    assert bot.telegram.last(COMMITTEE.id).text == t(
        bot, "suggestion.closed_told", number=item.number
    )
    card = bot.telegram.last(COMMITTEE_GROUP_ID, method="editMessageText")
    assert t(bot, "suggestion.card_closing_note", text=CLOSING_NOTE) in card.text
    assert "办结：刘委员，" in card.text

    # /mine shows the note, not only 已办结.
    await bot.say(AUTHOR, "/mine")
    mine = "\n".join(bot.telegram.texts(AUTHOR.id)[-3:])
    assert t(bot, "suggestion.mine_closing_note", text=CLOSING_NOTE) in mine


async def test_cancelling_the_note_leaves_the_item_open_and_the_author_untold(
    bot: BotHarness,
) -> None:
    item = await answered_then_followed_up(bot, anonymous=False)
    bot.telegram.clear()

    await bot.press(COMMITTEE, pack("sug", "close", item.id or 0), chat=GROUP)
    await bot.say(COMMITTEE, "/cancel")

    assert (await only_item(bot)).status == SuggestionStatus.OPEN
    assert bot.telegram.last(COMMITTEE.id).text == t(bot, "suggestion.close_cancelled")
    assert bot.telegram.texts(AUTHOR.id) == []


async def test_the_anonymous_author_gets_the_note_and_stays_anonymous(bot: BotHarness) -> None:
    item = await answered_then_followed_up(bot, anonymous=True)
    bot.telegram.clear()

    await bot.press(COMMITTEE, pack("sug", "close", item.id or 0), chat=GROUP)
    prompt = bot.telegram.last(COMMITTEE.id).text
    assert AUTHOR_NAME not in prompt and "匿名" in prompt
    await bot.write(COMMITTEE, CLOSING_NOTE)

    assert (await only_item(bot)).status == SuggestionStatus.CLOSED
    assert CLOSING_NOTE in bot.telegram.last(AUTHOR.id).text  # reached through the seal
    for call in bot.telegram.calls:
        if call.chat_id in (COMMITTEE_GROUP_ID, COMMITTEE.id):
            assert AUTHOR_NAME not in call.text and str(AUTHOR.id) not in str(call.params)


async def test_a_close_without_an_open_question_is_immediate_and_the_author_is_told(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    await file_item(bot, body="食堂的汤太咸。", anonymous=True)
    item = await only_item(bot)
    bot.telegram.clear()

    await bot.press(COMMITTEE, pack("sug", "close", item.id or 0), chat=GROUP)

    assert (await only_item(bot)).status == SuggestionStatus.CLOSED
    assert bot.telegram.last(AUTHOR.id).text == t(
        bot, "suggestion.closed_to_author", number=item.number
    )
    assert bot.telegram.answers()[-1].params["text"] == t(
        bot, "suggestion.closed_told", number=item.number
    )
    assert bot.telegram.texts(COMMITTEE.id) == []  # no note asked for


async def test_a_follow_up_answered_by_a_reply_needs_no_note(bot: BotHarness) -> None:
    item = await answered_then_followed_up(bot, anonymous=False)
    await bot.press(COMMITTEE, pack("sug", "reply", item.id or 0), chat=GROUP)
    await bot.write(COMMITTEE, "二楼的也一起报修了。")
    bot.telegram.clear()

    await bot.press(COMMITTEE, pack("sug", "close", item.id or 0), chat=GROUP)

    assert (await only_item(bot)).status == SuggestionStatus.CLOSED
    assert bot.telegram.last(AUTHOR.id).text == t(
        bot, "suggestion.closed_to_author", number=item.number
    )


# ---- 10. the follow-up prompt ---------------------------------------------------------------


async def test_the_follow_up_prompt_promises_anonymity_only_for_anonymous_items(
    bot: BotHarness,
) -> None:
    promise = "匿名事项仍保持匿名"
    await setup_school(bot)
    await file_item(bot, body="named item", anonymous=False)
    await file_item(bot, body="anonymous item", anonymous=True)
    async with bot.db() as session:
        named, anonymous = (
            await session.exec(select(Suggestion).order_by(col(Suggestion.id)))
        ).all()
    for item in (named, anonymous):
        await bot.press(COMMITTEE, pack("sug", "reply", item.id or 0), chat=GROUP)
        await bot.write(COMMITTEE, "收到。")

    await bot.press(AUTHOR, pack("sga", "more", named.id or 0))
    assert promise not in bot.telegram.last(AUTHOR.id).text
    await bot.say(AUTHOR, "/cancel")
    await bot.press(AUTHOR, pack("sga", "more", anonymous.id or 0))
    assert promise in bot.telegram.last(AUTHOR.id).text
