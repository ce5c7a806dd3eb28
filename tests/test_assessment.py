"""The district's annual school assessment (目标管理考核): the model against hand-computed
figures and its database guards; then the whole flow through the real application."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.db import SessionFactory, create_engine, create_session_factory
from bot.settings import Settings
from handlers.assessment.buttons import (
    AssessDeadline,
    AssessDesk,
    AssessItem,
    AssessSchool,
    AssessScore,
    AssessSend,
)
from models.assessment import (
    DEFAULT_CHECKLIST,
    PASS_MARK,
    Assessment,
    AssessmentScore,
    AssessmentStatus,
    AssessmentSubmission,
    close_assessment,
    compare,
    create_assessment,
    items_of,
    open_assessment,
    parse_points,
    rank_totals,
    score_item,
    submit_evidence,
)
from models.district import add_school, create_district
from models.errors import DomainError, InputError
from models.members import Actor, Member, Role, load_actor
from models.outbox import Broadcast, OutboxMessage
from scheduler.district_reminders import remind_evidence
from tests.support.district import (
    CHAIR_A,
    CHAIR_B,
    COMMITTEE_B,
    DISTRICT_STAFF,
    SCHOOL_A,
    SCHOOL_B,
    TEACHER_B,
    district_bot,
)
from tests.support.factories import make_member
from tests.support.harness import BotHarness
from tests.support.updates import Person, text
from tests.test_calendar_chat import drain
from tests.test_ideas import sent_files

EVIDENCE_A = "公示栏每月更新，意见箱每周开启，全年公开12次。"
EVIDENCE_B = "乙校：教代会全年召开2次，审议通过绩效方案。"
FILE_ID = "BQACAgIAAxkBAAIdocA1"

YEAR = 2026
# Hand-computed: the default checklist's points are 20 20 15 10 10 10 5 5 5.
SCORES_A = (18, 17, 14, 9, 8, 9, 4, 5, 3)  # 87: 合格
SCORES_B = (10, 12, 8, 5, 6, 5, 2, 3, 1)  # 52: 不合格

M_STAFF = Person(5001, "区工会", "zh-hans")
M_STAFF_TWO = Person(5002, "区工会二", "zh-hans")
M_CHAIR_A = Person(5101, "甲校主席", "zh-hans")
M_CHAIR_B = Person(5201, "乙校主席", "zh-hans")
M_MEMBER_A = Person(5102, "甲校会员", "zh-hans")
M_COMMITTEE_A = Person(5103, "甲校委员", "zh-hans")


@dataclass
class District:
    """A district with two schools, its staff, each school's chair, and a few others."""

    district_id: int
    school_a: int
    school_b: int
    staff: Actor
    staff_two: Actor
    chair_a: Actor
    chair_b: Actor
    member_a: Actor
    committee_a: Actor


def _actor(member: Member, *roles: Role) -> Actor:
    return Actor(member, frozenset(roles))


async def build_district(db: SessionFactory) -> District:
    """The district union, 甲校 and 乙校, two district staff, the schools' chairs, a plain member
    and a committee member of 甲校 (made through the lead's models/district.py)."""
    async with db() as session:
        district = await create_district(session, name="区教育工会")
        district_id = district.id or 0
        school_a = (await add_school(session, district_id=district_id, name="甲校")).id or 0
        school_b = (await add_school(session, district_id=district_id, name="乙校")).id or 0

    async def member(org: int, person: Person, name: str, *roles: Role) -> Actor:
        made = await make_member(db, org_id=org, person=person, name=name, roles=roles)
        return _actor(made, *roles)

    return District(
        district_id=district_id,
        school_a=school_a,
        school_b=school_b,
        staff=await member(district_id, M_STAFF, "区工会主席", Role.CHAIR),
        staff_two=await member(district_id, M_STAFF_TWO, "区工会干事", Role.COMMITTEE),
        chair_a=await member(school_a, M_CHAIR_A, "甲校主席", Role.CHAIR),
        chair_b=await member(school_b, M_CHAIR_B, "乙校副主席", Role.VICE_CHAIR),
        member_a=await member(school_a, M_MEMBER_A, "甲校会员"),
        committee_a=await member(school_a, M_COMMITTEE_A, "甲校委员", Role.COMMITTEE),
    )


