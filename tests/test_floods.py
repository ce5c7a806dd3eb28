"""Floods (issue 15, item 13), through the real application: follow-ups and verdicts per item
per day, suggestions and aid requests per member per day. Each limit is a setting; reaching it
is answered in the person's language, says what happened and what to do next, and nothing
reaches the committee group or the database beyond the limit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from bot.callback import pack
from bot.settings import Settings
from models.aid import AidCase
from models.suggestions import EntryKind, Suggestion, SuggestionEntry
from tests.support.factories import make_member
from tests.support.harness import COMMITTEE_GROUP_ID, BotHarness, running_bot
from tests.support.updates import Person
from tests.test_aid_flows import COLLEAGUE as AID_COLLEAGUE
from tests.test_aid_flows import MEMBER as AID_MEMBER
from tests.test_aid_flows import ask, report
from tests.test_aid_flows import setup_school as setup_aid_school
from tests.test_suggestion_desk import answer_item
from tests.test_suggestions import AUTHOR, category_id, file_item, only_item, setup_school

ROOT = Path(__file__).resolve().parent.parent
# What people read (zh_Hans catalog, distinctive fragments).
FOLLOWUP_LIMIT = "今天已经追问了 2 次，这是每天的上限，这次没有发送"
VERDICT_LIMIT = "今天已经评价了 2 次（已解决/未解决），这是每天的上限，这次没有记录"
SUGGESTION_LIMIT = "今天您已经提交了 2 条意见（署名和匿名合计），这是每天的上限"
AID_LIMIT = "今天您已经提交了 1 件补助申请或报告，这是每天的上限。请明天再提交"
WRITE_FOLLOWUP = "请写下您的追问"
CHOOSE_CATEGORY = "请选择类别"
AID_INTRO = "困难帮扶与慰问"
FLOOD_SETTINGS = {
    "SUGGESTION_DAILY_LIMIT": 10,
    "FOLLOWUP_DAILY_LIMIT": 5,
    "VERDICT_DAILY_LIMIT": 3,
    "AID_REQUEST_DAILY_LIMIT": 3,
}


@pytest.fixture
async def limited(settings: Settings) -> AsyncIterator[BotHarness]:
    """A bot whose every flood limit is small."""
    small = settings.model_copy(
        update={
            "suggestion_daily_limit": 2,
            "followup_daily_limit": 2,
            "verdict_daily_limit": 2,
            "aid_request_daily_limit": 1,
        }
    )
    async with running_bot(small) as bot:
        yield bot


def told(bot: BotHarness, person: Person) -> str:
    """Everything the person was told: messages and button answers."""
    answers = [a.text for a in bot.telegram.answers()]
    return "\n".join(bot.telegram.texts(person.id) + answers)


def group_texts(bot: BotHarness, fragment: str) -> list[str]:
    """Messages posted to the committee group containing `fragment`."""
    return [t for t in bot.telegram.texts(COMMITTEE_GROUP_ID) if fragment in t]


async def entries(bot: BotHarness, kind: EntryKind) -> list[SuggestionEntry]:
    """The stored thread entries of one kind."""
    async with bot.db() as session:
        return list(
            (await session.exec(select(SuggestionEntry).where(SuggestionEntry.kind == kind))).all()
        )


async def move_to_yesterday(bot: BotHarness) -> None:
    """Every thread entry is a day older: the day's counts start again."""
    async with bot.db() as session:
        for entry in (await session.exec(select(SuggestionEntry))).all():
            entry.created_at = entry.created_at - timedelta(days=1)
            session.add(entry)
        await session.commit()


async def an_answered_anonymous_item(bot: BotHarness) -> Suggestion:
    """The author's anonymous item with one committee answer under which the buttons are."""
    await setup_school(bot)
    await file_item(bot, body="匿名：图书馆空调坏了。", anonymous=True)
    await answer_item(bot, "已报修。")
    return await only_item(bot)


async def test_follow_ups_per_item_per_day_are_limited_at_the_press(limited: BotHarness) -> None:
    bot = limited
    item = await an_answered_anonymous_item(bot)
    follow_up = bot.telegram.last(AUTHOR.id).button_data("追问")
    for body in ("第一次追问：哪天修？", "第二次追问：还没修。"):
        await bot.press(AUTHOR, follow_up)
        await bot.write(AUTHOR, body)
    group_before = len(bot.telegram.texts(COMMITTEE_GROUP_ID))
    edits_before = len(bot.telegram.sent("editMessageText", COMMITTEE_GROUP_ID))

    await bot.press(AUTHOR, follow_up)

    alert = bot.telegram.answers()[-1]
    assert FOLLOWUP_LIMIT in alert.text and item.number in alert.text
    assert alert.params.get("show_alert") is True
    assert WRITE_FOLLOWUP not in bot.telegram.last(AUTHOR.id).text  # no text asked for
    assert len(await entries(bot, EntryKind.FOLLOWUP)) == 2
    assert len(bot.telegram.texts(COMMITTEE_GROUP_ID)) == group_before
    assert len(bot.telegram.sent("editMessageText", COMMITTEE_GROUP_ID)) == edits_before
    assert len(group_texts(bot, "的提出人追问")) == 2

    await bot.say(AUTHOR, "这段文字不会送到任何地方。")  # no follow-up form is waiting
    assert not group_texts(bot, "这段文字不会送到任何地方")

    await move_to_yesterday(bot)  # a new day: following up works again
    await bot.press(AUTHOR, follow_up)
    assert WRITE_FOLLOWUP in bot.telegram.last(AUTHOR.id).text


