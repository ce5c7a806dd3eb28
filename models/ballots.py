"""Secret ballots (无记名投票): 民主评议, 满意度测评, 评优/推荐/选举 and 表决, with one engine.

Who voted and what was voted are kept apart:

- `BallotElector` (the electorate, fixed when the ballot opens) holds a member id and the DAY
  they voted, nothing else: it gives one vote each, the turnout and the reminders.
- `BallotPaper` (the ballot papers) holds the answers, the day, and a department only where
  that department had at least BALLOT_MIN_GROUP electors. No member id, no token leading
  back, no receipt, no time finer than the day; its primary key is a random 63-bit
  number drawn with `secrets`, never an autoincrement, so neither the id nor (on SQLite, where
  it is the rowid) the storage order follows the order of voting.
- A paper is first written `sealed = False` in the voter's own transaction (with the guarded
  UPDATE of their electorate row, so a vote is never lost or counted twice). As soon as
  BALLOT_BATCH papers wait, `seal_papers` deletes the waiting papers and writes them again in
  shuffled order with fresh random ids, in one transaction that also rewrites every voted
  electorate row: PostgreSQL's system columns (xmin, ctid) then show batches, not voters. At
  the close every paper of the ballot is written again in one shuffled batch, so not even the
  batches remain.
- `BallotReceipt` (the receipts) holds the ballot, a keyed hash (HMAC-SHA256 under a key derived
  from SECRET_KEY) of the voter's receipt code and the day, and nothing linking it to a paper:
  it is written in the vote's transaction and rewritten, shuffled with new random ids, at every
  seal, so a receipt code shown to someone opens no paper.
- A vote is stored only if the ballot is open and not past its close AT THE WRITE: the guarded
  UPDATE of the electorate row checks both, so on SQLite (whose write lock orders it against
  the close) no paper lands after the count.

docs/reliability.md ("Secret ballots") says what is left.

No Telegram here; the views are in models/ballot_text.py.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from fractions import Fraction
from typing import Any

from sqlalchemy import (
    BigInteger,
    String,
    Text,
    UniqueConstraint,
    delete,
    exists,
    func,
    insert,
    update,
)
from sqlalchemy.dialects import sqlite
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.base import UTCDateTime, utcnow
from models.errors import N_, DomainError, InputError
from models.groups import check_departments
from models.members import Actor, Gender, Member, MemberRole, MemberStatus, Role

TITLE_LIMIT = 80
ITEM_LIMIT = 60
MAX_ITEMS = 30
COMMENT_LIMIT = 300
RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
RECEIPT_LENGTH = 12  # 60 random bits
FREE_PREFIXES = ("填空：", "填空:", "塡空：", "open:", "Open:")

# A random 63-bit key: BIGINT on PostgreSQL, INTEGER on SQLite (there the rowid itself).
RandomKey = BigInteger().with_variant(sqlite.INTEGER(), "sqlite")


class BallotKind(StrEnum):
    """What is being voted on."""

    EVALUATION = "evaluation"  # 民主评议: a grade for each person
    SATISFACTION = "satisfaction"  # 满意度测评: 满意 / 基本满意 / 不满意, and free texts
    ELECTION = "election"  # 评优 / 推荐 / 代表选举: up to N of the candidates
    RESOLUTION = "resolution"  # 表决: 赞成 / 反对 / 弃权


class BallotStatus(StrEnum):
    """The life of a ballot."""

    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"  # stopped by the committee before the close: no results, no papers


class Electorate(StrEnum):
    """Who may vote (the audiences of broadcasts and activities, plus a typed list)."""

    EVERYONE = "everyone"
    REPRESENTATIVES = "representatives"
    RETIREES = "retirees"
    WOMEN = "women"
    DEPARTMENTS = "departments"
    MEMBERS = "members"


# The choices of each kind, in the order the buttons show them.
GRADES = ("excellent", "competent", "basic", "incompetent")  # 优秀 称职 基本称职 不称职
SATISFACTION = ("satisfied", "basic", "unsatisfied")  # 满意 基本满意 不满意
RESOLUTION = ("for", "against", "abstain")  # 赞成 反对 弃权
CHOICES: dict[BallotKind, tuple[str, ...]] = {
    BallotKind.EVALUATION: GRADES,
    BallotKind.SATISFACTION: SATISFACTION,
    BallotKind.RESOLUTION: RESOLUTION,
    BallotKind.ELECTION: ("yes",),
}


class Ballot(SQLModel, table=True):
    """One vote the committee set up: what, who, when, and its fixed rules."""

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    title: str = Field(max_length=TITLE_LIMIT)
    kind: str = Field(sa_type=String(16))
    # {"type": "everyone" | ..., "departments": [...], "ids": [...]}
    electorate: str = Field(sa_type=Text)
    # [{"text": "...", "free": false}, ...]: persons, questions, candidates or motions
    items: str = Field(sa_type=Text)
    max_choices: int = 1  # elections: choose up to this many
    # A staff-congress 表决 (electorate: representatives): valid with this share voting, passed
    # with more than this share of ALL electors voting for (fixed at creation from the settings).
    quorum: str = Field(default="", sa_type=String(8))
    majority: str = Field(default="", sa_type=String(8))
    opens_at: datetime = Field(sa_type=UTCDateTime)
    closes_at: datetime = Field(sa_type=UTCDateTime, index=True)
    status: str = Field(default=BallotStatus.SCHEDULED, sa_type=String(16), index=True)
    electorate_size: int = 0
    # Departments with at least BALLOT_MIN_GROUP electors at the opening (JSON list): only
    # these are written on a paper.
    groups: str = Field(default="[]", sa_type=Text)
    reminders_sent: int = 0  # 0, 1 (half-way), 2 (the last call before the close)
    created_by_member_id: int = Field(foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When the results were counted and queued for the committee group (a close interrupted
    # by a stop is finished at the next run).
    reported_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    def item_list(self) -> list[dict[str, Any]]:
        """The items as stored."""
        return list(json.loads(self.items))

    def rule(self) -> dict[str, Any]:
        """The electorate as stored."""
        return dict(json.loads(self.electorate))

    @property
    def congress(self) -> bool:
        """A staff-congress vote: the two-thirds rule applies."""
        return bool(self.quorum)


class BallotElector(SQLModel, table=True):
    """One member of a ballot's electorate, and the day they voted (never what)."""

    __tablename__ = "ballot_elector"
    __table_args__ = (UniqueConstraint("ballot_id", "member_id", name="uq_ballot_elector"),)

    id: int | None = Field(default=None, primary_key=True)
    ballot_id: int = Field(foreign_key="ballot.id", index=True)
    member_id: int = Field(foreign_key="member.id")
    voted_on: date | None = None


