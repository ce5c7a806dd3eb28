"""The /broadcast form's buttons (`bc`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.buttons import Button
from models.calendar import AudienceType


@dataclass(frozen=True)
class BroadcastAudience(Button, prefix="bc:aud"):
    """Who receives the broadcast (one of the audiences offered by button)."""

    audience: AudienceType


@dataclass(frozen=True)
class BroadcastConfirm(Button, prefix="bc:confirm"):
    """Send or drop the broadcast under its preview."""

    choice: Literal["yes", "no"]
