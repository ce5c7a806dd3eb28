"""Tasks the district sends down to its schools: the deadline as typed, a task's cycle (the
chairs get it, one marks done, one replies with a file, the district's list and export show
it, the reminder reaches only the pending school, once a day), and the walls (another school's
chair with forged button data, a plain member, a school's committee trying /dtasks)."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest
from openpyxl import load_workbook
from sqlmodel import col, select

from bot.settings import Settings
from handlers.district_tasks.buttons import (
    TaskAction,
    TaskConfirm,
    TaskFetch,
    TaskKindChoice,
    TaskSchools,
    TaskToggle,
    TaskView,
)
from models.base import utcnow
from models.district import add_school, create_district, schools_of
from models.district_tasks import (
    AnswerKind,
    AssignmentStatus,
    DistrictTask,
    RuleEvery,
    TaskAssignment,
    TaskRule,
    answer_assignment,
    create_task,
    export_xlsx,
    make_repeated_tasks,
    parse_deadline,
    set_repeat,
    task_schools,
    tasks_of,
)
from models.errors import DomainError, InputError
from models.members import Member, Role
from models.outbox import Broadcast, OutboxMessage, OutboxStatus
from scheduler.district_task_jobs import answer_data, queue_task, remind_due, send_repeated
from tests.support.district import CHAIR_A as D_CHAIR_A
from tests.support.district import (
    CHAIR_B,
    COMMITTEE_B,
    DISTRICT_STAFF,
    TEACHER_B,
    district_bot,
)
from tests.support.district import District as DistrictIds
from tests.support.factories import make_member
from tests.support.harness import BotHarness
from tests.support.updates import Person
from tests.test_aid_flows import document
from tests.test_calendar_chat import drain

STAFF = Person(5001, "Zhao", "zh-hans")
CHAIR_A = Person(4001, "Qian", "zh-hans")
CHAIR_2 = Person(4002, "Sun", "zh-hans")
MEMBER_A = Person(4003, "Li", "zh-hans")
COMMITTEE_A = Person(4004, "Zhou", "zh-hans")
TODAY = date(2027, 4, 20)


@dataclass
class District:
    """A district of three schools: A and B with chairs, C without."""

    id: int
    a: int
    b: int
    c: int
    staff_id: int


async def district(bot: BotHarness) -> District:
    """The bot's school becomes school A of a new district; B and C are added."""
    async with bot.db() as session:
        union = await create_district(session, name="新城区教育工会")
        b = await add_school(session, district_id=union.id or 0, name="新城第二小学")
        c = await add_school(session, district_id=union.id or 0, name="新城第三小学")
    staff = await make_member(
        bot.db, org_id=union.id or 0, person=STAFF, name="赵干事", roles=[Role.COMMITTEE]
    )
    await make_member(bot.db, org_id=bot.org_id, person=CHAIR_A, name="钱主席", roles=[Role.CHAIR])
    await make_member(bot.db, org_id=b.id or 0, person=CHAIR_2, name="孙主席", roles=[Role.CHAIR])
    await make_member(bot.db, org_id=bot.org_id, person=MEMBER_A, name="李老师")
    await make_member(
        bot.db, org_id=bot.org_id, person=COMMITTEE_A, name="周委员", roles=[Role.COMMITTEE]
    )
    return District(union.id or 0, bot.org_id, b.id or 0, c.id or 0, staff.id or 0)


async def send_task(bot: BotHarness, d: District, kind: AnswerKind) -> DistrictTask:
    """A task to all three schools, queued to the chairs as /dtask's Confirm does."""
    async with bot.db() as session:
        task, assignments = await create_task(
            session,
            district_id=d.id,
            title="四月底前报送校务公开评估材料",
            body="请各校四月底前报送校务公开自评表。",
            deadline=TODAY + timedelta(days=2),
            today=TODAY,
            answer_kind=kind,
            school_ids=[d.a, d.b, d.c],
            created_by=d.staff_id,
        )
    await queue_task(bot.db, bot.app.state.i18n, task, assignments, not_before=utcnow())
    return task


async def three_schools(bot: BotHarness, ids: DistrictIds) -> District:
    """district_bot's district with its third school and its staff member's id."""
    async with bot.db() as session:
        c = max(s.id or 0 for s in await schools_of(session, district_id=ids.district_id))
        query = select(Member.id).where(Member.telegram_user_id == DISTRICT_STAFF.id)
        staff_id = (await session.exec(query)).one()
    return District(ids.district_id, ids.school_a, ids.school_b, c, staff_id or 0)


async def assignment_of(bot: BotHarness, task: DistrictTask, school: int) -> TaskAssignment:
    async with bot.db() as session:
        query = select(TaskAssignment).where(
            TaskAssignment.task_id == task.id, TaskAssignment.school_id == school
        )
        return (await session.exec(query)).one()


