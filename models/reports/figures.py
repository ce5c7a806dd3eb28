"""The figures of one period, as every report shows them (chat, workbook, charts, 总结).

These are plain data: `gather` (in `models.reports.queries`) fills them with aggregate
queries, and views, charts and documents only read them. Money is in fen, like the aid books.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from models.proposals import Figures as SessionRates
from models.reports.period import ReportPeriod


def rate(part: int, whole: int) -> float | None:
    """A percentage with one decimal, or None when there is nothing to divide by."""
    return round(100 * part / whole, 1) if whole else None


@dataclass(frozen=True)
class Count:
    """One labelled count: a category, a status, an aid type... `key` is a catalog key or,
    for the committee's own categories, their name as written."""

    key: str
    count: int


@dataclass(frozen=True)
class MonthCount:
    """A figure for one month (its first day)."""

    month: date
    count: int


@dataclass(frozen=True)
class MemberFigures:
    """组织建设: the membership at the period's end and its movement in the period."""

    total: int  # active members on the period's last day
    women: int
    retirees: int
    joined: int  # became members in the period
    left: int  # left (deactivated) in the period
    roster: int  # people on the staff roster (members, invited, pending) on the last day
    on_telegram: int  # members with the bot
    by_month: tuple[MonthCount, ...] = ()  # members at the end of each month (chart)

    @property
    def join_rate(self) -> float | None:
        """入会率: members among the people on the roster."""
        return rate(self.total, self.roster)


@dataclass(frozen=True)
class SuggestionFigures:
    """意见箱: items received in the period and what became of them."""

    received: int
    anonymous: int
    answered: int  # received in the period and answered (at any time up to now)
    answered_in_time: int  # first answer within `answer_days` days of receipt
    answer_days: int
    closed: int
    by_category: tuple[Count, ...] = ()

    @property
    def answer_rate(self) -> float | None:
        """答复率."""
        return rate(self.answered, self.received)


@dataclass(frozen=True)
class CongressFigures:
    """教代会提案: one staff-congress session opened in the period."""

    title: str
    rates: SessionRates  # 36 collected, merged into 18, filed, answered, rates
    by_status: tuple[Count, ...] = ()  # proposals by status (chart)


@dataclass(frozen=True)
class AidLine:
    """One aid type: 人次 (paid cases), distinct people and money."""

    aid_type: str  # models.aid.AidType value
    cases: int
    people: int
    paid: int  # fen, corrections included


@dataclass(frozen=True)
class AidFigures:
    """维权帮扶: paid care and aid by type, by payment day."""

    lines: tuple[AidLine, ...] = ()
    visits_without_money: int = 0  # care visits the committee made and recorded, no payment

    @property
    def cases(self) -> int:
        """All paid cases (人次)."""
        return sum(line.cases for line in self.lines)

    @property
    def paid(self) -> int:
        """All money paid (fen): 总计慰问金."""
        return sum(line.paid for line in self.lines)


@dataclass(frozen=True)
class HardshipFigures:
    """困难职工档案."""

    on_file: int  # active files on the period's last day
    opened: int
    closed: int


@dataclass(frozen=True)
class ActivityLine:
    """One activity category in the period."""

    category: str  # models.activities.ActivityCategory value
    held: int  # activities that started in the period and were not cancelled
    signed_up: int  # signed up and not cancelled: seats and waiting (the 活动台账's 报名人数)
    participants: int  # checked in where check-in was used, else signed up with a seat
    eligible: int  # summed over the activities, ages on each activity's own day


@dataclass(frozen=True)
class ActivityFigures:
    """文体活动."""

    lines: tuple[ActivityLine, ...] = ()
    by_month: tuple[MonthCount, ...] = ()  # activities held per month (chart)

    @property
    def held(self) -> int:
        """Activities held."""
        return sum(line.held for line in self.lines)

    @property
    def participants(self) -> int:
        """参与人次."""
        return sum(line.participants for line in self.lines)

    @property
    def participation_rate(self) -> float | None:
        """参与率: participants among the eligible, over all activities."""
        return rate(self.participants, sum(line.eligible for line in self.lines))


@dataclass(frozen=True)
class DemocracyFigures:
    """民主管理 besides proposals: ballots, notices (公示), improvement ideas."""

    ballots: int  # ballots closed in the period
    notices: int  # public notices published in the period
    notices_with_objections: int
    ideas: int  # improvement ideas (合理化建议) received
    ideas_adopted: int


@dataclass(frozen=True)
class MessageFigures:
    """What the bot sent on the committee's behalf."""

    broadcasts: int  # broadcasts sent
    greetings: int  # greeting messages delivered (calendar greetings and birthdays)


@dataclass(frozen=True)
class ReportFigures:
    """Everything one report shows."""

    organization: str
    period: ReportPeriod
    members: MemberFigures
    suggestions: SuggestionFigures
    congresses: tuple[CongressFigures, ...]
    aid: AidFigures
    hardship: HardshipFigures
    activities: ActivityFigures
    democracy: DemocracyFigures
    messages: MessageFigures
    notes: tuple[str, ...] = field(default=())  # catalog keys of caveats shown under the figures
