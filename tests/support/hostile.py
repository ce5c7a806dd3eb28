"""Hostile and odd input for property-based tests: text strategies and the update JSON that
`tests/support/updates.py` has no builder for (edited messages, media, group events)."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from tests.support.fake_telegram import BOT_ID, BOT_USERNAME
from tests.support.updates import Person, private_chat, text

_update_ids = itertools.count(900_000_000)
_file_ids = itertools.count(1)

ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad")
BIDI = ("\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2069")
CONTROL = tuple(chr(code) for code in (*range(9), 11, 12, *range(14, 32), 127, 0x85, 0x9F))
EMOJI = ("😀", "👨‍👩‍👧‍👦", "🇨🇳", "❤️", "🏳️‍🌈", "👍🏽", "🧧", "🀄")
# Fragments that look like something the bot parses: dates, amounts, ids, numbers, markup.
LOOKALIKES = (
    "今天",
    "昨天",
    "2024-02-30",
    "1985-03-08",
    "03-08",
    "13-40",
    "¥250",
    "250",
    "0",
    "-1",
    "1e9",
    "99999999999999999999",
    "１２",
    "٣",
    "意-2026-0001",
    "助-2026-0001",
    "提案第1号",
    "<b>粗</b>",
    "*_`[](",
    "{ref}",
    "{0}",
    "%s%d",
    "\\",
    "' OR 1=1 --",
    "\r\n",
    "\n\n\n",
    "\t",
    "工会",
    "王",
    "張",
    "Wang",
    "@" + BOT_USERNAME,
    "/start",
    "/cancel",
    "https://t.me/x",
)


def _odd_character() -> st.SearchStrategy[str]:
    return st.sampled_from((*ZERO_WIDTH, *BIDI, *CONTROL, *EMOJI))


def _fragment() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=12),
        st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=6),
        st.sampled_from(LOOKALIKES),
        _odd_character(),
    )


def hostile_texts() -> st.SearchStrategy[str]:
    """Text a person might type, or a hostile client send (never empty: Telegram refuses that)."""
    mixed = st.lists(_fragment(), min_size=1, max_size=8).map("".join)
    invisible = st.lists(st.sampled_from((*ZERO_WIDTH, *BIDI, " ", "\n")), min_size=1, max_size=6)
    # Telegram's upper limit is 4,096 characters (UTF-16 units): one repeated character.
    longest = st.sampled_from(("王", "a", "\u200b", "\u202e", "0")).map(lambda ch: ch * 4096)
    emoji_long = st.sampled_from(EMOJI[:1]).map(lambda ch: ch * 2048)
    wrapped = st.tuples(st.sampled_from(BIDI + ZERO_WIDTH), st.sampled_from(LOOKALIKES)).map(
        lambda pair: pair[0] + pair[1] + pair[0]
    )
    texts = st.one_of(mixed, invisible.map("".join), longest, emoji_long, wrapped)
    return texts.filter(lambda value: value != "")


def garbage_callback_data() -> st.SearchStrategy[str]:
    """Button payloads no version of the bot ever made."""
    return st.one_of(
        st.text(min_size=1, max_size=20),
        st.sampled_from(("a:b", ":", "::", "x:y:z:1", "join:approve:", "AID:YES:1", "中:文")),
        st.integers(min_value=65, max_value=200).map(lambda n: "aid:yes:" + "9" * n),
        st.text(st.sampled_from("abc:0123456789_-"), min_size=65, max_size=80),
    ).filter(lambda value: value != "")


@dataclass(frozen=True)
class Someone(Person):
    """A Telegram user who may have a public @username."""

    username: str | None = None

    def as_user(self) -> dict[str, Any]:
        """The `User` object, with the username when there is one."""
        user = super().as_user()
        if self.username:
            user["username"] = self.username
        return user


def bot_user() -> dict[str, Any]:
    """The bot as a `User` object."""
    return {"id": BOT_ID, "is_bot": True, "first_name": "工会助手", "username": BOT_USERNAME}


def _message_update(update: dict[str, Any], **content: Any) -> dict[str, Any]:
    """A copy of a text update (fresh update id) whose message has `content` instead."""
    message = dict(update["message"])
    message.pop("text", None)
    message.pop("entities", None)
    message.update(content)
    return {"update_id": next(_update_ids), "message": message}


def in_chat(person: Person, chat: dict[str, Any] | None, body: str) -> dict[str, Any]:
    """A text message in `chat` (private when None)."""
    update = text(person, body, chat=chat or private_chat(person))
    update["update_id"] = next(_update_ids)
    return update


def edited(person: Person, chat: dict[str, Any] | None, body: str) -> dict[str, Any]:
    """An `edited_message`: the person changed an earlier message to `body`."""
    update = in_chat(person, chat, body)
    message = update.pop("message")
    message["message_id"] = 1
    message["edit_date"] = int(time.time())
    update["edited_message"] = message
    return update


def media(person: Person, chat: dict[str, Any] | None, kind: str) -> dict[str, Any]:
    """A message carrying a sticker, a document, a photo, a voice note, a location or a
    contact."""
    base = in_chat(person, chat, "x")
    file_id = f"hostile-file-{next(_file_ids)}"
    unique = f"u{file_id}"
    content: dict[str, Any]
    if kind == "sticker":
        content = {
            "sticker": {
                "file_id": file_id,
                "file_unique_id": unique,
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            }
        }
    elif kind == "document":
        content = {
            "document": {
                "file_id": file_id,
                "file_unique_id": unique,
                "file_name": "\u202egpj.exe",
                "mime_type": "application/x-msdownload",
                "file_size": 10,
            },
            "caption": "证明\u200b",
        }
    elif kind == "pdf":
        content = {
            "document": {
                "file_id": file_id,
                "file_unique_id": unique,
                "file_name": "出院小结.pdf",
                "mime_type": "application/pdf",
                "file_size": 123_456,
            }
        }
    elif kind == "photo":
        content = {
            "photo": [{"file_id": file_id, "file_unique_id": unique, "width": 1280, "height": 960}]
        }
    elif kind == "voice":
        content = {"voice": {"file_id": file_id, "file_unique_id": unique, "duration": 3}}
    elif kind == "location":
        content = {"location": {"latitude": 31.23, "longitude": 121.47}}
    else:
        content = {"contact": {"phone_number": "+8613800000000", "first_name": "某某"}}
    return _message_update(base, **content)


MEDIA_KINDS = ("sticker", "document", "pdf", "photo", "voice", "location", "contact")


def group_event(person: Person, chat: dict[str, Any], kind: str) -> dict[str, Any]:
    """A service message or membership change in a group."""
    base = in_chat(person, chat, "x")
    if kind == "joined":
        return _message_update(base, new_chat_members=[person.as_user()])
    if kind == "bot_added":
        return _message_update(base, new_chat_members=[bot_user()])
    if kind == "left":
        return _message_update(base, left_chat_member=person.as_user())
    if kind == "bot_removed":
        return _message_update(base, left_chat_member=bot_user())
    if kind == "title":
        return _message_update(base, new_chat_title="\u202e会员委工")
    if kind == "migrated":
        return _message_update(base, migrate_to_chat_id=int(chat["id"]) - 1)
    status = {"kicked": ("member", "kicked"), "promoted": ("member", "administrator")}
    old, new = status.get(kind, ("left", "member"))
    return {
        "update_id": next(_update_ids),
        "my_chat_member": {
            "chat": chat,
            "from": person.as_user(),
            "date": int(time.time()),
            "old_chat_member": {"status": old, "user": bot_user()},
            "new_chat_member": _chat_member(new),
        },
    }


def _chat_member(status: str) -> dict[str, Any]:
    member: dict[str, Any] = {"status": status, "user": bot_user()}
    if status == "kicked":
        member["until_date"] = 0
    if status == "administrator":
        member.update(
            can_be_edited=False,
            is_anonymous=False,
            can_manage_chat=True,
            can_delete_messages=True,
            can_manage_video_chats=False,
            can_restrict_members=False,
            can_promote_members=False,
            can_change_info=False,
            can_invite_users=True,
            can_post_stories=False,
            can_edit_stories=False,
            can_delete_stories=False,
        )
    return member


GROUP_EVENTS = (
    "joined",
    "bot_added",
    "left",
    "bot_removed",
    "title",
    "migrated",
    "kicked",
    "promoted",
    "member",
)


def channel_post(chat_id: int, body: str) -> dict[str, Any]:
    """A post in a channel the bot administers (no `from`)."""
    content: dict[str, Any] = {"text": body}
    if body.startswith("/"):
        content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(body.split()[0])}]
    return {
        "update_id": next(_update_ids),
        "channel_post": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "channel", "title": "工会公示"},
            **content,
        },
    }


def private_kicked(person: Person) -> dict[str, Any]:
    """The person blocked the bot (a `my_chat_member` update in the private chat)."""
    return {
        "update_id": next(_update_ids),
        "my_chat_member": {
            "chat": private_chat(person),
            "from": person.as_user(),
            "date": int(time.time()),
            "old_chat_member": {"status": "member", "user": bot_user()},
            "new_chat_member": {"status": "kicked", "user": bot_user(), "until_date": 0},
        },
    }
