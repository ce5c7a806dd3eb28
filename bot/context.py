"""A typed CallbackContext: `context.db`, `context.actor`, `context.t` instead of dict lookups."""

from __future__ import annotations

import logging
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import CallbackContext, ExtBot

from bot.db import SessionFactory
from bot.i18n import I18n, Translator
from bot.org_resolver import CHOSEN_ORG, resolve
from bot.settings import Settings
from models.district import seat_owner_at_district
from models.members import Actor, ensure_owner_is_chair, load_actor, mark_reachable
from models.organizations import Organization

if TYPE_CHECKING:
    from bot.application import UnionApplication
    from bot.notifier import Notifier
    from bot.state import AppState
    from scheduler.runtime import Runtime

logger = logging.getLogger(__name__)
ButtonT = TypeVar("ButtonT")


class UnionContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The context every handler receives; `prepare` fills it once per update."""

    def __init__(
        self,
        application: UnionApplication,
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application, chat_id, user_id)
        self._union_app = application
        self.actor: Actor | None = None
        self._answered = False
        self.language_code: str | None = None
        self._prepared = False
        self.button: object | None = None  # the parsed press (bot.buttons.ButtonHandler)
        # This update's organization in a district deployment (bot/org_resolver.py); None in a
        # single-school one, where every update is the home organization's.
        self._org_id: int | None = None
        # Several schools and none chosen yet: the choice is asked before anything else.
        self.school_choices: tuple[int, ...] = ()

    @classmethod
    def for_org(cls, application: UnionApplication, org_id: int) -> UnionContext:
        """A context outside any update, acting for one organization (start-up recovery)."""
        context = cls(application)
        context._org_id = org_id
        return context

    def button_as(self, family: type[ButtonT]) -> ButtonT:
        """The parsed button of this press, of the family its handler was made for."""
        assert isinstance(self.button, family), "not a press handled by a ButtonHandler"
        return self.button

    @property
    def state(self) -> AppState:
        """The application's shared state."""
        return self._union_app.state

    @property
    def notifier(self) -> Notifier:
        """Tell people: direct messages and the outbox (bot/notifier.py)."""
        assert self.state.notifier is not None
        return self.state.notifier

    @property
    def settings(self) -> Settings:
        """Deployment settings."""
        return self.state.settings

    @property
    def db(self) -> SessionFactory:
        """Open a session with `async with context.db() as session:`."""
        return self.state.db

    @property
    def i18n(self) -> I18n:
        """All catalogs."""
        return self.state.i18n

    @property
    def org_id(self) -> int:
        """The organization this update belongs to (a single-school deployment's only one)."""
        return self._org_id if self._org_id is not None else self.state.org_id

    @property
    def in_district(self) -> bool:
        """Whether this deployment is a district union with its schools."""
        return self.state.district_id is not None

    def today(self) -> date:
        """Today in the union's time zone, on the application's clock (tests move it)."""
        return self.state.clock().astimezone(self.settings.zone).date()

    @property
    def runtime(self) -> Runtime | None:
        """The scheduler's parts acting for this update's organization (None before start)."""
        runtime = self.state.runtime
        return runtime.for_org(self.org_id) if runtime is not None else None

    async def org_name(self, language: str | None = None) -> str:
        """The union's name as people see it: the settings' (in `language`, else the
        person's) for a single school, else this update's organization's own name."""
        if not self.in_district:
            return self.settings.organization_name_for(language or self.tr.language)
        async with self.db() as session:
            org = await session.get(Organization, self.org_id)
        assert org is not None
        return org.name

    def choose_org(self, org_id: int | None) -> None:
        """Remember the school the person picked (None forgets it); it holds from this update
        on (bot/org_resolver.py)."""
        if self.user_data is not None:
            if org_id is None:
                self.user_data.pop(CHOSEN_ORG, None)
            else:
                self.user_data[CHOSEN_ORG] = org_id
        if org_id is not None:
            self._org_id = org_id
            self.school_choices = ()
        elif self.actor is None and self.state.district_id is not None:
            # A stranger forgetting their pick is at no school again: the district union.
            self._org_id = self.state.district_id

    @property
    def tr(self) -> Translator:
        """The translator for the person behind this update."""
        chosen = self.actor.member.language if self.actor else None
        if chosen is None and self.user_data is not None:
            chosen = self.user_data.get("language")
        return self.i18n.resolve(chosen, self.language_code)

    def t(self, key: str, **params: object) -> str:
        """Translate `key` for the person behind this update."""
        return self.tr(key, **params)

    async def answer(self, update: Update, text: str | None = None, *, alert: bool = False) -> None:
        """Answer the button press once; later answers (or long texts) go to the chat instead.

        Telegram accepts one answer per press, and a menu may answer before the feature it
        opens does, so every handler answers through here. A refused answer (the press is too
        old, or the request timed out) does not stop the action: an alert's text then goes to
        the chat instead.
        """
        query = update.callback_query
        fits = text is None or len(text) <= 190
        if query is not None and not self._answered:
            self._answered = True
            try:
                await query.answer(text if fits else None, show_alert=alert and fits)
            except TelegramError as exc:
                # Nobody is named: the press may be an anonymous author's, and the line after
                # this one may name their item.
                logger.warning("A button press could not be answered: %s", type(exc).__name__)
                fits = fits and not alert
            if fits:
                return
        if text is not None and (alert or not fits or query is None):
            chat = update.effective_chat
            if chat is not None:
                await self.bot.send_message(chat.id, text)

    async def notice(self, text: str) -> None:
        """A line for the person behind this update in their private chat (never a group):
        a form ended, expired or was cancelled. Telegram refusing it changes nothing."""
        if self._user_id is None:
            return
        try:
            await self.bot.send_message(self._user_id, text)
        except TelegramError as exc:
            logger.info("A form notice could not be sent: %s", type(exc).__name__)

    async def prepare(self, update: Update) -> None:
        """Load the member behind the update (once), making owners chair on first contact."""
        if self._prepared:
            return
        self._prepared = True
        district_id = self.state.district_id
        if district_id is not None:
            # Before anything else, a channel post (no user) included.
            async with self.db() as session:
                where = await resolve(
                    session, update=update, district_id=district_id, user_data=self.user_data
                )
                owner = update.effective_user
                if (
                    owner is not None
                    and owner.id in self.settings.owner_ids
                    and where.holding
                    and district_id not in where.holding
                ):
                    # An owner who is a member of a school (its chair before `district
                    # init`, say) also chairs the district union, as the README promises.
                    await seat_owner_at_district(
                        session,
                        district_id=district_id,
                        school_id=where.holding[0],
                        telegram_user_id=owner.id,
                    )
                    where = await resolve(
                        session, update=update, district_id=district_id, user_data=self.user_data
                    )
            self._org_id, self.school_choices = where.org_id, where.choices
        user = update.effective_user
        if user is None:
            return
        self.language_code = user.language_code
        actor = await self._load_actor(user.id)
        is_owner = actor is not None and self.is_owner_here(user.id)
        if actor is not None and (
            (is_owner and not actor.is_chair) or actor.member.unreachable_since is not None
        ):
            # Both write the member: the commit drops the cache (bot/member_changes.py).
            async with self.db() as session:
                if is_owner and not actor.is_chair:
                    actor = await ensure_owner_is_chair(session, actor=actor)
                if actor.member.unreachable_since is not None:
                    await mark_reachable(session, member=actor.member)
        self.actor = actor

    def is_owner_here(self, user_id: int) -> bool:
        """An owner (OWNER_IDS) chairs the home organization: the one school, or in a district
        the district union, never a school they happen to teach at."""
        home = self.state.district_id is None or self.org_id == self.state.district_id
        return home and user_id in self.settings.owner_ids

    async def _load_actor(self, telegram_user_id: int) -> Actor | None:
        """This update's own copy of the member, from the cache when there is one."""
        cache = self.state.actors
        if cache is not None:
            return await cache.actor(org_id=self.org_id, telegram_user_id=telegram_user_id)
        async with self.db() as session:
            return await load_actor(session, org_id=self.org_id, telegram_user_id=telegram_user_id)

    async def refresh_actor(self, update: Update) -> None:
        """Reload the member after a change made during this update."""
        self._prepared = False
        await self.prepare(update)
