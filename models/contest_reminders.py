"""Which schools still owe the district a team for a contest whose entries close within two
days. Read by the daily district reminder (scheduler/contest_reminders.py), which tells only
those schools' chairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.district import schools_of
from models.district_contests import ContestStatus, ContestTeam, DistrictContest

REMIND_DAYS = 2  # schools are reminded from this many days before the deadline's day


@dataclass(frozen=True)
class ContestOwed:
    """An open contest closing soon and the schools of its district without a team."""

    contest: DistrictContest
    school_ids: list[int]


async def contests_owed(session: AsyncSession, *, now: datetime, zone: tzinfo) -> list[ContestOwed]:
    """Open contests whose entries close within REMIND_DAYS days (counted on the union's
    calendar) and are still open now, with the schools that have not entered."""
    today = now.astimezone(zone).date()
    query = select(DistrictContest).where(
        DistrictContest.status == ContestStatus.OPEN, col(DistrictContest.deadline) > now
    )
    owed: list[ContestOwed] = []
    for contest in await session.exec(query.order_by(col(DistrictContest.id))):
        if (contest.deadline.astimezone(zone).date() - today).days > REMIND_DAYS:
            continue
        entered = set(
            await session.exec(
                select(ContestTeam.school_id).where(ContestTeam.contest_id == contest.id)
            )
        )
        schools = await schools_of(session, district_id=contest.district_id)
        missing = [school.id for school in schools if school.id and school.id not in entered]
        if missing:
            owed.append(ContestOwed(contest, missing))
    return owed
