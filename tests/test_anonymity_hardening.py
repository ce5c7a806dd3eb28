"""Anonymity under pressure (issue 15, items 8 to 12), through the real application.

- No log line of the anonymous path names a person, a refused button answer included.
- No per-author row counts anonymous items: the daily limit lives in memory under a keyed hash.
- The filing draft (the author's link to the item) is gone, in memory and on disk, before the
  first Telegram call after the commit; an item whose card failed then reaches the desk anyway.
- A changed SECRET_KEY stops the start with one sentence, unless ACCEPT_NEW_SECRET_KEY accepts
  the loss; the committee is then told truthfully that the author can no longer be reached.
- The member is told honestly who could still find out the author.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from pydantic import SecretStr
from sqlalchemy.exc import OperationalError
from sqlmodel import SQLModel, func, select
from telegram.request import RequestData

import bot.app
import handlers.suggestions.filing
from bot import cli
from bot.app import build_application
from bot.application import UnionApplication
from bot.callback import pack
from bot.db import upgrade
from bot.settings import Settings, SettingsError
from models.anonymity import SecretKeyCheck, key_check_value
from models.desk import DeskCard
from models.suggestions import Suggestion, SuggestionEntry, SuggestionStatus
from tests.support.conversation_store import stored_bytes
from tests.support.conversation_store import stored_user_data as held_for
from tests.support.factories import make_member
from tests.support.fake_telegram import TOKEN, Failure, FakeTelegram
from tests.support.harness import (
    CHAIR,
    COMMITTEE_GROUP_ID,
    BotHarness,
    make_settings,
    running_bot,
)
from tests.support.updates import Person, group_chat
from tests.test_suggestion_desk import answer_item, operator_reads
from tests.test_suggestions import (
    AUTHOR,
    AUTHOR_DEPARTMENT,
    AUTHOR_NAME,
    COMMITTEE,
    category_id,
    file_item,
    only_item,
    setup_school,
)

OLD_KEY = "the-key-this-database-was-used-with-0123456789"
NEW_KEY = "a-different-key-after-a-lost-backup-9876543210"
REFUSED = "Bad Request: query is too old and response timeout expired or query id is invalid"
CONFIRM = pack("sgf", "confirm", "yes")
GROUP = group_chat(COMMITTEE_GROUP_ID)
# What people read (catalogs, distinctive fragments).
KEY_CHANGED_EN = "The bot did not start: SECRET_KEY (or data/secret.key when it is not set)"
AUTHOR_LOST_ZH = "匿名提出人已无法联系"
LINK_LOST_ZH = "已无法确认您是它的提出人"
RECEIVED_LATE_ZH = "现在已送到委员会"
HONEST = {
    "zh-Hans": "坦白说：管理机器人服务器并持有其密钥的人，在技术上能查出作者。",
    "zh-Hant": "坦白說：管理機器人伺服器並持有其密鑰的人，在技術上能查出作者。",
    "en": "whoever runs the bot's server and holds its key can technically find out who wrote it",
}


def refuse_next_answer(bot: BotHarness) -> None:
    """Telegram refuses the next button answer (the press is too old)."""
    bot.telegram.failures.append(Failure("answerCallbackQuery", 400, REFUSED))


# ---- 8. the logs -------------------------------------------------------------------------


async def test_anonymous_flow_with_refused_button_answers_logs_no_person(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    author = await setup_school(bot)
    caplog.clear()

    await bot.say(AUTHOR, "/suggest")
    await bot.press(AUTHOR, pack("sgf", "cat", await category_id(bot)))
    await bot.say(AUTHOR, "匿名反映：晚自习的值班安排不公平。")
    await bot.press(AUTHOR, pack("sgf", "photos", "done"))
    await bot.press(AUTHOR, pack("sgf", "anon", "anon"))
    refuse_next_answer(bot)
    await bot.press(AUTHOR, CONFIRM)
    await answer_item(bot, "下周例会讨论。")
    await bot.press(AUTHOR, bot.telegram.last(AUTHOR.id).button_data("追问"))
    await bot.write(AUTHOR, "请公布讨论结果。")
    await answer_item(bot, "已公布在公告栏。")
    refuse_next_answer(bot)
    await bot.press(AUTHOR, bot.telegram.last(AUTHOR.id).button_data("问题已解决"))

    item = await only_item(bot)
    assert item.anonymous and item.status == SuggestionStatus.CLOSED  # the whole flow ran
    messages = [r.getMessage() for r in caplog.records]
    assert sum("could not be answered" in m for m in messages) == 2  # both refusals logged
    assert any(m.startswith(f"Suggestion {item.id} filed") for m in messages)
    person = re.compile(rf"\b(member|user)\W{{0,3}}({author.id}|{AUTHOR.id})\b", re.IGNORECASE)
    for record in filter(operator_reads, caplog.records):
        message = record.getMessage()
        for secret in (str(AUTHOR.id), AUTHOR_NAME, AUTHOR_DEPARTMENT):
            assert secret not in message, (record.name, message)
        assert not person.search(message), (record.name, message)


# ---- 9. no per-author rows ---------------------------------------------------------------


async def row_counts(bot: BotHarness) -> dict[str, int]:
    """Rows in every table of ours."""
    async with bot.db() as session:
        return {
            table.name: int((await session.exec(select(func.count()).select_from(table))).one())
            for table in SQLModel.metadata.sorted_tables
        }


async def test_anonymous_items_leave_no_row_per_author_and_the_limit_holds_in_memory(
    settings: Settings, tmp_path: Path
) -> None:
    limited = settings.model_copy(update={"anonymous_daily_limit": 2})
    async with running_bot(limited) as bot:
        author = await setup_school(bot)
        await bot.say(AUTHOR, "/suggest")  # the default categories exist from here on
        await bot.say(AUTHOR, "/cancel")
        before = await row_counts(bot)

        await file_item(bot, body="第一条匿名意见。", anonymous=True)
        await file_item(bot, body="第二条匿名意见。", anonymous=True)

        after = await row_counts(bot)
        changed = {name for name in after if after[name] != before[name]}
        # Only the items, their cards and the handled update ids: nothing counts per author.
        assert changed <= {"suggestion", "desk_card", "processed_update"}, changed
        assert after["suggestion"] - before["suggestion"] == 2
        async with bot.db() as session:
            tables = await session.run_sync(
                lambda sync: set(sqlalchemy.inspect(sync.connection()).get_table_names())
            )
        assert "anonymous_quota" not in tables

        await file_item(bot, body="第三条匿名意见。", anonymous=True)
        assert "匿名次数已用完" in " ".join(
            bot.telegram.texts(AUTHOR.id) + [a.text for a in bot.telegram.answers()]
        )
        assert len(await bot_items(bot)) == 2
        today = datetime.now(limited.zone).date()
        assert author.id is not None
        assert bot.app.state.seal.tally.count(author.id, today) == 2

    # The choice written down in docs/reliability.md: a restart forgets the day's counts.
    async with running_bot(limited) as restarted:
        await file_item(restarted, body="重启后的匿名意见。", anonymous=True)
        assert len(await bot_items(restarted)) == 3


async def bot_items(bot: BotHarness) -> list[Suggestion]:
    """Every stored item."""
    async with bot.db() as session:
        return list((await session.exec(select(Suggestion))).all())


# ---- 10. the conversation store ----------------------------------------------------------


async def stored_user_data(settings: Settings) -> dict[Any, Any]:
    """What the conversation store holds for the author, on disk or in the table on PostgreSQL
    ({} if nothing)."""
    return await held_for(settings, AUTHOR.id)


def watch_first_call_after_the_commit(
    bot: BotHarness, settings: Settings, seen: dict[str, Any]
) -> None:
    """On the first Telegram call made once the item is stored, note what the bot holds for the
    author in memory and on disk."""
    real = bot.telegram.do_request

    async def recording(
        url: str, method: str, request_data: RequestData | None = None, *args: Any, **kw: Any
    ) -> tuple[int, bytes]:
        if "memory" not in seen:
            async with bot.db() as session:
                stored = (await session.exec(select(func.count()).select_from(Suggestion))).one()
            if stored:
                seen["call"] = url.rsplit("/", 1)[-1]
                seen["memory"] = dict(bot.app.user_data.get(AUTHOR.id) or {})
                seen["disk"] = await stored_user_data(settings)
                seen["file"] = await stored_bytes(settings)
        return await real(url, method, request_data, *args, **kw)

    bot.telegram.do_request = recording  # type: ignore[method-assign]


BODY = "匿名：体育组的器材经费去向不明。"


async def to_preview(bot: BotHarness) -> None:
    """The author's anonymous item, up to its preview."""
    await bot.say(AUTHOR, "/suggest")
    await bot.press(AUTHOR, pack("sgf", "cat", await category_id(bot)))
    await bot.say(AUTHOR, BODY)
    await bot.press(AUTHOR, pack("sgf", "photos", "done"))
    await bot.press(AUTHOR, pack("sgf", "anon", "anon"))