async def outbox_to(bot: BotHarness, chat_id: int) -> list[OutboxMessage]:
    async with bot.db() as session:
        query = select(OutboxMessage).where(OutboxMessage.chat_id == chat_id)
        return list(await session.exec(query.order_by(col(OutboxMessage.id))))


def test_the_deadline_as_typed() -> None:
    assert parse_deadline("2027-04-30", today=TODAY) == date(2027, 4, 30)
    assert parse_deadline("04-30", today=TODAY) == date(2027, 4, 30)
    assert parse_deadline("4月30日", today=TODAY) == date(2027, 4, 30)
    assert parse_deadline("04-20", today=TODAY) == TODAY  # today itself is allowed
    # December typing January means next year; a few days back is a mistake, not next year.
    assert parse_deadline("01-15", today=date(2026, 12, 6)) == date(2027, 1, 15)
    with pytest.raises(InputError) as past:
        parse_deadline("04-18", today=TODAY)
    assert past.value.key == "dtask.deadline_past"
    with pytest.raises(InputError) as past_full:
        parse_deadline("2026-04-30", today=TODAY)
    assert past_full.value.key == "dtask.deadline_past"
    for nonsense in ("明天吧", "02-30", "2027-13-01", "", "30"):
        with pytest.raises(InputError) as bad:
            parse_deadline(nonsense, today=TODAY)
        assert bad.value.key == "dtask.deadline_unreadable"
    with pytest.raises(InputError) as far:
        parse_deadline("2029-01-01", today=TODAY)
    assert far.value.key == "dtask.deadline_far"


async def test_a_task_only_goes_to_the_districts_own_schools(bot: BotHarness) -> None:
    d = await district(bot)
    async with bot.db() as session:
        for schools, deadline in (([d.a, d.id], TODAY), ([], TODAY), ([d.a], TODAY - timedelta(1))):
            with pytest.raises(DomainError):
                await create_task(
                    session,
                    district_id=d.id,
                    title="技能大赛报名",
                    body="五一前报名。",
                    deadline=deadline,
                    today=TODAY,
                    answer_kind=AnswerKind.DONE,
                    school_ids=schools,
                    created_by=d.staff_id,
                )
        # A school is not a district: it cannot send tasks.
        with pytest.raises(DomainError):
            await create_task(
                session,
                district_id=d.a,
                title="技能大赛报名",
                body="五一前报名。",
                deadline=TODAY,
                today=TODAY,
                answer_kind=AnswerKind.DONE,
                school_ids=[d.b],
                created_by=None,
            )
        assert list(await session.exec(select(DistrictTask))) == []


async def test_done_once_the_walls_and_the_reminders(bot: BotHarness) -> None:
    """Mark done through the real application: the chairs get the task (school C has no
    chair), forged and foreign presses store nothing, a second press hears who did it, the
    district is told; the reminder reaches only the pending school, once per day."""
    d = await district(bot)
    task = await send_task(bot, d, AnswerKind.DONE)
    a, b = await assignment_of(bot, task, d.a), await assignment_of(bot, task, d.b)
    (to_a,) = await outbox_to(bot, CHAIR_A.id)
    (to_b,) = await outbox_to(bot, CHAIR_2.id)
    assert "四月底前报送校务公开评估材料" in to_a.text and answer_data("done", a.id or 0) in (
        to_a.buttons or ""
    )
    assert answer_data("done", b.id or 0) in (to_b.buttons or "")

    # The walls: B's chair with A's button (forged data), a plain member and a committee
    # member of A, the district's staff: each refused, nothing stored.
    for person in (CHAIR_2, MEMBER_A, COMMITTEE_A, STAFF):
        bot.telegram.clear()
        await bot.press(person, answer_data("done", a.id or 0))
        (refusal,) = bot.telegram.answers()
        assert "不能处理" in refusal.params["text"]
    assert (await assignment_of(bot, task, d.a)).status == AssignmentStatus.PENDING

    bot.telegram.clear()
    await bot.press(CHAIR_A, answer_data("done", a.id or 0))
    done = await assignment_of(bot, task, d.a)
    assert done.status == AssignmentStatus.DONE and done.done_at is not None
    assert "已记录" in bot.telegram.last(CHAIR_A.id).text
    assert "实验中学工会 已完成" in bot.telegram.last(STAFF.id).text

    bot.telegram.clear()
    await bot.press(CHAIR_A, answer_data("done", a.id or 0))
    assert "钱主席" in bot.telegram.last(CHAIR_A.id).text  # already done, by whom
    assert bot.telegram.sent(chat_id=STAFF.id) == []
    assert (await assignment_of(bot, task, d.a)).done_at == done.done_at

    # The district's view: one of three done; C shows "no chair".
    async with bot.db() as session:
        (line,) = await tasks_of(session, district_id=d.id)
        _task, schools = await task_schools(session, district_id=d.id, task_id=task.id or 0)
    assert (line.done, line.total) == (1, 3)
    pending = {s.school.id: s.chairs for s in schools if s.assignment.status == "pending"}
    assert pending == {d.b: 1, d.c: 0}

    # The reminders: two days before the deadline, B's chair only; once that day.
    runtime = bot.app.state.runtime
    assert runtime is not None
    now = datetime(2027, 4, 20, 1, 0, tzinfo=UTC)
    assert await remind_due(runtime, today=TODAY - timedelta(days=1), now=now) == 0  # 3 days
    assert await remind_due(runtime, today=TODAY, now=now) == 1
    assert await remind_due(runtime, today=TODAY, now=now) == 0
    reminders = [m for m in await outbox_to(bot, CHAIR_2.id) if "⏰" in m.text]
    assert len(reminders) == 1 and await outbox_to(bot, CHAIR_A.id) == [to_a]
    # The next day again; after B is done, no more; after the deadline, none either.
    assert await remind_due(runtime, today=TODAY + timedelta(days=1), now=now) == 1
    # B's chair and vice-chair at the same moment: one answer, the other learns who.
    vice = await make_member(bot.db, org_id=d.b, name="吴副主席", roles=[Role.VICE_CHAIR])
    async with bot.db() as session:
        chair = (await session.exec(select(Member).where(Member.real_name == "孙主席"))).one()

    async def answer_as(member: Member) -> bool:
        async with bot.db() as session:
            return (
                await answer_assignment(
                    session, assignment_id=b.id or 0, member=member, now=utcnow()
                )
            ).fresh

    assert sorted(await asyncio.gather(answer_as(chair), answer_as(vice))) == [False, True]
    assert await remind_due(runtime, today=TODAY + timedelta(days=2), now=now) == 0
    assert await remind_due(runtime, today=TODAY + timedelta(days=3), now=now) == 0
    async with bot.db() as session:
        keys = [row.key for row in await session.exec(select(Broadcast))]
    assert sorted(keys) == sorted(
        [
            f"dtask:{task.id}:{d.a}:sent",
            f"dtask:{task.id}:{d.b}:sent",
            f"dtask:{task.id}:{d.b}:remind:{TODAY.isoformat()}",
            f"dtask:{task.id}:{d.b}:remind:{(TODAY + timedelta(days=1)).isoformat()}",
        ]
    )


