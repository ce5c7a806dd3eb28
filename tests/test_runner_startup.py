"""Start-up when Telegram cannot be reached (a proxy down, a server booting before its
network) is tried again, with one line each time; a token Telegram refuses stops with one
sentence for the operator."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.app import build_application
from bot.runner import initialize_until_reachable
from bot.settings import SettingsError
from tests.support.fake_telegram import TOKEN, Failure, FakeTelegram
from tests.support.harness import make_settings


async def test_telegram_unreachable_at_start_is_tried_again(
    clean_database: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    telegram = FakeTelegram()
    telegram.failures.append(Failure("getMe", 502, "Bad Gateway", times=2))
    application = build_application(
        make_settings(clean_database, tmp_path), request=telegram, use_default_rate_limiter=False
    )
    with caplog.at_level(logging.WARNING, logger="bot.runner"):
        await initialize_until_reachable(application, first_delay=0.01)
    try:
        assert [call.method for call in telegram.calls] == ["getMe", "getMe", "getMe"]
        assert application.bot.username  # the third answer was taken
        tries = [r.getMessage() for r in caplog.records if r.name == "bot.runner"]
        assert len(tries) == 2
        assert all(line.startswith("Cannot reach Telegram at start-up") for line in tries)
        assert not any(TOKEN in line or TOKEN.split(":")[1] in line for line in tries)
    finally:
        await application.shutdown()
        await application.state.engine.dispose()


async def test_a_refused_token_stops_with_one_sentence(clean_database: str, tmp_path: Path) -> None:
    telegram = FakeTelegram()
    telegram.failures.append(Failure("getMe", 401, "Unauthorized", times=1))
    application = build_application(
        make_settings(clean_database, tmp_path), request=telegram, use_default_rate_limiter=False
    )
    try:
        with pytest.raises(SettingsError) as refused:
            await initialize_until_reachable(application, first_delay=0.01)
        assert refused.value.key == "settings.token_refused"
        assert [call.method for call in telegram.calls] == ["getMe"]  # not tried again
    finally:
        await application.state.engine.dispose()
