"""The results in the committee group: the chart and the workbook on a press, and publishing
as a 公示 notice (`publish_results`): posted to the disclosure channel with its 提出异议 link and
sent to the ballot's electorate, with the default period of working days; objections reach the
committee like those to any notice, and the notice is kept in /notices."""

from __future__ import annotations

import asyncio
import logging

from telegram import InputFile, Update
from telegram.ext import Application

from bot.buttons import ButtonHandler
from bot.context import UnionContext
from handlers.ballots.buttons import BallotResults
from handlers.notices.publishing import Published, publish_generated
from models.ballot_exports import chart_png, results_xlsx
from models.ballot_text import results_text
from models.ballots import Tally, elector_ids, get_ballot, mark_published, tally
from models.errors import DomainError
from models.notice_text import day_words
from models.notices import Notice, NoticeKind
from models.organizations import get_organization

logger = logging.getLogger(__name__)


async def _counted(update: Update, context: UnionContext) -> Tally | None:
    """The closed ballot's count, for committee members only."""
    actor = context.actor
    if actor is None or not actor.is_committee:
        await context.answer(update, context.t("desk.not_committee"), alert=True)
        return None
    ballot_id = context.button_as(BallotResults).ballot_id
    try:
        async with context.db() as session:
            await get_ballot(session, org_id=context.org_id, ballot_id=ballot_id)
            return await tally(
                session, ballot_id=ballot_id, min_group=context.settings.ballot_min_group
            )
    except DomainError as error:
        await context.answer(update, context.t(error.key), alert=True)
        return None


def _chat_id(update: Update) -> int:
    assert update.effective_chat is not None
    return update.effective_chat.id


async def send_chart(update: Update, context: UnionContext) -> None:
    """The bar chart (drawn in a worker thread)."""
    counted = await _counted(update, context)
    if counted is None:
        return
    if counted.withheld:
        text = context.t("ballot.results_withheld", minimum=counted.min_group)
        await context.answer(update, text, alert=True)
        return
    await context.answer(update)
    png = await asyncio.to_thread(chart_png, context.tr, counted)
    await context.bot.send_photo(
        _chat_id(update), InputFile(png, filename=f"ballot-{counted.ballot.id}.png")
    )


async def send_sheet(update: Update, context: UnionContext) -> None:
    """The xlsx workbook."""
    counted = await _counted(update, context)
    if counted is None:
        return
    await context.answer(update)
    data = await asyncio.to_thread(results_xlsx, context.tr, counted)
    await context.bot.send_document(
        _chat_id(update), InputFile(data, filename=f"ballot-{counted.ballot.id}.xlsx")
    )


async def publish(update: Update, context: UnionContext) -> None:
    """Publish the results as a 公示 notice, once."""
    counted = await _counted(update, context)
    if counted is None:
        return
    async with context.db() as session:
        org = await get_organization(session, context.org_id)
    if org.disclosure_chat_id is None:
        await context.answer(update, context.t("ballot.no_channel"), alert=True)
        return
    async with context.db() as session:
        first = await mark_published(session, ballot_id=counted.ballot.id or 0)
    if not first:
        await context.answer(update, context.t("ballot.already_published"), alert=True)
        return
    actor = context.actor
    notice, published = await publish_results(
        context, counted, created_by=actor.id if actor else None
    )
    key = "ballot.published" if published.posted else "ballot.publish_failed"
    end = day_words(context.tr, notice.ends_on)
    text = context.t(key, number=notice.number, count=published.members, end=end)
    await context.answer(update, text, alert=True)


async def publish_results(
    context: UnionContext, counted: Tally, *, created_by: int | None
) -> tuple[Notice, Published]:
    """Publish a closed ballot's results as a 公示 notice: to the disclosure channel (with the
    提出异议 link) and to every member of its electorate through the outbox."""
    ballot = counted.ballot
    tr = context.i18n.get(context.settings.default_language)
    async with context.db() as session:
        electorate = await elector_ids(session, ballot_id=ballot.id or 0)
    kind = tr(f"ballot.kind.{ballot.kind}")
    notice, published = await publish_generated(
        context,
        title=tr("ballot.notice_title", title=ballot.title, kind=kind),
        body=results_text(tr, counted, context.settings.zone, heading=False),
        kind=NoticeKind.BALLOT,
        member_ids=electorate,
        created_by=created_by,
    )
    logger.info("Ballot %s results published as notice %s: %s", ballot.id, notice.id, published)
    return notice, published


def register(application: Application) -> None:
    """The result buttons (in the committee group)."""
    for action, callback in (("png", send_chart), ("xlsx", send_sheet), ("pub", publish)):
        application.add_handler(ButtonHandler(BallotResults, callback, action))
