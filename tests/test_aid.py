"""Hardship and care aid (困难帮扶 / 慰问): standards, amounts, cases, the approval rules, payment,
corrections, the append-only ledger and the year's books.

There is no chat UI for aid yet, so the domain functions are driven directly on the real,
migrated database of a running bot. Every call runs in a session of its own and assertions
re-read the rows, so a refusal that left half a change behind would show. Amounts are fen.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

import pytest
from sqlalchemy import event, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, func, select

from models.aid import (
    DEFAULT_MAX_AMOUNT,
    MAX_EVIDENCE,
    AidApproval,
    AidCase,
    AidEvidence,
    AidLedgerEntry,
    AidPolicy,
    AidStandard,
    AidType,
    ApprovalOutcome,
    CaseDraft,
    CaseStatus,
    ChairReason,
    LedgerKind,
    YearLine,
    approve,
    ask_information,
    check_amount,
    correct,
    ensure_standards,
    evidence_of,
    file_case,
    give_information,
    ledger_of,
    mark_paid,
    parse_amount,
    reject,
    set_policy,
    set_standard,
    standard_for,
    withdraw_case,
    year_books,
)
from models.errors import DomainError
from models.members import Actor, MemberStatus, Role, load_actor
from models.organizations import Organization
from tests.support.factories import make_member
from tests.support.harness import BotHarness
from tests.support.updates import Person

T = TypeVar("T")
Status = CaseStatus
Kind = LedgerKind

YUAN = 100
YEAR = 2026
HAPPENED, TODAY = date(2026, 6, 10), date(2026, 6, 15)
LIMIT = 1000 * YUAN  # the default single-approval limit

_telegram_ids = itertools.count(9000)
_tokens = itertools.count(1)


async def refused(key: str, call: Awaitable[object]) -> None:
    """The call is refused with the message key `key`."""
    with pytest.raises(DomainError) as caught:
        await call
    assert caught.value.key == key


def id_of(case: AidCase) -> int:
    """The id of a stored case."""
    assert case.id is not None
    return case.id


async def make_actor(
    bot: BotHarness,
    name: str,
    *roles: Role,
    status: MemberStatus = MemberStatus.ACTIVE,
    org_id: int | None = None,
) -> Actor:
    """A member with roles, loaded the way a handler loads the sender."""
    person = Person(next(_telegram_ids), name)
    org = org_id if org_id is not None else bot.org_id
    await make_member(bot.db, org_id=org, person=person, name=name, roles=roles, status=status)
    async with bot.db() as session:
        actor = await load_actor(session, org_id=org, telegram_user_id=person.id)
    assert actor is not None
    return actor


@dataclass
class Union:
    """A school union: a chair, two committee members, a treasurer and two plain members."""

    bot: BotHarness
    org: int
    chair: Actor
    committee: Actor
    committee2: Actor
    treasurer: Actor
    member: Actor
    colleague: Actor

    async def call(self, function: Callable[..., Awaitable[T]], **arguments: Any) -> T:
        """One domain call of this organization, in a session of its own."""
        async with self.bot.db() as session:
            return await function(session, org_id=self.org, **arguments)

    async def file(
        self,
        actor: Actor | None = None,
        aid_type: AidType = AidType.HOSPITAL,
        *,
        amount: int | None = 250 * YUAN,
        subject: int | None = None,
        happened_on: date = HAPPENED,
        today: date = TODAY,
        token: str | None = None,
        description: str = "因病住院一周，已出院。",
        evidence: tuple[tuple[str, str], ...] = (),
    ) -> AidCase:
        """A confirmed request (by the plain member unless `actor` is given)."""
        draft = CaseDraft(
            aid_type=aid_type,
            description=description,
            happened_on=happened_on,
            amount_asked=amount,
            evidence=evidence,
            client_token=token or f"aid-{next(_tokens)}",
            subject_member_id=subject,
        )
        return await self.call(file_case, actor=actor or self.member, draft=draft, today=today)

    async def approve(self, case_id: int, by: Actor, amount: int) -> ApprovalOutcome:
        """`by` approves `amount`."""
        return await self.call(approve, case_id=case_id, actor=by, amount=amount, today=TODAY)

    async def pay(
        self,
        case_id: int,
        by: Actor | None = None,
        paid_on: date = TODAY,
        today: date = TODAY,
        method: str = "银行转账",
    ) -> AidCase:
        """The treasurer (unless `by` is given) records the payment."""
        return await self.call(
            mark_paid,
            case_id=case_id,
            actor=by or self.treasurer,
            paid_on=paid_on,
            method=method,
            today=today,
        )

    async def stored(self, case_id: int) -> AidCase:
        """The case as the database holds it now."""
        async with self.bot.db() as session:
            case = await session.get(AidCase, case_id)
        assert case is not None
        return case

    async def status(self, case_id: int) -> str:
        """The stored status."""
        return (await self.stored(case_id)).status

    async def approvals(self, case_id: int) -> list[tuple[int, int]]:
        """(member id, amount) of every stored approval."""
        async with self.bot.db() as session:
            rows = (
                await session.exec(select(AidApproval).where(AidApproval.case_id == case_id))
            ).all()
        return sorted((row.member_id, row.amount) for row in rows)

    async def ledger(self, case_id: int) -> list[AidLedgerEntry]:
        """The case's ledger rows, oldest first."""
        async with self.bot.db() as session:
            return list(await ledger_of(session, case_id=case_id))

    async def kinds(self, case_id: int) -> list[str]:
        """The kinds of the case's ledger rows, oldest first."""
        return [row.kind for row in await self.ledger(case_id)]

    async def count(self, table: type[AidCase | AidLedgerEntry | AidStandard]) -> int:
        """Rows of `table` in this organization."""
        async with self.bot.db() as session:
            statement = (
                select(func.count()).select_from(table).where(table.organization_id == self.org)
            )
            return int((await session.exec(statement)).one())


