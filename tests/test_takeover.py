"""Two copies of `unionbot run` on one PostgreSQL: one active, one standby that takes over.

Real processes against the Bot API emulator (tests/support/emulator.py): the active copy is
killed with SIGKILL (a power cut), or cut off from the database by a relay that stops
(tests/support/tcp_proxy.py). The issue's contract: the standby takes over within 30 s, nothing
is sent twice and no update is handled twice. The takeover times are measured and printed.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import col, func, select

from bot.db import SessionFactory
from bot.runner import EXIT_LEASE_LOST
from models.base import utcnow
from models.lease import RunLease
from models.members import Member, MemberStatus, Role
from models.outbox import BroadcastKind, OutboxMessage, Recipient, enqueue
from tests.support.copies import BotCopy, ThreadedProxy, postgres_database, through
from tests.support.e2e_stack import GROUP_ID, seed, skip_without_emulator, with_db
from tests.support.emulator import Adapter, Emulator, EmulatorClient, bot_environment, wait_until
from tests.support.updates import Person

CHAIR = Person(83001, "张", "zh-hans")
TEACHER = Person(83003, "Wang", "en")
STAFF = [(CHAIR, "张主席", (Role.CHAIR,), None), (TEACHER, "王芳", (), None)]
HELP = "Union Desk can help you with"
WELCOME_BACK = "Welcome back"
CROWD = 40
CROWD_FIRST_ID = 9_300_000
CONTRACT_SECONDS = 30  # the issue: "the standby takes over within 30 s"


@dataclass
class Pair:
    """The emulator, the adapter, the people, and the two copies' folders."""

    adapter: Adapter
    client: EmulatorClient
    copies: list[BotCopy]

    def copy(self, tmp_path: Path, name: str, url: str, **settings: str) -> BotCopy:
        """A copy named `name` (INSTANCE_NAME), in its own folder, stopped at the end."""
        folder = tmp_path / name
        folder.mkdir()
        env = bot_environment(
            self.adapter,
            url,
            folder,
            instance_name=name,
            health_listen="off",
            owner_ids=str(CHAIR.id),
            committee_chat_id=str(GROUP_ID),
            **settings,
        )
        copy = BotCopy(folder, env)
        self.copies.append(copy)
        return copy

    def replies(self, chat_id: int, text_part: str) -> int:
        """How many messages the bot sent to `chat_id` contain `text_part`."""
        return sum(1 for text in self.client.texts(chat_id) if text_part in text)

    def ask(self, person: Person, command: str, answer: str) -> None:
        """`person` sends `command`; wait for the answer and for Telegram (the adapter) to be
        told it was handled (the next poll confirms it)."""
        self.client.say(person, command)
        self.client.wait_for(person.id, answer)
        wait_until(lambda: self.adapter.unconfirmed() == 0, "the update confirmed")


@contextmanager
def two_copies() -> Iterator[Pair]:
    """An emulator and its adapter; every copy made is stopped afterwards, its log printed
    if the test failed."""
    skip_without_emulator()
    emulator = Emulator()
    emulator.start()
    adapter = Adapter(emulator.url)
    adapter.start()
    pair = Pair(adapter, EmulatorClient(emulator), [])
    try:
        yield pair
    except BaseException:
        for copy in pair.copies:
            print(f"---- {copy.workdir.name} ----\n{copy.log()[-5000:]}")
        raise
    finally:
        for copy in pair.copies:
            copy.stop()
        adapter.stop()
        emulator.stop()


def _lease(url: str) -> tuple[str | None, int]:
    async def work(db: SessionFactory) -> tuple[str | None, int]:
        async with db() as session:
            row = (await session.exec(select(RunLease))).one()
            return row.holder, row.epoch

    result: tuple[str | None, int] = with_db(url, work)
    return result


def test_the_standby_takes_over_within_30_s_after_a_sigkill(tmp_path: Path) -> None:
    """LEASE_SECONDS at its default (15): the issue's 30 s contract as deployed."""
    url = postgres_database("takeover")
    seed(url, STAFF)
    with two_copies() as pair:
        alpha = pair.copy(tmp_path, "alpha", url, lease_seconds="15")
        beta = pair.copy(tmp_path, "beta", url, lease_seconds="15")
        alpha.start_active(pair.adapter)
        beta.start_standby()
        pair.ask(TEACHER, "/help", HELP)
        pair.ask(TEACHER, "/start", WELCOME_BACK)
        assert _lease(url) == ("alpha", 1)
        time.sleep(1.0)  # the last of an answer's messages may follow its confirmation
        sent_before = pair.adapter.count("sendMessage", TEACHER.id)

        killed = time.monotonic()
        alpha.kill()
        pair.client.say(TEACHER, "/help")  # written while nobody is active
        wait_until(lambda: "Took the lease as beta" in beta.log(), "the takeover", 60)
        took_over = time.monotonic() - killed
        pair.client.wait_for(TEACHER.id, HELP, seconds=60)
        answered = time.monotonic() - killed
        print(
            f"\nSIGKILL takeover (LEASE_SECONDS=15): lease taken after {took_over:.1f} s, "
            f"the message written after the kill answered after {answered:.1f} s"
        )
        # A last exchange: anything handled twice would have been answered before it.
        pair.ask(TEACHER, "/start", WELCOME_BACK)

        assert took_over < CONTRACT_SECONDS
        # The same two commands as before the kill: the same messages again, no more. An
        # answer of several messages may still be on its way when the update is confirmed, so
        # wait for them all, then a moment more for anything sent twice.
        expected = 2 * sent_before
        wait_until(
            lambda: pair.adapter.count("sendMessage", TEACHER.id) >= expected, "every answer", 30
        )
        time.sleep(1.0)
        assert pair.adapter.count("sendMessage", TEACHER.id) == expected
        assert (pair.replies(TEACHER.id, HELP), pair.replies(TEACHER.id, WELCOME_BACK)) == (2, 2)
        assert _lease(url) == ("beta", 2)
        # A clean stop gives the lease back at once.
        assert beta.interrupt() == 0
        assert _lease(url) == (None, 2)
        assert "Gave the lease back" in beta.log()
        assert "Traceback" not in beta.log()


