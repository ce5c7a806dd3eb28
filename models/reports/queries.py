"""The figures of one period, read with aggregate queries (the database counts and sums).

Every area is one or two GROUP BY / conditional-SUM queries over the period's rows, so a report
costs the same handful of queries whatever the size of the union (no query per activity, per
case or per member, and no member rows loaded). Decisions where the data is silent:

- 组织建设: a member counts from `joined_at` (approval, invite binding, reactivation; rows from
  before migration 0020 or made by hand: `created_at`) until `left_at` (deactivation). Women and
  retirees are read from the profiles as they stand now (no history is kept of either). The
  roster (在册教职工) is the members on the last day plus the people imported from the roster
  who have not bound the bot yet and the join requests still waiting; rejected requests and
  people who left are not on it.
- 意见箱: items received in the period; answered and closed whenever that happened (up to now);
  "in time" is the first reply within `answer_days` days of receipt.
- 维权帮扶: by payment day (`paid_on`), corrections counted with the payment they correct (as
  `models.aid.year_books`); `people` are distinct subjects.
- 教代会: the sessions whose window opened in the period, with `models.proposals.session_figures`.
- 文体活动: activities that started in the period and were not cancelled; participants are the
  checked-in members where check-in was used, else the seated ones; 报名 is everyone signed up
  and not cancelled (seats and waiting), as the 活动台账's 报名人数; eligible members are counted
  as the roster stands now (as `models.activities.period_figures` does), ages on each
  activity's own local day (`book_rows.age_on_day`, shared with the 活动台账).
- 民主管理: ballots closed in the period, notices posted in it (with at least one objection),
  ideas received in it (adopted at any time up to now).
- 消息: announcements with at least one message delivered in the period, and greeting messages
  (calendar greetings and birthdays) delivered in it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, and_, case, distinct, exists, func, literal, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.activities import Activity, ActivityStatus, Signup, SignupStatus
from models.aid import AidCase, AidLedgerEntry, LedgerKind
from models.ballots import Ballot, BallotStatus
from models.care import visits_without_money
from models.hardship import HardshipFile
from models.ideas import Idea
from models.members import Gender, Member, MemberStatus
from models.notices import Notice, NoticeObjection
from models.outbox import Broadcast, BroadcastKind, OutboxMessage
from models.proposals import CongressSession, Proposal, session_figures
from models.reports.book_rows import (
    _aware,
    age_bounds,
    age_on_day,
    local_day,
    local_days_between,
    roster_then,
)
from models.reports.figures import (
    ActivityFigures,
    ActivityLine,
    AidFigures,
    AidLine,
    CongressFigures,
    Count,
    DemocracyFigures,
    HardshipFigures,
    MemberFigures,
    MessageFigures,
    MonthCount,
    ReportFigures,
    SuggestionFigures,
)
from models.reports.period import ReportPeriod
from models.suggestions import (
    EntryKind,
    Suggestion,
    SuggestionCategory,
    SuggestionEntry,
    SuggestionStatus,
)

_Window = tuple[datetime, datetime]


async def gather(
    session: AsyncSession,
    *,
    org_id: int,
    period: ReportPeriod,
    zone: tzinfo,
    organization: str,
    answer_days: int,
) -> ReportFigures:
    """Every figure of the period (see the module docstring for what each one counts)."""
    window = period.bounds(zone)
    month_ends = _month_edges(period, zone)
    return ReportFigures(
        organization=organization,
        period=period,
        members=await member_figures(session, org_id=org_id, window=window, edges=month_ends),
        suggestions=await suggestion_figures(
            session, org_id=org_id, window=window, answer_days=answer_days, zone=zone
        ),
        congresses=await congress_figures(session, org_id=org_id, period=period),
        aid=await aid_figures(session, org_id=org_id, period=period),
        hardship=await hardship_figures(session, org_id=org_id, window=window),
        activities=await activity_figures(
            session, org_id=org_id, window=window, edges=month_ends, zone=zone
        ),
        democracy=await democracy_figures(session, org_id=org_id, window=window),
        messages=await message_figures(session, org_id=org_id, window=window),
    )


def _month_edges(period: ReportPeriod, zone: tzinfo) -> list[tuple[date, datetime, datetime]]:
    """(first day, start, end) of each month the period touches, clipped to the period."""
    start, end = period.bounds(zone)
    firsts = period.months()
    edges = []
    for index, first in enumerate(firsts):
        low = max(start, datetime.combine(first, datetime.min.time(), tzinfo=zone))
        if index + 1 < len(firsts):
            high = datetime.combine(firsts[index + 1], datetime.min.time(), tzinfo=zone)
        else:
            high = end
        edges.append((first, low, min(high, end)))
    return edges


def _count_if(condition: ColumnElement[bool]) -> Any:
    """SUM(CASE WHEN condition THEN 1 ELSE 0 END): a count inside one aggregate query."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _within(column: Any, window: _Window) -> ColumnElement[bool]:
    return and_(column >= window[0], column < window[1])