@pytest.fixture
async def union(bot: BotHarness) -> Union:
    """The people of one school's union."""
    return Union(
        bot=bot,
        org=bot.org_id,
        chair=await make_actor(bot, "张主席", Role.CHAIR),
        committee=await make_actor(bot, "刘委员", Role.COMMITTEE),
        committee2=await make_actor(bot, "陈委员", Role.COMMITTEE),
        treasurer=await make_actor(bot, "赵会计", Role.TREASURER),
        member=await make_actor(bot, "王老师"),
        colleague=await make_actor(bot, "孙老师"),
    )


# ---- standards and amounts ---------------------------------------------------------------


async def test_the_default_standards_are_seeded_once(union: Union) -> None:
    await union.call(ensure_standards)
    await union.call(ensure_standards)
    assert await union.count(AidStandard) == len(AidType)

    async def standard(aid_type: AidType) -> tuple[int, int | None, int | None]:
        row = await union.call(standard_for, aid_type=aid_type)
        return (row.amount, row.cap_count, row.cap_total)

    assert await standard(AidType.HOSPITAL) == (250 * YUAN, 1, None)
    assert (await standard(AidType.CHILDBIRTH))[0] == 500 * YUAN
    assert await standard(AidType.HARDSHIP) == (1000 * YUAN, None, 1000 * YUAN)
    assert await union.count(AidStandard) == len(AidType)


async def test_the_chair_changes_a_standard_and_no_one_else_can(union: Union) -> None:
    def change(actor: Actor, amount: int = 300 * YUAN) -> Awaitable[AidStandard]:
        return union.call(
            set_standard,
            actor=actor,
            aid_type=AidType.HOSPITAL,
            amount=amount,
            cap_count=2,
            cap_total=600 * YUAN,
            today=TODAY,
        )

    await refused("aid.chair_only", change(union.member))
    await refused("aid.chair_only", change(union.treasurer))
    await refused("aid.chair_only", change(union.committee))
    await refused("aid.amount_invalid", change(union.chair, amount=0))
    hospital = await union.call(standard_for, aid_type=AidType.HOSPITAL)
    assert (hospital.amount, hospital.cap_count, hospital.cap_total) == (250 * YUAN, 1, None)

    await change(union.chair)
    hospital = await union.call(standard_for, aid_type=AidType.HOSPITAL)
    assert (hospital.amount, hospital.cap_count, hospital.cap_total) == (
        300 * YUAN,
        2,
        600 * YUAN,
    )
    assert await union.count(AidStandard) == len(AidType)


@pytest.mark.parametrize(
    ("typed", "fen"),
    [
        ("250", 25000),
        ("250.5", 25050),
        ("250.05", 25005),
        ("￥1,000", 100000),
        ("1000元", 100000),
        (" ¥ 1，000 元 ", 100000),
        ("250 块", 25000),
        ("三千元", 300000),
        ("1.5万元", 1500000),
    ],
)
def test_amounts_are_read_as_people_type_them(typed: str, fen: int) -> None:
    assert parse_amount(typed) == fen


@pytest.mark.parametrize("typed", ["abc", "-5", "1.234", "", "  ", "元", "1.2.3", "一万亿元"])
def test_nonsense_amounts_are_refused(typed: str) -> None:
    with pytest.raises(DomainError) as caught:
        parse_amount(typed)
    assert caught.value.key == "aid.amount_invalid"


