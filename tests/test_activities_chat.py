"""Activities through the real application: the committee creates and announces one, members
sign up with one press (a seat or a waitlist place), cancel, get promoted, are drawn by lot,
reminded and check in."""

from __future__ import annotations

import json
import random
from datetime import timedelta

from sqlmodel import col, select

from bot.callback import pack
from models.activities import Activity, Signup, SignupStatus
from models.base import utcnow
from models.members import Gender, Role
from models.outbox import OutboxMessage
from scheduler.activity_jobs import activity_tick
from tests.support.factories import make_member
from tests.support.harness import BotHarness
from tests.support.updates import Person

COMMITTEE = Person(1002, "Liu", "zh-hans")
MEMBERS = [Person(5000 + i, f"M{i}", "zh-hans") for i in range(5)]


async def setup_members(bot: BotHarness) -> None:
    """A committee member and five teachers (two women)."""
    await make_member(
        bot.db, org_id=bot.org_id, person=COMMITTEE, name="刘委员", roles=[Role.COMMITTEE]
    )
    for index, person in enumerate(MEMBERS):
        await make_member(
            bot.db,
            org_id=bot.org_id,
            person=person,
            name=f"老师{index}",
            gender=Gender.FEMALE if index < 2 else Gender.MALE,
        )


async def create(
    bot: BotHarness, *, capacity: str = "2", who: str = "everyone", mode: str = "first_come"
) -> Activity:
    """Walk /newactivity to the end."""
    start = (utcnow() + timedelta(days=3)).astimezone(bot.app.state.settings.zone)
    await bot.say(COMMITTEE, "/newactivity")
    await bot.say(COMMITTEE, "教职工乒乓球赛")
    await bot.press(COMMITTEE, pack("ag", "cat", "sport"))
    await bot.say(COMMITTEE, start.strftime("%Y-%m-%d %H:%M"))
    await bot.say(COMMITTEE, "体育馆")
    await bot.say(COMMITTEE, capacity)
    await bot.press(COMMITTEE, pack("ag", "dl", "start"))
    await bot.press(COMMITTEE, pack("ag", "who", who))
    await bot.press(COMMITTEE, pack("ag", "ch", "none"))
    await bot.press(COMMITTEE, pack("ag", "fam", "0"))
    await bot.press(COMMITTEE, pack("ag", "mode", mode))
    await bot.press(COMMITTEE, pack("ag", "desc", "none"))
    await bot.press(COMMITTEE, pack("ag", "ok", "yes"))
    async with bot.db() as session:
        activity = (await session.exec(select(Activity).order_by(col(Activity.id).desc()))).first()
    assert activity is not None
    return activity


def last_alert(bot: BotHarness) -> str:
    """The text of the latest button answer."""
    return str(bot.telegram.answers()[-1].params.get("text", ""))


async def test_create_announce_sign_up_waitlist_cancel_promote(bot: BotHarness) -> None:
    await setup_members(bot)
    activity = await create(bot)
    aid = activity.id or 0

    async with bot.db() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    assert {row.chat_id for row in rows} == {p.id for p in MEMBERS} | {COMMITTEE.id}
    assert all(json.loads(row.buttons or "[]")[0][0][1] == f"av:su:{aid}" for row in rows)

    for person in MEMBERS[:3]:
        await bot.press(person, pack("av", "su", aid))
    assert "候补第 1 位" in last_alert(bot)
    await bot.press(MEMBERS[0], pack("av", "su", aid))
    assert "已经报名" in last_alert(bot)

    await bot.press(MEMBERS[1], pack("av", "cx", aid))
    assert "从候补转为正式报名" in bot.telegram.last(MEMBERS[2].id).text
    async with bot.db() as session:
        seats = (
            await session.exec(select(Signup.member_id).where(Signup.status == SignupStatus.SEAT))
        ).all()
        stored = await session.get(Activity, aid)
    assert stored is not None and stored.seats_taken == 2 and len(seats) == 2


async def test_women_only_refuses_men(bot: BotHarness) -> None:
    await setup_members(bot)
    activity = await create(bot, who="women")
    await bot.press(MEMBERS[4], pack("av", "su", activity.id or 0))
    assert "只面向部分会员" in last_alert(bot)
    await bot.press(MEMBERS[0], pack("av", "su", activity.id or 0))
    assert "报名成功" in last_alert(bot)


async def test_lottery_draws_at_the_deadline_and_reminders_go_once(bot: BotHarness) -> None:
    await setup_members(bot)
    activity = await create(bot, capacity="2", mode="lottery")
    aid = activity.id or 0
    for person in MEMBERS:
        await bot.press(person, pack("av", "su", aid))
    assert "抽签" in last_alert(bot)

    runtime = bot.app.state.runtime
    assert runtime is not None
    later = activity.deadline + timedelta(minutes=1) - timedelta(days=3)
    assert await activity_tick(runtime, now=later, rng=random.Random(7)) == 0  # not yet
    at_deadline = activity.starts_at - timedelta(hours=30)
    async with bot.db() as session:
        row = await session.get(Activity, aid)
        assert row is not None
        row.deadline = at_deadline
        session.add(row)
        await session.commit()
    queued = await activity_tick(runtime, now=at_deadline, rng=random.Random(7))
    assert queued == 1
    async with bot.db() as session:
        statuses = (
            await session.exec(select(Signup.status).where(Signup.activity_id == aid))
        ).all()
    assert sorted(statuses) == ["seat", "seat", "waitlist", "waitlist", "waitlist"]
    assert await activity_tick(runtime, now=at_deadline, rng=random.Random(7)) == 0

    day_before = activity.starts_at - timedelta(hours=23)
    assert await activity_tick(runtime, now=day_before, rng=random.Random(7)) == 1
    assert await activity_tick(runtime, now=day_before, rng=random.Random(7)) == 0


