"""Telegram I/O, one package per feature: parse the update, call the domain, render the reply.

FEATURES is the one list the application walks (see bot/features.py and docs/architecture.md).
"""

from __future__ import annotations

from bot.features import Feature
from handlers.activities import FEATURE as ACTIVITIES
from handlers.aid import FEATURE as AID
from handlers.assessment import FEATURE as ASSESSMENT
from handlers.ballots import FEATURE as BALLOTS
from handlers.broadcast import FEATURE as BROADCAST
from handlers.calendar import FEATURE as CALENDAR
from handlers.care import FEATURE as CARE
from handlers.district_contests import FEATURE as DISTRICT_CONTESTS
from handlers.district_report import FEATURE as DISTRICT_REPORT
from handlers.district_tasks import FEATURE as DISTRICT_TASKS
from handlers.groups import FEATURE as GROUPS
from handlers.ideas import FEATURE as IDEAS
from handlers.members import FEATURE as MEMBERS
from handlers.menu import FEATURE as MENU
from handlers.notices import FEATURE as NOTICES
from handlers.proposals import FEATURE as PROPOSALS
from handlers.reports import FEATURE as REPORTS
from handlers.suggestions import FEATURE as SUGGESTIONS

FEATURES: tuple[Feature, ...] = (
    MEMBERS,
    GROUPS,
    MENU,
    SUGGESTIONS,
    PROPOSALS,
    AID,
    CARE,
    ACTIVITIES,
    CALENDAR,
    BROADCAST,
    BALLOTS,
    NOTICES,
    IDEAS,
    REPORTS,
    ASSESSMENT,
    DISTRICT_CONTESTS,
    DISTRICT_TASKS,
    DISTRICT_REPORT,
)
