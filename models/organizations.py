"""Organizations: one school union each; every record belongs to one."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, String
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.base import UTCDateTime, utcnow


class OrgKind(StrEnum):
    """What an organization is."""

    SCHOOL = "school"  # 基层工会: members, committee, every workflow
    DISTRICT = "district"  # 区/地区教育工会: its own staff, figures and tasks of its schools


class Organization(SQLModel, table=True):
    """A school union (基层工会), or the district union above several of them."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    kind: str = Field(
        default=OrgKind.SCHOOL,
        sa_type=String(16),
        sa_column_kwargs={"server_default": OrgKind.SCHOOL.value},
    )
    # A school's district; None for the district itself and for a single-school deployment.
    parent_id: int | None = Field(
        default=None,
        foreign_key="organization.id",
        index=True,
        nullable=True,
    )
    committee_chat_id: int | None = Field(
        default=None, sa_type=BigInteger, unique=True, nullable=True
    )
    # The disclosure channel (校务公开栏) where answered suggestions can be published.
    disclosure_chat_id: int | None = Field(default=None, sa_type=BigInteger, nullable=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


async def ensure_default_organization(
    session: AsyncSession, *, name: str, committee_chat_id: int | None = None
) -> Organization:
    """The home organization: the district union of a district deployment, else the first (the
    one school), created on first start."""
    first = select(Organization).order_by(col(Organization.kind) != OrgKind.DISTRICT)
    org = (await session.exec(first.order_by(col(Organization.id)))).first()
    if org is None:
        org = Organization(name=name, committee_chat_id=committee_chat_id)
        session.add(org)
        await session.commit()
        return org
    if org.kind == OrgKind.DISTRICT:
        # COMMITTEE_CHAT_ID named the single school's group, which stays that school's after
        # `unionbot district init`: each school binds its own with /bindgroup.
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


async def all_organizations(session: AsyncSession) -> list[Organization]:
    """Every organization of the deployment: the district union first, then its schools."""
    query = select(Organization).order_by(
        col(Organization.kind) != OrgKind.DISTRICT, col(Organization.id)
    )
    return list(await session.exec(query))
