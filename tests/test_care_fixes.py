"""Care rounds after the insider review (issue 18), through the real application: the money
switch carries the wanted state, a removed visit's id is never given to someone else, money the
desk rejected counts as a visit without money, a visitor who left the committee no longer hears
about or handles the case, people who blocked the bot are greeted in person, two money ticks at
once, the recorder never decides their own money, presses in a group, other languages."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from sqlmodel import select

from handlers.care.buttons import CareAddPerson, CareRoundAction, CareVisitAction, CareVisitType
from models.aid import AidLedgerEntry, AidType, CaseStatus, notice_lines
from models.care import CareRound, VisitStatus, visits_without_money
from models.members import Member, MemberRole, Role
from scheduler.calendar_jobs import fire
from tests.support.factories import make_member
from tests.support.fake_telegram import Call
from tests.support.harness import CHAIR, COMMITTEE_GROUP_ID, BotHarness
from tests.support.updates import Person
from tests.test_calendar import bind_group, deliver, entry, received, runtime_of, sh
from tests.test_care import (
    ALREADY_VISITED,
    COMMITTEE,
    DAY,
    GONE,
    GROUP,
    NOT_COMMITTEE,
    SECOND,
    alert,
    cases,
    chat_texts,
    person,
    setup_school,
    start_round,
    visits,
)
from tests.test_care_greetings import DOUBLE_NINTH, retirees, tasks

PRIVATE_ONLY = "这个命令请私聊我使用"


async def stored_round(bot: BotHarness, rid: int) -> CareRound:
    """The round as stored now."""
    async with bot.db() as session:
        record = await session.get(CareRound, rid)
    assert record is not None
    return record


async def test_the_money_button_carries_the_wanted_state(bot: BotHarness) -> None:
    await setup_school(bot)
    record = await start_round(bot)
    rid = record.id or 0
    shown = bot.telegram.last(COMMITTEE.id)
    # The list offers "money on" with the state in the button.
    assert CareRoundAction("money_on", rid).pack() in str(shown.params.get("reply_markup"))

    await bot.press(COMMITTEE, CareRoundAction("money_on", rid).pack())
    # The same (stale) button pressed again by someone else: it stays on, it does not flip.
    await bot.press(SECOND, CareRoundAction("money_on", rid).pack())
    assert (await stored_round(bot, rid)).with_money is True
    await bot.press(COMMITTEE, CareRoundAction("money_off", rid).pack())
    await bot.press(SECOND, CareRoundAction("money_off", rid).pack())
    assert (await stored_round(bot, rid)).with_money is False
    # The old toggling button no longer exists: nothing changes.
    await bot.press(COMMITTEE, f"cw:money:{rid}")
    assert (await stored_round(bot, rid)).with_money is False


async def test_a_removed_visits_id_is_never_given_to_another_person(bot: BotHarness) -> None:
    people = await setup_school(bot)
    await bot.say(COMMITTEE, "/care new 慰问住院教师")
    async with bot.db() as session:
        [record] = (await session.exec(select(CareRound))).all()
    rid = record.id or 0
    await bot.press(COMMITTEE, CareAddPerson(rid, people["chen"].id or 0).pack())
    chen = (await visits(bot, record))["陈建国"]
    await bot.press(COMMITTEE, CareVisitAction("remove", chen.id or 0, chen.round_id).pack())
    # Someone else is added: a new id, not the removed one (SQLite reuses the highest id).
    await bot.press(COMMITTEE, CareAddPerson(rid, people["li"].id or 0).pack())
    li = (await visits(bot, record))["李淑芬"]
    assert li.id != chen.id

    # A stale ✅ of the removed visit is refused; 李淑芬 is not ticked by it.
    await bot.press(SECOND, CareVisitAction("none", chen.id or 0, chen.round_id).pack())
    assert GONE in alert(bot)
    await bot.press(SECOND, CareVisitAction("amt", chen.id or 0, chen.round_id).pack())
    assert GONE in alert(bot)
    # A visit button carries its round: one naming another round acts on nobody.
    await bot.press(SECOND, CareVisitAction("none", li.id or 0, rid + 1).pack())
    assert GONE in alert(bot)
    await bot.press(SECOND, CareVisitAction("amt", li.id or 0, rid + 1).pack())
    assert GONE in alert(bot)
    found = await visits(bot, record)
    assert (found["李淑芬"].status, found["陈建国"].status) == ("planned", "removed")
    assert await cases(bot) == []
    # The list does not show the removed person.
    await bot.press(COMMITTEE, CareRoundAction("show", rid).pack())
    assert "陈建国" not in bot.telegram.last(COMMITTEE.id).text

    # Added again: the same row comes back, to visit.
    await bot.press(COMMITTEE, CareAddPerson(rid, people["chen"].id or 0).pack())
    assert alert(bot) == "已加入名单。"
    again = (await visits(bot, record))["陈建国"]
    assert (again.id, again.status) == (chen.id, "planned")


async def test_money_the_desk_rejected_counts_as_a_visit_without_money(bot: BotHarness) -> None:
    await setup_school(bot)
    record = await start_round(bot)
    chen = (await visits(bot, record))["陈建国"]
    await bot.press(SECOND, CareVisitAction("amt", chen.id or 0, chen.round_id).pack())
    await bot.say(SECOND, "300")
    [case] = await cases(bot)
    async with bot.db() as session:
        before = await visits_without_money(
            session, org_id=bot.org_id, start=DAY, end=date(2028, 1, 1)
        )
    assert before == 0

    await bot.press(COMMITTEE, f"ak:no:{case.id}", chat=GROUP)
    await bot.write(COMMITTEE, "本年度已慰问过。")
    [rejected] = await cases(bot)
    assert rejected.status == CaseStatus.REJECTED
    told = bot.telegram.last(SECOND.id).text
    assert "未获批准" in told and "本年度已慰问过" in told
    async with bot.db() as session:
        after = await visits_without_money(
            session, org_id=bot.org_id, start=DAY, end=date(2028, 1, 1)
        )
    assert after == 1


async def test_the_recorder_cannot_approve_or_pay_their_own_money(bot: BotHarness) -> None:
    await setup_school(bot)
    record = await start_round(bot)
    zhou = (await visits(bot, record))["周德明"]
    await bot.press(SECOND, CareVisitAction("amt", zhou.id or 0, zhou.round_id).pack())
    await bot.say(SECOND, "300")
    [case] = await cases(bot)

    await bot.press(SECOND, f"ak:yes:{case.id}:30000", chat=GROUP)
    assert "与您本人有关" in alert(bot)
    await bot.press(SECOND, f"ak:pay:{case.id}", chat=GROUP)
    assert alert(bot)  # refused with a reason
    [again] = await cases(bot)
    assert (again.status, again.approved_amount) == ("open", None)
    async with bot.db() as session:
        kinds = [
            row.kind
            for row in (
                await session.exec(select(AidLedgerEntry).where(AidLedgerEntry.case_id == case.id))
            ).all()
        ]
    assert kinds == ["started"]


async def test_a_visitor_who_left_the_committee_no_longer_handles_or_hears(
    bot: BotHarness,
) -> None:
    people = await setup_school(bot)
    record = await start_round(bot)
    chen = (await visits(bot, record))["陈建国"]
    await bot.press(SECOND, CareVisitAction("amt", chen.id or 0, chen.round_id).pack())
    await bot.say(SECOND, "300")
    [case] = await cases(bot)

    # While on the committee, /mine does not list it as their own request.
    await bot.say(SECOND, "/mine")
    assert case.number not in bot.telegram.last(SECOND.id).text

    # 陈委员 leaves the committee.
    async with bot.db() as session:
        for role in (
            await session.exec(
                select(MemberRole).where(MemberRole.member_id == people["chen_w"].id)
            )
        ).all():
            await session.delete(role)
        await session.commit()
    sent_before = len(bot.telegram.calls)
    await bot.press(SECOND, f"ad:wd:{case.id}")
    assert NOT_COMMITTEE in alert(bot)
    assert (await cases(bot))[0].status == CaseStatus.OPEN

    await bot.press(CHAIR, f"ak:yes:{case.id}:30000", chat=GROUP)
    assert (await cases(bot))[0].status == CaseStatus.APPROVED
    # The colleague's name and the amount do not reach someone no longer on the committee.
    later = [
        call.text
        for call in bot.telegram.calls[sent_before:]
        if call.chat_id == SECOND.id and call.method == "sendMessage"
    ]
    assert not [text for text in later if "陈建国" in text or "300" in text]


async def test_a_press_in_a_group_gets_the_private_only_alert(bot: BotHarness) -> None:
    await setup_school(bot)
    record = await start_round(bot)
    zhou = (await visits(bot, record))["周德明"]
    await bot.press(
        COMMITTEE, CareVisitAction("none", zhou.id or 0, zhou.round_id).pack(), chat=GROUP
    )
    assert PRIVATE_ONLY in alert(bot)
    assert (await visits(bot, record))["周德明"].status == VisitStatus.PLANNED
    assert "周德明" not in "\n".join(
        call.text for call in bot.telegram.calls if call.chat_id == COMMITTEE_GROUP_ID
    )


async def test_two_members_ticking_the_same_visit_at_once_make_one_case(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    record = await start_round(bot)
    await bot.press(COMMITTEE, CareRoundAction("money_on", record.id or 0).pack())
    zhou = (await visits(bot, record))["周德明"]
    await asyncio.gather(
        bot.press(COMMITTEE, CareVisitAction("std", zhou.id or 0, zhou.round_id).pack()),
        bot.press(SECOND, CareVisitAction("std", zhou.id or 0, zhou.round_id).pack()),
    )
    assert len(await cases(bot)) == 1
    visit = (await visits(bot, record))["周德明"]
    assert visit.status == VisitStatus.VISITED and visit.case_id is not None
    assert ALREADY_VISITED in "\n".join(
        str(answer.params.get("text") or "") for answer in bot.telegram.answers()
    )


async def test_two_money_ticks_at_once_get_two_numbers(bot: BotHarness) -> None:
    await setup_school(bot)
    record = await start_round(bot)
    await bot.press(COMMITTEE, CareRoundAction("money_on", record.id or 0).pack())
    found = await visits(bot, record)
    await asyncio.gather(
        bot.press(
            COMMITTEE,
            CareVisitAction("std", found["周德明"].id or 0, found["周德明"].round_id).pack(),
        ),
        bot.press(
            SECOND, CareVisitAction("std", found["陈建国"].id or 0, found["陈建国"].round_id).pack()
        ),
    )
    numbers = sorted(case.number for case in await cases(bot))
    assert numbers == ["助-2027-0001", "助-2027-0002"]
    again = await visits(bot, record)
    assert {again["周德明"].status, again["陈建国"].status} == {"visited"}
    assert "慰问金已登记为" in chat_texts(bot, COMMITTEE) + chat_texts(bot, SECOND)


async def test_people_who_blocked_the_bot_are_greeted_in_person(bot: BotHarness) -> None:
    runtime = runtime_of(bot)
    await bind_group(bot)
    people = await retirees(bot)
    async with bot.db() as session:
        zhou = await session.get(Member, people["zhou"].id)
        assert zhou is not None
        zhou.unreachable_since = datetime(2027, 9, 1, tzinfo=UTC)
        session.add(zhou)
        await session.commit()
    greeting = await entry(bot, "double_ninth")
    nine = sh(2027, 10, 8, 9, 0)
    await fire(runtime, greeting, DOUBLE_NINTH, now=nine)
    assert len(await tasks(bot)) == 1
    await deliver(bot, nine)
    [text] = received(bot)[COMMITTEE_GROUP_ID]
    assert "周德明（退休，物理组）" in text and "陈建国" in text


def shown(bot: BotHarness, who: Person) -> Call:
    """The latest message sent to or edited in a person's private chat."""
    return [
        call
        for call in bot.telegram.calls
        if call.chat_id == who.id and call.method in ("sendMessage", "editMessageText")
    ][-1]


