"""Telling people: one interface for a direct message now and for the outbox.

- `tell` messages members privately, each in their own language, checking at delivery who may
  still receive it (an active member; with `committee_only`, someone on the committee now).
- `tell_chat` sends one message to one chat and never raises for Telegram: what it announces is
  stored already, so a block or a timeout is logged (by id only) and reported as False.
- `queue` puts a broadcast in the outbox (many recipients, paced, quiet hours, once per key) and
  wakes the sender.

Handlers reach it as `context.notifier`; jobs use the outbox through their runtime.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ExtBot

from bot.i18n import Translator
from models.base import utcnow
from models.members import MemberStatus, committee_telegram_ids
from models.members_queries import members_by_id
from models.outbox import Broadcast, BroadcastKind, Recipient, enqueue
from scheduler.outbox import Pace

if TYPE_CHECKING:
    from bot.state import AppState

logger = logging.getLogger(__name__)

Render = Callable[[Translator], str]
RenderMarkup = Callable[[Translator], InlineKeyboardMarkup | None]


class Notifier:
    """Direct messages and the outbox behind one interface, for one application."""

    def __init__(self, state: AppState, bot: ExtBot[None]) -> None:
        self.state = state
        self.bot = bot

    async def tell(
        self,
        member_ids: Iterable[int],
        render: Render,
        markup: RenderMarkup | None = None,
        *,
        committee_only: bool = False,
    ) -> int:
        """Message members privately, each in their own language; returns how many got it.

        Who may receive it is decided now, not when the thing being told began: a member who
        left, or (with `committee_only`) lost their committee role, is skipped.
        """
        state = self.state
        async with state.db() as session:
            members = await members_by_id(session, list(dict.fromkeys(member_ids)))
            # Each member's own organization's committee (in a district, their school's).
            committee: set[tuple[int, int]] = set()
            if committee_only:
                for org_id in {member.organization_id for member in members.values()}:
                    ids = await committee_telegram_ids(session, org_id=org_id)
                    committee.update((org_id, telegram_id) for telegram_id in ids)
        sent = 0
        for member in members.values():
            if member.telegram_user_id is None or member.status != MemberStatus.ACTIVE:
                continue
            if (
                committee_only
                and (member.organization_id, member.telegram_user_id) not in committee
            ):
                logger.info("Member %s is no longer on the committee: not told", member.id)
                continue
            tr = state.i18n.get(member.language)
            if await self.tell_chat(
                member.telegram_user_id,
                render(tr),
                reply_markup=markup(tr) if markup else None,
                who=f"member {member.id}",
            ):
                sent += 1
        return sent

    async def tell_chat(
        self,
        chat_id: int,
        text: str,
        *,
        who: str,
        reply_markup: InlineKeyboardMarkup | None = None,
    ) -> bool:
        """Tell one chat something already decided; returns whether Telegram took it.

        A block is expected (logged at INFO), a timeout or a 5xx is not (WARNING), and neither
        may turn a stored decision into an apology. `who` names them in the log by id only.
        """
        try:
            await self.bot.send_message(chat_id, text, reply_markup=reply_markup)
        except (Forbidden, BadRequest):
            logger.info("%s could not be told", who.capitalize())
            return False
        except TelegramError as exc:
            logger.warning(
                "%s could not be told just now: %s", who.capitalize(), type(exc).__name__
            )
            return False
        return True

    @property
    def report_over(self) -> int:
        """Broadcasts with more recipients than this are reported to the committee when done."""
        runtime = self.state.runtime
        return runtime.sender.pace.report_over if runtime is not None else Pace().report_over

    async def queue(
        self,
        *,
        org_id: int,
        key: str,
        kind: BroadcastKind,
        recipients: Sequence[Recipient],
        quiet: bool,
        report_chat_id: int | None = None,
        not_before: datetime | None = None,
    ) -> Broadcast | None:
        """Put a broadcast in the outbox (None if this key was queued before) and wake the
        sender. With `quiet`, it waits for the end of the quiet hours."""
        state = self.state
        now = utcnow()
        if not_before is None:
            runtime = state.runtime
            not_before = runtime.quiet.next_allowed(now) if quiet and runtime else now
        async with state.db() as session:
            broadcast = await enqueue(
                session,
                org_id=org_id,
                key=key,
                kind=kind,
                recipients=recipients,
                not_before=not_before,
                quiet=quiet,
                report_chat_id=report_chat_id,
            )
        if state.runtime is not None:
            state.runtime.sender.wake()
        return broadcast
