"""Read-only queries about members that several features share."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.members import JoinRequest, JoinStatus, Member


async def pending_join_requests(
    session: AsyncSession, *, org_id: int, limit: int = 20
) -> Sequence[tuple[JoinRequest, Member]]:
    """Open join requests, oldest first, with the applicant."""
    statement = (
        select(JoinRequest, Member)
        .join(Member, col(Member.id) == JoinRequest.member_id)
        .where(JoinRequest.organization_id == org_id, JoinRequest.status == JoinStatus.PENDING)
        .order_by(col(JoinRequest.created_at), col(JoinRequest.id))
        .limit(limit)
    )
    return [(request, member) for request, member in (await session.exec(statement)).all()]


async def members_by_id(session: AsyncSession, member_ids: Sequence[int]) -> dict[int, Member]:
    """Members looked up by id (missing ids are left out)."""
    if not member_ids:
        return {}
    rows = (await session.exec(select(Member).where(col(Member.id).in_(member_ids)))).all()
    return {row.id or 0: row for row in rows}
