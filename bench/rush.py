"""Sign-up rush: 1,000 different members press "Sign up" within one second on an activity with
100 seats, through a fake Telegram that adds 100 ms to every call.

The same rush runs on a fresh database each time: through the application's own update
processor (different people at once, each person in order), and strictly one update after
another (PTB's default). For each it prints the time until the last member had their answer,
answer latency percentiles, the seats given (must be exactly 100) and whether the waitlist
numbers are 1..N without gaps or repeats. Beside ours, in the same run, the floor: the same
presses at the same moments through a bare PTB application with the same number of concurrent
updates and the same slow fake, whose handler answers the press and sends one message, with
no database; and the ratios of ours to it (last answer, p50). Not a test: nothing is asserted.

    make bench-rush      # or: .venv/bin/python -m bench.rush --members 1000 --seats 100
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlmodel import col, func, select
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, ContextTypes
from telegram.request import RequestData

from bot.app import build_application
from bot.application import UnionApplication
from bot.db import create_engine, upgrade_async
from handlers.activities.buttons import ActivityButton
from models.activities import Activity, ActivityCategory, Signup, SignupStatus
from models.base import utcnow
from models.members import Member, MemberRole, MemberStatus, Role
from tests.support.fake_telegram import TOKEN, FakeTelegram
from tests.support.harness import make_settings
from tests.support.updates import Person, button

LATENCY = 0.1  # seconds added to every Bot API call


@dataclass
class SlowTelegram(FakeTelegram):
    """The recording fake, 100 ms away, noting when each button press was answered."""

    answered_at: dict[str, float] = field(default_factory=dict)

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = None,
        write_timeout: object = None,
        connect_timeout: object = None,
        pool_timeout: object = None,
    ) -> tuple[int, bytes]:
        """Wait the latency, then answer as the fake does."""
        await asyncio.sleep(LATENCY)
        answer = await super().do_request(url, method, request_data)
        if url.endswith("/answerCallbackQuery") and request_data is not None:
            self.answered_at[str(request_data.parameters["callback_query_id"])] = time.monotonic()
        return answer


@dataclass
class Outcome:
    """One run's figures."""

    name: str
    last_answer: float  # seconds from the first press to the last answer
    latencies: list[float]
    seats: int | None = None  # None: the floor, which keeps no seats
    waitlist: int = 0
    waitlist_contiguous: bool = True
    in_press_order: float = 1.0  # share of the waitlist ranked in the order people pressed

    def pct(self, fraction: float) -> float:
        """Answer latency at this fraction, in seconds."""
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    def lines(self) -> list[str]:
        """The report."""
        head = [
            f"{self.name}",
            f"  last member answered after  {self.last_answer:8.2f} s",
            f"  answer latency p50 / p99    {self.pct(0.5):8.2f} s / {self.pct(0.99):.2f} s"
            f"  (mean {statistics.mean(self.latencies):.2f} s)",
        ]
        if self.seats is None:
            return head
        return [
            *head,
            f"  seats given                 {self.seats:8d}",
            f"  waitlist                    {self.waitlist:8d}"
            f"  numbered 1..N without gaps: {self.waitlist_contiguous}",
            f"  waitlist in press order     {self.in_press_order:8.1%}",
        ]


async def _seed(app: UnionApplication, members: int, seats: int) -> tuple[int, list[Person]]:
    """Members (bulk) and one activity with `seats` seats, first come first served."""
    people = [Person(900_000 + index, f"T{index}", "zh-hans") for index in range(members)]
    org_id = app.state.org_id
    async with app.state.db() as session:
        committee = Member(
            organization_id=org_id,
            telegram_user_id=899_999,
            real_name="委员",
            department="工会",
            status=MemberStatus.ACTIVE,
        )
        session.add(committee)
        session.add_all(
            [
                Member(
                    organization_id=org_id,
                    telegram_user_id=person.id,
                    real_name=f"老师{index}",
                    department="教师",
                    status=MemberStatus.ACTIVE,
                    language="zh-Hans",
                )
                for index, person in enumerate(people)
            ]
        )
        await session.flush()
        session.add(MemberRole(member_id=committee.id or 0, role=Role.COMMITTEE))
        start = utcnow() + timedelta(days=7)
        activity = Activity(
            organization_id=org_id,
            title="职工体检",
            category=ActivityCategory.HEALTH,
            starts_at=start,
            place="校医院",
            capacity=seats,
            deadline=start,
            created_by_member_id=committee.id or 0,
        )
        session.add(activity)
        await session.commit()
        await session.refresh(activity)
    return activity.id or 0, people


async def fresh_database(url: str | None, workdir: Path, name: str) -> str:
    """A new SQLite file, or the given PostgreSQL database emptied; migrated to head."""
    if url is None:
        url = f"sqlite+aiosqlite:///{workdir / f'{name}.db'}"
    else:
        engine = create_engine(url)
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
        await engine.dispose()
    await upgrade_async(url)
    return url


