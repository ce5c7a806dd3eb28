"""A school's side of the annual assessment: its chair (or vice-chair) sees the items, sends
evidence for each (a text or a document, shown back before it goes to the district) while the
assessment is open, and sees the school's own scores once the district has scored.

A school sees only its own submissions and scores: every button names the school, and a press
naming another school is refused before anything is read.
"""

from __future__ import annotations

import logging
from enum import IntEnum
from typing import Any

from telegram import Update
from telegram.ext import CommandHandler, ConversationHandler, MessageHandler, filters

from bot.buttons import ButtonHandler
from bot.context import UnionContext
from bot.forms import Form
from handlers.assessment.buttons import AssessItem, AssessSend
from handlers.assessment.common import school_chair, status_word, this_year
from handlers.common import (
    ButtonRow,
    conversation,
    family_step,
    keyboard,
    refuse,
    say,
    say_receipt,
    typed_text,
    user_draft,
)
from models.assessment import (
    EVIDENCE_LIMIT,
    FILE_NAME_LIMIT,
    AssessmentStatus,
    assessment_of_year,
    check_open_for_schools,
    get_assessment,
    get_item,
    items_of,
    scores_of,
    submissions_of,
    submit_evidence,
)
from models.errors import DomainError
from models.validation import clean_text

logger = logging.getLogger(__name__)

_END = ConversationHandler.END
_DRAFT = "assess_evidence"


class Evidence(IntEnum):
    """Steps of sending one item's evidence."""

    TEXT = 1
    CONFIRM = 2


async def school_home(update: Update, context: UnionContext) -> None:
    """/assessment for a school's chair: the items, what was sent, the scores given."""
    chair = await school_chair(update, context)
    if chair is None:
        return
    _actor, school = chair
    district_id = school.parent_id or 0
    async with context.db() as session:
        assessment = await assessment_of_year(
            session, district_id=district_id, year=this_year(context)
        )
        if assessment is None or assessment.status == AssessmentStatus.DRAFT:
            await say(update, context, context.t("assess.none_open"))
            return
        ident = assessment.id or 0
        items = await items_of(session, assessment_id=ident)
        sent = await submissions_of(session, assessment_id=ident, school_id=school.id or 0)
        scores = await scores_of(session, assessment_id=ident, school_id=school.id or 0)
    t = context.t
    lines = [
        t("assess.school_card", school=school.name, title=assessment.title),
        t("assess.card_status", status=status_word(context, assessment)),
    ]
    if assessment.deadline is not None:
        lines.append(t("assess.deadline", date=assessment.deadline.isoformat()))
    lines.append("")
    rows: list[ButtonRow] = []
    for item in items:
        parts = [
            t("assess.item_line", position=item.position, title=item.title, points=item.max_points)
        ]
        if item.id in sent:
            parts.append(t("assess.sent"))
        else:
            parts.append(t("assess.not_sent"))
            if item.evidence_required:
                parts.append(t("assess.required"))
        score = scores.get(item.id or 0)
        if score is not None:
            parts.append(t("assess.points_given", points=score.points))
        lines.append(" · ".join(parts))
        if assessment.status == AssessmentStatus.OPEN:
            rows.append(
                [
                    (
                        f"{item.position}. {item.title}",
                        AssessItem(ident, school.id or 0, item.id or 0),
                    )
                ]
            )
    if scores:
        total = sum(score.points for score in scores.values())
        lines.append(t("assess.school_total", scored=len(scores), items=len(items), total=total))
    lines.append("")
    if assessment.status == AssessmentStatus.OPEN:
        lines.append(t("assess.school_hint"))
    else:
        lines.append(t("assess.school_closed"))
    await say(update, context, "\n".join(lines), keyboard(*rows) if rows else None)


# ---- the evidence form -------------------------------------------------------------------


def _draft(context: UnionContext) -> dict[str, Any]:
    return user_draft(context, _DRAFT)


async def start_evidence(update: Update, context: UnionContext) -> int:
    """An item pressed by its school's chair while open: the evidence is asked."""
    button = context.button_as(AssessItem)
    chair = await school_chair(update, context, school_id=button.school_id)
    if chair is None:
        return _END
    _actor, school = chair
    try:
        async with context.db() as session:
            assessment = await get_assessment(
                session, district_id=school.parent_id or 0, assessment_id=button.assessment_id
            )
            item = await get_item(
                session, assessment_id=button.assessment_id, item_id=button.item_id
            )
            check_open_for_schools(assessment)
            sent = await submissions_of(
                session, assessment_id=button.assessment_id, school_id=school.id or 0
            )
    except DomainError as error:
        await refuse(update, context, error)
        return _END
    await context.answer(update)
    draft = _draft(context)
    draft.clear()
    draft.update(
        assessment=button.assessment_id,
        school=school.id,
        item=button.item_id,
        title=item.title,
    )
    lines = [
        context.t(
            "assess.evidence_ask",
            position=item.position,
            title=item.title,
            points=item.max_points,
            limit=EVIDENCE_LIMIT,
        )
    ]
    if button.item_id in sent:
        lines.append(context.t("assess.evidence_replaces"))
    await say(update, context, "\n".join(lines))
    return Evidence.TEXT


