"""/notice for the committee: a title, the text or a file, the period (5 working days unless
changed), who it concerns, a preview with ✏️ 修改某项, and publishing."""

from __future__ import annotations

import logging
import re
from datetime import date, timedelta
from enum import IntEnum
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.buttons import ButtonHandler
from bot.context import UnionContext
from bot.forms import Form
from handlers.broadcast.compose import CHOICES
from handlers.common import (
    EditableField,
    PreviewEdits,
    conversation,
    family_step,
    keyboard,
    refuse,
    require_committee,
    say,
    text_step,
    typed_text,
    user_draft,
)
from handlers.menu.buttons import MenuButton
from handlers.notices.buttons import NoticeAudience, NoticeConfirm, NoticePeriod
from handlers.notices.publishing import publish
from models import written
from models.errors import DomainError
from models.notice_text import day_words
from models.notices import BODY_LIMIT, TITLE_LIMIT, FileKind, open_notice
from models.organizations import get_organization
from models.workdays import (
    DEFAULT_WORKING_DAYS,
    MAX_WORKING_DAYS,
    add_working_days,
    next_working_day,
    working_days_between,
)

logger = logging.getLogger(__name__)

_END = ConversationHandler.END
_DRAFT = "notice"
_MAX_END_DAYS = 90  # a typed end date at most this many days ahead


def _draft(context: UnionContext) -> dict[str, Any]:
    return user_draft(context, _DRAFT)


class Step(IntEnum):
    """Steps of writing a notice."""

    TITLE = 1
    BODY = 2
    PERIOD = 3
    AUDIENCE = 4
    CONFIRM = 5


async def start(update: Update, context: UnionContext) -> int:
    """/notice: the title first."""
    if update.callback_query is not None:
        await context.answer(update)
    if await require_committee(update, context) is None:
        return _END
    _draft(context).clear()
    return await ask_title(update, context)


async def ask_title(update: Update, context: UnionContext) -> int:
    """The title's question."""
    await say(update, context, context.t("notice.ask_title", limit=TITLE_LIMIT))
    return Step.TITLE


async def got_title(update: Update, context: UnionContext) -> int:
    """The title."""
    title = await typed_text(update, context, limit=TITLE_LIMIT, needs_words=True)
    if title is None:
        return Step.TITLE
    _draft(context)["title"] = title
    return await edits.then(update, context, ask_body)


async def ask_body(update: Update, context: UnionContext) -> int:
    """The text's question (or a file)."""
    await say(update, context, context.t("notice.ask_body", limit=BODY_LIMIT))
    return Step.BODY


async def got_body(update: Update, context: UnionContext) -> int:
    """The text of the notice."""
    body = await typed_text(update, context, limit=BODY_LIMIT, multiline=True, needs_words=True)
    if body is None:
        return Step.BODY
    draft = _draft(context)
    draft.update(body=body, file_id=None, file_kind=None)
    return await edits.then(update, context, ask_period)


async def got_file(update: Update, context: UnionContext) -> int:
    """A document or a photo (its caption, if any, is the text)."""
    message = update.message
    assert message is not None
    if message.document is not None:
        file_id, kind = message.document.file_id, FileKind.DOCUMENT
    elif message.photo:
        file_id, kind = message.photo[-1].file_id, FileKind.PHOTO
    else:
        await say(update, context, context.t("notice.body_kind"))
        return Step.BODY
    caption = (message.caption or "").strip()[:BODY_LIMIT]
    _draft(context).update(body=caption, file_id=file_id, file_kind=kind.value)
    return await edits.then(update, context, ask_period)


async def other_body(update: Update, context: UnionContext) -> int:
    """A sticker, voice or video where the text or a file is expected."""
    await say(update, context, context.t("notice.body_kind"))
    return Step.BODY


def _default_period(today: date) -> tuple[date, date]:
    return next_working_day(today), add_working_days(today, DEFAULT_WORKING_DAYS)


async def ask_period(update: Update, context: UnionContext) -> int:
    """The period's question, with the default as a button."""
    _start_day, end_day = _default_period(context.today())
    button = context.t(
        "notice.period_default", days=DEFAULT_WORKING_DAYS, end=day_words(context.tr, end_day)
    )
    await say(
        update,
        context,
        context.t("notice.ask_period", days=DEFAULT_WORKING_DAYS, most=MAX_WORKING_DAYS),
        keyboard([(button, NoticePeriod("default"))]),
    )
    return Step.PERIOD


async def period_default(update: Update, context: UnionContext) -> int:
    """The default period pressed."""
    await context.answer(update)
    start_day, end_day = _default_period(context.today())
    _draft(context).update(starts_on=start_day.isoformat(), ends_on=end_day.isoformat())
    return await edits.then(update, context, ask_audience)


# "7" or "7个工作日": working days; "7天" (or 7个自然日, 7 days): calendar days.
_DAYS = re.compile(
    r"^\s*(\S+?)\s*(?:个)?\s*(工作日|working\s*days?|天|自然日|(?:calendar\s*)?days?)?\s*$",
    re.I,
)
_WORKING = re.compile(r"工作日|working", re.I)


def _typed_days(text: str, today: date) -> tuple[date, date] | None:
    """The period of a typed number of days: working days unless 天 (calendar days) is said."""
    match = _DAYS.match(text)
    if match is None:
        return None
    if match[2] is None or _WORKING.match(match[2]):
        days = written.count(match[1], low=1, high=MAX_WORKING_DAYS)
        return None if days is None else (next_working_day(today), add_working_days(today, days))
    days = written.count(match[1], low=1, high=_MAX_END_DAYS)
    return None if days is None else (today + timedelta(days=1), today + timedelta(days=days))


