"""A school for the one-form-per-person tests, walks through its forms, where a text went, a
clock to age forms, restarts on the same database and persistence, and a bot whose feature
list is shuffled.

Everything runs through the real application (the same factory as production) over the fake
transport; nothing here reaches into a handler.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, text
from sqlmodel import SQLModel, col, select

from bot.app import build_application
from bot.callback import pack
from bot.db import create_engine, is_sqlite
from bot.features import Feature
from bot.settings import Settings
from handlers import FEATURES
from models.aid import AidCase, AidLedgerEntry
from models.members import Member, Role
from models.organizations import bind_committee_chat
from models.suggestions import Suggestion, SuggestionCategory, SuggestionEntry
from tests.conftest import empty_tables
from tests.support.factories import make_member
from tests.support.fake_telegram import Call, FakeTelegram
from tests.support.harness import CHAIR, COMMITTEE_GROUP_ID, SEND, BotHarness
from tests.support.updates import Person, group_chat

GROUP = group_chat(COMMITTEE_GROUP_ID)
COMMITTEE = Person(1002, "Liu", "zh-hans")  # 刘委员
SECOND = Person(1003, "Chen", "zh-hans")  # 陈委员
AUTHOR = Person(2001, "Wang", "zh-hans")  # 王芳芳: files anonymous suggestions
REQUESTER = Person(2002, "Li", "zh-hans")  # 李明华 (李老师): asks for aid

COMMITTEE_NAME = "刘委员"
SECOND_NAME = "陈委员"
AUTHOR_NAME = "王芳芳"
AUTHOR_DEPARTMENT = "初二年级组"
REQUESTER_NAME = "李明华"
REQUESTER_DEPARTMENT = "高一语文组"

EDIT = pack("form", "out", "edit")
CANCEL_OUT = pack("form", "out", "cancel")

# Texts as a zh-hans person sees them (bot/locales/zh_Hans/LC_MESSAGES/unionbot.po).
WRITING = "✍️ 正在填写："  # form.writing: the prompt of a text for someone else
CHECK_BEFORE_SENDING = "请核对，下面是将要发出的"  # form.check_before_sending
LEFT = "没有完成，已经结束"  # form.left
EXPIRED = "太久没有继续，已经自动结束，没有发出任何内容"  # form.expired
NOTHING_ACTIVE = "现在没有进行中的操作"  # form.nothing_active
UNKNOWN_COMMAND = "我不认识这个命令"  # fallback.unknown_command
NOT_UNDERSTOOD = "我没看懂这条消息"  # fallback.not_understood
MENU_TITLE = "请选择要做的事："  # menu.title
PRIVATE_ONLY = "这个命令请私聊我使用"  # group.private_only
NOT_COMMITTEE = "只有工会委员可以处理这一项。"  # desk.not_committee
REPLY_SENT = "答复已送达"  # suggestion.reply_sent
AID_CANCELLED = "已取消，没有保存。"  # aid.cancelled
WRITE_BODY = "请写下您的意见"  # suggestion.write_body (checked in the tests that use it)
AID_LABEL = "帮扶申请"  # form.label.aid_asking
SUGGESTION_LABEL = "意见箱投递"  # form.label.suggestion_filing
REPLY_LABEL = "意见箱答复"  # form.label.suggestion_reply
FOLLOWUP_LABEL = "意见的继续追问"  # form.label.suggestion_followup
DESK_TEXT_LABEL = "帮扶审核的文字填写"  # form.label.aid_desk_text
AID_ANSWER_LABEL = "回复委员会的补充问题"  # form.label.aid_answer
PROFILE_LABEL = "修改个人资料"  # form.label.profile_edit


# ---- the school ------------------------------------------------------------------------------


@dataclass(frozen=True)
class School:
    """Who is who: the members' rows."""

    chair: Member
    committee: Member
    second: Member
    author: Member
    requester: Member


