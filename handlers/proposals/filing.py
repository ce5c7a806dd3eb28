"""Proposals for members: /propose (with similar-proposal hints), co-signing by link or
/cosign, withdrawing, and the proposals section of /mine."""

from __future__ import annotations

import logging
import secrets
from enum import IntEnum
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CommandHandler,
    ConversationHandler,
    filters,
)

from bot.buttons import Button, ButtonHandler
from bot.callback import MAX_ID
from bot.context import UnionContext
from bot.forms import Form
from bot.i18n import Translator
from handlers.common import (
    EditableField,
    PreviewEdits,
    conversation,
    deep_link,
    family_step,
    keyboard,
    refuse,
    require_member,
    say,
    say_receipt,
    text_step,
    typed_text,
    user_draft,
)
from handlers.menu.buttons import MenuButton
from handlers.proposals.buttons import (
    FilingCategory,
    FilingConfirm,
    FilingSimilar,
    ProposalOfMember,
)
from handlers.proposals.desk import KIND, everyone_on, refresh, submitted, today
from handlers.review_desk import post_under_cards
from models.errors import DomainError
from models.members import Actor
from models.proposal_queries import MemberProposal, proposals_of_member, similar_proposals
from models.proposal_text import ProposalDraftText, body, implementation_name, label, status_name
from models.proposals import (
    TEXT_LIMIT,
    TITLE_LIMIT,
    CongressSession,
    Proposal,
    ProposalCategory,
    ProposalStatus,
    cosign,
    create_draft,
    current_session,
    get_proposal,
    may_file,
    next_session,
    rule_session,
    signers_of,
    withdraw,
)

logger = logging.getLogger(__name__)

COSIGN_PREFIX = "cosign-"
_END = ConversationHandler.END
_WITHDRAWABLE = (ProposalStatus.DRAFT, ProposalStatus.COSIGNING, ProposalStatus.SUBMITTED)


class Filing(IntEnum):
    """Steps of writing a proposal."""

    TITLE = 1
    SIMILAR = 2
    REASONS = 3
    MEASURES = 4
    CATEGORY = 5
    CONFIRM = 6


def _draft(context: UnionContext) -> dict[str, Any]:
    return user_draft(context, "proposal")


async def _window_note(context: UnionContext) -> tuple[CongressSession | None, str]:
    """The open session, and a line saying when a draft written now will be submitted."""
    async with context.db() as session:
        congress = await current_session(session, org_id=context.org_id, today=today(context))
        upcoming = await next_session(session, org_id=context.org_id, today=today(context))
    if congress is not None:
        return congress, context.t(
            "proposal.window_open",
            session=congress.name,
            closes=congress.closes_on.isoformat(),
            count=congress.min_cosigners,
        )
    if upcoming is not None:
        return None, context.t(
            "proposal.window_next", session=upcoming.name, opens=upcoming.opens_on.isoformat()
        )
    return None, context.t("proposal.window_none")


# ---- /propose ----------------------------------------------------------------------------


async def start_filing(update: Update, context: UnionContext) -> int:
    """/propose or the menu: who may file, the window, then the title."""
    if update.callback_query is not None:
        await context.answer(update)
    actor = await require_member(update, context)
    if actor is None:
        return _END
    async with context.db() as session:
        rule = await rule_session(session, org_id=context.org_id, today=today(context))
    if not may_file(actor, rule):
        await say(update, context, context.t("proposal.not_allowed"))
        return _END
    congress, note = await _window_note(context)
    draft = _draft(context)
    draft.clear()
    draft.update(client_token=secrets.token_hex(8), window=congress.id if congress else None)
    await say(update, context, note + "\n\n" + context.t("proposal.write_title", limit=TITLE_LIMIT))
    return Filing.TITLE


