"""Telegram updates already handled, so a redelivered update does nothing twice."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, delete
from sqlalchemy.dialects import postgresql, sqlite
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


@functools.cache
def _insert_new(dialect: str) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING into the table (Core: the ORM's bulk-insert
    bookkeeping cost more than the statement), built once per dialect."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = ProcessedUpdate.__table__  # type: ignore[attr-defined]
    return insert(table).on_conflict_do_nothing(index_elements=["update_id"])


async def mark_processed_many(session: AsyncSession, *, update_ids: list[int]) -> None:
    """Record handled updates in one transaction and one statement (SQLAlchemy sends the rows
    as multi-row VALUES); ids already recorded (an earlier flush, another copy) are skipped by
    the database, not looked up first."""
    dialect = session.bind.dialect.name if session.bind is not None else "postgresql"
    now = utcnow()
    rows = [{"update_id": update_id, "processed_at": now} for update_id in sorted(set(update_ids))]
    if rows:
        await session.exec(_insert_new(dialect), params=rows)
    await session.commit()


async def forget_processed_before(session: AsyncSession, *, days: int = 7) -> int:
    """Drop marks older than `days` (Telegram keeps undelivered updates for 24 hours)."""
    cutoff = utcnow() - timedelta(days=days)
    result = await session.exec(
        delete(ProcessedUpdate).where(col(ProcessedUpdate.processed_at) < cutoff)
    )
    await session.commit()
    return int(result.rowcount or 0)
