"""Where each command and menu entry is offered: a single school's menus are as they always
were; a district's schools add the assessment; the district union's staff get the district's
own work (and no school desk)."""

from __future__ import annotations

from bot.settings import Settings
from models.members import Role
from tests.support.district import CHAIR_B, DISTRICT_STAFF, district_bot
from tests.support.factories import make_member
from tests.support.harness import CHAIR, BotHarness
from tests.support.updates import Person

DISTRICT_COMMANDS = ("/district", "/dtask", "/dtasks", "/assessment", "/school")


async def _help_and_menu(bot: BotHarness, person: Person) -> tuple[str, list[str]]:
    await bot.say(person, "/help")
    help_text = bot.telegram.last(person.id).text
    await bot.say(person, "/menu")
    labels = [label for label, _ in bot.telegram.last(person.id).buttons()]
    return help_text, labels


async def test_a_single_school_offers_nothing_of_a_district(bot: BotHarness) -> None:
    await make_member(bot.db, org_id=bot.org_id, person=CHAIR, roles=[Role.CHAIR])
    help_text, labels = await _help_and_menu(bot, CHAIR)
    assert "/report" in help_text
    assert not any(command + " " in help_text for command in DISTRICT_COMMANDS)
    assert not any(label.startswith(("📊 全区", "📌", "🏅")) for label in labels)


async def test_district_staff_and_a_schools_chair_see_their_own(settings: Settings) -> None:
    async with district_bot(settings) as (bot, _ids):
        staff_help, staff_menu = await _help_and_menu(bot, DISTRICT_STAFF)
        assert all(command + " " in staff_help for command in DISTRICT_COMMANDS)
        assert "/suggest" not in staff_help and "/report " not in staff_help
        assert {"📊 全区汇总", "📌 下发任务", "🏅 年度考核"} <= set(staff_menu)

        chair_help, chair_menu = await _help_and_menu(bot, CHAIR_B)
        assert "/assessment " in chair_help and "/report " in chair_help
        assert "/school " in chair_help
        assert "/district " not in chair_help and "/dtasks " not in chair_help
        assert "🏅 年度考核" in chair_menu and "📌 下发任务" not in chair_menu

        # Every district entry opens without an error for the staff.
        await bot.say(DISTRICT_STAFF, "/menu")
        menu = bot.telegram.last(DISTRICT_STAFF.id)
        for label in ("📊 全区汇总", "📌 下发任务", "🏅 年度考核"):
            bot.telegram.clear()
            await bot.press(DISTRICT_STAFF, menu.button_data(label))
            texts = bot.telegram.texts(DISTRICT_STAFF.id)
            assert texts and not any("出错" in text for text in texts), label
