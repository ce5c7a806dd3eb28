"""Care the committee starts itself (issue 18), through the real application: a round from the
hardship files and the retirees (people not on Telegram included), assigning, the assignee's
private list, ticking, money through the aid rules into the same ledger, refusals, stale
buttons, redelivered updates, and what the committee group may see.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import pytest
from sqlmodel import col, select

from handlers.care.buttons import CareAddPerson, CareAssignTo, CareRoundAction, CareVisitAction
from models.aid import AidCase, AidLedgerEntry, AidType, CaseStatus, year_books
from models.care import CareRound, CareVisit, VisitStatus, visits_without_money
from models.hardship import HardshipLevel, open_file
from models.members import Member, MemberStatus, Role
from models.organizations import bind_committee_chat
from tests.support.factories import make_member
from tests.support.harness import CHAIR, COMMITTEE_GROUP_ID, BotHarness
from tests.support.updates import Person, button, group_chat
from tests.test_aid_flows import actor_of

GROUP = group_chat(COMMITTEE_GROUP_ID)
COMMITTEE = Person(1102, "Liu", "zh-hans")
SECOND = Person(1103, "Chen", "zh-hans")
TREASURER = Person(1104, "Qian", "zh-hans")
TEACHER = Person(4101, "Wang", "zh-hans")
RETIREE = Person(4201, "Zhou", "zh-hans")
REASON = "丈夫长期卧床，孩子上大学"
NOT_COMMITTEE = "只有工会委员可以处理这一项。"
ALREADY_VISITED = "这位已经登记为看望过了"
GONE = "名单上已经没有这个人了"
CLOSED = "这份名单已经结束"
# 2027-01-20 10:00 in Shanghai: Spring Festival visits, in the year 2027.
MOMENT = datetime(2027, 1, 20, 2, 0, tzinfo=UTC)
DAY = date(2027, 1, 20)


# ---- the school ---------------------------------------------------------------------------


async def person(
    bot: BotHarness,
    name: str,
    department: str,
    *,
    who: Person | None = None,
    retired: bool = False,
    status: MemberStatus = MemberStatus.ACTIVE,
    roles: tuple[Role, ...] = (),
) -> Member:
    """Someone on the roster (with a Telegram account when `who` is given)."""
    member = await make_member(
        bot.db,
        org_id=bot.org_id,
        person=who,
        name=name,
        department=department,
        status=status,
        roles=roles,
    )
    if retired:
        async with bot.db() as session:
            member.retired = True
            session.add(member)
            await session.commit()
    return member


async def setup_school(bot: BotHarness) -> dict[str, Member]:
    """The committee, 财务, a teacher on a hardship file, and three retirees: two never joined
    the bot (invited from the roster), one is on Telegram."""
    bot.app.state.clock = lambda: MOMENT
    async with bot.db() as session:
        await bind_committee_chat(session, org_id=bot.org_id, chat_id=COMMITTEE_GROUP_ID)
    people = {
        "chair": await person(bot, "张主席", "校办", who=CHAIR, roles=(Role.CHAIR,)),
        "liu": await person(bot, "刘委员", "教务处", who=COMMITTEE, roles=(Role.COMMITTEE,)),
        "chen_w": await person(bot, "陈委员", "总务处", who=SECOND, roles=(Role.COMMITTEE,)),
        "qian": await person(bot, "钱会计", "财务室", who=TREASURER, roles=(Role.TREASURER,)),
        "wang": await person(bot, "王芳芳", "初二年级组", who=TEACHER),
        "chen": await person(bot, "陈建国", "语文组", retired=True, status=MemberStatus.INVITED),
        "li": await person(bot, "李淑芬", "数学组", retired=True, status=MemberStatus.INVITED),
        "zhou": await person(bot, "周德明", "物理组", who=RETIREE, retired=True),
    }
    liu = await actor_of(bot, COMMITTEE)
    async with bot.db() as session:
        await open_file(
            session,
            org_id=bot.org_id,
            actor=liu,
            member_id=people["wang"].id or 0,
            level=HardshipLevel.SPECIAL,
            reason=REASON,
            today=DAY,
        )
    return people


async def start_round(bot: BotHarness, title: str = "2027年春节送温暖") -> CareRound:
    """刘委员 starts a round and fills it from the files and the retirees."""
    await bot.say(COMMITTEE, f"/care new {title}")
    async with bot.db() as session:
        record = (await session.exec(select(CareRound).order_by(col(CareRound.id).desc()))).first()
    assert record is not None and record.title == title
    await bot.press(COMMITTEE, CareRoundAction("files", record.id or 0).pack())
    await bot.press(COMMITTEE, CareRoundAction("retirees", record.id or 0).pack())
    return record


async def visits(bot: BotHarness, record: CareRound) -> dict[str, CareVisit]:
    """The round's visits by the visited person's name."""
    async with bot.db() as session:
        rows = (
            await session.exec(
                select(CareVisit, Member)
                .join(Member, col(Member.id) == CareVisit.member_id)
                .where(CareVisit.round_id == record.id)
            )
        ).all()
    return {member.real_name: visit for visit, member in rows}


async def cases(bot: BotHarness) -> list[AidCase]:
    """Every aid case, oldest first."""
    async with bot.db() as session:
        return list((await session.exec(select(AidCase).order_by(col(AidCase.id)))).all())


def alert(bot: BotHarness) -> str:
    """The latest answer to a press."""
    return str(bot.telegram.answers()[-1].params.get("text") or "")


def group_texts(bot: BotHarness) -> str:
    """Everything the committee group got, every parameter of every call."""
    return "\n".join(
        f"{call.method} {call.params}"
        for call in bot.telegram.calls
        if call.chat_id == COMMITTEE_GROUP_ID
    )


def chat_texts(bot: BotHarness, who: Person) -> str:
    """Every text sent to or edited in a person's private chat."""
    return "\n".join(
        call.text
        for call in bot.telegram.calls
        if call.chat_id == who.id and call.method in ("sendMessage", "editMessageText")
    )


