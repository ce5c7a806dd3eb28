"""Read-only questions about proposals: lists, a member's own, similar ones, handling details."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.errors import N_, DomainError
from models.proposals import (
    CongressSession,
    Department,
    Proposal,
    ProposalAnswer,
    ProposalAssignment,
    ProposalRating,
    ProposalSigner,
    ProposalStatus,
)

# Still open to a co-signature or a decision: what a new proposal may duplicate.
LIVE = (
    ProposalStatus.COSIGNING,
    ProposalStatus.SUBMITTED,
    ProposalStatus.FILED,
    ProposalStatus.ASSIGNED,
    ProposalStatus.ANSWERED,
)
SIMILARITY_THRESHOLD = 0.3
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[^\W_]+")


def _shingles(text: str) -> set[str]:
    """Character bigrams of the Han text (Chinese has no spaces) plus lower-cased words."""
    han = "".join(_HAN.findall(text))
    grams = {han[i : i + 2] for i in range(len(han) - 1)}
    if len(han) == 1:
        grams.add(han)
    grams.update(word.lower() for word in _WORD.findall(_HAN.sub(" ", text)) if len(word) > 1)
    return grams


def similarity(first: str, second: str) -> float:
    """Overlap of two texts between 0 and 1 (Dice coefficient of their shingles)."""
    a, b = _shingles(first), _shingles(second)
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


async def similar_proposals(
    session: AsyncSession, *, session_id: int, text: str, limit: int = 3
) -> list[Proposal]:
    """Live proposals of the session whose title looks like `text`, most similar first."""
    candidates = (
        await session.exec(
            select(Proposal).where(
                Proposal.session_id == session_id, col(Proposal.status).in_(LIVE)
            )
        )
    ).all()
    scored = [(similarity(text, candidate.title), candidate) for candidate in candidates]
    scored = [pair for pair in scored if pair[0] >= SIMILARITY_THRESHOLD]
    scored.sort(key=lambda pair: (-pair[0], pair[1].id or 0))
    return [candidate for _score, candidate in scored[:limit]]


async def list_sessions(session: AsyncSession, *, org_id: int) -> Sequence[CongressSession]:
    """Every congress session of the organization, newest window first."""
    return (
        await session.exec(
            select(CongressSession)
            .where(CongressSession.organization_id == org_id)
            .order_by(col(CongressSession.opens_on).desc())
        )
    ).all()


async def get_session(session: AsyncSession, *, org_id: int, session_id: int) -> CongressSession:
    """A congress session of this organization."""
    congress = await session.get(CongressSession, session_id)
    if congress is None or congress.organization_id != org_id:
        raise DomainError(N_("congress.unknown"))
    return congress


async def proposals_of_session(session: AsyncSession, *, session_id: int) -> Sequence[Proposal]:
    """A session's proposals: numbered ones by number, then the rest by id."""
    return (
        await session.exec(
            select(Proposal)
            .where(Proposal.session_id == session_id)
            .order_by(col(Proposal.number).is_(None), col(Proposal.number), col(Proposal.id))
        )
    ).all()


async def find_by_number(session: AsyncSession, *, session_id: int, number: int) -> Proposal:
    """提案第N号 of a session."""
    proposal = (
        await session.exec(
            select(Proposal).where(Proposal.session_id == session_id, Proposal.number == number)
        )
    ).first()
    if proposal is None:
        raise DomainError(N_("proposal.not_found"))
    return proposal


@dataclass(frozen=True)
class MemberProposal:
    """A proposal as one member relates to it."""

    proposal: Proposal
    own: bool  # proposer; otherwise co-signer or co-author


async def proposals_of_member(
    session: AsyncSession, *, org_id: int, member_id: int
) -> list[MemberProposal]:
    """The member's own proposals and the ones they co-signed, newest first."""
    signed = select(ProposalSigner.proposal_id).where(ProposalSigner.member_id == member_id)
    rows = (
        await session.exec(
            select(Proposal)
            .where(
                Proposal.organization_id == org_id,
                or_(Proposal.proposer_member_id == member_id, col(Proposal.id).in_(signed)),
            )
            .order_by(col(Proposal.created_at).desc(), col(Proposal.id).desc())
        )
    ).all()
    return [MemberProposal(row, row.proposer_member_id == member_id) for row in rows]