async def run(
    name: str,
    members: int,
    seats: int,
    workdir: Path,
    *,
    concurrent: bool,
    database_url: str | None = None,
) -> Outcome:
    """One rush on a fresh database."""
    url = await fresh_database(database_url, workdir, name.split()[0])
    telegram = SlowTelegram()
    settings = make_settings(url, workdir / name)
    app = build_application(settings, request=telegram, use_default_rate_limiter=False)
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    try:
        activity_id, people = await _seed(app, members, seats)
        updates = [
            Update.de_json(button(person, ActivityButton("su", activity_id).pack()), app.bot)
            for person in people
        ]
        pressed_at: dict[str, float] = {}
        started = time.monotonic()
        spacing = 1.0 / len(updates)  # all presses arrive within one second

        async def arrive(index: int, update: Update) -> None:
            await asyncio.sleep(index * spacing)
            assert update.callback_query is not None
            pressed_at[update.callback_query.id] = time.monotonic()
            await app.update_processor.process_update(update, app.process_update(update))

        if concurrent:
            await asyncio.gather(*(arrive(i, u) for i, u in enumerate(updates)))
        else:
            # PTB's default: the fetcher hands over one update at a time, in arrival order.
            queue: asyncio.Queue[Update] = asyncio.Queue()

            async def press(index: int, update: Update) -> None:
                await asyncio.sleep(index * spacing)
                assert update.callback_query is not None
                pressed_at[update.callback_query.id] = time.monotonic()
                await queue.put(update)

            async def worker() -> None:
                for _ in updates:
                    await app.process_update(await queue.get())

            await asyncio.gather(worker(), *(press(i, u) for i, u in enumerate(updates)))
        latencies = [
            telegram.answered_at[key] - pressed_at[key]
            for key in pressed_at
            if key in telegram.answered_at
        ]
        last = max(telegram.answered_at.values()) - started
        return await _outcome(app, name, activity_id, people, last, latencies)
    finally:
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)


async def run_floor(members: int) -> Outcome:
    """The same presses at the same moments through a bare concurrent PTB application that
    answers each press and sends one message, with no database: the floor."""
    telegram = SlowTelegram()
    app: Application[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .token(TOKEN)
        .request(telegram)
        .concurrent_updates(make_settings("sqlite://", Path()).max_concurrent_updates)
        .build()
    )

    async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and update.effective_chat is not None
        await query.answer("已报名")
        await context.bot.send_message(update.effective_chat.id, "已报名")

    app.add_handler(CallbackQueryHandler(answer))
    await app.initialize()
    try:
        people = [Person(900_000 + index, f"T{index}", "zh-hans") for index in range(members)]
        updates = [
            Update.de_json(button(person, ActivityButton("su", 1).pack()), app.bot)
            for person in people
        ]
        pressed_at: dict[str, float] = {}
        started = time.monotonic()
        spacing = 1.0 / len(updates)

        async def arrive(index: int, update: Update) -> None:
            await asyncio.sleep(index * spacing)
            assert update.callback_query is not None
            pressed_at[update.callback_query.id] = time.monotonic()
            await app.update_processor.process_update(update, app.process_update(update))

        await asyncio.gather(*(arrive(i, u) for i, u in enumerate(updates)))
    finally:
        await app.shutdown()
    latencies = [telegram.answered_at[key] - pressed_at[key] for key in pressed_at]
    last = max(telegram.answered_at.values()) - started
    return Outcome("bare concurrent PTB (floor)", last, latencies)


async def _outcome(
    app: UnionApplication,
    name: str,
    activity_id: int,
    people: list[Person],
    last: float,
    latencies: list[float],
) -> Outcome:
    async with app.state.db() as session:
        seats = (
            await session.exec(
                select(func.count()).where(
                    Signup.activity_id == activity_id, Signup.status == SignupStatus.SEAT
                )
            )
        ).one()
        waiting = (
            await session.exec(
                select(Signup.member_id, Signup.queue_no)
                .where(Signup.activity_id == activity_id, Signup.status == SignupStatus.WAITLIST)
                .order_by(col(Signup.queue_no))
            )
        ).all()
        telegram_of = {
            member.id: member.telegram_user_id
            for member in (await session.exec(select(Member))).all()
        }
    press_rank = {person.id: index for index, person in enumerate(people)}
    ranks = [press_rank[telegram_of[member_id] or 0] for member_id, _ in waiting]
    in_order = sum(1 for a, b in itertools.pairwise(ranks) if a < b)
    numbers = [queue_no for _, queue_no in waiting]
    contiguous = len(set(numbers)) == len(numbers) and (
        not numbers or numbers[-1] - numbers[0] == len(numbers) - 1
    )
    return Outcome(
        name=name,
        last_answer=last,
        latencies=latencies,
        seats=int(seats),
        waitlist=len(waiting),
        waitlist_contiguous=contiguous,
        in_press_order=in_order / max(1, len(ranks) - 1),
    )


async def main_async(members: int, seats: int, sequential: bool, url: str | None) -> None:
    """Both runs, then the ratio."""
    with tempfile.TemporaryDirectory() as workdir:
        base = Path(workdir)
        print(
            f"Rush: {members} members press Sign up within 1 s; {seats} seats; "
            f"{LATENCY * 1000:.0f} ms per Telegram call; "
            f"{'PostgreSQL' if url else 'SQLite'}"
        )
        ordered = await run(
            "per-person ordered (ours)", members, seats, base, concurrent=True, database_url=url
        )
        print("\n".join(ordered.lines()))
        floor = await run_floor(members)
        print("\n".join(floor.lines()))
        print(
            f"ratio (ours / floor): last answer {ordered.last_answer / floor.last_answer:.2f}x, "
            f"p50 {ordered.pct(0.5) / floor.pct(0.5):.2f}x, "
            f"p99 {ordered.pct(0.99) / floor.pct(0.99):.2f}x"
        )
        if sequential:
            plain = await run(
                "strictly sequential", members, seats, base, concurrent=False, database_url=url
            )
            print("\n".join(plain.lines()))
            print(
                f"ratio (sequential / ours, time to last answer): "
                f"{plain.last_answer / ordered.last_answer:.1f}x"
            )


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--seats", type=int, default=100)
    parser.add_argument(
        "--no-sequential", action="store_true", help="skip the slow sequential baseline"
    )
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL database to empty and use (default: a temporary SQLite file)",
    )
    args = parser.parse_args()
    asyncio.run(main_async(args.members, args.seats, not args.no_sequential, args.database_url))


if __name__ == "__main__":
    main()
