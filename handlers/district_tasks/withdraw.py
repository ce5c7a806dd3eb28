"""Withdrawing a task sent in error (district staff, under a task's status): asked once more,
then stored once, and in the same transaction what the outbox has not sent of it yet (the
task itself in quiet hours, a reminder) is held back and a repeat rule made from it stops.
The chairs it did reach, of schools still pending, are told it is withdrawn; answers already
given stay. After it, a chair's answer button says the task was withdrawn, and no reminder
goes out."""

from __future__ import annotations

import logging

from telegram import Update

from bot.context import UnionContext
from handlers.common import keyboard, refuse, say
from handlers.district_tasks.buttons import TaskAction, TaskView
from models.district_tasks import (
    DistrictTask,
    RuleEvery,
    TaskAssignment,
    get_task,
    local_time,
    pending_of,
    withdraw_task,
)
from models.errors import N_, DomainError
from models.members import Member, MemberStatus
from models.organizations import get_organization
from models.outbox import BroadcastKind, Recipient, reached_members

logger = logging.getLogger(__name__)


async def ask(update: Update, context: UnionContext, *, district_id: int, task_id: int) -> None:
    """The question before withdrawing, with how many schools will be told."""
    try:
        async with context.db() as session:
            task = await get_task(session, district_id=district_id, task_id=task_id)
            pending = await pending_of(session, task_id=task_id)
    except DomainError as error:
        await refuse(update, context, error)
        return
    await context.answer(update)
    if task.withdrawn_at is not None:
        await _already(update, context, task)
        return
    rows = [
        (context.t("dtask.button.withdraw_yes"), TaskAction("withdraw_yes", task_id)),
        (context.t("dtask.button.withdraw_no"), TaskView(task_id)),
    ]
    text = context.t("dtask.withdraw_ask", title=task.title, pending=len(pending))
    await say(update, context, text, keyboard(rows))


async def withdraw(
    update: Update, context: UnionContext, *, district_id: int, task_id: int, member_id: int
) -> None:
    """Withdraw once (the outbox held back and a rule made from it stopped in the same
    transaction); tell the chairs it reached. A second press tells anyone a first press
    could not (the outbox key makes it once) and says when it was withdrawn."""
    try:
        async with context.db() as session:
            done = await withdraw_task(
                session, district_id=district_id, task_id=task_id, now=context.state.clock()
            )
    except DomainError as error:
        await refuse(update, context, error)
        return
    await context.answer(update)
    if done.fresh:
        logger.info("District task %s withdrawn by member %s", task_id, member_id)
    told = 0
    for assignment in done.pending:
        told += await _tell_school(context, done.task, assignment)
    if not done.fresh:
        await _already(update, context, done.task)
        return
    lines = [context.t("dtask.withdrawn_done", title=done.task.title, told=told)]
    if done.rule_stopped:
        lines.append(context.t("dtask.withdrawn_rule_stopped"))
    rule = done.rule_going_on
    if rule is None:
        await say(update, context, "\n".join(lines))
        return
    yearly = rule.every == RuleEvery.YEAR
    off = TaskAction("yearly_off" if yearly else "monthly_off", task_id)
    label = N_("dtask.button.yearly_off") if yearly else N_("dtask.button.monthly_off")
    lines.append(context.t("dtask.withdrawn_rule_goes_on"))
    await say(update, context, "\n".join(lines), keyboard([(context.t(label), off)]))


async def _tell_school(
    context: UnionContext, task: DistrictTask, assignment: TaskAssignment
) -> int:
    """Tell the members the task reached at this school (still active there) that it is
    withdrawn; 1 if anyone is told."""
    async with context.db() as session:
        reached = await reached_members(session, key=f"dtask:{task.id}:{assignment.school_id}:sent")
        members = [
            member
            for member_id in reached
            if (member := await session.get(Member, member_id)) is not None
            and member.organization_id == assignment.school_id
            and member.status == MemberStatus.ACTIVE
            and member.telegram_user_id is not None
        ]
        district = await get_organization(session, task.district_id)
    recipients = [
        Recipient(
            chat_id=member.telegram_user_id or 0,
            text=context.i18n.get(member.language)(
                "dtask.withdrawn_to_chair", district=district.name, title=task.title
            ),
            member_id=member.id,
        )
        for member in members
    ]
    if not recipients:
        return 0
    await context.notifier.queue(
        org_id=task.district_id,
        # Not under "dtask:<id>:", which a withdrawal holds back.
        key=f"dtask-withdrawn:{task.id}:{assignment.school_id}",
        kind=BroadcastKind.TASK,
        recipients=recipients,
        quiet=True,
    )
    return 1


async def _already(update: Update, context: UnionContext, task: DistrictTask) -> None:
    at = local_time(task.withdrawn_at, context.settings.zone)
    await say(update, context, context.t("dtask.withdrawn_already", at=at))
