"""Who may work with district tasks, read at the moment of the press."""

from __future__ import annotations

from datetime import date

from telegram import Update

from bot.context import UnionContext
from handlers.common import require_member, say
from models.district import is_district_staff
from models.members import Actor
from models.organizations import Organization, get_organization


def today(context: UnionContext) -> date:
    """Today in the union's zone."""
    return context.state.clock().astimezone(context.settings.zone).date()


async def district_staff(
    update: Update, context: UnionContext
) -> tuple[Actor, Organization] | None:
    """The district staff member behind the update and their district, or None after saying
    that only the district's staff may do this (a school's committee, a plain member)."""
    actor = await require_member(update, context)
    if actor is None:
        return None
    async with context.db() as session:
        org = await get_organization(session, actor.member.organization_id)
    if not is_district_staff(actor, org):
        if update.callback_query is not None:
            await context.answer(update, context.t("dtask.only_district"), alert=True)
        else:
            await say(update, context, context.t("dtask.only_district"))
        return None
    return actor, org
