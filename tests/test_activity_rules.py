"""The rules of activity sign-ups through the real application: a rush of presses through the
application's own update processor, refusals of bad presses, promotion from the waitlist, the
lottery and reminders of the activities' job, the committee's management card, and the
/newactivity conversation's refusals."""

from __future__ import annotations

import asyncio
import io
import random
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import update
from sqlmodel import col, select
from telegram import Update

from bot.callback import pack
from models.activities import (
    Activity,
    ActivityStatus,
    Signup,
    SignupRequest,
    SignupStatus,
    participation,
    waitlist_position,
)
from models.base import utcnow
from models.errors import DomainError
from models.members import Actor, Gender, Member, MemberStatus, Role, load_actor
from models.outbox import Broadcast, OutboxMessage
from models.signup_batch import SignupBatcher
from scheduler.activity_jobs import activity_tick
from scheduler.runtime import Runtime
from tests.support.factories import make_member
from tests.support.harness import BotHarness
from tests.support.updates import Person, button

COMMITTEE = Person(1002, "Liu", "zh-hans")
TITLE = "教职工乒乓球赛"

# Distinctive fragments of what people receive (bot/locales/zh_Hans).
GOT_SEAT = "报名成功"
WAITLISTED = re.compile(r"候补第 (\d+) 位")
APPLIED = "已登记抽签"
ALREADY = "您已经报名了"
DEADLINE_PASSED = "报名已经截止"
NOT_ELIGIBLE = "只面向部分会员"
OUT_OF_AGE = "只面向 50–60 岁的会员（按今天的年龄计算），您不在范围内"
CANCELLED = "这个活动已经取消了"
CHOICE_UNKNOWN = "没有这个项目"
CHOICE_NEEDED = "请选择一个项目"
NO_SIGNUP = "您没有报名这个活动"
NOT_FOUND = "找不到这个活动"
STALE = "这个按钮已失效"
CANCELLED_YOURS = "已取消您在"
PROMOTED = "从候补转为正式报名"
FREED_LATE = "已过报名截止时间"
NOT_COMMITTEE = "只有工会委员"


# ---- helpers -----------------------------------------------------------------------------


async def add_committee(bot: BotHarness) -> Member:
    """The committee member who creates and manages activities."""
    return await make_member(
        bot.db, org_id=bot.org_id, person=COMMITTEE, name="刘委员", roles=[Role.COMMITTEE]
    )


async def add_members(
    bot: BotHarness, count: int, *, first_id: int = 6000, gender: str | None = Gender.MALE
) -> list[Person]:
    """`count` active teachers bound to Telegram."""
    people = [Person(first_id + i, f"T{i}", "zh-hans") for i in range(count)]
    for index, person in enumerate(people):
        await make_member(
            bot.db, org_id=bot.org_id, person=person, name=f"老师{index}", gender=gender
        )
    return people


def local(bot: BotHarness, moment: datetime) -> str:
    """A moment as the committee types it, in the union's time zone."""
    return moment.astimezone(bot.app.state.settings.zone).strftime("%Y-%m-%d %H:%M")


async def latest_activity(bot: BotHarness) -> Activity | None:
    """The activity created last, if any."""
    async with bot.db() as session:
        statement = select(Activity).order_by(col(Activity.id).desc())
        return (await session.exec(statement)).first()


async def create(
    bot: BotHarness,
    *,
    capacity: str | None = "2",
    who: str = "everyone",
    who_detail: str | None = None,
    choices: str | None = None,
    family: str = "0",
    mode: str = "first_come",
) -> Activity:
    """Walk /newactivity to the end: starts in three days, sign-up open until the start."""
    start = utcnow() + timedelta(days=3)
    await bot.say(COMMITTEE, "/newactivity")
    await bot.say(COMMITTEE, TITLE)
    await bot.press(COMMITTEE, pack("ag", "cat", "sport"))
    await bot.say(COMMITTEE, local(bot, start))
    await bot.say(COMMITTEE, "体育馆")
    if capacity is None:
        await bot.press(COMMITTEE, pack("ag", "cap", "none"))
    else:
        await bot.say(COMMITTEE, capacity)
    await bot.press(COMMITTEE, pack("ag", "dl", "start"))
    await bot.press(COMMITTEE, pack("ag", "who", who))
    if who_detail is not None:
        await bot.say(COMMITTEE, who_detail)
    if choices is None:
        await bot.press(COMMITTEE, pack("ag", "ch", "none"))
    else:
        await bot.say(COMMITTEE, choices)
    await bot.press(COMMITTEE, pack("ag", "fam", family))
    await bot.press(COMMITTEE, pack("ag", "mode", mode))
    await bot.press(COMMITTEE, pack("ag", "desc", "none"))
    await bot.press(COMMITTEE, pack("ag", "ok", "yes"))
    assert "已发布" in bot.telegram.last(COMMITTEE.id).text
    activity = await latest_activity(bot)
    assert activity is not None
    return activity


def last_alert(bot: BotHarness) -> str:
    """The text of the latest button answer."""
    return str(bot.telegram.answers()[-1].params.get("text", ""))


async def press_alert(bot: BotHarness, person: Person, data: str) -> str:
    """Press a button and return the answer it got."""
    before = len(bot.telegram.answers())
    await bot.press(person, data)
    answers = bot.telegram.answers()
    assert len(answers) == before + 1, "the press was not answered exactly once"
    return str(answers[-1].params.get("text", ""))


async def reload(bot: BotHarness, activity_id: int) -> Activity:
    """The activity as stored now."""
    async with bot.db() as session:
        activity = await session.get(Activity, activity_id, populate_existing=True)
    assert activity is not None
    return activity


async def change(bot: BotHarness, activity_id: int, **values: Any) -> None:
    """Set columns of the activity directly (a deadline in the past, a start within hours)."""
    async with bot.db() as session:
        activity = await session.get(Activity, activity_id)
        assert activity is not None
        for key, value in values.items():
            setattr(activity, key, value)
        session.add(activity)
        await session.commit()


async def edit_member(bot: BotHarness, person: Person, **values: Any) -> None:
    """Set profile fields directly (birthday, department, retired)."""
    async with bot.db() as session:
        member = (
            await session.exec(select(Member).where(Member.telegram_user_id == person.id))
        ).one()
        for key, value in values.items():
            setattr(member, key, value)
        session.add(member)
        await session.commit()


async def member_ids(bot: BotHarness) -> dict[int, int]:
    """Telegram user id -> member id."""
    async with bot.db() as session:
        rows = (await session.exec(select(Member))).all()
    return {m.telegram_user_id: m.id or 0 for m in rows if m.telegram_user_id is not None}


async def signups(bot: BotHarness, activity_id: int) -> list[Signup]:
    """Every sign-up row of the activity, in queue order."""
    async with bot.db() as session:
        statement = (
            select(Signup)
            .where(Signup.activity_id == activity_id)
            .order_by(col(Signup.queue_no), col(Signup.id))
        )
        return list((await session.exec(statement)).all())


async def status_of(bot: BotHarness, activity_id: int) -> dict[int, str]:
    """Telegram user id -> sign-up status."""
    ids = {member: telegram for telegram, member in (await member_ids(bot)).items()}
    return {ids[s.member_id]: s.status for s in await signups(bot, activity_id)}


