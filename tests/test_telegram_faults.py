"""Telegram misbehaving while people use the bot: timeouts, 5xx, 429 with retry_after, members
who blocked the bot, desk cards that cannot be edited, and button answers Telegram refuses.

Every test drives the real application (production's factory) over the recording fake
transport, extended below with the failures Telegram and the network really produce, and
asserts on the calls sent, the rows stored and the log records. The outbox sender's own
handling of these errors is tested in tests/test_outbox.py and not repeated here.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlmodel import col, select
from telegram.error import TelegramError, TimedOut
from telegram.request import RequestData

from bot.app import build_application
from bot.callback import pack
from bot.settings import Settings
from models.aid import AidCase
from models.desk import DeskCard
from models.members import JoinRequest, JoinStatus, Member, MemberStatus
from models.suggestions import EntryKind, Suggestion, SuggestionEntry, SuggestionStatus
from tests.support.factories import make_member
from tests.support.fake_telegram import Call, FakeTelegram
from tests.support.harness import CHAIR, COMMITTEE_GROUP_ID, SEND, BotHarness
from tests.support.updates import Person, button, group_chat
from tests.test_aid_flows import COLLEAGUE as AID_COLLEAGUE
from tests.test_aid_flows import COMMITTEE as AID_COMMITTEE
from tests.test_aid_flows import MEMBER as AID_MEMBER
from tests.test_aid_flows import ask as ask_aid
from tests.test_aid_flows import setup_school as setup_aid_school
from tests.test_joining import register
from tests.test_suggestions import (
    AUTHOR,
    AUTHOR_NAME,
    COMMITTEE,
    OTHER_COMMITTEE,
    category_id,
    setup_school,
)

GROUP = group_chat(COMMITTEE_GROUP_ID)
SECOND_AUTHOR = Person(2002, "Zhao", "zh-hans")
APPLICANTS = (Person(2501, "Zhou", "en"), Person(2502, "Wu", "en"))
APPLICANT_NAME = "Wang Fang"  # what tests.test_joining.register types as the real name
BODY = "三楼东侧女厕所的门锁坏了，晚自习后不安全。"  # a body only the author typed
REPLY = "已报后勤，周五前换新锁。"

# Telegram's own words for these failures.
BLOCKED = "Forbidden: bot was blocked by the user"
TOO_OLD = "Bad Request: query is too old and response timeout expired or query id is invalid"
EDIT_GONE = "Bad Request: message to edit not found"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)

# What people read (zh_Hans and en catalogs).
APOLOGY = "您的操作没有完成"
RECEIPT = "已收到，编号"
ALREADY_DECIDED = "这一项已经有人处理过了"
CHANGED_MEANWHILE = "刚被别人处理过"
APPROVED_EN = "your request to join has been approved"


# ---- a transport that fails the way Telegram and the network do ----------------------------


@dataclass
class Fault:
    """Matching calls fail `times` times: with Telegram's HTTP answer, or by raising `error`
    (a timeout or a dropped connection never gets an answer)."""

    method: str
    chat_id: int | None = None
    message_id: int | None = None
    status: int = 0
    description: str = ""
    retry_after: int | None = None
    error: TelegramError | None = None
    times: int = 1

    def matches(self, method: str, params: dict[str, Any]) -> bool:
        """Whether this fault breaks a call of `method` with `params`."""
        if self.times <= 0 or method != self.method:
            return False
        if self.chat_id is not None and int(params.get("chat_id", 0)) != self.chat_id:
            return False
        return self.message_id is None or int(params.get("message_id", 0)) == self.message_id


@dataclass
class FaultyTelegram(FakeTelegram):
    """The recording fake plus targeted faults; like Telegram, it refuses (400) an edit that
    would leave a message exactly as it is."""

    faults: list[Fault] = field(default_factory=list)
    unchanged_edits: int = 0  # edits refused as "message is not modified"
    _shown: dict[tuple[int, int], tuple[str, Any]] = field(default_factory=dict)

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = None,
        write_timeout: object = None,
        connect_timeout: object = None,
        pool_timeout: object = None,
    ) -> tuple[int, bytes]:
        """Fail the call if a fault matches, else answer like `FakeTelegram`."""
        api_method = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        fault = next((f for f in self.faults if f.matches(api_method, params)), None)
        if fault is None and api_method == "editMessageText" and self._unchanged(params):
            self.unchanged_edits += 1
            fault = Fault(api_method, status=400, description=NOT_MODIFIED)
        if fault is not None:
            fault.times -= 1
            self.calls.append(Call(api_method, params))
            if fault.error is not None:  # a fresh exception each time, as the network raises
                raise type(fault.error)(fault.error.message)
            body: dict[str, Any] = {
                "ok": False,
                "error_code": fault.status,
                "description": fault.description,
            }
            if fault.retry_after is not None:
                body["parameters"] = {"retry_after": fault.retry_after}
            return fault.status, json.dumps(body).encode()
        code, payload = await super().do_request(url, method, request_data)
        if code == 200 and api_method in ("sendMessage", "editMessageText"):
            message = json.loads(payload)["result"]
            self._shown[(int(message["chat"]["id"]), int(message["message_id"]))] = _content(params)
        return code, payload

    def _unchanged(self, params: dict[str, Any]) -> bool:
        key = (int(params.get("chat_id", 0)), int(params.get("message_id", 0)))
        return self._shown.get(key) == _content(params)

    def fail(self, method: str, **fault: Any) -> None:
        """Add a fault."""
        self.faults.append(Fault(method, **fault))


def _content(params: dict[str, Any]) -> tuple[str, Any]:
    markup = params.get("reply_markup")
    return str(params.get("text", "")), json.loads(markup) if isinstance(markup, str) else markup


@asynccontextmanager
async def running(
    settings: Settings, telegram: FaultyTelegram, *, production_limiter: bool
) -> AsyncIterator[BotHarness]:
    """The real application over `telegram`, with production's rate limiter if asked."""
    application = build_application(
        settings, request=telegram, use_default_rate_limiter=production_limiter
    )
    await application.initialize()
    assert application.post_init is not None
    await application.post_init(application)
    try:
        yield BotHarness(application, telegram)
    finally:
        await application.shutdown()
        assert application.post_shutdown is not None
        await application.post_shutdown(application)


