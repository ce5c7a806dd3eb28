"""Members, their roles, join requests (入会申请) and invitations."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Index, String, UniqueConstraint, func, or_, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.base import UTCDateTime, utcnow
from models.errors import N_, DomainError
from models.validation import Birthday

logger = logging.getLogger(__name__)

NAME_LIMIT = 40
DEPARTMENT_LIMIT = 60


class MemberStatus(StrEnum):
    """Where a person stands with the union."""

    INVITED = "invited"  # imported from the roster, Telegram account not bound yet
    PENDING = "pending"  # asked to join, waiting for the committee
    ACTIVE = "active"
    REJECTED = "rejected"
    INACTIVE = "inactive"  # left the school or deactivated; history kept


class Role(StrEnum):
    """Roles on top of plain membership; a member may hold several."""

    REPRESENTATIVE = "representative"  # 教代会代表
    COMMITTEE = "committee"  # 工会委员
    TREASURER = "treasurer"  # 财务: manages the money and pays
    CHAIR = "chair"  # 工会主席
    VICE_CHAIR = "vice_chair"  # 副主席: a committee member by office
    WOMEN_CHAIR = "women_chair"  # 女工委主任: a committee member by office
    AUDITOR = "auditor"  # 经审委员: reads the books, never pays (never also 财务)
    GROUP_LEADER = "group_leader"  # 工会小组长: heads one department's union group


# Offices that make their holder a committee member (decides at the desk).
COMMITTEE_OFFICES = frozenset({Role.COMMITTEE, Role.CHAIR, Role.VICE_CHAIR, Role.WOMEN_CHAIR})
# Who may read the books and reports (台账, /report): the committee, 财务 and 经审.
BOOK_READERS = COMMITTEE_OFFICES | {Role.TREASURER, Role.AUDITOR}
# Roles one person may not hold together. 经审 audits the money: never the one who pays (财务),
# nor the chair or a vice-chair who approve the spending (as the 经审 regulations say).
EXCLUSIVE_ROLES: dict[Role, frozenset[Role]] = {
    Role.AUDITOR: frozenset({Role.TREASURER, Role.CHAIR, Role.VICE_CHAIR}),
    Role.TREASURER: frozenset({Role.AUDITOR}),
    Role.CHAIR: frozenset({Role.AUDITOR}),
    Role.VICE_CHAIR: frozenset({Role.AUDITOR}),
}


class Gender(StrEnum):
    """Only asked so Women's Day greetings reach the right people."""

    FEMALE = "female"
    MALE = "male"