async def got_title(update: Update, context: UnionContext) -> int:
    """案由: short; proposals that look alike are offered for co-signing instead."""
    title = await typed_text(update, context, limit=TITLE_LIMIT, needs_words=True)
    if title is None:
        return Filing.TITLE
    draft = _draft(context)
    draft["title"] = title
    similar: list[Proposal] = []
    if draft.get("window"):
        async with context.db() as session:
            similar = await similar_proposals(session, session_id=int(draft["window"]), text=title)
    if not similar:
        return await EDITS.then(update, context, _ask_reasons)
    rows: list[list[tuple[str, Button]]] = [
        [(context.t("proposal.btn_cosign_instead", id=p.id), FilingSimilar(str(p.id or 0)))]
        for p in similar
    ]
    rows.append([(context.t("proposal.btn_continue_mine"), FilingSimilar("mine"))])
    lines = [context.t("proposal.similar_found")]
    lines += [f"• {label(context.tr, p)} · {status_name(context.tr, p)}" for p in similar]
    await say(update, context, "\n".join(lines), keyboard(*rows))
    return Filing.SIMILAR


async def similar_chosen(update: Update, context: UnionContext) -> int:
    """Continue with one's own proposal, or co-sign a similar one instead."""
    choice = context.button_as(FilingSimilar).choice
    await context.answer(update)
    if choice == "mine":
        return await EDITS.then(update, context, _ask_reasons)
    _draft(context).clear()
    await show_for_cosign(update, context, proposal_id_of(choice))
    return _END


async def _ask_reasons(update: Update, context: UnionContext) -> int:
    await say(update, context, context.t("proposal.write_reasons", limit=TEXT_LIMIT))
    return Filing.REASONS


async def got_reasons(update: Update, context: UnionContext) -> int:
    """理由."""
    reasons = await typed_text(update, context, limit=TEXT_LIMIT, multiline=True, needs_words=True)
    if reasons is None:
        return Filing.REASONS
    _draft(context)["reasons"] = reasons
    return await EDITS.then(update, context, _ask_measures)


async def _ask_measures(update: Update, context: UnionContext) -> int:
    await say(update, context, context.t("proposal.write_measures", limit=TEXT_LIMIT))
    return Filing.MEASURES


async def got_measures(update: Update, context: UnionContext) -> int:
    """建议措施; then the category."""
    measures = await typed_text(update, context, limit=TEXT_LIMIT, multiline=True, needs_words=True)
    if measures is None:
        return Filing.MEASURES
    _draft(context)["measures"] = measures
    return await EDITS.then(update, context, _ask_category)


async def _ask_category(update: Update, context: UnionContext) -> int:
    rows = [
        [(context.t(f"proposal.category.{category}"), FilingCategory(category))]
        for category in ProposalCategory
    ]
    await say(update, context, context.t("proposal.choose_category"), keyboard(*rows))
    return Filing.CATEGORY


async def got_category(update: Update, context: UnionContext) -> int:
    """A category; then the preview."""
    choice = context.button_as(FilingCategory).category
    await context.answer(update)
    _draft(context)["category"] = choice.value
    return await _preview(update, context)


async def _preview(update: Update, context: UnionContext) -> int:
    draft = _draft(context)
    if not all(part in draft for part in ("title", "reasons", "measures", "category")):
        await say(update, context, context.t("proposal.draft_lost"))
        return _END
    preview = ProposalDraftText(
        title=draft["title"],
        reasons=draft["reasons"],
        measures=draft["measures"],
        category=ProposalCategory(draft["category"]),
    )
    await say(
        update,
        context,
        context.t("proposal.preview_title") + "\n\n" + body(context.tr, preview),
        EDITS.markup(context, FilingConfirm("yes"), FilingConfirm("cancel")),
    )
    return Filing.CONFIRM


async def _ask_title(update: Update, context: UnionContext) -> int:
    await say(update, context, context.t("proposal.write_title", limit=TITLE_LIMIT))
    return Filing.TITLE


# ✏️ 修改某项 under the preview.
EDITS = PreviewEdits(
    "proposal",
    [
        EditableField("proposal.edit.title", _ask_title),
        EditableField("proposal.edit.reasons", _ask_reasons),
        EditableField("proposal.edit.measures", _ask_measures),
        EditableField("proposal.edit.category", _ask_category),
    ],
    _preview,
)


