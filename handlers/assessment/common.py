"""Who is pressing: district staff (of the district whose chat this is) or a school's chair;
checked on every press against the member loaded for this update, never the button's word."""

from __future__ import annotations

from telegram import Update

from bot.context import UnionContext
from handlers import district_access as access
from handlers.district_access import ChairRefusals
from models.assessment import Assessment, AssessmentStatus
from models.errors import N_
from models.members import Actor
from models.organizations import Organization


def this_year(context: UnionContext) -> int:
    """The year in the union's time zone (an assessment is per year)."""
    return context.state.clock().astimezone(context.settings.zone).year


_CHAIR_REFUSALS = ChairRefusals(
    no_district=N_("assess.no_district"),
    not_chair=N_("assess.not_school_chair"),
    not_your_school=N_("assess.not_your_school"),
)


async def district_staff(
    update: Update, context: UnionContext
) -> tuple[Actor, Organization] | None:
    """The district staff member behind the update and their district, or None after saying
    who may do this."""
    return await access.district_staff(update, context, refusal=N_("assess.not_district_staff"))


async def school_chair(
    update: Update, context: UnionContext, *, school_id: int | None = None
) -> tuple[Actor, Organization] | None:
    """The school chair behind the update and their school (which must be `school_id` when a
    button names one), or None after saying why."""
    return await access.school_chair(update, context, refusals=_CHAIR_REFUSALS, school_id=school_id)


def status_word(context: UnionContext, assessment: Assessment) -> str:
    """草稿 / 进行中 / 已结束."""
    return context.t(f"assess.status.{AssessmentStatus(assessment.status).value}")