class JoinStatus(StrEnum):
    """The life of a join request."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Member(SQLModel, table=True):
    """A teacher or staff member, known by their Telegram account once bound."""

    __table_args__ = (
        UniqueConstraint("organization_id", "telegram_user_id", name="uq_member_org_telegram"),
        UniqueConstraint("organization_id", "roster_key", name="uq_member_org_roster_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    # Indexed alone too: in a district each private update finds the person's schools by it.
    telegram_user_id: int | None = Field(
        default=None, sa_type=BigInteger, nullable=True, index=True
    )
    real_name: str = Field(max_length=NAME_LIMIT)
    department: str = Field(max_length=DEPARTMENT_LIMIT)
    gender: str | None = Field(default=None, sa_type=String(8), nullable=True)
    birth_year: int | None = None
    birth_month: int | None = None
    birth_day: int | None = None
    retired: bool = False
    status: str = Field(default=MemberStatus.PENDING, sa_type=String(16), index=True)
    language: str | None = Field(default=None, sa_type=String(8), nullable=True)
    invite_code: str | None = Field(default=None, sa_type=String(32), unique=True, nullable=True)
    roster_key: str | None = Field(default=None, sa_type=String(120), nullable=True)
    # Greetings and announcements are skipped for members who muted them (tasks are not).
    mute_greetings: bool = False
    # Set when Telegram said the member blocked the bot; cleared when they write to it again.
    unreachable_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # When the member became active (approved, bound, reactivated) and when they left; the
    # reports read them (None on an active row: `created_at` stands in).
    joined_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    left_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def birthday(self) -> Birthday | None:
        """The birthday, if given."""
        if self.birth_month and self.birth_day:
            return Birthday(month=self.birth_month, day=self.birth_day, year=self.birth_year)
        return None


class MemberRole(SQLModel, table=True):
    """A role held by a member."""

    __tablename__ = "member_role"

    member_id: int = Field(foreign_key="member.id", primary_key=True)
    role: str = Field(sa_type=String(16), primary_key=True)
    granted_by_member_id: int | None = Field(default=None, foreign_key="member.id")
    granted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class JoinRequest(SQLModel, table=True):
    """A request to join (入会申请), decided once by the committee."""

    __tablename__ = "join_request"
    __table_args__ = (
        # At most one open request per person: a redelivered "confirm" cannot add a second.
        Index(
            "uq_join_request_pending_member",
            "member_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    status: str = Field(default=JoinStatus.PENDING, sa_type=String(16))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_by_member_id: int | None = Field(default=None, foreign_key="member.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ProfileChangeRequest(SQLModel, table=True):
    """A change of name or department asked for in /me, waiting for the committee: until it is
    approved the member keeps the old ones (nobody renames themselves 校长 on a card)."""

    __tablename__ = "profile_change_request"
    __table_args__ = (
        # One open change per member: the next one waits until this one is decided.
        Index(
            "uq_profile_change_pending_member",
            "member_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    old_name: str = Field(max_length=NAME_LIMIT)
    old_department: str = Field(max_length=DEPARTMENT_LIMIT)
    new_name: str | None = Field(default=None, max_length=NAME_LIMIT, nullable=True)
    new_department: str | None = Field(default=None, max_length=DEPARTMENT_LIMIT, nullable=True)
    status: str = Field(default=JoinStatus.PENDING, sa_type=String(16))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_by_member_id: int | None = Field(default=None, foreign_key="member.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


@dataclass(frozen=True)
class Profile:
    """What a person tells us about themselves when joining."""

    real_name: str
    department: str
    gender: Gender | None = None
    birthday: Birthday | None = None
    retired: bool = False


@dataclass(frozen=True)
class Actor:
    """A member together with the roles they hold, as loaded for one update."""

    member: Member
    roles: frozenset[Role]

    @property
    def id(self) -> int:
        """The member id."""
        assert self.member.id is not None
        return self.member.id

    @property
    def is_active(self) -> bool:
        """True for a member in good standing."""
        return self.member.status == MemberStatus.ACTIVE

    @property
    def is_committee(self) -> bool:
        """Committee members and the chair decide things."""
        return self.is_active and bool(self.roles & COMMITTEE_OFFICES)

    @property
    def may_read_books(self) -> bool:
        """The committee, 财务 and 经审 read the books and reports; nobody else."""
        return self.is_active and bool(self.roles & BOOK_READERS)

    @property
    def is_chair(self) -> bool:
        """The chair manages roles and settings."""
        return self.is_active and Role.CHAIR in self.roles

    def has(self, role: Role) -> bool:
        """True if the member holds `role` (the chair holds every committee power)."""
        if not self.is_active:
            return False
        if role == Role.COMMITTEE:
            return self.is_committee
        return role in self.roles


def _apply_profile(member: Member, profile: Profile) -> None:
    member.real_name = profile.real_name
    member.department = profile.department
    _apply_personal(member, profile)


def _apply_personal(member: Member, profile: Profile) -> None:
    member.gender = profile.gender.value if profile.gender else None
    member.retired = profile.retired
    if profile.birthday:
        member.birth_year = profile.birthday.year
        member.birth_month = profile.birthday.month
        member.birth_day = profile.birthday.day
    member.updated_at = utcnow()


async def roles_of(session: AsyncSession, member_id: int) -> frozenset[Role]:
    """The roles a member holds."""
    rows = await session.exec(select(MemberRole.role).where(MemberRole.member_id == member_id))
    return frozenset(Role(value) for value in rows.all())


async def load_actor(session: AsyncSession, *, org_id: int, telegram_user_id: int) -> Actor | None:
    """The member bound to this Telegram account, with roles; None for strangers.

    One query (member and roles joined): it runs for every update, so it is kept cheap.
    """
    rows = (
        await session.exec(
            select(Member, MemberRole.role)
            .join(MemberRole, col(MemberRole.member_id) == Member.id, isouter=True)
            .where(Member.organization_id == org_id, Member.telegram_user_id == telegram_user_id)
        )
    ).all()
    if not rows or rows[0][0].id is None:
        return None
    roles = frozenset(Role(role) for _, role in rows if role is not None)
    return Actor(member=rows[0][0], roles=roles)


async def get_member(session: AsyncSession, *, org_id: int, member_id: int) -> Member:
    """A member of this organization, else a domain error (ids from buttons can be forged)."""
    member = await session.get(Member, member_id)
    if member is None or member.organization_id != org_id:
        raise DomainError(N_("members.not_found"))
    return member


async def submit_registration(
    session: AsyncSession,
    *,
    org_id: int,
    telegram_user_id: int,
    profile: Profile,
    language: str,
    is_owner: bool,
) -> tuple[Member, JoinRequest | None]:
    """Store a confirmed registration; owners become active chairs, others get a join request."""
    existing = (
        await session.exec(
            select(Member).where(
                Member.organization_id == org_id, Member.telegram_user_id == telegram_user_id
            )
        )
    ).first()
    if existing is not None and existing.status in (MemberStatus.ACTIVE, MemberStatus.INVITED):
        raise DomainError(N_("join.already_member"))
    if existing is not None and existing.status == MemberStatus.PENDING:
        raise DomainError(N_("join.already_pending"))
    if existing is not None and existing.status == MemberStatus.INACTIVE:
        raise DomainError(N_("join.inactive"))
    member = existing or Member(
        organization_id=org_id, telegram_user_id=telegram_user_id, real_name="", department=""
    )
    _apply_profile(member, profile)
    member.language = language
    member.status = MemberStatus.ACTIVE if is_owner else MemberStatus.PENDING
    member.joined_at = utcnow() if is_owner else None
    session.add(member)
    try:
        await session.flush()
        assert member.id is not None
        request = None
        if is_owner:
            session.add(MemberRole(member_id=member.id, role=Role.CHAIR))
        else:
            request = JoinRequest(organization_id=org_id, member_id=member.id)
            session.add(request)
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise DomainError(N_("join.already_pending")) from exc
    return member, request


def role_conflict(role: Role, held: Iterable[Role]) -> Role | None:
    """A role already held that may not go with `role` (EXCLUSIVE_ROLES), or None."""
    conflicting = sorted(EXCLUSIVE_ROLES.get(role, frozenset()) & set(held))
    return conflicting[0] if conflicting else None


_OWNERS_NOT_CHAIR: set[int] = set()  # logged once per process


async def ensure_owner_is_chair(session: AsyncSession, *, actor: Actor) -> Actor:
    """An OWNER_IDS account becomes an active chair on first contact, unless it holds a role
    the chair may not hold (经审): then it is only made active, and that is logged once."""
    if actor.is_chair:
        return actor
    member = actor.member
    conflict = role_conflict(Role.CHAIR, actor.roles)
    if conflict is not None and member.status == MemberStatus.ACTIVE:
        _log_owner_not_chair(actor.id, conflict)
        return actor
    member.status = MemberStatus.ACTIVE
    member.updated_at = utcnow()
    member.joined_at = member.joined_at or member.updated_at
    session.add(member)
    roles = actor.roles
    if conflict is not None:
        _log_owner_not_chair(actor.id, conflict)
    elif Role.CHAIR not in actor.roles:
        session.add(MemberRole(member_id=actor.id, role=Role.CHAIR))
        roles = roles | {Role.CHAIR}
    await session.commit()
    return Actor(member=member, roles=roles)


def _log_owner_not_chair(member_id: int, conflict: Role) -> None:
    if member_id not in _OWNERS_NOT_CHAIR:
        _OWNERS_NOT_CHAIR.add(member_id)
        logger.warning("Owner member %s not made chair: holds %s", member_id, conflict.value)


async def invite_org(session: AsyncSession, *, code: str) -> int | None:
    """The organization whose roster holds this invitation code (codes are unique across a
    district's schools)."""
    query = select(Member.organization_id).where(Member.invite_code == code)
    return (await session.exec(query)).first()


async def bind_invite(
    session: AsyncSession, *, org_id: int, telegram_user_id: int, code: str, language: str
) -> Member:
    """Bind a Telegram account to an invited roster member via their personal code."""
    member = (
        await session.exec(
            select(Member).where(Member.organization_id == org_id, Member.invite_code == code)
        )
    ).first()
    if member is None:
        raise DomainError(N_("invite.unknown"))
    if member.telegram_user_id == telegram_user_id:
        return member  # the same link pressed twice
    if member.telegram_user_id is not None:
        raise DomainError(N_("invite.used"))
    other = await load_actor(session, org_id=org_id, telegram_user_id=telegram_user_id)
    if other is not None:
        raise DomainError(N_("invite.already_registered"))
    result = await session.exec(
        update(Member)
        .where(col(Member.id) == member.id, col(Member.telegram_user_id).is_(None))
        .values(
            telegram_user_id=telegram_user_id,
            status=MemberStatus.ACTIVE,
            language=language,
            updated_at=utcnow(),
            joined_at=utcnow(),
        )
    )
    if result.rowcount != 1:
        await session.rollback()
        raise DomainError(N_("invite.used"))
    await session.commit()
    await session.refresh(member)
    return member


async def get_join_request(session: AsyncSession, *, org_id: int, request_id: int) -> JoinRequest:
    """A join request of this organization, else a domain error."""
    request = await session.get(JoinRequest, request_id)
    if request is None or request.organization_id != org_id:
        raise DomainError(N_("desk.item_not_found"))
    return request


async def decide_join_request(
    session: AsyncSession, *, org_id: int, request_id: int, decider: Actor, approve: bool
) -> tuple[JoinRequest, Member]:
    """Approve or reject once; a second decision (even a simultaneous one) is refused."""
    if not decider.is_committee:
        raise DomainError(N_("desk.not_committee"))
    request = await get_join_request(session, org_id=org_id, request_id=request_id)
    new_status = JoinStatus.APPROVED if approve else JoinStatus.REJECTED
    now = utcnow()
    result = await session.exec(
        update(JoinRequest)
        .where(col(JoinRequest.id) == request_id, col(JoinRequest.status) == JoinStatus.PENDING)
        .values(status=new_status, decided_by_member_id=decider.id, decided_at=now)
    )
    if result.rowcount != 1:
        await session.rollback()
        raise DomainError(N_("desk.already_decided"))
    await session.exec(
        update(Member)
        .where(col(Member.id) == request.member_id, col(Member.status) == MemberStatus.PENDING)
        .values(
            status=MemberStatus.ACTIVE if approve else MemberStatus.REJECTED,
            updated_at=now,
            joined_at=now if approve else None,
        )
    )
    await session.commit()
    await session.refresh(request)
    member = await get_member(session, org_id=org_id, member_id=request.member_id)
    return request, member


async def update_profile(session: AsyncSession, *, member: Member, profile: Profile) -> Member:
    """Save an edited gender, birthday or retired flag. The name and department are not
    written here: they change only when the committee approves (`request_profile_change`)."""
    _apply_personal(member, profile)
    session.add(member)
    await session.commit()
    return member


async def clear_birthday(session: AsyncSession, *, member: Member) -> Member:
    """Forget the member's birthday (no birthday greeting from now on)."""
    member.birth_year = member.birth_month = member.birth_day = None
    member.updated_at = utcnow()
    session.add(member)
    await session.commit()
    return member


def numbered_name(member: Member) -> str:
    """The name with the member's number (their id), as cards show it: 王芳（#12）."""
    return f"{member.real_name}（#{member.id}）"


async def pending_profile_change(
    session: AsyncSession, *, member_id: int
) -> ProfileChangeRequest | None:
    """The member's change of name or department still waiting for the committee."""
    statement = select(ProfileChangeRequest).where(
        ProfileChangeRequest.member_id == member_id,
        ProfileChangeRequest.status == JoinStatus.PENDING,
    )
    return (await session.exec(statement)).first()


async def request_profile_change(
    session: AsyncSession, *, member: Member, name: str | None = None, department: str | None = None
) -> ProfileChangeRequest | None:
    """Ask the committee to approve a new name or department; None if nothing would change.

    The member record keeps the old values until `decide_profile_change` approves.
    """
    assert member.id is not None
    new_name = name if name is not None and name != member.real_name else None
    new_department = (
        department if department is not None and department != member.department else None
    )
    if new_name is None and new_department is None:
        return None
    if await pending_profile_change(session, member_id=member.id) is not None:
        raise DomainError(N_("profile_change.already_pending"))
    request = ProfileChangeRequest(
        organization_id=member.organization_id,
        member_id=member.id,
        old_name=member.real_name,
        old_department=member.department,
        new_name=new_name,
        new_department=new_department,
    )
    session.add(request)
    try:
        await session.commit()
    except IntegrityError as exc:  # a second change committed at the same moment
        await session.rollback()
        raise DomainError(N_("profile_change.already_pending")) from exc
    return request


async def decide_profile_change(
    session: AsyncSession, *, org_id: int, request_id: int, decider: Actor, approve: bool
) -> tuple[ProfileChangeRequest, Member]:
    """Approve (the new name or department takes effect) or reject, once; nobody decides
    their own change."""
    if not decider.is_committee:
        raise DomainError(N_("desk.not_committee"))
    request = await session.get(ProfileChangeRequest, request_id)
    if request is None or request.organization_id != org_id:
        raise DomainError(N_("desk.item_not_found"))
    if request.member_id == decider.id:
        raise DomainError(N_("profile_change.not_own"))
    now = utcnow()
    result = await session.exec(
        update(ProfileChangeRequest)
        .where(
            col(ProfileChangeRequest.id) == request_id,
            col(ProfileChangeRequest.status) == JoinStatus.PENDING,
        )
        .values(
            status=JoinStatus.APPROVED if approve else JoinStatus.REJECTED,
            decided_by_member_id=decider.id,
            decided_at=now,
        )
    )
    if result.rowcount != 1:
        await session.rollback()
        raise DomainError(N_("desk.already_decided"))
    changes: dict[str, object] = {}
    if approve and request.new_name is not None:
        changes["real_name"] = request.new_name
    if approve and request.new_department is not None:
        changes["department"] = request.new_department
    if changes:
        old = await session.get(Member, request.member_id)
        moved = (
            old is not None and "department" in changes and old.department != changes["department"]
        )
        await session.exec(
            update(Member)
            .where(col(Member.id) == request.member_id)
            .values(**changes, updated_at=now)
        )
        if moved:  # a 工会小组长 heads their department's group: a new department ends it
            await session.exec(
                delete(MemberRole).where(
                    col(MemberRole.member_id) == request.member_id,
                    col(MemberRole.role) == Role.GROUP_LEADER,
                )
            )
    await session.commit()
    await session.refresh(request)
    member = await get_member(session, org_id=org_id, member_id=request.member_id)
    await session.refresh(member)
    return request, member


def profile_of(member: Member) -> Profile:
    """The editable part of a member record."""
    return Profile(
        real_name=member.real_name,
        department=member.department,
        gender=Gender(member.gender) if member.gender else None,
        birthday=member.birthday,
        retired=member.retired,
    )


async def mark_reachable(session: AsyncSession, *, member: Member) -> None:
    """A member who had blocked the bot wrote to it again: broadcasts reach them again."""
    member.unreachable_since = None
    session.add(member)
    await session.commit()


async def set_muted(session: AsyncSession, *, member: Member, muted: bool) -> None:
    """Mute or unmute greetings (committee tasks and announcements still arrive)."""
    member.mute_greetings = muted
    member.updated_at = utcnow()
    session.add(member)
    await session.commit()


async def set_language(session: AsyncSession, *, member: Member, language: str) -> bool:
    """Remember the member's language; False (nothing written) when it already was theirs."""
    if member.language == language:
        return False
    member.language = language
    member.updated_at = utcnow()
    session.add(member)
    await session.commit()
    return True


class RoleConflictError(DomainError):
    """The member holds a role that excludes the one being granted (财务 and 经审)."""

    def __init__(self, *, role: Role, held: Role) -> None:
        super().__init__(N_("roles.conflict"))
        self.role = role
        self.held = held


async def grant_role(
    session: AsyncSession, *, org_id: int, actor: Actor, member_id: int, role: Role
) -> bool:
    """Give a role (chair only); False if the member already had it.

    The member's row is written first (on SQLite that takes the write lock, on PostgreSQL the
    row lock), so grants to one person run one after the other: of two simultaneous grants of
    财务 and 经审, the second sees the first and is refused (`RoleConflictError`).
    """
    if not actor.is_chair:
        raise DomainError(N_("roles.chair_only"))
    await get_member(session, org_id=org_id, member_id=member_id)
    locked = await session.exec(
        update(Member)
        .where(col(Member.id) == member_id, col(Member.status) == MemberStatus.ACTIVE)
        .values(updated_at=utcnow())
    )
    if locked.rowcount != 1:
        await session.rollback()
        raise DomainError(N_("roles.member_not_active"))
    held = await roles_of(session, member_id)
    if role in held:
        await session.rollback()
        return False
    conflict = role_conflict(role, held)
    if conflict is not None:
        await session.rollback()
        raise RoleConflictError(role=role, held=conflict)
    session.add(MemberRole(member_id=member_id, role=role, granted_by_member_id=actor.id))
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        return False
    return True


async def count_chairs(session: AsyncSession, *, org_id: int) -> int:
    """How many active chairs the organization has."""
    statement = (
        select(func.count())
        .select_from(MemberRole)
        .join(Member, col(Member.id) == MemberRole.member_id)
        .where(
            Member.organization_id == org_id,
            Member.status == MemberStatus.ACTIVE,
            MemberRole.role == Role.CHAIR,
        )
    )
    return int((await session.exec(statement)).one())


async def revoke_role(
    session: AsyncSession, *, org_id: int, actor: Actor, member_id: int, role: Role
) -> bool:
    """Take a role away (chair only); the last chair cannot be removed."""
    if not actor.is_chair:
        raise DomainError(N_("roles.chair_only"))
    await get_member(session, org_id=org_id, member_id=member_id)
    result = await session.exec(
        delete(MemberRole).where(
            col(MemberRole.member_id) == member_id, col(MemberRole.role) == role
        )
    )
    if result.rowcount == 0:
        await session.rollback()
        return False
    if role == Role.CHAIR and await count_chairs(session, org_id=org_id) == 0:
        await session.rollback()
        raise DomainError(N_("roles.last_chair"))
    await session.commit()
    return True


async def set_active(
    session: AsyncSession, *, org_id: int, actor: Actor, member_id: int, active: bool
) -> Member:
    """Deactivate (left the school, retired) or reactivate a member; history stays."""
    if not actor.is_committee:
        raise DomainError(N_("desk.not_committee"))
    member = await get_member(session, org_id=org_id, member_id=member_id)
    if not active and member.id == actor.id:
        raise DomainError(N_("members.not_yourself"))
    target_is_chair = Role.CHAIR in await roles_of(session, member_id)
    if target_is_chair and not actor.is_chair:
        raise DomainError(N_("roles.chair_only"))
    source, target = (
        (MemberStatus.INACTIVE, MemberStatus.ACTIVE)
        if active
        else (MemberStatus.ACTIVE, MemberStatus.INACTIVE)
    )
    now = utcnow()
    dates = {"joined_at": now, "left_at": None} if active else {"left_at": now}
    result = await session.exec(
        update(Member)
        .where(col(Member.id) == member_id, col(Member.status) == source)
        .values(status=target, updated_at=now, **dates)
    )
    if result.rowcount != 1:
        await session.rollback()
        raise DomainError(N_("members.status_unchanged"))
    if not active and target_is_chair and await count_chairs(session, org_id=org_id) == 0:
        await session.rollback()
        raise DomainError(N_("roles.last_chair"))
    await session.commit()
    await session.refresh(member)
    return member


async def search_members(
    session: AsyncSession, *, org_id: int, query: str, offset: int = 0, limit: int = 8
) -> tuple[Sequence[Member], int]:
    """Members whose name or department contains `query`, with the total count."""
    condition = Member.organization_id == org_id
    statement = select(Member).where(condition)
    counter = select(func.count()).select_from(Member).where(condition)
    if query:
        match = or_(
            col(Member.real_name).contains(query, autoescape=True),
            col(Member.department).contains(query, autoescape=True),
        )
        statement = statement.where(match)
        counter = counter.where(match)
    total = int((await session.exec(counter)).one())
    rows = await session.exec(
        statement.order_by(col(Member.department), col(Member.real_name), col(Member.id))
        .offset(offset)
        .limit(limit)
    )
    return rows.all(), total


async def committee_telegram_ids(session: AsyncSession, *, org_id: int) -> list[int]:
    """Telegram ids of active committee members and chairs (for private fallbacks)."""
    statement = (
        select(Member.telegram_user_id)
        .join(MemberRole, col(MemberRole.member_id) == Member.id)
        .where(
            Member.organization_id == org_id,
            Member.status == MemberStatus.ACTIVE,
            col(MemberRole.role).in_(list(COMMITTEE_OFFICES)),
            col(Member.telegram_user_id).is_not(None),
        )
        .distinct()
    )
    return [value for value in (await session.exec(statement)).all() if value is not None]


def new_invite_code() -> str:
    """A personal, unguessable code for a roster deep link."""
    return secrets.token_urlsafe(9)
