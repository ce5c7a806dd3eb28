"""District contests between the schools' teams, and the district's selection of 优秀提案,
through the real application: the whole cycle, the walls, and the nominations' refusals."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.settings import Settings
from handlers.district_contests.buttons import (
    ContestDesk,
    ContestEnter,
    ContestKindChoice,
    ContestNew,
    ContestResult,
    ExcellentNominate,
    ExcellentPick,
    ExcellentWithdraw,
)
from models.district_contests import (
    ContestKind,
    ContestTeam,
    DistrictContest,
    ExcellentNomination,
    ExcellentRound,
)
from models.members import Member, Role
from models.outbox import Broadcast, OutboxMessage
from models.proposals import Proposal, ProposalStatus
from scheduler.district_reminders import enter_data, remind_entries
from tests.support.district import (
    CHAIR_A,
    CHAIR_B,
    COMMITTEE_B,
    DISTRICT_NAME,
    DISTRICT_STAFF,
    SCHOOL_A,
    SCHOOL_B,
    TEACHER_B,
    District,
    district_bot,
)
from tests.support.factories import make_member
from tests.support.harness import BotHarness
from tests.support.updates import Person
from tests.test_calendar_chat import drain
from tests.test_ideas import sent_files

NOW = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
AFTER_DEADLINE = datetime(2026, 12, 16, 2, 0, tzinfo=UTC)  # entries closed on the 15th, 18:00


def _alert(bot: BotHarness) -> str:
    return str(bot.telegram.answers()[-1].params.get("text", ""))


def _last(bot: BotHarness, person_id: int) -> str:
    return bot.telegram.last(person_id).text


async def _create_contest(bot: BotHarness) -> int:
    """District staff create a sports meet (teams of at most 3) through the form."""
    bot.app.state.clock = lambda: NOW
    await bot.say(DISTRICT_STAFF, "/menu")  # offered in the district union's menu
    await bot.press(DISTRICT_STAFF, bot.telegram.last(DISTRICT_STAFF.id).button_data("区级比赛"))
    assert "还没有区级比赛" in _last(bot, DISTRICT_STAFF.id)
    await bot.press(DISTRICT_STAFF, ContestNew("go").pack())
    await bot.say(DISTRICT_STAFF, "全区教职工运动会")
    await bot.press(DISTRICT_STAFF, ContestKindChoice(ContestKind.SPORTS).pack())
    await bot.say(DISTRICT_STAFF, "2026-12-20 09:00")
    await bot.say(DISTRICT_STAFF, "区体育中心")
    await bot.say(DISTRICT_STAFF, "2026-12-25 18:00")  # after the contest: asked again
    assert "不能晚于比赛时间" in _last(bot, DISTRICT_STAFF.id)
    await bot.say(DISTRICT_STAFF, "2026-12-15 18:00")
    await bot.say(DISTRICT_STAFF, "3")
    await bot.say(DISTRICT_STAFF, "接力、拔河、跳绳三个项目")
    preview = bot.telegram.last(DISTRICT_STAFF.id)
    assert "请确认比赛信息" in preview.text and "全区教职工运动会（运动会）" in preview.text
    assert "报名截止：2026-12-15 18:00 · 每队最多 3 人" in preview.text
    confirm = preview.button_data("确认发布")
    await bot.press(DISTRICT_STAFF, confirm)
    assert "已通知 2 所学校的工会主席" in bot.telegram.texts(DISTRICT_STAFF.id)[-2]
    await bot.press(DISTRICT_STAFF, confirm)  # the same press again: still one contest
    async with bot.db() as session:
        (contest,) = list(await session.exec(select(DistrictContest)))
    return contest.id or 0


async def _enter(
    bot: BotHarness, chair: Person, button: ContestEnter, name: str, players: str
) -> None:
    await bot.press(chair, button.pack())
    await bot.say(chair, name)
    await bot.say(chair, players)


async def _teams(bot: BotHarness) -> dict[int, ContestTeam]:
    async with bot.db() as session:
        return {team.school_id: team for team in await session.exec(select(ContestTeam))}


async def test_contest_cycle_create_enter_change_deadline_results_and_xlsx(
    settings: Settings,
) -> None:
    async with district_bot(settings) as (bot, ids):
        contest_id = await _create_contest(bot)

        # Each school's chair is told through the outbox, with a button for their own school.
        await drain(bot)
        for chair, school in ((CHAIR_A, ids.school_a), (CHAIR_B, ids.school_b)):
            told = bot.telegram.last(chair.id)
            assert "请为本校报名" in told.text and "区体育中心" in told.text
            assert told.button_data("报名参赛") == ContestEnter(contest_id, school).pack()

        # A enters (over the limit first: asked again); B enters, then changes its team.
        enter_a = ContestEnter(contest_id, ids.school_a)
        await _enter(bot, CHAIR_A, enter_a, "甲校代表队", "张三\n李四\n王五\n赵六")
        assert "输入了 4 人，超过每队最多 3 人" in _last(bot, CHAIR_A.id)
        await bot.say(CHAIR_A, "张三\n李四\n王五")
        assert "已报名“全区教职工运动会”：甲校代表队（3 人）" in _last(bot, CHAIR_A.id)
        enter_b = ContestEnter(contest_id, ids.school_b)
        await _enter(bot, CHAIR_B, enter_b, "乙校队", "钱一\n孙二")
        await bot.press(CHAIR_B, enter_b.pack())
        assert "当前报名：乙校队：钱一、孙二" in _last(bot, CHAIR_B.id)
        await bot.say(CHAIR_B, "乙校精英队")
        await bot.say(CHAIR_B, "钱一\n孙二\n周三")
        assert "已修改“全区教职工运动会”的报名：乙校精英队（3 人）" in _last(bot, CHAIR_B.id)
        teams = await _teams(bot)
        assert len(teams) == 2 and teams[ids.school_b].name == "乙校精英队"
        assert teams[ids.school_b].player_list() == ["钱一", "孙二", "周三"]
        # The database itself refuses a second team of the same school.
        async with bot.db() as session:
            session.add(
                ContestTeam(
                    contest_id=contest_id,
                    school_id=ids.school_b,
                    name="重复",
                    players="钱一",
                    entered_by_member_id=teams[ids.school_b].entered_by_member_id,
                )
            )
            with pytest.raises(IntegrityError):
                await session.commit()

        # A chair's own view (from the school's menu): the school's entry, with a button.
        await bot.say(CHAIR_B, "/menu")
        await bot.press(CHAIR_B, bot.telegram.last(CHAIR_B.id).button_data("区级比赛"))
        mine = bot.telegram.last(CHAIR_B.id)
        assert "已报名：乙校精英队（3 人）" in mine.text and "甲校" not in mine.text
        assert mine.button_data("修改报名") == enter_b.pack()

        # Past the deadline: refused, the team unchanged.
        bot.app.state.clock = lambda: AFTER_DEADLINE
        await bot.press(CHAIR_B, enter_b.pack())
        assert "报名已经截止" in _alert(bot)
        await bot.say(CHAIR_B, "又改了")
        assert (await _teams(bot))[ids.school_b].name == "乙校精英队"

        # District staff see the entries, record a result per team (a bad word asked again).
        await bot.press(DISTRICT_STAFF, ContestDesk("show", contest_id).pack())
        card = _last(bot, DISTRICT_STAFF.id)
        assert (
            "已报名 2/2 所学校" in card and f"{SCHOOL_A} · 甲校代表队（张三、李四、王五）" in card
        )
        await bot.press(DISTRICT_STAFF, ContestDesk("publish", contest_id).pack())
        assert "还有队伍没有成绩" in _alert(bot)
        await bot.press(
            DISTRICT_STAFF, ContestResult(contest_id, teams[ids.school_a].id or 0).pack()
        )
        await bot.say(DISTRICT_STAFF, "冠军")
        assert "看不懂这个成绩" in _last(bot, DISTRICT_STAFF.id)
        await bot.say(DISTRICT_STAFF, "一等奖")
        assert "已记录：甲校代表队 · 一等奖" in bot.telegram.texts(DISTRICT_STAFF.id)[-2]
        await bot.press(
            DISTRICT_STAFF, ContestResult(contest_id, teams[ids.school_b].id or 0).pack()
        )
        await bot.say(DISTRICT_STAFF, "第2名")

        # Published once; each chair is told their own school's result and the full list.
        await bot.press(DISTRICT_STAFF, ContestDesk("publish", contest_id).pack())
        assert "成绩已公布，已通知 2 所学校" in bot.telegram.texts(DISTRICT_STAFF.id)[-2]
        await bot.press(DISTRICT_STAFF, ContestDesk("publish", contest_id).pack())
        assert "成绩已经公布" in _alert(bot)
        await drain(bot)
        told_a, told_b = _last(bot, CHAIR_A.id), _last(bot, CHAIR_B.id)
        assert "本校：甲校代表队 · 一等奖" in told_a and "本校：乙校精英队 · 第2名" in told_b
        for text in (told_a, told_b):
            assert f"{SCHOOL_A} · 甲校代表队 · 一等奖\n{SCHOOL_B} · 乙校精英队 · 第2名" in text
        async with bot.db() as session:
            keys = sorted(b.key for b in await session.exec(select(Broadcast)))
        assert keys == [f"dcontest:{contest_id}:announce", f"dcontest:{contest_id}:results"]

        # The xlsx, read back.
        files = sent_files(bot)
        await bot.press(DISTRICT_STAFF, ContestDesk("xlsx", contest_id).pack())
        sheet = load_workbook(io.BytesIO(files[-1])).active
        assert sheet is not None
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        assert rows == [
            ["学校", "队名", "人数", "队员", "成绩"],
            [SCHOOL_A, "甲校代表队", 3, "张三、李四、王五", "一等奖"],
            [SCHOOL_B, "乙校精英队", 3, "钱一、孙二、周三", "第2名"],
        ]


def _at_nine(day: int) -> datetime:
    """09:00 in Shanghai on that day of December 2026, when the daily reminder runs."""
    return datetime(2026, 12, day, 1, 0, tzinfo=UTC)


async def test_schools_without_a_team_are_reminded_before_the_entry_deadline(
    settings: Settings,
) -> None:
    """From two days before the entries close (the 15th, 18:00): the chairs of schools with
    no team, once a day, with the button that enters one; a school that entered hears
    nothing, and nobody does once entries are closed."""
    async with district_bot(settings) as (bot, ids):
        contest_id = await _create_contest(bot)
        runtime = bot.app.state.runtime
        assert runtime is not None
        await _enter(bot, CHAIR_A, ContestEnter(contest_id, ids.school_a), "甲校队", "张三")
        await drain(bot)
        bot.telegram.clear()

        assert await remind_entries(runtime, now=_at_nine(12)) == 0  # three days before
        assert await remind_entries(runtime, now=_at_nine(13)) == 1
        assert await remind_entries(runtime, now=_at_nine(13)) == 0  # once a day
        # Queued for 09:00 on the 13th (the outbox sends it then): to B's chair alone.
        async with bot.db() as session:
            query = select(OutboxMessage).where(col(OutboxMessage.text).startswith("⏰"))
            [reminder] = list(await session.exec(query))
        assert reminder.chat_id == CHAIR_B.id
        assert reminder.text == (
            "⏰ “全区教职工运动会”的报名将于 2026-12-15 18:00 截止，本校还没有报名。"
            "请点下面的按钮报名参赛。"
        )
        enter_b = ContestEnter(contest_id, ids.school_b)
        assert json.loads(reminder.buttons or "[]") == [
            [["📝 报名参赛：全区教职工运动会", enter_b.pack()]]
        ]
        assert enter_data(contest_id, ids.school_b) == enter_b.pack()
        assert await remind_entries(runtime, now=_at_nine(15)) == 1  # the last day, 18:00
        assert await remind_entries(runtime, now=datetime(2026, 12, 15, 10, 1, tzinfo=UTC)) == 0

        # The button works: B enters, and is not reminded again.
        await _enter(bot, CHAIR_B, enter_b, "乙校队", "钱一")
        assert "已报名“全区教职工运动会”：乙校队（1 人）" in _last(bot, CHAIR_B.id)
        async with bot.db() as session:
            keys = sorted(b.key for b in await session.exec(select(Broadcast)))
        school_b = ids.school_b
        assert keys == sorted(
            [
                f"dcontest:{contest_id}:announce",
                f"dcontest:{contest_id}:{school_b}:remind:2026-12-13",
                f"dcontest:{contest_id}:{school_b}:remind:2026-12-15",
            ]
        )
        assert await remind_entries(runtime, now=_at_nine(14)) == 0  # a new day, none owes


async def test_walls_forged_school_buttons_plain_member_and_school_committee(
    settings: Settings,
) -> None:
    async with district_bot(settings) as (bot, ids):
        contest_id = await _create_contest(bot)
        await _enter(bot, CHAIR_A, ContestEnter(contest_id, ids.school_a), "甲校队", "张三")
        team_a = (await _teams(bot))[ids.school_a]

        # School B's chair forges school A's entry button, then the district's buttons.
        await bot.press(CHAIR_B, ContestEnter(contest_id, ids.school_a).pack())
        assert "这个按钮属于另一所学校" in _alert(bot)
        await bot.say(CHAIR_B, "冒充甲校")
        for forged in (
            ContestResult(contest_id, team_a.id or 0),
            ContestDesk("xlsx", contest_id),
            ContestDesk("publish", contest_id),
        ):
            await bot.press(CHAIR_B, forged.pack())
            assert "只有区教育工会的主席和委员" in _alert(bot)

        # A plain member of school B, and a school committee member at the district's tools.
        await bot.say(TEACHER_B, "/dcontest")
        assert "只有本校工会主席或副主席" in _last(bot, TEACHER_B.id)
        await bot.press(TEACHER_B, ContestEnter(contest_id, ids.school_b).pack())
        assert "只有本校工会主席或副主席" in _alert(bot)
        for district_button in (
            ContestNew("go"),
            ContestDesk("show", contest_id),
            ContestResult(contest_id, team_a.id or 0),
            ExcellentPick("yes", 1),
        ):
            await bot.press(COMMITTEE_B, district_button.pack())
            assert "只有区教育工会的主席和委员" in _alert(bot)
        await bot.say(COMMITTEE_B, "一等奖")

        teams = await _teams(bot)
        assert list(teams) == [ids.school_a] and teams[ids.school_a].name == "甲校队"
        assert not teams[ids.school_a].has_result
        assert "张三" not in "\n".join(bot.telegram.texts(CHAIR_B.id))


async def _proposals(bot: BotHarness, ids: District) -> dict[str, int]:
    """Filed proposals: two excellent and one not in school A, one excellent in school B."""
    async with bot.db() as session:
        filers = {
            m.telegram_user_id: m
            for m in await session.exec(
                select(Member).where(col(Member.telegram_user_id).in_([CHAIR_A.id, CHAIR_B.id]))
            )
        }
        made: dict[str, Proposal] = {}
        for key, school, filer, excellent in (
            ("a1", ids.school_a, CHAIR_A, True),
            ("a2", ids.school_a, CHAIR_A, False),
            ("a3", ids.school_a, CHAIR_A, True),
            ("b1", ids.school_b, CHAIR_B, True),
        ):
            made[key] = Proposal(
                organization_id=school,
                number=len(made) + 1,
                proposer_member_id=filers[filer.id].id or 0,
                title=f"关于改善{key}教师午餐的提案",
                reasons=f"理由{key}：教师午餐时间太短。",
                measures=f"措施{key}：延长午休二十分钟。",
                client_token=f"tok-{key}",
                status=ProposalStatus.FILED,
                excellent=excellent,
            )
            session.add(made[key])
        await session.commit()
        return {key: proposal.id or 0 for key, proposal in made.items()}


async def test_excellent_proposals_nominated_refused_selected_and_told(settings: Settings) -> None:
    async with district_bot(settings) as (bot, ids):
        bot.app.state.clock = lambda: NOW
        p = await _proposals(bot, ids)

        # The district opens the year's selection with one nomination per school.
        await bot.say(DISTRICT_STAFF, "/dexcellent 1")
        await bot.press(DISTRICT_STAFF, bot.telegram.last(DISTRICT_STAFF.id).button_data("开启"))
        assert "已通知 2 所学校的工会主席" in bot.telegram.texts(DISTRICT_STAFF.id)[-2]
        async with bot.db() as session:
            (row,) = list(await session.exec(select(ExcellentRound)))
        round_id = row.id or 0
        await drain(bot)
        assert "最多 1 件" in _last(bot, CHAIR_A.id)
        # A new quota once the schools were told: said, the round unchanged.
        await bot.say(DISTRICT_STAFF, "/dexcellent 5")
        assert "名额（每校 1 项）不能再改" in bot.telegram.texts(DISTRICT_STAFF.id)[-2]
        async with bot.db() as session:
            assert (await session.exec(select(ExcellentRound))).one().quota == 1

        # A's chair sees only A's excellent proposals as buttons.
        await bot.say(CHAIR_A, "/dexcellent")
        offered = bot.telegram.last(CHAIR_A.id)
        shown = [data for _label, data in offered.buttons()]
        assert sorted(shown) == sorted(
            ExcellentNominate(round_id, ids.school_a, p[key]).pack() for key in ("a1", "a3")
        )

        # Refused: not excellent, another school's, and over the quota; one nomination kept.
        for forged, refusal in (
            (p["a2"], "还没有被本校工会评为优秀提案"),
            (p["b1"], "只能推荐本校的提案"),
        ):
            await bot.press(CHAIR_A, ExcellentNominate(round_id, ids.school_a, forged).pack())
            assert refusal in _alert(bot)
        await bot.press(CHAIR_A, ExcellentNominate(round_id, ids.school_a, p["a1"]).pack())
        assert "已推荐" in _alert(bot)
        await bot.press(CHAIR_A, ExcellentNominate(round_id, ids.school_a, p["a1"]).pack())
        assert "已经推荐过了" in _alert(bot)
        await bot.press(CHAIR_A, ExcellentNominate(round_id, ids.school_a, p["a3"]).pack())
        assert "达到上限" in _alert(bot)
        await bot.press(CHAIR_B, ExcellentNominate(round_id, ids.school_a, p["a3"]).pack())
        assert "这个按钮属于另一所学校" in _alert(bot)

        # A swap: B's chair cannot withdraw A's nomination; A's chair withdraws and nominates.
        async def nomination_of(proposal_id: int) -> int:
            async with bot.db() as session:
                query = select(ExcellentNomination).where(
                    ExcellentNomination.proposal_id == proposal_id
                )
                found = (await session.exec(query)).first()
            assert found is not None
            return found.id or 0

        first = await nomination_of(p["a1"])
        await bot.press(CHAIR_B, ExcellentWithdraw(ids.school_a, first).pack())
        assert "这个按钮属于另一所学校" in _alert(bot)
        await bot.press(CHAIR_B, ExcellentWithdraw(ids.school_b, first).pack())
        assert "只能推荐本校的提案" in _alert(bot)
        await bot.press(CHAIR_A, ExcellentWithdraw(ids.school_a, first).pack())
        assert "已撤回推荐" in _alert(bot)
        await bot.press(CHAIR_A, ExcellentNominate(round_id, ids.school_a, p["a3"]).pack())
        assert "已推荐" in _alert(bot)
        await bot.press(
            CHAIR_A, ExcellentWithdraw(ids.school_a, await nomination_of(p["a3"])).pack()
        )
        await bot.press(CHAIR_A, ExcellentNominate(round_id, ids.school_a, p["a1"]).pack())
        assert "本校已推荐 1/1 件" in _last(bot, CHAIR_A.id)
        await bot.press(CHAIR_B, ExcellentNominate(round_id, ids.school_b, p["b1"]).pack())

        # The district reads the nominated proposals (school, title, filer, text) and selects.
        await bot.say(DISTRICT_STAFF, "/dexcellent")
        card = _last(bot, DISTRICT_STAFF.id)
        assert f"【{SCHOOL_A}】提案第1号「关于改善a1教师午餐的提案」" in card
        assert "提案人：甲校主席" in card and "理由a1：教师午餐时间太短。" in card
        assert f"【{SCHOOL_B}】" in card and "a3" not in card and "a2" not in card
        async with bot.db() as session:
            nominations = {
                n.proposal_id: n.id or 0 for n in await session.exec(select(ExcellentNomination))
            }
        assert sorted(nominations) == sorted([p["a1"], p["b1"]])
        await bot.press(DISTRICT_STAFF, ExcellentPick("yes", nominations[p["a1"]]).pack())
        assert "已选定" in _alert(bot)
        await bot.press(
            DISTRICT_STAFF, bot.telegram.last(DISTRICT_STAFF.id).button_data("公布评选结果")
        )
        assert "评选结果已公布" in bot.telegram.texts(DISTRICT_STAFF.id)[-2]

        # Each chair is told the district's 优秀提案 and how many are their school's.
        await drain(bot)
        told_a, told_b = _last(bot, CHAIR_A.id), _last(bot, CHAIR_B.id)
        for told in (told_a, told_b):
            assert f"【{SCHOOL_A}】提案第1号「关于改善a1教师午餐的提案」" in told
            assert "b1" not in told
        assert "本校入选 1 件" in told_a and "本校入选 0 件" in told_b
        await bot.press(CHAIR_B, ExcellentNominate(round_id, ids.school_b, p["b1"]).pack())
        assert "评选已经结束" in _alert(bot)


async def test_staff_who_are_members_of_a_school_do_not_record_its_result(
    settings: Settings,
) -> None:
    """回避: a district staffer who is also school B's chair records A's result, not B's."""
    both = Person(3010, "兼职干事")
    async with district_bot(settings) as (bot, ids):
        await make_member(bot.db, org_id=ids.district_id, person=both, roles=[Role.COMMITTEE])
        await make_member(bot.db, org_id=ids.school_b, person=both, roles=[Role.CHAIR])
        contest_id = await _create_contest(bot)
        await _enter(bot, CHAIR_A, ContestEnter(contest_id, ids.school_a), "甲队", "张三")
        await _enter(bot, CHAIR_B, ContestEnter(contest_id, ids.school_b), "乙队", "李四")
        teams = await _teams(bot)

        await bot.say(both, "/school")  # on two rosters: act for the district union
        await bot.press(both, bot.telegram.last(both.id).button_data(DISTRICT_NAME))
        await bot.press(both, ContestResult(contest_id, teams[ids.school_b].id or 0).pack())
        assert "您也是第二小学的会员，按回避原则不能评定本校" in _alert(bot)
        await bot.say(both, "一等奖")
        await bot.press(both, ContestResult(contest_id, teams[ids.school_a].id or 0).pack())
        await bot.say(both, "一等奖")

        stored = await _teams(bot)
        assert stored[ids.school_a].award is not None and stored[ids.school_b].award is None


