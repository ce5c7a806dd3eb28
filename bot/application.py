"""The Application subclass: carries our state and skips updates already handled."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.db_persistence import DatabasePersistence, UnstorableValueError
from bot.state import AppState
from models.updates import highest_processed, mark_processed_many, was_processed

logger = logging.getLogger(__name__)

# A handled update id is written as soon as the update is handled: Telegram may not have heard
# the getUpdates that confirms it yet (a slow link, a proxy reconnecting), and after a SIGKILL
# the next copy gets it again and must find it (tests/test_redelivery.py). One writer task
# writes them; ids handled while it writes go together in its next transaction, so a rush still
# writes few transactions and no handler waits for it (the cost: docs/reliability.md).


class UnionApplication(Application):
    """PTB's Application plus our state and a redelivery guard on update ids."""

    def __init__(self, *, state: AppState, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.state = state
        # Telegram's update ids only grow, so an id above every id seen so far (before this
        # start and during it) cannot be a redelivery: only the others need a database look-up.
        self._horizon: int | None = None
        self._pending: set[int] = set()
        self._flush_lock = asyncio.Lock()
        self._writer: asyncio.Task[None] | None = None

    async def initialize(self) -> None:
        """PTB's start-up, then the saved states of the forms (they sit inside the engine)."""
        await super().initialize()
        if self.state.forms is not None:
            await self.state.forms.load_persisted()

    async def update_persistence(self) -> None:
        """Hand the changed conversations and drafts to the persistence, then write it once."""
        # PTB hands over only the conversation keys written and the people marked since the last
        # round (TrackingDict.pop_accessed_write_items), never every conversation: with the
        # database store a round costs the same with 500 or 50,000 people in a form.
        if isinstance(self.persistence, DatabasePersistence):
            refused = self._hand_over_people(self.persistence)
            # As PTB does with a persistence's errors: to the error handler, the round goes on.
            for error in refused:
                await self.process_error(error=error, update=None)
        await super().update_persistence()
        if self.persistence is not None:
            await self.persistence.flush()

    def _hand_over_people(self, store: DatabasePersistence) -> list[Exception]:
        """The people marked since the last round, handed to the database store without PTB's
        deep copy of each one's user_data and without a task per person: the store encodes
        them to JSON at once, before anything else runs, so no later change can race the copy
        PTB makes to protect persistences that read the data later. PTB then finds no person
        left to hand over (its sets are emptied here, as it empties them itself)."""
        dropped = self._user_ids_to_be_deleted_in_persistence
        changed = self._user_ids_to_be_updated_in_persistence - dropped
        self._user_ids_to_be_deleted_in_persistence = set()
        self._user_ids_to_be_updated_in_persistence = set()
        refused: list[Exception] = []
        for user_id in changed:
            try:
                store.hand_over_user_data(user_id, self.user_data[user_id])
            except UnstorableValueError as error:
                refused.append(error)
        for user_id in dropped:
            store.hand_over_user_data(user_id, None)
        return refused

    async def load_redelivery_horizon(self) -> None:
        """Remember the highest update id handled before this start."""
        async with self.state.db() as session:
            self._horizon = await highest_processed(session)

    async def process_update(self, update: object) -> None:
        """Handle an update unless its id was handled before (redelivery after a crash)."""
        update_id = update.update_id if isinstance(update, Update) else None
        status = self.state.status
        if status is not None and not status.holds_lease():
            # Left unconfirmed (the fence refuses the confirming getUpdates too): the active
            # copy gets it from Telegram and handles it.
            logger.info("Not handling update %s: this copy no longer holds the lease", update_id)
            return
        if update_id is not None and await self._seen(update_id):
            logger.info("Skipping update %s: it was handled before", update_id)
            return
        await super().process_update(update)
        if self.state.status is not None:
            self.state.status.updates_handled += 1
        if update_id is not None:
            await self._remember(update_id)

    async def _seen(self, update_id: int) -> bool:
        if update_id in self._pending:
            return True
        horizon = self._horizon
        if horizon is not None and update_id > horizon:
            self._horizon = update_id
            return False
        # Never raise from here: an exception would stop PTB's update fetcher.
        try:
            async with self.state.db() as session:
                return await was_processed(session, update_id=update_id)
        except Exception:
            logger.warning("Could not check update %s against the processed list", update_id)
            return False

    async def _remember(self, update_id: int) -> None:
        self._pending.add(update_id)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_pending(), name="processed-ids")

    async def _write_pending(self) -> None:
        # After a failed write the ids wait for the next update (or the shut-down): no loop
        # against a database that is away.
        while self._pending and await self.flush_processed():
            pass

    async def finish_processed(self) -> None:
        """At shut-down: let the writer of handled ids end (its connection goes back before
        the engine closes), then write whatever is left."""
        writer = self._writer
        if writer is not None and not writer.done():
            with contextlib.suppress(Exception):
                await writer
        await self.flush_processed()

    async def flush_processed(self) -> bool:
        """Write the handled update ids kept in memory (also at shut-down); False when the
        database refused (they stay in memory and go with the next write)."""
        async with self._flush_lock:
            ids = sorted(self._pending)
            if not ids:
                return True
            try:
                # One statement, atomic on its own: no BEGIN/COMMIT round trips on PostgreSQL.
                async with self.state.single_statement() as session:
                    await mark_processed_many(session, update_ids=ids)
            except Exception:
                logger.warning("Could not record %s updates as processed", len(ids))
                return False
            self._pending.difference_update(ids)
            return True
