"""Calendar jobs: turn an entry's occurrence into an outbox broadcast, then plan the next one.

Each entry has one APScheduler job with a stable id (`calendar:<entry id>`) that runs at the
entry's next occurrence; the broadcast key `cal:<entry id>:<date>` makes each occurrence happen
once, however often the job or a reconciliation runs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.date import DateTrigger
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.settings import Settings
from models.audiences import Addressee, audience_addressees, audience_need
from models.base import utcnow
from models.calendar import CalendarEntry, EntryKind, get_entry, list_entries
from models.hardship import active_files
from models.members import Gender, Member, MemberStatus
from models.organizations import get_organization
from models.outbox import Broadcast, BroadcastKind, Recipient, enqueue
from scheduler.care_tasks import greet_in_person
from scheduler.committee_recipients import committee_recipients
from scheduler.dates import RuleError, Terms, next_occurrence, occurrences
from scheduler.group_checks import warn_missing_groups
from scheduler.render import fill, pick, picked_language
from scheduler.runtime import Runtime
from scheduler.task_extras import extra_block

logger = logging.getLogger(__name__)

# How late an occurrence may still go out after downtime.
GRACE = {
    EntryKind.GREETING: timedelta(hours=6),
    EntryKind.ANNOUNCEMENT: timedelta(hours=6),
    EntryKind.TASK: timedelta(days=1),
}
_KIND_TO_BROADCAST = {
    EntryKind.GREETING: BroadcastKind.GREETING,
    EntryKind.ANNOUNCEMENT: BroadcastKind.ANNOUNCEMENT,
    EntryKind.TASK: BroadcastKind.TASK,
}


def job_id(entry_id: int) -> str:
    """The stable APScheduler job id of an entry."""
    return f"calendar:{entry_id}"


def occurrence_key(entry_id: int, occurrence: date) -> str:
    """The broadcast key of one occurrence."""
    return f"cal:{entry_id}:{occurrence.isoformat()}"


def plan_next_run(
    entry: CalendarEntry,
    *,
    now: datetime,
    zone: Any,
    done: set[date],
    resolve: Any = None,
    terms: Terms | None = None,
) -> tuple[date, datetime] | None:
    """The next occurrence to run and when: the earliest one not done whose time is not
    further back than the entry's grace (so a bot down at 08:00 still sends at 09:30)."""
    grace = GRACE[EntryKind(entry.kind)]
    candidate = (now - grace).astimezone(zone).date()
    for _ in range(800):  # daily rules look at most two years ahead
        occurrence = next_occurrence(entry.rule, candidate, resolve=resolve, terms=terms)
        if occurrence is None:
            return None
        run_at = datetime.combine(occurrence, entry.local_time, tzinfo=zone)
        if occurrence not in done and run_at >= now - grace:
            return occurrence, run_at
        candidate = occurrence + timedelta(days=1)
    return None


async def _done_occurrences(session: AsyncSession, entry_id: int) -> set[date]:
    prefix = f"cal:{entry_id}:"
    keys = (
        await session.exec(select(Broadcast.key).where(col(Broadcast.key).startswith(prefix)))
    ).all()
    return {date.fromisoformat(key.removeprefix(prefix)) for key in keys}


def terms_of(settings: Settings) -> Terms:
    """The school terms the settings give (TERM1_START, TERM2_START), for term rules."""
    return Terms.from_month_days(settings.term1_start, settings.term2_start)


def _resolver(entries: Sequence[CalendarEntry]) -> Any:
    by_key = {entry.key: entry.rule for entry in entries}
    return lambda key: by_key.get(key)


