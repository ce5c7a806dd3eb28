"""Who is pressing: district staff (of the district whose chat this is) or a school's chair;
checked on every press against the member loaded for this update, never the button's word."""

from __future__ import annotations

from telegram import Update

from bot.context import UnionContext
from handlers.common import refuse, require_member
from models.assessment import Assessment, AssessmentStatus, answers_for_school
from models.district import is_district_staff
from models.errors import N_, DomainError
from models.members import Actor
from models.organizations import Organization, OrgKind


def this_year(context: UnionContext) -> int:
    """The year in the union's time zone (an assessment is per year)."""
    return context.state.clock().astimezone(context.settings.zone).year


async def _organization(context: UnionContext) -> Organization | None:
    async with context.db() as session:
        return await session.get(Organization, context.org_id)


async def district_staff(
    update: Update, context: UnionContext
) -> tuple[Actor, Organization] | None:
    """The district staff member behind the update and their district, or None after saying
    who may do this."""
    actor = await require_member(update, context)
    if actor is None:
        return None
    org = await _organization(context)
    if not is_district_staff(actor, org):
        await refuse(update, context, DomainError(N_("assess.not_district_staff")))
        return None
    assert org is not None
    return actor, org


async def school_chair(
    update: Update, context: UnionContext, *, school_id: int | None = None
) -> tuple[Actor, Organization] | None:
    """The school chair behind the update and their school (which must be `school_id` when a
    button names one: a forged button naming another school is refused), or None after saying
    why."""
    actor = await require_member(update, context)
    if actor is None:
        return None
    org = await _organization(context)
    if org is None or org.kind != OrgKind.SCHOOL or org.parent_id is None:
        await refuse(update, context, DomainError(N_("assess.no_district")))
        return None
    if not answers_for_school(actor, org):
        await refuse(update, context, DomainError(N_("assess.not_school_chair")))
        return None
    if school_id is not None and school_id != org.id:
        await refuse(update, context, DomainError(N_("assess.not_your_school")))
        return None
    return actor, org


def status_word(context: UnionContext, assessment: Assessment) -> str:
    """草稿 / 进行中 / 已结束."""
    return context.t(f"assess.status.{AssessmentStatus(assessment.status).value}")
