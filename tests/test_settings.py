"""Settings: parsing, validators that refuse bad values, and what the operator sees."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from bot import cli
from bot.settings import Settings, SettingsError
from tests.support.fake_telegram import TOKEN


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No setting comes from the environment or a `.env` in the working directory."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)


def settings(**values: Any) -> Settings:
    """Settings from keyword values (and the environment), never from a .env file."""
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_defaults() -> None:
    result = settings()
    assert result.owner_ids == []
    assert result.timezone == "Asia/Shanghai"
    assert result.default_language == "zh-Hans"
    assert result.telegram_bot_token is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1, 2 3", [1, 2, 3]), ("42", [42]), (" 7 ,8,\t9 ", [7, 8, 9]), ("", [])],
)
def test_owner_ids_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: list[int]
) -> None:
    monkeypatch.setenv("OWNER_IDS", raw)
    assert settings().owner_ids == expected


def test_owner_ids_refuse_a_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OWNER_IDS", "1, @zhang")
    with pytest.raises(ValidationError, match="owner_ids"):
        settings()


def test_values_come_from_a_dotenv_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"TELEGRAM_BOT_TOKEN={TOKEN}\nOWNER_IDS=5,6\nDEFAULT_LANGUAGE=en\n", encoding="utf-8"
    )
    result = Settings(_env_file=env_file)  # type: ignore[call-arg]
    assert result.owner_ids == [5, 6]
    assert result.default_language == "en"
    assert result.require_token() == TOKEN


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "Asia/Beijing", "../../etc/passwd", "UTC+8"])
def test_unknown_timezone_is_refused(zone: str) -> None:
    with pytest.raises(ValidationError, match="time zone"):
        settings(timezone=zone)


def test_timezone_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIMEZONE", "Asia/Taipei")
    assert settings().zone.key == "Asia/Taipei"
    monkeypatch.setenv("TIMEZONE", "China Standard Time")
    with pytest.raises(ValidationError):
        settings()


@pytest.mark.parametrize("language", ["fr", "zh", "zh-CN", "english"])
def test_unsupported_default_language_is_refused(language: str) -> None:
    with pytest.raises(ValidationError, match="DEFAULT_LANGUAGE"):
        settings(default_language=language)


@pytest.mark.parametrize("language", ["zh-Hans", "zh-Hant", "en"])
def test_supported_default_languages(language: str) -> None:
    assert settings(default_language=language).default_language == language


@pytest.mark.parametrize(
    "secret", ["changeme", "CHANGEME", " change-me ", "your-secret-key", "short", "0123456789abcde"]
)
def test_placeholder_or_short_secret_key_is_refused(secret: str) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        settings(secret_key=SecretStr(secret))


def test_real_secret_key_is_kept_secret() -> None:
    result = settings(secret_key=SecretStr("0123456789abcdef"))
    assert result.secret_bytes() == b"0123456789abcdef"
    assert "0123456789abcdef" not in repr(result)


def test_generated_secret_is_kept_beside_the_data(tmp_path: Path) -> None:
    result = settings(persistence_path=tmp_path / "data" / "conversations.pickle")
    first = result.secret_bytes()
    assert len(first) >= 32
    assert result.secret_bytes() == first
    key_file = tmp_path / "data" / "secret.key"
    assert key_file.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("token", [None, "", "   "])
def test_require_token_when_missing(token: str | None) -> None:
    result = settings(telegram_bot_token=SecretStr(token) if token is not None else None)
    with pytest.raises(SettingsError) as caught:
        result.require_token()
    assert caught.value.key == "settings.token_missing"


@pytest.mark.parametrize(
    "token",
    ["abc", "123456789", "123456789:short", "bot123456789:AAHfakeTokenForTestsOnly0123456789abcd"],
)
def test_require_token_when_malformed(token: str) -> None:
    with pytest.raises(SettingsError) as caught:
        settings(telegram_bot_token=SecretStr(token)).require_token()
    assert caught.value.key == "settings.token_malformed"


def test_require_token_returns_the_token_trimmed() -> None:
    assert settings(telegram_bot_token=SecretStr(f" {TOKEN}\n")).require_token() == TOKEN


def test_token_is_never_in_the_repr() -> None:
    assert TOKEN not in repr(settings(telegram_bot_token=SecretStr(TOKEN)))


NO_ENV_ZH = (
    "还没有 .env 配置文件：请先运行 cp .env.example .env，在 .env 里写上 TELEGRAM_BOT_TOKEN=令牌"
)
NO_ENV_EN = "There is no .env yet: run cp .env.example .env, put TELEGRAM_BOT_TOKEN=<token> in .env"
NO_TOKEN_ZH = "还没有设置 TELEGRAM_BOT_TOKEN：请在 .env 里写上 TELEGRAM_BOT_TOKEN=令牌"
NO_TOKEN_EN = "TELEGRAM_BOT_TOKEN is not set: put TELEGRAM_BOT_TOKEN=<token> in .env"
ROOT = Path(__file__).resolve().parents[1]


def test_run_without_token_or_env_says_to_copy_the_example(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["run"]) == cli.NO_TOKEN_YET

    captured = capsys.readouterr()
    # One sentence in the deployment's language (Simplified Chinese by default), then English.
    zh, en = captured.err.strip().splitlines()
    assert zh.startswith(NO_ENV_ZH) and "@BotFather" in zh and "make sandbox" in zh
    assert en.startswith(NO_ENV_EN) and "@BotFather" in en and "make sandbox" in en
    assert captured.out == ""
    assert "Traceback" not in captured.err


def test_run_with_a_env_but_no_token_says_to_set_it_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".env").write_text("TELEGRAM_BOT_TOKEN=\nDEFAULT_LANGUAGE=zh-Hant\n")

    assert cli.main(["run"]) == cli.NO_TOKEN_YET

    # The language comes from .env too; copying .env.example over this .env is not suggested.
    zh_hant, en = capsys.readouterr().err.strip().splitlines()
    assert zh_hant.startswith("還沒有設定 TELEGRAM_BOT_TOKEN：請在 .env 裡寫上")
    assert en.startswith(NO_TOKEN_EN)
    assert "cp .env.example" not in zh_hant + en


def test_run_without_token_in_english_says_it_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DEFAULT_LANGUAGE", "en")

    assert cli.main(["run"]) == cli.NO_TOKEN_YET

    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(NO_ENV_EN)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_without_token_ends_with_the_sentence_not_a_make_error(tmp_path: Path) -> None:
    """`make run` in a directory without .env (set-up and migration skipped with -o)."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if name.upper() not in {field.upper() for field in Settings.model_fields}
        and not name.startswith("MAKE")
    }
    done = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-f",
            str(ROOT / "Makefile"),
            "-o",
            "migrate",
            "run",
            f"BIN={Path(sys.executable).parent}",
        ],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    zh, en = done.stderr.strip().splitlines()
    assert zh.startswith(NO_ENV_ZH) and en.startswith(NO_ENV_EN)
    assert "make:" not in done.stdout + done.stderr and "Error" not in done.stderr
    assert list(tmp_path.iterdir()) == []  # nothing created before refusing


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_with_a_malformed_token_is_still_an_error(tmp_path: Path) -> None:
    """Only a missing token ends `make run` quietly: a bad setting stays a failure."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if name.upper() not in {field.upper() for field in Settings.model_fields}
        and not name.startswith("MAKE")
    }
    environment["TELEGRAM_BOT_TOKEN"] = "not-a-token"
    done = subprocess.run(
        [
            *("make", "--no-print-directory", "-f", str(ROOT / "Makefile"), "-o", "migrate"),
            *("run", f"BIN={Path(sys.executable).parent}"),
        ],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode != 0
    assert "@BotFather" in done.stderr and "not-a-token" not in done.stderr


def test_run_with_malformed_token_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "not-a-token")
    monkeypatch.setenv("DEFAULT_LANGUAGE", "en")

    assert cli.main(["run"]) == 2

    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert "@BotFather" in lines[0]
    assert "not-a-token" not in captured.err
    assert list(tmp_path.iterdir()) == []  # nothing was created before refusing


def test_run_with_an_invalid_setting_names_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TIMEZONE", "Mars/Olympus_Mons")

    assert cli.main(["run"]) == 2

    captured = capsys.readouterr()
    assert "TIMEZONE" in captured.err
    assert "Traceback" not in captured.err


def test_help_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["--help"])
    assert caught.value.code == 0
    assert "unionbot" in capsys.readouterr().out


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 0
    assert "run" in capsys.readouterr().out


def test_every_setting_is_in_env_example_and_the_readme_table() -> None:
    """An operator finds every knob in both places (issue 19: every new setting documented)."""
    root = Path(__file__).resolve().parent.parent
    example = (root / ".env.example").read_text(encoding="utf-8")
    readme = (root / "README.md").read_text(encoding="utf-8")
    for name in (field.upper() for field in Settings.model_fields):
        assert f"\n{name}=" in example, f"{name} is not in .env.example"
        assert f"| `{name}` |" in readme, f"{name} is not in the README's settings table"
