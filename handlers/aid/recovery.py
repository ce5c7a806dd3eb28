"""After a restart: aid cases stored but never put on the desk get their card and receipt."""

from __future__ import annotations

from bot.context import UnionContext
from handlers.aid.desk import KIND, announce
from handlers.review_desk import put_on_desk_late
from models.aid import AidCase, CaseStatus
from models.desk import uncarded


async def put_missing_cards(context: UnionContext) -> int:
    """Card every open case that has none (masked, as always), and tell the requester."""
    async with context.db() as session:
        cases = await uncarded(
            session, table=AidCase, kind=KIND, org_id=context.org_id, statuses=[CaseStatus.OPEN]
        )
    done = 0
    for case in cases:
        key = "aid.receipt_report" if case.reported else "aid.receipt"
        number = case.number

        async def card(case: AidCase = case) -> None:
            await announce(context, case)

        async def tell(case: AidCase = case, key: str = key, number: str = number) -> None:
            await context.notifier.tell(
                [case.requester_member_id], lambda tr: tr(key, number=number)
            )

        if await put_on_desk_late(
            context, kind=KIND, item_id=case.id or 0, announce=card, tell=tell
        ):
            done += 1
    return done
