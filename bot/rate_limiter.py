"""PTB's AIORateLimiter, where a call may ask never to be retried after a 429.

The outbox paces its own sends (scheduler/pacing.py) and must hear of a 429 at once: when the
limiter retried it quietly, the pacer went on granting starts during the pause, and every send
that had queued in the limiter left together when the pause ended (twice Telegram's 30 a
second in that second). ExtBot drops a falsy `rate_limit_args` and AIORateLimiter reads
`rate_limit_args or max_retries`, so asking for 0 retries gave the default 3; here
`rate_limit_args=NO_RETRY` (-1) is one attempt.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

from telegram._utils.types import JSONDict
from telegram.ext import AIORateLimiter

NO_RETRY = -1  # the outbox's rate_limit_args: a 429 is raised to the caller at once


class UnionRateLimiter(AIORateLimiter):
    """AIORateLimiter with `rate_limit_args=NO_RETRY` meaning one attempt, no retry."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        """One attempt for NO_RETRY; PTB's own retries for anything else."""
        if rate_limit_args != NO_RETRY:
            return await super().process_request(
                callback, args, kwargs, endpoint, data, rate_limit_args
            )
        chat_id = data.get("chat_id")
        with contextlib.suppress(ValueError, TypeError):
            chat_id = int(chat_id)  # type: ignore[arg-type]
        # As PTB decides: a negative id or a @name is a group for the 20-a-minute rule.
        group: int | str | bool = False
        if (isinstance(chat_id, int) and chat_id < 0) or isinstance(chat_id, str):
            group = chat_id
        return await self._run_request(
            chat=chat_id is not None,
            group=group,
            allow_paid_broadcast=data.get("allow_paid_broadcast", False),
            callback=callback,
            args=args,
            kwargs=kwargs,
        )
