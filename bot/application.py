"""The Application subclass: carries our state and skips updates already handled."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.state import AppState
from models.updates import highest_processed, mark_processed, was_processed

logger = logging.getLogger(__name__)


class UnionApplication(Application):
    """PTB's Application plus our state and a redelivery guard on update ids."""

    def __init__(self, *, state: AppState, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.state = state
        # Telegram's update ids only grow, so an id above every id seen so far (before this
        # start and during it) cannot be a redelivery: only the others need a database look-up.
        self._horizon: int | None = None

    async def load_redelivery_horizon(self) -> None:
        """Remember the highest update id handled before this start."""
        async with self.state.db() as session:
            self._horizon = await highest_processed(session)

    async def process_update(self, update: object) -> None:
        """Handle an update unless its id was handled before (redelivery after a crash)."""
        update_id = update.update_id if isinstance(update, Update) else None
        if update_id is not None and await self._seen(update_id):
            logger.info("Skipping update %s: it was handled before", update_id)
            return
        await super().process_update(update)
        if update_id is not None:
            await self._remember(update_id)

    async def _seen(self, update_id: int) -> bool:
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
        try:
            async with self.state.db() as session:
                await mark_processed(session, update_id=update_id)
        except Exception:
            logger.warning("Could not record update %s as processed", update_id)
