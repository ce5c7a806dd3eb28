"""The suggestion box's buttons: filing (`sgf:…`), the author's answer back (`sga:…`), the
review desk's cards and listing (`sug:…`) and the categories (`sgc:…`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.buttons import Button, Id

# ---- filing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FilingCategory(Button, prefix="sgf:cat"):
    """The category chosen while filing an item."""

    category_id: Id


@dataclass(frozen=True)
class FilingPhotos(Button, prefix="sgf:photos"):
    """No photos, or no more photos, while filing."""

    choice: Literal["done"]


@dataclass(frozen=True)
class FilingAnonymity(Button, prefix="sgf:anon"):
    """Filed with one's name or anonymously."""

    choice: Literal["named", "anon"]


@dataclass(frozen=True)
class FilingConfirm(Button, prefix="sgf:confirm"):
    """Confirm or Cancel under the preview of an item."""

    choice: Literal["yes", "cancel"]


# ---- the author, under a reply -------------------------------------------------------------


@dataclass(frozen=True)
class AuthorButton(Button, prefix="sga"):
    """The author's Follow up / Resolved / Not resolved under a reply to their item."""

    action: Literal["more", "ok", "notok"]
    item_id: Id


# ---- the review desk -----------------------------------------------------------------------


@dataclass(frozen=True)
class SuggestionCard(Button, prefix="sug"):
    """Reply / Close / Reopen / Publish on an item's desk card."""

    action: Literal["reply", "close", "reopen", "pub"]
    item_id: Id


@dataclass(frozen=True)
class SuggestionStatusFilter(Button, prefix="sug:fstatus"):
    """The status filter of /suggestions: a SuggestionStatus value, or all of them."""

    status: Literal["open", "answered", "closed", "all"]


@dataclass(frozen=True)
class SuggestionCategoryFilter(Button, prefix="sug:fcat"):
    """The category filter of /suggestions (0: every category)."""

    category_id: int  # 0: every category


@dataclass(frozen=True)
class SuggestionPage(Button, prefix="sug:page"):
    """Previous / next page of /suggestions."""

    offset: int


@dataclass(frozen=True)
class SuggestionShow(Button, prefix="sug:show"):
    """An item in /suggestions: show its card."""

    item_id: Id


@dataclass(frozen=True)
class CategoryToggle(Button, prefix="sgc:toggle"):
    """Hide or show a category in /categories."""

    category_id: Id
