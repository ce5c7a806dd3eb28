"""/report through the real application: who may use it, the periods typed or pressed, the
figures in one message in the reader's language, and the files sent only privately."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import docx
import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, update
from sqlmodel import col

from handlers.reports.buttons import ReportFile, ReportPick
from models.members import Member, MemberRole, Role
from models.organizations import bind_committee_chat
from tests.support.factories import make_member
from tests.support.fake_telegram import Failure
from tests.support.harness import CHAIR, COMMITTEE_GROUP_ID, BotHarness
from tests.support.seed_year import (
    AUDITOR_TELEGRAM_ID,
    MEMBER_TELEGRAM_BASE,
    SeedYear,
    build_year,
)
from tests.support.updates import Person, group_chat

SECRET = b"test-secret-key-0123456789abcdef"
GROUP = group_chat(COMMITTEE_GROUP_ID)
AUDITOR = Person(AUDITOR_TELEGRAM_ID, "经审")
TEACHER = Person(MEMBER_TELEGRAM_BASE + 10, "教师10")
PNG = b"\x89PNG\r\n\x1a\n"


async def _seeded(bot: BotHarness) -> SeedYear:
    bot.app.state.clock = lambda: datetime(2026, 12, 5, 2, 0, tzinfo=UTC)
    seed = await build_year(bot.db, org_id=bot.org_id, secret=SECRET)
    async with bot.db() as session:
        await bind_committee_chat(session, org_id=bot.org_id, chat_id=COMMITTEE_GROUP_ID)
        await session.commit()
    return seed


async def _chair_only(bot: BotHarness) -> None:
    """No year to read: only the chair, for the tests of what is typed."""
    await make_member(bot.db, org_id=bot.org_id, person=CHAIR, name="张主席", roles=[Role.CHAIR])


def _keep_files(bot: BotHarness, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bytes]]:
    """The fake records only the parameters; keep the uploaded files too."""
    files: list[tuple[str, bytes]] = []
    recorded = bot.telegram.do_request

    async def keeping(url: str, method: str, request_data: Any = None, **kwargs: Any) -> Any:
        if request_data is not None:
            for value in (request_data.multipart_data or {}).values():
                files.append((str(value[0]), bytes(value[1])))
        return await recorded(url, method, request_data, **kwargs)

    monkeypatch.setattr(bot.telegram, "do_request", keeping)
    return files


async def test_only_book_readers_may_read_reports(bot: BotHarness) -> None:
    await _seeded(bot)
    await bot.say(TEACHER, "/report 2026")
    refusal = bot.telegram.last(TEACHER.id).text
    assert "工会财务" in refusal and "经审委员" in refusal and "主席" in refusal
    assert "34,500" not in "".join(bot.telegram.texts())
    await bot.press(TEACHER, ReportPick("y", 2026, 0).pack())
    assert "经审委员" in bot.telegram.answers()[-1].params.get("text", "")
    await bot.press(TEACHER, ReportFile("books", "y", 2026, 0).pack(), chat=GROUP)
    assert bot.telegram.sent("sendDocument") == []
    await bot.say(AUDITOR, "/report 2026")
    assert "总计慰问金 ¥34,500，共 31 人次" in bot.telegram.last(AUDITOR.id).text


async def test_the_year_in_one_message(bot: BotHarness) -> None:
    await _seeded(bot)
    await bot.say(CHAIR, "/report 2026")
    message = bot.telegram.last(CHAIR.id)
    text = message.text
    for line in (
        "📊 实验中学工会2026年工作数据",
        "统计期间：2026年1月1日至2026年12月31日",
        "🏛 组织建设",
        "· 会员 45 人，其中女教职工 26 人、离退休教职工 3 人",
        "· 本期新入会 4 人，会籍转出 1 人",
        "· 在册教职工 48 人，入会率 93.8%",
        "📮 意见箱",
        "· 收到意见建议 10 条，其中匿名 4 条",
        "· 已答复 7 条，答复率 70%；7 天内答复 5 条",
        "· 按类别：食堂 4、教育教学 3、后勤与设施 3",
        "🗳 民主管理",
        "· 二届五次教代会：共征集提案 36 条，经梳理归并为 18 件，立案 16 件，立案率 88.9%",
        "· 公示 2 次，其中有异议 1 次",
        "· 合理化建议 3 条，已采纳 1 条",
        "🤝 维权帮扶",
        "· 看望住院教职工 16 人次，¥4,000",
        "· 慰问生育教职工 5 人次，¥2,500",
        "· 丧葬慰问 2 人次，¥20,000",
        "· 慰问退休教职工 2 人次，¥2,000",
        "· 困难补助 6 人次，¥6,000",
        "· 总计慰问金 ¥34,500，共 31 人次",
        "· 困难职工档案：在档 6 户，新建档 6 户，撤档 0 户",
        "🎉 文体活动",
        "· 举办活动 4 次，参与 33 人次，参与率 20.5%",
        "✉️ 消息",
        "· 发出通知 1 次，送出节日和生日祝福 45 条",
    ):
        assert line in text.splitlines(), line
    sections = ["组织建设", "意见箱", "民主管理", "维权帮扶", "文体活动", "消息"]
    assert [text.index(s) for s in sections] == sorted(text.index(s) for s in sections)
    assert [label for label, _data in message.buttons()] == ["📊 图表", "📒 台账", "📝 工作总结"]
    assert message.button_data("台账") == ReportFile("books", "y", 2026, 0).pack()
    for name in ("教师04", "张主席", "住院治疗"):  # no names, no aid details
        assert name not in text


async def test_the_period_buttons(bot: BotHarness) -> None:
    await _seeded(bot)
    await bot.say(CHAIR, "/report")
    choose = bot.telegram.last(CHAIR.id)
    assert "/report 2025 第二学期" in choose.text
    assert choose.buttons() == [
        ("本年", ReportPick("y", 2026, 0).pack()),
        ("去年", ReportPick("y", 2025, 0).pack()),
        ("本学期", ReportPick("t", 2026, 1).pack()),
        ("上学期", ReportPick("t", 2025, 2).pack()),
        ("上月", ReportPick("m", 2026, 11).pack()),
        ("本月", ReportPick("m", 2026, 12).pack()),
    ]
    await bot.press(CHAIR, ReportPick("t", 2025, 2).pack())
    text = bot.telegram.last(CHAIR.id).text
    assert text.startswith("📊 实验中学工会2025—2026学年第二学期工作数据")
    assert "统计期间：2026年2月20日至2026年8月31日" in text
    await bot.press(CHAIR, ReportPick("m", 2026, 11).pack())
    text = bot.telegram.last(CHAIR.id).text
    assert "2026年11月工作数据" in text and "新建档 6 户" in text
    assert "本期没有举办活动" in text and "本期没有征集教代会提案" in text
    await bot.press(CHAIR, ReportPick("m", 2026, 13).pack())  # forged
    assert "月份是 1 到 12" in bot.telegram.answers()[-1].params.get("text", "")


@pytest.mark.parametrize(
    ("typed", "title"),
    [
        ("2026", "2026年工作数据"),
        ("2026年", "2026年工作数据"),
        ("2025 第二学期", "2025—2026学年第二学期工作数据"),
        ("2025-2026 第一学期", "2025—2026学年第一学期工作数据"),
        ("2025—2026学年第2学期", "2025—2026学年第二学期工作数据"),
        ("2026 term 1", "2026—2027学年第一学期工作数据"),
        ("2026-T1", "2026—2027学年第一学期工作数据"),
        ("2026 3月", "2026年3月工作数据"),
        ("2026年3月", "2026年3月工作数据"),
        ("2026-03", "2026年3月工作数据"),
        ("2026 month 3", "2026年3月工作数据"),
    ],
)
async def test_typed_periods(bot: BotHarness, typed: str, title: str) -> None:
    await _chair_only(bot)
    await bot.say(CHAIR, f"/report {typed}")
    assert title in bot.telegram.last(CHAIR.id).text.splitlines()[0]


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("去年吧", "没有看懂这个期间"),
        ("2026 春天", "没有看懂这个期间"),
        ("2025-2027 第一学期", "没有看懂这个期间"),
        ("1999", "2000 到 2100"),
        ("2026 13月", "月份是 1 到 12"),
        ("2026 第三学期", "学期只有第一学期"),
        ("2026 term 3", "学期只有第一学期"),
        ("2026 上学期", "第一学期（秋季开学）"),
        ("2026 下学期", "第一学期（秋季开学）"),
    ],
)
async def test_bad_periods_are_refused_with_examples(
    bot: BotHarness, typed: str, answer: str
) -> None:
    await _chair_only(bot)
    await bot.say(CHAIR, f"/report {typed}")
    text = bot.telegram.last(CHAIR.id).text
    assert answer in text
    assert "工作数据" not in text


async def test_the_readers_language(bot: BotHarness) -> None:
    await _seeded(bot)
    for language, line in (
        ("en", "Hospital visits: 16, ¥4,000"),
        ("zh-Hant", "看望住院教職工 16 人次，¥4,000"),
    ):
        async with bot.db() as session:
            await session.exec(
                update(Member)
                .where(col(Member.telegram_user_id) == CHAIR.id)
                .values(language=language)
            )
            await session.commit()
        await bot.say(CHAIR, "/report 2026")
        message = bot.telegram.last(CHAIR.id)
        assert line in message.text
    assert "Total paid: ¥34,500 in 31 payments" not in message.text  # zh-Hant last
    assert "總計慰問金 ¥34,500，共 31 人次" in message.text


async def test_files_go_privately_to_whoever_pressed(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _seeded(bot)
    files = _keep_files(bot, monkeypatch)
    await bot.say(CHAIR, "/report 2026", chat=GROUP)
    in_group = bot.telegram.last(COMMITTEE_GROUP_ID)
    assert "总计慰问金 ¥34,500，共 31 人次" in in_group.text
    await bot.press(CHAIR, in_group.button_data("台账"), chat=GROUP)
    (document,) = bot.telegram.sent("sendDocument")
    assert document.chat_id == CHAIR.id
    assert bot.telegram.last(COMMITTEE_GROUP_ID).text == "台账已私信发给您。"
    (name, content), *_ = files
    assert name == "books-2026.xlsx"
    load_workbook(io.BytesIO(content))
    files.clear()
    await bot.press(CHAIR, in_group.button_data("工作总结"), chat=GROUP)
    assert [c.chat_id for c in bot.telegram.sent("sendDocument")] == [CHAIR.id, CHAIR.id]
    ((name, content),) = files
    assert name == "summary-2026.docx"
    docx.Document(io.BytesIO(content))
    files.clear()
    await bot.press(AUDITOR, in_group.button_data("图表"), chat=GROUP)
    photos = bot.telegram.sent("sendPhoto")
    assert photos and {c.chat_id for c in photos} == {AUDITOR.id}
    assert files and all(n.startswith("chart-2026-") and n.endswith(".png") for n, _c in files)
    assert all(content.startswith(PNG) for _n, content in files)
    assert bot.telegram.last(COMMITTEE_GROUP_ID).text == "图表已私信发给您。"
    # Pressed in the private chat: the files come there, and nothing is said in the group.
    group_messages = len(bot.telegram.sent(chat_id=COMMITTEE_GROUP_ID))
    await bot.press(CHAIR, ReportFile("books", "m", 2026, 3).pack())
    assert bot.telegram.sent("sendDocument")[-1].chat_id == CHAIR.id
    assert files[-1][0] == "books-2026-03.xlsx"
    assert len(bot.telegram.sent(chat_id=COMMITTEE_GROUP_ID)) == group_messages
    # Nothing was ever sent to the group but the figures and the two short notes.
    assert {c.method for c in bot.telegram.calls if c.chat_id == COMMITTEE_GROUP_ID} == {
        "sendMessage"
    }


async def test_a_reader_the_bot_cannot_write_to_is_told_how(bot: BotHarness) -> None:
    await _seeded(bot)
    bot.telegram.failures.append(
        Failure("sendDocument", 403, "Forbidden: bot can't initiate conversation with a user")
    )
    await bot.press(CHAIR, ReportFile("books", "y", 2026, 0).pack(), chat=GROUP)
    told = bot.telegram.last(COMMITTEE_GROUP_ID)
    assert "机器人还不能私信您" in told.text
    assert told.buttons()[0][1].startswith("https://t.me/")
    assert "已私信发给您" not in told.text


async def test_the_role_is_checked_again_at_delivery(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The auditor loses the role while the workbook is being written: nothing is sent."""
    await _seeded(bot)
    import handlers.reports.report as report

    built = report.books_workbook

    async def revoking(session: Any, **kwargs: Any) -> bytes:
        data = await built(session, **kwargs)
        async with bot.db() as other:
            await other.exec(delete(MemberRole).where(col(MemberRole.role) == Role.AUDITOR))
            await other.commit()
        return data

    monkeypatch.setattr(report, "books_workbook", revoking)
    await bot.press(AUDITOR, ReportFile("books", "y", 2026, 0).pack(), chat=GROUP)
    assert bot.telegram.sent("sendDocument") == []
    assert "没有查看工作报表的权限" in bot.telegram.last(COMMITTEE_GROUP_ID).text


async def test_other_groups_see_nothing(bot: BotHarness) -> None:
    await _seeded(bot)
    other = group_chat(-100999, "教研组")
    await bot.say(CHAIR, "/report 2026", chat=other)
    assert bot.telegram.last(-100999).text == "工作报表只能在工会委员会群或与机器人的私聊中查看。"
    await bot.press(CHAIR, ReportFile("books", "y", 2026, 0).pack(), chat=other)
    assert bot.telegram.sent("sendDocument") == []
