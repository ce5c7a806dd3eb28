"""Forms in progress, kept in the database: the step each conversation is at and each person's
drafts (PTB's user_data), so another copy of the bot taking over continues them.

The values are JSON text written by bot/db_persistence.py; this module only stores and reads
rows. One row per conversation key or per person; a row is deleted when its conversation ends
or the person's drafts are emptied.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Text, delete, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.base import UTCDateTime, utcnow

# asyncpg takes at most 32,767 parameters per statement: deletes go in slices well below it.
DELETE_SLICE = 1000


class StateKind(enum.StrEnum):
    """What a row holds."""

    CONVERSATION = "conversation"  # name: the conversation; key: its key as a JSON list
    USER = "user"  # name: ""; key: the Telegram user id; value: their user_data


class ConversationState(SQLModel, table=True):
    """One conversation's state, or one person's drafts, as JSON text."""

    __tablename__ = "conversation_state"

    kind: str = Field(primary_key=True, max_length=16)
    name: str = Field(primary_key=True, max_length=64)
    key: str = Field(primary_key=True, max_length=100)
    value: str = Field(sa_type=Text)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


RowKey = tuple[str, str, str]  # (kind, name, key)


async def load_states(session: AsyncSession) -> list[ConversationState]:
    """Every stored row (read once, when the application starts)."""
    return list((await session.exec(select(ConversationState))).all())


async def has_states(session: AsyncSession) -> bool:
    """Whether any row is stored (none: nothing was ever saved, or every form ended)."""
    return bool((await session.exec(select(ConversationState.kind).limit(1))).all())


@functools.cache
def _upsert(dialect: str) -> Any:
    """INSERT ... ON CONFLICT DO UPDATE in this dialect: two copies writing the same row at
    once (a takeover) give the later value, never a duplicate-key error. Built once per
    dialect (a statement is immutable): building it cost a flush a few hundred microseconds."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # The table, not the ORM class: a Core insert skips the ORM's bulk-insert bookkeeping,
    # which cost more of the event loop than the rows themselves (bench/flush.py).
    statement = insert(ConversationState.__table__)  # type: ignore[attr-defined]
    return statement.on_conflict_do_update(
        index_elements=["kind", "name", "key"],
        set_={"value": statement.excluded.value, "updated_at": statement.excluded.updated_at},
    )


async def write_states(
    session: AsyncSession, *, changed: dict[RowKey, str], removed: Iterable[RowKey]
) -> None:
    """Write the changed rows and delete the removed ones, in one transaction."""
    now = utcnow()
    gone = list(removed)
    for start in range(0, len(gone), DELETE_SLICE):
        part = gone[start : start + DELETE_SLICE]
        await session.exec(
            delete(ConversationState).where(
                tuple_(
                    col(ConversationState.kind),
                    col(ConversationState.name),
                    col(ConversationState.key),
                ).in_(part)
            )
        )
    if changed:
        rows = [
            {"kind": kind, "name": name, "key": key, "value": value, "updated_at": now}
            for (kind, name, key), value in changed.items()
        ]
        dialect = session.bind.dialect.name if session.bind is not None else "postgresql"
        await session.exec(_upsert(dialect), params=rows)
    await session.commit()
