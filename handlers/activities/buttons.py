"""The buttons of activities: the members' sign-up buttons (`av`), and the committee's creation
steps and management card (`ag`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from bot.buttons import Button, Id
from models.activities import ActivityCategory, SelectionMode

# ---- members -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityButton(Button, prefix="av"):
    """A member's button on an activity: sign up, cancel, check in, enter or withdraw a team."""

    action: Literal["su", "cx", "in", "team", "teamx"]
    activity_id: Id


@dataclass(frozen=True)
class SignUpFor(Button, prefix="av:su"):
    """Sign up for one of an activity's choices (its place in the activity's list)."""

    activity_id: Id
    choice_index: int


@dataclass(frozen=True)
class FamilyCount(Button, prefix="av:fam"):
    """How many family members come along (a token: the model refuses a count out of range)."""

    activity_id: Id
    count: str


# ---- committee: creating -----------------------------------------------------------------

Audience = Literal["everyone", "women", "retirees", "age", "departments"]
AUDIENCES: tuple[Audience, ...] = get_args(Audience)
FAMILY_OPTIONS = (0, 1, 2)


@dataclass(frozen=True)
class CategoryChoice(Button, prefix="ag:cat"):
    """The new activity's category."""

    category: ActivityCategory


@dataclass(frozen=True)
class UnlimitedSeats(Button, prefix="ag:cap"):
    """No seat limit, instead of a typed number."""

    choice: Literal["none"]


@dataclass(frozen=True)
class DeadlineAtStart(Button, prefix="ag:dl"):
    """Sign-ups open until the start, instead of a typed deadline."""

    choice: Literal["start"]


@dataclass(frozen=True)
class AudienceChoice(Button, prefix="ag:who"):
    """Who may sign up (ages and departments are typed next)."""

    audience: Audience


@dataclass(frozen=True)
class NoChoices(Button, prefix="ag:ch"):
    """No event items to choose from, instead of a typed list."""

    choice: Literal["none"]


@dataclass(frozen=True)
class FamilyAllowed(Button, prefix="ag:fam"):
    """How many family members each participant may bring (one of FAMILY_OPTIONS)."""

    count: int


@dataclass(frozen=True)
class ModeChoice(Button, prefix="ag:mode"):
    """First come or lottery."""

    mode: SelectionMode


@dataclass(frozen=True)
class NoDescription(Button, prefix="ag:desc"):
    """No description, instead of a typed one."""

    choice: Literal["none"]


@dataclass(frozen=True)
class CreateConfirm(Button, prefix="ag:ok"):
    """Confirm or cancel under the new activity's preview."""

    choice: Literal["yes", "cancel"]


# ---- committee: managing -----------------------------------------------------------------


@dataclass(frozen=True)
class ManageActivity(Button, prefix="ag"):
    """The management card's buttons (and their follow-ups: Yes, cancel it; Keep the seats)."""

    action: Literal["mgr", "list", "xlsx", "att", "close", "move", "cap2", "cxa", "cxyes", "capno"]
    activity_id: Id


@dataclass(frozen=True)
class MarkPresent(Button, prefix="ag:mark"):
    """A seated participant on the attendance list: a press marks them present."""

    activity_id: Id
    member_id: Id


@dataclass(frozen=True)
class ShrinkCapacity(Button, prefix="ag:capok"):
    """Yes, fewer seats than people seated: the latest seated go to the waitlist."""

    activity_id: Id
    capacity: int
