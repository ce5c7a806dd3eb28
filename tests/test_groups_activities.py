"""Activities for departments: the committee ticks the union groups that may sign up (or types
their names); unknown names are refused; only those groups are told and may sign up."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from bot.callback import pack
from models.activities import Activity, ActivityCategory, NewActivity, create_activity
from models.base import utcnow
from models.errors import DomainError
from models.members import load_actor
from models.outbox import OutboxMessage
from tests.support.harness import BotHarness
from tests.test_groups_chat import CHINESE_1, COMMITTEE, LEADER, MATHS, school


async def start_activity(bot: BotHarness) -> None:
    """/newactivity up to "who may sign up": departments."""
    start = (utcnow() + timedelta(days=3)).astimezone(bot.app.state.settings.zone)
    await bot.say(COMMITTEE, "/newactivity")
    await bot.say(COMMITTEE, "语文组读书会")
    await bot.press(COMMITTEE, pack("ag", "cat", "culture"))
    await bot.say(COMMITTEE, start.strftime("%Y-%m-%d %H:%M"))
    await bot.say(COMMITTEE, "图书馆")
    await bot.say(COMMITTEE, "20")
    await bot.press(COMMITTEE, pack("ag", "dl", "start"))
    await bot.press(COMMITTEE, pack("ag", "who", "departments"))


async def finish_activity(bot: BotHarness) -> Activity:
    """The rest of /newactivity, confirmed; the stored activity."""
    await bot.press(COMMITTEE, pack("ag", "ch", "none"))
    await bot.press(COMMITTEE, pack("ag", "fam", "0"))
    await bot.press(COMMITTEE, pack("ag", "mode", "first_come"))
    await bot.press(COMMITTEE, pack("ag", "desc", "none"))
    preview = bot.telegram.last(COMMITTEE.id)
    assert "指定部门：" in preview.text
    await bot.press(COMMITTEE, pack("ag", "ok", "yes"))
    async with bot.db() as session:
        activity = (await session.exec(select(Activity).order_by(col(Activity.id).desc()))).first()
    assert activity is not None
    return activity


async def test_an_activity_for_one_group_chosen_by_button(bot: BotHarness) -> None:
    await school(bot)
    await start_activity(bot)
    picker = bot.telegram.last(COMMITTEE.id)
    assert "可以报名的部门" in picker.text

    await bot.press(COMMITTEE, picker.button_data("语文组"))
    await bot.press(COMMITTEE, bot.telegram.last(COMMITTEE.id).button_data("✅ 完成"))
    activity = await finish_activity(bot)

    assert activity.rule() == {"type": "departments", "departments": ["语文组"]}
    async with bot.db() as session:
        told = {row.chat_id for row in (await session.exec(select(OutboxMessage))).all()}
    assert told == {LEADER.id, CHINESE_1.id}
    await bot.press(MATHS, pack("av", "su", activity.id or 0))
    assert "您不在范围内" in str(bot.telegram.answers()[-1].params.get("text"))
    await bot.press(LEADER, pack("av", "su", activity.id or 0))
    assert "您不在范围内" not in str(bot.telegram.answers()[-1].params.get("text"))


async def test_typed_department_names_are_checked(bot: BotHarness) -> None:
    await school(bot)
    await start_activity(bot)

    await bot.say(COMMITTEE, "语文组、不存在组")
    assert "没有叫“不存在组”的部门" in bot.telegram.last(COMMITTEE.id).text
    await bot.say(COMMITTEE, "语文组、数学组")
    activity = await finish_activity(bot)

    assert activity.rule() == {"type": "departments", "departments": ["语文组", "数学组"]}


async def test_the_model_refuses_an_unknown_department(bot: BotHarness) -> None:
    await school(bot)
    now = utcnow()
    async with bot.db() as session:
        actor = await load_actor(session, org_id=bot.org_id, telegram_user_id=COMMITTEE.id)
        assert actor is not None
        with pytest.raises(DomainError) as refused:
            await create_activity(
                session,
                org_id=bot.org_id,
                actor=actor,
                new=NewActivity(
                    title="读书会",
                    description="",
                    category=ActivityCategory.CULTURE,
                    starts_at=now + timedelta(days=3),
                    place="图书馆",
                    capacity=None,
                    deadline=now + timedelta(days=2),
                    eligibility={"type": "departments", "departments": ["外星组"]},
                ),
                now=now,
            )
    assert refused.value.key == "groups.unknown"
    async with bot.db() as session:
        assert (await session.exec(select(Activity))).all() == []
