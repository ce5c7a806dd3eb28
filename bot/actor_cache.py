"""The member behind each update, kept between updates and loaded together for a rush.

Every update needs its person and their roles (`UnionContext.prepare`). Loading them costs a
session and a query per update; in a sign-up rush a thousand sessions compete for the pool.
This cache keeps a plain snapshot per (organization, Telegram account), strangers included,
and hands each update a fresh detached `Member` (models/member_snapshots.py): no two updates
share an object.

Loads are gathered: while one query is in flight, the accounts asked for meanwhile wait and go
together in the next one (`WHERE telegram_user_id IN (...)`), as sign-ups do
(models/signup_batch.py), so a thousand cold presses cost a few queries.

What it holds is dropped whole at every write to members or roles (bot/member_changes.py):
in this process when the writer's session commits; from other processes by the database's own
signal. A load that began before a drop never stores what it read (the generation counter).

- PostgreSQL: `serving` only while this process LISTENs for the triggers' notifications;
  otherwise (starting, connection lost, reconnecting) every update is loaded from the
  database, and what was held is dropped when listening resumes.
- SQLite: every answer waits for a round that began after its update arrived, and the
  round reads `member_version` (raised by triggers at any write, whoever writes), so a write
  committed before the update is always seen. A round whose accounts are all held reads it
  on a connection of its own (one thread hop, no session); a round with any miss loads all
  its accounts in one statement that reads the version too (one snapshot), as one load did.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.db import SessionFactory
from models.member_snapshots import MemberSnapshot, load_snapshots
from models.members import Actor

logger = logging.getLogger(__name__)

MAX_ROUND = 2000  # accounts answered by one round (its queries go IN_LIST_SLICE at a time)
MAX_ENTRIES = 20_000  # past this (strangers by the thousand) everything held is dropped

Key = tuple[int, int]  # (organization id, Telegram user id)
VersionReader = Callable[[], Awaitable[int | None]]
Waiting = tuple[Key, "asyncio.Future[MemberSnapshot | None]"]


class ActorCache:
    """Snapshots of members by account; copies out, whole drops on any change."""

    def __init__(self, db: SessionFactory, *, read_version: VersionReader | None = None) -> None:
        self.db = db  # the sessions its loads use
        # SQLite: every answer waits for a round that reads member_version first.
        self._read_version = read_version
        self._entries: dict[Key, MemberSnapshot | None] = {}
        self._generation = 0
        self._version: int | None = None
        # PostgreSQL: set while the change listener is up (bot/member_changes.py).
        self._listening = False
        self._waiting: list[Waiting] = []
        self._rounds: asyncio.Task[None] | None = None
        self._watchers: list[Callable[[], None]] = []

    @property
    def serving(self) -> bool:
        """True when a held snapshot may answer without asking the database."""
        return self._listening and self._read_version is None

    @property
    def generation(self) -> int:
        """How many times what was held has been dropped."""
        return self._generation

    def watch(self, callback: Callable[[], None]) -> None:
        """Call `callback` at every drop and every change of `serving` (tests wait on it)."""
        self._watchers.append(callback)

    def invalidate(self) -> None:
        """Drop everything held; loads in flight will not store what they read."""
        self._entries.clear()
        self._generation += 1
        for callback in self._watchers:
            callback()

    def set_listening(self, listening: bool) -> None:
        """PostgreSQL: the change listener came up or went down; either way drop all."""
        self._listening = listening
        self.invalidate()

    async def actor(self, *, org_id: int, telegram_user_id: int) -> Actor | None:
        """This update's own copy of the member bound to the account; None for strangers."""
        key = (org_id, telegram_user_id)
        if self.serving and key in self._entries:
            snapshot = self._entries[key]
        else:
            future: asyncio.Future[MemberSnapshot | None] = (
                asyncio.get_running_loop().create_future()
            )
            self._waiting.append((key, future))
            if self._rounds is None:
                self._rounds = asyncio.create_task(self._run_rounds())
            snapshot = await future
        return None if snapshot is None else snapshot.actor()

    async def _run_rounds(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[:MAX_ROUND], self._waiting[MAX_ROUND:]
                await self._round(batch)
        finally:
            # No await between the empty check above and this line: nothing can be stranded.
            self._rounds = None

    async def _round(self, batch: list[Waiting]) -> None:
        try:
            answers = await self._answer({key for key, _ in batch})
        except Exception as exc:  # the database is down: every waiting update hears it
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for key, future in batch:
            if not future.done():
                future.set_result(answers[key])

    async def _answer(self, keys: set[Key]) -> dict[Key, MemberSnapshot | None]:
        reader = self._read_version
        checked = reader is not None
        if reader is not None and all(key in self._entries for key in keys):
            # All held: one read of the version (on its own connection) says if still true.
            held = {key: self._entries[key] for key in keys}
            generation = self._generation
            version = await reader()
            if version == self._version and generation == self._generation:
                return held
        # Taken before the query: a drop while it runs means what it reads may be old.
        generation = self._generation
        answers: dict[Key, MemberSnapshot | None] = {}
        versions: list[int | None] = []
        async with self.db() as session:
            for org_id in {org for org, _ in keys}:
                wanted = [user for org, user in keys if org == org_id]
                found, version = await load_snapshots(
                    session, org_id=org_id, telegram_user_ids=wanted, with_version=checked
                )
                answers.update({(org_id, user): found.get(user) for user in wanted})
                versions.append(version)
        if generation != self._generation or not (checked or self._listening):
            return answers
        if checked and versions[0] != self._version:
            # Written since what is held was read (here or by another process): drop it all.
            # What was just read is as new as that version, so it is kept.
            self.invalidate()
            self._version = versions[0]
        if len(self._entries) + len(answers) > MAX_ENTRIES:
            self._entries.clear()
        self._entries.update(answers)
        return answers
