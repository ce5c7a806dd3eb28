"""What some committee tasks carry beyond their text: a list or figures read when they fire.

A calendar task whose key is in `task_extras()` gets the block its function writes, in the
reader's language, under the committee's own text (which they may edit; the block is ours).
Each feature adds its function here; the block must hold nothing the committee group may not
read (no aid details, no anonymous authors, no ballots).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import Translator
from bot.settings import Settings
from scheduler.birthday_list import birthday_list
from scheduler.care_tasks import double_ninth_block, spring_visits_block
from scheduler.monthly_report import monthly_report_block

# (session, org id, the occurrence's day, the reader's translator) -> the block, or "" for none
TaskExtra = Callable[[AsyncSession, int, date, Translator], Awaitable[str]]


def task_extras(settings: Settings | None = None) -> dict[str, TaskExtra]:
    """The calendar keys with an extra block, and the function that writes each (those that
    read the settings get them bound)."""
    return {
        "spring_visits": spring_visits_block,
        "double_ninth_visits": double_ninth_block,
        "birthday_list": birthday_list,
        "monthly_report": functools.partial(monthly_report_block, settings=settings),
    }


async def extra_block(
    session: AsyncSession,
    *,
    key: str,
    org_id: int,
    occurrence: date,
    tr: Translator,
    settings: Settings | None = None,
) -> str:
    """The block for a task (empty when the key has none)."""
    writer = task_extras(settings).get(key)
    if writer is None:
        return ""
    return await writer(session, org_id, occurrence, tr)
