"""/dtask for the district's staff: a title, the text, the deadline, an optional file, how the
schools answer, which schools, a preview with ✏️ 修改某项, and sending it down."""

from __future__ import annotations

import logging
from datetime import date
from enum import IntEnum
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import CommandHandler, ConversationHandler, MessageHandler, filters

from bot.buttons import ButtonHandler
from bot.context import UnionContext
from bot.forms import Form
from handlers.common import (
    ButtonRow,
    EditableField,
    PreviewEdits,
    conversation,
    family_step,
    keyboard,
    refuse,
    say,
    text_step,
    typed_text,
    user_draft,
)
from handlers.district_tasks.access import district_staff
from handlers.district_tasks.buttons import (
    TaskConfirm,
    TaskKindChoice,
    TaskSchools,
    TaskSkipFile,
    TaskToggle,
)
from models.district import schools_of
from models.district_tasks import (
    BODY_LIMIT,
    TITLE_LIMIT,
    AnswerKind,
    DistrictTask,
    TaskAssignment,
    create_task,
    parse_deadline,
    school_chairs,
)
from models.errors import DomainError, InputError
from models.notice_text import day_words
from scheduler.district_task_jobs import queue_task

logger = logging.getLogger(__name__)

_END = ConversationHandler.END
_DRAFT = "dtask"
_SHOWN_NAMES = 10  # the preview names the schools up to this many, else counts them


def _draft(context: UnionContext) -> dict[str, Any]:
    return user_draft(context, _DRAFT)


class Step(IntEnum):
    """Steps of writing a district task."""

    TITLE = 1
    BODY = 2
    DEADLINE = 3
    FILE = 4
    KIND = 5
    SCHOOLS = 6
    CONFIRM = 7


async def start(update: Update, context: UnionContext) -> int:
    """/dtask: the title first."""
    staff = await district_staff(update, context)
    if staff is None:
        return _END
    draft = _draft(context)
    draft.clear()
    draft["district_id"] = staff[1].id
    return await ask_title(update, context)


async def ask_title(update: Update, context: UnionContext) -> int:
    """The title's question."""
    await say(update, context, context.t("dtask.ask_title", limit=TITLE_LIMIT))
    return Step.TITLE


async def got_title(update: Update, context: UnionContext) -> int:
    """The title."""
    title = await typed_text(update, context, limit=TITLE_LIMIT, needs_words=True)
    if title is None:
        return Step.TITLE
    _draft(context)["title"] = title
    return await edits.then(update, context, ask_body)


async def ask_body(update: Update, context: UnionContext) -> int:
    """The text's question."""
    await say(update, context, context.t("dtask.ask_body", limit=BODY_LIMIT))
    return Step.BODY


async def got_body(update: Update, context: UnionContext) -> int:
    """The text of the task."""
    body = await typed_text(update, context, limit=BODY_LIMIT, multiline=True, needs_words=True)
    if body is None:
        return Step.BODY
    _draft(context)["body"] = body
    return await edits.then(update, context, ask_deadline)


async def ask_deadline(update: Update, context: UnionContext) -> int:
    """The deadline's question."""
    await say(update, context, context.t("dtask.ask_deadline"))
    return Step.DEADLINE


async def got_deadline(update: Update, context: UnionContext) -> int:
    """A deadline typed as YYYY-MM-DD or MM-DD; a past day or nonsense is asked again."""
    assert update.message is not None
    try:
        deadline = parse_deadline(update.message.text or "", today=context.today())
    except InputError as error:
        await say(update, context, context.t(error.key, **error.params))
        return Step.DEADLINE
    _draft(context)["deadline"] = deadline.isoformat()
    return await edits.then(update, context, ask_file)


async def ask_file(update: Update, context: UnionContext) -> int:
    """An attachment, or Skip."""
    button = keyboard([(context.t("dtask.skip_file"), TaskSkipFile("skip"))])
    await say(update, context, context.t("dtask.ask_file"), button)
    return Step.FILE


async def got_file(update: Update, context: UnionContext) -> int:
    """The attached document."""
    assert update.message is not None and update.message.document is not None
    document = update.message.document
    _draft(context).update(file_id=document.file_id, file_name=document.file_name or "")
    return await edits.then(update, context, ask_kind)


async def skip_file(update: Update, context: UnionContext) -> int:
    """No attachment."""
    await context.answer(update)
    _draft(context).update(file_id=None, file_name=None)
    return await edits.then(update, context, ask_kind)


async def other_file(update: Update, context: UnionContext) -> int:
    """Text, a photo or a sticker where a document (or Skip) is expected."""
    await say(update, context, context.t("dtask.file_expected"))
    return Step.FILE


