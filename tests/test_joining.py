"""Joining the union: registration and approval, roster invitation links, owners."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.callback import pack
from models.members import JoinRequest, JoinStatus, Member, MemberRole, MemberStatus, Role
from models.organizations import bind_committee_chat
from tests.support.factories import make_member
from tests.support.harness import CHAIR, COMMITTEE_GROUP_ID, BotHarness
from tests.support.updates import Person, group_chat

TEACHER = Person(2001, "Wang", "en")
COMMITTEE = Person(1002, "刘", "zh-hans")


async def _bind_group(bot: BotHarness) -> None:
    async with bot.db() as session:
        await bind_committee_chat(session, org_id=bot.org_id, chat_id=COMMITTEE_GROUP_ID)


async def register(bot: BotHarness, person: Person, *, language: str = "en") -> None:
    """Walk the whole registration conversation."""
    await bot.say(person, "/start")
    await bot.press(person, pack("reg", "lang", language))
    await bot.say(person, "Wang Fang")
    await bot.say(person, "Grade 8 team")
    await bot.press(person, pack("reg", "gender", "female"))
    await bot.say(person, "1985-03-08")
    await bot.press(person, pack("reg", "retired", "no"))
    await bot.press(person, pack("reg", "confirm", "yes"))


async def test_teacher_registers_and_committee_approves_in_group(bot: BotHarness) -> None:
    await _bind_group(bot)
    await make_member(
        bot.db, org_id=bot.org_id, person=COMMITTEE, name="刘委员", roles=[Role.COMMITTEE]
    )

    await register(bot, TEACHER)

    assert "Thank you, Wang Fang" in bot.telegram.last(TEACHER.id).text
    card = bot.telegram.last(COMMITTEE_GROUP_ID)
    assert "Wang Fang" in card.text
    assert "1985-03-08" in card.text
    async with bot.db() as session:
        member = (
            await session.exec(select(Member).where(Member.telegram_user_id == TEACHER.id))
        ).one()
        request = (await session.exec(select(JoinRequest))).one()
    assert member.status == MemberStatus.PENDING
    assert (member.gender, member.birth_month, member.birth_day, member.language) == (
        "female",
        3,
        8,
        "en",
    )

    await bot.press(
        COMMITTEE,
        card.button_data("批准"),
        chat=group_chat(COMMITTEE_GROUP_ID),
        message_id=1000,
    )

    async with bot.db() as session:
        approved = await session.get(Member, member.id)
        decided = await session.get(JoinRequest, request.id)
    assert approved is not None and approved.status == MemberStatus.ACTIVE
    assert decided is not None and decided.status == JoinStatus.APPROVED
    assert "approved" in bot.telegram.last(TEACHER.id).text
    edited = bot.telegram.last(COMMITTEE_GROUP_ID, method="editMessageText")
    assert "刘委员" in edited.text
    assert edited.buttons() == []


async def test_non_committee_press_is_refused_and_changes_nothing(bot: BotHarness) -> None:
    await _bind_group(bot)
    await register(bot, TEACHER)
    card = bot.telegram.last(COMMITTEE_GROUP_ID)
    bystander = Person(3001, "路人", "zh-hans")
    await make_member(bot.db, org_id=bot.org_id, person=bystander, name="赵老师")

    await bot.press(bystander, card.button_data("批准"), chat=group_chat(COMMITTEE_GROUP_ID))

    answer = bot.telegram.answers()[-1]
    assert answer.params["show_alert"] is True
    assert "委员" in answer.text
    async with bot.db() as session:
        request = (await session.exec(select(JoinRequest))).one()
    assert request.status == JoinStatus.PENDING


async def test_double_press_gives_one_decision(bot: BotHarness) -> None:
    await _bind_group(bot)
    other = Person(1003, "陈", "zh-hans")
    await make_member(bot.db, org_id=bot.org_id, person=COMMITTEE, roles=[Role.COMMITTEE])
    await make_member(
        bot.db, org_id=bot.org_id, person=other, name="陈委员", roles=[Role.COMMITTEE]
    )
    await register(bot, TEACHER)
    card = bot.telegram.last(COMMITTEE_GROUP_ID)

    await bot.press(COMMITTEE, card.button_data("批准"), chat=group_chat(COMMITTEE_GROUP_ID))
    await bot.press(other, card.button_data("拒绝"), chat=group_chat(COMMITTEE_GROUP_ID))

    async with bot.db() as session:
        request = (await session.exec(select(JoinRequest))).one()
    assert request.status == JoinStatus.APPROVED
    assert "已经有人处理" in bot.telegram.answers()[-1].text
    outcome_messages = [
        t for t in bot.telegram.texts(TEACHER.id) if "approved" in t or "not approved" in t
    ]
    assert len(outcome_messages) == 1


async def test_owner_becomes_chair_without_approval(bot: BotHarness) -> None:
    await register(bot, CHAIR, language="zhs")

    async with bot.db() as session:
        member = (
            await session.exec(select(Member).where(Member.telegram_user_id == CHAIR.id))
        ).one()
        roles = (
            await session.exec(select(MemberRole.role).where(MemberRole.member_id == member.id))
        ).all()
        requests = (await session.exec(select(JoinRequest))).all()
    assert member.status == MemberStatus.ACTIVE
    assert list(roles) == [Role.CHAIR]
    assert requests == []
    assert any("/bindgroup" in text for text in bot.telegram.texts(CHAIR.id))


@pytest.mark.parametrize(
    ("code", "expected"),
    [("zhs", "谢谢"), ("zht", "謝謝"), ("en", "Thank you")],
)
async def test_registration_speaks_the_chosen_language(
    bot: BotHarness, code: str, expected: str
) -> None:
    await register(bot, TEACHER, language=code)
    assert expected in bot.telegram.last(TEACHER.id).text


async def test_same_update_delivered_twice_creates_one_request(bot: BotHarness) -> None:
    from tests.support.updates import button

    await bot.say(TEACHER, "/start")
    await bot.press(TEACHER, pack("reg", "lang", "en"))
    await bot.say(TEACHER, "Wang Fang")
    await bot.say(TEACHER, "Grade 8 team")
    await bot.press(TEACHER, pack("reg", "gender", "skip"))
    await bot.press(TEACHER, pack("reg", "birthday", "skip"))
    await bot.press(TEACHER, pack("reg", "retired", "yes"))
    confirm = button(TEACHER, pack("reg", "confirm", "yes"))
    await bot.feed(confirm)
    await bot.feed(confirm)  # redelivered after a crash
    await bot.press(TEACHER, pack("reg", "confirm", "yes"))  # a second tap on the same button

    async with bot.db() as session:
        requests = (await session.exec(select(JoinRequest))).all()
        member = (await session.exec(select(Member))).one()
    assert len(requests) == 1
    assert member.retired is True
    assert member.birth_month is None
