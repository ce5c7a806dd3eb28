"""Hardship files (困难职工档案) for the committee, in the private chat: /hardship lists the
families on file with their review dates; a family is put on file, reviewed, or closed (撤档)."""

from __future__ import annotations

import logging
from datetime import date
from enum import IntEnum
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CommandHandler,
    ConversationHandler,
    filters,
)

from bot.buttons import ButtonHandler
from bot.context import UnionContext
from bot.forms import Form
from handlers.aid.buttons import (
    HardshipFileButton,
    HardshipLevelChoice,
    HardshipMember,
    HardshipNew,
)
from handlers.aid.desk import today
from handlers.common import (
    conversation,
    family_step,
    keyboard,
    member_buttons,
    refuse,
    require_committee,
    say,
    text_step,
    typed_text,
    user_draft,
)
from models.errors import DomainError, InputError
from models.hardship import (
    REASON_LIMIT,
    HardshipLevel,
    active_files,
    close_file,
    file_number,
    open_file,
    review_file,
)
from models.members_queries import members_by_id

logger = logging.getLogger(__name__)

_END = ConversationHandler.END


class FileSteps(IntEnum):
    """Putting a family on file, or closing a file."""

    NAME = 1
    LEVEL = 2
    REASON = 3
    CLOSING = 4


def _draft(context: UnionContext) -> dict[str, Any]:
    return user_draft(context, "hardship")


def _today(context: UnionContext) -> date:
    return today(context)


async def list_files(update: Update, context: UnionContext) -> None:
    """/hardship: families on file, next review first, with Review and Close buttons."""
    if update.callback_query is not None:
        await context.answer(update)
    if await require_committee(update, context) is None:
        return
    async with context.db() as session:
        files = await active_files(session, org_id=context.org_id)
        people = await members_by_id(session, [record.member_id for record in files])
    lines = [context.t("hardship.title", count=len(files))]
    rows: list[list[tuple[str, HardshipFileButton | HardshipNew]]] = []
    today = _today(context)
    for record in files[:30]:
        member = people.get(record.member_id)
        due = "⏰ " if record.review_on <= today else ""
        lines.append(
            context.t(
                "hardship.line",
                number=file_number(record),
                name=f"{member.real_name}（{member.department}）" if member else "-",
                level=context.t(f"hardship.level.{record.level}"),
                review=due + record.review_on.isoformat(),
            )
        )
        rows.append(
            [
                (
                    context.t("hardship.btn_review", number=file_number(record)),
                    HardshipFileButton("rev", record.id or 0),
                ),
                (
                    context.t("hardship.btn_close", number=file_number(record)),
                    HardshipFileButton("close", record.id or 0),
                ),
            ]
        )
    if not files:
        lines.append(context.t("hardship.none"))
    rows.append([(context.t("hardship.btn_new"), HardshipNew())])
    await say(update, context, "\n".join(lines), keyboard(*rows))


async def reviewed(update: Update, context: UnionContext) -> None:
    """复核 pressed: still in need; the next review is a year from today."""
    actor = context.actor
    if actor is None or not actor.is_committee:
        await context.answer(update, context.t("desk.not_committee"), alert=True)
        return
    file_id = context.button_as(HardshipFileButton).file_id
    try:
        async with context.db() as session:
            record = await review_file(
                session, org_id=context.org_id, file_id=file_id, actor=actor, today=_today(context)
            )
    except DomainError as error:
        await refuse(update, context, error)
        return
    await context.answer(
        update,
        context.t(
            "hardship.reviewed", number=file_number(record), date=record.review_on.isoformat()
        ),
    )


async def start_new(update: Update, context: UnionContext) -> int:
    """建档 pressed: whose family?"""
    if update.callback_query is not None:
        await context.answer(update)
    if await require_committee(update, context) is None:
        return _END
    _draft(context).clear()
    await say(update, context, context.t("hardship.write_name"))
    return FileSteps.NAME


async def got_name(update: Update, context: UnionContext) -> int:
    """A name: matching members as buttons."""
    text = await typed_text(update, context, limit=20)
    if text is None:
        return FileSteps.NAME
    markup = await member_buttons(context, text, HardshipMember)
    if markup is None:
        await say(update, context, context.t("aid.colleague_none"))
        return FileSteps.NAME
    await say(update, context, context.t("aid.colleague_pick"), markup)
    return FileSteps.NAME


