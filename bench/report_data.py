"""A realistic union for the report benchmark: members and years of records, bulk-inserted.

`generate(url, members=300, years=1)` fills a freshly migrated database (`fresh_database`, the
project's own migration path) with one school union: people on the roster (women about 60%,
retirees about 15% in 离退休, departments 语文组 ... 后勤, some `invited` roster members without
Telegram, a few pending, some who left), their roles (chair, 副主席, 女工委主任, committee, 财务,
经审, 工会小组长, 教代会代表), and for each of the `years` years up to `last_year`: suggestions
(some anonymous; answers, closings), a staff-congress session with proposals (merged, filed,
assigned, answered, rated, 落实情况), aid cases and their ledger (requested or reported,
approved, paid with its PAID row and paid_on, some corrections, rejections, withdrawals),
hardship files opened and closed, activities with sign-ups, waitlists and check-ins, greetings,
announcements and committee tasks through the outbox, ballots, notices (公示) with objections
and improvement ideas.

Rows are written with SQLAlchemy core executemany in batches, never through the domain
functions one by one, but in the shape those functions leave them (statuses, timestamps in
order, ledger rows per step, counters such as `seats_taken`), so the report's figures mean
something. The per-member rates follow a 300-member school's year (16 hospital visits, 36
proposals merged into about 20, some 20 activities ...) and scale with the number of members.

    .venv/bin/python -m bench.report_data --members 300 --years 1     # into a temporary SQLite
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, insert, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel

import models  # noqa: F401  (registers the tables)
from bench.rush import fresh_database
from bot.db import create_engine, is_sqlite
from models.activities import ActivityCategory, ActivityStatus, SelectionMode, SignupStatus
from models.aid import DEFAULT_STANDARDS, AidType, CaseStatus, LedgerKind
from models.ballots import BallotKind, BallotStatus
from models.hardship import FileStatus, HardshipLevel, a_year_after
from models.members import Gender, JoinStatus, MemberStatus, Role
from models.notices import NoticeKind, NoticeStatus
from models.outbox import BroadcastKind, OutboxStatus
from models.proposals import Filers, Implementation, ProposalCategory, ProposalStatus, Rating
from models.suggestions import DEFAULT_CATEGORIES, EntryKind, SuggestionStatus
from scheduler.calendar_jobs import occurrence_key

SEED = 18
ZONE = ZoneInfo("Asia/Shanghai")
LAST_YEAR = 2025
ORG_ID = 1
BATCH = 5_000  # rows buffered before every buffer is written, parents first
TELEGRAM_BASE = 10_000_000
COMMITTEE_CHAT = -1_001_234_567_890

DEPARTMENTS = (
    ("语文组", 14),
    ("数学组", 14),
    ("英语组", 12),
    ("物理组", 6),
    ("化学组", 5),
    ("生物组", 5),
    ("政治组", 4),
    ("历史组", 4),
    ("地理组", 4),
    ("体育组", 6),
    ("艺术组", 5),
    ("信息组", 3),
    ("教务处", 3),
    ("德育处", 3),
    ("后勤", 8),
)
RETIRED_DEPARTMENT = "离退休"
OFFICES = ("教务处", "总务处", "德育处", "校长办公室", "人事处")  # answer proposals
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭"
    "曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超"
    "秀兰霞平刚桂英华玉萍红玲芬燕彬鹏辉建国文婷雪梅晓东海波宁琳颖慧"
)
# Committee offices by member id (the first members of the roster).
OFFICE_ROLES: dict[int, tuple[Role, ...]] = {
    1: (Role.CHAIR,),
    2: (Role.VICE_CHAIR,),
    3: (Role.WOMEN_CHAIR,),
    4: (Role.COMMITTEE,),
    5: (Role.COMMITTEE,),
    6: (Role.COMMITTEE,),
    7: (Role.COMMITTEE,),
    8: (Role.TREASURER,),
    9: (Role.AUDITOR,),
}
CHAIR, TREASURER = 1, 8
COMMITTEE = (1, 2, 3, 4, 5, 6, 7)
STAFF = len(OFFICE_ROLES)
# Aid cases of a 300-member school's year, by type (the seed: 16 hospital visits, 5 births ...).
AID_MIX = {
    AidType.HOSPITAL: 16,
    AidType.CHILDBIRTH: 5,
    AidType.MARRIAGE: 4,
    AidType.BEREAVEMENT: 3,
    AidType.ILLNESS: 2,
    AidType.HARDSHIP: 6,
    AidType.DISASTER: 1,
    AidType.RETIREMENT: 3,
}
REPORTABLE = (AidType.HOSPITAL, AidType.BEREAVEMENT, AidType.ILLNESS, AidType.DISASTER)
ACTIVITY_MIX = {
    ActivityCategory.SPORT: 25,
    ActivityCategory.CULTURE: 20,
    ActivityCategory.HEALTH: 10,
    ActivityCategory.OUTING: 15,
    ActivityCategory.LECTURE: 20,
    ActivityCategory.CONTEST: 10,
}
ACTIVITY_TITLES = {
    ActivityCategory.SPORT: ("教职工羽毛球赛", "教职工趣味运动会", "登山健身活动", "乒乓球友谊赛"),
    ActivityCategory.CULTURE: ("迎新年联欢会", "教职工合唱排练", "读书分享会", "书法摄影展"),
    ActivityCategory.HEALTH: ("教职工健康体检", "女教职工专项体检", "心理健康讲座"),
    ActivityCategory.OUTING: ("春季踏青", "秋游活动", "红色教育基地参观"),
    ActivityCategory.LECTURE: ("师德建设专题讲座", "法律知识讲座", "养生保健讲座"),
    ActivityCategory.CONTEST: ("青年教师基本功大赛", "课件制作比赛", "板书比赛"),
}
PARAGRAPH = (
    "近年来学校规模扩大，教职工工作量明显增加，部分老师反映{0}方面存在困难，"
    "影响了教育教学工作的正常开展，也影响了教职工的身心健康。"
)
MEASURE = (
    "建议学校统筹安排，在{0}方面制定具体办法，明确责任部门和完成时限，"
    "每学期向教代会代表通报落实情况，接受教职工监督。"
)
TOPICS = (
    "食堂伙食",
    "停车位",
    "办公条件",
    "课时安排",
    "职称评审",
    "绩效考核",
    "校园安全",
    "培训进修",
)
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Person:
    """One person on the roster, as the generator decided them."""

    id: int
    female: bool
    retired: bool
    department: str
    status: MemberStatus
    joined: datetime
    left: datetime | None  # inactive members: when they left

    def on_telegram(self) -> bool:
        """Whether the person has a Telegram account bound."""
        return self.status in (MemberStatus.ACTIVE, MemberStatus.INACTIVE)


@dataclass
class Made:
    """What the generator wrote: rows per table, and the aid figures the checks compare."""

    members: int = 0
    years: tuple[int, ...] = ()
    rows: Counter[str] = field(default_factory=Counter)
    paid_cases: Counter[tuple[int, str]] = field(default_factory=Counter)  # (year paid, type)
    paid_fen: Counter[tuple[int, str]] = field(default_factory=Counter)  # corrections included
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        """Rows in all tables."""
        return sum(self.rows.values())


def moment(day: date, hour: int = 9, minute: int = 0) -> datetime:
    """A local moment of the union's day, as stored (UTC)."""
    return datetime.combine(day, clock(hour, minute), tzinfo=ZONE).astimezone(UTC)


