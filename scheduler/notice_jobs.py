"""The public notices' job: at the end of each period the notice is marked (公示期满无异议,
有异议，已处理 or 有异议，待处理), its channel post gets the outcome (edited in place, or a
follow-up when the post cannot be edited), and the committee is told. Runs every hour, so a
notice ends in the first hour after its last day; a rerun changes nothing (the change of status
is guarded in the database and the messages go through the outbox under a key per notice)."""

from __future__ import annotations

import logging
from datetime import date, datetime

from telegram.error import TelegramError

from models.base import utcnow
from models.notice_text import ended_for_committee, post_parts
from models.notices import Notice, due_notices, end_notice, objections_of
from models.outbox import BroadcastKind, Recipient, enqueue
from scheduler.committee_recipients import committee_recipients
from scheduler.jobs import FixedJob
from scheduler.runtime import Runtime

logger = logging.getLogger(__name__)

NOTICE_JOB = "notices:end"


async def run_notice_ends(runtime: Runtime) -> None:
    """The hourly job."""
    now = utcnow()
    await end_due_notices(runtime, today=now.astimezone(runtime.settings.zone).date(), now=now)


async def end_due_notices(runtime: Runtime, *, today: date, now: datetime) -> int:
    """Mark every notice whose period is over; returns how many were ended now."""
    async with runtime.db() as session:
        due = await due_notices(session, org_id=runtime.org_id, today=today)
    ended = 0
    for notice in due:
        async with runtime.db() as session:
            done = await end_notice(session, notice_id=notice.id or 0, now=now)
        if done is None:
            continue  # ended by another run meanwhile
        ended += 1
        logger.info("Notice %s ended: %s", done.id, done.status)
        await tell_outcome(runtime, done, key="end")
    if ended:
        runtime.sender.wake()
    return ended


async def tell_outcome(runtime: Runtime, notice: Notice, *, key: str) -> None:
    """The outcome on the channel post and to the committee (`key` names this telling)."""
    default = runtime.settings.default_language
    tr = runtime.i18n.get(default)
    async with runtime.db() as session:
        objections = await objections_of(session, notice_id=notice.id or 0)
    recipients: list[Recipient] = []
    if notice.channel_chat_id is not None and notice.channel_message_id is not None:
        # A post in one message gets the outcome in place; a long one (several messages, the
        # last recorded) gets it as a follow-up, as does a post that can no longer be edited.
        parts = post_parts(tr, notice)
        edited = False
        if len(parts) == 1:
            try:
                await runtime.sender.bot.edit_message_text(
                    parts[0],
                    chat_id=notice.channel_chat_id,
                    message_id=notice.channel_message_id,
                )
                edited = True
            except TelegramError as exc:
                logger.warning(
                    "Notice %s post could not be edited: %s", notice.id, type(exc).__name__
                )
        if not edited:
            follow_up = tr("notice.follow_up", number=notice.number, title=notice.title)
            text = follow_up + "\n" + tr(f"notice.status.{notice.status}")
            recipients.append(Recipient(chat_id=notice.channel_chat_id, text=text))
    unanswered = sum(1 for objection in objections if objection.answer is None)

    async def told(language: str) -> str:
        return ended_for_committee(runtime.i18n.get(language), notice, len(objections), unanswered)

    async with runtime.db() as session:
        recipients += await committee_recipients(
            session,
            org_id=runtime.org_id,
            default_language=default,
            today=utcnow().astimezone(runtime.settings.zone).date(),
            text=told,
        )
        await enqueue(
            session,
            org_id=runtime.org_id,
            key=f"notice:{notice.id}:{key}",
            kind=BroadcastKind.TASK,
            recipients=recipients,
            not_before=utcnow(),
            quiet=False,
        )
    runtime.sender.wake()


NOTICE_ENDS = FixedJob(NOTICE_JOB, run_notice_ends, {"minute": 7}, 3600)
