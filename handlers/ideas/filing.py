"""Rationalization proposals for members: /idea (subject, problem, proposal, benefit; a
preview with ✏️ 修改某项; a numbered receipt) and the section of /mine."""

from __future__ import annotations

import logging
import secrets
from datetime import date, datetime
from enum import IntEnum
from typing import Any

from telegram import Update
from telegram.ext import CommandHandler, ConversationHandler, filters

from bot.buttons import ButtonHandler
from bot.context import UnionContext
from bot.features import Section
from bot.forms import Form
from bot.i18n import Translator
from handlers.common import (
    EditableField,
    PreviewEdits,
    conversation,
    family_step,
    refuse,
    require_member,
    say,
    say_receipt,
    text_step,
    typed_text,
    user_draft,
)
from handlers.ideas.buttons import IdeaConfirm
from handlers.menu.buttons import MenuButton
from models.errors import DomainError
from models.ideas import (
    SUBJECT_LIMIT,
    TEXT_LIMIT,
    Idea,
    IdeaDraft,
    awarded_years,
    ideas_of_member,
    submit_idea,
)
from models.members import Actor

logger = logging.getLogger(__name__)

_END = ConversationHandler.END
_PARTS = ("subject", "problem", "proposal", "benefit")


class Filing(IntEnum):
    """Steps of writing an idea."""

    SUBJECT = 1
    PROBLEM = 2
    PROPOSAL = 3
    BENEFIT = 4
    CONFIRM = 5


def today(context: UnionContext) -> date:
    """Today in the union's time zone (ideas are numbered and reviewed by its year)."""
    return datetime.now(context.settings.zone).date()


def _draft(context: UnionContext) -> dict[str, Any]:
    return user_draft(context, "idea")


def idea_label(idea: Idea) -> str:
    """合-2026-0001「主题」."""
    return f"{idea.number}「{idea.subject}」"


def idea_body(tr: Translator, draft: dict[str, Any] | Idea) -> str:
    """The four parts, labelled."""
    values = draft if isinstance(draft, dict) else draft.model_dump()
    return "\n\n".join(tr(f"idea.part.{part}", value=values[part]) for part in _PARTS)


async def start_filing(update: Update, context: UnionContext) -> int:
    """/idea or the menu: the subject first."""
    if update.callback_query is not None:
        await context.answer(update)
    if await require_member(update, context) is None:
        return _END
    draft = _draft(context)
    draft.clear()
    draft["client_token"] = secrets.token_hex(8)
    await say(update, context, context.t("idea.intro") + "\n\n" + _ask_text(context, "subject"))
    return Filing.SUBJECT


def _ask_text(context: UnionContext, part: str) -> str:
    limit = SUBJECT_LIMIT if part == "subject" else TEXT_LIMIT
    return context.t(f"idea.write.{part}", limit=limit)


async def _ask_subject(update: Update, context: UnionContext) -> int:
    await say(update, context, _ask_text(context, "subject"))
    return Filing.SUBJECT


async def _ask_problem(update: Update, context: UnionContext) -> int:
    await say(update, context, _ask_text(context, "problem"))
    return Filing.PROBLEM


async def _ask_proposal(update: Update, context: UnionContext) -> int:
    await say(update, context, _ask_text(context, "proposal"))
    return Filing.PROPOSAL


async def _ask_benefit(update: Update, context: UnionContext) -> int:
    await say(update, context, _ask_text(context, "benefit"))
    return Filing.BENEFIT


async def got_subject(update: Update, context: UnionContext) -> int:
    """主题: one line."""
    subject = await typed_text(update, context, limit=SUBJECT_LIMIT, needs_words=True)
    if subject is None:
        return Filing.SUBJECT
    _draft(context)["subject"] = subject
    return await EDITS.then(update, context, _ask_problem)


async def _got_long(update: Update, context: UnionContext, part: str) -> str | None:
    text = await typed_text(update, context, limit=TEXT_LIMIT, multiline=True, needs_words=True)
    if text is not None:
        _draft(context)[part] = text
    return text


async def got_problem(update: Update, context: UnionContext) -> int:
    """现状/问题."""
    if await _got_long(update, context, "problem") is None:
        return Filing.PROBLEM
    return await EDITS.then(update, context, _ask_proposal)


