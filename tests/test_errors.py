"""When something breaks: an apology with a reference, one owner alert, clean logs, no crash."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import select

from bot.callback import pack
from bot.db import create_session_factory
from bot.state import AlertLimiter
from models.members import JoinRequest, JoinStatus, Member, MemberStatus, Role
from models.updates import ProcessedUpdate
from tests.support.factories import make_member
from tests.support.fake_telegram import Call, Failure
from tests.support.harness import CHAIR, BotHarness
from tests.support.updates import Person, button, text

TEACHER = Person(2001, "Wang", "en")
COMMITTEE = Person(1002, "刘", "zh-hans")

# A name only the person typed: it must reach no log line.
SECRET_NAME = "王秀英Xiuying"

APOLOGY = "Sorry, something went wrong and your action was not completed."
APOLOGY_ZH = "抱歉，出了点问题，您的操作没有完成。"
DB_UNAVAILABLE = "Sorry, the system is busy right now and your action was not saved."
DB_UNAVAILABLE_ZH = "抱歉，系统暂时繁忙，您的操作没有保存。"
NOT_REGISTERED = "You are not a member of the union desk yet."
# The reference code, in an English or a Chinese message.
REFERENCE = re.compile(r"(?:reference |编号 )([0-9A-F]{6})")
OWNER_ALERT = re.compile(
    r"工会助手出错：编号 ([0-9A-F]{6})，类型 (\w+)。此前同类提醒已省略 (\d+) 条"
)


# ---- helpers ------------------------------------------------------------------------------


async def to_name_step(bot: BotHarness) -> None:
    """/start and choose English: the bot asks for the real name."""
    await bot.say(TEACHER, "/start")
    await bot.press(TEACHER, pack("reg", "lang", "en"))


async def to_preview(bot: BotHarness) -> None:
    """Fill in the whole request up to the preview with its Confirm button."""
    await to_name_step(bot)
    await bot.say(TEACHER, SECRET_NAME)
    await bot.say(TEACHER, "Grade 8 team")
    await bot.press(TEACHER, pack("reg", "gender", "skip"))
    await bot.press(TEACHER, pack("reg", "birthday", "skip"))
    await bot.press(TEACHER, pack("reg", "retired", "no"))


def reference_in(message: str) -> str:
    """The reference code quoted in a message."""
    match = REFERENCE.search(message)
    assert match, f"no reference in {message!r}"
    return match.group(1)


def owner_alerts(bot: BotHarness) -> list[tuple[str, str, int]]:
    """(reference, error type, held back) of every alert the owner received."""
    alerts = []
    for message in bot.telegram.texts(CHAIR.id):
        match = OWNER_ALERT.search(message)
        assert match, f"unexpected message to the owner: {message!r}"
        alerts.append((match.group(1), match.group(2), int(match.group(3))))
    return alerts


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """Everything logged, as an operator would read it (messages and tracebacks)."""
    return "\n".join(f"{record.getMessage()}\n{record.exc_text or ''}" for record in caplog.records)


def is_apology(message: str) -> bool:
    """The error handler's apology, in either language (the language is tested on its own)."""
    return APOLOGY in message or APOLOGY_ZH in message


def is_db_unavailable(message: str) -> bool:
    """The database-unavailable apology, in either language."""
    return DB_UNAVAILABLE in message or DB_UNAVAILABLE_ZH in message


def answers_to(bot: BotHarness, query_id: str) -> list[Call]:
    """answerCallbackQuery calls for one press."""
    return [c for c in bot.telegram.answers() if c.params.get("callback_query_id") == query_id]


# ---- unexpected errors --------------------------------------------------------------------