async def departments_of(session: AsyncSession, *, org_id: int) -> Sequence[Department]:
    """The handling departments the committee keeps, by name."""
    return (
        await session.exec(
            select(Department)
            .where(Department.organization_id == org_id)
            .order_by(col(Department.name))
        )
    ).all()


async def assignments_of(
    session: AsyncSession, *, proposal_id: int
) -> list[tuple[Department, bool]]:
    """Departments handling a proposal, the lead first: (department, is_lead)."""
    rows = (
        await session.exec(
            select(Department, ProposalAssignment.lead)
            .join(ProposalAssignment, col(ProposalAssignment.department_id) == Department.id)
            .where(ProposalAssignment.proposal_id == proposal_id)
            .order_by(col(ProposalAssignment.lead).desc(), col(Department.name))
        )
    ).all()
    return [(department, bool(lead)) for department, lead in rows]


async def latest_answer(session: AsyncSession, *, proposal_id: int) -> ProposalAnswer | None:
    """The last answer given."""
    return (
        await session.exec(
            select(ProposalAnswer)
            .where(ProposalAnswer.proposal_id == proposal_id)
            .order_by(col(ProposalAnswer.round).desc(), col(ProposalAnswer.id).desc())
        )
    ).first()


async def ratings_of(session: AsyncSession, *, proposal_id: int) -> Sequence[ProposalRating]:
    """Every verdict on every round, in order."""
    return (
        await session.exec(
            select(ProposalRating)
            .where(ProposalRating.proposal_id == proposal_id)
            .order_by(col(ProposalRating.round), col(ProposalRating.created_at))
        )
    ).all()


async def handled_by(session: AsyncSession, *, org_id: int, member_id: int) -> Sequence[Department]:
    """The departments this member answers for."""
    return (
        await session.exec(
            select(Department).where(
                Department.organization_id == org_id, Department.handler_member_id == member_id
            )
        )
    ).all()


@dataclass(frozen=True)
class HandlingRow:
    """A numbered proposal with what the handling-results list and the export show."""

    proposal: Proposal
    lead: str | None  # the lead department (主办), None before assignment
    co: tuple[str, ...]  # co-handling departments (协办)
    verdict: str | None  # the proposer's latest rating


async def handling_rows(session: AsyncSession, *, session_id: int) -> list[HandlingRow]:
    """Every numbered proposal of a session by number, with its departments and verdict."""
    proposals = [
        proposal
        for proposal in await proposals_of_session(session, session_id=session_id)
        if proposal.number is not None
    ]
    ids = [proposal.id for proposal in proposals]
    departments = (
        await session.exec(
            select(ProposalAssignment.proposal_id, ProposalAssignment.lead, Department.name)
            .join(Department, col(Department.id) == ProposalAssignment.department_id)
            .where(col(ProposalAssignment.proposal_id).in_(ids))
            .order_by(col(Department.name))
        )
    ).all()
    ratings = (
        await session.exec(
            select(ProposalRating)
            .join(Proposal, col(Proposal.id) == ProposalRating.proposal_id)
            .where(
                col(ProposalRating.proposal_id).in_(ids),
                col(ProposalRating.member_id) == col(Proposal.proposer_member_id),
            )
            .order_by(col(ProposalRating.round))
        )
    ).all()
    verdicts = {rating.proposal_id: rating.rating for rating in ratings}
    rows = []
    for proposal in proposals:
        mine = [(lead, name) for pid, lead, name in departments if pid == proposal.id]
        rows.append(
            HandlingRow(
                proposal=proposal,
                lead=next((name for lead, name in mine if lead), None),
                co=tuple(name for lead, name in mine if not lead),
                verdict=verdicts.get(proposal.id or 0),
            )
        )
    return rows
