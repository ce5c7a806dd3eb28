"""Proposal steps that need typed text after a button: the reason for 不立案, the committee's
closing note, the department's answer (答复) with its 落实情况 (chosen with buttons first; the
reason of 暂不能落实 typed before the answer), a later change of 落实情况 by the committee, and
the comment with a 不满意 rating; plus the rating buttons themselves.

The button may be pressed in the committee group but the text is typed in the presser's private
chat, so this conversation is keyed per user, not per chat (like the suggestion reply).
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    BaseHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.buttons import ButtonHandler
from bot.context import UnionContext
from bot.forms import Form
from bot.i18n import Translator
from handlers.common import (
    TYPED_TEXT,
    expect_text,
    is_private,
    keyboard,
    private_text_conversation,
    refuse,
    say,
)
from handlers.proposals.buttons import (
    ImplementationPick,
    ProposalDesk,
    ProposalRating,
    Verdict,
)
from handlers.proposals.desk import (
    KIND,
    authors,
    committee_tr,
    everyone_but_authors,
    everyone_on,
    quiet_refresh,
    refresh,
    tell_everyone,
    tell_handlers,
    today,
)
from handlers.review_desk import post_under_cards
from models.errors import DomainError, InputError
from models.members import Actor
from models.proposal_queries import assignments_of
from models.proposal_text import implementation_name, implementation_words, label
from models.proposals import (
    IMPLEMENTATION_UPDATABLE,
    Implementation,
    Proposal,
    ProposalStatus,
    Rating,
    answer,
    close_by_committee,
    get_proposal,
    implementation_reason,
    lead_department,
    rate,
    triage,
    update_implementation,
)

logger = logging.getLogger(__name__)

_END = ConversationHandler.END
PENDING = "pd_text"
CHOOSING = 3  # 落实情况 asked with buttons (before the answer, or for a later change)
# Which statuses each typed step starts from (a stale button is refused before typing).
_STARTS_FROM = {
    "nofile": (ProposalStatus.SUBMITTED,),
    "close": (ProposalStatus.ASSIGNED, ProposalStatus.ANSWERED),
    "ans": (ProposalStatus.ASSIGNED,),
    "impl": IMPLEMENTATION_UPDATABLE,
}
# The steps that ask 落实情况 first.
_WITH_STATUS = ("ans", "impl")
_PROMPTS = {
    "nofile": "proposal.write_not_filed_reason",
    "close": "proposal.write_closing_note",
    "ans": "proposal.write_answer",
}
_PURPOSES = {
    "nofile": "purpose.proposal_not_filed",
    "close": "purpose.proposal_closing",
    "ans": "purpose.proposal_answer",
}
_RATINGS: dict[Verdict, Rating] = {
    "s": Rating.SATISFIED,
    "b": Rating.BASIC,
    "d": Rating.DISSATISFIED,
}


def rating_buttons(tr: Translator, proposal_id: int) -> InlineKeyboardMarkup:
    """满意 / 基本满意 / 不满意 under an answer."""
    return keyboard(
        [
            (tr("proposal.rating.satisfied"), ProposalRating(proposal_id, "s")),
            (tr("proposal.rating.basic"), ProposalRating(proposal_id, "b")),
        ],
        [(tr("proposal.rating.dissatisfied"), ProposalRating(proposal_id, "d"))],
    )


async def _may_answer(context: UnionContext, actor: Actor, proposal_id: int) -> bool:
    """The committee, or the member named handler of the lead department."""
    if actor.is_committee:
        return True
    async with context.db() as session:
        lead = await lead_department(session, proposal_id=proposal_id)
    return lead is not None and lead.handler_member_id == actor.id and actor.is_active


async def start_typing(update: Update, context: UnionContext) -> int:
    """不立案 / 办结 / 答复 pressed: check, then ask for the text in the private chat."""
    query = update.callback_query
    assert query is not None and context.user_data is not None
    button = context.button_as(ProposalDesk)
    what, proposal_id = button.action, button.proposal_id
    actor = context.actor
    allowed = actor is not None and (
        actor.is_committee if what != "ans" else await _may_answer(context, actor, proposal_id)
    )
    if actor is None or not allowed:
        logger.warning(
            "Refused %s:%s press by user %s", ProposalDesk.prefix, what, query.from_user.id
        )
        key = "proposal.not_handler" if what == "ans" else "desk.not_committee"
        await context.answer(update, context.t(key), alert=True)
        return _END
    try:
        async with context.db() as session:
            proposal = await get_proposal(session, org_id=context.org_id, proposal_id=proposal_id)
    except DomainError as error:
        await refuse(update, context, error)
        return _END
    if proposal.status not in _STARTS_FROM[what]:
        await context.answer(update, context.t("proposal.already_decided"), alert=True)
        await quiet_refresh(context, proposal_id)
        return _END
    markup = None
    if what in _WITH_STATUS:
        prompt = _status_question(context.tr, proposal, what)
        markup = implementation_buttons(context.tr, proposal_id)
    else:
        purpose = context.t(_PURPOSES[what], label=label(context.tr, proposal))
        prompt = (
            expect_text(context, purpose)
            + "\n"
            + context.t(_PROMPTS[what], label=label(context.tr, proposal))
        )
    try:
        await context.bot.send_message(
            actor.member.telegram_user_id or query.from_user.id, prompt, reply_markup=markup
        )
    except Forbidden:
        await context.answer(update, context.t("suggestion.open_private_first"), alert=True)
        return _END
    context.user_data[PENDING] = {"what": what, "id": proposal_id}
    # Pressed in the group: point to the private chat; pressed there, the prompt is enough.
    await context.answer(
        update, None if is_private(update) else context.t("suggestion.reply_in_private")
    )
    return CHOOSING if what in _WITH_STATUS else TYPED_TEXT


def implementation_buttons(tr: Translator, proposal_id: int) -> InlineKeyboardMarkup:
    """已落实 / 正在落实 / 列入计划 / 因条件限制暂不能落实."""
    return keyboard(
        *(
            [(tr(f"proposal.implementation.{status}"), ImplementationPick(proposal_id, status))]
            for status in Implementation
        )
    )


def _status_question(tr: Translator, proposal: Proposal, what: str) -> str:
    if what == "ans":
        return tr("proposal.ask_implementation", label=label(tr, proposal))
    return tr(
        "proposal.ask_implementation_change",
        label=label(tr, proposal),
        status=implementation_name(tr, proposal),
    )


async def implementation_picked(update: Update, context: UnionContext) -> int:
    """落实情况 chosen: ask the reason of 暂不能落实, or the answer, or store the change."""
    assert context.user_data is not None
    button = context.button_as(ImplementationPick)
    pending = context.user_data.get(PENDING) or {}
    what = str(pending.get("what", ""))
    actor = context.actor
    if what not in _WITH_STATUS or pending.get("id") != button.proposal_id or actor is None:
        await context.answer(update, context.t("desk.stale_button"), alert=True)
        return CHOOSING
    allowed = (
        actor.is_committee
        if what == "impl"
        else await _may_answer(context, actor, button.proposal_id)
    )
    if not allowed:
        key = "proposal.not_handler" if what == "ans" else "desk.not_committee"
        await context.answer(update, context.t(key), alert=True)
        context.user_data.pop(PENDING, None)
        return _END
    await context.answer(update)
    pending["status"] = button.status.value
    tr = context.tr
    await _settle_choice(
        update,
        context,
        tr("proposal.implementation_chosen", status=tr(f"proposal.implementation.{button.status}")),
    )
    try:
        async with context.db() as session:
            proposal = await get_proposal(
                session, org_id=context.org_id, proposal_id=button.proposal_id
            )
    except DomainError as error:
        await refuse(update, context, error)
        context.user_data.pop(PENDING, None)
        return _END
    if button.status == Implementation.CANNOT:
        pending["step"] = "reason"
        purpose = context.t("purpose.proposal_cannot_reason", label=label(tr, proposal))
        await say(
            update,
            context,
            expect_text(context, purpose)
            + "\n"
            + context.t("proposal.write_cannot_reason", label=label(tr, proposal)),
        )
        return TYPED_TEXT
    if what == "ans":
        return await _ask_answer(update, context, proposal)
    done = await _change_implementation(update, context, actor, pending)
    if done:
        context.user_data.pop(PENDING, None)
        return _END
    return CHOOSING


async def _ask_answer(update: Update, context: UnionContext, proposal: Proposal) -> int:
    assert context.user_data is not None
    context.user_data[PENDING]["step"] = "text"
    purpose = context.t(_PURPOSES["ans"], label=label(context.tr, proposal))
    await say(
        update,
        context,
        expect_text(context, purpose)
        + "\n"
        + context.t(_PROMPTS["ans"], label=label(context.tr, proposal)),
    )
    return TYPED_TEXT


async def _settle_choice(update: Update, context: UnionContext, text: str) -> None:
    """The question's buttons give way to the choice made (an old button cannot be pressed)."""
    query = update.callback_query
    if query is None or query.message is None:
        return
    try:
        await context.bot.edit_message_text(
            text, chat_id=query.message.chat.id, message_id=query.message.message_id
        )
    except TelegramError:
        logger.info("The 落实情况 question %s could not be edited", query.data)