async def test_reply_with_a_file_and_the_export(bot: BotHarness) -> None:
    """The file form refuses text and stays, stores the document, and the export shows it."""
    d = await district(bot)
    task = await send_task(bot, d, AnswerKind.FILE)
    b = await assignment_of(bot, task, d.b)
    # Mark done is no answer to a file task, even with forged data.
    await bot.press(CHAIR_2, answer_data("done", b.id or 0))
    assert (await assignment_of(bot, task, d.b)).status == AssignmentStatus.PENDING

    await bot.press(CHAIR_2, answer_data("file", b.id or 0))
    assert "/cancel" in bot.telegram.last(CHAIR_2.id).text
    await bot.say(CHAIR_2, "我们已经交了")
    assert "需要一个文件" in bot.telegram.last(CHAIR_2.id).text
    assert (await assignment_of(bot, task, d.b)).status == AssignmentStatus.PENDING
    reply = document(CHAIR_2, "BQACAgreply", name="二小自评表.xlsx")
    reply["message"]["caption"] = "请查收"
    await bot.feed(reply)
    stored = await assignment_of(bot, task, d.b)
    assert (stored.status, stored.reply_file_id, stored.reply_file_name, stored.note) == (
        AssignmentStatus.DONE,
        "BQACAgreply",
        "二小自评表.xlsx",
        "请查收",
    )
    assert "已收到文件" in bot.telegram.last(CHAIR_2.id).text
    assert "新城第二小学" in bot.telegram.last(STAFF.id).text
    # Pressed again later: told it is done, no form starts.
    await bot.press(CHAIR_2, answer_data("file", b.id or 0))
    assert "孙主席" in bot.telegram.last(CHAIR_2.id).text

    async with bot.db() as session:
        _task, lines = await task_schools(session, district_id=d.id, task_id=task.id or 0)
    book = load_workbook(
        io.BytesIO(export_xlsx(bot.app.state.i18n.get("zh-Hans"), task, lines, zone=UTC))
    )
    rows = [list(row) for row in book.active.iter_rows(min_row=4, values_only=True)]
    assert [(row[0], row[1], row[2], row[4]) for row in rows] == [
        ("实验中学工会", "未完成", None, None),
        ("新城第三小学", "未完成（无主席）", None, None),
        ("新城第二小学", "已完成", "孙主席", "二小自评表.xlsx"),
    ]