async def assert_seats_consistent(bot: BotHarness, activity_id: int) -> None:
    """The seat counter matches the seated rows, and never exceeds the capacity."""
    activity = await reload(bot, activity_id)
    seated = [s for s in await signups(bot, activity_id) if s.status == SignupStatus.SEAT]
    assert activity.seats_taken == len(seated)
    if activity.capacity is not None:
        assert len(seated) <= activity.capacity


def runtime_of(bot: BotHarness) -> Runtime:
    """The runtime start-up installed (what the scheduler's jobs get)."""
    runtime = bot.app.state.runtime
    assert runtime is not None
    return runtime


async def broadcast_texts(bot: BotHarness, key: str) -> dict[int, str]:
    """chat id -> text of the outbox rows of the broadcast with this key."""
    async with bot.db() as session:
        statement = (
            select(OutboxMessage)
            .join(Broadcast, col(Broadcast.id) == col(OutboxMessage.broadcast_id))
            .where(Broadcast.key == key)
        )
        rows = (await session.exec(statement)).all()
    return {row.chat_id: row.text for row in rows}


async def broadcast_keys(bot: BotHarness) -> list[str]:
    """Keys of every broadcast queued so far."""
    async with bot.db() as session:
        return sorted((await session.exec(select(Broadcast.key))).all())


async def rush(bot: BotHarness, presses: list[tuple[Person, str]]) -> dict[str, int]:
    """Feed the presses all at once through the application's own update processor, exactly
    as the fetcher does; returns callback query id -> the presser's Telegram id."""
    raw = [button(person, data) for person, data in presses]
    who = {
        str(item["callback_query"]["id"]): person.id
        for item, (person, _) in zip(raw, presses, strict=True)
    }
    updates = [Update.de_json(item, bot.app.bot) for item in raw]
    processor = bot.app.update_processor
    await asyncio.gather(*(processor.process_update(u, bot.app.process_update(u)) for u in updates))
    return who


def answers_by_person(bot: BotHarness, who: dict[str, int]) -> dict[int, list[str]]:
    """The answers to the rushed presses, per presser, in the order they were given."""
    result: dict[int, list[str]] = {}
    for call in bot.telegram.answers():
        query = str(call.params.get("callback_query_id"))
        if query in who:
            result.setdefault(who[query], []).append(str(call.params.get("text", "")))
    return result


async def actor_of(bot: BotHarness, person: Person) -> Actor:
    """The member behind a Telegram account, as handlers see them."""
    async with bot.db() as session:
        actor = await load_actor(session, org_id=bot.org_id, telegram_user_id=person.id)
    assert actor is not None
    return actor


# ---- 1. a rush -----------------------------------------------------------------------------


async def test_sixty_presses_at_once_give_ten_seats_and_a_gapless_waitlist(
    bot: BotHarness,
) -> None:
    await add_committee(bot)
    people = await add_members(bot, 60)
    activity = await create(bot, capacity="10")
    aid = activity.id or 0

    who = await rush(bot, [(person, pack("av", "su", aid)) for person in people])

    answers = answers_by_person(bot, who)
    assert sorted(answers) == sorted(p.id for p in people)
    assert all(len(texts) == 1 for texts in answers.values())
    texts = [texts[0] for texts in answers.values()]
    assert sum(GOT_SEAT in t for t in texts) == 10
    told_positions = sorted(
        int(match.group(1)) for t in texts if (match := WAITLISTED.search(t)) is not None
    )
    assert told_positions == list(range(1, 51))

    rows = await signups(bot, aid)
    assert Counter(s.status for s in rows) == {SignupStatus.SEAT: 10, SignupStatus.WAITLIST: 50}
    assert sorted(s.queue_no for s in rows) == list(range(1, 61))
    stored = await reload(bot, aid)
    assert stored.seats_taken == 10
    waiting = [s for s in rows if s.status == SignupStatus.WAITLIST]
    async with bot.db() as session:
        positions = [await waitlist_position(session, signup=s) for s in waiting]
    assert positions == list(range(1, 51))
    # Each waiting member was told the place the database gives them.
    telegram = {member: tg for tg, member in (await member_ids(bot)).items()}
    for signup, position in zip(waiting, positions, strict=True):
        (told,) = answers[telegram[signup.member_id]]
        assert f"候补第 {position} 位" in told


async def test_double_presses_at_once_sign_each_member_up_once(bot: BotHarness) -> None:
    await add_committee(bot)
    people = await add_members(bot, 20)
    activity = await create(bot, capacity="10")
    aid = activity.id or 0

    presses = [(person, pack("av", "su", aid)) for person in people for _ in range(2)]
    who = await rush(bot, presses)

    answers = answers_by_person(bot, who)
    assert sorted(answers) == sorted(p.id for p in people)
    for texts in answers.values():
        assert len(texts) == 2
        assert sum(ALREADY in t for t in texts) == 1
        assert sum(GOT_SEAT in t or WAITLISTED.search(t) is not None for t in texts) == 1
    rows = await signups(bot, aid)
    assert len(rows) == 20 and len({s.member_id for s in rows}) == 20
    assert Counter(s.status for s in rows) == {SignupStatus.SEAT: 10, SignupStatus.WAITLIST: 10}
    await assert_seats_consistent(bot, aid)


async def test_double_presses_outside_the_processor_still_sign_up_once(bot: BotHarness) -> None:
    """Without the per-person queue (two presses handled side by side) the batch itself keeps
    one sign-up per member."""
    await add_committee(bot)
    people = await add_members(bot, 5)
    activity = await create(bot, capacity="3")
    aid = activity.id or 0

    await asyncio.gather(
        *(bot.press(person, pack("av", "su", aid)) for person in people for _ in range(2))
    )

    rows = await signups(bot, aid)
    assert len(rows) == 5 and len({s.member_id for s in rows}) == 5
    assert sum(ALREADY in str(a.params.get("text", "")) for a in bot.telegram.answers()) == 5
    await assert_seats_consistent(bot, aid)


# ---- 2. one person's presses stay in order ---------------------------------------------------


async def test_sign_up_then_cancel_fed_at_once_end_cancelled_for_each_member(
    bot: BotHarness,
) -> None:
    await add_committee(bot)
    people = await add_members(bot, 6)
    activity = await create(bot, capacity=None)
    aid = activity.id or 0

    presses = [(person, pack("av", action, aid)) for person in people for action in ("su", "cx")]
    who = await rush(bot, presses)

    answers = answers_by_person(bot, who)
    for person in people:
        first, second = answers[person.id]
        assert GOT_SEAT in first
        assert CANCELLED_YOURS in second
    statuses = await status_of(bot, aid)
    assert {statuses[p.id] for p in people} == {SignupStatus.CANCELLED}
    assert (await reload(bot, aid)).seats_taken == 0