class BallotPaper(SQLModel, table=True):
    """One ballot paper: answers without a voter."""

    __tablename__ = "ballot_paper"

    id: int = Field(sa_type=RandomKey, primary_key=True, sa_column_kwargs={"autoincrement": False})
    ballot_id: int = Field(foreign_key="ballot.id", index=True)
    answers: str = Field(sa_type=Text)
    department: str | None = Field(default=None, sa_type=String(60), nullable=True)
    cast_on: date
    sealed: bool = False


class BallotReceipt(SQLModel, table=True):
    """One receipt: that a paper was counted in this ballot on this day, never which paper."""

    __tablename__ = "ballot_receipt"
    __table_args__ = (UniqueConstraint("receipt_hash", name="uq_ballot_receipt_hash"),)

    id: int = Field(sa_type=RandomKey, primary_key=True, sa_column_kwargs={"autoincrement": False})
    ballot_id: int = Field(foreign_key="ballot.id", index=True)
    receipt_hash: str = Field(sa_type=String(64))
    cast_on: date


# ---- creating ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewBallot:
    """What the committee typed."""

    title: str
    kind: BallotKind
    electorate: dict[str, Any]
    items: tuple[dict[str, Any], ...]
    max_choices: int
    opens_at: datetime
    closes_at: datetime


def parse_items(kind: BallotKind, text: str) -> tuple[dict[str, Any], ...]:
    """One item a line; for a survey, a line starting with 填空： is a free-text question."""
    items: list[dict[str, Any]] = []
    for line in text.splitlines():
        value = line.strip().lstrip("-•·").strip()
        if not value:
            continue
        free = False
        if kind == BallotKind.SATISFACTION:
            for prefix in FREE_PREFIXES:
                if value.startswith(prefix):
                    value, free = value[len(prefix) :].strip(), True
                    break
        if not value:
            continue
        if len(value) > ITEM_LIMIT:
            raise InputError(N_("ballot.item_too_long"), limit=ITEM_LIMIT)
        items.append({"text": value, "free": free})
    if not items:
        raise InputError(N_("ballot.items_empty"))
    if len(items) > MAX_ITEMS:
        raise InputError(N_("ballot.items_too_many"), limit=MAX_ITEMS)
    if len({item["text"] for item in items}) != len(items):
        raise InputError(N_("ballot.items_repeated"))
    if kind == BallotKind.SATISFACTION and all(item["free"] for item in items):
        raise InputError(N_("ballot.items_all_free"))
    return tuple(items)


def is_congress(kind: BallotKind, electorate: dict[str, Any]) -> bool:
    """A 表决 of the representatives is a staff-congress vote."""
    return kind == BallotKind.RESOLUTION and electorate.get("type") == Electorate.REPRESENTATIVES