async def test_activities_lists_status_and_the_committee_manages(bot: BotHarness) -> None:
    await setup_members(bot)
    activity = await create(bot, capacity="1")
    aid = activity.id or 0
    await bot.press(MEMBERS[0], pack("av", "su", aid))
    await bot.press(MEMBERS[1], pack("av", "su", aid))

    await bot.say(MEMBERS[1], "/activities")
    assert "候补第 1 位" in bot.telegram.last(MEMBERS[1].id).text

    await bot.press(COMMITTEE, pack("ag", "mgr", aid))
    assert "已报名 1 人" in bot.telegram.last(COMMITTEE.id).text
    await bot.press(COMMITTEE, pack("ag", "list", aid))
    assert "老师0" in bot.telegram.last(COMMITTEE.id).text
    await bot.press(COMMITTEE, pack("ag", "xlsx", aid))
    assert bot.telegram.last(COMMITTEE.id, method="sendDocument") is not None
    await bot.press(MEMBERS[2], pack("ag", "mgr", aid))
    assert "只有工会委员" in last_alert(bot)


async def test_shrinking_capacity_asks_first_and_growing_it_promotes(bot: BotHarness) -> None:
    await setup_members(bot)
    activity = await create(bot, capacity="3")
    aid = activity.id or 0
    for person in MEMBERS:
        await bot.press(person, pack("av", "su", aid))

    await bot.press(COMMITTEE, pack("ag", "cap2", aid))
    await bot.say(COMMITTEE, "1")
    ask = bot.telegram.last(COMMITTEE.id)
    assert "少 2 位" in ask.text
    await bot.press(COMMITTEE, ask.button_data("转入候补"))
    async with bot.db() as session:
        seated = (
            await session.exec(select(Signup).where(Signup.status == SignupStatus.SEAT))
        ).all()
        stored = await session.get(Activity, aid)
    assert stored is not None and stored.capacity == 1 and stored.seats_taken == 1
    assert len(seated) == 1
    assert "候补名单的最前面" in bot.telegram.last(MEMBERS[2].id).text

    await bot.press(COMMITTEE, pack("ag", "cap2", aid))
    await bot.say(COMMITTEE, "4")
    async with bot.db() as session:
        stored = await session.get(Activity, aid)
        seats = (
            await session.exec(select(Signup.member_id).where(Signup.status == SignupStatus.SEAT))
        ).all()
    assert stored is not None and stored.seats_taken == 4 and len(seats) == 4
    # The two moved back to the waitlist were first in line for the new seats.
    assert "从候补转为正式报名" in bot.telegram.last(MEMBERS[1].id).text


async def test_period_figures_by_category(bot: BotHarness) -> None:
    await setup_members(bot)
    activity = await create(bot, capacity="10")
    for person in MEMBERS[:3]:
        await bot.press(person, pack("av", "su", activity.id or 0))

    await bot.say(COMMITTEE, f"/activitystats {activity.starts_at.year}")

    assert (
        "体育：1 场；符合条件 6 人次，报名 3 人次，到场 0 人次"
        in bot.telegram.last(COMMITTEE.id).text
    )
    await bot.say(COMMITTEE, "/activitystats abc")
    assert "请写年份" in bot.telegram.last(COMMITTEE.id).text


async def test_a_department_contact_enters_one_team_for_a_contest(bot: BotHarness) -> None:
    await setup_members(bot)
    start = (utcnow() + timedelta(days=3)).astimezone(bot.app.state.settings.zone)
    await bot.say(COMMITTEE, "/newactivity")
    await bot.say(COMMITTEE, "拔河比赛")
    await bot.press(COMMITTEE, pack("ag", "cat", "contest"))
    await bot.say(COMMITTEE, start.strftime("%Y-%m-%d %H:%M"))
    await bot.say(COMMITTEE, "操场")
    await bot.press(COMMITTEE, pack("ag", "cap", "none"))
    await bot.press(COMMITTEE, pack("ag", "dl", "start"))
    await bot.press(COMMITTEE, pack("ag", "who", "everyone"))
    await bot.press(COMMITTEE, pack("ag", "ch", "none"))
    await bot.press(COMMITTEE, pack("ag", "fam", "0"))
    await bot.press(COMMITTEE, pack("ag", "mode", "first_come"))
    await bot.press(COMMITTEE, pack("ag", "desc", "none"))
    await bot.press(COMMITTEE, pack("ag", "ok", "yes"))
    async with bot.db() as session:
        activity = (await session.exec(select(Activity))).one()
    aid = activity.id or 0

    await bot.press(MEMBERS[0], pack("av", "team", aid))
    await bot.say(MEMBERS[0], "张三、李四，王五")
    assert "共 3 人" in bot.telegram.last(MEMBERS[0].id).text
    await bot.press(MEMBERS[1], pack("av", "team", aid))  # same department: one team
    await bot.say(MEMBERS[1], "赵六")
    assert "已经报过团体" in bot.telegram.last(MEMBERS[1].id).text

    await bot.press(COMMITTEE, pack("ag", "list", aid))
    assert "张三、李四、王五" in bot.telegram.last(COMMITTEE.id).text
    await bot.press(MEMBERS[0], pack("av", "teamx", aid))
    assert "已撤回" in last_alert(bot)
