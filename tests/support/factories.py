"""Data factories: members with roles, as the database would hold them."""

from __future__ import annotations

from collections.abc import Iterable

from bot.db import SessionFactory
from models.members import Member, MemberRole, MemberStatus, Role
from tests.support.updates import Person


async def make_member(
    db: SessionFactory,
    *,
    org_id: int,
    person: Person | None = None,
    name: str = "李老师",
    department: str = "语文组",
    roles: Iterable[Role] = (),
    status: MemberStatus = MemberStatus.ACTIVE,
    language: str | None = "zh-Hans",
    gender: str | None = None,
) -> Member:
    """Insert a member (bound to `person`'s Telegram id when given) with roles."""
    async with db() as session:
        member = Member(
            organization_id=org_id,
            telegram_user_id=person.id if person else None,
            real_name=name,
            department=department,
            status=status,
            language=language,
            gender=gender,
        )
        session.add(member)
        await session.flush()
        assert member.id is not None
        for role in roles:
            session.add(MemberRole(member_id=member.id, role=role))
        await session.commit()
        return member
