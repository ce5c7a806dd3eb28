"""After a restart: suggestions stored but never put on the desk get their card and receipt."""

from __future__ import annotations

from bot.context import UnionContext
from handlers.review_desk import put_on_desk_late
from handlers.suggestions.desk import KIND, announce
from models.desk import uncarded
from models.suggestions import Suggestion, SuggestionStatus, author_id


async def put_missing_cards(context: UnionContext) -> int:
    """Card every open item that has none, and tell its author (anonymous ones through the
    seal, as a reply is routed); returns how many were put on the desk."""
    async with context.db() as session:
        items = await uncarded(
            session,
            table=Suggestion,
            kind=KIND,
            org_id=context.org_id,
            statuses=[SuggestionStatus.OPEN],
        )
    done = 0
    for item in items:
        author = author_id(item, context.state.seal)
        number = item.number

        async def card(item: Suggestion = item) -> None:
            await announce(context, item)

        async def tell(author: int | None = author, number: str = number) -> None:
            if author is not None:
                await context.notifier.tell(
                    [author], lambda tr: tr("suggestion.receipt", number=number)
                )

        if await put_on_desk_late(
            context, kind=KIND, item_id=item.id or 0, announce=card, tell=tell
        ):
            done += 1
    return done
