"""Which organization an update belongs to, in a district deployment (many schools, one bot).

A single-school deployment never comes here: every update is its one organization's. In a
district, the answer decides whose data a person sees and whose desk their words reach, so it
is taken from the database for every update, never guessed:

- a group or channel belongs to the organization whose committee group or disclosure channel it
  is; a group not bound yet belongs to the person in it (how a school's chair binds their group);
- a private chat belongs to the person's own organization: the one school (or the district
  union, for its staff) where they are a member or wait to be one. A person with two such rows
  (a roster in two schools) chooses with /school, and is asked before anything else until they
  have; a stranger belongs to the school they picked while joining (or by its link), else to
  no school yet: the district, where they can do nothing but pick one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Update
from telegram.constants import ChatType

from models.district import HOLDING, org_in_district
from models.members import Member
from models.organizations import Organization

CHOSEN_ORG = "org"  # the user_data key of the school a person picked (joining, or /school)


@dataclass(frozen=True)
class Where:
    """The organization of one update, and the schools to choose from when it is not settled."""

    org_id: int
    # Set when the person holds rows in several organizations and has not chosen one: every
    # update but the choice itself is answered with the question.
    choices: tuple[int, ...] = ()
    # Every organization where the person is a member or waits to be one.
    holding: tuple[int, ...] = ()


async def chat_org(session: AsyncSession, chat_id: int) -> int | None:
    """The organization whose committee group or disclosure channel this chat is."""
    query = select(Organization.id).where(
        or_(
            col(Organization.committee_chat_id) == chat_id,
            col(Organization.disclosure_chat_id) == chat_id,
        )
    )
    return (await session.exec(query)).first()


async def person_orgs(session: AsyncSession, telegram_user_id: int) -> tuple[list[int], int | None]:
    """The organizations where the person is a member or waits to be one (oldest first), and
    the organization of their latest row of any status (left, rejected: their history)."""
    query = select(Member.organization_id, Member.status).where(
        Member.telegram_user_id == telegram_user_id
    )
    rows = list(await session.exec(query.order_by(col(Member.id))))
    holding = list(dict.fromkeys(org for org, status in rows if status in HOLDING))
    return holding, (rows[-1][0] if rows else None)


def chosen_org(user_data: dict[Any, Any] | None) -> int | None:
    """The school the person picked, if any."""
    value = (user_data or {}).get(CHOSEN_ORG)
    return value if isinstance(value, int) else None


async def resolve(
    session: AsyncSession,
    *,
    update: Update,
    district_id: int,
    user_data: dict[Any, Any] | None,
) -> Where:
    """The organization of this update in a district deployment (see the module docstring)."""
    chat = update.effective_chat
    if chat is not None and chat.type != ChatType.PRIVATE:
        bound = await chat_org(session, chat.id)
        if bound is not None:
            return Where(bound)
    user = update.effective_user
    if user is None:
        return Where(district_id)
    holding, latest = await person_orgs(session, user.id)
    chosen = chosen_org(user_data)
    held = tuple(holding)
    if len(holding) == 1:
        return Where(holding[0], holding=held)
    if len(holding) > 1:
        if chosen in holding:
            assert chosen is not None
            return Where(chosen, holding=held)
        return Where(district_id, choices=held, holding=held)
    if chosen is not None and await org_in_district(
        session, district_id=district_id, org_id=chosen
    ):
        return Where(chosen)
    return Where(latest if latest is not None else district_id)
