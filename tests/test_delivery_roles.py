"""Who may still receive something is decided at delivery, not when it began: the notifier's
committee check, the desk-card copies that may still be edited or replied under, and the forms
that end with a role (or a membership) that was taken away.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.callback import pack
from bot.i18n import Translator
from bot.notifier import Notifier
from bot.settings import Settings
from models.aid import AidCase, LedgerKind
from models.desk import DeskCard, cards_for, deliverable_cards, record_card
from models.members import Member, MemberRole, MemberStatus, Role
from models.organizations import Organization
from models.proposals import Proposal, ProposalStatus
from models.suggestions import EntryKind, Suggestion, SuggestionStatus
from tests.support.factories import make_member
from tests.support.fake_telegram import Failure
from tests.support.forms import (
    AUTHOR,
    COMMITTEE,
    GROUP,
    NOT_UNDERSTOOD,
    REQUESTER,
    SECOND,
    SEND,
    WRITING,
    entries_of,
    file_aid,
    file_suggestion,
    ledger_of,
    reached,
    running_app,
    setup_school,
    to_aid_description,
    to_suggestion_body,
)
from tests.support.harness import CHAIR, COMMITTEE_GROUP_ID, BotHarness
from tests.support.proposals import file_and_submit, setup_congress
from tests.support.updates import Person

OLD_GROUP_ID = -1005555555555
STORY = "我母亲上周脑梗住院，在市一医院神经内科。"
ROLE_LOST = "您的角色“工会委员”已取消。"  # roles.you_lost
NOT_REGISTERED = "您还不是工会助手的会员"  # member.not_registered


def hello(tr: Translator) -> str:
    """A committee notice in the reader's language."""
    return tr("desk.not_committee")


async def remove_role(bot: BotHarness, member: Member, role: Role = Role.COMMITTEE) -> None:
    """The role taken away in the database (no one is told: the check at delivery must hold)."""
    async with bot.db() as session:
        row = await session.get(MemberRole, (member.id, role))
        assert row is not None
        await session.delete(row)
        await session.commit()


async def set_status(bot: BotHarness, member: Member, status: MemberStatus) -> None:
    """A member's status changed in the database."""
    async with bot.db() as session:
        stored = await session.get(Member, member.id)
        assert stored is not None
        stored.status = status
        session.add(stored)
        await session.commit()


async def chair_revokes(bot: BotHarness, member: Member, role: Role = Role.COMMITTEE) -> None:
    """The chair presses the role's button on the member's card."""
    await bot.press(CHAIR, pack("mem", "revoke", member.id or 0, role))


# ---- the notifier ---------------------------------------------------------------------------


def notifier(bot: BotHarness) -> Notifier:
    """The application's notifier."""
    assert bot.app.state.notifier is not None
    return bot.app.state.notifier


async def test_committee_only_tells_only_who_is_on_the_committee_now(bot: BotHarness) -> None:
    school = await setup_school(bot)
    await remove_role(bot, school.second)
    ids = [m.id or 0 for m in (school.committee, school.second, school.chair, school.author)]

    told = await notifier(bot).tell(ids, hello, committee_only=True)

    assert told == 2
    assert {call.chat_id for call in bot.telegram.sent()} == {COMMITTEE.id, CHAIR.id}
    assert bot.telegram.texts(COMMITTEE.id) == ["只有工会委员可以处理这一项。"]


async def test_without_committee_only_every_active_member_is_told_in_their_language(
    bot: BotHarness,
) -> None:
    school = await setup_school(bot)
    await remove_role(bot, school.second)
    english = Person(2003, "Anna", "en")
    anna = await make_member(bot.db, org_id=bot.org_id, person=english, name="Anna", language="en")
    ids = [school.second.id or 0, anna.id or 0, school.second.id or 0]

    told = await notifier(bot).tell(ids, hello)

    assert told == 2  # the repeated id is told once
    assert bot.telegram.texts(SECOND.id) == ["只有工会委员可以处理这一项。"]
    assert bot.telegram.texts(english.id) == [bot.app.state.i18n.get("en")("desk.not_committee")]
    assert bot.telegram.texts(english.id) != bot.telegram.texts(SECOND.id)


@pytest.mark.parametrize("status", [MemberStatus.INACTIVE, MemberStatus.PENDING])
async def test_a_member_who_is_not_active_is_not_told(
    bot: BotHarness, status: MemberStatus
) -> None:
    school = await setup_school(bot)
    await set_status(bot, school.committee, status)

    told = await notifier(bot).tell([school.committee.id or 0], hello)
    told_committee = await notifier(bot).tell(
        [school.committee.id or 0], hello, committee_only=True
    )

    assert (told, told_committee) == (0, 0)
    assert bot.telegram.sent() == []


