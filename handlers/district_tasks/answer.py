"""A school chair answers a district task: Mark done, or Reply with a file (a short form that
waits for a document), and 📎 the task's attachment again. Who may press is read from the
database at the press: an active chair or vice-chair of that assignment's own school."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    Application,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.buttons import ButtonHandler
from bot.context import UnionContext
from bot.forms import Form
from handlers.common import conversation, refuse, say, say_receipt, user_draft
from handlers.district_tasks.buttons import TaskAnswer, TaskAttachment
from models.base import utcnow
from models.district_tasks import (
    Answered,
    AnswerKind,
    AssignmentStatus,
    answer_assignment,
    answering_member,
    get_assignment,
    local_time,
    standing,
)
from models.errors import N_, DomainError
from models.members import Member
from models.organizations import get_organization

_END = ConversationHandler.END
_DRAFT = "dtask_reply"
WAITING = 1


def _user_id(update: Update) -> int:
    assert update.effective_user is not None
    return update.effective_user.id


async def _check(update: Update, context: UnionContext, assignment_id: int) -> Member | None:
    """The member who may answer, or None after the refusal (nothing is stored)."""
    try:
        async with context.db() as session:
            assignment, _task = await get_assignment(session, assignment_id=assignment_id)
            return await answering_member(
                session, assignment=assignment, telegram_user_id=_user_id(update)
            )
    except DomainError as error:
        await refuse(update, context, error)
        return None


async def _already(update: Update, context: UnionContext, answered: Answered) -> None:
    by = answered.by.real_name if answered.by else "?"
    at = answered.assignment.done_at
    when = local_time(at, context.settings.zone)
    await say(update, context, context.t("dtask.already_done", by=by, at=when))


async def _tell_district(context: UnionContext, answered: Answered) -> None:
    """The district staff who sent the task learn that this school answered."""
    task = answered.task
    if task.created_by_member_id is None:
        return
    async with context.db() as session:
        school = await get_organization(session, answered.assignment.school_id)
    by = answered.by.real_name if answered.by else ""
    key = "dtask.told_file" if answered.assignment.reply_file_id else "dtask.told_done"
    await context.notifier.tell(
        [task.created_by_member_id],
        lambda tr: tr(key, school=school.name, title=task.title, by=by),
        # Only while they are still the district's staff (checked now, not when they sent it).
        committee_only=True,
    )


async def mark_done(update: Update, context: UnionContext) -> None:
    """Mark done: stored once; a second press hears who did it first."""
    button = context.button_as(TaskAnswer)
    member = await _check(update, context, button.assignment_id)
    if member is None:
        return
    try:
        async with context.db() as session:
            answered = await answer_assignment(
                session, assignment_id=button.assignment_id, member=member, now=utcnow()
            )
    except DomainError as error:
        await refuse(update, context, error)
        return
    await context.answer(update)
    if not answered.fresh:
        await _already(update, context, answered)
        return
    await say_receipt(update, context, context.t("dtask.done_stored", title=answered.task.title))
    await _tell_district(context, answered)


async def start_reply(update: Update, context: UnionContext) -> int:
    """Reply with a file: the document is asked for."""
    button = context.button_as(TaskAnswer)
    member = await _check(update, context, button.assignment_id)
    if member is None:
        return _END
    async with context.db() as session:
        now = await standing(session, assignment_id=button.assignment_id)
    task = now.task
    if task.answer_kind != AnswerKind.FILE:
        await refuse(update, context, DomainError(N_("desk.stale_button")))
        return _END
    await context.answer(update)
    if now.assignment.status == AssignmentStatus.DONE:
        await _already(update, context, now)
        return _END
    user_draft(context, _DRAFT).update(assignment_id=button.assignment_id)
    await say(update, context, context.t("dtask.send_file", title=task.title))
    return WAITING


async def got_reply(update: Update, context: UnionContext) -> int:
    """The document: checked again, stored once, confirmed."""
    message = update.message
    assert message is not None and message.document is not None
    draft = user_draft(context, _DRAFT)
    assignment_id = int(draft.get("assignment_id") or 0)
    member = await _check(update, context, assignment_id)
    if member is None:
        draft.clear()
        return _END
    try:
        async with context.db() as session:
            answered = await answer_assignment(
                session,
                assignment_id=assignment_id,
                member=member,
                now=utcnow(),
                file_id=message.document.file_id,
                file_name=message.document.file_name,
                note=message.caption,
            )
    except DomainError as error:
        await say(update, context, context.t(error.key, **error.params))
        if error.key == "dtask.withdrawn":  # nothing more to send for it
            draft.clear()
            return _END
        return WAITING
    draft.clear()
    if not answered.fresh:
        await _already(update, context, answered)
        return _END
    await say_receipt(update, context, context.t("dtask.file_stored", title=answered.task.title))
    await _tell_district(context, answered)
    return _END


async def not_a_file(update: Update, context: UnionContext) -> int:
    """Anything but a document: said so, and the form keeps waiting."""
    await say(update, context, context.t("dtask.reply_not_file"))
    return WAITING


async def cancel(update: Update, context: UnionContext) -> int:
    """/cancel while the file is awaited."""
    user_draft(context, _DRAFT).clear()
    await say(update, context, context.t("dtask.reply_cancelled"))
    return _END


async def attachment(update: Update, context: UnionContext) -> None:
    """📎: the task's attachment, for a chair of a school it was sent to."""
    button = context.button_as(TaskAttachment)
    member = await _check(update, context, button.assignment_id)
    if member is None:
        return
    async with context.db() as session:
        _assignment, task = await get_assignment(session, assignment_id=button.assignment_id)
    await context.answer(update)
    if task.file_id:
        await context.bot.send_document(_user_id(update), task.file_id)


def register(application: Application) -> None:
    """Mark done and 📎 work outside any form."""
    application.add_handler(ButtonHandler(TaskAnswer, mark_done, "done"))
    application.add_handler(ButtonHandler(TaskAttachment, attachment))


def form() -> Form:
    """Reply with a file."""
    private = filters.ChatType.PRIVATE
    return Form(
        conversation(
            name="dtask_reply",
            entry_points=[ButtonHandler(TaskAnswer, start_reply, "file")],
            states={
                WAITING: [
                    MessageHandler(private & filters.Document.ALL, got_reply),
                    MessageHandler(private & ~filters.COMMAND, not_a_file),
                ]
            },
            fallbacks=[CommandHandler("cancel", cancel)],
            allow_reentry=True,
        ),
        label_key="dtask.reply_form_label",
        drafts=(_DRAFT,),
    )
