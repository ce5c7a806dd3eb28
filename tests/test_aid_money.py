"""Aid money an insider could bend (issue 15, "Aid money"), through the real application:

1. an event dated back is refused past AID_EVENT_MAX_AGE_MONTHS, and caps and the budget count
   by the year of the decision (the card and /aidbooks say which year);
2. standards, caps and limits are the chair's, and every change is posted to the committee;
3. /aidcorrect is bounded, and above the single-approval limit needs a second person;
4. ledger rows cannot be deleted (and the PostgreSQL role in the README cannot either);
5. the card shows the approvals so far, with the deciders' names.
"""

from __future__ import annotations

import re
import secrets
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, select

from bot.callback import pack
from bot.db import is_sqlite
from models.aid import (
    AidCase,
    AidLedgerEntry,
    AidPolicy,
    AidStandard,
    AidType,
    CaseDraft,
    file_case,
    months_before,
    net_paid,
)
from models.aid import CaseStatus as Status
from models.errors import DomainError
from models.members import Role
from tests.support.factories import make_member
from tests.support.harness import CHAIR, COMMITTEE_GROUP_ID, BotHarness, make_settings, running_bot
from tests.support.updates import Person
from tests.test_aid_flows import (
    AMOUNT_ABSURD,
    CHAIR_ONLY,
    COLLEAGUE,
    COMMITTEE,
    GROUP,
    MEMBER,
    MEMBER_NAME,
    NEEDS_CHAIR,
    NOT_COMMITTEE,
    SECOND,
    STORY,
    TREASURER,
    WRITE_AMOUNT,
    actor_of,
    add_chair,
    alert,
    approve_as,
    ask,
    card,
    group_dump,
    ledger_kinds,
    pay,
    reload,
    replies,
    setup_school,
    today,
)

README = Path(__file__).resolve().parents[1] / "README.md"
TOO_OLD = "日期太早了：只能申请最近 {months} 个月内（{earliest} 及以后）发生的事。"
BOTH_ROLES = Person(1105, "Sun", "zh-hans")  # treasurer and committee member at once


def group_posts(bot: BotHarness, since: int = 0) -> list[str]:
    """Texts of the messages sent to the committee group after call number `since`."""
    return [
        call.text
        for call in bot.telegram.calls[since:]
        if call.method == "sendMessage" and call.chat_id == COMMITTEE_GROUP_ID
    ]


def group_edit(bot: BotHarness) -> str:
    """The text of the latest edit of a card in the committee group."""
    return bot.telegram.last(COMMITTEE_GROUP_ID, method="editMessageText").text


async def ask_dated(bot: BotHarness, day: str, *, aid_type: str = "hospital") -> AidCase:
    """MEMBER asks for aid for something that happened on `day` (typed as written)."""
    await bot.say(MEMBER, "/aid")
    await bot.press(MEMBER, pack("ad", "who", "me"))
    await bot.press(MEMBER, pack("ad", "type", aid_type))
    await bot.say(MEMBER, STORY)
    assert WRITE_AMOUNT in await replies(bot, MEMBER, day)
    await bot.press(MEMBER, pack("ad", "amt", "std"))
    await bot.press(MEMBER, pack("ad", "ev", "done"))
    await bot.press(MEMBER, pack("ad", "ok", "yes"))
    async with bot.db() as session:
        found = (await session.exec(select(AidCase).order_by(col(AidCase.id).desc()))).first()
    assert found is not None
    return found


async def cases(bot: BotHarness) -> int:
    """How many aid cases are stored."""
    async with bot.db() as session:
        return len((await session.exec(select(AidCase))).all())


# ---- 1. backdating -----------------------------------------------------------------------