async def test_the_whole_cycle_through_the_application(settings: Settings) -> None:
    """/dtask as the district's staff (a past and a nonsense deadline, text for the file),
    three schools picked by toggles, Confirm (twice: one task, one message each); a chair
    replies with a file; /dtasks, the status, the file fetched, the export, Remind now."""
    async with district_bot(settings, extra_schools=("第三小学",)) as (bot, ids):
        bot.app.state.clock = lambda: datetime(2027, 4, 20, 2, 0, tzinfo=UTC)  # 10:00
        async with bot.db() as session:
            third = next(
                s.id
                for s in await schools_of(session, district_id=ids.district_id)
                if s.name == "第三小学"
            )
        for outsider in (COMMITTEE_B, D_CHAIR_A):
            await bot.say(outsider, "/dtasks")
            assert "区工会的功能" in bot.telegram.last(outsider.id).text
        await bot.say(COMMITTEE_B, "/dtask")
        assert "区工会的功能" in bot.telegram.last(COMMITTEE_B.id).text

        staff = DISTRICT_STAFF
        await bot.say(staff, "/dtask")
        await bot.say(staff, "四月底前报送校务公开评估材料")
        await bot.say(staff, "请各校四月底前报送校务公开自评表。")
        await bot.say(staff, "04-18")
        assert "已经过去" in bot.telegram.last(staff.id).text
        await bot.say(staff, "下周吧")
        assert "没看懂" in bot.telegram.last(staff.id).text
        await bot.say(staff, "04-22")
        await bot.say(staff, "附件见群里")
        assert "需要一个文件" in bot.telegram.last(staff.id).text
        await bot.feed(document(staff, "BQACAgtask", name="自评表.docx"))
        await bot.press(staff, TaskKindChoice(AnswerKind.FILE).pack())
        await bot.press(staff, TaskSchools("pick").pack())
        for school in (ids.school_a, ids.school_b, third):
            await bot.press(staff, TaskToggle(school or 0).pack())
        await bot.press(staff, TaskSchools("ok").pack())
        assert "发给（3 所）" in bot.telegram.last(staff.id).text
        # The preview waited past the deadline: it is asked again, the rest is kept.
        bot.app.state.clock = lambda: datetime(2027, 4, 23, 2, 0, tzinfo=UTC)
        await bot.press(staff, TaskConfirm("yes").pack())
        assert "已经过去" in bot.telegram.texts(staff.id)[-2]
        await bot.say(staff, "04-25")
        assert "发给（3 所）" in bot.telegram.last(staff.id).text
        await bot.press(staff, TaskConfirm("yes").pack())
        done_line = bot.telegram.last(staff.id).text
        assert "3 所学校，2 位主席" in done_line and "第三小学" in done_line  # no chair
        await bot.press(staff, TaskConfirm("yes").pack())  # a second press: nothing more
        async with bot.db() as session:
            (task,) = await session.exec(select(DistrictTask))
        a, b = (
            await assignment_of(bot, task, ids.school_a),
            await assignment_of(bot, task, ids.school_b),
        )
        assert [m.chat_id for m in await outbox_to(bot, D_CHAIR_A.id)] == [D_CHAIR_A.id]
        assert answer_data("file", b.id or 0) in str((await outbox_to(bot, CHAIR_B.id))[0].buttons)
        sent_files = bot.telegram.sent("sendDocument")
        assert sorted(c.chat_id or 0 for c in sent_files) == sorted([D_CHAIR_A.id, CHAIR_B.id])

        # Walls: B's teacher, and A's chair with B's button; nothing stored.
        for person, assignment in ((TEACHER_B, b), (D_CHAIR_A, b)):
            bot.telegram.clear()
            await bot.press(person, answer_data("file", assignment.id or 0))
            assert "不能处理" in bot.telegram.answers()[0].params["text"]
        assert (await assignment_of(bot, task, ids.school_b)).status == "pending"

        await bot.press(D_CHAIR_A, answer_data("file", a.id or 0))
        await bot.feed(document(D_CHAIR_A, "BQACAgreplyA", name="甲校自评表.xlsx"))
        assert "已收到文件" in bot.telegram.last(D_CHAIR_A.id).text
        assert "实验中学" in bot.telegram.last(staff.id).text

        bot.telegram.clear()
        await bot.say(staff, "/dtasks")
        assert "完成 1/3" in bot.telegram.last(staff.id).text
        await bot.press(staff, TaskView(task.id or 0).pack())
        status = bot.telegram.last(staff.id).text
        assert "📎 实验中学" in status and "没有工会主席" in status and "⏳ 第二小学" in status
        await bot.press(staff, TaskFetch(a.id or 0).pack())
        assert bot.telegram.last(staff.id, "sendDocument").params["document"] == "BQACAgreplyA"
        # The workbook's rows are read back in test_reply_with_a_file_and_the_export.
        await bot.press(staff, TaskAction("export", task.id or 0).pack())
        assert len(bot.telegram.sent("sendDocument", chat_id=staff.id)) == 2
        await bot.press(staff, TaskAction("remind", task.id or 0).pack())
        assert "已提醒 1 位" in bot.telegram.last(staff.id).text
        await bot.press(staff, TaskAction("remind", task.id or 0).pack())
        assert "今天已经提醒过" in bot.telegram.last(staff.id).text
        # The school's chair cannot open the district's views with forged data.
        bot.telegram.clear()
        await bot.press(CHAIR_B, TaskView(task.id or 0).pack())
        assert "区工会的功能" in bot.telegram.answers()[0].params["text"]


