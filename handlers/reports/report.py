"""/report: a year's, a term's or a month's figures in one message, and under it the charts,
the 台账 workbook and the draft 工作总结 as files.

The figures are counts and sums only, so they may be shown in the committee group. The files
hold names and money: they go only to the private chat of whoever pressed, and only if that
person may read the books (`Actor.may_read_books`) at the press and again at delivery.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ChatType
from telegram.error import Forbidden
from telegram.ext import Application, CommandHandler

from bot.buttons import ButtonHandler
from bot.context import UnionContext
from bot.i18n import Translator
from handlers.aid.desk import now
from handlers.common import deep_link, keyboard, say
from handlers.reports.buttons import ReportFile, ReportPick
from handlers.reports.periods import choices, code_of, parse_period, period_of, typed_period
from models.errors import DomainError
from models.members import Actor, load_actor
from models.organizations import get_organization
from models.reports.charts import report_charts
from models.reports.figures import ReportFigures
from models.reports.period import ReportPeriod, likely_period
from models.reports.queries import gather
from models.reports.report_text import figures_text, period_name
from models.reports.summary import summary_docx
from models.reports.workbook import books_workbook

logger = logging.getLogger(__name__)


class _NoLongerReaderError(Exception):
    """The presser lost the role that reads the books before the files left."""


class _BuildFailedError(Exception):
    """A file could not be made (a bug, or a text no file format may hold)."""


def _terms(context: UnionContext) -> tuple[str, str]:
    return context.settings.term1_start, context.settings.term2_start


def _in_group(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)


async def _allowed_here(update: Update, context: UnionContext) -> bool:
    """A book reader, in private or in the bound committee group; else say who may."""
    actor = context.actor
    if actor is None or not actor.is_active or not actor.may_read_books:
        if update.callback_query is not None:
            await context.answer(update, context.t("report.not_allowed"), alert=True)
        else:
            await say(update, context, context.t("report.not_allowed"))
        return False
    if _in_group(update):
        async with context.db() as session:
            org = await get_organization(session, context.org_id)
        chat = update.effective_chat
        if chat is None or chat.id != org.committee_chat_id:
            if update.callback_query is not None:
                await context.answer(update, context.t("report.group_not_committee"), alert=True)
            else:
                await say(update, context, context.t("report.group_not_committee"))
            return False
    return True


async def figures_for(context: UnionContext, period: ReportPeriod, tr: Translator) -> ReportFigures:
    """The period's figures, with the organization's name in the reader's language."""
    async with context.db() as session:
        return await gather(
            session,
            org_id=context.org_id,
            period=period,
            zone=context.settings.zone,
            organization=await context.org_name(tr.language),
            answer_days=context.settings.suggestion_answer_days,
        )


def _file_buttons(context: UnionContext, period: ReportPeriod) -> InlineKeyboardMarkup:
    fields = code_of(period)
    return keyboard(
        [
            (context.t("report.button.charts"), ReportFile("charts", *fields)),
            (context.t("report.button.books"), ReportFile("books", *fields)),
            (context.t("report.button.summary"), ReportFile("summary", *fields)),
        ]
    )


async def _show(update: Update, context: UnionContext, period: ReportPeriod) -> None:
    today = now(context).astimezone(context.settings.zone).date()
    terms = _terms(context)
    meant = likely_period(period, today, term1_start=terms[0], term2_start=terms[1])
    if meant is not None:  # no figures yet: today's numbers would pass as that period's
        tr = context.tr
        await say(
            update,
            context,
            tr(
                "report.future",
                period=period_name(tr, period),
                example=period_name(tr, meant),
                typed=typed_period(meant),
            ),
        )
        return
    figures = await figures_for(context, period, context.tr)
    await say(update, context, figures_text(context.tr, figures), _file_buttons(context, period))


async def report_command(update: Update, context: UnionContext) -> None:
    """/report [period]: the period's figures, or buttons for the periods around today."""
    if not await _allowed_here(update, context):
        return
    text = " ".join(context.args or [])
    if not text:
        today = now(context).astimezone(context.settings.zone).date()
        rows = [
            [(context.t(label), button) for label, button in row]
            for row in choices(today, terms=_terms(context))
        ]
        await say(update, context, context.t("report.choose"), keyboard(*rows))
        return
    try:
        period = parse_period(text, term1_start=_terms(context)[0], term2_start=_terms(context)[1])
    except DomainError as error:
        await say(update, context, context.t(error.key, **error.params))
        return
    await _show(update, context, period)


