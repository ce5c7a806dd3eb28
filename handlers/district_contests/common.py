"""Who is pressing (district staff, or a school's chair for their own school), checked on every
press against the member loaded for this update, never the button's word; and the words both
sides share."""

from __future__ import annotations

from datetime import datetime

from telegram import Update

from bot.context import UnionContext
from bot.i18n import Translator
from handlers import district_access as access
from handlers.district_access import ChairRefusals
from models.district_contests import ContestTeam, DistrictContest
from models.errors import N_
from models.members import Actor
from models.organizations import Organization
from models.outbox import BroadcastKind, Recipient

TEXT_ROOM = 3800  # a chat message holds 4096 characters


_CHAIR_REFUSALS = ChairRefusals(
    no_district=N_("dcontest.no_district"),
    not_chair=N_("dcontest.not_school_chair"),
    not_your_school=N_("dcontest.not_your_school"),
)


async def district_staff(
    update: Update, context: UnionContext
) -> tuple[Actor, Organization] | None:
    """The district staff member behind the update and their district, or None after saying
    who may do this."""
    return await access.district_staff(update, context, refusal=N_("dcontest.not_district_staff"))


async def school_chair(
    update: Update, context: UnionContext, *, school_id: int | None = None
) -> tuple[Actor, Organization] | None:
    """The school chair (or vice-chair) behind the update and their school (which must be
    `school_id` when a button names one), or None after saying why."""
    return await access.school_chair(update, context, refusals=_CHAIR_REFUSALS, school_id=school_id)


def local(context: UnionContext, moment: datetime) -> str:
    """A moment in the union's time zone, as people read it."""
    return f"{moment.astimezone(context.settings.zone):%Y-%m-%d %H:%M}"


def result_word(tr: Translator, team: ContestTeam) -> str:
    """一等奖 … 优秀奖, 第N名, or 未评 (no result yet)."""
    if team.award is not None:
        return tr(f"dcontest.award.{team.award}")
    if team.place is not None:
        return tr("dcontest.place", place=team.place)
    return tr("dcontest.no_result")


def contest_lines(context: UnionContext, tr: Translator, contest: DistrictContest) -> list[str]:
    """The contest's facts, in the reader's language."""
    kind = tr(f"dcontest.kind.{contest.kind}")
    lines = [
        tr("dcontest.card_title", title=contest.title, kind=kind),
        tr("dcontest.card_when", when=local(context, contest.starts_at), place=contest.place),
        tr(
            "dcontest.card_deadline",
            deadline=local(context, contest.deadline),
            size=contest.team_size,
        ),
    ]
    if contest.about:
        lines.append(contest.about)
    return lines


async def tell(
    context: UnionContext, *, district_id: int, key: str, recipients: list[Recipient]
) -> None:
    """Through the outbox, once per key (a second queue of the same key is dropped)."""
    if recipients:
        await context.notifier.queue(
            org_id=district_id,
            key=key,
            kind=BroadcastKind.ANNOUNCEMENT,
            recipients=recipients,
            quiet=True,
        )
