"""Hardship and care aid for members: /aid for oneself or to report a colleague, answering the
committee's question, withdrawing, and the aid section of /mine.

Descriptions and evidence stay in the private chat and the database: nothing here writes them
to the group or to the logs.
"""

from __future__ import annotations

import logging
import secrets
from datetime import date, datetime, time
from enum import IntEnum
from typing import Any

from sqlmodel import col, func, select
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.buttons import ButtonHandler
from bot.context import UnionContext
from bot.forms import Form
from bot.i18n import Translator
from handlers.aid.buttons import (
    AidAnswer,
    AidColleague,
    AidConfirm,
    AidEvidenceDone,
    AidFor,
    AidStandardAmount,
    AidTypeChoice,
    AidWithdraw,
)
from handlers.aid.desk import announce, case_label, refresh, today
from handlers.common import (
    TYPED_TEXT,
    EditableField,
    PreviewEdits,
    conversation,
    expect_text,
    family_step,
    keyboard,
    member_buttons,
    private_text_conversation,
    refuse,
    require_member,
    say,
    say_receipt,
    text_step,
    typed_text,
    user_draft,
)
from handlers.menu.buttons import MenuButton
from handlers.review_desk import post_under_cards
from models.aid import (
    DESCRIPTION_LIMIT,
    MAX_EVIDENCE,
    REPORTABLE,
    AidCase,
    AidType,
    CaseDraft,
    CaseStatus,
    cases_of_member,
    check_amount,
    check_event_day,
    file_case,
    get_case,
    give_information,
    last_asker,
    parse_amount,
    parse_day,
    policy_for,
    standard_for,
    withdraw_case,
    yuan,
)
from models.errors import N_, DomainError, InputError
from models.members import Actor, Member

logger = logging.getLogger(__name__)

_END = ConversationHandler.END
# Telegram lets a bot fetch files up to 20 MB; larger evidence could never be opened.
MAX_FILE_BYTES = 20 * 1024 * 1024
ALLOWED_DOCUMENTS = {"application/pdf", "image/jpeg", "image/png"}


class Asking(IntEnum):
    """Steps of asking for aid."""

    WHO = 1
    COLLEAGUE = 2
    TYPE = 3
    DESCRIPTION = 4
    DAY = 5
    AMOUNT = 6
    EVIDENCE = 7
    CONFIRM = 8


def _draft(context: UnionContext) -> dict[str, Any]:
    return user_draft(context, "aid")


async def _daily_limit_refusal(context: UnionContext, actor: Actor) -> str | None:
    """The refusal for a member who filed AID_REQUEST_DAILY_LIMIT requests or reports today
    (in the union's time zone), or None: floods of cards are stopped before anything is typed."""
    limit = context.settings.aid_request_daily_limit
    since = datetime.combine(today(context), time(), tzinfo=context.settings.zone)
    async with context.db() as session:
        filed = (
            await session.exec(
                select(func.count())
                .select_from(AidCase)
                .where(
                    AidCase.organization_id == context.org_id,
                    AidCase.requester_member_id == actor.id,
                    col(AidCase.created_at) >= since,
                )
            )
        ).one()
    return context.t("aid.daily_limit", limit=limit) if int(filed) >= limit else None


def type_name(tr: Translator, aid_type: str) -> str:
    """An aid type in words."""
    return tr(f"aid.type.{aid_type}")


async def start_asking(update: Update, context: UnionContext) -> int:
    """/aid or the menu: for oneself, or to tell the union about a colleague."""
    if update.callback_query is not None:
        await context.answer(update)
    actor = await require_member(update, context)
    if actor is None:
        return _END
    refusal = await _daily_limit_refusal(context, actor)
    if refusal is not None:
        await say(update, context, refusal)
        return _END
    draft = _draft(context)
    draft.clear()
    draft.update(client_token=secrets.token_hex(8), evidence=[])
    await say(
        update,
        context,
        context.t("aid.intro"),
        keyboard(
            [(context.t("aid.for_me"), AidFor("me"))],
            [(context.t("aid.for_colleague"), AidFor("other"))],
        ),
    )
    return Asking.WHO


async def got_who(update: Update, context: UnionContext) -> int:
    """For me: choose the type. For a colleague: who is it?"""
    choice = context.button_as(AidFor).choice
    await context.answer(update)
    if choice == "other":
        await say(update, context, context.t("aid.colleague_name"))
        return Asking.COLLEAGUE
    return await _ask_type(update, context, list(AidType))


