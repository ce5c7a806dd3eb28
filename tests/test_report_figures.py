"""The report's figures from the seed's year 2026 (tests/support/seed_year.py), exactly, and
the edges of a period: a month, a term, a payment on New Year's Day."""

from __future__ import annotations

from datetime import date

from bot.settings import Settings
from models.aid import AidType
from models.reports.figures import ReportFigures
from models.reports.period import ReportPeriod, month_period, term_period, year_period
from models.reports.queries import gather
from tests.support.harness import BotHarness
from tests.support.seed_year import FEN, SESSION_NAME, ZONE, SeedYear, build_year

SECRET = b"test-secret-key-0123456789abcdef"


async def _figures(bot: BotHarness, period: ReportPeriod) -> ReportFigures:
    async with bot.db() as session:
        return await gather(
            session,
            org_id=bot.org_id,
            period=period,
            zone=ZONE,
            organization="实验中学工会",
            answer_days=7,
        )


async def _seed(bot: BotHarness) -> SeedYear:
    return await build_year(bot.db, org_id=bot.org_id, secret=SECRET)


async def test_the_seed_year_reproduces_exactly(bot: BotHarness) -> None:
    await _seed(bot)
    figures = await _figures(bot, year_period(2026))
    members = figures.members
    assert (members.total, members.women, members.retirees) == (45, 26, 3)
    assert (members.joined, members.left, members.roster, members.on_telegram) == (4, 1, 48, 45)
    assert members.join_rate == 93.8
    assert [m.count for m in members.by_month] == [42, 42, 46, 46, 46, 46, 45, 45, 45, 45, 45, 45]
    aid = {line.aid_type: (line.cases, line.people, line.paid) for line in figures.aid.lines}
    assert aid == {
        AidType.HOSPITAL: (16, 14, 4_000 * FEN),
        AidType.CHILDBIRTH: (5, 5, 2_500 * FEN),
        AidType.BEREAVEMENT: (2, 2, 20_000 * FEN),
        AidType.RETIREMENT: (2, 2, 2_000 * FEN),
        AidType.HARDSHIP: (6, 6, 6_000 * FEN),
    }
    assert [line.aid_type for line in figures.aid.lines] == [
        AidType.HOSPITAL,
        AidType.CHILDBIRTH,
        AidType.BEREAVEMENT,
        AidType.RETIREMENT,
        AidType.HARDSHIP,
    ]
    assert (figures.aid.cases, figures.aid.paid) == (31, 34_500 * FEN)
    assert figures.aid.visits_without_money == 0
    hardship = figures.hardship
    assert (hardship.on_file, hardship.opened, hardship.closed) == (6, 6, 0)
    (congress,) = figures.congresses
    assert congress.title == SESSION_NAME
    assert (congress.rates.collected, congress.rates.submitted, congress.rates.filed) == (
        36,
        18,
        16,
    )
    assert {c.key: c.count for c in congress.by_status} == {
        "proposal.status.filed": 16,
        "proposal.status.not_filed": 2,
        "proposal.status.merged": 18,
    }
    box = figures.suggestions
    assert (box.received, box.anonymous, box.answered, box.answered_in_time, box.closed) == (
        10,
        4,
        7,
        5,
        3,
    )
    assert box.answer_rate == 70.0
    assert [(c.key, c.count) for c in box.by_category] == [
        ("category.canteen", 4),
        ("category.teaching", 3),  # ties in the box's own order
        ("category.facilities", 3),
    ]
    lines = {
        line.category: (line.held, line.signed_up, line.participants, line.eligible)
        for line in figures.activities.lines
    }
    assert lines == {
        "culture": (1, 6, 6, 26),
        "lecture": (1, 12, 11, 45),
        "outing": (1, 8, 8, 45),
        "sport": (1, 10, 8, 45),
    }
    assert (figures.activities.held, figures.activities.participants) == (4, 33)
    assert figures.activities.participation_rate == 20.5
    assert [m.count for m in figures.activities.by_month] == [0, 0, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0]
    democracy = figures.democracy
    assert (democracy.ballots, democracy.notices, democracy.notices_with_objections) == (0, 2, 1)
    assert (democracy.ideas, democracy.ideas_adopted) == (3, 1)
    assert (figures.messages.broadcasts, figures.messages.greetings) == (1, 45)


async def test_a_month_and_a_term(bot: BotHarness, settings: Settings) -> None:
    seed = await _seed(bot)
    march = await _figures(bot, month_period(2026, 3))
    assert (march.members.joined, march.members.total) == (4, 46)
    assert [line.aid_type for line in march.aid.lines] == [AidType.HOSPITAL]
    assert (march.aid.cases, march.aid.paid) == (2, 500 * FEN)
    assert march.congresses[0].rates.collected == 36
    assert march.suggestions.received == 1
    assert [m.month for m in march.members.by_month] == [date(2026, 3, 1)]
    november = await _figures(bot, month_period(2026, 11))
    assert november.congresses == ()
    assert november.hardship.opened == 6
    assert november.activities.held == 0  # the only November activity was cancelled
    # 第二学期 of the school year 2025: 20 Feb to 31 Aug 2026.
    spring = term_period(
        2025, 2, term1_start=settings.term1_start, term2_start=settings.term2_start
    )
    figures = await _figures(bot, spring)
    paid = sum(amount for day, _type, amount in seed.payments if spring.start <= day < spring.end)
    assert figures.aid.paid == paid
    assert figures.members.left == 1
    assert figures.activities.held == 3
    autumn = term_period(
        2026, 1, term1_start=settings.term1_start, term2_start=settings.term2_start
    )
    figures = await _figures(bot, autumn)
    assert figures.aid.paid == sum(
        amount for day, _type, amount in seed.payments if autumn.start <= day
    )
    assert figures.hardship.on_file == 6