async def _change_implementation(
    update: Update, context: UnionContext, actor: Actor, pending: dict[str, Any]
) -> bool:
    """Store the committee's change of 落实情况; tell the proposer and co-signers."""
    proposal_id = int(pending.get("id", 0))
    try:
        async with context.db() as session:
            before = await get_proposal(session, org_id=context.org_id, proposal_id=proposal_id)
            # Kept as values: the change refreshes this very instance.
            was = (before.status, before.implementation, before.implementation_reason)
            proposal = await update_implementation(
                session,
                org_id=context.org_id,
                proposal_id=proposal_id,
                actor=actor,
                implementation=Implementation(pending["status"]),
                reason=pending.get("reason"),
            )
    except DomainError as error:
        await refuse(update, context, error)
        return not isinstance(error, InputError)
    logger.info("Proposal %s: implementation changed by member %s", proposal_id, actor.id)
    await say(update, context, context.t("proposal.text_stored", label=label(context.tr, proposal)))
    await refresh(context, proposal_id)
    await context.notifier.tell(
        await everyone_on(context, proposal),
        lambda tr: tr(
            "proposal.told_implementation",
            label=label(tr, proposal),
            status=implementation_name(tr, proposal),
            before=implementation_words(tr, *was),
        ),
    )
    return True