async def got_period(update: Update, context: UnionContext) -> int:
    """A number of working days (or of calendar days, with 天), or the last day of the
    period typed as a date."""
    assert update.message is not None
    text = update.message.text or ""
    today = context.today()
    period = _typed_days(text, today)
    if period is not None:
        start_day, end_day = period
    else:
        typed = written.day(text, today=today, direction="future")
        if typed is None or typed <= today or (typed - today).days > _MAX_END_DAYS:
            await say(update, context, context.t("notice.period_unreadable", most=MAX_WORKING_DAYS))
            return Step.PERIOD
        start_day, end_day = min(next_working_day(today), typed), typed
    _draft(context).update(starts_on=start_day.isoformat(), ends_on=end_day.isoformat())
    return await edits.then(update, context, ask_audience)


async def ask_audience(update: Update, context: UnionContext) -> int:
    """Who the notice concerns."""
    rows = [
        [(context.t(f"calendar.audience.{choice}"), NoticeAudience(choice))] for choice in CHOICES
    ]
    await say(update, context, context.t("notice.ask_audience"), keyboard(*rows))
    return Step.AUDIENCE


async def got_audience(update: Update, context: UnionContext) -> int:
    """An audience button."""
    audience = context.button_as(NoticeAudience).audience
    if audience not in CHOICES:
        await context.answer(update, context.t("desk.stale_button"), alert=True)
        return Step.AUDIENCE
    await context.answer(update)
    _draft(context)["audience"] = audience.value
    return await edits.then(update, context, preview)


async def preview(update: Update, context: UnionContext) -> int:
    """The notice as it will be posted, and where it goes."""
    draft = _draft(context)
    start_day = date.fromisoformat(str(draft["starts_on"]))
    end_day = date.fromisoformat(str(draft["ends_on"]))
    async with context.db() as session:
        org = await get_organization(session, context.org_id)
    channel = "notice.preview_channel" if org.disclosure_chat_id else "notice.preview_no_channel"
    lines = [
        context.t("notice.preview_title"),
        context.t("notice.preview_name", title=draft["title"]),
        context.t(
            "notice.preview_period",
            start=day_words(context.tr, start_day),
            end=day_words(context.tr, end_day),
            days=working_days_between(start_day, end_day),
        ),
        context.t(
            "notice.preview_audience", audience=context.t(f"calendar.audience.{draft['audience']}")
        ),
        context.t(channel),
    ]
    if draft.get("file_id"):
        lines.append(context.t(f"notice.preview_file.{draft['file_kind']}"))
    if draft.get("body"):
        lines += ["", str(draft["body"])]
    await say(
        update,
        context,
        "\n".join(lines),
        edits.markup(context, NoticeConfirm("yes"), NoticeConfirm("no")),
    )
    return Step.CONFIRM


async def confirm(update: Update, context: UnionContext) -> int:
    """Publish: store the notice, post it and queue the copies."""
    choice = context.button_as(NoticeConfirm).choice
    await context.answer(update)
    draft = _draft(context)
    if choice != "yes" or "audience" not in draft:
        return await cancel(update, context)
    actor = await require_committee(update, context)
    if actor is None:
        return _END
    try:
        async with context.db() as session:
            notice = await open_notice(
                session,
                org_id=context.org_id,
                title=str(draft["title"]),
                body=str(draft.get("body") or ""),
                starts_on=date.fromisoformat(str(draft["starts_on"])),
                ends_on=date.fromisoformat(str(draft["ends_on"])),
                audience=str(draft["audience"]),
                file_id=draft.get("file_id"),
                file_kind=FileKind(draft["file_kind"]) if draft.get("file_kind") else None,
                created_by=actor.id,
                posted_on=context.today(),
            )
    except DomainError as error:
        draft.clear()
        await refuse(update, context, error)
        return _END
    draft.clear()
    published = await publish(context, notice)
    key = {
        True: "notice.published",
        False: "notice.published_channel_failed",
        None: "notice.published_no_channel",
    }[published.posted]
    await say(
        update,
        context,
        context.t(
            key,
            number=notice.number,
            count=published.members,
            end=day_words(context.tr, notice.ends_on),
        ),
    )
    return _END


async def cancel(update: Update, context: UnionContext) -> int:
    """/cancel (or Cancel) while writing a notice."""
    _draft(context).clear()
    await say(update, context, context.t("notice.cancelled"))
    return _END


edits = PreviewEdits(
    _DRAFT,
    [
        EditableField("notice.field.title", ask_title),
        EditableField("notice.field.body", ask_body),
        EditableField("notice.field.period", ask_period),
        EditableField("notice.field.audience", ask_audience),
    ],
    preview,
)


def register(application: Application) -> None:
    """Nothing outside the form."""


def form() -> Form:
    """The /notice form."""
    private = filters.ChatType.PRIVATE
    return Form(
        conversation(
            name="notice",
            entry_points=[
                CommandHandler("notice", start, filters=private),
                ButtonHandler(MenuButton, start, "notice"),
            ],
            states={
                Step.TITLE: text_step(got_title),
                Step.BODY: [
                    MessageHandler(filters.TEXT & ~filters.COMMAND, got_body),
                    MessageHandler(filters.Document.ALL | filters.PHOTO, got_file),
                    MessageHandler(~filters.COMMAND, other_body),
                ],
                Step.PERIOD: [
                    ButtonHandler(NoticePeriod, period_default),
                    *text_step(got_period),
                ],
                Step.AUDIENCE: family_step(got_audience, NoticeAudience),
                Step.CONFIRM: [ButtonHandler(NoticeConfirm, confirm), *edits.handlers()],
            },
            fallbacks=[CommandHandler("cancel", cancel)],
            allow_reentry=True,
        ),
        label_key="form.label.notice",
        drafts=(_DRAFT,),
        committee=True,
    )
