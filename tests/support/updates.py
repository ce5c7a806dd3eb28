"""Real Telegram update JSON, built the way Telegram sends it."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any

from tests.support.fake_telegram import BOT_ID, BOT_USERNAME

_update_ids = itertools.count(100_000)
_message_ids = itertools.count(1)
_query_ids = itertools.count(1)


@dataclass(frozen=True)
class Person:
    """A Telegram user the tests play."""

    id: int
    first_name: str
    language_code: str | None = "zh-hans"

    def as_user(self) -> dict[str, Any]:
        """The `User` object."""
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            user["language_code"] = self.language_code
        return user


def private_chat(person: Person) -> dict[str, Any]:
    """The private chat between the bot and `person`."""
    return {"id": person.id, "type": "private", "first_name": person.first_name}


def group_chat(chat_id: int, title: str = "工会委员会") -> dict[str, Any]:
    """A supergroup."""
    return {"id": chat_id, "type": "supergroup", "title": title}


def _message(person: Person, chat: dict[str, Any], **content: Any) -> dict[str, Any]:
    return {
        "update_id": next(_update_ids),
        "message": {
            "message_id": next(_message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": person.as_user(),
            **content,
        },
    }


def text(person: Person, body: str, *, chat: dict[str, Any] | None = None) -> dict[str, Any]:
    """A text message (commands get their `bot_command` entity, as Telegram sends them)."""
    content: dict[str, Any] = {"text": body}
    if body.startswith("/"):
        command = body.split()[0]
        content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    return _message(person, chat or private_chat(person), **content)


def group_migrated(person: Person, old: int, new: int, *, in_new: bool) -> dict[str, Any]:
    """Telegram's service message when a basic group becomes a supergroup: in the old group
    (`migrate_to_chat_id`) or in the new supergroup (`migrate_from_chat_id`)."""
    if in_new:
        return _message(person, group_chat(new), migrate_from_chat_id=old)
    return _message(
        person, {"id": old, "type": "group", "title": "工会委员会"}, migrate_to_chat_id=new
    )


def sticker(person: Person) -> dict[str, Any]:
    """A sticker message."""
    return _message(
        person,
        private_chat(person),
        sticker={
            "file_id": "CAACAgIAAxkBAAEBsticker",
            "file_unique_id": "AgADsticker",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        },
    )


def voice(person: Person) -> dict[str, Any]:
    """A voice message."""
    return _message(
        person,
        private_chat(person),
        voice={"file_id": "AwACAgIAAxkBvoice", "file_unique_id": "AgADvoice", "duration": 3},
    )


def button(
    person: Person,
    data: str,
    *,
    chat: dict[str, Any] | None = None,
    message_id: int = 1,
    message_text: str = "…",
) -> dict[str, Any]:
    """A press on an inline button of a message the bot sent."""
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": str(next(_query_ids)),
            "from": person.as_user(),
            "chat_instance": "-123456789",
            "data": data,
            "message": {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": chat or private_chat(person),
                "from": {
                    "id": BOT_ID,
                    "is_bot": True,
                    "first_name": "工会助手",
                    "username": BOT_USERNAME,
                },
                "text": message_text,
            },
        },
    }
