"""Rationalization proposals (合理化建议) through the real application: filing with ✏️ 修改某项,
the review panel's private scores, averages for the committee, prize levels and awards, 采纳,
authors told, the winners published, the year's figures and the spreadsheet."""

from __future__ import annotations

import io
import re
from datetime import datetime
from typing import Any

from openpyxl import load_workbook
from sqlmodel import select
from telegram.request import RequestData

from bot.callback import pack
from handlers.common import EditField
from handlers.ideas.buttons import (
    IdeaConfirm,
    IdeaDesk,
    IdeaItem,
    IdeaLevel,
    IdeaPage,
    PanelPick,
    ScoreOpen,
    ScorePick,
    ScoreStep,
)
from handlers.menu.buttons import MenuButton
from models.ideas import Idea, IdeaPanelist, IdeaScore, IdeaYear, add_idea, add_panelist, score_idea
from models.members import Actor, Member, Role
from models.notices import NoticeKind
from models.organizations import bind_committee_chat, bind_disclosure_chat
from tests.support.factories import make_member
from tests.support.harness import COMMITTEE_GROUP_ID, BotHarness
from tests.support.notices import check_published_notice, object_through_the_link
from tests.support.updates import Person
from tests.test_calendar_chat import drain

COMMITTEE = Person(1002, "Liu", "zh-hans")
AUTHOR = Person(2001, "Wang", "zh-hans")
PANELIST = Person(3001, "Jia", "zh-hans")
PANELIST_TWO = Person(3002, "Yi", "zh-hans")
OUTSIDER = Person(3009, "Ding", "zh-hans")
CHANNEL_ID = -1009876543210
NOT_COMMITTEE = "只有工会委员可以处理这一项。"
AVERAGE = re.compile(r"平均 \d")  # an average shown, not the words about averages


def year_of(bot: BotHarness) -> int:
    return datetime.now(bot.app.state.settings.zone).year


async def school(bot: BotHarness) -> dict[str, Member]:
    """A committee member, an author, two future panelists and a member off the panel."""
    return {
        "committee": await make_member(
            bot.db, org_id=bot.org_id, person=COMMITTEE, name="刘委员", roles=[Role.COMMITTEE]
        ),
        "author": await make_member(
            bot.db, org_id=bot.org_id, person=AUTHOR, name="王芳芳", department="初二年级组"
        ),
        "panelist": await make_member(
            bot.db, org_id=bot.org_id, person=PANELIST, name="评审甲", department="教务处"
        ),
        "panelist_two": await make_member(
            bot.db, org_id=bot.org_id, person=PANELIST_TWO, name="评审乙", department="总务处"
        ),
        "outsider": await make_member(bot.db, org_id=bot.org_id, person=OUTSIDER, name="丁老师"),
    }


def committee_actor(member: Member) -> Actor:
    return Actor(member, frozenset({Role.COMMITTEE}))


async def seed_idea(bot: BotHarness, author: Member, subject: str, *, token: str) -> Idea:
    """An idea stored through the model (quick), numbered like a filed one."""
    async with bot.db() as session:
        idea = await add_idea(
            session,
            org_id=bot.org_id,
            author_member_id=author.id or 0,
            subject=subject,
            problem="现状说明。",
            proposal="具体建议。",
            benefit="预期效益。",
            client_token=token,
            year=year_of(bot),
        )
        await session.commit()
        return idea


async def alert_of(bot: BotHarness) -> str:
    return str(bot.telegram.answers()[-1].params.get("text", ""))


async def scores(bot: BotHarness) -> list[IdeaScore]:
    async with bot.db() as session:
        return list((await session.exec(select(IdeaScore))).all())


# ---- filing ------------------------------------------------------------------------------


