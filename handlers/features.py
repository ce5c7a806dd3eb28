"""The one list of features the application walks: each brings its handlers and its forms."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from telegram.ext import Application

from bot.forms import Form
from handlers import (
    activities,
    activity_admin,
    aid,
    aid_admin,
    aid_desk,
    broadcast,
    calendar,
    committee,
    congress,
    hardship,
    join_requests,
    menu,
    profile,
    proposal_answers,
    proposal_desk,
    proposals,
    start,
    suggestion_desk,
    suggestions,
)


def _no_forms() -> list[Form]:
    return []


@dataclass(frozen=True)
class Feature:
    """What one feature brings: its plain handlers (commands, buttons) and its forms."""

    name: str
    register: Callable[[Application], None]
    forms: Callable[[], Sequence[Form]] = field(default=_no_forms)


FEATURES: tuple[Feature, ...] = (
    Feature("members", start.register, start.forms),
    Feature("join_requests", join_requests.register),
    Feature("committee", committee.register),
    Feature("profile", profile.register, profile.forms),
    Feature("menu", menu.register),
    Feature("suggestions", suggestions.register, suggestions.forms),
    Feature("suggestion_desk", suggestion_desk.register, suggestion_desk.forms),
    Feature("proposals", proposals.register, proposals.forms),
    Feature("proposal_desk", proposal_desk.register),
    Feature("proposal_answers", proposal_answers.register, proposal_answers.forms),
    Feature("congress", congress.register, congress.forms),
    Feature("aid", aid.register, aid.forms),
    Feature("aid_desk", aid_desk.register, aid_desk.forms),
    Feature("aid_admin", aid_admin.register),
    Feature("hardship", hardship.register, hardship.forms),
    Feature("activities", activities.register, activities.forms),
    Feature("activity_admin", activity_admin.register, activity_admin.forms),
    Feature("calendar", calendar.register, calendar.forms),
    Feature("broadcast", broadcast.register, broadcast.forms),
)
