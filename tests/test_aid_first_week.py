"""What a committee notices in its first week of aid (issue 16): the history's dates in the
union's time zone with the payment as it was typed, a payment told as care, the public notice's
period, /aidrules in Chinese words, and a colleague's report that names the colleague. Aid
details still never reach the committee group."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.callback import pack
from bot.i18n import LANGUAGES, Translator
from bot.settings import Settings
from models.aid import AidCase, AidLedgerEntry, AidPolicy, AidStandard, AidType
from models.aid import CaseStatus as Status
from models.members import Role
from models.organizations import bind_disclosure_chat
from tests.support.factories import make_member
from tests.support.harness import CHAIR, BotHarness, make_settings
from tests.support.updates import Person
from tests.test_aid_flows import (
    CHANNEL_ID,
    COLLEAGUE,
    COMMITTEE,
    ENGLISH,
    GROUP,
    MEMBER,
    MEMBER_NAME,
    SECOND,
    STORY,
    add_chair,
    approve_as,
    ask,
    calls_to,
    group_dump,
    pay,
    reload,
    replies,
    report,
    setup_school,
)

NOTICE_DAYS = 5
# 01:42 on 5 December in Beijing is still 4 December in UTC.
BEIJING_0142 = datetime(2026, 12, 4, 17, 42, tzinfo=UTC)
TRADITIONAL = Person(4104, "Mei", "zh-hant")
ENGLISH_COMMITTEE = Person(1105, "Eve", "en")


@pytest.fixture
def settings(clean_database: str, tmp_path: Path) -> Settings:
    """The notice runs AID_NOTICE_DAYS days (5 here, 7 by default)."""
    return make_settings(clean_database, tmp_path, aid_notice_days=NOTICE_DAYS)


def at(bot: BotHarness, moment: datetime) -> None:
    """The bot's clock stands at `moment`."""
    bot.app.state.clock = lambda: moment


def assert_private(bot: BotHarness, *secrets: str) -> None:
    """None of `secrets` (names, stories, payment notes) reached the committee group."""
    dumped = "\n".join(group_dump(bot))
    for secret in (MEMBER_NAME, STORY, *secrets):
        assert secret not in dumped


def nested_brackets(text: str) -> bool:
    """Whether a full-width bracket opens inside another."""
    depth = 0
    for char in text:
        depth += {"（": 1, "）": -1}.get(char, 0)
        if depth > 1:
            return True
    return False


# ---- item 2: dates in the union's time zone; the payment as typed --------------------------


