"""Staff roster import (CSV/XLSX -> invited members) and the personal invitation links."""

from __future__ import annotations

import asyncio
import csv
import gc
import io
import os
import re
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlmodel import col, select

from bot.cli import main
from bot.db import SessionFactory, create_engine, create_session_factory
from bot.settings import Settings
from models.errors import DomainError
from models.members import Gender, Member, MemberStatus, bind_invite
from models.organizations import ensure_default_organization
from models.roster import (
    ImportReport,
    RosterRow,
    RowError,
    import_roster,
    parse_rows,
    read_table,
)
from models.validation import Birthday
from tests.support.factories import make_member
from tests.support.harness import BotHarness, running_bot
from tests.support.updates import Person

TODAY = date(2025, 3, 1)
TEACHER = Person(2001, "Wang", "en")
STRANGER = Person(2002, "Li", "en")

ZH_HEADER = "姓名,部门,工号,性别,生日,退休"
ROSTER = f"""{ZH_HEADER}
王芳,语文组,T001,女,1985-03-08,否
李明,数学组,T002,男,3月8日,是
赵敏,英语组,,,,
"""
LONG_NAME = "王" * 41
DEEP_LINK_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")


def table(text: str) -> list[list[str]]:
    """CSV text as the rows `read_table` would return."""
    return list(csv.reader(io.StringIO(text)))


def parse(text: str) -> tuple[list[RosterRow], list[RowError]]:
    """Parse CSV text as a roster, on a fixed day."""
    return parse_rows(table(text), today=TODAY)


def error_keys(errors: list[RowError]) -> list[tuple[int, str]]:
    """(line, message key) of each bad line."""
    return [(error.line, error.key) for error in errors]


# ---- parse_rows -----------------------------------------------------------------------------


def test_good_rows_import_and_bad_rows_are_reported_by_line() -> None:
    rows, errors = parse(
        f"{ZH_HEADER}\n"  # line 1
        "王芳,语文组,T001,女,1985-03-08,否\n"  # 2 good
        "李明,数学组,T002,男,3月8日,是\n"  # 3 good
        "赵敏,英语组,T003,未知,,\n"  # 4 bad gender
        "钱七,物理组,T004,女,,也许\n"  # 5 bad retired
        "  ,化学组,T005,,,\n"  # 6 empty name
        f"{LONG_NAME},生物组,T006,,,\n"  # 7 name too long
        "孙八,生物组,T007,,1985-13-40,\n"  # 8 impossible date
        "王芳芳,语文组,T001,,,\n"  # 9 same staff number as line 2
        "\n"  # 10 blank
        ",,,,,\n"  # 11 blank cells
        "周九,历史组,,F,,退休\n"  # 12 good
    )

    assert [row.line for row in rows] == [2, 3, 12]
    wang, li, zhou = rows
    assert (wang.real_name, wang.department, wang.key) == ("王芳", "语文组", "no:T001")
    assert (wang.gender, wang.birthday, wang.retired) == (
        Gender.FEMALE,
        Birthday(month=3, day=8, year=1985),
        False,
    )
    assert (li.gender, li.birthday, li.retired) == (Gender.MALE, Birthday(month=3, day=8), True)
    assert (zhou.key, zhou.gender, zhou.birthday, zhou.retired) == (
        "name:周九|历史组",
        Gender.FEMALE,
        None,
        True,
    )
    assert error_keys(errors) == [
        (4, "roster.bad_gender"),
        (5, "roster.bad_retired"),
        (6, "input.empty"),
        (7, "input.too_long"),
        (8, "input.birthday_format"),
        (9, "roster.duplicate_in_file"),
    ]
    assert errors[0].params == {"value": "未知"}
    assert errors[1].params == {"value": "也许"}
    assert errors[3].params == {"limit": 40, "count": 41}


@pytest.mark.parametrize(
    "header",
    [
        "姓名,部门,工号,性别,生日,退休",
        "姓名,部門,工號,性別,出生日期,離退休",
        "Name,Department,Staff Number,Gender,Birthday,Retired",
        " name , DEPT ,staff_no,Sex,birthday,retired",
    ],
)
def test_chinese_and_english_headers_read_the_same(header: str) -> None:
    rows, errors = parse(
        f"{header}\n"
        "Wang Fang,Grade 8,T001,female,1985-03-08,no\n"
        "Li Ming,Grade 9,,M,03-08,yes\n"
        "Zhao Min,Grade 7,,woman,,maybe\n"
        "Li Ming,Grade 9,,,,\n"
    )

    assert [(row.line, row.key, row.gender, row.retired) for row in rows] == [
        (2, "no:T001", Gender.FEMALE, False),
        (3, "name:Li Ming|Grade 9", Gender.MALE, True),
    ]
    assert rows[0].birthday == Birthday(month=3, day=8, year=1985)
    assert error_keys(errors) == [(4, "roster.bad_retired"), (5, "roster.duplicate_in_file")]


