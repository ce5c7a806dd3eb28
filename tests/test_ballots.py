"""Secret ballots through the real application: the committee sets one up, voters get it
through the outbox, vote item by item, confirm once; the job closes it and the committee group
gets the results (text, chart, workbook); refusals store nothing."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from pydantic import ValidationError
from sqlmodel import col, select

from bot.callback import pack
from bot.settings import Settings
from handlers.ballots.buttons import (
    BallotAnswer,
    BallotCancel,
    BallotConfirm,
    BallotCreate,
    BallotGo,
    BallotKindChoice,
    BallotOpensNow,
    BallotPick,
    BallotResults,
    BallotSkip,
    BallotWho,
)
from handlers.common import EditField
from handlers.menu.buttons import MenuButton
from models.ballot_exports import chart_png, cjk_font_path, results_xlsx
from models.ballot_text import chunks
from models.ballots import (
    Ballot,
    BallotElector,
    BallotKind,
    BallotPaper,
    BallotStatus,
    Electorate,
    cancel_ballot,
    cast_ballot,
    close_ballot,
    receipt_key,
    tally,
)
from models.base import utcnow
from models.errors import DomainError
from models.members import Actor, Gender, Member, Role
from models.notices import NoticeKind
from models.organizations import bind_committee_chat, bind_disclosure_chat
from models.outbox import OutboxMessage, messages_of
from scheduler.ballot_jobs import ballot_tick, vote_button
from scheduler.notice_jobs import end_due_notices
from tests.support.factories import make_member
from tests.support.harness import COMMITTEE_GROUP_ID, BotHarness, make_settings
from tests.support.notices import check_published_notice, object_through_the_link
from tests.support.updates import Person, group_chat
from tests.test_calendar_chat import drain

ROOT = Path(__file__).resolve().parents[1]
COMMITTEE = Person(1002, "Liu", "zh-hans")
OUTSIDER = Person(1009, "Wai", "zh-hans")
CHANNEL_ID = -1009999999999
GROUP = group_chat(COMMITTEE_GROUP_ID)


@pytest.fixture
def settings(clean_database: str, tmp_path: Path) -> Settings:
    """BALLOT_MIN_GROUP=2 here, so that ties, the two-thirds rule and the rest can be shown
    with a handful of voters; tests/test_ballot_secrecy.py keeps the default of 5."""
    return make_settings(clean_database, tmp_path, ballot_min_group=2)


def people(count: int, start: int = 6000) -> list[Person]:
    """Voters."""
    return [Person(start + i, f"V{i}", "zh-hans") for i in range(count)]


async def setup(
    bot: BotHarness,
    voters: list[Person],
    *,
    departments: list[str] | None = None,
    roles: tuple[Role, ...] = (),
) -> None:
    """A committee member, the groups bound, and the voters."""
    await make_member(
        bot.db, org_id=bot.org_id, person=COMMITTEE, name="刘委员", roles=[Role.COMMITTEE]
    )
    async with bot.db() as session:
        await bind_committee_chat(session, org_id=bot.org_id, chat_id=COMMITTEE_GROUP_ID)
        await bind_disclosure_chat(session, org_id=bot.org_id, chat_id=CHANNEL_ID)
    for index, person in enumerate(voters):
        await make_member(
            bot.db,
            org_id=bot.org_id,
            person=person,
            name=f"教师{index}",
            department=(departments or ["语文组"])[index % len(departments or ["语文组"])],
            roles=roles,
            gender=Gender.FEMALE if index % 2 == 0 else Gender.MALE,
        )


def local(moment: datetime, bot: BotHarness) -> str:
    """A moment typed as the union writes it."""
    return moment.astimezone(bot.app.state.settings.zone).strftime("%Y-%m-%d %H:%M")


async def create(
    bot: BotHarness,
    *,
    kind: BallotKind,
    items: str,
    who: Electorate = Electorate.EVERYONE,
    detail: str | None = None,
    up_to: str | None = None,
    opens: datetime | None = None,
    closes: datetime | None = None,
) -> Ballot:
    """Walk /ballot to the end."""
    await bot.say(COMMITTEE, "/ballot")
    await bot.say(COMMITTEE, "2026年度测评")
    await bot.press(COMMITTEE, BallotKindChoice(kind).pack())
    await bot.press(COMMITTEE, BallotWho(who).pack())
    if detail is not None:
        await bot.say(COMMITTEE, detail)
    await bot.say(COMMITTEE, items)
    if up_to is not None:
        await bot.say(COMMITTEE, up_to)
    if opens is None:
        await bot.press(COMMITTEE, BallotOpensNow().pack())
    else:
        await bot.say(COMMITTEE, local(opens, bot))
    await bot.say(COMMITTEE, local(closes or utcnow() + timedelta(days=2), bot))
    await bot.press(COMMITTEE, BallotCreate("yes").pack())
    async with bot.db() as session:
        ballot = (await session.exec(select(Ballot).order_by(col(Ballot.id).desc()))).first()
    assert ballot is not None
    return ballot


def last_text(bot: BotHarness, person: Person) -> str:
    """The latest message to a person, or the latest alert they were shown."""
    return bot.telegram.last(person.id).text


async def vote(bot: BotHarness, person: Person, ballot: Ballot, answers: list[Any]) -> str:
    """Vote item by item and confirm; returns the reply (with the receipt code)."""
    bid = ballot.id or 0
    await bot.press(person, BallotGo(bid).pack())
    kind = BallotKind(ballot.kind)
    if kind == BallotKind.ELECTION:
        for index in answers:
            await bot.press(person, BallotPick(bid, "t", index).pack())
        await bot.press(person, BallotPick(bid, "done").pack())
    else:
        for index, answer in enumerate(answers):
            if kind == BallotKind.EVALUATION:
                grade, comment = answer
                await bot.press(person, BallotAnswer(bid, index, grade).pack())
                if comment:
                    await bot.say(person, comment)
                else:
                    await bot.press(person, BallotSkip(bid).pack())
            elif answer.startswith("text:"):
                await bot.say(person, answer[5:])
            elif answer == "skip":
                await bot.press(person, BallotSkip(bid).pack())
            else:
                await bot.press(person, BallotAnswer(bid, index, answer).pack())
    await bot.press(person, BallotConfirm(bid, "send").pack())
    return last_text(bot, person)


def receipt_of(reply: str) -> str:
    """The receipt code in the reply to a cast ballot."""
    for line in reply.splitlines():
        if line.startswith("回执码："):
            return line.removeprefix("回执码：").strip()
    raise AssertionError(reply)


async def close(bot: BotHarness, ballot: Ballot) -> str:
    """Run the job just after the close; the results text queued for the committee group."""
    runtime = bot.app.state.runtime
    assert runtime is not None
    await ballot_tick(runtime, now=ballot.closes_at + timedelta(minutes=1))
    async with bot.db() as session:
        rows = await messages_of(session, key=f"ballot:{ballot.id}:results")
    assert [row.chat_id for row in rows] == [COMMITTEE_GROUP_ID]
    return rows[0].text


async def papers(bot: BotHarness, ballot: Ballot) -> list[BallotPaper]:
    """Every stored paper of the ballot."""
    async with bot.db() as session:
        statement = select(BallotPaper).where(BallotPaper.ballot_id == ballot.id)
        return list((await session.exec(statement)).all())


async def test_evaluation_invites_each_voter_and_results_come_only_after_the_close(
    bot: BotHarness,
) -> None:
    voters = people(6)
    await setup(bot, voters)
    ballot = await create(bot, kind=BallotKind.EVALUATION, items="王校长\n赵主任")
    assert "已开始" in last_text(bot, COMMITTEE)

    async with bot.db() as session:
        invites = await messages_of(session, key=f"ballot:{ballot.id}:open")
    assert {row.chat_id for row in invites} == {p.id for p in voters} | {COMMITTEE.id}
    assert all(
        json.loads(row.buttons or "[]")[0][0][1] == BallotGo(ballot.id or 0).pack()
        for row in invites
    )
    assert vote_button(ballot.id or 0) == BallotGo(ballot.id or 0).pack()
    assert "民主评议" in invites[0].text and "不记名" in invites[0].text

    grades = ["excellent", "excellent", "competent", "basic", "incompetent"]
    for person, grade in zip(voters[:5], grades, strict=True):
        reply = await vote(bot, person, ballot, [(grade, ""), ("competent", "多听取意见")])
        assert "回执码" in reply

    # No interim results, to anyone: the count is refused while open.
    async with bot.db() as session:
        with pytest.raises(DomainError, match=r"ballot\.not_closed"):
            await tally(session, ballot_id=ballot.id or 0, min_group=5)
    await bot.press(COMMITTEE, BallotResults("png", ballot.id or 0).pack(), chat=GROUP)
    assert "截止后" in str(bot.telegram.answers()[-1].params.get("text"))
    assert bot.telegram.sent("sendPhoto") == []

    text = await close(bot, ballot)
    assert "应参加投票 7 人，实际投票 5 人" in text
    # 王校长: 优秀 2/5 = 40%, (优秀+称职) 3/5 = 60%; 赵主任: all 称职 -> 0% and 100%.
    assert "王校长：优秀 2，称职 1，基本称职 1，不称职 1；优秀率 40.0%，称职率 60.0%" in text
    assert "赵主任：优秀 0，称职 5，基本称职 0，不称职 0；优秀率 0.0%，称职率 100.0%" in text
    assert text.count("· 多听取意见") == 5
    assert "教师" not in text  # never a voter's name

    await bot.press(COMMITTEE, BallotResults("png", ballot.id or 0).pack(), chat=GROUP)
    assert len(bot.telegram.sent("sendPhoto", COMMITTEE_GROUP_ID)) == 1
    await bot.press(COMMITTEE, BallotResults("xlsx", ballot.id or 0).pack(), chat=GROUP)
    assert len(bot.telegram.sent("sendDocument", COMMITTEE_GROUP_ID)) == 1
    # A member who is not on the committee cannot get them.
    await bot.press(voters[0], BallotResults("xlsx", ballot.id or 0).pack(), chat=GROUP)
    assert len(bot.telegram.sent("sendDocument", COMMITTEE_GROUP_ID)) == 1

    await bot.press(COMMITTEE, BallotResults("pub", ballot.id or 0).pack(), chat=GROUP)
    posted = bot.telegram.sent("sendMessage", CHANNEL_ID)
    assert len(posted) == 1 and "称职率 60.0%" in posted[0].text
    # Published as a 公示 notice with the default period and the 提出异议 link...
    notice, post = await check_published_notice(
        bot, kind=NoticeKind.BALLOT, channel_id=CHANNEL_ID, audience="members"
    )
    assert notice.title == "《2026年度测评》民主评议结果"
    assert "应参加投票 7 人，实际投票 5 人" in post.text and "教师" not in post.text
    assert f"公示（{notice.number}）" in str(bot.telegram.answers()[-1].params.get("text"))
    await bot.press(COMMITTEE, BallotResults("pub", ballot.id or 0).pack(), chat=GROUP)
    assert len(bot.telegram.sent("sendMessage", CHANNEL_ID)) == 1
    # ... sent to the whole electorate (a voter who did not vote too), with 提出异议...
    await drain(bot)
    for person in (voters[0], voters[5], COMMITTEE):
        (copy,) = [c for c in bot.telegram.sent(chat_id=person.id) if c.text == post.text]
        assert copy.button_data("提出异议") == pack("nto", "ask", notice.id or 0)
    # ... and an objection reaches the committee group as a card.
    await object_through_the_link(bot, voters[5], notice, "投票时间太短，有老师外出培训。")


async def test_chart_and_workbook_are_produced_with_a_chinese_font(bot: BotHarness) -> None:
    assert cjk_font_path().is_file()
    voters = people(3)
    await setup(bot, voters)
    ballot = await create(bot, kind=BallotKind.SATISFACTION, items="食堂\n体检\n填空：建议")
    for person in voters:
        await vote(bot, person, ballot, ["satisfied", "basic", "text:=HYPERLINK(1)"])
    await close(bot, ballot)
    tr = bot.app.state.i18n.get("zh-Hans")
    async with bot.db() as session:
        counted = await tally(session, ballot_id=ballot.id or 0, min_group=2)
    png = chart_png(tr, counted)
    assert png.startswith(b"\x89PNG") and len(png) > 5000
    book = load_workbook(io.BytesIO(results_xlsx(tr, counted)))
    rows = [[cell.value for cell in row] for row in book.worksheets[0].iter_rows()]
    assert ["食堂", 3, 0, 0, "100.0%"] in rows
    comments = [[cell.value for cell in row] for row in book.worksheets[1].iter_rows()]
    assert ["建议", "'=HYPERLINK(1)"] in comments  # text, never a formula


async def test_election_up_to_n_and_ties_stated(bot: BotHarness) -> None:
    voters = people(4)
    await setup(bot, voters)
    ballot = await create(
        bot, kind=BallotKind.ELECTION, items="张老师\n李老师\n王老师\n赵老师", up_to="2"
    )
    bid = ballot.id or 0
    await bot.press(voters[0], BallotGo(bid).pack())
    for index in (0, 1, 2):
        await bot.press(voters[0], BallotPick(bid, "t", index).pack())
    assert "最多只能选 2 人" in str(bot.telegram.answers()[-1].params.get("text"))
    await bot.press(voters[0], BallotPick(bid, "done").pack())
    assert "张老师、李老师" in last_text(bot, voters[0])
    await bot.press(voters[0], BallotConfirm(bid, "send").pack())
    await vote(bot, voters[1], ballot, [0, 2])
    await vote(bot, voters[2], ballot, [1, 2])
    await vote(bot, voters[3], ballot, [])
    text = await close(bot, ballot)
    # 张 2, 李 2, 王 2 for two places: all tied.
    assert "张老师、李老师、王老师得票相同（各 2 票）" in text
    assert "未选任何人的选票 1 张" in text


async def test_congress_vote_needs_two_thirds_and_more_than_half_of_all(bot: BotHarness) -> None:
    voters = people(6)
    await setup(bot, voters, roles=(Role.REPRESENTATIVE,))
    items = "学校章程修订\n绩效工资方案"
    ballot = await create(
        bot, kind=BallotKind.RESOLUTION, items=items, who=Electorate.REPRESENTATIVES
    )
    async with bot.db() as session:
        invites = await messages_of(session, key=f"ballot:{ballot.id}:open")
    assert len(invites) == 6
    assert "不少于全体代表的三分之二方为有效" in invites[0].text
    assert "超过全体代表的二分之一方为通过" in invites[0].text
    # 4 of 6 vote (= two thirds): valid; 4 for > 3 passes, 3 for does not.
    for index, person in enumerate(voters[:4]):
        await vote(bot, person, ballot, ["for", "for" if index < 3 else "against"])
    text = await close(bot, ballot)
    assert "本次投票有效" in text
    assert "学校章程修订：赞成 4，反对 0，弃权 0——通过" in text
    assert "绩效工资方案：赞成 3，反对 1，弃权 0——未通过" in text

    second = await create(
        bot, kind=BallotKind.RESOLUTION, items="学校章程修订", who=Electorate.REPRESENTATIVES
    )
    for person in voters[:3]:  # 3 of 6: under two thirds, invalid even though all are for
        await vote(bot, person, second, ["for"])
    text = await close(bot, second)
    assert "本次投票无效" in text
    assert "学校章程修订：赞成 3，反对 0，弃权 0——未通过" in text


async def test_electorate_is_fixed_when_the_ballot_opens(bot: BotHarness) -> None:
    voters = people(3)
    await setup(bot, voters)
    opens = utcnow() + timedelta(hours=1)
    ballot = await create(
        bot, kind=BallotKind.RESOLUTION, items="章程", opens=opens, closes=opens + timedelta(days=1)
    )
    assert ballot.status == BallotStatus.SCHEDULED
    early, late = Person(7001, "E", "zh-hans"), Person(7002, "L", "zh-hans")
    await make_member(bot.db, org_id=bot.org_id, person=early, name="早到")
    # Before the opening nobody can vote.
    await bot.press(voters[0], BallotGo(ballot.id or 0).pack())
    assert f"尚未开始，将于 {local(ballot.opens_at, bot)} 开始" in last_text(bot, voters[0])
    assert "已截止" not in last_text(bot, voters[0])
    await bot.press(voters[0], BallotGo((ballot.id or 0) + 99).pack())  # no such ballot
    assert last_text(bot, voters[0]) == bot.app.state.i18n.get("zh-Hans")("ballot.not_found")

    runtime = bot.app.state.runtime
    assert runtime is not None
    await ballot_tick(runtime, now=ballot.opens_at + timedelta(minutes=1))
    await make_member(bot.db, org_id=bot.org_id, person=late, name="晚到")
    async with bot.db() as session:
        electors = (
            await session.exec(
                select(BallotElector.member_id).where(BallotElector.ballot_id == ballot.id)
            )
        ).all()
        opened = await session.get(Ballot, ballot.id)
    assert opened is not None and opened.electorate_size == len(electors) == 5  # + 刘委员, 早到
    await bot.press(late, BallotGo(ballot.id or 0).pack())
    assert "投票人范围内" in last_text(bot, late)
    assert await papers(bot, ballot) == []


async def test_double_vote_after_close_outsider_and_forged_buttons_store_nothing(
    bot: BotHarness,
) -> None:
    voters = people(3)
    await setup(bot, voters)
    outsider = Person(7100, "O", "zh-hans")
    ballot = await create(bot, kind=BallotKind.RESOLUTION, items="章程", who=Electorate.WOMEN)
    bid = ballot.id or 0
    await make_member(bot.db, org_id=bot.org_id, person=outsider, name="外人")

    await vote(bot, voters[0], ballot, ["for"])
    assert len(await papers(bot, ballot)) == 1
    # A second confirmation, and a second start, are refused plainly.
    await bot.press(voters[0], BallotConfirm(bid, "send").pack())
    assert "您已经投过票了" in last_text(bot, voters[0])
    await bot.press(voters[0], BallotGo(bid).pack())
    assert "您已经投过票了" in last_text(bot, voters[0])

    # voters[1] is a man: outside a women-only electorate.
    await bot.press(voters[1], BallotGo(bid).pack())
    assert "投票人范围内" in last_text(bot, voters[1])
    await bot.press(outsider, BallotConfirm(bid, "send").pack())

    # Forged buttons: an unknown choice, another item, another ballot.
    await bot.press(voters[2], BallotGo(bid).pack())
    for forged in (
        BallotAnswer(bid, 0, "maybe"),
        BallotAnswer(bid, 5, "for"),
        BallotAnswer(bid + 1, 0, "for"),
        BallotConfirm(bid + 1, "send"),
    ):
        await bot.press(voters[2], forged.pack())
        assert "按钮已失效" in str(bot.telegram.answers()[-1].params.get("text"))
    await bot.press(voters[2], "bla:1:0:x:y")
    assert len(await papers(bot, ballot)) == 1

    # After the close: the summary's confirm stores nothing.
    await bot.press(voters[2], BallotAnswer(bid, 0, "against").pack())
    async with bot.db() as session:
        row = await session.get(Ballot, bid)
        assert row is not None
        row.closes_at = utcnow() - timedelta(seconds=1)
        session.add(row)
        await session.commit()
    await bot.press(voters[2], BallotConfirm(bid, "send").pack())
    assert "已截止" in last_text(bot, voters[2])
    assert len(await papers(bot, ballot)) == 1
    async with bot.db() as session:
        voted = (
            await session.exec(
                select(BallotElector.member_id).where(col(BallotElector.voted_on).is_not(None))
            )
        ).all()
    assert len(voted) == 1


async def test_reminders_reach_non_voters_and_the_committee_sees_only_a_count(
    bot: BotHarness,
) -> None:
    voters = people(4)
    await setup(bot, voters)
    ballot = await create(bot, kind=BallotKind.RESOLUTION, items="章程")
    await vote(bot, voters[0], ballot, ["for"])
    runtime = bot.app.state.runtime
    assert runtime is not None
    half_way = ballot.opens_at + (ballot.closes_at - ballot.opens_at) / 2 + timedelta(minutes=1)
    await ballot_tick(runtime, now=half_way)
    await ballot_tick(runtime, now=half_way + timedelta(minutes=5))  # once
    async with bot.db() as session:
        reminded = await messages_of(session, key=f"ballot:{ballot.id}:remind:1")
        told = await messages_of(session, key=f"ballot:{ballot.id}:remind:1:committee")
    assert {row.chat_id for row in reminded} == {p.id for p in voters[1:]} | {COMMITTEE.id}
    assert [row.chat_id for row in told] == [COMMITTEE_GROUP_ID]
    assert "已提醒 4 位尚未投票的会员" in told[0].text
    assert "教师" not in told[0].text

    await ballot_tick(runtime, now=ballot.closes_at - timedelta(hours=1))
    async with bot.db() as session:
        last_call = await messages_of(session, key=f"ballot:{ballot.id}:remind:2")
    assert len(last_call) == 4 and "即将截止" in last_call[0].text
    async with bot.db() as session:
        none = (
            await session.exec(
                select(OutboxMessage).where(OutboxMessage.chat_id == COMMITTEE_GROUP_ID)
            )
        ).all()
    assert all("赞成" not in row.text for row in none)  # no interim results


async def test_receipt_confirms_the_paper_was_counted_without_the_choice(
    bot: BotHarness,
) -> None:
    voters = people(3)
    await setup(bot, voters)
    ballot = await create(bot, kind=BallotKind.RESOLUTION, items="章程")
    code = receipt_of(await vote(bot, voters[0], ballot, ["against"]))
    await vote(bot, voters[2], ballot, ["abstain"])
    stored = await papers(bot, ballot)
    assert code not in json.dumps([p.model_dump(mode="json") for p in stored])
    await bot.say(voters[1], f"/ballot check {code.lower()}")
    reply = last_text(bot, voters[1])
    assert "已计入《2026年度测评》" in reply and "反对" not in reply
    await bot.say(voters[1], "/ballot check AAAA-BBBB-CCCC")
    assert "没有找到" in last_text(bot, voters[1])
    text = await close(bot, ballot)  # not a congress vote: more than half of those who voted
    assert "章程：赞成 0，反对 1，弃权 1——未通过" in text and "超过投票人数一半" in text


async def test_preview_edits_a_field_and_the_menu_opens_the_form(bot: BotHarness) -> None:
    await setup(bot, people(1), departments=["数学组"])  # 数学组 and the committee's 语文组
    await bot.press(COMMITTEE, MenuButton("ballot").pack())
    assert "名称" in last_text(bot, COMMITTEE)
    await bot.say(COMMITTEE, "旧名称")
    await bot.press(COMMITTEE, BallotKindChoice(BallotKind.RESOLUTION).pack())
    await bot.press(COMMITTEE, BallotWho(Electorate.DEPARTMENTS).pack())
    await bot.say(COMMITTEE, "语文组、数学组")
    await bot.say(COMMITTEE, "章程")
    await bot.press(COMMITTEE, BallotOpensNow().pack())
    await bot.say(COMMITTEE, local(utcnow() + timedelta(days=1), bot))
    preview = last_text(bot, COMMITTEE)
    assert "旧名称" in preview and "指定部门：语文组、数学组（目前 2 人" in preview
    await bot.press(COMMITTEE, EditField("ballot", "menu").pack())
    await bot.press(COMMITTEE, EditField("ballot", "field", 1).pack())
    await bot.say(COMMITTEE, "新名称")
    assert "名称：新名称" in last_text(bot, COMMITTEE)
    await bot.press(COMMITTEE, BallotCreate("yes").pack())
    async with bot.db() as session:
        ballot = (await session.exec(select(Ballot))).one()
    assert ballot.title == "新名称" and ballot.status == BallotStatus.OPEN
    assert json.loads(ballot.electorate) == {
        "type": "departments",
        "departments": ["语文组", "数学组"],
    }


def test_ballot_settings_have_defaults_and_are_documented(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    defaults = Settings(_env_file=None).model_dump()  # type: ignore[call-arg]
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, default in {
        "BALLOT_QUORUM": "2/3",
        "BALLOT_MAJORITY": "1/2",
        "BALLOT_MIN_GROUP": 5,
        "BALLOT_BATCH": 10,
        "BALLOT_LAST_CALL_HOURS": 2,
    }.items():
        assert defaults[name.lower()] == default
        assert f"{name}={default}" in example
        assert f"| `{name}` | `{default}` |" in readme


def test_long_results_are_cut_at_line_ends() -> None:
    text = "\n".join(f"第{i}条意见" + "很" * 50 for i in range(200))
    parts = chunks(text)
    assert len(parts) > 2 and all(len(part) <= 4000 for part in parts)
    assert "\n".join(parts) == text
    assert chunks("") == [""]


async def test_a_close_interrupted_by_a_stop_is_finished_at_the_next_run(bot: BotHarness) -> None:
    voters = people(2)
    await setup(bot, voters)
    ballot = await create(bot, kind=BallotKind.RESOLUTION, items="章程")
    await vote(bot, voters[0], ballot, ["for"])
    await vote(bot, voters[1], ballot, ["for"])
    async with bot.db() as session:  # closed, then the bot stopped before counting
        assert await close_ballot(session, ballot_id=ballot.id or 0, now=ballot.closes_at)
    assert [p.sealed for p in await papers(bot, ballot)] == [False, False]
    text = await close(bot, ballot)
    assert "章程：赞成 2，反对 0，弃权 0——通过" in text
    assert [p.sealed for p in await papers(bot, ballot)] == [True, True]
    runtime = bot.app.state.runtime
    assert runtime is not None
    assert await ballot_tick(runtime, now=ballot.closes_at + timedelta(minutes=2)) == 0


async def test_two_confirmations_at_once_store_one_paper(bot: BotHarness) -> None:
    voters = people(1)
    await setup(bot, voters)
    ballot = await create(bot, kind=BallotKind.RESOLUTION, items="章程")
    async with bot.db() as session:
        member = (await session.exec(select(Member).where(Member.telegram_user_id == 6000))).one()

    async def cast() -> str:
        async with bot.db() as session:
            try:
                return await cast_ballot(
                    session,
                    ballot_id=ballot.id or 0,
                    member=member,
                    answers=["for"],
                    receipt_key=receipt_key(bot.app.state.secret),
                    now=utcnow(),
                    today=utcnow().date(),
                )
            except DomainError as error:
                return error.key

    outcomes = await asyncio.gather(cast(), cast(), cast())
    assert outcomes.count("ballot.already_voted") == 2
    assert len(await papers(bot, ballot)) == 1


# ---- cancelling, /ballots, /mine ---------------------------------------------------------


def alert(bot: BotHarness) -> str:
    """The latest answer to a button press."""
    return str(bot.telegram.answers()[-1].params.get("text", ""))


async def status_of(bot: BotHarness, ballot: Ballot) -> str:
    async with bot.db() as session:
        stored = await session.get(Ballot, ballot.id, populate_existing=True)
    assert stored is not None
    return stored.status


async def test_the_committee_cancels_an_open_ballot_and_no_result_ever_comes(
    bot: BotHarness,
) -> None:
    voters = people(4)
    await setup(bot, voters)
    ballot = await create(bot, kind=BallotKind.RESOLUTION, items="同意修订奖励办法")
    await drain(bot)  # the invitations went out
    for person in voters[:2]:
        await vote(bot, person, ballot, ["for"])
    assert len(await papers(bot, ballot)) == 2

    # /ballots: the turnout count only, with ❌ 取消投票.
    await bot.say(COMMITTEE, "/ballots")
    listing = bot.telegram.last(COMMITTEE.id)
    assert "【进行中】1项" in listing.text and "已投票 2 人 / 应参加 5 人" in listing.text
    assert "赞成" not in listing.text  # never an interim result
    ask = BallotCancel("ask", ballot.id or 0).pack()
    assert listing.button_data("取消投票") == ask

    # A member who is not on the committee cannot cancel, even with the committee's buttons.
    await bot.press(voters[0], BallotCancel("yes", ballot.id or 0).pack())
    assert "只有工会委员" in alert(bot)
    assert await status_of(bot, ballot) == BallotStatus.OPEN
    assert len(await papers(bot, ballot)) == 2

    # Asked once; "不取消" keeps it.
    await bot.press(COMMITTEE, ask)
    question = bot.telegram.last(COMMITTEE.id)
    assert "不能恢复" in question.text and "删除" in question.text
    await bot.press(COMMITTEE, question.button_data("不取消"))
    assert await status_of(bot, ballot) == BallotStatus.OPEN
    await bot.press(COMMITTEE, question.button_data("确定取消"))
    assert await status_of(bot, ballot) == BallotStatus.CANCELLED
    assert await papers(bot, ballot) == []  # the papers cast are deleted
    assert "已通知5位投票人" in bot.telegram.last(COMMITTEE.id).text

    # Every invited voter is told, voted or not.
    await drain(bot)
    for person in (*voters, COMMITTEE):
        assert "已取消投票《2026年度测评》" in bot.telegram.last(person.id).text
    # A vote now is refused with nothing stored; a second cancel is refused.
    await bot.press(voters[3], BallotGo(ballot.id or 0).pack())
    assert "已被工会委员会取消" in bot.telegram.last(voters[3].id).text
    async with bot.db() as session:
        with pytest.raises(DomainError, match=r"ballot\.was_cancelled"):
            await cast_ballot(
                session,
                ballot_id=ballot.id or 0,
                member=await member_of(bot, voters[3]),
                answers=["for"],
                receipt_key=receipt_key(bot.app.state.secret),
                now=utcnow(),
                today=utcnow().date(),
            )
    assert await papers(bot, ballot) == []
    await bot.press(COMMITTEE, question.button_data("确定取消"))
    assert "已经取消过了" in alert(bot)

    # The close passes: no results, to anyone; the list shows it cancelled, without buttons.
    runtime = bot.app.state.runtime
    assert runtime is not None
    await ballot_tick(runtime, now=ballot.closes_at + timedelta(minutes=1))
    async with bot.db() as session:
        assert await messages_of(session, key=f"ballot:{ballot.id}:results") == []
        with pytest.raises(DomainError, match=r"ballot\.not_closed"):
            await tally(session, ballot_id=ballot.id or 0, min_group=5)
    await bot.say(COMMITTEE, "/ballots")
    listing = bot.telegram.last(COMMITTEE.id)
    assert "【已取消】1项" in listing.text and listing.buttons() == []


async def test_a_closed_ballot_cannot_be_cancelled(bot: BotHarness) -> None:
    voters = people(3)
    await setup(bot, voters)
    ballot = await create(bot, kind=BallotKind.RESOLUTION, items="同意")
    await vote(bot, voters[0], ballot, ["for"])
    await close(bot, ballot)
    await bot.press(COMMITTEE, BallotCancel("ask", ballot.id or 0).pack())
    assert "已经截止，不能再取消" in alert(bot)
    await bot.press(COMMITTEE, BallotCancel("yes", ballot.id or 0).pack())
    assert "已经截止，不能再取消" in alert(bot)
    assert await status_of(bot, ballot) == BallotStatus.CLOSED
    assert len(await papers(bot, ballot)) == 1
    # The guard is in the database: a cancel racing the close loses.
    async with bot.db() as session:
        committee = await member_of(bot, COMMITTEE)
        with pytest.raises(DomainError, match=r"ballot\.cancel_too_late"):
            await cancel_ballot(
                session,
                org_id=bot.org_id,
                ballot_id=ballot.id or 0,
                actor=Actor(member=committee, roles=frozenset({Role.COMMITTEE})),
            )
    await bot.say(COMMITTEE, "/ballots")
    listing = bot.telegram.last(COMMITTEE.id)
    assert "【已截止】1项" in listing.text and "已投票 1 人 / 应参加 4 人" in listing.text
    assert listing.buttons() == []


async def test_a_scheduled_ballot_cancelled_never_opens(bot: BotHarness) -> None:
    voters = people(2)
    await setup(bot, voters)
    opens = utcnow() + timedelta(days=1)
    ballot = await create(
        bot, kind=BallotKind.RESOLUTION, items="同意", opens=opens, closes=opens + timedelta(days=1)
    )
    await bot.say(COMMITTEE, "/ballots")
    assert "【未开始】1项" in bot.telegram.last(COMMITTEE.id).text
    await bot.press(COMMITTEE, BallotCancel("ask", ballot.id or 0).pack())
    await bot.press(COMMITTEE, BallotCancel("yes", ballot.id or 0).pack())
    assert "已通知0位投票人" in bot.telegram.last(COMMITTEE.id).text
    runtime = bot.app.state.runtime
    assert runtime is not None
    await ballot_tick(runtime, now=opens + timedelta(minutes=1))
    assert await status_of(bot, ballot) == BallotStatus.CANCELLED
    async with bot.db() as session:
        assert await messages_of(session, key=f"ballot:{ballot.id}:open") == []


async def test_mine_lists_the_ballots_a_member_can_vote_in_never_the_choice(
    bot: BotHarness,
) -> None:
    voters = people(2)
    await setup(bot, voters)
    first = await create(bot, kind=BallotKind.RESOLUTION, items="同意修订奖励办法")
    second = await create(bot, kind=BallotKind.SATISFACTION, items="食堂")
    await vote(bot, voters[0], first, ["against"])
    before = len(bot.telegram.texts(voters[0].id))
    await bot.say(voters[0], "/mine")
    mine = "\n".join(bot.telegram.texts(voters[0].id)[before:])
    assert "🗳 您的投票" in mine
    assert mine.count("2026年度测评 · 您已投票") == 1
    assert mine.count("2026年度测评 · 您尚未投票") == 1
    assert "反对" not in mine  # never what they chose
    shown = [c for c in bot.telegram.sent(chat_id=voters[0].id) if "您的投票" in c.text][-1]
    assert [data for _, data in shown.buttons() if data.startswith("blv:")] == [
        BallotGo(second.id or 0).pack()
    ]
    # Someone outside every electorate sees no such section.
    await make_member(bot.db, org_id=bot.org_id, person=OUTSIDER, name="局外人")
    await bot.say(OUTSIDER, "/mine")
    assert "您的投票" not in "\n".join(bot.telegram.texts(OUTSIDER.id))


async def member_of(bot: BotHarness, person: Person) -> Member:
    async with bot.db() as session:
        return (
            await session.exec(select(Member).where(Member.telegram_user_id == person.id))
        ).one()


async def test_long_results_are_one_notice_posted_in_parts_with_the_link_under_the_last(
    bot: BotHarness,
) -> None:
    voters = people(15)
    await setup(bot, voters)
    ballot = await create(bot, kind=BallotKind.EVALUATION, items="王校长")
    for index, person in enumerate(voters):
        await vote(bot, person, ballot, [("competent", f"意见{index:02d}" + "多听取意见。" * 45)])
    await close(bot, ballot)
    await bot.press(COMMITTEE, BallotResults("pub", ballot.id or 0).pack(), chat=GROUP)
    posted = bot.telegram.sent("sendMessage", CHANNEL_ID)
    assert len(posted) >= 2 and all(len(call.text) <= 4000 for call in posted)
    assert [call.buttons() != [] for call in posted] == [False] * (len(posted) - 1) + [True]
    notice, _post = await check_published_notice(
        bot, kind=NoticeKind.BALLOT, channel_id=CHANNEL_ID, audience="members"
    )
    assert all(f"意见{index:02d}" in notice.body for index in range(15))  # stored whole
    # At the end the long post is not edited: the outcome follows as its own message.
    runtime = bot.app.state.runtime
    assert runtime is not None
    ended = await end_due_notices(
        runtime, today=notice.ends_on + timedelta(days=1), now=utcnow() + timedelta(days=30)
    )
    assert ended == 1
    assert bot.telegram.sent("editMessageText", CHANNEL_ID) == []
    await drain(bot)
    assert "公示期满无异议" in bot.telegram.last(CHANNEL_ID).text


def test_fraction_settings_must_lie_above_0_and_at_most_1(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    for name in ("ballot_quorum", "ballot_majority"):
        for value in ("1/0", "0/3", "4/3"):
            with pytest.raises(ValidationError, match=f"{name.upper()} must be a fraction"):
                Settings.model_validate({name: value})
        assert getattr(Settings.model_validate({name: "1/1"}), name) == "1/1"


async def test_a_dollar_sign_in_a_title_or_an_item_is_drawn_as_it_is(bot: BotHarness) -> None:
    voters = people(3)
    await setup(bot, voters)
    await bot.say(COMMITTEE, "/ballot")
    await bot.say(COMMITTEE, "奖金 $x^{$ 方案")  # mathtext would refuse this
    await bot.press(COMMITTEE, BallotKindChoice(BallotKind.SATISFACTION).pack())
    await bot.press(COMMITTEE, BallotWho(Electorate.EVERYONE).pack())
    await bot.say(COMMITTEE, "每人 $200$ 奖金\n$\\frac{1$")
    await bot.press(COMMITTEE, BallotOpensNow().pack())
    await bot.say(COMMITTEE, local(utcnow() + timedelta(days=2), bot))
    await bot.press(COMMITTEE, BallotCreate("yes").pack())
    async with bot.db() as session:
        ballot = (await session.exec(select(Ballot))).one()
    for person in voters:
        await vote(bot, person, ballot, ["satisfied", "basic"])
    await close(bot, ballot)
    await bot.press(COMMITTEE, BallotResults("png", ballot.id or 0).pack(), chat=GROUP)
    assert len(bot.telegram.sent("sendPhoto", COMMITTEE_GROUP_ID)) == 1
