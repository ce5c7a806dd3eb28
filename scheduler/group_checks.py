"""A calendar entry for union groups checks its groups when it fires: a department renamed or
left with nobody who has joined would silently reach nobody every year, so the committee gets
a task naming the entry and the missing groups (once per occurrence)."""

from __future__ import annotations

import logging
from datetime import date, datetime

from models.audiences import audience_members
from models.calendar import AudienceType, CalendarEntry
from models.groups import union_groups
from models.organizations import get_organization
from models.outbox import Broadcast, BroadcastKind, Recipient, enqueue
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
        org = await get_organization(session, runtime.org_id)

        def text(language: str) -> str:
            tr = runtime.i18n.get(language)
            separator = ", " if tr.language == "en" else "、"
            return tr(
                "calendar.groups_missing",
                title=pick(entry.titles, language, default),
                names=separator.join(missing),
            )

        if org.committee_chat_id is not None:
            recipients = [Recipient(chat_id=org.committee_chat_id, text=text(default))]
        else:
            committee = await audience_members(
                session,
                org_id=runtime.org_id,
                audience={"type": AudienceType.COMMITTEE},
                today=occurrence,
                respect_mute=False,
            )
            recipients = [
                Recipient(
                    chat_id=member.telegram_user_id or 0,
                    text=text(member.language or default),
                    member_id=member.id,
                )
                for member in committee
            ]
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
