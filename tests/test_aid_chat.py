"""Hardship and care aid through the real application: asking, the masked card, the private
review, the approval rules, payment, and what reaches the group."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlmodel import col, select

from bot.callback import pack
from models.aid import AidCase, AidEvidence, AidLedgerEntry, CaseStatus
from models.members import Role
from models.organizations import bind_committee_chat
from tests.support.factories import make_member
from tests.support.harness import CHAIR, COMMITTEE_GROUP_ID, BotHarness
from tests.support.updates import Person, group_chat, text

GROUP = group_chat(COMMITTEE_GROUP_ID)
MEMBER = Person(4001, "Wang", "zh-hans")
COLLEAGUE = Person(4002, "Li", "zh-hans")
COMMITTEE = Person(1002, "Liu", "zh-hans")
SECOND = Person(1003, "Chen", "zh-hans")
TREASURER = Person(1004, "Qian", "zh-hans")
STORY = "我父亲上周脑梗住院，目前在市一医院神经内科。"


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


async def setup_school(bot: BotHarness) -> None:
    """A bound group, two committee members, a treasurer and two teachers."""
    async with bot.db() as session:
        await bind_committee_chat(session, org_id=bot.org_id, chat_id=COMMITTEE_GROUP_ID)
    await make_member(
        bot.db, org_id=bot.org_id, person=COMMITTEE, name="刘委员", roles=[Role.COMMITTEE]
    )
    await make_member(
        bot.db, org_id=bot.org_id, person=SECOND, name="陈委员", roles=[Role.COMMITTEE]
    )
    await make_member(
        bot.db, org_id=bot.org_id, person=TREASURER, name="钱会计", roles=[Role.TREASURER]
    )
    await make_member(
        bot.db, org_id=bot.org_id, person=MEMBER, name="王芳芳", department="初二年级组"
    )
    await make_member(bot.db, org_id=bot.org_id, person=COLLEAGUE, name="李明", department="数学组")


async def ask(bot: BotHarness, *, amount: str | None = None, files: int = 1) -> AidCase:
    """MEMBER asks for a hospital visit with `files` photos."""
    await bot.say(MEMBER, "/aid")
    await bot.press(MEMBER, pack("ad", "who", "me"))
    await bot.press(MEMBER, pack("ad", "type", "hospital"))
    await bot.say(MEMBER, STORY)
    await bot.say(MEMBER, "昨天")
    if amount is None:
        await bot.press(MEMBER, pack("ad", "amt", "std"))
    else:
        await bot.say(MEMBER, amount)
    for index in range(files):
        await bot.feed(photo(MEMBER, f"AgACevidence{index}"))
    await bot.press(MEMBER, pack("ad", "ev", "done"))
    await bot.press(MEMBER, pack("ad", "ok", "yes"))
    async with bot.db() as session:
        return (await session.exec(select(AidCase).order_by(col(AidCase.id).desc()))).first()  # type: ignore[return-value]


def group_texts(bot: BotHarness) -> list[str]:
    """Everything the group got, captions included."""
    return [str(call.params) for call in bot.telegram.calls if call.chat_id == COMMITTEE_GROUP_ID]


async def test_ask_review_approve_and_pay(bot: BotHarness) -> None:
    await setup_school(bot)

    case = await ask(bot)

    assert case.status == CaseStatus.OPEN and case.number.startswith("助-")
    assert case.number in bot.telegram.last(MEMBER.id).text
    async with bot.db() as session:
        files = (await session.exec(select(AidEvidence))).all()
    assert [f.file_id for f in files] == ["AgACevidence0"]
    card = bot.telegram.last(COMMITTEE_GROUP_ID)
    assert "王*" in card.text and "住院慰问" in card.text and "250" in card.text
    for sent in group_texts(bot):
        assert "王芳芳" not in sent and "脑梗" not in sent and "AgACevidence" not in sent

    await bot.press(COMMITTEE, card.button_data("私下查看"), chat=GROUP)
    private = [c for c in bot.telegram.calls if c.chat_id == COMMITTEE.id]
    assert any(STORY in c.text for c in private)
    assert any(
        c.method == "sendPhoto" and c.params.get("photo") == "AgACevidence0" for c in private
    )

    await bot.press(COMMITTEE, card.button_data("批准"), chat=GROUP)
    async with bot.db() as session:
        stored = await session.get(AidCase, case.id)
    assert stored is not None and stored.status == CaseStatus.APPROVED
    assert stored.approved_amount == 25000
    assert "已批准：¥250" in bot.telegram.last(MEMBER.id).text

    await bot.press(TREASURER, pack("ak", "pay", case.id or 0), chat=GROUP)
    await bot.say(TREASURER, "今天 现金")
    async with bot.db() as session:
        stored = await session.get(AidCase, case.id)
        ledger = (await session.exec(select(AidLedgerEntry).order_by(col(AidLedgerEntry.id)))).all()
    assert stored is not None and stored.status == CaseStatus.PAID
    assert [e.kind for e in ledger] == ["requested", "approval", "approved", "paid"]
    assert ledger[-1].method == "现金" and ledger[-1].amount == 25000
    assert bot.telegram.last(MEMBER.id).text == "您的住院慰问金 ¥250 已发放，祝您早日康复。"
    for sent in group_texts(bot):
        assert "王芳芳" not in sent and "脑梗" not in sent


async def test_above_the_limit_needs_two_or_the_chair(bot: BotHarness) -> None:
    await setup_school(bot)
    case = await ask(bot, amount="1500")
    cid = case.id or 0

    await bot.press(COMMITTEE, pack("ak", "yes", cid, 150000), chat=GROUP)
    async with bot.db() as session:
        assert (await session.get(AidCase, cid)).status == CaseStatus.OPEN  # type: ignore[union-attr]
    await bot.press(COMMITTEE, pack("ak", "yes", cid, 150000), chat=GROUP)
    assert "只算一次" in bot.telegram.answers()[-1].params.get("text", "")
    await bot.press(SECOND, pack("ak", "yes", cid, 150000), chat=GROUP)
    async with bot.db() as session:
        assert (await session.get(AidCase, cid)).status == CaseStatus.APPROVED  # type: ignore[union-attr]


async def test_ask_for_information_and_the_answer_comes_back(bot: BotHarness) -> None:
    await setup_school(bot)
    case = await ask(bot)
    cid = case.id or 0

    await bot.press(COMMITTEE, pack("ak", "ask", cid), chat=GROUP)
    await bot.write(COMMITTEE, "请补充住院证明。")
    told = bot.telegram.last(MEMBER.id)
    assert "请补充住院证明" in told.text
    await bot.press(MEMBER, told.button_data("回复"))
    await bot.write(MEMBER, "明天补拍。")
    async with bot.db() as session:
        assert (await session.get(AidCase, cid)).status == CaseStatus.OPEN  # type: ignore[union-attr]
    assert "明天补拍" in bot.telegram.last(COMMITTEE.id).text
    for sent in group_texts(bot):
        assert "明天补拍" not in sent and "请补充住院证明" not in sent

    await bot.press(COMMITTEE, pack("ak", "no", cid), chat=GROUP)
    await bot.write(COMMITTEE, "本年度已慰问过。")
    async with bot.db() as session:
        assert (await session.get(AidCase, cid)).status == CaseStatus.REJECTED  # type: ignore[union-attr]
    assert "本年度已慰问过" in bot.telegram.last(MEMBER.id).text


async def test_a_colleague_reports_and_the_subject_is_not_messaged(bot: BotHarness) -> None:
    await setup_school(bot)
    await bot.say(COLLEAGUE, "/aid")
    await bot.press(COLLEAGUE, pack("ad", "who", "other"))
    await bot.say(COLLEAGUE, "王芳")
    await bot.press(COLLEAGUE, bot.telegram.last(COLLEAGUE.id).button_data("王芳芳"))
    await bot.press(COLLEAGUE, pack("ad", "type", "hospital"))
    await bot.say(COLLEAGUE, "王老师阑尾炎住院了。")
    await bot.say(COLLEAGUE, "今天")
    await bot.press(COLLEAGUE, pack("ad", "ev", "done"))
    await bot.press(COLLEAGUE, pack("ad", "ok", "yes"))

    async with bot.db() as session:
        case = (await session.exec(select(AidCase))).one()
    assert case.reported and case.subject_member_id != case.requester_member_id
    assert all(call.chat_id != MEMBER.id for call in bot.telegram.calls)
    assert "同事报告" in bot.telegram.last(COMMITTEE_GROUP_ID).text


async def test_the_subject_cannot_decide_their_own_case(bot: BotHarness) -> None:
    await setup_school(bot)
    await make_member(bot.db, org_id=bot.org_id, person=CHAIR, name="张主席", roles=[Role.CHAIR])
    await bot.say(CHAIR, "/aid")
    await bot.press(CHAIR, pack("ad", "who", "me"))
    await bot.press(CHAIR, pack("ad", "type", "childbirth"))
    await bot.say(CHAIR, "孩子出生。")
    await bot.say(CHAIR, "今天")
    await bot.press(CHAIR, pack("ad", "amt", "std"))
    await bot.press(CHAIR, pack("ad", "ev", "done"))
    await bot.press(CHAIR, pack("ad", "ok", "yes"))
    async with bot.db() as session:
        case = (await session.exec(select(AidCase))).one()

    await bot.press(CHAIR, pack("ak", "yes", case.id or 0, 50000), chat=GROUP)

    assert "与您本人有关" in bot.telegram.answers()[-1].params.get("text", "")
    async with bot.db() as session:
        assert (await session.get(AidCase, case.id)).status == CaseStatus.OPEN  # type: ignore[union-attr]


async def test_two_approvals_pressed_at_once_approve_once(bot: BotHarness) -> None:
    """Above the limit, two committee members press at the same moment: both approvals are
    counted, the case is approved once, and the requester is told once."""
    await setup_school(bot)
    case = await ask(bot, amount="1500")
    cid = case.id or 0

    await asyncio.gather(
        bot.press(COMMITTEE, pack("ak", "yes", cid, 150000), chat=GROUP),
        bot.press(SECOND, pack("ak", "yes", cid, 150000), chat=GROUP),
    )

    async with bot.db() as session:
        stored = await session.get(AidCase, cid)
        kinds = [
            entry.kind
            for entry in (
                await session.exec(select(AidLedgerEntry).where(AidLedgerEntry.case_id == cid))
            ).all()
        ]
    assert stored is not None and stored.status == CaseStatus.APPROVED
    assert kinds.count("approval") == 2 and kinds.count("approved") == 1
    told = [c for c in bot.telegram.sent(chat_id=MEMBER.id) if "已批准" in c.text]
    assert len(told) == 1


async def test_one_person_pressing_twice_at_once_counts_once(bot: BotHarness) -> None:
    await setup_school(bot)
    case = await ask(bot, amount="1500")
    cid = case.id or 0

    await asyncio.gather(
        bot.press(COMMITTEE, pack("ak", "yes", cid, 150000), chat=GROUP),
        bot.press(COMMITTEE, pack("ak", "yes", cid, 150000), chat=GROUP),
    )

    async with bot.db() as session:
        stored = await session.get(AidCase, cid)
        approvals = (
            await session.exec(select(AidLedgerEntry).where(AidLedgerEntry.kind == "approval"))
        ).all()
    assert stored is not None and stored.status == CaseStatus.OPEN
    assert len(approvals) == 1


async def test_a_correction_is_a_new_ledger_row(bot: BotHarness) -> None:
    await setup_school(bot)
    case = await ask(bot)
    cid = case.id or 0
    await bot.press(COMMITTEE, pack("ak", "yes", cid, 25000), chat=GROUP)
    await bot.press(TREASURER, pack("ak", "pay", cid), chat=GROUP)
    await bot.say(TREASURER, "今天 现金")

    await bot.say(MEMBER, f"/aidcorrect {case.number} -50 多发")
    assert "只有工会财务（经费管理）或主席" in bot.telegram.last(MEMBER.id).text
    await bot.say(TREASURER, f"/aidcorrect {case.number} abc 多发")
    assert "金额要写成正数" in bot.telegram.last(TREASURER.id).text
    await bot.say(TREASURER, f"/aidcorrect {case.number} -50 多发了50元已退回")

    assert "-50" in bot.telegram.last(TREASURER.id).text
    async with bot.db() as session:
        ledger = (
            await session.exec(
                select(AidLedgerEntry)
                .where(AidLedgerEntry.case_id == cid)
                .order_by(col(AidLedgerEntry.id))
            )
        ).all()
    assert [(e.kind, e.amount) for e in ledger[-2:]] == [("paid", 25000), ("correction", -5000)]
