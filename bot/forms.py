"""One active form per person.

A form is any input of more than one step: registration, /suggest, /aid, a committee prompt
after a desk button, and so on. Each is a PTB ConversationHandler, but none is registered with
the application on its own: they all sit inside one `FormEngine`, which knows the single form a
person is in (a record in their user_data, saved with the conversations) and routes to it alone.

- A form's entry point (a command, a menu or desk button, a deep link) starts it. The form the
  person was in before ends first, and one line tells them it was left and nothing was sent.
- Typed text, photos and files go to the active form only, and only from the chat where it is
  waiting. Text that arrives with no active form falls through to "not understood".
- A form nobody touched for its idle time ends by itself; the person is told once, at their next
  input or press. The record keeps wall-clock time, so this holds across a restart.
- Any other command, and any main-menu button, also ends the active form (`FormGate`). /cancel
  ends it with one message, or says that nothing is in progress.

See docs/architecture.md for the path of an update.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    BaseHandler,
    ConversationHandler,
)

if TYPE_CHECKING:
    from bot.context import UnionContext

logger = logging.getLogger(__name__)

FORM_GATE_GROUP = -50  # after the member is loaded (-100) and edits are refused (-99)
ACTIVE = "_active_form"  # the user_data key of the active form's record
OUTGOING = "_outgoing"  # what the typed text is for (see handlers.common.expect_text)
Clock = Callable[[], float]


@dataclass(frozen=True)
class Form:
    """A multi-step input: its conversation, what people call it, and whose it is."""

    conversation: ConversationHandler[Any]
    label_key: str  # catalog key naming the form ("意见箱投递", "写给提出人的答复")
    drafts: tuple[str, ...] = ()  # user_data keys of its draft, dropped when it ends
    committee: bool = False  # for the committee only: ended when the person's role is removed
    prompt: bool = False  # text asked for after a desk button: the shorter idle time

    @property
    def name(self) -> str:
        """The conversation's (persistent) name."""
        assert self.conversation.name is not None
        return self.conversation.name


@dataclass(frozen=True)
class ActiveForm:
    """Which form a person is in, where it waits, and when they last touched it."""

    name: str
    key: tuple[int, ...]
    chat_id: int
    touched: float
    # The organization the form works for (a district's school): a form never carries on
    # for another one (bot/org_resolver.py). None in records written before districts.
    org_id: int | None = None

    def as_record(self) -> dict[str, Any]:
        """A plain dict for the pickled user_data (robust to renames of this class)."""
        return {
            "name": self.name,
            "key": list(self.key),
            "chat": self.chat_id,
            "at": self.touched,
            "org": self.org_id,
        }

    @classmethod
    def from_record(cls, record: object) -> ActiveForm | None:
        """The record read back, or None if there is none (or it is unreadable)."""
        if not isinstance(record, dict):
            return None
        try:
            return cls(
                name=str(record["name"]),
                key=tuple(int(part) for part in record["key"]),
                chat_id=int(record["chat"]),
                touched=float(record["at"]),
                org_id=int(record["org"]) if record.get("org") is not None else None,
            )
        except (KeyError, TypeError, ValueError):
            return None


def _matches(handler: BaseHandler[Any, Any, Any], update: Update) -> object | None:
    check = handler.check_update(update)
    return None if check is None or check is False else check