def _token(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


class Writer:
    """Buffers rows per table and writes them with executemany, parents before children."""

    def __init__(self, connection: AsyncConnection, made: Made) -> None:
        self.connection = connection
        self.made = made
        self.buffers: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.ids: Counter[str] = Counter()
        self.pending = 0
        self.order = [table.name for table in SQLModel.metadata.sorted_tables]
        self.tables: dict[str, Table] = {t.name: t for t in SQLModel.metadata.sorted_tables}

    def next_id(self, table: str) -> int:
        """The id the next row of `table` gets (ids are given, not returned)."""
        self.ids[table] += 1
        return self.ids[table]

    async def add(self, table: str, row: dict[str, Any]) -> None:
        """Buffer one row; write everything once the buffers are full."""
        self.buffers[table].append(row)
        self.pending += 1
        if self.pending >= BATCH:
            await self.flush()

    async def flush(self) -> None:
        """Write every buffer in the order of the foreign keys."""
        for name in self.order:
            rows = self.buffers.pop(name, None)
            if rows:
                await self.connection.execute(insert(self.tables[name]), rows)
                self.made.rows[name] += len(rows)
        self.pending = 0
        await self.connection.commit()


@dataclass
class Union:
    """The generator's state while it writes: the roster and what later years need."""

    rng: random.Random
    writer: Writer
    people: list[Person]
    first_year: int
    last_year: int
    representatives: list[int] = field(default_factory=list)
    on_file: dict[int, int] = field(default_factory=dict)  # member id -> open file's id
    files: dict[int, dict[str, Any]] = field(default_factory=dict)  # hardship file rows
    birthdays: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    org_id: int = ORG_ID
    base: int = 0  # member ids of this union start after it (a district's schools)
    chat: int = COMMITTEE_CHAT
    parent_id: int | None = None  # the district, for a district's school

    @property
    def chair(self) -> int:
        """The chair's member id."""
        return self.base + CHAIR

    @property
    def committee(self) -> tuple[int, ...]:
        """The committee's member ids."""
        return tuple(self.base + member_id for member_id in COMMITTEE)

    @property
    def end(self) -> datetime:
        """The end of the generated time (the last year's last moment)."""
        return moment(date(self.last_year, 12, 31), 23, 0)

    def pool(self, year: int) -> list[Person]:
        """Members on Telegram through the whole year (joined before it, not left in it)."""
        start, stop = moment(date(year, 1, 1), 0), moment(date(year, 12, 31), 23)
        return [
            p
            for p in self.people
            if p.on_telegram() and p.joined < start and (p.left is None or p.left > stop)
        ]

    def day(self, year: int, *, school: bool = False) -> date:
        """A random day of the year (a school day outside July and August if `school`)."""
        while True:
            found = date(year, 1, 1) + timedelta(days=self.rng.randrange(365))
            if not school or found.month not in (7, 8):
                return found


# ---- the roster ---------------------------------------------------------------------------


def _people(
    rng: random.Random, members: int, first_year: int, last_year: int, base: int = 0
) -> list[Person]:
    span = (date(last_year, 12, 31) - date(first_year, 1, 1)).days
    years = last_year - first_year + 1
    names, weights = zip(*DEPARTMENTS, strict=True)
    people = []
    for index in range(members):
        member_id = base + index + 1
        staff = index + 1 <= STAFF
        retired = not staff and rng.random() < 0.15
        before = moment(date(first_year, 1, 1) - timedelta(days=rng.randrange(30, 5 * 365)))
        draw = rng.random()
        joined, left = before, None
        if staff or draw >= 0.045 + 0.04 * years:
            status = MemberStatus.ACTIVE
        elif draw < 0.04:
            status = MemberStatus.INVITED  # on the roster, never bound Telegram
        elif draw < 0.045:
            status = MemberStatus.PENDING
            joined = moment(date(last_year, 12, 31) - timedelta(days=rng.randrange(1, 20)))
        elif draw < 0.045 + 0.02 * years:
            status = MemberStatus.ACTIVE  # joined during the years
            joined = moment(date(first_year, 1, 1) + timedelta(days=rng.randrange(span)), 10)
        else:
            status = MemberStatus.INACTIVE  # left during the years
            left = moment(date(first_year, 1, 1) + timedelta(days=rng.randrange(span)), 16)
        people.append(
            Person(
                id=member_id,
                female=rng.random() < 0.6,
                retired=retired,
                department=RETIRED_DEPARTMENT
                if retired
                else rng.choices(names, weights=weights)[0],
                status=status,
                joined=joined,
                left=left,
            )
        )
    return people


def _membership_days(write: Writer, person: Person) -> dict[str, Any]:
    """`joined_at` and `left_at` where the member table has them (the day the committee
    approved the member, the day they left)."""
    if "joined_at" not in write.tables["member"].columns:
        return {}
    return {"joined_at": person.joined if person.on_telegram() else None, "left_at": person.left}


async def _roster(union: Union) -> None:
    rng, write = union.rng, union.writer
    for person in union.people:
        born = (
            rng.randint(1945, 1964) if person.retired else rng.randint(1966, union.last_year - 23)
        )
        month, day = rng.randint(1, 12), rng.randint(1, 28)
        telegram = person.on_telegram()
        if telegram:
            union.birthdays.setdefault((month, day), []).append(person.id)
        await write.add(
            "member",
            {
                "id": person.id,
                "organization_id": union.org_id,
                "telegram_user_id": TELEGRAM_BASE + person.id if telegram else None,
                "real_name": rng.choice(SURNAMES)
                + "".join(rng.choices(GIVEN, k=rng.randint(1, 2))),
                "department": person.department,
                "gender": Gender.FEMALE if person.female else Gender.MALE,
                "birth_year": born,
                "birth_month": month,
                "birth_day": day,
                "retired": person.retired,
                "status": person.status,
                "language": "zh-Hans" if telegram else None,
                "invite_code": _token(rng) if person.status == MemberStatus.INVITED else None,
                "roster_key": f"roster:{person.id}",
                "mute_greetings": rng.random() < 0.02,
                "unreachable_since": None,
                "created_at": person.joined,
                "updated_at": person.left or person.joined,
                **_membership_days(write, person),
            },
        )
        if person.status != MemberStatus.INVITED:
            pending = person.status == MemberStatus.PENDING
            await write.add(
                "join_request",
                {
                    "id": write.next_id("join_request"),
                    "organization_id": union.org_id,
                    "member_id": person.id,
                    "status": JoinStatus.PENDING if pending else JoinStatus.APPROVED,
                    "created_at": person.joined - timedelta(hours=5),
                    "decided_by_member_id": None if pending else union.chair,
                    "decided_at": None if pending else person.joined,
                },
            )
    granted = moment(date(union.first_year, 1, 1)) - timedelta(days=400)
    roles: list[tuple[int, Role]] = [
        (union.base + member_id, role)
        for member_id, offices in OFFICE_ROLES.items()
        for role in offices
    ]
    steady = union.pool(union.first_year)
    union.representatives = [p.id for p in steady if rng.random() < 0.06] or [
        p.id for p in steady[:5]
    ]
    roles += [(member_id, Role.REPRESENTATIVE) for member_id in union.representatives]
    leaders: dict[str, int] = {}
    for person in steady:
        if person.id > union.base + STAFF and person.department != RETIRED_DEPARTMENT:
            leaders.setdefault(person.department, person.id)
    roles += [(member_id, Role.GROUP_LEADER) for member_id in leaders.values()]
    for member_id, role in sorted(set(roles)):
        await write.add(
            "member_role",
            {
                "member_id": member_id,
                "role": role,
                "granted_by_member_id": union.chair,
                "granted_at": granted,
            },
        )


async def _settings(union: Union, name: str) -> None:
    write = union.writer
    created = moment(date(union.first_year, 1, 1)) - timedelta(days=2000)
    await write.add(
        "organization",
        {
            "id": union.org_id,
            "name": name,
            "committee_chat_id": union.chat,
            "kind": "school",
            "parent_id": union.parent_id,
            "disclosure_chat_id": None,
            "created_at": created,
        },
    )
    for position, code in enumerate(DEFAULT_CATEGORIES):
        await write.add(
            "suggestion_category",
            {
                "id": write.next_id("suggestion_category"),
                "organization_id": union.org_id,
                "code": code,
                "name": None,
                "position": position,
                "active": True,
            },
        )
    for aid_type, standard in DEFAULT_STANDARDS.items():
        await write.add(
            "aid_standard",
            {
                "id": write.next_id("aid_standard"),
                "organization_id": union.org_id,
                "aid_type": aid_type,
                "amount": standard.amount,
                "cap_count": standard.cap_count,
                "cap_total": standard.cap_total,
            },
        )
    for office in OFFICES:
        await write.add(
            "department",
            {
                "id": write.next_id("department"),
                "organization_id": union.org_id,
                "name": office,
                "handler_member_id": union.rng.choice(union.committee),
            },
        )


# ---- one year's records -------------------------------------------------------------------


async def _suggestions(union: Union, year: int, pool: Sequence[Person]) -> None:
    rng, write = union.rng, union.writer
    categories = len(DEFAULT_CATEGORIES)
    for seq in range(1, round(0.2 * len(pool)) + 1):
        suggestion_id = write.next_id("suggestion")
        created = moment(union.day(year), rng.randint(7, 21), rng.randrange(60))
        anonymous = rng.random() < 0.25
        author = rng.choice(pool).id
        recent = union.end - created < timedelta(days=10)
        draw = rng.random()
        status = (
            SuggestionStatus.OPEN
            if recent or draw < 0.1
            else SuggestionStatus.ANSWERED
            if draw < 0.75
            else SuggestionStatus.CLOSED
        )
        answered = closed = None
        entries: list[tuple[str, datetime, int | None, str | None]] = []
        if status != SuggestionStatus.OPEN:
            wait = rng.choice((1, 2, 3, 4, 5, 6, 7, 7, 10, 14, 20, 35))
            answered = min(created + timedelta(days=wait, hours=rng.randint(0, 5)), union.end)
            entries.append(
                (
                    EntryKind.REPLY,
                    answered,
                    rng.choice(union.committee),
                    "已转相关部门办理，答复如下：……",
                )
            )
            if rng.random() < 0.1:
                entries.append((EntryKind.FOLLOWUP, answered + ONE_DAY, None, "请问何时落实？"))
        if status == SuggestionStatus.CLOSED and answered is not None:
            closed = min(answered + timedelta(days=rng.randint(1, 10)), union.end)
            if rng.random() < 0.5:
                entries.append((EntryKind.RESOLVED, closed - timedelta(hours=1), None, None))
            entries.append((EntryKind.CLOSED, closed, rng.choice(union.committee), None))
        await write.add(
            "suggestion",
            {
                "id": suggestion_id,
                "organization_id": union.org_id,
                "year": year,
                "seq": seq,
                "category_id": rng.randint(1, categories),
                "body": f"关于{rng.choice(TOPICS)}的意见：" + PARAGRAPH.format(rng.choice(TOPICS)),
                "anonymous": anonymous,
                "author_member_id": None if anonymous else author,
                "reply_token": f"sealed:{_token(rng)}" if anonymous else None,
                "client_token": _token(rng),
                "status": status,
                "version": len(entries),
                "created_at": created,
                "updated_at": closed or answered or created,
                "answered_at": answered,
                "answered_by_member_id": entries[0][2] if answered else None,
                "closed_at": closed,
                "closed_by_member_id": entries[-1][2] if closed else None,
                "published_at": answered
                if answered and not anonymous and rng.random() < 0.2
                else None,
            },
        )
        for kind, at, committee, body in entries:
            await write.add(
                "suggestion_entry",
                {
                    "id": write.next_id("suggestion_entry"),
                    "suggestion_id": suggestion_id,
                    "kind": kind,
                    "body": body,
                    "committee_member_id": committee,
                    "created_at": at,
                },
            )


def _proposal_status(rng: random.Random, old: bool) -> ProposalStatus:
    draw = rng.random()
    if draw < 0.08:
        return ProposalStatus.NOT_FILED
    if draw < 0.11:
        return ProposalStatus.CONVERTED
    if draw < 0.13:
        return ProposalStatus.WITHDRAWN
    if old:
        return ProposalStatus.CLOSED if draw < 0.85 else ProposalStatus.ANSWERED
    return rng.choices(
        (
            ProposalStatus.CLOSED,
            ProposalStatus.ANSWERED,
            ProposalStatus.ASSIGNED,
            ProposalStatus.FILED,
        ),
        weights=(60, 30, 6, 4),
    )[0]


async def _congress(union: Union, year: int, pool: Sequence[Person]) -> None:
    rng, write = union.rng, union.writer
    session_id = write.next_id("congress_session")
    opens = date(year, 3, 10)
    await write.add(
        "congress_session",
        {
            "id": session_id,
            "organization_id": union.org_id,
            "name": f"第{year - 2000}届教代会第一次会议",
            "opens_on": opens,
            "closes_on": opens + timedelta(days=14),
            "reply_days": 30,
            "min_cosigners": 2,
            "filers": Filers.REPRESENTATIVES,
            "created_at": moment(opens - timedelta(days=20)),
        },
    )
    alive = {p.id for p in pool}
    proposers = [m for m in union.representatives if m in alive] or [p.id for p in pool[:5]]
    collected = round(0.12 * len(pool))
    merged = round(collected * 0.4)
    survivors: list[int] = []
    number = 0
    for index in range(collected):
        number += 1
        is_merged = index >= collected - merged and bool(survivors)
        status = (
            ProposalStatus.MERGED if is_merged else _proposal_status(rng, year < union.last_year)
        )
        proposal_id = write.next_id("proposal")
        proposer = rng.choice(proposers)
        submitted = moment(opens + timedelta(days=rng.randrange(14)), rng.randint(8, 20))
        decided = submitted + timedelta(days=rng.randint(3, 10))
        assigned = decided + timedelta(days=rng.randint(1, 3))
        answered_at = assigned + timedelta(days=rng.randint(5, 30))
        closed = answered_at + timedelta(days=rng.randint(7, 30))
        reached = {
            ProposalStatus.FILED: 1,
            ProposalStatus.ASSIGNED: 2,
            ProposalStatus.ANSWERED: 3,
            ProposalStatus.CLOSED: 4,
        }.get(status, 0)
        implementation = (
            rng.choices(list(Implementation), weights=(55, 25, 12, 8))[0] if reached >= 3 else None
        )
        if reached >= 1:
            survivors.append(proposal_id)
        topic = rng.choice(TOPICS)
        await write.add(
            "proposal",
            {
                "id": proposal_id,
                "organization_id": union.org_id,
                "session_id": session_id,
                "number": number,
                "proposer_member_id": proposer,
                "title": f"关于改善{topic}的提案",
                "reasons": PARAGRAPH.format(topic) * 2,
                "measures": MEASURE.format(topic),
                "category": rng.choice(list(ProposalCategory)),
                "client_token": _token(rng),
                "status": status,
                "version": reached + 1,
                "rounds": 1 if reached >= 2 else 0,
                "decided_by_member_id": union.chair if status != ProposalStatus.WITHDRAWN else None,
                "decision_reason": "不属于教代会提案范围"
                if status in (ProposalStatus.NOT_FILED, ProposalStatus.CONVERTED)
                else None,
                "merged_into_id": rng.choice(survivors) if is_merged else None,
                "excellent": status == ProposalStatus.CLOSED and rng.random() < 0.05,
                "reply_due": (assigned + timedelta(days=30)).astimezone(ZONE).date()
                if reached >= 2
                else None,
                "closing_note": "已办结" if reached == 4 else None,
                "submitted_at": submitted,
                "decided_at": decided if status != ProposalStatus.WITHDRAWN else None,
                "assigned_by_member_id": union.chair if reached >= 2 else None,
                "assigned_at": assigned if reached >= 2 else None,
                "closed_by_member_id": union.chair if reached == 4 else None,
                "closed_at": closed if reached == 4 else None,
                "implementation": implementation,
                "implementation_reason": "经费不足，列入明年预算"
                if implementation == Implementation.CANNOT
                else None,
                "created_at": submitted - timedelta(days=2),
            },
        )
        cosigners = rng.sample(proposers, k=min(2, len(proposers)))
        for signer in cosigners:
            if signer != proposer:
                await write.add(
                    "proposal_signer",
                    {
                        "proposal_id": proposal_id,
                        "member_id": signer,
                        "coauthor": False,
                        "signed_at": submitted - timedelta(hours=3),
                    },
                )
        if reached < 2:
            continue
        office = rng.randint(1, len(OFFICES))
        await write.add(
            "proposal_assignment",
            {"proposal_id": proposal_id, "department_id": office, "lead": True},
        )
        if reached < 3:
            continue
        handler = rng.choice(union.committee)
        await write.add(
            "proposal_answer",
            {
                "id": write.next_id("proposal_answer"),
                "proposal_id": proposal_id,
                "round": 1,
                "body": f"经研究，{topic}问题将按以下步骤解决：……",
                "answered_by_member_id": handler,
                "created_at": answered_at,
            },
        )
        await write.add(
            "proposal_implementation",
            {
                "id": write.next_id("proposal_implementation"),
                "proposal_id": proposal_id,
                "round": 1,
                "status": implementation,
                "reason": "经费不足，列入明年预算"
                if implementation == Implementation.CANNOT
                else None,
                "member_id": handler,
                "with_answer": True,
                "created_at": answered_at,
            },
        )
        if rng.random() < 0.8:
            await write.add(
                "proposal_rating",
                {
                    "proposal_id": proposal_id,
                    "round": 1,
                    "member_id": proposer,
                    "rating": rng.choices(list(Rating), weights=(70, 22, 8))[0],
                    "comment": None,
                    "created_at": answered_at + timedelta(days=2),
                },
            )


def _entry(
    ledger: list[dict[str, Any]], kind: str, at: datetime, actor: int, **values: Any
) -> None:
    """One ledger row of a case, in the order the steps happened."""
    ledger.append(
        {
            "kind": kind,
            "actor_member_id": actor,
            "amount": values.get("amount"),
            "note": values.get("note"),
            "paid_on": values.get("paid_on"),
            "method": values.get("method"),
            "created_at": at,
        }
    )


def _aid_subjects(union: Union, pool: Sequence[Person], aid_type: AidType, count: int) -> list[int]:
    """Who a year's cases of one type are for: births for younger women, retirement aid for
    retirees, hardship aid for families on file; never a committee member (they decide)."""
    people = [p for p in pool if p.id > union.base + STAFF]
    if aid_type == AidType.CHILDBIRTH:
        people = [p for p in people if p.female and not p.retired] or people
    elif aid_type == AidType.RETIREMENT:
        people = [p for p in people if p.retired] or people
    elif aid_type == AidType.HARDSHIP:
        on_file = [p for p in people if p.id in union.on_file]
        people = on_file if len(on_file) >= count else people
    chosen = union.rng.sample(people, k=min(count, len(people)))
    return [p.id for p in chosen]


async def _aid(union: Union, year: int, pool: Sequence[Person]) -> None:
    rng, write, made = union.rng, union.writer, union.writer.made
    scale = len(pool) / 300
    cases: list[tuple[AidType, int]] = []
    for aid_type, per_school in AID_MIX.items():
        count = max(1, round(per_school * scale * rng.uniform(0.8, 1.2)))
        cases += [(aid_type, subject) for subject in _aid_subjects(union, pool, aid_type, count)]
    cases.sort(key=lambda _case: rng.random())
    filed_days = sorted(union.day(year) for _case in cases)
    for seq, ((aid_type, subject), filed) in enumerate(zip(cases, filed_days, strict=True), 1):
        case_id = write.next_id("aid_case")
        created = moment(filed, rng.randint(8, 20), rng.randrange(60))
        reported = aid_type in REPORTABLE and rng.random() < 0.15
        requester = rng.choice(pool).id if reported else subject
        if requester == subject or requester <= union.base + STAFF:
            requester, reported = subject, False
        standard = DEFAULT_STANDARDS[aid_type].amount
        amount = standard if aid_type != AidType.ILLNESS else rng.choice((2000, 3000, 5000)) * 100
        recent = union.end - created < timedelta(days=20)
        draw = rng.random()
        status = (
            rng.choice((CaseStatus.OPEN, CaseStatus.APPROVED, CaseStatus.PAID))
            if recent
            else CaseStatus.REJECTED
            if draw < 0.04
            else CaseStatus.WITHDRAWN
            if draw < 0.07
            else CaseStatus.PAID
        )
        ledger: list[dict[str, Any]] = []
        entry = partial(_entry, ledger)
        entry(LedgerKind.REPORTED if reported else LedgerKind.REQUESTED, created, requester)
        at = created
        if status != CaseStatus.OPEN and rng.random() < 0.05:
            entry(
                LedgerKind.INFO_ASKED,
                at + timedelta(hours=20),
                rng.choice(union.committee),
                note="请补充病历",
            )
            at += timedelta(days=2)
            entry(LedgerKind.INFO_GIVEN, at, requester, note="已补充")
        approver = union.chair if amount > 1000 * 100 else rng.choice(union.committee)
        approved_on: date | None = None
        if status == CaseStatus.REJECTED:
            entry(LedgerKind.REJECTED, at + timedelta(days=2), approver, note="不符合慰问标准")
        elif status == CaseStatus.WITHDRAWN:
            entry(LedgerKind.WITHDRAWN, at + timedelta(days=1), requester)
        elif status in (CaseStatus.APPROVED, CaseStatus.PAID):
            at = min(at + timedelta(days=rng.randint(1, 4)), union.end)
            approved_on = at.astimezone(ZONE).date()
            entry(LedgerKind.APPROVAL, at, approver, amount=amount)
            entry(LedgerKind.APPROVED, at, approver, amount=amount)
        if status == CaseStatus.PAID and approved_on is not None:
            paid_on = min(
                approved_on + timedelta(days=rng.randint(0, 10)), date(union.last_year, 12, 31)
            )
            method = rng.choice(("现金", "银行转账"))
            entry(
                LedgerKind.PAID,
                moment(paid_on, 15),
                TREASURER,
                amount=amount,
                paid_on=paid_on,
                method=method,
            )
            key = (paid_on.year, aid_type.value)
            made.paid_cases[key] += 1
            made.paid_fen[key] += amount
            if rng.random() < 0.03:
                change = rng.choice((-5000, 5000, 10000))
                entry(
                    LedgerKind.CORRECTION,
                    moment(paid_on, 17),
                    TREASURER,
                    amount=change,
                    note="金额更正",
                )
                made.paid_fen[key] += change
        await write.add(
            "aid_case",
            {
                "id": case_id,
                "organization_id": union.org_id,
                "number": f"助-{year}-{seq:04d}",
                "aid_type": aid_type,
                "subject_member_id": subject,
                "requester_member_id": requester,
                "reported": reported,
                "description": "住院治疗，需要慰问" if aid_type == AidType.HOSPITAL else "申请帮扶",
                "happened_on": filed - timedelta(days=rng.randint(0, 20)),
                "amount_asked": None,
                "approved_amount": amount if approved_on else None,
                "approved_on": approved_on,
                "status": status,
                "version": len(ledger) - 1,
                "client_token": _token(rng),
                "created_at": created,
            },
        )
        if approved_on is not None:
            await write.add(
                "aid_approval",
                {
                    "id": write.next_id("aid_approval"),
                    "case_id": case_id,
                    "member_id": approver,
                    "amount": amount,
                    "created_at": moment(approved_on, 10),
                },
            )
        for row in ledger:
            await write.add(
                "aid_ledger",
                {
                    "id": write.next_id("aid_ledger"),
                    "organization_id": union.org_id,
                    "case_id": case_id,
                    **row,
                },
            )


def _hardship(union: Union, year: int, pool: Sequence[Person]) -> None:
    """Close some files (the family recovered, or left the union), open new ones; the rows
    are written once every year is decided (`_hardship_rows`). About 2% of the members are on
    file when the first year starts."""
    rng = union.rng
    if year == union.first_year:
        _open_files(union, pool, round(0.02 * len(pool)), year - 1)
    alive = {p.id for p in pool}
    for member_id in [m for m in union.on_file if m not in alive or rng.random() < 0.2]:
        row = union.files[union.on_file.pop(member_id)]
        closed = moment(union.day(year), 11)
        if closed > row["created_at"]:
            row.update(
                status=FileStatus.CLOSED, closing_reason="家庭情况好转，撤档", closed_at=closed
            )
    _open_files(union, pool, max(1, round(0.008 * len(pool))), year)


def _open_files(union: Union, pool: Sequence[Person], count: int, year: int) -> None:
    rng, write = union.rng, union.writer
    candidates = [p for p in pool if p.id > union.base + STAFF and p.id not in union.on_file]
    for person in rng.sample(candidates, k=min(len(candidates), count)):
        file_id = write.next_id("hardship_file")
        day = union.day(year)
        union.on_file[person.id] = file_id
        union.files[file_id] = {
            "id": file_id,
            "organization_id": union.org_id,
            "member_id": person.id,
            "level": HardshipLevel.SPECIAL if rng.random() < 0.2 else HardshipLevel.GENERAL,
            "reason": "家人重病，家庭收入低",
            "review_on": a_year_after(day),
            "status": FileStatus.ACTIVE,
            "closing_reason": None,
            "opened_by_member_id": rng.choice(union.committee),
            "created_at": moment(day, 10),
            "closed_at": None,
        }


async def _hardship_rows(union: Union) -> None:
    """The files as they stand at the end; an open file's next review is after the opening's
    latest anniversary."""
    last_day = date(union.last_year, 12, 31)
    for row in union.files.values():
        while row["status"] == FileStatus.ACTIVE and row["review_on"] <= last_day - timedelta(
            days=30
        ):
            row["review_on"] = a_year_after(row["review_on"])
        await union.writer.add("hardship_file", row)


async def _activities(union: Union, year: int, pool: Sequence[Person]) -> None:
    rng, write = union.rng, union.writer
    categories, weights = zip(*ACTIVITY_MIX.items(), strict=True)
    for _index in range(max(4, round(len(pool) / 15))):
        activity_id = write.next_id("activity")
        category = rng.choices(categories, weights=weights)[0]
        starts = moment(
            union.day(year, school=True), rng.choice((9, 14, 15, 16)), rng.choice((0, 30))
        )
        capacity = None if rng.random() < 0.4 else rng.choice((20, 30, 40, 50, 60, 80, 100, 150))
        lottery = capacity is not None and rng.random() < 0.15
        cancelled = rng.random() < 0.04
        wanted = rng.randint(3, 12) if cancelled else rng.randint(15, 120)
        people = rng.sample(pool, k=min(wanted, len(pool)))
        family_max = 2 if category == ActivityCategory.OUTING else 0
        check_in = not cancelled and starts < union.end and rng.random() < 0.5
        created = starts - timedelta(days=rng.randint(10, 30))
        deadline = starts - timedelta(days=2)
        seats = waiting = 0
        signups = []
        for person in people:
            if rng.random() < 0.06:
                status = SignupStatus.CANCELLED
            elif capacity is None or seats < capacity:
                status = SignupStatus.SEAT
            else:
                status = SignupStatus.WAITLIST
            queue_no = 0
            if status == SignupStatus.SEAT:
                seats += 1
            elif status == SignupStatus.WAITLIST:
                waiting += 1
                queue_no = waiting
            signed = created + (deadline - created) * rng.random()
            checked = (
                starts + timedelta(minutes=rng.randint(-10, 20))
                if check_in and status == SignupStatus.SEAT and rng.random() < 0.85
                else None
            )
            signups.append(
                {
                    "id": write.next_id("signup"),
                    "activity_id": activity_id,
                    "member_id": person.id,
                    "status": status,
                    "queue_no": queue_no if not lottery else (queue_no or seats),
                    "choice": None,
                    "family": rng.randint(0, family_max),
                    "checked_in_at": checked,
                    "created_at": signed,
                }
            )
        state = (
            ActivityStatus.CANCELLED
            if cancelled
            else ActivityStatus.CLOSED
            if lottery or rng.random() < 0.3
            else ActivityStatus.OPEN
        )
        await write.add(
            "activity",
            {
                "id": activity_id,
                "organization_id": union.org_id,
                "title": rng.choice(ACTIVITY_TITLES[category]),
                "description": "欢迎教职工踊跃报名参加。",
                "category": category,
                "starts_at": starts,
                "place": rng.choice(("学校体育馆", "报告厅", "操场", "工会活动室", "校外")),
                "capacity": capacity,
                "deadline": deadline,
                "eligibility": '{"type": "everyone"}',
                "choices": "[]",
                "family_max": family_max,
                "mode": SelectionMode.LOTTERY if lottery else SelectionMode.FIRST_COME,
                "status": state,
                "seats_taken": seats,
                "queue_counter": waiting,
                "drawn": lottery,
                "created_by_member_id": rng.choice(union.committee),
                "created_at": created,
            },
        )
        for row in signups:
            await write.add("signup", row)


async def _broadcast(
    union: Union,
    *,
    key: str,
    kind: BroadcastKind,
    at: datetime,
    recipients: Sequence[int],
) -> None:
    """One broadcast and its outbox rows, as the sender leaves them (sent, a few unreachable)."""
    rng, write = union.rng, union.writer
    broadcast_id = write.next_id("broadcast")
    to_committee = kind == BroadcastKind.TASK
    chats = [union.chat] if to_committee else [TELEGRAM_BASE + m for m in recipients]
    await write.add(
        "broadcast",
        {
            "id": broadcast_id,
            "organization_id": union.org_id,
            # Keys are unique in the whole database: a district's schools each get their own.
            "key": key if union.parent_id is None else f"org{union.org_id}:{key}",
            "kind": kind,
            "total": len(chats),
            "report_chat_id": union.chat if kind == BroadcastKind.ANNOUNCEMENT else None,
            "reported_at": at + timedelta(hours=1) if kind == BroadcastKind.ANNOUNCEMENT else None,
            "created_at": at,
        },
    )
    for chat in chats:
        draw = rng.random()
        status = (
            OutboxStatus.SENT
            if draw < 0.97
            else OutboxStatus.UNREACHABLE
            if draw < 0.985
            else OutboxStatus.WITHHELD
            if draw < 0.995
            else OutboxStatus.FAILED
        )
        sent = status == OutboxStatus.SENT
        await write.add(
            "outbox_message",
            {
                "id": write.next_id("outbox_message"),
                "broadcast_id": broadcast_id,
                "chat_id": chat,
                "member_id": None if to_committee else chat - TELEGRAM_BASE,
                "text": "祝您节日快乐！" if kind == BroadcastKind.GREETING else "工会通知：……",
                "buttons": None,
                "quiet": not to_committee,
                "status": status,
                "attempts": 0 if status == OutboxStatus.WITHHELD else 1,
                "not_before": at,
                "sent_at": at + timedelta(seconds=rng.randint(1, 600)) if sent else None,
                "error": "Forbidden: bot was blocked by the user"
                if status == OutboxStatus.UNREACHABLE
                else None,
                "telegram_message_id": rng.randint(1, 2**31) if sent else None,
            },
        )


async def _messages(union: Union, year: int, pool: Sequence[Person]) -> None:
    rng = union.rng
    everyone = [p.id for p in pool]
    greetings = (
        (1, date(year, 2, 1), everyone),  # 春节
        (2, date(year, 3, 8), [p.id for p in pool if p.female]),
        (3, date(year, 9, 10), everyone),
        (4, date(year, 10, 20), [p.id for p in pool if p.retired]),  # 重阳
    )
    for entry, day, recipients in greetings:
        await _broadcast(
            union,
            key=occurrence_key(entry, day),
            kind=BroadcastKind.GREETING,
            at=moment(day, 8),
            recipients=recipients,
        )
    alive = set(everyone)
    day = date(year, 1, 1)
    while day.year == year:
        born = [m for m in union.birthdays.get((day.month, day.day), ()) if m in alive]
        if born:
            await _broadcast(
                union,
                key=occurrence_key(5, day),
                kind=BroadcastKind.GREETING,
                at=moment(day, 8),
                recipients=born,
            )
        day += ONE_DAY
    departments = sorted({p.department for p in pool})
    for number in range(12):
        department = None if number < 2 else rng.choice(departments)
        recipients = (
            everyone if department is None else [p.id for p in pool if p.department == department]
        )
        await _broadcast(
            union,
            key=f"announce:{year}:{number}",
            kind=BroadcastKind.ANNOUNCEMENT,
            at=moment(union.day(year, school=True), 10),
            recipients=recipients,
        )
    for number in range(20):
        await _broadcast(
            union,
            key=f"task:{year}:{number}",
            kind=BroadcastKind.TASK,
            at=moment(union.day(year), 9),
            recipients=(),
        )


async def _democracy(union: Union, year: int, pool: Sequence[Person]) -> None:
    """Two closed ballots (a congress 表决 and the December survey; their papers are not
    written), notices with objections, and improvement ideas."""
    rng, write = union.rng, union.writer
    ballots = (
        ("教代会决议表决", BallotKind.RESOLUTION, Role.REPRESENTATIVE, date(year, 3, 20)),
        (f"{year}年度会员满意度测评", BallotKind.SATISFACTION, None, date(year, 12, 10)),
    )
    for title, kind, role, day in ballots:
        size = len(union.representatives) if role else len(pool)
        await write.add(
            "ballot",
            {
                "id": write.next_id("ballot"),
                "organization_id": union.org_id,
                "title": title,
                "kind": kind,
                "electorate": json.dumps({"type": "representatives" if role else "everyone"}),
                "items": json.dumps(
                    [{"text": "工会工作总体评价", "free": False}], ensure_ascii=False
                ),
                "max_choices": 1,
                "quorum": "2/3" if role else "",
                "majority": "1/2" if role else "",
                "opens_at": moment(day, 8),
                "closes_at": moment(day + timedelta(days=3), 18),
                "status": BallotStatus.CLOSED,
                "electorate_size": size,
                "groups": "[]",
                "reminders_sent": 2,
                "created_by_member_id": union.chair,
                "created_at": moment(day - timedelta(days=5)),
                "published_at": moment(day + timedelta(days=4)),
                "reported_at": moment(day + timedelta(days=3), 18),
            },
        )
    for seq in range(1, 9):
        notice_id = write.next_id("notice")
        day = union.day(year, school=True)
        status = rng.choices(
            (NoticeStatus.CLEAR, NoticeStatus.HANDLED, NoticeStatus.PENDING), weights=(75, 20, 5)
        )[0]
        await write.add(
            "notice",
            {
                "id": notice_id,
                "organization_id": union.org_id,
                "year": year,
                "seq": seq,
                "kind": rng.choice((NoticeKind.MANUAL, NoticeKind.AID, NoticeKind.PROPOSALS)),
                "title": "关于困难职工补助名单的公示",
                "body": "现将名单予以公示，公示期五个工作日。",
                "file_id": None,
                "file_kind": None,
                "audience": "everyone",
                "starts_on": day,
                "ends_on": day + timedelta(days=6),
                "status": status,
                "channel_chat_id": None,
                "channel_message_id": None,
                "created_by_member_id": union.chair,
                "created_at": moment(day - ONE_DAY, 17),
                "ended_at": moment(day + timedelta(days=7), 9),
            },
        )
        for objection in range(1, 1 + (status != NoticeStatus.CLEAR) * rng.randint(1, 2)):
            anonymous = rng.random() < 0.5
            answered = status == NoticeStatus.HANDLED
            await write.add(
                "notice_objection",
                {
                    "id": write.next_id("notice_objection"),
                    "notice_id": notice_id,
                    "seq": objection,
                    "body": "对名单有异议。",
                    "anonymous": anonymous,
                    "member_id": None if anonymous else rng.choice(pool).id,
                    "reply_token": f"sealed:{_token(rng)}" if anonymous else None,
                    "answer": "已核实。" if answered else None,
                    "answered_by_member_id": union.chair if answered else None,
                    "answered_at": moment(day + timedelta(days=3)) if answered else None,
                    "created_at": moment(day + ONE_DAY, 12),
                },
            )
    for seq in range(1, max(2, round(0.03 * len(pool))) + 1):
        adopted = rng.random() < 0.3
        created = moment(union.day(year, school=True), 20)
        await write.add(
            "idea",
            {
                "id": write.next_id("idea"),
                "organization_id": union.org_id,
                "year": year,
                "seq": seq,
                "author_member_id": rng.choice(pool).id,
                "subject": f"关于{rng.choice(TOPICS)}的合理化建议",
                "problem": PARAGRAPH.format(rng.choice(TOPICS)),
                "proposal": MEASURE.format(rng.choice(TOPICS)),
                "benefit": "提高工作效率，节约经费。",
                "client_token": _token(rng),
                "adopted": adopted,
                "adopted_at": created + timedelta(days=20) if adopted else None,
                "prize_level": rng.randint(1, 3) if adopted and rng.random() < 0.5 else None,
                "created_at": created,
            },
        )


# ---- the whole -----------------------------------------------------------------------------


async def _loading(connection: AsyncConnection, *, sqlite: bool, checked: bool) -> None:
    """Settings of the loading connection only: no waiting for the disk at each commit."""
    if sqlite:
        await connection.exec_driver_sql("PRAGMA synchronous=OFF")
        await connection.exec_driver_sql("PRAGMA cache_size=-262144")
        if not checked:
            await connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    else:
        await connection.exec_driver_sql("SET synchronous_commit TO off")
        if not checked:
            await connection.exec_driver_sql("SET session_replication_role TO replica")
    await connection.commit()


async def _set_sequences(connection: AsyncConnection) -> None:
    """PostgreSQL: the id sequences continue after the given ids (as after normal inserts)."""
    for table in SQLModel.metadata.sorted_tables:
        if "id" not in table.columns:
            continue
        sequence = (
            await connection.execute(
                text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table.name}
            )
        ).scalar()
        if sequence:
            await connection.execute(
                text(
                    f'SELECT setval(:sequence, COALESCE((SELECT max(id) FROM "{table.name}"), 0)'
                    " + 1, false)"
                ),
                {"sequence": sequence},
            )
    await connection.commit()


