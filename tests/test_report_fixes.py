"""The review's fixes to the reports: the roster of a past period, characters no file may hold,
the 月报 with the settings, one meaning of 报名, answer days in local days, no future periods,
and the spreadsheet writer's limits."""

from __future__ import annotations

import dataclasses
import io
import logging
import math
import zipfile
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import docx
import pytest
from openpyxl import load_workbook
from sqlalchemy import update
from sqlmodel import col

from bot.cli import main
from bot.i18n import I18n
from handlers.reports import report as report_handler
from handlers.reports.buttons import ReportFile
from models.activities import Activity, ActivityCategory, Signup, SignupStatus
from models.exports import safe_cell
from models.members import Member, MemberStatus, Role
from models.outbox import messages_of
from models.reports.book_rows import activity_rows, roster_rows, suggestion_rows
from models.reports.figures import ReportFigures
from models.reports.period import ReportPeriod, month_period, year_period
from models.reports.queries import gather
from models.reports.summary import summary_docx
from models.reports.workbook import books_workbook
from models.suggestions import EntryKind, Suggestion, SuggestionCategory, SuggestionEntry
from models.validation import clean_text
from models.xlsx_stream import CELL_TEXT_LIMIT, StreamBook
from scheduler.calendar_jobs import fire, occurrence_key
from tests.support.factories import make_member
from tests.support.harness import CHAIR, BotHarness
from tests.support.seed_year import ZONE, build_year
from tests.test_calendar import entry, runtime_of
from tests.test_report_cli import cli_env  # noqa: F401 - the fixture

SECRET = b"test-secret-key-0123456789abcdef"
HANS = I18n("zh-Hans").get("zh-Hans")


def _at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=ZONE).astimezone(UTC)


async def _figures(bot: BotHarness, period: ReportPeriod, answer_days: int = 7) -> ReportFigures:
    async with bot.db() as session:
        return await gather(
            session,
            org_id=bot.org_id,
            period=period,
            zone=ZONE,
            organization="实验中学工会",
            answer_days=answer_days,
        )


async def _person(
    bot: BotHarness,
    name: str,
    status: MemberStatus,
    created: date,
    *,
    joined: date | None = None,
    left: date | None = None,
) -> Member:
    member = await make_member(bot.db, org_id=bot.org_id, name=name, status=status)
    async with bot.db() as session:
        await session.exec(
            update(Member)
            .where(col(Member.id) == member.id)
            .values(
                created_at=_at(created),
                joined_at=_at(joined) if joined else None,
                left_at=_at(left) if left else None,
            )
        )
        await session.commit()
    return member


# ---- 1. the roster of a past period -------------------------------------------------------


async def test_a_past_periods_roster_keeps_who_joined_later(bot: BotHarness) -> None:
    await _person(bot, "在册老师", MemberStatus.ACTIVE, date(2024, 9, 1), joined=date(2024, 9, 1))
    await _person(bot, "待加入老师", MemberStatus.INVITED, date(2025, 3, 1))
    await _person(
        bot, "后来加入老师", MemberStatus.ACTIVE, date(2025, 3, 1), joined=date(2026, 2, 1)
    )
    await _person(
        bot,
        "已离开老师",
        MemberStatus.INACTIVE,
        date(2025, 1, 1),
        joined=date(2025, 1, 1),
        left=date(2025, 6, 1),
    )
    await _person(bot, "未通过老师", MemberStatus.REJECTED, date(2025, 4, 1))
    await _person(bot, "新导入老师", MemberStatus.INVITED, date(2026, 1, 5))
    members = (await _figures(bot, year_period(2025))).members
    assert (members.total, members.roster, members.joined, members.left) == (1, 3, 1, 1)
    assert members.join_rate == 33.3
    async with bot.db() as session:
        rows = await roster_rows(session, org_id=bot.org_id, period=year_period(2025), zone=ZONE)
    shown = {row.name: (row.status, row.joined) for row in rows}
    assert shown == {
        "在册老师": ("active", date(2024, 9, 1)),
        "待加入老师": ("invited", None),
        "后来加入老师": ("invited", None),  # not yet a member at the end of 2025
    }
    this_year = (await _figures(bot, year_period(2026))).members
    assert (this_year.total, this_year.roster) == (2, 4)


# ---- 2. characters no file may hold ---------------------------------------------------------


def test_noncharacters_and_lone_surrogates_are_never_kept() -> None:
    assert clean_text("\uffffz\ufffe", limit=20) == "z"
    assert clean_text("王\ud800老师", limit=20) == "王老师"
    assert safe_cell("\uffffz") == "z"
    assert safe_cell("=\ufffe1+1") == "'=1+1"


