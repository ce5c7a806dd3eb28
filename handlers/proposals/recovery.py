"""After a restart: proposals submitted but never put on the desk get their card, and their
proposer is told it was received."""

from __future__ import annotations

from bot.context import UnionContext
from handlers.proposals.desk import KIND, announce
from handlers.review_desk import put_missing_cards as put_late
from models.proposal_text import label
from models.proposals import Proposal, ProposalStatus


async def put_missing_cards(context: UnionContext) -> int:
    """Card every submitted proposal that has none, and tell its proposer."""

    async def card(proposal: Proposal) -> None:
        await announce(context, proposal)

    async def tell(proposal: Proposal) -> None:
        await context.notifier.tell(
            [proposal.proposer_member_id],
            lambda tr: tr("proposal.receipt_submitted", label=label(tr, proposal)),
        )

    return await put_late(
        context,
        table=Proposal,
        kind=KIND,
        statuses=[ProposalStatus.SUBMITTED],
        announce=card,
        tell=tell,
    )