async def test_a_payment_at_0142_beijing_shows_the_beijing_day_and_what_was_typed(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    at(bot, BEIJING_0142)
    case = await ask(bot)
    await approve_as(bot, COMMITTEE, case, 25000)
    await pay(bot, case, "12月5日 现金 随春节慰问发放")

    async with bot.db() as session:
        paid = (
            await session.exec(
                select(AidLedgerEntry)
                .where(AidLedgerEntry.case_id == case.id, AidLedgerEntry.kind == "paid")
                .order_by(col(AidLedgerEntry.id))
            )
        ).one()
    assert (await reload(bot, case.id or 0)).status == Status.PAID
    assert (paid.paid_on.isoformat() if paid.paid_on else None, paid.method, paid.note) == (
        "2026-12-05",
        "现金",
        "随春节慰问发放",
    )
    assert paid.created_at == BEIJING_0142  # recorded at the clock's moment, stored in UTC

    before = len(bot.telegram.calls)
    await bot.press(SECOND, pack("ak", "open", case.id or 0), chat=GROUP)
    history = next(
        call.text
        for call in bot.telegram.calls[before:]
        if call.chat_id == SECOND.id and "办理记录" in call.text
    )
    paid_line = next(line for line in history.splitlines() if "已发放" in line)
    assert (
        paid_line
        == "• 2026-12-05 已发放 ¥250（钱会计·语文组）：发放日期 2026-12-05，现金；随春节慰问发放"
    )
    assert not nested_brackets(history)
    assert_private(bot, "随春节慰问发放")


# ---- a paid aid reads as care, in every language -------------------------------------------


@pytest.mark.parametrize(
    ("person", "aid_type", "amount", "told"),
    [
        (MEMBER, "hospital", 25000, "您的住院慰问金 ¥250 已发放，祝您早日康复。"),
        (MEMBER, "bereavement", 100000, "您的丧葬慰问金 ¥1,000 已发放，请节哀顺变，保重身体。"),
        (
            TRADITIONAL,
            "childbirth",
            50000,
            "您的生育慰問金 ¥500 已發放，祝母子平安，寶寶健康成長。",
        ),
        (
            ENGLISH,
            "hardship",
            100000,
            "Your hardship subsidy of ¥1,000 has been paid. "
            "Whenever things are hard, please tell the union.",
        ),
    ],
)
async def test_a_paid_aid_is_told_as_care_with_a_wish_fitting_its_kind(
    bot: BotHarness, person: Person, aid_type: str, amount: int, told: str
) -> None:
    await setup_school(bot, english=True)
    await make_member(
        bot.db, org_id=bot.org_id, person=TRADITIONAL, name="黃美玲", language="zh-Hant"
    )
    case = await ask(bot, person, aid_type=aid_type)
    await approve_as(bot, COMMITTEE, case, amount)
    await pay(bot, case)
    assert bot.telegram.last(person.id).text == told
    assert_private(bot, "黃美玲", "吴安娜")


def test_every_kind_has_a_wish_and_bereavement_wishes_nothing() -> None:
    for language in LANGUAGES:
        tr = Translator(language)
        for aid_type in AidType:
            for key in (f"aid.wish.{aid_type}", f"aid.paid_kind.{aid_type}"):
                assert tr(key) != key, (language, key)
    for language in ("zh-Hans", "zh-Hant"):
        assert "祝" not in Translator(language)("aid.wish.bereavement")
    assert "节哀顺变" in Translator("zh-Hans")("aid.wish.bereavement")


# ---- the public notice gives its period -----------------------------------------------------


async def test_the_notice_gives_its_period_in_the_unions_days(bot: BotHarness) -> None:
    await setup_school(bot)
    await add_chair(bot)
    at(bot, BEIJING_0142)
    case = await ask(bot, aid_type="hardship", story="家中两人重病，收入很低。")
    await approve_as(bot, COMMITTEE, case, 100000)
    await bot.say(CHAIR, "/aidrules 公示 开")
    async with bot.db() as session:
        await bind_disclosure_chat(session, org_id=bot.org_id, chat_id=CHANNEL_ID)

    await bot.say(COMMITTEE, "/aidnotice 2026")
    period = "公示期自2026年12月5日至2026年12月9日，如有异议请在公示期内向工会反映。"
    shown = bot.telegram.last(COMMITTEE.id)
    assert period in shown.text
    await bot.press(COMMITTEE, shown.button_data("发布到校务公开栏"))
    posted = calls_to(bot, CHANNEL_ID)
    assert len(posted) == 1 and period in posted[0].text
    assert "王*　¥1,000" in posted[0].text and MEMBER_NAME not in posted[0].text
    assert_private(bot, "家中两人重病")


def test_the_notice_runs_seven_days_unless_set() -> None:
    assert Settings(_env_file=None).aid_notice_days == 7  # type: ignore[call-arg]


# ---- /aidrules in Chinese words -------------------------------------------------------------


async def test_aidrules_shows_names_and_no_limit_and_takes_chinese_words(bot: BotHarness) -> None:
    await setup_school(bot)
    await add_chair(bot)
    await make_member(
        bot.db,
        org_id=bot.org_id,
        person=ENGLISH_COMMITTEE,
        name="吴委员",
        roles=[Role.COMMITTEE],
        language="en",
    )
    shown = await replies(bot, COMMITTEE, "/aidrules")
    rule_lines = [line for line in shown.splitlines() if "：标准 ¥" in line]
    assert len(rule_lines) == 8
    assert "住院慰问：标准 ¥250；每年次数上限：1；每年金额上限：不限" in rule_lines
    assert "意外灾害慰问：标准 ¥1,000；每年次数上限：不限；每年金额上限：不限" in rule_lines
    assert all(re.search("[A-Za-z-]", line) is None for line in rule_lines)
    assert "年度预算 不限" in shown and "¥-" not in shown
    english = await replies(bot, ENGLISH_COMMITTEE, "/aidrules")
    assert "Hospital visit: standard ¥250; times a year: 1; total a year: no limit" in english

    said = await replies(bot, CHAIR, "/aidrules 标准 住院 300 不限 不限")
    assert "住院慰问：标准 ¥300；每年次数上限：不限；每年金额上限：不限" in said
    await bot.say(CHAIR, "/aidrules 预算 5000")
    await bot.say(CHAIR, "/aidrules 公示 开")
    async with bot.db() as session:
        standard = (
            await session.exec(select(AidStandard).where(AidStandard.aid_type == "hospital"))
        ).one()
        policy = (await session.exec(select(AidPolicy))).one()
    assert (standard.amount, standard.cap_count, standard.cap_total) == (30000, None, None)
    assert (policy.budget, policy.public_notice) == (500000, True)
    await bot.say(CHAIR, "/aidrules 预算 不限")
    async with bot.db() as session:
        assert (await session.exec(select(AidPolicy))).one().budget is None

    # A yearly count as people write it: 3次, 三次; a count that is not one says so.
    said = await replies(bot, CHAIR, "/aidrules 标准 住院 300 三次 不限")
    assert "住院慰问：标准 ¥300；每年次数上限：3；每年金额上限：不限" in said
    said = await replies(bot, CHAIR, "/aidrules 标准 住院 300 很多次 不限")
    assert "次数上限要写 0 到 100 的整数" in said
    async with bot.db() as session:
        standard = (
            await session.exec(select(AidStandard).where(AidStandard.aid_type == "hospital"))
        ).one()
    assert standard.cap_count == 3


# ---- item 12: a colleague's report names the colleague --------------------------------------


async def test_a_report_names_the_colleague_in_the_preview_the_receipt_and_the_payment(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    case = await report(bot)
    previews = [
        c.text for c in bot.telegram.sent("sendMessage", COLLEAGUE.id) if "请确认" in c.text
    ]
    assert previews and "报告同事：王芳芳（初二年级组）" in previews[-1]
    assert bot.telegram.last(COLLEAGUE.id).text == (
        f"✅ 谢谢您告诉工会王芳芳（初二年级组）的情况，编号 {case.number}。"
        "委员会会安排看望，我们不会自动通知当事人。"
    )
    async with bot.db() as session:
        stored = await session.get(AidCase, case.id)
    assert stored is not None and stored.reported

    await approve_as(bot, COMMITTEE, case, 25000)
    await pay(bot, case)
    assert bot.telegram.last(COLLEAGUE.id).text == (
        f"您为王芳芳反映的住院慰问金已发放（{case.number}），感谢您对同事的关心。"
    )
    assert calls_to(bot, MEMBER.id) == []
    assert_private(bot)


async def test_an_english_report_names_the_colleague_too(bot: BotHarness) -> None:
    await setup_school(bot, english=True)
    case = await report(bot, reporter=ENGLISH)
    assert bot.telegram.last(ENGLISH.id).text == (
        "✅ Thank you for telling the union about 王芳芳 (初二年级组); "
        f"the number is {case.number}. The committee will arrange a visit; "
        "your colleague is not messaged automatically."
    )
    assert_private(bot)
