"""Numbers typed after a command (a year, a proposal number, an age range) are read as ASCII
digits within bounds: "²" or a 30-digit number is answered with the usage, never an apology."""

from __future__ import annotations

import logging

import pytest

from tests.support.harness import BotHarness
from tests.support.proposals import COMMITTEE, setup_congress

APOLOGY = "系统暂时繁忙"


@pytest.mark.parametrize(
    "command",
    [
        "/aidbooks ²",
        "/aidbooks 9" + "9" * 30,
        "/activitystats ²",
        "/activitystats 1" + "0" * 30,
        "/proposals #²",
        "/proposals 9" + "9" * 30,
    ],
)
async def test_odd_numbers_after_a_command_get_the_usage_not_an_error(
    bot: BotHarness, caplog: pytest.LogCaptureFixture, command: str
) -> None:
    await setup_congress(bot)
    caplog.set_level(logging.INFO)
    caplog.clear()
    bot.telegram.clear()

    await bot.say(COMMITTEE, command)

    replies = bot.telegram.texts(COMMITTEE.id)
    assert replies, "no answer at all"
    assert not [text for text in replies if APOLOGY in text]
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
