"""The walls between schools of one district: every button family and every command, used by
another school's chair and committee and by the district's staff against school A's records,
changes nothing of A's and shows nothing of A's."""

from __future__ import annotations

import enum
import itertools
import typing
from datetime import timedelta
from typing import Any, Literal

from sqlmodel import SQLModel, select
from telegram.ext import CommandHandler, ConversationHandler

import handlers  # noqa: F401  (every feature's button families register on import)
from bot.buttons import _PREFIXES, Button
from bot.i18n import I18n
from bot.sandbox.seed import seed_school
from bot.settings import Settings
from models.base import utcnow
from models.members import Member, Profile, load_actor, submit_registration
from models.suggestions import Draft, ensure_default_categories, list_categories, submit_suggestion
from tests.support.district import (
    CHAIR_B,
    COMMITTEE_B,
    DISTRICT_STAFF,
    GROUP_A,
    GROUP_B,
    district_bot,
)
from tests.support.harness import BotHarness
from tests.support.updates import group_chat

SECRET_STORY = "甲校匿名意见：食堂承包人是校长亲戚"
# Rows the bot writes for its own bookkeeping on any update, whoever sends it.
BOOKKEEPING = {"processed_update", "conversation_state", "member_version", "run_lease"}
IDS = (1, 2, 3)  # school A's seeded records have the first ids of every table


def _values(kind: Any) -> list[object]:
    if typing.get_origin(kind) is typing.Annotated:
        return list(IDS)
    if kind is int:
        return [1, 0]
    if kind is str:
        return ["x"]
    if typing.get_origin(kind) is Literal:
        return list(typing.get_args(kind))
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return list(kind)
    raise AssertionError(f"a button field of an unknown kind: {kind!r}")


def presses(family: type[Button], limit: int = 6) -> list[str]:
    """Callback data of this family aimed at A's first records: each literal choice at least
    once, the ids 1 to 3, at most `limit` of them."""
    fields = family._fields()
    choices = [_values(kind) for _, kind in fields]
    longest = max((len(values) for values in choices), default=1)
    made: list[str] = []
    for index in range(min(max(longest, len(IDS)), limit)):
        values = [values[index % len(values)] for values in choices]
        made.append(family(*values).pack())
    return made


def command_names(bot: BotHarness) -> set[str]:
    """Every command any handler of the application answers."""
    names: set[str] = set()
    pending = [handler for group in bot.app.handlers.values() for handler in group]
    while pending:
        handler = pending.pop()
        if isinstance(handler, CommandHandler):
            names |= set(handler.commands)
        elif isinstance(handler, ConversationHandler):
            pending.extend(handler.entry_points)
            pending.extend(handler.fallbacks)
            pending.extend(h for step in handler.states.values() for h in step)
    return names


async def _snapshot(
    bot: BotHarness, people: set[int], school_a: int
) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of school A (and every row of the tables that hang off others' rows), but the
    bookkeeping and the pressers' own member rows (a language chosen: their own, in their own
    organization); defaults their own organizations make on first use are theirs too."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    async with bot.app.state.engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            if table.name in BOOKKEEPING:
                continue
            query = table.select()
            if "organization_id" in table.c:
                query = query.where(table.c.organization_id == school_a)
            rows = list((await connection.execute(query)).all())
            if table.name == "member":
                rows = [row for row in rows if row.telegram_user_id not in people]
            found[table.name] = sorted(tuple(map(repr, row)) for row in rows)
    return found


async def _seed_school_a(bot: BotHarness, school_a: int) -> set[str]:
    """School A as the sandbox fills it, plus an anonymous suggestion; returns the words of
    A that must never reach anyone outside A (names, the stories)."""
    tr = I18n("zh-Hans").get("zh-Hans")
    await seed_school(bot.app, tr=tr, now=utcnow(), org_id=school_a, group_id=GROUP_A)
    async with bot.db() as session:
        # A newcomer waiting for A's committee: their join request is the first pending one.
        await submit_registration(
            session,
            org_id=school_a,
            telegram_user_id=2004,
            profile=Profile(real_name="周新来", department="数学组"),
            language="zh-Hans",
            is_owner=False,
        )
    async with bot.db() as session:
        author = await load_actor(session, org_id=school_a, telegram_user_id=2001)
        assert author is not None
        await ensure_default_categories(session, org_id=school_a)
        category = (await list_categories(session, org_id=school_a))[0]
        await submit_suggestion(
            session,
            org_id=school_a,
            author=author,
            draft=Draft(category.id or 0, SECRET_STORY, (), True, "walls-anonymous"),
            seal=bot.app.state.seal,
            today=(utcnow() - timedelta(hours=1)).date(),
        )
        query = select(Member.real_name).where(Member.organization_id == school_a)
        names = set(await session.exec(query))
    secrets = {SECRET_STORY, tr("sandbox.seed_aid"), tr("sandbox.seed_hardship")}
    secrets |= {tr("sandbox.seed_suggestion"), tr("sandbox.seed_proposal_title")}
    return secrets | names


def _leaks(bot: BotHarness, secrets: set[str], a_chats: set[int]) -> list[str]:
    """Messages to A's members, and anything showing A's words (A's group hears only the
    refusals of B's committee member who wrote there)."""
    found = []
    for call in bot.telegram.calls:
        if call.chat_id in a_chats and call.chat_id != GROUP_A:
            found.append(f"{call.method} to A's chat {call.chat_id}: {call.text[:60]}")
        for secret in secrets:
            if secret and secret in call.text:
                found.append(f"{call.method} to {call.chat_id} shows {secret!r}")
    return found


async def test_no_button_or_command_of_another_school_or_the_district_reaches_school_a(
    settings: Settings,
) -> None:
    async with district_bot(settings, people_in_a=False) as (bot, ids):
        secrets = await _seed_school_a(bot, ids.school_a)
        async with bot.db() as session:
            query = select(Member.telegram_user_id).where(Member.organization_id == ids.school_a)
            a_chats = {GROUP_A} | {tid for tid in await session.exec(query) if tid is not None}
        outsiders = (CHAIR_B, COMMITTEE_B, DISTRICT_STAFF)
        people = {person.id for person in outsiders}
        before = await _snapshot(bot, people, ids.school_a)
        group_families = {
            family for feature in bot.app.state.features for family in feature.group_buttons
        }
        bot.telegram.clear()

        pressed = 0
        for family in sorted(set(_PREFIXES.values()), key=lambda f: f.prefix):
            for data in presses(family):
                for person in outsiders:
                    await bot.press(person, data)
                    pressed += 1
                if family in group_families:
                    await bot.press(CHAIR_B, data, chat=group_chat(GROUP_B))
                    await bot.press(COMMITTEE_B, data, chat=group_chat(GROUP_A))
                    pressed += 2
        commands = command_names(bot)
        for name, person in itertools.product(sorted(commands), outsiders):
            for body in (f"/{name}", f"/{name} 1"):
                await bot.say(person, body)
        for name in sorted(commands):
            await bot.say(CHAIR_B, f"/{name}", chat=group_chat(GROUP_B))
            await bot.say(COMMITTEE_B, f"/{name}", chat=group_chat(GROUP_A))

        assert pressed > 500 and len(commands) > 30
        assert _leaks(bot, secrets, a_chats) == []
        after = await _snapshot(bot, people, ids.school_a)
        changed = {name for name in before if before[name] != after[name]}
        assert changed == set(), {name: after[name][-3:] for name in changed}
        # Someone heard back every time: no silence (a refusal, a menu, their own data).
        assert len(bot.telegram.calls) >= pressed