async def rate_pressed(update: Update, context: UnionContext) -> int:
    """满意 / 基本满意 recorded at once; 不满意 asks for a comment first."""
    assert context.user_data is not None
    button = context.button_as(ProposalRating)
    proposal_id, rating = button.proposal_id, _RATINGS[button.verdict]
    actor = context.actor
    if actor is None or not actor.is_active:
        await context.answer(update, context.t("member.not_registered"), alert=True)
        return _END
    if rating == Rating.DISSATISFIED:
        try:
            async with context.db() as session:
                proposal = await get_proposal(
                    session, org_id=context.org_id, proposal_id=proposal_id
                )
        except DomainError as error:
            await refuse(update, context, error)
            return _END
        if actor.id not in await authors(context, proposal):
            await context.answer(update, context.t("proposal.not_yours"), alert=True)
            return _END
        if proposal.status != ProposalStatus.ANSWERED:
            await context.answer(update, context.t("proposal.nothing_to_rate"), alert=True)
            return _END
        context.user_data[PENDING] = {"what": "rate", "id": proposal_id}
        await context.answer(update)
        purpose = context.t("purpose.proposal_dissatisfied", label=label(context.tr, proposal))
        await say(
            update,
            context,
            expect_text(context, purpose)
            + "\n"
            + context.t("proposal.write_dissatisfied", label=label(context.tr, proposal)),
        )
        return TYPED_TEXT
    await _rate(update, context, actor, proposal_id, rating, None)
    return _END


async def text_typed(update: Update, context: UnionContext, text: str) -> int:
    """The reason, note, answer or comment, typed in the private chat and checked."""
    assert context.user_data is not None
    pending = context.user_data.get(PENDING) or {}
    what, proposal_id = str(pending.get("what", "")), int(pending.get("id", 0))
    actor = context.actor
    if actor is None or what not in (*_STARTS_FROM, "rate"):
        context.user_data.pop(PENDING, None)
        await say(update, context, context.t("desk.stale_button"))
        return _END
    if what == "rate":
        done = await _rate(update, context, actor, proposal_id, Rating.DISSATISFIED, text)
    elif what in _WITH_STATUS and pending.get("step") == "reason":
        return await _reason_typed(update, context, actor, pending, text)
    else:
        done = await _committee_text(update, context, actor, what, proposal_id, text)
    if done:
        context.user_data.pop(PENDING, None)
        return _END
    return TYPED_TEXT


