"""How an activity reads in chat: pure functions of (translator, time zone, facts); no queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from bot.i18n import Translator
from models.activities import Activity, ActivityStatus, NewActivity, SelectionMode


@dataclass(frozen=True)
class ActivityFacts:
    """What a card or a preview shows of an activity, stored or still being created."""

    title: str
    starts_at: datetime
    place: str
    capacity: int | None
    seats_taken: int
    deadline: datetime
    mode: SelectionMode
    choices: tuple[str, ...]
    family_max: int
    cancelled: bool
    description: str

    @classmethod
    def of(cls, activity: Activity) -> ActivityFacts:
        """The facts of a stored activity."""
        return cls(
            title=activity.title,
            starts_at=activity.starts_at,
            place=activity.place,
            capacity=activity.capacity,
            seats_taken=activity.seats_taken,
            deadline=activity.deadline,
            mode=SelectionMode(activity.mode),
            choices=tuple(activity.choice_list()),
            family_max=activity.family_max,
            cancelled=activity.status == ActivityStatus.CANCELLED,
            description=activity.description or "",
        )

    @classmethod
    def of_new(cls, new: NewActivity) -> ActivityFacts:
        """The facts of an activity the committee is still creating (its preview)."""
        return cls(
            title=new.title,
            starts_at=new.starts_at,
            place=new.place,
            capacity=new.capacity,
            seats_taken=0,
            deadline=new.deadline,
            mode=new.mode,
            choices=new.choices,
            family_max=new.family_max,
            cancelled=False,
            description=new.description,
        )


def when_text(zone: tzinfo, moment: datetime) -> str:
    """A moment in the union's time zone, as people read it."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def summary_text(tr: Translator, zone: tzinfo, facts: ActivityFacts) -> str:
    """Title, time, place, seats, deadline, selection, choices, family, description."""
    seats = (
        tr("activity.unlimited")
        if facts.capacity is None
        else tr("activity.seats", taken=facts.seats_taken, capacity=facts.capacity)
    )
    lines = [
        tr("activity.card_title", title=facts.title),
        tr("activity.card_when", when=when_text(zone, facts.starts_at), place=facts.place),
        tr("activity.card_seats", seats=seats, deadline=when_text(zone, facts.deadline)),
        tr(f"activity.mode.{facts.mode}"),
    ]
    if facts.choices:
        lines.append(tr("activity.card_choices", choices="、".join(facts.choices)))
    if facts.family_max:
        lines.append(tr("activity.card_family", count=facts.family_max))
    if facts.cancelled:
        lines.append(tr("activity.card_cancelled"))
    if facts.description:
        lines += ["", facts.description]
    return "\n".join(lines)