def _numbers(row: Sequence[Any]) -> list[int]:
    return [int(value or 0) for value in row]


# ---- 组织建设 ------------------------------------------------------------------------------


async def member_figures(
    session: AsyncSession,
    *,
    org_id: int,
    window: _Window,
    edges: list[tuple[date, datetime, datetime]],
) -> MemberFigures:
    """The membership on the last day, its movement in the period and at each month's end."""
    joined = func.coalesce(Member.joined_at, Member.created_at)
    left = case(
        (
            col(Member.status) == MemberStatus.INACTIVE,
            func.coalesce(Member.left_at, Member.updated_at),
        ),
        else_=None,
    )
    counted = col(Member.status).in_((MemberStatus.ACTIVE, MemberStatus.INACTIVE))

    def member_at(moment: datetime) -> ColumnElement[bool]:
        return and_(counted, joined < moment, or_(left.is_(None), left >= moment))

    end = window[1]
    columns = [
        _count_if(member_at(end)),
        _count_if(and_(member_at(end), col(Member.gender) == Gender.FEMALE)),
        _count_if(and_(member_at(end), col(Member.retired).is_(True))),
        _count_if(and_(counted, _within(joined, window))),
        _count_if(and_(counted, _within(left, window))),
        _count_if(or_(member_at(end), roster_then(end, left))),
        _count_if(and_(member_at(end), col(Member.telegram_user_id).is_not(None))),
        *(_count_if(member_at(high)) for _first, _low, high in edges),
    ]
    row = _numbers(
        (await session.exec(select(*columns).where(Member.organization_id == org_id))).one()
    )
    total, women, retirees, joined_count, left_count, roster, on_telegram = row[:7]
    return MemberFigures(
        total=total,
        women=women,
        retirees=retirees,
        joined=joined_count,
        left=left_count,
        roster=roster,
        on_telegram=on_telegram,
        by_month=tuple(
            MonthCount(first, count)
            for (first, _low, _high), count in zip(edges, row[7:], strict=True)
        ),
    )


# ---- 意见箱 --------------------------------------------------------------------------------


async def suggestion_figures(
    session: AsyncSession, *, org_id: int, window: _Window, answer_days: int, zone: tzinfo
) -> SuggestionFigures:
    """Items received in the period and what became of them, by category."""
    in_period = and_(
        col(Suggestion.organization_id) == org_id, _within(Suggestion.created_at, window)
    )
    first_reply = (
        select(
            SuggestionEntry.suggestion_id,
            func.min(SuggestionEntry.created_at).label("first"),
        )
        .where(
            SuggestionEntry.kind == EntryKind.REPLY,
            col(SuggestionEntry.suggestion_id).in_(select(Suggestion.id).where(in_period)),
        )
        .group_by(col(SuggestionEntry.suggestion_id))
        .subquery()
    )
    replies = (
        await session.exec(
            select(Suggestion.created_at, first_reply.c.first)
            .join(first_reply, first_reply.c.suggestion_id == Suggestion.id)
            .where(in_period)
        )
    ).all()
    in_time = sum(
        1
        for received, first in replies
        if local_days_between(_aware(received), _aware(first), zone) <= answer_days
    )
    row = _numbers(
        (
            await session.exec(
                select(
                    *[
                        func.count(),
                        _count_if(col(Suggestion.anonymous).is_(True)),
                        _count_if(col(Suggestion.answered_at).is_not(None)),
                        _count_if(col(Suggestion.status) == SuggestionStatus.CLOSED),
                    ]
                )
                .select_from(Suggestion)
                .outerjoin(first_reply, first_reply.c.suggestion_id == Suggestion.id)
                .where(in_period)
            )
        ).one()
    )
    categories = (
        await session.exec(
            select(SuggestionCategory.code, SuggestionCategory.name, func.count())
            .select_from(Suggestion)
            .join(SuggestionCategory, col(SuggestionCategory.id) == Suggestion.category_id)
            .where(in_period)
            .group_by(
                col(SuggestionCategory.id),
                col(SuggestionCategory.code),
                col(SuggestionCategory.name),
                col(SuggestionCategory.position),
            )
            .order_by(
                func.count().desc(), col(SuggestionCategory.position), col(SuggestionCategory.id)
            )
        )
    ).all()
    return SuggestionFigures(
        received=row[0],
        anonymous=row[1],
        answered=row[2],
        answered_in_time=in_time,
        answer_days=answer_days,
        closed=row[3],
        by_category=tuple(
            Count(f"category.{code}" if code else (name or ""), int(count))
            for code, name, count in categories
        ),
    )


