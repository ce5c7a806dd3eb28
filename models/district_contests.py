"""District contests (区教职工运动会, 技能大赛 …) between the schools' teams, and the district's
selection of 优秀提案 among those its schools' committees already marked excellent.

Seeds: 004 "五一前, 地区教育工会将与地区工会联合组织开展地区教职工技能大赛" and "做好优秀提案征集、
评选和表彰工作"; 002/003 "参加市教工运动会 … 排名13" and "评出了一、二、三等奖". So a contest takes
one team per school (entered by the school's chair or vice-chair until the entry deadline), and
each team gets an award (一等奖 … 优秀奖) or a place number; the district publishes the results.

The school-level equivalents stay where they are: models/activities.Team is a department's team
in a school's own contest; models/proposals.mark_excellent is a school committee's 优秀提案.
Here a school's chair nominates up to `quota` of those (`Proposal.excellent`) and the district
selects among the nominated ones.

Guards in the database: one team per school and contest (unique; entering again updates it),
one nomination per proposal and round (unique); an entry or a nomination is written only while
the contest or round row is held open in the same transaction (`_hold`), so neither follows a
deadline, a publication or a close pressed at the same moment, and the quota is counted under
that hold.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, String, Text, UniqueConstraint, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.assessment import answers_for_school
from models.base import UTCDateTime, utcnow
from models.district import get_school, is_district_staff, require_recusal
from models.errors import N_, DomainError, InputError
from models.members import Actor
from models.organizations import Organization, OrgKind
from models.proposals import Proposal
from models.validation import clean_text

TITLE_LIMIT = 60
PLACE_LIMIT = 60
ABOUT_LIMIT = 500
TEAM_NAME_LIMIT = 30
PLAYER_NAME_LIMIT = 20
TEAM_SIZE_MAX = 50
DEFAULT_QUOTA = 3
QUOTA_MAX = 20


class ContestKind(StrEnum):
    """What the district runs."""

    SPORTS = "sports"  # 运动会
    SKILLS = "skills"  # 技能大赛
    OTHER = "other"


class ContestStatus(StrEnum):
    """Open for entries and results; published once."""

    OPEN = "open"
    PUBLISHED = "published"


class Award(StrEnum):
    """The awards of the seeds (一、二、三等奖, 优秀奖); a place number is the other result."""

    FIRST = "first"
    SECOND = "second"
    THIRD = "third"
    MERIT = "merit"


class DistrictContest(SQLModel, table=True):
    """A contest the district runs between its schools."""

    __tablename__ = "district_contest"
    __table_args__ = (
        UniqueConstraint("client_token", name="uq_district_contest_token"),
        CheckConstraint("kind IN ('sports', 'skills', 'other')", name="ck_district_contest_kind"),
        CheckConstraint("status IN ('open', 'published')", name="ck_district_contest_status"),
        CheckConstraint(
            f"team_size >= 1 AND team_size <= {TEAM_SIZE_MAX}", name="ck_district_contest_size"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    district_id: int = Field(foreign_key="organization.id", index=True)
    title: str = Field(max_length=TITLE_LIMIT)
    kind: str = Field(sa_type=String(16))
    starts_at: datetime = Field(sa_type=UTCDateTime)
    place: str = Field(max_length=PLACE_LIMIT)
    deadline: datetime = Field(sa_type=UTCDateTime)  # entries until then
    team_size: int
    about: str | None = Field(default=None, sa_type=Text, nullable=True)
    status: str = Field(default=ContestStatus.OPEN, sa_type=String(16))
    client_token: str = Field(sa_type=String(32))  # the form's: Confirm twice makes one
    created_by_member_id: int = Field(foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ContestTeam(SQLModel, table=True):
    """A school's team in a contest (one per school; entering again changes it), and its
    result once the district records it."""

    __tablename__ = "district_contest_team"
    __table_args__ = (
        UniqueConstraint("contest_id", "school_id", name="uq_district_contest_team_school"),
        CheckConstraint(
            "award IS NULL OR award IN ('first', 'second', 'third', 'merit')",
            name="ck_district_contest_team_award",
        ),
        CheckConstraint(
            "(award IS NULL OR place IS NULL) AND (place IS NULL OR place >= 1)",
            name="ck_district_contest_team_result",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    contest_id: int = Field(foreign_key="district_contest.id", index=True)
    school_id: int = Field(foreign_key="organization.id", index=True)
    name: str = Field(max_length=TEAM_NAME_LIMIT)
    players: str = Field(sa_type=Text)  # one name a line
    entered_by_member_id: int = Field(foreign_key="member.id")
    entered_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    award: str | None = Field(default=None, sa_type=String(16), nullable=True)
    place: int | None = None
    result_by_member_id: int | None = Field(default=None, foreign_key="member.id")

    def player_list(self) -> list[str]:
        """The players, in the order typed."""
        return [name for name in self.players.split("\n") if name]

    @property
    def has_result(self) -> bool:
        """An award or a place is recorded."""
        return self.award is not None or self.place is not None


class ExcellentRound(SQLModel, table=True):
    """The district's selection of 优秀提案 for one year."""

    __tablename__ = "district_excellent_round"
    __table_args__ = (
        UniqueConstraint("district_id", "year", name="uq_district_excellent_year"),
        CheckConstraint("status IN ('open', 'published')", name="ck_district_excellent_status"),
        CheckConstraint(f"quota >= 1 AND quota <= {QUOTA_MAX}", name="ck_district_excellent_quota"),
    )

    id: int | None = Field(default=None, primary_key=True)
    district_id: int = Field(foreign_key="organization.id", index=True)
    year: int
    quota: int = DEFAULT_QUOTA  # nominations per school
    status: str = Field(default=ContestStatus.OPEN, sa_type=String(16))
    created_by_member_id: int = Field(foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ExcellentNomination(SQLModel, table=True):
    """A school's nomination of one of its excellent proposals; `selected` by the district."""

    __tablename__ = "district_excellent_nomination"
    __table_args__ = (
        UniqueConstraint("round_id", "proposal_id", name="uq_district_excellent_proposal"),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="district_excellent_round.id", index=True)
    school_id: int = Field(foreign_key="organization.id", index=True)
    proposal_id: int = Field(foreign_key="proposal.id")
    nominated_by_member_id: int = Field(foreign_key="member.id")
    nominated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    selected: bool = False
    selected_by_member_id: int | None = Field(default=None, foreign_key="member.id")


# ---- who ---------------------------------------------------------------------------------


async def _require_staff(session: AsyncSession, *, district_id: int, actor: Actor) -> None:
    district = await session.get(Organization, district_id)
    if not is_district_staff(actor, district):
        raise DomainError(N_("dcontest.not_district_staff"))


async def school_of_chair(
    session: AsyncSession, *, district_id: int, school_id: int, actor: Actor
) -> Organization:
    """The school, refused unless the actor is its chair or vice-chair (a forged id naming
    another school, or a school of another district, is refused)."""
    school = await get_school(session, district_id=district_id, school_id=school_id)
    if not answers_for_school(actor, school):
        if actor.member.organization_id != school.id:
            raise DomainError(N_("dcontest.not_your_school"))
        raise DomainError(N_("dcontest.not_school_chair"))
    return school


async def _hold_contest(session: AsyncSession, contest_id: int) -> bool:
    """Hold the open contest row for this transaction (False: published meanwhile): a
    publication pressed at once waits for this write, or this write sees it published."""
    held = await session.exec(
        update(DistrictContest)
        .where(
            col(DistrictContest.id) == contest_id,
            col(DistrictContest.status) == ContestStatus.OPEN.value,
        )
        .values(status=DistrictContest.status)
    )
    return held.rowcount == 1


async def _hold_round(session: AsyncSession, round_id: int) -> bool:
    """Hold the open selection row for this transaction (False: published meanwhile)."""
    held = await session.exec(
        update(ExcellentRound)
        .where(
            col(ExcellentRound.id) == round_id,
            col(ExcellentRound.status) == ContestStatus.OPEN.value,
        )
        .values(status=ExcellentRound.status)
    )
    return held.rowcount == 1


# ---- contests ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NewContest:
    """What the creating form collected."""

    title: str
    kind: ContestKind
    starts_at: datetime
    place: str
    deadline: datetime
    team_size: int
    about: str | None
    client_token: str


async def create_contest(
    session: AsyncSession, *, district_id: int, actor: Actor, new: NewContest
) -> DistrictContest:
    """District staff create a contest (Confirm pressed twice: the one contest)."""
    await _require_staff(session, district_id=district_id, actor=actor)
    if not 1 <= new.team_size <= TEAM_SIZE_MAX:
        raise InputError(N_("dcontest.size_invalid"), max=TEAM_SIZE_MAX)
    if new.deadline > new.starts_at:
        raise InputError(N_("dcontest.deadline_after_start"))
    contest = DistrictContest(
        district_id=district_id,
        title=clean_text(new.title, limit=TITLE_LIMIT),
        kind=new.kind,
        starts_at=new.starts_at,
        place=clean_text(new.place, limit=PLACE_LIMIT),
        deadline=new.deadline,
        team_size=new.team_size,
        about=new.about,
        client_token=new.client_token,
        created_by_member_id=actor.id,
    )
    session.add(contest)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        same = select(DistrictContest).where(DistrictContest.client_token == new.client_token)
        found = (await session.exec(same)).first()
        if found is None:
            raise
        return found
    await session.refresh(contest)
    return contest


async def get_contest(
    session: AsyncSession, *, district_id: int, contest_id: int
) -> DistrictContest:
    """A contest of this district (ids from buttons can be forged)."""
    contest = await session.get(DistrictContest, contest_id)
    if contest is None or contest.district_id != district_id:
        raise DomainError(N_("dcontest.unknown"))
    return contest


async def contests_of(session: AsyncSession, *, district_id: int) -> list[DistrictContest]:
    """The district's contests, the next first."""
    query = select(DistrictContest).where(DistrictContest.district_id == district_id)
    return list(await session.exec(query.order_by(col(DistrictContest.starts_at).desc())))


def parse_players(text: str, *, team_size: int) -> list[str]:
    """Names one a line (、 and commas split too); refused empty, over the limit or too long."""
    cleaned = clean_text(text, limit=2000, multiline=True)
    names = [
        name.strip()
        for line in cleaned.split("\n")
        for name in re.split(r"[、，,;；]", line)
        if name.strip()
    ]
    if not names:
        raise InputError(N_("dcontest.players_empty"))
    if len(names) > team_size:
        raise InputError(N_("dcontest.players_over"), count=len(names), max=team_size)
    long = [name for name in names if len(name) > PLAYER_NAME_LIMIT]
    if long:
        raise InputError(N_("dcontest.player_too_long"), name=long[0][:30], max=PLAYER_NAME_LIMIT)
    if len(set(names)) != len(names):
        raise InputError(N_("dcontest.players_twice"))
    return names


def check_entries_open(contest: DistrictContest, now: datetime) -> None:
    """Entries are taken until the deadline, and never after the results are out."""
    if contest.status != ContestStatus.OPEN or now > contest.deadline:
        raise DomainError(N_("dcontest.deadline_passed"))


async def team_of(session: AsyncSession, *, contest_id: int, school_id: int) -> ContestTeam | None:
    """The school's team in this contest, if entered."""
    query = select(ContestTeam).where(
        ContestTeam.contest_id == contest_id, ContestTeam.school_id == school_id
    )
    return (await session.exec(query)).first()


async def enter_team(
    session: AsyncSession,
    *,
    district_id: int,
    contest_id: int,
    school_id: int,
    actor: Actor,
    name: str,
    players: Sequence[str],
    now: datetime,
) -> tuple[ContestTeam, bool, int | None]:
    """A school's chair enters (or changes) the school's one team: the team, True when it was
    new, and the member who had entered it when that was someone else (the chair and a
    vice-chair may both enter), to be told it changed."""
    contest = await get_contest(session, district_id=district_id, contest_id=contest_id)
    await school_of_chair(session, district_id=district_id, school_id=school_id, actor=actor)
    check_entries_open(contest, now)
    if not 1 <= len(players) <= contest.team_size:
        raise InputError(N_("dcontest.players_over"), count=len(players), max=contest.team_size)
    name = clean_text(name, limit=TEAM_NAME_LIMIT)
    for attempt in range(2):
        if not await _hold_contest(session, contest_id):
            await session.rollback()
            raise DomainError(N_("dcontest.deadline_passed"))
        team = await team_of(session, contest_id=contest_id, school_id=school_id)
        before = team.entered_by_member_id if team is not None else None
        if team is None:
            team = ContestTeam(
                contest_id=contest_id,
                school_id=school_id,
                name=name,
                players="\n".join(players),
                entered_by_member_id=actor.id,
                entered_at=now,
            )
        else:
            team.name, team.players = name, "\n".join(players)
            team.entered_by_member_id, team.changed_at = actor.id, now
        session.add(team)
        try:
            await session.commit()
        except IntegrityError:
            # Two presses at once: the other one inserted; change that row instead.
            await session.rollback()
            if attempt:
                raise
            continue
        await session.refresh(team)
        return team, before is None, before if before != actor.id else None
    raise AssertionError("unreachable")


async def teams_of(session: AsyncSession, *, contest_id: int) -> list[ContestTeam]:
    """The contest's teams."""
    query = select(ContestTeam).where(ContestTeam.contest_id == contest_id)
    return list(await session.exec(query.order_by(col(ContestTeam.id))))


_AWARD_WORDS = {
    Award.FIRST: ("一等奖", "一等", "1等奖", "first"),
    Award.SECOND: ("二等奖", "二等", "2等奖", "second"),
    Award.THIRD: ("三等奖", "三等", "3等奖", "third"),
    Award.MERIT: ("优秀奖", "優秀獎", "优秀", "優秀", "merit"),
}
_PLACE = re.compile(r"^(?:第)?\s*(\d{1,3})\s*(?:名)?$")


def parse_result(text: str) -> tuple[Award | None, int | None]:
    """一等奖 / 二等奖 / 三等奖 / 优秀奖 (or 一等 …), or a place: 3, 第3名."""
    cleaned = clean_text(text, limit=20).replace(" ", "").lower()
    cleaned = cleaned.replace("獎", "奖")
    for award, words in _AWARD_WORDS.items():
        if cleaned in words:
            return award, None
    found = _PLACE.match(cleaned)
    if found and 1 <= int(found.group(1)) <= 999:
        return None, int(found.group(1))
    raise InputError(N_("dcontest.result_format"))


async def team_for_result(
    session: AsyncSession, *, contest: DistrictContest, team_id: int
) -> ContestTeam:
    """A team of this contest whose result may still be recorded (not yet published)."""
    team = await session.get(ContestTeam, team_id)
    if team is None or team.contest_id != contest.id:
        raise DomainError(N_("dcontest.unknown_team"))
    if contest.status != ContestStatus.OPEN:
        raise DomainError(N_("dcontest.already_published"))
    return team


async def record_result(
    session: AsyncSession,
    *,
    district_id: int,
    contest_id: int,
    team_id: int,
    actor: Actor,
    award: Award | None,
    place: int | None,
) -> ContestTeam:
    """District staff record a team's award or place (again: replaced) until publication."""
    await _require_staff(session, district_id=district_id, actor=actor)
    contest = await get_contest(session, district_id=district_id, contest_id=contest_id)
    team = await team_for_result(session, contest=contest, team_id=team_id)
    await require_recusal(session, actor=actor, school_id=team.school_id)
    team.award = award.value if award is not None else None
    team.place = place
    team.result_by_member_id = actor.id
    session.add(team)
    await session.commit()
    await session.refresh(team)
    return team


async def publish_results(
    session: AsyncSession, *, district_id: int, contest_id: int, actor: Actor
) -> DistrictContest:
    """Publish once (a second press is refused): the results are final from now on."""
    await _require_staff(session, district_id=district_id, actor=actor)
    contest = await get_contest(session, district_id=district_id, contest_id=contest_id)
    teams = await teams_of(session, contest_id=contest_id)
    if not teams or not all(team.has_result for team in teams):
        raise DomainError(N_("dcontest.results_missing"))
    moved = await session.exec(
        update(DistrictContest)
        .where(
            col(DistrictContest.id) == contest_id,
            col(DistrictContest.status) == ContestStatus.OPEN.value,
        )
        .values(status=ContestStatus.PUBLISHED, published_at=utcnow())
    )
    if moved.rowcount != 1:
        await session.rollback()
        raise DomainError(N_("dcontest.already_published"))
    await session.commit()
    await session.refresh(contest)
    return contest


_AWARD_ORDER = {award.value: index for index, award in enumerate(Award)}


def result_order(team: ContestTeam) -> tuple[int, int, int]:
    """Awards first (一等奖 … 优秀奖), then places, then teams without a result."""
    if team.award is not None:
        return (0, _AWARD_ORDER.get(team.award, 9), 0)
    if team.place is not None:
        return (1, team.place, 0)
    return (2, 0, team.id or 0)


# ---- 优秀提案 ----------------------------------------------------------------------------


async def open_round(
    session: AsyncSession, *, district_id: int, actor: Actor, year: int, quota: int
) -> tuple[ExcellentRound, bool]:
    """District staff open the year's selection (again: the one round); True when new."""
    await _require_staff(session, district_id=district_id, actor=actor)
    if not 1 <= quota <= QUOTA_MAX:
        raise InputError(N_("dexcel.quota_invalid"), max=QUOTA_MAX)
    found = await round_of_year(session, district_id=district_id, year=year)
    if found is not None:
        return found, False
    row = ExcellentRound(
        district_id=district_id, year=year, quota=quota, created_by_member_id=actor.id
    )
    session.add(row)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        found = await round_of_year(session, district_id=district_id, year=year)
        if found is None:
            raise
        return found, False
    await session.refresh(row)
    return row, True


async def round_of_year(
    session: AsyncSession, *, district_id: int, year: int
) -> ExcellentRound | None:
    """The district's selection of that year."""
    query = select(ExcellentRound).where(
        ExcellentRound.district_id == district_id, ExcellentRound.year == year
    )
    return (await session.exec(query)).first()


async def get_round(session: AsyncSession, *, district_id: int, round_id: int) -> ExcellentRound:
    """A selection of this district (ids from buttons can be forged)."""
    row = await session.get(ExcellentRound, round_id)
    if row is None or row.district_id != district_id:
        raise DomainError(N_("dexcel.unknown"))
    return row


async def excellent_of_school(session: AsyncSession, *, school_id: int) -> list[Proposal]:
    """The school's proposals its committee marked excellent, newest first."""
    query = select(Proposal).where(Proposal.organization_id == school_id, col(Proposal.excellent))
    return list(await session.exec(query.order_by(col(Proposal.id).desc())))


async def nominations_of(
    session: AsyncSession, *, round_id: int, school_id: int | None = None
) -> list[ExcellentNomination]:
    """The round's nominations (of one school), in the order made."""
    query = select(ExcellentNomination).where(ExcellentNomination.round_id == round_id)
    if school_id is not None:
        query = query.where(ExcellentNomination.school_id == school_id)
    return list(await session.exec(query.order_by(col(ExcellentNomination.id))))


async def nominate(
    session: AsyncSession,
    *,
    district_id: int,
    round_id: int,
    school_id: int,
    proposal_id: int,
    actor: Actor,
) -> tuple[ExcellentNomination, bool]:
    """A school's chair nominates one of the school's excellent proposals (again: the one
    nomination); refused for another school's, a not-excellent one, or over the quota."""
    row = await get_round(session, district_id=district_id, round_id=round_id)
    school = await school_of_chair(
        session, district_id=district_id, school_id=school_id, actor=actor
    )
    proposal = await session.get(Proposal, proposal_id)
    if proposal is None or proposal.organization_id != school.id:
        raise DomainError(N_("dexcel.not_your_proposal"))
    if not proposal.excellent:
        raise DomainError(N_("dexcel.not_excellent"))
    if not await _hold_round(session, round_id):
        await session.rollback()
        raise DomainError(N_("dexcel.closed"))
    same = select(ExcellentNomination).where(
        ExcellentNomination.round_id == round_id, ExcellentNomination.proposal_id == proposal_id
    )
    found = (await session.exec(same)).first()
    if found is not None:
        await session.rollback()  # let go of the round row: nothing is written
        await session.refresh(found)
        return found, False
    # Counted under the hold on the round row: two presses at once cannot both pass.
    taken = await session.exec(
        select(func.count())
        .select_from(ExcellentNomination)
        .where(ExcellentNomination.round_id == round_id, ExcellentNomination.school_id == school_id)
    )
    quota = row.quota
    if taken.one() >= quota:
        await session.rollback()
        raise DomainError(N_("dexcel.over_quota"), quota=quota)
    nomination = ExcellentNomination(
        round_id=round_id,
        school_id=school_id,
        proposal_id=proposal_id,
        nominated_by_member_id=actor.id,
    )
    session.add(nomination)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        found = (await session.exec(same)).first()
        if found is None:
            raise
        return found, False
    await session.refresh(nomination)
    return nomination, True


async def withdraw_nomination(
    session: AsyncSession,
    *,
    district_id: int,
    school_id: int,
    nomination_id: int,
    actor: Actor,
) -> ExcellentNomination:
    """A school's chair takes back one of the school's nominations while the round is open
    (to nominate another within the quota)."""
    await school_of_chair(session, district_id=district_id, school_id=school_id, actor=actor)
    nomination = await session.get(ExcellentNomination, nomination_id)
    if nomination is None or nomination.school_id != school_id:
        raise DomainError(N_("dexcel.not_your_proposal"))
    await get_round(session, district_id=district_id, round_id=nomination.round_id)
    if not await _hold_round(session, nomination.round_id):
        await session.rollback()
        raise DomainError(N_("dexcel.closed"))
    await session.delete(nomination)
    await session.commit()
    return nomination


async def select_nomination(
    session: AsyncSession,
    *,
    district_id: int,
    nomination_id: int,
    actor: Actor,
    selected: bool,
) -> ExcellentNomination:
    """District staff select (or unselect) a nominated proposal as the district's 优秀提案."""
    await _require_staff(session, district_id=district_id, actor=actor)
    nomination = await session.get(ExcellentNomination, nomination_id)
    if nomination is None:
        raise DomainError(N_("dexcel.unknown"))
    row = await get_round(session, district_id=district_id, round_id=nomination.round_id)
    if row.status != ContestStatus.OPEN:
        raise DomainError(N_("dexcel.closed"))
    await require_recusal(session, actor=actor, school_id=nomination.school_id)
    nomination.selected = selected
    nomination.selected_by_member_id = actor.id if selected else None
    session.add(nomination)
    await session.commit()
    await session.refresh(nomination)
    return nomination


async def publish_round(
    session: AsyncSession, *, district_id: int, round_id: int, actor: Actor
) -> ExcellentRound:
    """Publish the selection once: nominations and selections end here."""
    await _require_staff(session, district_id=district_id, actor=actor)
    row = await get_round(session, district_id=district_id, round_id=round_id)
    moved = await session.exec(
        update(ExcellentRound)
        .where(
            col(ExcellentRound.id) == round_id,
            col(ExcellentRound.status) == ContestStatus.OPEN.value,
        )
        .values(status=ContestStatus.PUBLISHED, published_at=utcnow())
    )
    if moved.rowcount != 1:
        await session.rollback()
        raise DomainError(N_("dexcel.closed"))
    await session.commit()
    await session.refresh(row)
    return row


def is_district(org: Organization | None) -> bool:
    """The organization is a district union."""
    return org is not None and org.kind == OrgKind.DISTRICT
