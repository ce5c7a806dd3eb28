"""An active copy frozen past its lease (SIGSTOP: a VM paused, a laptop lid, a long GC) and then
thawed (SIGCONT) while another copy took over: it must not handle or send anything more.

Real processes on PostgreSQL against the emulator (tests/support/emulator.py); each copy calls
Telegram through its own adapter URL, so what the thawed copy sent is counted on its own.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

from bot.runner import EXIT_LEASE_LOST
from tests.support.copies import postgres_database
from tests.support.e2e_stack import seed
from tests.support.emulator import wait_until
from tests.test_takeover import HELP, STAFF, TEACHER, WELCOME_BACK, two_copies

LEASE = "5"


def test_a_copy_thawed_after_a_takeover_sends_and_handles_nothing(tmp_path: Path) -> None:
    """The frozen copy's last long poll was answered with an update while it slept (Telegram
    gives an unconfirmed update to the next poll too, so the new active copy answers it): on
    waking it must step down without handling that update or calling Telegram again."""
    url = postgres_database("stale")
    seed(url, STAFF)
    with two_copies() as pair:
        alpha = pair.copy(
            tmp_path,
            "alpha",
            url,
            lease_seconds=LEASE,
            telegram_api_base_url=pair.adapter.url_for("alpha"),
        )
        beta = pair.copy(
            tmp_path,
            "beta",
            url,
            lease_seconds=LEASE,
            telegram_api_base_url=pair.adapter.url_for("beta"),
        )
        alpha.start_active(pair.adapter)
        beta.start_standby()
        pair.ask(TEACHER, "/help", HELP)

        process = alpha._process
        assert process is not None
        process.send_signal(signal.SIGSTOP)
        frozen = time.monotonic()
        # Fetched by alpha's open long poll (the answer waits in its socket), never confirmed.
        pair.client.say(TEACHER, "/help")
        wait_until(lambda: pair.adapter.unconfirmed() == 1, "the update fetched by alpha")
        wait_until(lambda: "Took the lease as beta" in beta.log(), "the takeover", 60)
        pair.client.wait_for(TEACHER.id, HELP, seconds=30)
        pair.ask(TEACHER, "/start", WELCOME_BACK)
        before = pair.adapter.calls_by("alpha")
        print(f"\nalpha frozen for {time.monotonic() - frozen:.1f} s (LEASE_SECONDS={LEASE})")

        process.send_signal(signal.SIGCONT)
        status = alpha.wait_exit(30)
        after = pair.adapter.calls_by("alpha") - before
        stale = [
            (call.method, call.params.get("offset"))
            for call in pair.adapter.calls[-50:]
            if call.caller == "alpha"
        ]
        print(f"alpha's calls to Telegram after it woke: {after} {stale[-5:]}")
        if "Still stopping" in alpha.log():  # bot/exit_deadline.py ended it: where it hung
            print(alpha.log()[-8000:])
        pair.ask(TEACHER, "/start", WELCOME_BACK)

        assert status == EXIT_LEASE_LOST
        assert after == 0
        # Each message the teacher wrote answered once.
        assert (pair.replies(TEACHER.id, HELP), pair.replies(TEACHER.id, WELCOME_BACK)) == (2, 2)
        assert "Traceback" not in alpha.log()