# ---- 教代会 --------------------------------------------------------------------------------


async def congress_figures(
    session: AsyncSession, *, org_id: int, period: ReportPeriod
) -> tuple[CongressFigures, ...]:
    """The sessions whose proposal window opened in the period (a union has one or two a year)."""
    sessions = (
        await session.exec(
            select(CongressSession)
            .where(
                CongressSession.organization_id == org_id,
                col(CongressSession.opens_on) >= period.start,
                col(CongressSession.opens_on) < period.end,
            )
            .order_by(col(CongressSession.opens_on))
        )
    ).all()
    ids = [congress.id for congress in sessions if congress.id is not None]
    statuses = (
        await session.exec(
            select(Proposal.session_id, Proposal.status, func.count())
            .where(col(Proposal.session_id).in_(ids))
            .group_by(col(Proposal.session_id), col(Proposal.status))
            .order_by(col(Proposal.session_id), col(Proposal.status))
        )
    ).all()
    result = []
    for congress in sessions:
        by_status = tuple(
            Count(f"proposal.status.{status}", int(count))
            for session_id, status, count in statuses
            if session_id == congress.id
        )
        rates = await session_figures(session, session_id=congress.id or 0)
        result.append(CongressFigures(title=congress.name, rates=rates, by_status=by_status))
    return tuple(result)


# ---- 维权帮扶 ------------------------------------------------------------------------------


async def aid_figures(session: AsyncSession, *, org_id: int, period: ReportPeriod) -> AidFigures:
    """Paid cases, distinct people and money per aid type, by payment day."""
    paid_in_period = and_(
        col(AidLedgerEntry.organization_id) == org_id,
        col(AidLedgerEntry.kind) == LedgerKind.PAID,
        col(AidLedgerEntry.paid_on) >= period.start,
        col(AidLedgerEntry.paid_on) < period.end,
    )
    paid = (
        await session.exec(
            select(
                AidCase.aid_type,
                func.count(),
                func.count(distinct(col(AidCase.subject_member_id))),
                func.coalesce(func.sum(AidLedgerEntry.amount), 0),
            )
            .join(AidCase, col(AidCase.id) == AidLedgerEntry.case_id)
            .where(paid_in_period)
            .group_by(col(AidCase.aid_type))
        )
    ).all()
    payment = select(AidLedgerEntry.case_id).where(paid_in_period).subquery()
    corrections = (
        await session.exec(
            select(AidCase.aid_type, func.coalesce(func.sum(AidLedgerEntry.amount), 0))
            .join(AidCase, col(AidCase.id) == AidLedgerEntry.case_id)
            .where(
                AidLedgerEntry.kind == LedgerKind.CORRECTION,
                col(AidLedgerEntry.case_id).in_(select(payment.c.case_id)),
            )
            .group_by(col(AidCase.aid_type))
        )
    ).all()
    corrected = {aid_type: int(amount or 0) for aid_type, amount in corrections}
    lines = [
        AidLine(aid_type, int(cases), int(people), int(amount or 0) + corrected.get(aid_type, 0))
        for aid_type, cases, people, amount in paid
    ]
    order = {value: index for index, value in enumerate(_AID_ORDER)}
    lines.sort(key=lambda line: (order.get(line.aid_type, len(order)), line.aid_type))
    unpaid_visits = await visits_without_money(
        session, org_id=org_id, start=period.start, end=period.end
    )
    return AidFigures(lines=tuple(lines), visits_without_money=unpaid_visits)


# The order the seeds list them in: hospital visits first, hardship last.
_AID_ORDER = (
    "hospital",
    "illness",
    "childbirth",
    "marriage",
    "bereavement",
    "retirement",
    "disaster",
    "hardship",
)


