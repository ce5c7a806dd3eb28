"""Hardship files (困难职工档案): families the union supports over time, reviewed every year and
closed when the family recovers (撤档)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, String, Text
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.base import UTCDateTime, utcnow
from models.errors import N_, DomainError
from models.members import Actor, Member, MemberStatus
from models.validation import clean_text

REASON_LIMIT = 500


class HardshipLevel(StrEnum):
    """How hard things are."""

    GENERAL = "general"  # 一般困难
    SPECIAL = "special"  # 特困


class FileStatus(StrEnum):
    """Whether the family is on file."""

    ACTIVE = "active"
    CLOSED = "closed"  # 撤档


class HardshipFile(SQLModel, table=True):
    """One family on file."""

    __tablename__ = "hardship_file"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    level: str = Field(sa_type=String(16))
    reason: str = Field(sa_type=Text)
    review_on: date = Field(sa_type=Date)
    status: str = Field(default=FileStatus.ACTIVE, sa_type=String(16), index=True)
    closing_reason: str | None = Field(default=None, sa_type=Text, nullable=True)
    opened_by_member_id: int = Field(foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


def a_year_after(day: date) -> date:
    """The same day next year (28 February for 29 February)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


async def open_file(
    session: AsyncSession,
    *,
    org_id: int,
    actor: Actor,
    member_id: int,
    level: HardshipLevel,
    reason: str,
    today: date,
) -> HardshipFile:
    """The committee puts a family on file; the first review is a year later."""
    if not actor.is_committee:
        raise DomainError(N_("desk.not_committee"))
    text = clean_text(reason, limit=REASON_LIMIT, multiline=True, needs_words=True)
    member = await session.get(Member, member_id)
    if member is None or member.organization_id != org_id or member.status != MemberStatus.ACTIVE:
        raise DomainError(N_("aid.subject_unknown"))
    if await active_file_of(session, org_id=org_id, member_id=member_id) is not None:
        raise DomainError(N_("hardship.already_on_file"))
    record = HardshipFile(
        organization_id=org_id,
        member_id=member_id,
        level=level,
        reason=text,
        review_on=a_year_after(today),
        opened_by_member_id=actor.id,
    )
    session.add(record)
    await session.commit()
    await session.refresh(record)
    return record


async def get_file(session: AsyncSession, *, org_id: int, file_id: int) -> HardshipFile:
    """A file of this organization."""
    record = await session.get(HardshipFile, file_id)
    if record is None or record.organization_id != org_id:
        raise DomainError(N_("hardship.not_found"))
    return record


async def active_file_of(
    session: AsyncSession, *, org_id: int, member_id: int
) -> HardshipFile | None:
    """The member's open file, if any."""
    return (
        await session.exec(
            select(HardshipFile).where(
                HardshipFile.organization_id == org_id,
                HardshipFile.member_id == member_id,
                HardshipFile.status == FileStatus.ACTIVE,
            )
        )
    ).first()


async def review_file(
    session: AsyncSession, *, org_id: int, file_id: int, actor: Actor, today: date
) -> HardshipFile:
    """Reviewed this year and still in need: the next review is a year from today."""
    if not actor.is_committee:
        raise DomainError(N_("desk.not_committee"))
    record = await get_file(session, org_id=org_id, file_id=file_id)
    if record.status != FileStatus.ACTIVE:
        raise DomainError(N_("hardship.closed_already"))
    record.review_on = a_year_after(today)
    session.add(record)
    await session.commit()
    await session.refresh(record)
    return record


async def close_file(
    session: AsyncSession, *, org_id: int, file_id: int, actor: Actor, reason: str
) -> HardshipFile:
    """撤档: the family has recovered (or left); the reason is kept."""
    if not actor.is_committee:
        raise DomainError(N_("desk.not_committee"))
    text = clean_text(reason, limit=REASON_LIMIT, multiline=True, needs_words=True)
    record = await get_file(session, org_id=org_id, file_id=file_id)
    if record.status != FileStatus.ACTIVE:
        raise DomainError(N_("hardship.closed_already"))
    record.status, record.closing_reason, record.closed_at = FileStatus.CLOSED, text, utcnow()
    session.add(record)
    await session.commit()
    await session.refresh(record)
    return record


async def active_files(session: AsyncSession, *, org_id: int) -> Sequence[HardshipFile]:
    """Families on file, next review first."""
    return (
        await session.exec(
            select(HardshipFile)
            .where(HardshipFile.organization_id == org_id, HardshipFile.status == FileStatus.ACTIVE)
            .order_by(col(HardshipFile.review_on), col(HardshipFile.id))
        )
    ).all()


async def due_for_review(
    session: AsyncSession, *, org_id: int, today: date
) -> Sequence[HardshipFile]:
    """Files whose yearly review is due (today or overdue)."""
    files = await active_files(session, org_id=org_id)
    return [record for record in files if record.review_on <= today]


def file_number(record: HardshipFile) -> str:
    """How a file is named in chat: 档-7."""
    return f"档-{record.id}"
