"""Report figures built by hand: the seed's year (seed 003, 篇一 and 篇四) and an empty period.

The aid and the proposals are the seed's numbers: hospital visits 16 人次 4,000 yuan, new
mothers 5 and 2,500, bereavements 2 and 20,000, retirees 2 and 2,000, 6 hardship files and
6,000: 34,500 yuan in all; 36 proposals collected, merged into 18. The rest is a plausible
school of 126 members.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from models.proposals import Figures as SessionRates
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
from models.reports.period import ReportPeriod, year_period

ORGANIZATION = "实验小学工会"
SESSION = "第八届教代会第一次会议"
SEED_YEAR = 2026

# Members at the end of each month of the seed year.
MEMBERS_BY_MONTH = (118, 118, 119, 120, 120, 121, 121, 121, 125, 126, 126, 126)
# Activities held in each month of the seed year (10 in all).
ACTIVITIES_BY_MONTH = (0, 0, 2, 2, 1, 0, 0, 0, 1, 2, 1, 1)


def seed_aid() -> AidFigures:
    """The seed's care ledger: 34,500 yuan in all (money in fen)."""
    return AidFigures(
        lines=(
            AidLine("hospital", cases=16, people=14, paid=400_000),
            AidLine("childbirth", cases=5, people=5, paid=250_000),
            AidLine("bereavement", cases=2, people=2, paid=2_000_000),
            AidLine("retirement", cases=2, people=2, paid=200_000),
            AidLine("hardship", cases=6, people=6, paid=600_000),
        ),
        visits_without_money=0,
    )


def seed_congress(title: str = SESSION) -> CongressFigures:
    """The seed's session: 36 proposals collected, merged into 18."""
    rates = SessionRates(
        collected=36,
        submitted=18,
        filed=15,
        answered=15,
        closed=12,
        satisfied=13,
        rated=14,
        done=9,
        doing=4,
        planned=1,
        cannot=1,
    )
    by_status = (
        Count("proposal.status.closed", 12),
        Count("proposal.status.answered", 3),
        Count("proposal.status.converted", 2),
        Count("proposal.status.not_filed", 1),
    )
    return CongressFigures(title=title, rates=rates, by_status=by_status)


def seed_figures(
    period: ReportPeriod | None = None, organization: str = ORGANIZATION, **changes: Any
) -> ReportFigures:
    """The seed's year; `changes` replace whole parts (aid=AidFigures(), congresses=())."""
    period = period or year_period(SEED_YEAR)
    months = period.months()
    figures = ReportFigures(
        organization=organization,
        period=period,
        members=MemberFigures(
            total=126,
            women=78,
            retirees=12,
            joined=9,
            left=1,
            roster=132,
            on_telegram=110,
            by_month=tuple(
                MonthCount(month, count)
                for month, count in zip(months, MEMBERS_BY_MONTH, strict=False)
            ),
        ),
        suggestions=SuggestionFigures(
            received=24,
            anonymous=9,
            answered=22,
            answered_in_time=19,
            answer_days=7,
            closed=20,
            by_category=(Count("category.teaching", 9), Count("category.canteen", 8)),
        ),
        congresses=(seed_congress(),),
        aid=seed_aid(),
        hardship=HardshipFigures(on_file=6, opened=6, closed=2),
        activities=ActivityFigures(
            lines=(
                ActivityLine("sport", held=5, signed_up=260, participants=240, eligible=630),
                ActivityLine("culture", held=3, signed_up=130, participants=120, eligible=378),
                ActivityLine("health", held=1, signed_up=118, participants=116, eligible=126),
                ActivityLine("lecture", held=1, signed_up=70, participants=64, eligible=126),
            ),
            by_month=tuple(
                MonthCount(month, count)
                for month, count in zip(months, ACTIVITIES_BY_MONTH, strict=False)
                if count
            ),
        ),
        democracy=DemocracyFigures(
            ballots=3, notices=5, notices_with_objections=1, ideas=54, ideas_adopted=17
        ),
        messages=MessageFigures(broadcasts=40, greetings=380),
    )
    return replace(figures, **changes)


def empty_figures(period: ReportPeriod | None = None) -> ReportFigures:
    """A period where nothing happened and nobody is a member yet."""
    period = period or year_period(SEED_YEAR)
    return ReportFigures(
        organization=ORGANIZATION,
        period=period,
        members=MemberFigures(
            total=0, women=0, retirees=0, joined=0, left=0, roster=0, on_telegram=0
        ),
        suggestions=SuggestionFigures(
            received=0, anonymous=0, answered=0, answered_in_time=0, answer_days=7, closed=0
        ),
        congresses=(),
        aid=AidFigures(),
        hardship=HardshipFigures(on_file=0, opened=0, closed=0),
        activities=ActivityFigures(),
        democracy=DemocracyFigures(
            ballots=0, notices=0, notices_with_objections=0, ideas=0, ideas_adopted=0
        ),
        messages=MessageFigures(broadcasts=0, greetings=0),
    )