async def hardship_figures(
    session: AsyncSession, *, org_id: int, window: _Window
) -> HardshipFigures:
    """Files active on the last day, opened and closed in the period."""
    end = window[1]
    on_file = and_(
        col(HardshipFile.created_at) < end,
        or_(col(HardshipFile.closed_at).is_(None), col(HardshipFile.closed_at) >= end),
    )
    row = _numbers(
        (
            await session.exec(
                select(
                    _count_if(on_file),
                    _count_if(_within(HardshipFile.created_at, window)),
                    _count_if(_within(HardshipFile.closed_at, window)),
                ).where(HardshipFile.organization_id == org_id)
            )
        ).one()
    )
    return HardshipFigures(on_file=row[0], opened=row[1], closed=row[2])


# ---- 文体活动 ------------------------------------------------------------------------------


async def activity_figures(
    session: AsyncSession,
    *,
    org_id: int,
    window: _Window,
    edges: list[tuple[date, datetime, datetime]],
    zone: tzinfo,
) -> ActivityFigures:
    """Activities held per category and per month, sign-ups, participants and the eligible."""
    held = and_(
        col(Activity.organization_id) == org_id,
        col(Activity.status) != ActivityStatus.CANCELLED,
        _within(Activity.starts_at, window),
    )
    # From the period's activities to their sign-ups (not the other way round): SQLite then
    # reads only those sign-ups instead of scanning all of them (bench/report.py: 185 -> 74 ms
    # for 1.6 million sign-ups).
    per_activity = (
        select(
            col(Activity.id).label("activity_id"),
            _count_if(col(Signup.status) == SignupStatus.SEAT).label("seats"),
            _count_if(col(Signup.status) != SignupStatus.CANCELLED).label("signed"),
            _count_if(
                and_(
                    col(Signup.status) != SignupStatus.CANCELLED,
                    col(Signup.checked_in_at).is_not(None),
                )
            ).label("present"),
        )
        .select_from(Activity)
        .join(Signup, col(Signup.activity_id) == Activity.id)
        .where(held)
        .group_by(col(Activity.id))
        .subquery()
    )
    seats = func.coalesce(per_activity.c.seats, 0)
    present = func.coalesce(per_activity.c.present, 0)
    held_ones = (
        await session.exec(
            select(
                *[
                    col(Activity.category),
                    col(Activity.eligibility),
                    col(Activity.starts_at),
                    func.coalesce(per_activity.c.signed, 0),
                    case((present > 0, present), else_=seats),
                ]
            )
            .select_from(Activity)
            .outerjoin(per_activity, per_activity.c.activity_id == Activity.id)
            .where(held)
        )
    ).all()
    audience = await _Audience.read(session, org_id=org_id, rules=[row[1] for row in held_ones])
    lines: dict[str, list[int]] = {}
    for category, eligibility, starts_at, signed_up, participants in held_ones:
        line = lines.setdefault(category, [0, 0, 0, 0])
        line[0] += 1
        line[1] += int(signed_up or 0)
        line[2] += int(participants or 0)
        line[3] += audience.eligible(eligibility, local_day(_aware(starts_at), zone))
    months = _numbers(
        (
            await session.exec(
                select(
                    literal(0),
                    *(
                        _count_if(_within(Activity.starts_at, (low, high)))
                        for _first, low, high in edges
                    ),
                ).where(held)
            )
        ).one()
    )[1:]
    return ActivityFigures(
        lines=tuple(ActivityLine(category, *values) for category, values in sorted(lines.items())),
        by_month=tuple(
            MonthCount(first, count)
            for (first, _low, _high), count in zip(edges, months, strict=True)
        ),
    )


