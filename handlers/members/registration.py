"""/start: deep links (roster invitations) and the registration conversation (入会申请)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime
from enum import IntEnum
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    BaseHandler,
    CommandHandler,
    ConversationHandler,
    filters,
)

from bot.buttons import Button, ButtonHandler
from bot.context import UnionContext
from bot.forms import Form
from bot.i18n import CODE_OF, LANGUAGES, SHORT_CODES
from handlers.common import (
    conversation,
    family_step,
    keyboard,
    profile_lines,
    refuse,
    say,
    say_receipt,
    text_step,
    typed_text,
    user_draft,
)
from handlers.members import schools
from handlers.members.buttons import (
    RegistrationBirthday,
    RegistrationConfirm,
    RegistrationGender,
    RegistrationLanguage,
    RegistrationRetired,
    RegistrationSchool,
)
from handlers.members.joining import announce_join_request
from handlers.menu.commands import show_menu
from models.desk import desk_chat_ids
from models.district import SCHOOL_NAME_LIMIT, get_school
from models.errors import DomainError
from models.members import (
    DEPARTMENT_LIMIT,
    NAME_LIMIT,
    Gender,
    MemberStatus,
    Profile,
    bind_invite,
    invite_org,
    submit_registration,
)
from models.validation import Birthday, parse_birthday

logger = logging.getLogger(__name__)

INVITE_PREFIX = "inv-"
DEEP_LINK_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")
Step = BaseHandler[Any, Any, Any]


def _draft(context: UnionContext) -> dict[str, Any]:
    return user_draft(context, "registration")


class Reg(IntEnum):
    """Steps of the registration conversation."""

    LANGUAGE = 1
    NAME = 2
    DEPARTMENT = 3
    GENDER = 4
    BIRTHDAY = 5
    RETIRED = 6
    CONFIRM = 7
    SCHOOL = 8  # district deployments: which school, after the language


def language_keyboard(context: UnionContext, make: Callable[[str], Button]) -> InlineKeyboardMarkup:
    """Buttons naming each language in that language (`make(short code)` for each)."""
    return keyboard(
        [
            (context.i18n.get(language)("language.self_name"), make(CODE_OF[language]))
            for language in LANGUAGES
        ]
    )


async def start(update: Update, context: UnionContext) -> int:
    """/start: greet members, bind invitation links, or begin registration."""
    payload = context.args[0] if context.args else ""
    # Only what a link of ours can carry is read (Telegram's own rule for start links); any
    # other text typed after /start is an unknown link, said plainly.
    ours = DEEP_LINK_PAYLOAD.fullmatch(payload) is not None
    if ours and payload.startswith(INVITE_PREFIX):
        await _bind_invitation(update, context, payload.removeprefix(INVITE_PREFIX))
        return ConversationHandler.END
    if ours and payload.startswith(schools.SCHOOL_LINK_PREFIX) and context.in_district:
        if not await _follow_school_link(update, context, payload):
            return ConversationHandler.END
        payload = ""
    elif context.in_district and context.actor is None and not payload:
        context.choose_org(None)  # a plain /start picks the school again
    actor = context.actor
    if actor is not None and actor.member.status == MemberStatus.PENDING:
        await say(update, context, context.t("join.already_pending"))
        return ConversationHandler.END
    if actor is not None and actor.member.status == MemberStatus.INACTIVE:
        await say(update, context, context.t("join.inactive"))
        return ConversationHandler.END
    link = next(
        (
            link
            for feature in context.state.features
            for link in feature.deep_links
            if ours and payload.startswith(link.prefix)
        ),
        None,
    )
    if actor is not None and actor.is_active and link is not None:
        await link.open(update, context, payload.removeprefix(link.prefix))
        return ConversationHandler.END
    if actor is not None and actor.is_active:
        if payload:
            await say(update, context, context.t("start.link_unknown"))
        await say(update, context, context.t("start.welcome_back", name=actor.member.real_name))
        await show_menu(update, context)
        return ConversationHandler.END
    if link is not None:
        await say(update, context, context.t(link.join_first_key))
    elif payload:
        await say(update, context, context.t("start.link_unknown"))
    _draft(context).clear()
    await say(
        update,
        context,
        context.t("start.welcome", org=await schools.org_name(context)),
        language_keyboard(context, RegistrationLanguage),
    )
    return Reg.LANGUAGE


async def _follow_school_link(update: Update, context: UnionContext, payload: str) -> bool:
    """A school's join link (district deployments): the school is picked for the person;
    False when they cannot join through it (told why)."""
    digits = payload.removeprefix(schools.SCHOOL_LINK_PREFIX)
    org = await schools.school_of_link(context, int(digits)) if digits.isdigit() else None
    if org is None or org.id is None:
        await say(update, context, context.t("start.link_unknown"))
        return False
    actor = context.actor
    if actor is not None and actor.member.organization_id != org.id and actor.is_active:
        await say(
            update,
            context,
            context.t("school.already_member", school=await schools.org_name(context)),
        )
        return False
    context.choose_org(org.id)
    await context.refresh_actor(update)
    return True


async def _bind_invitation(update: Update, context: UnionContext, code: str) -> None:
    user = update.effective_user
    assert user is not None
    language = context.tr.language
    org_id = context.org_id
    try:
        async with context.db() as session:
            if context.in_district:
                # The code names its school; any other school's members are not searched.
                org_id = await invite_org(session, code=code) or org_id
            member = await bind_invite(
                session,
                org_id=org_id,
                telegram_user_id=user.id,
                code=code,
                language=language,
            )
    except DomainError as error:
        await refuse(update, context, error)
        return
    logger.info("Roster member %s bound a Telegram account", member.id)
    if context.in_district:
        context.choose_org(org_id)
    await context.refresh_actor(update)
    await say(update, context, context.t("invite.bound", name=member.real_name))
    await show_menu(update, context)


async def choose_language(update: Update, context: UnionContext) -> int:
    """A language button during registration."""
    assert context.user_data is not None
    code = context.button_as(RegistrationLanguage).code
    await context.answer(update)
    language = SHORT_CODES.get(code)
    if language is None:
        return Reg.LANGUAGE
    context.user_data["language"] = language
    _draft(context)["language"] = language
    if _needs_school(update, context):
        await schools.ask_school(update, context)
        return Reg.SCHOOL
    await say(update, context, context.t("reg.ask_name", limit=NAME_LIMIT))
    return Reg.NAME


def _needs_school(update: Update, context: UnionContext) -> bool:
    user = update.effective_user
    return user is not None and schools.needs_school(context, user.id)


async def got_school_query(update: Update, context: UnionContext) -> int:
    """Part of a school's name, typed at the school step."""
    query = await typed_text(update, context, limit=SCHOOL_NAME_LIMIT)
    if query is not None:
        await schools.search_school(update, context, query)
    return Reg.SCHOOL