async def got_colleague_name(update: Update, context: UnionContext) -> int:
    """A name (or part of one): matching members as buttons."""
    actor = await require_member(update, context)
    if actor is None:
        return _END
    text = await typed_text(update, context, limit=20)
    if text is None:
        return Asking.COLLEAGUE
    markup = await member_buttons(context, text, AidColleague, exclude=actor.id)
    if markup is None:
        await say(update, context, context.t("aid.colleague_none"))
        return Asking.COLLEAGUE
    await say(update, context, context.t("aid.colleague_pick"), markup)
    return Asking.COLLEAGUE


async def got_colleague(update: Update, context: UnionContext) -> int:
    """The colleague chosen: only the kinds of news a colleague may bring."""
    member_id = context.button_as(AidColleague).member_id
    await context.answer(update)
    _draft(context)["subject"] = member_id
    return await _ask_type(update, context, list(REPORTABLE))


async def _ask_type(update: Update, context: UnionContext, types: list[AidType]) -> int:
    rows = [[(type_name(context.tr, t), AidTypeChoice(t))] for t in types]
    await say(update, context, context.t("aid.choose_type"), keyboard(*rows))
    return Asking.TYPE


async def got_type(update: Update, context: UnionContext) -> int:
    """A type: its standard and the evidence usually needed, then what happened."""
    draft = _draft(context)
    allowed = REPORTABLE if draft.get("subject") else tuple(AidType)
    aid_type = context.button_as(AidTypeChoice).aid_type
    if aid_type not in allowed:
        await context.answer(update, context.t("desk.stale_button"), alert=True)
        return Asking.TYPE
    await context.answer(update)
    choice = aid_type.value
    draft["type"] = choice
    async with context.db() as session:
        standard = await standard_for(session, org_id=context.org_id, aid_type=aid_type)
    await say(
        update,
        context,
        context.t(
            "aid.standard",
            type=type_name(context.tr, choice),
            amount=yuan(standard.amount),
            evidence=context.t(f"aid.evidence.{choice}"),
        )
        + "\n\n"
        + context.t("aid.write_description", limit=DESCRIPTION_LIMIT),
    )
    return Asking.DESCRIPTION


async def got_description(update: Update, context: UnionContext) -> int:
    """What happened."""
    text = await typed_text(
        update, context, limit=DESCRIPTION_LIMIT, multiline=True, needs_words=True
    )
    if text is None:
        return Asking.DESCRIPTION
    _draft(context)["description"] = text
    return await EDITS.then(update, context, _ask_day)


async def _ask_description(update: Update, context: UnionContext) -> int:
    await say(update, context, context.t("aid.write_description", limit=DESCRIPTION_LIMIT))
    return Asking.DESCRIPTION


async def _ask_day(update: Update, context: UnionContext) -> int:
    await say(update, context, context.t("aid.write_day"))
    return Asking.DAY


async def got_day(update: Update, context: UnionContext) -> int:
    """When it happened; then the amount (a report asks for none: the committee decides)."""
    text = await typed_text(update, context, limit=20)
    if text is None:
        return Asking.DAY
    try:
        day = parse_day(text, today(context))
        # Not in the future, and not older than AID_EVENT_MAX_AGE_MONTHS.
        check_event_day(
            day, today=today(context), max_age_months=context.settings.aid_event_max_age_months
        )
    except DomainError as error:
        await refuse(update, context, error)
        return Asking.DAY
    draft = _draft(context)
    draft["day"] = day.isoformat()
    return await EDITS.then(update, context, _ask_amount)


async def _ask_amount(update: Update, context: UnionContext) -> int:
    """The amount (a report asks for none: the committee decides)."""
    if _draft(context).get("subject"):
        return await _ask_evidence(update, context)
    await say(
        update,
        context,
        context.t("aid.write_amount"),
        keyboard([(context.t("aid.use_standard"), AidStandardAmount("std"))]),
    )
    return Asking.AMOUNT


