"""Activities and sign-ups (文体活动报名): the members' one-press sign-up, waitlists, lotteries and
teams; the committee's creation, management and figures."""

from __future__ import annotations

from telegram.ext import Application

from bot.features import Audience, CommandSpec, Feature, MenuEntry
from bot.forms import Form
from handlers.activities import admin, signup
from models.errors import N_
from scheduler.activity_jobs import ACTIVITY_TICK


def _register(application: Application) -> None:
    signup.register(application)
    admin.register(application)


def _forms() -> list[Form]:
    return [*signup.forms(), *admin.forms()]


FEATURE = Feature(
    name="activities",
    register=_register,
    forms=_forms,
    commands=(
        CommandSpec("activities", N_("cmd.activities"), Audience.MEMBER, order=5),
        CommandSpec("newactivity", N_("cmd.newactivity"), Audience.COMMITTEE, order=19),
        CommandSpec("activitystats", N_("cmd.activitystats"), Audience.COMMITTEE, order=20),
    ),
    menu=(
        MenuEntry("activities", N_("menu.activities"), Audience.MEMBER, signup.list_activities, 2),
    ),
    jobs=(ACTIVITY_TICK,),
)