async def test_a_name_with_u_ffff_in_the_books_and_the_summary(bot: BotHarness) -> None:
    await _person(bot, "\uffffz", MemberStatus.ACTIVE, date(2026, 1, 5), joined=date(2026, 1, 5))
    async with bot.db() as session:
        data = await books_workbook(
            session,
            org_id=bot.org_id,
            period=year_period(2026),
            tr=HANS,
            zone=ZONE,
            organization="\uffff实验中学工会",
        )
    book = load_workbook(io.BytesIO(data))
    values = [
        cell for ws in book.worksheets for row in ws.iter_rows(values_only=True) for cell in row
    ]
    assert "z" in values
    assert not [v for v in values if isinstance(v, str) and "\uffff" in v]
    figures = dataclasses.replace(
        await _figures(bot, year_period(2026)), organization="\uffffz工会"
    )
    document = docx.Document(io.BytesIO(summary_docx(figures, [], HANS)))
    assert document.paragraphs[0].text.startswith("z工会")


async def test_a_file_that_cannot_be_made_is_explained(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    await make_member(bot.db, org_id=bot.org_id, person=CHAIR, name="张主席", roles=[Role.CHAIR])

    def broken(*_args: Any) -> bytes:
        raise ValueError("张主席 住院治疗")  # what a failing writer might carry

    monkeypatch.setattr(report_handler, "summary_docx", broken)
    with caplog.at_level(logging.INFO):
        await bot.press(CHAIR, ReportFile("summary", "y", 2026, 0).pack())
    text = bot.telegram.last(CHAIR.id).text
    assert "工作总结初稿这次没能生成" in text and "告诉管理员" in text
    assert bot.telegram.sent("sendDocument") == []
    assert "could not be built: ValueError" in caplog.text
    assert "张主席" not in caplog.text and "住院" not in caplog.text


# ---- 3. the 月报 with the settings ---------------------------------------------------------


async def test_the_monthly_report_reads_the_settings(bot: BotHarness) -> None:
    await build_year(bot.db, org_id=bot.org_id, secret=SECRET)
    async with bot.db() as session:
        await session.exec(update(Member).values(language="zh-Hant"))
        await session.commit()
    runtime = runtime_of(bot)
    changed = dataclasses.replace(
        runtime, settings=runtime.settings.model_copy(update={"suggestion_answer_days": 5})
    )
    monthly = await entry(bot, "monthly_report")
    await fire(changed, monthly, date(2026, 12, 1), now=datetime(2026, 12, 1, 9, tzinfo=ZONE))
    async with bot.db() as session:
        messages = await messages_of(
            session, key=occurrence_key(monthly.id or 0, date(2026, 12, 1))
        )
    assert messages
    for message in messages:
        assert "學校工會2026年11月工作數據" in message.text  # the settings' zh-Hant name
        assert "5 天內答覆" in message.text
        assert "7 天" not in message.text


# ---- 4. one meaning of 报名, ages on the activity's day -------------------------------------


async def test_sign_ups_and_the_eligible_agree_with_the_sheet(bot: BotHarness) -> None:
    chair = await make_member(bot.db, org_id=bot.org_id, person=CHAIR, name="张主席")
    young = await make_member(bot.db, org_id=bot.org_id, name="青年老师")
    async with bot.db() as session:
        # 30 on 10 March 2026 (the activity's day), still 29 on the last day of March.
        await session.exec(
            update(Member)
            .where(col(Member.id) == young.id)
            .values(birth_year=1996, birth_month=3, birth_day=10, telegram_user_id=5001)
        )
        await session.exec(
            update(Member)
            .where(col(Member.id) == chair.id)
            .values(birth_year=1970, birth_month=1, birth_day=1)
        )
        ids = []
        for title, rule in (
            ("三十岁以上", '{"type": "age", "min": 30, "max": null}'),
            ("不限年龄", '{"type": "age", "min": null}'),
        ):
            activity = Activity(
                organization_id=bot.org_id,
                title=title,
                category=ActivityCategory.SPORT,
                starts_at=_at(date(2026, 3, 10)),
                place="操场",
                deadline=_at(date(2026, 3, 9)),
                eligibility=rule,
                created_by_member_id=chair.id or 0,
            )
            session.add(activity)
            await session.flush()
            ids.append(activity.id or 0)
        for status, member in ((SignupStatus.SEAT, chair), (SignupStatus.WAITLIST, young)):
            session.add(Signup(activity_id=ids[0], member_id=member.id or 0, status=status))
        session.add(
            Signup(activity_id=ids[1], member_id=chair.id or 0, status=SignupStatus.CANCELLED)
        )
        await session.commit()
    period = month_period(2026, 3)
    (line,) = (await _figures(bot, period)).activities.lines
    async with bot.db() as session:
        rows = await activity_rows(session, org_id=bot.org_id, period=period, zone=ZONE)
    assert line.signed_up == sum(row.signed_up for row in rows) == 2  # a seat and one waiting
    assert line.eligible == sum(row.eligible for row in rows) == 4  # 2 on each, ages on 10 March


# ---- 5. answered within N days, in local days ---------------------------------------------


async def test_a_reply_on_the_last_day_counts_at_any_hour(bot: BotHarness) -> None:
    author = await make_member(bot.db, org_id=bot.org_id, name="提议老师")
    received = datetime(2026, 3, 2, 20, tzinfo=ZONE)
    async with bot.db() as session:
        category = SuggestionCategory(organization_id=bot.org_id, name="其他")
        session.add(category)
        await session.flush()
        for seq, later in enumerate(
            (timedelta(days=7, hours=2), timedelta(days=7, hours=5)), start=1
        ):
            item = Suggestion(
                organization_id=bot.org_id,
                year=2026,
                seq=seq,
                category_id=category.id or 0,
                client_token=f"fix-{seq}",
                author_member_id=author.id,
                body="意见",
                created_at=received.astimezone(UTC),
            )
            session.add(item)
            await session.flush()
            session.add(
                SuggestionEntry(
                    suggestion_id=item.id or 0,
                    kind=EntryKind.REPLY,
                    body="已答复",
                    created_at=(received + later).astimezone(UTC),
                )
            )
        await session.commit()
    period = month_period(2026, 3)
    figures = (await _figures(bot, period)).suggestions
    async with bot.db() as session:
        rows = await suggestion_rows(session, org_id=bot.org_id, period=period, zone=ZONE)
    # 7 days and 2 hours later (22:00) is the 7th day after; 7 days and 5 hours (1:00) the 8th.
    assert [row.first_answer_days for row in rows] == [7, 8]
    assert figures.answered_in_time == 1


# ---- 6. no future periods -----------------------------------------------------------------


async def test_a_period_that_has_not_begun_is_refused(bot: BotHarness) -> None:
    bot.app.state.clock = lambda: datetime(2026, 12, 5, 2, 0, tzinfo=UTC)
    await make_member(bot.db, org_id=bot.org_id, person=CHAIR, name="张主席", roles=[Role.CHAIR])
    for typed, answer in (
        (
            "2030",
            "2030年还没有开始，还没有可以统计的数字。您要看的可能是2026年，请发送：/report 2026",
        ),
        ("2027-01", "您要看的可能是2026年12月，请发送：/report 2026-12"),
        ("2026 第二学期", "请发送：/report 2026 第一学期"),
    ):
        await bot.say(CHAIR, f"/report {typed}")
        text = bot.telegram.last(CHAIR.id).text
        assert answer in text and "工作数据" not in text
    await bot.say(CHAIR, "/report 2026-12")  # this month has begun: its figures so far
    assert "工作数据" in bot.telegram.last(CHAIR.id).text


def test_the_cli_refuses_a_year_to_come(
    cli_env: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "out"
    assert main(["report", "--year", "2099", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "2099年还没有开始" in err and "unionbot report --year 20" in err
    assert not out.exists()


# ---- 7. the spreadsheet writer's limits ---------------------------------------------------


def _cells(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        name = next(n for n in archive.namelist() if n.startswith("xl/worksheets/"))
        return archive.read(name).decode("utf-8")


def test_long_texts_are_cut_by_utf16_units_never_inside_a_pair() -> None:
    book = StreamBook()
    sheet = book.sheet("测试")
    emoji = "😀" * 20_000  # 40,000 UTF-16 units
    sheet.append([emoji, "a" * CELL_TEXT_LIMIT, "x" * 100, math.nan, math.inf, 1.5])
    data = book.close()
    xml = _cells(data)
    assert "nan" not in xml and "inf" not in xml
    row = next(load_workbook(io.BytesIO(data)).worksheets[0].iter_rows(values_only=True))
    cut = row[0]
    assert isinstance(cut, str) and cut.endswith("…")
    assert len(cut.encode("utf-16-le")) // 2 <= CELL_TEXT_LIMIT
    assert set(cut[:-1]) == {"😀"}
    assert row[1] == "a" * CELL_TEXT_LIMIT  # exactly the limit stays whole
    assert row[3:] == (None, None, 1.5)


def test_only_short_texts_are_kept_ready() -> None:
    book = StreamBook()
    book.sheet("测试").append(["语文组", "长" * 65, "语文组"])
    assert "语文组" in book._texts and "长" * 65 not in book._texts
    book.close()
