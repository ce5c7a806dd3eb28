"""A copy that lost its lease ends for sure, even if its orderly stop hangs.

Another copy may be active by then; a process that lingers (a task that outlives its cancel, an
executor thread that never returns, asyncio.run waiting on either) is not handling updates any
more, but it keeps its service manager from starting it again as a standby. A daemon timer,
armed when the lease is lost, writes every thread's stack to stderr (the journal; code places
only, no data) and ends the process with the lease-lost status if it is still there.
"""

from __future__ import annotations

import faulthandler
import logging
import os
import sys
import threading

logger = logging.getLogger(__name__)


def exit_by_deadline(status: int, seconds: float) -> threading.Timer:
    """Arm a timer that ends the process with `status` if it still runs after `seconds`."""
    timer = threading.Timer(seconds, _expire, args=(status, seconds))
    timer.daemon = True
    timer.name = "exit-deadline"
    timer.start()
    return timer


def _expire(status: int, seconds: float) -> None:
    logger.error("Still stopping %.0f s after the lease was lost: ending the process now", seconds)
    for handler in logging.getLogger().handlers:
        handler.flush()
    faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
    sys.stderr.flush()
    os._exit(status)
