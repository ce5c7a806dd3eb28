"""Hardship and care aid (困难帮扶 / 慰问): types and standards, cases, the approval rules, and an
append-only ledger that the audit (经审) can follow yuan by yuan.

Amounts are whole fen (1 yuan = 100 fen) so sums never round. Ledger rows are only ever added:
nothing here updates or deletes one, and a correction is a new row.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, String, Text, UniqueConstraint, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import written
from models.base import UTCDateTime, utcnow
from models.errors import N_, DomainError, InputError
from models.members import Actor, Member, MemberStatus, Role
from models.validation import clean_text

DESCRIPTION_LIMIT = 1000
NOTE_LIMIT = 500
MAX_EVIDENCE = 10
FEN = 100


class AidType(StrEnum):
    """What happened."""

    HOSPITAL = "hospital"  # 住院慰问
    ILLNESS = "illness"  # 大病救助
    CHILDBIRTH = "childbirth"  # 生育慰问
    MARRIAGE = "marriage"  # 结婚慰问
    BEREAVEMENT = "bereavement"  # 丧葬慰问
    HARDSHIP = "hardship"  # 困难补助
    DISASTER = "disaster"  # 意外灾害
    RETIREMENT = "retirement"  # 退休慰问


class CaseStatus(StrEnum):
    """Where a case stands."""

    OPEN = "open"  # waiting for the committee
    INFO_REQUESTED = "info_requested"  # the committee asked the requester a question
    APPROVED = "approved"  # waiting for payment
    PAID = "paid"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class LedgerKind(StrEnum):
    """One step in a case's history."""

    REQUESTED = "requested"
    REPORTED = "reported"  # a colleague told the union about someone
    INFO_ASKED = "info_asked"
    INFO_GIVEN = "info_given"
    APPROVAL = "approval"  # one committee approval (two may be needed)
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    PAID = "paid"
    CORRECTION = "correction"
    # A correction above the single-approval limit asked by the treasurer: it counts only once
    # the chair or a committee member agrees (a CORRECTION row), or is dropped.
    CORRECTION_ASKED = "correction_ask"
    CORRECTION_DROPPED = "correction_drop"
    # The committee started the case itself after a visit (送温暖, models/care.py).
    STARTED = "started"


class ChairReason(StrEnum):
    """Why an approval needs the chair (or, for the threshold, a second approval)."""

    OVER_THRESHOLD = "over_threshold"  # the chair, or two committee approvals
    COUNT_CAP = "count_cap"  # e.g. a second hospital visit this year: the chair
    TOTAL_CAP = "total_cap"  # over the yearly total for this type: the chair
    OVER_BUDGET = "over_budget"  # over what remains of the annual budget: the chair


@dataclass(frozen=True)
class DefaultStandard:
    """A type's standard before the committee changes it."""

    amount: int  # fen
    cap_count: int | None  # cases a member may get per year
    cap_total: int | None  # fen a member may get per year
    evidence: str  # what is usually needed, as a message key


# The seed ledger: hospital visits 250, childbirth 500, a hardship file 1,000 a year.
DEFAULT_STANDARDS: dict[AidType, DefaultStandard] = {
    AidType.HOSPITAL: DefaultStandard(250 * FEN, 1, None, N_("aid.evidence.hospital")),
    AidType.ILLNESS: DefaultStandard(2000 * FEN, 1, 5000 * FEN, N_("aid.evidence.illness")),
    AidType.CHILDBIRTH: DefaultStandard(500 * FEN, 1, None, N_("aid.evidence.childbirth")),
    AidType.MARRIAGE: DefaultStandard(500 * FEN, 1, None, N_("aid.evidence.marriage")),
    AidType.BEREAVEMENT: DefaultStandard(1000 * FEN, None, None, N_("aid.evidence.bereavement")),
    AidType.HARDSHIP: DefaultStandard(1000 * FEN, None, 1000 * FEN, N_("aid.evidence.hardship")),
    AidType.DISASTER: DefaultStandard(1000 * FEN, None, None, N_("aid.evidence.disaster")),
    AidType.RETIREMENT: DefaultStandard(500 * FEN, 1, None, N_("aid.evidence.retirement")),
}
# Types a colleague may report for someone else (the committee then visits).
REPORTABLE = (AidType.HOSPITAL, AidType.BEREAVEMENT, AidType.ILLNESS, AidType.DISASTER)
DEFAULT_SINGLE_APPROVAL_LIMIT = 1000 * FEN
DEFAULT_MAX_AMOUNT = 50000 * FEN
MAX_CAP_COUNT = 100  # cases of one type a member may get per year, at most
LARGEST_RULE_AMOUNT = 20_000_000 * FEN  # a budget or a limit, at most (fits the column)
# Events older than this many months are refused (the AID_EVENT_MAX_AGE_MONTHS setting).
DEFAULT_EVENT_MAX_AGE_MONTHS = 12


