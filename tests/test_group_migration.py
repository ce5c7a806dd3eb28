"""A basic group that becomes a supergroup gets a new chat id from Telegram (it happens when a
group grows, gets a public link or certain admin rights). The committee group bound under the
old id must follow it, with what waits in the outbox for it, however the bot learns of it:
Telegram's service messages, or the error a send to the old id gets."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.settings import Settings
from models.organizations import all_organizations, get_organization
from models.outbox import OutboxMessage, OutboxStatus
from tests.support.district import GROUP_A, GROUP_B, SCHOOL_A, SCHOOL_B, TEACHER_B, district_bot
from tests.support.fake_telegram import Failure
from tests.support.harness import CHAIR, COMMITTEE_GROUP_ID, BotHarness
from tests.support.updates import group_migrated
from tests.test_calendar import deliver, received
from tests.test_care_greetings import IN_PERSON
from tests.test_outbox_needs import NINE, queued_visits

SUPERGROUP = -1009999000111


async def committee_chat(bot: BotHarness) -> int | None:
    """The bound committee group's id, read now."""
    async with bot.db() as session:
        return (await get_organization(session, bot.org_id)).committee_chat_id


@pytest.mark.parametrize("in_new", [False, True], ids=["in-the-old-group", "in-the-supergroup"])
async def test_the_service_message_moves_the_binding_and_the_waiting_task(
    bot: BotHarness, in_new: bool
) -> None:
    await queued_visits(bot)
    bot.telegram.clear()

    await bot.feed(group_migrated(CHAIR, COMMITTEE_GROUP_ID, SUPERGROUP, in_new=in_new))
    await bot.feed(group_migrated(CHAIR, COMMITTEE_GROUP_ID, SUPERGROUP, in_new=not in_new))

    assert bot.telegram.sent() == []  # a service message is not answered
    assert await committee_chat(bot) == SUPERGROUP
    await deliver(bot, NINE)
    got = received(bot)
    assert IN_PERSON in got[SUPERGROUP][0] and COMMITTEE_GROUP_ID not in got


async def test_a_send_to_the_old_id_follows_the_group_and_goes_there(bot: BotHarness) -> None:
    """The bot learns of it from Telegram's answer ("group chat was upgraded to a supergroup
    chat", with the new id): the binding follows, and the message goes again, to the new id."""
    await queued_visits(bot)
    bot.telegram.failures.append(
        Failure(
            "sendMessage",
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            chat_id=COMMITTEE_GROUP_ID,
            migrate_to_chat_id=SUPERGROUP,
        )
    )

    await deliver(bot, NINE)  # refused at the old id; followed
    await deliver(bot, NINE)  # sent to the new one

    got = received(bot)
    assert IN_PERSON in got[SUPERGROUP][0]
    assert await committee_chat(bot) == SUPERGROUP
    async with bot.db() as session:
        rows = list(await session.exec(select(OutboxMessage).where(OutboxMessage.quiet == False)))  # noqa: E712
    assert [(row.chat_id, row.status) for row in rows] == [(SUPERGROUP, OutboxStatus.SENT)]


async def test_an_upgrade_onto_a_chat_bound_already_moves_nothing(settings: Settings) -> None:
    """Only Telegram sends these, but one naming another school's group as the new id is
    ignored quietly: both schools keep their groups, nobody is answered."""
    async with district_bot(settings) as (bot, _ids):
        bot.telegram.clear()
        for in_new in (False, True):
            await bot.feed(group_migrated(TEACHER_B, GROUP_A, GROUP_B, in_new=in_new))
        assert bot.telegram.sent() == []
        async with bot.db() as session:
            groups = {org.name: org.committee_chat_id for org in await all_organizations(session)}
        assert groups[SCHOOL_A] == GROUP_A and groups[SCHOOL_B] == GROUP_B
