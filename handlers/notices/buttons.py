"""The public notices' buttons: the /notice form (`nt:…`), a member's objection (`nto:…`) and
the objection cards on the desk (`ntc:…`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.buttons import Button, Id
from models.calendar import AudienceType

# ---- /notice -----------------------------------------------------------------------------


@dataclass(frozen=True)
class NoticeAudience(Button, prefix="nt:aud"):
    """Who the notice concerns (besides the disclosure channel)."""

    audience: AudienceType


@dataclass(frozen=True)
class NoticePeriod(Button, prefix="nt:per"):
    """The default period (5 working days) under the period question."""

    choice: Literal["default"]


@dataclass(frozen=True)
class NoticeConfirm(Button, prefix="nt:ok"):
    """Publish or drop the notice under its preview."""

    choice: Literal["yes", "no"]


# ---- objections --------------------------------------------------------------------------


@dataclass(frozen=True)
class ObjectButton(Button, prefix="nto:ask"):
    """提出异议 under a notice sent to a member."""

    notice_id: Id


@dataclass(frozen=True)
class ObjectionStart(Button, prefix="nto:go"):
    """Object with one's name or anonymously (starts writing the objection)."""

    choice: Literal["named", "anon"]
    notice_id: Id


@dataclass(frozen=True)
class ObjectionCard(Button, prefix="ntc"):
    """答复 on an objection's desk card."""

    action: Literal["reply"]
    objection_id: Id


@dataclass(frozen=True)
class NoticeFile(Button, prefix="nto:file"):
    """📎 查看附件 under a notice sent to a member: the attached file, privately."""

    notice_id: Id
