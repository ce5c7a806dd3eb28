"""What the district's staff see: /dtasks (each task with done/total), a task's schools and
their status, Remind now, the xlsx export, and the files the schools sent back."""

from __future__ import annotations

import asyncio

from telegram import InputFile, Update
from telegram.ext import Application, CommandHandler, filters

from bot.buttons import ButtonHandler
from bot.context import UnionContext
from handlers.common import ButtonRow, keyboard, refuse, say
from handlers.district_tasks import withdraw
from handlers.district_tasks.access import district_staff
from handlers.district_tasks.buttons import TaskAction, TaskFetch, TaskView
from models.district_tasks import (
    AssignmentStatus,
    RuleEvery,
    SchoolLine,
    export_xlsx,
    get_assignment,
    get_task,
    local_time,
    pending_of,
    rule_of,
    set_repeat,
    task_schools,
    tasks_of,
)
from models.errors import N_, DomainError
from models.notice_text import day_words
from scheduler.district_task_jobs import remind_school

_MESSAGE_LIMIT = 4000
_FILE_BUTTONS = 40  # 📎 buttons under a task's status at most (the rest: the export)
# The repeat buttons: how often the task goes out again (None stops it), and what is said.
_REPEATS: dict[str, tuple[RuleEvery | None, str]] = {
    "monthly_on": (RuleEvery.MONTH, N_("dtask.monthly_on")),
    "yearly_on": (RuleEvery.YEAR, N_("dtask.yearly_on")),
    "monthly_off": (None, N_("dtask.monthly_off")),
    "yearly_off": (None, N_("dtask.yearly_off")),
}


async def list_tasks(update: Update, context: UnionContext) -> None:
    """/dtasks: the district's tasks with how many schools are done."""
    staff = await district_staff(update, context)
    if staff is None:
        return
    async with context.db() as session:
        lines = await tasks_of(session, district_id=staff[1].id or 0)
    if not lines:
        await say(update, context, context.t("dtask.none"))
        return
    text = [context.t("dtask.list_title")]
    rows: list[ButtonRow] = []
    for number, line in enumerate(lines, start=1):
        deadline = day_words(context.tr, line.task.deadline)
        text.append(
            context.t(
                "dtask.list_line",
                number=number,
                title=line.task.title,
                deadline=deadline,
                done=line.done,
                total=line.total,
            )
        )
        if line.task.withdrawn_at is not None:
            text[-1] += context.t("dtask.list_withdrawn")
        label = f"{number}. {line.task.title[:24]} {line.done}/{line.total}"
        rows.append([(label, TaskView(line.task.id or 0))])
    await say(update, context, "\n".join(text)[:_MESSAGE_LIMIT], keyboard(*rows))


def _school_line(context: UnionContext, line: SchoolLine) -> str:
    tr = context.tr
    a = line.assignment
    if a.status == AssignmentStatus.DONE:
        at = local_time(a.done_at, context.settings.zone)
        by = line.done_by.real_name if line.done_by else ""
        key = "dtask.school_file" if a.reply_file_id else "dtask.school_done"
        text = tr(key, school=line.school.name, by=by, at=at)
        return text + (f"（{a.note}）" if a.note else "")
    if line.chairs == 0:
        return tr("dtask.school_no_chair", school=line.school.name)
    return tr("dtask.school_pending", school=line.school.name)


async def view_task(update: Update, context: UnionContext) -> None:
    """A task's schools: done by whom and when, file received, pending, no chair."""
    staff = await district_staff(update, context)
    if staff is None:
        return
    task_id = context.button_as(TaskView).task_id
    try:
        async with context.db() as session:
            task, lines = await task_schools(session, district_id=staff[1].id or 0, task_id=task_id)
    except DomainError as error:
        await refuse(update, context, error)
        return
    await context.answer(update)
    done = sum(1 for line in lines if line.assignment.status == AssignmentStatus.DONE)
    text = [
        context.t("dtask.detail_title", title=task.title),
        context.t(
            "dtask.detail_deadline",
            deadline=day_words(context.tr, task.deadline),
            done=done,
            total=len(lines),
        ),
        "",
        *(_school_line(context, line) for line in lines),
    ]
    rows: list[ButtonRow] = []
    if task.withdrawn_at is not None:
        at = local_time(task.withdrawn_at, context.settings.zone)
        text.insert(2, context.t("dtask.detail_withdrawn", at=at))
    elif done < len(lines):
        rows.append([(context.t("dtask.button.remind"), TaskAction("remind", task.id or 0))])
    rows.append([(context.t("dtask.button.export"), TaskAction("export", task.id or 0))])
    async with context.db() as session:
        rule = await rule_of(session, task=task)
    if rule is not None and rule.active:
        yearly = rule.every == RuleEvery.YEAR
        detail = N_("dtask.detail_yearly") if yearly else N_("dtask.detail_monthly")
        text.insert(2, context.t(detail, month=rule.month, day=rule.day, days=rule.due_days))
        off = TaskAction("yearly_off" if yearly else "monthly_off", task.id or 0)
        label = N_("dtask.button.yearly_off") if yearly else N_("dtask.button.monthly_off")
        rows.append([(context.t(label), off)])
    elif task.withdrawn_at is None:
        rows.append(
            [
                (context.t("dtask.button.monthly_on"), TaskAction("monthly_on", task.id or 0)),
                (context.t("dtask.button.yearly_on"), TaskAction("yearly_on", task.id or 0)),
            ]
        )
    if task.withdrawn_at is None:
        rows.append([(context.t("dtask.button.withdraw"), TaskAction("withdraw", task.id or 0))])
    files = [line for line in lines if line.assignment.reply_file_id][:_FILE_BUTTONS]
    rows += [[(f"📎 {line.school.name}", TaskFetch(line.assignment.id or 0))] for line in files]
    await say(update, context, "\n".join(text)[:_MESSAGE_LIMIT], keyboard(*rows))


