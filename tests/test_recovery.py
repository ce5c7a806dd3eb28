"""Items stored just before a stop reach the desk at the next start, without anyone pressing
again (issue 15, item 17): the crash left a row without its card (and without its receipt)."""

from __future__ import annotations

from sqlmodel import col, delete, select

from bot.settings import Settings
from models.aid import AidCase
from models.desk import DeskCard
from tests.support.harness import COMMITTEE_GROUP_ID, BotHarness, running_bot
from tests.test_aid_chat import MEMBER, STORY, ask
from tests.test_aid_chat import setup_school as aid_school
from tests.test_joining import TEACHER, _bind_group, register
from tests.test_suggestions import AUTHOR, AUTHOR_NAME, file_item, only_item, setup_school

BODY = "教师休息室的饮水机坏了两周了。"


async def forget_cards(bot: BotHarness, kind: str) -> None:
    """As if the bot stopped between storing the item and posting its card."""
    async with bot.db() as session:
        await session.exec(delete(DeskCard).where(col(DeskCard.kind) == kind))
        await session.commit()


async def cards(bot: BotHarness, kind: str) -> list[DeskCard]:
    """The recorded card copies of this kind."""
    async with bot.db() as session:
        return list((await session.exec(select(DeskCard).where(DeskCard.kind == kind))).all())


def sent_to(bot: BotHarness, chat_id: int) -> list[str]:
    """Texts (and captions) sent to one chat since this bot started."""
    return [
        str(call.params.get("text") or call.params.get("caption") or "")
        for call in bot.telegram.calls
        if call.chat_id == chat_id and call.method.startswith("send")
    ]


async def test_an_anonymous_suggestion_stored_before_a_stop_reaches_the_desk(
    settings: Settings,
) -> None:
    async with running_bot(settings) as bot:
        await setup_school(bot)
        await file_item(bot, body=BODY, anonymous=True)
        item = await only_item(bot)
        await forget_cards(bot, "sug")

    async with running_bot(settings) as bot:
        group = sent_to(bot, COMMITTEE_GROUP_ID)
        assert len([text for text in group if item.number in text and BODY in text]) == 1
        assert not [text for text in group if AUTHOR_NAME in text]  # still anonymous
        receipts = [text for text in sent_to(bot, AUTHOR.id) if item.number in text]
        assert len(receipts) == 1
        assert len(await cards(bot, "sug")) == 1

    async with running_bot(settings) as bot:  # a card is there now: nothing twice
        assert sent_to(bot, COMMITTEE_GROUP_ID) == []
        assert sent_to(bot, AUTHOR.id) == []


async def test_an_aid_case_stored_before_a_stop_reaches_the_desk_masked(
    settings: Settings,
) -> None:
    async with running_bot(settings) as bot:
        await aid_school(bot)
        case = await ask(bot)
        await forget_cards(bot, "aid")

    async with running_bot(settings) as bot:
        group = sent_to(bot, COMMITTEE_GROUP_ID)
        assert len([text for text in group if case.number in text]) == 1
        assert not [text for text in group if STORY in text or "王芳芳" in text]  # masked
        assert len([text for text in sent_to(bot, MEMBER.id) if case.number in text]) == 1
        async with bot.db() as session:
            stored = await session.get(AidCase, case.id)
        assert stored is not None and stored.status == case.status

    async with running_bot(settings) as bot:
        assert sent_to(bot, COMMITTEE_GROUP_ID) == []


async def test_a_join_request_stored_before_a_stop_reaches_the_desk(settings: Settings) -> None:
    async with running_bot(settings) as bot:
        await _bind_group(bot)
        await register(bot, TEACHER)
        await forget_cards(bot, "join")

    async with running_bot(settings) as bot:
        assert len([text for text in sent_to(bot, COMMITTEE_GROUP_ID) if "Wang Fang" in text]) == 1
        # Told in the language they registered in (English), though not a member yet.
        assert [text for text in sent_to(bot, TEACHER.id) if "Thank you, Wang Fang" in text]
        assert len(await cards(bot, "join")) == 1

    async with running_bot(settings) as bot:
        assert sent_to(bot, COMMITTEE_GROUP_ID) == []
