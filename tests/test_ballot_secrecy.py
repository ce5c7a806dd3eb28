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

import asyncio
import hashlib
import io
import random
import re
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy
from alembic import command
from openpyxl import load_workbook
from sqlalchemy import inspect, text
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

import models.ballots as ballots_module
from bot.db import alembic_config, create_engine, create_session_factory, is_sqlite
from bot.settings import Settings
from handlers.ballots.buttons import (
    BallotAnswer,
    BallotConfirm,
    BallotCreate,
    BallotGo,
    BallotKindChoice,
    BallotOpensNow,
    BallotResults,
    BallotWho,
)
from models.ballot_exports import results_xlsx
from models.ballots import (
    Ballot,
    BallotElector,
    BallotKind,
    BallotPaper,
    BallotReceipt,
    Electorate,
    cast_ballot,
    check_receipt,
    receipt_hash,
    receipt_key,
    shown_departments,
    tally,
)
from models.base import utcnow
from models.errors import DomainError
from models.members import Member, MemberStatus
from models.outbox import messages_of
from scheduler.ballot_jobs import ballot_tick
from tests.support.conversation_store import stored_bytes
from tests.support.harness import BotHarness
from tests.support.updates import Person
from tests.test_ballots import (
    COMMITTEE,
    GROUP,
    close,
    create,
    last_text,
    local,
    people,
    receipt_of,
    setup,
    vote,
)

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


