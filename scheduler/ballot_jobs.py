"""The ballots' job every minute: open ballots whose time came (the electorate is fixed and each
voter gets the ballot in their language through the outbox), remind those who have not voted
(half-way, and BALLOT_LAST_CALL_HOURS before the close; the committee hears only how many),
and close ballots whose time is up (every paper sealed, the results to the committee group).

Every message goes through the outbox under a key per ballot and step, so a rerun sends
nothing twice; each step is claimed by a guarded UPDATE.
"""

from __future__ import annotations

import logging
from datetime import datetime

from models.ballot_text import chunks, invitation, results_text
from models.ballots import (
    Ballot,
    Tally,
    claim_reminder,
    close_ballot,
    due_to_close,
    due_to_open,
    mark_reported,
    non_voters,
    open_ballot,
    open_ballots,
    seal_papers,
    tally,
    unreported,
)
from models.base import utcnow
from models.members import Member
from models.members_queries import members_by_id
from models.organizations import get_organization
from models.outbox import BroadcastKind, OutboxNeed, Recipient, enqueue
from scheduler.jobs import FixedJob
from scheduler.runtime import Runtime

logger = logging.getLogger(__name__)

BALLOT_JOB = "ballots:tick"


def vote_button(ballot_id: int) -> str:
    """The callback data of 开始投票 (handlers.ballots.buttons.BallotGo)."""
    return f"blv:{ballot_id}"


def results_button(action: str, ballot_id: int) -> str:
    """The callback data of the result buttons (handlers.ballots.buttons.BallotResults)."""
    return f"blr:{action}:{ballot_id}"


async def run_ballot_tick(runtime: Runtime) -> None:
    """The periodic job."""
    await ballot_tick(runtime, now=utcnow())


async def ballot_tick(runtime: Runtime, *, now: datetime) -> int:
    """Open, remind and close; returns how many broadcasts were queued."""
    queued = 0
    async with runtime.db() as session:
        opening = await due_to_open(session, org_id=runtime.org_id, now=now)
        closing = await due_to_close(session, org_id=runtime.org_id, now=now)
    for ballot_id in opening:
        queued += await open_and_invite(runtime, ballot_id, now=now)
    for ballot_id in closing:
        async with runtime.db() as session:
            await close_ballot(session, ballot_id=ballot_id, now=now)
    async with runtime.db() as session:
        to_report = await unreported(session, org_id=runtime.org_id)
    for ballot_id in to_report:
        queued += await report_results(runtime, ballot_id)
    async with runtime.db() as session:
        running = await open_ballots(session, org_id=runtime.org_id)
    for ballot in running:
        queued += await _maybe_remind(runtime, ballot, now)
    if queued:
        runtime.sender.wake()
    return queued


async def open_and_invite(runtime: Runtime, ballot_id: int, *, now: datetime) -> int:
    """Open one ballot (once) and queue each voter's invitation; returns 1 if queued."""
    async with runtime.db() as session:
        electors = await open_ballot(
            session, ballot_id=ballot_id, now=now, min_group=runtime.settings.ballot_min_group
        )
        ballot = await session.get(Ballot, ballot_id)
    if electors is None or ballot is None:
        return 0
    logger.info("Ballot %s opened for %s electors", ballot_id, len(electors))
    zone = runtime.settings.zone
    recipients = []
    for member in electors:
        if member.telegram_user_id is None:
            continue
        tr = runtime.i18n.get(member.language)
        recipients.append(
            Recipient(
                chat_id=member.telegram_user_id,
                text=invitation(tr, ballot, zone),
                member_id=member.id,
                buttons=(((tr("ballot.start_voting"), vote_button(ballot_id)),),),
            )
        )
    return await _queue(runtime, f"ballot:{ballot_id}:open", recipients, quiet=True)