async def ask_kind(update: Update, context: UnionContext) -> int:
    """How the schools answer."""
    rows = [[(context.t(f"dtask.kind.{kind}"), TaskKindChoice(kind))] for kind in AnswerKind]
    await say(update, context, context.t("dtask.ask_kind"), keyboard(*rows))
    return Step.KIND


async def got_kind(update: Update, context: UnionContext) -> int:
    """An answer-kind button."""
    await context.answer(update)
    _draft(context)["kind"] = context.button_as(TaskKindChoice).kind.value
    return await edits.then(update, context, ask_schools)


async def _schools(context: UnionContext) -> list[tuple[int, str]]:
    return await _schools_of(context, int(_draft(context).get("district_id") or 0))


async def ask_schools(update: Update, context: UnionContext) -> int:
    """All schools, or pick some."""
    count = len(await _schools(context))
    markup = keyboard(
        [(context.t("dtask.schools_all", count=count), TaskSchools("all"))],
        [(context.t("dtask.schools_pick"), TaskSchools("pick"))],
    )
    await say(update, context, context.t("dtask.ask_schools"), markup)
    return Step.SCHOOLS


def _picker(context: UnionContext, schools: list[tuple[int, str]]) -> InlineKeyboardMarkup:
    picked = set(_draft(context).get("picked") or [])
    rows: list[ButtonRow] = [
        [(("☑️ " if school in picked else "⬜ ") + name, TaskToggle(school))]
        for school, name in schools
    ]
    rows.append([(context.t("dtask.schools_ok", count=len(picked)), TaskSchools("ok"))])
    return keyboard(*rows)


async def got_schools(update: Update, context: UnionContext) -> int:
    """All, Pick (the list with toggles) or Done picking."""
    choice = context.button_as(TaskSchools).choice
    draft = _draft(context)
    schools = await _schools(context)
    if choice == "all":
        await context.answer(update)
        draft["schools"] = [school for school, _name in schools]
        return await edits.then(update, context, preview)
    if choice == "pick":
        await context.answer(update)
        draft["picked"] = []
        await say(update, context, context.t("dtask.pick_schools"), _picker(context, schools))
        return Step.SCHOOLS
    known = {school for school, _name in schools}
    picked = [school for school in draft.get("picked") or [] if school in known]
    if not picked:
        await context.answer(update, context.t("dtask.pick_none"), alert=True)
        return Step.SCHOOLS
    await context.answer(update)
    draft["schools"] = picked
    return await edits.then(update, context, preview)


async def toggle_school(update: Update, context: UnionContext) -> int:
    """One school in or out; the list is redrawn in place."""
    school_id = context.button_as(TaskToggle).school_id
    schools = await _schools(context)
    if school_id not in {school for school, _name in schools}:
        await context.answer(update, context.t("desk.stale_button"), alert=True)
        return Step.SCHOOLS
    await context.answer(update)
    draft = _draft(context)
    picked = list(draft.get("picked") or [])
    picked = [s for s in picked if s != school_id] if school_id in picked else [*picked, school_id]
    draft["picked"] = picked
    query = update.callback_query
    assert query is not None
    try:
        await query.edit_message_reply_markup(reply_markup=_picker(context, schools))
    except TelegramError:
        # An old list (or an unchanged one) cannot be edited: draw it again below.
        await say(update, context, context.t("dtask.pick_schools"), _picker(context, schools))
    return Step.SCHOOLS


async def preview(update: Update, context: UnionContext) -> int:
    """The task as the chairs will read it, and where it goes."""
    draft = _draft(context)
    names = dict(await _schools(context))
    chosen = [names[school] for school in draft.get("schools") or [] if school in names]
    if len(chosen) <= _SHOWN_NAMES:
        schools = "、".join(chosen)
    else:
        schools = context.t("dtask.preview_many", count=len(chosen))
    lines = [
        context.t("dtask.preview_title"),
        context.t("dtask.preview_name", title=draft["title"]),
        context.t(
            "dtask.preview_deadline",
            deadline=day_words(context.tr, _deadline(draft)),
        ),
        context.t("dtask.preview_kind", kind=context.t(f"dtask.kind.{draft['kind']}")),
        context.t("dtask.preview_schools", count=len(chosen), schools=schools),
    ]
    if draft.get("file_id"):
        lines.append(context.t("dtask.preview_file", name=draft.get("file_name") or ""))
    lines += ["", str(draft["body"])]
    await say(
        update,
        context,
        "\n".join(lines),
        edits.markup(context, TaskConfirm("yes"), TaskConfirm("no")),
    )
    return Step.CONFIRM


def _deadline(draft: dict[str, Any]) -> date:
    return date.fromisoformat(str(draft["deadline"]))


