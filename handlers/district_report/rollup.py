"""/district: the roll-up of a period for the district union's staff, in their private chat.

The period is chosen as for /report (the same parser and the same choice of periods, with
this feature's own buttons). The answer is the short summary, then the workbook and the
charts. Whether the person is district staff is read from the database at the command, at
the press and again just before the files leave (`models.district.is_district_staff`).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from telegram import InputFile, Update
from telegram.ext import Application, CommandHandler, filters

from bot.buttons import ButtonHandler
from bot.context import UnionContext
from bot.i18n import Translator
from handlers.aid.desk import now
from handlers.common import keyboard, say
from handlers.district_report.buttons import DistrictPick
from handlers.reports.periods import choices, parse_period, period_of, typed_period
from models.district import is_district_staff, schools_of
from models.errors import DomainError
from models.members import load_actor
from models.organizations import Organization, get_organization
from models.reports.district import DistrictRollup, district_rollup
from models.reports.district_files import rollup_charts, rollup_text, rollup_workbook
from models.reports.period import ReportPeriod, likely_period
from models.reports.report_text import period_name

logger = logging.getLogger(__name__)


def _terms(context: UnionContext) -> tuple[str, str]:
    return context.settings.term1_start, context.settings.term2_start


async def _district_of_staff(context: UnionContext, user_id: int) -> Organization | None:
    """The district, if the person is its staff as the database holds them now."""
    async with context.db() as session:
        org = await get_organization(session, context.org_id)
        actor = await load_actor(session, org_id=context.org_id, telegram_user_id=user_id)
    return org if is_district_staff(actor, org) else None


async def _refuse(update: Update, context: UnionContext) -> None:
    """Who may see the roll-up, and what this person can use instead."""
    actor = context.actor
    school_committee = actor is not None and actor.is_active and actor.is_committee
    key = "rollup.not_staff_committee" if school_committee else "rollup.not_staff"
    if update.callback_query is not None:
        await context.answer(update, context.t(key), alert=True)
    else:
        await say(update, context, context.t(key))


async def _staff_district(update: Update, context: UnionContext) -> Organization | None:
    user = update.effective_user
    district = None if user is None else await _district_of_staff(context, user.id)
    if district is None:
        await _refuse(update, context)
    return district


async def district_command(update: Update, context: UnionContext) -> None:
    """/district [period]: the roll-up, or buttons for the periods around today."""
    district = await _staff_district(update, context)
    if district is None:
        return
    text = " ".join(context.args or [])
    if not text:
        today = now(context).astimezone(context.settings.zone).date()
        rows = [
            [(context.t(label), DistrictPick.of(button)) for label, button in row]
            for row in choices(today, terms=_terms(context))
        ]
        await say(update, context, context.t("rollup.choose"), keyboard(*rows))
        return
    terms = _terms(context)
    try:
        period = parse_period(text, term1_start=terms[0], term2_start=terms[1])
    except DomainError as error:
        await say(update, context, context.t(error.key, **error.params))
        return
    await _answer(update, context, district, period)


async def pick_period(update: Update, context: UnionContext) -> None:
    """本年 / 去年 / 本学期 / 上学期 / 上月 / 本月 pressed under /district."""
    district = await _staff_district(update, context)
    if district is None:
        return
    pick = context.button_as(DistrictPick)
    try:
        period = period_of(pick.kind, pick.year, pick.number, terms=_terms(context))
    except DomainError as error:
        await context.answer(update, context.t(error.key, **error.params), alert=True)
        return
    await context.answer(update, context.t("rollup.preparing"))
    await _answer(update, context, district, period)


async def _rollup(
    context: UnionContext, district: Organization, period: ReportPeriod
) -> DistrictRollup:
    async with context.db() as session:
        schools = await schools_of(session, district_id=district.id or 0)
        return await district_rollup(
            session,
            district=district.name,
            schools=schools,
            period=period,
            zone=context.settings.zone,
            answer_days=context.settings.suggestion_answer_days,
        )


def _files(
    tr: Translator, rollup: DistrictRollup, made: datetime
) -> tuple[bytes, list[tuple[str, str, bytes]]]:
    """The workbook and the charts (name, title, png): CPU work for a worker thread."""
    book = rollup_workbook(tr, rollup, made=made)
    return book, [(chart.name, chart.title, chart.png) for chart in rollup_charts(tr, rollup)]


async def _answer(
    update: Update, context: UnionContext, district: Organization, period: ReportPeriod
) -> None:
    """The summary, then the workbook and the charts, to the person's private chat."""
    tr = context.tr
    today = now(context).astimezone(context.settings.zone).date()
    terms = _terms(context)
    meant = likely_period(period, today, term1_start=terms[0], term2_start=terms[1])
    if meant is not None:  # no figures yet: today's numbers would pass as that period's
        await say(
            update,
            context,
            tr(
                "rollup.future",
                period=period_name(tr, period),
                example=period_name(tr, meant),
                typed=typed_period(meant),
            ),
        )
        return
    rollup = await _rollup(context, district, period)
    made = now(context).astimezone(context.settings.zone).replace(tzinfo=None)
    try:
        book, charts = await asyncio.to_thread(_files, tr, rollup, made)
    except Exception as error:  # a bad file must not look like silence
        logger.error(  # noqa: TRY400 - the type only; a traceback could carry school names
            "District roll-up %s could not be built: %s", period.key, type(error).__name__
        )
        await say(update, context, tr("rollup.build_failed"))
        return
    user = update.effective_user
    assert user is not None
    if await _district_of_staff(context, user.id) is None:  # lost the office meanwhile
        await say(update, context, tr("rollup.no_longer_allowed"))
        return
    await say(update, context, rollup_text(tr, rollup))
    name = period_name(tr, period)
    await context.bot.send_document(
        user.id,
        InputFile(book, filename=f"district-{period.key}.xlsx"),
        caption=tr("rollup.caption_book", district=rollup.district, period=name),
    )
    for chart_name, title, png in charts:
        upload = InputFile(png, filename=f"district-{period.key}-{chart_name}.png")
        await context.bot.send_photo(user.id, upload, caption=title)
    logger.info("District roll-up %s sent to district staff", period.key)


def register(application: Application) -> None:
    """/district (private chats only) and its period buttons."""
    application.add_handler(
        CommandHandler("district", district_command, filters=filters.ChatType.PRIVATE)
    )
    application.add_handler(ButtonHandler(DistrictPick, pick_period))
