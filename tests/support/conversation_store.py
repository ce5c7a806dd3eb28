"""What the conversation store holds: the conversation_state table of the bot's database, on
SQLite and PostgreSQL alike (bot/db_persistence.py)."""

from __future__ import annotations

from typing import Any

from bot.db import create_engine, create_session_factory
from bot.db_persistence import decode
from bot.settings import Settings
from models.conversation_state import ConversationState, StateKind, load_states


async def stored_rows(url: str) -> list[ConversationState]:
    """Every row of the conversation_state table."""
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session:
            return await load_states(session)
    finally:
        await engine.dispose()


async def stored_bytes(settings: Settings) -> bytes:
    """Everything the store holds, as bytes (for "this text is (not) kept" checks)."""
    rows = await stored_rows(settings.database_url)
    return "\n".join(f"{row.name} {row.key} {row.value}" for row in rows).encode()


async def stored_user_data(settings: Settings, user_id: int) -> dict[Any, Any]:
    """What the store holds for one person ({} if nothing)."""
    for row in await stored_rows(settings.database_url):
        if row.kind == StateKind.USER and row.key == str(user_id):
            return dict(decode(row.value))
    return {}
