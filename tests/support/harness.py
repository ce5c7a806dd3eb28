"""Drive the real application (same factory as production) over the fake transport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from telegram import Update

from bot.app import build_application
from bot.application import UnionApplication
from bot.callback import pack
from bot.db import SessionFactory
from bot.settings import Settings
from tests.support.fake_telegram import TOKEN, FakeTelegram
from tests.support.updates import Person, button, text

CHAIR = Person(1001, "张", "zh-hans")
COMMITTEE_GROUP_ID = -1001234567890
SEND = pack("form", "out", "send")  # Send under a text shown back before it leaves


def make_settings(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for a test bot; nothing is read from the environment's .env."""
    values: dict[str, Any] = {
        "telegram_bot_token": SecretStr(TOKEN),
        "database_url": database_url,
        "owner_ids": [CHAIR.id],
        "persistence_path": tmp_path / "conversations.pickle",
        "secret_key": SecretStr("test-secret-key-0123456789abcdef"),
        "organization_name": "实验中学工会",
        # Tests drive the calendar and the outbox by hand.
        "background_tasks": False,
        # A test bot that runs its scheduler writes its nightly backups here, not into ./data.
        "backup_dir": tmp_path / "backups",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class BotHarness:
    """A running bot plus its recording transport."""

    def __init__(self, application: UnionApplication, telegram: FakeTelegram) -> None:
        self.app = application
        self.telegram = telegram

    @property
    def db(self) -> SessionFactory:
        """The bot's own session factory."""
        return self.app.state.db

    @property
    def org_id(self) -> int:
        """The organization created at start-up."""
        return self.app.state.org_id

    async def feed(self, update: dict[str, Any]) -> None:
        """Process one update exactly as polling would."""
        await self.app.process_update(Update.de_json(update, self.app.bot))

    async def say(self, person: Person, body: str, **kwargs: Any) -> None:
        """`person` sends a text message (or command) to the bot."""
        await self.feed(text(person, body, **kwargs))

    async def press(self, person: Person, data: str, **kwargs: Any) -> None:
        """`person` presses an inline button carrying `data`."""
        await self.feed(button(person, data, **kwargs))

    async def write(self, person: Person, body: str) -> None:
        """`person` types a text meant for someone else, sees it shown back, and presses Send."""
        await self.say(person, body)
        await self.press(person, SEND)


@asynccontextmanager
async def running_bot(settings: Settings) -> AsyncIterator[BotHarness]:
    """Build, initialize and start-up the application; shut it down afterwards."""
    telegram = FakeTelegram()
    application = build_application(settings, request=telegram, use_default_rate_limiter=False)
    await application.initialize()
    assert application.post_init is not None
    await application.post_init(application)
    try:
        yield BotHarness(application, telegram)
    finally:
        await application.shutdown()
        assert application.post_shutdown is not None
        await application.post_shutdown(application)
