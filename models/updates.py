"""Telegram updates already handled, so a redelivered update does nothing twice."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import BigInteger, delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.base import UTCDateTime, utcnow


class ProcessedUpdate(SQLModel, table=True):
    """One row per update id the bot has finished handling."""

    __tablename__ = "processed_update"

    update_id: int = Field(
        sa_column_kwargs={"autoincrement": False}, sa_type=BigInteger, primary_key=True
    )
    processed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


async def was_processed(session: AsyncSession, *, update_id: int) -> bool:
    """True when this update id was handled before."""
    return await session.get(ProcessedUpdate, update_id) is not None


async def highest_processed(session: AsyncSession) -> int:
    """The highest update id ever handled (0 on a fresh database)."""
    value = (await session.exec(select(func.max(ProcessedUpdate.update_id)))).one()
    return int(value or 0)


async def mark_processed(session: AsyncSession, *, update_id: int) -> bool:
    """Record the update as handled; False if it already was."""
    session.add(ProcessedUpdate(update_id=update_id))
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        return False
    return True


async def mark_processed_many(session: AsyncSession, *, update_ids: list[int]) -> int:
    """Record several handled updates in one transaction (ids already there are skipped)."""
    known = set(
        (
            await session.exec(
                select(ProcessedUpdate.update_id).where(
                    col(ProcessedUpdate.update_id).in_(update_ids)
                )
            )
        ).all()
    )
    fresh = sorted(set(update_ids) - known)
    session.add_all([ProcessedUpdate(update_id=update_id) for update_id in fresh])
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()  # another flush recorded one of them meanwhile: one by one
        for update_id in fresh:
            await mark_processed(session, update_id=update_id)
    return len(fresh)


async def forget_processed_before(session: AsyncSession, *, days: int = 7) -> int:
    """Drop marks older than `days` (Telegram keeps undelivered updates for 24 hours)."""
    cutoff = utcnow() - timedelta(days=days)
    result = await session.exec(
        delete(ProcessedUpdate).where(col(ProcessedUpdate.processed_at) < cutoff)
    )
    await session.commit()
    return int(result.rowcount or 0)