async def test_idea_is_filed_with_a_field_edited_and_numbered(bot: BotHarness) -> None:
    people = await school(bot)

    await bot.press(AUTHOR, MenuButton("idea").pack())  # the main-menu entry starts it
    assert "【主题】" in bot.telegram.last(AUTHOR.id).text
    await bot.say(AUTHOR, "食堂错峰就餐")
    assert "【现状/问题】" in bot.telegram.last(AUTHOR.id).text
    await bot.say(AUTHOR, "午餐时排队要二十分钟。")
    await bot.say(AUTHOR, "各年级分三批就餐。")
    await bot.say(AUTHOR, "每人每天节省十五分钟。")
    preview = bot.telegram.last(AUTHOR.id)
    assert "请确认您的合理化建议" in preview.text and "各年级分三批就餐" in preview.text
    assert [label for label, _ in preview.buttons()] == ["✅ 确认提交", "✏️ 修改某项", "取消"]

    await bot.press(AUTHOR, EditField("idea", "menu").pack())
    menu = bot.telegram.last(AUTHOR.id)
    assert [label for label, _ in menu.buttons()] == [
        "主题",
        "现状/问题",
        "建议",
        "预期效益",
        "↩️ 不修改，返回预览",
    ]
    await bot.press(AUTHOR, menu.button_data("建议"))
    assert "【建议】" in bot.telegram.last(AUTHOR.id).text
    await bot.say(AUTHOR, "   ")  # refused, asked again
    await bot.say(AUTHOR, "初一、初二、初三分三批，间隔十分钟。")
    again = bot.telegram.last(AUTHOR.id)
    assert "间隔十分钟" in again.text and "食堂错峰就餐" in again.text
    assert "每人每天节省十五分钟" in again.text  # the rest kept, not asked again

    await bot.press(AUTHOR, IdeaConfirm("yes").pack())
    receipt = bot.telegram.last(AUTHOR.id).text
    assert f"合-{year_of(bot)}-0001" in receipt and "食堂错峰就餐" in receipt
    async with bot.db() as session:
        idea = (await session.exec(select(Idea))).one()
    assert idea.author_member_id == people["author"].id
    assert idea.proposal == "初一、初二、初三分三批，间隔十分钟。"
    assert (idea.subject, idea.benefit) == ("食堂错峰就餐", "每人每天节省十五分钟。")

    # A second press of the same Confirm stores nothing more.
    await bot.press(AUTHOR, IdeaConfirm("yes").pack())
    async with bot.db() as session:
        assert len((await session.exec(select(Idea))).all()) == 1

    await bot.say(AUTHOR, "/mine")
    mine = "\n".join(bot.telegram.texts(AUTHOR.id)[-3:])
    assert "您的合理化建议" in mine
    assert f"合-{year_of(bot)}-0001「食堂错峰就餐」 · 已收到，评审中" in mine


# ---- the panel ---------------------------------------------------------------------------


