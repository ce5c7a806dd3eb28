"""Public notices with an objection period (公示), through the real application: /notice with
its preview, the channel post and the members' copies, objections named and anonymous (shown
back first) and their answers, the end of the period both ways, /notices, objections refused
after the end, the anonymous objector never named, the aid notice through the same path, and
the working-day math as pure dates."""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import col, select

from bot.callback import pack
from models.members import Member, Role
from models.notices import Notice, NoticeKind, NoticeObjection, NoticeStatus
from models.organizations import bind_committee_chat, bind_disclosure_chat
from models.workdays import (
    add_working_days,
    holiday_name,
    holidays,
    is_working_day,
    next_working_day,
    working_days_between,
)
from scheduler.calendar_defaults import DEFAULTS
from scheduler.notice_jobs import end_due_notices
from tests.support.factories import make_member
from tests.support.fake_telegram import Call
from tests.support.harness import COMMITTEE_GROUP_ID, BotHarness
from tests.support.updates import Person
from tests.test_aid_flows import CHAIR, add_chair, approve_as, ask, document
from tests.test_aid_flows import COMMITTEE as AID_COMMITTEE
from tests.test_aid_flows import MEMBER as AID_MEMBER
from tests.test_aid_flows import setup_school as aid_school
from tests.test_calendar_chat import drain
from tests.test_suggestion_desk import operator_reads

CHANNEL_ID = -1009876543210
COMMITTEE = Person(1002, "Liu", "zh-hans")
SECOND = Person(1003, "Chen", "zh-hans")
NAMED = Person(2001, "Wang", "zh-hans")
HIDDEN = Person(2002, "Zhou", "zh-hans")
NAMED_NAME = "王芳芳"
HIDDEN_NAME = "周秘秘"
HIDDEN_DEPARTMENT = "初三物理组"
SEND = pack("form", "out", "send")
# Thursday 3 December 2026, 10:00 in Shanghai.
THURSDAY = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
TITLE = "2026年度优秀教师推荐人选公示"
BODY = "经教职工推荐、工会委员会审议，拟推荐张老师、李老师为2026年度优秀教师。"


def at(bot: BotHarness, moment: datetime) -> None:
    """The bot's clock stands at `moment`."""
    bot.app.state.clock = lambda: moment


async def school(bot: BotHarness) -> dict[str, Member]:
    """A committee group and a disclosure channel, two committee members, two teachers."""
    async with bot.db() as session:
        await bind_committee_chat(session, org_id=bot.org_id, chat_id=COMMITTEE_GROUP_ID)
        await bind_disclosure_chat(session, org_id=bot.org_id, chat_id=CHANNEL_ID)
    people = {
        "committee": await make_member(
            bot.db, org_id=bot.org_id, person=COMMITTEE, name="刘委员", roles=[Role.COMMITTEE]
        ),
        "second": await make_member(
            bot.db, org_id=bot.org_id, person=SECOND, name="陈委员", roles=[Role.COMMITTEE]
        ),
        "named": await make_member(bot.db, org_id=bot.org_id, person=NAMED, name=NAMED_NAME),
        "hidden": await make_member(
            bot.db,
            org_id=bot.org_id,
            person=HIDDEN,
            name=HIDDEN_NAME,
            department=HIDDEN_DEPARTMENT,
        ),
    }
    at(bot, THURSDAY)
    return people


def calls_to(bot: BotHarness, chat_id: int, *methods: str) -> list[Call]:
    """Calls that put something into one chat."""
    wanted = methods or ("sendMessage", "editMessageText")
    return [c for c in bot.telegram.calls if c.chat_id == chat_id and c.method in wanted]


async def publish(bot: BotHarness, *, period: str | None = None) -> Notice:
    """/notice with the default period (or a typed one), to everyone; the stored notice."""
    await bot.say(COMMITTEE, "/notice")
    await bot.say(COMMITTEE, TITLE)
    await bot.say(COMMITTEE, BODY)
    if period is None:
        await bot.press(COMMITTEE, pack("nt", "per", "default"))
    else:
        await bot.say(COMMITTEE, period)
    await bot.press(COMMITTEE, pack("nt", "aud", "everyone"))
    await bot.press(COMMITTEE, pack("nt", "ok", "yes"))
    return await only_notice(bot)