class FormEngine(BaseHandler[Update, "UnionContext", None]):
    """All forms behind one handler: entries start a form, other updates reach the active one."""

    def __init__(
        self,
        forms: Iterable[Form],
        *,
        member_idle_seconds: float,
        committee_idle_seconds: float,
        clock: Clock = time.time,
    ) -> None:
        super().__init__(self._never_called)
        self.forms: dict[str, Form] = {}
        for form in forms:
            if form.name in self.forms:
                raise ValueError(f"two forms are called {form.name!r}")
            if not form.conversation.allow_reentry:
                raise ValueError(f"form {form.name!r} must allow re-entry (it is started afresh)")
            self.forms[form.name] = form
        self.member_idle_seconds = member_idle_seconds
        self.committee_idle_seconds = committee_idle_seconds
        self.clock = clock
        self.application: Application[Any, Any, Any, Any, Any, Any] | None = None

    @staticmethod
    async def _never_called(update: Update, context: UnionContext) -> None:
        raise AssertionError("FormEngine handles updates itself")

    # ---- wiring ---------------------------------------------------------------------------

    def attach(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """Remember the application (for user_data) and add the engine to it."""
        self.application = application
        application.add_handler(self)

    async def load_persisted(self) -> None:
        """Give each form's conversation its saved states (PTB does this only for
        conversations registered directly with the application)."""
        application = self.application
        if application is None or application.persistence is None:
            return
        for form in self.forms.values():
            # PTB's own routine for a persistent ConversationHandler; there is no public one.
            await application._add_ch_to_persistence(form.conversation)

    # ---- the record -------------------------------------------------------------------------

    def _user_data(self, user_id: int) -> dict[Any, Any] | None:
        if self.application is None:
            return None
        data = self.application.user_data.get(user_id)
        return cast("dict[Any, Any] | None", data)

    def active(self, user_id: int) -> ActiveForm | None:
        """The form this person is in (expired or not), if any."""
        data = self._user_data(user_id)
        return ActiveForm.from_record(data.get(ACTIVE)) if data else None

    def idle_seconds(self, form: Form) -> float:
        """How long this form may wait for its person."""
        return self.committee_idle_seconds if form.prompt else self.member_idle_seconds

    def expired(self, active: ActiveForm) -> bool:
        """Whether the active form waited longer than its idle time."""
        form = self.forms.get(active.name)
        if form is None:
            return True
        return self.clock() - active.touched > self.idle_seconds(form)

    def label_of(self, active: ActiveForm) -> str:
        """The catalog key naming this form."""
        form = self.forms.get(active.name)
        return form.label_key if form else "form.label.unknown"

    def end(self, user_id: int, *, keep_outgoing: bool = False) -> ActiveForm | None:
        """End this person's active form: its conversation, its draft and the record (and
        what its typed text was for, unless `keep_outgoing`: a new form wrote that already).
        Returns what was ended (None if nothing was)."""
        data = self._user_data(user_id)
        if data is None:
            return None
        active = ActiveForm.from_record(data.pop(ACTIVE, None))
        if active is None:
            return None
        form = self.forms.get(active.name)
        if form is not None:
            form.conversation._update_state(ConversationHandler.END, active.key)
            for key in (*form.drafts, *(() if keep_outgoing else (OUTGOING,))):
                data.pop(key, None)
        if self.application is not None:
            # Ended from another person's update too (a role removed): save it all the same.
            self.application.mark_data_for_update_persistence(user_ids=user_id)
        # Nobody is named: a suggestion filing ends right after its item is stored, and the
        # next line names the item (for an anonymous one, that would link author and item).
        logger.debug("Form %s ended", active.name)
        return active

    def end_committee_forms(self, user_id: int) -> ActiveForm | None:
        """End this person's form if it is a committee prompt (their role was removed)."""
        active = self.active(user_id)
        if active is None:
            return None
        form = self.forms.get(active.name)
        if form is None or not form.committee:
            return None
        return self.end(user_id)

    def _conversation_state(self, form: Form, key: tuple[int, ...]) -> object | None:
        return form.conversation._conversations.get(key)

    # ---- routing ------------------------------------------------------------------------

    def entry(self, update: Update) -> Form | None:
        """The form whose entry point this update is, if any."""
        for form in self.forms.values():
            if any(_matches(entry, update) is not None for entry in form.conversation.entry_points):
                return form
        return None

    def check_update(self, update: object) -> object | None:
        """("enter", form) for a form's entry point; ("step", form, check) for an update the
        active form takes; None for everything else."""
        if not isinstance(update, Update) or update.effective_user is None:
            return None
        if update.channel_post or update.edited_channel_post:
            return None
        form = self.entry(update)
        if form is not None:
            return ("enter", form)
        active = self.active(update.effective_user.id)
        if active is None:
            return None
        form = self.forms.get(active.name)
        if form is None:
            return None
        if update.message is not None:
            chat = update.effective_chat
            if chat is None or chat.id != active.chat_id:
                return None  # text reaches a form only in the chat where it waits
        check = form.conversation.check_update(update)
        if check is None:
            return None
        return ("step", form, check)

    async def handle_update(  # type: ignore[override]
        self,
        update: Update,
        application: Application[Any, Any, Any, Any, Any, Any],
        check_result: object,
        context: UnionContext,
    ) -> object | None:
        """Run the form's conversation, then record (or clear) the active form."""
        assert isinstance(check_result, tuple) and update.effective_user is not None
        user_id = update.effective_user.id
        form = cast(Form, check_result[1])
        entering = check_result[0] == "enter"
        again: tuple[tuple[int, ...], object] | None = None
        if entering:
            current = self.active(user_id)
            if current is not None and current.name == form.name:
                # The same form again: it starts afresh (every form allows re-entry), unless
                # the press is refused, in which case the one in progress goes on.
                again = (current.key, self._conversation_state(form, current.key))
            check = form.conversation.check_update(update)
            if check is None:  # the entry no longer matches (cannot happen after an END)
                return None
        else:
            check = check_result[2]
        conversation = form.conversation
        key = cast("tuple[int, ...]", conversation._get_key(update))
        data = self._user_data(user_id)
        before = data.get(OUTGOING) if data is not None else None
        try:
            await conversation.handle_update(update, application, check, context)
        finally:
            started = self._conversation_state(form, key) is not None
            if again is not None and not started and again[1] is not None:
                form.conversation._update_state(again[1], again[0])
                started = True
            previous = self.active(user_id)
            if entering and previous is not None and previous.name != form.name:
                await self._settle_previous(
                    context, user_id, previous, started=started, before=before
                )
            self._record(user_id, form, key, update, context.org_id)
        return None

    async def _settle_previous(
        self,
        context: UnionContext,
        user_id: int,
        previous: ActiveForm,
        *,
        started: bool,
        before: object,
    ) -> None:
        """After another form's entry point: only a form that really started ends the one
        before (a refused press leaves the person's work as it was). What a typed text is for
        belongs to the form that wrote it last."""
        data = self._user_data(user_id)
        if data is None:
            return
        wrote = data.get(OUTGOING) is not before
        if not started:
            if before is None:
                data.pop(OUTGOING, None)
            else:
                data[OUTGOING] = before
            return
        self.end(user_id, keep_outgoing=wrote)
        label = context.t(self.label_of(previous))
        await context.notice(context.t("form.left", form=label))

    def _record(
        self, user_id: int, form: Form, key: tuple[int, ...], update: Update, org_id: int
    ) -> None:
        data = self._user_data(user_id)
        if data is None:
            return
        if self._conversation_state(form, key) is None:
            current = ActiveForm.from_record(data.get(ACTIVE))
            if current is not None and current.name == form.name:
                data.pop(ACTIVE, None)
            return
        chat = update.effective_chat
        # A per-user form (a desk button pressed in the group) waits in the private chat.
        waits_in = chat.id if form.conversation.per_chat and chat is not None else user_id
        data[ACTIVE] = ActiveForm(form.name, key, waits_in, self.clock(), org_id).as_record()


def _is_private(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type == ChatType.PRIVATE


def _command(update: Update) -> str | None:
    message = update.message
    if message is None or not message.text or not message.text.startswith("/"):
        return None
    return message.text.split()[0][1:].split("@")[0].lower()


class FormGate(BaseHandler[Update, "UnionContext", None]):
    """Runs before any feature: expiry, /cancel, and leaving a form by a command or the menu."""

    def __init__(self, engine: FormEngine, *, leaving_buttons: Sequence[str] = ("menu:",)) -> None:
        super().__init__(self._gate)
        self.engine = engine
        self.leaving_buttons = tuple(leaving_buttons)

    def check_update(self, update: object) -> bool:
        """Every update from a person (the gate decides inside)."""
        return isinstance(update, Update) and update.effective_user is not None

    async def _gate(self, update: Update, context: UnionContext) -> None:
        engine = self.engine
        assert update.effective_user is not None
        user_id = update.effective_user.id
        command = _command(update)
        cancel = command == "cancel" and _is_private(update)
        active = engine.active(user_id)
        if active is not None and engine.expired(active):
            engine.end(user_id)
            await context.notice(context.t("form.expired", form=context.t(engine.label_of(active))))
            if cancel or (update.message is not None and command is None):
                # It was meant for the expired form: it goes nowhere else.
                raise ApplicationHandlerStop
            return
        if active is not None and active.org_id not in (None, context.org_id):
            # The person's school changed under the form (a roster link of another school,
            # a membership ended): what they were writing is not sent to the other school.
            engine.end(user_id)
            label = context.t(engine.label_of(active))
            await context.notice(context.t("form.org_changed", form=label))
            if cancel or (update.message is not None and command is None):
                raise ApplicationHandlerStop
            return
        if cancel:
            if active is None:
                await context.notice(context.t("form.nothing_active"))
                raise ApplicationHandlerStop
            return  # the form's own /cancel ends it with its one message
        if active is None:
            return
        pressed = update.callback_query.data if update.callback_query else None
        leaving_by_button = pressed is not None and pressed.startswith(self.leaving_buttons)
        if (command is not None and _is_private(update)) or leaving_by_button:
            if engine.entry(update) is not None:
                return  # the engine ends the old form as it starts the new one
            engine.end(user_id)
            await context.notice(context.t("form.left", form=context.t(engine.label_of(active))))
