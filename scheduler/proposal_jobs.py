"""The proposals' daily job: windows that closed or opened, and answers past their deadline.

Everything goes through the outbox under a key per organization and day, so a second run on the
same day (a restart, a misfire catch-up) sends nothing twice.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime

from bot.i18n import Translator
from models.base import utcnow
from models.members import Member, MemberStatus
from models.members_queries import members_by_id
from models.organizations import get_organization
from models.outbox import BroadcastKind, OutboxNeed, Recipient, enqueue
from models.proposal_text import label
from models.proposals import (
    Proposal,
    ProposalStatus,
    current_session,
    lead_department,
    next_session,
    overdue,
    return_unfinished,
    start_waiting_drafts,
)
from scheduler.jobs import FixedJob
from scheduler.runtime import Runtime

logger = logging.getLogger(__name__)

PROPOSAL_JOB = "proposals:daily"
REMIND_EVERY_DAYS = 7  # a handler is reminded the day after the deadline, then weekly


async def run_proposal_day(runtime: Runtime) -> None:
    """The daily job."""
    await proposal_day(runtime, today=datetime.now(runtime.settings.zone).date())


async def proposal_day(runtime: Runtime, *, today: date) -> int:
    """Return unfinished proposals of closed windows to draft, start waiting drafts in an open
    window, remind handlers of overdue answers and list them for the committee. Returns how
    many messages were queued."""
    personal: dict[int, list[tuple[str, dict[str, object], Proposal]]] = defaultdict(list)
    committee: list[tuple[str, dict[str, object], Proposal]] = []
    async with runtime.db() as session:
        for proposal in await return_unfinished(session, org_id=runtime.org_id, today=today):
            upcoming = await next_session(session, org_id=runtime.org_id, today=today)
            when = upcoming.opens_on.isoformat() if upcoming else "-"
            personal[proposal.proposer_member_id].append(
                ("proposal.told_back_to_draft", {"opens": when}, proposal)
            )
        congress = await current_session(session, org_id=runtime.org_id, today=today)
        if congress is not None:
            for proposal in await start_waiting_drafts(
                session, org_id=runtime.org_id, congress=congress
            ):
                if proposal.status == ProposalStatus.SUBMITTED:
                    committee.append(("proposal.desk_auto_submitted", {}, proposal))
                    personal[proposal.proposer_member_id].append(
                        ("proposal.told_submitted", {}, proposal)
                    )
                else:
                    personal[proposal.proposer_member_id].append(
                        (
                            "proposal.told_window_opened_daily",
                            {"session": congress.name, "count": congress.min_cosigners},
                            proposal,
                        )
                    )
        late = await overdue(session, org_id=runtime.org_id, today=today)
        for proposal in late:
            days_over = (today - proposal.reply_due).days if proposal.reply_due else 0
            lead = await lead_department(session, proposal_id=proposal.id or 0)
            params: dict[str, object] = {
                "due": proposal.reply_due.isoformat() if proposal.reply_due else "-",
                "days": days_over,
                "department": lead.name if lead else "-",
            }
            committee.append(("proposal.digest_line", params, proposal))
            handler = lead.handler_member_id if lead is not None else None
            if handler is not None and days_over % REMIND_EVERY_DAYS == 1:
                personal[handler].append(("proposal.overdue_reminder", params, proposal))
        members = await members_by_id(session, list(personal))
        org = await get_organization(session, runtime.org_id)
    queued = await _queue_personal(runtime, today, personal, members)
    queued += await _queue_committee(runtime, today, committee, org.committee_chat_id, late)
    if queued:
        runtime.sender.wake()
    return queued


def _render(tr: Translator, lines: Sequence[tuple[str, dict[str, object], Proposal]]) -> str:
    return "\n\n".join(tr(key, label=label(tr, p), **params) for key, params, p in lines)


async def _queue_personal(
    runtime: Runtime,
    today: date,
    personal: dict[int, list[tuple[str, dict[str, object], Proposal]]],
    members: dict[int, Member],
) -> int:
    recipients = []
    for member_id, lines in personal.items():
        member = members.get(member_id)
        if member is None or member.telegram_user_id is None:
            continue
        if member.status != MemberStatus.ACTIVE:
            continue
        tr = runtime.i18n.get(member.language)
        recipients.append(Recipient(member.telegram_user_id, _render(tr, lines), member.id))
    if not recipients:
        return 0
    async with runtime.db() as session:
        broadcast = await enqueue(
            session,
            org_id=runtime.org_id,
            key=f"proposals:{runtime.org_id}:{today.isoformat()}:members",
            kind=BroadcastKind.ANNOUNCEMENT,
            recipients=recipients,
            not_before=utcnow(),
            quiet=True,
        )
    return len(recipients) if broadcast is not None else 0


async def _queue_committee(
    runtime: Runtime,
    today: date,
    lines: list[tuple[str, dict[str, object], Proposal]],
    chat_id: int | None,
    late: Sequence[Proposal],
) -> int:
    if not lines or chat_id is None:
        return 0
    tr = runtime.i18n.get(runtime.settings.default_language)
    notes = [line for line in lines if line[0] != "proposal.digest_line"]
    digest = [line for line in lines if line[0] == "proposal.digest_line"]
    parts = [_render(tr, notes)] if notes else []
    if digest:
        parts.append(tr("proposal.digest_title", count=len(late)) + "\n\n" + _render(tr, digest))
    text = "\n\n".join(parts)
    async with runtime.db() as session:
        broadcast = await enqueue(
            session,
            org_id=runtime.org_id,
            key=f"proposals:{runtime.org_id}:{today.isoformat()}:committee",
            kind=BroadcastKind.TASK,
            recipients=[Recipient(chat_id, text[:4000], needs=OutboxNeed.COMMITTEE_CHAT)],
            not_before=utcnow(),
            quiet=False,
        )
    logger.info("Proposal day %s: %s overdue", today, len(late))
    return 1 if broadcast is not None else 0


PROPOSAL_DAY = FixedJob(PROPOSAL_JOB, run_proposal_day, {"hour": 8, "minute": 5}, 12 * 3600)
