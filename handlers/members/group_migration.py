"""A group upgraded to a supergroup gets a new chat id from Telegram: the committee group (or
disclosure chat) bound under the old id is kept under the new one, with what waits in the
outbox for it, before any feature looks at the update."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.context import UnionContext
from models.outbox import follow_chat_migration

logger = logging.getLogger(__name__)


async def chat_migrated(update: Update, context: UnionContext) -> None:
    """Telegram's service message in the old group (migrate_to_chat_id) or the new supergroup
    (migrate_from_chat_id): either one moves the binding; the second finds nothing left."""
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id:
        old, new = message.chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id:
        old, new = message.migrate_from_chat_id, message.chat.id
    else:
        return
    async with context.db() as session:
        changed = await follow_chat_migration(session, old=old, new=new)
    if changed:
        logger.info("Group %s became supergroup %s: its binding follows it", old, new)
        runtime = context.state.runtime
        if runtime is not None:
            runtime.sender.wake()
    raise ApplicationHandlerStop
