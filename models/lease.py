"""The lease that makes one copy of the bot active when several share one PostgreSQL.

One row, named `bot`. Its holder is the active copy; `expires_at` is on the database's clock,
so copies on machines whose clocks disagree still agree on when it ran out. `epoch` grows at
every takeover: a copy that held the lease once and lost it carries an older epoch, and every
guarded write (the outbox claim, models/outbox.py) checks holder and epoch in the same UPDATE.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, func, literal, or_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.base import UTCDateTime, utcnow

LEASE_NAME = "bot"


class RunLease(SQLModel, table=True):
    """Who is active, until when (database clock), and how many takeovers there were."""

    __tablename__ = "run_lease"

    name: str = Field(sa_type=String(40), primary_key=True)
    holder: str | None = Field(default=None, sa_type=String(200), nullable=True)
    epoch: int = 0
    expires_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    renewed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


@dataclass(frozen=True)
class LeaseFence:
    """What a copy holds once it took the lease: guarded writes name it."""

    holder: str
    epoch: int
    name: str = LEASE_NAME


@dataclass(frozen=True)
class LeaseView:
    """The row as a standby reads it."""

    holder: str | None
    epoch: int
    live: bool  # not expired on the database's clock


def _lifetime(seconds: float) -> ColumnElement[datetime]:
    return func.now() + literal(timedelta(seconds=seconds))


def held_by(fence: LeaseFence) -> ColumnElement[bool]:
    """True inside a statement while `fence` still holds a lease that has not run out."""
    return (
        select(col(RunLease.name))
        .where(
            col(RunLease.name) == fence.name,
            col(RunLease.holder) == fence.holder,
            col(RunLease.epoch) == fence.epoch,
            col(RunLease.expires_at) > func.now(),
        )
        .exists()
    )


async def acquire(
    session: AsyncSession, *, holder: str, seconds: float, name: str = LEASE_NAME
) -> LeaseFence | None:
    """Take the lease if nobody holds it or its holder let it run out; None otherwise.

    One statement: two copies asking at once get one winner (the row lock of the upsert).
    """
    fresh = insert(RunLease).values(
        name=name, holder=holder, epoch=1, expires_at=_lifetime(seconds), renewed_at=func.now()
    )
    statement = fresh.on_conflict_do_update(
        index_elements=[RunLease.name],
        set_={
            "holder": holder,
            "epoch": RunLease.epoch + 1,
            "expires_at": _lifetime(seconds),
            "renewed_at": func.now(),
        },
        where=or_(col(RunLease.holder).is_(None), col(RunLease.expires_at) <= func.now()),
    ).returning(col(RunLease.epoch))
    epoch = (await session.exec(statement)).scalar_one_or_none()
    await session.commit()
    return None if epoch is None else LeaseFence(holder=holder, epoch=int(epoch), name=name)


async def renew(session: AsyncSession, *, fence: LeaseFence, seconds: float) -> bool:
    """Push the expiry on; False when the lease ran out or was taken over meanwhile."""
    result = await session.exec(
        update(RunLease)
        .where(
            col(RunLease.name) == fence.name,
            col(RunLease.holder) == fence.holder,
            col(RunLease.epoch) == fence.epoch,
            col(RunLease.expires_at) > func.now(),
        )
        .values(expires_at=_lifetime(seconds), renewed_at=func.now())
    )
    await session.commit()
    return bool(result.rowcount == 1)


async def release(session: AsyncSession, *, fence: LeaseFence) -> bool:
    """Give the lease up at a clean stop, so a standby takes over at its next look."""
    result = await session.exec(
        update(RunLease)
        .where(
            col(RunLease.name) == fence.name,
            col(RunLease.holder) == fence.holder,
            col(RunLease.epoch) == fence.epoch,
        )
        .values(holder=None, expires_at=func.now())
    )
    await session.commit()
    return bool(result.rowcount == 1)


async def current(session: AsyncSession, *, name: str = LEASE_NAME) -> LeaseView | None:
    """The row (None before anyone ever took it)."""
    row = (
        await session.exec(
            select(
                col(RunLease.holder), col(RunLease.epoch), col(RunLease.expires_at) > func.now()
            ).where(col(RunLease.name) == name)
        )
    ).first()
    if row is None:
        return None
    holder, epoch, live = row
    return LeaseView(holder=holder if live else None, epoch=int(epoch), live=bool(live))
