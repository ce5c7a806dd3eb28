"""Members: joining (registration, roster links, join requests), one's profile and language,
and the committee's member tools (roles, status, binding the committee group)."""

from __future__ import annotations

from telegram.ext import Application

from bot.features import DISTRICT_WIDE, EVERYWHERE, Audience, CommandSpec, Feature, MenuEntry
from bot.forms import Form
from handlers.members import committee, joining, profile, recovery, registration, schools
from handlers.members.buttons import JoinDecision, ProfileChangeDecision
from models.errors import N_
from models.members import Gender, MemberStatus, Role


def _register(application: Application) -> None:
    registration.register(application)
    joining.register(application)
    committee.register(application)
    profile.register(application)
    schools.register(application)


def _forms() -> list[Form]:
    return [*registration.forms(), *profile.forms()]


def _keys() -> set[str]:
    return (
        {f"gender.{value}" for value in Gender}
        | {f"role.{value}" for value in Role}
        | {f"status.{value}" for value in MemberStatus}
    )


FEATURE = Feature(
    recover=recovery.put_missing_cards,
    name="members",
    register=_register,
    forms=_forms,
    commands=(
        CommandSpec("start", N_("cmd.start"), Audience.EVERYONE, order=0, places=EVERYWHERE),
        CommandSpec("me", N_("cmd.me"), Audience.MEMBER, order=8, places=EVERYWHERE),
        CommandSpec("language", N_("cmd.language"), Audience.EVERYONE, order=9, places=EVERYWHERE),
        CommandSpec("school", N_("cmd.school"), Audience.MEMBER, order=9, places=DISTRICT_WIDE),
        CommandSpec("members", N_("cmd.members"), Audience.COMMITTEE, order=12, places=EVERYWHERE),
        CommandSpec("joins", N_("cmd.joins"), Audience.COMMITTEE, order=13, places=EVERYWHERE),
        CommandSpec(
            "bindgroup",
            N_("cmd.bindgroup"),
            Audience.CHAIR,
            False,
            True,
            order=29,
            places=EVERYWHERE,
        ),
    ),
    group_buttons=(JoinDecision, ProfileChangeDecision),
    catalog_keys=_keys,
    menu=(
        MenuEntry(
            "me", N_("menu.me"), Audience.MEMBER, profile.show_profile, order=5, places=EVERYWHERE
        ),
        MenuEntry(
            "language",
            N_("menu.language"),
            Audience.EVERYONE,
            profile.ask_language,
            6,
            places=EVERYWHERE,
        ),
        MenuEntry(
            "members",
            N_("menu.members"),
            Audience.COMMITTEE,
            committee.list_members,
            8,
            places=EVERYWHERE,
        ),
        MenuEntry(
            "joins",
            N_("menu.joins"),
            Audience.COMMITTEE,
            joining.list_join_requests,
            9,
            places=EVERYWHERE,
        ),
    ),
)