async def test_a_hospital_visit_is_booked_as_hospital_and_stays_out_of_the_notice(
    bot: BotHarness,
) -> None:
    people = await setup_school(bot)
    zhao = await person(bot, "赵老师", "英语组")
    await bot.say(COMMITTEE, "/care new 慰问住院教师")
    async with bot.db() as session:
        [record] = (await session.exec(select(CareRound))).all()
    rid = record.id or 0
    await bot.press(COMMITTEE, CareAddPerson(rid, zhao.id or 0).pack())
    await bot.press(COMMITTEE, CareAddPerson(rid, people["wang"].id or 0).pack())
    found = await visits(bot, record)
    zid = found["赵老师"].id or 0
    # Not on a hardship file, not retired: no type until the committee chooses one.
    assert (found["赵老师"].aid_type, found["王芳芳"].aid_type) == ("", "hardship")

    await bot.press(SECOND, CareVisitAction("open", zid, record.id or 0).pack())
    assert ("类别：未选择", CareVisitAction("type", zid, record.id or 0).pack()) in shown(
        bot, SECOND
    ).buttons()
    await bot.press(SECOND, CareVisitAction("amt", zid, record.id or 0).pack())
    assert "请先选择这笔慰问金的类别" in alert(bot)
    await bot.press(SECOND, CareVisitAction("type", zid, record.id or 0).pack())
    picker = shown(bot, SECOND)
    assert "只有困难补助列入公示" in picker.text
    assert ("住院慰问", CareVisitType(zid, AidType.HOSPITAL).pack()) in picker.buttons()
    await bot.press(SECOND, CareVisitType(zid, AidType.HOSPITAL).pack())
    assert (await visits(bot, record))["赵老师"].aid_type == "hospital"
    assert "类别：住院慰问" in [label for label, _data in shown(bot, SECOND).buttons()]

    await bot.press(SECOND, CareVisitAction("amt", zid, record.id or 0).pack())
    await bot.say(SECOND, "500")
    await bot.press(
        SECOND, CareVisitAction("amt", found["王芳芳"].id or 0, found["王芳芳"].round_id).pack()
    )
    await bot.say(SECOND, "800")
    hospital, hardship = await cases(bot)
    assert (hospital.aid_type, hospital.amount_asked) == ("hospital", 50000)
    assert (hardship.aid_type, hardship.amount_asked) == ("hardship", 80000)
    for case in (hospital, hardship):
        await bot.press(CHAIR, f"ak:yes:{case.id}:{case.amount_asked}", chat=GROUP)
    assert [case.status for case in await cases(bot)] == ["approved", "approved"]
    async with bot.db() as session:
        notice = await notice_lines(session, org_id=bot.org_id, year=2027)
    # The hardship 公示 lists 王芳芳's subsidy only, never the hospital visit.
    assert notice == [("王*", 80000)]
    # A type changed after the money went to the desk is refused.
    await bot.press(SECOND, CareVisitType(zid, AidType.HARDSHIP).pack())
    assert ALREADY_VISITED in alert(bot)
    assert (await visits(bot, record))["赵老师"].aid_type == "hospital"