@pytest.mark.parametrize("typed", ["①", "5²"])
def test_digit_like_symbols_are_refused_not_crashed_on(typed: str) -> None:
    with pytest.raises(DomainError) as caught:
        parse_amount(typed)
    assert caught.value.key == "aid.amount_invalid"


def test_zero_and_absurd_amounts_are_refused() -> None:
    policy = AidPolicy(organization_id=1, year=YEAR)
    for amount in (0, -100):
        with pytest.raises(DomainError) as caught:
            check_amount(amount, policy)
        assert caught.value.key == "aid.amount_invalid"
    check_amount(1, policy)
    check_amount(DEFAULT_MAX_AMOUNT, policy)
    with pytest.raises(DomainError) as caught:
        check_amount(DEFAULT_MAX_AMOUNT + 1, policy)
    assert caught.value.key == "aid.amount_absurd"


async def test_an_absurd_amount_asked_is_refused_and_nothing_stored(union: Union) -> None:
    await refused("aid.amount_absurd", union.file(amount=DEFAULT_MAX_AMOUNT + 1))
    await refused("aid.amount_invalid", union.file(amount=0))
    assert await union.count(AidCase) == 0
    assert await union.count(AidLedgerEntry) == 0


# ---- filing ------------------------------------------------------------------------------


async def test_cases_are_numbered_per_year(union: Union) -> None:
    first = await union.file()
    second = await union.file(union.colleague, AidType.CHILDBIRTH)
    next_year = await union.file(today=date(2027, 1, 4), happened_on=date(2027, 1, 2))
    assert [first.number, second.number, next_year.number] == [
        "助-2026-0001",
        "助-2026-0002",
        "助-2027-0001",
    ]
    assert (await union.stored(id_of(second))).number == "助-2026-0002"


async def test_a_request_stores_its_evidence_and_a_requested_ledger_row(union: Union) -> None:
    evidence = (("photo-file-1", "photo"), ("doc-file-2", "document"))
    case = await union.file(evidence=evidence)
    stored = await union.stored(id_of(case))
    assert (stored.status, stored.aid_type, stored.reported) == (
        Status.OPEN,
        AidType.HOSPITAL,
        False,
    )
    assert (stored.subject_member_id, stored.requester_member_id) == (
        union.member.id,
        union.member.id,
    )
    assert (stored.amount_asked, stored.happened_on) == (250 * YUAN, HAPPENED)
    async with union.bot.db() as session:
        files = await evidence_of(session, case_id=id_of(case))
    assert [(row.file_id, row.kind) for row in files] == list(evidence)
    [first] = await union.ledger(id_of(case))
    assert (first.kind, first.actor_member_id, first.amount) == (
        Kind.REQUESTED,
        union.member.id,
        250 * YUAN,
    )


async def test_a_colleagues_report_is_reported_in_the_ledger(union: Union) -> None:
    case = await union.file(union.colleague, amount=None, subject=union.member.id)
    stored = await union.stored(id_of(case))
    assert (stored.subject_member_id, stored.requester_member_id, stored.reported) == (
        union.member.id,
        union.colleague.id,
        True,
    )
    [first] = await union.ledger(id_of(case))
    assert (first.kind, first.actor_member_id, first.amount) == (
        Kind.REPORTED,
        union.colleague.id,
        None,
    )


async def test_the_same_confirmation_twice_is_stored_once(union: Union) -> None:
    await union.file(token="same-confirm", evidence=(("photo-1", "photo"),))
    await refused("aid.already_stored", union.file(token="same-confirm"))
    assert await union.count(AidCase) == 1
    assert await union.count(AidLedgerEntry) == 1
    async with union.bot.db() as session:
        files = (await session.exec(select(func.count()).select_from(AidEvidence))).one()
    assert files == 1


async def test_a_future_date_a_long_description_or_too_many_files_store_nothing(
    union: Union,
) -> None:
    await refused("aid.date_future", union.file(happened_on=date(2026, 6, 16)))
    await refused("input.too_long", union.file(description="长" * 1001))
    await refused("input.empty", union.file(description="  \n "))
    too_many = tuple((f"photo-{n}", "photo") for n in range(MAX_EVIDENCE + 1))
    await refused("aid.too_many_files", union.file(evidence=too_many))
    assert await union.count(AidCase) == 0
    assert await union.count(AidLedgerEntry) == 0
    async with union.bot.db() as session:
        files = (await session.exec(select(func.count()).select_from(AidEvidence))).one()
    assert files == 0
    case = await union.file(happened_on=TODAY, description="长" * 1000)
    assert (await union.stored(id_of(case))).happened_on == TODAY


