"""The error handler: log without personal data, apologize with a reference, alert the owners."""

from __future__ import annotations

import logging
import secrets
import traceback

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from telegram import Update
from telegram.error import TelegramError

from bot.context import UnionContext

logger = logging.getLogger(__name__)

_DATABASE_ERRORS = (OperationalError, PoolTimeout, DBAPIError, ConnectionError, OSError)


def describe(error: BaseException) -> str:
    """Exception type and stack frames only: messages may quote what a person typed."""
    frames = "".join(traceback.format_tb(error.__traceback__))
    return f"{type(error).__module__}.{type(error).__qualname__}\n{frames}"


async def handle_error(update: object, context: UnionContext) -> None:
    """Log the error, tell the person in their language, and alert the owners (rate-limited)."""
    error = context.error
    if error is None:
        return
    reference = secrets.token_hex(3).upper()
    update_id = update.update_id if isinstance(update, Update) else None
    logger.error("Unhandled error ref=%s update=%s: %s", reference, update_id, describe(error))
    if isinstance(update, Update):
        await _apologize(update, context, reference, error)
    await _alert_owners(context, reference, error)


async def _apologize(
    update: Update, context: UnionContext, reference: str, error: BaseException
) -> None:
    is_database = isinstance(error, _DATABASE_ERRORS) and not isinstance(error, TelegramError)
    key = "error.db_unavailable" if is_database else "error.apology"
    text = context.t(key, ref=reference)
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text[:190], show_alert=True)
        elif update.effective_chat is not None:
            await context.bot.send_message(update.effective_chat.id, text)
    except TelegramError:
        logger.warning("Could not send the apology for ref=%s", reference)


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
            logger.warning("Could not alert owner about ref=%s", reference)
