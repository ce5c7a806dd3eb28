"""Staff congress proposals (教代会提案): windows, filing, co-signing, triage, merge, handling,
rating and the session figures.

There is no chat UI for proposals yet, so the domain functions are driven directly on the real,
migrated database of a running bot. Every call runs in a session of its own and assertions
re-read the rows, so a refusal that left half a change behind would show.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

import pytest
from sqlmodel import col, func, select

from models.errors import DomainError
from models.members import Actor, MemberStatus, Role, load_actor
from models.organizations import Organization
from models.proposals import (
    CongressSession,
    Department,
    Figures,
    Filers,
    Implementation,
    Proposal,
    ProposalAnswer,
    ProposalAssignment,
    ProposalRating,
    ProposalStatus,
    Rating,
    add_department,
    answer,
    assign,
    close_by_committee,
    cosign,
    create_draft,
    current_session,
    mark_excellent,
    merge,
    next_session,
    open_session,
    overdue,
    rate,
    session_figures,
    set_department_handler,
    signers_of,
    start_waiting_drafts,
    triage,
    withdraw,
)
from tests.support.factories import make_member
from tests.support.harness import BotHarness
from tests.support.updates import Person

T = TypeVar("T")
Status = ProposalStatus

OPENS, TODAY, CLOSES = date(2027, 3, 1), date(2027, 3, 10), date(2027, 3, 31)
AFTER = date(2027, 4, 1)  # the day after the spring window closed
AUTUMN_OPENS, AUTUMN_CLOSES = date(2027, 9, 1), date(2027, 9, 30)

_telegram_ids = itertools.count(7000)
_tokens = itertools.count(1)


async def refused(key: str, call: Awaitable[object]) -> None:
    """The call is refused with the message key `key`."""
    with pytest.raises(DomainError) as caught:
        await call
    assert caught.value.key == key


def id_of(row: Proposal | Department | CongressSession) -> int:
    """The id of a stored row."""
    assert row.id is not None
    return row.id


@dataclass
class School:
    """A union with a chair, a committee member, five representatives and a plain member."""

    bot: BotHarness
    org: int
    chair: Actor
    committee: Actor
    reps: list[Actor]
    member: Actor

    async def call(self, function: Callable[..., Awaitable[T]], **arguments: Any) -> T:
        """One domain call of this organization, in a session of its own."""
        async with self.bot.db() as session:
            return await function(session, org_id=self.org, **arguments)

    async def window(
        self, opens_on: date = OPENS, closes_on: date = CLOSES, **options: Any
    ) -> CongressSession:
        """A proposal window, opened by the committee unless `actor` is given."""
        options.setdefault("actor", self.committee)
        name = f"第八届教代会第{opens_on.month}次会议"
        return await self.call(
            open_session, name=name, opens_on=opens_on, closes_on=closes_on, **options
        )

    async def draft(
        self, proposer: Actor, *, today: date = TODAY, token: str | None = None
    ) -> Proposal:
        """A confirmed proposal (co-signing starts if a window is open)."""
        return await self.call(
            create_draft,
            actor=proposer,
            title="延长教师午休时间",
            reasons="午休时间太短，教师无法休息。",
            measures="建议午休延长至一小时。",
            client_token=token or f"token-{next(_tokens)}",
            today=today,
        )

    async def cosign(self, pid: int, signer: Actor, today: date = TODAY) -> Proposal:
        """`signer` co-signs."""
        return await self.call(cosign, proposal_id=pid, actor=signer, today=today)

    async def submitted(self, proposer: Actor, *signers: Actor) -> int:
        """A proposal drafted and co-signed by `signers` (enough to submit it)."""
        pid = id_of(await self.draft(proposer))
        for signer in signers:
            await self.cosign(pid, signer)
        assert (await self.stored(pid)).status == Status.SUBMITTED
        return pid

    async def triage(
        self, pid: int, outcome: Status, reason: str | None = None, by: Actor | None = None
    ) -> Proposal:
        """A committee member decides."""
        actor = by or self.committee
        return await self.call(triage, proposal_id=pid, actor=actor, outcome=outcome, reason=reason)

    async def merge(self, survivor: int, merged: list[int], by: Actor | None = None) -> Proposal:
        """The committee merges `merged` into `survivor`."""
        actor = by or self.committee
        return await self.call(merge, survivor_id=survivor, merged_ids=merged, actor=actor)

    async def department(self, name: str, handler: Actor | None = None) -> int:
        """A handling department, with its handler named by the chair."""
        department = await self.call(add_department, actor=self.committee, name=name)
        if handler is not None:
            await self.call(
                set_department_handler,
                actor=self.chair,
                department_id=id_of(department),
                member_id=handler.id,
            )
        return id_of(department)

    async def assign(self, pid: int, lead: int, *co: int, today: date = TODAY) -> Proposal:
        """The committee gives a filed proposal to departments."""
        return await self.call(
            assign,
            proposal_id=pid,
            actor=self.committee,
            lead_department_id=lead,
            co_department_ids=co,
            today=today,
        )

    async def answer(
        self,
        pid: int,
        by: Actor | None = None,
        implementation: Implementation | None = None,
        reason: str | None = None,
    ) -> Proposal:
        """An answer, by the committee unless `by` is given (without a 落实情况 unless given,
        like the answers stored before it was asked)."""
        actor = by or self.committee
        return await self.call(
            answer,
            proposal_id=pid,
            actor=actor,
            body="已落实。",
            implementation=implementation,
            reason=reason,
        )

    async def rate(
        self, pid: int, by: Actor, rating: Rating, comment: str | None = None, today: date = TODAY
    ) -> Proposal:
        """`by` rates the answer."""
        return await self.call(
            rate, proposal_id=pid, actor=by, rating=rating, comment=comment, today=today
        )

    async def close(
        self, pid: int, note: str = "受经费所限，明年解决。", by: Actor | None = None
    ) -> Proposal:
        """The committee closes a proposal."""
        actor = by or self.committee
        return await self.call(close_by_committee, proposal_id=pid, actor=actor, note=note)

    async def stored(self, pid: int) -> Proposal:
        """The proposal as the database holds it now."""
        async with self.bot.db() as session:
            proposal = await session.get(Proposal, pid)
        assert proposal is not None
        return proposal

    async def status(self, pid: int) -> str:
        """The stored status."""
        return (await self.stored(pid)).status

    async def signers(self, pid: int) -> list[tuple[int, bool]]:
        """(member id, co-author?) of every stored signer row."""
        async with self.bot.db() as session:
            rows = await signers_of(session, proposal_id=pid)
        return sorted((row.member_id, row.coauthor) for row in rows)

    async def ratings(self, pid: int) -> list[tuple[int, int, str, str | None]]:
        """(round, member id, rating, comment) of every stored rating."""
        async with self.bot.db() as session:
            statement = select(ProposalRating).where(ProposalRating.proposal_id == pid)
            rows = (await session.exec(statement)).all()
        return sorted((r.round, r.member_id, r.rating, r.comment) for r in rows)

    async def count(self, table: type[Proposal | CongressSession]) -> int:
        """Rows of `table` in this organization."""
        async with self.bot.db() as session:
            statement = (
                select(func.count()).select_from(table).where(table.organization_id == self.org)
            )
            return int((await session.exec(statement)).one())


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


@pytest.fixture
async def school(bot: BotHarness) -> School:
    """The people of one school's union."""
    return School(
        bot=bot,
        org=bot.org_id,
        chair=await make_actor(bot, "张主席", Role.CHAIR),
        committee=await make_actor(bot, "刘委员", Role.COMMITTEE),
        reps=[await make_actor(bot, f"代表{n}", Role.REPRESENTATIVE) for n in range(1, 6)],
        member=await make_actor(bot, "王老师"),
    )