async def setup_school(bot: BotHarness) -> School:
    """A bound committee group, the chair, two committee members and two teachers."""
    async with bot.db() as session:
        await bind_committee_chat(session, org_id=bot.org_id, chat_id=COMMITTEE_GROUP_ID)
    chair = await make_member(
        bot.db, org_id=bot.org_id, person=CHAIR, name="张主席", roles=[Role.CHAIR]
    )
    committee = await make_member(
        bot.db, org_id=bot.org_id, person=COMMITTEE, name=COMMITTEE_NAME, roles=[Role.COMMITTEE]
    )
    second = await make_member(
        bot.db, org_id=bot.org_id, person=SECOND, name=SECOND_NAME, roles=[Role.COMMITTEE]
    )
    author = await make_member(
        bot.db, org_id=bot.org_id, person=AUTHOR, name=AUTHOR_NAME, department=AUTHOR_DEPARTMENT
    )
    requester = await make_member(
        bot.db,
        org_id=bot.org_id,
        person=REQUESTER,
        name=REQUESTER_NAME,
        department=REQUESTER_DEPARTMENT,
    )
    return School(chair, committee, second, author, requester)


async def category_id(bot: BotHarness, code: str = "canteen") -> int:
    """A default category (they are created on the first /suggest)."""
    async with bot.db() as session:
        category = (
            await session.exec(select(SuggestionCategory).where(SuggestionCategory.code == code))
        ).one()
    assert category.id is not None
    return category.id


async def to_suggestion_body(bot: BotHarness, person: Person) -> None:
    """/suggest and a category: the bot now waits for the text."""
    await bot.say(person, "/suggest")
    await bot.press(person, pack("sgf", "cat", await category_id(bot)))


async def file_suggestion(
    bot: BotHarness, person: Person, body: str, *, anonymous: bool
) -> Suggestion:
    """Walk /suggest to the end; returns the stored item."""
    await to_suggestion_body(bot, person)
    await bot.say(person, body)
    await bot.press(person, pack("sgf", "photos", "done"))
    await bot.press(person, pack("sgf", "anon", "anon" if anonymous else "named"))
    await bot.press(person, pack("sgf", "confirm", "yes"))
    async with bot.db() as session:
        item = (await session.exec(select(Suggestion).order_by(col(Suggestion.id).desc()))).first()
    assert item is not None and item.body == body, "the suggestion was not filed"
    return item


async def to_aid_description(bot: BotHarness, person: Person) -> None:
    """/aid for oneself, a hospital visit: the bot now waits for the story."""
    await bot.say(person, "/aid")
    await bot.press(person, pack("ad", "who", "me"))
    await bot.press(person, pack("ad", "type", "hospital"))


async def finish_aid(bot: BotHarness, person: Person) -> None:
    """After the story: yesterday, the standard amount, no files, confirm."""
    await bot.say(person, "昨天")
    await bot.press(person, pack("ad", "amt", "std"))
    await bot.press(person, pack("ad", "ev", "done"))
    await bot.press(person, pack("ad", "ok", "yes"))


async def file_aid(bot: BotHarness, person: Person, story: str) -> AidCase:
    """Walk /aid to the end; returns the stored case."""
    await to_aid_description(bot, person)
    await bot.say(person, story)
    await finish_aid(bot, person)
    async with bot.db() as session:
        case = (await session.exec(select(AidCase).order_by(col(AidCase.id).desc()))).first()
    assert case is not None and case.description == story, "the aid case was not filed"
    return case


async def reply_to(bot: BotHarness, by: Person, item: Suggestion, reply: str) -> None:
    """A committee member presses ✍️ 答复 in the group, types the reply and presses Send."""
    await bot.press(by, pack("sug", "reply", item.id or 0), chat=GROUP)
    await bot.write(by, reply)


async def ask_requester(bot: BotHarness, by: Person, case: AidCase, question: str) -> None:
    """A committee member presses ❓ 补充材料 in the group, types the question, presses Send."""
    await bot.press(by, pack("ak", "ask", case.id or 0), chat=GROUP)
    await bot.write(by, question)


async def entries_of(bot: BotHarness, item: Suggestion) -> list[SuggestionEntry]:
    """The item's thread, oldest first."""
    async with bot.db() as session:
        return list(
            (
                await session.exec(
                    select(SuggestionEntry)
                    .where(SuggestionEntry.suggestion_id == item.id)
                    .order_by(col(SuggestionEntry.id))
                )
            ).all()
        )


async def ledger_of(bot: BotHarness, case: AidCase) -> list[AidLedgerEntry]:
    """The case's history, oldest first."""
    async with bot.db() as session:
        return list(
            (
                await session.exec(
                    select(AidLedgerEntry)
                    .where(AidLedgerEntry.case_id == case.id)
                    .order_by(col(AidLedgerEntry.id))
                )
            ).all()
        )


async def reload_case(bot: BotHarness, case: AidCase) -> AidCase:
    """The case as stored now."""
    async with bot.db() as session:
        stored = await session.get(AidCase, case.id)
    assert stored is not None
    return stored


