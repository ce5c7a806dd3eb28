"""Union groups (工会小组): a member's department is their group; /groups for the committee and
the groups' leaders, and the group picker other features use to choose an audience."""

from __future__ import annotations

from bot.features import Audience, CommandSpec, Feature, MenuEntry, leads_a_group
from handlers.groups import listing
from models.errors import N_

FEATURE = Feature(
    name="groups",
    register=listing.register,
    commands=(
        CommandSpec(
            "groups", N_("cmd.groups"), Audience.COMMITTEE, order=13, also_for=leads_a_group
        ),
    ),
    menu=(
        MenuEntry(
            "groups", N_("menu.groups"), Audience.COMMITTEE, listing.show_groups, 9, leads_a_group
        ),
    ),
)
