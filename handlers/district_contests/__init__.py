"""District contests between the schools' teams (/dcontest) and the district's selection of
优秀提案 among the schools' excellent proposals (/dexcellent)."""

from __future__ import annotations

from telegram.ext import Application

from bot.features import DISTRICT_WIDE, Audience, CommandSpec, Feature, MenuEntry
from bot.forms import Form
from handlers.district_contests import contests, excellent
from models.district_contests import Award, ContestKind, ContestStatus
from models.errors import N_
from scheduler.district_reminders import CONTEST_REMINDERS


def _forms() -> list[Form]:
    return contests.forms()


def _register(application: Application) -> None:
    contests.register(application)
    excellent.register(application)


def _keys() -> set[str]:
    return {
        *(f"dcontest.kind.{kind.value}" for kind in ContestKind),
        *(f"dcontest.award.{award.value}" for award in Award),
        *(f"dcontest.status.{status.value}" for status in ContestStatus),
        *(f"dexcel.status.{status.value}" for status in ContestStatus),
    }


FEATURE = Feature(
    name="district_contests",
    register=_register,
    forms=_forms,
    # District staff and school chairs both hold committee offices; the handlers tell them
    # apart (and refuse a school's other committee members with a line saying who may).
    commands=(
        CommandSpec(
            "dcontest", N_("dcontest.cmd"), Audience.COMMITTEE, order=41, places=DISTRICT_WIDE
        ),
        CommandSpec(
            "dexcellent", N_("dexcel.cmd"), Audience.COMMITTEE, order=42, places=DISTRICT_WIDE
        ),
    ),
    menu=(
        MenuEntry(
            "dcontest",
            N_("dcontest.menu"),
            Audience.COMMITTEE,
            contests.contest_command,
            order=23,
            places=DISTRICT_WIDE,
        ),
        MenuEntry(
            "dexcel",
            N_("dexcel.menu"),
            Audience.COMMITTEE,
            excellent.excellent_command,
            order=24,
            places=DISTRICT_WIDE,
        ),
    ),
    catalog_keys=_keys,
    jobs=(CONTEST_REMINDERS,),
)