async def test_a_task_sent_every_month(settings: Settings) -> None:
    """🔁 under a task's status: the month's copy goes to every school on its day (or later
    that month, once), due as many days later; ⏹ stops it."""
    async with district_bot(settings, extra_schools=("第三小学",)) as (bot, ids):
        d = await three_schools(bot, ids)
        task = await send_task(bot, d, AnswerKind.DONE)  # due 2027-04-22
        async with bot.db() as session:
            task.created_at = datetime(2027, 4, 18, 2, 0, tzinfo=UTC)  # sent on the 18th
            session.add(task)
            await session.commit()
        await bot.press(DISTRICT_STAFF, TaskAction("monthly_on", task.id or 0).pack())
        assert "每月 18 日" in bot.telegram.last(DISTRICT_STAFF.id).text
        runtime = bot.app.state.runtime
        assert runtime is not None
        now = datetime(2027, 5, 18, 1, 0, tzinfo=UTC)
        for day in (date(2027, 4, 25), date(2027, 5, 17)):  # this month's is sent; not yet
            assert await send_repeated(runtime, today=day, now=now) == 0
        assert await send_repeated(runtime, today=date(2027, 5, 18), now=now) == 1
        assert await send_repeated(runtime, today=date(2027, 5, 30), now=now) == 0
        async with bot.db() as session:
            made = (
                await session.exec(select(DistrictTask).where(DistrictTask.id != task.id))
            ).one()
            schools = await session.exec(
                select(TaskAssignment.school_id).where(TaskAssignment.task_id == made.id)
            )
            assert sorted(schools) == sorted([d.a, d.b, d.c])
        assert (made.title, made.deadline) == (task.title, date(2027, 5, 22))
        assert [m.text for m in await outbox_to(bot, CHAIR_B.id)][-1].startswith("📋")

        await bot.press(DISTRICT_STAFF, TaskAction("monthly_off", task.id or 0).pack())
        assert await send_repeated(runtime, today=date(2027, 6, 18), now=now) == 0
        # 🔁 on May's copy turns the same rule on again: no second rule, one task in June.
        await bot.press(DISTRICT_STAFF, TaskAction("monthly_on", made.id or 0).pack())
        async with bot.db() as session:
            assert len(list(await session.exec(select(TaskRule)))) == 1
        assert await send_repeated(runtime, today=date(2027, 6, 19), now=now) == 1
        # Only the district's staff may set it.
        bot.telegram.clear()
        await bot.press(CHAIR_B, TaskAction("monthly_on", task.id or 0).pack())
        assert "区工会的功能" in bot.telegram.answers()[0].params["text"]


