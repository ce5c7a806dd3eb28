"""The buttons of the school assessment (`as:…`): the district's desk and scoring, a school
chair's items and evidence. Every id is checked again against the presser at press time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.buttons import Button, Id


@dataclass(frozen=True)
class AssessNew(Button, prefix="as:new"):
    """Create the year's assessment from the default checklist, or not (under the preview)."""

    choice: Literal["yes", "cancel"]
    year: int


@dataclass(frozen=True)
class AssessDesk(Button, prefix="as:d"):
    """The district's tools for one assessment."""

    action: Literal[
        "show",  # the assessment's card again
        "open",  # open it to the schools (their chairs are told)
        "close",  # asks first
        "closeok",
        "subs",  # which schools sent what, with a button per school to score it
        "cmp",  # the comparison: rank, school, total, 合格
        "xlsx",
    ]
    assessment_id: Id


@dataclass(frozen=True)
class AssessPage(Button, prefix="as:pg"):
    """A page of the schools under 提交情况与评分."""

    assessment_id: Id
    offset: int


@dataclass(frozen=True)
class AssessSchool(Button, prefix="as:s"):
    """District staff open one school's items to score them."""

    assessment_id: Id
    school_id: Id


@dataclass(frozen=True)
class AssessScore(Button, prefix="as:sc"):
    """District staff score one school on one item: starts the short scoring form."""

    assessment_id: Id
    school_id: Id
    item_id: Id


@dataclass(frozen=True)
class AssessItem(Button, prefix="as:i"):
    """A school's chair sends evidence for one item: starts the evidence form."""

    assessment_id: Id
    school_id: Id
    item_id: Id


@dataclass(frozen=True)
class AssessSend(Button, prefix="as:ok"):
    """Send or Cancel under the evidence shown back."""

    choice: Literal["send", "edit", "cancel"]


@dataclass(frozen=True)
class AssessDeadline(Button, prefix="as:dl"):
    """District staff set the day evidence is due: starts the one-step deadline form."""

    assessment_id: Id
