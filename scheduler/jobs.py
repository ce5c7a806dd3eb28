"""The jobs besides the calendar entries, declared by the features that own them.

Each is a cron time, not an interval, so a restart keeps the same plan; the job function gets
the running bot's `Runtime` as its one argument (jobs live in memory, see scheduler/setup.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from scheduler.runtime import Runtime


@dataclass(frozen=True)
class FixedJob:
    """A scheduled job: a stable id, what it runs, when (cron fields), and how late it may run
    after a restart (misfire grace)."""

    id: str
    run: Callable[[Runtime], Awaitable[object]]
    when: Mapping[str, object]
    grace_seconds: int
    # In a district deployment, run once per organization (each school, and the district
    # union's own desk) with `runtime.org_id` set to it; else once, for the home organization.
    per_school: bool = True
