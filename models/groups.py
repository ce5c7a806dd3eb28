"""Union groups (工会小组): a member's department is their group, and a 工会小组长 heads the group
of their own department (moving to another department moves the leadership with them)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import case, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.errors import N_, DomainError, InputError
from models.members import Actor, Member, MemberRole, MemberStatus, Role

# On the roster: active members and those imported from the roster who have not joined on
# Telegram yet; pending, rejected and departed people are in no group.
ON_ROSTER = (MemberStatus.ACTIVE, MemberStatus.INVITED)
# At most this many groups in one audience (and as buttons under one message).
MAX_GROUPS = 40


@dataclass(frozen=True)
class UnionGroup:
    """One group with its figures."""

    name: str
    active: int  # active members
    roster: int  # on the roster (active or invited)
    leaders: tuple[str, ...]  # names of its 工会小组长


async def union_groups(session: AsyncSession, *, org_id: int) -> list[UnionGroup]:
    """Every group with at least one person on the roster, by name, with its leaders."""
    active = func.sum(case((col(Member.status) == MemberStatus.ACTIVE, 1), else_=0))
    counts = await session.exec(
        select(Member.department, active, func.count())
        .where(
            Member.organization_id == org_id,
            col(Member.status).in_(ON_ROSTER),
            Member.department != "",
        )
        .group_by(col(Member.department))
        .order_by(col(Member.department))
    )
    leaders = await session.exec(
        select(Member.department, Member.real_name)
        .join(MemberRole, col(MemberRole.member_id) == Member.id)
        .where(
            Member.organization_id == org_id,
            Member.status == MemberStatus.ACTIVE,
            MemberRole.role == Role.GROUP_LEADER,
        )
        .order_by(col(Member.real_name), col(Member.id))
    )
    heads: dict[str, list[str]] = {}
    for department, name in leaders.all():
        heads.setdefault(department, []).append(name)
    return [
        UnionGroup(name, int(on or 0), int(total), tuple(heads.get(name, ())))
        for name, on, total in counts.all()
    ]


async def group_members(session: AsyncSession, *, org_id: int, name: str) -> Sequence[Member]:
    """The people of one group on the roster, by name."""
    return (
        await session.exec(
            select(Member)
            .where(
                Member.organization_id == org_id,
                Member.department == name,
                col(Member.status).in_(ON_ROSTER),
            )
            .order_by(col(Member.real_name), col(Member.id))
        )
    ).all()


async def leaders_among(session: AsyncSession, members: Sequence[Member]) -> set[int]:
    """The ids of the active 工会小组长 among `members`."""
    ids = [member.id for member in members if member.status == MemberStatus.ACTIVE]
    rows = await session.exec(
        select(MemberRole.member_id).where(
            col(MemberRole.member_id).in_(ids), MemberRole.role == Role.GROUP_LEADER
        )
    )
    return set(rows.all())


def led_group(actor: Actor) -> str | None:
    """The group an active 工会小组长 heads (their own department), else None."""
    if actor.has(Role.GROUP_LEADER) and actor.member.department:
        return actor.member.department
    return None


async def check_departments(
    session: AsyncSession, *, org_id: int, names: Iterable[str]
) -> list[str]:
    """The chosen groups, each once and in order, refused unless each is a group now."""
    chosen = list(dict.fromkeys(str(name).strip() for name in names))
    if not chosen or "" in chosen:
        raise InputError(N_("groups.none_chosen"))
    if len(chosen) > MAX_GROUPS:
        raise InputError(N_("groups.too_many"), limit=MAX_GROUPS)
    known = {group.name for group in await union_groups(session, org_id=org_id)}
    unknown = [name for name in chosen if name not in known]
    if unknown:
        raise DomainError(N_("groups.unknown"), name=unknown[0][:20])
    return chosen
