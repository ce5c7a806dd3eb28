"""Small helpers every feature's handlers share."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.buttons import Button, ButtonHandler
from bot.context import UnionContext
from bot.forms import OUTGOING
from bot.i18n import Translator
from models.errors import DomainError
from models.members import (
    Actor,
    MemberStatus,
    Profile,
    search_members,
)
from models.validation import clean_text, only_symbols

logger = logging.getLogger(__name__)

ButtonRow = Sequence[tuple[str, "str | Button"]]


def keyboard(*rows: ButtonRow) -> InlineKeyboardMarkup:
    """Inline keyboard from rows of (label, button): a typed `Button`, or packed data."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    label, callback_data=data.pack() if isinstance(data, Button) else data
                )
                for label, data in row
            ]
            for row in rows
        ]
    )


def confirm_or_cancel(
    context: UnionContext,
    confirm: Button,
    cancel: Button,
    *,
    confirm_key: str = "reg.confirm",
    tr: Translator | None = None,
) -> InlineKeyboardMarkup:
    """The Confirm / Cancel pair under a preview (or a question), as typed buttons; `tr` when
    the pair is not for the presser alone (a question in the committee group)."""
    words = tr or context.tr
    return keyboard([(words(confirm_key), confirm)], [(words("common.cancel"), cancel)])


def is_private(update: Update) -> bool:
    """True in a one-to-one chat with the bot."""
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


