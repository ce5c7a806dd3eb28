"""The calendar of a union year (issue 18): the committee's tasks ahead of 三八, 教师节 and 重阳,
the term plan and summary from the term settings, 民主评议, 师德建设月 and the monthly birthday
list; an organization started again gets them once; /calendar shows them in every language.

Time is always given (Asia/Shanghai); nothing here reads the clock except /calendar's own
"next 60 days", which is asserted only on what appears in any 60 days (monthly entries).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from lunar_python import Lunar
from sqlmodel import col, delete, select

from bot.callback import pack
from bot.i18n import I18n
from bot.settings import Settings
from models.calendar import CalendarEntry, list_entries
from models.members import Member, MemberStatus, Role
from models.organizations import bind_committee_chat
from scheduler.calendar_defaults import DEFAULTS, YEAR_END_AID
from scheduler.calendar_jobs import calendar_of_year, fire, reconcile, terms_of, upcoming
from scheduler.dates import HOLIDAYS, RuleError, Terms, next_occurrence, occurrences, validate_rule
from scheduler.outbox import OutboxSender, Pace
from scheduler.rule_text import HOLIDAY_KEYS, describe_rule, parse_rule_text
from tests.support.factories import make_member
from tests.support.harness import COMMITTEE_GROUP_ID, BotHarness, running_bot
from tests.support.updates import Person

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YEARS_EVE = datetime(2026, 12, 31, 23, 0, tzinfo=SHANGHAI)
DEFAULT_TERMS = Terms.from_month_days("09-01", "02-20")  # the settings' defaults
NEW_KEYS = (
    "womens_day_plan",
    "teachers_day_plan",
    "double_ninth_visits",
    "term_plan",
    "term_summary",
    "democratic_review_june",
    "democratic_review_november",
    "ethics_month",
    "birthday_list",
)


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A moment in Shanghai."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def rule_of(key: str) -> dict[str, Any]:
    """A default entry's rule."""
    return next(dict(item.rule) for item in DEFAULTS if item.key == key)


@pytest.fixture
async def scheduler() -> AsyncIterator[AsyncIOScheduler]:
    """A scheduler in memory, started paused: jobs are kept as in production, none run."""
    paused = AsyncIOScheduler(jobstores={"default": MemoryJobStore()}, timezone=SHANGHAI)
    paused.start(paused=True)
    try:
        yield paused
    finally:
        paused.shutdown(wait=False)


async def entries_by_key(bot: BotHarness) -> dict[str, CalendarEntry]:
    """The organization's entries by key (asserting each key is there once)."""
    async with bot.db() as session:
        entries = await list_entries(session, org_id=bot.org_id)
    keys = [item.key for item in entries]
    assert len(keys) == len(set(keys)), keys
    return {item.key: item for item in entries}


async def planned_runs(bot: BotHarness, scheduler: AsyncIOScheduler) -> dict[str, datetime]:
    """key -> when its job runs, after planning from New Year's Eve 2026."""
    runtime = bot.app.state.runtime
    assert runtime is not None
    await reconcile(runtime, scheduler, now=NEW_YEARS_EVE)
    runs: dict[str, datetime] = {}
    for job in scheduler.get_jobs():
        assert isinstance(job.trigger, DateTrigger)
        runs[job.name] = job.trigger.run_date
    return runs


# ---- dates of 2027 ------------------------------------------------------------------------


def test_double_ninth_2027_is_8_october_by_lunar_python() -> None:
    solar = Lunar.fromYmd(2027, 9, 9).getSolar()
    assert date(solar.getYear(), solar.getMonth(), solar.getDay()) == date(2027, 10, 8)
    assert occurrences(rule_of("double_ninth_visits"), 2027) == [date(2027, 9, 24)]