async def test_panel_scores_privately_and_the_committee_sees_only_averages(
    bot: BotHarness,
) -> None:
    people = await school(bot)
    year = year_of(bot)
    idea = await seed_idea(bot, people["author"], "图书馆延长开放", token="a" * 16)
    own = await seed_idea(bot, people["panelist"], "评审甲自己的建议", token="b" * 16)

    # The committee puts 评审甲 on the panel with the member picker; they are told privately.
    await bot.say(COMMITTEE, "/ideas")
    assert "评审组：尚未设定" in bot.telegram.last(COMMITTEE.id).text
    await bot.press(COMMITTEE, IdeaDesk("panel", year).pack())
    await bot.press(COMMITTEE, IdeaDesk("padd", year).pack())
    await bot.say(COMMITTEE, "评审甲")
    picker = bot.telegram.last(COMMITTEE.id)
    assert picker.button_data("评审甲") == PanelPick("add", year, people["panelist"].id or 0).pack()
    await bot.press(COMMITTEE, picker.button_data("评审甲"))
    assert "评审组成员" in bot.telegram.last(PANELIST.id).text
    async with bot.db() as session:
        await add_panelist(
            session,
            org_id=bot.org_id,
            year=year,
            actor=committee_actor(people["committee"]),
            member_id=people["panelist_two"].id or 0,
        )
        assert len((await session.exec(select(IdeaPanelist))).all()) == 2

    # 评审甲: the list leaves out their own idea; 8 points with a comment, confirmed.
    await bot.say(PANELIST, "/score")
    listing = bot.telegram.last(PANELIST.id)
    assert idea.number in listing.text and own.number not in listing.text
    await bot.press(PANELIST, ScoreOpen(idea.id or 0).pack())
    opened = bot.telegram.last(PANELIST.id)
    assert "图书馆延长开放" in opened.text and "王芳芳" not in opened.text
    assert [label for label, _ in opened.buttons()] == [str(n) for n in range(1, 11)]
    await bot.press(PANELIST, ScorePick(idea.id or 0, 8).pack())
    await bot.say(PANELIST, "很实用，建议先试行")
    summary = bot.telegram.last(PANELIST.id).text
    assert "评分：8 分" in summary and "很实用" in summary
    await bot.press(PANELIST, ScoreStep("yes").pack())
    assert "已记下您对" in bot.telegram.last(PANELIST.id).text

    # Their own idea, by a forged button: refused, nothing stored.
    await bot.press(PANELIST, ScorePick(own.id or 0, 10).pack())
    assert "您本人提出的建议" in await alert_of(bot)
    await bot.press(PANELIST, ScoreOpen(own.id or 0).pack())
    assert "您本人提出的建议" in await alert_of(bot)
    # Someone off the panel, by a forged button: refused, nothing stored.
    await bot.press(OUTSIDER, ScorePick(idea.id or 0, 10).pack())
    assert "只有本年度评审组成员" in await alert_of(bot)
    await bot.press(OUTSIDER, ScoreOpen(idea.id or 0).pack())
    assert "只有本年度评审组成员" in await alert_of(bot)
    await bot.say(OUTSIDER, "/score")
    assert "您不是" in bot.telegram.last(OUTSIDER.id).text
    assert [(s.member_id, s.score) for s in await scores(bot)] == [(people["panelist"].id, 8)]

    # 评审乙: 5 without a comment; their list shows their own score, never the other's.
    await bot.press(PANELIST_TWO, ScorePick(idea.id or 0, 5).pack())
    await bot.press(PANELIST_TWO, ScoreStep("skip").pack())
    await bot.press(PANELIST_TWO, ScoreStep("yes").pack())
    await bot.say(PANELIST_TWO, "/score")
    assert "您评了 5 分" in bot.telegram.last(PANELIST_TWO.id).text
    for text in bot.telegram.texts(PANELIST_TWO.id):
        assert "8 分" not in text and "很实用" not in text and not AVERAGE.search(text)
    for text in bot.telegram.texts(PANELIST.id):
        assert "5 分" not in text and not AVERAGE.search(text)

    # The committee: two scores are not averaged (one would give the other away); the count,
    # the comment without a name.
    await bot.press(COMMITTEE, IdeaPage(year, 0).pack())
    ranked = bot.telegram.last(COMMITTEE.id).text
    too_few = "评分人数不足（2 人评分，满 3 人后显示平均分）"
    assert f"{idea.number}「图书馆延长开放」 · {too_few}" in ranked
    assert f"{own.number}「评审甲自己的建议」 · 尚无评分" in ranked
    await bot.press(COMMITTEE, IdeaItem("open", idea.id or 0).pack())
    card = bot.telegram.last(COMMITTEE.id).text
    assert too_few in card and "很实用，建议先试行" in card
    assert not AVERAGE.search(ranked + card) and "6.5" not in ranked + card
    assert "王芳芳" in card  # the author is named to the committee; the panelists are not
    assert "评审甲" not in card and "评审乙" not in card
    assert "8 分" not in ranked + card and "5 分" not in ranked + card

    # A member off the committee cannot open the desk's list.
    await bot.press(AUTHOR, IdeaPage(year, 0).pack())
    assert NOT_COMMITTEE in await alert_of(bot)


# ---- a whole year: 54 ideas, 3 / 5 / 9 prizes --------------------------------------------


def sent_files(bot: BotHarness) -> list[bytes]:
    """Record the bytes of every document the bot uploads from now on."""
    files: list[bytes] = []
    original = bot.telegram.do_request

    async def recording(
        url: str, method: str, request_data: RequestData | None = None, **kwargs: Any
    ) -> tuple[int, bytes]:
        if url.endswith("/sendDocument") and request_data is not None:
            for _, (_, content, *_) in (request_data.multipart_data or {}).items():
                files.append(content if isinstance(content, bytes) else content.read())
        return await original(url, method, request_data, **kwargs)

    setattr(bot.telegram, "do_request", recording)  # noqa: B010 (an instance attribute)
    return files