@pytest.fixture
async def db(clean_database: str) -> AsyncIterator[SessionFactory]:
    """Sessions on the clean test database (the model tests need no bot)."""
    engine = create_engine(clean_database)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


async def opened(db: SessionFactory, d: District) -> tuple[int, list[int]]:
    """The year's assessment from the default checklist, opened; its id and item ids."""
    async with db() as session:
        assessment = await create_assessment(
            session, district_id=d.district_id, actor=d.staff, year=YEAR
        )
        await open_assessment(
            session, district_id=d.district_id, assessment_id=assessment.id or 0, actor=d.staff
        )
        items = await items_of(session, assessment_id=assessment.id or 0)
    return assessment.id or 0, [item.id or 0 for item in items]


# ---- the model ---------------------------------------------------------------------------


def test_default_checklist_sums_to_100_and_points_parse() -> None:
    assert sum(item.max_points for item in DEFAULT_CHECKLIST) == 100
    assert all(item.source.startswith("seed") for item in DEFAULT_CHECKLIST)
    assert parse_points("18", max_points=20) == (18, None)
    assert parse_points("18分 材料齐全", max_points=20) == (18, "材料齐全")
    with pytest.raises(InputError) as refused:
        parse_points("21", max_points=20)
    assert refused.value.key == "assess.points_range"
    # As Chinese input methods type them: full-width digits, a full-width space, 十八.
    assert parse_points("２０", max_points=20) == (20, None)
    assert parse_points("１８分\u3000材料齐全", max_points=20) == (18, "材料齐全")
    assert parse_points("十八", max_points=20) == (18, None)
    for bad in ("-1", "18.5", "1e1", "", "分", "二十一"):
        with pytest.raises(InputError):
            parse_points(bad, max_points=20)
    assert rank_totals({1: 80, 2: 80, 3: 70}) == {1: 1, 2: 1, 3: 3}


async def test_totals_rank_and_pass_rate_against_hand_computed_figures(db: SessionFactory) -> None:
    d = await build_district(db)
    assessment_id, item_ids = await opened(db, d)
    async with db() as session:
        for school, points in ((d.school_a, SCORES_A), (d.school_b, SCORES_B)):
            for item_id, value in zip(item_ids, points, strict=True):
                await score_item(
                    session,
                    district_id=d.district_id,
                    assessment_id=assessment_id,
                    item_id=item_id,
                    school_id=school,
                    actor=d.staff,
                    points=value,
                )
        # Scoring again keeps the last score, with who and when.
        first = await score_item(
            session,
            district_id=d.district_id,
            assessment_id=assessment_id,
            item_id=item_ids[0],
            school_id=d.school_b,
            actor=d.staff_two,
            points=11,
            note="补充材料后改分",
        )
        result = await compare(session, district_id=d.district_id, assessment_id=assessment_id)
        rows = list(
            await session.exec(
                select(AssessmentScore).where(
                    AssessmentScore.item_id == item_ids[0],
                    AssessmentScore.school_id == d.school_b,
                )
            )
        )

    assert [(row.school, row.total, row.rank, row.passed) for row in result.standings] == [
        ("甲校", 87, 1, True),
        ("乙校", 53, 2, False),  # 52, with 10 -> 11 on the first item
    ]
    assert PASS_MARK == 60 and result.passed == 1 and result.pass_rate == 50.0
    assert len(rows) == 1 and rows[0].points == 11 and rows[0].scored_by_member_id == d.staff_two.id
    assert rows[0].note == "补充材料后改分" and rows[0].scored_at == first.scored_at


