"""The district contests' entry reminder: at 09:00 in the union's zone, from two days before a
contest's entry deadline, the chairs of each school that has not entered a team are told once
a day, with the button that enters it. Schools that entered hear nothing.

Once per school per day: the outbox key names the contest, the school and the day (guarded in
the database, so a rerun or a second copy of the bot adds nothing). It runs once for the whole
deployment and finds every district's contests itself. Quiet hours hold the messages back.
"""

from __future__ import annotations

import logging
from datetime import datetime

from models.assessment import school_chairs
from models.base import utcnow
from models.contest_reminders import ContestOwed, contests_owed
from models.outbox import BroadcastKind, Recipient, enqueue
from scheduler.jobs import FixedJob
from scheduler.runtime import Runtime

logger = logging.getLogger(__name__)

CONTEST_REMINDER_JOB = "dcontest:remind"


def enter_data(contest_id: int, school_id: int) -> str:
    """The callback data of 📝 报名参赛 (handlers.district_contests.buttons.ContestEnter)."""
    return f"dc:e:{contest_id}:{school_id}"


async def remind_entries(runtime: Runtime, *, now: datetime) -> int:
    """Remind the chairs of every school without a team in a contest closing within two days;
    returns how many messages were queued."""
    zone = runtime.settings.zone
    async with runtime.db() as session:
        owed = await contests_owed(session, now=now, zone=zone)
    today = now.astimezone(zone).date()
    not_before = runtime.quiet.next_allowed(now)
    queued = 0
    for item in owed:
        for school_id, recipients in (await _recipients(runtime, item)).items():
            async with runtime.db() as session:
                broadcast = await enqueue(
                    session,
                    org_id=item.contest.district_id,
                    key=f"dcontest:{item.contest.id}:{school_id}:remind:{today.isoformat()}",
                    kind=BroadcastKind.TASK,
                    recipients=recipients,
                    not_before=not_before,
                    quiet=True,
                )
            if broadcast is not None:
                queued += len(recipients)
    if queued:
        logger.info("District contests: %s entry reminders queued", queued)
        runtime.sender.wake()
    return queued


async def _recipients(runtime: Runtime, item: ContestOwed) -> dict[int, list[Recipient]]:
    """Each owing school's chairs, one message each in the chair's language."""
    contest = item.contest
    async with runtime.db() as session:
        chairs = await school_chairs(session, district_id=contest.district_id)
    deadline = f"{contest.deadline.astimezone(runtime.settings.zone):%Y-%m-%d %H:%M}"
    by_school: dict[int, list[Recipient]] = {}
    for chair in chairs:
        if chair.organization_id not in item.school_ids or chair.telegram_user_id is None:
            continue
        tr = runtime.i18n.get(chair.language)
        button = enter_data(contest.id or 0, chair.organization_id)
        by_school.setdefault(chair.organization_id, []).append(
            Recipient(
                chat_id=chair.telegram_user_id,
                text=tr("dcontest.reminder", title=contest.title, deadline=deadline),
                member_id=chair.id,
                buttons=(((tr("dcontest.btn_enter", title=contest.title), button),),),
            )
        )
    return by_school


async def run_contest_reminders(runtime: Runtime) -> None:
    """The daily job."""
    await remind_entries(runtime, now=utcnow())


# Once for the deployment: it finds every district's contests itself.
CONTEST_REMINDERS = FixedJob(
    CONTEST_REMINDER_JOB,
    run_contest_reminders,
    {"hour": 9, "minute": 0},
    6 * 3600,
    per_school=False,
)