# ---- a round -----------------------------------------------------------------------------


async def test_a_round_from_the_files_and_the_retirees_includes_people_not_on_telegram(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    record = await start_round(bot)

    found = await visits(bot, record)
    assert set(found) == {"王芳芳", "陈建国", "李淑芬", "周德明"}
    assert found["王芳芳"].aid_type == AidType.HARDSHIP
    assert found["陈建国"].aid_type == AidType.RETIREMENT
    assert all(visit.status == VisitStatus.PLANNED for visit in found.values())
    # Pressing a list again adds nobody twice.
    await bot.press(COMMITTEE, CareRoundAction("retirees", record.id or 0).pack())
    assert "已加入 0 人" in alert(bot)
    assert len(await visits(bot, record)) == 4

    # The list, privately: who, which list, not on the bot; never the file's reason.
    await bot.press(COMMITTEE, CareRoundAction("show", record.id or 0).pack())
    shown = bot.telegram.last(COMMITTEE.id, method="editMessageText").text
    assert "陈建国（退休，未使用工会助手，语文组） · 未分派" in shown
    assert "王芳芳（困难档案，初二年级组）" in shown
    assert "已看望 0/4 人" in shown
    assert REASON not in chat_texts(bot, COMMITTEE)


async def test_add_and_remove_people_by_name(bot: BotHarness) -> None:
    people = await setup_school(bot)
    await bot.say(COMMITTEE, "/care new 慰问住院教师")
    async with bot.db() as session:
        [record] = (await session.exec(select(CareRound))).all()
    rid = record.id or 0

    await bot.press(COMMITTEE, CareRoundAction("add", rid).pack())
    assert "请写姓名" in bot.telegram.last(COMMITTEE.id).text
    await bot.say(COMMITTEE, "赵无此人")
    assert "名册里没有找到“赵无此人”" in bot.telegram.last(COMMITTEE.id).text
    await bot.say(COMMITTEE, "建国")
    picker = bot.telegram.last(COMMITTEE.id)
    assert picker.buttons()[0][0] == "陈建国（退休，未使用工会助手，语文组）"
    await bot.press(COMMITTEE, CareAddPerson(rid, people["chen"].id or 0).pack())
    assert alert(bot) == "已加入名单。"
    # Twice: refused, still one.
    await bot.press(COMMITTEE, CareAddPerson(rid, people["chen"].id or 0).pack())
    assert alert(bot) == "陈建国已经在这份名单上了。"
    found = await visits(bot, record)
    assert list(found) == ["陈建国"]

    await bot.press(
        COMMITTEE,
        CareVisitAction("remove", found["陈建国"].id or 0, found["陈建国"].round_id).pack(),
    )
    assert alert(bot) == "已移出名单。"
    assert [visit.status for visit in (await visits(bot, record)).values()] == ["removed"]
    # Someone not on the roster (another school's id, or a forged one) is refused.
    await bot.press(COMMITTEE, CareAddPerson(rid, 99999).pack())
    assert "不在会员名册上" in alert(bot)


async def test_care_new_without_a_title_says_how(bot: BotHarness) -> None:
    await setup_school(bot)
    await bot.say(COMMITTEE, "/care")
    assert "目前没有进行中的慰问名单" in bot.telegram.last(COMMITTEE.id).text
    await bot.say(COMMITTEE, "/care new")
    assert "请在命令后写名单标题" in bot.telegram.last(COMMITTEE.id).text
    async with bot.db() as session:
        assert (await session.exec(select(CareRound))).all() == []


# ---- assign, the assignee's list, tick -------------------------------------------------------


async def test_assign_the_assignee_gets_a_private_list_and_ticks(bot: BotHarness) -> None:
    people = await setup_school(bot)
    record = await start_round(bot)
    rid = record.id or 0
    found = await visits(bot, record)

    await bot.press(
        COMMITTEE,
        CareVisitAction("assign", found["陈建国"].id or 0, found["陈建国"].round_id).pack(),
    )
    picker = bot.telegram.last(COMMITTEE.id, method="editMessageText")
    assert {label for row in [picker.buttons()] for label, _ in row} >= {"陈委员", "刘委员"}
    # Only committee members are offered (the treasurer is not one).
    assert "钱会计" not in str(picker.buttons())
    await bot.press(
        COMMITTEE, CareAssignTo(rid, found["陈建国"].id or 0, people["chen_w"].id or 0).pack()
    )
    assert alert(bot) == "已分派 1 人给陈委员。"

    told = bot.telegram.last(SECOND.id).text
    assert "刘委员请您负责“2027年春节送温暖”中以下的看望" in told
    assert "1. 陈建国（退休，未使用工会助手，语文组）" in told
    assert "王芳芳" not in told

    # The rest go to 刘委员 himself at once (no message to himself).
    await bot.press(COMMITTEE, CareRoundAction("assign", rid).pack())
    await bot.press(COMMITTEE, CareAssignTo(rid, 0, people["liu"].id or 0).pack())
    assert alert(bot) == "已分派 3 人给刘委员。"

    # The assignee's own list.
    await bot.press(SECOND, CareRoundAction("mine", rid).pack())
    mine = bot.telegram.last(SECOND.id, method="editMessageText").text
    assert "以下是分派给您的" in mine and "陈建国" in mine and "王芳芳" not in mine

    # Ticked by the assignee, without money.
    await bot.press(
        SECOND, CareVisitAction("none", found["陈建国"].id or 0, found["陈建国"].round_id).pack()
    )
    view = bot.telegram.last(SECOND.id, method="editMessageText").text
    assert "✅ 2027-01-20 已看望，陈委员登记" in view and "慰问金：未带" in view
    # A short note afterwards.
    await bot.press(
        SECOND, CareVisitAction("note", found["陈建国"].id or 0, found["陈建国"].round_id).pack()
    )
    await bot.say(SECOND, "精神很好，感谢工会")
    assert "看望情况：精神很好，感谢工会" in bot.telegram.last(SECOND.id).text

    # Any committee member may tick a visit assigned to someone else.
    await bot.press(
        SECOND, CareVisitAction("none", found["李淑芬"].id or 0, found["李淑芬"].round_id).pack()
    )
    after = await visits(bot, record)
    assert after["陈建国"].status == VisitStatus.VISITED
    assert after["陈建国"].visited_by_member_id == people["chen_w"].id
    assert after["陈建国"].note == "精神很好，感谢工会"
    assert after["李淑芬"].visited_by_member_id == people["chen_w"].id
    assert await cases(bot) == []
    async with bot.db() as session:
        counted = await visits_without_money(
            session, org_id=bot.org_id, start=DAY, end=date(2027, 1, 21)
        )
        later = await visits_without_money(
            session, org_id=bot.org_id, start=date(2027, 1, 21), end=date(2027, 2, 1)
        )
    assert (counted, later) == (2, 0)


# ---- money: the aid rules, the desk, 财务, the ledger ------------------------------------------


async def test_a_visit_with_money_over_the_limit_needs_the_chair_then_is_paid(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    record = await start_round(bot)
    chen = (await visits(bot, record))["陈建国"]

    await bot.press(SECOND, CareVisitAction("amt", chen.id or 0, chen.round_id).pack())
    prompt = bot.telegram.last(SECOND.id).text
    assert "正在填写：看望陈建国时送的慰问金" in prompt and "请写慰问金金额" in prompt
    await bot.say(SECOND, "一千五百元")
    assert "慰问金已登记为 助-2027-0001" in chat_texts(bot, SECOND)
    [case] = await cases(bot)
    assert case.started_by_committee and case.subject_member_id == chen.member_id
    assert (case.amount_asked, case.aid_type, case.status) == (150000, "retirement", "open")

    # On the desk, masked like every case.
    card = bot.telegram.sent("sendMessage", COMMITTEE_GROUP_ID)[-1].text
    assert "陈*" in card and "¥1,500" in card and "由委员会发起" in card
    assert "陈建国" not in card

    # Over the single-approval limit: one committee approval is not enough; the chair's is.
    await bot.press(COMMITTEE, f"ak:yes:{case.id}:150000", chat=GROUP)
    assert "还需要" in alert(bot)
    await bot.press(CHAIR, f"ak:yes:{case.id}:150000", chat=GROUP)
    assert "已批准" in alert(bot)
    assert "您看望陈建国时登记的慰问金 助-2027-0001 已批准：¥1,500" in (
        bot.telegram.last(SECOND.id).text
    )
    # The one who recorded it cannot approve or pay it.
    [again] = await cases(bot)
    assert again.status == CaseStatus.APPROVED

    await bot.press(TREASURER, f"ak:pay:{case.id}", chat=GROUP)
    await bot.say(TREASURER, "2027-01-20 现金 春节慰问")
    [paid] = await cases(bot)
    assert paid.status == CaseStatus.PAID
    assert "已由工会财务（经费管理）发放" in bot.telegram.last(SECOND.id).text
    async with bot.db() as session:
        kinds = [
            row.kind
            for row in (
                await session.exec(
                    select(AidLedgerEntry)
                    .where(AidLedgerEntry.case_id == case.id)
                    .order_by(col(AidLedgerEntry.id))
                )
            ).all()
        ]
        books = await year_books(session, org_id=bot.org_id, year=2027)
        last_year = await year_books(session, org_id=bot.org_id, year=2026)
    assert kinds == ["started", "approval", "approval", "approved", "paid"]
    assert [(line.aid_type, line.cases, line.paid) for line in books] == [
        (AidType.RETIREMENT, 1, 150000)
    ]
    assert last_year == []
    visit = (await visits(bot, record))["陈建国"]
    assert (visit.status, visit.amount, visit.case_id) == ("visited", 150000, case.id)
    # The money visit is not counted as a visit without money.
    async with bot.db() as session:
        assert (
            await visits_without_money(session, org_id=bot.org_id, start=DAY, end=date(2028, 1, 1))
            == 0
        )


async def test_payments_are_held_to_the_aid_caps_and_the_maximum(bot: BotHarness) -> None:
    await setup_school(bot)
    first = await start_round(bot)
    await bot.press(COMMITTEE, CareRoundAction("money_on", first.id or 0).pack())
    chen = (await visits(bot, first))["陈建国"]

    # An absurd amount is refused; the visit stays to do and no case is made.
    await bot.press(SECOND, CareVisitAction("amt", chen.id or 0, chen.round_id).pack())
    await bot.say(SECOND, "60000")
    assert "金额太大了（上限 ¥50,000）" in bot.telegram.last(SECOND.id).text
    assert (await visits(bot, first))["陈建国"].status == VisitStatus.PLANNED
    assert await cases(bot) == []

    # The standard (退休慰问 ¥500, once a year): approved by one committee member.
    await bot.press(SECOND, CareVisitAction("open", chen.id or 0, chen.round_id).pack())
    view = bot.telegram.last(SECOND.id, method="editMessageText")
    assert "陈建国" in view.text and "✅ 已看望，送慰问金 ¥500" in str(view.buttons())
    await bot.press(SECOND, CareVisitAction("std", chen.id or 0, chen.round_id).pack())
    [case] = await cases(bot)
    assert case.amount_asked == 50000
    await bot.press(COMMITTEE, f"ak:yes:{case.id}:50000", chat=GROUP)
    assert (await cases(bot))[0].status == CaseStatus.APPROVED

    # A second round the same year: the cap (once a year) holds the second payment for the chair.
    second = await start_round(bot, "2027年春节补充慰问")
    again = (await visits(bot, second))["陈建国"]
    await bot.press(SECOND, CareVisitAction("amt", again.id or 0, again.round_id).pack())
    await bot.say(SECOND, "500")
    latest = (await cases(bot))[-1]
    await bot.press(COMMITTEE, f"ak:yes:{latest.id}:50000", chat=GROUP)
    assert "还需要主席批准" in alert(bot)
    assert (await cases(bot))[-1].status == CaseStatus.OPEN
    card = bot.telegram.last(COMMITTEE_GROUP_ID, method="editMessageText").text
    assert "已享受过 1 次同类慰问，需要主席批准" in card


# ---- refusals and stale buttons ------------------------------------------------------------


async def test_a_member_outside_the_committee_is_refused_everywhere(bot: BotHarness) -> None:
    people = await setup_school(bot)
    record = await start_round(bot)
    rid = record.id or 0
    chen = (await visits(bot, record))["陈建国"]

    await bot.say(TEACHER, "/care")
    assert bot.telegram.last(TEACHER.id).text == NOT_COMMITTEE
    for data in (
        CareRoundAction("show", rid),
        CareRoundAction("files", rid),
        CareRoundAction("close", rid),
        CareRoundAction("add", rid),
        CareVisitAction("open", chen.id or 0, chen.round_id),
        CareVisitAction("none", chen.id or 0, chen.round_id),
        CareVisitAction("amt", chen.id or 0, chen.round_id),
        CareVisitAction("remove", chen.id or 0, chen.round_id),
        CareAssignTo(rid, chen.id or 0, people["chen_w"].id or 0),
        CareAddPerson(rid, people["wang"].id or 0),
    ):
        await bot.press(TEACHER, data.pack())
        assert alert(bot) == NOT_COMMITTEE, data
    # The treasurer pays, but does not run care rounds.
    await bot.press(TREASURER, CareVisitAction("none", chen.id or 0, chen.round_id).pack())
    assert alert(bot) == NOT_COMMITTEE
    assert (await visits(bot, record))["陈建国"].status == VisitStatus.PLANNED
    assert "陈建国" not in chat_texts(bot, TEACHER)
    # Assigning to someone who is not on the committee is refused.
    await bot.press(COMMITTEE, CareAssignTo(rid, chen.id or 0, people["qian"].id or 0).pack())
    assert "只能分派给工会委员" in alert(bot)


async def test_stale_and_forged_buttons(bot: BotHarness) -> None:
    await setup_school(bot)
    record = await start_round(bot)
    rid = record.id or 0
    found = await visits(bot, record)

    await bot.press(
        COMMITTEE, CareVisitAction("none", found["陈建国"].id or 0, found["陈建国"].round_id).pack()
    )
    await bot.press(
        SECOND, CareVisitAction("std", found["陈建国"].id or 0, found["陈建国"].round_id).pack()
    )
    assert ALREADY_VISITED in alert(bot)
    await bot.press(
        SECOND, CareVisitAction("remove", found["陈建国"].id or 0, found["陈建国"].round_id).pack()
    )
    assert ALREADY_VISITED in alert(bot)
    await bot.press(
        SECOND, CareVisitAction("amt", found["陈建国"].id or 0, found["陈建国"].round_id).pack()
    )
    assert ALREADY_VISITED in alert(bot)
    assert await cases(bot) == []

    await bot.press(
        COMMITTEE,
        CareVisitAction("remove", found["李淑芬"].id or 0, found["李淑芬"].round_id).pack(),
    )
    await bot.press(
        SECOND, CareVisitAction("none", found["李淑芬"].id or 0, found["李淑芬"].round_id).pack()
    )
    assert GONE in alert(bot)

    await bot.press(COMMITTEE, CareRoundAction("close", rid).pack())
    assert alert(bot) == "名单已结束。"
    await bot.press(
        SECOND, CareVisitAction("none", found["周德明"].id or 0, found["周德明"].round_id).pack()
    )
    assert CLOSED in alert(bot)
    await bot.press(SECOND, CareRoundAction("files", rid).pack())
    assert CLOSED in alert(bot)
    await bot.press(SECOND, CareRoundAction("show", 99999).pack())
    assert "没有找到这份慰问名单" in alert(bot)
    assert (await visits(bot, record))["周德明"].status == VisitStatus.PLANNED


async def test_the_same_update_delivered_twice_makes_one_visit_and_one_case(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    record = await start_round(bot)
    await bot.press(COMMITTEE, CareRoundAction("money_on", record.id or 0).pack())
    zhou = (await visits(bot, record))["周德明"]

    press = button(SECOND, CareVisitAction("std", zhou.id or 0, zhou.round_id).pack())
    await bot.feed(press)
    await bot.feed(press)
    # A second press (a new update) of the same button: refused, still one.
    await bot.press(SECOND, CareVisitAction("std", zhou.id or 0, zhou.round_id).pack())
    assert ALREADY_VISITED in alert(bot)
    assert len(await cases(bot)) == 1
    async with bot.db() as session:
        rows = (await session.exec(select(CareVisit).where(CareVisit.id == zhou.id))).all()
    assert [row.status for row in rows] == ["visited"]
    assert len(bot.telegram.sent("sendMessage", COMMITTEE_GROUP_ID)) == 1


async def test_nothing_private_reaches_the_committee_group_or_the_logs(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("handlers", "models", "scheduler", "bot"):
        caplog.set_level(logging.DEBUG, logger=name)
    people = await setup_school(bot)
    record = await start_round(bot)
    rid = record.id or 0
    found = await visits(bot, record)
    # Pressed in the group, a round's button is refused (it belongs to the private chat).
    await bot.press(COMMITTEE, CareRoundAction("show", rid).pack(), chat=GROUP)
    await bot.say(COMMITTEE, "/care", chat=GROUP)
    await bot.press(
        COMMITTEE, CareAssignTo(rid, found["王芳芳"].id or 0, people["chen_w"].id or 0).pack()
    )
    await bot.press(
        SECOND, CareVisitAction("amt", found["王芳芳"].id or 0, found["王芳芳"].round_id).pack()
    )
    await bot.say(SECOND, "800")
    await bot.press(
        SECOND, CareVisitAction("note", found["王芳芳"].id or 0, found["王芳芳"].round_id).pack()
    )
    await bot.say(SECOND, "孩子学费已解决")
    [case] = await cases(bot)
    await bot.press(COMMITTEE, f"ak:yes:{case.id}:80000", chat=GROUP)

    group = group_texts(bot)
    assert "王*" in group  # the desk's masked card, as for every case
    logs = "\n".join(record.getMessage() for record in caplog.records)
    assert "Care visit" in logs  # the steps are logged, by ids only
    for private in (
        "王芳芳",
        "陈建国",
        "李淑芬",
        "周德明",
        REASON,
        "孩子学费已解决",
        "2027年春节送温暖",
    ):
        assert private not in group, private
        assert private not in logs, private


# ---- greetings to people no message reaches -------------------------------------------------


async def test_bad_input_is_refused_and_asked_again(bot: BotHarness) -> None:
    await setup_school(bot)
    await bot.say(COMMITTEE, "/care new " + "长" * 41)
    assert "最多 40 个字" in bot.telegram.last(COMMITTEE.id).text
    await bot.say(COMMITTEE, "/care new 🧧🧧")
    async with bot.db() as session:
        assert (await session.exec(select(CareRound))).all() == []
    record = await start_round(bot)
    chen = (await visits(bot, record))["陈建国"]

    await bot.press(SECOND, CareVisitAction("amt", chen.id or 0, chen.round_id).pack())
    for typed in ("很多", "-5", "0"):
        await bot.say(SECOND, typed)
        assert "金额要写成正数" in bot.telegram.last(SECOND.id).text, typed
    assert (await visits(bot, record))["陈建国"].status == VisitStatus.PLANNED
    await bot.say(SECOND, "300")  # the form was still waiting for the amount
    assert (await visits(bot, record))["陈建国"].amount == 30000

    # A note before the visit is refused; a note too long is asked again.
    li = (await visits(bot, record))["李淑芬"]
    await bot.press(SECOND, CareVisitAction("note", li.id or 0, li.round_id).pack())
    assert "还没有登记看望" in alert(bot)
    await bot.press(SECOND, CareVisitAction("note", chen.id or 0, chen.round_id).pack())
    await bot.say(SECOND, "好" * 201)
    assert "最多 200 个字" in bot.telegram.last(SECOND.id).text
    await bot.say(SECOND, "一切都好")
    assert (await visits(bot, record))["陈建国"].note == "一切都好"
    # A name too long to be anyone's.
    await bot.press(COMMITTEE, CareRoundAction("add", record.id or 0).pack())
    await bot.say(COMMITTEE, "名" * 41)
    assert "最多 40 个字" in bot.telegram.last(COMMITTEE.id).text
    await bot.say(COMMITTEE, "/cancel")
    assert "已取消" in bot.telegram.last(COMMITTEE.id).text


async def test_the_committee_menu_opens_the_care_lists(bot: BotHarness) -> None:
    await setup_school(bot)
    record = await start_round(bot)
    await bot.press(COMMITTEE, "menu:care")
    shown = bot.telegram.last(COMMITTEE.id)
    assert "进行中的慰问名单" in shown.text
    assert shown.buttons()[0] == (record.title, CareRoundAction("show", record.id or 0).pack())
    await bot.say(TEACHER, "/menu")
    assert "送温暖慰问" not in str(bot.telegram.last(TEACHER.id).buttons())