async def test_money_the_desk_rejected_can_be_recorded_again(bot: BotHarness) -> None:
    await setup_school(bot)
    record = await start_round(bot)
    chen = (await visits(bot, record))["陈建国"]
    vid = chen.id or 0
    await bot.press(SECOND, CareVisitAction("amt", vid, record.id or 0).pack())
    await bot.say(SECOND, "300")
    [first] = await cases(bot)
    await bot.press(COMMITTEE, f"ak:no:{first.id}", chat=GROUP)
    await bot.write(COMMITTEE, "金额超过本校标准。")
    told = bot.telegram.last(SECOND.id).text
    assert "金额超过本校标准" in told and "请发送 /care 打开这次看望，重新登记" in told

    # The list shows where the money stands, not a bare amount.
    await bot.press(SECOND, CareRoundAction("show", record.id or 0).pack())
    assert "陈建国" in shown(bot, SECOND).text and "¥300 未批准" in shown(bot, SECOND).text
    await bot.press(SECOND, CareVisitAction("open", vid, record.id or 0).pack())
    view = shown(bot, SECOND)
    assert "未获批准或已撤回" in view.text
    assert ("重新登记慰问金…", CareVisitAction("amt", vid, record.id or 0).pack()) in view.buttons()

    await bot.press(SECOND, CareVisitAction("amt", vid, record.id or 0).pack())
    await bot.say(SECOND, "200")
    assert "慰问金已登记为 助-2027-0002" in chat_texts(bot, SECOND)
    old, new = await cases(bot)
    assert (old.status, new.status, new.amount_asked) == ("rejected", "open", 20000)
    assert new.client_token == f"care-visit-{vid}-{old.id}"
    again = (await visits(bot, record))["陈建国"]
    assert (again.status, again.amount, again.case_id, again.visited_on) == (
        "visited",
        20000,
        new.id,
        DAY,
    )
    async with bot.db() as session:
        assert (
            await visits_without_money(session, org_id=bot.org_id, start=DAY, end=date(2028, 1, 1))
            == 0
        )
    # While the new money is open, no third one.
    await bot.press(SECOND, CareVisitAction("amt", vid, record.id or 0).pack())
    assert ALREADY_VISITED in alert(bot)
    assert len(await cases(bot)) == 2