async def _reason_typed(
    update: Update, context: UnionContext, actor: Actor, pending: dict[str, Any], text: str
) -> int:
    """The reason of 暂不能落实 (shown back and sent): then the answer, or the change stored."""
    assert context.user_data is not None
    try:
        reason = implementation_reason(Implementation.CANNOT, text)
    except InputError as error:
        await refuse(update, context, error)
        return TYPED_TEXT
    pending["reason"] = reason
    if pending.get("what") == "impl":
        if await _change_implementation(update, context, actor, pending):
            context.user_data.pop(PENDING, None)
            return _END
        return TYPED_TEXT
    try:
        async with context.db() as session:
            proposal = await get_proposal(
                session, org_id=context.org_id, proposal_id=int(pending.get("id", 0))
            )
    except DomainError as error:
        await refuse(update, context, error)
        context.user_data.pop(PENDING, None)
        return _END
    return await _ask_answer(update, context, proposal)


async def _committee_text(
    update: Update, context: UnionContext, actor: Actor, what: str, proposal_id: int, text: str
) -> bool:
    """Store the committee's or handler's text; False lets the person type it again."""
    try:
        async with context.db() as session:
            if what == "nofile":
                proposal = await triage(
                    session,
                    org_id=context.org_id,
                    proposal_id=proposal_id,
                    actor=actor,
                    outcome=ProposalStatus.NOT_FILED,
                    reason=text,
                )
            elif what == "close":
                proposal = await close_by_committee(
                    session, org_id=context.org_id, proposal_id=proposal_id, actor=actor, note=text
                )
            else:
                pending = (context.user_data or {}).get(PENDING) or {}
                status = pending.get("status")
                proposal = await answer(
                    session,
                    org_id=context.org_id,
                    proposal_id=proposal_id,
                    actor=actor,
                    body=text,
                    implementation=Implementation(status) if status else None,
                    reason=pending.get("reason"),
                )
    except DomainError as error:
        await refuse(update, context, error)
        # Empty or too long: type again. Anything else (decided meanwhile, role gone): stop.
        return not isinstance(error, InputError)
    logger.info("Proposal %s: %s by member %s", proposal_id, what, actor.id)
    await say(update, context, context.t("proposal.text_stored", label=label(context.tr, proposal)))
    await refresh(context, proposal_id)
    if what == "nofile":
        await tell_everyone(
            context, proposal, "proposal.told_not_filed", reason=proposal.decision_reason or ""
        )
    elif what == "close":
        # The proposer, co-authors and co-signers: everyone who put their name to it.
        await context.notifier.tell(
            await everyone_on(context, proposal),
            lambda tr: tr(
                "proposal.told_closed", label=label(tr, proposal), note=proposal.closing_note or ""
            ),
        )
    else:
        await deliver_answer(context, proposal, text.strip())
    return True


async def deliver_answer(context: UnionContext, proposal: Proposal, text: str) -> None:
    """The answer goes to the proposer and co-authors with the rating buttons, and under the
    card for the committee."""
    proposal_id = proposal.id or 0

    def status(tr: Translator) -> str:
        return "\n\n" + tr(
            "proposal.answer_implementation", status=implementation_name(tr, proposal)
        )

    await context.notifier.tell(
        await authors(context, proposal),
        lambda tr: (
            tr("proposal.answer_to_author", label=label(tr, proposal), round=proposal.rounds)
            + "\n\n"
            + text
            + status(tr)
        ),
        lambda tr: rating_buttons(tr, proposal_id),
    )
    # Co-signers read the answer too; only the authors rate it.
    await context.notifier.tell(
        await everyone_but_authors(context, proposal),
        lambda tr: (
            tr("proposal.answer_to_cosigner", label=label(tr, proposal), round=proposal.rounds)
            + "\n\n"
            + text
            + status(tr)
        ),
    )
    tr = committee_tr(context)
    await post_under_cards(
        context,
        kind=KIND,
        item_id=proposal_id,
        text=tr("proposal.desk_answered", label=label(tr, proposal), round=proposal.rounds)
        + "\n\n"
        + text
        + status(tr),
    )