async def create_ballot(
    session: AsyncSession,
    *,
    org_id: int,
    actor_id: int,
    new: NewBallot,
    quorum: str,
    majority: str,
    min_group: int,
    now: datetime,
) -> Ballot:
    """Store a ballot (opened by the job at its time, or at once by the caller). Nobody in
    the electorate is refused; an evaluation, a survey, a motion or an election among union
    groups needs an electorate of at least `min_group` members today: with fewer, the counts
    would show what each one chose."""
    if new.closes_at <= now:
        raise DomainError(N_("ballot.closes_past"))
    if new.closes_at <= new.opens_at:
        raise DomainError(N_("ballot.closes_before_opens"))
    if new.electorate.get("type") == Electorate.DEPARTMENTS:  # union groups that exist now
        names = new.electorate.get("departments", [])
        await check_departments(session, org_id=org_id, names=names)
    size = len(await electorate_members(session, org_id=org_id, rule=new.electorate))
    if size == 0:  # nobody could vote: refused for every kind
        raise DomainError(N_("ballot.electorate_empty"))
    if new.kind != BallotKind.ELECTION and size < min_group:
        raise DomainError(N_("ballot.electorate_too_small"), count=size, minimum=min_group)
    departmental = new.electorate.get("type") == Electorate.DEPARTMENTS
    if new.kind == BallotKind.ELECTION and departmental and size < min_group:
        # A group's election among so few would show who voted for whom: refused, as above.
        raise DomainError(N_("ballot.group_election_too_small"), count=size, minimum=min_group)
    congress = is_congress(new.kind, new.electorate)
    ballot = Ballot(
        organization_id=org_id,
        title=new.title,
        kind=new.kind,
        electorate=json.dumps(new.electorate, ensure_ascii=False),
        items=json.dumps(list(new.items), ensure_ascii=False),
        max_choices=max(1, min(new.max_choices, len(new.items))),
        quorum=quorum if congress else "",
        majority=majority if congress else "",
        opens_at=max(new.opens_at, now),
        closes_at=new.closes_at,
        created_by_member_id=actor_id,
    )
    session.add(ballot)
    await session.commit()
    return ballot


async def get_ballot(session: AsyncSession, *, org_id: int, ballot_id: int) -> Ballot:
    """A ballot of this organization, else a refusal."""
    ballot = await session.get(Ballot, ballot_id)
    if ballot is None or ballot.organization_id != org_id:
        raise DomainError(N_("ballot.not_found"))
    return ballot


# ---- the electorate --------------------------------------------------------------------------


async def electorate_members(
    session: AsyncSession, *, org_id: int, rule: dict[str, Any]
) -> Sequence[Member]:
    """Active members in the rule (with or without Telegram: the two-thirds rule counts all)."""
    kind = Electorate(str(rule.get("type", Electorate.EVERYONE)))
    statement = select(Member).where(
        Member.organization_id == org_id, Member.status == MemberStatus.ACTIVE
    )
    if kind == Electorate.WOMEN:
        statement = statement.where(Member.gender == Gender.FEMALE)
    elif kind == Electorate.RETIREES:
        statement = statement.where(col(Member.retired).is_(True))
    elif kind == Electorate.REPRESENTATIVES:
        holders = select(MemberRole.member_id).where(MemberRole.role == Role.REPRESENTATIVE)
        statement = statement.where(col(Member.id).in_(holders))
    elif kind == Electorate.DEPARTMENTS:
        names = [str(name) for name in rule.get("departments", [])]
        statement = statement.where(col(Member.department).in_(names))
    elif kind == Electorate.MEMBERS:
        ids = [int(value) for value in rule.get("ids", [])]
        statement = statement.where(col(Member.id).in_(ids))
    return (await session.exec(statement.order_by(col(Member.id)))).all()


async def open_ballot(
    session: AsyncSession, *, ballot_id: int, now: datetime, min_group: int
) -> list[Member] | None:
    """Open a scheduled ballot whose time came: the electorate is written now and fixed.
    Returns the electors, or None if it was opened already (a guarded UPDATE)."""
    ballot = await session.get(Ballot, ballot_id)
    if ballot is None or ballot.status != BallotStatus.SCHEDULED or ballot.opens_at > now:
        return None
    members = list(
        await electorate_members(session, org_id=ballot.organization_id, rule=ballot.rule())
    )
    sizes = Counter(member.department for member in members)
    groups = sorted(name for name, size in sizes.items() if size >= max(min_group, 1))
    result = await session.exec(
        update(Ballot)
        .where(col(Ballot.id) == ballot_id, col(Ballot.status) == BallotStatus.SCHEDULED)
        .values(
            status=BallotStatus.OPEN,
            electorate_size=len(members),
            groups=json.dumps(groups, ensure_ascii=False),
        )
    )
    if result.rowcount != 1:
        await session.rollback()
        return None
    session.add_all([BallotElector(ballot_id=ballot_id, member_id=m.id or 0) for m in members])
    await session.commit()
    return members


