"""Objections to a notice: a member raises one privately (named or anonymous, shown back before
it is sent); the committee gets a card per objection and answers it (shown back too); the
answer reaches the objector, an anonymous one through the seal. Nothing here logs or shows who
raised an anonymous objection."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import Application, ConversationHandler

from bot.buttons import ButtonHandler
from bot.context import UnionContext
from bot.forms import Form
from handlers.common import (
    TYPED_TEXT,
    expect_text,
    keyboard,
    private_text_conversation,
    refuse,
    require_member,
    say,
    say_receipt,
)
from handlers.notices.buttons import NoticeFile, ObjectButton, ObjectionCard, ObjectionStart
from handlers.notices.publishing import send_file
from handlers.review_desk import committee_press, post_card, refresh_cards
from models.errors import DomainError, InputError
from models.members import Member
from models.notice_text import day_words
from models.notices import (
    OBJECTION_LIMIT,
    Notice,
    NoticeObjection,
    answer_objection,
    check_concerned,
    check_open,
    get_notice,
    get_objection,
    objector_id,
    raise_objection,
    settle_if_handled,
)
from scheduler.notice_jobs import tell_outcome

logger = logging.getLogger(__name__)

_END = ConversationHandler.END
KIND = "notice_objection"  # desk cards
_OBJECTING = "notice_objection"  # the objector's draft: the notice and named/anonymous
_ANSWERING = "notice_answer"  # the committee member's draft: the objection being answered


# ---- a member objects ----------------------------------------------------------------------


async def open_link(update: Update, context: UnionContext, target: str) -> None:
    """An `objection-<id>` link from the disclosure channel, opened by an active member."""
    notice_id = int(target) if target.isascii() and target.isdigit() and len(target) < 10 else 0
    await _offer(update, context, notice_id)


async def object_pressed(update: Update, context: UnionContext) -> None:
    """提出异议 under a member's copy of a notice."""
    await _offer(update, context, context.button_as(ObjectButton).notice_id)


async def file_pressed(update: Update, context: UnionContext) -> None:
    """📎 查看附件: the notice's file, privately."""
    actor = await require_member(update, context)
    if actor is None or update.effective_chat is None:
        return
    try:
        async with context.db() as session:
            notice = await get_notice(
                session, org_id=context.org_id, notice_id=context.button_as(NoticeFile).notice_id
            )
            await check_concerned(session, notice=notice, actor=actor)
    except DomainError as error:
        await refuse(update, context, error)
        return
    await context.answer(update)
    await send_file(context, update.effective_chat.id, notice)


async def _offer(update: Update, context: UnionContext, notice_id: int) -> None:
    """Named or anonymous? Or, after the end, a plain refusal."""
    actor = await require_member(update, context)
    if actor is None:
        return
    try:
        async with context.db() as session:
            notice = await get_notice(session, org_id=context.org_id, notice_id=notice_id)
            await check_concerned(session, notice=notice, actor=actor)
        check_open(notice, today=context.today())
    except DomainError as error:
        if update.callback_query is not None:
            await context.answer(update)
        await say(update, context, context.t(error.key, **error.params))
        return
    if update.callback_query is not None:
        await context.answer(update)
    text = context.t(
        "notice.ask_anonymity",
        number=notice.number,
        title=notice.title,
        end=day_words(context.tr, notice.ends_on),
    )
    markup = keyboard(
        [(context.t("notice.object_named"), ObjectionStart("named", notice.id or 0))],
        [(context.t("notice.object_anonymous"), ObjectionStart("anon", notice.id or 0))],
    )
    await say(update, context, text, markup)


def _purpose(context: UnionContext, notice: Notice, anonymous: bool) -> str:
    key = "purpose.notice_objection_anonymous" if anonymous else "purpose.notice_objection"
    return context.t(key, number=notice.number, title=notice.title)


async def start_objection(update: Update, context: UnionContext) -> int:
    """Named / anonymous pressed: the objection is typed next, and shown back before it goes."""
    assert context.user_data is not None
    button = context.button_as(ObjectionStart)
    actor = await require_member(update, context)
    if actor is None:
        return _END
    try:
        async with context.db() as session:
            notice = await get_notice(session, org_id=context.org_id, notice_id=button.notice_id)
            await check_concerned(session, notice=notice, actor=actor)
        check_open(notice, today=context.today())
    except DomainError as error:
        await refuse(update, context, error)
        return _END
    await context.answer(update)
    anonymous = button.choice == "anon"
    context.user_data[_OBJECTING] = {"notice_id": notice.id, "anonymous": anonymous}
    prompt = context.t("notice.write_objection", limit=OBJECTION_LIMIT)
    await say(
        update, context, expect_text(context, _purpose(context, notice, anonymous)) + "\n" + prompt
    )
    return TYPED_TEXT


