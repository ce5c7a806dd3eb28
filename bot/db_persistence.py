"""Forms in progress kept in the bot's database (PostgreSQL or SQLite), so a standby that takes
over (PostgreSQL) or the restarted bot continues them, at a cost per round that follows the
people who changed, not the people in a form (bench/flush.py).

What is kept is what the conversation file of earlier versions kept (a PicklePersistence): the
step of every persistent conversation and each person's user_data (their drafts and the
record of their active form). bot_data, chat_data and callback data are not kept at all.

**JSON, not pickle.** Unpickling runs whatever the bytes say, so a pickle read from a table
would let anyone able to write one row (a database login shared with a reporting tool, a
restored backup from elsewhere) run code inside the bot. The drafts are plain data already:
handlers store ids, strings, numbers, lists and dicts, and dates as ISO text (see bot/forms.py
ActiveForm.as_record and handlers/common.py user_draft). So rows hold JSON, with a small tag
for the few Python values JSON has no word for (a tuple, a set, a dict with non-text keys, a
date, a time, a datetime); reading builds only those built-in types, never a class named in
the data. An enum member is kept as its value (handlers compare and rebuild from values). A
value of any other type is refused when it is handed over, with its type name only, so a
handler that starts storing objects fails in the tests instead of losing a draft in service.

**Writes.** PTB hands over the changed conversations and people once per round
(UnionApplication.update_persistence); each is encoded at once and compared with what the
table holds, and `flush` writes only the rows that differ, all in one transaction: after a
rush of a thousand people that is one transaction, not a thousand. PTB hands over only what
was written since the last round (it does not walk every conversation), so nothing here grows
with the people who are in a form but did not move. A person whose drafts
became empty and a conversation that ended are deleted from the table. A failed write is
logged (a count, never a value) and retried at the next round.

**Reads.** Everything is read once, when the application initializes (for a standby: when
it becomes active and builds its application); while running, the memory is authoritative.

**The old file.** On the first start with the database store, if the table is empty and the
conversation file of the earlier version exists, its forms are imported once and the file is
deleted: teachers' half-written forms are not dropped by an upgrade, and drafts (an anonymous
author's text, ballot choices) do not linger on disk afterwards. Reading that pickle trusts it
exactly as the earlier version did at every start (the bot's own 0600 file in its private
folder). If the table already holds rows, the file is stale: it is left alone, with one line
in the log saying so.

Privacy: values are never logged, in any message of this module.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from telegram.ext import BasePersistence, PersistenceInput, PicklePersistence
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

from bot.db import SessionFactory
from models.conversation_state import (
    ConversationState,
    RowKey,
    StateKind,
    has_states,
    load_states,
    write_states,
)

logger = logging.getLogger(__name__)

UserData = dict[Any, Any]
STORED = PersistenceInput(bot_data=False, chat_data=False, callback_data=False)
TAG = "$t"  # the key of a tagged value: {"$t": "tuple", "v": [...]}


class UnstorableValueError(TypeError):
    """A value the conversation store does not keep (its type is named, never its content)."""


# ---- the codec --------------------------------------------------------------------------------


_SCALARS = frozenset({str, int, float, bool, type(None)})  # exactly these types: kept as they are


def _plain(value: Any) -> Any:
    """`value` as JSON-ready data, tagged where JSON would change its type."""
    # The common cases first, by exact type (a flush encodes every changed person's drafts on
    # the event loop): plain scalars, lists, and dicts with text keys.
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict:
        if TAG not in value and all(type(key) is str for key in value):
            return {key: _plain(item) for key, item in value.items()}
    elif kind is list:
        return [_plain(item) for item in value]
    return _plain_other(value)


def _plain_other(value: Any) -> Any:
    """The rarer values: enums, subclasses of the built-ins, tagged types; or a refusal."""
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        if all(type(key) is str for key in value) and TAG not in value:
            return {key: _plain(item) for key, item in value.items()}
        return {TAG: "dict", "v": [[_plain(key), _plain(item)] for key, item in value.items()]}
    if isinstance(value, tuple):
        return {TAG: "tuple", "v": [_plain(item) for item in value]}
    if isinstance(value, set | frozenset):
        items = sorted((_plain(item) for item in value), key=_text)  # the same set, same text
        return {TAG: "frozenset" if isinstance(value, frozenset) else "set", "v": items}
    if isinstance(value, dt.datetime):
        return {TAG: "datetime", "v": value.isoformat()}
    if isinstance(value, dt.date):
        return {TAG: "date", "v": value.isoformat()}
    if isinstance(value, dt.time):
        return {TAG: "time", "v": value.isoformat()}
    raise UnstorableValueError(f"the conversation store keeps no {type(value).__name__}")


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _text(plain: Any) -> str:
    return _ENCODER.encode(plain)


def encode(value: Any) -> str:
    """The JSON text of a conversation state or of a person's user_data."""
    return _text(_plain(value))


