"""The committee's /ballots (open, scheduled, and closed or cancelled this year, with turnout
counts only: never an interim result), ❌ 取消投票 (asked once, guarded in the database; the
papers cast are deleted and the invited voters told), and a member's /mine section 您的投票
(the ballots they can vote in now, voted or not: never what they chose)."""

from __future__ import annotations

import logging
from datetime import datetime

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CommandHandler, filters

from bot.buttons import ButtonHandler
from bot.context import UnionContext
from bot.features import Section
from handlers.ballots.buttons import BallotCancel, BallotGo
from handlers.common import ButtonRow, keyboard, require_committee, say
from models.ballot_text import local_time
from models.ballots import (
    Ballot,
    BallotStatus,
    ListedBallot,
    cancel_ballot,
    committee_list,
    elector_ids,
    get_ballot,
    member_ballots,
)
from models.base import utcnow
from models.errors import DomainError
from models.members import Actor
from models.members_queries import members_by_id
from models.outbox import BroadcastKind, Recipient, reached_members, withhold_pending

logger = logging.getLogger(__name__)

_SECTIONS = (
    (BallotStatus.OPEN, "ballot.list_open"),
    (BallotStatus.SCHEDULED, "ballot.list_scheduled"),
    (BallotStatus.CLOSED, "ballot.list_closed"),
    (BallotStatus.CANCELLED, "ballot.list_cancelled"),
)


def _year_start(context: UnionContext) -> datetime:
    now = context.state.clock().astimezone(context.settings.zone)
    return now.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)


def _line(context: UnionContext, listed: ListedBallot) -> str:
    ballot = listed.ballot
    zone = context.settings.zone
    kind = context.t(f"ballot.kind.{ballot.kind}")
    head = f"• {ballot.title}（{kind}）"
    if ballot.status == BallotStatus.SCHEDULED:
        return (
            head
            + "\n  "
            + context.t(
                "ballot.list_when_scheduled",
                opens=local_time(ballot.opens_at, zone),
                closes=local_time(ballot.closes_at, zone),
            )
        )
    return (
        head
        + "\n  "
        + context.t(
            "ballot.list_turnout",
            voted=listed.voted,
            electorate=ballot.electorate_size,
            closes=local_time(ballot.closes_at, zone),
        )
    )


async def show_ballots(update: Update, context: UnionContext) -> None:
    """/ballots (committee): the list, with ❌ 取消投票 under each open or scheduled ballot."""
    actor = await require_committee(update, context)
    if actor is None:
        return
    async with context.db() as session:
        listed = await committee_list(
            session, org_id=context.org_id, year_start=_year_start(context)
        )
    if not listed:
        await say(update, context, context.t("ballot.list_empty"))
        return
    blocks = [context.t("ballot.list_title")]
    rows: list[ButtonRow] = []
    for status, key in _SECTIONS:
        mine = [item for item in listed if item.ballot.status == status]
        if not mine:
            continue
        blocks.append(context.t(key, count=len(mine)))
        blocks.extend(_line(context, item) for item in mine)
        if status in (BallotStatus.OPEN, BallotStatus.SCHEDULED):
            rows += [
                [
                    (
                        context.t("ballot.btn_cancel", title=item.ballot.title[:20]),
                        BallotCancel("ask", item.ballot.id or 0),
                    )
                ]
                for item in mine
            ]
    blocks.append(context.t("ballot.list_note"))
    await say(update, context, "\n".join(blocks), keyboard(*rows) if rows else None)