async def due_to_open(session: AsyncSession, *, org_id: int, now: datetime) -> Sequence[int]:
    """Scheduled ballots whose opening time came."""
    return (
        await session.exec(
            select(Ballot.id).where(
                Ballot.organization_id == org_id,
                Ballot.status == BallotStatus.SCHEDULED,
                col(Ballot.opens_at) <= now,
            )
        )
    ).all()  # type: ignore[return-value]


async def open_ballots(session: AsyncSession, *, org_id: int) -> Sequence[Ballot]:
    """Ballots open now (for reminders and the close)."""
    return (
        await session.exec(
            select(Ballot).where(
                Ballot.organization_id == org_id, Ballot.status == BallotStatus.OPEN
            )
        )
    ).all()


async def is_elector(session: AsyncSession, *, ballot_id: int, member_id: int) -> BallotElector:
    """The member's electorate row, else a refusal (outsider)."""
    row = (
        await session.exec(
            select(BallotElector).where(
                BallotElector.ballot_id == ballot_id, BallotElector.member_id == member_id
            )
        )
    ).first()
    if row is None:
        raise DomainError(N_("ballot.not_elector"))
    return row


async def non_voters(session: AsyncSession, *, ballot_id: int) -> Sequence[int]:
    """Member ids of electors who have not voted and are still members (for reminders only)."""
    return (
        await session.exec(
            select(BallotElector.member_id)
            .join(Member, col(Member.id) == col(BallotElector.member_id))
            .where(
                BallotElector.ballot_id == ballot_id,
                col(BallotElector.voted_on).is_(None),
                Member.status == MemberStatus.ACTIVE,
            )
        )
    ).all()


async def elector_ids(session: AsyncSession, *, ballot_id: int) -> Sequence[int]:
    """Member ids of the whole electorate (the members a ballot concerns), never who voted."""
    return (
        await session.exec(
            select(BallotElector.member_id)
            .where(BallotElector.ballot_id == ballot_id)
            .order_by(col(BallotElector.member_id))
        )
    ).all()


async def turnout(session: AsyncSession, *, ballot_id: int) -> int:
    """How many electors voted."""
    return int(
        (
            await session.exec(
                select(func.count()).where(
                    BallotElector.ballot_id == ballot_id, col(BallotElector.voted_on).is_not(None)
                )
            )
        ).one()
    )


async def claim_reminder(session: AsyncSession, *, ballot_id: int, stage: int) -> bool:
    """Take the right to send reminder `stage` (once, guarded)."""
    result = await session.exec(
        update(Ballot)
        .where(
            col(Ballot.id) == ballot_id,
            col(Ballot.status) == BallotStatus.OPEN,
            col(Ballot.reminders_sent) < stage,
        )
        .values(reminders_sent=stage)
    )
    await session.commit()
    return bool(result.rowcount == 1)


# ---- voting ------------------------------------------------------------------------------------


def check_answers(ballot: Ballot, answers: Sequence[Any]) -> list[Any]:
    """The answers in their stored form, or a refusal: one per item, each a known choice."""
    items = ballot.item_list()
    kind = BallotKind(ballot.kind)
    if kind == BallotKind.ELECTION:
        chosen = sorted({int(index) for index in answers})
        if len(chosen) != len(answers) or len(chosen) > ballot.max_choices:
            raise DomainError(N_("ballot.answers_invalid"))
        if any(not 0 <= index < len(items) for index in chosen):
            raise DomainError(N_("ballot.answers_invalid"))
        return chosen
    if len(answers) != len(items):
        raise DomainError(N_("ballot.answers_invalid"))
    stored: list[Any] = []
    for item, answer in zip(items, answers, strict=True):
        if kind == BallotKind.EVALUATION:
            grade, comment = (answer or [None, ""])[0], str((answer or [None, ""])[1] or "")
            if grade not in GRADES or len(comment) > COMMENT_LIMIT:
                raise DomainError(N_("ballot.answers_invalid"))
            stored.append([grade, comment])
        elif item.get("free"):
            text = str(answer or "")
            if len(text) > COMMENT_LIMIT:
                raise DomainError(N_("ballot.answers_invalid"))
            stored.append(text)
        elif answer not in CHOICES[kind]:
            raise DomainError(N_("ballot.answers_invalid"))
        else:
            stored.append(answer)
    return stored