async def generate(
    url: str,
    *,
    members: int,
    years: int,
    last_year: int = LAST_YEAR,
    seed: int = SEED,
    name: str = "实验中学工会",
    checked: bool = True,
    schools: int = 1,
) -> Made:
    """Fill a migrated, empty database with one union and `years` years up to `last_year`;
    `checked=False` loads without foreign-key checks (faster; the test keeps them on).

    With `schools` > 1: a district union (id 1, no members) and that many schools under it
    (ids 2, 3, ...), each with `members` members and its own records, drawn with its own seed.
    """
    started = time.perf_counter()
    first_year = last_year - years + 1
    made = Made(members=members * schools, years=tuple(range(first_year, last_year + 1)))
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await _loading(connection, sqlite=is_sqlite(url), checked=checked)
            writer = Writer(connection, made)
            parent_id = None
            if schools > 1:
                parent_id = ORG_ID
                created = moment(date(first_year, 1, 1)) - timedelta(days=2000)
                await writer.add(
                    "organization",
                    {  # every key the schools' rows have: executemany takes the first row's
                        "id": ORG_ID,
                        "name": "区教育工会",
                        "committee_chat_id": None,
                        "kind": "district",
                        "parent_id": None,
                        "disclosure_chat_id": None,
                        "created_at": created,
                    },
                )
            for number in range(schools):
                rng = random.Random(seed + number)
                base = number * members
                union = Union(
                    rng,
                    writer,
                    _people(rng, members, first_year, last_year, base),
                    first_year,
                    last_year,
                    org_id=ORG_ID + number + (1 if schools > 1 else 0),
                    base=base,
                    chat=COMMITTEE_CHAT - number,
                    parent_id=parent_id,
                )
                await _union(union, name if schools == 1 else f"第{number + 1:02d}学校工会")
            if not is_sqlite(url):
                await _set_sequences(connection)
            await connection.exec_driver_sql("ANALYZE")
            await connection.commit()
    finally:
        await engine.dispose()
    made.seconds = time.perf_counter() - started
    return made