async def test_a_member_who_blocked_the_bot_is_counted_as_not_told(bot: BotHarness) -> None:
    school = await setup_school(bot)
    bot.telegram.failures.append(Failure("sendMessage", 403, "Forbidden: bot was blocked"))

    told = await notifier(bot).tell(
        [school.committee.id or 0, school.second.id or 0], hello, committee_only=True
    )

    assert told == 1
    assert [call.chat_id for call in bot.telegram.sent()] == [COMMITTEE.id, SECOND.id]


# ---- desk-card copies -----------------------------------------------------------------------


async def record_copies(bot: BotHarness, chats: list[int], *, item_id: int = 7) -> None:
    """Copies of one suggestion card, posted earlier in these chats."""
    async with bot.db() as session:
        for offset, chat_id in enumerate(chats):
            await record_card(
                session,
                org_id=bot.org_id,
                kind="sug",
                item_id=item_id,
                chat_id=chat_id,
                message_id=500 + offset,
            )


async def test_deliverable_cards_keeps_the_bound_group_and_the_committee_of_today(
    bot: BotHarness,
) -> None:
    school = await setup_school(bot)
    inactive = Person(1009, "Zhou", "zh-hans")
    await make_member(
        bot.db,
        org_id=bot.org_id,
        person=inactive,
        name="周委员",
        roles=[Role.COMMITTEE],
        status=MemberStatus.INACTIVE,
    )
    chats = [COMMITTEE_GROUP_ID, OLD_GROUP_ID, COMMITTEE.id, SECOND.id, CHAIR.id, inactive.id]
    await record_copies(bot, chats)
    await record_copies(bot, [SECOND.id], item_id=8)  # another item's copy is not touched
    await remove_role(bot, school.second)

    async with bot.db() as session:
        kept = await deliverable_cards(session, org_id=bot.org_id, kind="sug", item_id=7)
    async with bot.db() as session:
        left = await cards_for(session, kind="sug", item_id=7)
        other = await cards_for(session, kind="sug", item_id=8)

    assert sorted(card.chat_id for card in kept) == sorted(
        [COMMITTEE_GROUP_ID, COMMITTEE.id, CHAIR.id]
    )
    assert sorted(card.chat_id for card in left) == sorted(card.chat_id for card in kept)
    assert [card.chat_id for card in other] == [SECOND.id]


