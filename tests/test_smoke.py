"""The application starts against the fake transport and answers /help."""

from tests.support.harness import BotHarness
from tests.support.updates import Person

TEACHER = Person(2001, "王", "zh-hans")


async def test_help_for_a_stranger_lists_public_commands(bot: BotHarness) -> None:
    await bot.say(TEACHER, "/help")
    reply = bot.telegram.last(TEACHER.id)
    assert "/start" in reply.text
    assert "/members" not in reply.text