def _seed_crowd(url: str, org_id: int) -> list[int]:
    async def work(db: SessionFactory) -> None:
        async with db() as session:
            session.add_all(
                Member(
                    organization_id=org_id,
                    telegram_user_id=CROWD_FIRST_ID + index,
                    real_name=f"老师{index}",
                    department="语文组",
                    status=MemberStatus.ACTIVE,
                    language="zh-Hans",
                )
                for index in range(CROWD)
            )
            await session.commit()

    with_db(url, work)
    return [CROWD_FIRST_ID + index for index in range(CROWD)]


def _announce(url: str, org_id: int, chats: list[int]) -> None:
    async def work(db: SessionFactory) -> None:
        async with db() as session:
            await enqueue(
                session,
                org_id=org_id,
                key="cutoff:announcement",
                kind=BroadcastKind.ANNOUNCEMENT,
                recipients=[
                    Recipient(chat_id=chat, text="周五下午三点教职工大会") for chat in chats
                ],
                not_before=utcnow(),
                quiet=False,
            )

    with_db(url, work)


def _outbox(url: str) -> dict[str, int]:
    async def work(db: SessionFactory) -> dict[str, int]:
        async with db() as session:
            rows = await session.exec(
                select(OutboxMessage.status, func.count()).group_by(col(OutboxMessage.status))
            )
            return {str(status): int(number) for status, number in rows.all()}

    result: dict[str, int] = with_db(url, work)
    return result


def test_the_active_copy_cut_off_from_the_database_steps_down(tmp_path: Path) -> None:
    """LEASE_SECONDS=5; the active copy reaches PostgreSQL through a relay that stops in the
    middle of a broadcast."""
    url = postgres_database("cutoff")
    org_id = seed(url, STAFF)
    crowd = _seed_crowd(url, org_id)
    relay = ThreadedProxy(url)
    try:
        with two_copies() as pair:
            alpha = pair.copy(
                tmp_path,
                "alpha",
                through(url, relay.port),
                lease_seconds="5",
                outbox_per_second="4",
            )
            beta = pair.copy(tmp_path, "beta", url, lease_seconds="5", outbox_per_second="4")
            alpha.start_active(pair.adapter)
            beta.start_standby()
            pair.ask(TEACHER, "/help", HELP)

            _announce(url, org_id, crowd)
            wait_until(
                lambda: sum(pair.adapter.count("sendMessage", chat) for chat in crowd) >= 8,
                "the broadcast under way",
                30,
            )
            cut = relay.stop()
            status = alpha.wait_exit(30)
            stepped_down = time.monotonic() - cut
            wait_until(lambda: "Took the lease as beta" in beta.log(), "the takeover", 60)
            took_over = time.monotonic() - cut
            pair.client.say(TEACHER, "/help")
            pair.client.wait_for(TEACHER.id, HELP, seconds=30)
            wait_until(
                lambda: not {"pending", "sending"} & set(_outbox(url)),
                "the broadcast to finish",
                60,
            )
            print(
                f"\ncut off (LEASE_SECONDS=5): the active copy stepped down after "
                f"{stepped_down:.1f} s, the standby took the lease after {took_over:.1f} s"
            )
            pair.ask(TEACHER, "/start", WELCOME_BACK)

            assert status == EXIT_LEASE_LOST
            assert "Lost the lease" in alpha.log()
            assert took_over < CONTRACT_SECONDS
            assert _lease(url) == ("beta", 2)
            # Nothing sent twice: each teacher got the announcement at most once, and only
            # what may have been in flight at the cut is not known as sent.
            per_chat = Counter({chat: pair.adapter.count("sendMessage", chat) for chat in crowd})
            statuses = _outbox(url)
            assert max(per_chat.values()) == 1
            delivered = sum(per_chat.values())
            assert statuses.get("sent", 0) <= delivered
            assert delivered <= statuses.get("sent", 0) + statuses.get("uncertain", 0)
            assert statuses.get("sent", 0) + statuses.get("uncertain", 0) == CROWD
            # Each message the teacher wrote answered once.
            assert (pair.replies(TEACHER.id, HELP), pair.replies(TEACHER.id, WELCOME_BACK)) == (
                2,
                1,
            )
    finally:
        relay.close()
