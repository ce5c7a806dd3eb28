"""A school with a congress window open, and walks through the proposal conversations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import col, select

from bot.callback import pack
from models.members import Actor, Member, Role, load_actor
from models.organizations import bind_committee_chat
from models.proposals import CongressSession, Department, Filers, Proposal, open_session
from tests.support.factories import make_member
from tests.support.fake_telegram import Call
from tests.support.harness import CHAIR, COMMITTEE_GROUP_ID, BotHarness
from tests.support.updates import Person, group_chat

GROUP = group_chat(COMMITTEE_GROUP_ID)
COMMITTEE = Person(1002, "Liu", "zh-hans")
PROPOSER = Person(3001, "Wang", "zh-hans")
SIGNER_A = Person(3002, "Zhao", "zh-hans")
SIGNER_B = Person(3003, "Sun", "zh-hans")
HANDLER = Person(3004, "Zhou", "zh-hans")
OUTSIDER = Person(3005, "Wu", "zh-hans")  # a member who is not a staff representative


@dataclass
class School:
    """Who is who in the proposal tests."""

    congress: CongressSession
    proposer: Member
    signer_a: Member
    signer_b: Member
    handler: Member
    outsider: Member
    logistics: Department  # 总务处, with HANDLER answering for it
    academic: Department  # 教务处, answered by the committee


def today(bot: BotHarness) -> date:
    """Today in the bot's time zone."""
    return datetime.now(bot.app.state.settings.zone).date()


async def committee_actor(bot: BotHarness, person: Person = COMMITTEE) -> Actor:
    """The Actor behind a person, as the bot would load it."""
    async with bot.db() as session:
        actor = await load_actor(session, org_id=bot.org_id, telegram_user_id=person.id)
    assert actor is not None
    return actor


async def setup_congress(
    bot: BotHarness,
    *,
    min_cosigners: int = 2,
    filers: Filers = Filers.REPRESENTATIVES,
    languages: tuple[str, str, str] = ("zh-Hans", "zh-Hans", "zh-Hans"),
    window: bool = True,
) -> School:
    """A bound committee group, a committee member, three representatives (proposer, two
    signers, in `languages`), a department handler, an ordinary member, two departments, and
    (when `window`) a session whose window is open today."""
    async with bot.db() as session:
        await bind_committee_chat(session, org_id=bot.org_id, chat_id=COMMITTEE_GROUP_ID)
    await make_member(
        bot.db, org_id=bot.org_id, person=COMMITTEE, name="刘委员", roles=[Role.COMMITTEE]
    )
    rep = [Role.REPRESENTATIVE]
    proposer = await make_member(
        bot.db,
        org_id=bot.org_id,
        person=PROPOSER,
        name="王老师",
        department="数学组",
        roles=rep,
        language=languages[0],
    )
    signer_a = await make_member(
        bot.db,
        org_id=bot.org_id,
        person=SIGNER_A,
        name="赵老师",
        department="语文组",
        roles=rep,
        language=languages[1],
    )
    signer_b = await make_member(
        bot.db,
        org_id=bot.org_id,
        person=SIGNER_B,
        name="孙老师",
        department="英语组",
        roles=rep,
        language=languages[2],
    )
    handler = await make_member(
        bot.db, org_id=bot.org_id, person=HANDLER, name="周主任", department="总务处"
    )
    outsider = await make_member(
        bot.db, org_id=bot.org_id, person=OUTSIDER, name="吴老师", department="体育组"
    )
    async with bot.db() as session:
        logistics = Department(
            organization_id=bot.org_id, name="总务处", handler_member_id=handler.id
        )
        academic = Department(organization_id=bot.org_id, name="教务处")
        session.add(logistics)
        session.add(academic)
        await session.commit()
        await session.refresh(logistics)
        await session.refresh(academic)
    actor = await committee_actor(bot)
    day = today(bot)
    opens = day - timedelta(days=1) if window else day + timedelta(days=5)
    async with bot.db() as session:
        congress = await open_session(
            session,
            org_id=bot.org_id,
            actor=actor,
            name="第八届教代会第一次会议",
            opens_on=opens,
            closes_on=opens + timedelta(days=14),
            min_cosigners=min_cosigners,
            filers=filers,
        )
    return School(congress, proposer, signer_a, signer_b, handler, outsider, logistics, academic)


async def write_proposal(
    bot: BotHarness,
    person: Person = PROPOSER,
    *,
    title: str = "建议食堂延长晚餐供应时间",
    reasons: str = "晚自习老师下班晚，食堂六点就关门。",
    measures: str = "晚餐供应延长到七点。",
    category: str = "welfare",
    confirm: bool = True,
) -> None:
    """Walk /propose to the end (continuing past any similar-proposal hint)."""
    await bot.say(person, "/propose")
    await bot.say(person, title)
    last = bot.telegram.last(person.id)
    if any(data == pack("pp", "sim", "mine") for _, data in last.buttons()):
        await bot.press(person, pack("pp", "sim", "mine"))
    await bot.say(person, reasons)
    await bot.say(person, measures)
    await bot.press(person, pack("pp", "cat", category))
    if confirm:
        await bot.press(person, pack("pp", "confirm", "yes"))


async def proposals(bot: BotHarness) -> list[Proposal]:
    """Every stored proposal, oldest first."""
    async with bot.db() as session:
        return list((await session.exec(select(Proposal).order_by(col(Proposal.id)))).all())


async def reload(bot: BotHarness, proposal_id: int | None) -> Proposal:
    """A proposal as the database holds it now."""
    async with bot.db() as session:
        proposal = await session.get(Proposal, proposal_id)
    assert proposal is not None
    return proposal


async def file_and_submit(bot: BotHarness, **fields: Any) -> Proposal:
    """PROPOSER writes a proposal and both signers co-sign it: it is submitted."""
    await write_proposal(bot, **fields)
    proposal = (await proposals(bot))[-1]
    for signer in (SIGNER_A, SIGNER_B):
        await bot.say(signer, f"/cosign {proposal.id}")
        await bot.press(signer, pack("pp", "cosign", proposal.id or 0))
    return await reload(bot, proposal.id)


def card(bot: BotHarness) -> Call:
    """The latest card (or message) in the committee group."""
    return bot.telegram.last(COMMITTEE_GROUP_ID)


def group_texts(bot: BotHarness) -> list[str]:
    """Everything sent to or edited in the committee group."""
    return [
        call.text
        for call in bot.telegram.calls
        if call.chat_id == COMMITTEE_GROUP_ID and call.method in ("sendMessage", "editMessageText")
    ]


__all__ = ["CHAIR"]