def no_trace(held: dict[Any, Any]) -> None:
    """Nothing of the filing is held for the author."""
    assert not held.get("suggestion"), held
    assert "_active_form" not in held, held
    assert BODY not in repr(held)


async def test_the_draft_is_forgotten_before_any_telegram_call_after_the_commit(
    bot: BotHarness, settings: Settings
) -> None:
    await setup_school(bot)
    await to_preview(bot)
    seen: dict[str, Any] = {}
    watch_first_call_after_the_commit(bot, settings, seen)

    await bot.press(AUTHOR, CONFIRM)

    item = await only_item(bot)
    assert seen["call"] == "sendMessage"  # the card: the first call after the commit
    no_trace(seen["memory"])
    no_trace(seen["disk"])
    assert BODY.encode() not in seen["file"]
    assert item.client_token.encode() not in seen["file"]
    assert item.number in bot.telegram.last(AUTHOR.id).text  # and the receipt still came


async def test_a_failure_after_the_commit_keeps_no_link_and_the_item_still_reaches_the_desk(
    bot: BotHarness, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    await setup_school(bot)
    await to_preview(bot)
    real = handlers.suggestions.filing.announce

    async def database_gone(*args: Any, **kwargs: Any) -> int:
        monkeypatch.setattr(handlers.suggestions.filing, "announce", real)
        raise OperationalError("SELECT 1", {}, Exception("the server closed the connection"))

    monkeypatch.setattr(handlers.suggestions.filing, "announce", database_gone)

    await bot.press(AUTHOR, CONFIRM)  # stored; the card fails with the database

    item = await only_item(bot)
    no_trace(dict(bot.app.user_data.get(AUTHOR.id) or {}))
    no_trace(await stored_user_data(settings))
    async with bot.db() as session:
        assert (await session.exec(select(DeskCard))).all() == []
    assert not [c for c in bot.telegram.sent("sendMessage", COMMITTEE_GROUP_ID) if BODY in c.text]

    await bot.press(AUTHOR, CONFIRM)  # no receipt came: the member presses again

    assert len(await bot_items(bot)) == 1  # nothing stored twice
    cards = [c for c in bot.telegram.sent("sendMessage", COMMITTEE_GROUP_ID) if BODY in c.text]
    assert len(cards) == 1 and AUTHOR_NAME not in cards[0].text
    late = bot.telegram.last(AUTHOR.id).text
    assert RECEIVED_LATE_ZH in late and item.number in late  # through the seal, not the press
    assert "/mine" in bot.telegram.answers()[-1].text


# ---- 11. a changed SECRET_KEY ------------------------------------------------------------


@asynccontextmanager
async def started(settings: Settings) -> AsyncIterator[BotHarness]:
    """Like `running_bot`, but the start-up may refuse (and is shut down cleanly if it does)."""
    telegram = FakeTelegram()
    application = build_application(settings, request=telegram, use_default_rate_limiter=False)
    await application.initialize()
    try:
        assert application.post_init is not None
        await application.post_init(application)
        yield BotHarness(application, telegram)
    finally:
        await application.shutdown()
        assert application.post_shutdown is not None
        await application.post_shutdown(application)


def with_key(settings: Settings, key: str, **more: Any) -> Settings:
    """The same deployment with another SECRET_KEY."""
    return settings.model_copy(update={"secret_key": SecretStr(key), **more})


async def an_answered_anonymous_item(bot: BotHarness) -> Suggestion:
    """The author's anonymous item, answered once (so the author has buttons under a reply)."""
    await setup_school(bot)
    await file_item(bot, body="匿名：食堂价格涨了。", anonymous=True)
    await answer_item(bot, "已与食堂沟通。")
    return await only_item(bot)


async def test_another_key_stops_the_start_and_changes_nothing(settings: Settings) -> None:
    async with started(with_key(settings, OLD_KEY)) as first:
        item = await an_answered_anonymous_item(first)

    with pytest.raises(SettingsError) as refused:
        async with started(with_key(settings, NEW_KEY)) as never:
            raise AssertionError(f"started with another key: {never}")

    assert refused.value.key == "settings.secret_key_changed"
    async with started(with_key(settings, OLD_KEY)) as again:  # the old key put back: it works
        async with again.db() as session:
            [check] = (await session.exec(select(SecretKeyCheck))).all()
        assert check.check_value == key_check_value(OLD_KEY.encode())
        assert again.app.state.seal.open((await only_item(again)).reply_token) is not None
        assert (await only_item(again)).id == item.id


async def test_accepting_the_new_key_tells_the_committee_and_the_author_the_truth(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    async with started(with_key(settings, OLD_KEY)) as first:
        item = await an_answered_anonymous_item(first)
        under_reply = first.telegram.last(AUTHOR.id)
        verdict = under_reply.button_data("问题已解决")
        followup = under_reply.button_data("追问")

    caplog.set_level(logging.WARNING)
    accepting = with_key(settings, NEW_KEY, accept_new_secret_key=True)
    async with started(accepting) as bot:
        assert any("ACCEPT_NEW_SECRET_KEY" in r.getMessage() for r in caplog.records)
        async with bot.db() as session:
            [check] = (await session.exec(select(SecretKeyCheck))).all()
        assert check.check_value == key_check_value(NEW_KEY.encode())

        # The committee answers again: stored, and told it will never arrive, not "right now".
        await bot.press(COMMITTEE, pack("sug", "reply", item.id or 0), chat=GROUP)
        await bot.write(COMMITTEE, "补充：下月起恢复原价。")
        told = bot.telegram.last(COMMITTEE.id).text
        assert "已无法联系" in told and "SECRET_KEY" in told and item.number in told
        card = bot.telegram.last(COMMITTEE_GROUP_ID, method="editMessageText").text
        assert AUTHOR_LOST_ZH in card
        assert bot.telegram.texts(AUTHOR.id) == []  # nothing reached anyone

        # The author's old buttons say why, instead of "this is not yours".
        await bot.press(AUTHOR, verdict)
        await bot.press(AUTHOR, followup)
        refusals = [a.text for a in bot.telegram.answers()[-2:]]
        assert all(LINK_LOST_ZH in text for text in refusals), refusals
        async with bot.db() as session:
            entries = (await session.exec(select(SuggestionEntry))).all()
        assert [e.kind for e in entries] == ["reply", "reply"]

    async with started(with_key(settings, NEW_KEY)) as later:  # accepted once, stored: no flag
        assert later.org_id


async def test_a_database_from_before_the_check_is_checked_by_its_sealed_items(
    settings: Settings,
) -> None:
    async with started(with_key(settings, OLD_KEY)) as first:
        await an_answered_anonymous_item(first)
        async with first.db() as session:  # as after the upgrade that added the check
            for check in (await session.exec(select(SecretKeyCheck))).all():
                await session.delete(check)
            await session.commit()

    with pytest.raises(SettingsError):
        async with started(with_key(settings, NEW_KEY)):
            pass

    async with started(with_key(settings, OLD_KEY)) as same:
        async with same.db() as session:
            [check] = (await session.exec(select(SecretKeyCheck))).all()
        assert check.check_value == key_check_value(OLD_KEY.encode())


async def seed_with_old_key(url: str, tmp_path: Path) -> None:
    """A deployment that ran with OLD_KEY and holds one answered anonymous item."""
    settings = make_settings(url, tmp_path / "first", secret_key=SecretStr(OLD_KEY))
    async with running_bot(settings) as first:
        await an_answered_anonymous_item(first)


def test_run_with_another_key_prints_one_sentence_and_polls_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'union.db'}"
    upgrade(url)
    asyncio.run(seed_with_old_key(url, tmp_path))
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "DATABASE_URL": url,
        "SECRET_KEY": NEW_KEY,
        "DEFAULT_LANGUAGE": "en",
        "OWNER_IDS": str(CHAIR.id),
        "PERSISTENCE_PATH": str(tmp_path / "data" / "conversations.pickle"),
        "BACKGROUND_TASKS": "false",
    }.items():
        monkeypatch.setenv(name, value)
    telegram = FakeTelegram()

    def building(settings: Settings, **runner_args: Any) -> UnionApplication:
        application = build_application(
            settings, request=telegram, use_default_rate_limiter=False, **runner_args
        )
        on_startup = application.post_init
        assert on_startup is not None

        async def then_stop(app: Any) -> None:
            await on_startup(app)
            app.stop_running()  # had it started, it would stop here instead of polling for ever

        application.post_init = then_stop
        return application

    monkeypatch.setattr(bot.app, "build_application", building)

    assert cli.main(["run"]) == 2

    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(KEY_CHANGED_EN), lines
    assert "ACCEPT_NEW_SECRET_KEY=true" in lines[0] and "backup" in lines[0]
    assert "getUpdates" not in [call.method for call in telegram.calls]


# ---- 12. what the member is told ---------------------------------------------------------


@pytest.mark.parametrize("language", list(HONEST))
async def test_the_anonymity_choice_says_who_could_still_know(
    bot: BotHarness, language: str
) -> None:
    person = Person(2101, "Lin", language.lower())
    await make_member(bot.db, org_id=bot.org_id, person=person, name="林老师", language=language)
    await bot.say(person, "/suggest")
    await bot.press(person, pack("sgf", "cat", await category_id(bot)))
    await bot.say(person, "图书馆周五关门太早。")
    await bot.press(person, pack("sgf", "photos", "done"))

    question = bot.telegram.last(person.id).text
    assert HONEST[language] in question
    assert sum(HONEST[language] in line for line in question.splitlines()) == 1  # one line