async def test_a_report_about_someone_not_an_active_member_here_is_refused(
    union: Union,
) -> None:
    inactive = await make_actor(union.bot, "离校老师", status=MemberStatus.INACTIVE)
    pending = await make_actor(union.bot, "新老师", status=MemberStatus.PENDING)
    async with union.bot.db() as session:
        neighbour = Organization(name="隔壁学校工会")
        session.add(neighbour)
        await session.commit()
    assert neighbour.id is not None
    outsider = await make_actor(union.bot, "外校老师", org_id=neighbour.id)
    for subject in (987654, inactive.id, pending.id, outsider.id):
        await refused("aid.subject_unknown", union.file(union.colleague, subject=subject))
    assert await union.count(AidCase) == 0
    assert await union.count(AidLedgerEntry) == 0


async def test_a_report_of_a_type_colleagues_cannot_report_is_refused(union: Union) -> None:
    for aid_type in (AidType.CHILDBIRTH, AidType.HARDSHIP, AidType.RETIREMENT):
        await refused(
            "aid.not_reportable", union.file(union.colleague, aid_type, subject=union.member.id)
        )
    assert await union.count(AidCase) == 0
    reported = await union.file(union.colleague, AidType.BEREAVEMENT, subject=union.member.id)
    assert (await union.stored(id_of(reported))).reported


# ---- approving ---------------------------------------------------------------------------


async def test_one_committee_approval_is_enough_up_to_the_limit(union: Union) -> None:
    case = id_of(await union.file(aid_type=AidType.DISASTER, amount=LIMIT))
    outcome = await union.approve(case, union.committee, LIMIT)
    assert (outcome.approved, outcome.reasons, outcome.approvals) == (True, (), 1)
    stored = await union.stored(case)
    assert (stored.status, stored.approved_amount) == (Status.APPROVED, LIMIT)
    rows = await union.ledger(case)
    assert [(row.kind, row.actor_member_id, row.amount) for row in rows[1:]] == [
        (Kind.APPROVAL, union.committee.id, LIMIT),
        (Kind.APPROVED, union.committee.id, LIMIT),
    ]


async def test_above_the_limit_two_committee_approvals_of_the_same_amount(union: Union) -> None:
    amount = LIMIT + 1
    case = id_of(await union.file(aid_type=AidType.DISASTER, amount=amount))
    first = await union.approve(case, union.committee, amount)
    assert (first.approved, first.reasons, first.approvals) == (
        False,
        (ChairReason.OVER_THRESHOLD,),
        1,
    )
    assert await union.status(case) == Status.OPEN
    assert (await union.stored(case)).approved_amount is None
    second = await union.approve(case, union.committee2, amount)
    assert (second.approved, second.approvals) == (True, 2)
    stored = await union.stored(case)
    assert (stored.status, stored.approved_amount) == (Status.APPROVED, amount)
    assert await union.kinds(case) == [Kind.REQUESTED, Kind.APPROVAL, Kind.APPROVAL, Kind.APPROVED]


async def test_a_second_approval_of_a_different_amount_does_not_approve(union: Union) -> None:
    case = id_of(await union.file(aid_type=AidType.DISASTER, amount=2000 * YUAN))
    await union.approve(case, union.committee, 2000 * YUAN)
    outcome = await union.approve(case, union.committee2, 1500 * YUAN)
    assert (outcome.approved, outcome.reasons, outcome.approvals) == (
        False,
        (ChairReason.OVER_THRESHOLD,),
        1,
    )
    assert await union.status(case) == Status.OPEN
    assert await union.approvals(case) == sorted(
        [(union.committee.id, 2000 * YUAN), (union.committee2.id, 1500 * YUAN)]
    )
    assert Kind.APPROVED not in await union.kinds(case)


async def test_the_chair_alone_approves_above_the_limit(union: Union) -> None:
    case = id_of(await union.file(aid_type=AidType.BEREAVEMENT, amount=10000 * YUAN))
    outcome = await union.approve(case, union.chair, 10000 * YUAN)
    assert outcome.approved
    stored = await union.stored(case)
    assert (stored.status, stored.approved_amount) == (Status.APPROVED, 10000 * YUAN)


async def test_the_same_person_approving_twice_is_one_approval(union: Union) -> None:
    case = id_of(await union.file(aid_type=AidType.DISASTER, amount=2000 * YUAN))
    await union.approve(case, union.committee, 2000 * YUAN)
    await refused("aid.approved_already", union.approve(case, union.committee, 2000 * YUAN))
    assert await union.approvals(case) == [(union.committee.id, 2000 * YUAN)]
    assert await union.status(case) == Status.OPEN
    assert await union.kinds(case) == [Kind.REQUESTED, Kind.APPROVAL]


