"""The aid's daily job: hardship files due for their yearly review, listed for the committee
(file numbers and masked names only: the group never reads a family's circumstances)."""

from __future__ import annotations

import logging
from datetime import date, datetime

from models.aid import masked
from models.base import utcnow
from models.hardship import due_for_review, file_number
from models.members_queries import members_by_id
from models.organizations import get_organization
from models.outbox import BroadcastKind, OutboxNeed, Recipient, enqueue
from scheduler.jobs import FixedJob
from scheduler.runtime import Runtime

logger = logging.getLogger(__name__)

AID_JOB = "aid:daily"


async def run_aid_day(runtime: Runtime) -> None:
    """The daily job."""
    await aid_day(runtime, today=datetime.now(runtime.settings.zone).date())


async def aid_day(runtime: Runtime, *, today: date) -> bool:
    """Queue today's review reminder for the committee group (once a day); True if queued."""
    async with runtime.db() as session:
        due = await due_for_review(session, org_id=runtime.org_id, today=today)
        people = await members_by_id(session, [record.member_id for record in due])
        org = await get_organization(session, runtime.org_id)
    if not due or org.committee_chat_id is None:
        return False
    tr = runtime.i18n.get(runtime.settings.default_language)
    lines = [tr("hardship.review_due_title", count=len(due))]
    for record in due:
        member = people.get(record.member_id)
        lines.append(
            tr(
                "hardship.review_due_line",
                number=file_number(record),
                name=masked(member.real_name if member else ""),
                date=record.review_on.isoformat(),
            )
        )
    async with runtime.db() as session:
        broadcast = await enqueue(
            session,
            org_id=runtime.org_id,
            key=f"hardship-review:{runtime.org_id}:{today.isoformat()}",
            kind=BroadcastKind.TASK,
            recipients=[
                Recipient(
                    org.committee_chat_id,
                    "\n".join(lines)[:4000],
                    needs=OutboxNeed.COMMITTEE_CHAT,
                )
            ],
            not_before=utcnow(),
            quiet=False,
        )
    if broadcast is None:
        return False
    logger.info("Hardship review reminder: %s files due", len(due))
    runtime.sender.wake()
    return True


AID_DAY = FixedJob(AID_JOB, run_aid_day, {"hour": 8, "minute": 10}, 12 * 3600)
