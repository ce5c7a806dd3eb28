"""An in-process Telegram for the sandbox: a PTB `BaseRequest` that answers like the Bot API.

Nothing leaves the process. Every chat's messages are kept (edits applied, deletions
honoured) so the terminal can show them, and everything that happened is appended to
`events` for the terminal to print after each input.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from telegram.request import BaseRequest, RequestData

# Methods whose answer is the message sent or edited.
_SENDING = ("sendMessage", "sendPhoto", "sendDocument", "sendAnimation", "sendVideo")
_EDITING = ("editMessageText", "editMessageCaption", "editMessageReplyMarkup")


@dataclass(frozen=True)
class Button:
    """One inline button: a callback button carries `data`, a link button `url`."""

    label: str
    data: str = ""
    url: str = ""


@dataclass
class ChatMessage:
    """A message in a chat, as the chat shows it now."""

    message_id: int
    chat_id: int
    sender: str  # "" for the bot, else the name of the person who typed it
    text: str
    rows: list[list[Button]] = field(default_factory=list)
    kind: str = "text"  # text | photo | document | sticker
    file_name: str = ""
    edited: bool = False
    deleted: bool = False

    @property
    def from_bot(self) -> bool:
        """True for what the bot sent."""
        return not self.sender

    def buttons(self) -> list[Button]:
        """Every button, numbered from 1 in reading order by the terminal."""
        return [button for row in self.rows for button in row]


@dataclass(frozen=True)
class Event:
    """Something the terminal may print: a message sent, a message edited, a press answered."""

    kind: str  # message | edit | answer
    chat_id: int | None
    message: ChatMessage | None = None
    text: str = ""
    alert: bool = False


class TelegramError(Exception):
    """An answer Telegram gives with ok=false."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def _markup(params: dict[str, Any]) -> dict[str, Any]:
    markup = params.get("reply_markup") or {}
    return json.loads(markup) if isinstance(markup, str) else dict(markup)


def _rows(markup: dict[str, Any]) -> list[list[Button]]:
    return [
        [
            Button(
                str(button.get("text", "")),
                data=str(button.get("callback_data") or ""),
                url=str(button.get("url") or ""),
            )
            for button in row
        ]
        for row in markup.get("inline_keyboard", [])
    ]


