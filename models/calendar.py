"""The union calendar: entries whose date rule, audience and messages are data, not code."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, String, UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import written
from models.base import UTCDateTime, utcnow
from models.errors import N_, DomainError, InputError
from models.groups import check_departments
from models.members import Actor
from models.validation import clean_text

MESSAGE_LIMIT = 1000
TITLE_LIMIT = 30


class EntryKind(StrEnum):
    """What an entry sends."""

    GREETING = "greeting"  # to members; members may mute these
    TASK = "task"  # to the committee
    ANNOUNCEMENT = "announcement"  # to members; not mutable


class AudienceType(StrEnum):
    """Who receives an entry."""

    EVERYONE = "everyone"
    WOMEN = "women"
    RETIREES = "retirees"
    REPRESENTATIVES = "representatives"
    COMMITTEE = "committee"
    HARDSHIP = "hardship"  # members on hardship files (困难职工档案)
    BIRTHDAY = "birthday"  # members whose birthday is today
    MEMBERS = "members"  # an explicit list: {"type": "members", "ids": [..]}
    DEPARTMENTS = "departments"  # union groups: {"type": "departments", "names": [..]}


class CalendarEntry(SQLModel, table=True):
    """One line of the union calendar."""

    __tablename__ = "calendar_entry"
    __table_args__ = (UniqueConstraint("organization_id", "key", name="uq_calendar_entry_key"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    key: str = Field(sa_type=String(40))  # stable name; offsets refer to `entry:<key>`
    kind: str = Field(sa_type=String(16))
    rule: dict[str, Any] = Field(sa_type=JSON)
    time_of_day: str = Field(default="09:00", sa_type=String(5))
    audience: dict[str, Any] = Field(sa_type=JSON)
    titles: dict[str, str] = Field(sa_type=JSON)  # language -> name shown in /calendar
    messages: dict[str, str] = Field(sa_type=JSON)  # language -> text with {placeholders}
    enabled: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def local_time(self) -> time:
        """The time of day as a `time`."""
        hours, minutes = self.time_of_day.split(":")
        return time(int(hours), int(minutes))


def parse_time_of_day(text: str) -> str:
    """A time as people type it (8:00, 早上8点, 下午三点半) as `HH:MM`; refuse anything else."""
    found = written.time_of_day(text)
    if found is None:
        raise InputError(N_("calendar.bad_time"))
    return found.strftime("%H:%M")


async def list_entries(
    session: AsyncSession, *, org_id: int, enabled_only: bool = False
) -> Sequence[CalendarEntry]:
    """The organization's entries."""
    statement = select(CalendarEntry).where(CalendarEntry.organization_id == org_id)
    if enabled_only:
        statement = statement.where(col(CalendarEntry.enabled).is_(True))
    return (await session.exec(statement.order_by(col(CalendarEntry.id)))).all()


async def get_entry(session: AsyncSession, *, org_id: int, entry_id: int) -> CalendarEntry:
    """An entry of this organization."""
    entry = await session.get(CalendarEntry, entry_id)
    if entry is None or entry.organization_id != org_id:
        raise DomainError(N_("calendar.not_found"))
    return entry


async def add_entries(session: AsyncSession, entries: Sequence[CalendarEntry]) -> int:
    """Insert entries whose key is new for their organization; returns how many were added."""
    added = 0
    for entry in entries:
        exists = (
            await session.exec(
                select(CalendarEntry.id).where(
                    CalendarEntry.organization_id == entry.organization_id,
                    CalendarEntry.key == entry.key,
                )
            )
        ).first()
        if exists is None:
            session.add(entry)
            added += 1
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()  # another process seeded at the same moment
        return 0
    return added


async def add_custom_entry(
    session: AsyncSession,
    *,
    org_id: int,
    actor: Actor,
    kind: EntryKind,
    audience: AudienceType,
    rule: dict[str, Any],
    time_of_day: str,
    title: str,
    title_language: str,
    messages: Mapping[str, str],
    key: str,
    departments: Sequence[str] = (),
) -> CalendarEntry:
    """A committee member adds an entry (the rule was validated by the caller's parser).

    An entry for DEPARTMENTS names its groups (`departments`), each a group now.

    `messages` holds a text per language written for it; a reader whose language has none gets
    the deployment's default language (`scheduler.render.pick`), so "the same text for all" is
    stored once and a later edit of it reaches everyone.
    """
    if not actor.is_committee:
        raise DomainError(N_("desk.not_committee"))
    texts = {
        language: clean_text(text, limit=MESSAGE_LIMIT, multiline=True)
        for language, text in messages.items()
    }
    if not texts:
        raise InputError(N_("input.empty"))
    target: dict[str, Any] = {
        "type": AudienceType.COMMITTEE if kind == EntryKind.TASK else audience
    }
    if target["type"] == AudienceType.DEPARTMENTS:
        target["names"] = await check_departments(session, org_id=org_id, names=departments)
    entry = CalendarEntry(
        organization_id=org_id,
        key=key,
        kind=kind,
        rule=rule,
        time_of_day=parse_time_of_day(time_of_day),
        audience=target,
        titles={title_language: clean_text(title, limit=TITLE_LIMIT)},
        messages=texts,
    )
    session.add(entry)
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise DomainError(N_("calendar.already_added")) from exc
    return entry


async def set_enabled(
    session: AsyncSession, *, org_id: int, actor: Actor, entry_id: int, enabled: bool
) -> CalendarEntry:
    """Turn an entry on or off (committee)."""
    if not actor.is_committee:
        raise DomainError(N_("desk.not_committee"))
    entry = await get_entry(session, org_id=org_id, entry_id=entry_id)
    entry.enabled = enabled
    entry.updated_at = utcnow()
    session.add(entry)
    await session.commit()
    return entry


async def set_time(
    session: AsyncSession, *, org_id: int, actor: Actor, entry_id: int, text: str
) -> CalendarEntry:
    """Change the time of day (committee)."""
    if not actor.is_committee:
        raise DomainError(N_("desk.not_committee"))
    entry = await get_entry(session, org_id=org_id, entry_id=entry_id)
    entry.time_of_day = parse_time_of_day(text)
    entry.updated_at = utcnow()
    session.add(entry)
    await session.commit()
    return entry


async def set_message(
    session: AsyncSession, *, org_id: int, actor: Actor, entry_id: int, language: str, text: str
) -> CalendarEntry:
    """Change the message in one language (committee)."""
    if not actor.is_committee:
        raise DomainError(N_("desk.not_committee"))
    entry = await get_entry(session, org_id=org_id, entry_id=entry_id)
    entry.messages = {
        **entry.messages,
        language: clean_text(text, limit=MESSAGE_LIMIT, multiline=True),
    }
    entry.updated_at = utcnow()
    session.add(entry)
    await session.commit()
    return entry
