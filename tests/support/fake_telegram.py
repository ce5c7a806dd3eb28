"""A recording fake of the Telegram Bot API transport (PTB's BaseRequest).

It answers every call the way Telegram would (message ids, chats, dates), records what was
sent, and can be told to fail a method (e.g. 429, 403) to test how the bot copes.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from telegram.request import BaseRequest, RequestData

BOT_ID = 7000000001
BOT_USERNAME = "union_desk_test_bot"
TOKEN = f"{BOT_ID}:AAHfakeTokenForTestsOnly0123456789abcd"


@dataclass
class Call:
    """One Bot API call as the bot made it."""

    method: str
    params: dict[str, Any]

    @property
    def text(self) -> str:
        """The message text (or caption) sent, if any."""
        return str(self.params.get("text") or self.params.get("caption") or "")

    @property
    def chat_id(self) -> int | None:
        """The target chat, if any."""
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback data or url) of every inline button."""
        markup = self.params.get("reply_markup") or {}
        if isinstance(markup, str):
            markup = json.loads(markup)
        return [
            (button["text"], button.get("callback_data") or button.get("url", ""))
            for row in markup.get("inline_keyboard", [])
            for button in row
        ]

    def button_data(self, label_part: str) -> str:
        """Callback data of the first button whose label contains `label_part`."""
        for label, data in self.buttons():
            if label_part in label:
                return data
        raise AssertionError(f"no button with {label_part!r} in {self.buttons()}")


@dataclass
class Failure:
    """Make the next `times` calls of `method` fail with this Telegram error."""

    method: str
    error_code: int
    description: str
    times: int = 1
    retry_after: int | None = None
    # Only calls to this chat fail (concurrent sends reach the fake in no fixed order).
    chat_id: int | None = None
    # The group became a supergroup with this id ("group chat was upgraded to a supergroup").
    migrate_to_chat_id: int | None = None


@dataclass
class FakeTelegram(BaseRequest):
    """Records every Bot API call and answers like Telegram."""

    calls: list[Call] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    _message_ids: itertools.count = field(default_factory=lambda: itertools.count(1000))
    # Query ids of the answerCallbackQuery calls in `calls[:_indexed]`: the second-answer check
    # reads only the calls recorded since it last looked, not every earlier call.
    _answered: set[Any] = field(default_factory=set)
    _indexed: int = 0

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
        """Record the call and return Telegram's answer."""
        api_method = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        self.calls.append(Call(api_method, params))
        failure = self._take_failure(api_method, params) or self._second_answer(api_method, params)
        if failure is not None:
            body: dict[str, Any] = {
                "ok": False,
                "error_code": failure.error_code,
                "description": failure.description,
            }
            if failure.retry_after is not None:
                body["parameters"] = {"retry_after": failure.retry_after}
            if failure.migrate_to_chat_id is not None:
                body["parameters"] = {"migrate_to_chat_id": failure.migrate_to_chat_id}
            return failure.error_code, json.dumps(body).encode()
        return 200, json.dumps({"ok": True, "result": self._result(api_method, params)}).encode()

    def _second_answer(self, method: str, params: dict[str, Any]) -> Failure | None:
        """Telegram accepts one answer per callback query; a second one is a 400."""
        if method != "answerCallbackQuery":
            return None
        query_id = params.get("callback_query_id")
        self._index_answers()
        if query_id not in self._answered:
            return None
        return Failure(
            method,
            400,
            "Bad Request: query is too old and response timeout expired or query id is invalid",
        )

    def _index_answers(self) -> None:
        """Note the query ids answered in the calls before the latest one.

        Every recorded call counts, also one a subclass appended itself or one that failed, as
        when the check scanned the whole record; a record that was cleared is read anew."""
        earlier = len(self.calls) - 1
        if earlier < self._indexed:
            self._answered.clear()
            self._indexed = 0
        for call in self.calls[self._indexed : earlier]:
            if call.method == "answerCallbackQuery":
                self._answered.add(call.params.get("callback_query_id"))
        self._indexed = max(self._indexed, earlier)

    def _take_failure(self, method: str, params: dict[str, Any]) -> Failure | None:
        for failure in self.failures:
            if failure.chat_id is not None and str(params.get("chat_id")) != str(failure.chat_id):
                continue
            if failure.method == method and failure.times > 0:
                failure.times -= 1
                return failure
        return None

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "工会助手",
                "username": BOT_USERNAME,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if method in ("sendMessage", "sendPhoto", "sendDocument", "editMessageText"):
            return self._message(params)
        if method == "getUpdates":
            return []
        return True

    def _message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params.get("chat_id", 0))
        message_id = int(params.get("message_id") or next(self._message_ids))
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "工会助手"},
        }
        if "text" in params:
            message["text"] = params["text"]
        if "reply_markup" in params:
            markup = params["reply_markup"]
            message["reply_markup"] = json.loads(markup) if isinstance(markup, str) else markup
        return message

    # ---- queries used by tests -------------------------------------------------------------

    def sent(self, method: str = "sendMessage", chat_id: int | None = None) -> list[Call]:
        """Calls of `method`, optionally to one chat."""
        return [
            call
            for call in self.calls
            if call.method == method and (chat_id is None or call.chat_id == chat_id)
        ]

    def texts(self, chat_id: int | None = None) -> list[str]:
        """Texts of messages sent (to one chat)."""
        return [call.text for call in self.sent("sendMessage", chat_id)]

    def last(self, chat_id: int | None = None, method: str = "sendMessage") -> Call:
        """The latest call of `method` (to one chat)."""
        calls = self.sent(method, chat_id)
        assert calls, f"no {method} to {chat_id}; calls: {[c.method for c in self.calls]}"
        return calls[-1]

    def answers(self) -> list[Call]:
        """answerCallbackQuery calls."""
        return self.sent("answerCallbackQuery")

    def clear(self) -> None:
        """Forget what was recorded so far."""
        self.calls.clear()
        self._answered.clear()
        self._indexed = 0