async def answered(school: School, proposer: Actor, *signers: Actor) -> int:
    """A submitted, filed, assigned and answered proposal."""
    pid = await school.submitted(proposer, *signers)
    await school.triage(pid, Status.FILED)
    await school.assign(pid, await school.department(f"部门{pid}"))
    await school.answer(pid)
    return pid


# ---- windows -----------------------------------------------------------------------------


async def test_only_the_committee_opens_a_window_with_sane_dates_and_limits(
    school: School,
) -> None:
    await refused("desk.not_committee", school.window(actor=school.reps[0]))
    await refused("proposal.window_backwards", school.window(opens_on=CLOSES, closes_on=OPENS))
    for days, needed in ((0, 2), (366, 2), (30, -1), (30, 21)):
        await refused(
            "proposal.window_limits", school.window(reply_days=days, min_cosigners=needed)
        )
    assert await school.count(CongressSession) == 0

    congress = await school.window(reply_days=15, min_cosigners=3, filers=Filers.MEMBERS)
    async with school.bot.db() as session:
        stored = await session.get(CongressSession, id_of(congress))
    assert stored is not None
    assert (stored.name, stored.opens_on, stored.closes_on) == (
        "第八届教代会第3次会议",
        OPENS,
        CLOSES,
    )
    assert (stored.reply_days, stored.min_cosigners, stored.filers) == (15, 3, Filers.MEMBERS)


