"""Sealing anonymous authors: only the bot (holding SECRET_KEY) can route a reply back.

An anonymous item stores a Fernet token (authenticated encryption, random per item) instead of
any member or Telegram id, so two items of one author cannot be linked in the database, and
nobody without the key can learn who wrote one. Whoever runs the server and holds the key can
open the tokens: the members are told so when they choose anonymity.

The daily limit on anonymous items is counted in memory only (`AnonymousTally`), by a keyed hash
of (member, day): no row per author exists, so neither row order nor PostgreSQL's transaction
ids (`xmin`) can link one author's items. A restart forgets the counts of the day.

The database keeps a check value of the key (`SecretKeyCheck`): a start with another key would
silently lose every anonymous thread, so it is refused unless the loss is accepted explicitly.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import date, datetime
from enum import StrEnum

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import String
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from models.base import UTCDateTime, utcnow


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return hmac.new(secret, b"union-desk/" + purpose, hashlib.sha256).digest()


class AnonymousTally:
    """How many anonymous items each author filed today, kept in this process's memory only.

    Authors are named by an HMAC of (member, day) under a key derived from SECRET_KEY; only the
    current day is kept. No item id, no order and no time is recorded, so nothing here links
    one author's items. A restart starts the day's counts again from zero (accepted: the limit
    is against floods, not a quota anyone is owed).
    """

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._day: date | None = None
        self._counts: dict[str, int] = {}

    def _name(self, member_id: int, day: date) -> str:
        message = f"{member_id}:{day.isoformat()}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def _of_day(self, day: date) -> dict[str, int]:
        if day != self._day:  # a new day: yesterday's counts are forgotten
            self._day = day
            self._counts = {}
        return self._counts

    def count(self, member_id: int, day: date) -> int:
        """Anonymous items this member filed on `day` (since this process started)."""
        return self._of_day(day).get(self._name(member_id, day), 0)

    def take(self, member_id: int, day: date, limit: int) -> bool:
        """Count one more item unless the member reached `limit`; False if they had."""
        counts = self._of_day(day)
        name = self._name(member_id, day)
        if counts.get(name, 0) >= limit:
            return False
        counts[name] = counts.get(name, 0) + 1
        return True

    def give_back(self, member_id: int, day: date) -> None:
        """Undo `take` when the item was not stored after all."""
        counts = self._of_day(day)
        name = self._name(member_id, day)
        left = counts.get(name, 0) - 1
        if left > 0:
            counts[name] = left
        else:
            counts.pop(name, None)


class AuthorSeal:
    """Seals and opens the author of anonymous items, and counts them per author and day."""

    def __init__(self, secret: bytes) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(secret, b"anonymous-author/v1")))
        self._quota_key = _derive(secret, b"anonymous-quota/v1")
        self.tally = AnonymousTally(self._quota_key)

    def seal(self, member_id: int) -> str:
        """A token from which only this bot can recover `member_id`."""
        return self._fernet.encrypt(json.dumps({"m": member_id}).encode()).decode()

    def open(self, token: str | None) -> int | None:
        """The member id inside a token, or None if it is not ours."""
        if not token:
            return None
        try:
            payload = json.loads(self._fernet.decrypt(token.encode()))
        except (InvalidToken, ValueError):
            return None
        member_id = payload.get("m") if isinstance(payload, dict) else None
        return member_id if isinstance(member_id, int) else None


# ---- the key check -----------------------------------------------------------------------


def key_check_value(secret: bytes) -> str:
    """A value that changes with the key and reveals nothing of it (a keyed hash)."""
    return _derive(secret, b"key-check/v1").hex()


class SecretKeyCheck(SQLModel, table=True):
    """The check value of the key this database's anonymous items were sealed with (one row)."""

    __tablename__ = "secret_key_check"

    id: int | None = Field(default=None, primary_key=True)
    check_value: str = Field(sa_type=String(64))
    stored_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class KeyCheck(StrEnum):
    """What the start-up check of the key found."""

    FIRST = "first"  # no check value yet: this key's is stored now
    SAME = "same"  # the key the database was used with
    ACCEPTED = "accepted"  # another key, accepted by the operator: the new one is stored
    CHANGED = "changed"  # another key, not accepted: the bot must not start


async def check_secret_key(
    session: AsyncSession,
    *,
    seal: AuthorSeal,
    secret: bytes,
    accept_new: bool,
    sealed_sample: str | None = None,
) -> KeyCheck:
    """Compare the key with the one the database was used with (stored as a check value).

    With no check value stored yet (the first start, or the first after this check was added),
    `sealed_sample`, the newest anonymous item's token if there is one, tells whether the key
    still opens what was sealed before.
    """
    expected = key_check_value(secret)
    row = await session.get(SecretKeyCheck, 1)
    if row is not None and hmac.compare_digest(row.check_value, expected):
        return KeyCheck.SAME
    known_other = row is not None or (
        sealed_sample is not None and seal.open(sealed_sample) is None
    )
    if known_other and not accept_new:
        return KeyCheck.CHANGED
    if row is None:
        session.add(SecretKeyCheck(id=1, check_value=expected))
    else:
        row.check_value = expected
        row.stored_at = utcnow()
        session.add(row)
    try:
        await session.commit()
    except IntegrityError:  # another process stored it at the same moment: compare again
        await session.rollback()
        return await check_secret_key(
            session, seal=seal, secret=secret, accept_new=accept_new, sealed_sample=sealed_sample
        )
    return KeyCheck.ACCEPTED if known_other else KeyCheck.FIRST
