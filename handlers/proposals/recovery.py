"""After a restart: proposals submitted but never put on the desk get their card, and their
proposer is told it was received."""

from __future__ import annotations

from bot.context import UnionContext
from handlers.proposals.desk import KIND, announce
from handlers.review_desk import put_on_desk_late
from models.desk import uncarded
from models.proposal_text import label
from models.proposals import Proposal, ProposalStatus


async def put_missing_cards(context: UnionContext) -> int:
    """Card every submitted proposal that has none, and tell its proposer."""
    async with context.db() as session:
        proposals = await uncarded(
            session,
            table=Proposal,
            kind=KIND,
            org_id=context.org_id,
            statuses=[ProposalStatus.SUBMITTED],
        )
    done = 0
    for proposal in proposals:

        async def card(proposal: Proposal = proposal) -> None:
            await announce(context, proposal)

        async def tell(proposal: Proposal = proposal) -> None:
            await context.notifier.tell(
                [proposal.proposer_member_id],
                lambda tr: tr("proposal.receipt_submitted", label=label(tr, proposal)),
            )

        if await put_on_desk_late(
            context, kind=KIND, item_id=proposal.id or 0, announce=card, tell=tell
        ):
            done += 1
    return done
