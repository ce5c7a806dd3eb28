"""Schools of a district in one bot: picking one's school when joining, and /school for a
member of several (bot/org_resolver.py decides each update's organization)."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.ext import Application, ApplicationHandlerStop, CommandHandler, TypeHandler, filters

from bot.buttons import ButtonHandler
from bot.callback import CallbackDataError
from bot.context import UnionContext
from bot.org_resolver import chosen_org, person_orgs
from handlers.common import keyboard, say
from handlers.members.buttons import RegistrationSchool, SchoolChoice
from handlers.menu.commands import show_menu
from models.district import find_schools, org_in_district, schools_of
from models.organizations import Organization, get_organization

logger = logging.getLogger(__name__)

SCHOOL_LINK_PREFIX = "org-"  # t.me/<bot>?start=org-12: join that school (or the district)
PICKER_SIZE = 8
SCHOOL_GATE_GROUP = -97  # after the member is loaded (-100), before any form (-50)


async def org_name(context: UnionContext, org_id: int | None = None) -> str:
    """The name people see: the settings' name in a single-school deployment (as always),
    else the organization's own name."""
    if org_id is None or not context.in_district:
        return await context.org_name()
    async with context.db() as session:
        org = await get_organization(session, org_id)
    return org.name


def needs_school(context: UnionContext, user_id: int) -> bool:
    """A stranger in a district who has not picked a school yet (owners join the district
    union itself, as its first chair; so does whoever came by the district's own link)."""
    district_id = context.state.district_id
    return (
        district_id is not None
        and context.actor is None
        and context.org_id == district_id
        and user_id not in context.settings.owner_ids
        and chosen_org(context.user_data) != district_id
    )


async def ask_school(update: Update, context: UnionContext) -> None:
    """Which school are you at? All schools as buttons when they are few, else type a name."""
    district_id = context.state.district_id
    assert district_id is not None
    async with context.db() as session:
        schools = await schools_of(session, district_id=district_id)
    if not schools:
        await say(update, context, context.t("school.none_yet"))
        return
    if len(schools) <= PICKER_SIZE:
        await say(update, context, context.t("school.pick"), _school_buttons(schools))
        return
    await say(update, context, context.t("school.type_name", count=len(schools)))


def _school_buttons(schools: list[Organization]) -> InlineKeyboardMarkup:
    return keyboard(*[[(school.name, RegistrationSchool(school.id or 0))] for school in schools])


async def search_school(update: Update, context: UnionContext, query: str) -> None:
    """The schools whose names contain what the person typed, as buttons."""
    district_id = context.state.district_id
    assert district_id is not None
    async with context.db() as session:
        found = await find_schools(session, district_id=district_id, query=query, limit=PICKER_SIZE)
    if not found:
        await say(update, context, context.t("school.not_found", query=query))
        return
    await say(update, context, context.t("school.found"), _school_buttons(found))


async def school_of_link(context: UnionContext, org_id: int) -> Organization | None:
    """The school (or the district union) a join link names, if it is one of this
    deployment's (ids in links can be forged)."""
    district_id = context.state.district_id
    if district_id is None:
        return None
    async with context.db() as session:
        return await org_in_district(session, district_id=district_id, org_id=org_id)


async def choose_school(update: Update, context: UnionContext) -> None:
    """/school: which of one's schools to act for (a member of one school is told its name)."""
    user = update.effective_user
    assert user is not None
    async with context.db() as session:
        holding, _ = await person_orgs(session, user.id)
        orgs = [await get_organization(session, org_id) for org_id in holding]
    if len(orgs) <= 1:
        name = orgs[0].name if orgs else await org_name(context)
        await say(update, context, context.t("school.only_one", school=name))
        return
    await _ask_which(update, context, orgs)


async def _ask_which(update: Update, context: UnionContext, orgs: list[Organization]) -> None:
    markup = keyboard(*[[(org.name, SchoolChoice(org.id or 0))] for org in orgs])
    await say(update, context, context.t("school.which"), markup)


async def school_chosen(update: Update, context: UnionContext) -> None:
    """A school pressed under /school: from now on the person acts for it."""
    user = update.effective_user
    assert user is not None
    org_id = context.button_as(SchoolChoice).org_id
    async with context.db() as session:
        holding, _ = await person_orgs(session, user.id)
    if org_id not in holding:
        await context.answer(update, context.t("school.not_yours"), alert=True)
        return
    await context.answer(update)
    forms = context.state.forms
    if forms is not None:
        # A draft begun for the other school must not be sent to this one.
        forms.end(user.id)
    context.choose_org(org_id)
    await context.refresh_actor(update)
    logger.info("A member of several organizations now acts for organization %s", org_id)
    await say(update, context, context.t("school.now_acting", school=await org_name(context)))
    await show_menu(update, context)


async def ask_before_anything(update: Update, context: UnionContext) -> None:
    """A member of several schools who has not chosen: asked which, before anything else (no
    words of theirs may reach a school they did not mean)."""
    chat = update.effective_chat
    if not context.school_choices or chat is None or chat.type != ChatType.PRIVATE:
        return
    if _is_school_choice(update):
        return
    async with context.db() as session:
        orgs = [await get_organization(session, org_id) for org_id in context.school_choices]
    await context.answer(update)
    await _ask_which(update, context, orgs)
    raise ApplicationHandlerStop


def _is_school_choice(update: Update) -> bool:
    query = update.callback_query
    if query is None:
        return False
    try:
        SchoolChoice.unpack(query.data)
    except CallbackDataError:
        return False
    return True


def register(application: Application) -> None:
    """Add /school, its buttons and the question asked of members of several schools."""
    application.add_handler(TypeHandler(Update, ask_before_anything), group=SCHOOL_GATE_GROUP)
    application.add_handler(
        CommandHandler("school", choose_school, filters=filters.ChatType.PRIVATE)
    )
    application.add_handler(ButtonHandler(SchoolChoice, school_chosen))
