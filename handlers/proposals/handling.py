"""A session's handling results (办理结果): the spreadsheet of every proposal with its 落实情况,
and the list published to the disclosure channel on a committee press.

Publishing goes through one function, `publish_handling_results`: the list becomes a 公示 notice
(models.notices) with the default period of working days, posted to the disclosure channel with
its 提出异议 link and sent to the representatives (who filed the proposals and rated the
answers); objections reach the committee like those to any notice. Each press after the
question publishes a new notice (the results may be published again later in the year).
"""

from __future__ import annotations

import io
import logging

from telegram import InputFile, Update
from telegram.error import TelegramError

from bot.context import UnionContext
from bot.i18n import Translator
from handlers.common import confirm_or_cancel, say
from handlers.notices.publishing import Published, publish_generated
from handlers.proposals.buttons import CongressExport, CongressPublish
from handlers.proposals.desk import committee_tr
from handlers.review_desk import committee_press
from models.calendar import AudienceType
from models.errors import DomainError
from models.exports import append_row
from models.members_queries import members_by_id
from models.notice_text import day_words
from models.notices import Notice, NoticeKind
from models.organizations import get_organization
from models.proposal_queries import HandlingRow, get_session, handling_rows
from models.proposal_text import (
    implementation_words,
    label,
    status_name,
)
from models.proposals import ANSWERED_STATUSES, CongressSession, ProposalStatus, session_figures

logger = logging.getLogger(__name__)

# The proposals whose handling is published: filed ones (the others were never handled).
_HANDLED = (
    ProposalStatus.FILED,
    ProposalStatus.ASSIGNED,
    ProposalStatus.ANSWERED,
    ProposalStatus.CLOSED,
)
COLUMNS = (
    "number",
    "title",
    "category",
    "proposer",
    "status",
    "lead",
    "co",
    "implementation",
    "reason",
    "rating",
)


async def _pressed_session(
    update: Update, context: UnionContext, session_id: int
) -> CongressSession | None:
    """The session behind a committee press, or None after refusing it."""
    if await committee_press(update, context) is None:
        return None
    try:
        async with context.db() as session:
            return await get_session(session, org_id=context.org_id, session_id=session_id)
    except DomainError:
        await context.answer(update, context.t("desk.item_not_found"), alert=True)
        return None


# ---- the spreadsheet ---------------------------------------------------------------------


async def export_session(update: Update, context: UnionContext) -> None:
    """导出: the session's numbered proposals with their handling and 落实情况 (xlsx)."""
    congress = await _pressed_session(update, context, context.button_as(CongressExport).session_id)
    if congress is None:
        return
    await context.answer(update)
    tr = context.tr
    async with context.db() as session:
        rows = await handling_rows(session, session_id=congress.id or 0)
        people = await members_by_id(session, [row.proposal.proposer_member_id for row in rows])
    from openpyxl import Workbook  # imported by the first export, not at start

    book = Workbook()
    sheet = book.active
    sheet.title = tr("congress.sheet_proposals")
    append_row(sheet, [tr(f"congress.column.{column}") for column in COLUMNS])
    for row in rows:
        proposal = row.proposal
        proposer = people.get(proposal.proposer_member_id)
        append_row(
            sheet,
            [
                proposal.number,
                proposal.title,
                tr(f"proposal.category.{proposal.category}"),
                f"{proposer.real_name} · {proposer.department}" if proposer else "",
                status_name(tr, proposal),
                row.lead or "",
                "、".join(row.co),
                _implementation_cell(tr, row),
                proposal.implementation_reason or "",
                tr(f"proposal.rating.{row.verdict}") if row.verdict else "",
            ],
        )
    buffer = io.BytesIO()
    book.save(buffer)
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_document(
        chat.id, InputFile(buffer.getvalue(), filename=f"proposals-{congress.id}.xlsx")
    )


def _implementation_cell(tr: Translator, row: HandlingRow) -> str:
    """落实情况 of an answered proposal (未填写落实情况 when none); empty before an answer."""
    proposal = row.proposal
    if proposal.implementation is None:
        return tr("proposal.implementation.unknown") if proposal.status in ANSWERED_STATUSES else ""
    return tr(f"proposal.implementation.{proposal.implementation}")


# ---- publishing --------------------------------------------------------------------------


