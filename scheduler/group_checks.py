"""A calendar entry for union groups checks its groups when it fires: a department renamed or
left with nobody who has joined would silently reach nobody every year, so the committee gets
a task naming the entry and the missing groups (once per occurrence)."""

from __future__ import annotations

import logging
from datetime import date, datetime

from models.calendar import AudienceType, CalendarEntry
from models.groups import union_groups
from models.outbox import Broadcast, BroadcastKind, enqueue
from scheduler.committee_recipients import committee_recipients
from scheduler.render import pick
from scheduler.runtime import Runtime

logger = logging.getLogger(__name__)


def missing_groups_key(entry_id: int, occurrence: date) -> str:
    """The outbox key of one occurrence's missing-groups task (not `cal:`: the entry's own)."""
    return f"calgroups:{entry_id}:{occurrence.isoformat()}"


async def warn_missing_groups(
    runtime: Runtime, entry: CalendarEntry, occurrence: date, *, now: datetime
) -> Broadcast | None:
    """Tell the committee which of a departmental entry's groups are gone or have nobody who
    has joined; None when every group is there (or the task was enqueued before)."""
    if entry.audience.get("type") != AudienceType.DEPARTMENTS:
        return None
    default = runtime.settings.default_language
    async with runtime.db() as session:
        present = {
            group.name
            for group in await union_groups(session, org_id=runtime.org_id)
            if group.active > 0
        }
        missing = [str(name) for name in entry.audience.get("names", []) if name not in present]
        if not missing:
            return None

        async def text(language: str) -> str:
            tr = runtime.i18n.get(language)
            separator = ", " if tr.language == "en" else "、"
            return tr(
                "calendar.groups_missing",
                title=pick(entry.titles, language, default),
                names=separator.join(missing),
            )

        recipients = await committee_recipients(
            session,
            org_id=runtime.org_id,
            default_language=default,
            today=occurrence,
            text=text,
        )
        if not recipients:
            return None
        broadcast = await enqueue(
            session,
            org_id=runtime.org_id,
            key=missing_groups_key(entry.id or 0, occurrence),
            kind=BroadcastKind.TASK,
            recipients=recipients,
            not_before=now,
            quiet=False,
        )
    if broadcast is not None:
        logger.warning(
            "Calendar entry %s for %s: %s groups missing", entry.key, occurrence, len(missing)
        )
        runtime.sender.wake()
    return broadcast
