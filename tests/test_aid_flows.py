"""Hardship and care aid end to end, beyond the happy paths: what the committee group (and the
logs) never see, bad input at every step of /aid, colleagues' reports, who may decide and pay,
/mine and withdrawing, the books and rules, the public notice, and hardship files with their
daily review reminder."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from bot.callback import pack
from models.aid import AidApproval, AidCase, AidEvidence, AidLedgerEntry, AidPolicy, AidStandard
from models.aid import CaseStatus as Status
from models.audiences import audience_members
from models.hardship import (
    FileStatus,
    HardshipFile,
    HardshipLevel,
    a_year_after,
    close_file,
    open_file,
)
from models.members import Actor, Member, Role, load_actor
from models.organizations import bind_committee_chat, bind_disclosure_chat
from models.outbox import OutboxMessage
from scheduler.aid_jobs import aid_day
from scheduler.runtime import Runtime
from tests.support.factories import make_member
from tests.support.fake_telegram import Call
from tests.support.harness import CHAIR, COMMITTEE_GROUP_ID, SEND, BotHarness
from tests.support.updates import Person, group_chat, sticker, text

GROUP = group_chat(COMMITTEE_GROUP_ID)
CHANNEL_ID = -1009876543210
MEMBER = Person(4101, "Wang", "zh-hans")
COLLEAGUE = Person(4102, "Li", "zh-hans")
ENGLISH = Person(4103, "Anna", "en")
COMMITTEE = Person(1102, "Liu", "zh-hans")
SECOND = Person(1103, "Chen", "zh-hans")
TREASURER = Person(1104, "Qian", "zh-hans")

MEMBER_NAME = "王芳芳"
COLLEAGUE_NAME = "李明"
STORY = "我父亲上周脑梗住院，目前在市一医院神经内科。"

# What people read (zh_Hans catalog, distinctive fragments).
NOT_COMMITTEE = "只有工会委员可以处理这一项。"
CHAIR_ONLY = "只有工会主席可以"
STALE = "这个按钮已失效"
CONFLICT = "这个事项与您本人有关，您不能处理"
ALREADY_DECIDED = "这个事项已经处理过了"
TREASURER_ONLY = "只有工会财务（经费管理）或主席可以登记发放；工会财务由主席在会员卡片上任命。"
NEEDS_CHAIR = "还需要主席批准"
TOO_LONG = "太长了：最多 1000 个字，您输入了 1001 个"
EMPTY = "内容是空的"
DATE_FUTURE = "日期不能晚于今天。"
DATE_FORMAT = "没看懂日期"
AMOUNT_INVALID = "金额要写成正数"
AMOUNT_ABSURD = "金额太大了（上限 ¥50,000）"
WRITE_DAY = "是哪天的事？"
WRITE_AMOUNT = "申请多少钱？"
ASK_EVIDENCE = "请发送证明材料的照片或 PDF"
FILE_TYPE = "只接受照片、PDF、JPG 或 PNG 文件。"
FILE_TOO_BIG = "这个文件超过 20 MB"
FILES_ONLY = "这一步请发送照片或 PDF"
TOO_MANY = "最多 10 个文件，多出的没有保存。"
CANCELLED = "已取消，没有保存。"
COLLEAGUE_NONE = "没有找到这位会员"
RECEIPT_REPORT = "谢谢您告诉工会"
TOLD_APPROVED_REPORT = "已批准慰问，工会会安排看望"
TOLD_PAID_REPORT = "慰问金已发放"
COUNT_CAP = "年已享受过 1 次同类慰问，需要主席批准"  # "2026 年已享受过...": the decision's year
BOOKS_USAGE = "请写年份，例如 /aidbooks"
RULES_USAGE = "修改：/aidrules 标准 类别 金额"
NOTICE_OFF = "本工会没有开启困难补助公示"
HARDSHIP_NONE = "目前没有在档的困难职工。"
ALREADY_ON_FILE = "这位会员已经在困难档案里了。"


# ---- building updates --------------------------------------------------------------------


def photo(person: Person, file_id: str) -> dict[str, Any]:
    """A photo message, largest size last."""
    update = text(person, "")
    message = update["message"]
    del message["text"]
    message["photo"] = [
        {"file_id": f"{file_id}-s", "file_unique_id": f"{file_id}-t", "width": 90, "height": 67},
        {"file_id": file_id, "file_unique_id": f"{file_id}-u", "width": 1280, "height": 960},
    ]
    return update


def document(
    person: Person,
    file_id: str,
    *,
    mime_type: str = "application/pdf",
    size: int = 123_456,
    name: str = "出院小结.pdf",
) -> dict[str, Any]:
    """A file sent as a document."""
    update = text(person, "")
    message = update["message"]
    del message["text"]
    message["document"] = {
        "file_id": file_id,
        "file_unique_id": f"{file_id}-u",
        "file_name": name,
        "mime_type": mime_type,
        "file_size": size,
    }
    return update


# ---- the school and its people -----------------------------------------------------------


async def setup_school(bot: BotHarness, *, english: bool = False) -> None:
    """A bound group, two committee members, a treasurer and two teachers."""
    async with bot.db() as session:
        await bind_committee_chat(session, org_id=bot.org_id, chat_id=COMMITTEE_GROUP_ID)
    org = bot.org_id
    await make_member(bot.db, org_id=org, person=COMMITTEE, name="刘委员", roles=[Role.COMMITTEE])
    await make_member(bot.db, org_id=org, person=SECOND, name="陈委员", roles=[Role.COMMITTEE])
    await make_member(bot.db, org_id=org, person=TREASURER, name="钱会计", roles=[Role.TREASURER])
    await make_member(bot.db, org_id=org, person=MEMBER, name=MEMBER_NAME, department="初二年级组")
    await make_member(
        bot.db, org_id=org, person=COLLEAGUE, name=COLLEAGUE_NAME, department="数学组"
    )
    if english:
        await make_member(
            bot.db, org_id=org, person=ENGLISH, name="吴安娜", department="英语组", language="en"
        )


async def add_chair(bot: BotHarness) -> None:
    """The owner, stored as the chair."""
    await make_member(bot.db, org_id=bot.org_id, person=CHAIR, name="张主席", roles=[Role.CHAIR])


def today(bot: BotHarness) -> date:
    """Today in the bot's time zone (what the handlers use)."""
    return datetime.now(bot.app.state.settings.zone).date()


