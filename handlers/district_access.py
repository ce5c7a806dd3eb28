"""Who may do a district feature's work, read from the database at the moment of the press:
the district union's staff, or a school's chair (or vice-chair) for their own school. Each
feature passes the refusal lines in its own words."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Update

from bot.context import UnionContext
from handlers.common import refuse, require_member
from models.assessment import answers_for_school
from models.district import is_district_staff
from models.errors import DomainError
from models.members import Actor
from models.organizations import Organization, OrgKind


@dataclass(frozen=True)
class ChairRefusals:
    """The catalog keys a feature refuses with when the presser is not a school's chair."""

    no_district: str  # not at a school of a district (a single school, the district union)
    not_chair: str  # a school's member without the chair's office
    not_your_school: str  # a button naming another school


async def this_organization(context: UnionContext) -> Organization | None:
    """The organization this update belongs to (the district union, for its staff)."""
    async with context.db() as session:
        return await session.get(Organization, context.org_id)


async def district_staff(
    update: Update, context: UnionContext, *, refusal: str
) -> tuple[Actor, Organization] | None:
    """The district staff member behind the update and their district, or None after the
    `refusal` line (a school's committee, a plain member, a stranger)."""
    actor = await require_member(update, context)
    if actor is None:
        return None
    org = await this_organization(context)
    if not is_district_staff(actor, org):
        await refuse(update, context, DomainError(refusal))
        return None
    assert org is not None
    return actor, org


async def school_chair(
    update: Update,
    context: UnionContext,
    *,
    refusals: ChairRefusals,
    school_id: int | None = None,
) -> tuple[Actor, Organization] | None:
    """The school chair (or vice-chair) behind the update and their school, which must be
    `school_id` when a button names one (a forged button naming another school is refused),
    or None after saying why."""
    actor = await require_member(update, context)
    if actor is None:
        return None
    org = await this_organization(context)
    if org is None or org.kind != OrgKind.SCHOOL or org.parent_id is None:
        await refuse(update, context, DomainError(refusals.no_district))
        return None
    if school_id is not None and school_id != org.id:
        await refuse(update, context, DomainError(refusals.not_your_school))
        return None
    if not answers_for_school(actor, org):
        await refuse(update, context, DomainError(refusals.not_chair))
        return None
    return actor, org