_READERS: dict[str, Any] = {
    "tuple": tuple,
    "set": set,
    "frozenset": frozenset,
    "dict": dict,  # from [key, value] pairs; a list as a key: TypeError
    "datetime": dt.datetime.fromisoformat,
    "date": dt.date.fromisoformat,
    "time": dt.time.fromisoformat,
}


def _tagged(obj: dict[str, Any]) -> Any:
    if TAG not in obj:
        return obj
    reader = _READERS.get(str(obj[TAG]))
    if reader is None or set(obj) != {TAG, "v"}:
        raise ValueError("an unknown tag")
    return reader(obj["v"])


def decode(text: str) -> Any:
    """The value `encode` wrote (ValueError for anything it did not write)."""
    try:
        return json.loads(text, object_hook=_tagged)
    except (TypeError, ValueError, RecursionError) as error:  # deep nesting: RecursionError
        raise ValueError("not a stored conversation value") from error


def _conversation_key(key: ConversationKey) -> str:
    return _text([_plain(part) for part in key])


def _read_key(text: str) -> ConversationKey:
    parts = json.loads(text)
    if not isinstance(parts, list) or not all(type(p) in (int, str) for p in parts):
        raise ValueError("not a conversation key")
    return tuple(parts)


# ---- the persistence ----------------------------------------------------------------------------


@dataclass
class _Loaded:
    """What the table held at start, decoded."""

    people: dict[int, UserData] = field(default_factory=dict)
    conversations: dict[str, dict[ConversationKey, object]] = field(default_factory=dict)


def _place(loaded: _Loaded, row: ConversationState) -> bool:
    """Put a stored row where PTB will ask for it; False if it is not one we wrote."""
    try:
        value = decode(row.value)
        if row.kind == StateKind.USER and isinstance(value, dict):
            loaded.people[int(row.key)] = value
            return True
        if row.kind == StateKind.CONVERSATION:
            hash(value)  # PTB looks states up in a dict: a list would fail every update
            loaded.conversations.setdefault(row.name, {})[_read_key(row.key)] = value
            return True
    except (ValueError, TypeError):
        pass
    return False


