"""/notices [year]: the year's notices and their outcomes (members and committee alike; the
committee also sees how many objections each had and how many wait). Never who objected."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, filters

from bot.context import UnionContext
from handlers.common import require_member, say
from models.notice_text import day_words
from models.notices import ArchiveLine, NoticeStatus, archive
from models.validation import ascii_number

_CHUNK = 3500


async def show_archive(update: Update, context: UnionContext) -> None:
    """/notices [year] (this year by default)."""
    if update.callback_query is not None:
        await context.answer(update)
    actor = await require_member(update, context)
    if actor is None:
        return
    text = context.args[0] if context.args else ""
    this_year = context.state.clock().astimezone(context.settings.zone).year
    year = ascii_number(text, low=2000, high=2100) if text else this_year
    if year is None:
        await say(update, context, context.t("notice.archive_usage"))
        return
    async with context.db() as session:
        lines = await archive(session, org_id=context.org_id, year=year)
    if not lines:
        await say(update, context, context.t("notice.archive_empty", year=year))
        return
    blocks = [context.t("notice.archive_title", year=year, count=len(lines))]
    blocks += [_line(context, line, committee=actor.is_committee) for line in lines]
    message = ""
    for block in blocks:  # long years go in several messages
        if message and len(message) + len(block) + 2 > _CHUNK:
            await say(update, context, message)
            message = ""
        message = f"{message}\n\n{block}" if message else block
    await say(update, context, message)


def _line(context: UnionContext, line: ArchiveLine, *, committee: bool) -> str:
    notice = line.notice
    status = context.t(f"notice.status.{notice.status}")
    block = [
        f"{notice.number}《{notice.title}》",
        context.t(
            "notice.archive_period",
            start=day_words(context.tr, notice.starts_on),
            end=day_words(context.tr, notice.ends_on),
            status=status,
        ),
    ]
    if committee and line.objections:
        block.append(
            context.t("notice.archive_objections", count=line.objections, waiting=line.unanswered)
        )
    elif committee and notice.status != NoticeStatus.OPEN:
        block.append(context.t("notice.archive_no_objections"))
    return "\n".join(block)


def register(application: Application) -> None:
    """Add /notices."""
    application.add_handler(
        CommandHandler("notices", show_archive, filters=filters.ChatType.PRIVATE)
    )
