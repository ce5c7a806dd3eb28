"""Choosing one or more union groups as an audience, inside a form (/broadcast, a calendar
entry): the groups as buttons to tick, then done. Buttons carry an index into the list kept in
the form's draft, so a press always means the group the presser saw."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, Update

from bot.buttons import Button
from bot.context import UnionContext
from bot.i18n import Translator
from handlers.common import keyboard, say
from handlers.groups.buttons import GroupPick
from models.calendar import AudienceType
from models.groups import MAX_GROUPS, union_groups

_NAMES, _COUNTS, _TICKED, _PROMPT = "group_names", "group_counts", "group_ticked", "group_prompt"


async def offer_groups(
    update: Update, context: UnionContext, draft: dict[str, Any], prompt: str = "groups.pick"
) -> bool:
    """Show the groups to tick under `prompt` (a catalog key); False (after saying so) when
    there is no group yet."""
    async with context.db() as session:
        groups = (await union_groups(session, org_id=context.org_id))[:MAX_GROUPS]
    if not groups:
        await say(update, context, context.t("groups.none"))
        return False
    draft[_NAMES] = [group.name for group in groups]
    draft[_COUNTS] = [group.active for group in groups]
    draft[_TICKED] = []
    draft[_PROMPT] = prompt
    await say(update, context, context.t(prompt), _markup(context, draft))
    return True


def _markup(context: UnionContext, draft: dict[str, Any]) -> InlineKeyboardMarkup:
    ticked = set(draft.get(_TICKED, []))
    pairs: list[tuple[str, Button]] = [
        (f"{'☑' if index in ticked else '☐'} {name}（{count}）", GroupPick("tick", index))
        for index, (name, count) in enumerate(zip(draft[_NAMES], draft[_COUNTS], strict=True))
    ]
    rows = [pairs[index : index + 2] for index in range(0, len(pairs), 2)]
    rows.append([(context.t("groups.pick_done", count=len(ticked)), GroupPick("done", 0))])
    return keyboard(*rows)


async def group_pressed(
    update: Update, context: UnionContext, draft: dict[str, Any]
) -> list[str] | None:
    """A tick (the buttons change in place; None) or done: the groups ticked, in list order."""
    button = context.button_as(GroupPick)
    names: list[str] = draft.get(_NAMES) or []
    if button.index >= len(names):
        await context.answer(update, context.t("desk.stale_button"), alert=True)
        return None
    ticked: list[int] = draft.setdefault(_TICKED, [])
    if button.action == "done":
        if not ticked:
            await context.answer(update, context.t("groups.none_chosen"), alert=True)
            return None
        await context.answer(update)
        return [names[index] for index in sorted(ticked)]
    if button.index in ticked:
        ticked.remove(button.index)
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
