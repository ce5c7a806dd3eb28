"""The update processor: people are served at the same time, each person's updates in order."""

from __future__ import annotations

import asyncio

from sqlmodel import select
from telegram import Update

from bot.callback import pack
from bot.processor import PerUserOrderedProcessor, ordering_key
from models.suggestions import SuggestionCategory
from tests.support.factories import make_member
from tests.support.harness import BotHarness
from tests.support.updates import Person, button, text


def update_from(person: Person, body: str) -> Update:
    """A real update object (no bot needed to read who sent it)."""
    return Update.de_json(text(person, body), None)


async def test_one_persons_updates_run_in_arrival_order() -> None:
    processor = PerUserOrderedProcessor(16)
    person = Person(7001, "A", "zh-hans")
    seen: list[int] = []

    async def handle(index: int) -> None:
        # The first update is the slowest: without ordering the others would overtake it.
        await asyncio.sleep(0.05 if index == 0 else 0)
        seen.append(index)

    await asyncio.gather(
        *(processor.process_update(update_from(person, str(i)), handle(i)) for i in range(5))
    )

    assert seen == [0, 1, 2, 3, 4]


async def test_different_people_are_served_at_the_same_time() -> None:
    processor = PerUserOrderedProcessor(64)
    people = [Person(7100 + i, "P", "zh-hans") for i in range(20)]
    running = 0
    most = 0

    async def handle() -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.02)
        running -= 1

    await asyncio.gather(*(processor.process_update(update_from(p, "x"), handle()) for p in people))

    assert most == 20  # all twenty were in progress together


async def test_idle_people_are_forgotten() -> None:
    processor = PerUserOrderedProcessor(4)

    async def handle() -> None:
        await asyncio.sleep(0)

    await processor.process_update(update_from(Person(7200, "Q", "zh-hans"), "x"), handle())

    assert processor._locks == {} and processor._users == {}


def test_the_key_is_the_person_then_the_chat() -> None:
    person = Person(7300, "R", "zh-hans")
    assert ordering_key(update_from(person, "x")) == person.id
    assert ordering_key(object()) is None


async def test_a_conversation_keeps_its_order_through_the_real_processor(bot: BotHarness) -> None:
    """Three updates of one conversation fed at once through the application's own processor
    arrive at the conversation in order (the suggestion box: /suggest, category, text)."""
    person = Person(7400, "S", "zh-hans")
    await make_member(bot.db, org_id=bot.org_id, person=person, name="孙老师")
    await bot.say(person, "/suggest")  # creates the default categories
    await bot.say(person, "/cancel")
    async with bot.db() as session:
        category = (await session.exec(select(SuggestionCategory))).first()
    assert category is not None
    updates = [
        text(person, "/suggest"),
        button(person, pack("sgf", "cat", category.id or 0)),
        text(person, "操场的灯坏了。"),
    ]
    processor = bot.app.update_processor
    await asyncio.gather(
        *(
            processor.process_update(u, bot.app.process_update(u))
            for u in (Update.de_json(data, bot.app.bot) for data in updates)
        )
    )
    assert "照片" in bot.telegram.last(person.id).text  # the text step was reached, in order