async def send_objection(update: Update, context: UnionContext, text: str) -> int:
    """The objection, checked by its writer: stored, carded for the committee, a receipt."""
    assert context.user_data is not None
    pending = context.user_data.get(_OBJECTING) or {}
    actor = await require_member(update, context)
    if actor is None:
        return _END
    anonymous = bool(pending.get("anonymous"))
    today = context.today()
    limit = context.settings.anonymous_daily_limit
    if anonymous and not context.state.seal.tally.take(actor.id, today, limit):
        await say(update, context, context.t("notice.anonymous_limit", limit=limit))
        return await _forget(update, context)
    try:
        async with context.db() as session:
            notice, objection = await raise_objection(
                session,
                org_id=context.org_id,
                notice_id=int(pending.get("notice_id", 0)),
                actor=actor,
                body=text,
                anonymous=anonymous,
                seal=context.state.seal,
                today=today,
            )
    except DomainError as error:
        if anonymous:
            context.state.seal.tally.give_back(actor.id, today)
        await refuse(update, context, error)
        if isinstance(error, InputError):
            return TYPED_TEXT
        return await _forget(update, context)
    # Stored: the draft links this person to the objection, so it goes first (as the
    # suggestion box does), then the card and the receipt.
    await _forget(update, context)
    logger.info("Objection %s to notice %s raised", objection.id, notice.id)
    await _card(context, notice, objection, new=True)
    await say_receipt(
        update, context, context.t("notice.objection_received", label=objection.label(notice))
    )
    return _END


async def _forget(update: Update, context: UnionContext) -> int:
    """End the objection form now and write the conversation store at once."""
    if context.user_data is not None:
        context.user_data.pop(_OBJECTING, None)
    user = update.effective_user
    if user is not None and context.state.forms is not None:
        context.state.forms.end(user.id)
    application = context.application
    if user is not None and application.persistence is not None:
        application.mark_data_for_update_persistence(user_ids=user.id)
        try:
            await application.update_persistence()
        except Exception as exc:  # stored already: the store is written again within seconds
            logger.warning(
                "The conversation store could not be written now: %s", type(exc).__name__
            )
    return _END


async def cancel_objection(update: Update, context: UnionContext) -> int:
    """/cancel (or Cancel) while writing an objection."""
    if context.user_data is not None:
        context.user_data.pop(_OBJECTING, None)
    await say(update, context, context.t("notice.objection_cancelled"))
    return _END


# ---- the committee's card and answer -----------------------------------------------------


async def _objector_name(context: UnionContext, objection: NoticeObjection) -> str:
    if objection.anonymous or objection.member_id is None:
        return ""
    async with context.db() as session:
        member = await session.get(Member, objection.member_id)
    return member.real_name if member is not None else "?"


async def _card_text(context: UnionContext, notice: Notice, objection: NoticeObjection) -> str:
    tr = context.i18n.get(context.settings.default_language)
    who = (
        tr("notice.card_anonymous")
        if objection.anonymous
        else tr("notice.card_named", name=await _objector_name(context, objection))
    )
    lines = [
        tr("notice.card_title", label=objection.label(notice), title=notice.title),
        who,
        "",
        objection.body,
    ]
    if objection.answer is not None:
        answerer = ""
        if objection.answered_by_member_id is not None:
            async with context.db() as session:
                member = await session.get(Member, objection.answered_by_member_id)
            answerer = member.real_name if member is not None else ""
        lines += ["", tr("notice.card_answered", name=answerer), objection.answer]
    return "\n".join(lines)


def _card_markup(context: UnionContext, objection: NoticeObjection) -> InlineKeyboardMarkup | None:
    if objection.answer is not None:
        return None
    tr = context.i18n.get(context.settings.default_language)
    return keyboard([(tr("notice.btn_answer"), ObjectionCard("reply", objection.id or 0))])


async def _card(
    context: UnionContext, notice: Notice, objection: NoticeObjection, *, new: bool
) -> None:
    text = await _card_text(context, notice, objection)
    markup = _card_markup(context, objection)
    if new:
        await post_card(context, kind=KIND, item_id=objection.id or 0, text=text, markup=markup)
    else:
        await refresh_cards(context, kind=KIND, item_id=objection.id or 0, text=text, markup=markup)