async def confirm(update: Update, context: UnionContext) -> int:
    """Confirm: stored at once; co-signing starts if a window is open, else it waits."""
    choice = context.button_as(FilingConfirm).choice
    await context.answer(update)
    if choice == "cancel":
        return await cancel(update, context)
    actor = await require_member(update, context)
    if actor is None:
        return _END
    draft = _draft(context)
    if not all(part in draft for part in ("title", "reasons", "measures", "category")):
        await say(update, context, context.t("proposal.draft_lost"))
        return _END
    try:
        async with context.db() as session:
            proposal = await create_draft(
                session,
                org_id=context.org_id,
                actor=actor,
                title=str(draft["title"]),
                reasons=str(draft["reasons"]),
                measures=str(draft["measures"]),
                client_token=str(draft["client_token"]),
                today=today(context),
                category=ProposalCategory(draft["category"]),
            )
    except DomainError as error:
        await refuse(update, context, error)
        draft.clear()
        return _END
    had_window = draft.get("window") is not None
    draft.clear()
    logger.info("Proposal %s stored by member %s as %s", proposal.id, actor.id, proposal.status)
    await say_receipt(update, context, await _receipt(context, proposal, had_window))
    if proposal.status == ProposalStatus.SUBMITTED:
        await submitted(context, proposal)
    return _END


async def _receipt(context: UnionContext, proposal: Proposal, had_window: bool) -> str:
    """What happens next: share for co-signers, already submitted, or kept as a draft."""
    tr = context.tr
    if proposal.status == ProposalStatus.SUBMITTED:
        return tr("proposal.receipt_submitted", label=label(tr, proposal))
    if proposal.status == ProposalStatus.COSIGNING:
        async with context.db() as session:
            congress = await session.get(CongressSession, proposal.session_id)
        return tr(
            "proposal.receipt_cosigning",
            label=label(tr, proposal),
            count=congress.min_cosigners if congress else 0,
            link=deep_link(context, f"{COSIGN_PREFIX}{proposal.id}"),
            id=proposal.id,
            closes=congress.closes_on.isoformat() if congress else "-",
        )
    _, note = await _window_note(context)
    key = "proposal.receipt_draft_window_closed" if had_window else "proposal.receipt_draft"
    return tr(key, label=label(tr, proposal)) + "\n" + note


async def cancel(update: Update, context: UnionContext) -> int:
    """/cancel while writing a proposal."""
    _draft(context).clear()
    await say(update, context, context.t("proposal.cancelled"))
    return _END


# ---- co-signing --------------------------------------------------------------------------


async def cosign_command(update: Update, context: UnionContext) -> None:
    """/cosign <draft number>."""
    argument = context.args[0] if context.args else ""
    if not argument.lstrip("#").isdigit():
        await say(update, context, context.t("proposal.cosign_usage"))
        return
    await show_for_cosign(update, context, proposal_id_of(argument.lstrip("#")))


async def open_cosign_link(update: Update, context: UnionContext, target: str) -> None:
    """A `cosign-<id>` deep link opened by an active member."""
    await show_for_cosign(update, context, proposal_id_of(target))


def proposal_id_of(text: str) -> int:
    """The proposal id a link, a button or /cosign carries; 0 (a proposal not found) for
    anything else: other digits (², ٣), or a number beyond a database id."""
    digits = text.isascii() and text.isdigit() and len(text) <= len(str(MAX_ID))
    return int(text) if digits and int(text) <= MAX_ID else 0


async def show_for_cosign(update: Update, context: UnionContext, proposal_id: int) -> None:
    """Show a proposal with a Co-sign button, or say plainly why it cannot be co-signed."""
    actor = await require_member(update, context)
    if actor is None:
        return
    try:
        async with context.db() as session:
            proposal = await get_proposal(session, org_id=context.org_id, proposal_id=proposal_id)
            signed = {row.member_id for row in await signers_of(session, proposal_id=proposal_id)}
            congress = None
            if proposal.session_id is not None:  # a draft waiting for a window has none
                congress = await session.get(CongressSession, proposal.session_id)
    except DomainError as error:
        await say(update, context, context.t(error.key, **error.params))
        return
    refusal = _cosign_refusal(actor, proposal, signed, congress, today(context))
    if refusal is not None:
        await say(update, context, context.t(refusal, label=label(context.tr, proposal)))
        return
    assert congress is not None
    text = "\n".join(
        [
            context.t(
                "proposal.cosign_invite",
                label=label(context.tr, proposal),
                count=len(signed),
                needed=congress.min_cosigners,
            ),
            "",
            body(context.tr, proposal),
        ]
    )
    await say(
        update,
        context,
        text,
        keyboard([(context.t("proposal.btn_cosign"), ProposalOfMember("cosign", proposal_id))]),
    )