async def test_a_second_hospital_visit_in_a_year_needs_the_chair(union: Union) -> None:
    first = id_of(await union.file(happened_on=date(2026, 2, 1)))
    assert (await union.approve(first, union.committee, 250 * YUAN)).approved

    second = id_of(await union.file(happened_on=date(2026, 6, 1)))
    outcome = await union.approve(second, union.committee, 250 * YUAN)
    assert (outcome.approved, outcome.reasons) == (False, (ChairReason.COUNT_CAP,))
    outcome = await union.approve(second, union.committee2, 250 * YUAN)
    assert (outcome.approved, outcome.approvals) == (False, 2)
    assert await union.status(second) == Status.OPEN
    assert (await union.approve(second, union.chair, 250 * YUAN)).approved
    assert await union.status(second) == Status.APPROVED

    # Another member's visit, and the same member's visit next year, are not capped.
    other = id_of(await union.file(union.colleague))
    assert (await union.approve(other, union.committee, 250 * YUAN)).approved
    # (Caps count by the year of the decision: this one is decided in 2027.)
    next_year = id_of(await union.file(happened_on=date(2027, 1, 5), today=date(2027, 1, 6)))
    decided = await union.call(
        approve, case_id=next_year, actor=union.committee, amount=250 * YUAN, today=date(2027, 1, 6)
    )
    assert decided.approved


async def test_hardship_over_the_yearly_total_needs_the_chair(union: Union) -> None:
    first = id_of(await union.file(union.member, AidType.HARDSHIP, amount=600 * YUAN))
    assert (await union.approve(first, union.committee, 600 * YUAN)).approved
    second = id_of(await union.file(union.member, AidType.HARDSHIP, amount=500 * YUAN))
    outcome = await union.approve(second, union.committee, 500 * YUAN)
    assert (outcome.approved, outcome.reasons) == (False, (ChairReason.TOTAL_CAP,))
    assert not (await union.approve(second, union.committee2, 500 * YUAN)).approved
    assert await union.status(second) == Status.OPEN
    assert (await union.approve(second, union.chair, 500 * YUAN)).approved
    # Exactly up to the total is one committee approval.
    third = id_of(await union.file(union.colleague, AidType.HARDSHIP, amount=1000 * YUAN))
    assert (await union.approve(third, union.committee, 1000 * YUAN)).approved


async def test_an_approval_over_the_budget_left_needs_the_chair(union: Union) -> None:
    def budget(actor: Actor) -> Awaitable[AidPolicy]:
        return union.call(set_policy, actor=actor, year=YEAR, budget=1500 * YUAN)

    await refused("aid.chair_only", budget(union.committee))
    await refused(
        "aid.amount_invalid", union.call(set_policy, actor=union.chair, year=YEAR, budget=0)
    )
    await budget(union.chair)

    first = id_of(await union.file(union.member, AidType.DISASTER, amount=1000 * YUAN))
    assert (await union.approve(first, union.committee, 1000 * YUAN)).approved
    second = id_of(await union.file(union.colleague, AidType.DISASTER, amount=600 * YUAN))
    outcome = await union.approve(second, union.committee, 600 * YUAN)
    assert (outcome.approved, outcome.reasons) == (False, (ChairReason.OVER_BUDGET,))
    assert not (await union.approve(second, union.committee2, 600 * YUAN)).approved
    assert await union.status(second) == Status.OPEN
    assert (await union.approve(second, union.chair, 600 * YUAN)).approved
    # What remains (none now) is checked again for the next case.
    third = id_of(await union.file(union.chair, AidType.DISASTER, amount=100 * YUAN))
    outcome = await union.approve(third, union.committee, 100 * YUAN)
    assert outcome.reasons == (ChairReason.OVER_BUDGET,)


