"""Quiet hours: nothing goes to members then (committee tasks are not held back)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

_WINDOW = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


@dataclass(frozen=True)
class QuietHours:
    """A daily window in local time, possibly across midnight (22:00-07:30)."""

    start: time
    end: time
    zone: ZoneInfo

    @classmethod
    def parse(cls, text: str, zone: ZoneInfo) -> QuietHours:
        """Read `HH:MM-HH:MM`; an empty window (start == end) means no quiet hours."""
        match = _WINDOW.match(text.strip())
        if not match:
            raise ValueError(f"quiet hours must look like 22:00-07:30, not {text!r}")
        h1, m1, h2, m2 = (int(part) for part in match.groups())
        return cls(start=time(h1, m1), end=time(h2, m2), zone=zone)

    def contains(self, moment: datetime) -> bool:
        """True when `moment` falls inside the quiet window."""
        local = moment.astimezone(self.zone).time()
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_allowed(self, moment: datetime) -> datetime:
        """`moment` itself outside quiet hours, else the end of the window (in UTC)."""
        if not self.contains(moment):
            return moment
        local = moment.astimezone(self.zone)
        end = datetime.combine(local.date(), self.end, tzinfo=self.zone)
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(UTC)
