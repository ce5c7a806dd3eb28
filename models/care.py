"""Care the committee starts itself (送温暖 / 慰问): rounds of visits before Spring Festival or
重阳, prepared from the hardship files and the retirees, assigned to committee members and
ticked off as visited, with or without money.

Anyone on the roster can be visited, on Telegram or not (an `invited` member came from the
roster and never joined the bot). A visit with money becomes a committee-started aid case
(`models.aid.start_committee_case`): the same standards, caps, approvals, budget, payment and
ledger as a member's own request. Every state change is guarded in the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, Date, String, UniqueConstraint, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import aid
from models.aid import AidCase, AidType, CaseStatus
from models.base import UTCDateTime, utcnow
from models.errors import N_, DomainError, InputError
from models.hardship import FileStatus, HardshipFile
from models.members import COMMITTEE_OFFICES, Actor, Member, MemberRole, MemberStatus
from models.validation import clean_text

TITLE_LIMIT = 40
NOTE_LIMIT = 200
MAX_VISITS = 90  # people on one round: the list fits a Telegram keyboard
# Who may be visited: people on the roster, joined or not.
ON_ROSTER = (MemberStatus.ACTIVE, MemberStatus.INVITED)


class RoundStatus(StrEnum):
    """Whether a round is still being visited."""

    OPEN = "open"
    CLOSED = "closed"


class VisitStatus(StrEnum):
    """Where one visit stands."""

    PLANNED = "planned"
    VISITED = "visited"
    REMOVED = "removed"  # taken off the list: kept, so an id is never reused by another visit


class VisitSource(StrEnum):
    """Why the person is on the list (shown privately only, never the reason of a file)."""

    HARDSHIP = "hardship"  # an active hardship file
    RETIREE = "retiree"
    ADDED = "added"  # added by name


class CareRound(SQLModel, table=True):
    """One list of visits (春节送温暖, 重阳慰问离退休教职工, ...)."""

    __tablename__ = "care_round"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    title: str = Field(sa_type=String(TITLE_LIMIT))
    status: str = Field(default=RoundStatus.OPEN, sa_type=String(16), index=True)
    with_money: bool = False  # each visit suggests its aid type's standard amount
    created_by_member_id: int = Field(foreign_key="member.id")
    created_on: date = Field(sa_type=Date)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CareVisit(SQLModel, table=True):
    """One person to visit in a round; at most once per round."""

    __tablename__ = "care_visit"
    __table_args__ = (UniqueConstraint("round_id", "member_id", name="uq_care_visit_member"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    round_id: int = Field(foreign_key="care_round.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    source: str = Field(sa_type=String(16))
    aid_type: str = Field(sa_type=String(16))  # what a payment is booked as; "" not chosen yet
    assignee_member_id: int | None = Field(default=None, foreign_key="member.id", nullable=True)
    status: str = Field(default=VisitStatus.PLANNED, sa_type=String(16), index=True)
    # The local day of the visit: said beforehand (while planned) or the day it was ticked.
    visited_on: date | None = Field(default=None, sa_type=Date, nullable=True)
    visited_by_member_id: int | None = Field(default=None, foreign_key="member.id", nullable=True)
    note: str | None = Field(default=None, sa_type=String(NOTE_LIMIT), nullable=True)
    amount: int | None = None  # fen, when money went with the visit
    case_id: int | None = Field(default=None, foreign_key="aid_case.id", nullable=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def _require_committee(actor: Actor) -> None:
    if not actor.is_committee:
        raise DomainError(N_("desk.not_committee"))


# A visit's aid type not chosen yet: the committee picks it before money is recorded.
UNCHOSEN = ""
# Money recorded on a visit may be recorded again once its case ended without a payment.
ENDED_UNPAID = (CaseStatus.REJECTED, CaseStatus.WITHDRAWN)


def aid_type_for(member: Member, source: VisitSource, *, on_file: bool = False) -> str:
    """How a payment is booked by default: 困难补助 only for a family on a hardship file,
    退休慰问 for a retiree; anyone else's (a hospital visit, a bereavement) is chosen by the
    committee when the money is recorded (UNCHOSEN until then)."""
    if source == VisitSource.HARDSHIP or on_file:
        return AidType.HARDSHIP
    if member.retired:
        return AidType.RETIREMENT
    return UNCHOSEN


# ---- rounds ------------------------------------------------------------------------------


async def start_round(
    session: AsyncSession,
    *,
    org_id: int,
    actor: Actor,
    title: str,
    sources: Sequence[VisitSource],
    with_money: bool,
    today: date,
) -> CareRound:
    """A committee member starts a round, filled from the chosen lists (hardship files,
    retirees); people can be added and removed afterwards."""
    _require_committee(actor)
    name = clean_text(title, limit=TITLE_LIMIT, needs_words=True)
    record = CareRound(
        organization_id=org_id,
        title=name,
        with_money=with_money,
        created_by_member_id=actor.id,
        created_on=today,
    )
    session.add(record)
    await session.flush()
    assert record.id is not None
    for member, source in await _people_from(session, org_id=org_id, sources=sources):
        session.add(_visit(record, member, source))
    await session.commit()
    await session.refresh(record)
    return record


def _visit(
    record: CareRound, member: Member, source: VisitSource, *, on_file: bool = False
) -> CareVisit:
    assert record.id is not None and member.id is not None
    return CareVisit(
        organization_id=record.organization_id,
        round_id=record.id,
        member_id=member.id,
        source=source,
        aid_type=aid_type_for(member, source, on_file=on_file),
    )


async def _people_from(
    session: AsyncSession, *, org_id: int, sources: Sequence[VisitSource]
) -> list[tuple[Member, VisitSource]]:
    """The people of the chosen lists, once each (a retiree on file counts as on file)."""
    found: dict[int, tuple[Member, VisitSource]] = {}
    if VisitSource.HARDSHIP in sources:
        for member in await hardship_people(session, org_id=org_id):
            found[member.id or 0] = (member, VisitSource.HARDSHIP)
    if VisitSource.RETIREE in sources:
        for member in await retirees(session, org_id=org_id):
            found.setdefault(member.id or 0, (member, VisitSource.RETIREE))
    return list(found.values())[:MAX_VISITS]


async def _roster_where(
    session: AsyncSession, *, org_id: int, condition: ColumnElement[bool]
) -> Sequence[Member]:
    """People on the roster (joined the bot or not) meeting `condition`, by department."""
    return (
        await session.exec(
            select(Member)
            .where(Member.organization_id == org_id, col(Member.status).in_(ON_ROSTER), condition)
            .order_by(col(Member.department), col(Member.real_name), col(Member.id))
        )
    ).all()


async def hardship_people(session: AsyncSession, *, org_id: int) -> Sequence[Member]:
    """People on the roster whose family has an active hardship file, by department."""
    on_file = select(HardshipFile.member_id).where(
        HardshipFile.organization_id == org_id, HardshipFile.status == FileStatus.ACTIVE
    )
    return await _roster_where(session, org_id=org_id, condition=col(Member.id).in_(on_file))


async def retirees(session: AsyncSession, *, org_id: int) -> Sequence[Member]:
    """Retirees on the roster (joined the bot or not), by department."""
    return await _roster_where(session, org_id=org_id, condition=col(Member.retired).is_(True))


async def open_rounds(session: AsyncSession, *, org_id: int) -> Sequence[CareRound]:
    """Rounds still being visited, newest first."""
    return (
        await session.exec(
            select(CareRound)
            .where(CareRound.organization_id == org_id, CareRound.status == RoundStatus.OPEN)
            .order_by(col(CareRound.id).desc())
        )
    ).all()


async def get_round(session: AsyncSession, *, org_id: int, round_id: int) -> CareRound:
    """A round of this organization (ids from buttons can be forged)."""
    record = await session.get(CareRound, round_id)
    if record is None or record.organization_id != org_id:
        raise DomainError(N_("care.round_not_found"))
    return record


async def _open_round(session: AsyncSession, *, org_id: int, round_id: int) -> CareRound:
    record = await get_round(session, org_id=org_id, round_id=round_id)
    if record.status != RoundStatus.OPEN:
        raise DomainError(N_("care.round_closed"))
    return record


async def close_round(
    session: AsyncSession, *, org_id: int, actor: Actor, round_id: int
) -> CareRound:
    """The round is done: its list stays readable, nothing more is ticked."""
    _require_committee(actor)
    record = await get_round(session, org_id=org_id, round_id=round_id)
    result = await session.exec(
        update(CareRound)
        .where(col(CareRound.id) == round_id, col(CareRound.status) == RoundStatus.OPEN)
        .values(status=RoundStatus.CLOSED)
    )
    if result.rowcount != 1:
        await session.rollback()
        raise DomainError(N_("care.round_closed"))
    await session.commit()
    await session.refresh(record)
    return record


async def round_visits(
    session: AsyncSession, *, org_id: int, round_id: int, assignee_id: int | None = None
) -> list[tuple[CareVisit, Member]]:
    """A round's visits with the person visited, by department and name (only those assigned
    to `assignee_id` when given)."""
    statement = (
        select(CareVisit, Member)
        .join(Member, col(Member.id) == CareVisit.member_id)
        .where(
            CareVisit.organization_id == org_id,
            CareVisit.round_id == round_id,
            CareVisit.status != VisitStatus.REMOVED,
        )
    )
    if assignee_id is not None:
        statement = statement.where(CareVisit.assignee_member_id == assignee_id)
    statement = statement.order_by(col(Member.department), col(Member.real_name), col(Member.id))
    return [(visit, member) for visit, member in (await session.exec(statement)).all()]


# ---- people on a round -------------------------------------------------------------------


async def get_visit(session: AsyncSession, *, org_id: int, visit_id: int) -> CareVisit:
    """A visit of this organization (ids from buttons can be forged)."""
    visit = await session.get(CareVisit, visit_id)
    if visit is None or visit.organization_id != org_id or visit.status == VisitStatus.REMOVED:
        raise DomainError(N_("care.visit_not_found"))
    return visit


async def roster_matches(
    session: AsyncSession, *, org_id: int, name: str, limit: int = 8
) -> Sequence[Member]:
    """People on the roster (joined or not) whose name contains `name`."""
    query = clean_text(name, limit=TITLE_LIMIT, needs_words=True)
    return (
        await session.exec(
            select(Member)
            .where(
                Member.organization_id == org_id,
                col(Member.status).in_(ON_ROSTER),
                col(Member.real_name).contains(query, autoescape=True),
            )
            .order_by(col(Member.department), col(Member.real_name), col(Member.id))
            .limit(limit)
        )
    ).all()


async def add_person(
    session: AsyncSession, *, org_id: int, actor: Actor, round_id: int, member_id: int
) -> CareVisit:
    """Put one person from the roster on a round (once)."""
    _require_committee(actor)
    record = await _open_round(session, org_id=org_id, round_id=round_id)
    member = await session.get(Member, member_id)
    if member is None or member.organization_id != org_id or member.status not in ON_ROSTER:
        raise DomainError(N_("care.not_on_roster"))
    count = (
        await session.exec(
            select(func.count())
            .select_from(CareVisit)
            .where(CareVisit.round_id == round_id, CareVisit.status != VisitStatus.REMOVED)
        )
    ).one()
    if int(count) >= MAX_VISITS:
        raise DomainError(N_("care.round_full"), limit=MAX_VISITS)
    name = member.real_name  # the rollback below expires the row
    on_file = member.id in {m.id for m in await hardship_people(session, org_id=org_id)}
    # Taken off earlier: the same row comes back (the person is on a round once).
    revived = await session.exec(
        update(CareVisit)
        .where(
            col(CareVisit.round_id) == round_id,
            col(CareVisit.member_id) == member_id,
            col(CareVisit.status) == VisitStatus.REMOVED,
        )
        .values(
            status=VisitStatus.PLANNED,
            source=VisitSource.ADDED,
            assignee_member_id=None,
            aid_type=aid_type_for(member, VisitSource.ADDED, on_file=on_file),
        )
    )
    if revived.rowcount == 1:
        await session.commit()
        return (
            await session.exec(
                select(CareVisit)
                .where(CareVisit.round_id == round_id, CareVisit.member_id == member_id)
                .execution_options(populate_existing=True)
            )
        ).one()
    visit = _visit(record, member, VisitSource.ADDED, on_file=on_file)
    session.add(visit)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise DomainError(N_("care.already_on_round"), name=name) from None
    await session.refresh(visit)
    return visit


async def remove_visit(
    session: AsyncSession, *, org_id: int, actor: Actor, visit_id: int
) -> CareVisit:
    """Take a person off a round, unless they were visited already. The row stays, marked
    removed, so its id is never given to another visit (SQLite reuses the highest id of a
    deleted row, and a stale button would then act on someone else)."""
    _require_committee(actor)
    visit = await get_visit(session, org_id=org_id, visit_id=visit_id)
    await _open_round(session, org_id=org_id, round_id=visit.round_id)
    result = await session.exec(
        update(CareVisit)
        .where(col(CareVisit.id) == visit_id, col(CareVisit.status) == VisitStatus.PLANNED)
        .values(status=VisitStatus.REMOVED)
    )
    if result.rowcount != 1:
        await session.rollback()
        raise DomainError(N_("care.already_visited"))
    await session.commit()
    return visit


async def committee_members(session: AsyncSession, *, org_id: int) -> Sequence[Member]:
    """Active committee members on Telegram: who visits can be assigned to."""
    holders = select(MemberRole.member_id).where(col(MemberRole.role).in_(COMMITTEE_OFFICES))
    return (
        await session.exec(
            select(Member)
            .where(
                Member.organization_id == org_id,
                Member.status == MemberStatus.ACTIVE,
                col(Member.telegram_user_id).is_not(None),
                col(Member.id).in_(holders),
            )
            .order_by(col(Member.real_name), col(Member.id))
        )
    ).all()


async def assign(
    session: AsyncSession,
    *,
    org_id: int,
    actor: Actor,
    visit_ids: Sequence[int],
    assignee_id: int,
) -> list[int]:
    """Give visits not yet made to a committee member; returns the ids that changed."""
    _require_committee(actor)
    if assignee_id not in {m.id for m in await committee_members(session, org_id=org_id)}:
        raise DomainError(N_("care.assignee_not_committee"))
    changed = []
    for visit_id in visit_ids:
        visit = await get_visit(session, org_id=org_id, visit_id=visit_id)
        await _open_round(session, org_id=org_id, round_id=visit.round_id)
        result = await session.exec(
            update(CareVisit)
            .where(col(CareVisit.id) == visit_id, col(CareVisit.status) == VisitStatus.PLANNED)
            .values(assignee_member_id=assignee_id)
        )
        if result.rowcount == 1:
            changed.append(visit_id)
    if not changed:
        await session.rollback()
        raise DomainError(N_("care.already_visited"))
    await session.commit()
    return changed


# ---- visited -----------------------------------------------------------------------------


async def record_visit(
    session: AsyncSession,
    *,
    org_id: int,
    actor: Actor,
    visit_id: int,
    amount: int | None,
    today: date,
    description: str,
) -> CareVisit:
    """✅ visited (by the assignee or any committee member), on `today`; with `amount` (fen)
    a committee-started aid case goes to the desk in the same transaction, under the aid rules
    and booked as the visit's aid type. Pressed twice, or by two people at once: one visit, one
    case. A visit whose money the desk rejected (or that was withdrawn) takes new money: a new
    case, the visit keeps its day."""
    _require_committee(actor)
    visit = await get_visit(session, org_id=org_id, visit_id=visit_id)
    # Read now: a retried case number rolls a savepoint back, which expires loaded rows.
    subject_id, chosen, earlier = visit.member_id, visit.aid_type, visit.case_id
    day = visit.visited_on or today  # the day the visitor said, else today
    again = visit.status == VisitStatus.VISITED and await money_ended(session, visit)
    await _open_round(session, org_id=org_id, round_id=visit.round_id)
    if amount is not None:
        if chosen == UNCHOSEN:
            raise DomainError(N_("care.choose_type_first"))
        policy = await aid.policy_for(session, org_id=org_id, year=today.year)
        aid.check_amount(amount, policy)
        await aid.ensure_standards(session, org_id=org_id)
    if again and amount is not None:
        statement = (
            update(CareVisit)
            .where(col(CareVisit.id) == visit_id, col(CareVisit.case_id) == earlier)
            .values(amount=amount, visited_by_member_id=actor.id)
        )
        token = f"care-visit-{visit_id}-{earlier}"
    else:
        statement = (
            update(CareVisit)
            .where(col(CareVisit.id) == visit_id, col(CareVisit.status) == VisitStatus.PLANNED)
            .values(
                status=VisitStatus.VISITED,
                visited_on=day,
                visited_by_member_id=actor.id,
                amount=amount,
            )
        )
        token = f"care-visit-{visit_id}"
    result = await session.exec(statement)
    if result.rowcount != 1:
        await session.rollback()
        await get_visit(session, org_id=org_id, visit_id=visit_id)  # removed meanwhile: gone
        raise DomainError(N_("care.already_visited"))
    if amount is not None:
        try:
            case = await aid.start_committee_case(
                session,
                org_id=org_id,
                actor=actor,
                subject_member_id=subject_id,
                aid_type=AidType(chosen),
                amount=amount,
                happened_on=day,
                description=description,
                client_token=token,
            )
        except IntegrityError:
            await session.rollback()
            raise DomainError(N_("suggestion.busy")) from None
        await session.exec(
            update(CareVisit).where(col(CareVisit.id) == visit_id).values(case_id=case.id)
        )
    await session.commit()
    return await _reloaded(session, visit_id)


async def money_ended(session: AsyncSession, visit: CareVisit) -> bool:
    """The visit's money went to a case the desk rejected or that was withdrawn: money may be
    recorded on the visit again."""
    if visit.case_id is None:
        return False
    case = await session.get(AidCase, visit.case_id)
    return case is not None and case.status in ENDED_UNPAID


async def visit_taking_money(session: AsyncSession, *, org_id: int, visit_id: int) -> CareVisit:
    """The visit, on an open round, still to do or with money that ended unpaid (refused
    otherwise): its money may be recorded now."""
    visit = await get_visit(session, org_id=org_id, visit_id=visit_id)
    await _open_round(session, org_id=org_id, round_id=visit.round_id)
    if visit.status != VisitStatus.PLANNED and not await money_ended(session, visit):
        raise DomainError(N_("care.already_visited"))
    return visit


async def set_aid_type(
    session: AsyncSession, *, org_id: int, actor: Actor, visit_id: int, aid_type: AidType
) -> CareVisit:
    """What the visit's money is booked as (住院慰问, 困难补助, ...), chosen before the money
    is recorded: while the visit is to do, or its earlier money ended without a payment."""
    _require_committee(actor)
    await visit_taking_money(session, org_id=org_id, visit_id=visit_id)
    await session.exec(
        update(CareVisit)
        .where(col(CareVisit.id) == visit_id, col(CareVisit.status) != VisitStatus.REMOVED)
        .values(aid_type=aid_type)
    )
    await session.commit()
    return await _reloaded(session, visit_id)


async def set_visit_day(
    session: AsyncSession,
    *,
    org_id: int,
    actor: Actor,
    visit_id: int,
    day: date,
    today: date,
    max_age_months: int,
) -> CareVisit:
    """The day a visit was made, said before it is ticked (today when never said): not after
    today, not older than `max_age_months` (the aid rules' limit for when something happened)."""
    _require_committee(actor)
    visit = await get_visit(session, org_id=org_id, visit_id=visit_id)
    await _open_round(session, org_id=org_id, round_id=visit.round_id)
    if day > today:
        raise InputError(N_("care.day_future"))
    earliest = aid.months_before(today, max_age_months)
    if day < earliest:
        raise InputError(
            N_("care.day_too_old"), months=max_age_months, earliest=earliest.isoformat()
        )
    result = await session.exec(
        update(CareVisit)
        .where(col(CareVisit.id) == visit_id, col(CareVisit.status) == VisitStatus.PLANNED)
        .values(visited_on=day)
    )
    if result.rowcount != 1:
        await session.rollback()
        raise DomainError(N_("care.already_visited"))
    await session.commit()
    return await _reloaded(session, visit_id)


async def _reloaded(session: AsyncSession, visit_id: int) -> CareVisit:
    return (
        await session.exec(
            select(CareVisit)
            .where(CareVisit.id == visit_id)
            .execution_options(populate_existing=True)
        )
    ).one()


async def add_note(
    session: AsyncSession, *, org_id: int, actor: Actor, visit_id: int, note: str
) -> CareVisit:
    """A short note on a visit already made (how they are, what they asked for), while the
    round is open; added under the notes written before, never over them."""
    _require_committee(actor)
    text = clean_text(note, limit=NOTE_LIMIT, needs_words=True)
    visit = await get_visit(session, org_id=org_id, visit_id=visit_id)
    await _open_round(session, org_id=org_id, round_id=visit.round_id)
    if visit.status != VisitStatus.VISITED:
        raise DomainError(N_("care.not_visited_yet"))
    earlier = visit.note
    combined = f"{earlier}\n{text}" if earlier else text
    if len(combined) > NOTE_LIMIT:
        raise InputError(N_("care.note_full"), left=max(NOTE_LIMIT - len(earlier or "") - 1, 0))
    same = col(CareVisit.note).is_(None) if earlier is None else col(CareVisit.note) == earlier
    result = await session.exec(
        update(CareVisit)
        .where(col(CareVisit.id) == visit_id, col(CareVisit.status) == VisitStatus.VISITED, same)
        .values(note=combined)
    )
    if result.rowcount != 1:  # another note was saved at the same moment: write it again
        await session.rollback()
        raise DomainError(N_("suggestion.busy"))
    await session.commit()
    return await _reloaded(session, visit_id)


async def visits_without_money(
    session: AsyncSession, *, org_id: int, start: date, end: date
) -> int:
    """Visits made on local days in [start, end) with no payment (for the reports): no money
    recorded, or money whose case the desk rejected or the committee withdrew (nothing was
    paid, so in the books it was a visit without money)."""
    no_payment = (CaseStatus.REJECTED, CaseStatus.WITHDRAWN)
    total = (
        await session.exec(
            select(func.count())
            .select_from(CareVisit)
            .outerjoin(AidCase, col(AidCase.id) == CareVisit.case_id)
            .where(
                CareVisit.organization_id == org_id,
                CareVisit.status == VisitStatus.VISITED,
                col(CareVisit.visited_on) >= start,
                col(CareVisit.visited_on) < end,
                or_(col(CareVisit.amount).is_(None), col(AidCase.status).in_(no_payment)),
            )
        )
    ).one()
    return int(total or 0)


async def fill_round(
    session: AsyncSession, *, org_id: int, actor: Actor, round_id: int, source: VisitSource
) -> int:
    """Add everyone of one list (hardship files or retirees) not on the round yet; returns how
    many were added."""
    _require_committee(actor)
    record = await _open_round(session, org_id=org_id, round_id=round_id)
    present = set(
        (
            await session.exec(select(CareVisit.member_id).where(CareVisit.round_id == round_id))
        ).all()
    )
    room = MAX_VISITS - len(present)
    people = [
        (member, found)
        for member, found in await _people_from(session, org_id=org_id, sources=(source,))
        if member.id not in present
    ]
    if people and room <= 0:
        raise DomainError(N_("care.round_full"), limit=MAX_VISITS)
    for member, found in people[:room]:
        session.add(_visit(record, member, found))
    try:
        await session.commit()
    except IntegrityError:  # the same list pressed twice at once: the first one counts
        await session.rollback()
        return 0
    return len(people[:room])


async def set_money(
    session: AsyncSession, *, org_id: int, actor: Actor, round_id: int, with_money: bool
) -> CareRound:
    """Whether the round's visits suggest their aid standard as the money to take."""
    _require_committee(actor)
    record = await _open_round(session, org_id=org_id, round_id=round_id)
    await session.exec(
        update(CareRound)
        .where(col(CareRound.id) == round_id, col(CareRound.status) == RoundStatus.OPEN)
        .values(with_money=with_money)
    )
    await session.commit()
    await session.refresh(record)
    return record
