"""Secrecy against the database: 100 ballots cast through the application in a known order by
known voters cannot be matched to their voters better than chance from anything stored.

Each voter writes a unique tag in a free-text answer, so the test knows which paper is whose;
an attacker holding the database does not. The attacker's best guesses are orderings: the
papers by every stored column (and, on SQLite, by rowid; on PostgreSQL, by the physical
position ctid and the inserting transaction xmin), paired with the voters in the order they
voted or with the electorate rows in their stored order. For a random permutation of 100 the
rank correlation with the voting order is within `BOUND` (the 99.99th percentile of 20,000
random permutations drawn with a fixed seed) and the number of right guesses is Poisson(1),
so 7 or more has a chance under 1 in 10,000.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import inspect, text
from sqlmodel import select

from bot.db import is_sqlite
from handlers.ballots.buttons import BallotAnswer, BallotConfirm, BallotGo
from models.ballots import Ballot, BallotElector, BallotKind, BallotPaper
from models.members import Member
from scheduler.ballot_jobs import ballot_tick
from tests.support.harness import BotHarness
from tests.support.updates import Person
from tests.test_ballots import create, setup

VOTERS = [Person(8000 + i, f"S{i}", "zh-hans") for i in range(100)]
MAX_RIGHT_GUESSES = 6


def spearman(ranks: list[int]) -> float:
    """Rank correlation of 0..n-1 with `ranks` (a permutation of 0..n-1)."""
    n = len(ranks)
    squared = sum((position - rank) ** 2 for position, rank in enumerate(ranks))
    return 1 - 6 * squared / (n * (n * n - 1))


def bound(n: int = 100) -> float:
    """|rho| of a random permutation stays under this 99.99% of the time (fixed seed)."""
    rng = random.Random(17)
    values = []
    for _ in range(20_000):
        permutation = list(range(n))
        rng.shuffle(permutation)
        values.append(abs(spearman(permutation)))
    values.sort()
    return values[int(len(values) * 0.9999)]


def right_guesses(papers_in_order: list[str], voters_in_order: list[str]) -> int:
    """How many papers an attacker pairing the two orders would give to the right voter."""
    return sum(p == v for p, v in zip(papers_in_order, voters_in_order, strict=True))


async def test_100_ballots_cannot_be_matched_to_their_voters(bot: BotHarness) -> None:
    await setup(bot, VOTERS, departments=["语文组", "数学组", "英语组", "体育组"])
    ballot = await create(bot, kind=BallotKind.SATISFACTION, items="工会工作\n填空：标记")
    bid = ballot.id or 0
    order = list(range(len(VOTERS)))
    random.Random(2026).shuffle(order)  # the known order of voting
    tags = {index: f"tag{index:03d}" for index in order}
    for count, index in enumerate(order, start=1):
        person = VOTERS[index]
        await bot.press(person, BallotGo(bid).pack())
        await bot.press(person, BallotAnswer(bid, 0, "satisfied").pack())
        await bot.say(person, tags[index])
        await bot.press(person, BallotConfirm(bid, "send").pack())
        if count == 25:  # sealed in batches of 10 while voting
            async with bot.db() as session:
                rows = (await session.exec(select(BallotPaper.sealed))).all()
            assert sorted(rows) == [False] * 5 + [True] * 20

    runtime = bot.app.state.runtime
    assert runtime is not None
    await ballot_tick(runtime, now=ballot.closes_at + timedelta(minutes=1))

    async with bot.db() as session:
        stored = (await session.exec(select(BallotPaper))).all()
        members = (await session.exec(select(Member))).all()
        electors = (
            await session.exec(select(BallotElector).where(BallotElector.ballot_id == bid))
        ).all()
        closed = await session.get(Ballot, bid)
    assert closed is not None and len(stored) == 100 and all(p.sealed for p in stored)

    # No column holds a member id, a Telegram id, a name, or a time finer than the day.
    def columns(connection: object) -> list[str]:
        return [c["name"] for c in inspect(connection).get_columns("ballot_paper")]

    async with bot.db() as session:
        connection = await session.connection()
        names = await connection.run_sync(columns)
    assert sorted(names) == sorted(
        ["id", "ballot_id", "answers", "department", "cast_on", "sealed"]
    )
    member_ids = {m.id for m in members}
    secrets_of_people = {str(p.id) for p in VOTERS} | {m.real_name for m in members}
    for paper in stored:
        assert paper.id not in member_ids and paper.id > 2**32  # random, not a counter
        assert isinstance(paper.cast_on, date)
        row = f"{paper.answers}|{paper.department}"
        assert not any(value in row for value in secrets_of_people)

    # Who owns which paper (known to the test only, through the tags).
    owner = {}
    for paper in stored:
        tag = next(t for t in tags.values() if t in paper.answers)
        owner[paper.id] = tag
    voting_order = [tags[index] for index in order]
    rank_in_voting = {tag: rank for rank, tag in enumerate(voting_order)}
    index_of = {person.id: index for index, person in enumerate(VOTERS)}
    tag_of_member = {
        m.id: tags[index_of[m.telegram_user_id]] for m in members if m.telegram_user_id in index_of
    }
    # The electorate rows in their stored order, as an attacker would pair them.
    elector_order = [tag_of_member[e.member_id] for e in electors if e.member_id in tag_of_member]

    orderings: dict[str, list[int]] = {}
    for name, key in (
        ("id", lambda p: p.id),
        ("department", lambda p: (p.department or "", p.id)),
        ("cast_on", lambda p: (p.cast_on, p.id)),
    ):
        orderings[name] = [p.id for p in sorted(stored, key=key)]
    async with bot.db() as session:
        orderings["storage order"] = list(
            (await session.exec(select(BallotPaper.id))).all()  # no ORDER BY
        )
        if is_sqlite(str(bot.app.state.settings.database_url)):
            rowids = (await session.exec(text("SELECT rowid, id FROM ballot_paper"))).all()  # type: ignore[call-overload]
            assert all(rowid == paper_id for rowid, paper_id in rowids)  # the key is the rowid
            orderings["rowid"] = [r[1] for r in sorted(rowids)]
        else:
            for column in ("ctid", "xmin::text::bigint"):
                found = await session.exec(  # type: ignore[call-overload]
                    text(f"SELECT id FROM ballot_paper ORDER BY {column}, id")
                )
                orderings[column] = [r[0] for r in found.all()]

    limit = bound()
    for name, paper_ids in orderings.items():
        tags_in_order = [owner[paper_id] for paper_id in paper_ids]
        rho = spearman([rank_in_voting[tag] for tag in tags_in_order])
        assert abs(rho) <= limit, (name, rho, limit)
        assert right_guesses(tags_in_order, voting_order) <= MAX_RIGHT_GUESSES, name
        assert right_guesses(tags_in_order, elector_order) <= MAX_RIGHT_GUESSES, name