async def test_an_idea_year_of_54_with_3_5_9_prizes(bot: BotHarness) -> None:
    people = await school(bot)
    year = year_of(bot)
    committee = committee_actor(people["committee"])
    authors = [
        await make_member(
            bot.db, org_id=bot.org_id, person=Person(5000 + i, f"T{i}"), name=f"教师{i}"
        )
        for i in range(54)
    ]
    ideas = [
        await seed_idea(
            bot,
            author,
            "=HYPERLINK(1)" if i == 53 else f"金点子{i}",
            token=f"seed{i:012d}",
        )
        for i, author in enumerate(authors)
    ]
    third = await make_member(bot.db, org_id=bot.org_id, person=Person(3003, "Bing"), name="评审丙")
    panel = [people["panelist"], people["panelist_two"], third]
    async with bot.db() as session:
        for member in panel:
            await add_panelist(
                session, org_id=bot.org_id, year=year, actor=committee, member_id=member.id or 0
            )
        for i, idea in enumerate(ideas):  # averages fall with the number: the ranking is i
            for member in panel:
                await score_idea(
                    session,
                    org_id=bot.org_id,
                    idea_id=idea.id or 0,
                    actor=Actor(member, frozenset()),
                    score=10 - i // 6,
                    comment=None,
                )

    # Prize levels, then the ranking proposes the winners.
    await bot.say(COMMITTEE, "/ideas")
    await bot.press(COMMITTEE, IdeaDesk("prizes", year).pack())
    await bot.say(COMMITTEE, "3 5 九")  # not a number: asked again
    assert "例如：3 5 9" in bot.telegram.last(COMMITTEE.id).text
    await bot.say(COMMITTEE, "3 5 9")
    assert "奖项：一等奖3项，二等奖5项，三等奖9项" in bot.telegram.last(COMMITTEE.id).text
    await bot.press(AUTHOR, IdeaDesk("rank", year).pack())
    assert NOT_COMMITTEE in await alert_of(bot)
    await bot.press(COMMITTEE, IdeaDesk("rank", year).pack())
    awards = bot.telegram.last(COMMITTEE.id).text
    assert "一等奖（3/3）" in awards and "二等奖（5/5）" in awards and "三等奖（9/9）" in awards
    assert ideas[0].number in awards and ideas[17].number not in awards

    # The committee moves one idea: a full level refuses, so one goes out and another in.
    await bot.press(COMMITTEE, IdeaLevel(ideas[17].id or 0, 3).pack())
    assert "三等奖已满（9项）" in await alert_of(bot)
    await bot.press(COMMITTEE, IdeaItem("move", ideas[16].id or 0).pack())
    assert [label for label, _ in bot.telegram.last(COMMITTEE.id).buttons()] == [
        "一等奖",
        "二等奖",
        "三等奖",
        "不获奖",
    ]
    await bot.press(COMMITTEE, IdeaLevel(ideas[16].id or 0, 0).pack())
    await bot.press(COMMITTEE, IdeaLevel(ideas[17].id or 0, 3).pack())
    awards = bot.telegram.last(COMMITTEE.id).text
    assert ideas[17].number in awards and ideas[16].number not in awards

    # 采纳: two through the desk, ten more as the committee decides them.
    for idea in ideas[:2]:
        await bot.press(COMMITTEE, IdeaItem("adopt", idea.id or 0).pack())
    assert "已被采纳" in bot.telegram.last(5000).text
    await bot.press(COMMITTEE, IdeaItem("adopt", ideas[0].id or 0).pack())  # twice: refused
    assert "已经是这样了" in await alert_of(bot)
    for idea in ideas[20:30]:
        await bot.press(COMMITTEE, IdeaItem("adopt", idea.id or 0).pack())

    # Confirmed once; each winner's author told, the one moved out is not.
    await bot.press(COMMITTEE, IdeaDesk("award", year).pack())
    assert "不能再修改" in bot.telegram.last(COMMITTEE.id).text
    await bot.press(COMMITTEE, IdeaDesk("awardok", year).pack())
    assert "已评定 17 项奖" in bot.telegram.last(COMMITTEE.id).text
    await bot.press(COMMITTEE, IdeaDesk("awardok", year).pack())
    assert "已经评定" in await alert_of(bot)
    await drain(bot)
    told = {
        i: [t for t in bot.telegram.texts(5000 + i) if "您的合理化建议「" in t] for i in range(54)
    }
    assert told[0][-1] == (
        f"🏆 您的合理化建议「金点子0」（{ideas[0].number}）获一等奖。"
        "祝贺您，感谢您为学校发展出谋划策！"
    )
    assert "获二等奖" in told[5][-1] and "获三等奖" in told[17][-1]
    assert not any("获" in t for t in told[16]) and not any("获" in t for t in told[40])
    assert sum(1 for i in range(54) if any("获" in t for t in told[i])) == 17

    # After the awards: no more scores, no more moves.
    await bot.press(PANELIST, ScorePick(ideas[1].id or 0, 3).pack())
    assert "已经评定" in await alert_of(bot)
    await bot.press(COMMITTEE, IdeaLevel(ideas[40].id or 0, 1).pack())
    assert "已经评定" in await alert_of(bot)

    # The year's figures, as the seed writes them.
    await bot.say(COMMITTEE, f"/ideas {year}")
    assert (
        "共收到合理化建议54条，采纳12条，其中3条获一等奖，5条获二等奖，9条获三等奖。"
        in bot.telegram.last(COMMITTEE.id).text
    )

    # The winners go to the disclosure channel (once it is bound).
    await bot.press(COMMITTEE, IdeaDesk("pub", year).pack())
    assert "还没有绑定校务公开栏频道" in await alert_of(bot)
    async with bot.db() as session:
        await bind_disclosure_chat(session, org_id=bot.org_id, chat_id=CHANNEL_ID)
    await bot.press(COMMITTEE, IdeaDesk("pub", year).pack())
    # ... as a 公示 notice: stored with the default period of working days, 提出异议 under it.
    notice, posted = await check_published_notice(
        bot, kind=NoticeKind.IDEAS, channel_id=CHANNEL_ID, audience="everyone"
    )
    assert notice.title == f"{year}年度合理化建议评选结果"
    assert f"获奖名单已作为公示（{notice.number}）在校务公开栏发布，并发给全体会员" in (
        await alert_of(bot)
    )
    post = posted.text
    assert "共收到合理化建议54条，采纳12条，其中3条获一等奖" in post
    assert f"【一等奖】\n{ideas[0].number}「金点子0」 教师0（语文组）" in post
    assert ideas[17].number in post and ideas[16].number not in post
    async with bot.db() as session:
        row = (await session.exec(select(IdeaYear))).one()
    assert row.published_at is not None and row.awarded_by_member_id == people["committee"].id
    # Published once: a second press is refused and posts nothing.
    await bot.press(COMMITTEE, IdeaDesk("pub", year).pack())
    assert "已经公示过了" in await alert_of(bot)
    assert len(bot.telegram.sent(chat_id=CHANNEL_ID)) == 1
    # Every member gets it, with 提出异议; an objection reaches the committee as a card.
    await drain(bot)
    (copy,) = [c for c in bot.telegram.sent(chat_id=5040) if c.text == post]
    assert copy.button_data("提出异议") == pack("nto", "ask", notice.id or 0)
    async with bot.db() as session:
        await bind_committee_chat(session, org_id=bot.org_id, chat_id=COMMITTEE_GROUP_ID)
    await object_through_the_link(bot, Person(5040, "T40"), notice, "金点子16的得分不应低于17。")

    # The winner sees the prize in /mine.
    await bot.say(Person(5000, "T0"), "/mine")
    assert "金点子0」 · 已采纳 · 获一等奖" in "\n".join(bot.telegram.texts(5000)[-3:])

    # The spreadsheet: every idea, safe cells.
    files = sent_files(bot)
    await bot.press(COMMITTEE, IdeaDesk("xlsx", year).pack())
    sheet = load_workbook(io.BytesIO(files[-1])).active
    assert sheet is not None
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][:4] == ["编号", "主题", "提出人", "部门"]
    assert len(rows) == 55
    assert rows[1][:3] == [ideas[0].number, "金点子0", "教师0"]
    assert rows[1][7:11] == [10, 3, "一等奖", "是"]
    assert rows[54][1] == "'=HYPERLINK(1)"


async def test_a_panelist_taken_off_the_panel_mid_score_stores_nothing(bot: BotHarness) -> None:
    people = await school(bot)
    year = year_of(bot)
    idea = await seed_idea(bot, people["author"], "操场夜间照明", token="c" * 16)
    async with bot.db() as session:
        await add_panelist(
            session,
            org_id=bot.org_id,
            year=year,
            actor=committee_actor(people["committee"]),
            member_id=people["panelist"].id or 0,
        )
    await bot.press(PANELIST, ScorePick(idea.id or 0, 9).pack())
    await bot.press(PANELIST, ScoreStep("skip").pack())

    # Meanwhile the committee takes them off the panel.
    await bot.press(COMMITTEE, IdeaDesk("panel", year).pack())
    panel = bot.telegram.last(COMMITTEE.id)
    assert "评审甲（教务处）" in panel.text
    await bot.press(COMMITTEE, panel.button_data("移出评审甲"))
    assert "评审甲" not in bot.telegram.last(COMMITTEE.id).text

    await bot.press(PANELIST, ScoreStep("yes").pack())
    assert "只有本年度评审组成员" in await alert_of(bot)
    assert await scores(bot) == []
