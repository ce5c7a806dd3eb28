"""What a feature brings, declared in one place.

Each package under handlers/ ends with one `FEATURE = Feature(...)`: its commands (for /help and
the command menus), its main-menu entries, its section of /mine, its deep-link prefixes, its
forms, its scheduled jobs and the catalog keys it builds at run time. The application walks one
list of them (handlers.FEATURES); the order of that list is only the order things are listed
in /help and the menu, never which handler gets an update.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum, IntEnum
from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application

from bot.buttons import Button
from bot.forms import Form
from models.members import Actor, Role

if TYPE_CHECKING:
    from bot.context import UnionContext
    from scheduler.jobs import FixedJob


class Place(Enum):
    """Where an update is: the one school of a single-school deployment, a school of a
    district, or the district union itself."""

    SINGLE = "single"
    SCHOOL = "school"
    DISTRICT = "district"


SCHOOLS = frozenset({Place.SINGLE, Place.SCHOOL})  # what every school does (the default)
DISTRICT_UNION = frozenset({Place.DISTRICT})  # the district union's own work
DISTRICT_WIDE = frozenset({Place.SCHOOL, Place.DISTRICT})  # between a district and its schools
EVERYWHERE = frozenset(Place)  # joining, one's profile, the menu and help


class Audience(IntEnum):
    """Who may use a command or a menu entry, from widest to narrowest."""

    EVERYONE = 0
    MEMBER = 1
    COMMITTEE = 2
    CHAIR = 3


def audience_of(actor: Actor | None) -> Audience:
    """The widest audience that includes this person."""
    if actor is None or not actor.is_active:
        return Audience.EVERYONE
    if actor.is_chair:
        return Audience.CHAIR
    if actor.is_committee:
        return Audience.COMMITTEE
    return Audience.MEMBER


Holder = Callable[[Actor], bool]


def reads_books(actor: Actor) -> bool:
    """财务 and 经审 read the books without being on the committee (/aidbooks, /report)."""
    return actor.may_read_books


def leads_a_group(actor: Actor) -> bool:
    """A 工会小组长 sees their own group (/groups)."""
    return actor.has(Role.GROUP_LEADER)


def _shown(audience: Audience, also_for: Holder | None, who: Audience, actor: Actor | None) -> bool:
    if audience <= who:
        return True
    return also_for is not None and actor is not None and actor.is_active and also_for(actor)


@dataclass(frozen=True)
class CommandSpec:
    """A bot command and who sees it (the handler itself is added by the feature).

    `also_for` shows it as well to people outside `audience` who hold a role (财务 and 经审 see
    the books; a group leader sees /groups); the handler checks the same role itself.
    """

    name: str
    description_key: str
    audience: Audience
    private_only: bool = True
    in_group: bool = False  # also listed in group chats
    order: int = 50  # place in /help and the command menu among its audience
    also_for: Holder | None = None
    # Where it is offered: by default in every school; a district feature names its places.
    places: frozenset[Place] = SCHOOLS


Action = Callable[[Update, "UnionContext"], Awaitable[None]]


@dataclass(frozen=True)
class MenuEntry:
    """A main-menu button (callback `menu:<action>`). Without `open`, the button is the entry
    point of one of the feature's forms."""

    action: str
    label_key: str
    audience: Audience
    open: Action | None = None
    order: int = 50  # place in the menu among its audience
    also_for: Holder | None = None  # as for CommandSpec
    places: frozenset[Place] = SCHOOLS  # as for CommandSpec


Section = tuple[str, InlineKeyboardMarkup | None]
MineSection = Callable[["UnionContext", Actor], Awaitable[Section | None]]


@dataclass(frozen=True)
class DeepLink:
    """A `t.me/<bot>?start=<prefix><rest>` link: `open` runs for active members; others are
    told `join_first_key` (then registration starts)."""

    prefix: str
    open: Callable[[Update, UnionContext, str], Awaitable[None]]
    join_first_key: str


def _nothing(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    return None


def _no_forms() -> Sequence[Form]:
    return ()


def _no_keys() -> Iterable[str]:
    return ()


@dataclass(frozen=True)
class Feature:
    """Everything one feature adds to the bot."""

    name: str
    register: Callable[[Application[Any, Any, Any, Any, Any, Any]], None] = _nothing
    forms: Callable[[], Sequence[Form]] = _no_forms
    commands: tuple[CommandSpec, ...] = ()
    menu: tuple[MenuEntry, ...] = ()
    mine: MineSection | None = None
    deep_links: tuple[DeepLink, ...] = ()
    jobs: tuple[FixedJob, ...] = ()
    group_buttons: tuple[type[Button], ...] = ()  # the families that work in group chats
    # At every start: put items stored before a stop but never carded on the desk (and tell
    # their authors); returns how many.
    recover: Callable[[UnionContext], Awaitable[int]] | None = None
    catalog_keys: Callable[[], Iterable[str]] = field(default=_no_keys)


def commands_for(
    features: Iterable[Feature],
    audience: Audience,
    actor: Actor | None = None,
    *,
    place: Place = Place.SINGLE,
) -> list[CommandSpec]:
    """Commands this audience (and this person's roles) may use here: the members' first, then
    the committee's, the chair's."""
    specs = [spec for feature in features for spec in feature.commands if place in spec.places]
    return sorted(
        (spec for spec in specs if _shown(spec.audience, spec.also_for, audience, actor)),
        key=lambda spec: (max(spec.audience, Audience.MEMBER), spec.order),
    )


def menu_for(
    features: Iterable[Feature],
    audience: Audience,
    actor: Actor | None = None,
    *,
    place: Place = Place.SINGLE,
) -> list[MenuEntry]:
    """Main-menu entries this audience (and this person's roles) may use here, ordered as
    commands."""
    entries = [entry for feature in features for entry in feature.menu if place in entry.places]
    return sorted(
        (entry for entry in entries if _shown(entry.audience, entry.also_for, audience, actor)),
        key=lambda entry: (max(entry.audience, Audience.MEMBER), entry.order),
    )


def private_commands(features: Iterable[Feature]) -> list[str]:
    """Commands that only work in a private chat (a group gets a link to it instead)."""
    return [spec.name for feature in features for spec in feature.commands if spec.private_only]


def check_unique(features: Sequence[Feature]) -> None:
    """Refuse two features claiming one command, menu action, deep link or job."""
    for what, names in (
        ("feature", [feature.name for feature in features]),
        ("command", [spec.name for f in features for spec in f.commands]),
        ("menu entry", [entry.action for f in features for entry in f.menu]),
        ("deep link", [link.prefix for f in features for link in f.deep_links]),
        ("job", [job.id for f in features for job in f.jobs]),
    ):
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise ValueError(f"two features declare the {what} {name!r}")
            seen.add(name)
