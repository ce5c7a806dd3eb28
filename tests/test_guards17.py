"""Issue 17, the review's findings: what the public sees, and state changes guarded in the
database (two presses at once, a press racing the end of a period or the awards).

Through the real application, as the members and the committee use it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from bot.callback import pack
from handlers.ideas.buttons import IdeaDesk, IdeaItem, IdeaLevel, IdeaPage
from models.base import utcnow
from models.ideas import Idea, IdeaYear, add_panelist, score_idea
from models.members import Actor, Member, Role
from models.notices import Notice, NoticeObjection, NoticeStatus
from models.organizations import Organization, bind_disclosure_chat
from models.proposals import Implementation
from tests.support.factories import make_member
from tests.support.harness import BotHarness
from tests.support.proposals import COMMITTEE, GROUP, PROPOSER, reload, setup_congress
from tests.support.updates import Person
from tests.test_ideas import COMMITTEE as IDEA_COMMITTEE
from tests.test_ideas import alert_of, committee_actor, school, seed_idea, year_of
from tests.test_notices import BODY, NAMED, SECOND, TITLE, at, end_period
from tests.test_notices import CHANNEL_ID as NOTICE_CHANNEL
from tests.test_notices import COMMITTEE as NOTICE_COMMITTEE
from tests.test_notices import SEND as NOTICE_SEND
from tests.test_notices import objections as notice_objections
from tests.test_notices import school as notice_school
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


# ---- ideas: averages from three scores on; the prizes fixed once awarded -----------------


async def scored_ideas(bot: BotHarness) -> dict[str, Idea]:
    """A panel of four with the committee member on it: 甲 scored by two (10 and 10), 乙 by
    three (6, 7, 8), 丙 by nobody; the prizes: one 一等奖, one 二等奖."""
    people = await school(bot)
    year = year_of(bot)
    committee = committee_actor(people["committee"])
    third = await make_member(bot.db, org_id=bot.org_id, person=Person(3003, "Bing"), name="评审丙")
    ideas = {
        name: await seed_idea(bot, people["author"], f"建议{name}", token=name * 16)
        for name in ("甲", "乙", "丙")
    }
    panel: list[Member] = [people["committee"], people["panelist"], people["panelist_two"], third]
    given = {"甲": [10, 10], "乙": [6, 7, 8]}
    async with bot.db() as session:
        for member in panel:
            await add_panelist(
                session, org_id=bot.org_id, year=year, actor=committee, member_id=member.id or 0
            )
        for name, marks in given.items():
            for member, mark in zip(panel, marks, strict=False):
                await score_idea(
                    session,
                    org_id=bot.org_id,
                    idea_id=ideas[name].id or 0,
                    actor=Actor(member, frozenset()),
                    score=mark,
                    comment=None,
                )
    await bot.say(IDEA_COMMITTEE, "/ideas")
    await bot.press(IDEA_COMMITTEE, IdeaDesk("prizes", year).pack())
    await bot.say(IDEA_COMMITTEE, "1 1")
    return ideas


async def test_an_average_shows_from_three_scores_and_only_those_ideas_are_ranked(
    bot: BotHarness,
) -> None:
    ideas = await scored_ideas(bot)
    year = year_of(bot)

    # The committee member scored 甲 themselves: its two scores are counted, never averaged.
    await bot.press(IDEA_COMMITTEE, IdeaPage(year, 0).pack())
    listing = bot.telegram.last(IDEA_COMMITTEE.id).text
    assert f"{ideas['乙'].number}「建议乙」 · 平均 7.00 分（3 人评分）" in listing
    assert (
        f"{ideas['甲'].number}「建议甲」 · 评分人数不足（2 人评分，满 3 人后显示平均分）" in listing
    )
    assert f"{ideas['丙'].number}「建议丙」 · 尚无评分" in listing
    assert "10.00" not in listing
    await bot.press(IDEA_COMMITTEE, IdeaItem("open", ideas["甲"].id or 0).pack())
    card = bot.telegram.last(IDEA_COMMITTEE.id).text
    assert "评分人数不足（2 人评分" in card and "平均" not in card.replace("平均分", "")

    # The ranking gives prizes to averaged ideas only, and names the ideas left out.
    await bot.press(IDEA_COMMITTEE, IdeaDesk("rank", year).pack())
    awards = bot.telegram.last(IDEA_COMMITTEE.id).text
    assert f"以下1条建议评分人数不足3人，未参加排名：{ideas['甲'].number}" in awards
    async with bot.db() as session:
        levels = {
            idea.subject: idea.prize_level for idea in (await session.exec(select(Idea))).all()
        }
    assert levels == {"建议甲": None, "建议乙": 1, "建议丙": None}

    # A third score: 甲 is averaged and ranked first.
    async with bot.db() as session:
        third = (await session.exec(select(Member).where(Member.real_name == "评审丙"))).one()
        await score_idea(
            session,
            org_id=bot.org_id,
            idea_id=ideas["甲"].id or 0,
            actor=Actor(third, frozenset()),
            score=4,
            comment=None,
        )
    await bot.press(IDEA_COMMITTEE, IdeaDesk("rank", year).pack())
    awards = bot.telegram.last(IDEA_COMMITTEE.id).text
    assert "未参加排名" not in awards
    assert f"{ideas['甲'].number}「建议甲」 · 平均 8.00 分（3 人评分）" in awards


async def _move(bot: BotHarness, ideas: dict[str, Idea]) -> None:
    await bot.press(IDEA_COMMITTEE, IdeaLevel(ideas["乙"].id or 0, 2).pack())


async def _rank(bot: BotHarness, ideas: dict[str, Idea]) -> None:
    await bot.press(IDEA_COMMITTEE, IdeaDesk("rank", year_of(bot)).pack())


async def _prizes(bot: BotHarness, ideas: dict[str, Idea]) -> None:
    await bot.say(IDEA_COMMITTEE, "2")


@pytest.mark.parametrize("change", [_move, _rank, _prizes], ids=["move", "rank", "prizes"])
async def test_a_prize_change_racing_the_confirmation_is_refused(
    bot: BotHarness, change: Callable[[BotHarness, dict[str, Idea]], Coroutine[Any, Any, None]]
) -> None:
    ideas = await scored_ideas(bot)
    year = year_of(bot)
    await bot.press(IDEA_COMMITTEE, IdeaDesk("rank", year).pack())
    await bot.press(IDEA_COMMITTEE, IdeaLevel(ideas["乙"].id or 0, 1).pack())
    if change is _prizes:
        await bot.press(IDEA_COMMITTEE, IdeaDesk("prizes", year).pack())
    async with bot.db() as session:
        before = (await session.exec(select(Idea.subject, Idea.prize_level))).all()

    # Another committee member's 确认颁奖, written but not yet committed, when the change comes.
    async with bot.db() as session:
        await session.exec(
            update(IdeaYear)
            .where(col(IdeaYear.year) == year, col(IdeaYear.awarded_at).is_(None))
            .values(awarded_at=utcnow())
        )
        pressed = asyncio.create_task(change(bot, ideas))
        await asyncio.sleep(0.5)  # the change has read the year as not awarded, and waits
        await session.commit()
    await pressed

    async with bot.db() as session:
        after = (await session.exec(select(Idea.subject, Idea.prize_level))).all()
        row = (await session.exec(select(IdeaYear))).one()
    assert sorted(after) == sorted(before)
    assert row.counts == [1, 1]
    said = bot.telegram.last(IDEA_COMMITTEE.id).text
    if change is not _prizes:
        said = await alert_of(bot)
    assert f"{year}年度的奖项已经评定，不能再修改。" in said


# ---- notices: who may object; the period typed; the number; objections and the end ------


async def notice_to(bot: BotHarness, audience: str, *, period: str | None = None) -> Notice:
    """/notice to `audience` (the default period, or a typed one); the newest stored notice."""
    await bot.say(NOTICE_COMMITTEE, "/notice")
    await bot.say(NOTICE_COMMITTEE, TITLE)
    await bot.say(NOTICE_COMMITTEE, BODY)
    if period is None:
        await bot.press(NOTICE_COMMITTEE, pack("nt", "per", "default"))
    else:
        await bot.say(NOTICE_COMMITTEE, period)
    await bot.press(NOTICE_COMMITTEE, pack("nt", "aud", audience))
    await bot.press(NOTICE_COMMITTEE, pack("nt", "ok", "yes"))
    async with bot.db() as session:
        newest = (await session.exec(select(Notice).order_by(col(Notice.id).desc()))).first()
    assert newest is not None
    return newest


async def without_channel(bot: BotHarness) -> None:
    async with bot.db() as session:
        await session.exec(
            update(Organization)
            .where(col(Organization.id) == bot.org_id)
            .values(disclosure_chat_id=None)
        )
        await session.commit()


async def test_a_notice_sent_only_to_an_audience_takes_objections_from_it_only(
    bot: BotHarness,
) -> None:
    await notice_school(bot)
    await without_channel(bot)
    notice = await notice_to(bot, "committee")
    assert notice.channel_chat_id is None
    refusal = f"公示{notice.number}「{TITLE}」只发给了相关的教职工，您不在其中"

    # A teacher outside the audience, by a forged button, the link or the form's own button.
    await bot.press(NAMED, pack("nto", "ask", notice.id or 0))
    assert refusal in bot.telegram.last(NAMED.id).text
    await bot.say(NAMED, f"/start objection-{notice.id}")
    assert refusal in bot.telegram.last(NAMED.id).text
    await bot.press(NAMED, pack("nto", "go", "named", notice.id or 0))
    assert refusal in await alert_of(bot)
    await bot.say(NAMED, "我有异议。")
    await bot.press(NAMED, pack("nto", "file", notice.id or 0))
    assert refusal in await alert_of(bot)
    assert await notice_objections(bot) == []

    # The committee, whom it was sent to, may object.
    await bot.press(SECOND, pack("nto", "ask", notice.id or 0))
    assert "署名还是匿名？" in bot.telegram.last(SECOND.id).text

    # Posted to the channel, a notice is public to its readers: any active member may object.
    async with bot.db() as session:
        await bind_disclosure_chat(session, org_id=bot.org_id, chat_id=NOTICE_CHANNEL)
    posted = await notice_to(bot, "committee")
    assert posted.channel_chat_id == NOTICE_CHANNEL
    await bot.press(NAMED, pack("nto", "ask", posted.id or 0))
    assert "署名还是匿名？" in bot.telegram.last(NAMED.id).text


async def test_typed_days_are_calendar_days_and_working_days_are_working_days(
    bot: BotHarness,
) -> None:
    await notice_school(bot)  # Thursday 3 December 2026
    calendar = await notice_to(bot, "everyone", period="7天")
    assert (calendar.starts_on, calendar.ends_on) == (date(2026, 12, 4), date(2026, 12, 10))
    working = await notice_to(bot, "everyone", period="7个工作日")
    assert (working.starts_on, working.ends_on) == (date(2026, 12, 4), date(2026, 12, 14))
    plain = await notice_to(bot, "everyone", period="7")
    assert plain.ends_on == date(2026, 12, 14)


async def test_a_notice_posted_on_new_years_eve_is_numbered_in_that_year(
    bot: BotHarness,
) -> None:
    await notice_school(bot)
    at(bot, datetime(2026, 12, 31, 2, 0, tzinfo=UTC))
    notice = await notice_to(bot, "everyone")
    assert notice.starts_on == date(2027, 1, 4)  # 元旦, then the weekend
    assert notice.number == "公示-2026-001"
    assert notice.number in bot.telegram.last(NOTICE_CHANNEL).text


async def test_an_objection_racing_the_end_of_the_period_is_refused(bot: BotHarness) -> None:
    await notice_school(bot)
    notice = await notice_to(bot, "everyone")
    await bot.press(NAMED, pack("nto", "ask", notice.id or 0))
    await bot.press(NAMED, pack("nto", "go", "named", notice.id or 0))
    await bot.say(NAMED, "推荐程序不规范。")

    # The end being written by the nightly job, not yet committed, when Send is pressed.
    async with bot.db() as session:
        await session.exec(
            update(Notice)
            .where(col(Notice.id) == notice.id)
            .values(status=NoticeStatus.CLEAR, ended_at=utcnow())
        )
        pressed = asyncio.create_task(bot.press(NAMED, NOTICE_SEND))
        await asyncio.sleep(0.5)
        await session.commit()
    await pressed

    assert await notice_objections(bot) == []
    assert "不再受理异议" in await alert_of(bot)


async def test_the_end_racing_an_objection_counts_it(bot: BotHarness) -> None:
    people = await notice_school(bot)
    notice = await notice_to(bot, "everyone")

    # An objection being stored (as `raise_objection` does), not yet committed, at the end.
    async with bot.db() as session:
        await session.exec(
            update(Notice).where(col(Notice.id) == notice.id).values(status=Notice.status)
        )
        session.add(
            NoticeObjection(
                notice_id=notice.id or 0, seq=1, body="有异议。", member_id=people["named"].id
            )
        )
        await session.flush()
        ending = asyncio.create_task(end_period(bot, date(2026, 12, 11)))
        await asyncio.sleep(0.5)
        await session.commit()
    assert await ending == 1

    async with bot.db() as session:
        ended = await session.get(Notice, notice.id)
    assert ended is not None and ended.status == NoticeStatus.PENDING