async def test_a_task_sent_every_year(settings: Settings) -> None:
    """📅 under a task's status: the 校务公开评估 sent on 1 April goes out again each 1 April
    (or later that April, once), due as many days later; ⏹ stops it; a rule switched to every
    month starts after this task's month, so nothing goes out twice."""
    async with district_bot(settings, extra_schools=("第三小学",)) as (bot, ids):
        d = await three_schools(bot, ids)
        task = await send_task(bot, d, AnswerKind.FILE)  # due 2027-04-22
        async with bot.db() as session:
            task.created_at = datetime(2027, 4, 1, 2, 0, tzinfo=UTC)  # 10:00 on 1 April
            session.add(task)
            await session.commit()
        await bot.press(DISTRICT_STAFF, TaskView(task.id or 0).pack())
        labels = [label for label, _ in bot.telegram.last(DISTRICT_STAFF.id).buttons()]
        assert "🔁 每月自动下发（如月报）" in labels
        assert "📅 每年自动下发（如校务公开评估）" in labels
        await bot.press(DISTRICT_STAFF, TaskAction("yearly_on", task.id or 0).pack())
        assert "每年 4 月 1 日 9:00" in bot.telegram.last(DISTRICT_STAFF.id).text
        assert "21 天后截止" in bot.telegram.last(DISTRICT_STAFF.id).text
        await bot.press(DISTRICT_STAFF, TaskView(task.id or 0).pack())
        view = bot.telegram.last(DISTRICT_STAFF.id)
        assert "📅 每年 4 月 1 日自动下发，21 天后截止" in view.text
        assert [label for label, _ in view.buttons() if label.startswith("⏹")] == ["⏹ 停止每年下发"]

        runtime = bot.app.state.runtime
        assert runtime is not None
        now = datetime(2028, 4, 1, 1, 0, tzinfo=UTC)
        quiet_days = (date(2027, 4, 25), date(2027, 5, 1), date(2027, 12, 31), date(2028, 3, 31))
        for day in quiet_days:  # this year's went out by hand; next year's not yet
            assert await send_repeated(runtime, today=day, now=now) == 0
        assert await send_repeated(runtime, today=date(2028, 4, 1), now=now) == 1
        assert await send_repeated(runtime, today=date(2028, 4, 15), now=now) == 0
        assert await send_repeated(runtime, today=date(2028, 5, 1), now=now) == 0
        async with bot.db() as session:
            made = (
                await session.exec(select(DistrictTask).where(DistrictTask.id != task.id))
            ).one()
            schools = await session.exec(
                select(TaskAssignment.school_id).where(TaskAssignment.task_id == made.id)
            )
            assert sorted(schools) == sorted([d.a, d.b, d.c])
        assert (made.title, made.deadline, made.answer_kind) == (
            task.title,
            date(2028, 4, 22),
            AnswerKind.FILE,
        )
        # A first of April missed while the bot was down is made up later that April.
        assert await send_repeated(runtime, today=date(2029, 4, 3), now=now) == 1

        await bot.press(DISTRICT_STAFF, TaskAction("yearly_off", task.id or 0).pack())
        assert "已停止每年下发" in bot.telegram.last(DISTRICT_STAFF.id).text
        assert await send_repeated(runtime, today=date(2030, 4, 1), now=now) == 0
        # Switched to every month, the rule counts April 2029 (its last yearly copy) as sent:
        # the rest of that April adds nothing, May gets its task.
        await bot.press(DISTRICT_STAFF, TaskAction("monthly_on", task.id or 0).pack())
        async with bot.db() as session:
            [rule] = list(await session.exec(select(TaskRule)))
            assert (rule.every, rule.month, rule.last_month) == ("month", None, "2029-04")
        assert await send_repeated(runtime, today=date(2029, 4, 20), now=now) == 0
        assert await send_repeated(runtime, today=date(2029, 5, 1), now=now) == 1
        # And back to every year: 2029 has had its task.
        await bot.press(DISTRICT_STAFF, TaskAction("yearly_on", task.id or 0).pack())
        async with bot.db() as session:
            [rule] = list(await session.exec(select(TaskRule)))
            assert (rule.every, rule.month, rule.last_month) == ("year", 4, "2029-05")
        # Only the district's staff may set it.
        bot.telegram.clear()
        await bot.press(CHAIR_B, TaskAction("yearly_on", task.id or 0).pack())
        assert "区工会的功能" in bot.telegram.answers()[0].params["text"]


async def withdrawn_at(bot: BotHarness, task: DistrictTask) -> datetime | None:
    async with bot.db() as session:
        stored = await session.get(DistrictTask, task.id)
        assert stored is not None
        return stored.withdrawn_at