async def _rate(
    update: Update,
    context: UnionContext,
    actor: Actor,
    proposal_id: int,
    rating: Rating,
    comment: str | None,
) -> bool:
    """Record a verdict and tell whoever needs to know; False lets the person type again."""
    try:
        async with context.db() as session:
            proposal = await rate(
                session,
                org_id=context.org_id,
                proposal_id=proposal_id,
                actor=actor,
                rating=rating,
                comment=comment,
                today=today(context),
            )
            handling = await assignments_of(session, proposal_id=proposal_id)
    except DomainError as error:
        await refuse(update, context, error)
        return not isinstance(error, InputError)
    if update.callback_query is not None:
        await context.answer(update, context.t("proposal.rated_toast"))
    tr = committee_tr(context)
    verdict = tr(f"proposal.rating.{rating}")
    note = tr(
        "proposal.desk_rated",
        label=label(tr, proposal),
        who=actor.member.real_name,
        rating=verdict,
    )
    if comment:
        note += "\n" + comment.strip()
    await post_under_cards(context, kind=KIND, item_id=proposal_id, text=note)
    await refresh(context, proposal_id)
    if proposal.proposer_member_id != actor.id:
        key = "proposal.rated_recorded"
    elif proposal.status == ProposalStatus.ASSIGNED:
        key = "proposal.rated_back"
        await tell_handlers(context, proposal, handling=handling, comment=comment or "")
    else:
        key = "proposal.rated_closed"
        # Closed by the proposer's verdict: everyone else on the proposal hears of 办结 too.
        others = [
            member_id
            for member_id in await everyone_on(context, proposal)
            if member_id != proposal.proposer_member_id
        ]
        await context.notifier.tell(
            others,
            lambda tr: tr(
                "proposal.told_closed_rated",
                label=label(tr, proposal),
                rating=tr(f"proposal.rating.{rating}"),
            ),
        )
    await say(update, context, context.t(key, label=label(context.tr, proposal)))
    return True


async def cancel_typing(update: Update, context: UnionContext) -> int:
    """/cancel while typing a reason, note, answer or comment."""
    if context.user_data is not None:
        context.user_data.pop(PENDING, None)
    await say(update, context, context.t("proposal.typing_cancelled"))
    return _END


def typing_conversation() -> ConversationHandler[Any]:
    """The committee's or the handling department's text: buttons anywhere, text in private."""
    entry_points: list[BaseHandler[Any, Any, Any]] = [
        ButtonHandler(ProposalDesk, start_typing, action) for action in _STARTS_FROM
    ]
    return private_text_conversation(
        name="proposal_text",
        entry_points=entry_points,
        on_text=text_typed,
        on_cancel=cancel_typing,
        extra_states={
            CHOOSING: [
                ButtonHandler(ImplementationPick, implementation_picked),
                MessageHandler(filters.ChatType.PRIVATE & ~filters.COMMAND, choose_first),
            ]
        },
    )


async def choose_first(update: Update, context: UnionContext) -> int:
    """Typed while 落实情况 is asked with buttons."""
    await say(update, context, context.t("proposal.choose_implementation_first"))
    return CHOOSING


def rating_conversation() -> ConversationHandler[Any]:
    """An author's verdict on an answer; 不满意 asks for the comment (the member's own form)."""
    return private_text_conversation(
        name="proposal_comment",
        entry_points=[ButtonHandler(ProposalRating, rate_pressed)],
        on_text=text_typed,
        on_cancel=cancel_typing,
    )


def forms() -> list[Form]:
    """The forms of this feature (run by the form engine, one active per person)."""
    return [
        Form(
            typing_conversation(),
            label_key="form.label.proposal_text",
            drafts=("pd_text",),
            committee=True,
            prompt=True,
        ),
        Form(
            rating_conversation(),
            label_key="form.label.proposal_comment",
            drafts=("pd_text",),
        ),
    ]