def _cosign_refusal(
    actor: Actor,
    proposal: Proposal,
    signed: set[int],
    congress: CongressSession | None,
    day: Any,
) -> str | None:
    """Why this member may not co-sign now (the same rules cosign() enforces on the press)."""
    if proposal.proposer_member_id == actor.id:
        return "proposal.cosign_own"
    if actor.id in signed:
        return "proposal.cosigned_already"
    if proposal.status != ProposalStatus.COSIGNING:
        return "proposal.cosign_not_open"
    if congress is None or not congress.is_open(day):
        return "proposal.window_closed"
    if not may_file(actor, congress):
        return "proposal.not_allowed"
    return None


async def cosign_pressed(update: Update, context: UnionContext) -> None:
    """附议 pressed: sign; the proposer hears of it; enough signatures submit it."""
    proposal_id = context.button_as(ProposalOfMember).proposal_id
    actor = await require_member(update, context)
    if actor is None:
        return
    try:
        async with context.db() as session:
            proposal = await cosign(
                session,
                org_id=context.org_id,
                proposal_id=proposal_id,
                actor=actor,
                today=today(context),
            )
            signed = len(await signers_of(session, proposal_id=proposal_id))
            congress = await session.get(CongressSession, proposal.session_id)
    except DomainError as error:
        await refuse(update, context, error)
        return
    await context.answer(update, context.t("proposal.cosigned_toast"))
    logger.info("Proposal %s co-signed by member %s", proposal_id, actor.id)
    needed = congress.min_cosigners if congress else 0
    await say(
        update,
        context,
        context.t(
            "proposal.cosigned", label=label(context.tr, proposal), count=signed, needed=needed
        ),
    )
    if proposal.status == ProposalStatus.SUBMITTED:
        await submitted(context, proposal)
        return
    who = actor.member.real_name
    await context.notifier.tell(
        [proposal.proposer_member_id],
        lambda tr: tr(
            "proposal.told_cosigned",
            label=label(tr, proposal),
            who=who,
            count=signed,
            needed=needed,
        ),
    )


# ---- withdrawing -------------------------------------------------------------------------


async def withdraw_pressed(update: Update, context: UnionContext) -> None:
    """撤回 pressed in /mine: ask to confirm."""
    proposal_id = context.button_as(ProposalOfMember).proposal_id
    actor = await require_member(update, context)
    if actor is None:
        return
    try:
        async with context.db() as session:
            proposal = await get_proposal(session, org_id=context.org_id, proposal_id=proposal_id)
    except DomainError:
        await context.answer(update, context.t("proposal.not_found"), alert=True)
        return
    if proposal.proposer_member_id != actor.id:
        await context.answer(update, context.t("proposal.not_yours"), alert=True)
        return
    if proposal.status not in _WITHDRAWABLE:
        await context.answer(update, context.t("proposal.withdraw_too_late"), alert=True)
        return
    await context.answer(update)
    await say(
        update,
        context,
        context.t("proposal.withdraw_confirm", label=label(context.tr, proposal)),
        keyboard(
            [(context.t("proposal.btn_withdraw_yes"), ProposalOfMember("wdyes", proposal_id))],
            [(context.t("proposal.btn_keep"), ProposalOfMember("keep", proposal_id))],
        ),
    )


