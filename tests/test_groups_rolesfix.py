"""Union-group lists found wrong by the insider review (issue 18, rolesfix), through the real
application: a button of an older list is stale instead of meaning another group, more than
40 groups are paged instead of cut, and a group nobody active belongs to cannot be chosen."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import col, select, update

from bot.callback import pack
from handlers.ballots.buttons import BallotCreate, BallotKindChoice, BallotOpensNow, BallotWho
from models.activities import Activity
from models.ballots import Ballot, BallotKind, Electorate
from models.base import utcnow
from models.calendar import AudienceType, CalendarEntry, EntryKind, add_custom_entry
from models.members import Member, MemberStatus, Role, load_actor
from models.outbox import Broadcast, OutboxMessage
from scheduler.calendar_jobs import fire
from tests.support.factories import make_member
from tests.support.harness import BotHarness
from tests.support.updates import Person
from tests.test_ballots import COMMITTEE as BALLOT_COMMITTEE
from tests.test_ballots import local, people, setup
from tests.test_calendar import runtime_of
from tests.test_calendar_chat import drain
from tests.test_groups_activities import start_activity
from tests.test_groups_ballots import start_ballot
from tests.test_groups_chat import COMMITTEE, MATHS, PE, school

STALE = "这份小组列表已经更新，这条消息里的按钮不再有效"


def alert(bot: BotHarness) -> str:
    """The text of the latest answer to a button press."""
    return str(bot.telegram.answers()[-1].params.get("text") or "")


async def many_groups(bot: BotHarness, count: int = 45) -> None:
    """`count` more departments of one active teacher each: 部门01 … 部门45."""
    for number in range(1, count + 1):
        await make_member(
            bot.db,
            org_id=bot.org_id,
            person=Person(3000 + number, "T", "zh-hans"),
            name=f"老师{number:02}",
            department=f"部门{number:02}",
        )


async def test_a_button_of_an_older_groups_list_is_stale(bot: BotHarness) -> None:
    await school(bot)
    await bot.say(COMMITTEE, "/groups")
    old = bot.telegram.last(COMMITTEE.id)
    # A new department sorts first: the same index now means another group.
    await make_member(bot.db, org_id=bot.org_id, name="吴老师", department="一年级组")
    await bot.say(COMMITTEE, "/groups")
    sent = len(bot.telegram.texts(COMMITTEE.id))

    await bot.press(COMMITTEE, old.button_data("体育组"))

    assert STALE in alert(bot)
    assert len(bot.telegram.texts(COMMITTEE.id)) == sent  # no list of another group
    await bot.press(COMMITTEE, bot.telegram.last(COMMITTEE.id).button_data("体育组"))
    assert bot.telegram.last(COMMITTEE.id).text.startswith("体育组工会小组")


async def test_a_forged_nonce_on_the_picker_is_stale(bot: BotHarness) -> None:
    await school(bot)
    await bot.say(COMMITTEE, "/broadcast")
    await bot.press(COMMITTEE, pack("bc", "aud", "departments"))
    picker = bot.telegram.last(COMMITTEE.id)
    data = picker.button_data("体育组")
    nonce = int(data.split(":")[3])

    await bot.press(COMMITTEE, pack("grp", "pick", "tick", nonce % 999_999 + 1, 0))

    assert STALE in alert(bot)
    await bot.press(COMMITTEE, data)
    edited = bot.telegram.last(COMMITTEE.id, method="editMessageText")
    assert "☑ 体育组（1）" in [label for label, _ in edited.buttons()]


async def test_more_than_forty_groups_are_paged_not_cut(bot: BotHarness) -> None:
    await school(bot)
    await many_groups(bot)

    await bot.say(COMMITTEE, "/groups")
    first = bot.telegram.last(COMMITTEE.id)
    assert "共 49 个" in first.text
    assert "本页显示第 1 至 20 个，共 49 个" in first.text
    await bot.press(COMMITTEE, first.button_data("下一页"))
    second = bot.telegram.last(COMMITTEE.id, method="editMessageText")
    assert "本页显示第 21 至 40 个" in second.text
    await bot.press(COMMITTEE, second.button_data("下一页"))
    third = bot.telegram.last(COMMITTEE.id, method="editMessageText")
    assert "本页显示第 41 至 49 个" in third.text and "部门45：在册 1 人" in third.text
    await bot.press(COMMITTEE, third.button_data("部门45"))
    assert bot.telegram.last(COMMITTEE.id).text.startswith("部门45工会小组")

    # The picker pages too: the 45th department is reachable and is sent to.
    await bot.say(COMMITTEE, "/broadcast")
    await bot.press(COMMITTEE, pack("bc", "aud", "departments"))
    picker = bot.telegram.last(COMMITTEE.id)
    assert not any("部门45" in label for label, _ in picker.buttons())
    await bot.press(COMMITTEE, picker.button_data("下一页"))
    await bot.press(
        COMMITTEE, bot.telegram.last(COMMITTEE.id, method="editMessageText").button_data("下一页")
    )
    await bot.press(
        COMMITTEE, bot.telegram.last(COMMITTEE.id, method="editMessageText").button_data("部门45")
    )
    await bot.press(COMMITTEE, picker.button_data("✅ 完成"))
    await bot.say(COMMITTEE, "部门45本周五开会。")
    preview = bot.telegram.last(COMMITTEE.id)
    assert "部门：部门45" in preview.text and "共 1 人" in preview.text


async def test_a_group_nobody_active_belongs_to_cannot_be_chosen(bot: BotHarness) -> None:
    await school(bot)
    await make_member(
        bot.db, org_id=bot.org_id, name="冯师傅", department="后勤组", status=MemberStatus.INVITED
    )
    await bot.say(COMMITTEE, "/broadcast")
    await bot.press(COMMITTEE, pack("bc", "aud", "departments"))
    picker = bot.telegram.last(COMMITTEE.id)
    assert "⊘ 后勤组（0）" in [label for label, _ in picker.buttons()]

    await bot.press(COMMITTEE, picker.button_data("后勤组"))

    assert "后勤组现在没有已加入的会员，发不到任何人，不能选择" in alert(bot)
    await bot.press(COMMITTEE, picker.button_data("✅ 完成"))
    assert "请至少选择一个部门" in alert(bot)
    await drain(bot)
    async with bot.db() as session:
        assert (await session.exec(select(OutboxMessage))).all() == []


# ---- a refusal at confirm keeps the draft; nobody reached is refused --------------------------


async def test_a_group_gone_by_confirm_offers_the_groups_again_and_keeps_the_text(
    bot: BotHarness,
) -> None:
    people = await school(bot)
    await bot.say(COMMITTEE, "/broadcast")
    await bot.press(COMMITTEE, pack("bc", "aud", "departments"))
    picker = bot.telegram.last(COMMITTEE.id)
    await bot.press(COMMITTEE, picker.button_data("体育组"))
    await bot.press(COMMITTEE, picker.button_data("✅ 完成"))
    await bot.say(COMMITTEE, "本周五集训。")
    preview = bot.telegram.last(COMMITTEE.id)
    async with bot.db() as session:  # 体育组 is renamed meanwhile
        await session.exec(
            update(Member).where(col(Member.id) == people["pe"].id).values(department="体育教研组")
        )
        await session.commit()

    await bot.press(COMMITTEE, preview.button_data("确认"))

    texts = bot.telegram.texts(COMMITTEE.id)
    assert "没有叫“体育组”的部门" in texts[-2] and "请从现有的部门中重新选择" in texts[-2]
    again = bot.telegram.last(COMMITTEE.id)
    assert "☐ 体育教研组（1）" in [label for label, _ in again.buttons()]
    await bot.press(COMMITTEE, picker.button_data("体育组"))  # the old list's button
    assert STALE in alert(bot)
    await bot.press(COMMITTEE, again.button_data("体育教研组"))
    await bot.press(COMMITTEE, again.button_data("✅ 完成"))
    preview = bot.telegram.last(COMMITTEE.id)
    assert "部门：体育教研组，共 1 人" in preview.text and "本周五集训。" in preview.text
    await bot.press(COMMITTEE, preview.button_data("确认"))
    await drain(bot)
    async with bot.db() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    assert [row.chat_id for row in rows] == [PE.id]
    assert bot.telegram.last(PE.id).text == "本周五集训。"


async def test_a_broadcast_that_reaches_nobody_is_refused_before_confirm(bot: BotHarness) -> None:
    await school(bot)
    await make_member(bot.db, org_id=bot.org_id, name="冯老师", department="后勤组")  # no Telegram
    await bot.say(COMMITTEE, "/broadcast")
    await bot.press(COMMITTEE, pack("bc", "aud", "departments"))
    picker = bot.telegram.last(COMMITTEE.id)
    await bot.press(COMMITTEE, picker.button_data("后勤组"))
    await bot.press(COMMITTEE, picker.button_data("✅ 完成"))

    await bot.say(COMMITTEE, "后勤组明天检修。")

    texts = bot.telegram.texts(COMMITTEE.id)
    assert "这条通知发不到任何人" in texts[-2]
    assert not any("共 0 人" in text for text in texts)
    assert "✅ 完成" in bot.telegram.last(COMMITTEE.id).buttons()[-1][0]  # the groups again
    await drain(bot)
    async with bot.db() as session:
        assert (await session.exec(select(OutboxMessage))).all() == []


# ---- a departmental election among too few is refused ------------------------------------------


async def test_a_group_election_among_too_few_electors_is_refused(bot: BotHarness) -> None:
    await setup(bot, people(6), departments=["语文组", "数学组"])
    for number in range(2):
        await make_member(
            bot.db,
            org_id=bot.org_id,
            person=Person(7000 + number, "A", "zh-hans"),
            name=f"美术老师{number}",
            department="美术组",
        )
    await bot.say(BALLOT_COMMITTEE, "/ballot")
    await bot.say(BALLOT_COMMITTEE, "美术组组长推荐")
    await bot.press(BALLOT_COMMITTEE, BallotKindChoice(BallotKind.ELECTION).pack())
    await bot.press(BALLOT_COMMITTEE, BallotWho(Electorate.DEPARTMENTS).pack())
    await bot.say(BALLOT_COMMITTEE, "美术组")
    await bot.say(BALLOT_COMMITTEE, "张老师\n李老师")
    await bot.say(BALLOT_COMMITTEE, "1")
    await bot.press(BALLOT_COMMITTEE, BallotOpensNow().pack())
    await bot.say(BALLOT_COMMITTEE, local(utcnow() + timedelta(days=2), bot))

    await bot.press(BALLOT_COMMITTEE, BallotCreate("yes").pack())

    said = "\n".join(bot.telegram.texts(BALLOT_COMMITTEE.id)[-2:])
    assert "所选部门目前只有 2 名投票人" in said and "不少于 5 名" in said
    async with bot.db() as session:
        assert (await session.exec(select(Ballot))).all() == []


async def test_a_leader_without_a_department_is_told_so(bot: BotHarness) -> None:
    leader = Person(2101, "Wu", "zh-hans")
    await make_member(
        bot.db,
        org_id=bot.org_id,
        person=leader,
        name="吴组长",
        department="",
        roles=[Role.GROUP_LEADER],
    )

    await bot.say(leader, "/groups")

    said = bot.telegram.last(leader.id).text
    assert "名册上您现在没有填写部门" in said and "由主席" not in said


async def test_a_calendar_entry_whose_group_is_gone_by_confirm_keeps_its_draft(
    bot: BotHarness,
) -> None:
    people = await school(bot)
    await bot.say(COMMITTEE, "/calendar")
    await bot.press(COMMITTEE, bot.telegram.last(COMMITTEE.id).button_data("新增项目"))
    await bot.press(COMMITTEE, pack("cal", "kind", "announcement"))
    await bot.press(COMMITTEE, pack("cal", "aud", "departments"))
    picker = bot.telegram.last(COMMITTEE.id)
    await bot.press(COMMITTEE, picker.button_data("体育组"))
    await bot.press(COMMITTEE, picker.button_data("✅ 完成"))
    await bot.say(COMMITTEE, "每月1")
    await bot.say(COMMITTEE, "8:00")
    await bot.say(COMMITTEE, "体育组月度集训")
    await bot.say(COMMITTEE, "本月体育组集训请按时参加。")
    await bot.press(COMMITTEE, bot.telegram.last(COMMITTEE.id).button_data("其余语言都用"))
    preview = bot.telegram.last(COMMITTEE.id)
    async with bot.db() as session:  # 体育组 is renamed meanwhile
        await session.exec(
            update(Member).where(col(Member.id) == people["pe"].id).values(department="体育教研组")
        )
        await session.commit()

    await bot.press(COMMITTEE, preview.button_data("确认"))

    assert "没有叫“体育组”的部门" in "\n".join(bot.telegram.texts(COMMITTEE.id)[-2:])
    again = bot.telegram.last(COMMITTEE.id)
    await bot.press(COMMITTEE, again.button_data("体育教研组"))
    await bot.press(COMMITTEE, again.button_data("✅ 完成"))
    preview = bot.telegram.last(COMMITTEE.id)
    assert "部门：体育教研组" in preview.text and "体育组月度集训" in preview.text
    await bot.press(COMMITTEE, preview.button_data("确认"))
    async with bot.db() as session:
        entries = (await session.exec(select(CalendarEntry))).all()
    (added,) = [entry for entry in entries if entry.key.startswith("custom_")]
    assert added.audience == {"type": "departments", "names": ["体育教研组"]}
    assert "体育组月度集训" in added.titles.values()


async def test_a_ballot_whose_group_is_gone_by_confirm_keeps_its_draft(bot: BotHarness) -> None:
    await start_ballot(bot)
    picker = bot.telegram.last(BALLOT_COMMITTEE.id)
    await bot.press(BALLOT_COMMITTEE, picker.button_data("数学组"))
    await bot.press(BALLOT_COMMITTEE, picker.button_data("✅ 完成"))
    await bot.say(BALLOT_COMMITTEE, "同意推荐王芳任教研组长")
    await bot.press(BALLOT_COMMITTEE, BallotOpensNow().pack())
    await bot.say(BALLOT_COMMITTEE, local(utcnow() + timedelta(days=2), bot))
    async with bot.db() as session:  # 数学组 is renamed meanwhile
        await session.exec(
            update(Member).where(col(Member.department) == "数学组").values(department="数学教研组")
        )
        await session.commit()

    await bot.press(BALLOT_COMMITTEE, BallotCreate("yes").pack())

    assert "没有叫“数学组”的部门" in "\n".join(bot.telegram.texts(BALLOT_COMMITTEE.id)[-2:])
    again = bot.telegram.last(BALLOT_COMMITTEE.id)
    await bot.press(BALLOT_COMMITTEE, again.button_data("数学教研组"))
    await bot.press(BALLOT_COMMITTEE, again.button_data("✅ 完成"))
    assert "同意推荐王芳任教研组长" in bot.telegram.last(BALLOT_COMMITTEE.id).text  # preview
    await bot.press(BALLOT_COMMITTEE, BallotCreate("yes").pack())
    async with bot.db() as session:
        (ballot,) = (await session.exec(select(Ballot))).all()
    assert ballot.rule() == {"type": "departments", "departments": ["数学教研组"]}
    assert ballot.title == "教研组长推荐"


async def test_a_calendar_entry_for_a_renamed_group_tells_the_committee(bot: BotHarness) -> None:
    people = await school(bot)
    async with bot.db() as session:
        actor = await load_actor(session, org_id=bot.org_id, telegram_user_id=COMMITTEE.id)
        assert actor is not None
        entry = await add_custom_entry(
            session,
            org_id=bot.org_id,
            actor=actor,
            kind=EntryKind.ANNOUNCEMENT,
            audience=AudienceType.DEPARTMENTS,
            rule={"type": "monthly", "day": 1},
            time_of_day="08:00",
            title="体育组集训",
            title_language="zh-Hans",
            messages={"zh-Hans": "本月集训请按时参加。"},
            key="custom_pe",
            departments=["体育组", "数学组"],
        )
        await session.exec(  # 体育组 is renamed after the entry was made
            update(Member).where(col(Member.id) == people["pe"].id).values(department="体育教研组")
        )
        await session.commit()

    await fire(runtime_of(bot), entry, date(2027, 1, 1), now=utcnow())
    await fire(runtime_of(bot), entry, date(2027, 1, 1), now=utcnow())  # told once
    await drain(bot)

    warned = [text for text in bot.telegram.texts(COMMITTEE.id) if "体育组集训" in text]
    assert len(warned) == 1
    assert "部门“体育组”已不存在或没有已加入的会员" in warned[0] and "数学组" not in warned[0]
    assert bot.telegram.texts(PE.id) == []
    assert bot.telegram.last(MATHS.id).text.startswith("本月集训请按时参加。")
    async with bot.db() as session:
        keys = (await session.exec(select(Broadcast.key))).all()
    assert sorted(key.split(":")[0] for key in keys) == ["cal", "calgroups"]


async def test_an_activity_whose_group_is_gone_by_confirm_keeps_its_draft(
    bot: BotHarness,
) -> None:
    people = await school(bot)
    await start_activity(bot)
    picker = bot.telegram.last(COMMITTEE.id)
    await bot.press(COMMITTEE, picker.button_data("体育组"))
    await bot.press(COMMITTEE, picker.button_data("✅ 完成"))
    await bot.press(COMMITTEE, pack("ag", "ch", "none"))
    await bot.press(COMMITTEE, pack("ag", "fam", "0"))
    await bot.press(COMMITTEE, pack("ag", "mode", "first_come"))
    await bot.press(COMMITTEE, pack("ag", "desc", "none"))
    async with bot.db() as session:  # 体育组 is renamed meanwhile
        await session.exec(
            update(Member).where(col(Member.id) == people["pe"].id).values(department="体育教研组")
        )
        await session.commit()

    await bot.press(COMMITTEE, pack("ag", "ok", "yes"))

    assert "没有叫“体育组”的部门" in "\n".join(bot.telegram.texts(COMMITTEE.id)[-2:])
    again = bot.telegram.last(COMMITTEE.id)
    await bot.press(COMMITTEE, again.button_data("体育教研组"))
    await bot.press(COMMITTEE, again.button_data("✅ 完成"))
    assert "语文组读书会" in bot.telegram.last(COMMITTEE.id).text  # the preview, draft kept
    await bot.press(COMMITTEE, pack("ag", "ok", "yes"))
    async with bot.db() as session:
        (activity,) = (await session.exec(select(Activity))).all()
    assert activity.rule() == {"type": "departments", "departments": ["体育教研组"]}
    assert activity.title == "语文组读书会"
