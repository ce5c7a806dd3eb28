"""One list of commands and menu entries: /help, the command menu and the main menu use it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from models.errors import N_
from models.members import Actor


class Audience(IntEnum):
    """Who may use a command, from widest to narrowest."""

    EVERYONE = 0
    MEMBER = 1
    COMMITTEE = 2
    CHAIR = 3


@dataclass(frozen=True)
class CommandSpec:
    """A bot command and who sees it."""

    name: str
    description_key: str
    audience: Audience
    private_only: bool = True
    in_group: bool = False  # also listed in group chats


@dataclass(frozen=True)
class MenuItem:
    """A main-menu button: callback `menu:<action>`."""

    action: str
    label_key: str
    audience: Audience


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("start", N_("cmd.start"), Audience.EVERYONE),
    CommandSpec("menu", N_("cmd.menu"), Audience.MEMBER),
    CommandSpec("suggest", N_("cmd.suggest"), Audience.MEMBER),
    CommandSpec("propose", N_("cmd.propose"), Audience.MEMBER),
    CommandSpec("cosign", N_("cmd.cosign"), Audience.MEMBER),
    CommandSpec("activities", N_("cmd.activities"), Audience.MEMBER),
    CommandSpec("aid", N_("cmd.aid"), Audience.MEMBER),
    CommandSpec("mine", N_("cmd.mine"), Audience.MEMBER),
    CommandSpec("me", N_("cmd.me"), Audience.MEMBER),
    CommandSpec("language", N_("cmd.language"), Audience.EVERYONE),
    CommandSpec("help", N_("cmd.help"), Audience.EVERYONE, private_only=False, in_group=True),
    CommandSpec("cancel", N_("cmd.cancel"), Audience.EVERYONE),
    CommandSpec("members", N_("cmd.members"), Audience.COMMITTEE),
    CommandSpec("joins", N_("cmd.joins"), Audience.COMMITTEE),
    CommandSpec("suggestions", N_("cmd.suggestions"), Audience.COMMITTEE),
    CommandSpec("categories", N_("cmd.categories"), Audience.COMMITTEE),
    CommandSpec("proposals", N_("cmd.proposals"), Audience.COMMITTEE),
    CommandSpec("congress", N_("cmd.congress"), Audience.COMMITTEE),
    CommandSpec("departments", N_("cmd.departments"), Audience.COMMITTEE),
    CommandSpec("newactivity", N_("cmd.newactivity"), Audience.COMMITTEE),
    CommandSpec("activitystats", N_("cmd.activitystats"), Audience.COMMITTEE),
    CommandSpec("aidbooks", N_("cmd.aidbooks"), Audience.COMMITTEE),
    CommandSpec("aidrules", N_("cmd.aidrules"), Audience.COMMITTEE),
    CommandSpec("aidnotice", N_("cmd.aidnotice"), Audience.COMMITTEE),
    CommandSpec("aidcorrect", N_("cmd.aidcorrect"), Audience.COMMITTEE),
    CommandSpec("hardship", N_("cmd.hardship"), Audience.COMMITTEE),
    CommandSpec("calendar", N_("cmd.calendar"), Audience.COMMITTEE),
    CommandSpec("broadcast", N_("cmd.broadcast"), Audience.COMMITTEE),
    CommandSpec("bindchannel", N_("cmd.bindchannel"), Audience.CHAIR),
    CommandSpec(
        "bindgroup", N_("cmd.bindgroup"), Audience.CHAIR, private_only=False, in_group=True
    ),
)

MENU: tuple[MenuItem, ...] = (
    MenuItem("suggest", N_("menu.suggest"), Audience.MEMBER),
    MenuItem("propose", N_("menu.propose"), Audience.MEMBER),
    MenuItem("activities", N_("menu.activities"), Audience.MEMBER),
    MenuItem("aid", N_("menu.aid"), Audience.MEMBER),
    MenuItem("mine", N_("menu.mine"), Audience.MEMBER),
    MenuItem("me", N_("menu.me"), Audience.MEMBER),
    MenuItem("language", N_("menu.language"), Audience.EVERYONE),
    MenuItem("help", N_("menu.help"), Audience.EVERYONE),
    MenuItem("members", N_("menu.members"), Audience.COMMITTEE),
    MenuItem("joins", N_("menu.joins"), Audience.COMMITTEE),
    MenuItem("suggestions", N_("menu.suggestions"), Audience.COMMITTEE),
    MenuItem("proposals", N_("menu.proposals"), Audience.COMMITTEE),
    MenuItem("aidbooks", N_("menu.aidbooks"), Audience.COMMITTEE),
    MenuItem("hardship", N_("menu.hardship"), Audience.COMMITTEE),
    MenuItem("calendar", N_("menu.calendar"), Audience.COMMITTEE),
    MenuItem("broadcast", N_("menu.broadcast"), Audience.COMMITTEE),
)

PRIVATE_ONLY = tuple(spec.name for spec in COMMANDS if spec.private_only)


def audience_of(actor: Actor | None) -> Audience:
    """The widest audience that includes this person."""
    if actor is None or not actor.is_active:
        return Audience.EVERYONE
    if actor.is_chair:
        return Audience.CHAIR
    if actor.is_committee:
        return Audience.COMMITTEE
    return Audience.MEMBER


def commands_for(audience: Audience) -> list[CommandSpec]:
    """Commands this audience may use."""
    return [spec for spec in COMMANDS if spec.audience <= audience]


def menu_for(audience: Audience) -> list[MenuItem]:
    """Main-menu entries this audience may use."""
    return [item for item in MENU if item.audience <= audience]
