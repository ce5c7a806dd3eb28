"""What a queued message was for is checked again when it goes out (issue 21's note, "roles
at delivery"): a committee task queued for a member who has since left the committee is
withheld; a committee message queued for a group that is no longer the committee's goes to
the group bound now (withheld if none); a district message to a school chair who handed over
goes to the chair of that day (withheld if none). Asserted on what the fake Telegram received
and on the outbox rows."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import col, select

from bot.callback import pack
from models.base import utcnow
from models.district import add_school, create_district
from models.district_tasks import AnswerKind, create_task
from models.members import MemberRole, Role
from models.organizations import Organization, bind_committee_chat
from models.outbox import (
    Broadcast,
    BroadcastKind,
    OutboxMessage,
    OutboxNeed,
    OutboxStatus,
    claim,
    follow_chat_migration,
)
from scheduler.calendar_jobs import fire
from scheduler.district_task_jobs import queue_task
from tests.support.factories import make_member
from tests.support.harness import CHAIR, COMMITTEE_GROUP_ID, BotHarness
from tests.support.updates import Person, group_chat
from tests.test_broadcast_report import (
    broadcast_to_everyone,
    committee_and_teachers,
    drain_with_reports,
)
from tests.test_calendar import bind_group, deliver, entry, received, runtime_of, sh
from tests.test_calendar_chat import drain
from tests.test_care import COMMITTEE, SECOND
from tests.test_care_greetings import IN_PERSON, retirees, tasks
from tests.test_committee import add_chair

DOUBLE_NINTH = date(2027, 10, 8)
NINE = sh(2027, 10, 8, 9, 0)
OTHER_GROUP = -1007777777777
CHAIR_A = Person(4101, "Qian", "zh-hans")
CHAIR_B = Person(4102, "Sun", "zh-hans")
NEXT_CHAIR_B = Person(4103, "Wu", "zh-hans")


async def take_role(bot: BotHarness, member_id: int, role: Role) -> None:
    """The role taken away in the database: nobody is told, the check at delivery must hold."""
    async with bot.db() as session:
        row = await session.get(MemberRole, (member_id, role))
        assert row is not None
        await session.delete(row)
        await session.commit()


async def rows_of(bot: BotHarness, broadcast: Broadcast) -> dict[int, OutboxMessage]:
    """The broadcast's rows by chat."""
    async with bot.db() as session:
        query = select(OutboxMessage).where(OutboxMessage.broadcast_id == broadcast.id)
        return {row.chat_id: row for row in await session.exec(query)}


async def queued_visits(bot: BotHarness) -> None:
    """The committee group bound, retirees on file, and the visit list queued for the group."""
    await bind_group(bot)
    await retirees(bot)
    await fire(runtime_of(bot), await entry(bot, "double_ninth"), DOUBLE_NINTH, now=NINE)


async def test_a_member_who_left_the_committee_before_delivery_is_not_sent_the_task(
    bot: BotHarness,
) -> None:
    """No committee group: the visits list goes to each committee member privately. One of
    them is taken off the committee after it was queued: the other gets it, they do not."""
    people = await retirees(bot)
    await fire(runtime_of(bot), await entry(bot, "double_ninth"), DOUBLE_NINTH, now=NINE)
    [task] = await tasks(bot)
    queued = await rows_of(bot, task)
    assert {queued[COMMITTEE.id].needs, queued[SECOND.id].needs} == {OutboxNeed.COMMITTEE}

    await take_role(bot, people["chen_w"].id or 0, Role.COMMITTEE)
    await deliver(bot, NINE)

    got = received(bot)
    [text] = got[COMMITTEE.id]
    assert IN_PERSON in text and "陈建国" in text
    assert SECOND.id not in got
    stored = await rows_of(bot, task)
    assert stored[COMMITTEE.id].status == OutboxStatus.SENT
    assert stored[SECOND.id].status == OutboxStatus.WITHHELD


async def test_another_office_on_the_committee_still_receives_it(bot: BotHarness) -> None:
    """A 工会委员 who became vice-chair meanwhile is still on the committee: it goes out."""
    people = await retirees(bot)
    await fire(runtime_of(bot), await entry(bot, "double_ninth"), DOUBLE_NINTH, now=NINE)
    async with bot.db() as session:
        session.add(MemberRole(member_id=people["chen_w"].id or 0, role=Role.VICE_CHAIR))
        await session.commit()
    await take_role(bot, people["chen_w"].id or 0, Role.COMMITTEE)
    await deliver(bot, NINE)
    assert IN_PERSON in received(bot)[SECOND.id][0]


