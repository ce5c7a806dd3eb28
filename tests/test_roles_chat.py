"""The roles of a real union through the real application: the chair grants 副主席, 女工委主任,
经审委员 and 工会小组长; 财务 and 经审 are never one person (even when granted at the same
moment); 经审 reads the books but never approves or pays; book readers see /aidbooks."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import select

from bot.callback import pack
from models.aid import AidCase, CaseStatus
from models.members import Member, MemberRole, Role, grant_role, load_actor
from tests.support.factories import make_member
from tests.support.harness import CHAIR, BotHarness
from tests.support.updates import Person
from tests.test_aid_chat import COMMITTEE, GROUP, MEMBER, TREASURER, ask, setup_school

AUDITOR = Person(1005, "Sun", "zh-hans")
SECOND_CHAIR = Person(1006, "Zhou", "zh-hans")
CONFLICT = "经审委员审查经费，不能由主席、副主席或财务兼任"


async def add_chair(bot: BotHarness) -> Member:
    """The harness's CHAIR as an active chair."""
    return await make_member(
        bot.db,
        org_id=bot.org_id,
        person=CHAIR,
        name="张主席",
        department="校办",
        roles=[Role.CHAIR],
    )


async def roles_in_db(bot: BotHarness, member_id: int) -> set[str]:
    """Roles stored for a member."""
    async with bot.db() as session:
        rows = await session.exec(select(MemberRole.role).where(MemberRole.member_id == member_id))
        return set(rows.all())


def grant(member: Member, role: Role) -> str:
    """The + button on a member card."""
    return pack("mem", "grant", member.id or 0, role.value)


def last_alert(bot: BotHarness) -> str:
    """The text of the last answered button press."""
    return str(bot.telegram.answers()[-1].params.get("text", ""))


# ---- granting ----------------------------------------------------------------------------------


async def test_the_chair_grants_and_revokes_the_new_roles(bot: BotHarness) -> None:
    await add_chair(bot)
    teacher = await make_member(bot.db, org_id=bot.org_id, person=MEMBER, name="王芳")

    await bot.press(CHAIR, pack("mem", "view", teacher.id or 0))
    card = bot.telegram.last(CHAIR.id)
    labels = [label for label, _ in card.buttons()]
    for name in ("+ 工会副主席", "+ 女工委主任", "+ 经审委员", "+ 工会小组长"):
        assert name in labels

    for role in (Role.VICE_CHAIR, Role.WOMEN_CHAIR, Role.GROUP_LEADER):
        await bot.press(CHAIR, grant(teacher, role))
    assert await roles_in_db(bot, teacher.id or 0) == {"vice_chair", "women_chair", "group_leader"}
    told = bot.telegram.texts(MEMBER.id)
    assert any("您已被任命为：工会副主席" in text for text in told)
    assert any("您已被任命为：女工委主任" in text for text in told)
    edited = bot.telegram.last(CHAIR.id, method="editMessageText")
    assert "语文组工会小组长" in edited.text  # a group leader's card names the group

    # 副主席 is on the committee: the committee's commands are theirs now.
    await bot.say(MEMBER, "/help")
    assert "/members" in bot.telegram.last(MEMBER.id).text

    await bot.press(CHAIR, pack("mem", "revoke", teacher.id or 0, "vice_chair"))
    assert await roles_in_db(bot, teacher.id or 0) == {"women_chair", "group_leader"}
    assert any("工会副主席" in t and "取消" in t for t in bot.telegram.texts(MEMBER.id)[-1:])


async def test_only_the_chair_grants_roles(bot: BotHarness) -> None:
    await add_chair(bot)
    await make_member(
        bot.db, org_id=bot.org_id, person=COMMITTEE, name="刘委员", roles=[Role.VICE_CHAIR]
    )
    teacher = await make_member(bot.db, org_id=bot.org_id, person=MEMBER, name="王芳")

    await bot.press(COMMITTEE, grant(teacher, Role.AUDITOR))

    assert bot.telegram.answers()[-1].params["show_alert"] is True
    assert await roles_in_db(bot, teacher.id or 0) == set()


