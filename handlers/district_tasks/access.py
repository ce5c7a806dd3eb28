"""Who may work with district tasks, read at the moment of the press."""

from __future__ import annotations

from telegram import Update

from bot.context import UnionContext
from handlers import district_access as access
from models.errors import N_
from models.members import Actor
from models.organizations import Organization


async def district_staff(
    update: Update, context: UnionContext
) -> tuple[Actor, Organization] | None:
    """The district staff member behind the update and their district, or None after saying
    that only the district's staff may do this (a school's committee, a plain member)."""
    return await access.district_staff(update, context, refusal=N_("dtask.only_district"))