async def test_verdicts_per_item_per_day_are_limited(limited: BotHarness) -> None:
    bot = limited
    item = await an_answered_anonymous_item(bot)
    under_reply = bot.telegram.last(AUTHOR.id)
    not_resolved = under_reply.button_data("没有解决")
    resolved = under_reply.button_data("问题已解决")

    for _ in range(2):
        await bot.press(AUTHOR, not_resolved)
    group_before = len(bot.telegram.texts(COMMITTEE_GROUP_ID))
    edits_before = len(bot.telegram.sent("editMessageText", COMMITTEE_GROUP_ID))
    for button in (not_resolved, not_resolved, resolved):
        await bot.press(AUTHOR, button)
        alert = bot.telegram.answers()[-1]
        assert VERDICT_LIMIT in alert.text and item.number in alert.text

    assert len(await entries(bot, EntryKind.NOT_RESOLVED)) == 2
    assert await entries(bot, EntryKind.RESOLVED) == []
    assert len(group_texts(bot, "表示没有解决")) == 2
    assert len(bot.telegram.texts(COMMITTEE_GROUP_ID)) == group_before
    assert len(bot.telegram.sent("editMessageText", COMMITTEE_GROUP_ID)) == edits_before

    await move_to_yesterday(bot)
    await bot.press(AUTHOR, not_resolved)
    assert len(await entries(bot, EntryKind.NOT_RESOLVED)) == 3


async def test_suggestions_per_member_per_day_count_named_and_anonymous_together(
    limited: BotHarness,
) -> None:
    bot = limited
    await setup_school(bot)
    await file_item(bot, body="署名：操场灯不亮。", anonymous=False)
    await file_item(bot, body="匿名：食堂太咸。", anonymous=True)

    await bot.say(AUTHOR, "/suggest")

    assert SUGGESTION_LIMIT in bot.telegram.last(AUTHOR.id).text
    assert CHOOSE_CATEGORY not in told(bot, AUTHOR).split(SUGGESTION_LIMIT)[-1]
    await bot.say(AUTHOR, "第三条的正文")  # nothing is waiting for it
    async with bot.db() as session:
        assert len((await session.exec(select(Suggestion))).all()) == 2

    # The menu's button is refused the same way; someone else still files.
    await bot.press(AUTHOR, pack("menu", "suggest"))
    assert SUGGESTION_LIMIT in bot.telegram.last(AUTHOR.id).text
    other = Person(2301, "Sun")
    await make_member(bot.db, org_id=bot.org_id, person=other, name="孙老师")
    await file_item(bot, body="别人的一条。", anonymous=True, person=other)
    async with bot.db() as session:
        assert len((await session.exec(select(Suggestion))).all()) == 3

    # Yesterday's items do not count.
    async with bot.db() as session:
        for item in (await session.exec(select(Suggestion))).all():
            item.created_at = item.created_at - timedelta(days=1)
            session.add(item)
        await session.commit()
    await bot.say(AUTHOR, "/suggest")
    await bot.press(AUTHOR, pack("sgf", "cat", await category_id(bot)))
    await bot.say(AUTHOR, "新的一天的一条。")
    await bot.press(AUTHOR, pack("sgf", "photos", "done"))
    await bot.press(AUTHOR, pack("sgf", "anon", "named"))
    await bot.press(AUTHOR, pack("sgf", "confirm", "yes"))
    async with bot.db() as session:
        assert len((await session.exec(select(Suggestion))).all()) == 4


async def test_aid_requests_per_member_per_day_are_limited(limited: BotHarness) -> None:
    bot = limited
    await setup_aid_school(bot)
    await ask(bot, AID_MEMBER)

    await bot.say(AID_MEMBER, "/aid")

    refusal = bot.telegram.last(AID_MEMBER.id).text
    assert AID_LIMIT in refusal and "工会委员" in refusal
    assert AID_INTRO not in refusal
    async with bot.db() as session:
        assert len((await session.exec(select(AidCase))).all()) == 1

    # A report about a colleague counts for the one who files it; others are not limited.
    await report(bot, reporter=AID_COLLEAGUE)
    await bot.say(AID_COLLEAGUE, "/aid")
    assert AID_LIMIT in bot.telegram.last(AID_COLLEAGUE.id).text
    async with bot.db() as session:
        cases = (await session.exec(select(AidCase).order_by(col(AidCase.id)))).all()
    assert len(cases) == 2

    async with bot.db() as session:  # a new day
        for case in cases:
            case.created_at = case.created_at - timedelta(days=1)
            session.add(case)
        await session.commit()
    await bot.say(AID_MEMBER, "/aid")
    assert AID_INTRO in bot.telegram.last(AID_MEMBER.id).text


def test_flood_limits_have_defaults_and_are_documented(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    defaults: dict[str, Any] = Settings(_env_file=None).model_dump()  # type: ignore[call-arg]
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, default in FLOOD_SETTINGS.items():
        assert defaults[name.lower()] == default
        assert f"{name}={default}" in example
        assert f"| `{name}` | `{default}` |" in readme
    assert defaults["accept_new_secret_key"] is False
    assert "ACCEPT_NEW_SECRET_KEY=false" in example
    assert "| `ACCEPT_NEW_SECRET_KEY` | `false` |" in readme