async def test_no_one_decides_a_case_they_asked_for_reported_or_are_the_subject_of(
    union: Union,
) -> None:
    own = id_of(await union.file(union.committee, AidType.DISASTER, amount=500 * YUAN))
    # committee2 reports that the committee member is in hospital.
    report = id_of(await union.file(union.committee2, subject=union.committee.id))
    cases = ((own, union.committee), (report, union.committee), (report, union.committee2))
    for case, actor in cases:
        await refused("aid.conflict_of_interest", union.approve(case, actor, 500 * YUAN))
        await refused(
            "aid.conflict_of_interest",
            union.call(reject, case_id=case, actor=actor, reason="不符合条件"),
        )
        await refused(
            "aid.conflict_of_interest",
            union.call(ask_information, case_id=case, actor=actor, question="请补充病历"),
        )
    for case in (own, report):
        assert await union.status(case) == Status.OPEN
        assert await union.approvals(case) == []
        assert len(await union.kinds(case)) == 1
    # A plain member decides nothing.
    await refused("desk.not_committee", union.approve(own, union.member, 500 * YUAN))
    await refused("desk.not_committee", union.approve(own, union.treasurer, 500 * YUAN))
    assert (await union.approve(own, union.chair, 500 * YUAN)).approved


async def test_a_decided_case_cannot_be_decided_again(union: Union) -> None:
    approved = id_of(await union.file())
    await union.approve(approved, union.committee, 250 * YUAN)
    rejected = id_of(await union.file(union.colleague))
    stored = await union.call(reject, case_id=rejected, actor=union.committee, reason="重复申请")
    assert stored.status == Status.REJECTED
    assert [(row.kind, row.note) for row in (await union.ledger(rejected))[1:]] == [
        (Kind.REJECTED, "重复申请")
    ]
    for case in (approved, rejected):
        before = await union.kinds(case)
        await refused("aid.already_decided", union.approve(case, union.committee2, 250 * YUAN))
        await refused(
            "aid.already_decided",
            union.call(reject, case_id=case, actor=union.committee2, reason="再议"),
        )
        await refused(
            "aid.already_decided",
            union.call(ask_information, case_id=case, actor=union.committee2, question="请补充"),
        )
        assert await union.kinds(case) == before
    assert (await union.stored(approved)).status == Status.APPROVED
    assert (await union.stored(rejected)).status == Status.REJECTED
    assert await union.approvals(rejected) == []


# ---- approving at the same moment --------------------------------------------------------


async def test_two_committee_members_approving_at_once_approve_exactly_once(
    union: Union,
) -> None:
    await union.call(ensure_standards)
    amount = 3000 * YUAN
    case = id_of(await union.file(aid_type=AidType.DISASTER, amount=amount))
    results = await asyncio.gather(
        union.approve(case, union.committee, amount),
        union.approve(case, union.committee2, amount),
        return_exceptions=True,
    )
    assert all(isinstance(result, ApprovalOutcome) for result in results), results
    stored = await union.stored(case)
    assert (stored.status, stored.approved_amount) == (Status.APPROVED, amount)
    assert await union.approvals(case) == sorted(
        [(union.committee.id, amount), (union.committee2.id, amount)]
    )
    kinds = await union.kinds(case)
    assert (kinds.count(Kind.APPROVAL), kinds.count(Kind.APPROVED)) == (2, 1)


async def test_one_person_approving_twice_at_once_is_one_approval(union: Union) -> None:
    await union.call(ensure_standards)
    amount = 3000 * YUAN
    case = id_of(await union.file(aid_type=AidType.DISASTER, amount=amount))
    results = await asyncio.gather(
        union.approve(case, union.committee, amount),
        union.approve(case, union.committee, amount),
        return_exceptions=True,
    )
    assert [r.key for r in results if isinstance(r, DomainError)] == ["aid.approved_already"]
    assert await union.approvals(case) == [(union.committee.id, amount)]
    assert await union.kinds(case) == [Kind.REQUESTED, Kind.APPROVAL]
    assert await union.status(case) == Status.OPEN


async def test_an_approval_holds_its_lock_until_it_is_counted(union: Union) -> None:
    """The case row lock only serializes approvals if nothing commits between taking it and
    counting; one commit per approval shows that."""
    await union.call(ensure_standards)
    amount = 3000 * YUAN
    case = id_of(await union.file(aid_type=AidType.DISASTER, amount=amount))
    commits: list[int] = []
    async with union.bot.db() as session:

        def committed(_session: object) -> None:
            commits.append(1)

        event.listen(session.sync_session, "after_commit", committed)
        await approve(
            session,
            org_id=union.org,
            case_id=case,
            actor=union.committee,
            amount=amount,
            today=TODAY,
        )
    assert len(commits) == 1


# ---- information and withdrawing ---------------------------------------------------------


