"""The results in the committee group: the chart and the workbook on a press, and publishing
to the disclosure channel (one small function, `publish_results`, so the 公示 notices can take
it over later)."""

from __future__ import annotations

import asyncio
import logging

from telegram import InputFile, Update
from telegram.ext import Application

from bot.buttons import ButtonHandler
from bot.context import UnionContext
from handlers.ballots.buttons import BallotResults
from models.ballot_exports import chart_png, results_xlsx
from models.ballot_text import chunks, results_text
from models.ballots import Ballot, Tally, get_ballot, mark_published, tally
from models.errors import DomainError
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
    """Post the results to the disclosure channel, once."""
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
    tr = context.i18n.get(context.settings.default_language)
    await publish_results(
        context,
        org.disclosure_chat_id,
        counted.ballot,
        results_text(tr, counted, context.settings.zone),
    )
    await context.answer(update, context.t("ballot.published"), alert=True)


async def publish_results(context: UnionContext, chat_id: int, ballot: Ballot, text: str) -> bool:
    """Put a ballot's results on the disclosure channel (a plain post for now; the 公示 notices
    with an objection period can take this over)."""
    who = f"disclosure channel (ballot {ballot.id})"
    sent = True
    for part in chunks(text):
        sent = await context.notifier.tell_chat(chat_id, part, who=who) and sent
    logger.info("Ballot %s results published: %s", ballot.id, sent)
    return sent


def register(application: Application) -> None:
    """The result buttons (in the committee group)."""
    for action, callback in (("png", send_chart), ("xlsx", send_sheet), ("pub", publish)):
        application.add_handler(ButtonHandler(BallotResults, callback, action))
