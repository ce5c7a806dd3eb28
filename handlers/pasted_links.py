"""Our own deep links typed or pasted as text (`t.me/<bot>?start=cosign-2`): acted on exactly
as if the link had been opened, that is as `/start cosign-2`.

Telegram opens a link a person taps, but a link copied from a notice, a group or a colleague's
message often arrives as plain text. Only links to this bot count (its username, in any case);
any other text goes on to "not understood".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import MessageHandler, filters

from bot.application import UnionApplication
from bot.context import UnionContext

logger = logging.getLogger(__name__)

# t.me, telegram.me (with or without https://, www.), a username, then ?start=<payload>
# (the payload as Telegram allows it: 1-64 of A-Z a-z 0-9 _ -).
LINK = re.compile(
    r"(?:https?://)?(?:www\.)?(?:t|telegram)\.me/([A-Za-z0-9_]{3,32})/?\?start=([A-Za-z0-9_-]{1,64})"
    r"(?![A-Za-z0-9_-])",
    re.IGNORECASE,
)

Fallback = Callable[[Update, UnionContext], Awaitable[None]]


def our_payload(text: str, bot_username: str) -> str | None:
    """The start payload of the one link to this bot in `text`, if there is exactly one."""
    ours = bot_username.lstrip("@").lower()
    payloads = {
        match.group(2) for match in LINK.finditer(text) if ours and match.group(1).lower() == ours
    }
    return payloads.pop() if len(payloads) == 1 else None


def handler(otherwise: Fallback) -> MessageHandler[UnionContext, None]:
    """A private text with a t.me link in it: ours is opened, anything else is `otherwise`."""

    async def open_pasted_link(update: Update, context: UnionContext) -> None:
        """A link to this bot typed or pasted as text: the same as opening it."""
        message = update.message
        assert message is not None and message.text is not None
        username = context.state.bot_username or context.bot.username or ""
        payload = our_payload(message.text, username)
        if payload is None:
            await otherwise(update, context)
            return
        logger.info("A pasted start link (%s) is handled as /start", payload.split("-")[0])
        data = update.to_dict()
        data["message"]["text"] = f"/start {payload}"
        data["message"]["entities"] = [{"type": "bot_command", "offset": 0, "length": 6}]
        # The same update id, so the redelivery guard (UnionApplication) is not asked again:
        # this update is already being handled.
        application = context.application
        assert isinstance(application, UnionApplication)
        await super(UnionApplication, application).process_update(Update.de_json(data, context.bot))

    return MessageHandler(
        filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND & filters.Regex(LINK),
        open_pasted_link,
    )
