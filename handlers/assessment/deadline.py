"""The day the schools' evidence is due (district staff, from the assessment's card): typed
as for a district task (2027-03-31, 03-31, 3月31日). Once the assessment is open, the schools'
chairs are told the new day; from two days before it the chairs of schools still missing
evidence are reminded (scheduler/district_reminders.py)."""

from __future__ import annotations

import logging
from enum import IntEnum
from typing import Any

from telegram import Update
from telegram.ext import CommandHandler, ConversationHandler

from bot.buttons import ButtonHandler
from bot.context import UnionContext
from bot.forms import Form
from handlers.assessment.buttons import AssessDeadline, AssessDesk
from handlers.assessment.common import district_staff
from handlers.common import conversation, keyboard, refuse, say, text_step, user_draft
from models.assessment import (
    Assessment,
    AssessmentStatus,
    check_deadline_settable,
    get_assessment,
    school_chairs,
    set_deadline,
)
from models.district_tasks import parse_deadline
from models.errors import N_, DomainError, InputError
from models.organizations import Organization
from models.outbox import BroadcastKind, to_chair

logger = logging.getLogger(__name__)

_END = ConversationHandler.END
_DRAFT = "assess_deadline"


class Step(IntEnum):
    """The one step: the day typed."""

    DAY = 1


def _draft(context: UnionContext) -> dict[str, Any]:
    return user_draft(context, _DRAFT)


async def start(update: Update, context: UnionContext) -> int:
    """📅 on the card: the day is asked (refused once the assessment is closed)."""
    button = context.button_as(AssessDeadline)
    staff = await district_staff(update, context)
    if staff is None:
        return _END
    try:
        async with context.db() as session:
            assessment = await get_assessment(
                session, district_id=staff[1].id or 0, assessment_id=button.assessment_id
            )
        check_deadline_settable(assessment)
    except DomainError as error:
        await refuse(update, context, error)
        return _END
    await context.answer(update)
    draft = _draft(context)
    draft.clear()
    draft["assessment"] = button.assessment_id
    await say(update, context, context.t("assess.deadline_ask", title=assessment.title))
    return Step.DAY


async def got_day(update: Update, context: UnionContext) -> int:
    """The day typed: a past, unreadable or far day is asked again; stored, the chairs told."""
    assert update.message is not None
    draft = _draft(context)
    if "assessment" not in draft:
        await say(update, context, context.t("assess.draft_lost"))
        return _END
    try:
        day = parse_deadline(update.message.text or "", today=context.today())
    except InputError as error:
        await say(update, context, context.t(error.key, **error.params))
        return Step.DAY
    staff = await district_staff(update, context)
    if staff is None:
        draft.clear()
        return _END
    actor, district = staff
    try:
        async with context.db() as session:
            assessment = await set_deadline(
                session,
                district_id=district.id or 0,
                assessment_id=int(draft["assessment"]),
                actor=actor,
                deadline=day,
            )
    except DomainError as error:
        await refuse(update, context, error)
        draft.clear()
        return _END
    draft.clear()
    logger.info("Assessment %s deadline set by member %s", assessment.id, actor.id)
    if assessment.status == AssessmentStatus.OPEN:
        told = await _tell_chairs(context, district, assessment, change=update.update_id)
        key = N_("assess.deadline_set_told") if told else N_("assess.deadline_set_no_chair")
    else:
        told, key = 0, N_("assess.deadline_set")
    back = keyboard([(context.t("assess.btn_back"), AssessDesk("show", assessment.id or 0))])
    await say(update, context, context.t(key, date=day.isoformat(), told=told), back)
    return _END


async def _tell_chairs(
    context: UnionContext, district: Organization, assessment: Assessment, *, change: int
) -> int:
    """The open assessment's new day to every school's chair, once per change (`change`, the
    update that set it: a day set back to an earlier one is told again, the same update
    delivered twice is not); how many schools were told."""
    assert assessment.deadline is not None
    day = assessment.deadline.isoformat()
    async with context.db() as session:
        chairs = await school_chairs(session, district_id=district.id or 0)
    recipients = [
        to_chair(
            chair,
            context.i18n.get(chair.language)(
                "assess.deadline_told", title=assessment.title, date=day
            ),
        )
        for chair in chairs
        if chair.telegram_user_id is not None
    ]
    if not recipients:
        return 0
    queued = await context.notifier.queue(
        org_id=district.id or 0,
        key=f"assess:{assessment.id}:deadline:{change}",
        kind=BroadcastKind.ANNOUNCEMENT,
        recipients=recipients,
        quiet=True,
    )
    if queued is None:
        return 0
    return len({chair.organization_id for chair in chairs if chair.telegram_user_id is not None})


async def cancel(update: Update, context: UnionContext) -> int:
    """/cancel: nothing stored."""
    _draft(context).clear()
    await say(update, context, context.t("assess.deadline_cancelled"))
    return _END


def forms() -> list[Form]:
    """District staff's deadline form: 📅 pressed, the day typed."""
    return [
        Form(
            conversation(
                name="assess_deadline",
                entry_points=[ButtonHandler(AssessDeadline, start)],
                states={Step.DAY: text_step(got_day)},
                fallbacks=[CommandHandler("cancel", cancel)],
                allow_reentry=True,
            ),
            label_key="assess.form_deadline",
            drafts=(_DRAFT,),
            committee=True,
            prompt=True,
        ),
    ]
