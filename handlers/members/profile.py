"""/me (see and edit one's profile) and /language."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from enum import IntEnum

from telegram import Update
from telegram.ext import (
    Application,
    CommandHandler,
    ConversationHandler,
    filters,
)

from bot.buttons import ButtonHandler
from bot.context import UnionContext
from bot.forms import Form
from bot.i18n import SHORT_CODES
from handlers.common import (
    conversation,
    keyboard,
    profile_lines,
    refuse,
    require_member,
    say,
    text_step,
)
from handlers.members.buttons import (
    LanguageChoice,
    ProfileEdit,
    ProfileGender,
    ProfileLanguage,
    ProfileMute,
    ProfileRetired,
)
from handlers.members.registration import language_keyboard
from handlers.menu.commands import publish_member_commands
from models.errors import DomainError
from models.members import (
    DEPARTMENT_LIMIT,
    NAME_LIMIT,
    Gender,
    profile_of,
    set_language,
    set_muted,
    update_profile,
)
from models.validation import clean_text, parse_birthday


class Edit(IntEnum):
    """The one step of editing a text field."""

    VALUE = 1


async def show_profile(update: Update, context: UnionContext) -> None:
    """/me: the profile with edit buttons."""
    actor = await require_member(update, context)
    if actor is None:
        return
    member = actor.member
    greetings = context.t(
        "profile.greetings_off" if member.mute_greetings else "profile.greetings_on"
    )
    lines = [
        context.t("profile.title"),
        *profile_lines(context.tr, profile_of(member)),
        greetings,
        context.t("profile.why"),
    ]
    markup = keyboard(
        [
            (context.t("profile.edit_name"), ProfileEdit("name")),
            (context.t("profile.edit_department"), ProfileEdit("dept")),
        ],
        [
            (context.t("profile.edit_birthday"), ProfileEdit("birthday")),
            (context.t("profile.edit_gender"), ProfileGender("ask")),
        ],
        [
            (context.t("profile.toggle_retired"), ProfileRetired("toggle")),
            (context.t("menu.language"), ProfileLanguage("ask")),
        ],
        [
            (
                context.t("profile.unmute" if member.mute_greetings else "profile.mute"),
                ProfileMute("toggle"),
            )
        ],
    )
    await say(update, context, "\n".join(lines), markup)


async def ask_value(update: Update, context: UnionContext) -> int:
    """An edit button for a text field: ask for the new value."""
    assert context.user_data is not None
    field = context.button_as(ProfileEdit).field
    await context.answer(update)
    if await require_member(update, context) is None:
        return ConversationHandler.END
    context.user_data["editing"] = field
    prompts = {
        "name": context.t("reg.ask_name", limit=NAME_LIMIT),
        "dept": context.t("reg.ask_department", limit=DEPARTMENT_LIMIT),
        "birthday": context.t("reg.ask_birthday"),
    }
    await say(update, context, prompts[field] + "\n" + context.t("profile.cancel_hint"))
    return Edit.VALUE


async def save_value(update: Update, context: UnionContext) -> int:
    """The new value for the field being edited."""
    assert update.message is not None and context.user_data is not None
    actor = await require_member(update, context)
    if actor is None:
        return ConversationHandler.END
    field = context.user_data.get("editing")
    current = profile_of(actor.member)
    text = update.message.text
    try:
        if field == "name":
            changed = replace(current, real_name=clean_text(text, limit=NAME_LIMIT))
        elif field == "dept":
            changed = replace(current, department=clean_text(text, limit=DEPARTMENT_LIMIT))
        elif field == "birthday":
            today = datetime.now(context.settings.zone).date()
            changed = replace(current, birthday=parse_birthday(text or "", today=today))
        else:
            return ConversationHandler.END
    except DomainError as error:
        await refuse(update, context, error)
        return Edit.VALUE
    async with context.db() as session:
        await update_profile(session, member=actor.member, profile=changed)
    context.user_data.pop("editing", None)
    await say(update, context, context.t("profile.saved"))
    await show_profile(update, context)
    return ConversationHandler.END


async def cancel_edit(update: Update, context: UnionContext) -> int:
    """/cancel while editing."""
    if context.user_data is not None:
        context.user_data.pop("editing", None)
    await say(update, context, context.t("profile.edit_cancelled"))
    return ConversationHandler.END


async def gender_pressed(update: Update, context: UnionContext) -> None:
    """Gender: `ask` shows the choices; a choice saves it."""
    choice = context.button_as(ProfileGender).choice
    await context.answer(update)
    actor = await require_member(update, context)
    if actor is None:
        return
    if choice == "ask":
        await say(
            update,
            context,
            context.t("reg.ask_gender"),
            keyboard(
                [
                    (context.t("gender.female"), ProfileGender("female")),
                    (context.t("gender.male"), ProfileGender("male")),
                ],
                [(context.t("profile.not_given"), ProfileGender("none"))],
            ),
        )
        return
    gender = None if choice == "none" else Gender(choice)
    current = profile_of(actor.member)
    async with context.db() as session:
        await update_profile(session, member=actor.member, profile=replace(current, gender=gender))
    await say(update, context, context.t("profile.saved"))
    await show_profile(update, context)


async def retired_toggled(update: Update, context: UnionContext) -> None:
    """Flip the retired flag."""
    await context.answer(update)
    actor = await require_member(update, context)
    if actor is None:
        return
    current = profile_of(actor.member)
    async with context.db() as session:
        await update_profile(
            session,
            member=actor.member,
            profile=replace(current, retired=not current.retired),
        )
    await say(update, context, context.t("profile.saved"))
    await show_profile(update, context)


async def mute_toggled(update: Update, context: UnionContext) -> None:
    """Mute or unmute holiday and birthday greetings."""
    await context.answer(update)
    actor = await require_member(update, context)
    if actor is None:
        return
    async with context.db() as session:
        await set_muted(session, member=actor.member, muted=not actor.member.mute_greetings)
    await say(update, context, context.t("profile.saved"))
    await show_profile(update, context)


async def ask_language(update: Update, context: UnionContext) -> None:
    """/language: the language buttons."""
    if update.callback_query is not None:
        await context.answer(update)
    await say(
        update, context, context.t("language.choose"), language_keyboard(context, LanguageChoice)
    )


async def language_chosen(update: Update, context: UnionContext) -> None:
    """A language button outside registration."""
    assert context.user_data is not None
    code = context.button_as(LanguageChoice).code
    await context.answer(update)
    language = SHORT_CODES.get(code)
    if language is None:
        return
    context.user_data["language"] = language
    actor = context.actor
    if actor is not None:
        async with context.db() as session:
            await set_language(session, member=actor.member, language=language)
        if actor.is_committee:
            await publish_member_commands(context.bot, context.i18n, context.state.features, actor)
    await say(update, context, context.t("language.saved"))


def register(application: Application) -> None:
    """Add /me, /language and their buttons."""
    application.add_handler(CommandHandler("me", show_profile, filters=filters.ChatType.PRIVATE))
    application.add_handler(
        CommandHandler("language", ask_language, filters=filters.ChatType.PRIVATE)
    )
    application.add_handler(ButtonHandler(ProfileGender, gender_pressed))
    application.add_handler(ButtonHandler(ProfileRetired, retired_toggled))
    application.add_handler(ButtonHandler(ProfileMute, mute_toggled))
    application.add_handler(ButtonHandler(ProfileLanguage, ask_language))
    application.add_handler(ButtonHandler(LanguageChoice, language_chosen))


def forms() -> list[Form]:
    """The forms of this feature (run by the form engine, one active per person)."""
    return [
        Form(
            conversation(
                entry_points=[ButtonHandler(ProfileEdit, ask_value)],
                states={Edit.VALUE: text_step(save_value)},
                fallbacks=[CommandHandler("cancel", cancel_edit)],
                allow_reentry=True,
                name="profile_edit",
            ),
            label_key="form.label.profile_edit",
            drafts=("editing",),
        ),
    ]
