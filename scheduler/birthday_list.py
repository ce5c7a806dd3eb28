"""The monthly birthday list for the committee (蛋糕券 and cards): who, which department, which
day; never the year or the age.

Roster members who never joined the bot (status invited) are listed too and marked: the bot's
birthday greeting cannot reach them, so the card in hand is all they get.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import Translator
from models.members import Member, MemberStatus
from scheduler.rule_text import nth_name

# Members of the union on the roster: those on the bot and those not (yet) on it.
LISTED = (MemberStatus.ACTIVE, MemberStatus.INVITED)


async def birthday_list(
    session: AsyncSession, org_id: int, occurrence: date, tr: Translator
) -> str:
    """The block under the `birthday_list` task: the month's birthdays in day order."""
    month = occurrence.month
    on_roster = (Member.organization_id == org_id, col(Member.status).in_(LISTED))
    members = (
        await session.exec(
            select(Member)
            .where(*on_roster, Member.birth_month == month, col(Member.birth_day).is_not(None))
            .order_by(col(Member.birth_day), col(Member.id))
        )
    ).all()
    missing = (
        await session.exec(
            select(func.count())
            .select_from(Member)
            .where(
                *on_roster,
                (col(Member.birth_month).is_(None)) | (col(Member.birth_day).is_(None)),
            )
        )
    ).one()
    month_name = nth_name(tr, "calendar.rule.month_names", month)
    if members:
        lines = [tr("calendar.birthday_list.heading", count=len(members), month_name=month_name)]
        lines += [_line(tr, member, month_name) for member in members]
    else:
        lines = [tr("calendar.birthday_list.none", month_name=month_name)]
    if missing:
        lines.append(tr("calendar.birthday_list.missing", count=int(missing)))
    return "\n".join(lines)


def _line(tr: Translator, member: Member, month_name: str) -> str:
    key = (
        "calendar.birthday_list.line"
        if member.department.strip()
        else "calendar.birthday_list.line_no_department"
    )
    line = tr(
        key,
        day=member.birth_day,
        name=member.real_name,
        department=member.department.strip(),
        month_name=month_name,
    )
    if member.status == MemberStatus.INVITED:
        line += tr("calendar.birthday_list.offline")
    return line
