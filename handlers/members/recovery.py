"""After a restart: join requests and profile changes stored but never put on the desk get
their card, and the person is told it was received."""

from __future__ import annotations

from bot.context import UnionContext
from handlers.members.joining import KIND, announce_join_request
from handlers.members.profile import KIND as CHANGE_KIND
from handlers.members.profile import announce_change, change_text
from handlers.review_desk import put_on_desk_late
from models.desk import uncarded
from models.members import JoinRequest, JoinStatus, Member, ProfileChangeRequest


async def put_missing_cards(context: UnionContext) -> int:
    """Card every pending join request and profile change that has none; tell the person."""
    return await _join_requests(context) + await _profile_changes(context)


async def _join_requests(context: UnionContext) -> int:
    async with context.db() as session:
        requests = await uncarded(
            session,
            table=JoinRequest,
            kind=KIND,
            org_id=context.org_id,
            statuses=[JoinStatus.PENDING],
        )
        people = {r.member_id: await session.get(Member, r.member_id) for r in requests}
    done = 0
    for request in requests:
        member = people.get(request.member_id)
        if member is None:
            continue

        async def card(request: JoinRequest = request, member: Member = member) -> None:
            await announce_join_request(context, request, member)

        async def tell(member: Member = member) -> None:
            # Not a member yet (pending): told directly, in the language they registered in.
            if member.telegram_user_id is not None:
                tr = context.i18n.get(member.language)
                await context.notifier.tell_chat(
                    member.telegram_user_id,
                    tr("reg.submitted", name=member.real_name),
                    who=f"member {member.id}",
                )

        if await put_on_desk_late(
            context, kind=KIND, item_id=request.id or 0, announce=card, tell=tell
        ):
            done += 1
    return done


async def _profile_changes(context: UnionContext) -> int:
    async with context.db() as session:
        requests = await uncarded(
            session,
            table=ProfileChangeRequest,
            kind=CHANGE_KIND,
            org_id=context.org_id,
            statuses=[JoinStatus.PENDING],
        )
        people = {r.member_id: await session.get(Member, r.member_id) for r in requests}
    done = 0
    for request in requests:
        member = people.get(request.member_id)
        if member is None:
            continue

        async def card(request: ProfileChangeRequest = request, member: Member = member) -> None:
            await announce_change(context, request, member)

        async def tell(request: ProfileChangeRequest = request, member: Member = member) -> None:
            await context.notifier.tell(
                [member.id or 0],
                lambda tr: tr("profile_change.sent", change=change_text(tr, request)),
            )

        if await put_on_desk_late(
            context, kind=CHANGE_KIND, item_id=request.id or 0, announce=card, tell=tell
        ):
            done += 1
    return done