async def ask_again(update: Update, context: UnionContext) -> int:
    """修改: the evidence is asked again."""
    await say(update, context, context.t("assess.evidence_again"))
    return Evidence.TEXT


async def got_text(update: Update, context: UnionContext) -> int:
    """A text: shown back before it goes to the district."""
    text = await typed_text(update, context, limit=EVIDENCE_LIMIT, multiline=True, needs_words=True)
    if text is None:
        return Evidence.TEXT
    _draft(context).update(text=text, file_id=None, file_name=None)
    return await _show_back(update, context)


async def got_file(update: Update, context: UnionContext) -> int:
    """A document (its caption, if any, is the text): shown back before it goes."""
    message = update.message
    assert message is not None and message.document is not None
    caption = None
    if message.caption and message.caption.strip():
        try:
            caption = clean_text(message.caption, limit=EVIDENCE_LIMIT, multiline=True)
        except DomainError as error:
            await refuse(update, context, error)
            return Evidence.TEXT
    name = (message.document.file_name or "")[:FILE_NAME_LIMIT]
    _draft(context).update(text=caption, file_id=message.document.file_id, file_name=name)
    return await _show_back(update, context)


async def other_kind(update: Update, context: UnionContext) -> int:
    """A photo, sticker or voice where a text or a document is expected."""
    await say(update, context, context.t("assess.evidence_kind"))
    return Evidence.TEXT


async def _show_back(update: Update, context: UnionContext) -> int:
    draft = _draft(context)
    t = context.t
    lines = [t("assess.evidence_check", title=str(draft.get("title", ""))), ""]
    if draft.get("text"):
        lines.append(str(draft["text"]))
    if draft.get("file_id"):
        lines.append(t("assess.file_is", name=str(draft.get("file_name") or "—")))
    await say(
        update,
        context,
        "\n".join(lines)[:4000],
        keyboard(
            [(t("assess.btn_send"), AssessSend("send")), (t("form.edit"), AssessSend("edit"))],
            [(t("common.cancel"), AssessSend("cancel"))],
        ),
    )
    return Evidence.CONFIRM


async def confirm(update: Update, context: UnionContext) -> int:
    """Send: stored (the chair's office and the open assessment checked again); Edit; Cancel."""
    choice = context.button_as(AssessSend).choice
    if choice == "cancel":
        await context.answer(update)
        return await cancel(update, context)
    if choice == "edit":
        await context.answer(update)
        return await ask_again(update, context)
    draft = _draft(context)
    if "item" not in draft or not (draft.get("text") or draft.get("file_id")):
        await context.answer(update)
        await say(update, context, context.t("assess.draft_lost"))
        return _END
    school_id = int(draft["school"])
    chair = await school_chair(update, context, school_id=school_id)
    if chair is None:
        draft.clear()
        return _END
    actor, school = chair
    assessment_id = int(draft["assessment"])
    try:
        async with context.db() as session:
            stored = await submit_evidence(
                session,
                district_id=school.parent_id or 0,
                assessment_id=assessment_id,
                item_id=int(draft["item"]),
                school_id=school_id,
                actor=actor,
                evidence=draft.get("text"),
                file_id=draft.get("file_id"),
                file_name=draft.get("file_name"),
            )
            items = await items_of(session, assessment_id=assessment_id)
            sent = await submissions_of(session, assessment_id=assessment_id, school_id=school_id)
    except DomainError as error:
        await refuse(update, context, error)
        draft.clear()
        return _END
    await context.answer(update)
    title = str(draft.get("title", ""))
    draft.clear()
    logger.info("Assessment evidence %s stored by member %s", stored.id, actor.id)
    left = [item for item in items if item.id not in sent]
    text = context.t("assess.evidence_saved", title=title, left=len(left))
    if not left:
        await say_receipt(update, context, text)
        return _END
    nxt = left[0]
    markup = keyboard(
        [
            (
                context.t("assess.btn_next_item", position=nxt.position, title=nxt.title),
                AssessItem(assessment_id, school_id, nxt.id or 0),
            )
        ]
    )
    await say(update, context, text, markup)
    return _END


async def cancel(update: Update, context: UnionContext) -> int:
    """/cancel while sending evidence: nothing sent."""
    _draft(context).clear()
    await say(update, context, context.t("assess.evidence_cancelled"))
    return _END


def forms() -> list[Form]:
    """A school chair's evidence form: an item pressed, a text or a document, Send."""
    private = filters.ChatType.PRIVATE
    return [
        Form(
            conversation(
                name="assess_evidence",
                entry_points=[ButtonHandler(AssessItem, start_evidence)],
                states={
                    Evidence.TEXT: [
                        MessageHandler(private & filters.TEXT & ~filters.COMMAND, got_text),
                        MessageHandler(private & filters.Document.ALL, got_file),
                        MessageHandler(private & ~filters.COMMAND, other_kind),
                    ],
                    Evidence.CONFIRM: family_step(confirm, AssessSend),
                },
                fallbacks=[CommandHandler("cancel", cancel)],
                allow_reentry=True,
            ),
            label_key="assess.form_evidence",
            drafts=(_DRAFT,),
            committee=True,
        ),
    ]
