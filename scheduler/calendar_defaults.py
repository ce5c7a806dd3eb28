"""The default calendar of an organization, from the union year (see shared/DOMAIN.md).

Defaults are stored per organization when it is seeded, at every start (`seed_defaults`): an
organization started again gets the entries added since, once each (by key), and keeps what the
committee changed. The term tasks store no dates: their rule ("term_start") is resolved with the
settings TERM1_START and TERM2_START whenever it is computed, so they follow a change of those.

Against the year table: February's committee meeting and term plan are `term_plan` (at the
spring term's start); the year-end 帮困送温暖 is timed against Spring Festival (eight weeks
before it: late November to late December), no longer on 1 December; 六一, mid-term events and
the summer are left to the committee's own entries and activities.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import LANGUAGES, I18n
from models.base import utcnow
from models.calendar import AudienceType, CalendarEntry, EntryKind, add_entries


@dataclass(frozen=True)
class DefaultEntry:
    """A default entry; its title and message come from the catalogs (`calendar.<key>.*`)."""

    key: str
    kind: EntryKind
    rule: dict[str, Any]
    time_of_day: str
    audience: AudienceType


# 帮困送温暖 starts eight weeks before Spring Festival, whatever month that falls in.
YEAR_END_AID: dict[str, Any] = {"type": "offset", "base": "spring_festival", "days": -56}

DEFAULTS: tuple[DefaultEntry, ...] = (
    DefaultEntry("new_year", EntryKind.GREETING, {"type": "solar", "month": 1, "day": 1}, "09:00", AudienceType.EVERYONE),
    DefaultEntry("annual_summary", EntryKind.TASK, {"type": "solar", "month": 1, "day": 10}, "09:00", AudienceType.COMMITTEE),
    DefaultEntry("spring_visits", EntryKind.TASK, {"type": "offset", "base": "spring_festival", "days": -21}, "09:00", AudienceType.COMMITTEE),
    DefaultEntry("spring_festival", EntryKind.GREETING, {"type": "lunar", "month": 1, "day": 1}, "09:00", AudienceType.EVERYONE),
    DefaultEntry("womens_day", EntryKind.GREETING, {"type": "solar", "month": 3, "day": 8}, "08:30", AudienceType.WOMEN),
    DefaultEntry("labour_day", EntryKind.GREETING, {"type": "solar", "month": 5, "day": 1}, "09:00", AudienceType.EVERYONE),
    DefaultEntry("proposal_window", EntryKind.TASK, {"type": "nth_weekday", "month": 9, "weekday": 0, "n": 2}, "09:00", AudienceType.COMMITTEE),
    DefaultEntry("teachers_day", EntryKind.GREETING, {"type": "solar", "month": 9, "day": 10}, "08:00", AudienceType.EVERYONE),
    DefaultEntry("national_day", EntryKind.GREETING, {"type": "solar", "month": 10, "day": 1}, "09:00", AudienceType.EVERYONE),
    DefaultEntry("double_ninth", EntryKind.GREETING, {"type": "lunar", "month": 9, "day": 9}, "09:00", AudienceType.RETIREES),
    DefaultEntry("year_end_aid", EntryKind.TASK, YEAR_END_AID, "09:00", AudienceType.COMMITTEE),
    DefaultEntry("finance_review", EntryKind.TASK, {"type": "solar", "month": 12, "day": 15}, "09:00", AudienceType.COMMITTEE),
    DefaultEntry("monthly_disclosure", EntryKind.TASK, {"type": "monthly", "day": 1}, "09:00", AudienceType.COMMITTEE),
    DefaultEntry("monthly_report", EntryKind.TASK, {"type": "monthly", "day": 1}, "09:00", AudienceType.COMMITTEE),
    DefaultEntry("birthdays", EntryKind.GREETING, {"type": "daily"}, "08:00", AudienceType.BIRTHDAY),
    # The committee's work of a union year (issue 18), each ahead of what it prepares.
    DefaultEntry("womens_day_plan", EntryKind.TASK, {"type": "offset", "base": "womens_day", "days": -14}, "09:00", AudienceType.COMMITTEE),
    DefaultEntry("teachers_day_plan", EntryKind.TASK, {"type": "offset", "base": "teachers_day", "days": -14}, "09:00", AudienceType.COMMITTEE),
    DefaultEntry("double_ninth_visits", EntryKind.TASK, {"type": "offset", "base": "double_ninth", "days": -14}, "09:00", AudienceType.COMMITTEE),
    DefaultEntry("term_plan", EntryKind.TASK, {"type": "term_start", "days": 0}, "09:00", AudienceType.COMMITTEE),
    # A term runs to the day before the next starts; its summary is due a week before that, when
    # the committee is back for the new term and the term's records are complete.
    DefaultEntry("term_summary", EntryKind.TASK, {"type": "term_start", "days": -7}, "09:00", AudienceType.COMMITTEE),
    DefaultEntry("democratic_review_june", EntryKind.TASK, {"type": "solar", "month": 6, "day": 1}, "09:00", AudienceType.COMMITTEE),
    DefaultEntry("democratic_review_november", EntryKind.TASK, {"type": "solar", "month": 11, "day": 1}, "09:00", AudienceType.COMMITTEE),
    DefaultEntry("ethics_month", EntryKind.TASK, {"type": "solar", "month": 9, "day": 1}, "09:00", AudienceType.COMMITTEE),
    DefaultEntry("birthday_list", EntryKind.TASK, {"type": "monthly", "day": 1}, "09:00", AudienceType.COMMITTEE),
)  # fmt: skip

# Rules an earlier version stored, and the rule that replaces each. The committee cannot edit a
# default entry's rule, so a stored rule equal to the old one was never chosen by anyone.
REPLACED_RULES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "year_end_aid": ({"type": "solar", "month": 12, "day": 1}, YEAR_END_AID),
}


def default_entries(org_id: int, i18n: I18n) -> list[CalendarEntry]:
    """The default entries for an organization, with texts in every language."""
    return [
        CalendarEntry(
            organization_id=org_id,
            key=default.key,
            kind=default.kind,
            rule=dict(default.rule),
            time_of_day=default.time_of_day,
            audience={"type": default.audience.value},
            titles={lang: i18n.get(lang)(f"calendar.{default.key}.title") for lang in LANGUAGES},
            messages={lang: i18n.get(lang)(f"calendar.{default.key}.text") for lang in LANGUAGES},
        )
        for default in DEFAULTS
    ]


async def seed_defaults(session: AsyncSession, *, org_id: int, i18n: I18n) -> int:
    """Add the default entries the organization lacks and move replaced default rules to the
    current ones; returns how many entries were added."""
    added = await add_entries(session, default_entries(org_id, i18n))
    stored = (
        await session.exec(
            select(CalendarEntry).where(
                CalendarEntry.organization_id == org_id,
                col(CalendarEntry.key).in_(REPLACED_RULES),
            )
        )
    ).all()
    for entry in stored:
        old, new = REPLACED_RULES[entry.key]
        if entry.rule == old:
            entry.rule = dict(new)
            entry.updated_at = utcnow()
            session.add(entry)
    await session.commit()
    return added