async def test_score_out_of_range_is_refused_by_the_model_and_the_database(
    db: SessionFactory,
) -> None:
    d = await build_district(db)
    assessment_id, item_ids = await opened(db, d)  # item 1: 20 points
    async with db() as session:
        with pytest.raises(InputError):
            await score_item(
                session,
                district_id=d.district_id,
                assessment_id=assessment_id,
                item_id=item_ids[0],
                school_id=d.school_a,
                actor=d.staff,
                points=21,
            )
    for max_points, points in ((20, 21), (20, -1), (100, 50)):  # (100, 50): a forged maximum
        async with db() as session:
            session.add(
                AssessmentScore(
                    item_id=item_ids[0],
                    max_points=max_points,
                    school_id=d.school_a,
                    points=points,
                    scored_by_member_id=d.staff.id,
                )
            )
            with pytest.raises(IntegrityError):
                await session.commit()
    async with db() as session:
        assert list(await session.exec(select(AssessmentScore))) == []
        # A school's committee member and a school's chair do not score.
        for actor in (d.committee_a, d.chair_a):
            with pytest.raises(DomainError) as refused:
                await score_item(
                    session,
                    district_id=d.district_id,
                    assessment_id=assessment_id,
                    item_id=item_ids[0],
                    school_id=d.school_a,
                    actor=actor,
                    points=5,
                )
            assert refused.value.key == "assess.not_district_staff"


async def test_submission_after_close_is_refused(db: SessionFactory) -> None:
    d = await build_district(db)
    assessment_id, item_ids = await opened(db, d)

    async def send(actor: Actor, school: int, text: str) -> AssessmentSubmission:
        async with db() as session:
            return await submit_evidence(
                session,
                district_id=d.district_id,
                assessment_id=assessment_id,
                item_id=item_ids[0],
                school_id=school,
                actor=actor,
                evidence=text,
            )

    await send(d.chair_a, d.school_a, "公示栏每月更新，意见箱每周开启。")
    await send(d.chair_a, d.school_a, "公示栏每月更新，意见箱每周开启，全年公开12次。")  # replaced
    for actor, school in ((d.chair_a, d.school_b), (d.member_a, d.school_a)):
        with pytest.raises(DomainError) as refused:  # another school's, a plain member
            await send(actor, school, "冒充提交")
        assert refused.value.key == "assess.not_school_chair"
    async with db() as session:
        closed = await close_assessment(
            session, district_id=d.district_id, assessment_id=assessment_id, actor=d.staff
        )
    assert closed.status == AssessmentStatus.CLOSED

    with pytest.raises(DomainError) as refused:
        await send(d.chair_a, d.school_a, "关闭后再改")
    assert refused.value.key == "assess.closed_for_schools"
    async with db() as session:
        rows = list(await session.exec(select(AssessmentSubmission)))
    assert [(row.school_id, row.evidence) for row in rows] == [
        (d.school_a, "公示栏每月更新，意见箱每周开启，全年公开12次。")
    ]


# ---- through the real application --------------------------------------------------------


def _document(person: Person, file_id: str, name: str, caption: str) -> dict[str, Any]:
    """A document sent in the private chat, as Telegram sends it."""
    update = text(person, "x")
    message = update["message"]
    del message["text"]
    message["document"] = {"file_id": file_id, "file_unique_id": file_id[-8:], "file_name": name}
    message["caption"] = caption
    return update


def _alert(bot: BotHarness) -> str:
    return str(bot.telegram.answers()[-1].params.get("text", ""))


async def _app_items(bot: BotHarness) -> tuple[int, list[int]]:
    async with bot.db() as session:
        (assessment,) = list(await session.exec(select(Assessment)))
        items = await items_of(session, assessment_id=assessment.id or 0)
    return assessment.id or 0, [item.id or 0 for item in items]


