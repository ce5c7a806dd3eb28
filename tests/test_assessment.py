"""The district's annual school assessment (目标管理考核): the model against hand-computed
figures and its database guards; then the whole flow through the real application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot.db import SessionFactory, create_engine, create_session_factory
from models.assessment import (
    DEFAULT_CHECKLIST,
    PASS_MARK,
    AssessmentScore,
    AssessmentStatus,
    AssessmentSubmission,
    close_assessment,
    compare,
    create_assessment,
    items_of,
    open_assessment,
    parse_points,
    rank_totals,
    score_item,
    submit_evidence,
)
from models.district import add_school, create_district
from models.errors import DomainError, InputError
from models.members import Actor, Member, Role
from tests.support.factories import make_member
from tests.support.updates import Person

YEAR = 2026
# Hand-computed: the default checklist's points are 20 20 15 10 10 10 5 5 5.
SCORES_A = (18, 17, 14, 9, 8, 9, 4, 5, 3)  # 87: 合格
SCORES_B = (10, 12, 8, 5, 6, 5, 2, 3, 1)  # 52: 不合格

STAFF = Person(5001, "区工会", "zh-hans")
STAFF_TWO = Person(5002, "区工会二", "zh-hans")
CHAIR_A = Person(5101, "甲校主席", "zh-hans")
CHAIR_B = Person(5201, "乙校主席", "zh-hans")
MEMBER_A = Person(5102, "甲校会员", "zh-hans")
COMMITTEE_A = Person(5103, "甲校委员", "zh-hans")


@dataclass
class District:
    """A district with two schools, its staff, each school's chair, and a few others."""

    district_id: int
    school_a: int
    school_b: int
    staff: Actor
    staff_two: Actor
    chair_a: Actor
    chair_b: Actor
    member_a: Actor
    committee_a: Actor


def _actor(member: Member, *roles: Role) -> Actor:
    return Actor(member, frozenset(roles))


async def build_district(db: SessionFactory) -> District:
    """The district union, 甲校 and 乙校, two district staff, the schools' chairs, a plain member
    and a committee member of 甲校 (made through the lead's models/district.py)."""
    async with db() as session:
        district = await create_district(session, name="区教育工会")
        district_id = district.id or 0
        school_a = (await add_school(session, district_id=district_id, name="甲校")).id or 0
        school_b = (await add_school(session, district_id=district_id, name="乙校")).id or 0

    async def member(org: int, person: Person, name: str, *roles: Role) -> Actor:
        made = await make_member(db, org_id=org, person=person, name=name, roles=roles)
        return _actor(made, *roles)

    return District(
        district_id=district_id,
        school_a=school_a,
        school_b=school_b,
        staff=await member(district_id, STAFF, "区工会主席", Role.CHAIR),
        staff_two=await member(district_id, STAFF_TWO, "区工会干事", Role.COMMITTEE),
        chair_a=await member(school_a, CHAIR_A, "甲校主席", Role.CHAIR),
        chair_b=await member(school_b, CHAIR_B, "乙校副主席", Role.VICE_CHAIR),
        member_a=await member(school_a, MEMBER_A, "甲校会员"),
        committee_a=await member(school_a, COMMITTEE_A, "甲校委员", Role.COMMITTEE),
    )


@pytest.fixture
async def db(clean_database: str) -> AsyncIterator[SessionFactory]:
    """Sessions on the clean test database (the model tests need no bot)."""
    engine = create_engine(clean_database)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


async def opened(db: SessionFactory, d: District) -> tuple[int, list[int]]:
    """The year's assessment from the default checklist, opened; its id and item ids."""
    async with db() as session:
        assessment = await create_assessment(
            session, district_id=d.district_id, actor=d.staff, year=YEAR
        )
        await open_assessment(
            session, district_id=d.district_id, assessment_id=assessment.id or 0, actor=d.staff
        )
        items = await items_of(session, assessment_id=assessment.id or 0)
    return assessment.id or 0, [item.id or 0 for item in items]


# ---- the model ---------------------------------------------------------------------------


def test_default_checklist_sums_to_100_and_points_parse() -> None:
    assert sum(item.max_points for item in DEFAULT_CHECKLIST) == 100
    assert all(item.source.startswith("seed") for item in DEFAULT_CHECKLIST)
    assert parse_points("18", max_points=20) == (18, None)
    assert parse_points("18分 材料齐全", max_points=20) == (18, "材料齐全")
    with pytest.raises(InputError) as refused:
        parse_points("21", max_points=20)
    assert refused.value.key == "assess.points_range"
    with pytest.raises(InputError):
        parse_points("-1", max_points=20)
    assert rank_totals({1: 80, 2: 80, 3: 70}) == {1: 1, 2: 1, 3: 3}