async def test_100_ballots_cannot_be_matched_to_their_voters(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The bound below is a 99.99% quantile: the shuffles and the paper ids are seeded, so a
    # run cannot fail by chance, and the day of voting is fixed, so a run across midnight in
    # Shanghai cannot split the papers by day (their order is what is being tested).
    seeded = random.Random(2027)
    monkeypatch.setattr(ballots_module.random, "SystemRandom", lambda: seeded)
    monkeypatch.setattr(ballots_module, "random_key", lambda: seeded.getrandbits(63) | 2**62)
    moment = utcnow()
    monkeypatch.setattr("handlers.ballots.vote.utcnow", lambda: moment)
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


# ---- what the insider review of issue 17 found ----------------------------------------------


async def test_a_receipt_code_shown_to_someone_opens_no_paper(bot: BotHarness) -> None:
    """A voter shows their code ("prove you voted"): whoever also holds the database finds a
    receipt row (ballot and day) but nothing leading to a paper. The papers hold no receipt;
    receipts hold a keyed hash (HMAC under a key derived from SECRET_KEY), not a plain one,
    and are rewritten with new random ids at the close like the papers."""
    voters = people(12)
    await setup(bot, voters)
    ballot = await create(bot, kind=BallotKind.RESOLUTION, items="章程")
    codes = [
        receipt_of(await vote(bot, person, ballot, ["for" if i % 3 else "against"]))
        for i, person in enumerate(voters)
    ]
    async with bot.db() as session:
        before = set((await session.exec(select(BallotReceipt.id))).all())
    await close(bot, ballot)
    key = receipt_key(bot.app.state.secret)
    async with bot.db() as session:
        connection = await session.connection()
        paper_columns = await connection.run_sync(
            lambda sync: [c["name"] for c in inspect(sync).get_columns("ballot_paper")]
        )
        receipts = (await session.exec(select(BallotReceipt))).all()
        stored_papers = (await session.exec(select(BallotPaper))).all()
    assert "receipt_hash" not in paper_columns
    assert len(receipts) == len(stored_papers) == 12
    hashes = {r.receipt_hash for r in receipts}
    normal = codes[3].replace("-", "")
    assert receipt_hash(key, codes[3]) in hashes
    assert hashlib.sha256(f"ballot-receipt:{normal}".encode()).hexdigest() not in hashes
    assert not {r.id for r in receipts} & before  # rewritten at the close
    assert not {r.id for r in receipts} & {p.id for p in stored_papers}
    await bot.say(voters[0], f"/ballot check {codes[3]}")
    assert "已计入《2026年度测评》" in last_text(bot, voters[0])


def test_shown_departments_leave_none_or_enough_outside() -> None:
    """The total minus the shown departments is 0 or at least min_group; else the smallest
    shown department is hidden, then the next, until it holds."""
    count = Counter({"语文组": 5, "数学组": 1})
    assert shown_departments(count, voted=6, min_group=5) == []
    count = Counter({"语文组": 7, "数学组": 5, "英语组": 1})
    assert shown_departments(count, voted=13, min_group=5) == ["语文组"]
    count = Counter({"语文组": 7, "数学组": 5})
    assert sorted(shown_departments(count, voted=12, min_group=5)) == ["数学组", "语文组"]
    count = Counter({"语文组": 7, "数学组": 5, "英语组": 4, "体育组": 1})
    assert shown_departments(count, voted=17, min_group=5) == ["数学组", "语文组"]


async def test_department_figures_minus_the_total_never_isolate_a_lone_voter(
    bot: BotHarness,
) -> None:
    """5 voters in 语文组 and one in 数学组: showing 语文组's figures would give away the
    数学组 teacher's paper (total minus 语文组), so no department is shown."""
    voters = people(6)
    await setup(bot, voters, departments=["语文组"] * 5 + ["数学组"])
    ballot = await create(bot, kind=BallotKind.SATISFACTION, items="工会工作")
    for person in voters[:5]:
        await vote(bot, person, ballot, ["satisfied"])
    await vote(bot, voters[5], ballot, ["unsatisfied"])
    text = await close(bot, ballot)
    assert "工会工作：满意 5，基本满意 0，不满意 1" in text
    assert "语文组" not in text and "分部门" not in text
    tr = bot.app.state.i18n.get("zh-Hans")
    async with bot.db() as session:
        counted = await tally(session, ballot_id=ballot.id or 0, min_group=5)
    assert counted.departments == {}
    book = load_workbook(io.BytesIO(results_xlsx(tr, counted)))
    cells = [str(c.value) for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert not any("语文组" in cell for cell in cells)


async def test_a_tiny_electorate_is_refused_and_a_small_turnout_gives_the_turnout_only(
    bot: BotHarness,
) -> None:
    voters = people(6)
    await setup(bot, voters)
    await bot.say(COMMITTEE, "/ballot")
    await bot.say(COMMITTEE, "领导作风测评")
    await bot.press(COMMITTEE, BallotKindChoice(BallotKind.SATISFACTION).pack())
    await bot.press(COMMITTEE, BallotWho(Electorate.MEMBERS).pack())
    await bot.say(COMMITTEE, "教师1")
    await bot.say(COMMITTEE, "领导作风")
    await bot.press(COMMITTEE, BallotOpensNow().pack())
    await bot.say(COMMITTEE, local(utcnow() + timedelta(days=1), bot))
    await bot.press(COMMITTEE, BallotCreate("yes").pack())
    assert "投票人范围目前只有 1 人" in last_text(bot, COMMITTEE)
    assert "不少于 5 名投票人" in last_text(bot, COMMITTEE)
    async with bot.db() as session:
        assert (await session.exec(select(Ballot))).all() == []

    # 7 electors, 3 vote: the turnout only, no figure and no comment, in the text and the xlsx.
    ballot = await create(bot, kind=BallotKind.EVALUATION, items="王校长")
    for person in voters[:3]:
        await vote(bot, person, ballot, [("incompetent", "作风粗暴")])
    text = await close(bot, ballot)
    assert "应参加投票 7 人，实际投票 3 人" in text
    assert "实际投票不足 5 人" in text
    assert "不称职" not in text and "作风粗暴" not in text and "王校长" not in text
    tr = bot.app.state.i18n.get("zh-Hans")
    async with bot.db() as session:
        counted = await tally(session, ballot_id=ballot.id or 0, min_group=5)
    book = load_workbook(io.BytesIO(results_xlsx(tr, counted)))
    cells = [str(c.value) for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert not any("王校长" in cell or "作风粗暴" in cell for cell in cells)
    await bot.press(COMMITTEE, BallotResults("png", ballot.id or 0).pack(), chat=GROUP)
    assert "实际投票不足 5 人" in str(bot.telegram.answers()[-1].params.get("text"))
    assert bot.telegram.sent("sendPhoto") == []


async def test_a_vote_racing_the_close_is_refused_in_the_write(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite: the close and the count run between the vote's checks and its write. The
    guarded UPDATE sees the closed ballot: nothing is stored after the count."""
    if not is_sqlite(str(bot.app.state.settings.database_url)):
        pytest.skip("PostgreSQL: FOR SHARE makes the close wait for the vote")
    voters = people(5)
    await setup(bot, voters)
    ballot = await create(bot, kind=BallotKind.RESOLUTION, items="章程")
    await vote(bot, voters[0], ballot, ["for"])
    original = ballots_module.is_elector
    report: list[str] = []

    async def close_in_between(
        session: AsyncSession, *, ballot_id: int, member_id: int
    ) -> BallotElector:
        if not report:
            report.append(await close(bot, ballot))  # the minute job runs now
        return await original(session, ballot_id=ballot_id, member_id=member_id)

    monkeypatch.setattr(ballots_module, "is_elector", close_in_between)
    async with bot.db() as session:
        member = (
            await session.exec(select(Member).where(Member.telegram_user_id == voters[1].id))
        ).one()
    now = ballot.closes_at - timedelta(seconds=1)  # pressed just before the close
    async with bot.db() as session:
        with pytest.raises(DomainError, match=r"ballot\.closed"):
            await cast_ballot(
                session,
                ballot_id=ballot.id or 0,
                member=member,
                answers=["against"],
                receipt_key=receipt_key(bot.app.state.secret),
                now=now,
                today=now.date(),
            )
    assert "实际投票 1 人" in report[0]
    async with bot.db() as session:
        rows = (
            await session.exec(select(BallotPaper).where(BallotPaper.ballot_id == ballot.id))
        ).all()
        receipts = (await session.exec(select(BallotReceipt))).all()
        elector = await original(session, ballot_id=ballot.id or 0, member_id=member.id or 0)
    assert [row.sealed for row in rows] == [True] and len(receipts) == 1
    assert elector.voted_on is None


async def test_comments_of_different_items_are_not_in_the_same_paper_order(
    bot: BotHarness,
) -> None:
    """Each item's comments are shuffled on their own: the k-th comments of two items do not
    come from the same paper (with 7 papers and 3 items, all three orders agree by chance
    with probability 1/5040²)."""
    voters = people(7)
    await setup(bot, voters)
    ballot = await create(bot, kind=BallotKind.EVALUATION, items="王校长\n赵主任\n钱主席")
    for i, person in enumerate(voters):
        await vote(bot, person, ballot, [("competent", f"{name}{i}") for name in "ABC"])
    text = await close(bot, ballot)
    orders = [re.findall(rf"· {name}(\d)", text) for name in "ABC"]
    assert all(sorted(order) == [str(i) for i in range(7)] for order in orders)
    assert not orders[0] == orders[1] == orders[2]
    tr = bot.app.state.i18n.get("zh-Hans")
    async with bot.db() as session:
        counted = await tally(session, ballot_id=ballot.id or 0, min_group=5)
    sheet = load_workbook(io.BytesIO(results_xlsx(tr, counted))).worksheets[1]
    comments = [str(row[1].value) for row in sheet.iter_rows(min_row=2)]
    columns = [[c[1] for c in comments if c[0] == name] for name in "ABC"]
    assert not columns[0] == columns[1] == columns[2]


async def test_the_choices_leave_the_conversation_store_when_the_paper_is_cast(
    bot: BotHarness, settings: Settings
) -> None:
    voters = people(5)
    await setup(bot, voters)
    ballot = await create(bot, kind=BallotKind.EVALUATION, items="王校长")
    bid = ballot.id or 0
    voter = voters[0]
    await bot.press(voter, BallotGo(bid).pack())
    await bot.press(voter, BallotAnswer(bid, 0, "incompetent").pack())
    await bot.say(voter, "独断专行的意见")
    await bot.app.update_persistence()  # the periodic write came while the voter was voting
    secret = "独断专行的意见".encode()
    assert secret in await stored_bytes(settings)  # the file, or the table on PostgreSQL
    await bot.press(voter, BallotConfirm(bid, "send").pack())
    assert "回执码" in last_text(bot, voter)
    assert secret not in await stored_bytes(settings)  # at once, not in 10 s


async def test_reminders_skip_electors_who_left_the_union(bot: BotHarness) -> None:
    voters = people(6)
    await setup(bot, voters)
    ballot = await create(bot, kind=BallotKind.RESOLUTION, items="章程")
    async with bot.db() as session:
        left = (
            await session.exec(select(Member).where(Member.telegram_user_id == voters[5].id))
        ).one()
        left.status = MemberStatus.INACTIVE
        session.add(left)
        await session.commit()
    runtime = bot.app.state.runtime
    assert runtime is not None
    half_way = ballot.opens_at + (ballot.closes_at - ballot.opens_at) / 2 + timedelta(minutes=1)
    await ballot_tick(runtime, now=half_way)
    async with bot.db() as session:
        reminded = await messages_of(session, key=f"ballot:{ballot.id}:remind:1")
        told = await messages_of(session, key=f"ballot:{ballot.id}:remind:1:committee")
    assert {row.chat_id for row in reminded} == {p.id for p in voters[:5]} | {COMMITTEE.id}
    assert "已提醒 6 位尚未投票的会员" in told[0].text


def test_migration_0019_moves_receipts_off_the_papers_and_they_still_check(
    tmp_path: Path,
) -> None:
    """Receipts issued before 0019 (plain SHA-256 beside the answers) move to ballot_receipt,
    unlinked from the papers, and `/ballot check` still finds them."""
    path = tmp_path / "receipts.db"
    url = f"sqlite+aiosqlite:///{path}"
    config = alembic_config(url)
    command.upgrade(config, "0018")
    code = "K7QM-3XWD-P9TA"
    old_hash = hashlib.sha256(b"ballot-receipt:K7QM3XWDP9TA").hexdigest()
    engine = sqlalchemy.create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO organization (id, name, created_at) "
                    "VALUES (1, '学校工会', '2026-01-01 00:00:00')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO ballot (id, organization_id, title, kind, electorate, items, "
                    "max_choices, quorum, majority, opens_at, closes_at, status, "
                    "electorate_size, groups, reminders_sent, created_by_member_id, created_at) "
                    "VALUES (1, 1, '章程表决', 'resolution', '{}', '[]', 1, '', '', "
                    "'2026-01-01 00:00:00', '2026-01-02 00:00:00', 'closed', 5, '[]', 0, 1, "
                    "'2026-01-01 00:00:00')"
                )
            )
            for number, receipt in ((7, old_hash), (8, "0" * 64)):
                connection.execute(
                    text(
                        "INSERT INTO ballot_paper (id, ballot_id, answers, department, "
                        "receipt_hash, cast_on, sealed) "
                        "VALUES (:id, 1, '[\"against\"]', NULL, :hash, '2026-01-01', 1)"
                    ),
                    {"id": number, "hash": receipt},
                )
        command.upgrade(config, "head")
        with engine.connect() as connection:
            columns = [c["name"] for c in inspect(connection).get_columns("ballot_paper")]
            receipts = connection.execute(
                text("SELECT id, ballot_id, receipt_hash FROM ballot_receipt")
            ).all()
    finally:
        engine.dispose()
    assert "receipt_hash" not in columns
    assert sorted(r[2] for r in receipts) == sorted([old_hash, "0" * 64])
    assert all(r[1] == 1 and r[0] not in (7, 8) for r in receipts)

    async def checked() -> str:
        database = create_engine(url)
        try:
            async with create_session_factory(database)() as session:
                ballot, _day = await check_receipt(
                    session, org_id=1, code=code.lower(), receipt_key=b"any key"
                )
                return ballot.title
        finally:
            await database.dispose()

    assert asyncio.run(checked()) == "章程表决"

    command.downgrade(config, "0018")  # the receipts cannot be paired with the papers again
    engine = sqlalchemy.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            hashes = connection.execute(text("SELECT receipt_hash FROM ballot_paper")).all()
    finally:
        engine.dispose()
    assert len(hashes) == 2 and not {old_hash, "0" * 64} & {row[0] for row in hashes}
