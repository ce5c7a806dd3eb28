"""The review desk: cards in the committee group, role-checked buttons, cards edited in place.

Join requests use it now; suggestions, proposals and aid cases reuse it. A card is posted to the
committee group when one is bound, else privately to each committee member, and every copy is
recorded so later changes edit the same messages.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from telegram import InlineKeyboardMarkup, Message, ReplyParameters, Update
from telegram.error import BadRequest, TelegramError

from bot.context import UnionContext
from models.desk import DeskCard, deliverable_cards, desk_chat_ids, record_card, uncarded
from models.members import Actor

logger = logging.getLogger(__name__)
T = TypeVar("T")


async def desk_chats(context: UnionContext) -> list[int]:
    """Where cards go: the committee group, else each committee member privately."""
    async with context.db() as session:
        return await desk_chat_ids(session, org_id=context.org_id)


async def post_card(
    context: UnionContext,
    *,
    kind: str,
    item_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None,
    photos: Sequence[str] = (),
    chats: Sequence[int] | None = None,
) -> int:
    """Post a card (and its photos, as replies to it) to the desk; returns how many chats got it.
    `chats`: the desk's chats when the caller read them already (in its own transaction)."""
    delivered = 0
    for chat_id in await desk_chats(context) if chats is None else chats:
        # Whatever Telegram answers (blocked, timeout, 5xx), the item is stored already: a lost
        # card is logged, and the other chats and the caller's receipt still go ahead.
        try:
            message = await context.bot.send_message(chat_id, text, reply_markup=markup)
        except TelegramError as exc:
            logger.warning(
                "Desk card %s:%s could not be posted to chat %s: %s",
                kind,
                item_id,
                chat_id,
                type(exc).__name__,
            )
            continue
        await _record(context, kind=kind, item_id=item_id, chat_id=chat_id, message=message)
        delivered += 1
        try:
            for file_id in photos:
                await context.bot.send_photo(
                    chat_id, file_id, reply_parameters=ReplyParameters(message.message_id)
                )
        except TelegramError as exc:
            logger.warning(
                "Photos of desk card %s:%s could not be posted to chat %s: %s",
                kind,
                item_id,
                chat_id,
                type(exc).__name__,
            )
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
    """Edit every copy of an item's card in place (tolerating deleted or unchanged ones); only
    copies whose holders may see it now (see `deliverable_cards`)."""
    async with context.db() as session:
        cards = await deliverable_cards(session, org_id=context.org_id, kind=kind, item_id=item_id)
    for card in cards:
        try:
            await context.bot.edit_message_text(
                text, chat_id=card.chat_id, message_id=card.message_id, reply_markup=markup
            )
        except BadRequest as exc:
            reason = str(exc).lower()
            if "message to edit not found" in reason:
                await _post_again(
                    context, kind=kind, item_id=item_id, card=card, text=text, markup=markup
                )
            elif "not modified" not in reason:
                logger.info("Desk card %s:%s in chat %s not edited", kind, item_id, card.chat_id)
        except TelegramError:
            logger.warning("Desk card %s:%s in chat %s not edited", kind, item_id, card.chat_id)


async def _post_again(
    context: UnionContext,
    *,
    kind: str,
    item_id: int,
    card: DeskCard,
    text: str,
    markup: InlineKeyboardMarkup | None,
) -> None:
    """Someone deleted the card from its chat: post it there again and edit that one later."""
    try:
        message = await context.bot.send_message(card.chat_id, text, reply_markup=markup)
    except TelegramError as exc:
        logger.warning(
            "Desk card %s:%s was deleted from chat %s and could not be posted again: %s",
            kind,
            item_id,
            card.chat_id,
            type(exc).__name__,
        )
        return
    await _record(context, kind=kind, item_id=item_id, chat_id=card.chat_id, message=message)
    logger.warning(
        "Desk card %s:%s was deleted from chat %s and was posted again", kind, item_id, card.chat_id
    )


async def _record(
    context: UnionContext, *, kind: str, item_id: int, chat_id: int, message: Message
) -> None:
    # One statement: on PostgreSQL its only round trip (no BEGIN, no COMMIT).
    async with context.state.single_statement() as session:
        await record_card(
            session,
            org_id=context.org_id,
            kind=kind,
            item_id=item_id,
            chat_id=chat_id,
            message_id=message.message_id,
        )


async def post_under_cards(context: UnionContext, *, kind: str, item_id: int, text: str) -> None:
    """Post a message as a reply to every copy of an item's card (e.g. an author's follow-up),
    for the people who may see it now."""
    async with context.db() as session:
        cards = await deliverable_cards(session, org_id=context.org_id, kind=kind, item_id=item_id)
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


async def committee_press(update: Update, context: UnionContext) -> Actor | None:
    """The committee member behind a desk button press, or None after refusing it.

    Anyone in the group can press; only an active committee member (as the database says for
    this very press: the member cache is dropped at every change of roles, bot/actor_cache.py)
    may decide. Refusals are logged with the presser's Telegram id. What was pressed comes
    parsed from the handler (`context.button_as(...)`).
    """
    query = update.callback_query
    assert query is not None
    actor = context.actor
    if actor is None or not actor.is_committee:
        logger.warning(
            "Refused a %s press by non-committee user %s",
            (query.data or "").split(":")[0],
            query.from_user.id,
        )
        await context.answer(update, context.t("desk.not_committee"), alert=True)
        return None
    return actor


async def put_missing_cards(
    context: UnionContext,
    *,
    table: type[T],
    kind: str,
    statuses: Sequence[str],
    announce: Callable[[T], Awaitable[object]],
    tell: Callable[[T], Awaitable[object]],
) -> int:
    """Items of `table` stored before a stop but never carded (see models.desk.uncarded): put
    each on the desk now and, once a card is there, tell its author it was received (`tell`).
    Without a desk (no group, no committee yet) nothing is sent and the next start tries
    again; a card posted means an item is announced only once. Returns how many were carded."""
    async with context.db() as session:
        rows = await uncarded(
            session, table=table, kind=kind, org_id=context.org_id, statuses=statuses
        )
    carded = 0
    for row in rows:
        item_id = getattr(row, "id", None) or 0
        await announce(row)
        async with context.db() as session:
            cards = await deliverable_cards(
                session, org_id=context.org_id, kind=kind, item_id=item_id
            )
        if not cards:
            continue
        logger.info("Desk card %s:%s posted after a restart", kind, item_id)
        await tell(row)
        carded += 1
    return carded
