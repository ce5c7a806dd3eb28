"""The review panel's scoring, in private: /score lists the year's ideas (never one's own),
an idea opens with 1-10 buttons, then an optional comment and a summary to confirm.

A panelist sees only their own scores; the committee sees averages and counts (desk.py).
"""

from __future__ import annotations

import logging
from enum import IntEnum
from typing import Any

from telegram import Update
from telegram.ext import Application, CommandHandler, ConversationHandler, filters

from bot.buttons import ButtonHandler
from bot.context import UnionContext
from bot.forms import Form
from handlers.common import (
    ButtonRow,
    conversation,
    family_step,
    keyboard,
    refuse,
    require_member,
    say,
    text_step,
    typed_text,
    user_draft,
)
from handlers.ideas.buttons import ScoreOpen, ScorePage, ScorePick, ScoreStep
from handlers.ideas.filing import idea_body, idea_label, today
from models.errors import DomainError
from models.ideas import (
    COMMENT_LIMIT,
    MAX_SCORE,
    MIN_SCORE,
    check_score,
    get_idea,
    ideas_to_score,
    is_panelist,
    may_score,
    own_score,
    score_idea,
)

logger = logging.getLogger(__name__)

_END = ConversationHandler.END
PAGE = 10


class Scoring(IntEnum):
    """Steps after a score is pressed."""

    COMMENT = 1
    CONFIRM = 2


def _draft(context: UnionContext) -> dict[str, Any]:
    return user_draft(context, "idea_score")


def _year_argument(context: UnionContext) -> int:
    argument = context.args[0] if context.args else ""
    if argument.isascii() and argument.isdigit() and 2000 <= int(argument) <= 2100:
        return int(argument)
    return today(context).year


async def score_command(update: Update, context: UnionContext) -> None:
    """/score [year]: the year's ideas to score, for a panelist."""
    actor = await require_member(update, context)
    if actor is None:
        return
    await _send_page(update, context, year=_year_argument(context), offset=0)


async def score_page(update: Update, context: UnionContext) -> None:
    """Another page of the ideas to score."""
    button = context.button_as(ScorePage)
    await context.answer(update)
    if await require_member(update, context) is None:
        return
    await _send_page(update, context, year=button.year, offset=button.offset)


async def _send_page(update: Update, context: UnionContext, *, year: int, offset: int) -> None:
    actor = context.actor
    assert actor is not None
    async with context.db() as session:
        if not await is_panelist(session, org_id=context.org_id, year=year, member_id=actor.id):
            await say(update, context, context.t("idea.not_panelist_year", year=year))
            return
        rows = await ideas_to_score(session, org_id=context.org_id, year=year, member_id=actor.id)
    if not rows:
        await say(update, context, context.t("idea.nothing_to_score", year=year))
        return
    done = sum(1 for row in rows if row.mine is not None)
    lines = [context.t("idea.score_list_title", year=year, done=done, total=len(rows))]
    buttons: list[ButtonRow] = []
    for row in rows[offset : offset + PAGE]:
        mine = (
            context.t("idea.your_score", score=row.mine)
            if row.mine is not None
            else context.t("idea.not_scored")
        )
        lines.append(f"• {idea_label(row.idea)} · {mine}")
        buttons.append([(row.idea.number, ScoreOpen(row.idea.id or 0))])
    nav: list[tuple[str, ScorePage]] = []
    if offset > 0:
        nav.append((context.t("idea.btn_prev"), ScorePage(year, max(offset - PAGE, 0))))
    if offset + PAGE < len(rows):
        nav.append((context.t("idea.btn_next"), ScorePage(year, offset + PAGE)))
    if nav:
        buttons.append(nav)
    await say(update, context, "\n".join(lines), keyboard(*buttons))


async def open_idea(update: Update, context: UnionContext) -> None:
    """An idea for a panelist: its text (not its author) and the score buttons."""
    idea_id = context.button_as(ScoreOpen).idea_id
    actor = await require_member(update, context)
    if actor is None:
        return
    try:
        async with context.db() as session:
            idea = await get_idea(session, org_id=context.org_id, idea_id=idea_id)
            await may_score(session, org_id=context.org_id, idea=idea, actor=actor)
            mine = await own_score(session, idea_id=idea_id, member_id=actor.id)
    except DomainError as error:
        await refuse(update, context, error)
        return
    await context.answer(update)
    lines = [context.t("idea.score_title", label=idea_label(idea)), "", idea_body(context.tr, idea)]
    if mine is not None:
        lines += ["", context.t("idea.your_score_was", score=mine.score)]
    lines += ["", context.t("idea.score_ask", low=MIN_SCORE, high=MAX_SCORE)]
    scores = list(range(MIN_SCORE, MAX_SCORE + 1))
    rows: list[ButtonRow] = [
        [(str(value), ScorePick(idea_id, value)) for value in scores[:5]],
        [(str(value), ScorePick(idea_id, value)) for value in scores[5:]],
    ]
    await say(update, context, "\n".join(lines), keyboard(*rows))


