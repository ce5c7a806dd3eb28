"""Sealing anonymous authors: only the bot (holding SECRET_KEY) can route a reply back.

An anonymous item stores a Fernet token (authenticated encryption, random per item) instead of
any member or Telegram id, so two items of one author cannot be linked in the database, and
nobody without the key can learn who wrote one. The daily limit on anonymous items counts by a
keyed hash of (member, day), which reveals nothing without the key either.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import date

from cryptography.fernet import Fernet, InvalidToken


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return hmac.new(secret, b"union-desk/" + purpose, hashlib.sha256).digest()


class AuthorSeal:
    """Seals and opens the author of anonymous items."""

    def __init__(self, secret: bytes) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(secret, b"anonymous-author/v1")))
        self._quota_key = _derive(secret, b"anonymous-quota/v1")

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

    def quota_key(self, member_id: int, day: date) -> str:
        """A keyed hash naming (member, day) for the anonymous daily limit."""
        message = f"{member_id}:{day.isoformat()}".encode()
        return hmac.new(self._quota_key, message, hashlib.sha256).hexdigest()
