"""Care in the calendar: the lists under the visits tasks (spring_visits, double_ninth_visits),
and greetings for people no message can reach.

When a greeting fires, the people of its audience who never joined the bot (roster members
still `invited`, or active without a Telegram account) are not skipped silently: the committee
gets one task naming them, to visit or call them (a birthday likewise). We chose a task over
putting them on a care round: a greeting is for the day itself, and a round is the committee's
own decision (the task says how to start one with /care). For a greeting to the whole staff
(新年, 教师节, 三八 ...) only the retirees out of reach are named: colleagues still at work are
greeted at school every day, and naming the whole unjoined roster on every holiday would bury
the ones who need the visit.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import Translator
from models.audiences import audience_members
from models.calendar import AudienceType, CalendarEntry
from models.care import hardship_people, retirees
from models.care_text import masked_names, roster_lines
from models.outbox import Broadcast, BroadcastKind, enqueue
from scheduler.committee_recipients import committee_recipients
from scheduler.render import pick
from scheduler.runtime import Runtime

logger = logging.getLogger(__name__)

# Audiences of a few people greeted personally: everyone out of reach is named.
PERSONAL_AUDIENCES = frozenset(
    {AudienceType.RETIREES, AudienceType.BIRTHDAY, AudienceType.HARDSHIP, AudienceType.MEMBERS}
)


def in_person_key(entry_id: int, occurrence: date) -> str:
    """The outbox key of one greeting's in-person task (not `cal:`: that prefix is the
    greeting's own occurrence)."""
    return f"calvisit:{entry_id}:{occurrence.isoformat()}"


async def spring_visits_block(
    session: AsyncSession, org_id: int, occurrence: date, tr: Translator
) -> str:
    """Under the Spring Festival visits task: the retirees by name and department, the
    families on hardship files as the desk shows them (王*), and how to start the round."""
    old = await retirees(session, org_id=org_id)
    old_ids = {member.id for member in old}
    files = [member for member in await hardship_people(session, org_id=org_id)
             if member.id not in old_ids]  # fmt: skip
    lines = []
    if files:
        lines.append(tr("care.extra_files", count=len(files), names=masked_names(files)))
    if old:
        lines += [tr("care.extra_retirees", count=len(old)), roster_lines(tr, old)]
    if not lines:
        return tr("care.extra_nobody")
    lines.append(tr("care.extra_start", title=tr("care.spring_title", year=occurrence.year)))
    return "\n".join(lines)


async def double_ninth_block(
    session: AsyncSession, org_id: int, occurrence: date, tr: Translator
) -> str:
    """Under the 重阳 visits task: the retirees by name and department, and how to start."""
    old = await retirees(session, org_id=org_id)
    if not old:
        return tr("care.extra_nobody")
    return "\n".join(
        [
            tr("care.extra_retirees", count=len(old)),
            roster_lines(tr, old),
            tr("care.extra_start", title=tr("care.double_ninth_title", year=occurrence.year)),
        ]
    )


async def greet_in_person(
    runtime: Runtime, entry: CalendarEntry, occurrence: date, *, now: datetime
) -> Broadcast | None:
    """One task for the committee naming the people of a greeting's audience no message can
    reach (once per occurrence); None when there is nobody, or it was enqueued before."""
    default = runtime.settings.default_language
    async with runtime.db() as session:
        people = await audience_members(
            session,
            org_id=runtime.org_id,
            audience=entry.audience,
            today=occurrence,
            respect_mute=True,
            reachable=False,
        )
        if str(entry.audience.get("type", "")) not in PERSONAL_AUDIENCES:
            people = [member for member in people if member.retired]
        if not people:
            return None
        on_file = entry.audience.get("type") == AudienceType.HARDSHIP

        async def text(language: str) -> str:
            tr = runtime.i18n.get(language)
            # Families on hardship files are named only as the aid desk names them (王*).
            names = masked_names(people) if on_file else roster_lines(tr, people)
            return tr(
                "care.greet_in_person",
                title=pick(entry.titles, language, default),
                count=len(people),
                names=names,
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
            key=in_person_key(entry.id or 0, occurrence),
            kind=BroadcastKind.TASK,
            recipients=recipients,
            not_before=now,
            quiet=False,
            report_chat_id=None,
        )
    if broadcast is not None:
        logger.info(
            "Calendar entry %s for %s: %s people to greet in person",
            entry.key,
            occurrence,
            len(people),
        )
        runtime.sender.wake()
    return broadcast