class DatabasePersistence(BasePersistence[UserData, UserData, UserData]):
    """PTB persistence on the bot's database: conversations and user_data, as JSON rows."""

    def __init__(
        self, db: SessionFactory, *, update_interval: float, old_file: Path | None = None
    ) -> None:
        super().__init__(store_data=STORED, update_interval=update_interval)
        self.db = db
        self.old_file = old_file
        self._stored: dict[RowKey, str] = {}  # what the table holds (as far as we wrote it)
        self._pending: dict[RowKey, str | None] = {}  # to write at the next flush; None: delete
        self._loaded: _Loaded | None = None
        self._flush_lock = asyncio.Lock()
        self._load_lock = asyncio.Lock()

    # ---- reading, once -------------------------------------------------------------------

    async def _load(self) -> _Loaded:
        async with self._load_lock:
            if self._loaded is None:
                await self._import_old_file()
                self._loaded = await self._read_table()
            return self._loaded

    async def _read_table(self) -> _Loaded:
        async with self.db() as session:
            rows = await load_states(session)
        loaded = _Loaded()
        unreadable = 0
        for row in rows:
            if _place(loaded, row):
                self._stored[(row.kind, row.name, row.key)] = row.value
            else:
                unreadable += 1
        if unreadable:
            # Neither used nor deleted: the rows stay for whoever looks into them.
            logger.warning("Skipped %s unreadable row(s) of the conversation store", unreadable)
        return loaded

    async def get_user_data(self) -> dict[int, UserData]:
        """Each person's user_data as stored."""
        return dict((await self._load()).people)

    async def get_conversations(self, name: str) -> ConversationDict:
        """The stored states of the conversation called `name`."""
        return dict((await self._load()).conversations.get(name, {}))

    async def get_chat_data(self) -> dict[int, UserData]:
        """Not kept: chat_data is off (see STORED)."""
        return {}

    async def get_bot_data(self) -> UserData:
        """Not kept: our bot_data holds an engine, never stored."""
        return {}

    async def get_callback_data(self) -> CDCData | None:
        """Not kept: callback data are typed buttons packed into the message."""
        return None

    # ---- handed over by PTB, written at the flush ----------------------------------------

    def _hand_over(self, row_key: RowKey, text: str | None) -> None:
        if text == self._stored.get(row_key):
            self._pending.pop(row_key, None)
        else:
            self._pending[row_key] = text

    def hand_over_user_data(self, user_id: int, data: UserData | None) -> None:
        """Encode this person's user_data now, for the next flush (empty or None: deleted).
        Synchronous: what is kept is the data as it is at this moment (no copy needed)."""
        self._hand_over((StateKind.USER, "", str(user_id)), encode(data) if data else None)

    async def update_user_data(self, user_id: int, data: UserData) -> None:
        """Keep this person's user_data for the next flush (an empty one is deleted)."""
        self.hand_over_user_data(user_id, data)

    async def drop_user_data(self, user_id: int) -> None:
        """Delete this person's user_data at the next flush."""
        self.hand_over_user_data(user_id, None)

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        """Keep this conversation's state for the next flush (None: it ended, deleted)."""
        text = None if new_state is None else encode(new_state)
        self._hand_over((StateKind.CONVERSATION, name, _conversation_key(key)), text)

    async def update_chat_data(self, chat_id: int, data: UserData) -> None:
        """Not kept (see STORED)."""

    async def update_bot_data(self, data: UserData) -> None:
        """Not kept (see STORED)."""

    async def update_callback_data(self, data: CDCData) -> None:
        """Not kept (see STORED)."""

    async def drop_chat_data(self, chat_id: int) -> None:
        """Not kept (see STORED)."""

    async def refresh_user_data(self, user_id: int, user_data: UserData) -> None:
        """Nothing to refresh: while this copy is active, its memory is the truth."""

    async def refresh_chat_data(self, chat_id: int, chat_data: UserData) -> None:
        """Not kept (see STORED)."""

    async def refresh_bot_data(self, bot_data: UserData) -> None:
        """Not kept (see STORED)."""

    async def flush(self) -> None:
        """Write the rows that changed since the last flush, in one transaction. Never raises
        (PTB's periodic writer would stop for good): a failed write is retried next round."""
        async with self._flush_lock:
            batch, self._pending = self._pending, {}
            if not batch:
                return
            before = {row_key: self._stored.get(row_key) for row_key in batch}
            # What the table will hold: a hand-over during the write compares with this.
            self._remember(batch)
            changed = {k: text for k, text in batch.items() if text is not None}
            removed = [k for k, text in batch.items() if text is None]
            try:
                async with self.db() as session:
                    await write_states(session, changed=changed, removed=removed)
            except Exception as error:
                self._remember(before)
                for row_key, text in batch.items():
                    self._pending.setdefault(row_key, text)  # unless handed over again since
                logger.warning(
                    "Could not write %s change(s) to the conversation store (%s); "
                    "retrying at the next round",
                    len(batch),
                    type(error).__name__,
                )

    def _remember(self, values: dict[RowKey, str | None]) -> None:
        for row_key, text in values.items():
            if text is None:
                self._stored.pop(row_key, None)
            else:
                self._stored[row_key] = text

    # ---- the conversation file of the earlier version ------------------------------------

    async def _import_old_file(self) -> None:
        path = self.old_file
        if path is None or not path.exists():
            return
        async with self.db() as session:
            if await has_states(session):
                logger.warning(
                    "The old conversation file %s is ignored: the database already keeps the "
                    "forms in progress. It can be deleted.",
                    path,
                )
                return
        old = PicklePersistence(path, store_data=STORED, single_file=True)
        old.set_bot(self.bot)
        try:
            people = await old.get_user_data()
        except TypeError:  # PTB's word for a file it cannot unpickle
            logger.warning("The old conversation file %s could not be read; it is ignored", path)
            return
        conversations = cast("dict[str, ConversationDict]", old.conversations or {})
        changed: dict[RowKey, str] = {}
        refused = 0
        for user_id, data in people.items():
            try:
                if data:
                    changed[(StateKind.USER, "", str(user_id))] = encode(data)
            except UnstorableValueError:
                refused += 1
        for name, states in conversations.items():
            for key, state in states.items():
                try:
                    changed[(StateKind.CONVERSATION, name, _conversation_key(key))] = encode(state)
                except UnstorableValueError:
                    refused += 1
        async with self.db() as session:
            await write_states(session, changed=changed, removed=())
        try:
            path.unlink()
        except OSError as error:
            logger.warning(
                "The old conversation file %s was imported but not deleted (%s): delete it",
                path,
                type(error).__name__,
            )
        logger.info(
            "Imported %s row(s) of forms in progress from the old conversation file %s "
            "(%s refused)",
            len(changed),
            path,
            refused,
        )