async def test_asking_and_giving_information(union: Union) -> None:
    report = id_of(await union.file(union.colleague, subject=union.member.id))
    asked = await union.call(
        ask_information, case_id=report, actor=union.committee, question="住在哪家医院？"
    )
    assert asked.status == Status.INFO_REQUESTED
    # Only the requester (here the reporting colleague) answers; the subject does not.
    for actor in (union.member, union.committee2, union.chair):
        await refused(
            "aid.not_yours",
            union.call(give_information, case_id=report, actor=actor, answer="市一医院"),
        )
    assert await union.status(report) == Status.INFO_REQUESTED
    given = await union.call(
        give_information, case_id=report, actor=union.colleague, answer="市一医院"
    )
    assert given.status == Status.OPEN
    await refused(
        "aid.already_decided",
        union.call(give_information, case_id=report, actor=union.colleague, answer="再说一次"),
    )
    rows = await union.ledger(report)
    assert [(row.kind, row.actor_member_id, row.note) for row in rows] == [
        (Kind.REPORTED, union.colleague.id, None),
        (Kind.INFO_ASKED, union.committee.id, "住在哪家医院？"),
        (Kind.INFO_GIVEN, union.colleague.id, "市一医院"),
    ]
    # A case waiting for information can still be decided.
    await union.call(ask_information, case_id=report, actor=union.committee, question="出院了吗？")
    assert (await union.approve(report, union.committee2, 250 * YUAN)).approved


async def test_only_the_requester_withdraws_and_only_before_a_decision(union: Union) -> None:
    case = id_of(await union.file())
    for actor in (union.colleague, union.committee, union.chair):
        await refused("aid.not_yours", union.call(withdraw_case, case_id=case, actor=actor))
    assert await union.status(case) == Status.OPEN
    withdrawn = await union.call(withdraw_case, case_id=case, actor=union.member)
    assert withdrawn.status == Status.WITHDRAWN
    assert await union.kinds(case) == [Kind.REQUESTED, Kind.WITHDRAWN]
    await refused("aid.already_decided", union.approve(case, union.committee, 250 * YUAN))

    approved = id_of(await union.file())
    await union.approve(approved, union.committee, 250 * YUAN)
    await refused(
        "aid.already_decided", union.call(withdraw_case, case_id=approved, actor=union.member)
    )
    assert await union.status(approved) == Status.APPROVED


# ---- paying and correcting ---------------------------------------------------------------


async def test_only_the_treasurer_or_the_chair_pays_an_approved_case_once(union: Union) -> None:
    case = id_of(await union.file())
    await refused("aid.already_decided", union.pay(case))  # not approved yet
    await union.approve(case, union.committee, 250 * YUAN)
    for actor in (union.committee, union.member, union.colleague):
        await refused("aid.treasurer_only", union.pay(case, by=actor))
    await refused("aid.date_future", union.pay(case, paid_on=date(2026, 6, 16)))
    assert await union.status(case) == Status.APPROVED

    paid = await union.pay(case, paid_on=date(2026, 6, 12), method="现金")
    assert paid.status == Status.PAID
    await refused("aid.already_decided", union.pay(case))
    await refused("aid.already_decided", union.pay(case, by=union.chair))
    rows = await union.ledger(case)
    assert [row.kind for row in rows] == [Kind.REQUESTED, Kind.APPROVAL, Kind.APPROVED, Kind.PAID]
    assert (rows[-1].actor_member_id, rows[-1].amount, rows[-1].paid_on, rows[-1].method) == (
        union.treasurer.id,
        250 * YUAN,
        date(2026, 6, 12),
        "现金",
    )

    by_chair = id_of(await union.file(union.colleague))
    await union.approve(by_chair, union.committee, 200 * YUAN)
    await union.pay(by_chair, by=union.chair)
    [last] = (await union.ledger(by_chair))[-1:]
    assert (last.kind, last.actor_member_id, last.amount) == (Kind.PAID, union.chair.id, 200 * YUAN)


async def test_a_correction_is_a_new_ledger_row_on_a_paid_case(union: Union) -> None:
    case = id_of(await union.file())
    await union.approve(case, union.committee, 250 * YUAN)

    async def correction(actor: Actor, change: int = -50 * YUAN) -> AidLedgerEntry:
        outcome = await union.call(
            correct, case_id=case, actor=actor, change=change, note="多付了50元", today=TODAY
        )
        return outcome.entry

    await refused("aid.not_paid", correction(union.treasurer))
    await union.pay(case)
    await refused("aid.treasurer_only", correction(union.committee))
    await refused("aid.amount_invalid", correction(union.treasurer, change=0))
    before = await union.ledger(case)
    entry = await correction(union.treasurer)
    assert (entry.kind, entry.amount) == (Kind.CORRECTION, -50 * YUAN)
    rows = await union.ledger(case)
    assert rows[: len(before)] == before
    assert [(r.kind, r.actor_member_id, r.amount, r.note) for r in rows[len(before) :]] == [
        (Kind.CORRECTION, union.treasurer.id, -50 * YUAN, "多付了50元")
    ]
    stored = await union.stored(case)
    assert (stored.status, stored.approved_amount) == (Status.PAID, 250 * YUAN)