async def only_notice(bot: BotHarness) -> Notice:
    async with bot.db() as session:
        (notice,) = (await session.exec(select(Notice))).all()
    return notice


async def objections(bot: BotHarness) -> list[NoticeObjection]:
    async with bot.db() as session:
        return list(
            (await session.exec(select(NoticeObjection).order_by(col(NoticeObjection.id)))).all()
        )


async def object_to(bot: BotHarness, person: Person, notice: Notice, text: str, how: str) -> str:
    """Press 提出异议 on the member's copy, choose named or anonymous, write, check and send;
    the text shown back before sending."""
    await bot.press(person, pack("nto", "ask", notice.id or 0))
    await bot.press(person, pack("nto", "go", how, notice.id or 0))
    await bot.say(person, text)
    shown = bot.telegram.last(person.id).text
    await bot.press(person, SEND)
    return shown


async def answer(bot: BotHarness, objection: NoticeObjection, text: str) -> None:
    """The committee presses 答复 on the card in the group, types and sends the answer."""
    group = {"id": COMMITTEE_GROUP_ID, "type": "supergroup", "title": "工会委员会"}
    await bot.press(COMMITTEE, pack("ntc", "reply", objection.id or 0), chat=group)
    await bot.say(COMMITTEE, text)
    assert "请核对" in bot.telegram.last(COMMITTEE.id).text
    await bot.press(COMMITTEE, SEND)


async def end_period(bot: BotHarness, today: date) -> int:
    runtime = bot.app.state.runtime
    assert runtime is not None
    return await end_due_notices(runtime, today=today, now=THURSDAY + timedelta(days=30))


# ---- the working days (pure dates) -------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "end"),
    [
        (date(2026, 12, 3), 5, date(2026, 12, 10)),  # Thursday: over one weekend
        (date(2026, 12, 4), 5, date(2026, 12, 11)),  # Friday: the weekend does not count
        (date(2026, 12, 5), 1, date(2026, 12, 7)),  # posted on a Saturday
        (date(2026, 12, 31), 1, date(2027, 1, 4)),  # 元旦 on a Friday, then the weekend
        (date(2026, 2, 13), 1, date(2026, 2, 20)),  # 春节: 除夕 16 Feb to 正月初三 19 Feb
        (date(2025, 1, 27), 1, date(2025, 2, 3)),  # 除夕 on 腊月廿九 (a short twelfth month)
        (date(2027, 4, 2), 1, date(2027, 4, 6)),  # 清明 on Monday 5 April 2027
        (date(2026, 4, 30), 1, date(2026, 5, 4)),  # 劳动节 1-2 May, then Sunday
        (date(2026, 6, 18), 1, date(2026, 6, 22)),  # 端午 on Friday 19 June 2026
        (date(2026, 9, 24), 5, date(2026, 10, 6)),  # 中秋 25 Sep, weekend, 国庆 1-3 Oct
        (date(2026, 9, 30), 1, date(2026, 10, 5)),  # 国庆 1-3 October, then Sunday
        (date(2026, 12, 7), 30, date(2027, 1, 19)),  # six weeks with 元旦
    ],
)
def test_a_period_of_working_days_skips_weekends_and_holidays(
    start: date, days: int, end: date
) -> None:
    assert add_working_days(start, days) == end
    assert working_days_between(next_working_day(start), end) == days


