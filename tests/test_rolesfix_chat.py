"""Roles found wrong by the insider review (issue 18, rolesfix), through the real application:
经审 on the committee neither vetoes a correction nor gets a typing prompt, an owner holding 经审
is not made chair, and the pay buttons and /aidcorrect go only to who may pay."""

from __future__ import annotations

from sqlmodel import col, select

from bot.callback import pack
from models.aid import AidLedgerEntry
from models.members import Member, MemberRole, Role
from tests.support.factories import make_member
from tests.support.harness import CHAIR, BotHarness
from tests.support.updates import Person
from tests.test_aid_flows import COMMITTEE, GROUP, TREASURER, alert, ask, setup_school
from tests.test_aid_money import BOTH_ROLES, ledger, paid_case, paid_now
from tests.test_profile_changes import ask_for, change_card, decide, requests, stored
from tests.test_roles_chat import add_chair, roles_in_db
from tests.test_suggestions import AUTHOR, AUTHOR_DEPARTMENT
from tests.test_suggestions import COMMITTEE as SUGGESTION_COMMITTEE
from tests.test_suggestions import setup_school as setup_suggestions

AUDITOR = Person(1005, "Sun", "zh-hans")
NEVER_DECIDES = "经审委员审查经费，不参与审批和发放"


async def committee_auditor(bot: BotHarness) -> Member:
    """AUDITOR as 经审委员 who also sits on the committee."""
    return await make_member(
        bot.db,
        org_id=bot.org_id,
        person=AUDITOR,
        name="孙经审",
        roles=[Role.AUDITOR, Role.COMMITTEE],
    )


async def last_entry(bot: BotHarness) -> AidLedgerEntry:
    """The newest ledger row."""
    async with bot.db() as session:
        entry = (
            await session.exec(select(AidLedgerEntry).order_by(col(AidLedgerEntry.id).desc()))
        ).first()
    assert entry is not None
    return entry


async def test_an_auditor_on_the_committee_cannot_drop_or_agree_a_correction(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    await add_chair(bot)
    await committee_auditor(bot)
    await make_member(
        bot.db, org_id=bot.org_id, person=BOTH_ROLES, name="孙委员", roles=[Role.TREASURER]
    )
    case = await paid_case(bot)
    cid = case.id or 0
    await bot.say(TREASURER, f"/aidcorrect {case.number} +2000 补发手术自付部分")
    asked = await last_entry(bot)
    assert asked.kind == "correction_ask"
    rows = await ledger(bot, cid)

    for verdict in ("no", "ok"):
        await bot.press(AUDITOR, pack("ak", "fix", verdict, cid, asked.id or 0), chat=GROUP)
        assert NEVER_DECIDES in alert(bot)
    assert await ledger(bot, cid) == rows  # nothing dropped, nothing counted
    assert await paid_now(bot, cid) == 25000

    # A committee member who may decide still drops it.
    await bot.press(COMMITTEE, pack("ak", "fix", "no", cid, asked.id or 0), chat=GROUP)
    assert (await ledger(bot, cid))[-1][0] == "correction_drop"


async def test_an_auditor_on_the_committee_is_refused_at_the_button_not_after_typing(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    await committee_auditor(bot)
    case = await ask(bot)
    before = len(bot.telegram.calls)

    for action in ("amt", "ask", "no"):
        await bot.press(AUDITOR, pack("ak", action, case.id or 0), chat=GROUP)
        assert NEVER_DECIDES in alert(bot)
    prompts = [
        call.text
        for call in bot.telegram.calls[before:]
        if call.method == "sendMessage" and call.chat_id == AUDITOR.id
    ]
    assert prompts == []  # no prompt to type an amount, a question or a reason


async def test_an_owner_holding_auditor_is_not_made_chair(bot: BotHarness) -> None:
    owner = await make_member(
        bot.db, org_id=bot.org_id, person=CHAIR, name="张经审", roles=[Role.AUDITOR]
    )

    await bot.say(CHAIR, "/help")
    await bot.say(CHAIR, "/help")

    assert await roles_in_db(bot, owner.id or 0) == {Role.AUDITOR}
    shown = bot.telegram.last(CHAIR.id).text
    assert "/aidbooks" in shown and "/members" not in shown


async def test_an_owner_without_a_conflict_is_still_made_chair(bot: BotHarness) -> None:
    owner = await make_member(
        bot.db, org_id=bot.org_id, person=CHAIR, name="张主席", roles=[Role.TREASURER]
    )

    await bot.say(CHAIR, "/help")

    assert await roles_in_db(bot, owner.id or 0) == {Role.TREASURER, Role.CHAIR}


async def test_pay_buttons_and_aidcorrect_only_for_who_may_pay(bot: BotHarness) -> None:
    await setup_school(bot)
    await add_chair(bot)
    case = await ask(bot)
    await bot.press(COMMITTEE, pack("ak", "yes", case.id or 0, 25000), chat=GROUP)

    await bot.say(COMMITTEE, "/aidbooks")
    assert bot.telegram.last(COMMITTEE.id).buttons() == []  # a committee member does not pay
    await bot.say(COMMITTEE, "/help")
    assert "/aidcorrect" not in bot.telegram.last(COMMITTEE.id).text
    for payer in (TREASURER, CHAIR):
        await bot.say(payer, "/aidbooks")
        assert any("💰" in label for label, _ in bot.telegram.last(payer.id).buttons())
        await bot.say(payer, "/help")
        assert "/aidcorrect" in bot.telegram.last(payer.id).text


async def test_a_group_leaders_new_department_is_shown_and_ends_the_leadership(
    bot: BotHarness,
) -> None:
    author = await setup_suggestions(bot)
    async with bot.db() as session:
        session.add(MemberRole(member_id=author.id or 0, role=Role.GROUP_LEADER))
        await session.commit()

    await ask_for(bot, AUTHOR, "dept", "数学组")
    [request] = await requests(bot)
    card = change_card(bot, request.id or 0)
    assert f"此人是{AUTHOR_DEPARTMENT}工会小组长。批准后不再担任小组长" in card.text
    assert "不会自动成为数学组小组长" in card.text
    assert Role.GROUP_LEADER in await roles_in_db(bot, author.id or 0)  # not while it waits

    await decide(bot, SUGGESTION_COMMITTEE, "approve", request.id or 0)

    assert (await stored(bot, author.id)).department == "数学组"
    assert Role.GROUP_LEADER not in await roles_in_db(bot, author.id or 0)


async def test_a_group_leaders_new_name_keeps_the_leadership(bot: BotHarness) -> None:
    author = await setup_suggestions(bot)
    async with bot.db() as session:
        session.add(MemberRole(member_id=author.id or 0, role=Role.GROUP_LEADER))
        await session.commit()

    await ask_for(bot, AUTHOR, "name", "王芳")
    [request] = await requests(bot)
    assert "工会小组长" not in change_card(bot, request.id or 0).text
    await decide(bot, SUGGESTION_COMMITTEE, "approve", request.id or 0)

    assert Role.GROUP_LEADER in await roles_in_db(bot, author.id or 0)