def receipt_key(secret: bytes) -> bytes:
    """The key of receipt hashes, derived from SECRET_KEY as models/anonymity.py derives its
    keys (a purpose of its own): without it a code cannot be checked against the table."""
    return hmac.new(secret, b"union-desk/ballot-receipt/v1", hashlib.sha256).digest()


def receipt_hash(key: bytes, code: str) -> str:
    """What is stored of a receipt code (the code itself is shown once and forgotten)."""
    normal = code.upper().replace("-", "").replace(" ", "")
    return hmac.new(key, normal.encode(), hashlib.sha256).hexdigest()


def new_receipt() -> str:
    """A random receipt code, e.g. K7QM-3XWD-P9TA."""
    raw = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, RECEIPT_LENGTH, 4))


def random_key() -> int:
    """A random positive 63-bit primary key."""
    return secrets.randbits(63) or 1


async def cast_ballot(
    session: AsyncSession,
    *,
    ballot_id: int,
    member: Member,
    answers: Sequence[Any],
    receipt_key: bytes,
    now: datetime,
    today: date,
) -> str:
    """Record one vote: the voter's electorate row is marked with the day (guarded: once, and
    only while the ballot is open and before its close), an unsealed paper without the voter
    and a receipt without the paper are written, in one transaction. Returns the receipt code
    (shown to the voter once; only its keyed hash is kept)."""
    # FOR SHARE on PostgreSQL: a close (an UPDATE of this row) waits for this vote, or this vote
    # sees the close. On SQLite this SELECT takes no lock: the UPDATE below checks again.
    ballot = (
        await session.exec(
            select(Ballot)
            .where(col(Ballot.id) == ballot_id)
            .with_for_update(read=True)
            .execution_options(populate_existing=True)
        )
    ).first()
    if ballot is None or ballot.organization_id != member.organization_id:
        raise DomainError(N_("ballot.not_found"))
    if ballot.status == BallotStatus.CANCELLED:
        raise DomainError(N_("ballot.was_cancelled"), title=ballot.title)
    if ballot.status != BallotStatus.OPEN or now >= ballot.closes_at:
        raise DomainError(N_("ballot.closed"))
    stored = check_answers(ballot, answers)
    await is_elector(session, ballot_id=ballot_id, member_id=member.id or 0)
    still_open = exists().where(
        col(Ballot.id) == ballot_id,
        col(Ballot.status) == BallotStatus.OPEN,
        col(Ballot.closes_at) > now,
    )
    result = await session.exec(
        update(BallotElector)
        .where(
            col(BallotElector.ballot_id) == ballot_id,
            col(BallotElector.member_id) == member.id,
            col(BallotElector.voted_on).is_(None),
            still_open,
        )
        .values(voted_on=today)
    )
    if result.rowcount != 1:
        row = await is_elector(session, ballot_id=ballot_id, member_id=member.id or 0)
        voted = row.voted_on is not None
        await session.rollback()
        raise DomainError(N_("ballot.already_voted") if voted else N_("ballot.closed"))
    groups = set(json.loads(ballot.groups))
    code = new_receipt()
    session.add(
        BallotPaper(
            id=random_key(),
            ballot_id=ballot_id,
            answers=json.dumps(stored, ensure_ascii=False),
            department=member.department if member.department in groups else None,
            cast_on=today,
        )
    )
    session.add(
        BallotReceipt(
            id=random_key(),
            ballot_id=ballot_id,
            receipt_hash=receipt_hash(receipt_key, code),
            cast_on=today,
        )
    )
    await session.commit()
    return code


async def waiting_papers(session: AsyncSession, *, ballot_id: int) -> int:
    """Papers not sealed yet."""
    return int(
        (
            await session.exec(
                select(func.count()).where(
                    BallotPaper.ballot_id == ballot_id, col(BallotPaper.sealed).is_(False)
                )
            )
        ).one()
    )


