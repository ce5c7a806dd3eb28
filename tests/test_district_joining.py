"""A district deployment: joining a school (picker, search, link, roster code), members of
two schools choosing, and a single school left exactly as before."""

from __future__ import annotations

from sqlmodel import col, select

from bot.callback import pack
from bot.db import create_engine, create_session_factory
from bot.settings import Settings
from models.members import JoinRequest, Member, MemberStatus, Role, load_actor, roles_of
from models.suggestions import Suggestion, ensure_default_categories, list_categories
from tests.support.district import (
    DISTRICT_NAME,
    GROUP_A,
    GROUP_B,
    GROUP_DISTRICT,
    SCHOOL_A,
    SCHOOL_B,
    TEACHER_B,
    district_bot,
    make_district,
)
from tests.support.factories import make_member
from tests.support.harness import CHAIR, BotHarness, running_bot
from tests.support.updates import Person

NEWCOMER = Person(4001, "Newcomer", "en")


async def _profile_and_confirm(bot: BotHarness, person: Person) -> None:
    await bot.say(person, "Wang Fang")
    await bot.say(person, "Grade 8 team")
    await bot.press(person, pack("reg", "gender", "skip"))
    await bot.press(person, pack("reg", "birthday", "skip"))
    await bot.press(person, pack("reg", "retired", "no"))
    await bot.press(person, pack("reg", "confirm", "yes"))


async def _requests(bot: BotHarness, person: Person) -> list[tuple[int, str]]:
    async with bot.db() as session:
        rows = await session.exec(
            select(Member.organization_id, Member.status)
            .join(JoinRequest, col(JoinRequest.member_id) == col(Member.id))
            .where(Member.telegram_user_id == person.id)
        )
        return [(org, str(status)) for org, status in rows]


async def test_stranger_picks_a_school_and_only_its_committee_sees_the_request(
    settings: Settings,
) -> None:
    async with district_bot(settings) as (bot, ids):
        await bot.say(NEWCOMER, "/start")
        assert DISTRICT_NAME in bot.telegram.last(NEWCOMER.id).text
        await bot.press(NEWCOMER, pack("reg", "lang", "en"))
        picker = bot.telegram.last(NEWCOMER.id)
        assert {label for label, _ in picker.buttons()} == {SCHOOL_A, SCHOOL_B}

        await bot.press(NEWCOMER, picker.button_data(SCHOOL_B))
        assert SCHOOL_B in bot.telegram.texts(NEWCOMER.id)[-2]
        await _profile_and_confirm(bot, NEWCOMER)

        assert await _requests(bot, NEWCOMER) == [(ids.school_b, MemberStatus.PENDING)]
        cards = bot.telegram.texts(GROUP_B)
        assert any("Wang Fang" in text for text in cards)
        for other in (GROUP_A, GROUP_DISTRICT):
            assert not any("Wang Fang" in text for text in bot.telegram.texts(other))


async def test_typed_search_forged_school_and_a_school_link(settings: Settings) -> None:
    many = tuple(f"第{n}中学" for n in range(3, 12))  # more than the picker shows at once
    async with district_bot(settings, extra_schools=many) as (bot, ids):
        await bot.say(NEWCOMER, "/start")
        await bot.press(NEWCOMER, pack("reg", "lang", "en"))
        assert "type part of its name" in bot.telegram.last(NEWCOMER.id).text.lower() or (
            "11" in bot.telegram.last(NEWCOMER.id).text
        )
        await bot.say(NEWCOMER, "宇宙")
        assert "宇宙" in bot.telegram.last(NEWCOMER.id).text
        assert bot.telegram.last(NEWCOMER.id).buttons() == []
        await bot.say(NEWCOMER, "实验")
        found = bot.telegram.last(NEWCOMER.id)
        assert [label for label, _ in found.buttons()] == [SCHOOL_A]

        # A forged press naming the district union itself (not a school): refused, still asked.
        await bot.press(NEWCOMER, pack("reg", "school", str(ids.district_id)))
        assert "could not be found" in bot.telegram.last(NEWCOMER.id).text
        await bot.say(NEWCOMER, "Wang Fang")  # taken as a search, not as a name
        assert await _requests(bot, NEWCOMER) == []

        # The school's own link skips the picker.
        other = Person(4002, "Linked", "en")
        await bot.say(other, f"/start org-{ids.school_a}")
        await bot.press(other, pack("reg", "lang", "en"))
        await _profile_and_confirm(bot, other)
        assert await _requests(bot, other) == [(ids.school_a, MemberStatus.PENDING)]
        assert any("Wang Fang" in text for text in bot.telegram.texts(GROUP_A))

        # A link to a school of no district of ours.
        await bot.say(Person(4003, "Forger", "en"), "/start org-99999")
        assert "link" in bot.telegram.last(4003).text.lower()


async def test_member_of_two_schools_is_asked_which_before_anything(settings: Settings) -> None:
    async with district_bot(settings) as (bot, ids):
        both = Person(4010, "Both", "en")
        await make_member(bot.db, org_id=ids.school_a, person=both, name="两校老师")
        await make_member(bot.db, org_id=ids.school_b, person=both, name="两校老师")

        await bot.say(both, "/suggest")
        question = bot.telegram.last(both.id)
        assert {label for label, _ in question.buttons()} == {SCHOOL_A, SCHOOL_B}
        assert len(bot.telegram.texts(both.id)) == 1  # nothing else answered the command

        # A forged choice of a school they are not in.
        await bot.press(both, pack("school", str(ids.district_id)))
        assert "not a member" in bot.telegram.answers()[-1].text

        await bot.press(both, question.button_data(SCHOOL_B))
        assert SCHOOL_B in bot.telegram.texts(both.id)[-2]
        await bot.say(both, "/school")
        assert {label for label, _ in bot.telegram.last(both.id).buttons()} == {
            SCHOOL_A,
            SCHOOL_B,
        }