async def test_a_task_withdrawn_in_error(settings: Settings) -> None:
    """🗑 under a task's status, asked once more: stored once; the chairs it reached at schools
    still pending are told (not the school that answered, whose answer stays); a chair's
    answer button, the reminders and "remind now" stop; what the outbox held is kept back."""
    async with district_bot(settings, extra_schools=("第三小学",)) as (bot, ids):
        d = await three_schools(bot, ids)
        task = await send_task(bot, d, AnswerKind.DONE)
        await drain(bot)  # the chairs of A and B got it (C has no chair)
        a, b = await assignment_of(bot, task, d.a), await assignment_of(bot, task, d.b)
        await bot.press(D_CHAIR_A, answer_data("done", a.id or 0))
        assert (await assignment_of(bot, task, d.a)).status == AssignmentStatus.DONE

        await bot.press(DISTRICT_STAFF, TaskView(task.id or 0).pack())
        view = bot.telegram.last(DISTRICT_STAFF.id)
        assert view.button_data("撤回任务") == TaskAction("withdraw", task.id or 0).pack()
        await bot.press(DISTRICT_STAFF, TaskAction("withdraw", task.id or 0).pack())
        question = bot.telegram.last(DISTRICT_STAFF.id)
        assert "还没完成的 2 所学校" in question.text
        assert question.button_data("不撤回") == TaskView(task.id or 0).pack()
        assert await withdrawn_at(bot, task) is None  # asking stores nothing
        await bot.press(DISTRICT_STAFF, question.button_data("确认撤回"))
        assert (
            "已撤回“四月底前报送校务公开评估材料”，已通知 1 所学校"
            in bot.telegram.last(DISTRICT_STAFF.id).text
        )
        await bot.press(DISTRICT_STAFF, TaskAction("withdraw_yes", task.id or 0).pack())
        assert "这项任务已于" in bot.telegram.last(DISTRICT_STAFF.id).text  # once
        told = [m.text for m in await outbox_to(bot, CHAIR_B.id)]
        assert told[-1] == (
            "📋 城区教育工会已撤回任务“四月底前报送校务公开评估材料”，无需再办理，"
            "之前收到的通知可以忽略。"
        )
        assert not any("撤回" in m.text for m in await outbox_to(bot, D_CHAIR_A.id))

        # B's chair presses the old button: refused, nothing stored; A's answer stays.
        bot.telegram.clear()
        await bot.press(CHAIR_B, answer_data("done", b.id or 0))
        assert "区工会已撤回这项任务" in str(bot.telegram.answers()[0].params.get("text", ""))
        assert (await assignment_of(bot, task, d.b)).status == AssignmentStatus.PENDING
        assert (await assignment_of(bot, task, d.a)).status == AssignmentStatus.DONE
        # No reminder, by the job or by the button; the list and the status say it.
        runtime = bot.app.state.runtime
        assert runtime is not None
        assert await remind_due(runtime, today=task.deadline, now=utcnow()) == 0
        bot.telegram.clear()
        await bot.press(DISTRICT_STAFF, TaskAction("remind", task.id or 0).pack())
        assert "已经撤回" in str(bot.telegram.answers()[0].params.get("text", ""))
        await bot.say(DISTRICT_STAFF, "/dtasks")
        assert "（已撤回）" in bot.telegram.last(DISTRICT_STAFF.id).text
        await bot.press(DISTRICT_STAFF, TaskView(task.id or 0).pack())
        view = bot.telegram.last(DISTRICT_STAFF.id)
        assert "🚫 已于" in view.text
        labels = [label for label, _ in view.buttons()]
        assert not any("撤回" in label or "提醒" in label or "自动" in label for label in labels)

        # A task still waiting in the outbox (quiet hours) is kept back, and nobody is told.
        second = await send_task(bot, d, AnswerKind.FILE)
        await bot.press(DISTRICT_STAFF, TaskAction("withdraw_yes", second.id or 0).pack())
        assert "已通知 0 所学校" in bot.telegram.last(DISTRICT_STAFF.id).text
        async with bot.db() as session:
            held = (
                select(OutboxMessage.status, Broadcast.key)
                .join(Broadcast, col(Broadcast.id) == col(OutboxMessage.broadcast_id))
                .where(col(Broadcast.key).startswith(f"dtask:{second.id}:"))
            )
            rows: list[tuple[str, str]] = [
                (status, key) for status, key in await session.exec(held)
            ]
        assert sorted(rows) == sorted(
            [
                (OutboxStatus.WITHHELD, f"dtask:{second.id}:{d.a}:sent"),
                (OutboxStatus.WITHHELD, f"dtask:{second.id}:{d.b}:sent"),
            ]
        )
        # Only the district's staff may withdraw.
        third = await send_task(bot, d, AnswerKind.DONE)
        bot.telegram.clear()
        await bot.press(CHAIR_B, TaskAction("withdraw_yes", third.id or 0).pack())
        assert "区工会的功能" in bot.telegram.answers()[0].params["text"]
        assert await withdrawn_at(bot, third) is None


async def test_switching_between_month_and_year_never_sends_twice_in_a_period(
    settings: Settings,
) -> None:
    """A monthly rule that made May's task, then ⏹ 📅 ⏹ 🔁 pressed on its April source (the
    buttons sit side by side): May is not sent again; June is."""
    async with district_bot(settings, extra_schools=("第三小学",)) as (bot, ids):
        d = await three_schools(bot, ids)
        task = await send_task(bot, d, AnswerKind.DONE)
        async with bot.db() as session:
            task.created_at = datetime(2027, 4, 18, 2, 0, tzinfo=UTC)
            session.add(task)
            await session.commit()
        runtime = bot.app.state.runtime
        assert runtime is not None
        now = datetime(2027, 5, 18, 1, 0, tzinfo=UTC)
        await bot.press(DISTRICT_STAFF, TaskAction("monthly_on", task.id or 0).pack())
        assert await send_repeated(runtime, today=date(2027, 5, 18), now=now) == 1
        for action in ("monthly_off", "yearly_on", "yearly_off", "monthly_on"):
            await bot.press(DISTRICT_STAFF, TaskAction(action, task.id or 0).pack())
        assert await send_repeated(runtime, today=date(2027, 5, 20), now=now) == 0
        assert await send_repeated(runtime, today=date(2027, 6, 18), now=now) == 1