async def start_answer(update: Update, context: UnionContext) -> int:
    """答复 pressed on a card: the answer is typed privately and shown back."""
    actor = await committee_press(update, context)
    if actor is None:
        return _END
    objection_id = context.button_as(ObjectionCard).objection_id
    try:
        async with context.db() as session:
            notice, objection = await get_objection(
                session, org_id=context.org_id, objection_id=objection_id
            )
    except DomainError as error:
        await refuse(update, context, error)
        return _END
    if objection.answer is not None:
        await context.answer(
            update,
            context.t("notice.objection_answered_before", label=objection.label(notice)),
            alert=True,
        )
        await _card(context, notice, objection, new=False)
        return _END
    who = (
        context.t("notice.anonymous_objector")
        if objection.anonymous
        else (await _objector_name(context, objection))
    )
    purpose = context.t("purpose.notice_answer", label=objection.label(notice), who=who)
    user_id = actor.member.telegram_user_id or 0
    try:
        await context.bot.send_message(
            user_id,
            expect_text(context, purpose)
            + "\n"
            + context.t("notice.write_answer")
            + "\n\n"
            + objection.body,
        )
    except Forbidden:
        await context.answer(update, context.t("suggestion.open_private_first"), alert=True)
        return _END
    assert context.user_data is not None
    context.user_data[_ANSWERING] = objection.id
    await context.answer(update, context.t("suggestion.reply_in_private"))
    return TYPED_TEXT


async def send_answer(update: Update, context: UnionContext, text: str) -> int:
    """The answer, checked by its writer: stored once, delivered, the card updated."""
    assert context.user_data is not None
    actor = context.actor
    if actor is None or not actor.is_committee:
        context.user_data.pop(_ANSWERING, None)
        await say(update, context, context.t("desk.not_committee"))
        return _END
    try:
        async with context.db() as session:
            notice, objection = await answer_objection(
                session,
                org_id=context.org_id,
                objection_id=int(context.user_data.get(_ANSWERING) or 0),
                actor=actor,
                body=text,
            )
    except DomainError as error:
        await refuse(update, context, error)
        if isinstance(error, InputError):
            return TYPED_TEXT
        context.user_data.pop(_ANSWERING, None)
        return _END
    context.user_data.pop(_ANSWERING, None)
    logger.info("Objection %s answered by member %s", objection.id, actor.id)
    delivered = await _deliver(context, notice, objection)
    await _card(context, notice, objection, new=False)
    async with context.db() as session:
        settled = await settle_if_handled(session, notice_id=notice.id or 0)
    if settled is not None and context.runtime is not None:
        await tell_outcome(context.runtime, settled, key="handled")
    key = "notice.answer_sent" if delivered else "notice.answer_stored_undelivered"
    await say_receipt(update, context, context.t(key, label=objection.label(notice)))
    return _END


async def _deliver(context: UnionContext, notice: Notice, objection: NoticeObjection) -> bool:
    """The answer to whoever objected (opening the seal of an anonymous objection)."""
    member_id = objector_id(objection, context.state.seal)
    if member_id is None:
        return False
    async with context.db() as session:
        member = await session.get(Member, member_id)
    if member is None or member.telegram_user_id is None:
        return False
    tr = context.i18n.get(member.language)
    text = (
        tr("notice.answer_to_objector", label=objection.label(notice), title=notice.title)
        + "\n\n"
        + (objection.answer or "")
    )
    try:
        # Named in the log by the objection's id only: an anonymous objector must not meet it.
        return await context.notifier.tell_chat(
            member.telegram_user_id, text, who=f"the objector of objection {objection.id}"
        )
    except TelegramError:
        return False


async def cancel_answer(update: Update, context: UnionContext) -> int:
    """/cancel while writing an answer."""
    if context.user_data is not None:
        context.user_data.pop(_ANSWERING, None)
    await say(update, context, context.t("notice.answer_cancelled"))
    return _END


def register(application: Application) -> None:
    """The buttons outside the forms."""
    application.add_handler(ButtonHandler(ObjectButton, object_pressed))
    application.add_handler(ButtonHandler(NoticeFile, file_pressed))


def forms() -> list[Form]:
    """Writing an objection (a member) and answering one (the committee)."""
    return [
        Form(
            private_text_conversation(
                name="notice_objection",
                entry_points=[ButtonHandler(ObjectionStart, start_objection)],
                on_text=send_objection,
                on_cancel=cancel_objection,
            ),
            label_key="form.label.notice_objection",
            drafts=(_OBJECTING,),
        ),
        Form(
            private_text_conversation(
                name="notice_answer",
                entry_points=[ButtonHandler(ObjectionCard, start_answer, "reply")],
                on_text=send_answer,
                on_cancel=cancel_answer,
            ),
            label_key="form.label.notice_answer",
            drafts=(_ANSWERING,),
            committee=True,
            prompt=True,
        ),
    ]
