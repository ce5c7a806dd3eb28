"""What the running application holds: settings, database, catalogs, the organization."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import SessionFactory
from bot.i18n import I18n
from bot.run_status import RunStatus
from bot.settings import Settings
from models.anonymity import AuthorSeal
from models.base import utcnow
from models.lease import LeaseFence
from models.signup_batch import SignupBatcher
from scheduler.runtime import Runtime

if TYPE_CHECKING:
    from bot.actor_cache import ActorCache
    from bot.features import Feature
    from bot.forms import FormEngine
    from bot.member_changes import ChangeListener, SqliteVersion
    from bot.notifier import Notifier


@dataclass
class AlertLimiter:
    """At most one owner alert per kind of error per interval; counts what it held back."""

    interval_seconds: float
    _last: dict[str, float] = field(default_factory=dict)
    _held_back: dict[str, int] = field(default_factory=dict)

    def allow(self, kind: str, now: float | None = None) -> tuple[bool, int]:
        """Whether to alert now, and how many alerts of this kind were held back before."""
        now = time.monotonic() if now is None else now
        last = self._last.get(kind)
        if last is not None and now - last < self.interval_seconds:
            self._held_back[kind] = self._held_back.get(kind, 0) + 1
            return False, 0
        self._last[kind] = now
        return True, self._held_back.pop(kind, 0)


@dataclass
class AppState:
    """Everything handlers need besides the update; one per application."""

    settings: Settings
    engine: AsyncEngine
    db: SessionFactory
    # Sessions for one statement (autocommit on PostgreSQL: bot/db.py
    # create_single_statement_factory): reads of one query, the handled update ids.
    single_statement: SessionFactory
    i18n: I18n
    secret: bytes
    alerts: AlertLimiter
    seal: AuthorSeal
    # The home organization: the school of a single-school deployment, else the district
    # union (each update's own is UnionContext.org_id; bot/org_resolver.py).
    org_id: int = 0
    district_id: int | None = None
    bot_username: str = ""
    # One-time codes for binding the disclosure channel: code -> organization id.
    channel_codes: dict[str, int] = field(default_factory=dict)
    # The calendar and outbox, set up at start (they need the started bot).
    runtime: Runtime | None = None
    sender_task: asyncio.Task[None] | None = None
    # Sign-up presses, written in batches per activity (see models/signup_batch.py).
    signups: SignupBatcher | None = None
    # The form engine: which one form each person is in (set when the handlers are added).
    forms: FormEngine | None = None
    # The features the application was built with (bot/features.py), for menus, /help, /mine.
    features: tuple[Feature, ...] = ()
    # Telling people (bot/notifier.py), set when the application is built.
    notifier: Notifier | None = None
    # The current time (UTC); tests inject their own. Read by the aid feature's "today".
    clock: Callable[[], datetime] = utcnow
    # Counters and probes of this process for /healthz, /readyz and /metrics (bot/health.py).
    status: RunStatus | None = None
    # The lease this copy holds when several share one PostgreSQL (bot/runner.py sets it before
    # start-up): the outbox claims only under it. None on SQLite, where one copy runs.
    lease: LeaseFence | None = None
    # The member behind each update, kept between updates (bot/actor_cache.py), and what tells
    # it of changes made by other processes (bot/member_changes.py): on PostgreSQL the
    # listening connection, on SQLite the reader of the triggers' counter.
    actors: ActorCache | None = None
    member_listener: ChangeListener | None = None
    member_version: SqliteVersion | None = None
