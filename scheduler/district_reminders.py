"""The district's daily reminders to school chairs, at 09:00 in the union's zone, from two days
before a deadline, once a day, only to the schools that still owe something:

- a contest's entries: schools with no team, with the button that enters one;
- an assessment's evidence (when the district set a deadline): schools missing evidence for
  some required item, with how many.

Once per school per day: the outbox key names the contest, the school and the day (guarded in
the database, so a rerun or a second copy of the bot adds nothing). It runs once for the whole
deployment and finds every district's contests itself. Quiet hours hold the messages back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from datetime import datetime

from bot.i18n import Translator
from models.assessment import school_chairs
from models.base import utcnow
from models.district_reminders import ContestOwed, EvidenceOwed, contests_owed, evidence_owed
from models.outbox import BroadcastKind, Buttons, Recipient, enqueue, to_chair
from scheduler.jobs import FixedJob
from scheduler.runtime import Runtime

logger = logging.getLogger(__name__)

CONTEST_REMINDER_JOB = "dcontest:remind"
ASSESSMENT_REMINDER_JOB = "assess:remind"


def enter_data(contest_id: int, school_id: int) -> str:
    """The callback data of 📝 报名参赛 (handlers.district_contests.buttons.ContestEnter)."""
    return f"dc:e:{contest_id}:{school_id}"


async def remind_entries(runtime: Runtime, *, now: datetime) -> int:
    """Remind the chairs of every school without a team in a contest closing within two days;
    returns how many messages were queued."""
    async with runtime.db() as session:
        owed = await contests_owed(session, now=now, zone=runtime.settings.zone)
    queued = 0
    for item in owed:
        by_school = await _recipients(runtime, item)
        key = f"dcontest:{item.contest.id}"
        queued += await _queue_daily(
            runtime, by_school, org_id=item.contest.district_id, key=key, now=now
        )
    if queued:
        logger.info("District contests: %s entry reminders queued", queued)
    return queued


async def _queue_daily(
    runtime: Runtime,
    by_school: dict[int, list[Recipient]],
    *,
    org_id: int,
    key: str,
    now: datetime,
) -> int:
    """Queue each school's reminder under `key:school:remind:day` (a day's second run adds
    nothing, guarded by the outbox's unique key); returns how many messages were queued."""
    day = now.astimezone(runtime.settings.zone).date().isoformat()
    not_before = runtime.quiet.next_allowed(now)
    queued = 0
    for school_id, recipients in by_school.items():
        async with runtime.db() as session:
            broadcast = await enqueue(
                session,
                org_id=org_id,
                key=f"{key}:{school_id}:remind:{day}",
                kind=BroadcastKind.TASK,
                recipients=recipients,
                not_before=not_before,
                quiet=True,
            )
        if broadcast is not None:
            queued += len(recipients)
    if queued:
        runtime.sender.wake()
    return queued


Render = Callable[[Translator, int], tuple[str, Buttons]]


async def _chairs_told(
    runtime: Runtime, *, district_id: int, schools: Collection[int], render: Render
) -> dict[int, list[Recipient]]:
    """The chairs of `schools` in the district (active, reachable, read now), by school, each
    with `render(tr, school)` in the chair's own language."""
    async with runtime.db() as session:
        chairs = await school_chairs(session, district_id=district_id)
    by_school: dict[int, list[Recipient]] = {}
    for chair in chairs:
        if chair.organization_id not in schools or chair.telegram_user_id is None:
            continue
        text, buttons = render(runtime.i18n.get(chair.language), chair.organization_id)
        by_school.setdefault(chair.organization_id, []).append(to_chair(chair, text, buttons))
    return by_school


async def _recipients(runtime: Runtime, item: ContestOwed) -> dict[int, list[Recipient]]:
    """Each school without a team: its chairs, with the button that enters its team."""
    contest = item.contest
    deadline = f"{contest.deadline.astimezone(runtime.settings.zone):%Y-%m-%d %H:%M}"

    def render(tr: Translator, school_id: int) -> tuple[str, Buttons]:
        text = tr("dcontest.reminder", title=contest.title, deadline=deadline)
        enter = (
            tr("dcontest.btn_enter", title=contest.title),
            enter_data(contest.id or 0, school_id),
        )
        return text, ((enter,),)

    return await _chairs_told(
        runtime, district_id=contest.district_id, schools=set(item.school_ids), render=render
    )


async def remind_evidence(runtime: Runtime, *, now: datetime) -> int:
    """Remind the chairs of every school missing evidence for an assessment due within two
    days; returns how many messages were queued."""
    async with runtime.db() as session:
        owed = await evidence_owed(session, today=now.astimezone(runtime.settings.zone).date())
    queued = 0
    for item in owed:
        by_school = await _evidence_recipients(runtime, item)
        key = f"assess:{item.assessment.id}"
        queued += await _queue_daily(
            runtime, by_school, org_id=item.assessment.district_id, key=key, now=now
        )
    if queued:
        logger.info("Assessments: %s evidence reminders queued", queued)
    return queued


async def _evidence_recipients(runtime: Runtime, item: EvidenceOwed) -> dict[int, list[Recipient]]:
    """Each school missing evidence: its chairs, told how many items it still lacks."""
    assessment = item.assessment
    assert assessment.deadline is not None
    day = assessment.deadline.isoformat()

    def render(tr: Translator, school_id: int) -> tuple[str, Buttons]:
        missing = item.missing[school_id]
        return tr("assess.reminder", title=assessment.title, date=day, missing=missing), ()

    return await _chairs_told(
        runtime, district_id=assessment.district_id, schools=item.missing.keys(), render=render
    )


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


async def run_assessment_reminders(runtime: Runtime) -> None:
    """The daily job."""
    await remind_evidence(runtime, now=utcnow())


ASSESSMENT_REMINDERS = FixedJob(
    ASSESSMENT_REMINDER_JOB,
    run_assessment_reminders,
    {"hour": 9, "minute": 0},
    6 * 3600,
    per_school=False,
)