async def _union(union: Union, name: str) -> None:
    """One union's roster and its years of records."""
    writer = union.writer
    await _settings(union, name)
    await _roster(union)
    for year in range(union.first_year, union.last_year + 1):
        pool = union.pool(year)
        _hardship(union, year, pool)
        await _suggestions(union, year, pool)
        await _congress(union, year, pool)
        await _aid(union, year, pool)
        await _activities(union, year, pool)
        await _messages(union, year, pool)
        await _democracy(union, year, pool)
        await writer.flush()
    await _hardship_rows(union)
    await writer.flush()


def summary(made: Made) -> str:
    """One line: what was written and how fast."""
    biggest = ", ".join(f"{name} {count:,}" for name, count in made.rows.most_common(4))
    return (
        f"{made.members:,} members x {len(made.years)} years: {made.total_rows:,} rows in "
        f"{made.seconds:.1f} s ({made.total_rows / made.seconds:,.0f} rows/s); largest: {biggest}"
    )


async def main_async(members: int, years: int, url: str | None) -> None:
    """Generate into a temporary SQLite file or the given (emptied) PostgreSQL database."""
    with tempfile.TemporaryDirectory() as workdir:
        url = await fresh_database(url, Path(workdir), "report")
        made = await generate(url, members=members, years=years, checked=False)
        print(summary(made))


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--years", type=int, default=1)
    parser.add_argument("--database-url", help="a PostgreSQL database to empty and use")
    args = parser.parse_args()
    asyncio.run(main_async(args.members, args.years, args.database_url))


if __name__ == "__main__":
    main()
