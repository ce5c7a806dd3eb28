"""Greetings for people no message reaches (issue 18): when a calendar greeting fires, the
people of its audience who never joined the bot become one task for the committee, to visit
or call them; and the visits tasks carry the list to visit (names and departments only)."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from models.care_text import roster_lines
from models.hardship import HardshipFile, HardshipLevel
from models.members import Member, MemberStatus, Role
from models.outbox import Broadcast, BroadcastKind
from scheduler.calendar_jobs import fire
from scheduler.task_extras import extra_block
from tests.support.harness import COMMITTEE_GROUP_ID, BotHarness
from tests.test_calendar import bind_group, deliver, entry, outbox, received, runtime_of, sh
from tests.test_care import COMMITTEE, REASON, RETIREE, SECOND, person

DOUBLE_NINTH = date(2027, 10, 8)
IN_PERSON = "请委员上门或电话问候"


async def retirees(bot: BotHarness) -> dict[str, Member]:
    """Two committee members; three retirees, two of them never joined the bot."""
    return {
        "liu": await person(bot, "刘委员", "教务处", who=COMMITTEE, roles=(Role.COMMITTEE,)),
        "chen_w": await person(bot, "陈委员", "总务处", who=SECOND, roles=(Role.COMMITTEE,)),
        "chen": await person(bot, "陈建国", "语文组", retired=True, status=MemberStatus.INVITED),
        "li": await person(bot, "李淑芬", "数学组", retired=True, status=MemberStatus.INVITED),
        "zhou": await person(bot, "周德明", "物理组", who=RETIREE, retired=True),
    }


async def tasks(bot: BotHarness) -> list[Broadcast]:
    """Every task broadcast enqueued so far."""
    async with bot.db() as session:
        rows = (await session.exec(select(Broadcast))).all()
    return [row for row in rows if row.kind == BroadcastKind.TASK]


async def test_a_greeting_to_retirees_tells_the_committee_who_to_greet_in_person(
    bot: BotHarness,
) -> None:
    runtime = runtime_of(bot)
    await bind_group(bot)
    await retirees(bot)
    greeting = await entry(bot, "double_ninth")
    nine = sh(2027, 10, 8, 9, 0)

    sent = await fire(runtime, greeting, DOUBLE_NINTH, now=nine)
    assert sent is not None and sent.total == 1  # 周德明, on Telegram
    [task] = await tasks(bot)
    assert task.key == f"calvisit:{greeting.id}:2027-10-08"
    [row] = await outbox(bot, task)
    assert (row.chat_id, row.quiet) == (COMMITTEE_GROUP_ID, False)
    # Fired again (a restart, a reconciliation): still one task.
    await fire(runtime, greeting, DOUBLE_NINTH, now=nine)
    assert len(await tasks(bot)) == 1

    await deliver(bot, nine)
    got = received(bot)
    [text] = got[COMMITTEE_GROUP_ID]
    assert text.startswith("🏠 重阳节慰问离退休教职工：以下 2 位没有使用工会助手")
    assert IN_PERSON in text
    assert "• 陈建国（退休，语文组）\n• 李淑芬（退休，数学组）" in text
    assert "周德明" not in text
    assert "/care new" in text
    assert list(got[RETIREE.id]) and "周德明" not in got[COMMITTEE_GROUP_ID][0]


async def test_without_a_group_each_committee_member_gets_the_task_privately(
    bot: BotHarness,
) -> None:
    runtime = runtime_of(bot)
    await retirees(bot)
    nine = sh(2027, 10, 8, 9, 0)
    await fire(runtime, await entry(bot, "double_ninth"), DOUBLE_NINTH, now=nine)
    await deliver(bot, nine)
    got = received(bot)
    for member in (COMMITTEE, SECOND):
        [text] = got[member.id]
        assert IN_PERSON in text and "陈建国（退休，语文组）" in text


async def test_a_birthday_of_someone_not_on_telegram_becomes_a_task(bot: BotHarness) -> None:
    runtime = runtime_of(bot)
    await bind_group(bot)
    people = await retirees(bot)
    async with bot.db() as session:
        chen = people["chen"]
        chen.birth_month, chen.birth_day = 3, 14
        session.add(chen)
        await session.commit()
    eight = sh(2027, 3, 14, 8, 0)

    sent = await fire(runtime, await entry(bot, "birthdays"), date(2027, 3, 14), now=eight)
    assert sent is not None and sent.total == 0
    await deliver(bot, eight)
    [text] = received(bot)[COMMITTEE_GROUP_ID]
    assert "以下 1 位没有使用工会助手" in text and "陈建国（退休，语文组）" in text
    assert "李淑芬" not in text

    # Nobody out of reach on another day: no task.
    await fire(runtime, await entry(bot, "birthdays"), date(2027, 3, 15), now=eight)
    assert len(await tasks(bot)) == 1


async def test_families_on_hardship_files_are_masked_in_the_group(bot: BotHarness) -> None:
    runtime = runtime_of(bot)
    await bind_group(bot)
    people = await retirees(bot)
    wang = await person(bot, "王秀兰", "后勤组", status=MemberStatus.INVITED)
    async with bot.db() as session:
        session.add(
            HardshipFile(
                organization_id=bot.org_id,
                member_id=wang.id or 0,
                level=HardshipLevel.GENERAL,
                reason=REASON,
                review_on=date(2028, 1, 1),
                opened_by_member_id=people["liu"].id or 0,
            )
        )
        await session.commit()
    greeting = await entry(bot, "spring_festival")
    greeting.audience = {"type": "hardship"}
    nine = sh(2027, 2, 6, 9, 0)

    await fire(runtime, greeting, date(2027, 2, 6), now=nine)
    await deliver(bot, nine)
    [text] = received(bot)[COMMITTEE_GROUP_ID]
    assert "以下 1 位" in text and "王*" in text
    assert "王秀兰" not in text and REASON not in text


async def test_the_visits_tasks_carry_the_list(bot: BotHarness) -> None:
    runtime = runtime_of(bot)
    await bind_group(bot)
    people = await retirees(bot)
    wang = await person(bot, "王秀兰", "后勤组")
    async with bot.db() as session:
        session.add(
            HardshipFile(
                organization_id=bot.org_id,
                member_id=wang.id or 0,
                level=HardshipLevel.SPECIAL,
                reason=REASON,
                review_on=date(2028, 1, 1),
                opened_by_member_id=people["liu"].id or 0,
            )
        )
        await session.commit()
    nine = sh(2027, 1, 16, 9, 0)

    await fire(runtime, await entry(bot, "spring_visits"), date(2027, 1, 16), now=nine)
    await deliver(bot, nine)
    text = bot.telegram.last(COMMITTEE_GROUP_ID).text
    assert "困难职工档案 1 户：王*" in text
    assert "离退休教职工 3 人：" in text
    assert "• 陈建国（退休，语文组）" in text and "• 周德明（退休，物理组）" in text
    assert "/care new 2027年春节送温暖" in text
    assert "王秀兰" not in text and REASON not in text

    tr = runtime.i18n.get("zh-Hans")
    async with bot.db() as session:
        block = await extra_block(
            session, key="double_ninth_visits", org_id=bot.org_id, occurrence=DOUBLE_NINTH, tr=tr
        )
    assert block.startswith("离退休教职工 3 人：\n• ")
    assert "李淑芬（退休，数学组）" in block and "王*" not in block
    assert "/care new 2027年重阳慰问离退休教职工" in block


async def test_a_greeting_to_the_whole_staff_names_only_the_retirees_out_of_reach(
    bot: BotHarness,
) -> None:
    runtime = runtime_of(bot)
    await bind_group(bot)
    await retirees(bot)
    await person(bot, "赵老师", "英语组", status=MemberStatus.INVITED)  # still at school
    nine = sh(2027, 9, 10, 8, 0)

    await fire(runtime, await entry(bot, "teachers_day"), date(2027, 9, 10), now=nine)
    await deliver(bot, nine)
    [text] = [t for t in received(bot)[COMMITTEE_GROUP_ID] if IN_PERSON in t]
    assert "以下 2 位" in text and "陈建国（退休，语文组）" in text
    assert "赵老师" not in text


async def test_a_long_list_ends_with_how_many_more(bot: BotHarness) -> None:
    people = await retirees(bot)
    tr = runtime_of(bot).i18n.get("zh-Hans")
    text = roster_lines(tr, [people["chen"], people["li"], people["zhou"]], limit=2)
    assert text.splitlines() == [
        "• 陈建国（退休，语文组）",
        "• 李淑芬（退休，数学组）",
        "…另有 1 人未列出：私聊我用 /care new 建名单、一键加入后可查看全部。",
    ]