def test_same_name_in_another_department_is_not_a_duplicate() -> None:
    rows, errors = parse("姓名,部门\n李明,数学组\n李明,体育组\n")

    assert [row.key for row in rows] == ["name:李明|数学组", "name:李明|体育组"]
    assert errors == []


def test_birth_year_out_of_range_is_reported_with_the_allowed_years() -> None:
    rows, errors = parse("姓名,部门,生日\n王芳,语文组,1900-01-01\n李明,数学组,2015-01-01\n")

    assert rows == []
    assert error_keys(errors) == [(2, "input.birthday_year"), (3, "input.birthday_year")]
    assert errors[0].params == {"min": 1925, "max": 2009}


def test_short_row_without_department_is_an_empty_input_error() -> None:
    rows, errors = parse("姓名,部门,工号\n王芳\n李明,数学组\n")

    assert [row.real_name for row in rows] == ["李明"]
    assert error_keys(errors) == [(2, "input.empty")]


@pytest.mark.parametrize(
    "header",
    ["姓名,工号,性别", "部门,工号", "Full name,Department", ""],
)
def test_missing_name_or_department_column_refuses_the_file(header: str) -> None:
    with pytest.raises(DomainError) as refused:
        parse(f"{header}\n王芳,语文组\n")

    assert refused.value.key == "roster.missing_columns"


def test_empty_table_refuses_the_file() -> None:
    with pytest.raises(DomainError) as refused:
        parse_rows([], today=TODAY)

    assert refused.value.key == "roster.empty"


# ---- read_table -----------------------------------------------------------------------------


def test_utf8_csv_with_bom_reads_the_header_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER, encoding="utf-8-sig")  # what Excel's "CSV UTF-8" writes
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")

    cells = read_table(path)

    assert cells[0] == ["姓名", "部门", "工号", "性别", "生日", "退休"]
    rows, errors = parse_rows(cells, today=TODAY)
    assert [row.real_name for row in rows] == ["王芳", "李明", "赵敏"]
    assert errors == []


def test_gb18030_csv_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes(ROSTER.encode("gb18030"))  # what Excel on a Chinese Windows writes
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")

    cells = read_table(path)

    assert cells == table(ROSTER)


def test_undecodable_csv_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes(b"\xff\xff\xff\xff")

    with pytest.raises(DomainError) as refused:
        read_table(path)

    assert refused.value.key == "roster.encoding"


def test_xlsx_cells_become_text(tmp_path: Path) -> None:
    path = tmp_path / "roster.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["姓名", "部门", "工号", "性别", "生日", "退休"])
    sheet.append(["王芳", "语文组", 1001, "女", date(1985, 3, 8), "否"])
    sheet.append(["李明", "数学组", 1002, None, "3月8日", "是"])
    sheet.append([None, None, None, None, None, None])
    sheet.append(["赵敏", "英语组", None, "男", None, None])
    workbook.save(path)

    cells = read_table(path)

    assert cells[:3] == [
        ["姓名", "部门", "工号", "性别", "生日", "退休"],
        ["王芳", "语文组", "1001", "女", "1985-03-08", "否"],
        ["李明", "数学组", "1002", "", "3月8日", "是"],
    ]
    rows, errors = parse_rows(cells, today=TODAY)
    assert errors == []
    assert [(row.line, row.key) for row in rows] == [
        (2, "no:1001"),
        (3, "no:1002"),
        (5, "name:赵敏|英语组"),
    ]
    assert rows[0].birthday == Birthday(month=3, day=8, year=1985)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to list open files")
def test_reading_an_xlsx_releases_the_file(tmp_path: Path) -> None:
    path = tmp_path / "roster.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["姓名", "部门"])
    sheet.append(["王芳", "语文组"])
    workbook.save(path)

    gc.disable()  # only an explicit close counts, not a lucky garbage collection
    try:
        assert read_table(path) == [["姓名", "部门"], ["王芳", "语文组"]]
        still_open = [fd for fd in os.listdir("/proc/self/fd") if _points_at(fd, path)]
    finally:
        gc.enable()
    assert still_open == []