async def test_leap_days_and_the_turn_of_the_year(bot: BotHarness) -> None:
    """A yearly rule of 29 February goes out on the 28th in a common year; a monthly rule of
    the 31st goes out on 30 November and 31 December, then in January."""
    d = await district(bot)
    zone = bot.app.state.settings.zone
    for title, sent_on, deadline, every in (
        ("年度工作计划", date(2028, 2, 29), date(2028, 3, 10), RuleEvery.YEAR),
        ("月报", date(2028, 10, 31), date(2028, 11, 3), RuleEvery.MONTH),
    ):
        async with bot.db() as session:
            task, _ = await create_task(
                session,
                district_id=d.id,
                title=title,
                body=f"请报送：{title}。",
                deadline=deadline,
                today=sent_on,
                answer_kind=AnswerKind.FILE,
                school_ids=[d.a, d.b],
                created_by=d.staff_id,
            )
            task.created_at = datetime.combine(sent_on, time(2, 0), tzinfo=UTC)  # 10:00 there
            session.add(task)
            await session.commit()
            await set_repeat(
                session,
                district_id=d.id,
                task_id=task.id or 0,
                every=every,
                member_id=d.staff_id,
                zone=zone,
            )

    async def made(day: date) -> list[tuple[str, date]]:
        async with bot.db() as session:
            return [(t.title, t.deadline) for t, _ in await make_repeated_tasks(session, today=day)]

    assert await made(date(2028, 11, 29)) == []
    assert await made(date(2028, 11, 30)) == [("月报", date(2028, 12, 3))]
    assert await made(date(2028, 12, 30)) == []
    assert await made(date(2028, 12, 31)) == [("月报", date(2029, 1, 3))]
    assert await made(date(2029, 1, 31)) == [("月报", date(2029, 2, 3))]
    assert await made(date(2029, 2, 27)) == []
    assert await made(date(2029, 2, 28)) == [
        ("年度工作计划", date(2029, 3, 10)),
        ("月报", date(2029, 3, 3)),
    ]


async def test_a_withdrawn_task_stops_its_rule_and_cannot_be_answered(settings: Settings) -> None:
    """Withdrawing the source of a monthly rule stops the rule (its wrong text is not sent
    next month), a corrected task of the same title makes a rule of its own, and the answer's
    own guarded UPDATE refuses a withdrawn task even past the button's check."""
    async with district_bot(settings, extra_schools=("第三小学",)) as (bot, ids):
        d = await three_schools(bot, ids)
        wrong = await send_task(bot, d, AnswerKind.DONE)
        async with bot.db() as session:
            wrong.created_at = datetime(2027, 4, 18, 2, 0, tzinfo=UTC)
            session.add(wrong)
            await session.commit()
        await bot.press(DISTRICT_STAFF, TaskAction("monthly_on", wrong.id or 0).pack())
        await bot.press(DISTRICT_STAFF, TaskAction("withdraw_yes", wrong.id or 0).pack())
        assert "它设置的自动下发也已停止" in bot.telegram.last(DISTRICT_STAFF.id).text
        runtime = bot.app.state.runtime
        assert runtime is not None
        now = datetime(2027, 5, 18, 1, 0, tzinfo=UTC)
        assert await send_repeated(runtime, today=date(2027, 5, 18), now=now) == 0

        corrected = await send_task(bot, d, AnswerKind.DONE)  # the same title
        async with bot.db() as session:
            corrected.body = "请各校四月底前报送校务公开自评表（更正版）。"
            corrected.created_at = datetime(2027, 4, 19, 2, 0, tzinfo=UTC)
            session.add(corrected)
            await session.commit()
        await bot.press(DISTRICT_STAFF, TaskAction("monthly_on", corrected.id or 0).pack())
        async with bot.db() as session:
            rules = {r.source_task_id: r.active for r in await session.exec(select(TaskRule))}
        assert rules == {wrong.id: False, corrected.id: True}
        assert await send_repeated(runtime, today=date(2027, 5, 19), now=now) == 1
        async with bot.db() as session:
            query = select(DistrictTask).order_by(col(DistrictTask.id).desc())
            latest = (await session.exec(query)).first()
        assert latest is not None and latest.body.endswith("（更正版）。")
        # Withdrawing May's copy leaves the rule running: said so, with ⏹ right there.
        await bot.press(DISTRICT_STAFF, TaskAction("withdraw_yes", latest.id or 0).pack())
        said = bot.telegram.last(DISTRICT_STAFF.id)
        assert "之后仍会按时自动下发同样的内容" in said.text
        stop = said.button_data("停止每月下发")
        assert stop == TaskAction("monthly_off", latest.id or 0).pack()
        await bot.press(DISTRICT_STAFF, stop)
        async with bot.db() as session:
            rules = {r.source_task_id: r.active for r in await session.exec(select(TaskRule))}
        assert rules == {wrong.id: False, corrected.id: False}

        # Past the button: the model's UPDATE itself stores nothing for a withdrawn task.
        b = await assignment_of(bot, wrong, d.b)
        async with bot.db() as session:
            chair = (
                await session.exec(select(Member).where(Member.telegram_user_id == CHAIR_B.id))
            ).one()
            with pytest.raises(DomainError) as refused:
                await answer_assignment(session, assignment_id=b.id or 0, member=chair, now=now)
        assert refused.value.key == "dtask.withdrawn"
        assert (await assignment_of(bot, wrong, d.b)).status == AssignmentStatus.PENDING
