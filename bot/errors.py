"""The error handler: log without personal data, apologize with a reference, alert the owners."""

from __future__ import annotations

import logging
import secrets
import traceback

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from telegram import Update
from telegram.error import TelegramError

from bot.callback import CallbackDataError
from bot.context import UnionContext

logger = logging.getLogger(__name__)

_DATABASE_ERRORS = (OperationalError, PoolTimeout, DBAPIError, ConnectionError, OSError)


def describe(error: BaseException) -> str:
    """Exception type and stack frames only: messages may quote what a person typed."""
    frames = "".join(traceback.format_tb(error.__traceback__))
    return f"{type(error).__module__}.{type(error).__qualname__}\n{frames}"


async def handle_error(update: object, context: UnionContext) -> None:
    """PTB's error handler: report whatever a handler raised."""
    if context.error is not None:
        await report_error(update, context, context.error)


async def report_error(update: object, context: UnionContext, error: BaseException) -> None:
    """Tell the person in their language; log and alert the owners unless it was their input."""
    if isinstance(update, Update):
        await _load_person_quietly(update, context)
    if isinstance(error, CallbackDataError):
        # A forged or outdated button: the person's doing, not ours. No alert.
        user = update.effective_user if isinstance(update, Update) else None
        logger.info("Refused malformed button data from user %s", user.id if user else None)
        if isinstance(update, Update):
            await _tell(update, context, context.t("desk.stale_button"), alert_only=True)
        return
    if context.state.status is not None:
        context.state.status.errors += 1
    reference = secrets.token_hex(3).upper()
    update_id = update.update_id if isinstance(update, Update) else None
    logger.error("Unhandled error ref=%s update=%s: %s", reference, update_id, describe(error))
    if isinstance(update, Update):
        is_database = isinstance(error, _DATABASE_ERRORS) and not isinstance(error, TelegramError)
        key = "error.db_unavailable" if is_database else "error.apology"
        await _tell(update, context, context.t(key, ref=reference), alert_only=False)
    await _alert_owners(context, reference, error)


async def _load_person_quietly(update: Update, context: UnionContext) -> None:
    # PTB gives the error handler a fresh context: find the person's language again, without
    # failing if the database is what broke.
    if update.effective_user is not None:
        context.language_code = update.effective_user.language_code
    try:
        await context.prepare(update)
    except Exception:
        logger.debug("Could not load the member for an error reply")


async def _tell(update: Update, context: UnionContext, text: str, *, alert_only: bool) -> None:
    """An alert on the button if we still can; a chat message when it matters or as fallback.

    A callback query can be answered only once, and handlers answer first, so an apology after
    a failed button also goes to the chat as a message.
    """
    query = update.callback_query
    answered = False
    if query is not None:
        try:
            await query.answer(text[:190], show_alert=True)
            answered = True
        except TelegramError:
            answered = False
    if answered and alert_only:
        return
    chat = update.effective_chat
    if chat is None:
        return
    try:
        await context.bot.send_message(chat.id, text)
    except TelegramError:
        logger.warning("Could not send an error reply to chat %s", chat.id)


async def _alert_owners(context: UnionContext, reference: str, error: BaseException) -> None:
    kind = type(error).__qualname__
    allowed, held_back = context.state.alerts.allow(kind)
    if not allowed:
        return
    tr = context.i18n.get(context.settings.default_language)
    text = tr("error.owner_alert", ref=reference, kind=kind, held_back=held_back)
    for owner_id in context.settings.owner_ids:
        try:
            await context.bot.send_message(owner_id, text)
        except TelegramError:
            logger.warning("Could not alert an owner about ref=%s", reference)