async def test_current_and_next_session_by_date(school: School) -> None:
    spring = id_of(await school.window())
    autumn = id_of(await school.window(AUTUMN_OPENS, AUTUMN_CLOSES))

    async def ids(today: date) -> tuple[int | None, int | None]:
        now = await school.call(current_session, today=today)
        upcoming = await school.call(next_session, today=today)
        return (now.id if now else None, upcoming.id if upcoming else None)

    assert await ids(OPENS - timedelta(days=1)) == (None, spring)
    assert await ids(OPENS) == (spring, autumn)
    assert await ids(CLOSES) == (spring, autumn)
    assert await ids(AFTER) == (None, autumn)
    assert await ids(AUTUMN_CLOSES) == (autumn, None)
    assert await ids(AUTUMN_CLOSES + timedelta(days=1)) == (None, None)


async def test_a_draft_written_after_the_window_closed_is_kept_and_moves_into_the_next(
    school: School,
) -> None:
    """The window closes while a representative is writing: the draft waits for the next."""
    proposer, signer, other = school.reps[:3]
    await school.window()
    pid = id_of(await school.draft(proposer, today=AFTER))
    kept = await school.stored(pid)
    assert (kept.status, kept.session_id, kept.number) == (Status.DRAFT, None, None)
    await refused("proposal.not_cosigning", school.cosign(pid, signer, today=AFTER))
    assert await school.signers(pid) == []

    autumn = await school.window(AUTUMN_OPENS, AUTUMN_CLOSES)
    moved = await school.call(start_waiting_drafts, congress=autumn)
    assert [id_of(p) for p in moved] == [pid]
    kept = await school.stored(pid)
    assert (kept.status, kept.session_id) == (Status.COSIGNING, id_of(autumn))
    await school.cosign(pid, signer, today=AUTUMN_OPENS)
    await school.cosign(pid, other, today=AUTUMN_OPENS)
    kept = await school.stored(pid)
    assert (kept.status, kept.number) == (Status.SUBMITTED, 1)


async def test_a_waiting_draft_is_submitted_at_once_when_no_cosigners_are_needed(
    school: School,
) -> None:
    """create_draft submits at once under min_cosigners=0; a draft moved in must be too."""
    pid = id_of(await school.draft(school.reps[0], today=AFTER))
    autumn = await school.window(AUTUMN_OPENS, AUTUMN_CLOSES, min_cosigners=0)
    await school.call(start_waiting_drafts, congress=autumn)
    stored = await school.stored(pid)
    assert (stored.status, stored.number) == (Status.SUBMITTED, 1)


# ---- who may file ------------------------------------------------------------------------


async def test_representatives_file_by_default_and_a_plain_member_is_refused(
    school: School,
) -> None:
    congress = await school.window()
    await refused("proposal.not_allowed", school.draft(school.member))
    await refused("proposal.not_allowed", school.draft(school.committee))  # not a representative
    assert await school.count(Proposal) == 0

    pid = id_of(await school.draft(school.reps[0]))
    await refused("proposal.not_allowed", school.cosign(pid, school.member))
    stored = await school.stored(pid)
    assert (stored.status, stored.session_id) == (Status.COSIGNING, id_of(congress))
    assert await school.signers(pid) == []


async def test_everyone_files_when_the_session_says_so_but_inactive_members_never(
    school: School,
) -> None:
    await school.window(filers=Filers.MEMBERS, min_cosigners=1)
    gone = await make_actor(
        school.bot, "调离代表", Role.REPRESENTATIVE, status=MemberStatus.INACTIVE
    )
    pid = await school.submitted(school.member, school.committee)
    assert (await school.stored(pid)).proposer_member_id == school.member.id

    await refused("proposal.not_allowed", school.draft(gone))
    other = id_of(await school.draft(school.member))
    await refused("proposal.not_allowed", school.cosign(other, gone))
    assert await school.signers(other) == []
    assert await school.count(Proposal) == 2


# ---- co-signing and numbering ------------------------------------------------------------


async def test_submitted_and_numbered_per_session_once_enough_have_cosigned(
    school: School,
) -> None:
    a, b, c = school.reps[:3]
    await school.window()  # the default: two co-signers
    pid = id_of(await school.draft(a))
    await school.cosign(pid, b)
    stored = await school.stored(pid)
    assert (stored.status, stored.number, stored.submitted_at) == (Status.COSIGNING, None, None)
    await school.cosign(pid, c)
    stored = await school.stored(pid)
    assert (stored.status, stored.number) == (Status.SUBMITTED, 1)
    assert stored.submitted_at is not None
    second, third = await school.submitted(b, a, c), await school.submitted(c, a, b)
    assert [(await school.stored(p)).number for p in (second, third)] == [2, 3]

    autumn = await school.window(AUTUMN_OPENS, AUTUMN_CLOSES)
    fresh = id_of(await school.draft(a, today=AUTUMN_OPENS))
    await school.cosign(fresh, b, today=AUTUMN_OPENS)
    await school.cosign(fresh, c, today=AUTUMN_OPENS)
    stored = await school.stored(fresh)
    assert (stored.session_id, stored.status, stored.number) == (id_of(autumn), Status.SUBMITTED, 1)