async def seal_papers(
    session: AsyncSession,
    *,
    ballot_id: int,
    at_least: int,
    everything: bool = False,
    rng: random.Random | None = None,
) -> int:
    """Write papers again, shuffled, with new random ids: the waiting ones once `at_least`
    wait, or (`everything`, at the close) every paper of the ballot in one batch, so that in
    the end no storage order or system column follows the batches either. Every receipt of
    the ballot and the voted electorate rows are rewritten in the same transaction, so no
    system column pairs a voter's row or a receipt with a paper. Returns how many papers
    were written."""
    if not everything and await waiting_papers(session, ballot_id=ballot_id) < max(at_least, 1):
        return 0
    condition = col(BallotPaper.ballot_id) == ballot_id
    if not everything:
        condition = condition & col(BallotPaper.sealed).is_(False)
    taken = (
        await session.exec(
            delete(BallotPaper)
            .where(condition)
            .returning(
                col(BallotPaper.answers),
                col(BallotPaper.department),
                col(BallotPaper.cast_on),
            )
        )
    ).all()
    rows = [
        {
            "id": random_key(),
            "ballot_id": ballot_id,
            "answers": answers,
            "department": department,
            "cast_on": cast_on,
            "sealed": True,
        }
        for answers, department, cast_on in taken
    ]
    shuffler = rng or random.SystemRandom()
    shuffler.shuffle(rows)
    if rows:
        await session.exec(insert(BallotPaper), params=rows)  # in the shuffled order
    receipts = [
        {"id": random_key(), "ballot_id": ballot_id, "receipt_hash": hashed, "cast_on": cast_on}
        for hashed, cast_on in (
            await session.exec(
                delete(BallotReceipt)
                .where(col(BallotReceipt.ballot_id) == ballot_id)
                .returning(col(BallotReceipt.receipt_hash), col(BallotReceipt.cast_on))
            )
        ).all()
    ]
    shuffler.shuffle(receipts)
    if receipts:
        await session.exec(insert(BallotReceipt), params=receipts)
    await session.exec(
        update(BallotElector)
        .where(col(BallotElector.ballot_id) == ballot_id, col(BallotElector.voted_on).is_not(None))
        .values(voted_on=BallotElector.voted_on)
    )
    await session.commit()
    return len(rows)


async def check_receipt(
    session: AsyncSession, *, org_id: int, code: str, receipt_key: bytes
) -> tuple[Ballot, date]:
    """The ballot a receipt code was counted in and the day, never the choice."""
    normal = code.upper().replace("-", "").replace(" ", "")
    legacy = hashlib.sha256(f"ballot-receipt:{normal}".encode()).hexdigest()  # before 0020
    receipt = (
        await session.exec(
            select(BallotReceipt).where(
                col(BallotReceipt.receipt_hash).in_([receipt_hash(receipt_key, code), legacy])
            )
        )
    ).first()
    ballot = await session.get(Ballot, receipt.ballot_id) if receipt else None
    if receipt is None or ballot is None or ballot.organization_id != org_id:
        raise DomainError(N_("ballot.receipt_unknown"))
    return ballot, receipt.cast_on


# ---- closing and counting ----------------------------------------------------------------------


async def close_ballot(session: AsyncSession, *, ballot_id: int, now: datetime) -> bool:
    """Close an open ballot whose time is up (guarded: once)."""
    result = await session.exec(
        update(Ballot)
        .where(
            col(Ballot.id) == ballot_id,
            col(Ballot.status) == BallotStatus.OPEN,
            col(Ballot.closes_at) <= now,
        )
        .values(status=BallotStatus.CLOSED)
    )
    await session.commit()
    return bool(result.rowcount == 1)


async def unreported(session: AsyncSession, *, org_id: int) -> Sequence[int]:
    """Closed ballots whose results were not counted and queued yet."""
    return (
        await session.exec(
            select(Ballot.id).where(
                Ballot.organization_id == org_id,
                Ballot.status == BallotStatus.CLOSED,
                col(Ballot.reported_at).is_(None),
            )
        )
    ).all()  # type: ignore[return-value]


async def mark_reported(session: AsyncSession, *, ballot_id: int) -> bool:
    """Claim the one report of a closed ballot's results."""
    result = await session.exec(
        update(Ballot)
        .where(col(Ballot.id) == ballot_id, col(Ballot.reported_at).is_(None))
        .values(reported_at=utcnow())
    )
    await session.commit()
    return bool(result.rowcount == 1)


async def mark_published(session: AsyncSession, *, ballot_id: int) -> bool:
    """Claim the one publication of a closed ballot's results."""
    result = await session.exec(
        update(Ballot)
        .where(
            col(Ballot.id) == ballot_id,
            col(Ballot.status) == BallotStatus.CLOSED,
            col(Ballot.published_at).is_(None),
        )
        .values(published_at=utcnow())
    )
    await session.commit()
    return bool(result.rowcount == 1)


@dataclass
class ItemTally:
    """The count of one item."""

    text: str
    free: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    comments: list[str] = field(default_factory=list)

    @property
    def answered(self) -> int:
        """Papers that answered this item (a blank free text is not an answer)."""
        return sum(self.counts.values())

    def share(self, *choices: str) -> Fraction | None:
        """The share of these choices among the answers, None with no answer."""
        if not self.answered:
            return None
        return Fraction(sum(self.counts.get(c, 0) for c in choices), self.answered)


