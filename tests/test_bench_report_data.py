"""The report benchmark's generator writes consistent rows (a tiny union, no timing)."""

from __future__ import annotations

from collections import Counter

from sqlmodel import SQLModel, col, func, select

from bench.report_data import ORG_ID, generate
from bot.db import create_engine, create_session_factory
from models.activities import Activity, Signup, SignupStatus
from models.aid import AidCase, AidLedgerEntry, CaseStatus, LedgerKind, year_books
from models.members import Member, MemberStatus
from models.outbox import Broadcast, OutboxMessage
from models.proposals import Proposal, ProposalStatus
from models.suggestions import Suggestion


async def test_a_tiny_union_is_consistent(clean_database: str) -> None:
    made = await generate(clean_database, members=30, years=2, last_year=2025)
    engine = create_engine(clean_database)
    db = create_session_factory(engine)
    try:
        async with db() as session:
            for table in SQLModel.metadata.sorted_tables:
                if table.name == "member_version":  # the triggers' counter, not generated data
                    continue
                stored = (await session.exec(select(func.count()).select_from(table))).one()
                assert stored == made.rows[table.name], table.name
            assert made.rows["member"] == 30
            assert made.rows["aid_case"] > 0 and made.rows["signup"] > 0

            # Every paid case has exactly one PAID row with its day and the approved amount.
            cases = (await session.exec(select(AidCase))).all()
            paid_rows = (
                await session.exec(
                    select(AidLedgerEntry).where(AidLedgerEntry.kind == LedgerKind.PAID)
                )
            ).all()
            paid_by_case = Counter(row.case_id for row in paid_rows)
            for case in cases:
                expected = 1 if case.status == CaseStatus.PAID else 0
                assert paid_by_case[case.id or 0] == expected, case.number
                if case.status in (CaseStatus.PAID, CaseStatus.APPROVED):
                    assert case.approved_amount and case.approved_on
            for row in paid_rows:
                paid = await session.get(AidCase, row.case_id)
                assert paid is not None and paid.approved_on is not None
                assert row.paid_on is not None and row.paid_on >= paid.approved_on
                assert row.amount == paid.approved_amount

            # The books count what the generator says it paid, per year and type.
            for year in made.years:
                books = await year_books(session, org_id=ORG_ID, year=year)
                assert {line.aid_type.value: line.cases for line in books} == {
                    kind: count for (when, kind), count in made.paid_cases.items() if when == year
                }
                assert {line.aid_type.value: line.paid for line in books} == {
                    kind: fen for (when, kind), fen in made.paid_fen.items() if when == year
                }

            # Roster members without Telegram; anonymous suggestions without an author.
            invited = (
                await session.exec(select(Member).where(Member.status == MemberStatus.INVITED))
            ).all()
            assert all(member.telegram_user_id is None for member in invited)
            anonymous = (
                await session.exec(select(Suggestion).where(col(Suggestion.anonymous)))
            ).all()
            assert all(s.author_member_id is None and s.reply_token for s in anonymous)

            # Counters agree with their rows.
            for activity in (await session.exec(select(Activity))).all():
                seats = (
                    await session.exec(
                        select(func.count()).where(
                            Signup.activity_id == activity.id, Signup.status == SignupStatus.SEAT
                        )
                    )
                ).one()
                assert seats == activity.seats_taken
            for broadcast in (await session.exec(select(Broadcast))).all():
                rows = (
                    await session.exec(
                        select(func.count()).where(OutboxMessage.broadcast_id == broadcast.id)
                    )
                ).one()
                assert rows == broadcast.total
            merged = (
                await session.exec(select(Proposal).where(Proposal.status == ProposalStatus.MERGED))
            ).all()
            for proposal in merged:
                survivor = await session.get(Proposal, proposal.merged_into_id)
                assert survivor is not None and survivor.session_id == proposal.session_id
    finally:
        await engine.dispose()
