"""No update handled twice across a SIGKILL: an update answered just before the kill, whose
confirming getUpdates had not reached Telegram yet, comes back to the next copy (the standby on
PostgreSQL, the restarted copy on SQLite), which must know it was handled.

Real processes against the emulator; the adapter holds the confirming getUpdates (a slow link to
Telegram, a proxy reconnecting) so the kill lands in that window every time.
"""

from __future__ import annotations

import time
from pathlib import Path

from sqlmodel import func, select

from bot.db import SessionFactory
from models.updates import ProcessedUpdate
from tests.support.copies import ON_POSTGRES, own_database
from tests.support.e2e_stack import seed, with_db
from tests.support.emulator import wait_until
from tests.test_takeover import HELP, STAFF, TEACHER, WELCOME_BACK, two_copies

BURST = 4


def _handled(url: str) -> int:
    async def work(db: SessionFactory) -> int:
        async with db() as session:
            return int(
                (await session.exec(select(func.count()).select_from(ProcessedUpdate))).one()
            )

    result: int = with_db(url, work)
    return result


def test_an_update_answered_just_before_a_sigkill_is_not_answered_again(tmp_path: Path) -> None:
    """A few commands fetched together and answered; killed before Telegram heard the next
    getUpdates; the next copy gets both again and answers neither."""
    url = own_database(tmp_path, "redelivery")
    seed(url, STAFF)
    with two_copies() as pair:
        alpha = pair.copy(tmp_path, "alpha", url)
        alpha.start_active(pair.adapter)
        beta = pair.copy(tmp_path, "beta", url)
        if ON_POSTGRES:
            beta.start_standby()
        pair.ask(TEACHER, "/help", HELP)

        # Catch alpha's next long poll, let both messages wait behind it, then hold the poll
        # after it: that one would confirm them to Telegram.
        gate = pair.adapter.hold("getUpdates", 0, drop=False)
        wait_until(gate.reached.is_set, "alpha's next long poll", 30)
        for _ in range(BURST):
            pair.client.say(TEACHER, "/help")
        pair.client.say(TEACHER, "/start")
        confirm = pair.adapter.hold("getUpdates", 0)
        gate.released.set()
        for _ in range(BURST):
            pair.client.wait_for(TEACHER.id, HELP)
        pair.client.wait_for(TEACHER.id, WELCOME_BACK)
        answered = time.monotonic()
        # Answered means handled: its id must reach the database within moments, not wait in
        # memory for a later update (the kill then lands in the window between the two).
        wait_until(lambda: _handled(url) == BURST + 2, "the handled ids written", 10)
        written = time.monotonic() - answered
        alpha.kill()
        assert pair.adapter.unconfirmed() == BURST + 1  # Telegram will give both to the next copy
        confirm.released.set()

        if not ON_POSTGRES:
            beta.start_active(pair.adapter)
        wait_until(lambda: pair.adapter.unconfirmed() == 0, "the next copy to fetch them", 60)
        pair.ask(TEACHER, "/start", WELCOME_BACK)  # anything answered twice came before this
        print(
            f"\nids written {written * 1000:.0f} ms after the last answer was seen; killed; the "
            f"next copy skipped "
            f"{beta.log().count('Skipping update')} of {BURST + 1}"
        )

        assert (pair.replies(TEACHER.id, HELP), pair.replies(TEACHER.id, WELCOME_BACK)) == (
            BURST + 1,
            2,
        )
