"""A district union (区教育工会) and its schools in one deployment: who is where.

A deployment is a district when it holds an organization of kind DISTRICT; every other
organization is a school, tied to it by `parent_id`. A deployment without a district row is a
single school, exactly as before: no picker, no roll-up.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.errors import N_, DomainError
from models.members import Actor, Member, MemberStatus, profile_of, submit_registration
from models.organizations import Organization, OrgKind

SCHOOL_NAME_LIMIT = 100
# A member's rows that make a school theirs in a private chat (a rejected or left row does not).
HOLDING = (MemberStatus.ACTIVE, MemberStatus.PENDING, MemberStatus.INVITED)


async def the_district(session: AsyncSession) -> Organization | None:
    """The deployment's district union, or None for a single-school deployment."""
    query = select(Organization).where(Organization.kind == OrgKind.DISTRICT)
    return (await session.exec(query.order_by(col(Organization.id)))).first()


async def schools_of(session: AsyncSession, *, district_id: int) -> list[Organization]:
    """The district's schools, by name."""
    query = select(Organization).where(
        Organization.parent_id == district_id, Organization.kind == OrgKind.SCHOOL
    )
    return list(await session.exec(query.order_by(col(Organization.name), col(Organization.id))))


async def org_in_district(
    session: AsyncSession, *, district_id: int, org_id: int
) -> Organization | None:
    """The district union or one of its schools with this id, else None (ids in links and in
    a person's saved choice can be forged or stale)."""
    org = await session.get(Organization, org_id)
    if org is None or (org.id != district_id and org.parent_id != district_id):
        return None
    return org


async def get_school(session: AsyncSession, *, district_id: int, school_id: int) -> Organization:
    """A school of this district (ids from buttons and links can be forged)."""
    school = await session.get(Organization, school_id)
    if school is None or school.parent_id != district_id or school.kind != OrgKind.SCHOOL:
        raise DomainError(N_("school.unknown"))
    return school


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def find_schools(
    session: AsyncSession, *, district_id: int, query: str, limit: int = 8
) -> list[Organization]:
    """Schools whose name contains `query` (any part: 实验 finds 区实验小学), by name."""
    pattern = _like_pattern(query.strip())
    found = select(Organization).where(
        Organization.parent_id == district_id,
        Organization.kind == OrgKind.SCHOOL,
        func.lower(Organization.name).like(pattern.lower(), escape="\\"),
    )
    rows = await session.exec(found.order_by(col(Organization.name)).limit(limit))
    return list(rows)


async def memberships(session: AsyncSession, *, telegram_user_id: int) -> list[Member]:
    """The person's rows that hold (active, pending or invited), oldest first."""
    query = select(Member).where(
        Member.telegram_user_id == telegram_user_id, col(Member.status).in_(HOLDING)
    )
    return list(await session.exec(query.order_by(col(Member.id))))


async def create_district(session: AsyncSession, *, name: str) -> Organization:
    """Make this deployment a district: the district union, with every existing organization
    (the single school it served until now) as its school. Idempotent by name."""
    found = await the_district(session)
    if found is not None:
        if found.name != name:
            raise DomainError(N_("district.exists"), name=found.name)
        return found
    district = Organization(name=_checked_name(name), kind=OrgKind.DISTRICT)
    session.add(district)
    await session.flush()
    schools = await session.exec(select(Organization).where(col(Organization.id) != district.id))
    for school in schools:
        school.parent_id = district.id
        session.add(school)
    await session.commit()
    return district


async def add_school(session: AsyncSession, *, district_id: int, name: str) -> Organization:
    """A new school of the district (a second school of the same name is refused)."""
    name = _checked_name(name)
    same = select(Organization).where(
        Organization.parent_id == district_id, Organization.name == name
    )
    if (await session.exec(same)).first() is not None:
        raise DomainError(N_("school.exists"), name=name)
    school = Organization(name=name, kind=OrgKind.SCHOOL, parent_id=district_id)
    session.add(school)
    await session.commit()
    return school


def _checked_name(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > SCHOOL_NAME_LIMIT:
        raise DomainError(N_("school.bad_name"), limit=SCHOOL_NAME_LIMIT)
    return name


def is_district_staff(actor: Actor | None, org: Organization | None) -> bool:
    """District chair and staff: committee offices held in the district union itself."""
    return (
        actor is not None
        and org is not None
        and org.kind == OrgKind.DISTRICT
        and actor.member.organization_id == org.id
        and actor.is_active
        and actor.is_committee
    )


async def require_recusal(session: AsyncSession, *, actor: Actor, school_id: int) -> None:
    """回避: district staff who are also active members of a school do not judge it (its
    assessment scores, its contest results, its 优秀提案); DomainError naming the school."""
    telegram_id = actor.member.telegram_user_id
    if telegram_id is None:
        return
    own = await session.exec(
        select(Member.id).where(
            Member.organization_id == school_id,
            Member.telegram_user_id == telegram_id,
            Member.status == MemberStatus.ACTIVE,
        )
    )
    if own.first() is not None:
        school = await session.get(Organization, school_id)
        raise DomainError(N_("district.recuse"), school=school.name if school else "")


def school_ids(schools: Sequence[Organization]) -> list[int]:
    """The ids, for IN queries."""
    return [school.id for school in schools if school.id is not None]


async def seat_owner_at_district(
    session: AsyncSession, *, district_id: int, school_id: int, telegram_user_id: int
) -> None:
    """An owner (OWNER_IDS) who is a member of a school: also the district union's chair, with
    the profile their school holds (nothing happens if they are in the district already)."""
    row = (
        await session.exec(
            select(Member).where(
                Member.organization_id == school_id, Member.telegram_user_id == telegram_user_id
            )
        )
    ).first()
    if row is None:
        return
    try:
        await submit_registration(
            session,
            org_id=district_id,
            telegram_user_id=telegram_user_id,
            profile=profile_of(row),
            language=row.language or "zh-Hans",
            is_owner=True,
        )
    except DomainError:
        return  # seated already (another update of theirs did it first)