async def confirm(update: Update, context: UnionContext) -> int:
    """Send it: store the task and one assignment per school, and tell the chairs."""
    choice = context.button_as(TaskConfirm).choice
    await context.answer(update)
    draft = _draft(context)
    if choice != "yes" or "schools" not in draft:
        return await cancel(update, context)
    staff = await district_staff(update, context)
    if staff is None:
        draft.clear()
        return _END
    actor, district = staff
    try:
        async with context.db() as session:
            task, assignments = await create_task(
                session,
                district_id=district.id or 0,
                title=str(draft["title"]),
                body=str(draft["body"]),
                deadline=_deadline(draft),
                today=context.today(),
                answer_kind=AnswerKind(draft["kind"]),
                school_ids=[int(school) for school in draft["schools"]],
                created_by=actor.id,
                file_id=draft.get("file_id"),
                file_name=draft.get("file_name"),
            )
    except DomainError as error:
        if isinstance(error, InputError):
            # The deadline passed while the preview waited: ask for it again, keep the rest.
            await say(update, context, context.t(error.key, **error.params))
            return await edits.reask(update, context, ask_deadline)
        draft.clear()
        await refuse(update, context, error)
        return _END
    draft.clear()
    told = await send_down(context, task, assignments)
    async with context.db() as session:
        chairs = await school_chairs(session, school_ids=[a.school_id for a in assignments])
    names = dict(await _schools_of(context, task.district_id))
    no_chair = [names.get(school, "?") for school, found in chairs.items() if not found]
    lines = [context.t("dtask.sent", schools=len(assignments), chairs=told)]
    if no_chair:
        lines.append(context.t("dtask.sent_no_chair", schools="、".join(no_chair)))
    await say(update, context, "\n".join(lines))
    return _END


async def _schools_of(context: UnionContext, district_id: int) -> list[tuple[int, str]]:
    async with context.db() as session:
        schools = await schools_of(session, district_id=district_id)
    return [(school.id or 0, school.name) for school in schools]


async def send_down(
    context: UnionContext, task: DistrictTask, assignments: list[TaskAssignment]
) -> int:
    """Queue the task to each school's chairs (once per task and school) and send the
    attachment; returns how many chairs it was queued for."""
    runtime = context.state.runtime
    now = context.state.clock()
    not_before = runtime.quiet.next_allowed(now) if runtime is not None else now
    queued = await queue_task(context.db, context.i18n, task, assignments, not_before=not_before)
    if runtime is not None:
        runtime.sender.wake()
    quiet_now = runtime is not None and runtime.quiet.contains(now)
    if task.file_id and not quiet_now:
        # The outbox sends text with buttons only (sendMessage), not documents, so the file
        # goes straight to each chair after the text is queued. It may arrive before the
        # text; in quiet hours it is not sent at all, and the 📎 button under the task (read
        # when the chair presses it) fetches it then.
        for chat_id in dict.fromkeys(recipient.chat_id for recipient in queued):
            try:
                await context.bot.send_document(chat_id, task.file_id)
            except TelegramError as exc:
                logger.info("Task %s file not sent to a chair: %s", task.id, type(exc).__name__)
    return len(queued)


async def cancel(update: Update, context: UnionContext) -> int:
    """/cancel (or Cancel) while writing a task."""
    _draft(context).clear()
    await say(update, context, context.t("dtask.cancelled"))
    return _END


edits = PreviewEdits(
    _DRAFT,
    [
        EditableField("dtask.field.title", ask_title),
        EditableField("dtask.field.body", ask_body),
        EditableField("dtask.field.deadline", ask_deadline),
        EditableField("dtask.field.file", ask_file),
        EditableField("dtask.field.kind", ask_kind),
        EditableField("dtask.field.schools", ask_schools),
    ],
    preview,
)


def form() -> Form:
    """The /dtask form."""
    private = filters.ChatType.PRIVATE
    return Form(
        conversation(
            name="dtask",
            entry_points=[CommandHandler("dtask", start, filters=private)],
            states={
                Step.TITLE: text_step(got_title),
                Step.BODY: text_step(got_body),
                Step.DEADLINE: text_step(got_deadline),
                Step.FILE: [
                    ButtonHandler(TaskSkipFile, skip_file),
                    MessageHandler(filters.Document.ALL, got_file),
                    MessageHandler(~filters.COMMAND, other_file),
                ],
                Step.KIND: family_step(got_kind, TaskKindChoice),
                Step.SCHOOLS: [
                    ButtonHandler(TaskToggle, toggle_school),
                    *family_step(got_schools, TaskSchools),
                ],
                Step.CONFIRM: [ButtonHandler(TaskConfirm, confirm), *edits.handlers()],
            },
            fallbacks=[CommandHandler("cancel", cancel)],
            allow_reentry=True,
        ),
        label_key="dtask.form_label",
        drafts=(_DRAFT,),
        committee=True,
    )