async def test_totals_rank_and_pass_rate_against_hand_computed_figures(db: SessionFactory) -> None:
    d = await build_district(db)
    assessment_id, item_ids = await opened(db, d)
    async with db() as session:
        for school, points in ((d.school_a, SCORES_A), (d.school_b, SCORES_B)):
            for item_id, value in zip(item_ids, points, strict=True):
                await score_item(
                    session,
                    district_id=d.district_id,
                    assessment_id=assessment_id,
                    item_id=item_id,
                    school_id=school,
                    actor=d.staff,
                    points=value,
                )
        # Scoring again keeps the last score, with who and when.
        first = await score_item(
            session,
            district_id=d.district_id,
            assessment_id=assessment_id,
            item_id=item_ids[0],
            school_id=d.school_b,
            actor=d.staff_two,
            points=11,
            note="补充材料后改分",
        )
        result = await compare(session, district_id=d.district_id, assessment_id=assessment_id)
        rows = list(
            await session.exec(
                select(AssessmentScore).where(
                    AssessmentScore.item_id == item_ids[0],
                    AssessmentScore.school_id == d.school_b,
                )
            )
        )

    assert [(row.school, row.total, row.rank, row.passed) for row in result.standings] == [
        ("甲校", 87, 1, True),
        ("乙校", 53, 2, False),  # 52, with 10 -> 11 on the first item
    ]
    assert PASS_MARK == 60 and result.passed == 1 and result.pass_rate == 50.0
    assert len(rows) == 1 and rows[0].points == 11 and rows[0].scored_by_member_id == d.staff_two.id
    assert rows[0].note == "补充材料后改分" and rows[0].scored_at == first.scored_at


async def test_score_out_of_range_is_refused_by_the_model_and_the_database(
    db: SessionFactory,
) -> None:
    d = await build_district(db)
    assessment_id, item_ids = await opened(db, d)  # item 1: 20 points
    async with db() as session:
        with pytest.raises(InputError):
            await score_item(
                session,
                district_id=d.district_id,
                assessment_id=assessment_id,
                item_id=item_ids[0],
                school_id=d.school_a,
                actor=d.staff,
                points=21,
            )
    for max_points, points in ((20, 21), (20, -1), (100, 50)):  # (100, 50): a forged maximum
        async with db() as session:
            session.add(
                AssessmentScore(
                    item_id=item_ids[0],
                    max_points=max_points,
                    school_id=d.school_a,
                    points=points,
                    scored_by_member_id=d.staff.id,
                )
            )
            with pytest.raises(IntegrityError):
                await session.commit()
    async with db() as session:
        assert list(await session.exec(select(AssessmentScore))) == []
        # A school's committee member and a school's chair do not score.
        for actor in (d.committee_a, d.chair_a):
            with pytest.raises(DomainError) as refused:
                await score_item(
                    session,
                    district_id=d.district_id,
                    assessment_id=assessment_id,
                    item_id=item_ids[0],
                    school_id=d.school_a,
                    actor=actor,
                    points=5,
                )
            assert refused.value.key == "assess.not_district_staff"


async def test_submission_after_close_is_refused(db: SessionFactory) -> None:
    d = await build_district(db)
    assessment_id, item_ids = await opened(db, d)

    async def send(actor: Actor, school: int, text: str) -> AssessmentSubmission:
        async with db() as session:
            return await submit_evidence(
                session,
                district_id=d.district_id,
                assessment_id=assessment_id,
                item_id=item_ids[0],
                school_id=school,
                actor=actor,
                evidence=text,
            )

    await send(d.chair_a, d.school_a, "公示栏每月更新，意见箱每周开启。")
    await send(d.chair_a, d.school_a, "公示栏每月更新，意见箱每周开启，全年公开12次。")  # replaced
    for actor, school in ((d.chair_a, d.school_b), (d.member_a, d.school_a)):
        with pytest.raises(DomainError) as refused:  # another school's, a plain member
            await send(actor, school, "冒充提交")
        assert refused.value.key == "assess.not_school_chair"
    async with db() as session:
        closed = await close_assessment(
            session, district_id=d.district_id, assessment_id=assessment_id, actor=d.staff
        )
    assert closed.status == AssessmentStatus.CLOSED

    with pytest.raises(DomainError) as refused:
        await send(d.chair_a, d.school_a, "关闭后再改")
    assert refused.value.key == "assess.closed_for_schools"
    async with db() as session:
        rows = list(await session.exec(select(AssessmentSubmission)))
    assert [(row.school_id, row.evidence) for row in rows] == [
        (d.school_a, "公示栏每月更新，意见箱每周开启，全年公开12次。")
    ]