def test_the_official_holidays_of_a_year() -> None:
    assert holidays(2026) == {
        date(2026, 1, 1): "元旦",
        date(2026, 2, 16): "春节",
        date(2026, 2, 17): "春节",
        date(2026, 2, 18): "春节",
        date(2026, 2, 19): "春节",
        date(2026, 4, 5): "清明节",
        date(2026, 5, 1): "劳动节",
        date(2026, 5, 2): "劳动节",
        date(2026, 6, 19): "端午节",
        date(2026, 9, 25): "中秋节",
        date(2026, 10, 1): "国庆节",
        date(2026, 10, 2): "国庆节",
        date(2026, 10, 3): "国庆节",
    }
    assert holiday_name(date(2025, 1, 28)) == "春节"  # 腊月廿九 was 除夕 in 2025
    assert holiday_name(date(2025, 4, 4)) == "清明节"  # the solar term, not a fixed day
    assert holiday_name(date(2025, 10, 6)) == "中秋节"
    assert holiday_name(date(2026, 12, 3)) is None
    assert not is_working_day(date(2026, 12, 5))  # a Saturday
    assert not is_working_day(date(2026, 10, 2))  # a Friday in 国庆
    assert is_working_day(date(2026, 10, 8))  # 调休 is not computed: a plain Thursday here
    with pytest.raises(ValueError, match="at least one working day"):
        add_working_days(date(2026, 12, 3), 0)


# ---- /notice, objections and answers -----------------------------------------------------