async def test_cancelling_while_being_promoted_still_cancels(bot: BotHarness) -> None:
    """A waiting member presses Cancel just as someone else's cancellation hands them the seat
    (seen with sign up + cancel by several members at once on a small activity)."""
    await add_committee(bot)
    seated, waiting = await add_members(bot, 2)
    activity = await create(bot, capacity="1")
    aid = activity.id or 0
    await bot.press(seated, pack("av", "su", aid))
    await bot.press(waiting, pack("av", "su", aid))
    ids = await member_ids(bot)

    async with bot.db() as session:  # `seated` cancels and `waiting` moves up: not committed yet
        for telegram, status in ((seated.id, SignupStatus.CANCELLED), (waiting.id, "seat")):
            await session.exec(
                update(Signup)
                .where(col(Signup.activity_id) == aid, col(Signup.member_id) == ids[telegram])
                .values(status=status)
            )
        press = asyncio.create_task(bot.press(waiting, pack("av", "cx", aid)))
        await asyncio.sleep(0.5)  # the press read "waitlist" and now waits on the lock
        await session.commit()
    await press

    assert CANCELLED_YOURS in last_alert(bot)
    assert (await status_of(bot, aid))[waiting.id] == SignupStatus.CANCELLED
    assert (await reload(bot, aid)).seats_taken == 0


# ---- 3. bad presses ------------------------------------------------------------------------


async def test_signing_up_twice_is_refused(bot: BotHarness) -> None:
    await add_committee(bot)
    (person,) = await add_members(bot, 1)
    activity = await create(bot, capacity="1")
    aid = activity.id or 0

    assert GOT_SEAT in await press_alert(bot, person, pack("av", "su", aid))
    assert ALREADY in await press_alert(bot, person, pack("av", "su", aid))

    assert len(await signups(bot, aid)) == 1
    await assert_seats_consistent(bot, aid)


async def test_after_the_deadline_sign_up_is_refused(bot: BotHarness) -> None:
    await add_committee(bot)
    (person,) = await add_members(bot, 1)
    activity = await create(bot, capacity="5")
    aid = activity.id or 0
    await change(bot, aid, deadline=utcnow() - timedelta(minutes=1))

    assert DEADLINE_PASSED in await press_alert(bot, person, pack("av", "su", aid))
    assert await signups(bot, aid) == []
    assert (await reload(bot, aid)).seats_taken == 0


def local_today(bot: BotHarness) -> date:
    """The union's day (Shanghai), on which a press counts birthdays; the UTC date is a day
    behind before 08:00 there."""
    state = bot.app.state
    return state.clock().astimezone(state.settings.zone).date()


async def test_women_only_activity_refuses_a_man(bot: BotHarness) -> None:
    await add_committee(bot)
    (man,) = await add_members(bot, 1, first_id=6100, gender=Gender.MALE)
    (woman,) = await add_members(bot, 1, first_id=6200, gender=Gender.FEMALE)
    activity = await create(bot, capacity="5", who="women")
    aid = activity.id or 0

    assert NOT_ELIGIBLE in await press_alert(bot, man, pack("av", "su", aid))
    assert GOT_SEAT in await press_alert(bot, woman, pack("av", "su", aid))
    assert set(await status_of(bot, aid)) == {woman.id}


async def test_age_range_is_checked_on_birth_dates(bot: BotHarness) -> None:
    await add_committee(bot)
    inside, too_young, too_old, no_birthday = await add_members(bot, 4)
    today = local_today(bot)
    # 55 at most a day away from any birthday: inside 50-60 whatever today is.
    await edit_member(bot, inside, birth_year=today.year - 55, birth_month=6, birth_day=15)
    await edit_member(bot, too_young, birth_year=today.year - 30, birth_month=1, birth_day=1)
    await edit_member(bot, too_old, birth_year=today.year - 70, birth_month=1, birth_day=1)
    await edit_member(bot, no_birthday, birth_year=today.year - 55)
    activity = await create(bot, capacity="5", who="age", who_detail="50-60")
    assert activity.rule() == {"type": "age", "min": 50, "max": 60}
    aid = activity.id or 0

    for person in (too_young, too_old):
        assert OUT_OF_AGE in await press_alert(bot, person, pack("av", "su", aid))
    # Without a full birthday: told the ages and where to add it.
    refusal = await press_alert(bot, no_birthday, pack("av", "su", aid))
    assert "按年龄报名（50–60 岁）" in refusal and "请发送 /me 补填出生日期" in refusal
    assert GOT_SEAT in await press_alert(bot, inside, pack("av", "su", aid))
    assert set(await status_of(bot, aid)) == {inside.id}


async def test_the_age_limits_count_the_birthday_itself(bot: BotHarness) -> None:
    """Age in whole years: 60 until the day before the 61st birthday."""
    await add_committee(bot)
    turning_61_tomorrow, turned_61_today = await add_members(bot, 2)
    today = local_today(bot)
    tomorrow = today + timedelta(days=1)
    await edit_member(
        bot,
        turning_61_tomorrow,
        birth_year=tomorrow.year - 61,
        birth_month=tomorrow.month,
        birth_day=tomorrow.day,
    )
    await edit_member(
        bot,
        turned_61_today,
        birth_year=today.year - 61,
        birth_month=today.month,
        birth_day=today.day,
    )
    activity = await create(bot, capacity="5", who="age", who_detail="50-60")
    aid = activity.id or 0

    assert GOT_SEAT in await press_alert(bot, turning_61_tomorrow, pack("av", "su", aid))
    assert OUT_OF_AGE in await press_alert(bot, turned_61_today, pack("av", "su", aid))


async def test_birthdays_count_on_the_unions_day_not_the_utc_date(bot: BotHarness) -> None:
    """07:00 in Shanghai is 23:00 UTC the day before: whoever turns 61 that Shanghai day is 61
    at the press, and whoever turns 61 the next day is still 60."""
    await add_committee(bot)
    turns_61_today, turns_61_tomorrow = await add_members(bot, 2, first_id=6700)
    activity = await create(bot, capacity="5", who="age", who_detail="50-60")
    zone = bot.app.state.settings.zone
    day = (utcnow() + timedelta(days=1)).astimezone(zone).date()
    moment = datetime(day.year, day.month, day.day, 7, 0, tzinfo=zone)
    assert moment.astimezone(UTC).date() == day - timedelta(days=1)
    for person, born in ((turns_61_today, day), (turns_61_tomorrow, day + timedelta(days=1))):
        await edit_member(
            bot, person, birth_year=born.year - 61, birth_month=born.month, birth_day=born.day
        )
    bot.app.state.clock = lambda: moment
    aid = activity.id or 0

    assert OUT_OF_AGE in await press_alert(bot, turns_61_today, pack("av", "su", aid))
    assert GOT_SEAT in await press_alert(bot, turns_61_tomorrow, pack("av", "su", aid))


async def test_departments_rule_refuses_other_departments(bot: BotHarness) -> None:
    await add_committee(bot)
    chinese, maths, english = await add_members(bot, 3)
    await edit_member(bot, chinese, department="语文组")
    await edit_member(bot, maths, department="数学组")
    await edit_member(bot, english, department="英语组")
    activity = await create(bot, capacity="5", who="departments", who_detail="语文组、数学组")
    assert activity.rule()["departments"] == ["语文组", "数学组"]
    aid = activity.id or 0

    assert NOT_ELIGIBLE in await press_alert(bot, english, pack("av", "su", aid))
    assert GOT_SEAT in await press_alert(bot, chinese, pack("av", "su", aid))
    assert GOT_SEAT in await press_alert(bot, maths, pack("av", "su", aid))
    assert set(await status_of(bot, aid)) == {chinese.id, maths.id}