class AidStandard(SQLModel, table=True):
    """An organization's standard for one aid type."""

    __tablename__ = "aid_standard"
    __table_args__ = (UniqueConstraint("organization_id", "aid_type", name="uq_aid_standard"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    aid_type: str = Field(sa_type=String(16))
    amount: int  # fen
    cap_count: int | None = None
    cap_total: int | None = None  # fen


class AidPolicy(SQLModel, table=True):
    """An organization's approval rules and budget for one year."""

    __tablename__ = "aid_policy"
    __table_args__ = (UniqueConstraint("organization_id", "year", name="uq_aid_policy_year"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    year: int
    single_approval_limit: int = DEFAULT_SINGLE_APPROVAL_LIMIT  # fen; above it: chair or two
    budget: int | None = None  # fen for the year; None means no budget is set
    max_amount: int = DEFAULT_MAX_AMOUNT  # fen; anything above is refused as absurd
    public_notice: bool = False  # approved hardship subsidies may be posted (masked) for 公示


class AidCase(SQLModel, table=True):
    """One request for aid, or one report that a colleague needs a visit."""

    __tablename__ = "aid_case"
    __table_args__ = (
        UniqueConstraint("organization_id", "number", name="uq_aid_case_number"),
        UniqueConstraint("client_token", name="uq_aid_case_client_token"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    number: str = Field(sa_type=String(16))  # 助-2026-0007
    aid_type: str = Field(sa_type=String(16))
    subject_member_id: int = Field(foreign_key="member.id", index=True)  # who the aid is for
    requester_member_id: int = Field(foreign_key="member.id", index=True)  # who filed it
    reported: bool = False  # filed by a colleague (the requester) for the subject
    # Started by a committee member after a care visit (the requester), for anyone on the
    # roster, on Telegram or not (models/care.py); the subject is never messaged.
    started_by_committee: bool = False
    description: str = Field(sa_type=Text)
    happened_on: date = Field(sa_type=Date)
    amount_asked: int | None = None  # fen
    approved_amount: int | None = None  # fen
    # The day of the decision: caps and the budget count by its year, not the event's.
    approved_on: date | None = Field(default=None, sa_type=Date, nullable=True)
    status: str = Field(default=CaseStatus.OPEN, sa_type=String(16), index=True)
    version: int = 0
    client_token: str = Field(sa_type=String(32))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AidEvidence(SQLModel, table=True):
    """A photo or document attached to a case (Telegram file id; nothing leaves Telegram)."""

    __tablename__ = "aid_evidence"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="aid_case.id", index=True)
    file_id: str = Field(sa_type=String(255))
    kind: str = Field(sa_type=String(16))  # photo | document
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AidApproval(SQLModel, table=True):
    """One committee member's approval: at most one per person per case."""

    __tablename__ = "aid_approval"
    __table_args__ = (UniqueConstraint("case_id", "member_id", name="uq_aid_approval"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="aid_case.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    amount: int  # fen
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AidLedgerEntry(SQLModel, table=True):
    """One step of one case, never changed afterwards (台账)."""

    __tablename__ = "aid_ledger"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    case_id: int = Field(foreign_key="aid_case.id", index=True)
    kind: str = Field(sa_type=String(16))
    actor_member_id: int = Field(foreign_key="member.id")
    amount: int | None = None  # fen: approved, paid, or the correction's signed change
    note: str | None = Field(default=None, sa_type=Text, nullable=True)
    paid_on: date | None = Field(default=None, sa_type=Date, nullable=True)
    method: str | None = Field(default=None, sa_type=String(32), nullable=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# ---- standards and policy ----------------------------------------------------------------


async def ensure_standards(session: AsyncSession, *, org_id: int) -> None:
    """Give an organization the default standards once (the committee may change them)."""
    existing = set(
        (
            await session.exec(
                select(AidStandard.aid_type).where(AidStandard.organization_id == org_id)
            )
        ).all()
    )
    missing = [aid_type for aid_type in DEFAULT_STANDARDS if aid_type not in existing]
    if not missing:
        return
    for aid_type in missing:
        standard = DEFAULT_STANDARDS[aid_type]
        session.add(
            AidStandard(
                organization_id=org_id,
                aid_type=aid_type,
                amount=standard.amount,
                cap_count=standard.cap_count,
                cap_total=standard.cap_total,
            )
        )
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()  # another update seeded them at the same moment


async def standard_for(session: AsyncSession, *, org_id: int, aid_type: AidType) -> AidStandard:
    """The organization's standard for a type (defaults seeded on first use)."""
    await ensure_standards(session, org_id=org_id)
    return (
        await session.exec(
            select(AidStandard).where(
                AidStandard.organization_id == org_id, AidStandard.aid_type == aid_type
            )
        )
    ).one()


async def set_standard(
    session: AsyncSession,
    *,
    org_id: int,
    actor: Actor,
    aid_type: AidType,
    amount: int,
    cap_count: int | None,
    cap_total: int | None,
    today: date,
) -> AidStandard:
    """The chair changes a type's standard (its amount and its yearly caps)."""
    if not actor.is_chair:
        raise DomainError(N_("aid.chair_only"))
    policy = await policy_for(session, org_id=org_id, year=today.year)
    check_amount(amount, policy)
    if cap_count is not None and not 0 <= cap_count <= MAX_CAP_COUNT:
        raise InputError(N_("aid.cap_count_invalid"), limit=MAX_CAP_COUNT)
    if cap_total is not None:
        check_amount(cap_total, policy)
    standard = await standard_for(session, org_id=org_id, aid_type=aid_type)
    standard.amount, standard.cap_count, standard.cap_total = amount, cap_count, cap_total
    session.add(standard)
    await session.commit()
    return standard


async def policy_for(session: AsyncSession, *, org_id: int, year: int) -> AidPolicy:
    """The year's approval rules and budget (last year's rules carried over, budget unset)."""
    policy = (
        await session.exec(
            select(AidPolicy).where(AidPolicy.organization_id == org_id, AidPolicy.year == year)
        )
    ).first()
    if policy is not None:
        return policy
    previous = (
        await session.exec(
            select(AidPolicy)
            .where(AidPolicy.organization_id == org_id, col(AidPolicy.year) < year)
            .order_by(col(AidPolicy.year).desc())
        )
    ).first()
    policy = AidPolicy(organization_id=org_id, year=year)
    if previous is not None:
        policy.single_approval_limit = previous.single_approval_limit
        policy.max_amount = previous.max_amount
        policy.public_notice = previous.public_notice
    session.add(policy)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        return await policy_for(session, org_id=org_id, year=year)
    return policy


async def set_policy(
    session: AsyncSession,
    *,
    org_id: int,
    actor: Actor,
    year: int,
    budget: int | None,
    single_approval_limit: int | None = None,
    max_amount: int | None = None,
) -> AidPolicy:
    """The chair sets the year's budget and approval rules."""
    if not actor.is_chair:
        raise DomainError(N_("aid.chair_only"))
    policy = await policy_for(session, org_id=org_id, year=year)
    for value in (budget, single_approval_limit, max_amount):
        if value is not None and value <= 0:
            raise InputError(N_("aid.amount_invalid"))
        if value is not None and value > LARGEST_RULE_AMOUNT:  # the column is a 32-bit integer
            raise DomainError(N_("aid.amount_absurd"), max=yuan(LARGEST_RULE_AMOUNT))
    policy.budget = budget
    if single_approval_limit is not None:
        policy.single_approval_limit = single_approval_limit
    if max_amount is not None:
        policy.max_amount = max_amount
    session.add(policy)
    await session.commit()
    return policy


def parse_amount(text: str) -> int:
    """Yuan as people type them (250, 250.5, ￥1,000, 1000元, 3000块, 三千元, 1.5万元) into fen,
    else a domain error."""
    fen = written.money(text)
    if fen is None:
        raise InputError(N_("aid.amount_invalid"))
    return fen


def check_amount(amount: int, policy: AidPolicy) -> None:
    """A positive amount no larger than the organization's maximum."""
    if amount <= 0:
        raise InputError(N_("aid.amount_invalid"))
    if amount > policy.max_amount:
        raise DomainError(N_("aid.amount_absurd"), max=yuan(policy.max_amount))


def months_before(day: date, months: int) -> date:
    """The same day `months` months earlier (the month's last day when it is shorter)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def check_event_day(day: date, *, today: date, max_age_months: int) -> None:
    """Not after today, and not older than `max_age_months`: an old event dated back would
    otherwise be decided as if it were new (caps and budget count by the decision's year)."""
    if day > today:
        raise DomainError(N_("aid.date_future"))
    earliest = months_before(today, max_age_months)
    if day < earliest:
        raise DomainError(
            N_("aid.date_too_old"), months=max_age_months, earliest=earliest.isoformat()
        )


def yuan(amount: int) -> str:
    """Fen as yuan for people: 25000 -> 250, 25050 -> 250.50."""
    whole, cents = divmod(amount, FEN)
    return f"{whole:,}" if cents == 0 else f"{whole:,}.{cents:02d}"


# ---- asking ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseDraft:
    """What the member confirmed."""

    aid_type: AidType
    description: str
    happened_on: date
    amount_asked: int | None
    evidence: tuple[tuple[str, str], ...]  # (file_id, photo|document)
    client_token: str
    subject_member_id: int | None = None  # set when reporting for a colleague


async def _next_number(session: AsyncSession, *, org_id: int, year: int) -> str:
    prefix = f"助-{year}-"
    latest = (
        await session.exec(
            select(func.max(AidCase.number)).where(
                AidCase.organization_id == org_id, col(AidCase.number).startswith(prefix)
            )
        )
    ).one()
    sequence = int(str(latest).removeprefix(prefix)) + 1 if latest else 1
    return f"{prefix}{sequence:04d}"


async def file_case(
    session: AsyncSession,
    *,
    org_id: int,
    actor: Actor,
    draft: CaseDraft,
    today: date,
    max_age_months: int = DEFAULT_EVENT_MAX_AGE_MONTHS,
) -> AidCase:
    """Store a confirmed request (or a colleague's report) with its evidence and its first
    ledger row, in one transaction; numbered per year. An event older than `max_age_months`
    is refused."""
    if not actor.is_active:
        raise DomainError(N_("member.not_registered"))
    description = clean_text(
        draft.description, limit=DESCRIPTION_LIMIT, multiline=True, needs_words=True
    )
    check_event_day(draft.happened_on, today=today, max_age_months=max_age_months)
    policy = await policy_for(session, org_id=org_id, year=today.year)
    if draft.amount_asked is not None:
        check_amount(draft.amount_asked, policy)
    if len(draft.evidence) > MAX_EVIDENCE:
        raise DomainError(N_("aid.too_many_files"), limit=MAX_EVIDENCE)
    subject_id = draft.subject_member_id or actor.id
    reported = subject_id != actor.id
    if reported:
        if draft.aid_type not in REPORTABLE:
            raise DomainError(N_("aid.not_reportable"))
        subject = await session.get(Member, subject_id)
        if (
            subject is None
            or subject.organization_id != org_id
            or subject.status != MemberStatus.ACTIVE
        ):
            raise DomainError(N_("aid.subject_unknown"))
    for _attempt in range(5):
        case = AidCase(
            organization_id=org_id,
            number=await _next_number(session, org_id=org_id, year=today.year),
            aid_type=draft.aid_type,
            subject_member_id=subject_id,
            requester_member_id=actor.id,
            reported=reported,
            description=description,
            happened_on=draft.happened_on,
            amount_asked=draft.amount_asked,
            client_token=draft.client_token,
        )
        session.add(case)
        try:
            await session.flush()
        except IntegrityError:
            await session.rollback()
            if await _by_token(session, draft.client_token) is not None:
                raise DomainError(N_("aid.already_stored")) from None
            continue  # another case took this number at the same moment
        assert case.id is not None
        for file_id, kind in draft.evidence:
            session.add(AidEvidence(case_id=case.id, file_id=file_id, kind=kind))
        session.add(
            AidLedgerEntry(
                organization_id=org_id,
                case_id=case.id,
                kind=LedgerKind.REPORTED if reported else LedgerKind.REQUESTED,
                actor_member_id=actor.id,
                amount=draft.amount_asked,
            )
        )
        await session.commit()
        await session.refresh(case)
        return case
    raise DomainError(N_("suggestion.busy"))


# ---- started by the committee (models/care.py) -------------------------------------------


async def start_committee_case(
    session: AsyncSession,
    *,
    org_id: int,
    actor: Actor,
    subject_member_id: int,
    aid_type: AidType,
    amount: int,
    happened_on: date,
    description: str,
    client_token: str,
) -> AidCase:
    """A committee member records money taken on a care visit: a case for anyone on the roster
    (joined the bot or not), numbered in the visit's year, waiting for the desk's approvals
    and the payment like any other. Flushed, not committed: the caller commits it with the
    visit (a clash of numbers or tokens raises IntegrityError for the caller to roll back)."""
    if not actor.is_committee:
        raise DomainError(N_("desk.not_committee"))
    policy = await policy_for(session, org_id=org_id, year=happened_on.year)
    check_amount(amount, policy)
    subject = await session.get(Member, subject_member_id)
    if (
        subject is None
        or subject.organization_id != org_id
        or subject.status not in (MemberStatus.ACTIVE, MemberStatus.INVITED)
    ):
        raise DomainError(N_("aid.subject_unknown"))
    text = clean_text(description, limit=DESCRIPTION_LIMIT, multiline=True)
    for _attempt in range(5):
        case = AidCase(
            organization_id=org_id,
            number=await _next_number(session, org_id=org_id, year=happened_on.year),
            aid_type=aid_type,
            subject_member_id=subject_member_id,
            requester_member_id=actor.id,
            started_by_committee=True,
            description=text,
            happened_on=happened_on,
            amount_asked=amount,
            client_token=client_token,
        )
        # A savepoint: a number taken at the same moment by another case is retried without
        # losing the caller's visit update; a clash of tokens is raised for the caller.
        try:
            async with session.begin_nested():
                session.add(case)
                await session.flush()
        except IntegrityError:
            if await _by_token(session, client_token) is not None:
                raise
            continue
        session.add(_ledger(case, LedgerKind.STARTED, actor, amount=amount))
        await session.flush()
        return case
    raise DomainError(N_("suggestion.busy"))


async def _by_token(session: AsyncSession, token: str) -> AidCase | None:
    return (await session.exec(select(AidCase).where(AidCase.client_token == token))).first()


async def get_case(session: AsyncSession, *, org_id: int, case_id: int) -> AidCase:
    """A case of this organization (ids from buttons can be forged)."""
    case = await session.get(AidCase, case_id)
    if case is None or case.organization_id != org_id:
        raise DomainError(N_("aid.not_found"))
    return case


async def evidence_of(session: AsyncSession, *, case_id: int) -> Sequence[AidEvidence]:
    """A case's files, in the order they were sent."""
    return (
        await session.exec(
            select(AidEvidence).where(AidEvidence.case_id == case_id).order_by(col(AidEvidence.id))
        )
    ).all()


async def cases_of_member(
    session: AsyncSession, *, org_id: int, member_id: int
) -> Sequence[AidCase]:
    """Cases a member asked for or reported (not ones others reported about them, nor money
    they recorded on a committee care visit: that is the committee's, not their request)."""
    return (
        await session.exec(
            select(AidCase)
            .where(
                AidCase.organization_id == org_id,
                AidCase.requester_member_id == member_id,
                col(AidCase.started_by_committee).is_(False),
            )
            .order_by(col(AidCase.id).desc())
        )
    ).all()


# ---- deciding ----------------------------------------------------------------------------

_UNDECIDED = (CaseStatus.OPEN, CaseStatus.INFO_REQUESTED)


def may_decide(actor: Actor) -> bool:
    """A committee member who is not 经审 decides at the desk (经审 audits, never decides)."""
    return actor.is_committee and not actor.has(Role.AUDITOR)


def require_decider(actor: Actor) -> None:
    """Refuse anyone `may_decide` refuses, with the sentence that fits them."""
    if not actor.is_committee:
        raise DomainError(N_("desk.not_committee"))
    if not may_decide(actor):
        raise DomainError(N_("aid.auditor_never_decides"))


def _require_impartial(actor: Actor, case: AidCase) -> None:
    require_decider(actor)
    if actor.id in (case.subject_member_id, case.requester_member_id):
        raise DomainError(N_("aid.conflict_of_interest"))


async def _locked_case(session: AsyncSession, *, org_id: int, case_id: int) -> AidCase:
    """The case row, locked until commit on PostgreSQL so decisions on it queue up."""
    case = (
        await session.exec(
            select(AidCase)
            .where(AidCase.id == case_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).first()
    if case is None or case.organization_id != org_id:
        raise DomainError(N_("aid.not_found"))
    return case


async def _transition(
    session: AsyncSession,
    *,
    case: AidCase,
    allowed: tuple[CaseStatus, ...],
    values: dict[str, object],
) -> None:
    result = await session.exec(
        update(AidCase)
        .where(col(AidCase.id) == case.id, col(AidCase.status).in_(allowed))
        .values(version=AidCase.version + 1, **values)
    )
    if result.rowcount != 1:
        await session.rollback()
        raise DomainError(N_("aid.already_decided"))


def _ledger(case: AidCase, kind: LedgerKind, actor: Actor, **values: object) -> AidLedgerEntry:
    assert case.id is not None
    return AidLedgerEntry(
        organization_id=case.organization_id,
        case_id=case.id,
        kind=kind,
        actor_member_id=actor.id,
        **values,  # type: ignore[arg-type]
    )


@dataclass(frozen=True)
class Usage:
    """What a member already got in a year for one type, and what the year's budget has left
    (the year of the decisions: a case counts in the year it was approved)."""

    count: int
    total: int  # fen
    budget_left: int | None  # fen; None without a budget


async def usage(session: AsyncSession, *, org_id: int, case: AidCase, year: int) -> Usage:
    """The year's approved or paid cases of the same type for the same member, and the
    budget left after every case approved in the year (by the day of the decision, so an
    event dated back counts in the year it is decided)."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    counted = (CaseStatus.APPROVED, CaseStatus.PAID)
    same = (
        await session.exec(
            select(func.count(), func.coalesce(func.sum(AidCase.approved_amount), 0)).where(
                AidCase.organization_id == org_id,
                AidCase.subject_member_id == case.subject_member_id,
                AidCase.aid_type == case.aid_type,
                col(AidCase.status).in_(counted),
                col(AidCase.approved_on) >= start,
                col(AidCase.approved_on) <= end,
                AidCase.id != case.id,
            )
        )
    ).one()
    policy = await policy_for(session, org_id=org_id, year=year)
    left = None
    if policy.budget is not None:
        left = policy.budget - await committed_in_year(session, org_id=org_id, year=year)
    return Usage(count=int(same[0] or 0), total=int(same[1] or 0), budget_left=left)


def chair_reasons(
    amount: int, standard: AidStandard, used: Usage, policy: AidPolicy
) -> list[ChairReason]:
    """Why approving `amount` needs more than one committee approval."""
    reasons = []
    if amount > policy.single_approval_limit:
        reasons.append(ChairReason.OVER_THRESHOLD)
    if standard.cap_count is not None and used.count >= standard.cap_count:
        reasons.append(ChairReason.COUNT_CAP)
    if standard.cap_total is not None and used.total + amount > standard.cap_total:
        reasons.append(ChairReason.TOTAL_CAP)
    if used.budget_left is not None and amount > used.budget_left:
        reasons.append(ChairReason.OVER_BUDGET)
    return reasons


@dataclass(frozen=True)
class ApprovalOutcome:
    """What one approval press did."""

    case: AidCase
    approved: bool  # the case is now approved (waiting for payment)
    reasons: tuple[ChairReason, ...]  # why it still waits, when it does
    approvals: int  # approvals recorded for this amount


async def approve(
    session: AsyncSession,
    *,
    org_id: int,
    case_id: int,
    actor: Actor,
    amount: int,
    today: date,
) -> ApprovalOutcome:
    """Record one approval of `amount`; the case is approved when the rules are met.

    Up to the single-approval limit one committee approval is enough; above it the chair, or
    two committee approvals of the same amount. Caps and the budget need the chair; both are
    those of the year of the decision (`today`), whatever day the event happened. The case
    row is locked first, so approvals pressed at the same moment are counted one after the
    other; a person's second approval is refused by a unique key.
    """
    # Rules first: seeding a standard or the year's policy commits, which would end the lock.
    unlocked = await get_case(session, org_id=org_id, case_id=case_id)
    year = today.year
    policy = await policy_for(session, org_id=org_id, year=year)
    standard = await standard_for(session, org_id=org_id, aid_type=AidType(unlocked.aid_type))
    case = await _locked_case(session, org_id=org_id, case_id=case_id)
    _require_impartial(actor, case)
    if case.status not in _UNDECIDED:
        await session.rollback()
        raise DomainError(N_("aid.already_decided"))
    check_amount(amount, policy)
    used = await usage(session, org_id=org_id, case=case, year=year)
    session.add(AidApproval(case_id=case_id, member_id=actor.id, amount=amount))
    try:
        await session.flush()
    except IntegrityError as exc:
        await session.rollback()
        raise DomainError(N_("aid.approved_already")) from exc
    session.add(_ledger(case, LedgerKind.APPROVAL, actor, amount=amount))
    agreeing = (
        await session.exec(
            select(func.count()).where(AidApproval.case_id == case_id, AidApproval.amount == amount)
        )
    ).one()
    reasons = chair_reasons(amount, standard, used, policy)
    enough = (
        actor.is_chair
        or not reasons
        or (reasons == [ChairReason.OVER_THRESHOLD] and int(agreeing) >= 2)
    )
    if not enough:
        await session.commit()
        await session.refresh(case)
        return ApprovalOutcome(case, False, tuple(reasons), int(agreeing))
    await _transition(
        session,
        case=case,
        allowed=_UNDECIDED,
        values={"status": CaseStatus.APPROVED, "approved_amount": amount, "approved_on": today},
    )
    session.add(_ledger(case, LedgerKind.APPROVED, actor, amount=amount))
    await session.commit()
    await session.refresh(case)
    return ApprovalOutcome(case, True, (), int(agreeing))


async def reject(
    session: AsyncSession, *, org_id: int, case_id: int, actor: Actor, reason: str
) -> AidCase:
    """Reject with a reason the requester will read."""
    text = clean_text(reason, limit=NOTE_LIMIT, multiline=True, needs_words=True)
    case = await _locked_case(session, org_id=org_id, case_id=case_id)
    _require_impartial(actor, case)
    await _transition(
        session, case=case, allowed=_UNDECIDED, values={"status": CaseStatus.REJECTED}
    )
    session.add(_ledger(case, LedgerKind.REJECTED, actor, note=text))
    await session.commit()
    await session.refresh(case)
    return case


async def ask_information(
    session: AsyncSession, *, org_id: int, case_id: int, actor: Actor, question: str
) -> AidCase:
    """Ask the requester for more information; the case waits for the answer."""
    text = clean_text(question, limit=NOTE_LIMIT, multiline=True, needs_words=True)
    case = await _locked_case(session, org_id=org_id, case_id=case_id)
    _require_impartial(actor, case)
    await _transition(
        session, case=case, allowed=_UNDECIDED, values={"status": CaseStatus.INFO_REQUESTED}
    )
    session.add(_ledger(case, LedgerKind.INFO_ASKED, actor, note=text))
    await session.commit()
    await session.refresh(case)
    return case


def _require_own(actor: Actor, case: AidCase) -> None:
    """The requester's own case; a case started on a care visit stays the committee's, so
    whoever recorded it must still be on the committee."""
    if case.requester_member_id != actor.id:
        raise DomainError(N_("aid.not_yours"))
    if case.started_by_committee and not actor.is_committee:
        raise DomainError(N_("desk.not_committee"))


async def give_information(
    session: AsyncSession, *, org_id: int, case_id: int, actor: Actor, answer: str
) -> AidCase:
    """The requester answers the committee's question; the case is open again."""
    text = clean_text(answer, limit=DESCRIPTION_LIMIT, multiline=True, needs_words=True)
    case = await _locked_case(session, org_id=org_id, case_id=case_id)
    _require_own(actor, case)
    await _transition(
        session,
        case=case,
        allowed=(CaseStatus.INFO_REQUESTED,),
        values={"status": CaseStatus.OPEN},
    )
    session.add(_ledger(case, LedgerKind.INFO_GIVEN, actor, note=text))
    await session.commit()
    await session.refresh(case)
    return case


async def withdraw_case(
    session: AsyncSession, *, org_id: int, case_id: int, actor: Actor
) -> AidCase:
    """The requester withdraws before a decision."""
    case = await _locked_case(session, org_id=org_id, case_id=case_id)
    _require_own(actor, case)
    await _transition(
        session, case=case, allowed=_UNDECIDED, values={"status": CaseStatus.WITHDRAWN}
    )
    session.add(_ledger(case, LedgerKind.WITHDRAWN, actor))
    await session.commit()
    await session.refresh(case)
    return case


def may_pay(actor: Actor) -> bool:
    """The treasurer (a role the chair grants) or the chair records payments; never 经审."""
    return (actor.is_chair or actor.has(Role.TREASURER)) and not actor.has(Role.AUDITOR)


async def mark_paid(
    session: AsyncSession,
    *,
    org_id: int,
    case_id: int,
    actor: Actor,
    paid_on: date,
    method: str,
    note: str | None = None,
    today: date,
    now: datetime | None = None,
) -> AidCase:
    """Record the payment of an approved case (date, method, note), recorded at `now`."""
    if not may_pay(actor):
        raise DomainError(N_("aid.treasurer_only"))
    if paid_on > today:
        raise DomainError(N_("aid.date_future"))
    how = clean_text(method, limit=32)
    text = clean_text(note, limit=NOTE_LIMIT, multiline=True) if note else None
    case = await _locked_case(session, org_id=org_id, case_id=case_id)
    if actor.id in (case.subject_member_id, case.requester_member_id):
        await session.rollback()
        raise DomainError(N_("aid.conflict_of_interest"))
    await _transition(
        session, case=case, allowed=(CaseStatus.APPROVED,), values={"status": CaseStatus.PAID}
    )
    session.add(
        _ledger(
            case,
            LedgerKind.PAID,
            actor,
            amount=case.approved_amount,
            paid_on=paid_on,
            method=how,
            note=text,
            created_at=now or utcnow(),
        )
    )
    await session.commit()
    await session.refresh(case)
    return case


@dataclass(frozen=True)
class CorrectionOutcome:
    """What one correction did: counted at once, or waiting for a second person."""

    case: AidCase
    entry: AidLedgerEntry  # the CORRECTION row, or the CORRECTION_ASKED row that waits
    applied: bool  # counted in the books now
    limit: int  # fen: the single-approval limit it was measured against


async def correct(
    session: AsyncSession,
    *,
    org_id: int,
    case_id: int,
    actor: Actor,
    change: int,
    note: str,
    today: date,
) -> CorrectionOutcome:
    """A correction of a paid amount (+ or - fen), as a new ledger row with its reason.

    Either way at most the organization's maximum, and never below nothing paid. Up to the
    single-approval limit the treasurer's (or the chair's) word is enough; above it the
    chair's, or, like an approval above the limit, a second person: the treasurer's
    correction is recorded as asked (CORRECTION_ASKED, not counted) until the chair or a
    committee member agrees (`agree_correction`) or drops it (`drop_correction`). A case has
    at most one correction waiting; the case row is locked so corrections queue up.
    """
    if not may_pay(actor):
        raise DomainError(N_("aid.treasurer_only"))
    if change == 0:
        raise InputError(N_("aid.amount_invalid"))
    text = clean_text(note, limit=NOTE_LIMIT, multiline=True)
    policy = await policy_for(session, org_id=org_id, year=today.year)
    check_amount(abs(change), policy)
    case = await _locked_case(session, org_id=org_id, case_id=case_id)
    if actor.id in (case.subject_member_id, case.requester_member_id):
        await session.rollback()
        raise DomainError(N_("aid.conflict_of_interest"))
    if case.status != CaseStatus.PAID:
        await session.rollback()
        raise DomainError(N_("aid.not_paid"))
    waiting = await pending_correction(session, case_id=case_id)
    if waiting is not None:
        number, change_waiting = case.number, signed_yuan(waiting.amount or 0)
        await session.rollback()  # expires both rows: read them first
        raise DomainError(N_("aid.correction_waiting"), number=number, change=change_waiting)
    paid = await net_paid(session, case_id=case_id)
    if paid + change < 0:
        await session.rollback()
        raise DomainError(N_("aid.correction_below_zero"), paid=yuan(paid))
    applied = actor.is_chair or abs(change) <= policy.single_approval_limit
    kind = LedgerKind.CORRECTION if applied else LedgerKind.CORRECTION_ASKED
    entry = _ledger(case, kind, actor, amount=change, note=text)
    session.add(entry)
    await session.commit()
    await session.refresh(entry)
    await session.refresh(case)
    return CorrectionOutcome(case, entry, applied, policy.single_approval_limit)


async def pending_correction(session: AsyncSession, *, case_id: int) -> AidLedgerEntry | None:
    """The correction of a case that waits for a second person, if any: the latest
    correction row is an asked one."""
    latest = (
        await session.exec(
            select(AidLedgerEntry)
            .where(
                AidLedgerEntry.case_id == case_id,
                col(AidLedgerEntry.kind).in_(
                    (
                        LedgerKind.CORRECTION,
                        LedgerKind.CORRECTION_ASKED,
                        LedgerKind.CORRECTION_DROPPED,
                    )
                ),
            )
            .order_by(col(AidLedgerEntry.id).desc())
        )
    ).first()
    return latest if latest is not None and latest.kind == LedgerKind.CORRECTION_ASKED else None


async def net_paid(session: AsyncSession, *, case_id: int) -> int:
    """Fen paid for a case, corrections included."""
    total = (
        await session.exec(
            select(func.coalesce(func.sum(AidLedgerEntry.amount), 0)).where(
                AidLedgerEntry.case_id == case_id,
                col(AidLedgerEntry.kind).in_((LedgerKind.PAID, LedgerKind.CORRECTION)),
            )
        )
    ).one()
    return int(total or 0)


async def _waiting_correction(
    session: AsyncSession, *, org_id: int, case_id: int, asked_id: int, actor: Actor
) -> tuple[AidCase, AidLedgerEntry]:
    """The locked case and its waiting correction `asked_id`, for a decision by `actor`."""
    case = await _locked_case(session, org_id=org_id, case_id=case_id)
    if actor.id in (case.subject_member_id, case.requester_member_id):
        await session.rollback()
        raise DomainError(N_("aid.conflict_of_interest"))
    asked = await pending_correction(session, case_id=case_id)
    if asked is None or asked.id != asked_id:
        await session.rollback()
        raise DomainError(N_("aid.correction_decided"))
    return case, asked


async def agree_correction(
    session: AsyncSession, *, org_id: int, case_id: int, asked_id: int, actor: Actor
) -> tuple[AidCase, AidLedgerEntry]:
    """The chair or a committee member other than the asker agrees to a waiting correction:
    it is counted (a CORRECTION row by the one who agreed, with the asker's reason)."""
    require_decider(actor)
    case, asked = await _waiting_correction(
        session, org_id=org_id, case_id=case_id, asked_id=asked_id, actor=actor
    )
    if asked.actor_member_id == actor.id:
        await session.rollback()
        raise DomainError(N_("aid.correction_own"))
    entry = _ledger(case, LedgerKind.CORRECTION, actor, amount=asked.amount, note=asked.note)
    session.add(entry)
    await session.commit()
    await session.refresh(entry)
    return case, asked


async def drop_correction(
    session: AsyncSession, *, org_id: int, case_id: int, asked_id: int, actor: Actor
) -> tuple[AidCase, AidLedgerEntry]:
    """A committee member who may decide (or the asker) drops a waiting correction: nothing
    is counted. 经审 on the committee may not veto it (`may_decide`)."""
    await get_case(session, org_id=org_id, case_id=case_id)  # another school's: not found
    if not may_decide(actor):
        asked = await pending_correction(session, case_id=case_id)
        if asked is None or asked.actor_member_id != actor.id:
            require_decider(actor)
            raise DomainError(N_("desk.not_committee"))
    case, asked = await _waiting_correction(
        session, org_id=org_id, case_id=case_id, asked_id=asked_id, actor=actor
    )
    session.add(_ledger(case, LedgerKind.CORRECTION_DROPPED, actor, amount=asked.amount))
    await session.commit()
    return case, asked


def signed_yuan(change: int) -> str:
    """A signed change for people: +2,000 or -50.50."""
    return ("+" if change > 0 else "-") + yuan(abs(change))


async def approvals_of(session: AsyncSession, *, case_id: int) -> Sequence[AidApproval]:
    """A case's approvals so far, oldest first."""
    return (
        await session.exec(
            select(AidApproval).where(AidApproval.case_id == case_id).order_by(col(AidApproval.id))
        )
    ).all()


# ---- the books ---------------------------------------------------------------------------


async def ledger_of(session: AsyncSession, *, case_id: int) -> Sequence[AidLedgerEntry]:
    """A case's history, oldest first."""
    return (
        await session.exec(
            select(AidLedgerEntry)
            .where(AidLedgerEntry.case_id == case_id)
            .order_by(col(AidLedgerEntry.id))
        )
    ).all()


@dataclass(frozen=True)
class YearLine:
    """One aid type's year in the books."""

    aid_type: AidType
    cases: int  # paid cases
    paid: int  # fen, corrections included


async def year_books(session: AsyncSession, *, org_id: int, year: int) -> list[YearLine]:
    """Paid cases and money per type for a year (by payment date); a correction counts in
    the year its case was paid."""
    paid = (
        await session.exec(
            select(AidCase.aid_type, AidLedgerEntry.case_id, AidLedgerEntry.amount)
            .join(AidCase, col(AidCase.id) == AidLedgerEntry.case_id)
            .where(
                AidLedgerEntry.organization_id == org_id,
                AidLedgerEntry.kind == LedgerKind.PAID,
                col(AidLedgerEntry.paid_on) >= date(year, 1, 1),
                col(AidLedgerEntry.paid_on) <= date(year, 12, 31),
            )
        )
    ).all()
    type_of = {case_id: aid_type for aid_type, case_id, _amount in paid}
    corrections = (
        await session.exec(
            select(AidLedgerEntry.case_id, AidLedgerEntry.amount).where(
                AidLedgerEntry.organization_id == org_id,
                AidLedgerEntry.kind == LedgerKind.CORRECTION,
                col(AidLedgerEntry.case_id).in_(list(type_of)),
            )
        )
    ).all()
    lines: dict[str, list[int]] = {}
    for aid_type, _case_id, amount in paid:
        totals = lines.setdefault(aid_type, [0, 0])
        totals[0] += 1
        totals[1] += int(amount or 0)
    for case_id, amount in corrections:
        lines[type_of[case_id]][1] += int(amount or 0)
    return [
        YearLine(AidType(aid_type), cases, total)
        for aid_type, (cases, total) in sorted(lines.items())
    ]


def parse_day(text: str, today: date) -> date:
    """A day as people type it (今天, 前天, 上周五, 2026-11-28, 11月28日, 端午节, 农历五月初五);
    a day without a year is the latest one not after today."""
    found = written.day(text, today=today, direction="past")
    if found is None:
        raise InputError(N_("aid.date_format"))
    return found


def masked(name: str) -> str:
    """A name as the group may see it: the family name and a star (王*)."""
    return (name[:1] + "*") if name else "*"


async def cases_with_status(
    session: AsyncSession, *, org_id: int, statuses: Sequence[CaseStatus]
) -> Sequence[AidCase]:
    """Cases in the given states, oldest first (e.g. approved ones waiting for payment)."""
    return (
        await session.exec(
            select(AidCase)
            .where(AidCase.organization_id == org_id, col(AidCase.status).in_(list(statuses)))
            .order_by(col(AidCase.id))
        )
    ).all()


async def committed_in_year(session: AsyncSession, *, org_id: int, year: int) -> int:
    """Fen approved (or paid) in the year, by the day of the decision: what the year's budget
    has given out."""
    total = (
        await session.exec(
            select(func.coalesce(func.sum(AidCase.approved_amount), 0)).where(
                AidCase.organization_id == org_id,
                col(AidCase.status).in_((CaseStatus.APPROVED, CaseStatus.PAID)),
                col(AidCase.approved_on) >= date(year, 1, 1),
                col(AidCase.approved_on) <= date(year, 12, 31),
            )
        )
    ).one()
    return int(total or 0)


async def notice_lines(session: AsyncSession, *, org_id: int, year: int) -> list[tuple[str, int]]:
    """公示: hardship subsidies approved in a year (approved or paid) as (masked name, fen)."""
    rows = (
        await session.exec(
            select(Member.real_name, AidCase.approved_amount)
            .join(Member, col(Member.id) == AidCase.subject_member_id)
            .where(
                AidCase.organization_id == org_id,
                AidCase.aid_type == AidType.HARDSHIP,
                col(AidCase.status).in_((CaseStatus.APPROVED, CaseStatus.PAID)),
                col(AidCase.approved_on) >= date(year, 1, 1),
                col(AidCase.approved_on) <= date(year, 12, 31),
            )
            .order_by(col(AidCase.id))
        )
    ).all()
    return [(masked(name), int(amount or 0)) for name, amount in rows]


async def last_asker(session: AsyncSession, *, case_id: int) -> int | None:
    """The committee member who last asked the requester a question."""
    entry = (
        await session.exec(
            select(AidLedgerEntry)
            .where(AidLedgerEntry.case_id == case_id, AidLedgerEntry.kind == LedgerKind.INFO_ASKED)
            .order_by(col(AidLedgerEntry.id).desc())
        )
    ).first()
    return entry.actor_member_id if entry else None


async def case_by_number(session: AsyncSession, *, org_id: int, number: str) -> AidCase:
    """A case by the number people see (助-2026-0007)."""
    case = (
        await session.exec(
            select(AidCase).where(AidCase.organization_id == org_id, AidCase.number == number)
        )
    ).first()
    if case is None:
        raise DomainError(N_("aid.not_found"))
    return case


def parse_change(text: str) -> int:
    """A signed correction in yuan (-50, +20.5) into fen."""
    cleaned = text.strip()
    sign = -1 if cleaned.startswith(("-", "－")) else 1
    return sign * parse_amount(cleaned.lstrip("+-＋－"))