async def publish_handling_results(
    context: UnionContext, *, title: str, text: str, created_by: int
) -> tuple[Notice, Published] | None:
    """Publish the handling results as a 公示 notice (None: no channel is bound)."""
    async with context.db() as session:
        org = await get_organization(session, context.org_id)
    if org.disclosure_chat_id is None:
        return None
    return await publish_generated(
        context,
        title=title.removeprefix("📋").strip(),
        body=text,
        kind=NoticeKind.PROPOSALS,
        audience=AudienceType.REPRESENTATIVES,
        created_by=created_by,
    )


async def handling_results(context: UnionContext, congress: CongressSession) -> tuple[str, str]:
    """The title and text of the handling results, in the union's language: each filed
    proposal's number, title, lead department and 落实情况, with 落实率 above."""
    tr = committee_tr(context)
    async with context.db() as session:
        rows = await handling_rows(session, session_id=congress.id or 0)
        figures = await session_figures(session, session_id=congress.id or 0)
    rate = figures.implementation_rate
    lines = [
        tr(
            "congress.results_summary",
            filed=figures.filed,
            answered=figures.answered,
            rate=tr("congress.no_rate") if rate is None else f"{rate:g}%",
        )
    ]
    if figures.unknown:
        lines.append(tr("congress.implementation_unknown", count=figures.unknown))
    lines.append("")
    for row in rows:
        proposal = row.proposal
        if proposal.status not in _HANDLED:
            continue
        # The status only: the reason of 暂不能落实 is for the proposer and the committee, it may
        # name people, and this text goes to the public channel.
        outcome = implementation_words(
            tr, proposal.status, proposal.implementation, None
        ) or status_name(tr, proposal)
        lines.append(
            tr(
                "congress.results_line",
                label=label(tr, proposal),
                department=row.lead or tr("congress.results_no_department"),
                outcome=outcome,
            )
        )
    return tr("congress.results_title", name=congress.name), "\n".join(lines)


async def publish_pressed(update: Update, context: UnionContext) -> None:
    """公示办理结果: asked once (it is public), then posted to the disclosure channel."""
    button = context.button_as(CongressPublish)
    congress = await _pressed_session(update, context, button.session_id)
    if congress is None:
        return
    actor = context.actor
    assert actor is not None
    if button.step == "no":
        await context.answer(update)
        await _settle(update, context, context.t("congress.publish_cancelled"))
        return
    if button.step == "ask":
        async with context.db() as session:
            org = await get_organization(session, context.org_id)
        if org.disclosure_chat_id is None:
            await context.answer(update, context.t("suggestion.no_channel"), alert=True)
            return
        await context.answer(update)
        title, text = await handling_results(context, congress)
        await say(
            update,
            context,
            context.t("congress.publish_question") + f"\n\n{title}\n\n{text}"[:3500],
            confirm_or_cancel(
                context,
                CongressPublish(congress.id or 0, "yes"),
                CongressPublish(congress.id or 0, "no"),
                confirm_key="congress.btn_publish_confirm",
            ),
        )
        return
    title, text = await handling_results(context, congress)
    try:
        done = await publish_handling_results(context, title=title, text=text, created_by=actor.id)
    except DomainError as error:
        await context.answer(update, context.t(error.key, **error.params), alert=True)
        return
    if done is None:
        await context.answer(update, context.t("suggestion.no_channel"), alert=True)
        return
    notice, published = done
    if not published.posted:
        logger.warning("Handling results of session %s could not be posted", congress.id)
    logger.info("Handling results of session %s published by member %s", congress.id, actor.id)
    await context.answer(update, context.t("proposal.done_toast"))
    key = "congress.published" if published.posted else "congress.published_channel_failed"
    end = day_words(context.tr, notice.ends_on)
    await _settle(
        update,
        context,
        context.t(key, name=congress.name, number=notice.number, end=end, count=published.members),
    )


async def _settle(update: Update, context: UnionContext, text: str) -> None:
    """Replace the question (and its buttons) by what came of it."""
    query = update.callback_query
    if query is None or query.message is None:
        return
    try:
        await context.bot.edit_message_text(
            text, chat_id=query.message.chat.id, message_id=query.message.message_id
        )
    except TelegramError:
        logger.info("The publishing question %s could not be edited", query.data)
