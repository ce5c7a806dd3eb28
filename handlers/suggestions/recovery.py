"""After a restart: suggestions stored but never put on the desk get their card and receipt."""

from __future__ import annotations

from bot.context import UnionContext
from handlers.review_desk import put_missing_cards as put_late
from handlers.suggestions.desk import KIND, announce
from models.suggestions import Suggestion, SuggestionStatus, author_id


async def put_missing_cards(context: UnionContext) -> int:
    """Card every open item that has none, and tell its author (anonymous ones through the
    seal, as a reply is routed); returns how many were put on the desk."""

    async def card(item: Suggestion) -> None:
        await announce(context, item)

    async def tell(item: Suggestion) -> None:
        author = author_id(item, context.state.seal)
        if author is not None:
            number = item.number
            await context.notifier.tell(
                [author], lambda tr: tr("suggestion.receipt", number=number)
            )

    return await put_late(
        context,
        table=Suggestion,
        kind=KIND,
        statuses=[SuggestionStatus.OPEN],
        announce=card,
        tell=tell,
    )