async def test_cosigning_refusals_leave_everything_as_it_was(school: School) -> None:
    proposer, first, second, late = school.reps[:4]
    await school.window()
    pid = id_of(await school.draft(proposer))
    await school.cosign(pid, first)
    before = await school.stored(pid)

    await refused("proposal.cosign_own", school.cosign(pid, proposer))
    await refused("proposal.cosigned_already", school.cosign(pid, first))
    await refused("proposal.not_allowed", school.cosign(pid, school.member))
    await refused("proposal.window_closed", school.cosign(pid, second, today=AFTER))
    await refused("proposal.not_found", school.cosign(pid + 1000, second))
    after = await school.stored(pid)
    assert (after.status, after.version, after.number) == (before.status, before.version, None)
    assert await school.signers(pid) == [(first.id, False)]

    await school.cosign(pid, second)  # enough: submitted
    await refused("proposal.not_cosigning", school.cosign(pid, late))
    assert await school.signers(pid) == sorted([(first.id, False), (second.id, False)])
    assert (await school.stored(pid)).number == 1

    gone = id_of(await school.draft(proposer))
    await school.call(withdraw, proposal_id=gone, actor=proposer)
    await refused("proposal.not_cosigning", school.cosign(gone, first))
    assert await school.signers(gone) == []


async def test_a_proposal_of_another_union_is_not_found(school: School) -> None:
    async with school.bot.db() as session:
        organization = Organization(name="隔壁学校工会")
        session.add(organization)
        await session.commit()
    assert organization.id is not None
    chair = await make_actor(school.bot, "外校主席", Role.CHAIR, org_id=organization.id)
    rep = await make_actor(school.bot, "外校代表", Role.REPRESENTATIVE, org_id=organization.id)
    other = School(school.bot, organization.id, chair, chair, [rep], rep)
    await other.window(min_cosigners=1, filers=Filers.MEMBERS)
    await school.window(min_cosigners=1)
    pid = id_of(await other.draft(rep))
    await refused("proposal.not_found", school.cosign(pid, school.reps[0]))
    await other.cosign(pid, chair)
    await refused("proposal.not_found", school.triage(pid, Status.FILED))
    await refused("proposal.not_found", school.call(withdraw, proposal_id=pid, actor=rep))
    assert await school.signers(pid) == [(chair.id, False)]
    assert await school.status(pid) == Status.SUBMITTED


async def test_no_cosigners_needed_submits_at_once_and_a_repeated_token_is_stored_once(
    school: School,
) -> None:
    await school.window(min_cosigners=0)
    first = await school.draft(school.reps[0], token="same-confirm")
    stored = await school.stored(id_of(first))
    assert (stored.status, stored.number) == (Status.SUBMITTED, 1)
    await refused("proposal.already_stored", school.draft(school.reps[0], token="same-confirm"))
    assert await school.count(Proposal) == 1


async def test_two_proposals_completed_at_once_get_different_numbers(school: School) -> None:
    a, b, c, d = school.reps[:4]
    await school.window(min_cosigners=1)
    one, two = id_of(await school.draft(a)), id_of(await school.draft(b))
    await asyncio.gather(school.cosign(one, c), school.cosign(two, d))
    assert {(await school.stored(pid)).number for pid in (one, two)} == {1, 2}


# ---- withdrawing -------------------------------------------------------------------------


async def test_only_the_proposer_withdraws_and_only_before_a_decision(school: School) -> None:
    proposer, signer, stranger = school.reps[:3]
    await school.window(min_cosigners=1)
    cosigning = id_of(await school.draft(proposer))
    await refused(
        "proposal.not_yours", school.call(withdraw, proposal_id=cosigning, actor=stranger)
    )
    assert await school.status(cosigning) == Status.COSIGNING
    await school.call(withdraw, proposal_id=cosigning, actor=proposer)
    assert await school.status(cosigning) == Status.WITHDRAWN

    submitted = await school.submitted(proposer, signer)
    await school.call(withdraw, proposal_id=submitted, actor=proposer)
    assert await school.status(submitted) == Status.WITHDRAWN
    await refused("proposal.already_decided", school.triage(submitted, Status.FILED))

    filed = await school.submitted(proposer, signer)
    await school.triage(filed, Status.FILED)
    await refused(
        "proposal.already_decided", school.call(withdraw, proposal_id=filed, actor=proposer)
    )
    assert await school.status(filed) == Status.FILED


# ---- triage ------------------------------------------------------------------------------