async def test_a_cancelled_activity_refuses_sign_ups(bot: BotHarness) -> None:
    await add_committee(bot)
    (person,) = await add_members(bot, 1)
    activity = await create(bot, capacity="5")
    aid = activity.id or 0
    await change(bot, aid, status=ActivityStatus.CANCELLED)

    assert CANCELLED in await press_alert(bot, person, pack("av", "su", aid))
    assert await signups(bot, aid) == []


async def test_choices_must_exist_and_must_be_chosen(bot: BotHarness) -> None:
    await add_committee(bot)
    (person,) = await add_members(bot, 1)
    activity = await create(bot, capacity="5", choices="拔河、乒乓球")
    assert activity.choice_list() == ["拔河", "乒乓球"]
    aid = activity.id or 0

    assert CHOICE_UNKNOWN in await press_alert(bot, person, pack("av", "su", aid, 9))
    assert CHOICE_NEEDED in await press_alert(bot, person, pack("av", "su", aid))
    assert await signups(bot, aid) == []

    assert GOT_SEAT in await press_alert(bot, person, pack("av", "su", aid, 1))
    (row,) = await signups(bot, aid)
    assert row.choice == "乒乓球"
    await assert_seats_consistent(bot, aid)


async def test_a_choice_on_an_activity_without_choices_is_refused(bot: BotHarness) -> None:
    await add_committee(bot)
    (person,) = await add_members(bot, 1)
    activity = await create(bot, capacity="5")
    aid = activity.id or 0

    assert CHOICE_UNKNOWN in await press_alert(bot, person, pack("av", "su", aid, 0))
    assert await signups(bot, aid) == []


async def test_cancelling_without_a_sign_up_is_refused(bot: BotHarness) -> None:
    await add_committee(bot)
    seated, waiting, stranger = await add_members(bot, 3)
    activity = await create(bot, capacity="1")
    aid = activity.id or 0
    await bot.press(seated, pack("av", "su", aid))
    await bot.press(waiting, pack("av", "su", aid))

    assert NO_SIGNUP in await press_alert(bot, stranger, pack("av", "cx", aid))
    assert CANCELLED_YOURS in await press_alert(bot, waiting, pack("av", "cx", aid))
    assert NO_SIGNUP in await press_alert(bot, waiting, pack("av", "cx", aid))  # twice
    statuses = await status_of(bot, aid)
    assert statuses == {seated.id: SignupStatus.SEAT, waiting.id: SignupStatus.CANCELLED}
    await assert_seats_consistent(bot, aid)


async def test_buttons_of_an_activity_that_no_longer_exists(bot: BotHarness) -> None:
    await add_committee(bot)
    (person,) = await add_members(bot, 1)

    assert NOT_FOUND in await press_alert(bot, person, pack("av", "su", 99999))
    assert NOT_FOUND in await press_alert(bot, person, pack("av", "cx", 99999))
    assert NOT_FOUND in await press_alert(bot, person, pack("av", "in", 99999))
    assert NOT_FOUND in await press_alert(bot, COMMITTEE, pack("ag", "mgr", 99999))
    async with bot.db() as session:
        assert (await session.exec(select(Signup))).all() == []


@pytest.mark.parametrize(
    "data",
    ["av:su", "av:su:abc", "av:su:0", "av:su:-5", "av:cx:abc", "av:cx", "av:in:x", "av:fam:1"],
)
async def test_malformed_buttons_get_a_stale_button_alert(bot: BotHarness, data: str) -> None:
    await add_committee(bot)
    (person,) = await add_members(bot, 1)
    activity = await create(bot, capacity="1")

    assert STALE in await press_alert(bot, person, data)
    assert await signups(bot, activity.id or 0) == []


async def test_family_beyond_the_limit_is_refused(bot: BotHarness) -> None:
    await add_committee(bot)
    (person,) = await add_members(bot, 1)
    activity = await create(bot, capacity="5", family="1")
    aid = activity.id or 0
    assert GOT_SEAT in await press_alert(bot, person, pack("av", "su", aid))
    assert "可以带家属" in bot.telegram.last(person.id).text

    assert "最多可以带 1 位家属" in await press_alert(bot, person, pack("av", "fam", aid, 2))
    assert "带 1 位家属" in await press_alert(bot, person, pack("av", "fam", aid, 1))
    (row,) = await signups(bot, aid)
    assert row.family == 1


async def test_unregistered_people_cannot_sign_up(bot: BotHarness) -> None:
    await add_committee(bot)
    activity = await create(bot, capacity="5")
    stranger = Person(6999, "X", "zh-hans")
    pending = Person(6998, "P", "zh-hans")
    await make_member(
        bot.db, org_id=bot.org_id, person=pending, name="待审", status=MemberStatus.PENDING
    )

    for person in (stranger, pending):
        assert "还不是工会助手的会员" in await press_alert(
            bot, person, pack("av", "su", activity.id or 0)
        )
    assert await signups(bot, activity.id or 0) == []


# ---- 4. promotion --------------------------------------------------------------------------


async def test_before_the_deadline_the_first_waiting_gets_the_seat_and_is_told(
    bot: BotHarness,
) -> None:
    await add_committee(bot)
    a, b, first_waiting, second_waiting = await add_members(bot, 4)
    activity = await create(bot, capacity="2")
    aid = activity.id or 0
    for person in (a, b, first_waiting, second_waiting):
        await bot.press(person, pack("av", "su", aid))

    assert CANCELLED_YOURS in await press_alert(bot, a, pack("av", "cx", aid))

    assert PROMOTED in bot.telegram.last(first_waiting.id).text
    assert not any(PROMOTED in t for t in bot.telegram.texts(second_waiting.id))
    statuses = await status_of(bot, aid)
    assert statuses[first_waiting.id] == SignupStatus.SEAT
    assert statuses[second_waiting.id] == SignupStatus.WAITLIST
    await assert_seats_consistent(bot, aid)
    assert (await reload(bot, aid)).seats_taken == 2
    # The second in line is now first.
    await bot.say(second_waiting, "/activities")
    assert "候补第 1 位" in bot.telegram.last(second_waiting.id).text


async def test_after_the_deadline_the_waitlist_is_only_told(bot: BotHarness) -> None:
    await add_committee(bot)
    a, b, w1, w2 = await add_members(bot, 4)
    activity = await create(bot, capacity="2")
    aid = activity.id or 0
    for person in (a, b, w1, w2):
        await bot.press(person, pack("av", "su", aid))
    await change(bot, aid, deadline=utcnow() - timedelta(minutes=5))

    assert CANCELLED_YOURS in await press_alert(bot, a, pack("av", "cx", aid))

    for person in (w1, w2):
        assert FREED_LATE in bot.telegram.last(person.id).text
        assert not any(PROMOTED in t for t in bot.telegram.texts(person.id))
    assert not any(FREED_LATE in t for t in bot.telegram.texts(b.id))
    statuses = await status_of(bot, aid)
    assert statuses == {
        a.id: SignupStatus.CANCELLED,
        b.id: SignupStatus.SEAT,
        w1.id: SignupStatus.WAITLIST,
        w2.id: SignupStatus.WAITLIST,
    }
    assert (await reload(bot, aid)).seats_taken == 1
    # Nor can someone else take the freed seat.
    assert DEADLINE_PASSED in await press_alert(bot, a, pack("av", "su", aid))
    assert (await reload(bot, aid)).seats_taken == 1