def runtime_of(bot: BotHarness) -> Runtime:
    """The runtime start-up installed (what scheduled jobs get)."""
    runtime = bot.app.state.runtime
    assert runtime is not None
    return runtime


async def actor_of(bot: BotHarness, person: Person) -> Actor:
    """The Actor behind a person, as the bot loads it."""
    async with bot.db() as session:
        actor = await load_actor(session, org_id=bot.org_id, telegram_user_id=person.id)
    assert actor is not None
    return actor


async def member_of(bot: BotHarness, person: Person) -> Member:
    """The member row bound to a person."""
    return (await actor_of(bot, person)).member


# ---- reading what happened ---------------------------------------------------------------


async def latest_case(bot: BotHarness) -> AidCase:
    """The newest case."""
    async with bot.db() as session:
        case = (await session.exec(select(AidCase).order_by(col(AidCase.id).desc()))).first()
    assert case is not None
    return case


async def reload(bot: BotHarness, case_id: int) -> AidCase:
    """A case as stored now."""
    async with bot.db() as session:
        case = await session.get(AidCase, case_id)
    assert case is not None
    return case


async def case_count(bot: BotHarness) -> int:
    """How many cases are stored."""
    async with bot.db() as session:
        return len((await session.exec(select(AidCase))).all())


async def approvals(bot: BotHarness, case_id: int) -> int:
    """How many approvals a case has."""
    async with bot.db() as session:
        rows = (await session.exec(select(AidApproval).where(AidApproval.case_id == case_id))).all()
    return len(rows)


async def ledger_kinds(bot: BotHarness, case_id: int) -> list[str]:
    """A case's ledger, oldest first."""
    async with bot.db() as session:
        rows = (
            await session.exec(
                select(AidLedgerEntry)
                .where(AidLedgerEntry.case_id == case_id)
                .order_by(col(AidLedgerEntry.id))
            )
        ).all()
    return [row.kind for row in rows]


def alert(bot: BotHarness) -> str:
    """The text of the latest answer to a button press."""
    return str(bot.telegram.answers()[-1].params.get("text") or "")


def calls_to(bot: BotHarness, chat_id: int) -> list[Call]:
    """Every call (any method) that targeted one chat."""
    return [call for call in bot.telegram.calls if call.chat_id == chat_id]


def group_dump(bot: BotHarness) -> list[str]:
    """Everything the committee group got, every parameter of every method."""
    return [f"{call.method} {call.params}" for call in calls_to(bot, COMMITTEE_GROUP_ID)]


async def replies(bot: BotHarness, person: Person, body: str) -> str:
    """`person` types `body`; everything the bot then sent to their chat, joined."""
    before = len(bot.telegram.calls)
    await bot.say(person, body)
    return "\n".join(call.text for call in bot.telegram.calls[before:] if call.chat_id == person.id)


async def replies_to_send(bot: BotHarness, person: Person, body: str) -> str:
    """`person` types `body` (shown back to them) and presses Send; everything the bot told
    them after the press (the press's alert, messages to their chat), joined."""
    await bot.say(person, body)
    before = len(bot.telegram.calls)
    await bot.press(person, SEND)
    told = [
        str(call.params.get("text") or "")
        for call in bot.telegram.calls[before:]
        if call.method == "answerCallbackQuery"
    ]
    told += [call.text for call in bot.telegram.calls[before:] if call.chat_id == person.id]
    return "\n".join(told)


async def replies_to_update(bot: BotHarness, person: Person, update: dict[str, Any]) -> str:
    """`person` sends `update`; everything the bot then sent to their chat, joined."""
    before = len(bot.telegram.calls)
    await bot.feed(update)
    return "\n".join(call.text for call in bot.telegram.calls[before:] if call.chat_id == person.id)


def card(bot: BotHarness) -> Call:
    """The latest card posted in the committee group."""
    posted = [c for c in bot.telegram.sent("sendMessage", COMMITTEE_GROUP_ID) if c.buttons()]
    assert posted, "no card in the committee group"
    return posted[-1]


# ---- driving /aid ------------------------------------------------------------------------


async def to_amount_step(
    bot: BotHarness, person: Person, *, aid_type: str = "hospital", story: str = STORY
) -> None:
    """/aid for oneself up to the amount question."""
    await bot.say(person, "/aid")
    await bot.press(person, pack("ad", "who", "me"))
    await bot.press(person, pack("ad", "type", aid_type))
    await bot.say(person, story)
    await bot.say(person, "今天")


async def ask(
    bot: BotHarness,
    person: Person = MEMBER,
    *,
    aid_type: str = "hospital",
    story: str = STORY,
    amount: str | None = None,
    files: tuple[dict[str, Any], ...] = (),
) -> AidCase:
    """`person` asks for aid for themself and confirms."""
    before = await case_count(bot)
    await to_amount_step(bot, person, aid_type=aid_type, story=story)
    if amount is None:
        await bot.press(person, pack("ad", "amt", "std"))
    else:
        await bot.say(person, amount)
    for update in files:
        await bot.feed(update)
    await bot.press(person, pack("ad", "ev", "done"))
    await bot.press(person, pack("ad", "ok", "yes"))
    assert await case_count(bot) == before + 1
    return await latest_case(bot)