async def test_the_three_triage_outcomes_and_a_reason_for_not_filing(school: School) -> None:
    proposer, signer = school.reps[:2]
    await school.window(min_cosigners=1)
    filed, converted, rejected, other = [await school.submitted(proposer, signer) for _ in "1234"]

    await school.triage(filed, Status.FILED)
    await school.triage(converted, Status.CONVERTED)
    for reason in (None, "", "  \n "):
        await refused("input.empty", school.triage(rejected, Status.NOT_FILED, reason))
    await refused("input.too_long", school.triage(rejected, Status.NOT_FILED, "长" * 501))
    assert await school.status(rejected) == Status.SUBMITTED
    await school.triage(rejected, Status.NOT_FILED, "属于个人诉求，不属于提案范围。")

    for pid, status in ((filed, Status.FILED), (converted, Status.CONVERTED)):
        stored = await school.stored(pid)
        assert (stored.status, stored.decided_by_member_id) == (status, school.committee.id)
        assert stored.decided_at is not None
    stored = await school.stored(rejected)
    assert (stored.status, stored.decision_reason) == (
        Status.NOT_FILED,
        "属于个人诉求，不属于提案范围。",
    )

    await refused("desk.not_committee", school.triage(other, Status.FILED, by=proposer))
    assert await school.status(other) == Status.SUBMITTED


async def test_deciding_twice_gives_one_decision(school: School) -> None:
    await school.window(min_cosigners=1)
    pid = await school.submitted(school.reps[0], school.reps[1])
    await school.triage(pid, Status.FILED)
    await refused("proposal.already_decided", school.triage(pid, Status.NOT_FILED, "重复"))
    stored = await school.stored(pid)
    assert (stored.status, stored.decision_reason) == (Status.FILED, None)


async def test_two_committee_members_deciding_at_once_give_exactly_one_decision(
    school: School,
) -> None:
    await school.window(min_cosigners=1)
    pid = await school.submitted(school.reps[0], school.reps[1])
    deciders = [(school.committee, Status.FILED), (school.chair, Status.NOT_FILED)]
    results = await asyncio.gather(
        *(school.triage(pid, outcome, "同时决定", by=actor) for actor, outcome in deciders),
        return_exceptions=True,
    )
    winners = [i for i, result in enumerate(results) if isinstance(result, Proposal)]
    assert len(winners) == 1, results
    assert [r.key for r in results if isinstance(r, DomainError)] == ["proposal.already_decided"]
    winner, outcome = deciders[winners[0]]
    stored = await school.stored(pid)
    assert (stored.status, stored.decided_by_member_id) == (outcome, winner.id)
    assert stored.version == 2  # submitted once, decided once


# ---- merging -----------------------------------------------------------------------------


async def test_merging_keeps_the_survivor_and_makes_coauthors_once(school: School) -> None:
    a, b, c, d, e = school.reps
    await school.window(filers=Filers.MEMBERS)  # two co-signers each
    survivor = await school.submitted(a, b, c)
    await school.submitted(b, a, c)  # number 2, left alone
    first = await school.submitted(d, e, school.member)
    # e co-signed both merged ones; a, the survivor's own proposer, co-signed one of them.
    second = await school.submitted(school.chair, e, a)

    await school.merge(survivor, [first, second])
    kept = await school.stored(survivor)
    assert (kept.status, kept.number, kept.proposer_member_id) == (Status.SUBMITTED, 1, a.id)
    for pid in (first, second):
        gone = await school.stored(pid)
        assert (gone.status, gone.merged_into_id) == (Status.MERGED, survivor)
        assert gone.decided_by_member_id == school.committee.id
    assert await school.signers(survivor) == sorted(
        [(b.id, False), (c.id, False)]
        + [(who.id, True) for who in (d, e, school.member, school.chair)]
    )


async def test_a_merged_proposer_who_had_cosigned_the_survivor_becomes_a_coauthor(
    school: School,
) -> None:
    """The issue: every proposer and co-signer of the merged ones becomes a co-author (and so
    rates the answer); b co-signed the survivor first, then filed the same thing."""
    a, b, c = school.reps[:3]
    await school.window(min_cosigners=1)
    survivor = await school.submitted(a, b)
    duplicate = await school.submitted(b, c)
    await school.merge(survivor, [duplicate])
    assert await school.signers(survivor) == sorted([(b.id, True), (c.id, True)])


async def test_merging_something_decided_is_refused_and_changes_nothing(school: School) -> None:
    a, b = school.reps[:2]
    await school.window(min_cosigners=1)
    survivor, pending, decided, rejected = [await school.submitted(a, b) for _ in "1234"]
    await school.triage(decided, Status.FILED)
    await school.triage(rejected, Status.NOT_FILED, "不属于提案范围")

    await refused("proposal.already_decided", school.merge(survivor, [pending, decided]))
    await refused("proposal.already_decided", school.merge(rejected, [pending]))
    await refused("proposal.merge_needs_two", school.merge(survivor, [survivor]))
    await refused("desk.not_committee", school.merge(survivor, [pending], by=a))
    stored = await school.stored(pending)
    assert (stored.status, stored.merged_into_id) == (Status.SUBMITTED, None)
    assert await school.status(decided) == Status.FILED
    assert await school.signers(survivor) == [(b.id, False)]