@dataclass
class Tally:
    """The whole count of a closed ballot."""

    ballot: Ballot
    electorate: int
    voted: int
    items: list[ItemTally]
    blank: int = 0  # election papers choosing nobody
    departments: dict[str, list[ItemTally]] = field(default_factory=dict)
    department_voted: dict[str, int] = field(default_factory=dict)
    withheld: bool = False  # fewer than BALLOT_MIN_GROUP voted: the turnout only
    min_group: int = 1

    @property
    def valid(self) -> bool:
        """Whether the vote counts: a staff-congress vote needs the quorum share voting."""
        if not self.ballot.congress:
            return self.voted > 0
        return self.voted > 0 and Fraction(self.voted, max(self.electorate, 1)) >= Fraction(
            self.ballot.quorum
        )

    def passed(self, item: ItemTally) -> bool:
        """A motion passes with more than the majority share of ALL electors (congress) or
        of those who voted (otherwise) voting for."""
        base = self.electorate if self.ballot.congress else self.voted
        share = Fraction(self.ballot.majority or "1/2")
        return self.valid and item.counts.get("for", 0) > share * base

    def winners(self) -> tuple[list[int], list[int]]:
        """Elected candidates (indices) and those tied for the last seat, who are not."""
        order = sorted(range(len(self.items)), key=lambda i: -self.items[i].counts.get("yes", 0))
        voted_for = [i for i in order if self.items[i].counts.get("yes", 0) > 0]
        seats = self.ballot.max_choices
        if len(voted_for) <= seats:
            return voted_for, []
        cut = self.items[voted_for[seats - 1]].counts.get("yes", 0)
        above = [i for i in voted_for if self.items[i].counts.get("yes", 0) > cut]
        at_cut = [i for i in voted_for if self.items[i].counts.get("yes", 0) == cut]
        if len(above) + len(at_cut) <= seats:
            return above + at_cut, []
        return above, at_cut


def _empty(ballot: Ballot) -> list[ItemTally]:
    return [ItemTally(text=str(i["text"]), free=bool(i.get("free"))) for i in ballot.item_list()]


def _count(kind: BallotKind, items: list[ItemTally], answers: list[Any]) -> bool:
    """Add one paper; returns True for an election paper choosing nobody."""
    if kind == BallotKind.ELECTION:
        for index in answers:
            items[index].counts["yes"] = items[index].counts.get("yes", 0) + 1
        return not answers
    for item, answer in zip(items, answers, strict=False):
        if kind == BallotKind.EVALUATION:
            grade, comment = answer
            item.counts[grade] = item.counts.get(grade, 0) + 1
            if comment:
                item.comments.append(comment)
        elif item.free:
            if answer:
                item.comments.append(str(answer))
        else:
            item.counts[answer] = item.counts.get(answer, 0) + 1
    return False


async def tally(
    session: AsyncSession, *, ballot_id: int, min_group: int, rng: random.Random | None = None
) -> Tally:
    """Count a closed ballot (refused while it is open: no interim results). With fewer than
    `min_group` papers only the turnout is given (`withheld`): no figure, no text."""
    ballot = await session.get(Ballot, ballot_id)
    if ballot is None:
        raise DomainError(N_("ballot.not_found"))
    if ballot.status != BallotStatus.CLOSED:
        raise DomainError(N_("ballot.not_closed"))
    kind = BallotKind(ballot.kind)
    rows = (
        await session.exec(
            select(BallotPaper.answers, BallotPaper.department).where(
                BallotPaper.ballot_id == ballot_id
            )
        )
    ).all()
    items = _empty(ballot)
    blank = 0
    by_department: dict[str, list[ItemTally]] = {}
    department_voted: Counter[str] = Counter()
    for answers_json, department in rows:
        answers = json.loads(answers_json)
        blank += _count(kind, items, answers)
        if department:
            department_voted[department] += 1
            _count(kind, by_department.setdefault(department, _empty(ballot)), answers)
    voted = len(rows)
    if voted < max(min_group, 1):  # so few papers that the counts would show each one
        return Tally(
            ballot=ballot,
            electorate=ballot.electorate_size,
            voted=voted,
            items=_empty(ballot),
            withheld=True,
            min_group=max(min_group, 1),
        )
    names = shown_departments(department_voted, voted=voted, min_group=min_group)
    shown = {name: by_department[name] for name in sorted(names)}
    for counted in shown.values():  # free texts appear once, in the whole count only
        for item in counted:
            item.comments = []
    shuffler = rng or random.SystemRandom()
    for item in items:  # each item's own order: the k-th texts of two items share no paper
        shuffler.shuffle(item.comments)
    return Tally(
        ballot=ballot,
        electorate=ballot.electorate_size,
        voted=voted,
        items=items,
        blank=blank,
        departments=shown,
        department_voted={name: department_voted[name] for name in shown},
        min_group=max(min_group, 1),
    )


