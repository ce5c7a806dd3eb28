"""Organizations: one school union each; every record belongs to one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.base import UTCDateTime, utcnow


class Organization(SQLModel, table=True):
    """A school union (基层工会). A district deployment holds several."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    committee_chat_id: int | None = Field(
        default=None, sa_type=BigInteger, unique=True, nullable=True
    )
    # The disclosure channel (校务公开栏) where answered suggestions can be published.
    disclosure_chat_id: int | None = Field(default=None, sa_type=BigInteger, nullable=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


async def ensure_default_organization(
    session: AsyncSession, *, name: str, committee_chat_id: int | None = None
) -> Organization:
    """Return the first organization, creating it on first start."""
    org = (await session.exec(select(Organization).order_by(col(Organization.id)))).first()
    if org is None:
        org = Organization(name=name, committee_chat_id=committee_chat_id)
        session.add(org)
        await session.commit()
        return org
    if committee_chat_id is not None and org.committee_chat_id != committee_chat_id:
        org.committee_chat_id = committee_chat_id
        session.add(org)
        await session.commit()
    return org


async def get_organization(session: AsyncSession, org_id: int) -> Organization:
    """Load an organization by id."""
    org = await session.get(Organization, org_id)
    if org is None:
        raise LookupError(f"organization {org_id} does not exist")
    return org


async def bind_disclosure_chat(session: AsyncSession, *, org_id: int, chat_id: int) -> None:
    """Make `chat_id` the disclosure channel of the organization."""
    org = await get_organization(session, org_id)
    org.disclosure_chat_id = chat_id
    session.add(org)
    await session.commit()


async def bind_committee_chat(session: AsyncSession, *, org_id: int, chat_id: int) -> None:
    """Make `chat_id` the committee group of the organization."""
    org = await get_organization(session, org_id)
    org.committee_chat_id = chat_id
    session.add(org)
    await session.commit()
