"""The union calendar: the default entries, planning each entry's next run, one scheduler job
per entry, firing an occurrence to the right people in their language, the daily digest.

Time is always given (Asia/Shanghai); the scheduler is never left running. What members and
the committee receive is checked on the fake transport after draining the outbox by hand.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from sqlmodel import col, select

from models.calendar import (
    AudienceType,
    CalendarEntry,
    EntryKind,
    add_entries,
    list_entries,
    set_enabled,
    set_time,
)
from models.members import Actor, Gender, Member, MemberStatus, Role
from models.organizations import bind_committee_chat
from models.outbox import Broadcast, BroadcastKind, OutboxMessage, OutboxStatus
from models.suggestion_text import render_digest
from models.suggestions import Suggestion, SuggestionCategory, ensure_default_categories
from scheduler.calendar_defaults import DEFAULTS
from scheduler.calendar_jobs import (
    fire,
    job_id,
    plan_next_run,
    reconcile,
    run_entry,
    task_figures,
    upcoming,
)
from scheduler.outbox import OutboxSender, Pace
from scheduler.runtime import Runtime
from scheduler.setup import build_scheduler, seed_default_calendar
from scheduler.suggestion_jobs import send_digest
from tests.support.factories import make_member
from tests.support.harness import COMMITTEE_GROUP_ID, BotHarness
from tests.support.updates import Person

SHANGHAI = ZoneInfo("Asia/Shanghai")
FAST = Pace(per_second=1000, private_chat_interval=0, group_interval=0)
ORG_NAME = "实验中学工会"  # the harness's organization_name, which greetings sign with
LANGUAGES = {"zh-Hans", "zh-Hant", "en"}
GREETING_GRACE = 6 * 3600
TASK_GRACE = 24 * 3600


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A moment in Shanghai."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


# ---- helpers ------------------------------------------------------------------------------


def runtime_of(bot: BotHarness) -> Runtime:
    """The runtime start-up installed."""
    runtime = bot.app.state.runtime
    assert runtime is not None
    return runtime


def default_entry(key: str, *, time_of_day: str | None = None) -> CalendarEntry:
    """A default entry as it would be stored (no database; texts left out)."""
    default = next(item for item in DEFAULTS if item.key == key)
    return CalendarEntry(
        id=1,
        organization_id=1,
        key=key,
        kind=default.kind,
        rule=dict(default.rule),
        time_of_day=time_of_day or default.time_of_day,
        audience={"type": default.audience.value},
        titles={},
        messages={},
    )


async def entry(bot: BotHarness, key: str) -> CalendarEntry:
    """The organization's entry with this key."""
    async with bot.db() as session:
        entries = await list_entries(session, org_id=bot.org_id)
    found = [item for item in entries if item.key == key]
    assert len(found) == 1, [item.key for item in entries]
    return found[0]


async def add_entry(
    bot: BotHarness,
    *,
    key: str,
    kind: EntryKind,
    messages: dict[str, str],
    audience: AudienceType = AudienceType.COMMITTEE,
    rule: dict[str, Any] | None = None,
) -> CalendarEntry:
    """An entry of the test's own."""
    async with bot.db() as session:
        added = await add_entries(
            session,
            [
                CalendarEntry(
                    organization_id=bot.org_id,
                    key=key,
                    kind=kind,
                    rule=rule or {"type": "solar", "month": 4, "day": 1},
                    time_of_day="09:00",
                    audience={"type": audience.value},
                    titles={"zh-Hans": key},
                    messages=messages,
                )
            ],
        )
    assert added == 1
    return await entry(bot, key)


async def add_member(
    bot: BotHarness,
    telegram_id: int | None,
    name: str,
    *,
    language: str | None = "zh-Hans",
    gender: Gender | None = None,
    roles: Iterable[Role] = (),
    status: MemberStatus = MemberStatus.ACTIVE,
    **fields: Any,
) -> Member:
    """A member; `fields` (retired, birth_month, mute_greetings...) are written as given."""
    created = await make_member(
        bot.db,
        org_id=bot.org_id,
        person=Person(telegram_id, name) if telegram_id is not None else None,
        name=name,
        roles=roles,
        status=status,
        language=language,
        gender=gender,
    )
    if not fields:
        return created
    async with bot.db() as session:
        member = await session.get(Member, created.id)
        assert member is not None
        for name_, value in fields.items():
            setattr(member, name_, value)
        session.add(member)
        await session.commit()
        await session.refresh(member)
        return member


async def outbox(bot: BotHarness, broadcast: Broadcast) -> list[OutboxMessage]:
    """The rows of one broadcast, in id order."""
    async with bot.db() as session:
        return list(
            (
                await session.exec(
                    select(OutboxMessage)
                    .where(OutboxMessage.broadcast_id == broadcast.id)
                    .order_by(col(OutboxMessage.id))
                )
            ).all()
        )


