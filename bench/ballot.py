"""Secret ballot: 1,000 voters vote within one minute through a fake Telegram that adds 100 ms
to every call; then a ballot of 50,000 papers is closed and counted.

The vote: one open 满意度测评 (a satisfaction survey with three questions) for 1,000 active
members, their invitations already delivered. Each voter presses 开始投票, answers the three
questions, and presses 确认投票 under the summary: five presses, a few seconds apart, the voters
starting at random moments so that every flow ends within 60 s (fixed seed). The same presses at
the same moments then reach a bare PTB application (concurrent, no logic: it answers the button
and sends one message, as the bot does for every press), the floor. For each it prints the time
from a voter's cast press to its answer (the receipt), p50 / p95 / max, and when the last answer
came after the last press; the vote must have stored exactly 1,000 papers and marked 1,000
electorate rows, and every receipt shown must be a stored paper's, else it stops with an error.

The count: a fresh database with 50,000 electors who all voted and 50,000 papers written in the
shape of the model's batch writer (`seal_papers`: sealed, shuffled, random keys). The ballot
job then closes the ballot the way it does every minute (`ballot_tick`: close, every paper
written again in one shuffled batch, counted, results queued for the committee group), timed;
then the count alone, the results text, the chart and the workbook, each timed.

    make bench-ballot      # or: .venv/bin/python -m bench.ballot
    .venv/bin/python -m bench.ballot --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import col, func, select
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, ContextTypes
from telegram.request import RequestData

from bench.rush import LATENCY, SlowTelegram, fresh_database
from bot.app import build_application
from bot.application import UnionApplication
from handlers.ballots.buttons import BallotAnswer, BallotConfirm, BallotGo
from models.ballot_exports import chart_png, results_xlsx
from models.ballot_text import results_text
from models.ballots import (
    SATISFACTION,
    Ballot,
    BallotElector,
    BallotKind,
    BallotPaper,
    BallotReceipt,
    BallotStatus,
    Electorate,
    NewBallot,
    create_ballot,
    new_receipt,
    open_ballot,
    random_key,
    receipt_hash,
    receipt_key,
    tally,
)
from models.base import utcnow
from models.members import Member, MemberRole, MemberStatus, Role
from models.organizations import bind_committee_chat
from scheduler.ballot_jobs import ballot_tick
from tests.support.fake_telegram import TOKEN
from tests.support.harness import COMMITTEE_GROUP_ID, make_settings
from tests.support.updates import Person, button

SEED = 17
WINDOW = 60.0  # seconds: every voter's flow arrives within it
THINK = (1.0, 3.0)  # seconds between one voter's presses (reading the next question)
QUESTIONS = ("工会工作总体评价", "教职工福利待遇", "文体活动组织")
DEPARTMENTS = tuple(f"{name}组" for name in "语数英理化生史地政体")
WEIGHTS = (0.70, 0.22, 0.08)  # 满意, 基本满意, 不满意
RECEIPT = re.compile(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}")
COMMITTEE_ID = 899_999


@dataclass
class TimedTelegram(SlowTelegram):
    """The rush's slow fake, also noting each chat's latest message and when it was sent."""

    sent_at: dict[int, float] = field(default_factory=dict)
    last_text: dict[int, str] = field(default_factory=dict)
    finished: float = 0.0

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
        """Wait the latency, answer, and note the time of a message to a chat."""
        answer = await super().do_request(url, method, request_data)
        now = time.monotonic()
        self.finished = max(self.finished, now)
        if url.endswith("/sendMessage") and request_data is not None:
            chat = int(str(request_data.parameters["chat_id"]))
            self.sent_at[chat] = now
            self.last_text[chat] = str(request_data.parameters.get("text", ""))
        return answer


@dataclass
class Press:
    """One button press of one voter, at a moment of the minute."""

    at: float
    person: Person
    data: str
    cast: bool = False


def schedule(voters: int, ballot_id: int, seed: int = SEED) -> list[Press]:
    """Every voter's flow (开始投票, one answer per question, 确认投票), within WINDOW seconds."""
    rng = random.Random(seed)
    presses: list[Press] = []
    for index in range(voters):
        person = Person(900_000 + index, f"T{index}", "zh-hans")
        flow = [BallotGo(ballot_id).pack()]
        flow += [
            BallotAnswer(ballot_id, item, rng.choices(SATISFACTION, WEIGHTS)[0]).pack()
            for item in range(len(QUESTIONS))
        ]
        flow.append(BallotConfirm(ballot_id, "send").pack())
        gaps = [rng.uniform(*THINK) for _ in flow[1:]]
        moment = rng.uniform(0.0, WINDOW - sum(gaps))
        for step, data in enumerate(flow):
            presses.append(Press(moment, person, data, cast=step == len(flow) - 1))
            if step < len(gaps):
                moment += gaps[step]
    return sorted(presses, key=lambda press: press.at)