async def _send_text(bot: BotHarness, chair: Person, button: AssessItem, body: str) -> None:
    await bot.press(chair, button.pack())
    await bot.say(chair, body)
    assert "请确认提交给区教育工会的材料" in bot.telegram.last(chair.id).text
    await bot.press(chair, AssessSend("send").pack())


async def test_district_creates_opens_scores_closes_and_compares_two_schools(
    settings: Settings,
) -> None:
    async with district_bot(settings) as (bot, ids):
        # District staff: the default checklist as a preview, then Confirm (twice: one row).
        await bot.say(DISTRICT_STAFF, "/assessment")
        preview = bot.telegram.last(DISTRICT_STAFF.id)
        assert "校务公开（20分） · 须提交材料" in preview.text and "满分 100 分" in preview.text
        create = preview.button_data("按此清单创建")
        await bot.press(DISTRICT_STAFF, create)
        assert "草稿" in bot.telegram.last(DISTRICT_STAFF.id).text
        await bot.press(DISTRICT_STAFF, create)
        assert "已经创建过了" in _alert(bot)
        assessment_id, item_ids = await _app_items(bot)

        # Open: each school's chair is told once, through the outbox.
        await bot.press(DISTRICT_STAFF, AssessDesk("open", assessment_id).pack())
        assert "已通知 2 所学校的工会主席" in bot.telegram.texts(DISTRICT_STAFF.id)[-2]
        await bot.press(DISTRICT_STAFF, AssessDesk("open", assessment_id).pack())
        assert "已经开放过了" in _alert(bot)
        await drain(bot)
        for chair in (CHAIR_A, CHAIR_B):
            assert any("已开放" in told for told in bot.telegram.texts(chair.id))
        async with bot.db() as session:
            keys = [b.key for b in await session.exec(select(Broadcast))]
        assert keys == [f"assess:{assessment_id}:open"]

        # School A: a text for item 1 and a document for item 2; school B: a text for item 1.
        await bot.say(CHAIR_A, "/assessment")
        assert "1. 校务公开（20分） · 未提交 · 须提交" in bot.telegram.last(CHAIR_A.id).text
        await _send_text(
            bot, CHAIR_A, AssessItem(assessment_id, ids.school_a, item_ids[0]), EVIDENCE_A
        )
        assert "已提交：校务公开" in bot.telegram.last(CHAIR_A.id).text
        await bot.press(CHAIR_A, AssessItem(assessment_id, ids.school_a, item_ids[1]).pack())
        await bot.feed(_document(CHAIR_A, FILE_ID, "教代会记录.pdf", "第八届教代会一次会议"))
        assert "📎 附件：教代会记录.pdf" in bot.telegram.last(CHAIR_A.id).text
        await bot.press(CHAIR_A, AssessSend("send").pack())
        await _send_text(
            bot, CHAIR_B, AssessItem(assessment_id, ids.school_b, item_ids[0]), EVIDENCE_B
        )

        # The district sees who sent what, reads the evidence and scores item by item.
        await bot.press(DISTRICT_STAFF, AssessDesk("subs", assessment_id).pack())
        subs = bot.telegram.last(DISTRICT_STAFF.id).text
        assert f"{SCHOOL_A} · 材料 2/9 项 · 已评 0/9 项" in subs
        assert f"{SCHOOL_B} · 材料 1/9 项" in subs
        await bot.press(DISTRICT_STAFF, AssessSchool(assessment_id, ids.school_a).pack())
        await bot.press(
            DISTRICT_STAFF, AssessScore(assessment_id, ids.school_a, item_ids[0]).pack()
        )
        assert EVIDENCE_A in bot.telegram.last(DISTRICT_STAFF.id).text
        await bot.say(DISTRICT_STAFF, "25")
        assert (
            "25 分超出了这一项的范围：请输入 0 到 20" in bot.telegram.last(DISTRICT_STAFF.id).text
        )
        for school, points in ((ids.school_a, SCORES_A), (ids.school_b, SCORES_B)):
            for item_id, value in zip(item_ids, points, strict=True):
                if (school, item_id) != (ids.school_a, item_ids[0]):
                    await bot.press(
                        DISTRICT_STAFF, AssessScore(assessment_id, school, item_id).pack()
                    )
                await bot.say(DISTRICT_STAFF, f"{value} 材料齐全")
                assert "已记录" in bot.telegram.last(DISTRICT_STAFF.id).text
        # The document sent as evidence is shown to the scorer again (by its file id).
        assert [c.params["document"] for c in bot.telegram.sent("sendDocument")] == [FILE_ID]

        # A school sees its own scores once scored, and nothing of the other school.
        await bot.say(CHAIR_A, "/assessment")
        own = bot.telegram.last(CHAIR_A.id).text
        assert "校务公开（20分） · 已提交 · 得分 18" in own and "合计 87 分" in own
        assert EVIDENCE_B not in "\n".join(bot.telegram.texts(CHAIR_A.id))

        # Close: the school can no longer send; the comparison and the xlsx.
        await bot.press(DISTRICT_STAFF, AssessDesk("close", assessment_id).pack())
        await bot.press(DISTRICT_STAFF, AssessDesk("closeok", assessment_id).pack())
        await bot.press(CHAIR_A, AssessItem(assessment_id, ids.school_a, item_ids[2]).pack())
        assert "已结束提交" in _alert(bot)
        await bot.press(DISTRICT_STAFF, AssessDesk("cmp", assessment_id).pack())
        table = bot.telegram.last(DISTRICT_STAFF.id).text
        assert f"1. {SCHOOL_A} · 87 分 · 合格\n2. {SCHOOL_B} · 52 分 · 不合格" in table
        assert "合格 1/2 所，合格率 50.0%" in table
        files = sent_files(bot)
        await bot.press(DISTRICT_STAFF, AssessDesk("xlsx", assessment_id).pack())
        sheet = load_workbook(io.BytesIO(files[-1])).active
        assert sheet is not None
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        assert rows[0][:3] == ["名次", "学校", "校务公开（20分）"] and rows[0][-2:] == [
            "总分",
            "是否合格",
        ]
        assert rows[1] == [1, SCHOOL_A, *SCORES_A, 87, "合格"]
        assert rows[2] == [2, SCHOOL_B, *SCORES_B, 52, "不合格"]
        async with bot.db() as session:
            stored = list(await session.exec(select(AssessmentSubmission)))
        assert sorted((row.school_id, row.item_id) for row in stored) == sorted(
            [(ids.school_a, item_ids[0]), (ids.school_a, item_ids[1]), (ids.school_b, item_ids[0])]
        )