async def withdraw_confirmed(update: Update, context: UnionContext) -> None:
    """Withdrawal confirmed: guarded in the database; co-signers and the desk are told."""
    proposal_id = context.button_as(ProposalOfMember).proposal_id
    actor = await require_member(update, context)
    if actor is None:
        return
    try:
        async with context.db() as session:
            before = await get_proposal(session, org_id=context.org_id, proposal_id=proposal_id)
            was_on_desk = before.status == ProposalStatus.SUBMITTED
            proposal = await withdraw(
                session, org_id=context.org_id, proposal_id=proposal_id, actor=actor
            )
    except DomainError as error:
        if error.key == "proposal.already_decided":
            await context.answer(update, context.t("proposal.withdraw_too_late"), alert=True)
        else:
            await refuse(update, context, error)
        return
    await context.answer(update, context.t("proposal.done_toast"))
    logger.info("Proposal %s withdrawn by its proposer", proposal_id)
    await say(update, context, context.t("proposal.withdrawn", label=label(context.tr, proposal)))
    others = [m for m in await everyone_on(context, proposal) if m != actor.id]
    await context.notifier.tell(
        others, lambda tr: tr("proposal.told_withdrawn", label=label(tr, proposal))
    )
    if was_on_desk:
        await refresh(context, proposal_id)
        tr = context.i18n.get(context.settings.default_language)
        await post_under_cards(
            context,
            kind=KIND,
            item_id=proposal_id,
            text=tr("proposal.desk_withdrawn", label=label(tr, proposal)),
        )


async def keep_pressed(update: Update, context: UnionContext) -> None:
    """不撤回: nothing changes."""
    await context.answer(update, context.t("proposal.kept"))


# ---- /mine -------------------------------------------------------------------------------


async def mine_section(
    context: UnionContext, actor: Actor
) -> tuple[str, InlineKeyboardMarkup | None] | None:
    """The member's proposals and co-signatures with status (None when there are none)."""
    async with context.db() as session:
        rows = await proposals_of_member(session, org_id=context.org_id, member_id=actor.id)
    if not rows:
        return None
    tr = context.tr
    lines = [tr("proposal.mine_title")]
    buttons: list[list[tuple[str, Button]]] = []
    for row in rows[:30]:
        lines.append(_mine_line(tr, row))
        if row.own and row.proposal.status in _WITHDRAWABLE:
            buttons.append(
                [
                    (
                        tr("proposal.btn_withdraw", id=row.proposal.id),
                        ProposalOfMember("wd", row.proposal.id or 0),
                    )
                ]
            )
    return "\n".join(lines), keyboard(*buttons) if buttons else None


def _mine_line(tr: Translator, row: MemberProposal) -> str:
    role = tr("proposal.mine_own") if row.own else tr("proposal.mine_cosigned")
    line = f"• {label(tr, row.proposal)} · {status_name(tr, row.proposal)} ({role})"
    implementation = implementation_name(tr, row.proposal)
    if implementation:
        line += "\n  " + tr("proposal.mine_implementation", status=implementation)
    return line


def register(application: Application) -> None:
    """Add the member side of proposals."""
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("cosign", cosign_command, filters=private))
    application.add_handler(ButtonHandler(ProposalOfMember, cosign_pressed, "cosign"))
    application.add_handler(ButtonHandler(ProposalOfMember, withdraw_pressed, "wd"))
    application.add_handler(ButtonHandler(ProposalOfMember, withdraw_confirmed, "wdyes"))
    application.add_handler(ButtonHandler(ProposalOfMember, keep_pressed, "keep"))


def forms() -> list[Form]:
    """The forms of this feature (run by the form engine, one active per person)."""
    private = filters.ChatType.PRIVATE
    return [
        Form(
            conversation(
                name="proposal_filing",
                entry_points=[
                    CommandHandler("propose", start_filing, filters=private),
                    ButtonHandler(MenuButton, start_filing, "propose"),
                ],
                states={
                    Filing.TITLE: text_step(got_title),
                    Filing.SIMILAR: family_step(similar_chosen, FilingSimilar),
                    Filing.REASONS: text_step(got_reasons),
                    Filing.MEASURES: text_step(got_measures),
                    Filing.CATEGORY: family_step(got_category, FilingCategory),
                    Filing.CONFIRM: [*EDITS.handlers(), *family_step(confirm, FilingConfirm)],
                },
                fallbacks=[CommandHandler("cancel", cancel)],
                allow_reentry=True,
            ),
            label_key="form.label.proposal_filing",
            drafts=("proposal",),
        ),
    ]