async def task_action(update: Update, context: UnionContext) -> None:
    """Remind now, Export, or send it every month or every year (or stop)."""
    staff = await district_staff(update, context)
    if staff is None:
        return
    button = context.button_as(TaskAction)
    district_id = staff[1].id or 0
    try:
        async with context.db() as session:
            task, lines = await task_schools(
                session, district_id=district_id, task_id=button.task_id
            )
    except DomainError as error:
        await refuse(update, context, error)
        return
    if button.action == "export":
        await context.answer(update)
        data = await asyncio.to_thread(
            export_xlsx, context.tr, task, lines, zone=context.settings.zone
        )
        assert update.effective_user is not None
        await context.bot.send_document(
            update.effective_user.id, InputFile(data, filename=f"task-{task.id}.xlsx")
        )
        return
    if button.action in _REPEATS:
        if task.withdrawn_at is not None and _REPEATS[button.action][0] is not None:
            await refuse(update, context, DomainError(N_("dtask.is_withdrawn")))
            return
        async with context.db() as session:
            rule = await set_repeat(
                session,
                district_id=district_id,
                task_id=task.id or 0,
                every=_REPEATS[button.action][0],
                member_id=staff[0].id,
                zone=context.settings.zone,
            )
        await context.answer(update)
        said = context.t(
            _REPEATS[button.action][1], month=rule.month, day=rule.day, days=rule.due_days
        )
        await say(update, context, said)
        return
    if button.action == "withdraw":
        await withdraw.ask(update, context, district_id=district_id, task_id=task.id or 0)
        return
    if button.action == "withdraw_yes":
        await withdraw.withdraw(
            update, context, district_id=district_id, task_id=task.id or 0, member_id=staff[0].id
        )
        return
    if task.withdrawn_at is not None:
        await refuse(update, context, DomainError(N_("dtask.is_withdrawn")))
        return
    await remind_now(update, context, task_id=task.id or 0, district_id=district_id)


async def remind_now(
    update: Update, context: UnionContext, *, task_id: int, district_id: int
) -> None:
    """Remind the pending schools' chairs now (once per school per day by this button)."""
    day = context.today()
    now = context.state.clock()
    runtime = context.state.runtime
    async with context.db() as session:
        task = await get_task(session, district_id=district_id, task_id=task_id)
        pending = await pending_of(session, task_id=task_id)
    not_before = runtime.quiet.next_allowed(now) if runtime is not None else now
    queued = 0
    for assignment in pending:
        key = f"dtask:{task_id}:{assignment.school_id}:now:{day.isoformat()}"
        queued += await remind_school(
            context.db, context.i18n, task, assignment, key=key, today=day, not_before=not_before
        )
    if runtime is not None:
        runtime.sender.wake()
    await context.answer(update)
    if queued:
        await say(update, context, context.t("dtask.reminded", chairs=queued))
    else:
        await say(update, context, context.t("dtask.reminded_none"))


async def fetch_file(update: Update, context: UnionContext) -> None:
    """The file a school sent, re-sent to the district's staff member."""
    staff = await district_staff(update, context)
    if staff is None:
        return
    assignment_id = context.button_as(TaskFetch).assignment_id
    try:
        async with context.db() as session:
            assignment, task = await get_assignment(session, assignment_id=assignment_id)
    except DomainError as error:
        await refuse(update, context, error)
        return
    if task.district_id != staff[1].id or not assignment.reply_file_id:
        await refuse(update, context, DomainError(N_("dtask.unknown")))
        return
    await context.answer(update)
    assert update.effective_user is not None and assignment.reply_file_id is not None
    await context.bot.send_document(update.effective_user.id, assignment.reply_file_id)


def register(application: Application) -> None:
    """/dtasks and the district's buttons."""
    application.add_handler(CommandHandler("dtasks", list_tasks, filters=filters.ChatType.PRIVATE))
    application.add_handler(ButtonHandler(TaskView, view_task))
    application.add_handler(ButtonHandler(TaskAction, task_action))
    application.add_handler(ButtonHandler(TaskFetch, fetch_file))