class SandboxTelegram(BaseRequest):
    """Answers every Bot API call the bot makes, and keeps the chats."""

    def __init__(
        self,
        *,
        bot_id: int,
        bot_name: str,
        bot_username: str,
        chat_titles: dict[int, str] | None = None,
        first_message_id: int = 1,
    ) -> None:
        super().__init__()
        self.bot_id = bot_id
        self.bot_name = bot_name
        self.bot_username = bot_username
        self.chat_titles = dict(chat_titles or {})
        self.chats: dict[int, list[ChatMessage]] = {}
        self.events: list[Event] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._message_ids = itertools.count(first_message_id)
        self._answered: set[str] = set()

    @property
    def read_timeout(self) -> float | None:
        """No network, no timeout."""
        return None

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = None,
        write_timeout: object = None,
        connect_timeout: object = None,
        pool_timeout: object = None,
    ) -> tuple[int, bytes]:
        """Answer one Bot API call the way Telegram would."""
        api_method = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        self.calls.append((api_method, params))
        try:
            result = self.answer(api_method, params, request_data)
        except TelegramError as error:
            body = {"ok": False, "error_code": error.code, "description": error.description}
            return error.code, json.dumps(body).encode()
        return 200, json.dumps({"ok": True, "result": result}).encode()

    # ---- what the user does --------------------------------------------------------------

    def next_message_id(self) -> int:
        """A fresh message id (the bot's messages and people's share one sequence)."""
        return next(self._message_ids)

    def skip_message_ids_to(self, first: int) -> None:
        """Continue numbering at `first` or later (ids of an earlier run stay unique)."""
        current = next(self._message_ids)
        self._message_ids = itertools.count(max(current, first))

    def record_user_message(
        self, chat_id: int, sender: str, text: str, *, kind: str = "text", file_name: str = ""
    ) -> ChatMessage:
        """Keep a message a person typed or sent (a photo, a file, a sticker), so the chat
        reads as a conversation."""
        message = ChatMessage(
            self.next_message_id(), chat_id, sender, text, kind=kind, file_name=file_name
        )
        self.chats.setdefault(chat_id, []).append(message)
        return message

    def find(self, chat_id: int, message_id: int) -> ChatMessage | None:
        """A message of a chat by id."""
        for message in self.chats.get(chat_id, []):
            if message.message_id == message_id:
                return message
        return None

    def visible(self, chat_id: int) -> list[ChatMessage]:
        """The chat's messages that were not deleted, oldest first."""
        return [message for message in self.chats.get(chat_id, []) if not message.deleted]

    # ---- Telegram's answers --------------------------------------------------------------

    def bot_user(self) -> dict[str, Any]:
        """The bot's `User` object."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
        }

    def chat(self, chat_id: int) -> dict[str, Any]:
        """The `Chat` object of a private chat (positive id) or a supergroup (negative)."""
        if chat_id < 0:
            return {
                "id": chat_id,
                "type": "supergroup",
                "title": self.chat_titles.get(chat_id, str(chat_id)),
            }
        return {"id": chat_id, "type": "private", "first_name": self.chat_titles.get(chat_id, "")}

    def answer(
        self, method: str, params: dict[str, Any], request_data: RequestData | None = None
    ) -> Any:
        """The `result` of one call, or TelegramError."""
        if method == "getMe":
            return {
                **self.bot_user(),
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if method in _SENDING:
            return self.message_object(self._send(method, params, request_data))
        if method in _EDITING:
            return self._edit(method, params)
        if method == "answerCallbackQuery":
            return self._answer_query(params)
        if method == "deleteMessage":
            message = self.find(int(params.get("chat_id", 0)), int(params.get("message_id", 0)))
            if message is None or message.deleted:
                raise TelegramError(400, "Bad Request: message to delete not found")
            message.deleted = True
            return True
        if method == "getChat":
            return self.chat(int(params.get("chat_id", 0)))
        if method == "getChatMember":
            user_id = int(params.get("user_id", 0))
            return {
                "status": "member",
                "user": {"id": user_id, "is_bot": False, "first_name": str(user_id)},
            }
        if method == "getFile":
            file_id = str(params.get("file_id", ""))
            return {"file_id": file_id, "file_unique_id": file_id[-16:], "file_size": 0}
        if method in ("getUpdates", "getMyCommands"):
            return []
        # setMyCommands, approveChatJoinRequest, declineChatJoinRequest, setChatMenuButton, ...
        return True

    def _send(
        self, method: str, params: dict[str, Any], request_data: RequestData | None
    ) -> ChatMessage:
        chat_id = int(params.get("chat_id", 0))
        kind = {"sendPhoto": "photo", "sendMessage": "text"}.get(method, "document")
        file_name = ""
        if kind == "document" and request_data is not None and request_data.multipart_data:
            file_name = next(
                (str(part[0]) for part in request_data.multipart_data.values() if part[0]), ""
            )
        message = ChatMessage(
            self.next_message_id(),
            chat_id,
            "",
            str(params.get("text") or params.get("caption") or ""),
            _rows(_markup(params)),
            kind=kind,
            file_name=file_name,
        )
        self.chats.setdefault(chat_id, []).append(message)
        self.events.append(Event("message", chat_id, message))
        return message

    def _edit(self, method: str, params: dict[str, Any]) -> Any:
        if "inline_message_id" in params:
            return True
        chat_id = int(params.get("chat_id", 0))
        message_id = int(params.get("message_id", 0))
        message = self.find(chat_id, message_id)
        if message is None:
            # Sent before this sandbox started (the chat's history is not kept across runs).
            message = ChatMessage(message_id, chat_id, "", "")
            self.chats.setdefault(chat_id, []).append(message)
        if message.deleted:
            raise TelegramError(400, "Bad Request: message to edit not found")
        text = message.text
        if method == "editMessageText":
            text = str(params.get("text", ""))
        elif method == "editMessageCaption":
            text = str(params.get("caption", ""))
        rows = _rows(_markup(params))
        if text == message.text and rows == message.rows:
            raise TelegramError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        message.text, message.rows, message.edited = text, rows, True
        self.events.append(Event("edit", chat_id, message))
        return self.message_object(message)

    def _answer_query(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id in self._answered:
            raise TelegramError(
                400,
                "Bad Request: query is too old and response timeout expired or query id is invalid",
            )
        self._answered.add(query_id)
        text = str(params.get("text") or "")
        if text:
            self.events.append(
                Event("answer", None, text=text, alert=bool(params.get("show_alert")))
            )
        return True

    def message_object(self, message: ChatMessage) -> dict[str, Any]:
        """The `Message` object Telegram returns."""
        result: dict[str, Any] = {
            "message_id": message.message_id,
            "date": int(time.time()),
            "chat": self.chat(message.chat_id),
            "from": self.bot_user(),
        }
        if message.kind == "text":
            result["text"] = message.text
        elif message.text:
            result["caption"] = message.text
        if message.rows:
            result["reply_markup"] = {
                "inline_keyboard": [
                    [
                        {"text": b.label, "callback_data": b.data}
                        if b.data
                        else {"text": b.label, "url": b.url}
                        for b in row
                    ]
                    for row in message.rows
                ]
            }
        return result
