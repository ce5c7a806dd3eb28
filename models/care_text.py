"""What the committee reads about care visits outside the private chat (calendar tasks): names
and departments only, never a reason; families on hardship files masked like the aid desk."""

from __future__ import annotations

from collections.abc import Sequence

from bot.i18n import Translator
from models.aid import masked
from models.members import Member


def roster_line(tr: Translator, member: Member) -> str:
    """陈建国（退休，语文组） or 王芳（数学组）."""
    tags = [tr("care.tag_retired")] if member.retired else []
    tags.append(member.department)
    return tr("care.person_tags", name=member.real_name, tags=tr("care.tag_sep").join(tags))


# A task stays one readable message: longer lists end with "…等 N 人" (the rest in /care).
LIST_LIMIT = 60


def roster_lines(tr: Translator, members: Sequence[Member], limit: int = LIST_LIMIT) -> str:
    """One person a line, as a list the committee can read out."""
    lines = [f"• {roster_line(tr, member)}" for member in members[:limit]]
    if len(members) > limit:
        lines.append(tr("care.and_more", count=len(members) - limit))
    return "\n".join(lines)


def masked_names(members: Sequence[Member]) -> str:
    """王*、李* (what the aid desk shows in a group)."""
    return "、".join(masked(member.real_name) for member in members)
