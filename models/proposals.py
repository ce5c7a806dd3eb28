"""Staff congress proposals (教代会提案): sessions, co-signing, triage, handling, rating, figures.

The life of a proposal:

    draft ──submit──> cosigning ──enough co-signers──> submitted (numbered 提案第N号)
    submitted ──file──> filed ──assign──> assigned ──answer──> answered
    answered ──satisfied / basically satisfied──> closed
    answered ──dissatisfied──> assigned (another round)        committee may close it instead

Each answer carries an implementation status (落实情况: 已落实 / 正在落实 / 列入计划 / 因条件限制
暂不能落实 with a reason); the committee may change it later, every setting kept with who and when.
    submitted ──convert──> converted (continues as a suggestion) | ──reject──> not_filed
    draft / cosigning / submitted ──withdraw──> withdrawn      submitted ──merge──> merged

Every change is a guarded UPDATE on the expected status, so two committee members deciding at
once give one decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, String, Text, UniqueConstraint, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.base import UTCDateTime, utcnow
from models.errors import N_, DomainError
from models.members import Actor, Role
from models.suggestions import BODY_LIMIT as SUGGESTION_BODY_LIMIT
from models.suggestions import Suggestion, add_named_suggestion
from models.validation import clean_text

TITLE_LIMIT = 60
TEXT_LIMIT = 2000
REASON_LIMIT = 500
SESSION_NAME_LIMIT = 60
DEPARTMENT_NAME_LIMIT = 30
IMPLEMENTATION_TARGET = 95.0
DEFAULT_MIN_COSIGNERS = 2
DEFAULT_REPLY_DAYS = 30


class ProposalStatus(StrEnum):
    """Where a proposal stands."""

    DRAFT = "draft"
    COSIGNING = "cosigning"
    SUBMITTED = "submitted"
    FILED = "filed"  # 立案
    ASSIGNED = "assigned"
    ANSWERED = "answered"
    CLOSED = "closed"  # 办结
    CONVERTED = "converted"  # 转为意见建议
    NOT_FILED = "not_filed"  # 不立案
    WITHDRAWN = "withdrawn"
    MERGED = "merged"


class Rating(StrEnum):
    """The proposer's verdict on an answer."""

    SATISFIED = "satisfied"  # 满意
    BASIC = "basic"  # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意


class Implementation(StrEnum):
    """What became of a proposal's measures (落实情况), as its answer or a later update says."""

    DONE = "done"  # 已落实
    DOING = "doing"  # 正在落实
    PLANNED = "planned"  # 列入计划
    CANNOT = "cannot"  # 因条件限制暂不能落实 (with a reason)


# The statuses 落实率 counts as implemented.
IMPLEMENTED = (Implementation.DONE, Implementation.DOING)


class ProposalCategory(StrEnum):
    """What a proposal is about (the congress groups them this way)."""

    TEACHING = "teaching"  # 教育教学
    MANAGEMENT = "management"  # 学校管理
    WELFARE = "welfare"  # 福利待遇
    FACILITIES = "facilities"  # 后勤保障
    OTHER = "other"


# The suggestion-box category a converted proposal continues under.
SUGGESTION_CATEGORY = {
    ProposalCategory.TEACHING: "teaching",
    ProposalCategory.MANAGEMENT: "other",
    ProposalCategory.WELFARE: "pay",
    ProposalCategory.FACILITIES: "facilities",
    ProposalCategory.OTHER: "other",
}


class Filers(StrEnum):
    """Who may file and co-sign in a session."""

    REPRESENTATIVES = "representatives"
    MEMBERS = "members"


class CongressSession(SQLModel, table=True):
    """A session of the staff congress and its proposal window."""

    __tablename__ = "congress_session"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    name: str = Field(max_length=SESSION_NAME_LIMIT)
    opens_on: date = Field(sa_type=Date)
    closes_on: date = Field(sa_type=Date)
    reply_days: int = DEFAULT_REPLY_DAYS
    min_cosigners: int = DEFAULT_MIN_COSIGNERS
    filers: str = Field(default=Filers.REPRESENTATIVES, sa_type=String(16))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    def is_open(self, today: date) -> bool:
        """True while proposals may be submitted."""
        return self.opens_on <= today <= self.closes_on