@pytest.mark.parametrize("unbound", [False, True], ids=["changed", "unbound"])
async def test_a_task_for_a_group_that_is_no_longer_the_committees_goes_where_it_meets_now(
    bot: BotHarness, unbound: bool
) -> None:
    """Queued for the bound group; the organization's group changes before it goes out by
    another path than /bindgroup (a restart's COMMITTEE_CHAT_ID; here the database): the
    claim sends it to the group bound now, never to the old one; with no group bound at all
    it is withheld."""
    await queued_visits(bot)
    [task] = await tasks(bot)
    [row] = (await rows_of(bot, task)).values()
    assert (row.chat_id, row.needs) == (COMMITTEE_GROUP_ID, OutboxNeed.COMMITTEE_CHAT)

    async with bot.db() as session:
        org = await session.get(Organization, bot.org_id)
        assert org is not None
        org.committee_chat_id = None if unbound else OTHER_GROUP
        session.add(org)
        await session.commit()
    await deliver(bot, NINE)
    await deliver(bot, NINE)

    got = received(bot)
    assert COMMITTEE_GROUP_ID not in got
    [row] = (await rows_of(bot, task)).values()
    if unbound:
        assert OTHER_GROUP not in got and row.status == OutboxStatus.WITHHELD
    else:
        assert IN_PERSON in got[OTHER_GROUP][0]
        assert (row.chat_id, row.status) == (OTHER_GROUP, OutboxStatus.SENT)


async def test_bindgroup_moves_what_waits_for_the_old_group_to_the_new_one(
    bot: BotHarness,
) -> None:
    """The wrong group was bound; the task is queued for it; the chair sends /bindgroup in the
    right one before it goes out: the task goes to the new group only (what the old group
    already received stays there). The claim finds the new group and re-addresses it, so
    it goes out on the next pass."""
    await add_chair(bot)
    await queued_visits(bot)

    await bot.say(CHAIR, "/bindgroup", chat=group_chat(OTHER_GROUP, "真正的委员会群"))
    assert "本群已设为" in bot.telegram.last(OTHER_GROUP).text
    bot.telegram.clear()
    await deliver(bot, NINE)
    await deliver(bot, NINE)

    got = received(bot)
    [text] = got[OTHER_GROUP]
    assert IN_PERSON in text and "陈建国" in text
    assert COMMITTEE_GROUP_ID not in got
    [task] = await tasks(bot)
    [row] = (await rows_of(bot, task)).values()
    assert (row.chat_id, row.status) == (OTHER_GROUP, OutboxStatus.SENT)


async def test_the_same_task_reaches_the_group_while_it_is_still_bound(bot: BotHarness) -> None:
    """The control: the group kept, the task goes out."""
    await queued_visits(bot)
    await deliver(bot, NINE)
    [text] = received(bot)[COMMITTEE_GROUP_ID]
    assert IN_PERSON in text


@pytest.mark.parametrize("successor", [True, False], ids=["new-chair", "no-chair-yet"])
async def test_a_district_task_goes_to_the_chair_of_the_day_it_goes_out(
    bot: BotHarness, successor: bool
) -> None:
    """The district's task is queued to each school's chair; B's chair hands over before it
    goes out: A's chair gets it, B's former chair does not, B's new chair does (with no chair
    yet, it is withheld, and the reminders reach whoever is chair by then)."""
    async with bot.db() as session:
        union = await create_district(session, name="新城区教育工会")
        b = await add_school(session, district_id=union.id or 0, name="新城第二小学")
    staff = await make_member(
        bot.db, org_id=union.id or 0, person=Person(4100, "Zhao"), roles=[Role.COMMITTEE]
    )
    await make_member(bot.db, org_id=bot.org_id, person=CHAIR_A, roles=[Role.CHAIR])
    chair_b = await make_member(bot.db, org_id=b.id or 0, person=CHAIR_B, roles=[Role.CHAIR])
    today = utcnow().date()
    async with bot.db() as session:
        task, assignments = await create_task(
            session,
            district_id=union.id or 0,
            title="报送月报",
            body="请报送本月工作月报。",
            deadline=today,
            today=today,
            answer_kind=AnswerKind.DONE,
            school_ids=[bot.org_id, b.id or 0],
            created_by=staff.id or 0,
        )
    await queue_task(bot.db, bot.app.state.i18n, task, assignments, not_before=utcnow())
    async with bot.db() as session:
        query = select(OutboxMessage).where(OutboxMessage.chat_id == CHAIR_B.id)
        assert (await session.exec(query)).one().needs == OutboxNeed.CHAIR

    await take_role(bot, chair_b.id or 0, Role.CHAIR)
    if successor:
        await make_member(bot.db, org_id=b.id or 0, person=NEXT_CHAIR_B, roles=[Role.CHAIR])
    await drain(bot)
    await drain(bot)

    got = received(bot)
    assert "报送月报" in got[CHAIR_A.id][0]
    assert CHAIR_B.id not in got
    async with bot.db() as session:
        query = select(OutboxMessage).where(
            col(OutboxMessage.chat_id).in_([CHAIR_B.id, NEXT_CHAIR_B.id])
        )
        row = (await session.exec(query)).one()
    if successor:
        assert "报送月报" in got[NEXT_CHAIR_B.id][0]
        assert (row.chat_id, row.status) == (NEXT_CHAIR_B.id, OutboxStatus.SENT)
    else:
        assert (row.chat_id, row.status) == (CHAIR_B.id, OutboxStatus.WITHHELD)