@pytest.fixture
def wire() -> FaultyTelegram:
    """The transport this test breaks."""
    return FaultyTelegram()


@pytest.fixture
async def bot(settings: Settings, wire: FaultyTelegram) -> AsyncIterator[BotHarness]:
    """A started bot over the faulty transport, without a rate limiter (like the harness)."""
    async with running(settings, wire, production_limiter=False) as harness:
        yield harness


@pytest.fixture
async def limited_bot(settings: Settings, wire: FaultyTelegram) -> AsyncIterator[BotHarness]:
    """A started bot with production's rate limiter: AIORateLimiter(max_retries=3)."""
    async with running(settings, wire, production_limiter=True) as harness:
        yield harness


# ---- reading what happened ----------------------------------------------------------------


def problems(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Records an operator is alerted by: WARNING and above."""
    return [record for record in caplog.records if record.levelno >= logging.WARNING]


def lines(caplog: pytest.LogCaptureFixture) -> Counter[tuple[str, int, str]]:
    """Log lines as (logger, level, template): the same line for another item counts alike."""
    return Counter((record.name, record.levelno, str(record.msg)) for record in caplog.records)


def extra_lines(
    failing: Counter[tuple[str, int, str]], normal: Counter[tuple[str, int, str]]
) -> list[tuple[str, int, str]]:
    """Lines logged when the call failed beyond those of the same action going well."""
    return list((failing - normal).elements())


def assert_private(caplog: pytest.LogCaptureFixture, *secrets: str) -> None:
    """No log line (message or traceback) carries what a person typed or their name."""
    for secret in secrets:
        assert secret not in caplog.text, secret


def apologies(bot: BotHarness) -> list[Call]:
    """Apologies of the error handler, as messages or button answers, to anyone."""
    return [c for c in bot.telegram.calls if APOLOGY in c.text]


def owner_alerts(bot: BotHarness) -> list[str]:
    """Messages to the owner (only error alerts go there in these tests)."""
    return bot.telegram.texts(CHAIR.id)


def calls_to(bot: BotHarness, chat_id: int, method: str = "sendMessage") -> list[Call]:
    """Calls of `method` to one chat."""
    return bot.telegram.sent(method, chat_id)


def answers_to(bot: BotHarness, query: dict[str, Any]) -> list[Call]:
    """answerCallbackQuery calls for one press."""
    query_id = query["callback_query"]["id"]
    return [c for c in bot.telegram.answers() if c.params.get("callback_query_id") == query_id]


def committee_view(bot: BotHarness, presser: Person) -> list[str]:
    """What the committee saw: group and presser messages, edits and button answers, with
    numbers and masked names blanked so that two items can be compared."""
    seen = []
    for call in bot.telegram.calls:
        to_committee = call.chat_id in (COMMITTEE_GROUP_ID, presser.id)
        if call.method == "answerCallbackQuery" or (
            to_committee and call.method in ("sendMessage", "editMessageText")
        ):
            seen.append(re.sub(r"\d+", "#", re.sub(r"[王李]\*", "X*", call.text)))
    return seen


async def suggestions(bot: BotHarness) -> list[Suggestion]:
    """Every stored item, oldest first."""
    async with bot.db() as session:
        return list((await session.exec(select(Suggestion).order_by(col(Suggestion.id)))).all())


async def entries(bot: BotHarness, item_id: int, kind: EntryKind) -> int:
    """How many thread entries of `kind` an item has."""
    async with bot.db() as session:
        rows = (
            await session.exec(
                select(SuggestionEntry).where(
                    SuggestionEntry.suggestion_id == item_id, SuggestionEntry.kind == kind
                )
            )
        ).all()
    return len(rows)


async def card_message(bot: BotHarness, kind: str, item_id: int) -> int:
    """The message id of an item's card in the committee group."""
    async with bot.db() as session:
        card = (
            await session.exec(
                select(DeskCard).where(
                    DeskCard.kind == kind,
                    DeskCard.item_id == item_id,
                    DeskCard.chat_id == COMMITTEE_GROUP_ID,
                )
            )
        ).one()
    return card.message_id


def card_in_group(bot: BotHarness, fragment: str) -> Call:
    """The card posted to the group whose text contains `fragment`."""
    cards = [c for c in calls_to(bot, COMMITTEE_GROUP_ID) if c.buttons() and fragment in c.text]
    assert len(cards) == 1, [c.text for c in calls_to(bot, COMMITTEE_GROUP_ID)]
    return cards[0]


# ---- driving the bot ----------------------------------------------------------------------


async def to_suggestion_preview(
    bot: BotHarness, body: str = BODY, author: Person = AUTHOR, *, anonymous: bool = False
) -> None:
    """/suggest up to the preview with its Confirm button."""
    await bot.say(author, "/suggest")
    await bot.press(author, pack("sgf", "cat", await category_id(bot)))
    await bot.say(author, body)
    await bot.press(author, pack("sgf", "photos", "done"))
    await bot.press(author, pack("sgf", "anon", "anon" if anonymous else "named"))


CONFIRM = pack("sgf", "confirm", "yes")


async def file_suggestion(
    bot: BotHarness, body: str, author: Person = AUTHOR, *, anonymous: bool = False
) -> Suggestion:
    """A whole filing; returns the stored item."""
    await to_suggestion_preview(bot, body, author, anonymous=anonymous)
    await bot.press(author, CONFIRM)
    return (await suggestions(bot))[-1]


async def join_request(bot: BotHarness, applicant: Person) -> JoinRequest:
    """`applicant` registers; returns the pending request."""
    await register(bot, applicant)
    async with bot.db() as session:
        member = (
            await session.exec(select(Member).where(Member.telegram_user_id == applicant.id))
        ).one()
        return (
            await session.exec(select(JoinRequest).where(JoinRequest.member_id == member.id))
        ).one()


async def join_state(bot: BotHarness, request_id: int) -> tuple[str, str]:
    """(request status, applicant's member status) as stored."""
    async with bot.db() as session:
        request = await session.get(JoinRequest, request_id)
        assert request is not None
        member = await session.get(Member, request.member_id)
    assert member is not None
    return request.status, member.status


# ==== 1. a reply to a member fails: timeouts, 5xx ============================================


LOST_RECEIPTS: dict[str, dict[str, Any]] = {
    "timed out": {"error": TimedOut()},
    "500": {"status": 500, "description": "Internal Server Error"},
}


@pytest.mark.parametrize("failure", list(LOST_RECEIPTS))
async def test_a_lost_receipt_leaves_one_item_one_card_and_one_warning(
    bot: BotHarness, wire: FaultyTelegram, caplog: pytest.LogCaptureFixture, failure: str
) -> None:
    caplog.set_level(logging.INFO)
    await setup_school(bot)
    await to_suggestion_preview(bot)
    wire.clear()
    caplog.clear()
    wire.fail("sendMessage", chat_id=AUTHOR.id, **LOST_RECEIPTS[failure])

    await bot.press(AUTHOR, CONFIRM)

    [item] = await suggestions(bot)
    assert item.number and item.body == BODY
    # The card reached the desk; the receipt was tried once (a timed-out send may have been
    # delivered: sending it again could say it twice) and nothing else went to the member.
    card_in_group(bot, BODY)
    [receipt] = calls_to(bot, AUTHOR.id)
    assert RECEIPT in receipt.text and item.number in receipt.text
    assert not apologies(bot) and not owner_alerts(bot)
    [warning] = problems(caplog)
    assert warning.levelno == logging.WARNING
    assert_private(caplog, BODY, AUTHOR_NAME, item.number)

    # Not having seen a receipt, the member presses Confirm again: nothing is stored or
    # posted twice.
    wire.clear()
    await bot.press(AUTHOR, CONFIRM)

    assert len(await suggestions(bot)) == 1
    assert not [c for c in calls_to(bot, COMMITTEE_GROUP_ID) if BODY in c.text]
    assert not apologies(bot)


async def test_confirming_again_after_a_lost_receipt_tells_the_member_it_was_received(
    bot: BotHarness, wire: FaultyTelegram
) -> None:
    await setup_school(bot)
    await to_suggestion_preview(bot)
    wire.fail("sendMessage", chat_id=AUTHOR.id, error=TimedOut())
    await bot.press(AUTHOR, CONFIRM)
    [item] = await suggestions(bot)
    wire.clear()

    again = button(AUTHOR, CONFIRM)
    await bot.feed(again)

    told = [c.text for c in answers_to(bot, again)] + bot.telegram.texts(AUTHOR.id)
    # Either the item's number or the way to see it (/mine), not "start again".
    assert any(item.number in text or "/mine" in text for text in told), told


DESK_FAILURES: dict[str, dict[str, Any]] = {
    "timed out": {"error": TimedOut()},
    "502": {"status": 502, "description": "Bad Gateway"},
}


@pytest.mark.parametrize("failure", list(DESK_FAILURES))
async def test_a_failed_desk_card_does_not_store_the_item_twice(
    bot: BotHarness, wire: FaultyTelegram, failure: str
) -> None:
    await setup_school(bot)
    await to_suggestion_preview(bot)
    wire.fail("sendMessage", chat_id=COMMITTEE_GROUP_ID, **DESK_FAILURES[failure])

    await bot.press(AUTHOR, CONFIRM)
    await bot.press(AUTHOR, CONFIRM)  # no receipt came: the member tries again

    assert len(await suggestions(bot)) == 1
    # The second press stores nothing; it puts on the desk the card the first could not post
    # (found by the item, not by who pressed), and records it once.
    async with bot.db() as session:
        assert len((await session.exec(select(DeskCard))).all()) == 1
    assert len([c for c in calls_to(bot, COMMITTEE_GROUP_ID) if BODY in c.text]) == 2


async def test_a_failed_desk_card_still_gives_the_member_the_receipt(
    bot: BotHarness, wire: FaultyTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await setup_school(bot)
    await to_suggestion_preview(bot)
    caplog.clear()
    wire.clear()
    wire.fail("sendMessage", chat_id=COMMITTEE_GROUP_ID, status=502, description="Bad Gateway")

    await bot.press(AUTHOR, CONFIRM)

    [item] = await suggestions(bot)
    assert not apologies(bot)
    [receipt] = bot.telegram.texts(AUTHOR.id)
    assert RECEIPT in receipt and item.number in receipt
    assert [r for r in problems(caplog) if r.levelno >= logging.ERROR] == []
    assert problems(caplog), "the lost card must be logged"


# ==== 2. 429 with retry_after, under production's rate limiter ================================


async def _confirm_against_429s(
    bot: BotHarness, wire: FaultyTelegram, caplog: pytest.LogCaptureFixture, *, times: int
) -> None:
    """The author confirms a suggestion while Telegram answers their chat `times` 429s."""
    caplog.set_level(logging.INFO)
    await setup_school(bot)
    await to_suggestion_preview(bot)
    wire.clear()
    caplog.clear()
    wire.fail(
        "sendMessage",
        chat_id=AUTHOR.id,
        status=429,
        description="Too Many Requests: retry after 1",
        retry_after=1,
        times=times,
    )
    await bot.press(AUTHOR, CONFIRM)


async def test_a_429_on_the_receipt_is_retried_and_the_member_gets_it_once(
    limited_bot: BotHarness, wire: FaultyTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    bot = limited_bot
    await _confirm_against_429s(bot, wire, caplog, times=1)

    [item] = await suggestions(bot)
    refused, delivered = calls_to(bot, AUTHOR.id)  # refused once, then accepted
    assert refused.params == delivered.params and item.number in delivered.text
    assert len([c for c in calls_to(bot, COMMITTEE_GROUP_ID) if BODY in c.text]) == 1
    assert not apologies(bot)
    assert problems(caplog) == []  # a wait that worked is not a problem
    assert_private(caplog, BODY, AUTHOR_NAME)


async def test_a_429_that_persists_is_given_up_after_three_retries_without_an_apology(
    limited_bot: BotHarness, wire: FaultyTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    bot = limited_bot
    await _confirm_against_429s(bot, wire, caplog, times=10)

    assert len(await suggestions(bot)) == 1
    assert len(calls_to(bot, AUTHOR.id)) == 4  # the first try and max_retries=3
    assert len([c for c in calls_to(bot, COMMITTEE_GROUP_ID) if BODY in c.text]) == 1
    assert not apologies(bot) and not owner_alerts(bot)
    # Logged once, by us: PTB's rate limiter's own ERROR for the same failure is filtered out.
    assert [r.levelno for r in problems(caplog)] == [logging.WARNING]
    assert_private(caplog, BODY, AUTHOR_NAME)


# ==== 3. the member blocked the bot when the committee acts ====================================


@dataclass(frozen=True)
class Decision:
    """A committee action whose outcome is then sent privately to one member."""

    setup: Callable[[BotHarness], Awaitable[Any]]
    subjects: tuple[Person, Person]  # one reachable, one who blocked the bot
    presser: Person
    prepare: Callable[[BotHarness, Person], Awaitable[int]]  # the item's id
    act: Callable[[BotHarness, int], Awaitable[None]]
    stored: Callable[[BotHarness, int], Awaitable[object]]  # what the action left in the db
    secrets: tuple[str, ...]


async def _prepare_suggestion(bot: BotHarness, author: Person) -> int:
    # Anonymous, with the same text: the two cards differ only in their numbers.
    return (await file_suggestion(bot, BODY, author, anonymous=True)).id or 0


async def _reply_to_suggestion(bot: BotHarness, item_id: int) -> None:
    data = pack("sug", "reply", item_id)
    await bot.press(COMMITTEE, data, chat=GROUP, message_id=await card_message(bot, "sug", item_id))
    await bot.write(COMMITTEE, REPLY)


async def _suggestion_stored(bot: BotHarness, item_id: int) -> object:
    async with bot.db() as session:
        item = await session.get(Suggestion, item_id)
    assert item is not None
    return item.status, await entries(bot, item_id, EntryKind.REPLY)


async def _setup_suggestions(bot: BotHarness) -> None:
    await setup_school(bot)
    await make_member(bot.db, org_id=bot.org_id, person=SECOND_AUTHOR, name="赵老师")


async def _prepare_join(bot: BotHarness, applicant: Person) -> int:
    return (await join_request(bot, applicant)).id or 0


async def _approve_join(bot: BotHarness, request_id: int) -> None:
    message_id = await card_message(bot, "join", request_id)
    await bot.press(
        COMMITTEE, pack("join", "approve", request_id), chat=GROUP, message_id=message_id
    )


async def _join_stored(bot: BotHarness, request_id: int) -> object:
    return await join_state(bot, request_id)


async def _prepare_aid(bot: BotHarness, person: Person) -> int:
    return (await ask_aid(bot, person)).id or 0


async def _approve_aid(bot: BotHarness, case_id: int) -> None:
    async with bot.db() as session:
        case = await session.get(AidCase, case_id)
    assert case is not None and case.amount_asked is None
    message_id = await card_message(bot, "aid", case_id)
    await bot.press(
        AID_COMMITTEE, pack("ak", "yes", case_id, 25000), chat=GROUP, message_id=message_id
    )


async def _reject_aid(bot: BotHarness, case_id: int) -> None:
    message_id = await card_message(bot, "aid", case_id)
    await bot.press(AID_COMMITTEE, pack("ak", "no", case_id), chat=GROUP, message_id=message_id)
    await bot.write(AID_COMMITTEE, "不在本年度的慰问范围内。")


async def _aid_stored(bot: BotHarness, case_id: int) -> object:
    async with bot.db() as session:
        case = await session.get(AidCase, case_id)
    assert case is not None
    return case.status, case.approved_amount


DECISIONS = {
    "suggestion reply": Decision(
        _setup_suggestions,
        (AUTHOR, SECOND_AUTHOR),
        COMMITTEE,
        _prepare_suggestion,
        _reply_to_suggestion,
        _suggestion_stored,
        (BODY, REPLY, AUTHOR_NAME, "赵老师"),
    ),
    "join approval": Decision(
        setup_school,
        APPLICANTS,
        COMMITTEE,
        _prepare_join,
        _approve_join,
        _join_stored,
        (APPLICANT_NAME, "Grade 8 team"),
    ),
    "aid approval": Decision(
        setup_aid_school,
        (AID_MEMBER, AID_COLLEAGUE),
        AID_COMMITTEE,
        _prepare_aid,
        _approve_aid,
        _aid_stored,
        ("王芳芳", "李明", "脑梗"),
    ),
    "aid rejection": Decision(
        setup_aid_school,
        (AID_MEMBER, AID_COLLEAGUE),
        AID_COMMITTEE,
        _prepare_aid,
        _reject_aid,
        _aid_stored,
        ("王芳芳", "李明", "脑梗", "不在本年度的慰问范围内"),
    ),
}


@dataclass
class Run:
    """What one committee action produced."""

    stored: object
    lines: Counter[tuple[str, int, str]]
    view: list[str]
    attempts: int  # sendMessage calls to the subject
    problems: list[logging.LogRecord]
    apologies: int


async def decide(
    bot: BotHarness,
    wire: FaultyTelegram,
    caplog: pytest.LogCaptureFixture,
    decision: Decision,
    subject: Person,
    *,
    blocked: bool,
    fault: dict[str, Any] | None = None,
) -> Run:
    """Prepare an item for `subject`, then let the committee act on it (the subject blocked
    the bot, or Telegram answers with `fault`, or neither)."""
    item_id = await decision.prepare(bot, subject)
    if blocked:
        fault = {"status": 403, "description": BLOCKED}
    if fault is not None:
        wire.fail("sendMessage", chat_id=subject.id, times=99, **fault)
    wire.clear()
    caplog.clear()
    await decision.act(bot, item_id)
    return Run(
        stored=await decision.stored(bot, item_id),
        lines=lines(caplog),
        view=committee_view(bot, decision.presser),
        attempts=len(calls_to(bot, subject.id)),
        problems=problems(caplog),
        apologies=len(apologies(bot)),
    )


async def both_runs(
    bot: BotHarness, wire: FaultyTelegram, caplog: pytest.LogCaptureFixture, feature: str
) -> tuple[Run, Run]:
    """The same action for a reachable member, then for one who blocked the bot."""
    caplog.set_level(logging.INFO)
    decision = DECISIONS[feature]
    await decision.setup(bot)
    reachable, blocker = decision.subjects
    normal = await decide(bot, wire, caplog, decision, reachable, blocked=False)
    blocked = await decide(bot, wire, caplog, decision, blocker, blocked=True)
    return normal, blocked


@pytest.mark.parametrize("feature", list(DECISIONS))
async def test_a_member_who_blocked_the_bot_does_not_stop_the_committee(
    bot: BotHarness, wire: FaultyTelegram, caplog: pytest.LogCaptureFixture, feature: str
) -> None:
    normal, blocked = await both_runs(bot, wire, caplog, feature)

    assert blocked.stored == normal.stored  # the decision stands, stored once
    assert normal.attempts == 1 and blocked.attempts == 1  # no retry against a block
    assert blocked.apologies == 0 and not owner_alerts(bot)
    assert [r for r in blocked.problems if r.levelno >= logging.ERROR] == []
    # One line says the member could not be reached; it carries ids only.
    [line] = extra_lines(blocked.lines, normal.lines)
    assert logging.INFO <= line[1] < logging.ERROR
    assert_private(caplog, *DECISIONS[feature].secrets)


@pytest.mark.parametrize("feature", list(DECISIONS))
async def test_the_committee_learns_that_the_member_could_not_be_reached(
    bot: BotHarness, wire: FaultyTelegram, caplog: pytest.LogCaptureFixture, feature: str
) -> None:
    normal, blocked = await both_runs(bot, wire, caplog, feature)

    # Same action, same kind of item: only the delivery differs, so what the committee sees
    # must differ too, or nobody knows to phone the member.
    assert blocked.view != normal.view, blocked.view


TRANSIENT: dict[str, dict[str, Any]] = {
    "timed out": {"error": TimedOut()},
    "502": {"status": 502, "description": "Bad Gateway"},
}


@pytest.mark.parametrize("failure", list(TRANSIENT))
@pytest.mark.parametrize("feature", list(DECISIONS))
async def test_a_member_out_of_reach_for_a_moment_does_not_undo_the_decision(
    bot: BotHarness,
    wire: FaultyTelegram,
    caplog: pytest.LogCaptureFixture,
    feature: str,
    failure: str,
) -> None:
    """A timeout or a 5xx telling the member comes after the decision was stored: the
    committee is not told its action failed, and learns the member may not have heard."""
    caplog.set_level(logging.INFO)
    decision = DECISIONS[feature]
    await decision.setup(bot)
    reachable, other = decision.subjects
    normal = await decide(bot, wire, caplog, decision, reachable, blocked=False)
    failed = await decide(
        bot, wire, caplog, decision, other, blocked=False, fault=TRANSIENT[failure]
    )

    assert failed.stored == normal.stored
    assert failed.apologies == 0 and not owner_alerts(bot)
    assert [r for r in failed.problems if r.levelno >= logging.ERROR] == []
    assert failed.view != normal.view, failed.view
    [line] = extra_lines(failed.lines, normal.lines)
    assert line[1] == logging.WARNING
    assert_private(caplog, *decision.secrets)


# ==== 4. editing a desk card fails ==============================================================


async def _close(bot: BotHarness, presser: Person, item_id: int) -> dict[str, Any]:
    press = button(
        presser,
        pack("sug", "close", item_id),
        chat=GROUP,
        message_id=await card_message(bot, "sug", item_id),
    )
    await bot.feed(press)
    return press


async def test_a_second_close_that_leaves_the_card_unchanged_is_quiet(
    bot: BotHarness, wire: FaultyTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await setup_school(bot)
    item = await file_suggestion(bot, BODY)
    await _close(bot, COMMITTEE, item.id or 0)
    caplog.clear()
    wire.clear()

    second = await _close(bot, OTHER_COMMITTEE, item.id or 0)  # pressed a moment later

    assert (await suggestions(bot))[0].status == SuggestionStatus.CLOSED
    assert await entries(bot, item.id or 0, EntryKind.CLOSED) == 1
    [answer] = answers_to(bot, second)
    assert CHANGED_MEANWHILE in answer.text and answer.params["show_alert"] is True
    assert wire.unchanged_edits == 1  # Telegram refused the identical card...
    assert problems(caplog) == [] and not apologies(bot)  # ...and that is nobody's problem


async def test_a_second_join_decision_that_leaves_the_card_unchanged_is_quiet(
    bot: BotHarness, wire: FaultyTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await setup_school(bot)
    request = await join_request(bot, APPLICANTS[0])
    request_id = request.id or 0
    message_id = await card_message(bot, "join", request_id)
    await bot.press(
        COMMITTEE, pack("join", "approve", request_id), chat=GROUP, message_id=message_id
    )
    caplog.clear()
    wire.clear()

    second = button(
        OTHER_COMMITTEE, pack("join", "reject", request_id), chat=GROUP, message_id=message_id
    )
    await bot.feed(second)

    assert await join_state(bot, request_id) == (JoinStatus.APPROVED, MemberStatus.ACTIVE)
    [answer] = answers_to(bot, second)
    assert ALREADY_DECIDED in answer.text and answer.params["show_alert"] is True
    assert bot.telegram.texts(APPLICANTS[0].id) == []  # not told a second outcome
    assert wire.unchanged_edits == 1
    assert problems(caplog) == [] and not apologies(bot)


@dataclass
class GoneRun:
    """A decision on an item whose card was (or was not) deleted from the group."""

    lines: Counter[tuple[str, int, str]]
    answers: list[Call]
    committee_messages: int  # sendMessage to the group or the presser
    edits: int  # editMessageText calls to the group


async def _decide_with_card(
    bot: BotHarness,
    wire: FaultyTelegram,
    caplog: pytest.LogCaptureFixture,
    kind: str,
    item_id: int,
    data: str,
    *,
    deleted: bool,
) -> GoneRun:
    message_id = await card_message(bot, kind, item_id)
    if deleted:
        wire.fail(
            "editMessageText",
            chat_id=COMMITTEE_GROUP_ID,
            message_id=message_id,
            status=400,
            description=EDIT_GONE,
            times=99,
        )
    wire.clear()
    caplog.clear()
    press = button(COMMITTEE, data, chat=GROUP, message_id=message_id)
    await bot.feed(press)
    return GoneRun(
        lines=lines(caplog),
        answers=answers_to(bot, press),
        committee_messages=len(calls_to(bot, COMMITTEE_GROUP_ID) + calls_to(bot, COMMITTEE.id)),
        edits=len(calls_to(bot, COMMITTEE_GROUP_ID, "editMessageText")),
    )


async def deleted_card_runs(
    bot: BotHarness, wire: FaultyTelegram, caplog: pytest.LogCaptureFixture, kind: str
) -> tuple[GoneRun, GoneRun, Callable[[], Awaitable[None]]]:
    """Decide two items the same way, the second with its card deleted; returns both runs and
    a check that both decisions are stored exactly once."""
    caplog.set_level(logging.INFO)
    await setup_school(bot)
    if kind == "sug":
        first = await file_suggestion(bot, "第一条：" + BODY)
        second = await file_suggestion(bot, "第二条：" + BODY)
        ids = (first.id or 0, second.id or 0)
        datas = [pack("sug", "close", item_id) for item_id in ids]
    else:
        ids = (
            (await join_request(bot, APPLICANTS[0])).id or 0,
            (await join_request(bot, APPLICANTS[1])).id or 0,
        )
        datas = [pack("join", "approve", item_id) for item_id in ids]
    normal = await _decide_with_card(bot, wire, caplog, kind, ids[0], datas[0], deleted=False)
    gone = await _decide_with_card(bot, wire, caplog, kind, ids[1], datas[1], deleted=True)

    async def stored_once() -> None:
        for item_id in ids:
            if kind == "sug":
                async with bot.db() as session:
                    item = await session.get(Suggestion, item_id)
                assert item is not None and item.status == SuggestionStatus.CLOSED
                assert await entries(bot, item_id, EntryKind.CLOSED) == 1
            else:
                assert await join_state(bot, item_id) == (
                    JoinStatus.APPROVED,
                    MemberStatus.ACTIVE,
                )
        if kind == "join":
            for applicant in APPLICANTS:
                assert len([t for t in bot.telegram.texts(applicant.id) if APPROVED_EN in t]) <= 1

    return normal, gone, stored_once


@pytest.mark.parametrize("kind", ["sug", "join"])
async def test_a_deleted_card_does_not_undo_or_repeat_the_decision(
    bot: BotHarness, wire: FaultyTelegram, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    normal, gone, stored_once = await deleted_card_runs(bot, wire, caplog, kind)

    await stored_once()
    assert gone.edits == 1  # tried once, not hammered
    [answer] = gone.answers  # the presser is answered once, as usual
    # A close says its author was told (issue 16); a join decision names whose request it was.
    toast = "已办结，已告知提出人。" if kind == "sug" else f"已批准{APPLICANT_NAME}的入会申请。"
    assert answer.text.endswith(toast) and not answer.params.get("show_alert")
    assert not apologies(bot) and not owner_alerts(bot)
    [line] = extra_lines(gone.lines, normal.lines)
    assert line[1] < logging.ERROR
    assert_private(caplog, BODY, APPLICANT_NAME)


@pytest.mark.parametrize("kind", ["sug", "join"])
async def test_a_deleted_card_is_posted_again_or_the_committee_is_told(
    bot: BotHarness, wire: FaultyTelegram, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    normal, gone, _ = await deleted_card_runs(bot, wire, caplog, kind)

    assert gone.committee_messages > normal.committee_messages


# ==== 5. Telegram refuses the answer to a button press ==========================================


ANSWER_FAILURES: dict[str, dict[str, Any]] = {
    "query too old": {"status": 400, "description": TOO_OLD},
    "timed out": {"error": TimedOut()},
}


@pytest.mark.parametrize("failure", list(ANSWER_FAILURES))
async def test_a_committee_decision_is_stored_once_when_its_answer_fails(
    bot: BotHarness, wire: FaultyTelegram, failure: str
) -> None:
    await setup_school(bot)
    request_id = (await join_request(bot, APPLICANTS[0])).id or 0
    message_id = await card_message(bot, "join", request_id)
    wire.fail("answerCallbackQuery", **ANSWER_FAILURES[failure])
    data = pack("join", "approve", request_id)

    await bot.press(COMMITTEE, data, chat=GROUP, message_id=message_id)
    await bot.press(COMMITTEE, data, chat=GROUP, message_id=message_id)  # pressed again

    assert await join_state(bot, request_id) == (JoinStatus.APPROVED, MemberStatus.ACTIVE)
    async with bot.db() as session:
        decided = (await session.exec(select(JoinRequest))).one()
        committee = (
            await session.exec(select(Member).where(Member.telegram_user_id == COMMITTEE.id))
        ).one()
    assert decided.decided_by_member_id == committee.id
    # Never told twice (whether told at all is the test below).
    assert len([t for t in bot.telegram.texts(APPLICANTS[0].id) if APPROVED_EN in t]) <= 1


async def test_a_committee_decision_goes_through_when_its_answer_fails(
    bot: BotHarness, wire: FaultyTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await setup_school(bot)
    request_id = (await join_request(bot, APPLICANTS[0])).id or 0
    message_id = await card_message(bot, "join", request_id)
    wire.clear()
    caplog.clear()
    wire.fail("answerCallbackQuery", status=400, description=TOO_OLD)

    await bot.press(
        COMMITTEE, pack("join", "approve", request_id), chat=GROUP, message_id=message_id
    )

    assert not apologies(bot) and not owner_alerts(bot)
    [edit] = calls_to(bot, COMMITTEE_GROUP_ID, "editMessageText")
    assert edit.buttons() == []  # the card shows the decision
    [told] = bot.telegram.texts(APPLICANTS[0].id)
    assert APPROVED_EN in told
    assert [r.levelno for r in problems(caplog)] == [logging.WARNING]


@pytest.mark.parametrize("failure", list(ANSWER_FAILURES))
async def test_a_member_confirmation_is_stored_once_when_its_answer_fails(
    bot: BotHarness, wire: FaultyTelegram, failure: str
) -> None:
    await setup_school(bot)
    await to_suggestion_preview(bot)
    wire.fail("answerCallbackQuery", **ANSWER_FAILURES[failure])

    await bot.press(AUTHOR, CONFIRM)
    await bot.press(AUTHOR, CONFIRM)  # the member tries again

    assert len(await suggestions(bot)) == 1
    assert len([c for c in calls_to(bot, COMMITTEE_GROUP_ID) if BODY in c.text]) == 1


async def test_a_member_confirmation_goes_through_when_its_answer_fails(
    bot: BotHarness, wire: FaultyTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await setup_school(bot)
    await to_suggestion_preview(bot)
    caplog.clear()
    wire.fail("answerCallbackQuery", status=400, description=TOO_OLD)

    await bot.press(AUTHOR, CONFIRM)

    [item] = await suggestions(bot)
    assert not apologies(bot)
    assert any(item.number in t for t in bot.telegram.texts(AUTHOR.id))
    assert [r.levelno for r in problems(caplog)] == [logging.WARNING]


# ==== 6. the committee member's own confirmation fails ==========================================


async def _reply_while_confirmation_times_out(bot: BotHarness, wire: FaultyTelegram) -> int:
    await setup_school(bot)
    item = await file_suggestion(bot, BODY)
    item_id = item.id or 0
    message_id = await card_message(bot, "sug", item_id)
    await bot.press(COMMITTEE, pack("sug", "reply", item_id), chat=GROUP, message_id=message_id)
    wire.clear()
    await bot.say(COMMITTEE, REPLY)  # shown back; the confirmation comes after Send
    wire.fail("sendMessage", chat_id=COMMITTEE.id, error=TimedOut())
    await bot.press(COMMITTEE, SEND)
    return item_id


async def test_a_reply_whose_confirmation_times_out_reaches_the_author_once(
    bot: BotHarness, wire: FaultyTelegram
) -> None:
    item_id = await _reply_while_confirmation_times_out(bot, wire)

    await bot.write(COMMITTEE, REPLY)  # no confirmation came: the committee member sends it again

    assert await entries(bot, item_id, EntryKind.REPLY) == 1
    assert len([t for t in bot.telegram.texts(AUTHOR.id) if REPLY in t]) == 1


async def test_a_reply_whose_confirmation_times_out_is_not_reported_as_failed(
    bot: BotHarness, wire: FaultyTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    item_id = await _reply_while_confirmation_times_out(bot, wire)

    assert not apologies(bot) and not owner_alerts(bot)
    [edit] = calls_to(bot, COMMITTEE_GROUP_ID, "editMessageText")
    assert edit.params["message_id"] == await card_message(bot, "sug", item_id)
    assert [r.levelno for r in problems(caplog)] == [logging.WARNING]