async def all_rows(bot: BotHarness) -> list[OutboxMessage]:
    """Every outbox row."""
    async with bot.db() as session:
        return list(
            (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
        )


async def deliver(bot: BotHarness, now: datetime) -> None:
    """Drain the outbox as the sender would at `now`."""
    runtime = runtime_of(bot)
    sender = OutboxSender(
        db=bot.db, bot=bot.app.bot, quiet=runtime.quiet, pace=FAST, now=lambda: now
    )
    await sender.drain()


def received(bot: BotHarness) -> dict[int, list[str]]:
    """Texts each chat received."""
    by_chat: dict[int, list[str]] = {}
    for call in bot.telegram.sent():
        by_chat.setdefault(call.chat_id or 0, []).append(call.text)
    return by_chat


async def bind_group(bot: BotHarness) -> None:
    """Bind the committee group."""
    async with bot.db() as session:
        await bind_committee_chat(session, org_id=bot.org_id, chat_id=COMMITTEE_GROUP_ID)


def committee_actor(member: Member) -> Actor:
    """`member` acting as a committee member."""
    return Actor(member=member, roles=frozenset({Role.COMMITTEE}))


# ---- the default calendar -----------------------------------------------------------------


async def test_the_default_calendar_is_seeded_at_start_up_in_three_languages(
    bot: BotHarness,
) -> None:
    async with bot.db() as session:
        entries = await list_entries(session, org_id=bot.org_id)
    assert [item.key for item in entries] == [default.key for default in DEFAULTS]
    assert {item.key for item in entries} >= {
        "womens_day",
        "labour_day",
        "teachers_day",
        "national_day",
        "double_ninth",
        "spring_festival",
        "birthdays",
        "spring_visits",
        "year_end_aid",
        "annual_summary",
        "finance_review",
        "proposal_window",
    }
    for item in entries:
        assert item.enabled
        assert set(item.titles) == LANGUAGES and set(item.messages) == LANGUAGES
        for language in LANGUAGES:
            # Translated, not the catalog's message id.
            assert item.titles[language] and not item.titles[language].startswith("calendar.")
            assert item.messages[language] and "calendar." not in item.messages[language]
        assert item.messages["en"] != item.messages["zh-Hans"]
        assert item.messages["en"] != item.messages["zh-Hant"]

    womens_day = next(item for item in entries if item.key == "womens_day")
    assert womens_day.titles == {
        "zh-Hans": "三八妇女节祝福",
        "zh-Hant": "三八婦女節祝福",
        "en": "Women's Day greeting",
    }
    assert (womens_day.kind, womens_day.time_of_day) == (EntryKind.GREETING, "08:30")
    assert womens_day.rule == {"type": "solar", "month": 3, "day": 8}
    assert womens_day.audience == {"type": "women"}
    assert "{name}" in womens_day.messages["zh-Hant"]
    double_ninth = next(item for item in entries if item.key == "double_ninth")
    assert (double_ninth.rule["type"], double_ninth.audience) == ("lunar", {"type": "retirees"})
    birthdays = next(item for item in entries if item.key == "birthdays")
    assert (birthdays.rule, birthdays.time_of_day) == ({"type": "daily"}, "08:00")


async def test_seeding_again_adds_nothing(bot: BotHarness) -> None:
    runtime = runtime_of(bot)
    assert runtime.scheduler is None  # background tasks are off in tests
    before = await entry(bot, "womens_day")
    async with bot.db() as session:
        actor = committee_actor(await add_member(bot, 9001, "委员", roles=[Role.COMMITTEE]))
        await set_time(
            session, org_id=bot.org_id, actor=actor, entry_id=before.id or 0, text="9:15"
        )

    assert await seed_default_calendar(runtime) == 0

    async with bot.db() as session:
        entries = await list_entries(session, org_id=bot.org_id)
    assert len(entries) == len(DEFAULTS)
    assert (await entry(bot, "womens_day")).time_of_day == "09:15"  # an edit is kept


# ---- planning the next run (pure) ---------------------------------------------------------


def test_a_bot_down_at_the_time_still_sends_within_the_grace() -> None:
    womens_day = default_entry("womens_day")
    planned = plan_next_run(womens_day, now=sh(2027, 3, 8, 9, 30), zone=SHANGHAI, done=set())
    assert planned == (date(2027, 3, 8), sh(2027, 3, 8, 8, 30))


def test_before_the_time_plans_today() -> None:
    womens_day = default_entry("womens_day")
    planned = plan_next_run(womens_day, now=sh(2027, 3, 8, 7, 0), zone=SHANGHAI, done=set())
    assert planned == (date(2027, 3, 8), sh(2027, 3, 8, 8, 30))


@pytest.mark.parametrize("now", [sh(2027, 3, 8, 15, 0), sh(2027, 3, 8, 14, 31)])
def test_past_the_grace_plans_next_year(now: datetime) -> None:
    planned = plan_next_run(default_entry("womens_day"), now=now, zone=SHANGHAI, done=set())
    assert planned == (date(2028, 3, 8), sh(2028, 3, 8, 8, 30))


def test_an_occurrence_already_sent_is_not_planned_again() -> None:
    planned = plan_next_run(
        default_entry("womens_day"),
        now=sh(2027, 3, 8, 8, 31),
        zone=SHANGHAI,
        done={date(2027, 3, 8)},
    )
    assert planned == (date(2028, 3, 8), sh(2028, 3, 8, 8, 30))


def test_a_committee_task_has_a_day_of_grace() -> None:
    summary = default_entry("annual_summary")  # 10 January, 09:00
    assert plan_next_run(summary, now=sh(2027, 1, 11, 8, 59), zone=SHANGHAI, done=set()) == (
        date(2027, 1, 10),
        sh(2027, 1, 10, 9, 0),
    )
    assert plan_next_run(summary, now=sh(2027, 1, 11, 9, 1), zone=SHANGHAI, done=set()) == (
        date(2028, 1, 10),
        sh(2028, 1, 10, 9, 0),
    )


def test_lunar_and_offset_entries_are_planned_on_their_solar_dates() -> None:
    double_ninth = plan_next_run(
        default_entry("double_ninth"), now=sh(2027, 6, 1), zone=SHANGHAI, done=set()
    )
    assert double_ninth == (date(2027, 10, 8), sh(2027, 10, 8, 9, 0))
    # Spring Festival 2027 is 6 February; the visits are planned 21 days before.
    visits = plan_next_run(
        default_entry("spring_visits"), now=sh(2026, 11, 20, 12, 0), zone=SHANGHAI, done=set()
    )
    assert visits == (date(2027, 1, 16), sh(2027, 1, 16, 9, 0))
    festival = plan_next_run(
        default_entry("spring_festival"), now=sh(2026, 11, 20), zone=SHANGHAI, done=set()
    )
    assert festival == (date(2027, 2, 6), sh(2027, 2, 6, 9, 0))


def test_the_daily_birthday_entry_runs_every_morning() -> None:
    birthdays = default_entry("birthdays")  # 08:00
    assert plan_next_run(birthdays, now=sh(2027, 2, 27, 20, 0), zone=SHANGHAI, done=set()) == (
        date(2027, 2, 28),
        sh(2027, 2, 28, 8, 0),
    )
    assert plan_next_run(
        birthdays, now=sh(2027, 2, 28, 9, 0), zone=SHANGHAI, done={date(2027, 2, 28)}
    ) == (date(2027, 3, 1), sh(2027, 3, 1, 8, 0))


# ---- one scheduler job per entry ----------------------------------------------------------


@pytest.fixture
async def scheduler() -> AsyncIterator[AsyncIOScheduler]:
    """A scheduler in memory, started paused: jobs are kept exactly as in production, none run."""
    paused = AsyncIOScheduler(jobstores={"default": MemoryJobStore()}, timezone=SHANGHAI)
    paused.start(paused=True)
    try:
        yield paused
    finally:
        paused.shutdown(wait=False)


def run_dates(scheduler: AsyncIOScheduler) -> dict[str, datetime]:
    """job id -> the DateTrigger's run date, of every calendar job."""
    dates: dict[str, datetime] = {}
    for job in scheduler.get_jobs():
        assert isinstance(job.trigger, DateTrigger)
        dates[job.id] = job.trigger.run_date
    return dates


NEW_YEARS_EVE = sh(2026, 12, 31, 23, 0)


async def test_reconcile_gives_every_enabled_entry_one_job(
    bot: BotHarness, scheduler: AsyncIOScheduler
) -> None:
    runtime = runtime_of(bot)
    async with bot.db() as session:
        entries = {item.key: item for item in await list_entries(session, org_id=bot.org_id)}

    assert await reconcile(runtime, scheduler, now=NEW_YEARS_EVE) == len(DEFAULTS)

    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {f"calendar:{item.id}" for item in entries.values()}
    expected = {
        "new_year": (sh(2027, 1, 1, 9, 0), "2027-01-01"),
        "birthdays": (sh(2027, 1, 1, 8, 0), "2027-01-01"),
        "annual_summary": (sh(2027, 1, 10, 9, 0), "2027-01-10"),
        "spring_visits": (sh(2027, 1, 16, 9, 0), "2027-01-16"),
        "spring_festival": (sh(2027, 2, 6, 9, 0), "2027-02-06"),
        "womens_day": (sh(2027, 3, 8, 8, 30), "2027-03-08"),
        "proposal_window": (sh(2027, 9, 13, 9, 0), "2027-09-13"),  # second Monday
        "teachers_day": (sh(2027, 9, 10, 8, 0), "2027-09-10"),
        "double_ninth": (sh(2027, 10, 8, 9, 0), "2027-10-08"),
    }
    for key, (run_at, occurrence) in expected.items():
        item = entries[key]
        job = jobs[job_id(item.id or 0)]
        assert isinstance(job.trigger, DateTrigger)
        assert job.trigger.run_date == run_at, key
        assert job.args == (runtime_of(bot), item.id, occurrence), key
        assert job.name == key
    for item in entries.values():
        job = jobs[job_id(item.id or 0)]
        grace = TASK_GRACE if item.kind == EntryKind.TASK else GREETING_GRACE
        assert job.misfire_grace_time == grace, item.key
        assert job.coalesce is True
        assert job.func_ref == "scheduler.calendar_jobs:run_entry"


async def test_reconcile_after_edits_removes_and_moves_jobs(
    bot: BotHarness, scheduler: AsyncIOScheduler
) -> None:
    runtime = runtime_of(bot)
    actor = committee_actor(await add_member(bot, 9001, "委员", roles=[Role.COMMITTEE]))
    labour_day = await entry(bot, "labour_day")
    womens_day = await entry(bot, "womens_day")
    await reconcile(runtime, scheduler, now=NEW_YEARS_EVE)
    before = run_dates(scheduler)

    async with bot.db() as session:
        await set_enabled(
            session, org_id=bot.org_id, actor=actor, entry_id=labour_day.id or 0, enabled=False
        )
        await set_time(
            session, org_id=bot.org_id, actor=actor, entry_id=womens_day.id or 0, text="7:45"
        )
    assert await reconcile(runtime, scheduler, now=NEW_YEARS_EVE) == len(DEFAULTS) - 1

    after = run_dates(scheduler)
    assert job_id(labour_day.id or 0) not in after
    assert after[job_id(womens_day.id or 0)] == sh(2027, 3, 8, 7, 45)
    unchanged = set(before) - {job_id(labour_day.id or 0), job_id(womens_day.id or 0)}
    assert {key: after[key] for key in unchanged} == {key: before[key] for key in unchanged}

    # Enabled again: back, at its date.
    async with bot.db() as session:
        await set_enabled(
            session, org_id=bot.org_id, actor=actor, entry_id=labour_day.id or 0, enabled=True
        )
    await reconcile(runtime, scheduler, now=NEW_YEARS_EVE)
    assert run_dates(scheduler)[job_id(labour_day.id or 0)] == sh(2027, 5, 1, 9, 0)


async def test_reconciling_twice_keeps_one_job_per_entry(
    bot: BotHarness, scheduler: AsyncIOScheduler
) -> None:
    runtime = runtime_of(bot)
    await reconcile(runtime, scheduler, now=NEW_YEARS_EVE)
    first = run_dates(scheduler)
    await reconcile(runtime, scheduler, now=NEW_YEARS_EVE)
    await reconcile(runtime, scheduler, now=NEW_YEARS_EVE + timedelta(minutes=5))

    ids = [job.id for job in scheduler.get_jobs()]
    assert len(ids) == len(set(ids)) == len(DEFAULTS)
    assert run_dates(scheduler) == first


async def test_reconcile_leaves_other_jobs_alone(
    bot: BotHarness, scheduler: AsyncIOScheduler
) -> None:
    scheduler.add_job(
        "scheduler.suggestion_jobs:run_digest",
        trigger=DateTrigger(sh(2027, 1, 2, 9)),
        args=[runtime_of(bot)],
        id="digest:test",
    )
    scheduler.add_job(
        "scheduler.calendar_jobs:run_entry",
        trigger=DateTrigger(sh(2027, 1, 2, 9)),
        args=[runtime_of(bot), 999_999, "2027-01-02"],
        id="calendar:999999",  # an entry that no longer exists
    )
    await reconcile(runtime_of(bot), scheduler, now=NEW_YEARS_EVE)
    ids = {job.id for job in scheduler.get_jobs()}
    assert "digest:test" in ids
    assert "calendar:999999" not in ids


async def test_after_an_occurrence_is_sent_reconcile_plans_the_next(
    bot: BotHarness, scheduler: AsyncIOScheduler
) -> None:
    runtime = runtime_of(bot)
    womens_day = await entry(bot, "womens_day")
    await reconcile(runtime, scheduler, now=sh(2027, 3, 8, 8, 0))
    assert run_dates(scheduler)[job_id(womens_day.id or 0)] == sh(2027, 3, 8, 8, 30)

    await fire(runtime, womens_day, date(2027, 3, 8), now=sh(2027, 3, 8, 8, 30))
    # Even straight away, within the grace, the sent occurrence is not planned again.
    await reconcile(runtime, scheduler, now=sh(2027, 3, 8, 8, 30))
    assert run_dates(scheduler)[job_id(womens_day.id or 0)] == sh(2028, 3, 8, 8, 30)


async def test_the_production_scheduler_holds_the_same_jobs(bot: BotHarness) -> None:
    """build_scheduler's scheduler, not started (jobs stay pending): the time zone and the jobs
    reconcile gives it."""
    production = build_scheduler(SHANGHAI)
    assert production.timezone == SHANGHAI
    assert not production.running

    await reconcile(runtime_of(bot), production, now=NEW_YEARS_EVE)

    jobs = production.get_jobs()
    assert len(jobs) == len(DEFAULTS)
    assert all(job.id.startswith("calendar:") for job in jobs)
    womens_day = await entry(bot, "womens_day")
    job = production.get_job(job_id(womens_day.id or 0))
    assert job is not None
    assert isinstance(job.trigger, DateTrigger)
    assert job.trigger.run_date == sh(2027, 3, 8, 8, 30)
    assert job.misfire_grace_time == GREETING_GRACE


# ---- firing an occurrence -----------------------------------------------------------------


async def test_womens_day_goes_to_women_only_in_their_language(bot: BotHarness) -> None:
    runtime = runtime_of(bot)
    await add_member(bot, 3001, "王芳", gender=Gender.FEMALE)
    await add_member(bot, 3002, "陳美玲", gender=Gender.FEMALE, language="zh-Hant")
    await add_member(bot, 3003, "Alice Chen", gender=Gender.FEMALE, language="en")
    await add_member(bot, 3004, "张伟", gender=Gender.MALE)
    await add_member(bot, 3005, "刘洋")  # gender not given
    await add_member(bot, 3006, "赵敏", gender=Gender.FEMALE, language=None)
    await add_member(bot, None, "孙丽", gender=Gender.FEMALE)  # no Telegram account
    await add_member(bot, 3007, "周静", gender=Gender.FEMALE, status=MemberStatus.INACTIVE)
    await add_member(bot, 3008, "吴霞", gender=Gender.FEMALE, mute_greetings=True)
    await add_member(
        bot, 3009, "郑红", gender=Gender.FEMALE, unreachable_since=datetime(2027, 1, 1, tzinfo=UTC)
    )
    womens_day = await entry(bot, "womens_day")
    eight_thirty = sh(2027, 3, 8, 8, 30)

    broadcast = await fire(runtime, womens_day, date(2027, 3, 8), now=eight_thirty)

    assert broadcast is not None
    assert (broadcast.key, broadcast.kind, broadcast.total) == (
        f"cal:{womens_day.id}:2027-03-08",
        BroadcastKind.GREETING,
        4,
    )
    rows = await outbox(bot, broadcast)
    assert [row.chat_id for row in rows] == [3001, 3002, 3003, 3006]
    assert all(row.quiet and row.not_before == eight_thirty for row in rows)

    await deliver(bot, eight_thirty)
    texts = received(bot)
    assert set(texts) == {3001, 3002, 3003, 3006}
    # Each reader's text is signed with the union's name in that language (the harness sets
    # only the Simplified one; the others are the defaults).
    assert texts[3001] == [
        f"🌷 王芳老师，三八妇女节快乐！感谢您一直以来的辛勤付出，祝您健康美丽。——{ORG_NAME}"
    ]
    assert texts[3002] == [
        "🌷 陳美玲老師，三八婦女節快樂！感謝您一直以來的辛勤付出，祝您健康美麗。——學校工會"
    ]
    assert texts[3003] == [
        "🌷 Happy Women's Day, Alice Chen! Thank you for all you give; we wish you health and"
        " joy. — the school union"
    ]
    assert texts[3006][0].startswith("🌷 赵敏老师，三八妇女节快乐")  # the default language


async def test_firing_the_same_occurrence_twice_enqueues_once(bot: BotHarness) -> None:
    runtime = runtime_of(bot)
    await add_member(bot, 3101, "王芳", gender=Gender.FEMALE)
    womens_day = await entry(bot, "womens_day")
    first = await fire(runtime, womens_day, date(2027, 3, 8), now=sh(2027, 3, 8, 8, 30))
    await add_member(bot, 3102, "李娜", gender=Gender.FEMALE)  # joined in between

    again = await fire(runtime, womens_day, date(2027, 3, 8), now=sh(2027, 3, 8, 9, 30))

    assert first is not None and again is None
    assert [row.chat_id for row in await all_rows(bot)] == [3101]
    await deliver(bot, sh(2027, 3, 8, 9, 30))
    await deliver(bot, sh(2027, 3, 8, 10, 30))
    assert list(received(bot)) == [3101]
    assert len(received(bot)[3101]) == 1


async def test_two_runs_of_the_same_occurrence_at_once_enqueue_once(bot: BotHarness) -> None:
    """Two scheduler runs racing (e.g. two processes after a restart): the key decides."""
    runtime = runtime_of(bot)
    for number in range(5):
        await add_member(bot, 3150 + number, f"女{number}", gender=Gender.FEMALE)
    womens_day = await entry(bot, "womens_day")
    occurrence, now = date(2027, 3, 8), sh(2027, 3, 8, 8, 30)

    results = await asyncio.gather(
        fire(runtime, womens_day, occurrence, now=now),
        fire(runtime, womens_day, occurrence, now=now),
    )

    assert sum(result is not None for result in results) == 1
    assert sorted(row.chat_id for row in await all_rows(bot)) == list(range(3150, 3155))


async def test_muted_members_get_no_greeting_but_committee_tasks_still_arrive(
    bot: BotHarness,
) -> None:
    runtime = runtime_of(bot)
    await add_member(bot, 3201, "刘委员", roles=[Role.COMMITTEE], mute_greetings=True)
    await add_member(bot, 3202, "张主席", roles=[Role.CHAIR], language="en")
    await add_member(bot, 3203, "王老师", mute_greetings=True)
    await add_member(bot, 3204, "李老师")
    await add_member(bot, 3205, "赵代表", roles=[Role.REPRESENTATIVE])

    greeting = await fire(
        runtime, await entry(bot, "new_year"), date(2027, 1, 1), now=sh(2027, 1, 1, 9)
    )
    # No committee group is bound: the task goes to each committee member.
    task = await fire(
        runtime, await entry(bot, "annual_summary"), date(2027, 1, 10), now=sh(2027, 1, 10, 9)
    )

    assert greeting is not None and task is not None
    assert [row.chat_id for row in await outbox(bot, greeting)] == [3202, 3204, 3205]
    task_rows = await outbox(bot, task)
    assert [row.chat_id for row in task_rows] == [3201, 3202]
    assert not any(row.quiet for row in task_rows)
    await deliver(bot, sh(2027, 1, 10, 9))
    texts = received(bot)
    # On 10 January 2027 the summary is of 2026, the year just ended.
    assert texts[3201][-1] == (
        "📋 提醒：请撰写2026年度工会工作总结，并拟定新学期工作计划（会员 5 人）。"
    )
    # The chair gets the New Year greeting (held till then) and the task in the same run: the
    # sender has both in flight at once, so their order on the wire is not fixed.
    assert (
        "📋 Reminder: write the union's work summary for 2026 and draft the plan for the new term"
        " (5 members)."
    ) in texts[3202]
    assert len(texts[3202]) == 2
    assert 3203 not in texts


async def test_announcements_are_not_muted(bot: BotHarness) -> None:
    runtime = runtime_of(bot)
    await add_member(bot, 3301, "王明", mute_greetings=True)
    await add_member(bot, 3302, "李华")
    notice = await add_entry(
        bot,
        key="safety_drill",
        kind=EntryKind.ANNOUNCEMENT,
        audience=AudienceType.EVERYONE,
        messages={"zh-Hans": "{name}老师：明天下午消防演练。"},
    )

    broadcast = await fire(runtime, notice, date(2027, 4, 1), now=sh(2027, 4, 1, 9))

    assert broadcast is not None and broadcast.kind == BroadcastKind.ANNOUNCEMENT
    await deliver(bot, sh(2027, 4, 1, 9))
    assert received(bot) == {
        3301: ["王明老师：明天下午消防演练。"],
        3302: ["李华老师：明天下午消防演练。"],
    }


async def test_double_ninth_goes_to_retirees_only(bot: BotHarness) -> None:
    runtime = runtime_of(bot)
    await add_member(bot, 3401, "钱明", retired=True)
    await add_member(bot, 3402, "Mr Qian", retired=True, language="en")
    await add_member(bot, 3403, "孙老师")
    await add_member(bot, 3404, "冯老师", retired=True, status=MemberStatus.INACTIVE)

    broadcast = await fire(
        runtime, await entry(bot, "double_ninth"), date(2027, 10, 8), now=sh(2027, 10, 8, 9)
    )

    assert broadcast is not None
    await deliver(bot, sh(2027, 10, 8, 9))
    texts = received(bot)
    assert set(texts) == {3401, 3402}
    assert texts[3401][0].startswith("🍵 钱明老师，重阳节快乐")
    assert texts[3402][0].startswith("🍵 Happy Double Ninth Festival, Mr Qian!")


async def test_birthdays_including_29_february(bot: BotHarness) -> None:
    runtime = runtime_of(bot)
    birthdays = await entry(bot, "birthdays")
    await add_member(bot, 3501, "二八", birth_month=2, birth_day=28)
    await add_member(bot, 3502, "闰日", birth_month=2, birth_day=29, birth_year=1988)
    await add_member(bot, 3503, "三一", birth_month=3, birth_day=1)
    await add_member(bot, 3504, "不知道")  # no birthday given
    await add_member(bot, 3505, "静音", birth_month=2, birth_day=28, mute_greetings=True)

    async def greeted(day: date) -> list[int]:
        broadcast = await fire(runtime, birthdays, day, now=sh(day.year, day.month, day.day, 8))
        assert broadcast is not None
        return [row.chat_id for row in await outbox(bot, broadcast)]

    assert await greeted(date(2027, 2, 28)) == [3501, 3502]  # not a leap year
    assert await greeted(date(2027, 3, 1)) == [3503]
    assert await greeted(date(2028, 2, 28)) == [3501]  # a leap year...
    assert await greeted(date(2028, 2, 29)) == [3502]  # ...has the day itself

    await deliver(bot, sh(2028, 3, 1, 8))
    assert received(bot)[3502] == [
        f"🎂 闰日老师，生日快乐！{ORG_NAME}祝您天天开心、身体健康。",
        f"🎂 闰日老师，生日快乐！{ORG_NAME}祝您天天开心、身体健康。",
    ]


async def test_a_task_goes_once_to_the_committee_group_with_the_counts(bot: BotHarness) -> None:
    runtime = runtime_of(bot)
    await bind_group(bot)
    await add_member(bot, 3601, "女一", gender=Gender.FEMALE, roles=[Role.COMMITTEE])
    await add_member(bot, 3602, "女二", gender=Gender.FEMALE, retired=True)
    await add_member(bot, None, "女三", gender=Gender.FEMALE)  # counted without Telegram
    await add_member(bot, 3603, "男一", gender=Gender.MALE, roles=[Role.CHAIR])
    await add_member(bot, 3604, "男二", gender=Gender.MALE, retired=True)
    await add_member(bot, 3605, "未填")
    await add_member(bot, 3606, "离校", gender=Gender.FEMALE, status=MemberStatus.INACTIVE)
    await add_member(bot, 3607, "申请中", gender=Gender.FEMALE, status=MemberStatus.PENDING)
    visits = await add_entry(
        bot,
        key="monthly_visits",
        kind=EntryKind.TASK,
        messages={
            "zh-Hans": (
                "本月：会员 {members} 人，女教职工 {women} 人，离退休 {retirees} 人（{date}）"
            ),
            "en": "This month: {members} members, {women} women, {retirees} retirees ({date}).",
        },
    )
    nine = sh(2027, 4, 1, 9)

    async with bot.db() as session:
        figures = await task_figures(session, org_id=bot.org_id, occurrence=date(2027, 4, 1))
    assert figures == {
        "members": 6,
        "women": 3,
        "retirees": 2,
        "hardship": 0,
        "date": "2027-04-01",
        "last_year": 2026,
    }
    broadcast = await fire(runtime, visits, date(2027, 4, 1), now=nine)

    assert broadcast is not None
    assert (broadcast.kind, broadcast.total, broadcast.report_chat_id) == (
        BroadcastKind.TASK,
        1,
        None,
    )
    [row] = await outbox(bot, broadcast)
    assert (row.chat_id, row.quiet, row.member_id) == (COMMITTEE_GROUP_ID, False, None)
    await deliver(bot, nine)
    assert received(bot) == {
        COMMITTEE_GROUP_ID: ["本月：会员 6 人，女教职工 3 人，离退休 2 人（2027-04-01）"]
    }

    # The default Spring Festival visits task quotes the same figures.
    await fire(
        runtime, await entry(bot, "spring_visits"), date(2027, 1, 16), now=sh(2027, 1, 16, 9)
    )
    await deliver(bot, nine)
    last = bot.telegram.last(COMMITTEE_GROUP_ID).text
    assert "困难职工档案 0 户，离退休教职工 2 人" in last
    assert len(bot.telegram.sent()) == 2


async def test_greetings_fired_in_quiet_hours_wait_for_the_morning(bot: BotHarness) -> None:
    runtime = runtime_of(bot)
    await bind_group(bot)
    await add_member(bot, 3701, "王芳", gender=Gender.FEMALE, roles=[Role.COMMITTEE])
    womens_day = await entry(bot, "womens_day")
    seven_thirty = sh(2027, 3, 8, 7, 30)

    late = sh(2027, 3, 7, 23, 0)
    greeting = await fire(runtime, womens_day, date(2027, 3, 8), now=late)
    task = await fire(runtime, await entry(bot, "year_end_aid"), date(2026, 12, 1), now=late)
    early = await fire(runtime, womens_day, date(2028, 3, 8), now=sh(2028, 3, 8, 6, 0))

    assert greeting is not None and task is not None and early is not None
    assert [row.not_before for row in await outbox(bot, greeting)] == [seven_thirty]
    assert [row.not_before for row in await outbox(bot, early)] == [sh(2028, 3, 8, 7, 30)]
    assert [row.not_before for row in await outbox(bot, task)] == [late]
    # Member broadcasts report to the committee when large; tasks do not.
    assert (greeting.report_chat_id, task.report_chat_id) == (COMMITTEE_GROUP_ID, None)

    await deliver(bot, late)  # the committee task goes at once
    assert list(received(bot)) == [COMMITTEE_GROUP_ID]
    await deliver(bot, sh(2027, 3, 8, 7, 0))
    assert list(received(bot)) == [COMMITTEE_GROUP_ID]
    await deliver(bot, seven_thirty)
    assert received(bot)[3701][0].startswith("🌷 王芳老师，三八妇女节快乐")


async def test_run_entry_fires_enabled_entries_only(bot: BotHarness) -> None:
    """The job itself (as APScheduler calls it, with the runtime and primitive arguments)."""
    await add_member(bot, 3801, "王芳", gender=Gender.FEMALE)
    actor = committee_actor(await add_member(bot, 3802, "委员", roles=[Role.COMMITTEE]))
    womens_day = await entry(bot, "womens_day")
    labour_day = await entry(bot, "labour_day")
    async with bot.db() as session:
        await set_enabled(
            session, org_id=bot.org_id, actor=actor, entry_id=labour_day.id or 0, enabled=False
        )

    await run_entry(runtime_of(bot), womens_day.id or 0, "2027-03-08")
    await run_entry(runtime_of(bot), labour_day.id or 0, "2027-05-01")

    async with bot.db() as session:
        keys = (await session.exec(select(Broadcast.key))).all()
    assert keys == [f"cal:{womens_day.id}:2027-03-08"]


# ---- the daily digest ---------------------------------------------------------------------


DIGEST_DAY = sh(2027, 1, 5, 9, 0)


async def store_suggestion(bot: BotHarness, *, body: str, created_at: datetime) -> Suggestion:
    """An open item filed at `created_at`."""
    async with bot.db() as session:
        await ensure_default_categories(session, org_id=bot.org_id)
        category = (
            await session.exec(
                select(SuggestionCategory.id).where(
                    SuggestionCategory.organization_id == bot.org_id
                )
            )
        ).first()
        assert category is not None
        item = Suggestion(
            organization_id=bot.org_id,
            year=created_at.year,
            seq=secrets.randbelow(9000) + 1,
            category_id=category,
            body=body,
            anonymous=True,
            client_token=secrets.token_hex(8),
            created_at=created_at,
            updated_at=created_at,
        )
        session.add(item)
        await session.commit()
        await session.refresh(item)
        return item


async def test_the_digest_goes_to_the_committee_group_once_a_day(bot: BotHarness) -> None:
    runtime = runtime_of(bot)
    await bind_group(bot)
    item = await store_suggestion(
        bot, body="食堂的菜太咸了", created_at=DIGEST_DAY - timedelta(days=10)
    )

    broadcast = await send_digest(runtime, now=DIGEST_DAY)
    again = await send_digest(runtime, now=DIGEST_DAY + timedelta(hours=5))
    tomorrow = await send_digest(runtime, now=DIGEST_DAY + timedelta(days=1))

    assert broadcast is not None and again is None and tomorrow is not None
    assert broadcast.key == f"digest:{bot.org_id}:2027-01-05"
    assert tomorrow.key == f"digest:{bot.org_id}:2027-01-06"
    [row] = await outbox(bot, broadcast)
    assert (row.chat_id, row.quiet, row.status) == (
        COMMITTEE_GROUP_ID,
        False,
        OutboxStatus.PENDING,
    )
    await deliver(bot, DIGEST_DAY)
    tr = runtime.i18n.get("zh-Hans")
    assert received(bot)[COMMITTEE_GROUP_ID] == [render_digest(tr, [item], days=7, now=DIGEST_DAY)]
    assert "食堂的菜太咸了" in received(bot)[COMMITTEE_GROUP_ID][0]


async def test_no_digest_without_overdue_items_or_without_a_group(bot: BotHarness) -> None:
    runtime = runtime_of(bot)
    await store_suggestion(bot, body="十天了", created_at=DIGEST_DAY - timedelta(days=10))
    assert await send_digest(runtime, now=DIGEST_DAY) is None  # no group bound

    await bind_group(bot)
    async with bot.db() as session:
        item = (await session.exec(select(Suggestion))).one()
        item.status = "answered"
        session.add(item)
        await session.commit()
    await store_suggestion(bot, body="才三天", created_at=DIGEST_DAY - timedelta(days=3))
    assert await send_digest(runtime, now=DIGEST_DAY) is None  # nothing overdue

    async with bot.db() as session:
        assert (await session.exec(select(Broadcast))).all() == []


# ---- the next 60 days ---------------------------------------------------------------------


async def test_upcoming_lists_the_next_sixty_days_in_order(bot: BotHarness) -> None:
    found = await upcoming(runtime_of(bot), start=date(2027, 1, 1), days=60)
    assert [(day, item.key) for day, item in found] == [
        (date(2027, 1, 1), "new_year"),
        (date(2027, 1, 1), "monthly_disclosure"),
        (date(2027, 1, 1), "monthly_report"),
        (date(2027, 1, 1), "birthday_list"),
        (date(2027, 1, 10), "annual_summary"),
        (date(2027, 1, 16), "spring_visits"),
        (date(2027, 2, 1), "monthly_disclosure"),
        (date(2027, 2, 1), "monthly_report"),
        (date(2027, 2, 1), "birthday_list"),
        (date(2027, 2, 6), "spring_festival"),
        (date(2027, 2, 13), "term_summary"),  # a week before TERM2_START (02-20)
        (date(2027, 2, 20), "term_plan"),
        (date(2027, 2, 22), "womens_day_plan"),
        (date(2027, 3, 1), "monthly_disclosure"),
        (date(2027, 3, 1), "monthly_report"),
        (date(2027, 3, 1), "birthday_list"),
    ]


async def test_upcoming_leaves_out_disabled_entries(bot: BotHarness) -> None:
    actor = committee_actor(await add_member(bot, 3901, "委员", roles=[Role.COMMITTEE]))
    summary = await entry(bot, "annual_summary")
    async with bot.db() as session:
        await set_enabled(
            session, org_id=bot.org_id, actor=actor, entry_id=summary.id or 0, enabled=False
        )
    found = await upcoming(runtime_of(bot), start=date(2027, 1, 1), days=60)
    assert "annual_summary" not in [item.key for _, item in found]