async def test_a_notice_with_a_named_and_an_anonymous_objection_answered(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    people = await school(bot)
    caplog.set_level(logging.DEBUG)

    await bot.say(COMMITTEE, "/notice")
    await bot.say(COMMITTEE, TITLE)
    await bot.say(COMMITTEE, BODY)
    asked = bot.telegram.last(COMMITTEE.id)
    assert "调休" in asked.text
    assert asked.buttons()[0][0] == "5个工作日（至2026年12月10日）"
    await bot.press(COMMITTEE, pack("nt", "per", "default"))
    await bot.press(COMMITTEE, pack("nt", "aud", "everyone"))
    preview = bot.telegram.last(COMMITTEE.id)
    assert "公示期：2026年12月4日至2026年12月10日（5个工作日）" in preview.text
    assert "同时发布到校务公开栏" in preview.text and BODY in preview.text
    # ✏️ 修改某项 → the period → a typed end date → the preview again
    await bot.press(COMMITTEE, preview.button_data("修改"))
    await bot.press(COMMITTEE, bot.telegram.last(COMMITTEE.id).button_data("公示期"))
    await bot.say(COMMITTEE, "12月15日")
    preview = bot.telegram.last(COMMITTEE.id)
    assert "公示期：2026年12月4日至2026年12月15日（8个工作日）" in preview.text
    await bot.press(COMMITTEE, pack("nt", "ok", "yes"))

    notice = await only_notice(bot)
    assert (notice.title, notice.status, notice.ends_on) == (
        TITLE,
        NoticeStatus.OPEN,
        date(2026, 12, 15),
    )
    assert (
        "公示 公示-2026-001 已发布到校务公开栏，并排队发送给 4 人"
        in bot.telegram.last(COMMITTEE.id).text
    )
    (post,) = calls_to(bot, CHANNEL_ID)
    assert TITLE in post.text and BODY in post.text
    assert "公示期自2026年12月4日至2026年12月15日" in post.text
    assert post.buttons() == [
        ("提出异议", f"https://t.me/union_desk_test_bot?start=objection-{notice.id}")
    ]
    await drain(bot)
    copy = bot.telegram.last(NAMED.id)
    assert TITLE in copy.text
    assert copy.button_data("提出异议") == pack("nto", "ask", notice.id or 0)

    # A named objection, shown back first.
    shown = await object_to(bot, NAMED, notice, "张老师本学期请假较多，是否符合条件？", "named")
    assert "对公示 公示-2026-001《" in shown and "（署名）" in shown
    assert "张老师本学期请假较多" in shown
    assert "已送交工会委员会（编号公示-2026-001-1）" in bot.telegram.last(NAMED.id).text

    # An anonymous one, through the channel's link.
    await bot.say(HIDDEN, f"/start objection-{notice.id}")
    assert "署名还是匿名" in bot.telegram.last(HIDDEN.id).text
    await bot.press(HIDDEN, pack("nto", "go", "anon", notice.id or 0))
    await bot.say(HIDDEN, "推荐过程没有公开投票结果。")
    assert "（匿名）" in bot.telegram.last(HIDDEN.id).text
    await bot.press(HIDDEN, SEND)
    assert "公示-2026-001-2" in bot.telegram.last(HIDDEN.id).text

    named, hidden = await objections(bot)
    assert (named.anonymous, named.member_id, named.reply_token) == (
        False,
        people["named"].id,
        None,
    )
    assert hidden.anonymous and hidden.member_id is None and hidden.reply_token
    cards = calls_to(bot, COMMITTEE_GROUP_ID, "sendMessage")
    assert len(cards) == 2
    assert f"提出人：{NAMED_NAME}" in cards[0].text
    assert "提出人：匿名" in cards[1].text and "推荐过程没有公开投票结果" in cards[1].text

    # The committee answers the anonymous one: it reaches the objector through the seal.
    await answer(bot, hidden, "投票结果已在教代会公布，可到工会查阅。")
    told = bot.telegram.last(HIDDEN.id)
    assert "对您的异议公示-2026-001-2" in told.text and "投票结果已在教代会公布" in told.text
    assert "已送达提出人" in bot.telegram.last(COMMITTEE.id).text
    edited = bot.telegram.last(COMMITTEE_GROUP_ID, method="editMessageText")
    assert "刘委员已答复" in edited.text and edited.buttons() == []
    # A second answer to the same objection is refused at the press.
    group = {"id": COMMITTEE_GROUP_ID, "type": "supergroup", "title": "工会委员会"}
    await bot.press(SECOND, pack("ntc", "reply", hidden.id or 0), chat=group)
    assert "已经答复过了" in bot.telegram.answers()[-1].params.get("text", "")

    # The end, with the named objection still unanswered: 有异议，待处理.
    assert await end_period(bot, date(2026, 12, 16)) == 1
    assert (await only_notice(bot)).status == NoticeStatus.PENDING
    edited_post = calls_to(bot, CHANNEL_ID, "editMessageText")[-1]
    assert "公示结果：有异议，待处理。" in edited_post.text and edited_post.buttons() == []
    await drain(bot)
    assert any(
        "公示期已满：有异议，待处理" in text and "尚未答复 1 条" in text
        for text in bot.telegram.texts(COMMITTEE_GROUP_ID)
    )
    assert await end_period(bot, date(2026, 12, 17)) == 0  # a rerun changes nothing

    # Answered after the end: 有异议，已处理, on the post and to the committee.
    await answer(bot, named, "经核实，张老师请假为公派培训，符合条件。")
    assert "公派培训" in bot.telegram.last(NAMED.id).text
    assert (await only_notice(bot)).status == NoticeStatus.HANDLED
    assert "公示结果：有异议，已处理。" in calls_to(bot, CHANNEL_ID, "editMessageText")[-1].text

    # The anonymous objector is named nowhere the committee or an operator reads.
    group_text = "\n".join(
        str(c.params) for c in bot.telegram.calls if c.chat_id == COMMITTEE_GROUP_ID
    )
    channel_text = "\n".join(str(c.params) for c in bot.telegram.calls if c.chat_id == CHANNEL_ID)
    for secret in (HIDDEN_NAME, HIDDEN_DEPARTMENT, str(HIDDEN.id)):
        assert secret not in group_text and secret not in channel_text
        assert secret not in "\n".join(c.text for c in bot.telegram.sent(chat_id=COMMITTEE.id))
    person = re.compile(
        rf"\b(member|user)\W{{0,3}}({people['hidden'].id}|{HIDDEN.id})\b", re.IGNORECASE
    )
    for record in filter(operator_reads, caplog.records):
        message = record.getMessage()
        for secret in (str(HIDDEN.id), HIDDEN_NAME, HIDDEN_DEPARTMENT):
            assert secret not in message, (record.name, message)
        assert not person.search(message), (record.name, message)


async def test_the_end_without_objections_and_objections_after_it(bot: BotHarness) -> None:
    await school(bot)
    notice = await publish(bot)
    assert notice.ends_on == date(2026, 12, 10)  # 5 working days from Friday 4 December
    await drain(bot)

    assert await end_period(bot, date(2026, 12, 10)) == 0  # its last day still runs
    assert await end_period(bot, date(2026, 12, 11)) == 1
    assert (await only_notice(bot)).status == NoticeStatus.CLEAR
    assert "公示结果：公示期满无异议。" in calls_to(bot, CHANNEL_ID, "editMessageText")[-1].text
    await drain(bot)
    assert any("公示期满无异议" in t for t in bot.telegram.texts(COMMITTEE_GROUP_ID))

    # After the end: refused plainly, at the member's button, the link and a stale form press.
    at(bot, datetime(2026, 12, 11, 2, 0, tzinfo=UTC))
    await bot.press(NAMED, pack("nto", "ask", notice.id or 0))
    assert "公示期已经结束，不再受理异议" in bot.telegram.last(NAMED.id).text
    await bot.say(HIDDEN, f"/start objection-{notice.id}")
    assert "公示期已经结束，不再受理异议" in bot.telegram.last(HIDDEN.id).text
    await bot.press(HIDDEN, pack("nto", "go", "anon", notice.id or 0))
    assert "不再受理异议" in bot.telegram.answers()[-1].params.get("text", "")
    await bot.say(HIDDEN, "还能提吗？")
    assert await objections(bot) == []


async def test_an_objection_typed_before_the_end_and_sent_after_it_is_refused(
    bot: BotHarness,
) -> None:
    await school(bot)
    notice = await publish(bot, period="1")
    assert notice.ends_on == date(2026, 12, 4)
    await bot.press(NAMED, pack("nto", "ask", notice.id or 0))
    await bot.press(NAMED, pack("nto", "go", "named", notice.id or 0))
    await bot.say(NAMED, "有异议。")
    at(bot, datetime(2026, 12, 4, 16, 30, tzinfo=UTC))  # 00:30 on Saturday in Shanghai
    await bot.press(NAMED, SEND)
    assert "不再受理异议" in bot.telegram.answers()[-1].params.get("text", "")
    assert await objections(bot) == []
    assert calls_to(bot, COMMITTEE_GROUP_ID, "sendMessage") == []


async def test_the_yearly_archive_shows_outcomes_and_never_objectors(bot: BotHarness) -> None:
    await school(bot)
    notice = await publish(bot)
    await object_to(bot, HIDDEN, notice, "名单里有一位不是本校在编教师。", "anon")
    await object_to(bot, NAMED, notice, "请说明推荐程序。", "named")
    await end_period(bot, date(2026, 12, 11))

    await bot.say(NAMED, "/notices 2026")
    seen = bot.telegram.last(NAMED.id).text
    assert "2026年公示（共 1 条）" in seen
    assert f"公示-2026-001《{TITLE}》" in seen
    assert "2026年12月4日至2026年12月10日 · 有异议，待处理" in seen
    assert "异议" not in seen.replace("有异议", "")  # members see no counts
    for secret in (NAMED_NAME, HIDDEN_NAME, "不是本校在编"):
        assert secret not in seen

    await bot.say(COMMITTEE, "/notices")
    seen = bot.telegram.last(COMMITTEE.id).text
    assert "异议 2 条，待答复 2 条" in seen
    assert NAMED_NAME not in seen and HIDDEN_NAME not in seen

    await bot.say(NAMED, "/notices 2025")
    assert bot.telegram.last(NAMED.id).text == "2025年还没有公示。"
    await bot.say(NAMED, "/notices 去年")
    assert "用法" in bot.telegram.last(NAMED.id).text


async def test_a_notice_is_for_the_committee_to_publish(bot: BotHarness) -> None:
    await school(bot)
    await bot.say(NAMED, "/notice")
    assert bot.telegram.last(NAMED.id).text == "只有工会委员可以处理这一项。"
    # A teacher's press on an objection card in the group decides nothing.
    notice = await publish(bot)
    await object_to(bot, HIDDEN, notice, "有异议。", "anon")
    (objection,) = await objections(bot)
    group = {"id": COMMITTEE_GROUP_ID, "type": "supergroup", "title": "工会委员会"}
    await bot.press(NAMED, pack("ntc", "reply", objection.id or 0), chat=group)
    assert (await objections(bot))[0].answer is None


async def test_a_notice_can_be_a_file_and_members_can_open_it(bot: BotHarness) -> None:
    await school(bot)
    await bot.say(COMMITTEE, "/notice")
    await bot.say(COMMITTEE, "2026年工会经费收支情况公示")
    await bot.feed(document(COMMITTEE, "funds-2026", name="经费收支.pdf"))
    await bot.press(COMMITTEE, pack("nt", "per", "default"))
    await bot.press(COMMITTEE, pack("nt", "aud", "representatives"))
    assert "📎 附件：文件" in bot.telegram.last(COMMITTEE.id).text
    await bot.press(COMMITTEE, pack("nt", "ok", "yes"))

    notice = await only_notice(bot)
    assert (notice.file_id, notice.file_kind, notice.body) == ("funds-2026", "document", "")
    assert notice.audience == "representatives"
    (posted,) = calls_to(bot, CHANNEL_ID, "sendDocument")
    assert posted.params["document"] == "funds-2026"
    # A member's button sends the file privately.
    await bot.press(NAMED, pack("nto", "file", notice.id or 0))
    (sent,) = bot.telegram.sent("sendDocument", chat_id=NAMED.id)
    assert sent.params["document"] == "funds-2026"


# ---- the aid notice and the monthly reminder -----------------------------------------------


async def test_the_aid_notice_is_published_as_a_notice_with_its_own_days(
    bot: BotHarness,
) -> None:
    await aid_school(bot)
    await add_chair(bot)
    case = await ask(bot, aid_type="hardship", story="家中两人重病，收入很低。")
    await approve_as(bot, AID_COMMITTEE, case, 100000)
    await bot.say(CHAIR, "/aidrules 公示 开")
    async with bot.db() as session:
        await bind_disclosure_chat(session, org_id=bot.org_id, chat_id=CHANNEL_ID)
    year = case.happened_on.year
    await bot.say(AID_COMMITTEE, f"/aidnotice {year}")
    shown = bot.telegram.last(AID_COMMITTEE.id)
    await bot.press(AID_COMMITTEE, shown.button_data("发布到校务公开栏"))

    notice = await only_notice(bot)
    assert notice.kind == NoticeKind.AID and notice.audience == "none"
    assert (notice.ends_on - notice.starts_on).days == bot.app.state.settings.aid_notice_days - 1
    assert "困难职工补助公示" in notice.title and "王*　¥1,000" in notice.body
    (post,) = calls_to(bot, CHANNEL_ID)
    assert post.buttons()[0][1].endswith(f"?start=objection-{notice.id}")
    assert "王*　¥1,000" in post.text and "公示期自" in post.text
    await drain(bot)
    assert [c for c in bot.telegram.calls if c.params.get("text") == post.text] == [post]

    # Objections reach the desk as for any notice; the end marks it.
    await bot.say(AID_MEMBER, f"/start objection-{notice.id}")
    await bot.press(AID_MEMBER, pack("nto", "go", "anon", notice.id or 0))
    await bot.say(AID_MEMBER, "名单里漏了一户。")
    await bot.press(AID_MEMBER, SEND)
    assert "提出人：匿名" in bot.telegram.last(COMMITTEE_GROUP_ID).text
    (objection,) = await objections(bot)
    await end_period(bot, notice.ends_on + timedelta(days=1))
    assert (await only_notice(bot)).status == NoticeStatus.PENDING
    assert objection.member_id is None


def test_the_committee_is_reminded_every_month_to_disclose() -> None:
    (entry,) = [d for d in DEFAULTS if d.key == "monthly_disclosure"]
    assert entry.rule == {"type": "monthly", "day": 1}
    assert entry.audience == "committee"