class _Audience:
    """How many active members with the bot each eligibility rule admits, from counts."""

    def __init__(
        self,
        everyone: int,
        women: int,
        retirees: int,
        departments: dict[str, int],
        birthdays: list[tuple[int, int, int, int]],
    ) -> None:
        self.everyone, self.women, self.retirees = everyone, women, retirees
        self.departments, self.birthdays = departments, birthdays

    @classmethod
    async def read(cls, session: AsyncSession, *, org_id: int, rules: list[str]) -> _Audience:
        """The counts the given rules need (departments and ages only when a rule asks)."""
        reachable = and_(
            col(Member.organization_id) == org_id,
            col(Member.status) == MemberStatus.ACTIVE,
            col(Member.telegram_user_id).is_not(None),
        )
        kinds = {_rule(text).get("type", "everyone") for text in rules}
        everyone, women, retirees = _numbers(
            (
                await session.exec(
                    select(
                        func.count(),
                        _count_if(col(Member.gender) == Gender.FEMALE),
                        _count_if(col(Member.retired).is_(True)),
                    ).where(reachable)
                )
            ).one()
        )
        departments: dict[str, int] = {}
        if "departments" in kinds:
            departments = {
                name: int(count)
                for name, count in (
                    await session.exec(
                        select(Member.department, func.count())
                        .where(reachable)
                        .group_by(col(Member.department))
                    )
                ).all()
            }
        birthdays: list[tuple[int, int, int, int]] = []
        if "age" in kinds:
            birthdays = [
                (int(y or 0), int(m or 0), int(d or 0), int(n))
                for y, m, d, n in (
                    await session.exec(
                        select(
                            Member.birth_year, Member.birth_month, Member.birth_day, func.count()
                        )
                        .where(
                            reachable,
                            col(Member.birth_year).is_not(None),
                            col(Member.birth_month).is_not(None),
                            col(Member.birth_day).is_not(None),
                        )
                        .group_by(
                            col(Member.birth_year), col(Member.birth_month), col(Member.birth_day)
                        )
                    )
                ).all()
            ]
        return cls(everyone, women, retirees, departments, birthdays)

    def eligible(self, eligibility: str, day: date) -> int:
        """Members one activity's rule admits (as `models.activities.is_eligible`)."""
        rule = _rule(eligibility)
        kind = rule.get("type", "everyone")
        if kind == "women":
            return self.women
        if kind == "retirees":
            return self.retirees
        if kind == "departments":
            wanted = {str(name) for name in rule.get("departments", [])}
            return sum(count for name, count in self.departments.items() if name in wanted)
        if kind == "age":
            low, high = age_bounds(rule)
            return sum(
                count
                for year, month, birth_day, count in self.birthdays
                if low <= age_on_day(day, year, month, birth_day) <= high
            )
        return self.everyone


def _rule(text: str) -> dict[str, Any]:
    value = json.loads(text or "{}")
    return value if isinstance(value, dict) else {"type": "everyone"}


# ---- 民主管理 ------------------------------------------------------------------------------


async def democracy_figures(
    session: AsyncSession, *, org_id: int, window: _Window
) -> DemocracyFigures:
    """Ballots closed, notices posted (with objections), ideas received (adopted)."""
    ballots = (
        await session.exec(
            select(func.count()).where(
                Ballot.organization_id == org_id,
                Ballot.status == BallotStatus.CLOSED,
                _within(Ballot.closes_at, window),
            )
        )
    ).one()
    objected = exists().where(col(NoticeObjection.notice_id) == col(Notice.id))
    notices = _numbers(
        (
            await session.exec(
                select(func.count(), _count_if(objected)).where(
                    Notice.organization_id == org_id, _within(Notice.created_at, window)
                )
            )
        ).one()
    )
    ideas = _numbers(
        (
            await session.exec(
                select(func.count(), _count_if(col(Idea.adopted).is_(True))).where(
                    Idea.organization_id == org_id, _within(Idea.created_at, window)
                )
            )
        ).one()
    )
    return DemocracyFigures(
        ballots=int(ballots or 0),
        notices=notices[0],
        notices_with_objections=notices[1],
        ideas=ideas[0],
        ideas_adopted=ideas[1],
    )


# ---- 消息 ----------------------------------------------------------------------------------


async def message_figures(session: AsyncSession, *, org_id: int, window: _Window) -> MessageFigures:
    """Announcements delivered in the period, and greeting messages delivered in it."""
    per_broadcast = (
        select(OutboxMessage.broadcast_id, func.count().label("delivered"))
        # This organization's broadcasts only, here and not after the grouping: in a district
        # the outbox holds every school's messages (grouping them all made one school's report
        # take a second at 50 schools).
        .join(Broadcast, col(Broadcast.id) == col(OutboxMessage.broadcast_id))
        # Only a delivery sets sent_at (models.outbox.finish with SENT); filtering on it alone
        # lets SQLite use its index rather than the status one, which nearly every row shares.
        .where(col(Broadcast.organization_id) == org_id, _within(OutboxMessage.sent_at, window))
        .group_by(col(OutboxMessage.broadcast_id))
        .subquery()
    )
    is_greeting = col(Broadcast.kind) == BroadcastKind.GREETING
    row = _numbers(
        (
            await session.exec(
                select(
                    _count_if(col(Broadcast.kind) == BroadcastKind.ANNOUNCEMENT),
                    func.coalesce(
                        func.sum(case((is_greeting, per_broadcast.c.delivered), else_=0)), 0
                    ),
                )
                .select_from(per_broadcast)
                .join(Broadcast, col(Broadcast.id) == per_broadcast.c.broadcast_id)
                .where(col(Broadcast.organization_id) == org_id)
            )
        ).one()
    )
    return MessageFigures(broadcasts=row[0], greetings=row[1])