@dataclass
class VoteOutcome:
    """One run's figures."""

    name: str
    cast_latencies: list[float]
    last_press: float  # seconds from the start to the last press
    last_answer: float  # seconds from the start to the last answer

    def pct(self, fraction: float) -> float:
        """The cast-to-answer time at this fraction."""
        ordered = sorted(self.cast_latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    def lines(self) -> list[str]:
        """The report."""
        return [
            f"{self.name}",
            f"  cast press to answer p50 / p95 / max  {self.pct(0.5):6.2f} s / "
            f"{self.pct(0.95):.2f} s / {max(self.cast_latencies):.2f} s",
            f"  last answer after the last press      {self.last_answer - self.last_press:6.2f} s"
            f"  (last press at {self.last_press:.1f} s, last answer at {self.last_answer:.1f} s)",
        ]


async def arrive(
    presses: list[Press],
    app: Application[Any, Any, Any, Any, Any, Any],
    telegram: TimedTelegram,
    name: str,
) -> VoteOutcome:
    """Feed the presses at their moments through the application's update processor."""
    updates = [Update.de_json(button(p.person, p.data), app.bot) for p in presses]
    pressed_at: dict[int, float] = {}
    started = time.monotonic()

    async def one(press: Press, update: Update) -> None:
        await asyncio.sleep(max(0.0, started + press.at - time.monotonic()))
        if press.cast:
            pressed_at[press.person.id] = time.monotonic()
        await app.update_processor.process_update(update, app.process_update(update))

    await asyncio.gather(*(one(p, u) for p, u in zip(presses, updates, strict=True)))
    latencies = [telegram.sent_at[chat] - moment for chat, moment in pressed_at.items()]
    return VoteOutcome(
        name=name,
        cast_latencies=latencies,
        last_press=max(pressed_at.values()) - started,
        last_answer=telegram.finished - started,
    )


async def _seed_vote(app: UnionApplication, voters: int) -> int:
    """1,000 active members in ten departments, and one open survey (electorate fixed)."""
    org_id = app.state.org_id
    async with app.state.db() as session:
        committee = Member(
            organization_id=org_id,
            telegram_user_id=COMMITTEE_ID,
            real_name="委员",
            department="工会",
            status=MemberStatus.ACTIVE,
        )
        session.add(committee)
        session.add_all(
            [
                Member(
                    organization_id=org_id,
                    telegram_user_id=900_000 + index,
                    real_name=f"老师{index}",
                    department=DEPARTMENTS[index % len(DEPARTMENTS)],
                    status=MemberStatus.ACTIVE,
                    language="zh-Hans",
                )
                for index in range(voters)
            ]
        )
        await session.flush()
        session.add(MemberRole(member_id=committee.id or 0, role=Role.COMMITTEE))
        await session.commit()
        return await _open_survey(app, committee.id or 0, closes_in=timedelta(days=2))


async def _open_survey(app: UnionApplication, committee_id: int, *, closes_in: timedelta) -> int:
    now = utcnow()
    settings = app.state.settings
    async with app.state.db() as session:
        ballot = await create_ballot(
            session,
            org_id=app.state.org_id,
            actor_id=committee_id,
            new=NewBallot(
                title="2026年度会员满意度测评",
                kind=BallotKind.SATISFACTION,
                electorate={"type": Electorate.EVERYONE},
                items=tuple({"text": text, "free": False} for text in QUESTIONS),
                max_choices=1,
                opens_at=now,
                closes_at=now + closes_in,
            ),
            quorum=settings.ballot_quorum,
            majority=settings.ballot_majority,
            min_group=settings.ballot_min_group,
            now=now,
        )
        ballot_id = ballot.id or 0
        electors = await open_ballot(
            session, ballot_id=ballot_id, now=now, min_group=settings.ballot_min_group
        )
    assert electors is not None
    return ballot_id


@dataclass
class Stored:
    """What the vote left in the database and in the voters' chats."""

    papers: list[str]  # the stored receipt hashes (one per paper cast)
    voted: int  # electorate rows marked as voted
    shown: list[str]  # the hashes of the receipt codes the voters were shown

    def problems(self, voters: int) -> list[str]:
        """Where it differs from one paper per voter."""
        found = []
        if len(self.papers) != voters or len(set(self.papers)) != voters:
            found.append(f"{len(self.papers)} papers stored for {voters} voters")
        if self.voted != voters:
            found.append(f"{self.voted} electorate rows marked for {voters} voters")
        if set(self.shown) != set(self.papers):
            found.append("the receipts shown are not the stored papers'")
        return found

    def line(self) -> str:
        """The report."""
        matched = set(self.papers) & set(self.shown)
        return (
            f"  votes stored                          {len(self.papers):6d} papers, "
            f"{self.voted} electorate rows marked; {len(self.shown)} receipts shown, "
            f"{len(matched)} of them stored"
        )


async def _stored(app: UnionApplication, ballot_id: int, telegram: TimedTelegram) -> Stored:
    async with app.state.db() as session:
        papers = (
            await session.exec(
                select(BallotReceipt.receipt_hash).where(BallotReceipt.ballot_id == ballot_id)
            )
        ).all()
        voted = (
            await session.exec(
                select(func.count()).where(
                    BallotElector.ballot_id == ballot_id,
                    col(BallotElector.voted_on).is_not(None),
                )
            )
        ).one()
    key = receipt_key(app.state.secret)
    shown = [
        receipt_hash(key, m.group(0))
        for text in telegram.last_text.values()
        if (m := RECEIPT.search(text))
    ]
    return Stored(papers=list(papers), voted=int(voted), shown=shown)


async def run_vote(
    voters: int, workdir: Path, url: str | None, batch: int | None
) -> tuple[VoteOutcome, Stored]:
    """The vote through the real application on a fresh database."""
    url = await fresh_database(url, workdir, "vote")
    telegram = TimedTelegram()
    overrides = {} if batch is None else {"ballot_batch": batch}
    app = build_application(
        make_settings(url, workdir / "vote", **overrides),
        request=telegram,
        use_default_rate_limiter=False,
    )
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    try:
        ballot_id = await _seed_vote(app, voters)
        outcome = await arrive(schedule(voters, ballot_id), app, telegram, "union desk")
        return outcome, await _stored(app, ballot_id, telegram)
    finally:
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)


