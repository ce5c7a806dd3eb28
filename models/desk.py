"""Where each review-desk card was posted, so it can be edited in place later."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, String, UniqueConstraint
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.base import UTCDateTime, utcnow
from models.members import committee_telegram_ids
from models.organizations import Organization, get_organization


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


async def desk_chat_ids(session: AsyncSession, *, org_id: int) -> list[int]:
    """Where cards go: the committee group, else each committee member privately."""
    org = await get_organization(session, org_id)
    if org.committee_chat_id is not None:
        return [org.committee_chat_id]
    return await committee_telegram_ids(session, org_id=org_id)


async def record_card(
    session: AsyncSession, *, org_id: int, kind: str, item_id: int, chat_id: int, message_id: int
) -> None:
    """Remember a posted card; a repeat for the same item and chat keeps the newest message.
    One statement (an upsert), atomic on its own."""
    dialect = session.bind.dialect.name if session.bind is not None else "postgresql"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(DeskCard.__table__).values(  # type: ignore[attr-defined]
        organization_id=org_id,
        kind=kind,
        item_id=item_id,
        chat_id=chat_id,
        message_id=message_id,
        created_at=utcnow(),
    )
    await session.exec(
        statement.on_conflict_do_update(
            index_elements=["kind", "item_id", "chat_id"],
            set_={"message_id": statement.excluded.message_id},
        )
    )
    await session.commit()


async def cards_for(session: AsyncSession, *, kind: str, item_id: int) -> Sequence[DeskCard]:
    """Every message that shows this item."""
    return (
        await session.exec(
            select(DeskCard).where(DeskCard.kind == kind, DeskCard.item_id == item_id)
        )
    ).all()


async def deliverable_cards(
    session: AsyncSession, *, org_id: int, kind: str, item_id: int
) -> list[DeskCard]:
    """The copies of an item's card that may still be shown, checked now, not when they were
    posted: the copy in the committee group bound today, and private copies of people who are
    on the committee today. Any other copy (a removed member's, a group no longer bound) is
    forgotten, so it is never edited or replied under again."""
    cards = await cards_for(session, kind=kind, item_id=item_id)
    if not cards:
        return []
    org = await session.get(Organization, org_id)
    allowed = set(await committee_telegram_ids(session, org_id=org_id))
    if org is not None and org.committee_chat_id is not None:
        allowed.add(org.committee_chat_id)
    stale = [card for card in cards if card.chat_id not in allowed]
    for card in stale:
        await session.delete(card)
    if stale:
        await session.commit()
    return [card for card in cards if card.chat_id in allowed]


async def uncarded(
    session: AsyncSession,
    *,
    table: Any,
    kind: str,
    org_id: int,
    statuses: Sequence[str],
) -> list[Any]:
    """Rows of `table` (suggestions, proposals, aid cases, join requests) waiting for the
    committee whose card never reached the desk: stored, then the bot stopped before posting."""
    has_card = (
        select(DeskCard.id).where(DeskCard.kind == kind, DeskCard.item_id == table.id).exists()
    )
    statement = select(table).where(
        table.organization_id == org_id, col(table.status).in_(list(statuses)), ~has_card
    )
    return list((await session.exec(statement)).all())