async def reconcile(
    runtime: Runtime, scheduler: BaseScheduler, *, now: datetime | None = None
) -> int:
    """Make the scheduler hold exactly one job per enabled entry, at its next occurrence."""
    now = now or utcnow()
    async with runtime.db() as session:
        entries = await list_entries(session, org_id=runtime.org_id)
        done = {entry.id: await _done_occurrences(session, entry.id or 0) for entry in entries}
    resolve = _resolver(entries)
    terms = terms_of(runtime.settings)
    wanted: set[str] = set()
    for entry in entries:
        if not entry.enabled or entry.id is None:
            continue
        try:
            planned = plan_next_run(
                entry,
                now=now,
                zone=runtime.settings.zone,
                done=done[entry.id],
                resolve=resolve,
                terms=terms,
            )
        except RuleError:
            logger.warning("Calendar entry %s has a rule that cannot be computed", entry.id)
            continue
        if planned is None:
            continue
        occurrence, run_at = planned
        wanted.add(job_id(entry.id))
        scheduler.add_job(
            run_entry,
            trigger=DateTrigger(run_date=run_at),
            args=[runtime, entry.id, occurrence.isoformat()],
            id=job_id(entry.id),
            name=entry.key,
            replace_existing=True,
            misfire_grace_time=int(GRACE[EntryKind(entry.kind)].total_seconds()),
            coalesce=True,
        )
    for job in scheduler.get_jobs():
        # Only this organization's entries: in a district each school is reconciled alone.
        ours = bool(job.args) and getattr(job.args[0], "org_id", None) == runtime.org_id
        if job.id.startswith("calendar:") and ours and job.id not in wanted:
            job.remove()
    return len(wanted)


async def run_entry(runtime: Runtime, entry_id: int, occurrence: str) -> None:
    """The job: send one occurrence of an entry, then plan the next."""
    async with runtime.db() as session:
        entry = await get_entry(session, org_id=runtime.org_id, entry_id=entry_id)
    if entry.enabled:
        await fire(runtime, entry, date.fromisoformat(occurrence), now=utcnow())
    if runtime.scheduler is not None:
        await reconcile(runtime, runtime.scheduler)


async def fire(
    runtime: Runtime, entry: CalendarEntry, occurrence: date, *, now: datetime
) -> Broadcast | None:
    """Enqueue one occurrence (once: None if it was enqueued before)."""
    kind = EntryKind(entry.kind)
    recipients = await recipients_for(runtime, entry, occurrence)
    to_members = kind != EntryKind.TASK
    async with runtime.db() as session:
        org = await get_organization(session, runtime.org_id)
        broadcast = await enqueue(
            session,
            org_id=runtime.org_id,
            key=occurrence_key(entry.id or 0, occurrence),
            kind=_KIND_TO_BROADCAST[kind],
            recipients=recipients,
            not_before=runtime.quiet.next_allowed(now) if to_members else now,
            quiet=to_members,
            report_chat_id=org.committee_chat_id if to_members else None,
        )
    if broadcast is not None:
        logger.info(
            "Calendar entry %s for %s: %s recipients", entry.key, occurrence, broadcast.total
        )
        runtime.sender.wake()
    if kind == EntryKind.GREETING:  # people no message reaches: the committee greets them
        await greet_in_person(runtime, entry, occurrence, now=now)
    if to_members:  # a group renamed or emptied since: the committee is told
        await warn_missing_groups(runtime, entry, occurrence, now=now)
    return broadcast


async def recipients_for(
    runtime: Runtime, entry: CalendarEntry, occurrence: date
) -> list[Recipient]:
    """Who gets this occurrence, each with the text in their language."""
    default = runtime.settings.default_language
    kind = EntryKind(entry.kind)
    async with runtime.db() as session:
        if kind == EntryKind.TASK:
            figures = await task_figures(session, org_id=runtime.org_id, occurrence=occurrence)

            async def text(language: str) -> str:
                written = fill(pick(entry.messages, language, default), figures)
                return await _with_extra(session, runtime, entry, occurrence, written, language)

            return await committee_recipients(
                session,
                org_id=runtime.org_id,
                default_language=default,
                today=occurrence,
                text=text,
            )
        members = await audience_addressees(
            session,
            org_id=runtime.org_id,
            audience=entry.audience,
            today=occurrence,
            respect_mute=kind == EntryKind.GREETING,
        )
    own_name = await runtime.org_name(None) if runtime.district_id is not None else None
    texts = _TextsByLanguage(runtime, entry, own_name)
    recipients: list[Recipient] = []
    needs = audience_need(entry.audience)
    for start in range(0, len(members), _TEXTS_AT_ONCE):
        if start:
            await asyncio.sleep(0)  # updates run between slices of a district's 50,000
        recipients.extend(
            Recipient(
                chat_id=member.chat_id,
                text=texts.for_member(member),
                member_id=member.member_id,
                needs=needs,
            )
            for member in members[start : start + _TEXTS_AT_ONCE]
        )
    return recipients


