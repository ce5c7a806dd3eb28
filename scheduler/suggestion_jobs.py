"""The suggestion box's daily job: the committee digest of items left unanswered."""

from __future__ import annotations

from datetime import date, datetime

from models.base import utcnow
from models.organizations import get_organization
from models.outbox import Broadcast, BroadcastKind, OutboxNeed, Recipient, enqueue
from models.suggestion_text import render_digest
from models.suggestions import unanswered_for_days
from scheduler.jobs import FixedJob
from scheduler.runtime import Runtime

DIGEST_JOB = "digest:suggestions"


async def run_digest(runtime: Runtime) -> None:
    """The daily job: list suggestions unanswered for N days to the committee."""
    await send_digest(runtime, now=utcnow())


async def send_digest(runtime: Runtime, *, now: datetime) -> Broadcast | None:
    """Enqueue today's digest (once a day), if any item is overdue and a group is bound."""
    days = runtime.settings.suggestion_digest_days
    async with runtime.db() as session:
        org = await get_organization(session, runtime.org_id)
        items = await unanswered_for_days(session, org_id=runtime.org_id, now=now, days=days)
    tr = runtime.i18n.get(runtime.settings.default_language)
    text = render_digest(tr, items, days=days, now=now)
    if text is None or org.committee_chat_id is None:
        return None
    today: date = now.astimezone(runtime.settings.zone).date()
    async with runtime.db() as session:
        broadcast = await enqueue(
            session,
            org_id=runtime.org_id,
            key=f"digest:{runtime.org_id}:{today.isoformat()}",
            kind=BroadcastKind.TASK,
            recipients=[
                Recipient(chat_id=org.committee_chat_id, text=text, needs=OutboxNeed.COMMITTEE_CHAT)
            ],
            not_before=now,
            quiet=False,
        )
    runtime.sender.wake()
    return broadcast


DIGEST = FixedJob(DIGEST_JOB, run_digest, {"hour": 9, "minute": 0}, 6 * 3600)