async def run_floor(voters: int) -> VoteOutcome:
    """A bare concurrent PTB application answering the same presses with no logic."""
    telegram = TimedTelegram()
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
        await query.answer()
        await context.bot.send_message(update.effective_chat.id, "ok")

    app.add_handler(CallbackQueryHandler(answer))
    await app.initialize()
    try:
        return await arrive(schedule(voters, 1), app, telegram, "bare concurrent PTB (floor)")
    finally:
        await app.shutdown()


async def _timed(label: str, papers: int | None, step: Callable[[], Awaitable[Any]]) -> Any:
    started = time.perf_counter()
    result = await step()
    took = time.perf_counter() - started
    rate = f"  {papers / took:9.0f} papers/s" if papers else ""
    print(f"  {label:<52} {took:7.2f} s{rate}")
    return result


async def run_tally(papers: int, workdir: Path, url: str | None) -> None:
    """50,000 papers: the close as the ballot job does it, then the count and the results."""
    url = await fresh_database(url, workdir, "tally")
    app = build_application(
        make_settings(url, workdir / "tally"),
        request=SlowTelegram(),
        use_default_rate_limiter=False,
    )
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    runtime = app.state.runtime
    assert runtime is not None
    try:
        ballot_id = await _seed_papers(app, papers)
        async with app.state.db() as session:
            ballot = await session.get(Ballot, ballot_id)
        assert ballot is not None
        min_group = app.state.settings.ballot_min_group
        await _timed(
            "close (ballot_tick: close, reshuffle, count, queue)",
            papers,
            lambda: ballot_tick(runtime, now=ballot.closes_at + timedelta(minutes=1)),
        )
        async with app.state.db() as session:
            closed = await session.get(Ballot, ballot_id)
            assert closed is not None and closed.status == BallotStatus.CLOSED
            assert closed.reported_at is not None, "the close did not count the ballot"

            async def count() -> Any:
                return await tally(session, ballot_id=ballot_id, min_group=min_group)

            counted = await _timed("count alone (tally)", papers, count)
        tr = app.state.i18n.get("zh-Hans")
        zone = app.state.settings.zone

        async def text() -> str:
            return results_text(tr, counted, zone)

        async def chart() -> bytes:
            return chart_png(tr, counted)

        async def sheet() -> bytes:
            return results_xlsx(tr, counted)

        await _timed("results text", None, text)
        await _timed("bar chart (png)", None, chart)
        await _timed("workbook (xlsx)", None, sheet)
        if counted.voted != papers:
            raise SystemExit(f"the count found {counted.voted} papers, not {papers}")
        rate = float(counted.items[0].share("satisfied", "basic") or 0)
        print(f"  counted {counted.voted} papers; 满意率 of the first question {rate:.1%}")
    finally:
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)


