"""The suggestion box (意见箱): filing, anonymous or named; the review desk; answers, follow-ups,
closing and publishing to the disclosure channel."""

from __future__ import annotations

from telegram.ext import Application

from bot.features import Audience, CommandSpec, Feature, MenuEntry
from bot.forms import Form
from handlers.suggestions import desk, filing, recovery
from handlers.suggestions.buttons import SuggestionCard
from models.errors import N_
from models.suggestions import DEFAULT_CATEGORIES, SuggestionStatus
from scheduler.suggestion_jobs import DIGEST


def _register(application: Application) -> None:
    filing.register(application)
    desk.register(application)


def _forms() -> list[Form]:
    return [*filing.forms(), *desk.forms()]


def _keys() -> set[str]:
    return {f"category.{code}" for code in DEFAULT_CATEGORIES} | {
        f"suggestion.status.{value}" for value in SuggestionStatus
    }


FEATURE = Feature(
    recover=recovery.put_missing_cards,
    name="suggestions",
    register=_register,
    forms=_forms,
    commands=(
        CommandSpec("suggest", N_("cmd.suggest"), Audience.MEMBER, order=2),
        CommandSpec("suggestions", N_("cmd.suggestions"), Audience.COMMITTEE, order=14),
        CommandSpec("categories", N_("cmd.categories"), Audience.COMMITTEE, order=15),
        CommandSpec("bindchannel", N_("cmd.bindchannel"), Audience.CHAIR, order=28),
    ),
    menu=(
        MenuEntry("suggest", N_("menu.suggest"), Audience.MEMBER, order=0),
        MenuEntry("suggestions", N_("menu.suggestions"), Audience.COMMITTEE, desk.list_items, 10),
    ),
    mine=filing.mine_section,
    jobs=(DIGEST,),
    group_buttons=(SuggestionCard,),
    catalog_keys=_keys,
)
