"""The default calendar of a new organization, from the union year (see shared/DOMAIN.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.i18n import LANGUAGES, I18n
from models.calendar import AudienceType, CalendarEntry, EntryKind


@dataclass(frozen=True)
class DefaultEntry:
    """A default entry; its title and message come from the catalogs (`calendar.<key>.*`)."""

    key: str
    kind: EntryKind
    rule: dict[str, Any]
    time_of_day: str
    audience: AudienceType


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
    DefaultEntry("year_end_aid", EntryKind.TASK, {"type": "solar", "month": 12, "day": 1}, "09:00", AudienceType.COMMITTEE),
    DefaultEntry("finance_review", EntryKind.TASK, {"type": "solar", "month": 12, "day": 15}, "09:00", AudienceType.COMMITTEE),
    DefaultEntry("monthly_disclosure", EntryKind.TASK, {"type": "monthly", "day": 1}, "09:00", AudienceType.COMMITTEE),
    DefaultEntry("monthly_report", EntryKind.TASK, {"type": "monthly", "day": 1}, "09:00", AudienceType.COMMITTEE),
    DefaultEntry("birthdays", EntryKind.GREETING, {"type": "daily"}, "08:00", AudienceType.BIRTHDAY),
)  # fmt: skip


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