@pytest.mark.parametrize(
    ("held", "wanted", "held_name", "wanted_name"),
    [
        (Role.TREASURER, Role.AUDITOR, "工会财务", "经审委员"),
        (Role.AUDITOR, Role.TREASURER, "经审委员", "工会财务"),
        (Role.AUDITOR, Role.CHAIR, "经审委员", "工会主席"),
        (Role.VICE_CHAIR, Role.AUDITOR, "工会副主席", "经审委员"),
    ],
)
async def test_treasurer_and_auditor_are_never_one_person(
    bot: BotHarness, held: Role, wanted: Role, held_name: str, wanted_name: str
) -> None:
    await add_chair(bot)
    person = await make_member(bot.db, org_id=bot.org_id, person=MEMBER, name="王芳", roles=[held])

    await bot.press(CHAIR, grant(person, wanted))

    alert = bot.telegram.answers()[-1]
    assert alert.params["show_alert"] is True
    assert last_alert(bot).startswith(f"此人已是{held_name}")
    assert wanted_name in last_alert(bot) and CONFLICT in last_alert(bot)
    assert len(last_alert(bot)) <= 200  # Telegram's limit for an alert
    assert await roles_in_db(bot, person.id or 0) == {held.value}
    assert not any("您已被任命" in text for text in bot.telegram.texts(MEMBER.id))


async def test_simultaneous_grants_of_treasurer_and_auditor_give_one(bot: BotHarness) -> None:
    """Two chairs press at the same moment, one 财务 and the other 经审, for five people:
    each person ends with exactly one of the two, and the other press is refused."""
    await add_chair(bot)
    await make_member(
        bot.db, org_id=bot.org_id, person=SECOND_CHAIR, name="周主席", roles=[Role.CHAIR]
    )
    people = [
        await make_member(bot.db, org_id=bot.org_id, name=f"老师{index}") for index in range(5)
    ]

    for person in people:
        await asyncio.gather(
            bot.press(CHAIR, grant(person, Role.TREASURER)),
            bot.press(SECOND_CHAIR, grant(person, Role.AUDITOR)),
        )

    for person in people:
        assert len(await roles_in_db(bot, person.id or 0)) == 1
    refused = [a for a in bot.telegram.answers() if CONFLICT in str(a.params.get("text", ""))]
    assert len(refused) == len(people)


async def test_the_guard_is_in_the_model_too(bot: BotHarness) -> None:
    """Straight at the model, two sessions at once: one grant stands, the other is refused
    with a RoleConflictError (the handler turns it into the sentence)."""
    chair_member = await add_chair(bot)
    person = await make_member(bot.db, org_id=bot.org_id, name="王芳")
    async with bot.db() as session:
        chair = await load_actor(session, org_id=bot.org_id, telegram_user_id=CHAIR.id)
    assert chair is not None and chair.id == chair_member.id

    async def give(role: Role) -> str:
        async with bot.db() as session:
            try:
                await grant_role(
                    session, org_id=bot.org_id, actor=chair, member_id=person.id or 0, role=role
                )
            except Exception as error:
                return type(error).__name__
            return "granted"

    outcomes = await asyncio.gather(give(Role.TREASURER), give(Role.AUDITOR))

    assert sorted(outcomes) == ["RoleConflictError", "granted"]
    assert len(await roles_in_db(bot, person.id or 0)) == 1


# ---- 经审 reads the books and never decides or pays -------------------------------------------


async def add_auditor(bot: BotHarness, *roles: Role) -> Member:
    """AUDITOR as 经审委员 (with `roles` besides)."""
    return await make_member(
        bot.db, org_id=bot.org_id, person=AUDITOR, name="孙经审", roles=[Role.AUDITOR, *roles]
    )