async def got_amount(update: Update, context: UnionContext) -> int:
    """A typed amount in yuan."""
    text = await typed_text(update, context, limit=20)
    if text is None:
        return Asking.AMOUNT
    try:
        amount = parse_amount(text)
        async with context.db() as session:
            policy = await policy_for(session, org_id=context.org_id, year=today(context).year)
        check_amount(amount, policy)
    except DomainError as error:
        await refuse(update, context, error)
        return Asking.AMOUNT
    _draft(context)["amount"] = amount
    return await EDITS.then(update, context, _ask_evidence)


async def amount_standard(update: Update, context: UnionContext) -> int:
    """The standard amount: nothing typed."""
    await context.answer(update)
    _draft(context).pop("amount", None)
    return await EDITS.then(update, context, _ask_evidence)


async def _ask_evidence(update: Update, context: UnionContext) -> int:
    await say(
        update,
        context,
        context.t("aid.ask_evidence", limit=MAX_EVIDENCE),
        keyboard([(context.t("aid.evidence_done"), AidEvidenceDone("done"))]),
    )
    return Asking.EVIDENCE


async def got_file(update: Update, context: UnionContext) -> int:
    """A photo, or a PDF / JPEG / PNG document within Telegram's limits."""
    message = update.message
    assert message is not None
    evidence: list[list[str]] = _draft(context).setdefault("evidence", [])
    if len(evidence) >= MAX_EVIDENCE:
        await say(update, context, context.t("aid.too_many_files", limit=MAX_EVIDENCE))
        return await _preview(update, context)
    if message.photo:
        evidence.append([message.photo[-1].file_id, "photo"])
    else:
        document = message.document
        assert document is not None
        if document.mime_type not in ALLOWED_DOCUMENTS:
            await say(update, context, context.t("aid.file_type"))
            return Asking.EVIDENCE
        if (document.file_size or 0) > MAX_FILE_BYTES:
            await say(update, context, context.t("aid.file_too_big"))
            return Asking.EVIDENCE
        evidence.append([document.file_id, "document"])
    await say(
        update,
        context,
        context.t("aid.file_received", count=len(evidence), limit=MAX_EVIDENCE),
        keyboard([(context.t("aid.evidence_done"), AidEvidenceDone("done"))]),
    )
    return Asking.EVIDENCE


async def not_a_file(update: Update, context: UnionContext) -> int:
    """Text, a sticker or a voice note where evidence is expected: it is not evidence."""
    assert update.message is not None
    await say(
        update,
        context,
        context.t("aid.text_not_file" if update.message.text else "aid.files_only"),
        keyboard([(context.t("aid.evidence_done"), AidEvidenceDone("done"))]),
    )
    return Asking.EVIDENCE


async def evidence_done(update: Update, context: UnionContext) -> int:
    """Done with evidence (or none): the preview."""
    await context.answer(update)
    return await _preview(update, context)


async def _preview(update: Update, context: UnionContext) -> int:
    draft = _draft(context)
    if not all(key in draft for key in ("type", "description", "day")):
        await say(update, context, context.t("aid.draft_lost"))
        return _END
    amount = draft.get("amount")
    lines = [
        context.t("aid.preview_title"),
        context.t("aid.field_type", value=type_name(context.tr, draft["type"])),
        context.t("aid.field_day", value=draft["day"]),
        context.t("aid.field_amount", value=f"¥{yuan(amount)}")
        if amount
        else context.t("aid.amount_standard_word"),
        context.t("aid.field_files", count=len(draft.get("evidence", []))),
    ]
    if draft.get("subject"):
        colleague = await _colleague(context, int(draft["subject"]))
        lines.insert(1, context.t("aid.preview_report", name=colleague))
    lines += ["", str(draft["description"])]
    markup = EDITS.markup(context, AidConfirm("yes"), AidConfirm("cancel"))
    await say(update, context, "\n".join(lines), markup)
    return Asking.CONFIRM


# ✏️ 修改某项 under the preview (a colleague's report has no amount).
EDITS = PreviewEdits(
    "aid",
    [
        EditableField("aid.edit.description", _ask_description),
        EditableField("aid.edit.day", _ask_day),
        EditableField("aid.edit.amount", _ask_amount, lambda draft: not draft.get("subject")),
    ],
    _preview,
)