async def test_cancelling_a_waitlist_place_promotes_nobody(bot: BotHarness) -> None:
    await add_committee(bot)
    seated, w1, w2 = await add_members(bot, 3)
    activity = await create(bot, capacity="1")
    aid = activity.id or 0
    for person in (seated, w1, w2):
        await bot.press(person, pack("av", "su", aid))

    await bot.press(w1, pack("av", "cx", aid))

    assert not any(PROMOTED in t for t in bot.telegram.texts(w2.id))
    assert (await status_of(bot, aid))[w2.id] == SignupStatus.WAITLIST
    await assert_seats_consistent(bot, aid)


# ---- 5. the lottery ------------------------------------------------------------------------


async def lottery_at_deadline(
    bot: BotHarness, capacity: str, applicants: int
) -> tuple[int, datetime]:
    """A lottery activity, `applicants` applications, and its deadline moved two days before
    the start; returns (activity id, deadline)."""
    await add_committee(bot)
    people = await add_members(bot, applicants)
    activity = await create(bot, capacity=capacity, mode="lottery")
    aid = activity.id or 0
    for person in people:
        assert APPLIED in await press_alert(bot, person, pack("av", "su", aid))
    assert {s.status for s in await signups(bot, aid)} == {SignupStatus.APPLIED}
    assert (await reload(bot, aid)).seats_taken == 0
    deadline = activity.starts_at - timedelta(hours=48)
    await change(bot, aid, deadline=deadline)
    return aid, deadline


async def test_the_lottery_seats_exactly_the_capacity_and_the_rest_wait_in_drawn_order(
    bot: BotHarness,
) -> None:
    aid, deadline = await lottery_at_deadline(bot, "3", 7)
    runtime = runtime_of(bot)

    before = deadline - timedelta(minutes=1)
    assert await activity_tick(runtime, now=before, rng=random.Random(1)) == 0
    assert {s.status for s in await signups(bot, aid)} == {SignupStatus.APPLIED}

    assert await activity_tick(runtime, now=deadline, rng=random.Random(1)) == 1

    rows = await signups(bot, aid)
    seated = [s for s in rows if s.status == SignupStatus.SEAT]
    waiting = [s for s in rows if s.status == SignupStatus.WAITLIST]
    assert len(seated) == 3 and len(waiting) == 4
    assert sorted(s.queue_no for s in seated) == [1, 2, 3]
    assert [s.queue_no for s in waiting] == [4, 5, 6, 7]
    stored = await reload(bot, aid)
    assert stored.seats_taken == 3 and stored.drawn and stored.status == ActivityStatus.CLOSED

    texts = await broadcast_texts(bot, f"activity:{aid}:draw")
    ids = {member: tg for tg, member in (await member_ids(bot)).items()}
    assert set(texts) == {ids[s.member_id] for s in rows}
    for s in seated:
        assert "您抽中了" in texts[ids[s.member_id]]
    for s in waiting:
        assert "没有抽中" in texts[ids[s.member_id]]

    # A second run draws nothing and tells nobody again.
    keys = await broadcast_keys(bot)
    assert (
        await activity_tick(runtime, now=deadline + timedelta(minutes=5), rng=random.Random(2)) == 0
    )
    assert await broadcast_keys(bot) == keys
    assert [(s.member_id, s.status, s.queue_no) for s in await signups(bot, aid)] == [
        (s.member_id, s.status, s.queue_no) for s in rows
    ]


async def test_the_draw_follows_the_random_source(bot: BotHarness) -> None:
    """Who wins is the shuffle's order, not the order of the presses."""
    aid, deadline = await lottery_at_deadline(bot, "2", 6)
    applied = [s.member_id for s in await signups(bot, aid)]
    expected = list(applied)
    random.Random(11).shuffle(expected)

    await activity_tick(runtime_of(bot), now=deadline, rng=random.Random(11))

    rows = await signups(bot, aid)
    assert [s.member_id for s in rows] == expected
    assert [s.status for s in rows] == [SignupStatus.SEAT] * 2 + [SignupStatus.WAITLIST] * 4


async def test_with_fewer_applicants_than_seats_everyone_is_seated(bot: BotHarness) -> None:
    aid, deadline = await lottery_at_deadline(bot, "5", 2)

    assert await activity_tick(runtime_of(bot), now=deadline, rng=random.Random(3)) == 1

    rows = await signups(bot, aid)
    assert [s.status for s in rows] == [SignupStatus.SEAT, SignupStatus.SEAT]
    assert (await reload(bot, aid)).seats_taken == 2
    texts = await broadcast_texts(bot, f"activity:{aid}:draw")
    assert len(texts) == 2 and all("您抽中了" in t for t in texts.values())


async def test_a_lottery_open_until_the_start_is_drawn_or_refused(bot: BotHarness) -> None:
    await add_committee(bot)
    people = await add_members(bot, 3)
    activity = await create(bot, capacity="1", mode="lottery")
    aid = activity.id or 0
    assert activity.deadline == activity.starts_at
    for person in people:
        await bot.press(person, pack("av", "su", aid))
    runtime = runtime_of(bot)

    for minutes in range(-30, 31, 5):  # the job runs every few minutes around the start
        moment = activity.starts_at + timedelta(minutes=minutes)
        await activity_tick(runtime, now=moment, rng=random.Random(5))

    statuses = {s.status for s in await signups(bot, aid)}
    assert SignupStatus.APPLIED not in statuses
    assert await broadcast_texts(bot, f"activity:{aid}:draw") != {}


# ---- 6. reminders --------------------------------------------------------------------------


async def test_reminders_go_once_to_seated_members_only(bot: BotHarness) -> None:
    await add_committee(bot)
    a, b, waiting = await add_members(bot, 3)
    activity = await create(bot, capacity="2")
    aid = activity.id or 0
    for person in (a, b, waiting):
        await bot.press(person, pack("av", "su", aid))
    runtime = runtime_of(bot)
    start = activity.starts_at
    rng = random.Random(0)

    assert await activity_tick(runtime, now=start - timedelta(hours=25), rng=rng) == 0
    assert await broadcast_texts(bot, f"activity:{aid}:remind:24") == {}

    assert await activity_tick(runtime, now=start - timedelta(hours=24), rng=rng) == 1
    day = await broadcast_texts(bot, f"activity:{aid}:remind:24")
    assert set(day) == {a.id, b.id}
    assert all("⏰ 提醒" in t and TITLE in t and "体育馆" in t for t in day.values())
    assert await activity_tick(runtime, now=start - timedelta(hours=23), rng=rng) == 0
    assert await activity_tick(runtime, now=start - timedelta(hours=3), rng=rng) == 0
    assert await broadcast_texts(bot, f"activity:{aid}:remind:2") == {}

    assert await activity_tick(runtime, now=start - timedelta(hours=2), rng=rng) == 1
    soon = await broadcast_texts(bot, f"activity:{aid}:remind:2")
    assert set(soon) == {a.id, b.id}
    assert await activity_tick(runtime, now=start - timedelta(minutes=30), rng=rng) == 0
    assert await broadcast_texts(bot, f"activity:{aid}:remind:24") == day
    keys = await broadcast_keys(bot)
    assert sum(k.startswith(f"activity:{aid}:remind") for k in keys) == 2


