"""Who receives a committee task: the committee group when one is bound, else each committee
member in their own chat and language (one rule for every kind of task)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from models.audiences import audience_members
from models.calendar import AudienceType
from models.organizations import get_organization
from models.outbox import OutboxNeed, Recipient


async def committee_recipients(
    session: AsyncSession,
    *,
    org_id: int,
    default_language: str,
    today: date,
    text: Callable[[str], Awaitable[str]],
) -> list[Recipient]:
    """The group (the text in the default language), or every committee member (each in
    theirs; mutes do not hold back work). `text(language)` writes the task. The group's message goes
    to the committee group bound when it goes out; a member's only while on the committee."""
    org = await get_organization(session, org_id)
    if org.committee_chat_id is not None:
        return [
            Recipient(
                chat_id=org.committee_chat_id,
                text=await text(default_language),
                needs=OutboxNeed.COMMITTEE_CHAT,
            )
        ]
    committee = await audience_members(
        session,
        org_id=org_id,
        audience={"type": AudienceType.COMMITTEE},
        today=today,
        respect_mute=False,
    )
    return [
        Recipient(
            chat_id=member.telegram_user_id or 0,
            text=await text(member.language or default_language),
            member_id=member.id,
            needs=OutboxNeed.COMMITTEE,
        )
        for member in committee
    ]