async def _seed_papers(app: UnionApplication, papers: int) -> int:
    """`papers` active members, an open survey with all of them in its electorate, all voted,
    and one paper each written as `seal_papers` writes them (not timed)."""
    org_id = app.state.org_id
    now = utcnow()
    async with app.state.db() as session:
        await bind_committee_chat(session, org_id=org_id, chat_id=COMMITTEE_GROUP_ID)
    async with app.state.db() as session:
        committee = Member(
            organization_id=org_id,
            telegram_user_id=COMMITTEE_ID,
            real_name="委员",
            department="工会",
            status=MemberStatus.ACTIVE,
        )
        session.add(committee)
        await session.flush()
        session.add(MemberRole(member_id=committee.id or 0, role=Role.COMMITTEE))
        members = [
            {
                "organization_id": org_id,
                "telegram_user_id": None,
                "real_name": f"老师{index}",
                "department": DEPARTMENTS[index % len(DEPARTMENTS)],
                "status": MemberStatus.ACTIVE,
                "retired": False,
                "mute_greetings": False,
                "created_at": now,
                "updated_at": now,
            }
            for index in range(papers - 1)
        ]
        for start in range(0, len(members), 5000):
            await session.exec(insert(Member), params=members[start : start + 5000])
        await session.commit()
        committee_id = committee.id or 0
    started = time.perf_counter()
    ballot_id = await _open_survey(app, committee_id, closes_in=timedelta(hours=1))
    print(
        f"  (setup: the electorate of {papers} fixed at the opening in "
        f"{time.perf_counter() - started:.1f} s)"
    )
    rng = random.Random(SEED)
    today = now.astimezone(app.state.settings.zone).date()
    rows = [
        {
            "id": random_key(),
            "ballot_id": ballot_id,
            "answers": _answers(rng),
            "department": DEPARTMENTS[rng.randrange(len(DEPARTMENTS))],
            "cast_on": today,
            "sealed": True,
        }
        for _ in range(papers)
    ]
    key = receipt_key(app.state.secret)
    receipts = [
        {
            "id": random_key(),
            "ballot_id": ballot_id,
            "receipt_hash": receipt_hash(key, new_receipt()),
            "cast_on": today,
        }
        for _ in range(papers)
    ]
    async with app.state.db() as session:
        for start in range(0, len(rows), 5000):
            await session.exec(insert(BallotPaper), params=rows[start : start + 5000])
            await session.exec(insert(BallotReceipt), params=receipts[start : start + 5000])
        await session.exec(
            update(BallotElector)
            .where(col(BallotElector.ballot_id) == ballot_id)
            .values(voted_on=today)
        )
        await session.commit()
    return ballot_id


def _answers(rng: random.Random) -> str:
    return "[" + ", ".join(f'"{rng.choices(SATISFACTION, WEIGHTS)[0]}"' for _ in QUESTIONS) + "]"


async def main_async(voters: int, papers: int, url: str | None, batch: int | None) -> None:
    """The vote, its floor and the ratio; then the count."""
    with tempfile.TemporaryDirectory() as workdir:
        base = Path(workdir)
        print(
            f"Ballot: {voters} voters, {len(QUESTIONS) + 2} presses each, within {WINDOW:.0f} s; "
            f"{LATENCY * 1000:.0f} ms per Telegram call; {'PostgreSQL' if url else 'SQLite'}"
            + ("" if batch is None else f"; papers sealed in batches of {batch}")
        )
        ours, stored = await run_vote(voters, base, url, batch)
        print("\n".join(ours.lines()))
        print(stored.line())
        floor = await run_floor(voters)
        print("\n".join(floor.lines()))
        print(
            f"ratio (union desk / floor): cast answer p50 {ours.pct(0.5) / floor.pct(0.5):.1f}x, "
            f"last answer after the last press "
            f"{(ours.last_answer - ours.last_press) / (floor.last_answer - floor.last_press):.1f}x"
        )
        if problems := stored.problems(voters):
            raise SystemExit("the vote was not stored once per voter: " + "; ".join(problems))
        if papers <= 0:
            return
        print(f"Count: {papers} papers of one survey; {'PostgreSQL' if url else 'SQLite'}")
        await run_tally(papers, base, url)


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--voters", type=int, default=1000)
    parser.add_argument("--papers", type=int, default=50_000, help="0: no count")
    parser.add_argument(
        "--batch", type=int, help="BALLOT_BATCH for the vote (default: the setting's, 10)"
    )
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL database to empty and use (default: a temporary SQLite file)",
    )
    args = parser.parse_args()
    asyncio.run(main_async(args.voters, args.papers, args.database_url, args.batch))


if __name__ == "__main__":
    main()