async def got_school(update: Update, context: UnionContext) -> int:
    """A school pressed at the school step: the join request will go to its committee."""
    await context.answer(update)
    district_id = context.state.district_id
    if district_id is None:
        return ConversationHandler.END
    try:
        async with context.db() as session:
            school = await get_school(
                session,
                district_id=district_id,
                school_id=context.button_as(RegistrationSchool).school_id,
            )
    except DomainError as error:
        await say(update, context, context.t(error.key, **error.params))
        return Reg.SCHOOL
    assert school.id is not None
    context.choose_org(school.id)
    await say(update, context, context.t("school.chosen", school=school.name))
    await say(update, context, context.t("reg.ask_name", limit=NAME_LIMIT))
    return Reg.NAME


async def got_name(update: Update, context: UnionContext) -> int:
    """The real name."""
    name = await typed_text(update, context, limit=NAME_LIMIT)
    if name is None:
        return Reg.NAME
    _draft(context)["real_name"] = name
    await say(update, context, context.t("reg.ask_department", limit=DEPARTMENT_LIMIT))
    return Reg.DEPARTMENT


async def got_department(update: Update, context: UnionContext) -> int:
    """The department or teaching group."""
    department = await typed_text(update, context, limit=DEPARTMENT_LIMIT)
    if department is None:
        return Reg.DEPARTMENT
    _draft(context)["department"] = department
    await _ask_gender(update, context)
    return Reg.GENDER


async def _ask_gender(update: Update, context: UnionContext) -> None:
    await say(
        update,
        context,
        context.t("reg.ask_gender"),
        keyboard(
            [
                (context.t("gender.female"), RegistrationGender("female")),
                (context.t("gender.male"), RegistrationGender("male")),
            ],
            [(context.t("reg.skip"), RegistrationGender("skip"))],
        ),
    )


async def got_gender(update: Update, context: UnionContext) -> int:
    """Gender button (or skip)."""
    choice = context.button_as(RegistrationGender).choice
    await context.answer(update)
    _draft(context)["gender"] = choice if choice in (Gender.FEMALE, Gender.MALE) else None
    await say(update, context, context.t("reg.ask_birthday"), _skip_birthday(context))
    return Reg.BIRTHDAY


def _skip_birthday(context: UnionContext) -> InlineKeyboardMarkup:
    """The birthday is optional in registration: 跳过 under the question and every refusal."""
    return keyboard([(context.t("reg.skip"), RegistrationBirthday("skip"))])


async def got_birthday(update: Update, context: UnionContext) -> int:
    """Birthday as text."""
    assert update.message is not None
    today = datetime.now(context.settings.zone).date()
    try:
        birthday = parse_birthday(update.message.text or "", today=today)
    except DomainError as error:
        await say(update, context, context.t(error.key, **error.params), _skip_birthday(context))
        return Reg.BIRTHDAY
    _draft(context)["birthday"] = str(birthday)
    await _ask_retired(update, context)
    return Reg.RETIRED


async def skip_birthday(update: Update, context: UnionContext) -> int:
    """The skip button at the birthday step."""
    assert update.callback_query is not None
    await context.answer(update)
    _draft(context)["birthday"] = None
    await _ask_retired(update, context)
    return Reg.RETIRED


