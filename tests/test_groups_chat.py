"""Union groups (工会小组) through the real application: /groups for the committee and a group
leader, and departments as the audience of a broadcast and of a calendar entry."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import col, select, update

from bot.callback import pack
from models.audiences import audience_members
from models.calendar import AudienceType, CalendarEntry, EntryKind, add_custom_entry
from models.errors import DomainError, InputError
from models.members import Member, MemberStatus, Role, load_actor
from models.outbox import OutboxMessage
from scheduler.calendar_jobs import recipients_for
from tests.support.factories import make_member
from tests.support.harness import CHAIR as CHAIR_PERSON
from tests.support.harness import BotHarness
from tests.support.updates import Person
from tests.test_calendar import runtime_of
from tests.test_calendar_chat import drain
from tests.test_roles_chat import add_chair

COMMITTEE = Person(1002, "Liu", "zh-hans")
LEADER = Person(2001, "Wang", "zh-hans")
CHINESE_1 = Person(2002, "Li", "en")
MATHS = Person(2003, "Zhao", "zh-hans")
PE = Person(2004, "Qian", "zh-hans")
OUTSIDER = Person(2005, "Sun", "zh-hans")


async def school(bot: BotHarness) -> dict[str, Member]:
    """Four groups: 语文组 (a leader, a colleague, someone not yet on Telegram), 数学组, 体育组,
    and 校办 (the committee member); a departed 语文组 teacher is in no group."""
    return {
        "committee": await make_member(
            bot.db,
            org_id=bot.org_id,
            person=COMMITTEE,
            name="刘委员",
            department="校办",
            roles=[Role.COMMITTEE],
        ),
        "leader": await make_member(
            bot.db,
            org_id=bot.org_id,
            person=LEADER,
            name="王芳",
            department="语文组",
            roles=[Role.GROUP_LEADER],
        ),
        "chinese": await make_member(
            bot.db,
            org_id=bot.org_id,
            person=CHINESE_1,
            name="李丽",
            department="语文组",
            language="en",
        ),
        "invited": await make_member(
            bot.db,
            org_id=bot.org_id,
            name="陈建国",
            department="语文组",
            status=MemberStatus.INVITED,
        ),
        "left": await make_member(
            bot.db,
            org_id=bot.org_id,
            name="周老师",
            department="语文组",
            status=MemberStatus.INACTIVE,
        ),
        "maths": await make_member(
            bot.db, org_id=bot.org_id, person=MATHS, name="赵强", department="数学组"
        ),
        "pe": await make_member(
            bot.db, org_id=bot.org_id, person=PE, name="钱明", department="体育组"
        ),
    }


# ---- /groups -----------------------------------------------------------------------------------


async def test_committee_sees_the_groups_with_counts_and_leaders(bot: BotHarness) -> None:
    await school(bot)

    await bot.say(COMMITTEE, "/groups")

    shown = bot.telegram.last(COMMITTEE.id)
    assert "共 4 个" in shown.text
    assert "语文组：在册 3 人，已加入 2 人；组长：王芳" in shown.text
    assert "数学组：在册 1 人，已加入 1 人；组长：未设" in shown.text
    assert "周老师" not in shown.text
    labels = [label for label, _ in shown.buttons()]
    assert labels == ["体育组（1）", "数学组（1）", "校办（1）", "语文组（3）"]

    await bot.press(COMMITTEE, shown.button_data("语文组"))
    members = bot.telegram.last(COMMITTEE.id).text
    assert members.startswith("语文组工会小组，在册 3 人")
    assert "王芳（#" in members and "工会小组长" in members
    assert "陈建国（#" in members and "未关联 Telegram" in members
    assert "周老师" not in members and "赵强" not in members


async def test_a_group_leader_sees_only_their_own_group(bot: BotHarness) -> None:
    await school(bot)

    await bot.say(LEADER, "/help")
    assert "/groups" in bot.telegram.last(LEADER.id).text
    assert "/members" not in bot.telegram.last(LEADER.id).text
    await bot.say(LEADER, "/groups")

    members = bot.telegram.last(LEADER.id).text
    assert members.startswith("语文组工会小组，在册 3 人")
    assert "李丽" in members and "赵强" not in members and "数学组" not in members

    # The committee's buttons do not work for a leader (a forged or forwarded press).
    await bot.press(LEADER, pack("grp", "open", "open", 1, 0))
    assert bot.telegram.answers()[-1].params["show_alert"] is True
    assert "赵强" not in bot.telegram.last(LEADER.id).text


async def test_groups_is_not_for_plain_members(bot: BotHarness) -> None:
    await school(bot)

    await bot.say(MATHS, "/groups")

    assert "供工会委员和工会小组长查看" in bot.telegram.last(MATHS.id).text
    await bot.say(MATHS, "/help")
    assert "/groups" not in bot.telegram.last(MATHS.id).text


async def test_a_stale_group_button_is_refused(bot: BotHarness) -> None:
    await school(bot)
    await bot.say(COMMITTEE, "/groups")

    await bot.press(COMMITTEE, pack("grp", "open", "open", 1, 9))

    assert bot.telegram.answers()[-1].params["show_alert"] is True


async def test_the_chair_appoints_a_leader_and_groups_shows_them(bot: BotHarness) -> None:
    await add_chair(bot)
    people = await school(bot)

    await bot.press(CHAIR_PERSON, pack("mem", "grant", people["maths"].id or 0, "group_leader"))
    await bot.say(COMMITTEE, "/groups")

    assert "数学组：在册 1 人，已加入 1 人；组长：赵强" in bot.telegram.last(COMMITTEE.id).text
    await bot.say(MATHS, "/groups")
    assert bot.telegram.last(MATHS.id).text.startswith("数学组工会小组")


# ---- a broadcast to departments ----------------------------------------------------------------


async def test_a_broadcast_to_two_departments_reaches_exactly_their_members(
    bot: BotHarness,
) -> None:
    await school(bot)
    await bot.say(COMMITTEE, "/broadcast")
    await bot.press(COMMITTEE, pack("bc", "aud", "departments"))
    picker = bot.telegram.last(COMMITTEE.id)
    assert "可多选" in picker.text

    await bot.press(COMMITTEE, bot.telegram.last(COMMITTEE.id).button_data("✅ 完成"))
    assert "请至少选择一个部门" in str(bot.telegram.answers()[-1].params.get("text"))
    await bot.press(COMMITTEE, picker.button_data("语文组"))
    await bot.press(COMMITTEE, picker.button_data("数学组"))
    await bot.press(COMMITTEE, picker.button_data("体育组"))
    await bot.press(COMMITTEE, picker.button_data("体育组"))  # ticked, then unticked
    edited = bot.telegram.last(COMMITTEE.id, method="editMessageText")
    labels = [label for label, _ in edited.buttons()]
    assert "☑ 语文组（2）" in labels and "☑ 数学组（1）" in labels and "☐ 体育组（1）" in labels
    assert "✅ 完成，已选 2 个" in labels
    await bot.press(COMMITTEE, bot.telegram.last(COMMITTEE.id).button_data("✅ 完成"))
    await bot.say(COMMITTEE, "{name}老师：周三下午教研组活动改在会议室。")

    preview = bot.telegram.last(COMMITTEE.id)
    assert "部门：数学组、语文组" in preview.text  # in the list's order
    assert "共 3 人" in preview.text
    shown_before = len(bot.telegram.texts(COMMITTEE.id))
    await bot.press(COMMITTEE, preview.button_data("确认"))
    await drain(bot)

    async with bot.db() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    assert sorted(row.chat_id for row in rows) == sorted([LEADER.id, CHINESE_1.id, MATHS.id])
    assert bot.telegram.last(LEADER.id).text.startswith("王芳老师：周三下午")
    assert bot.telegram.texts(PE.id) == []
    after_confirm = bot.telegram.texts(COMMITTEE.id)[shown_before:]
    assert after_confirm and not any("周三下午" in text for text in after_confirm)


async def test_a_department_that_is_gone_by_confirm_is_refused(bot: BotHarness) -> None:
    people = await school(bot)
    await bot.say(COMMITTEE, "/broadcast")
    await bot.press(COMMITTEE, pack("bc", "aud", "departments"))
    picker = bot.telegram.last(COMMITTEE.id)
    await bot.press(COMMITTEE, picker.button_data("体育组"))
    await bot.press(COMMITTEE, bot.telegram.last(COMMITTEE.id).button_data("✅ 完成"))
    await bot.say(COMMITTEE, "体育组本周五集训。")
    preview = bot.telegram.last(COMMITTEE.id)
    async with bot.db() as session:  # 体育组 is renamed meanwhile
        await session.exec(
            update(Member).where(col(Member.id) == people["pe"].id).values(department="体育教研组")
        )
        await session.commit()

    await bot.press(COMMITTEE, preview.button_data("确认"))

    assert "没有叫“体育组”的部门" in bot.telegram.texts(COMMITTEE.id)[-2]
    assert "请选择接收的部门" in bot.telegram.last(COMMITTEE.id).text  # the groups again
    async with bot.db() as session:
        assert (await session.exec(select(OutboxMessage))).all() == []


async def test_a_forged_group_pick_is_refused(bot: BotHarness) -> None:
    await school(bot)
    await bot.say(COMMITTEE, "/broadcast")
    await bot.press(COMMITTEE, pack("bc", "aud", "departments"))

    await bot.press(COMMITTEE, pack("grp", "pick", "tick", 1, 40))

    assert bot.telegram.answers()[-1].params["show_alert"] is True


async def test_no_groups_yet_says_so(bot: BotHarness) -> None:
    await make_member(
        bot.db,
        org_id=bot.org_id,
        person=COMMITTEE,
        name="刘委员",
        department="",
        roles=[Role.COMMITTEE],
    )
    await bot.say(COMMITTEE, "/broadcast")

    await bot.press(COMMITTEE, pack("bc", "aud", "departments"))

    assert "还没有工会小组" in bot.telegram.last(COMMITTEE.id).text


# ---- a calendar entry for a department ---------------------------------------------------------


async def test_a_calendar_entry_for_one_department(bot: BotHarness) -> None:
    await school(bot)
    await bot.say(COMMITTEE, "/calendar")
    await bot.press(COMMITTEE, bot.telegram.last(COMMITTEE.id).button_data("新增项目"))
    await bot.press(COMMITTEE, pack("cal", "kind", "announcement"))
    await bot.press(COMMITTEE, pack("cal", "aud", "departments"))
    await bot.press(COMMITTEE, bot.telegram.last(COMMITTEE.id).button_data("语文组"))
    await bot.press(COMMITTEE, bot.telegram.last(COMMITTEE.id).button_data("✅ 完成"))
    await bot.say(COMMITTEE, "每月1")
    await bot.say(COMMITTEE, "8:00")
    await bot.say(COMMITTEE, "语文组月度教研")
    await bot.say(COMMITTEE, "{name}老师：本月语文组教研活动请按时参加。")
    await bot.press(COMMITTEE, bot.telegram.last(COMMITTEE.id).button_data("其余语言都用"))
    preview = bot.telegram.last(COMMITTEE.id)
    assert "部门：语文组" in preview.text
    await bot.press(COMMITTEE, preview.button_data("确认"))

    async with bot.db() as session:
        entries = (await session.exec(select(CalendarEntry))).all()
    (added,) = [e for e in entries if e.key.startswith("custom_")]
    assert added.audience == {"type": "departments", "names": ["语文组"]}
    assert "部门：语文组" in bot.telegram.last(COMMITTEE.id).text  # the entry's card
    recipients = await recipients_for(runtime_of(bot), added, date(2027, 1, 1))
    assert sorted(r.chat_id for r in recipients) == sorted([LEADER.id, CHINESE_1.id])


async def test_the_audience_can_be_changed_to_departments_from_the_preview(
    bot: BotHarness,
) -> None:
    await school(bot)
    await bot.say(COMMITTEE, "/calendar")
    await bot.press(COMMITTEE, bot.telegram.last(COMMITTEE.id).button_data("新增项目"))
    await bot.press(COMMITTEE, pack("cal", "kind", "announcement"))
    await bot.press(COMMITTEE, pack("cal", "aud", "everyone"))
    await bot.say(COMMITTEE, "每月1")
    await bot.say(COMMITTEE, "8:00")
    await bot.say(COMMITTEE, "数学组例会")
    await bot.say(COMMITTEE, "数学组例会本周四召开。")
    await bot.press(COMMITTEE, bot.telegram.last(COMMITTEE.id).button_data("其余语言都用"))
    await bot.press(COMMITTEE, bot.telegram.last(COMMITTEE.id).button_data("修改某项"))
    await bot.press(COMMITTEE, bot.telegram.last(COMMITTEE.id).button_data("发给谁"))
    await bot.press(COMMITTEE, pack("cal", "aud", "departments"))
    await bot.press(COMMITTEE, bot.telegram.last(COMMITTEE.id).button_data("数学组"))
    await bot.press(COMMITTEE, bot.telegram.last(COMMITTEE.id).button_data("✅ 完成"))

    preview = bot.telegram.last(COMMITTEE.id)
    assert "部门：数学组" in preview.text
    await bot.press(COMMITTEE, preview.button_data("确认"))
    async with bot.db() as session:
        entries = (await session.exec(select(CalendarEntry))).all()
    (added,) = [e for e in entries if e.key.startswith("custom_")]
    assert added.audience == {"type": "departments", "names": ["数学组"]}


@pytest.mark.parametrize(
    ("names", "error"),
    [
        (["不存在的组"], DomainError),
        ([], InputError),
        ([" "], InputError),
        ([f"组{index}" for index in range(41)], InputError),
    ],
)
async def test_bad_department_names_are_refused(
    bot: BotHarness, names: list[str], error: type[DomainError]
) -> None:
    await school(bot)
    async with bot.db() as session:
        actor = await load_actor(session, org_id=bot.org_id, telegram_user_id=COMMITTEE.id)
        assert actor is not None
        with pytest.raises(error):
            await add_custom_entry(
                session,
                org_id=bot.org_id,
                actor=actor,
                kind=EntryKind.ANNOUNCEMENT,
                audience=AudienceType.DEPARTMENTS,
                rule={"type": "monthly", "day": 1},
                time_of_day="08:00",
                title="教研",
                title_language="zh-Hans",
                messages={"zh-Hans": "教研活动"},
                key="custom_bad",
                departments=names,
            )
    async with bot.db() as session:
        assert (
            await session.exec(select(CalendarEntry).where(CalendarEntry.key == "custom_bad"))
        ).all() == []


async def test_a_department_audience_reads_exact_names(bot: BotHarness) -> None:
    await school(bot)
    async with bot.db() as session:
        members = await audience_members(
            session,
            org_id=bot.org_id,
            audience={"type": "departments", "names": ["语文组", "体育组", "语文"]},
            today=date(2027, 3, 1),
            respect_mute=False,
        )
    assert sorted(member.real_name for member in members) == ["李丽", "王芳", "钱明"]