class Proposal(SQLModel, table=True):
    """One proposal (案由, 理由, 建议措施)."""

    __table_args__ = (
        UniqueConstraint("session_id", "number", name="uq_proposal_number"),
        UniqueConstraint("client_token", name="uq_proposal_client_token"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    session_id: int | None = Field(default=None, foreign_key="congress_session.id", index=True)
    number: int | None = None  # 提案第N号, given at submission
    proposer_member_id: int = Field(foreign_key="member.id", index=True)
    title: str = Field(max_length=TITLE_LIMIT)
    reasons: str = Field(sa_type=Text)
    measures: str = Field(sa_type=Text)
    category: str = Field(default=ProposalCategory.OTHER, sa_type=String(16))
    client_token: str = Field(sa_type=String(32))
    status: str = Field(default=ProposalStatus.DRAFT, sa_type=String(16), index=True)
    version: int = 0
    rounds: int = 0  # how many times it went to the departments
    decided_by_member_id: int | None = Field(default=None, foreign_key="member.id")
    decision_reason: str | None = Field(default=None, sa_type=Text, nullable=True)
    merged_into_id: int | None = Field(default=None, foreign_key="proposal.id")
    excellent: bool = False
    reply_due: date | None = Field(default=None, sa_type=Date, nullable=True)
    closing_note: str | None = Field(default=None, sa_type=Text, nullable=True)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    assigned_by_member_id: int | None = Field(default=None, foreign_key="member.id")
    assigned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # None with a closed_at: closed by the proposer's (basically) satisfied rating.
    closed_by_member_id: int | None = Field(default=None, foreign_key="member.id")
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The current 落实情况 (None: answered before it was asked, or not answered yet); who set it
    # and when is in proposal_implementation.
    implementation: str | None = Field(default=None, sa_type=String(16), nullable=True)
    implementation_reason: str | None = Field(default=None, sa_type=Text, nullable=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ProposalSigner(SQLModel, table=True):
    """A co-signer (附议人), or a co-author who came in through a merge."""

    __tablename__ = "proposal_signer"

    proposal_id: int = Field(foreign_key="proposal.id", primary_key=True)
    member_id: int = Field(foreign_key="member.id", primary_key=True)
    coauthor: bool = False
    signed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Department(SQLModel, table=True):
    """A department that handles proposals (承办部门)."""

    __table_args__ = (UniqueConstraint("organization_id", "name", name="uq_department_name"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    name: str = Field(max_length=DEPARTMENT_NAME_LIMIT)
    # The member who answers for this department in chat (None: the committee answers).
    handler_member_id: int | None = Field(default=None, foreign_key="member.id")


class ProposalAssignment(SQLModel, table=True):
    """A department handling a proposal: the lead (主办) or a co-handler (协办)."""

    __tablename__ = "proposal_assignment"

    proposal_id: int = Field(foreign_key="proposal.id", primary_key=True)
    department_id: int = Field(foreign_key="department.id", primary_key=True)
    lead: bool = False


class ProposalAnswer(SQLModel, table=True):
    """A written answer (答复) of one round."""

    __tablename__ = "proposal_answer"

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True)
    round: int
    body: str = Field(sa_type=Text)
    answered_by_member_id: int = Field(foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ProposalImplementationChange(SQLModel, table=True):
    """One setting of a proposal's 落实情况: with an answer, or a later update by the committee."""

    __tablename__ = "proposal_implementation"

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True)
    round: int
    status: str = Field(sa_type=String(16))
    reason: str | None = Field(default=None, sa_type=Text, nullable=True)
    member_id: int = Field(foreign_key="member.id")
    with_answer: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ProposalRating(SQLModel, table=True):
    """A proposer's or co-author's verdict on one round's answer."""

    __tablename__ = "proposal_rating"

    proposal_id: int = Field(foreign_key="proposal.id", primary_key=True)
    round: int = Field(primary_key=True)
    member_id: int = Field(foreign_key="member.id", primary_key=True)
    rating: str = Field(sa_type=String(16))
    comment: str | None = Field(default=None, sa_type=Text, nullable=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


@dataclass(frozen=True)
class Figures:
    """The rates every union reports for a session."""

    collected: int  # submitted, merged ones included ("36 collected ...")
    submitted: int  # merged ones count once, as their survivor ("... merged into 18")
    filed: int
    answered: int
    closed: int
    satisfied: int  # proposer's last rating 满意 or 基本满意
    rated: int
    # The 落实情况 of the answered proposals (the `answered` above), by current status;
    # `unknown`: answered before the status was asked, or closed without an answer.
    done: int = 0
    doing: int = 0
    planned: int = 0
    cannot: int = 0
    unknown: int = 0

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return round(100 * part / whole, 1) if whole else None

    @property
    def filing_rate(self) -> float | None:
        """立案率: filed among submitted."""
        return self._rate(self.filed, self.submitted)

    @property
    def completion_rate(self) -> float | None:
        """办结率: closed among filed."""
        return self._rate(self.closed, self.filed)

    @property
    def satisfaction_rate(self) -> float | None:
        """满意率: satisfied or basically satisfied among rated."""
        return self._rate(self.satisfied, self.rated)

    @property
    def implementation_rate(self) -> float | None:
        """落实率: 已落实 and 正在落实 among the answered proposals; target 95%.

        The denominator is `answered`, the 已答复 figure shown beside it: proposals whose status
        is 已答复 or 已办结. A proposal sent back for another round after a 不满意 verdict counts
        again when its new answer comes (its old answer was not accepted); an unanswered one has
        nothing to count. Proposals without a status (`unknown`) stay in the denominator, out of
        the numerator, and their number is shown: the rate never looks better for not knowing.
        Satisfaction is its own figure and plays no part here.
        """
        return self._rate(self.done + self.doing, self.answered)


# ---- sessions ----------------------------------------------------------------------------


async def open_session(
    session: AsyncSession,
    *,
    org_id: int,
    actor: Actor,
    name: str,
    opens_on: date,
    closes_on: date,
    reply_days: int = DEFAULT_REPLY_DAYS,
    min_cosigners: int = DEFAULT_MIN_COSIGNERS,
    filers: Filers = Filers.REPRESENTATIVES,
) -> CongressSession:
    """The committee opens a proposal window for a congress session."""
    if not actor.is_committee:
        raise DomainError(N_("desk.not_committee"))
    if closes_on < opens_on:
        raise DomainError(N_("proposal.window_backwards"))
    if not 1 <= reply_days <= 365 or not 0 <= min_cosigners <= 20:
        raise DomainError(N_("proposal.window_limits"))
    overlapping = (
        await session.exec(
            select(CongressSession).where(
                CongressSession.organization_id == org_id,
                col(CongressSession.opens_on) <= closes_on,
                col(CongressSession.closes_on) >= opens_on,
            )
        )
    ).first()
    if overlapping is not None:
        raise DomainError(N_("proposal.window_overlaps"), name=overlapping.name)
    congress = CongressSession(
        organization_id=org_id,
        name=clean_text(name, limit=SESSION_NAME_LIMIT),
        opens_on=opens_on,
        closes_on=closes_on,
        reply_days=reply_days,
        min_cosigners=min_cosigners,
        filers=filers,
    )
    session.add(congress)
    await session.commit()
    return congress


async def current_session(
    session: AsyncSession, *, org_id: int, today: date
) -> CongressSession | None:
    """The session whose window is open today, if any."""
    return (
        await session.exec(
            select(CongressSession)
            .where(
                CongressSession.organization_id == org_id,
                col(CongressSession.opens_on) <= today,
                col(CongressSession.closes_on) >= today,
            )
            .order_by(col(CongressSession.opens_on).desc())
        )
    ).first()


async def next_session(
    session: AsyncSession, *, org_id: int, today: date
) -> CongressSession | None:
    """The next window to open after today, if one is planned."""
    return (
        await session.exec(
            select(CongressSession)
            .where(CongressSession.organization_id == org_id, col(CongressSession.opens_on) > today)
            .order_by(col(CongressSession.opens_on))
        )
    ).first()


async def rule_session(
    session: AsyncSession, *, org_id: int, today: date
) -> CongressSession | None:
    """The session whose filing rule applies today: the open one, else the next, else the last."""
    congress = await current_session(session, org_id=org_id, today=today)
    if congress is None:
        congress = await next_session(session, org_id=org_id, today=today)
    if congress is None:
        congress = (
            await session.exec(
                select(CongressSession)
                .where(CongressSession.organization_id == org_id)
                .order_by(col(CongressSession.closes_on).desc())
            )
        ).first()
    return congress


def may_file(actor: Actor, congress: CongressSession | None) -> bool:
    """Whether this member may file or co-sign under the session's rule."""
    if not actor.is_active:
        return False
    if congress is not None and congress.filers == Filers.MEMBERS:
        return True
    return actor.has(Role.REPRESENTATIVE)


# ---- drafting, co-signing, submitting ----------------------------------------------------


async def create_draft(
    session: AsyncSession,
    *,
    org_id: int,
    actor: Actor,
    title: str,
    reasons: str,
    measures: str,
    client_token: str,
    today: date,
    category: ProposalCategory = ProposalCategory.OTHER,
) -> Proposal:
    """Store a confirmed proposal: co-signing starts if a window is open, else it waits."""
    congress = await current_session(session, org_id=org_id, today=today)
    if not may_file(actor, congress or await rule_session(session, org_id=org_id, today=today)):
        raise DomainError(N_("proposal.not_allowed"))
    proposal = Proposal(
        organization_id=org_id,
        session_id=congress.id if congress else None,
        proposer_member_id=actor.id,
        title=clean_text(title, limit=TITLE_LIMIT, needs_words=True),
        reasons=clean_text(reasons, limit=TEXT_LIMIT, multiline=True, needs_words=True),
        measures=clean_text(measures, limit=TEXT_LIMIT, multiline=True, needs_words=True),
        category=category,
        client_token=client_token,
        status=ProposalStatus.COSIGNING if congress else ProposalStatus.DRAFT,
    )
    session.add(proposal)
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise DomainError(N_("proposal.already_stored")) from exc
    if congress is not None and congress.min_cosigners == 0:
        return await _submit_if_ready(session, proposal=proposal, congress=congress)
    return proposal


async def get_proposal(session: AsyncSession, *, org_id: int, proposal_id: int) -> Proposal:
    """A proposal of this organization (ids from links and buttons can be forged)."""
    proposal = await session.get(Proposal, proposal_id)
    if proposal is None or proposal.organization_id != org_id:
        raise DomainError(N_("proposal.not_found"))
    return proposal


async def signers_of(session: AsyncSession, *, proposal_id: int) -> Sequence[ProposalSigner]:
    """Co-signers and co-authors, in signing order."""
    return (
        await session.exec(
            select(ProposalSigner)
            .where(ProposalSigner.proposal_id == proposal_id)
            .order_by(col(ProposalSigner.signed_at))
        )
    ).all()


async def cosign(
    session: AsyncSession, *, org_id: int, proposal_id: int, actor: Actor, today: date
) -> Proposal:
    """Co-sign (附议); the proposal is submitted and numbered when enough have signed."""
    proposal = await get_proposal(session, org_id=org_id, proposal_id=proposal_id)
    if proposal.status != ProposalStatus.COSIGNING:
        raise DomainError(N_("proposal.not_cosigning"))
    if proposal.proposer_member_id == actor.id:
        raise DomainError(N_("proposal.cosign_own"))
    congress = await session.get(CongressSession, proposal.session_id)
    if congress is None or not congress.is_open(today):
        raise DomainError(N_("proposal.window_closed"))
    if not may_file(actor, congress):
        raise DomainError(N_("proposal.not_allowed"))
    session.add(ProposalSigner(proposal_id=proposal_id, member_id=actor.id))
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise DomainError(N_("proposal.cosigned_already")) from exc
    return await _submit_if_ready(session, proposal=proposal, congress=congress)


async def _submit_if_ready(
    session: AsyncSession, *, proposal: Proposal, congress: CongressSession
) -> Proposal:
    signed = (
        await session.exec(
            select(func.count())
            .select_from(ProposalSigner)
            .where(ProposalSigner.proposal_id == proposal.id)
        )
    ).one()
    if int(signed) < congress.min_cosigners:
        return proposal
    # Read before any rollback below: a rollback expires the instance (no lazy loads in async).
    proposal_id, congress_id = proposal.id, congress.id
    for _attempt in range(5):
        try:
            number = (
                await session.exec(
                    select(func.max(Proposal.number)).where(Proposal.session_id == congress_id)
                )
            ).one()
            result = await session.exec(
                update(Proposal)
                .where(
                    col(Proposal.id) == proposal_id,
                    col(Proposal.status) == ProposalStatus.COSIGNING,
                )
                .values(
                    status=ProposalStatus.SUBMITTED,
                    number=int(number or 0) + 1,
                    submitted_at=utcnow(),
                    version=Proposal.version + 1,
                )
            )
            await session.commit()
        except IntegrityError:
            await session.rollback()  # another proposal took this number at the same moment
            continue
        stored = await session.get(Proposal, proposal_id, populate_existing=True)
        assert stored is not None
        if result.rowcount == 1 or stored.status != ProposalStatus.COSIGNING:
            return stored
    raise DomainError(N_("suggestion.busy"))


async def start_waiting_drafts(
    session: AsyncSession, *, org_id: int, congress: CongressSession
) -> Sequence[Proposal]:
    """When a window opens, drafts kept outside one move into it for co-signing."""
    drafts = (
        await session.exec(
            select(Proposal).where(
                Proposal.organization_id == org_id, Proposal.status == ProposalStatus.DRAFT
            )
        )
    ).all()
    for draft in drafts:
        draft.session_id = congress.id
        draft.status = ProposalStatus.COSIGNING
        session.add(draft)
    await session.commit()
    # A draft back from a closed window keeps its signatures: they may already be enough.
    return [await _submit_if_ready(session, proposal=draft, congress=congress) for draft in drafts]


async def return_unfinished(
    session: AsyncSession, *, org_id: int, today: date
) -> Sequence[Proposal]:
    """Proposals still gathering co-signers when their window closed become drafts again; they
    start co-signing (signatures kept) when the next window opens."""
    stale = (
        await session.exec(
            select(Proposal)
            .join(CongressSession, col(CongressSession.id) == Proposal.session_id)
            .where(
                Proposal.organization_id == org_id,
                Proposal.status == ProposalStatus.COSIGNING,
                col(CongressSession.closes_on) < today,
            )
        )
    ).all()
    for proposal in stale:
        proposal.status = ProposalStatus.DRAFT
        proposal.session_id = None
        session.add(proposal)
    await session.commit()
    return stale


async def withdraw(
    session: AsyncSession, *, org_id: int, proposal_id: int, actor: Actor
) -> Proposal:
    """The proposer withdraws before the committee decides."""
    proposal = await get_proposal(session, org_id=org_id, proposal_id=proposal_id)
    if proposal.proposer_member_id != actor.id:
        raise DomainError(N_("proposal.not_yours"))
    await _guarded(
        session,
        proposal=proposal,
        allowed=(ProposalStatus.DRAFT, ProposalStatus.COSIGNING, ProposalStatus.SUBMITTED),
        values={"status": ProposalStatus.WITHDRAWN},
    )
    return proposal


# ---- the committee decides ---------------------------------------------------------------


async def _guarded(
    session: AsyncSession,
    *,
    proposal: Proposal,
    allowed: tuple[ProposalStatus, ...],
    values: dict[str, object],
    commit: bool = True,
    still: tuple[Any, ...] = (),
) -> None:
    """Write `values` while the proposal's status is one of `allowed` (and the `still`
    conditions hold); otherwise roll back and refuse (already decided)."""
    result = await session.exec(
        update(Proposal)
        .where(col(Proposal.id) == proposal.id, col(Proposal.status).in_(allowed), *still)
        .values(version=Proposal.version + 1, **values)
    )
    if result.rowcount != 1:
        await session.rollback()
        raise DomainError(N_("proposal.already_decided"))
    if commit:
        await session.commit()
        await session.refresh(proposal)


async def triage(
    session: AsyncSession,
    *,
    org_id: int,
    proposal_id: int,
    actor: Actor,
    outcome: ProposalStatus,
    reason: str | None = None,
) -> Proposal:
    """File (立案), convert to a suggestion (转为意见建议), or not file (不立案, with a reason)."""
    if not actor.is_committee:
        raise DomainError(N_("desk.not_committee"))
    if outcome not in (ProposalStatus.FILED, ProposalStatus.CONVERTED, ProposalStatus.NOT_FILED):
        raise DomainError(N_("desk.stale_button"))
    text = None
    if outcome == ProposalStatus.NOT_FILED or reason:
        text = clean_text(reason, limit=REASON_LIMIT, multiline=True, needs_words=True)
    proposal = await get_proposal(session, org_id=org_id, proposal_id=proposal_id)
    await _guarded(
        session,
        proposal=proposal,
        allowed=(ProposalStatus.SUBMITTED,),
        values={
            "status": outcome,
            "decided_by_member_id": actor.id,
            "decided_at": utcnow(),
            "decision_reason": text,
        },
    )
    return proposal


async def convert_to_suggestion(
    session: AsyncSession, *, org_id: int, proposal_id: int, actor: Actor, today: date
) -> tuple[Proposal, Suggestion]:
    """转为意见建议: the proposal becomes a named item of the suggestion box, in one transaction
    (no converted proposal without its item, no item twice)."""
    if not actor.is_committee:
        raise DomainError(N_("desk.not_committee"))
    proposal = await get_proposal(session, org_id=org_id, proposal_id=proposal_id)
    proposer, category = proposal.proposer_member_id, ProposalCategory(proposal.category)
    body = f"{proposal.title}\n\n{proposal.reasons}\n\n{proposal.measures}"
    for _attempt in range(5):
        await _guarded(
            session,
            proposal=proposal,
            allowed=(ProposalStatus.SUBMITTED,),
            values={
                "status": ProposalStatus.CONVERTED,
                "decided_by_member_id": actor.id,
                "decided_at": utcnow(),
            },
            commit=False,
        )
        try:
            item = await add_named_suggestion(
                session,
                org_id=org_id,
                author_member_id=proposer,
                category_code=SUGGESTION_CATEGORY[category],
                # The suggestion box's limit is shorter than a proposal's three parts.
                body=body[:SUGGESTION_BODY_LIMIT],
                client_token=f"proposal-{proposal_id}",
                today=today,
            )
            await session.commit()
        except IntegrityError:
            await session.rollback()  # another item took this number at the same moment
            proposal = await get_proposal(session, org_id=org_id, proposal_id=proposal_id)
            continue
        await session.refresh(proposal)
        return proposal, item
    raise DomainError(N_("suggestion.busy"))


async def merge(
    session: AsyncSession, *, org_id: int, survivor_id: int, merged_ids: Sequence[int], actor: Actor
) -> Proposal:
    """Merge duplicates into one; their proposers and co-signers become co-authors of it."""
    if not actor.is_committee:
        raise DomainError(N_("desk.not_committee"))
    survivor = await get_proposal(session, org_id=org_id, proposal_id=survivor_id)
    if survivor.status not in (ProposalStatus.SUBMITTED, ProposalStatus.FILED):
        raise DomainError(N_("proposal.already_decided"))
    others = [
        await get_proposal(session, org_id=org_id, proposal_id=other)
        for other in merged_ids
        if other != survivor_id
    ]
    if not others:
        raise DomainError(N_("proposal.merge_needs_two"))
    if any(other.session_id != survivor.session_id for other in others):
        raise DomainError(N_("proposal.merge_other_session"))
    signers = {row.member_id: row for row in await signers_of(session, proposal_id=survivor_id)}
    for other in others:
        result = await session.exec(
            update(Proposal)
            .where(col(Proposal.id) == other.id, col(Proposal.status) == ProposalStatus.SUBMITTED)
            .values(
                status=ProposalStatus.MERGED,
                merged_into_id=survivor_id,
                decided_by_member_id=actor.id,
                decided_at=utcnow(),
                version=Proposal.version + 1,
            )
        )
        if result.rowcount != 1:
            await session.rollback()
            raise DomainError(N_("proposal.already_decided"))
        people = [other.proposer_member_id] + [
            row.member_id for row in await signers_of(session, proposal_id=other.id or 0)
        ]
        for member_id in people:
            if member_id == survivor.proposer_member_id:
                continue
            row = signers.get(member_id)
            if row is None:
                row = ProposalSigner(proposal_id=survivor_id, member_id=member_id, coauthor=True)
                signers[member_id] = row
            # A co-signer of the survivor who also proposed or signed a duplicate: co-author.
            row.coauthor = True
            session.add(row)
    await session.commit()
    await session.refresh(survivor)
    return survivor


# ---- handling: departments, answers, ratings ----------------------------------------------


async def add_department(
    session: AsyncSession, *, org_id: int, actor: Actor, name: str
) -> Department:
    """The committee adds a handling department."""
    if not actor.is_committee:
        raise DomainError(N_("desk.not_committee"))
    department = Department(
        organization_id=org_id, name=clean_text(name, limit=DEPARTMENT_NAME_LIMIT)
    )
    session.add(department)
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise DomainError(N_("proposal.department_exists")) from exc
    return department


async def get_department(session: AsyncSession, *, org_id: int, department_id: int) -> Department:
    """A department of this organization."""
    department = await session.get(Department, department_id)
    if department is None or department.organization_id != org_id:
        raise DomainError(N_("proposal.department_unknown"))
    return department


async def set_department_handler(
    session: AsyncSession, *, org_id: int, actor: Actor, department_id: int, member_id: int | None
) -> Department:
    """The chair names the member who answers for a department (None: the committee does)."""
    if not actor.is_chair:
        raise DomainError(N_("roles.chair_only"))
    department = await get_department(session, org_id=org_id, department_id=department_id)
    department.handler_member_id = member_id
    session.add(department)
    await session.commit()
    return department


async def assign(
    session: AsyncSession,
    *,
    org_id: int,
    proposal_id: int,
    actor: Actor,
    lead_department_id: int,
    co_department_ids: Sequence[int] = (),
    today: date,
) -> Proposal:
    """Give a filed proposal to a lead department (主办) and co-handlers (协办), with a deadline."""
    if not actor.is_committee:
        raise DomainError(N_("desk.not_committee"))
    proposal = await get_proposal(session, org_id=org_id, proposal_id=proposal_id)
    departments = [lead_department_id, *(d for d in co_department_ids if d != lead_department_id)]
    for department_id in departments:
        await get_department(session, org_id=org_id, department_id=department_id)
    congress = await session.get(CongressSession, proposal.session_id)
    reply_days = congress.reply_days if congress else DEFAULT_REPLY_DAYS
    await _guarded(
        session,
        proposal=proposal,
        allowed=(ProposalStatus.FILED,),
        values={
            "status": ProposalStatus.ASSIGNED,
            "rounds": 1,
            "reply_due": date.fromordinal(today.toordinal() + reply_days),
            "assigned_by_member_id": actor.id,
            "assigned_at": utcnow(),
        },
    )
    for department_id in departments:
        session.add(
            ProposalAssignment(
                proposal_id=proposal_id,
                department_id=department_id,
                lead=department_id == lead_department_id,
            )
        )
    await session.commit()
    return proposal


async def lead_department(session: AsyncSession, *, proposal_id: int) -> Department | None:
    """The lead department of a proposal."""
    return (
        await session.exec(
            select(Department)
            .join(ProposalAssignment, col(ProposalAssignment.department_id) == Department.id)
            .where(ProposalAssignment.proposal_id == proposal_id, col(ProposalAssignment.lead))
        )
    ).first()


def implementation_reason(implementation: Implementation, reason: str | None) -> str | None:
    """The reason 因条件限制暂不能落实 needs (refused when empty); other statuses keep none."""
    if implementation != Implementation.CANNOT:
        return None
    return clean_text(reason, limit=REASON_LIMIT, multiline=True, needs_words=True)


async def answer(
    session: AsyncSession,
    *,
    org_id: int,
    proposal_id: int,
    actor: Actor,
    body: str,
    implementation: Implementation | None = None,
    reason: str | None = None,
) -> Proposal:
    """The lead department's handler, or the committee on its behalf, answers (答复), saying
    what became of the measures (落实情况; the chat always asks it, None is an answer stored
    the way they were before it was asked)."""
    proposal = await get_proposal(session, org_id=org_id, proposal_id=proposal_id)
    lead = await lead_department(session, proposal_id=proposal_id)
    is_handler = lead is not None and lead.handler_member_id == actor.id and actor.is_active
    if not (is_handler or actor.is_committee):
        raise DomainError(N_("proposal.not_handler"))
    text = clean_text(body, limit=TEXT_LIMIT, multiline=True, needs_words=True)
    why = implementation_reason(implementation, reason) if implementation else None
    rounds = proposal.rounds
    await _guarded(
        session,
        proposal=proposal,
        allowed=(ProposalStatus.ASSIGNED,),
        values={
            "status": ProposalStatus.ANSWERED,
            "implementation": implementation,
            "implementation_reason": why,
        },
        commit=False,
    )
    session.add(
        ProposalAnswer(
            proposal_id=proposal_id, round=rounds, body=text, answered_by_member_id=actor.id
        )
    )
    if implementation is not None:
        session.add(
            ProposalImplementationChange(
                proposal_id=proposal_id,
                round=rounds,
                status=implementation,
                reason=why,
                member_id=actor.id,
                with_answer=True,
            )
        )
    await session.commit()
    await session.refresh(proposal)
    return proposal


async def update_implementation(
    session: AsyncSession,
    *,
    org_id: int,
    proposal_id: int,
    actor: Actor,
    implementation: Implementation,
    reason: str | None = None,
) -> Proposal:
    """The committee changes an answered proposal's 落实情况 later (列入计划 -> 已落实), or fills
    it in for one answered before it was asked; the change is kept with who and when."""
    if not actor.is_committee:
        raise DomainError(N_("desk.not_committee"))
    why = implementation_reason(implementation, reason)
    proposal = await get_proposal(session, org_id=org_id, proposal_id=proposal_id)
    if (proposal.implementation, proposal.implementation_reason) == (implementation, why):
        raise DomainError(N_("proposal.implementation_unchanged"))
    rounds = proposal.rounds
    # Guarded in the database: written only over the value read here, so two committee
    # members pressing at once store (and tell) one change; the other is told it is done.
    try:
        await _guarded(
            session,
            proposal=proposal,
            allowed=IMPLEMENTATION_UPDATABLE,
            values={"implementation": implementation, "implementation_reason": why},
            commit=False,
            still=(
                col(Proposal.implementation).is_not_distinct_from(proposal.implementation),
                col(Proposal.implementation_reason).is_not_distinct_from(
                    proposal.implementation_reason
                ),
            ),
        )
    except DomainError:
        await session.refresh(proposal)
        if (proposal.implementation, proposal.implementation_reason) == (implementation, why):
            raise DomainError(N_("proposal.implementation_unchanged")) from None
        raise
    session.add(
        ProposalImplementationChange(
            proposal_id=proposal_id,
            round=rounds,
            status=implementation,
            reason=why,
            member_id=actor.id,
        )
    )
    await session.commit()
    await session.refresh(proposal)
    return proposal


async def implementation_changes(
    session: AsyncSession, *, proposal_id: int
) -> Sequence[ProposalImplementationChange]:
    """Every setting of a proposal's 落实情况, oldest first."""
    return (
        await session.exec(
            select(ProposalImplementationChange)
            .where(ProposalImplementationChange.proposal_id == proposal_id)
            .order_by(col(ProposalImplementationChange.id))
        )
    ).all()


async def authors_of(session: AsyncSession, *, proposal: Proposal) -> list[int]:
    """The proposer and the co-authors who came in through merges (they rate the answer)."""
    coauthors = [
        row.member_id
        for row in await signers_of(session, proposal_id=proposal.id or 0)
        if row.coauthor
    ]
    return [proposal.proposer_member_id, *coauthors]


async def rate(
    session: AsyncSession,
    *,
    org_id: int,
    proposal_id: int,
    actor: Actor,
    rating: Rating,
    comment: str | None,
    today: date,
) -> Proposal:
    """Rate the answer. The proposer's verdict decides: (basically) satisfied closes it,
    dissatisfied (with a comment) sends it back for another round. Co-authors' verdicts are
    recorded for the committee."""
    proposal = await get_proposal(session, org_id=org_id, proposal_id=proposal_id)
    if actor.id not in await authors_of(session, proposal=proposal):
        raise DomainError(N_("proposal.not_yours"))
    if proposal.status != ProposalStatus.ANSWERED:
        raise DomainError(N_("proposal.nothing_to_rate"))
    text = None
    if rating == Rating.DISSATISFIED or comment:
        text = clean_text(comment, limit=REASON_LIMIT, multiline=True, needs_words=True)
    session.add(
        ProposalRating(
            proposal_id=proposal_id,
            round=proposal.rounds,
            member_id=actor.id,
            rating=rating,
            comment=text,
        )
    )
    try:
        await session.flush()
    except IntegrityError as exc:
        await session.rollback()
        raise DomainError(N_("proposal.rated_already")) from exc
    if actor.id != proposal.proposer_member_id:
        await session.commit()
        return proposal
    if rating == Rating.DISSATISFIED:
        congress = await session.get(CongressSession, proposal.session_id)
        reply_days = congress.reply_days if congress else DEFAULT_REPLY_DAYS
        values: dict[str, object] = {
            "status": ProposalStatus.ASSIGNED,
            "rounds": proposal.rounds + 1,
            "reply_due": date.fromordinal(today.toordinal() + reply_days),
        }
    else:
        values = {"status": ProposalStatus.CLOSED, "closed_at": utcnow()}
    await _guarded(session, proposal=proposal, allowed=(ProposalStatus.ANSWERED,), values=values)
    return proposal


async def close_by_committee(
    session: AsyncSession, *, org_id: int, proposal_id: int, actor: Actor, note: str
) -> Proposal:
    """Close a proposal that stays dissatisfied (or answered), with a note."""
    if not actor.is_committee:
        raise DomainError(N_("desk.not_committee"))
    text = clean_text(note, limit=REASON_LIMIT, multiline=True, needs_words=True)
    proposal = await get_proposal(session, org_id=org_id, proposal_id=proposal_id)
    await _guarded(
        session,
        proposal=proposal,
        allowed=(ProposalStatus.ASSIGNED, ProposalStatus.ANSWERED),
        values={
            "status": ProposalStatus.CLOSED,
            "closed_at": utcnow(),
            "closed_by_member_id": actor.id,
            "closing_note": text,
        },
    )
    return proposal


async def mark_excellent(
    session: AsyncSession, *, org_id: int, proposal_id: int, actor: Actor, excellent: bool = True
) -> Proposal:
    """Select (or unselect) an excellent proposal (优秀提案) among the filed ones."""
    if not actor.is_committee:
        raise DomainError(N_("desk.not_committee"))
    proposal = await get_proposal(session, org_id=org_id, proposal_id=proposal_id)
    if proposal.status not in _FILED_OR_LATER:
        raise DomainError(N_("proposal.excellent_needs_filed"))
    proposal.excellent = excellent
    session.add(proposal)
    await session.commit()
    return proposal


async def overdue(session: AsyncSession, *, org_id: int, today: date) -> Sequence[Proposal]:
    """Assigned proposals past their reply deadline, oldest deadline first."""
    return (
        await session.exec(
            select(Proposal)
            .where(
                Proposal.organization_id == org_id,
                Proposal.status == ProposalStatus.ASSIGNED,
                col(Proposal.reply_due) < today,
            )
            .order_by(col(Proposal.reply_due), col(Proposal.id))
        )
    ).all()


# ---- figures -----------------------------------------------------------------------------

_SUBMITTED_OR_LATER = (
    ProposalStatus.SUBMITTED,
    ProposalStatus.FILED,
    ProposalStatus.ASSIGNED,
    ProposalStatus.ANSWERED,
    ProposalStatus.CLOSED,
    ProposalStatus.CONVERTED,
    ProposalStatus.NOT_FILED,
)
# 已答复 in the figures, and the proposals whose 落实情况 the committee may change later.
ANSWERED_STATUSES = (ProposalStatus.ANSWERED, ProposalStatus.CLOSED)
IMPLEMENTATION_UPDATABLE = ANSWERED_STATUSES
_FILED_OR_LATER = (
    ProposalStatus.FILED,
    ProposalStatus.ASSIGNED,
    ProposalStatus.ANSWERED,
    ProposalStatus.CLOSED,
)


async def session_figures(session: AsyncSession, *, session_id: int) -> Figures:
    """Submitted, filed (立案率), answered, closed (办结率) for one session.

    Merged proposals count once, as their survivor; withdrawn ones do not count.
    """
    rows = (
        await session.exec(
            select(Proposal.status, func.count())
            .where(Proposal.session_id == session_id)
            .group_by(col(Proposal.status))
        )
    ).all()
    by_status = {status: int(count) for status, count in rows}

    def total(statuses: tuple[ProposalStatus, ...]) -> int:
        return sum(by_status.get(status, 0) for status in statuses)

    verdicts = await _proposer_verdicts(session, session_id=session_id)
    good = {Rating.SATISFIED, Rating.BASIC}
    statuses = (
        await session.exec(
            select(Proposal.implementation, func.count())
            .where(
                Proposal.session_id == session_id,
                col(Proposal.status).in_(ANSWERED_STATUSES),
            )
            .group_by(col(Proposal.implementation))
        )
    ).all()
    by_implementation = {status: int(count) for status, count in statuses}
    known = {value.value for value in Implementation}
    return Figures(
        collected=total(_SUBMITTED_OR_LATER) + by_status.get(ProposalStatus.MERGED, 0),
        submitted=total(_SUBMITTED_OR_LATER),
        filed=total(_FILED_OR_LATER),
        answered=total(ANSWERED_STATUSES),
        closed=by_status.get(ProposalStatus.CLOSED, 0),
        satisfied=sum(1 for rating, _status in verdicts.values() if rating in good),
        rated=len(verdicts),
        done=by_implementation.get(Implementation.DONE, 0),
        doing=by_implementation.get(Implementation.DOING, 0),
        planned=by_implementation.get(Implementation.PLANNED, 0),
        cannot=by_implementation.get(Implementation.CANNOT, 0),
        unknown=sum(count for status, count in by_implementation.items() if status not in known),
    )


async def _proposer_verdicts(
    session: AsyncSession, *, session_id: int
) -> dict[int, tuple[str, str]]:
    """Each rated proposal's latest rating by its proposer, with the proposal's status."""
    rows = (
        await session.exec(
            select(ProposalRating, Proposal.status)
            .join(Proposal, col(Proposal.id) == ProposalRating.proposal_id)
            .where(
                Proposal.session_id == session_id,
                col(ProposalRating.member_id) == col(Proposal.proposer_member_id),
            )
            .order_by(col(ProposalRating.round))
        )
    ).all()
    return {rating.proposal_id: (rating.rating, status) for rating, status in rows}