async def confirm(update: Update, context: UnionContext) -> int:
    """Confirm: stored at once with its evidence; the committee gets a masked card."""
    choice = context.button_as(AidConfirm).choice
    await context.answer(update)
    if choice == "cancel":
        return await cancel(update, context)
    actor = await require_member(update, context)
    if actor is None:
        return _END
    draft = _draft(context)
    if not all(key in draft for key in ("type", "description", "day", "client_token")):
        await say(update, context, context.t("aid.draft_lost"))
        return _END
    refusal = await _daily_limit_refusal(context, actor)
    if refusal is not None:
        await say(update, context, refusal)
        draft.clear()
        return _END
    try:
        async with context.db() as session:
            case = await file_case(
                session,
                org_id=context.org_id,
                actor=actor,
                draft=CaseDraft(
                    aid_type=AidType(draft["type"]),
                    description=str(draft["description"]),
                    happened_on=date.fromisoformat(draft["day"]),
                    amount_asked=draft.get("amount"),
                    evidence=tuple((f, k) for f, k in draft.get("evidence", [])),
                    client_token=str(draft["client_token"]),
                    subject_member_id=draft.get("subject"),
                ),
                today=today(context),
                max_age_months=context.settings.aid_event_max_age_months,
            )
    except DomainError as error:
        await refuse(update, context, error)
        draft.clear()
        return _END
    draft.clear()
    logger.info("Aid case %s filed (reported=%s)", case.id, case.reported)
    await announce(context, case)
    if case.reported:  # the colleague who was picked is named back
        colleague = await _colleague(context, case.subject_member_id)
        receipt = context.t("aid.receipt_report", number=case.number, name=colleague)
    else:
        receipt = context.t("aid.receipt", number=case.number)
    await say_receipt(update, context, receipt)
    return _END


async def _colleague(context: UnionContext, member_id: int) -> str:
    """The colleague a report is about, as picked: 陈建国（退休教师）."""
    async with context.db() as session:
        member = await session.get(Member, member_id)
    if member is None:
        return "-"
    return context.t("aid.person", name=member.real_name, department=member.department)


async def cancel(update: Update, context: UnionContext) -> int:
    """/cancel while asking."""
    _draft(context).clear()
    await say(update, context, context.t("aid.cancelled"))
    return _END


# ---- answering the committee's question ---------------------------------------------------


async def start_answer(update: Update, context: UnionContext) -> int:
    """Reply pressed under the committee's question: the case must be the presser's and wait
    for an answer, or the press is refused before any text is asked for; the check is made
    again when the answer comes."""
    assert context.user_data is not None
    case_id = context.button_as(AidAnswer).case_id
    actor = await require_member(update, context)
    if actor is None:
        return _END
    try:
        async with context.db() as session:
            case = await get_case(session, org_id=context.org_id, case_id=case_id)
    except DomainError as error:
        await refuse(update, context, error)
        return _END
    if case.requester_member_id != actor.id:
        await refuse(update, context, DomainError(N_("aid.not_yours")))
        return _END
    if case.status != CaseStatus.INFO_REQUESTED:
        await refuse(update, context, DomainError(N_("aid.no_question"), number=case.number))
        return _END
    await context.answer(update)
    context.user_data["aid_answer"] = case_id
    writing = expect_text(context, context.t("purpose.aid_answer"))
    prompt = context.t("aid.write_answer", limit=DESCRIPTION_LIMIT)
    await say(update, context, writing + "\n" + prompt)
    return TYPED_TEXT


async def send_answer(update: Update, context: UnionContext, text: str) -> int:
    """The answer, checked by its writer, goes to the case (privately); the group only hears
    that one came."""
    assert context.user_data is not None
    actor = await require_member(update, context)
    if actor is None:
        return _END
    try:
        async with context.db() as session:
            case = await give_information(
                session,
                org_id=context.org_id,
                case_id=int(context.user_data.get("aid_answer", 0)),
                actor=actor,
                answer=text,
            )
    except DomainError as error:
        await refuse(update, context, error)
        if isinstance(error, InputError):
            return TYPED_TEXT
        context.user_data.pop("aid_answer", None)
        return _END
    context.user_data.pop("aid_answer", None)
    answer = text.strip()
    async with context.db() as session:
        asker = await last_asker(session, case_id=case.id or 0)
    if asker is not None:  # the answer itself goes only to the one who asked, privately
        await context.notifier.tell(
            [asker],
            lambda tr: tr("aid.answer_to_asker", number=case.number) + "\n\n" + answer,
            committee_only=True,
        )
    tr = context.i18n.get(context.settings.default_language)
    await post_under_cards(
        context, kind="aid", item_id=case.id or 0, text=tr("aid.desk_answered", number=case.number)
    )
    await refresh(context, case.id or 0)
    await say(update, context, context.t("aid.answer_sent", number=case.number))
    return _END