async def test_walls_forged_school_buttons_plain_member_and_school_committee(
    settings: Settings,
) -> None:
    async with district_bot(settings) as (bot, ids):
        await bot.say(DISTRICT_STAFF, "/assessment")
        await bot.press(
            DISTRICT_STAFF, bot.telegram.last(DISTRICT_STAFF.id).button_data("按此清单创建")
        )
        assessment_id, item_ids = await _app_items(bot)
        await bot.press(DISTRICT_STAFF, AssessDesk("open", assessment_id).pack())
        await _send_text(
            bot, CHAIR_A, AssessItem(assessment_id, ids.school_a, item_ids[0]), EVIDENCE_A
        )

        # School B's chair forges school A's buttons: refused, nothing started or stored.
        await bot.press(CHAIR_B, AssessItem(assessment_id, ids.school_a, item_ids[0]).pack())
        assert "这个按钮属于另一所学校" in _alert(bot)
        await bot.say(CHAIR_B, "冒充甲校的材料")
        for forged in (
            AssessSchool(assessment_id, ids.school_a),
            AssessScore(assessment_id, ids.school_a, item_ids[0]),
            AssessDesk("cmp", assessment_id),
        ):
            await bot.press(CHAIR_B, forged.pack())
            assert "只有区教育工会的主席和委员" in _alert(bot)
        assert EVIDENCE_A not in "\n".join(bot.telegram.texts(CHAIR_B.id))

        # A plain member, and a school committee member who tries to score.
        await bot.say(TEACHER_B, "/assessment")
        assert "只有本校工会主席或副主席" in bot.telegram.last(TEACHER_B.id).text
        await bot.press(COMMITTEE_B, AssessScore(assessment_id, ids.school_b, item_ids[0]).pack())
        assert "只有区教育工会的主席和委员" in _alert(bot)
        await bot.say(COMMITTEE_B, "20")
        await bot.press(TEACHER_B, AssessItem(assessment_id, ids.school_b, item_ids[0]).pack())
        assert "只有本校工会主席或副主席" in _alert(bot)

        async with bot.db() as session:
            stored = [
                (row.school_id, row.evidence)
                for row in await session.exec(select(AssessmentSubmission))
            ]
            scored = list(await session.exec(select(AssessmentScore)))
        assert stored == [(ids.school_a, EVIDENCE_A)] and scored == []


