"""Publishing a notice: the post in the disclosure channel (with a 提出异议 link that opens a
private chat), and a copy to each member concerned through the outbox (with a 提出异议 button).

This is the one helper other features use to publish a 公示: store it with
`models.notices.open_notice`, then `await publish(context, notice)` (the aid notice, with its own
calendar days); or `publish_generated(...)`, which opens it with the default period of
DEFAULT_WORKING_DAYS working days as /notice does (ballot results, the prize winners of the
rationalization proposals, a session's handling results).

A long generated notice is posted in several messages cut at line ends; the 提出异议 button is
under the last one."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.error import TelegramError

from bot.context import UnionContext
from bot.i18n import Translator
from handlers.common import deep_link
from handlers.notices.buttons import NoticeFile, ObjectButton
from models.audiences import audience_addressees, audience_need
from models.calendar import AudienceType
from models.notice_text import post_parts
from models.notices import (
    GENERATED_BODY_LIMIT,
    NO_AUDIENCE,
    TITLE_LIMIT,
    FileKind,
    Notice,
    NoticeKind,
    open_notice,
    record_channel_post,
)
from models.organizations import get_organization
from models.outbox import BroadcastKind, Buttons, Recipient
from models.workdays import DEFAULT_WORKING_DAYS, add_working_days, next_working_day

logger = logging.getLogger(__name__)

OBJECT_PREFIX = "objection-"  # t.me/<bot>?start=objection-<notice id>


@dataclass(frozen=True)
class Published:
    """Where a notice went: the channel (None: no channel bound) and how many members."""

    posted: bool | None
    members: int


def default_period(today: date) -> tuple[date, date]:
    """The default 公示期: from the working day after `today`, DEFAULT_WORKING_DAYS working days."""
    return next_working_day(today), add_working_days(today, DEFAULT_WORKING_DAYS)


async def publish_generated(
    context: UnionContext,
    *,
    title: str,
    body: str,
    kind: NoticeKind,
    audience: str = NO_AUDIENCE,
    member_ids: Sequence[int] | None = None,
    created_by: int | None = None,
) -> tuple[Notice, Published]:
    """Open a notice another feature wrote, with the default period of working days, and
    publish it. `member_ids` (with `audience` MEMBERS) names the members concerned when no
    audience type fits, e.g. a ballot's electorate. Raises DomainError as `open_notice` does."""
    today = context.today()
    start, end = default_period(today)
    if member_ids is not None:
        audience = AudienceType.MEMBERS  # the list itself is not kept on the notice
    if len(title) > TITLE_LIMIT:
        title = title[: TITLE_LIMIT - 1] + "…"
    async with context.db() as session:
        notice = await open_notice(
            session,
            org_id=context.org_id,
            title=title,
            body=body,
            starts_on=start,
            ends_on=end,
            audience=audience,
            kind=kind,
            created_by=created_by,
            body_limit=GENERATED_BODY_LIMIT,
        )
    return notice, await publish(context, notice, member_ids=member_ids)


async def publish(
    context: UnionContext, notice: Notice, *, member_ids: Sequence[int] | None = None
) -> Published:
    """Post a stored notice to the disclosure channel and queue it for the members concerned
    (its audience; with `member_ids`, exactly those members)."""
    async with context.db() as session:
        org = await get_organization(session, context.org_id)
    posted: bool | None = None
    if org.disclosure_chat_id is not None:
        posted = await _post(context, notice, org.disclosure_chat_id)
    members = await _queue(context, notice, member_ids)
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
    parts = post_parts(tr, notice)
    try:
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            message = await context.bot.send_message(
                chat_id, part, reply_markup=markup if last else None
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


def _post_in(tr: Translator, notice: Notice) -> tuple[Buttons, list[str]]:
    """The notice's buttons and parts in one language (built once per language)."""
    rows: Buttons = (((tr("notice.btn_object"), ObjectButton(notice.id or 0).pack()),),)
    if notice.file_id is not None:
        rows = (((tr("notice.btn_file"), NoticeFile(notice.id or 0).pack()),), *rows)
    return rows, post_parts(tr, notice)


async def _queue(context: UnionContext, notice: Notice, member_ids: Sequence[int] | None) -> int:
    if notice.audience == NO_AUDIENCE and member_ids is None:
        return 0
    audience: dict[str, object] = {"type": notice.audience}
    if member_ids is not None:
        audience = {"type": AudienceType.MEMBERS, "ids": list(member_ids)}
    today = context.today()
    async with context.db() as session:
        members = await audience_addressees(
            session, org_id=context.org_id, audience=audience, today=today, respect_mute=False
        )
    # One broadcast per part (a recipient appears once in a broadcast); the outbox sends in
    # the order queued, so each member reads the parts in order, the buttons under the last.
    parts: list[list[Recipient]] = []
    by_language: dict[str | None, tuple[Buttons, list[str]]] = {}
    for member in members:
        if member.language not in by_language:
            by_language[member.language] = _post_in(context.i18n.get(member.language), notice)
        rows, texts = by_language[member.language]
        while len(parts) < len(texts):
            parts.append([])
        for index, text in enumerate(texts):
            parts[index].append(
                Recipient(
                    chat_id=member.chat_id,
                    text=text,
                    member_id=member.member_id,
                    buttons=rows if index == len(texts) - 1 else (),
                    needs=audience_need(audience),
                )
            )
    for index, recipients in enumerate(parts):
        suffix = "" if index == 0 else f":{index + 1}"
        await context.notifier.queue(
            org_id=context.org_id,
            key=f"notice:{notice.id}:publish{suffix}",
            kind=BroadcastKind.ANNOUNCEMENT,
            recipients=recipients,
            quiet=True,
        )
    return len(members)
