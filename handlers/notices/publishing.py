"""Publishing a notice: the post in the disclosure channel (with a 提出异议 link that opens a
private chat), and a copy to each member concerned through the outbox (with a 提出异议 button).

This is the one helper other features use to publish a 公示 (the aid notice does): store it with
`models.notices.open_notice`, then `await publish(context, notice)`."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.error import TelegramError

from bot.context import UnionContext
from handlers.common import deep_link
from handlers.notices.buttons import NoticeFile, ObjectButton
from models.audiences import audience_members
from models.notice_text import post_text
from models.notices import NO_AUDIENCE, FileKind, Notice, record_channel_post
from models.organizations import get_organization
from models.outbox import BroadcastKind, Recipient

logger = logging.getLogger(__name__)

OBJECT_PREFIX = "objection-"  # t.me/<bot>?start=objection-<notice id>


@dataclass(frozen=True)
class Published:
    """Where a notice went: the channel (None: no channel bound) and how many members."""

    posted: bool | None
    members: int


async def publish(context: UnionContext, notice: Notice) -> Published:
    """Post a stored notice to the disclosure channel and queue it for the members concerned."""
    async with context.db() as session:
        org = await get_organization(session, context.org_id)
    posted: bool | None = None
    if org.disclosure_chat_id is not None:
        posted = await _post(context, notice, org.disclosure_chat_id)
    members = await _queue(context, notice)
    logger.info("Notice %s published (channel=%s, members=%s)", notice.id, posted, members)
    return Published(posted, members)


async def send_file(context: UnionContext, chat_id: int, notice: Notice) -> None:
    """The notice's attached file, to one chat."""
    if notice.file_id is None:
        return
    if notice.file_kind == FileKind.PHOTO:
        await context.bot.send_photo(chat_id, notice.file_id)
    else:
        await context.bot.send_document(chat_id, notice.file_id)


async def _post(context: UnionContext, notice: Notice, chat_id: int) -> bool:
    tr = context.i18n.get(context.settings.default_language)
    link = deep_link(context, f"{OBJECT_PREFIX}{notice.id}")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton(tr("notice.btn_object"), url=link)]])
    try:
        message = await context.bot.send_message(
            chat_id, post_text(tr, notice), reply_markup=markup
        )
    except TelegramError as exc:
        logger.warning("Notice %s could not be posted: %s", notice.id, type(exc).__name__)
        return False
    async with context.db() as session:
        await record_channel_post(
            session, notice_id=notice.id or 0, chat_id=chat_id, message_id=message.message_id
        )
    if notice.file_id is not None:
        reply = ReplyParameters(message.message_id)
        try:
            if notice.file_kind == FileKind.PHOTO:
                await context.bot.send_photo(chat_id, notice.file_id, reply_parameters=reply)
            else:
                await context.bot.send_document(chat_id, notice.file_id, reply_parameters=reply)
        except TelegramError as exc:
            logger.warning("Notice %s file could not be posted: %s", notice.id, type(exc).__name__)
    return True


async def _queue(context: UnionContext, notice: Notice) -> int:
    if notice.audience == NO_AUDIENCE:
        return 0
    today = context.state.clock().astimezone(context.settings.zone).date()
    async with context.db() as session:
        members = await audience_members(
            session,
            org_id=context.org_id,
            audience={"type": notice.audience},
            today=today,
            respect_mute=False,
        )
    recipients = []
    for member in members:
        tr = context.i18n.get(member.language)
        rows: tuple[tuple[tuple[str, str], ...], ...] = (
            ((tr("notice.btn_object"), ObjectButton(notice.id or 0).pack()),),
        )
        if notice.file_id is not None:
            rows = (((tr("notice.btn_file"), NoticeFile(notice.id or 0).pack()),), *rows)
        recipients.append(
            Recipient(
                chat_id=member.telegram_user_id or 0,
                text=post_text(tr, notice),
                member_id=member.id,
                buttons=rows,
            )
        )
    if recipients:
        await context.notifier.queue(
            key=f"notice:{notice.id}:publish",
            kind=BroadcastKind.ANNOUNCEMENT,
            recipients=recipients,
            quiet=True,
        )
    return len(recipients)
