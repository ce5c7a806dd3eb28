"""The order of the feature list carries no meaning: with handlers.FEATURES shuffled, the core
flows (join, suggest, answer, aid with a question and its answer) still pass, and typed text
still reaches only the form that asked for it."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.callback import pack
from bot.settings import Settings
from handlers import FEATURES
from models.aid import AidCase, CaseStatus, LedgerKind
from models.members import JoinRequest, JoinStatus, Member, MemberStatus
from models.suggestions import EntryKind, SuggestionStatus
from tests.support.forms import (
    AUTHOR,
    COMMITTEE,
    GROUP,
    LEFT,
    MENU_TITLE,
    NOTHING_ACTIVE,
    REPLY_SENT,
    entries_of,
    file_aid,
    file_suggestion,
    ledger_of,
    reached,
    reload_case,
    running_app,
    setup_school,
    shuffled,
)
from tests.support.harness import COMMITTEE_GROUP_ID, BotHarness
from tests.support.updates import Person

NEWCOMER = Person(2009, "Zhao", "zh-hans")
SEEDS = [1, 2, 3]


def test_the_seeds_really_shuffle_the_features() -> None:
    orders = {tuple(feature.name for feature in shuffled(seed)) for seed in SEEDS}
    plain = tuple(feature.name for feature in FEATURES)
    assert plain not in orders and len(orders) == len(SEEDS)
    for seed in SEEDS:
        assert sorted(f.name for f in shuffled(seed)) == sorted(plain)


async def join(bot: BotHarness, person: Person) -> Member:
    """Registration in Chinese, then the committee approves the card in the group."""
    await bot.say(person, "/start")
    await bot.press(person, pack("reg", "lang", "zhs"))
    await bot.say(person, "赵晓燕")
    await bot.say(person, "初三物理组")
    await bot.press(person, pack("reg", "gender", "female"))
    await bot.say(person, "1988-05-12")
    await bot.press(person, pack("reg", "retired", "no"))
    await bot.press(person, pack("reg", "confirm", "yes"))
    card = bot.telegram.last(COMMITTEE_GROUP_ID)
    assert "赵晓燕" in card.text
    await bot.press(COMMITTEE, card.button_data("批准"), chat=GROUP)
    async with bot.db() as session:
        member = (
            await session.exec(select(Member).where(Member.telegram_user_id == person.id))
        ).one()
        request = (await session.exec(select(JoinRequest))).one()
    assert member.status == MemberStatus.ACTIVE
    assert request.status == JoinStatus.APPROVED
    return member


@pytest.mark.parametrize("seed", SEEDS)
async def test_core_flows_pass_with_the_features_shuffled(settings: Settings, seed: int) -> None:
    async with running_app(settings, features=shuffled(seed)) as bot:
        assert [f.name for f in bot.app.state.features] == [f.name for f in shuffled(seed)]
        await setup_school(bot)

        member = await join(bot, NEWCOMER)

        # A named suggestion, answered through the desk.
        item = await file_suggestion(bot, NEWCOMER, "图书馆晚上能否开到九点？", anonymous=False)
        assert "赵晓燕" in bot.telegram.last(COMMITTEE_GROUP_ID).text
        await bot.press(COMMITTEE, pack("sug", "reply", item.id or 0), chat=GROUP)
        await bot.write(COMMITTEE, "下学期起延长到九点。")
        assert REPLY_SENT in bot.telegram.last(COMMITTEE.id).text
        assert reached(bot, "下学期起延长到九点") == {COMMITTEE.id, NEWCOMER.id}
        assert [e.kind for e in await entries_of(bot, item)] == [EntryKind.REPLY]

        # Aid: filed, a question from the desk, the answer back to the asker only.
        case = await file_aid(bot, NEWCOMER, "我上周做了阑尾手术，住院五天。")
        assert case.requester_member_id == member.id
        await bot.press(COMMITTEE, pack("ak", "ask", case.id or 0), chat=GROUP)
        await bot.write(COMMITTEE, "请补充出院小结。")
        await bot.press(NEWCOMER, pack("ad", "info", case.id or 0))
        await bot.write(NEWCOMER, "出院小结已拍照，明天发来。")
        assert reached(bot, "请补充出院小结") == {COMMITTEE.id, NEWCOMER.id}
        assert reached(bot, "出院小结已拍照") == {COMMITTEE.id, NEWCOMER.id}
        assert [e.kind for e in await ledger_of(bot, case)][-2:] == [
            LedgerKind.INFO_ASKED,
            LedgerKind.INFO_GIVEN,
        ]
        assert (await reload_case(bot, case)).status == CaseStatus.OPEN
        await bot.press(COMMITTEE, pack("ak", "yes", case.id or 0, 25000), chat=GROUP)
        assert (await reload_case(bot, case)).status == CaseStatus.APPROVED
        for text in bot.telegram.texts(COMMITTEE_GROUP_ID):
            assert "阑尾" not in text and "出院小结" not in text


@pytest.mark.parametrize("seed", SEEDS)
async def test_one_form_at_a_time_with_the_features_shuffled(settings: Settings, seed: int) -> None:
    async with running_app(settings, features=shuffled(seed)) as bot:
        await setup_school(bot)
        item = await file_suggestion(bot, AUTHOR, "食堂太挤。", anonymous=True)
        await bot.say(AUTHOR, "/suggest")
        await bot.say(AUTHOR, "/aid")
        await bot.press(AUTHOR, pack("ad", "who", "me"))
        await bot.press(AUTHOR, pack("ad", "type", "hospital"))
        await bot.say(AUTHOR, "我住院了。")
        await bot.press(COMMITTEE, pack("sug", "reply", item.id or 0), chat=GROUP)
        await bot.say(COMMITTEE, "/menu")
        await bot.say(COMMITTEE, "这句话不是答复。")
        await bot.say(AUTHOR, "/cancel")
        await bot.say(AUTHOR, "/cancel")

        assert reached(bot, "这句话不是答复") == set()
        assert await entries_of(bot, item) == []
        assert [t for t in bot.telegram.texts(COMMITTEE.id) if LEFT in t]
        assert MENU_TITLE in bot.telegram.texts(COMMITTEE.id)
        assert NOTHING_ACTIVE in bot.telegram.texts(AUTHOR.id)[-1]
        async with bot.db() as session:
            assert (await session.exec(select(AidCase))).all() == []
        stored = await entries_of(bot, item)
        assert stored == [] and item.status == SuggestionStatus.OPEN
