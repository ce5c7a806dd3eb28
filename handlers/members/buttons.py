"""The members package's buttons: registration (`reg:…`), join requests (`join:…`), changes of
name or department (`pchg:…`), the committee's member tools (`mem:…`), one's profile (`me:…`)
and the language (`lang:…`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.buttons import Button, Id
from models.members import Role

# ---- registration --------------------------------------------------------------------------


@dataclass(frozen=True)
class RegistrationLanguage(Button, prefix="reg:lang"):
    """The language chosen first in registration (a short code of bot.i18n.SHORT_CODES)."""

    code: str


@dataclass(frozen=True)
class RegistrationGender(Button, prefix="reg:gender"):
    """Gender in registration, or skip."""

    choice: Literal["female", "male", "skip"]


@dataclass(frozen=True)
class RegistrationBirthday(Button, prefix="reg:birthday"):
    """Skip the birthday in registration."""

    choice: Literal["skip"]


@dataclass(frozen=True)
class RegistrationRetired(Button, prefix="reg:retired"):
    """Retired or not, in registration."""

    choice: Literal["no", "yes"]


@dataclass(frozen=True)
class RegistrationConfirm(Button, prefix="reg:confirm"):
    """Confirm, start over or cancel under the registration preview."""

    choice: Literal["yes", "restart", "cancel"]


# ---- join requests on the desk -------------------------------------------------------------


@dataclass(frozen=True)
class JoinDecision(Button, prefix="join"):
    """Approve / Reject on a join request's desk card."""

    action: Literal["approve", "reject"]
    request_id: Id


@dataclass(frozen=True)
class ProfileChangeDecision(Button, prefix="pchg"):
    """Approve / Reject on the desk card of a member's change of name or department."""

    action: Literal["approve", "reject"]
    request_id: Id


# ---- the committee's member tools ----------------------------------------------------------


@dataclass(frozen=True)
class MemberPage(Button, prefix="mem:page"):
    """Previous / next page of /members."""

    offset: int


@dataclass(frozen=True)
class MemberCard(Button, prefix="mem"):
    """A member in /members: open their card; deactivate or reactivate them from it."""

    action: Literal["view", "deact", "react"]
    member_id: Id


@dataclass(frozen=True)
class RoleGrant(Button, prefix="mem:grant"):
    """Grant a role from a member's card (chair)."""

    member_id: Id
    role: Role


@dataclass(frozen=True)
class RoleRevoke(Button, prefix="mem:revoke"):
    """Revoke a role from a member's card (chair)."""

    member_id: Id
    role: Role


# ---- one's profile and language --------------------------------------------------------------


@dataclass(frozen=True)
class ProfileEdit(Button, prefix="me:edit"):
    """Edit a text field of one's profile in /me."""

    field: Literal["name", "dept", "birthday"]


@dataclass(frozen=True)
class ProfileBirthday(Button, prefix="me:bday"):
    """Clear one's birthday, offered while it is being edited in /me."""

    choice: Literal["clear"]


@dataclass(frozen=True)
class ProfileGender(Button, prefix="me:gender"):
    """Gender in /me: ask shows the choices; a choice (or none) saves it."""

    choice: Literal["ask", "none", "female", "male"]


@dataclass(frozen=True)
class ProfileRetired(Button, prefix="me:retired"):
    """Flip the retired flag in /me."""

    choice: Literal["toggle"]


@dataclass(frozen=True)
class ProfileMute(Button, prefix="me:mute"):
    """Mute or unmute greetings in /me."""

    choice: Literal["toggle"]


@dataclass(frozen=True)
class ProfileLanguage(Button, prefix="me:language"):
    """The language buttons, asked for from /me."""

    choice: Literal["ask"]


@dataclass(frozen=True)
class LanguageChoice(Button, prefix="lang:set"):
    """A language chosen outside registration (a short code of bot.i18n.SHORT_CODES)."""

    code: str


# ---- schools of a district -----------------------------------------------------------------


@dataclass(frozen=True)
class RegistrationSchool(Button, prefix="reg:school"):
    """The school picked while joining, in a district deployment."""

    school_id: Id


@dataclass(frozen=True)
class SchoolChoice(Button, prefix="school"):
    """Which of one's schools to act for now (/school), for a member of several."""

    org_id: Id