async def test_roster_code_binds_in_its_own_school(settings: Settings) -> None:
    async with district_bot(settings) as (bot, ids):
        invited = await make_member(
            bot.db, org_id=ids.school_b, name="名册老师", status=MemberStatus.INVITED
        )
        async with bot.db() as session:
            row = await session.get(Member, invited.id)
            assert row is not None
            row.invite_code = "code-b-1"
            session.add(row)
            await session.commit()
        person = Person(4020, "Roster", "zh-hans")
        await bot.say(person, "/start inv-code-b-1")
        async with bot.db() as session:
            bound = await session.get(Member, invited.id)
        assert bound is not None and bound.telegram_user_id == person.id
        assert bound.status == MemberStatus.ACTIVE
        assert "名册老师" in bot.telegram.texts(person.id)[0]


async def test_a_member_is_welcomed_back_in_their_school(settings: Settings) -> None:
    async with district_bot(settings) as (bot, _ids):
        await bot.say(TEACHER_B, "/start")
        assert TEACHER_B.first_name in bot.telegram.texts(TEACHER_B.id)[0]
        await bot.say(TEACHER_B, f"/start org-{_ids.school_a}")
        assert SCHOOL_B in bot.telegram.last(TEACHER_B.id).text


async def test_an_owner_joining_a_school_waits_for_its_committee_like_anyone(
    settings: Settings,
) -> None:
    owner = Person(4030, "Owner", "en")
    settings = settings.model_copy(update={"owner_ids": [*settings.owner_ids, owner.id]})
    async with district_bot(settings) as (bot, ids):
        await bot.say(owner, f"/start org-{ids.school_b}")
        await bot.press(owner, pack("reg", "lang", "en"))
        await _profile_and_confirm(bot, owner)
        assert await _requests(bot, owner) == [(ids.school_b, MemberStatus.PENDING)]
        await bot.say(owner, "/start")  # a second contact does not make them B's chair
        async with bot.db() as session:
            member = (
                await session.exec(
                    select(Member).where(
                        Member.telegram_user_id == owner.id,
                        Member.organization_id == ids.school_b,
                    )
                )
            ).one()
            roles = await roles_of(session, member.id or 0)
            seat = await load_actor(session, org_id=ids.district_id, telegram_user_id=owner.id)
        assert member.status == MemberStatus.PENDING and roles == frozenset()
        assert seat is not None and seat.is_chair  # an owner chairs the district union


async def test_a_form_begun_for_one_school_never_finishes_in_another(settings: Settings) -> None:
    async with district_bot(settings) as (bot, ids):
        teacher = Person(4040, "Teacher", "en")
        await make_member(bot.db, org_id=ids.school_a, person=teacher, name="甲校老师")
        invited = await make_member(
            bot.db, org_id=ids.school_b, name="甲校老师", status=MemberStatus.INVITED
        )
        async with bot.db() as session:
            row = await session.get(Member, invited.id)
            assert row is not None
            row.invite_code = "code-b-2"
            session.add(row)
            await session.commit()
            await ensure_default_categories(session, org_id=ids.school_a)
            category = (await list_categories(session, org_id=ids.school_a))[0]

        await bot.say(teacher, "/suggest")
        await bot.press(teacher, pack("sgf", "cat", category.id or 0))
        await bot.say(teacher, "/start inv-code-b-2")  # now on B's roster too, acting for B
        await bot.say(teacher, "甲校食堂的意见")  # meant for A's form

        dropped = bot.telegram.texts(teacher.id)[-1]
        assert "nothing was sent" in dropped or "什么也没有提交" in dropped
        async with bot.db() as session:
            assert (await session.exec(select(Suggestion))).all() == []


async def test_an_owner_who_chaired_the_school_also_chairs_the_district(
    settings: Settings,
) -> None:
    ids = await make_district(settings.database_url, people_in_a=False)
    engine = create_engine(settings.database_url)
    try:
        await make_member(
            create_session_factory(engine),
            org_id=ids.school_a,
            person=CHAIR,
            name="张主席",
            roles=[Role.CHAIR],
        )
    finally:
        await engine.dispose()
    async with running_bot(settings) as bot:
        await bot.say(CHAIR, "/menu")
        question = bot.telegram.last(CHAIR.id)
        assert {label for label, _ in question.buttons()} == {SCHOOL_A, DISTRICT_NAME}
        async with bot.db() as session:
            seat = await load_actor(session, org_id=ids.district_id, telegram_user_id=CHAIR.id)
        assert seat is not None and seat.is_chair and seat.member.real_name == "张主席"
        await bot.press(CHAIR, question.button_data(DISTRICT_NAME))
        await bot.say(CHAIR, "/help")
        assert "/dtasks " in bot.telegram.last(CHAIR.id).text


async def test_a_plain_start_picks_the_school_again(settings: Settings) -> None:
    async with district_bot(settings) as (bot, ids):
        await bot.say(NEWCOMER, f"/start org-{ids.school_a}")
        assert SCHOOL_A in bot.telegram.last(NEWCOMER.id).text
        await bot.say(NEWCOMER, "/start")
        assert DISTRICT_NAME in bot.telegram.last(NEWCOMER.id).text
        await bot.press(NEWCOMER, pack("reg", "lang", "en"))
        picker = bot.telegram.last(NEWCOMER.id)
        assert {label for label, _ in picker.buttons()} == {SCHOOL_A, SCHOOL_B}
