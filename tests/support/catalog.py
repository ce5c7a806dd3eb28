"""Find every message key the code can ask for, to check the catalogs against it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from handlers import FEATURES

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
    "ballot.id",
    "suggestion_category.id",
    "notice.id",
    "idea.id",
    "care_round.id",
    "assessment.id",
    "assessment_item.id",
    "assessment_item.max_points",
    "district_contest.id",
    "district_excellent_round.id",
    "district_task.id",
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
    """Keys built at run time from enum values (`gender.{...}`, `aid.type.{...}`, ...): each
    feature declares its own (`Feature.catalog_keys`)."""
    return {key for feature in FEATURES for key in feature.catalog_keys()}


def used_keys() -> set[str]:
    """Every key the code may look up."""
    return literal_keys() | dynamic_keys()