async def test_a_message_without_a_need_is_sent_as_before(bot: BotHarness) -> None:
    """Greetings to members carry no need: what they were queued for is only membership."""
    people = await retirees(bot)
    sent = await fire(runtime_of(bot), await entry(bot, "double_ninth"), DOUBLE_NINTH, now=NINE)
    assert sent is not None and sent.kind == BroadcastKind.GREETING
    [row] = (await rows_of(bot, sent)).values()
    assert row.needs is None and row.member_id == people["zhou"].id


async def test_a_broadcast_to_representatives_skips_one_who_is_no_longer_one(
    bot: BotHarness,
) -> None:
    """/broadcast to the representatives, through the application; one representative's
    role ends before the outbox sends: the other gets it, they do not."""
    author = Person(4201, "Liu", "zh-hans")
    first, second = Person(4202, "Ma", "zh-hans"), Person(4203, "Hu", "zh-hans")
    await make_member(bot.db, org_id=bot.org_id, person=author, roles=[Role.COMMITTEE])
    await make_member(bot.db, org_id=bot.org_id, person=first, roles=[Role.REPRESENTATIVE])
    leaving = await make_member(
        bot.db, org_id=bot.org_id, person=second, roles=[Role.REPRESENTATIVE]
    )
    await bot.say(author, "/broadcast")
    await bot.press(author, pack("bc", "aud", "representatives"))
    await bot.say(author, "教代会代表请于周五下午参加提案征集座谈。")
    await bot.press(author, pack("bc", "confirm", "yes"))
    assert "2 人" in bot.telegram.last(author.id).text

    await take_role(bot, leaving.id or 0, Role.REPRESENTATIVE)
    await drain(bot)

    got = received(bot)
    assert any("提案征集座谈" in text for text in got[first.id])
    assert not any("提案征集座谈" in text for text in got.get(second.id, []))
    async with bot.db() as session:
        query = select(OutboxMessage).where(OutboxMessage.chat_id == second.id)
        row = (await session.exec(query)).one()
    assert (row.needs, row.status) == (OutboxNeed.REPRESENTATIVE, OutboxStatus.WITHHELD)


async def test_a_broadcasts_figures_go_to_the_group_bound_when_it_finishes(
    bot: BotHarness,
) -> None:
    """A broadcast to 56 is confirmed, then the chair binds another group before it has gone
    out (a broadcast at night waits for the morning): the figures are the committee's, so they
    reach the group bound now, and nothing reaches the old one."""
    await committee_and_teachers(bot, 55)
    await broadcast_to_everyone(bot)
    async with bot.db() as session:
        await bind_committee_chat(session, org_id=bot.org_id, chat_id=OTHER_GROUP)

    await drain_with_reports(bot)

    [report] = bot.telegram.texts(OTHER_GROUP)
    assert report.startswith("📊 群发完成（") and "共 56 人，送达 56" in report
    assert bot.telegram.texts(COMMITTEE_GROUP_ID) == []


async def test_a_message_moved_while_being_read_is_not_sent_to_the_old_address(
    bot: BotHarness,
) -> None:
    """The sender read the row (addressed to the group), then the group became a supergroup
    and the row moved with it: the claim for the old address takes nothing and leaves it
    pending; the next pass sends it to the new id."""
    await queued_visits(bot)
    [task] = await tasks(bot)
    [read] = (await rows_of(bot, task)).values()
    async with bot.db() as session:
        assert await follow_chat_migration(session, old=COMMITTEE_GROUP_ID, new=OTHER_GROUP) == 1
        taken = await claim(session, message_id=read.id or 0, chat_id=read.chat_id)
    assert taken is False
    [row] = (await rows_of(bot, task)).values()
    assert (row.chat_id, row.status) == (OTHER_GROUP, OutboxStatus.PENDING)

    await deliver(bot, NINE)
    assert IN_PERSON in received(bot)[OTHER_GROUP][0] and COMMITTEE_GROUP_ID not in received(bot)