async def test_the_officer_whose_entry_another_changed_is_told(settings: Settings) -> None:
    """The chair and a vice-chair may both enter the school's team: whoever's entry the other
    one replaces is told what it is now; changing one's own entry tells nobody."""
    vice = Person(3020, "乙校副主席")
    async with district_bot(settings) as (bot, ids):
        await make_member(
            bot.db, org_id=ids.school_b, person=vice, name="钱副主席", roles=[Role.VICE_CHAIR]
        )
        contest_id = await _create_contest(bot)
        enter_b = ContestEnter(contest_id, ids.school_b)
        await _enter(bot, CHAIR_B, enter_b, "主席队", "张三")
        await _enter(bot, CHAIR_B, enter_b, "主席队", "张三\n李四")  # own change: nobody told
        assert not any("ℹ️" in text for text in bot.telegram.texts(vice.id))

        await _enter(bot, vice, enter_b, "副主席队", "王五")

        told = [text for text in bot.telegram.texts(CHAIR_B.id) if text.startswith("ℹ️")]
        assert told == [
            "ℹ️ 本校“全区教职工运动会”的报名已由钱副主席修改为：副主席队（王五）。"
            "如有不同意见，请与对方商量后再发送 /dcontest 修改。"
        ]
        assert (await _teams(bot))[ids.school_b].name == "副主席队"