async def start_scoring(update: Update, context: UnionContext) -> int:
    """A score pressed: checked again (a forged or stale button stores nothing), then the
    optional comment."""
    button = context.button_as(ScorePick)
    actor = await require_member(update, context)
    if actor is None:
        return _END
    try:
        async with context.db() as session:
            idea = await get_idea(session, org_id=context.org_id, idea_id=button.idea_id)
            await may_score(session, org_id=context.org_id, idea=idea, actor=actor)
        check_score(button.score)
    except DomainError as error:
        logger.warning("Refused a score press by member %s", actor.id)
        await refuse(update, context, error)
        return _END
    await context.answer(update)
    draft = _draft(context)
    draft.clear()
    draft.update(idea=button.idea_id, score=button.score, label=idea_label(idea))
    await say(
        update,
        context,
        context.t("idea.write_comment", score=button.score, limit=COMMENT_LIMIT),
        keyboard([(context.t("idea.btn_no_comment"), ScoreStep("skip"))]),
    )
    return Scoring.COMMENT


async def got_comment(update: Update, context: UnionContext) -> int:
    """A comment typed."""
    comment = await typed_text(
        update, context, limit=COMMENT_LIMIT, multiline=True, needs_words=True
    )
    if comment is None:
        return Scoring.COMMENT
    _draft(context)["comment"] = comment
    return await _summary(update, context)


async def no_comment(update: Update, context: UnionContext) -> int:
    """不写评语."""
    await context.answer(update)
    _draft(context)["comment"] = None
    return await _summary(update, context)


async def _summary(update: Update, context: UnionContext) -> int:
    draft = _draft(context)
    comment = draft.get("comment") or context.t("idea.no_comment")
    await say(
        update,
        context,
        context.t(
            "idea.score_summary",
            label=draft.get("label", ""),
            score=draft["score"],
            comment=comment,
        ),
        keyboard(
            [(context.t("reg.confirm"), ScoreStep("yes"))],
            [(context.t("common.cancel"), ScoreStep("cancel"))],
        ),
    )
    return Scoring.CONFIRM


async def confirm_score(update: Update, context: UnionContext) -> int:
    """Confirm: stored (the rules checked again); the next unscored idea is offered."""
    choice = context.button_as(ScoreStep).choice
    if choice == "cancel":
        await context.answer(update)
        return await cancel(update, context)
    if choice != "yes":
        await context.answer(update)
        return Scoring.CONFIRM
    actor = await require_member(update, context)
    if actor is None:
        return _END
    draft = _draft(context)
    if "idea" not in draft or "score" not in draft:
        await context.answer(update)
        await say(update, context, context.t("idea.draft_lost"))
        return _END
    try:
        async with context.db() as session:
            stored = await score_idea(
                session,
                org_id=context.org_id,
                idea_id=int(draft["idea"]),
                actor=actor,
                score=int(draft["score"]),
                comment=draft.get("comment"),
            )
            idea = await get_idea(session, org_id=context.org_id, idea_id=stored.idea_id)
            rows = await ideas_to_score(
                session, org_id=context.org_id, year=idea.year, member_id=actor.id
            )
    except DomainError as error:
        await refuse(update, context, error)
        draft.clear()
        return _END
    await context.answer(update)
    draft.clear()
    logger.info("Idea %s scored by a panelist", stored.idea_id)
    left = [row for row in rows if row.mine is None]
    text = context.t("idea.scored", label=idea_label(idea), score=stored.score)
    if not left:
        await say(update, context, text + "\n" + context.t("idea.all_scored", year=idea.year))
        return _END
    next_idea = left[0].idea
    markup = keyboard(
        [(context.t("idea.btn_next_idea", number=next_idea.number), ScoreOpen(next_idea.id or 0))]
    )
    await say(
        update, context, text + "\n" + context.t("idea.left_to_score", count=len(left)), markup
    )
    return _END


async def cancel(update: Update, context: UnionContext) -> int:
    """/cancel while scoring: nothing stored."""
    _draft(context).clear()
    await say(update, context, context.t("idea.score_cancelled"))
    return _END


def register(application: Application) -> None:
    """The panel's list and the idea opened (the score itself is a form)."""
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("score", score_command, filters=private))
    application.add_handler(ButtonHandler(ScorePage, score_page))
    application.add_handler(ButtonHandler(ScoreOpen, open_idea))


def forms() -> list[Form]:
    """The scoring form: a score pressed, a comment or none, confirm."""
    return [
        Form(
            conversation(
                name="idea_scoring",
                entry_points=[ButtonHandler(ScorePick, start_scoring)],
                states={
                    Scoring.COMMENT: [
                        ButtonHandler(ScoreStep, no_comment, "skip"),
                        *text_step(got_comment),
                    ],
                    Scoring.CONFIRM: family_step(confirm_score, ScoreStep),
                },
                fallbacks=[CommandHandler("cancel", cancel)],
                allow_reentry=True,
            ),
            label_key="form.label.idea_scoring",
            drafts=("idea_score",),
        ),
    ]
