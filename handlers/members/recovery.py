"""After a restart: join requests and profile changes stored but never put on the desk get
their card, and the person is told it was received."""

from __future__ import annotations

from bot.context import UnionContext
from handlers.members.joining import KIND, announce_join_request
from handlers.members.profile import KIND as CHANGE_KIND
from handlers.members.profile import announce_change, change_text
from handlers.review_desk import put_missing_cards as put_late
from models.members import JoinRequest, JoinStatus, Member, ProfileChangeRequest


async def put_missing_cards(context: UnionContext) -> int:
    """Card every pending join request and profile change that has none; tell the person."""

    async def member_of(member_id: int) -> Member | None:
        async with context.db() as session:
            return await session.get(Member, member_id)

    async def card_request(request: JoinRequest) -> None:
        member = await member_of(request.member_id)
        if member is not None:
            await announce_join_request(context, request, member)

    async def tell_applicant(request: JoinRequest) -> None:
        # Not a member yet (pending): told directly, in the language they registered in.
        member = await member_of(request.member_id)
        if member is not None and member.telegram_user_id is not None:
            tr = context.i18n.get(member.language)
            await context.notifier.tell_chat(
                member.telegram_user_id,
                tr("reg.submitted", name=member.real_name),
                who=f"member {member.id}",
            )

    async def card_change(request: ProfileChangeRequest) -> None:
        member = await member_of(request.member_id)
        if member is not None:
            await announce_change(context, request, member)

    async def tell_changer(request: ProfileChangeRequest) -> None:
        await context.notifier.tell(
            [request.member_id],
            lambda tr: tr("profile_change.sent", change=change_text(tr, request)),
        )

    pending = [JoinStatus.PENDING]
    joins = await put_late(
        context,
        table=JoinRequest,
        kind=KIND,
        statuses=pending,
        announce=card_request,
        tell=tell_applicant,
    )
    changes = await put_late(
        context,
        table=ProfileChangeRequest,
        kind=CHANGE_KIND,
        statuses=pending,
        announce=card_change,
        tell=tell_changer,
    )
    return joins + changes