async def test_deliverable_cards_drops_the_group_once_it_is_no_longer_bound(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    await record_copies(bot, [COMMITTEE_GROUP_ID, COMMITTEE.id])
    async with bot.db() as session:
        org = await session.get(Organization, bot.org_id)
        assert org is not None
        org.committee_chat_id = OLD_GROUP_ID
        session.add(org)
        await session.commit()

    async with bot.db() as session:
        kept = await deliverable_cards(session, org_id=bot.org_id, kind="sug", item_id=7)

    assert [card.chat_id for card in kept] == [COMMITTEE.id]


async def test_without_copies_there_is_nothing_to_deliver(bot: BotHarness) -> None:
    await setup_school(bot)
    async with bot.db() as session:
        assert await deliverable_cards(session, org_id=bot.org_id, kind="aid", item_id=1) == []


async def test_private_card_copies_of_a_former_member_are_neither_edited_nor_replied_under(
    bot: BotHarness,
) -> None:
    """No committee group: every committee member got the card privately."""
    school = await setup_school(bot)
    async with bot.db() as session:
        org = await session.get(Organization, bot.org_id)
        assert org is not None
        org.committee_chat_id = None
        session.add(org)
        await session.commit()
    item = await file_suggestion(bot, AUTHOR, "操场的灯坏了，晚上很黑。", anonymous=True)
    assert {card.chat_id for card in await copies(bot, item)} == {
        COMMITTEE.id,
        SECOND.id,
        CHAIR.id,
    }
    await chair_revokes(bot, school.second)
    assert ROLE_LOST in bot.telegram.last(SECOND.id).text
    bot.telegram.clear()

    await bot.press(COMMITTEE, pack("sug", "reply", item.id or 0))
    await bot.write(COMMITTEE, "已报修，本周修好。")
    await bot.press(AUTHOR, pack("sga", "more", item.id or 0))
    await bot.write(AUTHOR, "三楼楼梯的灯也坏了。")

    assert {call.chat_id for call in bot.telegram.sent("editMessageText")} == {
        COMMITTEE.id,
        CHAIR.id,
    }
    assert reached(bot, "三楼楼梯的灯也坏了") == {AUTHOR.id, COMMITTEE.id, CHAIR.id}
    assert bot.telegram.calls and all(call.chat_id != SECOND.id for call in bot.telegram.calls)
    assert SECOND.id not in {card.chat_id for card in await copies(bot, item)}


async def copies(bot: BotHarness, item: Suggestion) -> list[DeskCard]:
    """Every recorded copy of an item's card."""
    async with bot.db() as session:
        return list(await cards_for(session, kind="sug", item_id=item.id or 0))


async def test_the_answer_goes_to_the_asker_only_while_they_are_on_the_committee(
    bot: BotHarness,
) -> None:
    school = await setup_school(bot)
    case = await file_aid(bot, REQUESTER, STORY)
    await bot.press(SECOND, pack("ak", "ask", case.id or 0), chat=GROUP)
    await bot.write(SECOND, "请补充住院证明。")
    await bot.press(REQUESTER, pack("ad", "info", case.id or 0))
    await bot.write(REQUESTER, "住院证明明天补拍。")
    assert reached(bot, "住院证明明天补拍") == {REQUESTER.id, SECOND.id}

    await bot.press(COMMITTEE, pack("ak", "ask", case.id or 0), chat=GROUP)
    await bot.write(COMMITTEE, "请说明住院天数。")
    await chair_revokes(bot, school.committee)
    await bot.press(REQUESTER, pack("ad", "info", case.id or 0))
    await bot.write(REQUESTER, "一共住院十二天。")

    assert reached(bot, "一共住院十二天") == {REQUESTER.id}  # the last asker left the committee
    ledger = await ledger_of(bot, case)
    assert [e.kind for e in ledger][-1] == LedgerKind.INFO_GIVEN
    assert ledger[-1].note == "一共住院十二天。"


# ---- forms that end with the role -----------------------------------------------------------


PROMPTS = ["sug:reply", "ak:ask", "pd:nofile"]


async def desk_prompt(bot: BotHarness, which: str, person: Person) -> tuple[str, int]:
    """Set the desk up for `which` and press it in the group as `person`; returns the button
    and the id it carries."""
    if which == "pd:nofile":
        proposal = await file_and_submit(bot)
        assert proposal.status == ProposalStatus.SUBMITTED
        item_id = proposal.id or 0
    elif which == "ak:ask":
        item_id = (await file_aid(bot, REQUESTER, STORY)).id or 0
    else:
        item_id = (await file_suggestion(bot, AUTHOR, "食堂太挤。", anonymous=True)).id or 0
    feature, action = which.split(":")
    await bot.press(person, pack(feature, action, item_id), chat=GROUP)
    assert WRITING in bot.telegram.last(person.id).text
    return which, item_id


async def prompt_school(bot: BotHarness, which: str) -> None:
    """The school `which` needs: the congress school for proposals (its committee member is
    COMMITTEE too), plus a chair."""
    if which != "pd:nofile":
        await setup_school(bot)
        return
    await setup_congress(bot)
    await make_member(bot.db, org_id=bot.org_id, person=CHAIR, name="张主席", roles=[Role.CHAIR])


async def nothing_left_the_desk(bot: BotHarness, which: str, item_id: int, text: str) -> None:
    """No reply, question or reason was stored, and the text reached nobody else."""
    assert reached(bot, text) <= {COMMITTEE.id}
    async with bot.db() as session:
        if which == "sug:reply":
            item = await session.get(Suggestion, item_id)
            assert item is not None and item.status == SuggestionStatus.OPEN
        elif which == "ak:ask":
            case = await session.get(AidCase, item_id)
            assert case is not None
        else:
            proposal = await session.get(Proposal, item_id)
            assert proposal is not None and proposal.status == ProposalStatus.SUBMITTED
            assert proposal.decision_reason is None
    if which == "sug:reply":
        async with bot.db() as session:
            item = await session.get(Suggestion, item_id)
        assert item is not None and await entries_of(bot, item) == []
    if which == "ak:ask":
        async with bot.db() as session:
            case = await session.get(AidCase, item_id)
        assert case is not None
        assert LedgerKind.INFO_ASKED not in [e.kind for e in await ledger_of(bot, case)]


async def committee_member(bot: BotHarness) -> Member:
    """COMMITTEE's row."""
    async with bot.db() as session:
        return (
            await session.exec(select(Member).where(Member.telegram_user_id == COMMITTEE.id))
        ).one()


@pytest.mark.parametrize("which", PROMPTS)
async def test_removing_the_role_ends_the_pending_prompt(bot: BotHarness, which: str) -> None:
    await prompt_school(bot, which)
    _, item_id = await desk_prompt(bot, which, COMMITTEE)
    bot.telegram.clear()

    await chair_revokes(bot, await committee_member(bot))
    assert ROLE_LOST in bot.telegram.last(COMMITTEE.id).text
    # They are told the prompt ended with the role, once, naming it.
    ended = [t for t in bot.telegram.texts(COMMITTEE.id) if "委员职务已取消" in t]
    assert len(ended) == 1 and "没有发出任何内容" in ended[0]
    text = "这件事我来处理：理由是材料不全。"
    await bot.say(COMMITTEE, text)

    await nothing_left_the_desk(bot, which, item_id, text)
    assert NOT_UNDERSTOOD in bot.telegram.texts(COMMITTEE.id)[-2]


@pytest.mark.parametrize("which", PROMPTS)
async def test_removing_the_role_ends_a_text_shown_back_before_send(
    bot: BotHarness, which: str
) -> None:
    await prompt_school(bot, which)
    _, item_id = await desk_prompt(bot, which, COMMITTEE)
    text = "这件事我来处理：理由是材料不全。"
    await bot.say(COMMITTEE, text)
    assert text in bot.telegram.last(COMMITTEE.id).text
    bot.telegram.clear()

    await chair_revokes(bot, await committee_member(bot))
    await bot.press(COMMITTEE, SEND)

    await nothing_left_the_desk(bot, which, item_id, text)
    assert bot.telegram.answers()[-1].params.get("show_alert") is True


async def test_removing_another_role_keeps_the_prompt(bot: BotHarness) -> None:
    school = await setup_school(bot)
    async with bot.db() as session:
        session.add(MemberRole(member_id=school.committee.id or 0, role=Role.REPRESENTATIVE))
        await session.commit()
    item = await file_suggestion(bot, AUTHOR, "食堂太挤。", anonymous=True)
    await bot.press(COMMITTEE, pack("sug", "reply", item.id or 0), chat=GROUP)

    await chair_revokes(bot, school.committee, Role.REPRESENTATIVE)
    await bot.write(COMMITTEE, "已安排错峰就餐。")

    assert reached(bot, "已安排错峰就餐") == {COMMITTEE.id, AUTHOR.id}
    assert [e.kind for e in await entries_of(bot, item)] == [EntryKind.REPLY]


async def test_removing_the_role_keeps_the_persons_own_member_form(bot: BotHarness) -> None:
    school = await setup_school(bot)
    await to_suggestion_body(bot, SECOND)

    await chair_revokes(bot, school.second)
    await bot.say(SECOND, "教师休息室的饮水机坏了。")
    await bot.press(SECOND, pack("sgf", "photos", "done"))
    await bot.press(SECOND, pack("sgf", "anon", "named"))
    await bot.press(SECOND, pack("sgf", "confirm", "yes"))

    async with bot.db() as session:
        items = (await session.exec(select(Suggestion))).all()
    assert [item.body for item in items] == ["教师休息室的饮水机坏了。"]


async def test_a_deactivated_members_form_ends_and_stays_ended_after_reactivation(
    bot: BotHarness,
) -> None:
    school = await setup_school(bot)
    await to_aid_description(bot, AUTHOR)

    await bot.press(COMMITTEE, pack("mem", "deact", school.author.id or 0))
    await bot.say(AUTHOR, STORY)
    # A deactivated member is told their membership is inactive, not that they never joined.
    assert "会籍已转出" in bot.telegram.last(AUTHOR.id).text
    await bot.press(COMMITTEE, pack("mem", "react", school.author.id or 0))
    await bot.say(AUTHOR, STORY)

    assert reached(bot, STORY) == set()
    async with bot.db() as session:
        assert (await session.exec(select(AidCase))).all() == []
    texts = bot.telegram.texts(AUTHOR.id)
    assert NOT_UNDERSTOOD in texts[-2]


async def test_a_deactivated_committee_members_prompt_ends(bot: BotHarness) -> None:
    school = await setup_school(bot)
    item = await file_suggestion(bot, AUTHOR, "食堂太挤。", anonymous=True)
    await bot.press(SECOND, pack("sug", "reply", item.id or 0), chat=GROUP)
    await bot.say(SECOND, "已安排错峰就餐。")

    await bot.press(COMMITTEE, pack("mem", "deact", school.second.id or 0))
    await bot.press(SECOND, SEND)

    assert reached(bot, "已安排错峰就餐") == {SECOND.id}
    assert await entries_of(bot, item) == []


async def test_a_prompt_ended_with_the_role_stays_ended_after_a_restart(
    settings: Settings,
) -> None:
    async with running_app(settings) as bot:
        school = await setup_school(bot)
        item = await file_suggestion(bot, AUTHOR, "食堂太挤。", anonymous=True)
        await bot.press(SECOND, pack("sug", "reply", item.id or 0), chat=GROUP)
        await bot.say(SECOND, "已安排错峰就餐。")  # shown back, not sent
        await chair_revokes(bot, school.second)
    async with running_app(settings) as bot:
        await bot.press(SECOND, SEND)
        await bot.say(SECOND, "已安排错峰就餐。")

        assert reached(bot, "已安排错峰就餐") == set()
        assert bot.telegram.texts(AUTHOR.id) == []
        assert await entries_of(bot, item) == []
        assert NOT_UNDERSTOOD in bot.telegram.texts(SECOND.id)[-2]
