"""Scheduled jobs in a district: each school's job runs for that school alone, and a school's
disclosure channel is that school's."""

from __future__ import annotations

from datetime import timedelta

from bot.settings import Settings
from models.base import utcnow
from models.members import load_actor
from models.suggestions import (
    Draft,
    Suggestion,
    ensure_default_categories,
    list_categories,
    submit_suggestion,
)
from scheduler.setup import each_organization, organizations
from scheduler.suggestion_jobs import run_digest
from tests.support.district import CHAIR_A, GROUP_A, GROUP_B, TEACHER_B, district_bot
from tests.support.harness import BotHarness
from tests.support.updates import Person


async def _old_suggestion(bot: BotHarness, org_id: int, person: Person, body: str) -> str:
    async with bot.db() as session:
        author = await load_actor(session, org_id=org_id, telegram_user_id=person.id)
        assert author is not None
        await ensure_default_categories(session, org_id=org_id)
        category = (await list_categories(session, org_id=org_id))[0]
        stored = await submit_suggestion(
            session,
            org_id=org_id,
            author=author,
            draft=Draft(category.id or 0, body, (), True, f"jobs-{org_id}"),
            seal=bot.app.state.seal,
            today=utcnow().date(),
        )
        row = await session.get(Suggestion, stored.id)
        assert row is not None
        row.created_at = utcnow() - timedelta(days=10)
        session.add(row)
        await session.commit()
        return stored.number


async def test_the_daily_digest_runs_per_school_into_each_schools_own_group(
    settings: Settings,
) -> None:
    async with district_bot(settings) as (bot, ids):
        number_a = await _old_suggestion(bot, ids.school_a, CHAIR_A, "甲校的意见")
        number_b = await _old_suggestion(bot, ids.school_b, TEACHER_B, "乙校的意见")
        runtime = bot.app.state.runtime
        assert runtime is not None
        served = [scoped.org_id for scoped in await organizations(runtime)]
        assert sorted(served) == sorted([ids.district_id, ids.school_a, ids.school_b])

        await each_organization(run_digest)(runtime)
        await runtime.sender.drain()

        group_a, group_b = (
            "\n".join(bot.telegram.texts(GROUP_A)),
            "\n".join(bot.telegram.texts(GROUP_B)),
        )
        # Both numbers read 意-<year>-0001: each school numbers its own; the text tells them
        # apart, and neither group sees the other's.
        assert number_a == number_b
        assert "甲校的意见" in group_a and "乙校的意见" in group_b
        assert "甲校的意见" not in group_b and "乙校的意见" not in group_a
