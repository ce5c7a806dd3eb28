"""Find every message key the code can ask for, to check the catalogs against it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from models.activities import ActivityCategory, SelectionMode, SignupStatus
from models.aid import AidType, CaseStatus, ChairReason, LedgerKind
from models.calendar import AudienceType, EntryKind
from models.hardship import HardshipLevel
from models.members import Gender, MemberStatus, Role
from models.proposals import Filers, ProposalCategory, ProposalStatus, Rating
from models.suggestions import DEFAULT_CATEGORIES, SuggestionStatus
from scheduler.calendar_defaults import DEFAULTS

ROOT = Path(__file__).resolve().parents[2]
SOURCE_PACKAGES = ("bot", "handlers", "models", "scheduler")
KEY_SHAPE = re.compile(r"^[a-z][a-z_]*\.[a-z0-9_]+(\.[a-z0-9_]+)*$")
# Strings of key shape that are not message keys.
NOT_KEYS = {
    "secret.key",
    "member.id",
    "organization.id",
    "sqlalchemy.url",
    "suggestion.id",
    "broadcast.id",
    "congress_session.id",
    "department.id",
    "proposal.id",
    "aid_case.id",
    "activity.id",
    "suggestion_category.id",
    "apscheduler.executors.default",  # a logger name (scheduler/stopping.py)
}


def literal_keys() -> set[str]:
    """String constants in our packages that look like message keys."""
    keys: set[str] = set()
    for package in SOURCE_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and KEY_SHAPE.match(node.value)
                    and node.value not in NOT_KEYS
                ):
                    keys.add(node.value)
    return keys


def dynamic_keys() -> set[str]:
    """Keys built from enum values with f-strings (`gender.{...}`, `role.{...}`, ...)."""
    return (
        {f"gender.{value}" for value in Gender}
        | {f"role.{value}" for value in Role}
        | {f"status.{value}" for value in MemberStatus}
        | {f"category.{code}" for code in DEFAULT_CATEGORIES}
        | {f"suggestion.status.{value}" for value in SuggestionStatus}
        | {f"calendar.{entry.key}.{part}" for entry in DEFAULTS for part in ("title", "text")}
        | {f"calendar.kind.{value}" for value in EntryKind}
        | {f"calendar.audience.{value}" for value in AudienceType}
        | {f"proposal.status.{value}" for value in ProposalStatus}
        | {f"proposal.category.{value}" for value in ProposalCategory}
        | {f"proposal.rating.{value}" for value in Rating}
        | {f"congress.filers.{value}" for value in Filers}
        | {f"aid.type.{value}" for value in AidType}
        | {f"aid.evidence.{value}" for value in AidType}
        | {f"aid.status.{value}" for value in CaseStatus}
        | {f"aid.ledger.{value}" for value in LedgerKind}
        | {f"aid.reason.{value}" for value in ChairReason}
        | {f"hardship.level.{value}" for value in HardshipLevel}
        | {f"activity.category.{value}" for value in ActivityCategory}
        | {f"activity.mode.{value}" for value in SelectionMode}
        | {f"activity.signup.{value}" for value in SignupStatus}
        | {
            f"activity.who.{value}"
            for value in ("everyone", "women", "retirees", "age", "departments")
        }
        | {
            f"activity.column.{value}"
            for value in (
                "no",
                "name",
                "status",
                "choice",
                "family",
                "checked_in",
                "department",
                "names",
            )
        }
    )


def used_keys() -> set[str]:
    """Every key the code may look up."""
    return literal_keys() | dynamic_keys()
