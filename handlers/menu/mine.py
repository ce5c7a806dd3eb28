"""/mine: everything of one's own, one section per feature that declares one."""

from __future__ import annotations

from telegram import Update

from bot.context import UnionContext
from handlers.common import require_member, say


async def show_mine(update: Update, context: UnionContext) -> None:
    """/mine: the member's own suggestions, proposals, aid requests... each feature's section."""
    if update.callback_query is not None:
        await context.answer(update)
    actor = await require_member(update, context)
    if actor is None:
        return
    sections = []
    for feature in context.state.features:
        if feature.mine is not None:
            section = await feature.mine(context, actor)
            if section is not None:
                sections.append(section)
    if not sections:
        await say(update, context, context.t("suggestion.mine_empty"))
        return
    for text, markup in sections:
        await say(update, context, text, markup)