def _nine(day: int) -> datetime:
    """09:00 in Shanghai on that day of December 2026, when the daily reminders run."""
    return datetime(2026, 12, day, 1, 0, tzinfo=UTC)


async def test_a_due_date_told_to_the_chairs_and_reminded_to_schools_missing_evidence(
    settings: Settings,
) -> None:
    """📅 on the card: the day typed (unreadable or past asked again); set on a draft it is
    told at the opening, set on an open one the chairs are told at once; from two days before
    it the chairs of schools still missing evidence hear how many items, once a day; after
    the close it cannot be set and nobody is reminded."""
    async with district_bot(settings) as (bot, ids):
        bot.app.state.clock = lambda: datetime(2026, 12, 5, 2, 0, tzinfo=UTC)
        await bot.say(DISTRICT_STAFF, "/assessment")
        create = bot.telegram.last(DISTRICT_STAFF.id).button_data("按此清单创建")
        await bot.press(DISTRICT_STAFF, create)
        assessment_id, item_ids = await _app_items(bot)
        card = bot.telegram.last(DISTRICT_STAFF.id)
        assert card.button_data("设置截止日期") == AssessDeadline(assessment_id).pack()

        # A school's chair cannot set it, even with the button's data.
        bot.telegram.clear()
        await bot.press(CHAIR_A, AssessDeadline(assessment_id).pack())
        assert "只有区教育工会的主席和委员可以管理" in _alert(bot)
        await bot.press(DISTRICT_STAFF, AssessDeadline(assessment_id).pack())
        assert "截止日期" in bot.telegram.last(DISTRICT_STAFF.id).text
        await bot.say(DISTRICT_STAFF, "下周吧")
        assert "没看懂这个日期" in bot.telegram.last(DISTRICT_STAFF.id).text
        await bot.say(DISTRICT_STAFF, "2026-12-01")
        assert "已经过去了" in bot.telegram.last(DISTRICT_STAFF.id).text
        await bot.say(DISTRICT_STAFF, "12-10")
        assert "已设置截止日期：2026-12-10。开放考核时" in bot.telegram.last(DISTRICT_STAFF.id).text
        # Opening once the day has passed is refused: the chairs would be told a past day.
        bot.app.state.clock = lambda: datetime(2026, 12, 11, 2, 0, tzinfo=UTC)
        bot.telegram.clear()
        await bot.press(DISTRICT_STAFF, AssessDesk("open", assessment_id).pack())
        assert "截止日期 2026-12-10 已经过去了" in _alert(bot)
        async with bot.db() as session:
            draft = await session.get(Assessment, assessment_id)
            assert draft is not None and draft.status == AssessmentStatus.DRAFT
        bot.app.state.clock = lambda: datetime(2026, 12, 5, 2, 0, tzinfo=UTC)
        await bot.press(DISTRICT_STAFF, AssessDesk("open", assessment_id).pack())
        await drain(bot)
        for chair in (CHAIR_A, CHAIR_B):
            assert any("截止日期：2026-12-10" in told for told in bot.telegram.texts(chair.id))

        # Moved while open: the chairs are told the new day, once.
        await bot.press(DISTRICT_STAFF, AssessDeadline(assessment_id).pack())
        await bot.say(DISTRICT_STAFF, "12-12")
        assert "已通知 2 所学校的工会主席" in bot.telegram.last(DISTRICT_STAFF.id).text
        await drain(bot)
        moved = f"📅 “{YEAR}年度学校工会目标管理考核”的材料请在 2026-12-12 前提交。"
        for chair in (CHAIR_A, CHAIR_B):
            assert bot.telegram.last(chair.id).text.startswith(moved)
        # Back to the 10th, then the 12th again: each change is told (the last one counts).
        for day in ("12-10", "12-12"):
            await bot.press(DISTRICT_STAFF, AssessDeadline(assessment_id).pack())
            await bot.say(DISTRICT_STAFF, day)
            assert "已通知 2 所学校的工会主席" in bot.telegram.last(DISTRICT_STAFF.id).text
            await drain(bot)
            for chair in (CHAIR_A, CHAIR_B):
                assert f"在 2026-{day} 前提交" in bot.telegram.last(chair.id).text

        # A sends one required item; B only an item that needs no evidence (文体活动), which
        # does not count. How many items need evidence comes from the checklist.
        await _send_text(
            bot, CHAIR_A, AssessItem(assessment_id, ids.school_a, item_ids[0]), EVIDENCE_A
        )
        optional = [i for i, item in enumerate(DEFAULT_CHECKLIST) if not item.evidence_required]
        await _send_text(
            bot, CHAIR_B, AssessItem(assessment_id, ids.school_b, item_ids[optional[0]]), "运动会"
        )
        needed = sum(1 for item in DEFAULT_CHECKLIST if item.evidence_required)
        runtime = bot.app.state.runtime
        assert runtime is not None
        assert await remind_evidence(runtime, now=_nine(9)) == 0  # three days before
        assert await remind_evidence(runtime, now=_nine(10)) == 2
        assert await remind_evidence(runtime, now=_nine(10)) == 0  # once a day
        async with bot.db() as session:
            query = select(OutboxMessage).where(col(OutboxMessage.text).startswith("⏰"))
            told = {m.chat_id: m.text for m in await session.exec(query)}
        assert told == {
            CHAIR_A.id: f"⏰ “{YEAR}年度学校工会目标管理考核”的材料将于 2026-12-12 截止提交，"
            f"本校还有 {needed - 1} 项没有提交。请发送 /assessment 逐项提交。",
            CHAIR_B.id: f"⏰ “{YEAR}年度学校工会目标管理考核”的材料将于 2026-12-12 截止提交，"
            f"本校还有 {needed} 项没有提交。请发送 /assessment 逐项提交。",
        }
        # A sends every other required item: on the due day itself only B is reminded.
        async with bot.db() as session:
            chair_a = (
                await session.exec(select(Member).where(Member.telegram_user_id == CHAIR_A.id))
            ).one()
            for index, item in enumerate(DEFAULT_CHECKLIST):
                if index == 0 or not item.evidence_required:
                    continue
                await submit_evidence(
                    session,
                    district_id=ids.district_id,
                    assessment_id=assessment_id,
                    item_id=item_ids[index],
                    school_id=ids.school_a,
                    actor=_actor(chair_a, Role.CHAIR),
                    evidence="已按要求开展，材料见附件。",
                )
        assert await remind_evidence(runtime, now=_nine(12)) == 1
        async with bot.db() as session:
            query = select(OutboxMessage).where(col(OutboxMessage.text).startswith("⏰"))
            assert [m.chat_id for m in await session.exec(query)].count(CHAIR_A.id) == 1
        assert await remind_evidence(runtime, now=_nine(13)) == 0  # past the day

        # Closed: no due date, no reminder.
        await bot.press(DISTRICT_STAFF, AssessDesk("closeok", assessment_id).pack())
        async with bot.db() as session:
            stored = await session.get(Assessment, assessment_id)
            assert stored is not None and stored.status == AssessmentStatus.CLOSED
        assert await remind_evidence(runtime, now=_nine(11)) == 0
        bot.telegram.clear()
        await bot.press(DISTRICT_STAFF, AssessDeadline(assessment_id).pack())
        assert "已经结束提交，不能再设置截止日期" in _alert(bot)