async def test_a_cancelled_activity_is_not_reminded(bot: BotHarness) -> None:
    await add_committee(bot)
    (person,) = await add_members(bot, 1)
    activity = await create(bot, capacity="2")
    aid = activity.id or 0
    await bot.press(person, pack("av", "su", aid))
    await change(bot, aid, status=ActivityStatus.CANCELLED)

    moment = activity.starts_at - timedelta(hours=1)
    assert await activity_tick(runtime_of(bot), now=moment, rng=random.Random(0)) == 0
    assert not any("remind" in k for k in await broadcast_keys(bot))


# ---- 7. the committee ----------------------------------------------------------------------


async def test_closing_early_refuses_further_sign_ups(bot: BotHarness) -> None:
    await add_committee(bot)
    early, late = await add_members(bot, 2)
    activity = await create(bot, capacity="5")
    aid = activity.id or 0
    await bot.press(early, pack("av", "su", aid))

    assert NOT_COMMITTEE in await press_alert(bot, early, pack("ag", "close", aid))
    assert (await reload(bot, aid)).status == ActivityStatus.OPEN
    assert "已截止报名" in await press_alert(bot, COMMITTEE, pack("ag", "close", aid))
    assert (await reload(bot, aid)).status == ActivityStatus.CLOSED

    assert DEADLINE_PASSED in await press_alert(bot, late, pack("av", "su", aid))
    assert set(await status_of(bot, aid)) == {early.id}
    assert "已经截止或取消" in await press_alert(bot, COMMITTEE, pack("ag", "close", aid))


async def test_moving_time_and_place_tells_everyone_signed_up(bot: BotHarness) -> None:
    await add_committee(bot)
    seated, waiting, cancelled, outsider = await add_members(bot, 4)
    activity = await create(bot, capacity="1")
    aid = activity.id or 0
    for person in (seated, waiting, cancelled):
        await bot.press(person, pack("av", "su", aid))
    await bot.press(cancelled, pack("av", "cx", aid))
    new_start = activity.starts_at + timedelta(days=1, hours=2)

    await bot.press(COMMITTEE, pack("ag", "move", aid))
    assert "新的时间" in bot.telegram.last(COMMITTEE.id).text
    await bot.say(COMMITTEE, "abc")
    assert "没看懂时间" in bot.telegram.last(COMMITTEE.id).text
    await bot.say(COMMITTEE, local(bot, new_start))
    assert "新的地点" in bot.telegram.last(COMMITTEE.id).text
    await bot.say(COMMITTEE, "学校礼堂")
    assert "2 人会收到变动通知" in bot.telegram.last(COMMITTEE.id).text

    stored = await reload(bot, aid)
    assert stored.place == "学校礼堂"
    assert local(bot, stored.starts_at) == local(bot, new_start)
    async with bot.db() as session:
        statement = (
            select(OutboxMessage)
            .join(Broadcast, col(Broadcast.id) == col(OutboxMessage.broadcast_id))
            .where(col(Broadcast.key).startswith(f"activity:{aid}:move:"))
        )
        rows = (await session.exec(statement)).all()
    assert {row.chat_id for row in rows} == {seated.id, waiting.id}
    assert all("有变动" in r.text and "学校礼堂" in r.text for r in rows)
    assert all(local(bot, new_start) in r.text for r in rows)
    assert outsider.id not in {row.chat_id for row in rows}


async def test_fewer_seats_move_the_latest_seated_to_the_head_of_the_waitlist(
    bot: BotHarness,
) -> None:
    await add_committee(bot)
    people = await add_members(bot, 6)
    activity = await create(bot, capacity="4")
    aid = activity.id or 0
    for person in people:
        await bot.press(person, pack("av", "su", aid))
    s1, s2, s3, s4, w1, w2 = people
    ids = await member_ids(bot)

    await bot.press(COMMITTEE, pack("ag", "cap2", aid))
    assert "目前已报名 4 人" in bot.telegram.last(COMMITTEE.id).text
    for bad in ("abc", "0", "①"):
        await bot.say(COMMITTEE, bad)
        assert "1 到 10000" in bot.telegram.last(COMMITTEE.id).text
    await bot.say(COMMITTEE, "2")
    ask = bot.telegram.last(COMMITTEE.id)
    assert "少 2 位" in ask.text
    assert (await reload(bot, aid)).capacity == 4  # only asked so far

    assert NOT_COMMITTEE in await press_alert(bot, s1, ask.button_data("转入候补"))
    assert "名额没有改" in await press_alert(bot, COMMITTEE, ask.button_data("不改"))
    stored = await reload(bot, aid)
    assert stored.capacity == 4 and stored.seats_taken == 4

    await press_alert(bot, COMMITTEE, ask.button_data("转入候补"))
    assert "2 位转入候补" in bot.telegram.last(COMMITTEE.id).text
    for person in (s3, s4):
        assert "转入候补名单的最前面" in bot.telegram.last(person.id).text
    for person in (s1, s2, w1, w2):
        assert not any("转入候补" in t for t in bot.telegram.texts(person.id))
    stored = await reload(bot, aid)
    assert stored.capacity == 2 and stored.seats_taken == 2
    await assert_seats_consistent(bot, aid)
    rows = await signups(bot, aid)
    assert [s.member_id for s in rows if s.status == SignupStatus.SEAT] == [ids[s1.id], ids[s2.id]]
    waiting = [s for s in rows if s.status == SignupStatus.WAITLIST]
    assert [s.member_id for s in waiting] == [ids[p.id] for p in (s3, s4, w1, w2)]
    async with bot.db() as session:
        assert [await waitlist_position(session, signup=s) for s in waiting] == [1, 2, 3, 4]

    # The first of them gets the next seat that frees up.
    await bot.press(s1, pack("av", "cx", aid))
    assert PROMOTED in bot.telegram.last(s3.id).text
    assert (await status_of(bot, aid))[s4.id] == SignupStatus.WAITLIST
    await assert_seats_consistent(bot, aid)


async def test_more_seats_go_to_the_waitlist_first(bot: BotHarness) -> None:
    await add_committee(bot)
    seated, first, second, third, newcomer = await add_members(bot, 5)
    activity = await create(bot, capacity="1")
    aid = activity.id or 0
    for person in (seated, first, second, third):
        await bot.press(person, pack("av", "su", aid))

    await bot.press(COMMITTEE, pack("ag", "cap2", aid))
    await bot.say(COMMITTEE, "3")
    assert "2 位候补转正" in bot.telegram.last(COMMITTEE.id).text
    await bot.press(newcomer, pack("av", "su", aid))

    statuses = await status_of(bot, aid)
    assert [statuses[p.id] for p in (seated, first, second, third, newcomer)] == [
        SignupStatus.SEAT,
        SignupStatus.SEAT,
        SignupStatus.SEAT,
        SignupStatus.WAITLIST,
        SignupStatus.WAITLIST,
    ]
    for person in (first, second):
        assert PROMOTED in bot.telegram.last(person.id).text
    assert not any(PROMOTED in t for t in bot.telegram.texts(third.id))
    assert (await reload(bot, aid)).seats_taken == 3
    await assert_seats_consistent(bot, aid)


