"""What happens to updates no feature claimed: never silence, never a traceback."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.callback import CallbackDataError, unpack
from bot.context import UnionContext
from bot.errors import report_error
from bot.features import Feature, private_commands
from handlers import pasted_links
from handlers.common import deep_link, say
from handlers.members import group_migration
from handlers.menu.commands import show_menu
from models.members import MemberStatus

logger = logging.getLogger(__name__)


async def prepare_context(update: Update, context: UnionContext) -> None:
    """Runs first for every update: load the member behind it, or stop if we cannot."""
    query = update.callback_query
    if query is not None:
        try:
            unpack(query.data)
        except CallbackDataError:
            # Forged or foreign data: refuse before any handler answers the query.
            logger.info("Refused malformed button data from user %s", query.from_user.id)
            await context.prepare(update)
            await context.answer(update, context.t("desk.stale_button"), alert=True)
            raise ApplicationHandlerStop from None
    try:
        await context.prepare(update)
    except Exception as exc:
        # Without the member no handler can answer correctly (e.g. the database is down):
        # one apology, and no second, contradictory reply from a handler that sees a stranger.
        await report_error(update, context, exc)
        raise ApplicationHandlerStop from exc


def works_in_groups(features: Sequence[Feature], data: str | None) -> bool:
    """Whether this press is of a family a feature declares for group chats (the desk cards).
    Every other button (the menu, lists, forms, a member's own buttons) shows or asks for
    something private, so a press of it in a group, even with forged data, is refused."""
    for feature in features:
        for family in feature.group_buttons:
            try:
                family.unpack(data)
            except CallbackDataError:
                continue
            return True
    return False


async def private_buttons_in_groups(update: Update, context: UnionContext) -> None:
    """A private button pressed in a group: refused with a pointer to the private chat."""
    query = update.callback_query
    chat = update.effective_chat
    if query is None or chat is None or chat.type not in (ChatType.GROUP, ChatType.SUPERGROUP):
        return
    if works_in_groups(context.state.features, query.data):
        return
    logger.info("Refused a private %s button in a group", (query.data or "").split(":")[0])
    await context.answer(update, context.t("group.private_only"), alert=True)
    raise ApplicationHandlerStop


async def private_only(update: Update, context: UnionContext) -> None:
    """A private command sent in a group: point to the private chat with a link button,
    in the sender's language (their stored choice, else Telegram's), not the group's."""
    tr = context.tr
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton(tr("group.open_private"), url=deep_link(context))]]
    )
    await say(update, context, tr("group.private_only"), markup)


async def unknown_command(update: Update, context: UnionContext) -> None:
    """A command we do not have."""
    await say(update, context, context.t("fallback.unknown_command"))


async def unknown_private_message(update: Update, context: UnionContext) -> None:
    """Free text, stickers or files outside any conversation."""
    actor = context.actor
    if actor is None or not actor.is_active:
        inactive = actor is not None and actor.member.status == MemberStatus.INACTIVE
        await say(
            update, context, context.t("join.inactive" if inactive else "member.not_registered")
        )
        return
    await say(update, context, context.t("fallback.not_understood"))
    await show_menu(update, context)


async def stale_button(update: Update, context: UnionContext) -> None:
    """A button whose conversation or feature is gone (old message, forged data)."""
    query = update.callback_query
    assert query is not None
    logger.info("Unmatched callback from user %s", query.from_user.id)
    await context.answer(update, context.t("desk.stale_button"), alert=True)


async def edited_message(update: Update, context: UnionContext) -> None:
    """An edit of an earlier message: we act on what was sent, so say so (in private) and
    stop, rather than let a step that waits for a new message see an edit."""
    chat = update.effective_chat
    if chat is not None and chat.type == ChatType.PRIVATE:
        await say(update, context, context.t("fallback.edit_not_read"))
    raise ApplicationHandlerStop


def register_first(application: Application) -> None:
    """Handlers that run before every feature."""
    # Before the organization is resolved from the chat: the chat's id is what changes.
    migrated = MessageHandler(filters.StatusUpdate.MIGRATE, group_migration.chat_migrated)
    application.add_handler(migrated, group=-101)
    application.add_handler(TypeHandler(Update, prepare_context), group=-100)
    application.add_handler(MessageHandler(filters.UpdateType.EDITED, edited_message), group=-99)
    application.add_handler(TypeHandler(Update, private_buttons_in_groups), group=-98)


def register_last(application: Application, features: Sequence[Feature]) -> None:
    """Catch-alls, added after every feature so they only see what nobody claimed."""
    application.add_handler(
        CommandHandler(private_commands(features), private_only, filters=filters.ChatType.GROUPS)
    )
    application.add_handler(
        MessageHandler(filters.COMMAND & filters.ChatType.PRIVATE, unknown_command)
    )
    # Our own t.me/<bot>?start=... link pasted as text: as if opened (else not understood).
    application.add_handler(pasted_links.handler(unknown_private_message))
    application.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE & ~filters.COMMAND & ~filters.StatusUpdate.ALL,
            unknown_private_message,
        )
    )
    application.add_handler(CallbackQueryHandler(stale_button))