async def test_an_event_older_than_twelve_months_is_refused_and_the_date_asked_again(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    now = today(bot)
    earliest = months_before(now, 12)
    refusal = TOO_OLD.format(months=12, earliest=earliest.isoformat())
    await bot.say(MEMBER, "/aid")
    await bot.press(MEMBER, pack("ad", "who", "me"))
    await bot.press(MEMBER, pack("ad", "type", "hospital"))
    await bot.say(MEMBER, STORY)

    for typed in ("1999-01-01", (earliest - timedelta(days=1)).isoformat()):
        said = await replies(bot, MEMBER, typed)
        assert refusal in said and "请重新写日期" in said and WRITE_AMOUNT not in said, typed
    # The oldest day allowed is accepted; the request goes through.
    assert WRITE_AMOUNT in await replies(bot, MEMBER, earliest.isoformat())
    await bot.press(MEMBER, pack("ad", "amt", "std"))
    await bot.press(MEMBER, pack("ad", "ev", "done"))
    await bot.press(MEMBER, pack("ad", "ok", "yes"))
    async with bot.db() as session:
        [stored] = (await session.exec(select(AidCase))).all()
    assert stored.happened_on == earliest

    # A draft that reaches the model with an old day is refused there too; nothing is stored.
    actor = await actor_of(bot, MEMBER)
    async with bot.db() as session:
        with pytest.raises(DomainError) as caught:
            await file_case(
                session,
                org_id=bot.org_id,
                actor=actor,
                draft=CaseDraft(
                    aid_type=AidType.HOSPITAL,
                    description=STORY,
                    happened_on=date(1999, 1, 1),
                    amount_asked=None,
                    evidence=(),
                    client_token="backdated-1999",
                ),
                today=now,
            )
    assert caught.value.key == "aid.date_too_old"
    assert await cases(bot) == 1


async def test_the_age_limit_is_a_setting_and_speaks_the_members_language(
    clean_database: str, tmp_path: Path
) -> None:
    settings = make_settings(clean_database, tmp_path, aid_event_max_age_months=1)
    english = Person(4199, "Anna", "en")
    async with running_bot(settings) as bot:
        await setup_school(bot)
        await make_member(bot.db, org_id=bot.org_id, person=english, name="吴安娜", language="en")
        now = today(bot)
        await bot.say(english, "/aid")
        await bot.press(english, pack("ad", "who", "me"))
        await bot.press(english, pack("ad", "type", "hospital"))
        await bot.say(english, STORY)
        said = await replies(bot, english, (now - timedelta(days=40)).isoformat())
        earliest = months_before(now, 1).isoformat()
        assert f"only for what happened in the last 1 months (on or after {earliest})" in said
        assert "Type the date again" in said
        said = await replies(bot, english, (now - timedelta(days=20)).isoformat())
        assert "How much are you asking for?" in said
        assert await cases(bot) == 0


async def test_caps_and_budget_count_by_the_year_of_the_decision(bot: BotHarness) -> None:
    """The hole: a hospital case dated in an earlier year was approved by one committee member
    while this year's cap and budget were used up."""
    await setup_school(bot)
    await add_chair(bot)
    year = today(bot).year
    await bot.say(CHAIR, "/aidrules budget 300")

    first = await ask(bot)
    await approve_as(bot, COMMITTEE, first, 25000)
    stored = await reload(bot, first.id or 0)
    assert (stored.status, stored.approved_on) == (Status.APPROVED, today(bot))

    # Dated last year (within twelve months), decided this year: this year's cap and budget.
    second = await ask_dated(bot, f"{year - 1}-12-31")
    assert second.happened_on == date(year - 1, 12, 31)
    shown = card(bot).text
    assert f"{year} 年已享受过 1 次同类慰问，需要主席批准" in shown
    assert f"超出 {year} 年预算剩余，需要主席批准" in shown
    assert f"{year} 年预算剩余：¥50" in shown

    await approve_as(bot, COMMITTEE, second, 25000)
    assert NEEDS_CHAIR in alert(bot)
    await approve_as(bot, SECOND, second, 25000)
    assert NEEDS_CHAIR in alert(bot)
    stored = await reload(bot, second.id or 0)
    assert (stored.status, stored.approved_amount, stored.approved_on) == (Status.OPEN, None, None)

    await approve_as(bot, CHAIR, second, 25000)
    stored = await reload(bot, second.id or 0)
    assert (stored.status, stored.approved_on) == (Status.APPROVED, today(bot))
    assert f"批准金额：¥250（计入 {year} 年）" in group_edit(bot)

    # The books count both in this year's budget, and none in the year of the event.
    await bot.say(COMMITTEE, "/aidbooks")
    books = bot.telegram.last(COMMITTEE.id).text
    assert f"{year} 年预算 ¥300：{year} 年内已批准 ¥500（按批准日期），剩余 ¥-200" in books
    await bot.say(COMMITTEE, f"/aidbooks {year - 1}")
    assert f"{year - 1} 年内已批准 ¥0" in bot.telegram.last(COMMITTEE.id).text


# ---- 2. the rules are the chair's ---------------------------------------------------------


async def hospital_standard(bot: BotHarness) -> tuple[int, int | None, int | None]:
    """The stored hospital standard (amount, yearly count, yearly total)."""
    async with bot.db() as session:
        row = (
            await session.exec(
                select(AidStandard).where(
                    AidStandard.organization_id == bot.org_id, AidStandard.aid_type == "hospital"
                )
            )
        ).one()
    return row.amount, row.cap_count, row.cap_total


async def this_years_policy(bot: BotHarness) -> tuple[int | None, int, int, bool] | None:
    """This year's (budget, single-approval limit, maximum, public notice), if stored."""
    async with bot.db() as session:
        row = (
            await session.exec(
                select(AidPolicy).where(
                    AidPolicy.organization_id == bot.org_id,
                    AidPolicy.year == today(bot).year,
                )
            )
        ).first()
    if row is None:
        return None
    return row.budget, row.single_approval_limit, row.max_amount, row.public_notice


async def test_only_the_chair_changes_the_rules_and_the_committee_hears_of_each_change(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    await add_chair(bot)
    await bot.say(COMMITTEE, "/aidrules")
    assert "住院慰问：标准 ¥250" in bot.telegram.last(COMMITTEE.id).text
    policy = await this_years_policy(bot)
    start = len(bot.telegram.calls)

    # The hole: a committee member lifted the yearly cap. Every rule refuses a non-chair.
    for typed in (
        "/aidrules standard hospital 250 - -",
        "/aidrules standard 住院 1 1 -",
        "/aidrules limit 50000",
        "/aidrules max 100000",
        "/aidrules budget -",
        "/aidrules notice on",
    ):
        said = await replies(bot, COMMITTEE, typed)
        assert CHAIR_ONLY in said and "/aidrules 查看" in said, typed
    assert await hospital_standard(bot) == (25000, 1, None)
    assert await this_years_policy(bot) == policy
    await bot.say(TREASURER, "/aidrules limit 50000")
    assert bot.telegram.last(TREASURER.id).text == NOT_COMMITTEE
    assert group_posts(bot, start) == []

    # The chair's changes: each posted to the group, with who, the old and the new value.
    said = await replies(bot, CHAIR, "/aidrules standard hospital 300 - -")
    assert "已修改，并已通知委员会群" in said and "住院慰问：标准 ¥300" in said
    assert await hospital_standard(bot) == (30000, None, None)
    assert group_posts(bot, start) == [
        "⚖️ 张主席修改了帮扶慰问规则：\n"
        "• 住院慰问标准：¥250 → ¥300\n"
        "• 住院慰问每年次数上限：1 → 不限"
    ]
    year = today(bot).year
    for typed, line in (
        ("/aidrules limit 2000", "• 单人可批准额度：¥1,000 → ¥2,000"),
        ("/aidrules max 80000", "• 单笔最高：¥50,000 → ¥80,000"),
        ("/aidrules budget 5000", f"• {year} 年预算：不限 → ¥5,000"),
        ("/aidrules budget -", f"• {year} 年预算：¥5,000 → 不限"),
        ("/aidrules notice on", "• 困难补助公示：否 → 是"),
    ):
        before = len(bot.telegram.calls)
        await bot.say(CHAIR, typed)
        assert group_posts(bot, before) == ["⚖️ 张主席修改了帮扶慰问规则：\n" + line], typed
    assert await this_years_policy(bot) == (None, 200000, 8000000, True)

    # Nothing changed: the chair is told, the group is not.
    before = len(bot.telegram.calls)
    assert "没有变化" in await replies(bot, CHAIR, "/aidrules limit 2000")
    assert group_posts(bot, before) == []
    # Nonsense still gets the usage, and is not posted.
    assert (await replies(bot, CHAIR, "/aidrules standard 住院 300 99999")).startswith(
        "次数上限要写 0 到 100 的整数"
    )
    assert group_posts(bot, before) == []


# ---- 3. /aidcorrect -----------------------------------------------------------------------


async def paid_case(bot: BotHarness, amount: str = "250") -> AidCase:
    """MEMBER's hospital case, approved by COMMITTEE and paid by the treasurer."""
    case = await ask(bot, amount=amount)
    await approve_as(bot, COMMITTEE, case, int(amount) * 100)
    if int(amount) * 100 > 100000:
        await approve_as(bot, SECOND, case, int(amount) * 100)
    await pay(bot, case)
    assert (await reload(bot, case.id or 0)).status == Status.PAID
    return case


async def ledger(bot: BotHarness, case_id: int) -> list[tuple[str, int | None, int, str | None]]:
    """(kind, amount, actor member id, note) of a case's ledger rows, oldest first."""
    async with bot.db() as session:
        rows = (
            await session.exec(
                select(AidLedgerEntry)
                .where(AidLedgerEntry.case_id == case_id)
                .order_by(col(AidLedgerEntry.id))
            )
        ).all()
    return [(row.kind, row.amount, row.actor_member_id, row.note) for row in rows]


async def paid_now(bot: BotHarness, case_id: int) -> int:
    """Fen paid for a case, corrections counted."""
    async with bot.db() as session:
        return await net_paid(session, case_id=case_id)


async def test_a_correction_is_bounded_by_the_maximum_and_never_below_nothing(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    case = await paid_case(bot)
    cid, number = case.id or 0, case.number
    rows = await ledger(bot, cid)

    # The hole: +999999 was accepted.
    for typed in ("+999999", "-999999", "+50000.01"):
        said = await replies(bot, TREASURER, f"/aidcorrect {number} {typed} 补发")
        assert AMOUNT_ABSURD in said, typed
    said = await replies(bot, TREASURER, f"/aidcorrect {number} -250.01 多发")
    assert "更正后发放金额会小于零（目前已发放 ¥250）" in said
    assert await ledger(bot, cid) == rows

    # Up to the single-approval limit the treasurer's correction counts at once.
    said = await replies(bot, TREASURER, f"/aidcorrect {number} -250 全部退回")
    assert f"已记入更正：{number} -250 元" in said
    assert await paid_now(bot, cid) == 0
    assert (await ledger(bot, cid))[-1][:2] == ("correction", -25000)


async def test_a_correction_above_the_limit_waits_for_the_chair_or_a_second_member(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    await add_chair(bot)
    await make_member(
        bot.db,
        org_id=bot.org_id,
        person=BOTH_ROLES,
        name="孙委员",
        roles=[Role.COMMITTEE, Role.TREASURER],
    )
    case = await paid_case(bot)
    cid, number = case.id or 0, case.number
    treasurer = (await actor_of(bot, TREASURER)).member.id
    committee = (await actor_of(bot, COMMITTEE)).member.id
    reason = "补发手术自付部分，发票见附件"
    start = len(bot.telegram.calls)

    said = await replies(bot, TREASURER, f"/aidcorrect {number} +2000 {reason}")
    assert f"已提交更正：{number} +2,000 元。超过单人审批额度 ¥1,000" in said
    asked = (await ledger(bot, cid))[-1]
    assert asked == ("correction_ask", 200000, treasurer, reason)
    assert await paid_now(bot, cid) == 25000  # not counted yet
    [posted] = group_posts(bot, start)
    assert f"✏️ 更正申请：{number} 住院慰问" in posted and "王*" in posted
    assert "更正：+2,000 元（目前已发放 ¥250）" in posted and "提出人：钱会计" in posted
    assert reason not in posted and MEMBER_NAME not in posted
    async with bot.db() as session:
        entry = (
            await session.exec(select(AidLedgerEntry).order_by(col(AidLedgerEntry.id).desc()))
        ).first()
    assert entry is not None
    agree = pack("ak", "fix", "ok", cid, entry.id or 0)
    assert card(bot).button_data("同意更正 +2,000") == agree

    # While it waits, nobody records another correction of the case.
    said = await replies(bot, TREASURER, f"/aidcorrect {number} -10 多发")
    assert f"{number} 已有一笔更正（+2,000 元）在等主席或另一位委员同意" in said
    said = await replies(bot, CHAIR, f"/aidcorrect {number} -10 多发")
    assert "已有一笔更正" in said
    # Not the treasurer who asked (not on the committee), not the member, not a colleague.
    for person in (TREASURER, MEMBER, COLLEAGUE):
        await bot.press(person, agree, chat=GROUP)
        assert alert(bot) == NOT_COMMITTEE
    # Forged: another entry of the case, a case that does not exist.
    await bot.press(COMMITTEE, pack("ak", "fix", "ok", cid, (entry.id or 0) - 1), chat=GROUP)
    assert "这笔更正已经处理过了" in alert(bot)
    await bot.press(COMMITTEE, pack("ak", "fix", "ok", 99999, entry.id or 0), chat=GROUP)
    assert alert(bot) == "找不到这个事项。"
    assert await paid_now(bot, cid) == 25000

    await bot.press(COMMITTEE, agree, chat=GROUP)
    assert f"已同意，更正已记入 {number} 的台账" in alert(bot)
    assert (await ledger(bot, cid))[-1] == ("correction", 200000, committee, reason)
    assert await paid_now(bot, cid) == 225000
    edited = group_edit(bot)
    assert "✅ 刘委员已同意，已记入台账。" in edited
    buttons = bot.telegram.last(COMMITTEE_GROUP_ID, method="editMessageText").buttons()
    assert [data for _label, data in buttons] == [pack("ak", "open", cid)]
    told = bot.telegram.last(TREASURER.id).text
    assert f"您提出的更正 {number} +2,000 元已由刘委员同意" in told
    # Pressed again (or by another member): already dealt with, counted once.
    await bot.press(SECOND, agree, chat=GROUP)
    assert "这笔更正已经处理过了" in alert(bot)
    assert await paid_now(bot, cid) == 225000

    # Dropped: nothing counts, and the asker is told.
    await bot.say(TREASURER, f"/aidcorrect {number} -1500 重复发放")
    async with bot.db() as session:
        entry = (
            await session.exec(select(AidLedgerEntry).order_by(col(AidLedgerEntry.id).desc()))
        ).first()
    assert entry is not None and entry.kind == "correction_ask"
    await bot.press(SECOND, pack("ak", "fix", "no", cid, entry.id or 0), chat=GROUP)
    assert f"已作废，{number} 的台账没有变化" in alert(bot)
    assert (await ledger(bot, cid))[-1][:2] == ("correction_drop", -150000)
    assert await paid_now(bot, cid) == 225000
    assert "未获陈委员同意" in bot.telegram.last(TREASURER.id).text
    assert "✖️ 陈委员未同意，已作废" in group_edit(bot)

    # One who asks cannot also agree, even on the committee; the chair's own word is enough.
    await bot.say(BOTH_ROLES, f"/aidcorrect {number} +1200 补发护工费")
    async with bot.db() as session:
        entry = (
            await session.exec(select(AidLedgerEntry).order_by(col(AidLedgerEntry.id).desc()))
        ).first()
    assert entry is not None and entry.kind == "correction_ask"
    await bot.press(BOTH_ROLES, pack("ak", "fix", "ok", cid, entry.id or 0), chat=GROUP)
    assert "这笔更正是您提出的，需要主席或另一位委员同意" in alert(bot)
    await bot.press(CHAIR, pack("ak", "fix", "ok", cid, entry.id or 0), chat=GROUP)
    assert await paid_now(bot, cid) == 345000
    said = await replies(bot, CHAIR, f"/aidcorrect {number} -1200 重复")
    assert f"已记入更正：{number} -1,200 元" in said
    assert await paid_now(bot, cid) == 225000
    # The books count only what was agreed.
    await bot.say(TREASURER, "/aidbooks")
    assert "住院慰问：1 件，¥2,250" in bot.telegram.last(TREASURER.id).text
    for sent in group_dump(bot):
        assert reason not in sent and MEMBER_NAME not in sent


# ---- 4. ledger rows cannot be deleted ------------------------------------------------------


async def test_ledger_rows_cannot_be_deleted_in_the_database(bot: BotHarness) -> None:
    await setup_school(bot)
    case = await ask(bot)
    cid = case.id or 0
    await approve_as(bot, COMMITTEE, case, 25000)
    kinds = await ledger_kinds(bot, cid)
    assert kinds == ["requested", "approval", "approved"]

    async with bot.db() as session:
        row = (
            await session.exec(select(AidLedgerEntry).where(AidLedgerEntry.case_id == cid))
        ).first()
        assert row is not None
        await session.delete(row)
        with pytest.raises(DBAPIError):
            await session.commit()
    async with bot.db() as session:
        with pytest.raises(DBAPIError):
            await session.exec(delete(AidLedgerEntry).where(col(AidLedgerEntry.case_id) == cid))
    async with bot.app.state.engine.connect() as connection:
        with pytest.raises(DBAPIError):
            await connection.execute(text("DELETE FROM aid_ledger"))
    assert await ledger_kinds(bot, cid) == kinds
    # Adding rows still works.
    await pay(bot, case)
    assert await ledger_kinds(bot, cid) == [*kinds, "paid"]


def readme_role_sql() -> str:
    """The SQL block of the README that grants the bot's PostgreSQL role."""
    found = re.search(r"<!-- bot-role -->\s*```sql\n(.*?)```", README.read_text(), re.S)
    assert found, "README lost its bot-role SQL block"
    return found.group(1)


async def test_the_readme_role_for_the_bot_cannot_delete_or_truncate_the_ledger(
    bot: BotHarness,
) -> None:
    url = bot.app.state.settings.database_url
    if is_sqlite(url):
        pytest.skip("a PostgreSQL role: runs on PostgreSQL")
    await setup_school(bot)
    await ask(bot)
    suffix = secrets.token_hex(4)
    owner, app = f"unionbot_owner_{suffix}", f"unionbot_app_{suffix}"
    sql = readme_role_sql().replace("unionbot_owner", owner).replace("unionbot_app", app)
    statements = [part.strip() for part in re.sub(r"--[^\n]*", "", sql).split(";") if part.strip()]
    # Everything in one transaction that is rolled back: no role outlives the test.
    async with bot.app.state.engine.connect() as connection:
        transaction = await connection.begin()
        try:
            await connection.execute(text(f"CREATE ROLE {owner} NOLOGIN"))
            await connection.execute(text(f"CREATE ROLE {app} NOLOGIN"))
            for statement in statements:
                await connection.execute(text(statement))
            privileges = (
                await connection.execute(
                    text(
                        "SELECT p, has_table_privilege(:role, 'aid_ledger', p) FROM "
                        "unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) p"
                    ),
                    {"role": app},
                )
            ).all()
            assert dict(privileges) == {
                "SELECT": True,
                "INSERT": True,
                "UPDATE": False,
                "DELETE": False,
                "TRUNCATE": False,
            }
            elsewhere = (
                await connection.execute(
                    text("SELECT has_table_privilege(:role, 'desk_card', 'DELETE')"),
                    {"role": app},
                )
            ).scalar_one()
            assert elsewhere is True  # the bot still deletes what it may
            await connection.execute(text(f"SET ROLE {app}"))
            assert (
                await connection.execute(text("SELECT count(*) FROM aid_ledger"))
            ).scalar_one() == 1
            for attempt in ("DELETE FROM aid_ledger", "TRUNCATE aid_ledger"):
                savepoint = await connection.begin_nested()
                with pytest.raises(DBAPIError, match="permission denied"):
                    await connection.execute(text(attempt))
                await savepoint.rollback()
        finally:
            await transaction.rollback()


# ---- 5. approvals so far on the card ------------------------------------------------------


async def test_the_card_shows_the_approvals_so_far_with_the_deciders_names(
    bot: BotHarness,
) -> None:
    await setup_school(bot)
    await add_chair(bot)
    year = today(bot).year
    case = await ask(bot, amount="1500")
    cid = case.id or 0
    # SECOND keeps a private copy of the card.
    await bot.press(SECOND, card(bot).button_data("私下查看"), chat=GROUP)

    await approve_as(bot, COMMITTEE, case, 150000)
    assert (await reload(bot, cid)).status == Status.OPEN
    edited = group_edit(bot)
    assert "状态：待审核" in edited and "委员同意 1/2：刘委员（¥1,500）" in edited
    private = bot.telegram.last(SECOND.id, method="editMessageText").text
    assert "委员同意 1/2：刘委员（¥1,500）" in private

    await approve_as(bot, SECOND, case, 150000)
    assert (await reload(bot, cid)).status == Status.APPROVED
    edited = group_edit(bot)
    assert "批准人：刘委员、陈委员" in edited and f"批准金额：¥1,500（计入 {year} 年）" in edited
    assert "委员同意 1/2" not in edited

    # The case: two approvals of ¥3,000 that still need the chair.
    hardship = await ask(bot, aid_type="hardship", amount="3000", story="家中两人重病。")
    await approve_as(bot, COMMITTEE, hardship, 300000)
    await approve_as(bot, SECOND, hardship, 300000)
    edited = group_edit(bot)
    assert "状态：待审核" in edited
    assert "委员同意 2：刘委员、陈委员（¥3,000），还需主席批准" in edited
    await approve_as(bot, CHAIR, hardship, 300000)
    assert "批准人：刘委员、陈委员、张主席" in group_edit(bot)
    for sent in group_dump(bot):
        assert MEMBER_NAME not in sent and STORY not in sent