# ---- handling ----------------------------------------------------------------------------


async def test_departments_and_their_handlers(school: School) -> None:
    handler = school.member
    await school.department("总务处")
    await refused("proposal.department_exists", school.department("总务处"))
    await refused(
        "desk.not_committee", school.call(add_department, actor=school.reps[0], name="教务处")
    )
    office = await school.department("教务处")
    await refused(
        "roles.chair_only",
        school.call(
            set_department_handler,
            actor=school.committee,
            department_id=office,
            member_id=handler.id,
        ),
    )
    await school.department("德育处", handler)
    async with school.bot.db() as session:
        rows = (await session.exec(select(Department).order_by(col(Department.id)))).all()
    assert [(d.name, d.handler_member_id) for d in rows] == [
        ("总务处", None),
        ("教务处", None),
        ("德育处", handler.id),
    ]


async def test_assign_and_who_may_answer(school: School) -> None:
    proposer, signer = school.reps[:2]
    lead_handler, co_handler = school.member, school.reps[4]
    await school.window(min_cosigners=1, reply_days=15)
    lead = await school.department("总务处", lead_handler)
    co = await school.department("教务处", co_handler)
    pid = await school.submitted(proposer, signer)
    await refused("proposal.already_decided", school.assign(pid, lead))  # not filed yet
    await school.triage(pid, Status.FILED)
    await refused("proposal.department_unknown", school.assign(pid, lead, 9999))
    assert await school.status(pid) == Status.FILED

    await school.assign(pid, lead, co, lead)
    stored = await school.stored(pid)
    due = TODAY + timedelta(days=15)
    assert (stored.status, stored.rounds, stored.reply_due) == (Status.ASSIGNED, 1, due)
    async with school.bot.db() as session:
        statement = select(ProposalAssignment).where(ProposalAssignment.proposal_id == pid)
        rows = (await session.exec(statement)).all()
    assert sorted((r.department_id, r.lead) for r in rows) == [(lead, True), (co, False)]

    for outsider in (co_handler, proposer, signer):
        await refused("proposal.not_handler", school.answer(pid, by=outsider))
    assert await school.status(pid) == Status.ASSIGNED
    await school.answer(pid, by=lead_handler)
    assert await school.status(pid) == Status.ANSWERED
    await refused("proposal.already_decided", school.answer(pid))

    on_behalf = await school.submitted(proposer, signer)
    await school.triage(on_behalf, Status.FILED)
    await school.assign(on_behalf, co)
    await school.answer(on_behalf)  # the committee answers for the department
    async with school.bot.db() as session:
        answers = (
            await session.exec(select(ProposalAnswer).order_by(col(ProposalAnswer.id)))
        ).all()
    assert [(a.proposal_id, a.round, a.answered_by_member_id) for a in answers] == [
        (pid, 1, lead_handler.id),
        (on_behalf, 1, school.committee.id),
    ]


async def test_rating_closes_or_sends_back_for_another_round(school: School) -> None:
    proposer, signer = school.reps[:2]
    await school.window(min_cosigners=1, reply_days=20)
    happy, fine, unhappy = [await answered(school, proposer, signer) for _ in "123"]

    # A co-signer is not a co-author: only the proposer (and co-authors) rate.
    await refused("proposal.not_yours", school.rate(happy, signer, Rating.SATISFIED))
    await school.rate(happy, proposer, Rating.SATISFIED)
    await school.rate(fine, proposer, Rating.BASIC)
    for pid in (happy, fine):
        stored = await school.stored(pid)
        assert (stored.status, stored.rounds) == (Status.CLOSED, 1)
        assert stored.closed_at is not None
    await refused("proposal.nothing_to_rate", school.rate(happy, proposer, Rating.BASIC))

    for comment in (None, " "):
        await refused("input.empty", school.rate(unhappy, proposer, Rating.DISSATISFIED, comment))
    assert await school.ratings(unhappy) == []
    assert await school.status(unhappy) == Status.ANSWERED
    later = TODAY + timedelta(days=5)
    await school.rate(unhappy, proposer, Rating.DISSATISFIED, "没有具体措施", today=later)
    stored = await school.stored(unhappy)
    due = later + timedelta(days=20)
    assert (stored.status, stored.rounds, stored.reply_due) == (Status.ASSIGNED, 2, due)
    await refused("proposal.nothing_to_rate", school.rate(unhappy, proposer, Rating.SATISFIED))

    await school.answer(unhappy)
    await school.rate(unhappy, proposer, Rating.SATISFIED)
    assert await school.status(unhappy) == Status.CLOSED
    assert await school.ratings(unhappy) == [
        (1, proposer.id, Rating.DISSATISFIED, "没有具体措施"),
        (2, proposer.id, Rating.SATISFIED, None),
    ]
    async with school.bot.db() as session:
        statement = select(ProposalAnswer.round).where(ProposalAnswer.proposal_id == unhappy)
        assert sorted((await session.exec(statement)).all()) == [1, 2]