def _points_at(fd: str, path: Path) -> bool:
    try:
        return os.readlink(f"/proc/self/fd/{fd}") == str(path)
    except OSError:
        return False


# ---- import_roster --------------------------------------------------------------------------


@pytest.fixture
async def db(clean_database: str) -> AsyncIterator[SessionFactory]:
    """Sessions on the emptied test database."""
    engine = create_engine(clean_database)
    yield create_session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def org_id(db: SessionFactory) -> int:
    """The organization the roster is imported into."""
    async with db() as session:
        org = await ensure_default_organization(session, name="实验中学工会")
    assert org.id is not None
    return org.id


async def import_text(db: SessionFactory, org_id: int, text: str) -> ImportReport:
    """Parse and import CSV text, as the CLI does."""
    rows, errors = parse(text)
    async with db() as session:
        return await import_roster(session, org_id=org_id, rows=rows, errors=errors)


async def stored_members(db: SessionFactory) -> list[Member]:
    """Every member, in id order."""
    async with db() as session:
        return list((await session.exec(select(Member).order_by(col(Member.id)))).all())


async def test_import_creates_invited_members_with_unique_codes(
    db: SessionFactory, org_id: int
) -> None:
    report = await import_text(db, org_id, ROSTER + "钱七,物理组,T009,?,,\n")

    assert [member.real_name for member in report.created] == ["王芳", "李明", "赵敏"]
    assert (report.updated, report.unchanged) == ([], 0)
    assert error_keys(report.errors) == [(5, "roster.bad_gender")]
    members = await stored_members(db)
    assert [(m.real_name, m.department, m.roster_key) for m in members] == [
        ("王芳", "语文组", "no:T001"),
        ("李明", "数学组", "no:T002"),
        ("赵敏", "英语组", "name:赵敏|英语组"),
    ]
    assert all(m.status == MemberStatus.INVITED for m in members)
    assert all(m.telegram_user_id is None for m in members)
    assert all(m.organization_id == org_id for m in members)
    codes = [m.invite_code or "" for m in members]
    # Telegram accepts at most 64 characters of A-Z, a-z, 0-9, _ and - after ?start=
    assert all(DEEP_LINK_PAYLOAD.fullmatch(f"inv-{code}") for code in codes)
    assert all(len(code) >= 12 for code in codes)
    assert len(set(codes)) == 3
    wang, li, zhao = members
    assert (wang.gender, wang.birth_year, wang.birth_month, wang.birth_day, wang.retired) == (
        "female",
        1985,
        3,
        8,
        False,
    )
    assert (li.gender, li.birth_year, li.birth_month, li.birth_day, li.retired) == (
        "male",
        None,
        3,
        8,
        True,
    )
    assert (zhao.gender, zhao.birthday, zhao.retired) == (None, None, False)


async def test_reimporting_the_same_file_changes_nothing(db: SessionFactory, org_id: int) -> None:
    await import_text(db, org_id, ROSTER)
    before = await stored_members(db)

    report = await import_text(db, org_id, ROSTER)

    assert (report.created, report.updated, report.unchanged) == ([], [], 3)
    after = await stored_members(db)
    assert [(m.id, m.invite_code, m.real_name, m.updated_at) for m in after] == [
        (m.id, m.invite_code, m.real_name, m.updated_at) for m in before
    ]


async def test_changed_row_updates_an_invited_member_but_not_one_who_joined(
    db: SessionFactory, org_id: int
) -> None:
    await import_text(db, org_id, ROSTER)
    wang, li, _ = await stored_members(db)
    assert wang.invite_code is not None
    async with db() as session:
        await bind_invite(
            session,
            org_id=org_id,
            telegram_user_id=TEACHER.id,
            code=wang.invite_code,
            language="en",
        )

    changed = (
        f"{ZH_HEADER}\n"
        "王芳,初三语文组,T001,女,1985-03-08,是\n"  # joined already: keeps her own data
        "李明,初二数学组,T002,男,1980-03-08,否\n"  # still invited: updated
        "赵敏,英语组,,,,\n"  # unchanged
    )
    report = await import_text(db, org_id, changed)

    assert [member.id for member in report.updated] == [li.id]
    assert (report.created, report.unchanged) == ([], 2)
    new_wang, new_li, _ = await stored_members(db)
    assert (new_wang.department, new_wang.retired, new_wang.status) == (
        "语文组",
        False,
        MemberStatus.ACTIVE,
    )
    assert new_wang.telegram_user_id == TEACHER.id
    assert (new_li.department, new_li.birth_year, new_li.retired) == ("初二数学组", 1980, False)
    assert (new_li.status, new_li.invite_code) == (MemberStatus.INVITED, li.invite_code)


