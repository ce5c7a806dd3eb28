"""The district's annual school assessment (目标管理考核 / 年度考核): /assessment for district
staff (create from the default checklist, open, score, close, compare, export) and for school
chairs (the items, evidence per item, their own scores)."""

from __future__ import annotations

from telegram.ext import Application

from bot.features import DISTRICT_WIDE, Audience, CommandSpec, Feature, MenuEntry
from bot.forms import Form
from handlers.assessment import deadline, desk, school
from models.assessment import AssessmentStatus
from models.errors import N_
from scheduler.district_reminders import ASSESSMENT_REMINDERS


def _forms() -> list[Form]:
    return [*desk.forms(), *deadline.forms(), *school.forms()]


def _register(application: Application) -> None:
    desk.register(application)


def _keys() -> set[str]:
    return {f"assess.status.{status.value}" for status in AssessmentStatus}


FEATURE = Feature(
    name="assessment",
    register=_register,
    forms=_forms,
    # District staff and school chairs both hold committee offices; the handler tells them
    # apart (and refuses a school's other committee members with a line saying who may).
    commands=(
        CommandSpec(
            "assessment", N_("assess.cmd"), Audience.COMMITTEE, order=40, places=DISTRICT_WIDE
        ),
    ),
    menu=(
        MenuEntry(
            "assessment",
            N_("menu.assessment"),
            Audience.COMMITTEE,
            desk.assessment_command,
            order=22,
            places=DISTRICT_WIDE,
        ),
    ),
    catalog_keys=_keys,
    jobs=(ASSESSMENT_REMINDERS,),
)