async def test_unexpected_error_apologizes_with_a_reference_and_alerts_the_owner(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await to_name_step(bot)
    bot.telegram.clear()
    bot.telegram.failures.append(Failure("sendMessage", 500, "Internal Server Error"))

    await bot.say(TEACHER, SECRET_NAME)  # the "department?" reply fails

    failed, apology = bot.telegram.sent("sendMessage", TEACHER.id)
    assert "department" in failed.text
    assert APOLOGY in apology.text
    ref = reference_in(apology.text)
    assert owner_alerts(bot) == [(ref, "NetworkError", 0)]
    log = logged(caplog)
    assert ref in log
    assert SECRET_NAME not in log
    assert "Xiuying" not in log


async def test_telegram_error_text_is_not_logged(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    # Telegram's error descriptions can quote the message; only the type may be logged.
    caplog.set_level(logging.INFO)
    await make_member(bot.db, org_id=bot.org_id, person=TEACHER, name=SECRET_NAME, language="en")
    bot.telegram.failures.append(
        Failure("sendMessage", 400, f"Bad Request: can't parse entities in '{SECRET_NAME}'")
    )

    await bot.say(TEACHER, "/start")  # "Welcome back, <name>!" fails

    apology = bot.telegram.last(TEACHER.id)
    assert is_apology(apology.text)
    ref = reference_in(apology.text)
    assert owner_alerts(bot) == [(ref, "BadRequest", 0)]
    log = logged(caplog)
    assert ref in log
    assert SECRET_NAME not in log
    assert SECRET_NAME not in "".join(bot.telegram.texts(CHAIR.id))


@pytest.mark.parametrize(
    ("language", "language_code"),
    [("en", "zh-hans"), ("en", "en"), (None, "en")],
    ids=["member-chose-english", "member-english-app", "stranger-english-app"],
)
async def test_apology_speaks_the_persons_language(
    bot: BotHarness, language: str | None, language_code: str
) -> None:
    person = Person(2003, "Zhao", language_code)
    if language is not None:
        await make_member(bot.db, org_id=bot.org_id, person=person, language=language)
    bot.telegram.failures.append(Failure("sendMessage", 500, "Internal Server Error"))

    await bot.say(person, "/start" if language else "hello")

    apology = bot.telegram.last(person.id).text
    assert APOLOGY in apology, apology
    reference_in(apology)


async def test_owner_is_alerted_once_for_errors_in_a_row(bot: BotHarness) -> None:
    await to_name_step(bot)
    bot.telegram.clear()
    bot.telegram.failures.append(Failure("sendMessage", 500, "Internal Server Error", times=1))

    await bot.say(TEACHER, SECRET_NAME)
    bot.telegram.failures.append(Failure("sendMessage", 500, "Internal Server Error", times=1))
    await bot.say(TEACHER, SECRET_NAME)  # the name step again: the first attempt failed

    apologies = [t for t in bot.telegram.texts(TEACHER.id) if APOLOGY in t]
    assert len(apologies) == 2
    first, second = (reference_in(t) for t in apologies)
    assert first != second
    assert owner_alerts(bot) == [(first, "NetworkError", 0)]

    # A different kind of error is not held back by the first one.
    bot.telegram.failures.append(Failure("sendMessage", 400, "Bad Request: chat not found"))
    await bot.say(TEACHER, SECRET_NAME)
    third = reference_in(bot.telegram.last(TEACHER.id).text)
    assert owner_alerts(bot) == [(first, "NetworkError", 0), (third, "BadRequest", 0)]


async def test_the_conversation_survives_an_error(bot: BotHarness) -> None:
    await to_name_step(bot)
    bot.telegram.failures.append(Failure("sendMessage", 500, "Internal Server Error"))
    await bot.say(TEACHER, SECRET_NAME)

    await bot.say(TEACHER, SECRET_NAME)  # trying again works

    assert "department" in bot.telegram.last(TEACHER.id).text


async def test_apology_for_a_failed_button_reaches_the_person(bot: BotHarness) -> None:
    await make_member(bot.db, org_id=bot.org_id, person=TEACHER, name="王老师", language="en")
    bot.telegram.clear()
    # The menu answers the press first; then showing the profile fails.
    bot.telegram.failures.append(Failure("sendMessage", 500, "Internal Server Error"))
    press = button(TEACHER, pack("menu", "me"))

    await bot.feed(press)

    # Telegram takes one answer per press and the handler gave it, so the apology must come
    # as a chat message (a second answer would be refused and never seen).
    answers = answers_to(bot, press["callback_query"]["id"])
    assert answers[0].params.get("text") is None
    assert any(is_apology(message) for message in bot.telegram.texts(TEACHER.id))


async def test_request_reaches_the_desk_even_if_the_thank_you_fails(bot: BotHarness) -> None:
    await make_member(
        bot.db, org_id=bot.org_id, person=COMMITTEE, name="刘委员", roles=[Role.COMMITTEE]
    )
    await to_preview(bot)
    bot.telegram.failures.append(Failure("sendMessage", 500, "Internal Server Error"))

    await bot.press(TEACHER, pack("reg", "confirm", "yes"))  # "Thank you" to the teacher fails

    async with bot.db() as session:
        [request] = (await session.exec(select(JoinRequest))).all()
    assert request.status == JoinStatus.PENDING
    # The request is stored, so the committee must hear of it.
    cards = [t for t in bot.telegram.texts(COMMITTEE.id) if SECRET_NAME in t]
    assert len(cards) == 1, bot.telegram.texts(COMMITTEE.id)


# ---- the database goes away ---------------------------------------------------------------


@asynccontextmanager
async def database_down(bot: BotHarness, engine: AsyncEngine) -> AsyncIterator[None]:
    """The bot's sessions go to `engine` (which cannot connect) until the block ends: the
    handlers', the one-statement ones and the member cache's (emptied, so it must load)."""
    state = bot.app.state
    assert state.actors is not None
    working = (state.db, state.single_statement, state.actors.db)
    state.db = state.single_statement = state.actors.db = create_session_factory(engine)
    state.actors.invalidate()
    try:
        yield
    finally:
        state.db, state.single_statement, state.actors.db = working
        await engine.dispose()


def unreachable_engine(kind: str, tmp_path: Path) -> AsyncEngine:
    """A database server that refuses connections, or a SQLite file that cannot be opened."""
    if kind == "postgresql":
        # Port 1 on the loopback: nothing listens, the connection is refused at once.
        return create_async_engine("postgresql+asyncpg://union:pw@127.0.0.1:1/union")
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    return create_async_engine(f"sqlite+aiosqlite:///{blocker / 'union.db'}")


@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
async def test_database_unavailable_for_a_message_then_back(
    bot: BotHarness, tmp_path: Path, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    caplog.set_level(logging.INFO)
    await make_member(bot.db, org_id=bot.org_id, person=TEACHER, name=SECRET_NAME, language="en")

    async with database_down(bot, unreachable_engine(kind, tmp_path)):
        await bot.say(TEACHER, "/me")

    replies = bot.telegram.texts(TEACHER.id)
    assert any(is_db_unavailable(reply) for reply in replies), replies
    ref = reference_in(next(reply for reply in replies if is_db_unavailable(reply)))
    assert [alert[0] for alert in owner_alerts(bot)] == [ref]
    assert ref in logged(caplog)
    # One clear message: not also "you are not a member" because the member could not be loaded.
    assert len(replies) == 1, replies

    bot.telegram.clear()
    await bot.say(TEACHER, "/me")  # the same application, no restart

    [profile] = bot.telegram.texts(TEACHER.id)
    assert SECRET_NAME in profile


async def test_database_unavailable_for_a_button_then_back(bot: BotHarness, tmp_path: Path) -> None:
    await make_member(
        bot.db, org_id=bot.org_id, person=COMMITTEE, name="刘委员", roles=[Role.COMMITTEE]
    )
    await to_preview(bot)
    await bot.press(TEACHER, pack("reg", "confirm", "yes"))
    async with bot.db() as session:
        [request] = (await session.exec(select(JoinRequest))).all()
    approve = pack("join", "approve", request.id or 0)
    bot.telegram.clear()
    press = button(COMMITTEE, approve)

    async with database_down(bot, unreachable_engine("sqlite", tmp_path)):
        await bot.feed(press)

    answers = answers_to(bot, press["callback_query"]["id"])
    assert len(answers) == 1, [a.params for a in answers]
    assert answers[0].params.get("show_alert") is True
    assert DB_UNAVAILABLE_ZH in answers[0].text
    reference_in(answers[0].text)
    async with bot.db() as session:
        still = await session.get(JoinRequest, request.id)
    assert still is not None and still.status == JoinStatus.PENDING

    await bot.press(COMMITTEE, approve)

    async with bot.db() as session:
        decided = await session.get(JoinRequest, request.id)
        member = await session.get(Member, decided.member_id if decided else 0)
    assert decided is not None and decided.status == JoinStatus.APPROVED
    assert member is not None and member.status == MemberStatus.ACTIVE


# ---- the owner-alert limiter --------------------------------------------------------------


def test_alert_limiter_lets_one_alert_per_kind_through_per_interval() -> None:
    limiter = AlertLimiter(interval_seconds=600)

    assert limiter.allow("NetworkError", now=1000.0) == (True, 0)
    assert limiter.allow("NetworkError", now=1001.0) == (False, 0)
    assert limiter.allow("NetworkError", now=1599.9) == (False, 0)
    assert limiter.allow("BadRequest", now=1599.9) == (True, 0)  # kinds are counted apart
    assert limiter.allow("NetworkError", now=1600.0) == (True, 2)  # two were held back
    assert limiter.allow("NetworkError", now=1601.0) == (False, 0)
    assert limiter.allow("NetworkError", now=2200.0) == (True, 1)
    assert limiter.allow("NetworkError", now=2800.0) == (True, 0)  # the count starts over


def test_alert_limiter_measures_from_the_last_alert_sent() -> None:
    limiter = AlertLimiter(interval_seconds=60)

    assert limiter.allow("OperationalError", now=0.0) == (True, 0)
    for second in range(1, 60):
        assert limiter.allow("OperationalError", now=float(second)) == (False, 0)
    assert limiter.allow("OperationalError", now=60.0) == (True, 59)
    assert limiter.allow("OperationalError", now=119.0) == (False, 0)


# ---- redelivered updates ------------------------------------------------------------------


async def test_the_same_update_delivered_twice_is_answered_once(bot: BotHarness) -> None:
    await make_member(bot.db, org_id=bot.org_id, person=TEACHER, name=SECRET_NAME, language="en")
    update = text(TEACHER, "/me")

    await bot.feed(update)
    await bot.feed(update)  # redelivered, e.g. after a crash before the offset was confirmed

    assert len(bot.telegram.texts(TEACHER.id)) == 1
    await bot.app.flush_processed()  # ids are written in small batches
    async with bot.db() as session:
        marked = await session.get(ProcessedUpdate, update["update_id"])
    assert marked is not None

    await bot.say(TEACHER, "/me")  # the same words in a new update are answered
    assert len(bot.telegram.texts(TEACHER.id)) == 2


async def test_a_redelivered_stranger_message_is_answered_once(bot: BotHarness) -> None:
    update = text(TEACHER, "hello")

    await bot.feed(update)
    await bot.feed(update)

    [reply] = bot.telegram.texts(TEACHER.id)
    assert NOT_REGISTERED in reply