async def _ask_retired(update: Update, context: UnionContext) -> None:
    await say(
        update,
        context,
        context.t("reg.ask_retired"),
        keyboard(
            [
                (context.t("common.no"), RegistrationRetired("no")),
                (context.t("common.yes"), RegistrationRetired("yes")),
            ]
        ),
    )


async def got_retired(update: Update, context: UnionContext) -> int:
    """Retired yes/no, then the preview."""
    choice = context.button_as(RegistrationRetired).choice
    await context.answer(update)
    _draft(context)["retired"] = choice == "yes"
    profile = _profile_from_draft(_draft(context))
    lines = [context.t("reg.preview_title"), *profile_lines(context.tr, profile)]
    await say(
        update,
        context,
        "\n".join(lines),
        keyboard(
            [(context.t("reg.confirm"), RegistrationConfirm("yes"))],
            [
                (context.t("reg.restart"), RegistrationConfirm("restart")),
                (context.t("common.cancel"), RegistrationConfirm("cancel")),
            ],
        ),
    )
    return Reg.CONFIRM


def _profile_from_draft(draft: dict[str, object]) -> Profile:
    birthday_text = draft.get("birthday")
    birthday = Birthday.parse_stored(birthday_text) if isinstance(birthday_text, str) else None
    gender = draft.get("gender")
    return Profile(
        real_name=str(draft.get("real_name", "")),
        department=str(draft.get("department", "")),
        gender=Gender(gender) if isinstance(gender, str) else None,
        birthday=birthday,
        retired=bool(draft.get("retired", False)),
    )


async def confirm(update: Update, context: UnionContext) -> int:
    """Confirm, start over or cancel at the preview."""
    user = update.effective_user
    assert user is not None
    choice = context.button_as(RegistrationConfirm).choice
    await context.answer(update)
    if choice == "restart":
        await say(update, context, context.t("reg.ask_name", limit=NAME_LIMIT))
        return Reg.NAME
    if choice != "yes":
        return await _abandon(update, context)
    draft = _draft(context)
    if not draft.get("real_name") or not draft.get("department"):
        await say(update, context, context.t("reg.incomplete"))
        return ConversationHandler.END
    is_owner = user.id in context.settings.owner_ids
    if _needs_school(update, context):
        # The school was forgotten meanwhile (a /start elsewhere): never file it with the
        # district union by default.
        await schools.ask_school(update, context)
        return Reg.SCHOOL
    try:
        # One session: the desk's chats are read in the registration's transaction, not in
        # a session of their own after it.
        async with context.db() as session:
            chats = [] if is_owner else await desk_chat_ids(session, org_id=context.org_id)
            member, request = await submit_registration(
                session,
                org_id=context.org_id,
                telegram_user_id=user.id,
                profile=_profile_from_draft(draft),
                language=str(draft.get("language") or context.tr.language),
                is_owner=is_owner,
            )
    except DomainError as error:
        await refuse(update, context, error)
        return ConversationHandler.END
    draft.clear()
    await context.refresh_actor(update)
    if request is None:
        logger.info("Owner registered as chair: member %s", member.id)
        await say(update, context, context.t("reg.owner_done", name=member.real_name))
        await show_menu(update, context)
        return ConversationHandler.END
    logger.info("Join request %s submitted by member %s", request.id, member.id)
    await announce_join_request(context, request, member, chats=chats)
    await say_receipt(update, context, context.t("reg.submitted", name=member.real_name))
    return ConversationHandler.END


async def cancel(update: Update, context: UnionContext) -> int:
    """/cancel: leave registration; nothing is stored."""
    return await _abandon(update, context)


async def _abandon(update: Update, context: UnionContext) -> int:
    _draft(context).clear()
    await say(update, context, context.t("reg.cancelled"))
    return ConversationHandler.END


def build_conversation() -> ConversationHandler:
    """The registration conversation."""
    return conversation(
        entry_points=[CommandHandler("start", start, filters=filters.ChatType.PRIVATE)],
        states={
            Reg.LANGUAGE: family_step(choose_language, RegistrationLanguage),
            Reg.SCHOOL: [
                ButtonHandler(RegistrationSchool, got_school),
                *text_step(got_school_query),
            ],
            Reg.NAME: text_step(got_name),
            Reg.DEPARTMENT: text_step(got_department),
            Reg.GENDER: family_step(got_gender, RegistrationGender),
            Reg.BIRTHDAY: [
                ButtonHandler(RegistrationBirthday, skip_birthday),
                *text_step(got_birthday),
            ],
            Reg.RETIRED: family_step(got_retired, RegistrationRetired),
            Reg.CONFIRM: family_step(confirm, RegistrationConfirm),
        },
        fallbacks=[
            CommandHandler("cancel", cancel),
        ],
        allow_reentry=True,
        name="registration",
    )


def register(application: Application) -> None:
    """Add the /start and registration handlers."""


def forms() -> list[Form]:
    """The forms of this feature (run by the form engine, one active per person)."""
    return [
        Form(
            build_conversation(),
            label_key="form.label.registration",
            drafts=("registration",),
        ),
    ]