async def test_a_coauthor_rating_is_recorded_without_changing_the_status(school: School) -> None:
    a, b, c, d = school.reps[:4]
    await school.window(min_cosigners=1)
    survivor = await school.submitted(a, b)
    await school.merge(survivor, [await school.submitted(c, d)])
    await school.triage(survivor, Status.FILED)
    await school.assign(survivor, await school.department("总务处"))
    await school.answer(survivor)

    await school.rate(survivor, c, Rating.DISSATISFIED, "不够具体")
    stored = await school.stored(survivor)
    assert (stored.status, stored.rounds) == (Status.ANSWERED, 1)
    await refused("proposal.rated_already", school.rate(survivor, c, Rating.SATISFIED))
    await school.rate(survivor, d, Rating.BASIC)
    await school.rate(survivor, a, Rating.SATISFIED)
    assert await school.status(survivor) == Status.CLOSED
    assert await school.ratings(survivor) == sorted(
        [
            (1, c.id, Rating.DISSATISFIED, "不够具体"),
            (1, d.id, Rating.BASIC, None),
            (1, a.id, Rating.SATISFIED, None),
        ]
    )


async def test_the_committee_closes_with_a_note_and_marks_excellent_ones(school: School) -> None:
    proposer, signer = school.reps[:2]
    await school.window(min_cosigners=1)
    pid = await answered(school, proposer, signer)
    await school.rate(pid, proposer, Rating.DISSATISFIED, "仍未解决")
    await refused("input.empty", school.close(pid, note="  "))
    await refused("desk.not_committee", school.close(pid, by=proposer))
    assert await school.status(pid) == Status.ASSIGNED
    await school.close(pid, note="受经费所限，明年解决。")
    stored = await school.stored(pid)
    assert (stored.status, stored.closing_note) == (Status.CLOSED, "受经费所限，明年解决。")
    assert stored.closed_at is not None
    await refused("proposal.already_decided", school.close(pid))

    waiting = await school.submitted(proposer, signer)
    await refused(
        "proposal.excellent_needs_filed",
        school.call(mark_excellent, proposal_id=waiting, actor=school.committee),
    )
    await refused(
        "desk.not_committee", school.call(mark_excellent, proposal_id=pid, actor=proposer)
    )
    assert (await school.stored(pid)).excellent is False
    await school.call(mark_excellent, proposal_id=pid, actor=school.committee)
    assert (await school.stored(pid)).excellent is True
    assert (await school.stored(waiting)).excellent is False


async def test_overdue_lists_assigned_proposals_past_their_deadline_only(school: School) -> None:
    proposer, signer = school.reps[:2]
    await school.window(min_cosigners=1, reply_days=10)
    department = await school.department("总务处")
    early, late, done, filed = [await school.submitted(proposer, signer) for _ in "1234"]
    for pid in (early, late, done, filed):
        await school.triage(pid, Status.FILED)
    await school.assign(early, department, today=TODAY)
    await school.assign(late, department, today=TODAY + timedelta(days=5))
    await school.assign(done, department, today=TODAY)
    await school.answer(done)

    async def listed(days: int) -> list[int]:
        rows = await school.call(overdue, today=TODAY + timedelta(days=days))
        return [id_of(p) for p in rows]

    assert await listed(10) == []  # due today is not overdue yet
    assert await listed(11) == [early]
    assert await listed(16) == [early, late]


# ---- figures -----------------------------------------------------------------------------


