"""How the suggestion box reads outside a chat: the committee digest (no Telegram I/O here)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.i18n import Translator
from models.suggestions import Suggestion


def render_digest(
    tr: Translator, items: Sequence[Suggestion], *, days: int, now: datetime
) -> str | None:
    """The committee digest of items unanswered for `days` days, or None when there are none.

    The calendar schedules it daily; it names numbers, ages and a snippet, never an author.
    """
    if not items:
        return None
    lines = [tr("suggestion.digest_title", count=len(items), days=days)]
    for item in items:
        age = (now - item.created_at).days
        flat = " ".join(item.body.split())  # one line per item, whatever the author typed
        snippet = flat if len(flat) <= 30 else flat[:29] + "…"
        lines.append(tr("suggestion.digest_line", number=item.number, age=age, snippet=snippet))
    lines.append(tr("suggestion.digest_hint"))
    return "\n".join(lines)