def shown_departments(voted_in: Counter[str], *, voted: int, min_group: int) -> list[str]:
    """The departments whose own figures may be shown: each with at least `min_group` papers,
    and the papers outside them (the total minus the shown ones) none or at least `min_group`
    too, so that no subtraction isolates a few voters; the smallest are hidden until it holds
    (at worst, all of them)."""
    least = max(min_group, 1)
    shown = sorted(
        (name for name, count in voted_in.items() if count >= least),
        key=lambda name: (voted_in[name], name),
    )
    while shown and 0 < voted - sum(voted_in[name] for name in shown) < least:
        shown.pop(0)  # the smallest shown department joins the rest
    return shown


async def due_to_close(session: AsyncSession, *, org_id: int, now: datetime) -> Sequence[int]:
    """Open ballots whose closing time came."""
    return (
        await session.exec(
            select(Ballot.id).where(
                Ballot.organization_id == org_id,
                Ballot.status == BallotStatus.OPEN,
                col(Ballot.closes_at) <= now,
            )
        )
    ).all()  # type: ignore[return-value]


async def ballots_of(session: AsyncSession, *, org_id: int, limit: int = 10) -> Sequence[Ballot]:
    """The latest ballots, newest first (the committee's list)."""
    return (
        await session.exec(
            select(Ballot)
            .where(Ballot.organization_id == org_id)
            .order_by(col(Ballot.id).desc())
            .limit(limit)
        )
    ).all()


# ---- cancelling, the committee's list, a member's ballots --------------------------------------


async def cancel_ballot(
    session: AsyncSession, *, org_id: int, ballot_id: int, actor: Actor
) -> tuple[Ballot, BallotStatus]:
    """Cancel a scheduled or open ballot (committee only; guarded in the database, so a ballot
    closed meanwhile is refused). Every paper already cast is deleted in the same transaction:
    a cancelled ballot never has results, and papers kept would be interim results that
    anyone with the database could count. Returns the ballot and the status it had."""
    if not actor.is_committee:
        raise DomainError(N_("desk.not_committee"))
    ballot = await get_ballot(session, org_id=org_id, ballot_id=ballot_id)
    before = BallotStatus(ballot.status)
    result = await session.exec(
        update(Ballot)
        .where(
            col(Ballot.id) == ballot_id,
            col(Ballot.status).in_([BallotStatus.SCHEDULED, BallotStatus.OPEN]),
        )
        .values(status=BallotStatus.CANCELLED)
    )
    if result.rowcount != 1:
        await session.rollback()
        await session.refresh(ballot)
        if ballot.status == BallotStatus.CANCELLED:
            raise DomainError(N_("ballot.cancelled_before"), title=ballot.title)
        raise DomainError(N_("ballot.cancel_too_late"), title=ballot.title)
    await session.exec(delete(BallotPaper).where(col(BallotPaper.ballot_id) == ballot_id))
    await session.commit()
    await session.refresh(ballot)
    return ballot, before


@dataclass(frozen=True)
class ListedBallot:
    """A ballot in the committee's list: the turnout count only, never a result."""

    ballot: Ballot
    voted: int


async def committee_list(
    session: AsyncSession, *, org_id: int, year_start: datetime
) -> list[ListedBallot]:
    """Open and scheduled ballots, and those closed or cancelled since `year_start`, with how
    many voted (a count of electorate rows; the papers are never read)."""
    voted = (
        select(BallotElector.ballot_id, func.count().label("voted"))
        .where(col(BallotElector.voted_on).is_not(None))
        .group_by(col(BallotElector.ballot_id))
        .subquery()
    )
    rows = (
        await session.exec(
            select(Ballot, func.coalesce(voted.c.voted, 0))
            .outerjoin(voted, voted.c.ballot_id == Ballot.id)
            .where(
                Ballot.organization_id == org_id,
                col(Ballot.status).in_([BallotStatus.SCHEDULED, BallotStatus.OPEN])
                | (col(Ballot.closes_at) >= year_start),
            )
            .order_by(col(Ballot.closes_at), col(Ballot.id))
        )
    ).all()
    return [ListedBallot(ballot, int(count)) for ballot, count in rows]


async def member_ballots(
    session: AsyncSession, *, org_id: int, member_id: int, now: datetime
) -> list[tuple[Ballot, bool]]:
    """The open ballots a member may vote in now, and whether they voted (never what)."""
    rows = (
        await session.exec(
            select(Ballot, col(BallotElector.voted_on))
            .join(BallotElector, col(BallotElector.ballot_id) == Ballot.id)
            .where(
                Ballot.organization_id == org_id,
                Ballot.status == BallotStatus.OPEN,
                col(Ballot.closes_at) > now,
                BallotElector.member_id == member_id,
            )
            .order_by(col(Ballot.closes_at))
        )
    ).all()
    return [(ballot, voted_on is not None) for ballot, voted_on in rows]