async def test_figures_of_a_hand_computed_session(school: School) -> None:
    """Twenty proposals with known outcomes, built through the domain functions.

    P1..P20 submitted (numbered 1..20); P19 merged into P1 and P20 into P2: "20 collected,
    merged into 18", and the rates are taken on the 18 (merged ones count once, as their
    survivor). Not counted at all: P21 withdrawn after submission, P22 still co-signing, and a
    proposal of the autumn session.

        P      outcome                                                 status     verdict
        1      answered; co-author 不满意, proposer 满意               closed     满意
        2-3    answered, 满意                                         closed     满意
        4-5    answered, 基本满意                                     closed     基本满意
        6      answered, 不满意 -> round 2, answered, 满意            closed     满意
        7      answered, 不满意 -> the committee closes with a note   closed     不满意
        8      answered, 不满意 -> back with the department           assigned   不满意
        9-10   answered, not rated yet                               answered   -
        11-12  assigned, not answered                                assigned   -
        13-14  filed, not assigned yet                               filed      -
        15     turned into a suggestion                              converted  -
        16-18  not filed                                             not_filed  -
        19-20  merged                                                merged     -

        submitted   = 20 - 2 merged                            = 18
        filed       = P1..P14                                  = 14
        answered    = answered P9, P10 + closed P1..P7         =  9  (P8 waits for round 2)
        closed      = P1..P7                                   =  7
        rated       = proposers' latest verdicts, P1..P8       =  8
        satisfied   = P1..P6 (P6 by its round-2 verdict)       =  6
        落实情况 of the answered ones (P8 said 已落实 in round 1 but waits for round 2: out)
            已落实 P1, P2, P6 (round 2; round 1 said 列入计划) = 3   正在落实 P3, P7 = 2
            列入计划 P4, P10 = 2   暂不能落实 P5 = 1   none (answered before it was asked) P9 = 1
        立案率 filing         = 14 / 18 = 77.8
        办结率 completion     =  7 / 14 = 50.0
        满意率 satisfaction   =  6 /  8 = 75.0
        落实率 implementation = (3 + 2) / 9 answered = 55.6   (target 95; satisfaction plays no
                                part: P7 is 不满意 yet 正在落实, P4 基本满意 yet only 列入计划)
    """
    reps = school.reps

    def proposer(n: int) -> Actor:
        return reps[n % 5]

    spring = await school.window(min_cosigners=1, reply_days=30)
    p: dict[int, int] = {}
    for n in range(1, 21):
        p[n] = await school.submitted(proposer(n), reps[(n + 1) % 5])
        assert (await school.stored(p[n])).number == n
    withdrawn = await school.submitted(reps[0], reps[1])
    await school.call(withdraw, proposal_id=withdrawn, actor=reps[0])
    await school.draft(reps[2])  # P22, waiting for its co-signer

    await school.merge(p[1], [p[19]])
    await school.merge(p[2], [p[20]])
    for n in (16, 17, 18):
        await school.triage(p[n], Status.NOT_FILED, "不属于提案范围")
    await school.triage(p[15], Status.CONVERTED)
    department = await school.department("总务处")
    for n in range(1, 15):
        await school.triage(p[n], Status.FILED)
    for n in range(1, 13):
        await school.assign(p[n], department)
    said = {
        1: Implementation.DONE,
        2: Implementation.DONE,
        3: Implementation.DOING,
        4: Implementation.PLANNED,
        5: Implementation.CANNOT,
        6: Implementation.PLANNED,
        7: Implementation.DOING,
        8: Implementation.DONE,
        9: None,
        10: Implementation.PLANNED,
    }
    for n in range(1, 11):
        reason = "经费不足" if said[n] == Implementation.CANNOT else None
        await school.answer(p[n], implementation=said[n], reason=reason)

    await school.rate(p[1], proposer(19), Rating.DISSATISFIED, "还不够")  # a co-author
    for n, verdict in ((1, Rating.SATISFIED), (2, Rating.SATISFIED), (3, Rating.SATISFIED)):
        await school.rate(p[n], proposer(n), verdict)
    for n in (4, 5):
        await school.rate(p[n], proposer(n), Rating.BASIC)
    for n in (6, 7, 8):
        await school.rate(p[n], proposer(n), Rating.DISSATISFIED, "未落实")
    await school.answer(p[6], implementation=Implementation.DONE)
    await school.rate(p[6], proposer(6), Rating.SATISFIED)
    await school.close(p[7])

    await school.window(AUTUMN_OPENS, AUTUMN_CLOSES, min_cosigners=0)
    await school.draft(reps[0], today=AUTUMN_OPENS)  # submitted, in another session

    outcomes = [Status.CLOSED] * 7 + [Status.ASSIGNED, Status.ANSWERED, Status.ANSWERED]
    outcomes += [Status.ASSIGNED] * 2 + [Status.FILED] * 2 + [Status.CONVERTED]
    outcomes += [Status.NOT_FILED] * 3 + [Status.MERGED] * 2
    expected = dict(enumerate(outcomes, start=1))
    assert {n: await school.status(p[n]) for n in p} == expected

    async with school.bot.db() as session:
        figures = await session_figures(session, session_id=id_of(spring))
    assert figures == Figures(
        collected=20,
        submitted=18,
        filed=14,
        answered=9,
        closed=7,
        satisfied=6,
        rated=8,
        done=3,
        doing=2,
        planned=2,
        cannot=1,
        unknown=1,
    )
    rates = (
        figures.filing_rate,
        figures.completion_rate,
        figures.satisfaction_rate,
        figures.implementation_rate,
    )
    assert rates == (77.8, 50.0, 75.0, 55.6)
