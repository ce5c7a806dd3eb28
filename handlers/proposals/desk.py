"""Proposals on the review desk: the card, triage (立案 / 转为意见建议 / 不立案), merge, assign,
excellent, and the people on a proposal told of each step.

Buttons that need typed text (a reason, a note, an answer) continue in the presser's private
chat; that conversation lives in handlers/proposal_answers.py.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import Application

from bot.buttons import Button, ButtonHandler
from bot.context import UnionContext
from bot.i18n import Translator
from handlers.common import confirm_or_cancel, is_private, keyboard, refuse, say
from handlers.proposals.buttons import ProposalCoHandler, ProposalDesk, ProposalLead, ProposalMerge
from handlers.review_desk import committee_press, post_card, post_under_cards, refresh_cards
from handlers.suggestions import desk as suggestion_desk
from models.errors import DomainError
from models.members import Member
from models.members_queries import members_by_id
from models.proposal_queries import (
    assignments_of,
    departments_of,
    latest_answer,
    proposals_of_session,
    ratings_of,
)
from models.proposal_text import (
    CARD_PART_LIMIT,
    body,
    chunks,
    implementation_name,
    is_clipped,
    label,
    status_name,
)
from models.proposals import (
    IMPLEMENTATION_UPDATABLE,
    CongressSession,
    Proposal,
    ProposalAnswer,
    ProposalStatus,
    assign,
    authors_of,
    convert_to_suggestion,
    get_proposal,
    implementation_changes,
    mark_excellent,
    merge,
    signers_of,
    triage,
)

logger = logging.getLogger(__name__)

KIND = "prop"
_EXCELLENT_ALLOWED = (
    ProposalStatus.FILED,
    ProposalStatus.ASSIGNED,
    ProposalStatus.ANSWERED,
    ProposalStatus.CLOSED,
)
# The triage decision recorded in decided_by/decided_at, by the status it led to (a filed
# proposal goes on to be assigned, answered and closed: its decision stays 立案).
DECISIONS = {
    ProposalStatus.CONVERTED: "converted",
    ProposalStatus.NOT_FILED: "not_filed",
    ProposalStatus.MERGED: "merged",
}


def today(context: UnionContext) -> Any:
    """Today in the union's time zone."""
    return datetime.now(context.settings.zone).date()


def local_time(context: UnionContext, moment: datetime | None) -> str:
    """A stored moment as the union reads it: date and time in its own time zone."""
    return moment.astimezone(context.settings.zone).strftime("%Y-%m-%d %H:%M") if moment else ""


def committee_tr(context: UnionContext) -> Translator:
    """Cards speak the deployment's default language (one committee, one card)."""
    return context.i18n.get(context.settings.default_language)


# ---- who is on a proposal ----------------------------------------------------------------


async def everyone_on(context: UnionContext, proposal: Proposal) -> list[int]:
    """The proposer and every co-signer or co-author."""
    async with context.db() as session:
        signers = await signers_of(session, proposal_id=proposal.id or 0)
    return [proposal.proposer_member_id, *(row.member_id for row in signers)]


async def everyone_but_authors(context: UnionContext, proposal: Proposal) -> list[int]:
    """The co-signers (not co-authors): told each step, but they do not rate the answer."""
    rating = set(await authors(context, proposal))
    return [
        member_id for member_id in await everyone_on(context, proposal) if member_id not in rating
    ]


async def authors(context: UnionContext, proposal: Proposal) -> list[int]:
    """The proposer and co-authors: the people who rate an answer."""
    async with context.db() as session:
        return await authors_of(session, proposal=proposal)


async def tell_everyone(context: UnionContext, proposal: Proposal, key: str, **params: str) -> None:
    """Tell the proposer and co-signers about a step, each in their language."""
    await context.notifier.tell(
        await everyone_on(context, proposal),
        lambda tr: tr(key, label=label(tr, proposal), **params),
    )


# ---- the card ----------------------------------------------------------------------------


