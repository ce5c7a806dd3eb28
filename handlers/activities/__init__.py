"""Activities and sign-ups (文体活动报名): the members' one-press sign-up, waitlists, lotteries and
teams; the committee's creation, management and figures."""

from __future__ import annotations

from telegram.ext import Application

from bot.features import Audience, CommandSpec, Feature, MenuEntry
from bot.forms import Form
from handlers.activities import admin, signup
from models.activities import ActivityCategory, SelectionMode, SignupStatus
from models.errors import N_
from scheduler.activity_jobs import ACTIVITY_TICK


def _register(application: Application) -> None:
    signup.register(application)
    admin.register(application)


def _forms() -> list[Form]:
    return [*signup.forms(), *admin.forms()]


# Audiences of /newactivity and the columns of the sign-up workbook, named in the catalogs.
_AUDIENCES = ("everyone", "women", "retirees", "age", "departments")
_COLUMNS = ("no", "name", "status", "choice", "family", "checked_in", "department", "names")


def _keys() -> set[str]:
    return (
        {f"activity.category.{value}" for value in ActivityCategory}
        | {f"activity.mode.{value}" for value in SelectionMode}
        | {f"activity.signup.{value}" for value in SignupStatus}
        | {f"activity.yours.{value}" for value in SignupStatus}
        | {f"activity.who.{value}" for value in _AUDIENCES}
        | {f"activity.column.{value}" for value in _COLUMNS}
    )


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
    mine=signup.mine_section,
    jobs=(ACTIVITY_TICK,),
    catalog_keys=_keys,
)
