"""A district deployment for tests: the district union and two schools, with their groups and
chairs, made in the database before the bot starts (as `unionbot district` would)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from bot.db import create_engine, create_session_factory
from bot.settings import Settings
from models.district import add_school, create_district
from models.members import Role
from models.organizations import bind_committee_chat, ensure_default_organization
from tests.support.factories import make_member
from tests.support.harness import CHAIR, BotHarness, running_bot
from tests.support.updates import Person

DISTRICT_NAME = "城区教育工会"
SCHOOL_A = "实验中学"
SCHOOL_B = "第二小学"
GROUP_A = -1001000000001
GROUP_B = -1001000000002
GROUP_DISTRICT = -1001000000009
CHAIR_A = Person(3001, "甲校主席")
CHAIR_B = Person(3002, "乙校主席")
COMMITTEE_B = Person(3003, "乙校委员")
TEACHER_B = Person(3004, "乙校老师")
DISTRICT_STAFF = Person(3009, "区工会干事")
# CHAIR (an owner) is the district union's chair.


@dataclass(frozen=True)
class District:
    """Ids of the district union and its two schools."""

    district_id: int
    school_a: int
    school_b: int


async def make_district(
    url: str, *, extra_schools: tuple[str, ...] = (), people_in_a: bool = True
) -> District:
    """The district, schools A and B (and `extra_schools`), their committee groups; the
    district's chair (CHAIR) and staff, each school's chair, B's committee member and a B
    teacher. Without `people_in_a`, school A and the district's chair are left to the caller
    (the sandbox seed fills A with its own people, CHAIR among them)."""
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    try:
        async with sessions() as session:
            first = await ensure_default_organization(session, name=SCHOOL_A)
            district = await create_district(session, name=DISTRICT_NAME)
            second = await add_school(session, district_id=district.id or 0, name=SCHOOL_B)
            for name in extra_schools:
                await add_school(session, district_id=district.id or 0, name=name)
        ids = District(district.id or 0, first.id or 0, second.id or 0)
        async with sessions() as session:
            await bind_committee_chat(session, org_id=ids.school_a, chat_id=GROUP_A)
            await bind_committee_chat(session, org_id=ids.school_b, chat_id=GROUP_B)
            await bind_committee_chat(session, org_id=ids.district_id, chat_id=GROUP_DISTRICT)
        people_of_a = (
            ((ids.district_id, CHAIR, (Role.CHAIR,)), (ids.school_a, CHAIR_A, (Role.CHAIR,)))
            if people_in_a
            else ()
        )
        people = (
            *people_of_a,
            (ids.district_id, DISTRICT_STAFF, (Role.COMMITTEE,)),
            (ids.school_b, CHAIR_B, (Role.CHAIR,)),
            (ids.school_b, COMMITTEE_B, (Role.COMMITTEE,)),
            (ids.school_b, TEACHER_B, ()),
        )
        for org_id, person, roles in people:
            await make_member(
                sessions, org_id=org_id, person=person, name=person.first_name, roles=roles
            )
    finally:
        await engine.dispose()
    return ids


@asynccontextmanager
async def district_bot(
    settings: Settings, *, extra_schools: tuple[str, ...] = (), people_in_a: bool = True
) -> AsyncIterator[tuple[BotHarness, District]]:
    """A started bot serving a fresh district."""
    ids = await make_district(
        settings.database_url, extra_schools=extra_schools, people_in_a=people_in_a
    )
    async with running_bot(settings) as harness:
        yield harness, ids