async def test_staff_who_are_members_of_a_school_step_aside_from_scoring_it(
    settings: Settings,
) -> None:
    """回避: a district staffer who is also school B's chair scores A but not B: refused at the
    press and, whatever the button, by the model; nothing is stored for B."""
    both = Person(3010, "兼职干事")
    async with district_bot(settings) as (bot, ids):
        await make_member(bot.db, org_id=ids.district_id, person=both, roles=[Role.COMMITTEE])
        await make_member(bot.db, org_id=ids.school_b, person=both, roles=[Role.CHAIR])
        await bot.say(DISTRICT_STAFF, "/assessment")
        await bot.press(
            DISTRICT_STAFF, bot.telegram.last(DISTRICT_STAFF.id).button_data("按此清单创建")
        )
        assessment_id, item_ids = await _app_items(bot)
        await bot.press(DISTRICT_STAFF, AssessDesk("open", assessment_id).pack())

        await bot.say(both, "/assessment")  # on two rosters: which organization first
        await bot.press(both, bot.telegram.last(both.id).button_data("城区教育工会"))
        await bot.press(both, AssessScore(assessment_id, ids.school_b, item_ids[0]).pack())
        assert "您也是第二小学的会员，按回避原则不能评定本校" in _alert(bot)
        await bot.say(both, "20")
        await bot.press(both, AssessScore(assessment_id, ids.school_a, item_ids[0]).pack())
        await bot.say(both, "15")
        assert "实验中学" in bot.telegram.last(both.id).text

        async with bot.db() as session:
            scored = [
                (row.school_id, row.points) for row in await session.exec(select(AssessmentScore))
            ]
            staffer = await load_actor(session, org_id=ids.district_id, telegram_user_id=both.id)
            assert staffer is not None
            with pytest.raises(DomainError) as refused:
                await score_item(
                    session,
                    district_id=ids.district_id,
                    assessment_id=assessment_id,
                    item_id=item_ids[0],
                    school_id=ids.school_b,
                    actor=staffer,
                    points=20,
                )
        assert refused.value.key == "district.recuse"
        assert scored == [(ids.school_a, 15)]


async def test_evidence_for_a_draft_is_refused_as_not_yet_open(settings: Settings) -> None:
    """A button of a draft (copied, or forged) says it has not opened yet and that the chair
    will be told, not that it has closed."""
    async with district_bot(settings) as (bot, ids):
        await bot.say(DISTRICT_STAFF, "/assessment")
        await bot.press(
            DISTRICT_STAFF, bot.telegram.last(DISTRICT_STAFF.id).button_data("按此清单创建")
        )
        assessment_id, item_ids = await _app_items(bot)
        await bot.press(CHAIR_A, AssessItem(assessment_id, ids.school_a, item_ids[0]).pack())
        assert "还没有开放提交" in _alert(bot) and "会通知本校工会主席" in _alert(bot)
        await bot.say(CHAIR_A, "草稿期的材料")
        async with bot.db() as session:
            assert list(await session.exec(select(AssessmentSubmission))) == []