async def got_member(update: Update, context: UnionContext) -> int:
    """The member chosen: how hard are things?"""
    member_id = context.button_as(HardshipMember).member_id
    await context.answer(update)
    _draft(context)["member"] = member_id
    rows = [
        [(context.t(f"hardship.level.{level}"), HardshipLevelChoice(level))]
        for level in HardshipLevel
    ]
    await say(update, context, context.t("hardship.choose_level"), keyboard(*rows))
    return FileSteps.LEVEL


async def got_level(update: Update, context: UnionContext) -> int:
    """The level; then the reason."""
    level = context.button_as(HardshipLevelChoice).level
    await context.answer(update)
    _draft(context)["level"] = level.value
    await say(update, context, context.t("hardship.write_reason", limit=REASON_LIMIT))
    return FileSteps.REASON


async def got_reason(update: Update, context: UnionContext) -> int:
    """The reason: the family is on file, reviewed a year from today."""
    actor = await require_committee(update, context)
    if actor is None:
        return _END
    assert update.message is not None
    draft = _draft(context)
    if "member" not in draft or "level" not in draft:
        await say(update, context, context.t("aid.draft_lost"))
        return _END
    try:
        async with context.db() as session:
            record = await open_file(
                session,
                org_id=context.org_id,
                actor=actor,
                member_id=int(draft["member"]),
                level=HardshipLevel(draft["level"]),
                reason=update.message.text or "",
                today=_today(context),
            )
    except DomainError as error:
        await refuse(update, context, error)
        if isinstance(error, InputError):
            return FileSteps.REASON
        draft.clear()
        return _END
    draft.clear()
    logger.info("Hardship file %s opened by member %s", record.id, actor.id)
    await say(
        update,
        context,
        context.t("hardship.opened", number=file_number(record), date=record.review_on.isoformat()),
    )
    return _END


async def start_close(update: Update, context: UnionContext) -> int:
    """撤档 pressed: why?"""
    file_id = context.button_as(HardshipFileButton).file_id
    await context.answer(update)
    if await require_committee(update, context) is None:
        return _END
    _draft(context)["closing"] = file_id
    await say(update, context, context.t("hardship.write_closing", limit=REASON_LIMIT))
    return FileSteps.CLOSING


async def got_closing(update: Update, context: UnionContext) -> int:
    """The reason for closing: the file is closed and kept."""
    actor = await require_committee(update, context)
    if actor is None:
        return _END
    assert update.message is not None
    draft = _draft(context)
    try:
        async with context.db() as session:
            record = await close_file(
                session,
                org_id=context.org_id,
                file_id=int(draft.get("closing", 0)),
                actor=actor,
                reason=update.message.text or "",
            )
    except DomainError as error:
        await refuse(update, context, error)
        if isinstance(error, InputError):
            return FileSteps.CLOSING
        draft.clear()
        return _END
    draft.clear()
    logger.info("Hardship file %s closed by member %s", record.id, actor.id)
    await say(update, context, context.t("hardship.closed", number=file_number(record)))
    return _END


async def cancel(update: Update, context: UnionContext) -> int:
    """/cancel."""
    _draft(context).clear()
    await say(update, context, context.t("aid.cancelled"))
    return _END


def register(application: Application) -> None:
    """Add /hardship."""
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("hardship", list_files, filters=private))
    application.add_handler(ButtonHandler(HardshipFileButton, reviewed, "rev"))


def forms() -> list[Form]:
    """The forms of this feature (run by the form engine, one active per person)."""
    return [
        Form(
            conversation(
                name="hardship_files",
                entry_points=[
                    ButtonHandler(HardshipNew, start_new),
                    ButtonHandler(HardshipFileButton, start_close, "close"),
                ],
                states={
                    FileSteps.NAME: [
                        ButtonHandler(HardshipMember, got_member),
                        *text_step(got_name),
                    ],
                    FileSteps.LEVEL: family_step(got_level, HardshipLevelChoice),
                    FileSteps.REASON: text_step(got_reason),
                    FileSteps.CLOSING: text_step(got_closing),
                },
                fallbacks=[CommandHandler("cancel", cancel)],
                allow_reentry=True,
            ),
            label_key="form.label.hardship_files",
            drafts=("hardship",),
            committee=True,
        ),
    ]