async def test_notes_are_added_under_earlier_ones_and_only_while_the_round_is_open(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    record = await start_round(bot)
    vid = (await visits(bot, record))["陈建国"].id or 0
    await bot.press(SECOND, CareVisitAction("none", vid, record.id or 0).pack())

    await bot.press(SECOND, CareVisitAction("note", vid, record.id or 0).pack())
    await bot.say(SECOND, "身体已好转。")
    await bot.press(COMMITTEE, CareVisitAction("note", vid, record.id or 0).pack())
    prompt = bot.telegram.last(COMMITTEE.id).text
    assert "已有的情况备注会保留" in prompt and "身体已好转。" in prompt
    await bot.say(COMMITTEE, "家属表示感谢。")
    assert (await visits(bot, record))["陈建国"].note == "身体已好转。\n家属表示感谢。"

    # Too long for what is left: asked again, nothing changed.
    await bot.press(SECOND, CareVisitAction("note", vid, record.id or 0).pack())
    await bot.say(SECOND, "好" * 190)
    assert "最多还能写 185 个字" in bot.telegram.last(SECOND.id).text
    await bot.say(SECOND, "/cancel")
    assert (await visits(bot, record))["陈建国"].note == "身体已好转。\n家属表示感谢。"

    # A note typed after the round was closed is refused.
    await bot.press(SECOND, CareVisitAction("note", vid, record.id or 0).pack())
    await bot.press(COMMITTEE, CareRoundAction("close", record.id or 0).pack())
    await bot.say(SECOND, "又去看了一次。")
    assert "这份名单已经结束" in bot.telegram.last(SECOND.id).text
    await bot.press(SECOND, CareVisitAction("note", vid, record.id or 0).pack())
    assert "这份名单已经结束" in alert(bot)
    assert (await visits(bot, record))["陈建国"].note == "身体已好转。\n家属表示感谢。"


async def test_the_care_texts_render_in_traditional_chinese_and_english(bot: BotHarness) -> None:
    await setup_school(bot)
    hant = Person(1105, "Lam", "zh-hant")
    english = Person(1106, "Smith", "en")
    await make_member(
        bot.db,
        org_id=bot.org_id,
        person=hant,
        name="林委員",
        department="校辦",
        roles=(Role.COMMITTEE,),
        language="zh-Hant",
    )
    await make_member(
        bot.db,
        org_id=bot.org_id,
        person=english,
        name="Smith",
        department="English",
        roles=(Role.COMMITTEE,),
        language="en",
    )
    record = await start_round(bot)
    rid = record.id or 0
    cid = (await visits(bot, record))["陈建国"].id or 0

    await bot.say(hant, "/care")
    assert "進行中的慰問名單" in bot.telegram.last(hant.id).text
    await bot.press(hant, CareRoundAction("show", rid).pack())
    listing = shown(bot, hant).text
    assert "慰問金：不帶" in listing and "已看望 0/4 人" in listing
    assert "陈建国（退休，未使用工會助手，语文组）" in listing
    await bot.press(hant, CareVisitAction("open", cid, record.id or 0).pack())
    labels = [label for label, _data in shown(bot, hant).buttons()]
    assert "類別：退休慰問" in labels and "✅ 已看望，慰問金寫其他金額…" in labels

    await bot.say(english, "/care")
    assert "Open care lists" in bot.telegram.last(english.id).text
    await bot.press(english, CareRoundAction("show", rid).pack())
    assert "Visited 0 of" in shown(bot, english).text
    await bot.press(english, CareVisitAction("open", cid, record.id or 0).pack())
    view = shown(bot, english)
    assert (
        "陈建国 (retired, not on the bot, 语文组)" in view.text
        and "Status: ⬜ not yet visited" in view.text
    )
    labels = [label for label, _data in view.buttons()]
    assert "✅ Visited (no money)" in labels and "Type: Retirement" in labels
    await bot.press(english, CareVisitAction("type", cid, record.id or 0).pack())
    picker = shown(bot, english)
    assert "Only hardship subsidies are listed" in picker.text
    assert "Hospital visit" in [label for label, _data in picker.buttons()]


async def test_the_visitor_says_the_day_of_the_visit(bot: BotHarness) -> None:
    await setup_school(bot)
    record = await start_round(bot)
    vid = (await visits(bot, record))["陈建国"].id or 0
    await bot.press(SECOND, CareVisitAction("open", vid, record.id or 0).pack())
    labels = [label for label, _data in shown(bot, SECOND).buttons()]
    assert "📅 看望日期：今天" in labels

    await bot.press(SECOND, CareVisitAction("day", vid, record.id or 0).pack())
    assert "请写看望的日期" in bot.telegram.last(SECOND.id).text
    await bot.say(SECOND, "改天吧")
    assert "没看懂日期" in bot.telegram.last(SECOND.id).text
    await bot.say(SECOND, "后天")
    assert "看望日期不能晚于今天" in bot.telegram.last(SECOND.id).text
    await bot.say(SECOND, "2027-01-25")
    assert "看望日期不能晚于今天" in bot.telegram.last(SECOND.id).text
    await bot.say(SECOND, "2025-12-01")
    assert "日期太早了" in bot.telegram.last(SECOND.id).text
    assert (await visits(bot, record))["陈建国"].visited_on is None
    await bot.say(SECOND, "1月18日")
    assert "📅 看望日期：2027-01-18" in [
        label for label, _data in bot.telegram.last(SECOND.id).buttons()
    ]

    await bot.press(SECOND, CareVisitAction("amt", vid, record.id or 0).pack())
    await bot.say(SECOND, "300")
    visit = (await visits(bot, record))["陈建国"]
    [case] = await cases(bot)
    assert (visit.status, visit.visited_on, case.happened_on) == (
        "visited",
        date(2027, 1, 18),
        date(2027, 1, 18),
    )
    # Once visited, the day is not changed any more.
    await bot.press(SECOND, CareVisitAction("day", vid, record.id or 0).pack())
    assert ALREADY_VISITED in alert(bot)
    # Without a day said, the visit is on today.
    zhou = (await visits(bot, record))["周德明"]
    await bot.press(SECOND, CareVisitAction("none", zhou.id or 0, zhou.round_id).pack())
    assert (await visits(bot, record))["周德明"].visited_on == DAY
