"""Issue 17, the review's findings: what the public sees, and state changes guarded in the
database (two presses at once, a press racing the end of a period or the awards).

Through the real application, as the members and the committee use it.
"""

from __future__ import annotations

import asyncio

from bot.callback import pack
from models.members import Role
from models.organizations import bind_disclosure_chat
from models.proposals import Implementation
from tests.support.factories import make_member
from tests.support.harness import BotHarness
from tests.support.proposals import COMMITTEE, GROUP, PROPOSER, reload, setup_congress
from tests.support.updates import Person
from tests.test_proposal_implementation import (
    CHANNEL,
    answer_in_chat,
    assigned,
    changes,
    since,
    told,
)

SECOND_COMMITTEE = Person(1009, "Chen", "zh-hans")


# ---- proposals: the handling results, 落实情况 changed once --------------------------------


async def test_the_public_handling_results_carry_the_status_without_the_reason(
    bot: BotHarness,
) -> None:
    school = await setup_congress(bot)
    pid = await assigned(bot, school, "新建室内体育馆")
    reason = "涉及王某某老师的家庭困难，暂不宜公开。"
    await answer_in_chat(bot, pid, "因条件限制暂不能落实", "已向上级反映。", reason)
    async with bot.db() as session:
        await bind_disclosure_chat(session, org_id=bot.org_id, chat_id=CHANNEL)

    await bot.press(COMMITTEE, pack("cg", "pub", school.congress.id or 0, "ask"))
    question = bot.telegram.last(COMMITTEE.id)
    line = "• 提案第1号「新建室内体育馆」 · 主办：教务处 · 因条件限制暂不能落实"
    assert line in question.text.split("\n")
    assert reason not in question.text
    await bot.press(COMMITTEE, question.button_data("确定公示"))
    posted = "\n".join(call.text for call in bot.telegram.sent(chat_id=CHANNEL))
    assert line in posted.split("\n")
    assert reason not in posted and "王某某" not in posted
    # The proposer still reads the reason with the answer.
    assert any(reason in text for text in bot.telegram.texts(PROPOSER.id))


async def test_two_committee_members_changing_the_status_at_once_store_and_tell_once(
    bot: BotHarness,
) -> None:
    school = await setup_congress(bot)
    await make_member(
        bot.db, org_id=bot.org_id, person=SECOND_COMMITTEE, name="陈委员", roles=[Role.COMMITTEE]
    )
    pid = await assigned(bot, school, "增设教职工体检项目")
    await answer_in_chat(bot, pid, "列入计划", "已列入下学期计划。")
    for person in (COMMITTEE, SECOND_COMMITTEE):
        await bot.press(person, pack("pd", "impl", pid), chat=GROUP)
    start = since(bot)

    await asyncio.gather(
        bot.press(COMMITTEE, pack("pd", "ist", pid, "done")),
        bot.press(SECOND_COMMITTEE, pack("pd", "ist", pid, "done")),
    )

    assert (await reload(bot, pid)).implementation == Implementation.DONE
    assert [change.status for change in await changes(bot, pid)] == [
        Implementation.PLANNED,
        Implementation.DONE,
    ]
    assert len(told(bot, PROPOSER, start)) == 1
    replies = told(bot, COMMITTEE, start) + told(bot, SECOND_COMMITTEE, start)
    assert sum("落实情况没有变化" in text for text in replies) == 1
