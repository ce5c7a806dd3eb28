"""PLACEHOLDER until helper B's health server is merged: /healthz, /readyz and /metrics.

Only the signature the runner calls is here; it serves nothing (None: as with HEALTH_LISTEN=off).
"""

from __future__ import annotations

from bot.run_status import RunStatus
from bot.settings import Settings


class HealthServer:
    """The running health server."""

    async def stop(self) -> None:
        """Stop serving."""


async def start_health_server(settings: Settings, status: RunStatus) -> HealthServer | None:
    """Serve the probes on HEALTH_LISTEN; None when it is "off" (the placeholder: always)."""
    del settings, status
    return None
