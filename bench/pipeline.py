"""Pipeline benchmark: a realistic mix of updates through the real application.

Runs N updates (members opening menus, help, profiles, language switches, strangers
registering, committee members approving join requests) through the application built by
`bot.app.build_application` on the recording fake transport, and the same number of plain text
messages through a bare PTB application that only echoes (the framework floor). Prints
updates/s and p50/p99 latency of each, and the ratio. Not a test: nothing is asserted.

    make bench            # or: .venv/bin/python -m bench.pipeline --updates 2000
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

from bot.db import upgrade_async
from handlers.members.buttons import (
    LanguageChoice,
    RegistrationBirthday,
    RegistrationConfirm,
    RegistrationGender,
    RegistrationLanguage,
    RegistrationRetired,
)
from handlers.menu.buttons import MenuButton
from models.members import Role
from models.organizations import bind_committee_chat
from tests.support.factories import make_member
from tests.support.fake_telegram import TOKEN, FakeTelegram
from tests.support.harness import COMMITTEE_GROUP_ID, BotHarness, make_settings, running_bot
from tests.support.updates import Person, button, text

UpdateMaker = Callable[[int], dict[str, Any]]


@dataclass
class Result:
    """Latencies of one run."""

    name: str
    latencies: list[float]
    wall: float

    @property
    def rate(self) -> float:
        """Updates per second over the whole run."""
        return len(self.latencies) / self.wall

    def percentile(self, fraction: float) -> float:
        """Latency at this fraction, in milliseconds."""
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000

    def line(self) -> str:
        """One line of the report."""
        return (
            f"{self.name:<22} {len(self.latencies):>6} updates  {self.rate:>8.1f} updates/s  "
            f"p50 {self.percentile(0.50):>6.2f} ms  p99 {self.percentile(0.99):>6.2f} ms"
        )


async def _timed(
    name: str, feed: Callable[[dict[str, Any]], Any], updates: list[dict[str, Any]]
) -> Result:
    latencies = []
    started = time.perf_counter()
    for update in updates:
        before = time.perf_counter()
        await feed(update)
        latencies.append(time.perf_counter() - before)
    return Result(name, latencies, time.perf_counter() - started)


def _mix(members: list[Person], committee: Person, count: int) -> list[dict[str, Any]]:
    """The realistic mix: mostly members using menus, some strangers joining."""
    updates: list[dict[str, Any]] = []
    stranger_id = 900_000
    step = 0
    while len(updates) < count:
        member = members[step % len(members)]
        kind = step % 10
        if kind in (0, 1):
            updates.append(text(member, "/menu"))
        elif kind == 2:
            updates.append(button(member, MenuButton("me").pack()))
        elif kind == 3:
            updates.append(text(member, "/help"))
        elif kind == 4:
            updates.append(text(member, "你好，请问怎么报名？"))
        elif kind == 5:
            updates.append(button(member, LanguageChoice("zhs").pack()))
        elif kind == 6:
            updates.append(text(committee, "/joins"))
        else:
            stranger = Person(stranger_id, "新老师")
            stranger_id += 1
            updates.extend(
                [
                    text(stranger, "/start"),
                    button(stranger, RegistrationLanguage("zhs").pack()),
                    text(stranger, "新老师"),
                    text(stranger, "数学组"),
                    button(stranger, RegistrationGender("skip").pack()),
                    button(stranger, RegistrationBirthday("skip").pack()),
                    button(stranger, RegistrationRetired("no").pack()),
                    button(stranger, RegistrationConfirm("yes").pack()),
                ]
            )
        step += 1
    return updates[:count]


async def run_union_desk(count: int, workdir: Path) -> Result:
    """The real application on SQLite."""
    url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    await upgrade_async(url)
    settings = make_settings(url, workdir)
    async with running_bot(settings) as harness:
        members, committee = await _seed(harness)
        updates = _mix(members, committee, count)

        async def feed(update: dict[str, Any]) -> None:
            await harness.app.process_update(Update.de_json(update, harness.app.bot))

        return await _timed("union desk", feed, updates)


async def _seed(harness: BotHarness) -> tuple[list[Person], Person]:
    async with harness.db() as session:
        await bind_committee_chat(session, org_id=harness.org_id, chat_id=COMMITTEE_GROUP_ID)
    committee = Person(500, "刘委员")
    await make_member(harness.db, org_id=harness.org_id, person=committee, roles=[Role.COMMITTEE])
    members = [Person(10_000 + index, f"老师{index}") for index in range(50)]
    for person in members:
        await make_member(harness.db, org_id=harness.org_id, person=person, name=person.first_name)
    return members, committee


async def run_echo_floor(count: int) -> Result:
    """A bare PTB application that echoes text: what the framework itself costs."""
    application: Application[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder().token(TOKEN).request(FakeTelegram()).build()
    )

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None and update.effective_message is not None
        await context.bot.send_message(
            update.effective_chat.id, update.effective_message.text or ""
        )

    application.add_handler(MessageHandler(filters.TEXT, echo))
    await application.initialize()
    person = Person(1, "echo")
    updates = [text(person, f"message {index}") for index in range(count)]

    async def feed(update: dict[str, Any]) -> None:
        await application.process_update(Update.de_json(update, application.bot))

    try:
        return await _timed("bare PTB echo (floor)", feed, updates)
    finally:
        await application.shutdown()


async def main_async(count: int) -> None:
    """Run both and print the comparison."""
    with tempfile.TemporaryDirectory() as workdir:
        union = await run_union_desk(count, Path(workdir))
    floor = await run_echo_floor(count)
    print(union.line())
    print(floor.line())
    print(
        f"ratio (floor / union desk) throughput: {floor.rate / union.rate:.1f}x; "
        f"p50 {union.percentile(0.5) / floor.percentile(0.5):.1f}x, "
        f"median latency union desk {statistics.median(union.latencies) * 1000:.2f} ms"
    )


def main() -> None:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--updates", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(main_async(args.updates))


if __name__ == "__main__":
    main()