async def test_the_ledger_is_append_only_in_the_database(union: Union) -> None:
    case = id_of(await union.file())
    [entry] = await union.ledger(case)
    assert entry.id is not None

    async with union.bot.db() as session:
        row = await session.get(AidLedgerEntry, entry.id)
        assert row is not None
        row.amount, row.note = 1, "改过"
        session.add(row)
        with pytest.raises(DBAPIError):
            await session.commit()
    async with union.bot.db() as session:
        statement = (
            update(AidLedgerEntry)
            .where(col(AidLedgerEntry.id) == entry.id)
            .values(kind=Kind.PAID, amount=999)
        )
        with pytest.raises(DBAPIError):
            await session.exec(statement)

    [after] = await union.ledger(case)
    assert (after.kind, after.amount, after.note, after.actor_member_id) == (
        Kind.REQUESTED,
        250 * YUAN,
        None,
        union.member.id,
    )
    # Adding rows still works.
    await union.approve(case, union.committee, 250 * YUAN)
    assert len(await union.ledger(case)) == 3


# ---- the year's books --------------------------------------------------------------------


async def test_a_years_books_add_up_like_the_seed_ledger(union: Union) -> None:
    year_end = date(YEAR, 12, 31)
    cases: dict[AidType, list[int]] = {}
    plan = [
        (AidType.HOSPITAL, 16, 250),
        (AidType.CHILDBIRTH, 5, 500),
        (AidType.BEREAVEMENT, 2, 10000),
        (AidType.RETIREMENT, 2, 1000),
        (AidType.HARDSHIP, 6, 1000),
    ]
    for aid_type, times, yuan_each in plan:
        for n in range(times):
            person = await make_actor(union.bot, f"{aid_type}{n}")
            happened = date(YEAR, 1 + n % 12, 10)
            case = id_of(
                await union.file(
                    person, aid_type, amount=yuan_each * YUAN, happened_on=happened, today=year_end
                )
            )
            approver = union.chair if yuan_each * YUAN > LIMIT else union.committee
            assert (await union.approve(case, approver, yuan_each * YUAN)).approved
            await union.pay(case, paid_on=date(YEAR, 12, 1 + n), today=year_end)
            cases.setdefault(aid_type, []).append(case)

    # Approved in December, paid in January: next year's books.
    late = id_of(await union.file(happened_on=date(YEAR, 12, 20), today=date(YEAR, 12, 21)))
    await union.approve(late, union.committee, 250 * YUAN)
    await union.pay(late, paid_on=date(YEAR + 1, 1, 5), today=date(YEAR + 1, 1, 5))
    # Approved, never paid: in no books.
    unpaid = id_of(await union.file(union.colleague, AidType.DISASTER, amount=300 * YUAN))
    await union.approve(unpaid, union.committee, 300 * YUAN)

    expected = [
        YearLine(AidType.BEREAVEMENT, 2, 20000 * YUAN),
        YearLine(AidType.CHILDBIRTH, 5, 2500 * YUAN),
        YearLine(AidType.HARDSHIP, 6, 6000 * YUAN),
        YearLine(AidType.HOSPITAL, 16, 4000 * YUAN),
        YearLine(AidType.RETIREMENT, 2, 2000 * YUAN),
    ]

    async def books(year: int) -> list[YearLine]:
        return sorted(await union.call(year_books, year=year), key=lambda line: line.aid_type)

    assert await books(YEAR) == expected
    assert sum(line.paid for line in await books(YEAR)) == 3_450_000
    assert await books(YEAR + 1) == [YearLine(AidType.HOSPITAL, 1, 250 * YUAN)]
    assert await books(YEAR - 1) == []

    await union.call(
        correct,
        case_id=cases[AidType.HOSPITAL][3],
        actor=union.treasurer,
        change=-50 * YUAN,
        note="重复发放，已退回50元",
        today=year_end,
    )
    after = await books(YEAR)
    assert [line.paid for line in after] == [
        20000 * YUAN,
        2500 * YUAN,
        6000 * YUAN,
        3950 * YUAN,
        2000 * YUAN,
    ]
    assert [line.cases for line in after] == [2, 5, 6, 16, 2]
    assert sum(line.paid for line in after) == 3_445_000
    assert await books(YEAR + 1) == [YearLine(AidType.HOSPITAL, 1, 250 * YUAN)]
