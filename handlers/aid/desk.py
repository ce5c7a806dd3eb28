"""Aid cases on the review desk: a masked card in the group (number, type, 王*, amount; never
the story or the evidence), the full case privately to the committee member who opens it, and
the decisions: approve, ask for information, reject, record the payment.

Typed steps (another amount, a question, a reason, payment details) continue in the presser's
private chat, one conversation per user.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    Application,
    BaseHandler,
    ConversationHandler,
)

from bot.buttons import ButtonHandler
from bot.context import UnionContext
from bot.forms import Form
from bot.i18n import Translator
from handlers.aid.buttons import AidAnswer, AidApproval, AidDeskCard
from handlers.common import (
    TYPED_TEXT,
    expect_text,
    is_private,
    keyboard,
    private_text_conversation,
    refuse,
    say,
)
from handlers.review_desk import committee_press, post_card, post_under_cards, refresh_cards
from models.aid import (
    AidApproval as ApprovalRow,
)
from models.aid import (
    AidCase,
    AidLedgerEntry,
    AidPolicy,
    AidStandard,
    AidType,
    ApprovalOutcome,
    CaseStatus,
    ChairReason,
    LedgerKind,
    approvals_of,
    approve,
    ask_information,
    chair_reasons,
    evidence_of,
    get_case,
    ledger_of,
    mark_paid,
    masked,
    may_decide,
    may_pay,
    parse_amount,
    parse_day,
    policy_for,
    reject,
    standard_for,
    usage,
    yuan,
)
from models.aid import Usage as AidUsage
from models.base import local_date
from models.desk import record_card
from models.errors import DomainError, InputError
from models.members import Actor, Member
from models.members_queries import members_by_id

logger = logging.getLogger(__name__)

KIND = "aid"
_END = ConversationHandler.END
PENDING = "aid_desk"
_TYPED = ("amt", "ask", "no", "pay")
# What the requester hears: (their own case, a colleague they reported).
_TOLD = {
    "approved": ("aid.told_approved", "aid.told_approved_report"),
    "asked": ("aid.told_asked", "aid.told_asked_report"),
    "rejected": ("aid.told_rejected", "aid.told_rejected_report"),
    "paid": ("aid.told_paid", "aid.told_paid_report"),
}
# ... when the committee started the case on a care visit: the visitor hears (handlers/care).
_TOLD_CARE = {
    "approved": "aid.told_approved_care",
    "asked": "aid.told_asked_care",
    "rejected": "aid.told_rejected_care",
    "paid": "aid.told_paid_care",
}
_DESK_NOTES = {"asked": "aid.desk_asked", "rejected": "aid.desk_rejected", "paid": "aid.desk_paid"}
# The same notes when the requester could not be told (blocked the bot, left Telegram...).
_DESK_NOTES_UNDELIVERED = {
    "asked": "aid.desk_asked_undelivered",
    "rejected": "aid.desk_rejected_undelivered",
    "paid": "aid.desk_paid_undelivered",
}
_PURPOSES = {
    "amt": "purpose.aid_amount",
    "ask": "purpose.aid_question",
    "no": "purpose.aid_rejection",
    "pay": "purpose.aid_payment",
}
_PROMPTS = {
    "amt": "aid.write_amount_desk",
    "ask": "aid.write_question",
    "no": "aid.write_reason",
    "pay": "aid.write_payment",
}


def now(context: UnionContext) -> datetime:
    """The current moment (UTC) from the application's clock."""
    return context.state.clock()


def today(context: UnionContext) -> date:
    """Today in the union's time zone."""
    return local_date(now(context), context.settings.zone)


def case_label(tr: Translator, case: AidCase) -> str:
    """助-2026-0007 住院慰问."""
    return tr("aid.label", number=case.number, type=tr(f"aid.type.{case.aid_type}"))


def _committee_tr(context: UnionContext) -> Translator:
    return context.i18n.get(context.settings.default_language)


async def _amount_to_approve(context: UnionContext, case: AidCase) -> int:
    """What the approve button offers: the asked amount, else the type's standard."""
    if case.amount_asked is not None:
        return case.amount_asked
    async with context.db() as session:
        standard = await standard_for(
            session, org_id=context.org_id, aid_type=AidType(case.aid_type)
        )
    return standard.amount