async def test_updating_an_invited_member_records_when(db: SessionFactory, org_id: int) -> None:
    await import_text(db, org_id, ROSTER)
    _, li, _ = await stored_members(db)

    await import_text(db, org_id, ROSTER.replace("李明,数学组,T002", "李明,初二数学组,T002"))

    _, new_li, _ = await stored_members(db)
    assert new_li.department == "初二数学组"
    assert new_li.updated_at > li.updated_at


async def test_rows_missing_from_a_new_file_are_left_alone(db: SessionFactory, org_id: int) -> None:
    await import_text(db, org_id, ROSTER)

    report = await import_text(db, org_id, f"{ZH_HEADER}\n王芳,语文组,T001,女,1985-03-08,否\n")

    assert (report.created, report.updated, report.unchanged) == ([], [], 1)
    assert len(await stored_members(db)) == 3


# ---- the command line -----------------------------------------------------------------------


def members_in(url: str) -> list[Member]:
    """Every member of the database at `url` (for synchronous CLI tests)."""

    async def load() -> list[Member]:
        engine = create_engine(url)
        try:
            return await stored_members(create_session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(load())


def bind(url: str, code: str, telegram_user_id: int) -> None:
    """Bind a Telegram account to an invite code (as the bot would)."""

    async def run() -> None:
        engine = create_engine(url)
        try:
            async with create_session_factory(engine)() as session:
                member = await session.exec(select(Member).where(Member.invite_code == code))
                org_id = member.one().organization_id
                await bind_invite(
                    session,
                    org_id=org_id,
                    telegram_user_id=telegram_user_id,
                    code=code,
                    language="en",
                )
        finally:
            await engine.dispose()

    asyncio.run(run())


@pytest.fixture
def cli_env(clean_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Environment for `unionbot`: the test database, English, no .env file."""
    monkeypatch.setenv("DATABASE_URL", clean_database)
    monkeypatch.setenv("DEFAULT_LANGUAGE", "en")
    monkeypatch.delenv("ORGANIZATION_NAME", raising=False)
    monkeypatch.chdir(tmp_path)
    return clean_database


def link(member: Member, bot_username: str = "x_bot") -> str:
    """The personal link the CLI should print for `member`."""
    return f"https://t.me/{bot_username}?start=inv-{member.invite_code}"


def read_csv(path: Path) -> list[list[str]]:
    """Rows of a CSV written by the CLI."""
    with path.open(encoding="utf-8-sig", newline="") as source:
        return list(csv.reader(source))


def test_cli_import_reports_lines_summary_and_links(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = tmp_path / "教职工.csv"
    roster.write_text(
        f"{ZH_HEADER}\n王芳,语文组,T001,女,1985-03-08,否\n钱七,物理组,T009,x,,\n李明,数学组,T002,男,,是\n",
        encoding="utf-8-sig",
    )
    out = tmp_path / "links.csv"

    code = main(["members", "import", str(roster), "--bot-username", "x_bot", "--out", str(out)])

    assert code == 0
    wang, li = members_in(cli_env)
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        'Line 3: gender "x" not recognised (write female / male, or leave it empty)',
        "Import done: 2 created, 0 updated, 0 unchanged, 1 lines with errors.",
        f"王芳\t语文组\t{link(wang)}",
        f"李明\t数学组\t{link(li)}",
        f"Personal links written to {out}",
    ]
    assert read_csv(out) == [
        ["Name", "Department", "Personal link"],
        ["王芳", "语文组", link(wang)],
        ["李明", "数学组", link(li)],
    ]
    assert {wang.status, li.status} == {MemberStatus.INVITED}


def test_cli_second_import_of_the_same_file_creates_nothing(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    assert main(["members", "import", str(roster), "--bot-username", "x_bot"]) == 0
    first = members_in(cli_env)
    capsys.readouterr()

    assert main(["members", "import", str(roster), "--bot-username", "x_bot"]) == 0

    assert capsys.readouterr().out.splitlines() == [
        "Import done: 0 created, 0 updated, 3 unchanged, 0 lines with errors."
    ]
    assert [(m.id, m.invite_code) for m in members_in(cli_env)] == [
        (m.id, m.invite_code) for m in first
    ]


def test_cli_reimport_of_a_changed_row_prints_the_updated_link(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    assert main(["members", "import", str(roster)]) == 0
    capsys.readouterr()
    roster.write_text(ROSTER.replace("李明,数学组,T002", "李明,初二数学组,T002"), encoding="utf-8")

    assert main(["members", "import", str(roster), "--bot-username", "x_bot"]) == 0

    _, li, _ = members_in(cli_env)
    assert capsys.readouterr().out.splitlines() == [
        "Import done: 0 created, 1 updated, 2 unchanged, 0 lines with errors.",
        f"李明\t初二数学组\t{link(li)}",
    ]


def test_cli_import_with_only_bad_lines_fails(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(f"{ZH_HEADER}\n,语文组,,,,\n王芳,语文组,,,13/45,\n", encoding="utf-8")

    assert main(["members", "import", str(roster)]) == 1

    assert capsys.readouterr().out.splitlines() == [
        "Line 2: That was empty. Please type some text and send it again.",
        "Line 3: I could not read that date. Please type it like 03-08 or 1985-03-08.",
        "Import done: 0 created, 0 updated, 0 unchanged, 2 lines with errors.",
    ]
    assert members_in(cli_env) == []


def test_cli_refuses_a_file_without_name_and_department(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("工号,性别\nT001,女\n", encoding="utf-8")

    assert main(["members", "import", str(roster)]) == 1

    captured = capsys.readouterr()
    assert captured.err.strip() == (
        "The first row must have the columns name and department (姓名, 部门)."
    )
    assert captured.out == ""
    assert members_in(cli_env) == []


def test_cli_refuses_an_empty_file(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_bytes(b"")

    assert main(["members", "import", str(roster)]) == 1

    assert capsys.readouterr().err.strip() == "The roster file is empty."
    assert members_in(cli_env) == []


def test_cli_reports_a_file_that_is_not_really_xlsx(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = tmp_path / "roster.xlsx"  # a CSV renamed, or a damaged download
    roster.write_text(ROSTER, encoding="utf-8")

    code = main(["members", "import", str(roster)])

    assert code == 1
    assert capsys.readouterr().err.strip() != ""
    assert members_in(cli_env) == []


def test_cli_reports_a_missing_file(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere.csv"

    assert main(["members", "import", str(missing)]) == 1

    assert capsys.readouterr().err.strip() == (
        f"Could not read the file {missing}. Please check the path."
    )


def test_cli_links_lists_only_members_still_invited(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    assert main(["members", "import", str(roster)]) == 0
    wang, li, zhao = members_in(cli_env)
    assert wang.invite_code is not None
    bind(cli_env, wang.invite_code, TEACHER.id)
    capsys.readouterr()
    out = tmp_path / "again.csv"

    code = main(["members", "links", "--bot-username", "@x_bot", "--out", str(out)])

    assert code == 0
    assert capsys.readouterr().out.splitlines() == [
        f"李明\t数学组\t{link(li)}",
        f"赵敏\t英语组\t{link(zhao)}",
        f"Personal links written to {out}",
    ]
    assert read_csv(out)[1:] == [["李明", "数学组", link(li)], ["赵敏", "英语组", link(zhao)]]


def test_cli_links_without_a_bot_username_prints_start_commands(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(f"{ZH_HEADER}\n王芳,语文组,T001,女,,\n", encoding="utf-8")
    assert main(["members", "import", str(roster)]) == 0
    (wang,) = members_in(cli_env)
    capsys.readouterr()

    assert main(["members", "links"]) == 0

    assert capsys.readouterr().out.splitlines() == [f"王芳\t语文组\t/start inv-{wang.invite_code}"]


# ---- invitation links through the bot -------------------------------------------------------


async def import_for_bot(bot: BotHarness, text: str = ROSTER) -> list[Member]:
    """Import a roster into the bot's organization; the stored members."""
    report = await import_text(bot.db, bot.org_id, text)
    assert report.errors == []
    return await stored_members(bot.db)


async def test_invitation_link_binds_the_account(bot: BotHarness) -> None:
    wang, li, _ = await import_for_bot(bot)

    await bot.say(TEACHER, f"/start inv-{wang.invite_code}")

    assert any(
        "Hello, 王芳! Your Telegram account is now linked to the union roster" in text
        for text in bot.telegram.texts(TEACHER.id)
    )
    async with bot.db() as session:
        bound = await session.get(Member, wang.id)
        other = await session.get(Member, li.id)
    assert bound is not None and other is not None
    assert (bound.telegram_user_id, bound.status, bound.language) == (
        TEACHER.id,
        MemberStatus.ACTIVE,
        "en",
    )
    assert (other.telegram_user_id, other.status) == (None, MemberStatus.INVITED)


async def test_pressing_the_same_link_twice_is_harmless(bot: BotHarness) -> None:
    wang, _, _ = await import_for_bot(bot)
    await bot.say(TEACHER, f"/start inv-{wang.invite_code}")
    bot.telegram.clear()

    await bot.say(TEACHER, f"/start inv-{wang.invite_code}")

    texts = bot.telegram.texts(TEACHER.id)
    assert any("Hello, 王芳!" in text for text in texts)
    assert not any("already" in text for text in texts)
    async with bot.db() as session:
        bound = (
            await session.exec(select(Member).where(Member.telegram_user_id == TEACHER.id))
        ).all()
    assert [(m.id, m.status) for m in bound] == [(wang.id, MemberStatus.ACTIVE)]


async def test_a_used_link_is_refused_to_another_account(bot: BotHarness) -> None:
    wang, _, _ = await import_for_bot(bot)
    await bot.say(TEACHER, f"/start inv-{wang.invite_code}")

    await bot.say(STRANGER, f"/start inv-{wang.invite_code}")

    assert bot.telegram.last(STRANGER.id).text == (
        "That invitation link has already been used by another Telegram account. "
        "If that was not you, please tell a committee member."
    )
    assert not any("王芳" in text for text in bot.telegram.texts(STRANGER.id))
    async with bot.db() as session:
        bound = await session.get(Member, wang.id)
        stranger = (
            await session.exec(select(Member).where(Member.telegram_user_id == STRANGER.id))
        ).all()
    assert bound is not None and bound.telegram_user_id == TEACHER.id
    assert stranger == []


async def test_an_unknown_code_is_refused(bot: BotHarness) -> None:
    before = await import_for_bot(bot)

    await bot.say(STRANGER, "/start inv-notARealCode1")

    assert bot.telegram.texts(STRANGER.id) == [
        "That invitation link is not valid. Ask a committee member for your personal link, "
        "or send /start to apply to join."
    ]
    after = await stored_members(bot.db)
    assert [(m.id, m.status, m.telegram_user_id) for m in after] == [
        (m.id, MemberStatus.INVITED, None) for m in before
    ]


async def test_a_registered_account_cannot_take_someone_elses_link(bot: BotHarness) -> None:
    wang, _, _ = await import_for_bot(bot)
    existing = await make_member(
        bot.db, org_id=bot.org_id, person=STRANGER, name="李老师", language="en"
    )

    await bot.say(STRANGER, f"/start inv-{wang.invite_code}")

    assert bot.telegram.last(STRANGER.id).text.startswith(
        "Your Telegram account is already registered."
    )
    async with bot.db() as session:
        invited = await session.get(Member, wang.id)
        mine = await session.get(Member, existing.id)
    assert invited is not None and mine is not None
    assert (invited.telegram_user_id, invited.status) == (None, MemberStatus.INVITED)
    assert (mine.telegram_user_id, mine.real_name) == (STRANGER.id, "李老师")


async def test_link_printed_by_the_cli_works_in_the_bot(
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("DEFAULT_LANGUAGE", "en")
    monkeypatch.chdir(tmp_path)
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8-sig")
    # The CLI runs its own event loop, so it gets a thread of its own here.
    code = await asyncio.to_thread(
        main, ["members", "import", str(roster), "--bot-username", "x_bot"]
    )
    assert code == 0
    printed = capsys.readouterr().out.splitlines()
    wang_link = next(line for line in printed if line.startswith("王芳\t")).split("\t")[2]
    payload = wang_link.removeprefix("https://t.me/x_bot?start=")
    assert payload.startswith("inv-")

    async with running_bot(settings) as bot:
        await bot.say(TEACHER, f"/start {payload}")

        assert any("Hello, 王芳!" in text for text in bot.telegram.texts(TEACHER.id))
        async with bot.db() as session:
            member = (
                await session.exec(select(Member).where(Member.telegram_user_id == TEACHER.id))
            ).one()
    assert (member.real_name, member.status, member.organization_id) == (
        "王芳",
        MemberStatus.ACTIVE,
        bot.org_id,
    )