async def test_each_new_task_is_planned_for_its_day_in_2027(
    bot: BotHarness, scheduler: AsyncIOScheduler
) -> None:
    runs = await planned_runs(bot, scheduler)

    assert {key: runs[key] for key in (*NEW_KEYS, "year_end_aid")} == {
        "birthday_list": sh(2027, 1, 1, 9),
        "term_summary": sh(2027, 2, 13, 9),  # a week before term 2 starts on 02-20
        "term_plan": sh(2027, 2, 20, 9),
        "womens_day_plan": sh(2027, 2, 22, 9),  # two weeks before 8 March
        "democratic_review_june": sh(2027, 6, 1, 9),
        "teachers_day_plan": sh(2027, 8, 27, 9),  # two weeks before 10 September
        "ethics_month": sh(2027, 9, 1, 9),
        "double_ninth_visits": sh(2027, 9, 24, 9),  # two weeks before 重阳, 8 October
        "democratic_review_november": sh(2027, 11, 1, 9),
        # Eight weeks before Spring Festival 2028 (26 January); 2026's (12 December) has passed.
        "year_end_aid": sh(2027, 12, 1, 9),
    }


async def test_the_year_lists_both_terms_of_each_term_task(bot: BotHarness) -> None:
    entries = list((await entries_by_key(bot)).values())

    found = calendar_of_year(entries, 2027, terms=DEFAULT_TERMS)

    def days(key: str) -> list[date]:
        return [day for day, item in found if item.key == key]

    assert days("term_plan") == [date(2027, 2, 20), date(2027, 9, 1)]
    assert days("term_summary") == [date(2027, 2, 13), date(2027, 8, 25)]
    assert len(days("birthday_list")) == 12
    # Without the terms (a caller that knows none) a term rule has no dates, like a lost base.
    assert "term_plan" not in {item.key for _, item in calendar_of_year(entries, 2027)}


def test_year_end_aid_follows_spring_festival_not_the_solar_calendar() -> None:
    # Spring Festival: 6 Feb 2027, 26 Jan 2028, 13 Feb 2029.
    assert occurrences(YEAR_END_AID, 2026) == [date(2026, 12, 12)]
    assert occurrences(YEAR_END_AID, 2027) == [date(2027, 12, 1)]
    assert occurrences(YEAR_END_AID, 2028) == [date(2028, 12, 19)]


# ---- the term rule ------------------------------------------------------------------------


def test_a_term_rule_reads_its_terms_from_what_it_is_given() -> None:
    terms = Terms.from_month_days("08-28", "03-01")
    first = {"type": "term_start", "term": 1, "days": -7}
    assert occurrences(first, 2027, terms=terms) == [date(2027, 8, 21)]
    assert occurrences(first, 2027, terms=DEFAULT_TERMS) == [date(2027, 8, 25)]
    # A shift across New Year: three weeks after 20 December is next January.
    late = Terms.from_month_days("12-20", "06-01")
    assert occurrences({"type": "term_start", "term": 1, "days": 21}, 2027, terms=late) == [
        date(2027, 1, 10)
    ]
    assert next_occurrence(
        {"type": "term_start", "days": 0}, date(2027, 3, 2), terms=DEFAULT_TERMS
    ) == date(2027, 9, 1)
    assert next_occurrence({"type": "term_start", "days": 0}, date(2027, 3, 2)) is None


@pytest.mark.parametrize(
    "rule",
    [
        {"type": "term_start"},  # days missing
        {"type": "term_start", "term": 3, "days": 0},
        {"type": "term_start", "term": 0, "days": 0},
        {"type": "term_start", "term": True, "days": 0},
        {"type": "term_start", "term": "1", "days": 0},
        {"type": "term_start", "days": 400},
        {"type": "term_start", "days": 1.5},
        {"type": "term_start", "days": 0, "base": "spring_festival"},
    ],
)
def test_a_malformed_term_rule_is_refused(rule: dict[str, object]) -> None:
    with pytest.raises(RuleError):
        validate_rule(rule)


@pytest.mark.parametrize("bad", ["02-30", "13-01", "02-29"])
def test_terms_refuse_a_day_that_is_not_in_every_year(bad: str) -> None:
    with pytest.raises(RuleError, match="not a day of every year"):
        Terms.from_month_days(bad, "02-20")