async def test_auditor_sees_aidbooks_and_nothing_else_of_the_committee(bot: BotHarness) -> None:
    await setup_school(bot)
    await add_auditor(bot)

    await bot.say(AUDITOR, "/help")
    shown = bot.telegram.last(AUDITOR.id).text
    assert "/aidbooks" in shown
    for command in ("/aidrules", "/members", "/suggestions", "/broadcast", "/groups", "/hardship"):
        assert command not in shown
    await bot.say(AUDITOR, "/menu")
    labels = [label for label, _ in bot.telegram.last(AUDITOR.id).buttons()]
    assert any("台账" in label for label in labels)
    assert not any("会员管理" in label for label in labels)

    await bot.say(AUDITOR, "/aidrules")
    assert "只有工会委员" in bot.telegram.last(AUDITOR.id).text
    await bot.say(AUDITOR, "/members")
    assert "只有工会委员" in bot.telegram.last(AUDITOR.id).text


async def test_treasurer_sees_aidbooks_in_help(bot: BotHarness) -> None:
    await setup_school(bot)

    await bot.say(TREASURER, "/help")

    shown = bot.telegram.last(TREASURER.id).text
    assert "/aidbooks" in shown and "/members" not in shown


async def test_auditor_reads_the_books_but_cannot_pay(bot: BotHarness) -> None:
    await setup_school(bot)
    await add_auditor(bot)
    case = await ask(bot)
    await bot.press(COMMITTEE, pack("ak", "yes", case.id or 0, 25000), chat=GROUP)

    await bot.say(AUDITOR, "/aidbooks")
    books = bot.telegram.last(AUDITOR.id)
    assert "住院慰问" in books.text or "台账" in books.text
    assert books.buttons() == []  # no 💰 pay buttons for 经审
    await bot.say(TREASURER, "/aidbooks")
    assert any("💰" in label for label, _ in bot.telegram.last(TREASURER.id).buttons())

    await bot.press(AUDITOR, pack("ak", "pay", case.id or 0), chat=GROUP)
    assert bot.telegram.answers()[-1].params["show_alert"] is True
    await bot.say(AUDITOR, f"/aidcorrect {case.number} -50 多发")
    assert "只有工会财务" in bot.telegram.last(AUDITOR.id).text
    async with bot.db() as session:
        stored = await session.get(AidCase, case.id)
    assert stored is not None and stored.status == CaseStatus.APPROVED


async def test_an_auditor_on_the_committee_cannot_approve(bot: BotHarness) -> None:
    await setup_school(bot)
    await add_auditor(bot, Role.COMMITTEE)
    case = await ask(bot)

    await bot.press(AUDITOR, pack("ak", "yes", case.id or 0, 25000), chat=GROUP)

    assert "经审委员审查经费，不参与审批和发放" in last_alert(bot)
    async with bot.db() as session:
        stored = await session.get(AidCase, case.id)
    assert stored is not None and stored.status == CaseStatus.OPEN


async def test_a_member_without_a_books_role_is_refused_aidbooks(bot: BotHarness) -> None:
    await setup_school(bot)

    await bot.say(MEMBER, "/aidbooks")

    assert "只有工会委员" in bot.telegram.last(MEMBER.id).text
    await bot.say(MEMBER, "/help")
    assert "/aidbooks" not in bot.telegram.last(MEMBER.id).text


# ---- delivery ----------------------------------------------------------------------------------


async def test_committee_copies_reach_vice_and_women_chairs_only_while_they_hold_it(
    bot: BotHarness,
) -> None:
    await add_chair(bot)
    vice = await make_member(
        bot.db, org_id=bot.org_id, person=COMMITTEE, name="刘副主席", roles=[Role.VICE_CHAIR]
    )
    auditor = await add_auditor(bot)
    notifier = bot.app.state.notifier
    assert notifier is not None

    await notifier.tell(
        [vice.id or 0, auditor.id or 0], lambda tr: "委员会内部消息", committee_only=True
    )
    assert "委员会内部消息" in bot.telegram.texts(COMMITTEE.id)
    assert "委员会内部消息" not in bot.telegram.texts(AUDITOR.id)

    await bot.press(CHAIR, pack("mem", "revoke", vice.id or 0, "vice_chair"))
    await notifier.tell([vice.id or 0], lambda tr: "第二条内部消息", committee_only=True)
    assert "第二条内部消息" not in bot.telegram.texts(COMMITTEE.id)