async def report(
    bot: BotHarness, *, reporter: Person = COLLEAGUE, query: str = "王芳", story: str = STORY
) -> AidCase:
    """`reporter` tells the union that the colleague found by `query` is in hospital."""
    await bot.say(reporter, "/aid")
    await bot.press(reporter, pack("ad", "who", "other"))
    await bot.say(reporter, query)
    await bot.press(reporter, bot.telegram.last(reporter.id).button_data(query))
    await bot.press(reporter, pack("ad", "type", "hospital"))
    await bot.say(reporter, story)
    await bot.say(reporter, "今天")
    await bot.press(reporter, pack("ad", "ev", "done"))
    await bot.press(reporter, pack("ad", "ok", "yes"))
    return await latest_case(bot)


async def approve_as(bot: BotHarness, person: Person, case: AidCase, amount: int) -> None:
    """`person` presses 批准 ¥amount on the card in the group."""
    await bot.press(person, pack("ak", "yes", case.id or 0, amount), chat=GROUP)


async def pay(bot: BotHarness, case: AidCase, body: str = "今天 现金") -> None:
    """The treasurer records the payment."""
    await bot.press(TREASURER, pack("ak", "pay", case.id or 0), chat=GROUP)
    await bot.say(TREASURER, body)


# ---- 1. privacy --------------------------------------------------------------------------