async def pick_period(update: Update, context: UnionContext) -> None:
    """本年 / 去年 / 本学期 / 上学期 / 上月 / 本月 pressed."""
    if not await _allowed_here(update, context):
        return
    pick = context.button_as(ReportPick)
    try:
        period = period_of(pick.kind, pick.year, pick.number, terms=_terms(context))
    except DomainError as error:
        await context.answer(update, context.t(error.key, **error.params), alert=True)
        return
    await context.answer(update)
    await _show(update, context, period)


async def _still_reader(context: UnionContext, user_id: int) -> Actor | None:
    """The presser as the database holds them now, if they may still read the books."""
    async with context.db() as session:
        actor = await load_actor(session, org_id=context.org_id, telegram_user_id=user_id)
    if actor is None or not actor.is_active or not actor.may_read_books:
        return None
    return actor


@dataclass(frozen=True)
class _File:
    """One file to send: a photo (a chart) or a document."""

    photo: bool
    name: str
    data: bytes
    caption: str


async def _files(
    context: UnionContext, what: str, period: ReportPeriod, tr: Translator
) -> list[_File]:
    """The workbook, the charts or the summary of a period (CPU work off the event loop)."""
    name = period_name(tr, period)
    org = await context.org_name(tr.language)
    if what == "books":
        async with context.db() as session:
            data = await books_workbook(
                session,
                org_id=context.org_id,
                period=period,
                tr=tr,
                zone=context.settings.zone,
                organization=org,
            )
        caption = tr("report.caption.books", org=org, period=name)
        return [_File(False, f"books-{period.key}.xlsx", data, caption)]
    figures = await figures_for(context, period, tr)
    charts = await asyncio.to_thread(report_charts, figures, tr)
    if what == "charts":
        return [
            _File(True, f"chart-{period.key}-{chart.name}.png", chart.png, chart.title)
            for chart in charts
        ]
    data = await asyncio.to_thread(summary_docx, figures, charts, tr)
    caption = tr("report.caption.summary", org=org, period=name)
    return [_File(False, f"summary-{period.key}.docx", data, caption)]


async def _deliver(
    context: UnionContext, user_id: int, what: str, period: ReportPeriod, tr: Translator
) -> None:
    """Build the files and send them to the presser's private chat, if they may still read
    the books now (else `_NoLongerReaderError`; Telegram's Forbidden propagates)."""
    try:
        files = await _files(context, what, period, tr)
    except Exception as error:  # a bad file must not look like silence to the presser
        raise _BuildFailedError(type(error).__name__) from error
    if await _still_reader(context, user_id) is None:
        raise _NoLongerReaderError
    for file in files:
        upload = InputFile(file.data, filename=file.name)
        if file.photo:
            await context.bot.send_photo(user_id, upload, caption=file.caption)
        else:
            await context.bot.send_document(user_id, upload, caption=file.caption)


async def send_file(update: Update, context: UnionContext) -> None:
    """📊 图表 / 📒 台账 / 📝 工作总结: the files, privately, to a book reader only."""
    if not await _allowed_here(update, context):
        return
    pressed = context.button_as(ReportFile)
    user = update.effective_user
    assert user is not None
    try:
        period = period_of(pressed.kind, pressed.year, pressed.number, terms=_terms(context))
    except DomainError as error:
        await context.answer(update, context.t(error.key, **error.params), alert=True)
        return
    await context.answer(update, context.t("report.preparing"))
    what = context.t(f"report.file.{pressed.what}")
    try:
        await _deliver(context, user.id, pressed.what, period, context.tr)
    except _NoLongerReaderError:
        await say(update, context, context.t("report.no_longer_allowed"))
        return
    except _BuildFailedError as error:  # the type only: the texts may hold names and aid
        logger.error(  # noqa: TRY400 - a traceback could carry names from the texts
            "Report %s %s could not be built: %s", pressed.what, period.key, error
        )
        await say(update, context, context.t("report.build_failed", what=what))
        return
    except Forbidden:
        link = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        context.t("report.button.open_private"), url=deep_link(context)
                    )
                ]
            ]
        )
        await say(update, context, context.t("report.cannot_write"), link)
        return
    logger.info("Report %s %s sent privately to a book reader", pressed.what, period.key)
    if _in_group(update):
        await say(update, context, context.t("report.sent_privately", what=what))


def register(application: Application) -> None:
    """/report (private and the committee group) and its buttons."""
    application.add_handler(CommandHandler("report", report_command))
    application.add_handler(ButtonHandler(ReportPick, pick_period))
    application.add_handler(ButtonHandler(ReportFile, send_file))