async def cancel_pressed(update: Update, context: UnionContext) -> None:
    """❌ 取消投票: asked once; then cancelled (guarded), the invited voters told."""
    button = context.button_as(BallotCancel)
    actor = context.actor
    if actor is None or not actor.is_committee:
        await context.answer(update, context.t("desk.not_committee"), alert=True)
        return
    try:
        async with context.db() as session:
            ballot = await get_ballot(session, org_id=context.org_id, ballot_id=button.ballot_id)
    except DomainError as error:
        await context.answer(update, context.t(error.key, **error.params), alert=True)
        return
    if button.action == "no":
        await context.answer(update)
        await say(update, context, context.t("ballot.cancel_kept", title=ballot.title))
        return
    if button.action == "ask":
        if ballot.status not in (BallotStatus.OPEN, BallotStatus.SCHEDULED):
            await context.answer(
                update, context.t("ballot.cancel_too_late", title=ballot.title), alert=True
            )
            return
        await context.answer(update)
        await say(
            update,
            context,
            context.t("ballot.cancel_question", title=ballot.title),
            keyboard(
                [(context.t("ballot.btn_cancel_yes"), BallotCancel("yes", ballot.id or 0))],
                [(context.t("ballot.btn_cancel_no"), BallotCancel("no", ballot.id or 0))],
            ),
        )
        return
    try:
        async with context.db() as session:
            ballot, before = await cancel_ballot(
                session, org_id=context.org_id, ballot_id=button.ballot_id, actor=actor
            )
    except DomainError as error:
        await context.answer(update, context.t(error.key, **error.params), alert=True)
        return
    told = await _tell_voters(context, ballot) if before == BallotStatus.OPEN else 0
    logger.info("Ballot %s cancelled by member %s (%s told)", ballot.id, actor.id, told)
    await context.answer(update)
    await say(update, context, context.t("ballot.cancelled_done", title=ballot.title, count=told))


async def _tell_voters(context: UnionContext, ballot: Ballot) -> int:
    """Hold back invitations and reminders not sent yet; tell those who were invited."""
    bid = ballot.id or 0
    invitation = f"ballot:{bid}:open"
    async with context.db() as session:
        await withhold_pending(
            session, keys=[invitation, f"ballot:{bid}:remind:1", f"ballot:{bid}:remind:2"]
        )
        invited = set(await reached_members(session, key=invitation))
        electorate = [m for m in await elector_ids(session, ballot_id=bid) if m in invited]
        people = await members_by_id(session, electorate)
    recipients = []
    for member in people.values():
        if member.telegram_user_id is None:
            continue
        tr = context.i18n.get(member.language)
        recipients.append(
            Recipient(
                chat_id=member.telegram_user_id,
                text=tr("ballot.cancelled_told", title=ballot.title),
                member_id=member.id,
            )
        )
    if recipients:
        await context.notifier.queue(
            org_id=context.org_id,
            key=f"ballot:{bid}:cancel",
            kind=BroadcastKind.ANNOUNCEMENT,
            recipients=recipients,
            quiet=False,
        )
    return len(recipients)


async def mine_section(context: UnionContext, actor: Actor) -> Section | None:
    """您的投票: the ballots open to this member now, voted or not (never what)."""
    async with context.db() as session:
        ballots = await member_ballots(
            session, org_id=context.org_id, member_id=actor.id, now=utcnow()
        )
    if not ballots:
        return None
    zone = context.settings.zone
    lines = [context.t("ballot.mine_title")]
    rows: list[ButtonRow] = []
    for ballot, voted in ballots:
        state = context.t("ballot.mine_voted" if voted else "ballot.mine_not_voted")
        when = context.t("ballot.closes_at", when=local_time(ballot.closes_at, zone))
        lines.append(f"• {ballot.title} · {state} · {when}")
        if not voted:
            rows.append(
                [(context.t("ballot.mine_vote", title=ballot.title[:20]), BallotGo(ballot.id or 0))]
            )
    markup: InlineKeyboardMarkup | None = keyboard(*rows) if rows else None
    return "\n".join(lines), markup


def register(application: Application) -> None:
    """/ballots and ❌ 取消投票."""
    application.add_handler(
        CommandHandler("ballots", show_ballots, filters=filters.ChatType.PRIVATE)
    )
    application.add_handler(ButtonHandler(BallotCancel, cancel_pressed))
