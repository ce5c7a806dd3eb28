"""After a restart: aid cases stored but never put on the desk get their card and receipt."""

from __future__ import annotations

from bot.context import UnionContext
from handlers.aid.desk import KIND, announce
from handlers.review_desk import put_missing_cards as put_late
from models.aid import AidCase, CaseStatus


async def put_missing_cards(context: UnionContext) -> int:
    """Card every open case that has none (masked, as always), and tell the requester."""

    async def card(case: AidCase) -> None:
        await announce(context, case)

    async def tell(case: AidCase) -> None:
        key = "aid.receipt_report" if case.reported else "aid.receipt"
        if case.started_by_committee:  # the visitor who recorded it (handlers/care)
            key = "care.case_started"
        number = case.number
        await context.notifier.tell(
            [case.requester_member_id],
            lambda tr: tr(key, number=number),
            committee_only=case.started_by_committee,
        )

    return await put_late(
        context, table=AidCase, kind=KIND, statuses=[CaseStatus.OPEN], announce=card, tell=tell
    )