async def render_card(
    context: UnionContext, proposal: Proposal
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The card as the committee sees it now."""
    tr = committee_tr(context)
    proposal_id = proposal.id or 0
    async with context.db() as session:
        congress = await session.get(CongressSession, proposal.session_id)
        signers = await signers_of(session, proposal_id=proposal_id)
        handling = await assignments_of(session, proposal_id=proposal_id)
        reply = await latest_answer(session, proposal_id=proposal_id)
        changes = await implementation_changes(session, proposal_id=proposal_id)
        deciders = [
            *(change.member_id for change in changes),
            proposal.decided_by_member_id,
            proposal.assigned_by_member_id,
            proposal.closed_by_member_id,
            reply.answered_by_member_id if reply is not None else None,
        ]
        people = await members_by_id(
            session,
            [
                proposal.proposer_member_id,
                *(row.member_id for row in signers),
                *(member_id for member_id in deciders if member_id is not None),
            ],
        )
        verdicts = await ratings_of(session, proposal_id=proposal_id)

    def name(member_id: int) -> str:
        member = people.get(member_id)
        # The member's number beside the name: nobody passes for someone else on a card.
        return f"{member.real_name}（#{member.id}，{member.department}）" if member else "?"

    lines = [
        tr(
            "proposal.card_title",
            label=label(tr, proposal),
            session=congress.name if congress else "-",
        ),
        tr("proposal.card_proposer", who=name(proposal.proposer_member_id)),
    ]
    cosigners = [name(row.member_id) for row in signers if not row.coauthor]
    coauthors = [name(row.member_id) for row in signers if row.coauthor]
    if cosigners:
        lines.append(tr("proposal.card_cosigners", who="、".join(cosigners)))
    if coauthors:
        lines.append(tr("proposal.card_coauthors", who="、".join(coauthors)))
    lines += ["", body(tr, proposal, part_limit=CARD_PART_LIMIT), ""]
    lines.append(tr("proposal.card_status", status=status_name(tr, proposal)))
    if proposal.decision_reason:
        lines.append(tr("proposal.card_reason", text=proposal.decision_reason))
    lines += _decision_lines(context, tr, proposal, reply, people)
    if handling:
        lead = [department.name for department, is_lead in handling if is_lead]
        co = [department.name for department, is_lead in handling if not is_lead]
        lines.append(tr("proposal.card_lead", name="、".join(lead)))
        if co:
            lines.append(tr("proposal.card_co", names="、".join(co)))
    if proposal.reply_due and proposal.status == ProposalStatus.ASSIGNED:
        lines.append(tr("proposal.card_due", date=proposal.reply_due.isoformat()))
    if reply is not None:
        lines.append(tr("proposal.card_answer", round=reply.round, text=_snippet(reply.body)))
    implementation = implementation_name(tr, proposal)
    if implementation:
        lines.append(tr("proposal.card_implementation", status=implementation))
    for change in changes[-5:]:  # who set each status and when, like the decisions above
        key = (
            "proposal.card_implementation_answer"
            if change.with_answer
            else ("proposal.card_implementation_changed")
        )
        member = people.get(change.member_id)
        lines.append(
            tr(
                key,
                status=tr(f"proposal.implementation.{change.status}"),
                who=member.real_name if member else "?",
                when=local_time(context, change.created_at),
            )
        )
    for verdict in verdicts:
        text = tr(f"proposal.rating.{verdict.rating}")
        if verdict.comment:
            text += f"：{_snippet(verdict.comment)}"
        lines.append(
            tr("proposal.card_rating", round=verdict.round, who=name(verdict.member_id), text=text)
        )
    if proposal.closing_note:
        lines.append(tr("proposal.card_closing_note", text=proposal.closing_note))
    if proposal.excellent:
        lines.append(tr("proposal.card_excellent"))
    return "\n".join(lines), card_buttons(tr, proposal)


def _decision_lines(
    context: UnionContext,
    tr: Translator,
    proposal: Proposal,
    reply: ProposalAnswer | None,
    people: dict[int, Member],
) -> list[str]:
    """Who decided each step, and when (in the union's time zone)."""

    def who(member_id: int | None) -> str:
        member = people.get(member_id) if member_id is not None else None
        return member.real_name if member is not None else "?"

    lines: list[str] = []
    if proposal.decided_at is not None:
        what = tr(f"proposal.decision.{DECISIONS.get(ProposalStatus(proposal.status), 'filed')}")
        lines.append(
            tr(
                "proposal.card_decided",
                what=what,
                who=who(proposal.decided_by_member_id),
                when=local_time(context, proposal.decided_at),
            )
        )
    if proposal.assigned_at is not None:
        lines.append(
            tr(
                "proposal.card_assigned_by",
                who=who(proposal.assigned_by_member_id),
                when=local_time(context, proposal.assigned_at),
            )
        )
    if reply is not None:
        lines.append(
            tr(
                "proposal.card_answered_by",
                who=who(reply.answered_by_member_id),
                when=local_time(context, reply.created_at),
            )
        )
    if proposal.status == ProposalStatus.CLOSED and proposal.closed_at is not None:
        when = local_time(context, proposal.closed_at)
        if proposal.closed_by_member_id is not None:
            lines.append(
                tr("proposal.card_closed_by", who=who(proposal.closed_by_member_id), when=when)
            )
        elif not proposal.closing_note:  # (a committee close before who closed was kept has one)
            lines.append(tr("proposal.card_closed_rated", when=when))
    return lines


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 120 else flat[:119] + "…"


def card_buttons(tr: Translator, proposal: Proposal) -> InlineKeyboardMarkup | None:
    """The decisions open at this status."""
    pid = proposal.id or 0
    status = proposal.status
    rows: list[list[tuple[str, Button]]] = []
    if status == ProposalStatus.SUBMITTED:
        rows.append(
            [
                (tr("proposal.btn_file"), ProposalDesk("file", pid)),
                (tr("proposal.btn_convert"), ProposalDesk("conv", pid)),
            ]
        )
        rows.append(
            [
                (tr("proposal.btn_not_file"), ProposalDesk("nofile", pid)),
                (tr("proposal.btn_merge"), ProposalDesk("merge", pid)),
            ]
        )
    elif status == ProposalStatus.FILED:
        rows.append([(tr("proposal.btn_assign"), ProposalDesk("asg", pid))])
    elif status == ProposalStatus.ASSIGNED:
        rows.append(
            [
                (tr("proposal.btn_answer_for"), ProposalDesk("ans", pid)),
                (tr("proposal.btn_close"), ProposalDesk("close", pid)),
            ]
        )
    elif status == ProposalStatus.ANSWERED:
        rows.append([(tr("proposal.btn_close"), ProposalDesk("close", pid))])
    if status in IMPLEMENTATION_UPDATABLE:
        rows.append([(tr("proposal.btn_implementation"), ProposalDesk("impl", pid))])
    if status in _EXCELLENT_ALLOWED:
        key = "proposal.btn_unmark_excellent" if proposal.excellent else "proposal.btn_excellent"
        rows.append([(tr(key), ProposalDesk("exc", pid))])
    return keyboard(*rows) if rows else None


async def announce(context: UnionContext, proposal: Proposal) -> None:
    """Put a submitted proposal on the desk; a long text follows the card in full."""
    text, markup = await render_card(context, proposal)
    await post_card(context, kind=KIND, item_id=proposal.id or 0, text=text, markup=markup)
    if is_clipped(proposal):
        for part in chunks(body(committee_tr(context), proposal)):
            await post_under_cards(context, kind=KIND, item_id=proposal.id or 0, text=part)


async def refresh(context: UnionContext, proposal_id: int) -> None:
    """Edit every copy of the proposal's card to show its current state."""
    async with context.db() as session:
        proposal = await get_proposal(session, org_id=context.org_id, proposal_id=proposal_id)
    text, markup = await render_card(context, proposal)
    await refresh_cards(context, kind=KIND, item_id=proposal_id, text=text, markup=markup)


async def quiet_refresh(context: UnionContext, proposal_id: int) -> None:
    """Refresh a card after a refusal (a stale card shows the state that refused the press)."""
    try:
        await refresh(context, proposal_id)
    except DomainError:
        return


async def submitted(context: UnionContext, proposal: Proposal) -> None:
    """A proposal just got its number: the desk gets the card, everyone on it is told."""
    logger.info("Proposal %s submitted as number %s", proposal.id, proposal.number)
    await announce(context, proposal)
    await tell_everyone(context, proposal, "proposal.told_submitted")


# ---- triage ------------------------------------------------------------------------------


_QUESTIONS = {"file": "proposal.confirm_file", "conv": "proposal.confirm_convert"}


async def ask_file_or_convert(update: Update, context: UnionContext) -> None:
    """立案 or 转为意见建议 pressed on a card: both tell many people, so ask once first."""
    if await committee_press(update, context) is None:
        return
    button = context.button_as(ProposalDesk)
    proposal_id = button.proposal_id
    try:
        async with context.db() as session:
            proposal = await get_proposal(session, org_id=context.org_id, proposal_id=proposal_id)
    except DomainError as error:
        await refuse(update, context, error)
        return
    if proposal.status != ProposalStatus.SUBMITTED:
        await context.answer(update, context.t("proposal.already_decided"), alert=True)
        await quiet_refresh(context, proposal_id)
        return
    await context.answer(update)
    confirm = ProposalDesk("fileok" if button.action == "file" else "convok", proposal_id)
    tr = _speaking(update, context)
    await say(
        update,
        context,
        tr(_QUESTIONS[button.action], label=label(tr, proposal)),
        confirm_or_cancel(
            context, confirm, ProposalDesk("keep", proposal_id), confirm_key="common.confirm", tr=tr
        ),
    )


def _speaking(update: Update, context: UnionContext) -> Translator:
    """The question and its outcome are read by the whole committee in the group (its language)
    and by the presser alone in a private chat (theirs)."""
    return context.tr if is_private(update) else committee_tr(context)


async def keep_undecided(update: Update, context: UnionContext) -> None:
    """取消 under the question: nothing is decided, nobody is told."""
    if await committee_press(update, context) is None:
        return
    await context.answer(update)
    await _settle_question(
        update, context, _speaking(update, context)("proposal.confirm_cancelled")
    )


async def _settle_question(update: Update, context: UnionContext, text: str) -> None:
    """Replace the question (and its buttons) by what came of it."""
    query = update.callback_query
    if query is None or query.message is None:
        return
    try:
        await context.bot.edit_message_text(
            text, chat_id=query.message.chat.id, message_id=query.message.message_id
        )
    except TelegramError:
        logger.info("The question under proposal %s could not be edited", query.data)


async def file_or_convert(update: Update, context: UnionContext) -> None:
    """确定 under the question: 立案 or 转为意见建议, then everyone on the proposal is told."""
    pressed = await committee_press(update, context)
    if pressed is None:
        return
    actor = pressed
    button = context.button_as(ProposalDesk)
    proposal_id = button.proposal_id
    try:
        async with context.db() as session:
            if button.action == "fileok":
                proposal = await triage(
                    session,
                    org_id=context.org_id,
                    proposal_id=proposal_id,
                    actor=actor,
                    outcome=ProposalStatus.FILED,
                )
                item = None
            else:
                proposal, item = await convert_to_suggestion(
                    session,
                    org_id=context.org_id,
                    proposal_id=proposal_id,
                    actor=actor,
                    today=today(context),
                )
    except DomainError as error:
        await refuse(update, context, error)
        await _settle_question(
            update, context, _speaking(update, context)(error.key, **error.params)
        )
        await quiet_refresh(context, proposal_id)
        return
    await context.answer(update, context.t("proposal.done_toast"))
    logger.info("Proposal %s: %s by member %s", proposal_id, button.action, actor.id)
    done = "proposal.confirm_done_file" if item is None else "proposal.confirm_done_convert"
    tr = _speaking(update, context)
    await _settle_question(
        update,
        context,
        tr(
            done,
            label=label(tr, proposal),
            who=actor.member.real_name,
            when=local_time(context, proposal.decided_at),
        ),
    )
    await refresh(context, proposal_id)
    if item is None:
        await tell_everyone(context, proposal, "proposal.told_filed")
        return
    await suggestion_desk.announce(context, item)
    await tell_everyone(context, proposal, "proposal.told_converted", number=item.number)


# ---- merge -------------------------------------------------------------------------------


async def merge_pick(update: Update, context: UnionContext) -> None:
    """合并 pressed: which proposal of the session should this one join?"""
    pressed = await committee_press(update, context)
    if pressed is None:
        return
    proposal_id = context.button_as(ProposalDesk).proposal_id
    try:
        async with context.db() as session:
            proposal = await get_proposal(session, org_id=context.org_id, proposal_id=proposal_id)
            session_id = proposal.session_id or 0
            candidates = [
                other
                for other in await proposals_of_session(session, session_id=session_id)
                if other.id != proposal.id
                and other.status in (ProposalStatus.SUBMITTED, ProposalStatus.FILED)
            ]
    except DomainError:
        await context.answer(update, context.t("desk.item_not_found"), alert=True)
        return
    if proposal.status != ProposalStatus.SUBMITTED:
        await context.answer(update, context.t("proposal.already_decided"), alert=True)
        await quiet_refresh(context, proposal.id or 0)
        return
    if not candidates:
        await context.answer(update, context.t("proposal.merge_no_candidates"), alert=True)
        return
    await context.answer(update)
    rows = [
        [(label(context.tr, other)[:60], ProposalMerge(proposal.id or 0, other.id or 0))]
        for other in candidates[:20]
    ]
    await say(
        update,
        context,
        context.t("proposal.merge_choose", label=label(context.tr, proposal)),
        keyboard(*rows),
    )


async def merge_into(update: Update, context: UnionContext) -> None:
    """A survivor chosen: merge, tell the merged proposal's people they are co-authors."""
    pressed = await committee_press(update, context)
    if pressed is None:
        return
    actor = pressed
    button = context.button_as(ProposalMerge)
    merged_id, survivor_id = button.merged_id, button.survivor_id
    try:
        async with context.db() as session:
            merged = await get_proposal(session, org_id=context.org_id, proposal_id=merged_id)
            people = [merged.proposer_member_id] + [
                row.member_id for row in await signers_of(session, proposal_id=merged_id)
            ]
            survivor = await merge(
                session,
                org_id=context.org_id,
                survivor_id=survivor_id,
                merged_ids=[merged_id],
                actor=actor,
            )
            merged = await get_proposal(session, org_id=context.org_id, proposal_id=merged_id)
    except DomainError as error:
        await refuse(update, context, error)
        await quiet_refresh(context, merged_id)
        return
    await context.answer(update, context.t("proposal.done_toast"))
    logger.info("Proposal %s merged into %s by member %s", merged_id, survivor_id, actor.id)
    await refresh(context, merged_id)
    await refresh(context, survivor_id)
    tr = committee_tr(context)
    await post_under_cards(
        context,
        kind=KIND,
        item_id=survivor_id,
        text=tr("proposal.desk_merged_in", label=label(tr, merged)),
    )
    await context.notifier.tell(
        people,
        lambda tr: tr(
            "proposal.told_merged", label=label(tr, merged), survivor=label(tr, survivor)
        ),
    )


# ---- assign ------------------------------------------------------------------------------


def _assignment(context: UnionContext, proposal_id: int) -> dict[str, Any] | None:
    assert context.user_data is not None
    pending = context.user_data.get("pd_assign")
    if not isinstance(pending, dict) or pending.get("id") != proposal_id:
        return None
    return pending


async def assign_start(update: Update, context: UnionContext) -> None:
    """分配 pressed: choose the lead department (主办)."""
    pressed = await committee_press(update, context)
    if pressed is None:
        return
    proposal_id = context.button_as(ProposalDesk).proposal_id
    assert context.user_data is not None
    try:
        async with context.db() as session:
            proposal = await get_proposal(session, org_id=context.org_id, proposal_id=proposal_id)
            departments = await departments_of(session, org_id=context.org_id)
    except DomainError:
        await context.answer(update, context.t("desk.item_not_found"), alert=True)
        return
    if proposal.status != ProposalStatus.FILED:
        await context.answer(update, context.t("proposal.already_decided"), alert=True)
        await quiet_refresh(context, proposal_id)
        return
    if not departments:
        await context.answer(update, context.t("proposal.no_departments"), alert=True)
        return
    await context.answer(update)
    context.user_data["pd_assign"] = {"id": proposal_id, "lead": None, "co": []}
    rows = [
        [(department.name, ProposalLead(proposal_id, department.id or 0))]
        for department in departments
    ]
    await say(
        update,
        context,
        context.t("proposal.choose_lead", label=label(context.tr, proposal)),
        keyboard(*rows),
    )


async def assign_lead(update: Update, context: UnionContext) -> None:
    """A lead chosen: show the choice so far."""
    button = context.button_as(ProposalLead)
    await _assign_pick(update, context, button.proposal_id, button.department_id, lead=True)


async def assign_co(update: Update, context: UnionContext) -> None:
    """A co-handler (协办) toggled: show the choice so far."""
    button = context.button_as(ProposalCoHandler)
    await _assign_pick(update, context, button.proposal_id, button.department_id, lead=False)


async def _assign_pick(
    update: Update, context: UnionContext, proposal_id: int, department_id: int, *, lead: bool
) -> None:
    pressed = await committee_press(update, context)
    if pressed is None:
        return
    query = update.callback_query
    assert query is not None and query.message is not None
    pending = _assignment(context, proposal_id)
    if pending is None:
        await context.answer(update, context.t("desk.stale_button"), alert=True)
        return
    if lead:
        pending.update(lead=department_id, co=[])
    elif department_id != pending.get("lead"):
        co: list[int] = pending.setdefault("co", [])
        if department_id in co:
            co.remove(department_id)
        else:
            co.append(department_id)
    await context.answer(update)
    async with context.db() as session:
        departments = await departments_of(session, org_id=context.org_id)
    names = {department.id: department.name for department in departments}
    rows: list[list[tuple[str, Button]]] = [
        [
            (
                ("✓ " if department.id in pending["co"] else "+ ") + department.name,
                ProposalCoHandler(proposal_id, department.id or 0),
            )
        ]
        for department in departments
        if department.id != pending["lead"]
    ]
    rows.append([(context.t("proposal.btn_assign_confirm"), ProposalDesk("asgok", proposal_id))])
    text = context.t(
        "proposal.choose_co",
        lead=names.get(pending["lead"], "?"),
        co="、".join(names.get(d, "?") for d in pending["co"]) or context.t("proposal.none"),
    )
    await context.bot.edit_message_text(
        text,
        chat_id=query.message.chat.id,
        message_id=query.message.message_id,
        reply_markup=keyboard(*rows),
    )


async def assign_confirm(update: Update, context: UnionContext) -> None:
    """Confirm the departments: assign, set the deadline, tell the handlers and the authors."""
    pressed = await committee_press(update, context)
    if pressed is None:
        return
    actor = pressed
    assert context.user_data is not None
    proposal_id = context.button_as(ProposalDesk).proposal_id
    pending = _assignment(context, proposal_id)
    if pending is None or pending.get("lead") is None:
        await context.answer(update, context.t("desk.stale_button"), alert=True)
        return
    try:
        async with context.db() as session:
            proposal = await assign(
                session,
                org_id=context.org_id,
                proposal_id=proposal_id,
                actor=actor,
                lead_department_id=int(pending["lead"]),
                co_department_ids=[int(d) for d in pending["co"]],
                today=today(context),
            )
            handling = await assignments_of(session, proposal_id=proposal_id)
    except DomainError as error:
        context.user_data.pop("pd_assign", None)
        await refuse(update, context, error)
        await quiet_refresh(context, proposal_id)
        return
    context.user_data.pop("pd_assign", None)
    await context.answer(update, context.t("proposal.done_toast"))
    logger.info("Proposal %s assigned by member %s", proposal_id, actor.id)
    await refresh(context, proposal_id)
    lead = next(department for department, is_lead in handling if is_lead)
    due = proposal.reply_due.isoformat() if proposal.reply_due else "-"
    await tell_everyone(context, proposal, "proposal.told_assigned", lead=lead.name, due=due)
    await tell_handlers(context, proposal, handling=handling)


async def tell_handlers(
    context: UnionContext, proposal: Proposal, *, handling: list[Any], comment: str = ""
) -> None:
    """The lead department's handler gets the proposal with an Answer button; co-handlers are
    informed. Without a handler the committee answers on the department's behalf."""
    due = proposal.reply_due.isoformat() if proposal.reply_due else "-"
    for department, is_lead in handling:
        if department.handler_member_id is None:
            continue
        key = "proposal.handler_lead" if is_lead else "proposal.handler_co"

        def render(tr: Translator, key: str = key, name: str = department.name) -> str:
            parts = [
                tr(key, label=label(tr, proposal), department=name, due=due, round=proposal.rounds)
            ]
            if comment:
                parts.append(tr("proposal.handler_comment", text=comment))
            parts += ["", body(tr, proposal, part_limit=1500)]
            return "\n".join(parts)

        markup = None
        if is_lead:

            def markup(tr: Translator) -> InlineKeyboardMarkup:
                answer_button = ProposalDesk("ans", proposal.id or 0)
                return keyboard([(tr("proposal.btn_answer"), answer_button)])

        await context.notifier.tell([department.handler_member_id], render, markup)


# ---- excellent ---------------------------------------------------------------------------


async def toggle_excellent(update: Update, context: UnionContext) -> None:
    """优秀提案 pressed: mark or unmark."""
    pressed = await committee_press(update, context)
    if pressed is None:
        return
    actor = pressed
    proposal_id = context.button_as(ProposalDesk).proposal_id
    try:
        async with context.db() as session:
            proposal = await get_proposal(session, org_id=context.org_id, proposal_id=proposal_id)
            proposal = await mark_excellent(
                session,
                org_id=context.org_id,
                proposal_id=proposal_id,
                actor=actor,
                excellent=not proposal.excellent,
            )
    except DomainError as error:
        await refuse(update, context, error)
        return
    await context.answer(update, context.t("proposal.done_toast"))
    await refresh(context, proposal_id)
    if proposal.excellent:
        await context.notifier.tell(
            await authors(context, proposal),
            lambda tr: tr("proposal.told_excellent", label=label(tr, proposal)),
        )


def register(application: Application) -> None:
    """Add the committee's proposal buttons."""
    for action, callback in (
        ("file", ask_file_or_convert),
        ("conv", ask_file_or_convert),
        ("fileok", file_or_convert),
        ("convok", file_or_convert),
        ("keep", keep_undecided),
        ("merge", merge_pick),
        ("asg", assign_start),
        ("asgok", assign_confirm),
        ("exc", toggle_excellent),
    ):
        application.add_handler(ButtonHandler(ProposalDesk, callback, action))
    application.add_handler(ButtonHandler(ProposalMerge, merge_into))
    application.add_handler(ButtonHandler(ProposalLead, assign_lead))
    application.add_handler(ButtonHandler(ProposalCoHandler, assign_co))
