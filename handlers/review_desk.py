"""The review desk: cards in the committee group, role-checked buttons, cards edited in place.

Join requests use it now; suggestions, proposals and aid cases reuse it. A card is posted to the
committee group when one is bound, else privately to each committee member, and every copy is
recorded so later changes edit the same messages.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import InlineKeyboardMarkup, ReplyParameters, Update
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.callback import CallbackData, CallbackDataError, unpack
from bot.context import UnionContext
from models.desk import cards_for, record_card
from models.members import Actor, committee_telegram_ids
from models.organizations import get_organization

logger = logging.getLogger(__name__)


async def desk_chats(context: UnionContext) -> list[int]:
    """Where cards go: the committee group, else each committee member privately."""
    async with context.db() as session:
        org = await get_organization(session, context.org_id)
        if org.committee_chat_id is not None:
            return [org.committee_chat_id]
        return await committee_telegram_ids(session, org_id=context.org_id)


async def post_card(
    context: UnionContext,
    *,
    kind: str,
    item_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None,
    photos: Sequence[str] = (),
) -> int:
    """Post a card (and its photos, as replies to it) to the desk; returns how many chats got it."""
    delivered = 0
    for chat_id in await desk_chats(context):
        try:
            message = await context.bot.send_message(chat_id, text, reply_markup=markup)
            for file_id in photos:
                await context.bot.send_photo(
                    chat_id, file_id, reply_parameters=ReplyParameters(message.message_id)
                )
        except (Forbidden, BadRequest):
            logger.warning("Desk card %s:%s could not be posted to chat %s", kind, item_id, chat_id)
            continue
        async with context.db() as session:
            await record_card(
                session,
                org_id=context.org_id,
                kind=kind,
                item_id=item_id,
                chat_id=chat_id,
                message_id=message.message_id,
            )
        delivered += 1
    if delivered == 0:
        logger.warning("Desk card %s:%s reached no committee chat", kind, item_id)
    return delivered


async def refresh_cards(
    context: UnionContext,
    *,
    kind: str,
    item_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None,
) -> None:
    """Edit every copy of an item's card in place (tolerating deleted or unchanged ones)."""
    async with context.db() as session:
        cards = await cards_for(session, kind=kind, item_id=item_id)
    for card in cards:
        try:
            await context.bot.edit_message_text(
                text, chat_id=card.chat_id, message_id=card.message_id, reply_markup=markup
            )
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                logger.info("Desk card %s:%s in chat %s not edited", kind, item_id, card.chat_id)
        except TelegramError:
            logger.warning("Desk card %s:%s in chat %s not edited", kind, item_id, card.chat_id)


async def post_under_cards(context: UnionContext, *, kind: str, item_id: int, text: str) -> None:
    """Post a message as a reply to every copy of an item's card (e.g. an author's follow-up)."""
    async with context.db() as session:
        cards = await cards_for(session, kind=kind, item_id=item_id)
    for card in cards:
        try:
            await context.bot.send_message(
                card.chat_id,
                text,
                reply_parameters=ReplyParameters(card.message_id, allow_sending_without_reply=True),
            )
        except TelegramError:
            logger.warning(
                "Could not post under desk card %s:%s in %s", kind, item_id, card.chat_id
            )


async def committee_press(
    update: Update, context: UnionContext
) -> tuple[Actor, CallbackData] | None:
    """Answer a desk button press; return the committee presser and the parsed data, or refuse.

    Anyone in the group can press; only an active committee member (checked in the database
    for this very press) may decide. Refusals are logged with the presser's Telegram id.
    """
    query = update.callback_query
    assert query is not None
    try:
        data = unpack(query.data)
    except CallbackDataError:
        logger.warning("Malformed desk callback from user %s", query.from_user.id)
        await context.answer(update, context.t("desk.stale_button"), alert=True)
        return None
    actor = context.actor
    if actor is None or not actor.is_committee:
        logger.warning(
            "Refused %s:%s press by non-committee user %s",
            data.feature,
            data.action,
            query.from_user.id,
        )
        await context.answer(update, context.t("desk.not_committee"), alert=True)
        return None
    return actor, data
