"""Join requests (入会申请) on the review desk: the card, Approve / Reject, the outcome."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CommandHandler, filters

from bot.buttons import ButtonHandler
from bot.context import UnionContext
from handlers.common import keyboard, profile_lines, refuse, require_committee, say
from handlers.members.buttons import JoinDecision
from handlers.review_desk import committee_press, post_card, post_under_cards, refresh_cards
from models.errors import DomainError
from models.members import (
    JoinRequest,
    JoinStatus,
    Member,
    decide_join_request,
    get_join_request,
    get_member,
    numbered_name,
    profile_of,
)
from models.members_queries import pending_join_requests

logger = logging.getLogger(__name__)

KIND = "join"  # the kind of desk card (models.desk)


def _local(context: UnionContext, moment: datetime | None) -> str:
    return moment.astimezone(context.settings.zone).strftime("%Y-%m-%d %H:%M") if moment else ""


def render_card(
    context: UnionContext, request: JoinRequest, member: Member, decider: Member | None
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The desk card text and buttons for a join request in its current state."""
    tr = context.i18n.get(context.settings.default_language)
    shown = replace(profile_of(member), real_name=numbered_name(member))  # 王芳（#12）
    lines = [tr("join.card_title", id=request.id), *profile_lines(tr, shown)]
    if request.status == JoinStatus.PENDING:
        assert request.id is not None
        markup = keyboard(
            [
                (tr("join.approve"), JoinDecision("approve", request.id)),
                (tr("join.reject"), JoinDecision("reject", request.id)),
            ]
        )
        return "\n".join([*lines, tr("join.card_pending")]), markup
    key = "join.card_approved" if request.status == JoinStatus.APPROVED else "join.card_rejected"
    who = numbered_name(decider) if decider else "?"
    lines.append(tr(key, who=who, when=_local(context, request.decided_at)))
    return "\n".join(lines), None


async def announce_join_request(
    context: UnionContext,
    request: JoinRequest,
    member: Member,
    *,
    chats: Sequence[int] | None = None,
) -> None:
    """Put a new join request on the review desk (`chats`: the desk's, if read already)."""
    assert request.id is not None
    text, markup = render_card(context, request, member, None)
    await post_card(context, kind=KIND, item_id=request.id, text=text, markup=markup, chats=chats)


async def decide_join(update: Update, context: UnionContext) -> None:
    """Approve or Reject pressed on a join card."""
    pressed = await committee_press(update, context)
    if pressed is None:
        return
    actor = pressed
    button = context.button_as(JoinDecision)
    request_id = button.request_id
    approve = button.action == "approve"
    try:
        async with context.db() as session:
            request, member = await decide_join_request(
                session,
                org_id=context.org_id,
                request_id=request_id,
                decider=actor,
                approve=approve,
            )
    except DomainError as error:
        await refuse(update, context, error)
        await _refresh(context, request_id)
        return
    toast = "join.approved_toast" if approve else "join.rejected_toast"
    await context.answer(update, context.t(toast, name=member.real_name))
    logger.info("Join request %s decided by member %s: %s", request_id, actor.id, button.action)
    text, markup = render_card(context, request, member, actor.member)
    await refresh_cards(context, kind=KIND, item_id=request_id, text=text, markup=markup)
    if not await _tell_applicant(context, member, approve):
        # The presser's toast is gone already: a note under the card tells the whole committee.
        tr = context.i18n.get(context.settings.default_language)
        await post_under_cards(
            context, kind=KIND, item_id=request_id, text=tr("join.desk_undelivered", id=request_id)
        )


async def _refresh(context: UnionContext, request_id: int) -> None:
    async with context.db() as session:
        try:
            request = await get_join_request(session, org_id=context.org_id, request_id=request_id)
        except DomainError:
            return
        member = await get_member(session, org_id=context.org_id, member_id=request.member_id)
        decider = (
            await session.get(Member, request.decided_by_member_id)
            if request.decided_by_member_id
            else None
        )
    text, markup = render_card(context, request, member, decider)
    await refresh_cards(context, kind=KIND, item_id=request_id, text=text, markup=markup)


async def _tell_applicant(context: UnionContext, member: Member, approved: bool) -> bool:
    """Tell the applicant the outcome; returns whether Telegram accepted the message."""
    if member.telegram_user_id is None:
        return False
    tr = context.i18n.get(member.language)
    key = "join.you_are_approved" if approved else "join.you_are_rejected"
    return await context.notifier.tell_chat(
        member.telegram_user_id, tr(key, name=member.real_name), who=f"member {member.id}"
    )


async def list_join_requests(update: Update, context: UnionContext) -> None:
    """/joins: the open join requests, each as a card with its buttons (committee only)."""
    if await require_committee(update, context) is None:
        return
    async with context.state.single_statement() as session:
        pending = await pending_join_requests(session, org_id=context.org_id)
    if update.callback_query is not None:
        await context.answer(update)
    if not pending:
        await say(update, context, context.t("join.none_pending"))
        return
    for request, member in pending:
        text, markup = render_card(context, request, member, None)
        await say(update, context, text, markup)


def register(application: Application) -> None:
    """Add the join-request handlers."""
    application.add_handler(ButtonHandler(JoinDecision, decide_join))
    application.add_handler(
        CommandHandler("joins", list_join_requests, filters=filters.ChatType.PRIVATE)
    )