async def got_proposal(update: Update, context: UnionContext) -> int:
    """建议."""
    if await _got_long(update, context, "proposal") is None:
        return Filing.PROPOSAL
    return await EDITS.then(update, context, _ask_benefit)


async def got_benefit(update: Update, context: UnionContext) -> int:
    """预期效益; then the preview."""
    if await _got_long(update, context, "benefit") is None:
        return Filing.BENEFIT
    return await EDITS.then(update, context, _preview)


async def _preview(update: Update, context: UnionContext) -> int:
    draft = _draft(context)
    if not all(part in draft for part in _PARTS):
        await say(update, context, context.t("idea.draft_lost"))
        return _END
    await say(
        update,
        context,
        context.t("idea.preview_title") + "\n\n" + idea_body(context.tr, draft),
        EDITS.markup(context, IdeaConfirm("yes"), IdeaConfirm("cancel")),
    )
    return Filing.CONFIRM


# ✏️ 修改某项 under the preview.
EDITS = PreviewEdits(
    "idea",
    [
        EditableField("idea.edit.subject", _ask_subject),
        EditableField("idea.edit.problem", _ask_problem),
        EditableField("idea.edit.proposal", _ask_proposal),
        EditableField("idea.edit.benefit", _ask_benefit),
    ],
    _preview,
)


async def confirm(update: Update, context: UnionContext) -> int:
    """Confirm: stored and numbered at once; the receipt quotes the number."""
    choice = context.button_as(IdeaConfirm).choice
    if choice == "cancel":
        await context.answer(update)
        return await cancel(update, context)
    actor = await require_member(update, context)
    if actor is None:
        return _END
    draft = _draft(context)
    if not all(part in draft for part in _PARTS):
        await context.answer(update)
        await say(update, context, context.t("idea.draft_lost"))
        return _END
    try:
        async with context.db() as session:
            idea = await submit_idea(
                session,
                org_id=context.org_id,
                author=actor,
                draft=IdeaDraft(**{part: str(draft[part]) for part in _PARTS}),
                client_token=str(draft["client_token"]),
                today=today(context),
            )
    except DomainError as error:
        await refuse(update, context, error)
        draft.clear()
        return _END
    await context.answer(update)
    draft.clear()
    logger.info("Idea %s stored by member %s", idea.id, actor.id)
    await say_receipt(update, context, context.t("idea.receipt", label=idea_label(idea)))
    return _END


async def cancel(update: Update, context: UnionContext) -> int:
    """/cancel while writing an idea."""
    _draft(context).clear()
    await say(update, context, context.t("idea.cancelled"))
    return _END


# ---- /mine -------------------------------------------------------------------------------


async def mine_section(context: UnionContext, actor: Actor) -> Section | None:
    """您的合理化建议: each with its status and, once the year is awarded, its prize."""
    async with context.db() as session:
        ideas = await ideas_of_member(session, org_id=context.org_id, member_id=actor.id)
        awarded = await awarded_years(session, org_id=context.org_id)
    if not ideas:
        return None
    tr = context.tr
    lines = [tr("idea.mine_title")]
    for idea in ideas[:30]:
        parts = [idea_label(idea), tr(f"idea.status.{idea.status}")]
        if idea.year in awarded and idea.prize_level:
            parts.append(tr("idea.mine_prize", level=tr(f"idea.level.{idea.prize_level}")))
        lines.append("• " + " · ".join(parts))
    return "\n".join(lines), None


def forms() -> list[Form]:
    """The member's form: /idea."""
    private = filters.ChatType.PRIVATE
    return [
        Form(
            conversation(
                name="idea_filing",
                entry_points=[
                    CommandHandler("idea", start_filing, filters=private),
                    ButtonHandler(MenuButton, start_filing, "idea"),
                ],
                states={
                    Filing.SUBJECT: text_step(got_subject),
                    Filing.PROBLEM: text_step(got_problem),
                    Filing.PROPOSAL: text_step(got_proposal),
                    Filing.BENEFIT: text_step(got_benefit),
                    Filing.CONFIRM: [*EDITS.handlers(), *family_step(confirm, IdeaConfirm)],
                },
                fallbacks=[CommandHandler("cancel", cancel)],
                allow_reentry=True,
            ),
            label_key="form.label.idea_filing",
            drafts=("idea",),
        ),
    ]
