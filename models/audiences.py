"""Who is in a calendar or broadcast audience; members without the attribute are simply out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import Select, and_, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.calendar import AudienceType
from models.hardship import FileStatus, HardshipFile
from models.members import COMMITTEE_OFFICES, Gender, Member, MemberRole, MemberStatus, Role
from models.outbox import OutboxNeed

SelectT = TypeVar("SelectT", bound=Select[*tuple[Any, ...]])
_ROWS_AT_ONCE = 2_000

# Who a message reaches, and who only a visit or a call does (never joined the bot, no
# Telegram account, or blocked the bot: a greeting cannot reach them either).
_REACHABLE = (
    Member.status == MemberStatus.ACTIVE,
    col(Member.telegram_user_id).is_not(None),
    col(Member.unreachable_since).is_(None),
)
_IN_PERSON = (
    or_(
        col(Member.status) == MemberStatus.INVITED,
        and_(
            col(Member.status) == MemberStatus.ACTIVE,
            or_(
                col(Member.telegram_user_id).is_(None),
                col(Member.unreachable_since).is_not(None),
            ),
        ),
    ),
)


def _birthday_condition(today: date) -> Any:
    condition = and_(col(Member.birth_month) == today.month, col(Member.birth_day) == today.day)
    if (today.month, today.day) == (2, 28) and not _is_leap(today.year):
        # People born on 29 February are greeted on the 28th in other years.
        condition = or_(condition, and_(col(Member.birth_month) == 2, col(Member.birth_day) == 29))
    return condition


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


@dataclass(frozen=True, slots=True)
class Addressee:
    """What a broadcast needs of one member of its audience (a row, not an ORM object)."""

    member_id: int
    chat_id: int
    language: str | None
    real_name: str


async def audience_members(
    session: AsyncSession,
    *,
    org_id: int,
    audience: dict[str, Any],
    today: date,
    respect_mute: bool,
    reachable: bool = True,
) -> Sequence[Member]:
    """Active, reachable members with a Telegram account who belong to `audience`; with
    `reachable=False` instead the people of the audience no message can reach: on the roster
    (invited), active without a Telegram account, or active but unreachable (blocked the bot):
    the committee greets them in person."""
    statement = _in_audience(
        select(Member), org_id, audience, today, respect_mute=respect_mute, reachable=reachable
    )
    return (await session.exec(statement.order_by(col(Member.id)))).all()


def audience_need(audience: dict[str, Any]) -> OutboxNeed | None:
    """What a member of this audience must still be when a message to it goes out: on the
    committee, or a representative; for the other audiences, membership alone (always checked)."""
    kind = audience.get("type")
    if kind == AudienceType.COMMITTEE:
        return OutboxNeed.COMMITTEE
    if kind == AudienceType.REPRESENTATIVES:
        return OutboxNeed.REPRESENTATIVE
    return None


async def audience_addressees(
    session: AsyncSession,
    *,
    org_id: int,
    audience: dict[str, Any],
    today: date,
    respect_mute: bool,
) -> list[Addressee]:
    """The reachable members of `audience` as plain rows, for a broadcast to all of them.

    A district's 50,000 members loaded as ORM objects held the event loop for about a second
    (bench/district.py); four columns as rows cost a fraction of that.
    """
    statement = _in_audience(
        select(
            col(Member.id),
            col(Member.telegram_user_id),
            col(Member.language),
            col(Member.real_name),
        ),
        org_id,
        audience,
        today,
        respect_mute=respect_mute,
        reachable=True,
    )
    # Fetched in slices, so the rows of a district are turned into addressees between
    # updates rather than in one stretch of the event loop.
    result = await session.stream(
        statement.order_by(col(Member.id)).execution_options(yield_per=_ROWS_AT_ONCE)
    )
    addressees: list[Addressee] = []
    async for rows in result.partitions():
        addressees.extend(
            Addressee(
                member_id=member_id or 0, chat_id=chat_id or 0, language=language, real_name=name
            )
            for member_id, chat_id, language, name in rows
        )
    return addressees


def _in_audience(
    statement: SelectT,
    org_id: int,
    audience: dict[str, Any],
    today: date,
    *,
    respect_mute: bool,
    reachable: bool,
) -> SelectT:
    """`statement` (over the member table) narrowed to the audience."""
    kind = AudienceType(str(audience.get("type", "")))
    statement = statement.where(
        col(Member.organization_id) == org_id,
        *(_REACHABLE if reachable else _IN_PERSON),
    )
    if respect_mute:
        statement = statement.where(col(Member.mute_greetings).is_(False))
    if kind == AudienceType.WOMEN:
        statement = statement.where(col(Member.gender) == Gender.FEMALE)
    elif kind == AudienceType.RETIREES:
        statement = statement.where(col(Member.retired).is_(True))
    elif kind == AudienceType.BIRTHDAY:
        statement = statement.where(_birthday_condition(today))
    elif kind in (AudienceType.REPRESENTATIVES, AudienceType.COMMITTEE):
        roles = (
            [Role.REPRESENTATIVE]
            if kind == AudienceType.REPRESENTATIVES
            else list(COMMITTEE_OFFICES)
        )
        holders = select(MemberRole.member_id).where(col(MemberRole.role).in_(roles))
        statement = statement.where(col(Member.id).in_(holders))
    elif kind == AudienceType.DEPARTMENTS:  # union groups, by their exact names
        statement = statement.where(col(Member.department).in_(list(audience.get("names", []))))
    elif kind == AudienceType.MEMBERS:
        ids = [int(value) for value in audience.get("ids", [])]
        statement = statement.where(col(Member.id).in_(ids))
    elif kind == AudienceType.HARDSHIP:
        on_file = select(HardshipFile.member_id).where(
            HardshipFile.organization_id == org_id, HardshipFile.status == FileStatus.ACTIVE
        )
        statement = statement.where(col(Member.id).in_(on_file))
    return statement
