"""The activities' job every few minutes: lotteries drawn at their deadline, and reminders to
participants before the start (by default a day and two hours before). Each message goes
through the outbox under a key per activity and reminder, so a rerun sends nothing twice."""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

from sqlmodel import col, select

from models.activities import (
    Activity,
    ActivityStatus,
    SelectionMode,
    SignupStatus,
    draw_lottery,
    signups_of,
)
from models.base import utcnow
from models.members_queries import members_by_id
from models.outbox import BroadcastKind, Recipient, broadcast_exists, enqueue
from scheduler.jobs import FixedJob
from scheduler.runtime import Runtime

logger = logging.getLogger(__name__)

ACTIVITY_JOB = "activities:tick"


async def run_activity_tick(runtime: Runtime) -> None:
    """The periodic job."""
    await activity_tick(runtime, now=utcnow(), rng=random.SystemRandom())


async def activity_tick(runtime: Runtime, *, now: datetime, rng: random.Random) -> int:
    """Draw due lotteries and queue due reminders; returns how many broadcasts were queued."""
    async with runtime.db() as session:
        upcoming = (
            await session.exec(
                select(Activity).where(
                    Activity.organization_id == runtime.org_id,
                    col(Activity.status) != ActivityStatus.CANCELLED,
                    # A lottery whose deadline is its start is drawn after the start, too.
                    (col(Activity.starts_at) > now)
                    | (
                        (col(Activity.mode) == SelectionMode.LOTTERY)
                        & col(Activity.drawn).is_(False)
                    ),
                )
            )
        ).all()
    queued = 0
    for activity in upcoming:
        if (
            activity.mode == SelectionMode.LOTTERY
            and not activity.drawn
            and now >= activity.deadline
        ):
            queued += await _draw(runtime, activity, now, rng)
        for hours in runtime.settings.activity_reminder_hours:
            if activity.starts_at - timedelta(hours=hours) <= now < activity.starts_at:
                queued += await _remind(runtime, activity, hours)
    if queued:
        runtime.sender.wake()
    return queued


async def _draw(runtime: Runtime, activity: Activity, now: datetime, rng: random.Random) -> int:
    async with runtime.db() as session:
        draw = await draw_lottery(
            session, org_id=runtime.org_id, activity_id=activity.id or 0, now=now, rng=rng
        )
    if draw is None:
        return 0
    logger.info("Activity %s drawn: %s seats", activity.id, len(draw.seated))
    won = dict.fromkeys(draw.seated, "activity.lottery_won")
    lost = dict.fromkeys(draw.waiting, "activity.lottery_waiting")
    return await _queue(runtime, activity, {**won, **lost}, key="draw")


async def _remind(runtime: Runtime, activity: Activity, hours: int) -> int:
    key = f"activity:{activity.id}:remind:{hours}"
    async with runtime.db() as session:
        if await broadcast_exists(session, key=key):
            return 0
        seated = await signups_of(
            session, activity_id=activity.id or 0, statuses=[SignupStatus.SEAT]
        )
    return await _queue(
        runtime, activity, {s.member_id: "activity.reminder" for s in seated}, key=f"remind:{hours}"
    )


async def _queue(runtime: Runtime, activity: Activity, keys: dict[int, str], *, key: str) -> int:
    """One message per member in their language, as one outbox broadcast."""
    async with runtime.db() as session:
        people = await members_by_id(session, list(keys))
    zone = runtime.settings.zone
    when = activity.starts_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    recipients = [
        Recipient(
            chat_id=member.telegram_user_id,
            text=runtime.i18n.get(member.language)(
                keys[member_id], title=activity.title, when=when, place=activity.place
            ),
            member_id=member_id,
        )
        for member_id, member in people.items()
        if member.telegram_user_id is not None
    ]
    if not recipients:
        return 0
    async with runtime.db() as session:
        broadcast = await enqueue(
            session,
            org_id=runtime.org_id,
            key=f"activity:{activity.id}:{key}",
            kind=BroadcastKind.ANNOUNCEMENT,
            recipients=recipients,
            not_before=utcnow(),
            quiet=key != "draw",
        )
    return 1 if broadcast is not None else 0


ACTIVITY_TICK = FixedJob(ACTIVITY_JOB, run_activity_tick, {"minute": "*/5"}, 3600)