async def test_the_group_and_the_logs_never_see_the_story_the_files_or_the_name(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("handlers", "models", "scheduler", "bot"):
        caplog.set_level(logging.DEBUG, logger=name)
    await setup_school(bot)
    story = "我母亲心脏搭桥手术，住在省人民医院心外科十二床。"
    question = "请问手术是哪一天做的？"
    answer = "手术在上周三，费用约八万元。"
    files = (photo(MEMBER, "AgACsecretPhoto"), document(MEMBER, "BQACsecretDocument"))

    case = await ask(bot, story=story, files=files)
    cid = case.id or 0
    await bot.press(COMMITTEE, card(bot).button_data("私下查看"), chat=GROUP)
    await bot.press(COMMITTEE, pack("ak", "ask", cid), chat=GROUP)
    await bot.write(COMMITTEE, question)
    await bot.press(MEMBER, bot.telegram.last(MEMBER.id).button_data("回复"))
    await bot.write(MEMBER, answer)
    await bot.press(COMMITTEE, card(bot).button_data("批准"), chat=GROUP)
    await pay(bot, case, "今天 转账")

    assert (await reload(bot, cid)).status == Status.PAID
    # The secrets did flow where they belong: the presser's private chat and the member's.
    private = calls_to(bot, COMMITTEE.id)
    assert any(story in c.text for c in private)
    assert {c.params.get("photo") for c in private if c.method == "sendPhoto"} == {
        "AgACsecretPhoto"
    }
    assert {c.params.get("document") for c in private if c.method == "sendDocument"} == {
        "BQACsecretDocument"
    }
    assert any(question in c.text for c in calls_to(bot, MEMBER.id))
    # ... and never to the group, by any method.
    seen = group_dump(bot)
    assert {c.method for c in calls_to(bot, COMMITTEE_GROUP_ID)} >= {
        "sendMessage",
        "editMessageText",
    }
    for secret in (story, question, answer, "AgACsecret", "BQACsecret", MEMBER_NAME):
        assert not [sent for sent in seen if secret in sent], secret
    assert any("王*" in sent for sent in seen)
    # Nor in our logs.
    ours = [
        record
        for record in caplog.records
        if record.name.split(".")[0] in ("handlers", "models", "scheduler", "bot")
    ]
    assert ours, "the flow logged nothing at all: the log check would prove nothing"
    for record in ours:
        message = record.getMessage()
        for secret in (story, answer, question, MEMBER_NAME):
            assert secret not in message, (record.name, message)


# ---- 2. bad input in /aid ----------------------------------------------------------------


async def test_bad_descriptions_days_and_amounts_are_refused_and_asked_again(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    await bot.say(MEMBER, "/aid")
    await bot.press(MEMBER, pack("ad", "who", "me"))
    await bot.press(MEMBER, pack("ad", "type", "hospital"))

    said = await replies(bot, MEMBER, "住" * 1001)
    assert TOO_LONG in said and WRITE_DAY not in said
    said = await replies(bot, MEMBER, "\u200b\u200b")
    assert EMPTY in said and WRITE_DAY not in said
    assert WRITE_DAY in await replies(bot, MEMBER, STORY)

    future = f"{today(bot).year + 1}-01-15"
    for body, refusal in ((future, DATE_FUTURE), ("abc", DATE_FORMAT), ("2026-02-30", DATE_FORMAT)):
        said = await replies(bot, MEMBER, body)
        assert refusal in said and WRITE_AMOUNT not in said, body
    assert WRITE_AMOUNT in await replies(bot, MEMBER, "昨天")

    for body in ("abc", "0", "-5", "①"):
        said = await replies(bot, MEMBER, body)
        assert AMOUNT_INVALID in said and ASK_EVIDENCE not in said, body
    said = await replies(bot, MEMBER, "50001")
    assert AMOUNT_ABSURD in said and ASK_EVIDENCE not in said
    assert ASK_EVIDENCE in await replies(bot, MEMBER, "300")

    await bot.press(MEMBER, pack("ad", "ev", "done"))
    await bot.press(MEMBER, pack("ad", "ok", "yes"))
    case = await latest_case(bot)
    assert case.description == STORY
    assert case.happened_on == today(bot) - timedelta(days=1)
    assert case.amount_asked == 30000
    assert await case_count(bot) == 1


async def test_wrong_files_are_refused_and_at_most_ten_are_kept(bot: BotHarness) -> None:
    await setup_school(bot)
    await to_amount_step(bot, MEMBER)
    await bot.press(MEMBER, pack("ad", "amt", "std"))

    word = document(MEMBER, "BQACword", mime_type="application/msword", name="证明.doc")
    assert FILE_TYPE in await replies_to_update(bot, MEMBER, word)
    huge = document(MEMBER, "BQAChuge", size=21 * 1024 * 1024)
    assert FILE_TOO_BIG in await replies_to_update(bot, MEMBER, huge)
    assert FILES_ONLY in await replies_to_update(bot, MEMBER, sticker(MEMBER))
    assert "已收到第 1 个" in await replies_to_update(bot, MEMBER, document(MEMBER, "BQACgoodPdf"))
    for index in range(2, 11):
        said = await replies_to_update(bot, MEMBER, photo(MEMBER, f"AgACkept{index}"))
        assert f"已收到第 {index} 个" in said
    said = await replies_to_update(bot, MEMBER, photo(MEMBER, "AgACeleventh"))
    assert TOO_MANY in said and "证明材料：10 个" in said

    await bot.press(MEMBER, pack("ad", "ok", "yes"))
    case = await latest_case(bot)
    async with bot.db() as session:
        files = (
            await session.exec(
                select(AidEvidence)
                .where(AidEvidence.case_id == case.id)
                .order_by(col(AidEvidence.id))
            )
        ).all()
    assert [(f.file_id, f.kind) for f in files] == [("BQACgoodPdf", "document")] + [
        (f"AgACkept{index}", "photo") for index in range(2, 11)
    ]


async def test_cancel_at_the_preview_stores_nothing(bot: BotHarness) -> None:
    await setup_school(bot)
    await to_amount_step(bot, MEMBER)
    await bot.press(MEMBER, pack("ad", "amt", "std"))
    await bot.feed(photo(MEMBER, "AgACcancelled"))
    await bot.press(MEMBER, pack("ad", "ev", "done"))
    assert "请确认" in bot.telegram.last(MEMBER.id).text

    await bot.press(MEMBER, pack("ad", "ok", "cancel"))

    assert CANCELLED in bot.telegram.last(MEMBER.id).text
    assert await case_count(bot) == 0
    async with bot.db() as session:
        assert (await session.exec(select(AidEvidence))).all() == []
    assert calls_to(bot, COMMITTEE_GROUP_ID) == []
    # The draft is gone: a stale confirm press stores nothing either.
    await bot.press(MEMBER, pack("ad", "ok", "yes"))
    assert await case_count(bot) == 0


# ---- 3. reporting a colleague ------------------------------------------------------------


async def test_reporting_offers_only_reportable_types_and_refuses_a_forged_one(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    await bot.say(COLLEAGUE, "/aid")
    await bot.press(COLLEAGUE, pack("ad", "who", "other"))

    assert COLLEAGUE_NONE in await replies(bot, COLLEAGUE, "赵钱孙")
    await bot.say(COLLEAGUE, "王芳")
    await bot.press(COLLEAGUE, bot.telegram.last(COLLEAGUE.id).button_data(MEMBER_NAME))
    offered = {data for _label, data in bot.telegram.last(COLLEAGUE.id).buttons()}
    assert offered == {
        pack("ad", "type", kind) for kind in ("hospital", "bereavement", "illness", "disaster")
    }

    await bot.press(COLLEAGUE, pack("ad", "type", "childbirth"))
    assert STALE in alert(bot)
    await bot.press(COLLEAGUE, pack("ad", "type", "bereavement"))
    await bot.say(COLLEAGUE, "王老师的父亲昨天去世了。")
    await bot.say(COLLEAGUE, "昨天")
    await bot.press(COLLEAGUE, pack("ad", "ev", "done"))
    assert f"报告同事：{MEMBER_NAME}（初二年级组）" in bot.telegram.last(COLLEAGUE.id).text
    await bot.press(COLLEAGUE, pack("ad", "ok", "yes"))

    case = await latest_case(bot)
    member = await member_of(bot, MEMBER)
    assert case.aid_type == "bereavement" and case.reported
    assert case.subject_member_id == member.id
    assert RECEIPT_REPORT in bot.telegram.last(COLLEAGUE.id).text


async def test_the_reported_colleague_is_never_messaged_and_the_reporter_is_told(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    case = await report(bot)
    assert RECEIPT_REPORT in bot.telegram.last(COLLEAGUE.id).text

    await bot.press(COMMITTEE, card(bot).button_data("批准"), chat=GROUP)
    assert (await reload(bot, case.id or 0)).status == Status.APPROVED
    assert TOLD_APPROVED_REPORT in bot.telegram.last(COLLEAGUE.id).text

    await pay(bot, case)
    assert (await reload(bot, case.id or 0)).status == Status.PAID
    told = bot.telegram.last(COLLEAGUE.id).text
    assert TOLD_PAID_REPORT in told and case.number in told

    assert calls_to(bot, MEMBER.id) == []


# ---- 4. decisions ------------------------------------------------------------------------


async def test_presses_by_non_committee_members_are_refused_and_change_nothing(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    case = await ask(bot, files=(photo(MEMBER, "AgACnotForYou"),))
    cid = case.id or 0
    kinds = await ledger_kinds(bot, cid)

    for person in (COLLEAGUE, TREASURER):
        for data in (
            pack("ak", "open", cid),
            pack("ak", "yes", cid, 25000),
            pack("ak", "no", cid),
        ):
            await bot.press(person, data, chat=GROUP)
            assert alert(bot) == NOT_COMMITTEE, (person, data)
        # A reason typed afterwards is not taken as a rejection.
        await bot.write(person, "不批准。")

    stored = await reload(bot, cid)
    assert stored.status == Status.OPEN and stored.version == case.version
    assert await approvals(bot, cid) == 0
    assert await ledger_kinds(bot, cid) == kinds
    for person in (COLLEAGUE, TREASURER):
        assert not [c for c in calls_to(bot, person.id) if c.method == "sendPhoto"]
        assert not [c for c in calls_to(bot, person.id) if STORY in c.text]


async def test_a_committee_member_cannot_open_or_decide_their_own_case(bot: BotHarness) -> None:
    await setup_school(bot)
    case = await ask(bot, COMMITTEE, files=(photo(COMMITTEE, "AgACown"),))
    cid = case.id or 0
    sent_before = len(calls_to(bot, COMMITTEE.id))

    await bot.press(COMMITTEE, pack("ak", "open", cid), chat=GROUP)
    assert CONFLICT in alert(bot)
    await bot.press(COMMITTEE, pack("ak", "yes", cid, 25000), chat=GROUP)
    assert CONFLICT in alert(bot)
    await bot.press(COMMITTEE, pack("ak", "no", cid), chat=GROUP)
    assert CONFLICT in alert(bot)

    assert len(calls_to(bot, COMMITTEE.id)) == sent_before
    assert (await reload(bot, cid)).status == Status.OPEN
    assert await approvals(bot, cid) == 0
    # Someone else may.
    await bot.press(SECOND, pack("ak", "open", cid), chat=GROUP)
    assert any(c.params.get("photo") == "AgACown" for c in calls_to(bot, SECOND.id))


async def test_the_reported_committee_member_cannot_decide_either(bot: BotHarness) -> None:
    await setup_school(bot)
    case = await report(bot, query="刘委员")
    cid = case.id or 0

    await bot.press(COMMITTEE, pack("ak", "open", cid), chat=GROUP)
    assert CONFLICT in alert(bot)
    await approve_as(bot, COMMITTEE, case, 25000)
    assert CONFLICT in alert(bot)
    assert (await reload(bot, cid)).status == Status.OPEN


async def test_rejecting_needs_a_reason_in_the_requesters_language(bot: BotHarness) -> None:
    await setup_school(bot, english=True)
    case = await ask(bot, ENGLISH)
    cid = case.id or 0
    reason = "本年度已慰问过，按规定不再重复。"

    await bot.press(COMMITTEE, pack("ak", "no", cid), chat=GROUP)
    assert "请写不批准" in bot.telegram.last(COMMITTEE.id).text
    # The empty reason is shown back; Send refuses it and the reason is asked for again.
    assert EMPTY in await replies_to_send(bot, COMMITTEE, "\u200b\u200b")
    assert (await reload(bot, cid)).status == Status.OPEN
    await bot.write(COMMITTEE, reason)

    assert (await reload(bot, cid)).status == Status.REJECTED
    told = bot.telegram.last(ENGLISH.id).text
    assert "was not approved" in told and reason in told and case.number in told
    assert not [sent for sent in group_dump(bot) if reason in sent]

    await approve_as(bot, SECOND, case, 25000)
    assert ALREADY_DECIDED in alert(bot)
    assert (await reload(bot, cid)).status == Status.REJECTED
    assert await approvals(bot, cid) == 0


async def test_a_second_hospital_visit_in_a_year_needs_the_chair(bot: BotHarness) -> None:
    await setup_school(bot)
    await add_chair(bot)
    first = await ask(bot)
    await approve_as(bot, COMMITTEE, first, 25000)
    assert (await reload(bot, first.id or 0)).status == Status.APPROVED
    assert alert(bot) == f"已批准 {first.number}。"  # says what was approved

    second = await ask(bot, story="又住院了，这次是骨折。")
    sid = second.id or 0
    assert COUNT_CAP in card(bot).text

    await approve_as(bot, COMMITTEE, second, 25000)
    assert NEEDS_CHAIR in alert(bot)
    await approve_as(bot, SECOND, second, 25000)
    assert NEEDS_CHAIR in alert(bot)
    stored = await reload(bot, sid)
    assert stored.status == Status.OPEN and stored.approved_amount is None
    assert await approvals(bot, sid) == 2

    await approve_as(bot, CHAIR, second, 25000)
    stored = await reload(bot, sid)
    assert stored.status == Status.APPROVED and stored.approved_amount == 25000
    # A decided case is not approved again.
    await approve_as(bot, SECOND, second, 30000)
    assert ALREADY_DECIDED in alert(bot)


async def test_only_the_treasurer_pays_and_a_bad_payment_text_is_asked_again(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    case = await ask(bot)
    cid = case.id or 0
    await approve_as(bot, COMMITTEE, case, 25000)

    await bot.press(SECOND, pack("ak", "pay", cid), chat=GROUP)
    assert alert(bot) == TREASURER_ONLY
    assert (await reload(bot, cid)).status == Status.APPROVED

    await bot.press(TREASURER, pack("ak", "pay", cid), chat=GROUP)
    assert "发放日期和方式" in bot.telegram.last(TREASURER.id).text
    assert DATE_FORMAT in await replies(bot, TREASURER, "abc")
    assert (await reload(bot, cid)).status == Status.APPROVED
    await bot.say(TREASURER, "今天 转账 随春节慰问发放")

    assert (await reload(bot, cid)).status == Status.PAID
    async with bot.db() as session:
        paid = (
            await session.exec(
                select(AidLedgerEntry).where(
                    AidLedgerEntry.case_id == cid, AidLedgerEntry.kind == "paid"
                )
            )
        ).one()
    assert (paid.paid_on, paid.method, paid.note, paid.amount) == (
        today(bot),
        "转账",
        "随春节慰问发放",
        25000,
    )
    assert bot.telegram.last(MEMBER.id).text == "您的住院慰问金 ¥250 已发放，祝您早日康复。"


# ---- 5. /mine and withdrawing ------------------------------------------------------------


def aid_section(bot: BotHarness) -> Call:
    """The aid part of the member's latest /mine."""
    found = [c for c in bot.telegram.sent("sendMessage", MEMBER.id) if "我的帮扶慰问" in c.text]
    assert found, "no aid section in /mine"
    return found[-1]


async def test_mine_shows_the_case_and_withdrawing_works_only_before_a_decision(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    case = await ask(bot)
    cid = case.id or 0

    await bot.say(MEMBER, "/mine")
    section = aid_section(bot)
    assert case.number in section.text and "待审核" in section.text
    withdraw = section.button_data("撤回")
    assert withdraw == pack("ad", "wd", cid)

    await bot.press(MEMBER, withdraw)
    assert (await reload(bot, cid)).status == Status.WITHDRAWN
    assert f"已撤回 {case.number}" in bot.telegram.last(MEMBER.id).text
    edited = bot.telegram.last(COMMITTEE_GROUP_ID, method="editMessageText")
    assert "已撤回" in edited.text
    assert not [data for _label, data in edited.buttons() if data.startswith("ak:yes")]

    second = await ask(bot, aid_type="childbirth", story="孩子上周出生。")
    await approve_as(bot, COMMITTEE, second, 50000)
    await bot.say(MEMBER, "/mine")
    section = aid_section(bot)
    assert "已批准，待发放 · ¥500" in section.text and "已撤回" in section.text
    assert section.buttons() == []

    await bot.press(MEMBER, pack("ad", "wd", second.id or 0))
    assert ALREADY_DECIDED in alert(bot)
    assert (await reload(bot, second.id or 0)).status == Status.APPROVED


# ---- 6. /aidbooks and /aidrules ----------------------------------------------------------


async def test_aidbooks_lists_paid_cases_by_type_and_what_waits_for_payment(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    hospital = await ask(bot)
    birth = await ask(bot, COLLEAGUE, aid_type="childbirth", story="孩子出生。")
    marriage = await ask(bot, COLLEAGUE, aid_type="marriage", story="下周结婚。")
    for case, amount in ((hospital, 25000), (birth, 50000), (marriage, 50000)):
        await approve_as(bot, COMMITTEE, case, amount)
    await pay(bot, hospital)
    await pay(bot, birth)

    await bot.say(TREASURER, "/aidbooks")
    books = bot.telegram.last(TREASURER.id)
    assert "住院慰问：1 件，¥250" in books.text
    assert "生育慰问：1 件，¥500" in books.text
    assert "结婚慰问" not in books.text
    assert "合计：¥750" in books.text
    assert "待发放 1 件" in books.text
    assert [data for _label, data in books.buttons()] == [pack("ak", "pay", marriage.id or 0)]

    await bot.press(TREASURER, books.button_data(marriage.number))
    await bot.say(TREASURER, "今天 现金")
    assert (await reload(bot, marriage.id or 0)).status == Status.PAID

    await bot.say(MEMBER, "/aidbooks")
    assert bot.telegram.last(MEMBER.id).text == NOT_COMMITTEE
    await bot.say(COMMITTEE, "/aidbooks abc")
    assert BOOKS_USAGE in bot.telegram.last(COMMITTEE.id).text


async def test_aidrules_shows_and_changes_a_standard(bot: BotHarness) -> None:
    await setup_school(bot)
    await add_chair(bot)
    await bot.say(COMMITTEE, "/aidrules")
    shown = bot.telegram.last(COMMITTEE.id).text
    assert "住院慰问：标准 ¥250；每年次数上限：1；每年金额上限：不限" in shown
    assert "生育慰问：标准 ¥500" in shown and "hospital" not in shown

    await bot.say(CHAIR, "/aidrules standard 住院 300 1 -")
    async with bot.db() as session:
        standard = (
            await session.exec(
                select(AidStandard).where(
                    AidStandard.organization_id == bot.org_id, AidStandard.aid_type == "hospital"
                )
            )
        ).one()
    assert (standard.amount, standard.cap_count, standard.cap_total) == (30000, 1, None)
    assert "住院慰问：标准 ¥300" in bot.telegram.last(CHAIR.id).text

    await ask(bot)
    assert "标准 ¥300" in card(bot).text

    await bot.say(MEMBER, "/aidrules standard 住院 1 1 -")
    assert bot.telegram.last(MEMBER.id).text == NOT_COMMITTEE
    await bot.say(COMMITTEE, "/aidrules nonsense")
    assert bot.telegram.last(COMMITTEE.id).text.startswith(RULES_USAGE)


async def test_only_the_chair_sets_the_budget_and_the_card_shows_what_is_left(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    await add_chair(bot)
    year = today(bot).year

    await bot.say(COMMITTEE, "/aidrules budget 5000")
    assert CHAIR_ONLY in bot.telegram.last(COMMITTEE.id).text
    async with bot.db() as session:
        policy = (
            await session.exec(
                select(AidPolicy).where(
                    AidPolicy.organization_id == bot.org_id, AidPolicy.year == year
                )
            )
        ).first()
    assert policy is None or policy.budget is None

    await bot.say(CHAIR, "/aidrules budget 5000")
    assert "年度预算 ¥5,000" in bot.telegram.last(CHAIR.id).text
    async with bot.db() as session:
        policy = (
            await session.exec(
                select(AidPolicy).where(
                    AidPolicy.organization_id == bot.org_id, AidPolicy.year == year
                )
            )
        ).one()
    assert policy.budget == 500000

    case = await ask(bot)
    assert f"{year} 年预算剩余：¥5,000" in card(bot).text
    await approve_as(bot, COMMITTEE, case, 25000)
    edited = bot.telegram.last(COMMITTEE_GROUP_ID, method="editMessageText")
    assert f"{year} 年预算剩余：¥4,750" in edited.text


# ---- 7. /aidnotice -----------------------------------------------------------------------


async def test_the_public_notice_shows_masked_names_and_posts_only_when_allowed(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    await add_chair(bot)
    first = await ask(bot, aid_type="hardship", story="家中两人重病，收入很低。")
    second = await ask(bot, COLLEAGUE, aid_type="hardship", story="丈夫失业，孩子上学。")
    for case in (first, second):
        await approve_as(bot, COMMITTEE, case, 100000)
        assert (await reload(bot, case.id or 0)).status == Status.APPROVED
    year = first.happened_on.year

    await bot.say(COMMITTEE, f"/aidnotice {year}")
    shown = bot.telegram.last(COMMITTEE.id)
    assert "王*　¥1,000" in shown.text and "李*　¥1,000" in shown.text
    assert "共 2 户，合计 ¥2,000" in shown.text
    assert NOTICE_OFF in shown.text and "/aidrules 公示 开" in shown.text
    assert shown.buttons() == []
    assert MEMBER_NAME not in shown.text and COLLEAGUE_NAME not in shown.text

    await bot.press(COMMITTEE, pack("an", "pub", year))
    assert NOTICE_OFF in alert(bot)

    await bot.say(COMMITTEE, "/aidrules notice on")
    assert CHAIR_ONLY in bot.telegram.last(COMMITTEE.id).text
    await bot.say(CHAIR, "/aidrules notice on")
    async with bot.db() as session:
        await bind_disclosure_chat(session, org_id=bot.org_id, chat_id=CHANNEL_ID)

    await bot.say(COMMITTEE, f"/aidnotice {year}")
    publish = bot.telegram.last(COMMITTEE.id).button_data("发布到校务公开栏")
    assert publish == pack("an", "pub", year)
    assert calls_to(bot, CHANNEL_ID) == []
    await bot.press(COMMITTEE, publish)

    posted = calls_to(bot, CHANNEL_ID)
    assert len(posted) == 1
    assert "王*　¥1,000" in posted[0].text and "李*　¥1,000" in posted[0].text
    assert "困难职工补助公示" in posted[0].text
    dumped = str(posted[0].params)
    assert MEMBER_NAME not in dumped and COLLEAGUE_NAME not in dumped
    assert "家中两人重病" not in dumped
    assert "已发布" in alert(bot)

    await bot.press(MEMBER, pack("an", "pub", year))
    assert alert(bot) == NOT_COMMITTEE
    assert len(calls_to(bot, CHANNEL_ID)) == 1


# ---- 8. hardship files -------------------------------------------------------------------


async def hardship_files(bot: BotHarness) -> list[HardshipFile]:
    """Every file, oldest first."""
    async with bot.db() as session:
        return list((await session.exec(select(HardshipFile).order_by(col(HardshipFile.id)))).all())


async def put_on_file(bot: BotHarness, query: str, label: str, reason: str) -> str:
    """The committee puts a family on file through /hardship; the bot's last words."""
    await bot.say(COMMITTEE, "/hardship")
    await bot.press(COMMITTEE, bot.telegram.last(COMMITTEE.id).button_data("建档"))
    await bot.say(COMMITTEE, query)
    await bot.press(COMMITTEE, bot.telegram.last(COMMITTEE.id).button_data(label))
    await bot.press(COMMITTEE, pack("hf", "lvl", "special"))
    await bot.say(COMMITTEE, reason)
    return bot.telegram.last(COMMITTEE.id).text


async def test_hardship_files_are_opened_reviewed_and_closed_by_the_committee(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    reason = "丈夫重病长期卧床，两个孩子上学。"
    await bot.say(COMMITTEE, "/hardship")
    listing = bot.telegram.last(COMMITTEE.id)
    assert HARDSHIP_NONE in listing.text
    assert [data for _label, data in listing.buttons()] == [pack("hf", "new")]

    await bot.press(COMMITTEE, pack("hf", "new"))
    assert COLLEAGUE_NONE in await replies(bot, COMMITTEE, "赵钱孙")
    await bot.say(COMMITTEE, "王芳")
    member = await member_of(bot, MEMBER)
    assert bot.telegram.last(COMMITTEE.id).button_data(MEMBER_NAME) == pack(
        "hf", "who", member.id or 0
    )
    await bot.press(COMMITTEE, pack("hf", "who", member.id or 0))
    await bot.press(COMMITTEE, pack("hf", "lvl", "special"))
    await bot.say(COMMITTEE, reason)

    [record] = await hardship_files(bot)
    number = f"档-{record.id}"
    assert (record.member_id, record.level, record.reason, record.status) == (
        member.id,
        HardshipLevel.SPECIAL,
        reason,
        FileStatus.ACTIVE,
    )
    assert record.review_on == a_year_after(today(bot))
    assert f"已建档 {number}" in bot.telegram.last(COMMITTEE.id).text

    assert ALREADY_ON_FILE in await put_on_file(bot, "王芳", MEMBER_NAME, "再登记一次。")
    assert len(await hardship_files(bot)) == 1

    await bot.say(COMMITTEE, "/hardship")
    listing = bot.telegram.last(COMMITTEE.id)
    assert f"{number} {MEMBER_NAME}（初二年级组） · 特困" in listing.text

    async with bot.db() as session:
        stored = await session.get(HardshipFile, record.id)
        assert stored is not None
        stored.review_on = today(bot) - timedelta(days=10)
        session.add(stored)
        await session.commit()
    await bot.press(COMMITTEE, listing.button_data("复核"))
    [record] = await hardship_files(bot)
    assert record.review_on == a_year_after(today(bot))
    assert f"{number} 已复核" in alert(bot)

    await bot.press(COMMITTEE, listing.button_data("撤档"))
    assert "请写撤档原因" in bot.telegram.last(COMMITTEE.id).text
    assert EMPTY in await replies(bot, COMMITTEE, "\u200b\u200b")
    assert (await hardship_files(bot))[0].status == FileStatus.ACTIVE
    await bot.say(COMMITTEE, "家庭情况好转。")
    [record] = await hardship_files(bot)
    assert (record.status, record.closing_reason) == (FileStatus.CLOSED, "家庭情况好转。")
    assert f"{number} 已撤档" in bot.telegram.last(COMMITTEE.id).text
    await bot.say(COMMITTEE, "/hardship")
    assert HARDSHIP_NONE in bot.telegram.last(COMMITTEE.id).text

    # Closed, the member may be put on file again.
    assert "已建档" in await put_on_file(bot, "王芳", MEMBER_NAME, "又遇困难。")
    assert [r.status for r in await hardship_files(bot)] == [FileStatus.CLOSED, FileStatus.ACTIVE]


async def test_hardship_files_are_for_the_committee_only(bot: BotHarness) -> None:
    await setup_school(bot)
    committee = await actor_of(bot, COMMITTEE)
    member = await member_of(bot, MEMBER)
    async with bot.db() as session:
        record = await open_file(
            session,
            org_id=bot.org_id,
            actor=committee,
            member_id=member.id or 0,
            level=HardshipLevel.GENERAL,
            reason="家中困难。",
            today=today(bot) - timedelta(days=30),
        )
    fid = record.id or 0

    for person in (MEMBER, TREASURER):
        await bot.say(person, "/hardship")
        assert bot.telegram.last(person.id).text == NOT_COMMITTEE
        await bot.press(person, pack("hf", "rev", fid))
        assert alert(bot) == NOT_COMMITTEE
        await bot.press(person, pack("hf", "close", fid))
        await bot.say(person, "撤档。")
        await bot.press(person, pack("hf", "new"))
        await bot.say(person, "王芳")
        assert not [c for c in calls_to(bot, person.id) if "家中困难" in c.text]

    [stored] = await hardship_files(bot)
    assert stored.status == FileStatus.ACTIVE and stored.review_on == record.review_on


async def test_the_hardship_audience_is_the_members_on_file(bot: BotHarness) -> None:
    await setup_school(bot)
    committee = await actor_of(bot, COMMITTEE)
    member, colleague = await member_of(bot, MEMBER), await member_of(bot, COLLEAGUE)
    treasurer = await member_of(bot, TREASURER)
    async with bot.db() as session:
        for who in (member, colleague, treasurer):
            await open_file(
                session,
                org_id=bot.org_id,
                actor=committee,
                member_id=who.id or 0,
                level=HardshipLevel.GENERAL,
                reason="困难。",
                today=today(bot),
            )
    [_, on_colleague, _] = await hardship_files(bot)
    async with bot.db() as session:
        await close_file(
            session,
            org_id=bot.org_id,
            file_id=on_colleague.id or 0,
            actor=committee,
            reason="好转。",
        )

    async with bot.db() as session:
        found = await audience_members(
            session,
            org_id=bot.org_id,
            audience={"type": "hardship"},
            today=today(bot),
            respect_mute=False,
        )
    assert sorted(m.id or 0 for m in found) == sorted([member.id or 0, treasurer.id or 0])


async def test_the_daily_job_reminds_the_group_of_due_reviews_once_without_details(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    committee = await actor_of(bot, COMMITTEE)
    member, colleague = await member_of(bot, MEMBER), await member_of(bot, COLLEAGUE)
    reason = "丈夫重病长期卧床，两个孩子上学。"
    async with bot.db() as session:
        due = await open_file(
            session,
            org_id=bot.org_id,
            actor=committee,
            member_id=member.id or 0,
            level=HardshipLevel.SPECIAL,
            reason=reason,
            today=today(bot) - timedelta(days=400),
        )
        await open_file(
            session,
            org_id=bot.org_id,
            actor=committee,
            member_id=colleague.id or 0,
            level=HardshipLevel.GENERAL,
            reason="刚建档。",
            today=today(bot),
        )
    day = due.review_on  # due today

    async with bot.db() as session:
        before = {row.id for row in (await session.exec(select(OutboxMessage))).all()}
    assert await aid_day(runtime_of(bot), today=day) is True
    async with bot.db() as session:
        rows = [r for r in (await session.exec(select(OutboxMessage))).all() if r.id not in before]
    assert len(rows) == 1
    [row] = rows
    assert row.chat_id == COMMITTEE_GROUP_ID
    assert f"档-{due.id}" in row.text and "王*" in row.text
    assert reason not in row.text and MEMBER_NAME not in row.text
    assert "李*" not in row.text

    assert await aid_day(runtime_of(bot), today=day) is False
    async with bot.db() as session:
        after = (await session.exec(select(OutboxMessage))).all()
    assert len(after) == len(before) + 1
