"""`unionbot report`: the figures printed, the files written into --out, bad arguments refused
with a message and a non-zero status."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import docx
import pytest
from openpyxl import load_workbook

from bot.cli import main
from bot.db import create_engine, create_session_factory
from models.organizations import ensure_default_organization
from tests.support.seed_year import build_year

SECRET = b"test-secret-key-0123456789abcdef"


@pytest.fixture
def cli_env(clean_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Environment for `unionbot`: the test database, Chinese, no .env file."""
    monkeypatch.setenv("DATABASE_URL", clean_database)
    monkeypatch.setenv("DEFAULT_LANGUAGE", "zh-Hans")
    monkeypatch.setenv("ORGANIZATION_NAME", "实验中学工会")
    monkeypatch.chdir(tmp_path)
    return clean_database


def seed(url: str) -> None:
    """The seed's 2026 in the deployment's organization."""

    async def build() -> None:
        engine = create_engine(url)
        try:
            sessions = create_session_factory(engine)
            async with sessions() as session:
                org = await ensure_default_organization(session, name="实验中学工会")
            await build_year(sessions, org_id=org.id or 0, secret=SECRET)
        finally:
            await engine.dispose()

    asyncio.run(build())


def test_the_year_printed_and_written(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(cli_env)
    out = tmp_path / "reports" / "2026"
    assert main(["report", "--year", "2026", "--out", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "📊 实验中学工会2026年工作数据"
    assert "· 看望住院教职工 16 人次，¥4,000" in printed
    assert "· 总计慰问金 ¥34,500，共 31 人次" in printed
    written = [line.removeprefix("已写入 ") for line in printed if line.startswith("已写入 ")]
    names = sorted(Path(path).name for path in written)
    assert "books-2026.xlsx" in names and "summary-2026.docx" in names
    assert [name for name in names if name.startswith("chart-2026-")]
    assert {p.name for p in out.iterdir()} == set(names)
    load_workbook(io.BytesIO((out / "books-2026.xlsx").read_bytes()))
    docx.Document(io.BytesIO((out / "summary-2026.docx").read_bytes()))
    charts = [p for p in out.iterdir() if p.suffix == ".png"]
    assert charts and all(p.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") for p in charts)


def test_a_term_and_a_month_in_english(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(cli_env)
    assert main(["report", "--year", "2025", "--term", "2", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("📊 实验中学工会2025—2026学年第二学期工作数据")
    assert (tmp_path / "books-2025-T2.xlsx").exists()
    code = main(
        ["report", "--year", "2026", "--month", "3", "--language", "en", "--out", str(tmp_path)]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert printed.startswith("📊 ") and "figures for 3/2026" in printed
    assert "Hospital visits: 2, ¥500" in printed
    assert (tmp_path / "summary-2026-03.docx").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--year", "2026", "--month", "13"], "月份是 1 到 12"),
        (["--year", "2026", "--term", "3"], "学期只有第一学期"),
        (["--year", "1999"], "2000 到 2100"),
    ],
)
def test_bad_periods_are_refused(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    out = tmp_path / "out"
    assert main(["report", *argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and "unionbot report --year 2026" in err
    assert not out.exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["--out", "x"],  # no year
        ["--year", "2026"],  # no folder
        ["--year", "2026", "--term", "1", "--month", "3", "--out", "x"],
        ["--year", "2026", "--language", "fr", "--out", "x"],
        ["--year", "twenty", "--out", "x"],
    ],
)
def test_bad_arguments_exit_non_zero(
    cli_env: str, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["report", *argv])
    assert exited.value.code == 2
    assert "unionbot report" in capsys.readouterr().err


def test_an_unwritable_folder(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["report", "--year", "2026", "--out", str(blocker / "inside")]) == 1
    assert "无法写入" in capsys.readouterr().err


def test_a_missing_database_file_is_not_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DEFAULT_LANGUAGE", "zh-Hans")
    monkeypatch.setenv("DATABASE_URL", "sqlite+aiosqlite:///./wrong/unionbot.db")
    assert main(["report", "--year", "2026", "--out", str(tmp_path / "out")]) == 1
    assert "没有找到数据库文件 ./wrong/unionbot.db" in capsys.readouterr().err
    assert not (tmp_path / "wrong").exists() and not (tmp_path / "out").exists()


def test_an_unreachable_database_is_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Nothing listens on port 1: the report cannot even migrate; no traceback reaches the
    # operator, only what happened and what to check.
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere")
    monkeypatch.setenv("DEFAULT_LANGUAGE", "zh-Hans")
    monkeypatch.chdir(tmp_path)
    assert main(["report", "--year", "2025", "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("报表没有生成：")
    assert "DATABASE_URL" in err
    assert "Traceback" not in err
