"""The rows of the 台账 workbook (models/reports/workbook.py), read with a few queries per book.

Every book is read with a handful of set queries (joins and subqueries, never one query per
row), so a school of 50,000 members with ten years of records is read in one go. What never
leaves the committee is never selected: aid descriptions, evidence and notes, hardship reasons,
the sealed author of an anonymous suggestion, Telegram ids and invite codes.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, Executable, Result, and_, case, func, or_
from sqlalchemy import select as wide_select
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.activities import Activity, ActivityStatus, Signup, SignupStatus
from models.aid import AidCase, AidLedgerEntry, AidType, LedgerKind
from models.hardship import FileStatus, HardshipFile
from models.members import Gender, Member, MemberRole, MemberStatus, Role
from models.proposals import (
    CongressSession,
    Department,
    Figures,
    Proposal,
    ProposalAnswer,
    ProposalAssignment,
    ProposalRating,
    ProposalSigner,
    session_figures,
)
from models.reports.period import ReportPeriod
from models.suggestions import EntryKind, Suggestion, SuggestionCategory, SuggestionEntry

# Who is on the roster: members, people imported from the staff list, people waiting to join.
ON_ROSTER = (MemberStatus.ACTIVE, MemberStatus.INVITED, MemberStatus.PENDING)


def local_day(moment: datetime, zone: tzinfo) -> date:
    """The local day of a stored (UTC) moment."""
    return moment.astimezone(zone).date()


def local_days_between(earlier: datetime, later: datetime, zone: tzinfo) -> int:
    """Whole local days from one moment to another: "answered within 7 days" counts days on
    the calendar, so a reply on the 7th day after, at any hour, is within 7 days. The figures
    and the 意见箱台账 both count this way."""
    return (local_day(later, zone) - local_day(earlier, zone)).days


async def _rows(session: AsyncSession, statement: Executable) -> Result[*tuple[Any, ...]]:
    """The result of a select of many columns (sqlmodel's `select` types four at most), read
    in the session's own transaction."""
    connection = await session.connection()
    return await connection.execute(statement)


def _aware(moment: datetime | str) -> datetime:
    """A stamp read through a SQL function (no column type): SQLite gives text, naive UTC."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# ---- 会员名册 --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RosterRow:
    """One person on the roster on the period's last day."""

    name: str
    department: str
    gender: str | None
    retired: bool
    roles: tuple[Role, ...]
    joined: date | None  # the day a member joined (None for the others on the roster)
    status: str  # a MemberStatus value


def _membership() -> tuple[Any, Any]:
    """When a member joined and left, as SQL: `joined_at` / `left_at` where the schema has them
    (the report figures' migration), else the record's own stamps (made; last changed, for one
    who left), exactly as the figures fall back for rows made before that migration."""
    joined_at, left_at = getattr(Member, "joined_at", None), getattr(Member, "left_at", None)
    joined = func.coalesce(joined_at, Member.created_at) if joined_at is not None else None
    left_stamp = (
        func.coalesce(left_at, Member.updated_at) if left_at is not None else Member.updated_at
    )
    left = case((col(Member.status) == MemberStatus.INACTIVE, left_stamp), else_=None)
    return (joined if joined is not None else col(Member.created_at)), left


def roster_then(end: datetime, left: Any) -> ColumnElement[bool]:
    """On the roster at a moment, as the figures and the 会员名册 both count it: the record was
    made before it, never rejected, and the person had not left by then. Whether the person
    has joined since does not matter: the roster of a past period stays as it was."""
    return and_(
        col(Member.created_at) < end,
        col(Member.status) != MemberStatus.REJECTED,
        or_(left.is_(None), left >= end),
    )


async def roster_rows(
    session: AsyncSession, *, org_id: int, period: ReportPeriod, zone: tzinfo
) -> list[RosterRow]:
    """The roster as it stood on the period's last day, by department, as the figures count
    it: the members then (joined before the period's end, not left by then) and the people
    imported from the staff list or asking to join whose record was made by then."""
    _start, end = period.bounds(zone)
    joined, left = _membership()
    member_then = and_(
        col(Member.status).in_((MemberStatus.ACTIVE, MemberStatus.INACTIVE)),
        joined < end,
        or_(left.is_(None), left >= end),
    )
    on_roster = roster_then(end, left)
    people = (
        await _rows(
            session,
            wide_select(
                col(Member.id),
                col(Member.real_name),
                col(Member.department),
                col(Member.gender),
                col(Member.retired),
                col(Member.status),
                joined,
            )
            .where(col(Member.organization_id) == org_id, or_(member_then, on_roster))
            .order_by(col(Member.department), col(Member.id)),
        )
    ).all()
    held: dict[int, list[Role]] = defaultdict(list)
    for member_id, role in (
        await session.exec(
            select(MemberRole.member_id, MemberRole.role)
            .join(Member, col(Member.id) == MemberRole.member_id)
            .where(Member.organization_id == org_id)
        )
    ).all():
        held[member_id].append(Role(role))
    order = list(Role)
    rows = []
    for member_id, name, department, gender, retired, status, joined_on in people:
        was = MemberStatus.ACTIVE.value if status == MemberStatus.INACTIVE else status
        if was == MemberStatus.ACTIVE and _aware(joined_on) >= end:
            was = MemberStatus.INVITED.value  # joined after the period: not yet, back then
        rows.append(
            RosterRow(
                name=name,
                department=department,
                gender=gender,
                retired=bool(retired),
                roles=tuple(sorted(held.get(member_id or 0, ()), key=order.index)),
                joined=local_day(_aware(joined_on), zone) if was == MemberStatus.ACTIVE else None,
                status=was,
            )
        )
    return rows


# ---- 意见建议台账 ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SuggestionRow:
    """One item received in the period; `author` is None for an anonymous one."""

    number: str
    received: date
    category_code: str | None
    category_name: str | None
    anonymous: bool
    author: str | None
    body: str
    answers: tuple[tuple[date, str], ...]
    first_answer_days: int | None
    status: str
    closing_note: str | None


async def suggestion_rows(
    session: AsyncSession, *, org_id: int, period: ReportPeriod, zone: tzinfo
) -> list[SuggestionRow]:
    """Items received in the period, by number, with the committee's answers and closing note.

    The author of an anonymous item is not read at all (not even its sealed token)."""
    start, end = period.bounds(zone)
    in_period = (
        col(Suggestion.organization_id) == org_id,
        col(Suggestion.created_at) >= start,
        col(Suggestion.created_at) < end,
    )
    items = (
        await _rows(
            session,
            wide_select(
                col(Suggestion.id),
                col(Suggestion.year),
                col(Suggestion.seq),
                col(Suggestion.created_at),
                col(Suggestion.anonymous),
                col(Suggestion.body),
                col(Suggestion.status),
                col(SuggestionCategory.code),
                col(SuggestionCategory.name),
                col(Member.real_name),
            )
            .join(SuggestionCategory, col(SuggestionCategory.id) == Suggestion.category_id)
            .join(Member, col(Member.id) == Suggestion.author_member_id, isouter=True)
            .where(*in_period)
            .order_by(col(Suggestion.created_at), col(Suggestion.id)),
        )
    ).all()
    entries = (
        await session.exec(
            select(
                SuggestionEntry.suggestion_id,
                SuggestionEntry.kind,
                SuggestionEntry.body,
                SuggestionEntry.created_at,
            )
            .join(Suggestion, col(Suggestion.id) == SuggestionEntry.suggestion_id)
            .where(*in_period, col(SuggestionEntry.kind).in_((EntryKind.REPLY, EntryKind.CLOSED)))
            .order_by(col(SuggestionEntry.id))
        )
    ).all()
    answers: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    notes: dict[int, str | None] = {}
    for item_id, kind, body, created_at in entries:
        if kind == EntryKind.REPLY:
            answers[item_id].append((created_at, body or ""))
        else:
            notes[item_id] = body  # the latest close wins
    rows = []
    for item_id, year, seq, created_at, anonymous, body, status, code, name, author in items:
        received = local_day(created_at, zone)
        replies = answers.get(item_id or 0, [])
        first = local_days_between(created_at, replies[0][0], zone) if replies else None
        rows.append(
            SuggestionRow(
                number=f"意-{year}-{seq:04d}",
                received=received,
                category_code=code,
                category_name=name,
                anonymous=bool(anonymous),
                author=None if anonymous else author,
                body=body,
                answers=tuple((local_day(moment, zone), text) for moment, text in replies),
                first_answer_days=first,
                status=status,
                closing_note=notes.get(item_id or 0) if status == "closed" else None,
            )
        )
    return rows


# ---- 提案汇编 --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProposalRow:
    """One numbered proposal with its full text and what became of it."""

    session_name: str
    number: int
    title: str
    category: str
    proposer: str
    coauthors: tuple[str, ...]
    signers: tuple[str, ...]
    reasons: str
    measures: str
    status: str
    rounds: int
    merged_into: int | None  # the number of the proposal it was merged into
    decision_reason: str | None  # why it was not filed, or converted
    lead: str | None
    co: tuple[str, ...]
    answer: str | None
    answered_on: date | None
    implementation: str | None
    implementation_reason: str | None
    verdict: str | None


@dataclass(frozen=True)
class CongressBook:
    """A session opened in the period: its proposals and its figures."""

    name: str
    figures: Figures
    proposals: tuple[ProposalRow, ...] = ()


async def congress_books(
    session: AsyncSession, *, org_id: int, period: ReportPeriod, zone: tzinfo
) -> list[CongressBook]:
    """Sessions whose window opened in the period, each with its numbered proposals."""
    congresses = (
        await session.exec(
            select(CongressSession)
            .where(
                col(CongressSession.organization_id) == org_id,
                col(CongressSession.opens_on) >= period.start,
                col(CongressSession.opens_on) < period.end,
            )
            .order_by(col(CongressSession.opens_on), col(CongressSession.id))
        )
    ).all()
    if not congresses:
        return []
    ids = [congress.id for congress in congresses]
    numbered = (col(Proposal.session_id).in_(ids), col(Proposal.number).is_not(None))
    proposals = (
        await session.exec(
            select(Proposal, Member.real_name)
            .join(Member, col(Member.id) == Proposal.proposer_member_id)
            .where(*numbered)
            .order_by(col(Proposal.number), col(Proposal.id))
        )
    ).all()
    signers: dict[int, list[tuple[bool, str]]] = defaultdict(list)
    for proposal_id, coauthor, name in (
        await session.exec(
            select(ProposalSigner.proposal_id, ProposalSigner.coauthor, Member.real_name)
            .join(Member, col(Member.id) == ProposalSigner.member_id)
            .join(Proposal, col(Proposal.id) == ProposalSigner.proposal_id)
            .where(*numbered)
            .order_by(col(ProposalSigner.signed_at), col(ProposalSigner.member_id))
        )
    ).all():
        signers[proposal_id].append((bool(coauthor), name))
    departments: dict[int, list[tuple[bool, str]]] = defaultdict(list)
    for proposal_id, lead, name in (
        await session.exec(
            select(ProposalAssignment.proposal_id, ProposalAssignment.lead, Department.name)
            .join(Department, col(Department.id) == ProposalAssignment.department_id)
            .join(Proposal, col(Proposal.id) == ProposalAssignment.proposal_id)
            .where(*numbered)
            .order_by(col(Department.name))
        )
    ).all():
        departments[proposal_id].append((bool(lead), name))
    answers: dict[int, ProposalAnswer] = {}
    for reply in (
        await session.exec(
            select(ProposalAnswer)
            .join(Proposal, col(Proposal.id) == ProposalAnswer.proposal_id)
            .where(*numbered)
            .order_by(col(ProposalAnswer.round), col(ProposalAnswer.id))
        )
    ).all():
        answers[reply.proposal_id] = reply  # the latest round wins
    verdicts: dict[int, str] = {}
    for rating in (
        await session.exec(
            select(ProposalRating)
            .join(Proposal, col(Proposal.id) == ProposalRating.proposal_id)
            .where(*numbered, col(ProposalRating.member_id) == col(Proposal.proposer_member_id))
            .order_by(col(ProposalRating.round))
        )
    ).all():
        verdicts[rating.proposal_id] = rating.rating
    number_of = {proposal.id: proposal.number for proposal, _name in proposals}
    rows: dict[int, list[ProposalRow]] = defaultdict(list)
    names = {congress.id: congress.name for congress in congresses}
    for proposal, proposer in proposals:
        pid = proposal.id or 0
        answer = answers.get(pid)
        mine = departments.get(pid, [])
        rows[proposal.session_id or 0].append(
            ProposalRow(
                session_name=names[proposal.session_id],
                number=proposal.number or 0,
                title=proposal.title,
                category=proposal.category,
                proposer=proposer,
                coauthors=tuple(name for coauthor, name in signers.get(pid, []) if coauthor),
                signers=tuple(name for coauthor, name in signers.get(pid, []) if not coauthor),
                reasons=proposal.reasons,
                measures=proposal.measures,
                status=proposal.status,
                rounds=proposal.rounds,
                merged_into=number_of.get(proposal.merged_into_id),
                decision_reason=proposal.decision_reason,
                lead=next((name for lead, name in mine if lead), None),
                co=tuple(name for lead, name in mine if not lead),
                answer=answer.body if answer else None,
                answered_on=local_day(answer.created_at, zone) if answer else None,
                implementation=proposal.implementation,
                implementation_reason=proposal.implementation_reason,
                verdict=verdicts.get(pid),
            )
        )
    return [
        CongressBook(
            name=congress.name,
            figures=await session_figures(session, session_id=congress.id or 0),
            proposals=tuple(rows.get(congress.id or 0, [])),
        )
        for congress in congresses
    ]


# ---- 帮扶慰问台账 ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AidRow:
    """One paid case (by payment day): never its description, evidence or notes."""

    number: str
    aid_type: AidType
    subject_id: int
    person: str
    department: str
    approved: int  # fen
    approvers: tuple[str, ...]
    paid: int  # fen, as paid
    corrections: tuple[tuple[date, int], ...]  # (day, signed fen)
    paid_on: date
    method: str
    paid_by: str

    @property
    def net(self) -> int:
        """Fen paid, corrections included."""
        return self.paid + sum(change for _day, change in self.corrections)


async def aid_rows(
    session: AsyncSession, *, org_id: int, period: ReportPeriod, zone: tzinfo
) -> list[AidRow]:
    """Every case paid in the period, by type then payment day; a correction counts with the
    payment it corrects, like `models.aid.year_books`."""
    paid_in_period = (
        col(AidLedgerEntry.organization_id) == org_id,
        col(AidLedgerEntry.kind) == LedgerKind.PAID,
        col(AidLedgerEntry.paid_on) >= period.start,
        col(AidLedgerEntry.paid_on) < period.end,
    )
    paid = (
        await _rows(
            session,
            wide_select(
                col(AidLedgerEntry.case_id),
                col(AidLedgerEntry.amount),
                col(AidLedgerEntry.paid_on),
                col(AidLedgerEntry.method),
                col(AidLedgerEntry.actor_member_id),
                col(AidCase.number),
                col(AidCase.aid_type),
                col(AidCase.subject_member_id),
                col(AidCase.approved_amount),
                col(Member.real_name),
                col(Member.department),
            )
            .join(AidCase, col(AidCase.id) == AidLedgerEntry.case_id)
            .join(Member, col(Member.id) == AidCase.subject_member_id)
            .where(*paid_in_period),
        )
    ).all()
    # The approvals and corrections of those cases: joined to their payment row (one per case),
    # which the case index reaches from the few payments of the period.
    payment = aliased(AidLedgerEntry)
    steps = (
        await _rows(
            session,
            wide_select(
                col(AidLedgerEntry.case_id),
                col(AidLedgerEntry.kind),
                col(AidLedgerEntry.actor_member_id),
                col(AidLedgerEntry.amount),
                col(AidLedgerEntry.created_at),
            )
            .join(payment, col(payment.case_id) == col(AidLedgerEntry.case_id))
            .where(
                col(payment.organization_id) == org_id,
                col(payment.kind) == LedgerKind.PAID,
                col(payment.paid_on) >= period.start,
                col(payment.paid_on) < period.end,
                col(AidLedgerEntry.kind).in_((LedgerKind.APPROVAL, LedgerKind.CORRECTION)),
            )
            .order_by(col(AidLedgerEntry.id)),
        )
    ).all()
    actors = {row[4] for row in paid} | {row[2] for row in steps}
    names = await _names(session, actors)
    approvals: dict[int, list[tuple[int, int | None]]] = defaultdict(list)
    corrections: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for case_id, kind, actor_id, amount, created_at in steps:
        if kind == LedgerKind.APPROVAL:
            approvals[case_id].append((actor_id, amount))
        else:
            corrections[case_id].append((local_day(created_at, zone), int(amount or 0)))
    rows = []
    for (
        case_id,
        amount,
        paid_on,
        method,
        payer,
        number,
        aid_type,
        subject_id,
        approved,
        person,
        department,
    ) in paid:
        approvers: list[str] = []
        for actor_id, agreed in approvals.get(case_id, []):
            name = names.get(actor_id, "")
            if agreed == approved and name not in approvers:
                approvers.append(name)
        rows.append(
            AidRow(
                number=number,
                aid_type=AidType(aid_type),
                subject_id=subject_id,
                person=person,
                department=department,
                approved=int(approved or 0),
                approvers=tuple(approvers),
                paid=int(amount or 0),
                corrections=tuple(corrections.get(case_id, [])),
                paid_on=paid_on or period.start,
                method=method or "",
                paid_by=names.get(payer, ""),
            )
        )
    order = list(AidType)
    rows.sort(key=lambda row: (order.index(row.aid_type), row.paid_on, row.number))
    return rows


async def _names(session: AsyncSession, member_ids: set[int]) -> dict[int, str]:
    """Names of the few people who decided or paid (the committee and 财务)."""
    if not member_ids:
        return {}
    rows = await session.exec(
        select(Member.id, Member.real_name).where(col(Member.id).in_(sorted(member_ids)))
    )
    return {member_id or 0: name for member_id, name in rows.all()}


# ---- 困难职工档案 ----------------------------------------------------------------------------


@dataclass(frozen=True)
class HardshipRow:
    """One file on record in the period (never its reasons)."""

    file_id: int
    member_id: int
    name: str
    department: str
    level: str
    opened: date
    review_on: date
    closed_on: date | None  # closed within or before the period's end
    aid_paid: int = 0  # fen paid to this person in the period, all aid types

    @property
    def number(self) -> str:
        """档-7, as the chat names it."""
        return f"档-{self.file_id}"

    @property
    def status(self) -> FileStatus:
        """The file's state on the period's last day."""
        return FileStatus.CLOSED if self.closed_on is not None else FileStatus.ACTIVE


async def hardship_rows(
    session: AsyncSession,
    *,
    org_id: int,
    period: ReportPeriod,
    zone: tzinfo,
    aid: Sequence[AidRow],
) -> list[HardshipRow]:
    """Files open at some time in the period, by number, with the aid paid to the person in
    the period (from the aid book's rows, so both books agree)."""
    start, end = period.bounds(zone)
    files = (
        await _rows(
            session,
            wide_select(
                col(HardshipFile.id),
                col(HardshipFile.member_id),
                col(HardshipFile.level),
                col(HardshipFile.review_on),
                col(HardshipFile.created_at),
                col(HardshipFile.closed_at),
                col(Member.real_name),
                col(Member.department),
            )
            .join(Member, col(Member.id) == HardshipFile.member_id)
            .where(
                col(HardshipFile.organization_id) == org_id,
                col(HardshipFile.created_at) < end,
                or_(col(HardshipFile.closed_at).is_(None), col(HardshipFile.closed_at) >= start),
            )
            .order_by(col(HardshipFile.id)),
        )
    ).all()
    paid: Counter[int] = Counter()
    for row in aid:
        paid[row.subject_id] += row.net
    return [
        HardshipRow(
            file_id=file_id or 0,
            member_id=member_id,
            name=name,
            department=department,
            level=level,
            opened=local_day(created_at, zone),
            review_on=review_on,
            closed_on=local_day(closed_at, zone) if closed_at and closed_at < end else None,
            aid_paid=paid.get(member_id, 0),
        )
        for file_id, member_id, level, review_on, created_at, closed_at, name, department in files
    ]


# ---- 活动台账 --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityRow:
    """One activity that started in the period."""

    title: str
    category: str
    starts_at: datetime  # local
    place: str
    capacity: int | None
    seats: int
    waiting: int  # on the waitlist or waiting for the draw
    attended: int  # checked in
    eligible: int  # active members with the bot in its audience
    status: str

    @property
    def signed_up(self) -> int:
        """Everyone signed up (seats and waiting)."""
        return self.seats + self.waiting

    @property
    def participants(self) -> int:
        """Checked in where check-in was used, else those with a seat (as the figures count)."""
        return self.attended if self.attended else self.seats

    @property
    def held(self) -> bool:
        """Not cancelled."""
        return self.status != ActivityStatus.CANCELLED


@dataclass
class _Audience:
    """Counts of the active members with the bot, to size any eligibility rule at once."""

    total: int = 0
    women: int = 0
    retirees: int = 0
    departments: Counter[str] = field(default_factory=Counter)
    birthdays: Counter[tuple[int, int, int]] = field(default_factory=Counter)

    def eligible(self, rule: dict[str, Any], day: date) -> int:
        """How many members `models.activities.is_eligible` lets in, without a loop over them."""
        kind = rule.get("type", "everyone")
        if kind == "women":
            return self.women
        if kind == "retirees":
            return self.retirees
        if kind == "departments":
            wanted = {str(name) for name in _listed(rule.get("departments"))}
            return sum(self.departments[name] for name in wanted)
        if kind == "age":
            low, high = age_bounds(rule)
            return sum(
                count
                for (year, month, birth_day), count in self.birthdays.items()
                if low <= age_on_day(day, year, month, birth_day) <= high
            )
        return self.total


def age_bounds(rule: dict[str, Any]) -> tuple[int, int]:
    """An age rule's youngest and oldest (0 and 200 when missing, null or not a number)."""
    return _int(rule.get("min"), 0), _int(rule.get("max"), 200)


def age_on_day(day: date, year: int, month: int, birth_day: int) -> int:
    """A member's age on a day. The figures and the 活动台账 both size an activity's age rule
    with the ages on the activity's own (local) day, as sign-up checks them then."""
    return day.year - year - int((day.month, day.day) < (month, birth_day))


def _listed(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


def _int(value: object, default: int) -> int:
    if isinstance(value, int | str) and str(value).lstrip("-").isdigit():
        return int(value)
    return default


async def _audience(session: AsyncSession, *, org_id: int) -> _Audience:
    audience = _Audience()
    rows = await _rows(
        session,
        wide_select(
            col(Member.gender),
            col(Member.retired),
            col(Member.department),
            col(Member.birth_year),
            col(Member.birth_month),
            col(Member.birth_day),
        ).where(
            col(Member.organization_id) == org_id,
            col(Member.status) == MemberStatus.ACTIVE,
            col(Member.telegram_user_id).is_not(None),
        ),
    )
    for gender, retired, department, year, month, day in rows.all():
        audience.total += 1
        audience.women += gender == Gender.FEMALE
        audience.retirees += bool(retired)
        audience.departments[department] += 1
        if year is not None and month is not None and day is not None:
            audience.birthdays[(year, month, day)] += 1
    return audience


async def activity_rows(
    session: AsyncSession, *, org_id: int, period: ReportPeriod, zone: tzinfo
) -> list[ActivityRow]:
    """Activities that started in the period, in order, with their sign-up counts."""
    start, end = period.bounds(zone)
    in_period = (
        col(Activity.organization_id) == org_id,
        col(Activity.starts_at) >= start,
        col(Activity.starts_at) < end,
    )
    activities = (
        await session.exec(select(Activity).where(*in_period).order_by(col(Activity.starts_at)))
    ).all()
    if not activities:
        return []
    counts: dict[int, dict[str, tuple[int, int]]] = defaultdict(dict)
    for activity_id, status, signed, checked in (
        await session.exec(
            select(
                Signup.activity_id,
                Signup.status,
                func.count(),
                func.count(col(Signup.checked_in_at)),
            )
            .join(Activity, col(Activity.id) == Signup.activity_id)
            .where(*in_period, col(Signup.status) != SignupStatus.CANCELLED)
            .group_by(col(Signup.activity_id), col(Signup.status))
        )
    ).all():
        counts[activity_id][status] = (int(signed), int(checked))
    audience = await _audience(session, org_id=org_id)
    rows = []
    for activity in activities:
        mine = counts.get(activity.id or 0, {})
        local = activity.starts_at.astimezone(zone)
        rows.append(
            ActivityRow(
                title=activity.title,
                category=activity.category,
                starts_at=local.replace(tzinfo=None),
                place=activity.place,
                capacity=activity.capacity,
                seats=mine.get(SignupStatus.SEAT, (0, 0))[0],
                waiting=sum(
                    mine.get(status, (0, 0))[0]
                    for status in (SignupStatus.WAITLIST, SignupStatus.APPLIED)
                ),
                attended=sum(checked for _signed, checked in mine.values()),
                eligible=audience.eligible(activity.rule(), local.date()),
                status=activity.status,
            )
        )
    return rows


# ---- all books ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Books:
    """Every book of one period."""

    roster: list[RosterRow]
    suggestions: list[SuggestionRow]
    congresses: list[CongressBook]
    aid: list[AidRow]
    hardship: list[HardshipRow]
    activities: list[ActivityRow]


async def read_books(
    session: AsyncSession, *, org_id: int, period: ReportPeriod, zone: tzinfo
) -> Books:
    """Read every book of the period."""
    aid = await aid_rows(session, org_id=org_id, period=period, zone=zone)
    return Books(
        roster=await roster_rows(session, org_id=org_id, period=period, zone=zone),
        suggestions=await suggestion_rows(session, org_id=org_id, period=period, zone=zone),
        congresses=await congress_books(session, org_id=org_id, period=period, zone=zone),
        aid=aid,
        hardship=await hardship_rows(session, org_id=org_id, period=period, zone=zone, aid=aid),
        activities=await activity_rows(session, org_id=org_id, period=period, zone=zone),
    )