async def render_card(
    context: UnionContext, case: AidCase
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The masked card: number, type, 王*, amounts, the approvals so far (deciders are named),
    flags; no description, no evidence. Caps and the budget are those of the decision's year
    (today's while undecided), and the card says which year."""
    tr = _committee_tr(context)
    amount = await _amount_to_approve(context, case)
    year = case.approved_on.year if case.approved_on is not None else today(context).year
    async with context.db() as session:
        subject = await session.get(Member, case.subject_member_id)
        policy = await policy_for(session, org_id=context.org_id, year=year)
        standard = await standard_for(
            session, org_id=context.org_id, aid_type=AidType(case.aid_type)
        )
        used = await usage(session, org_id=context.org_id, case=case, year=year)
        votes = await approvals_of(session, case_id=case.id or 0)
        voters = await members_by_id(session, [vote.member_id for vote in votes])
    lines = [
        tr("aid.card_title", label=case_label(tr, case)),
        tr("aid.card_who", name=masked(subject.real_name if subject else "")),
        tr("aid.card_amount", asked=yuan(case.amount_asked), standard=yuan(standard.amount))
        if case.amount_asked
        else tr("aid.card_amount_standard", standard=yuan(standard.amount)),
    ]
    if case.reported:
        lines.append(tr("aid.card_reported"))
    if case.started_by_committee:
        lines.append(tr("aid.card_started"))
    lines.append(tr("aid.card_status", status=tr(f"aid.status.{case.status}")))
    if case.approved_amount is not None:
        lines.append(tr("aid.card_approved", amount=yuan(case.approved_amount), year=year))
    lines += _vote_lines(tr, case, votes, voters, (standard, used, policy))
    if used.budget_left is not None:
        lines.append(tr("aid.card_budget", amount=yuan(used.budget_left), year=year))
    if case.status in (CaseStatus.OPEN, CaseStatus.INFO_REQUESTED):
        for reason in chair_reasons(amount, standard, used, policy):
            lines.append("⚠️ " + tr(f"aid.reason.{reason}", count=used.count, year=year))
    return "\n".join(lines), _buttons(tr, case, amount)


def _vote_lines(
    tr: Translator,
    case: AidCase,
    votes: Sequence[ApprovalRow],
    voters: dict[int, Member],
    rules: tuple[AidStandard, AidUsage, AidPolicy],
) -> list[str]:
    """委员同意 1/2：刘委员（¥1,500） per amount while undecided; who approved once decided."""

    def names(amount: int) -> str:
        found = [voters.get(vote.member_id) for vote in votes if vote.amount == amount]
        return "、".join(member.real_name if member else "-" for member in found)

    if case.status in (CaseStatus.OPEN, CaseStatus.INFO_REQUESTED):
        lines = []
        for amount in dict.fromkeys(vote.amount for vote in votes):
            count = sum(1 for vote in votes if vote.amount == amount)
            reasons = chair_reasons(amount, *rules)
            if reasons and reasons != [ChairReason.OVER_THRESHOLD]:
                key, needed = "aid.card_votes_chair", 0
            else:
                key, needed = "aid.card_votes", 2 if reasons else 1
            lines.append(
                tr(key, count=count, needed=needed, names=names(amount), amount=yuan(amount))
            )
        return lines
    if case.approved_amount is not None and names(case.approved_amount):
        return [tr("aid.card_votes_done", names=names(case.approved_amount))]
    return []


def _buttons(tr: Translator, case: AidCase, amount: int) -> InlineKeyboardMarkup:
    cid = case.id or 0
    rows: list[list[tuple[str, AidDeskCard | AidApproval]]] = [
        [(tr("aid.btn_open"), AidDeskCard("open", cid))]
    ]
    if case.status in (CaseStatus.OPEN, CaseStatus.INFO_REQUESTED):
        rows.append(
            [
                (tr("aid.btn_approve", amount=yuan(amount)), AidApproval(cid, amount)),
                (tr("aid.btn_other_amount"), AidDeskCard("amt", cid)),
            ]
        )
        rows.append(
            [
                (tr("aid.btn_ask"), AidDeskCard("ask", cid)),
                (tr("aid.btn_reject"), AidDeskCard("no", cid)),
            ]
        )
    elif case.status == CaseStatus.APPROVED:
        rows.append([(tr("aid.btn_paid"), AidDeskCard("pay", cid))])
    return keyboard(*rows)


async def announce(context: UnionContext, case: AidCase) -> None:
    """A new case on the desk (masked)."""
    text, markup = await render_card(context, case)
    await post_card(context, kind=KIND, item_id=case.id or 0, text=text, markup=markup)


async def refresh(context: UnionContext, case_id: int) -> None:
    """Edit every copy of the case's card."""
    async with context.db() as session:
        case = await get_case(session, org_id=context.org_id, case_id=case_id)
    text, markup = await render_card(context, case)
    await refresh_cards(context, kind=KIND, item_id=case_id, text=text, markup=markup)


# ---- open: the whole case, privately -----------------------------------------------------


async def open_case(update: Update, context: UnionContext) -> None:
    """Open pressed: the full case and its evidence go to the presser's private chat."""
    pressed = await committee_press(update, context)
    if pressed is None:
        return
    actor = pressed
    case_id = context.button_as(AidDeskCard).case_id
    try:
        async with context.db() as session:
            case = await get_case(session, org_id=context.org_id, case_id=case_id)
            files = await evidence_of(session, case_id=case.id or 0)
            history = await ledger_of(session, case_id=case.id or 0)
            people = await members_by_id(
                session,
                [case.subject_member_id, case.requester_member_id]
                + [entry.actor_member_id for entry in history],
            )
    except DomainError:
        await context.answer(update, context.t("desk.item_not_found"), alert=True)
        return
    if actor.id in (case.subject_member_id, case.requester_member_id):
        await context.answer(update, context.t("aid.conflict_of_interest"), alert=True)
        return
    user_id = actor.member.telegram_user_id or 0
    tr = context.tr
    text, markup = await render_card(context, case)
    subject, requester = people.get(case.subject_member_id), people.get(case.requester_member_id)
    lines = [case_label(tr, case), tr("aid.full_subject", name=_who(subject))]
    if case.reported:
        lines.append(tr("aid.full_reporter", name=_who(requester)))
    lines += [
        tr("aid.field_day", value=case.happened_on.isoformat()),
        "",
        case.description,
        "",
        tr("aid.full_history"),
    ]
    for entry in history:
        lines.append(_history_line(context, entry, people.get(entry.actor_member_id)))
    try:
        await context.bot.send_message(user_id, "\n".join(lines)[:4000])
        for file in files:
            if file.kind == "photo":
                await context.bot.send_photo(user_id, file.file_id)
            else:
                await context.bot.send_document(user_id, file.file_id)
        copy = await context.bot.send_message(user_id, text, reply_markup=markup)
        async with context.db() as session:  # this copy is kept up to date like the group's
            await record_card(
                session,
                org_id=context.org_id,
                kind=KIND,
                item_id=case.id or 0,
                chat_id=user_id,
                message_id=copy.message_id,
            )
    except Forbidden:
        await context.answer(update, context.t("suggestion.open_private_first"), alert=True)
        return
    except TelegramError:
        logger.warning("Aid case %s could not be sent in full to member %s", case.id, actor.id)
    logger.info("Aid case %s opened by member %s", case.id, actor.id)
    await context.answer(update, None if is_private(update) else context.t("aid.opened_privately"))


def _who(member: Member | None) -> str:
    return f"{member.real_name}（{member.department}）" if member else "-"


def _history_line(context: UnionContext, entry: AidLedgerEntry, who: Member | None) -> str:
    """• 2026-12-05 已发放 ¥250（李会计·财务处）：发放日期 2026-12-05，现金；随春节慰问发放.

    The day is the union's (not UTC); a payment shows what was typed: the day paid, the
    method and the note."""
    tr = context.tr
    day = local_date(entry.created_at, context.settings.zone).isoformat()
    step = tr(f"aid.ledger.{entry.kind}")
    amount = f" ¥{yuan(entry.amount)}" if entry.amount is not None else ""
    person = f"{who.real_name}·{who.department}" if who else "-"
    details = []
    if entry.kind == LedgerKind.PAID and entry.paid_on is not None:
        details.append(
            tr("aid.history_paid", day=entry.paid_on.isoformat(), method=entry.method or "-")
        )
    if entry.note:
        details.append(entry.note)
    tail = "：" + "；".join(details) if details else ""
    return f"• {day} {step}{amount}（{person}）{tail}"


# ---- approve -----------------------------------------------------------------------------


async def approve_pressed(update: Update, context: UnionContext) -> None:
    """批准 ¥N pressed."""
    pressed = await committee_press(update, context)
    if pressed is None:
        return
    actor = pressed
    button = context.button_as(AidApproval)
    case_id, amount = button.case_id, button.amount
    if not amount:
        await context.answer(update, context.t("desk.stale_button"), alert=True)
        return
    approval = await _approve(update, context, actor, case_id, amount)
    if approval is not None:
        outcome, told = approval
        # Not told: an alert the presser has to acknowledge, so somebody contacts the requester.
        await context.answer(update, _outcome_text(context, outcome, told), alert=not told)


async def _approve(
    update: Update, context: UnionContext, actor: Actor, case_id: int, amount: int
) -> tuple[ApprovalOutcome, bool] | None:
    """Record one approval; returns the outcome and whether the requester could be told (true
    when there was nothing to tell yet), or None after a refusal."""
    try:
        async with context.db() as session:
            outcome = await approve(
                session,
                org_id=context.org_id,
                case_id=case_id,
                actor=actor,
                amount=amount,
                today=today(context),
            )
    except DomainError as error:
        await refuse(update, context, error)
        return None
    logger.info("Aid case %s approval by member %s", case_id, actor.id)
    await refresh(context, case_id)
    told = True
    if outcome.approved:
        told = await _tell_requester(context, outcome.case, "approved")
    return outcome, told


def _outcome_text(context: UnionContext, outcome: ApprovalOutcome, told: bool = True) -> str:
    if outcome.approved:
        key = "aid.approved_toast" if told else "aid.approved_undelivered"
        return context.t(key, number=outcome.case.number)
    if list(outcome.reasons) == [ChairReason.OVER_THRESHOLD]:
        return context.t("aid.needs_second", count=outcome.approvals)
    return context.t("aid.needs_chair")


async def _tell_requester(
    context: UnionContext, case: AidCase, outcome: str, note: str = ""
) -> bool:
    """The requester (or reporter) hears the outcome in their language; the subject of a
    colleague's report is not messaged. Returns whether the requester got the message."""
    key = _TOLD[outcome][1 if case.reported else 0]
    if case.started_by_committee:  # the committee member who visited (handlers/care)
        key = _TOLD_CARE[outcome]
    amount = yuan(case.approved_amount) if case.approved_amount is not None else "-"
    name = ""
    if case.reported or case.started_by_committee:  # they hear about the colleague they named
        async with context.db() as session:
            subject = await session.get(Member, case.subject_member_id)
        name = subject.real_name if subject else "-"

    def render(tr: Translator) -> str:
        # A payment reads as care: the kind of aid and a wish fitting it, not a receipt.
        return tr(
            key,
            number=case.number,
            amount=amount,
            note=note,
            name=name,
            kind=tr(f"aid.paid_kind.{case.aid_type}"),
            wish=tr(f"aid.wish.{case.aid_type}"),
        )

    markup = None
    if outcome == "asked":

        def markup(tr: Translator) -> InlineKeyboardMarkup:
            return keyboard([(tr("aid.btn_answer"), AidAnswer(case.id or 0))])

    # A care visit's money names the colleague, the amount and the reason: only while the one
    # who recorded it is still on the committee (checked at delivery).
    only = case.started_by_committee
    return (
        await context.notifier.tell([case.requester_member_id], render, markup, committee_only=only)
        > 0
    )


# ---- typed steps -------------------------------------------------------------------------


async def start_typing(update: Update, context: UnionContext) -> int:
    """Another amount / Ask / Reject / Paid pressed: the text is typed privately."""
    query = update.callback_query
    assert query is not None and context.user_data is not None
    button = context.button_as(AidDeskCard)
    action, case_id = button.action, button.case_id
    actor = context.actor
    paying = action == "pay"
    # The treasurer records payments without being a committee member.
    if actor is None or not (may_pay(actor) if paying else may_decide(actor)):
        logger.warning("Refused %s:%s press by user %s", button.prefix, action, query.from_user.id)
        key = "aid.treasurer_only" if paying else "desk.not_committee"
        if not paying and actor is not None and actor.is_committee:
            key = "aid.auditor_never_decides"  # 经审 is refused at the button, not after typing
        await context.answer(update, context.t(key), alert=True)
        return _END
    try:
        async with context.db() as session:
            case = await get_case(session, org_id=context.org_id, case_id=case_id)
    except DomainError:
        await context.answer(update, context.t("desk.item_not_found"), alert=True)
        return _END
    if actor.id in (case.subject_member_id, case.requester_member_id):
        await context.answer(update, context.t("aid.conflict_of_interest"), alert=True)
        return _END
    undecided = (CaseStatus.OPEN, CaseStatus.INFO_REQUESTED)
    wanted = (CaseStatus.APPROVED,) if paying else undecided
    if case.status not in wanted:
        await context.answer(update, context.t("aid.already_decided"), alert=True)
        await refresh(context, case.id or 0)
        return _END
    purpose = context.t(_PURPOSES[action], number=case.number)
    shown_back = action in ("ask", "no")  # these go to the requester as typed
    prompt = (
        expect_text(context, purpose, shown_back=shown_back)
        + "\n"
        + context.t(_PROMPTS[action], number=case.number)
    )
    try:
        await context.bot.send_message(actor.member.telegram_user_id or 0, prompt)
    except Forbidden:
        await context.answer(update, context.t("suggestion.open_private_first"), alert=True)
        return _END
    context.user_data[PENDING] = {"what": action, "id": case.id}
    await context.answer(update, None if is_private(update) else context.t("aid.opened_privately"))
    return TYPED_TEXT


async def text_typed(update: Update, context: UnionContext, text: str) -> int:
    """The amount, question, reason or payment details."""
    assert context.user_data is not None
    pending = context.user_data.get(PENDING) or {}
    what, case_id = str(pending.get("what", "")), int(pending.get("id", 0))
    actor = context.actor
    allowed = actor is not None and (may_pay(actor) if what == "pay" else may_decide(actor))
    if actor is None or not allowed or what not in _TYPED:
        context.user_data.pop(PENDING, None)
        await say(update, context, context.t("desk.not_committee"))
        return _END
    try:
        if what == "amt":
            approval = await _approve(update, context, actor, case_id, parse_amount(text))
            if approval is not None:
                await say(update, context, _outcome_text(context, *approval))
            context.user_data.pop(PENDING, None)
            return _END
        async with context.db() as session:
            if what == "ask":
                case = await ask_information(
                    session, org_id=context.org_id, case_id=case_id, actor=actor, question=text
                )
            elif what == "no":
                case = await reject(
                    session, org_id=context.org_id, case_id=case_id, actor=actor, reason=text
                )
            else:
                day, _, note = text.strip().partition(" ")
                method, _, note = note.strip().partition(" ")
                case = await mark_paid(
                    session,
                    org_id=context.org_id,
                    case_id=case_id,
                    actor=actor,
                    paid_on=parse_day(day, today(context)),
                    method=method or "-",
                    note=note or None,
                    today=today(context),
                    now=now(context),
                )
    except DomainError as error:
        await refuse(update, context, error)
        if isinstance(error, InputError):
            return TYPED_TEXT
        context.user_data.pop(PENDING, None)
        return _END
    context.user_data.pop(PENDING, None)
    logger.info("Aid case %s: %s by member %s", case_id, what, actor.id)
    await refresh(context, case_id)
    outcome = {"ask": "asked", "no": "rejected", "pay": "paid"}[what]
    told = await _tell_requester(context, case, outcome, note=text.strip())
    tr = _committee_tr(context)
    note_key = _DESK_NOTES[outcome] if told else _DESK_NOTES_UNDELIVERED[outcome]
    await post_under_cards(
        context,
        kind=KIND,
        item_id=case_id,
        text=tr(note_key, number=case.number, who=actor.member.real_name),
    )
    stored_key = "aid.stored" if told else "aid.stored_undelivered"
    await say(update, context, context.t(stored_key, number=case.number))
    return _END


async def cancel_typing(update: Update, context: UnionContext) -> int:
    """/cancel while typing."""
    if context.user_data is not None:
        context.user_data.pop(PENDING, None)
    await say(update, context, context.t("aid.cancelled"))
    return _END


def typing_conversation() -> ConversationHandler[Any]:
    """Buttons in the group, text in private: per user."""
    entry_points: list[BaseHandler[Any, Any, Any]] = [
        ButtonHandler(AidDeskCard, start_typing, action) for action in _TYPED
    ]
    return private_text_conversation(
        name="aid_desk_text", entry_points=entry_points, on_text=text_typed, on_cancel=cancel_typing
    )


def register(application: Application) -> None:
    """Add the committee's aid buttons."""
    application.add_handler(ButtonHandler(AidDeskCard, open_case, "open"))
    application.add_handler(ButtonHandler(AidApproval, approve_pressed))


def forms() -> list[Form]:
    """The forms of this feature (run by the form engine, one active per person)."""
    return [
        Form(
            typing_conversation(),
            label_key="form.label.aid_desk_text",
            drafts=("aid_desk",),
            committee=True,
            prompt=True,
        ),
    ]
