"""A copy that lost its lease ends even when its orderly stop hangs (bot/exit_deadline.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from bot.runner import EXIT_LEASE_LOST

HANGING_STOP = textwrap.dedent(
    """
    import asyncio, logging
    from bot.exit_deadline import exit_by_deadline

    logging.basicConfig(level=logging.INFO)

    async def main() -> None:
        async def stubborn() -> None:
            while True:  # swallows every cancel, as a task that outlives its cancel would
                try:
                    await asyncio.sleep(3600)
                except asyncio.CancelledError:
                    pass

        asyncio.get_running_loop().create_task(stubborn())
        await asyncio.sleep(0)
        exit_by_deadline(%d, 1.0)
        return None  # asyncio.run now cancels stubborn() and waits for it forever

    asyncio.run(main())
    """
)


def test_a_stop_that_hangs_ends_with_the_lease_lost_status_and_the_stacks() -> None:
    """The hang is real (asyncio.run waits forever for a task that ignores its cancel); the
    deadline ends the process with the lease-lost status and says where each thread was."""
    done = subprocess.run(
        [sys.executable, "-c", HANGING_STOP % EXIT_LEASE_LOST],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == EXIT_LEASE_LOST
    assert "Still stopping 1 s after the lease was lost: ending the process now" in done.stderr
    assert "most recent call first" in done.stderr  # faulthandler's dump of the threads
    assert "Traceback" not in done.stderr


def test_a_stop_that_ends_in_time_is_not_cut_short() -> None:
    """A process that ends before the deadline keeps its own status and prints no dump."""
    script = (
        "from bot.exit_deadline import exit_by_deadline\n"
        "exit_by_deadline(75, 30)\n"
        "raise SystemExit(0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stderr) == (0, "")
