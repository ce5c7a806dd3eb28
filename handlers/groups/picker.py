"""Choosing one or more union groups as an audience, inside a form (/broadcast, a calendar
entry): the groups as buttons to tick (a page of them at a time), then done. Buttons carry an
index into the list kept in the form's draft and that list's nonce, so a press always means the
group the presser saw, or is answered as stale. A group nobody active belongs to is shown as
unavailable and cannot be ticked."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, Update

from bot.buttons import Button
from bot.context import UnionContext
from bot.i18n import Translator
from handlers.common import keyboard, say
from handlers.groups.buttons import PAGE, GroupPick, new_nonce
from models.calendar import AudienceType
from models.groups import union_groups

_NAMES, _COUNTS, _TICKED, _PROMPT = "group_names", "group_counts", "group_ticked", "group_prompt"
_NONCE, _PAGE = "group_nonce", "group_page"


async def offer_groups(
    update: Update, context: UnionContext, draft: dict[str, Any], prompt: str = "groups.pick"
) -> bool:
    """Show the groups to tick under `prompt` (a catalog key); False (after saying so) when
    there is no group yet. The groups already ticked in `draft` stay ticked if still there."""
    async with context.db() as session:
        groups = await union_groups(session, org_id=context.org_id)
    if not groups:
        await say(update, context, context.t("groups.none"))
        return False
    earlier = set(picked_names(draft))
    draft[_NAMES] = [group.name for group in groups]
    draft[_COUNTS] = [group.active for group in groups]
    draft[_TICKED] = [
        index for index, group in enumerate(groups) if group.name in earlier and group.active > 0
    ]
    draft[_PROMPT] = prompt
    draft[_NONCE] = new_nonce()
    draft[_PAGE] = 0
    await say(update, context, context.t(prompt), _markup(context, draft))
    return True


def picked_names(draft: dict[str, Any]) -> list[str]:
    """The names of the groups ticked in `draft`, in list order."""
    names: list[str] = draft.get(_NAMES) or []
    return [names[index] for index in sorted(draft.get(_TICKED) or []) if index < len(names)]


def _markup(context: UnionContext, draft: dict[str, Any]) -> InlineKeyboardMarkup:
    ticked = set(draft.get(_TICKED, []))
    nonce = int(draft.get(_NONCE, 0))
    names, counts = draft[_NAMES], draft[_COUNTS]
    page = int(draft.get(_PAGE, 0))
    first = page * PAGE
    pairs: list[tuple[str, Button]] = []
    for index in range(first, min(first + PAGE, len(names))):
        name, count = names[index], counts[index]
        mark = "☑" if index in ticked else ("⊘" if count == 0 else "☐")
        pairs.append((f"{mark} {name}（{count}）", GroupPick("tick", nonce, index)))
    rows = [pairs[index : index + 2] for index in range(0, len(pairs), 2)]
    turns: list[tuple[str, Button]] = []
    if page > 0:
        turns.append((context.t("groups.page_back"), GroupPick("page", nonce, page - 1)))
    if first + PAGE < len(names):
        turns.append((context.t("groups.page_next"), GroupPick("page", nonce, page + 1)))
    if turns:
        rows.append(turns)
    rows.append([(context.t("groups.pick_done", count=len(ticked)), GroupPick("done", nonce, 0))])
    return keyboard(*rows)


async def group_pressed(
    update: Update, context: UnionContext, draft: dict[str, Any]
) -> list[str] | None:
    """A tick or a page (the buttons change in place; None) or done: the groups ticked, in
    list order."""
    button = context.button_as(GroupPick)
    names: list[str] = draft.get(_NAMES) or []
    counts: list[int] = draft.get(_COUNTS) or []
    stale = button.nonce != draft.get(_NONCE)
    if stale or (button.action == "tick" and button.index >= len(names)):
        await context.answer(update, context.t("groups.stale_list"), alert=True)
        return None
    ticked: list[int] = draft.setdefault(_TICKED, [])
    if button.action == "done":
        if not ticked:
            await context.answer(update, context.t("groups.none_chosen"), alert=True)
            return None
        await context.answer(update)
        return picked_names(draft)
    if button.action == "page":
        draft[_PAGE] = max(0, min(button.index, (len(names) - 1) // PAGE))
    elif button.index in ticked:
        ticked.remove(button.index)
    elif counts[button.index] == 0:
        await context.answer(
            update, context.t("groups.nobody_active", group=names[button.index]), alert=True
        )
        return None
    else:
        ticked.append(button.index)
    await context.answer(update)
    query = update.callback_query
    if query is not None and query.message is not None:
        await context.bot.edit_message_text(
            context.t(str(draft.get(_PROMPT, "groups.pick"))),
            chat_id=query.message.chat.id,
            message_id=query.message.message_id,
            reply_markup=_markup(context, draft),
        )
    return None


def audience_words(tr: Translator, audience: dict[str, Any]) -> str:
    """An audience as a line shows it; groups by name (语文组、数学组)."""
    kind = str(audience.get("type", ""))
    if kind != AudienceType.DEPARTMENTS:
        return tr(f"calendar.audience.{kind}")
    separator = ", " if tr.language == "en" else "、"
    return tr("groups.audience", names=separator.join(audience.get("names", [])))