async def _maybe_remind(runtime: Runtime, ballot: Ballot, now: datetime) -> int:
    last_call = ballot.closes_at.timestamp() - runtime.settings.ballot_last_call_hours * 3600
    half_way = (ballot.opens_at.timestamp() + ballot.closes_at.timestamp()) / 2
    stage = 0
    if now.timestamp() >= last_call:
        stage = 2
    elif now.timestamp() >= half_way:
        stage = 1
    if stage == 0 or ballot.reminders_sent >= stage or now >= ballot.closes_at:
        return 0
    async with runtime.db() as session:
        if not await claim_reminder(session, ballot_id=ballot.id or 0, stage=stage):
            return 0
        people = await members_by_id(
            session, list(await non_voters(session, ballot_id=ballot.id or 0))
        )
        org = await get_organization(session, runtime.org_id)
    key = "ballot.last_call" if stage == 2 else "ballot.reminder"
    recipients = [
        Recipient(
            chat_id=member.telegram_user_id,
            text=_reminder(runtime, member, ballot, key),
            member_id=member.id,
            buttons=(
                (
                    (
                        runtime.i18n.get(member.language)("ballot.start_voting"),
                        vote_button(ballot.id or 0),
                    ),
                ),
            ),
        )
        for member in people.values()
        if member.telegram_user_id is not None
    ]
    queued = await _queue(
        runtime, f"ballot:{ballot.id}:remind:{stage}", recipients, quiet=stage == 1
    )
    if org.committee_chat_id is not None:
        tr = runtime.i18n.get(runtime.settings.default_language)
        text = tr("ballot.reminded_count", title=ballot.title, count=len(recipients))
        queued += await _queue(
            runtime,
            f"ballot:{ballot.id}:remind:{stage}:committee",
            [Recipient(chat_id=org.committee_chat_id, text=text, needs=OutboxNeed.COMMITTEE_CHAT)],
            quiet=False,
            kind=BroadcastKind.REPORT,
        )
    return queued


def _reminder(runtime: Runtime, member: Member, ballot: Ballot, key: str) -> str:
    tr = runtime.i18n.get(member.language)
    when = ballot.closes_at.astimezone(runtime.settings.zone).strftime("%Y-%m-%d %H:%M")
    return tr(key, title=ballot.title, when=when)


async def report_results(runtime: Runtime, ballot_id: int) -> int:
    """A closed ballot: every paper written again in one shuffled batch, counted, and the
    results queued for the committee group; marked reported after (a stop in between is
    finished at the next run, and the outbox keys send nothing twice)."""
    async with runtime.db() as session:
        await seal_papers(session, ballot_id=ballot_id, at_least=1, everything=True)
        counted = await tally(
            session, ballot_id=ballot_id, min_group=runtime.settings.ballot_min_group
        )
        org = await get_organization(session, runtime.org_id)
    logger.info("Ballot %s closed: %s papers", ballot_id, counted.voted)
    queued = await _queue_results(runtime, ballot_id, counted, org.committee_chat_id)
    async with runtime.db() as session:
        await mark_reported(session, ballot_id=ballot_id)
    return queued


async def _queue_results(
    runtime: Runtime, ballot_id: int, counted: Tally, chat_id: int | None
) -> int:
    if chat_id is None:
        return 0
    tr = runtime.i18n.get(runtime.settings.default_language)
    text = results_text(tr, counted, runtime.settings.zone)
    buttons = (
        (
            (tr("ballot.button_chart"), results_button("png", ballot_id)),
            (tr("ballot.button_xlsx"), results_button("xlsx", ballot_id)),
        ),
        ((tr("ballot.button_publish"), results_button("pub", ballot_id)),),
    )
    queued = 0
    for number, part in enumerate(chunks(text), start=1):
        key = f"ballot:{ballot_id}:results" + (f":{number}" if number > 1 else "")
        queued += await _queue(
            runtime,
            key,
            [
                Recipient(
                    chat_id=chat_id,
                    text=part,
                    buttons=buttons if number == 1 else (),
                    needs=OutboxNeed.COMMITTEE_CHAT,
                )
            ],
            quiet=False,
            kind=BroadcastKind.REPORT,
        )
    return queued


async def _queue(
    runtime: Runtime,
    key: str,
    recipients: list[Recipient],
    *,
    quiet: bool,
    kind: BroadcastKind = BroadcastKind.ANNOUNCEMENT,
) -> int:
    if not recipients:
        return 0
    not_before = runtime.quiet.next_allowed(utcnow()) if quiet else utcnow()
    async with runtime.db() as session:
        broadcast = await enqueue(
            session,
            org_id=runtime.org_id,
            key=key,
            kind=kind,
            recipients=recipients,
            not_before=not_before,
            quiet=quiet,
        )
    return 1 if broadcast is not None else 0


BALLOT_TICK = FixedJob(BALLOT_JOB, run_ballot_tick, {"minute": "*"}, 3600)
