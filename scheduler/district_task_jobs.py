"""District tasks to the school chairs: what they are sent, and the daily reminder.

The reminder runs once for the whole deployment (not once per school) and finds the tasks of
every district itself, so it never reads `runtime.org_id`. At 09:00 in the union's zone each
school still pending on a task due within two days (or today) has its chairs reminded, once
per school per day: the outbox key names the task, the school and the day, and the
assignment records the day it was reminded (both are guarded in the database, so a rerun or a
second copy of the bot adds nothing). Quiet hours hold the messages back like any member's.

The same job first makes the task of each repeating rule whose day has come: the month's (the
月报) or the year's (校务公开评估 in April).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.db import SessionFactory
from bot.i18n import I18n, Translator
from models.base import utcnow
from models.district_tasks import (
    AnswerKind,
    DistrictTask,
    TaskAssignment,
    due_reminders,
    make_repeated_tasks,
    mark_reminded,
    school_chairs,
    still_sent,
)
from models.notice_text import day_words
from models.outbox import BroadcastKind, Buttons, Recipient, enqueue, to_chair
from scheduler.jobs import FixedJob
from scheduler.runtime import Runtime

logger = logging.getLogger(__name__)

DTASK_JOB = "dtasks:remind"


def answer_data(action: str, assignment_id: int) -> str:
    """The callback data of a chair's answer (handlers.district_tasks.buttons.TaskAnswer)."""
    return f"dta:{action}:{assignment_id}"


def attachment_data(assignment_id: int) -> str:
    """The callback data of 📎 附件 (handlers.district_tasks.buttons.TaskAttachment)."""
    return f"dtf:{assignment_id}"


def task_text(tr: Translator, task: DistrictTask, *, reminder: bool = False) -> str:
    """The task as a school chair reads it (or the reminder of it)."""
    deadline = day_words(tr, task.deadline)
    if reminder:
        lines = [tr("dtask.reminder", title=task.title, deadline=deadline)]
    else:
        lines = [tr("dtask.to_chair", title=task.title), "", task.body, ""]
        lines.append(tr("dtask.to_chair_deadline", deadline=deadline))
    lines.append(tr(f"dtask.how.{task.answer_kind}"))
    if task.file_id and not reminder:
        lines.append(tr("dtask.to_chair_file", name=task.file_name or ""))
    return "\n".join(lines)


def answer_buttons(tr: Translator, task: DistrictTask, assignment_id: int) -> Buttons:
    """Mark done or Reply with a file (and 📎 the attachment again) under the task."""
    action = "file" if task.answer_kind == AnswerKind.FILE else "done"
    rows: list[tuple[tuple[str, str], ...]] = [
        ((tr(f"dtask.button.{action}"), answer_data(action, assignment_id)),)
    ]
    if task.file_id:
        rows.append(((tr("dtask.button.attachment"), attachment_data(assignment_id)),))
    return tuple(rows)


async def chair_recipients(
    db: SessionFactory,
    i18n: I18n,
    task: DistrictTask,
    assignments: Sequence[TaskAssignment],
    *,
    reminder: bool = False,
) -> list[Recipient]:
    """One message per active chair of each school, in the chair's language."""
    async with db() as session:
        chairs = await school_chairs(session, school_ids=[a.school_id for a in assignments])
    recipients: list[Recipient] = []
    for assignment in assignments:
        for chair in chairs.get(assignment.school_id, []):
            if chair.telegram_user_id is None:
                continue
            tr = i18n.get(chair.language)
            recipients.append(
                to_chair(
                    chair,
                    task_text(tr, task, reminder=reminder),
                    answer_buttons(tr, task, assignment.id or 0),
                )
            )
    return recipients


async def queue_task(
    db: SessionFactory,
    i18n: I18n,
    task: DistrictTask,
    assignments: Sequence[TaskAssignment],
    *,
    not_before: datetime,
) -> list[Recipient]:
    """Queue the task to each school's chairs, one broadcast per school (keyed by task and
    school: a repeat adds nothing, and a person who chairs two schools gets each school's
    copy, which one broadcast would merge into one message); returns who was queued now."""
    queued: list[Recipient] = []
    for assignment in assignments:
        recipients = await chair_recipients(db, i18n, task, [assignment])
        if not recipients:
            continue
        async with db() as session:
            broadcast = await enqueue(
                session,
                org_id=task.district_id,
                key=f"dtask:{task.id}:{assignment.school_id}:sent",
                kind=BroadcastKind.TASK,
                recipients=recipients,
                not_before=not_before,
                quiet=True,
            )
        if broadcast is not None:
            queued += recipients
    return queued


async def remind_school(
    db: SessionFactory,
    i18n: I18n,
    task: DistrictTask,
    assignment: TaskAssignment,
    *,
    key: str,
    today: date,
    not_before: datetime,
) -> int:
    """Queue a reminder to one school's chairs under `key` and record the day; returns how
    many messages were queued (0 when this key was queued before, the school has no chair, or
    the task was withdrawn since the caller read it)."""
    recipients = await chair_recipients(db, i18n, task, [assignment], reminder=True)
    queued = None
    if recipients:
        async with db() as session:
            if not await still_sent(session, task_id=task.id or 0):
                await session.rollback()
                return 0
            queued = await enqueue(
                session,
                org_id=task.district_id,
                key=key,
                kind=BroadcastKind.TASK,
                recipients=recipients,
                not_before=not_before,
                quiet=True,
            )
    async with db() as session:
        await mark_reminded(session, assignment_id=assignment.id or 0, today=today)
    return len(recipients) if queued is not None else 0


async def remind_due(runtime: Runtime, *, today: date, now: datetime) -> int:
    """Remind every pending school of every district whose task is due within two days;
    returns how many messages were queued."""
    async with runtime.db() as session:
        due = await due_reminders(session, today=today)
    queued = 0
    not_before = runtime.quiet.next_allowed(now)
    for task, assignment in due:
        key = f"dtask:{task.id}:{assignment.school_id}:remind:{today.isoformat()}"
        queued += await remind_school(
            runtime.db, runtime.i18n, task, assignment, key=key, today=today, not_before=not_before
        )
    if queued:
        logger.info("District tasks: %s reminders queued", queued)
        runtime.sender.wake()
    return queued


async def send_repeated(runtime: Runtime, *, today: date, now: datetime) -> int:
    """Make this month's (or year's) task of each repeating rule whose day has come and queue
    it to the chairs; returns how many tasks were made. The attachment is not sent here (the outbox
    sends text only): the 📎 button under the task fetches it when a chair presses it."""
    async with runtime.db() as session:
        made = await make_repeated_tasks(session, today=today)
    for task, assignments in made:
        await queue_task(
            runtime.db,
            runtime.i18n,
            task,
            assignments,
            not_before=runtime.quiet.next_allowed(now),
        )
        logger.info("District task %s made by its repeating rule", task.id)
    if made:
        runtime.sender.wake()
    return len(made)


async def run_reminders(runtime: Runtime) -> None:
    """The daily job: the recurring tasks due today, then the reminders."""
    now = utcnow()
    zone: ZoneInfo = runtime.settings.zone
    today = now.astimezone(zone).date()
    await send_repeated(runtime, today=today, now=now)
    await remind_due(runtime, today=today, now=now)


# Once for the deployment: it finds every district's tasks itself.
DTASK_REMINDERS = FixedJob(
    DTASK_JOB, run_reminders, {"hour": 9, "minute": 0}, 6 * 3600, per_school=False
)