async def cancel_answer(update: Update, context: UnionContext) -> int:
    """/cancel while answering."""
    if context.user_data is not None:
        context.user_data.pop("aid_answer", None)
    await say(update, context, context.t("aid.cancelled"))
    return _END


# ---- withdrawing and /mine ---------------------------------------------------------------


async def withdraw_pressed(update: Update, context: UnionContext) -> None:
    """Withdraw pressed in /mine (before a decision)."""
    actor = await require_member(update, context)
    if actor is None:
        return
    case_id = context.button_as(AidWithdraw).case_id
    try:
        async with context.db() as session:
            case = await withdraw_case(session, org_id=context.org_id, case_id=case_id, actor=actor)
    except DomainError as error:
        await refuse(update, context, error)
        return
    await context.answer(update, context.t("aid.withdrawn_toast"))
    await refresh(context, case_id)
    await say(update, context, context.t("aid.withdrawn", number=case.number))


async def mine_section(
    context: UnionContext, actor: Actor
) -> tuple[str, InlineKeyboardMarkup | None] | None:
    """The member's own aid cases with status (None when there are none)."""
    member_id = actor.id
    async with context.db() as session:
        cases = await cases_of_member(session, org_id=context.org_id, member_id=member_id)
    if not cases:
        return None
    tr = context.tr
    lines = [tr("aid.mine_title")]
    buttons: list[list[tuple[str, AidWithdraw]]] = []
    for case in cases[:20]:
        lines.append(_mine_line(tr, case))
        if case.status in (CaseStatus.OPEN, CaseStatus.INFO_REQUESTED):
            buttons.append(
                [(tr("aid.btn_withdraw", number=case.number), AidWithdraw(case.id or 0))]
            )
    return "\n".join(lines), keyboard(*buttons) if buttons else None


def _mine_line(tr: Translator, case: AidCase) -> str:
    line = f"• {case_label(tr, case)} · {tr(f'aid.status.{case.status}')}"
    if case.approved_amount is not None:
        line += f" · ¥{yuan(case.approved_amount)}"
    return line


def register(application: Application) -> None:
    """Add the member side of aid."""
    application.add_handler(ButtonHandler(AidWithdraw, withdraw_pressed))


def forms() -> list[Form]:
    """The forms of this feature (run by the form engine, one active per person)."""
    private = filters.ChatType.PRIVATE
    return [
        Form(
            conversation(
                name="aid_asking",
                entry_points=[
                    CommandHandler("aid", start_asking, filters=private),
                    ButtonHandler(MenuButton, start_asking, "aid"),
                ],
                states={
                    Asking.WHO: family_step(got_who, AidFor),
                    Asking.COLLEAGUE: [
                        ButtonHandler(AidColleague, got_colleague),
                        *text_step(got_colleague_name),
                    ],
                    Asking.TYPE: family_step(got_type, AidTypeChoice),
                    Asking.DESCRIPTION: text_step(got_description),
                    Asking.DAY: text_step(got_day),
                    Asking.AMOUNT: [
                        ButtonHandler(AidStandardAmount, amount_standard),
                        *text_step(got_amount),
                    ],
                    Asking.EVIDENCE: [
                        MessageHandler(filters.PHOTO | filters.Document.ALL, got_file),
                        ButtonHandler(AidEvidenceDone, evidence_done),
                        MessageHandler(~filters.COMMAND, not_a_file),
                    ],
                    Asking.CONFIRM: [*EDITS.handlers(), *family_step(confirm, AidConfirm)],
                },
                fallbacks=[CommandHandler("cancel", cancel)],
                allow_reentry=True,
            ),
            label_key="form.label.aid_asking",
            drafts=("aid",),
        ),
        Form(
            private_text_conversation(
                name="aid_answer",
                entry_points=[ButtonHandler(AidAnswer, start_answer)],
                on_text=send_answer,
                on_cancel=cancel_answer,
            ),
            label_key="form.label.aid_answer",
            drafts=("aid_answer",),
        ),
    ]