async def test_cancelling_the_activity_tells_everyone_and_refuses_presses(
    bot: BotHarness,
) -> None:
    await add_committee(bot)
    seated, waiting, outsider = await add_members(bot, 3)
    activity = await create(bot, capacity="1")
    aid = activity.id or 0
    await bot.press(seated, pack("av", "su", aid))
    await bot.press(waiting, pack("av", "su", aid))

    await bot.press(COMMITTEE, pack("ag", "cxa", aid))
    assert "确定取消" in bot.telegram.last(COMMITTEE.id).text
    assert (await reload(bot, aid)).status == ActivityStatus.OPEN  # only asked so far
    assert NOT_COMMITTEE in await press_alert(bot, seated, pack("ag", "cxyes", aid))
    assert "已取消活动" in await press_alert(bot, COMMITTEE, pack("ag", "cxyes", aid))

    assert (await reload(bot, aid)).status == ActivityStatus.CANCELLED
    async with bot.db() as session:
        statement = (
            select(OutboxMessage)
            .join(Broadcast, col(Broadcast.id) == col(OutboxMessage.broadcast_id))
            .where(col(Broadcast.key).startswith(f"activity:{aid}:cancel:"))
        )
        rows = (await session.exec(statement)).all()
    assert {row.chat_id for row in rows} == {seated.id, waiting.id}
    assert all("已取消，抱歉" in row.text for row in rows)

    assert CANCELLED in await press_alert(bot, outsider, pack("av", "su", aid))
    assert CANCELLED in await press_alert(bot, seated, pack("av", "in", aid))
    assert set(await status_of(bot, aid)) == {seated.id, waiting.id}
    assert CANCELLED in await press_alert(bot, COMMITTEE, pack("ag", "cxyes", aid))