async def _with_extra(
    session: AsyncSession,
    runtime: Runtime,
    entry: CalendarEntry,
    occurrence: date,
    text: str,
    language: str,
) -> str:
    """The task's text with its extra block (a list, the month's figures) when it has one."""
    block = await extra_block(
        session,
        key=entry.key,
        org_id=runtime.org_id,
        occurrence=occurrence,
        tr=runtime.i18n.get(language),
        settings=runtime.settings,
    )
    return f"{text}\n\n{block}" if block else text


_TEXTS_AT_ONCE = 2_000


class _TextsByLanguage:
    """The entry's text in each member's language, signed with the union's name in that
    language; the template and the name are looked up once per language, not per member."""

    def __init__(self, runtime: Runtime, entry: CalendarEntry, own_name: str | None) -> None:
        self._runtime = runtime
        self._entry = entry
        self._own_name = own_name  # a school of a district signs with its own name
        self._by_language: dict[str | None, tuple[str, str]] = {}

    def for_member(self, member: Addressee) -> str:
        """The text for one member."""
        known = self._by_language.get(member.language)
        if known is None:
            default = self._runtime.settings.default_language
            messages = self._entry.messages
            language = picked_language(messages, member.language, default)
            known = (
                pick(messages, member.language, default),
                self._own_name or self._runtime.settings.organization_name_for(language),
            )
            self._by_language[member.language] = known
        template, org = known
        return fill(template, {"name": member.real_name, "org": org})


async def task_figures(
    session: AsyncSession, *, org_id: int, occurrence: date
) -> dict[str, object]:
    """What a committee task may quote: {members}, {women}, {retirees}, {hardship}, {date} and
    {last_year} (the year before the occurrence: January's summary is of the year just ended)."""
    active = (
        select(func.count())
        .select_from(Member)
        .where(Member.organization_id == org_id, Member.status == MemberStatus.ACTIVE)
    )
    women = active.where(Member.gender == Gender.FEMALE)
    retirees = active.where(col(Member.retired).is_(True))
    return {
        "members": int((await session.exec(active)).one()),
        "women": int((await session.exec(women)).one()),
        "retirees": int((await session.exec(retirees)).one()),
        "hardship": len(await active_files(session, org_id=org_id)),
        "date": occurrence.isoformat(),
        "last_year": occurrence.year - 1,
    }


def calendar_of_year(
    entries: Sequence[CalendarEntry], year: int, *, terms: Terms | None = None
) -> list[tuple[date, CalendarEntry]]:
    """Every entry's dates in a year (daily ones left out), in order; bad rules skipped."""
    resolve = _resolver(entries)
    found: list[tuple[date, CalendarEntry]] = []
    for entry in entries:
        if entry.rule.get("type") == "daily":
            continue
        try:
            days = occurrences(entry.rule, year, resolve=resolve, terms=terms)
        except RuleError:
            continue
        found.extend((day, entry) for day in days)
    return sorted(found, key=lambda pair: (pair[0], pair[1].local_time, pair[1].id or 0))


async def upcoming(
    runtime: Runtime, *, start: date, days: int, enabled_only: bool = True
) -> list[tuple[date, CalendarEntry]]:
    """Occurrences from `start` for `days` days (birthdays left out), of enabled entries only
    unless asked; offsets may still build on a disabled entry."""
    async with runtime.db() as session:
        all_entries = await list_entries(session, org_id=runtime.org_id)
    resolve = _resolver(all_entries)
    terms = terms_of(runtime.settings)
    entries = [entry for entry in all_entries if entry.enabled or not enabled_only]
    end = start + timedelta(days=days)
    found: list[tuple[date, CalendarEntry]] = []
    for entry in entries:
        if entry.rule.get("type") == "daily":
            continue
        day = start
        while True:
            try:
                occurrence = next_occurrence(entry.rule, day, resolve=resolve, terms=terms)
            except RuleError:
                break
            if occurrence is None or occurrence >= end:
                break
            found.append((occurrence, entry))
            day = occurrence + timedelta(days=1)
    return sorted(found, key=lambda pair: (pair[0], pair[1].local_time, pair[1].id or 0))
