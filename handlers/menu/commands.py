"""/help, /menu and the command menu (setMyCommands), all from the features' declarations."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler, ExtBot, filters

from bot.buttons import ButtonHandler
from bot.context import UnionContext
from bot.features import Audience, Feature, Place, audience_of, commands_for, menu_for
from bot.i18n import LANGUAGES, I18n, Translator
from handlers.common import keyboard, say
from handlers.menu.buttons import MenuButton
from handlers.menu.mine import show_mine
from models.members import Actor

logger = logging.getLogger(__name__)

FEATURE = "menu"


async def show_menu(update: Update, context: UnionContext) -> None:
    """The main menu: one button per thing this person can do."""
    items = menu_for(
        context.state.features,
        audience_of(context.actor),
        context.actor,
        place=place_of(context),
    )
    rows = [[(context.t(item.label_key), MenuButton(item.action))] for item in items]
    await say(update, context, context.t("menu.title"), keyboard(*rows) if rows else None)


async def menu_command(update: Update, context: UnionContext) -> None:
    """/menu."""
    await show_menu(update, context)


async def menu_pressed(update: Update, context: UnionContext) -> None:
    """A main-menu button."""
    query = update.callback_query
    assert query is not None
    action = context.button_as(MenuButton).action
    entries = menu_for(
        context.state.features,
        audience_of(context.actor),
        context.actor,
        place=place_of(context),
    )
    allowed = {entry.action: entry for entry in entries}
    entry = allowed.get(action)
    callback = entry.open if entry is not None else None
    if callback is None:
        await context.answer(update, context.t("menu.not_for_you"), alert=True)
        return
    await context.answer(update)
    await callback(update, context)


def place_of(context: UnionContext) -> Place:
    """Where this update is: a single school, a school of a district, or the district union."""
    if not context.in_district:
        return Place.SINGLE
    return Place.DISTRICT if context.org_id == context.state.district_id else Place.SCHOOL


def help_text(
    tr: Translator,
    features: Sequence[Feature],
    actor: Actor | None,
    *,
    in_group: bool,
    place: Place = Place.SINGLE,
) -> str:
    """What this person may do, one command a line."""
    audience = audience_of(actor)
    lines = [tr("help.title")]
    for spec in commands_for(features, audience, actor, place=place):
        if in_group and not spec.in_group:
            continue
        lines.append(f"/{spec.name} - {tr(spec.description_key)}")
    if audience == Audience.EVERYONE:
        lines.append(tr("help.join_hint"))
    return "\n".join(lines)


async def show_help(update: Update, context: UnionContext) -> None:
    """/help: the commands this person may use, in their language."""
    chat = update.effective_chat
    in_group = chat is not None and chat.type != "private"
    await say(
        update,
        context,
        help_text(
            context.tr,
            context.state.features,
            context.actor,
            in_group=in_group,
            place=place_of(context),
        ),
    )


def _bot_commands(
    tr: Translator,
    features: Sequence[Feature],
    audience: Audience,
    actor: Actor | None = None,
    *,
    place: Place = Place.SINGLE,
) -> list[BotCommand]:
    return [
        BotCommand(spec.name, tr(spec.description_key))
        for spec in commands_for(features, audience, actor, place=place)
    ]


def _telegram_language(language: str) -> str:
    return "en" if language == "en" else "zh"


async def publish_default_commands(
    bot: ExtBot[None], i18n: I18n, features: Sequence[Feature]
) -> None:
    """Command menus for everyone (per language) and for groups; failures are only logged."""
    try:
        default = i18n.get(i18n.default_language)
        await bot.set_my_commands(_bot_commands(default, features, Audience.MEMBER))
        for language in LANGUAGES:
            if language == "zh-Hant" and i18n.default_language != "zh-Hant":
                continue  # Telegram has one "zh" menu; the default Chinese script wins
            await bot.set_my_commands(
                _bot_commands(i18n.get(language), features, Audience.MEMBER),
                language_code=_telegram_language(language),
            )
        group = [
            BotCommand(spec.name, default(spec.description_key))
            for spec in commands_for(features, Audience.CHAIR)
            if spec.in_group
        ]
        await bot.set_my_commands(group, scope=BotCommandScopeAllGroupChats())
    except TelegramError as exc:
        logger.warning("Could not set the command menu: %s", type(exc).__name__)


async def publish_member_commands(
    bot: ExtBot[None],
    i18n: I18n,
    features: Sequence[Feature],
    actor: Actor,
    *,
    place: Place = Place.SINGLE,
) -> None:
    """A committee member's or chair's own command menu, in their language, for where they
    are (a school of a district, or the district union, adds the district's commands)."""
    user_id = actor.member.telegram_user_id
    if user_id is None:
        return
    try:
        tr = i18n.get(actor.member.language)
        await bot.set_my_commands(
            _bot_commands(tr, features, audience_of(actor), actor, place=place),
            scope=BotCommandScopeChat(user_id),
        )
    except TelegramError as exc:
        logger.warning("Could not set a member's command menu: %s", type(exc).__name__)


def register(application: Application) -> None:
    """Add /menu, /help and the main-menu buttons."""
    application.add_handler(CommandHandler("menu", menu_command, filters=filters.ChatType.PRIVATE))
    application.add_handler(CommandHandler("help", show_help))
    application.add_handler(CommandHandler("mine", show_mine, filters=filters.ChatType.PRIVATE))
    application.add_handler(ButtonHandler(MenuButton, menu_pressed))