async def test_the_export_is_a_real_workbook(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await add_committee(bot)
    a, b, c = await add_members(bot, 3)
    activity = await create(bot, capacity="2", choices="拔河、乒乓球")
    aid = activity.id or 0
    await bot.press(a, pack("av", "su", aid, 0))
    await bot.press(b, pack("av", "su", aid, 1))
    await bot.press(c, pack("av", "su", aid, 0))

    # The fake records only the parameters; keep the uploaded files too.
    files: list[tuple[str, bytes]] = []
    recorded = bot.telegram.do_request

    async def keeping_files(url: str, method: str, request_data: Any = None, **kwargs: Any) -> Any:
        if request_data is not None:
            for value in (request_data.multipart_data or {}).values():
                files.append((str(value[0]), bytes(value[1])))
        return await recorded(url, method, request_data, **kwargs)

    monkeypatch.setattr(bot.telegram, "do_request", keeping_files)
    await bot.press(COMMITTEE, pack("ag", "xlsx", aid))

    document = bot.telegram.last(COMMITTEE.id, method="sendDocument")
    assert document.chat_id == COMMITTEE.id
    ((filename, content),) = files
    assert filename == f"activity-{aid}.xlsx"
    book = load_workbook(io.BytesIO(content))
    sheet = book.active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["序号", "姓名 · 部门", "状态", "项目", "家属", "签到时间"]
    assert [row[0] for row in rows[1:]] == [1, 2, None]  # the waiting are numbered by place
    assert [row[1] for row in rows[1:]] == ["老师0 · 语文组", "老师1 · 语文组", "老师2 · 语文组"]
    assert [row[2] for row in rows[1:]] == ["已报名", "已报名", "候补第 1 位"]
    assert [row[3] for row in rows[1:]] == ["拔河", "乒乓球", "拔河"]

    assert NOT_COMMITTEE in await press_alert(bot, a, pack("ag", "xlsx", aid))
    assert len(bot.telegram.sent("sendDocument")) == 1


async def test_the_committee_marks_attendance(bot: BotHarness) -> None:
    await add_committee(bot)
    seated, waiting = await add_members(bot, 2)
    activity = await create(bot, capacity="1")
    aid = activity.id or 0
    await bot.press(seated, pack("av", "su", aid))
    await bot.press(waiting, pack("av", "su", aid))
    ids = await member_ids(bot)

    await bot.press(COMMITTEE, pack("ag", "att", aid))
    sheet = bot.telegram.last(COMMITTEE.id)
    assert "登记到场" in sheet.text
    assert [data for _, data in sheet.buttons()] == [pack("ag", "mark", aid, ids[seated.id])]

    assert NOT_COMMITTEE in await press_alert(
        bot, waiting, pack("ag", "mark", aid, ids[waiting.id])
    )
    assert "没有名额" in await press_alert(bot, COMMITTEE, pack("ag", "mark", aid, ids[waiting.id]))
    # Three days before the start: the committee may mark anyone seated at any time.
    assert "已登记到场" in await press_alert(
        bot, COMMITTEE, pack("ag", "mark", aid, ids[seated.id])
    )
    rows = {s.member_id: s for s in await signups(bot, aid)}
    assert rows[ids[seated.id]].checked_in_at is not None
    assert rows[ids[waiting.id]].checked_in_at is None

    await bot.press(COMMITTEE, pack("ag", "att", aid))
    assert bot.telegram.last(COMMITTEE.id).buttons()[0][0].startswith("✅")


async def test_member_check_in_only_inside_the_window(bot: BotHarness) -> None:
    await add_committee(bot)
    seated, waiting = await add_members(bot, 2)
    activity = await create(bot, capacity="1")
    aid = activity.id or 0
    await bot.press(seated, pack("av", "su", aid))
    await bot.press(waiting, pack("av", "su", aid))

    assert "不在签到时间" in await press_alert(bot, seated, pack("av", "in", aid))
    await change(bot, aid, starts_at=utcnow() + timedelta(hours=3))
    assert "不在签到时间" in await press_alert(bot, seated, pack("av", "in", aid))
    await change(bot, aid, starts_at=utcnow() - timedelta(hours=13))
    assert "不在签到时间" in await press_alert(bot, seated, pack("av", "in", aid))
    assert all(s.checked_in_at is None for s in await signups(bot, aid))

    await change(bot, aid, starts_at=utcnow() + timedelta(hours=1))
    await bot.say(seated, "/activities")
    card = bot.telegram.last(seated.id)
    assert pack("av", "in", aid) in [data for _, data in card.buttons()]
    assert "签到成功" in await press_alert(bot, seated, pack("av", "in", aid))
    assert "没有名额" in await press_alert(bot, waiting, pack("av", "in", aid))
    rows = {s.status: s for s in await signups(bot, aid)}
    assert rows[SignupStatus.SEAT].checked_in_at is not None
    assert rows[SignupStatus.WAITLIST].checked_in_at is None
    first = rows[SignupStatus.SEAT].checked_in_at

    assert "签到成功" in await press_alert(bot, seated, pack("av", "in", aid))  # again: kept
    (again,) = [s for s in await signups(bot, aid) if s.status == SignupStatus.SEAT]
    assert again.checked_in_at == first


async def test_participation_figures(bot: BotHarness) -> None:
    """Women only: three eligible women (one not bound to Telegram, one pending are not
    counted), two seats, one waiting, one attended."""
    await add_committee(bot)
    women = await add_members(bot, 3, first_id=6100, gender=Gender.FEMALE)
    await add_members(bot, 2, first_id=6200, gender=Gender.MALE)
    await make_member(bot.db, org_id=bot.org_id, name="无账号", gender=Gender.FEMALE)
    await make_member(
        bot.db,
        org_id=bot.org_id,
        person=Person(6300, "P", "zh-hans"),
        name="待审",
        gender=Gender.FEMALE,
        status=MemberStatus.PENDING,
    )
    activity = await create(bot, capacity="2", who="women")
    aid = activity.id or 0
    for person in women:
        await bot.press(person, pack("av", "su", aid))
    ids = await member_ids(bot)
    await bot.press(COMMITTEE, pack("ag", "mark", aid, ids[women[0].id]))

    stored = await reload(bot, aid)
    async with bot.db() as session:
        figures = await participation(
            session, org_id=bot.org_id, activity=stored, day=utcnow().date()
        )
    assert (figures.eligible, figures.signed_up, figures.waiting, figures.attended) == (3, 2, 1, 1)

    await bot.press(COMMITTEE, pack("ag", "mgr", aid))
    assert "符合条件 3 人；已报名 2 人；候补/待抽签 1 人；已签到 1 人" in (
        bot.telegram.last(COMMITTEE.id).text
    )

    await bot.press(women[1], pack("av", "cx", aid))  # the waiting one moves up
    async with bot.db() as session:
        figures = await participation(
            session, org_id=bot.org_id, activity=stored, day=utcnow().date()
        )
    assert (figures.signed_up, figures.waiting, figures.attended) == (2, 0, 1)


# ---- a fallback of the batch writer ----------------------------------------------------------


async def test_the_one_by_one_retry_keeps_the_pressed_choice(bot: BotHarness) -> None:
    """Another process signs a member up while this batch is being written: the batch fails
    on the unique key and is retried press by press; the others still get their seats."""
    await add_committee(bot)
    twice, other = await add_members(bot, 2)
    activity = await create(bot, capacity="5", choices="拔河、乒乓球")
    aid = activity.id or 0
    ids = await member_ids(bot)
    now = utcnow()
    batcher = SignupBatcher(bot.db)
    requests = [
        SignupRequest(await actor_of(bot, twice), choice_index=0, arrival=1),
        SignupRequest(await actor_of(bot, other), choice_index=1, arrival=2),
    ]

    async with bot.db() as session:  # the other process's transaction, not yet committed
        session.add(
            Signup(
                activity_id=aid,
                member_id=ids[twice.id],
                status=SignupStatus.SEAT,
                queue_no=100,
                choice="拔河",
            )
        )
        await session.flush()
        presses = [
            asyncio.create_task(
                batcher.sign_up(org_id=bot.org_id, activity_id=aid, request=r, now=now)
            )
            for r in requests
        ]
        await asyncio.sleep(0.5)  # the batch read no sign-up and now waits on the lock
        await session.commit()
    results = await asyncio.gather(*presses, return_exceptions=True)

    assert not isinstance(results[1], BaseException), results[1]
    assert results[1].signup.choice == "乒乓球"
    assert isinstance(results[0], DomainError) and results[0].key == "activity.signed_up_already"


# ---- 8. /newactivity refusals --------------------------------------------------------------


async def test_newactivity_refuses_bad_input_and_repeats_the_step(bot: BotHarness) -> None:
    await add_committee(bot)
    zone = bot.app.state.settings.zone
    start = (utcnow() + timedelta(days=5)).astimezone(zone).replace(second=0, microsecond=0)

    async def step(body: str, expected: str) -> None:
        await bot.say(COMMITTEE, body)
        assert expected in bot.telegram.last(COMMITTEE.id).text, body

    await bot.say(COMMITTEE, "/newactivity")
    await step("三八节插花", "活动类别")
    await bot.press(COMMITTEE, pack("ag", "cat", "culture"))
    await step("abc", "没看懂时间")
    await step("2020-01-01 10:00", "开始时间已经过去了")
    await step("13-45 10:00", "没看懂时间")
    await step(local(bot, start), "地点")
    await step("会议室", "名额多少")
    await step("0", "1 到 10000")
    await step("abc", "1 到 10000")
    await step("10001", "1 到 10000")
    await step("-3", "1 到 10000")
    await step("8", "报名截止时间")
    await step(local(bot, start + timedelta(hours=1)), "不能晚于活动开始时间")
    await step("2020-01-01 10:00", "已经过去了")
    await step("明天", "没看懂时间")
    await step(local(bot, start - timedelta(days=1)), "谁可以报名")
    await bot.press(COMMITTEE, pack("ag", "who", "age"))
    await step("abc", "年龄范围")
    await step("60-50", "年龄范围")
    await step("45~55", "项目可选")
    await step("、".join(f"项目{i}" for i in range(9)), "1 到 8 个")
    await step("A" * 21, "1 到 8 个")
    await step("插花、茶艺", "家属")
    await bot.press(COMMITTEE, pack("ag", "fam", "9"))
    assert STALE in last_alert(bot)
    await bot.press(COMMITTEE, pack("ag", "fam", "1"))
    await bot.press(COMMITTEE, pack("ag", "mode", "raffle"))
    assert STALE in last_alert(bot)
    await bot.press(COMMITTEE, pack("ag", "mode", "first_come"))
    await bot.press(COMMITTEE, pack("ag", "desc", "none"))
    assert "请确认" in bot.telegram.last(COMMITTEE.id).text
    assert await latest_activity(bot) is None  # nothing stored before the confirmation
    await bot.press(COMMITTEE, pack("ag", "ok", "yes"))

    activity = await latest_activity(bot)
    assert activity is not None
    assert activity.title == "三八节插花" and activity.category == "culture"
    assert activity.capacity == 8 and activity.family_max == 1
    assert activity.starts_at == start.astimezone(UTC)
    assert activity.deadline == (start - timedelta(days=1)).astimezone(UTC)
    assert activity.rule() == {"type": "age", "min": 45, "max": 55}
    assert activity.choice_list() == ["插花", "茶艺"]


async def test_newactivity_cancel_stores_nothing(bot: BotHarness) -> None:
    await add_committee(bot)
    await bot.say(COMMITTEE, "/newactivity")
    await bot.say(COMMITTEE, "春游")
    await bot.say(COMMITTEE, "/cancel")
    assert "没有保存" in bot.telegram.last(COMMITTEE.id).text
    await bot.say(COMMITTEE, "12-5 14:00")  # the conversation is over: not taken as a time
    assert await latest_activity(bot) is None


async def test_newactivity_is_for_the_committee_only(bot: BotHarness) -> None:
    await add_committee(bot)
    (teacher,) = await add_members(bot, 1)

    await bot.say(teacher, "/newactivity")
    assert NOT_COMMITTEE in bot.telegram.last(teacher.id).text
    await bot.say(teacher, "偷偷办个活动")
    await bot.press(teacher, pack("ag", "cat", "sport"))
    assert await latest_activity(bot) is None

    stranger = Person(6999, "X", "zh-hans")
    await bot.say(stranger, "/newactivity")
    assert "活动名称" not in bot.telegram.last(stranger.id).text
    assert await latest_activity(bot) is None


async def test_the_committee_card_is_for_the_committee_only(bot: BotHarness) -> None:
    await add_committee(bot)
    (teacher,) = await add_members(bot, 1)
    activity = await create(bot, capacity="2")
    aid = activity.id or 0
    for action in ("mgr", "list", "att", "move", "cap2", "cxa"):
        assert NOT_COMMITTEE in await press_alert(bot, teacher, pack("ag", action, aid))
    assert (await reload(bot, aid)).status == ActivityStatus.OPEN
    assert bot.telegram.sent("sendDocument") == []