async def reload_member(bot: BotHarness, member: Member) -> Member:
    """The member as stored now."""
    async with bot.db() as session:
        stored = await session.get(Member, member.id)
    assert stored is not None
    return stored


# ---- where a text went -----------------------------------------------------------------------


def dump(call: Call) -> str:
    """Everything a call carried (text, caption, buttons), as one string."""
    return json.dumps(call.params, ensure_ascii=False, default=str)


def chats_given(calls: Iterable[Call], fragment: str) -> set[int]:
    """Every chat a call carrying `fragment` went to."""
    return {call.chat_id for call in calls if call.chat_id is not None and fragment in dump(call)}


def reached(bot: BotHarness, fragment: str) -> set[int]:
    """Every chat the bot sent or edited something carrying `fragment` in."""
    return chats_given(bot.telegram.calls, fragment)


def private_texts(bot: BotHarness, person: Person) -> list[str]:
    """What the bot said to a person in their private chat, oldest first."""
    return bot.telegram.texts(person.id)


def alerts(bot: BotHarness) -> list[Call]:
    """Answers to button presses that came up as an alert."""
    return [call for call in bot.telegram.answers() if call.params.get("show_alert")]


# ---- time, restarts, shuffled features -------------------------------------------------------


class Clock:
    """Wall-clock time that tests move forward by hand (the engine's `clock`)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, *, hours: float = 0, minutes: float = 0) -> None:
        """Move time on."""
        self.now += hours * 3600 + minutes * 60


def use_clock(bot: BotHarness, clock: Clock) -> None:
    """Let the bot's form engine read `clock`."""
    forms = bot.app.state.forms
    assert forms is not None
    forms.clock = clock


def shuffled(seed: int) -> tuple[Feature, ...]:
    """The feature list in an order drawn from `seed`."""
    return tuple(random.Random(seed).sample(FEATURES, len(FEATURES)))


async def start_app(settings: Settings, *, features: Sequence[Feature] = FEATURES) -> BotHarness:
    """Build, initialize and start up the application (as `running_bot` does)."""
    telegram = FakeTelegram()
    application = build_application(
        settings, request=telegram, use_default_rate_limiter=False, features=features
    )
    await application.initialize()
    assert application.post_init is not None
    await application.post_init(application)
    return BotHarness(application, telegram)


async def stop_app(bot: BotHarness, *, flush: bool = True) -> None:
    """Shut the application down; with `flush`, the conversations and drafts are written to the
    persistence file first (as the running bot does every few seconds), so the next
    application on the same settings reads them back."""
    application = bot.app
    if flush:
        await application.update_persistence()
    await application.shutdown()
    assert application.post_shutdown is not None
    await application.post_shutdown(application)


@asynccontextmanager
async def running_app(
    settings: Settings, *, features: Sequence[Feature] = FEATURES, flush: bool = True
) -> AsyncIterator[BotHarness]:
    """Like `tests.support.harness.running_bot`, with a feature list of one's choice, and the
    persistence flushed on the way out (see `stop_app`)."""
    bot = await start_app(settings, features=features)
    try:
        yield bot
    finally:
        await stop_app(bot, flush=flush)


# ---- the database as rows --------------------------------------------------------------------

Rows = list[tuple[Table, list[dict[str, Any]]]]


async def capture_rows(url: str) -> Rows:
    """Every row of every table, parents before children."""
    engine = create_engine(url)
    captured: Rows = []
    async with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            result = await connection.execute(table.select())
            captured.append((table, [dict(row) for row in result.mappings()]))
    await engine.dispose()
    return captured


async def restore_rows(url: str, captured: Rows) -> None:
    """Empty the database and put the captured rows back (PostgreSQL sequences included)."""
    await empty_tables(url)
    engine = create_engine(url)
    async with engine.begin() as connection:
        for table, rows in captured:
            if rows:
                await connection.execute(table.insert(), rows)
        if not is_sqlite(url):
            for table, rows in captured:
                if rows and "id" in table.c and table.c.id.primary_key:
                    await connection.execute(
                        text("SELECT setval(pg_get_serial_sequence(:name, 'id'), :top)"),
                        {"name": f'"{table.name}"', "top": max(row["id"] for row in rows)},
                    )
    await engine.dispose()


__all__ = ["CHAIR", "COMMITTEE_GROUP_ID", "SEND"]