async def say(
    update: Update, context: UnionContext, text: str, markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Reply in the chat the update came from."""
    chat = update.effective_chat
    if chat is None:
        return None
    return await context.bot.send_message(chat.id, text, reply_markup=markup)


async def say_receipt(update: Update, context: UnionContext, text: str) -> None:
    """Confirm something already stored; if Telegram fails now, the record still stands."""
    try:
        await say(update, context, text)
    except TelegramError:
        logger.warning("A receipt could not be sent for update %s", update.update_id)


async def refuse(update: Update, context: UnionContext, error: DomainError) -> None:
    """Tell the person, in their language, why a rule said no (as an alert for a button)."""
    await context.answer(update, context.t(error.key, **error.params), alert=True)


def deep_link(context: UnionContext, payload: str = "") -> str:
    """A t.me link that opens a private chat with the bot."""
    username = context.state.bot_username or context.bot.username
    return f"https://t.me/{username}" + (f"?start={payload}" if payload else "")


async def require_member(update: Update, context: UnionContext) -> Actor | None:
    """The active member behind the update, or None after explaining what to do instead."""
    actor = context.actor
    if actor is not None and actor.is_active:
        return actor
    if actor is None or actor.member.status == MemberStatus.REJECTED:
        key = "member.not_registered"
    elif actor.member.status == MemberStatus.PENDING:
        key = "join.already_pending"
    else:
        key = "join.inactive"
    if update.callback_query is not None:
        await context.answer(update)
    await say(update, context, context.t(key))
    return None


async def require_committee(update: Update, context: UnionContext) -> Actor | None:
    """The committee member behind the update, or None after saying who may do this."""
    actor = await require_member(update, context)
    if actor is None:
        return None
    if not actor.is_committee:
        await say(update, context, context.t("desk.not_committee"))
        return None
    return actor


def profile_lines(tr: Translator, profile: Profile) -> list[str]:
    """A profile as lines of text (registration preview, join card, /me)."""
    gender = tr(f"gender.{profile.gender}") if profile.gender else tr("profile.not_given")
    birthday = str(profile.birthday) if profile.birthday else tr("profile.not_given")
    return [
        tr("profile.name", value=profile.real_name),
        tr("profile.department", value=profile.department),
        tr("profile.gender", value=gender),
        tr("profile.birthday", value=birthday),
        tr("profile.retired", value=tr("common.yes") if profile.retired else tr("common.no")),
    ]


def conversation(
    *,
    name: str,
    entry_points: list[BaseHandler[Any, Any, Any]],
    states: dict[object, list[BaseHandler[Any, Any, Any]]],
    fallbacks: list[BaseHandler[Any, Any, Any]],
    allow_reentry: bool = False,
    per_chat: bool = True,
) -> ConversationHandler[Any]:
    """A persistent, named conversation per user (and per chat unless `per_chat=False`)."""
    with warnings.catch_warnings():
        # We track conversations per user and chat, not per message, on purpose: buttons in
        # the private chat belong to the person's one conversation. PTB warns about it.
        warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)
        return ConversationHandler(
            entry_points=entry_points,
            states=states,
            fallbacks=fallbacks,
            allow_reentry=allow_reentry,
            per_chat=per_chat,
            name=name,
            persistent=True,
        )


async def text_expected(update: Update, context: UnionContext) -> None:
    """A sticker, photo or voice where typed text is needed."""
    await say(update, context, context.t("input.text_expected"))


async def buttons_expected(update: Update, context: UnionContext) -> None:
    """Typing where a button press is needed."""
    await say(update, context, context.t("input.use_buttons"))


def user_draft(context: UnionContext, name: str) -> dict[str, Any]:
    """The person's draft called `name` (kept in user_data, so it survives a restart)."""
    assert context.user_data is not None
    draft = context.user_data.setdefault(name, {})
    assert isinstance(draft, dict)
    return draft


StepCallback = Callable[[Update, UnionContext], Coroutine[Any, Any, int]]


def text_step(callback: StepCallback) -> list[BaseHandler[Any, Any, Any]]:
    """A conversation step that wants typed text (anything else gets a prompt)."""
    return [
        MessageHandler(filters.TEXT & ~filters.COMMAND, callback),
        MessageHandler(~filters.TEXT & ~filters.COMMAND, text_expected),
    ]


def family_step(
    callback: StepCallback, family: type[Button], first: str | None = None
) -> list[BaseHandler[Any, Any, Any]]:
    """A conversation step that wants a press of one typed button family (typing gets a
    prompt); the callback reads the press with `context.button_as(family)`."""
    return [
        ButtonHandler(family, callback, first),
        MessageHandler(~filters.COMMAND, buttons_expected),
    ]


async def typed_text(
    update: Update,
    context: UnionContext,
    *,
    limit: int,
    multiline: bool = False,
    needs_words: bool = False,
) -> str | None:
    """The message's cleaned text, or None after telling the person why it was refused
    (`needs_words`: a free-text body of only emoji or symbols is refused too)."""
    assert update.message is not None
    try:
        return clean_text(
            update.message.text, limit=limit, multiline=multiline, needs_words=needs_words
        )
    except DomainError as error:
        await refuse(update, context, error)
        return None


TYPED_TEXT = 1  # a private-text conversation waits for the text
SHOWN_BACK = 2  # ... or for Send / Edit / Cancel under the text shown back


@dataclass(frozen=True)
class OutgoingChoice(Button, prefix="form:out"):
    """Send / Edit / Cancel under a text shown back before it leaves its writer."""

    choice: Literal["send", "edit", "cancel"]


TextCallback = Callable[[Update, UnionContext, str], Coroutine[Any, Any, int]]


def expect_text(context: UnionContext, purpose: str, *, shown_back: bool = True) -> str:
    """Remember what the next typed text is for; returns the line that names it for the prompt.

    With `shown_back` (any text that leaves its writer for someone else: an answer, a
    question, a reason, a follow-up), the text is shown back with Send / Edit / Cancel first.
    """
    assert context.user_data is not None
    context.user_data[OUTGOING] = {"purpose": purpose, "check": shown_back}
    return context.t("form.writing", purpose=purpose)


def _outgoing(context: UnionContext) -> dict[str, Any]:
    assert context.user_data is not None
    value = context.user_data.get(OUTGOING)
    return value if isinstance(value, dict) else {}


async def _show_back(update: Update, context: UnionContext, text: str) -> int:
    outgoing = _outgoing(context)
    outgoing["text"] = text
    header = context.t("form.check_before_sending", purpose=str(outgoing.get("purpose", "")))
    markup = keyboard(
        [
            (context.t("form.send"), OutgoingChoice("send")),
            (context.t("form.edit"), OutgoingChoice("edit")),
        ],
        [(context.t("common.cancel"), OutgoingChoice("cancel"))],
    )
    combined = f"{header}\n\n{text}"
    if len(combined) <= 4096:
        await say(update, context, combined, markup)
    else:
        await say(update, context, header)
        await say(update, context, text, markup)
    return SHOWN_BACK


def _on_typed(on_text: TextCallback) -> StepCallback:
    async def typed(update: Update, context: UnionContext) -> int:
        assert update.message is not None
        text = update.message.text or ""
        if _outgoing(context).get("check"):
            if only_symbols(text):
                # "👍" is not an answer, a reason or a follow-up: ask for words before showing
                # it back (the model refuses it too).
                await say(update, context, context.t("input.needs_words"))
                return TYPED_TEXT
            return await _show_back(update, context, text)
        return await _finish(update, context, on_text, text)

    return typed


async def _finish(update: Update, context: UnionContext, on_text: TextCallback, text: str) -> int:
    state = await on_text(update, context, text)
    if state != TYPED_TEXT and context.user_data is not None:
        context.user_data.pop(OUTGOING, None)
    return state


def _on_shown_back(on_text: TextCallback, on_cancel: StepCallback) -> StepCallback:
    async def pressed(update: Update, context: UnionContext) -> int:
        choice = context.button_as(OutgoingChoice).choice
        outgoing = _outgoing(context)
        text = outgoing.pop("text", None)
        if choice == "cancel" or not isinstance(text, str):
            await context.answer(update)
            if context.user_data is not None:
                context.user_data.pop(OUTGOING, None)
            return await on_cancel(update, context)
        if choice == "edit":
            await context.answer(update)
            purpose = str(outgoing.get("purpose", ""))
            await say(update, context, context.t("form.type_again", purpose=purpose))
            return TYPED_TEXT
        # Not answered yet: a refusal of the text (empty, too long) is the press's alert.
        state = await _finish(update, context, on_text, text)
        await context.answer(update)
        return state

    return pressed


async def _text_expected_again(update: Update, context: UnionContext) -> int:
    await say(update, context, context.t("input.text_expected"))
    return TYPED_TEXT


async def _buttons_expected_again(update: Update, context: UnionContext) -> int:
    await say(update, context, context.t("form.use_send_buttons"))
    return SHOWN_BACK


def private_text_conversation(
    *,
    name: str,
    entry_points: list[BaseHandler[Any, Any, Any]],
    on_text: TextCallback,
    on_cancel: StepCallback,
    extra_states: dict[object, list[BaseHandler[Any, Any, Any]]] | None = None,
) -> ConversationHandler[Any]:
    """A button pressed anywhere (often the committee group), then text typed in the presser's
    private chat: one conversation per user. A text for someone else (see `expect_text`) is
    shown back with Send / Edit / Cancel before `on_text` gets it. `extra_states`: steps of
    the feature's own before the text (e.g. a choice with buttons)."""
    private = filters.ChatType.PRIVATE
    return conversation(
        name=name,
        entry_points=entry_points,
        states={
            **(extra_states or {}),
            TYPED_TEXT: [
                MessageHandler(private & filters.TEXT & ~filters.COMMAND, _on_typed(on_text)),
                MessageHandler(private & ~filters.TEXT & ~filters.COMMAND, _text_expected_again),
            ],
            SHOWN_BACK: [
                ButtonHandler(OutgoingChoice, _on_shown_back(on_text, on_cancel)),
                MessageHandler(private & ~filters.COMMAND, _buttons_expected_again),
            ],
        },
        fallbacks=[CommandHandler("cancel", on_cancel)],
        allow_reentry=True,
        per_chat=False,
    )


async def member_buttons(
    context: UnionContext,
    query: str,
    make: Callable[[int], Button],
    *,
    exclude: int | None = None,
) -> InlineKeyboardMarkup | None:
    """Active members whose name or department matches, one typed button each (`make(id)`)."""
    async with context.db() as session:
        found, _total = await search_members(
            session, org_id=context.org_id, query=query, offset=0, limit=8
        )
    rows = [
        [(f"{m.real_name} · {m.department}", make(m.id or 0))]
        for m in found
        if m.status == MemberStatus.ACTIVE and m.id != exclude
    ]
    return keyboard(*rows) if rows else None


# ---- ✏️ 修改某项 under a preview -----------------------------------------------------------


@dataclass(frozen=True)
class EditField(Button, prefix="form:edit"):
    """✏️ 修改某项 under a preview ("menu"), a field of the list ("field", its 1-based index),
    or back to the preview unchanged ("back"); `form` is the form's draft name, so a list left
    over from another form cannot re-ask a field of this one."""

    form: str
    action: Literal["menu", "field", "back"]
    index: int = 0


def _always(_draft: dict[str, Any]) -> bool:
    return True


@dataclass(frozen=True)
class EditableField:
    """One field a preview can send back to: its label, and the step that asks it again
    (sends the question, returns the state that reads the answer)."""

    label_key: str
    ask: StepCallback
    shown: Callable[[dict[str, Any]], bool] = _always  # e.g. no amount in a colleague's report


_EDITING = "_editing"  # in the form's draft while one field is being asked again


class PreviewEdits:
    """ "Edit a field" for a long form's preview: ✏️ 修改某项 → a button per field → that field's
    question only → the preview again. Everything already typed is kept.

    One per form: `PreviewEdits(draft_name, [EditableField(...), ...], preview_step)`; put
    `edits.markup(context, confirm, cancel)` under the preview, `*edits.handlers()` in the
    preview's state, and end each field's step with `return await edits.then(update, context,
    ask_next)`: the next question in a first pass, the preview when a field was re-asked.
    """

    def __init__(self, draft: str, fields: Sequence[EditableField], preview: StepCallback) -> None:
        self.draft = draft
        self.fields = tuple(fields)
        self.preview = preview

    def markup(
        self, context: UnionContext, confirm: Button, cancel: Button
    ) -> InlineKeyboardMarkup:
        """Confirm / ✏️ 修改某项 / Cancel under the preview (shown: no field is being re-asked)."""
        user_draft(context, self.draft).pop(_EDITING, None)
        return keyboard(
            [(context.t("reg.confirm"), confirm)],
            [(context.t("form.edit_field"), EditField(self.draft, "menu"))],
            [(context.t("common.cancel"), cancel)],
        )

    def handlers(self) -> list[BaseHandler[Any, Any, Any]]:
        """The presses the preview's state takes besides Confirm / Cancel."""
        return [ButtonHandler(EditField, self._pressed)]

    async def then(self, update: Update, context: UnionContext, ask_next: StepCallback) -> int:
        """After a field's answer is stored: the preview if it was re-asked, else the next step."""
        if user_draft(context, self.draft).pop(_EDITING, False):
            return await self.preview(update, context)
        return await ask_next(update, context)

    async def reask(self, update: Update, context: UnionContext, ask: StepCallback) -> int:
        """Ask one field again after a refusal at confirm (a group gone): once answered, the
        preview comes back with the rest of the draft kept."""
        user_draft(context, self.draft)[_EDITING] = True
        return await ask(update, context)

    async def _pressed(self, update: Update, context: UnionContext) -> int | None:
        button = context.button_as(EditField)
        if button.form != self.draft:
            await context.answer(update, context.t("desk.stale_button"), alert=True)
            return None
        draft = user_draft(context, self.draft)
        shown = [
            (index, field) for index, field in enumerate(self.fields, start=1) if field.shown(draft)
        ]
        # The pressed message's buttons go: an earlier preview must not confirm a draft that
        # is about to change, and a field list is used once.
        await _drop_buttons(update)
        if button.action == "menu":
            await context.answer(update)
            rows: list[ButtonRow] = [
                [(context.t(field.label_key), EditField(self.draft, "field", index))]
                for index, field in shown
            ]
            rows.append([(context.t("form.edit_back"), EditField(self.draft, "back"))])
            await say(update, context, context.t("form.edit_which"), keyboard(*rows))
            return None
        if button.action == "back":
            await context.answer(update)
            return await self.preview(update, context)
        field = dict(shown).get(button.index)
        if field is None:
            await context.answer(update, context.t("desk.stale_button"), alert=True)
            return None
        await context.answer(update)
        draft[_EDITING] = True
        return await field.ask(update, context)


async def _drop_buttons(update: Update) -> None:
    """Remove the buttons of the message a press came from (best effort)."""
    query = update.callback_query
    if query is None or query.message is None:
        return
    try:
        await query.edit_message_reply_markup(reply_markup=None)
    except TelegramError:
        logger.info("The buttons of an earlier preview could not be removed")
