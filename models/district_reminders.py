"""Which schools still owe the district something close to its deadline: a team for a contest
whose entries close within two days, evidence for an assessment due within two days. Read by
the daily district reminders (scheduler/district_reminders.py), which tell only those schools'
chairs. Counts only: no evidence text, no team or player names leave here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.assessment import (
    Assessment,
    AssessmentItem,
    AssessmentStatus,
    AssessmentSubmission,
)
from models.district import schools_of
from models.district_contests import ContestStatus, ContestTeam, DistrictContest

REMIND_DAYS = 2  # schools are reminded from this many days before the deadline's day


@dataclass(frozen=True)
class ContestOwed:
    """An open contest closing soon and the schools of its district without a team."""

    contest: DistrictContest
    school_ids: list[int]


@dataclass(frozen=True)
class EvidenceOwed:
    """An open assessment due soon and, per school, how many required items lack evidence."""

    assessment: Assessment
    missing: dict[int, int]


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


async def evidence_owed(session: AsyncSession, *, today: date) -> list[EvidenceOwed]:
    """Open assessments due today or within REMIND_DAYS days, with the schools that have not
    sent evidence for every item that requires it (and how many they lack)."""
    query = select(Assessment).where(
        Assessment.status == AssessmentStatus.OPEN,
        col(Assessment.deadline).is_not(None),
        col(Assessment.deadline) >= today,
    )
    owed: list[EvidenceOwed] = []
    for assessment in await session.exec(query.order_by(col(Assessment.id))):
        if assessment.deadline is None or (assessment.deadline - today).days > REMIND_DAYS:
            continue
        required = select(AssessmentItem.id).where(
            AssessmentItem.assessment_id == assessment.id,
            col(AssessmentItem.evidence_required).is_(True),
        )
        needed = len(list(await session.exec(required)))
        sent = await session.exec(
            select(AssessmentSubmission.school_id, func.count())
            .where(col(AssessmentSubmission.item_id).in_(required))
            .group_by(col(AssessmentSubmission.school_id))
        )
        done = {school_id: int(count) for school_id, count in sent}
        schools = await schools_of(session, district_id=assessment.district_id)
        missing = {
            school.id: needed - done.get(school.id, 0)
            for school in schools
            if school.id is not None and needed > done.get(school.id, 0)
        }
        if missing:
            owed.append(EvidenceOwed(assessment, missing))
    return owed
