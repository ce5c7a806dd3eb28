"""Tasks the district union sends down to its schools' chairs (区工会下发任务): /dtask to send
one, /dtasks to follow them, Mark done / Reply with a file for the chairs, and the daily
reminder of the schools still pending near the deadline."""

from __future__ import annotations

from telegram.ext import Application

from bot.features import DISTRICT_UNION, Audience, CommandSpec, Feature, MenuEntry
from bot.forms import Form
from handlers.district_tasks import answer, create, district
from models.district_tasks import AnswerKind
from models.errors import N_
from scheduler.district_task_jobs import DTASK_REMINDERS


def _register(application: Application) -> None:
    answer.register(application)
    district.register(application)


def _forms() -> list[Form]:
    return [create.form(), answer.form()]


def _keys() -> set[str]:
    return (
        {f"dtask.kind.{kind}" for kind in AnswerKind}
        | {f"dtask.how.{kind}" for kind in AnswerKind}
        | {f"dtask.button.{kind}" for kind in AnswerKind}
    )


FEATURE = Feature(
    name="district_tasks",
    register=_register,
    forms=_forms,
    # Offered at the district union only; a school's committee member who types them is told
    # they are the district's.
    commands=(
        CommandSpec(
            "dtask", N_("dtask.cmd_new"), Audience.COMMITTEE, order=90, places=DISTRICT_UNION
        ),
        CommandSpec(
            "dtasks", N_("dtask.cmd_list"), Audience.COMMITTEE, order=91, places=DISTRICT_UNION
        ),
    ),
    menu=(
        MenuEntry(
            "dtasks",
            N_("menu.dtasks"),
            Audience.COMMITTEE,
            district.list_tasks,
            order=21,
            places=DISTRICT_UNION,
        ),
    ),
    jobs=(DTASK_REMINDERS,),
    catalog_keys=_keys,
)