async def test_term_tasks_follow_changed_term_settings(
    settings: Settings, scheduler: AsyncIOScheduler
) -> None:
    changed = settings.model_copy(update={"term1_start": "08-28", "term2_start": "03-01"})
    async with running_bot(changed) as bot:
        runs = await planned_runs(bot, scheduler)
        entries = await entries_by_key(bot)
        runtime = bot.app.state.runtime
        assert runtime is not None
        found = await upcoming(runtime, start=date(2027, 1, 1), days=365)

    assert runs["term_summary"] == sh(2027, 2, 22, 9)
    assert runs["term_plan"] == sh(2027, 3, 1, 9)
    assert [day for day, item in found if item.key == "term_plan"] == [
        date(2027, 3, 1),
        date(2027, 8, 28),
    ]
    assert [day for day, item in found if item.key == "term_summary"] == [
        date(2027, 2, 22),
        date(2027, 8, 21),
    ]
    # Nothing about the dates was stored: the rule is the same as under the default settings.
    assert entries["term_plan"].rule == {"type": "term_start", "days": 0}
    assert terms_of(changed) == Terms((8, 28), (3, 1))


def test_unionbot_calendar_show_prints_the_terms_of_the_settings(
    clean_database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.cli import main

    monkeypatch.setenv("DATABASE_URL", clean_database)
    monkeypatch.setenv("DEFAULT_LANGUAGE", "en")
    monkeypatch.setenv("TERM1_START", "08-28")
    monkeypatch.setenv("TERM2_START", "03-01")
    monkeypatch.delenv("ORGANIZATION_NAME", raising=False)
    monkeypatch.chdir(tmp_path)

    assert main(["calendar", "show", "--year", "2027"]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert "2027-02-22 09:00  The term's summary" in lines
    assert "2027-03-01 09:00  The term's plan" in lines
    assert "2027-08-28 09:00  The term's plan" in lines
    assert "2027-09-24 09:00  Double Ninth: visits to retirees" in lines


# ---- the birthday list --------------------------------------------------------------------


async def member(
    bot: BotHarness,
    telegram_id: int | None,
    name: str,
    *,
    department: str = "语文组",
    status: MemberStatus = MemberStatus.ACTIVE,
    roles: tuple[Role, ...] = (),
    language: str = "zh-Hans",
    birthday: tuple[int, int, int] | None = None,
) -> Member:
    """A member with a birthday (year, month, day) or none."""
    created = await make_member(
        bot.db,
        org_id=bot.org_id,
        person=Person(telegram_id, name) if telegram_id is not None else None,
        name=name,
        department=department,
        roles=roles,
        status=status,
        language=language,
    )
    if birthday is None:
        return created
    async with bot.db() as session:
        stored = await session.get(Member, created.id)
        assert stored is not None
        stored.birth_year, stored.birth_month, stored.birth_day = birthday
        session.add(stored)
        await session.commit()
        return stored


async def school_of_birthdays(bot: BotHarness) -> None:
    """March: a teacher on the bot, a retiree on the roster only; others who must not show."""
    await member(bot, 4001, "刘委员", roles=(Role.COMMITTEE,), birthday=(1980, 7, 2))
    await member(bot, None, "陈建国", department="后勤组", status=MemberStatus.INVITED,
                 birthday=(1962, 3, 20))  # fmt: skip
    await member(bot, 4002, "王芳", birthday=(1985, 3, 5))
    await member(bot, 4003, "赵强", department="", birthday=(1991, 3, 31))
    await member(bot, 4004, "钱七", birthday=(1990, 4, 3))  # April
    await member(bot, 4005, "孙离校", status=MemberStatus.INACTIVE, birthday=(1970, 3, 9))
    await member(bot, 4006, "周申请", status=MemberStatus.PENDING, birthday=(1993, 3, 10))
    await member(bot, 4007, "吴未填")  # no birthday on file


async def delivered(bot: BotHarness, now: datetime) -> dict[int, list[str]]:
    """Drain the outbox at `now`; texts each chat received."""
    runtime = bot.app.state.runtime
    assert runtime is not None
    pace = Pace(per_second=1000, private_chat_interval=0, group_interval=0)
    sender = OutboxSender(
        db=bot.db, bot=bot.app.bot, quiet=runtime.quiet, pace=pace, now=lambda: now
    )
    await sender.drain()
    by_chat: dict[int, list[str]] = {}
    for call in bot.telegram.sent():
        by_chat.setdefault(call.chat_id or 0, []).append(call.text)
    return by_chat


async def test_the_birthday_list_on_1_march_reaches_the_group_with_roster_members(
    bot: BotHarness,
) -> None:
    async with bot.db() as session:
        await bind_committee_chat(session, org_id=bot.org_id, chat_id=COMMITTEE_GROUP_ID)
    await school_of_birthdays(bot)
    runtime = bot.app.state.runtime
    assert runtime is not None
    entry = (await entries_by_key(bot))["birthday_list"]

    broadcast = await fire(runtime, entry, date(2027, 3, 1), now=sh(2027, 3, 1, 9))
    assert broadcast is not None and broadcast.total == 1

    assert await delivered(bot, sh(2027, 3, 1, 9)) == {
        COMMITTEE_GROUP_ID: [
            "🎂 本月会员生日名单如下，请准备生日贺卡和蛋糕券，送到每位会员手中。\n\n"
            "3月过生日的会员共 3 人：\n"
            "· 3月5日　王芳　语文组\n"
            "· 3月20日　陈建国　后勤组（未加入机器人，收不到生日祝福）\n"
            "· 3月31日　赵强\n"
            "另有 1 位会员没有登记生日，不在名单里。"
        ]
    }
    text = bot.telegram.last(COMMITTEE_GROUP_ID).text
    for year in ("1962", "1985", "1991"):
        assert year not in text
    assert "岁" not in text
    # Once per occurrence, however often the job runs.
    assert await fire(runtime, entry, date(2027, 3, 1), now=sh(2027, 3, 1, 10)) is None


async def test_a_month_without_birthdays_says_so(bot: BotHarness) -> None:
    async with bot.db() as session:
        await bind_committee_chat(session, org_id=bot.org_id, chat_id=COMMITTEE_GROUP_ID)
    await school_of_birthdays(bot)
    runtime = bot.app.state.runtime
    assert runtime is not None
    entry = (await entries_by_key(bot))["birthday_list"]

    await fire(runtime, entry, date(2027, 5, 1), now=sh(2027, 5, 1, 9))

    assert (await delivered(bot, sh(2027, 5, 1, 9)))[COMMITTEE_GROUP_ID] == [
        "🎂 本月会员生日名单如下，请准备生日贺卡和蛋糕券，送到每位会员手中。\n\n"
        "5月没有会员过生日。\n"
        "另有 1 位会员没有登记生日，不在名单里。"
    ]


async def test_without_a_group_each_committee_member_reads_the_list_in_their_language(
    bot: BotHarness,
) -> None:
    await member(bot, 4101, "Lee", roles=(Role.COMMITTEE,), language="en", birthday=(1979, 1, 2))
    await member(bot, 4102, "林委員", roles=(Role.COMMITTEE,), language="zh-Hant")
    await member(bot, None, "陈建国", department="后勤组", status=MemberStatus.INVITED,
                 birthday=(1962, 3, 20))  # fmt: skip
    runtime = bot.app.state.runtime
    assert runtime is not None
    entry = (await entries_by_key(bot))["birthday_list"]

    await fire(runtime, entry, date(2027, 3, 1), now=sh(2027, 3, 1, 9))
    received = await delivered(bot, sh(2027, 3, 1, 9))

    assert received[4101] == [
        "🎂 This month's members' birthdays are below: please prepare the cards and cake "
        "vouchers and see that each reaches its member.\n\n"
        "Birthdays in March (1):\n"
        "· 20 March: 陈建国, 后勤组 (not on the bot: gets no birthday greeting from it)\n"
        "Not listed, with no birthday on file: 1."
    ]
    assert received[4102][0].endswith(
        "3月過生日的會員共 1 人：\n"
        "· 3月20日　陈建国　后勤组（未加入機器人，收不到生日祝福）\n"
        "另有 1 位會員沒有登記生日，不在名單裡。"
    )


# ---- an organization started again --------------------------------------------------------


async def test_an_existing_organization_started_again_gets_the_new_entries_once(
    settings: Settings,
) -> None:
    async with running_bot(settings) as bot:
        org_id = bot.org_id
        # Make it look like an organization seeded before these tasks existed.
        async with bot.db() as session:
            await session.exec(delete(CalendarEntry).where(col(CalendarEntry.key).in_(NEW_KEYS)))
            year_end = (
                await session.exec(
                    select(CalendarEntry).where(
                        CalendarEntry.organization_id == org_id,
                        CalendarEntry.key == "year_end_aid",
                    )
                )
            ).one()
            year_end.rule = {"type": "solar", "month": 12, "day": 1}
            session.add(year_end)
            await session.commit()
        assert not set(NEW_KEYS) & set(await entries_by_key(bot))

    async with running_bot(settings) as bot:
        again = await entries_by_key(bot)
    assert list(again) == [item.key for item in DEFAULTS]
    assert again["year_end_aid"].rule == YEAR_END_AID  # the old default moved to the new one
    for key in NEW_KEYS:
        added = again[key]
        assert (added.kind, added.audience) == ("task", {"type": "committee"})
        assert set(added.titles) == set(added.messages) == {"zh-Hans", "zh-Hant", "en"}

    # A third start adds nothing, and a year-end rule nobody's default leaves it alone.
    async with running_bot(settings) as bot, bot.db() as session:
        stored = await session.get(CalendarEntry, again["year_end_aid"].id)
        assert stored is not None
        stored.rule = {"type": "solar", "month": 12, "day": 10}
        session.add(stored)
        await session.commit()
    async with running_bot(settings) as bot:
        third = await entries_by_key(bot)
    assert [item.id for item in third.values()] == [item.id for item in again.values()]
    assert third["year_end_aid"].rule == {"type": "solar", "month": 12, "day": 10}


# ---- /calendar in every language ----------------------------------------------------------

READERS = {
    "zh-Hans": Person(4201, "刘", "zh-hans"),
    "zh-Hant": Person(4202, "林", "zh-hant"),
    "en": Person(4203, "Lee", "en"),
}
SHOWN = {
    "zh-Hans": ("本月会员生日名单", "日期：每学期开学前7天", "日期：重阳节前14天", "日期：每月1日"),
    "zh-Hant": ("本月會員生日名單", "日期：每學期開學前7天", "日期：重陽節前14天", "日期：每月1日"),
    "en": (
        "This month's birthdays",
        "Date: 7 days before the first day of each term",
        "Date: 14 days before the Double Ninth Festival",
        "Date: every month on day 1",
    ),
}


@pytest.mark.parametrize("language", list(READERS))
async def test_calendar_shows_the_new_tasks_and_their_rules(bot: BotHarness, language: str) -> None:
    reader = READERS[language]
    await make_member(
        bot.db,
        org_id=bot.org_id,
        person=reader,
        name=reader.first_name,
        roles=[Role.COMMITTEE],
        language=language,
    )
    entries = await entries_by_key(bot)
    listed, summary_rule, visits_rule, monthly_rule = SHOWN[language]

    await bot.say(reader, "/calendar")
    listing = bot.telegram.last(reader.id)
    # The monthly list falls in any 60 days, whatever day the test runs.
    assert listed in listing.text
    titles = [label for label, _data in listing.buttons()]
    for key in NEW_KEYS:
        assert "✓ " + entries[key].titles[language] in titles

    for key, rule in (
        ("term_summary", summary_rule),
        ("double_ninth_visits", visits_rule),
        ("birthday_list", monthly_rule),
    ):
        await bot.press(reader, pack("cal", "open", entries[key].id or 0))
        card = bot.telegram.last(reader.id).text
        assert entries[key].titles[language] in card
        assert rule in card.splitlines()


@pytest.mark.parametrize(
    ("typed", "rule"),
    [
        ("开学", {"type": "term_start", "days": 0}),
        ("开学-7", {"type": "term_start", "days": -7}),
        ("每学期开学 - 7 天", {"type": "term_start", "days": -7}),
        ("開學+3", {"type": "term_start", "days": 3}),
        ("第一学期开学+3", {"type": "term_start", "term": 1, "days": 3}),
        ("第2學期開學-14", {"type": "term_start", "term": 2, "days": -14}),
        ("term start -7", {"type": "term_start", "days": -7}),
        ("Term 1 start", {"type": "term_start", "term": 1, "days": 0}),
    ],
)
def test_a_term_start_is_typed_in_each_language(typed: str, rule: dict[str, object]) -> None:
    assert parse_rule_text(typed) == rule


@pytest.mark.parametrize("typed", ["第三学期开学", "学期开学", "开学-400", "term 3 start"])
def test_an_impossible_term_start_is_refused(typed: str) -> None:
    with pytest.raises(RuleError):
        parse_rule_text(typed)


async def test_a_custom_task_before_each_term_is_added_in_chat(bot: BotHarness) -> None:
    chair = Person(4301, "刘", "zh-hans")
    await make_member(
        bot.db, org_id=bot.org_id, person=chair, name="刘委员", roles=[Role.COMMITTEE]
    )

    await bot.say(chair, "/calendar")
    await bot.press(chair, pack("cal", "add", 0))
    await bot.press(chair, pack("cal", "kind", "task"))
    await bot.say(chair, "开学-3")
    await bot.say(chair, "9:00")
    await bot.say(chair, "开学前检查")
    await bot.say(chair, "请检查各办公室的安全情况。")
    preview = bot.telegram.last(chair.id)
    # The next day is computed from the term settings (whatever day the test runs).
    assert "下次：—" not in preview.text and "下次：20" in preview.text
    await bot.press(chair, preview.button_data("确认"))

    async with bot.db() as session:
        [stored] = (
            await session.exec(
                select(CalendarEntry).where(col(CalendarEntry.key).startswith("custom_"))
            )
        ).all()
    assert stored.rule == {"type": "term_start", "days": -3}
    await bot.press(chair, pack("cal", "open", stored.id or 0))
    assert "日期：每学期开学前3天" in bot.telegram.last(chair.id).text.splitlines()


def test_every_holiday_an_offset_may_start_from_has_a_name() -> None:
    assert set(HOLIDAY_KEYS) == set(HOLIDAYS)


def test_every_rule_shape_is_shown_in_each_language() -> None:
    i18n = I18n("zh-Hans")
    hans, hant, en = (i18n.get(language) for language in ("zh-Hans", "zh-Hant", "en"))
    assert describe_rule(hans, {"type": "lunar", "month": 12, "day": 23}) == "每年农历腊月廿三"
    assert describe_rule(hant, {"type": "lunar", "month": 12, "day": 23}) == "每年農曆臘月廿三"
    assert describe_rule(hans, {"type": "nth_weekday", "month": 5, "weekday": 6, "n": 2}) == (
        "每年5月第2个星期日"
    )
    assert describe_rule(en, {"type": "nth_weekday", "month": 5, "weekday": 6, "n": -1}) == (
        "every year on the last Sunday of May"
    )
    assert describe_rule(hant, {"type": "term_start", "term": 2, "days": 3}) == "第二學期開學後3天"
    assert describe_rule(en, {"type": "term_start", "term": 1, "days": 0}) == (
        "on the first day of term 1 (autumn)"
    )
    assert describe_rule(hans, {"type": "offset", "base": "spring_festival", "days": -1}) == (
        "春节前1天"
    )
    assert describe_rule(
        hans, {"type": "offset", "base": "entry:visits", "days": 2}, title_of={"visits": "走访"}.get
    ) == ("走访后2天")
    assert describe_rule(en, {"type": "daily"}) == "every day"
    assert describe_rule(hans, {"type": "term_start", "term": 5, "days": 0}) == "—"
