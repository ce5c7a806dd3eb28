"""The 月报: the `monthly_report` task fired on 1 December carries November's figures to the
committee group, with nothing private in it."""

from __future__ import annotations

from datetime import date, datetime

from models.organizations import bind_committee_chat
from models.outbox import BroadcastKind, messages_of
from scheduler.calendar_defaults import DEFAULTS
from scheduler.calendar_jobs import fire, occurrence_key
from tests.support.harness import COMMITTEE_GROUP_ID, BotHarness
from tests.support.seed_year import ZONE, build_year
from tests.test_calendar import entry, runtime_of

SECRET = b"test-secret-key-0123456789abcdef"


def test_the_monthly_report_is_a_default_committee_task() -> None:
    (default,) = [item for item in DEFAULTS if item.key == "monthly_report"]
    assert default.rule == {"type": "monthly", "day": 1}
    assert default.time_of_day == "09:00"
    assert default.audience.value == "committee"


async def test_on_the_first_the_committee_gets_last_months_figures(bot: BotHarness) -> None:
    seed = await build_year(bot.db, org_id=bot.org_id, secret=SECRET)
    async with bot.db() as session:
        await bind_committee_chat(session, org_id=bot.org_id, chat_id=COMMITTEE_GROUP_ID)
        await session.commit()
    monthly = await entry(bot, "monthly_report")
    broadcast = await fire(
        runtime_of(bot), monthly, date(2026, 12, 1), now=datetime(2026, 12, 1, 9, tzinfo=ZONE)
    )
    assert broadcast is not None and broadcast.kind == BroadcastKind.TASK
    async with bot.db() as session:
        (message,) = await messages_of(
            session, key=occurrence_key(monthly.id or 0, date(2026, 12, 1))
        )
    assert message.chat_id == COMMITTEE_GROUP_ID
    text = message.text
    assert text.startswith("上月工作数据如下，请委员会审阅")
    assert "📊 实验中学工会2026年11月工作数据" in text
    assert "统计期间：2026年11月1日至2026年11月30日" in text
    assert "· 看望住院教职工 1 人次，¥250" in text  # the one hospital visit paid on 10 November
    assert "· 困难职工档案：在档 6 户，新建档 6 户，撤档 0 户" in text
    assert "· 收到意见建议 1 条，其中匿名 0 条" in text
    assert "本期没有举办活动" in text  # November's only activity was cancelled
    names = {member.real_name for member in seed.members}
    assert not [name for name in names if name in text]
    for private in ("住院治疗", "家庭困难", "食堂饭菜"):  # aid descriptions, suggestion bodies
        assert private not in text
