"""Where each review-desk card was posted, so it can be edited in place later."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import BigInteger, String, UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.base import UTCDateTime, utcnow


class DeskCard(SQLModel, table=True):
    """A message showing one item (join request, suggestion, ...) to the committee."""

    __tablename__ = "desk_card"
    __table_args__ = (UniqueConstraint("kind", "item_id", "chat_id", name="uq_desk_card_item"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    kind: str = Field(sa_type=String(16))
    item_id: int
    chat_id: int = Field(sa_type=BigInteger)
    message_id: int
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


async def record_card(
    session: AsyncSession, *, org_id: int, kind: str, item_id: int, chat_id: int, message_id: int
) -> None:
    """Remember a posted card; a repeat for the same item and chat keeps the newest message."""
    session.add(
        DeskCard(
            organization_id=org_id,
            kind=kind,
            item_id=item_id,
            chat_id=chat_id,
            message_id=message_id,
        )
    )
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        card = (
            await session.exec(
                select(DeskCard).where(
                    DeskCard.kind == kind, DeskCard.item_id == item_id, DeskCard.chat_id == chat_id
                )
            )
        ).one()
        card.message_id = message_id
        session.add(card)
        await session.commit()


async def cards_for(session: AsyncSession, *, kind: str, item_id: int) -> Sequence[DeskCard]:
    """Every message that shows this item."""
    return (
        await session.exec(
            select(DeskCard).where(DeskCard.kind == kind, DeskCard.item_id == item_id)
        )
    ).all()
