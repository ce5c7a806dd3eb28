"""The district's annual assessment of its schools' unions (目标管理考核 / 年度考核).

Seed 004: the district turned its two-yearly 目标管理责任考核 into a yearly one and signs a
目标责任书 with each school; its 校务公开 assessment is to reach 评估合格率达100%. Seed 000: the
school's own 考评方案 is "quantified targets" (目标量化). So an assessment is a checklist of items
with points (summing to 100 by default), each school sends evidence per item, and the district
scores each school item by item; a school's total decides its rank and whether it passes (合格).

An assessment moves draft -> open -> closed, each step guarded in the database (`UPDATE ...
WHERE status = ...`: two presses give one change). The guards that matter are in the database:

- a score outside 0..max points is refused by a CHECK on the score row, which carries its item's
  max points under a composite foreign key to (item id, max points): the copy cannot differ;
- a school's submission is written only while the assessment row is held open in the same
  transaction (`_hold`), so a submission cannot follow a close that was pressed at once;
- one score per school and item (unique): scoring again replaces it, with who and when.

A submission is evidence about the union's work (制度, 次数, 金额, 做法): the prompt asks for no
names, no hardship stories and no ballots, and nothing here reads aid cases, anonymous items or
ballots.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    ForeignKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import written
from models.base import UTCDateTime, utcnow
from models.district import get_school, is_district_staff, require_recusal, school_ids, schools_of
from models.errors import N_, DomainError, InputError
from models.members import Actor, Member, MemberRole, MemberStatus, Role
from models.organizations import Organization, OrgKind
from models.validation import clean_text

TITLE_LIMIT = 100
EVIDENCE_LIMIT = 1500
NOTE_LIMIT = 200
FILE_NAME_LIMIT = 120
PASS_MARK = 60  # 合格: a total of 60 or more (out of 100 with the default checklist)
SCHOOL_OFFICES = frozenset({Role.CHAIR, Role.VICE_CHAIR})  # who answers for a school


class AssessmentStatus(StrEnum):
    """Where an assessment stands."""

    DRAFT = "draft"  # created, schools not told yet
    OPEN = "open"  # schools send evidence; the district scores
    CLOSED = "closed"  # no more evidence; the district may still score


class Assessment(SQLModel, table=True):
    """One district's assessment of one year."""

    __table_args__ = (
        UniqueConstraint("district_id", "year", name="uq_assessment_year"),
        CheckConstraint("status IN ('draft', 'open', 'closed')", name="ck_assessment_status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    district_id: int = Field(foreign_key="organization.id", index=True)
    year: int
    title: str = Field(max_length=TITLE_LIMIT)
    deadline: date | None = Field(default=None, nullable=True)
    status: str = Field(default=AssessmentStatus.DRAFT, sa_type=String(16))
    created_by_member_id: int = Field(foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AssessmentItem(SQLModel, table=True):
    """One item of the checklist and its points."""

    __tablename__ = "assessment_item"
    __table_args__ = (
        UniqueConstraint("assessment_id", "position", name="uq_assessment_item_position"),
        # The target of the score's composite foreign key (the score carries the max points).
        UniqueConstraint("id", "max_points", name="uq_assessment_item_points"),
        CheckConstraint("max_points > 0", name="ck_assessment_item_points"),
    )

    id: int | None = Field(default=None, primary_key=True)
    assessment_id: int = Field(foreign_key="assessment.id", index=True)
    position: int
    title: str = Field(max_length=TITLE_LIMIT)
    max_points: int
    evidence_required: bool = True


class AssessmentSubmission(SQLModel, table=True):
    """A school's evidence for one item (a text, a document, or both); the last one counts."""

    __tablename__ = "assessment_submission"
    __table_args__ = (
        UniqueConstraint("item_id", "school_id", name="uq_assessment_submission"),
        CheckConstraint(
            "evidence IS NOT NULL OR file_id IS NOT NULL", name="ck_assessment_submission_some"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="assessment_item.id", index=True)
    school_id: int = Field(foreign_key="organization.id", index=True)
    evidence: str | None = Field(default=None, sa_type=Text, nullable=True)
    file_id: str | None = Field(default=None, sa_type=String(200), nullable=True)
    file_name: str | None = Field(default=None, sa_type=String(FILE_NAME_LIMIT), nullable=True)
    submitted_by_member_id: int = Field(foreign_key="member.id")
    submitted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AssessmentScore(SQLModel, table=True):
    """The district's score of one school on one item; scoring again replaces it."""

    __tablename__ = "assessment_score"
    __table_args__ = (
        UniqueConstraint("item_id", "school_id", name="uq_assessment_score"),
        ForeignKeyConstraint(
            ["item_id", "max_points"],
            ["assessment_item.id", "assessment_item.max_points"],
            name="fk_assessment_score_item_points",
        ),
        CheckConstraint("points >= 0 AND points <= max_points", name="ck_assessment_score_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(index=True)
    max_points: int  # the item's, copied so the CHECK can see it (the foreign key keeps it true)
    school_id: int = Field(foreign_key="organization.id", index=True)
    points: int
    note: str | None = Field(default=None, sa_type=Text, nullable=True)
    scored_by_member_id: int = Field(foreign_key="member.id")
    scored_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# ---- the default checklist ---------------------------------------------------------------


@dataclass(frozen=True)
class ChecklistItem:
    """An item of the default checklist, with where the seeds ask for it."""

    title: str
    max_points: int
    evidence_required: bool
    source: str


# What districts assess, from the seeds (shared/seeds/); the points are ours, weighted by how
# much of the seeds' targets each carries, and sum to 100.
DEFAULT_CHECKLIST: tuple[ChecklistItem, ...] = (
    ChecklistItem(
        "校务公开",
        20,
        True,
        "seed 004 §4 校务公开评估考核, 评估合格率达100%; seed 000 §二.2 六个一 (公示栏, 意见箱); "
        "seed 003 校务公开制度化",
    ),
    ChecklistItem(
        "教代会制度",
        20,
        True,
        "seed 004 §3 规范教代会程序 (教代会程序规范年); seed 003 篇五 每学年1-2次教代会; "
        "seed 001 完善教代会的评估和考核",
    ),
    ChecklistItem(
        "提案征集与办理",
        15,
        True,
        "seed 004 §3 优秀提案征集评选表彰, 提案落实率达95%以上; seed 003 篇一 36件提案合并为18件",
    ),
    ChecklistItem(
        "民主评议干部",
        10,
        True,
        "seed 004 §3 加大民主评议干部力度; seed 003 每学期末对中层以上干部进行考核",
    ),
    ChecklistItem(
        "困难帮扶与慰问",
        10,
        True,
        "seed 003 篇四 慰问台账 (住院16人次4000元 ...), 篇七 六必访; "
        "seed 004 §1 维护教职工合法权益",
    ),
    ChecklistItem(
        "职工之家建设",
        10,
        True,
        "seed 004 §6 教工之家建设, 模范教工之家推荐验收, 建家台账档案; seed 003 建家考核",
    ),
    ChecklistItem(
        "文体活动",
        5,
        False,
        "seed 002 文体活动, 参与率不高; seed 003 篮球 拔河 合唱 心理健康讲座",
    ),
    ChecklistItem(
        "师德建设与技能竞赛",
        5,
        False,
        "seed 004 §5 创争活动, 树创献, 教职工技能大赛; seed 003 师德量化考核, 劳动竞赛",
    ),
    ChecklistItem(
        "女职工工作",
        5,
        False,
        "seed 004 §3 进一步加强女工委工作; seed 003 巾帼示范岗, 女职工妇科检查",
    ),
)


def default_title(year: int) -> str:
    """二〇二六 is how the seeds write a year; digits read better in a chat."""
    return f"{year}年度学校工会目标管理考核"


# ---- the assessment's life ---------------------------------------------------------------


async def _district(session: AsyncSession, district_id: int) -> Organization:
    district = await session.get(Organization, district_id)
    if district is None or district.kind != OrgKind.DISTRICT:
        raise DomainError(N_("assess.no_district"))
    return district


async def _require_staff(session: AsyncSession, *, district_id: int, actor: Actor) -> None:
    if not is_district_staff(actor, await _district(session, district_id)):
        raise DomainError(N_("assess.not_district_staff"))


async def create_assessment(
    session: AsyncSession,
    *,
    district_id: int,
    actor: Actor,
    year: int,
    deadline: date | None = None,
    checklist: Sequence[ChecklistItem] = DEFAULT_CHECKLIST,
) -> Assessment:
    """District staff create the year's assessment (a draft) from a checklist; a second one
    for the same year is refused (unique in the database: two presses, one assessment)."""
    await _require_staff(session, district_id=district_id, actor=actor)
    found = await assessment_of_year(session, district_id=district_id, year=year)
    if found is not None:
        raise DomainError(N_("assess.exists"), year=year)
    assessment = Assessment(
        district_id=district_id,
        year=year,
        title=default_title(year),
        deadline=deadline,
        created_by_member_id=actor.id,
    )
    session.add(assessment)
    try:
        await session.flush()
        for position, item in enumerate(checklist, start=1):
            session.add(
                AssessmentItem(
                    assessment_id=assessment.id or 0,
                    position=position,
                    title=item.title,
                    max_points=item.max_points,
                    evidence_required=item.evidence_required,
                )
            )
        await session.commit()
    except IntegrityError:  # created at the same moment by another press
        await session.rollback()
        raise DomainError(N_("assess.exists"), year=year) from None
    return assessment


async def _move(
    session: AsyncSession,
    *,
    assessment: Assessment,
    before: AssessmentStatus,
    after: AssessmentStatus,
    refusal: str,
) -> Assessment:
    values: dict[str, object] = {"status": after.value}
    values["opened_at" if after == AssessmentStatus.OPEN else "closed_at"] = utcnow()
    done = await session.exec(
        update(Assessment)
        .where(col(Assessment.id) == assessment.id, col(Assessment.status) == before.value)
        .values(**values)
    )
    await session.commit()
    if done.rowcount != 1:
        raise DomainError(refusal, title=assessment.title)
    await session.refresh(assessment)
    return assessment


async def open_assessment(
    session: AsyncSession, *, district_id: int, assessment_id: int, actor: Actor
) -> Assessment:
    """Open a draft to the schools (guarded: two presses open it once, the second refused)."""
    await _require_staff(session, district_id=district_id, actor=actor)
    assessment = await get_assessment(session, district_id=district_id, assessment_id=assessment_id)
    return await _move(
        session,
        assessment=assessment,
        before=AssessmentStatus.DRAFT,
        after=AssessmentStatus.OPEN,
        refusal=N_("assess.not_draft"),
    )


async def close_assessment(
    session: AsyncSession, *, district_id: int, assessment_id: int, actor: Actor
) -> Assessment:
    """Close it: no school can send or change evidence afterwards (guarded in the database)."""
    await _require_staff(session, district_id=district_id, actor=actor)
    assessment = await get_assessment(session, district_id=district_id, assessment_id=assessment_id)
    return await _move(
        session,
        assessment=assessment,
        before=AssessmentStatus.OPEN,
        after=AssessmentStatus.CLOSED,
        refusal=N_("assess.not_open"),
    )


async def set_deadline(
    session: AsyncSession, *, district_id: int, assessment_id: int, actor: Actor, deadline: date
) -> Assessment:
    """District staff set (or move) the day evidence is due, while the assessment is a draft
    or open; after the close it is refused. Informational: the close itself is pressed."""
    await _require_staff(session, district_id=district_id, actor=actor)
    assessment = await get_assessment(session, district_id=district_id, assessment_id=assessment_id)
    result = await session.exec(
        update(Assessment)
        .where(
            col(Assessment.id) == assessment_id,
            col(Assessment.status).in_([AssessmentStatus.DRAFT, AssessmentStatus.OPEN]),
        )
        .values(deadline=deadline)
    )
    await session.commit()
    if result.rowcount != 1:
        raise DomainError(N_("assess.closed_no_deadline"), title=assessment.title)
    await session.refresh(assessment)
    return assessment


async def _hold(session: AsyncSession, *, assessment_id: int, allowed: Sequence[str]) -> bool:
    """Begin a write that depends on the assessment's status: the row is written as it is
    only while its status is one of `allowed`, so it stays locked until the caller commits and
    a close pressed at once waits for this write (or this write sees it closed)."""
    held = await session.exec(
        update(Assessment)
        .where(col(Assessment.id) == assessment_id, col(Assessment.status).in_(allowed))
        .values(status=Assessment.status)
    )
    return held.rowcount == 1


def check_open_for_schools(assessment: Assessment) -> None:
    """Refuse evidence unless the assessment is open (the write itself is guarded too)."""
    if assessment.status == AssessmentStatus.DRAFT:
        raise DomainError(N_("assess.draft_for_schools"), title=assessment.title)
    if assessment.status != AssessmentStatus.OPEN:
        raise DomainError(N_("assess.closed_for_schools"), title=assessment.title)


def check_openable(assessment: Assessment, *, today: date) -> None:
    """Refuse opening with a due date already past (the chairs would be told a past day and
    never reminded): the staff set another day first."""
    if assessment.deadline is not None and assessment.deadline < today:
        raise DomainError(N_("assess.deadline_passed"), date=assessment.deadline.isoformat())


def check_deadline_settable(assessment: Assessment) -> None:
    """Refuse a deadline once the assessment is closed (the write itself is guarded too)."""
    if assessment.status == AssessmentStatus.CLOSED:
        raise DomainError(N_("assess.closed_no_deadline"), title=assessment.title)


def check_scorable(assessment: Assessment) -> None:
    """Refuse scoring a draft (the write itself is guarded too)."""
    if assessment.status == AssessmentStatus.DRAFT:
        raise DomainError(N_("assess.not_open_yet"), title=assessment.title)


# ---- reading -----------------------------------------------------------------------------


async def assessment_of_year(
    session: AsyncSession, *, district_id: int, year: int
) -> Assessment | None:
    """The district's assessment of `year`, if created."""
    query = select(Assessment).where(Assessment.district_id == district_id, Assessment.year == year)
    return (await session.exec(query)).first()


async def get_assessment(
    session: AsyncSession, *, district_id: int, assessment_id: int
) -> Assessment:
    """An assessment of this district (ids from buttons can be forged)."""
    assessment = await session.get(Assessment, assessment_id)
    if assessment is None or assessment.district_id != district_id:
        raise DomainError(N_("assess.not_found"))
    return assessment


async def items_of(session: AsyncSession, *, assessment_id: int) -> list[AssessmentItem]:
    """The checklist in order."""
    query = select(AssessmentItem).where(AssessmentItem.assessment_id == assessment_id)
    return list(await session.exec(query.order_by(col(AssessmentItem.position))))


async def get_item(session: AsyncSession, *, assessment_id: int, item_id: int) -> AssessmentItem:
    """An item of this assessment (ids from buttons can be forged)."""
    item = await session.get(AssessmentItem, item_id)
    if item is None or item.assessment_id != assessment_id:
        raise DomainError(N_("assess.not_found"))
    return item


async def submissions_of(
    session: AsyncSession, *, assessment_id: int, school_id: int
) -> dict[int, AssessmentSubmission]:
    """One school's submissions by item id (a school reads only its own)."""
    query = (
        select(AssessmentSubmission)
        .join(AssessmentItem, col(AssessmentItem.id) == col(AssessmentSubmission.item_id))
        .where(
            AssessmentItem.assessment_id == assessment_id,
            AssessmentSubmission.school_id == school_id,
        )
    )
    return {row.item_id: row for row in await session.exec(query)}


async def scores_of(
    session: AsyncSession, *, assessment_id: int, school_id: int
) -> dict[int, AssessmentScore]:
    """One school's scores by item id."""
    query = (
        select(AssessmentScore)
        .join(AssessmentItem, col(AssessmentItem.id) == col(AssessmentScore.item_id))
        .where(
            AssessmentItem.assessment_id == assessment_id, AssessmentScore.school_id == school_id
        )
    )
    return {row.item_id: row for row in await session.exec(query)}


# ---- a school's evidence -----------------------------------------------------------------


def answers_for_school(actor: Actor | None, school: Organization) -> bool:
    """A school's chair or vice-chair, active, of that school."""
    return (
        actor is not None
        and actor.is_active
        and actor.member.organization_id == school.id
        and school.kind == OrgKind.SCHOOL
        and bool(actor.roles & SCHOOL_OFFICES)
    )


async def school_of_actor(
    session: AsyncSession, *, district_id: int, school_id: int, actor: Actor
) -> Organization:
    """The school, refused unless the actor answers for it (forged ids name other schools)."""
    school = await get_school(session, district_id=district_id, school_id=school_id)
    if not answers_for_school(actor, school):
        raise DomainError(N_("assess.not_school_chair"))
    return school


def clean_evidence(text: str | None) -> str:
    """The evidence text: several lines, with words."""
    return clean_text(text, limit=EVIDENCE_LIMIT, multiline=True, needs_words=True)


async def submit_evidence(
    session: AsyncSession,
    *,
    district_id: int,
    assessment_id: int,
    item_id: int,
    school_id: int,
    actor: Actor,
    evidence: str | None,
    file_id: str | None = None,
    file_name: str | None = None,
) -> AssessmentSubmission:
    """A school's chair sends (or replaces) the evidence for one item while the assessment is
    open; after it closes the database refuses the write."""
    await school_of_actor(session, district_id=district_id, school_id=school_id, actor=actor)
    assessment = await get_assessment(session, district_id=district_id, assessment_id=assessment_id)
    await get_item(session, assessment_id=assessment_id, item_id=item_id)
    text = clean_evidence(evidence) if evidence else None
    if text is None and not file_id:
        raise InputError(N_("input.empty"))
    name = (file_name or "")[:FILE_NAME_LIMIT] or None
    title = assessment.title  # a rollback expires the row
    for _attempt in range(3):
        if not await _hold(session, assessment_id=assessment_id, allowed=[AssessmentStatus.OPEN]):
            await session.rollback()
            raise DomainError(N_("assess.closed_for_schools"), title=title)
        found = await _submission(session, item_id=item_id, school_id=school_id)
        row = found or AssessmentSubmission(
            item_id=item_id, school_id=school_id, submitted_by_member_id=actor.id
        )
        row.evidence, row.file_id, row.file_name = text, file_id or None, name if file_id else None
        row.submitted_by_member_id, row.submitted_at = actor.id, utcnow()
        session.add(row)
        try:
            await session.commit()
            return row
        except IntegrityError:  # the same item sent twice at once: the other stored it; again
            await session.rollback()
    raise DomainError(N_("assess.busy"))


async def _submission(
    session: AsyncSession, *, item_id: int, school_id: int
) -> AssessmentSubmission | None:
    query = select(AssessmentSubmission).where(
        AssessmentSubmission.item_id == item_id, AssessmentSubmission.school_id == school_id
    )
    return (await session.exec(query)).first()


# ---- the district's scores ---------------------------------------------------------------


def parse_points(text: str, *, max_points: int) -> tuple[int, str | None]:
    """ "18", "１８分", "十八" or "18 材料齐全": whole points from 0 to the item's maximum, then
    a short note (full-width digits, as input methods type them, count as digits)."""
    head, _, rest = text.strip().replace("\u3000", " ").partition(" ")
    points = written.number(head.rstrip("分"))
    if points is None:
        raise InputError(N_("assess.points_format"), max=max_points)
    if not 0 <= points <= max_points:
        raise InputError(N_("assess.points_range"), points=points, max=max_points)
    note = clean_text(rest, limit=NOTE_LIMIT, multiline=True) if rest.strip() else None
    return points, note


async def score_item(
    session: AsyncSession,
    *,
    district_id: int,
    assessment_id: int,
    item_id: int,
    school_id: int,
    actor: Actor,
    points: int,
    note: str | None = None,
) -> AssessmentScore:
    """District staff score one school on one item (open or closed, not a draft); scoring
    again keeps the last score with who and when. Points outside 0..max are refused here and,
    whatever the caller, by the database."""
    await _require_staff(session, district_id=district_id, actor=actor)
    assessment = await get_assessment(session, district_id=district_id, assessment_id=assessment_id)
    item = await get_item(session, assessment_id=assessment_id, item_id=item_id)
    await get_school(session, district_id=district_id, school_id=school_id)
    await require_recusal(session, actor=actor, school_id=school_id)
    if not 0 <= points <= item.max_points:
        raise InputError(N_("assess.points_range"), points=points, max=item.max_points)
    title, max_points = assessment.title, item.max_points  # a rollback expires the rows
    for _attempt in range(3):
        allowed = [AssessmentStatus.OPEN, AssessmentStatus.CLOSED]
        if not await _hold(session, assessment_id=assessment_id, allowed=allowed):
            await session.rollback()
            raise DomainError(N_("assess.not_open_yet"), title=title)
        row = await _score(session, item_id=item_id, school_id=school_id)
        if row is None:
            row = AssessmentScore(
                item_id=item_id,
                max_points=max_points,
                school_id=school_id,
                points=points,
                scored_by_member_id=actor.id,
            )
        row.points, row.note = points, note
        row.scored_by_member_id, row.scored_at = actor.id, utcnow()
        session.add(row)
        try:
            await session.commit()
            return row
        except IntegrityError:  # scored at the same moment by someone else: ours replaces it
            await session.rollback()
    raise DomainError(N_("assess.busy"))


async def _score(session: AsyncSession, *, item_id: int, school_id: int) -> AssessmentScore | None:
    query = select(AssessmentScore).where(
        AssessmentScore.item_id == item_id, AssessmentScore.school_id == school_id
    )
    return (await session.exec(query)).first()


# ---- who is told when it opens -----------------------------------------------------------


async def school_chairs(session: AsyncSession, *, district_id: int) -> list[Member]:
    """Each school's chair (工会主席), active and reachable, by school."""
    schools = await schools_of(session, district_id=district_id)
    query = (
        select(Member)
        .join(MemberRole, col(MemberRole.member_id) == col(Member.id))
        .where(
            col(Member.organization_id).in_(school_ids(schools)),
            MemberRole.role == Role.CHAIR,
            Member.status == MemberStatus.ACTIVE,
            col(Member.telegram_user_id).is_not(None),
        )
    )
    return list(await session.exec(query.order_by(col(Member.organization_id), col(Member.id))))


# ---- standings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """One school's result: its total, rank (1 = best; ties share a rank) and 合格."""

    school_id: int
    school: str
    total: int
    rank: int
    passed: bool
    submitted: int  # items with evidence
    scored: int  # items scored


@dataclass(frozen=True)
class Comparison:
    """All schools' results and the district's 合格率."""

    items: tuple[AssessmentItem, ...]
    standings: tuple[Standing, ...]  # best first, then by name
    points: dict[tuple[int, int], int]  # (school id, item id) -> points

    @property
    def passed(self) -> int:
        """How many schools pass."""
        return sum(1 for row in self.standings if row.passed)

    @property
    def pass_rate(self) -> float | None:
        """合格率 in percent (schools passing / all schools); None without schools."""
        if not self.standings:
            return None
        return 100 * self.passed / len(self.standings)


def rank_totals(totals: dict[int, int]) -> dict[int, int]:
    """Competition ranking (1, 1, 3): a school's rank is one more than the schools above it."""
    ordered = sorted(totals.values(), reverse=True)
    first: dict[int, int] = {}  # total -> its first place in the order
    for place, total in enumerate(ordered, start=1):
        first.setdefault(total, place)
    return {key: first[total] for key, total in totals.items()}


async def compare(session: AsyncSession, *, district_id: int, assessment_id: int) -> Comparison:
    """Every school of the district (those without scores at 0), ranked by total."""
    items = await items_of(session, assessment_id=assessment_id)
    item_ids = [item.id for item in items if item.id is not None]
    schools = await schools_of(session, district_id=district_id)
    points: dict[tuple[int, int], int] = {}
    rows = await session.exec(
        select(AssessmentScore).where(col(AssessmentScore.item_id).in_(item_ids))
    )
    for score in rows:
        points[(score.school_id, score.item_id)] = score.points
    submitted: dict[int, int] = {}
    sent = await session.exec(
        select(AssessmentSubmission.school_id).where(
            col(AssessmentSubmission.item_id).in_(item_ids)
        )
    )
    for school_id in sent:
        submitted[school_id] = submitted.get(school_id, 0) + 1
    totals = {school.id or 0: 0 for school in schools}
    scored: dict[int, int] = {}
    for (school_id, _item_id), value in points.items():
        if school_id in totals:
            totals[school_id] += value
            scored[school_id] = scored.get(school_id, 0) + 1
    ranks = rank_totals(totals)
    standings = [
        Standing(
            school_id=school.id or 0,
            school=school.name,
            total=totals[school.id or 0],
            rank=ranks[school.id or 0],
            passed=totals[school.id or 0] >= PASS_MARK,
            submitted=submitted.get(school.id or 0, 0),
            scored=scored.get(school.id or 0, 0),
        )
        for school in schools
    ]
    standings.sort(key=lambda row: (row.rank, row.school))
    return Comparison(items=tuple(items), standings=tuple(standings), points=points)
