"""Say plainly what a step takes: text is not a photo, emoji are not words, and a private
command typed in the group is answered in the sender's language.

Everything goes through the real application (`bot` fixture): real update JSON in, recorded
Bot API calls and database rows out.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from bot.callback import pack
from models.aid import AidCase, AidEvidence
from models.errors import InputError
from models.members import Role
from models.proposals import Proposal
from models.suggestions import Suggestion, SuggestionPhoto
from models.validation import clean_text
from tests.support.factories import make_member
from tests.support.fake_telegram import BOT_USERNAME
from tests.support.forms import (
    AUTHOR,
    COMMITTEE,
    GROUP,
    REQUESTER,
    file_suggestion,
    private_texts,
    setup_school,
    to_aid_description,
    to_suggestion_body,
)
from tests.support.harness import COMMITTEE_GROUP_ID, SEND, BotHarness
from tests.support.proposals import PROPOSER, setup_congress
from tests.support.updates import Person, group_chat, text

# What a zh-Hans person reads (bot/locales/zh_Hans/LC_MESSAGES/unionbot.po).
NO_PHOTOS = "不附照片，继续"  # suggestion.no_photos
PHOTOS_DONE = "照片发完了"  # suggestion.photos_done
TEXT_NOT_PHOTO = "您发的是文字，不是照片"  # suggestion.text_not_photo
TEXT_NOT_FILE = "您发的是文字，不是照片或 PDF"  # aid.text_not_file
NEEDS_WORDS = "请用文字写明您的意思"  # input.needs_words
ASK_ANONYMITY = "署名还是匿名？"
CHECK_BEFORE_SENDING = "请核对，下面是将要发出的"


def photo(person: Person, file_id: str) -> dict[str, Any]:
    """A photo message as Telegram sends it (largest size last)."""
    update = text(person, "")
    message = update["message"]
    del message["text"]
    message["photo"] = [
        {"file_id": f"{file_id}-t", "file_unique_id": f"{file_id}-t", "width": 90, "height": 67},
        {"file_id": file_id, "file_unique_id": f"{file_id}-u", "width": 1280, "height": 960},
    ]
    return update


async def only(bot: BotHarness, table: type[Any]) -> Any:
    """The one row of a table."""
    async with bot.db() as session:
        [row] = (await session.exec(select(table))).all()
    return row


async def count(bot: BotHarness, table: type[Any]) -> int:
    """How many rows a table holds."""
    async with bot.db() as session:
        return len((await session.exec(select(table))).all())


# ---- 9. the photo step: text is not a photo ------------------------------------------------


async def test_text_at_the_photo_step_is_not_a_photo_and_the_button_keeps_its_label(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    await to_suggestion_body(bot, AUTHOR)
    await bot.say(AUTHOR, "食堂的饭菜太咸了。")
    assert bot.telegram.last(AUTHOR.id).buttons() == [(NO_PHOTOS, "sgf:photos:done")]

    await bot.say(AUTHOR, "还有汤也太咸。")

    answer = bot.telegram.last(AUTHOR.id)
    assert TEXT_NOT_PHOTO in answer.text and "不会加进意见里" in answer.text
    assert f"“{NO_PHOTOS}”" in answer.text
    assert answer.buttons() == [(NO_PHOTOS, "sgf:photos:done")]  # no "照片发完了" without a photo

    # A photo now: from here on the button says the photos are done, text or not.
    await bot.feed(photo(AUTHOR, "soup"))
    assert bot.telegram.last(AUTHOR.id).buttons() == [(PHOTOS_DONE, "sgf:photos:done")]
    await bot.say(AUTHOR, "再补一句")
    answer = bot.telegram.last(AUTHOR.id)
    assert TEXT_NOT_PHOTO in answer.text and f"“{PHOTOS_DONE}”" in answer.text
    assert answer.buttons() == [(PHOTOS_DONE, "sgf:photos:done")]

    await bot.press(AUTHOR, pack("sgf", "photos", "done"))
    assert ASK_ANONYMITY in bot.telegram.last(AUTHOR.id).text
    await bot.press(AUTHOR, pack("sgf", "anon", "named"))
    await bot.press(AUTHOR, pack("sgf", "confirm", "yes"))
    item = await only(bot, Suggestion)
    assert item.body == "食堂的饭菜太咸了。"  # the texts typed at the photo step were not added
    assert (await only(bot, SuggestionPhoto)).file_id == "soup"


async def test_text_at_the_photo_step_in_english(bot: BotHarness) -> None:
    await setup_school(bot)
    teacher = Person(2101, "Amy", "en")
    await make_member(bot.db, org_id=bot.org_id, person=teacher, name="Amy", language="en")
    await to_suggestion_body(bot, teacher)
    await bot.say(teacher, "The canteen is too noisy.")

    await bot.say(teacher, "and too cold")

    answer = bot.telegram.last(teacher.id)
    assert answer.text.startswith("That was text, not a photo")
    assert '"Continue without photos"' in answer.text
    assert answer.buttons() == [("Continue without photos", "sgf:photos:done")]


async def test_text_at_the_aid_evidence_step_is_not_evidence(bot: BotHarness) -> None:
    await setup_school(bot)
    await to_aid_description(bot, REQUESTER)
    await bot.say(REQUESTER, "父亲住院了，需要手术。")
    await bot.say(REQUESTER, "昨天")
    await bot.press(REQUESTER, pack("ad", "amt", "std"))

    await bot.say(REQUESTER, "出院小结过几天再拍")

    answer = bot.telegram.last(REQUESTER.id)
    assert TEXT_NOT_FILE in answer.text and "不会加进申请里" in answer.text
    assert answer.buttons() == [("完成", "ad:ev:done")]
    await bot.feed(photo(REQUESTER, "summary"))
    await bot.press(REQUESTER, pack("ad", "ev", "done"))
    await bot.press(REQUESTER, pack("ad", "ok", "yes"))
    case = await only(bot, AidCase)
    assert case.description == "父亲住院了，需要手术。"
    assert (await only(bot, AidEvidence)).file_id == "summary"


# ---- 16. emoji are not words -----------------------------------------------------------------


@pytest.mark.parametrize("body", ["👍👍", "🙏", "？？！", "👍 🙏\n👌"])
async def test_an_emoji_only_suggestion_is_refused_and_asked_again(
    bot: BotHarness, body: str
) -> None:
    await setup_school(bot)
    await to_suggestion_body(bot, AUTHOR)

    await bot.say(AUTHOR, body)

    assert NEEDS_WORDS in private_texts(bot, AUTHOR)[-1]
    assert not [label for label, _ in bot.telegram.last(AUTHOR.id).buttons() if label == NO_PHOTOS]
    # Still waiting for the text: words are taken.
    await bot.say(AUTHOR, "👍 食堂的新窗口很好")
    assert bot.telegram.last(AUTHOR.id).buttons() == [(NO_PHOTOS, "sgf:photos:done")]
    await bot.press(AUTHOR, pack("sgf", "photos", "done"))
    await bot.press(AUTHOR, pack("sgf", "anon", "anon"))
    await bot.press(AUTHOR, pack("sgf", "confirm", "yes"))
    assert (await only(bot, Suggestion)).body == "👍 食堂的新窗口很好"


async def test_an_emoji_only_aid_story_is_refused(bot: BotHarness) -> None:
    await setup_school(bot)
    await to_aid_description(bot, REQUESTER)

    await bot.say(REQUESTER, "🙏🙏🙏")

    assert NEEDS_WORDS in private_texts(bot, REQUESTER)[-1]
    assert await count(bot, AidCase) == 0
    await bot.say(REQUESTER, "母亲骨折住院")
    assert NEEDS_WORDS not in private_texts(bot, REQUESTER)[-1]


async def test_an_emoji_only_proposal_title_and_reasons_are_refused(bot: BotHarness) -> None:
    await setup_congress(bot)
    await bot.say(PROPOSER, "/propose")

    await bot.say(PROPOSER, "👍")
    assert NEEDS_WORDS in private_texts(bot, PROPOSER)[-1]
    await bot.say(PROPOSER, "增设教师休息室")
    last = bot.telegram.last(PROPOSER.id)
    if any(data == pack("pp", "sim", "mine") for _, data in last.buttons()):
        await bot.press(PROPOSER, pack("pp", "sim", "mine"))
    await bot.say(PROPOSER, "💯💯")
    assert NEEDS_WORDS in private_texts(bot, PROPOSER)[-1]
    await bot.say(PROPOSER, "课间没有地方休息。")
    await bot.say(PROPOSER, "🙏")
    assert NEEDS_WORDS in private_texts(bot, PROPOSER)[-1]
    await bot.say(PROPOSER, "在三楼设一间休息室。")
    await bot.press(PROPOSER, pack("pp", "cat", "welfare"))
    await bot.press(PROPOSER, pack("pp", "confirm", "yes"))
    proposal = await only(bot, Proposal)
    assert (proposal.title, proposal.reasons, proposal.measures) == (
        "增设教师休息室",
        "课间没有地方休息。",
        "在三楼设一间休息室。",
    )


async def test_an_emoji_only_answer_is_asked_again_before_it_is_shown_back(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    item = await file_suggestion(bot, AUTHOR, "操场的灯坏了。", anonymous=False)
    bot.telegram.clear()
    await bot.press(COMMITTEE, pack("sug", "reply", item.id or 0), chat=GROUP)

    await bot.say(COMMITTEE, "👍")

    said = private_texts(bot, COMMITTEE)[-1]
    assert NEEDS_WORDS in said and CHECK_BEFORE_SENDING not in said
    assert [text for text in private_texts(bot, AUTHOR) if "👍" in text] == []
    # The prompt still waits: words are shown back and sent.
    await bot.write(COMMITTEE, "已报修，本周内修好。")
    assert "已报修，本周内修好。" in bot.telegram.last(AUTHOR.id).text


@pytest.mark.parametrize("value", ["👍", "🙏🙏", "—…", "👍 ？"])
def test_clean_text_needs_words_refuses_symbols_only(value: str) -> None:
    with pytest.raises(InputError) as caught:
        clean_text(value, limit=100, needs_words=True)
    assert caught.value.key == "input.needs_words"
    # Without the option (names, short fields) such a text is still taken as it is.
    assert clean_text(value, limit=100) == value


def test_an_invisible_filler_is_not_a_word() -> None:
    """The Hangul filler is a letter to Unicode but shows nothing: it is dropped like the
    zero-width characters, so it cannot pass for words."""
    with pytest.raises(InputError) as caught:
        clean_text("👍\u3164", limit=100, needs_words=True)
    assert caught.value.key == "input.needs_words"
    with pytest.raises(InputError) as caught:
        clean_text("\u3164\u115f", limit=100, needs_words=True)
    assert caught.value.key == "input.empty"


@pytest.mark.parametrize("value", ["好", "ok", "3", "①", "👍 好的", "Ⅻ"])
def test_clean_text_needs_words_takes_any_letter_or_digit(value: str) -> None:
    assert clean_text(value, limit=100, needs_words=True) == value


# ---- 15. a private command in the group: the sender's language ---------------------------------


async def test_a_private_command_in_the_group_is_answered_in_the_members_language(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    # An English teacher whose Telegram is set to Chinese: the stored choice wins.
    teacher = Person(2102, "Amy", "zh-hans")
    await make_member(bot.db, org_id=bot.org_id, person=teacher, name="Amy", language="en")

    await bot.say(teacher, "/suggest", chat=group_chat(COMMITTEE_GROUP_ID))

    [reply] = bot.telegram.sent("sendMessage")
    assert reply.chat_id == COMMITTEE_GROUP_ID
    assert reply.text == (
        "Please use this command in a private chat with me, to keep personal details private."
    )
    assert reply.buttons() == [("Message the union desk", f"https://t.me/{BOT_USERNAME}")]
    assert bot.telegram.sent("sendMessage", teacher.id) == []


async def test_a_private_command_in_the_group_from_a_stranger_uses_telegrams_language(
    bot: BotHarness,
) -> None:
    stranger = Person(2103, "Lee", "zh-hant")

    await bot.say(stranger, "/me", chat=group_chat(COMMITTEE_GROUP_ID))

    reply = bot.telegram.last(COMMITTEE_GROUP_ID)
    assert reply.text == "這個命令請私訊我使用，以保護個人資訊。"
    assert reply.buttons() == [("私訊工會助手", f"https://t.me/{BOT_USERNAME}")]


async def test_a_private_command_in_the_group_from_a_chinese_member_stays_chinese(
    bot: BotHarness,
) -> None:
    await make_member(
        bot.db, org_id=bot.org_id, person=COMMITTEE, name="刘委员", roles=[Role.COMMITTEE]
    )
    english_phone = Person(COMMITTEE.id, COMMITTEE.first_name, "en")

    await bot.say(english_phone, "/aid", chat=group_chat(COMMITTEE_GROUP_ID))

    assert bot.telegram.last(COMMITTEE_GROUP_ID).text == "这个命令请私聊我使用，以保护个人信息。"


async def test_words_still_reach_the_author(bot: BotHarness) -> None:
    """Guard: a normal answer with an emoji in it goes through unchanged."""
    await setup_school(bot)
    item = await file_suggestion(bot, AUTHOR, "图书馆空调太冷。", anonymous=False)
    await bot.press(COMMITTEE, pack("sug", "reply", item.id or 0), chat=GROUP)
    await bot.say(COMMITTEE, "已调高温度 👍")
    assert CHECK_BEFORE_SENDING in private_texts(bot, COMMITTEE)[-1]
    await bot.press(COMMITTEE, SEND)
    assert "已调高温度 👍" in bot.telegram.last(AUTHOR.id).text