async def test_new_years_day_belongs_to_the_new_year(bot: BotHarness) -> None:
    seed = await _seed(bot)
    from datetime import datetime, timedelta

    from sqlalchemy import update
    from sqlmodel import col

    from models.aid import CaseDraft, approve, file_case, mark_paid
    from models.members import Member
    from models.suggestions import Suggestion
    from tests.support.seed_year import _member_actor

    subject = seed.members[30]
    async with bot.db() as session:
        case = await file_case(
            session,
            org_id=bot.org_id,
            actor=await _member_actor(bot.db, subject),
            draft=CaseDraft(AidType.HOSPITAL, "住院。", date(2026, 12, 30), None, (), "edge-1"),
            today=date(2027, 1, 1),
        )
        await approve(
            session,
            org_id=bot.org_id,
            case_id=case.id or 0,
            actor=seed.chair,
            amount=250 * FEN,
            today=date(2027, 1, 1),
        )
        await mark_paid(
            session,
            org_id=bot.org_id,
            case_id=case.id or 0,
            actor=seed.treasurer,
            paid_on=date(2027, 1, 1),
            method="现金",
            today=date(2027, 1, 1),
        )
        # A member who joined at 00:30 Beijing on New Year's Day (16:30 UTC on 31 Dec).
        half_past = datetime(2027, 1, 1, 0, 30, tzinfo=ZONE)
        await session.exec(
            update(Member).where(col(Member.id) == subject.id).values(joined_at=half_past)
        )
        # A suggestion received at 23:59 Beijing on 31 Dec stays in the old year.
        await session.exec(
            update(Suggestion)
            .where(col(Suggestion.id) == select_first_suggestion())
            .values(created_at=half_past - timedelta(minutes=31))
        )
        await session.commit()
    old, new = await _figures(bot, year_period(2026)), await _figures(bot, year_period(2027))
    assert old.aid.paid == 34_500 * FEN
    assert (new.aid.cases, new.aid.paid) == (1, 250 * FEN)
    assert old.members.total == 44 and new.members.joined == 1
    assert old.suggestions.received == 10 and new.suggestions.received == 0


def select_first_suggestion() -> object:
    """The id of the first suggestion (a scalar subquery)."""
    from sqlalchemy import func, select

    from models.suggestions import Suggestion

    return select(func.min(Suggestion.id)).scalar_subquery()


async def test_a_closed_file_leaves_the_count_on_its_day(bot: BotHarness) -> None:
    from sqlalchemy import update
    from sqlmodel import col, select

    from models.hardship import HardshipFile, close_file
    from tests.support.seed_year import at

    seed = await _seed(bot)
    async with bot.db() as session:
        first = (await session.exec(select(HardshipFile).order_by(col(HardshipFile.id)))).first()
        assert first is not None
        await close_file(
            session, org_id=bot.org_id, file_id=first.id or 0, actor=seed.chair, reason="已脱困。"
        )
        await session.exec(
            update(HardshipFile)
            .where(col(HardshipFile.id) == first.id)
            .values(closed_at=at(date(2026, 12, 20)))
        )
        await session.commit()
    year = (await _figures(bot, year_period(2026))).hardship
    assert (year.on_file, year.opened, year.closed) == (5, 6, 1)
    november = (await _figures(bot, month_period(2026, 11))).hardship
    assert (november.on_file, november.opened, november.closed) == (6, 6, 0)


async def test_status_changes_stamp_the_days(bot: BotHarness) -> None:
    """Approval, an invitation bound, leaving and coming back each stamp joined_at/left_at."""
    from models.members import (
        Member,
        MemberStatus,
        Profile,
        bind_invite,
        decide_join_request,
        set_active,
        submit_registration,
    )

    seed = await _seed(bot)
    async with bot.db() as session:
        member, request = await submit_registration(
            session,
            org_id=bot.org_id,
            telegram_user_id=777,
            profile=Profile(real_name="新老师", department="语文组"),
            language="zh-Hans",
            is_owner=False,
        )
        assert member.joined_at is None and request is not None
        _, approved = await decide_join_request(
            session, org_id=bot.org_id, request_id=request.id or 0, decider=seed.chair, approve=True
        )
        assert approved.joined_at is not None
        invited = next(m for m in seed.members if m.status == MemberStatus.INVITED)
        bound = await bind_invite(
            session,
            org_id=bot.org_id,
            telegram_user_id=778,
            code=invited.invite_code or "",
            language="zh-Hans",
        )
        assert bound.joined_at is not None
        leaver = await set_active(
            session, org_id=bot.org_id, actor=seed.chair, member_id=approved.id or 0, active=False
        )
        left_at = leaver.left_at
        assert left_at is not None
        back = await set_active(
            session, org_id=bot.org_id, actor=seed.chair, member_id=approved.id or 0, active=True
        )
        assert back.left_at is None and back.joined_at is not None
        assert back.joined_at >= left_at
        stored = await session.get(Member, approved.id)
        assert stored is not None and stored.status == MemberStatus.ACTIVE
